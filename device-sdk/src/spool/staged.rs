//! Writing an object into the spool: staged as a `.partial` file while it
//! is sealed, then committed (room made by the eviction policy, fsynced,
//! renamed) or discarded.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use sealcam_keys::EventId;
use sealcam_wire::PartKind;

use super::{kind_byte, Loss, LossReason, Spool, SpoolEntry, MAGIC, PREFIX_LEN};
use crate::DeviceError;

impl Spool {
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
