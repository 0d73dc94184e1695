//! The key model of sealcam.
//!
//! sealcam cameras encrypt every object to their owner's *viewer keys* before
//! upload, so the server only ever holds ciphertext. This crate holds the keys
//! and the small signed documents that decide who those viewers are:
//!
//! | type | what it is |
//! | --- | --- |
//! | [`OwnerSigningKey`] | Ed25519, the root of trust of an account; signs recipient sets |
//! | [`ViewerIdentity`] | an age X25519 identity, one per phone, laptop or household member |
//! | [`RecoveryKey`] | an age X25519 identity shown once at `init`, always a recipient |
//! | [`DeviceKey`] | Ed25519, made on the camera at first boot; signs every object |
//! | [`SignedRecipientSet`] | `{owner, camera, epoch, recipients, issued_at}` signed by the owner key |
//! | [`PairingCode`] | what a camera is given to pair: server, claim token, owner key, a secret |
//! | [`OwnerKeyBundle`] | the owner signing key sealed to every viewer and the recovery key |
//! | [`RootSigningKey`] | Ed25519, derived from the recovery key; signs owner key resets only |
//! | [`KeyStatement`], [`KeyLog`] | owner key rotations and resets, in order (owner trust v2) |
//! | [`OwnerKeyState`] | the owner key a camera or device follows through the key log |
//! | [`SetKeyStatement`] | a camera's X25519 set key, signed by its device key; sets are sealed to it ([`seal_set`]) |
//! | [`SlotHintKey`] | shared by a camera's set key and one viewer: where the viewer's stanza sits in a header |
//! | [`OwnerRecord`] | the owner's viewers, members and pinned cameras, signed by the owner key and sealed to the viewers ([`owner_record`]) |
//!
//! Secrets zeroize when dropped and never print in `Debug`. Key files are
//! written with mode 0600 and refused when group- or world-readable
//! ([`secret_file`]).
//!
//! # Example: an owner signs a recipient set, a camera accepts it
//!
//! ```
//! use sealcam_keys::{
//!     CameraId, OwnerId, OwnerSigningKey, RecipientSet, RecipientSetPin, ViewerIdentity,
//! };
//!
//! let owner_key = OwnerSigningKey::generate();
//! let phone = ViewerIdentity::generate();
//! let (owner, camera) = (OwnerId::random(), CameraId::random());
//!
//! let set = RecipientSet::new(owner, camera, 1, vec![phone.to_public()])?;
//! let signed = set.sign(&owner_key);
//!
//! // On the camera: the owner key was pinned at pairing.
//! let pin = RecipientSetPin { owner, camera, owner_key: owner_key.public() };
//! let verified = sealcam_keys::SignedRecipientSet::from_bytes(signed.as_bytes())?.verify(&pin)?;
//! assert_eq!(verified.epoch(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bundle;
pub mod codec;
mod device;
mod error;
mod ids;
mod key_log;
mod owner;
pub mod owner_record;
mod pairing;
mod recipient_set;
mod root;
pub mod sealed;
pub mod secret_file;
mod set_key;
mod signing;
mod slot_hint;
mod text;
mod viewer;

pub use bundle::OwnerKeyBundle;
pub use device::{DeviceKey, DevicePublicKey, DeviceSignature};
pub use error::{
    BundleError, KeyError, KeyStatementError, PairingError, RecipientSetError, RecordError,
};
pub use ids::{CameraId, EventId, OwnerId};
pub use key_log::{
    Applied, KeyLog, KeyStatement, LogReport, OwnerKeyState, StatementKind, MAX_LOG_ENTRIES,
    STATEMENT_LEN,
};
pub use owner::{OwnerPublicKey, OwnerSigningKey};
pub use owner_record::OwnerRecord;
pub use pairing::{PairingCode, PairingProof, PairingSecret};
pub use recipient_set::{
    Acceptance, CameraPin, RecipientSet, RecipientSetPin, SetBinding, SignedRecipientSet,
    VerifiedRecipientSet, MAX_EPOCH_JUMP, MAX_RECIPIENTS, SET_LIFETIME_SECS,
};
pub use root::{RootPublicKey, RootSigningKey};
pub use set_key::{is_sealed_set, open_set_document, seal_set, SetKeyStatement};
pub use slot_hint::SlotHintKey;
pub use viewer::{RecoveryKey, ViewerIdentity, ViewerRecipient};

/// Seconds since the Unix epoch, as used in every sealcam document.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
