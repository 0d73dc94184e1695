//! Large local reads (clips) as a stream of chunks, each read straight into
//! the buffer that goes to the socket.
//!
//! `tokio::fs::File` reads into a buffer of its own on the blocking pool and
//! copies it into the caller's on the async worker: one more pass over every
//! byte of a clip, which the serve bench's profile showed as the largest
//! user-space cost of a 10 MiB GET. Here each chunk is a fresh `Vec` that
//! hyper writes as it is.
//!
//! A chunk the page cache holds is read on the async worker itself, with
//! `preadv2(RWF_NOWAIT)`, which never waits for the disk: it answers "not
//! cached" instead, and only then is the chunk read on the blocking pool.
//! Handing every chunk to the pool and waking the worker back cost a futex
//! wake-up and a thread switch per 256 KiB (12% of the server's CPU on a
//! clip GET, perf); the serve bench's clip GET went from 0.73× and 0.67×
//! nginx to 0.88× and 0.82× (two alternating runs of each build). A cached
//! chunk's buffer is zeroed before the read (`preadv2` takes initialised
//! buffers); the pool's read fills spare capacity.

use std::collections::VecDeque;
use std::fs::File;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_util::{FutureExt as _, Stream};
use tokio::task::JoinHandle;

/// One file's bytes still to read: the open file, the next byte's offset,
/// and how many bytes are left.
#[derive(Debug)]
struct Left {
    file: File,
    at: u64,
    len: u64,
}

impl Left {
    /// The length of the next chunk of at most `chunk` bytes.
    fn next_len(&self, chunk: NonZeroUsize) -> usize {
        usize::try_from(self.len).map_or(chunk.get(), |len| len.min(chunk.get()))
    }

    /// Moves past `n` bytes read.
    fn advance(&mut self, n: usize) {
        self.at += n as u64;
        self.len -= n as u64;
    }
}

/// The concatenation of byte ranges of local files, `chunk` bytes at a time,
/// each read when hyper asks for it.
#[derive(Debug)]
pub struct FileChunks {
    files: VecDeque<Left>,
    chunk: NonZeroUsize,
    reading: Option<JoinHandle<std::io::Result<(Left, Bytes)>>>,
}

impl FileChunks {
    /// Opens every file (a missing one is an error here, before anything is
    /// sent) and starts reading the first chunk.
    pub async fn open(
        ranges: Vec<(PathBuf, Range<u64>)>,
        chunk: NonZeroUsize,
    ) -> std::io::Result<Self> {
        let files = tokio::task::spawn_blocking(move || {
            ranges
                .into_iter()
                .map(|(path, range)| {
                    let len = range.end.checked_sub(range.start).ok_or_else(|| {
                        std::io::Error::new(std::io::ErrorKind::InvalidInput, "a reversed range")
                    })?;
                    let file = File::open(path)?;
                    Ok(Left {
                        file,
                        at: range.start,
                        len,
                    })
                })
                .collect::<std::io::Result<VecDeque<_>>>()
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(Self {
            files,
            chunk,
            reading: None,
        })
    }
}

/// Reads the next at most `chunk` bytes of `left` from the page cache, on
/// the calling thread (`preadv2` with `RWF_NOWAIT`), into `buf` (zeroed
/// first: `preadv2` takes initialised buffers). `None` when none of them is
/// cached, or the kernel or filesystem cannot tell: the caller reads them
/// on the blocking pool, into the same buffer. A chunk partly cached comes
/// back shorter.
#[cfg(target_os = "linux")]
fn read_cached(
    left: &mut Left,
    buf: &mut Vec<u8>,
    chunk: NonZeroUsize,
) -> Option<std::io::Result<()>> {
    use rustix::io::{Errno, ReadWriteFlags};
    let want = left.next_len(chunk);
    buf.resize(want, 0);
    let mut got = 0;
    while got < want {
        let at = left.at + got as u64;
        let mut into = [std::io::IoSliceMut::new(&mut buf[got..])];
        match rustix::io::preadv2(&left.file, &mut into, at, ReadWriteFlags::NOWAIT) {
            Ok(0) => return Some(Err(short_file())),
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(_) if got > 0 => break,
            // Not cached (AGAIN), or no RWF_NOWAIT here (OPNOTSUPP, NOSYS,
            // INVAL): the blocking pool reads it, and reports any other
            // failure as it comes.
            Err(_) => return None,
        }
    }
    buf.truncate(got);
    left.advance(got);
    Some(Ok(()))
}

#[cfg(not(target_os = "linux"))]
fn read_cached(_: &mut Left, _: &mut Vec<u8>, _: NonZeroUsize) -> Option<std::io::Result<()>> {
    None
}

fn short_file() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "a blob file is shorter than its row says",
    )
}

/// Reads the next at most `chunk` bytes of `left` into `buf` (its bytes
/// dropped, its allocation kept: the one [`read_cached`] found nothing
/// cached for): `pread` into its spare capacity, so nothing is zeroed.
fn read_chunk(
    mut left: Left,
    mut buf: Vec<u8>,
    chunk: NonZeroUsize,
) -> std::io::Result<(Left, Bytes)> {
    let want = left.next_len(chunk);
    buf.clear();
    buf.reserve(want);
    while buf.len() < want {
        let at = left.at + buf.len() as u64;
        match rustix::io::pread(&left.file, rustix::buffer::spare_capacity(&mut buf), at) {
            Ok(0) => return Err(short_file()),
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    left.advance(want);
    Ok((left, Bytes::from(buf)))
}

impl Stream for FileChunks {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(reading) = &mut this.reading {
                let done = ready!(reading.poll_unpin(cx));
                this.reading = None;
                return Poll::Ready(Some(match done.map_err(std::io::Error::other) {
                    Ok(Ok((left, bytes))) => {
                        if left.len > 0 {
                            this.files.push_front(left);
                        }
                        Ok(bytes)
                    }
                    Ok(Err(e)) | Err(e) => {
                        // Nothing more is read after a failure.
                        this.files.clear();
                        Err(e)
                    }
                }));
            }
            let Some(mut left) = this.files.pop_front() else {
                return Poll::Ready(None);
            };
            if left.len == 0 {
                continue;
            }
            let mut buf = Vec::new();
            match read_cached(&mut left, &mut buf, this.chunk) {
                Some(Ok(())) => {
                    if left.len > 0 {
                        this.files.push_front(left);
                    }
                    return Poll::Ready(Some(Ok(Bytes::from(buf))));
                }
                Some(Err(e)) => {
                    this.files.clear();
                    return Poll::Ready(Some(Err(e)));
                }
                None => {
                    let chunk = this.chunk;
                    this.reading = Some(tokio::task::spawn_blocking(move || {
                        read_chunk(left, buf, chunk)
                    }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt as _;

    use super::*;

    const CHUNK: NonZeroUsize = NonZeroUsize::new(4_096).unwrap();

    /// Writes `files` (name, bytes) into a temporary directory, kept while
    /// the `TempDir` lives, and opens `ranges` (name, range) of them.
    async fn open(
        files: &[(&str, &[u8])],
        ranges: Vec<(&str, Range<u64>)>,
    ) -> (tempfile::TempDir, std::io::Result<FileChunks>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let ranges = ranges
            .into_iter()
            .map(|(name, range)| (dir.path().join(name), range))
            .collect();
        let chunks = FileChunks::open(ranges, CHUNK).await;
        (dir, chunks)
    }

    #[tokio::test]
    async fn ranges_of_files_in_chunks() {
        let a: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let b: Vec<u8> = (0..5_000u32).map(|i| (i % 13) as u8).collect();
        let (_dir, chunks) = open(
            &[("a", &a), ("b", &b)],
            vec![("a", 100..9_100), ("b", 7..7), ("b", 0..5_000)],
        )
        .await;
        let mut chunks = std::pin::pin!(chunks.unwrap());
        let (mut sizes, mut got) = (Vec::new(), Vec::new());
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.unwrap();
            sizes.push(chunk.len());
            got.extend_from_slice(&chunk);
        }
        assert_eq!(sizes, [4_096, 4_096, 808, 4_096, 904]);
        assert_eq!(got, [&a[100..9_100], &b[..]].concat());
    }

    /// The blocking pool's read (a chunk not in the page cache), which the
    /// other tests, their files just written and cached, do not reach.
    #[test]
    fn the_pools_read_takes_a_chunk_and_moves_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        let a: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &a).unwrap();
        let left = Left {
            file: File::open(&path).unwrap(),
            at: 100,
            len: 5_000,
        };
        let (left, bytes) = read_chunk(left, Vec::new(), CHUNK).unwrap();
        assert_eq!(&bytes[..], &a[100..4_196]);
        assert_eq!((left.at, left.len), (4_196, 904));
        let (left, bytes) = read_chunk(left, Vec::new(), CHUNK).unwrap();
        assert_eq!(&bytes[..], &a[4_196..5_100]);
        assert_eq!(left.len, 0);
        let beyond = Left {
            file: File::open(&path).unwrap(),
            at: 9_000,
            len: 2_000,
        };
        let short = read_chunk(beyond, Vec::new(), CHUNK).unwrap_err();
        assert_eq!(short.kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[tokio::test]
    async fn a_missing_file_fails_the_open() {
        let (_dir, missing) = open(&[("a", b"abc")], vec![("a", 0..3), ("gone", 0..3)]).await;
        assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn a_reversed_range_fails_the_open() {
        #[allow(clippy::reversed_empty_ranges)]
        let (_dir, reversed) = open(&[("a", b"abc")], vec![("a", 3..1)]).await;
        assert_eq!(
            reversed.unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput
        );
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_range_fails_and_ends_the_stream() {
        let (_dir, chunks) = open(
            &[("a", &[7u8; 6_000]), ("b", b"never read")],
            vec![("a", 0..9_000), ("b", 0..10)],
        )
        .await;
        let mut chunks = std::pin::pin!(chunks.unwrap());
        assert_eq!(chunks.next().await.unwrap().unwrap().len(), 4_096);
        let err = chunks.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(chunks.next().await.is_none());
    }
}
