//! Viewer keys and the recovery key: age X25519 identities.
//!
//! A viewer identity file is the standard age identity file (the one
//! `age-keygen` writes), so any age implementation can decrypt a sealcam
//! object with it.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::{secret_file, KeyError};

/// A viewer's age X25519 identity (`AGE-SECRET-KEY-1…`): one per phone,
/// laptop, CLI install or household member.
///
/// Zeroized when dropped; `Debug` shows only the public key.
#[derive(Clone)]
pub struct ViewerIdentity(age::x25519::Identity);

impl ViewerIdentity {
    /// Generates a new identity.
    pub fn generate() -> Self {
        Self(age::x25519::Identity::generate())
    }

    /// The public recipient (`age1…`).
    pub fn to_public(&self) -> ViewerRecipient {
        ViewerRecipient(self.0.to_public())
    }

    /// The identity as used by the age crate.
    pub fn as_age(&self) -> &age::x25519::Identity {
        &self.0
    }

    /// The secret as `AGE-SECRET-KEY-1…` text.
    pub fn to_secret_text(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.to_string().expose_secret().to_owned())
    }

    /// Parses `AGE-SECRET-KEY-1…` (surrounding whitespace ignored, any case).
    pub fn from_secret_text(s: &str) -> Result<Self, KeyError> {
        let upper = Zeroizing::new(s.trim().to_ascii_uppercase());
        if !upper.starts_with("AGE-SECRET-KEY-1") {
            return Err(KeyError::WrongKind {
                expected: "AGE-SECRET-KEY".into(),
            });
        }
        age::x25519::Identity::from_str(&upper)
            .map(Self)
            .map_err(|_| KeyError::Encoding)
    }

    /// The standard age identity file text, with `created` and `public key` comments.
    pub fn to_identity_file(&self, created: &str) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "# created: {created}\n# public key: {}\n{}\n",
            self.to_public(),
            self.to_secret_text().as_str()
        ))
    }

    /// Parses an age identity file: the first `AGE-SECRET-KEY-1` line.
    pub fn from_identity_file(text: &str) -> Option<Result<Self, KeyError>> {
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .map(Self::from_secret_text)
    }

    /// Writes the identity file to `path` with mode 0600.
    pub fn write_file(&self, path: &Path, created: &str) -> Result<(), KeyError> {
        secret_file::write(path, self.to_identity_file(created).as_bytes())
    }

    /// Reads an identity file, refusing it if others may read it.
    pub fn read_file(path: &Path) -> Result<Self, KeyError> {
        let text = secret_file::read_to_string(path)?;
        Self::from_identity_file(&text).unwrap_or_else(|| {
            Err(KeyError::NoKeyInFile {
                path: path.to_owned(),
            })
        })
    }
}

impl fmt::Debug for ViewerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViewerIdentity")
            .field("public", &self.to_public())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A viewer's public key: an age X25519 recipient (`age1…`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ViewerRecipient(age::x25519::Recipient);

impl ViewerRecipient {
    /// The recipient as used by the age crate.
    pub fn as_age(&self) -> &age::x25519::Recipient {
        &self.0
    }

    /// What the server is told instead of the key when it must compare keys
    /// (a link token bound to the device it will enroll): `vkc1` and the hex
    /// of SHA-256("sealcam viewer key commitment v1\0" ‖ owner ‖ key). One
    /// key gives unrelated commitments in two accounts, so the server cannot
    /// link a member across households, nor read the key (S9).
    pub fn commitment(&self, owner: crate::OwnerId) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"sealcam viewer key commitment v1\x00");
        h.update(owner.to_bytes());
        h.update(self.to_string().as_bytes());
        let digest = h.finalize();
        let mut out = String::with_capacity(68);
        out.push_str("vkc1");
        for b in digest {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

impl fmt::Display for ViewerRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for ViewerRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ViewerRecipient({})", self.0)
    }
}

impl FromStr for ViewerRecipient {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if !s.starts_with("age1") {
            return Err(KeyError::WrongKind {
                expected: "age1".into(),
            });
        }
        // Only the canonical lower-case form is accepted, so that one key has one text.
        let r = age::x25519::Recipient::from_str(s).map_err(|_| KeyError::Encoding)?;
        if r.to_string() != s {
            return Err(KeyError::Encoding);
        }
        Ok(Self(r))
    }
}

impl serde::Serialize for ViewerRecipient {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ViewerRecipient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The owner's recovery key: an age identity shown once at `init`, meant to be
/// printed and kept offline. It is a recipient of every camera's set and of the
/// owner key bundle, so it alone restores the owner key and every recording (S7).
#[derive(Clone)]
pub struct RecoveryKey(ViewerIdentity);

impl RecoveryKey {
    /// Generates a new recovery key.
    pub fn generate() -> Self {
        Self(ViewerIdentity::generate())
    }

    /// The recovery key as a viewer identity (for decrypting).
    pub fn identity(&self) -> &ViewerIdentity {
        &self.0
    }

    /// The public recipient that goes into every recipient set.
    pub fn to_public(&self) -> ViewerRecipient {
        self.0.to_public()
    }

    /// The text to print once: `AGE-SECRET-KEY-1…`.
    pub fn to_secret_text(&self) -> Zeroizing<String> {
        self.0.to_secret_text()
    }

    /// Parses the recovery key as typed back by a person: spaces, dashes
    /// between groups and line breaks are ignored, any case.
    pub fn from_typed(s: &str) -> Result<Self, KeyError> {
        let compact: Zeroizing<String> =
            Zeroizing::new(s.chars().filter(|c| !c.is_whitespace()).collect::<String>());
        // "AGE-SECRET-KEY-1" keeps its dashes; dashes inside the key body are grouping.
        let upper = Zeroizing::new(compact.to_ascii_uppercase());
        let body = upper
            .strip_prefix("AGE-SECRET-KEY-")
            .ok_or(KeyError::WrongKind {
                expected: "AGE-SECRET-KEY".into(),
            })?;
        let body: Zeroizing<String> = Zeroizing::new(body.chars().filter(|c| *c != '-').collect());
        let text = Zeroizing::new(format!("AGE-SECRET-KEY-{}", body.as_str()));
        ViewerIdentity::from_secret_text(&text).map(Self)
    }

    /// The recovery key grouped for printing: `AGE-SECRET-KEY-1XXXX-XXXX-…`.
    pub fn to_printable(&self) -> Zeroizing<String> {
        let text = self.to_secret_text();
        let body = &text["AGE-SECRET-KEY-".len()..];
        let groups: Vec<&str> = body
            .as_bytes()
            .chunks(6)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect();
        Zeroizing::new(format!("AGE-SECRET-KEY-{}", groups.join("-")))
    }
}

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryKey")
            .field("public", &self.to_public())
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_file_round_trip_and_debug_redacted() {
        let id = ViewerIdentity::generate();
        let file = id.to_identity_file("2026-11-29T00:00:00Z");
        let back = ViewerIdentity::from_identity_file(&file).unwrap().unwrap();
        assert_eq!(back.to_public(), id.to_public());
        let dbg = format!("{id:?}");
        assert!(!dbg.contains("AGE-SECRET-KEY"), "{dbg}");
    }

    #[test]
    fn recovery_key_survives_printing_and_retyping() {
        let k = RecoveryKey::generate();
        let printed = k.to_printable();
        let typed = printed.to_lowercase().replace('-', " - ");
        let typed = typed.replacen("age - secret - key - ", "age-secret-key-", 1);
        let back = RecoveryKey::from_typed(&typed).unwrap();
        assert_eq!(back.to_public(), k.to_public());
    }

    #[test]
    fn recipient_text_is_canonical() {
        let r = ViewerIdentity::generate().to_public();
        let s = r.to_string();
        assert_eq!(s.parse::<ViewerRecipient>().unwrap(), r);
        assert!(s.to_uppercase().parse::<ViewerRecipient>().is_err());
    }
}
