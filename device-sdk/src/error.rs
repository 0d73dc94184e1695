//! What can go wrong on a camera. Each error says what happened and what to do.

use std::path::PathBuf;

use sealcam_keys::{
    CameraId, KeyError, KeyStatementError, OwnerId, PairingError, RecipientSetError,
};
use sealcam_wire::ErrorCode;

/// An error of the device SDK.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The state directory holds no pairing yet.
    #[error("this camera is not paired yet: pair it with a pairing code first")]
    NotPaired,
    /// The state directory holds a pairing already.
    #[error(
        "this camera is paired already (camera {camera}); use another state directory to pair again"
    )]
    AlreadyPaired {
        /// The camera it is paired as.
        camera: CameraId,
    },
    /// The pairing code cannot be used (typo, expired, not a code).
    #[error("pairing code: {0}")]
    PairingCode(#[from] PairingError),
    /// The server registered the camera under another owner than the code names.
    #[error(
        "the server registered this camera to owner {got}, but the pairing code names owner {expected}; \
         the server cannot be trusted with this pairing"
    )]
    OwnerMismatch {
        /// The owner in the pairing code.
        expected: OwnerId,
        /// The owner the server answered.
        got: OwnerId,
    },
    /// No recipient set has been accepted yet, so nothing can be sealed.
    #[error(
        "no recipient set yet: the owner has not confirmed this camera or published its set; sync again later"
    )]
    NoRecipientSet,
    /// A recipient set (stored or offered) was refused (S4).
    #[error("recipient set refused: {0}")]
    RecipientSet(#[from] RecipientSetError),
    /// An owner key statement or key log could not be made (the owner
    /// simulator; a camera reports refused statements as notices instead).
    #[error("owner key statement: {0}")]
    KeyStatement(#[from] KeyStatementError),
    /// A key or state file could not be read or written.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A state file is damaged.
    #[error("{path}: {reason}; restore it from a backup or pair the camera again")]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The server answered with an error.
    #[error("the server answered {status}{}: {message}", code.map(|c| format!(" ({c:?})")).unwrap_or_default())]
    Server {
        /// The HTTP status.
        status: u16,
        /// The stable error code, when the body carried one.
        code: Option<ErrorCode>,
        /// The server's message.
        message: String,
    },
    /// The server could not be reached (or the connection broke).
    #[error("the server could not be reached: {0}")]
    Network(String),
    /// The server URL or TLS settings break the transport policy (plain
    /// `http://` off loopback, a pinned CA that is not PEM).
    #[error("{0}")]
    Insecure(String),
    /// The server's answer is not what the API promises.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// The media source (a clip reader) failed.
    #[error("reading the media failed: {0}")]
    Source(std::io::Error),
    /// The event record is not a JSON object with a `type`, or too large.
    #[error(transparent)]
    Record(#[from] sealcam_format::RecordError),
    /// Sealing failed.
    #[error(transparent)]
    Seal(#[from] sealcam_format::SealError),
    /// A file of the state directory or spool could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl DeviceError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
