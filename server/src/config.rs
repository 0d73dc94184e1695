//! Configuration: defaults → TOML file (`--config`) → `SEALCAM__SECTION__KEY`
//! environment variables → command-line flags.
//!
//! `sealcam-server default-config` prints [`DEFAULT_CONFIG`], the annotated
//! example; a test checks it parses to exactly [`Config::default`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format as _, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// The fixed, documented default listen address (loopback only).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7443";
/// The default metrics listen address (loopback only).
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:7444";
/// Environment variable prefix; sections and keys are separated by `__`.
pub const ENV_PREFIX: &str = "SEALCAM__";

/// The annotated default configuration printed by `default-config`.
pub const DEFAULT_CONFIG: &str = include_str!("default-config.toml");

/// A configuration error.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listeners, data directory, shutdown.
    pub server: ServerConfig,
    /// Metadata database.
    pub database: DatabaseConfig,
    /// Blob storage.
    pub storage: StorageConfig,
    /// Size and concurrency limits.
    pub limits: LimitsConfig,
    /// Credentials and rate limiting.
    pub auth: AuthConfig,
    /// Background tasks.
    pub tasks: TasksConfig,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// API listen address.
    pub listen: SocketAddr,
    /// Serve Prometheus metrics on a separate listener.
    pub metrics_enabled: bool,
    /// Metrics listen address.
    pub metrics_listen: SocketAddr,
    /// Where the database and blobs live by default (empty: the user's data dir).
    pub data_dir: Option<PathBuf>,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_grace_secs: u64,
    /// Load balancers / reverse proxies (addresses or CIDR networks) whose
    /// `X-Forwarded-For` names the client, for per-client rate limiting.
    pub trusted_proxies: Vec<String>,
    /// TLS on the API listener (`[server.tls]`).
    pub tls: TlsConfig,
}

/// `[server.tls]`: the server terminates TLS itself when both files are set
/// (PEM; `SIGHUP` reloads them). Unset: plain HTTP, for a TLS reverse proxy
/// in front or loopback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// Private key (refused when group- or world-readable).
    pub key: Option<PathBuf>,
}

/// `[database]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; empty:
    /// `sqlite://<data_dir>/sealcam.db`.
    pub url: Option<String>,
    /// Connection pool size.
    pub max_connections: u32,
}

/// `[storage]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Blob store URL: `file:///DIR` or `s3://BUCKET[/PREFIX]` (with
    /// `[storage.s3]`); empty: the local directory `path`.
    pub url: Option<String>,
    /// Local blob directory; empty: `<data_dir>/blobs`.
    pub path: Option<PathBuf>,
    /// S3 settings, used when `url` is `s3://…`.
    pub s3: S3Config,
    /// Local store: how many small blob files downloads keep open for reuse
    /// (0: open and close every time).
    pub open_files: usize,
    /// Parts (header ‖ payload) of at most this many bytes are kept in the
    /// database instead of the blob store (0: none).
    pub in_database_max_bytes: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            url: None,
            path: None,
            s3: S3Config::default(),
            open_files: 256,
            in_database_max_bytes: 64 * 1024,
        }
    }
}

/// `[storage.s3]`: an S3-compatible object store. Anything unset here falls
/// back to the standard AWS environment (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`,
/// `AWS_ENDPOINT_URL_S3`, container and web-identity credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// Endpoint of an S3-compatible service (`https://…`); empty: AWS.
    pub endpoint: Option<String>,
    /// Region; empty: `AWS_REGION`/`AWS_DEFAULT_REGION`, else `us-east-1`.
    pub region: Option<String>,
    /// Access key id; empty: from the AWS environment.
    pub access_key_id: Option<String>,
    /// File holding the secret access key (refused when group/world
    /// readable); empty: from the AWS environment.
    pub secret_access_key_file: Option<PathBuf>,
    /// Permit a plain `http://` endpoint (a store on loopback or a private network).
    pub allow_http: bool,
    /// Address buckets as `BUCKET.endpoint` instead of `endpoint/BUCKET`.
    pub virtual_hosted_style: bool,
    /// Part size of multipart uploads (S3's minimum is 5 MiB). Memory per
    /// upload stays under about three parts.
    pub multipart_part_bytes: u64,
    /// Seconds one request to the store may take (a stalled store fails
    /// it, and it is retried).
    pub timeout_secs: u64,
    /// Retries of a failed request (500s, resets, timeouts).
    pub max_retries: usize,
    /// Seconds after which a request is not retried any more: how long an
    /// upload may wait on a failing store before the camera hears `503`.
    pub retry_timeout_secs: u64,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: None,
            access_key_id: None,
            secret_access_key_file: None,
            allow_http: false,
            virtual_hosted_style: false,
            multipart_part_bytes: 8 * 1024 * 1024,
            timeout_secs: 30,
            max_retries: 3,
            retry_timeout_secs: 20,
        }
    }
}

/// `[limits]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest age header of a part.
    pub max_header_bytes: u64,
    /// Largest thumbnail part (header + payload).
    pub max_thumbnail_bytes: u64,
    /// Largest clip part (header + payload).
    pub max_clip_bytes: u64,
    /// Largest event record part (header + payload).
    pub max_record_bytes: u64,
    /// Largest owner key bundle or viewer list.
    pub max_account_record_bytes: u64,
    /// Largest recipient set (decoded).
    pub max_recipient_set_bytes: u64,
    /// Largest JSON request body.
    pub max_json_bytes: u64,
    /// Uploads processed at once; beyond it the server answers 503.
    pub max_concurrent_uploads: u32,
    /// `Retry-After` seconds of an overload answer.
    pub overload_retry_after_secs: u64,
    /// Uploads one camera may have in flight (its share of the global cap).
    pub max_uploads_per_camera: u32,
    /// Uploads one account's cameras may have in flight together.
    pub max_uploads_per_account: u32,
    /// Bytes one account's cameras may store (headers and payloads); 0: no quota.
    pub account_quota_bytes: u64,
    /// Seconds for the TLS handshake and for each request head.
    pub header_timeout_secs: u64,
    /// Longest silence, in seconds, of a request body.
    pub body_idle_timeout_secs: u64,
    /// Seconds a whole request (body included) may take before `408`.
    pub request_timeout_secs: u64,
    /// Seconds between keep-alive comments of `GET /v1/events/stream`.
    pub stream_keepalive_secs: u64,
    /// Seconds after which `GET /v1/events/stream` ends, so that the client
    /// reconnects and is authenticated again.
    pub stream_max_secs: u64,
}

/// `[auth]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Failed authentications allowed per client IP per window.
    pub failed_auth_limit: u32,
    /// The window, in seconds.
    pub failed_auth_window_secs: u64,
    /// Lifetime of an enrollment token from `accounts create`.
    pub enrollment_ttl_secs: u64,
    /// Lifetime of a device link token.
    pub link_ttl_secs: u64,
    /// Lifetime of a pairing claim token.
    pub claim_ttl_secs: u64,
}

/// `[tasks]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TasksConfig {
    /// Seconds between retention runs.
    pub retention_interval_secs: u64,
    /// Seconds between orphan sweeps (the first runs at start).
    pub sweep_interval_secs: u64,
    /// Unreferenced blobs younger than this are left alone (in-flight writes).
    pub orphan_grace_secs: u64,
    /// Capture times are stored rounded down to this many seconds.
    pub time_granularity_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7443)),
            metrics_enabled: true,
            metrics_listen: SocketAddr::from(([127, 0, 0, 1], 7444)),
            data_dir: None,
            shutdown_grace_secs: 30,
            trusted_proxies: Vec::new(),
            tls: TlsConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 8,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_header_bytes: sealcam_wire::MAX_HEADER_LEN,
            max_thumbnail_bytes: 8 * 1024 * 1024,
            max_clip_bytes: 1024 * 1024 * 1024,
            max_record_bytes: 1024 * 1024,
            max_account_record_bytes: 1024 * 1024,
            max_recipient_set_bytes: 256 * 1024,
            max_json_bytes: 512 * 1024,
            max_concurrent_uploads: 64,
            overload_retry_after_secs: 2,
            max_uploads_per_camera: 4,
            max_uploads_per_account: 16,
            account_quota_bytes: 0,
            header_timeout_secs: 30,
            body_idle_timeout_secs: 60,
            request_timeout_secs: 4 * 3600,
            stream_keepalive_secs: 15,
            stream_max_secs: 600,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            failed_auth_limit: 20,
            failed_auth_window_secs: 60,
            enrollment_ttl_secs: 7 * 24 * 3600,
            link_ttl_secs: 600,
            claim_ttl_secs: 900,
        }
    }
}

impl Default for TasksConfig {
    fn default() -> Self {
        Self {
            retention_interval_secs: 3600,
            sweep_interval_secs: 3600,
            orphan_grace_secs: 3600,
            time_granularity_secs: 60,
        }
    }
}

impl Config {
    /// Loads defaults, then `file` (if any), then `SEALCAM__…` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__"));
        figment.extract().map_err(|e| ConfigError(Box::new(e)))
    }

    /// The data directory: configured, or the user's data dir.
    pub fn data_dir(&self) -> PathBuf {
        self.server
            .data_dir
            .clone()
            .unwrap_or_else(default_data_dir)
    }

    /// The database URL: configured, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir().join("sealcam.db").display()))
    }

    /// The blob directory: configured, or `blobs` in the data directory.
    pub fn blob_dir(&self) -> PathBuf {
        self.storage
            .path
            .clone()
            .unwrap_or_else(|| self.data_dir().join("blobs"))
    }

    /// A configuration for tests and embedding: everything under `dir`, ephemeral ports.
    pub fn ephemeral(dir: &Path) -> Self {
        let mut config = Config::default();
        config.server.data_dir = Some(dir.to_path_buf());
        config.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.server.metrics_listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config
    }
}

/// `<user data dir>/sealcam-server`, or `./sealcam-server-data` when there is no home.
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "sealcam-server")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("sealcam-server-data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_text_matches_the_defaults() {
        let parsed: Config = Figment::from(Toml::string(DEFAULT_CONFIG))
            .extract()
            .unwrap();
        assert_eq!(parsed, Config::default());
        assert_eq!(parsed.server.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(
            parsed.server.metrics_listen.to_string(),
            DEFAULT_METRICS_LISTEN
        );
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn file_then_env_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "[limits]\nmax_concurrent_uploads = 3\n[server]\nshutdown_grace_secs = 5\n",
            )?;
            jail.set_env("SEALCAM__LIMITS__MAX_CONCURRENT_UPLOADS", "7");
            let config = Config::load(Some(Path::new("c.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.limits.max_concurrent_uploads, 7);
            assert_eq!(config.server.shutdown_grace_secs, 5);
            assert_eq!(config.auth, AuthConfig::default());
            Ok(())
        });
    }
}
