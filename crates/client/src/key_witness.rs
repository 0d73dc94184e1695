//! What a camera's objects say about the owner key (format v3): each names,
//! under the camera's signature, the owner key the camera followed when it
//! sealed. A camera follows the key log from the key pinned at pairing, as
//! owner devices do, so its objects are a witness the server cannot forge:
//! an owner device that finds a camera ahead of it, or on another key at a
//! place its own log names, is kept from a rotation or was served a forked
//! log (a revoked device signs a rotation of its own with the key it kept).

use sealcam_format::FollowedKey;
use sealcam_keys::{OwnerKeyState, OwnerPublicKey};

use crate::client::Client;
use crate::error::{ClientError, Result};

/// The owner keys this device's key log leads to.
#[derive(Debug, Clone)]
pub(crate) struct KeyChain {
    /// The key held: `(reset, generation)` and the key.
    held: ((u64, u64), OwnerPublicKey),
    /// Every key the log adopted on the way, from the root key's first reset.
    adopted: Vec<((u64, u64), OwnerPublicKey)>,
}

/// How a camera's key and this device's disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disagreement {
    /// The camera follows a later key than this device holds.
    Ahead {
        camera: (u64, u64),
        held: (u64, u64),
    },
    /// The camera follows another key at a place this device's log names.
    Forked { at: (u64, u64) },
}

impl KeyChain {
    pub(crate) fn new(held: &OwnerKeyState, adopted: Vec<((u64, u64), OwnerPublicKey)>) -> Self {
        Self {
            held: (held.position(), held.owner_key),
            adopted,
        }
    }

    /// Whether the key an object names (none before format v3) is one this
    /// device's log leads to. A key older than anything the log names (a
    /// camera paired before owner trust v2) agrees.
    pub(crate) fn check(&self, followed: Option<&FollowedKey>) -> Result<(), Disagreement> {
        let Some(f) = followed else {
            return Ok(());
        };
        let (held_at, held_key) = self.held;
        let known = if f.position == held_at {
            Some(held_key)
        } else if f.position > held_at {
            return Err(Disagreement::Ahead {
                camera: f.position,
                held: held_at,
            });
        } else {
            self.adopted
                .iter()
                .find(|(at, _)| *at == f.position)
                .map(|(_, key)| *key)
        };
        match known {
            Some(key) if key.to_bytes() != f.key => Err(Disagreement::Forked { at: f.position }),
            _ => Ok(()),
        }
    }
}

impl Disagreement {
    /// The refusal of an action that would trust the owner record.
    pub(crate) fn refusal(self, camera: impl std::fmt::Display) -> ClientError {
        let reason = match self {
            Self::Ahead { camera: at, held } => format!(
                "camera {camera} sealed a recording under the owner key of reset {}, generation {}, newer than the one this device holds (reset {}, generation {}): the server is hiding a rotation of the owner key (a revocation on another device) from this device",
                at.0, at.1, held.0, held.1
            ),
            Self::Forked { at } => format!(
                "camera {camera} sealed a recording under another owner key of reset {}, generation {} than the key log this device followed: the server served this device a forked key log (a revoked device can sign a rotation with the key it kept)",
                at.0, at.1
            ),
        };
        ClientError::Untrusted {
            what: "key log",
            reason: format!(
                "{reason}, so the owner record it serves may be a revoked device's; nothing was re-wrapped"
            ),
        }
    }
}

impl Client {
    /// The keys the key log this device followed leads to (the log cached
    /// by the last sync; without one, or without a root key, only the key
    /// held).
    pub(crate) fn key_chain(&self) -> Result<KeyChain> {
        let held = self.device().info.key_state();
        let adopted = match (held.root_key, self.home().cached_key_log()?) {
            (Some(root), Some(log)) => OwnerKeyState::from_root(held.owner, root, &log)
                .map(|(_, report)| {
                    report
                        .adopted
                        .into_iter()
                        .map(|(reset, generation, key)| ((reset, generation), key))
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(KeyChain::new(&held, adopted))
    }
}

#[cfg(test)]
mod tests {
    use sealcam_keys::{OwnerId, OwnerSigningKey};

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
        let held = OwnerKeyState::new(OwnerId::random(), keys[2], None, 5, 2);
        let chain = KeyChain::new(&held, vec![((5, 0), keys[0]), ((5, 1), keys[1])]);
        // Before format v3, the same key, an older key the log names, a key
        // older than anything the log names.
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
        // Another key where this device's log has one: held, or earlier.
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
