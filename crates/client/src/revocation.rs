//! Revoking an owner viewer (S6), and finishing a revocation that stopped
//! part-way.
//!
//! A revocation is several writes: the key log (the owner key rotates), the
//! key bundle (the new key sealed to the remaining viewers), a recipient set
//! per camera, the owner record, then deleting credentials. Stopped between
//! two of them, it leaves the account in a state no other device can fix:
//! the bundle holding the retired key, or sets still naming the victim, or
//! the record still signed by the retired key (which every owner device
//! refuses, and the victim could sign again). So the device keeps what it
//! needs to finish (`revocation.json`, [`PendingRevocation`]) before it
//! writes anything, and every command ([`Client::connect`]) finishes it.

use sealcam_keys::{CameraId, OwnerKeyBundle};
use serde::Serialize;
use uuid::Uuid;

use crate::api::{Precondition, Record};
use crate::client::{Client, RecordHandle};
use crate::error::{ClientError, Result};
use crate::home::PendingRevocation;
use crate::record::OwnerRecord;
use crate::trust::PrunedDevice;

/// What revoking a viewer did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revocation {
    /// The removed viewer.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The new recipient-set epochs, per camera: once a camera synced its
    /// epoch, nothing it records can be opened by the revoked viewer (S6).
    /// Empty when a finished revocation had published them before it stopped.
    pub epochs: Vec<(CameraId, u64)>,
    /// Whether its server credential was deleted too.
    pub device_deleted: bool,
    /// Every server credential deleted (the revoked device's and any other
    /// that no remaining viewer holds).
    pub pruned: Vec<PrunedDevice>,
    /// `(reset, generation)` of the new owner key.
    pub key_position: (u64, u64),
}

impl Revocation {
    /// Whether `which` (as `sealcam viewers revoke` takes it: the viewer's
    /// id, a prefix of it of at least 4 characters, or its name) names the
    /// viewer this revoked.
    pub fn names(&self, which: &str) -> bool {
        let which = which.trim();
        let id = self.id.to_string();
        id == which || (which.len() >= 4 && id.starts_with(which)) || self.name == which
    }
}

impl Client {
    /// Revokes a viewer (S6): removes it from the owner record, **rotates
    /// the owner key** (the revoked device kept a copy of the old one, which
    /// signs nothing a camera takes once it followed the key log), seals the
    /// new key to the remaining viewers only, publishes new recipient sets
    /// without the viewer under the new key, and deletes every server
    /// credential that no remaining viewer holds — the revoked device's, and
    /// any spare one it minted.
    ///
    /// This client holds the new owner key afterwards. Other clients of the
    /// same account take it up with [`sync_trust`](Self::sync_trust)
    /// ([`Client::connect`] does). If it stops part-way, the next
    /// [`Client::connect`] on this device finishes it
    /// ([`finish_revocation`](Self::finish_revocation)).
    pub async fn revoke_viewer(&mut self, which: &str) -> Result<Revocation> {
        let mut handle = self.record().await?;
        let victim = Self::find_viewer(&handle.record.viewers, which)?.clone();
        if victim.recipient == self.device().viewer.to_public() {
            return Err(ClientError::BadInput(
                "this is the device you are using; revoke it from another device".into(),
            ));
        }
        handle.record.viewers.retain(|v| v.id != victim.id);
        let pending = PendingRevocation {
            victim,
            from: self.device().info.key_state().position(),
            record: handle.record.clone(),
            saved: false,
        };
        self.home().save_revocation(&pending)?;
        *self = self
            .rotate_owner_key(&handle.record.owner_recipients())
            .await?;
        self.complete_revocation(handle, pending).await
    }

    /// Whether this device started a revocation that has not finished
    /// (the next [`Client::connect`] finishes it).
    pub fn revocation_unfinished(&self) -> bool {
        matches!(self.home().pending_revocation(), Ok(Some(_)))
    }

    /// Finishes the revocation this device started and did not complete
    /// (`None` when there is none): run by [`Client::connect`], after the
    /// key log was followed.
    ///
    /// - If this device still holds the owner key the revocation started
    ///   from, the key log never named the new one: the revocation starts
    ///   over.
    /// - Otherwise it holds the new key (the log names it; `sync_trust`
    ///   took it from `owner.key.next`): the new key is sealed again to the
    ///   remaining viewers, the sets are published, and the record the
    ///   revocation verified before it began is written, signed by the new
    ///   key, unless the server's record already verifies under it. Then
    ///   the credentials are deleted.
    pub async fn finish_revocation(&mut self) -> Result<Option<Revocation>> {
        let Some(pending) = self.home().pending_revocation()? else {
            return Ok(None);
        };
        if self.device().info.key_state().position() == pending.from {
            return match self.revoke_viewer(&pending.victim.id.to_string()).await {
                Ok(r) => Ok(Some(r)),
                // Nobody to revoke under the key the record is signed by:
                // another device removed it meanwhile.
                Err(ClientError::UnknownViewer(_)) => {
                    self.home().remove_revocation()?;
                    Ok(None)
                }
                Err(e) => Err(e),
            };
        }
        let mut handle = if pending.saved {
            self.record().await?
        } else {
            self.record_or_kept(&pending.record).await?
        };
        handle.record.viewers.retain(|v| v.id != pending.victim.id);
        if !pending.saved {
            self.seal_owner_key_to(&handle.record).await?;
        }
        self.complete_revocation(handle, pending).await.map(Some)
    }

    /// The revocation's steps after the rotation: the sets and the record
    /// (unless `pending` says they are written), then the credentials.
    async fn complete_revocation(
        &self,
        mut handle: RecordHandle,
        mut pending: PendingRevocation,
    ) -> Result<Revocation> {
        let mut epochs = Vec::new();
        if !pending.saved {
            // The sets first: cameras stop sealing to the victim as soon as
            // they sync.
            epochs = self.publish_all_sets(&mut handle.record).await?;
            self.save_record(&mut handle).await?;
            pending.saved = true;
            self.home().save_revocation(&pending)?;
        }
        let pruned = self.prune_credentials(&handle.record).await?;
        self.home().remove_revocation()?;
        let victim = pending.victim;
        Ok(Revocation {
            id: victim.id,
            name: victim.name,
            epochs,
            device_deleted: victim
                .device_id
                .is_some_and(|id| pruned.iter().any(|p| p.device_id == id)),
            pruned,
            key_position: self.device().info.key_state().position(),
        })
    }

    /// Seals the owner key this device holds to `record`'s owner recipients
    /// and stores that bundle: a revocation that stopped before writing its
    /// bundle left the previous one, which holds the retired key (sealed to
    /// the victim too) and not the current one. The server's bundle is kept,
    /// and only re-sealed, when it holds the current key.
    async fn seal_owner_key_to(&self, record: &OwnerRecord) -> Result<()> {
        let keys = self.device().info.key_state();
        let stored = self.api().get_record(Record::KeyBundle).await?;
        let bundle = stored
            .and_then(|(sealed, _)| {
                OwnerKeyBundle::open_as_viewer(
                    &sealed,
                    &self.device().viewer,
                    keys.owner,
                    &keys.owner_key,
                )
                .ok()
            })
            .unwrap_or_else(|| {
                OwnerKeyBundle::rotated(keys.owner, self.device().owner_key.clone())
            });
        self.api()
            .put_record(
                Record::KeyBundle,
                bundle.seal(&record.owner_recipients())?,
                Precondition::None,
            )
            .await
            .map(drop)
    }
}
