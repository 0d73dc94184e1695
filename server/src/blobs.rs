//! The blob layer: sealed headers and payloads, through `object_store`.
//!
//! Every blob gets a fresh, never-reused key (`blobs/<2 hex>/<uuid>`), so a
//! write never races another write and "never overwrite" is structural; the
//! write itself is a create-if-absent. The store publishes an object only when
//! it is complete: the local filesystem writes a staging file, `fsync`s it
//! and hard-links it into place, then `fsync`s the directory
//! (`LocalFileSystem::with_fsync`); S3 publishes a single `PUT` (sent with
//! `If-None-Match: *`, `PutMode::Create`) or completes a multipart upload
//! atomically. The database row that names the key is the commit point: a
//! blob no row names is invisible and the orphan sweep removes it after a
//! grace period (as it removes a crash's staging files), claiming it in the
//! database first so that a slow upload which names it afterwards fails
//! instead of being acknowledged without its bytes (see
//! [`Database::claim_orphan`]).
//!
//! Two backends, picked by `storage.url`: the local filesystem (default) and
//! any S3-compatible store (`s3://BUCKET[/PREFIX]`, built with
//! `AmazonS3Builder`).
//!
//! Reads of the local filesystem bypass `object_store`'s generic stream (a
//! measured 2.5× slower for small objects) and read the file directly: up to
//! 64 KiB (thumbnails, records, headers) in place on the async worker through
//! a bounded set of open files ([`OpenFiles`], `storage.open_files`), up to
//! 256 KiB in one blocking call, larger ranges as a bounded-buffer stream.

use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt as _, TryStreamExt as _};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{
    GetOptions, GetRange, ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload,
    WriteMultipart,
};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
use uuid::Uuid;

use crate::config::{Config, S3Config};
use crate::open_files::OpenFiles;
use crate::store::{Database, NAMED_BLOBS_BATCH};

/// A blob store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The object store failed.
    #[error(transparent)]
    Store(#[from] object_store::Error),
    /// Direct file I/O failed.
    #[error("blob file I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The body is larger than the limit (in bytes).
    #[error("larger than the limit of {0} bytes")]
    TooLarge(u64),
    /// Reading the request body failed.
    #[error("{0}")]
    Body(String),
    /// A blocking task panicked or was cancelled.
    #[error("blocking task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// The blob store is configured wrongly.
    #[error("blob store configuration: {0}")]
    Config(String),
}

/// Result of a blob operation.
pub type BlobResult<T> = Result<T, BlobError>;

/// Size and digest of a written blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Bytes written.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
}

/// One piece of a download: a byte range of one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Blob key.
    pub key: String,
    /// Byte range inside the blob.
    pub range: Range<u64>,
}

/// Local reads of at most this many bytes (thumbnails, event records,
/// headers) are done in place on the async worker: a `pread` of a page-cached
/// file costs less than handing it to the blocking pool and back, as nginx
/// does without thread pools.
const INLINE_READ: u64 = 64 * 1024;
/// Reads of at most this many bytes are served from one buffer.
const SMALL_READ: u64 = 256 * 1024;
/// Buffer size of streamed reads.
const STREAM_CHUNK: usize = 256 * 1024;
/// Local writes of at most this many bytes go up in a single put.
const LOCAL_SINGLE_PUT: usize = 1024 * 1024;
/// S3's smallest multipart part (except the last).
const S3_MIN_PART: u64 = 5 * 1024 * 1024;
/// Multipart parts in flight per upload, beside the one being filled.
const PARTS_IN_FLIGHT: usize = 2;
/// Blob keys live under this prefix (the sweep lists only it).
const BLOB_PREFIX: &str = "blobs";

/// The blob store used by the server.
#[derive(Debug, Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Set for the local filesystem: direct reads and staging-file sweeps.
    local: Option<Arc<LocalFileSystem>>,
    root: Option<PathBuf>,
    /// Bodies up to this size go up in one create-if-absent put.
    single_put: usize,
    /// Multipart chunk size (S3 needs at least 5 MiB).
    chunk_size: usize,
    /// What this store is, for logs and `migrate-store` (no secrets).
    describe: String,
    /// Local store: small blob files kept open for downloads.
    open_files: Arc<OpenFiles>,
}

impl BlobStore {
    /// The blob store `config` names: `storage.url` (`file://…`, `s3://…`),
    /// else the local directory `storage.path` (default `<data_dir>/blobs`).
    pub fn open(config: &Config) -> BlobResult<Self> {
        let store = match config.storage.url.as_deref() {
            None | Some("") => Self::local(&config.blob_dir()),
            Some(url) => Self::from_url(url, &config.storage.s3),
        }?;
        Ok(Self {
            open_files: Arc::new(OpenFiles::new(config.storage.open_files)),
            ..store
        })
    }

    /// A blob store from a URL (`file:///DIR`, a plain path, or
    /// `s3://BUCKET[/PREFIX]` with the S3 settings `s3`).
    pub fn from_url(url: &str, s3: &S3Config) -> BlobResult<Self> {
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            Self::s3(bucket, prefix.trim_matches('/'), s3)
        } else if let Some(path) = url.strip_prefix("file://") {
            Self::local(FsPath::new(path))
        } else if url.contains("://") {
            Err(BlobError::Config(format!(
                "unsupported blob store URL {url:?} (expected file:///DIR or s3://BUCKET[/PREFIX])"
            )))
        } else {
            Self::local(FsPath::new(url))
        }
    }

    /// A blob store in a local directory (created if missing), writing durably.
    pub fn local(root: &FsPath) -> BlobResult<Self> {
        std::fs::create_dir_all(root)?;
        let fs = Arc::new(LocalFileSystem::new_with_prefix(root)?.with_fsync(true));
        let root = root.canonicalize()?;
        Ok(Self {
            store: fs.clone(),
            local: Some(fs),
            describe: format!("file://{}", root.display()),
            root: Some(root),
            single_put: LOCAL_SINGLE_PUT,
            chunk_size: 1024 * 1024,
            open_files: Arc::new(OpenFiles::new(0)),
        })
    }

    /// A blob store in an S3 bucket (optionally under a key prefix).
    ///
    /// Settings left unset in `s3` come from the standard AWS environment.
    /// Plain `http://` endpoints are refused unless `s3.allow_http` (or
    /// `AWS_ALLOW_HTTP=true`) asks for them. Conditional puts use
    /// `If-None-Match: *`, which AWS S3 and most compatible stores honour.
    pub fn s3(bucket: &str, prefix: &str, s3: &S3Config) -> BlobResult<Self> {
        if bucket.is_empty() {
            return Err(BlobError::Config("s3:// URL without a bucket".into()));
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = &s3.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(region) = &s3.region {
            builder = builder.with_region(region);
        }
        if let Some(id) = &s3.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(file) = &s3.secret_access_key_file {
            builder = builder.with_secret_access_key(read_secret_file(file)?);
        }
        if s3.allow_http {
            builder = builder.with_allow_http(true);
        }
        if s3.virtual_hosted_style {
            builder = builder.with_virtual_hosted_style_request(true);
        }
        let s3_store: Arc<dyn ObjectStore> = Arc::new(builder.build()?);
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            s3_store
        } else {
            Arc::new(PrefixStore::new(s3_store, prefix))
        };
        let chunk = s3.multipart_part_bytes.max(S3_MIN_PART);
        let chunk = usize::try_from(chunk)
            .map_err(|_| BlobError::Config("multipart_part_bytes too large".into()))?;
        Ok(Self {
            store,
            local: None,
            root: None,
            single_put: chunk,
            chunk_size: chunk,
            describe: if prefix.is_empty() {
                format!("s3://{bucket}")
            } else {
                format!("s3://{bucket}/{prefix}")
            },
            open_files: Arc::new(OpenFiles::new(0)),
        })
    }

    /// What this store is (`file:///…`, `s3://bucket/prefix`), without secrets.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// The underlying object store.
    pub fn raw(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Every committed blob key, sorted (for tests and operators; lists the
    /// whole store).
    pub async fn list_keys(&self) -> BlobResult<Vec<String>> {
        let mut keys: Vec<String> = self
            .store
            .list(Some(&Path::from(BLOB_PREFIX)))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await?;
        keys.sort();
        Ok(keys)
    }

    /// A fresh key for a new blob.
    pub fn new_key() -> String {
        let id = Uuid::new_v4().simple().to_string();
        format!("blobs/{}/{id}", &id[..2])
    }

    /// Checks that the store accepts a small durable write (for `/healthz`).
    pub async fn health(&self) -> BlobResult<()> {
        let key = Path::from("health/probe");
        self.store.put(&key, PutPayload::from_static(b"ok")).await?;
        Ok(())
    }

    /// Writes `bytes` under a new `key` (create-if-absent, durable on return).
    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> BlobResult<Written> {
        let written = Written {
            size: bytes.len() as u64,
            sha256: Sha256::digest(&bytes).into(),
        };
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        self.store
            .put_opts(&Path::from(key), PutPayload::from_bytes(bytes), opts)
            .await?;
        Ok(written)
    }

    /// Streams `body` to a new `key`, refusing more than `limit` bytes.
    ///
    /// Memory stays bounded: bodies up to one part go up in one
    /// create-if-absent put, larger ones as a multipart upload holding at most
    /// the part being filled plus `PARTS_IN_FLIGHT` parts in flight. Nothing
    /// is visible under `key` unless the whole body arrived: a multipart
    /// upload is published only by its completion. (Its completion is not
    /// conditional in `object_store`; the key is a fresh random UUID that no
    /// committed part can hold, which is what keeps it from overwriting one.)
    pub async fn put_stream<S, E>(&self, key: &str, body: S, limit: u64) -> BlobResult<Written>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let mut body = body;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut buffer = BytesMut::new();
        // Phase 1: buffer up to SINGLE_PUT bytes.
        loop {
            match body.next().await {
                None => {
                    let bytes = buffer.freeze();
                    hasher.update(&bytes);
                    let opts = PutOptions {
                        mode: PutMode::Create,
                        ..Default::default()
                    };
                    self.store
                        .put_opts(&Path::from(key), PutPayload::from_bytes(bytes), opts)
                        .await?;
                    return Ok(Written {
                        size,
                        sha256: hasher.finalize().into(),
                    });
                }
                Some(Err(e)) => return Err(BlobError::Body(e.to_string())),
                Some(Ok(chunk)) => {
                    size += chunk.len() as u64;
                    if size > limit {
                        return Err(BlobError::TooLarge(limit));
                    }
                    buffer.extend_from_slice(&chunk);
                    if buffer.len() > self.single_put {
                        break;
                    }
                }
            }
        }
        // Phase 2: multipart upload.
        let upload = self.store.put_multipart(&Path::from(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.chunk_size);
        hasher.update(&buffer);
        writer.put(buffer.freeze());
        let outcome: BlobResult<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| BlobError::Body(e.to_string()))?;
                size += chunk.len() as u64;
                if size > limit {
                    return Err(BlobError::TooLarge(limit));
                }
                hasher.update(&chunk);
                writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                writer.put(chunk);
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => {
                writer.finish().await?;
                Ok(Written {
                    size,
                    sha256: hasher.finalize().into(),
                })
            }
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(%abort, key, "aborting a failed multipart upload");
                }
                Err(e)
            }
        }
    }

    /// Reads a whole small blob into memory.
    pub async fn read_all(&self, key: &str) -> BlobResult<Bytes> {
        Ok(self.store.get(&Path::from(key)).await?.bytes().await?)
    }

    /// Opens the concatenation of `segments` as a response body.
    ///
    /// Every blob is opened before this returns, so a missing blob is an error
    /// here and not a truncated response.
    pub async fn read(&self, segments: Vec<Segment>) -> BlobResult<Body> {
        let segments: Vec<Segment> = segments
            .into_iter()
            .filter(|s| s.range.start < s.range.end)
            .collect();
        let total: u64 = segments.iter().map(|s| s.range.end - s.range.start).sum();
        match &self.local {
            Some(fs) => {
                if total <= INLINE_READ {
                    return Ok(Body::from(self.read_inline(fs, &segments, total)?));
                }
                let paths = segments
                    .iter()
                    .map(|s| Ok((self.local_path(fs, &s.key)?, s.range.clone())))
                    .collect::<BlobResult<Vec<_>>>()?;
                if total <= SMALL_READ {
                    let bytes =
                        tokio::task::spawn_blocking(move || read_small(&paths, total)).await??;
                    Ok(Body::from(bytes))
                } else {
                    let mut streams = Vec::with_capacity(paths.len());
                    for (path, range) in paths {
                        let mut file = tokio::fs::File::open(&path).await?;
                        file.seek(std::io::SeekFrom::Start(range.start)).await?;
                        let reader = file.take(range.end - range.start);
                        streams.push(tokio_util::io::ReaderStream::with_capacity(
                            reader,
                            STREAM_CHUNK,
                        ));
                    }
                    Ok(Body::from_stream(stream::iter(streams).flatten()))
                }
            }
            None => {
                let mut streams: Vec<BoxStream<'static, object_store::Result<Bytes>>> =
                    Vec::with_capacity(segments.len());
                for s in segments {
                    let opts = GetOptions {
                        range: Some(GetRange::Bounded(s.range.clone())),
                        ..Default::default()
                    };
                    let got = self
                        .store
                        .get_opts(&Path::from(s.key.as_str()), opts)
                        .await?;
                    streams.push(got.into_stream());
                }
                Ok(Body::from_stream(stream::iter(streams).flatten()))
            }
        }
    }

    /// The file of `key` in the local store. The keys this server makes
    /// (`blobs/xx/<hex>`) map to `<root>/<key>` as they are; anything else
    /// goes through `object_store`'s own mapping (which URL-parses the path,
    /// a measurable share of a thumbnail download).
    fn local_path(&self, fs: &LocalFileSystem, key: &str) -> BlobResult<PathBuf> {
        let plain = |segment: &str| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        match &self.root {
            Some(root) if key.split('/').all(plain) => Ok(root.join(key)),
            _ => Ok(fs.path_to_filesystem(&Path::from(key))?),
        }
    }

    /// A small read of local blobs, done in place on the calling thread
    /// through the open-file set.
    fn read_inline(
        &self,
        fs: &LocalFileSystem,
        segments: &[Segment],
        total: u64,
    ) -> BlobResult<Bytes> {
        use std::os::unix::fs::FileExt as _;
        let mut out = BytesMut::zeroed(usize::try_from(total).unwrap_or(usize::MAX));
        let mut at = 0usize;
        for segment in segments {
            let file = self
                .open_files
                .open(&segment.key, || self.local_path(fs, &segment.key))?;
            let len =
                usize::try_from(segment.range.end - segment.range.start).unwrap_or(usize::MAX);
            file.read_exact_at(&mut out[at..at + len], segment.range.start)?;
            at += len;
        }
        Ok(out.freeze())
    }

    /// Deletes blobs, best effort: a failure is logged and left to the orphan sweep.
    pub async fn delete_all(&self, keys: Vec<String>) {
        for key in keys {
            self.open_files.forget(&key);
            if let Err(e) = self.store.delete(&Path::from(key.as_str())).await {
                if !matches!(e, object_store::Error::NotFound { .. }) {
                    tracing::warn!(error = %e, key, "could not delete a blob; the sweep will retry");
                }
            }
        }
    }

    /// Removes blobs older than `grace` that no database row names, and
    /// staging files of interrupted writes. Returns how many it removed.
    pub async fn sweep(&self, db: &dyn Database, grace: Duration) -> BlobResult<u64> {
        let cutoff_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_sub(grace)
            .as_millis() as i64;
        let mut removed = 0u64;
        let mut listing = self.store.list(Some(&Path::from(BLOB_PREFIX)));
        let mut candidates = Vec::new();
        while let Some(meta) = listing.try_next().await? {
            if meta.last_modified.timestamp_millis() <= cutoff_ms {
                candidates.push(meta.location.to_string());
            }
        }
        // Set aside the blobs that parts name, a batch per read; only the
        // rest are claimed, each in its own write that checks again.
        let mut unnamed = Vec::new();
        for batch in candidates.chunks(NAMED_BLOBS_BATCH) {
            match db.named_blobs(batch).await {
                Ok(named) => unnamed.extend(batch.iter().filter(|k| !named.contains(*k)).cloned()),
                Err(e) => {
                    tracing::warn!(error = %e, "orphan sweep: database unavailable, stopping");
                    return Ok(removed);
                }
            }
        }
        for key in unnamed {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            match db.claim_orphan(&key, now).await {
                Ok(false) => {}
                Ok(true) => {
                    tracing::info!(key, "orphan sweep: removing an unreferenced blob");
                    self.delete_all(vec![key]).await;
                    removed += 1;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "orphan sweep: database unavailable, stopping");
                    return Ok(removed);
                }
            }
        }
        if let Some(root) = self.root.clone() {
            let cutoff = SystemTime::now()
                .checked_sub(grace)
                .unwrap_or(SystemTime::UNIX_EPOCH);
            removed += tokio::task::spawn_blocking(move || sweep_staging(&root, cutoff)).await??;
        }
        Ok(removed)
    }
}

/// Reads a secret from a file that only its owner may read (garage's rule).
fn read_secret_file(path: &FsPath) -> BlobResult<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(BlobError::Config(format!(
            "{} is readable by group or others (mode {:o}); run chmod 600 on it",
            path.display(),
            mode & 0o777
        )));
    }
    let text = std::fs::read_to_string(path)?;
    Ok(text.trim().to_owned())
}

fn read_small(paths: &[(PathBuf, Range<u64>)], total: u64) -> std::io::Result<Bytes> {
    use std::os::unix::fs::FileExt as _;
    let mut out = BytesMut::zeroed(usize::try_from(total).unwrap_or(usize::MAX));
    let mut at = 0usize;
    for (path, range) in paths {
        let file = std::fs::File::open(path)?;
        let len = (range.end - range.start) as usize;
        file.read_exact_at(&mut out[at..at + len], range.start)?;
        at += len;
    }
    Ok(out.freeze())
}

/// Removes `…#<digits>` staging files older than `cutoff` under `root/blobs`.
fn sweep_staging(root: &FsPath, cutoff: SystemTime) -> std::io::Result<u64> {
    let mut removed = 0;
    let blobs = root.join("blobs");
    let Ok(dirs) = std::fs::read_dir(&blobs) else {
        return Ok(0);
    };
    for dir in dirs {
        let dir = dir?;
        if !dir.file_type()?.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(dir.path())? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let staging = name
                .rsplit_once('#')
                .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if staging && entry.metadata()?.modified()? < cutoff {
                tracing::info!(file = %entry.path().display(), "orphan sweep: removing a staging file");
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Hashes a stream without storing it (an upload of a part that exists already).
pub async fn hash_stream<S, E>(body: S, limit: u64) -> BlobResult<Written>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut body = body;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| BlobError::Body(e.to_string()))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(BlobError::TooLarge(limit));
        }
        hasher.update(&chunk);
    }
    Ok(Written {
        size,
        sha256: hasher.finalize().into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn write_then_read_ranges_locally() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::local(dir.path()).unwrap();
        let small = BlobStore::new_key();
        blobs
            .put_bytes(&small, Bytes::from_static(b"hello"))
            .await
            .unwrap();
        // Create-if-absent: a second write to the same key fails.
        assert!(blobs
            .put_bytes(&small, Bytes::from_static(b"other"))
            .await
            .is_err());

        let big_key = BlobStore::new_key();
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<Result<Bytes, std::io::Error>> = big
            .chunks(65536)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let written = blobs
            .put_stream(&big_key, stream::iter(chunks), 10_000_000)
            .await
            .unwrap();
        assert_eq!(written.size, big.len() as u64);
        assert_eq!(written.sha256, <[u8; 32]>::from(Sha256::digest(&big)));

        let body = blobs
            .read(vec![
                Segment {
                    key: small.clone(),
                    range: 1..5,
                },
                Segment {
                    key: big_key.clone(),
                    range: 10..2_000_010,
                },
            ])
            .await
            .unwrap();
        let got = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        assert_eq!(&got[..4], b"ello");
        assert_eq!(&got[4..], &big[10..2_000_010]);

        let too_big: Vec<Result<Bytes, std::io::Error>> = big
            .chunks(65536)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let refused = blobs
            .put_stream(&BlobStore::new_key(), stream::iter(too_big), 2_000_000)
            .await;
        assert!(matches!(refused, Err(BlobError::TooLarge(2_000_000))));
    }
}
