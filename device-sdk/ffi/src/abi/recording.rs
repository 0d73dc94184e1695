//! Recording an event (the clip pulled through a callback) and draining the
//! spool.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_void};
use std::io::{self, Read};
use std::time::Duration;

use ::sealcam_device::{Delivery, EventRecord, NewEvent, PartOutcome};

use super::{c_str, id_text, sealcam_device, set_error, with_device, SEALCAM_ID_LEN};
use crate::sealcam_result;
use crate::sealcam_result::*;

/// Pulls clip bytes: fill up to `len` bytes of `buf` and return how many
/// (0 at the end of the clip, a negative number on error).
pub type sealcam_read_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, len: usize) -> isize>;

/// One event to record. Zero-initialise it, then set what the event has.
#[repr(C)]
pub struct sealcam_event {
    /// Capture time in Unix milliseconds; 0 means now.
    pub captured_at_ms: i64,
    /// The thumbnail (a JPEG), or NULL.
    pub thumbnail: *const u8,
    /// Its length.
    pub thumbnail_len: usize,
    /// Pulls the clip's bytes (any length), or NULL for no clip.
    pub clip_read: sealcam_read_cb,
    /// Passed to `clip_read`.
    pub clip_userdata: *mut c_void,
    /// The event record as a NUL-terminated JSON object (`{"type":"motion",...}`), or NULL.
    pub record_json: *const c_char,
    /// Non-zero: seal into the spool only (a later drain uploads it).
    pub spool_only: u8,
}

/// What `sealcam_device_record` did.
#[repr(C)]
pub struct sealcam_record_report {
    /// The event id, NUL-terminated.
    pub event_id: [c_char; SEALCAM_ID_LEN],
    /// The recipient-set epoch the parts were sealed to.
    pub epoch: u64,
    /// Parts uploaded while they were sealed.
    pub uploaded: u32,
    /// Parts sealed into the spool (a drain uploads them).
    pub spooled: u32,
    /// Parts lost (refused by the server, or too large for the spool).
    pub lost: u32,
}

/// What `sealcam_device_drain` did.
#[repr(C)]
pub struct sealcam_drain_report {
    /// Parts delivered.
    pub delivered: u64,
    /// Of those, parts the server had already (a re-upload after a crash).
    pub already_stored: u64,
    /// Transient failures that were retried.
    pub retried: u64,
    /// Parts refused for good and dropped.
    pub rejected: u64,
    /// Parts still spooled.
    pub remaining: u64,
}

struct CallbackReader {
    read: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> isize,
    userdata: *mut c_void,
}

impl Read for CallbackReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: the callback was supplied by the caller for this purpose;
        // `buf` is valid for `buf.len()` writable bytes for the call.
        let n = unsafe { (self.read)(self.userdata, buf.as_mut_ptr(), buf.len()) };
        if n < 0 {
            return Err(io::Error::other("the clip callback reported an error"));
        }
        Ok((n as usize).min(buf.len()))
    }
}

/// Records one event: seals the thumbnail, the clip (pulled through
/// `clip_read` until it returns 0) and the event record to the current
/// recipient set, uploading each part as it is sealed; when the server is
/// unreachable or overloaded the sealed parts go to the spool.
/// `SEALCAM_RECIPIENT_SET_REFUSED` when the set in use is a v1 set whose
/// owner key was since replaced (it names no recovery key to fall back to):
/// nothing was sealed; record again once a sync brings the new key's set.
///
/// # Safety
///
/// `dev` is a live handle; `event` points to a valid `sealcam_event` whose
/// pointers are valid for the call; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sealcam_device_record(
    dev: *const sealcam_device,
    event: *const sealcam_event,
    out: *mut sealcam_record_report,
) -> sealcam_result {
    // SAFETY: per the contract.
    let Some(ev) = (unsafe { event.as_ref() }) else {
        return SEALCAM_NULL_ARGUMENT;
    };
    let thumbnail: Option<&[u8]> = if ev.thumbnail.is_null() {
        None
    } else {
        // SAFETY: non-NULL and valid for `thumbnail_len` bytes per the contract.
        Some(unsafe { std::slice::from_raw_parts(ev.thumbnail, ev.thumbnail_len) })
    };
    let record = if ev.record_json.is_null() {
        None
    } else {
        // SAFETY: per the contract.
        match unsafe { c_str(ev.record_json) }.map(|s| EventRecord::from_json(s.as_bytes())) {
            Ok(Ok(r)) => Some(r),
            Ok(Err(e)) => {
                set_error(dev, e.to_string());
                return SEALCAM_INVALID_ARGUMENT;
            }
            Err(r) => return r,
        }
    };
    let mut clip = ev.clip_read.map(|read| CallbackReader {
        read,
        userdata: ev.clip_userdata,
    });
    with_device(dev, |d| {
        let mut new = NewEvent::now();
        if ev.captured_at_ms != 0 {
            new.captured_at_ms = ev.captured_at_ms;
        }
        if let Some(t) = thumbnail {
            new = new.thumbnail(t);
        }
        if let Some(c) = clip.as_mut() {
            new = new.clip(c);
        }
        if let Some(r) = &record {
            new = new.record(r);
        }
        if ev.spool_only != 0 {
            new = new.delivery(Delivery::SpoolOnly);
        }
        let report = d.record(new)?;
        if !out.is_null() {
            let count = |f: fn(&PartOutcome) -> bool| {
                report.parts.iter().filter(|p| f(&p.outcome)).count() as u32
            };
            // SAFETY: non-NULL and writable per the contract.
            unsafe {
                *out = sealcam_record_report {
                    event_id: id_text(&report.event),
                    epoch: report.epoch,
                    uploaded: count(|o| matches!(o, PartOutcome::Uploaded { .. })),
                    spooled: count(|o| matches!(o, PartOutcome::Spooled)),
                    lost: count(|o| matches!(o, PartOutcome::Lost(_))),
                }
            };
        }
        Ok(SEALCAM_OK)
    })
}

/// Uploads the spool oldest first with backoff, for at most `max_wait_ms`.
/// `SEALCAM_OK` when the spool is empty, `SEALCAM_SPOOL_NOT_EMPTY` when parts
/// remain (try again later), `SEALCAM_UNAUTHORIZED` when the server refuses
/// this camera.
///
/// # Safety
///
/// `dev` is a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sealcam_device_drain(
    dev: *const sealcam_device,
    max_wait_ms: u32,
    out: *mut sealcam_drain_report,
) -> sealcam_result {
    with_device(dev, |d| {
        let r = d.drain(Duration::from_millis(u64::from(max_wait_ms)))?;
        if !out.is_null() {
            // SAFETY: non-NULL and writable per the contract.
            unsafe {
                *out = sealcam_drain_report {
                    delivered: r.delivered,
                    already_stored: r.already_stored,
                    retried: r.retried,
                    rejected: r.rejected,
                    remaining: r.remaining,
                }
            };
        }
        Ok(if r.blocked {
            SEALCAM_UNAUTHORIZED
        } else if r.remaining > 0 {
            SEALCAM_SPOOL_NOT_EMPTY
        } else {
            SEALCAM_OK
        })
    })
}
