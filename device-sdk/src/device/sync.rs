//! Recipient-set sync: following the owner's key log, then accepting a set
//! only when it verifies for this camera and moves forward (S4, S6).

use sealcam_keys::{
    open_set_document, unix_now, Acceptance, KeyLog, KeyStatementError, RecipientSetError,
    SignedRecipientSet, VerifiedRecipientSet, ViewerRecipient,
};

use super::{Device, Notice};
use crate::state::Pairing;
use crate::{b64, DeviceError};

/// The result of a recipient-set sync.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncOutcome {
    /// A newer set was accepted.
    Updated {
        /// The previous epoch, if any.
        from: Option<u64>,
        /// The new epoch.
        to: u64,
    },
    /// The server offered the set already in use.
    Unchanged {
        /// Its epoch.
        epoch: u64,
    },
    /// The owner has not published a set yet.
    NotPublished,
    /// The offered set was refused; the last good set stays in use.
    Refused {
        /// Why it was refused.
        reason: RecipientSetError,
        /// The epoch still in use, if any.
        kept: Option<u64>,
    },
}

impl Device {
    /// Fetches the recipient set, with the owner's key log, and accepts the
    /// set only if it is signed by the owner key the camera follows, names
    /// this camera and its device key, is bound to that owner key's place in
    /// the log, has not expired, and its epoch neither goes back nor jumps
    /// too far (S4, owner trust v2). On refusal the last good set stays in
    /// use and the reason is returned (and reported to the observer).
    ///
    /// The key log is followed first, from the owner key state the camera
    /// holds: a rotation signed by that key, or a reset signed by the root
    /// key, moves it (persisted at once, [`Notice::OwnerKeyChanged`]).
    pub fn sync(&mut self) -> Result<SyncOutcome, DeviceError> {
        self.paired()?;
        self.publish_set_key();
        let set_key = self.state.set_key()?;
        let (pairing, api) = self.paired()?;
        // Only the key-log statements from the owner key held on are sent.
        let held = pairing.keys.position();
        let offered = match api.recipient_set(&pairing.credential, pairing.camera_id, held) {
            Ok(Some(set)) => set,
            Ok(None) => return Ok(SyncOutcome::NotPublished),
            Err(f) => return Err(f.into_error()),
        };
        if let Some(log) = &offered.key_log {
            self.follow_key_log(log)?;
        }
        let device_key = self.device_public_key()?;
        let (pairing, _) = self.paired()?;
        let pin = pairing.pin(device_key);
        let recovery = pairing.recovery.clone();
        let kept = self.epoch();
        // S9: a set sealed to this camera's set key, or one in the clear.
        let verdict = b64::decode(&offered.set)
            .ok_or(RecipientSetError::Malformed("the set is not base64"))
            .and_then(|document| open_set_document(&document, &[&set_key]))
            .and_then(|bytes| SignedRecipientSet::from_bytes(&bytes))
            .and_then(|s| s.verify_for_camera(&pin, unix_now()))
            .and_then(|v| match (&recovery, v.set().binding()) {
                (Some(pinned), Some(b)) if b.recovery != *pinned => {
                    Err(RecipientSetError::OtherRecoveryKey)
                }
                _ => Ok(v),
            })
            .and_then(|v| match &self.set {
                Some(last) => last.accept_successor(&v).map(|a| (v, a)),
                None => VerifiedRecipientSet::accept_first(&v).map(|a| (v, a)),
            });
        match verdict {
            Ok((set, acceptance)) => {
                if acceptance == Acceptance::Newer {
                    self.state.write_recipient_set(&set)?;
                }
                // Written after the set: a crash in between leaves a set that
                // verifies under `keys`, which `open` also tries (and a
                // recovery key not yet pinned, pinned at the next sync).
                self.note_set_accepted(set.set().binding().map(|b| &b.recovery))?;
                let to = set.epoch();
                if acceptance == Acceptance::Newer {
                    self.set = Some(set);
                    self.notify(Notice::RecipientSetUpdated { from: kept, to });
                    Ok(SyncOutcome::Updated { from: kept, to })
                } else {
                    Ok(SyncOutcome::Unchanged { epoch: to })
                }
            }
            Err(reason) => {
                self.notify(Notice::RecipientSetRefused {
                    reason: reason.clone(),
                    kept,
                });
                Ok(SyncOutcome::Refused { reason, kept })
            }
        }
    }

    /// Follows the owner's key log (standard base64 from the server) from
    /// the owner key state held; persists and reports a move, and reports
    /// the statements refused for a reason other than being old.
    fn follow_key_log(&mut self, text: &str) -> Result<(), DeviceError> {
        let log = b64::decode(text)
            .ok_or(KeyStatementError::Malformed("the key log is not base64"))
            .and_then(|bytes| KeyLog::from_bytes(&bytes));
        let log = match log {
            Ok(log) => log,
            Err(reason) => {
                self.notify(Notice::KeyLogRefused { reason });
                return Ok(());
            }
        };
        let (pairing, _) = self.paired()?;
        let mut keys = pairing.keys;
        let report = keys.follow(&log);
        if keys != pairing.keys {
            let from = pairing.keys.position();
            let updated = Pairing {
                keys,
                ..pairing.clone()
            };
            self.state.write_pairing(&updated)?;
            self.pairing = Some(updated);
            self.notify(Notice::OwnerKeyChanged {
                from,
                to: keys.position(),
            });
        }
        for (index, reason) in report.refused {
            if !matches!(reason, KeyStatementError::Superseded { .. }) {
                self.notify(Notice::KeyStatementRefused { index, reason });
            }
        }
        Ok(())
    }

    /// Notes that the set kept was accepted under the owner key state held
    /// now, and pins the set's recovery key when none is pinned yet.
    fn note_set_accepted(&mut self, recovery: Option<&ViewerRecipient>) -> Result<(), DeviceError> {
        let (pairing, _) = self.paired()?;
        let recovery = pairing.recovery.clone().or_else(|| recovery.cloned());
        if pairing.set_keys == Some(pairing.keys) && pairing.recovery == recovery {
            return Ok(());
        }
        let updated = Pairing {
            set_keys: Some(pairing.keys),
            recovery,
            ..pairing.clone()
        };
        self.state.write_pairing(&updated)?;
        self.pairing = Some(updated);
        Ok(())
    }
}
