//! sealcam's device SDK: what camera firmware embeds.
//!
//! A camera pairs with its owner, keeps the owner's recipient set current,
//! and seals every thumbnail, clip and event record to that set before it
//! leaves the camera — so the server only ever stores ciphertext it cannot
//! open (see `docs/PROTOCOL.md` for the flows and `docs/API.md` for the HTTP
//! routes). The same library backs the C ABI (`sealcam-device-ffi`,
//! `device-sdk/include/sealcam_device.h`) and the `sealcam-device` command.
//!
//! | step | call | what it guarantees |
//! | --- | --- | --- |
//! | pair | [`Device::pair`] | the device key is made on first use and never leaves the camera; the pairing proof lets the owner check that the key the server reports is this camera's (S5); state is stored 0600, atomically |
//! | sync | [`Device::sync`] | the owner's key log is followed from the owner key pinned at pairing (rotations signed by the previous key, resets signed by the root key); a set is accepted only when signed by the owner key followed now, for this camera and its device key, not expired, with an epoch that never goes back; otherwise the last good set stays in use and the reason is returned (S4, S6) |
//! | record | [`Device::record`] | each part is sealed and uploaded *as it is sealed*, with constant memory whatever the clip's length; signed by the device key (S3) |
//! | expiry | [`Device::record`] | past its `expires_at` a set seals to the recovery key alone, so a server that withholds a revocation cannot keep a camera sealing to a revoked viewer for more than 30 days |
//! | spool | [`Device::drain`] | while the server is unreachable or overloaded, sealed parts (never plaintext) wait in a bounded spool and go out oldest first with jittered backoff |
//!
//! # Example
//!
//! ```no_run
//! use sealcam_device::{Device, DeviceConfig, EventRecord, NewEvent, SyncOutcome};
//! # fn main() -> Result<(), sealcam_device::DeviceError> {
//! let mut camera = Device::open("/var/lib/camera".as_ref(), DeviceConfig::default())?;
//! if camera.camera_id().is_none() {
//!     camera.pair("SEALCAM1…")?; // the code the owner's app shows
//! }
//! if let SyncOutcome::Refused { reason, kept } = camera.sync()? {
//!     // The server offered a set the owner did not sign: keep the old one.
//!     eprintln!("refused a recipient set ({reason}); still sealing to epoch {kept:?}");
//! }
//! let jpeg = std::fs::read("/tmp/thumb.jpg").unwrap_or_default();
//! let mut clip = std::fs::File::open("/tmp/clip.mp4").map_err(sealcam_device::DeviceError::Source)?;
//! let record = EventRecord::new("motion");
//! let report = camera.record(NewEvent::now().thumbnail(&jpeg).clip(&mut clip).record(&record))?;
//! println!("event {}", report.event);
//! camera.drain(std::time::Duration::from_secs(30))?; // deliver whatever was spooled
//! # Ok(()) }
//! ```
//!
//! # Why `ureq`
//!
//! The SDK is blocking and uses [`ureq`] with its default features off (no
//! gzip, no JSON helpers, no cookies; TLS through rustls on ring with the
//! default `tls` feature). A camera records one event at a time from a firmware thread and
//! a C firmware calls in from its own threads, so an async runtime (tokio
//! under `reqwest`) would only add a scheduler, a second copy of the I/O
//! stack and a megabyte of code to a system-on-chip with 64–128 MB of RAM.
//! `ureq` streams a request body from any [`std::io::Read`] with chunked
//! transfer encoding — which is exactly the shape of a sealed clip of unknown
//! length — and supports `Expect: 100-continue`, so an overloaded server's
//! `503` is received before a single byte of a clip is sent.
//!
//! # Memory
//!
//! Sealing pulls 64 KiB at a time from the source ([`SealingReader`]), and
//! the upload streams those bytes as they are produced: the resident memory
//! of recording a 200 MiB clip and a 2 MiB clip is the same. While it
//! uploads, the SDK also writes the sealed bytes to a spool file; if the
//! upload fails part-way it finishes sealing into that file instead of
//! losing the clip, and the spool re-sends the *same* bytes later (the
//! server stores a part once, however often identical bytes arrive).
#![deny(missing_docs)]

mod api;
mod backoff;
mod device;
mod error;
mod sealing;
mod spool;
mod state;
mod transport;

pub use api::HttpTimeouts;
pub use backoff::BackoffPolicy;
pub use device::{
    Delivery, Device, DeviceConfig, DrainReport, DrainStep, NewEvent, Notice, PartOutcome,
    PartReport, RecordReport, SyncOutcome,
};
pub use error::DeviceError;
pub use sealcam_format::{EventRecord, RecordError, MAX_RECORD_LEN};
pub use sealing::SealingReader;
pub use spool::{Loss, LossReason, Spool, SpoolEntry, SpoolLimits};
pub use transport::TransportPolicy;

pub use sealcam_keys::{
    CameraId, EventId, KeyStatementError, OwnerId, OwnerKeyState, RecipientSetError,
};
pub use sealcam_wire::{CameraStatus, PartKind};

/// How opaque bytes travel in the API's JSON: standard base64, padded when
/// encoding, padding optional when decoding.
pub mod b64 {
    use base64::alphabet::STANDARD;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    use base64::Engine as _;

    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );

    /// Standard base64 with padding (what the server checks).
    pub fn encode(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Standard base64, with or without padding.
    pub fn decode(text: &str) -> Option<Vec<u8>> {
        LENIENT.decode(text.trim()).ok()
    }
}
