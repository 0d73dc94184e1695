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
pub struct ViewerIdentity {
    age: age::x25519::Identity,
    /// The same scalar, for X25519 without the age crate's per-call
    /// re-derivation of the public key (sealcam's stanza unwrap, slot hints).
    secret: x25519_dalek::StaticSecret,
    public: [u8; 32],
}

impl ViewerIdentity {
    /// Generates a new identity.
    pub fn generate() -> Self {
        Self::from_age(age::x25519::Identity::generate())
            .unwrap_or_else(|_| unreachable!("the age crate encodes its own identities"))
    }

    fn from_age(age: age::x25519::Identity) -> Result<Self, KeyError> {
        let text = Zeroizing::new(age.to_string().expose_secret().to_owned());
        let bytes = Zeroizing::new(bech32_32(&text, "age-secret-key-")?);
        let secret = x25519_dalek::StaticSecret::from(*bytes);
        let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
        Ok(Self {
            age,
            secret,
            public,
        })
    }

    /// The public recipient (`age1…`).
    pub fn to_public(&self) -> ViewerRecipient {
        ViewerRecipient {
            age: self.age.to_public(),
            public: self.public,
        }
    }

    /// The identity as used by the age crate.
    pub fn as_age(&self) -> &age::x25519::Identity {
        &self.age
    }

    /// The public key's 32 bytes (the X25519 point).
    pub fn public_bytes(&self) -> &[u8; 32] {
        &self.public
    }

    /// X25519(this identity, `point`), or `None` when the result is all
    /// zeros (a low-order point: RFC 7748 §6.1, which age requires a reader
    /// to refuse). For age stanza unwrapping and slot hints only.
    ///
    /// The same function as the Montgomery ladder of RFC 7748, computed on
    /// the Edwards form where `point` is on the curve: curve25519-dalek's
    /// constant-time variable-base multiplication by the clamped, unreduced
    /// scalar uses its vector backend (AVX2) where the ladder cannot, and
    /// takes about two thirds of the ladder's time. A `point` on the twist
    /// (no Edwards form) takes the ladder. The conversions only see `point`,
    /// which is public, and the result. Tested against x25519-dalek's ladder
    /// on random, low-order and non-canonical points.
    pub fn x25519(&self, point: &[u8; 32]) -> Option<Zeroizing<[u8; 32]>> {
        let scalar = Zeroizing::new(self.secret.to_bytes());
        let u = curve25519_dalek::MontgomeryPoint(*point);
        // The product is the shared secret: kept in zeroizing wrappers.
        let product = Zeroizing::new(match u.to_edwards(0) {
            Some(p) => Zeroizing::new(p.mul_clamped(*scalar)).to_montgomery(),
            None => u.mul_clamped(*scalar),
        });
        let shared = Zeroizing::new(product.to_bytes());
        let zero = shared.iter().fold(0u8, |acc, b| acc | b);
        (!bool::from(subtle::ConstantTimeEq::ct_eq(&zero, &0))).then_some(shared)
    }

    /// The secret as `AGE-SECRET-KEY-1…` text.
    pub fn to_secret_text(&self) -> Zeroizing<String> {
        Zeroizing::new(self.age.to_string().expose_secret().to_owned())
    }

    /// Parses `AGE-SECRET-KEY-1…` (surrounding whitespace ignored, any case).
    pub fn from_secret_text(s: &str) -> Result<Self, KeyError> {
        let upper = Zeroizing::new(s.trim().to_ascii_uppercase());
        if !upper.starts_with("AGE-SECRET-KEY-1") {
            return Err(KeyError::WrongKind {
                expected: "AGE-SECRET-KEY".into(),
            });
        }
        let age = age::x25519::Identity::from_str(&upper).map_err(|_| KeyError::Encoding)?;
        Self::from_age(age)
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
pub struct ViewerRecipient {
    age: age::x25519::Recipient,
    /// The X25519 point the text encodes.
    public: [u8; 32],
}

impl ViewerRecipient {
    /// The recipient as used by the age crate.
    pub fn as_age(&self) -> &age::x25519::Recipient {
        &self.age
    }

    /// The public key's 32 bytes (the X25519 point).
    pub fn public_bytes(&self) -> &[u8; 32] {
        &self.public
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
        self.age.fmt(f)
    }
}

impl fmt::Debug for ViewerRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ViewerRecipient({})", self.age)
    }
}

/// The 32 bytes of an age key's Bech32 text with human-readable part `hrp`
/// (compared without case).
fn bech32_32(text: &str, hrp: &str) -> Result<[u8; 32], KeyError> {
    let (found, data) = bech32::decode(text).map_err(|_| KeyError::Encoding)?;
    if !found.as_str().eq_ignore_ascii_case(hrp) {
        return Err(KeyError::Encoding);
    }
    let data = Zeroizing::new(data);
    <[u8; 32]>::try_from(&data[..]).map_err(|_| KeyError::Encoding)
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
        Ok(Self {
            public: bech32_32(s, "age")?,
            age: r,
        })
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
    fn x25519_agrees_both_ways_and_with_the_age_text() {
        let (a, b) = (ViewerIdentity::generate(), ViewerIdentity::generate());
        let ab = a.x25519(b.to_public().public_bytes()).unwrap();
        let ba = b.x25519(a.public_bytes()).unwrap();
        assert_eq!(*ab, *ba);
        // The bytes are the ones the age text encodes.
        let again = ViewerIdentity::from_secret_text(&a.to_secret_text()).unwrap();
        assert_eq!(again.public_bytes(), a.public_bytes());
        let parsed: ViewerRecipient = a.to_public().to_string().parse().unwrap();
        assert_eq!(parsed.public_bytes(), a.public_bytes());
        // A low-order point gives no shared secret.
        assert!(a.x25519(&[0u8; 32]).is_none());
    }

    /// The Edwards-form X25519 gives the ladder's answer (x25519-dalek) on
    /// random points (half of them on the twist), the low-order points and
    /// non-canonical encodings (u ≥ p, the top bit set).
    #[test]
    fn x25519_is_the_ladder_on_every_kind_of_point() {
        use rand::RngCore;
        let id = ViewerIdentity::generate();
        let ladder = |p: &[u8; 32]| id.secret.diffie_hellman(&x25519_dalek::PublicKey::from(*p));
        let mut points: Vec<[u8; 32]> = (0..400)
            .map(|_| {
                let mut p = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut p);
                p
            })
            .collect();
        // u = 0, 1, p-1 (= -1), p, p+1, 2^255-1, and the order-8 points.
        let hex32 = |h: &str| -> [u8; 32] {
            let v: Vec<u8> = (0..32)
                .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            v.try_into().unwrap()
        };
        let mut p_minus_1 = [0xffu8; 32];
        p_minus_1[0] = 0xec;
        p_minus_1[31] = 0x7f;
        let mut p = p_minus_1;
        p[0] = 0xed;
        let mut p_plus_1 = p_minus_1;
        p_plus_1[0] = 0xee;
        let mut one = [0u8; 32];
        one[0] = 1;
        let mut p_minus_1_high = p_minus_1;
        p_minus_1_high[31] |= 0x80;
        let mut one_high = one;
        one_high[31] |= 0x80;
        points.extend([
            [0u8; 32],
            one,
            p_minus_1,
            p,
            p_plus_1,
            [0xffu8; 32],
            p_minus_1_high,
            one_high,
        ]);
        points.push(hex32(
            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        ));
        points.push(hex32(
            "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        ));
        let mut on_twist = 0;
        for p in &points {
            let want = ladder(p);
            let got = id.x25519(p);
            if curve25519_dalek::MontgomeryPoint(*p)
                .to_edwards(0)
                .is_none()
            {
                on_twist += 1;
            }
            match got {
                Some(got) => assert_eq!(*got, *want.as_bytes(), "{p:02x?}"),
                None => assert!(!want.was_contributory(), "{p:02x?}"),
            }
        }
        assert!(on_twist > 100, "{on_twist}");
    }

    #[test]
    fn recipient_text_is_canonical() {
        let r = ViewerIdentity::generate().to_public();
        let s = r.to_string();
        assert_eq!(s.parse::<ViewerRecipient>().unwrap(), r);
        assert!(s.to_uppercase().parse::<ViewerRecipient>().is_err());
    }
}
