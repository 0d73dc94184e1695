//! The `sealcam-device` command against the real server: pair, sync, record
//! (prints the event id), spool-only record and drain, and its errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{bytes, owner_open, Harness};
use sealcam_device::{Device, DeviceConfig, EventId, EventRecord, PartKind};

const BIN: &str = env!("CARGO_BIN_EXE_sealcam-device");

fn cli(state: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--state")
        .arg(state)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn pair_sync_record_and_drain_from_the_command_line() {
    let h = Harness::start();
    let mut owner = h.owner();
    let state = h.state("cam");
    let code = owner.pairing_code().unwrap();
    let camera = ok(cli(&state, &["pair", &code]));
    assert_eq!(owner.confirm_pending().unwrap()[0].to_string(), camera);

    // Before the owner published: refused with a clear message (tested on a
    // second camera below); now: epoch 1.
    assert_eq!(ok(cli(&state, &["sync"])), "epoch 1");
    assert_eq!(ok(cli(&state, &["sync"])), "epoch 1 (unchanged)");

    let thumb = h.dir.path().join("t.jpg");
    let clip = h.dir.path().join("c.mp4");
    std::fs::write(&thumb, bytes(1, 5000)).unwrap();
    std::fs::write(&clip, bytes(2, 400_000)).unwrap();
    let event: EventId = ok(cli(
        &state,
        &[
            "record",
            "--thumbnail",
            thumb.to_str().unwrap(),
            "--clip",
            clip.to_str().unwrap(),
            "--record",
            r#"{"type":"motion","labels":["cat"]}"#,
        ],
    ))
    .parse()
    .unwrap();
    let device = Device::open(&state, DeviceConfig::default()).unwrap();
    let c = owner_open(&owner, &device, event, PartKind::Clip).unwrap();
    assert_eq!(c.body, bytes(2, 400_000));
    let r = owner_open(&owner, &device, event, PartKind::Record).unwrap();
    assert_eq!(
        EventRecord::from_json(&r.body).unwrap().labels,
        vec!["cat".to_owned()]
    );
    drop(device);

    // Spool only, then drain.
    let spooled: EventId = ok(cli(
        &state,
        &[
            "record",
            "--thumbnail",
            thumb.to_str().unwrap(),
            "--spool-only",
        ],
    ))
    .parse()
    .unwrap();
    let out = cli(&state, &["drain", "--max-wait", "10"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("delivered 1"), "{stderr}");
    let device = Device::open(&state, DeviceConfig::default()).unwrap();
    owner_open(&owner, &device, spooled, PartKind::Thumbnail).unwrap();
}

#[test]
fn errors_say_what_to_do() {
    let h = Harness::start();
    let mut owner = h.owner();
    let out = Command::new(BIN).args(["sync"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--state DIR is required"));

    let state = h.state("cam");
    let out = cli(&state, &["sync"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not paired yet"));

    let code = owner.pairing_code().unwrap();
    ok(cli(&state, &["pair", &code]));
    let thumb = h.dir.path().join("t.jpg");
    std::fs::write(&thumb, b"jpeg").unwrap();
    let out = cli(&state, &["record", "--thumbnail", thumb.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("owner must confirm this camera"),
        "{stderr}"
    );
    let out = cli(&state, &["pair", &code]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("paired already"));
    let out = cli(&state, &["record", "--thumbnail", "/nonexistent/t.jpg"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/t.jpg"));
}
