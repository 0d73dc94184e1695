//! Prefixes of the opaque bearer credentials the server hands out.
//!
//! The prefix only tells a human (and a secret scanner) what a token is; the
//! server decides from its database, never from the prefix alone.

/// A viewer device's long-lived credential.
pub const VIEWER: &str = "scv_";
/// A camera's long-lived credential.
pub const CAMERA: &str = "scc_";
/// A one-time enrollment token printed by `sealcam-server accounts create`.
pub const ENROLLMENT: &str = "sce_";
/// A one-time, expiring pairing claim token handed to a camera.
pub const CLAIM: &str = "sck_";
/// A one-time, expiring token to link one more device to an account.
pub const LINK: &str = "scl_";
