//! [`Client`]: a working device (its home, keys and server) and the account
//! operations every flow shares: reading and writing the owner record,
//! re-sealing the owner key bundle, publishing recipient sets.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sealcam_keys::{
    open_set_document, seal_set, CameraId, OwnerKeyBundle, RecipientSet, RecipientSetPin,
    SetBinding, SetKeyStatement, SignedRecipientSet, VerifiedRecipientSet, ViewerRecipient,
    SET_LIFETIME_SECS,
};

use crate::api::{is_stale_epoch, Api, Precondition, Record};
use crate::error::{ClientError, Result};
use crate::home::{Device, Home};
use crate::record::OwnerRecord;
use crate::time::unix_now;

/// How far above the record's epoch a set on the server, signed by this
/// owner key, may be for `publish_set` to go above it (another device of the
/// owner published meanwhile) instead of superseding it.
pub(crate) const MAX_FOLLOWED_EPOCH_GAP: u64 = 1024;

/// Sets expiring within this many seconds are renewed by
/// [`Client::renew_sets`] (every `sealcam` command runs it): 7 days.
pub const RENEW_BEFORE_SECS: u64 = 7 * 86_400;

/// How long [`Client::verified_record`] keeps the owner record in memory
/// before reading it from the server again.
pub const RECORD_FRESH_FOR: Duration = Duration::from_secs(60);

/// The owner record kept in memory, and when it was verified.
type Verified = (Instant, Arc<OwnerRecord>);

/// A device that is set up: the entry point of every owner flow.
#[derive(Debug, Clone)]
pub struct Client {
    home: Home,
    device: Device,
    api: Api,
    /// The owner record as last verified by this process, and when (shared
    /// by clones): read paths verify it once, not per object.
    verified: Arc<Mutex<Option<Verified>>>,
    /// Slot hint keys by camera, made once each.
    hints: crate::fetch::HintCache,
}

/// The owner record as read from the server, with the version to write over.
#[derive(Debug, Clone)]
pub struct RecordHandle {
    /// The verified record.
    pub record: OwnerRecord,
    etag: String,
}

impl RecordHandle {
    /// `record`, to be written over the server's version `etag`.
    pub(crate) fn new(record: OwnerRecord, etag: String) -> Self {
        Self { record, etag }
    }

    /// `record`, to be written over the version this handle was read at.
    pub(crate) fn with_record(self, record: OwnerRecord) -> Self {
        Self { record, ..self }
    }
}

impl Client {
    /// Opens the device set up in `home`.
    pub fn open(home: Home) -> Result<Self> {
        let device = home.load_device()?;
        Self::from_parts(home, device)
    }

    /// Opens the device set up in `home`, follows the account's key log
    /// ([`sync_trust`](Self::sync_trust)) and finishes a revocation this
    /// device started and did not complete
    /// ([`finish_revocation`](Self::finish_revocation); its failure is
    /// reported, not returned): what every command should do first.
    pub async fn connect(home: Home) -> Result<(Self, crate::TrustReport)> {
        let mut client = Self::open(home)?;
        let mut report = client.sync_trust().await?;
        match client.finish_revocation().await {
            Ok(finished) => report.finished = finished,
            Err(e) => report.unfinished = Some(e.to_string()),
        }
        Ok((client, report))
    }

    /// Builds a client from parts (after `init`, `recover` or linking).
    pub(crate) fn from_parts(home: Home, device: Device) -> Result<Self> {
        let api = device.api()?;
        Ok(Self {
            home,
            device,
            api,
            verified: Arc::default(),
            hints: Arc::default(),
        })
    }

    /// The home directory.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// This device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    pub(crate) fn hints(&self) -> &crate::fetch::HintCache {
        &self.hints
    }

    /// The API client, authenticated as this device.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// Reads the owner record from the server and checks it: sealed to this
    /// device, signed by the pinned owner key, for this owner, and not older
    /// than the last one this device saw.
    pub async fn record(&self) -> Result<RecordHandle> {
        Ok(self.record_and_digest().await?.0)
    }

    /// [`record`](Self::record), and the SHA-256 of the sealed bytes the
    /// server sent ([`sealed_digest`]).
    pub(crate) async fn record_and_digest(&self) -> Result<(RecordHandle, String)> {
        let (sealed, etag) = self.sealed_record().await?;
        let record = self.open_record(&sealed)?;
        self.remember(&record)?;
        Ok((RecordHandle { record, etag }, sealed_digest(&sealed)))
    }

    /// The sealed owner record the server holds, and its ETag.
    pub(crate) async fn sealed_record(&self) -> Result<(Vec<u8>, String)> {
        self.api
            .get_record(Record::OwnerRecord)
            .await?
            .ok_or_else(|| ClientError::Untrusted {
                what: "owner record",
                reason: "the server has none for this account (was `sealcam init` completed?)"
                    .into(),
            })
    }

    /// Opens a sealed owner record as [`record`](Self::record) does (sealed
    /// to this device, signed by the owner key it holds, for its account).
    pub(crate) fn open_record(&self, sealed: &[u8]) -> Result<OwnerRecord> {
        Ok(OwnerRecord::open(
            sealed,
            &self.device.viewer,
            self.device.info.account_id,
            &self.device.info.owner_key,
        )?)
    }

    /// The owner record, verified once and kept in memory for
    /// [`RECORD_FRESH_FOR`] ([`record`](Self::record) on first use, after
    /// that long, or when `refresh`): what read paths use to find a camera's
    /// pinned key without a request per object. A long-running viewer thus
    /// learns of a removed camera or a new one within that time.
    pub async fn verified_record(&self, refresh: bool) -> Result<Arc<OwnerRecord>> {
        if !refresh {
            if let Some((at, record)) = self.lock_verified().clone() {
                if at.elapsed() < RECORD_FRESH_FOR {
                    return Ok(record);
                }
            }
        }
        let record = self.record().await?.record;
        Ok(Arc::new(record))
    }

    fn lock_verified(&self) -> std::sync::MutexGuard<'_, Option<Verified>> {
        // The guarded value is replaced whole, never left half-written.
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks `record` against the last one this device verified (no
    /// rollback, no fork), keeps it in memory, and writes it to the home
    /// only when it changed: a read writes nothing.
    pub(crate) fn remember(&self, record: &OwnerRecord) -> Result<()> {
        let cached = self.home.cached_record()?;
        if let Some(cached) = &cached {
            OwnerRecord::check_successor(cached, record)?;
        }
        if cached.as_ref() != Some(record) {
            self.home.cache_record(record)?;
        }
        *self.lock_verified() = Some((Instant::now(), Arc::new(record.clone())));
        Ok(())
    }

    /// Writes a changed record over the version it was read at (its version
    /// grows by one). [`ClientError::Conflict`] when another device wrote first.
    pub async fn save_record(&self, handle: &mut RecordHandle) -> Result<()> {
        handle.record.version = handle.record.version.checked_add(1).ok_or_else(|| {
            ClientError::Protocol("the owner record's version would overflow".into())
        })?;
        let sealed = handle.record.seal(&self.device.owner_key)?;
        handle.etag = self
            .api
            .put_record(
                Record::OwnerRecord,
                sealed,
                Precondition::IfMatch(handle.etag.clone()),
            )
            .await?;
        self.remember(&handle.record)
    }

    /// Re-seals the owner key bundle to the record's owner recipients (every
    /// viewer and the recovery key), keeping its recovery tag.
    pub async fn reseal_bundle(&self, record: &OwnerRecord) -> Result<()> {
        let Some((sealed, etag)) = self.api.get_record(Record::KeyBundle).await? else {
            return Err(ClientError::Untrusted {
                what: "owner key bundle",
                reason: "the server has none for this account".into(),
            });
        };
        let bundle = OwnerKeyBundle::open_as_viewer(
            &sealed,
            &self.device.viewer,
            self.device.info.account_id,
            &self.device.info.owner_key,
        )?;
        let resealed = bundle.seal(&record.owner_recipients())?;
        self.api
            .put_record(Record::KeyBundle, resealed, Precondition::IfMatch(etag))
            .await
            .map(drop)
    }

    /// Publishes a new recipient set for an owned camera from the record;
    /// returns its epoch (also stored in the record's camera entry).
    ///
    /// The set (format v2) names the camera's pinned device key, the owner
    /// key's place in the key log and an expiry. Its epoch is one above the
    /// highest *verified* epoch: the record's, or the server's set when it is
    /// signed by this owner key. A set on the server that does not verify (one
    /// an attacker stored, with an epoch up to `u64::MAX`) counts for nothing,
    /// and this set supersedes it.
    pub async fn publish_set(&self, record: &mut OwnerRecord, camera: CameraId) -> Result<u64> {
        let entry = record
            .camera(camera)
            .ok_or_else(|| ClientError::UnknownCamera(camera.to_string()))?
            .clone();
        let recipients = record.camera_recipients(&entry);
        let keys = self.device.info.key_state();
        let overflow = || ClientError::Protocol("the recipient-set epoch would overflow".into());
        // Only epochs this owner key signed count, and only near the record's:
        // owner devices add one per change, so a set signed with this very
        // key far above the record (stored by a device that held the key, to
        // lock the account) is superseded, not followed.
        let counted =
            |e: Option<u64>| e.filter(|&e| e <= entry.epoch.saturating_add(MAX_FOLLOWED_EPOCH_GAP));
        let mut epoch = entry
            .epoch
            .max(counted(self.verified_epoch(camera).await?).unwrap_or(0))
            .checked_add(1)
            .filter(|&e| e < 1 << 63)
            .ok_or_else(overflow)?;
        let mut supersede = false;
        let set_key = self.adopt_set_key(record, camera).await?;
        for _ in 0..8 {
            let now = unix_now().max(0) as u64;
            let set = RecipientSet::bound(
                record.owner,
                camera,
                epoch,
                now,
                recipients.clone(),
                SetBinding {
                    device_key: entry.device_key,
                    expires_at: now.saturating_add(SET_LIFETIME_SECS),
                    key_position: keys.position(),
                    recovery: record.recovery.clone(),
                },
            )?
            .sign(&self.device.owner_key);
            // S9: sealed to the camera's set key and the owner's devices, so
            // the server does not learn the viewer keys; in the clear only
            // for a camera that has published no valid set key.
            let document = match &set_key {
                Some(key) => seal_set(&set, key, &record.owner_recipients()).ok_or_else(|| {
                    ClientError::Protocol("sealing the recipient set failed".into())
                })?,
                None => set.as_bytes().to_vec(),
            };
            match self
                .api
                .put_recipient_set(*camera.as_uuid(), epoch, &document, supersede)
                .await
            {
                Ok(()) => {
                    if let Some(c) = record.camera_mut(camera) {
                        c.epoch = epoch;
                        c.expires_at = Some(now.saturating_add(SET_LIFETIME_SECS));
                    }
                    return Ok(epoch);
                }
                Err(e) if is_stale_epoch(&e) => match counted(self.verified_epoch(camera).await?) {
                    // Another device of this owner published meanwhile: go above it.
                    Some(theirs) if theirs >= epoch => {
                        epoch = theirs.checked_add(1).ok_or_else(overflow)?;
                    }
                    // The stored set is not one this owner key signed.
                    _ => supersede = true,
                },
                Err(e) => return Err(e),
            }
        }
        Err(ClientError::Conflict)
    }

    /// The camera's set key: the one the record holds, or the one the camera
    /// published when its statement verifies under the pinned device key
    /// (then kept in `record`, which the caller writes). `None` when the
    /// camera has published none, or the server offers one the camera did
    /// not sign.
    async fn adopt_set_key(
        &self,
        record: &mut OwnerRecord,
        camera: CameraId,
    ) -> Result<Option<ViewerRecipient>> {
        let Some(entry) = record.camera(camera) else {
            return Err(ClientError::UnknownCamera(camera.to_string()));
        };
        if let Some(key) = &entry.set_key {
            return Ok(Some(key.clone()));
        }
        let device_key = entry.device_key;
        let offered = self
            .api
            .cameras()
            .await?
            .cameras
            .into_iter()
            .find(|c| c.camera_id == *camera.as_uuid())
            .and_then(|c| c.set_key);
        let verified = offered
            .and_then(|text| SetKeyStatement::from_text(&text).ok())
            .and_then(|st| st.verify(record.owner, camera, &device_key).ok().cloned());
        if let (Some(key), Some(entry)) = (&verified, record.camera_mut(camera)) {
            entry.set_key = Some(key.clone());
        }
        Ok(verified)
    }

    /// The camera's set on the server when this owner key signed it; `None`
    /// when there is none or it does not verify (S4: a set the owner key did
    /// not sign does not move the epoch, nor say when anything was published).
    pub(crate) async fn verified_server_set(
        &self,
        camera: CameraId,
    ) -> Result<Option<VerifiedRecipientSet>> {
        let Some(current) = self.api.recipient_set(*camera.as_uuid()).await? else {
            return Ok(None);
        };
        let Ok(document) = STANDARD.decode(&current.set) else {
            return Ok(None);
        };
        let Ok(bytes) = open_set_document(&document, &[&self.device.viewer]) else {
            return Ok(None);
        };
        let pin = RecipientSetPin {
            owner: self.device.info.account_id,
            camera,
            owner_key: self.device.info.owner_key,
        };
        Ok(SignedRecipientSet::from_bytes(&bytes)
            .and_then(|s| s.verify(&pin))
            .ok())
    }

    /// The epoch of [`verified_server_set`](Self::verified_server_set).
    async fn verified_epoch(&self, camera: CameraId) -> Result<Option<u64>> {
        Ok(self.verified_server_set(camera).await?.map(|v| v.epoch()))
    }

    /// Renews the recipient sets that expire within `RENEW_BEFORE_SECS`
    /// (7 days), or whose expiry this record does not know: a camera whose
    /// set expires seals to the recovery key alone. Returns the cameras
    /// renewed; writes the record when there are any.
    pub async fn renew_sets(&self) -> Result<Vec<(CameraId, u64)>> {
        // Until an unfinished revocation has written its record, the record
        // may still name the revoked viewer: renewing would extend its access.
        // A journal that does not read (a newer release's) counts as one.
        let unfinished = match self.home().pending_revocation() {
            Ok(pending) => pending.is_some_and(|p| !p.saved),
            Err(_) => true,
        };
        if unfinished {
            return Ok(Vec::new());
        }
        let mut handle = self.record().await?;
        let soon = (unix_now().max(0) as u64).saturating_add(RENEW_BEFORE_SECS);
        let due: Vec<CameraId> = handle
            .record
            .cameras
            .iter()
            .filter(|c| c.expires_at.is_none_or(|t| t <= soon))
            .map(|c| c.camera_id)
            .collect();
        let mut renewed = Vec::with_capacity(due.len());
        for id in due {
            renewed.push((id, self.publish_set(&mut handle.record, id).await?));
        }
        if !renewed.is_empty() {
            self.save_record(&mut handle).await?;
        }
        Ok(renewed)
    }

    /// Publishes new sets for every owned camera (after a viewer change).
    pub async fn publish_all_sets(&self, record: &mut OwnerRecord) -> Result<Vec<(CameraId, u64)>> {
        let ids: Vec<CameraId> = record.cameras.iter().map(|c| c.camera_id).collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push((id, self.publish_set(record, id).await?));
        }
        Ok(out)
    }
}

/// The SHA-256 of a sealed owner record as the server sent it (hex): how a
/// revocation recognises the record it writes over, whatever signed it.
pub(crate) fn sealed_digest(sealed: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(sealed))
}
