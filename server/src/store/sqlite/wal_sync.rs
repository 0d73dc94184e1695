//! Flushing the WAL for the row writer, on a thread of its own, so that one
//! batch's fsync runs while the next batch is written.
//!
//! The row writer's connection commits with `synchronous = NORMAL`: a commit
//! writes its frames to the WAL and returns without an fsync. Its rows are
//! then handed here with their answers; this thread takes every batch
//! waiting, flushes the WAL file (`fdatasync`, as SQLite itself would), and
//! only then answers the uploads. A flush that starts after a commit
//! returned covers every frame of it, and SQLite's recovery replays every
//! commit whose frames are on disk, so an answered upload is as durable as
//! under `synchronous = FULL`, where the writer waited for that flush
//! itself. (Checkpoints still flush the WAL before they copy it and the
//! database after, with either setting.)
//!
//! What this changes: the writer no longer waits for the disk between two
//! batches, and one flush may cover several. What it does not: no upload
//! is answered `201` before its row is on disk. Other connections may read
//! a row before its flush (until a power cut, which would take it back
//! unanswered; the camera uploads it again).
//!
//! The WAL file is opened for each flush: SQLite keeps it (same inode)
//! while the writer's connection is open, truncating it in place.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::store::{InsertPart, StoreError, StoreResult};

/// Flushes that may run at once: a batch committed while one runs starts
/// its own rather than waiting for it to end (the disk may merge them).
const FLUSHERS: usize = 4;

/// An upload's answer, to send once its row is on disk.
pub(super) type Answer = (
    oneshot::Sender<StoreResult<InsertPart>>,
    StoreResult<InsertPart>,
);

/// The flusher; answers are sent once a flush after their commit is done.
#[derive(Debug)]
pub(super) struct WalSync {
    batches: Sender<Vec<Answer>>,
}

impl WalSync {
    /// Starts the flusher of the WAL file `wal`; it stops when this is dropped.
    pub(super) fn start(wal: PathBuf) -> StoreResult<Self> {
        let (batches, rx) = mpsc::channel();
        let rx = Arc::new(Mutex::new(rx));
        let failed = Arc::new(AtomicBool::new(false));
        for _ in 0..FLUSHERS {
            let (wal, rx, failed) = (wal.clone(), Arc::clone(&rx), Arc::clone(&failed));
            std::thread::Builder::new()
                .name("sealcam-wal-sync".into())
                .spawn(move || run(&wal, &rx, &failed))
                .map_err(|e| StoreError::Corrupt(format!("starting the WAL flusher: {e}")))?;
        }
        Ok(Self { batches })
    }

    /// Answers a committed batch once the WAL is flushed.
    pub(super) fn answer_after_flush(&self, answers: Vec<Answer>) {
        if let Err(mpsc::SendError(answers)) = self.batches.send(answers) {
            // The flusher is gone: nobody will flush; say so.
            for (reply, _) in answers {
                let _ = reply.send(Err(StoreError::Unavailable(
                    "the WAL flusher has stopped".into(),
                )));
            }
        }
    }
}

/// Flushes and answers batches until the writer stops. After one failed
/// flush nothing is acknowledged any more: Linux may drop the dirty pages
/// of a failed write-back and report the next flush as a success (the
/// lesson PostgreSQL drew in 2018), so a later success proves nothing.
/// Every upload then hears `503` and its camera keeps it; a restart
/// recovers the database from what is on disk.
fn run(wal: &Path, batches: &Mutex<Receiver<Vec<Answer>>>, failed: &AtomicBool) {
    loop {
        let waiting: Vec<Vec<Answer>> = {
            let Ok(batches) = batches.lock() else { return };
            let Ok(first) = batches.recv() else { return };
            std::iter::once(first).chain(batches.try_iter()).collect()
        };
        let flushed = if failed.load(Ordering::SeqCst) {
            Err("an earlier flush of the WAL failed; restart the server".to_owned())
        } else {
            flush(wal).map_err(|e| {
                failed.store(true, Ordering::SeqCst);
                tracing::error!(error = %e, "flushing the WAL failed: no upload is acknowledged until the server restarts");
                format!("flushing the WAL: {e}")
            })
        };
        for (reply, outcome) in waiting.into_iter().flatten() {
            let answer = match &flushed {
                Ok(()) => outcome,
                // Committed, but not known to be on disk: the upload is
                // not acknowledged, and its retry finds the row.
                Err(e) => Err(StoreError::Unavailable(e.clone().into())),
            };
            let _ = reply.send(answer);
        }
    }
}

/// `fdatasync` of the WAL file, as SQLite's own commit would do it.
fn flush(wal: &Path) -> std::io::Result<()> {
    std::fs::File::open(wal)?.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(flusher: &WalSync) -> StoreResult<InsertPart> {
        let (reply, answered) = oneshot::channel();
        flusher.answer_after_flush(vec![(reply, Ok(InsertPart::Inserted))]);
        answered.blocking_recv().unwrap()
    }

    /// An answer waits for a flush that succeeded; after a failed flush
    /// nothing is acknowledged, even once a flush could succeed again.
    #[test]
    fn a_failed_flush_acknowledges_nothing_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("db-wal");
        let flusher = WalSync::start(wal.clone()).unwrap();
        // No WAL file to flush: not acknowledged.
        assert!(matches!(answer(&flusher), Err(StoreError::Unavailable(_))));
        std::fs::write(&wal, b"frames").unwrap();
        for _ in 0..2 * FLUSHERS {
            assert!(matches!(answer(&flusher), Err(StoreError::Unavailable(_))));
        }
        // A restarted server flushes and answers.
        let restarted = WalSync::start(wal).unwrap();
        assert!(matches!(answer(&restarted), Ok(InsertPart::Inserted)));
    }
}
