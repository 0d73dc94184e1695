//! Pairing, sealing and uploading, and the owner opening what was uploaded —
//! the device SDK against the real server over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;

use sealcam_device::{
    Device, DeviceConfig, DeviceError, EventRecord, NewEvent, PartKind, PartOutcome, SyncOutcome,
};
use sealcam_e2e::media::{bytes, Dribble};
use sealcam_e2e::{not_addressed, Harness};
use sealcam_keys::{PairingError, ViewerIdentity};

#[test]
fn pairing_stores_private_state_and_the_owner_verifies_the_proof() {
    let h = Harness::start().unwrap();
    let mut owner = h.sim_owner("household").unwrap();
    let state = h.path("cam");
    let code = owner.pairing_code().unwrap();

    let mut device = Device::open(&state, DeviceConfig::default()).unwrap();
    assert!(device.camera_id().is_none());
    assert!(matches!(device.sync(), Err(DeviceError::NotPaired)));
    let (camera, owner_id) = device.pair(&code).unwrap();
    assert_eq!(owner_id, owner.account());
    let key = device.device_public_key().unwrap();

    // Every state file is 0600 and the directory 0700 (S10).
    assert_eq!(
        fs::metadata(&state).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for f in ["device.key", "camera.json"] {
        let mode = fs::metadata(state.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    let camera_json = fs::read_to_string(state.join("camera.json")).unwrap();
    assert!(!camera_json.contains("SEALCAM-DEVICE-SECRET-KEY"));

    // Not confirmed yet: no set to seal to, and the status says pending.
    assert_eq!(
        device.status().unwrap(),
        sealcam_device::CameraStatus::Pending
    );
    assert_eq!(device.sync().unwrap(), SyncOutcome::NotPublished);
    assert!(matches!(
        device.record(NewEvent::now().thumbnail(b"jpeg")),
        Err(DeviceError::NoRecipientSet)
    ));

    // The owner's check of the proof passes and pins this very key (S5).
    assert_eq!(owner.confirm_pending().unwrap(), vec![camera]);
    assert_eq!(owner.device_key(camera), Some(key));
    assert_eq!(
        device.status().unwrap(),
        sealcam_device::CameraStatus::Active
    );
    assert_eq!(
        device.sync().unwrap(),
        SyncOutcome::Updated { from: None, to: 1 }
    );
    assert_eq!(device.sync().unwrap(), SyncOutcome::Unchanged { epoch: 1 });

    // The state survives a restart; pairing twice is refused.
    drop(device);
    let mut device = Device::open(&state, DeviceConfig::default()).unwrap();
    assert_eq!(device.camera_id(), Some(camera));
    assert_eq!(device.epoch(), Some(1));
    assert_eq!(device.device_public_key().unwrap(), key);
    let again = owner.pairing_code().unwrap();
    assert!(matches!(
        device.pair(&again),
        Err(DeviceError::AlreadyPaired { .. })
    ));

    // A group-readable key file is refused, not used (S10).
    fs::set_permissions(state.join("device.key"), fs::Permissions::from_mode(0o644)).unwrap();
    assert!(Device::open(&state, DeviceConfig::default()).is_err());
}

#[test]
fn a_bad_code_or_a_reused_claim_is_refused() {
    let h = Harness::start().unwrap();
    let mut owner = h.sim_owner("household").unwrap();
    let code = owner.pairing_code().unwrap();
    let mut typo = code.clone().into_bytes();
    let i = typo.len() / 2;
    typo[i] = if typo[i] == b'A' { b'B' } else { b'A' };
    let mut d = Device::open(&h.path("a"), DeviceConfig::default()).unwrap();
    assert!(matches!(
        d.pair(std::str::from_utf8(&typo).unwrap()),
        Err(DeviceError::PairingCode(
            PairingError::Checksum | PairingError::Malformed(_)
        ))
    ));
    assert!(matches!(
        d.pair("hello"),
        Err(DeviceError::PairingCode(PairingError::NotAPairingCode))
    ));
    d.pair(&code).unwrap();
    // The claim token is one-time: a second camera with the same code is refused.
    let mut d2 = Device::open(&h.path("b"), DeviceConfig::default()).unwrap();
    match d2.pair(&code) {
        Err(DeviceError::Server { status: 401, .. }) => {}
        other => panic!("expected 401, got {other:?}"),
    }
    assert!(d2.camera_id().is_none());
}

#[test]
fn record_seals_uploads_and_the_owner_opens_every_part() {
    let h = Harness::start().unwrap();
    let (owner, mut device, camera) = h.household_camera().unwrap();

    let thumbnail = bytes(1, 20_000);
    let clip = bytes(2, 3 * 1024 * 1024 + 12_345);
    let mut source = Dribble::new(clip.clone(), 1000);
    let mut record = EventRecord::new("motion");
    record.labels = vec!["person".into(), "car".into()];
    record.duration_ms = Some(12_000);
    let report = device
        .record(
            NewEvent::now()
                .thumbnail(&thumbnail)
                .clip(&mut source)
                .record(&record),
        )
        .unwrap();
    assert_eq!(report.epoch, 1);
    let kinds: Vec<_> = report.parts.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [PartKind::Thumbnail, PartKind::Clip, PartKind::Record]
    );
    assert!(report
        .parts
        .iter()
        .all(|p| p.outcome == PartOutcome::Uploaded { created: true }));
    assert_eq!(report.parts[1].body_bytes, clip.len() as u64);
    assert!(device.spool().is_empty());
    // Nothing was left behind in the spool directory either.
    let leftovers: Vec<_> = fs::read_dir(h.path("cam").join("spool")).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let t = owner
        .open(camera, report.event, PartKind::Thumbnail)
        .unwrap();
    assert_eq!(t.body, thumbnail);
    assert_eq!(t.meta.content_type, "image/jpeg");
    assert_eq!(t.meta.epoch, 1);
    let c = owner.open(camera, report.event, PartKind::Clip).unwrap();
    assert_eq!(c.body, clip);
    assert_eq!(c.meta.content_type, "video/mp4");
    let r = owner.open(camera, report.event, PartKind::Record).unwrap();
    assert_eq!(EventRecord::from_json(&r.body).unwrap(), record);

    // Another viewer (not in the set) cannot open it: misdelivery, not garbage (S2).
    let stranger = ViewerIdentity::generate();
    let err = owner
        .open_as(&stranger, camera, report.event, PartKind::Clip)
        .unwrap_err();
    assert!(not_addressed(&err), "{err:?}");

    // The server lists one event with three parts, and learned no event type.
    let events = owner.events(camera).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].parts.len(), 3);
    assert_eq!(events[0].captured_at % 60, 0);
}

#[test]
fn an_event_with_only_a_thumbnail_and_an_empty_clip() {
    let h = Harness::start().unwrap();
    let (owner, mut device, _) = h.household_camera().unwrap();
    let mut empty: &[u8] = &[];
    let report = device
        .record(NewEvent::now().thumbnail(b"\xff\xd8").clip(&mut empty))
        .unwrap();
    assert_eq!(report.parts.len(), 2);
    let c = owner
        .open(device.camera_id().unwrap(), report.event, PartKind::Clip)
        .unwrap();
    assert!(c.body.is_empty());
}
