//! The C2SP CCTV age vectors (vendored from `shared/vectors/age-cctv`, C2SP
//! CCTV `age/testdata` at 1e3d286, 0BSD/CC0): sealcam's own age header parser
//! and STREAM reader must give every vector's expected outcome and release
//! exactly the plaintext whose SHA-256 the vector names — with the X25519
//! stanzas unwrapped both by the age crate and by sealcam's own unwrapper
//! (`AgeHeader::unwrap_viewer`, which viewers use).
//!
//! Skipped, by name prefix, because sealcam does not implement them (it only
//! ever reads and writes binary X25519 age files):
//! - `armor_*`: ASCII armor;
//! - `scrypt*`: passphrase recipients;
//! - `hybrid*`: post-quantum ML-KEM-768+X25519 recipients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sealcam_format::age_header::{payload_key, AgeHeader};
use sealcam_format::stream::StreamDecryptor;
use sealcam_format::OpenError;
use sealcam_keys::ViewerIdentity;
use sha2::{Digest, Sha256};

const SKIPPED_PREFIXES: &[&str] = &["armor", "scrypt", "hybrid"];

struct Vector {
    expect: String,
    payload_sha256: Option<String>,
    identities: Vec<age::x25519::Identity>,
    data: Vec<u8>,
}

fn parse(path: &Path) -> Vector {
    let raw = std::fs::read(path).unwrap();
    let split = raw.windows(2).position(|w| w == b"\n\n").unwrap();
    let (head, body) = (
        std::str::from_utf8(&raw[..split]).unwrap(),
        &raw[split + 2..],
    );
    let mut v = Vector {
        expect: String::new(),
        payload_sha256: None,
        identities: vec![],
        data: vec![],
    };
    let mut compressed = false;
    for line in head.lines() {
        let (k, val) = line.split_once(": ").unwrap();
        match k {
            "expect" => v.expect = val.to_owned(),
            "payload" => v.payload_sha256 = Some(val.to_owned()),
            "identity" => v
                .identities
                .push(age::x25519::Identity::from_str(val).unwrap()),
            "compressed" => compressed = val == "zlib",
            _ => {}
        }
    }
    v.data = if compressed {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(body)
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        body.to_vec()
    };
    v
}

/// Whose X25519 unwrapping a run uses.
#[derive(Debug, Clone, Copy)]
enum Unwrapper {
    AgeCrate,
    Sealcam,
}

/// Decrypts like an age client; returns the outcome name and the plaintext
/// released before it.
fn decrypt(v: &Vector, with: Unwrapper) -> (&'static str, Vec<u8>) {
    use age::secrecy::ExposeSecret;
    let mut released = Vec::new();
    let header = match AgeHeader::parse(&v.data) {
        Ok(h) => h,
        Err(_) => return ("header failure", released),
    };
    let unwrapped = match with {
        Unwrapper::AgeCrate => {
            let ids: Vec<&dyn age::Identity> = v
                .identities
                .iter()
                .map(|i| i as &dyn age::Identity)
                .collect();
            header.unwrap(&ids)
        }
        Unwrapper::Sealcam => {
            let ids: Vec<ViewerIdentity> = v
                .identities
                .iter()
                .map(|i| ViewerIdentity::from_secret_text(i.to_string().expose_secret()).unwrap())
                .collect();
            let refs: Vec<&ViewerIdentity> = ids.iter().collect();
            header.unwrap_viewer(&refs, None)
        }
    };
    let file_key = match unwrapped {
        Ok(k) => k,
        Err(OpenError::NotAddressedToViewer) => return ("no match", released),
        Err(OpenError::HeaderMac) => return ("HMAC failure", released),
        Err(_) => return ("header failure", released),
    };
    let rest = &v.data[header.len()..];
    let Some(nonce) = rest.get(..16) else {
        return ("header failure", released);
    };
    let key = payload_key(&file_key, nonce.try_into().unwrap());
    let mut stream = StreamDecryptor::new(&key, &rest[16..]);
    loop {
        match stream.next_chunk() {
            Ok(Some(chunk)) => released.extend_from_slice(chunk),
            Ok(None) => return ("success", released),
            Err(_) => return ("payload failure", released),
        }
    }
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cctv")
}

#[test]
fn cctv_age_vectors() {
    let mut names: Vec<_> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md" && n != "LICENSE")
        .collect();
    names.sort();
    let (mut checked, mut skipped, mut failures) = (0, 0, Vec::new());
    for name in &names {
        if SKIPPED_PREFIXES.iter().any(|p| name.starts_with(p)) {
            skipped += 1;
            continue;
        }
        let v = parse(&vectors_dir().join(name));
        for with in [Unwrapper::AgeCrate, Unwrapper::Sealcam] {
            let (outcome, released) = decrypt(&v, with);
            let digest = hex::encode(Sha256::digest(&released));
            if outcome != v.expect {
                failures.push(format!(
                    "{name} ({with:?}): expected {}, got {outcome}",
                    v.expect
                ));
            } else if let Some(want) = &v.payload_sha256 {
                if *want != digest {
                    failures.push(format!(
                        "{name} ({with:?}): released plaintext hash {digest}, expected {want}"
                    ));
                }
            }
        }
        checked += 1;
    }
    println!(
        "cctv: {checked} vectors checked (age crate and sealcam unwrappers), {skipped} skipped (armor, scrypt, hybrid), {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 67, "only {checked} vectors found");
}

/// The vendored copy must stay identical to the shared one when it is present.
#[test]
fn vendored_vectors_match_shared() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/age-cctv");
    let Ok(entries) = std::fs::read_dir(&shared) else {
        println!("shared/vectors/age-cctv not beside this checkout; compared nothing");
        return;
    };
    for e in entries {
        let e = e.unwrap();
        let ours = vectors_dir().join(e.file_name());
        assert_eq!(
            std::fs::read(e.path()).unwrap(),
            std::fs::read(&ours).unwrap(),
            "{:?} differs",
            e.file_name()
        );
    }
}
