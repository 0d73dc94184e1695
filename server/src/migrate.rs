//! `sealcam-server migrate-store`: copies every blob the database names from
//! one blob store to another (local directory → S3), resumably, verifying
//! each copy.
//!
//! The list of blobs and their SHA-256 digests comes from the database, so
//! only what a part names is copied, and each copy is checked against the
//! digest recorded when the camera uploaded it: after writing, the copy is
//! read back *from the target* and hashed. Blob keys do not change, so the
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
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.key.clone());
        let outcomes: Vec<(String, Result<Outcome, BlobError>)> = stream::iter(page)
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

/// The digest of what `store` holds under `key`, `None` when it holds nothing.
async fn digest(store: &BlobStore, blob: &BlobRef) -> Result<Option<(u64, Vec<u8>)>, BlobError> {
    let size = match store.raw().head(&Path::from(blob.key.as_str())).await {
        Ok(meta) => meta.size,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let body = store
        .read(vec![Segment {
            key: blob.key.clone(),
            range: 0..size,
        }])
        .await?;
    let written = hash_stream(body.into_data_stream(), u64::MAX).await?;
    Ok(Some((written.size, written.sha256.to_vec())))
}

async fn copy_one(from: &BlobStore, to: &BlobStore, blob: &BlobRef) -> Result<Outcome, BlobError> {
    let expected = (blob.size, blob.sha256.clone());
    match digest(to, blob).await? {
        Some(found) if found == expected => return Ok(Outcome::Already),
        Some(_) => {
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
    match digest(to, blob).await? {
        Some(found) if found == expected => Ok(Outcome::Copied(blob.size)),
        Some(_) => {
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
