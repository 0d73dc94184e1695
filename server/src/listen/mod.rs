//! The API listener: accepts TCP connections, terminates TLS when
//! `[server.tls]` names a certificate, and serves each connection with
//! hyper's HTTP/1.1 under three timeouts (`[limits]`):
//!
//! - `header_timeout_secs`: the TLS handshake, and each request's head, must
//!   arrive within it (a slowloris client sending one header line a minute is
//!   cut off; an idle keep-alive connection is closed after it too);
//! - `body_idle_timeout_secs`: a request body that sends nothing for this long
//!   fails (the upload is abandoned, nothing of it becomes visible);
//! - `request_timeout_secs`: the whole request, body included, up to the
//!   response head; past it the server answers `408`.
//!
//! Every connection gets the peer address as axum's `ConnectInfo`, as
//! `into_make_service_with_connect_info` would give it. On shutdown the
//! listener closes and open connections finish their request (the caller
//! bounds the wait).

mod idle;
mod tls;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

use self::idle::IdleBody;

pub use self::tls::{acceptor, CertResolver, TlsError};
use crate::config::{LimitsConfig, TlsConfig};
use crate::error::ServerError;
use crate::metrics::Metrics;

/// The certificate of `[server.tls]`, if configured (both files or neither).
pub fn tls_from_config(tls: &TlsConfig) -> Result<Option<Arc<CertResolver>>, ServerError> {
    match (&tls.cert, &tls.key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => CertResolver::load(cert, key)
            .map(|r| Some(Arc::new(r)))
            .map_err(|e| ServerError::Config(format!("[server.tls]: {e}"))),
        _ => Err(ServerError::Config(
            "[server.tls] needs both `cert` and `key` (or neither, for plain HTTP)".into(),
        )),
    }
}

/// Reloads `resolver`'s files on every `SIGHUP` until `stop` turns true.
pub fn reload_on_sighup(
    resolver: Arc<CertResolver>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ServerError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangup = signal(SignalKind::hangup()).map_err(|source| ServerError::Io {
        what: "installing the SIGHUP handler".into(),
        source,
    })?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                received = hangup.recv() => {
                    if received.is_none() {
                        return;
                    }
                    match resolver.reload() {
                        Ok(()) => tracing::info!("SIGHUP: TLS certificate reloaded"),
                        Err(e) => {
                            metrics.tls_reload_failures.inc();
                            tracing::error!(error = %e, "SIGHUP: TLS certificate not reloaded; serving the previous one");
                        }
                    }
                }
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    });
    Ok(())
}

/// The three timeouts of a connection (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TLS handshake and each request head.
    pub header: Duration,
    /// Longest silence of a request body.
    pub body_idle: Duration,
    /// A whole request, up to the response head.
    pub request: Duration,
}

impl Timeouts {
    /// The timeouts configured in `[limits]`.
    pub fn from_limits(limits: &LimitsConfig) -> Self {
        Self {
            header: Duration::from_secs(limits.header_timeout_secs.max(1)),
            body_idle: Duration::from_secs(limits.body_idle_timeout_secs.max(1)),
            request: Duration::from_secs(limits.request_timeout_secs.max(1)),
        }
    }
}

/// Everything a connection task needs.
#[derive(Clone)]
struct Conn {
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    timeouts: Timeouts,
    metrics: Arc<Metrics>,
}

/// Serves `app` on `listener` until `stop` turns true, then stops accepting
/// and waits for open connections to finish their requests (the caller
/// bounds that wait).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    timeouts: Timeouts,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let conn = Conn {
        app,
        tls,
        timeouts,
        metrics,
    };
    let graceful = GracefulShutdown::new();
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    if let Err(e) = tcp.set_nodelay(true) {
                        tracing::warn!(error = %e, "could not set TCP_NODELAY");
                    }
                    let conn = conn.clone();
                    let watcher = graceful.watcher();
                    tokio::spawn(async move { conn.run(tcp, peer, watcher).await });
                }
                Err(e) => {
                    // Out of file descriptors and the like: not fatal, but do
                    // not spin.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut stopped => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

impl Conn {
    async fn run(
        self,
        tcp: tokio::net::TcpStream,
        peer: SocketAddr,
        watcher: hyper_util::server::graceful::Watcher,
    ) {
        match self.tls.clone() {
            None => self.http(tcp, peer, watcher).await,
            Some(acceptor) => {
                match tokio::time::timeout(self.timeouts.header, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => self.http(stream, peer, watcher).await,
                    Ok(Err(e)) => {
                        self.metrics.tls_handshake_failures.inc();
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    }
                    Err(_) => {
                        self.metrics.connections_timed_out.inc();
                        tracing::debug!(%peer, "TLS handshake timed out");
                    }
                }
            }
        }
    }

    async fn http<I>(self, io: I, peer: SocketAddr, watcher: hyper_util::server::graceful::Watcher)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Conn {
            app,
            timeouts,
            metrics,
            ..
        } = self;
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let (mut parts, body) = request.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            let idle = Arc::new(AtomicBool::new(false));
            let body = IdleBody::new(body, timeouts.body_idle, Arc::clone(&idle));
            let request = Request::from_parts(parts, axum::body::Body::new(body));
            let app = app.clone();
            async move {
                match tokio::time::timeout(timeouts.request, app.oneshot(request)).await {
                    // The handler answered about a body that failed; it
                    // failed because the client went silent: say so.
                    Ok(_) if idle.load(Ordering::Acquire) => Ok(request_timed_out()),
                    Ok(response) => response,
                    Err(_) => Ok(request_timed_out()),
                }
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.header);
        let connection = builder.serve_connection(TokioIo::new(io), service);
        if let Err(e) = watcher.watch(connection).await {
            if e.is_timeout() {
                metrics.connections_timed_out.inc();
                tracing::debug!(%peer, "connection timed out waiting for a request head");
            } else {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
    }
}

/// The answer to a request that outlived `request_timeout_secs`.
fn request_timed_out() -> Response {
    crate::error::AppError::Timeout.into_response()
}
