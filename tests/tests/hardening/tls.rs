//! TLS by default: a household whose server terminates TLS itself with a
//! test CA — `sealcam init --server https://…`, a camera pairing, recording
//! and a viewer opening, all pinned to that CA — and what is refused: the
//! same server without the pin, plain `http://` to a non-loopback address,
//! and a certificate reload that would break the server.

use std::time::Instant;

use sealcam_e2e::household::{Camera, Household, PHONE};
use sealcam_e2e::pki::{presented_leaf, TestPki};
use sealcam_keys::PairingCode;

#[test]
fn a_household_speaks_https_to_the_servers_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::new(&dir.path().join("pki")).unwrap();
    let h = Household::start_tls(dir, &pki).unwrap();
    assert!(h.url.starts_with("https://127.0.0.1:"), "{}", h.url);

    // init ran over TLS (Household::start_tls); a camera pairs, records and
    // the owner opens its thumbnail, every hop pinned to the test CA.
    let cam = h.pair_camera(PHONE, "porch").unwrap();
    let (rec, _) = h.record(&cam).unwrap();
    assert_eq!(
        h.fetch_part(PHONE, &rec.event.to_string(), "thumbnail")
            .unwrap(),
        rec.thumbnail
    );
    let whoami = h
        .sealcam(PHONE, &["whoami", "--json"])
        .unwrap()
        .checked()
        .unwrap();
    assert!(whoami.stdout.contains(&h.url), "{whoami}");

    // Without the pin the test CA is unknown: refused, nothing set up.
    let token = sealcam_e2e::process::create_account(&h.bins.server, &h.data, "nopin").unwrap();
    let mut cmd = std::process::Command::new(&h.bins.cli);
    cmd.env("SEALCAM_HOME", h.path("nopin"))
        .env_remove("SEALCAM_CA_FILE")
        .args(["init", "--server", &h.url, "--token", &token]);
    let unpinned = sealcam_e2e::process::run(cmd, "sealcam init (no CA pin)").unwrap();
    assert!(!unpinned.success(), "{unpinned}");
    assert!(!h.path("nopin").join("device.json").exists());
    println!(
        "hardening: tls: init, pair, record and fetch over https with the pinned test CA; without the pin: refused (exit {:?})",
        unpinned.code
    );
}

#[test]
fn plain_http_off_loopback_is_refused_before_any_connection() {
    let h = Household::start().unwrap();
    for server in ["http://192.0.2.10:7443", "http://cams.example.net"] {
        let started = Instant::now();
        let run = h
            .sealcam(
                "lan",
                &["init", "--server", server, "--token", "sce_whatever"],
            )
            .unwrap();
        assert!(!run.success(), "{run}");
        let said = run.all_output();
        assert!(
            said.contains("refusing plain http://") && said.contains("--allow-http"),
            "{run}"
        );
        // Refused from the URL alone: no connection attempt to a
        // black-holed address (which would take the connect timeout).
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
        println!(
            "hardening: tls: `sealcam init --server {server}` refused: plain http off loopback"
        );
    }
    // The camera refuses a pairing code that names plain http off loopback
    // (an owner's app, or whoever printed the code, pointing it at a server
    // on the internet without TLS), before sending its key anywhere.
    let code = h
        .sealcam(PHONE, &["pair", "--name", "cam", "--no-qr", "--json"])
        .unwrap()
        .checked()
        .unwrap()
        .json()
        .unwrap();
    let mut code = PairingCode::from_text(code["code"].as_str().unwrap()).unwrap();
    code.server_url = "http://192.0.2.10:7443".into();
    let cam = Camera {
        name: "cam".into(),
        state: h.path("cam-http"),
        id: uuid::Uuid::nil(),
    };
    let started = Instant::now();
    let run = h.device(&cam, &["pair", &code.to_text().unwrap()]).unwrap();
    assert!(!run.success(), "{run}");
    assert!(run.all_output().contains("refusing plain http://"), "{run}");
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    println!("hardening: tls: a camera given a pairing code for http://192.0.2.10:7443 refused it before connecting");
}

#[test]
fn sighup_reloads_the_certificate_and_a_broken_one_is_not_taken() {
    let dir = tempfile::tempdir().unwrap();
    let mut pki = TestPki::new(&dir.path().join("pki")).unwrap();
    let h = Household::start_tls(dir, &pki).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = h.server.addr().to_owned();
    let first = rt.block_on(presented_leaf(&addr, &pki.ca_file)).unwrap();

    // A renewal: new files, then SIGHUP.
    let renewed = pki.issue().unwrap();
    assert_ne!(first, renewed);
    h.server.hangup().unwrap();
    let served = wait_for_leaf(&rt, &addr, &pki, |leaf| leaf == renewed);
    assert_eq!(
        served, renewed,
        "the renewed certificate is not served after SIGHUP"
    );

    // A broken key file: SIGHUP is refused, the renewed certificate stays.
    std::fs::write(&pki.key_file, b"not a key").unwrap();
    h.server.hangup().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let still = rt.block_on(presented_leaf(&addr, &pki.ca_file)).unwrap();
    assert_eq!(still, renewed);
    // And the household still works over it.
    h.sealcam(PHONE, &["cameras", "list"])
        .unwrap()
        .checked()
        .unwrap();
    println!("hardening: tls: SIGHUP served the renewed certificate; a broken key on SIGHUP was refused and the previous certificate stayed");
}

fn wait_for_leaf(
    rt: &tokio::runtime::Runtime,
    addr: &str,
    pki: &TestPki,
    done: impl Fn(&[u8]) -> bool,
) -> Vec<u8> {
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let leaf = rt.block_on(presented_leaf(addr, &pki.ca_file)).unwrap();
        if done(&leaf) || Instant::now() > deadline {
            return leaf;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
