//! The Ed25519 key pair type shared by owner keys and device keys.

/// Defines a secret Ed25519 key type and its public key type, with text forms.
macro_rules! ed25519_key_pair {
    (
        $(#[$sdoc:meta])* secret $secret:ident = $sprefix:literal;
        $(#[$pdoc:meta])* public $public:ident = $pprefix:literal;
    ) => {
        $(#[$sdoc])*
        ///
        /// Zeroized when dropped; `Debug` shows only the public key.
        #[derive(Clone)]
        pub struct $secret(ed25519_dalek::SigningKey);

        impl $secret {
            /// Generates a new key from the operating system's random source.
            pub fn generate() -> Self {
                Self(ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng))
            }

            /// The key from its 32-byte seed.
            pub fn from_seed(seed: &[u8; 32]) -> Self {
                Self(ed25519_dalek::SigningKey::from_bytes(seed))
            }

            /// The 32-byte seed. Handle with care: it is the secret.
            pub fn to_seed(&self) -> zeroize::Zeroizing<[u8; 32]> {
                zeroize::Zeroizing::new(self.0.to_bytes())
            }

            /// The public half.
            pub fn public(&self) -> $public {
                $public(self.0.verifying_key())
            }

            /// Signs `message`.
            pub(crate) fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
                use ed25519_dalek::Signer;
                self.0.sign(message).to_bytes()
            }

            /// The secret key as text, for a key file.
            pub fn to_secret_text(&self) -> zeroize::Zeroizing<String> {
                zeroize::Zeroizing::new(crate::text::encode($sprefix, &self.0.to_bytes(), true))
            }

            /// Parses the text written by `to_secret_text`.
            pub fn from_secret_text(s: &str) -> Result<Self, crate::KeyError> {
                let seed = crate::text::decode::<32>($sprefix, s)?;
                Ok(Self::from_seed(&seed))
            }

            /// Writes the key to `path` (mode 0600, atomically).
            pub fn write_file(&self, path: &std::path::Path) -> Result<(), crate::KeyError> {
                let mut text = self.to_secret_text();
                text.push('\n');
                crate::secret_file::write(path, text.as_bytes())
            }

            /// Reads a key file, refusing it if others may read it.
            pub fn read_file(path: &std::path::Path) -> Result<Self, crate::KeyError> {
                let text = crate::secret_file::read_to_string(path)?;
                let line = text
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty() && !l.starts_with('#'))
                    .ok_or_else(|| crate::KeyError::NoKeyInFile { path: path.to_owned() })?;
                Self::from_secret_text(line)
            }
        }

        impl std::fmt::Debug for $secret {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($secret))
                    .field("public", &self.public())
                    .field("secret", &"<redacted>")
                    .finish()
            }
        }

        $(#[$pdoc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $public(ed25519_dalek::VerifyingKey);

        impl $public {
            /// The key from its 32 bytes; fails on a non-canonical or invalid point.
            pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, crate::KeyError> {
                ed25519_dalek::VerifyingKey::from_bytes(bytes)
                    .map(Self)
                    .map_err(|_| crate::KeyError::InvalidPoint)
            }

            /// The 32 bytes of the key.
            pub fn to_bytes(&self) -> [u8; 32] {
                self.0.to_bytes()
            }

            /// Verifies an Ed25519 signature (strict: rejects malleable encodings
            /// and small-order keys).
            pub(crate) fn verify_raw(&self, message: &[u8], signature: &[u8; 64]) -> bool {
                let sig = ed25519_dalek::Signature::from_bytes(signature);
                self.0.verify_strict(message, &sig).is_ok()
            }

            /// A short fingerprint for people to compare (SHA-256, first 10 bytes, grouped).
            pub fn fingerprint(&self) -> String {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(self.0.as_bytes());
                let b32 = data_encoding::BASE32_NOPAD.encode(&digest[..10]);
                b32.as_bytes()
                    .chunks(4)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect::<Vec<_>>()
                    .join("-")
            }
        }

        impl std::fmt::Display for $public {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&crate::text::encode($pprefix, self.0.as_bytes(), false))
            }
        }

        impl std::fmt::Debug for $public {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($public), "({})"), self)
            }
        }

        impl std::str::FromStr for $public {
            type Err = crate::KeyError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let bytes = crate::text::decode::<32>($pprefix, s)?;
                Self::from_bytes(&bytes)
            }
        }

        impl serde::Serialize for $public {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $public {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use ed25519_key_pair;
