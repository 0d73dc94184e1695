//! A typed async client for the server's HTTP API (`docs/API.md`).
//!
//! It knows routes, credentials and status codes, and nothing of the
//! cryptography: what it moves are the opaque bytes of `sealcam-wire`.
mod accounts;
mod cameras;
mod events;
mod stream;

use std::fmt;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use sealcam_wire::{ErrorBody, ErrorCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::{ClientError, Result};
use crate::tls::Transport;

pub use stream::{EventStream, StreamMessage};

/// A bearer credential (`scv_…`). Zeroized on drop, never printed.
#[derive(Clone)]
pub struct Credential(Zeroizing<String>);

impl Credential {
    /// Wraps a credential text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(Zeroizing::new(text.into()))
    }

    /// The credential text (to store it in a 0600 file).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(<redacted>)")
    }
}

/// Which opaque account record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// `/v1/account/key-bundle`: the owner key bundle.
    KeyBundle,
    /// `/v1/account/viewers`: the sealed, signed owner record.
    OwnerRecord,
    /// `/v1/account/key-log`: the owner key statements, in order (trust v2).
    KeyLog,
}

impl Record {
    fn path(self) -> &'static str {
        match self {
            Self::KeyBundle => "/v1/account/key-bundle",
            Self::OwnerRecord => "/v1/account/viewers",
            Self::KeyLog => "/v1/account/key-log",
        }
    }
}

/// A condition on writing an account record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Write whatever is stored.
    None,
    /// Write only over the version with this ETag.
    IfMatch(String),
    /// Write only when nothing is stored yet.
    IfAbsent,
}

/// The HTTP client of one server, with or without a device credential.
#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
    credential: Option<Credential>,
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base)
            .field("credential", &self.credential)
            .finish()
    }
}

impl Api {
    /// A client of the server at `base_url` with the default transport:
    /// the platform's roots, plain `http://` only to loopback.
    pub fn new(base_url: &str) -> Result<Self> {
        Self::connect(base_url, &Transport::default())
    }

    /// A client of the server at `base_url` (`https://host`, or
    /// `http://127.0.0.1:port`) under `transport`'s policy.
    pub fn connect(base_url: &str, transport: &Transport) -> Result<Self> {
        let base = base_url.trim().trim_end_matches('/').to_owned();
        let url = reqwest::Url::parse(&base).map_err(|_| {
            ClientError::BadInput(format!(
                "{base_url:?} is not a server URL (expected https://host or http://127.0.0.1:port)"
            ))
        })?;
        transport.check_url(&url)?;
        crate::tls::install_crypto_provider();
        let builder =
            reqwest::Client::builder().user_agent(concat!("sealcam/", env!("CARGO_PKG_VERSION")));
        let http = transport
            .apply(builder)?
            .build()
            .map_err(|source| ClientError::Network {
                url: base.clone(),
                source,
            })?;
        Ok(Self {
            base,
            http,
            credential: None,
        })
    }

    /// The same client authenticating with `credential`.
    pub fn with_credential(mut self, credential: Credential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// The server URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match &self.credential {
            Some(c) => req.bearer_auth(c.expose()),
            None => req,
        }
    }

    async fn send(&self, req: RequestBuilder, what: &str) -> Result<Response> {
        let resp = req.send().await.map_err(|source| ClientError::Network {
            url: self.base.clone(),
            source,
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(error_of(resp, what).await)
    }

    async fn json<T: DeserializeOwned>(&self, req: RequestBuilder, what: &str) -> Result<T> {
        let resp = self.send(req, what).await?;
        resp.json()
            .await
            .map_err(|e| ClientError::Protocol(format!("{what}: {e}")))
    }

    async fn bytes(&self, req: RequestBuilder, what: &str) -> Result<Vec<u8>> {
        let resp = self.send(req, what).await?;
        self.body(resp).await
    }

    async fn body(&self, resp: Response) -> Result<Vec<u8>> {
        resp.bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|source| ClientError::Network {
                url: self.base.clone(),
                source,
            })
    }

    fn with_json<T: Serialize>(req: RequestBuilder, body: &T) -> Result<RequestBuilder> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::Protocol(e.to_string()))?;
        Ok(req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes))
    }
}

async fn error_of(resp: Response, what: &str) -> ClientError {
    let status = resp.status();
    let body: Option<ErrorBody> = resp.json().await.ok();
    let code = body.as_ref().map(|b| b.error.code);
    match (status, code) {
        (StatusCode::NOT_FOUND, _) => ClientError::NotFound {
            what: what.to_owned(),
        },
        (StatusCode::UNAUTHORIZED, _) => ClientError::Unauthorized,
        (StatusCode::PRECONDITION_FAILED, _) => ClientError::Conflict,
        (_, _) => ClientError::Server {
            status: status.as_u16(),
            code,
            message: body
                .map(|b| b.error.message)
                .unwrap_or_else(|| status.to_string()),
        },
    }
}

/// `true` when the error is the server's `stale_epoch`.
pub fn is_stale_epoch(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Server {
            code: Some(ErrorCode::StaleEpoch),
            ..
        }
    )
}
