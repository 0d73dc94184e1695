//! Pairing cameras (S5), listing them, retention, deletion.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use sealcam_keys::{CameraId, DevicePublicKey, PairingCode, PairingProof, PairingSecret};
use sealcam_wire::{CameraRole, CameraStatus, PartKind};
use serde::Serialize;
use uuid::Uuid;

use crate::client::Client;
use crate::error::{ClientError, Result};
use crate::home::PendingPairing;
use crate::key_witness::{Disagreement, KeyChain};
use crate::record::CameraEntry;
use crate::time::unix_now;

/// Standard base64, padded or not (what cameras send is opaque to the server).
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Parses the device key a camera registered with: base64 of its 32 bytes,
/// or base64 of (or plain) `sealcam-device-…` text.
pub fn parse_device_key(text: &str) -> Option<DevicePublicKey> {
    if let Ok(raw) = LENIENT_B64.decode(text.trim()) {
        if let Ok(bytes) = <[u8; 32]>::try_from(raw.as_slice()) {
            return DevicePublicKey::from_bytes(&bytes).ok();
        }
        if let Ok(s) = std::str::from_utf8(&raw) {
            return s.parse().ok();
        }
    }
    text.parse().ok()
}

/// Parses a pairing proof: base64, padded or not.
pub fn parse_proof(text: &str) -> Option<PairingProof> {
    let raw = LENIENT_B64.decode(text.trim()).ok()?;
    <[u8; 32]>::try_from(raw.as_slice()).ok().map(PairingProof)
}

/// A pairing code made by [`Client::pair`].
#[derive(Debug)]
pub struct PairingStart {
    /// The code (its text form goes to the camera, as text or QR).
    pub code: PairingCode,
    /// The code's text (`SEALCAM1…`).
    pub text: String,
}

/// What happened to one pending camera in [`Client::confirm_cameras`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Confirmation {
    /// The proof matched a kept pairing code: the device key is pinned, the
    /// first recipient set published and the camera confirmed.
    Confirmed {
        /// The camera.
        camera_id: CameraId,
        /// Its name.
        name: String,
        /// Its device key, as pinned.
        device_key: String,
        /// The device key's fingerprint, as the camera shows it
        /// (`sealcam-device pair` prints it), for people to compare.
        fingerprint: String,
        /// The epoch of its first recipient set.
        epoch: u64,
    },
    /// No kept pairing code proves this device key (S5): not confirmed.
    Refused {
        /// The camera.
        camera_id: CameraId,
        /// Why.
        reason: String,
    },
}

/// A camera as this device sees it: the server's view and the pinned facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CameraView {
    /// The camera.
    pub camera_id: CameraId,
    /// The name given at pairing (from the owner record), if pinned.
    pub name: Option<String>,
    /// Owned or shared with this account.
    pub role: CameraRole,
    /// Pending or active.
    pub status: CameraStatus,
    /// Retention in days (`None`: forever).
    pub retention_days: Option<u32>,
    /// The pinned device key, if this device knows it.
    pub device_key: Option<String>,
    /// Its fingerprint, as the camera shows it (`sealcam-device pair`), for
    /// people to compare.
    pub fingerprint: Option<String>,
    /// `false` when the server reports another device key than the pinned one.
    pub key_matches_server: bool,
    /// The epoch of the last recipient set this account published (owned cameras).
    pub epoch: Option<u64>,
    /// The epoch the camera sealed its newest recording to, read from that
    /// object's signed inner header (owned cameras with a recording).
    pub sealed_epoch: Option<u64>,
    /// Whether the camera took up the published set (owned, active cameras).
    pub uptake: Option<Uptake>,
    /// Owned cameras: whether their recipient sets are sealed to the
    /// camera's set key (S9) or, for a camera that published none, stored
    /// in the clear on the server.
    pub sets_sealed: Option<bool>,
}

/// Whether a camera seals to the recipient set its owner published: the
/// owner's check that a revocation (or a new viewer) is in effect on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Uptake {
    /// Its newest recording is sealed to the published epoch.
    Current,
    /// Nothing recorded yet.
    NoRecordings,
    /// Its newest recording predates the published set: it has not recorded
    /// since (or not synced yet). Not a warning by itself.
    Pending {
        /// The epoch of its newest recording.
        sealed: u64,
    },
    /// It recorded *after* the published set was issued, still at an older
    /// epoch: the set did not reach it. A revocation is not in effect on
    /// this camera — the server may be withholding it.
    Lagging {
        /// The epoch it seals to.
        sealed: u64,
        /// The epoch published.
        published: u64,
    },
    /// The server does not serve the set this account published: the set it
    /// hands the camera is older, or not signed by the current owner key. A
    /// revocation is withheld from this camera.
    Withheld {
        /// The epoch of the set the server serves, when this owner key signed it.
        serving: Option<u64>,
        /// The epoch published.
        published: u64,
    },
    /// It seals to an epoch this account never published: someone else's
    /// recipient set reached it.
    Foreign {
        /// The epoch it seals to.
        sealed: u64,
    },
    /// Its newest recording names (format v3) an owner key at a later place
    /// in the key log than the key this device holds (the server hides a
    /// rotation, a revocation on another device, from this device), or
    /// another key at a place where this device held one (the server served
    /// it a forked log). The owner record it serves may be a revoked
    /// device's.
    KeyDisagrees {
        /// The `(reset, generation)` the camera follows.
        camera: (u64, u64),
        /// The one this device holds.
        held: (u64, u64),
        /// Whether this device held another key at the camera's place (a
        /// forked log: this device's keys stay refused here, and it must
        /// be set up again), rather than holding an older place (it may
        /// still be shown the rotation).
        forked: bool,
    },
    /// Its newest recording does not open on this device, or fails
    /// verification: this device is not among its recipients.
    Unreadable {
        /// Why.
        reason: String,
    },
}

/// What a camera's newest recording says on this device.
enum Newest {
    /// It has none (or none with a part this device reads).
    Nothing,
    /// It does not open here, or fails verification: why.
    Unreadable(String),
    /// Its signed inner header.
    Meta(sealcam_format::ObjectMeta),
}

impl Uptake {
    /// `true` when the owner should act (`sealcam cameras list` flags it).
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            Self::Lagging { .. }
                | Self::Withheld { .. }
                | Self::Foreign { .. }
                | Self::KeyDisagrees { .. }
                | Self::Unreadable { .. }
        )
    }
}

impl Client {
    /// Makes a pairing code for a new camera called `name` and keeps its
    /// secret on this device until [`confirm_cameras`](Self::confirm_cameras).
    pub async fn pair(&self, name: &str) -> Result<PairingStart> {
        self.refuse_when_kept_behind("no pairing code was made")
            .await?;
        let claim = self.api().create_pairing().await?;
        let secret = PairingSecret::generate();
        let keys = self.device().info.key_state();
        let code = PairingCode {
            server_url: self.api().base_url().to_owned(),
            claim_token: claim.claim_token.clone(),
            owner: self.device().info.account_id,
            owner_key: keys.owner_key,
            trust: keys
                .root_key
                .map(|root| (root, keys.reset, keys.generation)),
            secret: secret.clone(),
            expires_at: u64::try_from(claim.expires_at).unwrap_or(0),
        };
        let text = code
            .to_text()
            .map_err(|e| ClientError::BadInput(e.to_string()))?;
        self.home().save_pairing(&PendingPairing::new(
            claim.claim_token,
            &secret,
            claim.expires_at,
            name.to_owned(),
        ))?;
        Ok(PairingStart { code, text })
    }

    /// Checks each pending camera's pairing proof against the pairing codes
    /// kept on this device; on a match pins its device key in the owner
    /// record, publishes its first recipient set and confirms it (S5).
    pub async fn confirm_cameras(&self) -> Result<Vec<Confirmation>> {
        let cameras = self.api().cameras().await?;
        let pending: Vec<_> = cameras
            .cameras
            .into_iter()
            .filter(|c| c.role == CameraRole::Owner && c.status == CameraStatus::Pending)
            .collect();
        let mut out = Vec::new();
        if pending.is_empty() {
            return Ok(out);
        }
        self.refuse_when_kept_behind("no camera was confirmed")
            .await?;
        let mut pairings = self.home().pairings()?;
        let owner = self.device().info.account_id;
        for cam in pending {
            let camera_id = CameraId::from(cam.camera_id);
            let refuse = |reason: String| Confirmation::Refused { camera_id, reason };
            let Some(device_key) = parse_device_key(&cam.device_public_key) else {
                out.push(refuse(
                    "its device key is not a valid sealcam device key".into(),
                ));
                continue;
            };
            let Some(proof) = parse_proof(&cam.pairing_proof) else {
                out.push(refuse("its pairing proof is malformed".into()));
                continue;
            };
            let mut matched = None;
            for p in &pairings {
                let secret = p.secret()?;
                if secret
                    .verify(&p.claim_token, owner, &device_key, &proof)
                    .is_ok()
                {
                    matched = Some(p);
                    break;
                }
            }
            let Some(pairing) = matched else {
                out.push(refuse(
                    sealcam_keys::PairingError::ProofMismatch.to_string()
                        + " (or it was paired from another device, or its code confirmed another camera already: confirm it there, or pair it again)",
                ));
                continue;
            };
            if pairing.is_stale(unix_now()) {
                out.push(refuse(format!(
                    "its pairing code was made more than {} hours ago: a code someone kept confirms nothing; delete the camera and pair it again",
                    crate::home::PAIRING_CONFIRMS_FOR_SECS / 3600
                )));
                continue;
            }
            let pairing = pairing.clone();
            let mut handle = self.record().await?;
            if let Some(pinned) = handle.record.camera(camera_id) {
                if pinned.device_key != device_key {
                    out.push(refuse(format!(
                        "this camera id is already pinned to another device key ({}); the server reports {} — refusing to report a key that is not pinned",
                        pinned.device_key.fingerprint(),
                        device_key.fingerprint()
                    )));
                    continue;
                }
            } else {
                handle.record.cameras.push(CameraEntry {
                    camera_id,
                    name: pairing.name.clone(),
                    device_key,
                    paired_at: unix_now(),
                    shared_with: Vec::new(),
                    epoch: 0,
                    expires_at: None,
                    set_key: None,
                });
            }
            let epoch = self.publish_set(&mut handle.record, camera_id).await?;
            self.save_record(&mut handle).await?;
            self.api().confirm_camera(cam.camera_id).await?;
            self.home().remove_pairing(&pairing.claim_token)?;
            // One code confirms one camera: a server listing one
            // registration under two ids gets the second refused.
            pairings.retain(|p| p.claim_token != pairing.claim_token);
            out.push(Confirmation::Confirmed {
                camera_id,
                name: pairing.name.clone(),
                device_key: device_key.to_string(),
                fingerprint: device_key.fingerprint(),
                epoch,
            });
        }
        Ok(out)
    }

    /// Refuses (exit 8) when the newest recording of a camera this account
    /// owns names an owner key this device did not hold at its place: a
    /// newer one (the server hides a rotation from this device) or another
    /// (a forked log). A camera paired from such a device would pin the key
    /// a revoked device kept, and its first set would seal to the viewers
    /// of a record that device may have written (found by review). A camera
    /// that recorded nothing since the rotation, or recordings the server
    /// hides, say nothing: the check passes then (PROTOCOL.md).
    async fn refuse_when_kept_behind(&self, undone: &str) -> Result<()> {
        let chain = self.key_chain()?;
        for v in self.camera_views().await? {
            if v.epoch.is_none() || (v.role, v.status) != (CameraRole::Owner, CameraStatus::Active)
            {
                continue;
            }
            if let Newest::Meta(meta) = self.newest(v.camera_id).await? {
                chain
                    .check(meta.followed.as_ref())
                    .map_err(|d| d.refusal(v.camera_id, undone))?;
            }
        }
        Ok(())
    }

    /// Every camera the server lists for this account, with what this device
    /// pinned; for owned cameras, whether each took up the published set.
    pub async fn cameras(&self) -> Result<Vec<CameraView>> {
        let mut views = self.camera_views().await?;
        let chain = self.key_chain()?;
        for v in views.iter_mut() {
            if let (Some(published), CameraStatus::Active) = (v.epoch, v.status) {
                let (sealed, uptake) = self.uptake(v.camera_id, published, &chain).await?;
                v.sealed_epoch = sealed;
                v.uptake = Some(uptake);
            }
        }
        Ok(views)
    }

    /// The newest recording's signed epoch against the published one.
    async fn uptake(
        &self,
        camera: CameraId,
        published: u64,
        chain: &KeyChain,
    ) -> Result<(Option<u64>, Uptake)> {
        let serving = self.verified_server_set(camera).await?;
        let withheld = match serving.as_ref().map(|s| s.epoch()) {
            Some(e) if e >= published => None,
            serving => Some(Uptake::Withheld { serving, published }),
        };
        let issued = serving.map(|s| s.set().issued_at());
        let (sealed, uptake) = self.newest_uptake(camera, published, issued, chain).await?;
        // A camera sealing to an epoch never published, or under a newer
        // owner key than this device holds, says the most; then a server
        // withholding the published set (the cause of a camera that lags,
        // or seals to the recovery key alone).
        Ok(match (withheld, uptake) {
            (_, u @ (Uptake::Foreign { .. } | Uptake::KeyDisagrees { .. })) => (sealed, u),
            (Some(w), _) => (sealed, w),
            (None, u) => (sealed, u),
        })
    }

    /// What the camera's newest recording says, read from its smallest part
    /// (the smallest tells as much as the largest).
    async fn newest(&self, camera: CameraId) -> Result<Newest> {
        let page = self
            .api()
            .events(
                *camera.as_uuid(),
                &sealcam_wire::EventsQuery {
                    since: None,
                    until: None,
                    before: None,
                    limit: Some(1),
                },
            )
            .await?;
        let Some(event) = page.events.first() else {
            return Ok(Newest::Nothing);
        };
        let Some(part) = [PartKind::Record, PartKind::Thumbnail, PartKind::Clip]
            .into_iter()
            .find(|k| event.parts.iter().any(|p| p.kind == *k))
        else {
            return Ok(Newest::Nothing);
        };
        match self
            .open_part(sealcam_keys::EventId::from(event.event_id), part)
            .await
        {
            Ok(object) => Ok(Newest::Meta(object.meta().clone())),
            Err(e) if e.is_misdelivery() || e.is_verification_failure() => {
                Ok(Newest::Unreadable(e.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    /// `issued`: when the set the server serves (signed by this owner key)
    /// was issued.
    async fn newest_uptake(
        &self,
        camera: CameraId,
        published: u64,
        issued: Option<u64>,
        chain: &KeyChain,
    ) -> Result<(Option<u64>, Uptake)> {
        let meta = match self.newest(camera).await? {
            Newest::Nothing => return Ok((None, Uptake::NoRecordings)),
            Newest::Unreadable(reason) => return Ok((None, Uptake::Unreadable { reason })),
            Newest::Meta(meta) => meta,
        };
        let sealed = meta.epoch;
        let captured = meta.captured_at_ms.div_euclid(1000);
        let followed = meta.followed;
        let uptake = if let (Some(f), Err(d)) = (followed, chain.check(followed.as_ref())) {
            Uptake::KeyDisagrees {
                camera: f.position,
                held: chain.held_at(),
                forked: matches!(d, Disagreement::Forked { .. }),
            }
        } else if sealed == published {
            Uptake::Current
        } else if sealed > published {
            Uptake::Foreign { sealed }
        } else if issued.is_some_and(|issued| captured >= issued as i64) {
            Uptake::Lagging { sealed, published }
        } else {
            Uptake::Pending { sealed }
        };
        Ok((Some(sealed), uptake))
    }

    /// Every camera the server lists for this account, with what this
    /// device pinned (no uptake check: one request).
    pub async fn camera_views(&self) -> Result<Vec<CameraView>> {
        let listed = self.api().cameras().await?;
        let record = self.verified_record(false).await?;
        Ok(listed
            .cameras
            .into_iter()
            .map(|c| {
                let id = CameraId::from(c.camera_id);
                let server_key = parse_device_key(&c.device_public_key);
                let owned = record.camera(id);
                let (name, key, epoch) = if let Some(e) = owned {
                    (Some(e.name.clone()), Some(e.device_key), Some(e.epoch))
                } else if let Some(s) = record.shared_with_me.iter().find(|s| s.camera_id == id) {
                    (Some(s.name.clone()), Some(s.device_key), None)
                } else {
                    (None, None, None)
                };
                CameraView {
                    camera_id: id,
                    name,
                    role: c.role,
                    status: c.status,
                    retention_days: c.retention_days,
                    device_key: key.map(|k| k.to_string()),
                    fingerprint: key.map(|k| k.fingerprint()),
                    key_matches_server: key.is_none() || key == server_key,
                    epoch,
                    sealed_epoch: None,
                    uptake: None,
                    sets_sealed: owned.map(|e| e.set_key.is_some()),
                }
            })
            .collect())
    }

    /// Finds an owned or shared camera by id or by name.
    pub async fn resolve_camera(&self, text: &str) -> Result<CameraId> {
        if let Ok(id) = text.parse::<Uuid>() {
            return Ok(CameraId::from(id));
        }
        let record = self.verified_record(false).await?;
        let mut found = record
            .cameras
            .iter()
            .filter(|c| c.name == text)
            .map(|c| c.camera_id)
            .chain(
                record
                    .shared_with_me
                    .iter()
                    .filter(|c| c.name == text)
                    .map(|c| c.camera_id),
            );
        match (found.next(), found.next()) {
            (Some(id), None) => Ok(id),
            (Some(_), Some(_)) => Err(ClientError::BadInput(format!(
                "several cameras are called {text:?}; use the camera id"
            ))),
            (None, _) => Err(ClientError::UnknownCamera(text.to_owned())),
        }
    }

    /// Sets how many days a camera's events are kept (`None`: forever).
    pub async fn set_retention(&self, camera: CameraId, days: Option<u32>) -> Result<()> {
        self.api().set_retention(*camera.as_uuid(), days).await
    }

    /// Deletes a camera (pending or paired) with its events, and forgets it.
    pub async fn delete_camera(&self, camera: CameraId) -> Result<()> {
        self.api().delete_camera(*camera.as_uuid()).await?;
        let mut handle = self.record().await?;
        let before = handle.record.cameras.len();
        handle.record.cameras.retain(|c| c.camera_id != camera);
        if handle.record.cameras.len() != before {
            self.save_record(&mut handle).await?;
        }
        Ok(())
    }
}
