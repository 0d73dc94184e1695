//! An HTTP proxy in front of the real server: the place where the tests break
//! things. It forwards every request (bodies streamed both ways) to an
//! upstream it can be re-pointed at, counts the statuses the server answered,
//! and lets a [`Hook`] answer a request itself or rewrite an answer — a
//! broken cache, a hostile operator. Nothing of this is in production code.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use bytes::Bytes;
use futures_util::TryStreamExt as _;

/// What a hook sees of a request.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The method.
    pub method: Method,
    /// The path (no query).
    pub path: String,
    /// The query, if any.
    pub query: Option<String>,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The `Authorization` header, if any.
    pub auth: Option<String>,
}

impl RequestInfo {
    /// The path split on `/`, without the empty first segment.
    pub fn segments(&self) -> Vec<&str> {
        self.path.trim_start_matches('/').split('/').collect()
    }
}

/// An answer made by a hook instead of the server.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// An answer with `body` and no extra headers.
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Serves `whole` like the server does, honouring one `Range`
    /// (`bytes=A-B`, `bytes=A-`, `bytes=-N`).
    pub fn ranged(whole: &[u8], range: Option<&str>) -> Self {
        let len = whole.len() as u64;
        let Some(spec) = range.and_then(|r| r.strip_prefix("bytes=")) else {
            let mut r = Self::new(200, Bytes::copy_from_slice(whole));
            r.headers.push(("accept-ranges".into(), "bytes".into()));
            return r;
        };
        let (a, b) = spec.split_once('-').unwrap_or((spec, ""));
        let (start, end) = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
            (Some(a), Some(b)) => (a, b.min(len.saturating_sub(1))),
            (Some(a), None) => (a, len.saturating_sub(1)),
            (None, Some(n)) => (len.saturating_sub(n), len.saturating_sub(1)),
            (None, None) => (1, 0),
        };
        if len == 0 || start > end || start >= len {
            let mut r = Self::new(416, Bytes::new());
            r.headers
                .push(("content-range".into(), format!("bytes */{len}")));
            return r;
        }
        let body = Bytes::copy_from_slice(&whole[start as usize..=end as usize]);
        let mut r = Self::new(206, body);
        r.headers
            .push(("content-range".into(), format!("bytes {start}-{end}/{len}")));
        r.headers.push(("accept-ranges".into(), "bytes".into()));
        r
    }
}

/// A transport fault the proxy injects (for a hook's [`Hook::fault`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Hold the request this long, then forward it.
    Stall(std::time::Duration),
    /// Forward the request, then cut the connection instead of answering:
    /// the upstream acted on it, the client never hears how. (Only while
    /// reading the body: an answer whose body the client does not read
    /// gets through.)
    Reset,
    /// Forward the request, then answer 504 as a gateway that gave up
    /// waiting does: the upstream acted on it, the client hears it failed.
    LostAnswer,
}

/// What the tests plug into the proxy.
pub trait Hook: Send + Sync + 'static {
    /// A transport fault to inject into `req` (`None`: none).
    fn fault(&self, _req: &RequestInfo) -> Option<Fault> {
        None
    }

    /// Answers `req` instead of the server (`None`: forward it).
    fn answer(&self, _req: &RequestInfo) -> Option<Reply> {
        None
    }

    /// Whether the server's answer to `req` should go through [`rewrite`](Self::rewrite)
    /// (it is then buffered).
    fn rewrites(&self, _req: &RequestInfo) -> bool {
        false
    }

    /// Rewrites the server's answer body to `req`.
    fn rewrite(&self, _req: &RequestInfo, _status: u16, body: Bytes) -> Bytes {
        body
    }
}

/// A hook that changes nothing.
#[derive(Debug, Default)]
pub struct PassThrough;

impl Hook for PassThrough {}

/// Statuses the upstream server answered (not those the proxy made up).
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests forwarded.
    pub forwarded: AtomicU64,
    /// Requests answered by the hook.
    pub answered_by_hook: AtomicU64,
    /// Requests that could not reach the server (answered 502 by the proxy).
    pub unreachable: AtomicU64,
    /// `503` answers of the server that carried `Retry-After`.
    pub status_503_with_retry_after: AtomicU64,
    /// `503` answers of the server without `Retry-After`.
    pub status_503_without_retry_after: AtomicU64,
    /// Any other `5xx` answer of the server.
    pub other_5xx: AtomicU64,
    /// `2xx` answers of the server to uploads (`PUT …/parts/{kind}`).
    pub uploads_ok: AtomicU64,
}

impl Stats {
    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::SeqCst)
    }
}

struct Shared {
    upstream: RwLock<Option<String>>,
    hook: RwLock<Arc<dyn Hook>>,
    stats: Stats,
    http: reqwest::Client,
}

/// A running proxy on `127.0.0.1:0`.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("addr", &self.addr).finish()
    }
}

impl Proxy {
    /// Starts a proxy to `upstream` (a base URL such as `http://127.0.0.1:1234`)
    /// on the current tokio runtime.
    pub async fn start(upstream: Option<String>) -> std::io::Result<Self> {
        sealcam_client::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            upstream: RwLock::new(upstream),
            hook: RwLock::new(Arc::new(PassThrough)),
            stats: Stats::default(),
            http,
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        // As the server does: without TCP_NODELAY a streamed answer's last
        // small write waits for the client's delayed ACK (40 ms per request).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            shared,
            stop: Some(stop),
        })
    }

    /// The proxy's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Points the proxy at another server (`None`: every request answers 502).
    pub fn set_upstream(&self, upstream: Option<String>) {
        if let Ok(mut u) = self.shared.upstream.write() {
            *u = upstream;
        }
    }

    /// Installs a hook (replacing the previous one).
    pub fn set_hook(&self, hook: Arc<dyn Hook>) {
        if let Ok(mut h) = self.shared.hook.write() {
            *h = hook;
        }
    }

    /// Removes the hook.
    pub fn clear_hook(&self) {
        self.set_hook(Arc::new(PassThrough));
    }

    /// What the server answered through this proxy.
    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn reply_response(reply: Reply) -> Response<Body> {
    let mut resp = Response::new(Body::from(reply.body));
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
    "expect",
];

async fn forward(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let info = RequestInfo {
        method: req.method().clone(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().map(str::to_owned),
        range: header_text(req.headers(), "range"),
        auth: header_text(req.headers(), "authorization"),
    };
    let hook = match shared.hook.read() {
        Ok(h) => h.clone(),
        Err(_) => return reply_response(Reply::new(502, "proxy hook poisoned")),
    };
    if let Some(reply) = hook.answer(&info) {
        shared.stats.answered_by_hook.fetch_add(1, Ordering::SeqCst);
        return reply_response(reply);
    }
    let fault = hook.fault(&info);
    if let Some(Fault::Stall(wait)) = fault {
        tokio::time::sleep(wait).await;
    }
    let upstream = shared.upstream.read().ok().and_then(|u| u.clone());
    let Some(upstream) = upstream else {
        shared.stats.unreachable.fetch_add(1, Ordering::SeqCst);
        return reply_response(Reply::new(502, "no upstream"));
    };
    let url = match &info.query {
        Some(q) => format!("{upstream}{}?{q}", info.path),
        None => format!("{upstream}{}", info.path),
    };
    let (parts, body) = req.into_parts();
    let mut out = shared.http.request(parts.method.clone(), url);
    for (k, v) in &parts.headers {
        // The body is streamed through as it came, so its declared length
        // stays true (S3 refuses a PUT without one).
        if !HOP_BY_HOP.contains(&k.as_str()) || k == "content-length" {
            out = out.header(k, v);
        }
    }
    if parts.method != Method::GET && parts.method != Method::HEAD {
        out = out.body(reqwest::Body::wrap_stream(body.into_data_stream()));
    }
    let resp = match out.send().await {
        Ok(r) => r,
        Err(e) => {
            shared.stats.unreachable.fetch_add(1, Ordering::SeqCst);
            return reply_response(Reply::new(502, format!("proxy: {e}")));
        }
    };
    shared.stats.forwarded.fetch_add(1, Ordering::SeqCst);
    let status = resp.status().as_u16();
    if status == 503 {
        if resp.headers().contains_key("retry-after") {
            shared
                .stats
                .status_503_with_retry_after
                .fetch_add(1, Ordering::SeqCst);
        } else {
            shared
                .stats
                .status_503_without_retry_after
                .fetch_add(1, Ordering::SeqCst);
        }
    } else if status >= 500 {
        shared.stats.other_5xx.fetch_add(1, Ordering::SeqCst);
    } else if (200..300).contains(&status)
        && parts.method == Method::PUT
        && info.segments().len() == 5
        && info.path.starts_with("/v1/events/")
    {
        shared.stats.uploads_ok.fetch_add(1, Ordering::SeqCst);
    }
    if fault == Some(Fault::LostAnswer) {
        return reply_response(Reply::new(504, "fault proxy: the answer was lost"));
    }
    if fault == Some(Fault::Reset) {
        // Answer a head, then fail the body: hyper cuts the connection.
        let cut = futures_util::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("reset by the fault proxy"))
        });
        return Response::builder()
            .status(status)
            .body(Body::from_stream(cut))
            .unwrap_or_else(|_| reply_response(Reply::new(502, "proxy: bad answer")));
    }
    let rewrites = hook.rewrites(&info);
    let mut builder = Response::builder().status(status);
    for (k, v) in resp.headers() {
        // An answer streamed through unchanged keeps its length (object
        // stores' clients require it); a rewritten one gets its own.
        let keep_length = k == "content-length" && !rewrites;
        if !HOP_BY_HOP.contains(&k.as_str()) || keep_length {
            builder = builder.header(k, v);
        }
    }
    let body = if rewrites {
        match resp.bytes().await {
            Ok(b) => Body::from(hook.rewrite(&info, status, b)),
            Err(e) => return reply_response(Reply::new(502, format!("proxy: {e}"))),
        }
    } else {
        Body::from_stream(resp.bytes_stream().map_err(std::io::Error::other))
    };
    builder
        .body(body)
        .unwrap_or_else(|_| reply_response(Reply::new(502, "proxy: bad answer")))
}

type AnswerFn = dyn Fn(&RequestInfo) -> Option<Reply> + Send + Sync;
type RewriteFn = dyn Fn(&RequestInfo, u16, Bytes) -> Option<Bytes> + Send + Sync;
type MatchFn = dyn Fn(&RequestInfo) -> bool + Send + Sync;

/// A hook made of closures: `answer` may answer a request itself, `rewrite`
/// may replace the server's answer body (returning `None` keeps it).
pub struct FnHook {
    answer: Box<AnswerFn>,
    rewrite: Option<(Box<MatchFn>, Box<RewriteFn>)>,
}

impl FnHook {
    /// A hook that answers what `answer` answers and forwards the rest.
    pub fn answering(
        answer: impl Fn(&RequestInfo) -> Option<Reply> + Send + Sync + 'static,
    ) -> Self {
        Self {
            answer: Box::new(answer),
            rewrite: None,
        }
    }

    /// A hook that rewrites the answers to the requests `matches` selects.
    pub fn rewriting(
        matches: impl Fn(&RequestInfo) -> bool + Send + Sync + 'static,
        rewrite: impl Fn(&RequestInfo, u16, Bytes) -> Option<Bytes> + Send + Sync + 'static,
    ) -> Self {
        Self {
            answer: Box::new(|_| None),
            rewrite: Some((Box::new(matches), Box::new(rewrite))),
        }
    }
}

impl Hook for FnHook {
    fn answer(&self, req: &RequestInfo) -> Option<Reply> {
        (self.answer)(req)
    }

    fn rewrites(&self, req: &RequestInfo) -> bool {
        self.rewrite.as_ref().is_some_and(|(m, _)| m(req))
    }

    fn rewrite(&self, req: &RequestInfo, status: u16, body: Bytes) -> Bytes {
        match &self.rewrite {
            Some((_, f)) => f(req, status, body.clone()).unwrap_or(body),
            None => body,
        }
    }
}
