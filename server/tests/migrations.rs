//! Upgrading a database made by an earlier release: the store migrates it at
//! start, and what those releases wrote reads the way this one expects.
//!
//! `0003_trust_v2`: before it, the recovery device was only a name — `sealcam
//! init` enrolls the first device, then registers the recovery credential,
//! which created a device named "recovery key". After it, the oldest device
//! of that name in each account has the role `recovery`; a device linked
//! later under the same name stays a viewer.
//!
//! `0004_coarse_metadata`: events' and parts' upload times (`created_at`)
//! are rounded down to the minute, every device is named `device` (the
//! recovery device is still known by its role), and cameras gain a `set_key`
//! column, NULL until the camera publishes one. Cameras, events, parts and
//! shares the old release held read as before.
//!
//! `0005_one_blob_parts`: parts stored before it are two blobs and read
//! with their payload at offset 0 of its own blob.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::borrow::Cow;

use sealcam_server::store::postgres::PostgresDatabase;
use sealcam_server::store::sqlite::SqliteDatabase;
use sealcam_server::store::{
    Database, DeviceDeleted, DeviceRole, EventFilter, NewDevice, RecordKind, RecoveryOutcome,
};
use sealcam_wire::{CameraRole, CameraStatus, PartKind};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::SqlSafeStr as _;
use uuid::Uuid;

/// The migrations released before 0003, as the server embedded them.
fn released(sqls: [&'static str; 2]) -> Migrator {
    let names = ["init", "doomed blobs"];
    let migrations = sqls
        .iter()
        .zip(names)
        .zip(1..)
        .map(|((sql, name), version)| {
            Migration::new(
                version,
                Cow::Borrowed(name),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// What the old release held, with ids and times.
struct Old {
    /// Account with its first device, its recovery device (same second) and
    /// a device linked later under the same name.
    household: Uuid,
    phone: Uuid,
    recovery: Uuid,
    impostor: Uuid,
    /// Account that never registered a recovery credential.
    plain: Uuid,
    plain_phone: Uuid,
    /// Account whose two "recovery key" devices share a second (the older
    /// one by insertion order on SQLite, by id on PostgreSQL wins).
    twins: Uuid,
    /// The household's camera (shared with `plain`) and its one event, with
    /// a thumbnail uploaded at 1_079 and a clip at 1_140.
    camera: Uuid,
    event: Uuid,
}

impl Old {
    fn new() -> Self {
        Old {
            household: Uuid::new_v4(),
            phone: Uuid::new_v4(),
            recovery: Uuid::new_v4(),
            impostor: Uuid::new_v4(),
            plain: Uuid::new_v4(),
            plain_phone: Uuid::new_v4(),
            twins: Uuid::new_v4(),
            camera: Uuid::new_v4(),
            event: Uuid::new_v4(),
        }
    }

    /// `(id, account, name, token byte, created_at)` of every device, in
    /// insertion order.
    fn devices(&self, twin_ids: [Uuid; 2]) -> Vec<(Uuid, Uuid, &'static str, u8, i64)> {
        vec![
            (self.phone, self.household, "phone", 1, 1_000),
            (self.recovery, self.household, "recovery key", 2, 1_000),
            (self.impostor, self.household, "recovery key", 3, 5_000),
            (self.plain_phone, self.plain, "phone", 4, 1_000),
            (twin_ids[0], self.twins, "recovery key", 5, 2_000),
            (twin_ids[1], self.twins, "recovery key", 6, 2_000),
        ]
    }
}

/// Inserts `$old`'s camera, share, event and parts into the old release's
/// schema on `$pool`, binding ids with `$id` (text on SQLite, UUIDs on
/// PostgreSQL).
macro_rules! insert_media {
    ($pool:expr, $old:expr, $id:expr) => {{
        let (pool, old, id) = (&$pool, &$old, $id);
        sqlx::query("INSERT INTO cameras (id, owner_id, token_hash, status, device_public_key, pairing_proof, created_at, retention_days, set_epoch, set_data) VALUES ($1, $2, $3, 'active', 'old-key', 'old-proof', 1001, 30, 4, $4)")
            .bind(id(old.camera)).bind(id(old.household)).bind(&[20u8; 32][..]).bind(&b"old-set"[..])
            .execute(pool).await.unwrap();
        sqlx::query("INSERT INTO shares (camera_id, account_id, created_at) VALUES ($1, $2, 1501)")
            .bind(id(old.camera)).bind(id(old.plain))
            .execute(pool).await.unwrap();
        sqlx::query("INSERT INTO events (id, camera_id, captured_at, created_at) VALUES ($1, $2, 1020, 1079)")
            .bind(id(old.event)).bind(id(old.camera))
            .execute(pool).await.unwrap();
        for (kind, size, created_at) in [("thumbnail", 10_i64, 1_079_i64), ("clip", 20, 1_140)] {
            sqlx::query("INSERT INTO parts (event_id, kind, header_key, header_size, header_sha256, payload_key, payload_size, payload_sha256, created_at) VALUES ($1, $2, $3, 5, $4, $5, $6, $4, $7)")
                .bind(id(old.event)).bind(kind).bind(format!("h-{kind}")).bind(&[1u8; 32][..])
                .bind(format!("p-{kind}")).bind(size).bind(created_at)
                .execute(pool).await.unwrap();
        }
    }};
}

/// Reads on `$pool`, after the upgrade, what the server has no query for:
/// events' and parts' upload times, and how many cameras have no set key.
macro_rules! raw_after {
    ($pool:expr) => {{
        let pool = &$pool;
        let events: Vec<i64> = sqlx::query_scalar("SELECT created_at FROM events")
            .fetch_all(pool)
            .await
            .unwrap();
        let parts: Vec<i64> = sqlx::query_scalar("SELECT created_at FROM parts ORDER BY kind DESC")
            .fetch_all(pool)
            .await
            .unwrap();
        let no_set_key: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM cameras WHERE set_key IS NULL")
                .fetch_one(pool)
                .await
                .unwrap();
        assert_eq!(
            events,
            vec![1_020],
            "events.created_at rounded down to the minute"
        );
        assert_eq!(
            parts,
            vec![1_020, 1_140],
            "parts.created_at (thumbnail, clip) rounded down"
        );
        assert_eq!(no_set_key, 1);
    }};
}

/// The old camera, its share, event and parts read as before (0004), with no
/// set key until the camera publishes one, and then for its owner only.
async fn check_media(db: &dyn Database, old: &Old) {
    let owned = db.list_cameras(old.household).await.unwrap();
    assert_eq!(owned.len(), 1);
    let cam = &owned[0];
    assert_eq!(
        (cam.id, cam.owner_id, cam.status, cam.role),
        (
            old.camera,
            old.household,
            CameraStatus::Active,
            CameraRole::Owner
        )
    );
    assert_eq!(
        (cam.device_public_key.as_str(), cam.pairing_proof.as_str()),
        ("old-key", "old-proof")
    );
    assert_eq!(
        (cam.created_at, cam.retention_days, cam.set_key.as_deref()),
        (1_001, Some(30), None)
    );
    let shared = db.list_cameras(old.plain).await.unwrap();
    assert_eq!(shared.len(), 1);
    assert_eq!(
        (shared[0].role, shared[0].set_key.as_deref()),
        (CameraRole::Shared, None)
    );
    let set = db.recipient_set(old.camera).await.unwrap().unwrap();
    assert_eq!((set.epoch, set.set.as_slice()), (4, &b"old-set"[..]));
    let principal = db.camera_by_token(&[20u8; 32]).await.unwrap().unwrap();
    assert_eq!(principal.camera_id, old.camera);
    let filter = EventFilter {
        since: None,
        until: None,
        before: None,
        limit: 10,
    };
    let events = db.list_events(old.camera, filter).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].id, events[0].captured_at), (old.event, 1_020));
    let kinds: Vec<_> = events[0]
        .parts
        .iter()
        .map(|p| (p.kind, p.payload_size))
        .collect();
    assert_eq!(kinds, vec![(PartKind::Thumbnail, 10), (PartKind::Clip, 20)]);
    let part = db
        .viewer_part(old.plain, old.event, PartKind::Clip)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (part.header_key.as_str(), part.payload_key.as_str()),
        ("h-clip", "p-clip")
    );
    // 0005: a part stored before is two blobs, its payload at offset 0 of its own.
    assert_eq!(part.payload_offset, 0);

    assert!(db.put_set_key(old.camera, "age1set sig").await.unwrap());
    let owned = db.list_cameras(old.household).await.unwrap();
    assert_eq!(owned[0].set_key.as_deref(), Some("age1set sig"));
    assert_eq!(db.list_cameras(old.plain).await.unwrap()[0].set_key, None);
}

/// What every backend must show after the upgrade.
async fn check_upgraded(db: &dyn Database, old: &Old, twin_recovery: Uuid) {
    // 0004 names every device `device`; the recovery device is known by its
    // role (checked below), not by the name it had.
    for account in [old.household, old.plain, old.twins] {
        for device in db.list_devices(account).await.unwrap() {
            assert_eq!(device.name, "device", "device {}", device.id);
        }
    }
    let roles = |devices: Vec<sealcam_server::store::DeviceRow>| {
        devices
            .into_iter()
            .map(|d| (d.id, d.role, d.viewer_key))
            .collect::<Vec<_>>()
    };
    let household = roles(db.list_devices(old.household).await.unwrap());
    assert_eq!(household.len(), 3);
    for (id, role, key) in &household {
        let want = if *id == old.recovery {
            DeviceRole::Recovery
        } else {
            DeviceRole::Viewer
        };
        assert_eq!(*role, want, "device {id}");
        assert_eq!(*key, None);
    }
    let plain = roles(db.list_devices(old.plain).await.unwrap());
    assert_eq!(plain, vec![(old.plain_phone, DeviceRole::Viewer, None)]);
    let twins = roles(db.list_devices(old.twins).await.unwrap());
    assert_eq!(
        twins
            .iter()
            .filter(|(_, role, _)| *role == DeviceRole::Recovery)
            .map(|(id, _, _)| *id)
            .collect::<Vec<_>>(),
        vec![twin_recovery]
    );

    // The old records read as before; the key log starts empty.
    assert_eq!(
        db.get_record(old.household, RecordKind::KeyBundle)
            .await
            .unwrap(),
        Some(b"old-bundle".to_vec())
    );
    assert_eq!(
        db.get_record(old.household, RecordKind::KeyLog)
            .await
            .unwrap(),
        None
    );

    // And the new rules hold on the upgraded rows.
    let new_cred = [77u8; 32];
    let device = NewDevice {
        id: Uuid::new_v4(),
        name: "recovery key",
        token_hash: &new_cred,
        viewer_key: None,
    };
    assert_eq!(
        db.register_recovery(old.household, old.impostor, device, 9_000)
            .await
            .unwrap(),
        RecoveryOutcome::NotRecoveryDevice
    );
    assert_eq!(
        db.delete_device(old.household, old.phone, old.recovery)
            .await
            .unwrap(),
        DeviceDeleted::RecoveryDevice
    );
    assert_eq!(
        db.register_recovery(old.household, old.recovery, device, 9_000)
            .await
            .unwrap(),
        RecoveryOutcome::Replaced
    );
    assert_eq!(
        db.viewer_by_token(&new_cred)
            .await
            .unwrap()
            .unwrap()
            .device_id,
        old.recovery
    );
    assert_eq!(
        db.register_recovery(
            old.plain,
            old.plain_phone,
            NewDevice {
                token_hash: &[78u8; 32],
                ..device
            },
            9_000
        )
        .await
        .unwrap(),
        RecoveryOutcome::Created
    );
    // An old unbound enrollment token still enrolls, with or without a key.
    let device = NewDevice {
        id: Uuid::new_v4(),
        name: "tablet",
        token_hash: &[79u8; 32],
        viewer_key: Some("age1tablet"),
    };
    assert_eq!(
        db.enroll(&[90u8; 32], device, 9_000).await.unwrap(),
        Some(old.plain)
    );
}

#[tokio::test]
async fn sqlite_before_trust_v2_gets_its_recovery_device() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::str::FromStr as _;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sealcam.db").display());
    let old = Old::new();
    // Random ids: the insertion order decides between the twins.
    let twin_ids = [Uuid::new_v4(), Uuid::new_v4()];
    {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::from_str(&url)
                    .unwrap()
                    .create_if_missing(true)
                    .foreign_keys(true),
            )
            .await
            .unwrap();
        released([
            include_str!("../migrations/sqlite/0001_init.sql"),
            include_str!("../migrations/sqlite/0002_doomed_blobs.sql"),
        ])
        .run(&pool)
        .await
        .unwrap();
        for (account, name) in [
            (old.household, "household"),
            (old.plain, "plain"),
            (old.twins, "twins"),
        ] {
            sqlx::query("INSERT INTO accounts (id, name, created_at, key_bundle, key_bundle_sha) VALUES (?, ?, 1, ?, ?)")
                .bind(account.to_string())
                .bind(name)
                .bind(&b"old-bundle"[..])
                .bind(&[0u8; 32][..])
                .execute(&pool)
                .await
                .unwrap();
        }
        for (id, account, name, token, created_at) in old.devices(twin_ids) {
            sqlx::query("INSERT INTO devices (id, account_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)")
                .bind(id.to_string())
                .bind(account.to_string())
                .bind(name)
                .bind(&[token; 32][..])
                .bind(created_at)
                .execute(&pool)
                .await
                .unwrap();
        }
        sqlx::query("INSERT INTO one_time_tokens (token_hash, kind, account_id, expires_at, created_at) VALUES (?, 'enroll', ?, ?, 1)")
            .bind(&[90u8; 32][..])
            .bind(old.plain.to_string())
            .bind(i64::MAX)
            .execute(&pool)
            .await
            .unwrap();
        insert_media!(pool, old, |id: Uuid| id.to_string());
        pool.close().await;
    }

    let db = SqliteDatabase::open(&url, 2).await.unwrap();
    raw_after!(sqlx::SqlitePool::connect(&url).await.unwrap());
    check_upgraded(&db, &old, twin_ids[0]).await;
    check_media(&db, &old).await;
    // Opening again runs nothing twice.
    drop(db);
    SqliteDatabase::open(&url, 2).await.unwrap();
}

#[tokio::test]
async fn postgres_before_trust_v2_gets_its_recovery_device() {
    let Some(services) =
        common::services::services("postgres_before_trust_v2_gets_its_recovery_device")
    else {
        return;
    };
    let url = services.new_database().await;
    let old = Old::new();
    // Same second: the smaller id wins on PostgreSQL.
    let mut twin_ids = [Uuid::new_v4(), Uuid::new_v4()];
    twin_ids.sort_by(|a, b| b.cmp(a));
    {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        released([
            include_str!("../migrations/postgres/0001_init.sql"),
            include_str!("../migrations/postgres/0002_doomed_blobs.sql"),
        ])
        .run(&pool)
        .await
        .unwrap();
        for (account, name) in [
            (old.household, "household"),
            (old.plain, "plain"),
            (old.twins, "twins"),
        ] {
            sqlx::query("INSERT INTO accounts (id, name, created_at, key_bundle, key_bundle_sha) VALUES ($1, $2, 1, $3, $4)")
                .bind(account)
                .bind(name)
                .bind(&b"old-bundle"[..])
                .bind(&[0u8; 32][..])
                .execute(&pool)
                .await
                .unwrap();
        }
        for (id, account, name, token, created_at) in old.devices(twin_ids) {
            sqlx::query("INSERT INTO devices (id, account_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(account)
                .bind(name)
                .bind(&[token; 32][..])
                .bind(created_at)
                .execute(&pool)
                .await
                .unwrap();
        }
        sqlx::query("INSERT INTO one_time_tokens (token_hash, kind, account_id, expires_at, created_at) VALUES ($1, 'enroll', $2, $3, 1)")
            .bind(&[90u8; 32][..])
            .bind(old.plain)
            .bind(i64::MAX)
            .execute(&pool)
            .await
            .unwrap();
        insert_media!(pool, old, |id: Uuid| id);
        pool.close().await;
    }

    let db = PostgresDatabase::open(&url, 2).await.unwrap();
    raw_after!(sqlx::PgPool::connect(&url).await.unwrap());
    check_upgraded(&db, &old, twin_ids[1]).await;
    check_media(&db, &old).await;
}
