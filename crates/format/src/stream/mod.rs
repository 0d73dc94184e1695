//! age's STREAM payload: ChaCha20-Poly1305 over 64 KiB chunks, nonce =
//! 11-byte big-endian chunk counter ‖ last-chunk flag.
//!
//! The chunks are sealed and opened in place by the chunk AEAD ([`aead`]:
//! ring, or RustCrypto's `chacha20poly1305` without the `ring` feature),
//! which is byte-for-byte what any age implementation reads, without the copy
//! and per-chunk allocation of a generic writer.

use std::io::Read;

use crate::OpenError;

pub mod aead;

pub use aead::TAG;

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// Ciphertext bytes per full chunk.
pub const ENC_CHUNK: usize = CHUNK + TAG;
/// Bytes of the payload nonce that starts the payload.
pub const NONCE: usize = 16;

/// The ChaCha20-Poly1305 cipher of one payload.
pub struct ChunkCipher {
    aead: aead::Aead,
}

fn nonce(index: u64, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    // A u64 counter in the low bytes of the 11-byte big-endian counter.
    n[3..11].copy_from_slice(&index.to_be_bytes());
    n[11] = u8::from(last);
    n
}

impl ChunkCipher {
    /// The cipher for a payload key.
    pub fn new(payload_key: &[u8; 32]) -> Self {
        Self {
            aead: aead::Aead::new(payload_key),
        }
    }

    /// Encrypts `buf` in place as chunk `index` and returns its tag.
    pub fn seal(&self, index: u64, last: bool, buf: &mut [u8]) -> [u8; TAG] {
        self.aead.seal(nonce(index, last), buf)
    }

    /// Decrypts ciphertext-with-tag `buf` in place as chunk `index`; returns the
    /// plaintext length. `None` when it does not authenticate, and then
    /// `buf` is unspecified: a caller that tries again keeps a copy.
    pub fn open(&self, index: u64, last: bool, buf: &mut [u8]) -> Option<usize> {
        let n = buf.len().checked_sub(TAG)?;
        self.aead.open(nonce(index, last), buf).then_some(n)
    }

    /// Opens the final chunk, telling a chunk cut at a boundary (it
    /// authenticates as a middle chunk) from a damaged one.
    pub fn open_last(&self, index: u64, buf: &mut [u8]) -> Result<usize, OpenError> {
        if buf.len() < TAG {
            return Err(OpenError::Truncated(
                "the last chunk is shorter than its tag",
            ));
        }
        // A full chunk may be a middle chunk the payload was cut after: keep
        // a copy to try it as one (a failed open leaves `buf` unspecified).
        let full = (buf.len() == ENC_CHUNK).then(|| buf.to_vec());
        if let Some(n) = self.open(index, true, buf) {
            if n == 0 && index > 0 {
                return Err(OpenError::Corrupt("empty final chunk after other chunks"));
            }
            return Ok(n);
        }
        if let Some(mut copy) = full {
            if self.open(index, false, &mut copy).is_some() {
                return Err(OpenError::Truncated(
                    "the payload ends at a chunk boundary before its final chunk",
                ));
            }
        }
        Err(OpenError::Corrupt("a chunk does not authenticate"))
    }
}

/// Where chunk `index` of a payload of `payload_len` bytes lies, and whether it
/// is the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Number of chunks.
    pub chunks: u64,
    /// Total payload length (nonce included).
    pub payload_len: u64,
}

impl Geometry {
    /// The chunk layout of a payload of `payload_len` bytes (nonce included).
    pub fn new(payload_len: u64) -> Result<Self, OpenError> {
        let body = payload_len
            .checked_sub(NONCE as u64)
            .ok_or(OpenError::Truncated(
                "the payload is shorter than its nonce",
            ))?;
        if body == 0 {
            return Err(OpenError::Truncated("the payload has no chunks"));
        }
        let chunks = body.div_ceil(ENC_CHUNK as u64);
        let last_len = body - (chunks - 1) * ENC_CHUNK as u64;
        if last_len < TAG as u64 {
            return Err(OpenError::Truncated(
                "the last chunk is shorter than its tag",
            ));
        }
        Ok(Self {
            chunks,
            payload_len,
        })
    }

    /// Byte range of chunk `index` in the payload.
    pub fn chunk_range(&self, index: u64) -> std::ops::Range<u64> {
        let start = NONCE as u64 + index * ENC_CHUNK as u64;
        start..(start + ENC_CHUNK as u64).min(self.payload_len)
    }

    /// Plaintext length of the whole payload.
    pub fn plaintext_len(&self) -> u64 {
        self.payload_len - NONCE as u64 - self.chunks * TAG as u64
    }

    /// Whether `index` is the last chunk.
    pub fn is_last(&self, index: u64) -> bool {
        index + 1 == self.chunks
    }
}

/// Decrypts an age STREAM payload read sequentially, releasing each chunk's
/// plaintext only after it authenticates (the generic age reader; sealcam
/// objects are opened by [`crate::open`], which also verifies the signature).
///
/// It releases exactly what the reference implementation releases before a
/// failure: a full chunk that authenticates as a middle chunk is released
/// even if the payload then ends without a final chunk, and a final chunk is
/// released before trailing bytes after it are detected.
pub struct StreamDecryptor<R> {
    inner: R,
    cipher: ChunkCipher,
    index: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: Read> StreamDecryptor<R> {
    /// A decryptor of the payload that follows the nonce in `inner`.
    pub fn new(payload_key: &[u8; 32], inner: R) -> Self {
        Self {
            inner,
            cipher: ChunkCipher::new(payload_key),
            index: 0,
            buf: Vec::with_capacity(ENC_CHUNK),
            done: false,
        }
    }

    /// The next chunk's plaintext, `None` at the authenticated end.
    pub fn next_chunk(&mut self) -> Result<Option<&[u8]>, OpenError> {
        if self.done {
            let mut one = [0u8; 1];
            if read_some(&mut self.inner, &mut one)? != 0 {
                return Err(OpenError::Corrupt("bytes after the final chunk"));
            }
            return Ok(None);
        }
        self.buf.clear();
        (&mut self.inner)
            .take(ENC_CHUNK as u64)
            .read_to_end(&mut self.buf)?;
        if self.buf.is_empty() {
            return Err(if self.index == 0 {
                OpenError::Truncated("the payload has no chunks")
            } else {
                OpenError::Truncated("the payload ends without a final chunk")
            });
        }
        let mut last = self.buf.len() < ENC_CHUNK;
        let opened = if last {
            self.cipher.open(self.index, true, &mut self.buf)
        } else {
            // A full chunk is a middle chunk unless it only opens as the last.
            let mut copy = self.buf.clone();
            match self.cipher.open(self.index, false, &mut copy) {
                Some(n) => {
                    std::mem::swap(&mut self.buf, &mut copy);
                    Some(n)
                }
                None => {
                    last = true;
                    self.cipher.open(self.index, true, &mut self.buf)
                }
            }
        };
        let n = opened.ok_or(OpenError::Corrupt("a chunk does not authenticate"))?;
        if last && n == 0 && self.index > 0 {
            return Err(OpenError::Corrupt("empty final chunk after other chunks"));
        }
        self.done = last;
        self.index += 1;
        Ok(Some(&self.buf[..n]))
    }
}
fn read_some<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
