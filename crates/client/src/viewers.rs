//! The owner's viewer devices: approve a new one, list them and the server's
//! credentials (revoking one is [`crate::revocation`]).

use sealcam_keys::{CameraId, ViewerRecipient};
use serde::Serialize;
use uuid::Uuid;

use crate::api::Api;
use crate::client::Client;
use crate::codes::{LinkApproval, LinkRequest};
use crate::error::{ClientError, Result};
use crate::record::ViewerEntry;
use crate::time::unix_now;

/// A viewer as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewerView {
    /// The viewer id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its viewer key.
    pub recipient: String,
    /// When it was added (unix seconds).
    pub added_at: i64,
    /// Whether it is this device.
    pub current: bool,
}

/// What approving a link request did.
#[derive(Debug)]
pub struct Approval {
    /// The new viewer's entry.
    pub viewer: ViewerEntry,
    /// The approval to carry to the new device.
    pub approval: LinkApproval,
    /// The recipient-set epochs published, per camera.
    pub epochs: Vec<(CameraId, u64)>,
}

/// A device the server knows for this account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceView {
    /// Its id on the server.
    pub device_id: Uuid,
    /// Its name there.
    pub name: String,
    /// Whether it is the recovery credential.
    pub recovery: bool,
    /// Whether it is this device.
    pub current: bool,
    /// The owner record's viewer that holds it.
    pub viewer: Option<Uuid>,
    /// `true` when no viewer of the signed owner record holds it: a
    /// credential nobody approved (revoke or recover deletes it).
    pub unknown: bool,
}

impl Client {
    /// The owner's viewers.
    pub async fn viewers(&self) -> Result<Vec<ViewerView>> {
        let record = self.record().await?.record;
        let me = self.device().viewer.to_public();
        Ok(record
            .viewers
            .iter()
            .map(|v| ViewerView {
                id: v.id,
                name: v.name.clone(),
                recipient: v.recipient.to_string(),
                added_at: v.added_at,
                current: v.recipient == me,
            })
            .collect())
    }

    /// Approves a new device's link request: adds its viewer key to the owner
    /// record, re-seals the owner key bundle to it, publishes new recipient
    /// sets for every camera and makes a one-time link token.
    pub async fn approve(&self, request: &LinkRequest) -> Result<Approval> {
        let recipient = check_link_request(request, self.api())?;
        let mut handle = self.record().await?;
        if handle
            .record
            .viewers
            .iter()
            .any(|v| v.recipient == recipient)
        {
            return Err(ClientError::BadInput(
                "this viewer key is already one of the account's viewers".into(),
            ));
        }
        let viewer = ViewerEntry {
            id: Uuid::new_v4(),
            device_id: None,
            name: request.name.clone(),
            recipient,
            added_at: unix_now(),
        };
        handle.record.viewers.push(viewer.clone());
        self.reseal_bundle(&handle.record).await?;
        let epochs = self.publish_all_sets(&mut handle.record).await?;
        self.save_record(&mut handle).await?;
        // The token enrolls only the device holding the approved viewer key.
        let commitment = viewer.recipient.commitment(self.device().info.account_id);
        let link = self.api().link_device(Some(&commitment)).await?;
        let keys = self.device().info.key_state();
        Ok(Approval {
            viewer,
            approval: LinkApproval {
                link_token: link.link_token,
                owner: self.device().info.account_id,
                owner_key: keys.owner_key,
                root_key: keys.root_key,
                key_position: keys.position(),
                record: Some((handle.record.version, handle.record.fingerprint())),
            },
            epochs,
        })
    }

    pub(crate) fn find_viewer<'r>(
        viewers: &'r [ViewerEntry],
        which: &str,
    ) -> Result<&'r ViewerEntry> {
        let which = which.trim();
        let mut hits = viewers
            .iter()
            .filter(|v| v.recipient.to_string() == which || names_viewer(v.id, &v.name, which));
        match (hits.next(), hits.next()) {
            (Some(v), None) => Ok(v),
            (Some(_), Some(_)) => Err(ClientError::BadInput(format!(
                "{which:?} matches several viewers; use the full id"
            ))),
            (None, _) => Err(ClientError::UnknownViewer(which.to_owned())),
        }
    }

    /// Every device the server knows for this account, beside the viewers of
    /// the signed owner record: a device the record does not name (a spare
    /// credential someone minted) is flagged.
    pub async fn devices(&self) -> Result<Vec<DeviceView>> {
        let record = self.record().await?.record;
        let mut listed = self.api().devices().await?.devices;
        // A stable order for people: the recovery credential last, else by name.
        listed.sort_by(|a, b| {
            (a.recovery, &a.name, a.device_id).cmp(&(b.recovery, &b.name, b.device_id))
        });
        Ok(listed
            .into_iter()
            .map(|d| {
                let viewer = record
                    .viewers
                    .iter()
                    .find(|v| v.device_id == Some(d.device_id));
                DeviceView {
                    device_id: d.device_id,
                    name: d.name,
                    recovery: d.recovery,
                    current: d.current,
                    viewer: viewer.map(|v| v.id),
                    unknown: !d.recovery && viewer.is_none() && !d.current,
                }
            })
            .collect())
    }
}

/// Whether `which` (trimmed) names the viewer `id` called `name`: its id, a
/// prefix of the id of at least 4 characters, or its name.
pub(crate) fn names_viewer(id: Uuid, name: &str, which: &str) -> bool {
    let id = id.to_string();
    id == which || (which.len() >= 4 && id.starts_with(which)) || name == which
}

/// The viewer recipient of a link request, checked against the server.
fn check_link_request(request: &LinkRequest, api: &Api) -> Result<ViewerRecipient> {
    if request.server_url.trim_end_matches('/') != api.base_url() {
        return Err(ClientError::BadInput(format!(
            "the link request is for the server {}, this device uses {}",
            request.server_url,
            api.base_url()
        )));
    }
    Ok(request.recipient.clone())
}
