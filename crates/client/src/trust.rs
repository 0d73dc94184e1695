//! Following and moving the owner key (owner trust v2; docs/PROTOCOL.md
//! "Owner trust v2").
//!
//! The account's key log (`/v1/account/key-log`) says which owner signing key
//! is current. Every owner device follows it from the state it pinned
//! ([`Client::sync_trust`]); revoking a viewer *rotates* the key
//! ([`Client::rotate_owner_key`]), so the revoked device's copy signs nothing
//! a camera takes any more; recovery *resets* it with the root key, which only
//! the recovery key derives.

use std::collections::HashSet;

use sealcam_keys::{
    KeyLog, KeyStatement, KeyStatementError, OwnerKeyBundle, OwnerKeyState, OwnerSigningKey,
    RecoveryKey, ViewerRecipient,
};
use serde::Serialize;
use uuid::Uuid;

use crate::api::{Precondition, Record};
use crate::client::Client;
use crate::error::{ClientError, Result};
use crate::home::{followed, Device, HeldKey};
use crate::record::OwnerRecord;
use crate::time::unix_now;

/// What following the key log did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrustReport {
    /// `(reset, generation)` before and after, when the owner key moved.
    pub moved: Option<((u64, u64), (u64, u64))>,
    /// Log entries refused for another reason than being history: a fork, a
    /// bad signature, another root key — signs that someone holding an old
    /// owner key tried to move it.
    pub warnings: Vec<String>,
    /// A revocation (or unshare) this device had started and did not
    /// complete, finished now ([`Client::finish_revocation`]).
    pub finished: Option<crate::Finished>,
    /// Why such a revocation could not be finished now (every
    /// [`Client::connect`] tries again).
    pub unfinished: Option<String>,
}

/// A server device that no viewer of the owner record holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrunedDevice {
    /// Its id on the server.
    pub device_id: Uuid,
    /// Its name there.
    pub name: String,
}

fn untrusted_log(reason: impl Into<String>) -> ClientError {
    ClientError::Untrusted {
        what: "key log",
        reason: reason.into(),
    }
}

fn statement_error(e: KeyStatementError) -> ClientError {
    untrusted_log(e.to_string())
}

/// The key log of a legacy account (set up before owner trust v2) moving to
/// v2: a rotation signed by the legacy owner key, which names the root key
/// (so cameras paired before v2 learn it), then a reset signed by the root
/// key and numbered `reset`, which anchors the log for devices that start
/// from the root key.
pub(crate) fn upgrade_log(
    legacy: &OwnerKeyState,
    legacy_key: &OwnerSigningKey,
    recovery: &RecoveryKey,
    next: &OwnerSigningKey,
    reset: u64,
) -> Result<(KeyLog, OwnerKeyState)> {
    let root = recovery.root_key();
    let now = unix_now().max(0) as u64;
    let with_root = OwnerKeyState {
        root_key: Some(root.public()),
        ..*legacy
    };
    let rotation = KeyStatement::rotation(&with_root, legacy_key, next.public(), now)
        .map_err(statement_error)?;
    let reset = KeyStatement::reset(legacy.owner, &root, reset, 0, next.public(), now);
    let mut state = *legacy;
    let mut log = KeyLog::new();
    for st in [rotation, reset] {
        state.apply(&st).map_err(statement_error)?;
        log.push(st).map_err(statement_error)?;
    }
    Ok((log, state))
}

/// The most refused statements named one by one in a [`TrustReport`]; a log
/// a server stuffed with junk gets the rest counted in one line.
const NAMED_REFUSALS: usize = 3;

/// One warning per statement the device refused (a statement older than the
/// key it holds is no news), the rest counted after [`NAMED_REFUSALS`].
fn refusal_warnings(refused: &[(usize, KeyStatementError)]) -> Vec<String> {
    let news: Vec<_> = refused
        .iter()
        .filter(|(_, e)| !matches!(e, KeyStatementError::Superseded { .. }))
        .collect();
    let mut warnings: Vec<String> = news
        .iter()
        .take(NAMED_REFUSALS)
        .map(|(i, e)| format!("owner key statement {i} refused: {e}"))
        .collect();
    if news.len() > NAMED_REFUSALS {
        warnings.push(format!(
            "{} more owner key statements refused",
            news.len() - NAMED_REFUSALS
        ));
    }
    warnings
}

/// The key log as the server holds it, and what of it this device follows.
pub(crate) struct ServedLog {
    /// The whole log (what a rotation appends to).
    pub log: KeyLog,
    /// Its chain from this device's root key ([`followed`]), computed once.
    pub chain: KeyLog,
    /// The record's ETag.
    pub etag: String,
}

impl Client {
    /// Reads the account's key log: `None` for an account set up before
    /// owner trust v2. Refused when it drops or rewrites statements this
    /// device saw before.
    pub(crate) async fn key_log(&self) -> Result<Option<ServedLog>> {
        let Some((bytes, etag)) = self.api().get_record(Record::KeyLog).await? else {
            if self.home().cached_key_log()?.is_some() {
                return Err(untrusted_log(
                    "the server has none, but this device followed one before",
                ));
            }
            return Ok(None);
        };
        let log = KeyLog::from_bytes(&bytes).map_err(statement_error)?;
        let state = self.device().info.key_state();
        let chain = followed(&log, &state);
        if state.root_key.is_some() && chain.statements().is_empty() {
            return Err(untrusted_log(
                "no statement in it is a reset the account's root key signed",
            ));
        }
        if let Some(cached) = self.home().cached_key_log()? {
            if !chain.extends(&followed(&cached, &state)) {
                return Err(untrusted_log(
                    "it drops or rewrites owner key statements this device saw before",
                ));
            }
        }
        Ok(Some(ServedLog { log, chain, etag }))
    }

    /// Follows the key log from the owner key this device pins. When the
    /// key moved (a rotation after a revocation elsewhere, or a recovery),
    /// takes the new key from the owner key bundle, which must hold exactly
    /// it and be sealed to this device: a revoked device, or one whose
    /// account was taken over, is told so.
    pub async fn sync_trust(&mut self) -> Result<TrustReport> {
        let Some(served) = self.key_log().await? else {
            return Ok(TrustReport::default());
        };
        let before = self.device().info.key_state();
        // The device follows the chain from the root key only: a rotation
        // the server put before the root's first reset (signed by a key a
        // revoked device kept, while this device is behind) moves nothing.
        // The whole log is read too, to warn of what was refused.
        let mut state = before;
        let walked = state.follow(&served.chain);
        let mut off_chain = before;
        let whole = off_chain.follow(&served.log);
        let mut warnings = refusal_warnings(&whole.refused);
        if off_chain != state {
            warnings.push(format!(
                "the key log has owner key statements off the chain from the root key (they lead to reset {}, generation {}); they are not followed",
                off_chain.reset, off_chain.generation
            ));
        }
        let mut report = TrustReport {
            moved: None,
            finished: None,
            unfinished: None,
            warnings,
        };
        // What cameras' objects are checked against: the key held before (a
        // device from an earlier release notes it here first) and, once the
        // new key's bundle opened, every step to it, noted before device.json
        // names the new key so that a crash in between loses none.
        if state != before {
            report.moved = Some((before.position(), state.position()));
            let key = self.owner_key_for(&state).await?;
            self.home()
                .note_held_keys(&HeldKey::path(&before, &walked.adopted))?;
            *self = self.adopt(self.device().holding(state, key))?;
        } else {
            self.home().note_held_keys(&[HeldKey::of(&before)])?;
        }
        // A device that learned its root key just now keeps the chain from it.
        if state.root_key == before.root_key {
            self.home().cache_chain(&served.chain)?;
        } else {
            self.home().cache_key_log(&served.log, &state)?;
        }
        Ok(report)
    }

    /// The secret of the owner key `state` names: from this device's own
    /// interrupted rotation, else from the owner key bundle.
    async fn owner_key_for(&self, state: &OwnerKeyState) -> Result<OwnerSigningKey> {
        if let Some(pending) = self.home().pending_owner_key()? {
            if pending.public() == state.owner_key {
                return Ok(pending);
            }
        }
        let hijack = format!(
            "the owner key moved to reset {}, generation {}, and the key bundle that holds it is not sealed to this device: this device was revoked — or, if nobody in this household revoked it, someone took over the account; then run `sealcam recover --revoke-others` with the recovery key",
            state.reset, state.generation
        );
        let Some((sealed, _)) = self.api().get_record(Record::KeyBundle).await? else {
            return Err(ClientError::Untrusted {
                what: "owner key bundle",
                reason: hijack,
            });
        };
        match OwnerKeyBundle::open_as_viewer(
            &sealed,
            &self.device().viewer,
            state.owner,
            &state.owner_key,
        ) {
            Ok(b) => Ok(b.signing_key().clone()),
            Err(_) => Err(ClientError::Untrusted {
                what: "owner key bundle",
                reason: hijack,
            }),
        }
    }

    /// Rotates the owner key to `next` (after a revocation): appends a
    /// rotation signed by the current key to the key log, seals `next` in a
    /// bundle to `recipients` only, and returns a client that holds it. The
    /// previous key signs nothing a camera takes once the camera followed
    /// the log.
    pub(crate) async fn rotate_owner_key(
        &self,
        next: OwnerSigningKey,
        recipients: &[ViewerRecipient],
    ) -> Result<Client> {
        let state = self.device().info.key_state();
        let upgrade_first = || {
            ClientError::BadInput(
                "this account was set up before owner keys could rotate; run `sealcam trust upgrade` once (it asks for the recovery key), then try again".into(),
            )
        };
        if state.root_key.is_none() {
            return Err(upgrade_first());
        }
        let Some(ServedLog { mut log, etag, .. }) = self.key_log().await? else {
            return Err(upgrade_first());
        };
        let now = unix_now().max(0) as u64;
        let statement =
            KeyStatement::rotation(&state, &self.device().owner_key, next.public(), now)
                .map_err(statement_error)?;
        let mut moved = state;
        moved.apply(&statement).map_err(statement_error)?;
        log.push(statement).map_err(statement_error)?;
        let bundle = OwnerKeyBundle::rotated(state.owner, next);
        self.install_owner_key(&log, Precondition::IfMatch(etag), moved, bundle, recipients)
            .await
    }

    /// Makes the owner key `bundle` holds current: keeps it locally first
    /// (if anything below fails, this device still holds the key the log
    /// names: `owner_key_for`), writes the key log that names it at `moved`,
    /// seals the bundle to `recipients`, and returns a client holding it.
    async fn install_owner_key(
        &self,
        log: &KeyLog,
        log_precondition: Precondition,
        moved: OwnerKeyState,
        bundle: OwnerKeyBundle,
        recipients: &[ViewerRecipient],
    ) -> Result<Client> {
        let key = bundle.signing_key().clone();
        self.home().save_pending_owner_key(&key)?;
        self.api()
            .put_record(Record::KeyLog, log.to_bytes(), log_precondition)
            .await?;
        self.home().cache_key_log(log, &moved)?;
        self.api()
            .put_record(
                Record::KeyBundle,
                bundle.seal(recipients)?,
                Precondition::None,
            )
            .await?;
        self.adopt(self.device().holding(moved, key))
    }

    /// Saves `device` as this home's device and returns a client for it.
    pub(crate) fn adopt(&self, device: Device) -> Result<Client> {
        self.home().save_device(&device)?;
        self.home().remove_pending_owner_key()?;
        Client::from_parts(self.home().clone(), device)
    }

    /// Deletes every server credential of the account that no viewer of
    /// `record` holds — spare credentials a revoked device minted, devices the
    /// record does not name — and withdraws unused link tokens. This device
    /// and the recovery credential stay.
    pub async fn prune_credentials(&self, record: &OwnerRecord) -> Result<Vec<PrunedDevice>> {
        // Unused link tokens first: one minted by a revoked device would
        // otherwise enroll a fresh credential after this.
        self.api().withdraw_links().await?;
        let keep: HashSet<Uuid> = record
            .viewers
            .iter()
            .filter_map(|v| v.device_id)
            .chain(std::iter::once(self.device().info.device_id))
            .collect();
        let mut pruned = Vec::new();
        for d in self.api().devices().await?.devices {
            if d.recovery || keep.contains(&d.device_id) {
                continue;
            }
            match self.api().delete_device(d.device_id).await {
                Ok(()) | Err(ClientError::NotFound { .. }) => pruned.push(PrunedDevice {
                    device_id: d.device_id,
                    name: d.name,
                }),
                Err(e) => return Err(e),
            }
        }
        Ok(pruned)
    }

    /// Moves an account set up before owner trust v2 to v2 (needs the
    /// recovery key once): a new owner key, a key log that legacy cameras
    /// and new devices both follow, a new bundle, and new recipient sets.
    /// This client holds the new owner key afterwards.
    pub async fn upgrade_trust(&mut self, recovery: &RecoveryKey) -> Result<()> {
        if self.key_log().await?.is_some() {
            return Err(ClientError::BadInput(
                "this account already uses owner trust v2".into(),
            ));
        }
        let mut handle = self.record().await?;
        if handle.record.recovery != recovery.to_public() {
            return Err(ClientError::BadInput(
                "this is not the account's recovery key".into(),
            ));
        }
        let legacy = self.device().info.key_state();
        let next = OwnerSigningKey::generate();
        let (log, state) = upgrade_log(&legacy, &self.device().owner_key, recovery, &next, 1)?;
        let bundle = OwnerKeyBundle::new(state.owner, next, recovery);
        *self = self
            .install_owner_key(
                &log,
                Precondition::IfAbsent,
                state,
                bundle,
                &handle.record.owner_recipients(),
            )
            .await?;
        self.publish_all_sets(&mut handle.record).await?;
        self.save_record(&mut handle).await?;
        Ok(())
    }
}
