//! Retention, expired tokens, the orphan sweep and its tombstones, and the
//! listing of every named blob (PostgreSQL).
//!
//! Each function answers the [`Database`](crate::store::Database) method of
//! its name, with the backend as its first argument.

use std::collections::HashSet;

use sqlx::Row as _;
use uuid::Uuid;

use super::{PostgresDatabase, Tx};
use crate::blobs::in_database;
use crate::store::rows::{blob_keys, u64_col};
use crate::store::{BlobRef, StoreError, StoreResult};

/// Takes the per-key advisory locks that serialise the sweep's claim on a
/// blob against recording a part that names it (held until the transaction
/// ends), then fails with [`StoreError::BlobSwept`] if the sweep won.
pub(super) async fn lock_and_refuse_doomed(tx: &mut Tx, keys: &[&str]) -> StoreResult<()> {
    // The sweep only ever claims blob store keys: a key the database holds
    // needs neither the lock nor the check.
    let mut sorted: Vec<&str> = keys.iter().copied().filter(|k| !in_database(k)).collect();
    if sorted.is_empty() {
        return Ok(());
    }
    sorted.sort_unstable();
    sorted.dedup();
    for key in &sorted {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(*key)
            .execute(&mut **tx)
            .await?;
    }
    let doomed: Option<String> =
        sqlx::query_scalar("SELECT key FROM doomed_blobs WHERE key = ANY($1) LIMIT 1")
            .bind(
                sorted
                    .iter()
                    .map(|k| (*k).to_owned())
                    .collect::<Vec<String>>(),
            )
            .fetch_optional(&mut **tx)
            .await?;
    match doomed {
        Some(key) => Err(StoreError::BlobSwept(key)),
        None => Ok(()),
    }
}

pub(super) async fn delete_expired(
    db: &PostgresDatabase,
    now: i64,
    limit: u32,
) -> StoreResult<(u64, Vec<String>)> {
    let mut tx = db.pool.begin().await?;
    // SKIP LOCKED: replicas running retention at once take disjoint batches.
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT e.id FROM events e JOIN cameras c ON c.id = e.camera_id \
         WHERE c.retention_days IS NOT NULL AND e.captured_at < $1 - c.retention_days * 86400 \
         LIMIT $2 FOR UPDATE OF e SKIP LOCKED",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let rows =
        sqlx::query("DELETE FROM parts WHERE event_id = ANY($1) RETURNING header_key, payload_key")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
    let deleted = sqlx::query("DELETE FROM events WHERE id = ANY($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((deleted.rows_affected(), blob_keys(&rows)?))
}

pub(super) async fn delete_expired_tokens(db: &PostgresDatabase, now: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM one_time_tokens WHERE expires_at <= $1")
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

pub(super) async fn claim_orphan(db: &PostgresDatabase, key: &str, now: i64) -> StoreResult<bool> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(&mut *tx)
        .await?;
    // Read after taking the lock: a part recorded by a transaction that
    // held it has committed and is visible to this statement.
    let named: Option<i32> = sqlx::query_scalar(
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
        "INSERT INTO doomed_blobs (key, doomed_at) VALUES ($1, $2) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn named_blobs(
    db: &PostgresDatabase,
    keys: &[String],
) -> StoreResult<HashSet<String>> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let named: Vec<String> = sqlx::query_scalar(
        "SELECT header_key FROM parts WHERE header_key = ANY($1) UNION \
         SELECT payload_key FROM parts WHERE payload_key = ANY($1)",
    )
    .bind(keys)
    .fetch_all(&db.pool)
    .await?;
    Ok(named.into_iter().collect())
}

pub(super) async fn prune_tombstones(db: &PostgresDatabase, before: i64) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM doomed_blobs WHERE doomed_at < $1")
        .bind(before)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

pub(super) async fn list_blobs(
    db: &PostgresDatabase,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<BlobRef>> {
    let rows = sqlx::query(
        "SELECT key, piece_offset, size, sha256 FROM ( \
           SELECT header_key AS key, 0::BIGINT AS piece_offset, header_size AS size, \
             header_sha256 AS sha256 FROM parts \
           UNION ALL \
           SELECT payload_key, payload_offset, payload_size, payload_sha256 FROM parts) b \
         WHERE ($1::TEXT IS NULL OR key > ($1 COLLATE \"C\")) AND key NOT LIKE 'db/%' \
         ORDER BY key COLLATE \"C\", piece_offset LIMIT $2",
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
