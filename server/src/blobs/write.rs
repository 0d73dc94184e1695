//! Writing blobs: create-if-absent puts and bounded-memory streamed uploads.

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt as _};
use object_store::path::Path;
use object_store::{ObjectStoreExt as _, PutMode, PutOptions, PutPayload, WriteMultipart};
use sha2::{Digest as _, Sha256};

use super::{BlobError, BlobResult, BlobStore, Written, PARTS_IN_FLIGHT};

impl BlobStore {
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
        self.put_stream_after(key, &[], body, limit).await
    }

    /// Like [`BlobStore::put_stream`], with `prefix` written in front of
    /// `body` in the same blob: the size and digest returned, and `limit`,
    /// are `body`'s alone. (A part's header ‖ payload as one blob.)
    pub async fn put_stream_after<S, E>(
        &self,
        key: &str,
        prefix: &[u8],
        body: S,
        limit: u64,
    ) -> BlobResult<Written>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let mut body = body;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut buffer = BytesMut::from(prefix);
        // Phase 1: buffer up to SINGLE_PUT bytes.
        loop {
            match body.next().await {
                None => {
                    hasher.update(&buffer[prefix.len()..]);
                    let bytes = buffer.freeze();
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
        hasher.update(&buffer[prefix.len()..]);
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
