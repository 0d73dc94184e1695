//! The reconnect storm at scale, the server in its own process: N cameras
//! (default 10,000) that each spooled an event during an outage reconnect
//! at the same instant. A bench binary: it prints, it asserts nothing.
//!
//! The server is the real release `sealcam-server` (SQLite and local disk,
//! the default configuration) in a child process, so its RSS is its own; the
//! fleet is `sealcam-storm` (the device SDK, one thread per camera) in
//! another. Printed: every part delivered exactly once or not, the server's
//! answers by status from its metrics (overload must be `503` with
//! `Retry-After`, nothing else 5xx), the drain time, and the server's peak
//! RSS (`VmHWM`) with its RSS sampled every second during the drain.
//!
//! ```text
//! cargo build --release -p sealcam-server -p sealcam-e2e --bins
//! cargo bench -p sealcam-e2e --bench storm                      # 10,000 cameras
//! SEALCAM_STORM_CAMERAS=2000 cargo bench -p sealcam-e2e --bench storm
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sealcam_e2e::process::{binary, create_account, ServerProcess};

const STORM: &str = env!("CARGO_BIN_EXE_sealcam-storm");

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// `sealcam_http_requests_total` from the metrics text, summed by status.
fn requests_by_status(metrics_addr: &str) -> BTreeMap<String, u64> {
    use std::io::{Read as _, Write as _};
    let mut text = String::new();
    if let Ok(mut c) = std::net::TcpStream::connect(metrics_addr) {
        let _ = write!(c, "GET /metrics HTTP/1.0\r\nHost: {metrics_addr}\r\n\r\n");
        let _ = c.read_to_string(&mut text);
    }
    let mut by = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("sealcam_http_requests_total{"))
    {
        let status = line
            .split("status=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or("?");
        let n: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        *by.entry(status.to_owned()).or_default() += n as u64;
    }
    by
}

fn main() {
    let cameras = std::env::var("SEALCAM_STORM_CAMERAS").unwrap_or_else(|_| "10000".into());
    let server_bin = binary("sealcam-server", "sealcam-server").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    std::fs::create_dir_all(&data).unwrap();
    let token = create_account(&server_bin, &data, "storm").unwrap();
    let server = ServerProcess::start(&server_bin, &data).unwrap();
    let pid = server.pid();
    let metrics = server.metrics_addr.clone().expect("a metrics listener");
    println!(
        "storm bench: {cameras} cameras, server pid {pid}, RSS at start {} MiB",
        status_kib(pid, "VmRSS:") / 1024
    );

    let stop = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
    let peak_sampled = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, samples, peak) = (stop.clone(), samples.clone(), peak_sampled.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let rss = status_kib(pid, "VmRSS:");
                peak.fetch_max(rss, Ordering::Relaxed);
                samples.lock().unwrap().push(rss / 1024);
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    let out = Command::new(STORM)
        .args([
            "--server",
            &server.url,
            "--cameras",
            &cameras,
            "--events",
            "1",
        ])
        .args(["--enrollment-token", &token])
        .arg("--dir")
        .arg(dir.path().join("fleet"))
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        println!(
            "storm bench: the fleet failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let by_status = requests_by_status(&metrics);
    let others: u64 = by_status
        .iter()
        .filter(|(s, _)| s.starts_with('5') && s.as_str() != "503")
        .map(|(_, n)| n)
        .sum();
    println!("storm bench: server answers by status {by_status:?}; 5xx other than 503: {others}");
    let samples = samples.lock().unwrap();
    let step = samples.len().div_ceil(20).max(1);
    let shown: Vec<String> = samples
        .iter()
        .step_by(step)
        .map(|m| m.to_string())
        .collect();
    println!(
        "storm bench: server peak RSS (VmHWM) {} MiB, sampled peak {} MiB (target ≤ 256 MiB); RSS every {step} s in MiB: {}",
        status_kib(pid, "VmHWM:") / 1024,
        peak_sampled.load(Ordering::Relaxed) / 1024,
        shown.join(" ")
    );
}
