//! What can go wrong when sealing or opening an object.

use std::fmt;

use crate::Binding;

/// Why an object was refused. The variants are distinct on purpose: an app
/// must be able to tell "this is not mine" (S2) from "this was tampered with"
/// (S3) and from a plain I/O failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// None of this viewer's identities is a recipient of the object: it was
    /// sealed for someone else (S2, misdelivery).
    #[error("this object is not addressed to this viewer (misdelivered)")]
    NotAddressedToViewer,
    /// The object opened but is not the one that was asked for (S2).
    #[error("misdelivered object: {0}")]
    Misdelivered(Box<Misdelivery>),
    /// The device signature does not verify under the pinned device key, or a
    /// chunk does not match the signed hash list (S3).
    #[error("bad signature: the object was not made by the pinned camera or was altered")]
    BadSignature,
    /// The object ends early.
    #[error("truncated object: {0}")]
    Truncated(&'static str),
    /// The object fails authentication or is malformed.
    #[error("corrupt object: {0}")]
    Corrupt(&'static str),
    /// The age header is malformed (the C2SP "header failure").
    #[error("malformed age header: {0}")]
    Header(&'static str),
    /// The age header MAC does not verify.
    #[error("the age header MAC does not verify")]
    HeaderMac,
    /// The inner format version is not one this build reads.
    #[error("object format version {0} is not supported; update sealcam")]
    UnsupportedVersion(u8),
    /// Reading the object failed.
    #[error("reading the object failed: {0}")]
    Io(#[from] std::io::Error),
}

impl OpenError {
    /// `true` for the S2 family: not addressed to this viewer, or not the
    /// object that was asked for. Apps show "this is not yours", not "corrupt".
    pub fn is_misdelivery(&self) -> bool {
        matches!(self, Self::NotAddressedToViewer | Self::Misdelivered(_))
    }

    /// `true` for the S3 family: a bad signature, truncation or corruption.
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            Self::BadSignature
                | Self::Truncated(_)
                | Self::Corrupt(_)
                | Self::Header(_)
                | Self::HeaderMac
                | Self::UnsupportedVersion(_)
        )
    }
}

/// How a delivered object differs from the requested one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misdelivery {
    /// The inner header binds the object to something else.
    Binding {
        /// What the viewer asked for.
        expected: Binding,
        /// What the object says it is (not yet verified).
        found: Binding,
    },
    /// The age header belongs to another object than the one asked for
    /// (version 2: its binding tag names another object; version 1: it names
    /// another payload).
    HeaderOfAnotherObject,
    /// The header is the asked-for object's, the payload another object's
    /// (version 2).
    PayloadOfAnotherObject,
    /// The server says the object is of a camera that the viewer's account
    /// neither owns nor was shared: another household's (nothing of it is
    /// read).
    CameraOfAnotherAccount,
}

impl fmt::Display for Misdelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Binding { expected, found } => {
                write!(f, "asked for {expected}, received {found}")
            }
            Self::HeaderOfAnotherObject => f.write_str("the header belongs to another object"),
            Self::PayloadOfAnotherObject => f.write_str("the payload belongs to another object"),
            Self::CameraOfAnotherAccount => f.write_str(
                "the server names a camera of another account (neither owned nor shared)",
            ),
        }
    }
}

/// Why sealing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The content type is longer than 255 bytes or not printable ASCII.
    #[error("invalid content type (printable ASCII, at most 255 bytes)")]
    ContentType,
    /// The binding names another owner or camera than the recipient set.
    #[error("the object's owner or camera differs from the recipient set's")]
    WrongCamera,
    /// Wrapping the file key to a recipient failed.
    #[error("wrapping the file key to a recipient failed")]
    Wrap,
    /// Reading the input or writing the output failed.
    #[error("I/O error while sealing: {0}")]
    Io(#[from] std::io::Error),
}
