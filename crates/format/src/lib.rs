//! The sealed object format of sealcam.
//!
//! A camera seals every thumbnail, clip and event record so that only the
//! owner's current viewers can open it, and so that a viewer can prove that
//! what it opened is exactly the object it asked for, made by its own camera.
//! The byte-level specification is `docs/FORMAT.md`; in short:
//!
//! ```text
//! object  = header ‖ payload                      (a standard age v1 file)
//! header  = age header: one X25519 stanza per recipient,
//!           a `sealcam-payload` stanza binding it to the payload nonce, MAC
//! payload = nonce ‖ STREAM( inner header ‖ body ‖ trailer )
//! trailer = BLAKE3 of each 64 KiB piece ‖ body length ‖ Ed25519 device signature
//! ```
//!
//! Any age implementation decrypts an object with a viewer's identity file
//! (`cat header payload | age -d -i viewer.txt`). sealcam's own opener also
//! checks, before releasing a byte of the body:
//!
//! - the object is addressed to this viewer ([`OpenError::NotAddressedToViewer`]),
//! - its inner header names what was asked for ([`OpenError::Misdelivered`]),
//! - its signature verifies under the pinned camera key and every chunk
//!   matches the signed hash list ([`OpenError::BadSignature`]).
//!
//! Three ways to open: [`open`] (random access; every byte verified before it
//! is released; seeks), [`StreamOpener`] (sequential; the end verifies) and
//! [`open_to_vec`] (verifies everything before returning anything). Sealing
//! ([`Sealer`]) streams with constant memory from a `Read` or, with the
//! `tokio` feature, an `AsyncRead`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod age_header;
mod error;
mod inner;
pub mod open;
pub mod padding;
pub mod record;
mod rewrap;
mod seal;
pub mod stream;
pub mod trailer;
mod x25519_stanza;

pub use age_core::format::FileKey;
pub use age_header::SlotRecipient;
pub use error::{Misdelivery, OpenError, SealError};
pub use inner::{
    Binding, FollowedKey, ObjectMeta, PartKind, MAX_INNER_HEADER_LEN, VERSION, VERSION_1, VERSION_2,
};
pub use open::{
    open, open_to_vec, OpenedObject, Opening, RangeSource, Seekable, StreamOpener, VerifiedReader,
};
pub use record::{EventRecord, RecordError, MAX_RECORD_LEN};
pub use rewrap::rewrap_adding;
#[cfg(feature = "tokio")]
pub use seal::seal_async;
pub use seal::{seal, PayloadSealer, PayloadWriter, Sealer};
