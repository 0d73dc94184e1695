//! What a camera's objects say about the owner key (format v3): each names,
//! under the camera's signature, the owner key the camera followed when it
//! sealed. A camera follows the key log from the key pinned at pairing, as
//! owner devices do, so its objects are a witness the server cannot forge:
//! an owner device that finds a camera ahead of the key it holds, or on
//! another key at a place where it held one, is kept from a rotation or was
//! served a forked log (a revoked device signs a rotation of its own with
//! the key it kept). The keys compared are those the device held
//! (`keys.json`), never a log the server serves.

use sealcam_format::FollowedKey;
use sealcam_keys::OwnerKeyState;

use crate::client::Client;
use crate::error::{ClientError, Result};
use crate::home::HeldKey;

/// The owner keys this device held: the one it holds and those it noted
/// (`keys.json`) since it was set up.
#[derive(Debug, Clone)]
pub(crate) struct KeyChain {
    /// The place of the key held.
    held_at: (u64, u64),
    /// Every key held, the current one included.
    known: Vec<HeldKey>,
}

/// How a camera's key and this device's disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disagreement {
    /// The camera follows a later key than this device holds.
    Ahead {
        camera: (u64, u64),
        held: (u64, u64),
    },
    /// The camera follows another key at a place where this device held one.
    Forked { at: (u64, u64) },
}

impl KeyChain {
    /// `known`: the keys noted in `keys.json`; those of another account
    /// (a home used before) are left out.
    pub(crate) fn new(held: &OwnerKeyState, mut known: Vec<HeldKey>) -> Self {
        known.retain(|k| k.owner == held.owner);
        known.push(HeldKey::of(held));
        Self {
            held_at: held.position(),
            known,
        }
    }

    /// Whether the key an object names (none before format v3) is the one
    /// this device held at that place. A place later than the key held
    /// means a rotation this device did not see; another key at a place
    /// where it held one, a fork (an honest device never holds two keys at
    /// one place). A place it never held (before it was set up, or before
    /// it kept `keys.json`) agrees: it cannot tell.
    pub(crate) fn check(&self, followed: Option<&FollowedKey>) -> Result<(), Disagreement> {
        let Some(f) = followed else {
            return Ok(());
        };
        if f.position > self.held_at {
            return Err(Disagreement::Ahead {
                camera: f.position,
                held: self.held_at,
            });
        }
        if self
            .known
            .iter()
            .any(|k| k.position == f.position && k.key.to_bytes() != f.key)
        {
            return Err(Disagreement::Forked { at: f.position });
        }
        Ok(())
    }

    /// The place of the key this device holds.
    pub(crate) fn held_at(&self) -> (u64, u64) {
        self.held_at
    }
}

impl Disagreement {
    /// The refusal of an action that would trust the owner record;
    /// `undone` says what was not done ("nothing was re-wrapped").
    pub(crate) fn refusal(self, camera: impl std::fmt::Display, undone: &str) -> ClientError {
        let reason = match self {
            Self::Ahead { camera: at, held } => format!(
                "camera {camera} sealed a recording under the owner key of reset {}, generation {}, newer than the one this device holds (reset {}, generation {}): the server is hiding a rotation of the owner key (a revocation on another device) from this device",
                at.0, at.1, held.0, held.1
            ),
            Self::Forked { at } => format!(
                "camera {camera} sealed a recording under another owner key of reset {}, generation {} than the one this device held there: the server served this device a forked key log (a revoked device can sign a rotation with the key it kept), and this home stays refused (`sealcam cameras list` says how to set the device up again)",
                at.0, at.1
            ),
        };
        ClientError::Untrusted {
            what: "key log",
            reason: format!(
                "{reason}, so the owner record it serves may be a revoked device's; {undone}"
            ),
        }
    }
}

impl Client {
    /// The owner keys this device held.
    pub(crate) fn key_chain(&self) -> Result<KeyChain> {
        let held = self.device().info.key_state();
        Ok(KeyChain::new(&held, self.home().key_history()?))
    }
}

#[cfg(test)]
mod tests {
    use sealcam_keys::{OwnerId, OwnerPublicKey, OwnerSigningKey};

    use super::*;

    fn followed(position: (u64, u64), key: &OwnerPublicKey) -> FollowedKey {
        FollowedKey {
            position,
            key: key.to_bytes(),
        }
    }

    #[test]
    fn a_camera_ahead_or_on_a_fork_disagrees_and_an_older_key_agrees() {
        let keys: Vec<OwnerPublicKey> = (0..4)
            .map(|_| OwnerSigningKey::generate().public())
            .collect();
        let owner = OwnerId::random();
        let held = OwnerKeyState::new(owner, keys[2], None, 5, 2);
        let noted = |position, key| HeldKey {
            owner,
            position,
            key,
        };
        let elsewhere = HeldKey {
            owner: OwnerId::random(),
            ..noted((5, 2), keys[3])
        };
        let chain = KeyChain::new(
            &held,
            vec![noted((5, 0), keys[0]), noted((5, 1), keys[1]), elsewhere],
        );
        // Before format v3, the same key, an older key it held, a place it
        // never held.
        assert_eq!(chain.check(None), Ok(()));
        assert_eq!(chain.check(Some(&followed((5, 2), &keys[2]))), Ok(()));
        assert_eq!(chain.check(Some(&followed((5, 1), &keys[1]))), Ok(()));
        assert_eq!(chain.check(Some(&followed((0, 0), &keys[3]))), Ok(()));
        // A camera that followed a rotation this device did not see.
        assert_eq!(
            chain.check(Some(&followed((5, 3), &keys[3]))),
            Err(Disagreement::Ahead {
                camera: (5, 3),
                held: (5, 2)
            })
        );
        assert_eq!(
            chain.check(Some(&followed((6, 0), &keys[2]))),
            Err(Disagreement::Ahead {
                camera: (6, 0),
                held: (5, 2)
            })
        );
        // Another key where this device held one: now, or earlier.
        assert_eq!(
            chain.check(Some(&followed((5, 2), &keys[3]))),
            Err(Disagreement::Forked { at: (5, 2) })
        );
        assert_eq!(
            chain.check(Some(&followed((5, 1), &keys[0]))),
            Err(Disagreement::Forked { at: (5, 1) })
        );
    }
}
