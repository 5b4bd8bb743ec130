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
use std::collections::BTreeMap;
use std::path::Path;
use stop::manifest::{parse_manifest, Manifest};
use stop::module::{parse_bestand, Inhoud, ModuleSoort};
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
}

impl Config {
    pub fn new(today: NaiveDate) -> Config {
        Config { today, now: Utc::now(), limits: Limits::default() }
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
}

/// What a file contributed, after its XML tree is dropped.
struct Verwerkt {
    bestand: String,
    hash: Hash,
    soort: ModuleSoort,
    inhoud: Inhoud,
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
    Ok(prepare(store, None, path, cfg)?.result)
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
    mut on_result: impl FnMut(&IngestResult),
) -> Result<Vec<IngestResult>, IngestError> {
    let mut results: Vec<IngestResult> = Vec::with_capacity(paths.len());
    let mut reported = 0;
    let mut group = Group::default();
    let mut txn = None;
    for path in paths {
        let path = path.as_ref();
        if txn.is_none() {
            txn = Some(store.begin()?);
        }
        let mut prep = prepare(Some(store), txn.as_mut(), path, cfg)?;
        // A delivery that depends on one still in the group (the same idLevering, or an afbreek
        // request whose target may be in it) waits until the group is committed.
        if group.conflicts(&prep) {
            if let Some(t) = txn.take() {
                group.commit(t, &mut results)?;
            }
            txn = Some(store.begin()?);
            prep = prepare(Some(store), txn.as_mut(), path, cfg)?;
        }
        let index = results.len();
        results.push(prep.result);
        if let Some(rec) = prep.record {
            group.add(index, rec);
        }
        if group.full()
            && let Some(t) = txn.take()
        {
            group.commit(t, &mut results)?;
        }
        let done = group.first_pending().unwrap_or(results.len());
        for r in &results[reported..done] {
            on_result(r);
        }
        reported = done;
    }
    if let Some(t) = txn.take() {
        group.commit(t, &mut results)?;
    }
    for r in &results[reported..] {
        on_result(r);
    }
    Ok(results)
}

/// Accepted deliveries staged in one transaction, waiting for their group commit.
#[derive(Default)]
struct Group {
    pending: Vec<(usize, NewRecord)>,
    keys: std::collections::HashSet<(String, String)>,
    bytes: u64,
}

impl Group {
    fn conflicts(&self, prep: &Prepared) -> bool {
        !self.pending.is_empty()
            && (prep.afbreek || prep.key.as_ref().is_some_and(|k| self.keys.contains(k)))
    }

    fn add(&mut self, index: usize, rec: NewRecord) {
        self.keys.insert((rec.aanleveraar.clone(), rec.id_levering.clone()));
        self.bytes += rec.files.iter().map(|f| f.size).sum::<u64>();
        self.pending.push((index, rec));
    }

    fn full(&self) -> bool {
        self.pending.len() >= MAX_GROUP || self.bytes >= MAX_GROUP_BYTES
    }

    fn first_pending(&self) -> Option<usize> {
        self.pending.first().map(|(i, _)| *i)
    }

    fn commit(&mut self, txn: store::Txn<'_>, results: &mut [IngestResult]) -> Result<(), IngestError> {
        let pending = std::mem::take(&mut self.pending);
        self.keys.clear();
        self.bytes = 0;
        if pending.is_empty() {
            return Ok(());
        }
        let (indices, recs): (Vec<usize>, Vec<NewRecord>) = pending.into_iter().unzip();
        let committed = txn.commit_many(recs)?;
        for (i, lrec) in indices.into_iter().zip(committed) {
            results[i].seq = Some(lrec.seq);
        }
        Ok(())
    }
}

/// One package checked and, when accepted and storing, its blobs staged and its record built.
struct Prepared {
    result: IngestResult,
    record: Option<NewRecord>,
    /// (aanleveraar, idLevering), when the opdracht was readable.
    key: Option<(String, String)>,
    afbreek: bool,
}

impl Prepared {
    fn done(result: IngestResult) -> Prepared {
        Prepared { result, record: None, key: None, afbreek: false }
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
    }
}

/// Check one package. With `txn` (storing), an accepted non-validation request has its blobs
/// staged in `txn` and its ledger record returned; nothing is committed here.
fn prepare(
    store: Option<&Store>,
    mut txn: Option<&mut store::Txn<'_>>,
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
        parse_manifest(&b).map_err(|m| meldingen.extend(m)).ok()
    });
    meldingen.extend(package::check_integrity(&pkg, manifest.as_ref()));
    let opdracht: Option<Opdracht> = read(package::OPDRACHT_BESTAND, &mut meldingen).and_then(|b| {
        match parse_opdracht(b) {
            Ok((o, m)) => {
                meldingen.extend(m);
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
    opdracht_checks(&opdracht, &pkg, cfg, &mut meldingen);
    let key = Some((opdracht.id_aanleveraar.clone(), opdracht.id_levering.clone()));
    let afbreek = opdracht.soort == OpdrachtSoort::BreekPublicatieAfOpdracht;
    let commit = txn.is_some();
    if opdracht.soort.is_validatie() {
        txn = None;
    }

    // Every file once: bounded read, hash, stage, parse, drop the bytes.
    let mut files: Vec<FileRef> = Vec::new();
    let mut sha512: BTreeMap<String, String> = BTreeMap::new();
    let mut verwerkt: Vec<Verwerkt> = Vec::new();
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
        if lower.ends_with(".gml") {
            sha512.insert(name.clone(), hex::encode(Sha512::digest(&bytes)));
        }
        let is_xml = lower.ends_with(".xml") || lower.ends_with(".gml");
        if !is_xml || name == package::OPDRACHT_BESTAND || name == stop::manifest::MANIFEST_BESTAND {
            continue;
        }
        match parse_bestand(&name, bytes) {
            Ok((b, m)) => {
                meldingen.extend(m);
                verwerkt.push(Verwerkt { bestand: name, hash, soort: b.soort, inhoud: b.inhoud });
            }
            Err(m) => meldingen.extend(m),
        }
    }
    let listing: Vec<(String, [u8; 32])> = files.iter().map(|f| (f.name.clone(), f.hash.0)).collect();
    let listing_bytes = package::package_listing(&listing);
    let package_hash = Hash::of(&listing_bytes);

    module_checks(&opdracht, &verwerkt, &sha512, &mut meldingen);

    // History: idLevering uniqueness per aanleveraar, and the target of an afbreek request.
    let mut afgebroken = Vec::new();
    if let Some(s) = store {
        if let Some(seq) = s.index().delivery_by_levering(&opdracht.id_aanleveraar, &opdracht.id_levering)? {
            if let Some(earlier) = s.record(seq)? {
                if earlier.rec.package_hash == package_hash {
                    let result = repeated(s, &bron, &opdracht, seq, &earlier.rec)?;
                    return Ok(Prepared { result, record: None, key, afbreek });
                }
                meldingen.push(Melding::fout_technisch(
                    "LVBB1012",
                    format!(
                        "De combinatie van aanleveraar {} en idLevering '{}' is al gebruikt (levering {seq}, ontvangen {}) voor een ander pakket. Kies een nieuw idLevering.",
                        opdracht.id_aanleveraar, opdracht.id_levering, earlier.rec.received_at
                    ),
                ).in_bestand(package::OPDRACHT_BESTAND));
            }
        }
        if opdracht.soort == OpdrachtSoort::BreekPublicatieAfOpdracht {
            afgebroken = afbreek_checks(s, &opdracht, cfg, &mut meldingen)?;
        }
    }

    stop::melding::sort_meldingen(&mut meldingen);
    let ph = Some(package_hash.to_hex());
    if stop::melding::has_fout(&meldingen) {
        // Blobs staged for this package stay unnamed and are discarded with the transaction.
        let result = rejected(&bron, Some(&opdracht), meldingen, ph);
        return Ok(Prepared { result, record: None, key, afbreek });
    }
    let uitkomst = if commit { Uitkomst::for_opdracht(opdracht.soort) } else { Uitkomst::Valide };
    let effects = if opdracht.soort == OpdrachtSoort::BreekPublicatieAfOpdracht {
        Effects { afgebroken, ..Default::default() }
    } else {
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
        package_hash: ph,
        works: effects.works.iter().map(|w| w.work.clone()).collect(),
        expressions: effects.expressions.iter().map(|e| e.expression.clone()).collect(),
    };
    let Some(txn) = txn else {
        return Ok(Prepared { result, record: None, key, afbreek });
    };
    let report = Report {
        id_levering: opdracht.id_levering.clone(),
        opdracht: opdracht.soort,
        uitkomst,
        ontvangen: cfg.now.to_rfc3339(),
        package_hash: package_hash.to_hex(),
        meldingen: result.meldingen.clone(),
    };
    let report_json = serde_json::to_vec_pretty(&report).expect("report serialises");
    let report_hash = txn.put_blob(&report_json)?;
    txn.put_blob(&listing_bytes)?;
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
        derived: Vec::new(),
        effects,
    };
    Ok(Prepared { result, record: Some(record), key, afbreek })
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
    })
}

fn opdracht_checks(o: &Opdracht, pkg: &Package, cfg: &Config, meldingen: &mut Vec<Melding>) {
    let loc = |m: Melding| m.in_bestand(package::OPDRACHT_BESTAND);
    if let Some(f) = &o.hoofdbestand
        && !pkg.contains(f)
    {
        meldingen.push(loc(Melding::fout_technisch(
            "LVBB1506",
            format!(
                "Het bestand '{f}' dat in opdracht.xml als {} is genoemd, zit niet in de levering. Voeg het bestand toe of corrigeer de naam.",
                o.soort.hoofdbestand_element().unwrap_or("publicatie")
            ),
        )));
    }
    if o.id_levering.eq_ignore_ascii_case("onbekend") {
        meldingen.push(loc(Melding::fout_technisch(
            "BHKV9998",
            "idLevering 'onbekend' is niet toegestaan. Geef een uniek idLevering op.",
        )));
    }
    if o.soort.heeft_datum_bekendmaking()
        && let Some(d) = o.datum_bekendmaking()
        && d <= cfg.today
        && o.soort == OpdrachtSoort::PublicatieOpdracht
    {
        meldingen.push(loc(Melding::fout_inhoudelijk(
            "LVBB1501",
            format!(
                "datumBekendmaking {d} ligt niet in de toekomst (vandaag is {}). Kies een datum na vandaag.",
                cfg.today
            ),
        )));
    }
}

/// Checks that need the parsed modules: the main file has the right kind, IO hashes match.
fn module_checks(
    o: &Opdracht,
    verwerkt: &[Verwerkt],
    sha512: &BTreeMap<String, String>,
    meldingen: &mut Vec<Melding>,
) {
    if let Some(f) = &o.hoofdbestand
        && let Some(v) = verwerkt.iter().find(|v| &v.bestand == f)
    {
        let ok = match o.soort {
            OpdrachtSoort::ValidatieOpdracht | OpdrachtSoort::PublicatieOpdracht => v.soort.is_publicatie(),
            OpdrachtSoort::ValidatieRevisieOpdracht | OpdrachtSoort::RevisieOpdracht => {
                v.soort == ModuleSoort::AanleveringRevisie
            }
            OpdrachtSoort::ValidatieProcedureverloopmutatieOpdracht
            | OpdrachtSoort::ProcedureverloopmutatieOpdracht => {
                v.soort == ModuleSoort::AanleveringProcedureverloopmutatie
            }
            _ => true,
        };
        if !ok {
            meldingen.push(
                Melding::fout_technisch(
                    "LVBB1515",
                    format!(
                        "Het bestand '{f}' is een {:?}; een {} verwacht hier een ander soort STOP-document (bijvoorbeeld AanleveringBesluit of AanleveringKennisgeving).",
                        v.soort,
                        o.soort.element()
                    ),
                )
                .in_bestand(f.clone()),
            );
        }
    }
    for v in verwerkt {
        let Inhoud::InformatieObject(io) = &v.inhoud else { continue };
        for b in &io.bestanden {
            match sha512.get(&b.bestandsnaam) {
                None => meldingen.push(
                    Melding::fout_inhoudelijk(
                        "LVBB3009",
                        format!(
                            "Het bestand '{}' van informatieobject {} zit niet in de levering. Voeg het GML-bestand toe.",
                            b.bestandsnaam, io.id.expression
                        ),
                    )
                    .at(b.locatie.clone()),
                ),
                Some(actual) if !actual.eq_ignore_ascii_case(b.hash.trim()) => meldingen.push(
                    Melding::fout_inhoudelijk(
                        "LVBB3008",
                        format!(
                            "De hash van '{}' klopt niet: in {} staat {}, maar de SHA-512 van het bestand is {actual}. Bereken de hash opnieuw over het aangeleverde bestand.",
                            b.bestandsnaam, v.bestand, b.hash
                        ),
                    )
                    .at(b.locatie.clone()),
                ),
                Some(_) => {}
            }
        }
    }
}

fn afbreek_checks(
    store: &Store,
    o: &Opdracht,
    cfg: &Config,
    meldingen: &mut Vec<Melding>,
) -> Result<Vec<String>, IngestError> {
    let Some(id) = o.identificatie.as_deref() else { return Ok(Vec::new()) };
    let idx = store.index();
    let targets: Vec<store::ExpressionView> = match idx.work(id)? {
        Some(w) => w.expressions.iter().filter_map(|e| idx.expression(e).transpose()).collect::<Result<_, _>>()?,
        None => idx.expression(id)?.into_iter().collect(),
    };
    let publicaties: Vec<_> = targets.iter().filter(|e| e.entry.kind != "regeling" && e.entry.kind != "informatieobject").collect();
    if publicaties.is_empty() {
        meldingen.push(
            Melding::fout_inhoudelijk(
                "LVBB1551",
                format!("De publicatie '{id}' die afgebroken moet worden, is niet bekend. Controleer de identificatie."),
            )
            .in_bestand(package::OPDRACHT_BESTAND),
        );
        return Ok(Vec::new());
    }
    if publicaties.iter().all(|e| e.afgebroken) {
        meldingen.push(
            Melding::fout_inhoudelijk("LVBB1551", format!("De publicatie '{id}' is al afgebroken."))
                .in_bestand(package::OPDRACHT_BESTAND),
        );
    }
    for e in &publicaties {
        if let Some(d) = e.entry.datum_bekendmaking.as_deref().and_then(stop::opdracht::parse_date)
            && d <= cfg.today
        {
            meldingen.push(
                Melding::fout_inhoudelijk(
                    "LVBB1553",
                    format!(
                        "De publicatie {} is al bekendgemaakt op {d}; afbreken kan alleen vóór de datum van bekendmaking.",
                        e.entry.expression
                    ),
                )
                .in_bestand(package::OPDRACHT_BESTAND),
            );
        }
    }
    // The cancelled publication and every version it delivered leave all views.
    let mut out = vec![id.to_string()];
    for e in &publicaties {
        let rec = store.record(e.seq)?;
        if let Some(r) = rec {
            out.extend(r.rec.effects.works.iter().map(|w| w.work.clone()));
            out.extend(r.rec.effects.expressions.iter().map(|x| x.expression.clone()));
        }
    }
    out.sort();
    out.dedup();
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
            file: Some(v.bestand.clone()),
            blob: Some(v.hash),
            datum_bekendmaking: datum.clone(),
            ontwerp,
        });
    };
    for v in verwerkt {
        match &v.inhoud {
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
                let kind = match v.soort {
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
