//! `GET /v1/events/stream`: the server-sent events that tell a viewer a part
//! was stored (opaque ids only), read line by line.

use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt as _};
use reqwest::header::ACCEPT;
use reqwest::Method;
use sealcam_wire::PartStored;

use super::Api;
use crate::error::{ClientError, Result};

/// The longest line the client accepts from the stream: the messages are a
/// few ids; a server that sends more is not believed.
const MAX_LINE: usize = 16 * 1024;

/// One message of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamMessage {
    /// Subscribed: parts stored from now on will be announced.
    Ready,
    /// A part was stored.
    Part(PartStored),
    /// The server dropped announcements for this stream (it fell behind):
    /// list to catch up.
    Lagged,
}

/// An open stream of [`StreamMessage`]s.
pub struct EventStream {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    base: String,
    buf: Vec<u8>,
    event: String,
    data: String,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("base", &self.base)
            .finish()
    }
}

impl Api {
    /// Opens `GET /v1/events/stream`.
    pub async fn event_stream(&self) -> Result<EventStream> {
        let req = self
            .request(Method::GET, "/v1/events/stream")
            .header(ACCEPT, "text/event-stream");
        let resp = self.send(req, "the event stream").await?;
        Ok(EventStream {
            body: Box::pin(resp.bytes_stream()),
            base: self.base_url().to_owned(),
            buf: Vec::new(),
            event: String::new(),
            data: String::new(),
        })
    }
}

impl EventStream {
    /// The next message; `None` when the server ended the stream (it does
    /// so now and then, to authenticate the viewer again: reconnect).
    pub async fn next(&mut self) -> Result<Option<StreamMessage>> {
        loop {
            while let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                if end > MAX_LINE {
                    return Err(ClientError::Protocol(format!(
                        "the event stream sent a line longer than {MAX_LINE} bytes"
                    )));
                }
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                if let Some(message) = self.line(&line[..end])? {
                    return Ok(Some(message));
                }
            }
            if self.buf.len() > MAX_LINE {
                return Err(ClientError::Protocol(format!(
                    "the event stream sent a line longer than {MAX_LINE} bytes"
                )));
            }
            match self.body.try_next().await {
                Ok(Some(bytes)) => self.buf.extend_from_slice(&bytes),
                Ok(None) => return Ok(None),
                Err(source) => {
                    return Err(ClientError::Network {
                        url: self.base.clone(),
                        source,
                    })
                }
            }
        }
    }

    /// Takes one line (without its `\n`); a blank line ends a message.
    fn line(&mut self, line: &[u8]) -> Result<Option<StreamMessage>> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = std::str::from_utf8(line)
            .map_err(|_| ClientError::Protocol("the event stream is not UTF-8".into()))?;
        if line.is_empty() {
            let event = std::mem::take(&mut self.event);
            let data = std::mem::take(&mut self.data);
            return parse_message(&event, &data);
        }
        if line.starts_with(':') {
            return Ok(None); // a keep-alive comment
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                if self.data.len() + value.len() >= MAX_LINE {
                    return Err(ClientError::Protocol(format!(
                        "the event stream sent a message longer than {MAX_LINE} bytes"
                    )));
                }
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(value);
            }
            _ => {} // id, retry: not used
        }
        Ok(None)
    }
}

/// A dispatched message; unknown event names are skipped (newer servers may
/// send more kinds).
fn parse_message(event: &str, data: &str) -> Result<Option<StreamMessage>> {
    match event {
        "ready" => Ok(Some(StreamMessage::Ready)),
        "lagged" => Ok(Some(StreamMessage::Lagged)),
        "part" => serde_json::from_str(data)
            .map(|p| Some(StreamMessage::Part(p)))
            .map_err(|e| ClientError::Protocol(format!("the event stream sent a bad part: {e}"))),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_of(chunks: &[&'static [u8]]) -> EventStream {
        let items: Vec<reqwest::Result<Bytes>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        EventStream {
            body: Box::pin(futures_util::stream::iter(items)),
            base: "http://127.0.0.1".into(),
            buf: Vec::new(),
            event: String::new(),
            data: String::new(),
        }
    }

    #[tokio::test]
    async fn messages_split_anywhere_are_read_whole() {
        let mut s = stream_of(&[
            b"event: ready\ndata: {}\n\n: keep-alive\n\nev",
            b"ent: part\r\ndata: {\"event_id\":\"0190f2c4-0000-7000-8000-000000000001\",",
            b"\"camera_id\":\"0190f2c4-0000-7000-8000-000000000002\",\"kind\":\"record\"}\n\n",
            b"event: future-kind\ndata: x\n\nevent: lagged\ndata: {}\n\n",
        ]);
        assert_eq!(s.next().await.unwrap(), Some(StreamMessage::Ready));
        match s.next().await.unwrap() {
            Some(StreamMessage::Part(p)) => assert_eq!(p.kind, sealcam_wire::PartKind::Record),
            other => panic!("expected a part, got {other:?}"),
        }
        assert_eq!(s.next().await.unwrap(), Some(StreamMessage::Lagged));
        assert_eq!(s.next().await.unwrap(), None);
    }

    #[tokio::test]
    async fn endless_lines_and_bad_parts_are_refused() {
        static LONG: [u8; MAX_LINE + 1] = [b'a'; MAX_LINE + 1];
        let mut s = stream_of(&[&LONG]);
        assert!(matches!(s.next().await, Err(ClientError::Protocol(_))));
        let mut s = stream_of(&[b"event: part\ndata: {\"event_id\":1}\n\n"]);
        assert!(matches!(s.next().await, Err(ClientError::Protocol(_))));
    }

    /// A long line that arrives whole with its newline, and a message made
    /// of many short `data:` lines without the blank line that ends it.
    #[tokio::test]
    async fn long_lines_in_one_piece_and_endless_messages_are_refused() {
        static WHOLE: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
            let mut v = b"data: ".to_vec();
            v.extend(std::iter::repeat_n(b'a', MAX_LINE + 1));
            v.extend_from_slice(b"\n\n");
            v
        });
        let mut s = stream_of(&[&WHOLE[..]]);
        assert!(matches!(s.next().await, Err(ClientError::Protocol(_))));
        static MANY: std::sync::LazyLock<Vec<u8>> =
            std::sync::LazyLock::new(|| b"data: 0123456789\n".repeat(MAX_LINE / 8));
        let mut s = stream_of(&[&MANY[..]]);
        assert!(matches!(s.next().await, Err(ClientError::Protocol(_))));
    }
}
