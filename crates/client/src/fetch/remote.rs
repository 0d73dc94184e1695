//! A verified object's body, fetched on demand: only the chunks that hold
//! the bytes asked for, each verified before any of its bytes is released.

use std::ops::Range;
use std::path::PathBuf;

use futures_util::TryStreamExt as _;
use sealcam_format::{ObjectMeta, OpenError};

use super::{FetchOutcome, RemoteObject};
use crate::error::{ClientError, Result};

/// How many chunks (64 KiB each) one range request fetches.
const BATCH_CHUNKS: u64 = 64;
impl RemoteObject {
    /// The verified inner header: what the object is, when it was captured,
    /// its content type.
    pub fn meta(&self) -> &ObjectMeta {
        self.opened.meta()
    }

    /// The body length.
    pub fn body_len(&self) -> u64 {
        self.opened.body_len()
    }

    pub(super) fn clamp(&self, range: Option<Range<u64>>) -> Result<Range<u64>> {
        super::clamp_range(range, self.body_len())
    }

    pub(super) fn outcome(&self, range: Range<u64>, path: Option<PathBuf>) -> FetchOutcome {
        let meta = self.meta();
        FetchOutcome {
            event_id: meta.binding.event,
            camera_id: meta.binding.camera,
            kind: self.kind,
            content_type: meta.content_type.clone(),
            captured_at_ms: meta.captured_at_ms,
            epoch: meta.epoch,
            range,
            body_len: self.body_len(),
            path,
        }
    }

    /// Downloads the ciphertext of `chunks` in batches and hands each whole
    /// chunk to `f`, in order.
    pub(super) async fn for_each_chunk(
        &self,
        chunks: Range<u64>,
        f: &mut (dyn FnMut(u64, &[u8]) -> Result<()> + Send),
    ) -> Result<()> {
        let mut index = chunks.start;
        while index < chunks.end {
            let batch_end = (index + BATCH_CHUNKS).min(chunks.end);
            let range = self.opened.ciphertext_range(index..batch_end);
            let mut stream = self.api.payload_range(self.event, self.kind, range).await?;
            let mut buf: Vec<u8> = Vec::new();
            while index < batch_end {
                let r = self.opened.ciphertext_range(index..index + 1);
                let need = (r.end - r.start) as usize;
                while buf.len() < need {
                    match stream.try_next().await? {
                        Some(piece) => buf.extend_from_slice(&piece),
                        None => {
                            return Err(ClientError::Verification(OpenError::Truncated(
                                "the server sent fewer payload bytes than the payload length",
                            )))
                        }
                    }
                }
                f(index, &buf[..need])?;
                buf.drain(..need);
                index += 1;
            }
            if !buf.is_empty() || stream.try_next().await?.is_some() {
                return Err(ClientError::Protocol(
                    "the server sent more payload bytes than asked".into(),
                ));
            }
        }
        Ok(())
    }

    /// Verified body bytes `range` (clamped to the body), in memory: only the
    /// chunks that hold them are downloaded (verified seek).
    pub async fn read_range(&self, range: Range<u64>) -> Result<Vec<u8>> {
        let range = self.clamp(Some(range))?;
        let chunks = self.opened.chunks_for(range.clone());
        let mut out = Vec::with_capacity((range.end - range.start) as usize);
        let opened = &self.opened;
        self.for_each_chunk(chunks, &mut |index, ct| {
            let mut buf = ct.to_vec();
            let (body, off) = opened
                .open_chunk(index, &mut buf)
                .map_err(ClientError::from_open)?;
            append_overlap(&mut out, &buf[body.clone()], off, &range);
            Ok(())
        })
        .await?;
        Ok(out)
    }
}

/// Appends the part of `data` (body bytes starting at body offset `off`) that
/// lies inside `range`.
pub(super) fn append_overlap(out: &mut Vec<u8>, data: &[u8], off: u64, range: &Range<u64>) {
    let start = range.start.max(off);
    let end = range.end.min(off + data.len() as u64);
    if start < end {
        out.extend_from_slice(&data[(start - off) as usize..(end - off) as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_clipped_to_the_range() {
        let mut out = Vec::new();
        append_overlap(&mut out, b"abcdef", 10, &(12..14));
        assert_eq!(out, b"cd");
        append_overlap(&mut out, b"xyz", 20, &(12..14));
        assert_eq!(out, b"cd");
    }
}
