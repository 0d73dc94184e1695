//! Recipient set expiry on the camera, against the real server: a set that
//! expired before it was offered is refused; past its set's expiry the
//! camera seals to the recovery key alone (across a restart too) until the
//! owner renews the set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use sealcam_device::{Device, DeviceConfig, NewEvent, Notice, PartKind, SyncOutcome};
use sealcam_e2e::media::bytes;
use sealcam_e2e::{not_addressed, notices, sync_refused, Harness, SetSpec};
use sealcam_keys::{unix_now, RecipientSetError};

#[test]
fn a_set_that_expired_before_it_was_offered_is_refused() {
    let h = Harness::start().unwrap();
    let (owner, mut device, camera) = h.household_camera().unwrap();

    let stale = SetSpec {
        expires_at: unix_now() - 60,
        ..SetSpec::of(&owner, camera, 2).unwrap()
    }
    .sign(&owner, owner.signing_key())
    .unwrap();
    owner.put_set_bytes(camera, 2, stale.as_bytes()).unwrap();
    assert!(matches!(
        sync_refused(&mut device).unwrap(),
        (RecipientSetError::Expired { .. }, Some(1))
    ));
}

#[test]
fn past_expiry_only_the_recovery_key_opens_until_the_owner_renews() {
    let h = Harness::start().unwrap();
    let (mut owner, mut device, camera) = h.household_camera().unwrap();
    let seen = notices(&mut device);

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
    let clip = bytes(5, 100_000);
    let late = device
        .record(NewEvent::now().thumbnail(b"late").clip(&mut &clip[..]))
        .unwrap();
    assert!(late.recovery_only);
    assert_eq!(late.epoch, 3);
    assert!(seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::RecipientSetExpired { epoch: 3, expires_at: e } if *e == expires_at
    )));
    let recovery = owner.recovery().identity();
    for kind in [PartKind::Thumbnail, PartKind::Clip] {
        let err = owner.open(camera, late.event, kind).unwrap_err();
        assert!(not_addressed(&err), "{err:?}");
        let opened = owner.open_as(recovery, camera, late.event, kind).unwrap();
        assert_eq!(opened.meta.epoch, 3);
    }
    assert_eq!(
        owner
            .open_as(recovery, camera, late.event, PartKind::Clip)
            .unwrap()
            .body,
        clip
    );
    owner
        .open(camera, valid.event, PartKind::Thumbnail)
        .unwrap();

    // A restart keeps the expired set (expiry is checked on acceptance, not
    // on re-reading), and still seals to the recovery key alone.
    drop(device);
    let mut device = Device::open(&h.path("cam"), DeviceConfig::default()).unwrap();
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
    owner
        .open(camera, renewed.event, PartKind::Thumbnail)
        .unwrap();
}
