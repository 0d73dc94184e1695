//! Owner documents sealed as age files whose header hides how many
//! recipients they have (S9): the owner record, the key bundle and a
//! camera's recipient set.
//!
//! The recipients are padded with throwaway X25519 recipients (fresh keys
//! whose secrets are dropped at once) up to a multiple of [`SLOTS`] and
//! shuffled. Their stanzas are real age stanzas that nobody can open, so the
//! header's size shows only which block of 16 the count falls in, and any
//! age implementation still decrypts the file with a real recipient's
//! identity.

use std::io::Write;

use rand::seq::SliceRandom;

use crate::ViewerRecipient;

/// Recipient stanzas come in blocks of this many (as in object headers).
pub const SLOTS: usize = 16;

/// Seals `plaintext` to `recipients` (and throwaway recipients up to a
/// multiple of [`SLOTS`], all shuffled) as an age file. `None` when age
/// refuses (no recipient) or writing fails.
pub fn seal_padded(recipients: &[ViewerRecipient], plaintext: &[u8]) -> Option<Vec<u8>> {
    if recipients.is_empty() {
        return None;
    }
    let slots = recipients.len().div_ceil(SLOTS) * SLOTS;
    let fillers: Vec<age::x25519::Recipient> = (recipients.len()..slots)
        .map(|_| age::x25519::Identity::generate().to_public())
        .collect();
    let mut all: Vec<&dyn age::Recipient> = recipients
        .iter()
        .map(|r| r.as_age() as &dyn age::Recipient)
        .chain(fillers.iter().map(|r| r as &dyn age::Recipient))
        .collect();
    all.shuffle(&mut rand::rngs::OsRng);
    let enc = age::Encryptor::with_recipients(all.into_iter()).ok()?;
    let mut out = Vec::with_capacity(plaintext.len() + 100 * slots + 200);
    let mut w = enc.wrap_output(&mut out).ok()?;
    w.write_all(plaintext).ok()?;
    w.finish().ok()?;
    Some(out)
}

/// The number of X25519 stanzas in the header of the age file `sealed` (for
/// tests and audits: it must be a multiple of [`SLOTS`]).
pub fn stanza_count(sealed: &[u8]) -> usize {
    let end = sealed
        .windows(4)
        .position(|w| w == b"\n---")
        .unwrap_or(sealed.len());
    sealed[..end]
        .split(|&b| b == b'\n')
        .filter(|line| line.starts_with(b"-> X25519 "))
        .count()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Read;

    use super::*;
    use crate::ViewerIdentity;

    #[test]
    fn the_header_has_sixteen_slots_and_every_recipient_opens_it() {
        let ids: Vec<ViewerIdentity> = (0..3).map(|_| ViewerIdentity::generate()).collect();
        let recipients: Vec<_> = ids.iter().map(|i| i.to_public()).collect();
        let one = seal_padded(&recipients[..1], b"secret").unwrap();
        let three = seal_padded(&recipients, b"secret").unwrap();
        assert_eq!(stanza_count(&one), SLOTS);
        assert_eq!(stanza_count(&three), SLOTS);
        // (age adds a random "grease" stanza of its own, so sizes vary a
        // little from file to file whatever the count.)
        for id in &ids {
            let dec = age::Decryptor::new(&three[..]).unwrap();
            let mut r = dec
                .decrypt(std::iter::once(id.as_age() as &dyn age::Identity))
                .unwrap();
            let mut plain = Vec::new();
            r.read_to_end(&mut plain).unwrap();
            assert_eq!(plain, b"secret");
        }
        let many: Vec<_> = (0..17)
            .map(|_| ViewerIdentity::generate().to_public())
            .collect();
        assert_eq!(stanza_count(&seal_padded(&many, b"x").unwrap()), 2 * SLOTS);
        assert!(seal_padded(&[], b"x").is_none());
    }
}
