//! The OpenAPI document, generated from the handlers' annotations: the
//! paths are [`routes::Operations`], the list the router is built from.
//!
//! Served at `/openapi.json` and committed as `docs/openapi.json`; the test
//! `openapi_is_current` fails when the committed copy is stale
//! (`SEALCAM_BLESS=1 cargo test -p sealcam-server --test openapi` rewrites it).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

/// The API description: its title and security scheme, and every route's
/// operation.
pub struct ApiDoc;

impl OpenApi for ApiDoc {
    fn openapi() -> utoipa::openapi::OpenApi {
        Info::openapi().merge_from(routes::Operations::openapi())
    }
}

/// The title, description and security scheme of the document.
#[derive(OpenApi)]
#[openapi(
    info(title = "sealcam-server", description = "The blind blob server of sealcam: stores sealed media it cannot open. See docs/API.md."),
    modifiers(&BearerAuth),
)]
struct Info;

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
