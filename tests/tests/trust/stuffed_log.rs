//! A server that stuffs the key log with statements nobody signed, against
//! the real binaries only (the setup and the server are described in
//! `sealcam_e2e::trust_kit`).
//!
//! While it serves the stuffed log, an owner device cannot append its
//! rotation (the log is full), so a revocation is refused before it starts:
//! a hostile server can always refuse a write. What must not happen is that
//! the device keeps the junk: it used to cache the whole log it followed and
//! refuse every later log that did not start with it, so once the server
//! served the honest log again the device refused that as "rewritten", and
//! a revocation it had started could never finish. Owner devices now keep
//! only the statements that verify from the root key (`KeyLog::chain`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealcam_e2e::household::PHONE;
use sealcam_e2e::trust_kit::{fail, household_with_tablet, openers, revoke, sync_ok, Db, TABLET};
use sealcam_keys::{KeyLog, KeyStatement, MAX_LOG_ENTRIES};

#[test]
fn a_key_log_stuffed_with_junk_holds_a_revocation_up_only_while_it_is_served() {
    let (h, cam) = household_with_tablet();
    let db = Db::open(&h);
    let honest = db.key_log(h.account);
    let log = KeyLog::from_bytes(&honest).unwrap();
    // Junk: the account's first statement with one bit of its signature
    // flipped, until the log holds as many statements as it may.
    let mut junk = log.statements()[0].as_bytes().to_vec();
    *junk.last_mut().unwrap() ^= 1;
    let junk = KeyStatement::from_bytes(&junk).unwrap();
    let mut stuffed = log.clone();
    while stuffed.statements().len() < MAX_LOG_ENTRIES {
        stuffed.push(junk.clone()).unwrap();
    }
    db.put_key_log(h.account, &stuffed.to_bytes());

    // The phone follows the stuffed log: the junk is refused, in few lines.
    let list = h.sealcam(PHONE, &["cameras", "list"]).unwrap_or_else(fail);
    assert!(list.success(), "{list}");
    let counted = list
        .stderr_line("more owner key statements refused")
        .unwrap_or_else(|| panic!("{list}"))
        .to_owned();
    assert!(list.stderr.lines().count() < 10, "{list}");

    // The revocation cannot append its rotation to a full log: refused
    // before it starts, so nothing is left half done.
    let tried = h
        .sealcam(PHONE, &["viewers", "revoke", TABLET, "--json"])
        .unwrap_or_else(fail);
    assert!(!tried.success(), "{tried}");
    let full = tried
        .stderr_line("the most it may")
        .unwrap_or_else(|| panic!("{tried}"))
        .to_owned();
    assert!(!h.path(PHONE).join("revocation.json").exists(), "{tried}");
    println!(
        "trust: stuffed log: the server filled the key log with {} statements nobody signed; the phone's `cameras list` refused them ({counted}), and `viewers revoke tablet` was refused before it started (exit {:?}): {full}",
        MAX_LOG_ENTRIES - log.statements().len(),
        tried.code
    );

    // The server serves the honest log again: the phone takes it, and the
    // revocation goes through.
    db.put_key_log(h.account, &honest);
    let listed = h.sealcam(PHONE, &["viewers", "list"]).unwrap_or_else(fail);
    assert!(listed.success(), "{listed}");
    revoke(&h, PHONE, TABLET);
    let (epoch, _) = sync_ok(&h, &cam);
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(&h, PHONE, &rec, &[PHONE, TABLET]);
    assert_eq!(opened, [PHONE]);
    println!(
        "trust: stuffed log: the server went back to the honest log; the phone took it and revoked the tablet (the camera synced epoch {epoch}); of the phone and the tablet, only {opened:?} opened the next recording"
    );
}
