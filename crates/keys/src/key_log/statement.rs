//! One key statement: building and signing a rotation or a reset, parsing
//! one, and checking its signature.

use crate::codec::{Reader, Writer};
use crate::{
    KeyStatementError, OwnerId, OwnerPublicKey, OwnerSigningKey, RootPublicKey, RootSigningKey,
};

use super::{
    check_magic, KeyStatement, OwnerKeyState, StatementKind, DOMAIN, MAGIC, SIG_LEN, STATEMENT_LEN,
};

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + body.len());
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(body);
    m
}
/// The place `(reset, generation)` a statement's bytes name, read without
/// decoding its keys ([`KeyLog::since_bytes`](super::KeyLog::since_bytes)).
pub(super) fn place(bytes: &[u8]) -> Result<(u64, u64), KeyStatementError> {
    use KeyStatementError::Malformed;
    let mut r = Reader::new(bytes);
    check_magic(&mut r, MAGIC, "not an owner key statement")?;
    if bytes.len() != STATEMENT_LEN {
        return Err(Malformed("wrong length"));
    }
    let short = |_| Malformed("truncated");
    // The owner id and the kind come first.
    r.take(16 + 1).map_err(short)?;
    Ok((r.u64().map_err(short)?, r.u64().map_err(short)?))
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

    pub(super) fn signed_by_root(&self, root: &RootPublicKey) -> bool {
        let (sig, body) = self.signature();
        root.verify_raw(&signed_message(body), &sig)
    }

    pub(super) fn signed_by_owner_key(&self, key: &OwnerPublicKey) -> bool {
        let (sig, body) = self.signature();
        key.verify_raw(&signed_message(body), &sig)
    }
}
