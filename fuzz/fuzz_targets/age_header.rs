#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = sealcam_format::age_header::AgeHeader::parse(data) {
        let id = sealcam_fuzz::viewer();
        let _ = h.unwrap(&[id.as_age() as &dyn age::Identity]);
    }
});
