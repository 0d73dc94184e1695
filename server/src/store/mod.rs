//! What the server needs from its metadata database, as one trait.
//!
//! [`Database`] is implemented by [`sqlite::SqliteDatabase`] (the embedded
//! default) and [`postgres::PostgresDatabase`] (several stateless replicas on
//! one database); [`open`] picks one by the URL scheme. Each has its own
//! append-only migrations under `server/migrations/<backend>/`, run at
//! start. Every method that answers a viewer takes the caller's account id
//! and folds the access check into the query itself, so authorisation is
//! decided by the database on every request and nothing that decides it is
//! cached.
//!
//! Each backend is split by domain (`accounts`, `cameras`, `events`,
//! `sweep`), every query written in full in its own engine's file; the
//! values that cross the trait are in `models`, the decoding of result
//! rows both backends share in `rows`.

mod models;
pub mod postgres;
mod recovery;
mod rows;
pub mod sqlite;

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use sealcam_wire::{CameraRole, PartKind};
use uuid::Uuid;

pub use self::models::{
    BlobRef, CameraPrincipal, CameraRow, DeviceDeleted, DeviceRole, DeviceRow, EventFilter,
    EventRow, InsertPart, NewCamera, NewDevice, NewPart, OneTimeKind, PartNotice, PartRow,
    PartSizes, RecordKind, RecoveryOutcome, ShareRow, StoredSet, ViewerPrincipal, Written,
};
use self::recovery::{recovery_step, RecoveryStep};
use crate::tokens::TokenHash;

/// A database failure. The HTTP layer logs it and answers 500, or 503 with
/// `Retry-After` for [`StoreError::Busy`] and [`StoreError::BlobSwept`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The driver failed (connection, constraint, I/O).
    #[error(transparent)]
    Sqlx(sqlx::Error),
    /// The database is busy and nothing was written: every pooled
    /// connection is in use, SQLite did not grant its lock within the busy
    /// timeout, or PostgreSQL aborted the transaction to serialise it
    /// (serialization failure, deadlock, lock timeout). The same request may
    /// succeed if tried again.
    #[error("database busy: {0}")]
    Busy(#[source] BoxError),
    /// The database cannot be reached (connection refused or cut, shutting
    /// down): nothing was written; the same request may succeed later.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// SQLite failed in the server's own writer thread (not through sqlx).
    #[error(transparent)]
    Sqlite(rusqlite::Error),
    /// Running the migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row holds a value this version cannot read.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database URL names no supported backend.
    #[error("unsupported database URL {0:?} (expected sqlite://… or postgres://…)")]
    UnsupportedUrl(String),
    /// The database's disk is full (SQLite); nothing was written.
    #[error("the database's disk is full: {0}")]
    Full(BoxError),
    /// A blob this write names was claimed by the orphan sweep meanwhile;
    /// nothing was recorded and the client should upload again.
    #[error("blob {0} was swept before it was recorded; upload again")]
    BlobSwept(String),
}

impl From<sqlx::Error> for StoreError {
    /// Sorts a driver error: busy (each backend names its own codes) or not.
    fn from(e: sqlx::Error) -> Self {
        let busy = match &e {
            sqlx::Error::PoolTimedOut => true,
            sqlx::Error::Database(db) => {
                sqlite::is_busy(db.as_ref()) || postgres::is_busy(db.as_ref())
            }
            _ => false,
        };
        // SQLSTATE class 08 (connection exception) and 57P0x (shutting down).
        let unavailable = match &e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P0")),
            _ => false,
        };
        let full = matches!(&e, sqlx::Error::Database(db) if sqlite::is_full(db.as_ref()));
        if busy {
            StoreError::Busy(e.into())
        } else if full {
            StoreError::Full(e.into())
        } else if unavailable {
            StoreError::Unavailable(e.into())
        } else {
            StoreError::Sqlx(e)
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    /// Sorts an error of the writer thread: busy or locked (SQLite's codes 5
    /// and 6, in any extended form) or not.
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy(e.into())
            }
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::Full(e.into()),
            _ => StoreError::Sqlite(e),
        }
    }
}

impl StoreError {
    /// The same failure, for another row of a batch that failed as a whole
    /// (a group commit): of the same kind, so its request gets the same
    /// answer (busy, unavailable, internal).
    pub(crate) fn for_another_row(&self) -> StoreError {
        let again = |e: &dyn std::fmt::Display| format!("the batch failed: {e}");
        match self {
            StoreError::Sqlx(e) => StoreError::Sqlx(sqlx::Error::Protocol(again(e))),
            StoreError::Busy(e) => StoreError::Busy(again(e).into()),
            StoreError::Unavailable(e) => StoreError::Unavailable(again(e).into()),
            StoreError::Full(e) => StoreError::Full(again(e).into()),
            StoreError::Sqlite(e) => StoreError::Sqlx(sqlx::Error::Protocol(again(e))),
            StoreError::Migrate(e) => StoreError::Corrupt(format!("migration: {e}")),
            StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
            StoreError::UnsupportedUrl(u) => StoreError::UnsupportedUrl(u.clone()),
            StoreError::BlobSwept(k) => StoreError::BlobSwept(k.clone()),
        }
    }
}

/// The cause of a busy or unavailable database, whichever driver saw it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The most keys one [`Database::named_blobs`] call takes.
pub const NAMED_BLOBS_BATCH: usize = 500;

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the server asks of its metadata database.
///
/// Viewer-facing reads take the caller's `account_id` and return `None` (or
/// [`Written::NotFound`]) for anything the account may not see — exactly as
/// for an id that does not exist.
#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// Checks that the database answers (for `/healthz`).
    async fn ping(&self) -> StoreResult<()>;

    // Accounts, devices, one-time tokens.

    /// Creates an account.
    async fn create_account(&self, id: Uuid, name: &str, now: i64) -> StoreResult<()>;
    /// Returns an account's name.
    async fn account_name(&self, account_id: Uuid) -> StoreResult<Option<String>>;
    /// Bytes the account's cameras have stored (headers and payloads), for
    /// `limits.account_quota_bytes`. Sums the account's parts: read only
    /// when a quota is set.
    async fn account_usage(&self, account_id: Uuid) -> StoreResult<u64>;
    /// Stores a one-time token for an account; a link token may be bound to
    /// the viewer key of the device it will enroll.
    async fn create_one_time(
        &self,
        kind: OneTimeKind,
        hash: &TokenHash,
        account_id: Uuid,
        viewer_key: Option<&str>,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<()>;
    /// Stores a link or claim token made by the viewer device `creator`,
    /// for its account and tied to it: `false`, and nothing stored, when
    /// that device is gone. The token is deleted with the device, so a
    /// removed device's tokens die with it, also one it made a moment
    /// before its removal.
    async fn create_device_token(
        &self,
        kind: OneTimeKind,
        hash: &TokenHash,
        creator: &ViewerPrincipal,
        viewer_key: Option<&str>,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// Consumes an enrollment or link token and creates a viewer device in
    /// one transaction. Returns the account, or `None` when the token is
    /// unknown, used or expired, or bound to another viewer key than
    /// `device.viewer_key` (then the token stays unused).
    async fn enroll(
        &self,
        token: &TokenHash,
        device: NewDevice<'_>,
        now: i64,
    ) -> StoreResult<Option<Uuid>>;
    /// Finds the device holding a credential.
    async fn viewer_by_token(&self, hash: &TokenHash) -> StoreResult<Option<ViewerPrincipal>>;
    /// Whether the viewer device `v` authenticated as still exists: checked
    /// again once a request body has arrived (it may take hours), so a
    /// device removed meanwhile writes nothing.
    async fn still_there(&self, v: &ViewerPrincipal) -> StoreResult<bool> {
        let found = self.viewer_by_token(&v.token_hash).await?;
        Ok(found.is_some_and(|p| p.device_id == v.device_id))
    }
    /// Lists an account's devices.
    async fn list_devices(&self, account_id: Uuid) -> StoreResult<Vec<DeviceRow>>;
    /// Deletes a device of the account. The recovery device is deleted only
    /// when it is the caller (`caller_device`) itself.
    async fn delete_device(
        &self,
        account_id: Uuid,
        caller_device: Uuid,
        device_id: Uuid,
    ) -> StoreResult<DeviceDeleted>;
    /// Registers the account's recovery credential, in one transaction:
    /// creates the recovery device (`device`) when the account has none, and
    /// otherwise replaces the recovery device's credential only when the
    /// caller (`caller_device`) is that device.
    async fn register_recovery(
        &self,
        account_id: Uuid,
        caller_device: Uuid,
        device: NewDevice<'_>,
        now: i64,
    ) -> StoreResult<RecoveryOutcome>;
    /// Reads an opaque account record.
    async fn get_record(&self, account_id: Uuid, kind: RecordKind) -> StoreResult<Option<Vec<u8>>>;
    /// Writes an opaque account record; with `if_match`, only when the stored
    /// record's SHA-256 equals it (`Some(None)` = only when no record exists).
    async fn put_record(
        &self,
        account_id: Uuid,
        kind: RecordKind,
        data: &[u8],
        if_match: Option<Option<[u8; 32]>>,
    ) -> StoreResult<Written>;

    // Cameras.

    /// Consumes a claim token and registers a pending camera in one transaction.
    /// Returns the owner, or `None` when the claim is unknown, used or expired.
    async fn register_camera(
        &self,
        claim: &TokenHash,
        camera: &NewCamera,
        now: i64,
    ) -> StoreResult<Option<Uuid>>;
    /// Finds the camera holding a credential.
    async fn camera_by_token(&self, hash: &TokenHash) -> StoreResult<Option<CameraPrincipal>>;
    /// Cameras the account owns or that are shared with it; the set key of
    /// owned cameras only.
    async fn list_cameras(&self, account_id: Uuid) -> StoreResult<Vec<CameraRow>>;
    /// Stores a camera's set key statement (opaque text), replacing the one
    /// stored; `false` when there is no such camera.
    async fn put_set_key(&self, camera_id: Uuid, set_key: &str) -> StoreResult<bool>;
    /// The account's role on a camera, `None` when it may not see it.
    async fn camera_role(
        &self,
        account_id: Uuid,
        camera_id: Uuid,
    ) -> StoreResult<Option<CameraRole>>;
    /// Confirms a camera the account owns.
    async fn confirm_camera(&self, owner_id: Uuid, camera_id: Uuid) -> StoreResult<bool>;
    /// Deletes a camera the account owns with its events and shares; returns
    /// the blob keys to delete, `None` when there is no such camera.
    async fn delete_camera(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
    ) -> StoreResult<Option<Vec<String>>>;
    /// Reads a camera's recipient set with its owner's key log, in one query
    /// (no access check: callers check first).
    async fn recipient_set(&self, camera_id: Uuid) -> StoreResult<Option<StoredSet>>;
    /// Replaces the recipient set of an owned camera if `epoch` grows, or
    /// whatever the stored epoch with `supersede`.
    async fn put_recipient_set(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        epoch: u64,
        set: &[u8],
        supersede: bool,
    ) -> StoreResult<Written>;
    /// Sets the retention of an owned camera.
    async fn set_retention(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        days: Option<u32>,
    ) -> StoreResult<bool>;
    /// Shares of an owned camera, `None` when there is no such camera.
    async fn list_shares(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
    ) -> StoreResult<Option<Vec<ShareRow>>>;
    /// Shares an owned camera with an existing account.
    async fn put_share(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        account_id: Uuid,
        now: i64,
    ) -> StoreResult<bool>;
    /// Withdraws a share.
    async fn delete_share(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        account_id: Uuid,
    ) -> StoreResult<bool>;

    // Events and parts.

    /// Records a part whose blobs are durable; creates the event with its first part.
    /// Fails with [`StoreError::BlobSwept`] when the orphan sweep claimed one
    /// of its blob keys (see [`Database::claim_orphan`]).
    async fn insert_part(&self, part: &NewPart) -> StoreResult<InsertPart>;
    /// A part of one of this camera's events (for idempotent re-uploads).
    async fn camera_part(
        &self,
        camera_id: Uuid,
        event_id: Uuid,
        kind: PartKind,
    ) -> StoreResult<Option<PartRow>>;
    /// The bytes of a blob the database holds ([`crate::blobs::in_database`]
    /// key), when a row named it; the download query reads the part's own
    /// with its row, so this is for a row that names another part's.
    async fn part_bytes(&self, key: &str) -> StoreResult<Option<Bytes>>;
    /// A part the account may see.
    async fn viewer_part(
        &self,
        account_id: Uuid,
        event_id: Uuid,
        kind: PartKind,
    ) -> StoreResult<Option<PartRow>>;
    /// Authenticates a viewer token and finds a part its account may see, in
    /// one query (the download fast path). `None`: unknown token.
    async fn viewer_part_by_token(
        &self,
        token: &TokenHash,
        event_id: Uuid,
        kind: PartKind,
    ) -> StoreResult<Option<(ViewerPrincipal, Option<PartRow>)>>;
    /// An event the account may see.
    async fn viewer_event(&self, account_id: Uuid, event_id: Uuid)
        -> StoreResult<Option<EventRow>>;
    /// A page of a camera's events, newest first (no access check: callers check first).
    async fn list_events(&self, camera_id: Uuid, filter: EventFilter)
        -> StoreResult<Vec<EventRow>>;
    /// Points an owned part at a new header blob; returns the keys no row
    /// names any more: the old header's, unless that blob also holds the
    /// payload (a part stored as one blob). `None` for a part the account
    /// does not own. Fails with [`StoreError::BlobSwept`] like
    /// [`Database::insert_part`].
    async fn replace_header(
        &self,
        owner_id: Uuid,
        event_id: Uuid,
        kind: PartKind,
        header_key: &str,
        header_size: u64,
        header_sha256: &[u8],
    ) -> StoreResult<Option<Vec<String>>>;
    /// Deletes an owned event; returns its blob keys.
    async fn delete_event(
        &self,
        owner_id: Uuid,
        event_id: Uuid,
    ) -> StoreResult<Option<Vec<String>>>;
    /// Deletes up to `limit` events past their camera's retention; returns their blob keys.
    async fn delete_expired(&self, now: i64, limit: u32) -> StoreResult<(u64, Vec<String>)>;
    /// Deletes expired one-time tokens.
    async fn delete_expired_tokens(&self, now: i64) -> StoreResult<u64>;

    /// Withdraws every unused link token of an account (revocation: a
    /// revoked device may have minted one while it was a viewer).
    async fn withdraw_link_tokens(&self, account_id: Uuid) -> StoreResult<u64>;
    /// The orphan sweep's claim on a blob: atomically, when no part names
    /// `key`, records a tombstone for it and returns `true` (the caller may
    /// delete the blob; recording a part that names it fails from now on);
    /// returns `false` when a part names it. Serialised against
    /// [`Database::insert_part`] and [`Database::replace_header`] per key, so
    /// any number of replicas may sweep while others upload.
    async fn claim_orphan(&self, key: &str, now: i64) -> StoreResult<bool>;
    /// Of `keys`, those that some part names: a plain read, with which the
    /// sweep sets aside the blobs in use (nearly all of them) before it
    /// claims each of the rest with [`Database::claim_orphan`], which checks
    /// again under its lock. At most [`NAMED_BLOBS_BATCH`] keys per call.
    async fn named_blobs(&self, keys: &[String]) -> StoreResult<HashSet<String>>;
    /// Deletes sweep tombstones older than `before` (Unix seconds).
    async fn prune_tombstones(&self, before: i64) -> StoreResult<u64>;
    /// A page of the pieces (headers and payloads) that parts name, ordered
    /// by blob key, then offset, with keys strictly after `after` (for
    /// `migrate-store`). A part stored as one blob gives two pieces of one
    /// key, which a page's end may split. Blobs the database holds
    /// ([`crate::blobs::in_database`]) are not listed: they do not move.
    async fn list_blobs(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<BlobRef>>;

    // Announcing new parts to the watchers (`GET /v1/events/stream`).

    /// Whether [`Database::insert_part`] announces each part it records to
    /// every server process sharing the database (PostgreSQL: `NOTIFY` in
    /// the recording transaction), which hear it through
    /// [`Database::listen_parts`]. `false` (SQLite): the process that
    /// records a part announces it to its own watchers itself.
    fn announces_parts(&self) -> bool;
    /// Starts listening for the parts every process sharing the database
    /// records: a part recorded after this returns is heard. `None` when
    /// the database does not announce parts ([`Database::announces_parts`]).
    async fn listen_parts(&self) -> StoreResult<Option<postgres::PartListener>>;
}

/// Opens the database named by `url` and runs its migrations.
pub async fn open(url: &str, max_connections: u32) -> StoreResult<Arc<dyn Database>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(
            sqlite::SqliteDatabase::open(url, max_connections).await?,
        ))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(
            postgres::PostgresDatabase::open(url, max_connections).await?,
        ))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
