//! Small parts — thumbnails and event records — in one request: header and
//! payload together (`GET /v1/events/{id}/parts/{kind}`), opened in memory
//! with every check done (S2, S3) before a byte is returned.

use futures_util::{stream, Stream, StreamExt};
use sealcam_format::age_header::{AgeHeader, MAX_HEADER_LEN};
use sealcam_format::{Binding, ObjectMeta, Opening};
use sealcam_keys::{CameraId, EventId, SlotHintKey, ViewerIdentity};
use sealcam_wire::PartKind;
use zeroize::Zeroizing;

use super::open::format_kind;
use super::Pinned;
use crate::client::Client;
use crate::error::{ClientError, Result};

/// The largest part [`Client::open_small`] reads into memory: a thumbnail
/// or an event record is far smaller; a clip is read with
/// [`Client::open_part`], chunk by chunk.
pub const MAX_SMALL_PAYLOAD: u64 = 16 * 1024 * 1024;

/// A small part, verified and decrypted in memory.
pub struct OpenedPart {
    /// The verified inner header: what it is, when it was captured, its
    /// content type.
    pub meta: ObjectMeta,
    /// The verified body (zeroized when dropped).
    pub body: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for OpenedPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedPart")
            .field("meta", &self.meta)
            .field("body", &format_args!("{} bytes", self.body.len()))
            .finish()
    }
}

/// A small part to open, as the event listing describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmallPart {
    /// The event.
    pub event: EventId,
    /// The camera the listing names (it only chooses the pinned key to check
    /// against: the object must bind to it and be signed by it).
    pub camera: CameraId,
    /// Which part.
    pub kind: PartKind,
    /// Its payload length, as listed (a longer answer is refused).
    pub payload_len: u64,
}

/// A small part downloaded, not yet checked.
struct Downloaded {
    part: SmallPart,
    whole: Vec<u8>,
    pinned: Pinned,
    hint: Option<SlotHintKey>,
}

impl Downloaded {
    /// Every check (S2, S3), then the body: CPU only (one X25519 with the
    /// slot hint, one Ed25519 verification, the decryption).
    fn open(self, viewer: &ViewerIdentity) -> Result<OpenedPart> {
        let header_len = AgeHeader::parse(&self.whole)
            .map_err(ClientError::from_open)?
            .len();
        let (header, payload) = self.whole.split_at(header_len);
        let expected = Binding {
            owner: self.pinned.owner,
            camera: self.pinned.camera,
            event: self.part.event,
            kind: format_kind(self.part.kind),
            sequence: 0,
        };
        let opened = Opening::with_hint(header, &[viewer], self.hint.as_ref())
            .and_then(|o| o.into_vec(payload, &expected, &self.pinned.device_key))
            .map_err(ClientError::from_open)?;
        Ok(OpenedPart {
            meta: opened.meta,
            body: Zeroizing::new(opened.body),
        })
    }
}

impl Client {
    /// Opens part `kind` of `event`, recorded by `camera` (as the listing
    /// says) with a payload of `payload_len` bytes (as the listing says), in
    /// one request.
    ///
    /// What the server says only chooses what to ask for: the object must be
    /// sealed to this device and bind to exactly `{owner, camera, event,
    /// kind}` (else [`ClientError::Misdelivered`]), and be signed by the
    /// camera's pinned key (else [`ClientError::Verification`]). An answer
    /// longer than the listed size allows is refused as it arrives.
    pub async fn open_small(
        &self,
        event: EventId,
        camera: CameraId,
        kind: PartKind,
        payload_len: u64,
    ) -> Result<OpenedPart> {
        let part = SmallPart {
            event,
            camera,
            kind,
            payload_len,
        };
        self.download_small(part).await?.open(&self.device().viewer)
    }

    /// Opens `parts` (a timeline page's thumbnails, say) one request at a
    /// time, in order, each checked as [`open_small`](Self::open_small)
    /// checks it: while one is verified and decrypted, the next one is
    /// already asked for, so the server's work and this device's overlap.
    /// One request is in flight at a time, as with plain sequential GETs.
    pub fn open_small_many<'a, I>(&'a self, parts: I) -> impl Stream<Item = Result<OpenedPart>> + 'a
    where
        I: IntoIterator<Item = SmallPart>,
        I::IntoIter: 'a,
    {
        // `buffered` asks its source for the next download before it polls
        // the queued opens, so download i + 1 is sent before open i runs.
        stream::iter(parts)
            .then(move |part| self.download_small(part))
            .map(move |downloaded| async move { downloaded?.open(&self.device().viewer) })
            .buffered(2)
    }

    async fn download_small(&self, part: SmallPart) -> Result<Downloaded> {
        let SmallPart {
            event,
            camera,
            kind,
            payload_len,
        } = part;
        if payload_len > MAX_SMALL_PAYLOAD {
            return Err(ClientError::BadInput(format!(
                "the {kind} of event {event} is {payload_len} bytes; parts over {MAX_SMALL_PAYLOAD} are read in chunks (`fetch`)"
            )));
        }
        let pinned = self.pinned_for_event(camera).await?;
        let hint = self.slot_hint(camera).await;
        let whole = self
            .api()
            .part_whole(*event.as_uuid(), kind, MAX_HEADER_LEN as u64 + payload_len)
            .await?;
        Ok(Downloaded {
            part,
            whole,
            pinned,
            hint,
        })
    }
}
