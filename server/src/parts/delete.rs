//! Deleting parts: an event, a camera with all its events, and every event
//! past its camera's retention. Rows go first, in one transaction each; their
//! blobs afterwards, best effort (a blob left behind is an orphan the sweep
//! removes).

use uuid::Uuid;

use super::{Parts, PartsError, PartsResult};
use crate::state::now;
use crate::store::StoreResult;

/// Events deleted per retention transaction.
const RETENTION_BATCH: u32 = 500;
/// Sweep tombstones are kept this long (far longer than any upload lives).
const TOMBSTONE_SECS: i64 = 30 * 86_400;

impl Parts<'_> {
    /// The owner `account_id` deletes an event with its parts' blobs.
    pub async fn delete_event(&self, account_id: Uuid, event_id: Uuid) -> PartsResult<()> {
        let keys = self
            .db
            .delete_event(account_id, event_id)
            .await?
            .ok_or(PartsError::NotFound)?;
        self.blobs.delete_all(keys).await;
        Ok(())
    }

    /// The owner `account_id` deletes a camera with all its events, shares
    /// and credential, and their blobs.
    pub async fn delete_camera(&self, account_id: Uuid, camera_id: Uuid) -> PartsResult<()> {
        let keys = self
            .db
            .delete_camera(account_id, camera_id)
            .await?
            .ok_or(PartsError::NotFound)?;
        tracing::info!(%camera_id, blobs = keys.len(), "camera deleted");
        self.blobs.delete_all(keys).await;
        Ok(())
    }

    /// One retention pass: deletes every event past its camera's retention,
    /// expired one-time tokens, and old sweep tombstones. Returns the number
    /// of events deleted.
    ///
    /// Safe on every replica at once: PostgreSQL hands each run its own batch
    /// (`FOR UPDATE SKIP LOCKED`), and deleting a blob twice is a no-op.
    pub async fn retention_once(&self) -> StoreResult<u64> {
        let mut total = 0;
        loop {
            let (events, keys) = self.db.delete_expired(now(), RETENTION_BATCH).await?;
            self.blobs.delete_all(keys).await;
            total += events;
            if events < u64::from(RETENTION_BATCH) {
                break;
            }
        }
        let tokens = self.db.delete_expired_tokens(now()).await?;
        self.db.prune_tombstones(now() - TOMBSTONE_SECS).await?;
        if total > 0 || tokens > 0 {
            tracing::info!(
                events = total,
                tokens,
                "retention: deleted expired events and tokens"
            );
        }
        Ok(total)
    }
}
