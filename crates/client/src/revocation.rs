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

use sealcam_keys::{CameraId, OwnerKeyBundle, OwnerSigningKey, ViewerRecipient};
use serde::Serialize;
use uuid::Uuid;

use crate::api::{Precondition, Record};
use crate::client::{sealed_digest, Client, RecordHandle, MAX_FOLLOWED_EPOCH_GAP};
use crate::error::{ClientError, Result};
use crate::home::{PendingRevocation, Unshare, JOURNAL_VERSION};
use crate::record::{OwnerRecord, ViewerEntry};
use crate::share::UnshareOutcome;
use crate::trust::{PrunedDevice, ServedLog};

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
    /// What a revocation that started over left out because the record it
    /// began from did not name it (a viewer, member, camera or share the
    /// server's record added meanwhile, perhaps the victim's doing): link or
    /// share it again if it is yours.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// Cameras whose new set the server refused as unknown (404): they stay
    /// in the record (only `sealcam cameras delete` forgets a camera), and
    /// keep their old set — which names the revoked viewer — until they
    /// follow the rotation (then they seal to the recovery key alone) or it
    /// expires. A camera deleted meanwhile is one; otherwise the server is
    /// withholding the revocation from it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unpublished: Vec<CameraId>,
}

/// What [`Client::finish_revocation`] finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finished {
    /// A viewer's revocation.
    Revocation(Revocation),
    /// A member's share of a camera, taken back.
    Unshare(UnshareOutcome),
}

/// What the steps after a rotation did, whatever it removed.
struct Completed {
    epochs: Vec<(CameraId, u64)>,
    unpublished: Vec<CameraId>,
    pruned: Vec<PrunedDevice>,
    key_position: (u64, u64),
}

impl Completed {
    /// The outcome, as the removal `pending` names.
    fn finished(self, pending: PendingRevocation, left_out: Vec<String>) -> Result<Finished> {
        Ok(match (pending.victim, pending.unshare) {
            (Some(victim), _) => Finished::Revocation(Revocation {
                id: victim.id,
                name: victim.name,
                epochs: self.epochs,
                device_deleted: victim
                    .device_id
                    .is_some_and(|id| self.pruned.iter().any(|p| p.device_id == id)),
                pruned: self.pruned,
                key_position: self.key_position,
                left_out,
                unpublished: self.unpublished,
            }),
            (None, Some(Unshare { camera, account })) => Finished::Unshare(UnshareOutcome {
                camera_id: camera,
                account_id: account,
                epoch: self
                    .epochs
                    .iter()
                    .find(|(c, _)| *c == camera)
                    .map(|(_, e)| *e),
                epochs: self.epochs,
                key_position: Some(self.key_position),
                left_out,
                unpublished: self.unpublished,
            }),
            (None, None) => return Err(nothing_to_remove()),
        })
    }
}

/// A journal that names neither a viewer nor a share (not one this client
/// writes).
fn nothing_to_remove() -> ClientError {
    ClientError::Protocol("revocation.json names neither a viewer nor a share to remove".into())
}

impl Revocation {
    /// Whether `which` (as `sealcam viewers revoke` takes it: the viewer's
    /// id, a prefix of it of at least 4 characters, or its name) names the
    /// viewer this revoked.
    pub fn names(&self, which: &str) -> bool {
        crate::viewers::names_viewer(self.id, &self.name, which.trim())
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
    /// ([`finish_revocation`](Self::finish_revocation)); until then no other
    /// revocation starts here.
    pub async fn revoke_viewer(&mut self, which: &str) -> Result<Revocation> {
        let _lock = self.home().lock_revocation().await?;
        self.refuse_while_unfinished()?;
        let (handle, base) = self.record_and_digest().await?;
        let victim = Self::find_viewer(&handle.record.viewers, which)?.clone();
        if victim.recipient == self.device().viewer.to_public() {
            return Err(ClientError::BadInput(
                "this is the device you are using; revoke it from another device".into(),
            ));
        }
        let mut kept = handle.record.clone();
        kept.viewers.retain(|v| v.id != victim.id);
        match self
            .rotate_and_complete(
                handle.with_record(kept),
                Some(victim),
                None,
                base,
                Vec::new(),
            )
            .await?
        {
            Finished::Revocation(r) => Ok(r),
            Finished::Unshare(_) => Err(nothing_to_remove()),
        }
    }

    /// Takes a member's share of a camera back by rotating the owner key,
    /// as a revocation does (the record and sets without the share are
    /// signed by the new key; nobody is revoked and no credential deleted).
    /// Without the rotation, the record from before the unshare still
    /// verified, and a server that replayed it to another owner device had
    /// that device's next set put the member back.
    pub(crate) async fn rotate_unshare(&mut self, unshare: Unshare) -> Result<UnshareOutcome> {
        let _lock = self.home().lock_revocation().await?;
        self.refuse_while_unfinished()?;
        let (handle, base) = self.record_and_digest().await?;
        let mut kept = handle.record.clone();
        if kept.camera(unshare.camera).is_none() {
            return Err(ClientError::UnknownCamera(unshare.camera.to_string()));
        }
        unshare.apply_to(&mut kept);
        match self
            .rotate_and_complete(
                handle.with_record(kept),
                None,
                Some(unshare),
                base,
                Vec::new(),
            )
            .await?
        {
            Finished::Unshare(u) => Ok(u),
            Finished::Revocation(_) => Err(nothing_to_remove()),
        }
    }

    /// Refuses to start a rotation the key log has no room for, before the
    /// journal is written: a journal whose rotation can never be appended
    /// would block every later revocation and the renewal of sets.
    async fn refuse_when_log_full(&self) -> Result<()> {
        match self.key_log().await? {
            Some(ServedLog { log, .. }) if log.statements().len() >= sealcam_keys::MAX_LOG_ENTRIES => {
                Err(ClientError::Untrusted {
                    what: "key log",
                    reason: format!(
                        "it holds {} statements, the most it may: no rotation fits, so nothing was revoked or unshared. If the server added statements nobody signed, try again once it serves the account's own log",
                        log.statements().len()
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    /// Refuses to start a revocation or unshare while one is unfinished here.
    fn refuse_while_unfinished(&self) -> Result<()> {
        match self.home().pending_revocation()? {
            Some(pending) => Err(ClientError::BadInput(format!(
                "{} started on this device is not finished; run any `sealcam` command to finish it first",
                pending.describe()
            ))),
            None => Ok(()),
        }
    }

    /// Whether this device started a revocation that has not finished
    /// (the next [`Client::connect`] finishes it).
    pub fn revocation_unfinished(&self) -> bool {
        self.home().has_revocation()
    }

    /// Finishes the revocation this device started and did not complete
    /// (`None` when there is none): run by [`Client::connect`], after the
    /// key log was followed.
    ///
    /// - If the key log, followed from the owner key the revocation started
    ///   from, passes through the key it rotated to, the rotation landed:
    ///   only holders of that key (never the victim) or of the root key
    ///   moved it since. The owner key this device holds now is sealed again
    ///   to the remaining viewers, the sets are published, the record is
    ///   written, the credentials deleted.
    /// - Otherwise the rotation never landed, and the key this device holds
    ///   now is one the victim may hold too (the one it started from, or a
    ///   rotation another holder of that key made meanwhile): the
    ///   revocation starts over from it, granting nothing the record it
    ///   began from did not.
    pub async fn finish_revocation(&mut self) -> Result<Option<Finished>> {
        if !self.home().has_revocation() {
            return Ok(None);
        }
        let _lock = self.home().lock_revocation().await?;
        let Some(mut pending) = self.home().pending_revocation()? else {
            return Ok(None);
        };
        if pending.victim.is_none() && pending.unshare.is_none() {
            return Err(nothing_to_remove());
        }
        if !self.rotation_landed(&pending).await? {
            let (handle, base, left_out) = self.record_to_restart(&pending).await?;
            return self
                .rotate_and_complete(handle, pending.victim, pending.unshare, base, left_out)
                .await
                .map(Some);
        }
        let mut handle = if pending.saved {
            self.record().await?
        } else {
            self.record_to_finish(&pending).await?
        };
        // Once the unshare's record is written, a record (under the current
        // key) that shares the camera with the account again is a newer
        // share, made by an owner device since: the server's share stays.
        let reshared = pending.saved
            && pending.unshare.is_some_and(|u| {
                handle
                    .record
                    .camera(u.camera)
                    .is_some_and(|c| c.shared_with.contains(&u.account))
            });
        pending.remove_from(&mut handle.record);
        if !pending.saved {
            self.seal_owner_key_to(&handle.record).await?;
        }
        let completed = self
            .complete_revocation(&mut handle, &mut pending, !reshared)
            .await?;
        completed.finished(pending, Vec::new()).map(Some)
    }

    /// Whether the revocation's rotation is in the key log this device
    /// followed: the log, followed from `pending.from`, adopts `pending.to`.
    async fn rotation_landed(&self, pending: &PendingRevocation) -> Result<bool> {
        if self.device().info.owner_key == pending.to {
            return Ok(true);
        }
        let Some(served) = self.key_log().await? else {
            return Ok(false);
        };
        // The chain is from the account's root key, which `pending.from`
        // names too.
        let mut state = pending.from;
        let walked = state.follow(&served.chain);
        Ok(walked.adopted.iter().any(|(_, _, key)| *key == pending.to))
    }

    /// Rotates the owner key to a new one, sealed to the viewers of
    /// `handle.record` (the record to write, without `victim` or the share
    /// `unshare` names), then [`complete_revocation`](Self::complete_revocation).
    /// `base` is the digest of the sealed record the server holds, which it
    /// writes over. The journal names the new key before the key log may.
    async fn rotate_and_complete(
        &mut self,
        mut handle: RecordHandle,
        victim: Option<ViewerEntry>,
        unshare: Option<Unshare>,
        base: String,
        left_out: Vec<String>,
    ) -> Result<Finished> {
        self.refuse_when_log_full().await?;
        let next = OwnerSigningKey::generate();
        let mut pending = PendingRevocation {
            version: JOURNAL_VERSION,
            victim,
            unshare,
            from: self.device().info.key_state(),
            to: next.public(),
            base,
            record: handle.record.clone(),
            record_sent: false,
            saved: false,
        };
        self.home().save_revocation(&pending)?;
        *self = self
            .rotate_owner_key(next, &handle.record.owner_recipients())
            .await?;
        let completed = self
            .complete_revocation(&mut handle, &mut pending, true)
            .await?;
        completed.finished(pending, left_out)
    }

    /// The revocation's steps after the rotation: the sets and the record
    /// (unless `pending` says they are written), then the credentials no
    /// remaining viewer holds (a revocation) or, when `withdraw_share`, the
    /// server's share (an unshare); the journal goes last.
    async fn complete_revocation(
        &self,
        handle: &mut RecordHandle,
        pending: &mut PendingRevocation,
        withdraw_share: bool,
    ) -> Result<Completed> {
        let mut epochs = Vec::new();
        let mut unpublished = Vec::new();
        if !pending.saved {
            // The sets first: cameras stop sealing to the victim as soon as
            // they sync. One the server says it does not know is reported,
            // not forgotten.
            let ids: Vec<CameraId> = handle.record.cameras.iter().map(|c| c.camera_id).collect();
            for id in ids {
                match self.publish_set(&mut handle.record, id).await {
                    Ok(epoch) => epochs.push((id, epoch)),
                    Err(ClientError::NotFound { .. }) => unpublished.push(id),
                    Err(e) => return Err(e),
                }
            }
            pending.record_sent = true;
            self.home().save_revocation(pending)?;
            self.save_record(handle).await?;
            pending.saved = true;
            self.home().save_revocation(pending)?;
        }
        let mut pruned = Vec::new();
        if pending.victim.is_some() {
            pruned = self.prune_credentials(&handle.record).await?;
        }
        if let Some(u) = pending.unshare.filter(|_| withdraw_share) {
            match self
                .api()
                .delete_share(*u.camera.as_uuid(), u.account)
                .await
            {
                Ok(()) | Err(ClientError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        self.home().remove_revocation()?;
        Ok(Completed {
            epochs,
            unpublished,
            pruned,
            key_position: self.device().info.key_state().position(),
        })
    }

    /// The record to finish a landed rotation on: the server's when it
    /// verifies under the owner key this device holds. Else, while this
    /// device still holds the key the revocation rotated to, the record kept
    /// in the journal — but once that record was sent, only over the very
    /// record the revocation started from: the server may hide the one sent
    /// and what other devices wrote on top of it, and the kept record would
    /// undo their changes.
    async fn record_to_finish(&self, pending: &PendingRevocation) -> Result<RecordHandle> {
        let (sealed, etag) = self.sealed_record().await?;
        let refused = match self.open_record(&sealed) {
            Ok(record) => {
                self.remember(&record)?;
                return Ok(RecordHandle::new(record, etag));
            }
            Err(e) => e,
        };
        if self.device().info.owner_key != pending.to {
            return Err(refused);
        }
        let newer_seen = self
            .home()
            .cached_record()?
            .is_some_and(|c| c.version > pending.record.version);
        let at_base = sealed_digest(&sealed) == pending.base;
        if newer_seen || (pending.record_sent && !at_base) {
            return Err(ClientError::Untrusted {
                what: "owner record",
                reason: "the server holds neither a record signed by the new owner key nor the one the revocation started from; it may hide the revocation's record and what other devices wrote after it".into(),
            });
        }
        Ok(RecordHandle::new(pending.record.clone(), etag))
    }

    /// The record a revocation that starts over writes: the one it began
    /// from (without the victim), less whatever the server's record under
    /// the key this device holds now removed meanwhile, at a version above
    /// both. Nothing the server's record adds is granted (its signer may be
    /// the victim); what it added is named.
    /// Also returns the digest of the server's record it writes over
    /// ([`sealed_digest`]) and what it left out.
    async fn record_to_restart(
        &self,
        pending: &PendingRevocation,
    ) -> Result<(RecordHandle, String, Vec<String>)> {
        let (sealed, etag) = self.sealed_record().await?;
        let mut record = pending.record.clone();
        let mut left_out = Vec::new();
        if let Ok(server) = self.open_record(&sealed) {
            // Only a rotation or a reset removes a viewer: under the very
            // key the revocation started from, a record without one of
            // them is forged (by the victim, which holds that key).
            let same_key = self.device().info.owner_key == pending.from.owner_key;
            let keep = Keep {
                victim: pending.victim.as_ref().map(|v| v.id),
                me: self.device().viewer.to_public(),
                all_viewers: same_key,
            };
            left_out = narrow_to(&mut record, &server, &keep);
        }
        pending.remove_from(&mut record);
        Ok((
            RecordHandle::new(record, etag),
            sealed_digest(&sealed),
            left_out,
        ))
    }

    /// Seals the owner key this device holds to `record`'s owner recipients
    /// and stores that bundle: a revocation that stopped before writing its
    /// bundle left the previous one, which holds the retired key (sealed to
    /// the victim too) and not the current one. The server's bundle is kept,
    /// and only re-sealed, when it holds the current key.
    async fn seal_owner_key_to(&self, record: &OwnerRecord) -> Result<()> {
        let keys = self.device().info.key_state();
        let stored = self.api().get_record(Record::KeyBundle).await?;
        let precondition = stored.as_ref().map_or(Precondition::IfAbsent, |(_, etag)| {
            Precondition::IfMatch(etag.clone())
        });
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
                precondition,
            )
            .await
            .map(drop)
    }
}

/// What [`narrow_to`] keeps whatever the server's record says.
struct Keep {
    /// The viewer being revoked, if any (not reported as left out).
    victim: Option<Uuid>,
    /// This device's viewer key: it never leaves its own record.
    me: ViewerRecipient,
    /// Keep every viewer (the server's record cannot have removed one
    /// honestly).
    all_viewers: bool,
}

/// Narrows `record` (the one a revocation began from) by `server`'s record,
/// which the victim may have signed, so that nothing `server` adds is
/// granted and what it removed (perhaps honestly, meanwhile) stays removed:
///
/// - viewers `server` lacks leave (unless `keep` says), this device never;
/// - members leave unless `server` has them with the same key, and each
///   camera is shared only with members both share it with;
/// - cameras all stay, with their kept pin (a camera left out would keep
///   sealing to the victim; one the server no longer knows leaves when its
///   set is published); the epoch follows `server`'s within
///   [`MAX_FOLLOWED_EPOCH_GAP`], as `publish_set` follows a set's;
/// - cameras shared with this account stay only if `server` lists them;
/// - the version follows `server`'s unless it is implausibly high.
///
/// Returns what `server` has that `record` does not (not granted).
fn narrow_to(record: &mut OwnerRecord, server: &OwnerRecord, keep: &Keep) -> Vec<String> {
    if !keep.all_viewers {
        record.viewers.retain(|v| {
            v.recipient == keep.me
                || server
                    .viewers
                    .iter()
                    .any(|s| s.id == v.id && s.recipient == v.recipient)
        });
    }
    record.members.retain(|m| {
        server
            .members
            .iter()
            .any(|s| s.account_id == m.account_id && s.recipient == m.recipient)
    });
    for c in &mut record.cameras {
        let same = server
            .cameras
            .iter()
            .find(|s| s.camera_id == c.camera_id && s.device_key == c.device_key);
        match same {
            Some(s) => {
                c.shared_with.retain(|m| s.shared_with.contains(m));
                if s.epoch <= c.epoch.saturating_add(MAX_FOLLOWED_EPOCH_GAP) {
                    c.epoch = c.epoch.max(s.epoch);
                }
            }
            None => c.shared_with.clear(),
        }
        let members = &record.members;
        c.shared_with
            .retain(|m| members.iter().any(|x| x.account_id == *m));
    }
    record
        .shared_with_me
        .retain(|c| server.shared_with_me.contains(c));
    if server.version < 1 << 62 {
        record.version = record.version.max(server.version);
    }
    let mut added = Vec::new();
    for v in &server.viewers {
        if Some(v.id) != keep.victim && !record.viewers.iter().any(|r| r.id == v.id) {
            added.push(format!("viewer {:?} ({})", v.name, v.id));
        }
    }
    for m in &server.members {
        if !record.members.iter().any(|r| r.account_id == m.account_id) {
            added.push(format!("member {:?} ({})", m.name, m.account_id));
        }
    }
    for c in &server.cameras {
        match record.cameras.iter().find(|r| r.camera_id == c.camera_id) {
            Some(r) if r.device_key == c.device_key => {
                for m in c.shared_with.iter().filter(|m| !r.shared_with.contains(m)) {
                    added.push(format!("share of camera {} with {m}", c.camera_id));
                }
            }
            Some(_) => added.push(format!(
                "another device key for camera {:?} ({})",
                c.name, c.camera_id
            )),
            None => added.push(format!("camera {:?} ({})", c.name, c.camera_id)),
        }
    }
    for c in &server.shared_with_me {
        if !record.shared_with_me.contains(c) {
            added.push(format!("camera {:?} shared by {}", c.name, c.owner));
        }
    }
    added
}

#[cfg(test)]
mod tests {
    use sealcam_keys::{CameraId, DeviceKey, OwnerId, ViewerIdentity};

    use super::*;
    use crate::record::{CameraEntry, Member};

    fn viewer(name: &str) -> ViewerEntry {
        ViewerEntry {
            id: Uuid::new_v4(),
            device_id: None,
            name: name.into(),
            recipient: ViewerIdentity::generate().to_public(),
            added_at: 1,
        }
    }

    fn member(name: &str) -> Member {
        Member {
            account_id: Uuid::new_v4(),
            name: name.into(),
            recipient: ViewerIdentity::generate().to_public(),
            added_at: 1,
        }
    }

    fn camera(name: &str, shared_with: &[Uuid]) -> CameraEntry {
        CameraEntry {
            camera_id: CameraId::random(),
            name: name.into(),
            device_key: DeviceKey::generate().public(),
            paired_at: 1,
            shared_with: shared_with.to_vec(),
            epoch: 3,
            expires_at: None,
            set_key: None,
        }
    }

    /// The record a revocation began from: phone, laptop; a member; a
    /// camera shared with the member.
    fn kept() -> OwnerRecord {
        let recovery = ViewerIdentity::generate().to_public();
        let mut r = OwnerRecord::new(OwnerId::random(), recovery, viewer("phone"));
        r.version = 7;
        r.viewers.push(viewer("laptop"));
        let m = member("gran");
        r.cameras.push(camera("door", &[m.account_id]));
        r.members.push(m);
        r
    }

    fn keep(record: &OwnerRecord, victim: Uuid, all_viewers: bool) -> Keep {
        Keep {
            victim: Some(victim),
            me: record.viewers[0].recipient.clone(),
            all_viewers,
        }
    }

    fn journal(victim: Option<ViewerEntry>, unshare: Option<Unshare>) -> PendingRevocation {
        let record = kept();
        PendingRevocation {
            version: JOURNAL_VERSION,
            victim,
            unshare,
            from: sealcam_keys::OwnerKeyState::legacy(
                record.owner,
                sealcam_keys::OwnerSigningKey::generate().public(),
            ),
            to: sealcam_keys::OwnerSigningKey::generate().public(),
            base: "digest".into(),
            record,
            record_sent: false,
            saved: false,
        }
    }

    #[test]
    fn a_revocation_journal_reads_as_before_and_an_unshare_names_no_victim() {
        // A revocation's journal is written as earlier releases wrote it
        // (no `unshare` key), and one of theirs reads back with its victim.
        let victim = viewer("tablet");
        let revoking = journal(Some(victim.clone()), None);
        let json = serde_json::to_value(&revoking).unwrap();
        assert!(json.get("unshare").is_none(), "{json}");
        let back: PendingRevocation = serde_json::from_value(json).unwrap();
        assert_eq!(back.victim.as_ref().map(|v| v.id), Some(victim.id));
        assert!(back.unshare.is_none());

        let mut record = kept();
        let door = record.cameras[0].camera_id;
        let gran = record.members[0].account_id;
        let unsharing = journal(
            None,
            Some(Unshare {
                camera: door,
                account: gran,
            }),
        );
        let json = serde_json::to_value(&unsharing).unwrap();
        assert!(json.get("victim").is_none(), "{json}");
        let back: PendingRevocation = serde_json::from_value(json).unwrap();
        back.remove_from(&mut record);
        // The camera is no longer shared, and the member, shared nothing
        // else, leaves the record; the viewers stay.
        assert!(record.cameras[0].shared_with.is_empty());
        assert!(record.members.is_empty());
        assert_eq!(record.viewers.len(), 2);
        assert!(back.describe().starts_with("unsharing camera"));
    }

    #[test]
    fn a_journal_names_its_layout_and_a_newer_one_is_refused_not_guessed_at() {
        let dir = tempfile::tempdir().unwrap();
        let home = crate::Home::at(dir.path().join("home"));
        let unsharing = journal(
            None,
            Some(Unshare {
                camera: kept().cameras[0].camera_id,
                account: kept().members[0].account_id,
            }),
        );
        home.save_revocation(&unsharing).unwrap();
        assert_eq!(
            home.pending_revocation().unwrap().map(|p| p.version),
            Some(JOURNAL_VERSION)
        );

        // A journal from before the layout was named reads as the first.
        let mut json = serde_json::to_value(journal(Some(viewer("tablet")), None)).unwrap();
        json.as_object_mut().unwrap().remove("version");
        std::fs::write(dir.path().join("home/revocation.json"), json.to_string()).unwrap();
        assert_eq!(
            home.pending_revocation().unwrap().map(|p| p.version),
            Some(1)
        );

        // A newer release's journal, even one whose fields this release
        // would read, is refused with what to do, and is still there.
        json["version"] = (JOURNAL_VERSION + 1).into();
        std::fs::write(dir.path().join("home/revocation.json"), json.to_string()).unwrap();
        let refused = home.pending_revocation().unwrap_err().to_string();
        assert!(
            refused.contains("kept by a newer sealcam")
                && refused.contains("finish it with that release"),
            "{refused}"
        );
        assert!(home.has_revocation());
    }

    #[test]
    fn what_the_servers_record_adds_is_named_and_not_granted() {
        let kept = kept();
        let victim = viewer("tablet");
        let mut server = kept.clone();
        server.version = 9;
        server.viewers.push(victim.clone());
        server.viewers.push(viewer("sibling"));
        let stranger = member("stranger");
        server.cameras[0].shared_with.push(stranger.account_id);
        server.members.push(stranger);
        server.cameras.push(camera("forged", &[]));

        let mut record = kept.clone();
        let left_out = narrow_to(&mut record, &server, &keep(&kept, victim.id, false));
        assert_eq!(record.viewers, kept.viewers);
        assert_eq!(record.members, kept.members);
        assert_eq!(record.cameras, kept.cameras);
        assert_eq!(record.version, 9);
        let text = left_out.join("; ");
        assert!(
            text.contains("sibling") && text.contains("stranger"),
            "{text}"
        );
        assert!(
            text.contains("forged") && !text.contains("tablet"),
            "{text}"
        );
    }

    #[test]
    fn a_camera_stays_with_its_kept_pin_and_a_plausible_epoch() {
        let kept = kept();
        let mut server = kept.clone();
        // Re-pinned to another device key, its epoch pushed past what a
        // camera takes, then left out altogether: the camera stays as kept.
        server.cameras[0].device_key = DeviceKey::generate().public();
        server.cameras[0].epoch = 1 << 40;
        let mut record = kept.clone();
        let left_out = narrow_to(&mut record, &server, &keep(&kept, Uuid::new_v4(), false));
        assert_eq!(record.cameras[0].device_key, kept.cameras[0].device_key);
        assert_eq!(record.cameras[0].epoch, kept.cameras[0].epoch);
        assert!(
            left_out.join(";").contains("another device key"),
            "{left_out:?}"
        );

        let mut server = kept.clone();
        server.cameras[0].epoch = 1 << 40;
        let mut record = kept.clone();
        narrow_to(&mut record, &server, &keep(&kept, Uuid::new_v4(), false));
        assert_eq!(record.cameras[0].epoch, kept.cameras[0].epoch);
        server.cameras[0].epoch = kept.cameras[0].epoch + 10;
        narrow_to(&mut record, &server, &keep(&kept, Uuid::new_v4(), false));
        assert_eq!(record.cameras[0].epoch, kept.cameras[0].epoch + 10);

        server.cameras.clear();
        let mut record = kept.clone();
        narrow_to(&mut record, &server, &keep(&kept, Uuid::new_v4(), false));
        assert_eq!(record.cameras.len(), 1);
    }

    #[test]
    fn what_the_servers_record_removed_stays_removed_but_this_device() {
        let kept = kept();
        let mut server = kept.clone();
        server.viewers.clear();
        server.cameras[0].shared_with.clear();
        server.members.clear();

        let mut record = kept.clone();
        let left_out = narrow_to(&mut record, &server, &keep(&kept, Uuid::new_v4(), false));
        assert!(left_out.is_empty());
        assert_eq!(record.viewers, kept.viewers[..1], "this device stays");
        assert!(record.members.is_empty());
        assert!(record.cameras[0].shared_with.is_empty());

        // Under the key the revocation started from, no viewer can have
        // been removed honestly: the viewers stay.
        let mut record = kept.clone();
        narrow_to(&mut record, &server, &keep(&kept, Uuid::new_v4(), true));
        assert_eq!(record.viewers, kept.viewers);
        assert!(record.members.is_empty());
    }

    #[test]
    fn an_implausible_version_is_not_taken() {
        let kept = kept();
        let mut server = kept.clone();
        server.version = u64::MAX;
        let mut record = kept.clone();
        narrow_to(&mut record, &server, &keep(&kept, Uuid::new_v4(), false));
        assert_eq!(record.version, kept.version);
    }
}
