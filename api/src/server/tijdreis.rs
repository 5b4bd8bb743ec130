//! Time travel over HTTP: `GET …/{work}/toestanden[?beschikbaarOp=]` (the timeline of toestanden
//! as known then, exactly as `regelbank toestanden --json`) and `GET …/{work}?geldigOp=&inWerkingOp=&beschikbaarOp=`
//! (the version in force, resolved by `ingest::tijdreis::Lezer::los_op` like `regelbank text
//! WORK --geldig-op …`, answered as `/api/v1/expressies/{expressie}` answers that version).
//!
//! Defaults as in the CLI: `geldigOp` and `beschikbaarOp` today (the server's `--today`, or the
//! local date), `inWerkingOp` the `geldigOp` date. A work path *without* any of the three
//! parameters keeps answering the work and its versions; one date parameter switches to time
//! travel.
//!
//! Answers for the version in force: 200 with the version's body (byte for byte the
//! `/expressies` body) and headers naming what was resolved: `Content-Location` (the version's
//! URL), `Expressie`, `Juridisch-Werkend-Vanaf` and `Geldig-Vanaf` (the toestand's start),
//! `Juridisch-Werkend-Tot` (the next toestand's start on the juridischWerkend axis at this
//! geldigOp) and `Geldig-Tot` (the same on the geldig axis at this inWerkingOp; both absent when
//! nothing follows: the answer holds up to there),
//! `Inwerkingtredingsdoelen` (comma-separated), `Bekend-Op` and `Ontvangen-Op` (the knowledge the
//! answer comes from). Without a single version: problem+json ([`TijdreisProbleem`]) with the
//! question, the toestand and the candidate versions: 409 `toestand-onvolledig` /
//! `toestand-onbekend` / `toestand-zonder-versie`; 404 `niet-in-werking` (ingetrokken) and
//! 404 `geen-toestand` (before the first toestand, or nothing known yet).
//!
//! **Readers.** A [`Lezer`] catches the engine state up with the ledger and loads a work's state
//! from the store's derived space; the server keeps one per work ([`Lezers`]) until the ledger
//! moves on (any new record drops them all: an accepted delivery or an afbreken can change any
//! toestand). Lookups then cost microseconds; they run on the blocking pool like every store read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ingest::IngestError;
use ingest::tijdreis::{Antwoord, Lezer, Oplossing, status_nl, uitleg};
use serde::Serialize;
use store::Store;
use timetravel::Vraag;
use timetravel::toestanden::Status;
use utoipa::ToSchema;

use super::State as AppStateInner;
use super::problem::{CONTENT_TYPE, Problem};
use super::routes::{TijdreisParams, expressie_antwoord, segment};

/// Works whose reader is kept at most; beyond, the readers start over.
const MAX_WERKEN: usize = 16_384;

/// One engine reader per work, valid for one ledger sequence number.
#[derive(Default)]
pub struct Lezers {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    seq: u64,
    werken: HashMap<String, Arc<Mutex<Lezer>>>,
}

impl Lezers {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` with the reader of `work`, current with the ledger. Blocking.
    pub fn met<T>(
        &self,
        store: &Store,
        work: &str,
        f: impl FnOnce(&mut Lezer) -> Result<T, IngestError>,
    ) -> Result<T, IngestError> {
        // The sequence number is read before opening: a reader opened while the ledger moves on
        // is at least as new as its tag, and the next request with the newer seq drops it.
        let seq = store.last_seq();
        let bestaand = {
            let mut c = self.lock();
            if c.seq != seq {
                c.werken.clear();
                c.seq = seq;
            }
            c.werken.get(work).cloned()
        };
        let lezer = match bestaand {
            Some(l) => l,
            None => {
                let l = Arc::new(Mutex::new(Lezer::open(store)?));
                let mut c = self.lock();
                if c.seq == seq {
                    if c.werken.len() >= MAX_WERKEN {
                        c.werken.clear();
                    }
                    c.werken.entry(work.to_string()).or_insert(l).clone()
                } else {
                    l
                }
            }
        };
        let mut g = lezer.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }
}

/// A date parameter (YYYY-MM-DD), or 400.
fn datum(naam: &str, v: Option<&str>) -> Result<Option<String>, Problem> {
    match v {
        None => Ok(None),
        Some(s) => match stop::opdracht::parse_date(s) {
            Some(d) => Ok(Some(d.format("%Y-%m-%d").to_string())),
            None => Err(Problem::bad_request(format!("{naam}: '{s}' is geen datum JJJJ-MM-DD"))),
        },
    }
}

fn intern(e: IngestError) -> Problem {
    Problem::internal(e)
}

/// Whether the query asks for time travel (any of geldigOp, inWerkingOp, beschikbaarOp).
pub fn is_tijdreis(p: &TijdreisParams) -> bool {
    p.geldig_op.is_some() || p.in_werking_op.is_some() || p.beschikbaar_op.is_some()
}

/// `…/{work}/toestanden`: the timeline as known on `beschikbaarOp` (default today), the JSON of
/// `regelbank toestanden --json` (`Lezer::tijdlijn`).
pub fn toestanden(st: &AppStateInner, work: &str, p: &TijdreisParams) -> Result<Response, Problem> {
    let op = datum("beschikbaarOp", p.beschikbaar_op.as_deref())?.unwrap_or_else(|| st.vandaag());
    let tl = st.lezers.met(&st.store, work, |l| l.tijdlijn(work, &op)).map_err(intern)?;
    match tl {
        Some(tl) => {
            // TAM documents of the regeling, at their bekendmaking date (never toestanden).
            let mut v = serde_json::to_value(&tl).map_err(Problem::internal)?;
            v["tam"] = serde_json::to_value(ingest::tam::op_tijdlijn(&st.store, work, &op).map_err(intern)?).map_err(Problem::internal)?;
            Ok(super::routes::json(StatusCode::OK, &v))
        }
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "geen-toestanden",
            format!("er zijn geen toestanden van {work} bekend (beschikbaar op {op})"),
        )),
    }
}

/// The question of a time-travel request, with its defaults.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TijdreisVraag {
    pub geldig_op: String,
    pub in_werking_op: String,
    pub beschikbaar_op: String,
}

/// A candidate version of a toestand without one.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Kandidaat {
    pub expressie: String,
    /// `/api/v1/expressies/{expressie}`.
    pub href: String,
}

/// The problem document of a time-travel question without a single version: RFC 9457 plus the
/// question, the toestand found (the engine's form, as in `…/toestanden`) and the candidate
/// versions.
#[derive(Serialize, ToSchema)]
pub struct TijdreisProbleem {
    #[serde(flatten)]
    pub problem: Problem,
    pub work: String,
    pub vraag: TijdreisVraag,
    /// The toestand that answers the question (absent for `geen-toestand`): `toestand`
    /// (juridisch_werkend_vanaf, geldig_vanaf, inwerkingtredingsdoelen, inhoud with status,
    /// instrumentversie, te_verwerken, te_ontvlechten, tegensprekend), `juridisch_werkend_tot`,
    /// `geldig_tot`, `ontvangen_op`, `bekend_op`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub toestand: Option<Antwoord>,
    /// For an onvolledig or onbekend toestand: the latest version of each doel involved.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kandidaten: Vec<Kandidaat>,
}

impl IntoResponse for TijdreisProbleem {
    fn into_response(self) -> Response {
        let status = self.problem.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], body).into_response()
    }
}

fn zet(h: &mut HeaderMap, naam: &'static str, waarde: Option<&str>) {
    if let Some(v) = waarde.and_then(|v| HeaderValue::from_str(v).ok()) {
        h.insert(HeaderName::from_static(naam), v);
    }
}

/// `…/{work}?geldigOp=&inWerkingOp=&beschikbaarOp=`: the version in force, as `/expressies`
/// answers it, with the toestand in the headers; or a [`TijdreisProbleem`].
pub fn geldend(st: &AppStateInner, work: &str, p: &TijdreisParams, headers: &HeaderMap) -> Result<Response, Problem> {
    let vandaag = st.vandaag();
    let geldig = datum("geldigOp", p.geldig_op.as_deref())?.unwrap_or_else(|| vandaag.clone());
    let in_werking = datum("inWerkingOp", p.in_werking_op.as_deref())?.unwrap_or_else(|| geldig.clone());
    let beschikbaar = datum("beschikbaarOp", p.beschikbaar_op.as_deref())?.unwrap_or(vandaag);
    let vraag = Vraag {
        in_werking_op: in_werking.clone(),
        geldig_op: geldig.clone(),
        ontvangen_op: beschikbaar.clone(),
        bekend_op: beschikbaar.clone(),
    };
    let oplossing = st.lezers.met(&st.store, work, |l| l.los_op(work, &vraag)).map_err(intern)?;
    let moment = format!("geldig op {geldig}, in werking op {in_werking}, beschikbaar op {beschikbaar}");
    let probleem = |status: StatusCode, code: &str, detail: String, toestand: Option<Antwoord>, kandidaten: Vec<String>| {
        TijdreisProbleem {
            problem: Problem::new(status, code, detail),
            work: work.to_string(),
            vraag: TijdreisVraag { geldig_op: geldig.clone(), in_werking_op: in_werking.clone(), beschikbaar_op: beschikbaar.clone() },
            toestand,
            kandidaten: kandidaten
                .into_iter()
                .map(|e| Kandidaat { href: format!("/api/v1/expressies/{}", segment(&e)), expressie: e })
                .collect(),
        }
        .into_response()
    };
    Ok(match oplossing {
        Oplossing::Versie { expressie, antwoord } => {
            let mut r = expressie_antwoord(st, &expressie, headers)?;
            let h = r.headers_mut();
            let t = &antwoord.toestand;
            zet(h, "content-location", Some(&format!("/api/v1/expressies/{}", segment(&expressie))));
            zet(h, "expressie", Some(&expressie));
            zet(h, "juridisch-werkend-vanaf", Some(&t.juridisch_werkend_vanaf));
            zet(h, "juridisch-werkend-tot", antwoord.juridisch_werkend_tot.as_deref());
            zet(h, "geldig-vanaf", Some(&t.geldig_vanaf));
            zet(h, "geldig-tot", antwoord.geldig_tot.as_deref());
            zet(h, "inwerkingtredingsdoelen", Some(&t.inwerkingtredingsdoelen.join(",")));
            zet(h, "bekend-op", Some(&antwoord.bekend_op));
            zet(h, "ontvangen-op", Some(&antwoord.ontvangen_op));
            r
        }
        Oplossing::GeenToestand => probleem(
            StatusCode::NOT_FOUND,
            "geen-toestand",
            format!("{work} heeft geen toestand ({moment}): nog niet in werking, of toen nog niet bekend"),
            None,
            Vec::new(),
        ),
        Oplossing::NietInWerking { antwoord } => probleem(
            StatusCode::NOT_FOUND,
            "niet-in-werking",
            format!("{work} is niet in werking ({moment}; toestand vanaf {})", antwoord.toestand.juridisch_werkend_vanaf),
            Some(antwoord),
            Vec::new(),
        ),
        Oplossing::GeenVersie { antwoord, kandidaten } => {
            let inhoud = &antwoord.toestand.inhoud;
            let code = match inhoud.status {
                Status::Onvolledig => "toestand-onvolledig",
                Status::Onbekend => "toestand-onbekend",
                _ => "toestand-zonder-versie",
            };
            let u = uitleg(inhoud);
            let detail = format!(
                "de toestand van {work} vanaf {} is {} ({moment}){}; kandidaat-versies: {}",
                antwoord.toestand.juridisch_werkend_vanaf,
                status_nl(inhoud.status),
                if u.is_empty() { String::new() } else { format!(": {u}") },
                if kandidaten.is_empty() { "geen".to_string() } else { kandidaten.join(", ") }
            );
            probleem(StatusCode::CONFLICT, code, detail, Some(antwoord), kandidaten)
        }
    })
}

/// The toestanden of a regeling over time (the timeline on the juridischWerkend axis, as known on
/// `beschikbaarOp`): periods with their toestand (dates, inwerkingtredingsdoelen, status,
/// instrumentversie). The JSON is that of `regelbank toestanden WORK --json` (the engine's
/// field names).
#[utoipa::path(get, path = "/api/v1/regelingen/{work}/toestanden", tag = "regelingen",
    params(
        ("work" = String, Path, description = "The work id, percent-encoded or in path form"),
        ("beschikbaarOp" = Option<String>, Query, description = "As known (beschikbaar) on this date, YYYY-MM-DD (default today)"),
    ),
    responses(
        (status = 200, description = "ontvangen_op, bekend_op (the knowledge the timeline comes from), perioden: [{vanaf, \
            tot (exclusive; null: open), toestand {juridisch_werkend_vanaf, geldig_vanaf, inwerkingtredingsdoelen, inhoud \
            {status, instrumentversie, basisversiedoelen, te_verwerken, te_ontvlechten, tegensprekend}}}]", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown work (`niet-gevonden`), or no toestanden known then (`geen-toestanden`)", body = Problem, content_type = "application/problem+json"),
    ))]
#[allow(dead_code)]
pub fn toestanden_doc() {}

/// The same for an informatieobject.
#[utoipa::path(get, path = "/api/v1/informatieobjecten/{work}/toestanden", tag = "informatieobjecten",
    params(
        ("work" = String, Path, description = "The work id (`/join/id/regdata/…`), percent-encoded or in path form"),
        ("beschikbaarOp" = Option<String>, Query, description = "As known (beschikbaar) on this date, YYYY-MM-DD (default today)"),
    ),
    responses(
        (status = 200, description = "As for regelingen", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
#[allow(dead_code)]
pub fn io_toestanden_doc() {}
