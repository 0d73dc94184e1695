//! Opaque bearer credentials: generation and hashing.
//!
//! A token is a type prefix (see [`sealcam_wire::token_prefix`]) followed by
//! 256 random bits in unpadded base64url. The server stores only the SHA-256
//! of the whole token, looks rows up by that hash and compares the stored hash
//! with the computed one in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// The SHA-256 of a token: what the database keeps.
pub type TokenHash = [u8; 32];

/// A freshly generated token and its hash.
pub struct NewToken {
    /// The token text handed to the client once.
    pub token: String,
    /// Its hash, stored by the server.
    pub hash: TokenHash,
}

/// Generates a new token with the given type prefix.
pub fn generate(prefix: &str) -> NewToken {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(secret));
    let hash = hash(&token);
    NewToken { token, hash }
}

/// Hashes a token as presented by a client.
pub fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Compares two hashes in constant time.
pub fn hashes_equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Whether a presented token has the expected prefix and a plausible length.
///
/// This only filters garbage early; the database decides.
pub fn well_formed(token: &str, prefix: &str) -> bool {
    token.len() == prefix.len() + 43
        && token.starts_with(prefix)
        && token[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hash_consistently() {
        let a = generate("scv_");
        let b = generate("scv_");
        assert_ne!(a.token, b.token);
        assert!(well_formed(&a.token, "scv_"));
        assert!(!well_formed(&a.token, "scc_"));
        assert!(hashes_equal(&hash(&a.token), &a.hash));
        assert!(!hashes_equal(&a.hash, &b.hash));
    }
}
