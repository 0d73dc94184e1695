//! Version 2 padding: one size for records, buckets for thumbnails, Padmé
//! for clips — and padding that is verified like the body.

use sealcam_format::padding::padded_len;
use sealcam_format::PartKind;

use crate::{body, Gen, INNER};

pub(crate) fn vectors(g: &mut Gen) {
    let me = g.viewer.clone();
    let record = br#"{"type":"person","labels":["person","car"],"duration_ms":12000}"#.to_vec();
    let rb = g.binding_of(PartKind::Record);
    let (hr, pr) = g.seal_with(&g.device.clone(), rb, &record);
    g.object(
        "ok_record_one_size",
        "ok",
        "an event record padded to the one record size (1024-byte signed region)",
        &hr,
        &pr,
        rb,
        &me,
        Some(&record),
    );
    let thumb = body(20_000);
    let tb = g.binding_of(PartKind::Thumbnail);
    let (ht, pt) = g.seal_with(&g.device.clone(), tb, &thumb);
    g.object(
        "ok_thumbnail_bucket",
        "ok",
        "a 20000-byte thumbnail padded to the 32 KiB bucket",
        &ht,
        &pt,
        tb,
        &me,
        Some(&thumb),
    );
    let clip = body(300_000);
    let (hc, pc) = g.seal(&clip);
    g.object(
        "ok_clip_padme",
        "ok",
        "a 300000-byte clip padded by Padmé",
        &hc,
        &pc,
        g.binding,
        &me,
        Some(&clip),
    );

    let x = padded_len(PartKind::Clip, (INNER + clip.len()) as u64).unwrap_or(0) as usize;
    let pad_at = INNER + clip.len() + 10;
    assert!(pad_at < x, "the clip has padding");
    // The ciphertext of a padding byte changed: the AEAD fails.
    let mut flipped = pc.clone();
    let chunk = pad_at / sealcam_format::stream::CHUNK;
    flipped[16
        + chunk * sealcam_format::stream::ENC_CHUNK
        + pad_at % sealcam_format::stream::CHUNK] ^= 1;
    g.refused(
        "fail_flipped_padding",
        "corrupt",
        "one byte of padding changed in the ciphertext",
        &hc,
        &flipped,
    );
    let forged = g.forge(&hc, &pc, |pl| pl[pad_at] = 1);
    g.refused(
        "fail_padding_forged_by_recipient",
        "bad signature",
        "a co-recipient set a padding byte and re-encrypted",
        &hc,
        &forged,
    );
    let resigned = g.resign(&hc, &pc, |signed, _| signed[pad_at] = 1);
    g.refused(
        "fail_padding_signed_nonzero",
        "corrupt",
        "the camera signed padding that is not zero",
        &hc,
        &resigned,
    );
    let resigned = g.resign(&hc, &pc, |_, body_len| *body_len = 100);
    g.refused(
        "fail_body_length_not_padded",
        "truncated",
        "the signed body length is too short for the padded length",
        &hc,
        &resigned,
    );
    let resigned = g.resign(&hc, &pc, |signed, _| {
        signed.extend_from_slice(&[0u8; 70_000])
    });
    g.refused(
        "fail_padding_too_long",
        "truncated",
        "70000 more bytes of padding than the rule gives, signed",
        &hc,
        &resigned,
    );
    let resigned = g.resign(&hr, &pr, |signed, body_len| {
        signed.truncate(INNER + record.len());
        *body_len = record.len() as u64;
    });
    let rb_vec = rb;
    g.object(
        "fail_record_not_padded",
        "truncated",
        "a record signed without its padding (version 1 layout in a version 2 object)",
        &hr,
        &resigned,
        rb_vec,
        &me,
        None,
    );
}
