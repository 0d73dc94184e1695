//! The viewer's read path on loopback (issue #14), printed, not asserted:
//!
//! - `sealcam events list` of 100 events, each record fetched, opened and
//!   verified: the median of whole-process runs;
//! - opening 100 thumbnails through the app SDK: requests per thumbnail
//!   (counted at the proxy in front of the server) and the time as a ratio
//!   to plain HTTP GETs of the same ciphertext, one at a time, in the same
//!   run (target ≤ 1.5×): by `open_small` calls one after the other, and by
//!   `open_small_many` (still one request in flight, each thumbnail opened
//!   while the next downloads); and `open_small` against plain GETs six at
//!   a time, as the viewer's browser loads a page;
//! - `sealcam fetch` from process start to a verified 20 KiB thumbnail on
//!   disk: the median.
//!
//! ```text
//! cargo bench -p sealcam-e2e --bench viewer
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use futures_util::{stream, StreamExt};
use std::time::{Duration, Instant};

use sealcam_device::{EventRecord, NewEvent};
use sealcam_e2e::process::binary;
use sealcam_e2e::proxy::Stats;
use sealcam_e2e::{fast_device_config, media, Harness};
use sealcam_wire::PartKind;

const EVENTS: usize = 100;
const ROUNDS: usize = 9;
/// Requests in flight in the concurrent round (a browser's connections per host).
const IN_FLIGHT: usize = 6;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let h = Harness::start().unwrap();
    let owner = h.owner("bench").unwrap();
    let mut cam = h.camera(&owner, "porch", fast_device_config()).unwrap();
    let mut events = Vec::new();
    for i in 0..EVENTS {
        let thumb = media::thumbnail(i as u64, 20 * 1024);
        let mut record = EventRecord::new(if i % 2 == 0 { "person" } else { "motion" });
        record.labels = vec!["person".into()];
        let report = cam
            .record(NewEvent::now().thumbnail(&thumb).record(&record))
            .unwrap();
        events.push(report.event);
    }
    let cli = binary("sealcam-cli", "sealcam").unwrap();
    let sealcam = |args: &[&str]| {
        let out = Command::new(&cli)
            .env("SEALCAM_HOME", owner.home())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };

    // 1. events list, whole process.
    let limit = EVENTS.to_string();
    let list: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            let out = sealcam(&["events", "list", "--json", "--limit", &limit]);
            let took = t.elapsed();
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let listed = v["events"].as_array().unwrap();
            assert_eq!(listed.len(), EVENTS);
            assert!(listed.iter().all(|e| e["record"]["status"] == "verified"));
            took
        })
        .collect();
    println!(
        "viewer bench: `sealcam events list --limit {EVENTS}` with every record verified: median {} (min {}, max {}; {ROUNDS} runs)",
        ms(median(list.clone())),
        ms(*list.iter().min().unwrap()),
        ms(*list.iter().max().unwrap()),
    );

    // 2. 100 thumbnails through the SDK against plain GETs, alternated.
    let client = owner.client.clone();
    let listed =
        h.rt.block_on(client.events(&sealcam_client::EventFilter::default()))
            .unwrap();
    let thumbnails: Vec<_> = listed
        .iter()
        .map(|e| e.small_part(PartKind::Thumbnail).unwrap())
        .collect();
    let credential = std::fs::read_to_string(owner.home().join("credential"))
        .unwrap()
        .trim()
        .to_owned();
    let http = reqwest::Client::new();
    let url = h.url();
    let forwarded = || Stats::get(&h.proxy.stats().forwarded);
    // Warm: the owner record is verified once per process.
    h.rt.block_on(client.verified_record(false)).unwrap();
    let (mut sdk, mut plain, mut batch) = (Vec::new(), Vec::new(), Vec::new());
    let mut requests = 0u64;
    for _ in 0..ROUNDS {
        let before = forwarded();
        let t = Instant::now();
        h.rt.block_on(async {
            for p in &thumbnails {
                let opened = client
                    .open_small(p.event, p.camera, p.kind, p.payload_len)
                    .await
                    .unwrap();
                assert_eq!(opened.body.len(), 20 * 1024);
            }
        });
        sdk.push(t.elapsed());
        requests = forwarded() - before;
        let t = Instant::now();
        h.rt.block_on(async {
            for e in &listed {
                let body = http
                    .get(format!("{url}/v1/events/{}/parts/thumbnail", e.event_id))
                    .bearer_auth(&credential)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                assert!(body.len() > 20 * 1024);
            }
        });
        plain.push(t.elapsed());
        let t = Instant::now();
        let opened: Vec<_> =
            h.rt.block_on(client.open_small_many(thumbnails.iter().copied()).collect());
        batch.push(t.elapsed());
        assert!(opened
            .iter()
            .all(|o| o.as_ref().unwrap().body.len() == 20 * 1024));
    }
    let (s, b, p) = (median(sdk), median(batch), median(plain));
    println!(
        "viewer bench: the same {EVENTS} thumbnails through `open_small_many` (one request in flight, each opened while the next downloads): median {} against {} for plain GETs: {:.2}× (target ≤ 1.5×)",
        ms(b),
        ms(p),
        b.as_secs_f64() / p.as_secs_f64()
    );
    println!(
        "viewer bench: {EVENTS} thumbnails (20 KiB) opened through the SDK one `open_small` call at a time: {:.2} requests per thumbnail, median {} against {} for plain GETs of the same ciphertext: {:.2}×",
        requests as f64 / EVENTS as f64,
        ms(s),
        ms(p),
        s.as_secs_f64() / p.as_secs_f64()
    );

    // 2b. The same, six at a time, as the viewer's browser loads a timeline
    // page (HTTP/1.1: six connections per host): the client's crypto then
    // overlaps the server's work instead of adding to it.
    let (mut sdk6, mut plain6) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = Instant::now();
        h.rt.block_on(async {
            stream::iter(&thumbnails)
                .map(|p| {
                    let client = &client;
                    async move {
                        let opened = client
                            .open_small(p.event, p.camera, p.kind, p.payload_len)
                            .await
                            .unwrap();
                        assert_eq!(opened.body.len(), 20 * 1024);
                    }
                })
                .buffer_unordered(IN_FLIGHT)
                .collect::<Vec<()>>()
                .await
        });
        sdk6.push(t.elapsed());
        let t = Instant::now();
        h.rt.block_on(async {
            stream::iter(&listed)
                .map(|e| {
                    let (http, credential, url) = (&http, &credential, &url);
                    async move {
                        let body = http
                            .get(format!("{url}/v1/events/{}/parts/thumbnail", e.event_id))
                            .bearer_auth(credential)
                            .send()
                            .await
                            .unwrap()
                            .bytes()
                            .await
                            .unwrap();
                        assert!(body.len() > 20 * 1024);
                    }
                })
                .buffer_unordered(IN_FLIGHT)
                .collect::<Vec<()>>()
                .await
        });
        plain6.push(t.elapsed());
    }
    let (s, p) = (median(sdk6), median(plain6));
    println!(
        "viewer bench: the same {EVENTS} thumbnails {IN_FLIGHT} at a time (as the viewer's browser loads a page): median {} through the SDK against {} for plain GETs: {:.2}×",
        ms(s),
        ms(p),
        s.as_secs_f64() / p.as_secs_f64()
    );

    // 3. The CLI from start to a verified 20 KiB thumbnail on disk.
    let out = h.path("thumb.jpg");
    let out_s = out.to_str().unwrap().to_owned();
    let event = events[EVENTS / 2].to_string();
    let fetch: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let _ = std::fs::remove_file(&out);
            let t = Instant::now();
            sealcam(&["fetch", &event, "--part", "thumbnail", "-o", &out_s]);
            let took = t.elapsed();
            assert_eq!(std::fs::metadata(&out).unwrap().len(), 20 * 1024);
            took
        })
        .collect();
    println!(
        "viewer bench: `sealcam fetch` from process start to a verified 20 KiB thumbnail on disk: median {} (min {}; {ROUNDS} runs)",
        ms(median(fetch.clone())),
        ms(*fetch.iter().min().unwrap()),
    );
}
