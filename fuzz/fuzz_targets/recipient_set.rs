#![no_main]
use libfuzzer_sys::fuzz_target;
use sealcam_keys::{CameraPin, OwnerKeyState, RecipientSetPin, SignedRecipientSet};

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = SignedRecipientSet::from_bytes(data) {
        let b = sealcam_fuzz::binding();
        let pin = RecipientSetPin { owner: b.owner, camera: b.camera, owner_key: sealcam_fuzz::owner_key().public() };
        let _ = set.clone().verify(&pin);
        let camera = CameraPin {
            camera: b.camera,
            device_key: sealcam_fuzz::device().public(),
            keys: OwnerKeyState::new(b.owner, sealcam_fuzz::owner_key().public(), Some(sealcam_fuzz::root_key().public()), 1, 0),
            accept_v1: false,
        };
        if let Ok(v) = set.verify_for_camera(&camera, 1_900_000_000) {
            let _ = v.sealing_recipients(2_000_000_000);
        }
    }
});
