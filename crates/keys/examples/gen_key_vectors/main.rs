//! Generates the committed test vectors in `tests/vectors/`: one directory per
//! signed document (`key_log`, `recipient_set`, `owner_record`, `key_bundle`).
//!
//! ```sh
//! cargo run -p sealcam-keys --example gen_key_vectors
//! ```
//!
//! Every `ok_*` vector must be taken and every `fail_*` vector refused with
//! the error its `expect:` field names (`tests/vectors.rs`). Keys come from
//! fixed seeds, so signed documents come out byte for byte the same on every
//! run; sealed ones (age) differ, because age wraps with fresh ephemeral
//! keys, but their expectations do not. The `*_legacy_*` owner records were
//! sealed by the app SDK before the owner record moved to this crate and are
//! kept as they are.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../../../format/tests/vector_file/mod.rs"]
mod vector_file;

mod fixture;
mod key_bundle;
mod key_log;
mod owner_record;
mod recipient_set;
mod vector;

use std::path::{Path, PathBuf};

use fixture::Fixture;
use vector::Gen;

/// Vectors the generator never rewrites (made by older code on purpose).
const KEEP: &[&str] = &["ok_record_legacy_viewer", "ok_record_legacy_recovery"];

fn main() {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors"));
    for doc in ["key_log", "recipient_set", "owner_record", "key_bundle"] {
        let dir = root.join(doc);
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let keep = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| KEEP.contains(&n));
            if !keep {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    let f = Fixture::new();
    let mut g = Gen { root, count: 0 };
    key_log::generate(&mut g, &f);
    recipient_set::generate(&mut g, &f);
    owner_record::generate(&mut g, &f);
    key_bundle::generate(&mut g, &f);
    println!(
        "{} vectors written to {} ({} kept)",
        g.count,
        g.root.display(),
        KEEP.len()
    );
}
