//! Opening a part: its age header, the payload chunks that hold the inner
//! header and the trailer, and every check (S2, S3) before any body byte.

use std::ops::Range;

use sealcam_format::{Binding, Misdelivery, OpenError, Opening, PartKind as FormatKind};
use sealcam_keys::{CameraId, EventId, ViewerIdentity};
use sealcam_wire::{PartInfo, PartKind};
use uuid::Uuid;

use super::{Pinned, RemoteObject, StoredPart};
use crate::client::Client;
use crate::error::{ClientError, Result};

pub(super) fn format_kind(kind: PartKind) -> FormatKind {
    match kind {
        PartKind::Thumbnail => FormatKind::Thumbnail,
        PartKind::Clip => FormatKind::Clip,
        PartKind::Record => FormatKind::Record,
    }
}
/// The payload length of part `kind` in an event's part list.
pub(super) fn payload_len(parts: &[PartInfo], event: EventId, kind: PartKind) -> Result<u64> {
    parts
        .iter()
        .find(|p| p.kind == kind)
        .map(|p| p.payload_size)
        .ok_or_else(|| ClientError::NotFound {
            what: format!("{kind} of event {event} (the event has no such part)"),
        })
}
impl Client {
    /// The owner and pinned device key of a camera this account may open,
    /// from the owner record kept in memory (read again once when the camera
    /// is not in it: it may have been paired since).
    pub(crate) async fn pinned(&self, camera: CameraId) -> Result<Pinned> {
        for refresh in [false, true] {
            let record = self.verified_record(refresh).await?;
            let found = match record.camera(camera) {
                Some(c) => Some((record.owner, c.device_key)),
                None => record
                    .shared_with_me
                    .iter()
                    .find(|s| s.camera_id == camera)
                    .map(|s| (s.owner, s.device_key)),
            };
            if let Some((owner, device_key)) = found {
                return Ok(Pinned {
                    owner,
                    camera,
                    device_key,
                });
            }
        }
        Err(ClientError::UnknownCamera(camera.to_string()))
    }

    /// [`pinned`](Self::pinned) for the camera the server names for an
    /// event this device asked for. A camera that is neither pinned here
    /// nor on the server's own list of this account's cameras is another
    /// household's: the event is misdelivered (S2), the mix-up sealcam is
    /// built for, and says so (exit 3) rather than "not paired". A camera
    /// the server lists but this device has not pinned (a share not yet
    /// accepted) stays [`ClientError::UnknownCamera`], with its hint.
    pub(crate) async fn pinned_for_event(&self, camera: CameraId) -> Result<Pinned> {
        match self.pinned(camera).await {
            Err(ClientError::UnknownCamera(name)) => {
                let listed = self
                    .api()
                    .cameras()
                    .await?
                    .cameras
                    .iter()
                    .any(|c| c.camera_id == *camera.as_uuid());
                Err(if listed {
                    ClientError::UnknownCamera(name)
                } else {
                    ClientError::Misdelivered(OpenError::Misdelivered(Box::new(
                        Misdelivery::CameraOfAnotherAccount,
                    )))
                })
            }
            other => other,
        }
    }

    /// Opens a part of an event: fetches its header and the payload chunks
    /// that hold the inner header and the trailer, and checks that it is
    /// addressed to this device (S2), is the object asked for (S2) and is
    /// signed by the camera's pinned device key (S3). No body byte is
    /// released here.
    pub async fn open_part(&self, event: EventId, kind: PartKind) -> Result<RemoteObject> {
        let ev_id = *event.as_uuid();
        let info = self.api().event(ev_id).await?;
        let payload_len = payload_len(&info.parts, event, kind)?;
        // The server's camera id only chooses which pinned key to use: the
        // object must be signed by it and bind to it.
        let camera = CameraId::from(info.camera_id);
        let pinned = self.pinned_for_event(camera).await?;
        let header = self.api().part_header(ev_id, kind).await?;
        let part = StoredPart {
            event,
            kind,
            payload_len,
        };
        self.open_with_header(&part, &header, &self.device().viewer, &pinned)
            .await
    }

    /// Opens a stored part whose age header the caller already holds: unwraps
    /// `header` with `identity` (S2: `Misdelivered(NotAddressedToViewer)`
    /// when it is not a recipient), fetches the payload chunks that hold the
    /// inner header and the trailer, and checks that the object binds to
    /// `{pinned.owner, pinned.camera, part.event, part.kind}` (S2) and is
    /// signed by `pinned.device_key` (S3), with `header` bound to that
    /// payload. Whatever the server says about the event plays no part
    /// beyond the payload length. No body byte is released here.
    ///
    /// A caller that goes on to use `header` (re-wrapping it) thus knows it
    /// is the header of exactly this object.
    pub(crate) async fn open_with_header(
        &self,
        part: &StoredPart,
        header: &[u8],
        identity: &ViewerIdentity,
        pinned: &Pinned,
    ) -> Result<RemoteObject> {
        let ev_id = *part.event.as_uuid();
        let expected = Binding {
            owner: pinned.owner,
            camera: pinned.camera,
            event: part.event,
            kind: format_kind(part.kind),
            sequence: 0,
        };
        // The hint is this device's; another identity (a recovery key) tries every slot.
        let hint = if identity.public_bytes() == self.device().viewer.public_bytes() {
            self.slot_hint(pinned.camera).await
        } else {
            None
        };
        let opening = Opening::with_hint(header, &[identity], hint.as_ref())
            .map_err(ClientError::from_open)?;
        let len = part.payload_len;
        let needed = opening.needed(len).map_err(ClientError::from_open)?;
        let first = self
            .fetch_exact(ev_id, part.kind, needed.first.clone())
            .await?;
        let trailer = self
            .fetch_exact(ev_id, part.kind, needed.trailer.clone())
            .await?;
        let opened = opening
            .verify(len, &first, &trailer, &expected, &pinned.device_key)
            .map_err(ClientError::from_open)?;
        Ok(RemoteObject {
            api: self.api().clone(),
            event: ev_id,
            kind: part.kind,
            opened,
        })
    }

    async fn fetch_exact(&self, event: Uuid, kind: PartKind, range: Range<u64>) -> Result<Vec<u8>> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let want = range.end - range.start;
        let got = self.api().payload_range_vec(event, kind, range).await?;
        if got.len() as u64 != want {
            return Err(ClientError::Verification(OpenError::Truncated(
                "the server sent fewer payload bytes than the payload length",
            )));
        }
        Ok(got)
    }
}
