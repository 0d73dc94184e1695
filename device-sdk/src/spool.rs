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

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use sealcam_keys::EventId;
use sealcam_wire::PartKind;

use crate::state::create_private_dir;
use crate::DeviceError;

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

    /// Starts writing a new object.
    pub(crate) fn stage(
        &mut self,
        event: EventId,
        kind: PartKind,
        captured_at: i64,
        header_len: u64,
    ) -> Result<Staged, DeviceError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let tmp = self.dir.join(format!(".{seq:016x}.{kind}.partial"));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(DeviceError::io(&tmp))?;
        let mut prefix = Vec::with_capacity(PREFIX_LEN as usize);
        prefix.extend_from_slice(MAGIC);
        prefix.extend_from_slice(&event.to_bytes());
        prefix.push(kind_byte(kind));
        prefix.extend_from_slice(&captured_at.to_le_bytes());
        prefix.extend_from_slice(&header_len.to_le_bytes());
        if let Err(e) = file.write_all(&prefix) {
            let _ = fs::remove_file(&tmp);
            return Err(DeviceError::io(&tmp)(e));
        }
        Ok(Staged {
            file: Some(file),
            tmp,
            seq,
            event,
            kind,
            captured_at,
            header_len,
            written: 0,
            cap: self.limits.max_bytes,
            overflowed: false,
        })
    }

    /// Commits a staged object: makes room (evicting per the policy), then
    /// makes it durable. Returns the losses, which may include the object
    /// itself when it cannot fit.
    pub(crate) fn commit(&mut self, mut staged: Staged) -> Result<Vec<Loss>, DeviceError> {
        let mut losses = Vec::new();
        let object_len = staged.written;
        if staged.overflowed || object_len > self.limits.max_bytes {
            staged.discard();
            losses.push(Loss {
                event: staged.event,
                kind: staged.kind,
                bytes: object_len,
                reason: LossReason::TooLarge,
            });
            return Ok(losses);
        }
        // Make room: oldest clips first, then (only for a thumbnail or record)
        // the oldest thumbnails and records.
        let fits = |s: &Self| {
            s.bytes() + object_len <= s.limits.max_bytes && s.entries.len() < s.limits.max_entries
        };
        while !fits(self) {
            let victim = self
                .entries
                .iter()
                .position(|e| e.kind == PartKind::Clip)
                .or_else(|| {
                    (staged.kind != PartKind::Clip && !self.entries.is_empty()).then_some(0)
                });
            let Some(i) = victim else {
                // A clip that does not fit beside the kept thumbnails and records.
                staged.discard();
                losses.push(Loss {
                    event: staged.event,
                    kind: staged.kind,
                    bytes: object_len,
                    reason: LossReason::Evicted,
                });
                return Ok(losses);
            };
            let e = self.entries.remove(i);
            let _ = fs::remove_file(&e.path);
            losses.push(Loss {
                event: e.event,
                kind: e.kind,
                bytes: e.object_len,
                reason: LossReason::Evicted,
            });
        }
        let path = self
            .dir
            .join(format!("{:016x}.{}.sealed", staged.seq, staged.kind));
        let Some(file) = staged.file.take() else {
            return Err(DeviceError::io(&staged.tmp)(io::Error::other(
                "staged file already closed",
            )));
        };
        let durable = (|| {
            file.sync_all()?;
            drop(file);
            fs::rename(&staged.tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        })();
        if let Err(e) = durable {
            let _ = fs::remove_file(&staged.tmp);
            let _ = fs::remove_file(&path);
            return Err(DeviceError::io(&path)(e));
        }
        self.entries.push(SpoolEntry {
            seq: staged.seq,
            path,
            event: staged.event,
            kind: staged.kind,
            captured_at: staged.captured_at,
            header_len: staged.header_len,
            object_len,
        });
        Ok(losses)
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

/// An object being written to the spool (`.partial` until committed).
#[derive(Debug)]
pub(crate) struct Staged {
    file: Option<File>,
    tmp: PathBuf,
    seq: u64,
    event: EventId,
    kind: PartKind,
    captured_at: i64,
    header_len: u64,
    written: u64,
    cap: u64,
    overflowed: bool,
}

impl Staged {
    /// Deletes the partial file.
    pub fn discard(&mut self) {
        self.file = None;
        let _ = fs::remove_file(&self.tmp);
    }

    /// Whether the object outgrew the spool (its bytes are no longer kept).
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Appends sealed bytes. Past the spool's size it stops keeping them
    /// (and frees the disk) instead of failing: the caller may still be
    /// uploading the same bytes.
    pub fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.written += data.len() as u64;
        if self.overflowed {
            return Ok(());
        }
        if self.written > self.cap {
            self.overflowed = true;
            self.discard();
            return Ok(());
        }
        match self.file.as_mut() {
            Some(f) => f.write_all(data),
            None => Ok(()),
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.discard();
        }
    }
}

/// Reads through `inner` and keeps a copy of every byte in a staged spool file.
pub(crate) struct Tee<'a, R> {
    pub inner: R,
    pub staged: &'a mut Staged,
    /// A failure to write the copy (the upload goes on; the copy is lost).
    pub stage_error: Option<io::Error>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.stage_error.is_none() {
            if let Err(e) = self.staged.append(&buf[..n]) {
                self.staged.discard();
                self.staged.overflowed = true;
                self.stage_error = Some(e);
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(spool: &mut Spool, kind: PartKind, len: usize) -> (EventId, Vec<Loss>) {
        let event = EventId::now_v7();
        let mut s = spool.stage(event, kind, 1_700_000_000, 10).unwrap();
        s.append(&vec![7u8; len]).unwrap();
        (event, spool.commit(s).unwrap())
    }

    #[test]
    fn survives_reopen_in_order_and_drops_partials() {
        let dir = tempfile::tempdir().unwrap();
        let limits = SpoolLimits::default();
        let mut spool = Spool::open(dir.path(), limits).unwrap();
        let (a, _) = put(&mut spool, PartKind::Thumbnail, 100);
        let (b, _) = put(&mut spool, PartKind::Clip, 1000);
        let mut partial = spool
            .stage(EventId::now_v7(), PartKind::Clip, 0, 10)
            .unwrap();
        partial.append(b"half").unwrap();
        std::mem::forget(partial); // a crash: the partial file stays
        drop(spool);
        let spool = Spool::open(dir.path(), limits).unwrap();
        let got: Vec<_> = spool.entries().iter().map(|e| (e.event, e.kind)).collect();
        assert_eq!(got, vec![(a, PartKind::Thumbnail), (b, PartKind::Clip)]);
        assert_eq!(spool.entries()[1].object_len, 1000);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
        let mut body = Vec::new();
        spool.entries()[0]
            .open_object()
            .unwrap()
            .read_to_end(&mut body)
            .unwrap();
        assert_eq!(body, vec![7u8; 100]);
    }

    #[test]
    fn full_spool_evicts_oldest_clips_first_and_keeps_thumbnails_and_records() {
        let dir = tempfile::tempdir().unwrap();
        let limits = SpoolLimits {
            max_bytes: 1000,
            max_entries: 100,
        };
        let mut spool = Spool::open(dir.path(), limits).unwrap();
        let (t1, _) = put(&mut spool, PartKind::Thumbnail, 100);
        let (c1, _) = put(&mut spool, PartKind::Clip, 400);
        let (r1, _) = put(&mut spool, PartKind::Record, 50);
        let (c2, _) = put(&mut spool, PartKind::Clip, 400);
        // 950 used; a new 300-byte clip evicts the oldest clip only.
        let (c3, losses) = put(&mut spool, PartKind::Clip, 300);
        assert_eq!(losses.len(), 1);
        assert_eq!(
            (losses[0].event, losses[0].reason),
            (c1, LossReason::Evicted)
        );
        // A clip larger than the spool is lost at once.
        let (big, losses) = put(&mut spool, PartKind::Clip, 2000);
        assert_eq!(
            (losses[0].event, losses[0].reason),
            (big, LossReason::TooLarge)
        );
        // A thumbnail that needs room evicts clips (c2, then c3) before any thumbnail.
        let (t2, losses) = put(&mut spool, PartKind::Thumbnail, 700);
        let evicted: Vec<_> = losses.iter().map(|l| l.event).collect();
        assert_eq!(evicted, vec![c2, c3]);
        let kept: Vec<_> = spool.entries().iter().map(|e| e.event).collect();
        assert_eq!(kept, vec![t1, r1, t2]);
        // A clip that cannot fit beside the thumbnails and records is dropped, not them.
        let (c4, losses) = put(&mut spool, PartKind::Clip, 300);
        assert_eq!((losses[0].event, losses[0].kind), (c4, PartKind::Clip));
        assert_eq!(spool.entries().len(), 3);
        // Records then evict the oldest thumbnail/record when nothing else is left.
        let (_, losses) = put(&mut spool, PartKind::Record, 200);
        assert_eq!(losses[0].event, t1);
    }
}
