//! An owner device that the server keeps on a retired owner key, against
//! the real binaries only (the setup, the attacker and the colluding server
//! are described in `sealcam_e2e::trust_kit`).
//!
//! The phone revokes the tablet; the laptop, another owner device, runs no
//! command meanwhile. The colluding server then serves the laptop the key
//! log and the key bundle from before the revocation, so the laptop stays
//! on the key the tablet kept, and the tablet signs with that key a record
//! in which the household member `gran` has the tablet's viewer key. The
//! laptop's `grant-history gran` would re-wrap what the laptop opens (the
//! recordings made after the revocation included) to the tablet.
//!
//! The camera is the witness the server cannot forge: since format v3 each
//! object's signed inner header names the owner key the camera follows. The
//! laptop refuses (exit 8) at the first recording sealed under a newer key
//! than its own, and that recording's header is left as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealcam_e2e::household::PHONE;
use sealcam_e2e::trust_kit::{
    fail, household_with_tablet, revoke, sealcam_ok, steal, sync_ok, Db, TABLET,
};

const LAPTOP: &str = "laptop";

#[test]
fn a_device_kept_on_a_retired_key_re_wraps_nothing_the_camera_sealed_after_the_rotation() {
    let (h, cam) = household_with_tablet();
    h.link(PHONE, LAPTOP).unwrap_or_else(fail);
    let gran = h.other_account("gran").unwrap_or_else(fail).to_string();
    let who = sealcam_ok(&h, "gran", &["whoami", "--json"]);
    let code = who["member_code"].as_str().unwrap();
    sealcam_ok(&h, PHONE, &["share", "door", "--with", code, "--json"]);
    for home in [LAPTOP, TABLET] {
        sealcam_ok(&h, home, &["cameras", "list", "--json"]);
    }
    let tablet = steal(&h, TABLET);
    let db = Db::open(&h);
    let log_before = db.key_log(h.account);
    let bundle_before = db.account_record(h.account, "key_bundle");

    revoke(&h, PHONE, TABLET);
    sync_ok(&h, &cam);
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let object = h
        .download(PHONE, rec.event, "thumbnail")
        .unwrap_or_else(fail);
    assert!(
        !h.age_opens(TABLET, &object, &rec.thumbnail)
            .unwrap_or_else(fail),
        "the revocation did not take"
    );

    // The colluding server: the key log and bundle from before the
    // revocation, and the tablet's record (gran's key swapped for the
    // tablet's), signed with the key that log names.
    db.put_key_log(h.account, &log_before);
    db.put_account_record(h.account, "key_bundle", &bundle_before);
    let mut forged = tablet.record.clone();
    forged.version += 10;
    let member = forged
        .members
        .iter_mut()
        .find(|m| m.account_id.to_string() == gran)
        .expect("the tablet's record names gran");
    member.recipient = tablet.viewer.clone();
    db.put_owner_record(h.account, &forged.seal(&tablet.owner_key).unwrap());
    let header_before = db.header(rec.event, "thumbnail");
    println!(
        "trust: kept behind: the phone revoked the tablet and the camera recorded under the new key; the server then served the laptop the key log and bundle from before, and the tablet's record giving gran the tablet's key"
    );

    let run = h
        .sealcam(LAPTOP, &["grant-history", &gran, "--days", "1", "--json"])
        .unwrap_or_else(fail);
    assert_eq!(run.code, Some(8), "the laptop re-wrapped: {run}");
    assert!(run.stderr.contains("hiding a rotation"), "{run}");
    assert_eq!(
        db.header(rec.event, "thumbnail"),
        header_before,
        "the recording's header was rewritten"
    );
    let object = h
        .download(PHONE, rec.event, "thumbnail")
        .unwrap_or_else(fail);
    assert!(
        !h.age_opens(TABLET, &object, &rec.thumbnail)
            .unwrap_or_else(fail),
        "the tablet opens the recording made after its revocation"
    );
    let said = run.stderr.lines().next().unwrap_or_default().trim();
    println!(
        "trust: kept behind: the laptop's `grant-history gran` REFUSED (exit 8) at the recording the camera sealed under the newer key; its header is unchanged and the tablet still opens nothing made after its revocation: {said}"
    );
}
