//! A minimal owner, for the camera simulator (`sealcam-device storm`), the
//! tests and the benchmark: it enrolls, makes pairing codes, verifies the
//! pairing proof of each pending camera (S5) before it confirms it, and signs
//! and publishes recipient sets. Not part of a camera build (feature `sim`).
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
    CameraId, DevicePublicKey, EventId, OwnerId, OwnerSigningKey, PairingCode, PairingProof,
    PairingSecret, RecipientSet, ViewerIdentity, ViewerRecipient,
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
    /// (`sealcam-server accounts create`), and makes a fresh owner key and
    /// viewer identity.
    pub fn enroll(server_url: &str, enrollment_token: &str) -> Result<Self, DeviceError> {
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
        Ok(Self {
            agent,
            base,
            account: OwnerId::from(e.account_id),
            credential: e.credential,
            key: OwnerSigningKey::generate(),
            viewer: ViewerIdentity::generate(),
            pending: Vec::new(),
            pinned: HashMap::new(),
            epochs: HashMap::new(),
        })
    }

    /// The owner (account) id.
    pub fn account(&self) -> OwnerId {
        self.account
    }

    /// The owner signing key.
    pub fn signing_key(&self) -> &OwnerSigningKey {
        &self.key
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
            trust: None,
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

    /// Signs and publishes the next epoch of `camera`'s recipient set.
    pub fn publish(
        &mut self,
        camera: CameraId,
        recipients: Vec<ViewerRecipient>,
    ) -> Result<u64, DeviceError> {
        let epoch = self.epoch(camera) + 1;
        let set = RecipientSet::new(self.account, camera, epoch, recipients)?.sign(&self.key);
        self.put_set_bytes(camera, epoch, set.as_bytes())?;
        self.epochs.insert(camera, epoch);
        Ok(epoch)
    }

    /// Stores `bytes` as `camera`'s recipient set under `wire_epoch`, as is:
    /// tests use it to serve forged, replayed or tampered sets.
    pub fn put_set_bytes(
        &self,
        camera: CameraId,
        wire_epoch: u64,
        bytes: &[u8],
    ) -> Result<(), DeviceError> {
        let body = serde_json::json!({"epoch": wire_epoch, "set": b64::encode(bytes)});
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
