//! Events and their parts, and the download query (SQLite).
//!
//! Each function answers the [`Database`](crate::store::Database) method of
//! its name, with the backend as its first argument.

use bytes::Bytes;
use sealcam_wire::PartKind;
use uuid::Uuid;

use super::inline::part_at;
use super::sweep::refuse_doomed;
use super::SqliteDatabase;
use crate::store::rows::{
    blob_keys, group_events, list_events_query, part_row, to_i64, token_part_row,
};
use crate::store::{
    EventFilter, EventRow, InsertPart, NewPart, PartRow, StoreResult, ViewerPrincipal,
};
use crate::tokens::TokenHash;

pub(super) async fn insert_part(db: &SqliteDatabase, part: &NewPart) -> StoreResult<InsertPart> {
    db.group.insert_part(part).await
}

pub(super) async fn camera_part(
    db: &SqliteDatabase,
    camera_id: Uuid,
    event_id: Uuid,
    kind: PartKind,
) -> StoreResult<Option<PartRow>> {
    // Every upload asks: in place first (see `inline`), the pool when that
    // gives no answer.
    if let Some(inline) = &db.inline {
        let params = (event_id.to_string(), kind.as_str(), camera_id.to_string());
        match inline.row(CAMERA_PART_SQL, params, |row| part_at(row, 0)) {
            Ok(found) => return Ok(found),
            Err(e) => tracing::debug!(error = %e, "in-place read failed; asking the pool"),
        }
    }
    let row = sqlx::query(CAMERA_PART_SQL)
        .bind(event_id.to_string())
        .bind(kind.as_str())
        .bind(camera_id.to_string())
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(part_row).transpose()
}

pub(super) async fn viewer_part(
    db: &SqliteDatabase,
    account_id: Uuid,
    event_id: Uuid,
    kind: PartKind,
) -> StoreResult<Option<PartRow>> {
    let row = sqlx::query(VIEWER_PART_SQL)
        .bind(account_id.to_string())
        .bind(event_id.to_string())
        .bind(kind.as_str())
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(part_row).transpose()
}

pub(super) async fn viewer_part_by_token(
    db: &SqliteDatabase,
    token: &TokenHash,
    event_id: Uuid,
    kind: PartKind,
) -> StoreResult<Option<(ViewerPrincipal, Option<PartRow>)>> {
    if let Some(inline) = &db.inline {
        match inline.token_part(TOKEN_PART_SQL, token, event_id, kind) {
            Ok(found) => return Ok(found),
            Err(e) => tracing::debug!(error = %e, "in-place read failed; asking the pool"),
        }
    }
    pooled_part_by_token(db, token, event_id, kind).await
}

pub(super) async fn viewer_event(
    db: &SqliteDatabase,
    account_id: Uuid,
    event_id: Uuid,
) -> StoreResult<Option<EventRow>> {
    let rows = sqlx::query(concat!(
        "SELECT e.id, e.camera_id, c.owner_id, e.captured_at, p.kind, p.header_size, \
         p.payload_size FROM events e JOIN cameras c ON c.id = e.camera_id \
         JOIN parts p ON p.event_id = e.id WHERE e.id = $2 AND ",
        visible!()
    ))
    .bind(account_id.to_string())
    .bind(event_id.to_string())
    .fetch_all(&db.pool)
    .await?;
    Ok(group_events(&rows)?.into_iter().next())
}

pub(super) async fn list_events(
    db: &SqliteDatabase,
    camera_id: Uuid,
    filter: EventFilter,
) -> StoreResult<Vec<EventRow>> {
    let mut q = list_events_query(camera_id, &filter, |u| u.to_string());
    let rows = q.build().fetch_all(&db.pool).await?;
    group_events(&rows)
}

pub(super) async fn replace_header(
    db: &SqliteDatabase,
    owner_id: Uuid,
    event_id: Uuid,
    kind: PartKind,
    header_key: &str,
    header_size: u64,
    header_sha256: &[u8],
) -> StoreResult<Option<Vec<String>>> {
    let mut tx = db.write_tx().await?;
    let old: Option<(String, String)> = sqlx::query_as(
        "SELECT p.header_key, p.payload_key FROM parts p JOIN events e ON e.id = p.event_id \
         JOIN cameras c ON c.id = e.camera_id \
         WHERE p.event_id = $1 AND p.kind = $2 AND c.owner_id = $3",
    )
    .bind(event_id.to_string())
    .bind(kind.as_str())
    .bind(owner_id.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((old_header, payload_key)) = old else {
        return Ok(None);
    };
    refuse_doomed(&mut tx, &[header_key]).await?;
    sqlx::query(
        "UPDATE parts SET header_key = $1, header_size = $2, header_sha256 = $3 \
         WHERE event_id = $4 AND kind = $5",
    )
    .bind(header_key)
    .bind(to_i64(header_size))
    .bind(header_sha256)
    .bind(event_id.to_string())
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
    db: &SqliteDatabase,
    owner_id: Uuid,
    event_id: Uuid,
) -> StoreResult<Option<Vec<String>>> {
    let mut tx = db.write_tx().await?;
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM events e JOIN cameras c ON c.id = e.camera_id \
         WHERE e.id = $1 AND c.owner_id = $2",
    )
    .bind(event_id.to_string())
    .bind(owner_id.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    if found.is_none() {
        return Ok(None);
    }
    let rows =
        sqlx::query("DELETE FROM parts WHERE event_id = $1 RETURNING header_key, payload_key")
            .bind(event_id.to_string())
            .fetch_all(&mut *tx)
            .await?;
    sqlx::query("DELETE FROM events WHERE id = $1")
        .bind(event_id.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(blob_keys(&rows)?))
}

/// [`Database::viewer_part_by_token`](crate::store::Database::viewer_part_by_token) through the sqlx pool: the path
/// when the in-place read is unavailable or fails.
pub(super) async fn pooled_part_by_token(
    db: &SqliteDatabase,
    token: &TokenHash,
    event_id: Uuid,
    kind: PartKind,
) -> StoreResult<Option<(ViewerPrincipal, Option<PartRow>)>> {
    let row = sqlx::query(TOKEN_PART_SQL)
        .bind(&token[..])
        .bind(event_id.to_string())
        .bind(kind.as_str())
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(token_part_row).transpose()
}

pub(super) const CAMERA_PART_SQL: &str = "SELECT p.event_id, e.camera_id, c.owner_id, p.kind, p.header_key, \
     p.header_size, p.header_sha256, p.payload_key, p.payload_size, p.payload_sha256, p.payload_offset, \
     NULL AS in_database FROM parts p JOIN events e ON e.id = p.event_id JOIN cameras c ON c.id = e.camera_id \
     WHERE p.event_id = $1 AND p.kind = $2 AND e.camera_id = $3";

const VIEWER_PART_SQL: &str = concat!(
    "SELECT p.event_id, e.camera_id, c.owner_id, p.kind, p.header_key, \
     p.header_size, p.header_sha256, p.payload_key, p.payload_size, p.payload_sha256, p.payload_offset, \
     NULL AS in_database FROM parts p JOIN events e ON e.id = p.event_id JOIN cameras c ON c.id = e.camera_id \
     WHERE p.event_id = $2 AND p.kind = $3 AND ",
    visible!()
);

/// A device by token hash (?1) and, when its account may see it, the part
/// (?2, ?3): one round trip for a download. [`super::inline`] reads its columns
/// by position: keep the select list's order. It also binds by position, so
/// the placeholders stay `?N` (SQLite numbers `$N` by first appearance).
pub(super) const TOKEN_PART_SQL: &str = "SELECT d.id AS device_id, d.account_id, d.token_hash, \
     p.event_id, e.camera_id, c.owner_id, p.kind, p.header_key, p.header_size, \
     p.header_sha256, p.payload_key, p.payload_size, p.payload_sha256, p.payload_offset, \
     b.bytes AS in_database \
     FROM devices d \
     LEFT JOIN parts p ON p.event_id = ?2 AND p.kind = ?3 \
     LEFT JOIN events e ON e.id = p.event_id \
     LEFT JOIN cameras c ON c.id = e.camera_id AND (c.owner_id = d.account_id \
       OR EXISTS (SELECT 1 FROM shares s WHERE s.camera_id = c.id AND s.account_id = d.account_id)) \
     LEFT JOIN part_bytes b ON b.key = p.payload_key AND c.id IS NOT NULL \
     WHERE d.token_hash = ?1";

pub(super) async fn account_usage(db: &SqliteDatabase, account_id: Uuid) -> StoreResult<u64> {
    let bytes: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(p.header_size + p.payload_size), 0) AS BIGINT) FROM cameras c \
         JOIN events e ON e.camera_id = c.id JOIN parts p ON p.event_id = e.id WHERE c.owner_id = $1",
    )
    .bind(account_id.to_string())
    .fetch_one(&db.pool)
    .await?;
    Ok(u64::try_from(bytes).unwrap_or(0))
}

pub(super) async fn part_bytes(db: &SqliteDatabase, key: &str) -> StoreResult<Option<Bytes>> {
    let bytes: Option<Vec<u8>> = sqlx::query_scalar("SELECT bytes FROM part_bytes WHERE key = $1")
        .bind(key)
        .fetch_optional(&db.pool)
        .await?;
    Ok(bytes.map(Bytes::from))
}
