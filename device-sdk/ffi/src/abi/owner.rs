//! The camera and its owner: pairing (S5) and the recipient-set sync (S4).
#![allow(unsafe_code)]

use std::ffi::c_char;

use ::sealcam_device::SyncOutcome;

use super::{c_str, sealcam_device, set_error, with_device};
use crate::sealcam_result;
use crate::sealcam_result::*;

/// Pairs with the owner who showed `pairing_code` (`SEALCAM1…`): makes the
/// device key on first use and registers with the code's claim token and a
/// proof the owner checks (S5). The owner then confirms the camera; call
/// `sealcam_device_sync` until it returns `SEALCAM_OK`.
///
/// # Safety
///
/// `dev` is a live handle; `pairing_code` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sealcam_device_pair(
    dev: *const sealcam_device,
    pairing_code: *const c_char,
) -> sealcam_result {
    // SAFETY: per the contract.
    let code = match unsafe { c_str(pairing_code) } {
        Ok(c) => c.to_owned(),
        Err(r) => return r,
    };
    with_device(dev, |d| d.pair(&code).map(|_| SEALCAM_OK))
}

/// Fetches and checks the recipient set. `SEALCAM_OK` when a set is in use
/// (`*epoch_out` says which; `epoch_out` may be NULL); `SEALCAM_NOT_PUBLISHED`
/// before the owner published one; `SEALCAM_RECIPIENT_SET_REFUSED` when the
/// server offered a set that is not the owner's — the last good set stays in
/// use and `sealcam_device_last_error` says why.
///
/// # Safety
///
/// `dev` is a live handle; `epoch_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sealcam_device_sync(
    dev: *const sealcam_device,
    epoch_out: *mut u64,
) -> sealcam_result {
    let mut refused = None;
    let r = with_device(dev, |d| {
        let outcome = d.sync()?;
        if !epoch_out.is_null() {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { *epoch_out = d.epoch().unwrap_or(0) };
        }
        Ok(match outcome {
            SyncOutcome::Updated { .. } | SyncOutcome::Unchanged { .. } => SEALCAM_OK,
            SyncOutcome::NotPublished => SEALCAM_NOT_PUBLISHED,
            SyncOutcome::Refused { reason, .. } => {
                refused = Some(reason.to_string());
                SEALCAM_RECIPIENT_SET_REFUSED
            }
            _ => SEALCAM_INTERNAL,
        })
    });
    if let Some(message) = refused {
        set_error(dev, format!("recipient set refused: {message}"));
    }
    r
}
