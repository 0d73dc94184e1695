//! A typed async client for the server's HTTP API (`docs/API.md`).
//!
//! It knows routes, credentials and status codes, and nothing of the
//! cryptography: what it moves are the opaque bytes of `sealcam-wire`.

use std::fmt;
use std::ops::Range;

use futures_util::{Stream, TryStreamExt as _};
use reqwest::header::{
    HeaderMap, HeaderValue, CONTENT_RANGE, ETAG, IF_MATCH, IF_NONE_MATCH, RANGE,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use sealcam_keys::ViewerRecipient;
use sealcam_wire::{
    AccountInfo, CameraList, DeviceList, EnrollRequest, EnrollResponse, ErrorBody, ErrorCode,
    Event, EventPage, EventsQuery, LinkResponse, PairingResponse, PartKind, RecipientSet,
    Retention, ShareList, UploadResponse,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{ClientError, Result};

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
    /// A client of the server at `base_url` (`http://host:port`).
    pub fn new(base_url: &str) -> Result<Self> {
        let base = base_url.trim().trim_end_matches('/').to_owned();
        if reqwest::Url::parse(&base).is_err() || !base.starts_with("http") {
            return Err(ClientError::BadInput(format!(
                "{base_url:?} is not a server URL (expected http://host:port or https://host)"
            )));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("sealcam/", env!("CARGO_PKG_VERSION")))
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

    // Accounts and devices.

    /// `POST /v1/enroll`.
    /// `viewer_key` is this device's viewer key: recorded with the device, and
    /// required to match when the link token was bound to a key.
    pub async fn enroll(
        &self,
        token: &str,
        device_name: &str,
        viewer_key: Option<&ViewerRecipient>,
    ) -> Result<EnrollResponse> {
        let req = Self::with_json(
            self.request(Method::POST, "/v1/enroll"),
            &EnrollRequest {
                token: token.to_owned(),
                device_name: device_name.to_owned(),
                viewer_key: viewer_key.map(ToString::to_string),
            },
        )?;
        match self.json(req, "enrollment token").await {
            Err(ClientError::Unauthorized) => Err(ClientError::BadInput(
                "the server refused the token: it is unknown, used or expired; ask the operator for a new one (`sealcam-server accounts create`) or a new link code".into(),
            )),
            other => other,
        }
    }

    /// `GET /v1/account`.
    pub async fn account(&self) -> Result<AccountInfo> {
        self.json(self.request(Method::GET, "/v1/account"), "account")
            .await
    }

    /// `GET /v1/devices`.
    pub async fn devices(&self) -> Result<DeviceList> {
        self.json(self.request(Method::GET, "/v1/devices"), "devices")
            .await
    }

    /// `POST /v1/devices/link`, the token bound to `viewer_key` when given:
    /// only a device presenting that key can enroll with it.
    pub async fn link_device(&self, viewer_key: Option<&ViewerRecipient>) -> Result<LinkResponse> {
        let req = Self::with_json(
            self.request(Method::POST, "/v1/devices/link"),
            &sealcam_wire::LinkRequest {
                viewer_key: viewer_key.map(ToString::to_string),
            },
        )?;
        self.json(req, "link").await
    }

    /// `DELETE /v1/devices/link`: withdraws every unused link token of the account.
    pub async fn withdraw_links(&self) -> Result<()> {
        let req = self.request(Method::DELETE, "/v1/devices/link");
        self.send(req, "link tokens").await.map(drop)
    }

    /// `DELETE /v1/devices/{id}`.
    pub async fn delete_device(&self, device: Uuid) -> Result<()> {
        let req = self.request(Method::DELETE, &format!("/v1/devices/{device}"));
        self.send(req, &format!("device {device}")).await.map(drop)
    }

    /// `PUT /v1/account/recovery-credential`: registers the credential derived
    /// from the recovery key (the server keeps only its hash).
    pub async fn register_recovery_credential(&self, credential: &Credential) -> Result<()> {
        let req = Self::with_json(
            self.request(Method::PUT, "/v1/account/recovery-credential"),
            &serde_json::json!({ "credential": credential.expose() }),
        )?;
        self.send(req, "recovery credential").await.map(drop)
    }

    /// Reads an account record and its ETag; `None` when none is stored.
    pub async fn get_record(&self, record: Record) -> Result<Option<(Vec<u8>, String)>> {
        match self
            .send(self.request(Method::GET, record.path()), "record")
            .await
        {
            Ok(resp) => {
                let etag = resp
                    .headers()
                    .get(ETAG)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                Ok(Some((self.body(resp).await?, etag)))
            }
            Err(ClientError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes an account record and returns its new ETag;
    /// [`ClientError::Conflict`] when the precondition fails.
    pub async fn put_record(
        &self,
        record: Record,
        data: Vec<u8>,
        pre: Precondition,
    ) -> Result<String> {
        let mut req = self
            .request(Method::PUT, record.path())
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(data);
        match pre {
            Precondition::None => {}
            Precondition::IfMatch(etag) => req = req.header(IF_MATCH, etag),
            Precondition::IfAbsent => req = req.header(IF_NONE_MATCH, "*"),
        }
        let resp = self.send(req, "record").await?;
        Ok(resp
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned())
    }

    // Pairing and cameras.

    /// `POST /v1/pairings`.
    pub async fn create_pairing(&self) -> Result<PairingResponse> {
        self.json(self.request(Method::POST, "/v1/pairings"), "pairing")
            .await
    }

    /// `GET /v1/cameras`.
    pub async fn cameras(&self) -> Result<CameraList> {
        self.json(self.request(Method::GET, "/v1/cameras"), "cameras")
            .await
    }

    /// `POST /v1/cameras/{id}/confirm`.
    pub async fn confirm_camera(&self, camera: Uuid) -> Result<()> {
        let req = self.request(Method::POST, &format!("/v1/cameras/{camera}/confirm"));
        self.send(req, &format!("camera {camera}")).await.map(drop)
    }

    /// `DELETE /v1/cameras/{id}`.
    pub async fn delete_camera(&self, camera: Uuid) -> Result<()> {
        let req = self.request(Method::DELETE, &format!("/v1/cameras/{camera}"));
        self.send(req, &format!("camera {camera}")).await.map(drop)
    }

    /// `GET /v1/cameras/{id}/recipient-set`; `None` when none was published.
    pub async fn recipient_set(&self, camera: Uuid) -> Result<Option<RecipientSet>> {
        let req = self.request(Method::GET, &format!("/v1/cameras/{camera}/recipient-set"));
        match self.json(req, &format!("camera {camera}")).await {
            Ok(s) => Ok(Some(s)),
            Err(ClientError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT /v1/cameras/{id}/recipient-set`. With `supersede` the server
    /// stores it even over a set with a higher epoch (one that does not
    /// verify for this owner: see `Client::publish_set`).
    pub async fn put_recipient_set(
        &self,
        camera: Uuid,
        epoch: u64,
        set: &[u8],
        supersede: bool,
    ) -> Result<()> {
        use base64::Engine as _;
        let body = RecipientSet {
            epoch,
            set: base64::engine::general_purpose::STANDARD.encode(set),
            key_log: None,
            supersede,
        };
        let req = Self::with_json(
            self.request(Method::PUT, &format!("/v1/cameras/{camera}/recipient-set")),
            &body,
        )?;
        self.send(req, &format!("camera {camera}")).await.map(drop)
    }

    /// `PUT /v1/cameras/{id}/retention`.
    pub async fn set_retention(&self, camera: Uuid, days: Option<u32>) -> Result<()> {
        let req = Self::with_json(
            self.request(Method::PUT, &format!("/v1/cameras/{camera}/retention")),
            &Retention { days },
        )?;
        self.send(req, &format!("camera {camera}")).await.map(drop)
    }

    /// `GET /v1/cameras/{id}/shares`.
    pub async fn shares(&self, camera: Uuid) -> Result<ShareList> {
        let req = self.request(Method::GET, &format!("/v1/cameras/{camera}/shares"));
        self.json(req, &format!("camera {camera}")).await
    }

    /// `PUT /v1/cameras/{id}/shares/{account}`.
    pub async fn put_share(&self, camera: Uuid, account: Uuid) -> Result<()> {
        let req = self.request(
            Method::PUT,
            &format!("/v1/cameras/{camera}/shares/{account}"),
        );
        self.send(req, &format!("camera {camera} or account {account}"))
            .await
            .map(drop)
    }

    /// `DELETE /v1/cameras/{id}/shares/{account}`.
    pub async fn delete_share(&self, camera: Uuid, account: Uuid) -> Result<()> {
        let req = self.request(
            Method::DELETE,
            &format!("/v1/cameras/{camera}/shares/{account}"),
        );
        self.send(req, &format!("share of camera {camera} with {account}"))
            .await
            .map(drop)
    }

    // Events and parts.

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

    /// A byte range of a part's payload, in memory.
    pub async fn payload_range_vec(
        &self,
        event: Uuid,
        kind: PartKind,
        range: Range<u64>,
    ) -> Result<Vec<u8>> {
        let want = (range.end - range.start) as usize;
        let mut stream = self.payload_range(event, kind, range).await?;
        let mut out = Vec::with_capacity(want);
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
