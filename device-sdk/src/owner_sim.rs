//! A minimal owner, for the camera simulator (`sealcam-device storm`), the
//! tests and the benchmark: it enrolls, makes pairing codes, verifies the
//! pairing proof of each pending camera (S5) before it confirms it, and signs
//! and publishes recipient sets. Not part of a camera build (feature `sim`).
//!
//! It is an owner of trust v2: a recovery key and the root key it derives,
//! a key log that starts with the genesis reset `(1, 0)` (stored with
//! `PUT /v1/account/key-log`), pairing codes that name the root key, and
//! version-2 recipient sets bound to each camera's device key (the one it
//! pinned from the cameras list), to the owner key's position, to an expiry
//! `SET_LIFETIME_SECS` away, with the recovery key among the recipients. It
//! can rotate and reset its owner key. [`SimOwner::enroll_legacy`] makes an
//! owner of before v2 (version-1 codes and sets, no key log) whose first
//! [`rotate`](SimOwner::rotate) upgrades it.
//!
//! The owner's real tooling is the app SDK (`crates/client`) and the
//! `sealcam` command; this module only does what a camera test needs.

use std::collections::HashMap;
use std::io::Read;
use std::time::Duration;

use serde::de::DeserializeOwned;
use ureq::http::Response;
use ureq::{Agent, Body};

use sealcam_keys::{
    unix_now, CameraId, DevicePublicKey, EventId, KeyLog, KeyStatement, OwnerId, OwnerKeyState,
    OwnerSigningKey, PairingCode, PairingProof, PairingSecret, RecipientSet, RecoveryKey,
    RootSigningKey, SetBinding, SignedRecipientSet, ViewerIdentity, ViewerRecipient,
    SET_LIFETIME_SECS,
};
use sealcam_wire::{
    CameraList, CameraStatus, EnrollResponse, Event, EventPage, PairingResponse, PartKind,
};

use crate::{b64, DeviceError};

struct PendingPairing {
    claim_token: String,
    secret: PairingSecret,
}

/// An owner account with one viewer device.
pub struct SimOwner {
    agent: Agent,
    base: String,
    account: OwnerId,
    credential: String,
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
            .field("base", &self.base)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl SimOwner {
    /// Enrolls a viewer device with a one-time enrollment token
    /// (`sealcam-server accounts create`), and makes a fresh owner key,
    /// viewer identity and recovery key; stores the key log holding the
    /// genesis reset (the owner key at reset 1, generation 0).
    pub fn enroll(server_url: &str, enrollment_token: &str) -> Result<Self, DeviceError> {
        let mut owner = Self::enroll_legacy(server_url, enrollment_token)?;
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
        let resp = owner
            .agent
            .put(owner.url("/account/key-log"))
            .header("authorization", owner.auth())
            .header("if-none-match", "*")
            .header("content-type", "application/octet-stream")
            .send(owner.log.to_bytes())
            .map_err(net)?;
        expect(resp, 204)?;
        Ok(owner)
    }

    /// Enrolls an owner of before owner trust v2: version-1 pairing codes
    /// (no root key), version-1 recipient sets, no key log. Its first
    /// [`rotate`](Self::rotate) names the root key and upgrades it.
    pub fn enroll_legacy(server_url: &str, enrollment_token: &str) -> Result<Self, DeviceError> {
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let base = server_url.trim_end_matches('/').to_owned();
        let body = serde_json::json!({"token": enrollment_token, "device_name": "sim-owner"});
        let resp = agent
            .post(format!("{base}/v1/enroll"))
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(net)?;
        let e: EnrollResponse = json(resp, 201)?;
        let account = OwnerId::from(e.account_id);
        let key = OwnerSigningKey::generate();
        let recovery = RecoveryKey::generate();
        let root = recovery.root_key();
        Ok(Self {
            agent,
            base,
            account,
            credential: e.credential,
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

    fn url(&self, path: &str) -> String {
        format!("{}/v1{path}", self.base)
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.credential)
    }

    /// A new pairing code (the owner keeps its secret until the camera is confirmed).
    pub fn pairing_code(&mut self) -> Result<String, DeviceError> {
        let resp = self
            .agent
            .post(self.url("/pairings"))
            .header("authorization", self.auth())
            .send_empty()
            .map_err(net)?;
        let p: PairingResponse = json(resp, 201)?;
        let secret = PairingSecret::generate();
        let code = PairingCode {
            server_url: self.base.clone(),
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
    pub fn confirm_pending(&mut self) -> Result<Vec<CameraId>, DeviceError> {
        let resp = self
            .agent
            .get(self.url("/cameras"))
            .header("authorization", self.auth())
            .call()
            .map_err(net)?;
        let list: CameraList = json(resp, 200)?;
        let mut confirmed = Vec::new();
        for cam in list.cameras {
            if cam.status != CameraStatus::Pending {
                continue;
            }
            let Some(device) = b64::decode(&cam.device_public_key)
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .and_then(|b| DevicePublicKey::from_bytes(&b).ok())
            else {
                continue;
            };
            let Some(proof) = b64::decode(&cam.pairing_proof)
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .map(PairingProof)
            else {
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
            let camera = CameraId::from(cam.camera_id);
            let resp = self
                .agent
                .post(self.url(&format!("/cameras/{camera}/confirm")))
                .header("authorization", self.auth())
                .send_empty()
                .map_err(net)?;
            expect(resp, 204)?;
            self.pinned.insert(camera, device);
            self.publish(camera, vec![self.viewer.to_public()])?;
            confirmed.push(camera);
        }
        Ok(confirmed)
    }

    /// Signs and publishes the next epoch of `camera`'s recipient set,
    /// valid for [`SET_LIFETIME_SECS`].
    pub fn publish(
        &mut self,
        camera: CameraId,
        recipients: Vec<ViewerRecipient>,
    ) -> Result<u64, DeviceError> {
        self.publish_until(camera, recipients, unix_now() + SET_LIFETIME_SECS)
    }

    /// Signs and publishes the next epoch of `camera`'s recipient set,
    /// expiring at `expires_at` (unix seconds).
    pub fn publish_until(
        &mut self,
        camera: CameraId,
        recipients: Vec<ViewerRecipient>,
        expires_at: u64,
    ) -> Result<u64, DeviceError> {
        let epoch = self.epoch(camera) + 1;
        self.publish_at(camera, epoch, recipients, expires_at)?;
        Ok(epoch)
    }

    /// Signs and publishes `camera`'s recipient set at `epoch` (an owner
    /// that learned a higher epoch was forced on the camera publishes above
    /// it); later [`publish`](Self::publish)es continue from there.
    pub fn publish_at(
        &mut self,
        camera: CameraId,
        epoch: u64,
        recipients: Vec<ViewerRecipient>,
        expires_at: u64,
    ) -> Result<(), DeviceError> {
        let set = self.signed_set(camera, epoch, recipients, expires_at)?;
        self.put_set_bytes(camera, epoch, set.as_bytes())?;
        self.epochs.insert(camera, epoch);
        Ok(())
    }

    /// A set for `camera` signed with the owner key in use, published by
    /// nobody (tests serve it, or a tampered copy, with
    /// [`put_set_bytes`](Self::put_set_bytes)). Version 2: bound to the
    /// device key pinned for `camera`, to the owner key's position and to
    /// `expires_at`, with the recovery key added to `recipients` when
    /// missing. A legacy owner makes a version-1 set of `recipients`.
    pub fn signed_set(
        &self,
        camera: CameraId,
        epoch: u64,
        mut recipients: Vec<ViewerRecipient>,
        expires_at: u64,
    ) -> Result<SignedRecipientSet, DeviceError> {
        if self.is_legacy() {
            return Ok(RecipientSet::new(self.account, camera, epoch, recipients)?.sign(&self.key));
        }
        let device_key = self.device_key(camera).ok_or_else(|| {
            DeviceError::Protocol(format!("camera {camera} is not confirmed by this owner"))
        })?;
        let recovery = self.recovery.to_public();
        if !recipients.contains(&recovery) {
            recipients.push(recovery.clone());
        }
        let binding = SetBinding {
            device_key,
            expires_at,
            key_position: self.keys.position(),
            recovery,
        };
        let set =
            RecipientSet::bound(self.account, camera, epoch, unix_now(), recipients, binding)?;
        Ok(set.sign(&self.key))
    }

    /// Rotates the owner key: a rotation signed by the key in use hands over
    /// to a fresh one (the next generation), appended to the key log, which
    /// is stored. A legacy owner's first rotation names the root key. Sets
    /// must be published again afterwards; cameras refuse the old key's.
    pub fn rotate(&mut self) -> Result<KeyStatement, DeviceError> {
        let next = OwnerSigningKey::generate();
        let from = OwnerKeyState {
            root_key: Some(self.root.public()),
            ..self.keys
        };
        let st = KeyStatement::rotation(&from, &self.key, next.public(), unix_now())?;
        self.adopt(st.clone(), next)?;
        Ok(st)
    }

    /// Resets the owner key with the root key: a fresh key at the next
    /// reset, generation 0, above any rotation.
    pub fn reset(&mut self) -> Result<KeyStatement, DeviceError> {
        let next = OwnerSigningKey::generate();
        let st = KeyStatement::reset(
            self.account,
            &self.root,
            self.keys.reset + 1,
            0,
            next.public(),
            unix_now(),
        );
        self.adopt(st.clone(), next)?;
        Ok(st)
    }

    fn adopt(&mut self, st: KeyStatement, next: OwnerSigningKey) -> Result<(), DeviceError> {
        let mut keys = self.keys;
        keys.apply(&st)?;
        let mut log = self.log.clone();
        log.push(st)?;
        self.put_key_log_bytes(&log.to_bytes())?;
        (self.keys, self.key, self.log) = (keys, next, log);
        Ok(())
    }

    /// Appends `st` to the stored key log as is, without adopting it: tests
    /// use it to serve an attacker's statements.
    pub fn append_to_key_log(&mut self, st: KeyStatement) -> Result<(), DeviceError> {
        self.log.push(st)?;
        self.put_key_log_bytes(&self.log.to_bytes())
    }

    /// Stores `bytes` as the account's key log, as is (unconditionally).
    pub fn put_key_log_bytes(&self, bytes: &[u8]) -> Result<(), DeviceError> {
        let resp = self
            .agent
            .put(self.url("/account/key-log"))
            .header("authorization", self.auth())
            .header("content-type", "application/octet-stream")
            .send(bytes)
            .map_err(net)?;
        expect(resp, 204)
    }

    /// Stores `bytes` as `camera`'s recipient set under `wire_epoch`, as is,
    /// replacing whatever is stored (`supersede`: the camera, not the
    /// server, enforces the signed epoch order): tests use it to serve
    /// forged, replayed or tampered sets.
    pub fn put_set_bytes(
        &self,
        camera: CameraId,
        wire_epoch: u64,
        bytes: &[u8],
    ) -> Result<(), DeviceError> {
        let body = serde_json::json!({
            "epoch": wire_epoch,
            "set": b64::encode(bytes),
            "supersede": true,
        });
        let resp = self
            .agent
            .put(self.url(&format!("/cameras/{camera}/recipient-set")))
            .header("authorization", self.auth())
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(net)?;
        expect(resp, 204)
    }

    /// The header and payload of one part.
    pub fn fetch(&self, event: EventId, kind: PartKind) -> Result<(Vec<u8>, Vec<u8>), DeviceError> {
        let get = |what: &str| -> Result<Vec<u8>, DeviceError> {
            let mut resp = self
                .agent
                .get(self.url(&format!("/events/{event}/parts/{kind}/{what}")))
                .header("authorization", self.auth())
                .call()
                .map_err(net)?;
            if resp.status().as_u16() != 200 {
                return Err(status_error(resp));
            }
            let mut out = Vec::new();
            resp.body_mut()
                .as_reader()
                .read_to_end(&mut out)
                .map_err(|e| DeviceError::Network(e.to_string()))?;
            Ok(out)
        };
        Ok((get("header")?, get("payload")?))
    }

    /// Every event of `camera`, newest first.
    pub fn events(&self, camera: CameraId) -> Result<Vec<Event>, DeviceError> {
        let mut out = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let mut req = self
                .agent
                .get(self.url(&format!("/cameras/{camera}/events")))
                .query("limit", "1000")
                .header("authorization", self.auth());
            if let Some(b) = &before {
                req = req.query("before", b);
            }
            let page: EventPage = json(req.call().map_err(net)?, 200)?;
            out.extend(page.events);
            match page.next {
                Some(next) => before = Some(next),
                None => return Ok(out),
            }
        }
    }
}

fn net(e: ureq::Error) -> DeviceError {
    DeviceError::Network(e.to_string())
}

fn status_error(mut resp: Response<Body>) -> DeviceError {
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    let parsed = serde_json::from_slice::<sealcam_wire::ErrorBody>(&body).ok();
    DeviceError::Server {
        status,
        code: parsed.as_ref().map(|b| b.error.code),
        message: parsed
            .map(|b| b.error.message)
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned()),
    }
}

fn expect(resp: Response<Body>, want: u16) -> Result<(), DeviceError> {
    if resp.status().as_u16() == want {
        Ok(())
    } else {
        Err(status_error(resp))
    }
}

fn json<T: DeserializeOwned>(mut resp: Response<Body>, want: u16) -> Result<T, DeviceError> {
    if resp.status().as_u16() != want {
        return Err(status_error(resp));
    }
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .map_err(net)?;
    serde_json::from_slice(&body).map_err(|e| DeviceError::Protocol(e.to_string()))
}
