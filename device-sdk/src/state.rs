//! The camera's state directory: its device key, its pairing and its last good
//! recipient set, each written atomically with mode 0600.
//!
//! ```text
//! <state>/device.key          SEALCAM-DEVICE-SECRET-KEY-… (made on first use)
//! <state>/set.key             AGE-SECRET-KEY-…: the set key recipient sets are sealed to (S9; made on first use)
//! <state>/camera.json         the pairing: server URL, ids, credential, and the owner key the camera follows
//! <state>/recipient-set.bin   the last good signed recipient set (re-verified at every open)
//! <state>/spool/              sealed objects waiting for the server (see `spool`)
//! ```
//!
//! `camera.json`, version 2 (owner trust v2):
//!
//! ```json
//! {
//!   "version": 2,
//!   "server_url": "https://cams.example", "camera_id": "…", "owner_id": "…",
//!   "credential": "scc_…",
//!   "keys":     {"owner": "…", "owner_key": "sealcam-owner-…", "root_key": "sealcam-root-…", "reset": 1, "generation": 0},
//!   "set_keys": {…the owner key state recipient-set.bin was accepted under, or null…},
//!   "paired_v1": false,
//!   "set_key_published": true
//! }
//! ```
//!
//! `set_key_published` (absent in files written before S9: `false`) says the
//! server accepted this camera's set key statement; until then every sync
//! offers it again.
//!
//! `keys` is the owner key the camera follows now (moved by the key log at
//! every sync); `set_keys` the state under which the stored set was accepted,
//! which stays in use after a rotation until the owner's set signed by the new
//! key arrives. A version-1 file (`owner_key` instead of `keys`, from a camera
//! paired before trust v2) still reads: both states become
//! `OwnerKeyState::legacy(owner_id, owner_key)` and `paired_v1` is set; the next
//! write stores version 2.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use sealcam_keys::{
    secret_file, CameraId, CameraPin, DeviceKey, DevicePublicKey, OwnerId, OwnerKeyState,
    OwnerPublicKey, SignedRecipientSet, VerifiedRecipientSet, ViewerIdentity, ViewerRecipient,
};

use crate::DeviceError;

const DEVICE_KEY: &str = "device.key";
const SET_KEY: &str = "set.key";
const CAMERA: &str = "camera.json";
const RECIPIENT_SET: &str = "recipient-set.bin";
const SPOOL: &str = "spool";
/// The version of `camera.json` this build writes.
const PAIRING_VERSION: u32 = 2;

/// What a camera keeps after pairing (`camera.json`, version 2).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pairing {
    /// Format version of this file.
    pub version: u32,
    /// The server it registered with (from the pairing code).
    pub server_url: String,
    /// Its id, assigned by the server.
    pub camera_id: CameraId,
    /// Its owner, from the pairing code (checked against the server's answer).
    pub owner_id: OwnerId,
    /// Its bearer credential (`scc_…`).
    pub credential: String,
    /// The owner key the camera follows now: pinned from the pairing code,
    /// then moved by the owner's key log (S4, owner trust v2).
    pub keys: OwnerKeyState,
    /// The owner key state the stored recipient set was accepted under
    /// (`None` before the first set).
    pub set_keys: Option<OwnerKeyState>,
    /// Paired with a version-1 code (before owner trust v2).
    pub paired_v1: bool,
    /// The server accepted this camera's set key statement (S9).
    #[serde(default)]
    pub set_key_published: bool,
    /// The account's recovery key, pinned from the first set v2 the camera
    /// took (`None` before, and for a camera paired before this field
    /// until it takes its next set). A set naming another is refused: it is
    /// what the camera seals to alone once its set expires or its owner key
    /// is replaced, so it must stay the account's, whoever signs a set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<ViewerRecipient>,
}

/// `camera.json` as version 1 wrote it.
#[derive(Deserialize)]
struct PairingV1 {
    server_url: String,
    camera_id: CameraId,
    owner_id: OwnerId,
    owner_key: OwnerPublicKey,
    credential: String,
}

#[derive(Deserialize)]
struct Version {
    version: u32,
}

impl Pairing {
    /// What the camera checks offered sets against: the owner key it follows
    /// now (`keys`).
    pub fn pin(&self, device_key: DevicePublicKey) -> CameraPin {
        self.pin_under(device_key, self.keys)
    }

    /// The pin under a given owner key state. Version-1 sets are taken only
    /// by a camera paired before v2 whose owner key never moved.
    pub fn pin_under(&self, device_key: DevicePublicKey, keys: OwnerKeyState) -> CameraPin {
        CameraPin {
            camera: self.camera_id,
            device_key,
            keys,
            accept_v1: self.paired_v1 && keys.position() == (0, 0),
        }
    }

    fn from_json(path: &Path, bytes: &[u8]) -> Result<Self, DeviceError> {
        let bad = |e: serde_json::Error| DeviceError::State {
            path: path.to_owned(),
            reason: format!("not a pairing file ({e})"),
        };
        match serde_json::from_slice::<Version>(bytes)
            .map_err(bad)?
            .version
        {
            1 => {
                let v1: PairingV1 = serde_json::from_slice(bytes).map_err(bad)?;
                let keys = OwnerKeyState::legacy(v1.owner_id, v1.owner_key);
                Ok(Self {
                    version: PAIRING_VERSION,
                    server_url: v1.server_url,
                    camera_id: v1.camera_id,
                    owner_id: v1.owner_id,
                    credential: v1.credential,
                    keys,
                    set_keys: Some(keys),
                    paired_v1: true,
                    set_key_published: false,
                    recovery: None,
                })
            }
            PAIRING_VERSION => {
                let p: Self = serde_json::from_slice(bytes).map_err(bad)?;
                if p.keys.owner != p.owner_id || p.set_keys.is_some_and(|k| k.owner != p.owner_id) {
                    return Err(DeviceError::State {
                        path: path.to_owned(),
                        reason: "the owner key state names another owner".into(),
                    });
                }
                Ok(p)
            }
            v => Err(DeviceError::State {
                path: path.to_owned(),
                reason: format!("unsupported version {v}"),
            }),
        }
    }
}

impl std::fmt::Debug for Pairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pairing")
            .field("server_url", &self.server_url)
            .field("camera_id", &self.camera_id)
            .field("owner_id", &self.owner_id)
            .field("credential", &"<redacted>")
            .field("keys", &self.keys)
            .field("set_keys", &self.set_keys)
            .field("paired_v1", &self.paired_v1)
            .field("set_key_published", &self.set_key_published)
            .finish()
    }
}

/// The state directory.
#[derive(Debug, Clone)]
pub(crate) struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// Opens (creating it 0700 if needed) the state directory.
    pub fn open(root: &Path) -> Result<Self, DeviceError> {
        create_private_dir(root)?;
        Ok(Self {
            root: root.to_owned(),
        })
    }

    pub fn spool_dir(&self) -> PathBuf {
        self.root.join(SPOOL)
    }

    /// The device key, generated and stored on first use.
    pub fn device_key(&self) -> Result<DeviceKey, DeviceError> {
        let path = self.root.join(DEVICE_KEY);
        match DeviceKey::read_file(&path) {
            Ok(key) => Ok(key),
            Err(sealcam_keys::KeyError::Io { source, .. })
                if source.kind() == ErrorKind::NotFound =>
            {
                let key = DeviceKey::generate();
                key.write_file(&path)?;
                Ok(key)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The set key (an X25519 identity recipient sets are sealed to, S9),
    /// generated and stored (0600) on first use.
    pub fn set_key(&self) -> Result<ViewerIdentity, DeviceError> {
        let path = self.root.join(SET_KEY);
        match ViewerIdentity::read_file(&path) {
            Ok(key) => Ok(key),
            Err(sealcam_keys::KeyError::Io { source, .. })
                if source.kind() == ErrorKind::NotFound =>
            {
                let key = ViewerIdentity::generate();
                key.write_file(&path, "camera set key")?;
                Ok(key)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The device key if one exists.
    pub fn existing_device_key(&self) -> Result<Option<DeviceKey>, DeviceError> {
        let path = self.root.join(DEVICE_KEY);
        match DeviceKey::read_file(&path) {
            Ok(key) => Ok(Some(key)),
            Err(sealcam_keys::KeyError::Io { source, .. })
                if source.kind() == ErrorKind::NotFound =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn pairing(&self) -> Result<Option<Pairing>, DeviceError> {
        let path = self.root.join(CAMERA);
        let bytes = match secret_file::read(&path) {
            Ok(b) => b,
            Err(sealcam_keys::KeyError::Io { source, .. })
                if source.kind() == ErrorKind::NotFound =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e.into()),
        };
        Pairing::from_json(&path, &bytes).map(Some)
    }

    /// Writes `camera.json` (always as the current version).
    pub fn write_pairing(&self, pairing: &Pairing) -> Result<(), DeviceError> {
        let path = self.root.join(CAMERA);
        let pairing = Pairing {
            version: PAIRING_VERSION,
            ..pairing.clone()
        };
        let json = Zeroizing::new(serde_json::to_vec_pretty(&pairing).map_err(|e| {
            DeviceError::State {
                path: path.clone(),
                reason: e.to_string(),
            }
        })?);
        secret_file::write(&path, &json)?;
        Ok(())
    }

    /// The last good recipient set, re-verified: a file swapped on disk is
    /// refused like a set from the network. `pins` are tried in order (the
    /// state the set was accepted under first); the set is returned with the
    /// index of the pin it verified under.
    ///
    /// Expiry is not checked here (`now` = 0): it is checked when a set is
    /// accepted, not when it is re-read. A set that expired since keeps
    /// deciding the epoch, and the camera seals to its recovery recipient
    /// alone (see `Device::record`).
    pub fn recipient_set(
        &self,
        pins: &[CameraPin],
    ) -> Result<Option<(VerifiedRecipientSet, usize)>, DeviceError> {
        let path = self.root.join(RECIPIENT_SET);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DeviceError::io(path)(e)),
        };
        let signed = SignedRecipientSet::from_bytes(&bytes).map_err(|e| DeviceError::State {
            path: path.clone(),
            reason: format!("the stored recipient set does not verify ({e})"),
        })?;
        let mut first_error = None;
        for (i, pin) in pins.iter().enumerate() {
            match signed.clone().verify_for_camera(pin, 0) {
                Ok(set) => return Ok(Some((set, i))),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(DeviceError::State {
            path,
            reason: match first_error {
                Some(e) => format!("the stored recipient set does not verify ({e})"),
                None => "the stored recipient set does not verify".into(),
            },
        })
    }

    pub fn write_recipient_set(&self, set: &VerifiedRecipientSet) -> Result<(), DeviceError> {
        secret_file::write(&self.root.join(RECIPIENT_SET), set.as_bytes())?;
        Ok(())
    }
}

/// Creates `dir` (and parents) and makes it 0700.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), DeviceError> {
    fs::create_dir_all(dir).map_err(DeviceError::io(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(DeviceError::io(dir))
}

#[cfg(test)]
mod tests {
    use sealcam_keys::{OwnerSigningKey, RecoveryKey};

    use super::*;

    fn v1_json(owner: OwnerId, key: &OwnerPublicKey) -> serde_json::Value {
        serde_json::json!({
            "version": 1,
            "server_url": "http://127.0.0.1:1",
            "camera_id": CameraId::random(),
            "owner_id": owner,
            "owner_key": key.to_string(),
            "credential": "scc_secret",
        })
    }

    #[test]
    fn a_version_1_file_reads_as_a_legacy_pairing_and_is_written_as_version_2() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        let owner = OwnerId::random();
        let key = OwnerSigningKey::generate().public();
        let v1 = v1_json(owner, &key);
        secret_file::write(&dir.path().join(CAMERA), &serde_json::to_vec(&v1).unwrap()).unwrap();
        let p = state.pairing().unwrap().unwrap();
        let legacy = OwnerKeyState::legacy(owner, key);
        assert_eq!(
            (p.keys, p.set_keys, p.paired_v1),
            (legacy, Some(legacy), true)
        );
        assert_eq!(p.credential, "scc_secret");
        let device = DeviceKey::generate().public();
        assert!(p.pin(device).accept_v1);

        state.write_pairing(&p).unwrap();
        let text = fs::read_to_string(dir.path().join(CAMERA)).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["version"], 2);
        assert_eq!(json["keys"]["owner_key"], key.to_string());
        assert_eq!(state.pairing().unwrap().unwrap(), p);

        // Once the owner key moved, v1 sets are over.
        let moved = OwnerKeyState {
            generation: 1,
            root_key: Some(RecoveryKey::generate().root_key().public()),
            ..legacy
        };
        assert!(!p.pin_under(device, moved).accept_v1);
        let v2 = Pairing {
            paired_v1: false,
            ..p.clone()
        };
        assert!(!v2.pin(device).accept_v1);
    }

    #[test]
    fn unknown_versions_and_foreign_key_states_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        let owner = OwnerId::random();
        let key = OwnerSigningKey::generate().public();
        let mut json = v1_json(owner, &key);
        json["version"] = 3.into();
        secret_file::write(&dir.path().join(CAMERA), json.to_string().as_bytes()).unwrap();
        let err = state.pairing().unwrap_err().to_string();
        assert!(err.contains("unsupported version 3"), "{err}");

        let p = Pairing {
            version: 2,
            server_url: "http://127.0.0.1:1".into(),
            camera_id: CameraId::random(),
            owner_id: owner,
            credential: "scc_x".into(),
            keys: OwnerKeyState::legacy(OwnerId::random(), key),
            set_keys: None,
            paired_v1: false,
            set_key_published: false,
            recovery: None,
        };
        state.write_pairing(&p).unwrap();
        let err = state.pairing().unwrap_err().to_string();
        assert!(err.contains("another owner"), "{err}");
    }
}
