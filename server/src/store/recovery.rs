//! The rule of [`Database::register_recovery`], shared by both backends:
//! each reads the two facts inside its own transaction, then asks here.
//!
//! [`Database::register_recovery`]: crate::store::Database::register_recovery

use uuid::Uuid;

use super::RecoveryOutcome;

/// What `register_recovery` does, given what its transaction read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecoveryStep {
    /// Nothing to write; answer this.
    Answer(RecoveryOutcome),
    /// Create the recovery device.
    Create,
    /// Give the recovery device (this id) the new credential.
    Replace(Uuid),
}

/// The rule of `register_recovery`: `holder` is the device (id, account)
/// that already holds the presented credential, `recovery` the account's
/// recovery device.
pub(super) fn recovery_step(
    account_id: Uuid,
    caller_device: Uuid,
    holder: Option<(Uuid, Uuid)>,
    recovery: Option<Uuid>,
) -> RecoveryStep {
    if let Some((device, account)) = holder {
        return RecoveryStep::Answer(if account != account_id {
            RecoveryOutcome::OtherAccount
        } else if Some(device) == recovery {
            RecoveryOutcome::Unchanged
        } else {
            RecoveryOutcome::OtherDevice
        });
    }
    match recovery {
        None => RecoveryStep::Create,
        Some(id) if id == caller_device => RecoveryStep::Replace(id),
        Some(_) => RecoveryStep::Answer(RecoveryOutcome::NotRecoveryDevice),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recovery_device_replaces_the_recovery_credential() {
        let (account, other_account) = (Uuid::new_v4(), Uuid::new_v4());
        let (viewer, recovery, third) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let answer = RecoveryStep::Answer;
        // First registration, by any device of the account.
        assert_eq!(
            recovery_step(account, viewer, None, None),
            RecoveryStep::Create
        );
        // The same credential again, from anyone of the account: no-op.
        for caller in [viewer, recovery] {
            assert_eq!(
                recovery_step(account, caller, Some((recovery, account)), Some(recovery)),
                answer(RecoveryOutcome::Unchanged)
            );
        }
        // A new credential: only from the recovery device itself.
        assert_eq!(
            recovery_step(account, recovery, None, Some(recovery)),
            RecoveryStep::Replace(recovery)
        );
        assert_eq!(
            recovery_step(account, viewer, None, Some(recovery)),
            answer(RecoveryOutcome::NotRecoveryDevice)
        );
        // A credential some other device holds.
        assert_eq!(
            recovery_step(account, recovery, Some((third, account)), Some(recovery)),
            answer(RecoveryOutcome::OtherDevice)
        );
        assert_eq!(
            recovery_step(account, viewer, Some((viewer, account)), None),
            answer(RecoveryOutcome::OtherDevice)
        );
        assert_eq!(
            recovery_step(
                account,
                recovery,
                Some((third, other_account)),
                Some(recovery)
            ),
            answer(RecoveryOutcome::OtherAccount)
        );
    }
}
