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

/// The body offset where chunk 1 starts (chunk 0 begins with the inner
/// header): body lengths `first + k·CHUNK` end exactly on a chunk.
fn first_chunk_end(w: &World) -> usize {
    let (header, payload) = w.seal(&bytes(2 * CHUNK, 1));
    let r = sealcam_format::open(
        &header,
        &payload[..],
        &w.ids(),
        &w.binding,
        &w.device.public(),
    )
    .unwrap();
    (0..CHUNK as u64)
        .find(|&b| r.opened().chunks_for(b..b + 1).start == 1)
        .unwrap() as usize
}

/// Lengths at and around every chunk and batch boundary.
fn boundary_lengths(first: usize) -> Vec<usize> {
    let mut v = vec![0, 1, 40 * CHUNK + 12_345];
    for k in [0, 1, 15, 16, 17, 32, 33] {
        let at = first + k * CHUNK;
        v.extend([at - 1, at, at + 1]);
    }
    v
}

#[test]
fn reader_and_writer_paths_agree_at_every_boundary() {
    let w = World::new(2);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("two_cores: {cores} cores here (the pipeline runs with 2 or more)");
    let first = first_chunk_end(&w);
    for len in boundary_lengths(first) {
        let body = bytes(len, len as u64);
        for step in [usize::MAX, 5000, 3 * CHUNK + 17] {
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
    let first = first_chunk_end(&w) as u64;
    for len in boundary_lengths(first as usize)
        .into_iter()
        .map(|l| l as u64)
    {
        let body = bytes(len as usize, len + 1);
        let (header, payload) = w.seal(&body);
        for from in [0, 1, first - 1, first, 16 * c + first, len] {
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
    // Exactly the first two batches (16 chunks each), none of the third.
    assert_eq!(out.len() as u64, 32 * c - (c - first));
    assert!(body.starts_with(&out));
    assert_eq!(r.stream_position().unwrap(), out.len() as u64);
}

/// A reader that fails part way leaves the writer refusing to go on: sealing
/// more under the same key could reuse a chunk nonce.
#[test]
fn an_error_part_way_ends_the_payload() {
    struct FailsAt(Vec<u8>, usize);
    impl Read for FailsAt {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.1 == 0 {
                return Err(io::ErrorKind::TimedOut.into());
            }
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            self.1 -= n;
            Ok(n)
        }
    }
    let w = World::new(1);
    let body = bytes(40 * CHUNK, 3);
    let sealer = Sealer::new(&w.set, &w.device, w.meta()).unwrap();
    let mut writer = sealer.payload(Vec::new()).unwrap();
    let mut reader = FailsAt(body.clone(), 20 * CHUNK + 5);
    let first = writer.copy_from(&mut reader).unwrap_err();
    assert_eq!(first.kind(), io::ErrorKind::TimedOut);
    reader.1 = usize::MAX;
    assert!(
        writer.copy_from(&mut reader).is_err(),
        "a second copy_from went on"
    );
    assert!(writer.write_all(b"more").is_err(), "a write went on");
    assert!(
        writer.finish().is_err(),
        "finish made an object of a cut body"
    );
}
