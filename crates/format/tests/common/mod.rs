//! Fixtures shared by the format tests: an owner, a camera, viewers, a set.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use sealcam_format::{Binding, FollowedKey, ObjectMeta, PartKind, Sealer};
use sealcam_keys::{
    CameraId, DeviceKey, EventId, OwnerId, OwnerSigningKey, RecipientSet, RecipientSetPin,
    VerifiedRecipientSet, ViewerIdentity,
};

pub struct World {
    pub owner_key: OwnerSigningKey,
    pub device: DeviceKey,
    pub viewers: Vec<ViewerIdentity>,
    pub set: VerifiedRecipientSet,
    pub binding: Binding,
}

impl World {
    pub fn new(viewers: usize) -> Self {
        let owner_key = OwnerSigningKey::generate();
        let (owner, camera) = (OwnerId::random(), CameraId::random());
        let viewers: Vec<_> = (0..viewers).map(|_| ViewerIdentity::generate()).collect();
        let pin = RecipientSetPin {
            owner,
            camera,
            owner_key: owner_key.public(),
        };
        let set = RecipientSet::new(
            owner,
            camera,
            3,
            viewers.iter().map(|v| v.to_public()).collect(),
        )
        .unwrap()
        .sign(&owner_key)
        .verify(&pin)
        .unwrap();
        let binding = Binding {
            owner,
            camera,
            event: EventId::now_v7(),
            kind: PartKind::Clip,
            sequence: 0,
        };
        Self {
            owner_key,
            device: DeviceKey::generate(),
            viewers,
            set,
            binding,
        }
    }

    pub fn meta(&self) -> ObjectMeta {
        ObjectMeta {
            binding: self.binding,
            captured_at_ms: 1_764_000_000_123,
            epoch: 0,
            followed: Some(FollowedKey {
                position: (1, 0),
                key: [7; 32],
            }),
            content_type: "video/mp4".into(),
        }
    }

    /// Seals `body`; returns (header, payload).
    pub fn seal(&self, body: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let sealer = Sealer::new(&self.set, &self.device, self.meta()).unwrap();
        let (header, payload) = sealcam_format::seal(sealer, &mut &body[..], Vec::new()).unwrap();
        (header, payload)
    }

    pub fn ids(&self) -> Vec<&ViewerIdentity> {
        self.viewers.iter().collect()
    }
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
