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

/// A reader of unknown length that hands out its bytes in uneven pieces,
/// like an encoder's output.
#[derive(Debug, Clone)]
pub struct Dribble {
    data: Vec<u8>,
    pos: usize,
    step: usize,
}

impl Dribble {
    /// Hands out `data`, `step` bytes first, then other sizes.
    pub fn new(data: Vec<u8>, step: usize) -> Self {
        Self { data, pos: 0, step }
    }
}

impl std::io::Read for Dribble {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.data.len() - self.pos).min(self.step);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        self.step = self.step % 9973 + 777;
        Ok(n)
    }
}
