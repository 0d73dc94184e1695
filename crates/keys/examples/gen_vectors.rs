//! Generates the committed test vectors in `tests/vectors/`: one directory per
//! signed document (`key_log`, `recipient_set`, `owner_record`, `key_bundle`).
//!
//! ```sh
//! cargo run -p sealcam-keys --example gen_vectors
//! ```
//!
//! Every `ok_*` vector must be taken and every `fail_*` vector refused with
//! the error its `expect:` field names (`tests/vectors.rs`). Keys come from
//! fixed seeds, so signed documents come out byte for byte the same on every
//! run; sealed ones (age) differ, because age wraps with fresh ephemeral
//! keys, but their expectations do not. The `*_legacy_*` owner records were
//! sealed by the app SDK before the owner record moved to this crate and are
//! kept as they are.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../../format/tests/vector_file/mod.rs"]
mod vector_file;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use ed25519_dalek::Signer as _;
use sealcam_keys::owner_record::{CameraEntry, Member, OwnerRecord, ViewerEntry};
use sealcam_keys::{
    CameraId, DeviceKey, DevicePublicKey, KeyLog, KeyStatement, OwnerId, OwnerKeyBundle,
    OwnerKeyState, OwnerSigningKey, RecipientSet, RecoveryKey, RootSigningKey, SetBinding,
    ViewerIdentity, ViewerRecipient, MAX_EPOCH_JUMP, MAX_LOG_ENTRIES, SET_LIFETIME_SECS,
    STATEMENT_LEN,
};
use vector_file::VectorFile;

/// Vectors the generator never rewrites (made by older code on purpose).
const KEEP: &[&str] = &["ok_record_legacy_viewer", "ok_record_legacy_recovery"];

const VIEWER: &str = "AGE-SECRET-KEY-1X73USU075GP69V29EY7NPYPAWSE8WE2XR6M0PVFWLXG4M0H3Q0KQUZ5ARD";
const SECOND_VIEWER: &str =
    "AGE-SECRET-KEY-1YLHVVLPED8CH2WDJ0LZ2R05ELCSJ9CAAHT9RFC9VMTDSPQSSRP5SLDV5D2";
const RECOVERY: &str = "AGE-SECRET-KEY-169P8Y32SXX42KUNGFSJPLQUHUNG2PLDP26Y5KZCCAR0Y85Y76HASF0030G";
const STRANGER: &str = "AGE-SECRET-KEY-142CY4L2A7FK9R7LVHS4W4WRZ96V0QFYKD47PNFTQNH3EFM7QZ5YSD5PZ8V";
const MEMBER: &str = "AGE-SECRET-KEY-1N0T4JRCKL7QZE44SEE0JJTL0XEKH7T8PLYMAMEH459SZL0W2NJ9S3QZA2V";

const ISSUED_AT: u64 = 1_769_000_000;
const NOW: u64 = 1_770_000_000;

/// The fixed keys and ids of the vectors' account.
struct Fixture {
    owner: OwnerId,
    other_owner: OwnerId,
    camera: CameraId,
    other_camera: CameraId,
    root: RootSigningKey,
    other_root: RootSigningKey,
    /// Owner keys by generation under reset 1 (`k[3]` is the key of reset 2).
    k: [OwnerSigningKey; 4],
    evil: OwnerSigningKey,
    device: DeviceKey,
    other_device: DeviceKey,
    viewer: ViewerIdentity,
    second: ViewerIdentity,
    recovery: RecoveryKey,
    stranger: ViewerIdentity,
    member: ViewerIdentity,
}

impl Fixture {
    fn new() -> Self {
        let recovery = RecoveryKey::from_typed(RECOVERY).unwrap();
        Self {
            owner: OwnerId::from_bytes([0x01; 16]),
            other_owner: OwnerId::from_bytes([0x02; 16]),
            camera: CameraId::from_bytes([0x03; 16]),
            other_camera: CameraId::from_bytes([0x04; 16]),
            root: recovery.root_key(),
            other_root: RootSigningKey::from_seed(&[0x11; 32]),
            k: [0x20, 0x21, 0x22, 0x23].map(|b| OwnerSigningKey::from_seed(&[b; 32])),
            evil: OwnerSigningKey::from_seed(&[0x2f; 32]),
            device: DeviceKey::from_seed(&[0x30; 32]),
            other_device: DeviceKey::from_seed(&[0x31; 32]),
            viewer: ViewerIdentity::from_secret_text(VIEWER).unwrap(),
            second: ViewerIdentity::from_secret_text(SECOND_VIEWER).unwrap(),
            recovery,
            stranger: ViewerIdentity::from_secret_text(STRANGER).unwrap(),
            member: ViewerIdentity::from_secret_text(MEMBER).unwrap(),
        }
    }

    /// The state a v2 camera pinned at pairing: reset 1, generation 0, `k[0]`.
    fn genesis_state(&self) -> OwnerKeyState {
        OwnerKeyState::new(
            self.owner,
            self.k[0].public(),
            Some(self.root.public()),
            1,
            0,
        )
    }

    /// `state` after a rotation to `next`, signed by `current`.
    fn rotate(
        &self,
        state: &OwnerKeyState,
        current: &OwnerSigningKey,
        next: &OwnerSigningKey,
    ) -> KeyStatement {
        KeyStatement::rotation(state, current, next.public(), ISSUED_AT).unwrap()
    }

    fn genesis(&self) -> KeyStatement {
        KeyStatement::reset(self.owner, &self.root, 1, 0, self.k[0].public(), ISSUED_AT)
    }

    /// The held state `(1, g, k[g])`.
    fn state_at(&self, g: u64) -> OwnerKeyState {
        OwnerKeyState::new(
            self.owner,
            self.k[g as usize].public(),
            Some(self.root.public()),
            1,
            g,
        )
    }

    fn owner_recipients(&self) -> Vec<ViewerRecipient> {
        vec![
            self.viewer.to_public(),
            self.second.to_public(),
            self.recovery.to_public(),
        ]
    }
}

struct Gen {
    root: PathBuf,
    count: usize,
}

impl Gen {
    fn write(&mut self, doc: &str, name: &str, v: &VectorFile) {
        assert!(
            name.starts_with("ok_") || name.starts_with("fail_"),
            "{name}: vectors are ok_* or fail_*"
        );
        std::fs::write(self.root.join(doc).join(name), v.encode()).unwrap();
        self.count += 1;
    }
}

fn vector(expect: &str, kind: &str, check: &str, comment: &str) -> VectorFile {
    let mut v = VectorFile::new();
    v.set("expect", expect)
        .set("comment", comment)
        .set("kind", kind)
        .set("check", check);
    v
}

fn position(state: &OwnerKeyState) -> String {
    format!("{},{}", state.reset, state.generation)
}

/// 32 bytes that are not an Ed25519 point.
fn not_a_point() -> [u8; 32] {
    (0u8..=255)
        .map(|b| {
            let mut a = [0xffu8; 32];
            a[0] = b;
            a[31] = 0x7f;
            a
        })
        .find(|a| DevicePublicKey::from_bytes(a).is_err())
        .unwrap()
}

/// An age file of `plain` to `recipients`, as any age implementation writes it.
fn age_seal(plain: &[u8], recipients: &[ViewerRecipient]) -> Vec<u8> {
    let enc = age::Encryptor::with_recipients(
        recipients.iter().map(|r| r.as_age() as &dyn age::Recipient),
    )
    .unwrap();
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out).unwrap();
    w.write_all(plain).unwrap();
    w.finish().unwrap();
    out
}

// ---------------------------------------------------------------------------
// Key logs and statements.

fn key_log(g: &mut Gen, f: &Fixture) {
    let doc = "key_log";
    let held = |v: &mut VectorFile, s: &OwnerKeyState| {
        v.set("owner", s.owner).set("owner-key", s.owner_key).set(
            "root-key",
            s.root_key.map_or("none".to_owned(), |r| r.to_string()),
        );
        v.set("position", position(s));
    };
    let result = |v: &mut VectorFile, s: &OwnerKeyState| {
        v.set("result-key", s.owner_key)
            .set("result-position", position(s));
    };
    let s0 = f.genesis_state();
    let s1 = f.state_at(1);
    let s2 = f.state_at(2);
    let rot1 = f.rotate(&s0, &f.k[0], &f.k[1]);
    let rot2 = f.rotate(&s1, &f.k[1], &f.k[2]);
    let reset2 = KeyStatement::reset(f.owner, &f.root, 2, 0, f.k[3].public(), ISSUED_AT);
    let s_reset = OwnerKeyState::new(f.owner, f.k[3].public(), Some(f.root.public()), 2, 0);

    let mut statement = |name: &str,
                         expect: &str,
                         comment: &str,
                         state: &OwnerKeyState,
                         after: &OwnerKeyState,
                         bytes: &[u8]| {
        let mut v = vector(expect, "key-statement", "apply", comment);
        held(&mut v, state);
        result(&mut v, after);
        v.data = bytes.to_vec();
        g.write(doc, name, &v);
    };
    statement(
        "ok_rotation",
        "ok",
        "the next generation, signed by the held owner key",
        &s0,
        &s1,
        rot1.as_bytes(),
    );
    statement(
        "ok_reset",
        "ok",
        "a reset signed by the root key wins over the held rotation",
        &s2,
        &s_reset,
        reset2.as_bytes(),
    );
    statement(
        "ok_genesis_already_held",
        "ok",
        "the genesis reset a v2 camera pinned at pairing: nothing changes",
        &s0,
        &s0,
        f.genesis().as_bytes(),
    );
    let legacy = OwnerKeyState::legacy(f.owner, f.k[0].public());
    let upgrade = OwnerKeyState {
        root_key: Some(f.root.public()),
        ..legacy
    };
    let first_rotation = f.rotate(&upgrade, &f.k[0], &f.k[1]);
    let learned = OwnerKeyState::new(f.owner, f.k[1].public(), Some(f.root.public()), 0, 1);
    statement(
        "ok_legacy_learns_root_key",
        "ok",
        "a camera paired before v2 takes its first rotation and pins the root key it names",
        &legacy,
        &learned,
        first_rotation.as_bytes(),
    );
    // What a revoked device that kept `k[0]` can sign: generation 2.
    let pretend = OwnerKeyState {
        owner_key: f.k[0].public(),
        ..s1
    };
    let retired = f.rotate(&pretend, &f.k[0], &f.evil);
    statement(
        "fail_rotation_signed_by_retired_key",
        "BadSignature",
        "a revoked device signs the next generation with the owner key it kept",
        &s1,
        &s1,
        retired.as_bytes(),
    );
    let fork = f.rotate(&s0, &f.k[0], &f.evil);
    statement(
        "fail_fork",
        "Fork",
        "a second rotation from generation 0, to another key",
        &s1,
        &s1,
        fork.as_bytes(),
    );
    let other_root = KeyStatement::reset(f.owner, &f.other_root, 9, 0, f.evil.public(), ISSUED_AT);
    statement(
        "fail_reset_other_root",
        "OtherRootKey",
        "a reset signed by a root key that is not the pinned one",
        &s1,
        &s1,
        other_root.as_bytes(),
    );
    // A reset naming the pinned root key, signed by another.
    let mut forged = KeyStatement::reset(f.owner, &f.other_root, 9, 0, f.evil.public(), ISSUED_AT)
        .as_bytes()
        .to_vec();
    let root_at = 8 + 16 + 1 + 8 + 8 + 32;
    forged[root_at..root_at + 32].copy_from_slice(&f.root.public().to_bytes());
    statement(
        "fail_reset_bad_signature",
        "BadSignature",
        "a reset naming the pinned root key, not signed by it",
        &s1,
        &s1,
        &forged,
    );
    statement(
        "fail_reset_without_root_key",
        "NoRootKey",
        "a reset offered to a camera paired before v2, which has no root key to check it with",
        &legacy,
        &legacy,
        reset2.as_bytes(),
    );
    statement(
        "fail_rotation_replayed",
        "Superseded",
        "an old rotation replayed to a camera that moved on",
        &s2,
        &s2,
        rot1.as_bytes(),
    );
    statement(
        "fail_reset_replayed",
        "Superseded",
        "the genesis reset replayed after a later reset",
        &s_reset,
        &s_reset,
        f.genesis().as_bytes(),
    );
    statement(
        "fail_rotation_gap",
        "Gap",
        "generation 2 offered to a camera at generation 0 (generation 1 withheld)",
        &s0,
        &s0,
        rot2.as_bytes(),
    );
    let other_owner = KeyStatement::rotation(
        &OwnerKeyState {
            owner: f.other_owner,
            ..s0
        },
        &f.k[0],
        f.k[1].public(),
        ISSUED_AT,
    )
    .unwrap();
    statement(
        "fail_statement_other_owner",
        "WrongOwner",
        "a rotation of another account",
        &s0,
        &s0,
        other_owner.as_bytes(),
    );
    let mut longer = rot1.as_bytes().to_vec();
    longer.push(0);
    statement(
        "fail_statement_wrong_length",
        "Malformed",
        "a statement with one byte too many",
        &s0,
        &s0,
        &longer,
    );
    statement(
        "fail_statement_truncated",
        "Malformed",
        "a statement cut inside its signature",
        &s0,
        &s0,
        &rot1.as_bytes()[..rot1.as_bytes().len() - 1],
    );
    let mut kind = rot1.as_bytes().to_vec();
    kind[8 + 16] = 3;
    statement(
        "fail_statement_unknown_kind",
        "Malformed",
        "statement kind 3",
        &s0,
        &s0,
        &kind,
    );
    let mut version = rot1.as_bytes().to_vec();
    version[7] = 2;
    statement(
        "fail_statement_unsupported_version",
        "UnsupportedVersion",
        "a statement of format version 2",
        &s0,
        &s0,
        &version,
    );
    let mut point = rot1.as_bytes().to_vec();
    let key_at = 8 + 16 + 1 + 8 + 8;
    point[key_at..key_at + 32].copy_from_slice(&not_a_point());
    statement(
        "fail_statement_invalid_owner_key",
        "Malformed",
        "the owner key is not an Ed25519 point",
        &s0,
        &s0,
        &point,
    );

    // Whole logs, followed from a held state.
    let log_of = |sts: &[&KeyStatement]| {
        let mut log = KeyLog::new();
        for st in sts {
            log.push((*st).clone()).unwrap();
        }
        log.to_bytes()
    };
    let mut log_vector = |name: &str,
                          expect: &str,
                          check: &str,
                          comment: &str,
                          state: &OwnerKeyState,
                          after: Option<&OwnerKeyState>,
                          bytes: Vec<u8>| {
        let mut v = vector(expect, "key-log", check, comment);
        held(&mut v, state);
        if let Some(after) = after {
            result(&mut v, after);
        }
        v.data = bytes;
        g.write(doc, name, &v);
    };
    let genesis = f.genesis();
    let full = log_of(&[&genesis, &rot1, &rot2]);
    log_vector(
        "ok_log_follow",
        "ok",
        "follow",
        "genesis and two rotations, followed from the pairing state",
        &s0,
        Some(&s2),
        full.clone(),
    );
    log_vector(
        "ok_log_from_root",
        "ok",
        "from-root",
        "the state recovery reaches from the root key alone",
        &s0,
        Some(&s2),
        full.clone(),
    );
    // A thief rotates first; the owner resets with the recovery key.
    let e1 = f.rotate(&s0, &f.k[0], &f.evil);
    let se1 = OwnerKeyState::new(f.owner, f.evil.public(), Some(f.root.public()), 1, 1);
    let e2 = f.rotate(&se1, &f.evil, &f.k[2]);
    log_vector(
        "ok_log_reset_undoes_hijack",
        "ok",
        "follow",
        "a thief's two rotations, then the owner's reset: the reset wins",
        &s0,
        Some(&s_reset),
        log_of(&[&genesis, &e1, &e2, &reset2]),
    );
    log_vector(
        "ok_log_empty",
        "ok",
        "follow",
        "an empty log changes nothing",
        &s1,
        Some(&s1),
        KeyLog::new().to_bytes(),
    );
    log_vector(
        "fail_log_forked",
        "Fork",
        "follow",
        "after generation 1, a second generation-1 key signed by the retired key: refused, the state stays",
        &s0,
        Some(&s1),
        log_of(&[&genesis, &rot1, &fork]),
    );
    log_vector(
        "fail_log_retired_key_rotation",
        "BadSignature",
        "follow",
        "a rotation to generation 2 signed by the retired generation-0 key",
        &s0,
        Some(&s1),
        log_of(&[&genesis, &rot1, &retired]),
    );
    log_vector(
        "fail_log_no_reset",
        "NoReset",
        "from-root",
        "rotations only: recovery finds no reset signed by the root key",
        &s0,
        None,
        log_of(&[&rot1, &rot2]),
    );
    log_vector(
        "fail_log_reset_by_other_root",
        "NoReset",
        "from-root",
        "the only reset is signed by another root key",
        &s0,
        None,
        log_of(&[&other_root, &rot1]),
    );
    let mut trailing = full.clone();
    trailing.push(0);
    log_vector(
        "fail_log_trailing_bytes",
        "Malformed",
        "follow",
        "a byte after the last statement",
        &s0,
        None,
        trailing,
    );
    log_vector(
        "fail_log_truncated",
        "Malformed",
        "follow",
        "the log cut inside its last statement",
        &s0,
        None,
        full[..full.len() - 1].to_vec(),
    );
    let mut count = full.clone();
    count[8..12].copy_from_slice(&(MAX_LOG_ENTRIES as u32 + 1).to_le_bytes());
    log_vector(
        "fail_log_too_many_statements",
        "Malformed",
        "follow",
        "a count above MAX_LOG_ENTRIES",
        &s0,
        None,
        count,
    );
    let mut magic = full.clone();
    magic[0] = b'X';
    log_vector(
        "fail_log_not_a_log",
        "Malformed",
        "follow",
        "another magic",
        &s0,
        None,
        magic,
    );
    let mut inner = log_of(&[&genesis, &rot1]);
    // magic, count, then (len, statement) twice: the kind of the second.
    inner[12 + (2 + STATEMENT_LEN) + 2 + 8 + 16] = 3;
    log_vector(
        "fail_log_bad_statement",
        "Malformed",
        "follow",
        "a log whose second statement has an unknown kind",
        &s0,
        None,
        inner,
    );
}

// ---------------------------------------------------------------------------
// Recipient sets.

fn recipient_set(g: &mut Gen, f: &Fixture) {
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

// ---------------------------------------------------------------------------
// Owner records.

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
    });
    r
}

fn owner_record(g: &mut Gen, f: &Fixture) {
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

// ---------------------------------------------------------------------------
// Owner key bundles.

fn key_bundle(g: &mut Gen, f: &Fixture) {
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

fn main() {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors"));
    for doc in ["key_log", "recipient_set", "owner_record", "key_bundle"] {
        let dir = root.join(doc);
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let keep = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| KEEP.contains(&n));
            if !keep {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    let f = Fixture::new();
    let mut g = Gen { root, count: 0 };
    key_log(&mut g, &f);
    recipient_set(&mut g, &f);
    owner_record(&mut g, &f);
    key_bundle(&mut g, &f);
    println!(
        "{} vectors written to {} ({} kept)",
        g.count,
        g.root.display(),
        KEEP.len()
    );
}
