//! The owner signing key: the root of trust of an account.

use crate::signing::ed25519_key_pair;

ed25519_key_pair! {
    /// The owner's Ed25519 signing key. It signs every camera's recipient set;
    /// cameras pin its public half at pairing (S4). Every owner device holds it
    /// through the [`OwnerKeyBundle`](crate::OwnerKeyBundle).
    secret OwnerSigningKey = "SEALCAM-OWNER-SECRET-KEY-";
    /// The public half of [`OwnerSigningKey`], pinned by cameras at pairing.
    public OwnerPublicKey = "sealcam-owner-";
}
