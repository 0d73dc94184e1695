//! The exported functions. The only module of sealcam where `unsafe` is
//! allowed: it dereferences the pointers C hands in, and nothing else.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr};
use std::io::{self, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ::sealcam_device::{
    Delivery, Device, DeviceConfig, DeviceError, EventId, EventRecord, NewEvent, Notice, PartKind,
    PartOutcome, SyncOutcome,
};

use crate::sealcam_result;
use crate::sealcam_result::*;

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

/// Pulls clip bytes: fill up to `len` bytes of `buf` and return how many
/// (0 at the end of the clip, a negative number on error).
pub type sealcam_read_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, len: usize) -> isize>;

/// Receives a notice (see `sealcam_notice`). Called on the thread that
/// called into the device, before that call returns.
pub type sealcam_notice_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, notice: *const sealcam_notice)>;

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

/// The kind of a `sealcam_notice`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sealcam_notice_kind {
    /// A part reached the server.
    SEALCAM_NOTICE_UPLOADED = 1,
    /// A part was sealed into the spool.
    SEALCAM_NOTICE_SPOOLED = 2,
    /// A part will never reach the server (`message` says why).
    SEALCAM_NOTICE_LOST = 3,
    /// The server is unavailable; `retry_after_ms` until the next try.
    SEALCAM_NOTICE_RETRYING = 4,
    /// The server refuses this camera.
    SEALCAM_NOTICE_BLOCKED = 5,
    /// A newer recipient set was accepted (`epoch`).
    SEALCAM_NOTICE_SET_UPDATED = 6,
    /// A recipient set was refused (`message` says why; `epoch` is the one kept).
    SEALCAM_NOTICE_SET_REFUSED = 7,
    /// The owner key the camera follows moved (a rotation or a reset from the
    /// owner's key log; `message` says from and to).
    SEALCAM_NOTICE_OWNER_KEY_CHANGED = 8,
    /// A statement of the owner's key log, or the whole log, was refused
    /// (`message` says which and why): a sign of an attack.
    SEALCAM_NOTICE_KEY_REFUSED = 9,
    /// The recipient set in use (`epoch`) expired, or the owner key that
    /// signed it was replaced since: recordings are sealed to the owner's
    /// recovery key alone until a set of the current owner key arrives.
    SEALCAM_NOTICE_SET_EXPIRED = 10,
}

/// Something the camera reports as it works. Valid only during the callback.
#[repr(C)]
pub struct sealcam_notice {
    /// What happened.
    pub kind: sealcam_notice_kind,
    /// The event concerned (empty string if none), NUL-terminated.
    pub event_id: [c_char; SEALCAM_ID_LEN],
    /// `thumbnail`, `clip`, `record`, or an empty string.
    pub part: *const c_char,
    /// Sealed bytes concerned.
    pub bytes: u64,
    /// The recipient-set epoch concerned.
    pub epoch: u64,
    /// Milliseconds until the next attempt (`SEALCAM_NOTICE_RETRYING`).
    pub retry_after_ms: u64,
    /// A human-readable detail, NUL-terminated (never NULL).
    pub message: *const c_char,
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
/// # Safety
///
/// `state_dir` is a NUL-terminated path; `out` points to writable storage
/// for one pointer.
#[no_mangle]
pub unsafe extern "C" fn sealcam_device_open(
    state_dir: *const c_char,
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
        match Device::open(Path::new(dir), DeviceConfig::default()) {
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

struct NoticeSink {
    cb: unsafe extern "C" fn(*mut c_void, *const sealcam_notice),
    userdata: *mut c_void,
}

// SAFETY: the callback and its userdata belong to the C caller, which
// registered them for this handle; the SDK invokes them only on a thread that
// is inside a call on this handle (calls are serialised by the handle's
// mutex), which is the documented contract of `sealcam_notice_cb`.
unsafe impl Send for NoticeSink {}

impl NoticeSink {
    fn deliver(&self, n: &Notice) {
        use sealcam_notice_kind::*;
        let none = EventId::from_bytes([0; 16]);
        let (kind, event, part, bytes, epoch, retry, message) = match n {
            Notice::Uploaded {
                event,
                kind,
                bytes,
                created,
            } => (
                SEALCAM_NOTICE_UPLOADED,
                *event,
                Some(*kind),
                *bytes,
                0,
                0,
                if *created { "stored" } else { "already stored" }.to_owned(),
            ),
            Notice::Spooled { event, kind, bytes } => (
                SEALCAM_NOTICE_SPOOLED,
                *event,
                Some(*kind),
                *bytes,
                0,
                0,
                String::new(),
            ),
            Notice::Lost(l) => (
                SEALCAM_NOTICE_LOST,
                l.event,
                Some(l.kind),
                l.bytes,
                0,
                0,
                format!("{:?}", l.reason),
            ),
            Notice::Retrying { after, why } => (
                SEALCAM_NOTICE_RETRYING,
                none,
                None,
                0,
                0,
                after.as_millis() as u64,
                why.clone(),
            ),
            Notice::Blocked { status, message } => (
                SEALCAM_NOTICE_BLOCKED,
                none,
                None,
                0,
                0,
                0,
                format!("{status}: {message}"),
            ),
            Notice::RecipientSetUpdated { to, .. } => (
                SEALCAM_NOTICE_SET_UPDATED,
                none,
                None,
                0,
                *to,
                0,
                String::new(),
            ),
            Notice::RecipientSetRefused { reason, kept } => (
                SEALCAM_NOTICE_SET_REFUSED,
                none,
                None,
                0,
                kept.unwrap_or(0),
                0,
                reason.to_string(),
            ),
            Notice::OwnerKeyChanged { from, to } => (
                SEALCAM_NOTICE_OWNER_KEY_CHANGED,
                none,
                None,
                0,
                0,
                0,
                format!(
                    "reset {}, generation {} -> reset {}, generation {}",
                    from.0, from.1, to.0, to.1
                ),
            ),
            Notice::KeyStatementRefused { index, reason } => (
                SEALCAM_NOTICE_KEY_REFUSED,
                none,
                None,
                0,
                0,
                0,
                format!("key log statement {index}: {reason}"),
            ),
            Notice::KeyLogRefused { reason } => (
                SEALCAM_NOTICE_KEY_REFUSED,
                none,
                None,
                0,
                0,
                0,
                format!("key log: {reason}"),
            ),
            Notice::RecipientSetExpired { epoch, expires_at } => (
                SEALCAM_NOTICE_SET_EXPIRED,
                none,
                None,
                0,
                *epoch,
                0,
                format!(
                    "expired at {expires_at} (unix seconds); sealing to the recovery key alone"
                ),
            ),
            // The same effect as an expiry: the recovery key alone.
            Notice::RecipientSetRetired {
                epoch,
                signed_under,
                current,
            } => (
                SEALCAM_NOTICE_SET_EXPIRED,
                none,
                None,
                0,
                *epoch,
                0,
                format!(
                    "signed under owner key {signed_under:?}, which {current:?} replaced; sealing to the recovery key alone until the new key's set arrives"
                ),
            ),
            _ => return,
        };
        let part: &CStr = match part {
            Some(PartKind::Thumbnail) => c"thumbnail",
            Some(PartKind::Clip) => c"clip",
            Some(PartKind::Record) => c"record",
            None => c"",
        };
        let message = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
        let notice = sealcam_notice {
            kind,
            event_id: if event == none {
                [0; SEALCAM_ID_LEN]
            } else {
                id_text(&event)
            },
            part: part.as_ptr(),
            bytes,
            epoch,
            retry_after_ms: retry,
            message: message.as_ptr(),
        };
        // SAFETY: the callback was registered by the caller for this handle;
        // `notice` and the strings it points to live until it returns.
        unsafe { (self.cb)(self.userdata, &notice) };
    }
}

/// Registers a callback for notices (uploads, spooling, losses, refused
/// sets); NULL unregisters it.
///
/// # Safety
///
/// `dev` is a live handle; `callback` and `userdata` stay valid until they
/// are replaced or the handle is freed.
#[no_mangle]
pub unsafe extern "C" fn sealcam_device_set_notice_callback(
    dev: *const sealcam_device,
    callback: sealcam_notice_cb,
    userdata: *mut c_void,
) -> sealcam_result {
    with_device(dev, |d| {
        match callback {
            Some(cb) => {
                let sink = NoticeSink { cb, userdata };
                d.set_observer(move |n| sink.deliver(n));
            }
            None => d.set_observer(|_| {}),
        }
        Ok(SEALCAM_OK)
    })
}
