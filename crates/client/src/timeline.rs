//! The readable timeline: each listed event with its event record — type,
//! labels, duration — opened and verified, the records fetched concurrently
//! in one request each.
//!
//! A record that is misdelivered, fails verification or cannot be read is
//! kept as [`RecordState::Refused`] with its error: it is never shown as an
//! event, and nothing of it is shown at all.

use futures_util::{stream, StreamExt as _};
use sealcam_format::EventRecord;
use sealcam_wire::PartKind;
use serde::ser::SerializeMap as _;
use serde::{Serialize, Serializer};

use crate::client::Client;
use crate::error::{ClientError, Result};
use crate::events::{EventFilter, EventView};

/// How many event records are fetched at once.
pub const RECORD_CONCURRENCY: usize = 8;

/// What the event record of a listed event says.
#[derive(Debug)]
pub enum RecordState {
    /// Opened and verified: sealed to this device, bound to this event,
    /// signed by the camera's pinned key.
    Verified {
        /// The record.
        record: EventRecord,
        /// The capture time the camera signed, unix milliseconds (the
        /// listing's time is the server's, rounded to the minute).
        captured_at_ms: i64,
    },
    /// The event has no record part (yet: a camera may still be uploading).
    Missing,
    /// Misdelivered, failed verification, not an event record, or could not
    /// be fetched: the error says which (S2, S3). Nothing of it is shown.
    Refused(ClientError),
}

impl RecordState {
    /// A stable name of the state (`--json`'s `status`).
    pub fn status(&self) -> &'static str {
        match self {
            Self::Verified { .. } => "verified",
            Self::Missing => "missing",
            Self::Refused(ClientError::Misdelivered(_)) => "misdelivered",
            Self::Refused(ClientError::Verification(_)) => "verification_failed",
            Self::Refused(ClientError::Protocol(_)) => "invalid",
            Self::Refused(_) => "unavailable",
        }
    }

    /// The verified record, if any.
    pub fn record(&self) -> Option<&EventRecord> {
        match self {
            Self::Verified { record, .. } => Some(record),
            _ => None,
        }
    }
}

impl Serialize for RecordState {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("status", self.status())?;
        match self {
            Self::Verified {
                record,
                captured_at_ms,
            } => {
                map.serialize_entry("type", &record.event_type)?;
                map.serialize_entry("labels", &record.labels)?;
                map.serialize_entry("duration_ms", &record.duration_ms)?;
                map.serialize_entry("captured_at_ms", captured_at_ms)?;
                if !record.extra.is_empty() {
                    map.serialize_entry("extra", &record.extra)?;
                }
            }
            Self::Missing => {}
            Self::Refused(e) => map.serialize_entry("error", &e.to_string())?,
        }
        map.end()
    }
}

/// One event of the timeline: what the server listed, and what its
/// verified record says.
#[derive(Debug, Serialize)]
pub struct TimelineEntry {
    /// The event as listed.
    #[serde(flatten)]
    pub event: EventView,
    /// Its record.
    pub record: RecordState,
}

impl Client {
    /// Lists events (as [`events`](Self::events)) and opens each one's
    /// record, [`RECORD_CONCURRENCY`] at a time; the order is kept.
    pub async fn timeline(&self, filter: &EventFilter) -> Result<Vec<TimelineEntry>> {
        let events = self.events(filter).await?;
        Ok(self.with_records(events).await)
    }

    /// Opens the record of each event, [`RECORD_CONCURRENCY`] at a time;
    /// the order is kept.
    pub async fn with_records(&self, events: Vec<EventView>) -> Vec<TimelineEntry> {
        stream::iter(events)
            .map(|event| async move {
                let record = self.event_record(&event).await;
                TimelineEntry { event, record }
            })
            .buffered(RECORD_CONCURRENCY)
            .collect()
            .await
    }

    /// Opens and verifies the record of one listed event, in one request.
    pub async fn event_record(&self, event: &EventView) -> RecordState {
        let Some(part) = event.parts.iter().find(|p| p.kind == PartKind::Record) else {
            return RecordState::Missing;
        };
        let opened = match self
            .open_small(
                event.event_id,
                event.camera_id,
                PartKind::Record,
                part.payload_size,
            )
            .await
        {
            Ok(opened) => opened,
            Err(e) => return RecordState::Refused(e),
        };
        match EventRecord::from_json(&opened.body) {
            Ok(record) => RecordState::Verified {
                record,
                captured_at_ms: opened.meta.captured_at_ms,
            },
            // Signed by the camera, yet not a record: its firmware is broken.
            Err(e) => RecordState::Refused(ClientError::Protocol(format!(
                "the record of event {} verified but is not an event record: {e}",
                event.event_id
            ))),
        }
    }
}
