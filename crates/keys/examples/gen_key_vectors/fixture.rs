//! The vectors' fixed account: keys from fixed seeds and typed secrets, ids,
//! times, and the inputs several families share.

use std::io::Write as _;

use sealcam_keys::{
    CameraId, DeviceKey, DevicePublicKey, KeyStatement, OwnerId, OwnerKeyState, OwnerSigningKey,
    RecoveryKey, RootSigningKey, ViewerIdentity, ViewerRecipient,
};

const VIEWER: &str = "AGE-SECRET-KEY-1X73USU075GP69V29EY7NPYPAWSE8WE2XR6M0PVFWLXG4M0H3Q0KQUZ5ARD";
const SECOND_VIEWER: &str =
    "AGE-SECRET-KEY-1YLHVVLPED8CH2WDJ0LZ2R05ELCSJ9CAAHT9RFC9VMTDSPQSSRP5SLDV5D2";
const RECOVERY: &str = "AGE-SECRET-KEY-169P8Y32SXX42KUNGFSJPLQUHUNG2PLDP26Y5KZCCAR0Y85Y76HASF0030G";
pub(crate) const STRANGER: &str =
    "AGE-SECRET-KEY-142CY4L2A7FK9R7LVHS4W4WRZ96V0QFYKD47PNFTQNH3EFM7QZ5YSD5PZ8V";
const MEMBER: &str = "AGE-SECRET-KEY-1N0T4JRCKL7QZE44SEE0JJTL0XEKH7T8PLYMAMEH459SZL0W2NJ9S3QZA2V";

pub(crate) const ISSUED_AT: u64 = 1_769_000_000;
pub(crate) const NOW: u64 = 1_770_000_000;

/// The fixed keys and ids of the vectors' account.
pub(crate) struct Fixture {
    pub(crate) owner: OwnerId,
    pub(crate) other_owner: OwnerId,
    pub(crate) camera: CameraId,
    pub(crate) other_camera: CameraId,
    pub(crate) root: RootSigningKey,
    pub(crate) other_root: RootSigningKey,
    /// Owner keys by generation under reset 1 (`k[3]` is the key of reset 2).
    pub(crate) k: [OwnerSigningKey; 4],
    pub(crate) evil: OwnerSigningKey,
    pub(crate) device: DeviceKey,
    pub(crate) other_device: DeviceKey,
    pub(crate) viewer: ViewerIdentity,
    pub(crate) second: ViewerIdentity,
    pub(crate) recovery: RecoveryKey,
    pub(crate) stranger: ViewerIdentity,
    pub(crate) member: ViewerIdentity,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        let recovery = RecoveryKey::from_typed(RECOVERY).unwrap();
        Self {
            owner: OwnerId::from_bytes([0x01; 16]),
            other_owner: OwnerId::from_bytes([0x02; 16]),
            camera: CameraId::from_bytes([0x03; 16]),
            other_camera: CameraId::from_bytes([0x04; 16]),
            root: recovery.root_key(),
            other_root: RootSigningKey::from_seed(&[0x11; 32]),
            k: [0x20, 0x21, 0x22, 0x23].map(|b| OwnerSigningKey::from_seed(&[b; 32])),
            evil: OwnerSigningKey::from_seed(&[0x2f; 32]),
            device: DeviceKey::from_seed(&[0x30; 32]),
            other_device: DeviceKey::from_seed(&[0x31; 32]),
            viewer: ViewerIdentity::from_secret_text(VIEWER).unwrap(),
            second: ViewerIdentity::from_secret_text(SECOND_VIEWER).unwrap(),
            recovery,
            stranger: ViewerIdentity::from_secret_text(STRANGER).unwrap(),
            member: ViewerIdentity::from_secret_text(MEMBER).unwrap(),
        }
    }

    /// The state a v2 camera pinned at pairing: reset 1, generation 0, `k[0]`.
    pub(crate) fn genesis_state(&self) -> OwnerKeyState {
        OwnerKeyState::new(
            self.owner,
            self.k[0].public(),
            Some(self.root.public()),
            1,
            0,
        )
    }

    /// `state` after a rotation to `next`, signed by `current`.
    pub(crate) fn rotate(
        &self,
        state: &OwnerKeyState,
        current: &OwnerSigningKey,
        next: &OwnerSigningKey,
    ) -> KeyStatement {
        KeyStatement::rotation(state, current, next.public(), ISSUED_AT).unwrap()
    }

    pub(crate) fn genesis(&self) -> KeyStatement {
        KeyStatement::reset(self.owner, &self.root, 1, 0, self.k[0].public(), ISSUED_AT)
    }

    /// The held state `(1, g, k[g])`.
    pub(crate) fn state_at(&self, g: u64) -> OwnerKeyState {
        OwnerKeyState::new(
            self.owner,
            self.k[g as usize].public(),
            Some(self.root.public()),
            1,
            g,
        )
    }

    pub(crate) fn owner_recipients(&self) -> Vec<ViewerRecipient> {
        vec![
            self.viewer.to_public(),
            self.second.to_public(),
            self.recovery.to_public(),
        ]
    }
}

/// 32 bytes that are not an Ed25519 point.
pub(crate) fn not_a_point() -> [u8; 32] {
    (0u8..=255)
        .map(|b| {
            let mut a = [0xffu8; 32];
            a[0] = b;
            a[31] = 0x7f;
            a
        })
        .find(|a| DevicePublicKey::from_bytes(a).is_err())
        .unwrap()
}

/// An age file of `plain` to `recipients`, as any age implementation writes it.
pub(crate) fn age_seal(plain: &[u8], recipients: &[ViewerRecipient]) -> Vec<u8> {
    let enc = age::Encryptor::with_recipients(
        recipients.iter().map(|r| r.as_age() as &dyn age::Recipient),
    )
    .unwrap();
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out).unwrap();
    w.write_all(plain).unwrap();
    w.finish().unwrap();
    out
}
