//! Prometheus metrics, served on their own listener (`GET /metrics`).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use sealcam_wire::ErrorCode;

/// Labels of a request counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: Cow<'static, str>,
    route: Route,
    status: u16,
}

/// Labels of the latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: Route,
}

/// A route template as a label value, shared with the router's own copy
/// (labels are built on every request; this one costs no allocation).
#[derive(Debug, Clone)]
struct Route(Option<MatchedPath>);

impl Route {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or("unmatched", MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl std::hash::Hash for Route {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// A request method as a label value; the common ones without allocation.
fn method_label(method: &Method) -> Cow<'static, str> {
    match method.as_str() {
        "GET" => Cow::Borrowed("GET"),
        "PUT" => Cow::Borrowed("PUT"),
        "POST" => Cow::Borrowed("POST"),
        "DELETE" => Cow::Borrowed("DELETE"),
        "HEAD" => Cow::Borrowed("HEAD"),
        other => Cow::Owned(other.to_owned()),
    }
}

/// Labels of the rejection counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectionLabels {
    code: String,
}

/// Labels of the refused-upload counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SlotLabels {
    cap: &'static str,
}

/// Labels of the event-stream message counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamMessageLabels {
    event: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    rejections: Family<RejectionLabels, Counter>,
    /// Request body bytes stored (uploads, records).
    pub bytes_in: Counter,
    /// Response body bytes announced by `Content-Length`.
    pub bytes_out: Counter,
    /// Uploads being processed now.
    pub uploads_in_flight: Gauge,
    slots_full: Family<SlotLabels, Counter>,
    /// Connections closed because a TLS handshake or request head did not
    /// arrive within `header_timeout_secs`.
    pub connections_timed_out: Counter,
    /// TLS handshakes that failed.
    pub tls_handshake_failures: Counter,
    /// Certificate reloads (`SIGHUP`) that failed; the old one stays.
    pub tls_reload_failures: Counter,
    /// 1 while the blob store is full (uploads answer 507).
    pub storage_full: Gauge,
    /// Event streams (`GET /v1/events/stream`) open now.
    pub event_streams: Gauge,
    stream_messages: Family<StreamMessageLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sealcam");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let rejections = Family::<RejectionLabels, Counter>::default();
        let bytes_in = Counter::default();
        let bytes_out = Counter::default();
        let uploads_in_flight = Gauge::default();
        let slots_full = Family::<SlotLabels, Counter>::default();
        let connections_timed_out = Counter::default();
        let tls_handshake_failures = Counter::default();
        let tls_reload_failures = Counter::default();
        let storage_full = Gauge::default();
        let event_streams = Gauge::default();
        let stream_messages = Family::<StreamMessageLabels, Counter>::default();
        registry.register(
            "event_streams",
            "Event streams (GET /v1/events/stream) open",
            event_streams.clone(),
        );
        registry.register(
            "event_stream_messages",
            "Messages sent on event streams, by event (ready, part, lagged)",
            stream_messages.clone(),
        );
        registry.register(
            "storage_full",
            "1 while the blob store is full and uploads answer 507",
            storage_full.clone(),
        );
        registry.register(
            "upload_slots_full",
            "Uploads refused with 503 because a cap was full (server, camera or account)",
            slots_full.clone(),
        );
        registry.register(
            "connections_timed_out",
            "Connections closed for a TLS handshake or request head slower than header_timeout_secs",
            connections_timed_out.clone(),
        );
        registry.register(
            "tls_handshake_failures",
            "TLS handshakes that failed",
            tls_handshake_failures.clone(),
        );
        registry.register(
            "tls_reload_failures",
            "Certificate reloads on SIGHUP that failed (the previous certificate stays)",
            tls_reload_failures.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route (until the response head)",
            latency.clone(),
        );
        registry.register(
            "rejections",
            "Requests refused by error code (overload, rate limit, auth, size, …)",
            rejections.clone(),
        );
        registry.register(
            "bytes_in",
            "Request body bytes received and stored",
            bytes_in.clone(),
        );
        registry.register("bytes_out", "Response body bytes sent", bytes_out.clone());
        registry.register(
            "uploads_in_flight",
            "Uploads being processed",
            uploads_in_flight.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            rejections,
            bytes_in,
            bytes_out,
            uploads_in_flight,
            slots_full,
            connections_timed_out,
            tls_handshake_failures,
            tls_reload_failures,
            storage_full,
            event_streams,
            stream_messages,
        }
    }

    /// Counts a message sent on an event stream (`event`: its SSE event name).
    pub fn stream_message(&self, event: &'static str) {
        self.stream_messages
            .get_or_create(&StreamMessageLabels { event })
            .inc();
    }

    /// Counts an upload refused because `cap` was full.
    pub fn upload_slots_full(&self, cap: crate::slots::Full) {
        self.slots_full
            .get_or_create(&SlotLabels { cap: cap.as_str() })
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics");
        }
        out
    }
}

/// Middleware recording every request of the API router.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(request.method());
    let route = Route(request.extensions().get::<MatchedPath>().cloned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(start.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status,
        })
        .inc();
    if let Some(code) = response.extensions().get::<ErrorCode>() {
        let code = serde_json::to_value(code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        metrics
            .rejections
            .get_or_create(&RejectionLabels { code })
            .inc();
    }
    if let Some(len) = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        metrics.bytes_out.inc_by(len);
    }
    response
}

/// `GET /metrics` on the metrics listener.
pub async fn serve_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
}
