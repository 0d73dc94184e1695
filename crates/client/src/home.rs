//! The local key store: one directory per identity.
//!
//! `SEALCAM_HOME` if set, else the XDG data directory
//! (`~/.local/share/sealcam`). The directory is created with mode 0700 and
//! every file in it with mode 0600; secret files are refused when group- or
//! world-readable (S10).
//!
//! ```text
//! device.json     server URL, account, device id and name, pinned owner key (public)
//! credential      this device's bearer credential (scv_…)
//! viewer.txt      this device's viewer key: a standard age identity file
//! owner.key       the owner signing key (a copy of what the key bundle holds)
//! record.json     the last owner record this device verified (rollback check)
//! keylog.bin      the last owner key log this device followed (it may only grow)
//! owner.key.next  a rotated owner key, until the device holds it (crash safety)
//! pairings/*.json pairing secrets kept until their camera is confirmed
//! link.json       a viewer key waiting for `viewers approve` on another device
//! ```

use std::fs;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sealcam_keys::{
    secret_file, KeyLog, OwnerId, OwnerKeyState, OwnerPublicKey, OwnerSigningKey, PairingSecret,
    ViewerIdentity,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::api::{Api, Credential};
use crate::error::{ClientError, Result};
use crate::record::OwnerRecord;

/// The environment variable naming the home directory.
pub const HOME_ENV: &str = "SEALCAM_HOME";

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
        Ok(Api::new(&self.info.server_url)?.with_credential(self.credential.clone()))
    }
}

/// A pairing code's secret, kept until its camera is confirmed (S5).
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingPairing {
    /// The claim token the camera registers with.
    pub claim_token: String,
    /// The pairing secret, base64.
    secret: String,
    /// When the claim expires (unix seconds).
    pub expires_at: i64,
    /// The camera's name, chosen at `pair`.
    pub name: String,
}

impl PendingPairing {
    /// A pending pairing for `secret`.
    pub fn new(claim_token: String, secret: &PairingSecret, expires_at: i64, name: String) -> Self {
        Self {
            claim_token,
            secret: STANDARD.encode(secret.as_bytes()),
            expires_at,
            name,
        }
    }

    /// The secret.
    pub fn secret(&self) -> Result<PairingSecret> {
        let raw = Zeroizing::new(
            STANDARD
                .decode(&self.secret)
                .map_err(|_| ClientError::BadInput("a kept pairing secret is damaged".into()))?,
        );
        let bytes: [u8; 16] = raw[..]
            .try_into()
            .map_err(|_| ClientError::BadInput("a kept pairing secret is damaged".into()))?;
        Ok(PairingSecret::from_bytes(bytes))
    }
}

impl Drop for PendingPairing {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.secret.zeroize();
        self.claim_token.zeroize();
    }
}

impl std::fmt::Debug for PendingPairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingPairing")
            .field("name", &self.name)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A device waiting to be approved by another device of the account.
#[derive(Serialize, Deserialize)]
pub(crate) struct PendingLink {
    pub server_url: String,
    pub name: String,
    pub viewer: String,
}

impl Drop for PendingLink {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.viewer.zeroize();
    }
}

/// A sealcam home directory.
#[derive(Debug, Clone)]
pub struct Home {
    dir: PathBuf,
}

impl Home {
    /// `SEALCAM_HOME`, else the XDG data directory.
    pub fn locate() -> Result<Self> {
        if let Some(dir) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(Self::at(dir));
        }
        directories::ProjectDirs::from("", "", "sealcam")
            .map(|d| Self::at(d.data_dir()))
            .ok_or_else(|| {
                ClientError::BadInput(format!(
                    "no home directory found; set {HOME_ENV} to a directory for sealcam's keys"
                ))
            })
    }

    /// The home at `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `true` when a device is set up here.
    pub fn is_initialized(&self) -> bool {
        self.file("device.json").exists()
    }

    fn ensure_dir(&self, dir: &Path) -> Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(ClientError::io(dir))
    }

    fn write_private(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.ensure_dir(&self.dir)?;
        let path = self.file(name);
        if let Some(parent) = path.parent() {
            self.ensure_dir(parent)?;
        }
        secret_file::write(&path, bytes).map_err(ClientError::from)
    }

    fn read_private(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let path = self.file(name);
        if !path.exists() {
            return Ok(None);
        }
        secret_file::read(&path)
            .map(Some)
            .map_err(ClientError::from)
    }

    /// Refuses when this home is already set up.
    pub fn check_fresh(&self) -> Result<()> {
        if self.is_initialized() {
            return Err(ClientError::AlreadyInitialized {
                home: self.dir.clone(),
            });
        }
        Ok(())
    }

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

    // The owner record cache.

    /// The last owner key log this device followed.
    pub fn cached_key_log(&self) -> Result<Option<KeyLog>> {
        match self.read_private("keylog.bin")? {
            None => Ok(None),
            Some(bytes) => KeyLog::from_bytes(&bytes).map(Some).map_err(|e| {
                ClientError::BadInput(format!("{}: {e}", self.file("keylog.bin").display()))
            }),
        }
    }

    /// Keeps the key log this device followed.
    pub fn cache_key_log(&self, log: &KeyLog) -> Result<()> {
        self.write_private("keylog.bin", &log.to_bytes())
    }

    /// The last owner record this device verified.
    pub fn cached_record(&self) -> Result<Option<OwnerRecord>> {
        match self.read_private("record.json")? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                ClientError::BadInput(format!("{}: {e}", self.file("record.json").display()))
            }),
        }
    }

    /// Remembers a verified owner record.
    pub fn cache_record(&self, record: &OwnerRecord) -> Result<()> {
        let json =
            serde_json::to_vec_pretty(record).map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.write_private("record.json", &json)
    }

    // Pending pairings.

    fn pairing_name(claim_token: &str) -> String {
        let h = Sha256::digest(claim_token.as_bytes());
        let hex: String = h[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("pairings/{hex}.json")
    }

    /// Keeps a pairing secret until its camera is confirmed.
    pub fn save_pairing(&self, p: &PendingPairing) -> Result<()> {
        let json = Zeroizing::new(
            serde_json::to_vec(p).map_err(|e| ClientError::Protocol(e.to_string()))?,
        );
        self.write_private(&Self::pairing_name(&p.claim_token), &json)
    }

    /// Every kept pairing.
    pub fn pairings(&self) -> Result<Vec<PendingPairing>> {
        let dir = self.file("pairings");
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ClientError::io(&dir)(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry.map_err(ClientError::io(&dir))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = secret_file::read(&path)?;
                if let Ok(p) = serde_json::from_slice::<PendingPairing>(&bytes) {
                    out.push(p);
                }
            }
        }
        Ok(out)
    }

    /// Forgets a pairing (its camera was confirmed).
    pub fn remove_pairing(&self, claim_token: &str) -> Result<()> {
        let path = self.file(&Self::pairing_name(claim_token));
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ClientError::io(path)(e)),
        }
    }

    // A link request in progress.

    pub(crate) fn save_link(&self, link: &PendingLink) -> Result<()> {
        let json = Zeroizing::new(
            serde_json::to_vec(link).map_err(|e| ClientError::Protocol(e.to_string()))?,
        );
        self.write_private("link.json", &json)
    }

    pub(crate) fn load_link(&self) -> Result<Option<PendingLink>> {
        match self.read_private("link.json")? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| ClientError::BadInput(format!("link.json: {e}"))),
        }
    }

    pub(crate) fn remove_link(&self) -> Result<()> {
        self.remove("link.json")
    }

    fn remove(&self, name: &str) -> Result<()> {
        let path = self.file(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ClientError::io(path)(e)),
        }
    }

    // An owner key made by a rotation, kept until the device holds it.

    /// Keeps a new owner key before the key log names it.
    pub(crate) fn save_pending_owner_key(&self, key: &OwnerSigningKey) -> Result<()> {
        self.ensure_dir(&self.dir)?;
        key.write_file(&self.file("owner.key.next"))
            .map_err(ClientError::from)
    }

    /// The owner key of an interrupted rotation, if any.
    pub(crate) fn pending_owner_key(&self) -> Result<Option<OwnerSigningKey>> {
        let path = self.file("owner.key.next");
        if !path.exists() {
            return Ok(None);
        }
        OwnerSigningKey::read_file(&path)
            .map(Some)
            .map_err(ClientError::from)
    }

    /// Forgets the pending owner key (the device holds it now).
    pub(crate) fn remove_pending_owner_key(&self) -> Result<()> {
        self.remove("owner.key.next")
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

    use super::*;

    fn device() -> Device {
        let owner_key = OwnerSigningKey::generate();
        Device {
            info: DeviceInfo {
                server_url: "http://127.0.0.1:1".into(),
                account_id: OwnerId::random(),
                device_id: Uuid::new_v4(),
                device_name: "laptop".into(),
                owner_key: owner_key.public(),
                keys: None,
            },
            credential: Credential::new("scv_secret"),
            viewer: ViewerIdentity::generate(),
            owner_key,
        }
    }

    #[test]
    fn device_round_trips_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("h"));
        assert!(matches!(
            home.load_device(),
            Err(ClientError::NotInitialized { .. })
        ));
        let d = device();
        home.save_device(&d).unwrap();
        let back = home.load_device().unwrap();
        assert_eq!(back.info, d.info);
        assert_eq!(back.viewer.to_public(), d.viewer.to_public());
        assert_eq!(back.credential.expose(), "scv_secret");
        assert_eq!(fs::metadata(home.path()).unwrap().mode() & 0o777, 0o700);
        for f in ["credential", "viewer.txt", "owner.key", "device.json"] {
            let mode = fs::metadata(home.path().join(f)).unwrap().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
        assert!(matches!(
            home.check_fresh(),
            Err(ClientError::AlreadyInitialized { .. })
        ));
        let dbg = format!("{back:?}");
        assert!(
            !dbg.contains("scv_secret") && !dbg.contains("AGE-SECRET-KEY"),
            "{dbg}"
        );
    }

    #[test]
    fn readable_credential_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        home.save_device(&device()).unwrap();
        fs::set_permissions(
            dir.path().join("credential"),
            fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert!(matches!(home.load_device(), Err(ClientError::Key(_))));
    }

    #[test]
    fn pairings_are_kept_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        let secret = PairingSecret::generate();
        home.save_pairing(&PendingPairing::new(
            "sck_a".into(),
            &secret,
            10,
            "porch".into(),
        ))
        .unwrap();
        let all = home.pairings().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].secret().unwrap(), secret);
        home.remove_pairing("sck_a").unwrap();
        assert!(home.pairings().unwrap().is_empty());
    }
}
