//! Exit codes, documented in the README and in `sealcam --help`.

use sealcam_client::ClientError;

/// Any other failure.
pub const OTHER: u8 = 1;
/// Misdelivered, or not addressed to this viewer (S2). Nothing was written.
pub const MISDELIVERED: u8 = 3;
/// Failed verification: bad signature, truncated, corrupt (S3). Nothing was written.
pub const VERIFICATION: u8 = 4;
/// No such event, part or camera (or not yours: the server cannot tell you which).
pub const NOT_FOUND: u8 = 5;
/// The server is unreachable or failing.
pub const SERVER: u8 = 6;
/// This device is not set up, or the server refused its credential.
pub const NOT_AUTHORISED: u8 = 7;
/// Refused as untrusted: a pairing proof that does not match, a forged or
/// rolled-back owner record or key bundle.
pub const UNTRUSTED: u8 = 8;

/// The exit code of an error.
pub fn code_of(err: &anyhow::Error) -> u8 {
    let Some(e) = err.chain().find_map(|e| e.downcast_ref::<ClientError>()) else {
        return OTHER;
    };
    match e {
        ClientError::Misdelivered(_) => MISDELIVERED,
        ClientError::Verification(_) => VERIFICATION,
        ClientError::NotFound { .. }
        | ClientError::UnknownCamera(_)
        | ClientError::UnknownViewer(_) => NOT_FOUND,
        ClientError::Network { .. } | ClientError::Server { .. } | ClientError::Protocol(_) => {
            SERVER
        }
        ClientError::NotInitialized { .. } | ClientError::Unauthorized => NOT_AUTHORISED,
        ClientError::PairingProof { .. }
        | ClientError::Untrusted { .. }
        | ClientError::Bundle(_)
        | ClientError::RecipientSet(_) => UNTRUSTED,
        _ => OTHER,
    }
}

/// The error and its causes, each cause once (a message that already
/// includes its cause's text does not repeat it).
pub fn message(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// A stable name for each code (in `--json` errors).
pub fn kind_name(code: u8) -> &'static str {
    match code {
        MISDELIVERED => "misdelivered",
        VERIFICATION => "verification_failed",
        NOT_FOUND => "not_found",
        SERVER => "server",
        NOT_AUTHORISED => "not_authorised",
        UNTRUSTED => "untrusted",
        _ => "other",
    }
}

/// What to do next, for the codes where there is something to say.
pub fn hint(code: u8) -> Option<&'static str> {
    match code {
        MISDELIVERED => Some(
            "hint: the server sent an object that is not the one asked for, or not sealed to this device. \
             Nothing was shown or written. If it persists, tell the server operator: their server is mixing up blobs.",
        ),
        VERIFICATION => Some(
            "hint: the object was altered, truncated or not made by the paired camera. \
             Nothing was shown or written. Try again; if it persists, the copy on the server is damaged.",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s2_and_s3_have_their_own_codes() {
        use sealcam_format::OpenError;
        let e = anyhow::Error::new(ClientError::Misdelivered(OpenError::NotAddressedToViewer));
        assert_eq!(code_of(&e), MISDELIVERED);
        let e = anyhow::Error::new(ClientError::Verification(OpenError::BadSignature))
            .context("fetching");
        assert_eq!(code_of(&e), VERIFICATION);
        assert_eq!(code_of(&anyhow::anyhow!("x")), OTHER);
    }
}
