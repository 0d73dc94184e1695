//! `sealcam-server migrate-store`: copies every blob the database names from
//! one blob store to another (local directory → S3), resumably, verifying
//! each copy.
//!
//! The list of blobs and their SHA-256 digests comes from the database, so
//! only what a part names is copied, and each copy is checked against the
//! digests recorded when the camera uploaded it: after writing, the copy is
//! read back *from the target* and each piece the database names in it (a
//! header, a payload, or both for a part stored as one blob) is hashed. Blob keys do not change, so the
//! database needs no rewrite: switching `storage.url` is the whole cut-over.
//!
//! Resuming is the same command again: a blob already in the target that
//! reads back with the right digest is skipped; a missing one is copied
//! (create-if-absent, so nothing in the target is ever overwritten); one that
//! holds other bytes is reported and left alone. An interrupted copy leaves
//! nothing visible under its key (see [`crate::blobs`]).

use futures_util::{stream, StreamExt as _, TryStreamExt as _};
use object_store::path::Path;
use object_store::ObjectStoreExt as _;

use crate::blobs::{hash_stream, BlobError, BlobStore, Segment};
use crate::store::{BlobRef, Database, StoreError};

/// Blobs listed from the database per page.
const PAGE: u32 = 500;

/// A failure that stops the migration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The database failed.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// A blob store failed.
    #[error("blob store: {0}")]
    Blobs(#[from] BlobError),
}

/// Counts reported while and after migrating.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrateReport {
    /// Blobs the database names.
    pub blobs: u64,
    /// Copied (and verified) by this run.
    pub copied: u64,
    /// Already in the target with the right digest (an earlier run).
    pub already: u64,
    /// Bytes copied by this run.
    pub bytes: u64,
    /// Keys the database names but neither store holds correctly: missing in
    /// the source, or different bytes in either store. Nothing was
    /// overwritten; the operator decides.
    pub failed: Vec<(String, String)>,
}

enum Outcome {
    Copied(u64),
    Already,
    Failed(String),
}

/// Copies every blob `db` names from `from` to `to`, `parallel` at a time,
/// calling `progress` after each page. Returns what it did; a blob that could
/// not be copied correctly is listed in [`MigrateReport::failed`] (the run
/// goes on with the others).
pub async fn migrate_store(
    db: &dyn Database,
    from: &BlobStore,
    to: &BlobStore,
    parallel: usize,
    mut progress: impl FnMut(&MigrateReport),
) -> Result<MigrateReport, MigrateError> {
    let mut report = MigrateReport::default();
    let mut after: Option<String> = None;
    loop {
        let page = db.list_blobs(after.as_deref(), PAGE).await?;
        let full = page.len() >= PAGE as usize;
        let mut blobs = group_by_key(page);
        if full && blobs.len() > 1 {
            // The last blob's pieces may go on in the next page: it is
            // taken whole from there.
            blobs.pop();
        }
        let Some(last) = blobs.last() else {
            break;
        };
        after = Some(last.key.clone());
        let outcomes: Vec<(String, Result<Outcome, BlobError>)> = stream::iter(blobs)
            .map(|blob| async move {
                let key = blob.key.clone();
                (key, copy_one(from, to, &blob).await)
            })
            .buffer_unordered(parallel.max(1))
            .collect()
            .await;
        for (key, outcome) in outcomes {
            report.blobs += 1;
            match outcome? {
                Outcome::Copied(bytes) => {
                    report.copied += 1;
                    report.bytes += bytes;
                }
                Outcome::Already => report.already += 1,
                Outcome::Failed(why) => report.failed.push((key, why)),
            }
        }
        progress(&report);
    }
    Ok(report)
}

/// One blob and the pieces of it that parts name.
struct Blob {
    key: String,
    /// The blob's size: it ends where its last piece ends.
    size: u64,
    pieces: Vec<BlobRef>,
}

/// Gathers a page of pieces (ordered by key) into blobs.
fn group_by_key(page: Vec<BlobRef>) -> Vec<Blob> {
    let mut blobs: Vec<Blob> = Vec::new();
    for piece in page {
        let end = piece.offset.saturating_add(piece.size);
        match blobs.last_mut() {
            Some(blob) if blob.key == piece.key => {
                blob.size = blob.size.max(end);
                blob.pieces.push(piece);
            }
            _ => blobs.push(Blob {
                key: piece.key.clone(),
                size: end,
                pieces: vec![piece],
            }),
        }
    }
    blobs
}

/// Whether what `store` holds under the blob's key has its size and every
/// piece's digest; `None` when it holds nothing.
async fn holds(store: &BlobStore, blob: &Blob) -> Result<Option<bool>, BlobError> {
    let size = match store.raw().head(&Path::from(blob.key.as_str())).await {
        Ok(meta) => meta.size,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if size != blob.size {
        return Ok(Some(false));
    }
    for piece in &blob.pieces {
        let body = store
            .read(vec![Segment {
                key: blob.key.clone(),
                range: piece.offset..piece.offset + piece.size,
            }])
            .await?;
        let written = hash_stream(body.into_data_stream(), u64::MAX).await?;
        if written.size != piece.size || written.sha256[..] != piece.sha256[..] {
            return Ok(Some(false));
        }
    }
    Ok(Some(true))
}

async fn copy_one(from: &BlobStore, to: &BlobStore, blob: &Blob) -> Result<Outcome, BlobError> {
    match holds(to, blob).await? {
        Some(true) => return Ok(Outcome::Already),
        Some(false) => {
            return Ok(Outcome::Failed(
                "the target holds other bytes under this key (left alone)".into(),
            ))
        }
        None => {}
    }
    let source = match from
        .read(vec![Segment {
            key: blob.key.clone(),
            range: 0..blob.size,
        }])
        .await
    {
        Ok(body) => body,
        Err(BlobError::Store(object_store::Error::NotFound { .. })) => {
            return Ok(Outcome::Failed("missing in the source".into()))
        }
        Err(BlobError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Outcome::Failed("missing in the source".into()))
        }
        Err(e) => return Err(e),
    };
    let stream = source.into_data_stream().map_err(std::io::Error::other);
    match to.put_stream(&blob.key, stream, blob.size).await {
        Ok(_) => {}
        Err(BlobError::Store(object_store::Error::AlreadyExists { .. })) => {
            // Another run wrote it meanwhile: verify that copy instead.
        }
        Err(BlobError::TooLarge(_)) => {
            return Ok(Outcome::Failed(
                "the source holds more bytes than the database records".into(),
            ))
        }
        Err(e) => return Err(e),
    }
    // Verify the copy as the target serves it.
    match holds(to, blob).await? {
        Some(true) => Ok(Outcome::Copied(blob.size)),
        Some(false) => {
            // What we just wrote is wrong (the source is corrupt): remove it,
            // so a later run after repairing the source can copy again.
            to.delete_all(vec![blob.key.clone()]).await;
            Ok(Outcome::Failed(
                "the copy does not match the digest recorded at upload (source corrupt?)".into(),
            ))
        }
        None => Ok(Outcome::Failed("the copy vanished from the target".into())),
    }
}
