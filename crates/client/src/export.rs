//! Exporting a camera's events over a time range into a folder: every file
//! verified before it appears (S2, S3), listed in `manifest.json` with its
//! SHA-256 and the fingerprint of the camera key that signed it.
//!
//! The export resumes: the manifest is rewritten (atomically) after each
//! file, and a second run skips every file the manifest lists whose bytes
//! still hash to what it says. A file appears under its final name only
//! once complete and verified, so an interrupted run leaves no partial file
//! that could be taken for footage.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use sealcam_keys::{CameraId, EventId};
use sealcam_wire::PartKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::client::Client;
use crate::error::{ClientError, Result};
use crate::events::{EventFilter, EventView};
use crate::fetch::{no_progress, random_tag, TempFile, MAX_SMALL_PAYLOAD};
use crate::time::rfc3339;

/// The manifest's file name in the export folder.
pub const MANIFEST: &str = "manifest.json";

/// The manifest format version.
pub const MANIFEST_VERSION: u32 = 1;

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    /// The camera.
    pub camera: CameraId,
    /// Events captured at or after (unix seconds).
    pub since: Option<i64>,
    /// Events captured before (unix seconds).
    pub until: Option<i64>,
    /// Which parts of each event.
    pub kinds: Vec<PartKind>,
}

/// `manifest.json`: what the folder holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// The camera.
    pub camera_id: CameraId,
    /// Its name in the owner record.
    pub camera_name: Option<String>,
    /// The fingerprint of the camera key every file was verified under.
    pub device_key_fingerprint: String,
    /// The window asked for (unix seconds).
    pub since: Option<i64>,
    /// The window asked for (unix seconds).
    pub until: Option<i64>,
    /// Whether every listed part was exported (or refused).
    pub complete: bool,
    /// The exported files, oldest event first.
    pub files: Vec<ManifestFile>,
    /// Parts that were refused (misdelivered, failed verification): not
    /// written.
    #[serde(default)]
    pub refused: Vec<RefusedPart>,
}

/// One exported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// The event.
    pub event_id: EventId,
    /// The part.
    pub kind: PartKind,
    /// The capture time the camera signed, unix milliseconds.
    pub captured_at_ms: i64,
    /// The same, RFC 3339 (UTC).
    pub captured_at: String,
    /// The verified content type.
    pub content_type: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// Its length in bytes.
    pub bytes: u64,
    /// Its path, relative to the folder.
    pub path: PathBuf,
    /// The fingerprint of the camera key that signed it.
    pub device_key_fingerprint: String,
}

/// A part that was not exported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedPart {
    /// The event.
    pub event_id: EventId,
    /// The part.
    pub kind: PartKind,
    /// `misdelivered` or `verification_failed`.
    pub status: String,
    /// The error.
    pub error: String,
}

/// Progress of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportProgress {
    /// The parts to export are known.
    Listed {
        /// How many parts in all.
        parts: u64,
    },
    /// One more part is done (written, already there, or refused).
    Part {
        /// Parts done so far.
        done: u64,
        /// Parts in all.
        parts: u64,
    },
}

/// What an export did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportOutcome {
    /// The manifest's path.
    pub manifest: PathBuf,
    /// Files written by this run.
    pub written: u64,
    /// Files already there from an earlier run (hash checked).
    pub kept: u64,
    /// Parts refused (see the manifest's `refused`).
    pub refused: u64,
    /// Bytes written by this run.
    pub bytes: u64,
}

fn extension(content_type: &str) -> &'static str {
    match content_type.split(';').next().unwrap_or("").trim() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "video/h264" => "h264",
        "application/json" => "json",
        _ => "bin",
    }
}

fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut f = std::fs::File::open(path).map_err(ClientError::io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(ClientError::io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), len))
}

/// Writes `manifest` to `dir/manifest.json` atomically (a crash leaves the
/// old one or the new one).
fn save_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let json =
        serde_json::to_vec_pretty(manifest).map_err(|e| ClientError::Protocol(e.to_string()))?;
    let tmp = TempFile::create(dir.join(format!(".{MANIFEST}.{}", random_tag())))?;
    let mut f = tmp.file()?;
    f.write_all(&json).map_err(ClientError::io(&tmp.path))?;
    f.sync_all().map_err(ClientError::io(&tmp.path))?;
    tmp.persist(&dir.join(MANIFEST))
}

/// Removes what an interrupted run left: its staging files
/// (`.EVENT.KIND.TAG`, and the fetch's own temporaries beside them) and
/// manifest temporaries. Nothing else in the folder is touched.
fn remove_leftovers(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(ClientError::io(dir))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix('.') else {
            continue;
        };
        let ours = rest.starts_with(&format!("{MANIFEST}."))
            || rest
                .get(..36)
                .is_some_and(|id| id.parse::<uuid::Uuid>().is_ok() && rest[36..].starts_with('.'));
        if ours {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

fn load_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let path = dir.join(MANIFEST);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ClientError::BadInput(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ClientError::io(path)(e)),
    }
}

impl Client {
    /// Exports `req` into `dir` (created if needed); see the module
    /// documentation. A part that is misdelivered or fails verification is
    /// listed in the manifest's `refused` and not written; a network or
    /// server failure stops the export, which a second call resumes.
    pub async fn export(
        &self,
        req: &ExportRequest,
        dir: &Path,
        progress: &(dyn Fn(ExportProgress) + Send + Sync),
    ) -> Result<ExportOutcome> {
        let pinned = self.pinned(req.camera).await?;
        let fingerprint = pinned.device_key.fingerprint();
        std::fs::create_dir_all(dir).map_err(ClientError::io(dir))?;
        remove_leftovers(dir)?;
        let mut manifest = match load_manifest(dir)? {
            Some(m) if m.camera_id != req.camera => {
                return Err(ClientError::BadInput(format!(
                    "{} holds an export of camera {}; choose another folder",
                    dir.display(),
                    m.camera_id
                )))
            }
            Some(m) => m,
            None => Manifest {
                version: MANIFEST_VERSION,
                camera_id: req.camera,
                camera_name: None,
                device_key_fingerprint: fingerprint.clone(),
                since: req.since,
                until: req.until,
                complete: false,
                files: Vec::new(),
                refused: Vec::new(),
            },
        };
        manifest.since = req.since;
        manifest.until = req.until;
        manifest.complete = false;
        manifest.device_key_fingerprint = fingerprint.clone();
        manifest.refused.clear();

        let mut events = self
            .events(&EventFilter {
                camera: Some(req.camera),
                since: req.since,
                until: req.until,
                limit: None,
            })
            .await?;
        events.reverse(); // oldest first
        if let Some(e) = events.first() {
            manifest.camera_name = e.camera_name.clone();
        }
        let work: Vec<(&EventView, PartKind, u64)> = events
            .iter()
            .flat_map(|e| {
                e.parts
                    .iter()
                    .filter(|p| req.kinds.contains(&p.kind))
                    .map(move |p| (e, p.kind, p.payload_size))
            })
            .collect();
        let parts = work.len() as u64;
        progress(ExportProgress::Listed { parts });

        let mut index: HashMap<(EventId, PartKind), usize> = manifest
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| ((f.event_id, f.kind), i))
            .collect();
        let mut outcome = ExportOutcome {
            manifest: dir.join(MANIFEST),
            written: 0,
            kept: 0,
            refused: 0,
            bytes: 0,
        };
        for (done, (event, kind, payload_len)) in work.into_iter().enumerate() {
            let already = index
                .get(&(event.event_id, kind))
                .map(|&i| &manifest.files[i])
                .filter(|f| {
                    // Only a plain relative path inside the folder: a
                    // manifest someone else put there cannot point outside.
                    f.path
                        .components()
                        .all(|c| matches!(c, std::path::Component::Normal(_)))
                        && f.device_key_fingerprint == fingerprint
                        && sha256_file(&dir.join(&f.path))
                            .is_ok_and(|(sha, len)| sha == f.sha256 && len == f.bytes)
                });
            if already.is_some() {
                outcome.kept += 1;
            } else {
                match self
                    .export_part(event, kind, payload_len, dir, &fingerprint)
                    .await
                {
                    Ok(file) => {
                        outcome.written += 1;
                        outcome.bytes += file.bytes;
                        match index.get(&(event.event_id, kind)) {
                            Some(&i) => manifest.files[i] = file,
                            None => {
                                index.insert((event.event_id, kind), manifest.files.len());
                                manifest.files.push(file);
                            }
                        }
                        save_manifest(dir, &manifest)?;
                    }
                    Err(e @ (ClientError::Misdelivered(_) | ClientError::Verification(_))) => {
                        outcome.refused += 1;
                        manifest.refused.push(RefusedPart {
                            event_id: event.event_id,
                            kind,
                            status: if matches!(e, ClientError::Misdelivered(_)) {
                                "misdelivered".into()
                            } else {
                                "verification_failed".into()
                            },
                            error: e.to_string(),
                        });
                        save_manifest(dir, &manifest)?;
                    }
                    Err(e) => return Err(e),
                }
            }
            progress(ExportProgress::Part {
                done: done as u64 + 1,
                parts,
            });
        }
        manifest.complete = true;
        save_manifest(dir, &manifest)?;
        Ok(outcome)
    }

    /// Fetches and verifies one part into `dir/DAY/TIME_EVENT.KIND.EXT`.
    async fn export_part(
        &self,
        event: &EventView,
        kind: PartKind,
        payload_len: u64,
        dir: &Path,
        fingerprint: &str,
    ) -> Result<ManifestFile> {
        let staging = dir.join(format!(".{}.{kind}.{}", event.event_id, random_tag()));
        let (content_type, captured_at_ms) =
            if kind != PartKind::Clip && payload_len <= MAX_SMALL_PAYLOAD {
                let opened = self
                    .open_small(event.event_id, event.camera_id, kind, payload_len)
                    .await?;
                let tmp = TempFile::create(staging.clone())?;
                let mut f = tmp.file()?;
                f.write_all(&opened.body)
                    .map_err(ClientError::io(&tmp.path))?;
                f.sync_all().map_err(ClientError::io(&tmp.path))?;
                tmp.persist(&staging)?;
                (opened.meta.content_type, opened.meta.captured_at_ms)
            } else {
                let outcome = self
                    .fetch_to_path(event.event_id, kind, None, &staging, &no_progress)
                    .await?;
                (outcome.content_type, outcome.captured_at_ms)
            };
        let captured_at = rfc3339(captured_at_ms.div_euclid(1000));
        let day = captured_at.get(..10).unwrap_or("unknown").to_owned();
        let time: String = captured_at
            .get(11..19)
            .unwrap_or("000000")
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let rel = PathBuf::from(&day).join(format!(
            "{time}_{}.{kind}.{}",
            event.event_id,
            extension(&content_type)
        ));
        let final_path = dir.join(&rel);
        let moved = std::fs::create_dir_all(dir.join(&day))
            .and_then(|()| std::fs::rename(&staging, &final_path));
        if let Err(e) = moved {
            let _ = std::fs::remove_file(&staging);
            return Err(ClientError::io(final_path)(e));
        }
        let (sha256, bytes) = sha256_file(&final_path)?;
        Ok(ManifestFile {
            event_id: event.event_id,
            kind,
            captured_at_ms,
            captured_at,
            content_type,
            sha256,
            bytes,
            path: rel,
            device_key_fingerprint: fingerprint.to_owned(),
        })
    }
}
