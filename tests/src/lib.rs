//! The harness of sealcam's end-to-end tests (issue 6): the real
//! `sealcam-server` on a random loopback port with its own temporary data
//! directory, behind a fault-injecting [`proxy::Proxy`]; real cameras (the
//! device SDK, `sealcam-device`) and real viewers (the app SDK,
//! `sealcam-client`). Households are owned through the app SDK's flows
//! ([`Owner`]); camera tests, which need an owner that signs what a test
//! asks for, use [`SimOwner`] (built on the app SDK's API client), and
//! [`network::Network`] to take the camera's network down.
//!
//! Tests are plain `#[test]` functions: the harness owns a tokio runtime for
//! the server, the proxy and the (async) app SDK, while the (blocking) device
//! SDK runs on the test's own threads, as firmware would.
//!
//! Fault injection lives here and only here: the server, the SDKs and the
//! CLI run their production code paths.

pub mod household;
pub mod media;
pub mod network;
pub mod owner_sim;
pub mod pg;
pub mod pki;
pub mod process;
pub mod proxy;
pub mod trust_kit;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sealcam_client::{Client, Confirmation, Home};
use sealcam_device::{Device, DeviceConfig, Notice, SyncOutcome};
use sealcam_keys::RecipientSetError;
use sealcam_server::{Config, RunningServer, Server};

pub use owner_sim::{not_addressed, SetSpec, SimOwner};
pub use proxy::{Fault, Hook, Proxy, Reply, RequestInfo};

/// A failure of the harness itself (not of the system under test).
pub type HarnessError = Box<dyn std::error::Error + Send + Sync>;

/// The real server (in-process) behind the proxy.
pub struct Harness {
    /// Runs the server, the proxy and the app SDK's futures.
    pub rt: tokio::runtime::Runtime,
    /// The server's configuration (restarts reuse its data directory).
    pub config: Config,
    server: Option<RunningServer>,
    /// Every client and camera talks to the server through this proxy.
    pub proxy: Proxy,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("dir", &self.dir.path())
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// Starts the server with its embedded defaults (SQLite + local blobs).
    pub fn start() -> Result<Self, HarnessError> {
        Self::start_with(|_| {})
    }

    /// Starts the server with `tweak` applied to its configuration.
    pub fn start_with(tweak: impl FnOnce(&mut Config)) -> Result<Self, HarnessError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let dir = tempfile::tempdir()?;
        let mut config = Config::ephemeral(&dir.path().join("server"));
        tweak(&mut config);
        let server = rt.block_on(async { Server::bind(config.clone()).await })?;
        let server = rt.block_on(async { server.spawn() });
        let upstream = format!("http://{}", server.addr());
        let proxy = rt.block_on(Proxy::start(Some(upstream)))?;
        Ok(Self {
            rt,
            config,
            server: Some(server),
            proxy,
            dir,
        })
    }

    /// No in-process server: only the proxy, pointed at `upstream` (a server
    /// process the test runs itself, see [`process`]).
    pub fn proxy_to(upstream: &str) -> Result<Self, HarnessError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let dir = tempfile::tempdir()?;
        let config = Config::ephemeral(&dir.path().join("server"));
        let proxy = rt.block_on(Proxy::start(Some(upstream.to_owned())))?;
        Ok(Self {
            rt,
            config,
            server: None,
            proxy,
            dir,
        })
    }

    /// The URL clients and cameras use (the proxy).
    pub fn url(&self) -> String {
        self.proxy.url()
    }

    /// The server's own URL (past the proxy), while it runs.
    pub fn server_url(&self) -> Option<String> {
        self.server.as_ref().map(|s| format!("http://{}", s.addr()))
    }

    /// A directory for a home or a camera's state.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Stops the server gracefully; the proxy answers 502 until it is back.
    pub fn stop_server(&mut self) -> Result<(), HarnessError> {
        self.proxy.set_upstream(None);
        if let Some(server) = self.server.take() {
            self.rt.block_on(server.shutdown())?;
        }
        Ok(())
    }

    /// Starts the server again on the same data directory (a new port), and
    /// points the proxy at it.
    pub fn start_server(&mut self) -> Result<(), HarnessError> {
        let config = self.config.clone();
        let server = self
            .rt
            .block_on(async { Server::bind(config).await.map(Server::spawn) })?;
        self.proxy
            .set_upstream(Some(format!("http://{}", server.addr())));
        self.server = Some(server);
        Ok(())
    }

    /// The running server.
    pub fn server(&self) -> Result<&RunningServer, HarnessError> {
        self.server
            .as_ref()
            .ok_or_else(|| "the server is stopped".into())
    }

    /// A new account; returns its one-time enrollment token.
    pub fn enrollment_token(&self, name: &str) -> Result<String, HarnessError> {
        let server = self.server()?;
        Ok(self
            .rt
            .block_on(server.create_account(name))?
            .enrollment_token)
    }

    /// A new household: an account and its first owner device, set up with
    /// the app SDK's `init` (owner key, viewer key, recovery key).
    pub fn owner(&self, name: &str) -> Result<Owner, HarnessError> {
        let token = self.enrollment_token(name)?;
        self.owner_with_token(name, &token)
    }

    /// Like [`owner`](Self::owner), with an enrollment token made elsewhere.
    pub fn owner_with_token(&self, name: &str, token: &str) -> Result<Owner, HarnessError> {
        let home = Home::at(self.path(&format!("home-{name}")));
        let url = self.url();
        let outcome = self
            .rt
            .block_on(sealcam_client::init(&home, &url, token, "phone"))?;
        Ok(Owner {
            name: name.to_owned(),
            client: outcome.client,
            recovery_key: outcome.recovery_key,
        })
    }

    /// A new account owned by a [`SimOwner`], for the device SDK's tests:
    /// it and the cameras it pairs talk to the server itself, past the
    /// proxy, so cameras meet the real server's connection handling (an
    /// overloaded server answers an upload `503` before its body is sent).
    pub fn sim_owner(&self, name: &str) -> Result<SimOwner, HarnessError> {
        let url = self.server_url().ok_or("the server is stopped")?;
        self.sim_owner_at(name, &url)
    }

    /// The start most camera tests share: the owner `household` and one
    /// camera (state in `cam`, default configuration) paired, confirmed and
    /// synced; returns the owner, the camera and its id.
    pub fn household_camera(
        &self,
    ) -> Result<(SimOwner, sealcam_device::Device, sealcam_keys::CameraId), HarnessError> {
        let mut owner = self.sim_owner("household")?;
        let device =
            owner.pair_camera(&self.path("cam"), sealcam_device::DeviceConfig::default())?;
        let camera = device.camera_id().ok_or("the paired camera has no id")?;
        Ok((owner, device, camera))
    }

    /// Like [`sim_owner`](Self::sim_owner), its pairing codes naming `url`
    /// (the proxy, or a [`network::Network`] in front of the server).
    pub fn sim_owner_at(&self, name: &str, url: &str) -> Result<SimOwner, HarnessError> {
        let token = self.enrollment_token(name)?;
        SimOwner::enroll(self.rt.handle(), url, &token)
    }

    /// Like [`sim_owner`](Self::sim_owner), an owner of before owner trust
    /// v2 (version-1 pairing codes and sets, no key log).
    pub fn legacy_sim_owner(&self, name: &str) -> Result<SimOwner, HarnessError> {
        let url = self.server_url().ok_or("the server is stopped")?;
        let token = self.enrollment_token(name)?;
        SimOwner::enroll_legacy(self.rt.handle(), &url, &token)
    }

    /// Pairs a new camera (state in its own directory) with `owner` through
    /// the real flow: pairing code → camera registers with its proof → the
    /// owner checks the proof, pins the key, publishes epoch 1 → the camera
    /// syncs.
    pub fn camera(
        &self,
        owner: &Owner,
        name: &str,
        config: DeviceConfig,
    ) -> Result<Device, HarnessError> {
        let start = self.rt.block_on(owner.client.pair(name))?;
        let mut device = Device::open(&self.path(&format!("cam-{name}")), config)?;
        device.pair(&start.text)?;
        let confirmed = self.rt.block_on(owner.client.confirm_cameras())?;
        let camera = device.camera_id().ok_or("the camera did not pair")?;
        if !confirmed
            .iter()
            .any(|c| matches!(c, Confirmation::Confirmed { camera_id, .. } if *camera_id == camera))
        {
            return Err(format!("camera {name} was not confirmed: {confirmed:?}").into());
        }
        match device.sync()? {
            SyncOutcome::Updated { .. } => Ok(device),
            other => Err(format!("camera {name}: first sync {other:?}").into()),
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.rt.block_on(server.shutdown());
        }
    }
}

/// A household owner's device (app SDK).
pub struct Owner {
    /// A name for messages.
    pub name: String,
    /// The working device.
    pub client: Client,
    /// The recovery key shown once at `init`.
    pub recovery_key: sealcam_keys::RecoveryKey,
}

impl std::fmt::Debug for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Owner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Owner {
    /// The account id.
    pub fn account(&self) -> sealcam_keys::OwnerId {
        self.client.device().info.account_id
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        self.client.home().path()
    }
}

/// Device settings for tests: short backoff so retries happen within a test.
pub fn fast_device_config() -> DeviceConfig {
    let mut config = DeviceConfig::default();
    config.backoff.base = std::time::Duration::from_millis(50);
    config.backoff.cap = std::time::Duration::from_secs(2);
    config
}

/// Records every notice `device` reports, from now on.
pub fn notices(device: &mut Device) -> Arc<Mutex<Vec<Notice>>> {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let sink = notices.clone();
    device.set_observer(move |n| {
        if let Ok(mut seen) = sink.lock() {
            seen.push(n.clone());
        }
    });
    notices
}

/// What `device` holds in its spool, oldest first: each part's event and kind.
pub fn spooled(device: &Device) -> Vec<(sealcam_keys::EventId, sealcam_device::PartKind)> {
    device
        .spool()
        .entries()
        .iter()
        .map(|e| (e.event, e.kind))
        .collect()
}

/// Syncs `device`, which must refuse the set the server offers; returns why
/// and the epoch it kept.
pub fn sync_refused(device: &mut Device) -> Result<(RecipientSetError, Option<u64>), HarnessError> {
    match device.sync()? {
        SyncOutcome::Refused { reason, kept } => Ok((reason, kept)),
        other => Err(format!("expected a refusal, got {other:?}").into()),
    }
}

/// A camera's `camera.json` in its state directory `state`.
pub fn camera_json(state: &Path) -> Result<serde_json::Value, HarnessError> {
    Ok(serde_json::from_slice(&std::fs::read(
        state.join("camera.json"),
    )?)?)
}
