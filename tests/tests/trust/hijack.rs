//! Owner trust v2 under attack: a hijack (docs/PROTOCOL.md, "Owner trust
//! v2"; the setup, the attacker and the colluding server are described in
//! `sealcam_e2e::trust_kit`), against the real binaries only.
//!
//! The tablet revokes the phone first → the phone's credential is refused
//! (exit 7) with the hint that a takeover is the other reason and
//! `sealcam recover --revoke-others` undoes it; the thief shares the camera
//! with an account of its own; undone with the recovery key, the share
//! withdrawn; the thief's later rotation is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;
use sealcam_e2e::household::PHONE;
use sealcam_e2e::trust_kit::{
    fail, household_with_tablet, locked_out, openers, position, published_epoch, recover, revoke,
    sealcam_ok, steal, sync_epoch, sync_ok, unix_now, Db, TABLET,
};
use sealcam_keys::{KeyLog, KeyStatement, OwnerSigningKey, RecipientSetError, MAX_EPOCH_JUMP};

/// The thief's own account, which it shares the camera with.
const ACCOMPLICE: &str = "accomplice";
/// Another account of the thief's, shared with on the server only.
const SILENT: &str = "silent";

#[test]
fn hijack_is_undone_with_the_recovery_key() {
    let (h, cam) = household_with_tablet();

    // The thief acts first: from the tablet it revokes the phone.
    let hijack = revoke(&h, TABLET, PHONE);
    let thief_position = position(&hijack["key_position"]);
    // (What the phone is told is asserted at the end, after the recovery.)
    let phone = h.sealcam(PHONE, &["cameras", "list"]).unwrap_or_else(fail);
    let told = phone
        .stderr
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    println!(
        "trust: hijack: the tablet ran `sealcam viewers revoke phone`; the phone's next command exited {:?}: {told}",
        phone.code
    );
    let (thief_epoch, sync) = sync_ok(&h, &cam);
    assert!(
        sync.stderr.contains(&format!(
            "to reset {}, generation {}",
            thief_position.0, thief_position.1
        )),
        "{sync}"
    );
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    assert_eq!(openers(&h, TABLET, &rec, &[PHONE, TABLET]), [TABLET]);
    println!(
        "trust: the camera followed the thief's rotation to {thief_position:?} and epoch {thief_epoch}: only the tablet opens what it records"
    );

    // As the owner it now is, the thief shares the camera with an account of
    // its own (a member's key is in every set of a shared camera), and with
    // a second one on the server only, leaving the record alone (that
    // account lists and fetches the camera's ciphertext).
    h.other_account(ACCOMPLICE).unwrap_or_else(fail);
    let code = sealcam_ok(&h, ACCOMPLICE, &["whoami", "--json"])["member_code"]
        .as_str()
        .unwrap()
        .to_owned();
    sealcam_ok(&h, TABLET, &["share", "door", "--with", &code, "--json"]);
    let silent = h.other_account(SILENT).unwrap_or_else(fail);
    let (status, _) = h
        .request(
            Method::PUT,
            &format!("/v1/cameras/{}/shares/{silent}", cam.id),
            Some(&steal(&h, TABLET).credential),
            None,
        )
        .unwrap_or_else(fail);
    assert!(
        (200..300).contains(&status),
        "share on the server: {status}"
    );
    sync_ok(&h, &cam);
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    assert_eq!(
        openers(&h, TABLET, &rec, &[TABLET, ACCOMPLICE]),
        [TABLET, ACCOMPLICE]
    );
    let fetched = [ACCOMPLICE, SILENT].map(|who| h.download(who, rec.event, "thumbnail").is_ok());
    assert_eq!(fetched, [true, true]);
    println!(
        "trust: the thief shared the camera with an account of its own and, on the server only, with another; the camera's next recording opens for the tablet and the first, and the server hands it to both"
    );

    // With the key it now holds, the thief pushes the camera's epoch as far
    // as one step allows (a colluding server stores the set), so that an
    // owner who takes the account back could never publish above it.
    let thief = steal(&h, TABLET);
    let pushed = thief_epoch + MAX_EPOCH_JUMP;
    Db::open(&h).put_set(
        cam.id,
        i64::try_from(pushed).unwrap(),
        &thief.forge_set(cam.id, pushed),
    );
    let (held, _) = sync_ok(&h, &cam);
    assert_eq!(held, pushed);
    println!("trust: the thief then pushed the camera's epoch to {pushed} with its key");

    // The owner recovers with the recovery key and revokes every other device.
    let recovered = recover(&h, "recovered", true);
    let reset = position(&recovered["key_position"]);
    assert!(reset.0 > thief_position.0, "{recovered}");
    let (epoch, sync) = sync_ok(&h, &cam);
    assert_eq!(epoch, published_epoch(&recovered, &cam));
    assert!(
        sync.stderr
            .contains(&format!("to reset {}, generation {}", reset.0, reset.1)),
        "{sync}"
    );
    let unshared = recovered["unshared"].as_array().unwrap();
    assert_eq!(unshared.len(), 2, "{recovered}");
    assert!(
        unshared.iter().all(|u| u["server_error"].is_null()),
        "{recovered}"
    );
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(
        &h,
        "recovered",
        &rec,
        &["recovered", TABLET, PHONE, ACCOMPLICE],
    );
    assert_eq!(opened, ["recovered"]);
    let fetched = [ACCOMPLICE, SILENT].map(|who| h.download(who, rec.event, "thumbnail").is_ok());
    assert_eq!(
        fetched,
        [false, false],
        "the server still shares the camera"
    );
    println!(
        "trust: `sealcam recover --revoke-others` reset the owner key to {reset:?} and withdrew both of the thief's shares; the camera took it (epoch {epoch}); of the recovered device, the tablet, the old phone and the thief's account, only {opened:?} opened the new recording, and the server refuses it to both of the thief's accounts; the tablet's next command exited {:?}",
        locked_out(&h, TABLET)
    );

    // The thief rotates again from the key it holds, through the database.
    let tablet = steal(&h, TABLET);
    let db = Db::open(&h);
    let mut log = KeyLog::from_bytes(&db.key_log(h.account)).unwrap();
    let next = OwnerSigningKey::generate();
    let rotation =
        KeyStatement::rotation(&tablet.keys(), &tablet.owner_key, next.public(), unix_now())
            .unwrap();
    let forged_at = (rotation.reset_count(), rotation.generation());
    log.push(rotation).unwrap();
    db.put_key_log(h.account, &log.to_bytes());
    let forged = tablet.forge_set_with(cam.id, epoch + 1, &next, forged_at);
    db.put_set(cam.id, i64::try_from(epoch + 1).unwrap(), &forged);
    let sync = h.device(&cam, &["sync"]).unwrap_or_else(fail);
    assert!(!sync.success(), "{sync}");
    assert_eq!(sync_epoch(&sync), Some(epoch), "{sync}");
    assert!(!sync.stderr.contains("owner key moved"), "{sync}");
    assert!(
        sync.stderr.contains(&format!(
            "REFUSED a recipient set: {}",
            RecipientSetError::NotSignedByPinnedOwner
        )),
        "{sync}"
    );
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened_after = openers(&h, "recovered", &rec, &["recovered", TABLET]);
    assert_eq!(opened_after, ["recovered"]);
    println!(
        "trust: a rotation the tablet forged from its key to {forged_at:?} and a set signed by it, written into the database: the camera stayed at {reset:?} and epoch {epoch} ({}); the tablet opened {} of 1 new recording(s)",
        RecipientSetError::NotSignedByPinnedOwner,
        usize::from(opened_after.contains(&TABLET))
    );
    // The thief deleted the phone's credential: the phone is refused (exit 7)
    // and told that a takeover is the other reason, and what undoes it.
    assert_eq!(
        phone.code,
        Some(7),
        "the hijacked phone is not told the account may have been taken over: {phone}"
    );
    assert!(
        phone.stderr.contains("took over the account")
            && phone.stderr.contains("sealcam recover --revoke-others"),
        "{phone}"
    );
}
