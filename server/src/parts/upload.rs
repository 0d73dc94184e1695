//! A camera uploads one part: header ‖ payload as it came, kept in the
//! database with its row when it is small (thumbnails, records), else
//! streamed into one blob first; the row names the bytes as both header and
//! payload (the payload at the header's size). The same bytes again are
//! acknowledged without storing anything; other bytes are a conflict.

use bytes::{Bytes, BytesMut};
use futures_util::{stream, Stream, StreamExt as _};
use sealcam_wire::{CameraStatus, PartKind};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::{same_digests, Parts, PartsError, PartsResult, Stored};
use crate::blobs::space::is_full_error;
use crate::blobs::{hash_stream, BlobError, BlobStore, Written};
use crate::metrics::Metrics;
use crate::state::now;
use crate::store::{CameraPrincipal, InsertPart, NewPart, PartNotice};

/// One part upload, as the camera asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upload {
    /// The event (chosen by the camera, UUIDv7).
    pub event_id: Uuid,
    /// Which part of it.
    pub kind: PartKind,
    /// Capture time (Unix seconds), coarsened before it is stored.
    pub captured_at: i64,
    /// How many leading bytes of the body are the age header.
    pub header_len: u64,
    /// The body's declared length, when the request gave one: a body
    /// declared too large is refused before a byte of it is read.
    pub content_length: Option<u64>,
}

/// Decrements the in-flight gauge when an upload ends, however it ends.
struct InFlight<'a>(&'a Metrics);

impl<'a> InFlight<'a> {
    fn start(metrics: &'a Metrics) -> Self {
        metrics.uploads_in_flight.inc();
        Self(metrics)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.uploads_in_flight.dec();
    }
}

impl Parts<'_> {
    /// The largest body (header ‖ payload) of a part of `kind`.
    fn part_limit(&self, kind: PartKind) -> u64 {
        let limits = &self.config.limits;
        match kind {
            PartKind::Thumbnail => limits.max_thumbnail_bytes,
            PartKind::Clip => limits.max_clip_bytes,
            PartKind::Record => limits.max_record_bytes,
        }
    }

    /// Stores one part of `camera`'s event from `body` (header ‖ payload).
    ///
    /// Refuses a pending camera, a header or body over its limit, and a
    /// body shorter than its header; answers [`PartsError::Busy`] when every
    /// upload slot is taken. A part stored already is compared, not stored
    /// again: the same bytes are `Ok` with `created: false`, other bytes
    /// [`PartsError::Conflict`]. An event id of another camera is
    /// [`PartsError::NotFound`].
    pub async fn upload<S, E>(
        &self,
        camera: &CameraPrincipal,
        upload: Upload,
        body: S,
    ) -> PartsResult<Stored>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display + Send,
    {
        if camera.status != CameraStatus::Active {
            return Err(PartsError::CameraNotActive);
        }
        let limit = self.check_limits(&upload)?;
        if let Some(len) = upload.content_length {
            // A body that cannot fit is refused before a byte of it is read.
            if !self.blobs.has_room_for(len) {
                self.mark_full(true);
                return Err(PartsError::StorageFull);
            }
        }
        let _slot = match self.uploads.try_acquire(camera.camera_id, camera.owner_id) {
            Ok(slot) => slot,
            Err(full) => {
                self.metrics.upload_slots_full(full);
                return Err(PartsError::Busy {
                    retry_after: self.config.limits.overload_retry_after_secs,
                });
            }
        };
        // After the slot: an upload refused as busy costs no quota query.
        self.check_quota(camera, &upload).await?;
        let _in_flight = InFlight::start(self.metrics);

        let (header, payload) = split_header(body, upload.header_len).await?;
        let payload_limit = limit.saturating_sub(upload.header_len);
        let existing = self
            .db
            .camera_part(camera.camera_id, upload.event_id, upload.kind)
            .await?;
        if let Some(existing) = existing {
            // A retry: compare without storing anything.
            let header_written =
                hash_stream(stream::iter([Ok::<_, std::io::Error>(header)]), u64::MAX).await?;
            let payload_written = hash_stream(payload, payload_limit).await?;
            return if same_digests(&existing, &header_written.sha256, &payload_written.sha256) {
                Ok(Stored {
                    created: false,
                    header_size: existing.header_size,
                    payload_size: existing.payload_size,
                })
            } else {
                Err(PartsError::Conflict)
            };
        }
        self.store_new(camera, &upload, header, payload, payload_limit)
            .await
    }

    /// The step, in seconds, to which stored times are rounded down.
    fn granularity(&self) -> i64 {
        i64::try_from(self.config.tasks.time_granularity_secs.max(1)).unwrap_or(i64::MAX)
    }

    /// The checks made before a byte of the body is read; returns the
    /// part's size limit.
    fn check_limits(&self, upload: &Upload) -> PartsResult<u64> {
        let max_header = self.config.limits.max_header_bytes;
        if upload.header_len == 0 {
            return Err(PartsError::Invalid("header_len must be at least 1"));
        }
        if upload.header_len > max_header {
            return Err(PartsError::TooLarge(max_header));
        }
        // Rounded down to the listing granularity when stored: a time so
        // far before 1970 that rounding overflows is refused here (it
        // panicked the request in a debug build, wrapped in a release one).
        if upload
            .captured_at
            .checked_sub(self.granularity() - 1)
            .is_none()
        {
            return Err(PartsError::Invalid("captured_at is out of range"));
        }
        let limit = self.part_limit(upload.kind);
        if let Some(len) = upload.content_length {
            if len > limit {
                return Err(PartsError::TooLarge(limit));
            }
            if len < upload.header_len {
                return Err(PartsError::Invalid("body shorter than header_len"));
            }
        }
        Ok(limit)
    }

    /// Stores a new part's bytes, then its row: the commit point; then
    /// announces it to the event streams. A small part's bytes go into the
    /// database with its row, a larger one's into one blob first.
    async fn store_new<S, E>(
        &self,
        camera: &CameraPrincipal,
        upload: &Upload,
        header: Bytes,
        payload: S,
        payload_limit: u64,
    ) -> PartsResult<Stored>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let mut payload = payload;
        let mut read = Vec::new();
        if let Some(room) = self.in_database_room(upload, payload_limit) {
            if read_to_end_within(&mut payload, room, &mut read).await? {
                return self.store_in_database(camera, upload, header, read).await;
            }
        }
        // Too large for the database: what was read goes first.
        let payload = stream::iter(read.into_iter().map(Ok)).chain(payload);
        self.store_as_blob(camera, upload, header, payload, payload_limit)
            .await
    }

    /// How many payload bytes a part may have and still be kept in the
    /// database (`storage.in_database_max_bytes` for header ‖ payload);
    /// `None` when it will not be, by its header or its declared length.
    fn in_database_room(&self, upload: &Upload, payload_limit: u64) -> Option<u64> {
        let max = self.config.storage.in_database_max_bytes;
        if upload.content_length.is_some_and(|len| len > max) {
            return None;
        }
        Some(max.checked_sub(upload.header_len)?.min(payload_limit))
    }

    /// Stores a small part with its row: header ‖ payload in the database,
    /// under a key of the database's own.
    async fn store_in_database(
        &self,
        camera: &CameraPrincipal,
        upload: &Upload,
        header: Bytes,
        payload: Vec<Bytes>,
    ) -> PartsResult<Stored> {
        let size: usize = payload.iter().map(Bytes::len).sum();
        let mut bytes = BytesMut::with_capacity(header.len() + size);
        bytes.extend_from_slice(&header);
        let mut hasher = Sha256::new();
        for chunk in &payload {
            hasher.update(chunk);
            bytes.extend_from_slice(chunk);
        }
        let payload_written = Written {
            size: size as u64,
            sha256: hasher.finalize().into(),
        };
        let key = BlobStore::new_database_key();
        self.record(
            camera,
            upload,
            &key,
            &header,
            &payload_written,
            Some(bytes.freeze()),
        )
        .await
    }

    /// Stores a part as one blob, header ‖ payload, then its row.
    async fn store_as_blob<S, E>(
        &self,
        camera: &CameraPrincipal,
        upload: &Upload,
        header: Bytes,
        payload: S,
        payload_limit: u64,
    ) -> PartsResult<Stored>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let mut payload = payload;
        // One blob: one file (one create, one fsync) or one S3 object per
        // part, and a download of the whole part is one read.
        let key = BlobStore::new_key();
        let payload_written = match self
            .blobs
            .put_stream_after(&key, &header, &mut payload, payload_limit)
            .await
        {
            Ok(w) => w,
            Err(e) => {
                let e = self.blob_failure(e);
                if matches!(e, PartsError::StorageFull) {
                    // Read the rest, so the camera hears 507 instead of a
                    // connection reset in the middle of its upload.
                    discard(&mut payload, DISCARD_AFTER_FULL).await;
                }
                return Err(e);
            }
        };
        if self.blobs.is_full() {
            self.mark_full(false); // the blob was written: there is room again
        }
        let stored = self
            .record(camera, upload, &key, &header, &payload_written, None)
            .await;
        if !matches!(stored, Ok(Stored { created: true, .. })) {
            // No row names the blob: it was never part of the store.
            self.blobs.delete_all(vec![key]).await;
        }
        stored
    }

    /// Records the row of a part whose bytes are `header` ‖ the payload
    /// described by `payload`, stored under `key` (in the blob store, or in
    /// the database with the row when `in_database` holds them); announces
    /// a new part to the event streams.
    async fn record(
        &self,
        camera: &CameraPrincipal,
        upload: &Upload,
        key: &str,
        header: &[u8],
        payload: &Written,
        in_database: Option<Bytes>,
    ) -> PartsResult<Stored> {
        let header_written = Written {
            size: header.len() as u64,
            sha256: Sha256::digest(header).into(),
        };
        // Times are stored coarse (S9): the capture time the camera gives and
        // the upload time alike, to the configured granularity.
        let granularity = self.granularity();
        let uploaded_at = now();
        let part = NewPart {
            event_id: upload.event_id,
            camera_id: camera.camera_id,
            captured_at: upload.captured_at - upload.captured_at.rem_euclid(granularity),
            kind: upload.kind,
            header_key: key.to_owned(),
            header_size: header_written.size,
            header_sha256: header_written.sha256.to_vec(),
            payload_key: key.to_owned(),
            payload_size: payload.size,
            payload_sha256: payload.sha256.to_vec(),
            payload_offset: header_written.size,
            in_database,
            created_at: uploaded_at - uploaded_at.rem_euclid(granularity),
        };
        let outcome = self.db.insert_part(&part).await;
        if matches!(outcome, Ok(InsertPart::Inserted)) {
            self.feed.recorded(PartNotice {
                owner_id: camera.owner_id,
                camera_id: camera.camera_id,
                event_id: upload.event_id,
                kind: upload.kind,
            });
        }
        answer(self.metrics, outcome?, &header_written, payload)
    }
}

impl Parts<'_> {
    /// Refuses an upload that would take the account past its quota: by the
    /// declared size, else by its header (a chunked body's payload is not
    /// known yet; the next upload is refused once the usage is over).
    async fn check_quota(&self, camera: &CameraPrincipal, upload: &Upload) -> PartsResult<()> {
        let quota = self.config.limits.account_quota_bytes;
        if quota == 0 {
            return Ok(());
        }
        let used = self.db.account_usage(camera.owner_id).await?;
        let adding = upload.content_length.unwrap_or(upload.header_len);
        if used.saturating_add(adding) > quota {
            return Err(PartsError::QuotaExceeded(quota));
        }
        Ok(())
    }

    /// Records whether the blob store was found full (health, metric).
    fn mark_full(&self, full: bool) {
        self.blobs.set_full(full);
        self.metrics.storage_full.set(i64::from(full));
    }

    /// The error of a failed blob write: [`PartsError::StorageFull`] when
    /// the store had no room (and the store is marked full).
    fn blob_failure(&self, e: BlobError) -> PartsError {
        if is_full_error(&e) {
            tracing::warn!(error = %e, "blob store full: refusing uploads with 507 until a write succeeds");
            self.mark_full(true);
            return PartsError::StorageFull;
        }
        e.into()
    }
}

/// What an upload whose blobs were written answers, given how recording its
/// row went.
fn answer(
    metrics: &Metrics,
    outcome: InsertPart,
    header: &Written,
    payload: &Written,
) -> PartsResult<Stored> {
    match outcome {
        InsertPart::Inserted => {
            metrics.bytes_in.inc_by(header.size + payload.size);
            Ok(Stored {
                created: true,
                header_size: header.size,
                payload_size: payload.size,
            })
        }
        // A concurrent upload of the same part won the race.
        InsertPart::Exists(existing) => {
            if same_digests(&existing, &header.sha256, &payload.sha256) {
                Ok(Stored {
                    created: false,
                    header_size: existing.header_size,
                    payload_size: existing.payload_size,
                })
            } else {
                Err(PartsError::Conflict)
            }
        }
        InsertPart::ForeignEvent => Err(PartsError::NotFound),
        // What its credential now answers on any request.
        InsertPart::CameraGone => Err(PartsError::Unauthorized),
    }
}

/// How much of a body the server still reads (and drops) after the store
/// filled up in the middle of it, so the client gets its `507`.
const DISCARD_AFTER_FULL: u64 = 64 * 1024 * 1024;

/// Reads and drops up to `limit` more bytes of `body`.
async fn discard<S, E>(body: &mut S, limit: u64)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut read = 0u64;
    while let Some(Ok(chunk)) = body.next().await {
        read += chunk.len() as u64;
        if read > limit {
            return;
        }
    }
}

/// Reads `body` to its end into `chunks` when it holds at most `room`
/// bytes (`true`); else stops once past `room`, `chunks` holding what was
/// read (`false`).
async fn read_to_end_within<S, E>(
    body: &mut S,
    room: u64,
    chunks: &mut Vec<Bytes>,
) -> PartsResult<bool>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut read = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| PartsError::Body(e.to_string()))?;
        read += chunk.len() as u64;
        chunks.push(chunk);
        if read > room {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Splits a body into its first `header_len` bytes and the stream of the rest.
async fn split_header<S, E>(
    mut body: S,
    header_len: u64,
) -> PartsResult<(Bytes, impl Stream<Item = Result<Bytes, E>> + Unpin + Send)>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
    E: std::fmt::Display + Send,
{
    let header_len = usize::try_from(header_len).unwrap_or(usize::MAX);
    let mut header = BytesMut::with_capacity(header_len);
    let mut rest: Option<Bytes> = None;
    while header.len() < header_len {
        match body.next().await {
            Some(Ok(mut chunk)) => {
                let need = header_len - header.len();
                if chunk.len() > need {
                    rest = Some(chunk.split_off(need));
                }
                header.extend_from_slice(&chunk);
            }
            Some(Err(e)) => return Err(PartsError::Body(e.to_string())),
            None => return Err(PartsError::Invalid("body shorter than header_len")),
        }
    }
    Ok((header.freeze(), stream::iter(rest.map(Ok)).chain(body)))
}
