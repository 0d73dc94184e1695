//! The parts service: the one place where blobs and database rows meet.
//!
//! A part (an event's thumbnail, clip or record) is two blobs, its age header
//! and its payload, and one database row that names them. Every function here
//! keeps one rule: **the row is the commit point.** A blob is written first,
//! under a fresh key nobody else can hold, and belongs to the store only once
//! a committed row names it; a blob no row names is invisible, and the orphan
//! sweep removes it after a grace period. Hence:
//!
//! - an upload ([`Parts::upload`]) writes both blobs, then records the row,
//!   and deletes its blobs on every path where the row does not name them
//!   (a failure, a concurrent upload of the same part that won, a foreign
//!   event); a part is acknowledged, and announced to the event streams
//!   ([`crate::feed`]), only after its row commits;
//! - a header re-wrap ([`Parts::replace_header`]) writes the new header blob,
//!   points the row at it, and only then deletes the old one;
//! - deleting an event or a camera, and retention, delete rows first and
//!   their blobs afterwards, best effort: a blob left behind is an orphan
//!   for the sweep;
//! - the sweep ([`Parts::sweep`]) claims a blob in the database before it
//!   deletes it, so an upload that names the blob afterwards fails
//!   ([`StoreError::BlobSwept`]) instead of being acknowledged without its
//!   bytes.
//!
//! A download ([`Parts::download`]) authenticates, authorises and finds the
//! part's blobs in one database query, then opens the byte range asked for.
//!
//! The service knows neither HTTP nor axum: a handler parses its request,
//! calls one function here and turns the answer or the [`PartsError`] into a
//! response; `server/tests/parts_service.rs` drives it directly on every
//! backend pair.

mod delete;
mod download;
mod header;
mod sweep;
mod upload;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt as _};

pub use self::download::{Download, Piece};
pub use self::upload::Upload;
use crate::blobs::{BlobError, BlobStore};
use crate::config::Config;
use crate::feed::Feed;
use crate::metrics::Metrics;
use crate::slots::UploadSlots;
use crate::state::AppState;
use crate::store::{Database, StoreError};

/// The parts service, borrowed from the server's state (building one costs
/// nothing: it is a handful of references).
#[derive(Clone, Copy)]
pub struct Parts<'a> {
    db: &'a dyn Database,
    blobs: &'a BlobStore,
    config: &'a Config,
    metrics: &'a Metrics,
    /// Upload slots; none free means [`PartsError::Busy`].
    uploads: &'a UploadSlots,
    /// Where a newly recorded part is announced to the event streams.
    feed: &'a Feed,
}

impl<'a> Parts<'a> {
    /// The service over `state`'s database, blob store, limits and metrics.
    pub fn of(state: &'a AppState) -> Self {
        Self {
            db: state.db.as_ref(),
            blobs: &state.blobs,
            config: &state.config,
            metrics: &state.metrics,
            uploads: &state.uploads,
            feed: &state.feed,
        }
    }
}

/// A part as stored, after an upload or a header re-wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Whether this call stored it (`false`: it was stored already with the
    /// same bytes, or an existing part was changed).
    pub created: bool,
    /// Header size in bytes.
    pub header_size: u64,
    /// Payload size in bytes.
    pub payload_size: u64,
}

/// Why the parts service refused or failed a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PartsError {
    /// The camera is pending its owner's confirmation.
    #[error("camera not active")]
    CameraNotActive,
    /// The viewer credential is unknown (a download authenticates itself).
    #[error("unknown credential")]
    Unauthorized,
    /// Absent, or not visible to the caller: the same answer on purpose.
    #[error("not found")]
    NotFound,
    /// The request is malformed; the message says how.
    #[error("{0}")]
    Invalid(&'static str),
    /// The body is larger than the limit (in bytes).
    #[error("larger than the limit of {0} bytes")]
    TooLarge(u64),
    /// Reading the request body failed.
    #[error("could not read the body: {0}")]
    Body(String),
    /// The part is stored already with other bytes.
    #[error("this part is stored already with different bytes")]
    Conflict,
    /// Every upload slot is taken; retry after this many seconds.
    #[error("too many uploads in flight")]
    Busy {
        /// Seconds until the client should try again.
        retry_after: u64,
    },
    /// The blob store has no room: nothing was stored.
    #[error("the blob store is full")]
    StorageFull,
    /// The account's quota would be exceeded: nothing was stored.
    #[error("over the account's quota of {0} bytes")]
    QuotaExceeded(u64),
    /// The range lies outside an object of this size.
    #[error("range not satisfiable (size {0})")]
    RangeNotSatisfiable(u64),
    /// The database failed (or the sweep claimed a blob first:
    /// [`StoreError::BlobSwept`]).
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The blob store failed.
    #[error("blob store: {0}")]
    Blobs(BlobError),
}

impl From<BlobError> for PartsError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::TooLarge(limit) => PartsError::TooLarge(limit),
            BlobError::Body(m) => PartsError::Body(m),
            other => PartsError::Blobs(other),
        }
    }
}

/// Result of a parts service call.
pub type PartsResult<T> = Result<T, PartsError>;

/// Reads a whole (small) body, refusing more than `limit` bytes as soon as
/// the count passes it: the rest is not read.
async fn read_to_limit<S, E>(mut body: S, limit: u64) -> PartsResult<Bytes>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| PartsError::Body(e.to_string()))?;
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(PartsError::TooLarge(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Whether a stored part holds exactly these digests (constant time).
fn same_digests(existing: &crate::store::PartRow, header_sha: &[u8], payload_sha: &[u8]) -> bool {
    crate::tokens::hashes_equal(&existing.header_sha256, header_sha)
        && crate::tokens::hashes_equal(&existing.payload_sha256, payload_sha)
}
