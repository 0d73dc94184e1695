//! Who may use the viewer: the holder of the one-time URL token printed at
//! start (exchanged once for a session cookie), or — when the viewer listens
//! beyond loopback — whoever knows the household's viewer password. The
//! decrypted footage never leaves this process otherwise.
//!
//! Also refused: a `Host` other than the loopback address the viewer
//! listens on (a DNS-rebinding page in the user's browser cannot reach it),
//! and requests without a session. The session cookie is `HttpOnly` and
//! `SameSite=Strict`, so another site cannot make the browser use it.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

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

/// The viewer's credentials: the one-time token, the sessions it and the
/// password opened, the password.
pub struct Access {
    one_time: Mutex<Option<Zeroizing<String>>>,
    sessions: Mutex<HashSet<String>>,
    password: Option<Password>,
    /// Held through each password attempt, and a failed one's delay: one
    /// guess at a time across all connections.
    login_gate: tokio::sync::Mutex<()>,
    /// `Host` values accepted (`None`: any, when listening beyond loopback).
    hosts: Option<Vec<String>>,
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
    /// New credentials; returns them and the one-time token.
    pub fn new(
        password: Option<Password>,
        hosts: Option<Vec<String>>,
    ) -> (Self, Zeroizing<String>) {
        let token = random_token();
        let access = Self {
            one_time: Mutex::new(Some(token.clone())),
            sessions: Mutex::new(HashSet::new()),
            password,
            login_gate: tokio::sync::Mutex::new(()),
            hosts,
        };
        (access, token)
    }

    /// Uses up the one-time token when `offered` is it.
    fn redeem(&self, offered: &str) -> bool {
        let mut slot = self.one_time.lock().unwrap_or_else(|e| e.into_inner());
        let ok = slot
            .as_ref()
            .is_some_and(|t| bool::from(t.as_bytes().ct_eq(offered.as_bytes())));
        if ok {
            *slot = None;
        }
        ok
    }

    fn open_session(&self) -> String {
        let id = random_token().to_string();
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone());
        id
    }

    fn has_session(&self, headers: &HeaderMap) -> bool {
        let Some(id) = cookie(headers, COOKIE) else {
            return false;
        };
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .iter()
            .any(|s| bool::from(s.as_bytes().ct_eq(id.as_bytes())))
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(hosts) = &self.hosts else {
            return true;
        };
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| hosts.iter().any(|a| a.eq_ignore_ascii_case(h)))
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
    let id = access.open_session();
    let cookie = format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/");
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/".to_owned()),
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

/// `GET /login?token=…`: the one-time URL token, exchanged for a session.
pub async fn login_with_token(
    State(state): State<ViewerState>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    match q.get("token") {
        Some(t) if state.access.redeem(t) => with_session(&state.access),
        Some(_) => refused(
            StatusCode::UNAUTHORIZED,
            "this link was used already or is wrong: run `sealcam ui` again for a new one",
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
    let Some(password) = &state.access.password else {
        return refused(StatusCode::NOT_FOUND, "this viewer has no password login");
    };
    let attempt = Zeroizing::new(form.get("password").cloned().unwrap_or_default());
    let _one_at_a_time = state.access.login_gate.lock().await;
    if password.matches(&attempt) {
        with_session(&state.access)
    } else {
        tokio::time::sleep(FAILED_LOGIN_DELAY).await;
        refused(StatusCode::UNAUTHORIZED, "wrong password")
    }
}

/// Lets through the login routes, and everything else only with a session.
pub async fn guard(State(state): State<ViewerState>, req: Request, next: Next) -> Response {
    if !state.access.host_allowed(req.headers()) {
        return refused(StatusCode::FORBIDDEN, "unexpected Host header");
    }
    let open = matches!(req.uri().path(), "/login" | "/app.css");
    if open || state.access.has_session(req.headers()) {
        return next.run(req).await;
    }
    if req.uri().path() == "/" {
        return super::assets::login_page(state.access.password.is_some());
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
    fn the_one_time_token_works_once() {
        let (access, token) = Access::new(None, None);
        assert!(!access.redeem("wrong"));
        assert!(access.redeem(&token));
        assert!(!access.redeem(&token));
    }

    #[test]
    fn passwords_are_checked_and_short_ones_refused() {
        assert!(Password::new("short").is_err());
        let p = Password::new("correct horse battery").unwrap();
        assert!(p.matches("correct horse battery"));
        assert!(!p.matches("correct horse batterY"));
    }

    #[test]
    fn sessions_come_from_the_cookie() {
        let (access, _) = Access::new(None, Some(vec!["127.0.0.1:9".into()]));
        let id = access.open_session();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            format!("a=b; {COOKIE}={id}").parse().unwrap(),
        );
        assert!(access.has_session(&h));
        h.insert(header::COOKIE, format!("{COOKIE}=nope").parse().unwrap());
        assert!(!access.has_session(&h));
        h.insert(header::HOST, "evil.example:9".parse().unwrap());
        assert!(!access.host_allowed(&h));
        h.insert(header::HOST, "127.0.0.1:9".parse().unwrap());
        assert!(access.host_allowed(&h));
    }
}
