//! Random access: [`open`] and the [`VerifiedReader`] it returns, which seeks
//! and verifies every chunk before releasing a byte; [`open_to_vec`].

use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;

use sealcam_keys::{DevicePublicKey, ViewerIdentity};

use super::{Opened, Opening};
use crate::{Binding, ObjectMeta, OpenError};

/// Random access to payload bytes: a file, a buffer, or anything seekable.
pub trait RangeSource {
    /// Total length.
    fn total_len(&mut self) -> io::Result<u64>;
    /// Reads exactly `buf.len()` bytes at `offset`.
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

impl RangeSource for &[u8] {
    fn total_len(&mut self) -> io::Result<u64> {
        Ok(<[u8]>::len(self) as u64)
    }
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let src = self
            .get(start..start.saturating_add(buf.len()))
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// A [`RangeSource`] over any `Read + Seek` (files, cursors).
#[derive(Debug)]
pub struct Seekable<R>(pub R);

impl<R: Read + Seek> RangeSource for Seekable<R> {
    fn total_len(&mut self) -> io::Result<u64> {
        self.0.seek(SeekFrom::End(0))
    }
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.0.seek(SeekFrom::Start(offset))?;
        self.0.read_exact(buf)
    }
}

fn read_range<S: RangeSource>(src: &mut S, r: Range<u64>) -> Result<Vec<u8>, OpenError> {
    let mut buf = vec![0u8; (r.end - r.start) as usize];
    src.read_exact_at(r.start, &mut buf)
        .map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => OpenError::Truncated("the source ended early"),
            _ => OpenError::Io(e),
        })?;
    Ok(buf)
}

/// Opens an object from its header and a random-access payload: checks
/// addressee, binding and signature, then returns a reader of the body that
/// verifies every chunk before releasing it, and can seek.
pub fn open<S: RangeSource>(
    header: &[u8],
    payload: S,
    identities: &[&ViewerIdentity],
    expected: &Binding,
    device: &DevicePublicKey,
) -> Result<VerifiedReader<S>, OpenError> {
    Opening::new(header, identities)?.into_reader(payload, expected, device)
}

impl Opening {
    /// [`open`] from this opening (made, say, with a slot hint): checks
    /// binding and signature against `payload`, then returns its reader.
    pub fn into_reader<S: RangeSource>(
        self,
        mut payload: S,
        expected: &Binding,
        device: &DevicePublicKey,
    ) -> Result<VerifiedReader<S>, OpenError> {
        let len = payload.total_len()?;
        let needed = self.needed(len)?;
        let first = read_range(&mut payload, needed.first.clone())?;
        // Misdelivery is named before the trailer is read (and checked once).
        self.check_payload(&first, expected)?;
        let trailer = read_range(&mut payload, needed.trailer.clone())?;
        let (opened, chunk0) = self.verify_checked(len, &first, &trailer, expected, device)?;
        Ok(VerifiedReader {
            opened,
            src: payload,
            pos: 0,
            // Verified already: a small object is then decrypted once.
            cache: Some((0, chunk0.plain, chunk0.body, chunk0.offset)),
        })
    }

    /// [`open_to_vec`] from this opening: everything verified, then the
    /// whole body.
    pub fn into_vec(
        self,
        payload: &[u8],
        expected: &Binding,
        device: &DevicePublicKey,
    ) -> Result<OpenedObject, OpenError> {
        let mut r = self.into_reader(payload, expected, device)?;
        let body = r.read_range(0..r.body_len())?;
        Ok(OpenedObject {
            meta: r.meta().clone(),
            body,
        })
    }
}

/// A body reader over a verified object: `Read + Seek`, each chunk verified
/// against the signed hash list before any of its bytes is returned.
pub struct VerifiedReader<S> {
    opened: Opened,
    src: S,
    pos: u64,
    /// The last chunk opened: index, plaintext, body range within it, body offset.
    cache: Option<(u64, Vec<u8>, Range<usize>, u64)>,
}

impl<S: RangeSource> VerifiedReader<S> {
    /// The verified inner header.
    pub fn meta(&self) -> &ObjectMeta {
        self.opened.meta()
    }

    /// The body length.
    pub fn body_len(&self) -> u64 {
        self.opened.body_len()
    }

    /// Writes the rest of the body, from the current position, into `out`
    /// and returns the bytes written: what `io::copy` from this reader
    /// writes, with large reads of the source and, on a machine with a
    /// second core, the chunks opened on a helper thread while this one
    /// writes and reads ([`super::copy`]).
    ///
    /// On an error the position stands after the bytes written (all of them
    /// verified), as after `io::copy`.
    pub fn copy_to<W: io::Write>(&mut self, out: &mut W) -> Result<u64, OpenError> {
        let from = self.pos.min(self.body_len());
        let (n, result) = super::copy::copy(&self.opened, &mut self.src, from, out);
        self.pos = from + n;
        result.map(|()| n)
    }

    /// The verified core, for callers that fetch chunks themselves.
    pub fn opened(&self) -> &Opened {
        &self.opened
    }

    /// Reads and verifies body bytes `range` (clamped to the body).
    pub fn read_range(&mut self, range: Range<u64>) -> Result<Vec<u8>, OpenError> {
        let end = range.end.min(self.body_len());
        let mut out = Vec::with_capacity(end.saturating_sub(range.start) as usize);
        self.pos = range.start.min(end);
        let mut pos = self.pos;
        while pos < end {
            let (data, off) = self.chunk_at(pos)?;
            let from = (pos - off) as usize;
            let take = (data.len() - from).min((end - pos) as usize);
            out.extend_from_slice(&data[from..from + take]);
            pos += take as u64;
        }
        self.pos = pos;
        Ok(out)
    }

    /// The verified body bytes of the chunk holding body offset `pos`, and the
    /// body offset of their first byte.
    fn chunk_at(&mut self, pos: u64) -> Result<(&[u8], u64), OpenError> {
        let index = self.opened.chunks_for(pos..pos + 1).start;
        let hit = matches!(&self.cache, Some((i, ..)) if *i == index);
        if !hit {
            // Reuse the previous chunk's buffer: no allocation per chunk.
            let mut buf = self.cache.take().map(|(_, b, _, _)| b).unwrap_or_default();
            let range = self.opened.ciphertext_range(index..index + 1);
            buf.resize((range.end - range.start) as usize, 0);
            self.src
                .read_exact_at(range.start, &mut buf)
                .map_err(|e| match e.kind() {
                    io::ErrorKind::UnexpectedEof => OpenError::Truncated("the source ended early"),
                    _ => OpenError::Io(e),
                })?;
            let (body, off) = self.opened.open_chunk(index, &mut buf)?;
            self.cache = Some((index, buf, body, off));
        }
        match &self.cache {
            Some((_, buf, body, off)) => Ok((&buf[body.clone()], *off)),
            None => unreachable!("the cache was filled above"),
        }
    }
}

impl<S: RangeSource> Read for VerifiedReader<S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.body_len() || out.is_empty() {
            return Ok(0);
        }
        let pos = self.pos;
        let (data, off) = self.chunk_at(pos).map_err(to_io)?;
        let from = (pos - off) as usize;
        let n = (data.len() - from).min(out.len());
        out[..n].copy_from_slice(&data[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<S: RangeSource> Seek for VerifiedReader<S> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let len = self.body_len() as i128;
        let target = match to {
            SeekFrom::Start(n) => n as i128,
            SeekFrom::End(d) => len + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if target < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the body",
            ));
        }
        self.pos = target.min(u64::MAX as i128) as u64;
        Ok(self.pos)
    }
}

/// Wraps an [`OpenError`] for `std::io` callers; [`OpenError::from_io`] gets it back.
pub fn to_io(e: OpenError) -> io::Error {
    match e {
        OpenError::Io(e) => e,
        e => io::Error::new(io::ErrorKind::InvalidData, e),
    }
}

impl OpenError {
    /// Recovers the [`OpenError`] inside an `io::Error` made by a reader of this crate.
    pub fn from_io(e: io::Error) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<OpenError>()) {
            if let Some(inner) = e.into_inner() {
                if let Ok(open) = inner.downcast::<OpenError>() {
                    return *open;
                }
            }
            return OpenError::Corrupt("unrecoverable error");
        }
        OpenError::Io(e)
    }
}

/// A verified object fully in memory.
#[derive(Debug)]
pub struct OpenedObject {
    /// The verified inner header.
    pub meta: ObjectMeta,
    /// The verified body.
    pub body: Vec<u8>,
}

/// Opens a whole object in memory; returns nothing unless every check passed.
pub fn open_to_vec(
    header: &[u8],
    payload: &[u8],
    identities: &[&ViewerIdentity],
    expected: &Binding,
    device: &DevicePublicKey,
) -> Result<OpenedObject, OpenError> {
    Opening::new(header, identities)?.into_vec(payload, expected, device)
}
