//! The camera's side: the v2 check against what it pinned
//! ([`verify_for_camera`](SignedRecipientSet::verify_for_camera)), the set it
//! seals to as time passes, and whether a set may replace the one it holds.

use crate::{CameraId, DevicePublicKey, OwnerKeyState, RecipientSetError, ViewerRecipient};

use super::{RecipientSetPin, SignedRecipientSet, VerifiedRecipientSet, MAX_EPOCH_JUMP};

/// What a camera paired under owner trust v2 pins, against which it checks
/// every set: its own ids and device key, and the owner key it follows
/// through the key log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CameraPin {
    /// This camera, as assigned at pairing.
    pub camera: CameraId,
    /// This camera's own device key.
    pub device_key: DevicePublicKey,
    /// The owner key the camera follows (owner, key, root key, position).
    pub keys: OwnerKeyState,
    /// Whether version-1 sets are still taken: only by a camera paired before
    /// v2 whose owner key never moved (its first rotation ends it).
    pub accept_v1: bool,
}

impl SignedRecipientSet {
    /// The camera's check (owner trust v2): signed by the owner key the
    /// camera follows now — a retired owner key signs nothing it takes —,
    /// for this owner and camera, bound to this camera's device key and to
    /// the owner key's current position, and not expired at `now`.
    pub fn verify_for_camera(
        self,
        pin: &CameraPin,
        now: u64,
    ) -> Result<VerifiedRecipientSet, RecipientSetError> {
        let verified = self.verify(&RecipientSetPin {
            owner: pin.keys.owner,
            camera: pin.camera,
            owner_key: pin.keys.owner_key,
        })?;
        match verified.set().binding() {
            None if pin.accept_v1 => {}
            None => return Err(RecipientSetError::Legacy),
            Some(b) => {
                if b.device_key != pin.device_key {
                    return Err(RecipientSetError::WrongDevice);
                }
                if b.key_position != pin.keys.position() {
                    return Err(RecipientSetError::OtherKeyGeneration {
                        claimed: b.key_position,
                        held: pin.keys.position(),
                    });
                }
                if now > b.expires_at {
                    return Err(RecipientSetError::Expired {
                        expires_at: b.expires_at,
                    });
                }
            }
        }
        Ok(verified)
    }
}

/// How a verified set relates to the one a camera already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    /// A newer epoch: switch to it.
    Newer,
    /// The very same set again: nothing to do.
    Unchanged,
}

impl VerifiedRecipientSet {
    /// Whether a version-2 set expired before `now` (a version-1 set never
    /// expires).
    pub fn is_expired(&self, now: u64) -> bool {
        self.set().binding().is_some_and(|b| now > b.expires_at)
    }

    /// Who a camera seals to at `now`: every recipient while the set is
    /// valid, the recovery key alone once it expired (the owner's devices
    /// stopped renewing it, or the server withholds the renewal).
    pub fn sealing_recipients(&self, now: u64) -> &[ViewerRecipient] {
        match self.set().binding() {
            Some(b) if now > b.expires_at => std::slice::from_ref(&b.recovery),
            _ => self.recipients(),
        }
    }

    /// Decides whether `offered` may be a camera's first set: its epoch may
    /// not be beyond [`MAX_EPOCH_JUMP`].
    pub fn accept_first(offered: &VerifiedRecipientSet) -> Result<Acceptance, RecipientSetError> {
        if offered.epoch() > MAX_EPOCH_JUMP {
            return Err(RecipientSetError::EpochJump {
                accepted: 0,
                offered: offered.epoch(),
                max: MAX_EPOCH_JUMP,
            });
        }
        Ok(Acceptance::Newer)
    }

    /// The `(reset, generation)` of the owner key that signed it: `(0, 0)`
    /// for a version-1 set.
    pub fn key_position(&self) -> (u64, u64) {
        self.set().binding().map_or((0, 0), |b| b.key_position)
    }

    /// Decides whether `offered` may replace `self` (the last good set).
    ///
    /// Sets are ordered by the signing owner key's position first, then by
    /// epoch. A set signed under a newer owner key (after a rotation or a
    /// reset) replaces any set of an older one, whatever the older one's
    /// epoch — so epochs a thief pushed up with a key since retired cannot
    /// hold a camera — as long as its epoch is not more than
    /// [`MAX_EPOCH_JUMP`] above the last one. Under the same key the epoch
    /// must grow, by at most [`MAX_EPOCH_JUMP`], and a different set may not
    /// reuse an epoch.
    pub fn accept_successor(
        &self,
        offered: &VerifiedRecipientSet,
    ) -> Result<Acceptance, RecipientSetError> {
        let (accepted, epoch) = (self.epoch(), offered.epoch());
        if offered.key_position() > self.key_position() {
            if epoch.saturating_sub(accepted) > MAX_EPOCH_JUMP {
                return Err(RecipientSetError::EpochJump {
                    accepted,
                    offered: epoch,
                    max: MAX_EPOCH_JUMP,
                });
            }
            return Ok(Acceptance::Newer);
        }
        if offered.key_position() < self.key_position() {
            return Err(RecipientSetError::RolledBack {
                accepted,
                offered: epoch,
            });
        }
        if epoch < accepted {
            return Err(RecipientSetError::RolledBack {
                accepted,
                offered: epoch,
            });
        }
        if epoch == accepted {
            return if offered.signed.bytes == self.signed.bytes {
                Ok(Acceptance::Unchanged)
            } else {
                Err(RecipientSetError::Equivocation { epoch })
            };
        }
        if epoch - accepted > MAX_EPOCH_JUMP {
            return Err(RecipientSetError::EpochJump {
                accepted,
                offered: epoch,
                max: MAX_EPOCH_JUMP,
            });
        }
        Ok(Acceptance::Newer)
    }
}
