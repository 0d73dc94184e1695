//! The state shared by every handler.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use crate::blobs::BlobStore;
use crate::config::Config;
use crate::feed::Feed;
use crate::metrics::Metrics;
use crate::proxy::TrustedProxies;
use crate::ratelimit::FailedAuthLimiter;
use crate::slots::UploadSlots;
use crate::store::Database;

/// Cheaply cloneable handle on the server's shared state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What [`AppState`] holds.
pub struct Inner {
    /// Metadata database.
    pub db: Arc<dyn Database>,
    /// Blob store.
    pub blobs: BlobStore,
    /// Configuration in force.
    pub config: Config,
    /// Failed-authentication limiter.
    pub limiter: FailedAuthLimiter,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub proxies: TrustedProxies,
    /// Upload slots (global, per camera, per account); none free means 503.
    pub uploads: UploadSlots,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Newly stored parts, for the event streams.
    pub feed: Arc<Feed>,
}

impl AppState {
    /// Builds the state.
    pub fn new(
        db: Arc<dyn Database>,
        blobs: BlobStore,
        config: Config,
        metrics: Arc<Metrics>,
    ) -> Self {
        let limiter = FailedAuthLimiter::new(
            config.auth.failed_auth_limit,
            Duration::from_secs(config.auth.failed_auth_window_secs),
        );
        // `Server::bind` refuses an invalid list before it gets here.
        let proxies = TrustedProxies::parse(&config.server.trusted_proxies).unwrap_or_else(|e| {
            tracing::error!(error = %e, "ignoring server.trusted_proxies");
            TrustedProxies::default()
        });
        let uploads = UploadSlots::new(&config.limits);
        let feed = Arc::new(Feed::new(!db.announces_parts()));
        Self(Arc::new(Inner {
            db,
            blobs,
            config,
            limiter,
            proxies,
            uploads,
            metrics,
            feed,
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The current time in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
