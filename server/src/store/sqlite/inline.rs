//! The download hot path's one query, run in place on the calling thread.
//!
//! sqlx runs each SQLite connection on a worker thread of its own, so every
//! query costs a hand-off to that thread and a wake-up back. For a 20 KiB
//! thumbnail that round trip is most of the request. The query a download
//! needs (authenticate the token and find the part the viewer may see, one
//! statement) reads a few pages that are nearly always in SQLite's cache,
//! so it runs here instead: directly on the async worker, on a small set of
//! read-only connections to the same database file, opened with
//! [rusqlite](https://docs.rs/rusqlite) over the same SQLite library sqlx
//! links.
//!
//! - In WAL mode a reader never waits for the writer. The busy timeout is
//!   zero, so the rare moments when SQLite would make a reader wait (WAL
//!   recovery, a restart of the WAL) answer "busy" at once instead of blocking
//!   the worker, and the caller falls back to the pooled sqlx path with the
//!   same statement. So does any other failure here.
//! - Every call reads the database: nothing is remembered between requests
//!   but SQLite's own page cache, which it validates against the WAL on each
//!   read transaction (S8: no authorisation cache).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _, Params, Row};
use sealcam_wire::PartKind;
use uuid::Uuid;

use crate::store::{PartRow, StoreError, ViewerPrincipal};
use crate::tokens::TokenHash;

/// Connections kept for reuse; more are opened when more threads read at once.
const KEEP_IDLE: usize = 8;

/// Why the in-place read gave no answer (the caller then asks sqlx).
#[derive(Debug, thiserror::Error)]
pub(super) enum InlineError {
    /// SQLite failed or was busy.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// A column held a value of another type.
    #[error(transparent)]
    Type(#[from] rusqlite::types::FromSqlError),
    /// A column held something unexpected.
    #[error("corrupt row: {0}")]
    Corrupt(&'static str),
}

impl From<InlineError> for StoreError {
    fn from(e: InlineError) -> Self {
        match e {
            InlineError::Sqlite(e) => e.into(),
            InlineError::Type(e) => StoreError::Corrupt(e.to_string()),
            InlineError::Corrupt(what) => StoreError::Corrupt(what.into()),
        }
    }
}

/// Read-only connections to one SQLite database file.
#[derive(Debug)]
pub(super) struct InlineReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl InlineReader {
    /// Readers of the database file at `path` (opened on first use).
    pub(super) fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `statement` (the same text the sqlx path runs) for a download:
    /// `None` when the token names no device, else the device and, when the
    /// viewer may see it, the part.
    pub(super) fn token_part(
        &self,
        statement: &str,
        token: &TokenHash,
        event_id: Uuid,
        kind: PartKind,
    ) -> Result<Option<(ViewerPrincipal, Option<PartRow>)>, InlineError> {
        let mut id = Uuid::encode_buffer();
        let id = &*event_id.hyphenated().encode_lower(&mut id);
        self.row(statement, (&token[..], id, kind.as_str()), convert)
    }

    /// The one row `statement` answers for `params`, converted by `convert`;
    /// `None` when there is none.
    pub(super) fn row<T, E: From<rusqlite::Error>>(
        &self,
        statement: &str,
        params: impl Params,
        convert: impl FnOnce(&Row<'_>) -> Result<T, E>,
    ) -> Result<Option<T>, E> {
        let conn = self.take()?;
        let result = (|| {
            let mut stmt = conn.prepare_cached(statement)?;
            let row = stmt.query_row(params, |row| Ok(convert(row))).optional()?;
            row.transpose()
        })();
        // A connection that failed is dropped rather than reused.
        if result.is_ok() {
            self.put_back(conn);
        }
        result
    }

    fn take(&self) -> rusqlite::Result<Connection> {
        if let Some(conn) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(conn);
        }
        let conn = super::connect(&self.path, Duration::ZERO)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }

    fn put_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < KEEP_IDLE {
                idle.push(conn);
            }
        }
    }
}

/// One result row of the download statement, by column position (the
/// statement's select list, `TOKEN_PART_SQL` in `events.rs`; looking columns
/// up by name costs more than the rest of the conversion).
fn convert(row: &Row<'_>) -> Result<(ViewerPrincipal, Option<PartRow>), InlineError> {
    let viewer = ViewerPrincipal {
        device_id: uuid(row, 0)?,
        account_id: uuid(row, 1)?,
        token_hash: row
            .get_ref(2)?
            .as_blob()?
            .try_into()
            .map_err(|_| InlineError::Corrupt("token_hash: not 32 bytes"))?,
    };
    if row.get_ref(5)?.as_str_or_null()?.is_none() {
        return Ok((viewer, None));
    }
    Ok((viewer, Some(part_at(row, 3)?)))
}

/// A part row whose columns start at `first`, in the order of
/// `TOKEN_PART_SQL`'s (and `CAMERA_PART_SQL`'s) part columns.
pub(super) fn part_at(row: &Row<'_>, first: usize) -> Result<PartRow, InlineError> {
    Ok(PartRow {
        event_id: uuid(row, first)?,
        camera_id: uuid(row, first + 1)?,
        owner_id: uuid(row, first + 2)?,
        kind: row
            .get_ref(first + 3)?
            .as_str()?
            .parse()
            .map_err(|_| InlineError::Corrupt("kind: unknown"))?,
        header_key: row.get(first + 4)?,
        header_size: size(row, first + 5)?,
        header_sha256: row.get(first + 6)?,
        payload_key: row.get(first + 7)?,
        payload_size: size(row, first + 8)?,
        payload_sha256: row.get(first + 9)?,
        payload_offset: size(row, first + 10)?,
        in_database: row
            .get_ref(first + 11)?
            .as_blob_or_null()?
            .map(super::recycled::copy),
    })
}

fn uuid(row: &Row<'_>, col: usize) -> Result<Uuid, InlineError> {
    Uuid::parse_str(row.get_ref(col)?.as_str()?).map_err(|_| InlineError::Corrupt("an id"))
}

fn size(row: &Row<'_>, col: usize) -> Result<u64, InlineError> {
    let v: i64 = row.get(col)?;
    u64::try_from(v).map_err(|_| InlineError::Corrupt("a size"))
}

#[cfg(test)]
mod tests {
    use sealcam_wire::PartKind;
    use uuid::Uuid;

    use crate::store::sqlite::events::{pooled_part_by_token, TOKEN_PART_SQL};
    use crate::store::sqlite::SqliteDatabase;
    use crate::store::{Database, DeviceDeleted, NewDevice, NewPart, OneTimeKind};
    use crate::tokens::TokenHash;

    /// SQLite is built as `.cargo/config.toml` asks: a large value's
    /// overflow pages come through the page cache, so a download of a cached
    /// thumbnail makes no system call for its bytes; and its allocator keeps
    /// no statistics, so an allocation takes no global lock.
    #[test]
    fn sqlite_is_built_with_the_workspace_flags() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let used = |option: &str| -> bool {
            conn.query_row("SELECT sqlite_compileoption_used(?1)", [option], |row| {
                row.get(0)
            })
            .unwrap()
        };
        assert!(
            !used("DIRECT_OVERFLOW_READ"),
            "SQLite was built with direct overflow reads: was LIBSQLITE3_FLAGS set in the environment?"
        );
        assert!(
            used("DEFAULT_MEMSTATUS=0"),
            "SQLite was built with memory statistics: was LIBSQLITE3_FLAGS set in the environment?"
        );
    }

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
        let camera = db.test_camera(a, [50u8; 32], [60u8; 32], 3).await;
        assert!(db.confirm_camera(a, camera).await.unwrap());
        let event = Uuid::now_v7();
        db.insert_part(&NewPart {
            event_id: event,
            camera_id: camera,
            captured_at: 4,
            kind: PartKind::Thumbnail,
            header_key: "blobs/aa/header".into(),
            header_size: 200,
            header_sha256: vec![1; 32],
            payload_key: "blobs/bb/payload".into(),
            payload_size: 20_480,
            payload_sha256: vec![2; 32],
            payload_offset: 0,
            in_database: None,
            created_at: 4,
        })
        .await
        .unwrap();
        assert!(db.put_share(a, camera, c, 5).await.unwrap());

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
                let pooled = pooled_part_by_token(&db, &token, event_id, kind)
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

        assert!(db.delete_share(a, camera, c).await.unwrap());
        check(tokens[2], event, PartKind::Thumbnail, Some(false)).await;
        assert_eq!(
            db.delete_device(a, a_device, a_device).await.unwrap(),
            DeviceDeleted::Deleted
        );
        check(tokens[0], event, PartKind::Thumbnail, None).await;
    }
}
