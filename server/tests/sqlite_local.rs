//! The server's scenarios on the embedded default: SQLite + a local blob
//! directory. The same scenarios run on PostgreSQL + S3 in
//! `tests/postgres_s3.rs`; each binary's `test result` line is the summary
//! of its backend pair.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "scenarios/accounts.rs"]
mod accounts;
#[path = "scenarios/authz_matrix.rs"]
mod authz_matrix;
#[path = "scenarios/cameras.rs"]
mod cameras;
mod common;
#[path = "scenarios/events.rs"]
mod events;
#[path = "scenarios/operations.rs"]
mod operations;
#[path = "scenarios/recovery_credential.rs"]
mod recovery_credential;
#[path = "scenarios/set_key.rs"]
mod set_key;
#[path = "scenarios/storage.rs"]
mod storage;
#[path = "scenarios/stream.rs"]
mod stream;
#[path = "scenarios/trust_v2.rs"]
mod trust_v2;
#[path = "scenarios/validation.rs"]
mod validation;

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
    accounts::account_answers_and_a_link_token_enrolls_one_device,
    accounts::opaque_records_take_conditional_writes,
    accounts::a_removed_device_credential_stops_working_at_once,
    accounts::a_device_removed_while_downloading_is_refused_next,
    accounts::a_removed_devices_link_and_claim_tokens_die_with_it,
    accounts::a_device_removed_while_its_body_arrives_writes_nothing,
    cameras::a_camera_is_pending_until_confirmed,
    cameras::recipient_set_epochs_must_grow,
    cameras::a_shared_member_sees_events_only_while_shared,
    cameras::retention_removes_old_events_and_keeps_recent_ones,
    cameras::deleting_a_camera_deletes_its_events_credential_and_blobs,
    cameras::a_camera_deleted_mid_upload_fails_alone,
    events::events_list_newest_first_paged_by_the_minute,
    events::downloads_serve_whole_parts_and_ranges,
    events::a_header_rewrap_leaves_the_payload_untouched,
    events::deleting_an_event_deletes_its_parts_at_once,
    events::the_sweep_leaves_what_the_database_names,
    events::reupload_same_bytes_is_idempotent_and_different_bytes_conflict,
    events::concurrent_uploads_of_one_part_store_one_copy,
    operations::healthz_answers_ok_on_a_working_server,
    operations::metrics_count_requests_bytes_and_uploads,
    operations::failed_authentication_is_rate_limited,
    operations::rate_limit_follows_the_client_behind_a_trusted_proxy,
    operations::an_ipv6_client_is_limited_by_its_64_not_each_address,
    operations::overload_answers_503_with_retry_after,
    operations::graceful_shutdown_lets_an_inflight_upload_finish,
    // Local storage only: it breaks the blob directory on purpose.
    operations::healthz_fails_when_the_blob_store_does,
    authz_matrix::foreign_ids_answer_404_on_every_route,
    recovery_credential::recovery_credential_authenticates_as_the_account,
    recovery_credential::recovery_credential_is_registered_once,
    set_key::a_camera_publishes_its_set_key_to_its_owner_only,
    set_key::set_key_limits_are_refused_with_400,
    set_key::a_viewer_credential_may_not_publish_a_set_key,
    storage::blob_store_creates_once_and_streams_multipart,
    storage::sweep_and_upload_never_both_win,
    stream::a_watcher_hears_a_new_part_within_two_seconds,
    stream::another_household_hears_nothing_a_shared_one_does,
    stream::an_idempotent_retry_is_not_heard_again,
    stream::a_removed_devices_stream_ends,
    stream::a_removed_devices_quiet_stream_ends_at_its_next_keep_alive,
    stream::a_lagging_watcher_is_told_to_list_again,
    stream::a_stream_outlives_the_request_timeout_and_ends_at_its_limit,
    stream::shutdown_ends_open_streams,
    trust_v2::key_log_round_trips_with_conditional_writes,
    trust_v2::recipient_set_carries_the_key_log_and_supersede_replaces_any_epoch,
    trust_v2::a_camera_naming_its_place_gets_the_key_log_from_there,
    trust_v2::link_token_bound_to_a_viewer_key_enrolls_only_that_key,
    validation::oversized_and_malformed_uploads_are_refused,
    validation::unknown_kinds_and_malformed_ids_are_plain_404s,
    validation::camera_and_viewer_credentials_are_not_interchangeable,
    validation::bad_json_and_wrong_methods_get_the_error_shape,
);
