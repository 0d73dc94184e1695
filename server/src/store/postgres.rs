//! The PostgreSQL implementation of [`Database`] (scale-out: several
//! stateless server replicas share one database).
//!
//! Native `UUID`, `BIGINT` and `BYTEA` columns; the default `READ COMMITTED`
//! isolation, with every multi-statement write in one transaction whose
//! conditions are re-checked by the statement that writes (`DELETE …
//! RETURNING`, `INSERT … ON CONFLICT`, `UPDATE … WHERE`). The orphan sweep and
//! the recording of a part serialise per blob key on a transaction-scoped
//! advisory lock. Retention batches are picked with `FOR UPDATE SKIP LOCKED`,
//! so replicas running it at once share the work instead of queueing.
//! Migrations run at start under sqlx's migration lock (an advisory lock), so
//! replicas may start together. Queries use sqlx's runtime API: no database is
//! needed to build.

use std::borrow::Cow;
use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sealcam_wire::{CameraRole, PartKind};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Row as _, SqlSafeStr as _};
use uuid::Uuid;

use super::rows::{
    device_row, group_events, hash_col, part_row, status_col, stored_set_row, to_i64,
    token_part_row, u64_col,
};
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
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "doomed blobs",
        include_str!("../../migrations/postgres/0002_doomed_blobs.sql"),
    ),
    (
        3,
        "trust v2",
        include_str!("../../migrations/postgres/0003_trust_v2.sql"),
    ),
];

/// PostgreSQL-backed metadata store.
#[derive(Debug, Clone)]
pub struct PostgresDatabase {
    pool: PgPool,
}

type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

impl PostgresDatabase {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…]`)
    /// and migrates the database.
    pub async fn open(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("sealcam-server");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5))
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
        Ok(Self { pool })
    }
}

/// Whether account `$1` may see camera `c`.
macro_rules! visible {
    () => {
        "(c.owner_id = $1 OR EXISTS (SELECT 1 FROM shares s WHERE s.camera_id = c.id AND s.account_id = $1))"
    };
}

/// Takes the per-key advisory locks that serialise the sweep's claim on a
/// blob against recording a part that names it (held until the transaction
/// ends), then fails with [`StoreError::BlobSwept`] if the sweep won.
async fn lock_and_refuse_doomed(tx: &mut Tx, keys: &[&str]) -> StoreResult<()> {
    let mut sorted = keys.to_vec();
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

/// Inserts a device of `account_id` with `role`.
async fn insert_device(
    tx: &mut Tx,
    account_id: Uuid,
    device: NewDevice<'_>,
    role: DeviceRole,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO devices (id, account_id, name, token_hash, created_at, role, viewer_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(device.id)
    .bind(account_id)
    .bind(device.name)
    .bind(&device.token_hash[..])
    .bind(now)
    .bind(role.as_str())
    .bind(device.viewer_key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn keys_of(rows: &[PgRow]) -> StoreResult<Vec<String>> {
    let mut keys = Vec::with_capacity(rows.len() * 2);
    for row in rows {
        keys.push(row.try_get("header_key")?);
        keys.push(row.try_get("payload_key")?);
    }
    Ok(keys)
}

#[async_trait]
impl Database for PostgresDatabase {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_account(&self, id: Uuid, name: &str, now: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn account_name(&self, account_id: Uuid) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?,
        )
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
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&hash[..])
        .bind(kind.as_str())
        .bind(account_id)
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
        let mut tx = self.pool.begin().await?;
        // DELETE … RETURNING: of two concurrent enrollments with one token,
        // exactly one gets the row. A token bound to a viewer key is consumed
        // only with that key (`viewer_key = NULL` is not true).
        let account_id: Option<Uuid> = sqlx::query_scalar(
            "DELETE FROM one_time_tokens WHERE token_hash = $1 AND kind IN ('enroll', 'link') \
             AND expires_at > $2 AND (viewer_key IS NULL OR viewer_key = $3) RETURNING account_id",
        )
        .bind(&token[..])
        .bind(now)
        .bind(device.viewer_key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(account_id) = account_id else {
            return Ok(None);
        };
        insert_device(&mut tx, account_id, device, DeviceRole::Viewer, now).await?;
        tx.commit().await?;
        Ok(Some(account_id))
    }

    async fn viewer_by_token(&self, hash: &TokenHash) -> StoreResult<Option<ViewerPrincipal>> {
        let row =
            sqlx::query("SELECT id, account_id, token_hash FROM devices WHERE token_hash = $1")
                .bind(&hash[..])
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| {
            Ok(ViewerPrincipal {
                account_id: row.try_get("account_id")?,
                device_id: row.try_get("id")?,
                token_hash: hash_col(&row, "token_hash")?,
            })
        })
        .transpose()
    }

    async fn list_devices(&self, account_id: Uuid) -> StoreResult<Vec<DeviceRow>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, role, viewer_key FROM devices WHERE account_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(account_id)
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
            "DELETE FROM devices WHERE id = $1 AND account_id = $2 \
             AND (role <> 'recovery' OR id = $3)",
        )
        .bind(device_id)
        .bind(account_id)
        .bind(caller_device)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            return Ok(DeviceDeleted::Deleted);
        }
        let kept: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM devices WHERE id = $1 AND account_id = $2")
                .bind(device_id)
                .bind(account_id)
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
        let mut tx = self.pool.begin().await?;
        // The account row's lock serialises registrations of one account
        // (replicas included): the reads below see every one committed before.
        sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        let holder = sqlx::query("SELECT id, account_id FROM devices WHERE token_hash = $1")
            .bind(&device.token_hash[..])
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| Ok::<_, StoreError>((row.try_get("id")?, row.try_get("account_id")?)))
            .transpose()?;
        let recovery: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM devices WHERE account_id = $1 AND role = 'recovery'",
        )
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match recovery_step(account_id, caller_device, holder, recovery) {
            RecoveryStep::Answer(outcome) => return Ok(outcome),
            RecoveryStep::Create => {
                insert_device(&mut tx, account_id, device, DeviceRole::Recovery, now).await?;
                RecoveryOutcome::Created
            }
            RecoveryStep::Replace(id) => {
                sqlx::query(
                    "UPDATE devices SET token_hash = $1 WHERE id = $2 AND role = 'recovery'",
                )
                .bind(&device.token_hash[..])
                .bind(id)
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
            RecordKind::KeyBundle => "SELECT key_bundle FROM accounts WHERE id = $1",
            RecordKind::Viewers => "SELECT viewers FROM accounts WHERE id = $1",
            RecordKind::KeyLog => "SELECT key_log FROM accounts WHERE id = $1",
        };
        let value: Option<Option<Vec<u8>>> = sqlx::query_scalar(sql)
            .bind(account_id)
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
        // The condition is part of the UPDATE's WHERE: the row lock makes a
        // concurrent writer re-check it against the committed value.
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
                    .bind(account_id)
                    .execute(&self.pool)
                    .await?
            }
            Some(expected) => {
                sqlx::query(conditional)
                    .bind(data)
                    .bind(&sha[..])
                    .bind(account_id)
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
        let mut tx = self.pool.begin().await?;
        let owner_id: Option<Uuid> = sqlx::query_scalar(
            "DELETE FROM one_time_tokens WHERE token_hash = $1 AND kind = 'claim' \
             AND expires_at > $2 RETURNING account_id",
        )
        .bind(&claim[..])
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(owner_id) = owner_id else {
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO cameras (id, owner_id, token_hash, status, device_public_key, \
             pairing_proof, created_at) VALUES ($1, $2, $3, 'pending', $4, $5, $6)",
        )
        .bind(camera.id)
        .bind(owner_id)
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
            "SELECT id, owner_id, status, token_hash FROM cameras WHERE token_hash = $1",
        )
        .bind(&hash[..])
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(CameraPrincipal {
                camera_id: row.try_get("id")?,
                owner_id: row.try_get("owner_id")?,
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
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let owner_id: Uuid = row.try_get("owner_id")?;
                let retention: Option<i64> = row.try_get("retention_days")?;
                Ok(CameraRow {
                    id: row.try_get("id")?,
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
        let owner: Option<Uuid> = sqlx::query_scalar(concat!(
            "SELECT c.owner_id FROM cameras c WHERE c.id = $2 AND ",
            visible!()
        ))
        .bind(account_id)
        .bind(camera_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(owner.map(|owner| {
            if owner == account_id {
                CameraRole::Owner
            } else {
                CameraRole::Shared
            }
        }))
    }

    async fn confirm_camera(&self, owner_id: Uuid, camera_id: Uuid) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE cameras SET status = 'active' WHERE id = $1 AND owner_id = $2")
                .bind(camera_id)
                .bind(owner_id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_camera(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.pool.begin().await?;
        // Lock the camera row: an upload recording a part of this camera
        // waits (its event insert references the row) and then fails.
        let found: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM cameras WHERE id = $1 AND owner_id = $2 FOR UPDATE")
                .bind(camera_id)
                .bind(owner_id)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "DELETE FROM parts WHERE event_id IN (SELECT id FROM events WHERE camera_id = $1) \
             RETURNING header_key, payload_key",
        )
        .bind(camera_id)
        .fetch_all(&mut *tx)
        .await?;
        let keys = keys_of(&rows)?;
        for sql in [
            "DELETE FROM events WHERE camera_id = $1",
            "DELETE FROM shares WHERE camera_id = $1",
            "DELETE FROM cameras WHERE id = $1",
        ] {
            sqlx::query(sql).bind(camera_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Some(keys))
    }

    async fn recipient_set(&self, camera_id: Uuid) -> StoreResult<Option<StoredSet>> {
        let row = sqlx::query(
            "SELECT c.set_epoch, c.set_data, a.key_log FROM cameras c \
             JOIN accounts a ON a.id = c.owner_id WHERE c.id = $1 AND c.set_epoch IS NOT NULL",
        )
        .bind(camera_id)
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
        // One statement: the epoch comparison and the write happen under the
        // row lock, so two replicas cannot both accept the same epoch.
        let done = sqlx::query(
            "UPDATE cameras SET set_epoch = $3, set_data = $4 \
             WHERE id = $1 AND owner_id = $2 \
               AND ($5 OR set_epoch IS NULL OR set_epoch < $3)",
        )
        .bind(camera_id)
        .bind(owner_id)
        .bind(to_i64(epoch))
        .bind(set)
        .bind(supersede)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            return Ok(Written::Stored);
        }
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM cameras WHERE id = $1 AND owner_id = $2")
                .bind(camera_id)
                .bind(owner_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(if exists.is_some() {
            Written::Refused
        } else {
            Written::NotFound
        })
    }

    async fn set_retention(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
        days: Option<u32>,
    ) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE cameras SET retention_days = $1 WHERE id = $2 AND owner_id = $3")
                .bind(days.map(i64::from))
                .bind(camera_id)
                .bind(owner_id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_shares(
        &self,
        owner_id: Uuid,
        camera_id: Uuid,
    ) -> StoreResult<Option<Vec<ShareRow>>> {
        // One statement: the camera (owned by the caller) left-joined to its shares.
        let rows = sqlx::query(
            "SELECT s.account_id, s.created_at FROM cameras c \
             LEFT JOIN shares s ON s.camera_id = c.id \
             WHERE c.id = $1 AND c.owner_id = $2 ORDER BY s.created_at, s.account_id",
        )
        .bind(camera_id)
        .bind(owner_id)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut shares = Vec::with_capacity(rows.len());
        for row in &rows {
            let account_id: Option<Uuid> = row.try_get("account_id")?;
            let created_at: Option<i64> = row.try_get("created_at")?;
            if let (Some(account_id), Some(created_at)) = (account_id, created_at) {
                shares.push(ShareRow {
                    account_id,
                    created_at,
                });
            }
        }
        Ok(Some(shares))
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
             SELECT c.id, a.id, $1 FROM cameras c, accounts a \
             WHERE c.id = $2 AND c.owner_id = $3 AND a.id = $4 AND a.id <> c.owner_id \
             ON CONFLICT (camera_id, account_id) DO NOTHING",
        )
        .bind(now)
        .bind(camera_id)
        .bind(owner_id)
        .bind(account_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            return Ok(true);
        }
        // Already shared (idempotent) or nothing to share: tell them apart.
        let exists: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM shares s JOIN cameras c ON c.id = s.camera_id \
             WHERE s.camera_id = $1 AND c.owner_id = $2 AND s.account_id = $3",
        )
        .bind(camera_id)
        .bind(owner_id)
        .bind(account_id)
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
            "DELETE FROM shares WHERE camera_id = $1 AND account_id = $2 \
             AND camera_id IN (SELECT id FROM cameras WHERE owner_id = $3)",
        )
        .bind(camera_id)
        .bind(account_id)
        .bind(owner_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_part(&self, part: &NewPart) -> StoreResult<InsertPart> {
        let mut tx = self.pool.begin().await?;
        lock_and_refuse_doomed(&mut tx, &[&part.header_key, &part.payload_key]).await?;
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
             payload_key, payload_size, payload_sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id, kind) DO NOTHING",
        )
        .bind(part.event_id)
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
        // ON CONFLICT waited for a concurrent insert of the same part to
        // commit; its row is visible to this new statement.
        let row = sqlx::query(CAMERA_PART_SQL)
            .bind(part.event_id)
            .bind(part.kind.as_str())
            .bind(part.camera_id)
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
            .bind(event_id)
            .bind(kind.as_str())
            .bind(camera_id)
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
            .bind(account_id)
            .bind(event_id)
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
        let row = sqlx::query(TOKEN_PART_SQL)
            .bind(&token[..])
            .bind(event_id)
            .bind(kind.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_part_row).transpose()
    }

    async fn viewer_event(
        &self,
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
            Some((t, id)) => (Some(t), Some(id)),
            None => (None, None),
        };
        let rows = sqlx::query(
            "SELECT e.id, e.camera_id, c.owner_id, e.captured_at, p.kind, p.header_size, \
             p.payload_size \
             FROM (SELECT id, camera_id, captured_at FROM events \
                   WHERE camera_id = $1 \
                     AND ($2::BIGINT IS NULL OR captured_at >= $2) \
                     AND ($3::BIGINT IS NULL OR captured_at < $3) \
                     AND ($4::BIGINT IS NULL OR (captured_at, id) < ($4, $5::UUID)) \
                   ORDER BY captured_at DESC, id DESC LIMIT $6) e \
             JOIN cameras c ON c.id = e.camera_id \
             JOIN parts p ON p.event_id = e.id \
             ORDER BY e.captured_at DESC, e.id DESC",
        )
        .bind(camera_id)
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
        let mut tx = self.pool.begin().await?;
        // FOR UPDATE OF p: two concurrent re-wraps of one part serialise, and
        // each returns the key it replaced (so every old header is deleted).
        let old: Option<String> = sqlx::query_scalar(
            "SELECT p.header_key FROM parts p JOIN events e ON e.id = p.event_id \
             JOIN cameras c ON c.id = e.camera_id \
             WHERE p.event_id = $1 AND p.kind = $2 AND c.owner_id = $3 FOR UPDATE OF p",
        )
        .bind(event_id)
        .bind(kind.as_str())
        .bind(owner_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(old) = old else {
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
        Ok(Some(old))
    }

    async fn delete_event(
        &self,
        owner_id: Uuid,
        event_id: Uuid,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.pool.begin().await?;
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
        Ok(Some(keys_of(&rows)?))
    }

    async fn delete_expired(&self, now: i64, limit: u32) -> StoreResult<(u64, Vec<String>)> {
        let mut tx = self.pool.begin().await?;
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
        let rows = sqlx::query(
            "DELETE FROM parts WHERE event_id = ANY($1) RETURNING header_key, payload_key",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        let deleted = sqlx::query("DELETE FROM events WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((deleted.rows_affected(), keys_of(&rows)?))
    }

    async fn delete_expired_tokens(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM one_time_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn withdraw_link_tokens(&self, account_id: Uuid) -> StoreResult<u64> {
        let done =
            sqlx::query("DELETE FROM one_time_tokens WHERE account_id = $1 AND kind = 'link'")
                .bind(account_id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    async fn claim_orphan(&self, key: &str, now: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
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

    async fn named_blobs(&self, keys: &[String]) -> StoreResult<HashSet<String>> {
        if keys.is_empty() {
            return Ok(HashSet::new());
        }
        let named: Vec<String> = sqlx::query_scalar(
            "SELECT header_key FROM parts WHERE header_key = ANY($1) UNION \
             SELECT payload_key FROM parts WHERE payload_key = ANY($1)",
        )
        .bind(keys)
        .fetch_all(&self.pool)
        .await?;
        Ok(named.into_iter().collect())
    }

    async fn prune_tombstones(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM doomed_blobs WHERE doomed_at < $1")
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
               SELECT payload_key, payload_size, payload_sha256 FROM parts) b \
             WHERE $1::TEXT IS NULL OR key > ($1 COLLATE \"C\") ORDER BY key COLLATE \"C\" LIMIT $2",
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
     WHERE p.event_id = $1 AND p.kind = $2 AND e.camera_id = $3";

const VIEWER_PART_SQL: &str = concat!(
    "SELECT p.event_id, e.camera_id, c.owner_id, p.kind, p.header_key, \
     p.header_size, p.header_sha256, p.payload_key, p.payload_size, p.payload_sha256 \
     FROM parts p JOIN events e ON e.id = p.event_id JOIN cameras c ON c.id = e.camera_id \
     WHERE p.event_id = $2 AND p.kind = $3 AND ",
    visible!()
);

/// A device by token hash ($1) and, when its account may see it, the part
/// ($2, $3): one round trip for a download.
const TOKEN_PART_SQL: &str = "SELECT d.id AS device_id, d.account_id, d.token_hash, \
     p.event_id, e.camera_id, c.owner_id, p.kind, p.header_key, p.header_size, \
     p.header_sha256, p.payload_key, p.payload_size, p.payload_sha256 \
     FROM devices d \
     LEFT JOIN parts p ON p.event_id = $2 AND p.kind = $3 \
     LEFT JOIN events e ON e.id = p.event_id \
     LEFT JOIN cameras c ON c.id = e.camera_id AND (c.owner_id = d.account_id \
       OR EXISTS (SELECT 1 FROM shares s WHERE s.camera_id = c.id AND s.account_id = d.account_id)) \
     WHERE d.token_hash = $1";
