//! The chunk AEAD, ChaCha20-Poly1305 with a 12-byte nonce and no associated
//! data, from one of two backends that give the same bytes:
//!
//! - `ring` (feature `ring`, on by default): assembly on x86-64, aarch64 and
//!   armv7, a portable C fallback elsewhere;
//! - RustCrypto's `chacha20poly1305` (feature `ring` off): pure Rust, for a
//!   target ring does not build for.
//!
//! A chunk that does not authenticate leaves the buffer unspecified (ring
//! zeroes it), so a caller that tries a chunk twice keeps its own copy.

/// The tag length.
pub const TAG: usize = 16;

#[cfg(feature = "ring")]
mod backend {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};

    /// ChaCha20-Poly1305 under one key.
    pub struct Aead(LessSafeKey);

    impl Aead {
        /// The cipher for `key`.
        pub fn new(key: &[u8; 32]) -> Self {
            let key = UnboundKey::new(&CHACHA20_POLY1305, key)
                .unwrap_or_else(|_| unreachable!("ChaCha20-Poly1305 takes a 32-byte key"));
            Self(LessSafeKey::new(key))
        }

        /// Encrypts `buf` in place; returns the tag.
        pub fn seal(&self, nonce: [u8; 12], buf: &mut [u8]) -> [u8; super::TAG] {
            let tag = self
                .0
                .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), buf)
                .unwrap_or_else(|_| unreachable!("a 64 KiB chunk is within ChaCha20's limit"));
            let mut out = [0u8; super::TAG];
            out.copy_from_slice(tag.as_ref());
            out
        }

        /// Decrypts ciphertext ‖ tag in place; `false` when it does not
        /// authenticate (then `sealed` is unspecified).
        pub fn open(&self, nonce: [u8; 12], sealed: &mut [u8]) -> bool {
            self.0
                .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::empty(), sealed)
                .is_ok()
        }
    }
}

#[cfg(not(feature = "ring"))]
mod backend {
    use chacha20poly1305::aead::AeadInPlace;
    use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Tag};

    /// ChaCha20-Poly1305 under one key.
    pub struct Aead(ChaCha20Poly1305);

    impl Aead {
        /// The cipher for `key`.
        pub fn new(key: &[u8; 32]) -> Self {
            Self(ChaCha20Poly1305::new(key.into()))
        }

        /// Encrypts `buf` in place; returns the tag.
        pub fn seal(&self, nonce: [u8; 12], buf: &mut [u8]) -> [u8; super::TAG] {
            self.0
                .encrypt_in_place_detached(&nonce.into(), &[], buf)
                .unwrap_or_else(|_| unreachable!("a 64 KiB chunk is within ChaCha20's limit"))
                .into()
        }

        /// Decrypts ciphertext ‖ tag in place; `false` when it does not
        /// authenticate (then `sealed` is unspecified).
        pub fn open(&self, nonce: [u8; 12], sealed: &mut [u8]) -> bool {
            let Some(n) = sealed.len().checked_sub(super::TAG) else {
                return false;
            };
            let (data, tag) = sealed.split_at_mut(n);
            let tag = Tag::clone_from_slice(tag);
            self.0
                .decrypt_in_place_detached(&nonce.into(), &[], data, &tag)
                .is_ok()
        }
    }
}

pub use backend::Aead;

/// The backend this build uses, for benchmarks and `--version` lines.
pub const BACKEND: &str = if cfg!(feature = "ring") {
    "ring"
} else {
    "RustCrypto chacha20poly1305"
};

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chacha20poly1305::aead::AeadInPlace;
    use chacha20poly1305::{ChaCha20Poly1305, KeyInit};

    use super::*;

    /// Whichever backend is built gives RustCrypto's bytes (the reference
    /// the C2SP vectors were checked against), and opens them.
    #[test]
    fn backend_matches_rustcrypto() {
        let key = [7u8; 32];
        let reference = ChaCha20Poly1305::new(&key.into());
        let aead = Aead::new(&key);
        for len in [0usize, 1, 63, 64, 65, 1000, 64 * 1024] {
            let nonce = [len as u8; 12];
            let plain: Vec<u8> = (0..len).map(|i| (i * 31) as u8).collect();
            let mut ours = plain.clone();
            let tag = aead.seal(nonce, &mut ours);
            let mut theirs = plain.clone();
            let their_tag = reference
                .encrypt_in_place_detached(&nonce.into(), &[], &mut theirs)
                .unwrap();
            assert_eq!(ours, theirs, "ciphertext of {len} bytes");
            assert_eq!(tag[..], their_tag[..], "tag of {len} bytes");
            let mut sealed = [ours, tag.to_vec()].concat();
            assert!(aead.open(nonce, &mut sealed));
            assert_eq!(&sealed[..len], &plain[..]);
            let mut bad = [theirs, tag.to_vec()].concat();
            bad[0] ^= 1;
            assert!(
                !aead.open(nonce, &mut bad),
                "a flipped bit opens ({len} bytes)"
            );
        }
    }
}
