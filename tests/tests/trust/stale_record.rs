//! A server that replays an older owner record to another owner device.
//!
//! Unsharing a camera publishes a set without the member but does not
//! rotate the owner key: an owner record from before the unshare is still
//! signed by the current key, and every owner device takes it as long as it
//! is not older than the one that device saw last. The tablet, which last
//! read the record before the share, is handed the record from while the
//! camera was shared; when it next publishes sets (here: approving a new
//! device), the member must not be in them; a member the tablet itself
//! adds is.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealcam_e2e::household::PHONE;
use sealcam_e2e::trust_kit::{
    fail, household_with_tablet, openers, sealcam_ok, sync_ok, Db, TABLET,
};
use uuid::Uuid;

const MEMBER: &str = "member";
const LAPTOP: &str = "laptop";
const OTHER: &str = "neighbour";

#[test]
fn a_replayed_record_does_not_share_a_camera_again() {
    let (h, cam) = household_with_tablet();
    let db = Db::open(&h);
    let account: Uuid = sealcam_ok(&h, PHONE, &["whoami", "--json"])["account_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    h.other_account(MEMBER).unwrap_or_else(fail);
    let who = sealcam_ok(&h, MEMBER, &["whoami", "--json"]);
    let code = who["member_code"].as_str().unwrap().to_owned();
    let member_account = who["account_id"].as_str().unwrap().to_owned();

    // The phone shares the camera, the server keeps that record, the phone
    // unshares it.
    sealcam_ok(&h, PHONE, &["share", "door", "--with", &code, "--json"]);
    let while_shared = db.account_record(account, "viewers");
    sealcam_ok(
        &h,
        PHONE,
        &["unshare", "door", "--with", &member_account, "--json"],
    );
    let (unshared_epoch, _) = sync_ok(&h, &cam);

    // The server hands the tablet the record from while it was shared; the
    // tablet approves a new device, which publishes the camera's set again.
    db.put_owner_record(account, &while_shared);
    h.link(TABLET, LAPTOP).unwrap_or_else(fail);
    let (epoch, _) = sync_ok(&h, &cam);
    assert!(epoch > unshared_epoch, "the tablet published no new set");
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(&h, PHONE, &rec, &[PHONE, TABLET, LAPTOP, MEMBER]);
    println!(
        "tried: the server replays the owner record from before the unshare to the tablet, \
         which then publishes the camera's set (epoch {epoch}, after the unshare's {unshared_epoch}); \
         the next recording opens for {opened:?}"
    );
    assert!(
        !opened.contains(&MEMBER),
        "the unshared member opens a recording made after the replay: {opened:?}"
    );
    assert!(
        opened.contains(&LAPTOP) && opened.contains(&TABLET),
        "{opened:?}"
    );

    // A share made on the tablet still reaches the member it adds.
    h.other_account(OTHER).unwrap_or_else(fail);
    let other = sealcam_ok(&h, OTHER, &["whoami", "--json"]);
    let other_code = other["member_code"].as_str().unwrap().to_owned();
    sealcam_ok(
        &h,
        TABLET,
        &["share", "door", "--with", &other_code, "--json"],
    );
    sync_ok(&h, &cam);
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(&h, PHONE, &rec, &[PHONE, MEMBER, OTHER]);
    println!("after the tablet shares the camera with another member: {opened:?}");
    assert_eq!(opened, [PHONE, OTHER]);
}
