//! Sealing from a reader on a machine with a second core hashes on a helper
//! thread (`seal/pipeline.rs`); sealing through `Write` does not. Both must
//! give objects of the same length that open and verify to the same body,
//! at every batch and chunk boundary and with readers that return odd
//! amounts.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{self, Read, Write};

use common::{bytes, World};
use sealcam_format::stream::CHUNK;
use sealcam_format::{open_to_vec, Sealer};

/// Returns at most `step` bytes per read, and sometimes an interruption.
struct Choppy<'a> {
    data: &'a [u8],
    step: usize,
    calls: usize,
}

impl Read for Choppy<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 7 == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(self.step).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn reader_and_writer_paths_agree_at_every_boundary() {
    let w = World::new(2);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("two_cores: {cores} cores here (the pipeline runs with 2 or more)");
    let c = CHUNK;
    for len in [
        0,
        c - 300,
        c,
        2 * c,
        16 * c,
        17 * c,
        17 * c + 1,
        33 * c - 5,
        34 * c,
        40 * c + 12_345,
    ] {
        let body = bytes(len, len as u64);
        for step in [usize::MAX, 5000, 3 * c + 17] {
            let sealer = Sealer::new(&w.set, &w.device, w.meta()).unwrap();
            let mut reader = Choppy {
                data: &body,
                step,
                calls: 0,
            };
            let (h1, p1) = sealcam_format::seal(sealer, &mut reader, Vec::new()).unwrap();

            let sealer = Sealer::new(&w.set, &w.device, w.meta()).unwrap();
            let h2 = sealer.header().to_vec();
            let mut writer = sealer.payload(Vec::new()).unwrap();
            for piece in body.chunks(40_000) {
                writer.write_all(piece).unwrap();
            }
            let p2 = writer.finish().unwrap();

            assert_eq!(p1.len(), p2.len(), "payload lengths for a {len}-byte body");
            for (h, p) in [(&h1, &p1), (&h2, &p2)] {
                let opened = open_to_vec(h, p, &w.ids(), &w.binding, &w.device.public()).unwrap();
                assert!(opened.body == body, "{len}-byte body, reads of {step}");
            }
        }
    }
}

/// `copy_to` writes what reading the verified reader to its end gives, from
/// any position, and stops at a chunk that does not verify having written
/// only bytes of chunks before it.
#[test]
fn copy_to_writes_what_the_reader_reads() {
    use std::io::{Seek, SeekFrom};

    let w = World::new(1);
    let c = CHUNK as u64;
    for len in [0u64, 1000, c, 3 * c + 7, 16 * c, 17 * c + 1, 50 * c + 999] {
        let body = bytes(len as usize, len + 1);
        let (header, payload) = w.seal(&body);
        for from in [0, 1, c - 10, 16 * c + 3, len] {
            let mut r = sealcam_format::open(
                &header,
                &payload[..],
                &w.ids(),
                &w.binding,
                &w.device.public(),
            )
            .unwrap();
            r.seek(SeekFrom::Start(from)).unwrap();
            let mut out = Vec::new();
            let n = r.copy_to(&mut out).unwrap();
            let want = &body[(from.min(len)) as usize..];
            assert_eq!(n, want.len() as u64, "{len}-byte body from {from}");
            assert!(out == want, "{len}-byte body from {from}");
        }
    }

    // A damaged chunk in the third batch: the error comes, and what was
    // written is a prefix of the body that ends before that chunk.
    let body = bytes((50 * c) as usize, 9);
    let (header, mut payload) = w.seal(&body);
    let bad_chunk = 40usize;
    payload[16 + bad_chunk * (CHUNK + 16) + 100] ^= 1;
    let mut r = sealcam_format::open(
        &header,
        &payload[..],
        &w.ids(),
        &w.binding,
        &w.device.public(),
    )
    .unwrap();
    let mut out = Vec::new();
    let err = r.copy_to(&mut out).unwrap_err();
    println!(
        "copy_to: damaged chunk {bad_chunk}: {err}; {} bytes written before it",
        out.len()
    );
    assert!(
        out.len() < bad_chunk * CHUNK,
        "bytes of the damaged chunk were written"
    );
    assert!(body.starts_with(&out));
}
