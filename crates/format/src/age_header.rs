//! The age v1 header: a strict parser, a writer, unwrapping and re-wrapping.
//!
//! The parser follows <https://c2sp.org/age> to the letter (canonical
//! base64, 64-column body lines ending with a short line, no CR, `--- ` and a
//! 32-byte MAC) and agrees with the C2SP CCTV vectors. X25519 stanza crypto
//! is the age crate's; the framing and the header MAC are here, because
//! sealcam needs the file key itself: to produce the STREAM payload in place
//! and to re-wrap headers of past objects for a new viewer.

use age::secrecy::ExposeSecret;
use age_core::format::{FileKey, Stanza, FILE_KEY_BYTES};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use sealcam_keys::{SlotHintKey, ViewerIdentity, ViewerRecipient};

use crate::x25519_stanza::{self, X25519Stanza};
use crate::{Binding, OpenError};

/// A recipient of a sealed object and, when the sealer has it, the slot hint
/// key it shares with that recipient ([`SlotHintKey`]): the stanza goes to
/// the hinted slot, so the recipient finds it with one X25519 operation.
#[derive(Debug, Clone)]
pub struct SlotRecipient {
    /// The recipient.
    pub recipient: ViewerRecipient,
    /// Where its stanza goes; `None`: a random free slot.
    pub hint: Option<SlotHintKey>,
}

impl SlotRecipient {
    /// The recipients of a camera whose set key is `set_key`, each with its
    /// hint key (one X25519 operation each: make them once per set).
    pub fn hinted(set_key: &ViewerIdentity, recipients: &[ViewerRecipient]) -> Vec<Self> {
        recipients
            .iter()
            .map(|r| Self {
                hint: SlotHintKey::for_viewer(set_key, r),
                recipient: r.clone(),
            })
            .collect()
    }

    /// Recipients without hints (their stanzas go to random slots).
    pub fn unhinted(recipients: &[ViewerRecipient]) -> Vec<Self> {
        recipients
            .iter()
            .map(|r| Self {
                recipient: r.clone(),
                hint: None,
            })
            .collect()
    }
}

/// What a header says about the payload it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PayloadBinding {
    /// The nonce that starts the payload.
    pub nonce: [u8; 16],
    /// Version 2: the tag of the object's binding ([`binding_tag`]).
    pub tag: Option<[u8; BINDING_TAG]>,
}

const INTRO: &[u8] = b"age-encryption.org/v1\n";
const VERSION_PREFIX: &[u8] = b"age-encryption.org/";
const STANZA_PREFIX: &[u8] = b"-> ";
const MAC_PREFIX: &[u8] = b"---";
const BODY_COLUMNS: usize = 64;
/// The stanza a version 1 header carries to bind it to its payload (by the
/// payload nonce). Other age implementations ignore stanzas they do not know.
pub(crate) const PAYLOAD_STANZA_TAG: &str = "sealcam-payload";
/// The stanza a version 2 header carries instead: the payload nonce and a tag
/// of the object's binding under the file key.
pub(crate) const BIND_STANZA_TAG: &str = "sealcam-bind";
/// A version 2 header has a multiple of this many X25519 stanzas: one per
/// recipient, the other slots unused (indistinguishable without the file key).
pub const SLOTS: usize = 16;
/// Bytes of the binding tag in a `sealcam-bind` stanza.
const BINDING_TAG: usize = 16;
/// The largest header accepted (a sealcam header with 64 recipients is about 8 KiB).
pub const MAX_HEADER_LEN: usize = 64 * 1024;

/// A parsed age header whose MAC is not yet verified (that needs the file key).
#[derive(Debug)]
pub struct AgeHeader {
    stanzas: Vec<Stanza>,
    mac: [u8; 32],
    /// The header bytes up to and including `---`, which the MAC covers.
    mac_input: Vec<u8>,
    /// Bytes of the whole header, MAC line included.
    len: usize,
}

fn is_vchar(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Splits off the next `\n`-terminated line (without the `\n`).
fn next_line(input: &[u8], pos: &mut usize) -> Result<std::ops::Range<usize>, OpenError> {
    let rest = &input[*pos..];
    let n = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(OpenError::Truncated("the input ends inside the age header"))?;
    let line = *pos..*pos + n;
    *pos += n + 1;
    Ok(line)
}

impl AgeHeader {
    /// Parses the header at the start of `input`. `Truncated` when the input
    /// ends before the header does. Untrusted input.
    pub fn parse(input: &[u8]) -> Result<Self, OpenError> {
        let input = &input[..input.len().min(MAX_HEADER_LEN + 1)];
        let mut pos = 0;
        let intro = next_line(input, &mut pos).map_err(|e| {
            if input.len() > MAX_HEADER_LEN {
                OpenError::Header("header too long")
            } else if input.is_empty() || INTRO.starts_with(input) {
                e
            } else {
                OpenError::Header("not an age file")
            }
        })?;
        if &input[intro.start..=intro.end] != INTRO {
            return Err(if input.starts_with(VERSION_PREFIX) {
                OpenError::Header("unsupported age version")
            } else {
                OpenError::Header("not an age file")
            });
        }
        let mut stanzas = Vec::new();
        loop {
            let line_start = pos;
            let line = next_line(input, &mut pos).map_err(|e| too_long(input, e))?;
            let line = &input[line];
            if let Some(args) = line.strip_prefix(STANZA_PREFIX) {
                stanzas.push(parse_stanza(args, input, &mut pos)?);
            } else if line.starts_with(MAC_PREFIX) {
                let mac = parse_mac(&line[MAC_PREFIX.len()..])?;
                let mac_input = input[..line_start + MAC_PREFIX.len()].to_vec();
                return Ok(Self {
                    stanzas,
                    mac,
                    mac_input,
                    len: pos,
                });
            } else {
                return Err(OpenError::Header(
                    "a header line is neither a stanza nor the MAC",
                ));
            }
        }
    }

    /// The header's length in bytes, MAC line included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: a header has at least the intro and MAC lines.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The stanzas, in order.
    pub fn stanzas(&self) -> &[Stanza] {
        &self.stanzas
    }

    /// What sealcam's binding stanza names (`sealcam-bind` in version 2,
    /// `sealcam-payload` in version 1), if the header has one. At most one
    /// such stanza is allowed.
    pub(crate) fn payload_binding(&self) -> Result<Option<PayloadBinding>, OpenError> {
        const MALFORMED: OpenError = OpenError::Header("malformed sealcam binding stanza");
        let mut found = None;
        for s in self
            .stanzas
            .iter()
            .filter(|s| s.tag == PAYLOAD_STANZA_TAG || s.tag == BIND_STANZA_TAG)
        {
            let want_args = if s.tag == BIND_STANZA_TAG { 2 } else { 1 };
            if found.is_some() || s.args.len() != want_args || !s.body.is_empty() {
                return Err(MALFORMED);
            }
            let nonce = decode_canonical(&s.args[0])
                .and_then(|v| <[u8; 16]>::try_from(v).ok())
                .ok_or(MALFORMED)?;
            let tag = match s.args.get(1) {
                Some(t) => Some(
                    decode_canonical(t)
                        .and_then(|v| <[u8; BINDING_TAG]>::try_from(v).ok())
                        .ok_or(MALFORMED)?,
                ),
                None => None,
            };
            found = Some(PayloadBinding { nonce, tag });
        }
        Ok(found)
    }

    /// The number of X25519 stanzas (recipient slots, used or not).
    pub fn x25519_slots(&self) -> usize {
        self.stanzas
            .iter()
            .filter(|s| s.tag == x25519_stanza::TAG)
            .count()
    }

    /// Unwraps the file key with the first identity that matches, then
    /// verifies the header MAC. `NotAddressedToViewer` when none matches.
    pub fn unwrap(&self, identities: &[&dyn age::Identity]) -> Result<FileKey, OpenError> {
        if self.stanzas.iter().any(|s| s.tag == "scrypt") && self.stanzas.len() != 1 {
            return Err(OpenError::Header("an scrypt stanza must be alone"));
        }
        let file_key = identities
            .iter()
            .find_map(|id| id.unwrap_stanzas(&self.stanzas))
            .ok_or(OpenError::NotAddressedToViewer)?
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => OpenError::NotAddressedToViewer,
                _ => OpenError::Header("invalid recipient stanza"),
            })?;
        self.verify_mac(&file_key)?;
        Ok(file_key)
    }

    /// Unwraps the file key for a viewer, then verifies the header MAC.
    /// `NotAddressedToViewer` when no stanza is for any of `identities`.
    ///
    /// Every X25519 stanza's form is checked first (one bad stanza refuses
    /// the header, wherever it is). With a `hint` for the camera that sealed
    /// the header, the X25519 slots are tried from the hinted one on, in
    /// order and wrapping round, so a viewer's own stanza is usually the
    /// first tried; without one, in header order.
    pub fn unwrap_viewer(
        &self,
        identities: &[&ViewerIdentity],
        hint: Option<&SlotHintKey>,
    ) -> Result<FileKey, OpenError> {
        if self.stanzas.iter().any(|s| s.tag == "scrypt") && self.stanzas.len() != 1 {
            return Err(OpenError::Header("an scrypt stanza must be alone"));
        }
        let slots = self
            .stanzas
            .iter()
            .filter_map(X25519Stanza::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let start = match (hint, self.payload_binding()?) {
            (Some(hint), Some(bound)) if !slots.is_empty() => hint.slot(&bound.nonce, slots.len()),
            _ => 0,
        };
        for id in identities {
            for slot in slots[start..].iter().chain(&slots[..start]) {
                if let Some(file_key) = slot.unwrap(id)? {
                    self.verify_mac(&file_key)?;
                    return Ok(file_key);
                }
            }
        }
        Err(OpenError::NotAddressedToViewer)
    }

    /// Verifies the header MAC under `file_key` (constant time).
    pub fn verify_mac(&self, file_key: &FileKey) -> Result<(), OpenError> {
        header_mac(file_key, &self.mac_input)
            .verify_slice(&self.mac)
            .map_err(|_| OpenError::HeaderMac)
    }
}

fn too_long(input: &[u8], e: OpenError) -> OpenError {
    if input.len() > MAX_HEADER_LEN {
        OpenError::Header("header too long")
    } else {
        e
    }
}

pub(crate) fn decode_canonical(s: &str) -> Option<Vec<u8>> {
    // The engine refuses padding and non-zero trailing bits: canonical only.
    if !s.bytes().all(is_b64) {
        return None;
    }
    B64.decode(s).ok()
}

fn parse_stanza(args_line: &[u8], input: &[u8], pos: &mut usize) -> Result<Stanza, OpenError> {
    let mut args = Vec::new();
    for arg in args_line.split(|&b| b == b' ') {
        if arg.is_empty() || !arg.iter().all(|&b| is_vchar(b)) {
            return Err(OpenError::Header("invalid stanza argument"));
        }
        // All bytes are VCHAR, hence ASCII.
        args.push(String::from_utf8_lossy(arg).into_owned());
    }
    if args.is_empty() {
        return Err(OpenError::Header("stanza without a type"));
    }
    let tag = args.remove(0);
    let mut body_b64 = Vec::new();
    loop {
        let line = next_line(input, pos).map_err(|e| too_long(input, e))?;
        let line = &input[line];
        if line.len() > BODY_COLUMNS || !line.iter().all(|&b| is_b64(b)) {
            return Err(OpenError::Header("invalid stanza body line"));
        }
        body_b64.extend_from_slice(line);
        if line.len() < BODY_COLUMNS {
            break;
        }
    }
    let body_str = String::from_utf8_lossy(&body_b64);
    let body = decode_canonical(&body_str)
        .ok_or(OpenError::Header("stanza body is not canonical base64"))?;
    Ok(Stanza { tag, args, body })
}

fn parse_mac(rest: &[u8]) -> Result<[u8; 32], OpenError> {
    let encoded = rest
        .strip_prefix(b" ")
        .ok_or(OpenError::Header("malformed MAC line"))?;
    if encoded.len() != 43 {
        return Err(OpenError::Header("malformed MAC line"));
    }
    let mac = decode_canonical(&String::from_utf8_lossy(encoded))
        .ok_or(OpenError::Header("malformed MAC"))?;
    mac.try_into()
        .map_err(|_| OpenError::Header("malformed MAC"))
}

pub(crate) fn hkdf32(ikm: &[u8], salt: &[u8], info: &[u8]) -> [u8; 32] {
    let mut okm = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit.
    hkdf::Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut okm)
        .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 length"));
    okm
}

fn header_mac(file_key: &FileKey, mac_input: &[u8]) -> Hmac<Sha256> {
    let key = zeroize::Zeroizing::new(hkdf32(file_key.expose_secret(), &[], b"header"));
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&key[..]).unwrap_or_else(|_| unreachable!());
    mac.update(mac_input);
    mac
}

/// The STREAM payload key: HKDF-SHA256(file key, salt = nonce, info = "payload").
pub fn payload_key(file_key: &FileKey, nonce: &[u8; 16]) -> zeroize::Zeroizing<[u8; 32]> {
    zeroize::Zeroizing::new(hkdf32(file_key.expose_secret(), nonce, b"payload"))
}

/// A fresh random file key.
pub(crate) fn new_file_key() -> FileKey {
    use rand::RngCore;
    FileKey::init_with_mut(|k: &mut [u8; FILE_KEY_BYTES]| rand::rngs::OsRng.fill_bytes(k))
}

/// The tag of `binding` in a version 2 header: the first 16 bytes of
/// HMAC-SHA256(HKDF(file key, salt = nonce, info = "sealcam binding"),
/// owner ‖ camera ‖ event ‖ kind ‖ sequence). Only a holder of the file key
/// can make or check it; it lets a viewer tell a header of another object
/// before it reads any of the payload.
pub(crate) fn binding_tag(
    file_key: &FileKey,
    nonce: &[u8; 16],
    binding: &Binding,
) -> [u8; BINDING_TAG] {
    let key = zeroize::Zeroizing::new(hkdf32(file_key.expose_secret(), nonce, b"sealcam binding"));
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&key[..]).unwrap_or_else(|_| unreachable!());
    mac.update(&binding.to_bytes());
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; BINDING_TAG];
    tag.copy_from_slice(&full[..BINDING_TAG]);
    tag
}

/// The body of an unused slot whose ephemeral share is `share`:
/// HKDF(file key, salt = nonce, info = "sealcam unused slot" ‖ share).
fn unused_slot_body(file_key: &FileKey, nonce: &[u8; 16], share: &[u8]) -> [u8; 32] {
    let info = [&b"sealcam unused slot"[..], share].concat();
    hkdf32(file_key.expose_secret(), nonce, &info)
}

/// An unused recipient slot: an X25519 stanza whose share is a fresh curve
/// point and whose body is derived from the file key. Without the file key
/// it cannot be told from a stanza that wraps the file key to someone; a
/// holder of the file key recognises it ([`is_unused_slot`]).
fn unused_slot(file_key: &FileKey, nonce: &[u8; 16]) -> Stanza {
    let secret = x25519_dalek::EphemeralSecret::random_from_rng(rand::rngs::OsRng);
    let share = x25519_dalek::PublicKey::from(&secret);
    Stanza {
        tag: x25519_stanza::TAG.into(),
        args: vec![B64.encode(share.as_bytes())],
        body: unused_slot_body(file_key, nonce, share.as_bytes()).to_vec(),
    }
}

fn is_unused_slot(file_key: &FileKey, nonce: &[u8; 16], s: &Stanza) -> bool {
    s.tag == x25519_stanza::TAG
        && s.args.len() == 1
        && decode_canonical(&s.args[0]).is_some_and(|share| {
            share.len() == 32 && s.body[..] == unused_slot_body(file_key, nonce, &share)[..]
        })
}

/// Fills `stanzas` (the real ones) up to a multiple of [`SLOTS`] with unused
/// slots and shuffles them, so neither the count nor the order of real
/// stanzas shows (re-wrapping, which has no hints).
fn fill_slots(file_key: &FileKey, nonce: &[u8; 16], stanzas: &mut Vec<Stanza>) {
    use rand::seq::SliceRandom;
    let slots = stanzas.len().max(1).div_ceil(SLOTS) * SLOTS;
    while stanzas.len() < slots {
        stanzas.push(unused_slot(file_key, nonce));
    }
    stanzas.shuffle(&mut rand::rngs::OsRng);
}

/// The X25519 slots of a new header: a multiple of [`SLOTS`], each
/// recipient's stanza at its hinted slot or the next free one after it
/// (wrapping round), each unhinted recipient's at a random free slot, unused
/// slots everywhere else.
fn place_slots(
    file_key: &FileKey,
    nonce: &[u8; 16],
    recipients: &[SlotRecipient],
) -> Result<Vec<Stanza>, crate::SealError> {
    use rand::seq::IteratorRandom;
    let count = recipients.len().max(1).div_ceil(SLOTS) * SLOTS;
    let mut slots: Vec<Option<Stanza>> = (0..count).map(|_| None).collect();
    use rand::seq::SliceRandom;
    let (mut hinted, unhinted): (Vec<_>, Vec<_>) =
        recipients.iter().partition(|r| r.hint.is_some());
    // In a fresh order each time: who is displaced from its hinted slot, and
    // how often, must not tell a member its place in the set.
    hinted.shuffle(&mut rand::rngs::OsRng);
    for r in hinted.into_iter().chain(unhinted) {
        let stanza = match &wrap(
            file_key,
            std::iter::once(r.recipient.as_age() as &dyn age::Recipient),
        )?[..]
        {
            [one] => Stanza {
                tag: one.tag.clone(),
                args: one.args.clone(),
                body: one.body.clone(),
            },
            // An X25519 recipient makes exactly one stanza; anything else
            // would drop a recipient without a word.
            _ => return Err(crate::SealError::Wrap),
        };
        let free = match &r.hint {
            Some(hint) => {
                let start = hint.slot(nonce, count);
                (start..count).chain(0..start).find(|&i| slots[i].is_none())
            }
            None => (0..count)
                .filter(|&i| slots[i].is_none())
                .choose(&mut rand::rngs::OsRng),
        };
        // `count` is at least the number of recipients, so a slot is free.
        let at = free.ok_or(crate::SealError::Wrap)?;
        slots[at] = Some(stanza);
    }
    Ok(slots
        .into_iter()
        .map(|s| s.unwrap_or_else(|| unused_slot(file_key, nonce)))
        .collect())
}

/// Wraps `file_key` to every recipient and writes a complete version 2
/// header: the recipients' stanzas among unused slots (a multiple of
/// [`SLOTS`] in all, placed by [`place_slots`]), then the `sealcam-bind`
/// stanza.
pub(crate) fn write_header(
    file_key: &FileKey,
    recipients: &[SlotRecipient],
    nonce: &[u8; 16],
    binding: &Binding,
) -> Result<Vec<u8>, crate::SealError> {
    let mut stanzas = place_slots(file_key, nonce, recipients)?;
    stanzas.push(Stanza {
        tag: BIND_STANZA_TAG.into(),
        args: vec![
            B64.encode(nonce),
            B64.encode(binding_tag(file_key, nonce, binding)),
        ],
        body: Vec::new(),
    });
    Ok(write_stanzas(file_key, stanzas.iter()))
}

impl AgeHeader {
    /// Writes this header again with stanzas wrapping `file_key` to `added`,
    /// under a fresh MAC. `file_key` must be the one this header's stanzas
    /// wrap, its MAC verified ([`unwrap`](Self::unwrap)).
    ///
    /// Version 2 (a `sealcam-bind` stanza): each added stanza takes the
    /// place of an unused slot picked at random; every other stanza stays as
    /// it is and in its place. When no slot is free, [`SLOTS`] more are
    /// added (shuffled), so the header grows only in steps of [`SLOTS`].
    ///
    /// Version 1: every stanza is kept in its place and the added ones go
    /// before the `sealcam-payload` stanza (at the end when there is none).
    pub(crate) fn write_adding<'a>(
        &self,
        file_key: &FileKey,
        added: impl Iterator<Item = &'a dyn age::Recipient>,
    ) -> Result<Vec<u8>, crate::SealError> {
        let added = wrap(file_key, added)?;
        let bind = self
            .payload_binding()
            .map_err(|_| crate::SealError::Wrap)?
            .filter(|b| b.tag.is_some());
        if let Some(bind) = bind {
            return Ok(self.write_into_slots(file_key, &bind.nonce, added));
        }
        let at = self
            .stanzas
            .iter()
            .position(|s| s.tag == PAYLOAD_STANZA_TAG)
            .unwrap_or(self.stanzas.len());
        let (before, after) = self.stanzas.split_at(at);
        Ok(write_stanzas(
            file_key,
            before.iter().chain(&added).chain(after),
        ))
    }
}

impl AgeHeader {
    fn write_into_slots(
        &self,
        file_key: &FileKey,
        nonce: &[u8; 16],
        added: Vec<Stanza>,
    ) -> Vec<u8> {
        use rand::seq::SliceRandom;
        let mut stanzas: Vec<Stanza> = self
            .stanzas
            .iter()
            .map(|s| Stanza {
                tag: s.tag.clone(),
                args: s.args.clone(),
                body: s.body.clone(),
            })
            .collect();
        let mut bind_at = stanzas
            .iter()
            .position(|s| s.tag == BIND_STANZA_TAG)
            .unwrap_or(stanzas.len());
        for stanza in added {
            let free: Vec<usize> = (0..bind_at)
                .filter(|&i| is_unused_slot(file_key, nonce, &stanzas[i]))
                .collect();
            match free.choose(&mut rand::rngs::OsRng) {
                Some(&i) => stanzas[i] = stanza,
                None => {
                    let mut block = vec![stanza];
                    fill_slots(file_key, nonce, &mut block);
                    let grown = block.len();
                    stanzas.splice(bind_at..bind_at, block);
                    bind_at += grown;
                }
            }
        }
        write_stanzas(file_key, stanzas.iter())
    }
}

/// The stanzas wrapping `file_key` to each recipient, in order.
fn wrap<'a>(
    file_key: &FileKey,
    recipients: impl Iterator<Item = &'a dyn age::Recipient>,
) -> Result<Vec<Stanza>, crate::SealError> {
    let mut out = Vec::new();
    for r in recipients {
        let (stanzas, _labels) = r
            .wrap_file_key(file_key)
            .map_err(|_| crate::SealError::Wrap)?;
        out.extend(stanzas);
    }
    Ok(out)
}

/// A complete header: the intro, `stanzas` in order, and the MAC under `file_key`.
fn write_stanzas<'a>(file_key: &FileKey, stanzas: impl Iterator<Item = &'a Stanza>) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(INTRO);
    for s in stanzas {
        write_stanza(&mut out, s);
    }
    out.extend_from_slice(MAC_PREFIX);
    let mac = header_mac(file_key, &out).finalize().into_bytes();
    out.push(b' ');
    out.extend_from_slice(B64.encode(mac).as_bytes());
    out.push(b'\n');
    out
}

fn write_stanza(out: &mut Vec<u8>, s: &Stanza) {
    out.extend_from_slice(STANZA_PREFIX);
    out.extend_from_slice(s.tag.as_bytes());
    for a in &s.args {
        out.push(b' ');
        out.extend_from_slice(a.as_bytes());
    }
    out.push(b'\n');
    let body = B64.encode(&s.body);
    let mut lines = body.as_bytes().chunks(BODY_COLUMNS).peekable();
    let mut last_full = true;
    while let Some(line) = lines.next() {
        out.extend_from_slice(line);
        out.push(b'\n');
        last_full = line.len() == BODY_COLUMNS && lines.peek().is_none();
    }
    // A body whose last line is full (or an empty body) ends with an empty line.
    if body.is_empty() || last_full {
        out.push(b'\n');
    }
}
