//! The `sealcam` command's setup flows against a real server on a random
//! loopback port, with cameras played by the crypto crates: `init`,
//! recovering with the recovery key alone, confirming a paired camera.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::flows::{fetch, NOT_AUTHORISED};
use crate::common::{bytes, files_under, Env, TestCamera};

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
