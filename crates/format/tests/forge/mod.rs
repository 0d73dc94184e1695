//! What a co-recipient who knows the file key can do: decrypt the payload,
//! edit the plaintext, and re-encrypt it under the same key and nonce. The
//! AEAD then passes; only the device signature can catch it. Shared by the
//! tests and the vector generator (`examples/gen_vectors.rs`).
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use sealcam_format::age_header::payload_key;
use sealcam_format::stream::{ChunkCipher, CHUNK, ENC_CHUNK};
use sealcam_format::Opening;
use sealcam_keys::ViewerIdentity;

/// Re-encrypts `payload` after `edit` changed its plaintext.
pub fn forge(
    header: &[u8],
    payload: &[u8],
    recipient: &ViewerIdentity,
    edit: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let opening = Opening::new(header, &[recipient]).unwrap();
    let key = payload_key(opening.file_key(), payload[..16].try_into().unwrap());
    let c = ChunkCipher::new(&key);
    let chunks: Vec<_> = payload[16..].chunks(ENC_CHUNK).collect();
    let mut plain = Vec::new();
    for (i, ch) in chunks.iter().enumerate() {
        let mut b = ch.to_vec();
        let n = c.open(i as u64, i + 1 == chunks.len(), &mut b).unwrap();
        plain.extend_from_slice(&b[..n]);
    }
    edit(&mut plain);
    let mut out = payload[..16].to_vec();
    let pieces: Vec<&[u8]> = if plain.is_empty() {
        vec![&[]]
    } else {
        plain.chunks(CHUNK).collect()
    };
    for (i, pc) in pieces.iter().enumerate() {
        let mut b = pc.to_vec();
        let tag = c.seal(i as u64, i + 1 == pieces.len(), &mut b);
        out.extend_from_slice(&b);
        out.extend_from_slice(&tag);
    }
    out
}

/// What a camera (the holder of the device key) could make: decrypts the
/// payload, lets `edit` change the signed region (inner header, body and
/// padding) and the signed body length, then hashes, signs and encrypts it
/// again. Used for vectors whose signature is valid but whose layout is not.
pub fn resign(
    header: &[u8],
    payload: &[u8],
    recipient: &ViewerIdentity,
    device: &sealcam_keys::DeviceKey,
    edit: impl FnOnce(&mut Vec<u8>, &mut u64),
) -> Vec<u8> {
    use sealcam_format::trailer;
    let mut signed = Vec::new();
    let mut body_len = 0u64;
    let mut inner_len = 0usize;
    forge(header, payload, recipient, |plain| {
        let x = trailer::signed_len(plain.len() as u64).unwrap() as usize;
        let tail = &plain[plain.len() - trailer::TAIL..];
        body_len = u64::from_le_bytes(tail[..8].try_into().unwrap());
        inner_len = sealcam_format::ObjectMeta::parse(plain).unwrap().1;
        signed = plain[..x].to_vec();
    });
    edit(&mut signed, &mut body_len);
    let hashes: Vec<[u8; 32]> = signed.chunks(CHUNK).map(trailer::piece_hash).collect();
    let trailer_bytes = trailer::build(&signed[..inner_len], body_len, &hashes, device);
    forge(header, payload, recipient, |plain| {
        *plain = [signed.clone(), trailer_bytes].concat();
    })
}
