//! The SQLite implementation of [`Database`] (the embedded default).
//!
//! WAL journal, `synchronous = FULL` (a committed transaction survives power
//! loss, so an acknowledged upload is never lost), foreign keys on, a busy
//! timeout for the single writer. Write transactions start with
//! `BEGIN IMMEDIATE` so a reader never has to upgrade its lock mid-way.
//! Queries use sqlx's runtime API: no database is needed to build.

use std::borrow::Cow;
use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sealcam_wire::{CameraRole, PartKind};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row as _, SqlSafeStr as _};
use uuid::Uuid;

use super::rows::{
    device_row, group_events, hash_col, part_row, status_col, stored_set_row, to_i64,
    token_part_row, u64_col, uuid_col,
};
use super::sqlite_inline::InlineReader;
use super::{
    recovery_step, BlobRef, CameraPrincipal, CameraRow, Database, DeviceDeleted, DeviceRole,
    DeviceRow, EventFilter, EventRow, InsertPart, NewCamera, NewDevice, NewPart, OneTimeKind,
    PartRow, RecordKind, RecoveryOutcome, RecoveryStep, ShareRow, StoreError, StoreResult,
    StoredSet, ViewerPrincipal, Written,
};
use crate::tokens::TokenHash;

/// The append-only migrations, embedded in the binary.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "doomed blobs",
        include_str!("../../migrations/sqlite/0002_doomed_blobs.sql"),
    ),
    (
        3,
        "trust v2",
        include_str!("../../migrations/sqlite/0003_trust_v2.sql"),
    ),
];

/// SQLite-backed metadata store.
#[derive(Debug, Clone)]
pub struct SqliteDatabase {
    pool: SqlitePool,
    /// The download query, run in place (absent for in-memory databases).
    inline: Option<Arc<InlineReader>>,
}

impl SqliteDatabase {
    /// Opens (creating if missing) the database at `url` (`sqlite://PATH`) and migrates it.
    pub async fn open(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let file = options.get_filename().to_path_buf();
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await?;
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations).run(&pool).await?;
        let inline = file.is_file().then(|| Arc::new(InlineReader::new(file)));
        Ok(Self { pool, inline })
    }

    async fn write_tx(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// [`Database::viewer_part_by_token`] through the sqlx pool: the path
    /// when the in-place read is unavailable or fails.
    async fn pooled_part_by_token(
        &self,
        token: &TokenHash,
        event_id: Uuid,
        kind: PartKind,
    ) -> StoreResult<Option<(ViewerPrincipal, Option<PartRow>)>> {
        let row = sqlx::query(TOKEN_PART_SQL)
            .bind(&token[..])
            .bind(event_id.to_string())
            .bind(kind.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_part_row).transpose()
    }
}

/// Fails with [`StoreError::BlobSwept`] when the sweep claimed one of `keys`.
/// Inside a write transaction (`BEGIN IMMEDIATE`: SQLite has one writer, so
/// the sweep's claim and this check cannot interleave).
async fn refuse_doomed(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    keys: &[&str],
) -> StoreResult<()> {
    for key in keys {
        let doomed: Option<i64> = sqlx::query_scalar("SELECT 1 FROM doomed_blobs WHERE key = ?")
            .bind(*key)
            .fetch_optional(&mut **tx)
            .await?;
        if doomed.is_some() {
            return Err(StoreError::BlobSwept((*key).to_owned()));
        }
    }
    Ok(())
}

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
         VALUES (?, ?, ?, ?, ?, ?, ?)",
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

/// Whether account `?` (bound twice) may see camera `c`.
macro_rules! visible {
    () => {
        "(c.owner_id = ?1 OR EXISTS (SELECT 1 FROM shares s WHERE s.camera_id = c.id AND s.account_id = ?1))"
    };
}

#[async_trait]
impl Database for SqliteDatabase {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_account(&self, id: Uuid, name: &str, now: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)")
            .bind(id.to_string())
            .bind(name)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn account_name(&self, account_id: Uuid) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT name FROM accounts WHERE id = ?")
            .bind(account_id.to_string())
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn create_one_time(
        &self,
        kind: OneTimeKind,
        hash: &TokenHash,
        account_id: Uuid,
        viewer_key: Option<&str>,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO one_time_tokens (token_hash, kind, account_id, viewer_key, expires_at, \
             created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&hash[..])
        .bind(kind.as_str())
        .bind(account_id.to_string())
        .bind(viewer_key)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn enroll(
        &self,
        token: &TokenHash,
        device: NewDevice<'_>,
        now: i64,
    ) -> StoreResult<Option<Uuid>> {
        let mut tx = self.write_tx().await?;
        // A token bound to a viewer key is consumed only with that key
        // (`viewer_key = NULL` is not true: an unbound request leaves it).
        let row = sqlx::query(
            "DELETE FROM one_time_tokens WHERE token_hash = ? AND kind IN ('enroll', 'link') \
             AND expires_at > ? AND (viewer_key IS NULL OR viewer_key = ?) RETURNING account_id",
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

    async fn viewer_by_token(&self, hash: &TokenHash) -> StoreResult<Option<ViewerPrincipal>> {
        let row =
            sqlx::query("SELECT id, account_id, token_hash FROM devices WHERE token_hash = ?")
                .bind(&hash[..])
                .fetch_optional(&self.pool)
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

    async fn list_devices(&self, account_id: Uuid) -> StoreResult<Vec<DeviceRow>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, role, viewer_key FROM devices WHERE account_id = ? \
             ORDER BY created_at, id",
        )
        .bind(account_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(device_row).collect()
    }

    async fn delete_device(
        &self,
        account_id: Uuid,
        caller_device: Uuid,
        device_id: Uuid,
    ) -> StoreResult<DeviceDeleted> {
        // The rule is in the DELETE; the read after it only tells the two
        // refusals apart.
        let done = sqlx::query(
            "DELETE FROM devices WHERE id = ?1 AND account_id = ?2 \
             AND (role <> 'recovery' OR id = ?3)",
        )
        .bind(device_id.to_string())
        .bind(account_id.to_string())
        .bind(caller_device.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            return Ok(DeviceDeleted::Deleted);
        }
        let kept: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM devices WHERE id = ? AND account_id = ?")
                .bind(device_id.to_string())
                .bind(account_id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(if kept.is_some() {
            DeviceDeleted::RecoveryDevice
        } else {
            DeviceDeleted::NotFound
        })
    }

    async fn register_recovery(
        &self,
        account_id: Uuid,
        caller_device: Uuid,
        device: NewDevice<'_>,
        now: i64,
    ) -> StoreResult<RecoveryOutcome> {
        // BEGIN IMMEDIATE: SQLite's one writer, so the reads and the write
        // below cannot interleave with another registration.
        let mut tx = self.write_tx().await?;
        let holder = sqlx::query("SELECT id, account_id FROM devices WHERE token_hash = ?")
            .bind(&device.token_hash[..])
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| Ok::<_, StoreError>((uuid_col(&row, "id")?, uuid_col(&row, "account_id")?)))
            .transpose()?;
        let recovery: Option<String> =
            sqlx::query_scalar("SELECT id FROM devices WHERE account_id = ? AND role = 'recovery'")
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
                sqlx::query("UPDATE devices SET token_hash = ? WHERE id = ? AND role = 'recovery'")
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

    async fn get_record(&self, account_id: Uuid, kind: RecordKind) -> StoreResult<Option<Vec<u8>>> {
        let sql = match kind {
            RecordKind::KeyBundle => "SELECT key_bundle FROM accounts WHERE id = ?",
            RecordKind::Viewers => "SELECT viewers FROM accounts WHERE id = ?",
            RecordKind::KeyLog => "SELECT key_log FROM accounts WHERE id = ?",
        };
        let value: Option<Option<Vec<u8>>> = sqlx::query_scalar(sql)
            .bind(account_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(value.flatten())
    }

    async fn put_record(
        &self,
        account_id: Uuid,
        kind: RecordKind,
        data: &[u8],
        if_match: Option<Option<[u8; 32]>>,
    ) -> StoreResult<Written> {
        use sha2::Digest as _;
        let sha: [u8; 32] = sha2::Sha256::digest(data).into();
        let (unconditional, conditional) = match kind {
            RecordKind::KeyBundle => (
                "UPDATE accounts SET key_bundle = ?, key_bundle_sha = ? WHERE id = ?",
                "UPDATE accounts SET key_bundle = ?, key_bundle_sha = ? WHERE id = ? \
                 AND key_bundle_sha IS ?",
            ),
            RecordKind::Viewers => (
                "UPDATE accounts SET viewers = ?, viewers_sha = ? WHERE id = ?",
                "UPDATE accounts SET viewers = ?, viewers_sha = ? WHERE id = ? AND viewers_sha IS ?",
            ),
            RecordKind::KeyLog => (
                "UPDATE accounts SET key_log = ?, key_log_sha = ? WHERE id = ?",
                "UPDATE accounts SET key_log = ?, key_log_sha = ? WHERE id = ? AND key_log_sha IS ?",
            ),
        };
        let done = match if_match {
            None => {
                sqlx::query(unconditional)
                    .bind(data)
                    .bind(&sha[..])
                    .bind(account_id.to_string())
                    .execute(&self.pool)
                    .await?
            }
            Some(expected) => {
                sqlx::query(conditional)
                    .bind(data)
                    .bind(&sha[..])
                    .bind(account_id.to_string())
                    .bind(expected.map(|e| e.to_vec()))
                    .execute(&self.pool)
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

    async fn register_camera(
        &self,
        claim: &TokenHash,
        camera: &NewCamera,
        now: i64,
    ) -> StoreResult<Option<Uuid>> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "DELETE FROM one_time_tokens WHERE token_hash = ? AND kind = 'claim' \
             AND expires_at > ? RETURNING account_id",
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
             pairing_proof, created_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)",
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

    async fn camera_by_token(&self, hash: &TokenHash) -> StoreResult<Option<CameraPrincipal>> {
        let row = sqlx::query(
            "SELECT id, owner_id, status, token_hash FROM cameras WHERE token_hash = ?",
        )
        .bind(&hash[..])
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(CameraPrincipal {
                camera_id: uuid_col(&row, "id")?,
                owner_id: uuid_col(&row, "owner_id")?,
                status: status_col(&row)?,
                token_hash: hash_col(&row, "token_hash")?,
            })
        })
        .transpose()
    }

    async fn list_cameras(&self, account_id: Uuid) -> StoreResult<Vec<CameraRow>> {
        let rows = sqlx::query(concat!(
            "SELECT c.id, c.owner_id, c.status, c.device_public_key, c.pairing_proof, \
             c.created_at, c.retention_days FROM cameras c WHERE ",
            visible!(),
            " ORDER BY c.created_at, c.id"
        ))
        .bind(account_id.to_string())
        .fetch_all(&self.pool)
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
                })
            })
            .collect()
    }

    async fn camera_role(
        &self,
        account_id: Uuid,
        camera_id: Uuid,
    ) -> StoreResult<Option<CameraRole>> {
        let owner: Option<String> = sqlx::query_scalar(concat!(
            "SELECT c.owner_id FROM cameras c WHERE c.id = ?2 AND ",
            visible!()
        ))
        .bind(account_id.to_string())
        .bind(camera_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(owner.map(|owner| {
            if owner == account_id.to_string() {
                CameraRole::Owner
            } else {
                CameraRole::Shared
            }
        }))
    }

    async fn confirm_camera(&self, owner_id: Uuid, camera_id: Uuid) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE cameras SET status = 'active' WHERE id = ? AND owner_id = ?")
                .bind(camera_id.to_string())
                .bind(owner_id.to_string())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_camera(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.write_tx().await?;
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM cameras WHERE id = ? AND owner_id = ?")
                .bind(camera_id.to_string())
                .bind(owner_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "DELETE FROM parts WHERE event_id IN (SELECT id FROM events WHERE camera_id = ?) \
             RETURNING header_key, payload_key",
        )
        .bind(camera_id.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut keys = Vec::with_capacity(rows.len() * 2);
        for row in &rows {
            keys.push(row.try_get("header_key")?);
            keys.push(row.try_get("payload_key")?);
        }
        for sql in [
            "DELETE FROM events WHERE camera_id = ?",
            "DELETE FROM shares WHERE camera_id = ?",
            "DELETE FROM cameras WHERE id = ?",
        ] {
            sqlx::query(sql)
                .bind(camera_id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(keys))
    }

    async fn recipient_set(&self, camera_id: Uuid) -> StoreResult<Option<StoredSet>> {
        let row = sqlx::query(
            "SELECT c.set_epoch, c.set_data, a.key_log FROM cameras c \
             JOIN accounts a ON a.id = c.owner_id WHERE c.id = ? AND c.set_epoch IS NOT NULL",
        )
        .bind(camera_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(stored_set_row).transpose()
    }

    async fn put_recipient_set(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        epoch: u64,
        set: &[u8],
        supersede: bool,
    ) -> StoreResult<Written> {
        let mut tx = self.write_tx().await?;
        let current: Option<Option<i64>> =
            sqlx::query_scalar("SELECT set_epoch FROM cameras WHERE id = ? AND owner_id = ?")
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
        sqlx::query("UPDATE cameras SET set_epoch = ?, set_data = ? WHERE id = ?")
            .bind(to_i64(epoch))
            .bind(set)
            .bind(camera_id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Written::Stored)
    }

    async fn set_retention(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        days: Option<u32>,
    ) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE cameras SET retention_days = ? WHERE id = ? AND owner_id = ?")
                .bind(days.map(i64::from))
                .bind(camera_id.to_string())
                .bind(owner_id.to_string())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_shares(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
    ) -> StoreResult<Option<Vec<ShareRow>>> {
        let mut tx = self.pool.begin().await?;
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM cameras WHERE id = ? AND owner_id = ?")
                .bind(camera_id.to_string())
                .bind(owner_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT account_id, created_at FROM shares WHERE camera_id = ? ORDER BY created_at, account_id",
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

    async fn put_share(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        account_id: Uuid,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO shares (camera_id, account_id, created_at) \
             SELECT c.id, a.id, ? FROM cameras c, accounts a \
             WHERE c.id = ? AND c.owner_id = ? AND a.id = ? AND a.id <> c.owner_id \
             ON CONFLICT (camera_id, account_id) DO NOTHING",
        )
        .bind(now)
        .bind(camera_id.to_string())
        .bind(owner_id.to_string())
        .bind(account_id.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            return Ok(true);
        }
        // Already shared (idempotent) or nothing to share: tell them apart.
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM shares s JOIN cameras c ON c.id = s.camera_id \
             WHERE s.camera_id = ? AND c.owner_id = ? AND s.account_id = ?",
        )
        .bind(camera_id.to_string())
        .bind(owner_id.to_string())
        .bind(account_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(exists.is_some())
    }

    async fn delete_share(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        account_id: Uuid,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM shares WHERE camera_id = ? AND account_id = ? \
             AND camera_id IN (SELECT id FROM cameras WHERE owner_id = ?)",
        )
        .bind(camera_id.to_string())
        .bind(account_id.to_string())
        .bind(owner_id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_part(&self, part: &NewPart) -> StoreResult<InsertPart> {
        let mut tx = self.write_tx().await?;
        refuse_doomed(&mut tx, &[&part.header_key, &part.payload_key]).await?;
        sqlx::query(
            "INSERT INTO events (id, camera_id, captured_at, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(part.event_id.to_string())
        .bind(part.camera_id.to_string())
        .bind(part.captured_at)
        .bind(part.created_at)
        .execute(&mut *tx)
        .await?;
        let owner: Option<String> = sqlx::query_scalar("SELECT camera_id FROM events WHERE id = ?")
            .bind(part.event_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if owner.as_deref() != Some(part.camera_id.to_string().as_str()) {
            return Ok(InsertPart::ForeignEvent);
        }
        let done = sqlx::query(
            "INSERT INTO parts (event_id, kind, header_key, header_size, header_sha256, \
             payload_key, payload_size, payload_sha256, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, kind) DO NOTHING",
        )
        .bind(part.event_id.to_string())
        .bind(part.kind.as_str())
        .bind(&part.header_key)
        .bind(to_i64(part.header_size))
        .bind(&part.header_sha256)
        .bind(&part.payload_key)
        .bind(to_i64(part.payload_size))
        .bind(&part.payload_sha256)
        .bind(part.created_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 {
            tx.commit().await?;
            return Ok(InsertPart::Inserted);
        }
        let row = sqlx::query(CAMERA_PART_SQL)
            .bind(part.event_id.to_string())
            .bind(part.kind.as_str())
            .bind(part.camera_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(InsertPart::Exists(part_row(&row)?))
    }

    async fn camera_part(
        &self,
        camera_id: Uuid,
        event_id: Uuid,
        kind: PartKind,
    ) -> StoreResult<Option<PartRow>> {
        let row = sqlx::query(CAMERA_PART_SQL)
            .bind(event_id.to_string())
            .bind(kind.as_str())
            .bind(camera_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(part_row).transpose()
    }

    async fn viewer_part(
        &self,
        account_id: Uuid,
        event_id: Uuid,
        kind: PartKind,
    ) -> StoreResult<Option<PartRow>> {
        let row = sqlx::query(VIEWER_PART_SQL)
            .bind(account_id.to_string())
            .bind(event_id.to_string())
            .bind(kind.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(part_row).transpose()
    }

    async fn viewer_part_by_token(
        &self,
        token: &TokenHash,
        event_id: Uuid,
        kind: PartKind,
    ) -> StoreResult<Option<(ViewerPrincipal, Option<PartRow>)>> {
        if let Some(inline) = &self.inline {
            match inline.token_part(TOKEN_PART_SQL, token, event_id, kind) {
                Ok(found) => return Ok(found),
                Err(e) => tracing::debug!(error = %e, "in-place read failed; asking the pool"),
            }
        }
        self.pooled_part_by_token(token, event_id, kind).await
    }

    async fn viewer_event(
        &self,
        account_id: Uuid,
        event_id: Uuid,
    ) -> StoreResult<Option<EventRow>> {
        let rows = sqlx::query(concat!(
            "SELECT e.id, e.camera_id, c.owner_id, e.captured_at, p.kind, p.header_size, \
             p.payload_size FROM events e JOIN cameras c ON c.id = e.camera_id \
             JOIN parts p ON p.event_id = e.id WHERE e.id = ?2 AND ",
            visible!()
        ))
        .bind(account_id.to_string())
        .bind(event_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(group_events(&rows)?.into_iter().next())
    }

    async fn list_events(
        &self,
        camera_id: Uuid,
        filter: EventFilter,
    ) -> StoreResult<Vec<EventRow>> {
        let (before_time, before_id) = match filter.before {
            Some((t, id)) => (Some(t), Some(id.to_string())),
            None => (None, None),
        };
        let rows = sqlx::query(
            "SELECT e.id, e.camera_id, c.owner_id, e.captured_at, p.kind, p.header_size, \
             p.payload_size \
             FROM (SELECT id, camera_id, captured_at FROM events \
                   WHERE camera_id = ?1 \
                     AND (?2 IS NULL OR captured_at >= ?2) \
                     AND (?3 IS NULL OR captured_at < ?3) \
                     AND (?4 IS NULL OR (captured_at, id) < (?4, ?5)) \
                   ORDER BY captured_at DESC, id DESC LIMIT ?6) e \
             JOIN cameras c ON c.id = e.camera_id \
             JOIN parts p ON p.event_id = e.id \
             ORDER BY e.captured_at DESC, e.id DESC",
        )
        .bind(camera_id.to_string())
        .bind(filter.since)
        .bind(filter.until)
        .bind(before_time)
        .bind(before_id)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        group_events(&rows)
    }

    async fn replace_header(
        &self,
        owner_id: Uuid,
        event_id: Uuid,
        kind: PartKind,
        header_key: &str,
        header_size: u64,
        header_sha256: &[u8],
    ) -> StoreResult<Option<String>> {
        let mut tx = self.write_tx().await?;
        let old: Option<String> = sqlx::query_scalar(
            "SELECT p.header_key FROM parts p JOIN events e ON e.id = p.event_id \
             JOIN cameras c ON c.id = e.camera_id \
             WHERE p.event_id = ? AND p.kind = ? AND c.owner_id = ?",
        )
        .bind(event_id.to_string())
        .bind(kind.as_str())
        .bind(owner_id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(old) = old else {
            return Ok(None);
        };
        refuse_doomed(&mut tx, &[header_key]).await?;
        sqlx::query(
            "UPDATE parts SET header_key = ?, header_size = ?, header_sha256 = ? \
             WHERE event_id = ? AND kind = ?",
        )
        .bind(header_key)
        .bind(to_i64(header_size))
        .bind(header_sha256)
        .bind(event_id.to_string())
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(old))
    }

    async fn delete_event(
        &self,
        owner_id: Uuid,
        event_id: Uuid,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.write_tx().await?;
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM events e JOIN cameras c ON c.id = e.camera_id \
             WHERE e.id = ? AND c.owner_id = ?",
        )
        .bind(event_id.to_string())
        .bind(owner_id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Ok(None);
        }
        let rows =
            sqlx::query("DELETE FROM parts WHERE event_id = ? RETURNING header_key, payload_key")
                .bind(event_id.to_string())
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM events WHERE id = ?")
            .bind(event_id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut keys = Vec::with_capacity(rows.len() * 2);
        for row in &rows {
            keys.push(row.try_get("header_key")?);
            keys.push(row.try_get("payload_key")?);
        }
        Ok(Some(keys))
    }

    async fn delete_expired(&self, now: i64, limit: u32) -> StoreResult<(u64, Vec<String>)> {
        let mut tx = self.write_tx().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT e.id FROM events e JOIN cameras c ON c.id = e.camera_id \
             WHERE c.retention_days IS NOT NULL AND e.captured_at < ? - c.retention_days * 86400 \
             LIMIT ?",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut keys = Vec::new();
        for id in &ids {
            let rows = sqlx::query(
                "DELETE FROM parts WHERE event_id = ? RETURNING header_key, payload_key",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            for row in &rows {
                keys.push(row.try_get("header_key")?);
                keys.push(row.try_get("payload_key")?);
            }
            sqlx::query("DELETE FROM events WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok((ids.len() as u64, keys))
    }

    async fn delete_expired_tokens(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM one_time_tokens WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn withdraw_link_tokens(&self, account_id: Uuid) -> StoreResult<u64> {
        let done =
            sqlx::query("DELETE FROM one_time_tokens WHERE account_id = ? AND kind = 'link'")
                .bind(account_id.to_string())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    async fn claim_orphan(&self, key: &str, now: i64) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let named: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM parts WHERE header_key = ?1 UNION ALL \
             SELECT 1 FROM parts WHERE payload_key = ?1 LIMIT 1",
        )
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        if named.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO doomed_blobs (key, doomed_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn named_blobs(&self, keys: &[String]) -> StoreResult<HashSet<String>> {
        if keys.is_empty() {
            return Ok(HashSet::new());
        }
        // ?1…?N, used by both lists.
        let list = (1..=keys.len())
            .map(|i| format!("?{i}"))
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
        Ok(query.fetch_all(&self.pool).await?.into_iter().collect())
    }

    async fn prune_tombstones(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM doomed_blobs WHERE doomed_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn list_blobs(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<BlobRef>> {
        let rows = sqlx::query(
            "SELECT key, size, sha256 FROM ( \
               SELECT header_key AS key, header_size AS size, header_sha256 AS sha256 FROM parts \
               UNION ALL \
               SELECT payload_key, payload_size, payload_sha256 FROM parts) \
             WHERE ?1 IS NULL OR key > ?1 ORDER BY key LIMIT ?2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BlobRef {
                    key: row.try_get("key")?,
                    size: u64_col(row, "size")?,
                    sha256: row.try_get("sha256")?,
                })
            })
            .collect()
    }
}

const CAMERA_PART_SQL: &str = "SELECT p.event_id, e.camera_id, c.owner_id, p.kind, p.header_key, \
     p.header_size, p.header_sha256, p.payload_key, p.payload_size, p.payload_sha256 \
     FROM parts p JOIN events e ON e.id = p.event_id JOIN cameras c ON c.id = e.camera_id \
     WHERE p.event_id = ? AND p.kind = ? AND e.camera_id = ?";

const VIEWER_PART_SQL: &str = concat!(
    "SELECT p.event_id, e.camera_id, c.owner_id, p.kind, p.header_key, \
     p.header_size, p.header_sha256, p.payload_key, p.payload_size, p.payload_sha256 \
     FROM parts p JOIN events e ON e.id = p.event_id JOIN cameras c ON c.id = e.camera_id \
     WHERE p.event_id = ?2 AND p.kind = ?3 AND ",
    visible!()
);

/// A device by token hash (?1) and, when its account may see it, the part
/// (?2, ?3): one round trip for a download. `sqlite_inline` reads its columns
/// by position: keep the select list's order.
const TOKEN_PART_SQL: &str = "SELECT d.id AS device_id, d.account_id, d.token_hash, \
     p.event_id, e.camera_id, c.owner_id, p.kind, p.header_key, p.header_size, \
     p.header_sha256, p.payload_key, p.payload_size, p.payload_sha256 \
     FROM devices d \
     LEFT JOIN parts p ON p.event_id = ?2 AND p.kind = ?3 \
     LEFT JOIN events e ON e.id = p.event_id \
     LEFT JOIN cameras c ON c.id = e.camera_id AND (c.owner_id = d.account_id \
       OR EXISTS (SELECT 1 FROM shares s WHERE s.camera_id = c.id AND s.account_id = d.account_id)) \
     WHERE d.token_hash = ?1";

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-place download query and the pooled one agree, and both see
    /// every change at once: a share withdrawn, a device removed.
    #[tokio::test]
    async fn in_place_and_pooled_download_queries_agree() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("db").display());
        let db = SqliteDatabase::open(&url, 4).await.unwrap();
        assert!(db.inline.is_some(), "a database file gets in-place reads");

        // Owner A with a camera and a thumbnail, member C, stranger B.
        let mut tokens = Vec::new();
        let mut devices = Vec::new();
        for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
            let account = Uuid::new_v4();
            db.create_account(account, name, 1).await.unwrap();
            let enrollment = [i as u8; 32];
            db.create_one_time(OneTimeKind::Enrollment, &enrollment, account, None, 100, 1)
                .await
                .unwrap();
            let device = Uuid::new_v4();
            let token = [10 + i as u8; 32];
            let new = NewDevice {
                id: device,
                name,
                token_hash: &token,
                viewer_key: None,
            };
            db.enroll(&enrollment, new, 2).await.unwrap().unwrap();
            tokens.push(token);
            devices.push((account, device));
        }
        let [(a, a_device), _, (c, _)] = devices[..] else {
            unreachable!()
        };
        let claim = [50u8; 32];
        db.create_one_time(OneTimeKind::Claim, &claim, a, None, 100, 1)
            .await
            .unwrap();
        let camera = NewCamera {
            id: Uuid::new_v4(),
            token_hash: [60u8; 32],
            device_public_key: "key".into(),
            pairing_proof: "proof".into(),
            created_at: 3,
        };
        db.register_camera(&claim, &camera, 3)
            .await
            .unwrap()
            .unwrap();
        assert!(db.confirm_camera(a, camera.id).await.unwrap());
        let event = Uuid::now_v7();
        db.insert_part(&NewPart {
            event_id: event,
            camera_id: camera.id,
            captured_at: 4,
            kind: PartKind::Thumbnail,
            header_key: "blobs/aa/header".into(),
            header_size: 200,
            header_sha256: vec![1; 32],
            payload_key: "blobs/bb/payload".into(),
            payload_size: 20_480,
            payload_sha256: vec![2; 32],
            created_at: 4,
        })
        .await
        .unwrap();
        assert!(db.put_share(a, camera.id, c, 5).await.unwrap());

        // (token, event, kind) → does the token name a device, is the part visible.
        let check = |token: TokenHash, event_id: Uuid, kind: PartKind, want: Option<bool>| {
            let db = db.clone();
            async move {
                let inline = db
                    .inline
                    .as_ref()
                    .unwrap()
                    .token_part(TOKEN_PART_SQL, &token, event_id, kind)
                    .unwrap();
                let pooled = db
                    .pooled_part_by_token(&token, event_id, kind)
                    .await
                    .unwrap();
                assert_eq!(inline, pooled);
                assert_eq!(inline.map(|(_, part)| part.is_some()), want);
                pooled
            }
        };
        let (viewer, part) = check(tokens[0], event, PartKind::Thumbnail, Some(true))
            .await
            .unwrap();
        assert_eq!((viewer.account_id, viewer.device_id), (a, a_device));
        let part = part.unwrap();
        assert_eq!(
            (part.header_size, part.payload_size, part.owner_id),
            (200, 20_480, a)
        );
        check(tokens[0], event, PartKind::Clip, Some(false)).await;
        check(tokens[0], Uuid::now_v7(), PartKind::Thumbnail, Some(false)).await;
        check(tokens[1], event, PartKind::Thumbnail, Some(false)).await;
        check(tokens[2], event, PartKind::Thumbnail, Some(true)).await;
        check([99u8; 32], event, PartKind::Thumbnail, None).await;

        assert!(db.delete_share(a, camera.id, c).await.unwrap());
        check(tokens[2], event, PartKind::Thumbnail, Some(false)).await;
        assert_eq!(
            db.delete_device(a, a_device, a_device).await.unwrap(),
            DeviceDeleted::Deleted
        );
        check(tokens[0], event, PartKind::Thumbnail, None).await;
    }
}
