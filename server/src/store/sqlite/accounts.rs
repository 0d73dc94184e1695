//! Accounts, their devices, one-time tokens and opaque records (SQLite).
//!
//! Each function answers the [`Database`](crate::store::Database) method of
//! its name, with the backend as its first argument.

use uuid::Uuid;

use super::SqliteDatabase;
use crate::store::rows::{device_row, device_token_stored, hash_col, uuid_col, DEVICE_TOKEN_SQL};
use crate::store::{
    recovery_step, DeviceDeleted, DeviceRole, DeviceRow, NewDevice, OneTimeKind, RecordKind,
    RecoveryOutcome, RecoveryStep, StoreError, StoreResult, ViewerPrincipal, Written,
};
use crate::tokens::TokenHash;

/// Inserts a device of `account_id` with `role` (`viewer` or `recovery`).
async fn insert_device(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    account_id: Uuid,
    device: NewDevice<'_>,
    role: DeviceRole,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO devices (id, account_id, name, token_hash, created_at, role, viewer_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(device.id.to_string())
    .bind(account_id.to_string())
    .bind(device.name)
    .bind(&device.token_hash[..])
    .bind(now)
    .bind(role.as_str())
    .bind(device.viewer_key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn create_account(
    db: &SqliteDatabase,
    id: Uuid,
    name: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(id.to_string())
        .bind(name)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub(super) async fn account_name(
    db: &SqliteDatabase,
    account_id: Uuid,
) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT name FROM accounts WHERE id = $1")
            .bind(account_id.to_string())
            .fetch_optional(&db.pool)
            .await?,
    )
}

pub(super) async fn create_one_time(
    db: &SqliteDatabase,
    kind: OneTimeKind,
    hash: &TokenHash,
    account_id: Uuid,
    viewer_key: Option<&str>,
    expires_at: i64,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO one_time_tokens (token_hash, kind, account_id, viewer_key, expires_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&hash[..])
    .bind(kind.as_str())
    .bind(account_id.to_string())
    .bind(viewer_key)
    .bind(expires_at)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub(super) async fn create_device_token(
    db: &SqliteDatabase,
    kind: OneTimeKind,
    hash: &TokenHash,
    creator: &ViewerPrincipal,
    viewer_key: Option<&str>,
    expires_at: i64,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(DEVICE_TOKEN_SQL)
        .bind(&hash[..])
        .bind(kind.as_str())
        .bind(creator.account_id.to_string())
        .bind(viewer_key)
        .bind(expires_at)
        .bind(now)
        .bind(creator.device_id.to_string())
        .execute(&db.pool)
        .await;
    device_token_stored(done.map(|d| d.rows_affected()))
}

pub(super) async fn enroll(
    db: &SqliteDatabase,
    token: &TokenHash,
    device: NewDevice<'_>,
    now: i64,
) -> StoreResult<Option<Uuid>> {
    let mut tx = db.write_tx().await?;
    // A token bound to a viewer key is consumed only with that key
    // (`viewer_key = NULL` is not true: an unbound request leaves it).
    let row = sqlx::query(
        "DELETE FROM one_time_tokens WHERE token_hash = $1 AND kind IN ('enroll', 'link') \
         AND expires_at > $2 AND (viewer_key IS NULL OR viewer_key = $3) RETURNING account_id",
    )
    .bind(&token[..])
    .bind(now)
    .bind(device.viewer_key)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let account_id = uuid_col(&row, "account_id")?;
    insert_device(&mut tx, account_id, device, DeviceRole::Viewer, now).await?;
    tx.commit().await?;
    Ok(Some(account_id))
}

pub(super) async fn viewer_by_token(
    db: &SqliteDatabase,
    hash: &TokenHash,
) -> StoreResult<Option<ViewerPrincipal>> {
    let row = sqlx::query("SELECT id, account_id, token_hash FROM devices WHERE token_hash = $1")
        .bind(&hash[..])
        .fetch_optional(&db.pool)
        .await?;
    row.map(|row| {
        Ok(ViewerPrincipal {
            account_id: uuid_col(&row, "account_id")?,
            device_id: uuid_col(&row, "id")?,
            token_hash: hash_col(&row, "token_hash")?,
        })
    })
    .transpose()
}

pub(super) async fn list_devices(
    db: &SqliteDatabase,
    account_id: Uuid,
) -> StoreResult<Vec<DeviceRow>> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, role, viewer_key FROM devices WHERE account_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(account_id.to_string())
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(device_row).collect()
}

pub(super) async fn delete_device(
    db: &SqliteDatabase,
    account_id: Uuid,
    caller_device: Uuid,
    device_id: Uuid,
) -> StoreResult<DeviceDeleted> {
    // The rule is in the DELETE; the read after it only tells the two
    // refusals apart.
    let done = sqlx::query(
        "DELETE FROM devices WHERE id = $1 AND account_id = $2 \
         AND (role <> 'recovery' OR id = $3)",
    )
    .bind(device_id.to_string())
    .bind(account_id.to_string())
    .bind(caller_device.to_string())
    .execute(&db.pool)
    .await?;
    if done.rows_affected() > 0 {
        return Ok(DeviceDeleted::Deleted);
    }
    let kept: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM devices WHERE id = $1 AND account_id = $2")
            .bind(device_id.to_string())
            .bind(account_id.to_string())
            .fetch_optional(&db.pool)
            .await?;
    Ok(if kept.is_some() {
        DeviceDeleted::RecoveryDevice
    } else {
        DeviceDeleted::NotFound
    })
}

pub(super) async fn register_recovery(
    db: &SqliteDatabase,
    account_id: Uuid,
    caller_device: Uuid,
    device: NewDevice<'_>,
    now: i64,
) -> StoreResult<RecoveryOutcome> {
    // BEGIN IMMEDIATE: SQLite's one writer, so the reads and the write
    // below cannot interleave with another registration.
    let mut tx = db.write_tx().await?;
    let holder = sqlx::query("SELECT id, account_id FROM devices WHERE token_hash = $1")
        .bind(&device.token_hash[..])
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| Ok::<_, StoreError>((uuid_col(&row, "id")?, uuid_col(&row, "account_id")?)))
        .transpose()?;
    let recovery: Option<String> =
        sqlx::query_scalar("SELECT id FROM devices WHERE account_id = $1 AND role = 'recovery'")
            .bind(account_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    let recovery = recovery
        .map(|id| Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(format!("id: {e}"))))
        .transpose()?;
    let outcome = match recovery_step(account_id, caller_device, holder, recovery) {
        RecoveryStep::Answer(outcome) => return Ok(outcome),
        RecoveryStep::Create => {
            insert_device(&mut tx, account_id, device, DeviceRole::Recovery, now).await?;
            RecoveryOutcome::Created
        }
        RecoveryStep::Replace(id) => {
            sqlx::query("UPDATE devices SET token_hash = $1 WHERE id = $2 AND role = 'recovery'")
                .bind(&device.token_hash[..])
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            RecoveryOutcome::Replaced
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

pub(super) async fn get_record(
    db: &SqliteDatabase,
    account_id: Uuid,
    kind: RecordKind,
) -> StoreResult<Option<Vec<u8>>> {
    let sql = match kind {
        RecordKind::KeyBundle => "SELECT key_bundle FROM accounts WHERE id = $1",
        RecordKind::Viewers => "SELECT viewers FROM accounts WHERE id = $1",
        RecordKind::KeyLog => "SELECT key_log FROM accounts WHERE id = $1",
    };
    let value: Option<Option<Vec<u8>>> = sqlx::query_scalar(sql)
        .bind(account_id.to_string())
        .fetch_optional(&db.pool)
        .await?;
    Ok(value.flatten())
}

pub(super) async fn put_record(
    db: &SqliteDatabase,
    account_id: Uuid,
    kind: RecordKind,
    data: &[u8],
    if_match: Option<Option<[u8; 32]>>,
) -> StoreResult<Written> {
    use sha2::Digest as _;
    let sha: [u8; 32] = sha2::Sha256::digest(data).into();
    let (unconditional, conditional) = match kind {
        RecordKind::KeyBundle => (
            "UPDATE accounts SET key_bundle = $1, key_bundle_sha = $2 WHERE id = $3",
            "UPDATE accounts SET key_bundle = $1, key_bundle_sha = $2 WHERE id = $3 \
             AND key_bundle_sha IS NOT DISTINCT FROM $4",
        ),
        RecordKind::Viewers => (
            "UPDATE accounts SET viewers = $1, viewers_sha = $2 WHERE id = $3",
            "UPDATE accounts SET viewers = $1, viewers_sha = $2 WHERE id = $3 \
             AND viewers_sha IS NOT DISTINCT FROM $4",
        ),
        RecordKind::KeyLog => (
            "UPDATE accounts SET key_log = $1, key_log_sha = $2 WHERE id = $3",
            "UPDATE accounts SET key_log = $1, key_log_sha = $2 WHERE id = $3 \
             AND key_log_sha IS NOT DISTINCT FROM $4",
        ),
    };
    let done = match if_match {
        None => {
            sqlx::query(unconditional)
                .bind(data)
                .bind(&sha[..])
                .bind(account_id.to_string())
                .execute(&db.pool)
                .await?
        }
        Some(expected) => {
            sqlx::query(conditional)
                .bind(data)
                .bind(&sha[..])
                .bind(account_id.to_string())
                .bind(expected.map(|e| e.to_vec()))
                .execute(&db.pool)
                .await?
        }
    };
    Ok(if done.rows_affected() > 0 {
        Written::Stored
    } else if if_match.is_some() {
        Written::Refused
    } else {
        Written::NotFound
    })
}

pub(super) async fn withdraw_link_tokens(
    db: &SqliteDatabase,
    account_id: Uuid,
) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM one_time_tokens WHERE account_id = $1 AND kind = 'link'")
        .bind(account_id.to_string())
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
