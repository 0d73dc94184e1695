//! Small parts — thumbnails and event records — in one request: header and
//! payload together (`GET /v1/events/{id}/parts/{kind}`), opened in memory
//! with every check done (S2, S3) before a byte is returned.

use sealcam_format::age_header::{AgeHeader, MAX_HEADER_LEN};
use sealcam_format::{Binding, ObjectMeta, Opening};
use sealcam_keys::{CameraId, EventId};
use sealcam_wire::PartKind;
use zeroize::Zeroizing;

use super::open::format_kind;
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
        if payload_len > MAX_SMALL_PAYLOAD {
            return Err(ClientError::BadInput(format!(
                "the {kind} of event {event} is {payload_len} bytes; parts over {MAX_SMALL_PAYLOAD} are read in chunks (`fetch`)"
            )));
        }
        let pinned = self.pinned(camera).await?;
        let hint = self.slot_hint(camera).await;
        let whole = self
            .api()
            .part_whole(*event.as_uuid(), kind, MAX_HEADER_LEN as u64 + payload_len)
            .await?;
        let header_len = AgeHeader::parse(&whole)
            .map_err(ClientError::from_open)?
            .len();
        let (header, payload) = whole.split_at(header_len);
        let expected = Binding {
            owner: pinned.owner,
            camera: pinned.camera,
            event,
            kind: format_kind(kind),
            sequence: 0,
        };
        let opened = Opening::with_hint(header, &[&self.device().viewer], hint.as_ref())
            .and_then(|o| o.into_vec(payload, &expected, &pinned.device_key))
            .map_err(ClientError::from_open)?;
        Ok(OpenedPart {
            meta: opened.meta,
            body: Zeroizing::new(opened.body),
        })
    }
}
