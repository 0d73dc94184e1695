//! The camera's state directory: its device key, its pairing and its last good
//! recipient set, each written atomically with mode 0600.
//!
//! ```text
//! <state>/device.key          SEALCAM-DEVICE-SECRET-KEY-… (made on first use)
//! <state>/camera.json         server URL, camera id, owner id, pinned owner key, credential
//! <state>/recipient-set.bin   the last good signed recipient set (re-verified at every open)
//! <state>/spool/              sealed objects waiting for the server (see `spool`)
//! ```

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use sealcam_keys::{
    secret_file, CameraId, DeviceKey, OwnerId, OwnerPublicKey, RecipientSetPin, SignedRecipientSet,
    VerifiedRecipientSet,
};

use crate::DeviceError;

const DEVICE_KEY: &str = "device.key";
const CAMERA: &str = "camera.json";
const RECIPIENT_SET: &str = "recipient-set.bin";
const SPOOL: &str = "spool";

/// What a camera keeps after pairing.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Pairing {
    /// Format version of this file.
    pub version: u32,
    /// The server it registered with (from the pairing code).
    pub server_url: String,
    /// Its id, assigned by the server.
    pub camera_id: CameraId,
    /// Its owner, from the pairing code (checked against the server's answer).
    pub owner_id: OwnerId,
    /// The owner signing key pinned from the pairing code (S4).
    pub owner_key: OwnerPublicKey,
    /// Its bearer credential (`scc_…`).
    pub credential: String,
}

impl Pairing {
    pub fn pin(&self) -> RecipientSetPin {
        RecipientSetPin {
            owner: self.owner_id,
            camera: self.camera_id,
            owner_key: self.owner_key,
        }
    }
}

impl std::fmt::Debug for Pairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pairing")
            .field("server_url", &self.server_url)
            .field("camera_id", &self.camera_id)
            .field("owner_id", &self.owner_id)
            .field("owner_key", &self.owner_key)
            .field("credential", &"<redacted>")
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
        let pairing: Pairing = serde_json::from_slice(&bytes).map_err(|e| DeviceError::State {
            path: path.clone(),
            reason: format!("not a pairing file ({e})"),
        })?;
        if pairing.version != 1 {
            return Err(DeviceError::State {
                path,
                reason: format!("unsupported version {}", pairing.version),
            });
        }
        Ok(Some(pairing))
    }

    pub fn write_pairing(&self, pairing: &Pairing) -> Result<(), DeviceError> {
        let path = self.root.join(CAMERA);
        let json =
            Zeroizing::new(
                serde_json::to_vec_pretty(pairing).map_err(|e| DeviceError::State {
                    path: path.clone(),
                    reason: e.to_string(),
                })?,
            );
        secret_file::write(&path, &json)?;
        Ok(())
    }

    /// The last good recipient set, re-verified against the pin: a file
    /// swapped on disk is refused like a set from the network.
    pub fn recipient_set(
        &self,
        pin: &RecipientSetPin,
    ) -> Result<Option<VerifiedRecipientSet>, DeviceError> {
        let path = self.root.join(RECIPIENT_SET);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DeviceError::io(path)(e)),
        };
        let set = SignedRecipientSet::from_bytes(&bytes)
            .and_then(|s| s.verify(pin))
            .map_err(|e| DeviceError::State {
                path,
                reason: format!("the stored recipient set does not verify ({e})"),
            })?;
        Ok(Some(set))
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
