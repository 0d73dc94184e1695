//! The event stream: server-sent events telling a viewer that parts were
//! stored. What a watcher is told, and why, is the feed's
//! ([`crate::feed::Watch`]); this handler turns it into SSE.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{stream, Stream, StreamExt as _};
use sealcam_wire::{ErrorBody, PartStored};

use crate::auth::Viewer;
use crate::error::AppResult;
use crate::feed::{Heard, Watch};
use crate::metrics::Metrics;
use crate::state::AppState;

/// Newly stored parts of the cameras the caller may see, as server-sent
/// events: `ready` once subscribed, then `part` (data: `PartStored`) for
/// each new part, `lagged` when some may have been missed (list again).
/// The stream ends after `limits.stream_max_secs`; reconnect.
#[utoipa::path(get, path = "/v1/events/stream", tag = "media", security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/event-stream", body = PartStored,
            description = "event: ready (data: {}), then event: part (data: PartStored) per new part; \
                event: lagged (data: {}) when parts may have been missed; a comment every \
                limits.stream_keepalive_secs"),
        (status = 401, body = ErrorBody)))]
pub async fn stream_events(
    State(state): State<AppState>,
    Viewer(v): Viewer,
) -> AppResult<Response> {
    let watch = Watch::start(&state, v).await?;
    let limits = &state.config.limits;
    let lifetime = tokio::time::sleep(Duration::from_secs(limits.stream_max_secs.max(1)));
    let keep_alive =
        KeepAlive::new().interval(Duration::from_secs(limits.stream_keepalive_secs.max(1)));
    let events = events(watch, Arc::clone(&state.metrics)).take_until(lifetime);
    let sse = Sse::new(events).keep_alive(keep_alive);
    // nginx would otherwise hold the events back in its buffer.
    Ok(([("x-accel-buffering", "no")], sse).into_response())
}

/// `ready`, then what `watch` hears, until it ends.
fn events(
    watch: Watch,
    metrics: Arc<Metrics>,
) -> impl Stream<Item = Result<Event, axum::Error>> + Send + 'static {
    let open = OpenStream::new(metrics);
    open.sent("ready");
    let ready = stream::once(async { Ok(Event::default().event("ready").data("{}")) });
    let heard = stream::unfold((watch, open), |(mut watch, open)| async move {
        let event = match watch.next().await? {
            Heard::Part(part) => {
                open.sent("part");
                Event::default().event("part").json_data(part)
            }
            Heard::Lagged => {
                open.sent("lagged");
                Ok(Event::default().event("lagged").data("{}"))
            }
        };
        Some((event, (watch, open)))
    });
    ready.chain(heard)
}

/// Counts an open stream (`sealcam_event_streams`) for as long as it lives.
struct OpenStream(Arc<Metrics>);

impl OpenStream {
    fn new(metrics: Arc<Metrics>) -> Self {
        metrics.event_streams.inc();
        Self(metrics)
    }

    fn sent(&self, event: &'static str) {
        self.0.stream_message(event);
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.event_streams.dec();
    }
}
