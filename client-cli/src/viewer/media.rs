//! Serving verified plaintext to the browser: small parts whole, clips by
//! HTTP Range from verified range reads (only the chunks that hold the bytes
//! asked for are downloaded, each verified before a byte is sent).

use std::ops::Range;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sealcam_client::{ClientError, RemoteObject};

/// The most one clip answer carries: a browser asks again for the rest.
pub const CLIP_SLICE: u64 = 4 * 1024 * 1024;

/// The content types served as they are; anything else a camera signs is
/// served as `application/octet-stream` (a hostile camera cannot make the
/// browser run a page in the viewer's origin).
fn safe_type(content_type: &str, fallback: &'static str) -> HeaderValue {
    const ALLOWED: &[&str] = &[
        "image/jpeg",
        "image/png",
        "image/webp",
        "video/mp4",
        "video/webm",
        "application/json",
    ];
    let base = content_type.split(';').next().unwrap_or("").trim();
    let chosen = ALLOWED
        .iter()
        .find(|a| a.eq_ignore_ascii_case(base))
        .copied()
        .unwrap_or(fallback);
    HeaderValue::from_static(chosen)
}

/// Headers every plaintext answer carries.
fn private_headers(h: &mut HeaderMap, content_type: HeaderValue, download: Option<&str>) {
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    if let Some(name) = download {
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
}

/// A small verified body, whole.
pub fn whole(body: Vec<u8>, content_type: &str, download: Option<&str>) -> Response {
    let mut response = Response::new(Body::from(body));
    private_headers(
        response.headers_mut(),
        safe_type(content_type, "application/octet-stream"),
        download,
    );
    response
}

/// Why a part is not shown: the browser's warning tile reads `status`.
pub fn refusal(e: &ClientError) -> Response {
    let (status, name) = match e {
        ClientError::Misdelivered(_) => (StatusCode::CONFLICT, "misdelivered"),
        ClientError::Verification(_) => (StatusCode::UNPROCESSABLE_ENTITY, "verification_failed"),
        ClientError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
        ClientError::BadInput(_) => (StatusCode::BAD_REQUEST, "bad_request"),
        _ => (StatusCode::BAD_GATEWAY, "unavailable"),
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({"status": name, "error": e.to_string()})),
    )
        .into_response()
}

/// One `Range: bytes=…` of a body of `len` bytes (`None`: none asked, or
/// not one this viewer serves: then the whole body). `Err` when outside it.
pub fn parse_range(value: Option<&str>, len: u64) -> Result<Option<Range<u64>>, ()> {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let range = match (a.trim().parse::<u64>().ok(), b.trim().parse::<u64>().ok()) {
        (Some(a), Some(b)) if a <= b => a..b.saturating_add(1).min(len),
        (Some(a), None) if b.trim().is_empty() => a..len,
        (None, Some(n)) if a.trim().is_empty() => len.saturating_sub(n)..len,
        _ => return Err(()),
    };
    if range.start >= len {
        return Err(());
    }
    Ok(Some(range))
}

/// A clip: `206` with at most [`CLIP_SLICE`] bytes of the range asked for,
/// or — without a range — the whole body, streamed slice by slice.
pub async fn clip(obj: Arc<RemoteObject>, range: Option<&str>, download: Option<&str>) -> Response {
    let len = obj.body_len();
    let content_type = safe_type(&obj.meta().content_type, "application/octet-stream");
    let wanted = match parse_range(range, len) {
        Ok(r) => r,
        Err(()) => {
            return (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response()
        }
    };
    let Some(wanted) = wanted else {
        let stream = futures_util::stream::unfold(0u64, move |pos| {
            let obj = Arc::clone(&obj);
            async move {
                if pos >= len {
                    return None;
                }
                let end = (pos + CLIP_SLICE).min(len);
                let piece = obj
                    .read_range(pos..end)
                    .await
                    .map(bytes::Bytes::from)
                    .map_err(std::io::Error::other);
                let next = if piece.is_ok() { end } else { len };
                Some((piece, next))
            }
        });
        let mut response = Response::new(Body::from_stream(stream));
        private_headers(response.headers_mut(), content_type, download);
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        response
            .headers_mut()
            .insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        return response;
    };
    let end = wanted.end.min(wanted.start + CLIP_SLICE);
    match obj.read_range(wanted.start..end).await {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let h = response.headers_mut();
            private_headers(h, content_type, download);
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            if let Ok(v) = HeaderValue::from_str(&format!(
                "bytes {}-{}/{len}",
                wanted.start,
                end.saturating_sub(1)
            )) {
                h.insert(header::CONTENT_RANGE, v);
            }
            response
        }
        Err(e) => refusal(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_the_browser_sends() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-"), 10), Ok(Some(0..10)));
        assert_eq!(parse_range(Some("bytes=2-4"), 10), Ok(Some(2..5)));
        assert_eq!(parse_range(Some("bytes=2-40"), 10), Ok(Some(2..10)));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Ok(Some(7..10)));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=5-2"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), Ok(None));
        assert_eq!(
            parse_range(Some("bytes=0-18446744073709551615"), 10),
            Ok(Some(0..10))
        );
    }

    #[test]
    fn only_known_media_types_pass() {
        assert_eq!(safe_type("image/jpeg", "x/y"), "image/jpeg");
        assert_eq!(
            safe_type("text/html", "application/octet-stream"),
            "application/octet-stream"
        );
        assert_eq!(safe_type("VIDEO/MP4; codecs=avc1", "x/y"), "video/mp4");
    }
}
