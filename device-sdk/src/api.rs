//! The camera's side of the HTTP API (`docs/API.md`), over a blocking `ureq` agent.

use std::io::Read;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use ureq::http::Response;
use ureq::{Agent, Body, SendBody};

use sealcam_keys::{CameraId, EventId};
use sealcam_wire::{
    CameraSelf, ErrorBody, ErrorCode, PartKind, RecipientSet, RegisterCameraRequest,
    RegisterCameraResponse, SetKey, UploadResponse,
};

use crate::transport::TransportPolicy;
use crate::DeviceError;

/// The largest JSON answer the camera reads: a recipient set (at most
/// 256 KiB decoded, about 342 KiB of base64) with a full key log (4,096
/// statements, about 980 KiB of base64), which a camera that was never told
/// of a rotation, or a log stuffed before a revocation, can take.
const MAX_JSON_ANSWER: u64 = 1536 * 1024;
const USER_AGENT: &str = concat!("sealcam-device/", env!("CARGO_PKG_VERSION"));

/// Timeouts of the camera's HTTP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpTimeouts {
    /// Connecting (and the TLS handshake).
    pub connect: Duration,
    /// Waiting for the answer once the request was sent.
    pub response: Duration,
    /// Each write of a body (a stalled upload fails after this long).
    pub per_write: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            response: Duration::from_secs(60),
            per_write: Duration::from_secs(60),
        }
    }
}

/// What an upload names: the part, its capture time, the length of its age
/// header and, when known, of the whole object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PartUpload {
    pub event: EventId,
    pub kind: PartKind,
    pub captured_at: i64,
    pub header_len: u64,
    /// Header ‖ payload length: known for a spooled part, not while sealing.
    pub len: Option<u64>,
}

/// How a failed request should be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Transient: the server is unreachable, overloaded (503), rate limiting
    /// (429) or failing (5xx). Try again later, not before `retry_after`.
    Retry {
        retry_after: Option<Duration>,
        why: String,
    },
    /// The server has no room for this part now (507): keep it spooled and
    /// go on with other parts (a smaller one may fit); try it again after
    /// `retry_after`.
    NoRoom {
        retry_after: Option<Duration>,
        why: String,
    },
    /// The camera may not upload now (401 unknown credential, 403 not
    /// confirmed yet, with the API's error body): keep what is spooled, stop
    /// trying until told otherwise.
    Blocked {
        status: u16,
        code: Option<ErrorCode>,
        message: String,
    },
    /// An answer that is not the sealcam API's: an error page without the
    /// API's error body, or a success whose body is not the JSON the API
    /// promises. Something between the camera and the server answered (a
    /// captive portal, a reverse proxy's body limit, a gateway's HTML page),
    /// so nothing says the server refused the part: it is kept and tried
    /// again after `retry_after`, and the parts behind it go on.
    Unexplained {
        retry_after: Option<Duration>,
        why: String,
    },
    /// The server refuses this request for good (400, 404, 409, 413… with
    /// the API's error body).
    Rejected {
        status: u16,
        code: Option<ErrorCode>,
        message: String,
    },
}

impl Failure {
    pub fn into_error(self) -> DeviceError {
        match self {
            Failure::Retry { why, .. }
            | Failure::NoRoom { why, .. }
            | Failure::Unexplained { why, .. } => DeviceError::Network(why),
            Failure::Blocked {
                status,
                code,
                message,
            }
            | Failure::Rejected {
                status,
                code,
                message,
            } => DeviceError::Server {
                status,
                code,
                message,
            },
        }
    }
}

/// A blocking client of one sealcam server.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    agent: Agent,
    base: String,
}

impl Api {
    /// A client of `server_url`, refused when `transport` forbids it.
    pub fn new(
        server_url: &str,
        timeouts: HttpTimeouts,
        transport: &TransportPolicy,
    ) -> Result<Self, DeviceError> {
        transport.check_url(server_url)?;
        let builder = Agent::config_builder();
        #[cfg(feature = "tls")]
        let builder = builder.tls_config(transport.tls_config()?);
        let config = builder
            .http_status_as_error(false)
            .user_agent(USER_AGENT)
            .timeout_connect(Some(timeouts.connect))
            .timeout_recv_response(Some(timeouts.response))
            .timeout_per_write(Some(timeouts.per_write))
            // Wait for `100 Continue` before streaming a body, so an
            // overloaded server's 503 costs no upload bandwidth.
            .timeout_await_100(Some(Duration::from_secs(5)))
            .max_idle_connections_per_host(2)
            .build();
        Ok(Self {
            agent: config.into(),
            base: server_url.trim_end_matches('/').to_owned(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}{path}", self.base, sealcam_wire::API_PREFIX)
    }

    /// `POST /v1/cameras/register` (the claim token is the credential).
    pub fn register(&self, req: &RegisterCameraRequest) -> Result<RegisterCameraResponse, Failure> {
        let resp = self
            .agent
            .post(self.url("/cameras/register"))
            .header("content-type", "application/json")
            .send(json_body(req)?)
            .map_err(transport)?;
        expect_json(resp, 201)
    }

    /// `GET /v1/camera`.
    pub fn camera_self(&self, credential: &str) -> Result<CameraSelf, Failure> {
        let resp = self
            .agent
            .get(self.url("/camera"))
            .header("authorization", bearer(credential))
            .call()
            .map_err(transport)?;
        expect_json(resp, 200)
    }

    /// `PUT /v1/camera/set-key`: this camera's set key statement (S9).
    pub fn put_set_key(&self, credential: &str, statement: &str) -> Result<(), Failure> {
        let resp = self
            .agent
            .put(self.url("/camera/set-key"))
            .header("authorization", bearer(credential))
            .header("content-type", "application/json")
            .send(json_body(&SetKey {
                set_key: statement.to_owned(),
            })?)
            .map_err(transport)?;
        if resp.status().as_u16() == 204 {
            return Ok(());
        }
        Err(failure(resp))
    }

    /// `GET /v1/cameras/{id}/recipient-set`, with the owner's key-log
    /// statements from the place `held` on (a server before this release sends
    /// the whole log); `None` when none was published.
    pub fn recipient_set(
        &self,
        credential: &str,
        camera: CameraId,
        held: (u64, u64),
    ) -> Result<Option<RecipientSet>, Failure> {
        let (reset, generation) = held;
        let resp = self
            .agent
            .get(self.url(&format!("/cameras/{camera}/recipient-set")))
            .query("held_reset", reset.to_string())
            .query("held_generation", generation.to_string())
            .header("authorization", bearer(credential))
            .call()
            .map_err(transport)?;
        if resp.status().as_u16() == 404 {
            return Ok(None);
        }
        expect_json(resp, 200).map(Some)
    }

    /// `PUT /v1/events/{event}/parts/{kind}`, streaming `body` (header ‖ payload).
    pub fn upload(
        &self,
        credential: &str,
        part: &PartUpload,
        body: &mut dyn Read,
    ) -> Result<UploadResponse, Failure> {
        let PartUpload {
            event,
            kind,
            captured_at,
            header_len,
            len,
        } = *part;
        let mut req = self
            .agent
            .put(self.url(&format!("/events/{event}/parts/{kind}")))
            .query("captured_at", captured_at.to_string())
            .query("header_len", header_len.to_string())
            .header("authorization", bearer(credential))
            .header("content-type", "application/octet-stream")
            .header("expect", "100-continue");
        if let Some(len) = len {
            // A known size (a spooled part) lets the server refuse one
            // that does not fit (413, 507) before any of it is sent.
            req = req.header("content-length", len.to_string());
        }
        let resp = req.send(SendBody::from_reader(body)).map_err(transport)?;
        let status = resp.status().as_u16();
        if status == 200 || status == 201 {
            // A success that is not the API's (a captive portal's page) did
            // not store the part.
            return read_json(resp).map_err(|f| match f {
                Failure::Rejected { message, .. } => Failure::Unexplained {
                    retry_after: None,
                    why: format!("HTTP {status}: {message}"),
                },
                other => other,
            });
        }
        Err(failure(resp))
    }
}

fn bearer(credential: &str) -> String {
    format!("Bearer {credential}")
}

fn json_body<T: Serialize>(value: &T) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(value).map_err(|e| Failure::Rejected {
        status: 0,
        code: None,
        message: format!("could not encode the request: {e}"),
    })
}

fn transport(e: ureq::Error) -> Failure {
    Failure::Retry {
        retry_after: None,
        why: e.to_string(),
    }
}

fn expect_json<T: DeserializeOwned>(resp: Response<Body>, want: u16) -> Result<T, Failure> {
    if resp.status().as_u16() == want {
        read_json(resp)
    } else {
        Err(failure(resp))
    }
}

fn read_json<T: DeserializeOwned>(mut resp: Response<Body>) -> Result<T, Failure> {
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(MAX_JSON_ANSWER)
        .read_to_vec()
        .map_err(transport)?;
    serde_json::from_slice(&bytes).map_err(|e| Failure::Rejected {
        status: resp.status().as_u16(),
        code: None,
        message: format!("the answer is not the JSON the API promises ({e})"),
    })
}

/// The server's `Retry-After` (seconds), bounded here, where it is read:
/// every user of it (the backoff, the spool's drain after a 507) adds it to
/// an `Instant`, which `u64::MAX` seconds overflowed.
fn retry_after(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|secs| Duration::from_secs(secs).min(crate::backoff::MAX_RETRY_AFTER))
}

/// Classifies an error answer.
fn failure(mut resp: Response<Body>) -> Failure {
    let status = resp.status().as_u16();
    let retry_after = retry_after(resp.headers());
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(b) => (Some(b.error.code), b.error.message),
        Err(_) => (None, format!("HTTP {status}")),
    };
    match status {
        // The server's storage is full: this part waits, others go on.
        507 => Failure::NoRoom {
            retry_after,
            why: format!("HTTP {status}: {message}"),
        },
        // 408: a stalled body or a request past the server's limit. Passes.
        408 | 429 | 500..=599 => Failure::Retry {
            retry_after,
            why: format!("HTTP {status}: {message}"),
        },
        // The server's refusals carry its error body; a bare 401 or 403 is
        // a proxy's or a firewall's page, like any other answer without it.
        401 | 403 if code.is_some() => Failure::Blocked {
            status,
            code,
            message,
        },
        _ if code.is_none() => Failure::Unexplained {
            retry_after,
            why: format!(
                "HTTP {status} without the sealcam API's error body (a proxy or captive portal answered?)"
            ),
        },
        _ => Failure::Rejected {
            status,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_and_bounded() {
        let mut headers = ureq::http::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", " 30 ".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(30)));
        headers.insert("retry-after", u64::MAX.to_string().parse().unwrap());
        assert_eq!(retry_after(&headers), Some(crate::backoff::MAX_RETRY_AFTER));
        headers.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}
