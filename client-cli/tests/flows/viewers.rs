//! The `sealcam` command's viewer flows against a real server on a random
//! loopback port, with cameras played by the crypto crates: revoking a
//! viewer, granting history to a new one, sharing with a household member.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flows::{
    assert_only, fetch, link_viewer, open_with, MISDELIVERED, NOT_AUTHORISED, NOT_FOUND,
};
use crate::common::{bytes, Env};
use sealcam_keys::ViewerIdentity;

#[test]
fn revoked_viewer_cannot_open_what_follows_the_cameras_sync() {
    let env = Env::start();
    let (home, _, mut cam) = env.owner_with_camera("owner");
    let (phone, phone_id) = link_viewer(&env, &home, "phone");
    assert_eq!(cam.sync(&env), Some(2));
    let before = cam.record(&env, &bytes(1, 3_000), &bytes(2, 1_000));
    let out = tempfile::tempdir().unwrap();
    fetch(&env, &phone, before, "thumbnail", &out.path().join("1")).ok();
    let viewers = env.sealcam(&home, &["--json", "viewers", "list"]).json();
    assert_eq!(viewers["viewers"].as_array().unwrap().len(), 2);

    // The owner cannot revoke the device it is using.
    let me = viewers["viewers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(env.sealcam(&home, &["viewers", "revoke", &me]).code, 0);

    let r = env
        .sealcam(&home, &["--json", "viewers", "revoke", &phone_id])
        .json();
    assert_eq!(r["revoked"]["device_deleted"], true);
    assert_eq!(cam.sync(&env), Some(3));
    let set = cam.set.as_ref().unwrap();
    let phone_key = ViewerIdentity::read_file(&phone.join("viewer.txt")).unwrap();
    assert!(!set.recipients().contains(&phone_key.to_public()));
    let after = cam.record(&env, &bytes(3, 3_000), &bytes(4, 1_000));

    // The revoked viewer's credential is gone, and the bytes are not sealed to it.
    let r = fetch(&env, &phone, after, "thumbnail", &out.path().join("2"));
    assert_eq!(r.code, NOT_AUTHORISED, "{}", r.stderr);
    let err = open_with(&env, &home, &cam, after, &phone_key).unwrap_err();
    assert!(err.is_misdelivery(), "{err:?}");
    // It still opens what was recorded before (it held those keys anyway).
    assert_eq!(
        open_with(&env, &home, &cam, before, &phone_key).unwrap(),
        bytes(1, 3_000)
    );
    // The others open the new event.
    fetch(&env, &home, after, "thumbnail", &out.path().join("3")).ok();
    assert_eq!(
        std::fs::read(out.path().join("3")).unwrap(),
        bytes(3, 3_000)
    );
}

#[test]
fn grant_history_lets_a_new_viewer_open_older_events() {
    let env = Env::start();
    let (home, _, mut cam) = env.owner_with_camera("owner");
    let old = cam.record(&env, &bytes(30, 2_000), &bytes(31, 90_000));
    let (tablet, tablet_id) = link_viewer(&env, &home, "tablet");
    cam.sync(&env);
    let out = tempfile::tempdir().unwrap();

    let r = fetch(&env, &tablet, old, "thumbnail", &out.path().join("t"));
    assert_eq!(r.code, MISDELIVERED, "not sealed to it yet: {}", r.stderr);
    assert_only(out.path(), &[]);

    let g = env
        .sealcam(
            &home,
            &["--json", "grant-history", &tablet_id, "--days", "7"],
        )
        .json();
    assert_eq!(g["granted"]["rewrapped"], 3);
    fetch(&env, &tablet, old, "thumbnail", &out.path().join("t")).ok();
    assert_eq!(
        std::fs::read(out.path().join("t")).unwrap(),
        bytes(30, 2_000)
    );
    fetch(&env, &tablet, old, "clip", &out.path().join("c")).ok();
    assert_eq!(
        std::fs::read(out.path().join("c")).unwrap(),
        bytes(31, 90_000)
    );
    // The owner still opens it.
    fetch(&env, &home, old, "clip", &out.path().join("o")).ok();
}

#[test]
fn share_and_unshare_with_a_household_member() {
    let env = Env::start();
    let (home, _, mut cam) = env.owner_with_camera("owner");
    let member = env.home("member");
    let m = env.init(&member, "member");
    let code = env.sealcam(&member, &["--json", "whoami"]).json()["member_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let shared = env
        .sealcam(&home, &["--json", "share", "porch", "--with", &code])
        .json();
    let share_code = shared["shared"]["share_code"].as_str().unwrap().to_owned();
    assert_eq!(cam.sync(&env), Some(2));
    let ev = cam.record(&env, &bytes(40, 1_500), &bytes(41, 1_500));

    // Before accepting, the member has no pinned key for the camera.
    let out = tempfile::tempdir().unwrap();
    let r = fetch(&env, &member, ev, "thumbnail", &out.path().join("t"));
    assert_eq!(r.code, NOT_FOUND, "{}", r.stderr);
    assert!(r.stderr.contains("cameras accept"), "{}", r.stderr);
    env.sealcam(&member, &["cameras", "accept", &share_code])
        .ok();
    fetch(&env, &member, ev, "thumbnail", &out.path().join("t")).ok();
    assert_eq!(
        std::fs::read(out.path().join("t")).unwrap(),
        bytes(40, 1_500)
    );
    let listed = env.sealcam(&member, &["--json", "events", "list"]).json();
    assert_eq!(listed["events"][0]["event_id"], ev.to_string());

    env.sealcam(
        &home,
        &["unshare", "porch", "--with", &m.account_id.to_string()],
    )
    .ok();
    assert_eq!(cam.sync(&env), Some(3));
    let next = cam.record(&env, &bytes(42, 1_500), &bytes(43, 1_500));
    let r = fetch(&env, &member, next, "thumbnail", &out.path().join("n"));
    assert_eq!(r.code, NOT_FOUND, "{}", r.stderr);
    let member_key = ViewerIdentity::read_file(&member.join("viewer.txt")).unwrap();
    assert!(open_with(&env, &home, &cam, next, &member_key)
        .unwrap_err()
        .is_misdelivery());
}
