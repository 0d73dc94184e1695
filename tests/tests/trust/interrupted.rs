//! A revocation that stops part-way, against the real binaries only (the
//! setup is described in `sealcam_e2e::trust_kit`; a third owner device,
//! `laptop`, watches from the side).
//!
//! The phone revokes the tablet through the fault proxy, which breaks one
//! of the revocation's writes: refused with a 503 (nothing written) or
//! forwarded and answered 504, as a gateway that gave up waiting (written,
//! the phone never hears so).
//! Each write is broken in its own household: the key log, the key bundle,
//! the camera's recipient set, the owner record, the credential deletion.
//! Stopped there, the account was stuck: the laptop refused the record the
//! retired key signed (exit 8), the phone too, and the camera kept sealing
//! to the tablet. Now the phone's next command finishes the revocation (it
//! kept what it needs in `revocation.json`), and afterwards the laptop
//! works, the tablet is locked out, and the next recording opens for the
//! phone and the laptop only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use sealcam_e2e::household::{Household, Run, PHONE};
use sealcam_e2e::proxy::{Fault, Hook, Proxy, Reply, RequestInfo};
use sealcam_e2e::trust_kit::{
    bundle_opens, fail, household_with_tablet, locked_out, openers, sync_ok, TABLET,
};

const LAPTOP: &str = "laptop";

/// How the proxy breaks the requests a [`Break`] selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// Answer 503 instead of the server: nothing is written.
    Refuse,
    /// Forward, then answer 504: written, never acknowledged.
    Lost,
}

/// Breaks every request with `method` whose path starts with `prefix`.
struct Break {
    method: &'static str,
    prefix: &'static str,
    how: How,
}

impl Break {
    fn hits(&self, req: &RequestInfo) -> bool {
        req.method.as_str() == self.method && req.path.starts_with(self.prefix)
    }
}

impl Hook for Break {
    fn fault(&self, req: &RequestInfo) -> Option<Fault> {
        (self.how == How::Lost && self.hits(req)).then_some(Fault::LostAnswer)
    }

    fn answer(&self, req: &RequestInfo) -> Option<Reply> {
        (self.how == How::Refuse && self.hits(req)).then(|| Reply::new(503, "fault proxy: refused"))
    }
}

/// The household (phone, tablet, laptop, camera `door`) with the phone
/// talking to the server through a fault proxy.
struct Setup {
    h: Household,
    cam: sealcam_e2e::household::Camera,
    proxy: Proxy,
    _rt: tokio::runtime::Runtime,
}

fn setup() -> Setup {
    let (h, cam) = household_with_tablet();
    h.link(PHONE, LAPTOP).unwrap_or_else(fail);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let proxy = rt.block_on(Proxy::start(Some(h.url.clone()))).unwrap();
    let device = h.path(PHONE).join("device.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&device).unwrap()).unwrap();
    json["server_url"] = proxy.url().into();
    std::fs::write(&device, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    Setup {
        h,
        cam,
        proxy,
        _rt: rt,
    }
}

/// Revokes the tablet from the phone with `broken` broken, then runs
/// `next` on the phone with the proxy healed, and checks that the
/// revocation took effect everywhere.
fn interrupted_then_finished(what: &str, broken: Break, next: &[&str]) {
    let Setup { h, cam, proxy, _rt } = setup();
    let how = broken.how;
    proxy.set_hook(Arc::new(broken));
    let run = h
        .sealcam(PHONE, &["viewers", "revoke", TABLET, "--json"])
        .unwrap_or_else(fail);
    assert!(!run.success(), "the revocation did not stop: {run}");
    assert!(
        run.stderr
            .contains("the next `sealcam` command on this device finishes it"),
        "{run}"
    );
    assert!(h.path(PHONE).join("revocation.json").exists());
    let laptop_then = h.sealcam(LAPTOP, &["cameras", "list"]).unwrap_or_else(fail);
    println!(
        "trust: interrupted: {what} ({how:?}): `sealcam viewers revoke tablet` stopped (exit {:?}); the laptop then: exit {:?}",
        run.code, laptop_then.code
    );

    proxy.clear_hook();
    let finished = h.sealcam(PHONE, next).unwrap_or_else(fail);
    assert!(finished.success(), "{finished}");
    assert!(
        finished.stderr.contains("finished revoking \"tablet\""),
        "{finished}"
    );
    assert!(!h.path(PHONE).join("revocation.json").exists());
    if next[..2] == ["viewers", "revoke"] {
        let out = finished.json().unwrap_or_else(fail);
        assert_eq!(out["revoked"]["name"], TABLET, "{out}");
    }

    // The laptop follows the new owner key and reads the record it signed.
    let laptop = h
        .sealcam(LAPTOP, &["viewers", "list", "--json"])
        .and_then(Run::checked)
        .unwrap_or_else(fail)
        .json()
        .unwrap_or_else(fail);
    let names: Vec<&str> = laptop["viewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [PHONE, LAPTOP], "{laptop}");
    // Its credential is deleted (7), not only its key bundle withheld (8).
    let tablet_code = locked_out(&h, TABLET);
    assert_eq!(
        tablet_code,
        Some(7),
        "the tablet's credential is still live"
    );
    assert!(!bundle_opens(&h, TABLET));
    assert!(bundle_opens(&h, LAPTOP));

    let (epoch, _) = sync_ok(&h, &cam);
    let (rec, _) = h.record(&cam).unwrap_or_else(fail);
    let opened = openers(&h, LAPTOP, &rec, &[PHONE, LAPTOP, TABLET]);
    assert_eq!(opened, [PHONE, LAPTOP]);
    println!(
        "trust: interrupted: {what} ({how:?}): `sealcam {}` on the phone finished it; the laptop reads the record (viewers {names:?}), the tablet is locked out (exit {tablet_code:?}), the camera took epoch {epoch}, and its next recording opens for {opened:?} only",
        next.join(" ")
    );
}

const REVOKE_AGAIN: &[&str] = &["viewers", "revoke", TABLET, "--json"];
const ANY_COMMAND: &[&str] = &["cameras", "list"];

#[test]
fn a_revocation_whose_key_log_write_is_refused_starts_over() {
    let broken = Break {
        method: "PUT",
        prefix: "/v1/account/key-log",
        how: How::Refuse,
    };
    interrupted_then_finished("the key log write", broken, REVOKE_AGAIN);
}

#[test]
fn a_revocation_whose_key_log_answer_is_lost_is_finished() {
    let broken = Break {
        method: "PUT",
        prefix: "/v1/account/key-log",
        how: How::Lost,
    };
    interrupted_then_finished("the key log write", broken, ANY_COMMAND);
}

#[test]
fn a_revocation_whose_key_bundle_write_is_refused_is_finished() {
    let broken = Break {
        method: "PUT",
        prefix: "/v1/account/key-bundle",
        how: How::Refuse,
    };
    interrupted_then_finished("the key bundle write", broken, REVOKE_AGAIN);
}

#[test]
fn a_revocation_whose_recipient_set_write_is_refused_is_finished() {
    let broken = Break {
        method: "PUT",
        prefix: "/v1/cameras/",
        how: How::Refuse,
    };
    interrupted_then_finished("the recipient set write", broken, ANY_COMMAND);
}

#[test]
fn a_revocation_whose_owner_record_write_is_refused_is_finished() {
    let broken = Break {
        method: "PUT",
        prefix: "/v1/account/viewers",
        how: How::Refuse,
    };
    interrupted_then_finished("the owner record write", broken, REVOKE_AGAIN);
}

#[test]
fn a_revocation_whose_owner_record_answer_is_lost_is_finished() {
    let broken = Break {
        method: "PUT",
        prefix: "/v1/account/viewers",
        how: How::Lost,
    };
    interrupted_then_finished("the owner record write", broken, ANY_COMMAND);
}

#[test]
fn a_revocation_whose_credential_deletion_is_refused_is_finished() {
    let broken = Break {
        method: "DELETE",
        prefix: "/v1/devices/",
        how: How::Refuse,
    };
    interrupted_then_finished("deleting the credentials", broken, REVOKE_AGAIN);
}
