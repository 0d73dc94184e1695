//! Owner key bundles: `tests/vectors/key_bundle/`.

use sealcam_keys::{OwnerKeyBundle, RecoveryKey, ViewerIdentity};

use crate::fixture::{age_seal, Fixture, STRANGER};
use crate::vector::{vector, Gen};
use crate::vector_file::VectorFile;

pub(crate) fn generate(g: &mut Gen, f: &Fixture) {
    let doc = "key_bundle";
    let k1 = &f.k[1];
    let to = vec![f.viewer.to_public(), f.recovery.to_public()];
    let bundle = OwnerKeyBundle::new(f.owner, k1.clone(), &f.recovery);
    let sealed = bundle.seal(&to).unwrap();
    let viewer = |expect: &str, comment: &str, identity: &ViewerIdentity| {
        let mut v = vector(expect, "key-bundle", "viewer", comment);
        v.set("identity", identity.to_secret_text().as_str())
            .set("owner", f.owner)
            .set("owner-key", k1.public());
        v
    };
    let recovery = |expect: &str, comment: &str| {
        let mut v = vector(expect, "key-bundle", "recovery", comment);
        v.set("recovery", f.recovery.to_secret_text().as_str());
        v
    };
    let parse = |expect: &str, comment: &str| vector(expect, "key-bundle", "parse", comment);
    let mut put = |name: &str, mut v: VectorFile, data: Vec<u8>| {
        v.data = data;
        g.write(doc, name, &v);
    };
    // The plaintext of a rotated bundle: magic, owner, seed, a zero tag.
    let mut plain = b"SCBNDL\x00\x01".to_vec();
    plain.extend_from_slice(&f.owner.to_bytes());
    plain.extend_from_slice(&k1.to_seed()[..]);
    plain.extend_from_slice(&[0u8; 32]);

    let mut v = viewer(
        "ok",
        "opened by a viewer that pinned the owner key",
        &f.viewer,
    );
    v.set("result-key", k1.public());
    put("ok_bundle_viewer", v, sealed.clone());
    let mut v = recovery("ok", "opened with the recovery key, recovery tag checked");
    v.set("result-key", k1.public());
    put("ok_bundle_recovery", v, sealed.clone());
    let mut v = viewer(
        "ok",
        "a bundle made by a rotation (zero recovery tag)",
        &f.viewer,
    );
    v.set("result-key", k1.public());
    put(
        "ok_bundle_rotated",
        v,
        OwnerKeyBundle::rotated(f.owner, k1.clone())
            .seal(&to)
            .unwrap(),
    );
    let mut v = parse("ok", "the plaintext of a rotated bundle");
    v.set("result-key", k1.public());
    put("ok_bundle_plaintext", v, plain.clone());

    put(
        "fail_bundle_not_addressed",
        viewer(
            "NotAddressedToMe",
            "a device that is not a recipient",
            &f.stranger,
        ),
        sealed.clone(),
    );
    put(
        "fail_bundle_forged_to_public_keys",
        viewer(
            "WrongOwnerKey",
            "the server seals its own key to the owner's public viewer keys",
            &f.viewer,
        ),
        OwnerKeyBundle::rotated(f.owner, f.evil.clone())
            .seal(&to)
            .unwrap(),
    );
    put(
        "fail_bundle_forged_recovery_tag",
        recovery(
            "WrongOwnerKey",
            "a forged bundle tagged with another recovery key",
        ),
        OwnerKeyBundle::new(
            f.owner,
            f.evil.clone(),
            &RecoveryKey::from_typed(STRANGER).unwrap(),
        )
        .seal(&to)
        .unwrap(),
    );
    put(
        "fail_bundle_other_owner",
        viewer(
            "WrongOwnerKey",
            "the owner key, for another account",
            &f.viewer,
        ),
        OwnerKeyBundle::new(f.other_owner, k1.clone(), &f.recovery)
            .seal(&to)
            .unwrap(),
    );
    put(
        "fail_bundle_not_age",
        viewer("Corrupt", "the plaintext itself", &f.viewer),
        plain.clone(),
    );
    let mut flipped = sealed.clone();
    let at = flipped.len() - 20;
    flipped[at] ^= 0x01;
    put(
        "fail_bundle_flipped_payload",
        viewer("Corrupt", "one byte of the payload changed", &f.viewer),
        flipped,
    );
    let mut v = viewer("Malformed", "64 KiB and one byte of zeros", &f.viewer);
    v.set("zero-filled", 64 * 1024 + 1);
    put("fail_bundle_too_large", v, Vec::new());
    let mut trailing = plain.clone();
    trailing.push(0);
    put(
        "fail_bundle_trailing_bytes",
        viewer("Malformed", "a byte after the recovery tag", &f.viewer),
        age_seal(&trailing, &to),
    );
    put(
        "fail_bundle_truncated",
        viewer("Malformed", "the recovery tag cut short", &f.viewer),
        age_seal(&plain[..plain.len() - 1], &to),
    );
    let mut magic = plain.clone();
    magic[0] = b'X';
    put(
        "fail_bundle_bad_magic",
        viewer("Malformed", "another magic", &f.viewer),
        age_seal(&magic, &to),
    );
    put(
        "fail_bundle_plaintext_truncated",
        parse("Malformed", "a plaintext cut inside the seed"),
        plain[..40].to_vec(),
    );
}
