//! # search: full-text search over every regeling version, on every time axis
//!
//! A tantivy index of article-level units (Artikel, Divisietekst, WijzigArtikel, the own text
//! of a Bijlage, …). It owns only the index: the pipeline (`ingest::zoek`) prepares the inputs
//! (units, versions, the time-travel table of each work) and this crate stores and queries them.
//!
//! ## What is indexed
//!
//! * One document per **distinct content** of a unit: work, element, eId, wId, heading and text
//!   (a hash of those is the key). A unit unchanged across versions is indexed once, so the index
//!   grows with the changed units, not with versions × units. Each content gets a dense number
//!   (`nr`, a fast field).
//! * One document per **version** (expression): the numbers of the contents it contains.
//! * One document per **work**: title, bevoegd gezag, soort regeling, TAM flag, and its
//!   time-travel table ([`Tijdvakken`]: per knowledge moment the toestanden as day numbers and
//!   the version whose text applies). Rewritten whenever the work's time travel changes.
//!
//! ## Queries ([`Zoeker::zoek`] with a [`Zoekvraag`])
//!
//! Words (Dutch stemming and stop words: `vergunningen` finds `vergunning`), `"phrases"`,
//! proximity `"a b"~N`, prefix wildcards `verg*` (on the exact form), `AND`/`OR`/`NOT`/`-x`/`+x`
//! (words are ANDed by default), field scopes `titel:`, `kop:`, `tekst:`, `exact:` (exact form,
//! lowercase only), filters (bevoegd gezag, soort regeling, work, TAM).
//!
//! Time scope ([`Tijdbereik`]):
//! * [`Tijdbereik::Op`] (geldigOp / inWerkingOp / beschikbaarOp): for every work the version the
//!   time-travel engine gives for that question ([`Tijdvakken::versie_op`], the engine's own
//!   walk), then only the units of those versions can hit (a bitset over `nr`, made a clause of
//!   the query: see `toegestaan`). A toestand without a single version (onvolledig, onbekend) or
//!   not in force contributes no text, as `ingest::tijdreis::Lezer::los_op` gives no version for
//!   it.
//! * [`Tijdbereik::Historisch`]: every version; hits are grouped per work and per article (wId)
//!   with the periods (as known on beschikbaarOp) in which the matching text applied.
//!
//! Results are grouped per regeling ([`Groep`], ordered by their best hit), paged over groups,
//! with highlighted snippets (HTML-escaped, matches in `<mark>`) and facet counts (regelingen per
//! bevoegd gezag and soort).
//!
//! ## Writes and crash safety ([`Schrijver`])
//!
//! All writes of a batch go into one tantivy commit whose payload is the ledger watermark
//! (`seq` + record hash) plus the next free `nr`: either the whole batch and its watermark land,
//! or neither. Every write deletes its key first, so replaying records after a crash never
//! duplicates. The index is derived data: `regelbank reindex` rebuilds it from the store.

mod schema;
mod schrijver;
pub mod tijd;
mod tijdtabel;
mod toegestaan;
mod zoeker;

use serde::{Deserialize, Serialize};

pub use schrijver::{Schrijver, Watermerk};
pub use tijd::{Anker, Moment, Tijdstip, Tijdvakken};
pub use zoeker::Zoeker;

/// Errors of the search index.
#[derive(Debug, thiserror::Error)]
pub enum ZoekFout {
    /// The query does not parse (shown to users; Dutch).
    #[error("ongeldige zoekvraag: {0}")]
    Syntaxis(String),
    /// A date parameter is not a date (Dutch, shown to users).
    #[error("ongeldige datum voor {veld}: '{waarde}' (verwacht JJJJ-MM-DD)")]
    Datum { veld: String, waarde: String },
    /// Another process holds the index writer.
    #[error("the search index is being written by another process")]
    Bezet,
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index data is not valid: {0}")]
    Data(String),
}

/// A work's metadata, as shown on result groups.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WerkMeta {
    pub werk: String,
    pub titel: Option<String>,
    pub bevoegd_gezag: Option<String>,
    /// soortRegeling (or the soortWork when there is none).
    pub soort: Option<String>,
    /// A document taken in through the tijdelijke alternatieve maatregel (not consolidated).
    pub tam: bool,
}

/// One article-level unit of a version, as plain text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Eenheid {
    /// Element name (`Artikel`, `Divisietekst`, `Bijlage`, …).
    pub element: String,
    pub eid: Option<String>,
    pub wid: Option<String>,
    /// Heading text (Label Nummer Opschrift).
    pub kop: String,
    pub tekst: String,
}

/// A version to index: its expression id and its units in document order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Versie {
    pub expressie: String,
    pub eenheden: Vec<Eenheid>,
}

/// The time scope of a query. Dates are `YYYY-MM-DD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tijdbereik {
    /// The text that applied: per work the version of the toestand that answers
    /// (inWerkingOp, geldigOp) as known on beschikbaarOp.
    Op { geldig_op: String, in_werking_op: String, beschikbaar_op: String },
    /// All versions; periods as known on `beschikbaar_op`.
    Historisch { beschikbaar_op: String },
}

/// A search question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zoekvraag {
    /// Query text (syntax: see the crate docs).
    pub q: String,
    pub tijd: Tijdbereik,
    pub bevoegd_gezag: Option<String>,
    pub soort: Option<String>,
    pub werk: Option<String>,
    /// Only TAM documents (`Some(true)`) or only STOP regelingen (`Some(false)`).
    pub tam: Option<bool>,
    /// 1-based page over the groups.
    pub pagina: usize,
    /// Groups per page (1..=100).
    pub per_pagina: usize,
    /// Hits (articles) shown per group (1..=50).
    pub treffers_per_groep: usize,
}

impl Zoekvraag {
    /// A question with the defaults: page 1, 10 groups of at most 3 hits, no filters.
    pub fn nieuw(q: &str, tijd: Tijdbereik) -> Zoekvraag {
        Zoekvraag {
            q: q.to_string(),
            tijd,
            bevoegd_gezag: None,
            soort: None,
            werk: None,
            tam: None,
            pagina: 1,
            per_pagina: 10,
            treffers_per_groep: 3,
        }
    }
}

/// A period in which a version applied (on the diagonal inWerkingOp = geldigOp, as known on
/// the question's beschikbaarOp): from `vanaf` (inclusive) to `tot` (exclusive; `None`: open).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Periode {
    pub expressie: String,
    pub vanaf: String,
    pub tot: Option<String>,
}

/// One hit: an article-level unit (in historic mode: every matching content of that unit).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Treffer {
    pub element: String,
    pub eid: Option<String>,
    pub wid: Option<String>,
    pub kop: String,
    /// HTML: the text around the matches, escaped, matches in `<mark>`.
    pub fragment: String,
    pub score: f32,
    /// The versions whose text this is: the applying version (time-scoped), or every version
    /// containing a matching content (historic, in ledger order).
    pub expressies: Vec<String>,
    /// Historic: the periods in which the matching text applied (empty when scoped).
    pub perioden: Vec<Periode>,
}

/// The hits of one regeling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Groep {
    pub werk: String,
    pub titel: Option<String>,
    pub bevoegd_gezag: Option<String>,
    pub soort: Option<String>,
    pub tam: bool,
    /// Time-scoped: the version whose text was searched.
    pub expressie: Option<String>,
    /// Best hit's score.
    pub score: f32,
    /// Matching units in this regeling (contents, in historic mode).
    pub aantal_treffers: u64,
    pub treffers: Vec<Treffer>,
}

/// A facet value and the number of matching regelingen with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Facet {
    pub waarde: String,
    pub aantal: u64,
}

/// Facet counts over all matching regelingen (not only this page).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Facetten {
    pub bevoegd_gezag: Vec<Facet>,
    pub soort: Vec<Facet>,
}

/// The answer to a [`Zoekvraag`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resultaten {
    /// Matching units (contents, in historic mode) over all regelingen.
    pub totaal_treffers: u64,
    /// Matching regelingen.
    pub totaal_groepen: u64,
    pub pagina: usize,
    pub per_pagina: usize,
    pub groepen: Vec<Groep>,
    pub facetten: Facetten,
}
