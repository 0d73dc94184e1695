//! Accounts and viewer devices: enrollment, device links, the device list,
//! the account and its recovery credential.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /v1/enroll`: turn an enrollment or link token into a device credential.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCredentialRequest {
    /// The derived credential (`scv_…`).
    pub credential: String,
}

debug_redacted!(EnrollRequest {
    shown: [device_name, viewer_key],
    hidden: [token]
});

debug_redacted!(EnrollResponse {
    shown: [account_id, device_id],
    hidden: [credential]
});

debug_redacted!(LinkResponse {
    shown: [expires_at],
    hidden: [link_token]
});

debug_redacted!(RecoveryCredentialRequest {
    shown: [],
    hidden: [credential]
});
