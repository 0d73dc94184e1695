//! Opening objects over HTTP with every check done (S2, S3), with verified
//! seek: only the chunks that hold the bytes asked for are downloaded, and
//! each is checked against the camera's signed hash list before any of its
//! bytes is released.
//!
//! Writing to a file is two-phase so that **no plaintext is written anywhere
//! unless the whole range verified**: the ciphertext of the needed chunks is
//! downloaded into a spool file beside the output (each chunk verified as it
//! arrives, its plaintext discarded), then decrypted into a temporary file
//! that is renamed over the output only at the end.
mod hints;
mod open;
mod output;
pub(crate) use hints::HintCache;
pub(crate) use output::{random_tag, TempFile};
mod remote;
mod small;

use std::ops::Range;
use std::path::PathBuf;

use sealcam_format::open::Opened;
use sealcam_keys::{CameraId, DevicePublicKey, EventId, OwnerId};
use sealcam_wire::PartKind;
use serde::Serialize;
use uuid::Uuid;

use crate::api::Api;

pub use small::{OpenedPart, SmallPart, MAX_SMALL_PAYLOAD};

/// Progress of a transfer, reported to a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Ciphertext downloaded and verified so far.
    Downloading {
        /// Bytes so far.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
    /// Everything verified; plaintext is being written.
    Writing {
        /// Bytes so far.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
}

/// A progress callback.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// A callback that ignores progress.
pub fn no_progress(_: Progress) {}
/// The camera an object must come from: the owner and camera its inner
/// header must name, and the device key pinned for that camera.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pinned {
    /// The owner the binding must name.
    pub(crate) owner: OwnerId,
    /// The camera the binding must name.
    pub(crate) camera: CameraId,
    /// The key the camera's signature must verify under.
    pub(crate) device_key: DevicePublicKey,
}

/// A stored part: which one, and its payload length as the server lists it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoredPart {
    /// The event the binding must name.
    pub(crate) event: EventId,
    /// The part, which the binding must name too.
    pub(crate) kind: PartKind,
    /// The payload's length in bytes.
    pub(crate) payload_len: u64,
}
/// An object whose header, binding and signature verified; its body is
/// fetched on demand, chunk by chunk, each chunk verified.
pub struct RemoteObject {
    api: Api,
    event: Uuid,
    kind: PartKind,
    opened: Opened,
}

impl std::fmt::Debug for RemoteObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteObject")
            .field("event", &self.event)
            .field("kind", &self.kind)
            .field("opened", &self.opened)
            .finish()
    }
}

/// What was fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchOutcome {
    /// The event.
    pub event_id: EventId,
    /// The camera (verified: signed by its pinned key).
    pub camera_id: CameraId,
    /// The part.
    pub kind: PartKind,
    /// The verified content type.
    pub content_type: String,
    /// Capture time, unix milliseconds (verified).
    pub captured_at_ms: i64,
    /// The recipient-set epoch it was sealed to.
    pub epoch: u64,
    /// The body range written.
    pub range: Range<u64>,
    /// The whole body's length.
    pub body_len: u64,
    /// Where it was written (`None` for a writer).
    pub path: Option<PathBuf>,
}

/// The body `range` (whole when `None`) of a body of `len` bytes, its end
/// cut to the body.
fn clamp_range(range: Option<Range<u64>>, len: u64) -> crate::error::Result<Range<u64>> {
    let r = range.unwrap_or(0..len);
    if r.start > r.end || r.start > len {
        return Err(crate::error::ClientError::BadInput(format!(
            "the range {}..{} is outside the body ({len} bytes)",
            r.start, r.end
        )));
    }
    Ok(r.start..r.end.min(len))
}
