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

use serde::{Deserialize, Serialize};

use crate::codec::{Reader, Writer};
use crate::{
    KeyStatementError, OwnerId, OwnerPublicKey, OwnerSigningKey, RootPublicKey, RootSigningKey,
};

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

/// The owner key a camera or an owner device currently trusts, and where it
/// stands in the account's key history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OwnerKeyState {
    /// The account.
    pub owner: OwnerId,
    /// The owner signing key that signs recipient sets and the owner record.
    pub owner_key: OwnerPublicKey,
    /// The account's root key; `None` on a camera paired before trust v2,
    /// until the first rotation names it.
    pub root_key: Option<RootPublicKey>,
    /// How many resets the state went through (ordering: reset first).
    pub reset: u64,
    /// The owner key's generation under this reset.
    pub generation: u64,
}

/// What [`OwnerKeyState::apply`] did with a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The state moved to the statement's key.
    Adopted,
    /// The statement is the state already held (nothing to do).
    AlreadyHeld,
}

/// What following a whole log did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogReport {
    /// Statements adopted, in order: `(reset, generation, key)`.
    pub adopted: Vec<(u64, u64, OwnerPublicKey)>,
    /// Statements refused, with their index in the log and why. A refused
    /// statement changes nothing; the ones after it are still considered.
    pub refused: Vec<(usize, KeyStatementError)>,
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

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + body.len());
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(body);
    m
}

impl KeyStatement {
    fn body(
        kind: StatementKind,
        owner: OwnerId,
        reset: u64,
        generation: u64,
        owner_key: &OwnerPublicKey,
        root_key: &RootPublicKey,
        issued_at: u64,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(STATEMENT_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&owner.to_bytes());
        out.push(match kind {
            StatementKind::Rotation => 1,
            StatementKind::Reset => 2,
        });
        out.put_u64(reset);
        out.put_u64(generation);
        out.extend_from_slice(&owner_key.to_bytes());
        out.extend_from_slice(&root_key.to_bytes());
        out.put_u64(issued_at);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        kind: StatementKind,
        owner: OwnerId,
        reset: u64,
        generation: u64,
        owner_key: OwnerPublicKey,
        root_key: RootPublicKey,
        issued_at: u64,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Self {
        let mut bytes = Self::body(
            kind, owner, reset, generation, &owner_key, &root_key, issued_at,
        );
        let sig = sign(&signed_message(&bytes));
        bytes.extend_from_slice(&sig);
        Self {
            kind,
            owner,
            reset,
            generation,
            owner_key,
            root_key,
            issued_at,
            bytes,
        }
    }

    /// A rotation from `state` (whose owner key `current` is) to `next`:
    /// the next generation under the same reset. The state must know its
    /// root key (every rotation names it).
    pub fn rotation(
        state: &OwnerKeyState,
        current: &OwnerSigningKey,
        next: OwnerPublicKey,
        issued_at: u64,
    ) -> Result<Self, KeyStatementError> {
        if current.public() != state.owner_key {
            return Err(KeyStatementError::BadSignature);
        }
        let root = state.root_key.ok_or(KeyStatementError::NoRootKey)?;
        let generation = state
            .generation
            .checked_add(1)
            .ok_or(KeyStatementError::Overflow)?;
        Ok(Self::finish(
            StatementKind::Rotation,
            state.owner,
            state.reset,
            generation,
            next,
            root,
            issued_at,
            |m| current.sign_raw(m),
        ))
    }

    /// A reset signed with the root key: `owner_key` is the owner key from
    /// now on, at `reset` (which must be above every reset a camera holds).
    pub fn reset(
        owner: OwnerId,
        root: &RootSigningKey,
        reset: u64,
        generation: u64,
        owner_key: OwnerPublicKey,
        issued_at: u64,
    ) -> Self {
        Self::finish(
            StatementKind::Reset,
            owner,
            reset,
            generation,
            owner_key,
            root.public(),
            issued_at,
            |m| root.sign_raw(m),
        )
    }

    /// Parses one statement. Untrusted input: the length is exact, the keys
    /// are valid points; the signature is checked only by
    /// [`OwnerKeyState::apply`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyStatementError> {
        use KeyStatementError::Malformed;
        let mut r = Reader::new(bytes);
        check_magic(&mut r, MAGIC, "not an owner key statement")?;
        if bytes.len() != STATEMENT_LEN {
            return Err(Malformed("wrong length"));
        }
        let short = |_| Malformed("truncated");
        let owner = OwnerId::from_bytes(r.array().map_err(short)?);
        let kind = match r.u8().map_err(short)? {
            1 => StatementKind::Rotation,
            2 => StatementKind::Reset,
            _ => return Err(Malformed("unknown statement kind")),
        };
        let reset = r.u64().map_err(short)?;
        let generation = r.u64().map_err(short)?;
        let owner_key = OwnerPublicKey::from_bytes(&r.array().map_err(short)?)
            .map_err(|_| Malformed("invalid owner key"))?;
        let root_key = RootPublicKey::from_bytes(&r.array().map_err(short)?)
            .map_err(|_| Malformed("invalid root key"))?;
        let issued_at = r.u64().map_err(short)?;
        Ok(Self {
            kind,
            owner,
            reset,
            generation,
            owner_key,
            root_key,
            issued_at,
            bytes: bytes.to_vec(),
        })
    }

    /// The canonical bytes, signature included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// Rotation or reset.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }
    /// The account it names.
    pub fn owner(&self) -> OwnerId {
        self.owner
    }
    /// Its reset count.
    pub fn reset_count(&self) -> u64 {
        self.reset
    }
    /// Its generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }
    /// The owner key it names.
    pub fn owner_key(&self) -> OwnerPublicKey {
        self.owner_key
    }
    /// The root key it names.
    pub fn root_key(&self) -> RootPublicKey {
        self.root_key
    }
    /// When it was issued (unix seconds).
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    fn signature(&self) -> ([u8; 64], &[u8]) {
        let (body, sig) = self.bytes.split_at(STATEMENT_LEN - SIG_LEN);
        let mut s = [0u8; 64];
        s.copy_from_slice(sig);
        (s, body)
    }

    fn signed_by_root(&self, root: &RootPublicKey) -> bool {
        let (sig, body) = self.signature();
        root.verify_raw(&signed_message(body), &sig)
    }

    fn signed_by_owner_key(&self, key: &OwnerPublicKey) -> bool {
        let (sig, body) = self.signature();
        key.verify_raw(&signed_message(body), &sig)
    }
}

impl OwnerKeyState {
    /// The state a device pins from a pairing code or a link approval.
    pub fn new(
        owner: OwnerId,
        owner_key: OwnerPublicKey,
        root_key: Option<RootPublicKey>,
        reset: u64,
        generation: u64,
    ) -> Self {
        Self {
            owner,
            owner_key,
            root_key,
            reset,
            generation,
        }
    }

    /// The state of a device paired or set up before trust v2: only the
    /// owner key is known.
    pub fn legacy(owner: OwnerId, owner_key: OwnerPublicKey) -> Self {
        Self::new(owner, owner_key, None, 0, 0)
    }

    /// `(reset, generation)`: states are ordered by this pair.
    pub fn position(&self) -> (u64, u64) {
        (self.reset, self.generation)
    }

    /// Considers one statement: adopts it when it is the next step from this
    /// state and its signature verifies, and refuses it otherwise without
    /// changing anything.
    pub fn apply(&mut self, st: &KeyStatement) -> Result<Applied, KeyStatementError> {
        use KeyStatementError as E;
        if st.owner != self.owner {
            return Err(E::WrongOwner);
        }
        if let Some(root) = self.root_key {
            if st.root_key != root {
                return Err(E::OtherRootKey);
            }
        }
        let same = (st.reset, st.generation, st.owner_key)
            == (self.reset, self.generation, self.owner_key);
        match st.kind {
            StatementKind::Reset => {
                let root = self.root_key.ok_or(E::NoRootKey)?;
                if !st.signed_by_root(&root) {
                    return Err(E::BadSignature);
                }
                if st.reset <= self.reset {
                    return if same {
                        Ok(Applied::AlreadyHeld)
                    } else {
                        Err(E::Superseded {
                            statement: (st.reset, st.generation),
                            held: self.position(),
                        })
                    };
                }
            }
            StatementKind::Rotation => {
                if same {
                    return Ok(Applied::AlreadyHeld);
                }
                if st.reset < self.reset
                    || (st.reset == self.reset && st.generation < self.generation)
                {
                    return Err(E::Superseded {
                        statement: (st.reset, st.generation),
                        held: self.position(),
                    });
                }
                if st.reset == self.reset && st.generation == self.generation {
                    return Err(E::Fork {
                        reset: st.reset,
                        generation: st.generation,
                    });
                }
                if st.reset != self.reset || Some(st.generation) != self.generation.checked_add(1) {
                    return Err(E::Gap {
                        statement: (st.reset, st.generation),
                        held: self.position(),
                    });
                }
                if !st.signed_by_owner_key(&self.owner_key) {
                    return Err(E::BadSignature);
                }
            }
        }
        self.reset = st.reset;
        self.generation = st.generation;
        self.owner_key = st.owner_key;
        self.root_key = Some(st.root_key);
        Ok(Applied::Adopted)
    }

    /// Follows a whole log in order: every statement is considered, adopted
    /// when it is the next step, refused (and reported) otherwise.
    pub fn follow(&mut self, log: &KeyLog) -> LogReport {
        let mut report = LogReport::default();
        for (i, st) in log.statements().iter().enumerate() {
            match self.apply(st) {
                Ok(Applied::Adopted) => {
                    report
                        .adopted
                        .push((self.reset, self.generation, self.owner_key));
                }
                Ok(Applied::AlreadyHeld) => {}
                Err(e) => report.refused.push((i, e)),
            }
        }
        report
    }

    /// The state a device reaches from the root key alone (recovery): the
    /// first reset in the log that the root key signed, then everything that
    /// follows from it.
    pub fn from_root(
        owner: OwnerId,
        root: RootPublicKey,
        log: &KeyLog,
    ) -> Result<(Self, LogReport), KeyStatementError> {
        let start = log
            .statements()
            .iter()
            .position(|st| {
                st.kind == StatementKind::Reset
                    && st.owner == owner
                    && st.root_key == root
                    && st.signed_by_root(&root)
            })
            .ok_or(KeyStatementError::NoReset)?;
        let first = &log.statements()[start];
        let mut state = Self::new(
            owner,
            first.owner_key,
            Some(root),
            first.reset,
            first.generation,
        );
        let mut report = LogReport {
            adopted: vec![(state.reset, state.generation, state.owner_key)],
            refused: Vec::new(),
        };
        for (i, st) in log.statements().iter().enumerate().skip(start + 1) {
            match state.apply(st) {
                Ok(Applied::Adopted) => {
                    report
                        .adopted
                        .push((state.reset, state.generation, state.owner_key))
                }
                Ok(Applied::AlreadyHeld) => {}
                Err(e) => report.refused.push((i, e)),
            }
        }
        Ok((state, report))
    }
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
        let mut out = Vec::with_capacity(12 + self.statements.len() * (2 + STATEMENT_LEN));
        out.extend_from_slice(LOG_MAGIC);
        // `push` and `from_bytes` bound the count by MAX_LOG_ENTRIES.
        out.put_u32(self.statements.len() as u32);
        for st in &self.statements {
            // A statement is STATEMENT_LEN bytes, well under u16::MAX.
            out.put_u16(st.bytes.len() as u16);
            out.extend_from_slice(&st.bytes);
        }
        out
    }

    /// Parses a log. Untrusted input: each statement is parsed (not
    /// verified), counts and lengths are checked, trailing bytes refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyStatementError> {
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
            statements.push(KeyStatement::from_bytes(r.take(len).map_err(short)?)?);
        }
        if !r.is_empty() {
            return Err(Malformed("trailing bytes"));
        }
        Ok(Self { statements })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecoveryKey;

    struct Account {
        owner: OwnerId,
        root: RootSigningKey,
        k0: OwnerSigningKey,
        log: KeyLog,
        state: OwnerKeyState,
    }

    fn account() -> Account {
        let owner = OwnerId::random();
        let root = RecoveryKey::generate().root_key();
        let k0 = OwnerSigningKey::generate();
        let genesis = KeyStatement::reset(owner, &root, 1, 0, k0.public(), 10);
        let mut log = KeyLog::new();
        log.push(genesis).unwrap();
        let state = OwnerKeyState::new(owner, k0.public(), Some(root.public()), 1, 0);
        Account {
            owner,
            root,
            k0,
            log,
            state,
        }
    }

    #[test]
    fn rotation_then_old_key_is_useless() {
        let a = account();
        let k1 = OwnerSigningKey::generate();
        let rot = KeyStatement::rotation(&a.state, &a.k0, k1.public(), 11).unwrap();
        let mut camera = a.state;
        assert_eq!(camera.apply(&rot), Ok(Applied::Adopted));
        assert_eq!(camera.owner_key, k1.public());
        assert_eq!(camera.position(), (1, 1));
        // The revoked device (k0) tries its own rotation at the same generation.
        let evil = OwnerSigningKey::generate();
        let forged = KeyStatement::rotation(&a.state, &a.k0, evil.public(), 12).unwrap();
        assert_eq!(
            camera.apply(&forged),
            Err(KeyStatementError::Fork {
                reset: 1,
                generation: 1
            })
        );
        // ... or one generation further, still signed by k0.
        let mut pretend = camera;
        pretend.owner_key = a.k0.public();
        let further = KeyStatement::rotation(&pretend, &a.k0, evil.public(), 13).unwrap();
        assert_eq!(camera.apply(&further), Err(KeyStatementError::BadSignature));
        assert_eq!(camera.owner_key, k1.public());
    }

    #[test]
    fn reset_wins_over_a_hijack() {
        let a = account();
        let evil = OwnerSigningKey::generate();
        // The attacker rotates first, many generations up.
        let mut camera = a.state;
        let mut attacker_state = a.state;
        let mut signer = a.k0.clone();
        for t in 0..5 {
            let next = if t == 0 {
                evil.clone()
            } else {
                OwnerSigningKey::generate()
            };
            let st = KeyStatement::rotation(&attacker_state, &signer, next.public(), 20).unwrap();
            assert_eq!(camera.apply(&st), Ok(Applied::Adopted));
            attacker_state.apply(&st).unwrap();
            signer = next;
        }
        assert_eq!(camera.position(), (1, 5));
        let fresh = OwnerSigningKey::generate();
        let reset = KeyStatement::reset(a.owner, &a.root, 2, 0, fresh.public(), 30);
        assert_eq!(camera.apply(&reset), Ok(Applied::Adopted));
        assert_eq!(camera.owner_key, fresh.public());
        assert_eq!(camera.position(), (2, 0));
        // The attacker's key can no longer rotate anything.
        let again = KeyStatement::rotation(&attacker_state, &signer, evil.public(), 31).unwrap();
        assert!(matches!(
            camera.apply(&again),
            Err(KeyStatementError::Superseded { .. })
        ));
        // A reset not signed by the root key is refused.
        let fake_root = RecoveryKey::generate().root_key();
        let fake = KeyStatement::reset(a.owner, &fake_root, 9, 0, evil.public(), 32);
        assert_eq!(camera.apply(&fake), Err(KeyStatementError::OtherRootKey));
    }

    #[test]
    fn legacy_camera_learns_the_root_key_from_its_first_rotation() {
        let a = account();
        let mut legacy = OwnerKeyState::legacy(a.owner, a.k0.public());
        let k1 = OwnerSigningKey::generate();
        let upgrade = OwnerKeyState {
            root_key: Some(a.root.public()),
            ..legacy
        };
        let rot = KeyStatement::rotation(&upgrade, &a.k0, k1.public(), 11).unwrap();
        assert_eq!(
            legacy.apply(&KeyStatement::reset(
                a.owner,
                &a.root,
                1,
                0,
                a.k0.public(),
                1
            )),
            Err(KeyStatementError::NoRootKey)
        );
        assert_eq!(legacy.apply(&rot), Ok(Applied::Adopted));
        assert_eq!(legacy.root_key, Some(a.root.public()));
    }

    #[test]
    fn log_round_trip_follow_and_from_root() {
        let mut a = account();
        let k1 = OwnerSigningKey::generate();
        let rot = KeyStatement::rotation(&a.state, &a.k0, k1.public(), 11).unwrap();
        a.log.push(rot).unwrap();
        let bytes = a.log.to_bytes();
        let back = KeyLog::from_bytes(&bytes).unwrap();
        assert_eq!(back, a.log);
        assert!(back.extends(&KeyLog::new()));
        let mut camera = a.state;
        let report = camera.follow(&back);
        assert_eq!(report.adopted, vec![(1, 1, k1.public())]);
        assert!(report.refused.is_empty());
        let (state, _) = OwnerKeyState::from_root(a.owner, a.root.public(), &back).unwrap();
        assert_eq!(state, camera);
        // Truncated, trailing, too short.
        assert!(KeyLog::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(KeyLog::from_bytes(&longer).is_err());
        assert!(KeyStatement::from_bytes(&back.statements()[0].as_bytes()[..100]).is_err());
    }

    #[test]
    fn rotation_arithmetic_is_checked() {
        let a = account();
        let top = OwnerKeyState {
            generation: u64::MAX,
            ..a.state
        };
        assert_eq!(
            KeyStatement::rotation(&top, &a.k0, a.k0.public(), 1),
            Err(KeyStatementError::Overflow)
        );
    }
}
