//! Writes seed corpora for the fuzz targets into `fuzz/corpus/<target>/`.
#![allow(clippy::unwrap_used)]

use std::fs;

use sealcam_format::{seal, ObjectMeta, Sealer};
use sealcam_fuzz::{binding, device, owner_key, split, viewer};
use sealcam_keys::{OwnerKeyBundle, PairingCode, PairingSecret, RecipientSet, RecoveryKey};

fn put(target: &str, name: &str, data: &[u8]) {
    let dir = format!("corpus/{target}");
    fs::create_dir_all(&dir).unwrap();
    fs::write(format!("{dir}/{name}"), data).unwrap();
}

fn main() {
    let b = binding();
    let dev = device();
    for (name, len) in [("empty", 0usize), ("small", 300), ("two_chunks", 70_000)] {
        let body: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let meta = ObjectMeta { binding: b, captured_at_ms: 5, epoch: 1, content_type: "video/mp4".into() };
        let sealer = Sealer::with_recipients(&[viewer().to_public()], &dev, meta).unwrap();
        let (header, payload) = seal(sealer, &mut &body[..], Vec::new()).unwrap();
        let mut input = (header.len() as u16).to_le_bytes().to_vec();
        input.extend_from_slice(&header);
        input.extend_from_slice(&payload);
        assert!(split(&input).is_some());
        put("object", name, &input);
        put("age_header", name, &header);
        // The seed must open, or the fuzzer would start from nothing useful.
        sealcam_format::open_to_vec(&header, &payload, &[&viewer()], &b, &dev.public()).unwrap();
        put("stream", name, &payload[16..]);
    }
    let set = RecipientSet::new(b.owner, b.camera, 3, vec![viewer().to_public()]).unwrap().sign(&owner_key());
    put("recipient_set", "one", set.as_bytes());
    let mut log = sealcam_keys::KeyLog::new();
    let root = sealcam_fuzz::root_key();
    log.push(sealcam_keys::KeyStatement::reset(b.owner, &root, 1, 0, owner_key().public(), 1)).unwrap();
    let state = sealcam_keys::OwnerKeyState::new(b.owner, owner_key().public(), Some(root.public()), 1, 0);
    let next = sealcam_keys::OwnerSigningKey::from_seed(&[12u8; 32]);
    log.push(sealcam_keys::KeyStatement::rotation(&state, &owner_key(), next.public(), 2).unwrap()).unwrap();
    put("key_log", "two", &log.to_bytes());
    put("key_log", "statement", log.statements()[1].as_bytes());
    let code = PairingCode {
        server_url: "http://127.0.0.1:7443".into(),
        claim_token: "sck_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        owner: b.owner,
        owner_key: owner_key().public(),
        trust: None,
        secret: PairingSecret::from_bytes([5; 16]),
        expires_at: 2_000_000_000,
    };
    put("pairing_code", "one", code.to_text().unwrap().as_bytes());
    let bundle = OwnerKeyBundle::new(b.owner, owner_key(), &RecoveryKey::generate());
    put("key_bundle", "one", &bundle.seal(&[viewer().to_public()]).unwrap());
    println!("seeds written to fuzz/corpus/");
}
