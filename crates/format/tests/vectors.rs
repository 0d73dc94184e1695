//! sealcam's own vectors: every `ok_*` opens, every `fail_*` fails with its
//! named error — through the random-access opener and the streaming one
//! alike. `tests/vectors/v3/` is the current format (made by
//! `examples/gen_vectors`); `tests/vectors/v2/` was made by release a5d5959
//! and `tests/vectors/v1/` by release 247da5e, and both are kept as they are
//! (but for v2's `fail_unsupported_version`, an inner header of version 3,
//! which is now the current one): objects sealed before must still open.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod vector_file;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use sealcam_format::{open_to_vec, Binding, FollowedKey, OpenError, StreamOpener};
use sealcam_keys::{RecipientSetError, RecipientSetPin, SignedRecipientSet, ViewerIdentity};
use sha2::{Digest, Sha256};
use vector_file::VectorFile;

fn outcome(e: &OpenError) -> &'static str {
    match e {
        OpenError::NotAddressedToViewer => "not addressed",
        OpenError::Misdelivered(_) => "misdelivered",
        OpenError::BadSignature => "bad signature",
        OpenError::Truncated(_) => "truncated",
        OpenError::Corrupt(_) => "corrupt",
        OpenError::Header(_) => "header failure",
        OpenError::HeaderMac => "header mac",
        OpenError::UnsupportedVersion(_) => "unsupported version",
        _ => "other",
    }
}

fn set_outcome(e: &RecipientSetError) -> &'static str {
    match e {
        RecipientSetError::Malformed(_) => "malformed",
        RecipientSetError::NotSignedByPinnedOwner => "not signed by pinned owner",
        RecipientSetError::WrongCamera => "wrong camera",
        RecipientSetError::RolledBack { .. } => "rolled back",
        RecipientSetError::Equivocation { .. } => "equivocation",
        _ => "other",
    }
}

/// Opens an object vector; `followed` is the owner key its inner header
/// must name when it opens.
fn run_object(
    f: &BTreeMap<String, String>,
    data: &[u8],
    followed: Option<FollowedKey>,
) -> Result<String, String> {
    let id = ViewerIdentity::from_secret_text(&f["identity"]).unwrap();
    let device = f["device"].parse().unwrap();
    let asked = Binding {
        owner: f["owner"].parse().unwrap(),
        camera: f["camera"].parse().unwrap(),
        event: f["event"].parse().unwrap(),
        kind: f["part"].parse().unwrap(),
        sequence: f["sequence"].parse().unwrap(),
    };
    let (header, payload) = data.split_at(f["header-len"].parse().unwrap());
    let random = open_to_vec(header, payload, &[&id], &asked, &device);
    let streamed = StreamOpener::new(
        header,
        payload,
        payload.len() as u64,
        &[&id],
        &asked,
        &device,
    )
    .and_then(|mut r| {
        let mut body = Vec::new();
        r.read_to_end(&mut body).map_err(OpenError::from_io)?;
        Ok(body)
    });
    match (random, streamed) {
        (Ok(o), Ok(s)) => {
            assert_eq!(o.body, s, "the two openers released different bodies");
            assert_eq!(o.meta.followed, followed);
            Ok(hex::encode(Sha256::digest(&o.body)))
        }
        (Err(a), Err(b)) if outcome(&a) == outcome(&b) => Err(outcome(&a).to_owned()),
        (a, b) => panic!("openers disagree: random access {a:?}, streaming {b:?}"),
    }
}

fn run_set(f: &BTreeMap<String, String>, data: &[u8]) -> Result<(), &'static str> {
    let pin = RecipientSetPin {
        owner: f["owner"].parse().unwrap(),
        camera: f["camera"].parse().unwrap(),
        owner_key: f["owner-key"].parse().unwrap(),
    };
    let offered = SignedRecipientSet::from_bytes(data)
        .and_then(|s| s.verify(&pin))
        .map_err(|e| set_outcome(&e))?;
    if let Some(acc) = f.get("accepted") {
        let accepted = SignedRecipientSet::from_bytes(&hex::decode(acc).unwrap())
            .unwrap()
            .verify(&pin)
            .unwrap();
        accepted
            .accept_successor(&offered)
            .map_err(|e| set_outcome(&e))?;
    }
    Ok(())
}

#[test]
fn every_v1_vector_gives_its_named_outcome() {
    let (ok, failed) = run_dir("v1", None);
    assert!(ok >= 8 && failed >= 40);
}

#[test]
fn every_v2_vector_gives_its_named_outcome() {
    let (ok, failed) = run_dir("v2", None);
    assert!(ok >= 13 && failed >= 49);
}

#[test]
fn every_v3_vector_gives_its_named_outcome() {
    // The owner key examples/gen_vectors names.
    let followed = FollowedKey {
        position: (1_764_000_000, 2),
        key: [0x5c; 32],
    };
    let (ok, failed) = run_dir("v3", Some(followed));
    assert!(ok >= 13 && failed >= 50);
}

/// Runs every vector of `tests/vectors/<version>`; returns how many opened
/// and how many failed as named (and panics on any other outcome). Objects
/// that open must name the owner key `followed`.
fn run_dir(version: &str, followed: Option<FollowedKey>) -> (usize, usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(version);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let (mut ok, mut failed_as_named, mut wrong) = (0, 0, Vec::new());
    for name in &names {
        let raw = std::fs::read(dir.join(name)).unwrap();
        let (f, data) = VectorFile::decode(&raw).unwrap();
        let expect = f["expect"].as_str();
        assert_eq!(
            name.starts_with("ok_"),
            expect == "ok",
            "{name}: name and expect disagree"
        );
        let got = match f["kind"].as_str() {
            "object" => match run_object(&f, &data, followed) {
                Ok(digest) => {
                    assert_eq!(Some(&digest), f.get("body"), "{name}: body hash");
                    "ok".to_owned()
                }
                Err(e) => e,
            },
            "recipient-set" => run_set(&f, &data)
                .map(|_| "ok")
                .unwrap_or_else(|e| e)
                .to_owned(),
            k => panic!("{name}: unknown kind {k}"),
        };
        if got != expect {
            wrong.push(format!("{name}: expected {expect}, got {got}"));
        } else if expect == "ok" {
            ok += 1;
        } else {
            failed_as_named += 1;
        }
    }
    println!(
        "vectors {version}: {ok} ok opened, {failed_as_named} fail rejected with their named error, {} wrong",
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    (ok, failed_as_named)
}
