//! Request and response types of the sealcam HTTP API.
//!
//! These types are shared by `sealcam-server`, the device SDK (cameras) and the
//! app SDK (viewers). They carry no cryptography: everything the server stores
//! for a client — sealed media, recipient sets, the owner key bundle and key
//! log, pairing proofs — travels through here as opaque bytes (base64 strings
//! in JSON, raw `application/octet-stream` bodies elsewhere).
//!
//! The full contract, with routes, credentials and status codes, is written
//! down in `docs/API.md`; `docs/openapi.json` is generated from the server.
//!
//! ```
//! use sealcam_wire::{PartKind, ErrorBody, ErrorCode};
//!
//! assert_eq!("clip".parse::<PartKind>(), Ok(PartKind::Clip));
//! let body: ErrorBody =
//!     serde_json::from_str(r#"{"error":{"code":"not_found","message":"not found"}}"#).unwrap();
//! assert_eq!(body.error.code, ErrorCode::NotFound);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The API version prefix of every route.
pub const API_PREFIX: &str = "/v1";

/// Largest age header the server accepts for one part, in bytes.
pub const MAX_HEADER_LEN: u64 = 64 * 1024;

/// Prefixes of the opaque bearer credentials the server hands out.
///
/// The prefix only tells a human (and a secret scanner) what a token is; the
/// server decides from its database, never from the prefix alone.
pub mod token_prefix {
    /// A viewer device's long-lived credential.
    pub const VIEWER: &str = "scv_";
    /// A camera's long-lived credential.
    pub const CAMERA: &str = "scc_";
    /// A one-time enrollment token printed by `sealcam-server accounts create`.
    pub const ENROLLMENT: &str = "sce_";
    /// A one-time, expiring pairing claim token handed to a camera.
    pub const CLAIM: &str = "sck_";
    /// A one-time, expiring token to link one more device to an account.
    pub const LINK: &str = "scl_";
}

/// The kind of a sealed part of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PartKind {
    /// A small still image shown in the timeline.
    Thumbnail,
    /// The video clip of the event.
    Clip,
    /// The event record (type, labels, duration: everything the server must not learn).
    Record,
}

impl PartKind {
    /// Every kind, in a stable order.
    pub const ALL: [PartKind; 3] = [PartKind::Thumbnail, PartKind::Clip, PartKind::Record];

    /// The name used in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PartKind::Thumbnail => "thumbnail",
            PartKind::Clip => "clip",
            PartKind::Record => "record",
        }
    }
}

impl fmt::Display for PartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown [`PartKind`] name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPartKind;

impl fmt::Display for UnknownPartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown part kind (expected thumbnail, clip or record)")
    }
}

impl std::error::Error for UnknownPartKind {}

impl FromStr for PartKind {
    type Err = UnknownPartKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "thumbnail" => Ok(PartKind::Thumbnail),
            "clip" => Ok(PartKind::Clip),
            "record" => Ok(PartKind::Record),
            _ => Err(UnknownPartKind),
        }
    }
}

/// Whether the owner has confirmed a camera's pairing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CameraStatus {
    /// Registered with a claim token; the owner has not confirmed it yet. It may not upload.
    Pending,
    /// Confirmed by the owner; it may upload.
    Active,
}

/// How the calling account relates to a camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CameraRole {
    /// The calling account owns the camera.
    Owner,
    /// The owner shared the camera with the calling account.
    Shared,
}

// ---------------------------------------------------------------------------
// Accounts and devices.

/// `POST /v1/enroll`: turn an enrollment or link token into a device credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollRequest {
    /// A one-time enrollment token (`sce_…`) or device link token (`scl_…`).
    pub token: String,
    /// A human-readable name for the new device (at most 200 bytes).
    pub device_name: String,
    /// The new device's viewer key (an age recipient, `age1…`, at most 100
    /// ASCII characters), recorded with the device and shown in
    /// `GET /v1/devices`. A link token bound to a key (see [`LinkRequest`])
    /// enrolls only a request carrying that same key.
    #[serde(default)]
    pub viewer_key: Option<String>,
}

/// The answer to [`EnrollRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollResponse {
    /// The account (= owner) the device now belongs to.
    pub account_id: Uuid,
    /// The new device's id.
    pub device_id: Uuid,
    /// The device's bearer credential (`scv_…`). Shown once; keep it secret.
    pub credential: String,
}

/// The optional body of `POST /v1/devices/link` (an empty body is the same
/// as `{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkRequest {
    /// Binds the link token to this viewer key (an age recipient, `age1…`,
    /// at most 100 ASCII characters): `POST /v1/enroll` with the token then
    /// succeeds only with the same `viewer_key`, so whoever intercepts the
    /// token cannot enroll a device under another key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer_key: Option<String>,
}

/// `POST /v1/devices/link`: a one-time token to enroll one more device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkResponse {
    /// The one-time link token (`scl_…`), to pass to `POST /v1/enroll`.
    pub link_token: String,
    /// When it stops working, in Unix seconds.
    pub expires_at: i64,
}

/// One viewer device of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    /// The device id.
    pub device_id: Uuid,
    /// The name given at enrollment.
    pub name: String,
    /// When it enrolled, in Unix seconds.
    pub created_at: i64,
    /// Whether this is the device making the request.
    pub current: bool,
    /// Whether this is the account's recovery device: the credential derived
    /// from the owner's recovery key (`PUT /v1/account/recovery-credential`).
    pub recovery: bool,
    /// The viewer key the device enrolled with, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer_key: Option<String>,
}

/// `GET /v1/devices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceList {
    /// The account's devices, oldest first.
    pub devices: Vec<Device>,
}

/// `GET /v1/account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountInfo {
    /// The account (= owner) id.
    pub account_id: Uuid,
    /// The name given by the operator at `accounts create`.
    pub name: String,
}

/// `PUT /v1/account/recovery-credential`: registers the viewer credential
/// derived from the owner's recovery key (docs/PROTOCOL.md "Recovery"), so the
/// recovery key alone can later authenticate. The server keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCredentialRequest {
    /// The derived credential (`scv_…`).
    pub credential: String,
}

// ---------------------------------------------------------------------------
// Pairing and cameras.

/// `POST /v1/pairings`: a one-time, expiring claim token for a new camera.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairingResponse {
    /// The claim token (`sck_…`), carried to the camera inside the pairing code.
    pub claim_token: String,
    /// When it stops working, in Unix seconds.
    pub expires_at: i64,
}

/// `POST /v1/cameras/register` (no credential: the claim token is the credential).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterCameraRequest {
    /// The claim token from the pairing code.
    pub claim_token: String,
    /// The camera's device public key, standard base64 (opaque to the server).
    pub device_public_key: String,
    /// The pairing proof, standard base64 (opaque to the server; the owner checks it).
    pub pairing_proof: String,
}

/// The answer to [`RegisterCameraRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterCameraResponse {
    /// The new camera's id.
    pub camera_id: Uuid,
    /// The account that owns it.
    pub owner_id: Uuid,
    /// The camera's own bearer credential (`scc_…`). Shown once.
    pub credential: String,
}

/// A camera as a viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Camera {
    /// The camera id.
    pub camera_id: Uuid,
    /// The owning account.
    pub owner_id: Uuid,
    /// Pending until the owner confirms it.
    pub status: CameraStatus,
    /// The device public key it registered with, standard base64.
    pub device_public_key: String,
    /// The pairing proof it registered with, standard base64.
    pub pairing_proof: String,
    /// When it registered, in Unix seconds.
    pub created_at: i64,
    /// Events older than this many days are deleted; `null` keeps them forever.
    pub retention_days: Option<u32>,
    /// Whether the caller owns the camera or it was shared with the caller.
    pub role: CameraRole,
}

/// `GET /v1/cameras`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CameraList {
    /// Owned and shared cameras, oldest first.
    pub cameras: Vec<Camera>,
}

/// `GET /v1/camera`: a camera asks about itself (camera credential).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CameraSelf {
    /// The camera id.
    pub camera_id: Uuid,
    /// The owning account.
    pub owner_id: Uuid,
    /// Pending until the owner confirms it; only an active camera may upload.
    pub status: CameraStatus,
}

/// A camera's recipient set: opaque signed bytes plus the epoch the server checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipientSet {
    /// Must grow with every `PUT` (the server answers 409 otherwise), unless
    /// `supersede` is set.
    pub epoch: u64,
    /// The signed set, standard base64 (opaque to the server).
    pub set: String,
    /// On `GET`: the owner account's key log (`GET /v1/account/key-log`),
    /// standard base64, read in the same request; absent when the account
    /// has none. Ignored on `PUT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_log: Option<String>,
    /// On `PUT`: store the set even when its epoch does not grow, replacing
    /// a set with a higher epoch (one an attacker stored must not lock the
    /// owner out; the camera, not the server, enforces the signed epoch
    /// order). Never set on `GET`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub supersede: bool,
}

/// `PUT /v1/cameras/{id}/retention`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Retention {
    /// Delete events captured more than this many days ago (at least 1); `null` keeps them.
    pub days: Option<u32>,
}

/// One account a camera is shared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Share {
    /// The account that may see the camera's events.
    pub account_id: Uuid,
    /// When it was shared, in Unix seconds.
    pub created_at: i64,
}

/// `GET /v1/cameras/{id}/shares`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareList {
    /// The accounts the camera is shared with.
    pub shares: Vec<Share>,
}

// ---------------------------------------------------------------------------
// Events and parts.

/// Query of `PUT /v1/events/{event_id}/parts/{kind}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UploadQuery {
    /// Capture time in Unix seconds; the server keeps it only to the minute.
    pub captured_at: i64,
    /// Length of the age header at the start of the body; the rest is the payload.
    pub header_len: u64,
}

/// The answer to an upload or a header replacement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadResponse {
    /// The event the part belongs to.
    pub event_id: Uuid,
    /// The part's kind.
    pub kind: PartKind,
    /// Size of the stored header in bytes.
    pub header_size: u64,
    /// Size of the stored payload in bytes.
    pub payload_size: u64,
    /// `true` when this request stored the part, `false` when it was already stored.
    pub created: bool,
}

/// The sizes of one stored part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartInfo {
    /// The part's kind.
    pub kind: PartKind,
    /// Size of the header in bytes.
    pub header_size: u64,
    /// Size of the payload in bytes.
    pub payload_size: u64,
}

/// An event: what the server knows of it (no content, a coarse time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// The event id, chosen by the camera (UUIDv7).
    pub event_id: Uuid,
    /// The camera that recorded it.
    pub camera_id: Uuid,
    /// The camera's owner.
    pub owner_id: Uuid,
    /// Capture time in Unix seconds, rounded down to the minute.
    pub captured_at: i64,
    /// The stored parts, in the order thumbnail, clip, record.
    pub parts: Vec<PartInfo>,
}

/// Query of `GET /v1/cameras/{id}/events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct EventsQuery {
    /// Only events captured at or after this Unix time.
    pub since: Option<i64>,
    /// Only events captured before this Unix time.
    pub until: Option<i64>,
    /// The `next` cursor of the previous page.
    pub before: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// One page of events, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventPage {
    /// The events of this page, newest first.
    pub events: Vec<Event>,
    /// Pass as `before` to get the next page; absent on the last page.
    pub next: Option<String>,
}

// ---------------------------------------------------------------------------
// Errors.

/// The stable machine-readable code of an error answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: the request is malformed; the message says which part.
    BadRequest,
    /// 401: no credential, an unknown one, or one of the wrong type.
    Unauthorized,
    /// 403: the camera is not confirmed by its owner yet (it may not upload).
    CameraNotActive,
    /// 404: no such resource, or one the caller may not see (indistinguishable on purpose).
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 409: the part exists with different bytes, or the event belongs to another part set.
    Conflict,
    /// 409: a recipient set's epoch did not grow.
    StaleEpoch,
    /// 412: an `If-Match` precondition failed (someone else wrote first).
    PreconditionFailed,
    /// 413: the body is larger than the configured limit.
    PayloadTooLarge,
    /// 416: the requested range lies outside the object.
    RangeNotSatisfiable,
    /// 429: too many failed authentications from this address; see `Retry-After`.
    RateLimited,
    /// 503: too many uploads at once, or shutting down; retry after `Retry-After`.
    Overloaded,
    /// 503: the database or blob store is unavailable.
    Unavailable,
    /// 500: something failed inside the server (details are in its log, never here).
    Internal,
}

/// The body of every error answer: `{"error": {"code": …, "message": …}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable code, safe to match on.
    pub code: ErrorCode,
    /// Human-readable text; may change between versions.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_kind_round_trips() {
        for kind in PartKind::ALL {
            assert_eq!(kind.as_str().parse::<PartKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
        }
        assert!("video".parse::<PartKind>().is_err());
    }

    #[test]
    fn trust_v2_fields_are_optional_on_the_wire() {
        // Old shapes still parse, and new fields are left out when unset.
        let set: RecipientSet = serde_json::from_str(r#"{"epoch":3,"set":"AA=="}"#).unwrap();
        assert_eq!((set.key_log.as_deref(), set.supersede), (None, false));
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            r#"{"epoch":3,"set":"AA=="}"#
        );
        let set = RecipientSet {
            key_log: Some("AQ==".into()),
            supersede: true,
            ..set
        };
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            r#"{"epoch":3,"set":"AA==","key_log":"AQ==","supersede":true}"#
        );
        let req: EnrollRequest =
            serde_json::from_str(r#"{"token":"scl_x","device_name":"laptop"}"#).unwrap();
        assert_eq!(req.viewer_key, None);
        let link: LinkRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(link, LinkRequest::default());
        assert_eq!(serde_json::to_string(&link).unwrap(), "{}");
    }

    #[test]
    fn error_body_shape() {
        let body = ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::StaleEpoch,
                message: "m".into(),
            },
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"stale_epoch","message":"m"}}"#
        );
    }
}
