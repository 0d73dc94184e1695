//! Every flow of the `sealcam` command against a real server on a random
//! loopback port, with cameras played by the crypto crates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{bytes, files_under, Env, TestCamera};
use sealcam_keys::{EventId, ViewerIdentity};
use sealcam_wire::PartKind;

const MISDELIVERED: i32 = 3;
const VERIFICATION: i32 = 4;
const NOT_FOUND: i32 = 5;
const NOT_AUTHORISED: i32 = 7;

fn fetch(env: &Env, home: &Path, event: EventId, part: &str, out: &Path) -> common::Run {
    env.sealcam(
        home,
        &[
            "fetch",
            &event.to_string(),
            "--part",
            part,
            "-o",
            out.to_str().unwrap(),
        ],
    )
}

/// Nothing but `keep` in `dir`: no output, no temp file, no spool.
fn assert_only(dir: &Path, keep: &[&Path]) {
    let left: Vec<_> = files_under(dir)
        .into_iter()
        .filter(|p| !keep.iter().any(|k| k == p))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn pair_list_fetch_range_retention_delete() {
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

    // Retention and deletion.
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
    let whoami = env.sealcam(&home, &["--json", "whoami"]).json();
    assert_eq!(whoami["account_id"], init.account_id.to_string());
}

#[test]
fn misdelivery_is_exit_3_and_tampering_is_exit_4_with_nothing_written() {
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

/// Links a second viewer device of the account of `home`; returns its home and viewer id.
fn link_viewer(env: &Env, home: &Path, name: &str) -> (std::path::PathBuf, String) {
    let new_home = env.home(name);
    let req = env
        .sealcam(
            &new_home,
            &[
                "--json", "viewers", "link", "--server", &env.base, "--name", name,
            ],
        )
        .json()["link_request"]
        .as_str()
        .unwrap()
        .to_owned();
    let approved = env
        .sealcam(home, &["--json", "viewers", "approve", &req])
        .json();
    let approval = approved["approval"].as_str().unwrap().to_owned();
    env.sealcam(&new_home, &["viewers", "link", "--finish", &approval])
        .ok();
    (new_home, approved["viewer_id"].as_str().unwrap().to_owned())
}

/// Fetches both blobs of a part with `token` and opens them with `identity`.
fn open_with(
    env: &Env,
    token_home: &Path,
    cam: &TestCamera,
    event: EventId,
    identity: &ViewerIdentity,
) -> Result<Vec<u8>, sealcam_format::OpenError> {
    let cred = std::fs::read_to_string(token_home.join("credential")).unwrap();
    let get = |suffix: &str| {
        env.rt.block_on(async {
            let resp = env
                .http
                .get(format!(
                    "{}/v1/events/{event}/parts/thumbnail/{suffix}",
                    env.base
                ))
                .bearer_auth(cred.trim())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            resp.bytes().await.unwrap().to_vec()
        })
    };
    let binding = sealcam_format::Binding {
        owner: cam.owner,
        camera: cam.camera_id,
        event,
        kind: sealcam_format::PartKind::Thumbnail,
        sequence: 0,
    };
    sealcam_format::open_to_vec(
        &get("header"),
        &get("payload"),
        &[identity],
        &binding,
        &cam.key.public(),
    )
    .map(|o| o.body)
}

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
fn recovery_key_alone_restores_every_recording() {
    let env = Env::start();
    let (home, init, mut cam) = env.owner_with_camera("owner");
    let before = cam.record(&env, &bytes(5, 4_000), &bytes(6, 70_000));

    // Every viewer is lost: its keys and its server credential.
    let device_id = env.sealcam(&home, &["--json", "whoami"]).json()["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cred = std::fs::read_to_string(home.join("credential")).unwrap();
    let status = env.rt.block_on(async {
        env.http
            .delete(format!("{}/v1/devices/{device_id}", env.base))
            .bearer_auth(cred.trim())
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 204);
    std::fs::remove_dir_all(&home).unwrap();

    // A wrong key is refused.
    let fresh = env.home("fresh");
    let wrong = sealcam_keys::RecoveryKey::generate()
        .to_printable()
        .to_string();
    let r = env.sealcam_stdin(&fresh, &["recover", "--server", &env.base], Some(&wrong));
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("does not know this recovery key"),
        "{}",
        r.stderr
    );

    // The printed key, retyped in lower case with spaces, is enough.
    let typed = init
        .recovery_key
        .to_lowercase()
        .replace('-', " - ")
        .replacen("age - secret - key - ", "age-secret-key-", 1);
    let v = env
        .sealcam_stdin(
            &fresh,
            &[
                "--json",
                "recover",
                "--server",
                &env.base,
                "--revoke-others",
            ],
            Some(&typed),
        )
        .json();
    assert_eq!(v["account_id"], init.account_id.to_string());
    assert_eq!(v["history"]["rewrapped"], 3);

    let out = tempfile::tempdir().unwrap();
    fetch(&env, &fresh, before, "thumbnail", &out.path().join("t")).ok();
    assert_eq!(
        std::fs::read(out.path().join("t")).unwrap(),
        bytes(5, 4_000)
    );
    fetch(&env, &fresh, before, "clip", &out.path().join("c")).ok();
    assert_eq!(
        std::fs::read(out.path().join("c")).unwrap(),
        bytes(6, 70_000)
    );

    // The camera syncs the new set and what it records next opens too.
    assert_eq!(cam.sync(&env), Some(2));
    let after = cam.record(&env, &bytes(7, 1_000), &bytes(8, 1_000));
    fetch(&env, &fresh, after, "thumbnail", &out.path().join("n")).ok();
    assert_eq!(
        env.sealcam(&fresh, &["--json", "viewers", "list"]).json()["viewers"]
            .as_array()
            .unwrap()
            .len(),
        1
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

#[test]
fn a_camera_whose_proof_does_not_match_is_refused() {
    let env = Env::start();
    let home = env.home("owner");
    env.init(&home, "owner");
    let code = env
        .sealcam(&home, &["--json", "pair", "--name", "porch"])
        .json()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    // A server (or an attacker with the claim token) registers its own device
    // key with a proof made without the secret.
    let mut forged = sealcam_keys::PairingCode::from_text(&code).unwrap();
    forged.secret = sealcam_keys::PairingSecret::generate();
    let cam = TestCamera::pair(&env, &forged.to_text().unwrap());
    let r = env.sealcam(&home, &["cameras", "confirm"]);
    assert_eq!(r.code, 8, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("REFUSED"), "{}", r.stdout);
    let cams = env.sealcam(&home, &["--json", "cameras", "list"]).json();
    assert_eq!(cams["cameras"][0]["status"], "pending");
    env.sealcam(&home, &["cameras", "delete", &cam.camera_id.to_string()])
        .ok();
    // Nothing pending: confirm says so and succeeds.
    let r = env.sealcam(&home, &["cameras", "confirm"]);
    assert!(r.ok().contains("No camera is waiting"), "{}", r.stdout);
}

#[test]
fn init_refuses_a_second_time_and_uninitialised_homes_say_what_to_do() {
    let env = Env::start();
    let home = env.home("h");
    let r = env.sealcam(&home, &["events", "list"]);
    assert_eq!(r.code, NOT_AUTHORISED);
    assert!(r.stderr.contains("sealcam init"), "{}", r.stderr);
    env.init(&home, "h");
    let token = env.enrollment_token("other");
    let r = env.sealcam(&home, &["init", "--server", &env.base, "--token", &token]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("SEALCAM_HOME"), "{}", r.stderr);
    // A used token is refused with a next step.
    let r = env.sealcam(
        &env.home("h2"),
        &["init", "--server", &env.base, "--token", &token],
    );
    r.ok();
    let r = env.sealcam(
        &env.home("h3"),
        &["init", "--server", &env.base, "--token", &token],
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("accounts create"), "{}", r.stderr);
    // Server unreachable.
    let r = env.sealcam(
        &env.home("h4"),
        &["init", "--server", "http://127.0.0.1:9", "--token", &token],
    );
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("cannot reach the server"), "{}", r.stderr);
    // Key files are private.
    use std::os::unix::fs::MetadataExt as _;
    for f in files_under(&home) {
        assert_eq!(
            std::fs::metadata(&f).unwrap().mode() & 0o077,
            0,
            "{}",
            f.display()
        );
    }
}
