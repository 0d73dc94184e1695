//! Owner trust v2 against the real server: the camera follows the owner's
//! key log (rotations signed by the previous owner key, resets signed by the
//! root key), refuses sets signed by a retired key, for another camera's
//! device key, that jump too far or that expired, seals to the recovery key
//! alone once its set expired, and a camera paired before v2 upgrades
//! without losing anything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{notices, owner_open, owner_open_as, paired_camera, Harness, SetSpec};
use sealcam_device::{Device, DeviceConfig, NewEvent, Notice, PartKind, SyncOutcome};
use sealcam_format::OpenError;
use sealcam_keys::{
    unix_now, KeyStatement, KeyStatementError, OwnerKeyState, OwnerSigningKey, RecipientSet,
    RecipientSetError, RecoveryKey, ViewerIdentity, MAX_EPOCH_JUMP,
};

fn refused(device: &mut Device) -> (RecipientSetError, Option<u64>) {
    match device.sync().unwrap() {
        SyncOutcome::Refused { reason, kept } => (reason, kept),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn camera_json(h: &Harness, name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(h.state(name).join("camera.json")).unwrap()).unwrap()
}

#[test]
fn after_a_rotation_the_retired_key_signs_nothing_and_the_last_good_set_stays() {
    let h = Harness::start();
    let mut owner = h.owner();
    let mut device = paired_camera(&mut owner, &h.state("cam"));
    let camera = device.camera_id().unwrap();
    assert_eq!(device.owner_keys().unwrap(), owner.keys());
    assert_eq!(device.owner_keys().unwrap().position(), (1, 0));
    let seen = notices(&mut device);

    // A revoked device kept the owner key of its time (k0) and a set it
    // signed that re-adds itself.
    let k0 = owner.signing_key().clone();
    let at_k0 = owner.keys();
    let revoked = ViewerIdentity::generate();
    let readds_itself = SetSpec {
        recipients: vec![
            owner.viewer().to_public(),
            revoked.to_public(),
            owner.recovery().to_public(),
        ],
        ..SetSpec::of(&owner, camera, 2)
    }
    .sign(&owner, &k0);

    // The owner rotates; the server serves the retired key's set.
    owner.rotate().unwrap();
    assert_eq!(owner.keys().position(), (1, 1));
    owner
        .put_set_bytes(camera, 2, readds_itself.as_bytes())
        .unwrap();
    assert_eq!(
        refused(&mut device),
        (RecipientSetError::NotSignedByPinnedOwner, Some(1))
    );
    assert_eq!(device.owner_keys().unwrap(), owner.keys());
    assert!(seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::OwnerKeyChanged {
            from: (1, 0),
            to: (1, 1)
        }
    )));

    // The key moved on disk at once; the last good set (signed by k0) stays
    // the set in use across a restart, but since its key was replaced, what
    // is recorded until the new key's set arrives is sealed to the recovery
    // key alone: the viewers of the old set (a revoked one among them) open
    // nothing.
    drop(device);
    let mut device = Device::open(&h.state("cam"), DeviceConfig::default()).unwrap();
    let seen = notices(&mut device);
    assert_eq!(device.owner_keys().unwrap().position(), (1, 1));
    assert_eq!(device.epoch(), Some(1));
    let json = camera_json(&h, "cam");
    assert_eq!(json["version"], 2);
    assert_eq!(json["keys"]["generation"], 1);
    assert_eq!(json["set_keys"]["generation"], 0);
    let between = device
        .record(NewEvent::now().thumbnail(b"between"))
        .unwrap();
    assert_eq!(between.epoch, 1);
    assert!(between.recovery_only);
    assert!(seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::RecipientSetRetired {
            epoch: 1,
            signed_under: (1, 0),
            current: (1, 1)
        }
    )));
    let err = owner_open(&owner, &device, between.event, PartKind::Thumbnail).unwrap_err();
    assert!(matches!(err, OpenError::NotAddressedToViewer), "{err:?}");
    owner_open_as(
        &owner,
        owner.recovery().identity(),
        &device,
        between.event,
        PartKind::Thumbnail,
    )
    .unwrap();

    // The revoked device forks the log from k0: refused, and reported.
    let evil = OwnerSigningKey::generate();
    let fork = KeyStatement::rotation(&at_k0, &k0, evil.public(), unix_now()).unwrap();
    owner.append_to_key_log(fork).unwrap();
    assert_eq!(
        refused(&mut device),
        (RecipientSetError::NotSignedByPinnedOwner, Some(1))
    );
    assert!(seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::KeyStatementRefused {
            index: 2,
            reason: KeyStatementError::Fork {
                reset: 1,
                generation: 1
            }
        }
    )));
    assert_eq!(
        device.owner_keys().unwrap().owner_key,
        owner.keys().owner_key
    );

    // The owner's set signed by the new key is taken; the old one never again.
    owner
        .publish_at(
            camera,
            3,
            vec![owner.viewer().to_public()],
            unix_now() + 3600,
        )
        .unwrap();
    assert_eq!(
        device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(1),
            to: 3
        }
    );
    let json = camera_json(&h, "cam");
    assert_eq!(json["set_keys"]["generation"], 1);
    owner
        .put_set_bytes(camera, 4, readds_itself.as_bytes())
        .unwrap();
    assert_eq!(
        refused(&mut device),
        (RecipientSetError::NotSignedByPinnedOwner, Some(3))
    );
    let after = device.record(NewEvent::now().thumbnail(b"after")).unwrap();
    assert_eq!(after.epoch, 3);
    owner_open(&owner, &device, after.event, PartKind::Thumbnail).unwrap();
    let err =
        owner_open_as(&owner, &revoked, &device, after.event, PartKind::Thumbnail).unwrap_err();
    assert!(matches!(err, OpenError::NotAddressedToViewer), "{err:?}");

    // A restart re-verifies the set under the new key.
    drop(device);
    let device = Device::open(&h.state("cam"), DeviceConfig::default()).unwrap();
    assert_eq!(device.epoch(), Some(3));
    drop(device);

    // A crash after the set was written but before camera.json recorded the
    // state it was accepted under: the set verifies under the current state,
    // which is then recorded.
    let mut json = camera_json(&h, "cam");
    json["set_keys"] = serde_json::to_value(at_k0).unwrap();
    sealcam_keys::secret_file::write(
        &h.state("cam").join("camera.json"),
        &serde_json::to_vec(&json).unwrap(),
    )
    .unwrap();
    let device = Device::open(&h.state("cam"), DeviceConfig::default()).unwrap();
    assert_eq!(device.epoch(), Some(3));
    assert_eq!(camera_json(&h, "cam")["set_keys"]["generation"], 1);
}

#[test]
fn a_reset_by_the_root_key_wins_over_an_attackers_rotations() {
    let h = Harness::start();
    let mut owner = h.owner();
    let mut device = paired_camera(&mut owner, &h.state("cam"));
    let camera = device.camera_id().unwrap();
    let seen = notices(&mut device);

    // A revoked device holding k0, with the server's help, rotates the owner
    // key to keys of its own, twice, and publishes a set that adds itself.
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
        ..SetSpec::of(&owner, camera, 2)
    }
    .sign(&owner, &signer);
    owner.put_set_bytes(camera, 2, hijack.as_bytes()).unwrap();
    // The camera cannot tell: the rotations are signed by the key it followed.
    assert_eq!(
        device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(1),
            to: 2
        }
    );
    assert_eq!(device.owner_keys().unwrap().position(), (1, 2));

    // A reset signed by another root key changes nothing, and is reported.
    let other_root = RecoveryKey::generate().root_key();
    let fake = KeyStatement::reset(
        owner.account(),
        &other_root,
        9,
        0,
        signer.public(),
        unix_now(),
    );
    owner.append_to_key_log(fake).unwrap();
    assert_eq!(device.sync().unwrap(), SyncOutcome::Unchanged { epoch: 2 });
    assert!(seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::KeyStatementRefused {
            index: 3,
            reason: KeyStatementError::OtherRootKey
        }
    )));

    // The owner resets with the recovery key's root key: adopted over the
    // attacker's generations, and the attacker's set is refused from now on.
    owner.reset().unwrap();
    assert_eq!(owner.keys().position(), (2, 0));
    assert_eq!(
        refused(&mut device),
        (RecipientSetError::NotSignedByPinnedOwner, Some(2))
    );
    assert_eq!(device.owner_keys().unwrap(), owner.keys());
    assert!(seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::OwnerKeyChanged {
            from: (1, 2),
            to: (2, 0)
        }
    )));

    // The owner publishes above the attacker's epoch; the attacker's key can
    // neither rotate again nor sign a set the camera takes.
    owner
        .publish_at(
            camera,
            3,
            vec![owner.viewer().to_public()],
            unix_now() + 3600,
        )
        .unwrap();
    assert_eq!(
        device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(2),
            to: 3
        }
    );
    let again = KeyStatement::rotation(
        &state,
        &signer,
        OwnerSigningKey::generate().public(),
        unix_now(),
    )
    .unwrap();
    owner.append_to_key_log(again).unwrap();
    let later = SetSpec {
        recipients: vec![attacker.to_public(), owner.recovery().to_public()],
        key_position: (2, 0),
        ..SetSpec::of(&owner, camera, 4)
    }
    .sign(&owner, &signer);
    owner.put_set_bytes(camera, 4, later.as_bytes()).unwrap();
    assert_eq!(
        refused(&mut device),
        (RecipientSetError::NotSignedByPinnedOwner, Some(3))
    );
    assert_eq!(device.owner_keys().unwrap().position(), (2, 0));
    let report = device.record(NewEvent::now().thumbnail(b"mine")).unwrap();
    assert_eq!(report.epoch, 3);
    owner_open(&owner, &device, report.event, PartKind::Thumbnail).unwrap();
    let err = owner_open_as(
        &owner,
        &attacker,
        &device,
        report.event,
        PartKind::Thumbnail,
    )
    .unwrap_err();
    assert!(matches!(err, OpenError::NotAddressedToViewer), "{err:?}");
}

#[test]
fn a_set_for_another_device_key_or_a_far_epoch_is_refused() {
    let h = Harness::start();
    let mut owner = h.owner();
    let mut device = paired_camera(&mut owner, &h.state("cam"));
    let other = paired_camera(&mut owner, &h.state("other"));
    let camera = device.camera_id().unwrap();

    // Signed by the owner for this camera id, but bound to the other
    // camera's device key (the owner pinned a key that is not this camera's).
    let wrong_device = SetSpec {
        device_key: owner.device_key(other.camera_id().unwrap()).unwrap(),
        ..SetSpec::of(&owner, camera, 2)
    }
    .sign(&owner, owner.signing_key());
    owner
        .put_set_bytes(camera, 2, wrong_device.as_bytes())
        .unwrap();
    assert_eq!(
        refused(&mut device),
        (RecipientSetError::WrongDevice, Some(1))
    );

    // An epoch beyond MAX_EPOCH_JUMP (the owner could never publish again).
    let far = 1 + MAX_EPOCH_JUMP + 1;
    let jump = SetSpec::of(&owner, camera, far).sign(&owner, owner.signing_key());
    owner.put_set_bytes(camera, far, jump.as_bytes()).unwrap();
    assert_eq!(
        refused(&mut device),
        (
            RecipientSetError::EpochJump {
                accepted: 1,
                offered: far,
                max: MAX_EPOCH_JUMP
            },
            Some(1)
        )
    );
    // The largest jump allowed is taken.
    let edge = SetSpec::of(&owner, camera, 1 + MAX_EPOCH_JUMP).sign(&owner, owner.signing_key());
    owner
        .put_set_bytes(camera, 1 + MAX_EPOCH_JUMP, edge.as_bytes())
        .unwrap();
    assert!(matches!(
        device.sync().unwrap(),
        SyncOutcome::Updated { to, .. } if to == 1 + MAX_EPOCH_JUMP
    ));

    // A camera's first set may not start beyond MAX_EPOCH_JUMP either.
    let code = owner.pairing_code().unwrap();
    let mut fresh = Device::open(&h.state("fresh"), DeviceConfig::default()).unwrap();
    fresh.pair(&code).unwrap();
    let fresh_id = fresh.camera_id().unwrap();
    assert_eq!(owner.confirm_pending().unwrap(), vec![fresh_id]);
    let first = SetSpec::of(&owner, fresh_id, MAX_EPOCH_JUMP + 1).sign(&owner, owner.signing_key());
    owner
        .put_set_bytes(fresh_id, MAX_EPOCH_JUMP + 1, first.as_bytes())
        .unwrap();
    assert!(matches!(
        refused(&mut fresh),
        (RecipientSetError::EpochJump { accepted: 0, .. }, None)
    ));
}

#[test]
fn an_expired_set_is_refused_and_past_expiry_only_the_recovery_key_opens() {
    let h = Harness::start();
    let mut owner = h.owner();
    let mut device = paired_camera(&mut owner, &h.state("cam"));
    let camera = device.camera_id().unwrap();
    let seen = notices(&mut device);

    // A successor that expired before it was offered.
    let stale = SetSpec {
        expires_at: unix_now() - 60,
        ..SetSpec::of(&owner, camera, 2)
    }
    .sign(&owner, owner.signing_key());
    owner.put_set_bytes(camera, 2, stale.as_bytes()).unwrap();
    assert!(matches!(
        refused(&mut device),
        (RecipientSetError::Expired { .. }, Some(1))
    ));

    // A set that expires in a moment is accepted, then expires.
    let expires_at = unix_now() + 3;
    owner
        .publish_at(camera, 3, vec![owner.viewer().to_public()], expires_at)
        .unwrap();
    assert_eq!(
        device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(1),
            to: 3
        }
    );
    let valid = device.record(NewEvent::now().thumbnail(b"valid")).unwrap();
    assert!(!valid.recovery_only);
    while unix_now() <= expires_at {
        std::thread::sleep(Duration::from_millis(100));
    }

    // Past expiry: sealed to the recovery key alone, and reported.
    let clip = common::bytes(5, 100_000);
    let late = device
        .record(NewEvent::now().thumbnail(b"late").clip(&mut &clip[..]))
        .unwrap();
    assert!(late.recovery_only);
    assert_eq!(late.epoch, 3);
    assert!(seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::RecipientSetExpired { epoch: 3, expires_at: e } if *e == expires_at
    )));
    for kind in [PartKind::Thumbnail, PartKind::Clip] {
        let err = owner_open(&owner, &device, late.event, kind).unwrap_err();
        assert!(matches!(err, OpenError::NotAddressedToViewer), "{err:?}");
        let opened = owner_open_as(
            &owner,
            owner.recovery().identity(),
            &device,
            late.event,
            kind,
        )
        .unwrap();
        assert_eq!(opened.meta.epoch, 3);
    }
    assert_eq!(
        owner_open_as(
            &owner,
            owner.recovery().identity(),
            &device,
            late.event,
            PartKind::Clip
        )
        .unwrap()
        .body,
        clip
    );
    owner_open(&owner, &device, valid.event, PartKind::Thumbnail).unwrap();

    // A restart keeps the expired set (expiry is checked on acceptance, not
    // on re-reading), and still seals to the recovery key alone.
    drop(device);
    let mut device = Device::open(&h.state("cam"), DeviceConfig::default()).unwrap();
    assert_eq!(device.epoch(), Some(3));
    let restarted = device.record(NewEvent::now().thumbnail(b"again")).unwrap();
    assert!(restarted.recovery_only);

    // The owner renews: the phone opens what is recorded next.
    owner
        .publish(camera, vec![owner.viewer().to_public()])
        .unwrap();
    assert_eq!(
        device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(3),
            to: 4
        }
    );
    let renewed = device
        .record(NewEvent::now().thumbnail(b"renewed"))
        .unwrap();
    assert!(!renewed.recovery_only);
    owner_open(&owner, &device, renewed.event, PartKind::Thumbnail).unwrap();
}

#[test]
fn a_camera_paired_before_v2_upgrades_through_the_owners_first_rotation() {
    let h = Harness::start();
    let mut owner = h.legacy_owner();
    let state = h.state("cam");
    let device = paired_camera(&mut owner, &state);
    let camera = device.camera_id().unwrap();
    let legacy_key = owner.signing_key().public();
    drop(device);

    // Make it the state dir a camera of before v2 left: camera.json version
    // 1 (the pinned owner key, no key state) beside a v1 set signed by the
    // owner key.
    let v2 = camera_json(&h, "cam");
    let v1 = serde_json::json!({
        "version": 1,
        "server_url": v2["server_url"],
        "camera_id": v2["camera_id"],
        "owner_id": v2["owner_id"],
        "owner_key": legacy_key.to_string(),
        "credential": v2["credential"],
    });
    sealcam_keys::secret_file::write(
        &state.join("camera.json"),
        &serde_json::to_vec_pretty(&v1).unwrap(),
    )
    .unwrap();
    let stored = std::fs::read(state.join("recipient-set.bin")).unwrap();
    assert_eq!(&stored[..8], b"SCRSET\x00\x01");

    // It opens with everything it had, and records.
    let mut device = Device::open(&state, DeviceConfig::default()).unwrap();
    let seen = notices(&mut device);
    assert_eq!(device.camera_id(), Some(camera));
    assert_eq!(device.epoch(), Some(1));
    assert_eq!(
        device.owner_keys().unwrap(),
        OwnerKeyState::legacy(owner.account(), legacy_key)
    );
    let before = device.record(NewEvent::now().thumbnail(b"v1")).unwrap();
    owner_open(&owner, &device, before.event, PartKind::Thumbnail).unwrap();
    assert_eq!(camera_json(&h, "cam")["version"], 1);
    assert_eq!(device.sync().unwrap(), SyncOutcome::Unchanged { epoch: 1 });

    // The owner's first rotation, from the legacy key, names the root key;
    // then it publishes v2 sets.
    owner.rotate().unwrap();
    let log = owner.key_log().statements();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].kind(), sealcam_keys::StatementKind::Rotation);
    assert_eq!(log[0].root_key(), owner.root_key().public());
    assert_eq!(owner.keys().position(), (0, 1));
    owner
        .publish(camera, vec![owner.viewer().to_public()])
        .unwrap();
    assert_eq!(
        device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(1),
            to: 2
        }
    );
    assert!(seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::OwnerKeyChanged {
            from: (0, 0),
            to: (0, 1)
        }
    )));
    let keys = device.owner_keys().unwrap();
    assert_eq!(keys.root_key, Some(owner.root_key().public()));
    assert_eq!(keys.owner_key, owner.signing_key().public());
    let json = camera_json(&h, "cam");
    assert_eq!(json["version"], 2);
    assert_eq!(json["paired_v1"], true);
    assert_eq!(json["set_keys"]["generation"], 1);

    // Its owner key moved, so v1 sets are over, even signed by the new key.
    let v1_set = RecipientSet::new(owner.account(), camera, 3, vec![owner.viewer().to_public()])
        .unwrap()
        .sign(owner.signing_key());
    owner.put_set_bytes(camera, 3, v1_set.as_bytes()).unwrap();
    assert_eq!(refused(&mut device), (RecipientSetError::Legacy, Some(2)));

    // It learned the root key from the rotation, so a reset reaches it too.
    owner.reset().unwrap();
    owner
        .publish_at(
            camera,
            4,
            vec![owner.viewer().to_public()],
            unix_now() + 3600,
        )
        .unwrap();
    assert_eq!(
        device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(2),
            to: 4
        }
    );
    assert_eq!(device.owner_keys().unwrap().position(), (1, 0));
    drop(device);
    let mut device = Device::open(&state, DeviceConfig::default()).unwrap();
    assert_eq!(device.epoch(), Some(4));
    let after = device.record(NewEvent::now().thumbnail(b"v2")).unwrap();
    owner_open(&owner, &device, after.event, PartKind::Thumbnail).unwrap();
    owner_open(&owner, &device, before.event, PartKind::Thumbnail).unwrap();
}

#[test]
fn a_malformed_key_log_is_reported_and_changes_nothing() {
    let h = Harness::start();
    let mut owner = h.owner();
    let mut device = paired_camera(&mut owner, &h.state("cam"));
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
