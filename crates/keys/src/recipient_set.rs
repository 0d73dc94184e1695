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

use std::collections::HashSet;

use crate::codec::{Reader, Writer};
use crate::{
    CameraId, DevicePublicKey, OwnerId, OwnerKeyState, OwnerPublicKey, OwnerSigningKey,
    RecipientSetError, ViewerRecipient,
};

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

/// What a version-2 set binds beyond its recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetBinding {
    /// The camera's device key, pinned by the owner at confirmation.
    pub device_key: DevicePublicKey,
    /// When the set stops being valid (unix seconds).
    pub expires_at: u64,
    /// `(reset, generation)` of the owner key that signs the set.
    pub key_position: (u64, u64),
    /// The recovery key's recipient (a camera past expiry seals to it alone).
    pub recovery: ViewerRecipient,
}

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

    /// A version-2 set (what owner devices publish): bound to the camera's
    /// device key and to the signing owner key's place in the key log. The
    /// recovery recipient must be one of `recipients`.
    pub fn bound(
        owner: OwnerId,
        camera: CameraId,
        epoch: u64,
        issued_at: u64,
        recipients: Vec<ViewerRecipient>,
        binding: SetBinding,
    ) -> Result<Self, RecipientSetError> {
        check_recipients(&recipients)?;
        if !recipients.contains(&binding.recovery) {
            return Err(RecipientSetError::InvalidRecipients(
                "the recovery key is not a recipient",
            ));
        }
        Ok(Self {
            owner,
            camera,
            epoch,
            issued_at,
            recipients,
            binding: Some(binding),
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

    fn body_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(200 + 63 * self.recipients.len() + SIG_LEN);
        out.extend_from_slice(if self.binding.is_some() {
            MAGIC_V2
        } else {
            MAGIC
        });
        out.extend_from_slice(&self.owner.to_bytes());
        out.extend_from_slice(&self.camera.to_bytes());
        if let Some(b) = &self.binding {
            out.extend_from_slice(&b.device_key.to_bytes());
        }
        out.put_u64(self.epoch);
        out.put_u64(self.issued_at);
        if let Some(b) = &self.binding {
            out.put_u64(b.expires_at);
            out.put_u64(b.key_position.0);
            out.put_u64(b.key_position.1);
            let _ = out.put_bytes8(b.recovery.to_string().as_bytes());
        }
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
    let domain = if body.starts_with(MAGIC_V2) {
        DOMAIN_V2
    } else {
        DOMAIN
    };
    let mut m = Vec::with_capacity(domain.len() + body.len());
    m.extend_from_slice(domain);
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
        let v2 = match magic[7] {
            1 => false,
            2 => true,
            v => return Err(RecipientSetError::UnsupportedVersion(v)),
        };
        let short = |_| Malformed("truncated");
        let owner = OwnerId::from_bytes(r.array().map_err(short)?);
        let camera = CameraId::from_bytes(r.array().map_err(short)?);
        let device_key = if v2 {
            Some(
                DevicePublicKey::from_bytes(&r.array().map_err(short)?)
                    .map_err(|_| Malformed("invalid device key"))?,
            )
        } else {
            None
        };
        let epoch = r.u64().map_err(short)?;
        let issued_at = r.u64().map_err(short)?;
        let mut binding = None;
        if let Some(device_key) = device_key {
            let expires_at = r.u64().map_err(short)?;
            let key_position = (r.u64().map_err(short)?, r.u64().map_err(short)?);
            let text = r.bytes8().map_err(short)?;
            let text = std::str::from_utf8(text).map_err(|_| Malformed("recipient is not text"))?;
            let recovery = text.parse().map_err(|_| Malformed("invalid recipient"))?;
            binding = Some(SetBinding {
                device_key,
                expires_at,
                key_position,
                recovery,
            });
        }
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
        if let Some(b) = &binding {
            if !recipients.contains(&b.recovery) {
                return Err(RecipientSetError::InvalidRecipients(
                    "the recovery key is not a recipient",
                ));
            }
        }
        Ok(Self {
            set: RecipientSet {
                owner,
                camera,
                epoch,
                issued_at,
                recipients,
                binding,
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
    fn camera_checks_of_v2_sets() {
        use crate::{DeviceKey, OwnerKeyState, RecoveryKey};
        let owner_key = OwnerSigningKey::generate();
        let recovery = RecoveryKey::generate();
        let device = DeviceKey::generate().public();
        let owner = OwnerId::random();
        let keys = OwnerKeyState::new(
            owner,
            owner_key.public(),
            Some(recovery.root_key().public()),
            1,
            3,
        );
        let pin = CameraPin {
            camera: CameraId::random(),
            device_key: device,
            keys,
            accept_v1: false,
        };
        let phone = ViewerIdentity::generate().to_public();
        let make = |epoch: u64, device_key, key_position, expires_at, signer: &OwnerSigningKey| {
            RecipientSet::bound(
                owner,
                pin.camera,
                epoch,
                100,
                vec![phone.clone(), recovery.to_public()],
                SetBinding {
                    device_key,
                    expires_at,
                    key_position,
                    recovery: recovery.to_public(),
                },
            )
            .unwrap()
            .sign(signer)
        };
        let reparse = |s: SignedRecipientSet| SignedRecipientSet::from_bytes(s.as_bytes()).unwrap();
        let good = reparse(make(2, device, (1, 3), 1_000, &owner_key))
            .verify_for_camera(&pin, 500)
            .unwrap();
        assert_eq!(good.sealing_recipients(500).len(), 2);
        assert_eq!(good.sealing_recipients(1_001), &[recovery.to_public()]);
        assert_eq!(
            reparse(make(
                2,
                DeviceKey::generate().public(),
                (1, 3),
                1_000,
                &owner_key
            ))
            .verify_for_camera(&pin, 500),
            Err(RecipientSetError::WrongDevice)
        );
        assert_eq!(
            reparse(make(2, device, (1, 2), 1_000, &owner_key)).verify_for_camera(&pin, 500),
            Err(RecipientSetError::OtherKeyGeneration {
                claimed: (1, 2),
                held: (1, 3)
            })
        );
        assert_eq!(
            reparse(make(2, device, (1, 3), 1_000, &OwnerSigningKey::generate()))
                .verify_for_camera(&pin, 500),
            Err(RecipientSetError::NotSignedByPinnedOwner)
        );
        assert_eq!(
            reparse(make(2, device, (1, 3), 400, &owner_key)).verify_for_camera(&pin, 500),
            Err(RecipientSetError::Expired { expires_at: 400 })
        );
        let v1 = RecipientSet::new(owner, pin.camera, 3, vec![phone.clone()])
            .unwrap()
            .sign(&owner_key);
        assert_eq!(
            reparse(v1.clone()).verify_for_camera(&pin, 500),
            Err(RecipientSetError::Legacy)
        );
        let legacy_pin = CameraPin {
            accept_v1: true,
            ..pin
        };
        assert!(reparse(v1).verify_for_camera(&legacy_pin, 500).is_ok());
        let far = reparse(make(u64::MAX, device, (1, 3), 1_000, &owner_key))
            .verify_for_camera(&pin, 500)
            .unwrap();
        assert!(matches!(
            good.accept_successor(&far),
            Err(RecipientSetError::EpochJump { .. })
        ));
        assert!(VerifiedRecipientSet::accept_first(&far).is_err());
        assert!(VerifiedRecipientSet::accept_first(&good).is_ok());

        // After the owner key moved on (a reset, say), a set of the new key
        // replaces one a thief pushed to a huge epoch with the old key.
        let next_key = OwnerSigningKey::generate();
        let moved = CameraPin {
            keys: OwnerKeyState {
                owner_key: next_key.public(),
                reset: 2,
                generation: 0,
                ..pin.keys
            },
            ..pin
        };
        let pushed = reparse(make(1 << 40, device, (1, 3), 1_000, &owner_key))
            .verify_for_camera(&pin, 500)
            .unwrap();
        let after_reset = reparse(make(7, device, (2, 0), 1_000, &next_key))
            .verify_for_camera(&moved, 500)
            .unwrap();
        assert_eq!(pushed.accept_successor(&after_reset), Ok(Acceptance::Newer));
        assert!(matches!(
            after_reset.accept_successor(&pushed),
            Err(RecipientSetError::RolledBack { .. })
        ));
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
