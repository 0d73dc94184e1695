//! The owner devices' check of a set (signature and names), and what a
//! verified set offers.

use crate::{RecipientSetError, ViewerRecipient};

use super::encode::signed_message;
use super::{RecipientSet, RecipientSetPin, SignedRecipientSet, VerifiedRecipientSet, SIG_LEN};

impl SignedRecipientSet {
    /// The canonical bytes, signature included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The epoch it claims (unverified).
    pub fn epoch(&self) -> u64 {
        self.set.epoch
    }

    /// The set it claims (unverified: for display and diagnostics only).
    pub fn unverified(&self) -> &RecipientSet {
        &self.set
    }

    /// Checks the signature against the pinned owner key and the names
    /// against the pinned owner and camera.
    pub fn verify(self, pin: &RecipientSetPin) -> Result<VerifiedRecipientSet, RecipientSetError> {
        let split = self.bytes.len() - SIG_LEN;
        let (body, sig) = self.bytes.split_at(split);
        let mut signature = [0u8; SIG_LEN];
        signature.copy_from_slice(sig);
        if !pin.owner_key.verify_raw(&signed_message(body), &signature) {
            return Err(RecipientSetError::NotSignedByPinnedOwner);
        }
        if self.set.owner != pin.owner || self.set.camera != pin.camera {
            return Err(RecipientSetError::WrongCamera);
        }
        Ok(VerifiedRecipientSet { signed: self })
    }
}

impl VerifiedRecipientSet {
    /// The set.
    pub fn set(&self) -> &RecipientSet {
        &self.signed.set
    }
    /// The epoch.
    pub fn epoch(&self) -> u64 {
        self.signed.set.epoch
    }
    /// The recipients.
    pub fn recipients(&self) -> &[ViewerRecipient] {
        &self.signed.set.recipients
    }
    /// The canonical signed bytes (to store and re-verify after a restart).
    pub fn as_bytes(&self) -> &[u8] {
        &self.signed.bytes
    }
}
