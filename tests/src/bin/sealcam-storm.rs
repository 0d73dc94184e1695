//! `sealcam-storm`: N paired cameras, each holding spooled events from an
//! outage, reconnect at the same instant and drain their spools.
//!
//! ```text
//! sealcam-storm --server URL --enrollment-token sce_… --cameras N [--events E] [--json]
//! ```
//!
//! Setup (not timed): enroll an owner (the test kit's [`SimOwner`]) with an
//! enrollment token, pair N cameras (the device SDK, each in its own state
//! directory, with the owner checking every pairing proof), publish their
//! recipient sets, and seal E events per camera into the spools ("the
//! outage"). Then every camera thread waits on one barrier and drains at
//! once. Reported: parts delivered, transient failures retried
//! (503/429/unreachable), parts rejected, the time until the last spool was
//! empty, and what the server holds afterwards (no duplicates).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use clap::Parser;

use sealcam_device::{
    BackoffPolicy, Delivery, Device, DeviceConfig, DrainReport, EventRecord, NewEvent, SpoolLimits,
};
use sealcam_e2e::{media, SimOwner};

#[derive(Parser, Debug)]
#[command(
    name = "sealcam-storm",
    version,
    about = "Simulate N paired cameras reconnecting at once after an outage, each with spooled events"
)]
struct StormArgs {
    /// The server (e.g. http://127.0.0.1:7443).
    #[arg(long)]
    server: String,
    /// A one-time enrollment token for a fresh owner account (`sealcam-server accounts create`).
    #[arg(long, env = "SEALCAM_ENROLLMENT_TOKEN")]
    enrollment_token: String,
    /// How many cameras.
    #[arg(long, default_value_t = 100)]
    cameras: usize,
    /// Spooled events per camera (each a thumbnail, a clip and a record).
    #[arg(long, default_value_t = 1)]
    events: usize,
    /// Bytes of each clip.
    #[arg(long, default_value_t = 64 * 1024)]
    clip_bytes: usize,
    /// Bytes of each thumbnail.
    #[arg(long, default_value_t = 8 * 1024)]
    thumbnail_bytes: usize,
    /// Where the cameras' state directories go (default: a new temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Threads for the (untimed) setup.
    #[arg(long, default_value_t = 8)]
    setup_threads: usize,
    /// Give up draining after this many seconds.
    #[arg(long, default_value_t = 600)]
    max_wait: u64,
    /// First backoff window in milliseconds.
    #[arg(long, default_value_t = 500)]
    backoff_base_ms: u64,
    /// Largest backoff window in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    backoff_cap_ms: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

struct Outcome {
    report: DrainReport,
    elapsed: Duration,
}

fn main() -> ExitCode {
    match run(StormArgs::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealcam-storm: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: StormArgs) -> Result<()> {
    if args.cameras == 0 {
        bail!("--cameras must be at least 1");
    }
    let tmp;
    let root = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::Builder::new()
                .prefix("sealcam-storm-")
                .tempdir()?;
            tmp.path().to_owned()
        }
    };
    let config = DeviceConfig {
        spool: SpoolLimits::default(),
        backoff: BackoffPolicy {
            base: Duration::from_millis(args.backoff_base_ms),
            cap: Duration::from_millis(args.backoff_cap_ms),
        },
        ..DeviceConfig::default()
    };
    // The owner's HTTP client (the app SDK's) runs on this runtime; the
    // cameras (the device SDK) block on their own threads.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    // --- setup: pair every camera, publish sets, spool the outage's events.
    let setup_start = Instant::now();
    let mut owner = SimOwner::enroll(rt.handle(), &args.server, &args.enrollment_token)
        .map_err(|e| anyhow!("enrolling the simulated owner: {e}"))?;
    let codes = (0..args.cameras)
        .map(|_| owner.pairing_code())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("making pairing codes: {e}"))?;
    let dirs: Vec<PathBuf> = (0..args.cameras)
        .map(|i| root.join(format!("camera-{i:05}")))
        .collect();
    parallel(args.setup_threads, args.cameras, |i| {
        let mut d = Device::open(&dirs[i], config.clone())?;
        d.pair(&codes[i])?;
        Ok(())
    })
    .context("pairing the cameras")?;
    let confirmed = owner
        .confirm_pending()
        .map_err(|e| anyhow!("confirming the cameras: {e}"))?;
    if confirmed.len() != args.cameras {
        bail!(
            "the owner confirmed {} of {} cameras (pairing proofs that did not verify)",
            confirmed.len(),
            args.cameras
        );
    }
    let thumb = media::bytes(1, args.thumbnail_bytes);
    let clip = media::bytes(2, args.clip_bytes);
    parallel(args.setup_threads, args.cameras, |i| {
        let mut d = Device::open(&dirs[i], config.clone())?;
        d.sync()?;
        for _ in 0..args.events {
            let record = EventRecord::new("motion");
            let mut clip_reader = &clip[..];
            d.record(
                NewEvent::now()
                    .thumbnail(&thumb)
                    .clip(&mut clip_reader)
                    .record(&record)
                    .delivery(Delivery::SpoolOnly),
            )?;
        }
        Ok(())
    })
    .context("spooling the outage's events")?;
    let setup = setup_start.elapsed();
    let expected_parts = (args.cameras * args.events * 3) as u64;

    // --- the storm: every camera reconnects at the same instant.
    let devices = dirs
        .iter()
        .map(|d| Device::open(d, config.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let barrier = Arc::new(Barrier::new(args.cameras + 1));
    let max_wait = Duration::from_secs(args.max_wait);
    let mut handles = Vec::with_capacity(args.cameras);
    for mut device in devices {
        let barrier = Arc::clone(&barrier);
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                barrier.wait();
                let start = Instant::now();
                let report = device.drain(max_wait);
                report.map(|report| Outcome {
                    report,
                    elapsed: start.elapsed(),
                })
            })
            .context("starting a camera thread")?;
        handles.push(handle);
    }
    barrier.wait();
    let storm_start = Instant::now();
    let mut outcomes = Vec::with_capacity(args.cameras);
    let mut errors = 0usize;
    for h in handles {
        match h.join() {
            Ok(Ok(o)) => outcomes.push(o),
            _ => errors += 1,
        }
    }
    let wall = storm_start.elapsed();

    // --- what the server holds now.
    let mut events_found = 0u64;
    let mut parts_found = 0u64;
    for camera in &confirmed {
        let events = owner
            .events(*camera)
            .map_err(|e| anyhow!("listing the events of camera {camera}: {e}"))?;
        events_found += events.len() as u64;
        parts_found += events.iter().map(|e| e.parts.len() as u64).sum::<u64>();
    }

    let sum = |f: fn(&DrainReport) -> u64| outcomes.iter().map(|o| f(&o.report)).sum::<u64>();
    let mut times: Vec<Duration> = outcomes.iter().map(|o| o.elapsed).collect();
    times.sort();
    let pct = |p: f64| -> f64 {
        if times.is_empty() {
            return 0.0;
        }
        let i = ((times.len() as f64 - 1.0) * p).round() as usize;
        times[i].as_secs_f64()
    };
    let drain = times.last().copied().unwrap_or_default();
    let report = serde_json::json!({
        "cameras": args.cameras,
        "events_per_camera": args.events,
        "parts_spooled": expected_parts,
        "delivered": sum(|r| r.delivered),
        "already_stored": sum(|r| r.already_stored),
        "retried": sum(|r| r.retried),
        "rejected": sum(|r| r.rejected),
        "remaining": sum(|r| r.remaining),
        "blocked_cameras": outcomes.iter().filter(|o| o.report.blocked).count(),
        "camera_errors": errors,
        "time_to_drain_s": drain.as_secs_f64(),
        "wall_s": wall.as_secs_f64(),
        "per_camera_drain_s": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99)},
        "server_events": events_found,
        "server_parts": parts_found,
        "setup_s": setup.as_secs_f64(),
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "storm: {} cameras × {} events ({} parts spooled)\n\
             delivered {} (already stored {}), retried {}, rejected {}, remaining {}, camera errors {}\n\
             time to drain {:.2}s (per camera p50 {:.2}s, p90 {:.2}s, p99 {:.2}s)\n\
             server holds {} events, {} parts (expected {} and {}); setup took {:.1}s",
            args.cameras,
            args.events,
            expected_parts,
            report["delivered"],
            report["already_stored"],
            report["retried"],
            report["rejected"],
            report["remaining"],
            errors,
            drain.as_secs_f64(),
            pct(0.5),
            pct(0.9),
            pct(0.99),
            events_found,
            parts_found,
            args.cameras * args.events,
            expected_parts,
            setup.as_secs_f64(),
        );
    }
    if parts_found != expected_parts || errors > 0 {
        bail!("the storm did not deliver every part exactly once");
    }
    Ok(())
}

/// Runs `f(0..n)` on `threads` threads; the first error wins.
fn parallel<F>(threads: usize, n: usize, f: F) -> Result<()>
where
    F: Fn(usize) -> Result<(), sealcam_device::DeviceError> + Sync,
{
    let next = Mutex::new(0usize);
    let failure: Mutex<Option<sealcam_device::DeviceError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let i = {
                    let Ok(mut g) = next.lock() else { return };
                    let i = *g;
                    *g += 1;
                    i
                };
                if i >= n {
                    return;
                }
                if let Err(e) = f(i) {
                    if let Ok(mut slot) = failure.lock() {
                        slot.get_or_insert(e);
                    }
                    return;
                }
            });
        }
    });
    match failure.into_inner() {
        Ok(None) => Ok(()),
        Ok(Some(e)) => Err(e.into()),
        Err(_) => bail!("a setup thread panicked"),
    }
}
