//! The HTTP API: the router and the helpers every handler shares.

pub mod accounts;
pub mod cameras;
pub mod events;
pub mod health;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::metrics;
use crate::state::AppState;

/// Builds the API router (without the metrics listener).
pub fn router(state: AppState) -> Router {
    let metrics = Arc::clone(&state.metrics);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/openapi.json", get(health::openapi))
        .route("/v1/enroll", post(accounts::enroll))
        .route("/v1/account", get(accounts::account))
        .route(
            "/v1/account/key-bundle",
            get(accounts::get_key_bundle).put(accounts::put_key_bundle),
        )
        .route(
            "/v1/account/viewers",
            get(accounts::get_viewers).put(accounts::put_viewers),
        )
        .route(
            "/v1/account/key-log",
            get(accounts::get_key_log).put(accounts::put_key_log),
        )
        .route(
            "/v1/account/recovery-credential",
            put(accounts::put_recovery_credential),
        )
        .route("/v1/devices", get(accounts::list_devices))
        .route(
            "/v1/devices/link",
            post(accounts::link_device).delete(accounts::withdraw_links),
        )
        .route(
            "/v1/devices/{device_id}",
            axum::routing::delete(accounts::delete_device),
        )
        .route("/v1/pairings", post(cameras::create_pairing))
        .route("/v1/cameras/register", post(cameras::register))
        .route("/v1/cameras", get(cameras::list_cameras))
        .route("/v1/camera", get(cameras::camera_self))
        .route(
            "/v1/cameras/{camera_id}",
            axum::routing::delete(cameras::delete_camera),
        )
        .route("/v1/cameras/{camera_id}/confirm", post(cameras::confirm))
        .route(
            "/v1/cameras/{camera_id}/recipient-set",
            get(cameras::get_recipient_set).put(cameras::put_recipient_set),
        )
        .route(
            "/v1/cameras/{camera_id}/retention",
            put(cameras::put_retention),
        )
        .route("/v1/cameras/{camera_id}/shares", get(cameras::list_shares))
        .route(
            "/v1/cameras/{camera_id}/shares/{account_id}",
            put(cameras::put_share).delete(cameras::delete_share),
        )
        .route("/v1/cameras/{camera_id}/events", get(events::list_events))
        .route(
            "/v1/events/{event_id}",
            get(events::get_event).delete(events::delete_event),
        )
        .route(
            "/v1/events/{event_id}/parts/{kind}",
            get(events::download_part).put(events::upload_part),
        )
        .route(
            "/v1/events/{event_id}/parts/{kind}/header",
            get(events::download_header).put(events::replace_header),
        )
        .route(
            "/v1/events/{event_id}/parts/{kind}/payload",
            get(events::download_payload),
        )
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        // Bodies are read with explicit per-route limits (see `read_body`).
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ))
        .with_state(state)
}

/// Parses an id from the path. A malformed id is simply an id that does not
/// exist: 404, never 400, so ids can't be probed by their shape.
pub fn parse_id(text: &str) -> AppResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| AppError::NotFound)
}

/// Reads a whole body, refusing more than `limit` bytes with 413 (as soon as
/// the count passes it: the rest is not read).
pub async fn read_body(body: Body, limit: u64) -> AppResult<Bytes> {
    use futures_util::StreamExt as _;
    let mut stream = body.into_data_stream();
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| AppError::BadRequest(format!("could not read the body: {e}")))?;
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(AppError::PayloadTooLarge(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// A JSON body with the server's error shape and size limit.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let bytes = read_body(req.into_body(), state.config.limits.max_json_bytes).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

/// A JSON body that may be absent: an empty (or blank) body is `T::default()`,
/// for routes that gained a body after clients that send none.
#[derive(Debug, Clone)]
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalJsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let bytes = read_body(req.into_body(), state.config.limits.max_json_bytes).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(OptionalJsonBody)
            .map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

/// A `201 Created` JSON answer.
pub fn created<T: serde::Serialize>(value: T) -> Response {
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

/// A `204 No Content` answer.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// An `application/octet-stream` answer with an `ETag`.
pub fn octets(bytes: Vec<u8>, etag: &str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::ETAG, format!("\"{etag}\"")),
            (header::CACHE_CONTROL, "private, no-cache".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
