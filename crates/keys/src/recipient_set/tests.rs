use super::*;
use crate::{OwnerSigningKey, ViewerIdentity};

fn fixture() -> (OwnerSigningKey, RecipientSetPin, Vec<ViewerRecipient>) {
    let key = OwnerSigningKey::generate();
    let pin = RecipientSetPin {
        owner: OwnerId::random(),
        camera: CameraId::random(),
        owner_key: key.public(),
    };
    let rs = (0..3)
        .map(|_| ViewerIdentity::generate().to_public())
        .collect();
    (key, pin, rs)
}

#[test]
fn round_trip_and_verify() {
    let (key, pin, rs) = fixture();
    let signed = RecipientSet::new(pin.owner, pin.camera, 7, rs.clone())
        .unwrap()
        .sign(&key);
    let parsed = SignedRecipientSet::from_bytes(signed.as_bytes()).unwrap();
    let v = parsed.verify(&pin).unwrap();
    assert_eq!(v.epoch(), 7);
    assert_eq!(v.recipients(), &rs[..]);
}

#[test]
fn refuses_other_signer_injection_rollback_and_stripping() {
    let (key, pin, rs) = fixture();
    let good = RecipientSet::new(pin.owner, pin.camera, 5, rs.clone())
        .unwrap()
        .sign(&key);
    let good = SignedRecipientSet::from_bytes(good.as_bytes())
        .unwrap()
        .verify(&pin)
        .unwrap();

    // A server signs a set with its own key.
    let evil = OwnerSigningKey::generate();
    let forged = RecipientSet::new(pin.owner, pin.camera, 6, rs.clone())
        .unwrap()
        .sign(&evil);
    assert_eq!(
        forged.verify(&pin),
        Err(RecipientSetError::NotSignedByPinnedOwner)
    );

    // A server injects a recipient into a genuine set: the signature breaks.
    let mut injected = good.as_bytes().to_vec();
    let extra = ViewerIdentity::generate().to_public().to_string();
    let count_at = 8 + 16 + 16 + 8 + 8;
    injected[count_at] += 1;
    let sig = injected.split_off(injected.len() - 64);
    injected.push(extra.len() as u8);
    injected.extend_from_slice(extra.as_bytes());
    injected.extend_from_slice(&sig);
    let parsed = SignedRecipientSet::from_bytes(&injected).unwrap();
    assert_eq!(parsed.unverified().recipients().len(), 4);
    assert_eq!(
        parsed.verify(&pin),
        Err(RecipientSetError::NotSignedByPinnedOwner)
    );

    // A replayed older set.
    let old = RecipientSet::new(pin.owner, pin.camera, 4, rs.clone())
        .unwrap()
        .sign(&key);
    let old = SignedRecipientSet::from_bytes(old.as_bytes())
        .unwrap()
        .verify(&pin)
        .unwrap();
    assert_eq!(
        good.accept_successor(&old),
        Err(RecipientSetError::RolledBack {
            accepted: 5,
            offered: 4
        })
    );
    assert_eq!(good.accept_successor(&good), Ok(Acceptance::Unchanged));

    // Stripped signature.
    let stripped = &good.as_bytes()[..good.as_bytes().len() - 64];
    assert!(matches!(
        SignedRecipientSet::from_bytes(stripped),
        Err(RecipientSetError::Malformed(_))
    ));
}

#[test]
fn refuses_other_camera() {
    let (key, pin, rs) = fixture();
    let other = RecipientSet::new(pin.owner, CameraId::random(), 1, rs)
        .unwrap()
        .sign(&key);
    assert_eq!(other.verify(&pin), Err(RecipientSetError::WrongCamera));
}

#[test]
fn camera_checks_of_v2_sets() {
    use crate::{DeviceKey, OwnerKeyState, RecoveryKey};
    let owner_key = OwnerSigningKey::generate();
    let recovery = RecoveryKey::generate();
    let device = DeviceKey::generate().public();
    let owner = OwnerId::random();
    let keys = OwnerKeyState::new(
        owner,
        owner_key.public(),
        Some(recovery.root_key().public()),
        1,
        3,
    );
    let pin = CameraPin {
        camera: CameraId::random(),
        device_key: device,
        keys,
        accept_v1: false,
    };
    let phone = ViewerIdentity::generate().to_public();
    let make = |epoch: u64, device_key, key_position, expires_at, signer: &OwnerSigningKey| {
        RecipientSet::bound(
            owner,
            pin.camera,
            epoch,
            100,
            vec![phone.clone(), recovery.to_public()],
            SetBinding {
                device_key,
                expires_at,
                key_position,
                recovery: recovery.to_public(),
            },
        )
        .unwrap()
        .sign(signer)
    };
    let reparse = |s: SignedRecipientSet| SignedRecipientSet::from_bytes(s.as_bytes()).unwrap();
    let good = reparse(make(2, device, (1, 3), 1_000, &owner_key))
        .verify_for_camera(&pin, 500)
        .unwrap();
    assert_eq!(good.sealing_recipients(500).len(), 2);
    assert_eq!(good.sealing_recipients(1_001), &[recovery.to_public()]);
    assert_eq!(
        reparse(make(
            2,
            DeviceKey::generate().public(),
            (1, 3),
            1_000,
            &owner_key
        ))
        .verify_for_camera(&pin, 500),
        Err(RecipientSetError::WrongDevice)
    );
    assert_eq!(
        reparse(make(2, device, (1, 2), 1_000, &owner_key)).verify_for_camera(&pin, 500),
        Err(RecipientSetError::OtherKeyGeneration {
            claimed: (1, 2),
            held: (1, 3)
        })
    );
    assert_eq!(
        reparse(make(2, device, (1, 3), 1_000, &OwnerSigningKey::generate()))
            .verify_for_camera(&pin, 500),
        Err(RecipientSetError::NotSignedByPinnedOwner)
    );
    assert_eq!(
        reparse(make(2, device, (1, 3), 400, &owner_key)).verify_for_camera(&pin, 500),
        Err(RecipientSetError::Expired { expires_at: 400 })
    );
    let v1 = RecipientSet::new(owner, pin.camera, 3, vec![phone.clone()])
        .unwrap()
        .sign(&owner_key);
    assert_eq!(
        reparse(v1.clone()).verify_for_camera(&pin, 500),
        Err(RecipientSetError::Legacy)
    );
    let legacy_pin = CameraPin {
        accept_v1: true,
        ..pin
    };
    assert!(reparse(v1).verify_for_camera(&legacy_pin, 500).is_ok());
    let far = reparse(make(u64::MAX, device, (1, 3), 1_000, &owner_key))
        .verify_for_camera(&pin, 500)
        .unwrap();
    assert!(matches!(
        good.accept_successor(&far),
        Err(RecipientSetError::EpochJump { .. })
    ));
    assert!(VerifiedRecipientSet::accept_first(&far).is_err());
    assert!(VerifiedRecipientSet::accept_first(&good).is_ok());

    // After the owner key moved on (a reset, say), a set of the new key
    // replaces one a thief pushed to a huge epoch with the old key.
    let next_key = OwnerSigningKey::generate();
    let moved = CameraPin {
        keys: OwnerKeyState {
            owner_key: next_key.public(),
            reset: 2,
            generation: 0,
            ..pin.keys
        },
        ..pin
    };
    let pushed = reparse(make(1 << 40, device, (1, 3), 1_000, &owner_key))
        .verify_for_camera(&pin, 500)
        .unwrap();
    let after_reset = reparse(make(7, device, (2, 0), 1_000, &next_key))
        .verify_for_camera(&moved, 500)
        .unwrap();
    assert_eq!(pushed.accept_successor(&after_reset), Ok(Acceptance::Newer));
    assert!(matches!(
        after_reset.accept_successor(&pushed),
        Err(RecipientSetError::RolledBack { .. })
    ));
}

#[test]
fn refuses_duplicates_and_empty() {
    let (_, pin, rs) = fixture();
    assert!(RecipientSet::new(pin.owner, pin.camera, 1, vec![]).is_err());
    assert!(
        RecipientSet::new(pin.owner, pin.camera, 1, vec![rs[0].clone(), rs[0].clone()]).is_err()
    );
}
