//! Slow clients against the server binary with short timeouts: a slowloris
//! client trickling its request head, an idle connection, a request body
//! that stalls, and one that trickles past the whole-request limit. Each is
//! cut off by the server — the head by closing the connection, a body with
//! `408 timeout` (retryable) — and the metric counts the head timeouts.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use sealcam_e2e::process::{Binaries, ServerProcess};

/// The server binary with 1 s head, 1 s body-idle and 3 s request timeouts.
fn server(dir: &std::path::Path) -> ServerProcess {
    let bins = Binaries::locate().unwrap();
    let env = [
        ("SEALCAM__LIMITS__HEADER_TIMEOUT_SECS", "1"),
        ("SEALCAM__LIMITS__BODY_IDLE_TIMEOUT_SECS", "1"),
        ("SEALCAM__LIMITS__REQUEST_TIMEOUT_SECS", "3"),
    ];
    let env: Vec<(&str, &std::ffi::OsStr)> = env.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    ServerProcess::start_with(&bins.server, dir, &env, false).unwrap()
}

/// Writes `bytes` one at a time, `gap` apart, until the server answers or
/// closes the connection, or `give_up` passes; returns how long that took
/// and what the server sent.
fn trickle(
    stream: &mut TcpStream,
    bytes: &[u8],
    gap: Duration,
    give_up: Duration,
) -> (Duration, String) {
    let started = Instant::now();
    let mut got = Vec::new();
    for b in bytes.iter().cycle() {
        if stream.write_all(&[*b]).is_err() || started.elapsed() > give_up {
            break;
        }
        std::thread::sleep(gap);
        stream.set_nonblocking(true).unwrap();
        let mut probe = [0u8; 4096];
        let read = stream.read(&mut probe);
        stream.set_nonblocking(false).unwrap();
        match read {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&probe[..n]);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
    }
    let elapsed = started.elapsed();
    if !got.is_empty() {
        got.extend_from_slice(read_all(stream).as_bytes());
    }
    (elapsed, String::from_utf8_lossy(&got).into_owned())
}

/// Reads until the server closes; returns what it sent.
fn read_all(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

fn metric(server: &ServerProcess, name: &str) -> u64 {
    let addr = server.metrics_addr.as_ref().expect("a metrics listener");
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let text = read_all(&mut conn);
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[test]
fn a_slowloris_head_and_an_idle_connection_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let give_up = Duration::from_secs(30);

    // One header byte every 200 ms: never finishes its head.
    let mut slow = TcpStream::connect(server.addr()).unwrap();
    let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let (cut_after, _) = trickle(&mut slow, head, Duration::from_millis(200), give_up);
    assert!(
        cut_after < give_up,
        "the slowloris client was never cut off"
    );

    // A connection that sends nothing.
    let mut idle = TcpStream::connect(server.addr()).unwrap();
    let started = Instant::now();
    let said = read_all(&mut idle);
    let idle_closed = started.elapsed();
    assert!(idle_closed < Duration::from_secs(20), "{idle_closed:?}");
    assert!(
        said.is_empty() || said.starts_with("HTTP/1.1 408"),
        "{said:?}"
    );

    // A normal request still works.
    let mut ok = TcpStream::connect(server.addr()).unwrap();
    ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert!(read_all(&mut ok).starts_with("HTTP/1.1 200"));

    let timed_out = metric(&server, "sealcam_connections_timed_out_total");
    assert!(
        timed_out >= 2,
        "metric sealcam_connections_timed_out_total = {timed_out}"
    );
    println!(
        "hardening: slow clients: a slowloris head was cut off after {:.1} s, an idle connection after {:.1} s (header_timeout_secs = 1); sealcam_connections_timed_out_total = {timed_out}",
        cut_after.as_secs_f64(),
        idle_closed.as_secs_f64()
    );
}

#[test]
fn a_stalled_body_and_an_endless_one_answer_408() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let request = |len: usize| {
        format!(
            "POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
        )
    };

    // Ten bytes of a 100-byte body, then silence.
    let mut stalled = TcpStream::connect(server.addr()).unwrap();
    stalled.write_all(request(100).as_bytes()).unwrap();
    stalled.write_all(b"{\"token\":").unwrap();
    let started = Instant::now();
    let answer = read_all(&mut stalled);
    let stalled_after = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("\"timeout\""), "{answer:?}");

    // A body that never stalls for a second but never ends either: the
    // whole-request limit (3 s) answers.
    let mut endless = TcpStream::connect(server.addr()).unwrap();
    endless.write_all(request(1_000_000).as_bytes()).unwrap();
    let (took, answer) = trickle(
        &mut endless,
        b"{\"token\":\"aaaaaaaa",
        Duration::from_millis(100),
        Duration::from_secs(30),
    );
    assert!(took < Duration::from_secs(30), "never cut off");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    println!(
        "hardening: slow clients: a body stalled after 10 bytes answered 408 after {:.1} s (body_idle_timeout_secs = 1); a body trickling 10 bytes/s answered 408 after {:.1} s (request_timeout_secs = 3)",
        stalled_after.as_secs_f64(),
        took.as_secs_f64()
    );
}
