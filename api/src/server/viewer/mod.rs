//! The viewer: server-rendered HTML pages for people, from the same server and data directory as
//! the API. No front-end build step and no JavaScript: every page works with plain links and
//! `<form method="get">`, so every view has a stable URL that can be shared and cited.
//!
//! Routes (identifiers in their path form, as in [`super::routes`]: `/regeling/akn/nl/act/…`,
//! percent-encoded as one segment also works):
//!
//! - `/`: the regelingen (paged with `pagina`) and a search form;
//! - `/zoeken?q=…`: search results (see [`zoeken`]);
//! - `/regeling/{work}?geldigOp=&inWerkingOp=&beschikbaarOp=`: the text that applies on those
//!   dates (defaults: today; `inWerkingOp` the `geldigOp` date) with a table of contents, the
//!   timeline of toestanden as known on `beschikbaarOp` (onvolledig/samenloop explained), every
//!   version (ontwerp too) with the besluit behind it and its procedure status, a form to compare
//!   two versions, and the section for TAM documents;
//! - `/regeling/{work}/vergelijk?van=&naar=`: the differences between two versions (a version
//!   in full or as the part after the work, `nld@2027-04-01;2`);
//! - `/versie/{expression}`: one fixed version of a regeling;
//! - `/besluit/{expression}`: a besluit (or kennisgeving): the versions it delivered and its
//!   procedureverloop;
//! - `/tam/{id}`: a document published through TAM (not consolidated): its metadata, why it is
//!   TAM, the regeling it belongs to, the file as received;
//! - `/bevoegd-gezag/{code}?beschikbaarOp=`: a bevoegd gezag's regelingen and, in a marked
//!   "TAM / tijdelijk deel" section, every TAM document it published as known on
//!   `beschikbaarOp`, also those that belong to no regeling yet;
//! - `/viewer.css`: the one stylesheet, compiled into the binary.
//!
//! Templates are askama (compile-time, HTML auto-escaping) under `api/templates/viewer/`. The
//! regeling text itself is rendered by `ingest::weergave::html_fragment` (which escapes every
//! text and attribute); the table of contents is built here from `ingest::weergave::json`.
//! Store access and rendering run on the blocking pool. Errors are HTML pages with the right
//! status: 400 for a bad date or parameter, 404 for an unknown regeling or version, 422 when two
//! versions cannot be compared.

mod zoeken;

use std::collections::HashMap;
use std::fmt::Write as _;

use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use ingest::tijdreis::{Oplossing, status_nl, uitleg};
use ingest::weergave::Knoop;
use serde::Deserialize;
use store::{ExpressionView, WorkView};
use timetravel::Vraag;
use timetravel::toestanden::Status;

use super::problem::Problem;
use super::{AppState, State as AppStateInner};

/// The stylesheet of every page.
const CSS: &str = include_str!("viewer.css");

/// Regelingen per page on the home page.
const PER_PAGINA: usize = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/viewer.css", get(css))
        .route("/zoeken", get(zoeken::zoeken))
        .route("/regeling/{*pad}", get(regeling))
        .route("/versie/{*pad}", get(versie))
        .route("/besluit/{*pad}", get(besluit))
        .route("/tam/{id}", get(tam))
        .route("/bevoegd-gezag/{naam}", get(bevoegd_gezag))
}

// ---------------------------------------------------------------------------------------------
// Errors as pages

/// An error shown as an HTML page with its status.
#[derive(Debug)]
pub struct Fout {
    status: StatusCode,
    uitleg: String,
}

#[derive(Template)]
#[template(path = "viewer/fout.html")]
struct FoutPagina<'a> {
    titel: &'a str,
    uitleg: &'a str,
}

impl Fout {
    pub fn new(status: StatusCode, uitleg: impl Into<String>) -> Fout {
        Fout { status, uitleg: uitleg.into() }
    }

    pub fn niet_gevonden(uitleg: impl Into<String>) -> Fout {
        Fout::new(StatusCode::NOT_FOUND, uitleg)
    }

    pub fn ongeldig(uitleg: impl Into<String>) -> Fout {
        Fout::new(StatusCode::BAD_REQUEST, uitleg)
    }

    /// A failure of the machine: logged in full, shown briefly.
    pub fn intern(e: impl std::fmt::Display) -> Fout {
        tracing::error!(error = %e, "internal error (viewer)");
        Fout::new(StatusCode::INTERNAL_SERVER_ERROR, "Er ging iets mis bij het lezen van de gegevens. Probeer het later opnieuw.")
    }

    fn titel(&self) -> &'static str {
        match self.status {
            StatusCode::NOT_FOUND => "Niet gevonden",
            StatusCode::BAD_REQUEST => "Ongeldige vraag",
            StatusCode::UNPROCESSABLE_ENTITY => "Niet te vergelijken",
            StatusCode::SERVICE_UNAVAILABLE => "Niet beschikbaar",
            _ => "Interne fout",
        }
    }
}

impl IntoResponse for Fout {
    fn into_response(self) -> Response {
        let body = FoutPagina { titel: self.titel(), uitleg: &self.uitleg }
            .render()
            .unwrap_or_else(|_| format!("<!DOCTYPE html><html lang=\"nl\"><title>Fout</title><p>{}</p></html>", self.status));
        (self.status, Html(body)).into_response()
    }
}

impl From<store::StoreError> for Fout {
    fn from(e: store::StoreError) -> Fout {
        Fout::intern(e)
    }
}

impl From<ingest::IngestError> for Fout {
    fn from(e: ingest::IngestError) -> Fout {
        Fout::intern(e)
    }
}

impl From<askama::Error> for Fout {
    fn from(e: askama::Error) -> Fout {
        Fout::intern(e)
    }
}

impl From<Problem> for Fout {
    fn from(p: Problem) -> Fout {
        Fout::new(p.status_code(), p.detail)
    }
}

/// Run store work and rendering on the blocking pool.
async fn blocking(state: &AppState, f: impl FnOnce(&AppStateInner) -> Result<String, Fout> + Send + 'static) -> Response {
    let st = state.clone();
    let r = match tokio::task::spawn_blocking(move || f(&st)).await {
        Ok(r) => r,
        Err(e) => Err(Fout::intern(format!("background task failed: {e}"))),
    };
    match r {
        Ok(body) => Html(body).into_response(),
        Err(f) => f.into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters, dates, URLs

/// Every query parameter of the viewer (each page reads its own).
#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    pub geldig_op: Option<String>,
    pub in_werking_op: Option<String>,
    pub beschikbaar_op: Option<String>,
    pub van: Option<String>,
    pub naar: Option<String>,
    pub q: Option<String>,
    pub pagina: Option<String>,
    pub historisch: Option<String>,
    pub bevoegd_gezag: Option<String>,
    pub soort: Option<String>,
}

fn params(q: Result<Query<Params>, QueryRejection>) -> Result<Params, Fout> {
    q.map(|Query(p)| p).map_err(|e| Fout::ongeldig(format!("De queryparameters zijn ongeldig: {}", e.body_text())))
}

/// A date parameter: empty (a form's empty field) is absent; otherwise YYYY-MM-DD or 400.
fn datum(label: &str, v: Option<&str>) -> Result<Option<String>, Fout> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => match stop::opdracht::parse_date(s) {
            Some(d) => Ok(Some(d.format("%Y-%m-%d").to_string())),
            None => Err(Fout::ongeldig(format!("'{s}' is geen geldige datum voor '{label}'. Gebruik de vorm JJJJ-MM-DD, bijvoorbeeld 2027-05-01."))),
        },
    }
}

/// A page number (from 1), or 400.
fn pagina(v: Option<&str>) -> Result<usize, Fout> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(1),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
            _ => Err(Fout::ongeldig(format!("'{s}' is geen geldig paginanummer."))),
        },
    }
}

/// An identifier in its path form for a viewer URL: without the leading slash, every byte
/// outside the characters a path segment allows percent-encoded (`/`, `@`, `;` stay readable).
pub fn pad(id: &str) -> String {
    let id = id.strip_prefix('/').unwrap_or(id);
    let mut s = String::with_capacity(id.len() + 8);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/@:;!$'()*,=".contains(&b) {
            s.push(b as char);
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

/// A query parameter value, percent-encoded (`@`, `:`, `/`, `;` stay readable).
pub fn qv(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 8);
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@:/;".contains(&b) {
            s.push(b as char);
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

pub fn regeling_href(work: &str) -> String {
    format!("/regeling/{}", pad(work))
}

pub fn versie_href(expressie: &str) -> String {
    format!("/versie/{}", pad(expressie))
}

pub fn tam_href(id: &str) -> String {
    format!("/tam/{}", pad(id))
}

pub fn bevoegd_gezag_href(naam: &str) -> String {
    format!("/bevoegd-gezag/{}", pad(naam))
}

pub fn besluit_href(expressie: &str) -> String {
    format!("/besluit/{}", pad(expressie))
}

fn regeling_op(work: &str, geldig: &str, in_werking: &str, beschikbaar: &str) -> String {
    format!("{}?geldigOp={geldig}&inWerkingOp={in_werking}&beschikbaarOp={beschikbaar}", regeling_href(work))
}

fn vergelijk_href(work: &str, van: &str, naar: &str) -> String {
    format!("{}/vergelijk?van={}&naar={}", regeling_href(work), qv(van), qv(naar))
}

/// The part of an expression id after its work (`nld@2027-04-01;2`).
fn kort<'a>(work: &str, expressie: &'a str) -> &'a str {
    expressie.strip_prefix(work).and_then(|r| r.strip_prefix('/')).unwrap_or(expressie)
}

use ingest::weergave::{datum_nl, escape as esc};

/// A link with its text.
#[derive(Debug, Clone)]
pub struct Link {
    pub href: String,
    pub tekst: String,
}

/// The Dutch name of a procedure step code (`/join/id/stop/procedure/stap_003` → Ondertekening).
fn stap_naam(code: &str) -> String {
    let code = code.trim();
    validator::regels::kennisgeving::PROCEDURESTAPPEN
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| code.to_string())
}

fn status_klasse(s: Status) -> &'static str {
    match s {
        Status::Compleet => "compleet",
        Status::Onvolledig => "onvolledig",
        Status::Onbekend => "onbekend",
        Status::NietInWerking => "niet-in-werking",
    }
}

// ---------------------------------------------------------------------------------------------
// The stylesheet

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        CSS,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Home

struct RegelingRij {
    href: String,
    titel: String,
    work: String,
    bevoegd_gezag: Option<Link>,
    soort: String,
    versies: usize,
    status: String,
}

#[derive(Template)]
#[template(path = "viewer/home.html")]
struct HomePagina {
    regelingen: Vec<RegelingRij>,
    totaal: usize,
    pagina: usize,
    aantal_paginas: usize,
    vorige: Option<String>,
    volgende: Option<String>,
    /// Every bevoegd gezag with regelingen or TAM documents, with their numbers.
    gezagen: Vec<GezagRij>,
}

struct GezagRij {
    link: Link,
    regelingen: usize,
    tam: usize,
}

async fn home(State(state): State<AppState>, q: Result<Query<Params>, QueryRejection>) -> Response {
    let p = match params(q) {
        Ok(p) => p,
        Err(f) => return f.into_response(),
    };
    blocking(&state, move |st| home_pagina(st, &p)).await
}

fn titel_van(w: &WorkView) -> String {
    w.entry.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| w.entry.work.clone())
}

fn soort_van(w: &WorkView) -> String {
    match w.entry.soort_work.as_deref() {
        Some(s) => format!("{} ({s})", w.entry.kind),
        None => w.entry.kind.clone(),
    }
}

fn home_pagina(st: &AppStateInner, p: &Params) -> Result<String, Fout> {
    let nummer = pagina(p.pagina.as_deref())?;
    let mut werken: Vec<WorkView> = st.store.index().works()?.into_iter().filter(|w| w.entry.kind == "regeling").collect();
    werken.sort_by_cached_key(|w| (titel_van(w).to_lowercase(), w.entry.work.clone()));
    let totaal = werken.len();
    let aantal_paginas = totaal.div_ceil(PER_PAGINA).max(1);
    let mut tellingen: std::collections::BTreeMap<String, (usize, usize)> = std::collections::BTreeMap::new();
    for w in &werken {
        if let Some(bg) = w.entry.bevoegd_gezag.as_deref().filter(|b| !b.is_empty()) {
            tellingen.entry(bg.to_string()).or_default().0 += 1;
        }
    }
    for o in ingest::tam::TamIndex::open(&st.store)?.alle()? {
        tellingen.entry(o.metadata.bevoegd_gezag).or_default().1 += 1;
    }
    let gezagen = tellingen
        .into_iter()
        .map(|(bg, (regelingen, tam))| GezagRij { link: Link { href: bevoegd_gezag_href(&bg), tekst: bg }, regelingen, tam })
        .collect();
    let mut regelingen = Vec::new();
    for w in werken.into_iter().skip((nummer - 1).saturating_mul(PER_PAGINA)).take(PER_PAGINA) {
        let expressies = st.store.index().expressions_of(&w.entry.work)?;
        let definitief = expressies.iter().any(|e| !e.entry.ontwerp && !e.afgebroken);
        let status = if w.afgebroken {
            "publicatie afgebroken"
        } else if definitief {
            "vastgesteld"
        } else if expressies.iter().any(|e| e.entry.ontwerp) {
            "alleen ontwerp"
        } else {
            "geen versies"
        };
        regelingen.push(RegelingRij {
            href: regeling_href(&w.entry.work),
            titel: titel_van(&w),
            bevoegd_gezag: bevoegd_gezag_link(w.entry.bevoegd_gezag.as_deref()),
            soort: soort_van(&w),
            versies: expressies.len(),
            status: status.to_string(),
            work: w.entry.work,
        });
    }
    let link = |n: usize| format!("/?pagina={n}");
    Ok(HomePagina {
        regelingen,
        totaal,
        pagina: nummer,
        aantal_paginas,
        vorige: (nummer > 1).then(|| link(nummer - 1)),
        volgende: (nummer < aantal_paginas).then(|| link(nummer + 1)),
        gezagen,
    }
    .render()?)
}

// ---------------------------------------------------------------------------------------------
// Versions, besluiten and procedures

/// A version of a regeling with what the pages show about it.
struct VersieInfo {
    view: ExpressionView,
    besluit: Option<Link>,
    procedure: String,
}

/// The STOP file (besluit, revisie, …) that delivered a version: the expression of the same
/// delivery whose file is the version's file and that is not itself an instrument version.
fn besluit_van(st: &AppStateInner, e: &ExpressionView, records: &mut HashMap<u64, Option<store::LedgerRecord>>) -> Result<Option<String>, Fout> {
    let rec = match records.get(&e.seq) {
        Some(r) => r.clone(),
        None => {
            let r = st.store.record(e.seq)?;
            records.insert(e.seq, r.clone());
            r
        }
    };
    let Some(rec) = rec else { return Ok(None) };
    let kandidaten = rec.rec.effects.expressions.iter().filter(|x| x.kind != "regeling" && x.kind != "informatieobject");
    let mut eerste = None;
    for x in kandidaten {
        if x.blob.is_some() && x.blob == e.entry.blob {
            return Ok(Some(x.expression.clone()));
        }
        eerste.get_or_insert_with(|| x.expression.clone());
    }
    Ok(eerste)
}

/// A besluit as a link: its title (from its work) and bekendmaking.
fn besluit_link(st: &AppStateInner, expressie: &str) -> Result<Link, Fout> {
    let e = st.store.index().expression(expressie)?;
    let titel = match &e {
        Some(e) => st.store.index().work(&e.entry.work)?.map(|w| titel_van(&w)),
        None => None,
    };
    let mut tekst = titel.unwrap_or_else(|| expressie.to_string());
    if let Some(d) = e.as_ref().and_then(|e| e.entry.datum_bekendmaking.as_deref()) {
        let _ = write!(tekst, " (bekendgemaakt {})", datum_nl(d));
    }
    Ok(Link { href: besluit_href(expressie), tekst })
}

/// The current procedureverloop of a besluit expression, if recorded.
fn procedure_van(st: &AppStateInner, besluit: &str) -> Result<Option<ingest::procedure::Procedure>, Fout> {
    let Some(e) = st.store.index().expression(besluit)? else { return Ok(None) };
    let Some(h) = e.entry.procedure else { return Ok(None) };
    let p = serde_json::from_slice(&st.store.get_blob(&h)?).map_err(Fout::intern)?;
    Ok(Some(p))
}

/// One line about a procedure: its latest completed step.
fn procedure_status(p: &ingest::procedure::Procedure) -> String {
    match p.stappen.iter().rev().find(|s| s.voltooid_op.is_some()).or(p.stappen.last()) {
        Some(s) => match &s.voltooid_op {
            Some(d) => format!("{} op {}", stap_naam(&s.soort_stap), datum_nl(d)),
            None => stap_naam(&s.soort_stap),
        },
        None => "geen stappen bekend".to_string(),
    }
}

fn versies_van(st: &AppStateInner, work: &str) -> Result<Vec<VersieInfo>, Fout> {
    let mut records = HashMap::new();
    let mut uit = Vec::new();
    for e in st.store.index().expressions_of(work)? {
        let besluit = besluit_van(st, &e, &mut records)?;
        let (besluit, procedure) = match besluit {
            Some(b) => {
                let status = match procedure_van(st, &b)? {
                    Some(p) => procedure_status(&p),
                    None => "geen procedureverloop".to_string(),
                };
                (Some(besluit_link(st, &b)?), status)
            }
            None => (None, String::new()),
        };
        let procedure = if e.afgebroken { format!("publicatie afgebroken; {procedure}") } else { procedure };
        uit.push(VersieInfo { view: e, besluit, procedure });
    }
    Ok(uit)
}

fn versie_soort(e: &ExpressionView) -> &'static str {
    match (e.entry.ontwerp, e.afgebroken) {
        (_, true) => "afgebroken",
        (true, false) => "ontwerp",
        (false, false) => "vastgesteld",
    }
}

fn versie_label(work: &str, e: &ExpressionView) -> String {
    let mut s = kort(work, &e.entry.expression).to_string();
    if let Some(d) = &e.entry.datum_bekendmaking {
        let _ = write!(s, " (bekendgemaakt {})", datum_nl(d));
    }
    match versie_soort(e) {
        "vastgesteld" => {}
        soort => {
            let _ = write!(s, " [{soort}]");
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Table of contents and text

struct TocItem {
    eid: String,
    kop: String,
    kinderen: Vec<TocItem>,
}

fn verzamel(k: &Knoop, uit: &mut Vec<TocItem>) {
    for c in &k.kinderen {
        match (&c.eid, &c.kop) {
            (Some(eid), Some(kop)) => {
                let mut item = TocItem { eid: eid.clone(), kop: kop.clone(), kinderen: Vec::new() };
                verzamel(c, &mut item.kinderen);
                uit.push(item);
            }
            _ => verzamel(c, uit),
        }
    }
}

fn toc_html(items: &[TocItem], out: &mut String) {
    out.push_str("<ol>");
    for i in items {
        out.push_str("<li><a href=\"#");
        esc(&i.eid, out);
        out.push_str("\">");
        esc(&i.kop, out);
        out.push_str("</a>");
        if !i.kinderen.is_empty() {
            toc_html(&i.kinderen, out);
        }
        out.push_str("</li>");
    }
    out.push_str("</ol>\n");
}

/// The table of contents (nested lists of links to the eIds) and the text of a version, with
/// headings starting at `h{1 + verschuiving}`.
fn toc_en_tekst(v: &ingest::weergave::Opgeslagen, verschuiving: usize) -> (String, String) {
    let j = ingest::weergave::json(&v.expressie, &v.tekst, v.herkomst.as_ref());
    let mut items = Vec::new();
    if let Some(r) = &j.regeling {
        verzamel(r, &mut items);
    }
    let mut toc = String::new();
    if items.is_empty() {
        toc.push_str("<p class=\"leeg\">Deze tekst heeft geen koppen.</p>");
    } else {
        toc_html(&items, &mut toc);
    }
    (toc, ingest::weergave::html_fragment(&v.tekst, v.herkomst.as_ref(), verschuiving))
}

fn lees(st: &AppStateInner, expressie: &str) -> Result<ingest::weergave::Opgeslagen, Fout> {
    ingest::weergave::lees(&st.store, expressie).map_err(|e| match e {
        ingest::weergave::WeergaveFout::Onbekend(_) => Fout::niet_gevonden(format!("Versie {expressie} bestaat niet.")),
        ingest::weergave::WeergaveFout::GeenTekst(_) => Fout::niet_gevonden(format!("Van versie {expressie} is geen tekst opgeslagen.")),
        other => Fout::intern(other),
    })
}

// ---------------------------------------------------------------------------------------------
// Regeling

/// What the text section shows.
enum Stand {
    Versie {
        expressie: String,
        versie_href: String,
        vanaf: String,
        tot: Option<String>,
        geldig_vanaf: String,
        doelen: Vec<String>,
        besluit: Option<Link>,
        toc: String,
        tekst: String,
    },
    GeenVersie {
        status: &'static str,
        klasse: &'static str,
        uitleg: String,
        vanaf: String,
        kandidaten: Vec<Link>,
    },
    NietInWerking {
        vanaf: String,
    },
    GeenToestand,
}

struct PeriodeRij {
    vanaf: String,
    href: String,
    tot: String,
    geldig_vanaf: String,
    status: &'static str,
    klasse: &'static str,
    uitleg: String,
    versie: Option<Link>,
    doelen: Vec<String>,
    gekozen: bool,
}

struct TijdlijnView {
    bekend_op: String,
    ontvangen_op: String,
    perioden: Vec<PeriodeRij>,
}

struct VersieRij {
    kort: String,
    href: String,
    heeft_tekst: bool,
    bekendgemaakt: String,
    soort: &'static str,
    besluit: Option<Link>,
    procedure: String,
}

struct Optie {
    waarde: String,
    label: String,
}

/// A document published through the TAM route (tijdelijke alternatieve maatregel) for this
/// regeling: shown in its own, marked section, never consolidated into the text.
pub struct TamDocument {
    /// Its page (`/tam/{id}`).
    pub href: String,
    /// The file as received (`/api/v1/tam/{id}/bestand`).
    pub bestand_href: String,
    pub titel: String,
    pub soort: String,
    pub datum: String,
    /// Why it is TAM (not consolidated), in Dutch.
    pub reden: String,
    /// The conforming STOP version that superseded it (as known on beschikbaarOp).
    pub vervangen_door: Option<Link>,
}

/// The TAM documents of `work` as known on `beschikbaar_op`, by bekendmaking date.
fn tam_documenten(st: &AppStateInner, work: &str, beschikbaar_op: &str) -> Result<Vec<TamDocument>, Fout> {
    Ok(ingest::tam::op_tijdlijn(&st.store, work, beschikbaar_op)?.into_iter().map(tam_document).collect())
}

fn tam_document(d: ingest::tam::TamOpTijdlijn) -> TamDocument {
    let werk = d.regeling.as_deref().unwrap_or_default();
    TamDocument {
        href: tam_href(&d.id),
        bestand_href: format!("/api/v1/tam/{}/bestand", pad(&d.id)),
        titel: d.titel,
        soort: d.soort,
        datum: datum_nl(&d.datum_bekendmaking),
        reden: if d.automatisch {
            "automatisch via TAM gepubliceerd: de STOP-levering was niet valide".to_string()
        } else {
            "aangeleverd via de TAM-route".to_string()
        },
        vervangen_door: d.vervangen_door.map(|e| Link { href: versie_href(&e), tekst: kort(werk, &e).to_string() }),
    }
}

#[derive(Template)]
#[template(path = "viewer/regeling.html")]
struct RegelingPagina {
    titel: String,
    work: String,
    regeling_href: String,
    canoniek: String,
    bevoegd_gezag: Option<Link>,
    soort: String,
    afgebroken: bool,
    geldig_op: String,
    geldig_op_nl: String,
    in_werking_op: String,
    beschikbaar_op: String,
    vandaag: String,
    stand: Stand,
    tijdlijn: Option<TijdlijnView>,
    versies: Vec<VersieRij>,
    opties: Vec<Optie>,
    vergelijk_actie: String,
    van: String,
    naar: String,
    tam: Vec<TamDocument>,
}

enum Sub {
    Pagina,
    Vergelijk,
}

/// The regeling named by a wildcard path, and which page of it.
fn regeling_uit_pad(st: &AppStateInner, pad: &str) -> Result<(WorkView, Sub), Fout> {
    let id = format!("/{}", pad.trim_start_matches('/').trim_end_matches('/'));
    let (w, sub) = match st.store.index().work(&id)? {
        Some(w) => (Some(w), Sub::Pagina),
        None => match id.strip_suffix("/vergelijk") {
            Some(work) => (st.store.index().work(work)?, Sub::Vergelijk),
            None => (None, Sub::Pagina),
        },
    };
    let Some(w) = w else {
        let work = match sub {
            Sub::Vergelijk => id.strip_suffix("/vergelijk").unwrap_or(&id),
            Sub::Pagina => &id,
        };
        return Err(Fout::niet_gevonden(format!("Er is geen regeling {work}.")));
    };
    if w.entry.kind != "regeling" {
        return Err(Fout::niet_gevonden(format!("{} is geen regeling maar een {}.", w.entry.work, w.entry.kind)));
    }
    Ok((w, sub))
}

async fn regeling(State(state): State<AppState>, Path(pad): Path<String>, q: Result<Query<Params>, QueryRejection>) -> Response {
    let p = match params(q) {
        Ok(p) => p,
        Err(f) => return f.into_response(),
    };
    blocking(&state, move |st| {
        let (w, sub) = regeling_uit_pad(st, &pad)?;
        match sub {
            Sub::Pagina => regeling_pagina(st, w, &p),
            Sub::Vergelijk => vergelijk_pagina(st, w, &p),
        }
    })
    .await
}

fn regeling_pagina(st: &AppStateInner, w: WorkView, p: &Params) -> Result<String, Fout> {
    let vandaag = st.vandaag();
    let geldig = datum("geldig op", p.geldig_op.as_deref())?.unwrap_or_else(|| vandaag.clone());
    let in_werking = datum("in werking op", p.in_werking_op.as_deref())?.unwrap_or_else(|| geldig.clone());
    let beschikbaar = datum("beschikbaar op", p.beschikbaar_op.as_deref())?.unwrap_or_else(|| vandaag.clone());
    let work = w.entry.work.clone();
    let vraag = Vraag {
        in_werking_op: in_werking.clone(),
        geldig_op: geldig.clone(),
        ontvangen_op: beschikbaar.clone(),
        bekend_op: beschikbaar.clone(),
    };
    let oplossing = st.lezers.met(&st.store, &work, |l| l.los_op(&work, &vraag))?;
    let tijdlijn = st.lezers.met(&st.store, &work, |l| l.tijdlijn(&work, &beschikbaar))?;
    let versies = versies_van(st, &work)?;
    let besluit_bij = |expr: &str| versies.iter().find(|v| v.view.entry.expression == expr).and_then(|v| v.besluit.clone());

    let stand = match oplossing {
        Oplossing::Versie { expressie, antwoord } => {
            let v = lees(st, &expressie)?;
            let (toc, tekst) = toc_en_tekst(&v, 2);
            let t = antwoord.toestand;
            // Until the next period of the timeline (the diagonal inWerkingOp = geldigOp), which
            // is what a reader means by "until"; the answer's own juridisch_werkend_tot holds
            // geldigOp fixed.
            let tot = tijdlijn
                .as_ref()
                .and_then(|tl| tl.perioden.iter().find(|p| p.vanaf == t.juridisch_werkend_vanaf))
                .map(|p| p.tot.clone())
                .unwrap_or(antwoord.juridisch_werkend_tot);
            Stand::Versie {
                versie_href: versie_href(&expressie),
                besluit: besluit_bij(&expressie),
                expressie,
                vanaf: t.juridisch_werkend_vanaf,
                tot,
                geldig_vanaf: t.geldig_vanaf,
                doelen: t.inwerkingtredingsdoelen,
                toc,
                tekst,
            }
        }
        Oplossing::GeenVersie { antwoord, kandidaten } => {
            let inhoud = &antwoord.toestand.inhoud;
            let u = uitleg(inhoud);
            let algemeen = match inhoud.status {
                Status::Onvolledig => "Samenloop: meer dan één besluit wijzigt de regeling met ingang van deze toestand, en er is nog geen versie aangeleverd die al die wijzigingen samenvoegt.",
                Status::Onbekend => "Het bevoegd gezag heeft aangegeven dat de tekst van deze toestand niet bekend is.",
                _ => "Voor deze toestand is geen versie aangeleverd.",
            };
            Stand::GeenVersie {
                status: status_nl(inhoud.status),
                klasse: status_klasse(inhoud.status),
                uitleg: if u.is_empty() { algemeen.to_string() } else { format!("{algemeen} Nog nodig: {u}.") },
                vanaf: antwoord.toestand.juridisch_werkend_vanaf.clone(),
                kandidaten: kandidaten.into_iter().map(|k| Link { href: versie_href(&k), tekst: k }).collect(),
            }
        }
        Oplossing::NietInWerking { antwoord } => Stand::NietInWerking { vanaf: antwoord.toestand.juridisch_werkend_vanaf },
        Oplossing::GeenToestand => Stand::GeenToestand,
    };

    let tijdlijn = tijdlijn.map(|t| TijdlijnView {
        bekend_op: t.bekend_op,
        ontvangen_op: t.ontvangen_op,
        perioden: t
            .perioden
            .into_iter()
            .map(|p| {
                let inhoud = &p.toestand.inhoud;
                let gekozen = p.vanaf.as_str() <= in_werking.as_str() && p.tot.as_deref().is_none_or(|t| in_werking.as_str() < t);
                PeriodeRij {
                    href: regeling_op(&work, &p.vanaf, &p.vanaf, &beschikbaar),
                    tot: p.tot.clone().unwrap_or_else(|| "—".to_string()),
                    geldig_vanaf: p.toestand.geldig_vanaf.clone(),
                    status: status_nl(inhoud.status),
                    klasse: status_klasse(inhoud.status),
                    uitleg: uitleg(inhoud),
                    versie: inhoud.instrumentversie.as_ref().map(|v| Link { href: versie_href(v), tekst: kort(&work, v).to_string() }),
                    doelen: p.toestand.inwerkingtredingsdoelen.clone(),
                    gekozen,
                    vanaf: p.vanaf,
                }
            })
            .collect(),
    });

    let met_tekst: Vec<&VersieInfo> = versies.iter().filter(|v| v.view.entry.tekst.is_some()).collect();
    let opties: Vec<Optie> =
        met_tekst.iter().map(|v| Optie { waarde: kort(&work, &v.view.entry.expression).to_string(), label: versie_label(&work, &v.view) }).collect();
    // Compare by default the version shown with the one before it (the first with the second;
    // without a version shown, the last two).
    let getoond = match &stand {
        Stand::Versie { expressie, .. } => met_tekst.iter().position(|v| &v.view.entry.expression == expressie),
        _ => None,
    };
    let laatste = opties.len().saturating_sub(1);
    let (van_i, naar_i) = match getoond.unwrap_or(laatste) {
        0 => (0, laatste.min(1)),
        i => (i - 1, i),
    };
    let (van, naar) = match (opties.get(van_i), opties.get(naar_i)) {
        (Some(a), Some(b)) => (a.waarde.clone(), b.waarde.clone()),
        _ => (String::new(), String::new()),
    };

    let versie_rijen = versies
        .iter()
        .map(|v| VersieRij {
            kort: kort(&work, &v.view.entry.expression).to_string(),
            href: versie_href(&v.view.entry.expression),
            heeft_tekst: v.view.entry.tekst.is_some(),
            bekendgemaakt: v.view.entry.datum_bekendmaking.as_deref().map(datum_nl).unwrap_or_else(|| "—".to_string()),
            soort: versie_soort(&v.view),
            besluit: v.besluit.clone(),
            procedure: v.procedure.clone(),
        })
        .collect();

    let tam = tam_documenten(st, &work, &beschikbaar)?;
    Ok(RegelingPagina {
        titel: titel_van(&w),
        regeling_href: regeling_href(&work),
        canoniek: regeling_op(&work, &geldig, &in_werking, &beschikbaar),
        bevoegd_gezag: bevoegd_gezag_link(w.entry.bevoegd_gezag.as_deref()),
        soort: soort_van(&w),
        afgebroken: w.afgebroken,
        geldig_op_nl: datum_nl(&geldig),
        geldig_op: geldig,
        in_werking_op: in_werking,
        beschikbaar_op: beschikbaar,
        vandaag,
        stand,
        tijdlijn,
        versies: versie_rijen,
        vergelijk_actie: format!("{}/vergelijk", regeling_href(&work)),
        opties,
        van,
        naar,
        tam,
        work,
    }
    .render()?)
}

// ---------------------------------------------------------------------------------------------
// Comparing two versions

struct DeelView {
    /// 0 kept, 1 added, 2 removed.
    soort: u8,
    tekst: String,
}

struct BlokView {
    klasse: &'static str,
    pad: String,
    delen: Vec<DeelView>,
}

struct EenheidView {
    titel: String,
    soorten: String,
    element: String,
    wid: String,
    eid: Option<(String, String)>,
    verplaatst: Option<String>,
    blokken: Vec<BlokView>,
}

#[derive(Template)]
#[template(path = "viewer/vergelijk.html")]
struct VergelijkPagina {
    titel: String,
    regeling_href: String,
    href: String,
    actie: String,
    van: String,
    naar: String,
    van_href: String,
    naar_href: String,
    opties: Vec<Optie>,
    toegevoegd: usize,
    verwijderd: usize,
    gewijzigd: usize,
    verplaatst: usize,
    hernummerd: usize,
    model: Option<String>,
    buiten: bool,
    eenheden: Vec<EenheidView>,
}

fn vergelijk_pagina(st: &AppStateInner, w: WorkView, p: &Params) -> Result<String, Fout> {
    use stop::tekst::diff::{BlokSoort, DeelSoort, Wijziging};
    let work = w.entry.work.clone();
    let (Some(van), Some(naar)) = (p.van.as_deref().map(str::trim).filter(|s| !s.is_empty()), p.naar.as_deref().map(str::trim).filter(|s| !s.is_empty()))
    else {
        return Err(Fout::ongeldig("Kies twee versies om te vergelijken (parameters 'van' en 'naar')."));
    };
    let volledig = |v: &str| if v.starts_with('/') { v.to_string() } else { format!("{work}/{v}") };
    let (a, b) = (volledig(van), volledig(naar));
    for x in [&a, &b] {
        if !w.expressions.contains(x) {
            return Err(Fout::niet_gevonden(format!("{x} is geen versie van {work}.")));
        }
    }
    let (va, vb) = (lees(st, &a)?, lees(st, &b)?);
    let verschil = stop::tekst::vergelijk(&va.tekst, &vb.tekst)
        .map_err(|e| Fout::new(StatusCode::UNPROCESSABLE_ENTITY, format!("Deze versies zijn niet te vergelijken: {e}")))?;
    let opties = st
        .store
        .index()
        .expressions_of(&work)?
        .into_iter()
        .filter(|e| e.entry.tekst.is_some())
        .map(|e| Optie { waarde: kort(&work, &e.entry.expression).to_string(), label: versie_label(&work, &e) })
        .collect();
    let eenheden = verschil
        .eenheden
        .iter()
        .map(|e| EenheidView {
            titel: e.kop_wordt.as_deref().or(e.kop_was.as_deref()).filter(|k| !k.is_empty()).unwrap_or(&e.element).to_string(),
            soorten: e.wijzigingen.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(", "),
            element: e.element.clone(),
            wid: e.wid.clone(),
            eid: match (&e.eid_was, &e.eid_wordt) {
                (Some(x), Some(y)) if x != y => Some((x.clone(), y.clone())),
                _ => None,
            },
            verplaatst: e.wijzigingen.contains(&Wijziging::Verplaatst).then(|| {
                let o = |x: &Option<String>| x.clone().unwrap_or_else(|| "de regeling".to_string());
                format!("verplaatst van {} naar {}", o(&e.ouder_was), o(&e.ouder_wordt))
            }),
            blokken: e
                .tekst
                .iter()
                .map(|b| BlokView {
                    klasse: match b.soort {
                        BlokSoort::Gelijk => "gelijk",
                        BlokSoort::Gewijzigd => "gewijzigd",
                        BlokSoort::Toegevoegd => "toegevoegd",
                        BlokSoort::Verwijderd => "verwijderd",
                    },
                    pad: b.pad.clone(),
                    delen: b
                        .delen
                        .iter()
                        .map(|d| DeelView {
                            soort: match (b.soort, d.soort) {
                                (BlokSoort::Toegevoegd, _) | (_, DeelSoort::Toegevoegd) => 1,
                                (BlokSoort::Verwijderd, _) | (_, DeelSoort::Verwijderd) => 2,
                                _ => 0,
                            },
                            tekst: d.tekst.clone(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let s = verschil.samenvatting;
    let (van_kort, naar_kort) = (kort(&work, &a).to_string(), kort(&work, &b).to_string());
    Ok(VergelijkPagina {
        titel: titel_van(&w),
        regeling_href: regeling_href(&work),
        href: vergelijk_href(&work, &van_kort, &naar_kort),
        actie: format!("{}/vergelijk", regeling_href(&work)),
        van_href: versie_href(&a),
        naar_href: versie_href(&b),
        van: van_kort,
        naar: naar_kort,
        opties,
        toegevoegd: s.toegevoegd,
        verwijderd: s.verwijderd,
        gewijzigd: s.gewijzigd,
        verplaatst: s.verplaatst,
        hernummerd: s.hernummerd,
        model: (verschil.model_was != verschil.model_wordt)
            .then(|| format!("Het tekstmodel wijzigt van {} naar {}.", verschil.model_was, verschil.model_wordt)),
        buiten: verschil.buiten_eenheden_gewijzigd,
        eenheden,
    }
    .render()?)
}

// ---------------------------------------------------------------------------------------------
// One version

#[derive(Template)]
#[template(path = "viewer/versie.html")]
struct VersiePagina {
    titel: String,
    regeling_href: String,
    href: String,
    expressie: String,
    kort: String,
    bekendgemaakt: String,
    soort: &'static str,
    besluit: Option<Link>,
    api_href: String,
    vorige: Option<Link>,
    toc: String,
    tekst: String,
}

async fn versie(State(state): State<AppState>, Path(pad): Path<String>) -> Response {
    blocking(&state, move |st| versie_pagina(st, &format!("/{}", pad.trim_start_matches('/')))).await
}

fn versie_pagina(st: &AppStateInner, id: &str) -> Result<String, Fout> {
    let Some(e) = st.store.index().expression(id)? else {
        return Err(Fout::niet_gevonden(format!("Er is geen versie {id}.")));
    };
    if e.entry.kind != "regeling" || e.entry.tekst.is_none() {
        return Err(Fout::niet_gevonden(format!("{id} is geen regelingversie met tekst.")));
    }
    let work = e.entry.work.clone();
    let w = st.store.index().work(&work)?.ok_or_else(|| Fout::niet_gevonden(format!("Er is geen regeling {work}.")))?;
    let v = lees(st, id)?;
    let (toc, tekst) = toc_en_tekst(&v, 2);
    let besluit = match besluit_van(st, &e, &mut HashMap::new())? {
        Some(b) => Some(besluit_link(st, &b)?),
        None => None,
    };
    let eerdere: Vec<ExpressionView> = st
        .store
        .index()
        .expressions_of(&work)?
        .into_iter()
        .take_while(|x| x.entry.expression != id)
        .filter(|x| x.entry.tekst.is_some())
        .collect();
    let vorige = eerdere.last().map(|x| Link {
        href: vergelijk_href(&work, kort(&work, &x.entry.expression), kort(&work, id)),
        tekst: format!("vergelijk met de vorige versie ({})", kort(&work, &x.entry.expression)),
    });
    Ok(VersiePagina {
        titel: titel_van(&w),
        regeling_href: regeling_href(&work),
        href: versie_href(id),
        expressie: id.to_string(),
        kort: kort(&work, id).to_string(),
        bekendgemaakt: e.entry.datum_bekendmaking.as_deref().map(datum_nl).unwrap_or_else(|| "—".to_string()),
        soort: versie_soort(&e),
        besluit,
        api_href: format!("/api/v1/expressies/{}", pad(id)),
        vorige,
        toc,
        tekst,
    }
    .render()?)
}

// ---------------------------------------------------------------------------------------------
// Besluit

struct ProcedureView {
    status: String,
    bekend_op: Option<String>,
    stappen: Vec<(String, String)>,
    gewijzigd_door: Vec<Link>,
}

#[derive(Template)]
#[template(path = "viewer/besluit.html")]
struct BesluitPagina {
    titel: String,
    href: String,
    expressie: String,
    soort: String,
    ontwerp: bool,
    bekendgemaakt: String,
    afgebroken: bool,
    seq: u64,
    xml_href: Option<String>,
    versies: Vec<Link>,
    procedure: Option<ProcedureView>,
}

async fn besluit(State(state): State<AppState>, Path(pad): Path<String>) -> Response {
    blocking(&state, move |st| besluit_pagina(st, &format!("/{}", pad.trim_start_matches('/')))).await
}

fn besluit_pagina(st: &AppStateInner, id: &str) -> Result<String, Fout> {
    let Some(e) = st.store.index().expression(id)? else {
        return Err(Fout::niet_gevonden(format!("Er is geen besluit {id}.")));
    };
    if e.entry.kind == "regeling" || e.entry.kind == "informatieobject" {
        return Err(Fout::niet_gevonden(format!("{id} is geen besluit maar een {}versie.", e.entry.kind)));
    }
    let titel = st.store.index().work(&e.entry.work)?.map(|w| titel_van(&w)).unwrap_or_else(|| id.to_string());
    let mut versies = Vec::new();
    if let Some(rec) = st.store.record(e.seq)? {
        for x in &rec.rec.effects.expressions {
            if x.kind == "regeling" && x.blob.is_some() && x.blob == e.entry.blob {
                versies.push(Link { href: versie_href(&x.expression), tekst: x.expression.clone() });
            }
        }
    }
    let procedure = procedure_van(st, id)?.map(|p| ProcedureView {
        status: procedure_status(&p),
        bekend_op: p.bekend_op.clone(),
        stappen: p
            .stappen
            .iter()
            .map(|s| (stap_naam(&s.soort_stap), s.voltooid_op.as_deref().map(datum_nl).unwrap_or_else(|| "—".to_string())))
            .collect(),
        gewijzigd_door: p.gewijzigd_door.iter().map(|k| Link { href: besluit_href(k), tekst: k.clone() }).collect(),
    });
    Ok(BesluitPagina {
        titel,
        href: besluit_href(id),
        expressie: id.to_string(),
        soort: e.entry.kind.clone(),
        ontwerp: e.entry.ontwerp,
        bekendgemaakt: e.entry.datum_bekendmaking.as_deref().map(datum_nl).unwrap_or_else(|| "—".to_string()),
        afgebroken: e.afgebroken,
        seq: e.seq,
        xml_href: e.entry.blob.map(|_| format!("/api/v1/expressies/{}", pad(id))),
        versies,
        procedure,
    }
    .render()?)
}

/// The link to a bevoegd gezag's page, for a non-empty name.
fn bevoegd_gezag_link(naam: Option<&str>) -> Option<Link> {
    naam.map(str::trim).filter(|n| !n.is_empty()).map(|n| Link { href: bevoegd_gezag_href(n), tekst: n.to_string() })
}

// ---------------------------------------------------------------------------------------------
// A bevoegd gezag: its regelingen and its TAM documents (tijdelijk deel)

#[derive(Template)]
#[template(path = "viewer/bevoegd_gezag.html")]
struct GezagPagina {
    naam: String,
    href: String,
    /// The OINs it delivered its regelingen with.
    oins: Vec<String>,
    beschikbaar_op: String,
    beschikbaar_op_nl: String,
    regelingen: Vec<RegelingRij>,
    tam: Vec<GezagTam>,
}

/// A TAM document on a bevoegd gezag's page, with the regeling it belongs to (if any).
struct GezagTam {
    document: TamDocument,
    regeling: Option<Link>,
}

async fn bevoegd_gezag(State(state): State<AppState>, Path(naam): Path<String>, q: Result<Query<Params>, QueryRejection>) -> Response {
    let p = match params(q) {
        Ok(p) => p,
        Err(f) => return f.into_response(),
    };
    blocking(&state, move |st| gezag_pagina(st, naam.trim(), &p)).await
}

fn gezag_pagina(st: &AppStateInner, naam: &str, p: &Params) -> Result<String, Fout> {
    let beschikbaar = datum("beschikbaar op", p.beschikbaar_op.as_deref())?.unwrap_or_else(|| st.vandaag());
    let werken = st.store.index().works()?;
    let mut eigen: Vec<&WorkView> = werken
        .iter()
        .filter(|w| w.entry.kind == "regeling")
        .filter(|w| w.entry.bevoegd_gezag.as_deref() == Some(naam) || w.entry.owner_oin.as_deref() == Some(naam))
        .collect();
    eigen.sort_by_cached_key(|w| (titel_van(w).to_lowercase(), w.entry.work.clone()));
    let mut oins: Vec<String> = eigen.iter().filter_map(|w| w.entry.owner_oin.clone()).filter(|o| o != naam).collect();
    oins.sort();
    oins.dedup();
    let namen: Vec<&str> = std::iter::once(naam).chain(oins.iter().map(String::as_str)).collect();
    let docs = ingest::tam::van_bevoegd_gezag_op(&st.store, &namen, &beschikbaar)?;
    if eigen.is_empty() && docs.is_empty() && ingest::tam::TamIndex::open(&st.store)?.van_bevoegd_gezag(naam)?.is_empty() {
        return Err(Fout::niet_gevonden(format!("Er zijn geen regelingen of TAM-documenten van bevoegd gezag {naam}.")));
    }
    let mut regelingen = Vec::with_capacity(eigen.len());
    for w in eigen {
        let expressies = st.store.index().expressions_of(&w.entry.work)?;
        regelingen.push(RegelingRij {
            href: regeling_href(&w.entry.work),
            titel: titel_van(w),
            work: w.entry.work.clone(),
            bevoegd_gezag: None,
            soort: soort_van(w),
            versies: expressies.len(),
            status: String::new(),
        });
    }
    let mut tam = Vec::with_capacity(docs.len());
    for d in docs {
        let regeling = match d.regeling.as_deref() {
            Some(r) => {
                let titel = werken.iter().find(|w| w.entry.work == r).map(titel_van).unwrap_or_else(|| r.to_string());
                Some(Link { href: regeling_href(r), tekst: titel })
            }
            None => None,
        };
        tam.push(GezagTam { document: tam_document(d), regeling });
    }
    Ok(GezagPagina {
        href: bevoegd_gezag_href(naam),
        naam: naam.to_string(),
        oins,
        beschikbaar_op_nl: datum_nl(&beschikbaar),
        beschikbaar_op: beschikbaar,
        regelingen,
        tam,
    }
    .render()?)
}

// ---------------------------------------------------------------------------------------------
// TAM document

#[derive(Template)]
#[template(path = "viewer/tam.html")]
struct TamPagina {
    id: String,
    href: String,
    titel: String,
    soort: String,
    bevoegd_gezag: Option<Link>,
    bekendgemaakt: String,
    ontvangen: String,
    regeling: Option<Link>,
    redenen: Vec<String>,
    fouten: Vec<String>,
    bestand: String,
    bestand_href: String,
    mediatype: String,
    grootte: u64,
    vervangen_door: Option<Link>,
    api_href: String,
}

async fn tam(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    blocking(&state, move |st| tam_pagina(st, &id)).await
}

fn tam_pagina(st: &AppStateInner, id: &str) -> Result<String, Fout> {
    let Some(o) = ingest::tam::TamIndex::open(&st.store)?.get(id)? else {
        return Err(Fout::niet_gevonden(format!("Er is geen TAM-document {id}.")));
    };
    let regeling = match &o.metadata.regeling {
        Some(w) => {
            let titel = st.store.index().work(w)?.map(|w| titel_van(&w)).unwrap_or_else(|| w.clone());
            Some(Link { href: regeling_href(w), tekst: titel })
        }
        None => None,
    };
    let werk = o.metadata.regeling.clone().unwrap_or_default();
    Ok(TamPagina {
        href: tam_href(&o.id),
        titel: o.metadata.titel.clone(),
        soort: o.metadata.soort.clone(),
        bevoegd_gezag: bevoegd_gezag_link(Some(&o.metadata.bevoegd_gezag)),
        bekendgemaakt: datum_nl(&o.metadata.datum_bekendmaking),
        ontvangen: o.ontvangen.clone(),
        regeling,
        redenen: o.redenen.clone(),
        fouten: o.fouten.clone(),
        bestand: o.bestand.naam.clone(),
        bestand_href: format!("/api/v1/tam/{}/bestand", pad(&o.id)),
        mediatype: o.bestand.mediatype.clone(),
        grootte: o.bestand.grootte,
        vervangen_door: o.vervangen_door.as_ref().map(|v| Link { href: versie_href(&v.expressie), tekst: kort(&werk, &v.expressie).to_string() }),
        api_href: format!("/api/v1/tam/{}", pad(&o.id)),
        id: o.id,
    }
    .render()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_identifiers_readable_and_encode_the_rest() {
        assert_eq!(pad("/akn/nl/act/gm9901/2027/Reg/nld@2027-04-01;2"), "akn/nl/act/gm9901/2027/Reg/nld@2027-04-01;2");
        assert_eq!(pad("/a b/<x>?#%"), "a%20b/%3Cx%3E%3F%23%25");
        assert_eq!(qv("nld@2027-04-01;2"), "nld@2027-04-01;2");
        assert_eq!(qv("a&b=c+d e"), "a%26b%3Dc%2Bd%20e");
    }

    #[test]
    fn dates_empty_valid_and_invalid() {
        assert_eq!(datum("x", None).unwrap(), None);
        assert_eq!(datum("x", Some("  ")).unwrap(), None);
        assert_eq!(datum("x", Some("2027-05-01")).unwrap().as_deref(), Some("2027-05-01"));
        assert_eq!(datum("x", Some("2027-13-01")).unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(datum("x", Some("<script>")).unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(datum_nl("2027-04-08"), "8 april 2027");
    }
}
