//! The owner's viewer devices: approve a new one, list, revoke (S6), and give
//! one access to past recordings by re-wrapping headers.

use sealcam_keys::{CameraId, ViewerIdentity, ViewerRecipient};
use sealcam_wire::PartKind;
use serde::Serialize;
use uuid::Uuid;

use crate::client::Client;
use crate::codes::{LinkApproval, LinkRequest};
use crate::error::{ClientError, Result};
use crate::events::EventFilter;
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

/// What revoking a viewer did.
#[derive(Debug, Clone, Serialize)]
pub struct Revocation {
    /// The removed viewer.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The new recipient-set epochs, per camera: once a camera synced its
    /// epoch, nothing it records can be opened by the revoked viewer (S6).
    pub epochs: Vec<(CameraId, u64)>,
    /// Whether its server credential was deleted too.
    pub device_deleted: bool,
}

/// What a history grant did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HistoryGrant {
    /// Parts whose header now also wraps the file key to the viewer.
    pub rewrapped: u64,
    /// Parts this device could not open (not addressed to it), left as they were.
    pub skipped: u64,
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
        let recipient = crate::setup::check_link_request(request, self.api())?;
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
        let link = self.api().link_device().await?;
        Ok(Approval {
            viewer,
            approval: LinkApproval {
                link_token: link.link_token,
                owner: self.device().info.account_id,
                owner_key: self.device().info.owner_key,
            },
            epochs,
        })
    }

    fn find_viewer<'r>(viewers: &'r [ViewerEntry], which: &str) -> Result<&'r ViewerEntry> {
        let which = which.trim();
        let mut hits = viewers.iter().filter(|v| {
            v.id.to_string() == which
                || v.recipient.to_string() == which
                || (which.len() >= 4 && v.id.to_string().starts_with(which))
                || v.name == which
        });
        match (hits.next(), hits.next()) {
            (Some(v), None) => Ok(v),
            (Some(_), Some(_)) => Err(ClientError::BadInput(format!(
                "{which:?} matches several viewers; use the full id"
            ))),
            (None, _) => Err(ClientError::UnknownViewer(which.to_owned())),
        }
    }

    /// Revokes a viewer: removes it from the owner record, publishes new
    /// recipient sets without it (S6), re-seals the owner key bundle without it
    /// and deletes its server credential.
    pub async fn revoke_viewer(&self, which: &str) -> Result<Revocation> {
        let mut handle = self.record().await?;
        let victim = Self::find_viewer(&handle.record.viewers, which)?.clone();
        if victim.recipient == self.device().viewer.to_public() {
            return Err(ClientError::BadInput(
                "this is the device you are using; revoke it from another device".into(),
            ));
        }
        handle.record.viewers.retain(|v| v.id != victim.id);
        // The sets first: cameras stop sealing to it as soon as they sync.
        let epochs = self.publish_all_sets(&mut handle.record).await?;
        self.reseal_bundle(&handle.record).await?;
        self.save_record(&mut handle).await?;
        let mut device_deleted = false;
        if let Some(id) = victim.device_id {
            match self.api().delete_device(id).await {
                Ok(()) => device_deleted = true,
                Err(ClientError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Revocation {
            id: victim.id,
            name: victim.name,
            epochs,
            device_deleted,
        })
    }

    /// The recipient of a viewer or household member, by id, name or key.
    async fn grantee(&self, which: &str) -> Result<ViewerRecipient> {
        let record = self.record().await?.record;
        if let Ok(v) = Self::find_viewer(&record.viewers, which) {
            return Ok(v.recipient.clone());
        }
        record
            .members
            .iter()
            .find(|m| m.account_id.to_string() == which || m.name == which)
            .map(|m| m.recipient.clone())
            .ok_or_else(|| ClientError::UnknownViewer(which.to_owned()))
    }

    /// Lets a viewer open recordings from the last `days` days (of one camera,
    /// or every owned camera): each part's age header is re-wrapped to the
    /// camera's current recipients and the viewer. Payloads are not touched,
    /// so the camera's signature still verifies. `progress` is called after
    /// each part with the counts so far.
    pub async fn grant_history(
        &self,
        which: &str,
        days: u32,
        camera: Option<CameraId>,
        progress: &(dyn Fn(&HistoryGrant) + Send + Sync),
    ) -> Result<HistoryGrant> {
        let grantee = self.grantee(which).await?;
        let since = unix_now() - i64::from(days) * 86_400;
        let viewer = self.device().viewer.clone();
        self.rewrap_history(&viewer, Some(&grantee), Some(since), camera, progress)
            .await
    }

    /// Re-wraps the headers of every part since `since` (of one camera, or
    /// every owned camera) that `identity` can open, to each camera's current
    /// recipients (and `extra`).
    pub(crate) async fn rewrap_history(
        &self,
        identity: &ViewerIdentity,
        extra: Option<&ViewerRecipient>,
        since: Option<i64>,
        camera: Option<CameraId>,
        progress: &(dyn Fn(&HistoryGrant) + Send + Sync),
    ) -> Result<HistoryGrant> {
        let record = self.record().await?.record;
        let mut out = HistoryGrant::default();
        for cam in record
            .cameras
            .iter()
            .filter(|c| camera.is_none_or(|id| id == c.camera_id))
        {
            let mut recipients = record.camera_recipients(cam);
            if let Some(extra) = extra {
                if !recipients.contains(extra) {
                    recipients.push(extra.clone());
                }
            }
            let events = self
                .events(&EventFilter {
                    camera: Some(cam.camera_id),
                    since,
                    ..EventFilter::default()
                })
                .await?;
            for ev in events {
                for part in &ev.parts {
                    let kind: PartKind = part.kind;
                    let id = *ev.event_id.as_uuid();
                    let header = self.api().part_header(id, kind).await?;
                    match sealcam_format::rewrap(&header, &[identity], &recipients) {
                        Ok(new) => {
                            self.api().replace_header(id, kind, new).await?;
                            out.rewrapped += 1;
                        }
                        Err(e) if e.is_misdelivery() => out.skipped += 1,
                        Err(e) => return Err(ClientError::from_open(e)),
                    }
                    progress(&out);
                }
            }
        }
        Ok(out)
    }
}
