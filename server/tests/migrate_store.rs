//! `sealcam-server migrate-store` from a local data directory to S3: every
//! blob the database names is copied and verified, the command resumes after
//! an interruption (copying only what is missing), refuses to overwrite a
//! target object holding other bytes, copies no orphan; then the server
//! started on S3 serves every event, every fetch byte-identical to what the
//! camera uploaded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use bytes::Bytes;
use common::{bytes, now, start_with};
use object_store::path::Path as ObjectPath;
use object_store::ObjectStoreExt as _;
use reqwest::{Method, StatusCode};
use sealcam_server::blobs::BlobStore;
use sealcam_server::{Config, Server};
use sealcam_wire::{EventPage, PartKind};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_sealcam-server");

/// Runs `migrate-store --json` and returns its exit success and report.
fn migrate(dir: &Path, to: &str, env: &[(&str, String)]) -> (bool, serde_json::Value) {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(["migrate-store", "--from"])
        .arg(dir.join("blobs"))
        .args(["--to", to, "--json"])
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON report: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_to_s3_resumable_verified_then_served_from_s3() {
    let Some(services) = common::services::services("migrate_store local → s3") else {
        return;
    };

    // A household's data dir on SQLite + local disk, with events.
    let t = start_with(|_| {}).await;
    let owner = t.new_viewer("household").await;
    let cam = t.pair_camera(&owner).await;
    let mut expected: HashMap<(Uuid, PartKind), Vec<u8>> = HashMap::new();
    let mut events = Vec::new();
    for i in 0..6u64 {
        let event = Uuid::now_v7();
        events.push(event);
        let at = now() - 600 + i as i64 * 60;
        let parts: Vec<(PartKind, usize)> = match i {
            // 6 MiB: a multipart upload on S3.
            0 => vec![
                (PartKind::Thumbnail, 20_000),
                (PartKind::Clip, 6 * 1024 * 1024 + 5),
            ],
            1 | 2 => vec![(PartKind::Thumbnail, 20_000), (PartKind::Clip, 700_000)],
            _ => vec![(PartKind::Thumbnail, 15_000), (PartKind::Record, 300)],
        };
        for (kind, len) in parts {
            let header = format!("age-header-{i}-{kind}").into_bytes();
            let payload = bytes(i * 10 + kind as u64, len);
            t.upload_ok(&cam, event, kind, &header, &payload, at).await;
            let mut whole = header;
            whole.extend_from_slice(&payload);
            expected.insert((event, kind), whole);
        }
    }
    // A header re-wrap (new key) and a deleted event (keys gone).
    let resp = t
        .send(
            Method::PUT,
            &format!("/v1/events/{}/parts/clip/header", events[1]),
            Some(&owner.token),
            Some(b"rewrapped-header".to_vec()),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let whole = expected.get_mut(&(events[1], PartKind::Clip)).unwrap();
    let payload = whole.split_off(b"age-header-1-clip".len());
    *whole = [&b"rewrapped-header"[..], &payload[..]].concat();
    let resp = t
        .send(
            Method::DELETE,
            &format!("/v1/events/{}", events[5]),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expected.retain(|(event, _), _| *event != events[5]);
    // One blob per part (header ‖ payload) too large for the database, and
    // the re-wrapped part's new header in a blob of its own; the small
    // parts stay in the database and do not move.
    let in_database_max = t.config.storage.in_database_max_bytes as usize;
    let named_blobs = expected
        .values()
        .filter(|w| w.len() > in_database_max)
        .count()
        + 1;
    assert_eq!(named_blobs, 4, "three clips and a header");
    let local_keys = t.blob_keys().await;
    assert_eq!(local_keys.len(), named_blobs);
    // An orphan in the local store: the database names it not, so it is not copied.
    t.server
        .state()
        .blobs
        .put_bytes(&BlobStore::new_key(), Bytes::from_static(b"orphan"))
        .await
        .unwrap();
    let (dir, config) = (t.dir, t.config);
    t.server.shutdown().await.unwrap();

    // The S3 settings, as an operator gives them: environment variables.
    let bucket = services.new_bucket().await;
    let to = format!("s3://{bucket}/sealcam");
    let s3 = services.s3_config();
    let env = [
        (
            "SEALCAM__STORAGE__S3__ENDPOINT",
            s3.endpoint.clone().unwrap(),
        ),
        ("SEALCAM__STORAGE__S3__REGION", s3.region.clone().unwrap()),
        ("SEALCAM__STORAGE__S3__ALLOW_HTTP", "true".to_owned()),
        (
            "SEALCAM__STORAGE__S3__MULTIPART_PART_BYTES",
            s3.multipart_part_bytes.to_string(),
        ),
    ];

    // First run: everything copied and verified.
    let (ok, report) = migrate(dir.path(), &to, &env);
    assert!(ok, "{report}");
    let total = named_blobs as u64;
    assert_eq!(report["blobs"], total);
    assert_eq!(report["copied"], total);
    assert_eq!(report["already"], 0);

    // "Interrupted": half the copies are missing, and one key holds other
    // bytes. The next run copies only what is missing and leaves the
    // foreign object alone, failing loudly.
    let target = BlobStore::from_url(&to, &s3).unwrap();
    let mut s3_keys = target.list_keys().await.unwrap();
    assert_eq!(s3_keys, local_keys, "exactly the named blobs, same keys");
    s3_keys.truncate(s3_keys.len() / 2);
    for key in &s3_keys {
        target
            .raw()
            .delete(&ObjectPath::from(key.as_str()))
            .await
            .unwrap();
    }
    let foreign = s3_keys[0].clone();
    target
        .put_bytes(&foreign, Bytes::from_static(b"not what the camera sent"))
        .await
        .unwrap();
    let (ok, report) = migrate(dir.path(), &to, &env);
    assert!(!ok, "a wrong target object must fail the run: {report}");
    assert_eq!(report["copied"], s3_keys.len() as u64 - 1);
    assert_eq!(report["already"], total - s3_keys.len() as u64);
    assert_eq!(report["failed"][0]["key"], foreign.as_str());
    assert_eq!(
        target.read_all(&foreign).await.unwrap().as_ref(),
        b"not what the camera sent",
        "never overwritten"
    );
    // The operator removes it; the run after that completes.
    target
        .raw()
        .delete(&ObjectPath::from(foreign.as_str()))
        .await
        .unwrap();
    let (ok, report) = migrate(dir.path(), &to, &env);
    assert!(ok, "{report}");
    assert_eq!(report["copied"], 1);
    assert_eq!(report["already"], total - 1);
    println!("migrate-store: {total} blobs copied and verified; resumed after an interruption; a foreign object refused");

    // The server on S3 (same database): every event, byte-identical.
    let mut config: Config = config;
    config.storage.url = Some(to.clone());
    config.storage.s3 = s3.clone();
    config.server.metrics_enabled = false;
    let server = Server::bind(config).await.unwrap().spawn();
    let base = format!("http://{}", server.addr());
    sealcam_server::tls::install_crypto_provider();
    let http = reqwest::Client::new();
    let page: EventPage = http
        .get(format!("{base}/v1/cameras/{}/events", cam.camera_id))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page.events.len(), 5);
    let mut fetched = 0;
    for event in &page.events {
        for info in &event.parts {
            let want = &expected[&(event.event_id, info.kind)];
            let url = format!("{base}/v1/events/{}/parts/{}", event.event_id, info.kind);
            let got = http
                .get(&url)
                .bearer_auth(&owner.token)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert!(got[..] == want[..], "{url} differs after migration");
            // And a ranged read across the header/payload boundary.
            let resp = http
                .get(&url)
                .bearer_auth(&owner.token)
                .header("Range", "bytes=5-40")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
            assert!(resp.bytes().await.unwrap()[..] == want[5..41]);
            fetched += 1;
        }
    }
    assert_eq!(fetched, expected.len());
    println!(
        "migrate-store: the server on S3 served {fetched} parts of 5 events, all byte-identical"
    );
    server.shutdown().await.unwrap();
    drop(dir);
}
