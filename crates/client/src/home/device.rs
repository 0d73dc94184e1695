//! This device: what it knows about itself, its secrets, and saving and
//! loading them (`device.json`, `credential`, `viewer.txt`, `owner.key`).

use std::path::PathBuf;

use sealcam_keys::{
    secret_file, OwnerId, OwnerKeyState, OwnerPublicKey, OwnerSigningKey, ViewerIdentity,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::key_history::HeldKey;
use super::Home;
use crate::api::{Api, Credential};
use crate::error::{ClientError, Result};
use crate::tls::Transport;

/// What this device knows about itself (not secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// The server URL.
    pub server_url: String,
    /// The account (= owner).
    pub account_id: OwnerId,
    /// This device's id on the server.
    pub device_id: Uuid,
    /// This device's name.
    pub device_name: String,
    /// The owner signing key's public half, pinned on this device (the
    /// current one: it follows the key log).
    pub owner_key: OwnerPublicKey,
    /// Where that key stands in the account's key log, and the account's
    /// root key (owner trust v2); absent on a device set up before v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<OwnerKeyState>,
    /// How the server is reached (a pinned CA, plain HTTP allowed); absent
    /// in a `device.json` written before: the platform's roots.
    #[serde(default, skip_serializing_if = "is_default")]
    pub transport: Transport,
}

fn is_default(t: &Transport) -> bool {
    *t == Transport::default()
}

impl DeviceInfo {
    /// The owner key state this device follows (a device set up before
    /// owner trust v2 holds only the owner key).
    pub fn key_state(&self) -> OwnerKeyState {
        self.keys
            .unwrap_or_else(|| OwnerKeyState::legacy(self.account_id, self.owner_key))
    }
}

/// Everything a working device holds: its info and its secrets.
#[derive(Clone)]
pub struct Device {
    /// Public facts.
    pub info: DeviceInfo,
    /// The server credential.
    pub credential: Credential,
    /// This device's viewer key.
    pub viewer: ViewerIdentity,
    /// The owner signing key.
    pub owner_key: OwnerSigningKey,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("info", &self.info)
            .field("viewer", &self.viewer)
            .field("owner_key", &self.owner_key)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// This device once it holds the owner key `key`, at `keys` in the key log.
    pub(crate) fn holding(&self, keys: OwnerKeyState, key: OwnerSigningKey) -> Self {
        let mut device = self.clone();
        device.info.keys = Some(keys);
        device.info.owner_key = keys.owner_key;
        device.owner_key = key;
        device
    }

    /// An API client authenticated as this device.
    pub fn api(&self) -> Result<Api> {
        Ok(Api::connect(&self.info.server_url, &self.info.transport)?
            .with_credential(self.credential.clone()))
    }
}
impl Home {
    /// Saves a working device.
    pub fn save_device(&self, device: &Device) -> Result<()> {
        self.ensure_dir(&self.dir)?;
        self.write_private(
            "credential",
            format!("{}\n", device.credential.expose()).as_bytes(),
        )?;
        device
            .viewer
            .write_file(&self.file("viewer.txt"), &crate::time::rfc3339_now())?;
        device.owner_key.write_file(&self.file("owner.key"))?;
        let json = serde_json::to_vec_pretty(&device.info)
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.note_held_keys(&[HeldKey::of(&device.info.key_state())])?;
        // device.json last: its presence means the device is complete.
        self.write_private("device.json", &json)
    }

    /// Loads the device set up here.
    pub fn load_device(&self) -> Result<Device> {
        let Some(json) = self.read_private("device.json")? else {
            return Err(ClientError::NotInitialized {
                home: self.dir.clone(),
            });
        };
        let info: DeviceInfo = serde_json::from_slice(&json).map_err(|e| {
            ClientError::BadInput(format!("{}: {e}", self.file("device.json").display()))
        })?;
        let cred = secret_file::read_to_string(&self.file("credential"))?;
        let credential = Credential::new(cred.trim());
        let viewer = ViewerIdentity::read_file(&self.file("viewer.txt"))?;
        let owner_key = OwnerSigningKey::read_file(&self.file("owner.key"))?;
        if owner_key.public() != info.owner_key {
            return Err(ClientError::Untrusted {
                what: "local owner key",
                reason: format!(
                    "{} does not match the pinned owner key in device.json",
                    self.file("owner.key").display()
                ),
            });
        }
        Ok(Device {
            info,
            credential,
            viewer,
            owner_key,
        })
    }

    /// The path of this device's viewer identity file (usable with `age -d -i`).
    pub fn viewer_file(&self) -> PathBuf {
        self.file("viewer.txt")
    }
}
