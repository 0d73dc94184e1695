#![no_main]
use std::io::Read;

use libfuzzer_sys::fuzz_target;
use sealcam_format::{open, open_to_vec, StreamOpener};

fuzz_target!(|data: &[u8]| {
    let Some((header, payload)) = sealcam_fuzz::split(data) else { return };
    let (id, b, dev) = (sealcam_fuzz::viewer(), sealcam_fuzz::binding(), sealcam_fuzz::device().public());
    let _ = open_to_vec(header, payload, &[&id], &b, &dev);
    if let Ok(mut r) = open(header, payload, &[&id], &b, &dev) {
        let len = r.body_len();
        let _ = r.read_range(len / 3..len / 2 + 1);
    }
    // The batched copy (a helper thread opens chunks where there are cores).
    if let Ok(mut r) = open(header, payload, &[&id], &b, &dev) {
        let _ = r.copy_to(&mut std::io::sink());
    }
    if let Ok(mut s) = StreamOpener::new(header, payload, payload.len() as u64, &[&id], &b, &dev) {
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }
});
