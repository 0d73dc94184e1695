//! `sealcam-server`: the blind blob server of sealcam.
//!
//! Cameras seal every thumbnail, clip and event record to their owner's
//! viewer keys before upload; this server stores the sealed bytes, decides
//! from its database on every request who may fetch them, and can open
//! none of them. It depends on no cryptography of the media format: it never
//! parses an age header or payload.
//!
//! The server is a library with a thin binary, so tests start it in-process:
//!
//! ```no_run
//! # async fn demo() -> Result<(), sealcam_server::ServerError> {
//! let dir = std::env::temp_dir().join("sealcam-demo");
//! let server = sealcam_server::Server::bind(sealcam_server::Config::ephemeral(&dir)).await?;
//! let running = server.spawn();
//! println!("listening on http://{}", running.addr());
//! let account = running.create_account("household").await?;
//! println!("enroll with {}", account.enrollment_token);
//! running.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! The HTTP contract is written down in `docs/API.md`.
#![forbid(unsafe_code)]

pub mod auth;
pub mod blobs;
pub mod config;
pub mod error;
pub mod feed;
pub mod listen;
pub mod metrics;
pub mod migrate;
pub mod open_files;
pub mod openapi;
pub mod parts;
pub mod proxy;
pub mod range;
pub mod ratelimit;
pub mod routes;
pub mod slots;
pub mod state;
pub mod store;
pub mod tasks;
pub mod tls;
pub mod tokens;

use std::future::{Future, IntoFuture as _};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sealcam_wire::token_prefix;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::blobs::BlobStore;
pub use crate::config::Config;
pub use crate::error::ServerError;
use crate::metrics::Metrics;
use crate::parts::Parts;
use crate::state::{now, AppState};
use crate::store::postgres::PartListener;
use crate::store::{Database, OneTimeKind};

/// An account just created by the operator.
#[derive(Debug, Clone, Serialize)]
pub struct NewAccount {
    /// The account (= owner) id.
    pub account_id: Uuid,
    /// Its name.
    pub name: String,
    /// The one-time enrollment token (`sce_…`) for its first device.
    pub enrollment_token: String,
    /// When the token expires (Unix seconds).
    pub expires_at: i64,
}

/// Creates the data directory with mode 0700 if it is missing.
fn ensure_dir(path: &Path) -> Result<(), ServerError> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| ServerError::Io {
            what: format!("creating {}", path.display()),
            source,
        })
}

/// Opens the configured database (creating the data directory first).
pub async fn open_database(config: &Config) -> Result<Arc<dyn Database>, ServerError> {
    if config.database.url.is_none() {
        let dir = config.data_dir();
        ensure_dir(&dir)?;
        // Create the database file owner-only; SQLite gives its -wal and -shm
        // files the same mode.
        use std::os::unix::fs::OpenOptionsExt as _;
        let path = dir.join("sealcam.db");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| ServerError::Io {
                what: format!("creating {}", path.display()),
                source,
            })?;
    }
    Ok(store::open(&config.database_url(), config.database.max_connections).await?)
}

/// Creates an account and its one-time enrollment token (`accounts create`).
pub async fn create_account(
    db: &dyn Database,
    config: &Config,
    name: &str,
) -> Result<NewAccount, ServerError> {
    let account_id = Uuid::new_v4();
    let now = now();
    db.create_account(account_id, name, now).await?;
    let token = tokens::generate(token_prefix::ENROLLMENT);
    let expires_at = now + config.auth.enrollment_ttl_secs as i64;
    db.create_one_time(
        OneTimeKind::Enrollment,
        &token.hash,
        account_id,
        None,
        expires_at,
        now,
    )
    .await?;
    Ok(NewAccount {
        account_id,
        name: name.to_owned(),
        enrollment_token: token.token,
        expires_at,
    })
}

/// A bound, not yet running server.
pub struct Server {
    state: AppState,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    tls: Option<Arc<listen::CertResolver>>,
    /// PostgreSQL: listening for the parts every replica records, from
    /// `bind` on (so that a stream opened once the server answers hears
    /// every part recorded after).
    parts: Option<PartListener>,
}

impl Server {
    /// Opens storage, runs migrations and binds the listeners.
    pub async fn bind(config: Config) -> Result<Self, ServerError> {
        proxy::TrustedProxies::parse(&config.server.trusted_proxies)
            .map_err(ServerError::Config)?;
        let tls = listen::tls_from_config(&config.server.tls)?;
        let db = open_database(&config).await?;
        if config.storage.url.is_none() && config.storage.path.is_none() {
            ensure_dir(&config.data_dir())?;
        }
        let blobs = BlobStore::open(&config)?;
        tracing::info!(blobs = blobs.describe(), "blob store");
        let listener = TcpListener::bind(config.server.listen)
            .await
            .map_err(|source| ServerError::Io {
                what: format!("binding {}", config.server.listen),
                source,
            })?;
        let metrics_listener = if config.server.metrics_enabled {
            Some(
                TcpListener::bind(config.server.metrics_listen)
                    .await
                    .map_err(|source| ServerError::Io {
                        what: format!("binding metrics {}", config.server.metrics_listen),
                        source,
                    })?,
            )
        } else {
            None
        };
        let parts = db.listen_parts().await?;
        let state = AppState::new(db, blobs, config, Arc::new(Metrics::new()));
        Ok(Self {
            state,
            listener,
            metrics_listener,
            tls,
            parts,
        })
    }

    /// The bound API address.
    pub fn addr(&self) -> SocketAddr {
        local_addr(&self.listener)
    }

    /// The API's base URL: `https://` when the server terminates TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr())
    }

    /// The bound metrics address, if enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(local_addr)
    }

    /// The shared state (database, blobs, configuration).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish
    /// for at most `server.shutdown_grace_secs`.
    pub async fn run<F>(self, shutdown: F) -> Result<(), ServerError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Server {
            state,
            listener,
            metrics_listener,
            tls,
            parts,
        } = self;
        let grace = Duration::from_secs(state.config.server.shutdown_grace_secs);
        let (stop_tx, stop_rx) = watch::channel(false);

        let mut background = tasks::spawn(state.clone(), stop_rx.clone());
        if let Some(parts) = parts {
            background.push(tokio::spawn(feed::relay(
                parts,
                Arc::clone(&state.feed),
                stop_rx.clone(),
            )));
        }

        let metrics_task = metrics_listener.map(|listener| {
            let app = axum::Router::new()
                .route("/metrics", axum::routing::get(metrics::serve_metrics))
                .with_state(Arc::clone(&state.metrics));
            let mut stop = stop_rx.clone();
            tokio::spawn(
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .into_future(),
            )
        });

        let app = routes::router(state.clone());
        let acceptor = match tls {
            Some(resolver) => {
                listen::reload_on_sighup(
                    Arc::clone(&resolver),
                    Arc::clone(&state.metrics),
                    stop_rx.clone(),
                )?;
                Some(listen::acceptor(resolver).map_err(|e| ServerError::Config(e.to_string()))?)
            }
            None => None,
        };
        let serve = listen::serve(
            listener,
            app,
            acceptor,
            listen::Timeouts::from_limits(&state.config.limits),
            Arc::clone(&state.metrics),
            stop_rx.clone(),
        );
        let mut serve_task = tokio::spawn(serve);

        tokio::select! {
            result = &mut serve_task => {
                let _ = stop_tx.send(true);
                state.feed.close();
                result?;
            }
            () = shutdown => {
                tracing::info!(grace_secs = grace.as_secs(), "shutting down: finishing in-flight requests");
                let _ = stop_tx.send(true);
                // Event streams end now: they are not requests to finish.
                state.feed.close();
                match tokio::time::timeout(grace, &mut serve_task).await {
                    Ok(result) => result?,
                    Err(_) => {
                        tracing::warn!("shutdown grace elapsed; dropping the remaining connections");
                        serve_task.abort();
                    }
                }
            }
        }
        if let Some(task) = metrics_task {
            task.abort();
        }
        for task in background {
            let _ = task.await;
        }
        tracing::info!("stopped");
        Ok(())
    }

    /// Runs the server in the background (for tests and embedding).
    pub fn spawn(self) -> RunningServer {
        let addr = self.addr();
        let metrics_addr = self.metrics_addr();
        let state = self.state.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(self.run(async move {
            let _ = rx.await;
        }));
        RunningServer {
            addr,
            metrics_addr,
            state,
            stop: Some(tx),
            handle,
        }
    }
}

fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// A server running in the background.
pub struct RunningServer {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    /// The API address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The metrics address, if enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Creates an account, as `sealcam-server accounts create` does.
    pub async fn create_account(&self, name: &str) -> Result<NewAccount, ServerError> {
        create_account(self.state.db.as_ref(), &self.state.config, name).await
    }

    /// Runs one retention pass now; returns the number of events deleted.
    pub async fn run_retention(&self) -> Result<u64, ServerError> {
        Ok(Parts::of(&self.state).retention_once().await?)
    }

    /// Runs one orphan sweep now with the given grace; returns blobs removed.
    pub async fn run_sweep(&self, grace: Duration) -> Result<u64, ServerError> {
        Ok(Parts::of(&self.state).sweep(grace).await?)
    }

    /// Stops the server gracefully and waits for it.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.handle).await?
    }
}
