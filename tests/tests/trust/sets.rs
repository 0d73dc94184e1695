//! Owner trust v2 under attack: forged sets, ids and records
//! (docs/PROTOCOL.md, "Owner trust v2"; the setup, the attacker and the
//! colluding server are described in `sealcam_e2e::trust_kit`), against the
//! real binaries only.
//!
//! 1. a set at epoch 2^63−1 signed with the then current key → the camera
//!    refuses the jump; the owner publishes over it at a small epoch, with a
//!    share (no key rotation) and with a revocation;
//! 2. another camera's set, or another camera's id → refused;
//! 3. a new camera handed a pinned camera's id → `cameras confirm` refuses it;
//! 4. a forked owner record (same version, other content) → refused, exit 8.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealcam_client::record::OwnerRecord;
use sealcam_e2e::household::{Camera, Household, Run, PHONE};
use sealcam_e2e::trust_kit::{
    fail, household_with_tablet, openers, published_epoch, revoke, sealcam_ok, steal, sync_epoch,
    sync_ok, Db, TABLET,
};
use sealcam_keys::{CameraId, DeviceKey, RecipientSetError, ViewerIdentity, MAX_EPOCH_JUMP};
use serde_json::{json, Value};
use uuid::Uuid;

#[test]
fn max_epoch_set_is_refused_and_owner_publishes_over_it() {
    let (h, cam) = household_with_tablet();
    let tablet = steal(&h, TABLET);
    let db = Db::open(&h);
    let (before, _) = db.set(cam.id);
    let before = u64::try_from(before).unwrap();

    // Still a viewer, the tablet signs a valid set at the highest epoch the
    // server's column holds, and the colluding server stores it.
    let max = i64::MAX as u64;
    db.put_set(cam.id, i64::MAX, &tablet.forge_set(cam.id, max));
    let sync = h.device(&cam, &["sync"]).unwrap_or_else(fail);
    assert!(!sync.success(), "{sync}");
    assert_eq!(sync_epoch(&sync), Some(before), "{sync}");
    let jump = RecipientSetError::EpochJump {
        accepted: before,
        offered: max,
        max: MAX_EPOCH_JUMP,
    };
    assert!(
        sync.stderr
            .contains(&format!("REFUSED a recipient set: {jump}")),
        "{sync}"
    );

    // The owner publishes over it: first without rotating the owner key (a
    // share), then with a revocation (which rotates it).
    h.other_account("member").unwrap_or_else(fail);
    let who = sealcam_ok(&h, "member", &["whoami", "--json"]);
    let code = who["member_code"].as_str().unwrap();
    let share = h
        .sealcam(PHONE, &["share", "door", "--with", code, "--json"])
        .unwrap_or_else(fail);
    let shared = share
        .success()
        .then(|| share.json().unwrap()["shared"]["epoch"].as_u64().unwrap());
    println!(
        "trust: over it, the phone's `sealcam share door` (no key rotation) exited {:?}{}",
        share.code,
        match shared {
            Some(e) => format!(" and published epoch {e}"),
            None => format!(": {}", share.stderr.lines().next().unwrap_or_default()),
        }
    );
    let revoked = revoke(&h, PHONE, TABLET);
    let published = published_epoch(&revoked, &cam);
    assert!(
        (before + 1..=before + 2).contains(&published),
        "published epoch {published} after {before}"
    );
    assert_eq!(db.set(cam.id).0, i64::try_from(published).unwrap());
    let (taken, _) = sync_ok(&h, &cam);
    assert_eq!(taken, published);
    println!(
        "trust: a set at epoch {max} (2^63-1) signed with the current owner key, stored by a colluding server: the camera refused it ({jump}) and kept epoch {before}; the owner's `sealcam viewers revoke tablet` then published epoch {published} over it, and the camera took epoch {taken}"
    );
    assert!(
        share.success(),
        "a share over the epoch-2^63-1 set: {share}"
    );
    let shared = shared.unwrap();
    assert!(
        (before + 1..=before + 2).contains(&shared),
        "shared at epoch {shared} after {before}"
    );
}

#[test]
fn other_cameras_set_is_refused() {
    let h = Household::start().unwrap_or_else(fail);
    let a = h.pair_camera(PHONE, "door").unwrap_or_else(fail);
    let b = h.pair_camera(PHONE, "garage").unwrap_or_else(fail);
    let db = Db::open(&h);
    let (epoch_a, set_a) = db.set(a.id);
    let (epoch_b, set_b) = db.set(b.id);

    // 1. The colluding server serves camera B's set as camera A's. It holds
    // it sealed to B's set key (S9), so A cannot even open it; a server of
    // before S9 held it in the clear, and A refuses that by its signed camera.
    assert!(
        sealcam_keys::is_sealed_set(&set_b),
        "camera B's set is sealed"
    );
    let phone = ViewerIdentity::read_file(&h.path(PHONE).join("viewer.txt")).unwrap();
    let clear_b = sealcam_keys::open_set_document(&set_b, &[&phone])
        .unwrap()
        .to_vec();
    let not_for_a = format!(
        "REFUSED a recipient set: {}",
        RecipientSetError::Malformed("the sealed set does not open with this key")
    );
    let wrong_camera = format!(
        "REFUSED a recipient set: {}",
        RecipientSetError::WrongCamera
    );
    for (served, refusal) in [(&set_b, &not_for_a), (&clear_b, &wrong_camera)] {
        db.put_set(a.id, epoch_b, served);
        let sync = h.device(&a, &["sync"]).unwrap_or_else(fail);
        assert!(!sync.success(), "{sync}");
        assert_eq!(sync_epoch(&sync), Some(u64::try_from(epoch_a).unwrap()));
        assert!(sync.stderr.contains(refusal.as_str()), "{sync}");
    }
    let (rec, _) = h.record(&a).unwrap_or_else(fail);
    assert_eq!(openers(&h, PHONE, &rec, &[PHONE]), [PHONE]);
    println!(
        "trust: camera B's set served as camera A's: sealed, camera A could not open it ({}); in the clear, it refused it ({}); it kept epoch {epoch_a} and recorded to it",
        RecipientSetError::Malformed("the sealed set does not open with this key"),
        RecipientSetError::WrongCamera
    );

    // 2. A server that had told camera A that it is camera B at pairing:
    // A's state names B's id (and holds no set yet), and A's credential
    // authenticates as B.
    db.put_set(a.id, epoch_a, &set_a);
    std::fs::remove_file(a.state.join("recipient-set.bin")).unwrap();
    let pairing_file = a.state.join("camera.json");
    let mut pairing: Value =
        serde_json::from_slice(&std::fs::read(&pairing_file).unwrap()).unwrap();
    pairing["camera_id"] = json!(b.id.to_string());
    pairing["set_keys"] = Value::Null;
    std::fs::write(&pairing_file, serde_json::to_vec_pretty(&pairing).unwrap()).unwrap();
    db.hand_credential(a.id, b.id);
    // B's set as a server of before S9 held it (in the clear): sealed, A
    // could not open it at all.
    db.put_set(b.id, epoch_b, &clear_b);
    let sync = h.device(&a, &["sync"]).unwrap_or_else(fail);
    assert!(!sync.success(), "{sync}");
    assert_eq!(sync_epoch(&sync), None, "{sync}");
    let wrong_device = format!(
        "REFUSED a recipient set: {}",
        RecipientSetError::WrongDevice
    );
    assert!(sync.stderr.contains(&wrong_device), "{sync}");
    println!(
        "trust: camera A told camera B's id (and served B's set as its own): it refused the set ({}) and holds no set",
        RecipientSetError::WrongDevice
    );
}

#[test]
fn confirm_refuses_a_pinned_camera_id_with_another_key() {
    let h = Household::start().unwrap_or_else(fail);
    let a = h.pair_camera(PHONE, "door").unwrap_or_else(fail);
    let pinned_before = pinned_key(&h, a.id);

    // The owner pairs a new camera; the colluding server hands it camera A's
    // id (its pairing proof is genuine: it holds a kept pairing code).
    let code = h
        .sealcam(PHONE, &["pair", "--name", "porch", "--no-qr", "--json"])
        .and_then(Run::checked)
        .and_then(|r| r.json())
        .unwrap_or_else(fail);
    let newcomer = Camera {
        name: "porch".into(),
        state: h.path("cam-porch"),
        id: Uuid::nil(),
    };
    let paired = h
        .device(&newcomer, &["pair", code["code"].as_str().unwrap()])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let newcomer_id: Uuid = paired.stdout.trim().parse().unwrap();
    let db = Db::open(&h);
    db.0.execute("DELETE FROM cameras WHERE id = ?1", [a.id.to_string()])
        .unwrap();
    db.0.execute(
        "UPDATE cameras SET id = ?1 WHERE id = ?2",
        [a.id.to_string(), newcomer_id.to_string()],
    )
    .unwrap();

    let confirm = h
        .sealcam(PHONE, &["cameras", "confirm", "--json"])
        .unwrap_or_else(fail);
    let text = confirm.all_output();
    assert!(!confirm.success(), "{confirm}");
    assert!(
        text.contains("already pinned to another device key"),
        "{confirm}"
    );
    assert!(!text.contains("\"confirmed\""), "{confirm}");
    // The owner record still pins camera A's own key.
    assert_eq!(pinned_key(&h, a.id), pinned_before);
    println!(
        "trust: a new camera handed the pinned camera {}'s id: `sealcam cameras confirm` exited {:?} and refused it (already pinned to another device key); the record still pins {}",
        a.id, confirm.code, pinned_before
    );
}

/// The device key the phone's owner record pins for `camera`.
fn pinned_key(h: &Household, camera: Uuid) -> String {
    let list = h
        .sealcam(PHONE, &["cameras", "list", "--json"])
        .and_then(Run::checked)
        .and_then(|r| r.json())
        .unwrap_or_else(fail);
    list["cameras"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["camera_id"] == camera.to_string().as_str())
        .and_then(|c| c["device_key"].as_str())
        .map(str::to_owned)
        .unwrap_or_default()
}

#[test]
fn forked_owner_record_is_refused() {
    let (h, cam) = household_with_tablet();
    // The phone has seen the current record.
    h.sealcam(PHONE, &["cameras", "list"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let seen: OwnerRecord =
        serde_json::from_slice(&std::fs::read(h.path(PHONE).join("record.json")).unwrap()).unwrap();

    // The tablet, holding the current owner key, writes the same version
    // with another device key for the camera.
    let tablet = steal(&h, TABLET);
    assert_eq!(tablet.record.version, seen.version);
    let mut forked = tablet.record.clone();
    let other_key = DeviceKey::generate().public();
    forked
        .camera_mut(CameraId::from(cam.id))
        .unwrap()
        .device_key = other_key;
    let sealed = forked.seal(&tablet.owner_key).unwrap();
    Db::open(&h).put_owner_record(h.account, &sealed);

    let list = h.sealcam(PHONE, &["cameras", "list"]).unwrap_or_else(fail);
    assert_eq!(list.code, Some(8), "{list}");
    let error = list
        .stderr_line("forked")
        .unwrap_or_else(|| panic!("no mention of a fork: {list}"))
        .to_owned();
    println!(
        "trust: owner record version {} forked by the tablet (camera {} pinned to another device key, signed with the owner key, sealed to the phone): the phone's `sealcam cameras list` exited {:?}: {error}",
        forked.version, cam.id, list.code
    );
}
