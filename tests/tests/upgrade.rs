//! Upgrading loses nothing: an account, a paired camera and recordings made
//! by the release before owner trust v2 (tests/fixtures/legacy-v1.tar.gz,
//! made by tests/fixtures/make-legacy-v1.sh with that release's binaries)
//! are opened by this release's binaries. The old recordings open and
//! verify; `sealcam trust upgrade` moves the account to owner trust v2; the
//! camera, still on its version-1 state, follows the key log, takes v2 sets
//! and records on; and a revocation then rotates the owner key like on any
//! new account.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use sealcam_e2e::household::{Camera, Household, Run, PHONE};
use sealcam_e2e::HarnessError;
use serde_json::Value;
use uuid::Uuid;

fn fail<T>(e: HarnessError) -> T {
    panic!("{e}")
}

fn ok(h: &Household, home: &str, args: &[&str]) -> Value {
    h.sealcam(home, args)
        .and_then(Run::checked)
        .and_then(|r| r.json())
        .unwrap_or_else(fail)
}

/// Fetches a thumbnail with `sealcam fetch` (verified, decrypted) and returns it.
fn fetch(h: &Household, home: &str, event: Uuid) -> Vec<u8> {
    let out = h.path(&format!("fetched-{event}.jpg"));
    ok(
        h,
        home,
        &[
            "fetch",
            &event.to_string(),
            "--part",
            "thumbnail",
            "-o",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    std::fs::read(out).unwrap()
}

/// The household of the earlier release, and its recordings (event, thumbnail).
fn legacy() -> (Household, Vec<(Uuid, Vec<u8>)>) {
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/legacy-v1.tar.gz");
    let h = Household::from_archive(&archive).unwrap_or_else(fail);
    let old: Vec<(Uuid, Vec<u8>)> = std::fs::read_to_string(h.path("events.txt"))
        .unwrap()
        .lines()
        .map(|l| {
            let (id, file) = l.split_once(' ').unwrap();
            (id.parse().unwrap(), std::fs::read(h.path(file)).unwrap())
        })
        .collect();
    assert_eq!(old.len(), 2);
    (h, old)
}

fn legacy_camera(h: &Household) -> Camera {
    Camera {
        name: "door".into(),
        state: h.path("cam"),
        id: Uuid::nil(),
    }
}

#[test]
fn legacy_account_upgrades_without_losing_a_recording() {
    let (h, old) = legacy();

    // 1. Its sets never expire and its record knows no expiry: the first
    // command renews them (v2 sets, the owner key still the legacy one), the
    // next has nothing to renew.
    let first = h
        .sealcam(PHONE, &["cameras", "list"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    assert!(
        first.stderr.contains("renewed the recipient set"),
        "{first}"
    );
    let second = h
        .sealcam(PHONE, &["cameras", "list"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    assert!(!second.stderr.contains("renewed"), "{second}");
    // What the earlier release stored opens and verifies, before any upgrade.
    for (event, thumb) in &old {
        assert_eq!(&fetch(&h, PHONE, *event), thumb);
    }
    let status = ok(&h, PHONE, &["trust", "status", "--json"]);
    assert!(status["keys"]["root_key"].is_null(), "{status}");

    // 2. The upgrade, with the recovery key the old `init` printed.
    let recovery = h.recovery_file.to_str().unwrap().to_owned();
    let up = ok(
        &h,
        PHONE,
        &[
            "trust",
            "upgrade",
            "--recovery-key-file",
            &recovery,
            "--json",
        ],
    );
    assert_eq!(up["keys"]["reset"], 1, "{up}");
    assert!(up["keys"]["root_key"].is_string(), "{up}");

    // 3. The camera, on its version-1 state, follows the key log and takes v2 sets.
    let cam = legacy_camera(&h);
    let sync = h
        .device(&cam, &["sync"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let state: Value =
        serde_json::from_slice(&std::fs::read(cam.state.join("camera.json")).unwrap()).unwrap();
    assert_eq!(state["version"], 2, "{state}");
    assert_eq!(state["keys"]["reset"], 1, "{state}");
    assert_eq!(state["keys"]["root_key"], up["keys"]["root_key"], "{state}");
    let (new, _) = h.record(&cam).unwrap_or_else(fail);
    assert_eq!(fetch(&h, PHONE, new.event), new.thumbnail);

    // 4. A revocation now rotates the owner key, as on a new account.
    h.link(PHONE, "tablet").unwrap_or_else(fail);
    let revoke = ok(&h, PHONE, &["viewers", "revoke", "tablet", "--json"]);
    assert_eq!(
        revoke["revoked"]["key_position"],
        serde_json::json!([1, 1]),
        "{revoke}"
    );
    h.device(&cam, &["sync"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let (after, _) = h.record(&cam).unwrap_or_else(fail);
    let object = h
        .download(PHONE, after.event, "thumbnail")
        .unwrap_or_else(fail);
    let tablet_opens = h
        .age_opens("tablet", &object, &after.thumbnail)
        .unwrap_or_else(fail);
    let phone_opens = h
        .age_opens(PHONE, &object, &after.thumbnail)
        .unwrap_or_else(fail);
    assert!(!tablet_opens && phone_opens);

    // S9 reaches the old camera too: it offered its set key at its first
    // sync, the revocation sealed the new set to it, and what it records now
    // is format v2 (16 recipient slots: one header size for all).
    let state: Value =
        serde_json::from_slice(&std::fs::read(cam.state.join("camera.json")).unwrap()).unwrap();
    assert_eq!(state["set_key_published"], true, "{state}");
    let db = rusqlite::Connection::open(h.database()).unwrap();
    let set: Vec<u8> = db
        .query_row(
            "SELECT set_data FROM cameras WHERE id = ?1",
            [state["camera_id"].as_str().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    let set_sealed = sealcam_keys::is_sealed_set(&set);
    assert!(
        set_sealed,
        "the set published after the camera's set key is sealed"
    );
    let header_len = |event: Uuid| -> i64 {
        db.query_row(
            "SELECT header_size FROM parts WHERE event_id = ?1 AND kind = 'thumbnail'",
            [event.to_string()],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(header_len(after.event), header_len(new.event));
    assert_ne!(
        header_len(after.event),
        header_len(old[0].0),
        "old objects are v1"
    );

    // 5. And the recordings of the earlier release still open, with the
    // app and with the stock age.
    let mut old_opened = 0;
    for (event, thumb) in &old {
        assert_eq!(&fetch(&h, PHONE, *event), thumb);
        let object = h.download(PHONE, *event, "thumbnail").unwrap_or_else(fail);
        assert!(h.age_opens(PHONE, &object, thumb).unwrap_or_else(fail));
        old_opened += 1;
    }
    println!(
        "upgrade: account, camera and {} recordings of the release before owner trust v2 opened and verified; `sealcam trust upgrade` moved the account to reset {}; the camera (camera.json v1) followed the key log ({}), recorded on; a revocation rotated the owner key to {}; the revoked identity opened the next recording: {tablet_opens}; the {old_opened} old recordings still open (app and stock age); the camera's set key reached the owner and its set is now sealed: {set_sealed}",
        old.len(),
        up["keys"]["reset"],
        sync.stdout.trim().lines().last().unwrap_or_default(),
        revoke["revoked"]["key_position"]
    );
}

#[test]
fn legacy_account_recovers_with_the_recovery_key_alone() {
    let started = sealcam_e2e::trust_kit::unix_now();
    let (h, old) = legacy();
    let recovery = h.recovery_file.to_str().unwrap().to_owned();
    // Every device lost: recovery from the recovery key alone, on an account
    // that never ran `sealcam trust upgrade`.
    let rec = ok(
        &h,
        "recovered",
        &[
            "recover",
            "--server",
            &h.url,
            "--recovery-key-file",
            &recovery,
            "--name",
            "recovered",
            "--revoke-others",
            "--json",
        ],
    );
    // A recovery numbers its reset by the time (unix seconds), generation 0.
    let reset = rec["key_position"][0].as_u64().unwrap();
    assert!(reset >= started, "{rec}");
    assert_eq!(rec["key_position"][1], 0, "{rec}");
    assert_eq!(rec["history"]["rewrapped"], 4, "{rec}");
    let cam = legacy_camera(&h);
    h.device(&cam, &["sync"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let (new, _) = h.record(&cam).unwrap_or_else(fail);
    assert_eq!(fetch(&h, "recovered", new.event), new.thumbnail);
    for (event, thumb) in &old {
        assert_eq!(&fetch(&h, "recovered", *event), thumb);
    }
    let object = h
        .download("recovered", new.event, "thumbnail")
        .unwrap_or_else(fail);
    let lost_phone_opens = h
        .age_opens(PHONE, &object, &new.thumbnail)
        .unwrap_or_else(fail);
    assert!(!lost_phone_opens);
    println!(
        "upgrade: `sealcam recover --revoke-others` on an account of the earlier release: owner key reset to {}, {} past parts re-wrapped, the camera (camera.json v1) took the new key and recorded; the recovered device opened the new and the {} old recordings, the lost phone's identity opened the new one: {lost_phone_opens}",
        rec["key_position"],
        rec["history"]["rewrapped"],
        old.len()
    );
}
