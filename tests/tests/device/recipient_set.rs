//! S4 and S6 on the camera, against the real server: a server that serves a
//! recipient set with an injected recipient, a rolled-back epoch, a bad
//! signature, a set for another camera or another device key, an epoch too
//! far ahead, or garbage is refused, and the camera keeps sealing to its last
//! good set. The bad sets are stored through the real API (the server treats
//! sets as opaque bytes), exactly as a compromised server or database would
//! serve them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use sealcam_device::{Device, DeviceConfig, NewEvent, Notice, PartKind, SyncOutcome};
use sealcam_e2e::{not_addressed, notices, sync_refused, Harness, SetSpec, SimOwner};
use sealcam_keys::{
    CameraId, OwnerSigningKey, RecipientSet, RecipientSetError, SignedRecipientSet, ViewerIdentity,
    MAX_EPOCH_JUMP,
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

fn assert_refused(device: &mut Device, want: RecipientSetError, kept: u64) {
    assert_eq!(sync_refused(device).unwrap(), (want, Some(kept)));
    assert_eq!(device.epoch(), Some(kept));
}

/// A camera whose owner added a household member at epoch 2, and an
/// attacker (the server) about to serve it bad sets.
struct AtEpoch2 {
    h: Harness,
    owner: SimOwner,
    device: Device,
    camera: CameraId,
    member: ViewerIdentity,
    attacker: ViewerIdentity,
    signed_1: Vec<u8>,
    signed_2: Vec<u8>,
    seen: Arc<Mutex<Vec<Notice>>>,
    wire_epoch: u64,
}

impl AtEpoch2 {
    fn start() -> Self {
        let h = Harness::start().unwrap();
        let (mut owner, mut device, camera) = h.household_camera().unwrap();
        let seen = notices(&mut device);
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
        Self {
            h,
            owner,
            device,
            camera,
            member,
            attacker: ViewerIdentity::generate(),
            signed_1,
            signed_2,
            seen,
            wire_epoch: 10,
        }
    }

    /// The server serves `bytes` as the camera's set.
    fn serve(&mut self, bytes: &[u8]) {
        self.owner
            .put_set_bytes(self.camera, self.wire_epoch, bytes)
            .unwrap();
        self.wire_epoch += 1;
    }

    /// After the attacks, the camera still seals to epoch 2: the owner and
    /// the member open the next event, the attacker cannot; the `refusals`
    /// were reported to the firmware with their reasons; a restart keeps
    /// the last good set (re-verified from disk).
    fn assert_last_good_set_stays(mut self, refusals: usize) {
        let report = self
            .device
            .record(NewEvent::now().thumbnail(b"\xff\xd8 after the attacks"))
            .unwrap();
        assert_eq!(report.epoch, 2);
        let (owner, camera, event) = (&self.owner, self.camera, report.event);
        let opened = owner.open(camera, event, PartKind::Thumbnail).unwrap();
        assert_eq!(opened.meta.epoch, 2);
        owner
            .open_as(&self.member, camera, event, PartKind::Thumbnail)
            .unwrap();
        let err = owner
            .open_as(&self.attacker, camera, event, PartKind::Thumbnail)
            .unwrap_err();
        assert!(not_addressed(&err), "{err:?}");

        let refused = self
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|n| matches!(n, Notice::RecipientSetRefused { kept: Some(2), .. }))
            .count();
        assert_eq!(refused, refusals);

        drop(self.device);
        let device = Device::open(&self.h.path("cam"), DeviceConfig::default()).unwrap();
        assert_eq!(device.epoch(), Some(2));
    }
}

#[test]
fn an_injected_recipient_a_foreign_signer_or_a_flipped_bit_is_refused() {
    let mut t = AtEpoch2::start();

    // 1. The server injects its own key into the genuine, signed set.
    let injected = inject(&t.signed_2, &t.attacker);
    t.serve(&injected);
    assert_refused(&mut t.device, RecipientSetError::NotSignedByPinnedOwner, 2);

    // 2. The server signs a set with a key of its own.
    let server_key = OwnerSigningKey::generate();
    let forged = SetSpec {
        recipients: vec![t.attacker.to_public(), t.owner.recovery().to_public()],
        ..SetSpec::of(&t.owner, t.camera, 3).unwrap()
    }
    .sign(&t.owner, &server_key)
    .unwrap();
    t.serve(forged.as_bytes());
    assert_refused(&mut t.device, RecipientSetError::NotSignedByPinnedOwner, 2);

    // 3. A flipped bit in the owner's signature.
    let mut bad_sig = t.signed_2.clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 0x01;
    t.serve(&bad_sig);
    assert_refused(&mut t.device, RecipientSetError::NotSignedByPinnedOwner, 2);

    t.assert_last_good_set_stays(3);
}

#[test]
fn a_replayed_or_an_equivocating_set_is_refused() {
    let mut t = AtEpoch2::start();

    // 4. A replay of the genuine, owner-signed epoch-1 set (without the
    //    member: this is how a revoked viewer would be brought back).
    let signed_1 = t.signed_1.clone();
    t.serve(&signed_1);
    assert_refused(
        &mut t.device,
        RecipientSetError::RolledBack {
            accepted: 2,
            offered: 1,
        },
        2,
    );

    // 5. A different set signed by the owner under the accepted epoch.
    let twin = SetSpec::of(&t.owner, t.camera, 2)
        .unwrap()
        .sign(&t.owner, t.owner.signing_key())
        .unwrap();
    t.serve(twin.as_bytes());
    assert_refused(
        &mut t.device,
        RecipientSetError::Equivocation { epoch: 2 },
        2,
    );

    t.assert_last_good_set_stays(2);
}

#[test]
fn another_cameras_set_a_stripped_signature_or_garbage_is_refused() {
    let mut t = AtEpoch2::start();

    // 6. A genuine set of another camera of the same owner.
    let other = SetSpec {
        camera: CameraId::random(),
        ..SetSpec::of(&t.owner, t.camera, 9).unwrap()
    }
    .sign(&t.owner, t.owner.signing_key())
    .unwrap();
    t.serve(other.as_bytes());
    assert_refused(&mut t.device, RecipientSetError::WrongCamera, 2);

    // 7. The signature stripped off, and plain garbage.
    let stripped = t.signed_2[..t.signed_2.len() - 64].to_vec();
    t.serve(&stripped);
    assert!(matches!(
        t.device.sync().unwrap(),
        SyncOutcome::Refused {
            reason: RecipientSetError::Malformed(_),
            kept: Some(2)
        }
    ));
    t.serve(b"not a recipient set at all");
    assert!(matches!(
        t.device.sync().unwrap(),
        SyncOutcome::Refused { kept: Some(2), .. }
    ));

    t.assert_last_good_set_stays(3);
}

#[test]
fn a_set_bound_to_another_device_key_is_refused() {
    let h = Harness::start().unwrap();
    let mut owner = h.sim_owner("household").unwrap();
    let config = DeviceConfig::default();
    let mut device = owner.pair_camera(&h.path("cam"), config.clone()).unwrap();
    let other = owner.pair_camera(&h.path("other"), config).unwrap();
    let camera = device.camera_id().unwrap();

    // Signed by the owner for this camera id, but bound to the other
    // camera's device key (the owner pinned a key that is not this camera's).
    let wrong_device = SetSpec {
        device_key: owner.device_key(other.camera_id().unwrap()).unwrap(),
        ..SetSpec::of(&owner, camera, 2).unwrap()
    }
    .sign(&owner, owner.signing_key())
    .unwrap();
    owner
        .put_set_bytes(camera, 2, wrong_device.as_bytes())
        .unwrap();
    assert_refused(&mut device, RecipientSetError::WrongDevice, 1);
}

#[test]
fn an_epoch_beyond_max_epoch_jump_is_refused() {
    let h = Harness::start().unwrap();
    let (mut owner, mut device, camera) = h.household_camera().unwrap();
    let sign = |owner: &SimOwner, camera, epoch| {
        SetSpec::of(owner, camera, epoch)
            .unwrap()
            .sign(owner, owner.signing_key())
            .unwrap()
    };

    // An epoch beyond MAX_EPOCH_JUMP (the owner could never publish again).
    let far = 1 + MAX_EPOCH_JUMP + 1;
    let jump = sign(&owner, camera, far);
    owner.put_set_bytes(camera, far, jump.as_bytes()).unwrap();
    assert_refused(
        &mut device,
        RecipientSetError::EpochJump {
            accepted: 1,
            offered: far,
            max: MAX_EPOCH_JUMP,
        },
        1,
    );
    // The largest jump allowed is taken.
    let edge = sign(&owner, camera, 1 + MAX_EPOCH_JUMP);
    owner
        .put_set_bytes(camera, 1 + MAX_EPOCH_JUMP, edge.as_bytes())
        .unwrap();
    assert!(matches!(
        device.sync().unwrap(),
        SyncOutcome::Updated { to, .. } if to == 1 + MAX_EPOCH_JUMP
    ));

    // A camera's first set may not start beyond MAX_EPOCH_JUMP either.
    let code = owner.pairing_code().unwrap();
    let mut fresh = Device::open(&h.path("fresh"), DeviceConfig::default()).unwrap();
    fresh.pair(&code).unwrap();
    let fresh_id = fresh.camera_id().unwrap();
    assert_eq!(owner.confirm_pending().unwrap(), vec![fresh_id]);
    let first = sign(&owner, fresh_id, MAX_EPOCH_JUMP + 1);
    owner
        .put_set_bytes(fresh_id, MAX_EPOCH_JUMP + 1, first.as_bytes())
        .unwrap();
    assert!(matches!(
        sync_refused(&mut fresh).unwrap(),
        (RecipientSetError::EpochJump { accepted: 0, .. }, None)
    ));
}

#[test]
fn revocation_reaches_what_is_recorded_afterwards() {
    // S6: once the camera synced a set without a viewer, that viewer opens
    // nothing recorded afterwards.
    let h = Harness::start().unwrap();
    let (mut owner, mut device, camera) = h.household_camera().unwrap();
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
    owner
        .open_as(&member, camera, before.event, PartKind::Thumbnail)
        .unwrap();
    let err = owner
        .open_as(&member, camera, after.event, PartKind::Thumbnail)
        .unwrap_err();
    assert!(not_addressed(&err), "{err:?}");
    owner
        .open(camera, after.event, PartKind::Thumbnail)
        .unwrap();
}

#[test]
fn a_swapped_set_file_on_disk_is_refused_at_open() {
    let h = Harness::start().unwrap();
    let (owner, device, camera) = h.household_camera().unwrap();
    drop(device);
    let forged = RecipientSet::new(
        owner.account(),
        camera,
        99,
        vec![ViewerIdentity::generate().to_public()],
    )
    .unwrap()
    .sign(&OwnerSigningKey::generate());
    sealcam_keys::secret_file::write(&h.path("cam").join("recipient-set.bin"), forged.as_bytes())
        .unwrap();
    let err = Device::open(&h.path("cam"), DeviceConfig::default()).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}
