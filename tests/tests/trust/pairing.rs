//! Pairing codes against a server that lists the registrations it likes: a
//! code the owner device kept past its day confirms nothing (found by
//! review: a kept code confirmed, months later, a camera registered by
//! whoever saw it, whatever expiry the server had given the claim).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealcam_e2e::household::{Camera, Household, Run, PHONE};
use sealcam_e2e::trust_kit::{fail, sealcam_ok};
use sealcam_keys::secret_file;
use uuid::Uuid;

/// Moves the times every pairing kept in `home` notes (when it was made,
/// and the claim's expiry) `secs` back.
fn age_pairings(h: &Household, home: &str, secs: i64) {
    let dir = h.path(home).join("pairings");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let mut kept: serde_json::Value =
            serde_json::from_slice(&secret_file::read(&path).unwrap()).unwrap();
        for field in ["made_at", "expires_at"] {
            if let Some(t) = kept[field].as_i64() {
                kept[field] = (t - secs).into();
            }
        }
        secret_file::write(&path, kept.to_string().as_bytes()).unwrap();
    }
}

#[test]
fn a_pairing_code_older_than_a_day_confirms_nothing() {
    let h = Household::start().unwrap_or_else(fail);
    let code = sealcam_ok(&h, PHONE, &["pair", "--name", "porch", "--no-qr", "--json"]);
    let code = code["code"].as_str().unwrap().to_owned();
    age_pairings(&h, PHONE, 2 * 24 * 3600);
    // Whoever kept the code registers a camera of its own with it (the
    // server's claim is still open: a lying server keeps it open for ever).
    let cam = Camera {
        name: "porch".into(),
        state: h.path("cam-porch"),
        id: Uuid::nil(),
    };
    h.device(&cam, &["pair", &code])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
    let run = h
        .sealcam(PHONE, &["cameras", "confirm", "--json"])
        .unwrap_or_else(fail);
    assert_eq!(run.code, Some(8), "the camera was confirmed: {run}");
    let confirmed: serde_json::Value =
        serde_json::from_str(run.stdout.lines().next().unwrap_or_default()).unwrap();
    let outcome = confirmed["cameras"][0].clone();
    println!(
        "trust: pairing: a camera registered with a code the phone made two days before; `sealcam cameras confirm` answered {outcome}"
    );
    assert_eq!(outcome["outcome"], "refused", "{confirmed}");
    assert!(
        outcome["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("more than 24 hours ago"),
        "{confirmed}"
    );
}
