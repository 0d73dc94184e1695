//! Pairing codes against a server that lists the registrations it likes: a
//! code the owner device kept past its day confirms nothing (found by
//! review: a kept code confirmed, months later, a camera registered by
//! whoever saw it, whatever expiry the server had given the claim), and one
//! code confirms one camera, however many ids the server lists its
//! registration under.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use bytes::Bytes;
use sealcam_e2e::household::{Camera, Household, Run, PHONE};
use sealcam_e2e::proxy::FnHook;
use sealcam_e2e::trust_kit::{fail, proxy_in_front, sealcam_ok};
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

/// A pairing code for a camera `porch`, made on the phone.
fn pairing_code(h: &Household) -> String {
    let made = sealcam_ok(h, PHONE, &["pair", "--name", "porch", "--no-qr", "--json"]);
    made["code"].as_str().unwrap().to_owned()
}

/// Registers a camera `porch` with `code` (`sealcam-device pair`).
fn register_porch(h: &Household, code: &str) {
    let cam = Camera {
        name: "porch".into(),
        state: h.path("cam-porch"),
        id: Uuid::nil(),
    };
    h.device(&cam, &["pair", code])
        .and_then(Run::checked)
        .unwrap_or_else(fail);
}

/// `sealcam cameras confirm --json` on the phone, and the outcomes it printed.
fn confirm(h: &Household) -> (Run, serde_json::Value) {
    let run = h
        .sealcam(PHONE, &["cameras", "confirm", "--json"])
        .unwrap_or_else(fail);
    let printed = serde_json::from_str(run.stdout.lines().next().unwrap_or_default()).unwrap();
    (run, printed)
}

#[test]
fn a_pairing_code_older_than_a_day_confirms_nothing() {
    let h = Household::start().unwrap_or_else(fail);
    let code = pairing_code(&h);
    age_pairings(&h, PHONE, 2 * 24 * 3600);
    // Whoever kept the code registers a camera of its own with it (the
    // server's claim is still open: a lying server keeps it open for ever).
    register_porch(&h, &code);
    let (run, confirmed) = confirm(&h);
    assert_eq!(run.code, Some(8), "the camera was confirmed: {run}");
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

#[test]
fn a_registration_listed_under_two_ids_confirms_one_camera() {
    let h = Household::start().unwrap_or_else(fail);
    let code = pairing_code(&h);
    register_porch(&h, &code);
    // The server lists the one registration twice: the camera's own id,
    // then a second id of its making (a camera it would run itself, under
    // the key and proof the real one sent).
    let ghost = Uuid::new_v4();
    let front = proxy_in_front(&h, PHONE);
    front.proxy.set_hook(Arc::new(FnHook::rewriting(
        |r| r.method.as_str() == "GET" && r.path == "/v1/cameras",
        move |_, _, body| {
            let mut list: serde_json::Value = serde_json::from_slice(&body).ok()?;
            let cameras = list["cameras"].as_array_mut()?;
            let mut twin = cameras.iter().find(|c| c["status"] == "pending")?.clone();
            twin["camera_id"] = ghost.to_string().into();
            cameras.push(twin);
            Some(Bytes::from(serde_json::to_vec(&list).ok()?))
        },
    )));
    let (run, answered) = confirm(&h);
    let outcomes: Vec<_> = answered["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["camera_id"].as_str().unwrap().to_owned(),
                c["outcome"].clone(),
            )
        })
        .collect();
    println!(
        "trust: pairing: the server listed one registration under two ids; `sealcam cameras confirm` (exit {:?}) answered {outcomes:?}",
        run.code
    );
    assert_eq!(outcomes.len(), 2, "{answered}");
    assert_eq!(outcomes[0].1, "confirmed", "{answered}");
    assert_eq!(
        outcomes[1],
        (ghost.to_string(), "refused".into()),
        "{answered}"
    );
    assert!(
        answered["cameras"][1]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("its code confirmed another camera already"),
        "{answered}"
    );
}
