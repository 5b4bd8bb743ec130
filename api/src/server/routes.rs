//! The endpoints. Every handler answers JSON unless the `Accept` header asks otherwise, and
//! every error is `application/problem+json` ([`Problem`]).
//!
//! **Identifiers in paths.** AKN/JOIN identifiers contain slashes, `@` and `;`. Two forms are
//! accepted wherever a path names a work or an expression:
//!
//! 1. the full identifier percent-encoded as one path segment:
//!    `/api/v1/regelingen/%2Fakn%2Fnl%2Fact%2Fgm9920%2F2021%2FReg1`;
//! 2. the identifier's own path form, its leading slash merged with the route's:
//!    `/api/v1/regelingen/akn/nl/act/gm9920/2021/Reg1`,
//!    `/api/v1/expressies/akn/nl/act/gm9920/2021/Reg1/nld@2021-06-01;1` (`;` and `@` may be
//!    sent as is or as `%3B`/`%40`).
//!
//! Sub-resources follow the identifier: `…/Reg1/diff?van=…&tot=…`, `…/Reg1/toestanden`. In
//! `van`/`tot` a version may be given in full or as the part after the work
//! (`nld@2021-06-01;1`).

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ingest::{IngestResult, Uitkomst};
use serde::{Deserialize, Serialize};
use stop::Melding;
use stop::opdracht::OpdrachtSoort;
use utoipa::{IntoParams, ToSchema};

use super::problem::Problem;
use super::queue::{self, Entry};
use super::tijdreis::{self, TijdreisProbleem};
use super::{AppState, State as AppStateInner, upload};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/leveringen", post(post_levering).layer(DefaultBodyLimit::disable()))
        .route("/api/v1/leveringen/{id}", get(get_levering))
        .route("/api/v1/validaties", post(post_validatie).layer(DefaultBodyLimit::disable()))
        .route("/api/v1/regelingen", get(regelingen))
        .route("/api/v1/regelingen/{*pad}", get(regeling_pad))
        .route("/api/v1/informatieobjecten", get(informatieobjecten))
        .route("/api/v1/informatieobjecten/{*pad}", get(informatieobject_pad))
        .route("/api/v1/expressies/{*expressie}", get(expressie))
        .fallback(|uri: axum::http::Uri| async move {
            // Outside the API a person is looking: the viewer's HTML page.
            if uri.path().starts_with("/api/") || uri.path() == "/api" {
                Problem::not_found("onbekende route; zie /api/v1/openapi.json").into_response()
            } else {
                super::viewer::Fout::niet_gevonden(format!("Er is geen pagina {}.", uri.path())).into_response()
            }
        })
}

/// Routes that receive a package and so have their own deadlines instead of the request timeout.
pub fn is_upload(method: &Method, route: &str) -> bool {
    method == Method::POST && (route == "/api/v1/leveringen" || route == "/api/v1/validaties" || route == "/api/v1/tam")
}

/// Run store work on the blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&AppStateInner) -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    let st = state.clone();
    tokio::task::spawn_blocking(move || f(&st)).await?
}

// ---------------------------------------------------------------------------------------------
// Content negotiation

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Formaat {
    Json,
    Xml,
    Html,
    Gml,
}

impl Formaat {
    fn media(self) -> &'static [&'static str] {
        match self {
            Formaat::Json => &["application/json"],
            Formaat::Xml => &["application/xml", "text/xml"],
            Formaat::Html => &["text/html", "application/xhtml+xml"],
            Formaat::Gml => &["application/gml+xml"],
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Formaat::Json => "application/json",
            Formaat::Xml => "application/xml; charset=utf-8",
            Formaat::Html => "text/html; charset=utf-8",
            Formaat::Gml => "application/gml+xml",
        }
    }
}

/// The offered format the `Accept` header prefers (highest q; on a tie the first offered).
/// Without an acceptable one, the first offered (RFC 9110 allows ignoring Accept).
pub fn kies(headers: &HeaderMap, aangeboden: &[Formaat]) -> Formaat {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return aangeboden[0] };
    let ranges: Vec<(String, f32)> = accept
        .split(',')
        .filter_map(|r| {
            let mut parts = r.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .next()
                .unwrap_or(1.0);
            (!media.is_empty()).then_some((media, q))
        })
        .collect();
    let q_of = |f: Formaat| -> f32 {
        let mut best: Option<(u8, f32)> = None;
        for (m, q) in &ranges {
            let spec = if f.media().contains(&m.as_str()) {
                3
            } else if m.ends_with("/*") && f.media().iter().any(|t| t.starts_with(&m[..m.len() - 1])) {
                2
            } else if m == "*/*" {
                1
            } else {
                continue;
            };
            if best.is_none_or(|(s, _)| spec > s) {
                best = Some((spec, *q));
            }
        }
        best.map(|(_, q)| q).unwrap_or(0.0)
    };
    let mut keuze = aangeboden[0];
    let mut beste = 0.0;
    for f in aangeboden {
        let q = q_of(*f);
        if q > beste {
            keuze = *f;
            beste = q;
        }
    }
    keuze
}

fn met_type(f: Formaat, body: impl Into<Body>) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(f.content_type()))], body.into()).into_response()
}

pub(super) fn json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(b) => (status, met_type(Formaat::Json, b)).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

fn query_fout(e: QueryRejection) -> Problem {
    Problem::bad_request(format!("ongeldige queryparameters: {}", e.body_text()))
}

// ---------------------------------------------------------------------------------------------
// Health, metrics, OpenAPI

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Gezondheid {
    /// Always `ok` when the server answers.
    pub status: String,
    /// Sequence number of the last ledger record.
    pub ledger: u64,
    /// Acknowledged deliveries not yet processed.
    pub wachtrij: u64,
}

/// Liveness and a summary of the store.
#[utoipa::path(get, path = "/health", tag = "beheer", responses((status = 200, body = Gezondheid)))]
pub async fn health(State(state): State<AppState>) -> Response {
    json(StatusCode::OK, &Gezondheid {
        status: "ok".into(),
        ledger: state.store.last_seq(),
        wachtrij: state.metrics.queue_depth.load(std::sync::atomic::Ordering::Relaxed),
    })
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "beheer", responses((status = 200, body = String, content_type = "text/plain; version=0.0.4")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render()).into_response()
}

/// This document (OpenAPI 3.1).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "beheer", responses((status = 200, body = serde_json::Value)))]
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], super::openapi::json()).into_response()
}

// ---------------------------------------------------------------------------------------------
// Leveringen

/// A package upload: the zip as the request body (`application/zip`), or a multipart form
/// whose first file (field `levering`) is the zip.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Zip(#[allow(dead_code)] Vec<u8>);

#[derive(ToSchema)]
pub struct LeveringFormulier {
    #[schema(value_type = String, format = Binary)]
    #[allow(dead_code)]
    pub levering: Vec<u8>,
}

/// The answer to an accepted upload.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ontvangen {
    /// Queue id of the delivery (`lv` + 16 hex digits).
    pub id: String,
    /// `ontvangen`.
    pub status: String,
    /// Where to poll: `/api/v1/leveringen/{id}`.
    pub status_url: String,
}

/// Status and report of a delivery.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeveringStatus {
    /// The id asked for (queue id, ledger sequence number or idLevering).
    pub id: String,
    /// `ontvangen`, `in-behandeling`, `gevalideerd`, `gepubliceerd`, `niet-valide`,
    /// `afgebroken`, `mutatie-voltooid`, `registratie-voltooid`.
    pub status: String,
    pub ontvangen: Option<String>,
    pub verwerkt: Option<String>,
    /// OIN of the aanleveraar.
    pub aanleveraar: Option<String>,
    pub id_levering: Option<String>,
    /// The opdracht's element name (`publicatieOpdracht`, ...).
    pub opdracht: Option<String>,
    /// Ledger sequence number when stored.
    pub seq: Option<u64>,
    /// The same package was delivered (and processed) before; this is its result.
    pub herhaald: bool,
    /// The report: every melding with code, ernst, soort, beschrijving and locatie.
    #[schema(value_type = Vec<Object>)]
    pub meldingen: Vec<Melding>,
    pub works: Vec<String>,
    pub expressions: Vec<String>,
}

pub fn status_van(u: Uitkomst) -> &'static str {
    match u {
        Uitkomst::Valide => "gevalideerd",
        other => other.as_str(),
    }
}

/// Receive a delivery: streamed to disk, checked against the token's mandate, queued.
#[utoipa::path(
    post, path = "/api/v1/leveringen", tag = "leveringen",
    request_body(content(
        (Zip = "application/zip"),
        (LeveringFormulier = "multipart/form-data"),
    ), description = "The STOP delivery package (zip)."),
    responses(
        (status = 202, description = "Acknowledged and durably queued; poll the status URL.", body = Ontvangen,
            headers(("location" = String, description = "The status URL"))),
        (status = 400, description = "Empty or unreadable body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token does not match idAanleveraar or has no mandate for idBevoegdGezag (LVBB1512)", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "Upload too slow", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than --max-upload", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn post_levering(State(state): State<AppState>, req: Request) -> Response {
    match levering_ontvangen(&state, req).await {
        Ok(r) => r,
        Err(p) => {
            state.metrics.upload_refused(p.status);
            p.into_response()
        }
    }
}

fn geen_token() -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "niet-geauthenticeerd", "een geldig bearer-token is nodig (Authorization: Bearer …)")
}

async fn levering_ontvangen(state: &AppState, req: Request) -> Result<Response, Problem> {
    let auth = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(aanleveraar) = state.auth.aanleveraar(auth).cloned() else { return Err(geen_token()) };
    let ontvangen = upload::receive(state, req).await?;
    let id = ontvangen.id.clone();
    let bytes = ontvangen.bytes;
    let oin = aanleveraar.oin.clone();
    let r = blocking(state, move |st| {
        // The mandate (LVBB1512) is checked before acknowledging, when the opdracht is readable.
        // A package without a readable opdracht is queued; its report will say why.
        if let Some(o) = opdracht_van(&ontvangen.path, &st.cfg.limits)
            && let Err(m) = aanleveraar.mandaat(&o)
        {
            st.queue.discard(&ontvangen.id);
            return Err(Problem::met_meldingen(StatusCode::FORBIDDEN, m.beschrijving.clone(), vec![m]));
        }
        let meta = queue::Meta { id: ontvangen.id.clone(), ontvangen: chrono::Utc::now().to_rfc3339(), aanleveraar: oin, bytes };
        st.queue.acknowledge(&meta).map_err(|e| {
            st.queue.discard(&ontvangen.id);
            Problem::internal(e)
        })
    })
    .await;
    r?;
    state.wake.notify_one();
    tracing::info!(%id, bytes, "delivery acknowledged");
    let url = format!("/api/v1/leveringen/{id}");
    let mut resp = json(StatusCode::ACCEPTED, &Ontvangen { id, status: "ontvangen".into(), status_url: url.clone() });
    if let Ok(v) = HeaderValue::from_str(&url) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// The opdracht of a package, when the package and its opdracht.xml are readable.
fn opdracht_van(path: &std::path::Path, limits: &ingest::package::Limits) -> Option<stop::opdracht::Opdracht> {
    let pkg = ingest::package::Package::open(path, limits).ok()?;
    let bytes = pkg.read(ingest::package::OPDRACHT_BESTAND).ok()?;
    stop::opdracht::parse_opdracht(bytes).ok().map(|(o, _)| o)
}

/// Status and report of a delivery; `Accept: application/xml` gives the LVBB response XML.
#[utoipa::path(
    get, path = "/api/v1/leveringen/{id}", tag = "leveringen",
    params(("id" = String, Path, description = "Queue id from the 202 answer (`lv…`), a ledger sequence number, or an idLevering")),
    responses(
        (status = 200, description = "Status and report", content(
            (LeveringStatus = "application/json"),
            (String = "application/xml"),
        )),
        (status = 404, description = "Unknown delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "LVBB response XML asked for a delivery not processed yet", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_levering(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let formaat = kies(&headers, &[Formaat::Json, Formaat::Xml]);
    let r = blocking(&state, move |st| levering_status(st, &id)).await;
    match r {
        Err(p) => p.into_response(),
        Ok((status, xml)) => match formaat {
            Formaat::Xml => match xml {
                Some(x) => met_type(Formaat::Xml, x),
                None => Problem::new(
                    StatusCode::CONFLICT,
                    "nog-niet-verwerkt",
                    format!("levering {} is nog niet verwerkt (status {}); het LVBB-antwoord volgt na verwerking", status.id, status.status),
                )
                .into_response(),
            },
            _ => json(StatusCode::OK, &status),
        },
    }
}

fn lvbb_xml(opdracht: Option<OpdrachtSoort>, id_levering: Option<&str>, tijdstip: &str, uitkomst: Uitkomst, meldingen: &[Melding]) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(tijdstip)
        .map(|t| validator::lvbb_xml::tijdstip(t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| tijdstip.to_string());
    validator::lvbb_xml::verzoek_resultaat(opdracht, id_levering.unwrap_or(""), &t, uitkomst.as_str(), meldingen)
}

fn status_van_resultaat(id: &str, r: &IngestResult) -> LeveringStatus {
    LeveringStatus {
        id: id.to_string(),
        status: status_van(r.uitkomst).into(),
        ontvangen: None,
        verwerkt: None,
        aanleveraar: None,
        id_levering: r.id_levering.clone(),
        opdracht: r.opdracht.map(|o| o.element().to_string()),
        seq: r.seq,
        herhaald: r.herhaald,
        meldingen: r.meldingen.clone(),
        works: r.works.clone(),
        expressions: r.expressions.clone(),
    }
}

/// The status of a delivery and, when final, its LVBB response XML.
fn levering_status(st: &AppStateInner, id: &str) -> Result<(LeveringStatus, Option<String>), Problem> {
    if queue::valid_id(id) {
        return match st.queue.get(id).map_err(Problem::internal)? {
            None => Err(Problem::not_found(format!("geen levering {id}"))),
            Some(Entry::Pending(m)) => {
                let status = if st.is_in_progress(id) { "in-behandeling" } else { "ontvangen" };
                Ok((
                    LeveringStatus {
                        id: id.to_string(),
                        status: status.into(),
                        ontvangen: Some(m.ontvangen),
                        verwerkt: None,
                        aanleveraar: Some(m.aanleveraar),
                        id_levering: None,
                        opdracht: None,
                        seq: None,
                        herhaald: false,
                        meldingen: Vec::new(),
                        works: Vec::new(),
                        expressions: Vec::new(),
                    },
                    None,
                ))
            }
            Some(Entry::Done(d)) => {
                let r = &d.resultaat;
                let xml = lvbb_xml(r.opdracht, r.id_levering.as_deref(), &d.verwerkt, r.uitkomst, &r.meldingen);
                let mut s = status_van_resultaat(id, r);
                s.ontvangen = Some(d.meta.ontvangen.clone());
                s.verwerkt = Some(d.verwerkt.clone());
                s.aanleveraar = Some(d.meta.aanleveraar.clone());
                Ok((s, Some(xml)))
            }
        };
    }
    // A delivery in the ledger (also those ingested with the CLI): by seq or idLevering.
    let seq = match id.parse::<u64>() {
        Ok(s) => Some(s),
        Err(_) => st.store.records()?.into_iter().rev().find(|r| r.rec.id_levering == id).map(|r| r.seq),
    };
    let Some(rec) = seq.map(|s| st.store.record(s)).transpose()?.flatten() else {
        return Err(Problem::not_found(format!("geen levering {id}")));
    };
    let report: Option<ingest::Report> = match rec.rec.report {
        Some(h) => serde_json::from_slice(&st.store.get_blob(&h)?).ok(),
        None => None,
    };
    let uitkomst = report.as_ref().map(|r| r.uitkomst).unwrap_or(Uitkomst::NietValide);
    let meldingen = report.as_ref().map(|r| r.meldingen.clone()).unwrap_or_default();
    let xml = lvbb_xml(report.as_ref().map(|r| r.opdracht), Some(&rec.rec.id_levering), &rec.rec.received_at, uitkomst, &meldingen);
    let status = LeveringStatus {
        id: id.to_string(),
        status: status_van(uitkomst).into(),
        ontvangen: Some(rec.rec.received_at.clone()),
        verwerkt: Some(rec.rec.received_at.clone()),
        aanleveraar: Some(rec.rec.aanleveraar.clone()),
        id_levering: Some(rec.rec.id_levering.clone()),
        opdracht: Some(rec.rec.opdracht.clone()),
        seq: Some(rec.seq),
        herhaald: false,
        meldingen,
        works: rec.rec.effects.works.iter().map(|w| w.work.clone()).collect(),
        expressions: rec.rec.effects.expressions.iter().map(|e| e.expression.clone()).collect(),
    };
    Ok((status, Some(xml)))
}

/// Validate a package synchronously; nothing is stored. History (idLevering use, earlier
/// versions) comes from the store.
#[utoipa::path(
    post, path = "/api/v1/validaties", tag = "leveringen",
    request_body(content(
        (Zip = "application/zip"),
        (LeveringFormulier = "multipart/form-data"),
    ), description = "The STOP delivery package (zip)."),
    responses(
        (status = 200, description = "The report (also for a package that is niet-valide)", content(
            (LeveringStatus = "application/json"),
            (String = "application/xml"),
        )),
        (status = 400, description = "Empty or unreadable body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "Upload too slow", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than --max-upload", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn post_validatie(State(state): State<AppState>, req: Request) -> Response {
    let formaat = kies(req.headers(), &[Formaat::Json, Formaat::Xml]);
    match validatie(&state, req, formaat).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    }
}

async fn validatie(state: &AppState, req: Request, formaat: Formaat) -> Result<Response, Problem> {
    let auth = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if state.auth.aanleveraar(auth).is_none() {
        return Err(geen_token());
    }
    let ontvangen = upload::receive(state, req).await?;
    let _permit = state.validations.acquire().await.map_err(Problem::internal)?;
    let id = ontvangen.id.clone();
    let (r, tijdstip) = blocking(state, move |st| {
        let cfg = st.config();
        let r = ingest::validate(Some(&st.store), &ontvangen.path, &cfg);
        st.queue.discard(&ontvangen.id);
        Ok((r.map_err(Problem::internal)?, cfg.now.to_rfc3339()))
    })
    .await?;
    Ok(match formaat {
        Formaat::Xml => met_type(Formaat::Xml, lvbb_xml(r.opdracht, r.id_levering.as_deref(), &tijdstip, r.uitkomst, &r.meldingen)),
        _ => json(StatusCode::OK, &status_van_resultaat(&id, &r)),
    })
}

// ---------------------------------------------------------------------------------------------
// Regelingen and informatieobjecten

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LijstParams {
    /// Bevoegd gezag: its code (`gm9901`) or OIN.
    pub bevoegd_gezag: Option<String>,
    /// soortWork (`/join/id/stop/work_019`) or the kind (`regeling`).
    pub soort: Option<String>,
    /// Words that must all occur in the title (case-insensitive).
    pub titel: Option<String>,
    /// Page number, from 1 (at most 1,000,000).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Items per page (1-200, default 20).
    #[param(minimum = 1, maximum = 200)]
    pub page_size: Option<u64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagina {
    pub nummer: u64,
    pub grootte: u64,
    pub totaal: u64,
    pub aantal_paginas: u64,
}

#[derive(Serialize, ToSchema)]
pub struct Lijst {
    /// Works: work, kind, soort_work, title, bevoegd_gezag, owner_oin, first_seq, expressions, afgebroken.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<store::WorkView>,
    pub pagina: Pagina,
}

fn lijst(st: &AppStateInner, kind: &str, p: &LijstParams) -> Result<Lijst, Problem> {
    let page = p.page.unwrap_or(1);
    let size = p.page_size.unwrap_or(20);
    if !(1..=1_000_000).contains(&page) || !(1..=200).contains(&size) {
        return Err(Problem::bad_request("page is 1 tot en met 1000000; pageSize is 1 tot en met 200"));
    }
    let woorden: Vec<String> = p.titel.as_deref().unwrap_or("").split_whitespace().map(|w| w.to_lowercase()).collect();
    let works: Vec<store::WorkView> = st
        .store
        .index()
        .works()?
        .into_iter()
        .filter(|w| w.entry.kind == kind)
        .filter(|w| {
            p.bevoegd_gezag.as_deref().is_none_or(|b| {
                w.entry.bevoegd_gezag.as_deref() == Some(b) || w.entry.owner_oin.as_deref() == Some(b)
            })
        })
        .filter(|w| p.soort.as_deref().is_none_or(|s| w.entry.soort_work.as_deref() == Some(s) || w.entry.kind == s))
        .filter(|w| {
            let t = w.entry.title.as_deref().unwrap_or("").to_lowercase();
            woorden.iter().all(|x| t.contains(x.as_str()))
        })
        .collect();
    let totaal = works.len() as u64;
    let items = works.into_iter().skip(((page - 1).saturating_mul(size)) as usize).take(size as usize).collect();
    Ok(Lijst { items, pagina: Pagina { nummer: page, grootte: size, totaal, aantal_paginas: totaal.div_ceil(size) } })
}

/// The regelingen, filtered and paged.
#[utoipa::path(get, path = "/api/v1/regelingen", tag = "regelingen", params(LijstParams),
    responses(
        (status = 200, body = Lijst),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn regelingen(State(state): State<AppState>, q: Result<Query<LijstParams>, QueryRejection>) -> Response {
    lijst_antwoord(state, "regeling", q).await
}

/// The informatieobjecten (GIOs and others), filtered and paged.
#[utoipa::path(get, path = "/api/v1/informatieobjecten", tag = "informatieobjecten", params(LijstParams),
    responses(
        (status = 200, body = Lijst),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn informatieobjecten(State(state): State<AppState>, q: Result<Query<LijstParams>, QueryRejection>) -> Response {
    lijst_antwoord(state, "informatieobject", q).await
}

async fn lijst_antwoord(state: AppState, kind: &'static str, q: Result<Query<LijstParams>, QueryRejection>) -> Response {
    let Query(p) = match q {
        Ok(q) => q,
        Err(e) => return query_fout(e).into_response(),
    };
    match blocking(&state, move |st| lijst(st, kind, &p)).await {
        Ok(l) => json(StatusCode::OK, &l),
        Err(p) => p.into_response(),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TijdreisParams {
    /// The version valid (geldig) on this date (YYYY-MM-DD).
    pub geldig_op: Option<String>,
    /// The version in force (in werking) on this date.
    pub in_werking_op: Option<String>,
    /// As known (beschikbaar) on this date.
    pub beschikbaar_op: Option<String>,
    /// Diff: the old version (full expression id, or the part after the work).
    pub van: Option<String>,
    /// Diff: the new version.
    pub tot: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpressieSamenvatting {
    pub expressie: String,
    pub datum_bekendmaking: Option<String>,
    pub ontwerp: bool,
    pub afgebroken: bool,
    /// Ledger sequence number of the delivery that brought it.
    pub seq: u64,
    /// A consolidated text is stored (regeling versions).
    pub heeft_tekst: bool,
    pub href: String,
}

#[derive(Serialize, ToSchema)]
pub struct WorkDetail {
    /// work, kind, soort_work, title, bevoegd_gezag, owner_oin, first_seq, expressions, afgebroken.
    #[schema(value_type = Object)]
    pub work: store::WorkView,
    pub expressies: Vec<ExpressieSamenvatting>,
}

/// Percent-encode an identifier as one path segment.
pub fn segment(id: &str) -> String {
    let mut s = String::with_capacity(id.len() + 16);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

enum Sub {
    Detail,
    Toestanden,
    Diff,
}

/// Split `pad` (the wildcard, already percent-decoded) into an identifier and a sub-resource.
fn ontleed(st: &AppStateInner, pad: &str) -> Result<(String, Sub), Problem> {
    let id = if pad.starts_with('/') { pad.to_string() } else { format!("/{pad}") };
    let id = id.trim_end_matches('/').to_string();
    if st.store.index().work(&id)?.is_some() {
        return Ok((id, Sub::Detail));
    }
    for (suffix, sub) in [("/toestanden", Sub::Toestanden), ("/diff", Sub::Diff)] {
        if let Some(w) = id.strip_suffix(suffix) {
            return Ok((w.to_string(), sub));
        }
    }
    Ok((id, Sub::Detail))
}

fn work_van(st: &AppStateInner, id: &str, kind: &str) -> Result<store::WorkView, Problem> {
    match st.store.index().work(id)? {
        Some(w) if w.entry.kind == kind => Ok(w),
        Some(w) => Err(Problem::not_found(format!("{id} is geen {kind} maar een {}", w.entry.kind))),
        None => Err(Problem::not_found(format!("onbekend work {id}"))),
    }
}

async fn werk_pad(state: AppState, kind: &'static str, pad: String, q: Result<Query<TijdreisParams>, QueryRejection>, headers: HeaderMap) -> Response {
    let Query(p) = match q {
        Ok(q) => q,
        Err(e) => return query_fout(e).into_response(),
    };
    let r = blocking(&state, move |st| {
        let (id, sub) = ontleed(st, &pad)?;
        let w = work_van(st, &id, kind)?;
        match sub {
            Sub::Toestanden => tijdreis::toestanden(st, &w.entry.work, &p),
            Sub::Diff => diff(st, &w, &p, &headers),
            Sub::Detail if tijdreis::is_tijdreis(&p) => tijdreis::geldend(st, &w.entry.work, &p, &headers),
            Sub::Detail => detail(st, w),
        }
    })
    .await;
    r.unwrap_or_else(|p| p.into_response())
}

fn detail(st: &AppStateInner, w: store::WorkView) -> Result<Response, Problem> {
    let mut expressies = Vec::new();
    for e in st.store.index().expressions_of(&w.entry.work)? {
        expressies.push(ExpressieSamenvatting {
            href: format!("/api/v1/expressies/{}", segment(&e.entry.expression)),
            expressie: e.entry.expression,
            datum_bekendmaking: e.entry.datum_bekendmaking,
            ontwerp: e.entry.ontwerp,
            afgebroken: e.afgebroken,
            seq: e.seq,
            heeft_tekst: e.entry.tekst.is_some(),
        });
    }
    Ok(json(StatusCode::OK, &WorkDetail { work: w, expressies }))
}

/// A regeling (work). Without date parameters: the work and its versions (JSON). With any of
/// geldigOp, inWerkingOp, beschikbaarOp: the text in force (time travel), resolved through the
/// toestanden like `regelbank text WORK --geldig-op …` and answered like
/// `/api/v1/expressies/{expressie}` for that version (JSON tree, STOP XML or HTML by Accept);
/// missing dates default to today (inWerkingOp: the geldigOp date). The headers name the
/// resolved version and its toestand. A toestand without a single version (samenloop not
/// resolved) is 409 with the candidate versions. `van`/`tot` belong to `…/diff`.
/// Sub-resources `…/toestanden` and `…/diff` are documented separately.
#[utoipa::path(get, path = "/api/v1/regelingen/{work}", tag = "regelingen",
    params(("work" = String, Path, description = "The work id, percent-encoded (`%2Fakn%2Fnl%2Fact%2F…`), or its path form (`akn/nl/act/…`)"), TijdreisParams),
    responses(
        (status = 200, description = "Without date parameters: the work and its versions (`WorkDetail`). With them: the \
            version in force, exactly as `/api/v1/expressies/{expressie}` answers it", content(
            (WorkDetail = "application/json"),
            (String = "application/xml"),
            (String = "text/html"),
        ), headers(
            ("content-location" = String, description = "Time travel: `/api/v1/expressies/{expressie}` of the resolved version"),
            ("expressie" = String, description = "Time travel: the resolved version (instrumentversie)"),
            ("juridisch-werkend-vanaf" = String, description = "Time travel: start of the toestand"),
            ("juridisch-werkend-tot" = String, description = "Time travel: start of the next toestand on the juridischWerkend axis at this geldigOp (absent: none follows)"),
            ("geldig-vanaf" = String, description = "Time travel: geldigVanaf of the toestand"),
            ("geldig-tot" = String, description = "Time travel: start of the next toestand on the geldig axis at this inWerkingOp (absent: none follows)"),
            ("inwerkingtredingsdoelen" = String, description = "Time travel: the toestand's doelen, comma-separated"),
            ("bekend-op" = String, description = "Time travel: bekendOp of the knowledge the answer comes from"),
            ("ontvangen-op" = String, description = "Time travel: ontvangenOp of that knowledge"),
        )),
        (status = 400, description = "A date is not YYYY-MM-DD", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown work (`niet-gevonden`); time travel: no toestand then (`geen-toestand`: before the \
            first toestand, or not yet known), or not in force (`niet-in-werking`: ingetrokken); these two carry the members of \
            `TijdreisProbleem` (work, vraag, toestand)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Time travel: the toestand has no single version (`toestand-onvolledig`: samenloop not \
            resolved; `toestand-onbekend`); `kandidaten` names the candidate versions", body = TijdreisProbleem, content_type = "application/problem+json"),
    ))]
pub async fn regeling_pad(
    State(state): State<AppState>,
    Path(pad): Path<String>,
    q: Result<Query<TijdreisParams>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    werk_pad(state, "regeling", pad, q, headers).await
}

/// Compare two versions of a regeling: JSON (structured), HTML (`<ins>`/`<del>`) or STOP XML
/// (the RegelingMutatie with renvooi that turns `van` into `tot`), by Accept.
#[utoipa::path(get, path = "/api/v1/regelingen/{work}/diff", tag = "regelingen",
    params(
        ("work" = String, Path, description = "The work id, percent-encoded or in path form"),
        ("van" = String, Query, description = "Old version: expression id, or the part after the work (`nld@2027-02-25;1`)"),
        ("tot" = String, Query, description = "New version"),
    ),
    responses(
        (status = 200, description = "The differences", content(
            (serde_json::Value = "application/json"),
            (String = "text/html"),
            (String = "application/xml"),
        )),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The versions cannot be compared", body = Problem, content_type = "application/problem+json"),
    ))]
#[allow(dead_code)]
fn diff_doc() {}

fn versie(work: &store::WorkView, v: &str) -> String {
    if v.starts_with('/') { v.to_string() } else { format!("{}/{v}", work.entry.work) }
}

fn lees(st: &AppStateInner, expressie: &str) -> Result<ingest::weergave::Opgeslagen, Problem> {
    ingest::weergave::lees(&st.store, expressie).map_err(|e| match e {
        ingest::weergave::WeergaveFout::Onbekend(_) | ingest::weergave::WeergaveFout::GeenTekst(_) => {
            Problem::not_found(e.to_string())
        }
        other => Problem::internal(other),
    })
}

fn diff(st: &AppStateInner, w: &store::WorkView, p: &TijdreisParams, headers: &HeaderMap) -> Result<Response, Problem> {
    let (Some(van), Some(tot)) = (p.van.as_deref(), p.tot.as_deref()) else {
        return Err(Problem::bad_request("diff vraagt om van= en tot= (twee versies van het work)"));
    };
    let (a, b) = (versie(w, van), versie(w, tot));
    for x in [&a, &b] {
        if !w.expressions.contains(x) {
            return Err(Problem::not_found(format!("{x} is geen versie van {}", w.entry.work)));
        }
    }
    let (va, vb) = (lees(st, &a)?, lees(st, &b)?);
    let fout = |e: stop::tekst::VerschilFout| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "diff-niet-mogelijk", e.to_string());
    Ok(match kies(headers, &[Formaat::Json, Formaat::Html, Formaat::Xml]) {
        Formaat::Html => met_type(Formaat::Html, stop::tekst::vergelijk(&va.tekst, &vb.tekst).map_err(fout)?.html()),
        Formaat::Xml => {
            let m = stop::tekst::maak_mutatie(&va.tekst, &vb.tekst, "regeling", &a, &b).map_err(fout)?;
            met_type(Formaat::Xml, m.to_xml())
        }
        _ => met_type(Formaat::Json, stop::tekst::vergelijk(&va.tekst, &vb.tekst).map_err(fout)?.json()),
    })
}

/// An informatieobject (work) and its versions; GML per version via `/api/v1/expressies/{expressie}`.
/// With geldigOp/inWerkingOp/beschikbaarOp: the version in force (time travel, as for
/// regelingen), answered like `/api/v1/expressies/{expressie}` (metadata as JSON, GML as
/// delivered), with the same headers and problems.
#[utoipa::path(get, path = "/api/v1/informatieobjecten/{work}", tag = "informatieobjecten",
    params(("work" = String, Path, description = "The work id (`/join/id/regdata/…`), percent-encoded or in path form"), TijdreisParams),
    responses(
        (status = 200, description = "The work and its versions; with date parameters the version in force", content(
            (WorkDetail = "application/json"),
            (String = "application/gml+xml"),
        )),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown work; time travel: `geen-toestand` or `niet-in-werking` with the members of \
            `TijdreisProbleem`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The toestand has no single version", body = TijdreisProbleem, content_type = "application/problem+json"),
    ))]
pub async fn informatieobject_pad(
    State(state): State<AppState>,
    Path(pad): Path<String>,
    q: Result<Query<TijdreisParams>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    werk_pad(state, "informatieobject", pad, q, headers).await
}

// ---------------------------------------------------------------------------------------------
// Expressies

/// One version. A regeling version: its consolidated text as a JSON tree (default), STOP XML
/// (`application/xml`, byte for byte as stored) or HTML. An informatieobject version: its GML
/// as delivered (`application/gml+xml` or `application/xml`; JSON gives the metadata). Other
/// expressions (besluiten, kennisgevingen): metadata as JSON, the delivered STOP file as XML.
#[utoipa::path(get, path = "/api/v1/expressies/{expressie}", tag = "expressies",
    params(("expressie" = String, Path, description = "The expression id, percent-encoded (`%2Fakn%2F…%2Fnld%402027-02-25%3B1`) or in path form (`akn/nl/act/…/nld@2027-02-25;1`)")),
    responses(
        (status = 200, description = "The version", content(
            (serde_json::Value = "application/json"),
            (String = "application/xml"),
            (String = "text/html"),
            (String = "application/gml+xml"),
        )),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn expressie(State(state): State<AppState>, Path(pad): Path<String>, headers: HeaderMap) -> Response {
    let id = if pad.starts_with('/') { pad } else { format!("/{pad}") };
    blocking(&state, move |st| expressie_antwoord(st, &id, &headers)).await.unwrap_or_else(|p| p.into_response())
}

pub(super) fn expressie_antwoord(st: &AppStateInner, id: &str, headers: &HeaderMap) -> Result<Response, Problem> {
    let Some(e) = st.store.index().expression(id)? else {
        return Err(Problem::not_found(format!("onbekende expressie {id}")));
    };
    if e.entry.tekst.is_some() {
        let f = kies(headers, &[Formaat::Json, Formaat::Xml, Formaat::Html]);
        if let Some(b) = st.cache.get(id, f) {
            return Ok(met_type(f, b));
        }
        let v = lees(st, id)?;
        let body: Vec<u8> = match f {
            Formaat::Xml => v.xml.into_bytes(),
            Formaat::Html => ingest::weergave::html(&v.expressie, &v.tekst, v.herkomst.as_ref()).into_bytes(),
            _ => serde_json::to_vec(&ingest::weergave::json(&v.expressie, &v.tekst, v.herkomst.as_ref())).map_err(Problem::internal)?,
        };
        let body = axum::body::Bytes::from(body);
        st.cache.put(id, f, body.clone());
        return Ok(met_type(f, body));
    }
    let io = e.entry.kind == "informatieobject";
    let aangeboden: &[Formaat] = if io { &[Formaat::Json, Formaat::Gml, Formaat::Xml] } else { &[Formaat::Json, Formaat::Xml] };
    match kies(headers, aangeboden) {
        Formaat::Json => {
            let mut links = HashMap::new();
            links.insert("work", format!("/api/v1/{}/{}", if io { "informatieobjecten" } else { "regelingen" }, segment(&e.entry.work)));
            Ok(json(StatusCode::OK, &serde_json::json!({ "expressie": e, "links": links })))
        }
        _ if io => {
            let (naam, bytes) = gml(st, &e)?;
            let mut r = met_type(Formaat::Gml, bytes);
            if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{naam}\"")) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            Ok(r)
        }
        _ => {
            let Some(h) = e.entry.blob else { return Err(Problem::not_found(format!("{id} heeft geen aangeleverd bestand"))) };
            Ok(met_type(Formaat::Xml, st.store.get_blob(&h)?))
        }
    }
}

/// The GML file of an informatieobject version, as delivered: the file its
/// AanleveringInformatieObject names, from the same delivery.
fn gml(st: &AppStateInner, e: &store::ExpressionView) -> Result<(String, Vec<u8>), Problem> {
    let geen = || Problem::not_found(format!("{} heeft geen GML-bestand", e.entry.expression));
    let (Some(h), Some(bestand)) = (e.entry.blob, e.entry.file.as_deref()) else { return Err(geen()) };
    let (b, _) = stop::module::parse_bestand(bestand, st.store.get_blob(&h)?).map_err(|_| geen())?;
    let stop::module::Inhoud::InformatieObject(io) = b.inhoud else { return Err(geen()) };
    let Some(naam) = io.bestanden.iter().map(|b| b.bestandsnaam.clone()).find(|n| n.to_ascii_lowercase().ends_with(".gml")) else {
        return Err(geen());
    };
    let Some(rec) = st.store.record(e.seq)? else { return Err(geen()) };
    let Some(f) = rec.rec.files.iter().find(|f| f.name == naam) else { return Err(geen()) };
    Ok((naam, st.store.get_blob(&f.hash)?))
}
