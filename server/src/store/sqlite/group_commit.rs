//! Group commit of part rows.
//!
//! SQLite has one writer, and with `synchronous = FULL` every commit waits
//! for an fsync of the WAL: one upload's row at a time, the database capped
//! uploads at about one per fsync (the upload bench measured ~770 parts/s
//! against ~6,700 raw `object_store` PUTs + fsync). Here one task records
//! the rows: it takes every row waiting (up to [`MAX_BATCH`]) and writes
//! them in one transaction, each inside a savepoint of its own, so one
//! row's failure (a swept blob, a foreign event) leaves the others. The
//! commit is the commit point of all of them, and no upload is answered
//! before it: durability is what it was, one fsync now covers many rows.
//!
//! Rows are never held back waiting for company: a batch is whatever
//! arrived while the previous commit was being flushed, so an upload alone
//! waits no longer than before.

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::events::insert_part_in;
use crate::store::{InsertPart, NewPart, StoreError, StoreResult};

/// The most rows one transaction records.
const MAX_BATCH: usize = 128;
/// Rows waiting for the writer before senders wait too.
const QUEUE: usize = 1024;

type Reply = oneshot::Sender<StoreResult<InsertPart>>;

/// The writer of part rows; cloned handles share it.
#[derive(Debug, Clone)]
pub(super) struct GroupCommit {
    jobs: mpsc::Sender<(NewPart, Reply)>,
}

impl GroupCommit {
    /// Starts the writer on the current runtime; it stops when the last
    /// handle is dropped.
    pub(super) fn start(pool: SqlitePool) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(pool, rx));
        Self { jobs }
    }

    /// Records `part` in the next batch: its outcome once that batch is
    /// committed (or failed).
    pub(super) async fn insert_part(&self, part: &NewPart) -> StoreResult<InsertPart> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send((part.clone(), reply))
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

/// The writer's runtime has gone (the server is stopping).
fn stopped() -> StoreError {
    StoreError::Unavailable(sqlx::Error::PoolClosed)
}

async fn write_batches(pool: SqlitePool, mut rx: mpsc::Receiver<(NewPart, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (parts, replies): (Vec<NewPart>, Vec<Reply>) = batch.drain(..).unzip();
        let outcomes = commit(&pool, &parts).await;
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // A sender that stopped waiting (its request was cancelled)
            // finds its row recorded, as if it had waited.
            let _ = reply.send(outcome);
        }
    }
}

/// Records `parts` in one transaction: one outcome per part, in order.
async fn commit(pool: &SqlitePool, parts: &[NewPart]) -> Vec<StoreResult<InsertPart>> {
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => return each(e.into(), parts.len()),
    };
    let mut outcomes = Vec::with_capacity(parts.len());
    for part in parts {
        if let Err(e) = sqlx::query("SAVEPOINT part").execute(&mut *tx).await {
            return each(e.into(), parts.len());
        }
        let outcome = insert_part_in(&mut tx, part).await;
        // Only a recorded row stays; anything else is undone.
        let end = if matches!(outcome, Ok(InsertPart::Inserted)) {
            sqlx::query("RELEASE part").execute(&mut *tx).await
        } else {
            match sqlx::query("ROLLBACK TO part").execute(&mut *tx).await {
                Ok(_) => sqlx::query("RELEASE part").execute(&mut *tx).await,
                Err(e) => Err(e),
            }
        };
        if let Err(e) = end {
            return each(e.into(), parts.len());
        }
        outcomes.push(outcome);
    }
    match tx.commit().await {
        Ok(()) => outcomes,
        Err(e) => each(e.into(), parts.len()),
    }
}

/// The failure of a whole batch, once for each of its `n` rows.
fn each(first: StoreError, n: usize) -> Vec<StoreResult<InsertPart>> {
    let mut out: Vec<StoreResult<InsertPart>> =
        (1..n).map(|_| Err(first.for_another_row())).collect();
    out.insert(0, Err(first));
    out
}
