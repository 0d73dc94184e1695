//! The `sealcam` command's fetch flows against a real server on a random
//! loopback port, with cameras played by the crypto crates: listing,
//! verified fetches and ranges, retention and deletion, and what a faulty
//! server's bytes get (exit 3 or 4, nothing written).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flows::{assert_only, fetch, MISDELIVERED, NOT_FOUND, VERIFICATION};
use crate::common::{bytes, Env};
use sealcam_wire::PartKind;

#[test]
fn pair_list_fetch_and_verified_range() {
    let env = Env::start();
    let (home, init, cam) = env.owner_with_camera("alice");
    let thumb = bytes(1, 20_000);
    let clip = bytes(2, 300_000);
    let event = cam.record(&env, &thumb, &clip);

    let list = env.sealcam(&home, &["--json", "events", "list"]).json();
    assert_eq!(list["events"][0]["event_id"], event.to_string());
    assert_eq!(list["events"][0]["camera_name"], "porch");
    let cams = env.sealcam(&home, &["--json", "cameras", "list"]).json();
    assert_eq!(cams["cameras"][0]["status"], "active");
    assert_eq!(cams["cameras"][0]["epoch"], 1);
    assert_eq!(cams["cameras"][0]["key_matches_server"], true);

    let out = tempfile::tempdir().unwrap();
    let t = out.path().join("thumb.jpg");
    let r = fetch(&env, &home, event, "thumbnail", &t);
    r.ok();
    assert!(
        r.stdout.contains("signature and every chunk verified"),
        "{}",
        r.stdout
    );
    assert_eq!(std::fs::read(&t).unwrap(), thumb);

    // A verified range of the clip, across chunk boundaries.
    let c = out.path().join("clip.part");
    let v = env
        .sealcam(
            &home,
            &[
                "--json",
                "fetch",
                &event.to_string(),
                "--part",
                "clip",
                "--range",
                "65000-140000",
                "-o",
                c.to_str().unwrap(),
            ],
        )
        .json();
    assert_eq!(v["bytes"], 75_001);
    assert_eq!(std::fs::read(&c).unwrap(), &clip[65_000..=140_000]);
    // The whole clip to stdout.
    let r = env.sealcam(
        &home,
        &["fetch", &event.to_string(), "--part", "clip", "-o", "-"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.raw_stdout, clip);
    // The record.
    let rec = out.path().join("record.json");
    fetch(&env, &home, event, "record", &rec).ok();
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(&rec).unwrap()).unwrap();
    assert_eq!(record["type"], "person");
    assert_only(out.path(), &[&t, &c, &rec]);
    let whoami = env.sealcam(&home, &["--json", "whoami"]).json();
    assert_eq!(whoami["account_id"], init.account_id.to_string());
}

#[test]
fn retention_is_set_and_a_deleted_event_is_not_found() {
    let env = Env::start();
    let (home, _, cam) = env.owner_with_camera("alice");
    let event = cam.record(&env, &bytes(1, 20_000), &bytes(2, 300_000));
    let out = tempfile::tempdir().unwrap();

    let camera = cam.camera_id.to_string();
    env.sealcam(&home, &["cameras", "retention", &camera, "--days", "30"])
        .ok();
    let cams = env.sealcam(&home, &["--json", "cameras", "list"]).json();
    assert_eq!(cams["cameras"][0]["retention_days"], 30);
    env.sealcam(&home, &["cameras", "retention", "porch", "--forever"])
        .ok();
    env.sealcam(&home, &["events", "delete", &event.to_string()])
        .ok();
    let gone = out.path().join("gone.jpg");
    assert_eq!(
        fetch(&env, &home, event, "thumbnail", &gone).code,
        NOT_FOUND
    );
    assert!(!gone.exists());
}

#[test]
fn misdelivery_is_exit_3_with_nothing_written() {
    let env = Env::start();
    let (home_a, a, cam_a) = env.owner_with_camera("a");
    let (home_b, b, cam_b) = env.owner_with_camera("b");
    // Same sizes, so a swapped blob has the size the server's row says.
    let ev_a = cam_a.record(&env, &bytes(10, 5_000), &bytes(11, 300_000));
    let ev_a2 = cam_a.record(&env, &bytes(12, 5_000), &bytes(13, 1_000));
    let ev_b = cam_b.record(&env, &bytes(20, 5_000), &bytes(21, 1_000));
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("x.jpg");

    // A asks for B's event through A's credentials: 404, nothing written.
    let r = fetch(&env, &home_a, ev_b, "thumbnail", &target);
    assert_eq!(r.code, NOT_FOUND, "{}", r.stderr);
    assert_only(out.path(), &[]);
    // B can, of course.
    fetch(&env, &home_b, ev_b, "thumbnail", &target).ok();
    std::fs::remove_file(&target).unwrap();

    // A faulty server serves B's bytes as A's thumbnail (header and payload).
    let (a_header, a_payload) = env.part_blobs(a.account_id, ev_a, PartKind::Thumbnail);
    let (b_header, b_payload) = env.part_blobs(b.account_id, ev_b, PartKind::Thumbnail);
    let original = (
        std::fs::read(&a_header).unwrap(),
        std::fs::read(&a_payload).unwrap(),
    );
    std::fs::copy(&b_header, &a_header).unwrap();
    std::fs::copy(&b_payload, &a_payload).unwrap();
    let r = fetch(&env, &home_a, ev_a, "thumbnail", &target);
    assert_eq!(r.code, MISDELIVERED, "{}", r.stderr);
    assert!(
        r.stderr.contains("not addressed to this viewer"),
        "{}",
        r.stderr
    );
    assert_only(out.path(), &[]);
    // The same in --json, with its own error kind.
    let r = env.sealcam(
        &home_a,
        &[
            "--json",
            "fetch",
            &ev_a.to_string(),
            "-o",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, MISDELIVERED);
    let err: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(err["error"]["kind"], "misdelivered");
    assert_only(out.path(), &[]);

    // Another of A's own objects (another event) served in its place: exit 3.
    let (a2_header, a2_payload) = env.part_blobs(a.account_id, ev_a2, PartKind::Thumbnail);
    std::fs::copy(&a2_header, &a_header).unwrap();
    std::fs::copy(&a2_payload, &a_payload).unwrap();
    let r = fetch(&env, &home_a, ev_a, "thumbnail", &target);
    assert_eq!(r.code, MISDELIVERED, "{}", r.stderr);
    assert!(r.stderr.contains("misdelivered object"), "{}", r.stderr);
    assert_only(out.path(), &[]);

    // Restored: it opens again.
    std::fs::write(&a_header, &original.0).unwrap();
    std::fs::write(&a_payload, &original.1).unwrap();
    fetch(&env, &home_a, ev_a, "thumbnail", &target).ok();
    std::fs::remove_file(&target).unwrap();
}

#[test]
fn tampering_is_exit_4_with_nothing_written() {
    let env = Env::start();
    let (home_a, a, cam_a) = env.owner_with_camera("a");
    let ev_a = cam_a.record(&env, &bytes(10, 5_000), &bytes(11, 300_000));
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("x.jpg");

    // A flipped byte deep in the clip: exit 4, nothing written, even with a range
    // that needs the damaged chunk.
    let (_, clip_payload) = env.part_blobs(a.account_id, ev_a, PartKind::Clip);
    let mut p = std::fs::read(&clip_payload).unwrap();
    p[150_000] ^= 1;
    std::fs::write(&clip_payload, &p).unwrap();
    let r = fetch(&env, &home_a, ev_a, "clip", &target);
    assert_eq!(r.code, VERIFICATION, "{}", r.stderr);
    assert_only(out.path(), &[]);
    let r = env.sealcam(
        &home_a,
        &[
            "fetch",
            &ev_a.to_string(),
            "--part",
            "clip",
            "--range",
            "140000-150000",
            "-o",
            "-",
        ],
    );
    assert_eq!(r.code, VERIFICATION, "{}", r.stderr);
    assert!(r.raw_stdout.is_empty());
    // A range that avoids the damaged chunk still opens, verified.
    let r = env.sealcam(
        &home_a,
        &[
            "fetch",
            &ev_a.to_string(),
            "--part",
            "clip",
            "--range",
            "0-999",
            "-o",
            "-",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.raw_stdout, &bytes(11, 300_000)[..1000]);
    // A truncated payload: exit 4.
    std::fs::write(&clip_payload, &p[..p.len() - 10]).unwrap();
    let r = fetch(&env, &home_a, ev_a, "clip", &target);
    assert_ne!(r.code, 0);
    assert!(r.code == VERIFICATION || r.code == 6, "{}", r.stderr);
    assert_only(out.path(), &[]);
}
