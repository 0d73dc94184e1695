//! Authentication extractors: a bearer credential, looked up by its hash in
//! the database on every request (no cache), compared in constant time, with
//! failures counted per client IP.
//!
//! The failure limiter never refuses a valid credential: every request is
//! checked first, and only a failed one from an address over its limit is
//! answered `429` (with `Retry-After`) instead of `401`. One broken client
//! behind a household's NAT then slows itself down, not the household's
//! phones and cameras. Credentials are 256-bit random tokens, so the limiter
//! is there to make a misbehaving client back off, not to stop guessing.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sealcam_wire::token_prefix;

use crate::error::AppError;
use crate::state::AppState;
use crate::store::{CameraPrincipal, ViewerPrincipal};
use crate::tokens;

/// The client address used for rate limiting: the peer, or behind a
/// trusted proxy the client it names in `X-Forwarded-For` (see [`crate::proxy`]).
pub fn client_ip(parts: &Parts, state: &AppState) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(addr)| addr.ip());
    let forwarded: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    state.proxies.client(peer, &forwarded)
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Records a failed authentication and returns the error to answer: `401`
/// for the first `failed_auth_limit` failures of a window, `429` after.
pub fn fail(state: &AppState, ip: IpAddr) -> AppError {
    let over = state.limiter.check(ip);
    state.limiter.record_failure(ip);
    match over {
        Ok(()) => AppError::Unauthorized,
        Err(retry_after) => AppError::RateLimited { retry_after },
    }
}

/// A viewer device (`scv_…` credential).
#[derive(Debug, Clone, Copy)]
pub struct Viewer(pub ViewerPrincipal);

/// A camera (`scc_…` credential), pending or active.
#[derive(Debug, Clone, Copy)]
pub struct Camera(pub CameraPrincipal);

/// Either kind of caller (routes that cameras and viewers both read).
#[derive(Debug, Clone, Copy)]
pub enum Caller {
    /// A viewer device.
    Viewer(ViewerPrincipal),
    /// A camera.
    Camera(CameraPrincipal),
}

async fn viewer(state: &AppState, ip: IpAddr, token: &str) -> Result<ViewerPrincipal, AppError> {
    if !tokens::well_formed(token, token_prefix::VIEWER) {
        return Err(fail(state, ip));
    }
    let hash = tokens::hash(token);
    match state.db.viewer_by_token(&hash).await? {
        Some(p) if tokens::hashes_equal(&p.token_hash, &hash) => Ok(p),
        _ => Err(fail(state, ip)),
    }
}

async fn camera(state: &AppState, ip: IpAddr, token: &str) -> Result<CameraPrincipal, AppError> {
    if !tokens::well_formed(token, token_prefix::CAMERA) {
        return Err(fail(state, ip));
    }
    let hash = tokens::hash(token);
    match state.db.camera_by_token(&hash).await? {
        Some(p) if tokens::hashes_equal(&p.token_hash, &hash) => Ok(p),
        _ => Err(fail(state, ip)),
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ip = client_ip(parts, state);
        let token = bearer(parts).ok_or(AppError::Unauthorized)?;
        Ok(Viewer(viewer(state, ip, token).await?))
    }
}

impl FromRequestParts<AppState> for Camera {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ip = client_ip(parts, state);
        let token = bearer(parts).ok_or(AppError::Unauthorized)?;
        Ok(Camera(camera(state, ip, token).await?))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ip = client_ip(parts, state);
        let token = bearer(parts).ok_or(AppError::Unauthorized)?;
        if token.starts_with(token_prefix::CAMERA) {
            Ok(Caller::Camera(camera(state, ip, token).await?))
        } else {
            Ok(Caller::Viewer(viewer(state, ip, token).await?))
        }
    }
}

/// Checks again, once a request's body has been read, that its bearer
/// credential (if any) still names a device or camera. The credential is
/// checked before the body, and a body may take up to
/// `request_timeout_secs` to arrive: a device removed meanwhile must not
/// write anything when its body ends.
pub async fn recheck(parts: &Parts, state: &AppState) -> Result<(), AppError> {
    let Some(token) = bearer(parts) else {
        return Ok(());
    };
    let ip = client_ip(parts, state);
    if token.starts_with(token_prefix::CAMERA) {
        camera(state, ip, token).await.map(drop)
    } else {
        viewer(state, ip, token).await.map(drop)
    }
}

/// The client's IP address (for rate limiting unauthenticated routes).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, state)))
    }
}

/// A viewer's bearer token, checked for shape and rate limit but not yet
/// looked up: for routes that authenticate and authorise in one query.
#[derive(Debug, Clone, Copy)]
pub struct ViewerToken {
    /// SHA-256 of the presented token.
    pub hash: tokens::TokenHash,
    /// The client address, to count a failure against.
    pub ip: IpAddr,
}

impl FromRequestParts<AppState> for ViewerToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ip = client_ip(parts, state);
        let token = bearer(parts).ok_or(AppError::Unauthorized)?;
        if !tokens::well_formed(token, token_prefix::VIEWER) {
            return Err(fail(state, ip));
        }
        Ok(ViewerToken {
            hash: tokens::hash(token),
            ip,
        })
    }
}
