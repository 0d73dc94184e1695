//! Sharing a camera with a household member (another account) and taking it back.
//!
//! The member runs their own `sealcam init` and gives the owner their
//! *member code* (`sealcam whoami`): account id and viewer key. The owner
//! shares: the member's key joins the camera's recipient set and the server
//! lets the member's account fetch. The owner hands back a *share code* with
//! the camera's pinned device key, which the member accepts, so the member's
//! devices verify the camera's objects without trusting the server (S3).

use sealcam_keys::CameraId;
use serde::Serialize;
use uuid::Uuid;

use crate::client::Client;
use crate::codes::{MemberCode, ShareCode};
use crate::error::{ClientError, Result};
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

    /// Stops sharing a camera with an account: a new recipient set without
    /// the member, and the server's share withdrawn.
    pub async fn unshare(&self, camera: CameraId, account: Uuid) -> Result<u64> {
        let mut handle = self.record().await?;
        let entry = handle
            .record
            .camera_mut(camera)
            .ok_or_else(|| ClientError::UnknownCamera(camera.to_string()))?;
        entry.shared_with.retain(|a| *a != account);
        let epoch = self.publish_set(&mut handle.record, camera).await?;
        let still_used: Vec<Uuid> = handle
            .record
            .cameras
            .iter()
            .flat_map(|c| c.shared_with.iter().copied())
            .collect();
        handle
            .record
            .members
            .retain(|m| still_used.contains(&m.account_id));
        self.save_record(&mut handle).await?;
        match self.api().delete_share(*camera.as_uuid(), account).await {
            Ok(()) | Err(ClientError::NotFound { .. }) => Ok(epoch),
            Err(e) => Err(e),
        }
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
