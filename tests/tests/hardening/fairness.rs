//! Fair upload slots: one camera holding as many slow uploads open as it
//! can (64, the server's whole default pool) gets its own share (4) and a
//! `503` for the rest, while another household's camera uploads as before:
//! never refused, its p99 latency printed unloaded and under the flood.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sealcam_e2e::household::{Household, PHONE};

const FLOOD: usize = 64;
const SAMPLES: usize = 100;

fn part_url(base: &str, kind: &str) -> String {
    format!(
        "{base}/v1/events/{}/parts/{kind}?captured_at=1700000000&header_len=100",
        uuid::Uuid::new_v4()
    )
}

/// `SAMPLES` sequential 20 KiB uploads; returns the sorted latencies and
/// how many were refused.
async fn measure(http: &reqwest::Client, base: &str, cred: &str) -> (Vec<Duration>, u64) {
    let body = Bytes::from(vec![7u8; 20 * 1024]);
    let mut took = Vec::with_capacity(SAMPLES);
    let mut refused = 0;
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let resp = http
            .put(part_url(base, "thumbnail"))
            .bearer_auth(cred)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        took.push(started.elapsed());
        if !resp.status().is_success() {
            refused += 1;
        }
    }
    took.sort();
    (took, refused)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// One slow upload after another from the flooding camera: a 10 MiB clip
/// sent 1 KiB every 100 ms, so each holds its slot; refusals are counted.
async fn flood(http: reqwest::Client, url: String, cred: String, refused: Arc<AtomicU64>) {
    loop {
        let chunks = futures_util::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Some((Ok::<_, std::io::Error>(Bytes::from(vec![1u8; 1024])), ()))
        });
        let resp = http
            .put(part_url(&url, "clip"))
            .bearer_auth(&cred)
            .header("content-length", (10 * 1024 * 1024).to_string())
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await;
        if let Ok(resp) = resp {
            if resp.status() == 503 {
                refused.fetch_add(1, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn a_flooding_camera_gets_its_share_and_another_is_not_refused() {
    let h = Household::start().unwrap();
    let flooder = h.pair_camera(PHONE, "flooder").unwrap();
    h.other_account("neighbour").unwrap();
    let quiet = h.pair_camera("neighbour", "quiet").unwrap();
    let (flood_cred, quiet_cred) = (flooder.credential().unwrap(), quiet.credential().unwrap());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    sealcam_client::tls::install_crypto_provider();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(FLOOD + 4)
        .build()
        .unwrap();

    let (unloaded, refused_unloaded) = rt.block_on(measure(&http, &h.url, &quiet_cred));
    assert_eq!(refused_unloaded, 0);

    let flood_refused = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..FLOOD)
        .map(|_| {
            rt.spawn(flood(
                http.clone(),
                h.url.clone(),
                flood_cred.clone(),
                Arc::clone(&flood_refused),
            ))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1)); // the flood takes its slots
    let (loaded, refused_loaded) = rt.block_on(measure(&http, &h.url, &quiet_cred));
    let flood_refused = flood_refused.load(Ordering::Relaxed);
    for t in tasks {
        t.abort();
    }

    assert_eq!(
        refused_loaded, 0,
        "the quiet camera was refused under the flood"
    );
    assert!(
        flood_refused >= (FLOOD - 4) as u64,
        "the flooding camera held more than its share: only {flood_refused} refused"
    );
    let (u50, u99, l50, l99) = (
        pct(&unloaded, 0.5),
        pct(&unloaded, 0.99),
        pct(&loaded, 0.5),
        pct(&loaded, 0.99),
    );
    println!(
        "hardening: fairness: a camera flooding {FLOOD} slow uploads was refused {flood_refused} times (its share: 4); another household's camera, {SAMPLES} 20 KiB uploads: 0 refused, p50 {u50:.1} ms / p99 {u99:.1} ms unloaded, p50 {l50:.1} ms / p99 {l99:.1} ms under the flood ({:.2}× p99)",
        l99 / u99
    );
}
