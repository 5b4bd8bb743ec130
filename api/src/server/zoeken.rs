//! Full-text search over HTTP: `GET /api/v1/zoeken?q=&geldigOp=&inWerkingOp=&beschikbaarOp=&historisch=&bevoegdGezag=&soort=&work=&tam=&pagina=&perPagina=`,
//! answered by `search::Zoeker::zoek` (the same call as `regelbank search --json`, same JSON).
//!
//! Defaults as in the time-travel routes: `geldigOp` and `beschikbaarOp` today, `inWerkingOp`
//! the `geldigOp` date; `historisch=true` searches every version (dates other than
//! beschikbaarOp are then refused). Bad query syntax, bad dates and bad numbers are 400
//! problem+json (`ongeldige-zoekvraag`, `ongeldig-verzoek`).
//!
//! One `Zoeker` per index directory for the process; it reloads when the index commits. When
//! the index is behind the ledger (an old data directory), a query first brings it up to date
//! (skipped while the ingest worker holds the writer: it is doing just that). Everything runs on
//! the blocking pool.

// Problem is returned by value, as in every handler module.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use search::{Tijdbereik, ZoekFout, Zoeker, Zoekvraag};
use serde::Serialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::AppState;
use super::problem::Problem;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/zoeken", get(zoeken))
}

#[derive(OpenApi)]
#[openapi(
    paths(zoeken),
    components(schemas(ZoekResultaten, ZoekGroep, ZoekTreffer, ZoekPeriode, ZoekFacetten, ZoekFacet)),
    tags((name = "zoeken", description = "Full-text search over every regeling version, on the time axes")),
)]
pub struct ZoekDoc;

/// Query parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ZoekParams {
    /// The query: words (Dutch stemming: `vergunningen` finds `vergunning`), `"phrases"`,
    /// `"a b"~N` (proximity), `prefix*`, `AND`/`OR`/`NOT`, field scopes `titel:`, `kop:`,
    /// `tekst:`, `exact:` (exact form). Words are ANDed.
    q: String,
    /// Text valid on this date (YYYY-MM-DD; default today).
    #[param(rename = "geldigOp")]
    geldig_op: Option<String>,
    /// Text in force on this date (default: the geldigOp date).
    #[param(rename = "inWerkingOp")]
    in_werking_op: Option<String>,
    /// As known (available) on this date (default today).
    #[param(rename = "beschikbaarOp")]
    beschikbaar_op: Option<String>,
    /// Every version: hits per article with the periods in which the matching text applied.
    historisch: Option<bool>,
    #[param(rename = "bevoegdGezag")]
    bevoegd_gezag: Option<String>,
    /// Soort (soortWork of the regeling).
    soort: Option<String>,
    /// Only this regeling (work id).
    work: Option<String>,
    /// Only TAM documents (true) or only STOP regelingen (false).
    tam: Option<bool>,
    /// Page over the regelingen (from 1).
    #[param(minimum = 1)]
    pagina: Option<usize>,
    /// Regelingen per page (1–100, default 10).
    #[param(rename = "perPagina", minimum = 1, maximum = 100)]
    per_pagina: Option<usize>,
}

/// The answer (`search::Resultaten`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ZoekResultaten {
    /// Matching articles (contents, when historisch) over all regelingen.
    totaal_treffers: u64,
    /// Matching regelingen.
    totaal_groepen: u64,
    pagina: usize,
    per_pagina: usize,
    /// Per regeling, ordered by the best hit.
    groepen: Vec<ZoekGroep>,
    facetten: ZoekFacetten,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ZoekGroep {
    werk: String,
    titel: Option<String>,
    bevoegd_gezag: Option<String>,
    soort: Option<String>,
    tam: bool,
    /// The version whose text was searched (not when historisch).
    expressie: Option<String>,
    score: f32,
    aantal_treffers: u64,
    treffers: Vec<ZoekTreffer>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ZoekTreffer {
    /// Artikel, Divisietekst, Bijlage, …
    element: String,
    eid: Option<String>,
    wid: Option<String>,
    kop: String,
    /// HTML: escaped text around the matches, matches in `<mark>`.
    fragment: String,
    score: f32,
    expressies: Vec<String>,
    /// Historisch: the periods in which the matching text applied.
    perioden: Vec<ZoekPeriode>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ZoekPeriode {
    expressie: String,
    vanaf: String,
    /// Exclusive; null: open.
    tot: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ZoekFacetten {
    bevoegd_gezag: Vec<ZoekFacet>,
    soort: Vec<ZoekFacet>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ZoekFacet {
    waarde: String,
    /// Matching regelingen with this value.
    aantal: u64,
}

/// One searcher per index directory.
fn zoeker(dir: PathBuf) -> Result<Arc<Zoeker>, ZoekFout> {
    static Z: OnceLock<Mutex<HashMap<PathBuf, Arc<Zoeker>>>> = OnceLock::new();
    let mut m = Z.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(z) = m.get(&dir) {
        return Ok(z.clone());
    }
    let z = Arc::new(Zoeker::open(&dir)?);
    m.insert(dir, z.clone());
    Ok(z)
}

fn probleem(e: ZoekFout) -> Problem {
    match e {
        ZoekFout::Syntaxis(_) => Problem::new(StatusCode::BAD_REQUEST, "ongeldige-zoekvraag", e.to_string()),
        ZoekFout::Datum { .. } => Problem::bad_request(e.to_string()),
        e => Problem::internal(e),
    }
}

fn vraag(p: &HashMap<String, String>, vandaag: String) -> Result<Zoekvraag, Problem> {
    for k in p.keys() {
        if !matches!(
            k.as_str(),
            "q" | "geldigOp" | "inWerkingOp" | "beschikbaarOp" | "historisch" | "bevoegdGezag" | "soort" | "work" | "tam" | "pagina" | "perPagina"
        ) {
            return Err(Problem::bad_request(format!("onbekende parameter '{k}'")));
        }
    }
    let q = p.get("q").filter(|q| !q.trim().is_empty()).ok_or_else(|| Problem::bad_request("parameter q ontbreekt"))?;
    if q.chars().count() > 1000 {
        return Err(Problem::bad_request("q is langer dan 1000 tekens"));
    }
    let bool_param = |k: &str| -> Result<Option<bool>, Problem> {
        match p.get(k).map(String::as_str) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(v) => Err(Problem::bad_request(format!("{k}: '{v}' is geen true of false"))),
        }
    };
    let getal = |k: &str, max: usize| -> Result<Option<usize>, Problem> {
        match p.get(k) {
            None => Ok(None),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
                _ => Err(Problem::bad_request(format!("{k}: '{v}' is geen getal van 1 tot en met {max}"))),
            },
        }
    };
    let beschikbaar_op = p.get("beschikbaarOp").cloned().unwrap_or_else(|| vandaag.clone());
    let tijd = if bool_param("historisch")? == Some(true) {
        if p.contains_key("geldigOp") || p.contains_key("inWerkingOp") {
            return Err(Problem::bad_request("historisch=true gaat niet samen met geldigOp of inWerkingOp"));
        }
        Tijdbereik::Historisch { beschikbaar_op }
    } else {
        let geldig_op = p.get("geldigOp").cloned().unwrap_or(vandaag);
        let in_werking_op = p.get("inWerkingOp").cloned().unwrap_or_else(|| geldig_op.clone());
        Tijdbereik::Op { geldig_op, in_werking_op, beschikbaar_op }
    };
    let mut v = Zoekvraag::nieuw(q, tijd);
    v.bevoegd_gezag = p.get("bevoegdGezag").cloned();
    v.soort = p.get("soort").cloned();
    v.werk = p.get("work").cloned();
    v.tam = bool_param("tam")?;
    v.pagina = getal("pagina", usize::MAX / 1024)?.unwrap_or(1);
    v.per_pagina = getal("perPagina", 100)?.unwrap_or(10);
    Ok(v)
}

/// Search the text of every regeling version.
#[utoipa::path(
    get, path = "/api/v1/zoeken", tag = "zoeken", params(ZoekParams),
    responses(
        (status = 200, description = "Hits grouped per regeling", body = ZoekResultaten),
        (status = 400, description = "Bad query syntax, date or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn zoeken(State(state): State<AppState>, params: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>) -> Response {
    let p = match params {
        Ok(Query(p)) => p,
        Err(e) => return Problem::bad_request(e.body_text()).into_response(),
    };
    let v = match vraag(&p, state.vandaag()) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let st = state.clone();
    let r = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, Problem> {
        let dir = ingest::zoek::map(&st.store);
        let z = zoeker(dir).map_err(probleem)?;
        let achter = z.watermerk().map_err(probleem)?.is_none_or(|w| w.seq != st.store.last_seq());
        if achter {
            match ingest::zoek::bijwerken(&st.store) {
                Ok(_) | Err(ingest::zoek::ZoekIndexFout::Zoek(ZoekFout::Bezet)) => {}
                Err(e) => tracing::warn!(error = %e, "search index catch-up failed"),
            }
        }
        let r = z.zoek(&v).map_err(probleem)?;
        serde_json::to_vec(&r).map_err(Problem::internal)
    })
    .await;
    match r {
        Ok(Ok(body)) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(Err(p)) => p.into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}
