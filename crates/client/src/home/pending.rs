//! What is kept until an operation finishes: a link request in progress
//! (`link.json`), an owner key made by a rotation (`owner.key.next`) and a
//! revocation or unshare in progress (`revocation.json`).

use sealcam_keys::{CameraId, OwnerKeyState, OwnerPublicKey, OwnerSigningKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::Home;
use crate::error::{ClientError, Result};
use crate::record::{OwnerRecord, ViewerEntry};

/// A device waiting to be approved by another device of the account.
#[derive(Serialize, Deserialize)]
pub(crate) struct PendingLink {
    pub server_url: String,
    pub name: String,
    pub viewer: String,
    /// The transport chosen with the request (absent before TLS pinning).
    #[serde(default)]
    pub transport: crate::tls::Transport,
}

impl Drop for PendingLink {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.viewer.zeroize();
    }
}
/// A revocation this device started — of a viewer, or of a member's share
/// of a camera (an unshare rotates the owner key too) — : what it needs to
/// finish one that stopped part-way (`Client::finish_revocation`), whatever
/// the server holds by then.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingRevocation {
    /// The journal's layout ([`JOURNAL_VERSION`]; journals written before
    /// it was kept name none, and read as 1).
    #[serde(default = "first_journal")]
    pub version: u32,
    /// The viewer being revoked (`None`: an unshare).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victim: Option<ViewerEntry>,
    /// The share being withdrawn (journals from before unshares rotated
    /// have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unshare: Option<Unshare>,
    /// The owner key the revocation rotates away from (the victim holds it).
    pub from: OwnerKeyState,
    /// The owner key it rotates to: the revocation's rotation landed when
    /// the key log, followed from `from`, passes through it.
    pub to: OwnerPublicKey,
    /// The SHA-256 of the sealed owner record the revocation writes over
    /// (`client::sealed_digest`), as the server sent it.
    pub base: String,
    /// That record as this device verified it, without the victim: what
    /// the revocation writes, signed by the new key. The server's copy
    /// cannot stand in for it: until the revocation writes its record, the
    /// one stored is signed by the retired key, which the victim holds too.
    pub record: OwnerRecord,
    /// Whether the record was sent: from then on the server may hold it
    /// (and other devices may have built on it), so the kept record is
    /// written only over the record the revocation started from.
    pub record_sent: bool,
    /// Whether the record is written: only deleting credentials is left.
    pub saved: bool,
}

/// The layout of `revocation.json` this release writes, and the newest it
/// reads: 2 since this release. Journals from before name no version and
/// read as 1; they may name no victim (an unshare's, since an unshare
/// rotates the owner key), which the releases before that one read as
/// malformed. A journal of a
/// newer layout is refused, never read as far as this release understands
/// it, and counts as a revocation in progress.
pub(crate) const JOURNAL_VERSION: u32 = 2;

fn first_journal() -> u32 {
    1
}

/// Only the layout of a journal, read before the rest.
#[derive(Deserialize)]
struct JournalVersion {
    #[serde(default = "first_journal")]
    version: u32,
}

/// A camera's share with a member account, being withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Unshare {
    /// The camera.
    pub camera: CameraId,
    /// The member's account.
    pub account: Uuid,
}

impl Unshare {
    /// Takes the share out of `record`: the camera is no longer shared with
    /// the account, and the member leaves the record once no camera is.
    pub fn apply_to(&self, record: &mut OwnerRecord) {
        if let Some(c) = record.camera_mut(self.camera) {
            c.shared_with.retain(|a| *a != self.account);
        }
        let still_used: Vec<Uuid> = record
            .cameras
            .iter()
            .flat_map(|c| c.shared_with.iter().copied())
            .collect();
        record
            .members
            .retain(|m| still_used.contains(&m.account_id));
    }
}

impl PendingRevocation {
    /// Takes what this revocation removes out of `record` (a record the
    /// server holds, which may still have it).
    pub fn remove_from(&self, record: &mut OwnerRecord) {
        if let Some(v) = &self.victim {
            record.viewers.retain(|x| x.id != v.id);
        }
        if let Some(u) = &self.unshare {
            u.apply_to(record);
        }
    }

    /// What it removes, for messages.
    pub fn describe(&self) -> String {
        match (&self.victim, &self.unshare) {
            (Some(v), _) => format!("the revocation of {:?}", v.name),
            (None, Some(u)) => format!("unsharing camera {} with account {}", u.camera, u.account),
            (None, None) => "a revocation".into(),
        }
    }
}

impl Home {
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

    // A revocation in progress.

    /// Keeps a revocation before it changes anything on the server.
    pub(crate) fn save_revocation(&self, pending: &PendingRevocation) -> Result<()> {
        let json =
            serde_json::to_vec_pretty(pending).map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.write_private("revocation.json", &json)
    }

    /// The revocation this device started and did not finish, if any.
    ///
    /// A journal that does not read, or that a newer release wrote, is an
    /// error: it still names a revocation or unshare in progress.
    pub(crate) fn pending_revocation(&self) -> Result<Option<PendingRevocation>> {
        let Some(bytes) = self.read_private("revocation.json")? else {
            return Ok(None);
        };
        let path = self.file("revocation.json");
        let unreadable =
            |e: serde_json::Error| ClientError::BadInput(format!("{}: {e}", path.display()));
        let layout: JournalVersion = serde_json::from_slice(&bytes).map_err(unreadable)?;
        if layout.version > JOURNAL_VERSION {
            return Err(ClientError::BadInput(format!(
                "{}: a revocation or unshare in progress, kept by a newer sealcam (journal version {}; this release reads up to {JOURNAL_VERSION}): finish it with that release",
                path.display(),
                layout.version
            )));
        }
        serde_json::from_slice(&bytes).map(Some).map_err(unreadable)
    }

    /// Waits for, then holds, this home's lock (`revocation.lock`) until the
    /// file is dropped: one process, or one task, at a time starts or
    /// finishes a revocation here (each makes a new owner key, kept in
    /// `owner.key.next`). It waits without blocking the async runtime.
    pub(crate) async fn lock_revocation(&self) -> Result<std::fs::File> {
        use rustix::fs::{flock, FlockOperation};
        let (file, path) = self.lock_file("revocation.lock")?;
        loop {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Ok(file),
                Err(rustix::io::Errno::WOULDBLOCK | rustix::io::Errno::INTR) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => return Err(ClientError::io(&path)(e.into())),
            }
        }
    }

    /// Whether a revocation is kept here (however it reads).
    pub(crate) fn has_revocation(&self) -> bool {
        self.file("revocation.json").exists()
    }

    /// Forgets the revocation (it finished).
    pub(crate) fn remove_revocation(&self) -> Result<()> {
        self.remove("revocation.json")
    }
}
