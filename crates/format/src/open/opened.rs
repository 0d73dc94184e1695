//! [`Opened`]: a verified object whose chunks are checked against the signed
//! hash list as they are opened.

use std::ops::Range;

use super::open_chunk_raw;
use crate::stream::{ChunkCipher, Geometry, CHUNK};
use crate::trailer;
use crate::{ObjectMeta, OpenError};

/// A verified object: the inner header matched, the signature verified. Every
/// chunk opened through it is checked against the signed hash list.
pub struct Opened {
    pub(super) cipher: ChunkCipher,
    pub(super) geometry: Geometry,
    pub(super) meta: ObjectMeta,
    pub(super) version: u8,
    pub(super) inner_len: u64,
    pub(super) body_len: u64,
    pub(super) signed_len: u64,
    pub(super) hashes: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("meta", &self.meta)
            .field("body_len", &self.body_len())
            .finish_non_exhaustive()
    }
}

impl Opened {
    /// The verified inner header.
    pub fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    /// The body length (signed; the padding after it is not body).
    pub fn body_len(&self) -> u64 {
        self.body_len
    }

    /// The object format version (1, 2 or 3).
    pub fn format_version(&self) -> u8 {
        self.version
    }

    /// The chunks that hold body bytes `range` (clamped to the body).
    pub fn chunks_for(&self, range: Range<u64>) -> Range<u64> {
        let end = range.end.min(self.body_len());
        let start = range.start.min(end);
        if start == end {
            return 0..0;
        }
        let a = (self.inner_len + start) / CHUNK as u64;
        let b = (self.inner_len + end - 1) / CHUNK as u64 + 1;
        a..b
    }

    /// The payload byte range of chunks `chunks`.
    pub fn ciphertext_range(&self, chunks: Range<u64>) -> Range<u64> {
        if chunks.is_empty() {
            return 0..0;
        }
        self.geometry.chunk_range(chunks.start).start..self.geometry.chunk_range(chunks.end - 1).end
    }

    pub(super) fn check_piece(&self, index: u64, plain: &[u8]) -> Result<(), OpenError> {
        let start = index * CHUNK as u64;
        let signed_in_chunk = self
            .signed_len
            .saturating_sub(start)
            .min(plain.len() as u64) as usize;
        let expected = self
            .hashes
            .get(index as usize)
            .ok_or(OpenError::BadSignature)?;
        if trailer::piece_hash(&plain[..signed_in_chunk]) != *expected {
            return Err(OpenError::BadSignature);
        }
        Ok(())
    }

    /// Decrypts chunk `index` in place from its ciphertext and verifies it
    /// against the signed hash list; returns the range of `buf` that holds
    /// body bytes, and the body offset of its first byte.
    pub fn open_chunk(&self, index: u64, buf: &mut [u8]) -> Result<(Range<usize>, u64), OpenError> {
        if index >= self.geometry.chunks {
            return Err(OpenError::Truncated("chunk index beyond the payload"));
        }
        let n = open_chunk_raw(&self.cipher, &self.geometry, index, buf)?;
        self.check_plain(index, &buf[..n])
    }

    /// Checks chunk `index`, decrypted (`plain`), against the signed hash
    /// list and its padding; returns the range of `plain` that holds body
    /// bytes, and the body offset of its first byte.
    pub(super) fn check_plain(
        &self,
        index: u64,
        plain: &[u8],
    ) -> Result<(Range<usize>, u64), OpenError> {
        self.check_piece(index, plain)?;
        let n = plain.len();
        let buf = plain;
        let start = index * CHUNK as u64;
        let body_start = self.inner_len.max(start);
        let pad_start = self.inner_len + self.body_len;
        let body_end = pad_start.min(start + n as u64);
        let pad_end = self.signed_len.min(start + n as u64);
        if pad_end > pad_start.max(start) {
            let pad = &buf[(pad_start.max(start) - start) as usize..(pad_end - start) as usize];
            if pad.iter().any(|&b| b != 0) {
                return Err(OpenError::Corrupt("the padding is not zero"));
            }
        }
        if body_end <= body_start {
            return Ok((0..0, body_start.saturating_sub(self.inner_len)));
        }
        Ok((
            (body_start - start) as usize..(body_end - start) as usize,
            body_start - self.inner_len,
        ))
    }
}
