//! Recipient sets: `tests/vectors/recipient_set/`.

use sealcam_keys::{
    CameraId, DeviceKey, OwnerId, OwnerSigningKey, RecipientSet, SetBinding, ViewerRecipient,
    MAX_EPOCH_JUMP, SET_LIFETIME_SECS,
};

use crate::fixture::{not_a_point, Fixture, ISSUED_AT, NOW};
use crate::vector::{position, vector, Gen};
use crate::vector_file::VectorFile;

pub(crate) fn generate(g: &mut Gen, f: &Fixture) {
    let doc = "recipient_set";
    let binding = |device: &DeviceKey, position: (u64, u64), issued_at: u64| SetBinding {
        device_key: device.public(),
        expires_at: issued_at + SET_LIFETIME_SECS,
        key_position: position,
        recovery: f.recovery.to_public(),
    };
    let v2 = |epoch: u64, key: &OwnerSigningKey, position: (u64, u64)| {
        RecipientSet::bound(
            f.owner,
            f.camera,
            epoch,
            ISSUED_AT,
            f.owner_recipients(),
            binding(&f.device, position, ISSUED_AT),
        )
        .unwrap()
        .sign(key)
        .as_bytes()
        .to_vec()
    };
    let v1 = |owner: OwnerId, camera: CameraId, epoch: u64, key: &OwnerSigningKey| {
        RecipientSet::with_issued_at(owner, camera, epoch, ISSUED_AT, f.owner_recipients())
            .unwrap()
            .sign(key)
            .as_bytes()
            .to_vec()
    };
    // The camera follows generation 1 of reset 1.
    let held = f.state_at(1);
    let camera = |expect: &str, comment: &str| {
        let mut v = vector(expect, "recipient-set", "camera", comment);
        v.set("owner", f.owner)
            .set("camera", f.camera)
            .set("owner-key", held.owner_key)
            .set("device-key", f.device.public())
            .set("root-key", f.root.public())
            .set("position", position(&held))
            .set("accept-v1", "no")
            .set("now", NOW);
        v
    };
    let owner_device = |expect: &str, comment: &str, key: &OwnerSigningKey| {
        let mut v = vector(expect, "recipient-set", "verify", comment);
        v.set("owner", f.owner)
            .set("camera", f.camera)
            .set("owner-key", key.public());
        v
    };
    let mut put = |name: &str, mut v: VectorFile, data: Vec<u8>| {
        v.data = data;
        g.write(doc, name, &v);
    };
    let k1 = &f.k[1];
    let good = v2(5, k1, (1, 1));
    let prior = v2(4, k1, (1, 1));

    put(
        "ok_set_v1_owner_device",
        owner_device("ok", "a version-1 set, checked by an owner device", k1),
        v1(f.owner, f.camera, 5, k1),
    );
    let mut v = camera(
        "ok",
        "a version-1 set taken by a camera paired before v2 whose owner key never moved",
    );
    v.fields.retain(|(k, _)| {
        !matches!(
            k.as_str(),
            "owner-key" | "root-key" | "position" | "accept-v1"
        )
    });
    v.set("owner-key", f.k[0].public())
        .set("root-key", "none")
        .set("position", "0,0")
        .set("accept-v1", "yes")
        .set("first", "yes");
    put(
        "ok_set_v1_legacy_camera",
        v,
        v1(f.owner, f.camera, 1, &f.k[0]),
    );
    let mut v = camera("ok", "a camera's first set");
    v.set("first", "yes");
    put("ok_set_v2_first", v, v2(1, k1, (1, 1)));
    let mut v = camera("ok", "the next epoch after the accepted set");
    v.set("accepted", hex::encode(&prior));
    put("ok_set_v2_successor", v, good.clone());
    let mut v = camera("ok", "the accepted set again");
    v.set("accepted", hex::encode(&good));
    put("ok_set_v2_unchanged", v, good.clone());
    let mut v = camera("ok", "an epoch exactly MAX_EPOCH_JUMP ahead");
    v.set("accepted", hex::encode(&prior));
    put(
        "ok_set_v2_largest_jump",
        v,
        v2(4 + MAX_EPOCH_JUMP, k1, (1, 1)),
    );
    let mut v = camera("ok", "offered at the very second it expires");
    v.fields.retain(|(k, _)| k != "now");
    v.set("now", ISSUED_AT + SET_LIFETIME_SECS);
    put("ok_set_v2_at_expiry", v, good.clone());

    let other_device = RecipientSet::bound(
        f.owner,
        f.camera,
        5,
        ISSUED_AT,
        f.owner_recipients(),
        binding(&f.other_device, (1, 1), ISSUED_AT),
    )
    .unwrap()
    .sign(k1);
    put(
        "fail_set_other_device",
        camera(
            "WrongDevice",
            "a set bound to another camera's device key (handed to this one under its id)",
        ),
        other_device.as_bytes().to_vec(),
    );
    let mut v = camera("EpochJump", "an epoch MAX_EPOCH_JUMP + 1 ahead");
    v.set("accepted", hex::encode(&prior));
    put("fail_set_epoch_jump", v, v2(5 + MAX_EPOCH_JUMP, k1, (1, 1)));
    let mut v = camera(
        "EpochJump",
        "a first set at epoch u64::MAX, so that the owner could never publish again",
    );
    v.set("first", "yes");
    put("fail_set_first_max_epoch", v, v2(u64::MAX, k1, (1, 1)));
    let mut v = camera("Expired", "offered one second after it expired");
    v.fields.retain(|(k, _)| k != "now");
    v.set("now", ISSUED_AT + SET_LIFETIME_SECS + 1);
    put("fail_set_expired", v, good.clone());
    put(
        "fail_set_legacy_on_v2_camera",
        camera(
            "Legacy",
            "a version-1 set offered to a camera paired under v2",
        ),
        v1(f.owner, f.camera, 6, k1),
    );
    put(
        "fail_set_truncated",
        camera("Malformed", "cut inside the recipient list"),
        good[..good.len() - 100].to_vec(),
    );
    let mut trailing = good.clone();
    trailing.push(0);
    put(
        "fail_set_trailing_bytes",
        camera("Malformed", "a byte after the signature"),
        trailing,
    );
    put(
        "fail_set_stripped_signature",
        camera("Malformed", "the signature removed"),
        good[..good.len() - 64].to_vec(),
    );
    let mut magic = good.clone();
    magic[0] = b'X';
    put(
        "fail_set_not_a_set",
        camera("Malformed", "another magic"),
        magic,
    );
    let mut version = good.clone();
    version[7] = 3;
    put(
        "fail_set_unsupported_version",
        camera("UnsupportedVersion", "format version 3"),
        version,
    );
    let mut point = good.clone();
    point[40..72].copy_from_slice(&not_a_point());
    put(
        "fail_set_invalid_device_key",
        camera("Malformed", "the device key is not an Ed25519 point"),
        point,
    );
    put(
        "fail_set_signed_by_retired_key",
        camera(
            "NotSignedByPinnedOwner",
            "signed by the generation-0 owner key a revoked device kept",
        ),
        v2(6, &f.k[0], (1, 0)),
    );
    put(
        "fail_set_signed_by_server",
        camera("NotSignedByPinnedOwner", "signed by a key the server made"),
        v2(6, &f.evil, (1, 1)),
    );
    // A recipient added to a genuine set: the count and the list change.
    let mut injected = good.clone();
    let count_at = 8 + 16 + 16 + 32 + 8 + 8 + 8 + 8 + 8 + 1 + 62;
    injected[count_at] += 1;
    let sig = injected.split_off(injected.len() - 64);
    let extra = f.stranger.to_public().to_string();
    injected.push(extra.len() as u8);
    injected.extend_from_slice(extra.as_bytes());
    injected.extend_from_slice(&sig);
    put(
        "fail_set_injected_recipient",
        camera(
            "NotSignedByPinnedOwner",
            "the server added a recipient to a genuine set",
        ),
        injected,
    );
    let other_camera = RecipientSet::bound(
        f.owner,
        f.other_camera,
        5,
        ISSUED_AT,
        f.owner_recipients(),
        binding(&f.device, (1, 1), ISSUED_AT),
    )
    .unwrap()
    .sign(k1);
    put(
        "fail_set_other_camera",
        camera(
            "WrongCamera",
            "a genuine set of another camera of the owner",
        ),
        other_camera.as_bytes().to_vec(),
    );
    put(
        "fail_set_other_owner",
        owner_device("WrongCamera", "a set naming another owner", k1),
        v1(f.other_owner, f.camera, 5, k1),
    );
    put(
        "fail_set_other_key_generation",
        camera(
            "OtherKeyGeneration",
            "signed by the current key but claiming generation 0",
        ),
        v2(6, k1, (1, 0)),
    );
    let mut v = camera("RolledBack", "epoch 4 after epoch 5");
    v.set("accepted", hex::encode(&good));
    put("fail_set_rolled_back", v, prior.clone());
    let other_five = RecipientSet::bound(
        f.owner,
        f.camera,
        5,
        ISSUED_AT,
        vec![f.viewer.to_public(), f.recovery.to_public()],
        binding(&f.device, (1, 1), ISSUED_AT),
    )
    .unwrap()
    .sign(k1);
    let mut v = camera("Equivocation", "another set claiming the accepted epoch 5");
    v.set("accepted", hex::encode(&good));
    put("fail_set_equivocation", v, other_five.as_bytes().to_vec());
    // Lists the constructors refuse to build, made by hand.
    let list = |recipients: &[ViewerRecipient]| {
        let mut out = b"SCRSET\x00\x01".to_vec();
        out.extend_from_slice(&f.owner.to_bytes());
        out.extend_from_slice(&f.camera.to_bytes());
        out.extend_from_slice(&5u64.to_le_bytes());
        out.extend_from_slice(&ISSUED_AT.to_le_bytes());
        out.extend_from_slice(&(recipients.len() as u16).to_le_bytes());
        for r in recipients {
            let t = r.to_string();
            out.push(t.len() as u8);
            out.extend_from_slice(t.as_bytes());
        }
        out.extend_from_slice(&[0u8; 64]);
        out
    };
    put(
        "fail_set_no_recipients",
        owner_device("InvalidRecipients", "a version-1 set with no recipient", k1),
        list(&[]),
    );
    put(
        "fail_set_duplicate_recipient",
        owner_device(
            "InvalidRecipients",
            "a version-1 set naming one recipient twice",
            k1,
        ),
        list(&[f.viewer.to_public(), f.viewer.to_public()]),
    );
    let mut no_recovery = good.clone();
    let recovery_at = 8 + 16 + 16 + 32 + 8 + 8 + 8 + 8 + 8 + 1;
    let stranger = f.stranger.to_public().to_string();
    no_recovery[recovery_at..recovery_at + 62].copy_from_slice(stranger.as_bytes());
    put(
        "fail_set_recovery_not_recipient",
        camera(
            "InvalidRecipients",
            "a version-2 set whose recovery recipient is not in its list",
        ),
        no_recovery,
    );
}
