//! The processing pipeline: package → integrity → opdracht → STOP modules → checks → commit.
//!
//! Bad input is never an `Err`: it is an [`IngestResult`] with uitkomst `niet-valide` and its
//! meldingen, and the store is unchanged. `Err` is reserved for failures of the machine itself
//! (disk, corrupt store).
//!
//! Memory: files are read one at a time through the package's bounded reader, hashed, staged in
//! the store transaction, parsed, and dropped; only the typed modules stay. Peak memory is the
//! largest file plus its XML tree.

use crate::package::{self, Limits, Package, PackageError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use validator::xsd::SchemaSets;
use stop::tekst::Tekst;
use crate::consolidatie;
use stop::manifest::{parse_manifest, Manifest};
use stop::module::{parse_bestand, Inhoud, ModuleSoort};
use validator::{BestandInfo, Historie, Levering, Module};

use crate::historie::StoreHistorie;
use stop::opdracht::{parse_opdracht, Opdracht, OpdrachtSoort};
use stop::{Ernst, Melding};
use store::{Effects, ExpressionEntry, FileRef, Hash, NewRecord, Store, StoreError, WorkEntry};

/// Settings of one pipeline run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The clock for date rules (deliveries in tests are dated in the past).
    pub today: NaiveDate,
    /// Receipt time recorded in the ledger.
    pub now: DateTime<Utc>,
    pub limits: Limits,
    /// Run the validator's rules (per file and per package). Always on in regelbank; off only
    /// in benchmarks, to measure what the rules cost.
    pub regels: bool,
    /// The XSD layer: every XML file validated against the schema set of its schemaversie.
    /// `None`: the layer does not run, and every report says so (RB4002).
    pub schemas: Option<Arc<SchemaSets>>,
    /// Bevoegde gezagen (OIN, or code such as gm0363) whose publicatieOpdrachten that fail
    /// validation are published through TAM instead of rejected (auto-TAM). Empty: off.
    pub auto_tam: Vec<String>,
    /// Bring the search index up to every group commit (always on in regelbank; off only in
    /// benchmarks, to measure what indexing costs: the index then catches up on the next
    /// search, batch or `regelbank reindex`).
    pub search_index: bool,
    /// Use a second thread where the work allows it (the search index follows each group on a
    /// thread of its own). Off: everything in line, for single-threaded benchmark figures.
    pub parallel: bool,
}

impl Config {
    pub fn new(today: NaiveDate) -> Config {
        Config {
            today,
            now: Utc::now(),
            limits: Limits::default(),
            regels: true,
            schemas: None,
            auto_tam: Vec::new(),
            search_index: true,
            parallel: true,
        }
    }

    /// The same with the XSD layer on.
    pub fn met_schemas(mut self, schemas: Arc<SchemaSets>) -> Config {
        self.schemas = Some(schemas);
        self
    }
}

/// Outcome of a delivery, in LVBB terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Uitkomst {
    /// A validatie…Opdracht without blocking meldingen (nothing stored).
    Valide,
    /// Blocking meldingen: rejected, nothing stored.
    NietValide,
    /// A publicatieOpdracht accepted and stored.
    Gepubliceerd,
    /// A breekPublicatieAfOpdracht carried out.
    Afgebroken,
    /// A revisie, procedureverloopmutatie or directe mutatie carried out.
    MutatieVoltooid,
    /// A registratieOpdracht carried out.
    RegistratieVoltooid,
    /// A publicatieOpdracht that failed validation, published through TAM (auto-TAM): stored
    /// as received with its report, never consolidated.
    Tam,
}

impl Uitkomst {
    pub fn as_str(self) -> &'static str {
        match self {
            Uitkomst::Valide => "valide",
            Uitkomst::NietValide => "niet-valide",
            Uitkomst::Gepubliceerd => "gepubliceerd",
            Uitkomst::Afgebroken => "afgebroken",
            Uitkomst::MutatieVoltooid => "mutatie-voltooid",
            Uitkomst::RegistratieVoltooid => "registratie-voltooid",
            Uitkomst::Tam => "tam",
        }
    }

    pub fn accepted(self) -> bool {
        self != Uitkomst::NietValide
    }

    fn for_opdracht(s: OpdrachtSoort) -> Uitkomst {
        use OpdrachtSoort::*;
        match s {
            PublicatieOpdracht => Uitkomst::Gepubliceerd,
            BreekPublicatieAfOpdracht => Uitkomst::Afgebroken,
            RevisieOpdracht | ProcedureverloopmutatieOpdracht | DirecteMutatieOpdracht => {
                Uitkomst::MutatieVoltooid
            }
            RegistratieOpdracht => Uitkomst::RegistratieVoltooid,
            _ => Uitkomst::Valide,
        }
    }

    fn parse(s: &str) -> Uitkomst {
        match s {
            "valide" => Uitkomst::Valide,
            "gepubliceerd" => Uitkomst::Gepubliceerd,
            "afgebroken" => Uitkomst::Afgebroken,
            "mutatie-voltooid" => Uitkomst::MutatieVoltooid,
            "registratie-voltooid" => Uitkomst::RegistratieVoltooid,
            "tam" => Uitkomst::Tam,
            _ => Uitkomst::NietValide,
        }
    }
}

/// The result of processing one package: the report plus what it changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestResult {
    /// Where the package came from (path as given).
    pub bron: String,
    pub id_levering: Option<String>,
    pub opdracht: Option<OpdrachtSoort>,
    pub uitkomst: Uitkomst,
    pub meldingen: Vec<Melding>,
    /// Ledger sequence number when stored.
    pub seq: Option<u64>,
    /// True when this exact package was delivered before: the earlier result is returned and
    /// nothing is stored twice.
    pub herhaald: bool,
    pub package_hash: Option<String>,
    pub works: Vec<String>,
    pub expressions: Vec<String>,
    /// The TAM document id when the delivery was published through TAM (auto-TAM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tam: Option<String>,
}

/// The report stored with every committed delivery (blob, JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub id_levering: String,
    pub opdracht: OpdrachtSoort,
    pub uitkomst: Uitkomst,
    pub ontvangen: String,
    pub package_hash: String,
    pub meldingen: Vec<Melding>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading history for the validator failed: {0}")]
    Historie(validator::HistorieFout),
}

/// Process a package as its opdracht says and, when accepted and not a validation request,
/// commit it to the store.
pub fn ingest(store: &Store, path: &Path, cfg: &Config) -> Result<IngestResult, IngestError> {
    let mut out = ingest_many(store, &[path], cfg, |_| {})?;
    Ok(out.remove(0))
}

/// Check a package without storing anything. With a store, checks that need history (is this
/// idLevering used, does the publication to cancel exist) run against it.
pub fn validate(store: Option<&Store>, path: &Path, cfg: &Config) -> Result<IngestResult, IngestError> {
    Ok(prepare(store, None, Pending::default(), None, path, cfg)?.result)
}

/// Deliveries committed together at most (group commit).
pub const MAX_GROUP: usize = 256;
/// Bytes of package files committed together at most.
pub const MAX_GROUP_BYTES: u64 = 512 << 20;

/// Process packages in order, with the same outcome as calling [`ingest`] on each in turn,
/// but committing accepted deliveries in groups (one durable sync per group instead of one per
/// delivery). A result is final only when its group is committed: `on_result` is called for
/// each package, in order, as soon as its result is final.
pub fn ingest_many<P: AsRef<Path>>(
    store: &Store,
    paths: &[P],
    cfg: &Config,
    on_result: impl FnMut(&IngestResult),
) -> Result<Vec<IngestResult>, IngestError> {
    // The search index follows each group commit on a thread of its own while the next group
    // is processed; it has caught up when this returns.
    std::thread::scope(|sc| {
        let zoek = match (cfg.search_index, cfg.parallel) {
            (false, _) => crate::zoek::Werker::uit(),
            (true, false) => crate::zoek::Werker::in_lijn(store),
            (true, true) => crate::zoek::Werker::start(sc, store),
        };
        let r = ingest_groepen(store, paths, cfg, on_result, &zoek);
        zoek.klaar();
        r
    })
}

fn ingest_groepen<P: AsRef<Path>>(
    store: &Store,
    paths: &[P],
    cfg: &Config,
    mut on_result: impl FnMut(&IngestResult),
    zoek: &crate::zoek::Werker<'_>,
) -> Result<Vec<IngestResult>, IngestError> {
    let mut results: Vec<IngestResult> = Vec::with_capacity(paths.len());
    let mut reported = 0;
    let mut group = Group::default();
    let mut txn = None;
    let mut sessie = crate::tijdreis::Sessie::open(store)?;
    for path in paths {
        let path = path.as_ref();
        if txn.is_none() {
            txn = Some(begin(store)?);
        }
        let mut prep = prepare(Some(store), txn.as_mut(), group.pending(), Some(&mut sessie), path, cfg)?;
        // A delivery that depends on one still in the group (the same idLevering, or an afbreek
        // request whose target may be in it) waits until the group is committed.
        if group.conflicts(&prep) {
            if let Some(t) = txn.take() {
                group.commit(t, &mut results, store, &mut sessie, zoek)?;
            }
            txn = Some(begin(store)?);
            prep = prepare(Some(store), txn.as_mut(), group.pending(), Some(&mut sessie), path, cfg)?;
        }
        let index = results.len();
        results.push(prep.result);
        if let Some(rec) = prep.record {
            for v in &prep.versies {
                if let Some(root) = rec.effects.expressions.iter().find(|e| e.expression == v.expressie).and_then(|e| e.tekst) {
                    zoek.tekst(root, &v.tekst);
                }
            }
            group.add(index, rec, prep.wids, prep.versies);
            if let Some(stap) = prep.tijdreis {
                sessie.neem_over(stap);
            }
        }
        if group.full()
            && let Some(t) = txn.take()
        {
            group.commit(t, &mut results, store, &mut sessie, zoek)?;
        }
        let done = group.first_pending().unwrap_or(results.len());
        for r in &results[reported..done] {
            on_result(r);
        }
        reported = done;
    }
    if let Some(t) = txn.take() {
        group.commit(t, &mut results, store, &mut sessie, zoek)?;
    }
    for r in &results[reported..] {
        on_result(r);
    }
    Ok(results)
}

/// A transaction for a group: each delivery's small blobs (package files, report, listing,
/// procedure, exchange) are stored as one bundle, not a file each.
fn begin(store: &Store) -> Result<store::Txn<'_>, IngestError> {
    let mut t = store.begin()?;
    t.bundle_small_blobs(true);
    Ok(t)
}

/// Deliveries staged in one transaction, waiting for their group commit.
#[derive(Default)]
struct Group {
    indices: Vec<usize>,
    recs: Vec<NewRecord>,
    wids: HashMap<String, BTreeSet<String>>,
    versies: HashMap<String, consolidatie::Versie>,
    keys: std::collections::HashSet<(String, String)>,
    bytes: u64,
}

impl Group {
    fn pending(&self) -> Pending<'_> {
        Pending { records: &self.recs, wids: Some(&self.wids), versies: Some(&self.versies) }
    }

    fn conflicts(&self, prep: &Prepared) -> bool {
        !self.recs.is_empty() && (prep.afbreek || prep.key.as_ref().is_some_and(|k| self.keys.contains(k)))
    }

    fn add(&mut self, index: usize, rec: NewRecord, wids: Vec<(String, BTreeSet<String>)>, versies: Vec<consolidatie::Versie>) {
        self.versies.extend(versies.into_iter().map(|v| (v.expressie.clone(), v)));
        self.keys.insert((rec.aanleveraar.clone(), rec.id_levering.clone()));
        self.bytes += rec.files.iter().map(|f| f.size).sum::<u64>();
        self.wids.extend(wids);
        self.indices.push(index);
        self.recs.push(rec);
    }

    fn full(&self) -> bool {
        self.recs.len() >= MAX_GROUP || self.bytes >= MAX_GROUP_BYTES
    }

    fn first_pending(&self) -> Option<usize> {
        self.indices.first().copied()
    }

    /// Commit the group, write the time-travel state with the new ledger watermark, then hand
    /// the group to the search index thread.
    fn commit(
        &mut self,
        txn: store::Txn<'_>,
        results: &mut [IngestResult],
        store: &Store,
        sessie: &mut crate::tijdreis::Sessie,
        zoek: &crate::zoek::Werker<'_>,
    ) -> Result<(), IngestError> {
        let indices = std::mem::take(&mut self.indices);
        let recs = std::mem::take(&mut self.recs);
        self.wids.clear();
        self.versies.clear();
        self.keys.clear();
        self.bytes = 0;
        if recs.is_empty() {
            return Ok(());
        }
        // From the ledger commit until the group's time-travel state is written, a session
        // opened elsewhere (the search thread) waits rather than replay the group itself.
        let slot = crate::tijdreis::schrijfslot();
        let committed = txn.commit_many(recs)?;
        let last = committed.last().map(|r| r.seq);
        for (i, lrec) in indices.into_iter().zip(&committed) {
            results[i].seq = Some(lrec.seq);
        }
        if let Some(seq) = last {
            sessie.schrijf_met(&slot, (seq, store.record_hash(seq).unwrap_or(Hash::ZERO)))?;
            drop(slot);
            zoek.bij(seq);
        }
        crate::tam::TamIndex::na_commit(store, &committed)?;
        Ok(())
    }
}

/// One package checked and, when storing, its blobs staged and its record built.
struct Prepared {
    result: IngestResult,
    record: Option<NewRecord>,
    /// (aanleveraar, idLevering), when the opdracht was readable.
    key: Option<(String, String)>,
    afbreek: bool,
    /// wIds of the regeling expressions this delivery adds.
    wids: Vec<(String, BTreeSet<String>)>,
    /// Texts (with provenance) of the regeling versions this delivery adds.
    versies: Vec<consolidatie::Versie>,
    /// The delivery's exchange as the time-travel engine processed it (merged into the
    /// session when the delivery is staged).
    tijdreis: Option<crate::tijdreis::Stap>,
}

impl Prepared {
    fn done(result: IngestResult) -> Prepared {
        Prepared { result, record: None, key: None, afbreek: false, wids: Vec::new(), versies: Vec::new(), tijdreis: None }
    }
}

fn rejected(bron: &str, opdracht: Option<&Opdracht>, meldingen: Vec<Melding>, package_hash: Option<String>) -> IngestResult {
    let mut meldingen = meldingen;
    stop::melding::sort_meldingen(&mut meldingen);
    IngestResult {
        bron: bron.to_string(),
        id_levering: opdracht.map(|o| o.id_levering.clone()),
        opdracht: opdracht.map(|o| o.soort),
        uitkomst: Uitkomst::NietValide,
        meldingen,
        seq: None,
        herhaald: false,
        package_hash,
        works: Vec::new(),
        expressions: Vec::new(),
        tam: None,
    }
}

/// A STOP file after validation: the module and the hash of its bytes.
struct Verwerkt<'a> {
    module: &'a Module,
    hash: Hash,
}

/// The XSD layer on one file, when a schema directory is configured. Schema errors in
/// opdracht.xml and manifest.xml are the LVBB's own rules LVBB1006 and LVBB1008.
fn xsd(cfg: &Config, bestand: &str, bytes: &[u8], meldingen: &mut Vec<Melding>) {
    let Some(sets) = &cfg.schemas else { return };
    let code = match bestand {
        package::OPDRACHT_BESTAND => Some("LVBB1006"),
        stop::manifest::MANIFEST_BESTAND => Some("LVBB1008"),
        _ => None,
    };
    for mut m in sets.valideer_bestand(bestand, bytes) {
        if let Some(c) = code
            && m.code == "RB4001"
        {
            m.code = c.to_string();
        }
        meldingen.push(m);
    }
}

/// What a group commit has staged so far, for later packages of the same run.
#[derive(Default, Clone, Copy)]
struct Pending<'a> {
    records: &'a [NewRecord],
    wids: Option<&'a HashMap<String, BTreeSet<String>>>,
    versies: Option<&'a HashMap<String, consolidatie::Versie>>,
}

/// Was-version texts and their provenance: staged earlier in this group, else from the store.
struct PipelineBron<'a> {
    store: Option<&'a Store>,
    historie: &'a StoreHistorie<'a>,
    pending: Option<&'a HashMap<String, consolidatie::Versie>>,
}

impl consolidatie::Bron for PipelineBron<'_> {
    fn tekst(&self, expressie: &str) -> Result<Option<Tekst>, IngestError> {
        if let Some(v) = self.pending.and_then(|p| p.get(expressie)) {
            return Ok(Some(v.tekst.tekst()));
        }
        self.historie.opgeslagen_tekst(expressie)
    }

    fn herkomst(&self, expressie: &str) -> Result<Option<consolidatie::Herkomst>, IngestError> {
        if let Some(v) = self.pending.and_then(|p| p.get(expressie)) {
            return Ok(Some(v.herkomst.clone()));
        }
        let Some(s) = self.store else { return Ok(None) };
        let Some(h) = s.index().expression(expressie)?.and_then(|e| e.entry.herkomst) else { return Ok(None) };
        consolidatie::Herkomst::parse(&s.read_tree(&h)?).map(Some).map_err(|e| {
            IngestError::Store(StoreError::Serde { what: format!("provenance of {expressie}"), message: e.to_string() })
        })
    }
}

/// Current procedures from the store. A besluit staged earlier in this group is not readable
/// yet: `in_groep` tells the caller to wait for the group's commit.
struct ProcedureBron<'a> {
    store: Option<&'a Store>,
    pending: &'a [NewRecord],
    in_groep: std::cell::Cell<bool>,
}

impl crate::procedure::Bron for ProcedureBron<'_> {
    fn procedure(&self, besluit: &str) -> Result<Option<crate::procedure::Procedure>, IngestError> {
        if self.pending.iter().any(|r| r.effects.expressions.iter().any(|e| e.expression == besluit && e.procedure.is_some())) {
            self.in_groep.set(true);
            return Ok(None);
        }
        let Some(s) = self.store else { return Ok(None) };
        let Some(h) = s.index().expression(besluit)?.and_then(|e| e.entry.procedure) else { return Ok(None) };
        let bytes = s.get_blob(&h)?;
        Ok(serde_json::from_slice(&bytes).ok())
    }
}

/// True when a STOP file's text contains a RegelingMutatie.
fn heeft_mutatie(inhoud: &Inhoud) -> bool {
    let mut teksten: Vec<&stop::module::TekstInfo> = Vec::new();
    match inhoud {
        Inhoud::Besluit(b) => teksten.extend(b.tekst.iter().chain(b.tekstrevisie.iter())),
        Inhoud::Revisie(p) | Inhoud::Rectificatie(p) | Inhoud::Mededeling(p) => teksten.extend(p.tekst.iter()),
        _ => {}
    }
    teksten.iter().any(|t| t.regelingen.iter().any(|r| r.element == "RegelingMutatie"))
}

/// Check one package. With `txn` (storing), the package's blobs are staged in `txn` and its
/// ledger record returned (accepted or, for audit, rejected); nothing is committed here.
fn prepare(
    store: Option<&Store>,
    mut txn: Option<&mut store::Txn<'_>>,
    pending: Pending<'_>,
    mut sessie: Option<&mut crate::tijdreis::Sessie>,
    path: &Path,
    cfg: &Config,
) -> Result<Prepared, IngestError> {
    let bron = path.display().to_string();
    let pkg = match Package::open(path, &cfg.limits) {
        Ok(p) => p,
        Err(PackageError { meldingen }) => return Ok(Prepared::done(rejected(&bron, None, meldingen, None))),
    };
    let mut meldingen: Vec<Melding> = Vec::new();

    // Manifest and opdracht first: they decide what the rest means.
    let read = |name: &str, meldingen: &mut Vec<Melding>| -> Option<Vec<u8>> {
        if !pkg.contains(name) {
            return None;
        }
        match pkg.read(name) {
            Ok(b) => Some(b),
            Err(e) => {
                meldingen.extend(e.meldingen);
                None
            }
        }
    };
    let manifest: Option<Manifest> = read(stop::manifest::MANIFEST_BESTAND, &mut meldingen).and_then(|b| {
        let m = parse_manifest(&b).map_err(|m| meldingen.extend(m)).ok();
        if m.is_some() {
            xsd(cfg, stop::manifest::MANIFEST_BESTAND, &b, &mut meldingen);
        }
        m
    });
    meldingen.extend(package::check_integrity(&pkg, manifest.as_ref()));
    let opdracht: Option<Opdracht> = read(package::OPDRACHT_BESTAND, &mut meldingen).and_then(|b| {
        let kopie = cfg.schemas.is_some().then(|| b.clone());
        match parse_opdracht(b) {
            Ok((o, m)) => {
                meldingen.extend(m);
                if let Some(b) = kopie {
                    xsd(cfg, package::OPDRACHT_BESTAND, &b, &mut meldingen);
                }
                Some(o)
            }
            Err(m) => {
                meldingen.extend(m);
                None
            }
        }
    });
    let Some(opdracht) = opdracht else {
        return Ok(Prepared::done(rejected(&bron, None, meldingen, None)));
    };
    let key = Some((opdracht.id_aanleveraar.clone(), opdracht.id_levering.clone()));
    let afbreek = opdracht.soort == OpdrachtSoort::BreekPublicatieAfOpdracht;
    // A delivery without identity cannot be recorded (the ledger is keyed by it).
    if opdracht.id_levering.is_empty() || opdracht.id_aanleveraar.is_empty() {
        txn = None;
    }

    // Every file once: bounded read, hash, stage, parse, validate, drop the bytes and the tree.
    let mut files: Vec<FileRef> = Vec::new();
    let mut bestanden: Vec<BestandInfo> = Vec::new();
    let mut modules: Vec<Module> = Vec::new();
    let mut module_hashes: Vec<Hash> = Vec::new();
    // Regeling texts and mutations, for consolidation (initial texts only when storing, since
    // cutting a large regeling out of its besluit costs time; mutations always, to check them).
    let opslaan = txn.is_some() && !opdracht.soort.is_validatie();
    let mut teksten: Vec<(String, consolidatie::Teksten)> = Vec::new();
    for entry in pkg.entries() {
        let name = entry.name.clone();
        let bytes = match pkg.read(&name) {
            Ok(b) => b,
            Err(e) => {
                meldingen.extend(e.meldingen);
                continue;
            }
        };
        let hash = match txn.as_mut() {
            Some(t) => t.put_blob(&bytes)?,
            None => Hash::of(&bytes),
        };
        files.push(FileRef {
            name: name.clone(),
            hash,
            size: bytes.len() as u64,
            content_type: manifest.as_ref().and_then(|m| m.bestand(&name)).map(|b| b.content_type.clone()),
        });
        let lower = name.to_ascii_lowercase();
        let sha512 = (!lower.ends_with(".xml")).then(|| hex::encode(Sha512::digest(&bytes)));
        bestanden.push(BestandInfo { naam: name.clone(), grootte: bytes.len() as u64, sha512 });
        let is_xml = lower.ends_with(".xml") || lower.ends_with(".gml");
        if !is_xml || name == package::OPDRACHT_BESTAND || name == stop::manifest::MANIFEST_BESTAND {
            continue;
        }
        match parse_bestand(&name, bytes) {
            Ok((b, m)) => {
                meldingen.extend(m);
                // The XSD layer reads the bytes the tree was parsed from (no second copy).
                xsd(cfg, &name, b.document.source().as_bytes(), &mut meldingen);
                if cfg.regels && (opslaan || heeft_mutatie(&b.inhoud)) {
                    let t = consolidatie::teksten(&b, opdracht.datum_bekendmaking_tekst.as_deref());
                    if !t.is_empty() {
                        teksten.push((name.clone(), t));
                    }
                }
                let module = if cfg.regels {
                    validator::valideer_bestand(b, &mut meldingen)
                } else {
                    validator::module_zonder_regels(b)
                };
                modules.push(module);
                module_hashes.push(hash);
            }
            Err(m) => meldingen.extend(m),
        }
    }
    let listing: Vec<(String, [u8; 32])> = files.iter().map(|f| (f.name.clone(), f.hash.0)).collect();
    let listing_bytes = package::package_listing(&listing);
    let package_hash = Hash::of(&listing_bytes);
    let ph_hex = package_hash.to_hex();

    // The same package again: the earlier result, nothing stored twice.
    if let Some(s) = store
        && let Some(seq) = s.index().delivery_by_levering(&opdracht.id_aanleveraar, &opdracht.id_levering)?
        && let Some(earlier) = s.record(seq)?
        && earlier.rec.package_hash == package_hash
    {
        let result = repeated(s, &bron, &opdracht, seq, &earlier.rec)?;
        return Ok(Prepared { result, record: None, key, afbreek, wids: Vec::new(), versies: Vec::new(), tijdreis: None });
    }

    let empty = HashMap::new();
    let historie = StoreHistorie::new(store, pending.records, pending.wids.unwrap_or(&empty));
    let verwerkt: Vec<Verwerkt<'_>> =
        modules.iter().zip(&module_hashes).map(|(module, &hash)| Verwerkt { module, hash }).collect();
    let levering = Levering {
        opdracht: &opdracht,
        manifest: manifest.as_ref(),
        bestanden: &bestanden,
        modules: &modules,
        vandaag: cfg.today,
        historie: &historie,
        package_hash: Some(&ph_hex),
    };
    if cfg.regels {
        validator::valideer_levering(&levering, &mut meldingen).map_err(IngestError::Historie)?;
    }
    if cfg.schemas.is_none() {
        meldingen.push(validator::xsd::niet_uitgevoerd());
    }
    // Text consolidation: build every new regeling version; a mutation that cannot be applied
    // rejects the besluit (its meldingen join the report).
    let mut nieuwe_versies: Vec<consolidatie::Versie> = Vec::new();
    if cfg.regels && !teksten.is_empty() {
        let bron = PipelineBron { store, historie: &historie, pending: pending.versies };
        let mut extra = Vec::new();
        nieuwe_versies = consolidatie::versies(&teksten, &bron, &mut extra)?;
        consolidatie::voeg_toe_zonder_dubbele(&mut meldingen, extra);
    }
    drop(teksten);

    // Versiebeheer: the engine processes the delivery's consolidation information; what it
    // rejects rejects the delivery.
    let mut stap: Option<crate::tijdreis::Stap> = None;
    if cfg.regels && !stop::melding::has_fout(&meldingen) && crate::tijdreis::voedt_engine(opdracht.soort) {
        let mut tijdelijk;
        let sessie: &mut crate::tijdreis::Sessie = match sessie.as_deref_mut() {
            Some(s) => s,
            None => {
                tijdelijk = match store {
                    Some(s) => crate::tijdreis::Sessie::open(s)?,
                    None => crate::tijdreis::Sessie::leeg(),
                };
                &mut tijdelijk
            }
        };
        let gemaakt_op = sessie.volgende_gemaakt_op(cfg.today, cfg.now);
        let ontvangen_op = cfg.today.format("%Y-%m-%d").to_string();
        match crate::tijdreis::uitwisseling_van(&modules, &opdracht, &gemaakt_op, &ontvangen_op) {
            None => {}
            Some(Err(m)) => meldingen.extend(m),
            Some(Ok((u, was_van, vervlechtingen))) => match sessie.probeer(u, &was_van, &vervlechtingen)? {
                Ok(s) => {
                    meldingen.extend(s.meldingen.iter().cloned());
                    stap = Some(s);
                }
                Err(m) => meldingen.extend(m),
            },
        }
    }

    stop::melding::sort_meldingen(&mut meldingen);
    let fout = stop::melding::has_fout(&meldingen);
    // A used idLevering cannot be recorded again: such a package is only reported.
    if meldingen.iter().any(|m| m.code == "LVBB1012") {
        txn = None;
    }
    let commit = txn.is_some();
    let uitkomst = if fout {
        Uitkomst::NietValide
    } else if commit {
        Uitkomst::for_opdracht(opdracht.soort)
    } else {
        Uitkomst::Valide
    };
    // Auto-TAM: a failed publicatieOpdracht of a bevoegd gezag configured for it is published
    // through TAM (kept as received, with its report; never consolidated).
    let mut tam_doc: Option<(crate::tam::TamDocument, Option<Vec<u8>>)> = None;
    if fout && commit && opdracht.soort == OpdrachtSoort::PublicatieOpdracht && !cfg.auto_tam.is_empty() {
        let origineel = if path.is_file() { std::fs::read(path).ok() } else { None };
        let mut bestanden = Vec::new();
        for entry in pkg.entries() {
            if let Ok(b) = pkg.read(&entry.name) {
                bestanden.push((entry.name.clone(), b));
            }
        }
        let doc = crate::tam::auto_tam(
            &bron,
            origineel.as_deref().map(|b| (b, Hash::of(b))),
            &bestanden,
            &opdracht,
            &meldingen,
            package_hash,
            &cfg.now,
        );
        if crate::tam::auto_tam_voor(&cfg.auto_tam, &opdracht, &doc) {
            tam_doc = Some((doc, origineel));
        }
    }
    let uitkomst = if tam_doc.is_some() { Uitkomst::Tam } else { uitkomst };
    let changes = !fout && !opdracht.soort.is_validatie();
    let mut wids: Vec<(String, BTreeSet<String>)> = Vec::new();
    let mut effects = if !changes {
        Effects::default()
    } else if afbreek {
        match store {
            Some(s) => {
                let (afgebroken, seqs) = afgebroken_door(s, &opdracht)?;
                // Versiebeheer: the cancelled information is withdrawn from every view.
                if let Some(sessie) = sessie.as_deref_mut() {
                    let gemaakt_op = sessie.volgende_gemaakt_op(cfg.today, cfg.now);
                    let ontvangen_op = cfg.today.format("%Y-%m-%d").to_string();
                    stap = match sessie.afbreken(s, &seqs, &gemaakt_op, &ontvangen_op)? {
                        Some(Ok(st)) => Some(st),
                        Some(Err(m)) => {
                            tracing::warn!(meldingen = ?m, "cancelling in the time-travel engine failed");
                            None
                        }
                        None => None,
                    };
                }
                Effects { afgebroken, ..Default::default() }
            }
            None => Effects::default(),
        }
    } else {
        wids = wids_of(&verwerkt, &historie)?;
        effects_of(&opdracht, &verwerkt)
    };
    let result = IngestResult {
        bron,
        id_levering: Some(opdracht.id_levering.clone()),
        opdracht: Some(opdracht.soort),
        uitkomst,
        meldingen,
        seq: None,
        herhaald: false,
        package_hash: Some(ph_hex.clone()),
        works: effects.works.iter().map(|w| w.work.clone()).collect(),
        expressions: effects.expressions.iter().map(|e| e.expression.clone()).collect(),
        tam: tam_doc.as_ref().map(|(d, _)| d.id.clone()),
    };
    let Some(txn) = txn else {
        return Ok(Prepared { result, record: None, key, afbreek, wids: Vec::new(), versies: Vec::new(), tijdreis: None });
    };
    if !changes {
        stap = None;
    }
    if let Some(s) = &stap {
        let json = serde_json::to_vec(&s.uitwisseling).expect("exchange serialises");
        effects.uitwisseling = Some(txn.put_blob(&json)?);
    }
    let mut derived: Vec<Hash> = Vec::new();
    if !changes {
        nieuwe_versies.clear();
    }
    nieuwe_versies.retain(|v| effects.expressions.iter().any(|e| e.expression == v.expressie));
    for v in &nieuwe_versies {
        // The text and its provenance (which shares unchanged leaves with the was-version's) in
        // one pack, each node hashed once.
        let mut w = txn.tree_writer()?;
        let tekst = v.tekst.schrijf(&mut |n| w.put(n))?;
        let herkomst = if v.herkomst.is_empty() { None } else { Some(v.herkomst.schrijf(&mut |n| w.put(n))?) };
        let put = w.finish()?;
        derived.extend(put.needs.iter().copied());
        derived.extend(put.pack);
        if let Some(e) = effects.expressions.iter_mut().find(|e| e.expression == v.expressie) {
            e.tekst = Some(tekst);
            e.herkomst = herkomst;
        }
    }
    derived.sort();
    derived.dedup();
    // Procedures: a besluit's own Procedureverloop, or a besluit's procedure updated by a
    // kennisgeving / procedureverloopmutatie of this package. A besluit staged in this group
    // makes the package wait for the group's commit (`afbreek`, below).
    let mut afbreek = afbreek;
    if changes && !afbreek {
        let bron = ProcedureBron { store, pending: pending.records, in_groep: std::cell::Cell::new(false) };
        let procedures = crate::procedure::procedures(&modules, &bron)?;
        afbreek |= bron.in_groep.get();
        for (besluit, p) in procedures {
            let json = serde_json::to_vec_pretty(&p).expect("procedure serialises");
            let h = txn.put_blob(&json)?;
            match effects.expressions.iter_mut().find(|e| e.expression == besluit) {
                Some(e) => e.procedure = Some(h),
                None => {
                    // A besluit delivered earlier: a new entry that only names the procedure
                    // (every other field is kept by the index; ontwerp as it was).
                    let Some(s) = store else { continue };
                    let Some(v) = s.index().expression(&besluit)? else { continue };
                    effects.expressions.push(ExpressionEntry {
                        expression: besluit.clone(),
                        work: v.entry.work.clone(),
                        kind: v.entry.kind.clone(),
                        file: None,
                        blob: None,
                        datum_bekendmaking: None,
                        ontwerp: v.entry.ontwerp,
                        wids: None,
                        tekst: None,
                        herkomst: None,
                        procedure: Some(h),
                    });
                }
            }
        }
    }
    for (expr, set) in &wids {
        // A version with a stored text needs no separate wId list (the text has them, shared
        // with earlier versions); a full list per version would grow the store by the size of
        // the regeling's wIds on every amendment.
        if let Some(e) = effects.expressions.iter_mut().find(|e| &e.expression == expr && e.tekst.is_none()) {
            let mut text = String::new();
            for w in set {
                text.push_str(w);
                text.push('\n');
            }
            e.wids = Some(txn.put_blob(text.as_bytes())?);
        }
    }
    let report = Report {
        id_levering: opdracht.id_levering.clone(),
        opdracht: opdracht.soort,
        uitkomst,
        ontvangen: cfg.now.to_rfc3339(),
        package_hash: ph_hex,
        meldingen: result.meldingen.clone(),
    };
    let report_json = serde_json::to_vec_pretty(&report).expect("report serialises");
    let report_hash = txn.put_blob(&report_json)?;
    txn.put_blob(&listing_bytes)?;
    if let Some((mut doc, origineel)) = tam_doc {
        if let Some(b) = origineel {
            derived.push(txn.put_blob(&b)?);
        }
        doc.rapport = Some(report_hash.to_hex());
        let h = txn.put_blob(&serde_json::to_vec(&doc).expect("TAM document serialises"))?;
        derived.push(h);
        effects.tam = Some(h);
    }
    let record = NewRecord {
        received_at: cfg.now.to_rfc3339(),
        aanleveraar: opdracht.id_aanleveraar.clone(),
        bevoegd_gezag: opdracht.id_bevoegd_gezag.clone(),
        id_levering: opdracht.id_levering.clone(),
        opdracht: opdracht.soort.element().to_string(),
        package_hash,
        files,
        outcome: uitkomst.as_str().to_string(),
        report: Some(report_hash),
        derived,
        effects,
    };
    Ok(Prepared { result, record: Some(record), key, afbreek, wids, versies: nieuwe_versies, tijdreis: stap })
}

fn repeated(
    store: &Store,
    bron: &str,
    opdracht: &Opdracht,
    seq: u64,
    rec: &NewRecord,
) -> Result<IngestResult, IngestError> {
    let meldingen = match rec.report {
        Some(h) => serde_json::from_slice::<Report>(&store.get_blob(&h)?)
            .map(|r| r.meldingen)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(IngestResult {
        bron: bron.to_string(),
        id_levering: Some(opdracht.id_levering.clone()),
        opdracht: Some(opdracht.soort),
        uitkomst: Uitkomst::parse(&rec.outcome),
        meldingen,
        seq: Some(seq),
        herhaald: true,
        package_hash: Some(rec.package_hash.to_hex()),
        works: rec.effects.works.iter().map(|w| w.work.clone()).collect(),
        expressions: rec.effects.expressions.iter().map(|e| e.expression.clone()).collect(),
        tam: match rec.effects.tam {
            Some(h) => serde_json::from_slice::<crate::tam::TamDocument>(&store.get_blob(&h)?).ok().map(|d| d.id),
            None => None,
        },
    })
}

/// The ids an accepted afbreek request cancels: the publication and every version it delivered.
/// The ids a breekPublicatieAf cancels, and the ledger records of the cancelled deliveries.
fn afgebroken_door(store: &Store, o: &Opdracht) -> Result<(Vec<String>, Vec<u64>), IngestError> {
    let Some(id) = o.identificatie.as_deref() else { return Ok((Vec::new(), Vec::new())) };
    let idx = store.index();
    let targets: Vec<store::ExpressionView> = match idx.work(id)? {
        Some(w) => w.expressions.iter().filter_map(|e| idx.expression(e).transpose()).collect::<Result<_, _>>()?,
        None => idx.expression(id)?.into_iter().collect(),
    };
    let mut out = vec![id.to_string()];
    let mut seqs = Vec::new();
    for e in targets.iter().filter(|e| e.entry.kind != "regeling" && e.entry.kind != "informatieobject") {
        if let Some(r) = store.record(e.seq)? {
            out.extend(r.rec.effects.works.iter().map(|w| w.work.clone()));
            out.extend(r.rec.effects.expressions.iter().map(|x| x.expression.clone()));
            seqs.push(e.seq);
        }
    }
    out.sort();
    out.dedup();
    seqs.sort_unstable();
    seqs.dedup();
    Ok((out, seqs))
}

/// The wIds of every regeling version a delivery adds. An initial text gives its own wIds; a
/// mutation gives the was-version's wIds with its actions applied ([`validator::feiten::Mutatie::wordt_wids`],
/// the same derivation the rules use). A version whose was-version has no known wId set gets
/// none (rather than a partial set that would make later mutations look wrong).
fn wids_of(verwerkt: &[Verwerkt], h: &dyn Historie) -> Result<Vec<(String, BTreeSet<String>)>, IngestError> {
    let mut out: Vec<(String, BTreeSet<String>)> = Vec::new();
    for v in verwerkt {
        out.extend(v.module.regeling_wids.iter().cloned());
    }
    for v in verwerkt {
        for m in &v.module.mutaties {
            let Some(wordt) = &m.wordt else { continue };
            let vervangt_alles = m.acties.iter().any(|a| a.soort == validator::feiten::ActieSoort::VervangRegeling);
            let was = if vervangt_alles {
                Some(BTreeSet::new())
            } else {
                match &m.was {
                    Some(was) => match out.iter().find(|(e, _)| e == was) {
                        Some((_, s)) => Some(s.clone()),
                        None => h.wids(was).map_err(IngestError::Historie)?,
                    },
                    None => None,
                }
            };
            if let Some(was) = was {
                out.push((wordt.clone(), m.wordt_wids(&was)));
            }
        }
    }
    Ok(out)
}

fn titel(m: &stop::module::Metadata) -> Option<String> {
    ["citeertitel", "officieleTitel", "naamInformatieObject"]
        .into_iter()
        .filter_map(|n| m.get(n))
        .find(|t| !t.is_empty() && !t.starts_with('/'))
        .map(str::to_string)
}

fn effects_of(o: &Opdracht, verwerkt: &[Verwerkt]) -> Effects {
    let mut e = Effects::default();
    let datum = o.datum_bekendmaking_tekst.clone();
    let work = |e: &mut Effects, work: &str, soort_work: Option<&String>, kind: &str, title: Option<String>| {
        if e.works.iter().any(|w| w.work == work) {
            return;
        }
        e.works.push(WorkEntry {
            work: work.to_string(),
            soort_work: soort_work.cloned(),
            kind: kind.to_string(),
            title,
            bevoegd_gezag: stop::ident::maker_code(work).map(str::to_string),
            owner_oin: Some(o.id_bevoegd_gezag.clone()),
        });
    };
    let expr = |e: &mut Effects, id: &str, work: &str, kind: &str, v: &Verwerkt, ontwerp: bool| {
        if id.is_empty() || e.expressions.iter().any(|x| x.expression == id) {
            return;
        }
        e.expressions.push(ExpressionEntry {
            expression: id.to_string(),
            work: work.to_string(),
            kind: kind.to_string(),
            file: Some(v.module.bestand.clone()),
            blob: Some(v.hash),
            datum_bekendmaking: datum.clone(),
            ontwerp,
            wids: None,
            tekst: None,
            procedure: None,
            herkomst: None,
        });
    };
    for v in verwerkt {
        if let Some(c) = v.module.inhoud.consolidatie() {
            for d in c.doelen() {
                if !e.doelen.iter().any(|x| x == d) {
                    e.doelen.push(d.to_string());
                }
            }
        }
        match &v.module.inhoud {
            Inhoud::Besluit(b) => {
                let ontwerp = b.is_ontwerp();
                work(&mut e, &b.id.work, b.id.soort_work.as_ref(), "besluit", titel(&b.metadata));
                expr(&mut e, &b.id.expression, &b.id.work, "besluit", v, ontwerp);
                for r in &b.regeling_versies {
                    let t = r.regeling_metadata.as_ref().and_then(titel);
                    work(&mut e, &r.id.work, r.id.soort_work.as_ref(), "regeling", t);
                    expr(&mut e, &r.id.expression, &r.id.work, "regeling", v, ontwerp);
                }
            }
            Inhoud::Kennisgeving(k) => {
                work(&mut e, &k.id.work, k.id.soort_work.as_ref(), "kennisgeving", titel(&k.metadata));
                expr(&mut e, &k.id.expression, &k.id.work, "kennisgeving", v, false);
            }
            Inhoud::InformatieObject(io) => {
                let t = io.metadata.as_ref().and_then(titel);
                work(&mut e, &io.id.work, io.id.soort_work.as_ref(), "informatieobject", t);
                expr(&mut e, &io.id.expression, &io.id.work, "informatieobject", v, false);
            }
            Inhoud::Revisie(p) | Inhoud::Rectificatie(p) | Inhoud::Mededeling(p) => {
                let kind = match v.module.soort {
                    ModuleSoort::AanleveringRevisie => "revisie",
                    ModuleSoort::AanleveringRectificatie => "rectificatie",
                    _ => "mededeling",
                };
                if let Some(id) = &p.id {
                    work(&mut e, &id.work, id.soort_work.as_ref(), kind, titel(&p.metadata));
                    expr(&mut e, &id.expression, &id.work, kind, v, false);
                }
                for r in &p.regeling_versies {
                    let t = r.regeling_metadata.as_ref().and_then(titel);
                    work(&mut e, &r.id.work, r.id.soort_work.as_ref(), "regeling", t);
                    expr(&mut e, &r.id.expression, &r.id.work, "regeling", v, false);
                }
            }
            _ => {}
        }
    }
    e
}

/// Severity counts for summaries.
pub fn tel(meldingen: &[Melding]) -> (usize, usize) {
    let fouten = meldingen.iter().filter(|m| m.ernst == Ernst::Fout).count();
    (fouten, meldingen.len() - fouten)
}
