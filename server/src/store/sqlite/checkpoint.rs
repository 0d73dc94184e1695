//! WAL checkpoints, on a thread of their own.
//!
//! In WAL mode a commit appends pages to the WAL, and a checkpoint copies
//! them back into the database file (then fsyncs it) so the WAL can start
//! over. SQLite runs a checkpoint inside whichever commit pushes the WAL
//! past 1,000 pages: with small parts kept in the database that was every
//! couple of hundred uploads, and a quarter of the row writer's time (perf,
//! upload bench), while every upload waiting on that commit waited for it.
//!
//! Here every connection of the server has automatic checkpoints off, and
//! this thread runs a `PASSIVE` checkpoint (it never waits for a reader or
//! the writer, and they never wait for it) after commits, at most every
//! [`AT_MOST_EVERY`], and every [`AT_LEAST_EVERY`] in any case. The WAL
//! stays small, and the commits that answer uploads only append to it.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::store::{StoreError, StoreResult};

/// The least time between two checkpoints.
const AT_MOST_EVERY: Duration = Duration::from_millis(250);
/// The most time between two checkpoints, commits or not (other writes of
/// the server go through sqlx and do not wake this thread).
const AT_LEAST_EVERY: Duration = Duration::from_secs(1);
/// How long a checkpoint waits for SQLite's locks on the WAL index.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Wakes the checkpointer after a commit; it stops when every handle is
/// dropped.
#[derive(Debug, Clone)]
pub(super) struct Checkpointer {
    wake: SyncSender<()>,
}

impl Checkpointer {
    /// Starts the checkpointer of the database file at `path`.
    pub(super) fn start(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (wake, woken) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sealcam-checkpoint".into())
            .spawn(move || run(&conn, &woken))
            .map_err(|e| StoreError::Corrupt(format!("starting the checkpointer: {e}")))?;
        Ok(Self { wake })
    }

    /// Asks for a checkpoint soon (a commit added to the WAL).
    pub(super) fn wake(&self) {
        let _ = self.wake.try_send(());
    }
}

fn run(conn: &Connection, woken: &mpsc::Receiver<()>) {
    loop {
        match woken.recv_timeout(AT_LEAST_EVERY) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        });
        match done {
            Ok((wal, copied)) => tracing::trace!(wal, copied, "checkpoint"),
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying"),
        }
        std::thread::sleep(AT_MOST_EVERY);
    }
}
