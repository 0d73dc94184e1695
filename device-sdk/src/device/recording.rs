//! Recording one event: what to record, the reports, and sealing each part
//! to the current set (or the recovery key alone once it expired or its
//! owner key was replaced).

use std::io::Read;

use sealcam_keys::{unix_now, EventId, RecipientSetError};
use sealcam_wire::PartKind;

use super::part::PartSpec;
use super::{Device, Notice};
use crate::spool::LossReason;
use crate::{DeviceError, EventRecord};

/// What happened to one part of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartOutcome {
    /// Uploaded while it was sealed.
    Uploaded {
        /// `false` when the server had it already.
        created: bool,
    },
    /// Sealed into the spool; it will be uploaded by a drain.
    Spooled,
    /// It will never reach the server.
    Lost(LossReason),
}

/// One part of a recorded event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartReport {
    /// Which part.
    pub kind: PartKind,
    /// Media bytes sealed.
    pub body_bytes: u64,
    /// Sealed bytes (header ‖ payload).
    pub sealed_bytes: u64,
    /// What happened to it.
    pub outcome: PartOutcome,
}

/// The result of recording one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordReport {
    /// The event id (random, UUIDv4, made by the camera).
    pub event: EventId,
    /// The recipient-set epoch the parts were sealed to.
    pub epoch: u64,
    /// One report per part, in upload order (thumbnail, clip, record).
    pub parts: Vec<PartReport>,
    /// The set had expired, or its owner key was replaced since it was
    /// accepted: the parts were sealed to the recovery key alone.
    pub recovery_only: bool,
}

/// Whether to try the network while recording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Delivery {
    /// Upload each part as it is sealed; spool it when the server is
    /// unreachable, overloaded, or parts are already waiting in the spool.
    #[default]
    UploadNow,
    /// Seal into the spool only (the firmware knows the link is down, or
    /// wants to upload later); a drain uploads it.
    SpoolOnly,
}

/// One event to record. Build with [`NewEvent::now`] and the setters.
pub struct NewEvent<'a> {
    /// Capture time, unix milliseconds.
    pub captured_at_ms: i64,
    /// The thumbnail (a JPEG, `image/jpeg` unless `thumbnail_type` says otherwise).
    pub thumbnail: Option<&'a [u8]>,
    /// The thumbnail's media type.
    pub thumbnail_type: &'a str,
    /// The clip, read to its end (its length need not be known).
    pub clip: Option<&'a mut dyn Read>,
    /// The clip's media type.
    pub clip_type: &'a str,
    /// The event record.
    pub record: Option<&'a EventRecord>,
    /// Upload now or spool.
    pub delivery: Delivery,
}

impl<'a> NewEvent<'a> {
    /// An event captured now, with no parts yet.
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Self {
            captured_at_ms: ms,
            thumbnail: None,
            thumbnail_type: "image/jpeg",
            clip: None,
            clip_type: "video/mp4",
            record: None,
            delivery: Delivery::UploadNow,
        }
    }

    /// Sets the thumbnail.
    pub fn thumbnail(mut self, jpeg: &'a [u8]) -> Self {
        self.thumbnail = Some(jpeg);
        self
    }

    /// Sets the clip source.
    pub fn clip(mut self, clip: &'a mut dyn Read) -> Self {
        self.clip = Some(clip);
        self
    }

    /// Sets the event record.
    pub fn record(mut self, record: &'a EventRecord) -> Self {
        self.record = Some(record);
        self
    }

    /// Sets the delivery.
    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }
}

impl Device {
    /// Refuses to seal to a set of the first format once the camera has
    /// followed a rotation of its owner key.
    ///
    /// A v1 set is signed only under the key a camera paired before v2
    /// pinned, `(0, 0)`, and names no recovery key to fall back to. Once
    /// the camera has followed a rotation, that key is retired, perhaps by a
    /// revocation: sealing on to the set would keep giving the revoked
    /// device every recording for as long as a server served no v2 set (a
    /// v1 set never expires). The owner's upgrade publishes v2 sets right
    /// after its rotation, so the camera first syncs once (when it may go
    /// online: `online`, the server not known to be away, the camera not
    /// refused) and records if a v2 set came.
    fn refuse_retired_v1_set(&mut self, online: bool) -> Result<(), DeviceError> {
        let retired = |d: &Self| match (&d.pairing, &d.set) {
            (Some(p), Some(set)) if set.set().binding().is_none() => {
                let current = p.keys.position();
                (current != (0, 0)).then(|| (set.epoch(), current))
            }
            _ => None,
        };
        if retired(self).is_none() {
            return Ok(());
        }
        if online && self.backoff.remaining().is_zero() && !self.blocked {
            // Whatever it answers: a failure leaves the set as it was.
            let _ = self.sync();
        }
        let Some((epoch, current)) = retired(self) else {
            return Ok(());
        };
        self.notify(Notice::RecipientSetRetired {
            epoch,
            signed_under: (0, 0),
            current,
        });
        Err(DeviceError::RecipientSet(RecipientSetError::Legacy))
    }

    /// Records one event: seals the thumbnail, then the clip, then the event
    /// record to the current recipient set and uploads each as it is sealed
    /// (constant memory, whatever the clip's length). When the server is
    /// unreachable or overloaded the sealed parts go to the spool instead.
    pub fn record(&mut self, event: NewEvent<'_>) -> Result<RecordReport, DeviceError> {
        let NewEvent {
            captured_at_ms,
            thumbnail,
            thumbnail_type,
            clip,
            clip_type,
            record,
            delivery,
        } = event;
        let record_json = record.map(EventRecord::to_json).transpose()?;
        self.refuse_retired_v1_set(delivery == Delivery::UploadNow)?;
        let Some(set) = &self.set else {
            return Err(DeviceError::NoRecipientSet);
        };
        // One instant for every part of the event: all are sealed to the
        // same recipients.
        let now = unix_now();
        let expired = set
            .set()
            .binding()
            .filter(|_| set.is_expired(now))
            .map(|b| (set.epoch(), b.expires_at));
        // A v2 set signed under an owner key the camera has since seen
        // replaced: seal to the recovery key alone until the new key's set
        // arrives (a v1 set names no recovery key: refused above).
        let retired = match (&self.pairing, set.set().binding()) {
            (Some(p), Some(b)) if b.key_position < p.keys.position() => {
                Some((set.epoch(), b.key_position, p.keys.position()))
            }
            _ => None,
        };
        if let Some((epoch, expires_at)) = expired {
            self.notify(Notice::RecipientSetExpired { epoch, expires_at });
        }
        if let Some((epoch, signed_under, current)) = retired {
            self.notify(Notice::RecipientSetRetired {
                epoch,
                signed_under,
                current,
            });
        }
        let recovery_only = expired.is_some() || retired.is_some();
        // Random (v4), not time-ordered: the id is the one thing about an
        // event the server stores as it is, so it must not carry the time (S9).
        let id = EventId::random();
        let mut parts = Vec::with_capacity(3);
        let try_now = delivery == Delivery::UploadNow;
        if let Some(mut jpeg) = thumbnail {
            let part = PartSpec::new(id, PartKind::Thumbnail, captured_at_ms, thumbnail_type, now)
                .recovery_only(recovery_only);
            parts.push(self.send_part(part, &mut jpeg, try_now)?);
        }
        if let Some(clip) = clip {
            let part = PartSpec::new(id, PartKind::Clip, captured_at_ms, clip_type, now)
                .recovery_only(recovery_only);
            parts.push(self.send_part(part, clip, try_now)?);
        }
        if let Some(json) = record_json {
            let part = PartSpec::new(
                id,
                PartKind::Record,
                captured_at_ms,
                "application/json",
                now,
            )
            .recovery_only(recovery_only);
            parts.push(self.send_part(part, &mut &json[..], try_now)?);
        }
        Ok(RecordReport {
            event: id,
            epoch: self.epoch().unwrap_or_default(),
            parts,
            recovery_only,
        })
    }
}
