//! Owner records: `tests/vectors/owner_record/`.

use ed25519_dalek::Signer as _;
use sealcam_keys::owner_record::{CameraEntry, Member, OwnerRecord, ViewerEntry};
use sealcam_keys::{OwnerSigningKey, ViewerIdentity};

use crate::fixture::{age_seal, Fixture};
use crate::vector::{vector, Gen};
use crate::vector_file::VectorFile;

/// The plaintext of a record with these JSON bytes, signed by `key`.
fn record_plaintext(json: &[u8], key: &OwnerSigningKey) -> Vec<u8> {
    let signer = ed25519_dalek::SigningKey::from_bytes(&key.to_seed());
    let mut message = b"sealcam owner record v1\x00".to_vec();
    message.extend_from_slice(json);
    let mut plain = b"SCOREC\x00\x01".to_vec();
    plain.extend_from_slice(&signer.sign(&message).to_bytes());
    plain.extend_from_slice(json);
    plain
}

fn the_record(f: &Fixture, version: u64) -> OwnerRecord {
    let member = uuid::Uuid::from_bytes([0x4d; 16]);
    let mut r = OwnerRecord::new(
        f.owner,
        f.recovery.to_public(),
        ViewerEntry {
            id: uuid::Uuid::from_bytes([0x51; 16]),
            device_id: Some(uuid::Uuid::from_bytes([0x52; 16])),
            name: "laptop".into(),
            recipient: f.viewer.to_public(),
            added_at: 1_764_374_400,
        },
    );
    r.version = version;
    r.viewers.push(ViewerEntry {
        id: uuid::Uuid::from_bytes([0x53; 16]),
        device_id: None,
        name: "phone".into(),
        recipient: f.second.to_public(),
        added_at: 1_764_374_500,
    });
    r.members.push(Member {
        account_id: member,
        name: "kid".into(),
        recipient: f.member.to_public(),
        added_at: 1_764_374_600,
    });
    r.cameras.push(CameraEntry {
        camera_id: f.camera,
        name: "porch".into(),
        device_key: f.device.public(),
        paired_at: 1_764_374_700,
        shared_with: vec![member],
        epoch: 5,
        expires_at: None,
        set_key: None,
    });
    r
}

pub(crate) fn generate(g: &mut Gen, f: &Fixture) {
    let doc = "owner_record";
    let k1 = &f.k[1];
    let rec = the_record(f, 3);
    let json = serde_json::to_string(&rec).unwrap();
    let sealed = rec.seal(k1).unwrap();
    let open = |expect: &str, comment: &str, identity: &ViewerIdentity| {
        let mut v = vector(expect, "owner-record", "open", comment);
        v.set("identity", identity.to_secret_text().as_str())
            .set("owner", f.owner)
            .set("owner-key", k1.public());
        v
    };
    let canonical = |v: &mut VectorFile, r: &OwnerRecord| {
        v.set("version", r.version)
            .set("fingerprint", r.fingerprint())
            .set("json", serde_json::to_string(r).unwrap());
    };
    let mut put = |name: &str, mut v: VectorFile, data: Vec<u8>| {
        v.data = data;
        g.write(doc, name, &v);
    };

    let mut v = open("ok", "opened by the first viewer", &f.viewer);
    canonical(&mut v, &rec);
    put("ok_record_viewer", v, sealed.clone());
    let mut v = open("ok", "opened by the second viewer", &f.second);
    canonical(&mut v, &rec);
    put("ok_record_second_viewer", v, sealed.clone());
    let mut v = open("ok", "opened with the recovery key", f.recovery.identity());
    canonical(&mut v, &rec);
    put("ok_record_recovery", v, sealed.clone());
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value.as_object_mut().unwrap().remove("shared_with_me");
    value["viewers"][1]
        .as_object_mut()
        .unwrap()
        .remove("device_id");
    let absent = serde_json::to_vec(&value).unwrap();
    let mut v = open(
        "ok",
        "shared_with_me and a viewer's device_id absent (read as empty and null)",
        &f.viewer,
    );
    v.set("version", 3);
    put(
        "ok_record_optional_fields_absent",
        v,
        age_seal(&record_plaintext(&absent, k1), &rec.owner_recipients()),
    );
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["from_a_later_version"] = serde_json::json!({"x": 1});
    value["cameras"][0]["zoom"] = serde_json::json!(2);
    let unknown = serde_json::to_vec(&value).unwrap();
    let mut v = open("ok", "unknown fields are ignored", &f.viewer);
    v.set("version", 3);
    put(
        "ok_record_unknown_fields",
        v,
        age_seal(&record_plaintext(&unknown, k1), &rec.owner_recipients()),
    );
    let under_any = |expect: &str, comment: &str, keys: &[&OwnerSigningKey]| {
        let mut v = vector(expect, "owner-record", "open-under-any", comment);
        let keys: Vec<String> = keys.iter().map(|k| k.public().to_string()).collect();
        v.set("identity", f.recovery.identity().to_secret_text().as_str())
            .set("owner", f.owner)
            .set("owner-keys", keys.join(","));
        v
    };
    let mut v = under_any(
        "ok",
        "recovery: signed by an older key of the log, tried after the newest",
        &[&f.k[2], k1],
    );
    canonical(&mut v, &rec);
    put("ok_record_under_any", v, sealed.clone());
    let successor = |expect: &str, comment: &str, cached: &OwnerRecord| {
        let mut v = vector(expect, "owner-record", "successor", comment);
        v.set("identity", f.viewer.to_secret_text().as_str())
            .set("owner", f.owner)
            .set("owner-key", k1.public())
            .set("cached", serde_json::to_string(cached).unwrap());
        v
    };
    let next = the_record(f, 4);
    let mut v = successor("ok", "version 4 after version 3", &rec);
    canonical(&mut v, &next);
    put("ok_record_successor", v, next.seal(k1).unwrap());
    let mut v = successor("ok", "the same version with the same content", &rec);
    canonical(&mut v, &rec);
    put("ok_record_same_version", v, sealed.clone());

    put(
        "fail_record_not_sealed_to_me",
        open(
            "NotSealedToMe",
            "a device that is not a recipient (a revoked viewer)",
            &f.stranger,
        ),
        sealed.clone(),
    );
    put(
        "fail_record_wrong_signer",
        open(
            "BadSignature",
            "signed by a key the server made, sealed to the owner's public viewer keys",
            &f.viewer,
        ),
        rec.seal(&f.evil).unwrap(),
    );
    put(
        "fail_record_signed_by_retired_key",
        open(
            "BadSignature",
            "signed by the generation-0 owner key a revoked device kept",
            &f.viewer,
        ),
        rec.seal(&f.k[0]).unwrap(),
    );
    // A co-recipient (or anyone who can read it) swaps a camera's device key
    // and re-seals the genuine signature with it.
    let mut edited: serde_json::Value = serde_json::from_str(&json).unwrap();
    edited["cameras"][0]["device_key"] =
        serde_json::Value::String(f.other_device.public().to_string());
    let edited = serde_json::to_vec(&edited).unwrap();
    let mut plain = record_plaintext(json.as_bytes(), k1);
    plain.truncate(72);
    plain.extend_from_slice(&edited);
    put(
        "fail_record_edited_after_signing",
        open(
            "BadSignature",
            "a pinned device key changed under the genuine signature",
            &f.viewer,
        ),
        age_seal(&plain, &rec.owner_recipients()),
    );
    let mut other = rec.clone();
    other.owner = f.other_owner;
    put(
        "fail_record_other_owner",
        open(
            "OtherOwner",
            "a genuine record of another account of the same owner key",
            &f.viewer,
        ),
        other.seal(k1).unwrap(),
    );
    let mut forked = rec.clone();
    forked.cameras[0].device_key = f.other_device.public();
    put(
        "fail_record_forked",
        successor(
            "Forked",
            "version 3 again, with another device key for the camera, signed by the current key",
            &rec,
        ),
        forked.seal(k1).unwrap(),
    );
    put(
        "fail_record_rolled_back",
        successor("RolledBack", "version 3 after version 4", &next),
        sealed.clone(),
    );
    let mut v = open("TooLarge", "1 MiB and one byte of zeros", &f.viewer);
    v.set("zero-filled", 1024 * 1024 + 1);
    put("fail_record_too_large", v, Vec::new());
    put(
        "fail_record_not_age",
        open("NotAgeFile", "the plaintext itself", &f.viewer),
        record_plaintext(json.as_bytes(), k1),
    );
    let mut flipped = sealed.clone();
    let at = flipped.len() - 20;
    flipped[at] ^= 0x01;
    put(
        "fail_record_flipped_payload",
        open(
            "DoesNotDecrypt",
            "one byte of the payload changed",
            &f.viewer,
        ),
        flipped,
    );
    put(
        "fail_record_truncated",
        open("DoesNotDecrypt", "the payload cut short", &f.viewer),
        sealed[..sealed.len() - 20].to_vec(),
    );
    let mut mac = sealed.clone();
    let mac_line = mac.windows(4).position(|w| w == b"\n---").unwrap() + 5;
    mac[mac_line] = if mac[mac_line] == b'A' { b'B' } else { b'A' };
    put(
        "fail_record_flipped_header_mac",
        open(
            "DoesNotDecrypt",
            "one character of the header MAC changed",
            &f.viewer,
        ),
        mac,
    );
    let mut magic = record_plaintext(json.as_bytes(), k1);
    magic[7] = 2;
    put(
        "fail_record_bad_magic",
        open("NotAnOwnerRecord", "another magic", &f.viewer),
        age_seal(&magic, &rec.owner_recipients()),
    );
    put(
        "fail_record_short_plaintext",
        open("NotAnOwnerRecord", "71 bytes of plaintext", &f.viewer),
        age_seal(
            &record_plaintext(json.as_bytes(), k1)[..71],
            &rec.owner_recipients(),
        ),
    );
    put(
        "fail_record_malformed_json",
        open("Malformed", "signed JSON cut short", &f.viewer),
        age_seal(
            &record_plaintext(&json.as_bytes()[..json.len() / 2], k1),
            &rec.owner_recipients(),
        ),
    );
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["version"] = serde_json::json!("3");
    put(
        "fail_record_json_wrong_type",
        open(
            "Malformed",
            "signed JSON whose version is a string",
            &f.viewer,
        ),
        age_seal(
            &record_plaintext(&serde_json::to_vec(&value).unwrap(), k1),
            &rec.owner_recipients(),
        ),
    );
    put(
        "fail_record_no_owner_key",
        under_any("NoOwnerKey", "no owner key to try", &[]),
        sealed.clone(),
    );
    put(
        "fail_record_under_any_none_verifies",
        under_any(
            "BadSignature",
            "signed by a key that is not among those tried",
            &[&f.k[3], &f.k[2]],
        ),
        sealed,
    );
}
