//! The example camera in C (`device-sdk/examples/camera.c`) is compiled
//! against the committed header and the static library of
//! `sealcam-device-ffi` (a dev-dependency of this crate, so cargo builds it
//! beside this test binary), and run against the real server: it pairs,
//! records an event (the clip pulled through the read callback), and the
//! owner opens every part. Prints a `c example: ` line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sealcam_device::{EventRecord, PartKind};
use sealcam_e2e::media::bytes;
use sealcam_e2e::Harness;
use sealcam_keys::{CameraId, EventId};

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../device-sdk")
}

/// The static library cargo built beside this test binary.
fn staticlib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for dir in [deps, deps.parent().unwrap()] {
        let lib = dir.join("libsealcam_device_ffi.a");
        if lib.exists() {
            return lib;
        }
    }
    panic!(
        "libsealcam_device_ffi.a not found next to {}",
        exe.display()
    );
}

fn compile(out: &Path) -> PathBuf {
    let exe = out.join("camera");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
        .arg(sdk_dir().join("include"))
        .arg(sdk_dir().join("examples/camera.c"))
        .arg(staticlib())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("running {cc}: {e} (install a C compiler, e.g. gcc)"));
    assert!(status.success(), "compiling examples/camera.c failed");
    exe
}

fn run(exe: &Path, args: &[&str]) -> String {
    let out = Command::new(exe).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "camera {args:?} failed:\n{stderr}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_c_camera_pairs_records_and_the_owner_opens_it() {
    let h = Harness::start().unwrap();
    let work = tempfile::tempdir().unwrap();
    let exe = compile(work.path());
    let mut owner = h.sim_owner("household").unwrap();
    let state = work.path().join("state");
    let state_arg = state.to_str().unwrap();

    // Pair; the owner verifies the proof and confirms.
    let code = owner.pairing_code().unwrap();
    let camera: CameraId = run(&exe, &[state_arg, "pair", &code]).parse().unwrap();
    assert_eq!(owner.confirm_pending().unwrap(), vec![camera]);
    assert_eq!(run(&exe, &[state_arg, "sync"]), "epoch 1");

    // Record: thumbnail from memory, clip pulled through the callback.
    let thumb = bytes(11, 30_000);
    let clip = bytes(12, 1_500_000);
    std::fs::write(work.path().join("thumb.jpg"), &thumb).unwrap();
    std::fs::write(work.path().join("clip.mp4"), &clip).unwrap();
    let record = r#"{"type":"doorbell","labels":["person"],"duration_ms":4000}"#;
    let event: EventId = run(
        &exe,
        &[
            state_arg,
            "record",
            work.path().join("thumb.jpg").to_str().unwrap(),
            work.path().join("clip.mp4").to_str().unwrap(),
            record,
        ],
    )
    .parse()
    .unwrap();

    // The owner opens every part with its viewer key and the pinned device key.
    let open = |kind| owner.open(camera, event, kind).unwrap();
    assert_eq!(open(PartKind::Thumbnail).body, thumb);
    assert_eq!(open(PartKind::Clip).body, clip);
    let r = open(PartKind::Record);
    assert_eq!(
        EventRecord::from_json(&r.body).unwrap().event_type,
        "doorbell"
    );
    println!(
        "c example: compiled against the header and the static library, paired, recorded a {} byte clip, the owner opened all 3 parts",
        clip.len()
    );
}
