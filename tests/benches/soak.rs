//! Soak: mixed upload, list and download load on loopback for a while (30
//! minutes by default), printing the server's RSS every minute and the
//! errors. A bench binary (nothing asserted, not run by CI): the figures are
//! what it prints.
//!
//! The server is the real `sealcam-server` binary (release, SQLite + local
//! disk) in a child process, so its RSS is its own; cameras are the device
//! SDK in this process (one thread each, an event every 500 ms: a 16 KiB
//! thumbnail, a 64 KiB clip and a record), and each household's owner lists
//! its cameras' events and downloads and opens the newest thumbnails.
//!
//! ```text
//! cargo bench -p sealcam-e2e --bench soak                 # 30 minutes
//! SEALCAM_SOAK_MINUTES=5 SEALCAM_SOAK_CAMERAS=8 cargo bench -p sealcam-e2e --bench soak
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sealcam_device::{EventRecord, NewEvent, Notice, PartOutcome};
use sealcam_e2e::process::{binary, create_account, ServerProcess};
use sealcam_e2e::{fast_device_config, media, SimOwner};
use sealcam_wire::PartKind;

#[derive(Default)]
struct Counts {
    events: AtomicU64,
    parts_uploaded: AtomicU64,
    parts_spooled: AtomicU64,
    retried_503: AtomicU64,
    other_errors: AtomicU64,
    lists: AtomicU64,
    downloads: AtomicU64,
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let minutes = env_u64("SEALCAM_SOAK_MINUTES", 30);
    let cameras = env_u64("SEALCAM_SOAK_CAMERAS", 4) as usize;
    let server_bin = binary("sealcam-server", "sealcam-server").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    std::fs::create_dir_all(&data).unwrap();
    let tokens: Vec<String> = (0..cameras.div_ceil(2))
        .map(|i| create_account(&server_bin, &data, &format!("soak-{i}")).unwrap())
        .collect();
    let server = ServerProcess::start(&server_bin, &data).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for (o, token) in tokens.iter().enumerate() {
        let mut owner = SimOwner::enroll(rt.handle(), &server.url, token).unwrap();
        let mut devices = Vec::new();
        for c in 0..2.min(cameras - o * 2) {
            let state = dir.path().join(format!("cam-{o}-{c}"));
            devices.push(owner.pair_camera(&state, fast_device_config()).unwrap());
        }
        let recent = Arc::new(Mutex::new(Vec::new()));
        for (c, mut device) in devices.into_iter().enumerate() {
            let (counts, stop, recent) = (counts.clone(), stop.clone(), recent.clone());
            let camera = device.camera_id().unwrap();
            device.set_observer({
                let counts = counts.clone();
                move |n| {
                    if let Notice::Retrying { why, .. } = n {
                        let c = if why.contains("HTTP 503") {
                            &counts.retried_503
                        } else {
                            &counts.other_errors
                        };
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
            threads.push(std::thread::spawn(move || {
                let mut seed = (o * 100 + c) as u64 * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    seed += 1;
                    let thumb = media::bytes(seed, 16 * 1024);
                    let clip = media::bytes(seed + 500_000, 64 * 1024);
                    let record = EventRecord::new("motion");
                    let report = device
                        .record(
                            NewEvent::now()
                                .thumbnail(&thumb)
                                .clip(&mut &clip[..])
                                .record(&record),
                        )
                        .unwrap();
                    counts.events.fetch_add(1, Ordering::Relaxed);
                    for p in &report.parts {
                        match p.outcome {
                            PartOutcome::Uploaded { .. } => &counts.parts_uploaded,
                            _ => &counts.parts_spooled,
                        }
                        .fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = device.drain_once();
                    recent.lock().unwrap().push((camera, report.event));
                    std::thread::sleep(Duration::from_millis(500));
                }
            }));
        }
        let (counts, stop) = (counts.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let newest: Vec<_> = {
                    let mut r = recent.lock().unwrap();
                    let n = r.len();
                    r.drain(..n.saturating_sub(4)).for_each(drop);
                    r.clone()
                };
                for (camera, event) in newest {
                    match owner.events(camera) {
                        Ok(_) => counts.lists.fetch_add(1, Ordering::Relaxed),
                        Err(_) => counts.other_errors.fetch_add(1, Ordering::Relaxed),
                    };
                    let opened = owner.fetch(event, PartKind::Thumbnail).and_then(|(h, p)| {
                        owner.open_fetched(
                            owner.viewer(),
                            camera,
                            event,
                            PartKind::Thumbnail,
                            &h,
                            &p,
                        )
                    });
                    match opened {
                        Ok(_) => counts.downloads.fetch_add(1, Ordering::Relaxed),
                        Err(_) => counts.other_errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }));
    }

    let pid = server.pid();
    println!(
        "soak: {cameras} cameras, {} owners, {minutes} min; server pid {pid}, RSS at start {} MiB",
        tokens.len(),
        rss_kib(pid) / 1024
    );
    let started = Instant::now();
    for minute in 1..=minutes {
        std::thread::sleep(
            (started + Duration::from_secs(60 * minute)).saturating_duration_since(Instant::now()),
        );
        let c = &counts;
        println!(
            "soak: minute {minute:>2}: server RSS {:>4} MiB; events {}, parts uploaded {}, spooled {}, lists {}, downloads {}; 503s {}, other errors {}",
            rss_kib(pid) / 1024,
            c.events.load(Ordering::Relaxed),
            c.parts_uploaded.load(Ordering::Relaxed),
            c.parts_spooled.load(Ordering::Relaxed),
            c.lists.load(Ordering::Relaxed),
            c.downloads.load(Ordering::Relaxed),
            c.retried_503.load(Ordering::Relaxed),
            c.other_errors.load(Ordering::Relaxed),
        );
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
}
