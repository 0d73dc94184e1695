//! Objects sealed in format version 1 (before padding and recipient slots)
//! still open, verify and re-wrap with this build: every `ok_*` object of
//! `tests/vectors/v1/` (made by release 247da5e) is re-wrapped to a new
//! viewer, who then opens it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod vector_file;

use std::path::Path;

use sealcam_format::age_header::AgeHeader;
use sealcam_format::{open, rewrap_adding, Binding, VERSION_1};
use sealcam_keys::ViewerIdentity;
use sha2::{Digest, Sha256};
use vector_file::VectorFile;

#[test]
fn v1_objects_open_verify_and_rewrap() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/v1");
    let mut rewrapped = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let raw = std::fs::read(&path).unwrap();
        let (f, data) = VectorFile::decode(&raw).unwrap();
        if f["kind"] != "object" || f["expect"] != "ok" {
            continue;
        }
        let owner = ViewerIdentity::from_secret_text(&f["identity"]).unwrap();
        let device = f["device"].parse().unwrap();
        let asked = Binding {
            owner: f["owner"].parse().unwrap(),
            camera: f["camera"].parse().unwrap(),
            event: f["event"].parse().unwrap(),
            kind: f["part"].parse().unwrap(),
            sequence: f["sequence"].parse().unwrap(),
        };
        let (header, payload) = data.split_at(f["header-len"].parse().unwrap());
        let newcomer = ViewerIdentity::generate();
        let new_header = rewrap_adding(header, &[&owner], &[newcomer.to_public()]).unwrap();
        // Version 1 re-wrap: one stanza more, inserted before the binding stanza.
        let (old, new) = (
            AgeHeader::parse(header).unwrap(),
            AgeHeader::parse(&new_header).unwrap(),
        );
        assert_eq!(new.stanzas().len(), old.stanzas().len() + 1);
        assert_eq!(
            new.stanzas().last().map(|s| s.tag.as_str()),
            Some("sealcam-payload")
        );
        for viewer in [&owner, &newcomer] {
            let mut r = open(&new_header, payload, &[viewer], &asked, &device).unwrap();
            assert_eq!(r.opened().format_version(), VERSION_1);
            let body = r.read_range(0..r.body_len()).unwrap();
            assert_eq!(
                hex::encode(Sha256::digest(&body)),
                f["body"],
                "{}",
                path.display()
            );
        }
        rewrapped += 1;
    }
    println!("vectors v1: {rewrapped} version 1 objects re-wrapped and opened by a new viewer");
    assert!(rewrapped >= 6);
}
