//! An owner device that the server keeps off the current owner key, against
//! the real binaries only (the setup, the attacker and the colluding server
//! are described in `sealcam_e2e::trust_kit`).
//!
//! The phone revokes the tablet; the laptop, another owner device, runs no
//! command meanwhile. The colluding server then keeps the laptop off the
//! rotation, in one of two ways:
//!
//! - **hidden**: it serves the key log and the key bundle from before the
//!   revocation, so the laptop stays on the key the tablet kept;
//! - **forked**: the tablet signs, with the key it kept, rotations of its
//!   own: one at the very place the phone's rotation took (the same reset
//!   and generation) and one past it, and the server serves the laptop that
//!   log and a bundle of the tablet's newest key sealed to it.
//!
//! Either way the tablet signs a record, with the key the laptop now holds,
//! in which the household member `gran` has the tablet's viewer key; the
//! laptop's `grant-history gran` would re-wrap what the laptop opens (the
//! recordings made after the revocation included) to the tablet.
//!
//! The camera is the witness the server cannot forge: since format v3 each
//! object's signed inner header names the owner key the camera follows, its
//! place in the key log and the key itself. The laptop verifies every part
//! before it re-wraps one, and refuses (exit 8) at a recording sealed under
//! a later place than the key it holds, or under another key at a place
//! where it held one (`keys.json`): no header is rewritten, not even those of
//! another camera's older recordings, which the forged record lists first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealcam_e2e::household::{Camera, Household, Recording, PHONE};
use sealcam_e2e::trust_kit::{
    fail, household_with_tablet, revoke, sealcam_ok, steal, sync_ok, Db, Stolen, TABLET,
};
use sealcam_keys::{
    KeyLog, KeyStatement, OwnerKeyBundle, OwnerRecord, OwnerSigningKey, ViewerIdentity,
};

const LAPTOP: &str = "laptop";

/// After the phone revoked the tablet and the door recorded under the new
/// key; the garage recorded only before.
struct Scene {
    h: Household,
    door: Camera,
    gran: String,
    tablet: Stolen,
    laptop: Stolen,
    log_before: Vec<u8>,
    bundle_before: Vec<u8>,
    /// The door's recording after the revocation.
    after: Recording,
    /// The garage's, before.
    before: Recording,
}

/// `log_hidden_at_link`: the server answers "no key log" to the laptop
/// (while it finishes linking and lists the cameras), so it caches none.
fn scene(log_hidden_at_link: bool) -> Scene {
    let (h, door) = household_with_tablet();
    if log_hidden_at_link {
        link_with_the_log_hidden(&h);
    } else {
        h.link(PHONE, LAPTOP).unwrap_or_else(fail);
    }
    let garage = h.pair_camera(PHONE, "garage").unwrap_or_else(fail);
    let (before, _) = h.record(&garage).unwrap_or_else(fail);
    let gran = h.other_account("gran").unwrap_or_else(fail).to_string();
    let who = sealcam_ok(&h, "gran", &["whoami", "--json"]);
    let code = who["member_code"].as_str().unwrap();
    sealcam_ok(&h, PHONE, &["share", "door", "--with", code, "--json"]);
    for home in [LAPTOP, TABLET] {
        let hide = log_hidden_at_link && home == LAPTOP;
        let db = Db::open(&h);
        let log = db.key_log(h.account);
        if hide {
            db.clear_account_record(h.account, "key_log");
        }
        sealcam_ok(&h, home, &["cameras", "list", "--json"]);
        if hide {
            db.put_key_log(h.account, &log);
        }
    }
    let tablet = steal(&h, TABLET);
    let laptop = steal(&h, LAPTOP);
    let db = Db::open(&h);
    let log_before = db.key_log(h.account);
    let bundle_before = db.account_record(h.account, "key_bundle");

    revoke(&h, PHONE, TABLET);
    sync_ok(&h, &door);
    let (after, _) = h.record(&door).unwrap_or_else(fail);
    let object = h
        .download(PHONE, after.event, "thumbnail")
        .unwrap_or_else(fail);
    assert!(
        !h.age_opens(TABLET, &object, &after.thumbnail)
            .unwrap_or_else(fail),
        "the revocation did not take"
    );
    Scene {
        h,
        door,
        gran,
        tablet,
        laptop,
        log_before,
        bundle_before,
        after,
        before,
    }
}

/// `viewers link`, `viewers approve` on the phone, then `viewers link
/// --finish` while the server has no key log to give.
fn link_with_the_log_hidden(h: &Household) {
    let request = sealcam_ok(
        h,
        LAPTOP,
        &[
            "viewers", "link", "--server", &h.url, "--name", LAPTOP, "--json",
        ],
    );
    let request = request["link_request"].as_str().unwrap().to_owned();
    let approval = sealcam_ok(h, PHONE, &["viewers", "approve", &request, "--json"]);
    let approval = approval["approval"].as_str().unwrap().to_owned();
    let db = Db::open(h);
    let log = db.key_log(h.account);
    db.clear_account_record(h.account, "key_log");
    sealcam_ok(
        h,
        LAPTOP,
        &["viewers", "link", "--finish", &approval, "--json"],
    );
    db.put_key_log(h.account, &log);
}

/// `base` with the tablet's own rotations appended, signed with the key it
/// kept: one to the place the phone's took, one past it (a device that takes
/// them holds a later place than the camera). The log, the newest key and
/// the first rotation's place.
fn forked_log(tablet: &Stolen, mut base: KeyLog) -> (KeyLog, OwnerSigningKey, (u64, u64)) {
    let (first, fork) = (OwnerSigningKey::generate(), OwnerSigningKey::generate());
    let mut state = tablet.keys();
    let one = KeyStatement::rotation(&state, &tablet.owner_key, first.public(), 1).unwrap();
    let at = (one.reset_count(), one.generation());
    state.apply(&one).unwrap();
    let two = KeyStatement::rotation(&state, &first, fork.public(), 2).unwrap();
    base.push(one).unwrap();
    base.push(two).unwrap();
    (base, fork, at)
}

impl Scene {
    /// Serves the laptop `log`, a bundle of `key` sealed to it (and to the
    /// tablet) and the forged record signed with `key`.
    fn serve_fork(&self, log: &KeyLog, key: &OwnerSigningKey) {
        let db = Db::open(&self.h);
        db.put_key_log(self.h.account, &log.to_bytes());
        let bundle = OwnerKeyBundle::rotated(self.h.account.into(), key.clone())
            .seal(&[self.laptop.viewer.clone(), self.tablet.viewer.clone()])
            .unwrap();
        db.put_account_record(self.h.account, "key_bundle", &bundle);
        let forged = self.forged_record();
        db.put_owner_record(self.h.account, &forged.seal(key).unwrap());
    }

    /// Serves the laptop the key log and bundle from before the revocation,
    /// and the forged record signed with the key the tablet kept.
    fn serve_from_before(&self) {
        let db = Db::open(&self.h);
        db.put_key_log(self.h.account, &self.log_before);
        db.put_account_record(self.h.account, "key_bundle", &self.bundle_before);
        let forged = self.forged_record();
        db.put_owner_record(
            self.h.account,
            &forged.seal(&self.tablet.owner_key).unwrap(),
        );
    }

    /// The tablet's record, newer, with gran's key swapped for the tablet's
    /// and the garage listed first (its recordings, all from before the
    /// rotation, come first in a grant).
    fn forged_record(&self) -> OwnerRecord {
        let mut forged = self.tablet.record.clone();
        forged.version += 10;
        let member = forged
            .members
            .iter_mut()
            .find(|m| m.account_id.to_string() == self.gran)
            .expect("the tablet's record names gran");
        member.recipient = self.tablet.viewer.clone();
        forged.cameras.reverse();
        forged
    }

    /// The laptop's `grant-history gran` is refused with `why`, no header
    /// changes, the tablet opens nothing made after its revocation, and the
    /// laptop's `cameras list` flags the door. What the refusal said.
    fn grant_is_refused(&self, why: &str) -> String {
        let (h, db) = (&self.h, Db::open(&self.h));
        let parts = [
            (self.after.event, "thumbnail"),
            (self.before.event, "thumbnail"),
        ];
        let headers = || -> Vec<_> { parts.iter().map(|p| db.header(p.0, p.1)).collect() };
        let before = headers();
        let run = h
            .sealcam(
                LAPTOP,
                &["grant-history", &self.gran, "--days", "1", "--json"],
            )
            .unwrap_or_else(fail);
        assert_eq!(run.code, Some(8), "the laptop re-wrapped: {run}");
        assert!(run.stderr.contains(why), "{run}");
        assert_eq!(
            headers(),
            before,
            "a header was rewritten (the door's, or the garage's from before the rotation)"
        );
        let object = h
            .download(PHONE, self.after.event, "thumbnail")
            .unwrap_or_else(fail);
        assert!(
            !h.age_opens(TABLET, &object, &self.after.thumbnail)
                .unwrap_or_else(fail),
            "the tablet opens the recording made after its revocation"
        );
        let listed = sealcam_ok(h, LAPTOP, &["cameras", "list", "--json"]);
        let door = listed["cameras"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["camera_id"] == self.door.id.to_string().as_str())
            .unwrap();
        assert_eq!(door["uptake"]["state"], "key_disagrees", "{listed}");
        assert_eq!(
            door["uptake"]["forked"],
            why == "forked key log",
            "{listed}"
        );
        let text = h.sealcam(LAPTOP, &["cameras", "list"]).unwrap_or_else(fail);
        assert!(
            text.stdout.contains("set this device up again"),
            "`cameras list` does not say what to do: {text}"
        );
        run.stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }
}

#[test]
fn a_device_kept_on_a_retired_key_re_wraps_nothing_the_camera_sealed_after_the_rotation() {
    let s = scene(false);
    s.serve_from_before();
    println!(
        "trust: kept behind: the phone revoked the tablet and the camera recorded under the new key; the server then served the laptop the key log and bundle from before, and the tablet's record giving gran the tablet's key"
    );
    let said = s.grant_is_refused("hiding a rotation");
    println!(
        "trust: kept behind: the laptop's `grant-history gran` REFUSED (exit 8) at the recording the door sealed under the newer key, before writing anything: the garage's older recordings, listed first, kept their headers too, the tablet still opens nothing made after its revocation, and `cameras list` flags the door key_disagrees: {said}"
    );
}

/// A device the server keeps on the retired key pairs no camera: the
/// camera would pin the key the tablet kept, and its first set would seal
/// to the viewers of the record the tablet signed (found by review; the
/// earlier client made the code, exit 0).
#[test]
fn a_device_kept_on_a_retired_key_pairs_no_camera() {
    let s = scene(false);
    s.serve_from_before();
    let run =
        s.h.sealcam(LAPTOP, &["pair", "--name", "porch", "--no-qr", "--json"])
            .unwrap_or_else(fail);
    let said = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or_default()
        .trim()
        .to_owned();
    println!(
        "trust: kept behind: the server served the laptop the key log and bundle from before the revocation; its `sealcam pair --name porch` {}: {said}",
        if run.code == Some(8) { "was REFUSED (exit 8)" } else { "made a pairing code" }
    );
    assert_eq!(run.code, Some(8), "the laptop made a pairing code: {run}");
    assert!(
        run.stderr.contains("hiding a rotation") && run.stderr.contains("no pairing code was made"),
        "{run}"
    );
}

#[test]
fn a_device_on_a_forked_rotation_re_wraps_nothing_the_camera_sealed_after_the_real_one() {
    let s = scene(false);
    // The log the laptop cached, with the tablet's rotations appended.
    let base = KeyLog::from_bytes(&s.log_before).unwrap();
    let (log, fork, at) = forked_log(&s.tablet, base);
    s.serve_fork(&log, &fork);
    println!(
        "trust: forked rotation: the phone revoked the tablet (rotating the owner key) and the camera recorded under the new key; the tablet signed two rotations of its own with the key it kept, to reset {}, generation {} (the phone's place) and one past it, and the server served the laptop that log, a bundle of the tablet's newest key and a record giving gran the tablet's key",
        at.0, at.1
    );
    let said = s.grant_is_refused("forked key log");
    println!(
        "trust: forked rotation: the laptop took the forked rotations (it now holds a later place than the camera), but its `grant-history gran` REFUSED (exit 8) at the recording the door sealed under the real key of a place where the laptop held the tablet's, before writing anything; the tablet still opens nothing made after its revocation, and `cameras list` flags the door key_disagrees: {said}"
    );
}

#[test]
fn a_device_linked_while_the_log_was_hidden_re_wraps_nothing_on_a_fork() {
    let s = scene(true);
    // A log of the tablet's two rotations alone: no reset for the root key
    // to start from, nothing the laptop cached to extend.
    let (log, fork, _) = forked_log(&s.tablet, KeyLog::new());
    s.serve_fork(&log, &fork);
    println!(
        "trust: hidden at link: the laptop finished linking while the server gave no key log; after the revocation the server served it only the tablet's two forked rotations (no reset statement), a bundle of the tablet's newest key and a record giving gran the tablet's key"
    );
    // The laptop knows the root key: a log with no reset of it is refused
    // before any of it is followed (it used to take the tablet's rotations,
    // and the grant was refused later, at the door's recording).
    let db = Db::open(&s.h);
    let header = || db.header(s.after.event, "thumbnail");
    let before = header();
    let run =
        s.h.sealcam(LAPTOP, &["grant-history", &s.gran, "--days", "1", "--json"])
            .unwrap_or_else(fail);
    assert_eq!(run.code, Some(8), "the laptop re-wrapped: {run}");
    let said = run
        .stderr_line("no statement in it is a reset the account's root key signed")
        .unwrap_or_else(|| panic!("{run}"))
        .to_owned();
    assert_eq!(header(), before, "a header was rewritten");
    println!(
        "trust: hidden at link: the laptop's `grant-history gran` REFUSED (exit 8) the key log before following any of it; nothing re-wrapped: {said}"
    );
}

#[test]
fn a_key_the_device_never_took_does_not_vouch_for_the_camera() {
    let s = scene(false);
    let db = Db::open(&s.h);
    // The real log after the revocation, with the bundle from before: the
    // laptop sees the phone's rotation but cannot take its key.
    db.put_account_record(s.h.account, "key_bundle", &s.bundle_before);
    let run =
        s.h.sealcam(LAPTOP, &["cameras", "list", "--json"])
            .unwrap_or_else(fail);
    assert_eq!(run.code, Some(8), "{run}");
    // Then the tablet's fork, from the place before.
    let base = KeyLog::from_bytes(&s.log_before).unwrap();
    let (log, fork, _) = forked_log(&s.tablet, base);
    s.serve_fork(&log, &fork);
    println!(
        "trust: never taken: the server showed the laptop the phone's rotation without a bundle it could open (exit 8), then served it the tablet's fork from the place before, with a bundle of the tablet's key"
    );
    let said = s.grant_is_refused("forked key log");
    println!(
        "trust: never taken: the laptop had seen the real key at that place but never held it, so it does not vouch for the camera: `grant-history gran` REFUSED (exit 8), nothing re-wrapped: {said}"
    );
}

#[test]
fn a_device_linked_after_the_revocation_onto_a_fork_re_wraps_nothing() {
    let (h, door) = household_with_tablet();
    let gran = h.other_account("gran").unwrap_or_else(fail).to_string();
    let who = sealcam_ok(&h, "gran", &["whoami", "--json"]);
    let code = who["member_code"].as_str().unwrap();
    sealcam_ok(&h, PHONE, &["share", "door", "--with", code, "--json"]);
    // The laptop asks to be linked and the phone approves, before the
    // revocation; the tablet then copies the record naming the laptop.
    let request = sealcam_ok(
        &h,
        LAPTOP,
        &[
            "viewers", "link", "--server", &h.url, "--name", LAPTOP, "--json",
        ],
    );
    let request = request["link_request"].as_str().unwrap().to_owned();
    let approval = sealcam_ok(&h, PHONE, &["viewers", "approve", &request, "--json"]);
    let approval = approval["approval"].as_str().unwrap().to_owned();
    sealcam_ok(&h, TABLET, &["cameras", "list", "--json"]);
    let tablet = steal(&h, TABLET);
    let pending: serde_json::Value =
        serde_json::from_slice(&std::fs::read(h.path(LAPTOP).join("link.json")).unwrap()).unwrap();
    let laptop_viewer = ViewerIdentity::from_secret_text(pending["viewer"].as_str().unwrap())
        .unwrap()
        .to_public();
    let db = Db::open(&h);
    let log_before = db.key_log(h.account);
    // The colluding server keeps the link token that the revocation
    // withdraws (an honest server refuses it afterwards).
    let sql = rusqlite::Connection::open(h.database()).unwrap();
    sql.execute_batch(
        "CREATE TABLE kept_links AS SELECT * FROM one_time_tokens WHERE kind = 'link'",
    )
    .unwrap();

    revoke(&h, PHONE, TABLET);
    sync_ok(&h, &door);
    let (after, _) = h.record(&door).unwrap_or_else(fail);
    sql.execute_batch("INSERT OR IGNORE INTO one_time_tokens SELECT * FROM kept_links")
        .unwrap();

    // The laptop finishes linking onto the tablet's two-step fork.
    let base = KeyLog::from_bytes(&log_before).unwrap();
    let (log, fork, _) = forked_log(&tablet, base);
    db.put_key_log(h.account, &log.to_bytes());
    let bundle = OwnerKeyBundle::rotated(h.account.into(), fork.clone())
        .seal(&[laptop_viewer, tablet.viewer.clone()])
        .unwrap();
    db.put_account_record(h.account, "key_bundle", &bundle);
    let mut forged = tablet.record.clone();
    forged.version += 10;
    let member = forged
        .members
        .iter_mut()
        .find(|m| m.account_id.to_string() == gran)
        .expect("the tablet's record names gran");
    member.recipient = tablet.viewer.clone();
    db.put_owner_record(h.account, &forged.seal(&fork).unwrap());
    sealcam_ok(
        &h,
        LAPTOP,
        &["viewers", "link", "--finish", &approval, "--json"],
    );
    println!(
        "trust: linked onto a fork: the phone approved the laptop, then revoked the tablet; the server kept the link token the revocation withdrew, and the laptop finished linking while it served the tablet's two forked rotations from the approval's key, a bundle of the tablet's key and a record giving gran the tablet's key"
    );

    let header = db.header(after.event, "thumbnail");
    let run = h
        .sealcam(LAPTOP, &["grant-history", &gran, "--days", "1", "--json"])
        .unwrap_or_else(fail);
    assert_eq!(run.code, Some(8), "the laptop re-wrapped: {run}");
    assert!(run.stderr.contains("forked key log"), "{run}");
    assert_eq!(db.header(after.event, "thumbnail"), header);
    let object = h
        .download(PHONE, after.event, "thumbnail")
        .unwrap_or_else(fail);
    assert!(!h
        .age_opens(TABLET, &object, &after.thumbnail)
        .unwrap_or_else(fail));
    println!(
        "trust: linked onto a fork: the laptop noted the approval's key and each forked step it followed at link, so the door's recording under the real key at the first step's place is a fork: `grant-history gran` REFUSED (exit 8), nothing re-wrapped"
    );
}
