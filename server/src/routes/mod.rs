//! The HTTP API: the router and the helpers every handler shares.

pub mod accounts;
pub mod cameras;
pub mod events;
pub mod health;
pub mod watch;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::OpenApi as _;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::metrics;
use crate::state::AppState;

/// Declares the API from one list of handlers: the OpenAPI operations
/// ([`Operations`]) and, through them, the router ([`router`]). Each
/// handler's method and path are those of its `#[utoipa::path]`, so a route
/// is served exactly when it is documented.
macro_rules! api {
    ($($module:ident :: $handler:ident),* $(,)?) => {
        /// Every operation of the API, from the handlers' `#[utoipa::path]`
        /// annotations (the paths of [`crate::openapi::ApiDoc`]).
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($module::$handler),*))]
        pub struct Operations;

        /// The operation ids (each handler's function name), in list order.
        #[cfg(test)]
        const OPERATION_IDS: &[&str] = &[$(stringify!($handler)),*];

        /// The handler of the operation `id`, routed for `method`.
        fn handler(id: &str, method: MethodFilter) -> Option<MethodRouter<AppState>> {
            $(
                if id == stringify!($handler) {
                    return Some(axum::routing::on(method, $module::$handler));
                }
            )*
            None
        }
    };
}

api!(
    health::healthz,
    health::openapi,
    accounts::enroll,
    accounts::account,
    accounts::list_devices,
    accounts::link_device,
    accounts::withdraw_links,
    accounts::delete_device,
    accounts::get_key_bundle,
    accounts::put_key_bundle,
    accounts::get_viewers,
    accounts::put_viewers,
    accounts::get_key_log,
    accounts::put_key_log,
    accounts::put_recovery_credential,
    cameras::create_pairing,
    cameras::register,
    cameras::list_cameras,
    cameras::camera_self,
    cameras::put_set_key,
    cameras::confirm,
    cameras::delete_camera,
    cameras::get_recipient_set,
    cameras::put_recipient_set,
    cameras::put_retention,
    cameras::list_shares,
    cameras::put_share,
    cameras::delete_share,
    events::upload_part,
    events::list_events,
    watch::stream_events,
    events::get_event,
    events::delete_event,
    events::download_part,
    events::download_header,
    events::download_payload,
    events::replace_header,
);

/// Each documented operation of `item`, with the method it is served at.
fn operations(item: PathItem) -> impl Iterator<Item = (MethodFilter, Operation)> {
    [
        (MethodFilter::GET, item.get),
        (MethodFilter::PUT, item.put),
        (MethodFilter::POST, item.post),
        (MethodFilter::DELETE, item.delete),
        (MethodFilter::OPTIONS, item.options),
        (MethodFilter::HEAD, item.head),
        (MethodFilter::PATCH, item.patch),
        (MethodFilter::TRACE, item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation?)))
}

/// Every route of [`Operations`]: its path and method, and the handler its
/// operation id names (the unit test `every_operation_is_routed` checks that
/// each one has its handler).
fn api_routes() -> Router<AppState> {
    let mut router = Router::new();
    for (path, item) in Operations::openapi().paths.paths {
        for (method, operation) in operations(item) {
            let id = operation.operation_id.unwrap_or_default();
            if let Some(route) = handler(&id, method) {
                router = router.route(&path, route);
            }
        }
    }
    router
}

/// Builds the API router (without the metrics listener).
pub fn router(state: AppState) -> Router {
    let metrics = Arc::clone(&state.metrics);
    api_routes()
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

/// A JSON body's bytes, once the caller's credential was checked again
/// (a device removed while its body arrived writes nothing:
/// [`crate::auth::recheck`]).
async fn read_json_body(req: Request, state: &AppState) -> AppResult<Bytes> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(body, state.config.limits.max_json_bytes).await?;
    crate::auth::recheck(&parts, state).await?;
    Ok(bytes)
}

/// A JSON body with the server's error shape and size limit.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let bytes = read_json_body(req, state).await?;
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
        let bytes = read_json_body(req, state).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every documented operation has its handler, and every handler of the
    /// list is documented once: nothing is dropped between the two.
    #[test]
    fn every_operation_is_routed() {
        let mut routed = Vec::new();
        for (path, item) in Operations::openapi().paths.paths {
            for (method, operation) in operations(item) {
                let id = operation.operation_id.unwrap_or_default();
                assert!(
                    handler(&id, method).is_some(),
                    "{path}: operation {id:?} has no handler"
                );
                routed.push(id);
            }
        }
        routed.sort_unstable();
        let mut listed: Vec<String> = OPERATION_IDS.iter().map(|id| (*id).to_owned()).collect();
        listed.sort_unstable();
        assert_eq!(routed, listed);
    }
}
