//! The owner record, as the app SDK uses it: defined, sealed, opened and
//! checked in [`sealcam_keys::owner_record`] (docs/PROTOCOL.md "The owner
//! record"). This module re-exports it so that `sealcam_client::record::*`
//! keeps working.
//!
//! Every [`RecordError`] becomes [`ClientError::Untrusted`](crate::ClientError::Untrusted)
//! `{ what: "owner record", reason }` (a failure to seal, a
//! [`ClientError::Protocol`](crate::ClientError::Protocol)).

pub use sealcam_keys::owner_record::*;
