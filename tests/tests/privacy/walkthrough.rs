//! S9 after a whole household's life: pair a camera, record, link a second
//! owner device, share the camera with a member, revoke the second device,
//! record again — with the real binaries. Then the test reads every column
//! of the server's database and every blob file, as an operator could, and
//! looks for what the server must not hold: a device or camera name, a
//! viewer or recovery public key, an exact capture time, a recipient count.
//!
//! Out of scope, by design (docs/PRIVACY.md): the account's name (the
//! operator typed it), the camera's own public keys, and the upload time
//! the server sees as requests arrive.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::types::ValueRef;
use sealcam_e2e::household::{Household, PHONE};
use sealcam_keys::sealed::{stanza_count, SLOTS};
use sealcam_keys::{is_sealed_set, RecoveryKey};
use uuid::Uuid;

/// A capture time that is not on a minute (unix seconds).
const CAPTURED_AT: i64 = 1_764_000_123;

fn json(h: &Household, home: &str, args: &[&str]) -> serde_json::Value {
    h.sealcam(home, args)
        .unwrap()
        .checked()
        .unwrap()
        .json()
        .unwrap()
}

/// Every cell of every table: (table, column, value).
fn cells(db: &rusqlite::Connection) -> Vec<(String, String, rusqlite::types::Value)> {
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = Vec::new();
    for table in tables {
        let mut stmt = db.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns: Vec<String> = stmt
            .column_names()
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for (i, column) in columns.iter().enumerate() {
                let value = match row.get_ref(i).unwrap() {
                    ValueRef::Null => rusqlite::types::Value::Null,
                    ValueRef::Integer(n) => rusqlite::types::Value::Integer(n),
                    ValueRef::Real(x) => rusqlite::types::Value::Real(x),
                    ValueRef::Text(t) => {
                        rusqlite::types::Value::Text(String::from_utf8_lossy(t).into())
                    }
                    ValueRef::Blob(b) => rusqlite::types::Value::Blob(b.to_vec()),
                };
                out.push((table.clone(), column.clone(), value));
            }
        }
    }
    out
}

fn blob_files(dir: &Path, out: &mut Vec<Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            blob_files(&path, out);
        } else {
            out.push(std::fs::read(path).unwrap());
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn the_server_holds_no_name_key_exact_time_or_recipient_count() {
    let h = Household::start().unwrap();
    let cam = h.pair_camera(PHONE, "porch").unwrap();
    let (first, _) = h.record_at(&cam, Some(CAPTURED_AT)).unwrap();
    h.link(PHONE, "tablet").unwrap();
    h.other_account("member").unwrap();
    let code = json(&h, "member", &["whoami", "--json"])["member_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let shared = json(&h, PHONE, &["share", "porch", "--with", &code, "--json"]);
    let share_code = shared["shared"]["share_code"].as_str().unwrap().to_owned();
    h.sealcam("member", &["cameras", "accept", &share_code])
        .unwrap()
        .checked()
        .unwrap();
    h.device(&cam, &["sync"]).unwrap().checked().unwrap();
    let (second, _) = h.record_at(&cam, Some(CAPTURED_AT + 7)).unwrap();
    // What must not be on the server: every viewer key (taken before the
    // tablet is revoked), the recovery key's, the names, the exact times.
    let mut keys: Vec<(String, String)> = ["phone", "tablet", "member"]
        .iter()
        .map(|home| {
            let who = json(&h, home, &["whoami", "--json"]);
            (
                format!("{home}'s viewer key"),
                who["viewer_key"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    json(&h, PHONE, &["viewers", "revoke", "tablet", "--json"]);
    h.device(&cam, &["sync"]).unwrap().checked().unwrap();
    let (third, _) = h.record_at(&cam, Some(CAPTURED_AT + 61)).unwrap();
    let listed = json(&h, PHONE, &["cameras", "list", "--json"]);
    assert_eq!(listed["cameras"][0]["sets_sealed"], true, "{listed}");

    let recovery = std::fs::read_to_string(&h.recovery_file).unwrap();
    keys.push((
        "the recovery key's public key".into(),
        RecoveryKey::from_typed(recovery.trim())
            .unwrap()
            .to_public()
            .to_string(),
    ));
    let names = ["porch", "phone", "tablet"];
    let exact: Vec<String> = [CAPTURED_AT, CAPTURED_AT + 7, CAPTURED_AT + 61]
        .iter()
        .flat_map(|t| [t.to_string(), (t * 1000).to_string()])
        .collect();

    let db = rusqlite::Connection::open(h.database()).unwrap();
    let mut checked = 0;
    let mut found: Vec<String> = Vec::new();
    for (table, column, value) in cells(&db) {
        checked += 1;
        if table == "accounts" && column == "name" {
            continue; // the operator's label for the account
        }
        let bytes: Vec<u8> = match &value {
            rusqlite::types::Value::Text(t) => t.clone().into_bytes(),
            rusqlite::types::Value::Blob(b) => b.clone(),
            rusqlite::types::Value::Integer(n) => n.to_string().into_bytes(),
            _ => continue,
        };
        for (what, key) in &keys {
            if contains(&bytes, key) {
                found.push(format!("{what} in {table}.{column}"));
            }
        }
        for name in names {
            if contains(&bytes, name) {
                found.push(format!("the name {name:?} in {table}.{column}"));
            }
        }
        if exact.iter().any(|t| bytes == t.as_bytes()) {
            found.push(format!("an exact capture time in {table}.{column}"));
        }
        if let rusqlite::types::Value::Integer(n) = value {
            let time_column = column.ends_with("_at");
            let event_time = matches!(table.as_str(), "events" | "parts");
            if time_column && event_time && n % 60 != 0 {
                found.push(format!("a time not on a minute in {table}.{column}: {n}"));
            }
        }
        if let rusqlite::types::Value::Blob(b) = &value {
            let sealed_doc = b.starts_with(b"age-encryption.org/v1\n");
            if sealed_doc && stanza_count(b) % SLOTS != 0 {
                found.push(format!(
                    "{table}.{column}: {} recipient stanzas",
                    stanza_count(b)
                ));
            }
            if table == "cameras" && column == "set_data" && !is_sealed_set(b) {
                found.push("a recipient set in the clear".into());
            }
        }
    }
    let ids: Vec<String> = db
        .prepare("SELECT id FROM events")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for id in &ids {
        let id: Uuid = id.parse().unwrap();
        if id.get_version_num() != 4 {
            found.push(format!(
                "event id {id} is version {} (not random)",
                id.get_version_num()
            ));
        }
    }
    assert_eq!(ids.len(), 3);
    for r in [&first, &second, &third] {
        assert!(ids.contains(&r.event.to_string()));
    }
    let header_sizes: BTreeSet<i64> = db
        .prepare("SELECT header_size FROM parts")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    if header_sizes.len() != 1 {
        found.push(format!(
            "headers of {} sizes: {header_sizes:?}",
            header_sizes.len()
        ));
    }

    let mut blobs = Vec::new();
    blob_files(&h.data.join("blobs"), &mut blobs);
    for blob in &blobs {
        for (what, key) in &keys {
            if contains(blob, key) {
                found.push(format!("{what} in a blob"));
            }
        }
        for name in names {
            if contains(blob, name) {
                found.push(format!("the name {name:?} in a blob"));
            }
        }
    }
    println!(
        "privacy: after pair, record, link, share, revoke and record: {checked} database cells and {} blob files read; {} viewer/recovery keys, {} names and {} exact times looked for; header sizes {header_sizes:?}; found: {}",
        blobs.len(),
        keys.len(),
        names.len(),
        exact.len(),
        if found.is_empty() { "nothing".to_owned() } else { found.join("; ") }
    );
    assert!(found.is_empty(), "{found:#?}");
}
