//! Sealing and opening: round trips, and each refusal with its named error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod forge;

use std::io::Read;

use common::{bytes, World};
use sealcam_format::{open, open_to_vec, Misdelivery, OpenError, PartKind, StreamOpener};
use sealcam_keys::{DeviceKey, EventId, ViewerIdentity};

#[test]
fn round_trip_three_ways() {
    let w = World::new(2);
    let body = bytes(200_000, 1);
    let (h, p) = w.seal(&body);
    let dev = w.device.public();

    let o = open_to_vec(&h, &p, &[&w.viewers[1]], &w.binding, &dev).unwrap();
    assert_eq!(o.body, body);
    assert_eq!(o.meta.epoch, 3);
    assert_eq!(o.meta.content_type, "video/mp4");

    let mut r = StreamOpener::new(
        &h,
        &p[..],
        p.len() as u64,
        &[&w.viewers[0]],
        &w.binding,
        &dev,
    )
    .unwrap();
    let mut got = Vec::new();
    r.read_to_end(&mut got).unwrap();
    assert_eq!(got, body);

    let mut v = open(&h, &p[..], &[&w.viewers[0]], &w.binding, &dev).unwrap();
    assert_eq!(
        v.read_range(70_000..140_001).unwrap(),
        body[70_000..140_001]
    );
}

#[test]
fn not_addressed_to_a_stranger() {
    let w = World::new(1);
    let (h, p) = w.seal(b"thumb");
    let stranger = ViewerIdentity::generate();
    let e = open_to_vec(&h, &p, &[&stranger], &w.binding, &w.device.public()).unwrap_err();
    assert!(matches!(e, OpenError::NotAddressedToViewer), "{e:?}");
    assert!(e.is_misdelivery());
}

#[test]
fn misdelivered_other_event_and_kind() {
    let w = World::new(1);
    let (h, p) = w.seal(b"thumb");
    let mut asked = w.binding;
    asked.event = EventId::now_v7();
    // The header's binding tag names another object: refused before any
    // of the payload is decrypted.
    let e = open_to_vec(&h, &p, &w.ids(), &asked, &w.device.public()).unwrap_err();
    match e {
        OpenError::Misdelivered(m) => assert_eq!(*m, Misdelivery::HeaderOfAnotherObject),
        other => panic!("{other:?}"),
    }
    let mut asked = w.binding;
    asked.kind = PartKind::Thumbnail;
    assert!(open_to_vec(&h, &p, &w.ids(), &asked, &w.device.public())
        .unwrap_err()
        .is_misdelivery());
}

#[test]
fn payload_of_another_object_is_misdelivery() {
    // Two objects with the same binding (a camera that sealed twice): the
    // header is the one asked for, the payload is not its own.
    let w = World::new(1);
    let (h1, _) = w.seal(b"one");
    let (_, p2) = w.seal(&[9u8; 300_000]);
    for p in [&p2[..], &p2[..40_000], &p2[..17]] {
        let e = open_to_vec(&h1, p, &w.ids(), &w.binding, &w.device.public()).unwrap_err();
        assert!(
            matches!(&e, OpenError::Misdelivered(m) if **m == Misdelivery::PayloadOfAnotherObject),
            "{} bytes: {e:?}",
            p.len()
        );
    }
}

#[test]
fn a_rewrapped_header_stays_bound_to_its_payload() {
    // Re-wrapping adds a recipient and keeps the binding: the newcomer opens
    // the object, and the re-wrapped header still refuses another payload.
    let w = World::new(1);
    let (h1, p1) = w.seal(b"one");
    let (_, p2) = w.seal(b"two");
    let newcomer = ViewerIdentity::generate();
    let h1 = sealcam_format::rewrap_adding(&h1, &w.ids(), &[newcomer.to_public()]).unwrap();
    let dev = w.device.public();
    for v in [&w.viewers[0], &newcomer] {
        assert_eq!(
            open_to_vec(&h1, &p1, &[v], &w.binding, &dev).unwrap().body,
            b"one"
        );
        let e = open_to_vec(&h1, &p2, &[v], &w.binding, &dev).unwrap_err();
        assert!(
            matches!(&e, OpenError::Misdelivered(m) if **m == Misdelivery::PayloadOfAnotherObject),
            "{e:?}"
        );
    }
}

#[test]
fn other_camera_key_is_bad_signature() {
    let w = World::new(1);
    let (h, p) = w.seal(b"thumb");
    let e = open_to_vec(
        &h,
        &p,
        &w.ids(),
        &w.binding,
        &DeviceKey::generate().public(),
    )
    .unwrap_err();
    assert!(matches!(e, OpenError::BadSignature), "{e:?}");
}

#[test]
fn flipped_bytes_and_truncation_are_refused_and_nothing_released() {
    let w = World::new(1);
    let body = bytes(150_000, 2);
    let (h, p) = w.seal(&body);
    let dev = w.device.public();
    for at in [0usize, 15, 16, 100, 65_551, 65_552 + 16, p.len() - 1] {
        let mut bad = p.clone();
        bad[at] ^= 1;
        let e = open_to_vec(&h, &bad, &w.ids(), &w.binding, &dev).unwrap_err();
        assert!(
            e.is_verification_failure() || e.is_misdelivery(),
            "flip at {at}: {e:?}"
        );
    }
    // Cut at the chunk boundary: detected as truncation.
    let cut = &p[..16 + 65_552];
    let e = open_to_vec(&h, cut, &w.ids(), &w.binding, &dev).unwrap_err();
    assert!(matches!(e, OpenError::Truncated(_)), "{e:?}");
}

#[test]
fn streaming_reader_fails_at_the_end_on_a_forged_body() {
    // A recipient who knows the file key re-encrypts a modified body: the
    // AEAD passes, the signature does not.
    let w = World::new(1);
    let body = bytes(100_000, 3);
    let (h, p) = w.seal(&body);
    let forged = forge::forge(&h, &p, &w.viewers[0], |plain| plain[200] ^= 0x55);
    let mut r = StreamOpener::new(
        &h,
        &forged[..],
        forged.len() as u64,
        &w.ids(),
        &w.binding,
        &w.device.public(),
    )
    .unwrap();
    let mut sink = Vec::new();
    let e = r.read_to_end(&mut sink).unwrap_err();
    assert!(matches!(OpenError::from_io(e), OpenError::BadSignature));
    // The random-access opener releases nothing at all.
    let e = open_to_vec(&h, &forged, &w.ids(), &w.binding, &w.device.public()).unwrap_err();
    assert!(matches!(e, OpenError::BadSignature), "{e:?}");
}

/// A payload source that records which byte ranges were read.
struct Recording<'a> {
    data: &'a [u8],
    reads: std::rc::Rc<std::cell::RefCell<Vec<std::ops::Range<u64>>>>,
}

impl sealcam_format::RangeSource for Recording<'_> {
    fn total_len(&mut self) -> std::io::Result<u64> {
        Ok(self.data.len() as u64)
    }
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.reads
            .borrow_mut()
            .push(offset..offset + buf.len() as u64);
        let mut src = self.data;
        sealcam_format::RangeSource::read_exact_at(&mut src, offset, buf)
    }
}

/// The verified reader (and `open_to_vec`, built on it) fetches the first
/// chunk, the trailer chunks and the body's chunks, never a chunk that holds
/// only padding; the sequential reader goes through them all.
#[test]
fn verified_reader_skips_chunks_of_padding_only() {
    use sealcam_format::stream::{CHUNK, ENC_CHUNK, NONCE};
    let w = World::new(1);
    // 4 MiB + 90 bytes of inner header: Padmé rounds to 4 MiB + 128 KiB, so
    // chunk 65 is padding only and chunk 66 holds the trailer.
    let body = bytes(4 << 20, 7);
    let (h, p) = w.seal(&body);
    let dev = w.device.public();
    let x = sealcam_format::padding::padded_len(PartKind::Clip, 90 + body.len() as u64).unwrap();
    assert_eq!(x, (4 << 20) + (128 << 10));
    let body_end_chunk = (90 + body.len() as u64 - 1) / CHUNK as u64;
    let trailer_chunk = x / CHUNK as u64;
    assert!(trailer_chunk > body_end_chunk + 1, "no padding-only chunk");
    let pad_only = |r: &std::ops::Range<u64>| {
        (body_end_chunk + 1..trailer_chunk).any(|i| {
            let c = NONCE as u64 + i * ENC_CHUNK as u64;
            r.start < c + ENC_CHUNK as u64 && c < r.end
        })
    };

    let reads = std::rc::Rc::default();
    let src = Recording {
        data: &p,
        reads: std::rc::Rc::clone(&reads),
    };
    let mut r = open(&h, src, &[&w.viewers[0]], &w.binding, &dev).unwrap();
    let mut got = Vec::new();
    r.read_to_end(&mut got).unwrap();
    assert_eq!(got, body);
    // Seeking to the end of the body and reading past it touches nothing more.
    r.read_range(body.len() as u64 - 1..u64::MAX).unwrap();
    drop(r);
    let reads = reads.borrow();
    assert!(reads.len() > 60, "{reads:?}");
    assert!(
        !reads.iter().any(pad_only),
        "a padding-only chunk was fetched: {reads:?}"
    );

    let mut s = StreamOpener::new(
        &h,
        &p[..],
        p.len() as u64,
        &[&w.viewers[0]],
        &w.binding,
        &dev,
    )
    .unwrap();
    let mut streamed = Vec::new();
    s.read_to_end(&mut streamed).unwrap();
    assert_eq!(streamed, body);
}
