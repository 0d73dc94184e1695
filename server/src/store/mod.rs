//! What the server needs from its metadata database, as one trait.
//!
//! [`Database`] is implemented by [`sqlite::SqliteDatabase`] (the embedded
//! default) and [`postgres::PostgresDatabase`] (several stateless replicas on
//! one database); [`open`] picks one by the URL scheme. Each has its own
//! append-only migrations under `server/migrations/<backend>/`, run at start. Every method that answers a viewer
//! takes the caller's account id and folds the access check into the query
//! itself, so authorisation is decided by the database on every request and
//! nothing that decides it is cached.

pub mod postgres;
mod rows;
pub mod sqlite;
mod sqlite_inline;

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use sealcam_wire::{CameraRole, CameraStatus, PartKind};
use uuid::Uuid;

use crate::tokens::TokenHash;

/// A database failure. The HTTP layer logs it and answers 500.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The driver failed (connection, constraint, I/O).
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// Running the migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row holds a value this version cannot read.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database URL names no supported backend.
    #[error("unsupported database URL {0:?} (expected sqlite://… or postgres://…)")]
    UnsupportedUrl(String),
    /// A blob this write names was claimed by the orphan sweep meanwhile;
    /// nothing was recorded and the client should upload again.
    #[error("blob {0} was swept before it was recorded; upload again")]
    BlobSwept(String),
}

/// The most keys one [`Database::named_blobs`] call takes.
pub const NAMED_BLOBS_BATCH: usize = 500;

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// An authenticated viewer device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewerPrincipal {
    /// The account the device belongs to.
    pub account_id: Uuid,
    /// The device itself.
    pub device_id: Uuid,
    /// The stored token hash, compared in constant time by the caller.
    pub token_hash: TokenHash,
}

/// An authenticated camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CameraPrincipal {
    /// The camera.
    pub camera_id: Uuid,
    /// Its owner.
    pub owner_id: Uuid,
    /// Whether the owner confirmed it.
    pub status: CameraStatus,
    /// The stored token hash, compared in constant time by the caller.
    pub token_hash: TokenHash,
}

/// The kinds of one-time tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneTimeKind {
    /// Printed by `accounts create`; enrolls the first device.
    Enrollment,
    /// Created by a device; enrolls one more device of the same account.
    Link,
    /// Created by a viewer; registers one camera.
    Claim,
}

impl OneTimeKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            OneTimeKind::Enrollment => "enroll",
            OneTimeKind::Link => "link",
            OneTimeKind::Claim => "claim",
        }
    }
}

/// An account's opaque records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// The owner key bundle.
    KeyBundle,
    /// The owner's list of viewers.
    Viewers,
    /// The owner's key log (delivered to cameras with their recipient set).
    KeyLog,
}

/// What a device is to its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceRole {
    /// An ordinary viewer device.
    Viewer,
    /// The account's one recovery device: the credential derived from the
    /// owner's recovery key.
    Recovery,
}

impl DeviceRole {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceRole::Viewer => "viewer",
            DeviceRole::Recovery => "recovery",
        }
    }
}

/// One viewer device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// Device id.
    pub id: Uuid,
    /// Name given at enrollment.
    pub name: String,
    /// Enrollment time (Unix seconds).
    pub created_at: i64,
    /// Viewer or recovery device.
    pub role: DeviceRole,
    /// The viewer key it enrolled with, if it gave one (opaque text).
    pub viewer_key: Option<String>,
}

/// A device to create at enrollment.
#[derive(Debug, Clone, Copy)]
pub struct NewDevice<'a> {
    /// Device id (v4, assigned by the server).
    pub id: Uuid,
    /// Name given at enrollment.
    pub name: &'a str,
    /// Hash of the device's credential.
    pub token_hash: &'a TokenHash,
    /// The viewer key it enrolls with, if any (opaque text).
    pub viewer_key: Option<&'a str>,
}

/// Outcome of [`Database::register_recovery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryOutcome {
    /// The account had no recovery device; it has one now.
    Created,
    /// The credential is already the account's recovery credential.
    Unchanged,
    /// The caller, the recovery device, replaced its own credential.
    Replaced,
    /// The account has another recovery credential and the caller is not the
    /// recovery device: nothing changed.
    NotRecoveryDevice,
    /// The credential belongs to another device of the same account.
    OtherDevice,
    /// The credential belongs to a device of another account.
    OtherAccount,
}

/// Outcome of [`Database::delete_device`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceDeleted {
    /// Deleted; its credential stops working at once.
    Deleted,
    /// No such device in the account.
    NotFound,
    /// It is the recovery device and the caller is not: nothing changed.
    RecoveryDevice,
}

/// A camera's recipient set as stored, with its owner's key log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSet {
    /// The epoch stored with the set.
    pub epoch: u64,
    /// The opaque signed set.
    pub set: Vec<u8>,
    /// The owner account's key log record, when it has one.
    pub key_log: Option<Vec<u8>>,
}

/// A camera with the caller's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraRow {
    /// Camera id.
    pub id: Uuid,
    /// Owner account.
    pub owner_id: Uuid,
    /// Pending or active.
    pub status: CameraStatus,
    /// Base64 text as registered.
    pub device_public_key: String,
    /// Base64 text as registered.
    pub pairing_proof: String,
    /// Registration time.
    pub created_at: i64,
    /// Retention in days, if any.
    pub retention_days: Option<u32>,
    /// The caller's role.
    pub role: CameraRole,
}

/// A camera to insert at registration.
#[derive(Debug, Clone)]
pub struct NewCamera {
    /// Camera id (v4, assigned by the server).
    pub id: Uuid,
    /// Hash of the camera's credential.
    pub token_hash: TokenHash,
    /// Base64 text, opaque.
    pub device_public_key: String,
    /// Base64 text, opaque.
    pub pairing_proof: String,
    /// Registration time.
    pub created_at: i64,
}

/// One share of a camera.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareRow {
    /// The account the camera is shared with.
    pub account_id: Uuid,
    /// When.
    pub created_at: i64,
}

/// A stored part, with where its blobs live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRow {
    /// Event id.
    pub event_id: Uuid,
    /// Camera that recorded the event.
    pub camera_id: Uuid,
    /// The camera's owner.
    pub owner_id: Uuid,
    /// Part kind.
    pub kind: PartKind,
    /// Blob key of the header.
    pub header_key: String,
    /// Header size in bytes.
    pub header_size: u64,
    /// SHA-256 of the header (for idempotent uploads).
    pub header_sha256: Vec<u8>,
    /// Blob key of the payload.
    pub payload_key: String,
    /// Payload size in bytes.
    pub payload_size: u64,
    /// SHA-256 of the payload (for idempotent uploads).
    pub payload_sha256: Vec<u8>,
}

/// A part to record after its blobs are durable.
#[derive(Debug, Clone)]
pub struct NewPart {
    /// Event id (chosen by the camera).
    pub event_id: Uuid,
    /// The uploading camera.
    pub camera_id: Uuid,
    /// Coarsened capture time, used only when this part creates the event.
    pub captured_at: i64,
    /// Part kind.
    pub kind: PartKind,
    /// Header blob key.
    pub header_key: String,
    /// Header size.
    pub header_size: u64,
    /// Header digest.
    pub header_sha256: Vec<u8>,
    /// Payload blob key.
    pub payload_key: String,
    /// Payload size.
    pub payload_size: u64,
    /// Payload digest.
    pub payload_sha256: Vec<u8>,
    /// Upload time.
    pub created_at: i64,
}

/// Outcome of [`Database::insert_part`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertPart {
    /// The part is new and recorded.
    Inserted,
    /// A part of this event and kind exists already (compare the digests).
    Exists(PartRow),
    /// The event id belongs to another camera.
    ForeignEvent,
}

/// The size of one part of an event, for listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartSizes {
    /// Kind.
    pub kind: PartKind,
    /// Header size.
    pub header_size: u64,
    /// Payload size.
    pub payload_size: u64,
}

/// An event with its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Event id.
    pub id: Uuid,
    /// Camera.
    pub camera_id: Uuid,
    /// Owner.
    pub owner_id: Uuid,
    /// Coarsened capture time.
    pub captured_at: i64,
    /// Parts, ordered thumbnail, clip, record.
    pub parts: Vec<PartSizes>,
}

/// Filter and page of an event listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventFilter {
    /// `captured_at >= since`.
    pub since: Option<i64>,
    /// `captured_at < until`.
    pub until: Option<i64>,
    /// Strictly older than this `(captured_at, event_id)` position.
    pub before: Option<(i64, Uuid)>,
    /// Page size.
    pub limit: u32,
}

/// A blob a part names, with what the database knows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    /// Blob key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: Vec<u8>,
}

/// Outcome of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Stored.
    Stored,
    /// Refused: the precondition (If-Match, growing epoch) failed.
    Refused,
    /// The target does not exist or is not the caller's.
    NotFound,
}

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
    /// Cameras the account owns or that are shared with it.
    async fn list_cameras(&self, account_id: Uuid) -> StoreResult<Vec<CameraRow>>;
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
    /// Points an owned part at a new header blob; returns the old header key.
    /// Fails with [`StoreError::BlobSwept`] like [`Database::insert_part`].
    async fn replace_header(
        &self,
        owner_id: Uuid,
        event_id: Uuid,
        kind: PartKind,
        header_key: &str,
        header_size: u64,
        header_sha256: &[u8],
    ) -> StoreResult<Option<String>>;
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
    /// A page of every blob a part names, ordered by key, strictly after
    /// `after` (for `migrate-store`).
    async fn list_blobs(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<BlobRef>>;
}

/// What [`Database::register_recovery`] does, given what its transaction read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecoveryStep {
    /// Nothing to write; answer this.
    Answer(RecoveryOutcome),
    /// Create the recovery device.
    Create,
    /// Give the recovery device (this id) the new credential.
    Replace(Uuid),
}

/// The rule of [`Database::register_recovery`], shared by both backends:
/// `holder` is the device (id, account) that already holds the presented
/// credential, `recovery` the account's recovery device.
fn recovery_step(
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
