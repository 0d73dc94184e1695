//! The recipient set of a camera, signed by the owner key (S4).
//!
//! Byte layout (little-endian), specified in `docs/FORMAT.md`:
//!
//! ```text
//! magic      8  "SCRSET\0\1"
//! owner     16
//! camera    16
//! epoch      8  u64, grows with every change
//! issued_at  8  u64 unix seconds
//! count      2  u16, 1..=MAX_RECIPIENTS
//! count × { len 1, age recipient text `age1…` }
//! signature 64  Ed25519 by the owner key over DOMAIN ‖ all bytes above
//! ```

use std::collections::HashSet;

use crate::codec::{Reader, Writer};
use crate::{
    CameraId, OwnerId, OwnerPublicKey, OwnerSigningKey, RecipientSetError, ViewerRecipient,
};

const MAGIC: &[u8; 8] = b"SCRSET\x00\x01";
const DOMAIN: &[u8] = b"sealcam recipient set v1\x00";
const SIG_LEN: usize = 64;

/// The most recipients one set may name.
pub const MAX_RECIPIENTS: usize = 64;

/// Who may open what a camera records from now on: `{owner, camera, epoch,
/// recipients, issued_at}`. Build it, then [`sign`](Self::sign) it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientSet {
    owner: OwnerId,
    camera: CameraId,
    epoch: u64,
    issued_at: u64,
    recipients: Vec<ViewerRecipient>,
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

    fn body_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(60 + 63 * self.recipients.len() + SIG_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.owner.to_bytes());
        out.extend_from_slice(&self.camera.to_bytes());
        out.put_u64(self.epoch);
        out.put_u64(self.issued_at);
        // The constructor bounds the count by MAX_RECIPIENTS, which fits a u16.
        out.put_u16(self.recipients.len() as u16);
        for r in &self.recipients {
            // An age X25519 recipient is 62 ASCII characters, well under 255.
            let _ = out.put_bytes8(r.to_string().as_bytes());
        }
        out
    }

    /// Signs the set with the owner key.
    pub fn sign(&self, key: &OwnerSigningKey) -> SignedRecipientSet {
        let mut bytes = self.body_bytes();
        let sig = key.sign_raw(&signed_message(&bytes));
        bytes.extend_from_slice(&sig);
        SignedRecipientSet {
            set: self.clone(),
            bytes,
        }
    }
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + body.len());
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(body);
    m
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

impl SignedRecipientSet {
    /// Parses the canonical bytes. Untrusted input: every length is checked,
    /// trailing bytes are refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecipientSetError> {
        use RecipientSetError::Malformed;
        let mut r = Reader::new(bytes);
        let magic = r.array::<8>().map_err(|_| Malformed("too short"))?;
        if magic[..7] != MAGIC[..7] {
            return Err(Malformed("not a recipient set"));
        }
        if magic[7] != MAGIC[7] {
            return Err(RecipientSetError::UnsupportedVersion(magic[7]));
        }
        let short = |_| Malformed("truncated");
        let owner = OwnerId::from_bytes(r.array().map_err(short)?);
        let camera = CameraId::from_bytes(r.array().map_err(short)?);
        let epoch = r.u64().map_err(short)?;
        let issued_at = r.u64().map_err(short)?;
        let count = r.u16().map_err(short)? as usize;
        if count == 0 || count > MAX_RECIPIENTS {
            return Err(RecipientSetError::InvalidRecipients(
                "recipient count out of range",
            ));
        }
        let mut recipients = Vec::with_capacity(count);
        for _ in 0..count {
            let text = r.bytes8().map_err(short)?;
            let text = std::str::from_utf8(text).map_err(|_| Malformed("recipient is not text"))?;
            recipients.push(text.parse().map_err(|_| Malformed("invalid recipient"))?);
        }
        if r.remaining() < SIG_LEN {
            return Err(Malformed("signature missing or truncated"));
        }
        let _ = r.take(SIG_LEN);
        if !r.is_empty() {
            return Err(Malformed("trailing bytes"));
        }
        check_recipients(&recipients)?;
        Ok(Self {
            set: RecipientSet {
                owner,
                camera,
                epoch,
                issued_at,
                recipients,
            },
            bytes: bytes.to_vec(),
        })
    }

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

/// A recipient set whose signature verified under the pinned owner key. Only
/// this type can be sealed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRecipientSet {
    signed: SignedRecipientSet,
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

    /// Decides whether `offered` may replace `self` (the last good set): its
    /// epoch must not go back, and a different set may not reuse an epoch.
    pub fn accept_successor(
        &self,
        offered: &VerifiedRecipientSet,
    ) -> Result<Acceptance, RecipientSetError> {
        let (accepted, epoch) = (self.epoch(), offered.epoch());
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
        Ok(Acceptance::Newer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ViewerIdentity;

    fn fixture() -> (OwnerSigningKey, RecipientSetPin, Vec<ViewerRecipient>) {
        let key = OwnerSigningKey::generate();
        let pin = RecipientSetPin {
            owner: OwnerId::random(),
            camera: CameraId::random(),
            owner_key: key.public(),
        };
        let rs = (0..3)
            .map(|_| ViewerIdentity::generate().to_public())
            .collect();
        (key, pin, rs)
    }

    #[test]
    fn round_trip_and_verify() {
        let (key, pin, rs) = fixture();
        let signed = RecipientSet::new(pin.owner, pin.camera, 7, rs.clone())
            .unwrap()
            .sign(&key);
        let parsed = SignedRecipientSet::from_bytes(signed.as_bytes()).unwrap();
        let v = parsed.verify(&pin).unwrap();
        assert_eq!(v.epoch(), 7);
        assert_eq!(v.recipients(), &rs[..]);
    }

    #[test]
    fn refuses_other_signer_injection_rollback_and_stripping() {
        let (key, pin, rs) = fixture();
        let good = RecipientSet::new(pin.owner, pin.camera, 5, rs.clone())
            .unwrap()
            .sign(&key);
        let good = SignedRecipientSet::from_bytes(good.as_bytes())
            .unwrap()
            .verify(&pin)
            .unwrap();

        // A server signs a set with its own key.
        let evil = OwnerSigningKey::generate();
        let forged = RecipientSet::new(pin.owner, pin.camera, 6, rs.clone())
            .unwrap()
            .sign(&evil);
        assert_eq!(
            forged.verify(&pin),
            Err(RecipientSetError::NotSignedByPinnedOwner)
        );

        // A server injects a recipient into a genuine set: the signature breaks.
        let mut injected = good.as_bytes().to_vec();
        let extra = ViewerIdentity::generate().to_public().to_string();
        let count_at = 8 + 16 + 16 + 8 + 8;
        injected[count_at] += 1;
        let sig = injected.split_off(injected.len() - 64);
        injected.push(extra.len() as u8);
        injected.extend_from_slice(extra.as_bytes());
        injected.extend_from_slice(&sig);
        let parsed = SignedRecipientSet::from_bytes(&injected).unwrap();
        assert_eq!(parsed.unverified().recipients().len(), 4);
        assert_eq!(
            parsed.verify(&pin),
            Err(RecipientSetError::NotSignedByPinnedOwner)
        );

        // A replayed older set.
        let old = RecipientSet::new(pin.owner, pin.camera, 4, rs.clone())
            .unwrap()
            .sign(&key);
        let old = SignedRecipientSet::from_bytes(old.as_bytes())
            .unwrap()
            .verify(&pin)
            .unwrap();
        assert_eq!(
            good.accept_successor(&old),
            Err(RecipientSetError::RolledBack {
                accepted: 5,
                offered: 4
            })
        );
        assert_eq!(good.accept_successor(&good), Ok(Acceptance::Unchanged));

        // Stripped signature.
        let stripped = &good.as_bytes()[..good.as_bytes().len() - 64];
        assert!(matches!(
            SignedRecipientSet::from_bytes(stripped),
            Err(RecipientSetError::Malformed(_))
        ));
    }

    #[test]
    fn refuses_other_camera() {
        let (key, pin, rs) = fixture();
        let other = RecipientSet::new(pin.owner, CameraId::random(), 1, rs)
            .unwrap()
            .sign(&key);
        assert_eq!(other.verify(&pin), Err(RecipientSetError::WrongCamera));
    }

    #[test]
    fn refuses_duplicates_and_empty() {
        let (_, pin, rs) = fixture();
        assert!(RecipientSet::new(pin.owner, pin.camera, 1, vec![]).is_err());
        assert!(
            RecipientSet::new(pin.owner, pin.camera, 1, vec![rs[0].clone(), rs[0].clone()])
                .is_err()
        );
    }
}
