//! Large local reads (clips) as a stream of chunks, each read on the blocking
//! pool straight into the buffer that goes to the socket.
//!
//! `tokio::fs::File` reads into a buffer of its own on the blocking pool and
//! copies it into the caller's on the async worker: one more pass over every
//! byte of a clip, which the serve bench's profile showed as the largest
//! user-space cost of a 10 MiB GET. Here each chunk is a fresh `Vec` that
//! the read fills (without zeroing it first) and that hyper then writes as
//! it is.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_util::{FutureExt as _, Stream};
use tokio::task::JoinHandle;

/// One file's bytes still to read: the open file, at its next byte, and how
/// many bytes are left.
#[derive(Debug)]
struct Left {
    file: File,
    len: u64,
}

/// The concatenation of byte ranges of local files, `chunk` bytes at a time.
#[derive(Debug)]
pub struct FileChunks {
    files: VecDeque<Left>,
    chunk: u64,
    reading: Option<JoinHandle<std::io::Result<(Left, Bytes)>>>,
}

impl FileChunks {
    /// Opens every file (a missing one is an error here, before anything is
    /// sent) and places each at the start of its range.
    pub async fn open(ranges: Vec<(PathBuf, Range<u64>)>, chunk: usize) -> std::io::Result<Self> {
        let files = tokio::task::spawn_blocking(move || {
            ranges
                .into_iter()
                .map(|(path, range)| {
                    let mut file = File::open(path)?;
                    file.seek(SeekFrom::Start(range.start))?;
                    Ok(Left {
                        file,
                        len: range.end - range.start,
                    })
                })
                .collect::<std::io::Result<VecDeque<_>>>()
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(Self {
            files,
            chunk: chunk as u64,
            reading: None,
        })
    }
}

/// Reads the next at most `chunk` bytes of `left`.
fn read_chunk(mut left: Left, chunk: u64) -> std::io::Result<(Left, Bytes)> {
    let want = left.len.min(chunk);
    let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(usize::MAX));
    (&mut left.file).take(want).read_to_end(&mut buf)?;
    if (buf.len() as u64) < want {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "a blob file is shorter than its row says",
        ));
    }
    left.len -= want;
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
            let Some(left) = this.files.pop_front() else {
                return Poll::Ready(None);
            };
            if left.len == 0 {
                continue;
            }
            let chunk = this.chunk;
            this.reading = Some(tokio::task::spawn_blocking(move || read_chunk(left, chunk)));
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt as _;

    use super::*;

    async fn collect(chunks: FileChunks) -> (Vec<usize>, std::io::Result<Vec<u8>>) {
        let mut sizes = Vec::new();
        let mut out = Vec::new();
        let mut chunks = std::pin::pin!(chunks);
        while let Some(chunk) = chunks.next().await {
            match chunk {
                Ok(bytes) => {
                    sizes.push(bytes.len());
                    out.extend_from_slice(&bytes);
                }
                Err(e) => return (sizes, Err(e)),
            }
        }
        (sizes, Ok(out))
    }

    #[tokio::test]
    async fn ranges_of_files_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let a: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let b: Vec<u8> = (0..5_000u32).map(|i| (i % 13) as u8).collect();
        std::fs::write(dir.path().join("a"), &a).unwrap();
        std::fs::write(dir.path().join("b"), &b).unwrap();
        let chunks = FileChunks::open(
            vec![
                (dir.path().join("a"), 100..9_100),
                (dir.path().join("b"), 7..7),
                (dir.path().join("b"), 0..5_000),
            ],
            4_096,
        )
        .await
        .unwrap();
        let (sizes, got) = collect(chunks).await;
        assert_eq!(sizes, [4_096, 4_096, 808, 4_096, 904]);
        assert_eq!(got.unwrap(), [&a[100..9_100], &b[..]].concat());
    }

    #[tokio::test]
    async fn a_missing_file_fails_the_open() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), b"abc").unwrap();
        let missing = FileChunks::open(
            vec![
                (dir.path().join("a"), 0..3),
                (dir.path().join("gone"), 0..3),
            ],
            4_096,
        )
        .await;
        assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_range_fails_and_ends_the_stream() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), vec![7u8; 6_000]).unwrap();
        std::fs::write(dir.path().join("b"), b"never read").unwrap();
        let chunks = FileChunks::open(
            vec![
                (dir.path().join("a"), 0..9_000),
                (dir.path().join("b"), 0..10),
            ],
            4_096,
        )
        .await
        .unwrap();
        let mut chunks = std::pin::pin!(chunks);
        assert_eq!(chunks.next().await.unwrap().unwrap().len(), 4_096);
        let err = chunks.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(chunks.next().await.is_none());
    }
}
