//! Test harness: the real server in-process on 127.0.0.1:0 with a temporary
//! data directory, driven over real HTTP with reqwest.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::{Client, Method, Response, StatusCode};
use sealcam_server::{Config, RunningServer, Server};
use sealcam_wire::{
    EnrollResponse, PairingResponse, PartKind, RegisterCameraResponse, UploadResponse,
};
use uuid::Uuid;

pub mod binary;
pub mod inflight;
pub mod seeded;
pub mod services;
pub mod sse;
pub mod uploads;

/// A running server and a client for it.
pub struct TestServer {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub http: Client,
    /// The configuration it runs with (to restart it on the same storage).
    pub config: Config,
    pub backend: Backend,
}

/// The storage a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite + a local blob directory (the embedded default).
    SqliteLocal,
    /// PostgreSQL + S3 (scale-out), from `SEALCAM_TEST_POSTGRES_URL` and
    /// `SEALCAM_TEST_S3_ENDPOINT`.
    PostgresS3,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::SqliteLocal => "sqlite+local",
            Backend::PostgresS3 => "postgres+s3",
        }
    }
}

/// Starts a server on `backend`; `None` when the backend's servers are not
/// configured and skipping is allowed (see [`services`]).
pub async fn start_on(
    backend: Backend,
    test: &str,
    tweak: impl FnOnce(&mut Config),
) -> Option<TestServer> {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    if backend == Backend::PostgresS3 {
        services::services(test)?.configure(&mut config).await;
    }
    tweak(&mut config);
    Some(start_config(dir, config, backend).await)
}

async fn start_config(dir: tempfile::TempDir, config: Config, backend: Backend) -> TestServer {
    let server = Server::bind(config.clone()).await.unwrap().spawn();
    let base = format!("http://{}", server.addr());
    sealcam_server::tls::install_crypto_provider();
    TestServer {
        server,
        dir,
        base,
        http: Client::new(),
        config,
        backend,
    }
}

/// A viewer device credential.
#[derive(Debug, Clone)]
pub struct ViewerCred {
    pub account_id: Uuid,
    pub device_id: Uuid,
    pub token: String,
}

/// A camera credential.
#[derive(Debug, Clone)]
pub struct CameraCred {
    pub camera_id: Uuid,
    pub owner_id: Uuid,
    pub token: String,
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    tweak(&mut config);
    start_config(dir, config, Backend::SqliteLocal).await
}

impl TestServer {
    /// Another server on this one's database and blob store: a replica
    /// (PostgreSQL + S3), with a data directory of its own.
    pub async fn replica(&self) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = self.config.clone();
        config.server.data_dir = Some(dir.path().to_path_buf());
        start_config(dir, config, self.backend).await
    }

    /// Every committed blob key in the server's blob store.
    pub async fn blob_keys(&self) -> Vec<String> {
        self.server.state().blobs.list_keys().await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional bearer token and body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Response {
        let mut req = self.http.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.body(body);
        }
        req.send().await.unwrap()
    }

    pub async fn json<T: serde::Serialize>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        value: &T,
    ) -> Response {
        self.send(
            method,
            path,
            token,
            Some(serde_json::to_vec(value).unwrap()),
        )
        .await
    }

    /// A new account with one enrolled viewer device.
    pub async fn new_viewer(&self, name: &str) -> ViewerCred {
        let account = self.server.create_account(name).await.unwrap();
        let resp = self
            .json(
                Method::POST,
                "/v1/enroll",
                None,
                &serde_json::json!({"token": account.enrollment_token, "device_name": "phone"}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let e: EnrollResponse = resp.json().await.unwrap();
        assert_eq!(e.account_id, account.account_id);
        ViewerCred {
            account_id: e.account_id,
            device_id: e.device_id,
            token: e.credential,
        }
    }

    /// Links a further device to `owner`'s account (link token, then enroll).
    pub async fn link_device(&self, owner: &ViewerCred, name: &str) -> ViewerCred {
        let link: sealcam_wire::LinkResponse = self
            .send(Method::POST, "/v1/devices/link", Some(&owner.token), None)
            .await
            .json()
            .await
            .unwrap();
        let resp = self
            .json(
                Method::POST,
                "/v1/enroll",
                None,
                &serde_json::json!({"token": link.link_token, "device_name": name}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let e: sealcam_wire::EnrollResponse = resp.json().await.unwrap();
        ViewerCred {
            account_id: e.account_id,
            device_id: e.device_id,
            token: e.credential,
        }
    }

    /// `owner` removes `device` from the account.
    pub async fn remove_device(&self, owner: &ViewerCred, device: &ViewerCred) {
        let resp = self
            .send(
                Method::DELETE,
                &format!("/v1/devices/{}", device.device_id),
                Some(&owner.token),
                None,
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }

    /// Pairs a camera to `owner` and confirms it.
    pub async fn pair_camera(&self, owner: &ViewerCred) -> CameraCred {
        let cam = self.register_camera(owner).await;
        let resp = self
            .send(
                Method::POST,
                &format!("/v1/cameras/{}/confirm", cam.camera_id),
                Some(&owner.token),
                None,
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        cam
    }

    /// Registers a camera with a fresh claim token (it stays pending).
    pub async fn register_camera(&self, owner: &ViewerCred) -> CameraCred {
        let resp = self
            .send(Method::POST, "/v1/pairings", Some(&owner.token), None)
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let pairing: PairingResponse = resp.json().await.unwrap();
        let resp = self
            .json(
                Method::POST,
                "/v1/cameras/register",
                None,
                &serde_json::json!({
                    "claim_token": pairing.claim_token,
                    "device_public_key": STANDARD.encode([7u8; 32]),
                    "pairing_proof": STANDARD.encode([9u8; 64]),
                }),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let r: RegisterCameraResponse = resp.json().await.unwrap();
        assert_eq!(r.owner_id, owner.account_id);
        CameraCred {
            camera_id: r.camera_id,
            owner_id: r.owner_id,
            token: r.credential,
        }
    }

    /// Uploads one part (header ‖ payload).
    pub async fn upload(
        &self,
        camera: &CameraCred,
        event_id: Uuid,
        kind: PartKind,
        header: &[u8],
        payload: &[u8],
        captured_at: i64,
    ) -> Response {
        let mut body = header.to_vec();
        body.extend_from_slice(payload);
        self.send(
            Method::PUT,
            &format!(
                "/v1/events/{event_id}/parts/{kind}?captured_at={captured_at}&header_len={}",
                header.len()
            ),
            Some(&camera.token),
            Some(body),
        )
        .await
    }

    /// Uploads and expects 201.
    pub async fn upload_ok(
        &self,
        camera: &CameraCred,
        event_id: Uuid,
        kind: PartKind,
        header: &[u8],
        payload: &[u8],
        captured_at: i64,
    ) -> UploadResponse {
        let resp = self
            .upload(camera, event_id, kind, header, payload, captured_at)
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.unwrap()
    }

    /// A credential publishes a set key statement (`PUT /v1/camera/set-key`).
    pub async fn publish_set_key(&self, token: &str, set_key: &str) -> StatusCode {
        let body = sealcam_wire::SetKey {
            set_key: set_key.to_owned(),
        };
        let path = "/v1/camera/set-key";
        self.json(Method::PUT, path, Some(token), &body)
            .await
            .status()
    }

    /// `(camera id, set key)` of each camera in `token`'s `GET /v1/cameras`.
    pub async fn set_keys(&self, token: &str) -> Vec<(Uuid, Option<String>)> {
        let resp = self
            .send(Method::GET, "/v1/cameras", Some(token), None)
            .await;
        let list: sealcam_wire::CameraList = resp.json().await.unwrap();
        let keys = list.cameras.into_iter();
        keys.map(|c| (c.camera_id, c.set_key)).collect()
    }

    pub async fn get_bytes(&self, path: &str, token: &str, range: Option<&str>) -> Response {
        let mut req = self.http.get(self.url(path)).bearer_auth(token);
        if let Some(range) = range {
            req = req.header("Range", range);
        }
        req.send().await.unwrap()
    }
}

/// The error code of an error answer.
pub async fn error_code(resp: Response) -> String {
    let body: serde_json::Value = resp.json().await.unwrap();
    body["error"]["code"].as_str().unwrap().to_owned()
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

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
