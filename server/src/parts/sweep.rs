//! The orphan sweep: removes blobs that no row names.
//!
//! Safe against uploads on any replica, whatever the clocks: each orphan is
//! first *claimed* in the database ([`Database::claim_orphan`], a tombstone
//! written only if no part names the key), and recording a part that names
//! a claimed key fails. Blobs that parts name (nearly all) are set aside
//! first by one plain read per [`NAMED_BLOBS_BATCH`] keys; only the rest are
//! claimed, one transaction each.
//!
//! [`Database::claim_orphan`]: crate::store::Database::claim_orphan

use std::time::Duration;

use super::Parts;
use crate::blobs::BlobResult;
use crate::state::now;
use crate::store::NAMED_BLOBS_BATCH;

impl Parts<'_> {
    /// Removes blobs last written at least `grace` ago that no row names,
    /// and the staging files of interrupted local writes. Returns how many it
    /// removed. A database failure stops the pass (logged); what it removed
    /// so far is counted.
    pub async fn sweep(&self, grace: Duration) -> BlobResult<u64> {
        let candidates = self.blobs.keys_older_than(grace).await?;
        let mut removed = 0u64;
        let mut unnamed = Vec::new();
        for batch in candidates.chunks(NAMED_BLOBS_BATCH) {
            match self.db.named_blobs(batch).await {
                Ok(named) => unnamed.extend(batch.iter().filter(|k| !named.contains(*k)).cloned()),
                Err(e) => {
                    tracing::warn!(error = %e, "orphan sweep: database unavailable, stopping");
                    return Ok(removed);
                }
            }
        }
        for key in unnamed {
            match self.db.claim_orphan(&key, now()).await {
                Ok(false) => {}
                Ok(true) => {
                    tracing::info!(key, "orphan sweep: removing an unreferenced blob");
                    self.blobs.delete_all(vec![key]).await;
                    removed += 1;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "orphan sweep: database unavailable, stopping");
                    return Ok(removed);
                }
            }
        }
        removed += self.blobs.sweep_staging(grace).await?;
        Ok(removed)
    }
}
