//! The account's root key: an Ed25519 key derived from the recovery key, so
//! it exists only where the recovery key is typed in (S7, owner trust v2).
//!
//! It signs one kind of document, the *reset* [`KeyStatement`](crate::KeyStatement):
//! "from now on the owner key is K". Cameras pin its public half at pairing,
//! and a reset signed with it wins over anything signed with an owner key,
//! whatever its generation. Owner devices never hold it: it is not in the
//! owner key bundle, and a revoked or stolen device cannot sign with it.
//!
//! ```text
//! seed = HKDF-SHA256(ikm = recovery key text, salt = "", info = "sealcam root key v1")
//! ```

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::signing::ed25519_key_pair;
use crate::RecoveryKey;

const ROOT_INFO: &[u8] = b"sealcam root key v1";

ed25519_key_pair! {
    /// The account's root signing key, derived from the recovery key. It signs
    /// resets of the owner key and nothing else.
    secret RootSigningKey = "SEALCAM-ROOT-SECRET-KEY-";
    /// The public half of [`RootSigningKey`]: pinned by cameras at pairing and
    /// named in every key statement.
    public RootPublicKey = "sealcam-root-";
}

impl RecoveryKey {
    /// The root signing key this recovery key derives.
    pub fn root_key(&self) -> RootSigningKey {
        let text = self.to_secret_text();
        let hk = Hkdf::<Sha256>::new(Some(b""), text.as_bytes());
        let mut seed = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit.
        let _ = hk.expand(ROOT_INFO, &mut seed[..]);
        RootSigningKey::from_seed(&seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_key_is_derived_deterministically_and_differs_per_recovery_key() {
        let r = RecoveryKey::generate();
        let again = RecoveryKey::from_typed(&r.to_printable()).unwrap();
        assert_eq!(r.root_key().public(), again.root_key().public());
        assert_ne!(
            r.root_key().public(),
            RecoveryKey::generate().root_key().public()
        );
        let text = r.root_key().public().to_string();
        assert!(text.starts_with("sealcam-root-"), "{text}");
        assert_eq!(
            text.parse::<RootPublicKey>().unwrap(),
            r.root_key().public()
        );
    }
}
