//! HTTP `Range: bytes=…` parsing (single ranges; RFC 9110 §14).

use std::convert::Infallible;
use std::ops::Range;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};

use crate::error::AppError;

/// The request's `Range` header, extracted alone (the `HeaderMap` extractor
/// clones every header, a measurable cost on a thumbnail download).
#[derive(Debug, Clone, Default)]
pub struct RangeHeader(pub Option<HeaderValue>);

impl RangeHeader {
    /// The header's text, if it has one and it is visible ASCII.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_ref().and_then(|v| v.to_str().ok())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RangeHeader {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self(parts.headers.get(header::RANGE).cloned()))
    }
}

/// Resolves a `Range` header against an object of `size` bytes.
///
/// `Ok(None)` serves the whole object: no header, a unit other than bytes,
/// a malformed value or several ranges (which a server may ignore).
/// `Err(RangeNotSatisfiable)` when the range lies outside the object.
pub fn resolve(header: Option<&str>, size: u64) -> Result<Option<Range<u64>>, AppError> {
    let Some(value) = header else {
        return Ok(None);
    };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let unsatisfiable = AppError::RangeNotSatisfiable(size);
    match (first.trim(), last.trim()) {
        ("", "") => Ok(None),
        ("", suffix) => {
            let Ok(n) = suffix.parse::<u64>() else {
                return Ok(None);
            };
            if n == 0 || size == 0 {
                return Err(unsatisfiable);
            }
            Ok(Some(size.saturating_sub(n)..size))
        }
        (start, end) => {
            let Ok(start) = start.parse::<u64>() else {
                return Ok(None);
            };
            let end = if end.is_empty() {
                None
            } else {
                match end.parse::<u64>() {
                    Ok(e) if e >= start => Some(e),
                    _ => return Ok(None),
                }
            };
            if start >= size {
                return Err(unsatisfiable);
            }
            let end = end.map_or(size, |e| e.saturating_add(1).min(size));
            Ok(Some(start..end))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(resolve(None, 10).unwrap(), None);
        assert_eq!(resolve(Some("bytes=0-4"), 10).unwrap(), Some(0..5));
        assert_eq!(resolve(Some("bytes=5-"), 10).unwrap(), Some(5..10));
        assert_eq!(resolve(Some("bytes=-3"), 10).unwrap(), Some(7..10));
        assert_eq!(resolve(Some("bytes=-30"), 10).unwrap(), Some(0..10));
        assert_eq!(resolve(Some("bytes=8-100"), 10).unwrap(), Some(8..10));
        assert_eq!(resolve(Some("bytes=0-1,4-5"), 10).unwrap(), None);
        assert_eq!(resolve(Some("items=0-1"), 10).unwrap(), None);
        assert_eq!(resolve(Some("bytes=5-2"), 10).unwrap(), None);
        assert!(resolve(Some("bytes=10-"), 10).is_err());
        assert!(resolve(Some("bytes=-0"), 10).is_err());
        assert!(resolve(Some("bytes=0-"), 0).is_err());
    }
}
