//! The values that cross the [`Database`](crate::store::Database) trait:
//! principals, rows, new records and typed outcomes, shared by both backends.

use bytes::Bytes;
use sealcam_wire::{CameraRole, CameraStatus, PartKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tokens::TokenHash;

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

/// Outcome of [`Database::register_recovery`](crate::store::Database::register_recovery).
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

/// Outcome of [`Database::delete_device`](crate::store::Database::delete_device).
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
    /// The camera's set key statement (opaque text), for its owner only:
    /// `None` on a camera shared with the caller, and until one is published.
    pub set_key: Option<String>,
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
    /// Where the payload starts in its blob: the header's size for a part
    /// stored as one blob (header ‖ payload, `header_key == payload_key`
    /// until a re-wrap), 0 for a payload blob of its own.
    pub payload_offset: u64,
    /// The bytes of blob `payload_key` when the database holds them (a
    /// small part, [`crate::blobs::in_database`]) and the query read them:
    /// only the download query does.
    pub in_database: Option<Bytes>,
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
    /// Where the payload starts in its blob (see [`PartRow::payload_offset`]).
    pub payload_offset: u64,
    /// The part's bytes (header ‖ payload) when the database keeps them,
    /// under `payload_key` (a [`crate::blobs::in_database`] key); `None`
    /// when they are in the blob store already.
    pub in_database: Option<Bytes>,
    /// Upload time.
    pub created_at: i64,
}

/// A part newly recorded: what the watchers' feed carries
/// ([`crate::feed`]), and on PostgreSQL the payload (JSON) of the
/// `NOTIFY` that tells every server process sharing the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartNotice {
    /// The camera's owner.
    pub owner_id: Uuid,
    /// The camera that recorded it.
    pub camera_id: Uuid,
    /// The event.
    pub event_id: Uuid,
    /// The part's kind.
    pub kind: PartKind,
}

/// Outcome of [`Database::insert_part`](crate::store::Database::insert_part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertPart {
    /// The part is new and recorded.
    Inserted,
    /// A part of this event and kind exists already (compare the digests).
    Exists(Box<PartRow>),
    /// The event id belongs to another camera.
    ForeignEvent,
    /// The camera was deleted after its credential was checked (its owner
    /// removed it while the body was arriving): nothing was recorded.
    CameraGone,
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
    /// Where the piece starts in the blob: 0 for a header and for a payload
    /// blob of its own, the header's size for a payload stored after its
    /// header (one blob per part).
    pub offset: u64,
    /// Size of the piece in bytes.
    pub size: u64,
    /// SHA-256 of the piece.
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
