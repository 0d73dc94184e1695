//! What the camera reports as it works, to the observer.

use std::time::Duration;

use sealcam_keys::{EventId, KeyStatementError, RecipientSetError};
use sealcam_wire::PartKind;

use crate::spool::Loss;

/// Something the camera reports as it works (the SDK never prints).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Notice {
    /// A part reached the server (`created: false` when it was there already).
    Uploaded {
        /// The event.
        event: EventId,
        /// The part.
        kind: PartKind,
        /// Sealed bytes sent.
        bytes: u64,
        /// Whether this upload stored it (a retry of a stored part answers `false`).
        created: bool,
    },
    /// A part was sealed into the spool, to be uploaded later.
    Spooled {
        /// The event.
        event: EventId,
        /// The part.
        kind: PartKind,
        /// Sealed bytes kept.
        bytes: u64,
    },
    /// A part will never reach the server.
    Lost(Loss),
    /// The server is unreachable or overloaded; the next attempt is not before `after`.
    Retrying {
        /// The wait before the next attempt.
        after: Duration,
        /// What failed.
        why: String,
    },
    /// The server refuses this camera's credential (401) or the owner has not
    /// confirmed it yet (403); spooled parts wait.
    Blocked {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// A newer recipient set was accepted.
    RecipientSetUpdated {
        /// The previous epoch, if any.
        from: Option<u64>,
        /// The new epoch.
        to: u64,
    },
    /// A recipient set offered by the server was refused; the camera keeps
    /// sealing to its last good set (S4).
    RecipientSetRefused {
        /// Why.
        reason: RecipientSetError,
        /// The epoch still in use, if any.
        kept: Option<u64>,
    },
    /// The owner key the camera follows moved (a rotation signed by the
    /// previous owner key, or a reset signed by the root key, from the
    /// owner's key log). Sets signed by the previous key are refused from now
    /// on; the last good set stays in use until the owner's next set arrives.
    OwnerKeyChanged {
        /// `(reset, generation)` before.
        from: (u64, u64),
        /// `(reset, generation)` now.
        to: (u64, u64),
    },
    /// A statement of the owner's key log was refused, for a reason other
    /// than being older than the key held (the log keeps its history, so old
    /// entries are normal): a fork, a bad signature, another root key — signs
    /// of an attack on the owner's account or the server.
    KeyStatementRefused {
        /// Its index in the part of the log the server sent (from a
        /// current server, the statements from the owner key held on).
        index: usize,
        /// Why.
        reason: KeyStatementError,
    },
    /// The key log the server sent is malformed; nothing of it was used.
    KeyLogRefused {
        /// Why.
        reason: KeyStatementError,
    },
    /// The recipient set in use expired (the owner's devices did not renew
    /// it, or the server withholds the renewal): what is recorded now is
    /// sealed to the recovery key alone until a new set is accepted.
    RecipientSetExpired {
        /// The epoch of the expired set.
        epoch: u64,
        /// When it expired (unix seconds).
        expires_at: u64,
    },
    /// The owner key moved on (a rotation after a revocation, or a reset)
    /// since the set in use was accepted, and no set of the new key has
    /// arrived: what is recorded now is sealed to the recovery key alone, so
    /// a revoked viewer in the old set opens nothing more. A set of the
    /// first format (v1) names no recovery key: nothing is recorded while it
    /// is the set in use (`record` answers
    /// [`RecipientSetError::Legacy`](sealcam_keys::RecipientSetError::Legacy)).
    RecipientSetRetired {
        /// The epoch of the set in use.
        epoch: u64,
        /// `(reset, generation)` of the key that signed it.
        signed_under: (u64, u64),
        /// `(reset, generation)` of the owner key now.
        current: (u64, u64),
    },
}
