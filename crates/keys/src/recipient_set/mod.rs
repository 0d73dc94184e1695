//! The recipient set of a camera, signed by the owner key (S4).
//!
//! Byte layout (little-endian), specified in `docs/FORMAT.md`. Version 2
//! (owner trust v2) binds the camera's device key, the owner key's place in
//! the key log, an expiry and the recovery recipient:
//!
//! ```text
//! magic          8  "SCRSET\0\2"
//! owner         16
//! camera        16
//! device_key    32  the camera's Ed25519 device key, pinned at confirmation
//! epoch          8  u64, grows with every change
//! issued_at      8  u64 unix seconds
//! expires_at     8  u64 unix seconds
//! key_reset      8  u64  the signing owner key's (reset, generation)
//! key_generation 8  u64
//! recovery       1+n the recovery key's recipient (also in the list)
//! count          2  u16, 1..=MAX_RECIPIENTS
//! count × { len 1, age recipient text `age1…` }
//! signature     64  Ed25519 by the owner key over DOMAIN_V2 ‖ all bytes above
//! ```
//!
//! Version 1 (`"SCRSET\0\1"`) has only owner, camera, epoch, issued_at and
//! the list; it still parses, and verifies for owner devices and for cameras
//! paired before v2 that never saw an owner key rotation.

mod binding;
mod camera;
mod encode;
#[cfg(test)]
mod tests;
mod verify;

use std::collections::HashSet;

use crate::{CameraId, OwnerId, OwnerPublicKey, RecipientSetError, ViewerRecipient};

pub use binding::SetBinding;
pub use camera::{Acceptance, CameraPin};

const MAGIC: &[u8; 8] = b"SCRSET\x00\x01";
const MAGIC_V2: &[u8; 8] = b"SCRSET\x00\x02";
const DOMAIN: &[u8] = b"sealcam recipient set v1\x00";
const DOMAIN_V2: &[u8] = b"sealcam recipient set v2\x00";
const SIG_LEN: usize = 64;

/// The most recipients one set may name.
pub const MAX_RECIPIENTS: usize = 64;

/// The most a camera lets a set's epoch grow at once. Owner devices add one
/// per change; a set that jumps further (to `u64::MAX`, say, so that the
/// owner could never publish again) is refused.
pub const MAX_EPOCH_JUMP: u64 = 1 << 20;

/// How long a set stays valid after it is issued, unless renewed: 30 days.
pub const SET_LIFETIME_SECS: u64 = 30 * 86_400;

/// Who may open what a camera records from now on: `{owner, camera, epoch,
/// recipients, issued_at}`. Build it, then [`sign`](Self::sign) it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientSet {
    owner: OwnerId,
    camera: CameraId,
    epoch: u64,
    issued_at: u64,
    recipients: Vec<ViewerRecipient>,
    binding: Option<SetBinding>,
}

impl RecipientSet {
    /// A set issued now. Fails on an empty list, more than
    /// [`MAX_RECIPIENTS`] or a repeated recipient.
    pub fn new(
        owner: OwnerId,
        camera: CameraId,
        epoch: u64,
        recipients: Vec<ViewerRecipient>,
    ) -> Result<Self, RecipientSetError> {
        Self::with_issued_at(owner, camera, epoch, crate::unix_now(), recipients)
    }

    /// A set with an explicit issue time.
    pub fn with_issued_at(
        owner: OwnerId,
        camera: CameraId,
        epoch: u64,
        issued_at: u64,
        recipients: Vec<ViewerRecipient>,
    ) -> Result<Self, RecipientSetError> {
        check_recipients(&recipients)?;
        Ok(Self {
            owner,
            camera,
            epoch,
            issued_at,
            recipients,
            binding: None,
        })
    }

    /// The owner.
    pub fn owner(&self) -> OwnerId {
        self.owner
    }
    /// The camera.
    pub fn camera(&self) -> CameraId {
        self.camera
    }
    /// The epoch; a camera never goes back to a lower one.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
    /// When the owner issued it (unix seconds).
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }
    /// The recipients, in signed order.
    pub fn recipients(&self) -> &[ViewerRecipient] {
        &self.recipients
    }
    /// What a version-2 set binds (`None` for a version-1 set).
    pub fn binding(&self) -> Option<&SetBinding> {
        self.binding.as_ref()
    }
}

fn check_recipients(recipients: &[ViewerRecipient]) -> Result<(), RecipientSetError> {
    if recipients.is_empty() {
        return Err(RecipientSetError::InvalidRecipients("no recipients"));
    }
    if recipients.len() > MAX_RECIPIENTS {
        return Err(RecipientSetError::InvalidRecipients("too many recipients"));
    }
    let mut seen = HashSet::new();
    if !recipients.iter().all(|r| seen.insert(r)) {
        return Err(RecipientSetError::InvalidRecipients(
            "a recipient appears twice",
        ));
    }
    Ok(())
}

/// A parsed recipient set whose signature has **not** been checked yet.
/// The only way to use it is [`verify`](Self::verify).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecipientSet {
    set: RecipientSet,
    bytes: Vec<u8>,
}

/// What a camera pinned at pairing, against which it checks every set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecipientSetPin {
    /// The owner named in the pairing code.
    pub owner: OwnerId,
    /// This camera, as assigned at pairing.
    pub camera: CameraId,
    /// The owner signing key from the pairing code.
    pub owner_key: OwnerPublicKey,
}

/// A recipient set whose signature verified under the pinned owner key. Only
/// this type can be sealed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRecipientSet {
    signed: SignedRecipientSet,
}
