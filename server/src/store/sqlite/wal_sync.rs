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

use std::path::PathBuf;
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
        for _ in 0..FLUSHERS {
            let (wal, rx) = (wal.clone(), Arc::clone(&rx));
            std::thread::Builder::new()
                .name("sealcam-wal-sync".into())
                .spawn(move || run(&wal, &rx))
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

fn run(wal: &std::path::Path, batches: &Mutex<Receiver<Vec<Answer>>>) {
    loop {
        let waiting: Vec<Vec<Answer>> = {
            let Ok(batches) = batches.lock() else { return };
            let Ok(first) = batches.recv() else { return };
            std::iter::once(first).chain(batches.try_iter()).collect()
        };
        let flushed = std::fs::File::open(wal).and_then(|file| file.sync_data());
        for (reply, outcome) in waiting.into_iter().flatten() {
            let answer = match &flushed {
                Ok(()) => outcome,
                // Committed, but not known to be on disk: the upload is
                // not acknowledged, and its retry finds the row.
                Err(e) => Err(StoreError::Unavailable(
                    format!("flushing the WAL: {e}").into(),
                )),
            };
            let _ = reply.send(answer);
        }
    }
}
