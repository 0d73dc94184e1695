//! The body of every error answer and its stable codes.

use serde::{Deserialize, Serialize};

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
    /// 408: the request took longer than the server allows (a body that
    /// stalled, or a whole request past its limit); send it again.
    Timeout,
    /// 507: the server's storage is full; retry after `Retry-After`, when an
    /// operator has made room (nothing of the request was stored).
    StorageFull,
    /// 507: the account's storage quota would be exceeded; delete events or
    /// ask the operator for a larger quota.
    QuotaExceeded,
    /// A code this version does not know (a newer server's).
    #[serde(other)]
    Unknown,
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
