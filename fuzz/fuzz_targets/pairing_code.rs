#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(code) = sealcam_keys::PairingCode::from_text(&text) {
        // A parsed code must re-encode to text that parses to the same code.
        let again = sealcam_keys::PairingCode::from_text(&code.to_text().expect("parsed codes re-encode"));
        assert_eq!(again.expect("re-encoded codes parse"), code);
    }
});
