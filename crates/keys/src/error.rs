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
    /// The set names another camera's device key (a set meant for another
    /// camera, handed to this one).
    #[error("recipient set names another camera's device key")]
    WrongDevice,
    /// A set of the first format (no device key, no owner-key generation),
    /// refused by a camera paired under owner trust v2.
    #[error("recipient set of the legacy format (v1) refused: this camera takes only v2 sets")]
    Legacy,
    /// The set claims an owner-key generation other than the one the camera holds.
    #[error("recipient set claims owner key generation {claimed:?}, the camera holds {held:?}")]
    OtherKeyGeneration {
        /// `(reset, generation)` in the set.
        claimed: (u64, u64),
        /// `(reset, generation)` the camera holds.
        held: (u64, u64),
    },
    /// The epoch grows by more than [`MAX_EPOCH_JUMP`](crate::MAX_EPOCH_JUMP).
    #[error(
        "recipient set epoch {offered} jumps too far ahead of {accepted} (at most {max} at once)"
    )]
    EpochJump {
        /// The epoch already accepted (0 before the first set).
        accepted: u64,
        /// The epoch offered.
        offered: u64,
        /// The bound.
        max: u64,
    },
    /// The set expired before it was offered.
    #[error("recipient set expired at {expires_at} (unix seconds); the owner must renew it")]
    Expired {
        /// When it expired.
        expires_at: u64,
    },
    /// The set names another recovery key than the one the camera pinned
    /// from the first set it took. What a camera seals to once its set
    /// expires or its owner key is replaced is the set's recovery key, so a
    /// device holding an owner key could otherwise name its own there.
    #[error("recipient set names another recovery key than the account's (pinned from this camera's first set)")]
    OtherRecoveryKey,
}

/// An owner key statement or key log that a device must refuse (owner trust v2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStatementError {
    /// Not a well-formed statement or log.
    #[error("malformed owner key statement: {0}")]
    Malformed(&'static str),
    /// A format version this build does not read.
    #[error("owner key statement version {0} is not supported; update sealcam")]
    UnsupportedVersion(u8),
    /// It names another account.
    #[error("owner key statement is for another owner")]
    WrongOwner,
    /// It names another root key than the one pinned.
    #[error("owner key statement names another root key than the pinned one")]
    OtherRootKey,
    /// A reset, but no root key is pinned to check it with.
    #[error("a reset cannot be checked: no root key is pinned yet")]
    NoRootKey,
    /// The signature does not verify under the key that must have signed it.
    #[error("owner key statement is not signed by the key that must sign it")]
    BadSignature,
    /// It is older than the state held (a replay, or a retired key's statement).
    #[error("owner key statement {statement:?} is older than the held owner key {held:?}")]
    Superseded {
        /// `(reset, generation)` it claims.
        statement: (u64, u64),
        /// `(reset, generation)` held.
        held: (u64, u64),
    },
    /// A different key for the generation held: two rotations from the same key.
    #[error("two owner keys claim reset {reset}, generation {generation} (a fork)")]
    Fork {
        /// The reset both claim.
        reset: u64,
        /// The generation both claim.
        generation: u64,
    },
    /// Not the next step from the held state (a statement in between is missing).
    #[error("owner key statement {statement:?} does not follow the held owner key {held:?}")]
    Gap {
        /// `(reset, generation)` it claims.
        statement: (u64, u64),
        /// `(reset, generation)` held.
        held: (u64, u64),
    },
    /// The log holds no reset signed by the root key.
    #[error("the key log holds no reset signed by the root key")]
    NoReset,
    /// A counter would overflow.
    #[error("owner key generation overflow")]
    Overflow,
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

/// An owner record that a device must refuse, or that could not be sealed.
///
/// Each message is the reason PROTOCOL.md's check table gives; the app SDK
/// shows it as "refusing the owner record the server sent: REASON".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Larger than [`MAX_SEALED_LEN`](crate::owner_record::MAX_SEALED_LEN).
    #[error("too large")]
    TooLarge,
    /// Not an age file.
    #[error("not an age file")]
    NotAgeFile,
    /// No stanza opens with this device's viewer key (or the recovery key).
    #[error("it is not sealed to this device's key (was this device revoked?)")]
    NotSealedToMe,
    /// The age payload does not decrypt (damaged or cut short).
    #[error("it does not decrypt")]
    DoesNotDecrypt,
    /// The plaintext is shorter than its header or lacks the magic.
    #[error("not an owner record")]
    NotAnOwnerRecord,
    /// The signature does not verify under the owner key.
    #[error("its signature does not verify under the owner key")]
    BadSignature,
    /// The signed JSON does not parse as a record (the parser's message).
    #[error("malformed: {0}")]
    Malformed(String),
    /// The record names another account.
    #[error("it names another owner")]
    OtherOwner,
    /// The version is lower than that of the last record this device verified.
    #[error("it was rolled back from version {from} to {to}")]
    RolledBack {
        /// The version this device saw.
        from: u64,
        /// The version offered.
        to: u64,
    },
    /// The same version as the last record this device verified, with other
    /// content: two records signed for one version.
    #[error(
        "it differs from the version {version} this device saw, under the same version (a forked record)"
    )]
    Forked {
        /// The version both claim.
        version: u64,
    },
    /// No owner key was given to check the signature with.
    #[error("no owner key to check it with")]
    NoOwnerKey,
    /// Sealing failed (no recipients, or the age encryptor failed).
    #[error("sealing the owner record failed")]
    Seal,
}
