//! Pairing with the owner who made a pairing code (S5), and asking whether
//! the owner confirmed the camera yet.

use sealcam_keys::{CameraId, OwnerId, OwnerKeyState, PairingCode, SetKeyStatement};
use sealcam_wire::{CameraStatus, RegisterCameraRequest};

use super::Device;
use crate::api::{Api, Failure};
use crate::state::Pairing;
use crate::{b64, DeviceError};

impl Device {
    /// Pairs with the owner who made `code` (S5): generates the device key
    /// on first use, proves to the owner (through the server, which cannot
    /// forge the proof) that this key received the code, and stores the
    /// pairing (0600). The owner then confirms the camera and publishes its
    /// recipient set; [`sync`](Self::sync) fetches it.
    pub fn pair(&mut self, code: &str) -> Result<(CameraId, OwnerId), DeviceError> {
        if let Some(p) = &self.pairing {
            return Err(DeviceError::AlreadyPaired {
                camera: p.camera_id,
            });
        }
        let code = PairingCode::from_text(code)?;
        code.check_fresh(sealcam_keys::unix_now())?;
        let key = match self.key.take() {
            Some(k) => k,
            None => self.state.device_key()?,
        };
        let public = key.public();
        let proof = code.secret.prove(&code.claim_token, code.owner, &public);
        let api = Api::new(
            &code.server_url,
            self.config.timeouts,
            &self.config.transport,
        )?;
        let answer = api.register(&RegisterCameraRequest {
            claim_token: code.claim_token.clone(),
            device_public_key: b64::encode(&public.to_bytes()),
            pairing_proof: b64::encode(&proof.0),
        });
        self.key = Some(key);
        let answer = answer.map_err(Failure::into_error)?;
        let got = OwnerId::from(answer.owner_id);
        if got != code.owner {
            return Err(DeviceError::OwnerMismatch {
                expected: code.owner,
                got,
            });
        }
        // A v2 code names the account's root key and the owner key's place
        // in the key log; a v1 code only the owner key.
        let (keys, paired_v1) = match code.trust {
            Some((root, reset, generation)) => (
                OwnerKeyState::new(code.owner, code.owner_key, Some(root), reset, generation),
                false,
            ),
            None => (OwnerKeyState::legacy(code.owner, code.owner_key), true),
        };
        let pairing = Pairing {
            version: 2,
            server_url: code.server_url.clone(),
            camera_id: CameraId::from(answer.camera_id),
            owner_id: code.owner,
            credential: answer.credential,
            keys,
            set_keys: None,
            paired_v1,
            set_key_published: false,
            recovery: None,
        };
        self.state.write_pairing(&pairing)?;
        let ids = (pairing.camera_id, pairing.owner_id);
        self.pairing = Some(pairing);
        self.api = Some(api);
        // At once, so the owner finds it when confirming; retried at every
        // sync while the server has not taken it.
        self.publish_set_key();
        Ok(ids)
    }

    /// Offers the server this camera's set key, signed by the device key for
    /// its owner and camera (S9: the owner then seals recipient sets to it),
    /// unless the server took it already. A failure (an older server, the
    /// network) is not an error: the owner publishes sets in the clear until
    /// the key arrives, and the next sync offers it again.
    pub(super) fn publish_set_key(&mut self) {
        let (Some(p), Some(api), Some(key)) = (&self.pairing, &self.api, &self.key) else {
            return;
        };
        if p.set_key_published {
            return;
        }
        let Ok(set_key) = self.state.set_key() else {
            return;
        };
        let statement = SetKeyStatement::sign(p.owner_id, p.camera_id, &set_key, key);
        if api
            .put_set_key(&p.credential, &statement.to_text())
            .is_err()
        {
            return;
        }
        let updated = Pairing {
            set_key_published: true,
            ..p.clone()
        };
        if self.state.write_pairing(&updated).is_ok() {
            self.pairing = Some(updated);
        }
    }

    /// Asks the server whether the owner confirmed this camera yet.
    pub fn status(&self) -> Result<CameraStatus, DeviceError> {
        let (p, api) = self.paired()?;
        api.camera_self(&p.credential)
            .map(|c| c.status)
            .map_err(Failure::into_error)
    }
}
