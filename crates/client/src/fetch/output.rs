//! Fetching into a file or a writer, two-phase: the verified ciphertext is
//! spooled first, then decrypted, so no plaintext is written unless the
//! whole range verified. A small part (a thumbnail, a record) is read whole
//! in one request and verified in memory before anything is written.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write};
use std::ops::Range;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use rand::RngCore as _;
use sealcam_keys::{CameraId, EventId};
use sealcam_wire::PartKind;
use zeroize::Zeroizing;

use super::open::payload_len;
use super::remote::append_overlap;
use super::{clamp_range, FetchOutcome, OpenedPart, Progress, ProgressFn, RemoteObject};
use crate::client::Client;
use crate::error::{ClientError, Result};

/// Parts whose payload is at most this long are read whole, in one request
/// ([`Client::open_small`]), instead of header, verification ranges and
/// chunks one request each.
const WHOLE_UP_TO: u64 = 1 << 20;

impl Client {
    /// A small part of `event`, opened whole and verified in memory: `None`
    /// when the part is larger than [`WHOLE_UP_TO`] or only a `range` of it
    /// is wanted (then only the chunks that hold it are read).
    async fn small_part(
        &self,
        event: EventId,
        kind: PartKind,
        range: Option<&Range<u64>>,
    ) -> Result<Option<OpenedPart>> {
        if range.is_some() {
            return Ok(None);
        }
        let info = self.api().event(*event.as_uuid()).await?;
        let len = payload_len(&info.parts, event, kind)?;
        if len > WHOLE_UP_TO {
            return Ok(None);
        }
        // The server's camera id only chooses which pinned key to use: the
        // object must be signed by it and bind to it.
        let camera = CameraId::from(info.camera_id);
        Ok(Some(self.open_small(event, camera, kind, len).await?))
    }

    /// Fetches, verifies and decrypts a part (or the body `range` of it) into
    /// `out`. The file appears only once everything verified; on any failure
    /// nothing is left behind.
    pub async fn fetch_to_path(
        &self,
        event: EventId,
        kind: PartKind,
        range: Option<Range<u64>>,
        out: &Path,
        progress: ProgressFn<'_>,
    ) -> Result<FetchOutcome> {
        if let Some(part) = self.small_part(event, kind, range.as_ref()).await? {
            let range = clamp_range(range, part.body.len() as u64)?;
            let tmp = TempFile::create(beside(out, &random_tag(), "part"))?;
            {
                let mut w = tmp.file()?;
                w.write_all(&part.body[range.start as usize..range.end as usize])
                    .and_then(|()| w.sync_all())
                    .map_err(ClientError::io(&tmp.path))?;
            }
            tmp.persist(out)?;
            return Ok(small_outcome(&part, kind, range, Some(out.to_owned())));
        }
        let obj = self.open_part(event, kind).await?;
        let range = obj.clamp(range)?;
        let tag = random_tag();
        let spool = TempFile::create(beside(out, &tag, "sealed"))?;
        let plain = TempFile::create(beside(out, &tag, "part"))?;
        obj.download_verified(range.clone(), &spool, progress)
            .await?;
        {
            let mut w = plain.file()?;
            obj.decrypt_spool(range.clone(), &spool, &mut w, progress)?;
            w.sync_all().map_err(ClientError::io(&plain.path))?;
        }
        plain.persist(out)?;
        drop(spool);
        Ok(obj.outcome(range, Some(out.to_owned())))
    }

    /// Like [`fetch_to_path`](Self::fetch_to_path) but writes to `out` (for
    /// example stdout) once everything verified. The ciphertext is spooled in
    /// the system's temporary directory.
    pub async fn fetch_to_writer(
        &self,
        event: EventId,
        kind: PartKind,
        range: Option<Range<u64>>,
        out: &mut (dyn Write + Send),
        progress: ProgressFn<'_>,
    ) -> Result<FetchOutcome> {
        if let Some(part) = self.small_part(event, kind, range.as_ref()).await? {
            let range = clamp_range(range, part.body.len() as u64)?;
            out.write_all(&part.body[range.start as usize..range.end as usize])
                .and_then(|()| out.flush())
                .map_err(ClientError::io("<output>"))?;
            return Ok(small_outcome(&part, kind, range, None));
        }
        let obj = self.open_part(event, kind).await?;
        let range = obj.clamp(range)?;
        let spool = TempFile::create(
            std::env::temp_dir().join(format!(".sealcam-{}.sealed", random_tag())),
        )?;
        obj.download_verified(range.clone(), &spool, progress)
            .await?;
        obj.decrypt_spool(range.clone(), &spool, out, progress)?;
        out.flush().map_err(ClientError::io("<output>"))?;
        Ok(obj.outcome(range, None))
    }
}

/// A hidden name beside `out` for a temporary file: `.<name>.<tag>.<ext>`.
fn beside(out: &Path, tag: &str, ext: &str) -> PathBuf {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sealcam".into());
    dir.join(format!(".{name}.{tag}.{ext}"))
}

fn small_outcome(
    part: &OpenedPart,
    kind: PartKind,
    range: Range<u64>,
    path: Option<PathBuf>,
) -> FetchOutcome {
    let meta = &part.meta;
    FetchOutcome {
        event_id: meta.binding.event,
        camera_id: meta.binding.camera,
        kind,
        content_type: meta.content_type.clone(),
        captured_at_ms: meta.captured_at_ms,
        epoch: meta.epoch,
        range,
        body_len: part.body.len() as u64,
        path,
    }
}

impl RemoteObject {
    /// Phase 1: the ciphertext of the chunks holding `range` into `spool`,
    /// each chunk verified (its plaintext discarded) as it arrives.
    async fn download_verified(
        &self,
        range: Range<u64>,
        spool: &TempFile,
        progress: ProgressFn<'_>,
    ) -> Result<()> {
        let chunks = self.opened.chunks_for(range);
        let ct = self.opened.ciphertext_range(chunks.clone());
        let total = ct.end - ct.start;
        let mut file = spool.file()?;
        let mut done = 0u64;
        progress(Progress::Downloading { done, total });
        let opened = &self.opened;
        let path = spool.path.clone();
        self.for_each_chunk(chunks, &mut |index, ct| {
            let mut check = Zeroizing::new(ct.to_vec());
            opened
                .open_chunk(index, &mut check)
                .map_err(ClientError::from_open)?;
            file.write_all(ct).map_err(ClientError::io(&path))?;
            done += ct.len() as u64;
            progress(Progress::Downloading { done, total });
            Ok(())
        })
        .await?;
        file.sync_all().map_err(ClientError::io(&spool.path))
    }

    /// Phase 2: decrypts the verified spool into `out` (each chunk checked again).
    fn decrypt_spool(
        &self,
        range: Range<u64>,
        spool: &TempFile,
        out: &mut dyn Write,
        progress: ProgressFn<'_>,
    ) -> Result<()> {
        let chunks = self.opened.chunks_for(range.clone());
        let mut file = File::open(&spool.path).map_err(ClientError::io(&spool.path))?;
        let total = range.end - range.start;
        let mut done = 0u64;
        let mut piece = Vec::new();
        progress(Progress::Writing { done, total });
        for index in chunks {
            let r = self.opened.ciphertext_range(index..index + 1);
            let mut buf = Zeroizing::new(vec![0u8; (r.end - r.start) as usize]);
            file.read_exact(&mut buf)
                .map_err(ClientError::io(&spool.path))?;
            let (body, off) = self
                .opened
                .open_chunk(index, &mut buf)
                .map_err(ClientError::from_open)?;
            piece.clear();
            append_overlap(&mut piece, &buf[body], off, &range);
            out.write_all(&piece).map_err(ClientError::io("<output>"))?;
            done += piece.len() as u64;
            progress(Progress::Writing { done, total });
        }
        piece.fill(0);
        Ok(())
    }
}

pub(crate) fn random_tag() -> String {
    let mut b = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A 0600 file removed on drop unless persisted.
pub(crate) struct TempFile {
    pub(crate) path: PathBuf,
    keep: bool,
}

impl TempFile {
    pub(crate) fn create(path: PathBuf) -> Result<Self> {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(ClientError::io(&path))?;
        Ok(Self { path, keep: false })
    }

    pub(crate) fn file(&self) -> Result<File> {
        OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&self.path)
            .map_err(ClientError::io(&self.path))
    }

    /// Renames over `to` and fsyncs the directory.
    pub(crate) fn persist(mut self, to: &Path) -> Result<()> {
        fs::rename(&self.path, to).map_err(ClientError::io(to))?;
        self.keep = true;
        if let Some(dir) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_file_vanishes_unless_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let t = TempFile::create(dir.path().join("a")).unwrap();
        drop(t);
        assert!(!dir.path().join("a").exists());
        let t = TempFile::create(dir.path().join("b")).unwrap();
        t.persist(&dir.path().join("c")).unwrap();
        assert!(dir.path().join("c").exists() && !dir.path().join("b").exists());
    }
}
