//! Download benchmark: sealcam-server beside nginx serving the same bytes.
//!
//! `cargo bench -p sealcam-server --bench serve` (needs `nginx` and `wrk` on
//! PATH; Debian packages `nginx` and `wrk`). It starts the real server
//! in-process on 127.0.0.1:0 with a temporary data dir, enrolls a viewer,
//! pairs a camera, uploads a 20 KiB thumbnail and a 10 MiB clip, writes the
//! same bytes as static files served by nginx on loopback, and runs wrk
//! against both:
//!
//! - thumbnail GET: requests/s and p99 latency (`wrk -t2 -c64`), with bearer
//!   authentication and the database query that authorises it and, the
//!   thumbnail being small, reads its bytes (`storage.in_database_max_bytes`;
//!   `SEALCAM_BENCH_BLOBS=1` keeps it a blob file);
//! - 10 MiB GET: MB/s (`wrk -t2 -c4`).
//!
//! The two servers take turns, `BENCH_ROUNDS` rounds (default 5; half as many
//! for the clip) of `BENCH_SECS` seconds per run (default 4), and the medians
//! are reported: on a shared machine a slow spell then falls on both. Beside
//! the rates it prints the CPU time each server spent per thumbnail request
//! (this process's for sealcam, nginx's master and workers' for nginx, from
//! `/proc`): on two cores shared with wrk the rate swings from round to
//! round, the CPU a request costs much less. It prints figures; it asserts
//! nothing about speed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::TcpListener as StdListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use sealcam_server::{Config, Server};
use uuid::Uuid;

const THUMB: usize = 20 * 1024;
const CLIP: usize = 10 * 1024 * 1024;

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    if Command::new("wrk").arg("--version").output().is_err()
        || Command::new("nginx").arg("-v").output().is_err()
    {
        eprintln!("serve bench: needs `nginx` and `wrk` (apt-get install nginx wrk); skipped");
        return;
    }
    let secs: u64 = env_number("BENCH_SECS", 4);
    let rounds = env_number("BENCH_ROUNDS", 5).max(1) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    config.server.metrics_enabled = false;
    let blobs_only = std::env::var_os("SEALCAM_BENCH_BLOBS").is_some_and(|v| v == "1");
    if blobs_only {
        config.storage.in_database_max_bytes = 0;
    }
    println!(
        "serve bench: the thumbnail is kept {}",
        if blobs_only {
            "as a blob file (SEALCAM_BENCH_BLOBS=1)"
        } else {
            "in the database (storage.in_database_max_bytes)"
        }
    );
    let (server, token, thumb_path, clip_path, thumb_bytes, clip_bytes) = runtime.block_on(async {
        let server = Server::bind(config).await.unwrap().spawn();
        let base = format!("http://{}", server.addr());
        sealcam_server::tls::install_crypto_provider();
        let http = reqwest::Client::new();
        let account = server.create_account("bench").await.unwrap();
        let (viewer, camera) =
            common::binary::enroll_pair_confirm(&http, &base, &base, &account.enrollment_token)
                .await;
        // A few other events so the lookup is not against a one-row table.
        let mut last = (String::new(), String::new(), Vec::new(), Vec::new());
        for i in 0..200u32 {
            let event = Uuid::now_v7();
            let thumb: Vec<u8> = (0..THUMB).map(|j| (j as u32 ^ i) as u8).collect();
            let url = format!(
                "{base}/v1/events/{event}/parts/thumbnail?captured_at=1700000000&header_len=200"
            );
            let resp = http
                .put(url)
                .bearer_auth(&camera.credential)
                .body(thumb.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201);
            if i == 199 {
                let clip: Vec<u8> = (0..CLIP).map(|j| (j * 7 + 3) as u8).collect();
                let url = format!(
                    "{base}/v1/events/{event}/parts/clip?captured_at=1700000000&header_len=200"
                );
                let resp = http
                    .put(url)
                    .bearer_auth(&camera.credential)
                    .body(clip.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 201);
                last = (
                    format!("{base}/v1/events/{event}/parts/thumbnail"),
                    format!("{base}/v1/events/{event}/parts/clip"),
                    thumb,
                    clip,
                );
            }
        }
        (server, viewer.credential, last.0, last.1, last.2, last.3)
    });

    // The same bytes as static files for nginx.
    let www = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("thumb.bin"), &thumb_bytes).unwrap();
    std::fs::write(www.path().join("clip.bin"), &clip_bytes).unwrap();
    open_permissions(www.path());
    let port = free_port();
    let nginx = start_nginx(www.path(), port);

    // Sanity: both serve identical bytes.
    runtime.block_on(async {
        sealcam_server::tls::install_crypto_provider();
        let http = reqwest::Client::new();
        let ours = http
            .get(&thumb_path)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let theirs = http
            .get(format!("http://127.0.0.1:{port}/thumb.bin"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(ours, theirs, "sealcam and nginx must serve the same bytes");
    });

    let auth = format!("Authorization: Bearer {token}");
    let nginx_thumb = format!("http://127.0.0.1:{port}/thumb.bin");
    let nginx_clip = format!("http://127.0.0.1:{port}/clip.bin");
    println!(
        "serve bench: {rounds} rounds of {secs} s per run, sealcam and nginx in turn, \
         wrk on loopback, 2 cores shared with the servers"
    );
    // Rounds alternate the two servers so that a slow spell of a shared
    // machine falls on both; the medians are reported.
    let mut thumb = Vec::new();
    let mut clip = Vec::new();
    let nginx_pids = nginx.pids();
    let own = [std::process::id()];
    let mut cpu = Vec::new();
    for round in 1..=rounds {
        let (s, s_cpu) = cpu_per_request(&own, || wrk(&thumb_path, Some(&auth), 64, secs));
        let (n, n_cpu) = cpu_per_request(&nginx_pids, || wrk(&nginx_thumb, None, 64, secs));
        println!(
            "  round {round}: thumbnail sealcam {:.0} req/s, {s_cpu:.1} µs CPU/req | nginx {:.0} req/s, {n_cpu:.1} µs CPU/req | ratio {:.2}x",
            s.rps,
            n.rps,
            s.rps / n.rps
        );
        thumb.push((s, n));
        cpu.push((s_cpu, n_cpu));
    }
    for round in 1..=rounds.div_ceil(2) {
        let s = wrk(&clip_path, Some(&auth), 4, secs);
        let n = wrk(&nginx_clip, None, 4, secs);
        println!(
            "  round {round}: clip sealcam {:.0} MB/s | nginx {:.0} MB/s | ratio {:.2}x",
            s.mb_per_s,
            n.mb_per_s,
            s.mb_per_s / n.mb_per_s
        );
        clip.push((s, n));
    }
    println!(
        "thumbnail 20 KiB GET: sealcam {:.0} req/s (p99 {:.2} ms) | nginx {:.0} req/s (p99 {:.2} ms) | ratio {:.2}x (medians of {} rounds)",
        median(thumb.iter().map(|(s, _)| s.rps)),
        median(thumb.iter().map(|(s, _)| s.p99_ms)),
        median(thumb.iter().map(|(_, n)| n.rps)),
        median(thumb.iter().map(|(_, n)| n.p99_ms)),
        median(thumb.iter().map(|(s, n)| s.rps / n.rps)),
        thumb.len()
    );
    println!(
        "thumbnail 20 KiB GET, CPU per request: sealcam {:.1} µs | nginx {:.1} µs | nginx ÷ sealcam {:.2}x (medians of {} rounds)",
        median(cpu.iter().map(|(s, _)| *s)),
        median(cpu.iter().map(|(_, n)| *n)),
        median(cpu.iter().map(|(s, n)| n / s)),
        cpu.len()
    );
    println!(
        "clip 10 MiB GET: sealcam {:.0} MB/s | nginx {:.0} MB/s | ratio {:.2}x (medians of {} rounds)",
        median(clip.iter().map(|(s, _)| s.mb_per_s)),
        median(clip.iter().map(|(_, n)| n.mb_per_s)),
        median(clip.iter().map(|(s, n)| s.mb_per_s / n.mb_per_s)),
        clip.len()
    );

    nginx.stop();
    runtime.block_on(server.shutdown()).unwrap();
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The median (the mean of the two middle values for an even count).
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn open_permissions(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx run by the bench; stopped with `nginx -s stop` so that its workers
/// exit with the master (a SIGKILL to the master alone leaves them serving).
struct Nginx {
    master: Child,
    conf_dir: std::path::PathBuf,
}

impl Nginx {
    /// The master's process id and its workers'.
    fn pids(&self) -> Vec<u32> {
        let master = self.master.id();
        let mut pids = vec![master];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            if stat_fields(pid)
                .is_some_and(|f| f.get(1).and_then(|p| p.parse().ok()) == Some(master))
            {
                pids.push(pid);
            }
        }
        pids
    }

    fn stop(mut self) {
        let _ = Command::new("nginx")
            .arg("-c")
            .arg(self.conf_dir.join("nginx.conf"))
            .arg("-p")
            .arg(&self.conf_dir)
            .args(["-s", "stop"])
            .status();
        let _ = self.master.wait();
    }
}

fn start_nginx(www: &Path, port: u16) -> Nginx {
    let conf_dir = tempfile::tempdir().unwrap().keep();
    let p = conf_dir.display();
    let conf = format!(
        "worker_processes auto;\ndaemon off;\nmaster_process on;\npid {p}/nginx.pid;\n\
         error_log {p}/error.log warn;\nevents {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  tcp_nodelay on;\n  keepalive_requests 100000;\n\
           client_body_temp_path {p}/body;\n  proxy_temp_path {p}/proxy;\n  fastcgi_temp_path {p}/fastcgi;\n\
           uwsgi_temp_path {p}/uwsgi;\n  scgi_temp_path {p}/scgi;\n\
           server {{ listen 127.0.0.1:{port}; root {www}; default_type application/octet-stream; }}\n}}\n",
        www = www.display()
    );
    let conf_path = conf_dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut child = Command::new("nginx")
        .arg("-c")
        .arg(&conf_path)
        .arg("-p")
        .arg(&conf_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Wait until it accepts connections (bounded).
    for _ in 0..500 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Nginx {
                master: child,
                conf_dir,
            };
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("nginx did not start; see {}/error.log", conf_dir.display());
}

/// The fields of `/proc/PID/stat` after the command name (the state first).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// User and system CPU time of processes `pids` so far, in seconds (the
/// kernel counts in units of 1/100 s, USER_HZ).
fn cpu_seconds(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|&pid| stat_fields(pid))
        .map(|f| {
            let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            (ticks(11) + ticks(12)) as f64 / 100.0
        })
        .sum()
}

/// The wrk run `run`, and the CPU time `pids` spent per request of it, in µs.
fn cpu_per_request(pids: &[u32], run: impl FnOnce() -> WrkResult) -> (WrkResult, f64) {
    let before = cpu_seconds(pids);
    let result = run();
    let per_request = (cpu_seconds(pids) - before) * 1e6 / result.requests.max(1.0);
    (result, per_request)
}

struct WrkResult {
    rps: f64,
    requests: f64,
    p99_ms: f64,
    mb_per_s: f64,
}

fn wrk(url: &str, header: Option<&str>, connections: u32, secs: u64) -> WrkResult {
    let mut command = Command::new("wrk");
    command
        .arg("-t2")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{secs}s"))
        .arg("--latency");
    if let Some(header) = header {
        command.arg("-H").arg(header);
    }
    let out = command.arg(url).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |prefix: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    };
    let non_2xx = field("Non-2xx or 3xx responses:");
    assert!(non_2xx.is_none(), "wrk saw errors for {url}:\n{text}");
    let rps: f64 = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let p99_ms = field("99%").map_or(0.0, |v| duration_ms(&v));
    let requests: f64 = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let mb_per_s = field("Transfer/sec:").map_or(0.0, |v| size_mb(&v));
    WrkResult {
        rps,
        requests,
        p99_ms,
        mb_per_s,
    }
}

fn duration_ms(text: &str) -> f64 {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let value: f64 = text[..split].parse().unwrap_or(0.0);
    match &text[split..] {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => value,
    }
}

fn size_mb(text: &str) -> f64 {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let value: f64 = text[..split].parse().unwrap_or(0.0);
    match &text[split..] {
        "B" => value / 1_048_576.0,
        "KB" => value / 1024.0,
        "MB" => value,
        "GB" => value * 1024.0,
        _ => value,
    }
}
