//! The SQLite implementation of [`Database`] (the embedded default).
//!
//! WAL journal, `synchronous = FULL` (a committed transaction survives power
//! loss, so an acknowledged upload is never lost), foreign keys on, a busy
//! timeout for the single writer. Write transactions start with
//! `BEGIN IMMEDIATE` so a reader never has to upgrade its lock mid-way.
//! Queries use sqlx's runtime API: no database is needed to build. They are
//! written in the SQL both engines accept where that costs nothing (`$N`
//! placeholders, `RETURNING`, `IS NOT DISTINCT FROM`), so a domain file
//! diffs against its PostgreSQL twin by eye.
//!
//! This file opens the database and answers the [`Database`] trait by
//! handing each method to its domain: `accounts` (accounts, devices,
//! one-time tokens, records), `cameras` (cameras, recipient sets, shares),
//! `events` (events and parts, the download query) and `sweep`
//! (retention, the orphan sweep and its tombstones). `inline` runs the
//! download query in place; `group_commit` records part rows many to a
//! commit.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use sealcam_wire::{CameraRole, PartKind};
use sqlx::error::DatabaseError;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteError, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::SqlSafeStr as _;
use uuid::Uuid;

use self::group_commit::GroupCommit;
use self::inline::InlineReader;
use super::postgres::PartListener;
use super::{
    BlobRef, CameraPrincipal, CameraRow, Database, DeviceDeleted, DeviceRow, EventFilter, EventRow,
    InsertPart, NewCamera, NewDevice, NewPart, OneTimeKind, PartRow, RecordKind, RecoveryOutcome,
    ShareRow, StoreError, StoreResult, StoredSet, ViewerPrincipal, Written,
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
mod checkpoint;
mod events;
mod group_commit;
mod inline;
mod recycled;
mod sweep;
mod wal_sync;

/// The append-only migrations, embedded in the binary.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "doomed blobs",
        include_str!("../../../migrations/sqlite/0002_doomed_blobs.sql"),
    ),
    (
        3,
        "trust v2",
        include_str!("../../../migrations/sqlite/0003_trust_v2.sql"),
    ),
    (
        4,
        "coarse metadata",
        include_str!("../../../migrations/sqlite/0004_coarse_metadata.sql"),
    ),
    (
        5,
        "one blob parts",
        include_str!("../../../migrations/sqlite/0005_one_blob_parts.sql"),
    ),
    (
        6,
        "parts in database",
        include_str!("../../../migrations/sqlite/0006_parts_in_database.sql"),
    ),
    (
        7,
        "tokens of devices",
        include_str!("../../../migrations/sqlite/0007_tokens_of_devices.sql"),
    ),
];

/// SQLite-backed metadata store.
#[derive(Debug, Clone)]
pub struct SqliteDatabase {
    pool: SqlitePool,
    /// The download query, run in place (absent for in-memory databases).
    inline: Option<Arc<InlineReader>>,
    /// The writer of part rows, many to a commit.
    group: GroupCommit,
}

impl SqliteDatabase {
    /// Opens (creating if missing) the database at `url` (`sqlite://PATH`) and migrates it.
    pub async fn open(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // WAL checkpoints run on a thread of their own (`checkpoint.rs`).
            .pragma("wal_autocheckpoint", "0")
            .busy_timeout(Duration::from_secs(10));
        let file = options.get_filename().to_path_buf();
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
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
        if !file.is_file() {
            return Err(StoreError::UnsupportedUrl(format!(
                "{url} (sealcam-server keeps its SQLite database in a file)"
            )));
        }
        let group = GroupCommit::start(&file)?;
        let inline = Some(Arc::new(InlineReader::new(file)));
        Ok(Self {
            pool,
            inline,
            group,
        })
    }

    async fn write_tx(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

#[cfg(test)]
impl SqliteDatabase {
    /// A camera of `owner`, registered (pending) with a claim token made for
    /// it: the setup the unit tests of the domains share.
    pub(super) async fn test_camera(
        &self,
        owner: Uuid,
        claim: TokenHash,
        token_hash: TokenHash,
        now: i64,
    ) -> Uuid {
        self.create_one_time(OneTimeKind::Claim, &claim, owner, None, 100, now)
            .await
            .unwrap();
        let camera = NewCamera {
            id: Uuid::new_v4(),
            token_hash,
            device_public_key: "key".into(),
            pairing_proof: "proof".into(),
            created_at: now,
        };
        self.register_camera(&claim, &camera, now)
            .await
            .unwrap()
            .unwrap();
        camera.id
    }
}

/// A connection of the server's own threads (row writer, checkpointer,
/// in-place reads) to the database file at `path`, waiting at most `busy`
/// for SQLite's locks. sqlx opened the file first and made it WAL.
pub(super) fn connect(path: &Path, busy: Duration) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy)?;
    Ok(conn)
}

/// The WAL file of the database file at `path` (`PATH-wal`).
pub(super) fn wal_path(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Whether SQLite refused for now: `SQLITE_BUSY` (5: the lock was not
/// granted within the busy timeout) or `SQLITE_LOCKED` (6), in any of their
/// extended codes (the primary code is the low byte).
pub(super) fn is_busy(e: &dyn DatabaseError) -> bool {
    primary_code(e).is_some_and(|code| matches!(code, 5 | 6))
}

/// Whether SQLite found its disk full (`SQLITE_FULL`, 13).
pub(super) fn is_full(e: &dyn DatabaseError) -> bool {
    primary_code(e) == Some(13)
}

fn primary_code(e: &dyn DatabaseError) -> Option<i32> {
    e.try_downcast_ref::<SqliteError>()
        .and_then(|e| e.code())
        .and_then(|code| code.parse::<i32>().ok())
        .map(|code| code & 0xff)
}

#[async_trait]
impl Database for SqliteDatabase {
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

    /// One process owns the database file: the upload path announces
    /// its own parts.
    fn announces_parts(&self) -> bool {
        false
    }

    async fn listen_parts(&self) -> StoreResult<Option<PartListener>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    /// A held write lock and an exhausted pool are busy; other failures are not.
    #[tokio::test]
    async fn busy_errors_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::ZERO);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_millis(100))
            .connect_with(options)
            .await
            .unwrap();
        let syntax = sqlx::query("SELEC 1").execute(&pool).await.unwrap_err();
        assert!(matches!(StoreError::from(syntax), StoreError::Sqlx(_)));
        let _held = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
        let locked = pool.begin_with("BEGIN IMMEDIATE").await.unwrap_err();
        assert!(matches!(StoreError::from(locked), StoreError::Busy(_)));
        let _second = pool.acquire().await.unwrap();
        let exhausted = pool.acquire().await.unwrap_err();
        assert!(matches!(StoreError::from(exhausted), StoreError::Busy(_)));
    }

    /// A database that cannot grow (here: SQLite's page limit, which fails
    /// as a full disk does, with `SQLITE_FULL`) is told apart through either
    /// driver, so an upload hears 507 and the camera keeps its part.
    #[tokio::test]
    async fn a_full_database_is_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (b BLOB); PRAGMA max_page_count = 8;")
            .unwrap();
        let full = (0..100)
            .find_map(|_| {
                conn.execute("INSERT INTO t VALUES (zeroblob(4000))", [])
                    .err()
            })
            .unwrap();
        assert!(matches!(StoreError::from(full), StoreError::Full(_)));

        let options = SqliteConnectOptions::new().filename(&path);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA max_page_count = 8")
                        .execute(conn)
                        .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .unwrap();
        let full = sqlx::query("INSERT INTO t VALUES (zeroblob(4000))")
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(matches!(StoreError::from(full), StoreError::Full(_)));
        let answer = crate::error::AppError::from(StoreError::Full("full".into()));
        assert!(matches!(answer, crate::error::AppError::StorageFull { .. }));
    }
}
