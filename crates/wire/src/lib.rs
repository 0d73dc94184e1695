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

#[macro_use]
mod redact;
mod accounts;
mod cameras;
mod error;
mod events;

#[cfg(test)]
mod tests;
pub mod token_prefix;

pub use accounts::{
    AccountInfo, Device, DeviceList, EnrollRequest, EnrollResponse, LinkRequest, LinkResponse,
    RecoveryCredentialRequest,
};
pub use cameras::{
    Camera, CameraList, CameraRole, CameraSelf, CameraStatus, PairingResponse, RecipientSet,
    RecipientSetQuery, RegisterCameraRequest, RegisterCameraResponse, Retention, SetKey, Share,
    ShareList,
};
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use events::{
    Event, EventPage, EventsQuery, PartInfo, PartKind, PartStored, UnknownPartKind, UploadQuery,
    UploadResponse, MAX_HEADER_LEN,
};

/// The API version prefix of every route.
pub const API_PREFIX: &str = "/v1";
