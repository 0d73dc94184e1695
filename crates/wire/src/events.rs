//! Events and their sealed parts: part kinds, uploads, stored sizes and
//! event pages.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Largest age header the server accepts for one part, in bytes.
pub const MAX_HEADER_LEN: u64 = 64 * 1024;

/// The kind of a sealed part of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PartKind {
    /// A small still image shown in the timeline.
    Thumbnail,
    /// The video clip of the event.
    Clip,
    /// The event record (type, labels, duration: everything the server must not learn).
    Record,
}

impl PartKind {
    /// Every kind, in a stable order.
    pub const ALL: [PartKind; 3] = [PartKind::Thumbnail, PartKind::Clip, PartKind::Record];

    /// The name used in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PartKind::Thumbnail => "thumbnail",
            PartKind::Clip => "clip",
            PartKind::Record => "record",
        }
    }
}

impl fmt::Display for PartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown [`PartKind`] name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPartKind;

impl fmt::Display for UnknownPartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown part kind (expected thumbnail, clip or record)")
    }
}

impl std::error::Error for UnknownPartKind {}

impl FromStr for PartKind {
    type Err = UnknownPartKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "thumbnail" => Ok(PartKind::Thumbnail),
            "clip" => Ok(PartKind::Clip),
            "record" => Ok(PartKind::Record),
            _ => Err(UnknownPartKind),
        }
    }
}

/// Query of `PUT /v1/events/{event_id}/parts/{kind}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UploadQuery {
    /// Capture time in Unix seconds; the server keeps it only to the minute.
    pub captured_at: i64,
    /// Length of the age header at the start of the body; the rest is the payload.
    pub header_len: u64,
}

/// The answer to an upload or a header replacement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadResponse {
    /// The event the part belongs to.
    pub event_id: Uuid,
    /// The part's kind.
    pub kind: PartKind,
    /// Size of the stored header in bytes.
    pub header_size: u64,
    /// Size of the stored payload in bytes.
    pub payload_size: u64,
    /// `true` when this request stored the part, `false` when it was already stored.
    pub created: bool,
}

/// The sizes of one stored part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartInfo {
    /// The part's kind.
    pub kind: PartKind,
    /// Size of the header in bytes.
    pub header_size: u64,
    /// Size of the payload in bytes.
    pub payload_size: u64,
}

/// An event: what the server knows of it (no content, a coarse time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// The event id, chosen by the camera (UUIDv7).
    pub event_id: Uuid,
    /// The camera that recorded it.
    pub camera_id: Uuid,
    /// The camera's owner.
    pub owner_id: Uuid,
    /// Capture time in Unix seconds, rounded down to the minute.
    pub captured_at: i64,
    /// The stored parts, in the order thumbnail, clip, record.
    pub parts: Vec<PartInfo>,
}

/// Query of `GET /v1/cameras/{id}/events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct EventsQuery {
    /// Only events captured at or after this Unix time.
    pub since: Option<i64>,
    /// Only events captured before this Unix time.
    pub until: Option<i64>,
    /// The `next` cursor of the previous page.
    pub before: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// One page of events, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventPage {
    /// The events of this page, newest first.
    pub events: Vec<Event>,
    /// Pass as `before` to get the next page; absent on the last page.
    pub next: Option<String>,
}

/// A part was stored: one message of `GET /v1/events/stream`.
///
/// Sent as an `event: part` whose `data:` is this object on one line of
/// JSON: opaque ids only (no time, no size), for a part newly stored on a
/// camera the watching account may see. The client then fetches what it
/// needs with the ordinary, authorised routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartStored {
    /// The event the part belongs to.
    pub event_id: Uuid,
    /// The camera that recorded it.
    pub camera_id: Uuid,
    /// The part's kind.
    pub kind: PartKind,
}
