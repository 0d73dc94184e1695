//! One watcher: a viewer device's subscription to the feed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use sealcam_wire::PartStored;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch as signal};
use tokio::time::{Instant, MissedTickBehavior};
use uuid::Uuid;

use super::FeedItem;
use crate::state::AppState;
use crate::store::{Database, StoreResult, ViewerPrincipal};

/// What a watcher is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A part the device may see was stored.
    Part(PartStored),
    /// Notices may have been missed: list again to catch up.
    Lagged,
}

/// A viewer device's subscription to newly stored parts.
///
/// The cameras the account could see when the watch started only choose
/// which notices are worth checking (its own account's cameras are always
/// worth it: a camera paired since). Each one is then authorised from the
/// database, by the device's credential, in the query a download makes: a
/// withdrawn share or a deleted event is skipped, and a revoked device's
/// watch ends. Notices or not, the credential is looked up again every
/// `limits.stream_keepalive_secs`, so a removed device's quiet watch ends
/// within that too. A camera shared with the account after the watch started
/// is not checked until the client watches again.
pub struct Watch {
    db: Arc<dyn Database>,
    viewer: ViewerPrincipal,
    /// The cameras the account could see at the start.
    cameras: HashSet<Uuid>,
    feed: broadcast::Receiver<FeedItem>,
    closing: signal::Receiver<bool>,
    /// When to look the credential up again.
    recheck: tokio::time::Interval,
}

impl Watch {
    /// Subscribes `viewer` to the feed, then reads the cameras its account
    /// may see: in this order, a part recorded in between is not missed.
    pub async fn start(state: &AppState, viewer: ViewerPrincipal) -> StoreResult<Self> {
        let (feed, closing) = state.feed.subscribe();
        let cameras = state
            .db
            .list_cameras(viewer.account_id)
            .await?
            .into_iter()
            .map(|camera| camera.id)
            .collect();
        let every = Duration::from_secs(state.config.limits.stream_keepalive_secs.max(1));
        let mut recheck = tokio::time::interval_at(Instant::now() + every, every);
        recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Ok(Self {
            db: Arc::clone(&state.db),
            viewer,
            cameras,
            feed,
            closing,
            recheck,
        })
    }

    /// Whether the device's credential still authenticates (`false` when
    /// the database cannot say).
    async fn still_enrolled(&self) -> bool {
        match self.db.viewer_by_token(&self.viewer.token_hash).await {
            Ok(found) => found.is_some_and(|p| p.device_id == self.viewer.device_id),
            Err(e) => {
                tracing::warn!(error = %e, "event stream: looking the credential up failed; ending the stream");
                false
            }
        }
    }

    /// The next thing to tell the watcher; `None` when the watch ends: the
    /// device's credential no longer authenticates, the database failed to
    /// answer whether it may see a part, or the server is shutting down.
    pub async fn next(&mut self) -> Option<Heard> {
        loop {
            let woke = tokio::select! {
                biased;
                _ = self.closing.wait_for(|closing| *closing) => return None,
                item = self.feed.recv() => Some(item),
                _ = self.recheck.tick() => None,
            };
            let Some(item) = woke else {
                if !self.still_enrolled().await {
                    return None;
                }
                continue;
            };
            let notice = match item {
                Ok(FeedItem::Part(notice)) => notice,
                Ok(FeedItem::Missed) | Err(RecvError::Lagged(_)) => return Some(Heard::Lagged),
                Err(RecvError::Closed) => return None,
            };
            if notice.owner_id != self.viewer.account_id
                && !self.cameras.contains(&notice.camera_id)
            {
                continue;
            }
            match self
                .db
                .viewer_part_by_token(&self.viewer.token_hash, notice.event_id, notice.kind)
                .await
            {
                Ok(Some((_, Some(_)))) => {
                    return Some(Heard::Part(PartStored {
                        event_id: notice.event_id,
                        camera_id: notice.camera_id,
                        kind: notice.kind,
                    }))
                }
                // Not (or no longer) the account's to see, or deleted already.
                Ok(Some((_, None))) => continue,
                // The device was removed.
                Ok(None) => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "event stream: authorising a part failed; ending the stream");
                    return None;
                }
            }
        }
    }
}
