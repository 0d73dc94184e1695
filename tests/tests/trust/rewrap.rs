//! Owner trust v2 under attack: a server lying during the re-wraps of
//! `grant-history` and `recover` (docs/PROTOCOL.md, "Owner trust v2"; the
//! setup, the attacker and the colluding server are described in
//! `sealcam_e2e::trust_kit`), against the real binaries only.
//!
//! 1. header swaps between two cameras during `grant-history` and `recover`
//!    (the server serves one part's header row for the other's, key, size
//!    and hash together) → the swapped parts are refused and nothing is
//!    re-wrapped for them;
//! 2. a month-old recording listed as recent during `grant-history --days 1`
//!    → refused on the capture time the camera signed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rusqlite::params;
use sealcam_e2e::household::{Household, PHONE};
use sealcam_e2e::trust_kit::{fail, recover, sealcam_ok, Db, HeaderRow};
use serde_json::Value;
use uuid::Uuid;

#[test]
fn header_swap_during_grant_and_recover_rewraps_nothing() {
    let h = Household::start().unwrap_or_else(fail);
    let a = h.pair_camera(PHONE, "door").unwrap_or_else(fail);
    let b = h.pair_camera(PHONE, "garage").unwrap_or_else(fail);
    let (ra, _) = h.record(&a).unwrap_or_else(fail);
    let (rb, _) = h.record(&b).unwrap_or_else(fail);
    let parts: Vec<(Uuid, &str)> = [ra.event, rb.event]
        .into_iter()
        .flat_map(|e| [(e, "thumbnail"), (e, "record")])
        .collect();

    // A household member, shared camera A (recorded before the share).
    let member = h.other_account("member").unwrap_or_else(fail);
    let who = sealcam_ok(&h, "member", &["whoami", "--json"]);
    let code = who["member_code"].as_str().unwrap();
    sealcam_ok(&h, PHONE, &["share", "door", "--with", code, "--json"]);
    let member = member.to_string();

    let mut db = Db::open(&h);
    let swapped = [(ra.event, "thumbnail"), (rb.event, "thumbnail")];

    // 1. A history grant while the server swaps the two thumbnails' headers.
    let before: Vec<HeaderRow> = parts.iter().map(|p| db.header(p.0, p.1)).collect();
    db.swap_headers(swapped[0], swapped[1]);
    let during: Vec<HeaderRow> = parts.iter().map(|p| db.header(p.0, p.1)).collect();
    let grant = sealcam_ok(
        &h,
        PHONE,
        &["grant-history", &member, "--days", "1", "--json"],
    )["granted"]
        .clone();
    let count = |v: &Value, k: &str| v[k].as_u64().unwrap();
    assert_eq!(count(&grant, "refused"), 2, "{grant}");
    assert_eq!(
        count(&grant, "rewrapped"),
        parts.len() as u64 - 2,
        "{grant}"
    );
    assert_eq!(count(&grant, "skipped"), 0, "{grant}");
    let after: Vec<HeaderRow> = parts.iter().map(|p| db.header(p.0, p.1)).collect();
    let untouched = parts
        .iter()
        .zip(during.iter().zip(&after))
        .filter(|(p, (d, a))| swapped.contains(p) && d == a)
        .count();
    assert_eq!(untouched, 2, "a swapped part's header was rewritten");
    db.swap_headers(swapped[0], swapped[1]);
    for (i, p) in parts.iter().enumerate() {
        if swapped.contains(p) {
            assert_eq!(db.header(p.0, p.1), before[i], "swap undone");
        }
    }
    // Who opens what now, with the stock age.
    let opens = |home: &str, (event, kind): (Uuid, &str)| {
        let object = h.download(PHONE, event, kind).unwrap_or_else(fail);
        let plain: &[u8] = match kind {
            "thumbnail" if event == ra.event => &ra.thumbnail,
            "thumbnail" => &rb.thumbnail,
            _ => b"person",
        };
        h.age_opens(home, &object, plain).unwrap_or_else(fail)
    };
    let member_home = "member";
    let member_opens: Vec<bool> = parts.iter().map(|p| opens(member_home, *p)).collect();
    let expected: Vec<bool> = parts.iter().map(|p| !swapped.contains(p)).collect();
    assert_eq!(member_opens, expected, "what the member opens: {parts:?}");
    assert!(
        parts.iter().all(|p| opens(PHONE, *p)),
        "the phone opens everything"
    );
    println!(
        "trust: grant-history to the member while the server swapped camera A's and camera B's thumbnail headers: re-wrapped {}, skipped {}, refused {}; the swapped rows kept their headers ({untouched} of 2 untouched); the member's identity opens {} of {} parts and neither thumbnail (camera B's header got no stanza for it)",
        count(&grant, "rewrapped"),
        count(&grant, "skipped"),
        count(&grant, "refused"),
        member_opens.iter().filter(|o| **o).count(),
        parts.len()
    );

    // 2. A recovery while the server swaps them again.
    db.swap_headers(swapped[0], swapped[1]);
    let during: Vec<HeaderRow> = parts.iter().map(|p| db.header(p.0, p.1)).collect();
    let recovered = recover(&h, "recovered", false);
    let history = &recovered["history"];
    assert_eq!(count(history, "refused"), 2, "{recovered}");
    assert_eq!(
        count(history, "rewrapped"),
        parts.len() as u64 - 2,
        "{recovered}"
    );
    let after: Vec<HeaderRow> = parts.iter().map(|p| db.header(p.0, p.1)).collect();
    let untouched = parts
        .iter()
        .zip(during.iter().zip(&after))
        .filter(|(p, (d, a))| swapped.contains(p) && d == a)
        .count();
    assert_eq!(untouched, 2, "a swapped part's header was rewritten");
    db.swap_headers(swapped[0], swapped[1]);
    let recovered_opens: Vec<bool> = parts.iter().map(|p| opens("recovered", *p)).collect();
    assert_eq!(recovered_opens, expected, "what the recovered device opens");
    println!(
        "trust: `sealcam recover` while the server swapped them again: re-wrapped {}, skipped {}, refused {}; the swapped rows kept their headers ({untouched} of 2 untouched); the recovered identity opens {} of {} parts and neither thumbnail",
        count(history, "rewrapped"),
        count(history, "skipped"),
        count(history, "refused"),
        recovered_opens.iter().filter(|o| **o).count(),
        parts.len()
    );
}

#[test]
fn grant_window_is_judged_on_the_signed_capture_time() {
    let h = Household::start().unwrap_or_else(fail);
    let cam = h.pair_camera(PHONE, "door").unwrap_or_else(fail);
    let month_ago = i64::try_from(sealcam_keys::unix_now()).unwrap() - 30 * 86_400;
    let (old, _) = h.record_at(&cam, Some(month_ago)).unwrap_or_else(fail);
    let member = h.other_account("member").unwrap_or_else(fail).to_string();
    let who = sealcam_ok(&h, "member", &["whoami", "--json"]);
    let code = who["member_code"].as_str().unwrap();
    sealcam_ok(&h, PHONE, &["share", "door", "--with", code, "--json"]);
    let grant = |h: &Household| {
        sealcam_ok(
            h,
            PHONE,
            &["grant-history", &member, "--days", "1", "--json"],
        )["granted"]
            .clone()
    };
    let count = |v: &Value, k: &str| v[k].as_u64().unwrap();

    // An honest server does not list the month-old event for a one-day grant.
    let honest = grant(&h);
    assert_eq!(count(&honest, "rewrapped"), 0, "{honest}");

    // A lying server lists it as recorded now.
    let db = Db::open(&h);
    let now = i64::try_from(sealcam_keys::unix_now()).unwrap();
    let changed =
        db.0.execute(
            "UPDATE events SET captured_at = ?1 WHERE id = ?2",
            params![now - now % 60, old.event.to_string()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let lied = grant(&h);
    assert_eq!(count(&lied, "rewrapped"), 0, "{lied}");
    assert_eq!(count(&lied, "refused"), 2, "{lied}");
    let object = h
        .download(PHONE, old.event, "thumbnail")
        .unwrap_or_else(fail);
    let member_opens = h
        .age_opens("member", &object, &old.thumbnail)
        .unwrap_or_else(fail);
    assert!(
        !member_opens,
        "the member opens a recording outside its grant"
    );
    println!(
        "trust: a server that lists a month-old recording as recent during `grant-history --days 1`: re-wrapped {}, refused {} (the camera-signed capture time is outside the window); the member's identity opened it: {member_opens}",
        count(&lied, "rewrapped"),
        count(&lied, "refused")
    );
}
