//! `sealcam ui`: a local web viewer. It serves on 127.0.0.1 at a random
//! port behind a one-time URL token; keys stay in this process, and the
//! browser sees only verified plaintext, over loopback. With `--listen` on
//! another address (a household hub on the LAN) it requires the household's
//! viewer password, and refuses to start without one.
//!
//! Assets are embedded (`assets/`): no third-party code, no CDN, no build step.

mod access;
mod api;
mod assets;
mod media;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use axum::routing::{get, post};
use axum::Router;
use sealcam_client::{Client, EventView};
use sealcam_keys::EventId;
use serde_json::json;

use crate::cli::UiArgs;
use crate::commands::{out, secret_arg};

/// What every route shares.
#[derive(Clone)]
pub struct ViewerState {
    client: Client,
    access: Arc<access::Access>,
    views: Arc<Mutex<HashMap<EventId, EventView>>>,
    clips: Arc<Mutex<api::Clips>>,
    export_dir: PathBuf,
}

/// The login routes at the root; the viewer itself under its session's
/// path, `/s/<session>/` ([`access`] checks the cookie of that path).
fn router(state: ViewerState) -> Router {
    Router::new()
        .route("/s/{session}/", get(assets::index))
        .route("/s/{session}/app.js", get(assets::script))
        .route("/s/{session}/app.css", get(assets::style))
        .route("/s/{session}/api/timeline", get(api::timeline))
        .route("/s/{session}/api/events/{event}/{kind}", get(api::part))
        .route("/s/{session}/api/live", get(api::live))
        .route("/s/{session}/api/export", post(api::export))
        .route("/", get(access::root))
        .route("/app.css", get(assets::style))
        .route(
            "/login",
            get(access::login_with_token)
                .post(access::login_with_password)
                .layer(axum::extract::DefaultBodyLimit::max(access::MAX_LOGIN_FORM)),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::guard,
        ))
        .with_state(state)
}

/// Hands `url` to the desktop's browser through a page in a fresh private
/// directory (0700, the page 0600) that forwards to it; the directory goes
/// when the returned handle drops.
fn open_in_browser(url: &str) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("sealcam-ui-").tempdir()?;
    let page = dir.path().join("open.html");
    let html = format!(
        "<!doctype html><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\"><meta http-equiv=\"refresh\" content=\"0; url={url}\"><title>sealcam</title>"
    );
    sealcam_keys::secret_file::write(&page, html.as_bytes())?;
    std::process::Command::new("xdg-open").arg(&page).spawn()?;
    Ok(dir)
}

/// Runs the viewer until Ctrl-C.
pub async fn serve(client: Client, args: UiArgs, json: bool) -> anyhow::Result<()> {
    let addr: SocketAddr = args.listen.unwrap_or_else(|| ([127, 0, 0, 1], 0).into());
    let loopback = addr.ip().is_loopback();
    let password = match &args.password {
        Some(p) => {
            let literal = p != "-" && !p.starts_with('@');
            if literal && std::env::var_os("SEALCAM_UI_PASSWORD").is_none() {
                eprintln!(
                    "warning: a password on the command line can be read by every local user (ps); use `--password -`, `--password @FILE` or SEALCAM_UI_PASSWORD"
                );
            }
            Some(access::Password::new(&secret_arg(p, "viewer password")?)?)
        }
        None if loopback => None,
        None => anyhow::bail!(
            "refusing to serve decrypted footage on {addr} without a login: give --password (`-` to read it from standard input, @FILE from a file), or leave out --listen to serve on 127.0.0.1 only"
        ),
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let hosts = if loopback {
        let port = bound.port();
        access::Hosts::Exactly(vec![
            bound.to_string(),
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ])
    } else {
        access::Hosts::IpsAnd(args.host.clone())
    };
    let (access, token) = access::Access::new(password, hosts);
    let state = ViewerState {
        client,
        access: Arc::new(access),
        views: Arc::default(),
        clips: Arc::default(),
        export_dir: args.export_dir,
    };
    let shown_host = if loopback {
        bound.to_string()
    } else {
        format!("<this host>:{}", bound.port())
    };
    let url = match &token {
        Some(token) => format!("http://{shown_host}/login?token={}", token.as_str()),
        None => format!("http://{shown_host}/"),
    };
    if json {
        out(&format!(
            "{}\n",
            json!({"url": url, "listen": bound.to_string()})
        ));
    } else if token.is_some() {
        out(&format!(
            "sealcam viewer on http://{shown_host}/ — open this link once, within {} minutes (it logs this browser in):\n  {url}\n",
            access::TOKEN_LIFETIME.as_secs() / 60
        ));
    } else {
        out(&format!(
            "sealcam viewer on {url} — log in with the viewer password\n"
        ));
    }
    eprintln!("serving until Ctrl-C…");
    // The link goes to the browser in a file only this user can read, not
    // on a command line every local user can list.
    let _opener = match (&token, args.open && loopback) {
        (Some(_), true) => match open_in_browser(&url) {
            Ok(dir) => Some(dir),
            Err(e) => {
                eprintln!("warning: could not open a browser ({e:#}); open the link above");
                None
            }
        },
        _ => None,
    };
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the viewer stopped")
}
