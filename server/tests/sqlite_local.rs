//! The server's scenarios on the embedded default: SQLite + a local blob
//! directory. The same scenarios run on PostgreSQL + S3 in
//! `tests/postgres_s3.rs`; each binary's `test result` line is the summary
//! of its backend pair.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "scenarios/api.rs"]
mod api;
#[path = "scenarios/authz_matrix.rs"]
mod authz_matrix;
mod common;
#[path = "scenarios/recovery_credential.rs"]
mod recovery_credential;
#[path = "scenarios/storage.rs"]
mod storage;
#[path = "scenarios/trust_v2.rs"]
mod trust_v2;

/// One `#[tokio::test]` per scenario, on this binary's backend pair.
macro_rules! scenarios {
    ($backend:expr; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                $module::$name($backend).await;
            }
        )*
    };
}

scenarios!(common::Backend::SqliteLocal;
    api::account_pairing_upload_list_download_delete_retention,
    api::reupload_same_bytes_is_idempotent_and_different_bytes_conflict,
    api::limits_and_validation,
    api::failed_authentication_is_rate_limited,
    api::rate_limit_follows_the_client_behind_a_trusted_proxy,
    api::overload_answers_503_with_retry_after,
    api::graceful_shutdown_lets_an_inflight_upload_finish,
    // Local storage only: it breaks the blob directory on purpose.
    api::healthz_fails_when_the_blob_store_does,
    authz_matrix::foreign_ids_answer_404_on_every_route,
    recovery_credential::recovery_credential_authenticates_as_the_account,
    recovery_credential::recovery_credential_is_registered_once,
    storage::blob_store_creates_once_and_streams_multipart,
    storage::sweep_and_upload_never_both_win,
    trust_v2::key_log_round_trips_with_conditional_writes,
    trust_v2::recipient_set_carries_the_key_log_and_supersede_replaces_any_epoch,
    trust_v2::link_token_bound_to_a_viewer_key_enrolls_only_that_key,
);
