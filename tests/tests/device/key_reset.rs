//! Owner trust v2 on the camera, against the real server: a revoked device
//! holding the owner key, with the server's help, rotates the key to its own
//! and hijacks the camera's set; a reset signed by another root key changes
//! nothing, the owner's reset (signed by the root key derived from the
//! recovery key) wins over the attacker's rotations, and a malformed key log
//! changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use sealcam_device::{Device, NewEvent, Notice, PartKind, SyncOutcome};
use sealcam_e2e::{not_addressed, notices, sync_refused, Harness, SetSpec, SimOwner};
use sealcam_keys::{
    unix_now, CameraId, KeyStatement, KeyStatementError, OwnerKeyState, OwnerSigningKey,
    RecipientSetError, RecoveryKey, ViewerIdentity,
};

/// A camera whose set an attacker holding the owner key hijacked, through
/// two rotations to keys of its own: the camera cannot tell, since the
/// rotations are signed by the key it followed.
struct Hijacked {
    _h: Harness,
    owner: SimOwner,
    device: Device,
    camera: CameraId,
    seen: Arc<Mutex<Vec<Notice>>>,
    attacker: ViewerIdentity,
    /// The attacker's key state and key.
    state: OwnerKeyState,
    signer: OwnerSigningKey,
}

impl Hijacked {
    fn start() -> Self {
        let h = Harness::start().unwrap();
        let (mut owner, mut device, camera) = h.household_camera().unwrap();
        let seen = notices(&mut device);

        // A revoked device holding k0, with the server's help, rotates the
        // owner key to keys of its own, twice, and publishes a set that adds
        // itself.
        let attacker = ViewerIdentity::generate();
        let mut state = owner.keys();
        let mut signer = owner.signing_key().clone();
        for _ in 0..2 {
            let next = OwnerSigningKey::generate();
            let st = KeyStatement::rotation(&state, &signer, next.public(), unix_now()).unwrap();
            state.apply(&st).unwrap();
            owner.append_to_key_log(st).unwrap();
            signer = next;
        }
        let hijack = SetSpec {
            recipients: vec![attacker.to_public(), owner.recovery().to_public()],
            key_position: (1, 2),
            ..SetSpec::of(&owner, camera, 2).unwrap()
        }
        .sign(&owner, &signer)
        .unwrap();
        owner.put_set_bytes(camera, 2, hijack.as_bytes()).unwrap();
        assert_eq!(
            device.sync().unwrap(),
            SyncOutcome::Updated {
                from: Some(1),
                to: 2
            }
        );
        assert_eq!(device.owner_keys().unwrap().position(), (1, 2));
        Self {
            _h: h,
            owner,
            device,
            camera,
            seen,
            attacker,
            state,
            signer,
        }
    }
}

#[test]
fn a_reset_signed_by_another_root_key_changes_nothing() {
    let mut t = Hijacked::start();
    let other_root = RecoveryKey::generate().root_key();
    let fake = KeyStatement::reset(
        t.owner.account(),
        &other_root,
        9,
        0,
        t.signer.public(),
        unix_now(),
    );
    t.owner.append_to_key_log(fake).unwrap();
    assert_eq!(
        t.device.sync().unwrap(),
        SyncOutcome::Unchanged { epoch: 2 }
    );
    assert!(t.seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::KeyStatementRefused {
            // Sent from the camera's place on: the rotation to (1, 2), then
            // the fake reset.
            index: 1,
            reason: KeyStatementError::OtherRootKey
        }
    )));
}

#[test]
fn the_owners_reset_wins_over_an_attackers_rotations() {
    let mut t = Hijacked::start();
    let camera = t.camera;

    // The owner resets with the recovery key's root key: adopted over the
    // attacker's generations, and the attacker's set is refused from now on.
    t.owner.reset().unwrap();
    assert_eq!(t.owner.keys().position(), (2, 0));
    assert_eq!(
        sync_refused(&mut t.device).unwrap(),
        (RecipientSetError::NotSignedByPinnedOwner, Some(2))
    );
    assert_eq!(t.device.owner_keys().unwrap(), t.owner.keys());
    assert!(t.seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::OwnerKeyChanged {
            from: (1, 2),
            to: (2, 0)
        }
    )));

    // The owner publishes above the attacker's epoch; the attacker's key can
    // neither rotate again nor sign a set the camera takes.
    let viewer = t.owner.viewer().to_public();
    t.owner
        .publish_at(camera, 3, vec![viewer], unix_now() + 3600)
        .unwrap();
    assert_eq!(
        t.device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(2),
            to: 3
        }
    );
    let again = KeyStatement::rotation(
        &t.state,
        &t.signer,
        OwnerSigningKey::generate().public(),
        unix_now(),
    )
    .unwrap();
    t.owner.append_to_key_log(again).unwrap();
    let later = SetSpec {
        recipients: vec![t.attacker.to_public(), t.owner.recovery().to_public()],
        key_position: (2, 0),
        ..SetSpec::of(&t.owner, camera, 4).unwrap()
    }
    .sign(&t.owner, &t.signer)
    .unwrap();
    t.owner.put_set_bytes(camera, 4, later.as_bytes()).unwrap();
    assert_eq!(
        sync_refused(&mut t.device).unwrap(),
        (RecipientSetError::NotSignedByPinnedOwner, Some(3))
    );
    assert_eq!(t.device.owner_keys().unwrap().position(), (2, 0));
    let report = t.device.record(NewEvent::now().thumbnail(b"mine")).unwrap();
    assert_eq!(report.epoch, 3);
    t.owner
        .open(camera, report.event, PartKind::Thumbnail)
        .unwrap();
    let err = t
        .owner
        .open_as(&t.attacker, camera, report.event, PartKind::Thumbnail)
        .unwrap_err();
    assert!(not_addressed(&err), "{err:?}");
}

#[test]
fn a_malformed_key_log_is_reported_and_changes_nothing() {
    let h = Harness::start().unwrap();
    let (owner, mut device, _) = h.household_camera().unwrap();
    let seen = notices(&mut device);
    let held = device.owner_keys().unwrap();
    let mut bytes = owner.key_log().to_bytes();
    bytes.push(0);
    owner.put_key_log_bytes(&bytes).unwrap();
    assert_eq!(device.sync().unwrap(), SyncOutcome::Unchanged { epoch: 1 });
    assert_eq!(device.owner_keys().unwrap(), held);
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .any(|n| matches!(n, Notice::KeyLogRefused { .. })));
}
