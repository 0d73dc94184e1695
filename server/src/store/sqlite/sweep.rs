//! Retention, expired tokens, the orphan sweep and its tombstones, and the
//! listing of every named blob (SQLite).
//!
//! Each function answers the [`Database`](crate::store::Database) method of
//! its name, with the backend as its first argument.

use std::collections::HashSet;

use sqlx::Row as _;

use super::SqliteDatabase;
use crate::store::rows::{blob_keys, u64_col};
use crate::store::{BlobRef, StoreError, StoreResult};

/// Fails with [`StoreError::BlobSwept`] when the sweep claimed one of `keys`.
/// Inside a write transaction (`BEGIN IMMEDIATE`: SQLite has one writer, so
/// the sweep's claim and this check cannot interleave).
pub(super) async fn refuse_doomed(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    keys: &[&str],
) -> StoreResult<()> {
    for key in keys {
        let doomed: Option<i64> = sqlx::query_scalar("SELECT 1 FROM doomed_blobs WHERE key = $1")
            .bind(*key)
            .fetch_optional(&mut **tx)
            .await?;
        if doomed.is_some() {
            return Err(StoreError::BlobSwept((*key).to_owned()));
        }
    }
    Ok(())
}

pub(super) async fn delete_expired(
    db: &SqliteDatabase,
    now: i64,
    limit: u32,
) -> StoreResult<(u64, Vec<String>)> {
    let mut tx = db.write_tx().await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT e.id FROM events e JOIN cameras c ON c.id = e.camera_id \
         WHERE c.retention_days IS NOT NULL AND e.captured_at < $1 - c.retention_days * 86400 \
         LIMIT $2",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut keys = Vec::new();
    for id in &ids {
        let rows =
            sqlx::query("DELETE FROM parts WHERE event_id = $1 RETURNING header_key, payload_key")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        keys.extend(blob_keys(&rows)?);
        sqlx::query("DELETE FROM events WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((ids.len() as u64, keys))
}

pub(super) async fn delete_expired_tokens(db: &SqliteDatabase, now: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM one_time_tokens WHERE expires_at <= $1")
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

pub(super) async fn claim_orphan(db: &SqliteDatabase, key: &str, now: i64) -> StoreResult<bool> {
    let mut tx = db.write_tx().await?;
    let named: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM parts WHERE header_key = $1 UNION ALL \
         SELECT 1 FROM parts WHERE payload_key = $1 LIMIT 1",
    )
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    if named.is_some() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO doomed_blobs (key, doomed_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn named_blobs(
    db: &SqliteDatabase,
    keys: &[String],
) -> StoreResult<HashSet<String>> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    // $1…$N, used by both lists.
    let list = (1..=keys.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT header_key FROM parts WHERE header_key IN ({list}) UNION \
         SELECT payload_key FROM parts WHERE payload_key IN ({list})"
    );
    let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
    for key in keys {
        query = query.bind(key);
    }
    Ok(query.fetch_all(&db.pool).await?.into_iter().collect())
}

pub(super) async fn prune_tombstones(db: &SqliteDatabase, before: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM doomed_blobs WHERE doomed_at < $1")
        .bind(before)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

pub(super) async fn list_blobs(
    db: &SqliteDatabase,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<BlobRef>> {
    let rows = sqlx::query(
        "SELECT key, piece_offset, size, sha256 FROM ( \
           SELECT header_key AS key, 0 AS piece_offset, header_size AS size, \
             header_sha256 AS sha256 FROM parts \
           UNION ALL \
           SELECT payload_key, payload_offset, payload_size, payload_sha256 FROM parts) \
         WHERE ($1 IS NULL OR key > $1) AND key NOT LIKE 'db/%' \
         ORDER BY key, piece_offset LIMIT $2",
    )
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(BlobRef {
                key: row.try_get("key")?,
                offset: u64_col(row, "piece_offset")?,
                size: u64_col(row, "size")?,
                sha256: row.try_get("sha256")?,
            })
        })
        .collect()
}
