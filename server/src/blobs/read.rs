//! Reading blobs: the concatenation of byte ranges of blobs, as a
//! [`BlobBody`] that the HTTP layer turns into a response body.
//!
//! Local reads bypass `object_store`'s generic stream: up to `INLINE_READ`
//! bytes are read in place through the open-file set, up to `SMALL_READ` in
//! one blocking call, larger ranges as a stream of `STREAM_CHUNK`-byte
//! buffers, each filled by the read itself (`file_chunks.rs`).

use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, BoxStream, Flatten, Iter};
use futures_util::{Stream, StreamExt as _};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStoreExt as _};

use super::file_chunks::FileChunks;
use super::{BlobError, BlobResult, BlobStore, Segment};

/// Local reads of at most this many bytes (thumbnails, event records,
/// headers) are done in place on the async worker: a `pread` of a page-cached
/// file costs less than handing it to the blocking pool and back, as nginx
/// does without thread pools.
const INLINE_READ: u64 = 64 * 1024;
/// Reads of at most this many bytes are served from one buffer.
const SMALL_READ: u64 = 256 * 1024;
/// Buffer size of streamed reads.
const STREAM_CHUNK: NonZeroUsize = NonZeroUsize::new(256 * 1024).unwrap();

/// What [`BlobStore::read`] opened: the bytes themselves, or a stream of them.
#[derive(Debug)]
pub enum BlobBody {
    /// A small read, in memory.
    Full(Bytes),
    /// A large read, streamed.
    Stream(BlobStream),
}

impl BlobBody {
    /// The body as one stream of chunks, whichever it is.
    pub fn into_data_stream(self) -> BlobStream {
        match self {
            BlobBody::Full(bytes) => BlobStream(Chunks::Full(Some(bytes))),
            BlobBody::Stream(stream) => stream,
        }
    }

    /// Reads the whole body into memory.
    pub async fn into_bytes(self) -> BlobResult<Bytes> {
        let mut stream = match self {
            BlobBody::Full(bytes) => return Ok(bytes),
            BlobBody::Stream(stream) => stream,
        };
        let mut out = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out.freeze())
    }
}

type ObjectChunks =
    Flatten<Iter<std::vec::IntoIter<BoxStream<'static, object_store::Result<Bytes>>>>>;

/// The chunks of a streamed read (local files or objects), one after the other.
pub struct BlobStream(Chunks);

enum Chunks {
    Full(Option<Bytes>),
    Files(FileChunks),
    Objects(ObjectChunks),
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Chunks::Full(_) => "BlobStream::Full",
            Chunks::Files(_) => "BlobStream::Files",
            Chunks::Objects(_) => "BlobStream::Objects",
        })
    }
}

impl Stream for BlobStream {
    type Item = BlobResult<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.0 {
            Chunks::Full(bytes) => Poll::Ready(bytes.take().map(Ok)),
            Chunks::Files(files) => files
                .poll_next_unpin(cx)
                .map(|chunk| chunk.map(|c| c.map_err(BlobError::from))),
            Chunks::Objects(objects) => objects
                .poll_next_unpin(cx)
                .map(|chunk| chunk.map(|c| c.map_err(BlobError::from))),
        }
    }
}

impl BlobStore {
    /// Reads a whole small blob into memory.
    pub async fn read_all(&self, key: &str) -> BlobResult<Bytes> {
        Ok(self.store.get(&Path::from(key)).await?.bytes().await?)
    }

    /// Opens the concatenation of `segments` as one body.
    ///
    /// Every blob is opened before this returns, so a missing blob is an error
    /// here and not a truncated response.
    pub async fn read(&self, segments: Vec<Segment>) -> BlobResult<BlobBody> {
        let segments: Vec<Segment> = segments
            .into_iter()
            .filter(|s| s.range.start < s.range.end)
            .collect();
        let total: u64 = segments.iter().map(|s| s.range.end - s.range.start).sum();
        match &self.local {
            Some(fs) => {
                if total <= INLINE_READ {
                    return Ok(BlobBody::Full(self.read_inline(fs, &segments, total)?));
                }
                let paths = segments
                    .iter()
                    .map(|s| Ok((self.local_path(fs, &s.key)?, s.range.clone())))
                    .collect::<BlobResult<Vec<_>>>()?;
                if total <= SMALL_READ {
                    let bytes =
                        tokio::task::spawn_blocking(move || read_small(&paths, total)).await??;
                    Ok(BlobBody::Full(bytes))
                } else {
                    let files = FileChunks::open(paths, STREAM_CHUNK).await?;
                    Ok(BlobBody::Stream(BlobStream(Chunks::Files(files))))
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
                let objects = stream::iter(streams).flatten();
                Ok(BlobBody::Stream(BlobStream(Chunks::Objects(objects))))
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

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

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
        let got = body.into_bytes().await.unwrap();
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
