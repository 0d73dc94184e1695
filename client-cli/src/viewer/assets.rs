//! The embedded page, script and style, served with a strict content
//! security policy: only this origin's own script, no inline code.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("assets/index.html");
const LOGIN: &str = include_str!("assets/login.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
                   media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

pub async fn index() -> Response {
    asset(INDEX, "text/html; charset=utf-8")
}

pub async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

pub async fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

/// The login page: the password form when there is a password, else how to
/// get a link.
pub fn login_page(with_password: bool) -> Response {
    let mut r = asset(LOGIN, "text/html; charset=utf-8");
    if !with_password {
        *r.body_mut() = axum::body::Body::from(LOGIN.replace(
            "<!--form-->",
            "<p>Open the link <code>sealcam ui</code> printed; each link works once.</p>",
        ));
    } else {
        *r.body_mut() = axum::body::Body::from(LOGIN.replace(
            "<!--form-->",
            r#"<form method="post" action="/login"><label>Viewer password <input type="password" name="password" autofocus autocomplete="current-password"></label> <button>Log in</button></form>"#,
        ));
    }
    *r.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    r
}
