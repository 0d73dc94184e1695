//! Test harness: the real `sealcam-server` in-process on 127.0.0.1:0 (real
//! SQLite, real disk) on a tokio runtime of its own, a simulated owner that
//! speaks the real API, and a TCP proxy that can take the network down.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use sealcam_device::owner_sim::SimOwner;
use sealcam_device::{Device, DeviceConfig, EventId, Notice, PartKind};
use sealcam_format::{open_to_vec, Binding, OpenedObject};
use sealcam_keys::{
    CameraId, DevicePublicKey, OwnerId, OwnerSigningKey, RecipientSet, SetBinding,
    SignedRecipientSet, ViewerRecipient,
};
use sealcam_server::{Config, RunningServer, Server};

pub struct Harness {
    pub rt: tokio::runtime::Runtime,
    pub server: Option<RunningServer>,
    pub dir: tempfile::TempDir,
    pub url: String,
}

impl Harness {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    pub fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::ephemeral(&dir.path().join("server"));
        tweak(&mut config);
        let server = rt.block_on(async { Server::bind(config).await.unwrap().spawn() });
        let url = format!("http://{}", server.addr());
        Self {
            rt,
            server: Some(server),
            dir,
            url,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.as_ref().unwrap().addr()
    }

    /// A fresh owner account with one enrolled viewer device.
    pub fn owner(&self) -> SimOwner {
        self.owner_at(&self.url)
    }

    /// An owner whose pairing codes name `url` (a proxy in front of the server).
    pub fn owner_at(&self, url: &str) -> SimOwner {
        SimOwner::enroll(url, &self.enrollment_token()).unwrap()
    }

    /// An owner of before owner trust v2 (v1 pairing codes and sets, no key log).
    pub fn legacy_owner(&self) -> SimOwner {
        SimOwner::enroll_legacy(&self.url, &self.enrollment_token()).unwrap()
    }

    fn enrollment_token(&self) -> String {
        let server = self.server.as_ref().unwrap();
        self.rt
            .block_on(server.create_account("household"))
            .unwrap()
            .enrollment_token
    }

    /// A state directory for a camera.
    pub fn state(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.rt.block_on(server.shutdown());
        }
    }
}

/// Pairs a camera in `state` with `owner`, confirms it, syncs epoch 1.
pub fn paired_camera(owner: &mut SimOwner, state: &Path) -> Device {
    paired_camera_with(owner, state, DeviceConfig::default())
}

pub fn paired_camera_with(owner: &mut SimOwner, state: &Path, config: DeviceConfig) -> Device {
    let code = owner.pairing_code().unwrap();
    let mut device = Device::open(state, config).unwrap();
    device.pair(&code).unwrap();
    let confirmed = owner.confirm_pending().unwrap();
    assert_eq!(confirmed, vec![device.camera_id().unwrap()]);
    assert!(matches!(
        device.sync().unwrap(),
        sealcam_device::SyncOutcome::Updated { from: None, to: 1 }
    ));
    device
}

/// Records every notice the device reports.
pub fn notices(device: &mut Device) -> Arc<Mutex<Vec<Notice>>> {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let sink = notices.clone();
    device.set_observer(move |n| sink.lock().unwrap().push(n.clone()));
    notices
}

/// What a version-2 set says, for building sets the owner would not sign
/// as they are (another signer, device key, position or expiry).
pub struct SetSpec {
    pub owner: OwnerId,
    pub camera: CameraId,
    pub epoch: u64,
    pub recipients: Vec<ViewerRecipient>,
    pub device_key: DevicePublicKey,
    pub key_position: (u64, u64),
    pub expires_at: u64,
}

impl SetSpec {
    /// What `owner` would sign for `camera` at `epoch`: its viewer and its
    /// recovery key, its device key pin, its key position, 30 days.
    pub fn of(owner: &SimOwner, camera: CameraId, epoch: u64) -> Self {
        Self {
            owner: owner.account(),
            camera,
            epoch,
            recipients: vec![owner.viewer().to_public(), owner.recovery().to_public()],
            device_key: owner.device_key(camera).unwrap(),
            key_position: owner.keys().position(),
            expires_at: sealcam_keys::unix_now() + sealcam_keys::SET_LIFETIME_SECS,
        }
    }

    /// Signs it with `key` (the recovery key of `owner` is the binding's).
    pub fn sign(&self, owner: &SimOwner, key: &OwnerSigningKey) -> SignedRecipientSet {
        RecipientSet::bound(
            self.owner,
            self.camera,
            self.epoch,
            sealcam_keys::unix_now(),
            self.recipients.clone(),
            SetBinding {
                device_key: self.device_key,
                expires_at: self.expires_at,
                key_position: self.key_position,
                recovery: owner.recovery().to_public(),
            },
        )
        .unwrap()
        .sign(key)
    }
}

/// Fetches one part as the owner and opens it with the owner's viewer key
/// and the device key the owner pinned at pairing.
pub fn owner_open(
    owner: &SimOwner,
    device: &Device,
    event: EventId,
    kind: PartKind,
) -> Result<OpenedObject, sealcam_format::OpenError> {
    owner_open_as(owner, owner.viewer(), device, event, kind)
}

pub fn owner_open_as(
    owner: &SimOwner,
    viewer: &sealcam_keys::ViewerIdentity,
    device: &Device,
    event: EventId,
    kind: PartKind,
) -> Result<OpenedObject, sealcam_format::OpenError> {
    let camera = device.camera_id().unwrap();
    let (header, payload) = owner.fetch(event, kind).unwrap();
    let binding = Binding {
        owner: owner.account(),
        camera,
        event,
        kind: match kind {
            PartKind::Thumbnail => sealcam_format::PartKind::Thumbnail,
            PartKind::Clip => sealcam_format::PartKind::Clip,
            PartKind::Record => sealcam_format::PartKind::Record,
        },
        sequence: 0,
    };
    let pinned = owner.device_key(camera).unwrap();
    open_to_vec(&header, &payload, &[viewer], &binding, &pinned)
}

/// Deterministic pseudo-random bytes.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A reader of unknown length that hands out its bytes in uneven pieces,
/// like an encoder's output.
pub struct Dribble {
    pub data: Vec<u8>,
    pub pos: usize,
    pub step: usize,
}

impl Read for Dribble {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.data.len() - self.pos).min(self.step);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        self.step = self.step % 9973 + 777;
        Ok(n)
    }
}

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Forward to the server.
    Up = 0,
    /// Accept and close at once (the server looks unreachable).
    Down = 1,
    /// Forward, but cut each connection after `cut_after` bytes from the camera.
    Cut = 2,
}

/// A TCP proxy on 127.0.0.1:0 in front of the server: the "network".
pub struct Proxy {
    pub addr: SocketAddr,
    mode: Arc<AtomicU8>,
    live: Arc<Mutex<Vec<TcpStream>>>,
    cut_after: Arc<AtomicU64>,
    pub connections: Arc<AtomicU64>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(AtomicU8::new(Mode::Up as u8));
        let cut_after = Arc::new(AtomicU64::new(u64::MAX));
        let connections = Arc::new(AtomicU64::new(0));
        let live = Arc::new(Mutex::new(Vec::new()));
        let (m, c, n, l) = (
            mode.clone(),
            cut_after.clone(),
            connections.clone(),
            live.clone(),
        );
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { continue };
                n.fetch_add(1, Ordering::SeqCst);
                match m.load(Ordering::SeqCst) {
                    1 => {
                        let _ = client.shutdown(Shutdown::Both);
                    }
                    mode => {
                        let limit = if mode == 2 {
                            c.load(Ordering::SeqCst)
                        } else {
                            u64::MAX
                        };
                        let Ok(server) = TcpStream::connect(upstream) else {
                            continue;
                        };
                        l.lock().unwrap().push(client.try_clone().unwrap());
                        pump(client, server, limit);
                    }
                }
            }
        });
        Self {
            addr,
            mode,
            live,
            cut_after,
            connections,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches the mode; connections open so far are broken (an outage
    /// breaks them too), so every later request sees the new mode.
    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
        for conn in self.live.lock().unwrap().drain(..) {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }

    pub fn cut_after(&self, bytes: u64) {
        self.cut_after.store(bytes, Ordering::SeqCst);
        self.set(Mode::Cut);
    }
}

fn pump(client: TcpStream, server: TcpStream, limit: u64) {
    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    thread::spawn(move || copy_limited(client, server, limit));
    thread::spawn(move || copy_limited(s2, c2, u64::MAX));
}

fn copy_limited(mut from: TcpStream, mut to: TcpStream, limit: u64) {
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        total += n as u64;
        if total > limit {
            break;
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
