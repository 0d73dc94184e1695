//! The owner record: who the owner's viewers and household members are, and
//! the device key pinned for every camera (docs/PROTOCOL.md "The owner record").
//!
//! It is how a newly linked or recovered device learns the pinned device keys
//! without trusting the server. The server keeps it as an opaque blob
//! (`/v1/account/viewers`): a standard age file sealed to every owner viewer
//! and the recovery key, whose plaintext is
//!
//! ```text
//! magic      8  "SCOREC\0\1"
//! signature 64  Ed25519 by the owner key over DOMAIN ‖ json
//! json       …  the record below
//! ```
//!
//! A device refuses a record whose signature does not verify under the owner
//! key it pinned (or that the recovery key's bundle holds), that names
//! another owner, or whose `version` is lower than the last it saw.

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};

use ed25519_dalek::Signer as _;
use sealcam_keys::{
    CameraId, DevicePublicKey, OwnerId, OwnerPublicKey, OwnerSigningKey, ViewerIdentity,
    ViewerRecipient,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{ClientError, Result};

const MAGIC: &[u8; 8] = b"SCOREC\x00\x01";
const DOMAIN: &[u8] = b"sealcam owner record v1\x00";
const MAX_SEALED: usize = 1024 * 1024;

/// One of the owner's own viewer devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerEntry {
    /// The viewer's id (shown by `sealcam viewers list`).
    pub id: Uuid,
    /// Its device id on the server, once it enrolled.
    #[serde(default)]
    pub device_id: Option<Uuid>,
    /// Its name.
    pub name: String,
    /// Its viewer key.
    pub recipient: ViewerRecipient,
    /// When it was added (unix seconds).
    pub added_at: i64,
}

/// A household member: another account the owner shares cameras with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member's account id.
    pub account_id: Uuid,
    /// A name for display.
    pub name: String,
    /// The member's viewer key.
    pub recipient: ViewerRecipient,
    /// When it was added (unix seconds).
    pub added_at: i64,
}

/// A camera the owner paired: its pinned device key (S5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraEntry {
    /// The camera id.
    pub camera_id: CameraId,
    /// The name given at `pair`.
    pub name: String,
    /// The device key pinned at confirmation.
    pub device_key: DevicePublicKey,
    /// When it was confirmed (unix seconds).
    pub paired_at: i64,
    /// Members (account ids) it is shared with.
    pub shared_with: Vec<Uuid>,
    /// The epoch of the last recipient set published for it.
    pub epoch: u64,
}

/// A camera another owner shared with this account, pinned from their share code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedCamera {
    /// The camera id.
    pub camera_id: CameraId,
    /// Its owner.
    pub owner: OwnerId,
    /// Its owner's signing key.
    pub owner_key: OwnerPublicKey,
    /// Its device key.
    pub device_key: DevicePublicKey,
    /// The name its owner gave it.
    pub name: String,
    /// When this account accepted it.
    pub accepted_at: i64,
}

/// The owner record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRecord {
    /// Grows with every change; a device refuses a lower one.
    pub version: u64,
    /// The owner.
    pub owner: OwnerId,
    /// The recovery key's public half: a recipient of every set and of the bundle.
    pub recovery: ViewerRecipient,
    /// The owner's viewer devices.
    pub viewers: Vec<ViewerEntry>,
    /// Household members.
    pub members: Vec<Member>,
    /// Paired cameras.
    pub cameras: Vec<CameraEntry>,
    /// Cameras other owners shared with this account.
    #[serde(default)]
    pub shared_with_me: Vec<SharedCamera>,
}

impl OwnerRecord {
    /// A first record.
    pub fn new(owner: OwnerId, recovery: ViewerRecipient, first: ViewerEntry) -> Self {
        Self {
            version: 1,
            owner,
            recovery,
            viewers: vec![first],
            members: Vec::new(),
            cameras: Vec::new(),
            shared_with_me: Vec::new(),
        }
    }

    /// Who the bundle and the record are sealed to: every viewer and the recovery key.
    pub fn owner_recipients(&self) -> Vec<ViewerRecipient> {
        let mut out: Vec<ViewerRecipient> = Vec::new();
        for r in self
            .viewers
            .iter()
            .map(|v| &v.recipient)
            .chain(std::iter::once(&self.recovery))
        {
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        out
    }

    /// The recipients of a camera's set: the owner recipients and the members
    /// it is shared with.
    pub fn camera_recipients(&self, camera: &CameraEntry) -> Vec<ViewerRecipient> {
        let mut out = self.owner_recipients();
        let shared: BTreeSet<&Uuid> = camera.shared_with.iter().collect();
        for m in self
            .members
            .iter()
            .filter(|m| shared.contains(&m.account_id))
        {
            if !out.contains(&m.recipient) {
                out.push(m.recipient.clone());
            }
        }
        out
    }

    /// A short fingerprint of the record's content, for people (and link
    /// approvals) to compare: SHA-256 of its JSON, first 10 bytes, base32,
    /// grouped like key fingerprints.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        let json = serde_json::to_vec(self).unwrap_or_default();
        let digest = sha2::Sha256::digest(&json);
        let b32 = data_encoding::BASE32_NOPAD.encode(&digest[..10]);
        b32.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// Opens a sealed record whose signature may be by any of `keys` (the
    /// owner keys a recovering device verified through the key log, newest
    /// first).
    pub fn open_under_any(
        sealed: &[u8],
        identity: &ViewerIdentity,
        owner: OwnerId,
        keys: &[OwnerPublicKey],
    ) -> Result<Self> {
        let mut last = None;
        for key in keys {
            match Self::open(sealed, identity, owner, key) {
                Ok(r) => return Ok(r),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Untrusted {
            what: "owner record",
            reason: "no owner key to check it with".into(),
        }))
    }

    /// The camera entry.
    pub fn camera(&self, id: CameraId) -> Option<&CameraEntry> {
        self.cameras.iter().find(|c| c.camera_id == id)
    }

    /// The camera entry, mutable.
    pub fn camera_mut(&mut self, id: CameraId) -> Option<&mut CameraEntry> {
        self.cameras.iter_mut().find(|c| c.camera_id == id)
    }

    /// Signs and seals the record to [`owner_recipients`](Self::owner_recipients).
    pub fn seal(&self, key: &OwnerSigningKey) -> Result<Vec<u8>> {
        let json = serde_json::to_vec(self).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let signer = ed25519_dalek::SigningKey::from_bytes(&key.to_seed());
        let mut message = Vec::with_capacity(DOMAIN.len() + json.len());
        message.extend_from_slice(DOMAIN);
        message.extend_from_slice(&json);
        let sig = signer.sign(&message).to_bytes();
        let mut plain = Zeroizing::new(Vec::with_capacity(8 + 64 + json.len()));
        plain.extend_from_slice(MAGIC);
        plain.extend_from_slice(&sig);
        plain.extend_from_slice(&json);

        let recipients = self.owner_recipients();
        let seal_err = |_| ClientError::Protocol("sealing the owner record failed".into());
        let enc = age::Encryptor::with_recipients(
            recipients.iter().map(|r| r.as_age() as &dyn age::Recipient),
        )
        .map_err(|_| ClientError::Protocol("sealing the owner record failed".into()))?;
        let mut out = Vec::with_capacity(plain.len() + 200 * recipients.len());
        let mut w = enc.wrap_output(&mut out).map_err(seal_err)?;
        w.write_all(&plain).map_err(seal_err)?;
        w.finish().map_err(seal_err)?;
        Ok(out)
    }

    /// Opens a sealed record with `identity` and checks the owner signature
    /// and the owner it names. Untrusted input.
    pub fn open(
        sealed: &[u8],
        identity: &ViewerIdentity,
        owner: OwnerId,
        owner_key: &OwnerPublicKey,
    ) -> Result<Self> {
        let untrusted = |reason: &str| ClientError::Untrusted {
            what: "owner record",
            reason: reason.to_owned(),
        };
        if sealed.len() > MAX_SEALED {
            return Err(untrusted("too large"));
        }
        let dec = age::Decryptor::new(sealed).map_err(|_| untrusted("not an age file"))?;
        let mut reader = dec
            .decrypt(std::iter::once(identity.as_age() as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => {
                    untrusted("it is not sealed to this device's key (was this device revoked?)")
                }
                _ => untrusted("it does not decrypt"),
            })?;
        let mut plain = Zeroizing::new(Vec::new());
        reader
            .by_ref()
            .take(MAX_SEALED as u64)
            .read_to_end(&mut plain)
            .map_err(|_| untrusted("it does not decrypt"))?;
        if plain.len() < 72 || &plain[..8] != MAGIC {
            return Err(untrusted("not an owner record"));
        }
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&plain[8..72]);
        let json = &plain[72..];
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&owner_key.to_bytes())
            .map_err(|_| untrusted("the pinned owner key is invalid"))?;
        let mut message = Vec::with_capacity(DOMAIN.len() + json.len());
        message.extend_from_slice(DOMAIN);
        message.extend_from_slice(json);
        vk.verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&sig))
            .map_err(|_| untrusted("its signature does not verify under the owner key"))?;
        let record: Self =
            serde_json::from_slice(json).map_err(|e| untrusted(&format!("malformed: {e}")))?;
        if record.owner != owner {
            return Err(untrusted("it names another owner"));
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(viewer: &ViewerIdentity, recovery: &ViewerIdentity) -> OwnerRecord {
        OwnerRecord::new(
            OwnerId::random(),
            recovery.to_public(),
            ViewerEntry {
                id: Uuid::new_v4(),
                device_id: None,
                name: "laptop".into(),
                recipient: viewer.to_public(),
                added_at: 1,
            },
        )
    }

    #[test]
    fn seal_open_round_trip_for_viewer_and_recovery() {
        let (v, r) = (ViewerIdentity::generate(), ViewerIdentity::generate());
        let key = OwnerSigningKey::generate();
        let rec = record(&v, &r);
        let sealed = rec.seal(&key).unwrap();
        for id in [&v, &r] {
            let back = OwnerRecord::open(&sealed, id, rec.owner, &key.public()).unwrap();
            assert_eq!(back, rec);
        }
    }

    #[test]
    fn forged_or_foreign_records_are_refused() {
        let (v, r) = (ViewerIdentity::generate(), ViewerIdentity::generate());
        let key = OwnerSigningKey::generate();
        let rec = record(&v, &r);
        // Signed by another key (a server that knows the public viewer keys).
        let forged = rec.seal(&OwnerSigningKey::generate()).unwrap();
        assert!(matches!(
            OwnerRecord::open(&forged, &v, rec.owner, &key.public()),
            Err(ClientError::Untrusted { .. })
        ));
        // Another owner.
        let sealed = rec.seal(&key).unwrap();
        assert!(OwnerRecord::open(&sealed, &v, OwnerId::random(), &key.public()).is_err());
        // Not addressed to this device.
        assert!(OwnerRecord::open(
            &sealed,
            &ViewerIdentity::generate(),
            rec.owner,
            &key.public()
        )
        .is_err());
    }

    #[test]
    fn camera_recipients_include_shared_members_only() {
        let (v, r, m) = (
            ViewerIdentity::generate(),
            ViewerIdentity::generate(),
            ViewerIdentity::generate(),
        );
        let mut rec = record(&v, &r);
        let member = Uuid::new_v4();
        rec.members.push(Member {
            account_id: member,
            name: "kid".into(),
            recipient: m.to_public(),
            added_at: 2,
        });
        let mut cam = CameraEntry {
            camera_id: CameraId::random(),
            name: "porch".into(),
            device_key: sealcam_keys::DeviceKey::generate().public(),
            paired_at: 3,
            shared_with: vec![],
            epoch: 1,
        };
        assert_eq!(rec.camera_recipients(&cam).len(), 2);
        cam.shared_with.push(member);
        assert!(rec.camera_recipients(&cam).contains(&m.to_public()));
    }
}
