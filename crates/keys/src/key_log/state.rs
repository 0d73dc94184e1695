//! The owner key state a device follows: applying one statement, following
//! a whole log, and starting again from the root key alone.

use serde::{Deserialize, Serialize};

use crate::{KeyStatementError, OwnerId, OwnerPublicKey, RootPublicKey};

use super::{KeyLog, KeyStatement, StatementKind};

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
    /// Where each adopted statement stands in the log (parallel to
    /// `adopted`).
    pub adopted_at: Vec<usize>,
    /// Statements refused, with their index in the log and why. A refused
    /// statement changes nothing; the ones after it are still considered.
    pub refused: Vec<(usize, KeyStatementError)>,
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
                    report.adopted_at.push(i);
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
            adopted_at: vec![start],
            refused: Vec::new(),
        };
        for (i, st) in log.statements().iter().enumerate().skip(start + 1) {
            match state.apply(st) {
                Ok(Applied::Adopted) => {
                    report
                        .adopted
                        .push((state.reset, state.generation, state.owner_key));
                    report.adopted_at.push(i);
                }
                Ok(Applied::AlreadyHeld) => {}
                Err(e) => report.refused.push((i, e)),
            }
        }
        Ok((state, report))
    }
}
