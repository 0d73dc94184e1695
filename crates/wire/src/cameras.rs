//! Pairing and cameras: claim tokens, registration, the camera list, a
//! camera's status and role, recipient sets, retention and shares.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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

/// `POST /v1/pairings`: a one-time, expiring claim token for a new camera.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairingResponse {
    /// The claim token (`sck_…`), carried to the camera inside the pairing code.
    pub claim_token: String,
    /// When it stops working, in Unix seconds.
    pub expires_at: i64,
}

/// `POST /v1/cameras/register` (no credential: the claim token is the credential).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The camera's set key statement (`age1… <signature>`, made by the
    /// camera and opaque to the server): the owner seals recipient sets to
    /// it once the signature verifies under the pinned device key. Absent
    /// until the camera published one, and for cameras shared with the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_key: Option<String>,
}

/// `PUT /v1/camera/set-key`: a camera publishes its set key statement
/// (camera credential). Replaces the one stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetKey {
    /// `age1… <signature, standard base64>`, at most 512 bytes.
    pub set_key: String,
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
    /// standard base64, read in the same request, or only its statements
    /// from the place the caller names ([`RecipientSetQuery`]); absent when
    /// the account has none. Ignored on `PUT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_log: Option<String>,
    /// On `PUT`: store the set even when its epoch does not grow, replacing
    /// a set with a higher epoch (one an attacker stored must not lock the
    /// owner out; the camera, not the server, enforces the signed epoch
    /// order). Never set on `GET`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub supersede: bool,
}

/// Query of `GET /v1/cameras/{id}/recipient-set`.
///
/// A camera names the place in the key log of the owner key it follows;
/// the answer's `key_log` then holds only the statements naming that place
/// or a later one (all of them: a cap let a device fill every answer with
/// copies of one statement before its revocation). Without both
/// fields it holds the whole log (what cameras before this release get).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RecipientSetQuery {
    /// The reset count of the owner key the caller holds.
    pub held_reset: Option<u64>,
    /// Its generation.
    pub held_generation: Option<u64>,
}

impl RecipientSetQuery {
    /// The place both fields name, if both are given.
    pub fn held(&self) -> Option<(u64, u64)> {
        Some((self.held_reset?, self.held_generation?))
    }
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

debug_redacted!(PairingResponse {
    shown: [expires_at],
    hidden: [claim_token]
});

debug_redacted!(RegisterCameraRequest {
    shown: [device_public_key, pairing_proof],
    hidden: [claim_token]
});

debug_redacted!(RegisterCameraResponse {
    shown: [camera_id, owner_id],
    hidden: [credential]
});
