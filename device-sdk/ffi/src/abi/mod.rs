//! The exported functions. The only module of sealcam where `unsafe` is
//! allowed: it dereferences the pointers C hands in, and nothing else.
#![allow(unsafe_code)]

// cbindgen writes the functions in the order it reads them: this module's
// items, then each submodule's, in the order they are declared here. That
// order is the committed header's, so the declarations are kept apart (one
// group each) for rustfmt not to sort them.
mod handle;

mod owner;

mod recording;

mod notices;

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard};

use ::sealcam_device::{Device, DeviceError};

use crate::sealcam_result;
use crate::sealcam_result::*;

pub use handle::{
    sealcam_device_camera_id, sealcam_device_free, sealcam_device_last_error, sealcam_device_open,
    sealcam_result_name, sealcam_version,
};
pub use notices::{
    sealcam_device_set_notice_callback, sealcam_notice, sealcam_notice_cb, sealcam_notice_kind,
};
pub use owner::{sealcam_device_pair, sealcam_device_sync};
pub use recording::{
    sealcam_device_drain, sealcam_device_record, sealcam_drain_report, sealcam_event,
    sealcam_read_cb, sealcam_record_report,
};

/// Length of an id in text form with its terminating NUL
/// (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`).
pub const SEALCAM_ID_LEN: usize = 37;

/// A camera: its state directory, pairing, recipient set and spool.
/// Opaque; made by `sealcam_device_open`, freed by `sealcam_device_free`.
pub struct sealcam_device {
    inner: Mutex<Inner>,
}

struct Inner {
    device: Device,
    last_error: String,
}

fn guard(f: impl FnOnce() -> sealcam_result) -> sealcam_result {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(SEALCAM_PANIC)
}

fn lock(dev: &sealcam_device) -> MutexGuard<'_, Inner> {
    // A poisoned lock only means a panic was caught earlier; the state on
    // disk is consistent (every write is atomic), so keep going.
    dev.inner.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` on the device behind `dev`, recording the error message.
fn with_device(
    dev: *const sealcam_device,
    f: impl FnOnce(&mut Device) -> Result<sealcam_result, DeviceError>,
) -> sealcam_result {
    guard(|| {
        // SAFETY: the caller passes NULL or a pointer from
        // `sealcam_device_open` that it has not freed (the documented contract).
        let Some(dev) = (unsafe { dev.as_ref() }) else {
            return SEALCAM_NULL_ARGUMENT;
        };
        let mut inner = lock(dev);
        match f(&mut inner.device) {
            Ok(r) => {
                if r == SEALCAM_OK {
                    inner.last_error.clear();
                }
                r
            }
            Err(e) => {
                inner.last_error = e.to_string();
                sealcam_result::from_error(&e)
            }
        }
    })
}

fn set_error(dev: *const sealcam_device, message: String) {
    // SAFETY: as in `with_device`.
    if let Some(dev) = unsafe { dev.as_ref() } {
        lock(dev).last_error = message;
    }
}

/// Reads a C string argument.
///
/// SAFETY: `s` is NULL or points to a NUL-terminated string valid for the call.
unsafe fn c_str<'a>(s: *const c_char) -> Result<&'a str, sealcam_result> {
    if s.is_null() {
        return Err(SEALCAM_NULL_ARGUMENT);
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| SEALCAM_INVALID_ARGUMENT)
}

fn id_text(id: &impl std::fmt::Display) -> [c_char; SEALCAM_ID_LEN] {
    let mut out = [0 as c_char; SEALCAM_ID_LEN];
    for (o, b) in out
        .iter_mut()
        .zip(id.to_string().bytes().take(SEALCAM_ID_LEN - 1))
    {
        *o = b as c_char;
    }
    out
}

/// Copies `s` into `buf` NUL-terminated, truncated to fit. Returns whether it fit.
///
/// SAFETY: `buf` is NULL or writable for `len` bytes.
unsafe fn copy_out(s: &str, buf: *mut c_char, len: usize) -> bool {
    if buf.is_null() || len == 0 {
        return false;
    }
    let n = s.len().min(len - 1);
    // SAFETY: `buf` is writable for `len` > n bytes; the regions cannot overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), buf, n);
        *buf.add(n) = 0;
    }
    n == s.len()
}
