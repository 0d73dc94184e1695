//! The example camera in C (`device-sdk/examples/camera.c`) is compiled
//! against the committed header and the static library, and run against the
//! real server: it pairs, records an event (the clip pulled through the read
//! callback), and the owner side opens every part.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bytes, Harness};
use sealcam_device::EventRecord;
use sealcam_format::{open_to_vec, Binding, PartKind};
use sealcam_keys::{CameraId, EventId};

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
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
    let h = Harness::start();
    let work = tempfile::tempdir().unwrap();
    let exe = compile(work.path());
    let mut owner = h.owner();
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
    let pinned = owner.device_key(camera).unwrap();
    let open = |wire: sealcam_device::PartKind, kind: PartKind| {
        let (header, payload) = owner.fetch(event, wire).unwrap();
        let binding = Binding {
            owner: owner.account(),
            camera,
            event,
            kind,
            sequence: 0,
        };
        open_to_vec(&header, &payload, &[owner.viewer()], &binding, &pinned).unwrap()
    };
    assert_eq!(
        open(sealcam_device::PartKind::Thumbnail, PartKind::Thumbnail).body,
        thumb
    );
    assert_eq!(
        open(sealcam_device::PartKind::Clip, PartKind::Clip).body,
        clip
    );
    let r = open(sealcam_device::PartKind::Record, PartKind::Record);
    assert_eq!(
        EventRecord::from_json(&r.body).unwrap().event_type,
        "doorbell"
    );
}

#[test]
fn result_names_and_null_arguments() {
    use sealcam_device_ffi::*;
    use std::ffi::CStr;
    let name = |r: i32| {
        // SAFETY (test): the function returns static NUL-terminated strings.
        #[allow(unsafe_code)]
        unsafe { CStr::from_ptr(sealcam_result_name(r)) }
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(name(0), "SEALCAM_OK");
    assert_eq!(name(22), "SEALCAM_RECIPIENT_SET_REFUSED");
    assert_eq!(name(-7), "SEALCAM_UNKNOWN");
    #[allow(unsafe_code)]
    let r = unsafe { sealcam_device_open(std::ptr::null(), std::ptr::null_mut()) };
    assert_eq!(r, sealcam_result::SEALCAM_NULL_ARGUMENT);
    #[allow(unsafe_code)]
    let r = unsafe { sealcam_device_sync(std::ptr::null(), std::ptr::null_mut()) };
    assert_eq!(r, sealcam_result::SEALCAM_NULL_ARGUMENT);
}
