//! Deterministic test media: every thumbnail and clip is different, so a
//! byte shown to the wrong viewer can be recognised as someone else's.

/// `len` pseudo-random bytes from `seed` (xorshift; not cryptographic).
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A fake JPEG thumbnail: the JPEG start marker, then `len - 2` bytes of `seed`.
pub fn thumbnail(seed: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend(bytes(seed, len.saturating_sub(2)));
    out
}
