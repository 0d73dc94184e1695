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
