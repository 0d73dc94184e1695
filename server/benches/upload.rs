//! Durable upload benchmark: 20 KiB parts stored through the real server
//! against raw `object_store` PUTs (with fsync) of the same bytes.
//!
//! `cargo bench -p sealcam-server --bench upload`. It starts the real server
//! in-process on 127.0.0.1:0 (SQLite + a local blob directory, its embedded
//! default), pairs `CAMERAS` cameras, and has each upload parts back to
//! back, `PER_CAMERA` at a time, for `BENCH_SECS` seconds (default 4). Every
//! `201` means the part is durable: a 22 KiB part is under the default
//! `storage.in_database_max_bytes`, so its bytes and its row were committed
//! together and the WAL was `fdatasync`ed after that commit (one flush for
//! every row of the batch) before the answer. `SEALCAM_BENCH_BLOBS=1` keeps
//! every part in the blob store instead: its blob fsynced and linked into
//! place, the directory fsynced, then its row committed.
//!
//! The baseline, in the same run and on the same filesystem: the same number
//! of writers, each `put`ting 20 KiB (+ the header's bytes) under fresh keys
//! with `object_store`'s `LocalFileSystem::with_fsync(true)`: a file written,
//! fsynced, linked into place and its directory fsynced, nothing else (no
//! HTTP, no database).
//!
//! The two take turns, `BENCH_ROUNDS` rounds (default 5), and the medians
//! are printed. It prints figures; it asserts nothing about speed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use reqwest::StatusCode;
use sealcam_wire::PartKind;
use uuid::Uuid;

/// The payload of one part (a thumbnail).
const PAYLOAD: usize = 20 * 1024;
/// The age header in front of it (a v2 header with 16 slots is about this).
const HEADER: usize = 2 * 1024;
/// Cameras uploading at once, and uploads in flight per camera (the
/// server's default per-camera limit is 4).
const CAMERAS: usize = 4;
const PER_CAMERA: usize = 4;

fn main() {
    let secs = env_number("BENCH_SECS", 4);
    let rounds = env_number("BENCH_ROUNDS", 5).max(1) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let writers = CAMERAS * PER_CAMERA;
    let header: Vec<u8> = (0..HEADER).map(|i| (i * 31) as u8).collect();
    let payload: Vec<u8> = (0..PAYLOAD).map(|i| (i * 7 + 1) as u8).collect();
    let body = Bytes::from([header.clone(), payload].concat());

    runtime.block_on(async {
        let blobs_only = std::env::var_os("SEALCAM_BENCH_BLOBS").is_some_and(|v| v == "1");
        let t = common::start_with(|c| {
            if blobs_only {
                c.storage.in_database_max_bytes = 0;
            }
        })
        .await;
        let owner = t.new_viewer("bench").await;
        let mut cameras = Vec::new();
        for _ in 0..CAMERAS {
            cameras.push(t.pair_camera(&owner).await);
        }
        // The baseline writes beside the server's blobs, on the same
        // filesystem.
        let raw_dir = tempfile::tempdir_in(t.dir.path()).unwrap();
        let raw: Arc<dyn ObjectStore> = Arc::new(
            LocalFileSystem::new_with_prefix(raw_dir.path())
                .unwrap()
                .with_fsync(true),
        );
        println!(
            "upload bench: {} B parts ({HEADER} B header + {PAYLOAD} B payload), {writers} writers \
             ({CAMERAS} cameras × {PER_CAMERA}), {rounds} rounds of {secs} s, server and baseline in turn; \
             the server keeps them {}",
            body.len(),
            if blobs_only {
                "as blob files (SEALCAM_BENCH_BLOBS=1)"
            } else {
                "in the database (storage.in_database_max_bytes)"
            }
        );
        let mut ratios = Vec::new();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 1..=rounds {
            let s = run_for(secs, writers, |w| {
                let t = &t;
                let camera = &cameras[w % CAMERAS];
                let body = body.clone();
                async move {
                    let event = Uuid::now_v7();
                    let resp = t
                        .send(
                            reqwest::Method::PUT,
                            &format!(
                                "/v1/events/{event}/parts/{}?captured_at=1700000000&header_len={HEADER}",
                                PartKind::Thumbnail
                            ),
                            Some(&camera.token),
                            Some(body.to_vec()),
                        )
                        .await;
                    assert_eq!(resp.status(), StatusCode::CREATED, "upload refused");
                }
            })
            .await;
            let r = run_for(secs, writers, |_| {
                let raw = raw.clone();
                let body = body.clone();
                async move {
                    let key = Path::from(format!("raw/{}", Uuid::new_v4().simple()));
                    raw.put(&key, PutPayload::from_bytes(body)).await.unwrap();
                }
            })
            .await;
            println!(
                "  round {round}: sealcam {s:.0} durable parts/s | raw object_store PUT + fsync {r:.0}/s | ratio {:.2}x",
                s / r
            );
            ours.push(s);
            theirs.push(r);
            ratios.push(s / r);
        }
        println!(
            "durable 20 KiB uploads: sealcam {:.0} parts/s | raw object_store PUT + fsync {:.0}/s | ratio {:.2}x (target ≥ 1.0x; medians of {rounds} rounds)",
            median(ours),
            median(theirs),
            median(ratios)
        );
    });
}

/// Runs `writers` loops of `op` for `secs` seconds; operations per second.
async fn run_for<F, Fut>(secs: u64, writers: usize, op: F) -> f64
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let done = AtomicU64::new(0);
    let until = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let loops = (0..writers).map(|w| {
        let (op, done) = (&op, &done);
        async move {
            while Instant::now() < until {
                op(w).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    futures_util::future::join_all(loops).await;
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The median (the mean of the two middle values for an even count).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
