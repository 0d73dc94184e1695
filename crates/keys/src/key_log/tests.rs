use super::*;
use crate::{OwnerSigningKey, RecoveryKey, RootSigningKey};

struct Account {
    owner: OwnerId,
    root: RootSigningKey,
    k0: OwnerSigningKey,
    log: KeyLog,
    state: OwnerKeyState,
}

fn account() -> Account {
    let owner = OwnerId::random();
    let root = RecoveryKey::generate().root_key();
    let k0 = OwnerSigningKey::generate();
    let genesis = KeyStatement::reset(owner, &root, 1, 0, k0.public(), 10);
    let mut log = KeyLog::new();
    log.push(genesis).unwrap();
    let state = OwnerKeyState::new(owner, k0.public(), Some(root.public()), 1, 0);
    Account {
        owner,
        root,
        k0,
        log,
        state,
    }
}

#[test]
fn rotation_then_old_key_is_useless() {
    let a = account();
    let k1 = OwnerSigningKey::generate();
    let rot = KeyStatement::rotation(&a.state, &a.k0, k1.public(), 11).unwrap();
    let mut camera = a.state;
    assert_eq!(camera.apply(&rot), Ok(Applied::Adopted));
    assert_eq!(camera.owner_key, k1.public());
    assert_eq!(camera.position(), (1, 1));
    // The revoked device (k0) tries its own rotation at the same generation.
    let evil = OwnerSigningKey::generate();
    let forged = KeyStatement::rotation(&a.state, &a.k0, evil.public(), 12).unwrap();
    assert_eq!(
        camera.apply(&forged),
        Err(KeyStatementError::Fork {
            reset: 1,
            generation: 1
        })
    );
    // ... or one generation further, still signed by k0.
    let mut pretend = camera;
    pretend.owner_key = a.k0.public();
    let further = KeyStatement::rotation(&pretend, &a.k0, evil.public(), 13).unwrap();
    assert_eq!(camera.apply(&further), Err(KeyStatementError::BadSignature));
    assert_eq!(camera.owner_key, k1.public());
}

#[test]
fn reset_wins_over_a_hijack() {
    let a = account();
    let evil = OwnerSigningKey::generate();
    // The attacker rotates first, many generations up.
    let mut camera = a.state;
    let mut attacker_state = a.state;
    let mut signer = a.k0.clone();
    for t in 0..5 {
        let next = if t == 0 {
            evil.clone()
        } else {
            OwnerSigningKey::generate()
        };
        let st = KeyStatement::rotation(&attacker_state, &signer, next.public(), 20).unwrap();
        assert_eq!(camera.apply(&st), Ok(Applied::Adopted));
        attacker_state.apply(&st).unwrap();
        signer = next;
    }
    assert_eq!(camera.position(), (1, 5));
    let fresh = OwnerSigningKey::generate();
    let reset = KeyStatement::reset(a.owner, &a.root, 2, 0, fresh.public(), 30);
    assert_eq!(camera.apply(&reset), Ok(Applied::Adopted));
    assert_eq!(camera.owner_key, fresh.public());
    assert_eq!(camera.position(), (2, 0));
    // The attacker's key can no longer rotate anything.
    let again = KeyStatement::rotation(&attacker_state, &signer, evil.public(), 31).unwrap();
    assert!(matches!(
        camera.apply(&again),
        Err(KeyStatementError::Superseded { .. })
    ));
    // A reset not signed by the root key is refused.
    let fake_root = RecoveryKey::generate().root_key();
    let fake = KeyStatement::reset(a.owner, &fake_root, 9, 0, evil.public(), 32);
    assert_eq!(camera.apply(&fake), Err(KeyStatementError::OtherRootKey));
}

#[test]
fn legacy_camera_learns_the_root_key_from_its_first_rotation() {
    let a = account();
    let mut legacy = OwnerKeyState::legacy(a.owner, a.k0.public());
    let k1 = OwnerSigningKey::generate();
    let upgrade = OwnerKeyState {
        root_key: Some(a.root.public()),
        ..legacy
    };
    let rot = KeyStatement::rotation(&upgrade, &a.k0, k1.public(), 11).unwrap();
    assert_eq!(
        legacy.apply(&KeyStatement::reset(
            a.owner,
            &a.root,
            1,
            0,
            a.k0.public(),
            1
        )),
        Err(KeyStatementError::NoRootKey)
    );
    assert_eq!(legacy.apply(&rot), Ok(Applied::Adopted));
    assert_eq!(legacy.root_key, Some(a.root.public()));
}

#[test]
fn log_round_trip_follow_and_from_root() {
    let mut a = account();
    let k1 = OwnerSigningKey::generate();
    let rot = KeyStatement::rotation(&a.state, &a.k0, k1.public(), 11).unwrap();
    a.log.push(rot).unwrap();
    let bytes = a.log.to_bytes();
    let back = KeyLog::from_bytes(&bytes).unwrap();
    assert_eq!(back, a.log);
    assert!(back.extends(&KeyLog::new()));
    let mut camera = a.state;
    let report = camera.follow(&back);
    assert_eq!(report.adopted, vec![(1, 1, k1.public())]);
    assert!(report.refused.is_empty());
    let (state, _) = OwnerKeyState::from_root(a.owner, a.root.public(), &back).unwrap();
    assert_eq!(state, camera);
    // Truncated, trailing, too short.
    assert!(KeyLog::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(KeyLog::from_bytes(&longer).is_err());
    assert!(KeyStatement::from_bytes(&back.statements()[0].as_bytes()[..100]).is_err());
}

#[test]
fn rotation_arithmetic_is_checked() {
    let a = account();
    let top = OwnerKeyState {
        generation: u64::MAX,
        ..a.state
    };
    assert_eq!(
        KeyStatement::rotation(&top, &a.k0, a.k0.public(), 1),
        Err(KeyStatementError::Overflow)
    );
}

#[test]
fn the_chain_keeps_what_verifies_and_sees_a_rewrite() {
    let mut a = account();
    let k1 = OwnerSigningKey::generate();
    let rot = KeyStatement::rotation(&a.state, &a.k0, k1.public(), 11).unwrap();
    let honest = {
        let mut log = a.log.clone();
        log.push(rot.clone()).unwrap();
        log
    };
    let chain = honest.chain(a.owner, a.root.public());
    assert_eq!(chain, honest);
    // Stuffed with statements nobody signed: the chain is the honest one.
    let mut junk = rot.as_bytes().to_vec();
    junk[STATEMENT_LEN - 1] ^= 1;
    let junk = KeyStatement::from_bytes(&junk).unwrap();
    let mut stuffed = a.log.clone();
    while stuffed.statements().len() < MAX_LOG_ENTRIES - 1 {
        stuffed.push(junk.clone()).unwrap();
    }
    stuffed.push(rot.clone()).unwrap();
    assert_eq!(stuffed.chain(a.owner, a.root.public()), chain);
    assert!(honest.chain(a.owner, a.root.public()).extends(&chain));
    // A rotation the revoked k0 signs first rewrites the chain.
    let evil = OwnerSigningKey::generate();
    let forged = KeyStatement::rotation(&a.state, &a.k0, evil.public(), 12).unwrap();
    a.log.push(forged).unwrap();
    a.log.push(rot).unwrap();
    assert!(!a.log.chain(a.owner, a.root.public()).extends(&chain));
    // Another account's root, or none of its resets: nothing is kept.
    let other = RecoveryKey::generate().root_key();
    assert_eq!(honest.chain(a.owner, other.public()), KeyLog::new());
}

#[test]
fn the_part_since_a_place_moves_a_holder_as_far_as_the_whole_log() {
    let mut a = account();
    // Five rotations, a fork of generation 2 by a key someone kept, then a
    // reset above them all.
    let mut keys = vec![a.k0];
    let mut state = a.state;
    for issued in 0..5 {
        let next = OwnerSigningKey::generate();
        let st = KeyStatement::rotation(&state, keys.last().unwrap(), next.public(), 20 + issued)
            .unwrap();
        state.apply(&st).unwrap();
        a.log.push(st).unwrap();
        keys.push(next);
        if issued == 1 {
            let mut at_one = a.state;
            at_one.apply(&a.log.statements()[1]).unwrap();
            let fork =
                KeyStatement::rotation(&at_one, &keys[1], OwnerSigningKey::generate().public(), 30)
                    .unwrap();
            a.log.push(fork).unwrap();
        }
    }
    let fresh = OwnerSigningKey::generate();
    a.log
        .push(KeyStatement::reset(
            a.owner,
            &a.root,
            2,
            0,
            fresh.public(),
            40,
        ))
        .unwrap();
    assert_eq!(a.log.statements().len(), 8);

    let mut whole = a.state;
    let whole_report = whole.follow(&a.log);
    assert_eq!(whole.position(), (2, 0));

    // A holder of (1, 2) is sent the rotation to 2, the fork of 2, the
    // rotations to 3, 4, 5 and the reset; not the genesis nor the first
    // rotation. The fork is refused, as in the whole log.
    let since = a.log.since((1, 2));
    let places: Vec<_> = since
        .statements()
        .iter()
        .map(|st| (st.reset_count(), st.generation()))
        .collect();
    assert_eq!(places, [(1, 2), (1, 2), (1, 3), (1, 4), (1, 5), (2, 0)]);
    // From every place on the way, the part takes the holder where the
    // whole log does, adopting the same keys.
    let mut at = a.state;
    for st in a.log.statements() {
        let mut part = at;
        let report = part.follow(&a.log.since(at.position()));
        let mut from_whole = at;
        let whole_from_there = from_whole.follow(&a.log);
        assert_eq!(part, from_whole, "from {:?}", at.position());
        assert_eq!(report.adopted, whole_from_there.adopted);
        let _ = at.apply(st);
    }
    assert_eq!(at, whole);
    assert_eq!(
        whole_report.refused,
        [(
            3,
            KeyStatementError::Fork {
                reset: 1,
                generation: 2
            }
        )]
    );
    assert_eq!(a.log.since(whole.position()).statements().len(), 1);

    // The same part from the log's bytes, keys left undecoded.
    let bytes = a.log.to_bytes();
    for held in [(1, 2), (1, 0), (0, 0), (1, 4), (3, 0)] {
        assert_eq!(
            KeyLog::since_bytes(&bytes, held).unwrap(),
            a.log.since(held).to_bytes(),
            "{held:?}"
        );
    }
    assert!(KeyLog::since_bytes(&bytes[..bytes.len() - 1], (1, 0)).is_err());
    assert!(KeyLog::since_bytes(&[bytes.as_slice(), &[0]].concat(), (1, 0)).is_err());
    assert!(KeyLog::since_bytes(b"not a log", (1, 0)).is_err());
}

#[test]
fn copies_of_a_held_statement_hide_nothing_after_them() {
    // Before its revocation an owner device writes 4,000 copies of the
    // statement naming the key it holds (the review's attack on a first
    // version that sent 512 statements at most: the rotation and the reset
    // behind them never reached a camera).
    let mut a = account();
    let genesis = a.log.statements()[0].clone();
    for _ in 0..4_000 {
        a.log.push(genesis.clone()).unwrap();
    }
    let k1 = OwnerSigningKey::generate();
    let rot = KeyStatement::rotation(&a.state, &a.k0, k1.public(), 11).unwrap();
    a.log.push(rot).unwrap();
    let k2 = OwnerSigningKey::generate();
    a.log
        .push(KeyStatement::reset(a.owner, &a.root, 2, 0, k2.public(), 12))
        .unwrap();
    let mut camera = a.state;
    let report = camera.follow(
        &KeyLog::from_bytes(&KeyLog::since_bytes(&a.log.to_bytes(), (1, 0)).unwrap()).unwrap(),
    );
    assert_eq!(camera.position(), (2, 0));
    assert_eq!(camera.owner_key, k2.public());
    assert_eq!(report.adopted.len(), 2);
}
