//! Owner key statements, the key log and the owner key state (owner trust v2).
//!
//! The owner signing key is no longer fixed for the life of an account. It
//! *rotates* when a viewer device is revoked, and the recovery key can
//! *reset* it at any time. Both are signed [`KeyStatement`]s, kept in order
//! in the account's [`KeyLog`] (an opaque record on the server, handed to
//! cameras with their recipient set). A camera or owner device follows the
//! log from the [`OwnerKeyState`] it pinned:
//!
//! - a **rotation** `(reset r, generation g + 1, key K')` is signed by the
//!   owner key of generation `g` under the same reset `r`;
//! - a **reset** `(reset r' > r, generation g', key K')` is signed by the
//!   account's root key ([`RootSigningKey`](crate::RootSigningKey), derived from
//!   the recovery key). It wins over any rotation, whatever its generation:
//!   states are ordered by `(reset, generation)`.
//!
//! So a device that was revoked — and kept the owner key of its time — can
//! sign nothing a camera takes once the camera has seen the rotation that
//! followed it, and the recovery key undoes any rotation it raced in first.
//!
//! Statement layout (little-endian), 177 bytes:
//!
//! ```text
//! magic       8  "SCKEYS\0\1"
//! owner      16
//! kind        1  1 = rotation, 2 = reset
//! reset       8  u64
//! generation  8  u64
//! owner_key  32  the owner signing key from this statement on
//! root_key   32  the account's root key
//! issued_at   8  u64 unix seconds
//! signature  64  Ed25519 over DOMAIN ‖ all bytes above: by the previous
//!                owner key (rotation) or by the root key (reset)
//! ```
//!
//! Log layout: `"SCKLOG\0\1" ‖ count u32 ‖ count × (len u16 ‖ statement)`.

mod state;
mod statement;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::codec::{Reader, Writer};
use crate::{KeyStatementError, OwnerId, OwnerPublicKey, RootPublicKey};

pub use state::{Applied, LogReport, OwnerKeyState};

const MAGIC: &[u8; 8] = b"SCKEYS\x00\x01";
const DOMAIN: &[u8] = b"sealcam owner key statement v1\x00";
const LOG_MAGIC: &[u8; 8] = b"SCKLOG\x00\x01";
const SIG_LEN: usize = 64;
/// The length of one statement.
pub const STATEMENT_LEN: usize = 8 + 16 + 1 + 8 + 8 + 32 + 32 + 8 + SIG_LEN;
/// The most statements a key log may hold (about 720 KiB).
pub const MAX_LOG_ENTRIES: usize = 4096;

/// What a statement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// The owner key of the previous generation hands over to a new one.
    Rotation,
    /// The root key (the recovery key) names the owner key, above any rotation.
    Reset,
}

/// A parsed key statement whose signature has **not** been checked: only
/// [`OwnerKeyState::apply`] decides whether it counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStatement {
    kind: StatementKind,
    owner: OwnerId,
    reset: u64,
    generation: u64,
    owner_key: OwnerPublicKey,
    root_key: RootPublicKey,
    issued_at: u64,
    bytes: Vec<u8>,
}

/// Reads a magic: its first seven bytes name the document, the last its
/// version.
fn check_magic(
    r: &mut Reader<'_>,
    magic: &[u8; 8],
    not_it: &'static str,
) -> Result<(), KeyStatementError> {
    let got = r
        .array::<8>()
        .map_err(|_| KeyStatementError::Malformed("too short"))?;
    if got[..7] != magic[..7] {
        return Err(KeyStatementError::Malformed(not_it));
    }
    if got[7] != magic[7] {
        return Err(KeyStatementError::UnsupportedVersion(got[7]));
    }
    Ok(())
}

/// The account's key statements, in the order they were written. Owner
/// devices only ever append to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyLog {
    statements: Vec<KeyStatement>,
}

impl KeyLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The statements, oldest first.
    pub fn statements(&self) -> &[KeyStatement] {
        &self.statements
    }

    /// Appends a statement.
    pub fn push(&mut self, st: KeyStatement) -> Result<(), KeyStatementError> {
        if self.statements.len() >= MAX_LOG_ENTRIES {
            return Err(KeyStatementError::Malformed("the key log is full"));
        }
        self.statements.push(st);
        Ok(())
    }

    /// What a holder of the owner key at place `held` (`(reset,
    /// generation)`) may still need from this log: every statement naming
    /// `held` or a later place, in log order. A statement before `held` can
    /// only be one the holder is past ([`OwnerKeyState::apply`] adopts a
    /// rotation only at the next generation and a reset only above the reset
    /// held), so following this part moves it exactly as far as following
    /// the whole log would. The statements at `held` are kept so that a fork
    /// of the key held is still seen, and reported.
    ///
    /// There is no cap: with one (512 statements at first), a device that
    /// wrote 511 copies of the statement naming the key it held, before its
    /// revocation, filled every answer, and the cameras never saw the
    /// revocation's rotation nor the owner's reset (found by review).
    pub fn since(&self, held: (u64, u64)) -> KeyLog {
        let statements = self
            .statements
            .iter()
            .filter(|st| (st.reset, st.generation) >= held)
            .cloned()
            .collect();
        KeyLog { statements }
    }

    /// [`since`](Self::since) on a log's bytes, reading only the framing and
    /// each statement's place: no key is decoded. For a full log (4,096
    /// statements, 716 KiB) that is 30-66 µs against 34-35 ms for
    /// [`from_bytes`](Self::from_bytes), which decompresses two points per
    /// statement (release build, this machine), at every camera's sync.
    ///
    /// The server answers a camera with this part: one that follows
    /// regularly gets a statement or two, not the whole log, which grows
    /// with every revocation and unshare. Untrusted input: counts and
    /// lengths are checked, trailing bytes refused; the statements are
    /// copied as they are, and whoever follows them parses and verifies each.
    pub fn since_bytes(bytes: &[u8], held: (u64, u64)) -> Result<Vec<u8>, KeyStatementError> {
        let mut kept = Vec::new();
        for st in framed(bytes)? {
            if statement::place(st)? >= held {
                kept.push(st);
            }
        }
        Ok(frame(&kept))
    }

    /// The statements that carry the owner key from the root key's first
    /// reset on, in log order: each one verified against the key before it
    /// ([`OwnerKeyState::from_root`]). Empty when no reset in the log is
    /// the root key's.
    ///
    /// This is what an owner device keeps of a log to see that the server
    /// never rewrites the history it followed. Statements that do not verify
    /// count for nobody, so they are left out: a server that stuffs the log
    /// with them cannot make a device keep them, and once it serves the
    /// honest log again the device takes it.
    pub fn chain(&self, owner: OwnerId, root: RootPublicKey) -> KeyLog {
        let statements = match OwnerKeyState::from_root(owner, root, self) {
            Ok((_, report)) => report
                .adopted_at
                .iter()
                .map(|&i| self.statements[i].clone())
                .collect(),
            Err(_) => Vec::new(),
        };
        KeyLog { statements }
    }

    /// Whether `older` is a prefix of this log (the log only grows).
    pub fn extends(&self, older: &KeyLog) -> bool {
        older.statements.len() <= self.statements.len()
            && older
                .statements
                .iter()
                .zip(&self.statements)
                .all(|(a, b)| a.bytes == b.bytes)
    }

    /// The canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let statements: Vec<&[u8]> = self.statements.iter().map(|st| &st.bytes[..]).collect();
        frame(&statements)
    }

    /// Parses a log. Untrusted input: each statement is parsed (not
    /// verified), counts and lengths are checked, trailing bytes refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyStatementError> {
        let statements = framed(bytes)?
            .into_iter()
            .map(KeyStatement::from_bytes)
            .collect::<Result<_, _>>()?;
        Ok(Self { statements })
    }
}

/// The bytes of each statement of the log `bytes`, unparsed. Untrusted
/// input: the magic, the count (at most [`MAX_LOG_ENTRIES`]) and every
/// length are checked, trailing bytes refused.
fn framed(bytes: &[u8]) -> Result<Vec<&[u8]>, KeyStatementError> {
    use KeyStatementError::Malformed;
    let mut r = Reader::new(bytes);
    check_magic(&mut r, LOG_MAGIC, "not a key log")?;
    let short = |_| Malformed("truncated");
    let count = r.u32().map_err(short)? as usize;
    if count > MAX_LOG_ENTRIES {
        return Err(Malformed("too many statements"));
    }
    let mut statements = Vec::with_capacity(count);
    for _ in 0..count {
        let len = r.u16().map_err(short)? as usize;
        statements.push(r.take(len).map_err(short)?);
    }
    if !r.is_empty() {
        return Err(Malformed("trailing bytes"));
    }
    Ok(statements)
}

/// A log of `statements` (each a statement's bytes), framed as
/// [`framed`] reads it.
fn frame(statements: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + statements.len() * (2 + STATEMENT_LEN));
    out.extend_from_slice(LOG_MAGIC);
    // `push` and `framed` bound the count by MAX_LOG_ENTRIES.
    out.put_u32(statements.len() as u32);
    for st in statements {
        // A statement is STATEMENT_LEN bytes, or was read with a u16 length.
        out.put_u16(st.len() as u16);
        out.extend_from_slice(st);
    }
    out
}
