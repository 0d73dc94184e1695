//! Sequential opening: [`StreamOpener`], for a source that cannot seek.

use std::io::{self, Read};
use std::ops::Range;

use sealcam_keys::{DevicePublicKey, ViewerIdentity};

use super::{open_chunk_raw, to_io, Opening};
use crate::age_header::payload_key;
use crate::stream::{ChunkCipher, Geometry, CHUNK, ENC_CHUNK, NONCE};
use crate::trailer::{self, signed_len};
use crate::{Binding, Misdelivery, ObjectMeta, OpenError};

/// Opens an object read sequentially (a pipe, a download in progress) whose
/// payload length is known. The inner header and binding are checked before
/// any body byte is released, but **body bytes are unverified until the
/// reader returns end-of-file**: the end verifies the signature and every
/// chunk hash, and a failure is returned as the final read's error. Use
/// [`open`] when the source can seek.
///
/// Memory stays constant: where the body ends is signed in the trailer, so a
/// run of zero bytes (body or padding, not known yet) is held back as a count
/// and released once the trailer says how much of it is body.
pub struct StreamOpener<R> {
    inner: R,
    cipher: ChunkCipher,
    geometry: Geometry,
    meta: ObjectMeta,
    inner_header: Vec<u8>,
    signed_len: u64,
    index: u64,
    buf: Vec<u8>,
    /// Bytes of `buf` to release (after `pending_zeros`).
    avail: Range<usize>,
    /// Zero bytes to release before `avail`.
    pending_zeros: u64,
    /// A trailing run of zero bytes not released yet: body or padding.
    held_zeros: u64,
    /// Body bytes released or scheduled (`pending_zeros` and `avail` included).
    released: u64,
    computed: Vec<[u8; 32]>,
    trailer: Vec<u8>,
    device: DevicePublicKey,
    verified: bool,
}

impl<R: Read> StreamOpener<R> {
    /// Reads the nonce and the first chunk, checks addressee and binding.
    pub fn new(
        header: &[u8],
        mut payload: R,
        payload_len: u64,
        identities: &[&ViewerIdentity],
        expected: &Binding,
        device: &DevicePublicKey,
    ) -> Result<Self, OpenError> {
        let opening = Opening::new(header, identities)?;
        // The nonce and first chunk decide misdelivery before the length does.
        let first_len = payload_len.min((NONCE + ENC_CHUNK) as u64);
        let bound = opening.header.payload_binding()?;
        let mut nonce = [0u8; NONCE];
        if bound.is_some() {
            let mut first = vec![0u8; NONCE.min(first_len as usize)];
            payload.read_exact(&mut first).map_err(eof_truncated)?;
            let matches = bound.is_some_and(|b| b.nonce[..] == first[..]);
            if !matches {
                let mut rest = vec![0u8; first_len as usize - first.len()];
                payload.read_exact(&mut rest).map_err(eof_truncated)?;
                first.extend_from_slice(&rest);
            }
            opening.check_payload(&first, expected)?;
            nonce.copy_from_slice(&first[..NONCE]);
        }
        let g = Geometry::new(payload_len)?;
        let x = signed_len(g.plaintext_len()).ok_or(OpenError::Truncated(
            "the payload is too short for its trailer",
        ))?;
        if bound.is_none() {
            payload.read_exact(&mut nonce).map_err(eof_truncated)?;
        }
        let cipher = ChunkCipher::new(&payload_key(&opening.file_key, &nonce));
        let mut me = Self {
            inner: payload,
            cipher,
            geometry: g,
            meta: ObjectMeta {
                binding: *expected,
                captured_at_ms: 0,
                epoch: 0,
                followed: None,
                content_type: String::new(),
            },
            inner_header: Vec::new(),
            signed_len: x,
            index: 0,
            buf: Vec::with_capacity(ENC_CHUNK),
            avail: 0..0,
            pending_zeros: 0,
            held_zeros: 0,
            released: 0,
            computed: Vec::new(),
            trailer: Vec::new(),
            device: *device,
            verified: false,
        };
        me.next_chunk(None)?;
        let (meta, inner_len) = ObjectMeta::parse(&me.buf)?;
        if meta.binding != *expected {
            return Err(OpenError::Misdelivered(Box::new(Misdelivery::Binding {
                expected: *expected,
                found: meta.binding,
            })));
        }
        if (inner_len as u64) > x {
            return Err(OpenError::Truncated(
                "the payload ends inside the inner header",
            ));
        }
        me.inner_header = me.buf[..inner_len].to_vec();
        me.meta = meta;
        me.release(inner_len);
        Ok(me)
    }

    /// The inner header (binding checked; signature not yet).
    pub fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    /// Reads one chunk into `buf`, hashes its signed part, keeps its trailer
    /// part, and releases its body bytes from `body_from` on (`None`: none
    /// yet, the first chunk's inner header is parsed first).
    fn next_chunk(&mut self, body_from: Option<usize>) -> Result<(), OpenError> {
        let range = self.geometry.chunk_range(self.index);
        self.buf.resize((range.end - range.start) as usize, 0);
        self.inner
            .read_exact(&mut self.buf)
            .map_err(eof_truncated)?;
        let n = open_chunk_raw(&self.cipher, &self.geometry, self.index, &mut self.buf)?;
        self.buf.truncate(n);
        let start = self.index * CHUNK as u64;
        let signed_here = self.signed_len.saturating_sub(start).min(n as u64) as usize;
        if signed_here > 0 {
            self.computed
                .push(trailer::piece_hash(&self.buf[..signed_here]));
        }
        self.trailer.extend_from_slice(&self.buf[signed_here..]);
        self.buf.truncate(signed_here);
        self.avail = 0..0;
        self.index += 1;
        if let Some(from) = body_from {
            self.release(from);
        }
        Ok(())
    }

    /// Schedules the signed bytes of `buf` from `from` on for release, except
    /// a trailing run of zeros, which is held back until the trailer says
    /// whether it is body or padding.
    fn release(&mut self, from: usize) {
        let data = &self.buf[from.min(self.buf.len())..];
        match data.iter().rposition(|&b| b != 0) {
            Some(k) => {
                self.pending_zeros = self.held_zeros;
                self.released += self.held_zeros + k as u64 + 1;
                self.held_zeros = (data.len() - k - 1) as u64;
                self.avail = from..from + k + 1;
            }
            None => {
                self.held_zeros += data.len() as u64;
                self.avail = 0..0;
            }
        }
    }

    fn finish_verify(&mut self) -> Result<(), OpenError> {
        let mut extra = [0u8; 1];
        if self.inner.read(&mut extra)? != 0 {
            return Err(OpenError::Corrupt("bytes after the final chunk"));
        }
        let t = trailer::verify(
            &self.trailer,
            &self.inner_header,
            self.meta.binding.kind,
            self.signed_len,
            &self.device,
        )?;
        if t.hashes != self.computed {
            return Err(OpenError::BadSignature);
        }
        if t.body_len < self.released {
            return Err(OpenError::Corrupt("the padding is not zero"));
        }
        // The held-back zeros up to the signed body length are body.
        self.pending_zeros = t.body_len - self.released;
        self.released = t.body_len;
        self.avail = 0..0;
        self.verified = true;
        Ok(())
    }

    /// Reads to the end and returns the verified metadata, or why it failed.
    pub fn finish(mut self) -> Result<ObjectMeta, OpenError> {
        io::copy(&mut self, &mut io::sink()).map_err(OpenError::from_io)?;
        Ok(self.meta)
    }
}

fn eof_truncated(e: io::Error) -> OpenError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        OpenError::Truncated("the payload ended early")
    } else {
        OpenError::Io(e)
    }
}

impl<R: Read> Read for StreamOpener<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.pending_zeros > 0 {
                let n = (self.pending_zeros.min(out.len() as u64)) as usize;
                out[..n].fill(0);
                self.pending_zeros -= n as u64;
                return Ok(n);
            }
            if !self.avail.is_empty() {
                let n = self.avail.len().min(out.len());
                out[..n].copy_from_slice(&self.buf[self.avail.start..self.avail.start + n]);
                self.avail.start += n;
                return Ok(n);
            }
            if self.verified {
                return Ok(0);
            }
            if self.index >= self.geometry.chunks {
                self.finish_verify().map_err(to_io)?;
                continue;
            }
            self.next_chunk(Some(0)).map_err(to_io)?;
        }
    }
}
