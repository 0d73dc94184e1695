//! Opening objects over HTTP with every check done (S2, S3), with verified
//! seek: only the chunks that hold the bytes asked for are downloaded, and
//! each is checked against the camera's signed hash list before any of its
//! bytes is released.
//!
//! Writing to a file is two-phase so that **no plaintext is written anywhere
//! unless the whole range verified**: the ciphertext of the needed chunks is
//! downloaded into a spool file beside the output (each chunk verified as it
//! arrives, its plaintext discarded), then decrypted into a temporary file
//! that is renamed over the output only at the end.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write};
use std::ops::Range;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt as _;
use rand::RngCore as _;
use sealcam_format::open::Opened;
use sealcam_format::{Binding, ObjectMeta, OpenError, Opening, PartKind as FormatKind};
use sealcam_keys::{CameraId, DevicePublicKey, EventId, OwnerId, ViewerIdentity};
use sealcam_wire::{PartInfo, PartKind};
use serde::Serialize;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::api::Api;
use crate::client::Client;
use crate::error::{ClientError, Result};

/// How many chunks (64 KiB each) one range request fetches.
const BATCH_CHUNKS: u64 = 64;

/// Progress of a transfer, reported to a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Ciphertext downloaded and verified so far.
    Downloading {
        /// Bytes so far.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
    /// Everything verified; plaintext is being written.
    Writing {
        /// Bytes so far.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
}

/// A progress callback.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// A callback that ignores progress.
pub fn no_progress(_: Progress) {}

fn format_kind(kind: PartKind) -> FormatKind {
    match kind {
        PartKind::Thumbnail => FormatKind::Thumbnail,
        PartKind::Clip => FormatKind::Clip,
        PartKind::Record => FormatKind::Record,
    }
}

/// The camera an object must come from: the owner and camera its inner
/// header must name, and the device key pinned for that camera.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pinned {
    /// The owner the binding must name.
    pub(crate) owner: OwnerId,
    /// The camera the binding must name.
    pub(crate) camera: CameraId,
    /// The key the camera's signature must verify under.
    pub(crate) device_key: DevicePublicKey,
}

/// A stored part: which one, and its payload length as the server lists it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoredPart {
    /// The event the binding must name.
    pub(crate) event: EventId,
    /// The part, which the binding must name too.
    pub(crate) kind: PartKind,
    /// The payload's length in bytes.
    pub(crate) payload_len: u64,
}

/// The payload length of part `kind` in an event's part list.
fn payload_len(parts: &[PartInfo], event: EventId, kind: PartKind) -> Result<u64> {
    parts
        .iter()
        .find(|p| p.kind == kind)
        .map(|p| p.payload_size)
        .ok_or_else(|| ClientError::NotFound {
            what: format!("{kind} of event {event} (the event has no such part)"),
        })
}

/// An object whose header, binding and signature verified; its body is
/// fetched on demand, chunk by chunk, each chunk verified.
pub struct RemoteObject {
    api: Api,
    event: Uuid,
    kind: PartKind,
    opened: Opened,
}

impl std::fmt::Debug for RemoteObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteObject")
            .field("event", &self.event)
            .field("kind", &self.kind)
            .field("opened", &self.opened)
            .finish()
    }
}

/// What was fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchOutcome {
    /// The event.
    pub event_id: EventId,
    /// The camera (verified: signed by its pinned key).
    pub camera_id: CameraId,
    /// The part.
    pub kind: PartKind,
    /// The verified content type.
    pub content_type: String,
    /// Capture time, unix milliseconds (verified).
    pub captured_at_ms: i64,
    /// The recipient-set epoch it was sealed to.
    pub epoch: u64,
    /// The body range written.
    pub range: Range<u64>,
    /// The whole body's length.
    pub body_len: u64,
    /// Where it was written (`None` for a writer).
    pub path: Option<PathBuf>,
}

impl Client {
    /// The owner and pinned device key of a camera this account may open.
    async fn pinned(&self, camera: CameraId) -> Result<(OwnerId, DevicePublicKey)> {
        let record = self.record().await?.record;
        if let Some(c) = record.camera(camera) {
            return Ok((record.owner, c.device_key));
        }
        if let Some(s) = record.shared_with_me.iter().find(|s| s.camera_id == camera) {
            return Ok((s.owner, s.device_key));
        }
        Err(ClientError::UnknownCamera(camera.to_string()))
    }

    /// Opens a part of an event: fetches its header and the payload chunks
    /// that hold the inner header and the trailer, and checks that it is
    /// addressed to this device (S2), is the object asked for (S2) and is
    /// signed by the camera's pinned device key (S3). No body byte is
    /// released here.
    pub async fn open_part(&self, event: EventId, kind: PartKind) -> Result<RemoteObject> {
        let ev_id = *event.as_uuid();
        let info = self.api().event(ev_id).await?;
        let payload_len = payload_len(&info.parts, event, kind)?;
        // The server's camera id only chooses which pinned key to use: the
        // object must be signed by it and bind to it.
        let camera = CameraId::from(info.camera_id);
        let (owner, device_key) = self.pinned(camera).await?;
        let pinned = Pinned {
            owner,
            camera,
            device_key,
        };
        let header = self.api().part_header(ev_id, kind).await?;
        let part = StoredPart {
            event,
            kind,
            payload_len,
        };
        self.open_with_header(&part, &header, &self.device().viewer, &pinned)
            .await
    }

    /// Opens a stored part whose age header the caller already holds: unwraps
    /// `header` with `identity` (S2: `Misdelivered(NotAddressedToViewer)`
    /// when it is not a recipient), fetches the payload chunks that hold the
    /// inner header and the trailer, and checks that the object binds to
    /// `{pinned.owner, pinned.camera, part.event, part.kind}` (S2) and is
    /// signed by `pinned.device_key` (S3), with `header` bound to that
    /// payload. Whatever the server says about the event plays no part
    /// beyond the payload length. No body byte is released here.
    ///
    /// A caller that goes on to use `header` (re-wrapping it) thus knows it
    /// is the header of exactly this object.
    pub(crate) async fn open_with_header(
        &self,
        part: &StoredPart,
        header: &[u8],
        identity: &ViewerIdentity,
        pinned: &Pinned,
    ) -> Result<RemoteObject> {
        let ev_id = *part.event.as_uuid();
        let expected = Binding {
            owner: pinned.owner,
            camera: pinned.camera,
            event: part.event,
            kind: format_kind(part.kind),
            sequence: 0,
        };
        let opening = Opening::new(header, &[identity]).map_err(ClientError::from_open)?;
        let len = part.payload_len;
        let needed = opening.needed(len).map_err(ClientError::from_open)?;
        let first = self
            .fetch_exact(ev_id, part.kind, needed.first.clone())
            .await?;
        let trailer = self
            .fetch_exact(ev_id, part.kind, needed.trailer.clone())
            .await?;
        let opened = opening
            .verify(len, &first, &trailer, &expected, &pinned.device_key)
            .map_err(ClientError::from_open)?;
        Ok(RemoteObject {
            api: self.api().clone(),
            event: ev_id,
            kind: part.kind,
            opened,
        })
    }

    async fn fetch_exact(&self, event: Uuid, kind: PartKind, range: Range<u64>) -> Result<Vec<u8>> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let want = range.end - range.start;
        let got = self.api().payload_range_vec(event, kind, range).await?;
        if got.len() as u64 != want {
            return Err(ClientError::Verification(OpenError::Truncated(
                "the server sent fewer payload bytes than the payload length",
            )));
        }
        Ok(got)
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
        let obj = self.open_part(event, kind).await?;
        let range = obj.clamp(range)?;
        let dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sealcam".into());
        let tag = random_tag();
        let spool = TempFile::create(dir.join(format!(".{name}.{tag}.sealed")))?;
        let plain = TempFile::create(dir.join(format!(".{name}.{tag}.part")))?;
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

impl RemoteObject {
    /// The verified inner header: what the object is, when it was captured,
    /// its content type.
    pub fn meta(&self) -> &ObjectMeta {
        self.opened.meta()
    }

    /// The body length.
    pub fn body_len(&self) -> u64 {
        self.opened.body_len()
    }

    fn clamp(&self, range: Option<Range<u64>>) -> Result<Range<u64>> {
        let len = self.body_len();
        let r = range.unwrap_or(0..len);
        if r.start > r.end || r.start > len {
            return Err(ClientError::BadInput(format!(
                "the range {}..{} is outside the body ({len} bytes)",
                r.start, r.end
            )));
        }
        Ok(r.start..r.end.min(len))
    }

    fn outcome(&self, range: Range<u64>, path: Option<PathBuf>) -> FetchOutcome {
        let meta = self.meta();
        FetchOutcome {
            event_id: meta.binding.event,
            camera_id: meta.binding.camera,
            kind: self.kind,
            content_type: meta.content_type.clone(),
            captured_at_ms: meta.captured_at_ms,
            epoch: meta.epoch,
            range,
            body_len: self.body_len(),
            path,
        }
    }

    /// Downloads the ciphertext of `chunks` in batches and hands each whole
    /// chunk to `f`, in order.
    async fn for_each_chunk(
        &self,
        chunks: Range<u64>,
        f: &mut (dyn FnMut(u64, &[u8]) -> Result<()> + Send),
    ) -> Result<()> {
        let mut index = chunks.start;
        while index < chunks.end {
            let batch_end = (index + BATCH_CHUNKS).min(chunks.end);
            let range = self.opened.ciphertext_range(index..batch_end);
            let mut stream = self.api.payload_range(self.event, self.kind, range).await?;
            let mut buf: Vec<u8> = Vec::new();
            while index < batch_end {
                let r = self.opened.ciphertext_range(index..index + 1);
                let need = (r.end - r.start) as usize;
                while buf.len() < need {
                    match stream.try_next().await? {
                        Some(piece) => buf.extend_from_slice(&piece),
                        None => {
                            return Err(ClientError::Verification(OpenError::Truncated(
                                "the server sent fewer payload bytes than the payload length",
                            )))
                        }
                    }
                }
                f(index, &buf[..need])?;
                buf.drain(..need);
                index += 1;
            }
            if !buf.is_empty() || stream.try_next().await?.is_some() {
                return Err(ClientError::Protocol(
                    "the server sent more payload bytes than asked".into(),
                ));
            }
        }
        Ok(())
    }

    /// Verified body bytes `range` (clamped to the body), in memory: only the
    /// chunks that hold them are downloaded (verified seek).
    pub async fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        let range = self.clamp(Some(range))?;
        let chunks = self.opened.chunks_for(range.clone());
        let mut out = Vec::with_capacity((range.end - range.start) as usize);
        let opened = &self.opened;
        self.for_each_chunk(chunks, &mut |index, ct| {
            let mut buf = ct.to_vec();
            let (body, off) = opened
                .open_chunk(index, &mut buf)
                .map_err(ClientError::from_open)?;
            append_overlap(&mut out, &buf[body.clone()], off, &range);
            Ok(())
        })
        .await?;
        Ok(out)
    }

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

/// Appends the part of `data` (body bytes starting at body offset `off`) that
/// lies inside `range`.
fn append_overlap(out: &mut Vec<u8>, data: &[u8], off: u64, range: &Range<u64>) {
    let start = range.start.max(off);
    let end = range.end.min(off + data.len() as u64);
    if start < end {
        out.extend_from_slice(&data[(start - off) as usize..(end - off) as usize]);
    }
}

fn random_tag() -> String {
    let mut b = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A 0600 file removed on drop unless persisted.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl TempFile {
    fn create(path: PathBuf) -> Result<Self> {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(ClientError::io(&path))?;
        Ok(Self { path, keep: false })
    }

    fn file(&self) -> Result<File> {
        OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&self.path)
            .map_err(ClientError::io(&self.path))
    }

    /// Renames over `to` and fsyncs the directory.
    fn persist(mut self, to: &Path) -> Result<()> {
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
    fn overlap_is_clipped_to_the_range() {
        let mut out = Vec::new();
        append_overlap(&mut out, b"abcdef", 10, &(12..14));
        assert_eq!(out, b"cd");
        append_overlap(&mut out, b"xyz", 20, &(12..14));
        assert_eq!(out, b"cd");
    }

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
