//! The text form of keys: a fixed prefix and unpadded base32.

use data_encoding::BASE32_NOPAD;
use zeroize::Zeroizing;

use crate::KeyError;

/// `prefix` followed by the base32 of `bytes` (upper case for secrets, lower for public keys).
pub(crate) fn encode(prefix: &str, bytes: &[u8], upper: bool) -> String {
    let body = BASE32_NOPAD.encode(bytes);
    let body = if upper {
        body
    } else {
        body.to_ascii_lowercase()
    };
    format!("{prefix}{body}")
}

/// Decodes `s` written by [`encode`] with the same prefix (case-insensitive) into N bytes.
pub(crate) fn decode<const N: usize>(
    prefix: &str,
    s: &str,
) -> Result<Zeroizing<[u8; N]>, KeyError> {
    let s = s.trim();
    if s.len() < prefix.len() || !s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        return Err(KeyError::WrongKind {
            expected: prefix.trim_end_matches(['-', ':']).to_owned(),
        });
    }
    let body = Zeroizing::new(s[prefix.len()..].to_ascii_uppercase());
    let bytes = Zeroizing::new(
        BASE32_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| KeyError::Encoding)?,
    );
    let mut out = Zeroizing::new([0u8; N]);
    if bytes.len() != N {
        return Err(KeyError::Encoding);
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}
