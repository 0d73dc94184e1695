//! What a revoked device can still do with the owner key it kept, against
//! the real binaries only (the setup, the attacker and the colluding server
//! are described in `sealcam_e2e::trust_kit`).
//!
//! The phone revokes the tablet: the owner key rotates, and the tablet keeps
//! the retired key and the owner record it last read. It signs a newer
//! version of that record with the retired key (it still names the tablet as
//! a viewer) and a colluding server stores it. `sealcam recover` — with and
//! without `--revoke-others` — refuses that record (exit 8) and changes
//! nothing: had it taken it, it would have sealed the new owner key to the
//! tablet, or (with `--revoke-others`) kept whatever members and shares the
//! tablet listed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealcam_e2e::household::PHONE;
use sealcam_e2e::trust_kit::{
    fail, household_with_tablet, openers, position, recover_run, revoke, steal, sync_ok, Db, TABLET,
};

#[test]
fn recovery_refuses_a_record_signed_by_a_retired_owner_key() {
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

    for (home, revoke_others) in [("recovered", false), ("recovered-all", true)] {
        let run = recover_run(&h, home, revoke_others).unwrap_or_else(fail);
        assert_eq!(run.code, Some(8), "recovery took the forged record: {run}");
        assert!(
            run.stderr.contains("which the key log has retired"),
            "{run}"
        );
        let said = run.stderr.lines().next().unwrap_or_default().trim();
        println!(
            "trust: retired key: `sealcam recover{}` REFUSED it (exit 8): {said}",
            if revoke_others {
                " --revoke-others"
            } else {
                ""
            }
        );
    }
    assert_eq!(
        Db::open(&h).key_log(h.account),
        log_before,
        "a refused recovery wrote a reset"
    );

    // Nothing moved: the camera stays where the revocation put it, and what
    // it records opens for the phone, not for the tablet.
    let (still, _) = sync_ok(&h, &cam);
    assert_eq!(still, epoch);
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    assert_eq!(openers(&h, PHONE, &rec, &[PHONE, TABLET]), [PHONE]);
    println!(
        "trust: retired key: the key log is unchanged, the camera stayed at epoch {epoch}, and its next recording opens for the phone only"
    );
}
