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
//! json       …  the record below, compact UTF-8 JSON
//! ```
//!
//! A device refuses a record whose signature does not verify under the owner
//! key it pinned (or that the recovery key's bundle holds), that names
//! another owner, or whose `version` is lower than the last it saw
//! ([`OwnerRecord::check_successor`]). Every refusal is a [`RecordError`]
//! whose text is the reason PROTOCOL.md's check table gives.
//!
//! # Example
//!
//! ```
//! use sealcam_keys::owner_record::{OwnerRecord, ViewerEntry};
//! use sealcam_keys::{OwnerId, OwnerSigningKey, RecoveryKey, ViewerIdentity};
//!
//! let (owner, key) = (OwnerId::random(), OwnerSigningKey::generate());
//! let (laptop, recovery) = (ViewerIdentity::generate(), RecoveryKey::generate());
//! let first = ViewerEntry {
//!     id: uuid::Uuid::new_v4(),
//!     device_id: None,
//!     name: "laptop".into(),
//!     recipient: laptop.to_public(),
//!     added_at: 1_764_374_400,
//! };
//! let record = OwnerRecord::new(owner, recovery.to_public(), first);
//! let sealed = record.seal(&key)?;
//!
//! // Another device, or the same one later: the server's bytes are untrusted.
//! let opened = OwnerRecord::open(&sealed, &laptop, owner, &key.public())?;
//! OwnerRecord::check_successor(&record, &opened)?;
//! assert_eq!(opened.fingerprint(), record.fingerprint());
//! # Ok::<(), sealcam_keys::RecordError>(())
//! ```

use std::collections::BTreeSet;
use std::io::Read as _;

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

pub use crate::error::RecordError;
use crate::{
    CameraId, DevicePublicKey, OwnerId, OwnerPublicKey, OwnerSigningKey, ViewerIdentity,
    ViewerRecipient,
};

const MAGIC: &[u8; 8] = b"SCOREC\x00\x01";
const DOMAIN: &[u8] = b"sealcam owner record v1\x00";
const SIG_LEN: usize = 64;
const HEADER_LEN: usize = MAGIC.len() + SIG_LEN;
/// A sealed record's plaintext is padded with spaces to a multiple of this (S9).
pub const PAD_TO: usize = 4096;

/// The largest sealed record a device opens (1 MiB); larger ones are refused
/// before decrypting.
pub const MAX_SEALED_LEN: usize = 1024 * 1024;

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
    /// When that set expires (unix seconds); owner devices renew it before.
    /// Absent in records written before sets expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The camera's set key, once its statement verified under `device_key`
    /// ([`crate::SetKeyStatement`]): recipient sets are sealed to it (S9).
    /// Absent until the camera published one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_key: Option<ViewerRecipient>,
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

/// The owner record. The field order is the order of the signed JSON: do not
/// reorder (records already stored must still verify and re-serialize alike).
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

fn signed_message(json: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(DOMAIN.len() + json.len());
    message.extend_from_slice(DOMAIN);
    message.extend_from_slice(json);
    message
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

    /// Who the bundle and the record are sealed to: every viewer and the
    /// recovery key, in that order, each once.
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

    /// The camera entry.
    pub fn camera(&self, id: CameraId) -> Option<&CameraEntry> {
        self.cameras.iter().find(|c| c.camera_id == id)
    }

    /// The camera entry, mutable.
    pub fn camera_mut(&mut self, id: CameraId) -> Option<&mut CameraEntry> {
        self.cameras.iter_mut().find(|c| c.camera_id == id)
    }

    /// Signs and seals the record to [`owner_recipients`](Self::owner_recipients).
    ///
    /// S9: the signed JSON is followed by spaces up to a multiple of
    /// [`PAD_TO`] bytes (the signature covers the JSON without them), and the
    /// age header has 16 recipient slots ([`crate::sealed`]), so the stored
    /// size shows neither how many viewers, members and cameras the record
    /// lists nor how long their names are — until it passes 4 KiB.
    pub fn seal(&self, key: &OwnerSigningKey) -> Result<Vec<u8>, RecordError> {
        let json = serde_json::to_vec(self).map_err(|_| RecordError::Seal)?;
        let sig = key.sign_raw(&signed_message(&json));
        let len = (HEADER_LEN + json.len()).div_ceil(PAD_TO) * PAD_TO;
        let mut plain = Zeroizing::new(Vec::with_capacity(len));
        plain.extend_from_slice(MAGIC);
        plain.extend_from_slice(&sig);
        plain.extend_from_slice(&json);
        plain.resize(len, b' ');
        crate::sealed::seal_padded(&self.owner_recipients(), &plain).ok_or(RecordError::Seal)
    }

    /// Opens a sealed record with `identity` and checks the owner signature
    /// and the owner it names. Untrusted input: the checks run in the order
    /// of PROTOCOL.md's table, and the JSON is parsed only once its
    /// signature verified.
    pub fn open(
        sealed: &[u8],
        identity: &ViewerIdentity,
        owner: OwnerId,
        owner_key: &OwnerPublicKey,
    ) -> Result<Self, RecordError> {
        Self::from_plaintext(&Self::decrypt(sealed, identity)?, owner, owner_key)
    }

    /// Opens a sealed record whose signature may be by any of `keys`. The
    /// error is the last key's.
    ///
    /// Pass only keys trusted to sign the *current* record. A retired owner
    /// key is still held by every device that held it, revoked ones
    /// included, and any of them can sign a newer record with it; recovery
    /// therefore trusts a record's viewers under the current key alone
    /// ([`open_signed_by_any`](Self::open_signed_by_any) says which key it
    /// was).
    pub fn open_under_any(
        sealed: &[u8],
        identity: &ViewerIdentity,
        owner: OwnerId,
        keys: &[OwnerPublicKey],
    ) -> Result<Self, RecordError> {
        Self::open_signed_by_any(sealed, identity, owner, keys).map(|(_, r)| r)
    }

    /// Like [`open_under_any`](Self::open_under_any), decrypting once, and
    /// also says which of `keys` signed the record: the index of the first
    /// that verifies it.
    pub fn open_signed_by_any(
        sealed: &[u8],
        identity: &ViewerIdentity,
        owner: OwnerId,
        keys: &[OwnerPublicKey],
    ) -> Result<(usize, Self), RecordError> {
        if keys.is_empty() {
            return Err(RecordError::NoOwnerKey);
        }
        let plain = Self::decrypt(sealed, identity)?;
        let mut last = RecordError::NoOwnerKey;
        for (i, key) in keys.iter().enumerate() {
            match Self::from_plaintext(&plain, owner, key) {
                Ok(r) => return Ok((i, r)),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The plaintext of a sealed record addressed to `identity`.
    fn decrypt(
        sealed: &[u8],
        identity: &ViewerIdentity,
    ) -> Result<Zeroizing<Vec<u8>>, RecordError> {
        if sealed.len() > MAX_SEALED_LEN {
            return Err(RecordError::TooLarge);
        }
        let dec = age::Decryptor::new(sealed).map_err(|_| RecordError::NotAgeFile)?;
        let mut reader = dec
            .decrypt(std::iter::once(identity.as_age() as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => RecordError::NotSealedToMe,
                _ => RecordError::DoesNotDecrypt,
            })?;
        let mut plain = Zeroizing::new(Vec::new());
        reader
            .by_ref()
            .take(MAX_SEALED_LEN as u64)
            .read_to_end(&mut plain)
            .map_err(|_| RecordError::DoesNotDecrypt)?;
        Ok(plain)
    }

    /// Checks the plaintext of a sealed record: the magic, the signature
    /// under `owner_key` over the JSON bytes exactly as stored, then the JSON
    /// and the owner it names. Untrusted input.
    pub fn from_plaintext(
        plain: &[u8],
        owner: OwnerId,
        owner_key: &OwnerPublicKey,
    ) -> Result<Self, RecordError> {
        let Some((magic, rest)) = plain.split_first_chunk::<8>() else {
            return Err(RecordError::NotAnOwnerRecord);
        };
        let Some((sig, json)) = rest.split_first_chunk::<SIG_LEN>() else {
            return Err(RecordError::NotAnOwnerRecord);
        };
        if magic != MAGIC {
            return Err(RecordError::NotAnOwnerRecord);
        }
        // The padding (spaces after the JSON, which never ends in one) is not signed.
        let signed_len = json.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
        let json = &json[..signed_len];
        if !owner_key.verify_raw(&signed_message(json), sig) {
            return Err(RecordError::BadSignature);
        }
        let record: Self =
            serde_json::from_slice(json).map_err(|e| RecordError::Malformed(e.to_string()))?;
        if record.owner != owner {
            return Err(RecordError::OtherOwner);
        }
        Ok(record)
    }

    /// Whether `offered`, read after `cached` (the last record this device
    /// verified or wrote), may replace it: its version must not go back, and
    /// the same version must hold the same content (otherwise a fork: two
    /// records signed for one version).
    pub fn check_successor(cached: &OwnerRecord, offered: &OwnerRecord) -> Result<(), RecordError> {
        if offered.version < cached.version {
            return Err(RecordError::RolledBack {
                from: cached.version,
                to: offered.version,
            });
        }
        if offered.version == cached.version && offered != cached {
            return Err(RecordError::Forked {
                version: offered.version,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeviceKey;

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
        assert_eq!(
            OwnerRecord::open(&forged, &v, rec.owner, &key.public()),
            Err(RecordError::BadSignature)
        );
        let sealed = rec.seal(&key).unwrap();
        assert_eq!(
            OwnerRecord::open(&sealed, &v, OwnerId::random(), &key.public()),
            Err(RecordError::OtherOwner)
        );
        assert_eq!(
            OwnerRecord::open(
                &sealed,
                &ViewerIdentity::generate(),
                rec.owner,
                &key.public()
            ),
            Err(RecordError::NotSealedToMe)
        );
        assert_eq!(
            OwnerRecord::open_under_any(&sealed, &v, rec.owner, &[]),
            Err(RecordError::NoOwnerKey)
        );
        let other = OwnerSigningKey::generate().public();
        assert_eq!(
            OwnerRecord::open_under_any(&sealed, &v, rec.owner, &[other, key.public()]),
            Ok(rec)
        );
    }

    #[test]
    fn reasons_are_the_protocol_table_s() {
        assert_eq!(
            RecordError::NotSealedToMe.to_string(),
            "it is not sealed to this device's key (was this device revoked?)"
        );
        assert_eq!(
            RecordError::BadSignature.to_string(),
            "its signature does not verify under the owner key"
        );
        assert_eq!(
            RecordError::RolledBack { from: 4, to: 3 }.to_string(),
            "it was rolled back from version 4 to 3"
        );
    }

    #[test]
    fn successor_may_not_roll_back_or_fork() {
        let (v, r) = (ViewerIdentity::generate(), ViewerIdentity::generate());
        let mut cached = record(&v, &r);
        cached.version = 5;
        assert_eq!(OwnerRecord::check_successor(&cached, &cached), Ok(()));
        let mut next = cached.clone();
        next.version = 6;
        assert_eq!(OwnerRecord::check_successor(&cached, &next), Ok(()));
        assert_eq!(
            OwnerRecord::check_successor(&next, &cached),
            Err(RecordError::RolledBack { from: 6, to: 5 })
        );
        let mut fork = cached.clone();
        fork.viewers[0].name = "thief".into();
        assert_eq!(
            OwnerRecord::check_successor(&cached, &fork),
            Err(RecordError::Forked { version: 5 })
        );
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
            device_key: DeviceKey::generate().public(),
            paired_at: 3,
            shared_with: vec![],
            epoch: 1,
            expires_at: None,
            set_key: None,
        };
        assert_eq!(rec.camera_recipients(&cam).len(), 2);
        cam.shared_with.push(member);
        assert!(rec.camera_recipients(&cam).contains(&m.to_public()));
    }
}
