//! Media: upload, listing, ranged download, header re-wrap and deletion.
//!
//! What spans blobs and rows is the parts service's ([`crate::parts`]); these
//! handlers parse a request, call it once and answer.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sealcam_wire::{
    CameraStatus, ErrorBody, Event, EventPage, EventsQuery, PartInfo, PartKind, UploadQuery,
    UploadResponse,
};
use uuid::Uuid;

use super::{no_content, parse_id};
use crate::auth::{fail, Camera, Viewer, ViewerToken};
use crate::blobs::BlobBody;
use crate::error::{AppError, AppResult};
use crate::parts::{Download, Parts, PartsError, Piece, Stored, Upload};
use crate::range::RangeHeader;
use crate::state::AppState;
use crate::store::{EventFilter, EventRow};

/// Default and largest page sizes of an event listing.
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

fn parse_kind(text: &str) -> AppResult<PartKind> {
    text.parse().map_err(|_| AppError::NotFound)
}

fn event_view(e: EventRow) -> Event {
    Event {
        event_id: e.id,
        camera_id: e.camera_id,
        owner_id: e.owner_id,
        captured_at: e.captured_at,
        parts: e
            .parts
            .into_iter()
            .map(|p| PartInfo {
                kind: p.kind,
                header_size: p.header_size,
                payload_size: p.payload_size,
            })
            .collect(),
    }
}

/// `201` for a part this request stored, `200` for one stored already.
fn stored_answer(event_id: Uuid, kind: PartKind, stored: Stored) -> Response {
    let status = if stored.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(UploadResponse {
            event_id,
            kind,
            header_size: stored.header_size,
            payload_size: stored.payload_size,
            created: stored.created,
        }),
    )
        .into_response()
}

/// A camera uploads one part: the body is the age header (`header_len` bytes)
/// followed by the payload, streamed. Same bytes again: 200; other bytes: 409.
#[utoipa::path(put, path = "/v1/events/{event_id}/parts/{kind}", tag = "media", security(("bearer" = [])),
    params(("event_id" = Uuid, Path, description = "chosen by the camera (UUIDv7)"),
        ("kind" = PartKind, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "header ‖ payload"),
    responses(
        (status = 201, body = UploadResponse, description = "stored"),
        (status = 200, body = UploadResponse, description = "already stored with the same bytes"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "camera_not_active: pairing not confirmed"),
        (status = 404, body = ErrorBody, description = "the event id belongs to another camera"),
        (status = 409, body = ErrorBody, description = "stored already with different bytes"),
        (status = 413, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "overloaded: retry after Retry-After")))]
pub async fn upload_part(
    State(state): State<AppState>,
    Camera(camera): Camera,
    Path((event_id, kind)): Path<(String, String)>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    // Before anything else: a pending camera learns nothing about its request.
    if camera.status != CameraStatus::Active {
        return Err(AppError::CameraNotActive);
    }
    let event_id = parse_id(&event_id)?;
    let kind = parse_kind(&kind)?;
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let upload = Upload {
        event_id,
        kind,
        captured_at: query.captured_at,
        header_len: query.header_len,
        content_length: headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok()),
    };
    let stored = Parts::of(&state)
        .upload(&camera, upload, body.into_data_stream())
        .await?;
    Ok(stored_answer(event_id, kind, stored))
}

fn parse_cursor(text: &str) -> AppResult<(i64, Uuid)> {
    let bad = || AppError::BadRequest("invalid cursor: pass the `next` value of a page".into());
    let (time, id) = text.split_once('_').ok_or_else(bad)?;
    Ok((
        time.parse().map_err(|_| bad())?,
        Uuid::parse_str(id).map_err(|_| bad())?,
    ))
}

/// A page of a camera's events, newest first (owner or shared account).
#[utoipa::path(get, path = "/v1/cameras/{camera_id}/events", tag = "media", security(("bearer" = [])),
    params(("camera_id" = Uuid, Path), EventsQuery),
    responses((status = 200, body = EventPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path(camera_id): Path<String>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> AppResult<Json<EventPage>> {
    let camera_id = parse_id(&camera_id)?;
    if state
        .db
        .camera_role(v.account_id, camera_id)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound);
    }
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(AppError::BadRequest(format!(
            "limit must be 1 to {MAX_PAGE}"
        )));
    }
    let before = query.before.as_deref().map(parse_cursor).transpose()?;
    let filter = EventFilter {
        since: query.since,
        until: query.until,
        before,
        limit: limit + 1,
    };
    let mut events = state.db.list_events(camera_id, filter).await?;
    let next = if events.len() > limit as usize {
        events.truncate(limit as usize);
        events.last().map(|e| format!("{}_{}", e.captured_at, e.id))
    } else {
        None
    };
    Ok(Json(EventPage {
        events: events.into_iter().map(event_view).collect(),
        next,
    }))
}

/// One event the caller may see.
#[utoipa::path(get, path = "/v1/events/{event_id}", tag = "media", security(("bearer" = [])),
    params(("event_id" = Uuid, Path)),
    responses((status = 200, body = Event), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_event(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path(event_id): Path<String>,
) -> AppResult<Json<Event>> {
    let event_id = parse_id(&event_id)?;
    let event = state
        .db
        .viewer_event(v.account_id, event_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(event_view(event)))
}

/// The owner deletes an event and its blobs.
#[utoipa::path(delete, path = "/v1/events/{event_id}", tag = "media", security(("bearer" = [])),
    params(("event_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_event(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path(event_id): Path<String>,
) -> AppResult<Response> {
    let event_id = parse_id(&event_id)?;
    Parts::of(&state)
        .delete_event(v.account_id, event_id)
        .await?;
    Ok(no_content())
}

async fn download(
    state: AppState,
    token: ViewerToken,
    event_id: &str,
    kind: &str,
    piece: Piece,
    range: &RangeHeader,
) -> AppResult<Response> {
    let (event_id, kind) = match (parse_id(event_id), parse_kind(kind)) {
        (Ok(event_id), Ok(kind)) => (event_id, kind),
        // Still authenticate first: an unauthenticated caller learns nothing.
        _ => (Uuid::nil(), PartKind::Thumbnail),
    };
    match Parts::of(&state)
        .download(&token.hash, event_id, kind, piece, range.as_str())
        .await
    {
        Ok(download) => Ok(download_answer(download)),
        Err(PartsError::Unauthorized) => Err(fail(&state, token.ip)),
        Err(e) => Err(e.into()),
    }
}

/// The response of an opened download: `200`, or `206` with `Content-Range`.
fn download_answer(download: Download) -> Response {
    let Download {
        body,
        span,
        total,
        partial,
    } = download;
    let mut response = Response::new(match body {
        BlobBody::Full(bytes) => Body::from(bytes),
        BlobBody::Stream(stream) => Body::from_stream(stream),
    });
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(span.end - span.start),
    );
    if partial {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let value = format!(
            "bytes {}-{}/{}",
            span.start,
            span.end.saturating_sub(1),
            total
        );
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
    }
    response
}

/// The whole part as one age file (header ‖ payload), with Range support.
#[utoipa::path(get, path = "/v1/events/{event_id}/parts/{kind}", tag = "media", security(("bearer" = [])),
    params(("event_id" = Uuid, Path), ("kind" = PartKind, Path),
        ("Range" = Option<String>, Header, description = "bytes=START-END (one range)")),
    responses((status = 200, content_type = "application/octet-stream"), (status = 206, content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
pub async fn download_part(
    State(state): State<AppState>,
    token: ViewerToken,
    Path((event_id, kind)): Path<(String, String)>,
    range: RangeHeader,
) -> AppResult<Response> {
    download(state, token, &event_id, &kind, Piece::Whole, &range).await
}

/// The part's age header alone, with Range support.
#[utoipa::path(get, path = "/v1/events/{event_id}/parts/{kind}/header", tag = "media", security(("bearer" = [])),
    params(("event_id" = Uuid, Path), ("kind" = PartKind, Path),
        ("Range" = Option<String>, Header, description = "bytes=START-END (one range)")),
    responses((status = 200, content_type = "application/octet-stream"), (status = 206, content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
pub async fn download_header(
    State(state): State<AppState>,
    token: ViewerToken,
    Path((event_id, kind)): Path<(String, String)>,
    range: RangeHeader,
) -> AppResult<Response> {
    download(state, token, &event_id, &kind, Piece::Header, &range).await
}

/// The part's payload alone, with Range support (for seeking in clips).
#[utoipa::path(get, path = "/v1/events/{event_id}/parts/{kind}/payload", tag = "media", security(("bearer" = [])),
    params(("event_id" = Uuid, Path), ("kind" = PartKind, Path),
        ("Range" = Option<String>, Header, description = "bytes=START-END (one range)")),
    responses((status = 200, content_type = "application/octet-stream"), (status = 206, content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
pub async fn download_payload(
    State(state): State<AppState>,
    token: ViewerToken,
    Path((event_id, kind)): Path<(String, String)>,
    range: RangeHeader,
) -> AppResult<Response> {
    download(state, token, &event_id, &kind, Piece::Payload, &range).await
}

/// The owner replaces a part's header (re-wrap to add a viewer to past recordings).
/// The payload is immutable.
#[utoipa::path(put, path = "/v1/events/{event_id}/parts/{kind}/header", tag = "media", security(("bearer" = [])),
    params(("event_id" = Uuid, Path), ("kind" = PartKind, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the new age header"),
    responses((status = 200, body = UploadResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn replace_header(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path((event_id, kind)): Path<(String, String)>,
    body: Body,
) -> AppResult<Response> {
    let event_id = parse_id(&event_id)?;
    let kind = parse_kind(&kind)?;
    let stored = Parts::of(&state)
        .replace_header(&v, event_id, kind, body.into_data_stream())
        .await?;
    Ok(stored_answer(event_id, kind, stored))
}
