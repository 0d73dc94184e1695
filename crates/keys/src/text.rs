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
    // `get`, not indexing: a pasted text may hold a multi-byte character
    // where the prefix ends (found by the `codes` fuzz target).
    let body = match (s.get(..prefix.len()), s.get(prefix.len()..)) {
        (Some(head), Some(body)) if head.eq_ignore_ascii_case(prefix) => body,
        _ => {
            return Err(KeyError::WrongKind {
                expected: prefix.trim_end_matches(['-', ':']).to_owned(),
            })
        }
    };
    let body = Zeroizing::new(body.to_ascii_uppercase());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multibyte_character_at_the_prefix_end_is_refused_not_a_panic() {
        // The fuzzer's input: a root key whose prefix ends inside 'U+0593'.
        let text = "sealcam-root\u{593}27h4mzmpjctgmvtf5uh67nq2x24l3y2a2w2m3{";
        assert!(matches!(
            decode::<32>("sealcam-root-", text),
            Err(KeyError::WrongKind { .. })
        ));
        assert!(decode::<32>("sealcam-root-", "é").is_err());
        assert!(decode::<32>("sealcam-root-", "").is_err());
    }
}
