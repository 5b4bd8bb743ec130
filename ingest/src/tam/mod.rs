//! The TAM route (tijdelijke alternatieve maatregel): documents that do not conform to STOP are
//! taken in without loss, marked, made findable, and kept apart from consolidation.
//!
//! - [`ingest_tam`] stores the submission's bytes exactly as received (one content-addressed
//!   blob, named in the ledger record as the package and its only file), extracts what it can
//!   ([`extract`]) and records a [`TamDocument`] (JSON blob, `Effects::tam`). Extraction
//!   failures are part of the document, never an error.
//! - [`auto_tam`] turns a publicatieOpdracht that failed validation into a TAM document when
//!   its bevoegd gezag is configured for it (`Config::auto_tam`); the pipeline then records the
//!   delivery with outcome `tam` and the validation report attached.
//! - [`TamIndex`] is derived from the ledger (space `tam`): the documents per id, per regeling
//!   work and per bevoegd gezag, and for each the conforming STOP version that superseded it.
//!
//! TAM documents never enter the time-travel engine or the catalogue of works and expressions,
//! so they can never change a toestand.

pub mod extract;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stop::melding::{Melding, Soort};
use store::{Derived, Effects, FileRef, Hash, LedgerRecord, NewRecord, Store, StoreError};
use tracing::info;

pub use extract::{Formaat, Onderdeel, Stuk};

use crate::IngestError;

/// The kinds of TAM publication (the `soort` field).
pub const SOORTEN: &[&str] = &[
    "TAM-omgevingsplan",
    "TAM-omgevingsverordening",
    "TAM-projectbesluit",
    "TAM-voorbereidingsbesluit",
    "TAM-instructie",
    "TAM-reactieve-interventie",
    "TAM-overig",
];

/// The ledger's `opdracht` and `outcome` of a TAM record.
pub const OPDRACHT: &str = "tamPublicatie";
pub const UITKOMST: &str = "tam";

/// Largest TAM submission (as for a delivery package).
pub const MAX_GROOTTE: u64 = 1024 * 1024 * 1024;

/// Validated metadata of a TAM submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TamMetadata {
    /// Code of the bevoegd gezag (gm0363, pv26, ws0155, mnre1034) or its OIN.
    pub bevoegd_gezag: String,
    /// One of [`SOORTEN`].
    pub soort: String,
    pub titel: String,
    /// YYYY-MM-DD.
    pub datum_bekendmaking: String,
    /// The regeling work (`/akn/nl/act/...`) the document belongs to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regeling: Option<String>,
    /// The submitter's own id; by default one is derived from the bytes and the metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_levering: Option<String>,
}

/// Metadata as given (form fields, a JSON or XML sidecar, command-line flags), before checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TamInvoer {
    pub bevoegd_gezag: Option<String>,
    pub soort: Option<String>,
    pub titel: Option<String>,
    pub datum_bekendmaking: Option<String>,
    pub regeling: Option<String>,
    pub id_levering: Option<String>,
}

fn melding(code: &str, tekst: impl Into<String>) -> Melding {
    Melding::new(code, stop::melding::Ernst::Fout, Soort::Technisch, tekst)
}

impl TamInvoer {
    /// Read a sidecar: JSON (`{"bevoegdGezag": …}`) or XML (`<tam><bevoegdGezag>…</…></tam>`,
    /// any root, any namespace; the same field names).
    pub fn uit_sidecar(bytes: &[u8]) -> Result<TamInvoer, Melding> {
        let t = String::from_utf8_lossy(bytes);
        let t = t.trim_start_matches('\u{feff}').trim_start();
        if t.starts_with('{') {
            return serde_json::from_str(t)
                .map_err(|e| melding("RB6002", format!("De metadata (JSON) zijn niet leesbaar: {e}. Geef velden als bevoegdGezag, soort, titel, datumBekendmaking.")));
        }
        if t.starts_with('<') {
            let mut r = quick_xml::Reader::from_str(t);
            let mut uit = TamInvoer::default();
            let mut veld: Option<String> = None;
            let mut waarde = String::new();
            loop {
                match r.read_event() {
                    Ok(quick_xml::events::Event::Start(e)) => {
                        let ln = e.local_name();
                        let l: &str = ln.as_ref();
                        veld = Some(l.to_string());
                        waarde.clear();
                    }
                    Ok(quick_xml::events::Event::Text(x)) => {
                        waarde.push_str(x.as_ref());
                    }
                    Ok(quick_xml::events::Event::GeneralRef(x)) => {
                        let r: &str = x.as_ref();
                        waarde.push_str(match r {
                            "amp" => "&",
                            "lt" => "<",
                            "gt" => ">",
                            "quot" => "\"",
                            _ => "'",
                        });
                    }
                    Ok(quick_xml::events::Event::End(_)) => {
                        if let Some(v) = veld.take() {
                            uit.zet(&v, waarde.trim());
                        }
                        waarde.clear();
                    }
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => return Err(melding("RB6002", format!("De metadata (XML) zijn niet goed gevormd: {e}."))),
                }
            }
            return Ok(uit);
        }
        Err(melding("RB6002", "De metadata zijn geen JSON en geen XML."))
    }

    /// Set a field by its name (camelCase as in the API, or kebab-case as on the command line).
    /// Returns false for an unknown name.
    pub fn zet(&mut self, naam: &str, waarde: &str) -> bool {
        let v = Some(waarde.to_string()).filter(|s| !s.trim().is_empty());
        match naam {
            "bevoegdGezag" | "bevoegd-gezag" => self.bevoegd_gezag = v,
            "soort" => self.soort = v,
            "titel" => self.titel = v,
            "datumBekendmaking" | "datum-bekendmaking" => self.datum_bekendmaking = v,
            "regeling" => self.regeling = v,
            "idLevering" | "id-levering" => self.id_levering = v,
            _ => return false,
        }
        true
    }

    /// Fields of `ander` fill what this one lacks.
    pub fn aangevuld_met(mut self, ander: TamInvoer) -> TamInvoer {
        self.bevoegd_gezag = self.bevoegd_gezag.or(ander.bevoegd_gezag);
        self.soort = self.soort.or(ander.soort);
        self.titel = self.titel.or(ander.titel);
        self.datum_bekendmaking = self.datum_bekendmaking.or(ander.datum_bekendmaking);
        self.regeling = self.regeling.or(ander.regeling);
        self.id_levering = self.id_levering.or(ander.id_levering);
        self
    }

    /// Check the metadata: every problem is reported at once (RB6001, Dutch).
    pub fn valideer(self) -> Result<TamMetadata, Vec<Melding>> {
        let mut m = Vec::new();
        let mut verplicht = |v: Option<String>, veld: &str| -> String {
            match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
                Some(s) => s,
                None => {
                    m.push(melding("RB6001", format!("Het veld {veld} ontbreekt; het is verplicht voor een TAM-publicatie.")));
                    String::new()
                }
            }
        };
        let bevoegd_gezag = verplicht(self.bevoegd_gezag, "bevoegdGezag");
        let soort_in = verplicht(self.soort, "soort");
        let titel = verplicht(self.titel, "titel");
        let datum = verplicht(self.datum_bekendmaking, "datumBekendmaking");
        let soort = if soort_in.is_empty() {
            soort_in
        } else {
            let genormaliseerd = match soort_in.to_ascii_lowercase().as_str() {
                "other" | "overig" | "anders" | "tam-other" => "TAM-overig".to_string(),
                s => SOORTEN
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(s) || k[4..].eq_ignore_ascii_case(s))
                    .map(|k| k.to_string())
                    .unwrap_or_default(),
            };
            if genormaliseerd.is_empty() {
                m.push(melding("RB6003", format!("De soort '{soort_in}' is onbekend; kies uit {}.", SOORTEN.join(", "))));
            }
            genormaliseerd
        };
        if !datum.is_empty() && NaiveDate::parse_from_str(&datum, "%Y-%m-%d").is_err() {
            m.push(melding("RB6004", format!("De datumBekendmaking '{datum}' is geen datum van de vorm JJJJ-MM-DD.")));
        }
        if bevoegd_gezag.len() > 64 || bevoegd_gezag.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')) {
            m.push(melding("RB6005", format!("Het bevoegdGezag '{bevoegd_gezag}' is geen code (zoals gm0363) of OIN.")));
        }
        if titel.chars().count() > 1000 {
            m.push(melding("RB6006", "De titel is langer dan 1000 tekens."));
        }
        let regeling = self.regeling.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if let Some(r) = &regeling
            && (!r.starts_with("/akn/nl/act/") || r.contains('@') || r.len() > 500)
        {
            m.push(melding("RB6007", format!("De regeling '{r}' is geen work-identificatie van een regeling (/akn/nl/act/…, zonder expressie).")));
        }
        let id_levering = self.id_levering.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if let Some(i) = &id_levering
            && (i.len() > 200 || i.chars().any(|c| c.is_control()))
        {
            m.push(melding("RB6008", "De idLevering is te lang of bevat stuurtekens."));
        }
        if !m.is_empty() {
            return Err(m);
        }
        Ok(TamMetadata { bevoegd_gezag, soort, titel, datum_bekendmaking: datum, regeling, id_levering })
    }
}

/// The stored file of a TAM document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TamBestand {
    pub naam: String,
    /// SHA-256 of the exact bytes (the receipt): `GET /api/v1/tam/{id}/bestand` returns them.
    pub hash: String,
    pub grootte: u64,
    pub formaat: Formaat,
    pub mediatype: String,
}

/// A document published through TAM, as recorded (blob, JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TamDocument {
    pub id: String,
    /// Always true: lets API clients tell TAM documents from regeling versions.
    pub tam: bool,
    pub metadata: TamMetadata,
    pub aanleveraar: String,
    /// RFC 3339 receipt time.
    pub ontvangen: String,
    pub bestand: TamBestand,
    /// True when the pipeline published a failed STOP delivery through TAM (auto-TAM).
    pub automatisch: bool,
    /// Why this is a TAM document (Dutch).
    pub redenen: Vec<String>,
    /// The validation meldingen of a failed STOP delivery (auto-TAM), else empty.
    #[serde(default)]
    pub meldingen: Vec<Melding>,
    /// Hash of the validation report blob (auto-TAM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rapport: Option<String>,
    /// Regeling works this document belongs to: the metadata's, and those named by STOP
    /// metadata in it.
    pub works: Vec<String>,
    pub onderdelen: Vec<Onderdeel>,
}

impl TamDocument {
    /// Every extraction failure, prefixed with the part it concerns.
    pub fn fouten(&self) -> Vec<String> {
        self.onderdelen.iter().flat_map(|o| o.fouten.iter().map(move |f| format!("{}: {f}", o.naam))).collect()
    }

    /// The text chunks of all parts, with the part's name.
    pub fn stukken(&self) -> impl Iterator<Item = (&Onderdeel, &Stuk)> + '_ {
        self.onderdelen.iter().flat_map(|o| o.stukken.iter().map(move |s| (o, s)))
    }
}

/// Derive a TAM document's id from the bytes and the metadata (the same submission gives the
/// same id).
fn document_id(hash: &Hash, meta: &TamMetadata) -> String {
    let mut h = Sha256::new();
    h.update(hash.0);
    h.update(serde_json::to_vec(meta).expect("metadata serialises"));
    format!("tam-{}", &hex::encode(h.finalize())[..24])
}

/// Build the document: extraction of every part, works from the metadata and STOP metadata.
#[allow(clippy::too_many_arguments)]
fn maak_document(
    naam: &str,
    bytes: &[u8],
    hash: Hash,
    meta: TamMetadata,
    aanleveraar: &str,
    ontvangen: &DateTime<Utc>,
    automatisch: bool,
    redenen: Vec<String>,
) -> TamDocument {
    let formaat = extract::herken(naam, bytes);
    let onderdelen = extract::onderdelen(naam, bytes);
    let mut works: Vec<String> = meta.regeling.iter().cloned().collect();
    for o in &onderdelen {
        if let Some(w) = o.metadata.get("stop:regeling") {
            works.push(w.clone());
        }
    }
    works.sort();
    works.dedup();
    let id = meta.id_levering.clone().map(|i| format!("tam-{}", hex::encode(&Sha256::digest(format!("{aanleveraar}\n{i}"))[..12])));
    TamDocument {
        id: id.unwrap_or_else(|| document_id(&hash, &meta)),
        tam: true,
        metadata: meta,
        aanleveraar: aanleveraar.to_string(),
        ontvangen: ontvangen.to_rfc3339(),
        bestand: TamBestand {
            naam: naam.to_string(),
            hash: hash.to_hex(),
            grootte: bytes.len() as u64,
            formaat,
            mediatype: formaat.mediatype().to_string(),
        },
        automatisch,
        redenen,
        meldingen: Vec::new(),
        rapport: None,
        works,
        onderdelen,
    }
}

/// Why a TAM submission was not stored.
#[derive(Debug, thiserror::Error)]
pub enum TamFout {
    /// The metadata are incomplete or wrong: nothing stored.
    #[error("TAM-metadata niet in orde: {}", .0.iter().map(|m| format!("{} {}", m.code, m.beschrijving)).collect::<Vec<_>>().join("; "))]
    Metadata(Vec<Melding>),
    /// The id (aanleveraar, idLevering) was used for other bytes or metadata.
    #[error("RB6010 De idLevering '{0}' is al gebruikt voor een andere TAM-publicatie van deze aanleveraar.")]
    IdGebruikt(String),
    #[error("RB6011 Het bestand is leeg (0 bytes); er is niets te publiceren.")]
    Leeg,
    #[error("RB6012 Het bestand is groter dan {MAX_GROOTTE} bytes.")]
    TeGroot,
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

impl From<StoreError> for TamFout {
    fn from(e: StoreError) -> Self {
        TamFout::Ingest(IngestError::Store(e))
    }
}

/// What a TAM submission gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TamResultaat {
    pub id: String,
    /// The receipt: SHA-256 of the bytes as received.
    pub hash: String,
    pub seq: u64,
    /// The same submission was recorded before; nothing was stored twice.
    pub herhaald: bool,
    pub document: TamDocument,
}

/// Publish a document through TAM: store the bytes as received, extract, record.
pub fn ingest_tam(
    store: &Store,
    naam: &str,
    bytes: &[u8],
    invoer: TamInvoer,
    aanleveraar: &str,
    now: DateTime<Utc>,
) -> Result<TamResultaat, TamFout> {
    let meta = invoer.valideer().map_err(TamFout::Metadata)?;
    if bytes.is_empty() {
        return Err(TamFout::Leeg);
    }
    if bytes.len() as u64 > MAX_GROOTTE {
        return Err(TamFout::TeGroot);
    }
    let naam = veilige_naam(naam);
    let hash = Hash::of(bytes);
    let doc = maak_document(&naam, bytes, hash, meta, aanleveraar, &now, false, vec!["Aangeleverd via de TAM-route (tijdelijke alternatieve maatregel).".into()]);
    // The same submission again returns the earlier receipt.
    if let Some(seq) = store.index().delivery_by_levering(aanleveraar, &doc.id)?
        && let Some(eerder) = store.record(seq)?
    {
        if eerder.rec.package_hash == hash
            && let Some(h) = eerder.rec.effects.tam
        {
            let vorig: TamDocument = serde_json::from_slice(&store.get_blob(&h)?).map_err(|e| serde_fout("TAM document", e))?;
            if vorig.metadata == doc.metadata {
                return Ok(TamResultaat { id: vorig.id.clone(), hash: hash.to_hex(), seq, herhaald: true, document: vorig });
            }
        }
        return Err(TamFout::IdGebruikt(doc.metadata.id_levering.clone().unwrap_or(doc.id)));
    }
    let mut txn = store.begin()?;
    let h = txn.put_blob(bytes)?;
    debug_assert_eq!(h, hash);
    let json = serde_json::to_vec(&doc).expect("TAM document serialises");
    let doc_hash = txn.put_blob(&json)?;
    let rec = NewRecord {
        received_at: now.to_rfc3339(),
        aanleveraar: aanleveraar.to_string(),
        bevoegd_gezag: doc.metadata.bevoegd_gezag.clone(),
        id_levering: doc.id.clone(),
        opdracht: OPDRACHT.to_string(),
        package_hash: hash,
        files: vec![FileRef { name: naam.clone(), hash, size: bytes.len() as u64, content_type: Some(doc.bestand.mediatype.clone()) }],
        outcome: UITKOMST.to_string(),
        report: None,
        derived: vec![doc_hash],
        effects: Effects { tam: Some(doc_hash), ..Default::default() },
    };
    let lrec = txn.commit(rec)?;
    info!(id = %doc.id, seq = lrec.seq, "TAM document recorded");
    TamIndex::na_commit(store, std::slice::from_ref(&lrec))?;
    // Searchable at once (a failure is logged; the index catches up on its next use).
    crate::zoek::na_commit(store);
    Ok(TamResultaat { id: doc.id.clone(), hash: hash.to_hex(), seq: lrec.seq, herhaald: false, document: doc })
}

/// A file name as recorded: its last path component, printable, at most 200 characters.
fn veilige_naam(naam: &str) -> String {
    let basis = naam.rsplit(['/', '\\']).next().unwrap_or(naam);
    let s: String = basis.chars().filter(|c| !c.is_control()).take(200).collect();
    if s.trim().is_empty() || s == "." || s == ".." { "document".to_string() } else { s }
}

/// Auto-TAM: the TAM document for a publicatieOpdracht that failed validation. `bestanden`
/// are the package's files (name, bytes); `origineel` the package as received when it was one
/// file (a zip). The metadata come from the opdracht and the STOP metadata that could be read.
#[allow(clippy::too_many_arguments)]
pub fn auto_tam(
    bron: &str,
    origineel: Option<(&[u8], Hash)>,
    bestanden: &[(String, Vec<u8>)],
    opdracht: &stop::opdracht::Opdracht,
    meldingen: &[Melding],
    package_hash: Hash,
    now: &DateTime<Utc>,
) -> TamDocument {
    let mut onderdelen = Vec::new();
    for (naam, bytes) in bestanden {
        onderdelen.extend(extract::onderdelen(naam, bytes));
    }
    let veld = |k: &str| onderdelen.iter().find_map(|o| o.metadata.get(k).cloned());
    let soort_regeling = veld("stop:soortRegeling").unwrap_or_default().to_ascii_lowercase();
    let soort = SOORTEN
        .iter()
        .find(|s| !soort_regeling.is_empty() && soort_regeling.ends_with(&s[4..].replace('-', "")))
        .copied()
        .unwrap_or("TAM-overig");
    let datum = opdracht
        .datum_bekendmaking_tekst
        .clone()
        .filter(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
        .unwrap_or_else(|| now.format("%Y-%m-%d").to_string());
    let regeling = onderdelen.iter().find_map(|o| o.metadata.get("stop:regeling")).cloned();
    let titel = veld("titel").or_else(|| veld("citeertitel")).unwrap_or_else(|| format!("Levering {}", opdracht.id_levering));
    let meta = TamMetadata {
        bevoegd_gezag: opdracht.id_bevoegd_gezag.clone(),
        soort: soort.to_string(),
        titel,
        datum_bekendmaking: datum,
        regeling,
        id_levering: Some(opdracht.id_levering.clone()),
    };
    // A zip is kept as received; a directory has no bytes of its own: its files are stored one
    // by one (the ledger record lists them) and the document names the package listing.
    let (naam, hash, grootte, formaat, mediatype) = match origineel {
        Some((b, h)) => (veilige_naam(bron), h, b.len() as u64, Formaat::Zip, "application/zip"),
        None => (
            format!("{} (map: bestanden afzonderlijk opgeslagen)", veilige_naam(bron)),
            package_hash,
            bestanden.iter().map(|(_, b)| b.len() as u64).sum(),
            Formaat::Onbekend,
            "text/plain; charset=utf-8",
        ),
    };
    let mut works: Vec<String> = onderdelen.iter().filter_map(|o| o.metadata.get("stop:regeling")).cloned().collect();
    works.sort();
    works.dedup();
    let fouten: Vec<&Melding> = meldingen.iter().filter(|m| m.is_fout()).collect();
    let mut redenen = vec![format!(
        "De publicatieOpdracht {} voldeed niet aan STOP ({} blokkerende melding{}); het bevoegd gezag {} is ingesteld op automatische TAM-publicatie.",
        opdracht.id_levering,
        fouten.len(),
        if fouten.len() == 1 { "" } else { "en" },
        opdracht.id_bevoegd_gezag
    )];
    redenen.extend(fouten.iter().take(20).map(|m| format!("{}: {}", m.code, m.beschrijving)));
    TamDocument {
        id: format!("tam-{}", hex::encode(&Sha256::digest(format!("{}\n{}", opdracht.id_aanleveraar, opdracht.id_levering))[..12])),
        tam: true,
        metadata: meta,
        aanleveraar: opdracht.id_aanleveraar.clone(),
        ontvangen: now.to_rfc3339(),
        bestand: TamBestand {
            naam,
            hash: hash.to_hex(),
            grootte,
            formaat,
            mediatype: mediatype.into(),
        },
        automatisch: true,
        redenen,
        meldingen: meldingen.to_vec(),
        // Set by the pipeline once the report is stored.
        rapport: None,
        works,
        onderdelen,
    }
}

/// Is auto-TAM on for this delivery? `ingesteld` holds OINs or codes (gm0363): the opdracht's
/// idBevoegdGezag, or the code at the end of the besluit's maker / eindverantwoordelijke.
pub fn auto_tam_voor(ingesteld: &[String], opdracht: &stop::opdracht::Opdracht, doc: &TamDocument) -> bool {
    let mut wie = vec![opdracht.id_bevoegd_gezag.clone()];
    for o in &doc.onderdelen {
        for k in ["stop:maker", "stop:eindverantwoordelijke"] {
            if let Some(v) = o.metadata.get(k) {
                wie.push(v.rsplit('/').next().unwrap_or(v).to_string());
            }
        }
    }
    ingesteld.iter().any(|i| wie.iter().any(|w| w.eq_ignore_ascii_case(i.trim())))
}

fn serde_fout(wat: &str, e: impl std::fmt::Display) -> IngestError {
    IngestError::Store(StoreError::Serde { what: wat.to_string(), message: e.to_string() })
}

// ---------------------------------------------------------------------------------------------
// The derived index

const RUIMTE: &str = "tam";
const FORMAAT_SLEUTEL: &str = "formaat";
const FORMAAT: &[u8] = b"1";
const ALLE: &str = "alle";
static SCHRIJVEN: Mutex<()> = Mutex::new(());

/// A conforming STOP version that superseded a TAM document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vervanging {
    pub expressie: String,
    pub seq: u64,
    pub ontvangen: String,
}

/// A TAM document as the index knows it (without its text chunks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TamOverzicht {
    pub id: String,
    pub tam: bool,
    pub seq: u64,
    /// Hash of the document blob (the full [`TamDocument`]).
    pub document: String,
    pub metadata: TamMetadata,
    pub ontvangen: String,
    pub bestand: TamBestand,
    pub automatisch: bool,
    pub redenen: Vec<String>,
    pub works: Vec<String>,
    /// Extraction failures (never fatal).
    pub fouten: Vec<String>,
    /// Number of text chunks found (what search indexes).
    pub stukken: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vervangen_door: Option<Vervanging>,
}

/// The TAM documents, derived from the ledger.
pub struct TamIndex {
    kv: Arc<Derived>,
}

impl TamIndex {
    /// Open the index, bringing it up to the ledger first.
    pub fn open(store: &Store) -> Result<TamIndex, IngestError> {
        let kv = store.derived(RUIMTE)?;
        let _g = SCHRIJVEN.lock().unwrap_or_else(|p| p.into_inner());
        let last = store.last_seq();
        if kv.get(FORMAAT_SLEUTEL)?.as_deref() != Some(FORMAAT) && kv.watermark()?.is_some() {
            kv.clear()?;
        }
        let from = match kv.watermark()? {
            Some((s, h)) if s <= last && store.record_hash(s) == Some(h) => s,
            None => 0,
            Some(_) => {
                kv.clear()?;
                0
            }
        };
        let index = TamIndex { kv };
        if from < last {
            index.bij(store, from, last, None)?;
        }
        Ok(index)
    }

    /// Bring the index up to the ledger after a commit: the just-committed records are given
    /// (no reading back) when they follow the watermark directly.
    pub fn na_commit(store: &Store, committed: &[LedgerRecord]) -> Result<(), IngestError> {
        let Some(eerste) = committed.first() else { return Ok(()) };
        let kv = store.derived(RUIMTE)?;
        {
            let _g = SCHRIJVEN.lock().unwrap_or_else(|p| p.into_inner());
            let wm = kv.watermark()?;
            let aansluitend = match wm {
                Some((s, h)) => s + 1 == eerste.seq && store.record_hash(s) == Some(h),
                None => eerste.seq == 1,
            };
            if aansluitend && kv.get(FORMAAT_SLEUTEL)?.as_deref().is_none_or(|f| f == FORMAAT) {
                let last = committed.last().map(|r| r.seq).unwrap_or(eerste.seq);
                let index = TamIndex { kv };
                return index.bij(store, eerste.seq - 1, last, Some(committed));
            }
        }
        TamIndex::open(store).map(|_| ())
    }

    /// Derive the index again from scratch. Returns the number of TAM documents.
    pub fn herbouw(store: &Store) -> Result<usize, IngestError> {
        let kv = store.derived(RUIMTE)?;
        {
            let _g = SCHRIJVEN.lock().unwrap_or_else(|p| p.into_inner());
            kv.clear()?;
        }
        Ok(TamIndex::open(store)?.alle()?.len())
    }

    fn lijst(&self, k: &str) -> Result<Vec<String>, IngestError> {
        match self.kv.get(k)? {
            Some(b) => serde_json::from_slice(&b).map_err(|e| serde_fout("TAM list", e)),
            None => Ok(Vec::new()),
        }
    }

    fn bij(&self, store: &Store, from: u64, last: u64, gegeven: Option<&[LedgerRecord]>) -> Result<(), IngestError> {
        let mut gegeven = gegeven.map(|g| g.iter());
        let mut puts: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut lijsten: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut docs: BTreeMap<String, TamOverzicht> = BTreeMap::new();
        let mut lees_lijst = |k: &str, lijsten: &mut BTreeMap<String, Vec<String>>| -> Result<(), IngestError> {
            if !lijsten.contains_key(k) {
                lijsten.insert(k.to_string(), self.lijst(k)?);
            }
            Ok(())
        };
        let mut seq = from;
        let mut volgende = || -> Result<Option<LedgerRecord>, IngestError> {
            seq += 1;
            if seq > last {
                return Ok(None);
            }
            if let Some(r) = gegeven.as_mut().and_then(|g| g.next()) {
                return Ok(Some(r.clone()));
            }
            Ok(store.record(seq)?)
        };
        while let Some(rec) = volgende()? {
            let seq = rec.seq;
            if let Some(h) = rec.rec.effects.tam {
                let doc: TamDocument = serde_json::from_slice(&store.get_blob(&h)?).map_err(|e| serde_fout("TAM document", e))?;
                let o = overzicht(&doc, seq, h);
                for k in std::iter::once(ALLE.to_string())
                    .chain(o.works.iter().map(|w| format!("lw:{w}")))
                    .chain(std::iter::once(format!("lg:{}", o.metadata.bevoegd_gezag)))
                {
                    lees_lijst(&k, &mut lijsten)?;
                    let l = lijsten.get_mut(&k).expect("read above");
                    if !l.contains(&o.id) {
                        l.push(o.id.clone());
                    }
                }
                docs.insert(o.id.clone(), o);
                continue;
            }
            if rec.rec.outcome == "niet-valide" {
                continue;
            }
            self.vervang(&rec, &mut lijsten, &mut docs, &mut lees_lijst)?;
        }
        for (k, v) in lijsten {
            puts.insert(k, serde_json::to_vec(&v).expect("list serialises"));
        }
        for (id, o) in docs {
            puts.insert(format!("d:{id}"), serde_json::to_vec(&o).expect("overview serialises"));
        }
        puts.insert(FORMAAT_SLEUTEL.into(), FORMAAT.to_vec());
        let puts: Vec<(String, Vec<u8>)> = puts.into_iter().collect();
        let wm = (last, store.record_hash(last).unwrap_or(Hash::ZERO));
        self.kv.apply(&puts, wm)?;
        if last > from {
            info!(from, to = last, "TAM index caught up");
        }
        Ok(())
    }

    /// A conforming regeling version of a work with TAM documents supersedes them.
    fn vervang(
        &self,
        rec: &LedgerRecord,
        lijsten: &mut BTreeMap<String, Vec<String>>,
        docs: &mut BTreeMap<String, TamOverzicht>,
        lees_lijst: &mut impl FnMut(&str, &mut BTreeMap<String, Vec<String>>) -> Result<(), IngestError>,
    ) -> Result<(), IngestError> {
        for e in &rec.rec.effects.expressions {
            if e.kind != "regeling" || e.ontwerp {
                continue;
            }
            let k = format!("lw:{}", e.work);
            lees_lijst(&k, lijsten)?;
            for id in lijsten.get(&k).cloned().unwrap_or_default() {
                if !docs.contains_key(&id)
                    && let Some(o) = self.document_overzicht(&id)?
                {
                    docs.insert(id.clone(), o);
                }
                if let Some(o) = docs.get_mut(&id)
                    && o.vervangen_door.is_none()
                    && o.seq < rec.seq
                {
                    o.vervangen_door =
                        Some(Vervanging { expressie: e.expression.clone(), seq: rec.seq, ontvangen: rec.rec.received_at.clone() });
                }
            }
        }
        Ok(())
    }

    fn document_overzicht(&self, id: &str) -> Result<Option<TamOverzicht>, IngestError> {
        match self.kv.get(&format!("d:{id}"))? {
            Some(b) => Ok(Some(serde_json::from_slice(&b).map_err(|e| serde_fout("TAM overview", e))?)),
            None => Ok(None),
        }
    }

    /// One TAM document's overview.
    pub fn get(&self, id: &str) -> Result<Option<TamOverzicht>, IngestError> {
        self.document_overzicht(id)
    }

    fn lees(&self, ids: Vec<String>) -> Result<Vec<TamOverzicht>, IngestError> {
        let mut v = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(o) = self.document_overzicht(&id)? {
                v.push(o);
            }
        }
        Ok(v)
    }

    /// Every TAM document, in ledger order.
    pub fn alle(&self) -> Result<Vec<TamOverzicht>, IngestError> {
        self.lees(self.lijst(ALLE)?)
    }

    /// The TAM documents of a regeling work, in ledger order.
    pub fn van_werk(&self, work: &str) -> Result<Vec<TamOverzicht>, IngestError> {
        self.lees(self.lijst(&format!("lw:{work}"))?)
    }

    /// The TAM documents of a bevoegd gezag, in ledger order.
    pub fn van_bevoegd_gezag(&self, bg: &str) -> Result<Vec<TamOverzicht>, IngestError> {
        self.lees(self.lijst(&format!("lg:{bg}"))?)
    }
}

fn overzicht(doc: &TamDocument, seq: u64, h: Hash) -> TamOverzicht {
    TamOverzicht {
        id: doc.id.clone(),
        tam: true,
        seq,
        document: h.to_hex(),
        metadata: doc.metadata.clone(),
        ontvangen: doc.ontvangen.clone(),
        bestand: doc.bestand.clone(),
        automatisch: doc.automatisch,
        redenen: doc.redenen.clone(),
        works: doc.works.clone(),
        fouten: doc.fouten(),
        stukken: doc.onderdelen.iter().map(|o| o.stukken.len()).sum(),
        vervangen_door: None,
    }
}

/// Read a TAM document in full (with its text chunks).
pub fn document(store: &Store, o: &TamOverzicht) -> Result<TamDocument, IngestError> {
    let h: Hash = o.document.parse().map_err(|e| serde_fout("TAM document hash", e))?;
    serde_json::from_slice(&store.get_blob(&h)?).map_err(|e| serde_fout("TAM document", e))
}

/// The bytes exactly as received (verified against their hash on read).
pub fn bestand(store: &Store, o: &TamOverzicht) -> Result<Vec<u8>, IngestError> {
    let h: Hash = o.bestand.hash.parse().map_err(|e| serde_fout("TAM file hash", e))?;
    Ok(store.get_blob(&h)?)
}

/// A TAM document on a regeling's timeline: at its bekendmaking date, marked, with what
/// superseded it. Shown next to the toestanden, never as one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TamOpTijdlijn {
    pub id: String,
    pub tam: bool,
    pub datum_bekendmaking: String,
    pub soort: String,
    pub titel: String,
    pub bevoegd_gezag: String,
    /// The regeling work it belongs to, when the submission named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regeling: Option<String>,
    pub automatisch: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vervangen_door: Option<String>,
}

/// The TAM documents of `work` received on or before `beschikbaar_op` (YYYY-MM-DD), by
/// bekendmaking date: what a timeline as known then shows next to the toestanden.
pub fn op_tijdlijn(store: &Store, work: &str, beschikbaar_op: &str) -> Result<Vec<TamOpTijdlijn>, IngestError> {
    Ok(zoals_bekend_op(TamIndex::open(store)?.van_werk(work)?, beschikbaar_op))
}

/// The TAM documents of a bevoegd gezag received on or before `beschikbaar_op`, by
/// bekendmaking date, also those that belong to no regeling yet (the usual case for a
/// TAM-omgevingsplan). `namen` are the names it is known by: its code (`gm0363`) and the OINs
/// it delivers with, as a submission may give either.
pub fn van_bevoegd_gezag_op(store: &Store, namen: &[&str], beschikbaar_op: &str) -> Result<Vec<TamOpTijdlijn>, IngestError> {
    let index = TamIndex::open(store)?;
    let mut docs: Vec<TamOverzicht> = Vec::new();
    for naam in namen {
        for o in index.van_bevoegd_gezag(naam)? {
            if !docs.iter().any(|d| d.id == o.id) {
                docs.push(o);
            }
        }
    }
    Ok(zoals_bekend_op(docs, beschikbaar_op))
}

/// The documents received on or before `beschikbaar_op`, each with what superseded it as known
/// then, by bekendmaking date.
fn zoals_bekend_op(docs: Vec<TamOverzicht>, beschikbaar_op: &str) -> Vec<TamOpTijdlijn> {
    let bekend = |ontvangen: &str| ontvangen.get(..10).is_some_and(|d| d <= beschikbaar_op);
    let mut v: Vec<TamOpTijdlijn> = docs
        .into_iter()
        .filter(|o| bekend(&o.ontvangen))
        .map(|o| TamOpTijdlijn {
            id: o.id,
            tam: true,
            datum_bekendmaking: o.metadata.datum_bekendmaking,
            soort: o.metadata.soort,
            titel: o.metadata.titel,
            bevoegd_gezag: o.metadata.bevoegd_gezag,
            regeling: o.metadata.regeling,
            automatisch: o.automatisch,
            vervangen_door: o.vervangen_door.filter(|v| bekend(&v.ontvangen)).map(|v| v.expressie),
        })
        .collect();
    v.sort_by(|a, b| a.datum_bekendmaking.cmp(&b.datum_bekendmaking).then(a.id.cmp(&b.id)));
    v
}
