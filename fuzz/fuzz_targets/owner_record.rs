#![no_main]
use libfuzzer_sys::fuzz_target;
use sealcam_keys::owner_record::OwnerRecord;

// Untrusted bytes from the server, three ways: a sealed owner record (opened
// with the fixed viewer key, checked under the fixed owner key), the plaintext
// inside one, and the JSON a plaintext holds — signed here with the fixed
// owner key, so that the fuzzer gets past the signature to the JSON parser.
// None of it may panic.
fuzz_target!(|data: &[u8]| {
    let owner = sealcam_fuzz::binding().owner;
    let key = sealcam_fuzz::owner_key();
    let public = key.public();
    let _ = OwnerRecord::open(data, &sealcam_fuzz::viewer(), owner, &public);
    let _ = OwnerRecord::from_plaintext(data, owner, &public);
    let plain = sealcam_fuzz::record_plaintext(data, &key);
    if let Ok(record) = OwnerRecord::from_plaintext(&plain, owner, &public) {
        let _ = record.fingerprint();
        for camera in &record.cameras {
            let _ = record.camera_recipients(camera);
        }
        let mut next = record.clone();
        next.version = next.version.wrapping_add(1);
        let _ = OwnerRecord::check_successor(&record, &next);
        let _ = OwnerRecord::check_successor(&next, &record);
    }
});
