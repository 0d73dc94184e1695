//! Group commit of part rows, on a writer thread of its own.
//!
//! SQLite has one writer, and with `synchronous = FULL` every commit waits
//! for an fsync of the WAL: one upload's row at a time, the database capped
//! uploads at about one per fsync (the upload bench measured ~770 parts/s
//! against ~6,700 raw `object_store` PUTs + fsync). Here one thread records
//! the rows: it takes every row waiting (up to [`MAX_BATCH`]) and writes
//! them in one transaction, in which one row's refusal (a swept blob, a
//! foreign event) leaves the others. The commit is the commit point of all
//! of them, and no upload is answered before it: durability is what it
//! was, one fsync now covers many rows, and it runs while the next batch
//! is written ([`super::wal_sync`]). Checkpoints of the WAL run on a thread
//! of their own ([`super::checkpoint`]).
//!
//! Rows are never held back waiting for company: a batch is whatever
//! arrived while the previous commit was being flushed, so an upload alone
//! waits no longer than before.
//!
//! The thread holds its own connection to the database file, opened with
//! [rusqlite](https://docs.rs/rusqlite) over the same SQLite library sqlx
//! links, and runs a whole batch in place: one hand-off per batch. Through
//! sqlx's pool each of a row's statements (blob check, event, owner check,
//! part) was a hand-off to the pool's worker
//! thread and a wake-up back; the perf profile of the upload bench had that
//! thread at a fifth of all CPU time, most of it in futex wake-ups.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension as _, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::checkpoint::{self, Checkpointer};
use super::events::CAMERA_PART_SQL;
use super::wal_sync::WalSync;
use crate::blobs::in_database;
use crate::store::rows::{part_row, to_i64};
use crate::store::{InsertPart, NewPart, StoreError, StoreResult};

/// The most rows one transaction records.
const MAX_BATCH: usize = 128;
/// Rows waiting for the writer before senders wait too.
const QUEUE: usize = 1024;
/// How long the writer waits for SQLite's write lock, which other writes of
/// the server (through sqlx) take too.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

type Reply = oneshot::Sender<StoreResult<InsertPart>>;

/// The writer of part rows; cloned handles share it.
#[derive(Debug, Clone)]
pub(super) struct GroupCommit {
    jobs: mpsc::Sender<(NewPart, Reply)>,
}

impl GroupCommit {
    /// Opens the writer's connection to the database file at `path` and
    /// starts its thread, which stops when the last handle is dropped.
    pub(super) fn start(path: &Path) -> StoreResult<Self> {
        let conn = super::connect(path, BUSY_TIMEOUT)?;
        // The WAL journal is the file's own (sqlx set it when it opened the
        // database); the rest is per connection. Commits do not wait for the
        // disk: the WAL flusher flushes after them, before any upload is
        // answered (`wal_sync.rs`). Checkpoints run on a thread of their own
        // (`checkpoint.rs`).
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.pragma_update(None, "journal_size_limit", checkpoint::WAL_SIZE_LIMIT)?;
        let checkpointer = Checkpointer::start(path)?;
        let wal = super::wal_path(path);
        let flusher = WalSync::start(wal.clone())?;
        let (jobs, rx) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("sealcam-rows".into())
            .spawn(move || write_batches(conn, rx, &checkpointer, &flusher, &wal))
            .map_err(|e| StoreError::Corrupt(format!("starting the row writer: {e}")))?;
        Ok(Self { jobs })
    }

    /// Records `part` in the next batch: its outcome once that batch is
    /// committed (or failed).
    pub(super) async fn insert_part(&self, part: &NewPart) -> StoreResult<InsertPart> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send((part.clone(), reply))
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

/// The writer has stopped (the server is stopping, or the thread died).
fn stopped() -> StoreError {
    StoreError::Unavailable("the row writer has stopped".into())
}

fn write_batches(
    mut conn: Connection,
    mut rx: mpsc::Receiver<(NewPart, Reply)>,
    checkpointer: &Checkpointer,
    flusher: &WalSync,
    wal: &Path,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.blocking_recv_many(&mut batch, MAX_BATCH) > 0 {
        let (parts, replies): (Vec<NewPart>, Vec<Reply>) = batch.drain(..).unzip();
        let outcomes = commit(&mut conn, &parts);
        // Answered once the WAL is flushed, while the next batch is
        // written. (A sender that stopped waiting, its request cancelled,
        // finds its row recorded, as if it had waited.)
        flusher.answer_after_flush(replies.into_iter().zip(outcomes).collect());
        checkpointer.wake();
        checkpoint::rewind_if_large(&conn, wal);
    }
}

/// Records `parts` in one transaction: one outcome per part, in order.
///
/// Every refusal of a row (a swept blob, a foreign event, a part recorded
/// already, a camera deleted meanwhile) is found by reading before that row
/// writes anything, so a refused row leaves nothing to undo and no
/// savepoint is needed (one per row cost a sixth of the writer's time,
/// copying pages to the statement journal). Should a row still fail in
/// SQLite (a constraint no read foresaw), the batch is rolled back and
/// each row is recorded again in a transaction of its own: the rows of
/// other cameras, often other households, in the same batch must not hear
/// one upload's failure. A failed commit fails every row of it.
fn commit(conn: &mut Connection, parts: &[NewPart]) -> Vec<StoreResult<InsertPart>> {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return each(e.into(), parts.len()),
    };
    let mut outcomes = Vec::with_capacity(parts.len());
    for part in parts {
        match insert_part(&tx, part) {
            Ok(outcome) => outcomes.push(outcome),
            Err(_) => {
                drop(tx); // rolls the batch back
                return parts.iter().map(|part| commit_one(conn, part)).collect();
            }
        }
    }
    match tx.commit() {
        Ok(()) => outcomes,
        Err(e) => each(e.into(), parts.len()),
    }
}

/// Records one part in a transaction of its own.
fn commit_one(conn: &mut Connection, part: &NewPart) -> StoreResult<InsertPart> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let outcome = insert_part(&tx, part)?;
    tx.commit()?;
    outcome
}

/// Records one part (and its event, when it is the event's first) in the
/// caller's transaction: its outcome, a blob the orphan sweep claimed
/// refused, an event of another camera reported, a camera deleted since
/// its upload was authorised reported, a part recorded already returned as
/// it stands. `Err` only for a failure of SQLite, after which
/// the transaction must not commit.
fn insert_part(conn: &Connection, part: &NewPart) -> StoreResult<StoreResult<InsertPart>> {
    let mut keys = vec![part.header_key.as_str()];
    if part.payload_key != part.header_key {
        keys.push(&part.payload_key);
    }
    // The sweep only ever claims blob store keys.
    keys.retain(|key| !in_database(key));
    for key in keys {
        let doomed: Option<i64> = conn
            .prepare_cached("SELECT 1 FROM doomed_blobs WHERE key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?;
        if doomed.is_some() {
            return Ok(Err(StoreError::BlobSwept(key.to_owned())));
        }
    }
    let event_id = part.event_id.to_string();
    let camera_id = part.camera_id.to_string();
    let kind = part.kind.as_str();
    let owner: Option<String> = conn
        .prepare_cached("SELECT camera_id FROM events WHERE id = ?1")?
        .query_row([&event_id], |row| row.get(0))
        .optional()?;
    match owner {
        Some(owner) if owner != camera_id => return Ok(Ok(InsertPart::ForeignEvent)),
        Some(_) => {
            let existing = conn
                .prepare_cached(CAMERA_PART_SQL)?
                .query_row(params![event_id, kind, camera_id], |row| Ok(part_row(row)))
                .optional()?
                .transpose()?;
            if let Some(existing) = existing {
                return Ok(Ok(InsertPart::Exists(Box::new(existing))));
            }
        }
        None => {
            // The writer holds SQLite's write lock: the camera cannot go
            // between this read and the insert.
            let camera: Option<i64> = conn
                .prepare_cached("SELECT 1 FROM cameras WHERE id = ?1")?
                .query_row([&camera_id], |row| row.get(0))
                .optional()?;
            if camera.is_none() {
                return Ok(Ok(InsertPart::CameraGone));
            }
            conn.prepare_cached(
                "INSERT INTO events (id, camera_id, captured_at, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                event_id,
                camera_id,
                part.captured_at,
                part.created_at
            ])?;
        }
    }
    conn.prepare_cached(
        "INSERT INTO parts (event_id, kind, header_key, header_size, header_sha256, \
         payload_key, payload_size, payload_sha256, payload_offset, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        event_id,
        kind,
        part.header_key,
        to_i64(part.header_size),
        part.header_sha256,
        part.payload_key,
        to_i64(part.payload_size),
        part.payload_sha256,
        to_i64(part.payload_offset),
        part.created_at,
    ])?;
    if let Some(bytes) = &part.in_database {
        conn.prepare_cached("INSERT INTO part_bytes (key, bytes) VALUES (?1, ?2)")?
            .execute(params![part.payload_key, &bytes[..]])?;
    }
    Ok(Ok(InsertPart::Inserted))
}

/// The failure of a whole batch, once for each of its `n` rows.
fn each(first: StoreError, n: usize) -> Vec<StoreResult<InsertPart>> {
    let mut out: Vec<StoreResult<InsertPart>> =
        (1..n).map(|_| Err(first.for_another_row())).collect();
    out.insert(0, Err(first));
    out
}

#[cfg(test)]
mod tests {
    use sealcam_wire::PartKind;
    use uuid::Uuid;

    use super::*;
    use crate::store::sqlite::SqliteDatabase;
    use crate::store::Database;

    fn part(event_id: Uuid, camera_id: Uuid, key: &str) -> NewPart {
        NewPart {
            event_id,
            camera_id,
            captured_at: 10,
            kind: PartKind::Thumbnail,
            header_key: key.into(),
            header_size: 100,
            header_sha256: vec![1; 32],
            payload_key: key.into(),
            payload_size: 1_000,
            payload_sha256: vec![2; 32],
            payload_offset: 100,
            in_database: None,
            created_at: 10,
        }
    }

    /// A database in a temporary directory (kept while `TempDir` lives),
    /// its file, and an account in it.
    async fn database_with_account() -> (tempfile::TempDir, std::path::PathBuf, SqliteDatabase, Uuid)
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = SqliteDatabase::open(&url, 2).await.unwrap();
        let account = Uuid::new_v4();
        db.create_account(account, "a", 1).await.unwrap();
        (dir, path, db, account)
    }

    /// One batch with every outcome: each row gets its own, and only the
    /// inserted rows are recorded (a refused row leaves no event behind).
    #[tokio::test]
    async fn one_batch_gives_each_row_its_own_outcome() {
        let (_dir, path, db, account) = database_with_account().await;
        let a = db.test_camera(account, [0; 32], [100; 32], 2).await;
        let b = db.test_camera(account, [1; 32], [101; 32], 2).await;
        assert!(db.claim_orphan("blobs/00/swept", 3).await.unwrap());

        let (first, taken, swept, again) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let parts = [
            part(first, a, "blobs/00/first"),
            part(taken, b, "blobs/00/taken-by-b"),
            part(taken, a, "blobs/00/taken-by-a"),
            part(swept, a, "blobs/00/swept"),
            part(again, a, "blobs/00/again-1"),
            part(again, a, "blobs/00/again-2"),
        ];
        let mut conn = Connection::open(&path).unwrap();
        let outcomes = commit(&mut conn, &parts);
        assert!(matches!(outcomes[0], Ok(InsertPart::Inserted)));
        assert!(matches!(outcomes[1], Ok(InsertPart::Inserted)));
        assert!(matches!(outcomes[2], Ok(InsertPart::ForeignEvent)));
        assert!(
            matches!(&outcomes[3], Err(StoreError::BlobSwept(k)) if k == "blobs/00/swept"),
            "{:?}",
            outcomes[3]
        );
        assert!(matches!(outcomes[4], Ok(InsertPart::Inserted)));
        match &outcomes[5] {
            Ok(InsertPart::Exists(row)) => {
                assert_eq!(row.header_key, "blobs/00/again-1");
                assert_eq!((row.camera_id, row.owner_id), (a, account));
                assert_eq!(row.payload_offset, 100);
            }
            other => panic!("a second part of the same kind: {other:?}"),
        }

        // What the pool sees after the commit.
        let recorded = |camera, event| {
            let db = db.clone();
            async move {
                db.camera_part(camera, event, PartKind::Thumbnail)
                    .await
                    .unwrap()
                    .map(|p| p.header_key)
            }
        };
        assert_eq!(recorded(a, first).await.as_deref(), Some("blobs/00/first"));
        assert_eq!(
            recorded(b, taken).await.as_deref(),
            Some("blobs/00/taken-by-b")
        );
        assert_eq!(recorded(a, taken).await, None);
        assert_eq!(recorded(a, swept).await, None);
        let events: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM events WHERE id = ?1",
                [swept.to_string()],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(events, 0, "a refused row leaves no event behind");
    }

    /// A camera its owner deleted while its upload was arriving records
    /// nothing and hears `CameraGone`; a row that SQLite itself refuses
    /// fails alone. Neither touches the other rows of the batch, which may
    /// be other households' (the first failed every row of its batch with
    /// a foreign-key error, found by review).
    #[tokio::test]
    async fn one_rows_failure_leaves_the_other_rows_of_its_batch() {
        let (_dir, path, db, account) = database_with_account().await;
        let kept = db.test_camera(account, [0; 32], [100; 32], 2).await;
        let deleted = db.test_camera(account, [1; 32], [101; 32], 2).await;
        assert!(db.delete_camera(account, deleted).await.unwrap().is_some());
        let in_db = |event, key: &str| {
            let mut p = part(event, kept, key);
            p.in_database = Some(bytes::Bytes::from_static(b"sealed bytes"));
            p
        };
        let events: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        let parts = [
            part(events[0], kept, "blobs/00/before"),
            part(events[1], deleted, "blobs/00/deleted"),
            in_db(events[2], "db:shared"),
            // The same in-database key again: a primary-key violation that
            // no read before the write looks for.
            in_db(events[3], "db:shared"),
            part(events[4], kept, "blobs/00/after"),
        ];
        let mut conn = super::super::connect(&path, BUSY_TIMEOUT).unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        let outcomes = commit(&mut conn, &parts);
        assert!(
            matches!(outcomes[0], Ok(InsertPart::Inserted)),
            "{outcomes:?}"
        );
        assert!(
            matches!(outcomes[1], Ok(InsertPart::CameraGone)),
            "{outcomes:?}"
        );
        assert!(
            matches!(outcomes[2], Ok(InsertPart::Inserted)),
            "{outcomes:?}"
        );
        assert!(
            matches!(outcomes[3], Err(StoreError::Sqlite(_))),
            "{outcomes:?}"
        );
        assert!(
            matches!(outcomes[4], Ok(InsertPart::Inserted)),
            "{outcomes:?}"
        );
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |row| row.get(0)).unwrap() };
        assert_eq!(count("SELECT COUNT(*) FROM parts"), 3);
        assert_eq!(
            count("SELECT COUNT(*) FROM events"),
            3,
            "no event of the failed rows"
        );
    }

    /// Under a steady stream of commits and reads, the WAL is rewound: it
    /// stays bounded while many times its limit goes through it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_stays_bounded_under_steady_writes() {
        let (_dir, path, db, account) = database_with_account().await;
        let camera = db.test_camera(account, [0; 32], [100; 32], 2).await;
        let bytes = bytes::Bytes::from(vec![7u8; 32 * 1024]);
        let (writers, each) = (16, 400); // 6,400 parts of 32 KiB: 200 MiB
        let wal = super::super::wal_path(&path);
        let largest = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..writers {
            let (db, bytes, wal, largest) =
                (db.clone(), bytes.clone(), wal.clone(), largest.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..each {
                    let key = crate::blobs::BlobStore::new_database_key();
                    let mut part = part(Uuid::now_v7(), camera, &key);
                    part.in_database = Some(bytes.clone());
                    let done = db.insert_part(&part).await.unwrap();
                    assert!(matches!(done, InsertPart::Inserted));
                    // A read beside every write, as uploads make.
                    let seen = db
                        .camera_part(camera, part.event_id, PartKind::Thumbnail)
                        .await;
                    assert!(seen.unwrap().is_some());
                    let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
                    largest.fetch_max(size, std::sync::atomic::Ordering::Relaxed);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let largest = largest.load(std::sync::atomic::Ordering::Relaxed);
        println!("largest WAL: {} MiB for 200 MiB of parts", largest >> 20);
        // The hard limit, and one batch (128 rows) past it.
        let bound = super::super::checkpoint::WAL_HARD_LIMIT + (8 << 20);
        assert!(largest < bound, "the WAL grew to {largest} bytes");
    }
}
