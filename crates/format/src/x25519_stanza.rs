//! The age X25519 recipient stanza, unwrapped by sealcam itself
//! (<https://c2sp.org/age#x25519-recipient-stanza>), so that a viewer's
//! public key is computed once, not once per stanza tried, and so that the
//! stanzas can be tried in the order a slot hint gives
//! ([`sealcam_keys::SlotHintKey`]). Sealing still uses the age crate's
//! recipient; the C2SP vectors run through both unwrappers.

use age_core::format::{FileKey, Stanza, FILE_KEY_BYTES};
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use sealcam_keys::ViewerIdentity;
use zeroize::Zeroizing;

use crate::age_header::hkdf32;
use crate::OpenError;

/// The stanza type.
pub(crate) const TAG: &str = "X25519";
const LABEL: &[u8] = b"age-encryption.org/v1/X25519";
/// A wrapped file key: 16 bytes and a 16-byte Poly1305 tag.
const BODY: usize = 32;

/// An X25519 stanza whose form was checked: its share and body.
pub(crate) struct X25519Stanza<'a> {
    share: [u8; 32],
    body: &'a [u8],
}

const INVALID: OpenError = OpenError::Header("invalid recipient stanza");

impl<'a> X25519Stanza<'a> {
    /// `None` for a stanza of another type; an error for an X25519 stanza
    /// that is not exactly one canonical 32-byte share and a 32-byte body
    /// (checked before any decryption: partitioning oracles).
    pub(crate) fn parse(s: &'a Stanza) -> Option<Result<Self, OpenError>> {
        if s.tag != TAG {
            return None;
        }
        let [arg] = &s.args[..] else {
            return Some(Err(INVALID));
        };
        let share =
            crate::age_header::decode_canonical(arg).and_then(|v| <[u8; 32]>::try_from(v).ok());
        Some(match share {
            Some(share) if s.body.len() == BODY => Ok(Self {
                share,
                body: &s.body,
            }),
            _ => Err(INVALID),
        })
    }

    /// The file key when this stanza wraps it to `id`; `Ok(None)` when it
    /// does not (it is someone else's, or unused); an error for a share
    /// that gives an all-zero secret, which the spec says to refuse.
    pub(crate) fn unwrap(&self, id: &ViewerIdentity) -> Result<Option<FileKey>, OpenError> {
        let shared = id.x25519(&self.share).ok_or(INVALID)?;
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(&self.share);
        salt[32..].copy_from_slice(id.public_bytes());
        let key = Zeroizing::new(hkdf32(&shared[..], &salt, LABEL));
        let aead = ChaCha20Poly1305::new((&*key).into());
        let Ok(plain) = aead.decrypt(&[0u8; 12].into(), self.body) else {
            return Ok(None);
        };
        let plain = Zeroizing::new(plain);
        Ok(Some(FileKey::init_with_mut(
            |k: &mut [u8; FILE_KEY_BYTES]| k.copy_from_slice(&plain[..]),
        )))
    }
}
