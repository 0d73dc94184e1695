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
//! laptop verifies every part before it re-wraps one, and refuses (exit 8)
//! at a recording sealed under a newer key than its own: no header is
//! rewritten, not even those of another camera's older recordings, which
//! the forged record lists first.
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
    // A second camera, which records only before the revocation.
    let garage = h.pair_camera(PHONE, "garage").unwrap_or_else(fail);
    let (early, _) = h.record(&garage).unwrap_or_else(fail);
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
    // The garage first: its recordings, all from before the rotation, come
    // before the door's in the grant.
    forged.cameras.reverse();
    db.put_owner_record(h.account, &forged.seal(&tablet.owner_key).unwrap());
    let headers = [(rec.event, "thumbnail"), (early.event, "thumbnail")];
    let headers_before: Vec<_> = headers.iter().map(|p| db.header(p.0, p.1)).collect();
    println!(
        "trust: kept behind: the phone revoked the tablet and the camera recorded under the new key; the server then served the laptop the key log and bundle from before, and the tablet's record giving gran the tablet's key"
    );

    let run = h
        .sealcam(LAPTOP, &["grant-history", &gran, "--days", "1", "--json"])
        .unwrap_or_else(fail);
    assert_eq!(run.code, Some(8), "the laptop re-wrapped: {run}");
    assert!(run.stderr.contains("hiding a rotation"), "{run}");
    let headers_after: Vec<_> = headers.iter().map(|p| db.header(p.0, p.1)).collect();
    assert_eq!(
        headers_after, headers_before,
        "a header was rewritten (the door's, or the garage's from before the rotation)"
    );
    let object = h
        .download(PHONE, rec.event, "thumbnail")
        .unwrap_or_else(fail);
    assert!(
        !h.age_opens(TABLET, &object, &rec.thumbnail)
            .unwrap_or_else(fail),
        "the tablet opens the recording made after its revocation"
    );
    // The laptop's `cameras list` says why.
    let listed = sealcam_ok(&h, LAPTOP, &["cameras", "list", "--json"]);
    let door = listed["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["camera_id"] == cam.id.to_string().as_str())
        .unwrap();
    assert_eq!(door["uptake"]["state"], "key_behind", "{listed}");
    let said = run.stderr.lines().next().unwrap_or_default().trim();
    println!(
        "trust: kept behind: the laptop's `grant-history gran` REFUSED (exit 8) at the recording the door sealed under the newer key, before writing anything: the garage's older recordings, listed first, kept their headers too and the tablet still opens nothing made after its revocation; `cameras list` flags the door as key_behind: {said}"
    );
}
