//! Generates the committed test vectors in `tests/vectors/`.
//!
//! ```sh
//! cargo run -p sealcam-format --example gen_vectors -- crates/format/tests/vectors
//! ```
//!
//! Every vector names the outcome a correct opener must give. Keys are fresh
//! on each run (age wraps with fresh ephemeral keys anyway), so regenerating
//! rewrites every file; the expectations do not change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/vector_file/mod.rs"]
mod vector_file;

#[path = "../tests/forge/mod.rs"]
mod forge;

use std::path::{Path, PathBuf};

use sealcam_format::age_header::AgeHeader;
use sealcam_format::stream::{CHUNK, ENC_CHUNK};
use sealcam_format::{rewrap_adding, Binding, ObjectMeta, PartKind, Sealer};
use sealcam_keys::{
    CameraId, DeviceKey, EventId, OwnerId, OwnerSigningKey, RecipientSet, RecipientSetPin,
    ViewerIdentity,
};
use sha2::{Digest, Sha256};
use vector_file::VectorFile;

struct Gen {
    dir: PathBuf,
    owner_key: OwnerSigningKey,
    device: DeviceKey,
    viewer: ViewerIdentity,
    other_viewer: ViewerIdentity,
    binding: Binding,
    count: usize,
}

fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

impl Gen {
    fn meta(&self, binding: Binding) -> ObjectMeta {
        ObjectMeta {
            binding,
            captured_at_ms: 1_764_374_400_000,
            epoch: 0,
            content_type: "video/mp4".into(),
        }
    }

    fn seal_with(&self, device: &DeviceKey, binding: Binding, body: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let recipients = [self.viewer.to_public(), self.other_viewer.to_public()];
        let mut meta = self.meta(binding);
        meta.epoch = 4;
        let sealer = Sealer::with_recipients(&recipients, device, meta).unwrap();
        sealcam_format::seal(sealer, &mut &body[..], Vec::new()).unwrap()
    }

    fn seal(&self, body: &[u8]) -> (Vec<u8>, Vec<u8>) {
        self.seal_with(&self.device, self.binding, body)
    }

    /// Writes an object vector asking for `asked` with `identity`.
    #[allow(clippy::too_many_arguments)]
    fn object(
        &mut self,
        name: &str,
        expect: &str,
        comment: &str,
        header: &[u8],
        payload: &[u8],
        asked: Binding,
        identity: &ViewerIdentity,
        body: Option<&[u8]>,
    ) {
        let mut v = VectorFile::new();
        v.set("expect", expect)
            .set("comment", comment)
            .set("kind", "object")
            .set("identity", identity.to_secret_text().as_str())
            .set("device", self.device.public())
            .set("owner", asked.owner)
            .set("camera", asked.camera)
            .set("event", asked.event)
            .set("part", asked.kind)
            .set("sequence", asked.sequence)
            .set("header-len", header.len());
        if let Some(b) = body {
            v.set("body", hex::encode(Sha256::digest(b)));
        }
        v.data = [header, payload].concat();
        self.write(name, &v);
    }

    fn write(&mut self, name: &str, v: &VectorFile) {
        std::fs::write(self.dir.join(name), v.encode()).unwrap();
        self.count += 1;
    }

    /// What a co-recipient who knows the file key can do (see `tests/forge`).
    fn forge(&self, header: &[u8], payload: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        forge::forge(header, payload, &self.viewer, edit)
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors"));
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let binding = Binding {
        owner: OwnerId::random(),
        camera: CameraId::random(),
        event: EventId::now_v7(),
        kind: PartKind::Clip,
        sequence: 0,
    };
    let mut g = Gen {
        dir,
        owner_key: OwnerSigningKey::generate(),
        device: DeviceKey::generate(),
        viewer: ViewerIdentity::generate(),
        other_viewer: ViewerIdentity::generate(),
        binding,
        count: 0,
    };
    let me = g.viewer.clone();
    let b = g.binding;

    // ---- ok ----
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
    let other = g.other_viewer.clone();
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
    let inner = 81 + "video/mp4".len();
    let exact = body(CHUNK - inner);
    let (hx, px) = g.seal(&exact);
    g.object(
        "ok_signed_region_ends_on_chunk",
        "ok",
        "inner header + body = 65536 bytes",
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
        "header re-wrapped to a new viewer, payload unchanged",
        &rewrapped,
        &pc,
        b,
        &newcomer,
        Some(&clip),
    );

    // ---- not addressed / misdelivered ----
    let stranger = ViewerIdentity::generate();
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
    let (h2, _p2) = g.seal(&small);
    g.object(
        "fail_header_of_another_object",
        "misdelivered",
        "the header of another object of the same camera",
        &h2,
        &p,
        b,
        &me,
        None,
    );
    for (name, field) in [
        ("event", 0),
        ("camera", 1),
        ("kind", 2),
        ("owner", 3),
        ("sequence", 4),
    ] {
        let mut asked = b;
        match field {
            0 => asked.event = EventId::now_v7(),
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

    // ---- signatures ----
    let other_cam = DeviceKey::generate();
    let (ho, po) = g.seal_with(&other_cam, b, &small);
    g.object(
        "fail_signature_of_another_camera",
        "bad signature",
        "sealed and signed by another camera's key",
        &ho,
        &po,
        b,
        &me,
        None,
    );
    let forged = g.forge(&h, &p, |pl| pl[inner + 10] ^= 0x20);
    g.object(
        "fail_body_forged_by_recipient",
        "bad signature",
        "a co-recipient re-encrypted an edited body with the file key",
        &h,
        &forged,
        b,
        &me,
        None,
    );
    let forged = g.forge(&h, &p, |pl| pl[70] ^= 0x01);
    g.object(
        "fail_inner_header_forged_by_recipient",
        "bad signature",
        "a co-recipient changed the capture time",
        &h,
        &forged,
        b,
        &me,
        None,
    );
    let forged = g.forge(&hc, &pc, |pl| pl.swap(10_000, CHUNK + 10_000));
    g.object(
        "fail_chunks_spliced_by_recipient",
        "bad signature",
        "a co-recipient swapped bytes between chunks",
        &hc,
        &forged,
        b,
        &me,
        None,
    );
    let forged = g.forge(&h, &p, |pl| pl[8] = 2);
    g.object(
        "fail_unsupported_version",
        "unsupported version",
        "inner header version 2",
        &h,
        &forged,
        b,
        &me,
        None,
    );

    // ---- flipped bytes in every region ----
    let hdr = AgeHeader::parse(&hc).unwrap();
    let first_stanza_body = hc.iter().position(|&c| c == b'\n').unwrap() + 1;
    let first_stanza_body = first_stanza_body
        + hc[first_stanza_body..]
            .iter()
            .position(|&c| c == b'\n')
            .unwrap()
        + 1;
    let mac_at = hc.len() - 10;
    let binding_stanza = hc
        .windows(15)
        .position(|w| w == b"sealcam-payload")
        .unwrap()
        + 17;
    let regions: Vec<(&str, &str, usize, bool)> = vec![
        (
            "x25519_stanza",
            "not addressed",
            first_stanza_body + 3,
            true,
        ),
        ("payload_stanza", "header mac", binding_stanza, true),
        ("header_mac", "header mac", mac_at, true),
        ("nonce", "corrupt", 3, false),
        ("inner_header", "corrupt", 16 + 20, false),
        ("body", "corrupt", 16 + 2 * ENC_CHUNK + 5, false),
        ("hash_list", "corrupt", pc.len() - 16 - 72 - 40, false),
        ("body_length", "corrupt", pc.len() - 16 - 70, false),
        ("signature", "corrupt", pc.len() - 16 - 20, false),
        ("last_tag", "corrupt", pc.len() - 3, false),
    ];
    let _ = hdr;
    for (region, expect, at, in_header) in regions {
        let (mut hh, mut pp) = (hc.clone(), pc.clone());
        if in_header {
            hh[at] = if hh[at] == b'A' { b'B' } else { b'A' };
        } else {
            pp[at] ^= 0x40;
        }
        g.object(
            &format!("fail_flipped_{region}"),
            expect,
            &format!("one byte changed in the {region}"),
            &hh,
            &pp,
            b,
            &me,
            None,
        );
    }

    // ---- truncation at every region boundary ----
    let intro = hc.iter().position(|&c| c == b'\n').unwrap() + 1;
    g.object(
        "fail_truncated_header_intro",
        "truncated",
        "the header cut after its intro line",
        &hc[..intro],
        &[],
        b,
        &me,
        None,
    );
    g.object(
        "fail_truncated_header_stanza",
        "truncated",
        "the header cut after its first stanza",
        &hc[..first_stanza_body + 44],
        &[],
        b,
        &me,
        None,
    );
    let mac_line = hc.windows(4).position(|w| w == b"\n---").unwrap() + 1;
    g.object(
        "fail_truncated_before_mac",
        "truncated",
        "the header cut before its MAC line",
        &hc[..mac_line],
        &[],
        b,
        &me,
        None,
    );
    g.object(
        "fail_truncated_no_nonce",
        "truncated",
        "the header alone, no payload",
        &hc,
        &[],
        b,
        &me,
        None,
    );
    g.object(
        "fail_truncated_after_nonce",
        "truncated",
        "the payload cut after its nonce",
        &hc,
        &pc[..16],
        b,
        &me,
        None,
    );
    g.object(
        "fail_truncated_at_chunk_boundary",
        "truncated",
        "the payload cut after its first chunk",
        &hc,
        &pc[..16 + ENC_CHUNK],
        b,
        &me,
        None,
    );
    g.object(
        "fail_truncated_at_third_chunk_boundary",
        "truncated",
        "the payload cut after its third chunk",
        &hc,
        &pc[..16 + 3 * ENC_CHUNK],
        b,
        &me,
        None,
    );
    let plain_len = pc.len() - 16 - 4 * 16;
    let x = inner + clip.len();
    for (name, cut, comment) in [
        (
            "inner_header",
            40,
            "re-encrypted by a key holder, cut inside the inner header",
        ),
        (
            "after_inner_header",
            inner,
            "re-encrypted by a key holder, cut after the inner header",
        ),
        (
            "mid_body",
            inner + clip.len() / 2,
            "re-encrypted by a key holder, cut in the middle of the body",
        ),
        (
            "after_body",
            x,
            "re-encrypted by a key holder, cut after the body",
        ),
        (
            "after_hash_list",
            x + 4 * 32,
            "re-encrypted by a key holder, cut after the hash list",
        ),
        (
            "before_signature",
            plain_len - 64,
            "re-encrypted by a key holder, signature removed",
        ),
    ] {
        let forged = g.forge(&hc, &pc, |pl| pl.truncate(cut));
        g.object(
            &format!("fail_truncated_plaintext_{name}"),
            "truncated",
            comment,
            &hc,
            &forged,
            b,
            &me,
            None,
        );
    }
    let mut extended = pc.clone();
    extended.extend_from_slice(&[0u8; 40]);
    g.object(
        "fail_trailing_bytes",
        "corrupt",
        "40 bytes appended to the payload",
        &hc,
        &extended,
        b,
        &me,
        None,
    );

    // ---- recipient sets ----
    let pin = RecipientSetPin {
        owner: b.owner,
        camera: b.camera,
        owner_key: g.owner_key.public(),
    };
    let viewers = vec![g.viewer.to_public(), g.other_viewer.to_public()];
    let accepted = RecipientSet::new(pin.owner, pin.camera, 5, viewers.clone())
        .unwrap()
        .sign(&g.owner_key);
    let set_vector = |g: &mut Gen,
                      name: &str,
                      expect: &str,
                      comment: &str,
                      data: Vec<u8>,
                      with_accepted: bool| {
        let mut v = VectorFile::new();
        v.set("expect", expect)
            .set("comment", comment)
            .set("kind", "recipient-set")
            .set("owner-key", pin.owner_key)
            .set("owner", pin.owner)
            .set("camera", pin.camera);
        if with_accepted {
            v.set("accepted", hex::encode(accepted.as_bytes()));
        }
        v.data = data;
        g.write(name, &v);
    };
    let newer = RecipientSet::new(pin.owner, pin.camera, 6, viewers[..1].to_vec())
        .unwrap()
        .sign(&g.owner_key);
    set_vector(
        &mut g,
        "ok_set_newer_epoch",
        "ok",
        "a newer set that drops a viewer",
        newer.as_bytes().to_vec(),
        true,
    );
    set_vector(
        &mut g,
        "ok_set_first",
        "ok",
        "the first set after pairing",
        accepted.as_bytes().to_vec(),
        false,
    );
    let old = RecipientSet::new(pin.owner, pin.camera, 4, viewers.clone())
        .unwrap()
        .sign(&g.owner_key);
    set_vector(
        &mut g,
        "fail_set_rolled_back",
        "rolled back",
        "an older set replayed after epoch 5",
        old.as_bytes().to_vec(),
        true,
    );
    let same_epoch = RecipientSet::new(pin.owner, pin.camera, 5, viewers[..1].to_vec())
        .unwrap()
        .sign(&g.owner_key);
    set_vector(
        &mut g,
        "fail_set_equivocation",
        "equivocation",
        "a different set reusing the accepted epoch",
        same_epoch.as_bytes().to_vec(),
        true,
    );
    let server_key = OwnerSigningKey::generate();
    let mut with_server = viewers.clone();
    with_server.push(ViewerIdentity::generate().to_public());
    let by_server = RecipientSet::new(pin.owner, pin.camera, 6, with_server.clone())
        .unwrap()
        .sign(&server_key);
    set_vector(
        &mut g,
        "fail_set_signed_by_server",
        "not signed by pinned owner",
        "the server signed its own set with its own key",
        by_server.as_bytes().to_vec(),
        true,
    );
    // Inject a recipient into the genuine set's bytes (count + entry) and keep the owner's signature.
    let mut injected = newer.as_bytes().to_vec();
    let sig = injected.split_off(injected.len() - 64);
    injected[8 + 16 + 16 + 8 + 8] += 1;
    let extra = with_server[2].to_string();
    injected.push(extra.len() as u8);
    injected.extend_from_slice(extra.as_bytes());
    injected.extend_from_slice(&sig);
    set_vector(
        &mut g,
        "fail_set_injected_recipient",
        "not signed by pinned owner",
        "a recipient inserted into a genuine set",
        injected,
        true,
    );
    let stripped = newer.as_bytes()[..newer.as_bytes().len() - 64].to_vec();
    set_vector(
        &mut g,
        "fail_set_stripped_signature",
        "malformed",
        "the signature removed",
        stripped,
        true,
    );
    let other_cam = RecipientSet::new(pin.owner, CameraId::random(), 6, viewers.clone())
        .unwrap()
        .sign(&g.owner_key);
    set_vector(
        &mut g,
        "fail_set_other_camera",
        "wrong camera",
        "a genuine set of another camera of the same owner",
        other_cam.as_bytes().to_vec(),
        true,
    );

    println!("wrote {} vectors to {}", g.count, g.dir.display());
}
