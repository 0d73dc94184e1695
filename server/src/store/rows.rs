//! Row mapping shared by the SQLite and PostgreSQL backends. The two store
//! ids differently (TEXT against UUID) and decode every other column the
//! same way, so each row type says how to read an id and the rest is here.

use bytes::Bytes;
use sealcam_wire::{CameraStatus, PartKind};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::Row as _;
use uuid::Uuid;

use super::{
    DeviceRole, DeviceRow, EventFilter, EventRow, PartRow, PartSizes, StoreError, StoreResult,
    StoredSet, ViewerPrincipal,
};
use crate::blobs::in_database;
use crate::tokens::TokenHash;

/// Stores a link or claim token (`$1`–`$6` as in `one_time_tokens`) for
/// the device `$7` of account `$3`, only while that device exists: one
/// statement, and the foreign key deletes the token with the device.
pub(super) const DEVICE_TOKEN_SQL: &str = "INSERT INTO one_time_tokens (token_hash, kind, \
     account_id, viewer_key, expires_at, created_at, created_by) \
     SELECT $1, $2, $3, $4, $5, $6, $7 \
     WHERE EXISTS (SELECT 1 FROM devices WHERE id = $7 AND account_id = $3)";

/// Whether [`DEVICE_TOKEN_SQL`], which stored `done` rows, stored the
/// token: not when the device was gone, or deleted between the check and
/// the insert (a foreign-key failure).
pub(super) fn device_token_stored(done: Result<u64, sqlx::Error>) -> StoreResult<bool> {
    match done {
        Ok(rows) => Ok(rows == 1),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The columns a result row of either backend yields.
pub(super) trait Columns {
    /// An id column.
    fn id(&self, col: &str) -> StoreResult<Uuid>;
    /// A nullable id column.
    fn opt_id(&self, col: &str) -> StoreResult<Option<Uuid>>;
    /// A byte-string column.
    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>>;
    /// A nullable byte-string column.
    fn opt_bytes(&self, col: &str) -> StoreResult<Option<Vec<u8>>>;
    /// An integer column.
    fn int(&self, col: &str) -> StoreResult<i64>;
    /// A text column.
    fn text(&self, col: &str) -> StoreResult<String>;
    /// A nullable text column.
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
}

/// The getters that read the same on every driver; `$get` is the driver's
/// by-name getter (`try_get` for sqlx, `get` for rusqlite).
macro_rules! plain_columns {
    ($get:ident) => {
        fn bytes(&self, col: &str) -> StoreResult<Vec<u8>> {
            Ok(self.$get(col)?)
        }
        fn opt_bytes(&self, col: &str) -> StoreResult<Option<Vec<u8>>> {
            Ok(self.$get(col)?)
        }
        fn int(&self, col: &str) -> StoreResult<i64> {
            Ok(self.$get(col)?)
        }
        fn text(&self, col: &str) -> StoreResult<String> {
            Ok(self.$get(col)?)
        }
        fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
            Ok(self.$get(col)?)
        }
    };
}

/// SQLite keeps ids as hyphenated TEXT, whichever driver reads them.
macro_rules! text_ids {
    ($get:ident) => {
        fn id(&self, col: &str) -> StoreResult<Uuid> {
            let text: String = self.$get(col)?;
            parse_id(col, &text)
        }
        fn opt_id(&self, col: &str) -> StoreResult<Option<Uuid>> {
            let text: Option<String> = self.$get(col)?;
            text.map(|t| parse_id(col, &t)).transpose()
        }
    };
}

fn parse_id(col: &str, text: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

/// SQLite through sqlx (the pool).
impl Columns for SqliteRow {
    text_ids!(try_get);
    plain_columns!(try_get);
}

/// SQLite through the server's own connections (rusqlite: the in-place
/// reads and the row writer).
impl Columns for rusqlite::Row<'_> {
    text_ids!(get);
    plain_columns!(get);
}

/// PostgreSQL keeps ids as UUID.
impl Columns for PgRow {
    fn id(&self, col: &str) -> StoreResult<Uuid> {
        Ok(self.try_get(col)?)
    }
    fn opt_id(&self, col: &str) -> StoreResult<Option<Uuid>> {
        Ok(self.try_get(col)?)
    }
    plain_columns!(try_get);
}

pub(super) fn uuid_col(row: &impl Columns, col: &str) -> StoreResult<Uuid> {
    row.id(col)
}

pub(super) fn hash_col(row: &impl Columns, col: &str) -> StoreResult<TokenHash> {
    row.bytes(col)?
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{col}: not 32 bytes")))
}

pub(super) fn u64_col(row: &impl Columns, col: &str) -> StoreResult<u64> {
    u64::try_from(row.int(col)?).map_err(|_| StoreError::Corrupt(format!("{col}: negative")))
}

fn kind_col(row: &impl Columns, col: &str) -> StoreResult<PartKind> {
    let text = row.text(col)?;
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("{col}: unknown kind {text:?}")))
}

pub(super) fn status_col(row: &impl Columns) -> StoreResult<CameraStatus> {
    let text = row.text("status")?;
    match text.as_str() {
        "pending" => Ok(CameraStatus::Pending),
        "active" => Ok(CameraStatus::Active),
        _ => Err(StoreError::Corrupt(format!("status {text:?}"))),
    }
}

fn role_col(row: &impl Columns) -> StoreResult<DeviceRole> {
    let text = row.text("role")?;
    match text.as_str() {
        "viewer" => Ok(DeviceRole::Viewer),
        "recovery" => Ok(DeviceRole::Recovery),
        _ => Err(StoreError::Corrupt(format!("role {text:?}"))),
    }
}

/// A device of the listing (`id, name, created_at, role, viewer_key`).
pub(super) fn device_row(row: &impl Columns) -> StoreResult<DeviceRow> {
    Ok(DeviceRow {
        id: row.id("id")?,
        name: row.text("name")?,
        created_at: row.int("created_at")?,
        role: role_col(row)?,
        viewer_key: row.opt_text("viewer_key")?,
    })
}

/// A recipient set with its owner's key log (`set_epoch, set_data, key_log`).
pub(super) fn stored_set_row(row: &impl Columns) -> StoreResult<StoredSet> {
    Ok(StoredSet {
        epoch: u64_col(row, "set_epoch")?,
        set: row.bytes("set_data")?,
        key_log: row.opt_bytes("key_log")?,
    })
}

pub(super) fn to_i64(v: u64) -> i64 {
    // Sizes and epochs are checked against i64::MAX at the HTTP edge; saturate defensively.
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(super) fn part_row(row: &impl Columns) -> StoreResult<PartRow> {
    Ok(PartRow {
        event_id: row.id("event_id")?,
        camera_id: row.id("camera_id")?,
        owner_id: row.id("owner_id")?,
        kind: kind_col(row, "kind")?,
        header_key: row.text("header_key")?,
        header_size: u64_col(row, "header_size")?,
        header_sha256: row.bytes("header_sha256")?,
        payload_key: row.text("payload_key")?,
        payload_size: u64_col(row, "payload_size")?,
        payload_sha256: row.bytes("payload_sha256")?,
        payload_offset: u64_col(row, "payload_offset")?,
        in_database: row.opt_bytes("in_database")?.map(Bytes::from),
    })
}

/// A row of the download statement (`TOKEN_PART_SQL`): the device, and the
/// part when its account may see it (`owner_id` is NULL otherwise).
pub(super) fn token_part_row(
    row: &impl Columns,
) -> StoreResult<(ViewerPrincipal, Option<PartRow>)> {
    let viewer = ViewerPrincipal {
        account_id: row.id("account_id")?,
        device_id: row.id("device_id")?,
        token_hash: hash_col(row, "token_hash")?,
    };
    let part = match row.opt_id("owner_id")? {
        Some(_) => Some(part_row(row)?),
        None => None,
    };
    Ok((viewer, part))
}

/// The blob store keys of deleted parts (`RETURNING header_key,
/// payload_key`), each once: a part stored as one blob names it twice, and
/// a blob the database held went with its row.
pub(super) fn blob_keys<R: Columns>(rows: &[R]) -> StoreResult<Vec<String>> {
    let mut keys = Vec::with_capacity(rows.len() * 2);
    for row in rows {
        let (header, payload) = (row.text("header_key")?, row.text("payload_key")?);
        if header != payload {
            keys.push(header);
        }
        keys.push(payload);
    }
    keys.retain(|key| !in_database(key));
    Ok(keys)
}

/// Events from rows ordered by event, one row per part.
pub(super) fn group_events<R: Columns>(rows: &[R]) -> StoreResult<Vec<EventRow>> {
    let mut events: Vec<EventRow> = Vec::new();
    for row in rows {
        let id = row.id("id")?;
        let part = PartSizes {
            kind: kind_col(row, "kind")?,
            header_size: u64_col(row, "header_size")?,
            payload_size: u64_col(row, "payload_size")?,
        };
        match events.last_mut() {
            Some(last) if last.id == id => last.parts.push(part),
            _ => events.push(EventRow {
                id,
                camera_id: row.id("camera_id")?,
                owner_id: row.id("owner_id")?,
                captured_at: row.int("captured_at")?,
                parts: vec![part],
            }),
        }
    }
    for event in &mut events {
        event.parts.sort_by_key(|p| p.kind);
    }
    Ok(events)
}

/// The list query of one camera's events, newest first, with only the
/// filters given written out: `($2 IS NULL OR captured_at < $2)` kept both
/// planners from using the (camera, time) index's range, so `until=` scanned
/// the camera's events from the newest (224 ms at a million events on
/// SQLite). `id` binds an id as the backend stores it (text or UUID).
pub(super) fn list_events_query<DB, Id>(
    camera_id: Uuid,
    filter: &EventFilter,
    id: impl Fn(Uuid) -> Id,
) -> sqlx::QueryBuilder<DB>
where
    DB: sqlx::Database,
    Id: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut q = sqlx::QueryBuilder::new(
        "SELECT e.id, e.camera_id, c.owner_id, e.captured_at, p.kind, p.header_size, \
         p.payload_size \
         FROM (SELECT id, camera_id, captured_at FROM events WHERE camera_id = ",
    );
    q.push_bind(id(camera_id));
    if let Some(since) = filter.since {
        q.push(" AND captured_at >= ").push_bind(since);
    }
    if let Some(until) = filter.until {
        q.push(" AND captured_at < ").push_bind(until);
    }
    if let Some((time, event)) = filter.before {
        q.push(" AND (captured_at, id) < (")
            .push_bind(time)
            .push(", ")
            .push_bind(id(event))
            .push(")");
    }
    q.push(" ORDER BY captured_at DESC, id DESC LIMIT ")
        .push_bind(i64::from(filter.limit))
        .push(
            ") e JOIN cameras c ON c.id = e.camera_id JOIN parts p ON p.event_id = e.id \
             ORDER BY e.captured_at DESC, e.id DESC",
        );
    q
}
