//! Following new events as they are stored: the server's event stream
//! (`GET /v1/events/stream`, opaque ids only) says which part of which event
//! arrived; each new event is yielded once, with its record opened and
//! verified ([`TimelineEntry`]).
//!
//! An event is yielded when its record is stored, or — for an event without
//! one — [`RECORD_GRACE`] after its first part. The server ends a stream now
//! and then to authenticate the viewer again; the watcher reconnects and
//! lists what was stored meanwhile ([`CATCH_UP_SECS`] of capture time back),
//! so an event uploaded while it was away is not missed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use sealcam_keys::{CameraId, EventId};
use sealcam_wire::{PartKind, PartStored};
use tokio::time::Instant;

use crate::api::{EventStream, StreamMessage};
use crate::client::Client;
use crate::error::{ClientError, Result};
use crate::events::{EventFilter, EventView};
use crate::time::unix_now;
use crate::timeline::TimelineEntry;

/// How long an event whose first part arrived waits for its record before
/// it is yielded without one.
pub const RECORD_GRACE: Duration = Duration::from_secs(3);

/// On reconnecting, events captured this long before the stream was lost
/// are listed to find what was stored meanwhile (a camera's spool may upload
/// an event minutes after its capture).
pub const CATCH_UP_SECS: i64 = 15 * 60;

/// At most this many events per camera are listed when catching up.
const CATCH_UP_MAX: usize = 2_000;

/// At most this many events wait for their record; past that, a server (or
/// a flood of announced ids) makes the watcher yield the oldest at once.
const MAX_PENDING: usize = 10_000;

/// Events remembered as seen; the oldest are forgotten past this (an event
/// older than the catch-up window is not listed again).
const MAX_SEEN: usize = 100_000;

/// The longest wait between two attempts to reach the server.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Follows new events; see the module documentation. Made by
/// [`Client::watch`].
#[derive(Debug)]
pub struct Watcher<'a> {
    client: &'a Client,
    camera: Option<CameraId>,
    stream: Option<EventStream>,
    /// Events already yielded (or there before the watch started).
    seen: Seen,
    /// Events with a part stored but no record yet, and when to give up
    /// waiting for it.
    pending: HashMap<EventId, Instant>,
    ready: VecDeque<TimelineEntry>,
    /// When the last stream was lost (unix seconds); `None` before the first.
    lost_at: Option<i64>,
    backoff: Duration,
}

impl Client {
    /// Follows events stored from now on, of one camera or of all.
    pub fn watch(&self, camera: Option<CameraId>) -> Watcher<'_> {
        Watcher {
            client: self,
            camera,
            stream: None,
            seen: Seen::default(),
            pending: HashMap::new(),
            ready: VecDeque::new(),
            lost_at: None,
            backoff: Duration::from_millis(500),
        }
    }
}

impl Watcher<'_> {
    /// Waits for the next new event. Connection failures are retried with
    /// backoff; a revoked device ([`ClientError::Unauthorized`]) and other
    /// refusals end the watch.
    pub async fn next(&mut self) -> Result<TimelineEntry> {
        loop {
            if let Some(entry) = self.ready.pop_front() {
                return Ok(entry);
            }
            let Some(stream) = self.stream.as_mut() else {
                self.connect().await?;
                continue;
            };
            let due = self.pending.values().min().copied();
            let message = match due {
                Some(due) => tokio::select! {
                    m = stream.next() => Some(m),
                    () = tokio::time::sleep_until(due) => None,
                },
                None => Some(stream.next().await),
            };
            match message {
                None => self.give_up_waiting().await?,
                Some(Ok(Some(StreamMessage::Part(part)))) => self.on_part(part).await?,
                Some(Ok(Some(StreamMessage::Lagged))) => {
                    self.catch_up(unix_now() - CATCH_UP_SECS, true).await?;
                }
                Some(Ok(Some(StreamMessage::Ready))) => {}
                Some(Ok(None)) => self.lost(),
                Some(Err(ClientError::Network { .. })) => {
                    self.lost();
                    self.pause().await;
                }
                Some(Err(e)) => return Err(e),
            }
        }
    }

    fn lost(&mut self) {
        self.stream = None;
        self.lost_at = Some(unix_now());
    }

    async fn pause(&mut self) {
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    /// Subscribes: after this returns, every event stored is yielded by
    /// [`next`](Self::next) (which subscribes itself when this was not
    /// called). Events stored before are not.
    pub async fn start(&mut self) -> Result<()> {
        if self.stream.is_none() {
            self.connect().await?;
        }
        Ok(())
    }

    /// Opens a stream and waits for its `ready`, then lists to find what
    /// was stored while no stream was open. The first time, what is there
    /// already is listed before subscribing and left out, and what the
    /// listing after `ready` finds beyond it was stored in between.
    async fn connect(&mut self) -> Result<()> {
        let first = self.lost_at.is_none();
        if first {
            self.catch_up(unix_now() - CATCH_UP_SECS, false).await?;
        }
        let mut stream = loop {
            match self.client.api().event_stream().await {
                Ok(s) => break s,
                Err(ClientError::Network { .. } | ClientError::Server { .. }) => {
                    self.pause().await;
                }
                Err(e) => return Err(e),
            }
        };
        match stream.next().await? {
            Some(StreamMessage::Ready) => {}
            other => {
                return Err(ClientError::Protocol(format!(
                    "the event stream did not start with `ready` ({other:?})"
                )))
            }
        }
        self.stream = Some(stream);
        self.backoff = Duration::from_millis(500);
        let since = match self.lost_at {
            None => unix_now(),
            Some(at) => at,
        } - CATCH_UP_SECS;
        // A later loss is measured from now on.
        self.lost_at.get_or_insert(unix_now());
        self.catch_up(since, true).await
    }

    /// Lists events captured since `since`: each one not seen yet is
    /// yielded (`emit`) or only remembered.
    async fn catch_up(&mut self, since: i64, emit: bool) -> Result<()> {
        let listed = self
            .client
            .events(&EventFilter {
                camera: self.camera,
                since: Some(since),
                until: None,
                limit: Some(CATCH_UP_MAX),
            })
            .await?;
        // Oldest first, so that they are yielded in capture order.
        for view in listed.into_iter().rev() {
            if !self.seen.insert(view.event_id) {
                continue;
            }
            if !emit {
                continue;
            }
            if view.parts.iter().any(|p| p.kind == PartKind::Record) {
                self.pending.remove(&view.event_id);
                self.push(view).await;
            } else {
                // Its record may be on its way: wait for it as for a live one.
                self.seen.remove(&view.event_id);
                self.wait_for_record(view.event_id);
            }
        }
        Ok(())
    }

    async fn on_part(&mut self, part: PartStored) -> Result<()> {
        let camera = CameraId::from(part.camera_id);
        if self.camera.is_some_and(|c| c != camera) {
            return Ok(());
        }
        let event = EventId::from(part.event_id);
        if self.seen.contains(&event) {
            return Ok(());
        }
        if part.kind == PartKind::Record {
            self.pending.remove(&event);
            self.yield_event(event).await
        } else {
            self.wait_for_record(event);
            Ok(())
        }
    }

    /// Waits [`RECORD_GRACE`] for `event`'s record. Past [`MAX_PENDING`]
    /// waiting, a new event is not waited for: it is yielded when its
    /// record's notice comes, or not at all.
    fn wait_for_record(&mut self, event: EventId) {
        if self.pending.len() < MAX_PENDING || self.pending.contains_key(&event) {
            self.pending
                .entry(event)
                .or_insert_with(|| Instant::now() + RECORD_GRACE);
        }
    }

    /// Yields the events whose record did not come in time, without it.
    async fn give_up_waiting(&mut self) -> Result<()> {
        let now = Instant::now();
        let due: Vec<EventId> = self
            .pending
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(e, _)| *e)
            .collect();
        for event in due {
            self.pending.remove(&event);
            self.yield_event(event).await?;
        }
        Ok(())
    }

    /// Looks the event up and queues it with its record. An event deleted
    /// meanwhile is skipped.
    async fn yield_event(&mut self, event: EventId) -> Result<()> {
        if !self.seen.insert(event) {
            return Ok(());
        }
        match self.client.event_view(event).await {
            Ok(view) => {
                self.push(view).await;
                Ok(())
            }
            Err(ClientError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn push(&mut self, view: EventView) {
        // The stream's notice named a camera; the lookup may name another.
        if self.camera.is_some_and(|c| c != view.camera_id) {
            return;
        }
        let record = self.client.event_record(&view).await;
        self.ready.push_back(TimelineEntry {
            event: view,
            record,
        });
    }
}

/// The events seen, at most [`MAX_SEEN`] of them: the oldest are forgotten.
#[derive(Debug, Default)]
struct Seen {
    set: HashSet<EventId>,
    order: VecDeque<EventId>,
}

impl Seen {
    /// Remembers `event`; `false` when it was remembered already.
    fn insert(&mut self, event: EventId) -> bool {
        if !self.set.insert(event) {
            return false;
        }
        self.order.push_back(event);
        while self.order.len() > MAX_SEEN {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    fn contains(&self, event: &EventId) -> bool {
        self.set.contains(event)
    }

    /// Forgets `event` (its place in the order goes when it comes round).
    fn remove(&mut self, event: &EventId) {
        self.set.remove(event);
    }
}
