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
//! keys.json       every owner key this device held, with its place in the log
//! keys.lock       held while a command adds to keys.json
//! owner.key.next  a rotated owner key, until the device holds it (crash safety)
//! pairings/*.json pairing secrets kept until their camera is confirmed
//! link.json       a viewer key waiting for `viewers approve` on another device
//! revocation.json a revocation in progress, finished by the next command
//! revocation.lock held while a process starts or finishes a revocation
//! ```
mod cache;
mod device;
mod key_history;
mod pairings;
mod pending;
#[cfg(test)]
mod tests;

use std::fs;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use sealcam_keys::secret_file;
use zeroize::Zeroizing;

use crate::error::{ClientError, Result};

pub(crate) use cache::followed;
pub use device::{Device, DeviceInfo};
pub(crate) use key_history::HeldKey;
pub use pairings::{PendingPairing, PAIRING_CONFIRMS_FOR_SECS};
pub(crate) use pending::{PendingLink, PendingRevocation, Unshare, JOURNAL_VERSION};

/// The environment variable naming the home directory.
pub const HOME_ENV: &str = "SEALCAM_HOME";
/// A sealcam home directory.
#[derive(Debug, Clone)]
pub struct Home {
    dir: PathBuf,
    /// The transport set-up commands use (kept with the device once set up).
    transport: crate::tls::Transport,
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
        Self {
            dir: dir.into(),
            transport: crate::tls::Transport::default(),
        }
    }

    /// This home, setting up its device with `transport` (a pinned CA,
    /// plain HTTP allowed) instead of the default.
    pub fn with_transport(mut self, transport: crate::tls::Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The transport set-up commands use.
    pub fn transport(&self) -> &crate::tls::Transport {
        &self.transport
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

    /// The lock file `name` of this home (created 0600 when missing), open
    /// for `flock`, and its path.
    fn lock_file(&self, name: &str) -> Result<(fs::File, PathBuf)> {
        use std::os::unix::fs::OpenOptionsExt as _;
        self.ensure_dir(&self.dir)?;
        let path = self.file(name);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(ClientError::io(&path))?;
        Ok((file, path))
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

    fn remove(&self, name: &str) -> Result<()> {
        let path = self.file(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ClientError::io(path)(e)),
        }
    }
}
