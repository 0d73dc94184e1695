//! What a revoked device can still do with the owner key it kept, against
//! the real binaries only (the setup, the attacker and the colluding server
//! are described in `sealcam_e2e::trust_kit`).
//!
//! The phone revokes the tablet: the owner key rotates, and the tablet keeps
//! the retired key and the owner record it last read. It signs a newer
//! version of that record with the retired key (it still names the tablet as
//! a viewer) and a colluding server stores it. `sealcam recover
//! --keep-others` refuses that record (exit 8) and changes nothing: keeping
//! the viewers it names would seal the new owner key to the tablet. Plain
//! `sealcam recover` (which keeps no other viewer or share anyway) takes only
//! its cameras, says so, and the tablet gets neither the new owner key nor a
//! place in the camera's set. (The same record is what a revocation leaves
//! when it stops between the key log and the record: recovery is still the
//! way out of that.)
//!
//! A server that also cuts the key log back to before the revocation makes
//! the retired key current again for the recovering device, which has no
//! earlier copy of the log: recovery cannot tell the forgery then. By
//! default (without `--keep-others`) it grants nothing to what the record
//! names: the tablet gets neither the new owner key nor a place in the
//! camera's set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealcam_e2e::household::{Camera, Household, PHONE};
use sealcam_e2e::trust_kit::{
    bundle_opens, fail, household_with_tablet, openers, position, published_epoch, recover_ok,
    recover_run, revoke, steal, sync_ok, Db, TABLET,
};
use sealcam_keys::{is_sealed_set, open_set_document, ViewerIdentity, MAX_EPOCH_JUMP};

#[test]
fn a_record_signed_by_a_retired_owner_key_grants_nothing() {
    let (h, cam) = household_with_tablet();
    let tablet = steal(&h, TABLET);
    let revoked = revoke(&h, PHONE, TABLET);
    let moved_to = position(&revoked["key_position"]);
    let (epoch, _) = sync_ok(&h, &cam);

    // The tablet's forgery: the record it kept, ten versions on, still
    // naming it, signed with the key it held; sealed as every record is (to
    // its viewers and the recovery key).
    let mut forged = tablet.record.clone();
    forged.version += 10;
    assert!(
        forged.viewers.iter().any(|v| v.recipient == tablet.viewer),
        "the stolen record names the tablet"
    );
    let sealed = forged.seal(&tablet.owner_key).unwrap();
    let db = Db::open(&h);
    db.put_owner_record(h.account, &sealed);
    let log_before = db.key_log(h.account);
    println!(
        "trust: retired key: the phone revoked the tablet (owner key now at {moved_to:?}); the tablet signed version {} of its record with the key it kept, naming itself a viewer, and the server stored it",
        forged.version
    );

    let run = recover_run(&h, "kept", &["--keep-others"]).unwrap_or_else(fail);
    assert_eq!(run.code, Some(8), "recovery took the forged record: {run}");
    assert!(
        run.stderr.contains("which the key log has retired"),
        "{run}"
    );
    assert_eq!(
        Db::open(&h).key_log(h.account),
        log_before,
        "a refused recovery wrote a reset"
    );
    let (still, _) = sync_ok(&h, &cam);
    assert_eq!(still, epoch);
    let said = run.stderr.lines().next().unwrap_or_default().trim();
    println!(
        "trust: retired key: `sealcam recover --keep-others` REFUSED it (exit 8), the key log unchanged, the camera still at epoch {epoch}: {said}"
    );

    // The default: the record's cameras only.
    let recovered = recover_ok(&h, "recovered", &[]);
    assert_eq!(
        recovered["record_signed_by_retired_key"],
        serde_json::json!([moved_to.0, moved_to.1 - 1]),
        "{recovered}"
    );
    let (_, opened, holders) =
        only_the_recovered_device_holds_access(&h, &cam, "recovered", &recovered);
    println!(
        "trust: retired key: plain `sealcam recover` took only the record's cameras (it reported the retired key); the new owner key's bundle opens for {holders:?} only, and of the recovered device, the tablet and the phone only {opened:?} opened the next recording"
    );
}

#[test]
fn recovery_over_a_rolled_back_key_log_grants_the_revoked_device_nothing() {
    let (h, cam) = household_with_tablet();
    let tablet = steal(&h, TABLET);
    let db = Db::open(&h);
    let log_before = db.key_log(h.account);
    revoke(&h, PHONE, TABLET);
    sync_ok(&h, &cam);

    // The colluding server puts back the key log from before the revocation
    // and serves the tablet's record, signed by the key that log names.
    let mut forged = tablet.record.clone();
    forged.version += 10;
    db.put_key_log(h.account, &log_before);
    db.put_owner_record(h.account, &forged.seal(&tablet.owner_key).unwrap());
    println!(
        "trust: rolled-back log: the server put back the key log from before the revocation and the tablet's record (version {}, signed with the key that log names, naming the tablet)",
        forged.version
    );

    // `sealcam recover` with no flag: the default.
    let recovered = recover_ok(&h, "recovered", &[]);
    let dropped = recovered["revoked"].as_array().map_or(0, Vec::len);
    assert!(dropped >= 1, "{recovered}");
    let (epoch, opened, holders) =
        only_the_recovered_device_holds_access(&h, &cam, "recovered", &recovered);
    let reset = position(&recovered["key_position"]);
    println!(
        "trust: rolled-back log: `sealcam recover` took the record (it cannot tell) but dropped the {dropped} viewer(s) it names; the new owner key's bundle opens for {holders:?} only; the camera took the reset to {reset:?} and the new set (epoch {epoch}); of the recovered device, the tablet and the phone, only {opened:?} opened the next recording"
    );
}

#[test]
fn recovery_takes_no_epoch_or_set_key_from_a_retired_record() {
    let (h, cam) = household_with_tablet();
    let tablet = steal(&h, TABLET);
    revoke(&h, PHONE, TABLET);
    let (accepted, _) = sync_ok(&h, &cam);
    let db = Db::open(&h);

    // Round 1: the camera's epoch in the tablet's record pushed 2^21 up, so
    // that the reset's set would be more than the camera takes (2^20) above
    // its own.
    let mut forged = tablet.record.clone();
    forged.version += 10;
    let pushed = accepted + 2 * MAX_EPOCH_JUMP;
    forged.cameras[0].epoch = pushed;
    db.put_owner_record(h.account, &forged.seal(&tablet.owner_key).unwrap());
    let recovered = recover_ok(&h, "recovered", &[]);
    let (epoch, opened, _) =
        only_the_recovered_device_holds_access(&h, &cam, "recovered", &recovered);
    let published = published_epoch(&recovered, &cam);
    assert!(published <= MAX_EPOCH_JUMP, "{recovered}");
    assert_eq!(epoch, published);
    println!(
        "trust: retired record: the tablet signed a record pushing the camera's epoch from {accepted} to {pushed}; recovery published epoch {published} under the reset instead, the camera took it, and {opened:?} alone opened the next recording"
    );

    // Round 2: the same key signs a record naming a set key of its own for
    // the camera, so that the reset's set would be sealed to a key the camera
    // lacks (and its recipients readable by the tablet).
    let mut forged = tablet.record.clone();
    forged.version += 20;
    let attacker = ViewerIdentity::generate();
    forged.cameras[0].set_key = Some(attacker.to_public());
    db.put_owner_record(h.account, &forged.seal(&tablet.owner_key).unwrap());
    let again = recover_ok(&h, "again", &[]);
    assert!(
        !again["record_signed_by_retired_key"].is_null(),
        "the tablet's key is still a retired one: {again}"
    );
    let (_, opened, _) = only_the_recovered_device_holds_access(&h, &cam, "again", &again);
    let (_, document) = db.set(cam.id);
    assert!(is_sealed_set(&document), "the new set is in the clear");
    assert!(
        open_set_document(&document, &[&attacker]).is_err(),
        "the new set opens with the set key the tablet named"
    );
    println!(
        "trust: retired record: the tablet signed a record naming a set key of its own; recovery sealed the new set to the camera's own set key (the tablet's does not open it), the camera took it, and {opened:?} alone opened the next recording"
    );
}

/// After `recovered` (the JSON output of a recovery into `home`): the camera
/// took its reset, and of the recovered device, the tablet and the phone
/// only the recovered device holds the new owner key's bundle and opens the
/// camera's next recording. The camera's epoch, who opened it, who holds
/// the bundle.
fn only_the_recovered_device_holds_access<'a>(
    h: &Household,
    cam: &Camera,
    home: &'a str,
    recovered: &serde_json::Value,
) -> (u64, Vec<&'a str>, Vec<&'a str>) {
    let reset = position(&recovered["key_position"]);
    let (epoch, sync) = sync_ok(h, cam);
    assert!(
        sync.stderr
            .contains(&format!("to reset {}, generation {}", reset.0, reset.1)),
        "{sync}"
    );
    let homes = [home, TABLET, PHONE];
    let (rec, _) = h.record(cam).unwrap_or_else(fail);
    let opened = openers(h, home, &rec, &homes);
    assert_eq!(opened, [home], "{sync}");
    let holders: Vec<&str> = homes
        .into_iter()
        .filter(|home| bundle_opens(h, home))
        .collect();
    assert_eq!(holders, [home]);
    (epoch, opened, holders)
}
