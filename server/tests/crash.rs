//! Crash safety: the real `sealcam-server` binary is SIGKILLed during
//! concurrent uploads and restarted on the same data directory. Every upload
//! it acknowledged is intact; nothing partial is listed; the orphan sweep
//! clears the debris and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::binary::{enroll_pair_confirm, spawn_binary};
use common::uploads::{create_account_cli, upload_until_killed, Uploads};
use reqwest::{Client, StatusCode};
use sealcam_wire::EventPage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_uploads_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();

    // The operator creates an account with the CLI.
    let enrollment = create_account_cli(dir.path(), "crash", [("", ""); 0]);

    let (mut child, base) = spawn_binary(dir.path(), [("", ""); 0]);
    sealcam_server::tls::install_crypto_provider();
    let http = Client::new();
    let (viewer, camera) = enroll_pair_confirm(&http, &base, &base, &enrollment).await;

    // Concurrent uploaders; SIGKILL once enough uploads were acknowledged.
    let Uploads { sent, acked } = upload_until_killed(
        &http,
        &base,
        &camera.credential,
        6,
        40,
        |seed| 1_000_000 + (seed as usize % 7) * 300_000,
        &mut child,
    )
    .await;

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
            whole[part.header.len()..] == part.payload()[..],
            "{event}/{kind} corrupt"
        );
    }

    // Everything listed is complete and is exactly what was sent.
    let mut listed_parts = 0;
    // Parts up to this size are kept in the database, the rest as blobs.
    let in_database_max = sealcam_server::Config::default()
        .storage
        .in_database_max_bytes;
    let mut listed_blobs = 0;
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
                assert_eq!(info.payload_size, part.len as u64);
                let whole = get(format!("/v1/events/{}/parts/{}", event.event_id, info.kind))
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                assert_eq!(whole.len(), part.header.len() + part.len);
                assert!(whole[part.header.len()..] == part.payload()[..]);
                listed_parts += 1;
                if info.header_size + info.payload_size > in_database_max {
                    listed_blobs += 1;
                }
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
         {} of them as blobs; debris at kill: {} files ({} staging); after sweep: {} blob files, {} staging files",
        acked.len(),
        acked.len(),
        listed_parts,
        listed_blobs,
        before_restart.len().saturating_sub(listed_blobs),
        debris_staging,
        files.len(),
        staging
    );
    assert_eq!(staging, 0, "staging debris survived the sweep: {files:?}");
    // One blob per part too large for the database (header ‖ payload).
    assert!(listed_blobs > 0 && listed_blobs < listed_parts);
    assert_eq!(files.len(), listed_blobs, "orphans survived the sweep");
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
