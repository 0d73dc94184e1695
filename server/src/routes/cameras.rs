//! Pairing, cameras, recipient sets, retention and sharing.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sealcam_keys::KeyLog;
use sealcam_wire::{
    token_prefix, Camera as CameraView, CameraList, CameraSelf, ErrorBody, PairingResponse,
    RecipientSet, RecipientSetQuery, RegisterCameraRequest, RegisterCameraResponse, Retention,
    SetKey, Share, ShareList,
};
use uuid::Uuid;

use super::{created, no_content, parse_id, JsonBody};
use crate::auth::{fail, Caller, Camera, ClientIp, Viewer};
use crate::error::{AppError, AppResult};
use crate::parts::Parts;
use crate::state::{now, AppState};
use crate::store::{NewCamera, OneTimeKind, Written};
use crate::tokens;

/// Longest base64 text of a device public key or pairing proof.
const MAX_PAIRING_FIELD: usize = 4096;

/// Longest set key statement, in bytes (`age1…` and a base64 signature
/// need about 150).
const MAX_SET_KEY: usize = 512;

/// A one-time, expiring claim token for pairing a new camera.
#[utoipa::path(post, path = "/v1/pairings", tag = "cameras", security(("bearer" = [])),
    responses((status = 201, body = PairingResponse), (status = 401, body = ErrorBody)))]
pub async fn create_pairing(
    State(state): State<AppState>,
    Viewer(v): Viewer,
) -> AppResult<Response> {
    let token = tokens::generate(token_prefix::CLAIM);
    let now = now();
    let expires_at = now + state.config.auth.claim_ttl_secs as i64;
    // Tied to this device: a removed device's claims die with it.
    let stored = state
        .db
        .create_device_token(OneTimeKind::Claim, &token.hash, &v, None, expires_at, now)
        .await?;
    if !stored {
        return Err(AppError::Unauthorized);
    }
    Ok(created(PairingResponse {
        claim_token: token.token,
        expires_at,
    }))
}

fn check_base64(name: &str, text: &str) -> AppResult<()> {
    if text.is_empty() || text.len() > MAX_PAIRING_FIELD || STANDARD.decode(text).is_err() {
        return Err(AppError::BadRequest(format!(
            "{name} must be non-empty standard base64 of at most {MAX_PAIRING_FIELD} characters"
        )));
    }
    Ok(())
}

/// A camera registers with a claim token (no credential); it starts `pending`.
#[utoipa::path(post, path = "/v1/cameras/register", tag = "cameras", request_body = RegisterCameraRequest,
    responses((status = 201, body = RegisterCameraResponse, description = "registered; the credential is shown once"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody, description = "unknown, used or expired claim"),
        (status = 429, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(req): JsonBody<RegisterCameraRequest>,
) -> AppResult<Response> {
    check_base64("device_public_key", &req.device_public_key)?;
    check_base64("pairing_proof", &req.pairing_proof)?;
    if !tokens::well_formed(&req.claim_token, token_prefix::CLAIM) {
        return Err(fail(&state, ip));
    }
    let credential = tokens::generate(token_prefix::CAMERA);
    let camera = NewCamera {
        id: Uuid::new_v4(),
        token_hash: credential.hash,
        device_public_key: req.device_public_key,
        pairing_proof: req.pairing_proof,
        created_at: now(),
    };
    let owner_id = state
        .db
        .register_camera(&tokens::hash(&req.claim_token), &camera, camera.created_at)
        .await?
        .ok_or_else(|| fail(&state, ip))?;
    tracing::info!(camera_id = %camera.id, %owner_id, "camera registered, pending confirmation");
    Ok(created(RegisterCameraResponse {
        camera_id: camera.id,
        owner_id,
        credential: credential.token,
    }))
}

/// Cameras the caller owns or that are shared with it.
#[utoipa::path(get, path = "/v1/cameras", tag = "cameras", security(("bearer" = [])),
    responses((status = 200, body = CameraList), (status = 401, body = ErrorBody)))]
pub async fn list_cameras(
    State(state): State<AppState>,
    Viewer(v): Viewer,
) -> AppResult<Json<CameraList>> {
    let cameras = state
        .db
        .list_cameras(v.account_id)
        .await?
        .into_iter()
        .map(|c| CameraView {
            camera_id: c.id,
            owner_id: c.owner_id,
            status: c.status,
            device_public_key: c.device_public_key,
            pairing_proof: c.pairing_proof,
            created_at: c.created_at,
            retention_days: c.retention_days,
            role: c.role,
            set_key: c.set_key,
        })
        .collect();
    Ok(Json(CameraList { cameras }))
}

/// A camera asks about itself (is it confirmed yet?).
#[utoipa::path(get, path = "/v1/camera", tag = "cameras", security(("bearer" = [])),
    responses((status = 200, body = CameraSelf), (status = 401, body = ErrorBody)))]
pub async fn camera_self(Camera(c): Camera) -> Json<CameraSelf> {
    Json(CameraSelf {
        camera_id: c.camera_id,
        owner_id: c.owner_id,
        status: c.status,
    })
}

/// A camera publishes its set key statement (`age1… <signature>`).
///
/// It replaces the one stored. A pending camera may publish too: it does
/// right after registering, before its owner confirms it. The statement is
/// opaque text: the server checks only its length and that it is printable
/// ASCII. The owner reads it in `GET /v1/cameras` (accounts the camera is
/// shared with do not) and verifies it under the pinned device key.
#[utoipa::path(put, path = "/v1/camera/set-key", tag = "cameras", security(("bearer" = [])),
    request_body = SetKey,
    responses((status = 204), (status = 400, body = ErrorBody, description = "empty, over 512 bytes, or not printable ASCII"),
        (status = 401, body = ErrorBody, description = "no camera credential (a viewer credential included)"),
        (status = 413, body = ErrorBody)))]
pub async fn put_set_key(
    State(state): State<AppState>,
    Camera(c): Camera,
    JsonBody(req): JsonBody<SetKey>,
) -> AppResult<Response> {
    let text = &req.set_key;
    if text.is_empty()
        || text.len() > MAX_SET_KEY
        || !text.bytes().all(|b| matches!(b, b' '..=b'~'))
    {
        return Err(AppError::BadRequest(format!(
            "set_key must be 1 to {MAX_SET_KEY} bytes of printable ASCII"
        )));
    }
    if state.db.put_set_key(c.camera_id, text).await? {
        Ok(no_content())
    } else {
        // Deleted since its credential was checked: the credential is gone.
        Err(AppError::Unauthorized)
    }
}

/// The owner confirms a pending camera (after checking its pairing proof).
#[utoipa::path(post, path = "/v1/cameras/{camera_id}/confirm", tag = "cameras", security(("bearer" = [])),
    params(("camera_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path(camera_id): Path<String>,
) -> AppResult<Response> {
    let camera_id = parse_id(&camera_id)?;
    if state.db.confirm_camera(v.account_id, camera_id).await? {
        Ok(no_content())
    } else {
        Err(AppError::NotFound)
    }
}

/// The owner deletes a camera with all its events, shares and credential.
#[utoipa::path(delete, path = "/v1/cameras/{camera_id}", tag = "cameras", security(("bearer" = [])),
    params(("camera_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_camera(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path(camera_id): Path<String>,
) -> AppResult<Response> {
    let camera_id = parse_id(&camera_id)?;
    Parts::of(&state)
        .delete_camera(v.account_id, camera_id)
        .await?;
    Ok(no_content())
}

/// The camera's recipient set: for its owner, accounts it is shared with, and the camera itself.
///
/// It carries the owner account's key log (`key_log`), read with the set in
/// the same query, when the account has one: only the statements at or
/// past the place the caller names (`held_reset`, `held_generation`), when
/// it names one and the stored log parses, else the whole log as stored.
#[utoipa::path(get, path = "/v1/cameras/{camera_id}/recipient-set", tag = "cameras", security(("bearer" = [])),
    params(("camera_id" = Uuid, Path), RecipientSetQuery),
    responses((status = 200, body = RecipientSet), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such camera, not visible, or no set yet")))]
pub async fn get_recipient_set(
    State(state): State<AppState>,
    caller: Caller,
    Path(camera_id): Path<String>,
    query: Result<Query<RecipientSetQuery>, QueryRejection>,
) -> AppResult<Json<RecipientSet>> {
    let camera_id = parse_id(&camera_id)?;
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let allowed = match caller {
        Caller::Camera(c) => c.camera_id == camera_id,
        Caller::Viewer(v) => state
            .db
            .camera_role(v.account_id, camera_id)
            .await?
            .is_some(),
    };
    if !allowed {
        return Err(AppError::NotFound);
    }
    let stored = state
        .db
        .recipient_set(camera_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(RecipientSet {
        epoch: stored.epoch,
        set: STANDARD.encode(stored.set),
        key_log: stored
            .key_log
            .map(|log| STANDARD.encode(key_log_since(log, query.held()))),
        supersede: false,
    }))
}

/// The stored key log `log`, or only its statements at or past `held`
/// ([`KeyLog::since_bytes`], which decodes no key). A log that does not parse goes out as stored: the
/// camera refuses it and says why, as before.
fn key_log_since(log: Vec<u8>, held: Option<(u64, u64)>) -> Vec<u8> {
    let Some(held) = held else { return log };
    KeyLog::since_bytes(&log, held).unwrap_or(log)
}

/// The owner publishes a new recipient set; the epoch must grow (409
/// otherwise), unless `supersede` is set: then it replaces whatever is stored
/// (the camera enforces the signed epoch order). `key_log` is ignored.
#[utoipa::path(put, path = "/v1/cameras/{camera_id}/recipient-set", tag = "cameras", security(("bearer" = [])),
    params(("camera_id" = Uuid, Path)), request_body = RecipientSet,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "stale_epoch (never with supersede)"),
        (status = 413, body = ErrorBody)))]
pub async fn put_recipient_set(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path(camera_id): Path<String>,
    JsonBody(req): JsonBody<RecipientSet>,
) -> AppResult<Response> {
    let camera_id = parse_id(&camera_id)?;
    if req.epoch > i64::MAX as u64 {
        return Err(AppError::BadRequest("epoch must be below 2^63".into()));
    }
    let set = STANDARD
        .decode(&req.set)
        .map_err(|_| AppError::BadRequest("set must be standard base64".into()))?;
    let limit = state.config.limits.max_recipient_set_bytes;
    if set.is_empty() {
        return Err(AppError::BadRequest("set is empty".into()));
    }
    if set.len() as u64 > limit {
        return Err(AppError::PayloadTooLarge(limit));
    }
    match state
        .db
        .put_recipient_set(v.account_id, camera_id, req.epoch, &set, req.supersede)
        .await?
    {
        Written::Stored => Ok(no_content()),
        Written::Refused => Err(AppError::StaleEpoch),
        Written::NotFound => Err(AppError::NotFound),
    }
}

/// The owner sets how many days events are kept (`null`: forever).
#[utoipa::path(put, path = "/v1/cameras/{camera_id}/retention", tag = "cameras", security(("bearer" = [])),
    params(("camera_id" = Uuid, Path)), request_body = Retention,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn put_retention(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path(camera_id): Path<String>,
    JsonBody(req): JsonBody<Retention>,
) -> AppResult<Response> {
    let camera_id = parse_id(&camera_id)?;
    if req.days.is_some_and(|d| d == 0 || d > 36_500) {
        return Err(AppError::BadRequest(
            "days must be 1 to 36500, or null".into(),
        ));
    }
    if state
        .db
        .set_retention(v.account_id, camera_id, req.days)
        .await?
    {
        Ok(no_content())
    } else {
        Err(AppError::NotFound)
    }
}

/// The accounts an owned camera is shared with.
#[utoipa::path(get, path = "/v1/cameras/{camera_id}/shares", tag = "sharing", security(("bearer" = [])),
    params(("camera_id" = Uuid, Path)),
    responses((status = 200, body = ShareList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_shares(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path(camera_id): Path<String>,
) -> AppResult<Json<ShareList>> {
    let camera_id = parse_id(&camera_id)?;
    let shares = state
        .db
        .list_shares(v.account_id, camera_id)
        .await?
        .ok_or(AppError::NotFound)?
        .into_iter()
        .map(|s| Share {
            account_id: s.account_id,
            created_at: s.created_at,
        })
        .collect();
    Ok(Json(ShareList { shares }))
}

/// Share an owned camera with another account (idempotent).
#[utoipa::path(put, path = "/v1/cameras/{camera_id}/shares/{account_id}", tag = "sharing", security(("bearer" = [])),
    params(("camera_id" = Uuid, Path), ("account_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such camera of yours, or no such account")))]
pub async fn put_share(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path((camera_id, account_id)): Path<(String, String)>,
) -> AppResult<Response> {
    let camera_id = parse_id(&camera_id)?;
    let account_id = parse_id(&account_id)?;
    if state
        .db
        .put_share(v.account_id, camera_id, account_id, now())
        .await?
    {
        Ok(no_content())
    } else {
        Err(AppError::NotFound)
    }
}

/// Withdraw a share; it takes effect on the shared account's next request.
#[utoipa::path(delete, path = "/v1/cameras/{camera_id}/shares/{account_id}", tag = "sharing", security(("bearer" = [])),
    params(("camera_id" = Uuid, Path), ("account_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_share(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path((camera_id, account_id)): Path<(String, String)>,
) -> AppResult<Response> {
    let camera_id = parse_id(&camera_id)?;
    let account_id = parse_id(&account_id)?;
    if state
        .db
        .delete_share(v.account_id, camera_id, account_id)
        .await?
    {
        Ok(no_content())
    } else {
        Err(AppError::NotFound)
    }
}
