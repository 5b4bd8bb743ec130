//! `/zoeken?q=…`: search results from the search index (`search::Zoeker` over
//! `<data>/search/`, kept current by the pipeline and caught up here when behind, as the API's
//! `/api/v1/zoeken` does), grouped per regeling.
//!
//! Parameters: `q`; the time scope `geldigOp`/`inWerkingOp`/`beschikbaarOp` (defaults today;
//! `inWerkingOp` the `geldigOp` date) or `historisch=1` (every version, with the periods in
//! which the matching text applied, as known on `beschikbaarOp`); filters `bevoegdGezag` and
//! `soort` (the facet counts are links that set them); `pagina`. Without `q` the page is only
//! the form. Bad query syntax or a bad date: the form with the message, status 400.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use search::{Resultaten, Tijdbereik, ZoekFout, Zoeker, Zoekvraag};

use super::{AppState, AppStateInner, Fout, Link, Params, datum, kort, pagina, params, qv, regeling_href, regeling_op, tam_href, versie_href};

/// Regelingen per page.
const PER_PAGINA: usize = 10;

/// One searcher per index directory, opened on first use (cheap to share; it sees every commit).
static ZOEKERS: Mutex<Vec<(PathBuf, Arc<Zoeker>)>> = Mutex::new(Vec::new());

fn zoeker(dir: &Path) -> Result<Arc<Zoeker>, ZoekFout> {
    let mut z = ZOEKERS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, s)) = z.iter().find(|(d, _)| d == dir) {
        return Ok(s.clone());
    }
    let s = Arc::new(Zoeker::open(dir)?);
    z.push((dir.to_path_buf(), s.clone()));
    Ok(s)
}

struct TrefferView {
    kop: String,
    /// HTML from the index: escaped text, matches in `<mark>`.
    fragment: String,
    href: String,
    perioden: Vec<Link>,
}

struct GroepView {
    titel: String,
    href: String,
    work: String,
    bevoegd_gezag: String,
    soort: String,
    tam: bool,
    versie: Option<Link>,
    aantal: u64,
    treffers: Vec<TrefferView>,
}

struct FacetView {
    label: String,
    href: String,
    aantal: u64,
    gekozen: bool,
}

#[derive(Template)]
#[template(path = "viewer/zoeken.html")]
struct ZoekPagina {
    q: String,
    geldig_op: String,
    in_werking_op: String,
    beschikbaar_op: String,
    historisch: bool,
    fout: Option<String>,
    gezocht: bool,
    totaal_groepen: u64,
    totaal_treffers: u64,
    groepen: Vec<GroepView>,
    bevoegd_gezag: Vec<FacetView>,
    soort: Vec<FacetView>,
    filters: Vec<Link>,
    vorige: Option<String>,
    volgende: Option<String>,
    pagina: usize,
    aantal_paginas: u64,
}

pub async fn zoeken(State(state): State<AppState>, q: Result<Query<Params>, QueryRejection>) -> Response {
    let p = match params(q) {
        Ok(p) => p,
        Err(f) => return f.into_response(),
    };
    let st = state.clone();
    match tokio::task::spawn_blocking(move || zoek_pagina(&st, &p)).await {
        Ok(Ok((status, body))) => (status, Html(body)).into_response(),
        Ok(Err(f)) => f.into_response(),
        Err(e) => Fout::intern(format!("background task failed: {e}")).into_response(),
    }
}

/// The parameters that make a search (all but the page), as a query string for links.
struct Basis {
    q: String,
    geldig: String,
    in_werking: String,
    beschikbaar: String,
    historisch: bool,
    bevoegd_gezag: Option<String>,
    soort: Option<String>,
}

impl Basis {
    fn url(&self, bevoegd_gezag: Option<&str>, soort: Option<&str>, pagina: usize) -> String {
        let mut s = format!("/zoeken?q={}", qv(&self.q));
        if self.historisch {
            s.push_str(&format!("&historisch=1&beschikbaarOp={}", self.beschikbaar));
        } else {
            s.push_str(&format!("&geldigOp={}&inWerkingOp={}&beschikbaarOp={}", self.geldig, self.in_werking, self.beschikbaar));
        }
        if let Some(b) = bevoegd_gezag {
            s.push_str(&format!("&bevoegdGezag={}", qv(b)));
        }
        if let Some(x) = soort {
            s.push_str(&format!("&soort={}", qv(x)));
        }
        if pagina > 1 {
            s.push_str(&format!("&pagina={pagina}"));
        }
        s
    }
}

fn zoek_pagina(st: &AppStateInner, p: &Params) -> Result<(StatusCode, String), Fout> {
    let vandaag = st.vandaag();
    let q = p.q.as_deref().unwrap_or("").trim().to_string();
    let historisch = p.historisch.as_deref().is_some_and(|h| matches!(h.trim(), "1" | "true" | "ja" | "on"));
    let nummer = pagina(p.pagina.as_deref())?;
    let geldig = datum("geldig op", p.geldig_op.as_deref())?.unwrap_or_else(|| vandaag.clone());
    let in_werking = datum("in werking op", p.in_werking_op.as_deref())?.unwrap_or_else(|| geldig.clone());
    let beschikbaar = datum("beschikbaar op", p.beschikbaar_op.as_deref())?.unwrap_or_else(|| vandaag.clone());
    let leeg_filter = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let basis = Basis {
        q: q.clone(),
        geldig: geldig.clone(),
        in_werking: in_werking.clone(),
        beschikbaar: beschikbaar.clone(),
        historisch,
        bevoegd_gezag: leeg_filter(&p.bevoegd_gezag),
        soort: leeg_filter(&p.soort),
    };
    let mut pagina_ = ZoekPagina {
        q: q.clone(),
        geldig_op: geldig.clone(),
        in_werking_op: in_werking.clone(),
        beschikbaar_op: beschikbaar.clone(),
        historisch,
        fout: None,
        gezocht: false,
        totaal_groepen: 0,
        totaal_treffers: 0,
        groepen: Vec::new(),
        bevoegd_gezag: Vec::new(),
        soort: Vec::new(),
        filters: Vec::new(),
        vorige: None,
        volgende: None,
        pagina: nummer,
        aantal_paginas: 0,
    };
    if q.is_empty() {
        return Ok((StatusCode::OK, pagina_.render()?));
    }
    let tijd = if historisch {
        Tijdbereik::Historisch { beschikbaar_op: beschikbaar.clone() }
    } else {
        Tijdbereik::Op { geldig_op: geldig.clone(), in_werking_op: in_werking.clone(), beschikbaar_op: beschikbaar.clone() }
    };
    let mut vraag = Zoekvraag::nieuw(&q, tijd);
    vraag.bevoegd_gezag = basis.bevoegd_gezag.clone();
    vraag.soort = basis.soort.clone();
    vraag.pagina = nummer;
    vraag.per_pagina = PER_PAGINA;
    let zoeker = zoeker(&ingest::zoek::map(&st.store)).map_err(Fout::intern)?;
    // The pipeline keeps the index current; when it is behind (a catch-up failed, or the store
    // was written without it), bring it up first, unless another writer holds it.
    if zoeker.watermerk().map_err(Fout::intern)?.is_none_or(|w| w.seq != st.store.last_seq()) {
        match ingest::zoek::bijwerken(&st.store) {
            Ok(_) | Err(ingest::zoek::ZoekIndexFout::Zoek(ZoekFout::Bezet)) => {}
            Err(e) => tracing::warn!(error = %e, "search index catch-up failed"),
        }
    }
    let r: Resultaten = match zoeker.zoek(&vraag) {
        Ok(r) => r,
        Err(e @ (ZoekFout::Syntaxis(_) | ZoekFout::Datum { .. })) => {
            pagina_.fout = Some(e.to_string());
            return Ok((StatusCode::BAD_REQUEST, pagina_.render()?));
        }
        Err(e) => return Err(Fout::intern(e)),
    };
    pagina_.gezocht = true;
    pagina_.totaal_groepen = r.totaal_groepen;
    pagina_.totaal_treffers = r.totaal_treffers;
    pagina_.aantal_paginas = r.totaal_groepen.div_ceil(PER_PAGINA as u64);
    pagina_.vorige = (nummer > 1).then(|| basis.url(basis.bevoegd_gezag.as_deref(), basis.soort.as_deref(), nummer - 1));
    pagina_.volgende =
        ((nummer as u64) < pagina_.aantal_paginas).then(|| basis.url(basis.bevoegd_gezag.as_deref(), basis.soort.as_deref(), nummer + 1));
    pagina_.bevoegd_gezag = r
        .facetten
        .bevoegd_gezag
        .iter()
        .map(|f| FacetView {
            label: f.waarde.clone(),
            href: basis.url(Some(&f.waarde), basis.soort.as_deref(), 1),
            aantal: f.aantal,
            gekozen: basis.bevoegd_gezag.as_deref() == Some(f.waarde.as_str()),
        })
        .collect();
    pagina_.soort = r
        .facetten
        .soort
        .iter()
        .map(|f| FacetView {
            label: f.waarde.clone(),
            href: basis.url(basis.bevoegd_gezag.as_deref(), Some(&f.waarde), 1),
            aantal: f.aantal,
            gekozen: basis.soort.as_deref() == Some(f.waarde.as_str()),
        })
        .collect();
    if let Some(b) = &basis.bevoegd_gezag {
        pagina_.filters.push(Link { href: basis.url(None, basis.soort.as_deref(), 1), tekst: format!("bevoegd gezag: {b}") });
    }
    if let Some(s) = &basis.soort {
        pagina_.filters.push(Link { href: basis.url(basis.bevoegd_gezag.as_deref(), None, 1), tekst: format!("soort: {s}") });
    }
    pagina_.groepen = r
        .groepen
        .into_iter()
        .map(|g| {
            // A TAM document is a "work" of its own (its id) with its own page.
            let pagina_href = if g.tam {
                tam_href(&g.werk)
            } else if historisch {
                regeling_href(&g.werk)
            } else {
                regeling_op(&g.werk, &geldig, &in_werking, &beschikbaar)
            };
            let treffers = g
                .treffers
                .into_iter()
                .map(|t| {
                    let anker = t.eid.as_deref().map(|e| format!("#{}", qv(e))).unwrap_or_default();
                    let href = match (historisch && !g.tam, t.expressies.last()) {
                        (true, Some(e)) => format!("{}{anker}", versie_href(e)),
                        _ => format!("{pagina_href}{anker}"),
                    };
                    TrefferView {
                        kop: if t.kop.is_empty() { t.element.clone() } else { t.kop.clone() },
                        fragment: t.fragment,
                        href,
                        perioden: t
                            .perioden
                            .iter()
                            .map(|p| Link {
                                href: if g.tam { pagina_href.clone() } else { format!("{}{anker}", versie_href(&p.expressie)) },
                                tekst: format!(
                                    "{}: van {} {}",
                                    kort(&g.werk, &p.expressie),
                                    p.vanaf,
                                    p.tot.as_deref().map(|t| format!("tot {t}")).unwrap_or_else(|| "(nog steeds)".to_string())
                                ),
                            })
                            .collect(),
                    }
                })
                .collect();
            GroepView {
                titel: g.titel.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| g.werk.clone()),
                href: pagina_href,
                bevoegd_gezag: g.bevoegd_gezag.unwrap_or_default(),
                soort: g.soort.unwrap_or_default(),
                tam: g.tam,
                versie: g.expressie.as_deref().filter(|_| !g.tam).map(|e| Link { href: versie_href(e), tekst: kort(&g.werk, e).to_string() }),
                aantal: g.aantal_treffers,
                treffers,
                work: g.werk,
            }
        })
        .collect();
    Ok((StatusCode::OK, pagina_.render()?))
}
