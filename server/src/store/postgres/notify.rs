//! Parts announced across replicas (PostgreSQL `LISTEN`/`NOTIFY`).
//!
//! [`insert_part`](super::events::insert_part) runs `pg_notify` on
//! [`PARTS_CHANNEL`] inside the transaction that records a new part, so the
//! notice is delivered when, and only when, the part's row commits; every
//! server process sharing the database hears it through one
//! [`PartListener`] and hands it to its own watchers (`crate::feed`).
//! Notices are transient: those sent while a listener's connection is down
//! are lost, and the listener says so ([`Announced::Missed`]).

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use super::Tx;
use crate::store::{PartNotice, StoreError, StoreResult};

/// The channel every part recorded is announced on.
pub const PARTS_CHANNEL: &str = "sealcam_parts";

/// What a [`PartListener`] heard: a part announced, or a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announced {
    /// A server process sharing the database recorded this part.
    Part(PartNotice),
    /// The connection was lost and is back: parts recorded meanwhile were
    /// not heard.
    Missed,
}

/// Announces a part recorded in `tx`: delivered to every listener when `tx`
/// commits, never if it rolls back.
pub(super) async fn announce(tx: &mut Tx, notice: &PartNotice) -> StoreResult<()> {
    let payload = serde_json::to_string(notice)
        .map_err(|e| StoreError::Corrupt(format!("part notice: {e}")))?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(PARTS_CHANNEL)
        .bind(payload)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Listens on [`PARTS_CHANNEL`] on a connection of its own (outside the
/// query pool), reconnecting after a failure.
pub struct PartListener {
    options: PgConnectOptions,
    /// `None` after a failure: the next [`PartListener::next`] reconnects.
    listener: Option<PgListener>,
}

impl std::fmt::Debug for PartListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartListener")
            .field("connected", &self.listener.is_some())
            .finish()
    }
}

impl PartListener {
    /// Connects and starts listening: a part recorded after this returns is
    /// heard.
    pub(super) async fn connect(options: PgConnectOptions) -> StoreResult<Self> {
        let listener = Some(listen(&options).await?);
        Ok(Self { options, listener })
    }

    /// The next part recorded by any server process sharing the database.
    ///
    /// After an error (the database cannot be reached), the next call
    /// reconnects and, once listening again, answers [`Announced::Missed`]. A
    /// notice this version cannot read (sent by something else on the
    /// channel) is logged and skipped.
    pub async fn next(&mut self) -> StoreResult<Announced> {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                self.listener = Some(listen(&self.options).await?);
                return Ok(Announced::Missed);
            };
            let notification = match listener.try_recv().await {
                Ok(Some(notification)) => notification,
                // The connection was lost and re-established (the listener
                // listens again before it answers).
                Ok(None) => return Ok(Announced::Missed),
                Err(e) => {
                    // Start over with a fresh connection: some failures
                    // (a reset connection) leave the old one in place.
                    self.listener = None;
                    return Err(e.into());
                }
            };
            match serde_json::from_str(notification.payload()) {
                Ok(notice) => return Ok(Announced::Part(notice)),
                Err(e) => {
                    tracing::warn!(error = %e, "ignoring an unreadable notice on {PARTS_CHANNEL}")
                }
            }
        }
    }
}

/// A listener on a dedicated one-connection pool (as `PgListener::connect`
/// builds it, with the database's own connect options).
async fn listen(options: &PgConnectOptions) -> StoreResult<PgListener> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(PARTS_CHANNEL).await?;
    Ok(listener)
}
