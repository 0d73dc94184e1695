//! Test harness: the real server in-process on 127.0.0.1:0, the real
//! `sealcam` binary with `SEALCAM_HOME` in temporary directories, and a camera
//! played directly with the crypto crates (sealcam-keys, sealcam-format) over
//! HTTP, so these tests do not depend on the device SDK.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod flows;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sealcam_format::{Binding, ObjectMeta, PartKind as FormatKind, Sealer};
use sealcam_keys::{
    Acceptance, CameraId, CameraPin, DeviceKey, EventId, KeyLog, OwnerId, OwnerKeyState,
    PairingCode, SignedRecipientSet, VerifiedRecipientSet,
};
use sealcam_server::{Config, RunningServer, Server};
use sealcam_wire::{PartKind, RecipientSet, RegisterCameraResponse};
use serde_json::Value;
use uuid::Uuid;

/// A running server, a runtime to drive it, and temporary homes.
pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub server: RunningServer,
    pub data: tempfile::TempDir,
    pub homes: tempfile::TempDir,
    pub base: String,
    pub http: reqwest::Client,
}

/// What a `sealcam` run produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub raw_stdout: Vec<u8>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "sealcam failed:\n{}\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts success and parses stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

fn output(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        raw_stdout: o.stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

impl Env {
    pub fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let data = tempfile::tempdir().unwrap();
        // Every part a blob file, the small ones too, so a test can swap
        // them as a faulty store would (`part_blobs`).
        let mut config = Config::ephemeral(data.path());
        config.storage.in_database_max_bytes = 0;
        let server = rt.block_on(async { Server::bind(config).await.unwrap().spawn() });
        let base = format!("http://{}", server.addr());
        sealcam_client::tls::install_crypto_provider();
        Self {
            rt,
            server,
            data,
            homes: tempfile::tempdir().unwrap(),
            base,
            http: reqwest::Client::new(),
        }
    }

    /// A new account's one-time enrollment token.
    pub fn enrollment_token(&self, name: &str) -> String {
        self.rt
            .block_on(self.server.create_account(name))
            .unwrap()
            .enrollment_token
    }

    /// A fresh, empty home directory path (not created).
    pub fn home(&self, name: &str) -> PathBuf {
        self.homes.path().join(name)
    }

    /// Runs `sealcam` with `SEALCAM_HOME=home`.
    pub fn sealcam(&self, home: &Path, args: &[&str]) -> Run {
        self.sealcam_stdin(home, args, None)
    }

    /// Runs `sealcam` with `SEALCAM_HOME=home` and `stdin` as standard input.
    pub fn sealcam_stdin(&self, home: &Path, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sealcam"));
        cmd.args(args)
            .env("SEALCAM_HOME", home)
            .env_remove("SEALCAM_SERVER")
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut pipe = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).unwrap();
        }
        drop(pipe);
        output(child.wait_with_output().unwrap())
    }

    /// `sealcam init` for a new account; returns the recovery key.
    pub fn init(&self, home: &Path, account: &str) -> InitOut {
        let token = self.enrollment_token(account);
        let v = self
            .sealcam(
                home,
                &[
                    "--json", "init", "--server", &self.base, "--token", &token, "--name", "laptop",
                ],
            )
            .json();
        InitOut {
            account_id: v["account_id"].as_str().unwrap().parse().unwrap(),
            recovery_key: v["recovery_key"].as_str().unwrap().to_owned(),
        }
    }

    /// An owner with one paired, confirmed, synced camera.
    pub fn owner_with_camera(&self, name: &str) -> (PathBuf, InitOut, TestCamera) {
        let home = self.home(name);
        let init = self.init(&home, name);
        let code = self
            .sealcam(&home, &["--json", "pair", "--name", "porch"])
            .json()["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut cam = TestCamera::pair(self, &code);
        let confirmed = self
            .sealcam(&home, &["--json", "cameras", "confirm"])
            .json();
        assert_eq!(
            confirmed["cameras"][0]["outcome"], "confirmed",
            "{confirmed}"
        );
        assert_eq!(cam.sync(self), Some(1));
        (home, init, cam)
    }

    /// The stored blob keys of a part (what a faulty server could swap).
    pub fn part_blobs(&self, account: Uuid, event: EventId, kind: PartKind) -> (PathBuf, PathBuf) {
        let row = self
            .rt
            .block_on(
                self.server
                    .state()
                    .db
                    .viewer_part(account, *event.as_uuid(), kind),
            )
            .unwrap()
            .expect("part exists");
        let find = |key: &str| {
            let p = self.server.state().config.blob_dir().join(key);
            assert!(p.exists(), "blob {key} not at {}", p.display());
            p
        };
        (find(&row.header_key), find(&row.payload_key))
    }

    /// A viewer request with a bearer token.
    pub fn get(&self, path: &str, token: &str) -> reqwest::StatusCode {
        self.rt.block_on(async {
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        })
    }
}

/// What `init` printed.
#[derive(Debug, Clone)]
pub struct InitOut {
    pub account_id: Uuid,
    pub recovery_key: String,
}

/// A camera, played with the crypto crates.
pub struct TestCamera {
    pub key: DeviceKey,
    pub camera_id: CameraId,
    pub owner: OwnerId,
    /// The owner key it follows through the key log (owner trust v2).
    pub keys: OwnerKeyState,
    pub token: String,
    pub set: Option<VerifiedRecipientSet>,
}

impl TestCamera {
    /// Pairs from a `SEALCAM1…` code: proves the secret, registers.
    pub fn pair(env: &Env, code_text: &str) -> Self {
        let code = PairingCode::from_text(code_text).unwrap();
        assert_eq!(code.server_url, env.base);
        let key = DeviceKey::generate();
        let proof = code
            .secret
            .prove(&code.claim_token, code.owner, &key.public());
        let body = serde_json::json!({
            "claim_token": code.claim_token,
            "device_public_key": STANDARD.encode(key.public().to_bytes()),
            "pairing_proof": STANDARD.encode(proof.0),
        });
        let r: RegisterCameraResponse = env.rt.block_on(async {
            let resp = env
                .http
                .post(format!("{}/v1/cameras/register", env.base))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201);
            resp.json().await.unwrap()
        });
        assert_eq!(OwnerId::from(r.owner_id), code.owner);
        Self {
            key,
            camera_id: CameraId::from(r.camera_id),
            owner: code.owner,
            keys: match code.trust {
                Some((root, reset, generation)) => {
                    OwnerKeyState::new(code.owner, code.owner_key, Some(root), reset, generation)
                }
                None => OwnerKeyState::legacy(code.owner, code.owner_key),
            },
            token: r.credential,
            set: None,
        }
    }

    /// Fetches the recipient set, follows the key log that comes with it,
    /// verifies the set as a camera does (owner key, device key, position,
    /// expiry) and accepts it if newer (S4). Returns the epoch in force.
    pub fn sync(&mut self, env: &Env) -> Option<u64> {
        let got: Option<RecipientSet> = env.rt.block_on(async {
            let resp = env
                .http
                .get(format!(
                    "{}/v1/cameras/{}/recipient-set",
                    env.base, self.camera_id
                ))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap();
            if resp.status() == 404 {
                None
            } else {
                assert_eq!(resp.status(), 200);
                Some(resp.json().await.unwrap())
            }
        });
        if let Some(got) = got {
            if let Some(log) = &got.key_log {
                let log = KeyLog::from_bytes(&STANDARD.decode(log).unwrap()).unwrap();
                self.keys.follow(&log);
            }
            let pin = CameraPin {
                camera: self.camera_id,
                device_key: self.key.public(),
                keys: self.keys,
                accept_v1: false,
            };
            let offered = SignedRecipientSet::from_bytes(&STANDARD.decode(got.set).unwrap())
                .unwrap()
                .verify_for_camera(&pin, sealcam_keys::unix_now())
                .unwrap();
            let take = match &self.set {
                None => true,
                Some(cur) => cur.accept_successor(&offered).unwrap() == Acceptance::Newer,
            };
            if take {
                self.set = Some(offered);
            }
        }
        self.set.as_ref().map(|s| s.epoch())
    }

    fn seal(
        &self,
        event: EventId,
        kind: FormatKind,
        content_type: &str,
        body: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let meta = ObjectMeta {
            binding: Binding {
                owner: self.owner,
                camera: self.camera_id,
                event,
                kind,
                sequence: 0,
            },
            captured_at_ms: now() * 1000,
            epoch: 0,
            followed: None,
            content_type: content_type.into(),
        };
        let sealer = Sealer::new(self.set.as_ref().expect("synced"), &self.key, meta).unwrap();
        let header = sealer.header().to_vec();
        let mut w = sealer.payload(Vec::new()).unwrap();
        w.write_all(body).unwrap();
        (header, w.finish().unwrap())
    }

    /// Seals and uploads a thumbnail, a clip and an event record.
    pub fn record(&self, env: &Env, thumbnail: &[u8], clip: &[u8]) -> EventId {
        let event = EventId::now_v7();
        let record = br#"{"type":"person","labels":["person"],"duration_ms":4000}"#;
        for (kind, wire, ct, body) in [
            (
                FormatKind::Thumbnail,
                PartKind::Thumbnail,
                "image/jpeg",
                thumbnail,
            ),
            (FormatKind::Clip, PartKind::Clip, "video/mp4", clip),
            (
                FormatKind::Record,
                PartKind::Record,
                "application/json",
                &record[..],
            ),
        ] {
            let (header, payload) = self.seal(event, kind, ct, body);
            self.upload(env, event, wire, &header, &payload);
        }
        event
    }

    pub fn upload(&self, env: &Env, event: EventId, kind: PartKind, header: &[u8], payload: &[u8]) {
        let mut body = header.to_vec();
        body.extend_from_slice(payload);
        let status = env.rt.block_on(async {
            env.http
                .put(format!(
                    "{}/v1/events/{event}/parts/{kind}?captured_at={}&header_len={}",
                    env.base,
                    now(),
                    header.len()
                ))
                .bearer_auth(&self.token)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        });
        assert_eq!(status, 201);
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
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

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
