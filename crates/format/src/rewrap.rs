//! Re-wrapping: giving new viewers access to an existing object by writing a
//! new age header for the same file key (S7 history grant). The payload, and
//! the device signature inside it, stay as they are.

use sealcam_keys::{ViewerIdentity, ViewerRecipient};

use crate::age_header::write_header;
use crate::open::Opening;
use crate::OpenError;

/// Opens `header` with one of `identities` and writes a new header that wraps
/// the same file key to `recipients`, keeping the payload binding.
pub fn rewrap(
    header: &[u8],
    identities: &[&ViewerIdentity],
    recipients: &[ViewerRecipient],
) -> Result<Vec<u8>, OpenError> {
    let opening = Opening::new(header, identities)?;
    let binding = opening.header().payload_binding()?;
    write_header(
        opening.file_key(),
        recipients.iter().map(|r| r.as_age() as &dyn age::Recipient),
        binding.as_ref(),
    )
    .map_err(|_| OpenError::Header("re-wrapping the file key failed"))
}
