//! The OpenAPI 3.1 description, generated from the handlers' annotations (utoipa) and served at
//! `/api/v1/openapi.json`.

use std::sync::OnceLock;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::problem::Problem;
use super::{routes, tijdreis};

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "regelbank",
        description = "Publication and version management for official Dutch regulation (STOP/LVBB). \
            Uploads need a bearer token; reads are public. Errors are application/problem+json (RFC 9457) \
            with the melding codes in `code` and `meldingen`. AKN/JOIN identifiers in paths: percent-encoded \
            as one segment, or in their own path form (`/api/v1/regelingen/akn/nl/act/gm9920/2021/Reg1`).",
        license(name = "EUPL-1.2"),
    ),
    paths(
        routes::health,
        routes::metrics,
        routes::openapi,
        routes::post_levering,
        routes::get_levering,
        routes::post_validatie,
        routes::regelingen,
        routes::regeling_pad,
        tijdreis::toestanden_doc,
        routes::diff_doc,
        routes::informatieobjecten,
        routes::informatieobject_pad,
        tijdreis::io_toestanden_doc,
        routes::expressie,
    ),
    components(schemas(Problem, routes::Ontvangen, routes::LeveringStatus, routes::Lijst, routes::WorkDetail, routes::Gezondheid, tijdreis::TijdreisProbleem)),
    modifiers(&Bearer),
    tags(
        (name = "leveringen", description = "Deliveries: upload, status, report, validation"),
        (name = "regelingen", description = "Regelingen, their versions, toestanden, the text in force on a date (time travel) and diffs"),
        (name = "informatieobjecten", description = "Informatieobjecten (GIOs) and their GML"),
        (name = "expressies", description = "One version of a work"),
        (name = "beheer", description = "Health, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// The document as JSON (built once).
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.merge(super::tam::TamDoc::openapi());
        doc.merge(super::zoeken::ZoekDoc::openapi());
        doc.to_pretty_json().expect("the OpenAPI document serialises")
    })
}
