//! Property tests: every size round-trips for 1–20 recipients, and a verified
//! range read at any offset returns exactly the original bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bytes, World};
use proptest::prelude::*;
use sealcam_format::{open, open_to_vec, StreamOpener};

/// Sizes at every boundary: empty, the chunk size and its neighbours, and the
/// body sizes that put the end of the signed region on a chunk boundary.
fn edge_sizes() -> Vec<usize> {
    // The inner header of format v3 (tests/common names the followed key).
    let inner = 129 + "video/mp4".len();
    let mut v = vec![0, 1, 65535, 65536, 65537, 131071, 131072, 131073];
    for k in 1..=2 {
        let b = k * 65536 - inner;
        v.extend([b - 1, b, b + 1]);
        // The trailer (32 per piece + 72) ending exactly on a boundary.
        let t = 32 * k + 72;
        v.extend([b - t - 1, b - t, b - t + 1]);
    }
    v
}

#[test]
fn edge_sizes_round_trip_all_openers() {
    let w = World::new(2);
    for size in edge_sizes() {
        let body = bytes(size, size as u64);
        let (h, p) = w.seal(&body);
        let o = open_to_vec(&h, &p, &[&w.viewers[1]], &w.binding, &w.device.public()).unwrap();
        assert_eq!(o.body, body, "size {size}");
        let mut s = StreamOpener::new(
            &h,
            &p[..],
            p.len() as u64,
            &w.ids(),
            &w.binding,
            &w.device.public(),
        )
        .unwrap();
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut s, &mut got).unwrap();
        assert_eq!(got, body, "streaming, size {size}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_any_size_any_recipients(size in 0usize..300_000, recipients in 1usize..=20, pick in 0usize..20) {
        let w = World::new(recipients);
        let body = bytes(size, size as u64 ^ 7);
        let (h, p) = w.seal(&body);
        let who = &w.viewers[pick % recipients];
        let o = open_to_vec(&h, &p, &[who], &w.binding, &w.device.public()).unwrap();
        prop_assert_eq!(o.body, body);
    }

    #[test]
    fn seek_anywhere_returns_the_original(size in 1usize..400_000, a in 0.0f64..1.0, len in 0usize..200_000) {
        let w = World::new(1);
        let body = bytes(size, 42);
        let (h, p) = w.seal(&body);
        let mut r = open(&h, &p[..], &w.ids(), &w.binding, &w.device.public()).unwrap();
        let start = ((size as f64) * a) as u64;
        let end = (start + len as u64).min(size as u64);
        let got = r.read_range(start..end).unwrap();
        prop_assert_eq!(&got[..], &body[start as usize..end as usize]);
        // Through Seek + Read as well.
        use std::io::{Read, Seek, SeekFrom};
        r.seek(SeekFrom::Start(start)).unwrap();
        let mut buf = vec![0u8; (end - start) as usize];
        r.read_exact(&mut buf).unwrap();
        prop_assert_eq!(&buf[..], &body[start as usize..end as usize]);
    }
}
