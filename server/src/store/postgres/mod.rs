//! The PostgreSQL implementation of [`Database`] (scale-out: several
//! stateless server replicas share one database).
//!
//! Native `UUID`, `BIGINT` and `BYTEA` columns; the default `READ COMMITTED`
//! isolation, with every multi-statement write in one transaction whose
//! conditions are re-checked by the statement that writes (`DELETE …
//! RETURNING`, `INSERT … ON CONFLICT`, `UPDATE … WHERE`). The orphan sweep and
//! the recording of a part serialise per blob key on a transaction-scoped
//! advisory lock. Retention batches are picked with `FOR UPDATE SKIP LOCKED`,
//! so replicas running it at once share the work instead of queueing.
//! Migrations run at start under sqlx's migration lock (an advisory lock), so
//! replicas may start together. Queries use sqlx's runtime API: no database is
//! needed to build.
//!
//! This file opens the database and answers the [`Database`] trait by
//! handing each method to its domain: `accounts` (accounts, devices,
//! one-time tokens, records), `cameras` (cameras, recipient sets, shares),
//! `events` (events and parts, the download query), `sweep`
//! (retention, the orphan sweep and its tombstones) and `notify` (new parts
//! announced to every replica, for the event streams).

use std::borrow::Cow;
use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use sealcam_wire::{CameraRole, PartKind};
use sqlx::error::DatabaseError;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPool, PgPoolOptions};
use sqlx::SqlSafeStr as _;
use uuid::Uuid;

use crate::store::{
    BlobRef, CameraPrincipal, CameraRow, Database, DeviceDeleted, DeviceRow, EventFilter, EventRow,
    InsertPart, NewCamera, NewDevice, NewPart, OneTimeKind, PartRow, RecordKind, RecoveryOutcome,
    ShareRow, StoreResult, StoredSet, ViewerPrincipal, Written,
};
use crate::tokens::TokenHash;

/// Whether account `$1` may see camera `c`.
macro_rules! visible {
    () => {
        "(c.owner_id = $1 OR EXISTS (SELECT 1 FROM shares s WHERE s.camera_id = c.id AND s.account_id = $1))"
    };
}

mod accounts;
mod cameras;
mod events;
mod notify;
mod sweep;

pub use self::notify::{Announced, PartListener, PARTS_CHANNEL};

/// The append-only migrations, embedded in the binary.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "doomed blobs",
        include_str!("../../../migrations/postgres/0002_doomed_blobs.sql"),
    ),
    (
        3,
        "trust v2",
        include_str!("../../../migrations/postgres/0003_trust_v2.sql"),
    ),
    (
        4,
        "coarse metadata",
        include_str!("../../../migrations/postgres/0004_coarse_metadata.sql"),
    ),
    (
        5,
        "one blob parts",
        include_str!("../../../migrations/postgres/0005_one_blob_parts.sql"),
    ),
    (
        6,
        "parts in database",
        include_str!("../../../migrations/postgres/0006_parts_in_database.sql"),
    ),
    (
        7,
        "tokens of devices",
        include_str!("../../../migrations/postgres/0007_tokens_of_devices.sql"),
    ),
];

/// PostgreSQL-backed metadata store.
#[derive(Debug, Clone)]
pub struct PostgresDatabase {
    pool: PgPool,
    /// How to connect, for the connection that listens for parts.
    options: PgConnectOptions,
}

pub(super) type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

impl PostgresDatabase {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…]`)
    /// and migrates the database.
    pub async fn open(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("sealcam-server");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await?;
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations).run(&pool).await?;
        Ok(Self { pool, options })
    }
}

/// Whether PostgreSQL gave up on a transaction so that others may go on:
/// a serialization failure (`40001`), a deadlock (`40P01`) or a lock not
/// granted in time (`55P03`).
pub(super) fn is_busy(e: &dyn DatabaseError) -> bool {
    e.try_downcast_ref::<PgDatabaseError>()
        .is_some_and(|e| matches!(e.code(), "40001" | "40P01" | "55P03"))
}

#[async_trait]
impl Database for PostgresDatabase {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_account(&self, id: Uuid, name: &str, now: i64) -> StoreResult<()> {
        accounts::create_account(self, id, name, now).await
    }

    async fn account_name(&self, account_id: Uuid) -> StoreResult<Option<String>> {
        accounts::account_name(self, account_id).await
    }

    async fn account_usage(&self, account_id: Uuid) -> StoreResult<u64> {
        events::account_usage(self, account_id).await
    }

    async fn part_bytes(&self, key: &str) -> StoreResult<Option<Bytes>> {
        events::part_bytes(self, key).await
    }

    async fn create_one_time(
        &self,
        kind: OneTimeKind,
        hash: &TokenHash,
        account_id: Uuid,
        viewer_key: Option<&str>,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        accounts::create_one_time(self, kind, hash, account_id, viewer_key, expires_at, now).await
    }

    async fn create_device_token(
        &self,
        kind: OneTimeKind,
        hash: &TokenHash,
        creator: &ViewerPrincipal,
        viewer_key: Option<&str>,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool> {
        accounts::create_device_token(self, kind, hash, creator, viewer_key, expires_at, now).await
    }

    async fn enroll(
        &self,
        token: &TokenHash,
        device: NewDevice<'_>,
        now: i64,
    ) -> StoreResult<Option<Uuid>> {
        accounts::enroll(self, token, device, now).await
    }

    async fn viewer_by_token(&self, hash: &TokenHash) -> StoreResult<Option<ViewerPrincipal>> {
        accounts::viewer_by_token(self, hash).await
    }

    async fn list_devices(&self, account_id: Uuid) -> StoreResult<Vec<DeviceRow>> {
        accounts::list_devices(self, account_id).await
    }

    async fn delete_device(
        &self,
        account_id: Uuid,
        caller_device: Uuid,
        device_id: Uuid,
    ) -> StoreResult<DeviceDeleted> {
        accounts::delete_device(self, account_id, caller_device, device_id).await
    }

    async fn register_recovery(
        &self,
        account_id: Uuid,
        caller_device: Uuid,
        device: NewDevice<'_>,
        now: i64,
    ) -> StoreResult<RecoveryOutcome> {
        accounts::register_recovery(self, account_id, caller_device, device, now).await
    }

    async fn get_record(&self, account_id: Uuid, kind: RecordKind) -> StoreResult<Option<Vec<u8>>> {
        accounts::get_record(self, account_id, kind).await
    }

    async fn put_record(
        &self,
        account_id: Uuid,
        kind: RecordKind,
        data: &[u8],
        if_match: Option<Option<[u8; 32]>>,
    ) -> StoreResult<Written> {
        accounts::put_record(self, account_id, kind, data, if_match).await
    }

    async fn register_camera(
        &self,
        claim: &TokenHash,
        camera: &NewCamera,
        now: i64,
    ) -> StoreResult<Option<Uuid>> {
        cameras::register_camera(self, claim, camera, now).await
    }

    async fn camera_by_token(&self, hash: &TokenHash) -> StoreResult<Option<CameraPrincipal>> {
        cameras::camera_by_token(self, hash).await
    }

    async fn list_cameras(&self, account_id: Uuid) -> StoreResult<Vec<CameraRow>> {
        cameras::list_cameras(self, account_id).await
    }

    async fn put_set_key(&self, camera_id: Uuid, set_key: &str) -> StoreResult<bool> {
        cameras::put_set_key(self, camera_id, set_key).await
    }

    async fn camera_role(
        &self,
        account_id: Uuid,
        camera_id: Uuid,
    ) -> StoreResult<Option<CameraRole>> {
        cameras::camera_role(self, account_id, camera_id).await
    }

    async fn confirm_camera(&self, owner_id: Uuid, camera_id: Uuid) -> StoreResult<bool> {
        cameras::confirm_camera(self, owner_id, camera_id).await
    }

    async fn delete_camera(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
    ) -> StoreResult<Option<Vec<String>>> {
        cameras::delete_camera(self, owner_id, camera_id).await
    }

    async fn recipient_set(&self, camera_id: Uuid) -> StoreResult<Option<StoredSet>> {
        cameras::recipient_set(self, camera_id).await
    }

    async fn put_recipient_set(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        epoch: u64,
        set: &[u8],
        supersede: bool,
    ) -> StoreResult<Written> {
        cameras::put_recipient_set(self, owner_id, camera_id, epoch, set, supersede).await
    }

    async fn set_retention(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        days: Option<u32>,
    ) -> StoreResult<bool> {
        cameras::set_retention(self, owner_id, camera_id, days).await
    }

    async fn list_shares(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
    ) -> StoreResult<Option<Vec<ShareRow>>> {
        cameras::list_shares(self, owner_id, camera_id).await
    }

    async fn put_share(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        account_id: Uuid,
        now: i64,
    ) -> StoreResult<bool> {
        cameras::put_share(self, owner_id, camera_id, account_id, now).await
    }

    async fn delete_share(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        account_id: Uuid,
    ) -> StoreResult<bool> {
        cameras::delete_share(self, owner_id, camera_id, account_id).await
    }

    async fn insert_part(&self, part: &NewPart) -> StoreResult<InsertPart> {
        events::insert_part(self, part).await
    }

    async fn camera_part(
        &self,
        camera_id: Uuid,
        event_id: Uuid,
        kind: PartKind,
    ) -> StoreResult<Option<PartRow>> {
        events::camera_part(self, camera_id, event_id, kind).await
    }

    async fn viewer_part(
        &self,
        account_id: Uuid,
        event_id: Uuid,
        kind: PartKind,
    ) -> StoreResult<Option<PartRow>> {
        events::viewer_part(self, account_id, event_id, kind).await
    }

    async fn viewer_part_by_token(
        &self,
        token: &TokenHash,
        event_id: Uuid,
        kind: PartKind,
    ) -> StoreResult<Option<(ViewerPrincipal, Option<PartRow>)>> {
        events::viewer_part_by_token(self, token, event_id, kind).await
    }

    async fn viewer_event(
        &self,
        account_id: Uuid,
        event_id: Uuid,
    ) -> StoreResult<Option<EventRow>> {
        events::viewer_event(self, account_id, event_id).await
    }

    async fn list_events(
        &self,
        camera_id: Uuid,
        filter: EventFilter,
    ) -> StoreResult<Vec<EventRow>> {
        events::list_events(self, camera_id, filter).await
    }

    async fn replace_header(
        &self,
        owner_id: Uuid,
        event_id: Uuid,
        kind: PartKind,
        header_key: &str,
        header_size: u64,
        header_sha256: &[u8],
    ) -> StoreResult<Option<Vec<String>>> {
        events::replace_header(
            self,
            owner_id,
            event_id,
            kind,
            header_key,
            header_size,
            header_sha256,
        )
        .await
    }

    async fn delete_event(
        &self,
        owner_id: Uuid,
        event_id: Uuid,
    ) -> StoreResult<Option<Vec<String>>> {
        events::delete_event(self, owner_id, event_id).await
    }

    async fn delete_expired(&self, now: i64, limit: u32) -> StoreResult<(u64, Vec<String>)> {
        sweep::delete_expired(self, now, limit).await
    }

    async fn delete_expired_tokens(&self, now: i64) -> StoreResult<u64> {
        sweep::delete_expired_tokens(self, now).await
    }

    async fn withdraw_link_tokens(&self, account_id: Uuid) -> StoreResult<u64> {
        accounts::withdraw_link_tokens(self, account_id).await
    }

    async fn claim_orphan(&self, key: &str, now: i64) -> StoreResult<bool> {
        sweep::claim_orphan(self, key, now).await
    }

    async fn named_blobs(&self, keys: &[String]) -> StoreResult<HashSet<String>> {
        sweep::named_blobs(self, keys).await
    }

    async fn prune_tombstones(&self, before: i64) -> StoreResult<u64> {
        sweep::prune_tombstones(self, before).await
    }

    async fn list_blobs(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<BlobRef>> {
        sweep::list_blobs(self, after, limit).await
    }

    fn announces_parts(&self) -> bool {
        true
    }

    async fn listen_parts(&self) -> StoreResult<Option<PartListener>> {
        PartListener::connect(self.options.clone()).await.map(Some)
    }
}
