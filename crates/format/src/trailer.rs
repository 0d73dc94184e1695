//! The signed trailer: per-chunk hashes, the body length and the device
//! signature.
//!
//! The *signed region* is the payload plaintext before the trailer: the inner
//! header, the body and (version 2) zero padding, `X = H + B + Z` bytes, where
//! `X` follows from the part kind and `H + B` (see [`crate::padding`]; in
//! version 1 `Z = 0`). It is cut into pieces aligned with
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
//! DOMAIN and ROOT_CONTEXT name the format version, so a version 1 signature
//! never verifies as version 2 or the other way round. Version 3 uses
//! version 2's: the version byte that tells them apart is in the signed
//! inner header.
//!
//! The hash list lets a viewer verify any chunk on its own (verified seek),
//! the signature binds it to the inner header (S2, S3).

use sealcam_keys::{DeviceKey, DevicePublicKey, DeviceSignature};

use crate::inner::VERSION_1;
use crate::padding::padded_len;
use crate::stream::CHUNK;
use crate::{OpenError, PartKind};

const DOMAIN_V1: &[u8] = b"sealcam object signature v1\x00";
const ROOT_CONTEXT_V1: &str = "sealcam 2026 object v1 chunk-hash list";
const DOMAIN_V2: &[u8] = b"sealcam object signature v2\x00";
const ROOT_CONTEXT_V2: &str = "sealcam 2026 object v2 chunk-hash list";
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

fn root(version: u8, hashes: &[[u8; 32]]) -> [u8; 32] {
    let context = if version == VERSION_1 {
        ROOT_CONTEXT_V1
    } else {
        ROOT_CONTEXT_V2
    };
    let mut h = blake3::Hasher::new_derive_key(context);
    h.update(&(hashes.len() as u64).to_le_bytes());
    for x in hashes {
        h.update(x);
    }
    *h.finalize().as_bytes()
}

/// The signed message; the version is the inner header's (byte 8).
fn message(inner: &[u8], body_len: u64, hashes: &[[u8; 32]]) -> Vec<u8> {
    let version = inner.get(8).copied().unwrap_or_default();
    let domain = if version == VERSION_1 {
        DOMAIN_V1
    } else {
        DOMAIN_V2
    };
    let mut m = Vec::with_capacity(domain.len() + inner.len() + 40);
    m.extend_from_slice(domain);
    m.extend_from_slice(inner);
    m.extend_from_slice(&body_len.to_le_bytes());
    m.extend_from_slice(&root(version, hashes));
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

/// Whether a signed region of `x` bytes fits an inner header and body of
/// `h + b` bytes: `X = H + B` in version 1, the padded length in version 2.
fn layout_fits(version: u8, kind: PartKind, h: u64, b: u64, x: u64) -> bool {
    match h.checked_add(b) {
        Some(n) if version == VERSION_1 => n == x,
        Some(n) => n <= x && padded_len(kind, n) == Some(x),
        None => false,
    }
}

/// Parses `bytes` (exactly the trailer) and verifies the signature against
/// the pinned device key. `inner` is the inner header (its version and
/// kind decide the layout), `x` the signed length.
pub fn verify(
    bytes: &[u8],
    inner: &[u8],
    kind: PartKind,
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
    let version = inner.get(8).copied().unwrap_or_default();
    if !layout_fits(version, kind, inner.len() as u64, body_len, x) {
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
