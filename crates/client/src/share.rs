//! Sharing a camera with a household member (another account) and taking it back.
//!
//! The member runs their own `sealcam init` and gives the owner their
//! *member code* (`sealcam whoami`): account id and viewer key. The owner
//! shares: the member's key joins the camera's recipient set and the server
//! lets the member's account fetch. The owner hands back a *share code* with
//! the camera's pinned device key, which the member accepts, so the member's
//! devices verify the camera's objects without trusting the server (S3).
//! Taking a share back rotates the owner key, as revoking a viewer does
//! (`revocation.rs`), so that no record from before it verifies.

use sealcam_keys::CameraId;
use serde::Serialize;
use uuid::Uuid;

use crate::client::Client;
use crate::codes::{MemberCode, ShareCode};
use crate::error::{ClientError, Result};
use crate::home::Unshare;
use crate::record::{Member, SharedCamera};
use crate::time::unix_now;

/// What sharing did.
#[derive(Debug, Clone, Serialize)]
pub struct Shared {
    /// The camera.
    pub camera_id: CameraId,
    /// The member's account.
    pub account_id: Uuid,
    /// The new recipient-set epoch.
    pub epoch: u64,
    /// The code the member accepts with `sealcam cameras accept`.
    pub share_code: String,
}

/// What taking a share back did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnshareOutcome {
    /// The camera.
    pub camera_id: CameraId,
    /// The member's account.
    pub account_id: Uuid,
    /// The camera's new recipient-set epoch: once the camera synced it,
    /// nothing it records is sealed to the member. `None` when the server
    /// no longer knows the camera, or a finished unshare had published it
    /// before it stopped.
    pub epoch: Option<u64>,
    /// Every camera's new epoch (the owner key rotated, so each got a set
    /// signed by the new key).
    pub epochs: Vec<(CameraId, u64)>,
    /// `(reset, generation)` of the new owner key (`None`: an account set up
    /// before owner trust v2, whose key cannot rotate).
    pub key_position: Option<(u64, u64)>,
    /// What an unshare that started over left out (as [`crate::Revocation`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// Cameras whose new set the server refused as unknown (as
    /// [`crate::Revocation`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unpublished: Vec<CameraId>,
}

impl Client {
    /// This account's member code, to give to an owner who shares a camera.
    pub fn member_code(&self) -> MemberCode {
        MemberCode {
            account_id: *self.device().info.account_id.as_uuid(),
            name: self.device().info.device_name.clone(),
            recipient: self.device().viewer.to_public(),
        }
    }

    /// Shares an owned camera with the member of `code`.
    pub async fn share(&self, camera: CameraId, code: &MemberCode) -> Result<Shared> {
        if code.account_id == *self.device().info.account_id.as_uuid() {
            return Err(ClientError::BadInput(
                "this is your own account; add your own devices with `sealcam viewers link`".into(),
            ));
        }
        let mut handle = self.record().await?;
        let entry = handle
            .record
            .camera(camera)
            .ok_or_else(|| ClientError::UnknownCamera(camera.to_string()))?
            .clone();
        self.api()
            .put_share(*camera.as_uuid(), code.account_id)
            .await?;
        let rec = &mut handle.record;
        match rec
            .members
            .iter_mut()
            .find(|m| m.account_id == code.account_id)
        {
            Some(m) => m.recipient = code.recipient.clone(),
            None => rec.members.push(Member {
                account_id: code.account_id,
                name: code.name.clone(),
                recipient: code.recipient.clone(),
                added_at: unix_now(),
            }),
        }
        if let Some(c) = rec.camera_mut(camera) {
            if !c.shared_with.contains(&code.account_id) {
                c.shared_with.push(code.account_id);
            }
        }
        let epoch = self.publish_set(&mut handle.record, camera).await?;
        self.save_record(&mut handle).await?;
        let share_code = ShareCode {
            camera_id: camera,
            owner: self.device().info.account_id,
            owner_key: self.device().info.owner_key,
            device_key: entry.device_key,
            name: entry.name,
        };
        Ok(Shared {
            camera_id: camera,
            account_id: code.account_id,
            epoch,
            share_code: crate::codes::Code::to_text(&share_code),
        })
    }

    /// Stops sharing a camera with an account: the owner key rotates, every
    /// camera gets a set signed by the new key (this one without the
    /// member), the record too, and the server's share is withdrawn. If it
    /// stops part-way, the next [`Client::connect`] on this device finishes
    /// it. This client holds the new owner key afterwards.
    ///
    /// An account set up before owner trust v2 cannot rotate its key: there
    /// the camera gets a new set under the same key, and a server that
    /// replays the record from before the unshare to another owner device
    /// can have that device put the member back (`sealcam trust upgrade`).
    pub async fn unshare(&mut self, camera: CameraId, account: Uuid) -> Result<UnshareOutcome> {
        let unshare = Unshare { camera, account };
        if self.device().info.key_state().root_key.is_some() {
            return self.rotate_unshare(unshare).await;
        }
        let mut handle = self.record().await?;
        if handle.record.camera(camera).is_none() {
            return Err(ClientError::UnknownCamera(camera.to_string()));
        }
        unshare.apply_to(&mut handle.record);
        let epoch = self.publish_set(&mut handle.record, camera).await?;
        self.save_record(&mut handle).await?;
        match self.api().delete_share(*camera.as_uuid(), account).await {
            Ok(()) | Err(ClientError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        Ok(UnshareOutcome {
            camera_id: camera,
            account_id: account,
            epoch: Some(epoch),
            epochs: vec![(camera, epoch)],
            key_position: None,
            left_out: Vec::new(),
            unpublished: Vec::new(),
        })
    }

    /// Accepts a camera another owner shared with this account: pins its
    /// device key from the share code.
    pub async fn accept_share(&self, code: &ShareCode) -> Result<SharedCamera> {
        let mut handle = self.record().await?;
        let shared = SharedCamera {
            camera_id: code.camera_id,
            owner: code.owner,
            owner_key: code.owner_key,
            device_key: code.device_key,
            name: code.name.clone(),
            accepted_at: unix_now(),
        };
        handle
            .record
            .shared_with_me
            .retain(|s| s.camera_id != code.camera_id);
        handle.record.shared_with_me.push(shared.clone());
        self.save_record(&mut handle).await?;
        Ok(shared)
    }
}
