//! `sealcam export`: 50 events (thumbnail, clip, record) into a folder over
//! a slow link, killed with SIGKILL part-way, run again: it resumes, and
//! every file's SHA-256 is that of what the camera sealed.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sealcam_e2e::{Fault, Hook, RequestInfo};
use sha2::{Digest as _, Sha256};

use super::{record, World};

const EVENTS: usize = 50;

/// A slow link: every part download waits a little first.
struct SlowParts;

impl Hook for SlowParts {
    fn fault(&self, req: &RequestInfo) -> Option<Fault> {
        req.path
            .contains("/parts/")
            .then_some(Fault::Stall(Duration::from_millis(40)))
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn manifest(dir: &std::path::Path) -> Option<serde_json::Value> {
    let bytes = std::fs::read(dir.join("manifest.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[test]
fn export_resumes_after_sigkill_and_every_file_matches_what_was_sealed() {
    let (mut w, mut cam) = World::start();
    let fingerprint = cam.device_public_key().unwrap().fingerprint();
    let mut expected: BTreeMap<(String, &str), String> = BTreeMap::new();
    for i in 0..EVENTS {
        let r = record(
            if i % 3 == 0 { "person" } else { "motion" },
            &[],
            Some(1000),
        );
        let s = w.record(&mut cam, Some(&r), 24 * 1024 + i * 512);
        let id = s.event.to_string();
        expected.insert((id.clone(), "thumbnail"), sha256_hex(&s.thumbnail));
        expected.insert((id.clone(), "clip"), sha256_hex(s.clip.as_ref().unwrap()));
        expected.insert((id, "record"), sha256_hex(s.record.as_ref().unwrap()));
    }
    let total = expected.len();
    let dir = w.h.path("export");
    let dir_s = dir.to_str().unwrap().to_owned();
    let args = [
        "export", "--camera", "porch", "--since", "1d", "-o", &dir_s, "--json",
    ];

    // 1. Over a slow link, killed once a third of the files are out.
    w.h.proxy.set_hook(Arc::new(SlowParts));
    let mut child = w
        .command(w.owner.home(), &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let written_before_kill = loop {
        let n = manifest(&dir).map_or(0, |m| m["files"].as_array().unwrap().len());
        if n >= total / 3 {
            break n;
        }
        assert!(Instant::now() < deadline, "the export made no progress");
        assert!(child.try_wait().unwrap().is_none(), "export ended early");
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let interrupted = manifest(&dir).unwrap();
    assert_eq!(interrupted["complete"], false);
    let listed = interrupted["files"].as_array().unwrap().len();
    assert!(
        listed < total,
        "the export finished before it could be killed"
    );
    println!(
        "export: killed with SIGKILL after {listed} of {total} files were in the manifest ({written_before_kill} seen before the kill)"
    );

    // 2. Run again at full speed: it resumes.
    w.h.proxy.clear_hook();
    let run = w.sealcam(&args).checked().unwrap();
    let outcome = run.json().unwrap()["export"].clone();
    println!("export: second run {outcome}");
    let kept = outcome["kept"].as_u64().unwrap() as usize;
    let written = outcome["written"].as_u64().unwrap() as usize;
    assert!(kept >= listed, "{outcome}");
    assert_eq!(kept + written, total, "{outcome}");
    assert_eq!(outcome["refused"], 0);

    // 3. Every file verified and hashing to what the camera sealed.
    let m = manifest(&dir).unwrap();
    assert_eq!(m["version"], 1);
    assert_eq!(m["complete"], true);
    assert_eq!(m["device_key_fingerprint"], fingerprint.as_str());
    let files = m["files"].as_array().unwrap();
    assert_eq!(files.len(), total);
    let mut seen = BTreeSet::new();
    for f in files {
        let key = (
            f["event_id"].as_str().unwrap().to_owned(),
            f["kind"].as_str().unwrap().to_owned(),
        );
        let want = &expected[&(key.0.clone(), key.1.as_str())];
        let bytes = std::fs::read(dir.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(&sha256_hex(&bytes), want, "{f}");
        assert_eq!(f["sha256"].as_str().unwrap(), want);
        assert_eq!(f["bytes"].as_u64().unwrap(), bytes.len() as u64);
        assert_eq!(f["device_key_fingerprint"], fingerprint.as_str());
        assert!(f["content_type"].as_str().is_some_and(|c| !c.is_empty()));
        assert!(seen.insert(key), "listed twice: {f}");
    }
    // Nothing half-written is left behind.
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // 4. A third run writes nothing: everything is there and still hashes.
    let again = w.sealcam(&args).checked().unwrap().json().unwrap()["export"].clone();
    assert_eq!(again["written"], 0, "{again}");
    assert_eq!(again["kept"].as_u64().unwrap() as usize, total);
}
