//! A server that hides the key log from recovery, against the real binaries
//! only (the setup, the attacker and the colluding server are described in
//! `sealcam_e2e::trust_kit`).
//!
//! The tablet takes the account over (it revokes the phone, rotating the
//! owner key). The colluding server then answers "no key log" to the
//! recovering device and serves the owner key bundle and record of the
//! account's early days, which the first owner key signed: recovery takes
//! the path of an account made before owner trust v2 and starts a new log.
//! Its reset is numbered by the time, so the camera — which holds the
//! thief's rotation, at a higher position than that new log's start — still
//! takes it, and the thief's key signs nothing more. (Numbered from what the
//! server showed, the reset was one the camera had passed: it refused it,
//! kept the thief's key, and recovery reported success.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealcam_e2e::household::PHONE;
use sealcam_e2e::trust_kit::{
    fail, household_with_tablet, openers, position, recover, revoke, sync_ok, Db, TABLET,
};

#[test]
fn recovery_takes_effect_when_the_server_hides_the_key_log() {
    let (h, cam) = household_with_tablet();
    let db = Db::open(&h);
    // What the server keeps from the early days: the bundle (the first owner
    // key, with its recovery tag) and the record that key signed.
    let bundle_then = db.account_record(h.account, "key_bundle");
    let record_then = db.account_record(h.account, "viewers");

    let hijack = revoke(&h, TABLET, PHONE);
    let thief_position = position(&hijack["key_position"]);
    sync_ok(&h, &cam);

    db.clear_account_record(h.account, "key_log");
    db.put_account_record(h.account, "key_bundle", &bundle_then);
    db.put_owner_record(h.account, &record_then);
    println!(
        "trust: hidden log: the tablet took the account over (owner key at {thief_position:?}); the server then hid the key log and served the first owner key's bundle and record"
    );

    let recovered = recover(&h, "recovered", true);
    let reset = position(&recovered["key_position"]);
    let (epoch, sync) = sync_ok(&h, &cam);
    assert!(
        sync.stderr
            .contains(&format!("to reset {}, generation {}", reset.0, reset.1)),
        "the camera did not take recovery's reset {reset:?}: {sync}"
    );
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(&h, "recovered", &rec, &["recovered", TABLET, PHONE]);
    assert_eq!(opened, ["recovered"]);
    println!(
        "trust: hidden log: `sealcam recover` started a new log with a reset numbered by the time ({reset:?}); the camera took it over the thief's {thief_position:?} (epoch {epoch}); of the recovered device, the tablet and the phone only {opened:?} opened the next recording"
    );
}
