//! The kill-mid-upload workload of the crash and replica tests: the operator
//! creates an account with the real binary, camera workers upload events
//! until the server is SIGKILLed, and what was sent and acknowledged is kept
//! for the checks after the restart.

use std::collections::HashMap;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::{Client, StatusCode};
use sealcam_wire::PartKind;
use uuid::Uuid;

use super::binary::BIN;
use super::{bytes, now};

/// `sealcam-server accounts create` on `dir` (with `env`); returns the
/// enrollment token.
pub fn create_account_cli<K, V>(
    dir: &std::path::Path,
    name: &str,
    env: impl IntoIterator<Item = (K, V)>,
) -> String
where
    K: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(["accounts", "create", name, "--json"])
        .envs(env)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let account: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    account["enrollment_token"].as_str().unwrap().to_owned()
}

/// What was sent for one part: its header and its payload's seed and length.
#[derive(Clone)]
pub struct Sent {
    pub header: Vec<u8>,
    pub seed: u64,
    pub len: usize,
}

impl Sent {
    pub fn payload(&self) -> Vec<u8> {
        bytes(self.seed, self.len)
    }

    /// The upload body, header ‖ payload.
    pub fn body(&self) -> Vec<u8> {
        let mut body = self.header.clone();
        body.extend_from_slice(&self.payload());
        body
    }
}

/// Uploads one part; the answer's status.
pub async fn put(
    http: &Client,
    base: &str,
    token: &str,
    event: Uuid,
    kind: PartKind,
    part: &Sent,
) -> reqwest::Result<StatusCode> {
    let url = format!(
        "{base}/v1/events/{event}/parts/{kind}?captured_at={}&header_len={}",
        now(),
        part.header.len()
    );
    Ok(http
        .put(url)
        .bearer_auth(token)
        .body(part.body())
        .send()
        .await?
        .status())
}

/// Everything the workers sent, and what the server acknowledged (201).
pub struct Uploads {
    pub sent: HashMap<(Uuid, PartKind), Sent>,
    pub acked: Vec<(Uuid, PartKind)>,
}

/// `workers` cameras upload events (a 20,000-byte thumbnail and a clip of
/// `clip_len(seed)` bytes each) to `base` until `kill_after` uploads were
/// acknowledged; then `server` is SIGKILLed, and this returns once every
/// worker has seen it go. A 503 is skipped; any other answer but 201 fails.
pub async fn upload_until_killed(
    http: &Client,
    base: &str,
    token: &str,
    workers: u64,
    kill_after: usize,
    clip_len: fn(u64) -> usize,
    server: &mut Child,
) -> Uploads {
    let sent: Arc<Mutex<HashMap<(Uuid, PartKind), Sent>>> = Arc::default();
    let acked: Arc<Mutex<Vec<(Uuid, PartKind)>>> = Arc::default();
    let ack_count = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(tokio::sync::Notify::new());
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (http, base, token) = (http.clone(), base.to_owned(), token.to_owned());
        let (sent, acked, ack_count, enough) = (
            sent.clone(),
            acked.clone(),
            ack_count.clone(),
            enough.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0u64.. {
                let event = Uuid::now_v7();
                for (k, kind) in [PartKind::Thumbnail, PartKind::Clip]
                    .into_iter()
                    .enumerate()
                {
                    let seed = w * 1_000_000 + i * 10 + k as u64;
                    let len = match kind {
                        PartKind::Clip => clip_len(seed),
                        _ => 20_000,
                    };
                    let part = Sent {
                        header: format!("age-header-{seed}").into_bytes(),
                        seed,
                        len,
                    };
                    sent.lock().unwrap().insert((event, kind), part.clone());
                    match put(&http, &base, &token, event, kind, &part).await {
                        Ok(StatusCode::CREATED) => {
                            acked.lock().unwrap().push((event, kind));
                            if ack_count.fetch_add(1, Ordering::SeqCst) + 1 == kill_after {
                                enough.notify_one();
                            }
                        }
                        Ok(StatusCode::SERVICE_UNAVAILABLE) => {}
                        Ok(status) => panic!("unexpected status {status}"),
                        Err(_) => return, // the server is gone
                    }
                }
            }
        }));
    }
    enough.notified().await;
    server.kill().unwrap(); // SIGKILL, uploads in flight
    server.wait().unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    assert!(acked.len() >= kill_after);
    Uploads { sent, acked }
}
