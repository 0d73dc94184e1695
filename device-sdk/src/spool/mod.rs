//! The offline spool: sealed objects (never plaintext) waiting for the server.
//!
//! One file per part, named `<seq>.<kind>.sealed` with a 16-hex-digit
//! sequence number that orders the spool oldest first:
//!
//! ```text
//! magic        8  "SCSPOOL\x01"
//! event       16  the event id
//! kind         1  1 thumbnail, 2 clip, 3 record
//! captured_at  8  i64 unix seconds (the upload's query)
//! header_len   8  u64 length of the age header at the start of the object
//! object       …  header ‖ payload, exactly the bytes of the upload body
//! ```
//!
//! A file is written as `.<seq>.<kind>.partial`, fsynced, renamed, and the
//! directory fsynced; partial files left by a crash are removed at open. The
//! sealed bytes are kept as they are, so a re-upload after a crash sends the
//! very same bytes and the server stores the part once.
//!
//! The spool is bounded ([`SpoolLimits`]). When a new object does not fit,
//! the oldest clips go first; thumbnails and event records are kept longest
//! and evicted (oldest first) only when no clip is left. Every loss is
//! reported as a [`Loss`].
mod staged;
#[cfg(test)]
mod tests;

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sealcam_keys::EventId;
use sealcam_wire::PartKind;

use crate::state::create_private_dir;
use crate::DeviceError;

pub(crate) use staged::{Staged, Tee};

const MAGIC: &[u8; 8] = b"SCSPOOL\x01";
/// Length of the spool file prefix before the object.
pub(crate) const PREFIX_LEN: u64 = 8 + 16 + 1 + 8 + 8;

/// How much the spool may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolLimits {
    /// Total bytes of spooled objects.
    pub max_bytes: u64,
    /// Number of spooled objects.
    pub max_entries: usize,
}

impl Default for SpoolLimits {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024 * 1024,
            max_entries: 10_000,
        }
    }
}

/// Why a spooled or about-to-be-spooled object was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LossReason {
    /// Evicted to make room for a newer object.
    Evicted,
    /// The object alone is larger than the spool.
    TooLarge,
    /// The server refused it for good (400, 404, 409, 413…).
    Rejected {
        /// The HTTP status.
        status: u16,
    },
}

/// An object that will never reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loss {
    /// The event it belonged to.
    pub event: EventId,
    /// Which part it was.
    pub kind: PartKind,
    /// Its sealed size.
    pub bytes: u64,
    /// Why it was lost.
    pub reason: LossReason,
}

/// One spooled object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolEntry {
    seq: u64,
    path: PathBuf,
    /// The event.
    pub event: EventId,
    /// The part.
    pub kind: PartKind,
    /// Capture time, unix seconds.
    pub captured_at: i64,
    /// Length of the age header.
    pub header_len: u64,
    /// Length of the sealed object (header ‖ payload).
    pub object_len: u64,
}

impl SpoolEntry {
    /// Its place in the spool (unique, growing).
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Opens the object for reading, positioned after the spool prefix.
    pub(crate) fn open_object(&self) -> Result<io::Take<File>, DeviceError> {
        let mut f = File::open(&self.path).map_err(DeviceError::io(&self.path))?;
        f.seek(SeekFrom::Start(PREFIX_LEN))
            .map_err(DeviceError::io(&self.path))?;
        Ok(f.take(self.object_len))
    }
}

fn kind_byte(kind: PartKind) -> u8 {
    match kind {
        PartKind::Thumbnail => 1,
        PartKind::Clip => 2,
        PartKind::Record => 3,
    }
}

fn kind_from_byte(b: u8) -> Option<PartKind> {
    Some(match b {
        1 => PartKind::Thumbnail,
        2 => PartKind::Clip,
        3 => PartKind::Record,
        _ => return None,
    })
}

/// The spool directory.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    limits: SpoolLimits,
    /// Oldest first.
    entries: Vec<SpoolEntry>,
    next_seq: u64,
}

impl Spool {
    /// Opens the spool, removing partial files a crash left behind and
    /// files that are not well-formed spool entries.
    pub fn open(dir: &Path, limits: SpoolLimits) -> Result<Self, DeviceError> {
        create_private_dir(dir)?;
        let mut entries = Vec::new();
        let mut next_seq = 0u64;
        for item in fs::read_dir(dir).map_err(DeviceError::io(dir))? {
            let item = item.map_err(DeviceError::io(dir))?;
            let path = item.path();
            let name = item.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".partial") {
                let _ = fs::remove_file(&path);
                continue;
            }
            let Some(seq) = name
                .strip_suffix(".sealed")
                .and_then(|n| n.split('.').next())
                .and_then(|s| u64::from_str_radix(s, 16).ok())
            else {
                continue;
            };
            next_seq = next_seq.max(seq + 1);
            match read_entry(&path, seq) {
                Ok(entry) => entries.push(entry),
                // A damaged file cannot be uploaded: the server would store
                // garbage that no viewer can open. Drop it.
                Err(_) => {
                    let _ = fs::remove_file(&path);
                }
            }
        }
        entries.sort_by_key(|e| e.seq);
        Ok(Self {
            dir: dir.to_owned(),
            limits,
            entries,
            next_seq,
        })
    }

    /// Spooled objects, oldest first.
    pub fn entries(&self) -> &[SpoolEntry] {
        &self.entries
    }

    /// The oldest spooled object.
    pub fn oldest(&self) -> Option<&SpoolEntry> {
        self.entries.first()
    }

    /// Whether nothing is spooled.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total sealed bytes spooled.
    pub fn bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.object_len).sum()
    }

    /// The limits.
    pub fn limits(&self) -> SpoolLimits {
        self.limits
    }

    /// Removes a delivered (or refused) object.
    pub(crate) fn remove(&mut self, entry: &SpoolEntry) -> Result<(), DeviceError> {
        self.entries.retain(|e| e.seq != entry.seq);
        match fs::remove_file(&entry.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(DeviceError::io(&entry.path)(e)),
        }
    }
}

fn read_entry(path: &Path, seq: u64) -> io::Result<SpoolEntry> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    let mut prefix = [0u8; PREFIX_LEN as usize];
    f.read_exact(&mut prefix)?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "not a spool entry");
    if &prefix[..8] != MAGIC {
        return Err(bad());
    }
    let mut event = [0u8; 16];
    event.copy_from_slice(&prefix[8..24]);
    let kind = kind_from_byte(prefix[24]).ok_or_else(bad)?;
    let mut n8 = [0u8; 8];
    n8.copy_from_slice(&prefix[25..33]);
    let captured_at = i64::from_le_bytes(n8);
    n8.copy_from_slice(&prefix[33..41]);
    let header_len = u64::from_le_bytes(n8);
    let object_len = len - PREFIX_LEN;
    if header_len == 0 || header_len >= object_len {
        return Err(bad());
    }
    Ok(SpoolEntry {
        seq,
        path: path.to_owned(),
        event: EventId::from_bytes(event),
        kind,
        captured_at,
        header_len,
        object_len,
    })
}
