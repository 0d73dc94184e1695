//! The device key: made on the camera at first boot, signs every object it uploads.

use crate::signing::ed25519_key_pair;

ed25519_key_pair! {
    /// A camera's Ed25519 key. Generated on the camera, never leaves it; signs
    /// the inner header and body hash of every object (S3).
    secret DeviceKey = "SEALCAM-DEVICE-SECRET-KEY-";
    /// The public half of [`DeviceKey`], pinned by the owner at pairing (S5).
    public DevicePublicKey = "sealcam-device-";
}

/// An Ed25519 signature made by a [`DeviceKey`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DeviceSignature(pub [u8; 64]);

impl std::fmt::Debug for DeviceSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DeviceSignature({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

impl DeviceKey {
    /// Signs `message` (the caller adds its own domain separation).
    pub fn sign(&self, message: &[u8]) -> DeviceSignature {
        DeviceSignature(self.sign_raw(message))
    }
}

impl DevicePublicKey {
    /// Verifies a device signature over `message` (strict verification).
    pub fn verify(&self, message: &[u8], signature: &DeviceSignature) -> bool {
        self.verify_raw(message, &signature.0)
    }
}
