//! `/healthz` and `/openapi.json`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::OpenApi as _;

use crate::state::AppState;

/// Health: checks the database and the blob store (503 when either fails).
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "database and blob store answer"),
        (status = 503, description = "one of them does not")))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let (db, blobs) = tokio::join!(state.db.ping(), state.blobs.health());
    if let Err(e) = &db {
        tracing::error!(error = %e, "health: database");
    }
    if let Err(e) = &blobs {
        tracing::error!(error = %e, "health: blob store");
    }
    // Full: reads still work, uploads answer 507 until a write succeeds.
    let probe_full = blobs
        .as_ref()
        .is_err_and(crate::blobs::space::is_full_error);
    let full = state.blobs.is_full() || probe_full;
    let status = if db.is_ok() && blobs.is_ok() && !full {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "failing" };
    let blobs_word = if full {
        "full"
    } else if blobs.is_err() {
        "failing"
    } else {
        "ok"
    };
    (
        status,
        Json(serde_json::json!({
            "status": word(status == StatusCode::OK),
            "database": word(db.is_ok()),
            "blobs": blobs_word,
        })),
    )
        .into_response()
}

/// The OpenAPI document of this server.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
pub async fn openapi() -> Response {
    Json(crate::openapi::ApiDoc::openapi()).into_response()
}
