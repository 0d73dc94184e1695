//! The app SDK of sealcam: everything a household owner's app does, with no
//! printing and no UI.
//!
//! - [`Api`]: a typed async client of the server's HTTP API (`docs/API.md`).
//! - [`Home`]: the local key store (`SEALCAM_HOME`, else the XDG data
//!   directory), every file 0600, secrets zeroized and never in `Debug`.
//! - Every flow of `docs/PROTOCOL.md` as a function: [`init`], [`recover`],
//!   [`link_request`] / [`link_finish`], and on a working device ([`Client`])
//!   pairing, confirming cameras (S5), listing, fetching with every check
//!   (S2, S3), approving and revoking viewers (S6), sharing, history grants.
//! - Opening with verified seek over HTTP range requests
//!   ([`Client::open_part`] → [`RemoteObject::read_range`]), built on the
//!   sans-I/O `sealcam_format::Opening` / `Opened`.
//! - Progress through callbacks ([`Progress`]).
//!
//! Errors tell misdelivery (S2, [`ClientError::Misdelivered`]) from
//! verification failures (S3, [`ClientError::Verification`]) from everything
//! else; apps show "this is not yours" for the first, "this was tampered
//! with" for the second, and never the content.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sealcam_client::ClientError> {
//! use sealcam_client::{Client, Home, no_progress};
//! use sealcam_wire::PartKind;
//!
//! let client = Client::open(Home::locate()?)?;
//! for event in client.events(&Default::default()).await? {
//!     let obj = client.open_part(event.event_id, PartKind::Thumbnail).await?;
//!     let jpeg = obj.read_range(0..obj.body_len()).await?; // verified bytes
//!     println!("{} {} bytes of {}", event.event_id, jpeg.len(), obj.meta().content_type);
//! }
//! # let _ = no_progress;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
mod cameras;
mod client;
pub mod codes;
mod error;
mod events;
mod export;
mod fetch;
mod history;
mod home;
mod key_witness;
pub mod record;
mod revocation;
mod setup;
mod share;
pub mod time;
mod timeline;
pub mod tls;
mod trust;
mod viewers;
mod watch;

pub use api::{Api, Credential};
pub use cameras::{parse_device_key, parse_proof, CameraView, Confirmation, PairingStart, Uptake};
pub use client::{Client, RecordHandle};
pub use error::{ClientError, Result};
pub use events::{EventFilter, EventView};
pub use export::{
    ExportOutcome, ExportProgress, ExportRequest, Manifest, ManifestFile, RefusedPart, MANIFEST,
    MANIFEST_VERSION,
};
pub use fetch::{
    no_progress, FetchOutcome, OpenedPart, Progress, ProgressFn, RemoteObject, SmallPart,
    MAX_SMALL_PAYLOAD,
};
pub use history::HistoryGrant;
pub use home::{Device, DeviceInfo, Home, PendingPairing, HOME_ENV};
pub use revocation::{Finished, Revocation};
pub use setup::{
    init, link_finish, link_request, parse_approval, recover, recovery_credential, InitOutcome,
    RecoverOutcome, Unshared,
};
pub use share::{Shared, UnshareOutcome};
pub use timeline::{RecordState, TimelineEntry, RECORD_CONCURRENCY};
pub use tls::Transport;
pub use trust::{PrunedDevice, TrustReport};
pub use viewers::{Approval, DeviceView, ViewerView};
pub use watch::{Watcher, CATCH_UP_SECS, RECORD_GRACE};
