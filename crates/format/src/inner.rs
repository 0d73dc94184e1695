//! The inner header: the first bytes of every payload, binding the object to
//! what it is (S2) under the device signature (S3).
//!
//! ```text
//! magic        8  "sealcam\0"
//! version      1  3 when the sealer names the owner key it follows (cameras
//!                 do), else 2; 1 is still read
//! length       2  u16, total inner header length H = 129 + c (v2, v1: 81 + c)
//! owner       16
//! camera      16
//! event       16
//! kind         1  1 thumbnail, 2 clip, 3 event record, 4 live segment
//! sequence     4  u32, part number within the event (0 for single parts)
//! captured_at  8  i64 unix milliseconds
//! epoch        8  u64 recipient-set epoch the object was sealed to
//! key reset    8  u64 } v3 only: the owner key the camera follows, its
//! key gen.     8  u64 } place in the key log (reset, generation)
//! owner key   32       } and its Ed25519 public key
//! c            1  content type length
//! content type c  printable ASCII (e.g. image/jpeg, video/mp4, application/json)
//! ```

use std::fmt;

use sealcam_keys::codec::Reader;
use sealcam_keys::{CameraId, EventId, OwnerId};

use crate::OpenError;

pub(crate) const MAGIC: &[u8; 8] = b"sealcam\x00";
/// The object format version sealers write when they name the owner key
/// they follow ([`ObjectMeta::followed`]), as cameras do; without it they
/// write [`VERSION_2`]. Readers read this, [`VERSION_2`] and [`VERSION_1`].
pub const VERSION: u8 = 3;
/// Padding and recipient slots, but no owner key in the inner header.
/// Objects sealed by earlier releases still open, verify and re-wrap.
pub const VERSION_2: u8 = 2;
/// The first object format version: no padding, one stanza per recipient.
/// Objects sealed by earlier releases still open, verify and re-wrap.
pub const VERSION_1: u8 = 1;
/// The fixed part of a version 2 (and 1) inner header.
const FIXED_LEN_V2: usize = 81;
/// What version 3 adds: the followed owner key's position and key.
const FOLLOWED_LEN: usize = 48;
pub(crate) const FIXED_LEN: usize = FIXED_LEN_V2 + FOLLOWED_LEN;
/// The largest inner header (255 bytes of content type).
pub const MAX_INNER_HEADER_LEN: usize = FIXED_LEN + 255;

/// What part of an event an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PartKind {
    /// A still image shown in the timeline.
    Thumbnail,
    /// The video clip of the event.
    Clip,
    /// The event record: type, labels, duration… as a small document.
    Record,
    /// A segment of a live view session.
    LiveSegment,
}

impl PartKind {
    /// The byte in the inner header.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Thumbnail => 1,
            Self::Clip => 2,
            Self::Record => 3,
            Self::LiveSegment => 4,
        }
    }

    /// Parses the byte of the inner header.
    pub fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::Thumbnail,
            2 => Self::Clip,
            3 => Self::Record,
            4 => Self::LiveSegment,
            _ => return None,
        })
    }

    /// The name used on the wire and in the CLI (`thumbnail`, `clip`, `record`, `live`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Thumbnail => "thumbnail",
            Self::Clip => "clip",
            Self::Record => "record",
            Self::LiveSegment => "live",
        }
    }
}

impl fmt::Display for PartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PartKind {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "thumbnail" => Self::Thumbnail,
            "clip" => Self::Clip,
            "record" => Self::Record,
            "live" => Self::LiveSegment,
            _ => return Err("expected thumbnail, clip, record or live"),
        })
    }
}

/// Which object this is: what a viewer asks for and checks before it shows
/// anything (S2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Binding {
    /// The owner.
    pub owner: OwnerId,
    /// The camera that recorded it.
    pub camera: CameraId,
    /// The event it belongs to.
    pub event: EventId,
    /// Which part of the event.
    pub kind: PartKind,
    /// The part number within the event (0 for single parts).
    pub sequence: u32,
}

impl Binding {
    /// The binding's fields as the inner header writes them (owner, camera,
    /// event, kind, sequence): 53 bytes.
    pub(crate) fn to_bytes(self) -> [u8; 53] {
        let mut out = [0u8; 53];
        out[..16].copy_from_slice(&self.owner.to_bytes());
        out[16..32].copy_from_slice(&self.camera.to_bytes());
        out[32..48].copy_from_slice(&self.event.to_bytes());
        out[48] = self.kind.to_byte();
        out[49..].copy_from_slice(&self.sequence.to_le_bytes());
        out
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} #{} of event {} (camera {}, owner {})",
            self.kind, self.sequence, self.event, self.camera, self.owner
        )
    }
}

/// The owner key a camera follows, as its objects name it (format v3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FollowedKey {
    /// Its place in the owner's key log: `(reset, generation)`.
    pub position: (u64, u64),
    /// The key: an Ed25519 public key's 32 bytes, compared with the key log,
    /// never used to verify anything.
    pub key: [u8; 32],
}

/// Everything the inner header says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// What the object is.
    pub binding: Binding,
    /// When it was captured, unix milliseconds.
    pub captured_at_ms: i64,
    /// The recipient-set epoch it was sealed to.
    pub epoch: u64,
    /// The owner key the camera followed when it sealed (format v3; `None`
    /// in objects of versions 2 and 1). A camera that followed a rotation
    /// says so in every object it seals afterwards, under its signature, so
    /// an owner device that the server keeps on a retired key, or on a
    /// forked one, can tell.
    pub followed: Option<FollowedKey>,
    /// The media type of the body.
    pub content_type: String,
}

impl ObjectMeta {
    pub(crate) fn check(&self) -> Result<(), crate::SealError> {
        let ct = self.content_type.as_bytes();
        if ct.len() > 255 || !ct.iter().all(|c| (0x20..=0x7e).contains(c)) {
            return Err(crate::SealError::ContentType);
        }
        Ok(())
    }

    /// The encoded inner header. `check` must have passed.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let ct = self.content_type.as_bytes();
        let (version, fixed) = match self.followed {
            Some(_) => (VERSION, FIXED_LEN),
            None => (VERSION_2, FIXED_LEN_V2),
        };
        let len = fixed + ct.len();
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(MAGIC);
        out.push(version);
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&self.binding.owner.to_bytes());
        out.extend_from_slice(&self.binding.camera.to_bytes());
        out.extend_from_slice(&self.binding.event.to_bytes());
        out.push(self.binding.kind.to_byte());
        out.extend_from_slice(&self.binding.sequence.to_le_bytes());
        out.extend_from_slice(&self.captured_at_ms.to_le_bytes());
        out.extend_from_slice(&self.epoch.to_le_bytes());
        if let Some(f) = &self.followed {
            out.extend_from_slice(&f.position.0.to_le_bytes());
            out.extend_from_slice(&f.position.1.to_le_bytes());
            out.extend_from_slice(&f.key);
        }
        out.push(ct.len() as u8);
        out.extend_from_slice(ct);
        out
    }

    /// Parses an inner header at the start of `plain`; returns it and its
    /// length. Untrusted input.
    pub fn parse(plain: &[u8]) -> Result<(Self, usize), OpenError> {
        Self::parse_versioned(plain).map(|(meta, len, _)| (meta, len))
    }

    /// As [`parse`](Self::parse), with the format version.
    pub(crate) fn parse_versioned(plain: &[u8]) -> Result<(Self, usize, u8), OpenError> {
        let trunc = |_| OpenError::Truncated("the payload ends inside the inner header");
        let mut r = Reader::new(plain);
        if r.take(8).map_err(trunc)? != MAGIC {
            return Err(OpenError::Corrupt("not a sealcam object (bad inner magic)"));
        }
        let version = r.u8().map_err(trunc)?;
        if ![VERSION, VERSION_2, VERSION_1].contains(&version) {
            return Err(OpenError::UnsupportedVersion(version));
        }
        let len = r.u16().map_err(trunc)? as usize;
        let owner = OwnerId::from_bytes(r.array().map_err(trunc)?);
        let camera = CameraId::from_bytes(r.array().map_err(trunc)?);
        let event = EventId::from_bytes(r.array().map_err(trunc)?);
        let kind = PartKind::from_byte(r.u8().map_err(trunc)?)
            .ok_or(OpenError::Corrupt("unknown part kind"))?;
        let sequence = r.u32().map_err(trunc)?;
        let captured_at_ms = r.i64().map_err(trunc)?;
        let epoch = r.u64().map_err(trunc)?;
        let followed = if version == VERSION {
            Some(FollowedKey {
                position: (r.u64().map_err(trunc)?, r.u64().map_err(trunc)?),
                key: r.array().map_err(trunc)?,
            })
        } else {
            None
        };
        let ct = r.bytes8().map_err(trunc)?;
        if len != r.position() {
            return Err(OpenError::Corrupt("inner header length mismatch"));
        }
        if !ct.iter().all(|c| (0x20..=0x7e).contains(c)) {
            return Err(OpenError::Corrupt("content type is not printable ASCII"));
        }
        let content_type = String::from_utf8_lossy(ct).into_owned();
        let binding = Binding {
            owner,
            camera,
            event,
            kind,
            sequence,
        };
        Ok((
            Self {
                binding,
                captured_at_ms,
                epoch,
                followed,
                content_type,
            },
            len,
            version,
        ))
    }
}
