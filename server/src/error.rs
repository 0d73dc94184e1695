//! The server's errors: [`AppError`], the one error type of the HTTP layer
//! and its JSON answer, and [`ServerError`], a failure to start or run.
//!
//! Every error answer has the shape `{"error": {"code": …, "message": …}}`
//! with a stable [`ErrorCode`]. Internal details (database and storage
//! errors) are logged with `tracing` and never returned to the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sealcam_wire::{ErrorBody, ErrorCode, ErrorDetail};

use crate::blobs::BlobError;
use crate::parts::PartsError;
use crate::store::StoreError;

/// A failure to start or run the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The blob store could not be opened.
    #[error("blob store: {0}")]
    Blobs(#[from] BlobError),
    /// Binding a listener or serving failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A server task panicked.
    #[error("server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The configuration holds an invalid value.
    #[error("{0}")]
    Config(String),
}

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// 400 with a message that says what is wrong with the request.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: missing, unknown or wrong-type credential.
    #[error("unauthorized")]
    Unauthorized,
    /// 403: the camera is pending its owner's confirmation.
    #[error("camera not active")]
    CameraNotActive,
    /// 404: absent, or not visible to the caller (the same answer on purpose).
    #[error("not found")]
    NotFound,
    /// 405: the path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: conflicting content (a part exists with other bytes).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 409: the recipient set's epoch did not grow.
    #[error("epoch does not grow")]
    StaleEpoch,
    /// 412: `If-Match` did not match.
    #[error("precondition failed")]
    PreconditionFailed,
    /// 413: body over the configured limit.
    #[error("payload too large (limit {0} bytes)")]
    PayloadTooLarge(u64),
    /// 416: the range lies outside an object of this size.
    #[error("range not satisfiable")]
    RangeNotSatisfiable(u64),
    /// 429: too many failed authentications from this address.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until the client may try again.
        retry_after: u64,
    },
    /// 503: too many uploads in flight.
    #[error("overloaded")]
    Overloaded {
        /// Seconds until the client should try again.
        retry_after: u64,
    },
    /// 503: a dependency (database, blob store) is unavailable.
    #[error("unavailable")]
    Unavailable,
    /// 408: the request outlived `request_timeout_secs`, or its body stalled.
    #[error("request timeout")]
    Timeout,
    /// 507: the blob store has no room; nothing was stored.
    #[error("storage full")]
    StorageFull {
        /// Seconds until the client should try again.
        retry_after: u64,
    },

    /// 507: the account's quota would be exceeded.
    #[error("quota exceeded")]
    QuotaExceeded {
        /// The account's quota in bytes.
        quota: u64,
    },
    /// 500: a failure inside the server; the detail is logged, not returned.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The HTTP status and stable code of this error.
    pub fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            AppError::CameraNotActive => (StatusCode::FORBIDDEN, ErrorCode::CameraNotActive),
            AppError::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            AppError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed)
            }
            AppError::Conflict(_) => (StatusCode::CONFLICT, ErrorCode::Conflict),
            AppError::StaleEpoch => (StatusCode::CONFLICT, ErrorCode::StaleEpoch),
            AppError::PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                ErrorCode::PreconditionFailed,
            ),
            AppError::PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
            }
            AppError::RangeNotSatisfiable(_) => (
                StatusCode::RANGE_NOT_SATISFIABLE,
                ErrorCode::RangeNotSatisfiable,
            ),
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            AppError::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Overloaded),
            AppError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable),
            AppError::Timeout => (StatusCode::REQUEST_TIMEOUT, ErrorCode::Timeout),
            AppError::StorageFull { .. } => {
                (StatusCode::INSUFFICIENT_STORAGE, ErrorCode::StorageFull)
            }
            AppError::QuotaExceeded { .. } => {
                (StatusCode::INSUFFICIENT_STORAGE, ErrorCode::QuotaExceeded)
            }
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        }
    }

    fn public_message(&self) -> String {
        match self {
            AppError::BadRequest(m) => m.clone(),
            AppError::Unauthorized => "missing or invalid credential".into(),
            AppError::CameraNotActive => {
                "this camera is waiting for its owner to confirm the pairing".into()
            }
            AppError::NotFound => "not found".into(),
            AppError::MethodNotAllowed => "method not allowed on this path".into(),
            AppError::Conflict(m) => (*m).into(),
            AppError::StaleEpoch => {
                "the recipient set epoch must be greater than the stored one".into()
            }
            AppError::PreconditionFailed => {
                "the record changed since it was read (If-Match failed); read it again".into()
            }
            AppError::PayloadTooLarge(limit) => {
                format!("body larger than the limit of {limit} bytes")
            }
            AppError::RangeNotSatisfiable(_) => "requested range not satisfiable".into(),
            AppError::RateLimited { .. } => {
                "too many failed authentications from this address; retry later".into()
            }
            AppError::Overloaded { .. } => "server busy; retry after the given delay".into(),
            AppError::Unavailable => "a storage backend is unavailable".into(),
            AppError::Timeout => "the request took too long (a stalled body, or past the server's request timeout); send it again".into(),
            AppError::StorageFull { .. } => {
                "the server's storage is full; nothing was stored; retry after the given delay".into()
            }
            AppError::QuotaExceeded { quota } => format!(
                "this account's storage quota of {quota} bytes would be exceeded; delete events, or ask the operator for a larger quota"
            ),

            AppError::Internal(_) => "internal server error".into(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if let StoreError::BlobSwept(key) = &e {
            // The orphan sweep claimed this upload's blob first (an upload that
            // outlived the sweep's grace): nothing was recorded; the client
            // uploads again.
            tracing::warn!(key, "an upload's blob was swept before it was recorded");
            return AppError::Overloaded { retry_after: 1 };
        }
        if let StoreError::Busy(source) = &e {
            // Every database connection of this replica is in use (a storm),
            // or the database refused for now (lock, serialisation): nothing
            // was written; shed load with a retryable answer.
            tracing::debug!(error = %source, "database busy");
            return AppError::Overloaded { retry_after: 1 };
        }
        if let StoreError::Unavailable(source) = &e {
            tracing::warn!(error = %source, "database unavailable");
            return AppError::Unavailable;
        }
        if let StoreError::Full(source) = &e {
            // Small parts are written into the database: its disk filling
            // up is the blob store's 507, and the camera keeps the part.
            tracing::warn!(error = %source, "database disk full: refusing with 507");
            return AppError::StorageFull { retry_after: 60 };
        }
        AppError::Internal(format!("database: {e}"))
    }
}

impl From<BlobError> for AppError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::TooLarge(limit) => AppError::PayloadTooLarge(limit),
            BlobError::Body(m) => AppError::BadRequest(format!("could not read the body: {m}")),
            // The store failed after its retries (500s, resets, timeouts):
            // nothing was recorded, and the client may try again.
            BlobError::Store(
                e @ (object_store::Error::NotFound { .. }
                | object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. }),
            ) => AppError::Internal(format!("blob store: {e}")),
            BlobError::Store(e) => {
                tracing::warn!(error = %e, "blob store unavailable");
                AppError::Unavailable
            }
            other => AppError::Internal(format!("blob store: {other}")),
        }
    }
}

impl From<PartsError> for AppError {
    fn from(e: PartsError) -> Self {
        match e {
            PartsError::CameraNotActive => AppError::CameraNotActive,
            PartsError::Unauthorized => AppError::Unauthorized,
            PartsError::NotFound => AppError::NotFound,
            PartsError::Invalid(m) => AppError::BadRequest(m.into()),
            PartsError::TooLarge(limit) => AppError::PayloadTooLarge(limit),
            PartsError::Body(m) => AppError::BadRequest(format!("could not read the body: {m}")),
            PartsError::Conflict => {
                AppError::Conflict("this part is stored already with different bytes")
            }
            PartsError::Busy { retry_after } => AppError::Overloaded { retry_after },
            PartsError::StorageFull => AppError::StorageFull { retry_after: 60 },
            PartsError::QuotaExceeded(quota) => AppError::QuotaExceeded { quota },
            PartsError::RangeNotSatisfiable(size) => AppError::RangeNotSatisfiable(size),
            PartsError::Store(e) => e.into(),
            PartsError::Blobs(e) => e.into(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.public_message(),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        response.extensions_mut().insert(code);
        let headers = response.headers_mut();
        match &self {
            AppError::RateLimited { retry_after }
            | AppError::Overloaded { retry_after }
            | AppError::StorageFull { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            AppError::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(5u64));
            }
            AppError::RangeNotSatisfiable(size) => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    headers.insert(header::CONTENT_RANGE, v);
                }
            }
            AppError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

/// Result of a handler.
pub type AppResult<T> = Result<T, AppError>;
