#![no_main]
use libfuzzer_sys::fuzz_target;
use sealcam_keys::{KeyLog, KeyStatement, OwnerKeyState};

// Untrusted bytes from the server: a whole key log, or one statement. Parsing
// and following them must never panic, whatever they hold.
fuzz_target!(|data: &[u8]| {
    let b = sealcam_fuzz::binding();
    let root = sealcam_fuzz::root_key().public();
    let mut state = OwnerKeyState::new(b.owner, sealcam_fuzz::owner_key().public(), Some(root), 1, 0);
    if let Ok(log) = KeyLog::from_bytes(data) {
        let _ = state.follow(&log);
        let _ = OwnerKeyState::from_root(b.owner, root, &log);
        let _ = log.to_bytes();
    }
    if let Ok(st) = KeyStatement::from_bytes(data) {
        let _ = state.apply(&st);
    }
});
