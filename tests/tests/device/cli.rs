//! The `sealcam-device` command against the real server: pair, sync, record
//! (prints the event id), spool-only record and drain, and its errors. The
//! binary is the one in `target/<profile>/` (see
//! `sealcam_e2e::process::binary`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sealcam_device::{Device, DeviceConfig, EventId, EventRecord, PartKind};
use sealcam_e2e::media::bytes;
use sealcam_e2e::process::binary;
use sealcam_e2e::Harness;

fn bin() -> PathBuf {
    binary("sealcam-device", "sealcam-device").unwrap()
}

fn cli(state: &Path, args: &[&str]) -> Output {
    Command::new(bin())
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
    let h = Harness::start().unwrap();
    let mut owner = h.sim_owner("household").unwrap();
    let state = h.path("cam");
    let code = owner.pairing_code().unwrap();
    let camera = ok(cli(&state, &["pair", &code]));
    assert_eq!(owner.confirm_pending().unwrap()[0].to_string(), camera);

    // Before the owner published: refused with a clear message (tested on a
    // second camera below); now: epoch 1.
    assert_eq!(ok(cli(&state, &["sync"])), "epoch 1");
    assert_eq!(ok(cli(&state, &["sync"])), "epoch 1 (unchanged)");

    let thumb = h.path("t.jpg");
    let clip = h.path("c.mp4");
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
    let camera = device.camera_id().unwrap();
    let c = owner.open(camera, event, PartKind::Clip).unwrap();
    assert_eq!(c.body, bytes(2, 400_000));
    let r = owner.open(camera, event, PartKind::Record).unwrap();
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
    owner
        .open(device.camera_id().unwrap(), spooled, PartKind::Thumbnail)
        .unwrap();
}

#[test]
fn errors_say_what_to_do() {
    let h = Harness::start().unwrap();
    let mut owner = h.sim_owner("household").unwrap();
    let out = Command::new(bin()).args(["sync"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--state DIR is required"));

    let state = h.path("cam");
    let out = cli(&state, &["sync"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not paired yet"));

    let code = owner.pairing_code().unwrap();
    ok(cli(&state, &["pair", &code]));
    let thumb = h.path("t.jpg");
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
