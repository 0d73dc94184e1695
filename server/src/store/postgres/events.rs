//! Events and their parts, and the download query (PostgreSQL).
//!
//! Each function answers the [`Database`](crate::store::Database) method of
//! its name, with the backend as its first argument.

use bytes::Bytes;
use sealcam_wire::PartKind;
use uuid::Uuid;

use super::notify::announce;
use super::sweep::lock_and_refuse_doomed;
use super::PostgresDatabase;
use crate::store::rows::{
    blob_keys, group_events, list_events_query, part_row, to_i64, token_part_row,
};
use crate::store::{
    EventFilter, EventRow, InsertPart, NewPart, PartNotice, PartRow, StoreResult, ViewerPrincipal,
};
use crate::tokens::TokenHash;

pub(super) async fn insert_part(db: &PostgresDatabase, part: &NewPart) -> StoreResult<InsertPart> {
    let mut tx = db.pool.begin().await?;
    lock_and_refuse_doomed(&mut tx, &[&part.header_key, &part.payload_key]).await?;
    // FOR KEY SHARE: the camera cannot be deleted until this transaction
    // ends (deleting it takes FOR UPDATE), while its other columns (the set,
    // the set key) stay writable; a camera its owner removed while the body
    // was arriving records nothing.
    let camera: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM cameras WHERE id = $1 FOR KEY SHARE")
            .bind(part.camera_id)
            .fetch_optional(&mut *tx)
            .await?;
    if camera.is_none() {
        return Ok(InsertPart::CameraGone);
    }
    sqlx::query(
        "INSERT INTO events (id, camera_id, captured_at, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(part.event_id)
    .bind(part.camera_id)
    .bind(part.captured_at)
    .bind(part.created_at)
    .execute(&mut *tx)
    .await?;
    // FOR SHARE: the event (and so its camera) cannot be deleted under us
    // before this transaction commits.
    let owner: Option<Uuid> =
        sqlx::query_scalar("SELECT camera_id FROM events WHERE id = $1 FOR SHARE")
            .bind(part.event_id)
            .fetch_optional(&mut *tx)
            .await?;
    if owner != Some(part.camera_id) {
        return Ok(InsertPart::ForeignEvent);
    }
    let done = sqlx::query(
        "INSERT INTO parts (event_id, kind, header_key, header_size, header_sha256, \
         payload_key, payload_size, payload_sha256, payload_offset, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (event_id, kind) DO NOTHING",
    )
    .bind(part.event_id)
    .bind(part.kind.as_str())
    .bind(&part.header_key)
    .bind(to_i64(part.header_size))
    .bind(&part.header_sha256)
    .bind(&part.payload_key)
    .bind(to_i64(part.payload_size))
    .bind(&part.payload_sha256)
    .bind(to_i64(part.payload_offset))
    .bind(part.created_at)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() > 0 {
        if let Some(bytes) = &part.in_database {
            sqlx::query("INSERT INTO part_bytes (key, bytes) VALUES ($1, $2)")
                .bind(&part.payload_key)
                .bind(&bytes[..])
                .execute(&mut *tx)
                .await?;
        }
        let owner_id: Uuid = sqlx::query_scalar("SELECT owner_id FROM cameras WHERE id = $1")
            .bind(part.camera_id)
            .fetch_one(&mut *tx)
            .await?;
        let notice = PartNotice {
            owner_id,
            camera_id: part.camera_id,
            event_id: part.event_id,
            kind: part.kind,
        };
        announce(&mut tx, &notice).await?;
        tx.commit().await?;
        return Ok(InsertPart::Inserted);
    }
    // ON CONFLICT waited for a concurrent insert of the same part to
    // commit; its row is visible to this new statement.
    let row = sqlx::query(CAMERA_PART_SQL)
        .bind(part.event_id)
        .bind(part.kind.as_str())
        .bind(part.camera_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(InsertPart::Exists(Box::new(part_row(&row)?)))
}

pub(super) async fn camera_part(
    db: &PostgresDatabase,
    camera_id: Uuid,
    event_id: Uuid,
    kind: PartKind,
) -> StoreResult<Option<PartRow>> {
    let row = sqlx::query(CAMERA_PART_SQL)
        .bind(event_id)
        .bind(kind.as_str())
        .bind(camera_id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(part_row).transpose()
}

pub(super) async fn viewer_part(
    db: &PostgresDatabase,
    account_id: Uuid,
    event_id: Uuid,
    kind: PartKind,
) -> StoreResult<Option<PartRow>> {
    let row = sqlx::query(VIEWER_PART_SQL)
        .bind(account_id)
        .bind(event_id)
        .bind(kind.as_str())
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(part_row).transpose()
}

pub(super) async fn viewer_part_by_token(
    db: &PostgresDatabase,
    token: &TokenHash,
    event_id: Uuid,
    kind: PartKind,
) -> StoreResult<Option<(ViewerPrincipal, Option<PartRow>)>> {
    let row = sqlx::query(TOKEN_PART_SQL)
        .bind(&token[..])
        .bind(event_id)
        .bind(kind.as_str())
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(token_part_row).transpose()
}

pub(super) async fn viewer_event(
    db: &PostgresDatabase,
    account_id: Uuid,
    event_id: Uuid,
) -> StoreResult<Option<EventRow>> {
    let rows = sqlx::query(concat!(
        "SELECT e.id, e.camera_id, c.owner_id, e.captured_at, p.kind, p.header_size, \
         p.payload_size FROM events e JOIN cameras c ON c.id = e.camera_id \
         JOIN parts p ON p.event_id = e.id WHERE e.id = $2 AND ",
        visible!()
    ))
    .bind(account_id)
    .bind(event_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(group_events(&rows)?.into_iter().next())
}

pub(super) async fn list_events(
    db: &PostgresDatabase,
    camera_id: Uuid,
    filter: EventFilter,
) -> StoreResult<Vec<EventRow>> {
    let mut q = list_events_query(camera_id, &filter, |u| u);
    let rows = q.build().fetch_all(&db.pool).await?;
    group_events(&rows)
}

pub(super) async fn replace_header(
    db: &PostgresDatabase,
    owner_id: Uuid,
    event_id: Uuid,
    kind: PartKind,
    header_key: &str,
    header_size: u64,
    header_sha256: &[u8],
) -> StoreResult<Option<Vec<String>>> {
    let mut tx = db.pool.begin().await?;
    // FOR UPDATE OF p: two concurrent re-wraps of one part serialise, and
    // each returns the key it replaced (so every old header is deleted).
    let old: Option<(String, String)> = sqlx::query_as(
        "SELECT p.header_key, p.payload_key FROM parts p JOIN events e ON e.id = p.event_id \
         JOIN cameras c ON c.id = e.camera_id \
         WHERE p.event_id = $1 AND p.kind = $2 AND c.owner_id = $3 FOR UPDATE OF p",
    )
    .bind(event_id)
    .bind(kind.as_str())
    .bind(owner_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((old_header, payload_key)) = old else {
        return Ok(None);
    };
    lock_and_refuse_doomed(&mut tx, &[header_key]).await?;
    sqlx::query(
        "UPDATE parts SET header_key = $1, header_size = $2, header_sha256 = $3 \
         WHERE event_id = $4 AND kind = $5",
    )
    .bind(header_key)
    .bind(to_i64(header_size))
    .bind(header_sha256)
    .bind(event_id)
    .bind(kind.as_str())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // A part stored as one blob keeps it: the payload is still in there.
    Ok(Some(if old_header == payload_key {
        Vec::new()
    } else {
        vec![old_header]
    }))
}

pub(super) async fn delete_event(
    db: &PostgresDatabase,
    owner_id: Uuid,
    event_id: Uuid,
) -> StoreResult<Option<Vec<String>>> {
    let mut tx = db.pool.begin().await?;
    let found: Option<Uuid> = sqlx::query_scalar(
        "SELECT e.id FROM events e JOIN cameras c ON c.id = e.camera_id \
         WHERE e.id = $1 AND c.owner_id = $2 FOR UPDATE OF e",
    )
    .bind(event_id)
    .bind(owner_id)
    .fetch_optional(&mut *tx)
    .await?;
    if found.is_none() {
        return Ok(None);
    }
    let rows =
        sqlx::query("DELETE FROM parts WHERE event_id = $1 RETURNING header_key, payload_key")
            .bind(event_id)
            .fetch_all(&mut *tx)
            .await?;
    sqlx::query("DELETE FROM events WHERE id = $1")
        .bind(event_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(blob_keys(&rows)?))
}

const CAMERA_PART_SQL: &str = "SELECT p.event_id, e.camera_id, c.owner_id, p.kind, p.header_key, \
     p.header_size, p.header_sha256, p.payload_key, p.payload_size, p.payload_sha256, p.payload_offset, \
     NULL::BYTEA AS in_database FROM parts p JOIN events e ON e.id = p.event_id JOIN cameras c ON c.id = e.camera_id \
     WHERE p.event_id = $1 AND p.kind = $2 AND e.camera_id = $3";

const VIEWER_PART_SQL: &str = concat!(
    "SELECT p.event_id, e.camera_id, c.owner_id, p.kind, p.header_key, \
     p.header_size, p.header_sha256, p.payload_key, p.payload_size, p.payload_sha256, p.payload_offset, \
     NULL::BYTEA AS in_database FROM parts p JOIN events e ON e.id = p.event_id JOIN cameras c ON c.id = e.camera_id \
     WHERE p.event_id = $2 AND p.kind = $3 AND ",
    visible!()
);

/// A device by token hash ($1) and, when its account may see it, the part
/// ($2, $3): one round trip for a download.
const TOKEN_PART_SQL: &str = "SELECT d.id AS device_id, d.account_id, d.token_hash, \
     p.event_id, e.camera_id, c.owner_id, p.kind, p.header_key, p.header_size, \
     p.header_sha256, p.payload_key, p.payload_size, p.payload_sha256, p.payload_offset, \
     b.bytes AS in_database \
     FROM devices d \
     LEFT JOIN parts p ON p.event_id = $2 AND p.kind = $3 \
     LEFT JOIN events e ON e.id = p.event_id \
     LEFT JOIN cameras c ON c.id = e.camera_id AND (c.owner_id = d.account_id \
       OR EXISTS (SELECT 1 FROM shares s WHERE s.camera_id = c.id AND s.account_id = d.account_id)) \
     LEFT JOIN part_bytes b ON b.key = p.payload_key AND c.id IS NOT NULL \
     WHERE d.token_hash = $1";

pub(super) async fn account_usage(db: &PostgresDatabase, account_id: Uuid) -> StoreResult<u64> {
    let bytes: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(p.header_size + p.payload_size), 0) AS BIGINT) FROM cameras c \
         JOIN events e ON e.camera_id = c.id JOIN parts p ON p.event_id = e.id WHERE c.owner_id = $1",
    )
    .bind(account_id)
    .fetch_one(&db.pool)
    .await?;
    Ok(u64::try_from(bytes).unwrap_or(0))
}

pub(super) async fn part_bytes(db: &PostgresDatabase, key: &str) -> StoreResult<Option<Bytes>> {
    let bytes: Option<Vec<u8>> = sqlx::query_scalar("SELECT bytes FROM part_bytes WHERE key = $1")
        .bind(key)
        .fetch_optional(&db.pool)
        .await?;
    Ok(bytes.map(Bytes::from))
}
