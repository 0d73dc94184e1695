//! Background tasks: retention and the orphan sweep.
//!
//! Both are safe when every replica runs them at once (docs/SCALE-OUT.md):
//! retention picks its batches with `FOR UPDATE SKIP LOCKED` on PostgreSQL
//! (SQLite has one writer), and deleting an already-deleted event or blob is a
//! no-op; the sweep claims each orphan in the database before deleting it, so
//! it never races an upload that is about to record the same blob.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::{now, AppState};
use crate::ServerError;

/// Events deleted per retention transaction.
const RETENTION_BATCH: u32 = 500;
/// Sweep tombstones are kept this long (far longer than any upload lives).
const TOMBSTONE_SECS: i64 = 30 * 86_400;

/// Deletes every event past its camera's retention, and expired one-time
/// tokens. Returns the number of events deleted.
pub async fn retention_once(state: &AppState) -> Result<u64, ServerError> {
    let mut total = 0;
    loop {
        let (events, keys) = state.db.delete_expired(now(), RETENTION_BATCH).await?;
        state.blobs.delete_all(keys).await;
        total += events;
        if events < u64::from(RETENTION_BATCH) {
            break;
        }
    }
    let tokens = state.db.delete_expired_tokens(now()).await?;
    state.db.prune_tombstones(now() - TOMBSTONE_SECS).await?;
    if total > 0 || tokens > 0 {
        tracing::info!(
            events = total,
            tokens,
            "retention: deleted expired events and tokens"
        );
    }
    Ok(total)
}

async fn every<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, mut job: F)
where
    F: FnMut() -> Fut + Send,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut ticker = tokio::time::interval(period.max(Duration::from_secs(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => job().await,
            () = async { let _ = stop.wait_for(|s| *s).await; } => return,
        }
    }
}

/// Starts the retention and sweep loops; they end when `stop` turns true.
pub fn spawn(state: AppState, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let tasks = state.config.tasks.clone();
    let retention_state = state.clone();
    let retention = tokio::spawn(every(
        Duration::from_secs(tasks.retention_interval_secs),
        stop.clone(),
        move || {
            let state = retention_state.clone();
            async move {
                if let Err(e) = retention_once(&state).await {
                    tracing::error!(error = %e, "retention run failed");
                }
            }
        },
    ));
    let grace = Duration::from_secs(tasks.orphan_grace_secs);
    let sweep = tokio::spawn(every(
        Duration::from_secs(tasks.sweep_interval_secs),
        stop,
        move || {
            let state = state.clone();
            async move {
                match state.blobs.sweep(state.db.as_ref(), grace).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "orphan sweep"),
                    Err(e) => tracing::error!(error = %e, "orphan sweep failed"),
                }
            }
        },
    ));
    vec![retention, sweep]
}
