//! Writes seed corpora for the fuzz targets into `fuzz/seeds/<target>/`
//! (committed; `scripts/fuzz.sh` hands them to each target beside its
//! working corpus in `fuzz/corpus/<target>/`).
#![allow(clippy::unwrap_used)]

use std::fs;
use std::io::Read;

use sealcam_format::{seal, FollowedKey, ObjectMeta, Sealer};
use sealcam_fuzz::{binding, device, owner_key, split, viewer};
use sealcam_keys::owner_record::{CameraEntry, Member, OwnerRecord, SharedCamera, ViewerEntry};
use sealcam_keys::{
    CameraId, OwnerId, OwnerKeyBundle, OwnerSigningKey, PairingCode, PairingSecret, RecipientSet, RecoveryKey,
};

fn put(target: &str, name: &str, data: &[u8]) {
    let dir = format!("seeds/{target}");
    fs::create_dir_all(&dir).unwrap();
    fs::write(format!("{dir}/{name}"), data).unwrap();
}

fn main() {
    let b = binding();
    let dev = device();
    for (name, len) in [("empty", 0usize), ("small", 300), ("two_chunks", 70_000)] {
        let body: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let meta = ObjectMeta { binding: b, captured_at_ms: 5, epoch: 1, followed: Some(FollowedKey { position: (1, 2), key: owner_key().public().to_bytes() }), content_type: "video/mp4".into() };
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
        // The inner header is the start of the payload's plaintext: the
        // stock age decryption of header ‖ payload gives it.
        let mut joined = header.clone();
        joined.extend_from_slice(&payload);
        let mut plain = Vec::new();
        age::Decryptor::new(&joined[..])
            .unwrap()
            .decrypt(std::iter::once(viewer().as_age() as &dyn age::Identity))
            .unwrap()
            .read_to_end(&mut plain)
            .unwrap();
        let (_, inner_len) = ObjectMeta::parse(&plain).unwrap();
        put("inner_header", name, &plain[..inner_len]);
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
    // An owner record: sealed, its plaintext, and its JSON (what the target
    // signs itself). The sealed one must open, or the seed is useless.
    let recovery = RecoveryKey::generate();
    let mut record = OwnerRecord::new(
        b.owner,
        recovery.to_public(),
        ViewerEntry {
            id: uuid::Uuid::from_bytes([4; 16]),
            device_id: Some(uuid::Uuid::from_bytes([5; 16])),
            name: "laptop".into(),
            recipient: viewer().to_public(),
            added_at: 1,
        },
    );
    let member = uuid::Uuid::from_bytes([6; 16]);
    record.members.push(Member {
        account_id: member,
        name: "kid".into(),
        recipient: RecoveryKey::generate().to_public(),
        added_at: 2,
    });
    record.cameras.push(CameraEntry {
        camera_id: b.camera,
        name: "porch".into(),
        device_key: dev.public(),
        paired_at: 3,
        shared_with: vec![member],
        epoch: 4,
        expires_at: None,
        set_key: None,
    });
    record.shared_with_me.push(SharedCamera {
        camera_id: CameraId::from_bytes([8; 16]),
        owner: OwnerId::from_bytes([9; 16]),
        owner_key: OwnerSigningKey::from_seed(&[13; 32]).public(),
        device_key: dev.public(),
        name: "gate".into(),
        accepted_at: 5,
    });
    let sealed = record.seal(&owner_key()).unwrap();
    assert_eq!(OwnerRecord::open(&sealed, &viewer(), b.owner, &owner_key().public()).unwrap(), record);
    let json = serde_json::to_vec(&record).unwrap();
    put("owner_record", "sealed", &sealed);
    put("owner_record", "plaintext", &sealcam_fuzz::record_plaintext(&json, &owner_key()));
    put("owner_record", "json", &json);

    // The app SDK's codes: the JSON behind each code's base64.
    let request = sealcam_client::codes::LinkRequest {
        server_url: "https://cams.example.net".into(),
        name: "laptop".into(),
        recipient: viewer().to_public(),
    };
    put("codes", "link_request", &serde_json::to_vec(&request).unwrap());
    let approval = sealcam_client::codes::LinkApproval {
        link_token: "scl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        owner: b.owner,
        owner_key: owner_key().public(),
        root_key: Some(root.public()),
        key_position: (1, 0),
        record: Some((3, "fp".into())),
    };
    put("codes", "link_approval", &serde_json::to_vec(&approval).unwrap());

    // Server answers a camera or an app parses.
    put("wire_json", "error", br#"{"error":{"code":"storage_full","message":"full"}}"#);
    put(
        "wire_json",
        "event_page",
        br#"{"events":[{"event_id":"0190b1b2-0000-7000-8000-000000000001","camera_id":"0190b1b2-0000-7000-8000-000000000002","owner_id":"0190b1b2-0000-7000-8000-000000000003","captured_at":1700000000,"parts":[{"kind":"thumbnail","header_size":1701,"payload_size":16400}]}],"next":"0190b1b2-0000-7000-8000-000000000001"}"#,
    );
    put("wire_json", "upload", br#"{"event_id":"0190b1b2-0000-7000-8000-000000000001","kind":"clip","header_size":1701,"payload_size":70000,"created":true}"#);
    println!("seeds written to fuzz/seeds/");
}
