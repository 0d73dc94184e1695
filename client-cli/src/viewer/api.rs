//! The viewer's JSON and media routes, each a thin call into the app SDK:
//! the timeline, one part of an event, live updates, a day's export.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sealcam_client::time::unix_now;
use sealcam_client::{EventFilter, EventView, ExportRequest, RemoteObject};
use sealcam_keys::{CameraId, EventId};
use sealcam_wire::{CameraStatus, PartKind};
use serde::Deserialize;
use serde_json::json;

use super::media;
use super::ViewerState;

/// The most events one timeline answer holds.
const MAX_EVENTS: usize = 500;

/// How many opened clips are kept for range requests.
const OPENED_CLIPS: usize = 16;

#[derive(Debug, Deserialize)]
pub struct TimelineQuery {
    camera: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    limit: Option<usize>,
}

fn bad(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

fn failed(e: &anyhow::Error) -> Response {
    (
        StatusCode::BAD_GATEWAY,
        Json(json!({"error": format!("{e:#}")})),
    )
        .into_response()
}

/// `GET /api/timeline`: cameras, and events newest first with their
/// verified records.
pub async fn timeline(State(s): State<ViewerState>, Query(q): Query<TimelineQuery>) -> Response {
    let result: anyhow::Result<Response> = async {
        let camera = match q.camera.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(s.client.resolve_camera(c).await?),
            None => None,
        };
        let limit = q.limit.unwrap_or(200).clamp(1, MAX_EVENTS);
        let typed = q.event_type.as_deref().filter(|t| !t.is_empty());
        let mut events = s
            .client
            .events(&EventFilter {
                camera,
                since: q.since,
                until: q.until,
                limit: if typed.is_some() { None } else { Some(limit) },
            })
            .await?;
        events.truncate(if typed.is_some() { MAX_EVENTS } else { limit });
        s.remember(&events);
        let mut entries = s.client.with_records(events).await;
        if let Some(t) = typed {
            entries.retain(|e| {
                e.record
                    .record()
                    .is_some_and(|r| r.event_type.eq_ignore_ascii_case(t))
            });
        }
        entries.truncate(limit);
        let cameras: Vec<_> = s
            .client
            .camera_views()
            .await?
            .into_iter()
            .filter(|c| c.status == CameraStatus::Active)
            .map(|c| json!({"camera_id": c.camera_id, "name": c.name}))
            .collect();
        Ok(Json(json!({"cameras": cameras, "events": entries, "now": unix_now()})).into_response())
    }
    .await;
    result.unwrap_or_else(|e| failed(&e))
}

#[derive(Debug, Deserialize)]
pub struct PartQuery {
    download: Option<u8>,
}

/// `GET /api/events/{id}/{kind}`: the verified plaintext of a part
/// (`?download=1`: as an attachment). A part that is misdelivered or fails
/// verification answers its status as JSON, never bytes.
pub async fn part(
    State(s): State<ViewerState>,
    Path((_session, event, kind)): Path<(String, String, String)>,
    Query(q): Query<PartQuery>,
    headers: HeaderMap,
) -> Response {
    let Ok(event) = event.parse::<EventId>() else {
        return bad(format!("{event:?} is not an event id"));
    };
    let Ok(kind) = kind.parse::<PartKind>() else {
        return bad(format!("{kind:?} is not a part"));
    };
    let name = format!("{event}.{kind}");
    let download = (q.download == Some(1)).then_some(name.as_str());
    if kind == PartKind::Clip {
        return match s.opened_clip(event).await {
            Ok(obj) => {
                let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
                media::clip(obj, range, download).await
            }
            Err(e) => media::refusal(&e),
        };
    }
    let view = match s.view(event).await {
        Ok(v) => v,
        Err(e) => return media::refusal(&e),
    };
    let Some(info) = view.parts.iter().find(|p| p.kind == kind) else {
        return (StatusCode::NOT_FOUND, Json(json!({"status": "not_found"}))).into_response();
    };
    match s
        .client
        .open_small(event, view.camera_id, kind, info.payload_size)
        .await
    {
        Ok(opened) => media::whole(opened.body.to_vec(), &opened.meta.content_type, download),
        Err(e) => media::refusal(&e),
    }
}

/// `GET /api/live`: each new event, with its verified record, as it is
/// stored (server-sent events).
pub async fn live(State(s): State<ViewerState>) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(16);
    let client = s.client.clone();
    tokio::spawn(async move {
        let mut watcher = client.watch(None);
        loop {
            // The page going away ends the watch at once, not at the next
            // event (a reload would otherwise leave a watch behind).
            let next = tokio::select! {
                next = watcher.next() => next,
                () = tx.closed() => break,
            };
            let message = match next {
                Ok(entry) => json!({"event": entry}).to_string(),
                Err(e) => {
                    let _ = tx.send(json!({"error": e.to_string()}).to_string()).await;
                    break;
                }
            };
            if tx.send(message).await.is_err() {
                break; // the page went away
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let data = rx.recv().await?;
        Some((
            Ok::<_, Infallible>(Event::default().event("entry").data(data)),
            rx,
        ))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct ExportBody {
    camera: String,
    since: i64,
    until: i64,
}

/// `POST /api/export`: one camera's events of a time window into the
/// export folder, every file verified, with a manifest.
pub async fn export(State(s): State<ViewerState>, Json(b): Json<ExportBody>) -> Response {
    let result: anyhow::Result<Response> = async {
        let camera: CameraId = s.client.resolve_camera(&b.camera).await?;
        let day = sealcam_client::time::rfc3339(b.since);
        let dir: PathBuf = s
            .export_dir
            .join(format!("{camera}"))
            .join(day.get(..10).unwrap_or("export"));
        let outcome = s
            .client
            .export(
                &ExportRequest {
                    camera,
                    since: Some(b.since),
                    until: Some(b.until),
                    kinds: vec![PartKind::Thumbnail, PartKind::Clip, PartKind::Record],
                },
                &dir,
                &|_| {},
            )
            .await?;
        Ok(Json(json!({"export": outcome, "dir": dir})).into_response())
    }
    .await;
    result.unwrap_or_else(|e| failed(&e))
}

impl ViewerState {
    /// Keeps listed events, so that a thumbnail costs one request.
    fn remember(&self, events: &[EventView]) {
        let mut views = self.views.lock().unwrap_or_else(|e| e.into_inner());
        if views.len() > 10 * MAX_EVENTS {
            views.clear();
        }
        for e in events {
            views.insert(e.event_id, e.clone());
        }
    }

    async fn view(&self, event: EventId) -> sealcam_client::Result<EventView> {
        let known = self
            .views
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&event)
            .cloned();
        match known {
            Some(v) => Ok(v),
            None => {
                let v = self.client.event_view(event).await?;
                self.remember(std::slice::from_ref(&v));
                Ok(v)
            }
        }
    }

    /// A clip opened (header, binding and signature checked) once, kept for
    /// the browser's range requests.
    async fn opened_clip(&self, event: EventId) -> sealcam_client::Result<Arc<RemoteObject>> {
        if let Some(obj) = self
            .clips
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&event)
        {
            return Ok(Arc::clone(obj));
        }
        let obj = Arc::new(self.client.open_part(event, PartKind::Clip).await?);
        let mut clips = self.clips.lock().unwrap_or_else(|e| e.into_inner());
        if clips.len() >= OPENED_CLIPS {
            clips.clear();
        }
        clips.insert(event, Arc::clone(&obj));
        Ok(obj)
    }
}

/// The opened clips, by event.
pub type Clips = HashMap<EventId, Arc<RemoteObject>>;
