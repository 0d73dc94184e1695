//! The key model's vectors (`tests/vectors/<document>/`, made by
//! `examples/gen_key_vectors/`): every `ok_*` is taken, every `fail_*` is
//! refused with the error variant its `expect:` field names — for key logs and
//! statements, recipient sets, owner records and owner key bundles.
//!
//! Each vector carries what the checking side pinned (`owner`, `owner-key`,
//! `position`, …) in its header lines, so another implementation can run the
//! same files.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../../format/tests/vector_file/mod.rs"]
mod vector_file;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use sealcam_keys::owner_record::OwnerRecord;
use sealcam_keys::{
    BundleError, CameraPin, KeyLog, KeyStatement, KeyStatementError, OwnerKeyBundle, OwnerKeyState,
    OwnerPublicKey, RecipientSetError, RecipientSetPin, RecordError, RecoveryKey,
    SignedRecipientSet, VerifiedRecipientSet, ViewerIdentity,
};
use vector_file::VectorFile;

type Fields = BTreeMap<String, String>;

fn statement_error(e: &KeyStatementError) -> String {
    use KeyStatementError as E;
    match e {
        E::Malformed(_) => "Malformed",
        E::UnsupportedVersion(_) => "UnsupportedVersion",
        E::WrongOwner => "WrongOwner",
        E::OtherRootKey => "OtherRootKey",
        E::NoRootKey => "NoRootKey",
        E::BadSignature => "BadSignature",
        E::Superseded { .. } => "Superseded",
        E::Fork { .. } => "Fork",
        E::Gap { .. } => "Gap",
        E::NoReset => "NoReset",
        E::Overflow => "Overflow",
        _ => "unknown KeyStatementError",
    }
    .to_owned()
}

fn set_error(e: &RecipientSetError) -> String {
    use RecipientSetError as E;
    match e {
        E::Malformed(_) => "Malformed",
        E::UnsupportedVersion(_) => "UnsupportedVersion",
        E::NotSignedByPinnedOwner => "NotSignedByPinnedOwner",
        E::WrongCamera => "WrongCamera",
        E::RolledBack { .. } => "RolledBack",
        E::Equivocation { .. } => "Equivocation",
        E::InvalidRecipients(_) => "InvalidRecipients",
        E::WrongDevice => "WrongDevice",
        E::Legacy => "Legacy",
        E::OtherKeyGeneration { .. } => "OtherKeyGeneration",
        E::EpochJump { .. } => "EpochJump",
        E::Expired { .. } => "Expired",
        _ => "unknown RecipientSetError",
    }
    .to_owned()
}

fn record_error(e: &RecordError) -> String {
    use RecordError as E;
    match e {
        E::TooLarge => "TooLarge",
        E::NotAgeFile => "NotAgeFile",
        E::NotSealedToMe => "NotSealedToMe",
        E::DoesNotDecrypt => "DoesNotDecrypt",
        E::NotAnOwnerRecord => "NotAnOwnerRecord",
        E::BadSignature => "BadSignature",
        E::Malformed(_) => "Malformed",
        E::OtherOwner => "OtherOwner",
        E::RolledBack { .. } => "RolledBack",
        E::Forked { .. } => "Forked",
        E::NoOwnerKey => "NoOwnerKey",
        E::Seal => "Seal",
        _ => "unknown RecordError",
    }
    .to_owned()
}

fn bundle_error(e: &BundleError) -> String {
    use BundleError as E;
    match e {
        E::NotAddressedToMe => "NotAddressedToMe",
        E::Corrupt => "Corrupt",
        E::Malformed(_) => "Malformed",
        E::WrongOwnerKey => "WrongOwnerKey",
        E::Seal => "Seal",
        _ => "unknown BundleError",
    }
    .to_owned()
}

fn position(s: &str) -> (u64, u64) {
    let (r, g) = s.split_once(',').unwrap();
    (r.parse().unwrap(), g.parse().unwrap())
}

/// The state the checking side holds: `owner`, `owner-key`, `root-key`
/// (or `none`), `position`.
fn held_state(f: &Fields) -> OwnerKeyState {
    let root = match f["root-key"].as_str() {
        "none" => None,
        r => Some(r.parse().unwrap()),
    };
    let (reset, generation) = position(&f["position"]);
    OwnerKeyState::new(
        f["owner"].parse().unwrap(),
        f["owner-key"].parse().unwrap(),
        root,
        reset,
        generation,
    )
}

/// The bytes under test: the data, or `zero-filled: N` zeros.
fn input(f: &Fields, data: &[u8]) -> Vec<u8> {
    match f.get("zero-filled") {
        Some(n) => vec![0; n.parse().unwrap()],
        None => data.to_vec(),
    }
}

fn check_result(name: &str, f: &Fields, state: &OwnerKeyState) {
    if let Some(key) = f.get("result-key") {
        assert_eq!(&state.owner_key.to_string(), key, "{name}: owner key after");
    }
    if let Some(p) = f.get("result-position") {
        assert_eq!(state.position(), position(p), "{name}: position after");
    }
}

fn run_key_log(name: &str, f: &Fields, data: &[u8]) -> Result<(), String> {
    let held = held_state(f);
    match f["check"].as_str() {
        "apply" => {
            let st = KeyStatement::from_bytes(data).map_err(|e| statement_error(&e))?;
            let mut state = held;
            let outcome = state.apply(&st);
            if outcome.is_err() {
                assert_eq!(state, held, "{name}: a refused statement changed the state");
            }
            check_result(name, f, &state);
            outcome.map(|_| ()).map_err(|e| statement_error(&e))
        }
        "follow" => {
            let log = KeyLog::from_bytes(data).map_err(|e| statement_error(&e))?;
            assert_eq!(log.to_bytes(), data, "{name}: the log re-encodes alike");
            let mut state = held;
            let report = state.follow(&log);
            check_result(name, f, &state);
            match report.refused.first() {
                Some((_, e)) => Err(statement_error(e)),
                None => Ok(()),
            }
        }
        "from-root" => {
            let log = KeyLog::from_bytes(data).map_err(|e| statement_error(&e))?;
            let (state, report) = OwnerKeyState::from_root(
                held.owner,
                held.root_key.expect("from-root needs a root key"),
                &log,
            )
            .map_err(|e| statement_error(&e))?;
            check_result(name, f, &state);
            match report.refused.first() {
                Some((_, e)) => Err(statement_error(e)),
                None => Ok(()),
            }
        }
        c => panic!("{name}: unknown check {c}"),
    }
}

fn run_set(name: &str, f: &Fields, data: &[u8]) -> Result<(), String> {
    let err = |e: RecipientSetError| set_error(&e);
    let verified = match f["check"].as_str() {
        "verify" => {
            let pin = RecipientSetPin {
                owner: f["owner"].parse().unwrap(),
                camera: f["camera"].parse().unwrap(),
                owner_key: f["owner-key"].parse().unwrap(),
            };
            SignedRecipientSet::from_bytes(data)
                .and_then(|s| s.verify(&pin))
                .map_err(err)?
        }
        "camera" => {
            let pin = CameraPin {
                camera: f["camera"].parse().unwrap(),
                device_key: f["device-key"].parse().unwrap(),
                keys: held_state(f),
                accept_v1: f["accept-v1"] == "yes",
            };
            let now = f["now"].parse().unwrap();
            let verified = SignedRecipientSet::from_bytes(data)
                .and_then(|s| s.verify_for_camera(&pin, now))
                .map_err(err)?;
            if let Some(accepted) = f.get("accepted") {
                let accepted = SignedRecipientSet::from_bytes(&hex::decode(accepted).unwrap())
                    .and_then(|s| s.verify_for_camera(&pin, now))
                    .unwrap_or_else(|e| panic!("{name}: the accepted set: {e}"));
                accepted.accept_successor(&verified).map_err(err)?;
            }
            if f.get("first").is_some_and(|v| v == "yes") {
                VerifiedRecipientSet::accept_first(&verified).map_err(err)?;
            }
            verified
        }
        c => panic!("{name}: unknown check {c}"),
    };
    assert_eq!(verified.as_bytes(), data, "{name}: bytes kept as signed");
    Ok(())
}

/// The JSON a sealed record holds, exactly as signed (after magic and signature).
fn signed_json(sealed: &[u8], identity: &ViewerIdentity) -> Vec<u8> {
    let dec = age::Decryptor::new(sealed).unwrap();
    let mut plain = Vec::new();
    dec.decrypt(std::iter::once(identity.as_age() as &dyn age::Identity))
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap();
    plain[72..].to_vec()
}

fn run_record(name: &str, f: &Fields, data: &[u8]) -> Result<(), String> {
    let err = |e: RecordError| record_error(&e);
    let identity = ViewerIdentity::from_secret_text(&f["identity"]).unwrap();
    let owner = f["owner"].parse().unwrap();
    let sealed = input(f, data);
    let record = match f["check"].as_str() {
        "open" => OwnerRecord::open(&sealed, &identity, owner, &f["owner-key"].parse().unwrap())
            .map_err(err)?,
        "open-under-any" => {
            let keys: Vec<OwnerPublicKey> = f["owner-keys"]
                .split(',')
                .filter(|k| !k.is_empty())
                .map(|k| k.parse().unwrap())
                .collect();
            OwnerRecord::open_under_any(&sealed, &identity, owner, &keys).map_err(err)?
        }
        "successor" => {
            let cached: OwnerRecord = serde_json::from_str(&f["cached"]).unwrap();
            let offered =
                OwnerRecord::open(&sealed, &identity, owner, &f["owner-key"].parse().unwrap())
                    .unwrap_or_else(|e| panic!("{name}: the offered record: {e}"));
            OwnerRecord::check_successor(&cached, &offered).map_err(err)?;
            offered
        }
        c => panic!("{name}: unknown check {c}"),
    };
    if let Some(v) = f.get("version") {
        assert_eq!(&record.version.to_string(), v, "{name}: version");
    }
    if let Some(fp) = f.get("fingerprint") {
        assert_eq!(&record.fingerprint(), fp, "{name}: fingerprint");
    }
    if let Some(json) = f.get("json") {
        // The byte format: the record re-serializes to the JSON it was signed as.
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            *json,
            "{name}: re-serialized"
        );
        assert_eq!(
            signed_json(&sealed, &identity),
            json.as_bytes(),
            "{name}: signed JSON"
        );
    }
    Ok(())
}

fn run_bundle(name: &str, f: &Fields, data: &[u8]) -> Result<(), String> {
    let err = |e: BundleError| bundle_error(&e);
    let sealed = input(f, data);
    let bundle = match f["check"].as_str() {
        "viewer" => OwnerKeyBundle::open_as_viewer(
            &sealed,
            &ViewerIdentity::from_secret_text(&f["identity"]).unwrap(),
            f["owner"].parse().unwrap(),
            &f["owner-key"].parse().unwrap(),
        )
        .map_err(err)?,
        "recovery" => OwnerKeyBundle::open_with_recovery(
            &sealed,
            &RecoveryKey::from_typed(&f["recovery"]).unwrap(),
        )
        .map_err(err)?,
        "parse" => OwnerKeyBundle::parse(&sealed).map_err(err)?,
        c => panic!("{name}: unknown check {c}"),
    };
    if let Some(key) = f.get("result-key") {
        assert_eq!(
            &bundle.signing_key().public().to_string(),
            key,
            "{name}: key"
        );
    }
    Ok(())
}

#[test]
fn every_vector_gives_its_named_outcome() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let (mut ok, mut refused, mut wrong) = (0, 0, Vec::new());
    let mut per_doc = Vec::new();
    for doc in ["key_log", "recipient_set", "owner_record", "key_bundle"] {
        let mut names: Vec<_> = std::fs::read_dir(root.join(doc))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        per_doc.push((doc, names.len()));
        for name in &names {
            let raw = std::fs::read(root.join(doc).join(name)).unwrap();
            let (f, data) = VectorFile::decode(&raw).unwrap();
            let expect = f["expect"].as_str();
            assert_eq!(
                name.starts_with("ok_"),
                expect == "ok",
                "{doc}/{name}: name and expect disagree"
            );
            assert!(
                name.starts_with("ok_") || name.starts_with("fail_"),
                "{doc}/{name}: a vector is ok_* or fail_*"
            );
            let outcome = match (doc, f["kind"].as_str()) {
                ("key_log", "key-statement" | "key-log") => run_key_log(name, &f, &data),
                ("recipient_set", "recipient-set") => run_set(name, &f, &data),
                ("owner_record", "owner-record") => run_record(name, &f, &data),
                ("key_bundle", "key-bundle") => run_bundle(name, &f, &data),
                (d, k) => panic!("{d}/{name}: kind {k} does not belong here"),
            };
            let got = outcome.err().unwrap_or_else(|| "ok".to_owned());
            if got != expect {
                wrong.push(format!("{doc}/{name}: expected {expect}, got {got}"));
            } else if expect == "ok" {
                ok += 1;
            } else {
                refused += 1;
            }
        }
    }
    println!(
        "keys vectors: {ok} ok verified, {refused} fail refused with their named error, {} wrong",
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every document has vectors both ways, and none went missing.
    for (doc, n) in per_doc {
        assert!(n >= 10, "{doc}: only {n} vectors");
    }
    assert!(ok >= 25 && refused >= 70, "{ok} ok, {refused} fail");
}
