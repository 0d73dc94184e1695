//! Listing blobs: every committed key, the candidates of the orphan sweep,
//! and the staging files of interrupted local writes.

use std::path::Path as FsPath;
use std::time::{Duration, SystemTime};

use futures_util::TryStreamExt as _;
use object_store::path::Path;

use super::{BlobResult, BlobStore, BLOB_PREFIX};

impl BlobStore {
    /// Every committed blob key, sorted (for tests and operators; lists the
    /// whole store).
    pub async fn list_keys(&self) -> BlobResult<Vec<String>> {
        let mut keys: Vec<String> = self
            .store
            .list(Some(&Path::from(BLOB_PREFIX)))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await?;
        keys.sort();
        Ok(keys)
    }

    /// Every committed blob key last written at least `grace` ago (the orphan
    /// sweep's candidates; lists the whole store).
    pub async fn keys_older_than(&self, grace: Duration) -> BlobResult<Vec<String>> {
        let cutoff_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_sub(grace)
            .as_millis() as i64;
        let mut listing = self.store.list(Some(&Path::from(BLOB_PREFIX)));
        let mut keys = Vec::new();
        while let Some(meta) = listing.try_next().await? {
            if meta.last_modified.timestamp_millis() <= cutoff_ms {
                keys.push(meta.location.to_string());
            }
        }
        Ok(keys)
    }

    /// Removes the staging files of interrupted local writes older than
    /// `grace` (nothing on S3, where an unfinished upload is invisible).
    /// Returns how many it removed.
    pub async fn sweep_staging(&self, grace: Duration) -> BlobResult<u64> {
        let Some(root) = self.root.clone() else {
            return Ok(0);
        };
        let cutoff = SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Ok(tokio::task::spawn_blocking(move || sweep_staging(&root, cutoff)).await??)
    }
}

/// Removes `…#<digits>` staging files older than `cutoff` under `root/blobs`.
fn sweep_staging(root: &FsPath, cutoff: SystemTime) -> std::io::Result<u64> {
    let mut removed = 0;
    let blobs = root.join("blobs");
    let Ok(dirs) = std::fs::read_dir(&blobs) else {
        return Ok(0);
    };
    for dir in dirs {
        let dir = dir?;
        if !dir.file_type()?.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(dir.path())? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let staging = name
                .rsplit_once('#')
                .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if staging && entry.metadata()?.modified()? < cutoff {
                tracing::info!(file = %entry.path().display(), "orphan sweep: removing a staging file");
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}
