//! Errors of the key model. Each says what happened and what to do.

use std::path::PathBuf;

/// Reading, writing or decoding a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not a key of the expected kind.
    #[error("not a {expected} key")]
    WrongKind {
        /// The prefix that was expected.
        expected: String,
    },
    /// The text has the right prefix but its encoding is damaged.
    #[error("the key's encoding is damaged (check for a typo or a truncated copy)")]
    Encoding,
    /// The key file holds no key.
    #[error("{path}: no key found in this file")]
    NoKeyInFile {
        /// The file read.
        path: PathBuf,
    },
    /// A secret key file can be read by group or others.
    #[error(
        "{path}: secret key file is readable by others (mode {mode:o}); run `chmod 600 {path}` and check who could have copied it"
    )]
    InsecurePermissions {
        /// The file read.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The public key is not a valid curve point.
    #[error("the public key is not a valid Ed25519 point")]
    InvalidPoint,
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// A recipient set that a camera or viewer must refuse (S4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecipientSetError {
    /// The bytes are not a well-formed recipient set (truncated, stripped of
    /// its signature, trailing bytes, bad recipient).
    #[error("malformed recipient set: {0}")]
    Malformed(&'static str),
    /// The format version is not one this build reads.
    #[error("recipient set version {0} is not supported; update sealcam")]
    UnsupportedVersion(u8),
    /// The signature does not verify under the owner key pinned at pairing.
    #[error("recipient set is not signed by the pinned owner key")]
    NotSignedByPinnedOwner,
    /// The set names another owner or another camera.
    #[error("recipient set is for another owner or camera")]
    WrongCamera,
    /// The epoch is lower than the last accepted one (a replayed old set).
    #[error(
        "recipient set rolled back: epoch {offered} is older than the accepted epoch {accepted}"
    )]
    RolledBack {
        /// The epoch already accepted.
        accepted: u64,
        /// The epoch offered.
        offered: u64,
    },
    /// A different set with the same epoch as the accepted one.
    #[error("a different recipient set claims the accepted epoch {epoch}")]
    Equivocation {
        /// The epoch both claim.
        epoch: u64,
    },
    /// The set has too many or no recipients, or a recipient twice.
    #[error("invalid recipient list: {0}")]
    InvalidRecipients(&'static str),
}

/// A pairing code or pairing proof that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PairingError {
    /// The text is not a sealcam pairing code.
    #[error("not a sealcam pairing code (it starts with SEALCAM1)")]
    NotAPairingCode,
    /// The checksum does not match: a typo or a partial scan.
    #[error("pairing code checksum mismatch: re-scan or re-type the code")]
    Checksum,
    /// The code decodes but its content is malformed.
    #[error("malformed pairing code: {0}")]
    Malformed(&'static str),
    /// The code is past its expiry.
    #[error("pairing code expired; ask the owner for a new one (`sealcam pair`)")]
    Expired,
    /// The camera's pairing proof does not match the secret in the code (S5).
    #[error(
        "pairing proof mismatch: the device key the server reports is not the key of the camera that received the code"
    )]
    ProofMismatch,
}

/// An owner key bundle that cannot be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// None of the given identities is a recipient of the bundle.
    #[error("the key bundle is not addressed to this key")]
    NotAddressedToMe,
    /// The age layer failed to decrypt or authenticate.
    #[error("the key bundle is corrupt")]
    Corrupt,
    /// The plaintext is not a well-formed bundle.
    #[error("malformed key bundle: {0}")]
    Malformed(&'static str),
    /// The bundle holds a key that is not the owner key this device knows,
    /// or its recovery tag does not verify.
    #[error("the key bundle holds a different owner key than the one pinned on this device")]
    WrongOwnerKey,
    /// Sealing failed.
    #[error("sealing the key bundle failed")]
    Seal,
}
