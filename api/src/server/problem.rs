//! Errors as `application/problem+json` (RFC 9457). A problem that comes from meldingen carries
//! them (code, ernst, beschrijving, locatie) in the extension member `meldingen`, and the code
//! of the first one in `code`, so a client can act on the same codes as in a report.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use stop::Melding;
use utoipa::ToSchema;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the HTTP status and `code` say what happened.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Melding code (`LVBB1512`, ...) or a regelbank problem code (`niet-gevonden`, ...).
    pub code: String,
    /// The meldingen behind the problem, as in a report.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub meldingen: Vec<Melding>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Problem {
        Problem {
            type_: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_string(),
            meldingen: Vec::new(),
        }
    }

    /// A problem caused by meldingen: `code` is the first melding's.
    pub fn met_meldingen(status: StatusCode, detail: impl Into<String>, meldingen: Vec<Melding>) -> Problem {
        let code = meldingen.first().map(|m| m.code.clone()).unwrap_or_else(|| "onbekend".into());
        Problem { meldingen, ..Problem::new(status, &code, detail) }
    }

    pub fn not_found(what: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "niet-gevonden", what)
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "ongeldig-verzoek", detail)
    }

    /// A failure of the machine (disk, corrupt store): logged in full, answered briefly.
    pub fn internal(e: impl std::fmt::Display) -> Problem {
        tracing::error!(error = %e, "internal error");
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "interne-fout", format!("internal error: {e}"))
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"regelbank\""));
        }
        r
    }
}

impl From<store::StoreError> for Problem {
    fn from(e: store::StoreError) -> Problem {
        Problem::internal(e)
    }
}

impl From<tokio::task::JoinError> for Problem {
    fn from(e: tokio::task::JoinError) -> Problem {
        Problem::internal(format!("background task failed: {e}"))
    }
}
