#![no_main]
use libfuzzer_sys::fuzz_target;
use sealcam_keys::OwnerKeyBundle;

fuzz_target!(|data: &[u8]| {
    let _ = OwnerKeyBundle::parse(data);
    let b = sealcam_fuzz::binding();
    let _ = OwnerKeyBundle::open_as_viewer(data, &sealcam_fuzz::viewer(), b.owner, &sealcam_fuzz::owner_key().public());
});
