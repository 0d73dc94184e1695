//! Cameras, their recipient sets and shares (SQLite).
//!
//! Each function answers the [`Database`](crate::store::Database) method of
//! its name, with the backend as its first argument.

use sealcam_wire::CameraRole;
use sqlx::Row as _;
use uuid::Uuid;

use super::SqliteDatabase;
use crate::store::rows::{
    blob_keys, hash_col, status_col, stored_set_row, to_i64, uuid_col, Columns,
};
use crate::store::{
    CameraPrincipal, CameraRow, NewCamera, ShareRow, StoreResult, StoredSet, Written,
};
use crate::tokens::TokenHash;

pub(super) async fn register_camera(
    db: &SqliteDatabase,
    claim: &TokenHash,
    camera: &NewCamera,
    now: i64,
) -> StoreResult<Option<Uuid>> {
    let mut tx = db.write_tx().await?;
    let row = sqlx::query(
        "DELETE FROM one_time_tokens WHERE token_hash = $1 AND kind = 'claim' \
         AND expires_at > $2 RETURNING account_id",
    )
    .bind(&claim[..])
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let owner_id = uuid_col(&row, "account_id")?;
    sqlx::query(
        "INSERT INTO cameras (id, owner_id, token_hash, status, device_public_key, \
         pairing_proof, created_at) VALUES ($1, $2, $3, 'pending', $4, $5, $6)",
    )
    .bind(camera.id.to_string())
    .bind(owner_id.to_string())
    .bind(&camera.token_hash[..])
    .bind(&camera.device_public_key)
    .bind(&camera.pairing_proof)
    .bind(camera.created_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(owner_id))
}

pub(super) async fn camera_by_token(
    db: &SqliteDatabase,
    hash: &TokenHash,
) -> StoreResult<Option<CameraPrincipal>> {
    // Every camera request asks: in place first (see `inline`), the pool
    // when that gives no answer.
    if let Some(inline) = &db.inline {
        match inline.row(CAMERA_BY_TOKEN_SQL, [&hash[..]], |row| {
            camera_principal(row)
        }) {
            Ok(found) => return Ok(found),
            Err(e) => tracing::debug!(error = %e, "in-place read failed; asking the pool"),
        }
    }
    let row = sqlx::query(CAMERA_BY_TOKEN_SQL)
        .bind(&hash[..])
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(camera_principal).transpose()
}

const CAMERA_BY_TOKEN_SQL: &str =
    "SELECT id, owner_id, status, token_hash FROM cameras WHERE token_hash = $1";

fn camera_principal(row: &impl Columns) -> StoreResult<CameraPrincipal> {
    Ok(CameraPrincipal {
        camera_id: uuid_col(row, "id")?,
        owner_id: uuid_col(row, "owner_id")?,
        status: status_col(row)?,
        token_hash: hash_col(row, "token_hash")?,
    })
}

pub(super) async fn list_cameras(
    db: &SqliteDatabase,
    account_id: Uuid,
) -> StoreResult<Vec<CameraRow>> {
    let rows = sqlx::query(concat!(
        "SELECT c.id, c.owner_id, c.status, c.device_public_key, c.pairing_proof, \
         c.created_at, c.retention_days, \
         CASE WHEN c.owner_id = $1 THEN c.set_key END AS set_key FROM cameras c WHERE ",
        visible!(),
        " ORDER BY c.created_at, c.id"
    ))
    .bind(account_id.to_string())
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            let owner_id = uuid_col(row, "owner_id")?;
            let retention: Option<i64> = row.try_get("retention_days")?;
            Ok(CameraRow {
                id: uuid_col(row, "id")?,
                owner_id,
                status: status_col(row)?,
                device_public_key: row.try_get("device_public_key")?,
                pairing_proof: row.try_get("pairing_proof")?,
                created_at: row.try_get("created_at")?,
                retention_days: retention.and_then(|d| u32::try_from(d).ok()),
                role: if owner_id == account_id {
                    CameraRole::Owner
                } else {
                    CameraRole::Shared
                },
                set_key: row.try_get("set_key")?,
            })
        })
        .collect()
}

pub(super) async fn put_set_key(
    db: &SqliteDatabase,
    camera_id: Uuid,
    set_key: &str,
) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE cameras SET set_key = $1 WHERE id = $2")
        .bind(set_key)
        .bind(camera_id.to_string())
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn camera_role(
    db: &SqliteDatabase,
    account_id: Uuid,
    camera_id: Uuid,
) -> StoreResult<Option<CameraRole>> {
    let owner: Option<String> = sqlx::query_scalar(concat!(
        "SELECT c.owner_id FROM cameras c WHERE c.id = $2 AND ",
        visible!()
    ))
    .bind(account_id.to_string())
    .bind(camera_id.to_string())
    .fetch_optional(&db.pool)
    .await?;
    Ok(owner.map(|owner| {
        if owner == account_id.to_string() {
            CameraRole::Owner
        } else {
            CameraRole::Shared
        }
    }))
}

pub(super) async fn confirm_camera(
    db: &SqliteDatabase,
    owner_id: Uuid,
    camera_id: Uuid,
) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE cameras SET status = 'active' WHERE id = $1 AND owner_id = $2")
        .bind(camera_id.to_string())
        .bind(owner_id.to_string())
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_camera(
    db: &SqliteDatabase,
    owner_id: Uuid,
    camera_id: Uuid,
) -> StoreResult<Option<Vec<String>>> {
    let mut tx = db.write_tx().await?;
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM cameras WHERE id = $1 AND owner_id = $2")
            .bind(camera_id.to_string())
            .bind(owner_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    if found.is_none() {
        return Ok(None);
    }
    let rows = sqlx::query(
        "DELETE FROM parts WHERE event_id IN (SELECT id FROM events WHERE camera_id = $1) \
         RETURNING header_key, payload_key",
    )
    .bind(camera_id.to_string())
    .fetch_all(&mut *tx)
    .await?;
    let keys = blob_keys(&rows)?;
    for sql in [
        "DELETE FROM events WHERE camera_id = $1",
        "DELETE FROM shares WHERE camera_id = $1",
        "DELETE FROM cameras WHERE id = $1",
    ] {
        sqlx::query(sql)
            .bind(camera_id.to_string())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Some(keys))
}

pub(super) async fn recipient_set(
    db: &SqliteDatabase,
    camera_id: Uuid,
) -> StoreResult<Option<StoredSet>> {
    let row = sqlx::query(
        "SELECT c.set_epoch, c.set_data, a.key_log FROM cameras c \
         JOIN accounts a ON a.id = c.owner_id WHERE c.id = $1 AND c.set_epoch IS NOT NULL",
    )
    .bind(camera_id.to_string())
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(stored_set_row).transpose()
}

pub(super) async fn put_recipient_set(
    db: &SqliteDatabase,
    owner_id: Uuid,
    camera_id: Uuid,
    epoch: u64,
    set: &[u8],
    supersede: bool,
) -> StoreResult<Written> {
    let mut tx = db.write_tx().await?;
    let current: Option<Option<i64>> =
        sqlx::query_scalar("SELECT set_epoch FROM cameras WHERE id = $1 AND owner_id = $2")
            .bind(camera_id.to_string())
            .bind(owner_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    let Some(current) = current else {
        return Ok(Written::NotFound);
    };
    if !supersede && current.is_some_and(|c| c >= to_i64(epoch)) {
        return Ok(Written::Refused);
    }
    sqlx::query("UPDATE cameras SET set_epoch = $1, set_data = $2 WHERE id = $3")
        .bind(to_i64(epoch))
        .bind(set)
        .bind(camera_id.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Written::Stored)
}

pub(super) async fn set_retention(
    db: &SqliteDatabase,
    owner_id: Uuid,
    camera_id: Uuid,
    days: Option<u32>,
) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE cameras SET retention_days = $1 WHERE id = $2 AND owner_id = $3")
            .bind(days.map(i64::from))
            .bind(camera_id.to_string())
            .bind(owner_id.to_string())
            .execute(&db.pool)
            .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn list_shares(
    db: &SqliteDatabase,
    owner_id: Uuid,
    camera_id: Uuid,
) -> StoreResult<Option<Vec<ShareRow>>> {
    let mut tx = db.pool.begin().await?;
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM cameras WHERE id = $1 AND owner_id = $2")
            .bind(camera_id.to_string())
            .bind(owner_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    if found.is_none() {
        return Ok(None);
    }
    let rows = sqlx::query(
        "SELECT account_id, created_at FROM shares WHERE camera_id = $1 ORDER BY created_at, account_id",
    )
    .bind(camera_id.to_string())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|row| {
            Ok(ShareRow {
                account_id: uuid_col(row, "account_id")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()
        .map(Some)
}

pub(super) async fn put_share(
    db: &SqliteDatabase,
    owner_id: Uuid,
    camera_id: Uuid,
    account_id: Uuid,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO shares (camera_id, account_id, created_at) \
         SELECT c.id, a.id, $1 FROM cameras c, accounts a \
         WHERE c.id = $2 AND c.owner_id = $3 AND a.id = $4 AND a.id <> c.owner_id \
         ON CONFLICT (camera_id, account_id) DO NOTHING",
    )
    .bind(now)
    .bind(camera_id.to_string())
    .bind(owner_id.to_string())
    .bind(account_id.to_string())
    .execute(&db.pool)
    .await?;
    if done.rows_affected() > 0 {
        return Ok(true);
    }
    // Already shared (idempotent) or nothing to share: tell them apart.
    let exists: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM shares s JOIN cameras c ON c.id = s.camera_id \
         WHERE s.camera_id = $1 AND c.owner_id = $2 AND s.account_id = $3",
    )
    .bind(camera_id.to_string())
    .bind(owner_id.to_string())
    .bind(account_id.to_string())
    .fetch_optional(&db.pool)
    .await?;
    Ok(exists.is_some())
}

pub(super) async fn delete_share(
    db: &SqliteDatabase,
    owner_id: Uuid,
    camera_id: Uuid,
    account_id: Uuid,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM shares WHERE camera_id = $1 AND account_id = $2 \
         AND camera_id IN (SELECT id FROM cameras WHERE owner_id = $3)",
    )
    .bind(camera_id.to_string())
    .bind(account_id.to_string())
    .bind(owner_id.to_string())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}
