//! The handle: result names and the version, opening and freeing a camera,
//! its last error and its id.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Mutex;

use ::sealcam_device::{Device, DeviceConfig, DeviceError, TransportPolicy};

use super::{c_str, copy_out, guard, lock, sealcam_device, with_device, Inner};
use crate::sealcam_result;
use crate::sealcam_result::*;

/// The name of a result code (`"SEALCAM_OK"`…), a static string;
/// `"SEALCAM_UNKNOWN"` for a value that is not a code.
#[no_mangle]
pub extern "C" fn sealcam_result_name(result: c_int) -> *const c_char {
    sealcam_result::from_raw(result)
        .map(sealcam_result::name)
        .unwrap_or(c"SEALCAM_UNKNOWN")
        .as_ptr()
}

/// The library version, a static string.
#[no_mangle]
pub extern "C" fn sealcam_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Opens the camera state in `state_dir` (created 0700 if missing) and
/// stores a new handle in `*out`. Free it with `sealcam_device_free`.
///
/// The server is reached over HTTPS with the bundled Mozilla roots; plain
/// `http://` only to loopback (see `sealcam_device_open_tls`).
///
/// # Safety
///
/// `state_dir` is a NUL-terminated path; `out` points to writable storage
/// for one pointer.
#[no_mangle]
pub unsafe extern "C" fn sealcam_device_open(
    state_dir: *const c_char,
    out: *mut *mut sealcam_device,
) -> sealcam_result {
    // SAFETY: the same contract, without a CA file.
    unsafe { sealcam_device_open_tls(state_dir, std::ptr::null(), 0, out) }
}

/// Like `sealcam_device_open`, with the transport policy: `ca_file` (NULL
/// for the bundled roots) is a PEM file of the CAs to trust instead, e.g.
/// the camera maker's or a self-hoster's own; `allow_insecure_http` (non-zero) permits
/// plain `http://` to a non-loopback server (a trusted LAN only: the
/// camera's credential then crosses it unencrypted). A policy the server URL
/// breaks answers `SEALCAM_INSECURE`.
///
/// # Safety
///
/// `state_dir` is a NUL-terminated path, `ca_file` NULL or one; `out`
/// points to writable storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn sealcam_device_open_tls(
    state_dir: *const c_char,
    ca_file: *const c_char,
    allow_insecure_http: c_int,
    out: *mut *mut sealcam_device,
) -> sealcam_result {
    guard(|| {
        if out.is_null() {
            return SEALCAM_NULL_ARGUMENT;
        }
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { *out = std::ptr::null_mut() };
        // SAFETY: per the contract.
        let dir = match unsafe { c_str(state_dir) } {
            Ok(d) => d,
            Err(r) => return r,
        };
        let ca_pem = if ca_file.is_null() {
            None
        } else {
            // SAFETY: non-NULL, NUL-terminated per the contract.
            let path = match unsafe { c_str(ca_file) } {
                Ok(p) => p,
                Err(r) => return r,
            };
            match std::fs::read(path) {
                Ok(pem) => Some(pem),
                Err(_) => return SEALCAM_IO,
            }
        };
        let config = DeviceConfig {
            transport: TransportPolicy {
                ca_pem,
                allow_insecure_http: allow_insecure_http != 0,
            },
            ..DeviceConfig::default()
        };
        match Device::open(Path::new(dir), config) {
            Ok(device) => {
                let handle = Box::new(sealcam_device {
                    inner: Mutex::new(Inner {
                        device,
                        last_error: String::new(),
                    }),
                });
                // SAFETY: as above.
                unsafe { *out = Box::into_raw(handle) };
                SEALCAM_OK
            }
            Err(e) => sealcam_result::from_error(&e),
        }
    })
}

/// Frees a handle (NULL is ignored).
///
/// # Safety
///
/// `dev` is NULL or a handle from `sealcam_device_open`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn sealcam_device_free(dev: *mut sealcam_device) {
    let _ = catch_unwind(|| {
        if !dev.is_null() {
            // SAFETY: made by `Box::into_raw` in `sealcam_device_open` and
            // freed once, per the contract.
            drop(unsafe { Box::from_raw(dev) });
        }
    });
}

/// Copies the message of the last failed call on `dev` into `buf`
/// (NUL-terminated, truncated to `len`); returns the message's full length.
///
/// # Safety
///
/// `dev` is a live handle; `buf` is NULL or writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn sealcam_device_last_error(
    dev: *const sealcam_device,
    buf: *mut c_char,
    len: usize,
) -> usize {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract.
        let Some(dev) = (unsafe { dev.as_ref() }) else {
            return 0;
        };
        let message = lock(dev).last_error.clone();
        // SAFETY: per the contract.
        unsafe { copy_out(&message, buf, len) };
        message.len()
    }))
    .unwrap_or(0)
}

/// Writes the camera id (NUL-terminated) into `buf` of `len` ≥ 37 bytes.
///
/// # Safety
///
/// `dev` is a live handle; `buf` is writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn sealcam_device_camera_id(
    dev: *const sealcam_device,
    buf: *mut c_char,
    len: usize,
) -> sealcam_result {
    with_device(dev, |d| {
        let Some(id) = d.camera_id() else {
            return Err(DeviceError::NotPaired);
        };
        if buf.is_null() {
            return Ok(SEALCAM_NULL_ARGUMENT);
        }
        // SAFETY: per the contract.
        Ok(if unsafe { copy_out(&id.to_string(), buf, len) } {
            SEALCAM_OK
        } else {
            SEALCAM_BUFFER_TOO_SMALL
        })
    })
}
