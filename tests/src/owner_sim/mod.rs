//! The kit's owner for camera tests: a minimal owner that speaks the HTTP
//! API through the app SDK's API client ([`sealcam_client::Api`]) and signs
//! with `sealcam-keys` itself. It enrolls, makes pairing codes, verifies the
//! pairing proof of each pending camera (S5) before it confirms it, and signs
//! and publishes recipient sets — and, unlike the app SDK's flows, it signs
//! and stores whatever a test asks for: sets at any epoch or expiry, for any
//! device key, signed by any key; key logs with an attacker's statements;
//! version-1 codes and sets of an owner of before trust v2. The device SDK's
//! tests, the reconnect storm (`tests/tests/storm.rs`, the `sealcam-storm`
//! command) and the device bench use it; household tests use the app SDK's
//! own flows ([`crate::Owner`]).
//!
//! It is an owner of trust v2: a recovery key and the root key it derives,
//! a key log that starts with the genesis reset `(1, 0)` (stored with
//! `PUT /v1/account/key-log`), pairing codes that name the root key, and
//! version-2 recipient sets bound to each camera's device key (the one it
//! pinned from the cameras list), to the owner key's position, to an expiry
//! `SET_LIFETIME_SECS` away, with the recovery key among the recipients. It
//! can rotate and reset its owner key ([`trust`]). [`SimOwner::enroll_legacy`]
//! makes an owner of before v2 (version-1 codes and sets, no key log) whose
//! first [`rotate`](SimOwner::rotate) upgrades it.
//!
//! Its calls block on a tokio runtime handle (the harness's, or the
//! command's own), so camera threads, which are blocking like firmware, call
//! it directly.

pub mod trust;

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;

use sealcam_client::api::{Precondition, Record};
use sealcam_client::{parse_device_key, parse_proof, Api, Credential};
use sealcam_device::{Device, DeviceConfig, SyncOutcome};
use sealcam_format::{open_to_vec, Binding, OpenError, OpenedObject};
use sealcam_keys::{
    unix_now, CameraId, DevicePublicKey, EventId, KeyLog, KeyStatement, OwnerId, OwnerKeyState,
    OwnerSigningKey, PairingCode, PairingSecret, RecoveryKey, RootSigningKey, ViewerIdentity,
};
use sealcam_wire::{CameraStatus, Event, EventsQuery, PartKind};
use tokio::runtime::Handle;

use crate::HarnessError;

pub use trust::SetSpec;

struct PendingPairing {
    claim_token: String,
    secret: PairingSecret,
}

/// An owner account with one viewer device.
pub struct SimOwner {
    rt: Handle,
    api: Api,
    account: OwnerId,
    key: OwnerSigningKey,
    viewer: ViewerIdentity,
    recovery: RecoveryKey,
    root: RootSigningKey,
    /// The owner key's state: key, root key (`None` while legacy), position.
    keys: OwnerKeyState,
    log: KeyLog,
    pending: Vec<PendingPairing>,
    pinned: HashMap<CameraId, DevicePublicKey>,
    epochs: HashMap<CameraId, u64>,
}

impl std::fmt::Debug for SimOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimOwner")
            .field("server", &self.api.base_url())
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl SimOwner {
    /// Enrolls a viewer device with a one-time enrollment token
    /// (`sealcam-server accounts create`), and makes a fresh owner key,
    /// viewer identity and recovery key; stores the key log holding the
    /// genesis reset (the owner key at reset 1, generation 0).
    pub fn enroll(
        rt: &Handle,
        server_url: &str,
        enrollment_token: &str,
    ) -> Result<Self, HarnessError> {
        let mut owner = Self::enroll_legacy(rt, server_url, enrollment_token)?;
        let root = owner.root.public();
        owner.keys = OwnerKeyState::new(owner.account, owner.key.public(), Some(root), 1, 0);
        let genesis = KeyStatement::reset(
            owner.account,
            &owner.root,
            1,
            0,
            owner.key.public(),
            unix_now(),
        );
        owner.log.push(genesis)?;
        let bytes = owner.log.to_bytes();
        owner.block_on(
            owner
                .api
                .put_record(Record::KeyLog, bytes, Precondition::IfAbsent),
        )?;
        Ok(owner)
    }

    /// Enrolls an owner of before owner trust v2: version-1 pairing codes
    /// (no root key), version-1 recipient sets, no key log. Its first
    /// [`rotate`](Self::rotate) names the root key and upgrades it.
    pub fn enroll_legacy(
        rt: &Handle,
        server_url: &str,
        enrollment_token: &str,
    ) -> Result<Self, HarnessError> {
        let api = Api::new(server_url)?;
        let e = rt.block_on(api.enroll(enrollment_token, None))?;
        let account = OwnerId::from(e.account_id);
        let key = OwnerSigningKey::generate();
        let recovery = RecoveryKey::generate();
        let root = recovery.root_key();
        Ok(Self {
            rt: rt.clone(),
            api: api.with_credential(Credential::new(e.credential)),
            account,
            keys: OwnerKeyState::legacy(account, key.public()),
            key,
            viewer: ViewerIdentity::generate(),
            recovery,
            root,
            log: KeyLog::new(),
            pending: Vec::new(),
            pinned: HashMap::new(),
            epochs: HashMap::new(),
        })
    }

    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The owner (account) id.
    pub fn account(&self) -> OwnerId {
        self.account
    }

    /// The owner signing key in use.
    pub fn signing_key(&self) -> &OwnerSigningKey {
        &self.key
    }

    /// The owner key's state: key, root key, `(reset, generation)`.
    pub fn keys(&self) -> OwnerKeyState {
        self.keys
    }

    /// Whether this owner is still of before trust v2 (see [`Self::enroll_legacy`]).
    pub fn is_legacy(&self) -> bool {
        self.keys.root_key.is_none()
    }

    /// The recovery key (a recipient of every version-2 set).
    pub fn recovery(&self) -> &RecoveryKey {
        &self.recovery
    }

    /// The root key derived from the recovery key (signs resets).
    pub fn root_key(&self) -> &RootSigningKey {
        &self.root
    }

    /// The key log as this owner wrote it.
    pub fn key_log(&self) -> &KeyLog {
        &self.log
    }

    /// The owner's viewer identity (a recipient of every set it publishes).
    pub fn viewer(&self) -> &ViewerIdentity {
        &self.viewer
    }

    /// The device key pinned for `camera` at confirmation.
    pub fn device_key(&self, camera: CameraId) -> Option<DevicePublicKey> {
        self.pinned.get(&camera).copied()
    }

    /// The last epoch published for `camera`.
    pub fn epoch(&self, camera: CameraId) -> u64 {
        self.epochs.get(&camera).copied().unwrap_or(0)
    }

    /// A new pairing code (the owner keeps its secret until the camera is confirmed).
    pub fn pairing_code(&mut self) -> Result<String, HarnessError> {
        let p = self.block_on(self.api.create_pairing())?;
        let secret = PairingSecret::generate();
        let code = PairingCode {
            server_url: self.api.base_url().to_owned(),
            claim_token: p.claim_token.clone(),
            owner: self.account,
            owner_key: self.key.public(),
            trust: self
                .keys
                .root_key
                .map(|root| (root, self.keys.reset, self.keys.generation)),
            secret: secret.clone(),
            expires_at: u64::try_from(p.expires_at).unwrap_or(0),
        };
        self.pending.push(PendingPairing {
            claim_token: p.claim_token,
            secret,
        });
        Ok(code.to_text()?)
    }

    /// Confirms every pending camera whose pairing proof matches one of the
    /// kept pairing secrets, pins its device key and publishes recipient set
    /// epoch 1 (the owner's viewer). Returns the confirmed cameras; a pending
    /// camera whose proof matches no secret is left unconfirmed.
    pub fn confirm_pending(&mut self) -> Result<Vec<CameraId>, HarnessError> {
        let list = self.block_on(self.api.cameras())?;
        let mut confirmed = Vec::new();
        for cam in list.cameras {
            if cam.status != CameraStatus::Pending {
                continue;
            }
            let Some(device) = parse_device_key(&cam.device_public_key) else {
                continue;
            };
            let Some(proof) = parse_proof(&cam.pairing_proof) else {
                continue;
            };
            let owner = self.account;
            let Some(i) = self.pending.iter().position(|p| {
                p.secret
                    .verify(&p.claim_token, owner, &device, &proof)
                    .is_ok()
            }) else {
                continue;
            };
            self.pending.swap_remove(i);
            self.block_on(self.api.confirm_camera(cam.camera_id))?;
            let camera = CameraId::from(cam.camera_id);
            self.pinned.insert(camera, device);
            self.publish(camera, vec![self.viewer.to_public()])?;
            confirmed.push(camera);
        }
        Ok(confirmed)
    }

    /// Pairs a new camera (state in `state`) through the real flow: a
    /// pairing code → the camera registers with its proof → the owner
    /// checks the proof, pins the key and publishes epoch 1 → the camera
    /// syncs it.
    pub fn pair_camera(
        &mut self,
        state: &Path,
        config: DeviceConfig,
    ) -> Result<Device, HarnessError> {
        let code = self.pairing_code()?;
        let mut device = Device::open(state, config)?;
        device.pair(&code)?;
        let camera = device.camera_id().ok_or("the camera did not pair")?;
        let confirmed = self.confirm_pending()?;
        if confirmed != [camera] {
            return Err(format!("confirmed {confirmed:?}, not only camera {camera}").into());
        }
        match device.sync()? {
            SyncOutcome::Updated { from: None, to: 1 } => Ok(device),
            other => Err(format!("camera {camera}: first sync {other:?}").into()),
        }
    }

    /// The header and payload of one part.
    pub fn fetch(
        &self,
        event: EventId,
        kind: PartKind,
    ) -> Result<(Vec<u8>, Vec<u8>), HarnessError> {
        let id = *event.as_uuid();
        let header = self.block_on(self.api.part_header(id, kind))?;
        let info = self.block_on(self.api.event(id))?;
        let size = info
            .parts
            .iter()
            .find(|p| p.kind == kind)
            .ok_or_else(|| format!("event {event} has no {kind}"))?
            .payload_size;
        let payload = match size {
            0 => Vec::new(),
            n => self.block_on(self.api.payload_range_vec(id, kind, 0..n))?,
        };
        Ok((header, payload))
    }

    /// Fetches one part of `camera`'s `event` and opens it with the owner's
    /// viewer key and the device key pinned at pairing.
    pub fn open(
        &self,
        camera: CameraId,
        event: EventId,
        kind: PartKind,
    ) -> Result<OpenedObject, HarnessError> {
        self.open_as(&self.viewer, camera, event, kind)
    }

    /// Like [`open`](Self::open), with another viewer identity (a member, an
    /// attacker, the recovery key's).
    pub fn open_as(
        &self,
        viewer: &ViewerIdentity,
        camera: CameraId,
        event: EventId,
        kind: PartKind,
    ) -> Result<OpenedObject, HarnessError> {
        let (header, payload) = self.fetch(event, kind)?;
        self.open_fetched(viewer, camera, event, kind, &header, &payload)
    }

    /// Opens a part already [`fetch`](Self::fetch)ed, as `viewer`, with the
    /// device key pinned for `camera`.
    pub fn open_fetched(
        &self,
        viewer: &ViewerIdentity,
        camera: CameraId,
        event: EventId,
        kind: PartKind,
        header: &[u8],
        payload: &[u8],
    ) -> Result<OpenedObject, HarnessError> {
        let binding = Binding {
            owner: self.account,
            camera,
            event,
            kind: format_kind(kind),
            sequence: 0,
        };
        let pinned = self
            .device_key(camera)
            .ok_or_else(|| format!("camera {camera} is not confirmed by this owner"))?;
        Ok(open_to_vec(header, payload, &[viewer], &binding, &pinned)?)
    }

    /// Every event of `camera`, newest first.
    pub fn events(&self, camera: CameraId) -> Result<Vec<Event>, HarnessError> {
        let mut out = Vec::new();
        let mut query = EventsQuery {
            limit: Some(1000),
            ..EventsQuery::default()
        };
        loop {
            let page = self.block_on(self.api.events(*camera.as_uuid(), &query))?;
            out.extend(page.events);
            match page.next {
                Some(next) => query.before = Some(next),
                None => return Ok(out),
            }
        }
    }
}

/// The format's name of a part kind (the API's and the format's are distinct types).
pub fn format_kind(kind: PartKind) -> sealcam_format::PartKind {
    match kind {
        PartKind::Thumbnail => sealcam_format::PartKind::Thumbnail,
        PartKind::Clip => sealcam_format::PartKind::Clip,
        PartKind::Record => sealcam_format::PartKind::Record,
    }
}

/// Whether `err` (from [`SimOwner::open`]) says the object is not addressed
/// to the viewer who tried: misdelivery, not garbage (S2).
pub fn not_addressed(err: &HarnessError) -> bool {
    matches!(
        err.downcast_ref::<OpenError>(),
        Some(OpenError::NotAddressedToViewer)
    )
}
