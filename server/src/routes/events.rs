//! Media: upload, listing, ranged download, header re-wrap and deletion.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::{Bytes, BytesMut};
use futures_util::{stream, StreamExt as _};
use sealcam_wire::{
    ErrorBody, Event, EventPage, EventsQuery, PartInfo, PartKind, UploadQuery, UploadResponse,
};
use uuid::Uuid;

use super::cameras::require_owner;
use super::{no_content, parse_id, read_body};
use crate::auth::{fail, Camera, Viewer, ViewerToken};
use crate::blobs::{hash_stream, BlobStore, Segment};
use crate::error::{AppError, AppResult};
use crate::range::{self, RangeHeader};
use crate::state::{now, AppState};
use crate::store::{EventFilter, EventRow, InsertPart, NewPart, PartRow};

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

fn part_limit(state: &AppState, kind: PartKind) -> u64 {
    let limits = &state.config.limits;
    match kind {
        PartKind::Thumbnail => limits.max_thumbnail_bytes,
        PartKind::Clip => limits.max_clip_bytes,
        PartKind::Record => limits.max_record_bytes,
    }
}

/// Decrements the in-flight gauge when an upload ends, however it ends.
struct InFlight<'a>(&'a AppState);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.metrics.uploads_in_flight.dec();
    }
}

fn same_part(existing: &PartRow, header_sha: &[u8], payload_sha: &[u8]) -> bool {
    crate::tokens::hashes_equal(&existing.header_sha256, header_sha)
        && crate::tokens::hashes_equal(&existing.payload_sha256, payload_sha)
}

fn upload_answer(status: StatusCode, event_id: Uuid, kind: PartKind, row: (u64, u64)) -> Response {
    (
        status,
        Json(UploadResponse {
            event_id,
            kind,
            header_size: row.0,
            payload_size: row.1,
            created: status == StatusCode::CREATED,
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
    if camera.status != sealcam_wire::CameraStatus::Active {
        return Err(AppError::CameraNotActive);
    }
    let event_id = parse_id(&event_id)?;
    let kind = parse_kind(&kind)?;
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let limits = &state.config.limits;
    if query.header_len == 0 {
        return Err(AppError::BadRequest("header_len must be at least 1".into()));
    }
    if query.header_len > limits.max_header_bytes {
        return Err(AppError::PayloadTooLarge(limits.max_header_bytes));
    }
    let limit = part_limit(&state, kind);
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > limit {
            return Err(AppError::PayloadTooLarge(limit));
        }
        if len < query.header_len {
            return Err(AppError::BadRequest("body shorter than header_len".into()));
        }
    }
    let Ok(_permit) = state.uploads.clone().try_acquire_owned() else {
        return Err(AppError::Overloaded {
            retry_after: limits.overload_retry_after_secs,
        });
    };
    state.metrics.uploads_in_flight.inc();
    let _in_flight = InFlight(&state);

    // Split the stream: the first `header_len` bytes are the header.
    let header_len = usize::try_from(query.header_len).unwrap_or(usize::MAX);
    let mut stream = body.into_data_stream();
    let mut header = BytesMut::with_capacity(header_len);
    let mut rest: Option<Bytes> = None;
    while header.len() < header_len {
        match stream.next().await {
            Some(Ok(mut chunk)) => {
                let need = header_len - header.len();
                if chunk.len() > need {
                    rest = Some(chunk.split_off(need));
                }
                header.extend_from_slice(&chunk);
            }
            Some(Err(e)) => {
                return Err(AppError::BadRequest(format!(
                    "could not read the body: {e}"
                )))
            }
            None => return Err(AppError::BadRequest("body shorter than header_len".into())),
        }
    }
    let header = header.freeze();
    let payload = stream::iter(rest.map(Ok)).chain(stream);
    let payload_limit = limit.saturating_sub(query.header_len);

    let existing = state
        .db
        .camera_part(camera.camera_id, event_id, kind)
        .await?;
    if let Some(existing) = existing {
        // A retry: compare without storing anything.
        let header_written =
            hash_stream(stream::iter([Ok::<_, std::io::Error>(header)]), u64::MAX).await?;
        let payload_written = hash_stream(payload, payload_limit).await?;
        return if same_part(&existing, &header_written.sha256, &payload_written.sha256) {
            Ok(upload_answer(
                StatusCode::OK,
                event_id,
                kind,
                (existing.header_size, existing.payload_size),
            ))
        } else {
            Err(AppError::Conflict(
                "this part is stored already with different bytes",
            ))
        };
    }

    let payload_key = BlobStore::new_key();
    let payload_written = state
        .blobs
        .put_stream(&payload_key, payload, payload_limit)
        .await?;
    let header_key = BlobStore::new_key();
    let header_written = match state.blobs.put_bytes(&header_key, header).await {
        Ok(w) => w,
        Err(e) => {
            state.blobs.delete_all(vec![payload_key]).await;
            return Err(e.into());
        }
    };
    let granularity = state.config.tasks.time_granularity_secs.max(1) as i64;
    let part = NewPart {
        event_id,
        camera_id: camera.camera_id,
        captured_at: query.captured_at - query.captured_at.rem_euclid(granularity),
        kind,
        header_key: header_key.clone(),
        header_size: header_written.size,
        header_sha256: header_written.sha256.to_vec(),
        payload_key: payload_key.clone(),
        payload_size: payload_written.size,
        payload_sha256: payload_written.sha256.to_vec(),
        created_at: now(),
    };
    let outcome = match state.db.insert_part(&part).await {
        Ok(outcome) => outcome,
        Err(e) => {
            state.blobs.delete_all(vec![header_key, payload_key]).await;
            return Err(e.into());
        }
    };
    match outcome {
        InsertPart::Inserted => {
            state
                .metrics
                .bytes_in
                .inc_by(header_written.size + payload_written.size);
            Ok(upload_answer(
                StatusCode::CREATED,
                event_id,
                kind,
                (header_written.size, payload_written.size),
            ))
        }
        InsertPart::Exists(existing) => {
            // A concurrent upload of the same part won the race.
            state.blobs.delete_all(vec![header_key, payload_key]).await;
            if same_part(&existing, &header_written.sha256, &payload_written.sha256) {
                Ok(upload_answer(
                    StatusCode::OK,
                    event_id,
                    kind,
                    (existing.header_size, existing.payload_size),
                ))
            } else {
                Err(AppError::Conflict(
                    "this part is stored already with different bytes",
                ))
            }
        }
        InsertPart::ForeignEvent => {
            state.blobs.delete_all(vec![header_key, payload_key]).await;
            Err(AppError::NotFound)
        }
    }
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
    let keys = state
        .db
        .delete_event(v.account_id, event_id)
        .await?
        .ok_or(AppError::NotFound)?;
    state.blobs.delete_all(keys).await;
    Ok(no_content())
}

#[derive(Clone, Copy)]
enum Which {
    Whole,
    Header,
    Payload,
}

async fn download(
    state: AppState,
    token: ViewerToken,
    event_id: &str,
    kind: &str,
    which: Which,
    range: &RangeHeader,
) -> AppResult<Response> {
    // Authentication and authorisation in one database query.
    let (event_id, kind) = match (parse_id(event_id), parse_kind(kind)) {
        (Ok(event_id), Ok(kind)) => (event_id, kind),
        // Still authenticate first: an unauthenticated caller learns nothing.
        _ => (Uuid::nil(), PartKind::Thumbnail),
    };
    let (viewer, part) = state
        .db
        .viewer_part_by_token(&token.hash, event_id, kind)
        .await?
        .ok_or_else(|| fail(&state, token.ip))?;
    if !crate::tokens::hashes_equal(&viewer.token_hash, &token.hash) {
        return Err(fail(&state, token.ip));
    }
    let part = part.ok_or(AppError::NotFound)?;
    let pieces: Vec<(String, u64)> = match which {
        Which::Whole => vec![
            (part.header_key, part.header_size),
            (part.payload_key, part.payload_size),
        ],
        Which::Header => vec![(part.header_key, part.header_size)],
        Which::Payload => vec![(part.payload_key, part.payload_size)],
    };
    let total: u64 = pieces.iter().map(|(_, size)| size).sum();
    let wanted = range::resolve(range.as_str(), total)?;
    let span = wanted.clone().unwrap_or(0..total);
    let mut segments = Vec::with_capacity(pieces.len());
    let mut offset = 0u64;
    for (key, size) in pieces {
        let (start, end) = (offset, offset + size);
        offset = end;
        let from = span.start.max(start);
        let to = span.end.min(end);
        if from < to {
            segments.push(Segment {
                key,
                range: (from - start)..(to - start),
            });
        }
    }
    let body = state.blobs.read(segments).await?;
    let mut response = Response::new(body);
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
    if wanted.is_some() {
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
    Ok(response)
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
    download(state, token, &event_id, &kind, Which::Whole, &range).await
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
    download(state, token, &event_id, &kind, Which::Header, &range).await
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
    download(state, token, &event_id, &kind, Which::Payload, &range).await
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
    let part = state
        .db
        .viewer_part(v.account_id, event_id, kind)
        .await?
        .ok_or(AppError::NotFound)?;
    require_owner(&state, v.account_id, part.camera_id).await?;
    let header = read_body(body, state.config.limits.max_header_bytes).await?;
    if header.is_empty() {
        return Err(AppError::BadRequest("the header is empty".into()));
    }
    let key = BlobStore::new_key();
    let written = state.blobs.put_bytes(&key, header).await?;
    let old = match state
        .db
        .replace_header(
            v.account_id,
            event_id,
            kind,
            &key,
            written.size,
            &written.sha256,
        )
        .await
    {
        Ok(Some(old)) => old,
        Ok(None) => {
            state.blobs.delete_all(vec![key]).await;
            return Err(AppError::NotFound);
        }
        Err(e) => {
            state.blobs.delete_all(vec![key]).await;
            return Err(e.into());
        }
    };
    state.blobs.delete_all(vec![old]).await;
    state.metrics.bytes_in.inc_by(written.size);
    Ok(upload_answer(
        StatusCode::OK,
        event_id,
        kind,
        (written.size, part.payload_size),
    ))
}
