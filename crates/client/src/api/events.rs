//! Events and parts: event pages, one event, part headers and payload
//! ranges.

use std::ops::Range;

use futures_util::{Stream, TryStreamExt as _};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_RANGE, RANGE};
use reqwest::{Method, StatusCode};
use sealcam_wire::{Event, EventPage, EventsQuery, PartKind, UploadResponse};
use uuid::Uuid;

use super::Api;
use crate::error::{ClientError, Result};

/// The most [`Api::payload_range_vec`] reserves before bytes arrive.
const PREALLOCATE_AT_MOST: usize = 16 << 20;

impl Api {
    /// `GET /v1/cameras/{id}/events` (one page).
    pub async fn events(&self, camera: Uuid, query: &EventsQuery) -> Result<EventPage> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(s) = query.since {
            q.push(("since", s.to_string()));
        }
        if let Some(u) = query.until {
            q.push(("until", u.to_string()));
        }
        if let Some(b) = &query.before {
            q.push(("before", b.clone()));
        }
        if let Some(l) = query.limit {
            q.push(("limit", l.to_string()));
        }
        let mut url = reqwest::Url::parse(&format!("{}/v1/cameras/{camera}/events", self.base))
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        if !q.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &q {
                pairs.append_pair(k, v);
            }
        }
        let mut req = self.http.get(url);
        if let Some(c) = &self.credential {
            req = req.bearer_auth(c.expose());
        }
        self.json(req, &format!("camera {camera}")).await
    }

    /// `GET /v1/events/{id}`.
    pub async fn event(&self, event: Uuid) -> Result<Event> {
        let req = self.request(Method::GET, &format!("/v1/events/{event}"));
        self.json(req, &format!("event {event}")).await
    }

    /// `DELETE /v1/events/{id}`.
    pub async fn delete_event(&self, event: Uuid) -> Result<()> {
        let req = self.request(Method::DELETE, &format!("/v1/events/{event}"));
        self.send(req, &format!("event {event}")).await.map(drop)
    }

    /// `GET /v1/events/{id}/parts/{kind}/header`.
    pub async fn part_header(&self, event: Uuid, kind: PartKind) -> Result<Vec<u8>> {
        let req = self.request(
            Method::GET,
            &format!("/v1/events/{event}/parts/{kind}/header"),
        );
        self.bytes(req, &format!("{kind} of event {event}")).await
    }

    /// `GET /v1/events/{id}/parts/{kind}`: the whole part, header ‖ payload,
    /// in one request: how small parts (thumbnails, event records) are read.
    /// An answer longer than `max_len` is refused as it arrives, so a lying
    /// server cannot make the client buffer more than the listing announced.
    pub async fn part_whole(&self, event: Uuid, kind: PartKind, max_len: u64) -> Result<Vec<u8>> {
        let what = format!("{kind} of event {event}");
        let req = self.request(Method::GET, &format!("/v1/events/{event}/parts/{kind}"));
        let resp = self.send(req, &what).await?;
        let too_long = || {
            ClientError::Protocol(format!(
                "{what}: the server sent more than the {max_len} bytes the listing announced"
            ))
        };
        let announced = resp.content_length().unwrap_or(0);
        if announced > max_len {
            return Err(too_long());
        }
        let mut out = Vec::with_capacity(announced as usize);
        let mut stream = resp.bytes_stream();
        while let Some(piece) = stream
            .try_next()
            .await
            .map_err(|source| ClientError::Network {
                url: self.base_url().to_owned(),
                source,
            })?
        {
            if (out.len() + piece.len()) as u64 > max_len {
                return Err(too_long());
            }
            out.extend_from_slice(&piece);
        }
        Ok(out)
    }

    /// `PUT /v1/events/{id}/parts/{kind}/header`: replaces the age header (re-wrap).
    pub async fn replace_header(
        &self,
        event: Uuid,
        kind: PartKind,
        header: Vec<u8>,
    ) -> Result<UploadResponse> {
        let req = self
            .request(
                Method::PUT,
                &format!("/v1/events/{event}/parts/{kind}/header"),
            )
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(header);
        self.json(req, &format!("{kind} of event {event}")).await
    }

    /// A byte range of a part's payload, as a stream of chunks of the body.
    /// The answer must be exactly the range asked for (checked as it arrives
    /// by the caller, which counts bytes).
    pub async fn payload_range(
        &self,
        event: Uuid,
        kind: PartKind,
        range: Range<u64>,
    ) -> Result<impl Stream<Item = Result<bytes::Bytes>> + Unpin + use<>> {
        let what = format!("{kind} of event {event}");
        if range.is_empty() {
            return Err(ClientError::Protocol(format!("{what}: empty range")));
        }
        let mut headers = HeaderMap::new();
        let value = format!("bytes={}-{}", range.start, range.end - 1);
        headers.insert(
            RANGE,
            HeaderValue::from_str(&value).map_err(|e| ClientError::Protocol(e.to_string()))?,
        );
        let req = self
            .request(
                Method::GET,
                &format!("/v1/events/{event}/parts/{kind}/payload"),
            )
            .headers(headers);
        let resp = self.send(req, &what).await?;
        if resp.status() != StatusCode::PARTIAL_CONTENT {
            return Err(ClientError::Protocol(format!(
                "{what}: asked for bytes {}..{}, the server answered {} instead of 206",
                range.start,
                range.end,
                resp.status()
            )));
        }
        let expected = format!("bytes {}-{}/", range.start, range.end - 1);
        let ok = resp
            .headers()
            .get(CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(&expected));
        if !ok {
            return Err(ClientError::Protocol(format!(
                "{what}: the server answered another range than {}..{}",
                range.start, range.end
            )));
        }
        let url = self.base.clone();
        Ok(Box::pin(resp.bytes_stream().map_err(move |source| {
            ClientError::Network {
                url: url.clone(),
                source,
            }
        })))
    }

    /// A byte range of a part's payload, in memory (at most the range's
    /// length, however long the server's answer).
    pub async fn payload_range_vec(
        &self,
        event: Uuid,
        kind: PartKind,
        range: Range<u64>,
    ) -> Result<Vec<u8>> {
        let want = usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(usize::MAX);
        let mut stream = self.payload_range(event, kind, range).await?;
        // The length comes from the server's listing: reserve no more than a
        // bounded amount up front, and grow with what actually arrives.
        let mut out = Vec::with_capacity(want.min(PREALLOCATE_AT_MOST));
        while let Some(piece) = stream.try_next().await? {
            if out.len() + piece.len() > want {
                return Err(ClientError::Protocol(
                    "the server sent more bytes than asked".into(),
                ));
            }
            out.extend_from_slice(&piece);
        }
        Ok(out)
    }
}
