//! Notices: what the camera reports as it works, delivered to a C callback.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_void, CStr};

use ::sealcam_device::{EventId, Notice, PartKind};

use super::{id_text, sealcam_device, with_device, SEALCAM_ID_LEN};
use crate::sealcam_result;
use crate::sealcam_result::*;

/// Receives a notice (see `sealcam_notice`). Called on the thread that
/// called into the device, before that call returns.
pub type sealcam_notice_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, notice: *const sealcam_notice)>;

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
                    "signed under owner key {signed_under:?}, which {current:?} replaced; sealing to the recovery key alone until the new key's set arrives (a v1 set names none: recordings are refused)"
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
