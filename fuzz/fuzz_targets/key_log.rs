#![no_main]
use libfuzzer_sys::fuzz_target;
use sealcam_keys::{KeyLog, KeyStatement, OwnerKeyState};

// Untrusted bytes from the server: a whole key log, or one statement. Parsing
// and following them must never panic, whatever they hold. The server picks a
// camera's part of a stored log (bytes an owner device wrote) without
// decoding keys; where the whole log parses, that part is the one the parsed
// log gives, and it parses too.
fuzz_target!(|data: &[u8]| {
    let held = (1, data.first().map_or(0, |b| u64::from(b % 8)));
    let part = KeyLog::since_bytes(data, held);
    let b = sealcam_fuzz::binding();
    let root = sealcam_fuzz::root_key().public();
    let mut state = OwnerKeyState::new(b.owner, sealcam_fuzz::owner_key().public(), Some(root), 1, 0);
    if let Ok(log) = KeyLog::from_bytes(data) {
        let _ = state.follow(&log);
        let _ = OwnerKeyState::from_root(b.owner, root, &log);
        let _ = log.to_bytes();
        let part = part.expect("a log that parses has a part since any place");
        assert_eq!(part, log.since(held).to_bytes());
        KeyLog::from_bytes(&part).expect("the part parses");
    }
    if let Ok(st) = KeyStatement::from_bytes(data) {
        let _ = state.apply(&st);
    }
});
