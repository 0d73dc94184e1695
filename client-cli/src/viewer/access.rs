//! Who may use the viewer: the holder of the one-time URL token printed at
//! start (exchanged once, within [`TOKEN_LIFETIME`], for a session), or —
//! when the viewer has a password (`--password`, which `--listen` beyond
//! loopback requires) — whoever knows the household's viewer password; a
//! viewer with a password prints no token. The decrypted footage never
//! leaves this process otherwise.
//!
//! A session is two secrets: a path (`/s/<path>/`, where the whole viewer
//! lives) and a cookie scoped to that path (`HttpOnly`, `SameSite=Strict`).
//! Browsers send a localhost cookie to every port of the host, so another
//! local user's server on another port could otherwise collect it; scoped
//! to a path nobody else knows, the browser never sends it there.
//!
//! Also refused: a `Host` that could come from DNS rebinding (on loopback:
//! anything but the loopback address the viewer listens on; beyond it: a
//! name not given with `--host`, IP literals being safe), a request another
//! site or another port made the browser send (`Sec-Fetch-Site`), and
//! requests without a session.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::ViewerState;

/// The session cookie's name.
pub const COOKIE: &str = "sealcam_ui";

/// scrypt cost of the viewer password (2^15, r = 8: about 100 ms).
const SCRYPT_LOG_N: u8 = 15;

/// A failed password waits this long before it is answered, holding the
/// gate: at most one wrong guess per second, whatever the connections.
const FAILED_LOGIN_DELAY: Duration = Duration::from_secs(1);

/// The one-time token works this long after the viewer starts.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The largest login form read (a password is far shorter).
pub const MAX_LOGIN_FORM: usize = 4096;

fn random_token() -> Zeroizing<String> {
    let mut b = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(&mut *b);
    Zeroizing::new(URL_SAFE_NO_PAD.encode(*b))
}

/// The viewer password, kept only as its scrypt hash.
pub struct Password {
    salt: [u8; 16],
    hash: Zeroizing<[u8; 32]>,
}

impl Password {
    /// Derives the hash of `password` (refused when shorter than 12 characters).
    pub fn new(password: &str) -> anyhow::Result<Self> {
        if password.chars().count() < 12 {
            anyhow::bail!("the viewer password must have at least 12 characters");
        }
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let hash = derive(password, &salt)?;
        Ok(Self { salt, hash })
    }

    fn matches(&self, attempt: &str) -> bool {
        derive(attempt, &self.salt).is_ok_and(|h| bool::from(h.ct_eq(&*self.hash)))
    }
}

fn derive(password: &str, salt: &[u8]) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    let params = scrypt::Params::new(SCRYPT_LOG_N, 8, 1, 32)
        .map_err(|e| anyhow::anyhow!("scrypt parameters: {e}"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password.as_bytes(), salt, &params, &mut *out)
        .map_err(|e| anyhow::anyhow!("scrypt: {e}"))?;
    Ok(out)
}

/// Which `Host` headers are accepted.
#[derive(Debug, Clone)]
pub enum Hosts {
    /// Listening on loopback: exactly these `host:port` values.
    Exactly(Vec<String>),
    /// Listening beyond loopback: any IP literal (DNS rebinding needs a
    /// name), and these names (any port).
    IpsAnd(Vec<String>),
}

/// The viewer's credentials: the one-time token, the sessions it and the
/// password opened, the password.
pub struct Access {
    one_time: Mutex<Option<(Zeroizing<String>, Instant)>>,
    /// Session path → session cookie.
    sessions: Mutex<HashMap<String, Zeroizing<String>>>,
    password: Option<Password>,
    /// Held through each password attempt, and a failed one's delay: one
    /// guess at a time across all connections (others are told to wait).
    login_gate: tokio::sync::Mutex<()>,
    hosts: Hosts,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("password", &self.password.is_some())
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl Access {
    /// New credentials; returns them and the one-time token (none when
    /// there is a password: a token printed by a service would end up in
    /// its logs, a way in without the password).
    pub fn new(password: Option<Password>, hosts: Hosts) -> (Self, Option<Zeroizing<String>>) {
        let token = password.is_none().then(random_token);
        let access = Self {
            one_time: Mutex::new(token.clone().map(|t| (t, Instant::now()))),
            sessions: Mutex::new(HashMap::new()),
            password,
            login_gate: tokio::sync::Mutex::new(()),
            hosts,
        };
        (access, token)
    }

    /// Uses up the one-time token when `offered` is it and it has not
    /// expired.
    fn redeem(&self, offered: &str) -> bool {
        let mut slot = self.one_time.lock().unwrap_or_else(|e| e.into_inner());
        let ok = slot.as_ref().is_some_and(|(t, made)| {
            bool::from(t.as_bytes().ct_eq(offered.as_bytes())) && made.elapsed() < TOKEN_LIFETIME
        });
        if ok {
            *slot = None;
        }
        ok
    }

    /// A new session: its path and its cookie.
    fn open_session(&self) -> (String, Zeroizing<String>) {
        let (path, cookie) = (random_token().to_string(), random_token());
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.clone(), cookie.clone());
        (path, cookie)
    }

    /// Whether the request's cookie is the one of session `path`.
    fn has_session(&self, path: &str, headers: &HeaderMap) -> bool {
        let Some(offered) = cookie(headers, COOKIE) else {
            return false;
        };
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .get(path)
            .is_some_and(|c| bool::from(c.as_bytes().ct_eq(offered.as_bytes())))
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return false;
        };
        match &self.hosts {
            Hosts::Exactly(hosts) => hosts.iter().any(|a| a.eq_ignore_ascii_case(host)),
            Hosts::IpsAnd(names) => {
                let Ok(authority) = host.parse::<axum::http::uri::Authority>() else {
                    return false;
                };
                let name = authority.host();
                let bare = name.trim_start_matches('[').trim_end_matches(']');
                bare.parse::<std::net::IpAddr>().is_ok()
                    || names.iter().any(|n| n.eq_ignore_ascii_case(name))
            }
        }
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn with_session(access: &Access) -> Response {
    let (path, id) = access.open_session();
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/s/{path}/",
        id.as_str()
    );
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, format!("/s/{path}/")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}

fn refused(status: StatusCode, message: &'static str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({"error": message})),
    )
        .into_response()
}

/// `GET /`: the login page (the viewer itself is under a session's path).
pub async fn root(State(state): State<ViewerState>) -> Response {
    super::assets::login_page(state.access.password.is_some())
}

/// `GET /login?token=…`: the one-time URL token, exchanged for a session.
pub async fn login_with_token(
    State(state): State<ViewerState>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    match q.get("token") {
        Some(t) if state.access.redeem(t) => with_session(&state.access),
        Some(_) => refused(
            StatusCode::UNAUTHORIZED,
            "this link was used already, has expired or is wrong: run `sealcam ui` again for a new one",
        ),
        None => super::assets::login_page(state.access.password.is_some()),
    }
}

/// `POST /login` with `password=…` (form): the household's viewer password,
/// when set. A wrong one waits before it is answered.
pub async fn login_with_password(
    State(state): State<ViewerState>,
    axum::extract::Form(form): axum::extract::Form<std::collections::HashMap<String, String>>,
) -> Response {
    if state.access.password.is_none() {
        return refused(StatusCode::NOT_FOUND, "this viewer has no password login");
    }
    let attempt = Zeroizing::new(form.get("password").cloned().unwrap_or_default());
    // One guess at a time: while one is checked (or waits out its delay),
    // others are told to come back rather than queued.
    let Ok(_one_at_a_time) = state.access.login_gate.try_lock() else {
        let mut r = refused(
            StatusCode::TOO_MANY_REQUESTS,
            "another login is being checked; try again in a second",
        );
        r.headers_mut().insert(
            header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
        return r;
    };
    // scrypt takes about 100 ms of CPU: off the async workers.
    let access = state.access.clone();
    let matched = tokio::task::spawn_blocking(move || {
        access
            .password
            .as_ref()
            .is_some_and(|p| p.matches(&attempt))
    })
    .await
    .unwrap_or(false);
    if matched {
        with_session(&state.access)
    } else {
        tokio::time::sleep(FAILED_LOGIN_DELAY).await;
        refused(StatusCode::UNAUTHORIZED, "wrong password")
    }
}

/// Lets through the login routes, and the session's own path only with its
/// cookie.
pub async fn guard(State(state): State<ViewerState>, req: Request, next: Next) -> Response {
    if !state.access.host_allowed(req.headers()) {
        return refused(StatusCode::FORBIDDEN, "unexpected Host header");
    }
    let path = req.uri().path();
    if let Some(rest) = path.strip_prefix("/s/") {
        // Sent by browsers: `same-site` covers a page on another port of
        // this host. (The login routes take links from anywhere: a token or
        // a password is needed there anyway.)
        let fetched_by = req
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok());
        if matches!(fetched_by, Some("same-site" | "cross-site")) {
            return refused(
                StatusCode::FORBIDDEN,
                "a request another site or port made the browser send",
            );
        }
        let (session, inner) = rest.split_once('/').unwrap_or((rest, ""));
        if !state.access.has_session(session, req.headers()) {
            return refused(
                StatusCode::UNAUTHORIZED,
                "log in first: open the link `sealcam ui` printed",
            );
        }
        if inner.is_empty() && !path.ends_with('/') {
            // The page's links are relative to `/s/<session>/`.
            return (
                StatusCode::PERMANENT_REDIRECT,
                [(header::LOCATION, format!("{path}/"))],
            )
                .into_response();
        }
        return next.run(req).await;
    }
    if matches!(path, "/" | "/login" | "/app.css") {
        return next.run(req).await;
    }
    refused(
        StatusCode::UNAUTHORIZED,
        "log in first: open the link `sealcam ui` printed",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_time_token_works_once_and_not_with_a_password() {
        let (access, token) = Access::new(None, Hosts::Exactly(vec![]));
        let token = token.unwrap();
        assert!(!access.redeem("wrong"));
        assert!(access.redeem(&token));
        assert!(!access.redeem(&token));
        let password = Password::new("correct horse battery").unwrap();
        let (_, token) = Access::new(Some(password), Hosts::IpsAnd(vec![]));
        assert!(token.is_none());
    }

    #[test]
    fn beyond_loopback_ip_literals_and_named_hosts_pass() {
        let (access, _) = Access::new(None, Hosts::IpsAnd(vec!["hub.home.arpa".into()]));
        let host = |h: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::HOST, h.parse().unwrap());
            access.host_allowed(&m)
        };
        assert!(host("192.168.1.5:8080"));
        assert!(host("[fd00::5]:8080"));
        assert!(host("HUB.home.arpa:8080"));
        assert!(!host("rebind.attacker.example:8080"));
        assert!(!access.host_allowed(&HeaderMap::new()));
    }

    #[test]
    fn passwords_are_checked_and_short_ones_refused() {
        assert!(Password::new("short").is_err());
        let p = Password::new("correct horse battery").unwrap();
        assert!(p.matches("correct horse battery"));
        assert!(!p.matches("correct horse batterY"));
    }

    #[test]
    fn sessions_come_from_the_cookie_of_their_path() {
        let (access, _) = Access::new(None, Hosts::Exactly(vec!["127.0.0.1:9".into()]));
        let (path, id) = access.open_session();
        let (other_path, _) = access.open_session();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            format!("a=b; {COOKIE}={}", id.as_str()).parse().unwrap(),
        );
        assert!(access.has_session(&path, &h));
        assert!(!access.has_session(&other_path, &h));
        assert!(!access.has_session("guessed", &h));
        h.insert(header::COOKIE, format!("{COOKIE}=nope").parse().unwrap());
        assert!(!access.has_session(&path, &h));
        h.insert(header::HOST, "evil.example:9".parse().unwrap());
        assert!(!access.host_allowed(&h));
        h.insert(header::HOST, "127.0.0.1:9".parse().unwrap());
        assert!(access.host_allowed(&h));
    }
}
