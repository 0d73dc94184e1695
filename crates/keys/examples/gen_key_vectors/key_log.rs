//! Key logs and statements: `tests/vectors/key_log/`.

use sealcam_keys::{KeyLog, KeyStatement, OwnerKeyState, MAX_LOG_ENTRIES, STATEMENT_LEN};

use crate::fixture::{not_a_point, Fixture, ISSUED_AT};
use crate::vector::{position, vector, Gen};
use crate::vector_file::VectorFile;

pub(crate) fn generate(g: &mut Gen, f: &Fixture) {
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
