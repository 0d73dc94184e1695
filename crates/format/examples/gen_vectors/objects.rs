//! Objects that open, objects for someone else or something else (S2), and
//! signatures that do not verify (S3).

use sealcam_format::stream::CHUNK;
use sealcam_format::{rewrap_adding, PartKind};
use sealcam_keys::{CameraId, DeviceKey, EventId, OwnerId, ViewerIdentity};

use crate::{body, Gen, INNER};

pub(crate) fn opened(g: &mut Gen) {
    let (me, other) = (g.viewer.clone(), g.other_viewer.clone());
    let b = g.binding;
    let small = body(20 * 1024);
    let (h, p) = g.seal(&small);
    g.object(
        "ok_thumbnail_size",
        "ok",
        "a 20 KiB body in one chunk",
        &h,
        &p,
        b,
        &me,
        Some(&small),
    );
    g.object(
        "ok_second_recipient",
        "ok",
        "opened by the second recipient",
        &h,
        &p,
        b,
        &other,
        Some(&small),
    );
    let (he, pe) = g.seal(&[]);
    g.object(
        "ok_empty_body",
        "ok",
        "an empty body",
        &he,
        &pe,
        b,
        &me,
        Some(&[]),
    );
    let exact = body(CHUNK - INNER);
    let (hx, px) = g.seal(&exact);
    g.object(
        "ok_signed_region_ends_on_chunk",
        "ok",
        "inner header + body = 65536 bytes: no padding",
        &hx,
        &px,
        b,
        &me,
        Some(&exact),
    );
    let clip = body(3 * CHUNK + 1000);
    let (hc, pc) = g.seal(&clip);
    g.object(
        "ok_clip_four_chunks",
        "ok",
        "a clip over four chunks",
        &hc,
        &pc,
        b,
        &me,
        Some(&clip),
    );
    let newcomer = ViewerIdentity::generate();
    let rewrapped = rewrap_adding(&hc, &[&me], &[newcomer.to_public()]).unwrap();
    g.object(
        "ok_rewrapped_header",
        "ok",
        "header re-wrapped to a new viewer into an unused slot, payload unchanged",
        &rewrapped,
        &pc,
        b,
        &newcomer,
        Some(&clip),
    );
    // Sixteen recipients fill every slot; a re-wrap adds a block of slots.
    let mut many: Vec<_> = (0..15)
        .map(|_| ViewerIdentity::generate().to_public())
        .collect();
    many.push(me.to_public());
    let (hf, pf) = g.seal_to(&many, &g.device.clone(), b, &small);
    let grown = rewrap_adding(&hf, &[&me], &[newcomer.to_public()]).unwrap();
    g.object(
        "ok_rewrapped_beyond_sixteen_slots",
        "ok",
        "sixteen recipients re-wrapped to a seventeenth: 32 slots",
        &grown,
        &pf,
        b,
        &newcomer,
        Some(&small),
    );
    let mut zeros = body(5000);
    zeros.extend_from_slice(&[0u8; 70_000]);
    let (hz, pz) = g.seal(&zeros);
    g.object(
        "ok_body_ends_in_zeros",
        "ok",
        "a body whose last 70000 bytes are zero, like its padding",
        &hz,
        &pz,
        b,
        &me,
        Some(&zeros),
    );
}

pub(crate) fn misdelivered(g: &mut Gen) {
    let (h, p) = g.seal(&body(20 * 1024));
    let stranger = ViewerIdentity::generate();
    let b = g.binding;
    g.object(
        "fail_not_addressed",
        "not addressed",
        "a viewer that is not a recipient",
        &h,
        &p,
        b,
        &stranger,
        None,
    );
    let other_event = crate::Binding {
        event: EventId::random(),
        ..b
    };
    let (h2, p2) = g.seal_with(&g.device.clone(), other_event, &body(20 * 1024));
    g.refused(
        "fail_header_of_another_object",
        "misdelivered",
        "the header of another object of the same camera (its binding tag differs)",
        &h2,
        &p,
    );
    g.refused(
        "fail_payload_of_another_object",
        "misdelivered",
        "the right header, the payload of another object of the same size",
        &h,
        &p2,
    );
    let (_h3, p3) = g.seal_with(&g.device.clone(), other_event, &body(3 * CHUNK));
    g.refused(
        "fail_payload_of_another_size",
        "misdelivered",
        "the right header, the payload of a longer object",
        &h,
        &p3,
    );
    g.refused(
        "fail_payload_cut_to_another_size",
        "misdelivered",
        "the right header, another object's payload cut to a length no object has",
        &h,
        &p3[..1000],
    );
    let me = g.viewer.clone();
    for (name, field) in [
        ("event", 0),
        ("camera", 1),
        ("kind", 2),
        ("owner", 3),
        ("sequence", 4),
    ] {
        let mut asked = b;
        match field {
            0 => asked.event = EventId::random(),
            1 => asked.camera = CameraId::random(),
            2 => asked.kind = PartKind::Thumbnail,
            3 => asked.owner = OwnerId::random(),
            _ => asked.sequence = 1,
        }
        g.object(
            &format!("fail_swapped_{name}"),
            "misdelivered",
            &format!("asked for another {name}"),
            &h,
            &p,
            asked,
            &me,
            None,
        );
    }
}

pub(crate) fn signatures(g: &mut Gen) {
    let small = body(20 * 1024);
    let (h, p) = g.seal(&small);
    let (ho, po) = g.seal_with(&DeviceKey::generate(), g.binding, &small);
    g.refused(
        "fail_signature_of_another_camera",
        "bad signature",
        "sealed and signed by another camera's key",
        &ho,
        &po,
    );
    let forged = g.forge(&h, &p, |pl| pl[INNER + 10] ^= 0x20);
    g.refused(
        "fail_body_forged_by_recipient",
        "bad signature",
        "a co-recipient re-encrypted an edited body with the file key",
        &h,
        &forged,
    );
    let forged = g.forge(&h, &p, |pl| pl[70] ^= 0x01);
    g.refused(
        "fail_inner_header_forged_by_recipient",
        "bad signature",
        "a co-recipient changed the capture time",
        &h,
        &forged,
    );
    let clip = body(3 * CHUNK + 1000);
    let (hc, pc) = g.seal(&clip);
    let forged = g.forge(&hc, &pc, |pl| pl.swap(10_000, CHUNK + 10_000));
    g.refused(
        "fail_chunks_spliced_by_recipient",
        "bad signature",
        "a co-recipient swapped bytes between chunks",
        &hc,
        &forged,
    );
    let forged = g.forge(&h, &p, |pl| pl[8] = 4);
    g.refused(
        "fail_unsupported_version",
        "unsupported version",
        "inner header version 4",
        &h,
        &forged,
    );
}
