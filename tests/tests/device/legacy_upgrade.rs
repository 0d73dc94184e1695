//! A camera paired before owner trust v2 (`camera.json` version 1, a
//! version-1 set) against the real server: it opens with everything it had
//! and records; the owner's first rotation names the root key and upgrades
//! it to v2; from then on version-1 sets are refused and a reset reaches it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sealcam_device::{Device, DeviceConfig, NewEvent, Notice, PartKind, SyncOutcome};
use sealcam_e2e::{camera_json, notices, sync_refused, Harness, SimOwner};
use sealcam_keys::{
    unix_now, CameraId, EventId, OwnerKeyState, OwnerPublicKey, RecipientSet, RecipientSetError,
};

/// A legacy owner's camera, its state directory made the one a camera of
/// before v2 left: camera.json version 1 (the pinned owner key, no key
/// state) beside a v1 set signed by the owner key; opened again.
struct Legacy {
    _h: Harness,
    owner: SimOwner,
    state: PathBuf,
    device: Device,
    camera: CameraId,
    legacy_key: OwnerPublicKey,
    seen: Arc<Mutex<Vec<Notice>>>,
}

impl Legacy {
    fn start() -> Self {
        let h = Harness::start().unwrap();
        let mut owner = h.legacy_sim_owner("household").unwrap();
        let state = h.path("cam");
        let device = owner.pair_camera(&state, DeviceConfig::default()).unwrap();
        let camera = device.camera_id().unwrap();
        let legacy_key = owner.signing_key().public();
        drop(device);

        let v2 = camera_json(&state).unwrap();
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

        let mut device = Device::open(&state, DeviceConfig::default()).unwrap();
        let seen = notices(&mut device);
        Self {
            _h: h,
            owner,
            state,
            device,
            camera,
            legacy_key,
            seen,
        }
    }

    /// Records a thumbnail the owner opens; returns its event.
    fn record_and_open(&mut self, thumbnail: &[u8]) -> EventId {
        let report = self
            .device
            .record(NewEvent::now().thumbnail(thumbnail))
            .unwrap();
        self.owner
            .open(self.camera, report.event, PartKind::Thumbnail)
            .unwrap();
        report.event
    }

    /// The owner's first rotation, from the legacy key, names the root key;
    /// then it publishes v2 sets, which the camera takes.
    fn upgrade(&mut self) {
        self.owner.rotate().unwrap();
        let viewer = self.owner.viewer().to_public();
        self.owner.publish(self.camera, vec![viewer]).unwrap();
        assert_eq!(
            self.device.sync().unwrap(),
            SyncOutcome::Updated {
                from: Some(1),
                to: 2
            }
        );
    }
}

#[test]
fn a_camera_paired_before_v2_opens_with_what_it_had_and_records() {
    let mut t = Legacy::start();
    assert_eq!(t.device.camera_id(), Some(t.camera));
    assert_eq!(t.device.epoch(), Some(1));
    assert_eq!(
        t.device.owner_keys().unwrap(),
        OwnerKeyState::legacy(t.owner.account(), t.legacy_key)
    );
    t.record_and_open(b"v1");
    assert_eq!(camera_json(&t.state).unwrap()["version"], 1);
    assert_eq!(
        t.device.sync().unwrap(),
        SyncOutcome::Unchanged { epoch: 1 }
    );
}

#[test]
fn the_owners_first_rotation_upgrades_it_to_v2() {
    let mut t = Legacy::start();
    t.upgrade();
    let log = t.owner.key_log().statements();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].kind(), sealcam_keys::StatementKind::Rotation);
    assert_eq!(log[0].root_key(), t.owner.root_key().public());
    assert_eq!(t.owner.keys().position(), (0, 1));
    assert!(t.seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::OwnerKeyChanged {
            from: (0, 0),
            to: (0, 1)
        }
    )));
    let keys = t.device.owner_keys().unwrap();
    assert_eq!(keys.root_key, Some(t.owner.root_key().public()));
    assert_eq!(keys.owner_key, t.owner.signing_key().public());
    let json = camera_json(&t.state).unwrap();
    assert_eq!(json["version"], 2);
    assert_eq!(json["paired_v1"], true);
    assert_eq!(json["set_keys"]["generation"], 1);
}

#[test]
fn after_the_upgrade_v1_sets_are_refused_and_a_reset_reaches_it() {
    let mut t = Legacy::start();
    let before = t.record_and_open(b"v1");
    t.upgrade();
    let camera = t.camera;

    // Its owner key moved, so v1 sets are over, even signed by the new key.
    let v1_set = RecipientSet::new(
        t.owner.account(),
        camera,
        3,
        vec![t.owner.viewer().to_public()],
    )
    .unwrap()
    .sign(t.owner.signing_key());
    t.owner.put_set_bytes(camera, 3, v1_set.as_bytes()).unwrap();
    assert_eq!(
        sync_refused(&mut t.device).unwrap(),
        (RecipientSetError::Legacy, Some(2))
    );

    // It learned the root key from the rotation, so a reset reaches it too.
    t.owner.reset().unwrap();
    let viewer = t.owner.viewer().to_public();
    t.owner
        .publish_at(camera, 4, vec![viewer], unix_now() + 3600)
        .unwrap();
    assert_eq!(
        t.device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(2),
            to: 4
        }
    );
    assert_eq!(t.device.owner_keys().unwrap().position(), (1, 0));
    // A restart (a camera holds no lock on its state directory).
    t.device = Device::open(&t.state, DeviceConfig::default()).unwrap();
    assert_eq!(t.device.epoch(), Some(4));
    t.record_and_open(b"v2");
    t.owner.open(camera, before, PartKind::Thumbnail).unwrap();
}

/// Attack: a legacy camera's set v1 names a viewer the owner then revokes
/// (the revocation rotates the owner key), and the server, which sees the
/// key log go by, keeps serving the old set v1 instead of the owner's new
/// set. A set v1 never expires and names no recovery key, so the camera
/// used to seal every recording to it for good, revoked viewer included.
/// It now refuses to record while that set is the one it holds, and
/// records again (for the remaining viewers only) once the new set comes.
#[test]
fn a_v1_set_is_not_sealed_to_after_a_rotation_the_camera_followed() {
    let mut t = Legacy::start();
    let camera = t.camera;
    // The household's second viewer, in a set v1 signed by the legacy key.
    let tablet = sealcam_keys::ViewerIdentity::generate();
    let v1_set = RecipientSet::new(
        t.owner.account(),
        camera,
        2,
        vec![t.owner.viewer().to_public(), tablet.to_public()],
    )
    .unwrap()
    .sign(t.owner.signing_key());
    t.owner.put_set_bytes(camera, 2, v1_set.as_bytes()).unwrap();
    assert_eq!(
        t.device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(1),
            to: 2
        }
    );
    let before = t.record_and_open(b"before");
    t.owner
        .open_as(&tablet, camera, before, PartKind::Thumbnail)
        .unwrap();

    // The tablet is revoked: the owner key rotates. The server stores the
    // key log but keeps serving the set v1 (the owner's new set withheld).
    t.owner.rotate().unwrap();
    t.owner.put_set_bytes(camera, 2, v1_set.as_bytes()).unwrap();
    assert_eq!(
        sync_refused(&mut t.device).unwrap(),
        (RecipientSetError::NotSignedByPinnedOwner, Some(2))
    );
    assert_eq!(t.device.owner_keys().unwrap().position(), (0, 1));
    t.seen.lock().unwrap().clear();
    let refused = t.device.record(NewEvent::now().thumbnail(b"during"));
    println!(
        "tried: record with the set v1 (tablet included) held after the rotation; the server withholds the new set\n\
         refused: {refused:?}"
    );
    assert!(
        matches!(
            refused,
            Err(sealcam_device::DeviceError::RecipientSet(
                RecipientSetError::Legacy
            ))
        ),
        "the camera sealed to the retired set v1: {refused:?}"
    );
    assert!(t.seen.lock().unwrap().iter().any(|n| matches!(
        n,
        Notice::RecipientSetRetired {
            epoch: 2,
            signed_under: (0, 0),
            current: (0, 1)
        }
    )));

    // The owner's set (v2, without the tablet) reaches the server: the next
    // recording syncs first, takes it and is sealed to it.
    let viewer = t.owner.viewer().to_public();
    t.owner
        .publish_at(camera, 3, vec![viewer], unix_now() + 3600)
        .unwrap();
    let after = t.record_and_open(b"after");
    assert_eq!(t.device.epoch(), Some(3));
    let tablet_opens = t.owner.open_as(&tablet, camera, after, PartKind::Thumbnail);
    println!(
        "the tablet opening the next recording: {:?}",
        tablet_opens.as_ref().map(|_| "opened")
    );
    assert!(
        tablet_opens.is_err(),
        "the revoked tablet opened a recording"
    );
}
