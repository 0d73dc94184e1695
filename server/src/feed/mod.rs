//! The feed of newly stored parts, and the watchers of `GET /v1/events/stream`.
//!
//! One in-process `tokio::sync::broadcast` channel ([`Feed`]) carries a
//! [`PartNotice`] for every part newly recorded; each open stream holds a
//! receiver ([`Watch`]), so a watcher costs no database polling. Where a
//! notice comes from depends on the database:
//!
//! - SQLite (one process): the upload path sends it after the part's row
//!   committed ([`Feed::recorded`]);
//! - PostgreSQL (replicas may share the database): the transaction that
//!   records the part announces it (`NOTIFY`), and one task per process
//!   ([`relay`]) listens and hands every notice, this process's own included,
//!   to the local channel. The upload path then sends nothing itself, so
//!   nothing is delivered twice.
//!
//! A notice only says which watchers may be interested: each one is
//! authorised from the database before it is sent ([`Watch::next`]).

mod relay;
mod watch;

use tokio::sync::{broadcast, watch as signal};

pub use self::relay::relay;
pub use self::watch::{Heard, Watch};
pub use crate::store::PartNotice;

/// Notices kept for a slow watcher before it misses some (it then hears
/// [`Heard::Lagged`] and re-lists).
const CAPACITY: usize = 1024;

/// What the channel carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedItem {
    /// A part was recorded.
    Part(PartNotice),
    /// Parts may have been recorded without a notice reaching this process
    /// (the PostgreSQL listener lost its connection): every watcher re-lists.
    Missed,
}

/// The server's channel of newly recorded parts.
#[derive(Debug)]
pub struct Feed {
    parts: broadcast::Sender<FeedItem>,
    /// Whether the upload path delivers its own parts (no database relay).
    local: bool,
    /// Turns `true` at shutdown: every stream ends.
    closing: signal::Sender<bool>,
}

impl Feed {
    /// A feed to which the upload path delivers its own parts when `local`,
    /// or only [`relay`] when the database announces them.
    pub fn new(local: bool) -> Self {
        let (parts, _) = broadcast::channel(CAPACITY);
        let (closing, _) = signal::channel(false);
        Self {
            parts,
            local,
            closing,
        }
    }

    /// A part's row committed: tells this process's watchers, unless the
    /// database announces parts itself.
    pub fn recorded(&self, notice: PartNotice) {
        if self.local {
            self.send(FeedItem::Part(notice));
        }
    }

    /// Hands an item to every watcher (no watcher is no error).
    pub fn send(&self, item: FeedItem) {
        let _ = self.parts.send(item);
    }

    /// Ends every stream, and the streams opened from now on at once (shutdown).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    fn subscribe(&self) -> (broadcast::Receiver<FeedItem>, signal::Receiver<bool>) {
        (self.parts.subscribe(), self.closing.subscribe())
    }
}
