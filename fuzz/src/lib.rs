//! Fixed keys shared by the fuzz targets and the seed maker, so that seeds
//! made with them open in the targets and the fuzzer explores past the crypto.
#![allow(clippy::unwrap_used)]

use sealcam_format::{Binding, PartKind};
use sealcam_keys::{
    CameraId, DeviceKey, EventId, OwnerId, OwnerSigningKey, RootSigningKey, ViewerIdentity,
};

/// The viewer identity every object target opens with.
pub fn viewer() -> ViewerIdentity {
    ViewerIdentity::from_secret_text("AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0").unwrap()
}

/// The device key of the fuzzed camera.
pub fn device() -> DeviceKey {
    DeviceKey::from_seed(&[7u8; 32])
}

/// The owner key of the fuzzed account.
pub fn owner_key() -> OwnerSigningKey {
    OwnerSigningKey::from_seed(&[9u8; 32])
}

/// The root key of the fuzzed account (owner trust v2).
pub fn root_key() -> RootSigningKey {
    RootSigningKey::from_seed(&[11u8; 32])
}

/// The binding the object target asks for.
pub fn binding() -> Binding {
    Binding {
        owner: OwnerId::from_bytes([1; 16]),
        camera: CameraId::from_bytes([2; 16]),
        event: EventId::from_bytes([3; 16]),
        kind: PartKind::Clip,
        sequence: 0,
    }
}

/// Splits an object input: a u16 header length, the header, the payload.
pub fn split(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = data.split_first_chunk::<2>()?;
    let len = u16::from_le_bytes(*len) as usize;
    (len <= rest.len()).then(|| rest.split_at(len))
}

/// The plaintext of an owner record holding `json`, signed with `key` as the
/// app SDK signs one (`"SCOREC\0\1" ‖ Ed25519(DOMAIN ‖ json) ‖ json`), so that
/// the owner record target reaches the JSON parser behind the signature.
pub fn record_plaintext(json: &[u8], key: &OwnerSigningKey) -> Vec<u8> {
    use ed25519_dalek::Signer as _;
    let signer = ed25519_dalek::SigningKey::from_bytes(&key.to_seed());
    let mut message = b"sealcam owner record v1\x00".to_vec();
    message.extend_from_slice(json);
    let mut plain = b"SCOREC\x00\x01".to_vec();
    plain.extend_from_slice(&signer.sign(&message).to_bytes());
    plain.extend_from_slice(json);
    plain
}
