//! Sealing one part and uploading it as it is sealed, or into the spool
//! when the server is unreachable, overloaded or refuses the camera.

use std::io::{self, Read};

use sealcam_format::{Binding, FollowedKey, ObjectMeta, Sealer};
use sealcam_keys::EventId;
use sealcam_wire::PartKind;

use super::{emit, Device, Notice, PartOutcome, PartReport, NO_ROOM_WAIT};
use crate::api::{Failure, PartUpload};
use crate::sealing::SealingReader;
use crate::spool::{Loss, LossReason, Staged, Tee};
use crate::DeviceError;

/// Which part is being sent.
#[derive(Clone, Copy)]
pub(super) struct PartSpec<'a> {
    event: EventId,
    kind: PartKind,
    captured_at_ms: i64,
    content_type: &'a str,
    /// When it is sealed (unix seconds): decides whether the set expired.
    sealed_at: u64,
    /// Seal to the set's recovery key alone.
    recovery_only: bool,
}

impl<'a> PartSpec<'a> {
    pub(super) fn new(
        event: EventId,
        kind: PartKind,
        captured_at_ms: i64,
        content_type: &'a str,
        sealed_at: u64,
    ) -> Self {
        Self {
            event,
            kind,
            captured_at_ms,
            content_type,
            sealed_at,
            recovery_only: false,
        }
    }

    pub(super) fn recovery_only(mut self, yes: bool) -> Self {
        self.recovery_only = yes;
        self
    }
}

impl Device {
    pub(super) fn send_part(
        &mut self,
        part: PartSpec<'_>,
        source: &mut dyn Read,
        try_now: bool,
    ) -> Result<PartReport, DeviceError> {
        let (Some(pairing), Some(api), Some(key), Some(set)) =
            (&self.pairing, &self.api, &self.key, &self.set)
        else {
            return Err(DeviceError::NotPaired);
        };
        let meta = ObjectMeta {
            binding: Binding {
                owner: pairing.owner_id,
                camera: pairing.camera_id,
                event: part.event,
                kind: format_kind(part.kind),
                sequence: 0,
            },
            captured_at_ms: part.captured_at_ms,
            epoch: set.epoch(),
            // The owner key this camera follows: an owner device kept on an
            // older one learns from this object that the key log moved on.
            followed: Some(FollowedKey {
                position: pairing.keys.position(),
                key: pairing.keys.owner_key.to_bytes(),
            }),
            content_type: part.content_type.to_owned(),
        };
        // Every recipient while the set is valid, the recovery key alone
        // once it expired or its owner key was replaced.
        let recipients = match set.set().binding() {
            Some(b) if part.recovery_only => std::slice::from_ref(&b.recovery),
            _ => set.sealing_recipients(part.sealed_at),
        };
        let recipients = self.hints.for_recipients(&self.state, recipients);
        let mut reader =
            SealingReader::new(Sealer::with_slot_recipients(recipients, key, meta)?, source);
        let header_len = reader.header_len();
        // The server is told the minute only (S9); the exact time is in the
        // sealed inner header.
        let captured_at = part.captured_at_ms.div_euclid(60_000) * 60;
        let mut staged = self
            .spool
            .stage(part.event, part.kind, captured_at, header_len)?;
        let report = |reader: &SealingReader<'_, _>, outcome| PartReport {
            kind: part.kind,
            body_bytes: reader.body_len(),
            sealed_bytes: reader.sealed_len(),
            outcome,
        };

        // A new part goes up at once whenever the server is not known to be
        // away, even with older parts spooled: the owner's timeline is
        // ordered by capture time, and a spooled part the server had no room
        // for must not hold back the small ones behind it. While the server
        // is unreachable (backing off) or refuses the camera, it spools.
        let online = try_now && self.backoff.remaining().is_zero() && !self.blocked;
        let mut notices = Vec::new();
        if online {
            let mut tee = Tee {
                inner: &mut reader,
                staged: &mut staged,
                stage_error: None,
            };
            let result = api.upload(
                &pairing.credential,
                &PartUpload {
                    event: part.event,
                    kind: part.kind,
                    captured_at,
                    header_len,
                    len: None, // sealed while it streams: its size is not known yet
                },
                &mut tee,
            );
            if let Some(kind) = reader.source_error() {
                staged.discard();
                return Err(DeviceError::Source(io::Error::new(
                    kind,
                    "the media source failed while it was being sealed",
                )));
            }
            match result {
                Ok(answer) => {
                    staged.discard();
                    self.backoff.succeeded();
                    let out = report(
                        &reader,
                        PartOutcome::Uploaded {
                            created: answer.created,
                        },
                    );
                    emit(
                        &mut self.observer,
                        Notice::Uploaded {
                            event: part.event,
                            kind: part.kind,
                            bytes: out.sealed_bytes,
                            created: answer.created,
                        },
                    );
                    return Ok(out);
                }
                Err(Failure::Rejected { status, .. }) => {
                    staged.discard();
                    // Finish reading the source so the report says how big it was.
                    let _ = io::copy(&mut reader, &mut io::sink());
                    let loss = Loss {
                        event: part.event,
                        kind: part.kind,
                        bytes: reader.sealed_len(),
                        reason: LossReason::Rejected { status },
                    };
                    emit(&mut self.observer, Notice::Lost(loss));
                    return Ok(report(&reader, PartOutcome::Lost(loss.reason)));
                }
                Err(
                    Failure::Retry { retry_after, why } | Failure::Unexplained { retry_after, why },
                ) => {
                    // Spooled below; an answer that was not the API's is no
                    // refusal of the part.
                    let after = self.backoff.failed(&self.config.backoff, retry_after);
                    notices.push(Notice::Retrying { after, why });
                }
                Err(Failure::NoRoom { retry_after, why }) => {
                    // No backoff: the next (smaller) part may fit. This one
                    // is spooled and waits (see `drain_once`).
                    notices.push(Notice::Retrying {
                        after: retry_after.unwrap_or(NO_ROOM_WAIT),
                        why,
                    });
                }
                Err(Failure::Blocked {
                    status, message, ..
                }) => {
                    self.blocked = true;
                    notices.push(Notice::Blocked { status, message });
                }
            }
        }
        for n in notices {
            emit(&mut self.observer, n);
        }

        // Offline (or the upload failed): keep sealing into the spool.
        finish_staging(&mut reader, &mut staged)?;
        let losses = self.spool.commit(staged)?;
        let own_loss = losses
            .iter()
            .find(|l| l.event == part.event && l.kind == part.kind)
            .map(|l| l.reason);
        for loss in losses {
            emit(&mut self.observer, Notice::Lost(loss));
        }
        let out = match own_loss {
            Some(reason) => report(&reader, PartOutcome::Lost(reason)),
            None => {
                let out = report(&reader, PartOutcome::Spooled);
                emit(
                    &mut self.observer,
                    Notice::Spooled {
                        event: part.event,
                        kind: part.kind,
                        bytes: out.sealed_bytes,
                    },
                );
                out
            }
        };
        Ok(out)
    }
}

fn format_kind(kind: PartKind) -> sealcam_format::PartKind {
    match kind {
        PartKind::Thumbnail => sealcam_format::PartKind::Thumbnail,
        PartKind::Clip => sealcam_format::PartKind::Clip,
        PartKind::Record => sealcam_format::PartKind::Record,
    }
}

/// Copies the rest of the sealed stream into the staged spool file. Stops
/// early when the object outgrew the spool (it is lost anyway).
fn finish_staging<R: Read>(
    reader: &mut SealingReader<'_, R>,
    staged: &mut Staged,
) -> Result<(), DeviceError> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if staged.overflowed() {
            return Ok(());
        }
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                staged.discard();
                return Err(DeviceError::Source(e));
            }
        };
        if n == 0 {
            return Ok(());
        }
        if let Err(e) = staged.append(&buf[..n]) {
            staged.discard();
            return Err(DeviceError::Io {
                path: "spool".into(),
                source: e,
            });
        }
    }
}
