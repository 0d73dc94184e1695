#![no_main]
use libfuzzer_sys::fuzz_target;
use sealcam_keys::{RecipientSetPin, SignedRecipientSet};

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = SignedRecipientSet::from_bytes(data) {
        let b = sealcam_fuzz::binding();
        let pin = RecipientSetPin { owner: b.owner, camera: b.camera, owner_key: sealcam_fuzz::owner_key().public() };
        let _ = set.verify(&pin);
    }
});
