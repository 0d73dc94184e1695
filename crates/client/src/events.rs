//! The timeline: listing and deleting events.

use sealcam_keys::{CameraId, EventId};
use sealcam_wire::{CameraStatus, EventsQuery, PartInfo, PartKind};
use serde::Serialize;

use crate::client::Client;
use crate::error::Result;
use crate::fetch::SmallPart;

/// One event as listed: what the server knows (a coarse time and sizes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventView {
    /// The event.
    pub event_id: EventId,
    /// The camera that recorded it.
    pub camera_id: CameraId,
    /// The camera's name, if pinned.
    pub camera_name: Option<String>,
    /// Capture time, unix seconds rounded down to the minute by the server.
    pub captured_at: i64,
    /// The stored parts.
    pub parts: Vec<PartInfo>,
}

impl EventView {
    /// Its `kind` part, ready for [`Client::open_small_many`]: `None` when
    /// the event has no such part.
    pub fn small_part(&self, kind: PartKind) -> Option<SmallPart> {
        let part = self.parts.iter().find(|p| p.kind == kind)?;
        Some(SmallPart {
            event: self.event_id,
            camera: self.camera_id,
            kind,
            payload_len: part.payload_size,
        })
    }
}

/// Which events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// One camera, else every camera.
    pub camera: Option<CameraId>,
    /// Captured at or after (unix seconds).
    pub since: Option<i64>,
    /// Captured before (unix seconds).
    pub until: Option<i64>,
    /// At most this many events (per camera).
    pub limit: Option<usize>,
}

/// Pages of one camera's listing followed at most (500 events a page): a
/// server that hands out `next` cursors without end cannot keep a listing
/// going for ever.
const MAX_PAGES: usize = 10_000;

impl Client {
    /// Lists events, newest first within each camera.
    ///
    /// Each event is attributed to the camera it was listed for, whatever
    /// camera the server's row names (S2): opening it then checks its
    /// binding against that camera and its pinned key, so an event the
    /// server files under the wrong camera — another camera of the
    /// household, or another household's — is shown as misdelivered, never
    /// under a name it does not belong to.
    pub async fn events(&self, filter: &EventFilter) -> Result<Vec<EventView>> {
        let cameras = self.camera_views().await?;
        let mut out = Vec::new();
        for cam in cameras.iter().filter(|c| {
            c.status == CameraStatus::Active && filter.camera.is_none_or(|id| id == c.camera_id)
        }) {
            let mut before = None;
            let mut taken = 0usize;
            for page_number in 0.. {
                if page_number == MAX_PAGES {
                    return Err(crate::ClientError::Protocol(format!(
                        "the server's listing of camera {} goes on past {MAX_PAGES} pages",
                        cam.camera_id
                    )));
                }
                let page = self
                    .api()
                    .events(
                        *cam.camera_id.as_uuid(),
                        &EventsQuery {
                            since: filter.since,
                            until: filter.until,
                            before: before.clone(),
                            limit: Some(
                                filter
                                    .limit
                                    .map_or(500, |l| (l - taken).clamp(1, 1000) as u32),
                            ),
                        },
                    )
                    .await?;
                for e in page.events {
                    out.push(EventView {
                        event_id: EventId::from(e.event_id),
                        camera_id: cam.camera_id,
                        camera_name: cam.name.clone(),
                        captured_at: e.captured_at,
                        parts: e.parts,
                    });
                    taken += 1;
                }
                if filter.limit.is_some_and(|l| taken >= l)
                    || page.next.is_none()
                    || page.next == before
                {
                    break;
                }
                before = page.next;
            }
        }
        out.sort_by(|a, b| {
            b.captured_at
                .cmp(&a.captured_at)
                .then(b.event_id.cmp(&a.event_id))
        });
        Ok(out)
    }

    /// One event as listed, looked up by id (its camera's name from the
    /// verified owner record).
    pub async fn event_view(&self, event: EventId) -> Result<EventView> {
        let e = self.api().event(*event.as_uuid()).await?;
        let camera_id = CameraId::from(e.camera_id);
        let record = self.verified_record(false).await?;
        let camera_name = record
            .camera(camera_id)
            .map(|c| c.name.clone())
            .or_else(|| {
                record
                    .shared_with_me
                    .iter()
                    .find(|s| s.camera_id == camera_id)
                    .map(|s| s.name.clone())
            });
        Ok(EventView {
            event_id: EventId::from(e.event_id),
            camera_id,
            camera_name,
            captured_at: e.captured_at,
            parts: e.parts,
        })
    }

    /// Deletes an event (owner only).
    pub async fn delete_event(&self, event: EventId) -> Result<()> {
        self.api().delete_event(*event.as_uuid()).await
    }
}
