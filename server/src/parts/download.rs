//! A viewer downloads a part, its header or its payload, whole or one byte
//! range of it: authenticated and authorised in one database query, which
//! also reads a small part's bytes when the database holds them; any other
//! bytes are read from the blobs the row names.

use std::ops::Range;

use bytes::Bytes;
use sealcam_wire::PartKind;
use uuid::Uuid;

use super::{Parts, PartsError, PartsResult};
use crate::blobs::{in_database, BlobBody, Segment};
use crate::range;
use crate::store::{PartRow, StoreError};
use crate::tokens::{self, TokenHash};

/// Which bytes of a part a download serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// The whole age file: header ‖ payload.
    Whole,
    /// The age header alone.
    Header,
    /// The payload alone.
    Payload,
}

/// An authorised download, its blobs opened.
#[derive(Debug)]
pub struct Download {
    /// The bytes of `span`.
    pub body: BlobBody,
    /// The bytes served, within `0..total`.
    pub span: Range<u64>,
    /// The size of the whole piece.
    pub total: u64,
    /// Whether a range was asked for and is served (`206`), rather than the
    /// whole piece.
    pub partial: bool,
}

impl Parts<'_> {
    /// Opens `piece` of a part for the viewer holding the token `token`,
    /// restricted to the `Range` header value `range` when it names one
    /// satisfiable byte range.
    ///
    /// [`PartsError::Unauthorized`] for an unknown token (the caller counts
    /// the failure), [`PartsError::NotFound`] for a part the viewer may not
    /// see, [`PartsError::RangeNotSatisfiable`] for a range outside it.
    pub async fn download(
        &self,
        token: &TokenHash,
        event_id: Uuid,
        kind: PartKind,
        piece: Piece,
        range: Option<&str>,
    ) -> PartsResult<Download> {
        // Authentication and authorisation in one database query.
        let (viewer, part) = self
            .db
            .viewer_part_by_token(token, event_id, kind)
            .await?
            .ok_or(PartsError::Unauthorized)?;
        if !tokens::hashes_equal(&viewer.token_hash, token) {
            return Err(PartsError::Unauthorized);
        }
        let mut part = part.ok_or(PartsError::NotFound)?;
        let held = part
            .in_database
            .take()
            .map(|b| (part.payload_key.clone(), b));
        let pieces = pieces(part, piece);
        let total: u64 = pieces.iter().map(|p| p.size).sum();
        let wanted =
            range::resolve(range, total).map_err(|_| PartsError::RangeNotSatisfiable(total))?;
        let partial = wanted.is_some();
        let span = wanted.unwrap_or(0..total);
        let segments = segments(pieces, &span);
        let body = if held.is_some() || segments.iter().any(|s| in_database(&s.key)) {
            let (key, bytes) = held.unwrap_or_default();
            BlobBody::Full(self.read_held(segments, &key, &bytes).await?)
        } else {
            self.blobs.read(segments).await?
        };
        Ok(Download {
            body,
            span,
            total,
            partial,
        })
    }
}

impl Parts<'_> {
    /// The bytes of `segments` when the database holds some of them: those
    /// of blob `key` (the part's own, read with the row) sliced from
    /// `bytes`, any other from where its key says (the new header of a
    /// re-wrapped part is a blob). All small, so all in memory.
    async fn read_held(
        &self,
        segments: Vec<Segment>,
        key: &str,
        bytes: &Bytes,
    ) -> PartsResult<Bytes> {
        let mut out = Vec::with_capacity(segments.len());
        for segment in segments {
            let piece = if segment.key == key {
                slice(key, bytes, &segment.range)?
            } else if in_database(&segment.key) {
                let bytes = self.db.part_bytes(&segment.key).await?.ok_or_else(|| {
                    StoreError::Corrupt(format!("a part names blob {}, which is gone", segment.key))
                })?;
                slice(&segment.key, &bytes, &segment.range)?
            } else {
                self.blobs.read(vec![segment]).await?.into_bytes().await?
            };
            out.push(piece);
        }
        Ok(match <[Bytes; 1]>::try_from(out) {
            Ok([one]) => one,
            Err(many) => many.concat().into(),
        })
    }
}

/// Bytes `range` of blob `key`, which the database held as `bytes`.
fn slice(key: &str, bytes: &Bytes, range: &Range<u64>) -> Result<Bytes, StoreError> {
    let end = usize::try_from(range.end).unwrap_or(usize::MAX);
    if end > bytes.len() {
        return Err(StoreError::Corrupt(format!(
            "blob {key} holds {} bytes, its part names {end}",
            bytes.len()
        )));
    }
    // start < end (empty segments are never made), so start fits too.
    Ok(bytes.slice(range.start as usize..end))
}

/// Where a piece of a part lies: `size` bytes of blob `key` from `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stretch {
    key: String,
    offset: u64,
    size: u64,
}

/// The stretches of blobs that make up `piece` of `part`, in order.
fn pieces(part: PartRow, piece: Piece) -> Vec<Stretch> {
    let header = Stretch {
        key: part.header_key,
        offset: 0,
        size: part.header_size,
    };
    let payload = Stretch {
        key: part.payload_key,
        offset: part.payload_offset,
        size: part.payload_size,
    };
    match piece {
        Piece::Whole => vec![header, payload],
        Piece::Header => vec![header],
        Piece::Payload => vec![payload],
    }
}

/// The ranges of blobs that hold bytes `span` of the concatenation of
/// `pieces`; pieces outside the span are left out, and one blob's adjacent
/// ranges are read as one (a part stored as one blob is one read).
fn segments(pieces: Vec<Stretch>, span: &Range<u64>) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::with_capacity(pieces.len());
    let mut at = 0u64;
    for Stretch { key, offset, size } in pieces {
        let (start, end) = (at, at + size);
        at = end;
        let from = span.start.max(start);
        let to = span.end.min(end);
        if from >= to {
            continue;
        }
        let range = (offset + from - start)..(offset + to - start);
        match segments.last_mut() {
            Some(last) if last.key == key && last.range.end == range.start => {
                last.range.end = range.end;
            }
            _ => segments.push(Segment { key, range }),
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stretch(key: &str, offset: u64, size: u64) -> Stretch {
        Stretch {
            key: key.into(),
            offset,
            size,
        }
    }

    fn pieces() -> Vec<Stretch> {
        vec![stretch("h", 0, 10), stretch("p", 0, 100)]
    }

    fn segment(key: &str, range: Range<u64>) -> Segment {
        Segment {
            key: key.into(),
            range,
        }
    }

    #[test]
    fn a_span_maps_onto_the_blobs_that_hold_it() {
        assert_eq!(
            segments(pieces(), &(0..110)),
            [segment("h", 0..10), segment("p", 0..100)]
        );
        // Straddling the boundary.
        assert_eq!(
            segments(pieces(), &(8..13)),
            [segment("h", 8..10), segment("p", 0..3)]
        );
        // Inside one blob: the other is left out.
        assert_eq!(segments(pieces(), &(2..5)), [segment("h", 2..5)]);
        assert_eq!(segments(pieces(), &(10..110)), [segment("p", 0..100)]);
        assert_eq!(segments(pieces(), &(109..110)), [segment("p", 99..100)]);
        // An empty blob contributes nothing.
        let empty = vec![stretch("h", 0, 0), stretch("p", 0, 4)];
        assert_eq!(segments(empty, &(0..4)), [segment("p", 0..4)]);
    }

    #[test]
    fn a_part_stored_as_one_blob_is_one_read() {
        let one = || vec![stretch("b", 0, 10), stretch("b", 10, 100)];
        assert_eq!(segments(one(), &(0..110)), [segment("b", 0..110)]);
        assert_eq!(segments(one(), &(8..13)), [segment("b", 8..13)]);
        assert_eq!(segments(one(), &(10..110)), [segment("b", 10..110)]);
        assert_eq!(segments(one(), &(2..5)), [segment("b", 2..5)]);
        // The payload alone.
        assert_eq!(
            segments(vec![stretch("b", 10, 100)], &(0..100)),
            [segment("b", 10..110)]
        );
        // Re-wrapped: a new header blob, the payload still after the old
        // 10-byte header in the first blob.
        let rewrapped = vec![stretch("h2", 0, 12), stretch("b", 10, 100)];
        assert_eq!(
            segments(rewrapped, &(0..112)),
            [segment("h2", 0..12), segment("b", 10..110)]
        );
    }
}
