//! A client of `GET /v1/events/stream`: reads the server-sent events as
//! they arrive, one block (up to a blank line) at a time.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use reqwest::StatusCode;
use sealcam_wire::PartStored;

use super::TestServer;

/// One block of the stream: an event, or a comment (keep-alive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// `event: NAME` with its `data:`.
    Event { event: String, data: String },
    /// A block of comments only (`:…`): a keep-alive.
    Comment,
}

/// What reading the stream gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Block(Block),
    /// The server ended the stream.
    Ended,
    /// Nothing within the wait.
    Silent,
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// An open event stream.
pub struct EventStream {
    body: Body,
    buf: String,
    ended: bool,
}

impl TestServer {
    /// Opens the event stream with `token`; panics unless it answers 200
    /// with the SSE headers.
    pub async fn watch(&self, token: &str) -> EventStream {
        let resp = self
            .http
            .get(self.url("/v1/events/stream"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        assert_eq!(resp.headers()["cache-control"], "no-cache");
        assert_eq!(resp.headers()["x-accel-buffering"], "no");
        EventStream {
            body: Box::pin(resp.bytes_stream()),
            buf: String::new(),
            ended: false,
        }
    }

    /// Opens the event stream and waits for its `ready` event: from then on
    /// every part stored is heard.
    pub async fn watch_ready(&self, token: &str) -> EventStream {
        let mut stream = self.watch(token).await;
        stream.expect_event("ready", Duration::from_secs(10)).await;
        stream
    }
}

impl EventStream {
    /// The next block within `wait`.
    pub async fn next_block(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                return Next::Block(parse(&block));
            }
            if self.ended {
                return Next::Ended;
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_) => return Next::Silent,
                Ok(None) => self.ended = true,
                Ok(Some(chunk)) => match chunk {
                    Ok(chunk) => self.buf.push_str(std::str::from_utf8(&chunk).unwrap()),
                    // A connection cut by the server ends the stream too.
                    Err(_) => self.ended = true,
                },
            }
        }
    }

    /// The next event (keep-alive comments skipped) within `wait`.
    pub async fn next_event(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_block(left).await {
                Next::Block(Block::Comment) => continue,
                other => return other,
            }
        }
    }

    /// Expects the next event to be `name` within `wait`; returns its data.
    pub async fn expect_event(&mut self, name: &str, wait: Duration) -> String {
        match self.next_event(wait).await {
            Next::Block(Block::Event { event, data }) if event == name => data,
            other => panic!("expected event {name:?}, got {other:?}"),
        }
    }

    /// Expects the next event to be a `part` within `wait`, whose data is
    /// exactly the three fields of [`PartStored`].
    pub async fn expect_part(&mut self, wait: Duration) -> PartStored {
        let data = self.expect_event("part", wait).await;
        let value: serde_json::Value = serde_json::from_str(&data).unwrap();
        let mut fields: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(fields, ["camera_id", "event_id", "kind"], "{data}");
        serde_json::from_value(value).unwrap()
    }

    /// Expects the server to end the stream within `wait`, with no further
    /// event (keep-alive comments are fine).
    pub async fn expect_end(&mut self, wait: Duration) {
        match self.next_event(wait).await {
            Next::Ended => {}
            other => panic!("expected the stream to end, got {other:?}"),
        }
    }
}

/// Parses one block (its lines, and the blank line that ends it).
fn parse(block: &str) -> Block {
    let mut event = None;
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if let Some(name) = line.strip_prefix("event:") {
            event = Some(name.trim_start().to_owned());
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    match event {
        Some(event) => Block::Event {
            event,
            data: data.join("\n"),
        },
        None => {
            assert!(data.is_empty(), "data without an event name: {block:?}");
            Block::Comment
        }
    }
}
