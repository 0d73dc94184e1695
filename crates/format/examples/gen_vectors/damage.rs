//! One changed byte in every region, and cuts at every region boundary.

use age::Identity;
use sealcam_format::age_header::AgeHeader;
use sealcam_format::padding::padded_len;
use sealcam_format::stream::{CHUNK, ENC_CHUNK};
use sealcam_format::PartKind;
use sealcam_keys::ViewerIdentity;

use crate::{body, Gen, INNER};

/// The byte offset of the body line of the `index`-th stanza of `header`.
fn stanza_body_at(header: &[u8], index: usize) -> usize {
    let mut at = header.iter().position(|&c| c == b'\n').unwrap() + 1;
    for _ in 0..index {
        // Each X25519 stanza is one argument line and one body line.
        for _ in 0..2 {
            at += header[at..].iter().position(|&c| c == b'\n').unwrap() + 1;
        }
    }
    at + header[at..].iter().position(|&c| c == b'\n').unwrap() + 1
}

/// The index of the stanza `who` unwraps, or of one nobody of `all` unwraps.
fn stanza_of(header: &[u8], who: Option<&ViewerIdentity>, all: &[&ViewerIdentity]) -> usize {
    let parsed = AgeHeader::parse(header).unwrap();
    let opens = |id: &ViewerIdentity, s| id.as_age().unwrap_stanza(s).is_some_and(|r| r.is_ok());
    parsed
        .stanzas()
        .iter()
        .position(|s| match who {
            Some(id) => opens(id, s),
            None => s.tag == "X25519" && !all.iter().any(|id| opens(id, s)),
        })
        .unwrap()
}

fn flip_char(b: &mut u8) {
    *b = if *b == b'A' { b'B' } else { b'A' };
}

pub(crate) fn flipped(g: &mut Gen) {
    let clip = body(3 * CHUNK + 1000);
    let (hc, pc) = g.seal(&clip);
    let (me, other) = (g.viewer.clone(), g.other_viewer.clone());
    let mine = stanza_body_at(&hc, stanza_of(&hc, Some(&me), &[]));
    let unused = stanza_body_at(&hc, stanza_of(&hc, None, &[&me, &other]));
    let bind = hc.windows(12).position(|w| w == b"sealcam-bind").unwrap() + 14;
    let header_regions = [
        ("x25519_stanza", "not addressed", mine + 3),
        ("unused_slot", "header mac", unused + 3),
        ("bind_stanza", "header mac", bind),
        ("header_mac", "header mac", hc.len() - 10),
    ];
    for (region, expect, at) in header_regions {
        let mut h = hc.clone();
        flip_char(&mut h[at]);
        let comment = format!("one character changed in the {region}");
        g.refused(&format!("fail_flipped_{region}"), expect, &comment, &h, &pc);
    }
    let payload_regions = [
        ("nonce", 3),
        ("inner_header", 16 + 20),
        ("body", 16 + 2 * ENC_CHUNK + 5),
        ("hash_list", pc.len() - 16 - 72 - 40),
        ("body_length", pc.len() - 16 - 70),
        ("signature", pc.len() - 16 - 20),
        ("last_tag", pc.len() - 3),
    ];
    for (region, at) in payload_regions {
        let mut p = pc.clone();
        p[at] ^= 0x40;
        let comment = format!("one byte changed in the {region}");
        g.refused(
            &format!("fail_flipped_{region}"),
            "corrupt",
            &comment,
            &hc,
            &p,
        );
    }
}

pub(crate) fn truncated(g: &mut Gen) {
    let clip = body(3 * CHUNK + 1000);
    let (hc, pc) = g.seal(&clip);
    let intro = hc.iter().position(|&c| c == b'\n').unwrap() + 1;
    let first_stanza = stanza_body_at(&hc, 0);
    let mac_line = hc.windows(4).position(|w| w == b"\n---").unwrap() + 1;
    let header_cuts = [
        (
            "header_intro",
            &hc[..intro],
            "the header cut after its intro line",
        ),
        (
            "header_stanza",
            &hc[..first_stanza + 44],
            "the header cut after its first stanza",
        ),
        (
            "before_mac",
            &hc[..mac_line],
            "the header cut before its MAC line",
        ),
    ];
    for (name, h, comment) in header_cuts {
        g.refused(
            &format!("fail_truncated_{name}"),
            "truncated",
            comment,
            h,
            &[],
        );
    }
    let payload_cuts = [
        ("no_nonce", 0, "the header alone, no payload"),
        ("after_nonce", 16, "the payload cut after its nonce"),
        (
            "at_chunk_boundary",
            16 + ENC_CHUNK,
            "the payload cut after its first chunk",
        ),
        (
            "at_third_chunk_boundary",
            16 + 3 * ENC_CHUNK,
            "the payload cut after its third chunk",
        ),
    ];
    for (name, cut, comment) in payload_cuts {
        g.refused(
            &format!("fail_truncated_{name}"),
            "truncated",
            comment,
            &hc,
            &pc[..cut],
        );
    }
    let x = padded_len(PartKind::Clip, (INNER + clip.len()) as u64).unwrap() as usize;
    let pieces = x.div_ceil(CHUNK);
    let plain_len = x + 32 * pieces + 72;
    let plaintext_cuts = [
        ("inner_header", 40, "cut inside the inner header"),
        ("after_inner_header", INNER, "cut after the inner header"),
        (
            "mid_body",
            INNER + clip.len() / 2,
            "cut in the middle of the body",
        ),
        (
            "after_body",
            INNER + clip.len(),
            "cut after the body, before the padding",
        ),
        ("after_padding", x, "cut after the padding"),
        (
            "after_hash_list",
            x + pieces * 32,
            "cut after the hash list",
        ),
        ("before_signature", plain_len - 64, "signature removed"),
    ];
    for (name, cut, comment) in plaintext_cuts {
        let forged = g.forge(&hc, &pc, |pl| pl.truncate(cut));
        let comment = format!("re-encrypted by a key holder, {comment}");
        g.refused(
            &format!("fail_truncated_plaintext_{name}"),
            "truncated",
            &comment,
            &hc,
            &forged,
        );
    }
    let mut extended = pc.clone();
    extended.extend_from_slice(&[0u8; 40]);
    g.refused(
        "fail_trailing_bytes",
        "corrupt",
        "40 bytes appended to the payload",
        &hc,
        &extended,
    );
}
