//! `sealcam watch`: an event recorded after it started is printed with its
//! verified type within moments (the server pushes opaque ids; the record is
//! fetched and verified here), `--exec` runs per event, another household's
//! events never show up.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sealcam_e2e::fast_device_config;

use super::{record, World};

#[test]
fn watch_prints_new_events_as_they_are_stored() {
    let (mut w, mut cam) = World::start();
    let before = w.record(&mut cam, Some(&record("motion", &[], None)), 0);
    let neighbour = w.h.owner("neighbour").unwrap();
    let mut their_cam =
        w.h.camera(&neighbour, "garage", fast_device_config())
            .unwrap();

    let hooks = w.h.path("hook.log");
    let exec = format!(
        r#"printf '%s %s %s %s\n' "$SEALCAM_EVENT_ID" "$SEALCAM_RECORD_STATUS" "$SEALCAM_EVENT_TYPE" "$SEALCAM_LABELS" >> '{}'"#,
        hooks.display()
    );
    let mut child = w
        .command(
            w.owner.home(),
            &["watch", "--json", "--count", "2", "--exec", &exec],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<(&'static str, String, Instant)>();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    for (name, pipe) in [
        ("out", Box::new(out) as Box<dyn std::io::Read + Send>),
        ("err", Box::new(err)),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send((name, line, Instant::now()));
            }
        });
    }
    let wait = |want: &str| -> (String, Instant) {
        loop {
            let (name, line, at) = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no {want} line within 30 s"));
            if name == "err" {
                eprintln!("watch: {line}");
            }
            if name == want {
                return (line, at);
            }
            if want == "ready" && line.starts_with("watching") {
                return (line, at);
            }
        }
    };
    wait("ready");

    // Another household records: nothing of it may reach this watcher.
    w.record(
        &mut their_cam,
        Some(&record("burglar", &["person"], None)),
        0,
    );
    let new = w.record(
        &mut cam,
        Some(&record("person", &["person"], Some(5_000))),
        0,
    );
    let stored = Instant::now();
    let (line, at) = wait("out");
    let latency = at.duration_since(stored);
    println!(
        "watch: event {} printed {} ms after the camera's upload was acknowledged (target ≤ 2000 ms)",
        new.event,
        latency.as_millis()
    );
    let first: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(first["event_id"], new.event.to_string(), "{line}");
    assert_eq!(first["record"]["status"], "verified");
    assert_eq!(first["record"]["type"], "person");
    assert!(latency < Duration::from_secs(10), "{latency:?}");

    // An event without a record is printed once its record is overdue.
    let bare = w.record(&mut cam, None, 0);
    let (line, _) = wait("out");
    let second: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(second["event_id"], bare.event.to_string(), "{line}");
    assert_eq!(second["record"]["status"], "missing");

    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    // The hook ran per event, reaped on its own thread: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = std::fs::read_to_string(&hooks).unwrap_or_default();
        if log.lines().count() >= 2 || Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        log.contains(&format!("{} verified person person", new.event)),
        "{log}"
    );
    assert!(log.contains(&format!("{} missing", bare.event)), "{log}");
    assert!(!log.contains(&before.event.to_string()), "{log}");
    assert!(!log.contains("burglar"), "{log}");
}
