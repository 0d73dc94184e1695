//! A camera's *set key* and its sealed recipient sets (S9).
//!
//! A recipient set lists every viewer, member and recovery public key of a
//! camera. Stored in the clear, it would show the server who can see each
//! camera and link a member's key across households. So a camera makes an
//! X25519 identity of its own, its *set key*, and signs its public half
//! with its device key ([`SetKeyStatement`]); the owner checks that
//! signature under the device key pinned at pairing, and from then on seals
//! each signed set to the set key and the owner's own devices
//! ([`seal_set`]). The server stores ciphertext; S4 is unchanged, because the
//! camera still verifies the owner's signature inside.
//!
//! A server that swaps the set key cannot sign for the camera's device key;
//! one that withholds it makes the owner publish in the clear, as before
//! this version (shown as such by `sealcam cameras list`).

use zeroize::Zeroizing;

use crate::{
    CameraId, DeviceKey, DevicePublicKey, DeviceSignature, OwnerId, RecipientSetError,
    SignedRecipientSet, ViewerIdentity, ViewerRecipient,
};

const DOMAIN: &[u8] = b"sealcam camera set key v1\x00";
/// The start of every age file (a sealed set document).
const AGE_INTRO: &[u8] = b"age-encryption.org/v1\n";

/// A camera's set key, signed by its device key for one owner and camera.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetKeyStatement {
    recipient: ViewerRecipient,
    signature: DeviceSignature,
}

fn message(owner: OwnerId, camera: CameraId, recipient: &ViewerRecipient) -> Vec<u8> {
    let text = recipient.to_string();
    let mut m = Vec::with_capacity(DOMAIN.len() + 33 + text.len());
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(&owner.to_bytes());
    m.extend_from_slice(&camera.to_bytes());
    m.push(text.len() as u8);
    m.extend_from_slice(text.as_bytes());
    m
}

impl SetKeyStatement {
    /// Signs the public half of `set_key` for `owner` and `camera` (on the camera).
    pub fn sign(
        owner: OwnerId,
        camera: CameraId,
        set_key: &ViewerIdentity,
        device: &DeviceKey,
    ) -> Self {
        let recipient = set_key.to_public();
        let signature = device.sign(&message(owner, camera, &recipient));
        Self {
            recipient,
            signature,
        }
    }

    /// The set key, once the signature verified under the camera's pinned
    /// device key for this owner and camera (on an owner device).
    pub fn verify(
        &self,
        owner: OwnerId,
        camera: CameraId,
        device: &DevicePublicKey,
    ) -> Result<&ViewerRecipient, RecipientSetError> {
        if device.verify(&message(owner, camera, &self.recipient), &self.signature) {
            Ok(&self.recipient)
        } else {
            Err(RecipientSetError::Malformed(
                "the camera's set key is not signed by its pinned device key",
            ))
        }
    }

    /// Text form: `age1… <signature, standard base64>`.
    pub fn to_text(&self) -> String {
        use base64::Engine;
        format!(
            "{} {}",
            self.recipient,
            base64::engine::general_purpose::STANDARD.encode(self.signature.0)
        )
    }

    /// Parses [`to_text`](Self::to_text). Untrusted input.
    pub fn from_text(text: &str) -> Result<Self, RecipientSetError> {
        use base64::Engine;
        const MALFORMED: RecipientSetError = RecipientSetError::Malformed("malformed set key");
        let (recipient, sig) = text.trim().split_once(' ').ok_or(MALFORMED)?;
        let recipient: ViewerRecipient = recipient.parse().map_err(|_| MALFORMED)?;
        let sig = base64::engine::general_purpose::STANDARD
            .decode(sig)
            .ok()
            .and_then(|s| <[u8; 64]>::try_from(s).ok())
            .ok_or(MALFORMED)?;
        Ok(Self {
            recipient,
            signature: DeviceSignature(sig),
        })
    }
}

/// Seals a signed set to the camera's set key and `owner_devices` (the
/// owner's viewers and recovery key, so owner devices can check what the
/// server holds), padded to 16 recipient slots ([`crate::sealed`]).
pub fn seal_set(
    set: &SignedRecipientSet,
    set_key: &ViewerRecipient,
    owner_devices: &[ViewerRecipient],
) -> Option<Vec<u8>> {
    let mut recipients = vec![set_key.clone()];
    recipients.extend(owner_devices.iter().filter(|r| *r != set_key).cloned());
    crate::sealed::seal_padded(&recipients, set.as_bytes())
}

/// Whether a set document from the server is sealed (an age file) rather
/// than a signed set in the clear (published before S9, or to a camera
/// without a set key).
pub fn is_sealed_set(document: &[u8]) -> bool {
    document.starts_with(AGE_INTRO)
}

/// The signed set inside a set document: decrypted with one of
/// `identities` when sealed, as it is when in the clear. Untrusted input;
/// the caller still verifies the set.
pub fn open_set_document(
    document: &[u8],
    identities: &[&ViewerIdentity],
) -> Result<Zeroizing<Vec<u8>>, RecipientSetError> {
    use std::io::Read;
    if !is_sealed_set(document) {
        return Ok(Zeroizing::new(document.to_vec()));
    }
    let dec = age::Decryptor::new(document)
        .map_err(|_| RecipientSetError::Malformed("the sealed set is not an age file"))?;
    let mut r = dec
        .decrypt(identities.iter().map(|i| i.as_age() as &dyn age::Identity))
        .map_err(|_| RecipientSetError::Malformed("the sealed set does not open with this key"))?;
    let mut out = Zeroizing::new(Vec::new());
    r.by_ref()
        .take(64 * 1024)
        .read_to_end(&mut out)
        .map_err(|_| RecipientSetError::Malformed("the sealed set does not decrypt"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{OwnerSigningKey, RecipientSet};

    #[test]
    fn a_signed_set_key_verifies_only_for_its_camera_and_device() {
        let (owner, camera) = (OwnerId::random(), CameraId::random());
        let device = DeviceKey::generate();
        let set_key = ViewerIdentity::generate();
        let st = SetKeyStatement::sign(owner, camera, &set_key, &device);
        let parsed = SetKeyStatement::from_text(&st.to_text()).unwrap();
        assert_eq!(
            parsed.verify(owner, camera, &device.public()).unwrap(),
            &set_key.to_public()
        );
        assert!(parsed
            .verify(owner, CameraId::random(), &device.public())
            .is_err());
        assert!(parsed
            .verify(owner, camera, &DeviceKey::generate().public())
            .is_err());
        // A server that swaps in its own key cannot sign for the device.
        let swapped = format!(
            "{} {}",
            ViewerIdentity::generate().to_public(),
            st.to_text().split_once(' ').unwrap().1
        );
        let swapped = SetKeyStatement::from_text(&swapped).unwrap();
        assert!(swapped.verify(owner, camera, &device.public()).is_err());
        assert!(SetKeyStatement::from_text("age1 nope").is_err());
    }

    #[test]
    fn a_sealed_set_opens_for_the_camera_and_owner_devices_only() {
        let (owner, camera) = (OwnerId::random(), CameraId::random());
        let key = OwnerSigningKey::generate();
        let (phone, set_key, stranger) = (
            ViewerIdentity::generate(),
            ViewerIdentity::generate(),
            ViewerIdentity::generate(),
        );
        let set = RecipientSet::new(owner, camera, 3, vec![phone.to_public()])
            .unwrap()
            .sign(&key);
        let doc = seal_set(&set, &set_key.to_public(), &[phone.to_public()]).unwrap();
        assert!(is_sealed_set(&doc));
        assert_eq!(crate::sealed::stanza_count(&doc), crate::sealed::SLOTS);
        let needle = phone.to_public().to_string();
        assert!(!doc.windows(needle.len()).any(|w| w == needle.as_bytes()));
        for id in [&set_key, &phone] {
            assert_eq!(&open_set_document(&doc, &[id]).unwrap()[..], set.as_bytes());
        }
        assert!(open_set_document(&doc, &[&stranger]).is_err());
        // A set in the clear (before S9) passes through as it is.
        assert_eq!(
            &open_set_document(set.as_bytes(), &[&stranger]).unwrap()[..],
            set.as_bytes()
        );
    }
}
