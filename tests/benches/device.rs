//! Device SDK figures (a bench binary that prints them; nothing is asserted):
//!
//! 1. peak RSS of `sealcam-device record` sealing and uploading a 2 MiB and a
//!    200 MiB clip (target: the same figure for both, ≤ 8 MiB), with the
//!    throughput;
//! 2. `sealcam-storm`: N cameras (default 2,000) with spooled events
//!    reconnecting at once after an outage — delivered, retried, rejected,
//!    time to drain.
//!
//! The real server runs in this process on 127.0.0.1:0 (SQLite, local disk);
//! the camera is the real `sealcam-device` binary in a child process, whose
//! own peak RSS (`VmHWM`) it reports at exit (found or built by
//! `sealcam_e2e::process::binary`: after changing the device SDK, build it
//! first with `cargo build --release -p sealcam-device`); the owner is the
//! test kit's [`SimOwner`].
//!
//! ```text
//! cargo bench -p sealcam-e2e --bench device
//! SEALCAM_BENCH_CLIPS_MIB=2,200 SEALCAM_STORM_CAMERAS=2000 cargo bench -p sealcam-e2e --bench device
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use sealcam_e2e::process::binary;
use sealcam_e2e::{media, SimOwner};
use sealcam_server::{Config, Server};

const STORM: &str = env!("CARGO_BIN_EXE_sealcam-storm");

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn write_random_file(path: &Path, mib: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..mib {
        f.write_all(&media::bytes(i + 1, 1024 * 1024)).unwrap();
    }
    f.flush().unwrap();
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let camera = binary("sealcam-device", "sealcam-device").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(async {
        Server::bind(Config::ephemeral(&dir.path().join("server")))
            .await
            .unwrap()
            .spawn()
    });
    let url = format!("http://{}", server.addr());
    println!(
        "sealcam-device bench: server {url}, camera binary {}",
        camera.display()
    );

    // --- 1. peak RSS of record, per clip size.
    let account = rt.block_on(server.create_account("bench")).unwrap();
    let mut owner = SimOwner::enroll(rt.handle(), &url, &account.enrollment_token).unwrap();
    let state = dir.path().join("camera");
    let code = owner.pairing_code().unwrap();
    let out = Command::new(&camera)
        .arg("--state")
        .arg(&state)
        .args(["pair", &code])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(owner.confirm_pending().unwrap().len(), 1);
    let thumb = dir.path().join("thumb.jpg");
    std::fs::write(&thumb, vec![0xffu8; 24 * 1024]).unwrap();

    println!("\n## peak RSS of `sealcam-device record` (seal + upload as it is sealed)");
    println!("| clip | peak RSS | wall time | throughput |");
    println!("| ---: | ---: | ---: | ---: |");
    for mib in env_or("SEALCAM_BENCH_CLIPS_MIB", "2,200")
        .split(',')
        .map(|s| s.trim().parse::<u64>().unwrap())
    {
        let clip = dir.path().join(format!("clip-{mib}.mp4"));
        write_random_file(&clip, mib);
        let start = Instant::now();
        let out = Command::new(&camera)
            .arg("--state")
            .arg(&state)
            .arg("--report-peak-rss")
            .args(["record", "--thumbnail"])
            .arg(&thumb)
            .arg("--clip")
            .arg(&clip)
            .args(["--record", r#"{"type":"motion","labels":["person"]}"#])
            .output()
            .unwrap();
        let wall = start.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let rss_kib: u64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("peak_rss_kib="))
            .and_then(|v| v.trim().parse().ok())
            .expect("no peak_rss_kib line");
        println!(
            "| {mib} MiB | {:.1} MiB ({rss_kib} KiB) | {:.2} s | {:.0} MiB/s |",
            rss_kib as f64 / 1024.0,
            wall.as_secs_f64(),
            mib as f64 / wall.as_secs_f64()
        );
        std::fs::remove_file(&clip).unwrap();
    }

    // --- 2. the reconnect storm.
    let cameras = env_or("SEALCAM_STORM_CAMERAS", "2000");
    let events = env_or("SEALCAM_STORM_EVENTS", "1");
    let account = rt.block_on(server.create_account("storm")).unwrap();
    println!("\n## storm: {cameras} cameras × {events} spooled events reconnect at once");
    let out = Command::new(STORM)
        .args(["--server", &url, "--cameras", &cameras, "--events", &events])
        .args(["--enrollment-token", &account.enrollment_token])
        .arg("--dir")
        .arg(dir.path().join("storm"))
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        println!("storm failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    rt.block_on(server.shutdown()).unwrap();
}
