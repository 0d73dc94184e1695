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

use crate::OpenError;

const INTRO: &[u8] = b"age-encryption.org/v1\n";
const VERSION_PREFIX: &[u8] = b"age-encryption.org/";
const STANZA_PREFIX: &[u8] = b"-> ";
const MAC_PREFIX: &[u8] = b"---";
const BODY_COLUMNS: usize = 64;
/// The stanza sealcam adds to bind a header to its payload (by the payload
/// nonce). Other age implementations ignore stanzas they do not know.
pub(crate) const PAYLOAD_STANZA_TAG: &str = "sealcam-payload";
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

    /// The payload nonce named by sealcam's binding stanza, if present.
    pub(crate) fn payload_binding(&self) -> Result<Option<[u8; 16]>, OpenError> {
        let mut found = None;
        for s in self.stanzas.iter().filter(|s| s.tag == PAYLOAD_STANZA_TAG) {
            if found.is_some() || s.args.len() != 1 || !s.body.is_empty() {
                return Err(OpenError::Header("malformed sealcam-payload stanza"));
            }
            let nonce = decode_canonical(&s.args[0])
                .and_then(|v| <[u8; 16]>::try_from(v).ok())
                .ok_or(OpenError::Header("malformed sealcam-payload stanza"))?;
            found = Some(nonce);
        }
        Ok(found)
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

fn decode_canonical(s: &str) -> Option<Vec<u8>> {
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

fn hkdf32(ikm: &[u8], salt: &[u8], info: &[u8]) -> [u8; 32] {
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

/// Wraps `file_key` to every recipient and writes a complete header (with the
/// sealcam payload-binding stanza when `payload_nonce` is given).
pub(crate) fn write_header<'a>(
    file_key: &FileKey,
    recipients: impl Iterator<Item = &'a dyn age::Recipient>,
    payload_nonce: Option<&[u8; 16]>,
) -> Result<Vec<u8>, crate::SealError> {
    let mut stanzas = wrap(file_key, recipients)?;
    if let Some(nonce) = payload_nonce {
        stanzas.push(Stanza {
            tag: PAYLOAD_STANZA_TAG.into(),
            args: vec![B64.encode(nonce)],
            body: Vec::new(),
        });
    }
    Ok(write_stanzas(file_key, stanzas.iter()))
}

impl AgeHeader {
    /// Writes this header again with stanzas wrapping `file_key` to `added`:
    /// every existing stanza is kept as it is and in its place, the new ones
    /// go before the payload-binding stanza (at the end when there is none),
    /// and the MAC is computed afresh. `file_key` must be the one this
    /// header's stanzas wrap, its MAC verified ([`unwrap`](Self::unwrap)).
    pub(crate) fn write_adding<'a>(
        &self,
        file_key: &FileKey,
        added: impl Iterator<Item = &'a dyn age::Recipient>,
    ) -> Result<Vec<u8>, crate::SealError> {
        let added = wrap(file_key, added)?;
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
