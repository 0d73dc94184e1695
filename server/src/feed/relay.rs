//! The task that hands the parts PostgreSQL announces to this process's
//! watchers.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::{Feed, FeedItem};
use crate::store::postgres::{Announced, PartListener};

/// The longest wait between two attempts to reconnect the listener.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Relays every part `listener` hears into `feed` until `stop` turns
/// true. When the listener loses its connection, it is reconnected (with
/// backoff while the database is unreachable), and once it listens again
/// every watcher is told that it may have missed parts ([`FeedItem::Missed`]).
pub async fn relay(mut listener: PartListener, feed: Arc<Feed>, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(250);
    loop {
        let heard = tokio::select! {
            heard = listener.next() => heard,
            _ = stop.wait_for(|s| *s) => return,
        };
        match heard {
            Ok(Announced::Part(notice)) => feed.send(FeedItem::Part(notice)),
            Ok(Announced::Missed) => {
                tracing::info!("listening for new parts again; watchers re-list");
                backoff = Duration::from_millis(250);
                feed.send(FeedItem::Missed);
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "listening for new parts (PostgreSQL LISTEN) failed");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
