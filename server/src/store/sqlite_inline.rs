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

use rusqlite::{Connection, OpenFlags, OptionalExtension as _, Row};
use sealcam_wire::PartKind;
use uuid::Uuid;

use super::{PartRow, ViewerPrincipal};
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
        let conn = self.take()?;
        let mut id = Uuid::encode_buffer();
        let id = &*event_id.hyphenated().encode_lower(&mut id);
        let result = (|| {
            let mut stmt = conn.prepare_cached(statement)?;
            let row = stmt
                .query_row((&token[..], id, kind.as_str()), |row| Ok(convert(row)))
                .optional()?;
            row.transpose()
        })();
        // A connection that failed is dropped rather than reused.
        if result.is_ok() {
            self.put_back(conn);
        }
        result
    }

    fn take(&self) -> Result<Connection, InlineError> {
        if let Some(conn) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::ZERO)?;
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
/// statement's select list, `TOKEN_PART_SQL` in `sqlite.rs`; looking columns
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
    let part = PartRow {
        event_id: uuid(row, 3)?,
        camera_id: uuid(row, 4)?,
        owner_id: uuid(row, 5)?,
        kind: row
            .get_ref(6)?
            .as_str()?
            .parse()
            .map_err(|_| InlineError::Corrupt("kind: unknown"))?,
        header_key: row.get(7)?,
        header_size: size(row, 8)?,
        header_sha256: row.get(9)?,
        payload_key: row.get(10)?,
        payload_size: size(row, 11)?,
        payload_sha256: row.get(12)?,
    };
    Ok((viewer, Some(part)))
}

fn uuid(row: &Row<'_>, col: usize) -> Result<Uuid, InlineError> {
    Uuid::parse_str(row.get_ref(col)?.as_str()?).map_err(|_| InlineError::Corrupt("an id"))
}

fn size(row: &Row<'_>, col: usize) -> Result<u64, InlineError> {
    let v: i64 = row.get(col)?;
    u64::try_from(v).map_err(|_| InlineError::Corrupt("a size"))
}
