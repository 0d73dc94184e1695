//! The owner key bundle: the owner signing key sealed, as a standard age file,
//! to every viewer of the owner and to the recovery key (S7).
//!
//! The server keeps it as an opaque blob. A device that opens it checks that
//! the key inside is the owner key it already pinned; the recovery flow, which
//! pins nothing, checks a *recovery tag*: an HMAC over the bundle's content
//! keyed from the recovery secret, which only the owner ever held. So a server
//! that forges a bundle to the owner's public viewer keys is caught either way.
//!
//! Plaintext layout (little-endian):
//!
//! ```text
//! magic         8  "SCBNDL\0\1"
//! owner        16
//! signing seed 32  the owner's Ed25519 seed
//! recovery tag 32  HMAC-SHA256(SHA-256(TAG_DOMAIN ‖ recovery key text), magic ‖ owner ‖ seed)
//! ```

use std::io::Read;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::codec::Reader;
use crate::{
    BundleError, OwnerId, OwnerPublicKey, OwnerSigningKey, RecoveryKey, ViewerIdentity,
    ViewerRecipient,
};

const MAGIC: &[u8; 8] = b"SCBNDL\x00\x01";
const TAG_DOMAIN: &[u8] = b"sealcam recovery tag v1\x00";
const PLAINTEXT_LEN: usize = 8 + 16 + 32 + 32;
/// Refuse anything larger before decrypting (a bundle is tiny).
const MAX_SEALED_LEN: usize = 64 * 1024;

/// The owner signing key and the owner it belongs to, opened from or ready to
/// be sealed into a bundle.
#[derive(Clone)]
pub struct OwnerKeyBundle {
    owner: OwnerId,
    key: OwnerSigningKey,
    recovery_tag: [u8; 32],
}

impl Drop for OwnerKeyBundle {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.recovery_tag.zeroize();
    }
}

impl std::fmt::Debug for OwnerKeyBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The recovery tag is a MAC keyed by the recovery key: not shown.
        f.debug_struct("OwnerKeyBundle")
            .field("owner", &self.owner)
            .field("key", &self.key)
            .field("recovery_tag", &"<redacted>")
            .finish()
    }
}

fn recovery_tag(recovery: &RecoveryKey, owner: OwnerId, key: &OwnerSigningKey) -> [u8; 32] {
    let mut k = Sha256::new();
    k.update(TAG_DOMAIN);
    k.update(recovery.to_secret_text().as_bytes());
    let k = Zeroizing::new(<[u8; 32]>::from(k.finalize()));
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&k[..]).unwrap_or_else(|_| unreachable!());
    mac.update(MAGIC);
    mac.update(&owner.to_bytes());
    mac.update(&key.to_seed()[..]);
    mac.finalize().into_bytes().into()
}

impl OwnerKeyBundle {
    /// A bundle for a new account, tagged with the recovery key.
    pub fn new(owner: OwnerId, key: OwnerSigningKey, recovery: &RecoveryKey) -> Self {
        let recovery_tag = recovery_tag(recovery, owner, &key);
        Self {
            owner,
            key,
            recovery_tag,
        }
    }

    /// A bundle for an owner key made by a rotation on an owner device,
    /// which does not hold the recovery key: its recovery tag is all zeros.
    /// Under owner trust v2 the key log, not the tag, tells which owner key
    /// is current, and recovery resets the owner key rather than trusting
    /// this bundle.
    pub fn rotated(owner: OwnerId, key: OwnerSigningKey) -> Self {
        Self {
            owner,
            key,
            recovery_tag: [0; 32],
        }
    }

    /// The owner.
    pub fn owner(&self) -> OwnerId {
        self.owner
    }

    /// The owner signing key.
    pub fn signing_key(&self) -> &OwnerSigningKey {
        &self.key
    }

    /// Seals the bundle to `recipients` (every viewer and the recovery key) as
    /// an age file.
    pub fn seal(&self, recipients: &[ViewerRecipient]) -> Result<Vec<u8>, BundleError> {
        let mut plain = Zeroizing::new(Vec::with_capacity(PLAINTEXT_LEN));
        plain.extend_from_slice(MAGIC);
        plain.extend_from_slice(&self.owner.to_bytes());
        plain.extend_from_slice(&self.key.to_seed()[..]);
        plain.extend_from_slice(&self.recovery_tag);
        // 16 recipient slots: the header does not show how many viewers there are (S9).
        crate::sealed::seal_padded(recipients, &plain).ok_or(BundleError::Seal)
    }

    /// Opens a bundle on a viewer device that already pinned the owner key.
    pub fn open_as_viewer(
        sealed: &[u8],
        identity: &ViewerIdentity,
        owner: OwnerId,
        pinned: &OwnerPublicKey,
    ) -> Result<Self, BundleError> {
        let b = Self::open(sealed, identity.as_age())?;
        if b.owner != owner || b.key.public() != *pinned {
            return Err(BundleError::WrongOwnerKey);
        }
        Ok(b)
    }

    /// Opens a bundle with the recovery key alone, checking the recovery tag.
    pub fn open_with_recovery(sealed: &[u8], recovery: &RecoveryKey) -> Result<Self, BundleError> {
        let b = Self::open(sealed, recovery.identity().as_age())?;
        let expected = recovery_tag(recovery, b.owner, &b.key);
        if !bool::from(expected.ct_eq(&b.recovery_tag)) {
            return Err(BundleError::WrongOwnerKey);
        }
        Ok(b)
    }

    /// Decrypts and parses without checking whose key it holds. Untrusted input.
    fn open(sealed: &[u8], identity: &age::x25519::Identity) -> Result<Self, BundleError> {
        if sealed.len() > MAX_SEALED_LEN {
            return Err(BundleError::Malformed("too large"));
        }
        let dec = age::Decryptor::new(sealed).map_err(|_| BundleError::Corrupt)?;
        let mut reader = dec
            .decrypt(std::iter::once(identity as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => BundleError::NotAddressedToMe,
                _ => BundleError::Corrupt,
            })?;
        let mut plain = Zeroizing::new(Vec::with_capacity(PLAINTEXT_LEN));
        reader
            .by_ref()
            .take(PLAINTEXT_LEN as u64 + 1)
            .read_to_end(&mut plain)
            .map_err(|_| BundleError::Corrupt)?;
        Self::parse(&plain)
    }

    /// Parses the plaintext of a bundle.
    pub fn parse(plain: &[u8]) -> Result<Self, BundleError> {
        use BundleError::Malformed;
        let mut r = Reader::new(plain);
        if r.take(8).map_err(|_| Malformed("too short"))? != MAGIC {
            return Err(Malformed("not an owner key bundle"));
        }
        let owner = OwnerId::from_bytes(r.array().map_err(|_| Malformed("truncated"))?);
        let seed = Zeroizing::new(r.array::<32>().map_err(|_| Malformed("truncated"))?);
        let recovery_tag = r.array().map_err(|_| Malformed("truncated"))?;
        if !r.is_empty() {
            return Err(Malformed("trailing bytes"));
        }
        Ok(Self {
            owner,
            key: OwnerSigningKey::from_seed(&seed),
            recovery_tag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewer_and_recovery_open_it_others_cannot() {
        let owner = OwnerId::random();
        let key = OwnerSigningKey::generate();
        let recovery = RecoveryKey::generate();
        let phone = ViewerIdentity::generate();
        let bundle = OwnerKeyBundle::new(owner, key.clone(), &recovery);
        let sealed = bundle
            .seal(&[phone.to_public(), recovery.to_public()])
            .unwrap();

        let b = OwnerKeyBundle::open_as_viewer(&sealed, &phone, owner, &key.public()).unwrap();
        assert_eq!(b.signing_key().public(), key.public());
        let b = OwnerKeyBundle::open_with_recovery(&sealed, &recovery).unwrap();
        assert_eq!(b.owner(), owner);

        let stranger = ViewerIdentity::generate();
        assert!(matches!(
            OwnerKeyBundle::open_as_viewer(&sealed, &stranger, owner, &key.public()),
            Err(BundleError::NotAddressedToMe)
        ));
    }

    #[test]
    fn forged_bundle_to_public_keys_is_refused() {
        // A server knows the owner's public viewer and recovery recipients and
        // seals its own signing key to them.
        let owner = OwnerId::random();
        let real = OwnerSigningKey::generate();
        let recovery = RecoveryKey::generate();
        let phone = ViewerIdentity::generate();
        let fake_recovery = RecoveryKey::generate();
        let forged = OwnerKeyBundle::new(owner, OwnerSigningKey::generate(), &fake_recovery)
            .seal(&[phone.to_public(), recovery.to_public()])
            .unwrap();
        assert!(matches!(
            OwnerKeyBundle::open_as_viewer(&forged, &phone, owner, &real.public()),
            Err(BundleError::WrongOwnerKey)
        ));
        assert!(matches!(
            OwnerKeyBundle::open_with_recovery(&forged, &recovery),
            Err(BundleError::WrongOwnerKey)
        ));
    }
}
