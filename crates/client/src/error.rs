//! What can go wrong in the app SDK. Each error says what happened and, where
//! there is one, what to do next.

use std::path::PathBuf;

use sealcam_format::OpenError;
use sealcam_keys::{BundleError, KeyError, PairingError, RecipientSetError, RecordError};
use sealcam_wire::ErrorCode;

/// A failure of an app SDK call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The object is not addressed to this viewer, or is not the object that
    /// was asked for (S2). Nothing of it was released.
    #[error("{0} — nothing was shown or written; the server delivered someone else's object")]
    Misdelivered(#[source] OpenError),
    /// The object failed verification: bad signature, truncated, corrupt (S3).
    /// Nothing of it was released.
    #[error("{0} — nothing was shown or written; the object was altered or damaged")]
    Verification(#[source] OpenError),
    /// The server answered "not found" (or "not yours": the two are the same on purpose).
    #[error(
        "not found: {what} (check the id with `sealcam events list` / `sealcam cameras list`)"
    )]
    NotFound {
        /// What was asked for.
        what: String,
    },
    /// The server refused the credential.
    #[error(
        "the server refused this device's credential: this device was revoked — or, if nobody in this household revoked it, someone holding another of your devices took over the account; then run `sealcam recover --revoke-others` with the recovery key (otherwise link this device again)"
    )]
    Unauthorized,
    /// The server answered with another error.
    #[error("the server answered {status} {code:?}: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The stable error code, when the body had one.
        code: Option<ErrorCode>,
        /// The server's message.
        message: String,
    },
    /// The server could not be reached or the connection broke.
    #[error("cannot reach the server at {url}: {source} (is `sealcam-server serve` running?)")]
    Network {
        /// The server URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// Another device changed an account record at the same time.
    #[error("another device changed the account at the same time; run the command again")]
    Conflict,
    /// This home directory holds no sealcam state.
    #[error("no sealcam keys in {home}; run `sealcam init --server URL --token TOKEN` (or `sealcam recover`, or `sealcam viewers link`)")]
    NotInitialized {
        /// The home directory.
        home: PathBuf,
    },
    /// This home directory is already set up.
    #[error("{home} already holds sealcam keys; set SEALCAM_HOME to another directory to keep a second identity")]
    AlreadyInitialized {
        /// The home directory.
        home: PathBuf,
    },
    /// The account already has an owner key (another device ran `init`).
    #[error("this account already has an owner key; add this device with `sealcam viewers link` instead")]
    AccountAlreadySetUp,
    /// A camera's pairing proof matched none of the pairing codes this device made (S5).
    #[error("camera {camera}: {source} — it was not confirmed; if you did not pair a camera just now, delete it")]
    PairingProof {
        /// The camera the server reported.
        camera: String,
        /// Why it was refused.
        #[source]
        source: PairingError,
    },
    /// A signed account document failed its check (forged by the server, or rolled back).
    #[error("refusing the {what} the server sent: {reason}")]
    Untrusted {
        /// Which document.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A camera's recipient set could not be built or checked.
    #[error("recipient set: {0}")]
    RecipientSet(#[from] RecipientSetError),
    /// The owner key bundle could not be opened or sealed.
    #[error("owner key bundle: {0}")]
    Bundle(#[from] BundleError),
    /// A key or key file could not be read or written.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A code typed or pasted by the user is not valid.
    #[error("{0}")]
    BadInput(String),
    /// The camera is not one this device pinned.
    #[error("camera {0} is not paired with this account on this device (run `sealcam cameras list`; a shared camera needs `sealcam cameras accept CODE`)")]
    UnknownCamera(String),
    /// A viewer is not in the owner record.
    #[error("no viewer {0} (see `sealcam viewers list`)")]
    UnknownViewer(String),
    /// Local I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The server sent something that does not parse.
    #[error("the server sent a malformed answer: {0}")]
    Protocol(String),
}

impl ClientError {
    /// `true` for misdelivery (S2): exit code 3 in the CLI.
    pub fn is_misdelivery(&self) -> bool {
        matches!(self, Self::Misdelivered(_))
    }

    /// `true` for a verification failure (S3): exit code 4 in the CLI.
    pub fn is_verification_failure(&self) -> bool {
        matches!(self, Self::Verification(_))
    }

    /// Sorts an [`OpenError`] into misdelivery, verification failure or I/O.
    pub fn from_open(e: OpenError) -> Self {
        if e.is_misdelivery() {
            Self::Misdelivered(e)
        } else if e.is_verification_failure() {
            Self::Verification(e)
        } else {
            match e {
                OpenError::Io(source) => Self::Io {
                    path: PathBuf::from("<object>"),
                    source,
                },
                other => Self::Verification(other),
            }
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

impl From<RecordError> for ClientError {
    /// An owner record refused: "refusing the owner record the server sent:
    /// REASON" (exit 8 in the CLI); a record that could not be sealed is a
    /// protocol error.
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::Seal => Self::Protocol(e.to_string()),
            e => Self::Untrusted {
                what: "owner record",
                reason: e.to_string(),
            },
        }
    }
}

/// Result of an app SDK call.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
