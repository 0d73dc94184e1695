//! The signed trailer: per-chunk hashes, the body length and the device
//! signature.
//!
//! The *signed region* is the payload plaintext before the trailer: the inner
//! header and the body, `X = H + B` bytes. It is cut into pieces aligned with
//! the STREAM chunks (`[i·65536, min((i+1)·65536, X))`), `n = ⌈X/65536⌉`.
//!
//! ```text
//! hashes     32·n  BLAKE3 of each piece
//! body_len   8     u64 B
//! signature  64    Ed25519 by the device key over
//!                  DOMAIN ‖ inner header ‖ body_len ‖ root,
//!                  root = BLAKE3-derive_key(ROOT_CONTEXT, n ‖ hashes)
//! ```
//!
//! The hash list lets a viewer verify any chunk on its own (verified seek),
//! the signature binds it to the inner header (S2, S3).

use sealcam_keys::{DeviceKey, DevicePublicKey, DeviceSignature};

use crate::stream::CHUNK;
use crate::OpenError;

const DOMAIN: &[u8] = b"sealcam object signature v1\x00";
const ROOT_CONTEXT: &str = "sealcam 2026 object v1 chunk-hash list";
/// Bytes of the fixed tail: body length and signature.
pub const TAIL: usize = 8 + 64;
/// Bytes of one chunk hash.
pub const HASH: usize = 32;

/// The number of pieces of a signed region of `x` bytes.
pub fn pieces(x: u64) -> u64 {
    x.div_ceil(CHUNK as u64)
}

/// The hash of one piece.
pub fn piece_hash(piece: &[u8]) -> [u8; 32] {
    *blake3::hash(piece).as_bytes()
}

fn root(hashes: &[[u8; 32]]) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key(ROOT_CONTEXT);
    h.update(&(hashes.len() as u64).to_le_bytes());
    for x in hashes {
        h.update(x);
    }
    *h.finalize().as_bytes()
}

fn message(inner: &[u8], body_len: u64, hashes: &[[u8; 32]]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + inner.len() + 40);
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(inner);
    m.extend_from_slice(&body_len.to_le_bytes());
    m.extend_from_slice(&root(hashes));
    m
}

/// The trailer bytes for a finished signed region.
pub fn build(inner: &[u8], body_len: u64, hashes: &[[u8; 32]], key: &DeviceKey) -> Vec<u8> {
    let sig = key.sign(&message(inner, body_len, hashes));
    let mut out = Vec::with_capacity(hashes.len() * HASH + TAIL);
    for h in hashes {
        out.extend_from_slice(h);
    }
    out.extend_from_slice(&body_len.to_le_bytes());
    out.extend_from_slice(&sig.0);
    out
}

/// Where the signed region ends (`X`) in a payload plaintext of `p` bytes,
/// from the layout `p = X + 32·⌈X/65536⌉ + 72`. `None` when no `X` fits.
pub fn signed_len(p: u64) -> Option<u64> {
    let q = p.checked_sub(TAIL as u64)?;
    let n = q.div_ceil(CHUNK as u64 + HASH as u64);
    let x = q.checked_sub(HASH as u64 * n)?;
    (n >= 1 && x > (n - 1) * CHUNK as u64).then_some(x)
}

/// A parsed trailer whose signature verified.
#[derive(Debug, Clone)]
pub struct Trailer {
    /// Hash of each piece of the signed region.
    pub hashes: Vec<[u8; 32]>,
    /// Body length.
    pub body_len: u64,
}

/// Parses `bytes` (exactly the trailer) and verifies the signature against
/// the pinned device key. `inner` is the inner header, `x` the signed length.
pub fn verify(
    bytes: &[u8],
    inner: &[u8],
    x: u64,
    device: &DevicePublicKey,
) -> Result<Trailer, OpenError> {
    let n = pieces(x) as usize;
    if bytes.len() != n * HASH + TAIL {
        return Err(OpenError::Truncated("the trailer has the wrong length"));
    }
    let (list, tail) = bytes.split_at(n * HASH);
    let hashes: Vec<[u8; 32]> = list
        .chunks_exact(HASH)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect();
    let mut body_len = [0u8; 8];
    body_len.copy_from_slice(&tail[..8]);
    let body_len = u64::from_le_bytes(body_len);
    if Some(body_len) != x.checked_sub(inner.len() as u64) {
        return Err(OpenError::Truncated(
            "the signed body length does not match the payload length",
        ));
    }
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&tail[8..]);
    if !device.verify(&message(inner, body_len, &hashes), &DeviceSignature(sig)) {
        return Err(OpenError::BadSignature);
    }
    Ok(Trailer { hashes, body_len })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_len_inverts_the_layout() {
        for x in [
            1u64,
            81,
            65535,
            65536,
            65537,
            131072,
            131073,
            10 * 65536 + 5,
        ] {
            let p = x + HASH as u64 * pieces(x) + TAIL as u64;
            assert_eq!(signed_len(p), Some(x), "x = {x}");
        }
        // Lengths in the gaps of the layout have no X.
        let gap = 65536 + 32 + 72 + 1; // X would be 65537 with 1 piece: impossible
        assert_eq!(signed_len(gap), None);
    }
}
