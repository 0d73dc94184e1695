#![no_main]
//! The pasted codes of the app SDK (link request, link approval, member
//! code, share code): `PREFIX ‖ base64url(JSON)`. The input is the JSON, so
//! the fuzzer works on what the parser behind the base64 sees; the text form
//! is tried too. A code that parses must re-encode to one that parses the same.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use sealcam_client::codes::{Code, LinkApproval, LinkRequest, MemberCode, ShareCode};

fn check<C: Code + PartialEq + std::fmt::Debug>(data: &[u8]) {
    let text = format!("{}{}", C::PREFIX, URL_SAFE_NO_PAD.encode(data));
    if let Ok(code) = C::from_text(&text) {
        let again = C::from_text(&code.to_text()).expect("parsed codes re-encode");
        assert_eq!(again, code);
    }
    let _ = C::from_text(&String::from_utf8_lossy(data));
}

fuzz_target!(|data: &[u8]| {
    check::<LinkRequest>(data);
    check::<LinkApproval>(data);
    check::<MemberCode>(data);
    check::<ShareCode>(data);
    let _ = sealcam_client::parse_approval(&String::from_utf8_lossy(data));
});
