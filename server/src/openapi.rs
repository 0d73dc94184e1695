//! The OpenAPI document, generated from the handlers' annotations.
//!
//! Served at `/openapi.json` and committed as `docs/openapi.json`; the test
//! `openapi_is_current` fails when the committed copy is stale
//! (`SEALCAM_BLESS=1 cargo test -p sealcam-server --test openapi` rewrites it).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{accounts, cameras, events, health};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "sealcam-server", description = "The blind blob server of sealcam: stores sealed media it cannot open. See docs/API.md."),
    paths(
        health::healthz, health::openapi,
        accounts::enroll, accounts::account, accounts::list_devices, accounts::link_device, accounts::withdraw_links,
        accounts::delete_device, accounts::get_key_bundle, accounts::put_key_bundle,
        accounts::get_viewers, accounts::put_viewers, accounts::get_key_log,
        accounts::put_key_log, accounts::put_recovery_credential,
        cameras::create_pairing, cameras::register, cameras::list_cameras, cameras::camera_self,
        cameras::confirm, cameras::delete_camera, cameras::get_recipient_set,
        cameras::put_recipient_set, cameras::put_retention, cameras::list_shares,
        cameras::put_share, cameras::delete_share,
        events::upload_part, events::list_events, events::get_event, events::delete_event,
        events::download_part, events::download_header, events::download_payload,
        events::replace_header,
    ),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme used by every authenticated route.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An opaque credential: scv_… (viewer device) or scc_… (camera)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn json() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
