//! Owner trust v2 on the camera, against the real server: after the owner
//! rotates its key (as when a viewer device is revoked), the camera follows
//! the key log, refuses what the retired key signs and a fork of the log
//! from it, seals to the recovery key alone until the new key's set arrives,
//! then takes that set for good.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use sealcam_device::{Device, DeviceConfig, NewEvent, Notice, PartKind, SyncOutcome};
use sealcam_e2e::{camera_json, not_addressed, notices, sync_refused, Harness, SetSpec, SimOwner};
use sealcam_keys::{
    unix_now, CameraId, KeyStatement, KeyStatementError, OwnerKeyState, OwnerSigningKey,
    RecipientSetError, SignedRecipientSet, ViewerIdentity,
};

/// A camera at epoch 1 whose owner rotated from `k0`; a revoked device kept
/// `k0` and a set it signed that re-adds itself, which the server serves.
struct Rotated {
    h: Harness,
    owner: SimOwner,
    device: Device,
    camera: CameraId,
    seen: Arc<Mutex<Vec<Notice>>>,
    k0: OwnerSigningKey,
    at_k0: OwnerKeyState,
    revoked: ViewerIdentity,
    readds_itself: SignedRecipientSet,
}

impl Rotated {
    fn start() -> Self {
        let h = Harness::start().unwrap();
        let (mut owner, mut device, camera) = h.household_camera().unwrap();
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
            ..SetSpec::of(&owner, camera, 2).unwrap()
        }
        .sign(&owner, &k0)
        .unwrap();

        // The owner rotates; the server serves the retired key's set.
        owner.rotate().unwrap();
        assert_eq!(owner.keys().position(), (1, 1));
        owner
            .put_set_bytes(camera, 2, readds_itself.as_bytes())
            .unwrap();
        assert_eq!(
            sync_refused(&mut device).unwrap(),
            (RecipientSetError::NotSignedByPinnedOwner, Some(1))
        );
        Self {
            h,
            owner,
            device,
            camera,
            seen,
            k0,
            at_k0,
            revoked,
            readds_itself,
        }
    }

    /// The owner publishes epoch 3 under the new key; the camera takes it.
    fn publish_under_the_new_key(&mut self) {
        let viewer = self.owner.viewer().to_public();
        self.owner
            .publish_at(self.camera, 3, vec![viewer], unix_now() + 3600)
            .unwrap();
        assert_eq!(
            self.device.sync().unwrap(),
            SyncOutcome::Updated {
                from: Some(1),
                to: 3
            }
        );
    }

    /// A restart (a camera holds no lock on its state directory).
    fn reopen(&mut self) {
        self.device = Device::open(&self.h.path("cam"), DeviceConfig::default()).unwrap();
        self.seen = notices(&mut self.device);
    }
}

#[test]
fn after_a_rotation_the_retired_key_signs_nothing() {
    let t = Rotated::start();
    assert_eq!(t.device.owner_keys().unwrap(), t.owner.keys());
    assert!(t.seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::OwnerKeyChanged {
            from: (1, 0),
            to: (1, 1)
        }
    )));
}

#[test]
fn until_the_new_keys_set_arrives_only_the_recovery_key_opens() {
    // The key moved on disk at once; the last good set (signed by k0) stays
    // the set in use across a restart, but since its key was replaced, what
    // is recorded until the new key's set arrives is sealed to the recovery
    // key alone: the viewers of the old set (a revoked one among them) open
    // nothing.
    let mut t = Rotated::start();
    t.reopen();
    assert_eq!(t.device.owner_keys().unwrap().position(), (1, 1));
    assert_eq!(t.device.epoch(), Some(1));
    let json = camera_json(&t.h.path("cam")).unwrap();
    assert_eq!(json["version"], 2);
    assert_eq!(json["keys"]["generation"], 1);
    assert_eq!(json["set_keys"]["generation"], 0);
    let between = t
        .device
        .record(NewEvent::now().thumbnail(b"between"))
        .unwrap();
    assert_eq!(between.epoch, 1);
    assert!(between.recovery_only);
    assert!(t.seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::RecipientSetRetired {
            epoch: 1,
            signed_under: (1, 0),
            current: (1, 1)
        }
    )));
    let err = t
        .owner
        .open(t.camera, between.event, PartKind::Thumbnail)
        .unwrap_err();
    assert!(not_addressed(&err), "{err:?}");
    t.owner
        .open_as(
            t.owner.recovery().identity(),
            t.camera,
            between.event,
            PartKind::Thumbnail,
        )
        .unwrap();
}

#[test]
fn a_fork_of_the_key_log_from_the_retired_key_is_refused_and_reported() {
    // The revoked device forks the log from k0.
    let mut t = Rotated::start();
    let evil = OwnerSigningKey::generate();
    let fork = KeyStatement::rotation(&t.at_k0, &t.k0, evil.public(), unix_now()).unwrap();
    t.owner.append_to_key_log(fork).unwrap();
    assert_eq!(
        sync_refused(&mut t.device).unwrap(),
        (RecipientSetError::NotSignedByPinnedOwner, Some(1))
    );
    assert!(t.seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::KeyStatementRefused {
            // The server sends the statements from the place the camera
            // holds on: the rotation to (1, 1), then the fork of it.
            index: 1,
            reason: KeyStatementError::Fork {
                reset: 1,
                generation: 1
            }
        }
    )));
    assert_eq!(
        t.device.owner_keys().unwrap().owner_key,
        t.owner.keys().owner_key
    );
}

#[test]
fn the_new_keys_set_is_taken_and_the_retired_keys_never_again() {
    let mut t = Rotated::start();
    t.publish_under_the_new_key();
    let json = camera_json(&t.h.path("cam")).unwrap();
    assert_eq!(json["set_keys"]["generation"], 1);
    t.owner
        .put_set_bytes(t.camera, 4, t.readds_itself.as_bytes())
        .unwrap();
    assert_eq!(
        sync_refused(&mut t.device).unwrap(),
        (RecipientSetError::NotSignedByPinnedOwner, Some(3))
    );
    let after = t
        .device
        .record(NewEvent::now().thumbnail(b"after"))
        .unwrap();
    assert_eq!(after.epoch, 3);
    t.owner
        .open(t.camera, after.event, PartKind::Thumbnail)
        .unwrap();
    let err = t
        .owner
        .open_as(&t.revoked, t.camera, after.event, PartKind::Thumbnail)
        .unwrap_err();
    assert!(not_addressed(&err), "{err:?}");

    // A restart re-verifies the set under the new key.
    t.reopen();
    assert_eq!(t.device.epoch(), Some(3));
}

#[test]
fn a_crash_before_camera_json_names_the_sets_key_state_is_repaired_at_open() {
    // The set was written but camera.json still records the state the
    // previous set was accepted under: the set verifies under the current
    // state, which is then recorded.
    let mut t = Rotated::start();
    t.publish_under_the_new_key();
    let state = t.h.path("cam");
    drop(t.device);
    let mut json = camera_json(&state).unwrap();
    json["set_keys"] = serde_json::to_value(t.at_k0).unwrap();
    sealcam_keys::secret_file::write(
        &state.join("camera.json"),
        &serde_json::to_vec(&json).unwrap(),
    )
    .unwrap();
    let device = Device::open(&state, DeviceConfig::default()).unwrap();
    assert_eq!(device.epoch(), Some(3));
    assert_eq!(camera_json(&state).unwrap()["set_keys"]["generation"], 1);
}

#[test]
fn a_camera_follows_a_full_key_log_and_copies_hide_no_rotation() {
    // An owner device, before its revocation, wrote 1,000 copies of the
    // statement naming the key the camera holds; then the account rotated
    // 3,095 times (a revocation or unshare every day for eight years): the
    // log is full, 4,096 statements. The whole log, base64 in the set's
    // JSON, is some 980 KiB; cameras read at most 512 KiB per answer before
    // this release, and a first version of the part from the camera's place
    // on sent 512 statements at most, all of them copies.
    let h = Harness::start().unwrap();
    let (mut owner, mut device, camera) = h.household_camera().unwrap();
    let seen = notices(&mut device);
    owner.append_copies(0, 1_000).unwrap();
    owner.rotate_many(3_095).unwrap();
    let whole = owner.key_log().to_bytes().len();
    println!(
        "tried: the owner's key log holds {} statements ({whole} bytes, {} of base64), 1,000 of them copies of the one naming the camera's key (1, 0)",
        owner.key_log().statements().len(),
        whole.div_ceil(3) * 4
    );
    owner
        .publish(camera, vec![owner.viewer().to_public()])
        .unwrap();

    // One sync takes the camera to the newest key and its set.
    let outcome = device.sync().unwrap();
    println!(
        "sync: the camera holds {:?}; {outcome:?}",
        device.owner_keys().unwrap().position()
    );
    assert_eq!(
        outcome,
        SyncOutcome::Updated {
            from: Some(1),
            to: 2
        }
    );
    assert_eq!(device.owner_keys().unwrap(), owner.keys());
    assert_eq!(owner.keys().position(), (1, 3_095));
    // Following it refused nothing (a copy of the key held is that key).
    assert!(!seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::KeyStatementRefused { .. } | Notice::KeyLogRefused { .. }
    )));

    // Then an answer carries the one statement the camera holds.
    assert_eq!(device.sync().unwrap(), SyncOutcome::Unchanged { epoch: 2 });
    let recorded = device
        .record(NewEvent::now().thumbnail(b"day 3095"))
        .unwrap();
    assert_eq!(recorded.epoch, 2);
    owner
        .open(camera, recorded.event, PartKind::Thumbnail)
        .unwrap();
    println!("refused: nothing; the camera follows the newest owner key and seals to its set");
}
