//! Enrollment, devices and the account's opaque records.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::Json;
use sealcam_wire::{
    token_prefix, AccountInfo, Device, DeviceList, EnrollRequest, EnrollResponse, ErrorBody,
    LinkRequest, LinkResponse, RecoveryCredentialRequest,
};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::{created, no_content, octets, parse_id, read_body, JsonBody, OptionalJsonBody};
use crate::auth::{fail, ClientIp, Viewer};
use crate::error::{AppError, AppResult};
use crate::state::{now, AppState};
use crate::store::{
    DeviceDeleted, DeviceRole, NewDevice, OneTimeKind, RecordKind, RecoveryOutcome, Written,
};
use crate::tokens;

/// Longest device name, in bytes.
const MAX_DEVICE_NAME: usize = 200;

/// Longest viewer key, in characters.
const MAX_VIEWER_KEY: usize = 100;

/// Checks the shape of a viewer key, cheaply: the server does no crypto and
/// stores it as opaque text, compared for equality only. Clients since S9
/// send a commitment to the key (`vkc1` and 64 hex digits), earlier ones the
/// key itself (`age1…`); anything else is kept out (at most 100 ASCII
/// letters and digits).
fn check_viewer_key(key: Option<&str>) -> AppResult<Option<&str>> {
    if let Some(key) = key {
        let shaped = key.len() > "age1".len()
            && key.len() <= MAX_VIEWER_KEY
            && (key.starts_with("age1") || key.starts_with("vkc1"))
            && key.bytes().all(|b| b.is_ascii_alphanumeric());
        if !shaped {
            return Err(AppError::BadRequest(format!(
                "viewer_key must be a viewer key commitment (vkc1…) or an age recipient (age1…) of at most {MAX_VIEWER_KEY} ASCII letters and digits"
            )));
        }
    }
    Ok(key)
}

/// Enroll a viewer device with an enrollment or link token.
///
/// A link token bound to a viewer key enrolls only a request with that same
/// `viewer_key`; any other answers 401, like an unknown token, and leaves the
/// token unused.
#[utoipa::path(post, path = "/v1/enroll", tag = "accounts", request_body = EnrollRequest,
    responses(
        (status = 201, body = EnrollResponse, description = "device enrolled; the credential is shown once"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody, description = "unknown, used or expired token, or one bound to another viewer key"),
        (status = 429, body = ErrorBody, description = "too many failed attempts from this address")))]
pub async fn enroll(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(req): JsonBody<EnrollRequest>,
) -> AppResult<Response> {
    let name = req.device_name.trim();
    if name.is_empty() || name.len() > MAX_DEVICE_NAME {
        return Err(AppError::BadRequest(format!(
            "device_name must be 1 to {MAX_DEVICE_NAME} bytes"
        )));
    }
    let viewer_key = check_viewer_key(req.viewer_key.as_deref())?;
    let plausible = tokens::well_formed(&req.token, token_prefix::ENROLLMENT)
        || tokens::well_formed(&req.token, token_prefix::LINK);
    if !plausible {
        return Err(fail(&state, ip));
    }
    let device_id = Uuid::new_v4();
    let credential = tokens::generate(token_prefix::VIEWER);
    let account_id = state
        .db
        .enroll(
            &tokens::hash(&req.token),
            NewDevice {
                id: device_id,
                name,
                token_hash: &credential.hash,
                viewer_key,
            },
            now(),
        )
        .await?
        .ok_or_else(|| fail(&state, ip))?;
    tracing::info!(%account_id, %device_id, "device enrolled");
    Ok(created(EnrollResponse {
        account_id,
        device_id,
        credential: credential.token,
    }))
}

/// The caller's account.
#[utoipa::path(get, path = "/v1/account", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = AccountInfo), (status = 401, body = ErrorBody)))]
pub async fn account(
    State(state): State<AppState>,
    Viewer(v): Viewer,
) -> AppResult<Json<AccountInfo>> {
    let name = state
        .db
        .account_name(v.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(AccountInfo {
        account_id: v.account_id,
        name,
    }))
}

/// The account's devices.
#[utoipa::path(get, path = "/v1/devices", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = DeviceList), (status = 401, body = ErrorBody)))]
pub async fn list_devices(
    State(state): State<AppState>,
    Viewer(v): Viewer,
) -> AppResult<Json<DeviceList>> {
    let devices = state
        .db
        .list_devices(v.account_id)
        .await?
        .into_iter()
        .map(|d| Device {
            current: d.id == v.device_id,
            device_id: d.id,
            name: d.name,
            created_at: d.created_at,
            recovery: d.role == DeviceRole::Recovery,
            viewer_key: d.viewer_key,
        })
        .collect();
    Ok(Json(DeviceList { devices }))
}

/// Withdraw every unused link token of this account (what `sealcam viewers
/// revoke` and `recover` do: a revoked device may have minted one while it
/// was a viewer, to enroll a spare device later).
#[utoipa::path(delete, path = "/v1/devices/link", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn withdraw_links(
    State(state): State<AppState>,
    Viewer(v): Viewer,
) -> AppResult<Response> {
    let n = state.db.withdraw_link_tokens(v.account_id).await?;
    tracing::info!(account_id = %v.account_id, withdrawn = n, "link tokens withdrawn");
    Ok(no_content())
}

/// A one-time token to enroll one more device of this account, optionally
/// bound to the new device's viewer key (an empty body is `{}`).
#[utoipa::path(post, path = "/v1/devices/link", tag = "accounts", security(("bearer" = [])),
    request_body(content = Option<LinkRequest>, description = "optional; an empty body binds no key"),
    responses((status = 201, body = LinkResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn link_device(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    OptionalJsonBody(req): OptionalJsonBody<LinkRequest>,
) -> AppResult<Response> {
    let viewer_key = check_viewer_key(req.viewer_key.as_deref())?;
    let token = tokens::generate(token_prefix::LINK);
    let now = now();
    let expires_at = now + state.config.auth.link_ttl_secs as i64;
    // Tied to this device: gone with it (a device removed while it asked
    // gets none, and one it made just before its removal dies with it).
    let stored = state
        .db
        .create_device_token(
            OneTimeKind::Link,
            &token.hash,
            &v,
            viewer_key,
            expires_at,
            now,
        )
        .await?;
    if !stored {
        return Err(AppError::Unauthorized);
    }
    Ok(created(LinkResponse {
        link_token: token.token,
        expires_at,
    }))
}

/// Remove a device of this account (its credential stops working at once).
/// The recovery device removes only itself.
#[utoipa::path(delete, path = "/v1/devices/{device_id}", tag = "accounts", security(("bearer" = [])),
    params(("device_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the recovery device, removed by another device")))]
pub async fn delete_device(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path(device_id): Path<String>,
) -> AppResult<Response> {
    let device_id = parse_id(&device_id)?;
    match state
        .db
        .delete_device(v.account_id, v.device_id, device_id)
        .await?
    {
        DeviceDeleted::Deleted => Ok(no_content()),
        DeviceDeleted::NotFound => Err(AppError::NotFound),
        DeviceDeleted::RecoveryDevice => Err(AppError::Conflict(
            "this is the account's recovery device; only the recovery key itself can remove it",
        )),
    }
}

/// The name of the device that holds the recovery credential.
pub const RECOVERY_DEVICE_NAME: &str = "recovery key";

/// Register the credential derived from the owner's recovery key.
///
/// The credential becomes the account's recovery device, named "recovery
/// key" (only its hash is stored), so `sealcam recover` can authenticate with
/// the recovery key alone. An account has one: registering the same
/// credential again is a no-op, and only the recovery device itself (the
/// caller authenticated with the current recovery credential) can replace it
/// with another.
#[utoipa::path(put, path = "/v1/account/recovery-credential", tag = "accounts", security(("bearer" = [])),
    request_body = RecoveryCredentialRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the account has another recovery credential and the caller is not the recovery device, or the credential belongs to another device or account")))]
pub async fn put_recovery_credential(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    JsonBody(req): JsonBody<RecoveryCredentialRequest>,
) -> AppResult<Response> {
    if !tokens::well_formed(&req.credential, token_prefix::VIEWER) {
        return Err(AppError::BadRequest(
            "credential must be a viewer credential (scv_ and 43 base64url characters)".into(),
        ));
    }
    let hash = tokens::hash(&req.credential);
    let device_id = Uuid::new_v4();
    let outcome = state
        .db
        .register_recovery(
            v.account_id,
            v.device_id,
            NewDevice {
                id: device_id,
                name: RECOVERY_DEVICE_NAME,
                token_hash: &hash,
                viewer_key: None,
            },
            now(),
        )
        .await?;
    match outcome {
        RecoveryOutcome::Created => {
            tracing::info!(account_id = %v.account_id, %device_id, "recovery credential registered");
            Ok(no_content())
        }
        RecoveryOutcome::Replaced => {
            tracing::info!(account_id = %v.account_id, device_id = %v.device_id, "recovery credential replaced");
            Ok(no_content())
        }
        RecoveryOutcome::Unchanged => Ok(no_content()),
        RecoveryOutcome::NotRecoveryDevice => Err(AppError::Conflict(
            "this account already has a recovery credential; only the recovery key can replace it (sealcam recover)",
        )),
        RecoveryOutcome::OtherDevice => Err(AppError::Conflict(
            "credential registered to another device of this account",
        )),
        RecoveryOutcome::OtherAccount => Err(AppError::Conflict(
            "credential registered to another account",
        )),
    }
}

async fn get_record(
    state: &AppState,
    v: &crate::store::ViewerPrincipal,
    kind: RecordKind,
) -> AppResult<Response> {
    let data = state
        .db
        .get_record(v.account_id, kind)
        .await?
        .ok_or(AppError::NotFound)?;
    let etag = hex::encode(Sha256::digest(&data));
    Ok(octets(data, &etag))
}

/// Parses `If-Match: "<sha256 hex>"` / `If-None-Match: *`.
fn precondition(headers: &HeaderMap) -> AppResult<Option<Option<[u8; 32]>>> {
    if let Some(value) = headers.get(header::IF_MATCH) {
        let text = value
            .to_str()
            .map_err(|_| AppError::BadRequest("If-Match is not text".into()))?;
        let hex_text = text.trim().trim_matches('"');
        let mut sha = [0u8; 32];
        hex::decode_to_slice(hex_text, &mut sha)
            .map_err(|_| AppError::BadRequest("If-Match must be an ETag from a GET".into()))?;
        return Ok(Some(Some(sha)));
    }
    if let Some(value) = headers.get(header::IF_NONE_MATCH) {
        if value.as_bytes() == b"*" {
            return Ok(Some(None));
        }
        return Err(AppError::BadRequest(
            "only If-None-Match: * is supported".into(),
        ));
    }
    Ok(None)
}

async fn put_record(
    state: &AppState,
    v: &crate::store::ViewerPrincipal,
    kind: RecordKind,
    headers: &HeaderMap,
    body: Body,
) -> AppResult<Response> {
    let if_match = precondition(headers)?;
    let data = read_body(body, state.config.limits.max_account_record_bytes).await?;
    if !state.db.still_there(v).await? {
        return Err(AppError::Unauthorized);
    }
    if data.is_empty() {
        return Err(AppError::BadRequest("the record is empty".into()));
    }
    match state
        .db
        .put_record(v.account_id, kind, &data, if_match)
        .await?
    {
        Written::Stored => {
            state.metrics.bytes_in.inc_by(data.len() as u64);
            let mut response = no_content();
            let etag = format!("\"{}\"", hex::encode(Sha256::digest(&data)));
            if let Ok(value) = etag.parse() {
                response.headers_mut().insert(header::ETAG, value);
            }
            Ok(response)
        }
        Written::Refused => Err(AppError::PreconditionFailed),
        Written::NotFound => Err(AppError::NotFound),
    }
}

/// The owner key bundle (opaque; sealed to the owner's viewers and recovery key).
#[utoipa::path(get, path = "/v1/account/key-bundle", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream", description = "the bundle; ETag = \"<sha256 hex>\""),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "none stored yet")))]
pub async fn get_key_bundle(
    State(state): State<AppState>,
    Viewer(v): Viewer,
) -> AppResult<Response> {
    get_record(&state, &v, RecordKind::KeyBundle).await
}

/// Replace the owner key bundle (`If-Match: <ETag>` or `If-None-Match: *` make it conditional).
#[utoipa::path(put, path = "/v1/account/key-bundle", tag = "accounts", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 413, body = ErrorBody)))]
pub async fn put_key_bundle(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    put_record(&state, &v, RecordKind::KeyBundle, &headers, body).await
}

/// The owner's list of viewers (opaque).
#[utoipa::path(get, path = "/v1/account/viewers", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream", description = "the list; ETag = \"<sha256 hex>\""),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "none stored yet")))]
pub async fn get_viewers(State(state): State<AppState>, Viewer(v): Viewer) -> AppResult<Response> {
    get_record(&state, &v, RecordKind::Viewers).await
}

/// Replace the owner's list of viewers (conditional like the key bundle).
#[utoipa::path(put, path = "/v1/account/viewers", tag = "accounts", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 413, body = ErrorBody)))]
pub async fn put_viewers(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    put_record(&state, &v, RecordKind::Viewers, &headers, body).await
}

/// The owner's key log (opaque; cameras receive it with their recipient set).
#[utoipa::path(get, path = "/v1/account/key-log", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream", description = "the log; ETag = \"<sha256 hex>\""),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "none stored yet")))]
pub async fn get_key_log(State(state): State<AppState>, Viewer(v): Viewer) -> AppResult<Response> {
    get_record(&state, &v, RecordKind::KeyLog).await
}

/// Replace the owner's key log (conditional like the key bundle).
#[utoipa::path(put, path = "/v1/account/key-log", tag = "accounts", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 413, body = ErrorBody)))]
pub async fn put_key_log(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    put_record(&state, &v, RecordKind::KeyLog, &headers, body).await
}
