//! Crash safety: the real `sealcam-server` binary is SIGKILLed during
//! concurrent uploads and restarted on the same data directory. Every upload
//! it acknowledged is intact; nothing partial is listed; the orphan sweep
//! clears the debris and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{bytes, enroll_pair_confirm, spawn_binary, BIN};
use reqwest::{Client, StatusCode};
use sealcam_wire::{EventPage, PartKind};
use uuid::Uuid;

/// What was sent for one part.
#[derive(Clone)]
struct Sent {
    header: Vec<u8>,
    payload_seed: u64,
    payload_len: usize,
}

fn payload(sent: &Sent) -> Vec<u8> {
    bytes(sent.payload_seed, sent.payload_len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_uploads_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();

    // The operator creates an account with the CLI.
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["accounts", "create", "crash", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let account: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let enrollment = account["enrollment_token"].as_str().unwrap().to_owned();

    let (mut child, base) = spawn_binary(dir.path(), [("", ""); 0]);
    let http = Client::new();
    let (viewer, camera) = enroll_pair_confirm(&http, &base, &base, &enrollment).await;

    // Concurrent uploaders; SIGKILL once enough uploads were acknowledged.
    let sent: Arc<Mutex<HashMap<(Uuid, PartKind), Sent>>> = Arc::default();
    let acked: Arc<Mutex<Vec<(Uuid, PartKind)>>> = Arc::default();
    let ack_count = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(tokio::sync::Notify::new());
    const WORKERS: u64 = 6;
    const KILL_AFTER: usize = 40;
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (http, base, token) = (http.clone(), base.clone(), camera.credential.clone());
        let (sent, acked, ack_count, enough) = (
            sent.clone(),
            acked.clone(),
            ack_count.clone(),
            enough.clone(),
        );
        workers.push(tokio::spawn(async move {
            for i in 0u64.. {
                let event = Uuid::now_v7();
                for (k, kind) in [PartKind::Thumbnail, PartKind::Clip]
                    .into_iter()
                    .enumerate()
                {
                    let seed = w * 1_000_000 + i * 10 + k as u64;
                    let len = match kind {
                        PartKind::Clip => 1_000_000 + (seed as usize % 7) * 300_000,
                        _ => 20_000,
                    };
                    let part = Sent {
                        header: format!("age-header-{seed}").into_bytes(),
                        payload_seed: seed,
                        payload_len: len,
                    };
                    sent.lock().unwrap().insert((event, kind), part.clone());
                    let mut body = part.header.clone();
                    body.extend_from_slice(&payload(&part));
                    let url = format!(
                        "{base}/v1/events/{event}/parts/{kind}?captured_at={}&header_len={}",
                        common::now(),
                        part.header.len()
                    );
                    match http.put(url).bearer_auth(&token).body(body).send().await {
                        Ok(resp) if resp.status() == StatusCode::CREATED => {
                            acked.lock().unwrap().push((event, kind));
                            if ack_count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                                enough.notify_one();
                            }
                        }
                        Ok(resp) if resp.status() == StatusCode::SERVICE_UNAVAILABLE => {}
                        Ok(resp) => panic!("unexpected status {}", resp.status()),
                        Err(_) => return, // the server is gone
                    }
                }
            }
        }));
    }
    enough.notified().await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    assert!(acked.len() >= KILL_AFTER);

    let before_restart = walk(&dir.path().join("blobs/blobs"));
    let debris_staging = before_restart.iter().filter(|f| f.contains('#')).count();

    // Restart on the same data dir, sweeping debris at once (no grace).
    let (mut child, base) = spawn_binary(dir.path(), [("SEALCAM__TASKS__ORPHAN_GRACE_SECS", "0")]);
    let get = |path: String| {
        http.get(format!("{base}{path}"))
            .bearer_auth(&viewer.credential)
            .send()
    };
    // The sweep runs once at start (its result is checked after shutdown,
    // which waits for a running sweep to finish).
    assert_eq!(
        get("/healthz".into()).await.unwrap().status(),
        StatusCode::OK
    );

    // Every acknowledged upload is intact.
    for (event, kind) in &acked {
        let part = &sent[&(*event, *kind)];
        let resp = get(format!("/v1/events/{event}/parts/{kind}"))
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "acknowledged {event}/{kind} lost"
        );
        let whole = resp.bytes().await.unwrap();
        assert_eq!(&whole[..part.header.len()], &part.header[..]);
        assert!(
            whole[part.header.len()..] == payload(part)[..],
            "{event}/{kind} corrupt"
        );
    }

    // Everything listed is complete and is exactly what was sent.
    let mut listed_parts = 0;
    let mut before: Option<String> = None;
    loop {
        let mut path = format!("/v1/cameras/{}/events?limit=50", camera.camera_id);
        if let Some(cursor) = &before {
            path.push_str(&format!("&before={cursor}"));
        }
        let page: EventPage = get(path).await.unwrap().json().await.unwrap();
        for event in &page.events {
            for info in &event.parts {
                let part = &sent[&(event.event_id, info.kind)];
                assert_eq!(info.header_size, part.header.len() as u64);
                assert_eq!(info.payload_size, part.payload_len as u64);
                let whole = get(format!("/v1/events/{}/parts/{}", event.event_id, info.kind))
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                assert_eq!(whole.len(), part.header.len() + part.payload_len);
                assert!(whole[part.header.len()..] == payload(part)[..]);
                listed_parts += 1;
            }
        }
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert!(listed_parts >= acked.len());

    // Stop gracefully; then every blob file left on disk is a listed part's.
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert!(
        child.wait().unwrap().success(),
        "graceful exit after SIGTERM"
    );
    let files = walk(&dir.path().join("blobs/blobs"));
    let staging = files.iter().filter(|f| f.contains('#')).count();
    println!(
        "crash test: {} uploads acknowledged before SIGKILL, {} intact after restart, {} parts listed; \
         debris at kill: {} files ({} staging); after sweep: {} blob files, {} staging files",
        acked.len(),
        acked.len(),
        listed_parts,
        before_restart.len().saturating_sub(listed_parts * 2),
        debris_staging,
        files.len(),
        staging
    );
    assert_eq!(staging, 0, "staging debris survived the sweep: {files:?}");
    assert_eq!(files.len(), listed_parts * 2, "orphans survived the sweep");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out
}
