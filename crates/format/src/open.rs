//! Opening: a viewer checks that an object is addressed to it (S2), is the
//! object it asked for (S2), and was made by the pinned camera, unaltered (S3).
//!
//! [`Opening`] and [`Opened`] are the sans-I/O core: they say which byte
//! ranges of the payload they need and check what they are given, so an app
//! can fetch with async HTTP range requests. [`open`] (random access,
//! every released byte verified), [`StreamOpener`] (sequential, the end
//! verifies) and [`open_to_vec`] (verifies before returning anything) are
//! built on it.

use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;

use age_core::format::FileKey;
use sealcam_keys::{DevicePublicKey, ViewerIdentity};

use crate::age_header::{binding_tag, payload_key, AgeHeader};
use crate::stream::{ChunkCipher, Geometry, CHUNK, ENC_CHUNK, NONCE};
use crate::trailer::{self, signed_len};
use crate::{Binding, Misdelivery, ObjectMeta, OpenError};

/// First step of opening: the header parsed, the file key unwrapped and the
/// header MAC verified.
pub struct Opening {
    header: AgeHeader,
    file_key: FileKey,
}

impl std::fmt::Debug for Opening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opening")
            .field("header_len", &self.header.len())
            .finish_non_exhaustive()
    }
}

/// The byte ranges of a payload needed to verify it, before any body byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    /// The nonce and the first chunk.
    pub first: Range<u64>,
    /// The chunks that hold the trailer (may overlap `first` for small objects).
    pub trailer: Range<u64>,
}

impl Opening {
    /// Parses the header and unwraps the file key with the viewer's
    /// identities. `NotAddressedToViewer` when it was sealed for others.
    pub fn new(header: &[u8], identities: &[&ViewerIdentity]) -> Result<Self, OpenError> {
        let parsed = AgeHeader::parse(header)?;
        if parsed.len() != header.len() {
            return Err(OpenError::Header("bytes after the header"));
        }
        let ids: Vec<&dyn age::Identity> = identities
            .iter()
            .map(|i| i.as_age() as &dyn age::Identity)
            .collect();
        let file_key = parsed.unwrap(&ids)?;
        Ok(Self {
            header: parsed,
            file_key,
        })
    }

    /// The file key (for re-wrapping this object's header to a new viewer).
    pub fn file_key(&self) -> &FileKey {
        &self.file_key
    }

    /// The parsed header.
    pub fn header(&self) -> &AgeHeader {
        &self.header
    }

    /// Which payload ranges [`verify`](Self::verify) needs. A length that no
    /// object can have still asks for the first bytes, so that `verify` can
    /// tell another object's payload from a truncated one.
    pub fn needed(&self, payload_len: u64) -> Result<Needed, OpenError> {
        let first = 0..payload_len.min((NONCE + ENC_CHUNK) as u64);
        let layout = Geometry::new(payload_len)
            .ok()
            .and_then(|g| Some((signed_len(g.plaintext_len())?, g)));
        let trailer = match layout {
            Some((x, g)) => g.chunk_range(x / CHUNK as u64).start..payload_len,
            None => payload_len..payload_len,
        };
        Ok(Needed { first, trailer })
    }

    /// Checks, before anything of the payload is decrypted, that the header
    /// belongs to the object asked for (version 2: its binding tag) and that
    /// `first` (the start of the payload) is the payload the header names.
    /// Either failure is a misdelivery (S2).
    pub fn check_payload(&self, first: &[u8], expected: &Binding) -> Result<(), OpenError> {
        let Some(bound) = self.header.payload_binding()? else {
            return Ok(());
        };
        if let Some(tag) = bound.tag {
            if binding_tag(&self.file_key, &bound.nonce, expected) != tag {
                return Err(OpenError::Misdelivered(Box::new(
                    Misdelivery::HeaderOfAnotherObject,
                )));
            }
        }
        let nonce = first
            .get(..NONCE)
            .ok_or(OpenError::Truncated("the payload ends inside its nonce"))?;
        if nonce == bound.nonce {
            return Ok(());
        }
        Err(nonce_mismatch(
            &self.file_key,
            &bound.nonce,
            &mut first[NONCE..].to_vec(),
            bound.tag.is_some(),
        ))
    }

    /// Checks the object against what was asked for and the pinned camera
    /// key: `first` and `trailer` are the payload bytes of the ranges from
    /// [`needed`](Self::needed). Nothing of the body is released here.
    pub fn verify(
        self,
        payload_len: u64,
        first: &[u8],
        trailer_ct: &[u8],
        expected: &Binding,
        device: &DevicePublicKey,
    ) -> Result<Opened, OpenError> {
        let needed = self.needed(payload_len)?;
        if first.len() as u64 != needed.first.end
            || trailer_ct.len() as u64 != needed.trailer.end - needed.trailer.start
        {
            return Err(OpenError::Truncated(
                "fewer payload bytes than the payload length",
            ));
        }
        self.check_payload(first, expected)?;
        let g = Geometry::new(payload_len)?;
        let mut nonce = [0u8; NONCE];
        nonce.copy_from_slice(&first[..NONCE]);
        let cipher = ChunkCipher::new(&payload_key(&self.file_key, &nonce));

        let mut chunk0 = first[NONCE..].to_vec();
        let n0 = open_chunk_raw(&cipher, &g, 0, &mut chunk0)?;
        chunk0.truncate(n0);
        let (meta, inner_len, version) = ObjectMeta::parse_versioned(&chunk0)?;
        if meta.binding != *expected {
            return Err(OpenError::Misdelivered(Box::new(Misdelivery::Binding {
                expected: *expected,
                found: meta.binding,
            })));
        }

        let p = g.plaintext_len();
        let x = signed_len(p).ok_or(OpenError::Truncated(
            "the payload is too short for its trailer",
        ))?;
        if x < inner_len as u64 {
            return Err(OpenError::Truncated(
                "the payload ends inside the inner header",
            ));
        }
        // Decrypt the trailer chunks (reusing chunk 0 when it is one of them).
        let first_trailer_chunk = x / CHUNK as u64;
        let mut plain_tail = Vec::with_capacity((p - first_trailer_chunk * CHUNK as u64) as usize);
        for (k, ct) in trailer_ct.chunks(ENC_CHUNK).enumerate() {
            let index = first_trailer_chunk + k as u64;
            if index == 0 {
                plain_tail.extend_from_slice(&chunk0);
            } else {
                let mut buf = ct.to_vec();
                let n = open_chunk_raw(&cipher, &g, index, &mut buf)?;
                plain_tail.extend_from_slice(&buf[..n]);
            }
        }
        let skip = (x - first_trailer_chunk * CHUNK as u64) as usize;
        let tail = plain_tail
            .get(skip..)
            .ok_or(OpenError::Truncated("the trailer is cut"))?;
        let trailer = trailer::verify(tail, &chunk0[..inner_len], meta.binding.kind, x, device)?;

        let opened = Opened {
            cipher,
            geometry: g,
            meta,
            version,
            inner_len: inner_len as u64,
            body_len: trailer.body_len,
            signed_len: x,
            hashes: trailer.hashes,
        };
        // The inner header itself is in piece 0: check it against the signed list.
        opened.check_piece(0, &chunk0)?;
        Ok(opened)
    }
}

/// The header names another nonce than the payload's. If the first chunk
/// opens under the nonce the header names, the payload's nonce bytes were
/// damaged (corrupt); otherwise the payload belongs to another object.
/// `header_checked`: the header was shown to be the asked-for object's
/// (version 2), so the payload is the stranger.
fn nonce_mismatch(
    file_key: &FileKey,
    bound: &[u8; NONCE],
    chunk0: &mut [u8],
    header_checked: bool,
) -> OpenError {
    let cipher = ChunkCipher::new(&payload_key(file_key, bound));
    let mut copy = chunk0.to_vec();
    // The payload's length may be another object's too: try both flags.
    if cipher.open(0, true, chunk0).is_some() || cipher.open(0, false, &mut copy).is_some() {
        OpenError::Corrupt("the payload nonce is damaged")
    } else if header_checked {
        OpenError::Misdelivered(Box::new(Misdelivery::PayloadOfAnotherObject))
    } else {
        OpenError::Misdelivered(Box::new(Misdelivery::HeaderOfAnotherObject))
    }
}

fn open_chunk_raw(
    cipher: &ChunkCipher,
    g: &Geometry,
    index: u64,
    buf: &mut [u8],
) -> Result<usize, OpenError> {
    if g.is_last(index) {
        cipher.open_last(index, buf)
    } else if buf.len() != ENC_CHUNK {
        Err(OpenError::Truncated("a middle chunk is short"))
    } else {
        cipher
            .open(index, false, buf)
            .ok_or(OpenError::Corrupt("a chunk does not authenticate"))
    }
}

/// A verified object: the inner header matched, the signature verified. Every
/// chunk opened through it is checked against the signed hash list.
pub struct Opened {
    cipher: ChunkCipher,
    geometry: Geometry,
    meta: ObjectMeta,
    version: u8,
    inner_len: u64,
    body_len: u64,
    signed_len: u64,
    hashes: Vec<[u8; 32]>,
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

    /// The object format version (1 or 2).
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

    fn check_piece(&self, index: u64, plain: &[u8]) -> Result<(), OpenError> {
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
        self.check_piece(index, &buf[..n])?;
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
    mut payload: S,
    identities: &[&ViewerIdentity],
    expected: &Binding,
    device: &DevicePublicKey,
) -> Result<VerifiedReader<S>, OpenError> {
    let opening = Opening::new(header, identities)?;
    let len = payload.total_len()?;
    let needed = opening.needed(len)?;
    let first = read_range(&mut payload, needed.first.clone())?;
    opening.check_payload(&first, expected)?;
    let trailer = read_range(&mut payload, needed.trailer.clone())?;
    let opened = opening.verify(len, &first, &trailer, expected, device)?;
    Ok(VerifiedReader {
        opened,
        src: payload,
        pos: 0,
        cache: None,
    })
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
    let mut r = open(header, payload, identities, expected, device)?;
    let body = r.read_range(0..r.body_len())?;
    Ok(OpenedObject {
        meta: r.meta().clone(),
        body,
    })
}

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
