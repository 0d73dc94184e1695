//! Sealing: a camera turns a thumbnail, clip or event record into a header and
//! a payload, with constant memory whatever the length.

use std::io::{self, Read, Write};

use sealcam_keys::{DeviceKey, VerifiedRecipientSet, ViewerRecipient};

use crate::age_header::{new_file_key, payload_key, write_header, SlotRecipient};
use crate::padding::padded_len;
use crate::stream::{ChunkCipher, CHUNK, ENC_CHUNK, NONCE, TAG};
use crate::{trailer, ObjectMeta, PartKind, SealError};

mod pipeline;

/// Starts sealing one object: wraps a fresh file key to the recipients and
/// writes the age header (small, in memory). Then
/// [`payload`](Self::payload) streams the payload.
///
/// ```
/// # use sealcam_keys::*;
/// # use sealcam_format::*;
/// # let owner_key = OwnerSigningKey::generate();
/// # let (owner, camera) = (OwnerId::random(), CameraId::random());
/// # let viewer = ViewerIdentity::generate();
/// # let pin = RecipientSetPin { owner, camera, owner_key: owner_key.public() };
/// # let set = RecipientSet::new(owner, camera, 1, vec![viewer.to_public()])?.sign(&owner_key).verify(&pin)?;
/// let device = DeviceKey::generate();
/// let binding = Binding { owner, camera, event: EventId::now_v7(), kind: PartKind::Thumbnail, sequence: 0 };
/// let meta = ObjectMeta { binding, captured_at_ms: 1_764_000_000_000, epoch: 0, followed: None, content_type: "image/jpeg".into() };
/// let sealer = Sealer::new(&set, &device, meta)?;
/// let header = sealer.header().to_vec();
/// let mut payload = Vec::new();
/// let mut w = sealer.payload(&mut payload)?;
/// w.write_all(b"\xff\xd8 a jpeg")?;
/// w.finish()?;
///
/// let opened = open_to_vec(&header, &payload, &[&viewer], &binding, &device.public())?;
/// assert_eq!(opened.body, b"\xff\xd8 a jpeg");
/// # use std::io::Write;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Sealer<'k> {
    header: Vec<u8>,
    nonce: [u8; NONCE],
    cipher: ChunkCipher,
    inner: Vec<u8>,
    kind: PartKind,
    key: &'k DeviceKey,
}

impl<'k> Sealer<'k> {
    /// Seals to a verified recipient set. `meta.epoch` is replaced by the set's
    /// epoch; the binding must name the set's owner and camera.
    pub fn new(
        set: &VerifiedRecipientSet,
        key: &'k DeviceKey,
        mut meta: ObjectMeta,
    ) -> Result<Self, SealError> {
        if set.set().owner() != meta.binding.owner || set.set().camera() != meta.binding.camera {
            return Err(SealError::WrongCamera);
        }
        meta.epoch = set.epoch();
        Self::with_recipients(set.recipients(), key, meta)
    }

    /// Seals to an explicit list of recipients, each stanza at a random
    /// slot (owner tooling and tests; cameras use
    /// [`with_slot_recipients`](Self::with_slot_recipients)).
    pub fn with_recipients(
        recipients: &[ViewerRecipient],
        key: &'k DeviceKey,
        meta: ObjectMeta,
    ) -> Result<Self, SealError> {
        Self::with_slot_recipients(&SlotRecipient::unhinted(recipients), key, meta)
    }

    /// Seals to `recipients`, each stanza at the slot its hint key gives
    /// ([`SlotRecipient::hinted`], made once per recipient set), so that each
    /// viewer finds its stanza with one X25519 operation.
    pub fn with_slot_recipients(
        recipients: &[SlotRecipient],
        key: &'k DeviceKey,
        meta: ObjectMeta,
    ) -> Result<Self, SealError> {
        meta.check()?;
        let file_key = new_file_key();
        let mut nonce = [0u8; NONCE];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let header = write_header(&file_key, recipients, &nonce, &meta.binding)?;
        let cipher = ChunkCipher::new(&payload_key(&file_key, &nonce));
        Ok(Self {
            header,
            nonce,
            cipher,
            inner: meta.encode(),
            kind: meta.binding.kind,
            key,
        })
    }

    /// The age header (store it as the object's `header` blob).
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// The sans-I/O payload engine (for async callers).
    pub fn into_engine(self) -> PayloadSealer<'k> {
        PayloadSealer::new(self)
    }

    /// A writer of the payload into `out`: write the body, then `finish`.
    pub fn payload<W: Write>(self, mut out: W) -> io::Result<PayloadWriter<'k, W>> {
        let engine = self.into_engine();
        out.write_all(&engine.nonce)?;
        Ok(PayloadWriter {
            engine,
            out,
            failed: false,
        })
    }
}

/// The payload engine: fill its chunk buffer, write what it hands back.
///
/// After the body, drain the padding with [`pad_chunk`](Self::pad_chunk)
/// until it returns `None`, then [`finish`](Self::finish). Memory is one
/// chunk buffer (64 KiB) plus 32 bytes per 64 KiB of body for the hash list.
pub struct PayloadSealer<'k> {
    nonce: [u8; NONCE],
    cipher: ChunkCipher,
    inner_len: usize,
    inner: Vec<u8>,
    key: &'k DeviceKey,
    buf: Vec<u8>,
    fill: usize,
    index: u64,
    /// The buffer holds a sealed chunk that was handed out.
    emitted: bool,
    signed_len: u64,
    hashes: Vec<[u8; 32]>,
    kind: PartKind,
    /// Set when the body ended: its length and the padding still to write.
    ended: Option<(u64, u64)>,
    /// The current chunk is padding from its first byte.
    zero_piece: bool,
}

/// The BLAKE3 hash of a piece of 65536 zero bytes (a piece of padding).
fn zero_piece_hash() -> [u8; 32] {
    static HASH: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    *HASH.get_or_init(|| trailer::piece_hash(&[0u8; CHUNK]))
}

impl<'k> PayloadSealer<'k> {
    fn new(s: Sealer<'k>) -> Self {
        let mut buf = vec![0u8; ENC_CHUNK];
        let inner_len = s.inner.len();
        buf[..inner_len].copy_from_slice(&s.inner);
        Self {
            nonce: s.nonce,
            cipher: s.cipher,
            inner_len,
            inner: s.inner,
            key: s.key,
            buf,
            fill: inner_len,
            index: 0,
            emitted: false,
            signed_len: inner_len as u64,
            hashes: Vec::new(),
            kind: s.kind,
            ended: None,
            zero_piece: false,
        }
    }

    /// The 16-byte nonce that starts the payload (write it first).
    pub fn nonce(&self) -> &[u8; NONCE] {
        &self.nonce
    }

    /// Free space in the current chunk to fill with body bytes; call
    /// [`advance`](Self::advance) with what was filled. When the chunk is
    /// full this returns an empty slice: call [`seal_full`](Self::seal_full).
    pub fn spare(&mut self) -> &mut [u8] {
        if self.emitted {
            self.emitted = false;
            self.fill = 0;
        }
        &mut self.buf[self.fill..CHUNK]
    }

    /// Records that `n` bytes of [`spare`](Self::spare) were filled.
    pub fn advance(&mut self, n: usize) {
        debug_assert!(self.ended.is_none(), "body bytes after the padding began");
        self.fill += n;
        self.signed_len += n as u64;
        debug_assert!(self.fill <= CHUNK);
    }

    /// When the chunk is full, seals it as a middle chunk (more follows) and
    /// returns the ciphertext to write; `None` if it is not full.
    pub fn seal_full(&mut self) -> Option<&[u8]> {
        if self.emitted || self.fill < CHUNK {
            return None;
        }
        let hash = if std::mem::take(&mut self.zero_piece) {
            zero_piece_hash()
        } else {
            trailer::piece_hash(&self.buf[..CHUNK])
        };
        self.hashes.push(hash);
        Some(self.seal_current(false))
    }

    /// Ends the body (once) and works out the padding: the signed region
    /// grows to the padded length for the part kind (format v2).
    fn end_body(&mut self) -> u64 {
        if let Some((body_len, _)) = self.ended {
            return body_len;
        }
        let n = self.signed_len;
        // Past 2^63 bytes no padding is defined; such a body cannot exist.
        let x = padded_len(self.kind, n).unwrap_or(n);
        let body_len = n - self.inner_len as u64;
        self.ended = Some((body_len, x - n));
        body_len
    }

    /// Ends the body and hands back the next full chunk of padding to write;
    /// `None` once what is left fits in the last chunks, which
    /// [`finish`](Self::finish) returns. Call until `None` after the body.
    pub fn pad_chunk(&mut self) -> Option<&[u8]> {
        self.end_body();
        if !self.emitted && self.fill == CHUNK {
            return self.seal_full();
        }
        if self.emitted {
            self.emitted = false;
            self.fill = 0;
        }
        let left = self.ended.map(|(_, pad)| pad).unwrap_or(0);
        if left == 0 {
            return None;
        }
        let n = ((CHUNK - self.fill) as u64).min(left) as usize;
        self.zero_piece = self.fill == 0 && n == CHUNK;
        self.buf[self.fill..self.fill + n].fill(0);
        self.fill += n;
        self.signed_len += n as u64;
        self.ended = self.ended.map(|(b, pad)| (b, pad - n as u64));
        self.seal_full()
    }

    /// The cipher and the index of the next chunk, for sealing full middle
    /// chunks of body outside the engine; then
    /// [`sealed_outside`](Self::sealed_outside). A body chunk is never the
    /// last: the trailer follows it.
    fn cipher_at(&self) -> (&ChunkCipher, u64) {
        debug_assert!(self.ended.is_none() && (self.emitted || self.fill == 0));
        (&self.cipher, self.index)
    }

    /// Records full chunks sealed outside the engine, by their piece hashes.
    fn sealed_outside(&mut self, hashes: &[[u8; 32]]) {
        self.hashes.extend_from_slice(hashes);
        self.index += hashes.len() as u64;
        self.signed_len += (hashes.len() * CHUNK) as u64;
    }

    /// Marks chunk indices below `index` as spent (sealed outside, perhaps
    /// never recorded because an error cut the body short).
    fn skip_to(&mut self, index: u64) {
        self.index = self.index.max(index);
    }

    /// Whether the next body byte starts a chunk (nothing is buffered).
    fn at_boundary(&mut self) -> bool {
        self.spare();
        self.fill == 0
    }

    /// Puts body bytes (less than a chunk) into the buffer at a boundary.
    fn refill(&mut self, data: &[u8]) {
        let spare = self.spare();
        spare[..data.len()].copy_from_slice(data);
        self.advance(data.len());
    }

    fn seal_current(&mut self, last: bool) -> &[u8] {
        let n = self.fill;
        let tag = self.cipher.seal(self.index, last, &mut self.buf[..n]);
        self.buf[n..n + TAG].copy_from_slice(&tag);
        self.index += 1;
        self.emitted = true;
        &self.buf[..n + TAG]
    }

    /// Appends `data` (the body) and hands every completed chunk to `emit`.
    pub fn write_with(
        &mut self,
        mut data: &[u8],
        emit: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        while !data.is_empty() {
            if let Some(ct) = self.seal_full() {
                emit(ct)?;
            }
            let spare = self.spare();
            let n = spare.len().min(data.len());
            spare[..n].copy_from_slice(&data[..n]);
            self.advance(n);
            data = &data[n..];
        }
        Ok(())
    }

    /// Ends the body: hashes the last piece, appends the signed trailer and
    /// returns the remaining ciphertext (the final chunks).
    pub fn finish(mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 * ENC_CHUNK);
        // Padding a caller did not drain (bounded memory needs the caller to).
        while let Some(ct) = self.pad_chunk() {
            out.extend_from_slice(ct);
        }
        let body_len = self.end_body();
        if self.emitted {
            self.emitted = false;
            self.fill = 0;
        }
        // The last piece of the signed region (a full piece if it ended on a
        // chunk boundary and was not sealed yet).
        if self.fill > 0 {
            self.hashes
                .push(trailer::piece_hash(&self.buf[..self.fill]));
        }
        let trailer = trailer::build(&self.inner, body_len, &self.hashes, self.key);
        let mut rest = &trailer[..];
        while !rest.is_empty() {
            if self.fill == CHUNK {
                out.extend_from_slice(self.seal_current(false));
                self.emitted = false;
                self.fill = 0;
            }
            let n = (CHUNK - self.fill).min(rest.len());
            self.buf[self.fill..self.fill + n].copy_from_slice(&rest[..n]);
            self.fill += n;
            rest = &rest[n..];
        }
        out.extend_from_slice(self.seal_current(true));
        out
    }
}

/// Writes a payload through [`PayloadSealer`] into `W`.
///
/// After an error (from the reader or the output) the writer refuses every
/// later call: the payload is incomplete, and sealing more under the same
/// key could reuse a chunk nonce. Start a new object.
pub struct PayloadWriter<'k, W: Write> {
    engine: PayloadSealer<'k>,
    out: W,
    failed: bool,
}

fn failed_before() -> io::Error {
    io::Error::other("an earlier error left this payload incomplete: seal a new object")
}

impl<W: Write> PayloadWriter<'_, W> {
    /// Reads the whole body from `r` straight into the chunk buffer (no
    /// intermediate copy) and returns the number of body bytes read. Past
    /// the first chunk, with a second core, a helper thread hashes and
    /// encrypts while this one reads and writes ([`pipeline`]).
    pub fn copy_from<R: Read>(&mut self, r: &mut R) -> io::Result<u64> {
        if self.failed {
            return Err(failed_before());
        }
        let result = self.copy_body(r);
        self.failed = result.is_err();
        result
    }

    fn copy_body<R: Read>(&mut self, r: &mut R) -> io::Result<u64> {
        let mut total = 0u64;
        let parallel = pipeline::worth_it();
        loop {
            if let Some(ct) = self.engine.seal_full() {
                self.out.write_all(ct)?;
                if parallel && self.engine.at_boundary() {
                    if let Some(n) = pipeline::copy(&mut self.engine, r, &mut self.out)? {
                        return Ok(total + n);
                    }
                }
            }
            let spare = self.engine.spare();
            let n = match r.read(spare) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.engine.advance(n);
            total += n as u64;
        }
    }

    /// Writes the padding and the final chunks and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        if self.failed {
            return Err(failed_before());
        }
        while let Some(ct) = self.engine.pad_chunk() {
            self.out.write_all(ct)?;
        }
        let mut out = self.out;
        out.write_all(&self.engine.finish())?;
        out.flush()?;
        Ok(out)
    }
}

impl<W: Write> Write for PayloadWriter<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.failed {
            return Err(failed_before());
        }
        let out = &mut self.out;
        let result = self.engine.write_with(data, &mut |ct| out.write_all(ct));
        self.failed = result.is_err();
        result.map(|()| data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Seals `body` from a reader into `payload_out`; returns the header.
pub fn seal<R: Read, W: Write>(
    sealer: Sealer<'_>,
    body: &mut R,
    payload_out: W,
) -> io::Result<(Vec<u8>, W)> {
    let header = sealer.header().to_vec();
    let mut w = sealer.payload(payload_out)?;
    w.copy_from(body)?;
    Ok((header, w.finish()?))
}

#[cfg(feature = "tokio")]
mod async_io {
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

    use super::*;

    /// Seals `body` from an async reader into an async writer with constant
    /// memory; returns the header and the number of payload bytes written.
    pub async fn seal_async<R, W>(
        sealer: Sealer<'_>,
        body: &mut R,
        out: &mut W,
    ) -> io::Result<(Vec<u8>, u64)>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let header = sealer.header().to_vec();
        let mut engine = sealer.into_engine();
        out.write_all(engine.nonce()).await?;
        let mut written = NONCE as u64;
        loop {
            if let Some(ct) = engine.seal_full() {
                out.write_all(ct).await?;
                written += ct.len() as u64;
            }
            let n = body.read(engine.spare()).await?;
            if n == 0 {
                break;
            }
            engine.advance(n);
        }
        while let Some(ct) = engine.pad_chunk() {
            out.write_all(ct).await?;
            written += ct.len() as u64;
        }
        let rest = engine.finish();
        out.write_all(&rest).await?;
        out.flush().await?;
        Ok((header, written + rest.len() as u64))
    }
}

#[cfg(feature = "tokio")]
pub use async_io::seal_async;
