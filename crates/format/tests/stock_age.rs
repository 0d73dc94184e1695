//! The outer layer is a standard age file: the stock `age` command (Debian
//! package `age`) decrypts a sealed object with a viewer's identity file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{bytes, World};
use sealcam_keys::ViewerIdentity;

/// Decrypts `object` with the stock `age` command and `viewer`'s identity file.
fn stock_age_decrypt(dir: &std::path::Path, object: &[u8], viewer: &ViewerIdentity) -> Vec<u8> {
    let path = dir.join("object.age");
    std::fs::write(&path, object).unwrap();
    let identity = dir.join("identity.txt");
    let _ = std::fs::remove_file(&identity);
    viewer
        .write_file(&identity, "2026-11-29T00:00:00Z")
        .unwrap();
    let out = Command::new("age")
        .arg("--decrypt")
        .arg("-i")
        .arg(&identity)
        .arg(&path)
        .output()
        .expect("the stock `age` command must be installed (apt-get install age); scripts/test.sh installs it");
    assert!(
        out.status.success(),
        "age failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn stock_age_decrypts_a_rewrapped_object_for_old_and_added_viewers() {
    let w = World::new(1);
    let body = bytes(70_000, 4);
    let (header, payload) = w.seal(&body);
    let added = ViewerIdentity::generate();
    let header =
        sealcam_format::rewrap_adding(&header, &[&w.viewers[0]], &[added.to_public()]).unwrap();
    let object = [&header[..], &payload[..]].concat();
    let dir = tempfile::tempdir().unwrap();
    let by_old = stock_age_decrypt(dir.path(), &object, &w.viewers[0]);
    let by_added = stock_age_decrypt(dir.path(), &object, &added);
    assert_eq!(by_old, by_added);
    let inner_len = u16::from_le_bytes([by_old[9], by_old[10]]) as usize;
    assert_eq!(&by_old[inner_len..inner_len + body.len()], &body[..]);
}

#[test]
fn stock_age_decrypts_a_sealed_object() {
    let w = World::new(3);
    let body = bytes(150_000, 9);
    let (header, payload) = w.seal(&body);
    let dir = tempfile::tempdir().unwrap();
    let object = dir.path().join("clip.age");
    let mut file = header.clone();
    file.extend_from_slice(&payload);
    std::fs::write(&object, &file).unwrap();
    let identity = dir.path().join("viewer.txt");
    w.viewers[2]
        .write_file(&identity, "2026-11-29T00:00:00Z")
        .unwrap();

    let out = Command::new("age")
        .arg("--decrypt")
        .arg("-i")
        .arg(&identity)
        .arg(&object)
        .output()
        .expect("the stock `age` command must be installed (apt-get install age); scripts/test.sh installs it");
    assert!(
        out.status.success(),
        "age failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain = out.stdout;
    let inner_len = u16::from_le_bytes([plain[9], plain[10]]) as usize;
    assert_eq!(&plain[..8], b"sealcam\0");
    assert_eq!(
        &plain[inner_len..inner_len + body.len()],
        &body[..],
        "the body is inside, after the inner header"
    );
    // Zero padding up to the padded length, then the trailer: 32 bytes per
    // 64 KiB piece, body length, signature.
    let x = sealcam_format::padding::padded_len(
        sealcam_format::PartKind::Clip,
        (inner_len + body.len()) as u64,
    )
    .unwrap() as usize;
    assert!(plain[inner_len + body.len()..x].iter().all(|&b| b == 0));
    let pieces = x.div_ceil(65536);
    assert_eq!(plain.len(), x + 32 * pieces + 8 + 64);
}

#[test]
fn stock_age_decrypts_an_object_sealed_with_slot_hints() {
    let w = World::new(3);
    let set_key = ViewerIdentity::generate();
    let body = bytes(40_000, 11);
    let recipients = sealcam_format::SlotRecipient::hinted(&set_key, w.set.recipients());
    let sealer =
        sealcam_format::Sealer::with_slot_recipients(&recipients, &w.device, w.meta()).unwrap();
    let (header, payload) = sealcam_format::seal(sealer, &mut &body[..], Vec::new()).unwrap();
    let object = [&header[..], &payload[..]].concat();
    let dir = tempfile::tempdir().unwrap();
    for viewer in &w.viewers {
        let plain = stock_age_decrypt(dir.path(), &object, viewer);
        let inner_len = u16::from_le_bytes([plain[9], plain[10]]) as usize;
        assert_eq!(&plain[inner_len..inner_len + body.len()], &body[..]);
    }
}
