//! A revocation that stops part-way, against the real binaries only (the
//! setup is described in `sealcam_e2e::trust_kit`; a third owner device,
//! `laptop`, watches from the side).
//!
//! The phone revokes the tablet through the fault proxy, which breaks one
//! of the revocation's writes: refused with a 503 (nothing written) or
//! forwarded and answered 504, as a gateway that gave up waiting (written,
//! the phone never hears so). Each write is broken in its own household: the
//! key log, the key bundle, the camera's recipient set, the owner record,
//! the credential deletion. Stopped there, the account was stuck: the
//! laptop refused the record the retired key signed (exit 8), the phone
//! too, and the camera kept sealing to the tablet. Now the phone's next
//! command finishes the revocation (it kept what it needs in
//! `revocation.json`).
//!
//! While it is unfinished, the tablet — still holding the owner key the
//! phone rotates away from — and a colluding server try to make the
//! finishing step skip the rotation or grant the tablet something: the
//! tablet rotates the key itself (revoking the laptop), or signs a record
//! without itself, or the server serves a forged record where the phone's
//! was sent. The rotation is made again; the forged record is refused.
//!
//! Afterwards, every time: the observer follows the new owner key, the
//! tablet's credential is deleted, the key bundle is not sealed to it, the
//! camera refuses a set signed by the last owner key the tablet held, and
//! the next recording opens for the remaining devices only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use sealcam_e2e::household::{point_at, Household, Run, PHONE};
use sealcam_e2e::proxy::{Fault, Hook, Reply, RequestInfo};
use sealcam_e2e::trust_kit::{
    bundle_opens, fail, household_with_tablet, locked_out, openers, proxy_in_front, revoke, steal,
    sync_ok, Db, Fronted, Stolen, TABLET,
};
use sealcam_keys::{
    DeviceKey, KeyLog, KeyStatement, OwnerKeyBundle, OwnerSigningKey, RecipientSetError,
};

const LAPTOP: &str = "laptop";

/// How the proxy breaks the requests a [`Break`] selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// Answer 503 instead of the server: nothing is written.
    Refuse,
    /// Forward, then answer 504: written, never acknowledged.
    Lost,
    /// Answer 404 instead of the server: "no such thing".
    Unknown,
}

/// Breaks every request with `method` whose path starts with `prefix`,
/// but `except`.
struct Break {
    method: &'static str,
    prefix: &'static str,
    except: Option<&'static str>,
    how: How,
}

impl Break {
    fn new(method: &'static str, prefix: &'static str, how: How) -> Self {
        Self {
            method,
            prefix,
            except: None,
            how,
        }
    }

    fn hits(&self, req: &RequestInfo) -> bool {
        req.method.as_str() == self.method
            && req.path.starts_with(self.prefix)
            && self.except != Some(req.path.as_str())
    }
}

impl Hook for Break {
    fn fault(&self, req: &RequestInfo) -> Option<Fault> {
        (self.how == How::Lost && self.hits(req)).then_some(Fault::LostAnswer)
    }

    fn answer(&self, req: &RequestInfo) -> Option<Reply> {
        match self.how {
            How::Refuse if self.hits(req) => Some(Reply::new(503, "fault proxy: refused")),
            How::Unknown if self.hits(req) => Some(Reply::new(404, "fault proxy: no such camera")),
            _ => None,
        }
    }
}

/// The household (phone, tablet, laptop, camera `door`) with the phone
/// talking to the server through a fault proxy.
struct Setup {
    h: Household,
    cam: sealcam_e2e::household::Camera,
    front: Fronted,
}

fn setup() -> Setup {
    let (h, cam) = household_with_tablet();
    h.link(PHONE, LAPTOP).unwrap_or_else(fail);
    let front = proxy_in_front(&h, PHONE);
    Setup { h, cam, front }
}

/// Revokes the tablet from the phone with `broken` broken; returns what
/// the tablet held before.
fn revoke_broken(s: &Setup, what: &str, broken: Break) -> Stolen {
    let tablet = steal(&s.h, TABLET);
    let how = broken.how;
    s.front.proxy.set_hook(Arc::new(broken));
    let run =
        s.h.sealcam(PHONE, &["viewers", "revoke", TABLET, "--json"])
            .unwrap_or_else(fail);
    assert!(!run.success(), "the revocation did not stop: {run}");
    assert!(
        run.stderr
            .contains("the next `sealcam` command on this device finishes it"),
        "{run}"
    );
    assert!(s.h.path(PHONE).join("revocation.json").exists());
    let laptop =
        s.h.sealcam(LAPTOP, &["cameras", "list"])
            .unwrap_or_else(fail);
    println!(
        "trust: interrupted: {what} ({how:?}): `sealcam viewers revoke tablet` stopped (exit {:?}); the laptop then: exit {:?}",
        run.code, laptop.code
    );
    s.front.proxy.clear_hook();
    tablet
}

/// Runs `next` on the phone, which must finish the revocation; returns
/// the key position it reports.
fn finish(s: &Setup, next: &[&str]) -> (u64, u64) {
    let run = s.h.sealcam(PHONE, next).unwrap_or_else(fail);
    assert!(run.success(), "{run}");
    let note = run
        .stderr_line("finished revoking \"tablet\"")
        .unwrap_or_else(|| panic!("not finished: {run}"));
    assert!(!s.h.path(PHONE).join("revocation.json").exists());
    if next[..2] == ["viewers", "revoke"] {
        let out = run.json().unwrap_or_else(fail);
        assert_eq!(out["revoked"]["name"], TABLET, "{out}");
    }
    let at = note.rsplit("reset ").next().unwrap();
    let (reset, generation) = at.split_once(", generation ").unwrap();
    (reset.parse().unwrap(), generation.trim().parse().unwrap())
}

/// The revocation took effect: `observer` holds the owner key at `moved_to`
/// and lists `viewers`; the tablet (which last held `tablet`'s key) is
/// locked out and its key signs nothing the camera takes; the next
/// recording opens for `viewers` only.
fn took_effect(
    s: &Setup,
    what: &str,
    tablet: &Stolen,
    moved_to: (u64, u64),
    observer: &str,
    viewers: &[&str],
) {
    let h = &s.h;
    let listed = h
        .sealcam(observer, &["viewers", "list", "--json"])
        .and_then(Run::checked)
        .unwrap_or_else(fail)
        .json()
        .unwrap_or_else(fail);
    let names: Vec<&str> = listed["viewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, viewers, "{listed}");
    let held = steal(h, observer).keys().position();
    assert_eq!(held, moved_to, "the observer's owner key");
    assert!(
        moved_to > tablet.keys().position(),
        "the owner key did not move past the tablet's"
    );
    // Its credential is deleted (7), not only its key bundle withheld (8).
    assert_eq!(
        locked_out(h, TABLET),
        Some(7),
        "the tablet's credential is still live"
    );
    assert!(!bundle_opens(h, TABLET));
    assert!(bundle_opens(h, observer));

    let (epoch, _) = sync_ok(h, &s.cam);
    Db::open(h).put_set(
        s.cam.id,
        i64::try_from(epoch + 1).unwrap(),
        &tablet.forge_set(s.cam.id, epoch + 1),
    );
    let refused = h.device(&s.cam, &["sync"]).unwrap_or_else(fail);
    assert!(
        !refused.success(),
        "the camera took the tablet's set: {refused}"
    );
    let reason = format!(
        "REFUSED a recipient set: {}",
        RecipientSetError::NotSignedByPinnedOwner
    );
    assert!(refused.stderr.contains(&reason), "{refused}");
    let (rec, _) = h.record(&s.cam).unwrap_or_else(fail);
    let opened = openers(h, observer, &rec, &[PHONE, LAPTOP, TABLET]);
    assert_eq!(opened, viewers);
    println!(
        "trust: interrupted: {what}: finished; the owner key at {moved_to:?} (the tablet held {:?}), {observer} lists {names:?}, the tablet is locked out (exit 7), the camera (epoch {epoch}) refused a set signed by the tablet's last key, and its next recording opens for {opened:?} only",
        tablet.keys().position()
    );
}

/// Revokes the tablet from the phone with `broken` broken, then runs
/// `next` on the phone with the proxy healed, and checks that the
/// revocation took effect everywhere.
fn interrupted_then_finished(what: &str, broken: Break, next: &[&str]) {
    let s = setup();
    let tablet = revoke_broken(&s, what, broken);
    let moved_to = finish(&s, next);
    took_effect(&s, what, &tablet, moved_to, LAPTOP, &[PHONE, LAPTOP]);
}

const REVOKE_AGAIN: &[&str] = &["viewers", "revoke", TABLET, "--json"];
const ANY_COMMAND: &[&str] = &["cameras", "list"];

#[test]
fn a_revocation_whose_key_log_write_is_refused_starts_over() {
    let broken = Break::new("PUT", "/v1/account/key-log", How::Refuse);
    interrupted_then_finished("the key log write refused", broken, REVOKE_AGAIN);
}

#[test]
fn a_revocation_whose_key_log_answer_is_lost_is_finished() {
    let broken = Break::new("PUT", "/v1/account/key-log", How::Lost);
    interrupted_then_finished("the key log written, its answer lost", broken, ANY_COMMAND);
}

#[test]
fn a_revocation_whose_key_bundle_write_is_refused_is_finished() {
    let broken = Break::new("PUT", "/v1/account/key-bundle", How::Refuse);
    interrupted_then_finished("the key bundle write refused", broken, REVOKE_AGAIN);
}

#[test]
fn a_revocation_whose_recipient_set_write_is_refused_is_finished() {
    let broken = Break::new("PUT", "/v1/cameras/", How::Refuse);
    interrupted_then_finished("the recipient set write refused", broken, ANY_COMMAND);
}

#[test]
fn a_revocation_whose_owner_record_write_is_refused_is_finished() {
    let broken = Break::new("PUT", "/v1/account/viewers", How::Refuse);
    interrupted_then_finished("the owner record write refused", broken, REVOKE_AGAIN);
}

#[test]
fn a_revocation_whose_owner_record_answer_is_lost_is_finished() {
    let broken = Break::new("PUT", "/v1/account/viewers", How::Lost);
    interrupted_then_finished(
        "the owner record written, its answer lost",
        broken,
        ANY_COMMAND,
    );
}

#[test]
fn a_revocation_whose_credential_deletion_is_refused_is_finished() {
    let broken = Break {
        except: Some("/v1/devices/link"),
        ..Break::new("DELETE", "/v1/devices/", How::Refuse)
    };
    interrupted_then_finished("the credential deletion refused", broken, REVOKE_AGAIN);
}

/// The tablet, still holding the owner key the phone's unfinished
/// revocation rotates away from, rotates it itself (it revokes the
/// laptop): the phone follows that rotation, whose bundle is sealed to the
/// tablet too. Taking that as its own rotation would leave the tablet
/// holding the current owner key; the phone rotates again.
#[test]
fn a_rotation_by_the_victim_meanwhile_is_not_taken_for_the_revocation() {
    let s = setup();
    let what = "the tablet rotated the key meanwhile";
    let before = steal(&s.h, TABLET);
    revoke_broken(
        &s,
        what,
        Break::new("PUT", "/v1/account/key-log", How::Refuse),
    );
    let theirs = revoke(&s.h, TABLET, LAPTOP);
    let tablet = steal(&s.h, TABLET);
    println!(
        "trust: interrupted: {what}: the tablet revoked the laptop, moving the owner key from {:?} to {:?}, sealed to the phone and itself",
        before.keys().position(),
        theirs["key_position"]
    );
    let moved_to = finish(&s, ANY_COMMAND);
    took_effect(&s, what, &tablet, moved_to, PHONE, &[PHONE]);
}

/// The phone's key-bundle write was refused: its rotation is in the key log
/// and in the chain it keeps, while it still holds the key it rotates away
/// from, which the tablet holds too. The tablet signs a rotation of its own
/// from that key to the same place, and the colluding server puts it first
/// in the log, before the root key's first reset, with a bundle of the
/// tablet's key sealed to the phone. Followed in log order from the key the
/// phone held, the tablet's rotation came first and the phone's own was a
/// fork of it: the phone took the tablet's key and rotated from there, and
/// the camera, which follows the chain from the root key, refused every set
/// it signed and kept sealing to the tablet. Owner devices follow only that
/// chain: the phone takes its own rotation and warns of the other.
#[test]
fn a_rotation_put_before_the_roots_first_reset_does_not_move_a_device_behind_its_chain() {
    let s = setup();
    let what = "the server put the tablet's rotation before the root key's first reset";
    let tablet = revoke_broken(
        &s,
        what,
        Break::new("PUT", "/v1/account/key-bundle", How::Refuse),
    );
    let phone = steal(&s.h, PHONE);
    assert_eq!(
        phone.keys().position(),
        tablet.keys().position(),
        "the phone moved although its bundle write was refused"
    );
    let db = Db::open(&s.h);
    let served = KeyLog::from_bytes(&db.key_log(s.h.account)).unwrap();
    let theirs = OwnerSigningKey::generate();
    let forged =
        KeyStatement::rotation(&tablet.keys(), &tablet.owner_key, theirs.public(), 1).unwrap();
    let mut log = KeyLog::new();
    log.push(forged.clone()).unwrap();
    for st in served.statements() {
        log.push(st.clone()).unwrap();
    }
    db.put_key_log(s.h.account, &log.to_bytes());
    let bundle = OwnerKeyBundle::rotated(s.h.account.into(), theirs)
        .seal(&[phone.viewer.clone(), tablet.viewer.clone()])
        .unwrap();
    db.put_account_record(s.h.account, "key_bundle", &bundle);
    println!(
        "trust: interrupted: {what}: tried: the key log served is the tablet's rotation to {:?}, then the {} statements the phone wrote; the key bundle holds the tablet's key, sealed to the phone",
        (forged.reset_count(), forged.generation()),
        served.statements().len()
    );

    let run = s.h.sealcam(PHONE, ANY_COMMAND).unwrap_or_else(fail);
    assert!(run.success(), "{run}");
    let warning = run
        .stderr_line("off the chain from the root key")
        .unwrap_or_else(|| panic!("no warning of the tablet's rotation: {run}"))
        .trim()
        .to_owned();
    assert!(
        run.stderr_line("finished revoking \"tablet\"").is_some(),
        "{run}"
    );
    let moved_to = steal(&s.h, PHONE).keys().position();
    println!("trust: interrupted: {what}: refused: {warning}");
    // A camera that has not followed the phone's rotation yet and is shown
    // the tablet's first follows the tablet's, as when the server hides the
    // rotation from it (PROTOCOL.md "What remains": the window before a
    // camera syncs). This test is about the phone: the server stops here.
    let mut honest = KeyLog::new();
    for st in KeyLog::from_bytes(&db.key_log(s.h.account))
        .unwrap()
        .statements()
        .iter()
        .filter(|st| **st != forged)
    {
        honest.push(st.clone()).unwrap();
    }
    db.put_key_log(s.h.account, &honest.to_bytes());
    took_effect(&s, what, &tablet, moved_to, PHONE, &[PHONE, LAPTOP]);
}

/// The tablet signs a newer record with the key it holds (the phone's
/// rotation never landed, so that key is still current), and the server
/// stores it: without the tablet and the laptop, the camera re-pinned to a
/// key of the tablet's and its epoch pushed past what a camera takes. The
/// phone must not take the tablet for already removed (it rotates), nor drop
/// the laptop (only a rotation removes a viewer), nor leave the camera out
/// or publish it a set it refuses (it would keep sealing to the tablet).
#[test]
fn a_record_without_the_victim_signed_by_the_victim_does_not_end_the_revocation() {
    let s = setup();
    let what = "the tablet signed a record without itself, the laptop or the camera's pin";
    let tablet = revoke_broken(
        &s,
        what,
        Break::new("PUT", "/v1/account/key-log", How::Refuse),
    );
    let mut forged = steal(&s.h, PHONE).record;
    forged.version += 1;
    forged.viewers.retain(|v| v.name == PHONE);
    for c in &mut forged.cameras {
        c.device_key = DeviceKey::generate().public();
        c.epoch += 1 << 21;
    }
    Db::open(&s.h).put_owner_record(s.h.account, &forged.seal(&tablet.owner_key).unwrap());
    let moved_to = finish(&s, ANY_COMMAND);
    took_effect(&s, what, &tablet, moved_to, LAPTOP, &[PHONE, LAPTOP]);
}

/// The phone sent its record and the server refused it (or took it and
/// hides it); the colluding server then serves a record the tablet signed
/// with the retired key. The phone does not write its kept record over
/// anything but the record it started from (other devices may have built on
/// the one it sent): it refuses and stays unfinished, until the server
/// serves that record again.
#[test]
fn a_forged_record_where_the_revocation_sent_its_own_is_refused() {
    let s = setup();
    let what = "a forged record where the phone's was sent";
    let tablet = revoke_broken(
        &s,
        what,
        Break::new("PUT", "/v1/account/viewers", How::Refuse),
    );
    let db = Db::open(&s.h);
    let started_from = db.account_record(s.h.account, "viewers");
    let mut forged = tablet.record.clone();
    forged.version += 5;
    let forged = forged.seal(&tablet.owner_key).unwrap();
    db.put_owner_record(s.h.account, &forged);

    let run =
        s.h.sealcam(PHONE, &["cameras", "list"])
            .unwrap_or_else(fail);
    let warning = run
        .stderr_line("is not finished")
        .filter(|w| w.contains("neither a record signed by the new owner key"))
        .unwrap_or_else(|| panic!("no warning: {run}"));
    assert!(s.h.path(PHONE).join("revocation.json").exists());
    assert_eq!(
        db.account_record(s.h.account, "viewers"),
        forged,
        "the phone wrote over the forged record"
    );
    println!("trust: interrupted: {what}: REFUSED, the revocation stays unfinished: {warning}");

    db.put_owner_record(s.h.account, &started_from);
    let moved_to = finish(&s, ANY_COMMAND);
    took_effect(&s, what, &tablet, moved_to, LAPTOP, &[PHONE, LAPTOP]);
}

/// The server answers 404 to the camera's new set, as if the camera were
/// gone. The revocation finishes (the key rotates, the credential goes) and
/// says the set was not published; the camera stays in the record with its
/// pin (only `sealcam cameras delete` forgets a camera), and once a set gets
/// through, only the remaining devices open what it records.
#[test]
fn a_camera_the_server_calls_unknown_is_reported_not_forgotten() {
    let s = setup();
    s.front
        .proxy
        .set_hook(Arc::new(Break::new("PUT", "/v1/cameras/", How::Unknown)));
    let out =
        s.h.sealcam(PHONE, &["viewers", "revoke", TABLET, "--json"])
            .and_then(Run::checked)
            .unwrap_or_else(fail)
            .json()
            .unwrap_or_else(fail);
    s.front.proxy.clear_hook();
    let unpublished = &out["revoked"]["unpublished"];
    assert_eq!(
        unpublished,
        &serde_json::json!([s.cam.id.to_string()]),
        "{out}"
    );
    let cameras = steal(&s.h, PHONE).record.cameras;
    assert_eq!(cameras.len(), 1, "the camera left the record");
    println!(
        "trust: interrupted: the server answered 404 to the camera's new set: the revocation finished and reported it unpublished ({unpublished}); the camera stays in the record, pinned"
    );
    // Approving a device publishes every set again (the phone back on the
    // server's own address, which a link request names).
    point_at(&s.h.path(PHONE).join("device.json"), &s.h.url).unwrap_or_else(fail);
    s.h.link(PHONE, "desk").unwrap_or_else(fail);
    let (epoch, _) = sync_ok(&s.h, &s.cam);
    let (rec, _) = s.h.record(&s.cam).unwrap_or_else(fail);
    let opened = openers(&s.h, PHONE, &rec, &[PHONE, LAPTOP, TABLET, "desk"]);
    assert_eq!(opened, [PHONE, LAPTOP, "desk"]);
    println!(
        "trust: interrupted: once a set got through (epoch {epoch}), the next recording opens for {opened:?} only"
    );
}
