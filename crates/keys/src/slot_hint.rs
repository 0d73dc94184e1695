//! Slot hints: where a camera puts a viewer's stanza among a header's
//! recipient slots, so that the viewer finds it with one X25519 operation.
//!
//! A version 2 header pads its X25519 stanzas to a multiple of 16 slots so
//! that the server cannot count recipients (S9). Age stanzas do not say whom
//! they are for, so a viewer that tries them in order pays on average half
//! the slots in X25519 operations (8.5 of them with 16 slots) for every
//! thumbnail it opens. Instead, the camera and each viewer share a key
//! neither the server nor other viewers can compute —
//!
//! ```text
//! shared = X25519(camera set key, viewer key)
//! hint key = HKDF-SHA256(ikm = shared, salt = set key ‖ viewer key,
//!                        info = "sealcam slot hint v1")
//! ```
//!
//! — and the camera puts the viewer's stanza at slot
//! `HMAC-SHA256(hint key, payload nonce)[..8] (little-endian) mod slots`, or
//! the next free one after it. The viewer starts there. The order of slots is
//! all the hint decides: every stanza is a standard age X25519 stanza with its
//! own ephemeral key, any age reader still opens the object, and a reader
//! without the hint (or an object sealed before hints) tries every slot.
//! Without a file key nobody can tell used slots from unused ones, so the
//! placement shows the server nothing.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{ViewerIdentity, ViewerRecipient};

const INFO: &[u8] = b"sealcam slot hint v1";

/// The key a camera and one viewer share to place and find the viewer's
/// stanza ([module docs](self)). Zeroized when dropped; `Debug` redacts it.
#[derive(Clone)]
pub struct SlotHintKey(Zeroizing<[u8; 32]>);

impl SlotHintKey {
    /// On the camera: the hint key for `viewer`, from the camera's set key.
    /// `None` for a low-order viewer key (which no honest viewer has).
    pub fn for_viewer(set_key: &ViewerIdentity, viewer: &ViewerRecipient) -> Option<Self> {
        let shared = set_key.x25519(viewer.public_bytes())?;
        Some(Self::derive(
            &shared,
            set_key.public_bytes(),
            viewer.public_bytes(),
        ))
    }

    /// On a viewer: the hint key for the camera whose set key is `set_key`.
    pub fn for_camera(viewer: &ViewerIdentity, set_key: &ViewerRecipient) -> Option<Self> {
        let shared = viewer.x25519(set_key.public_bytes())?;
        Some(Self::derive(
            &shared,
            set_key.public_bytes(),
            viewer.public_bytes(),
        ))
    }

    fn derive(shared: &[u8; 32], set_key: &[u8; 32], viewer: &[u8; 32]) -> Self {
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(set_key);
        salt[32..].copy_from_slice(viewer);
        let mut key = Zeroizing::new([0u8; 32]);
        hkdf::Hkdf::<Sha256>::new(Some(&salt), shared)
            .expand(INFO, &mut key[..])
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 length"));
        Self(key)
    }

    /// The slot, among `slots` (at least 1), where this viewer's stanza
    /// starts to be looked for in the object whose payload nonce is `nonce`.
    pub fn slot(&self, nonce: &[u8; 16], slots: usize) -> usize {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0[..]).unwrap_or_else(|_| unreachable!());
        mac.update(nonce);
        let tag = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&tag[..8]);
        // The modulo bias is below 2^-59 for any header sealcam accepts.
        (u64::from_le_bytes(first) % slots.max(1) as u64) as usize
    }
}

impl fmt::Debug for SlotHintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SlotHintKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camera_and_viewer_agree_and_others_do_not() {
        let set_key = ViewerIdentity::generate();
        let viewer = ViewerIdentity::generate();
        let other = ViewerIdentity::generate();
        let cam = SlotHintKey::for_viewer(&set_key, &viewer.to_public()).unwrap();
        let me = SlotHintKey::for_camera(&viewer, &set_key.to_public()).unwrap();
        let them = SlotHintKey::for_camera(&other, &set_key.to_public()).unwrap();
        assert_eq!(*cam.0, *me.0);
        assert_ne!(*cam.0, *them.0);
        let nonces: Vec<[u8; 16]> = (0..64u8).map(|i| [i; 16]).collect();
        assert!(nonces
            .iter()
            .all(|n| cam.slot(n, 16) == me.slot(n, 16) && cam.slot(n, 16) < 16));
        // The slot moves with the nonce (a fixed slot would be a fingerprint
        // for whoever learns it once).
        let distinct: std::collections::HashSet<usize> =
            nonces.iter().map(|n| me.slot(n, 16)).collect();
        assert!(distinct.len() > 8, "{distinct:?}");
        assert_eq!(format!("{me:?}"), "SlotHintKey(<redacted>)");
    }
}
