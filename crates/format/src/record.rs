//! The event record: what the server must not learn about an event (type,
//! labels, duration…), a small JSON document sealed as the event's `record`
//! part. Cameras write it ([`EventRecord::to_json`]); viewers read it
//! ([`EventRecord::from_json`]) only after the object verified.

use serde::{Deserialize, Serialize};

/// The largest event record accepted (the server's limit is 1 MiB sealed).
pub const MAX_RECORD_LEN: usize = 512 * 1024;

/// An event record that is not a JSON object with a `type`, or is too large.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event record is not valid: {0}")]
pub struct RecordError(pub String);

/// A small structured document describing an event:
/// `{"type": "motion", "labels": ["person"], "duration_ms": 12000, ...}`.
/// Extra fields are kept as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// What happened (`motion`, `doorbell`, `sound`…).
    #[serde(rename = "type")]
    pub event_type: String,
    /// What the camera recognised.
    #[serde(default)]
    pub labels: Vec<String>,
    /// How long the event lasted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Any other fields.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn too_large(len: usize) -> RecordError {
    RecordError(format!("{len} bytes, the limit is {MAX_RECORD_LEN}"))
}

impl EventRecord {
    /// A record of `event_type` with no labels.
    pub fn new(event_type: impl Into<String>) -> Self {
        Self {
            event_type: event_type.into(),
            labels: Vec::new(),
            duration_ms: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Parses a record from JSON (an object with at least `type`).
    pub fn from_json(json: &[u8]) -> Result<Self, RecordError> {
        if json.len() > MAX_RECORD_LEN {
            return Err(too_large(json.len()));
        }
        serde_json::from_slice(json).map_err(|e| RecordError(e.to_string()))
    }

    /// The JSON that is sealed.
    pub fn to_json(&self) -> Result<Vec<u8>, RecordError> {
        let json = serde_json::to_vec(self).map_err(|e| RecordError(e.to_string()))?;
        if json.len() > MAX_RECORD_LEN {
            return Err(too_large(json.len()));
        }
        Ok(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_extra_fields() {
        let r = EventRecord::from_json(
            br#"{"type":"motion","labels":["person"],"duration_ms":1200,"zone":"porch"}"#,
        )
        .unwrap();
        assert_eq!(r.event_type, "motion");
        assert_eq!(r.extra["zone"], "porch");
        let back = EventRecord::from_json(&r.to_json().unwrap()).unwrap();
        assert_eq!(back, r);
        assert!(EventRecord::from_json(b"[1,2]").is_err());
        assert!(EventRecord::from_json(br#"{"labels":[]}"#).is_err());
    }

    #[test]
    fn oversized_records_are_refused_both_ways() {
        let big = format!(r#"{{"type":"{}"}}"#, "x".repeat(MAX_RECORD_LEN));
        assert!(EventRecord::from_json(big.as_bytes()).is_err());
        assert!(EventRecord::new("x".repeat(MAX_RECORD_LEN))
            .to_json()
            .is_err());
    }
}
