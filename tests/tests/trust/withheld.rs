//! Owner trust v2 under attack: a withheld revocation (docs/PROTOCOL.md,
//! "Owner trust v2"; the setup, the attacker and the colluding server are
//! described in `sealcam_e2e::trust_kit`), against the real binaries only.
//!
//! 1. the old set and the old key log for everybody (owner devices refuse
//!    the shortened log, exit 8), then the old ones for the camera only (the
//!    owner's `cameras list` flags it as lagging). The window is real where
//!    the camera is kept from the rotation: the tablet opens what it records
//!    then;
//! 2. the old set for everybody with the key log left alone (the owner's
//!    `cameras list` flags it as withheld: the server serves a set the
//!    current owner key did not sign; the camera, which followed the
//!    rotation, seals to the recovery key alone meanwhile).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealcam_e2e::household::{Run, PHONE};
use sealcam_e2e::trust_kit::{
    fail, household_with_tablet, openers, published_epoch, revoke, sealcam_ok, steal, sync_epoch,
    sync_ok, Db, TABLET,
};
use sealcam_keys::RecipientSetError;
use serde_json::json;

#[test]
fn withheld_revocation_is_flagged() {
    let (h, cam) = household_with_tablet();
    let db = Db::open(&h);
    let old_set = db.set(cam.id);
    let old_log = db.key_log(h.account);

    let revoked = revoke(&h, PHONE, TABLET);
    let published = published_epoch(&revoked, &cam);
    let new_set = db.set(cam.id);
    let new_log = db.key_log(h.account);

    // The server withholds the revocation: the old set, the old key log.
    db.put_set(cam.id, old_set.0, &old_set.1);
    db.put_key_log(h.account, &old_log);
    let owner_sees = h
        .sealcam(PHONE, &["cameras", "list", "--json"])
        .unwrap_or_else(fail);
    assert_eq!(owner_sees.code, Some(8), "{owner_sees}");
    let dropped = owner_sees
        .stderr_line("key log")
        .unwrap_or_else(|| panic!("{owner_sees}"))
        .to_owned();
    println!(
        "trust: a server withholding the revocation from everybody (old set, key log without the rotation): the phone's `sealcam cameras list` exited {:?}: {dropped}",
        owner_sees.code
    );

    // The camera syncs (it keeps the old set) and records.
    let (kept, _) = sync_ok(&h, &cam);
    let sealed = u64::try_from(old_set.0).unwrap();
    assert_eq!(kept, sealed);
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);

    // To the owner the server shows the published set and the key log.
    db.put_set(cam.id, new_set.0, &new_set.1);
    db.put_key_log(h.account, &new_log);
    let list = sealcam_ok(&h, PHONE, &["cameras", "list", "--json"]);
    let view = list["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["camera_id"] == cam.id.to_string().as_str())
        .unwrap()
        .clone();
    assert_eq!(
        view["uptake"],
        json!({"state": "lagging", "sealed": sealed, "published": published}),
        "{view}"
    );
    let text = h
        .sealcam(PHONE, &["cameras", "list"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let warning = text
        .stdout
        .lines()
        .find(|l| l.starts_with("WARNING: camera ") && l.contains(&cam.id.to_string()))
        .unwrap_or_else(|| panic!("no WARNING line: {text}"))
        .to_owned();

    // The documented window: what the camera recorded meanwhile is sealed
    // to the old set, which still names the tablet.
    let opened = openers(&h, PHONE, &rec, &[PHONE, TABLET]);
    assert_eq!(opened, [PHONE, TABLET]);
    println!(
        "trust: the camera, shown only the old set, kept epoch {kept} and recorded; the phone's `sealcam cameras list` shows its uptake as {} (sealed {sealed}, published {published}) and warns: {warning}",
        view["uptake"]["state"].as_str().unwrap()
    );
    println!(
        "trust: the documented window: the revoked tablet's identity opened {} of 1 recording(s) made while the revocation was withheld",
        usize::from(opened.contains(&TABLET))
    );
}

#[test]
fn withheld_set_is_flagged_and_the_camera_seals_to_the_recovery_key() {
    let (h, cam) = household_with_tablet();
    let db = Db::open(&h);
    let old_set = db.set(cam.id);
    let sealed = u64::try_from(old_set.0).unwrap();
    let revoked = revoke(&h, PHONE, TABLET);
    let published = published_epoch(&revoked, &cam);

    // The server withholds only the set, from everybody: it keeps serving
    // the old one and leaves the key log alone. The camera follows the
    // rotation and refuses the old set (signed by the retired key); its last
    // good set was signed by the key the rotation replaced, so what it
    // records now is sealed to the recovery key alone: the window is closed.
    db.put_set(cam.id, old_set.0, &old_set.1);
    let sync = h.device(&cam, &["sync"]).unwrap_or_else(fail);
    assert!(!sync.success(), "{sync}");
    assert_eq!(sync_epoch(&sync), Some(sealed), "{sync}");
    let refusal = format!(
        "REFUSED a recipient set: {}",
        RecipientSetError::NotSignedByPinnedOwner
    );
    assert!(sync.stderr.contains(&refusal), "{sync}");
    let (rec, recorded) = h.record(&cam).unwrap_or_else(fail);
    assert!(
        recorded
            .stderr
            .contains("sealing to the recovery key alone"),
        "{recorded}"
    );
    let opened = openers(&h, PHONE, &rec, &[PHONE, TABLET]);
    assert!(opened.is_empty(), "{opened:?}");
    let list = sealcam_ok(&h, PHONE, &["cameras", "list", "--json"]);
    let uptake = list["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["camera_id"] == cam.id.to_string().as_str())
        .unwrap()["uptake"]
        .clone();
    let text = h
        .sealcam(PHONE, &["cameras", "list"])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let warning = text
        .stdout
        .lines()
        .find(|l| l.starts_with("WARNING: camera ") && l.contains(&cam.id.to_string()))
        .map(str::to_owned);
    println!(
        "trust: a server serving the old set to everybody (key log intact): the camera followed the rotation, refused the old set ({}) and sealed what it recorded to the recovery key alone (the tablet opened {} of 1 new recording(s), the phone {}); the phone's `sealcam cameras list` shows its uptake as {uptake} and {}",
        RecipientSetError::NotSignedByPinnedOwner,
        usize::from(opened.contains(&TABLET)),
        usize::from(opened.contains(&PHONE)),
        warning.as_deref().map_or_else(|| "prints no WARNING".to_owned(), |w| format!("warns: {w}"))
    );
    assert_eq!(
        uptake,
        json!({"state": "withheld", "serving": null, "published": published}),
        "the owner is not told that the camera still seals to the revoked tablet"
    );
    assert!(warning.is_some(), "no WARNING line: {text}");
}

/// A set naming another recovery key than the account's is refused, so what
/// a camera seals to alone, once its set expires or its owner key is
/// replaced, stays the account's recovery key (found by review: the camera
/// took the recovery key each set names, whoever signed it). The tablet, an
/// owner device holding the owner key, stores a set naming its own viewer
/// key as the recovery key; after its revocation the server keeps serving
/// that set and withholds the new one.
#[test]
fn a_set_naming_another_recovery_key_is_refused_so_the_fallback_stays_the_accounts() {
    let (h, cam) = household_with_tablet();
    let db = Db::open(&h);
    let tablet = steal(&h, TABLET);
    let next = u64::try_from(db.set(cam.id).0).unwrap() + 1;
    let forged = tablet.forge_set_recovering_to(
        cam.id,
        next,
        &tablet.owner_key,
        tablet.keys().position(),
        &tablet.viewer,
    );
    db.put_set(cam.id, i64::try_from(next).unwrap(), &forged);
    let first = h.device(&cam, &["sync"]).unwrap_or_else(fail);
    revoke(&h, PHONE, TABLET);
    db.put_set(cam.id, i64::try_from(next).unwrap(), &forged);
    h.device(&cam, &["sync"]).unwrap_or_else(fail);
    let (rec, recorded) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(&h, PHONE, &rec, &[PHONE, TABLET]);
    println!(
        "trust: before its revocation the tablet stored a set naming its own key as the recovery key (the camera's sync: {}); after it the server kept serving that set: the camera followed the rotation and sealed what it recorded to the recovery key alone, which the tablet opened {} time(s) of 1",
        if first.success() { "TAKEN".to_owned() } else { format!("REFUSED: {}", RecipientSetError::OtherRecoveryKey) },
        usize::from(opened.contains(&TABLET)),
    );
    assert!(
        recorded
            .stderr
            .contains("sealing to the recovery key alone"),
        "{recorded}"
    );
    assert!(
        !opened.contains(&TABLET),
        "the camera sealed its fallback to the tablet's key"
    );
    let refusal = format!(
        "REFUSED a recipient set: {}",
        RecipientSetError::OtherRecoveryKey
    );
    assert!(
        !first.success() && first.stderr.contains(&refusal),
        "{first}"
    );
}
