#![no_main]
use libfuzzer_sys::fuzz_target;
use sealcam_format::stream::StreamDecryptor;

fuzz_target!(|data: &[u8]| {
    let mut s = StreamDecryptor::new(&[0x42; 32], data);
    while let Ok(Some(_)) = s.next_chunk() {}
});
