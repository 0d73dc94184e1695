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
//! [`AT_MOST_EVERY`], and every [`AT_LEAST_EVERY`] in any case. The commits
//! that answer uploads only append to the WAL.
//!
//! A passive checkpoint alone never lets the WAL start over under a steady
//! stream of commits: SQLite rewinds it only when a write begins after
//! every frame was copied back, and by then the writer has appended more
//! (the upload bench grew it to 1 GB in 10 s). So once the WAL holds more
//! than [`RESTART_AFTER_FRAMES`], the passive checkpoint is followed at
//! once by a `RESTART` one: it takes the write lock between two commits,
//! copies the few frames appended meanwhile, waits for the readers of the
//! WAL (short, single queries) to finish, and the next commit writes the
//! WAL from its start again. The writer waits for that catch-up only.
//!
//! This thread may fall behind (the machine busy elsewhere): the bound does
//! not rest on it. After each commit the writer looks at the WAL file's
//! size, and when it passes [`WAL_HARD_LIMIT`] it runs the `RESTART`
//! checkpoint itself before its next batch ([`rewind_if_large`]).

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::store::{StoreError, StoreResult};

/// The least time between two checkpoints.
const AT_MOST_EVERY: Duration = Duration::from_millis(250);
/// The most time between two checkpoints, commits or not (other writes of
/// the server go through sqlx and do not wake this thread).
const AT_LEAST_EVERY: Duration = Duration::from_secs(1);
/// How long a checkpoint waits for SQLite's locks on the WAL index.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// A WAL of more frames (pages: 4 KiB each) than this is rewound.
const RESTART_AFTER_FRAMES: i64 = 4096;
/// The WAL file is truncated to this size when it is rewound.
///
/// Above what a WAL reaches between two rewinds under steady writes (about
/// 55 MiB in the upload bench): a rewound WAL is written again from its
/// start over blocks the file already has, so a flush writes data and
/// nothing else. A limit below that peak (it was 32 MiB) cut the file at
/// every rewind, the WAL grew back into newly allocated blocks, and each
/// `fdatasync` then committed the filesystem's journal too: the upload
/// bench stored 2,550-2,640 parts/s with 32 MiB, 2,950-3,130 with 64 MiB
/// (three alternating runs each).
pub(super) const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;
/// A WAL file larger than this is rewound by the writer itself.
pub(super) const WAL_HARD_LIMIT: u64 = WAL_SIZE_LIMIT as u64 + 16 * 1024 * 1024;

/// Wakes the checkpointer after a commit; it stops when every handle is
/// dropped.
#[derive(Debug, Clone)]
pub(super) struct Checkpointer {
    wake: SyncSender<()>,
}

impl Checkpointer {
    /// Starts the checkpointer of the database file at `path`.
    pub(super) fn start(path: &Path) -> StoreResult<Self> {
        let conn = super::connect(path, BUSY_TIMEOUT)?;
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
        match checkpoint(conn, "PASSIVE") {
            Ok(frames) if frames > RESTART_AFTER_FRAMES => {
                if let Err(e) = checkpoint(conn, "RESTART") {
                    tracing::warn!(error = %e, "WAL checkpoint (restart) failed; retrying");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying"),
        }
        std::thread::sleep(AT_MOST_EVERY);
    }
}

/// Run by the writer between two batches: rewinds the WAL at `wal` when
/// the file has grown past [`WAL_HARD_LIMIT`] (it is truncated to
/// [`WAL_SIZE_LIMIT`] whenever it is rewound, so only a WAL that was not
/// rewound for that long is larger).
pub(super) fn rewind_if_large(conn: &Connection, wal: &Path) {
    let size = std::fs::metadata(wal).map_or(0, |m| m.len());
    if size <= WAL_HARD_LIMIT {
        return;
    }
    tracing::debug!(size, "the WAL is large: the writer rewinds it");
    let started = Instant::now();
    // SQLite answers "busy" at once while the checkpointer thread runs a
    // checkpoint of its own; it ends soon, and then sleeps.
    loop {
        match checkpoint(conn, "RESTART") {
            Ok(frames) if frames >= 0 => return,
            Ok(_) if started.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(_) => {
                tracing::warn!(size, "could not rewind the WAL: a checkpoint stays busy");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, size, "WAL checkpoint (restart) failed; retrying");
                return;
            }
        }
    }
}

/// Runs a checkpoint of `mode`; the frames the WAL held, or -1 when
/// another checkpoint was running.
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<i64> {
    let (busy, frames, copied) =
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
    tracing::trace!(mode, busy, frames, copied, "checkpoint");
    Ok(frames)
}
