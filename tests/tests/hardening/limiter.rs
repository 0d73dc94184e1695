//! The failed-authentication limiter never refuses a valid credential: after
//! 100 failures from 127.0.0.1 the bogus attempts are answered `429` with
//! `Retry-After`, while the household's phone and camera, from the very same
//! address, go on working.

use reqwest::Method;
use sealcam_e2e::household::{Household, PHONE};

#[test]
fn a_valid_credential_passes_after_100_failures_from_its_address() {
    let h = Household::start().unwrap();
    let cam = h.pair_camera(PHONE, "porch").unwrap();
    let bogus = format!("scv_{}", "A".repeat(43));
    let (mut unauthorized, mut limited) = (0, 0);
    for _ in 0..100 {
        let (status, _) = h
            .request(Method::GET, "/v1/cameras", Some(&bogus), None)
            .unwrap();
        match status {
            401 => unauthorized += 1,
            429 => limited += 1,
            other => panic!("a bogus credential got {other}"),
        }
    }
    assert!(limited > 0, "100 failures never reached the limit");

    // The phone's credential, from the same address, right after.
    let phone = h.credential(PHONE).unwrap();
    let (status, body) = h
        .request(Method::GET, "/v1/cameras", Some(&phone), None)
        .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    h.sealcam(PHONE, &["cameras", "list"])
        .unwrap()
        .checked()
        .unwrap();
    // The camera records and uploads.
    h.record(&cam).unwrap();
    // A bogus one is still told to back off.
    let (status, _) = h
        .request(Method::GET, "/v1/cameras", Some(&bogus), None)
        .unwrap();
    assert_eq!(status, 429);
    println!(
        "hardening: limiter: 100 bogus credentials from 127.0.0.1 answered {unauthorized}×401 then {limited}×429; the phone's credential from the same address: 200, `sealcam cameras list` and a camera upload worked"
    );
}
