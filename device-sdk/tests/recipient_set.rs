//! S4 and S6 against the real server: a server that serves a recipient set
//! with an injected recipient, a rolled-back epoch, a bad signature, a set
//! for another camera or garbage is refused, and the camera keeps sealing to
//! its last good set. The bad sets are stored through the real API (the
//! server treats sets as opaque bytes), exactly as a compromised server or
//! database would serve them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::{owner_open, owner_open_as, paired_camera, Harness, SetSpec};
use sealcam_device::{Device, DeviceConfig, NewEvent, Notice, PartKind, SyncOutcome};
use sealcam_format::OpenError;
use sealcam_keys::{
    CameraId, OwnerSigningKey, RecipientSet, RecipientSetError, SignedRecipientSet, ViewerIdentity,
};

/// The signed bytes of a genuine set plus one recipient, signature kept.
fn inject(genuine: &[u8], extra: &ViewerIdentity) -> Vec<u8> {
    let mut bytes = genuine.to_vec();
    // The count (u16) precedes the recipients, each `len 1 ‖ 62 characters`.
    let n = SignedRecipientSet::from_bytes(genuine)
        .unwrap()
        .unverified()
        .recipients()
        .len();
    let count_at = bytes.len() - 64 - n * 63 - 2;
    assert_eq!(bytes[count_at] as usize, n);
    bytes[count_at] += 1;
    let sig = bytes.split_off(bytes.len() - 64);
    let text = extra.to_public().to_string();
    bytes.push(text.len() as u8);
    bytes.extend_from_slice(text.as_bytes());
    bytes.extend_from_slice(&sig);
    bytes
}

#[test]
fn forged_replayed_and_tampered_sets_are_refused_and_the_last_good_set_stays() {
    let h = Harness::start();
    let mut owner = h.owner();
    let mut device = paired_camera(&mut owner, &h.state("cam"));
    let camera = device.camera_id().unwrap();
    let notices = Arc::new(Mutex::new(Vec::new()));
    let sink = notices.clone();
    device.set_observer(move |n| sink.lock().unwrap().push(n.clone()));
    let signed_1 = device.recipient_set().unwrap().as_bytes().to_vec();

    // Epoch 2 adds a household member: accepted.
    let member = ViewerIdentity::generate();
    let both = vec![owner.viewer().to_public(), member.to_public()];
    assert_eq!(owner.publish(camera, both).unwrap(), 2);
    assert_eq!(
        device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(1),
            to: 2
        }
    );
    let signed_2 = device.recipient_set().unwrap().as_bytes().to_vec();

    let attacker = ViewerIdentity::generate();
    let mut wire_epoch = 10;
    let mut serve = |bytes: &[u8]| {
        owner.put_set_bytes(camera, wire_epoch, bytes).unwrap();
        wire_epoch += 1;
    };

    // 1. The server injects its own key into the genuine, signed set.
    serve(&inject(&signed_2, &attacker));
    assert_refused(&mut device, RecipientSetError::NotSignedByPinnedOwner, 2);

    // 2. The server signs a set with a key of its own.
    let server_key = OwnerSigningKey::generate();
    let forged = SetSpec {
        recipients: vec![attacker.to_public(), owner.recovery().to_public()],
        ..SetSpec::of(&owner, camera, 3)
    }
    .sign(&owner, &server_key);
    serve(forged.as_bytes());
    assert_refused(&mut device, RecipientSetError::NotSignedByPinnedOwner, 2);

    // 3. A flipped bit in the owner's signature.
    let mut bad_sig = signed_2.clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 0x01;
    serve(&bad_sig);
    assert_refused(&mut device, RecipientSetError::NotSignedByPinnedOwner, 2);

    // 4. A replay of the genuine, owner-signed epoch-1 set (without the
    //    member: this is how a revoked viewer would be brought back).
    serve(&signed_1);
    assert_refused(
        &mut device,
        RecipientSetError::RolledBack {
            accepted: 2,
            offered: 1,
        },
        2,
    );

    // 5. A different set signed by the owner under the accepted epoch.
    let twin = SetSpec::of(&owner, camera, 2).sign(&owner, owner.signing_key());
    serve(twin.as_bytes());
    assert_refused(&mut device, RecipientSetError::Equivocation { epoch: 2 }, 2);

    // 6. A genuine set of another camera of the same owner.
    let other = SetSpec {
        camera: CameraId::random(),
        ..SetSpec::of(&owner, camera, 9)
    }
    .sign(&owner, owner.signing_key());
    serve(other.as_bytes());
    assert_refused(&mut device, RecipientSetError::WrongCamera, 2);

    // 7. The signature stripped off, and plain garbage.
    serve(&signed_2[..signed_2.len() - 64]);
    assert!(matches!(
        device.sync().unwrap(),
        SyncOutcome::Refused {
            reason: RecipientSetError::Malformed(_),
            kept: Some(2)
        }
    ));
    serve(b"not a recipient set at all");
    assert!(matches!(
        device.sync().unwrap(),
        SyncOutcome::Refused { kept: Some(2), .. }
    ));

    // After all that, the camera still seals to epoch 2: the owner and the
    // member open the next event; the attacker cannot.
    let report = device
        .record(NewEvent::now().thumbnail(b"\xff\xd8 after the attacks"))
        .unwrap();
    assert_eq!(report.epoch, 2);
    let opened = owner_open(&owner, &device, report.event, PartKind::Thumbnail).unwrap();
    assert_eq!(opened.meta.epoch, 2);
    owner_open_as(&owner, &member, &device, report.event, PartKind::Thumbnail).unwrap();
    let err = owner_open_as(
        &owner,
        &attacker,
        &device,
        report.event,
        PartKind::Thumbnail,
    )
    .unwrap_err();
    assert!(matches!(err, OpenError::NotAddressedToViewer), "{err:?}");

    // The refusals were reported to the firmware with their reasons.
    let refused = notices
        .lock()
        .unwrap()
        .iter()
        .filter(|n| matches!(n, Notice::RecipientSetRefused { kept: Some(2), .. }))
        .count();
    assert_eq!(refused, 8);

    // A restart keeps the last good set (re-verified from disk).
    drop(device);
    let device = Device::open(&h.state("cam"), DeviceConfig::default()).unwrap();
    assert_eq!(device.epoch(), Some(2));
}

#[test]
fn revocation_reaches_what_is_recorded_afterwards() {
    // S6: once the camera synced a set without a viewer, that viewer opens
    // nothing recorded afterwards.
    let h = Harness::start();
    let mut owner = h.owner();
    let mut device = paired_camera(&mut owner, &h.state("cam"));
    let camera = device.camera_id().unwrap();
    let member = ViewerIdentity::generate();
    owner
        .publish(camera, vec![owner.viewer().to_public(), member.to_public()])
        .unwrap();
    device.sync().unwrap();
    let before = device.record(NewEvent::now().thumbnail(b"before")).unwrap();
    owner
        .publish(camera, vec![owner.viewer().to_public()])
        .unwrap();
    assert_eq!(
        device.sync().unwrap(),
        SyncOutcome::Updated {
            from: Some(2),
            to: 3
        }
    );
    let after = device.record(NewEvent::now().thumbnail(b"after")).unwrap();
    assert_eq!(after.epoch, 3);
    owner_open_as(&owner, &member, &device, before.event, PartKind::Thumbnail).unwrap();
    let err =
        owner_open_as(&owner, &member, &device, after.event, PartKind::Thumbnail).unwrap_err();
    assert!(matches!(err, OpenError::NotAddressedToViewer), "{err:?}");
    owner_open(&owner, &device, after.event, PartKind::Thumbnail).unwrap();
}

#[test]
fn a_swapped_set_file_on_disk_is_refused_at_open() {
    let h = Harness::start();
    let mut owner = h.owner();
    let device = paired_camera(&mut owner, &h.state("cam"));
    let camera = device.camera_id().unwrap();
    drop(device);
    let forged = RecipientSet::new(
        owner.account(),
        camera,
        99,
        vec![ViewerIdentity::generate().to_public()],
    )
    .unwrap()
    .sign(&OwnerSigningKey::generate());
    sealcam_keys::secret_file::write(&h.state("cam").join("recipient-set.bin"), forged.as_bytes())
        .unwrap();
    let err = Device::open(&h.state("cam"), DeviceConfig::default()).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}

fn assert_refused(device: &mut Device, want: RecipientSetError, kept: u64) {
    match device.sync().unwrap() {
        SyncOutcome::Refused { reason, kept: k } => {
            assert_eq!(reason, want);
            assert_eq!(k, Some(kept));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(device.epoch(), Some(kept));
}
