//! Opening: a viewer checks that an object is addressed to it (S2), is the
//! object it asked for (S2), and was made by the pinned camera, unaltered (S3).
//!
//! [`Opening`] and [`Opened`] are the sans-I/O core: they say which byte
//! ranges of the payload they need and check what they are given, so an app
//! can fetch with async HTTP range requests. [`open`] (random access,
//! every released byte verified), [`StreamOpener`] (sequential, the end
//! verifies) and [`open_to_vec`] (verifies before returning anything) are
//! built on it.

use std::ops::Range;

use age_core::format::FileKey;
use sealcam_keys::{DevicePublicKey, SlotHintKey, ViewerIdentity};

use crate::age_header::{binding_tag, payload_key, AgeHeader};
use crate::stream::{ChunkCipher, Geometry, CHUNK, ENC_CHUNK, NONCE};
use crate::trailer::{self, signed_len};
use crate::{Binding, Misdelivery, ObjectMeta, OpenError};

mod copy;
mod opened;
mod reader;
mod stream;

pub use opened::Opened;
pub use reader::{open, open_to_vec, to_io, OpenedObject, RangeSource, Seekable, VerifiedReader};
pub use stream::StreamOpener;

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

/// Chunk 0 as verification left it: its plaintext, the range of it that is
/// body, and that range's body offset.
pub(super) struct FirstChunk {
    pub(super) plain: Vec<u8>,
    pub(super) body: Range<usize>,
    pub(super) offset: u64,
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
        Self::with_hint(header, identities, None)
    }

    /// [`new`](Self::new), trying the slot `hint` names first: the hint key
    /// this viewer shares with the camera that sealed the object
    /// ([`SlotHintKey::for_camera`]). A wrong or missing hint costs time,
    /// never the result.
    pub fn with_hint(
        header: &[u8],
        identities: &[&ViewerIdentity],
        hint: Option<&SlotHintKey>,
    ) -> Result<Self, OpenError> {
        let parsed = AgeHeader::parse(header)?;
        if parsed.len() != header.len() {
            return Err(OpenError::Header("bytes after the header"));
        }
        let file_key = parsed.unwrap_viewer(identities, hint)?;
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
            &first[NONCE..],
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
        self.verify_checked(payload_len, first, trailer_ct, expected, device)
            .map(|(opened, _)| opened)
    }

    /// [`verify`](Self::verify) once [`check_payload`](Self::check_payload)
    /// passed on `first` and the lengths were checked (for [`open`], which
    /// checks the payload before it reads the trailer). Also returns chunk 0,
    /// decrypted and checked, so that a reader need not open it again.
    pub(super) fn verify_checked(
        self,
        payload_len: u64,
        first: &[u8],
        trailer_ct: &[u8],
        expected: &Binding,
        device: &DevicePublicKey,
    ) -> Result<(Opened, FirstChunk), OpenError> {
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
        let (body, offset) = opened.check_plain(0, &chunk0)?;
        Ok((
            opened,
            FirstChunk {
                plain: chunk0,
                body,
                offset,
            },
        ))
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
    chunk0: &[u8],
    header_checked: bool,
) -> OpenError {
    let cipher = ChunkCipher::new(&payload_key(file_key, bound));
    // The payload's length may be another object's too: try it as the last
    // chunk and as a middle one, each on its own copy (a chunk that does not
    // authenticate is left unspecified).
    if [true, false]
        .into_iter()
        .any(|last| cipher.open(0, last, &mut chunk0.to_vec()).is_some())
    {
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
