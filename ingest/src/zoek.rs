//! The search index (`search` crate) in the pipeline: derived data of the ledger, kept in
//! `<data>/search/`.
//!
//! After every group commit (and the time-travel state write) [`na_commit`] brings the index up
//! to the ledger in ONE tantivy commit: for each new record, the regeling versions it added
//! (their article-level units, read back from the store) and, for every work whose time travel
//! the record can change (the works of its versions, the instruments of its exchange and every
//! instrument with a branch for one of its doelen), the work's time-travel table as the engine
//! now has it. Cancelled publications (breekPublicatieAf) remove their versions. The commit
//! carries the ledger watermark (seq + record hash): a crash before it loses nothing (the next
//! run replays from the watermark), and every write replaces its key, so a replay never
//! duplicates. An index whose watermark disagrees with the ledger, or in another format, is
//! built again from scratch ([`herbouw`], `regelbank reindex`).
//!
//! Units: `Artikel`, `Divisietekst`, `WijzigArtikel`, `InwerkingtredingArtikel`,
//! `RegelingOpschrift` (whole), and the own text (outside units and its `Kop`) of a structure
//! element (`Bijlage`, `Toelichting`, …) that has any.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use search::{Eenheid, Schrijver, Tijdvakken, Versie, Watermerk, WerkMeta, ZoekFout};
use stop::tekst::{Element, Node};
use store::{Hash, Store};
use timetravel::Uitwisseling;
use timetravel::toestanden::Status;
use tracing::{info, warn};

use crate::consolidatie::is_structuur;
use crate::pipeline::IngestError;
use crate::tijdreis::Lezer;
use crate::weergave::WeergaveFout;

/// Article-level units: indexed whole.
const EENHEDEN: &[&str] = &["Artikel", "Divisietekst", "WijzigArtikel", "InwerkingtredingArtikel", "RegelingOpschrift"];

/// Inline elements: no word break around them.
const INLINE: &[&str] = &[
    "i", "b", "u", "strong", "sub", "sup", "abbr", "NieuweTekst", "VerwijderdeTekst", "ExtRef", "IntRef", "ExtIoRef",
    "IntIoRef", "Contact", "Nootref",
];

/// Why the index could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum ZoekIndexFout {
    #[error(transparent)]
    Zoek(#[from] ZoekFout),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Weergave(#[from] WeergaveFout),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The index directory of a store.
pub fn map(store: &Store) -> PathBuf {
    store.dir().join("search")
}

/// What a catch-up did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bijgewerkt {
    /// Ledger records read.
    pub records: u64,
    /// Versions indexed.
    pub versies: usize,
    /// Works whose time-travel table was written.
    pub werken: usize,
}

/// Called by the pipeline after a group commit: bring the index up to the ledger. A failure is
/// logged, not returned: the delivery is committed and the index catches up on the next run.
pub fn na_commit(store: &Store) {
    log_fout(bijwerken(store));
}

/// Bring the index up to the ledger (creating it when absent).
pub fn bijwerken(store: &Store) -> Result<Bijgewerkt, ZoekIndexFout> {
    let mut s = Schrijver::open(&map(store))?;
    tot(store, &mut s, store.last_seq(), &mut Voorraad::new())
}

/// Bring the index of `s` up to ledger record `last` (not beyond, even when the ledger has
/// more: the pipeline's worker indexes a group only once its time-travel state is written).
fn tot(store: &Store, s: &mut Schrijver, last: u64, voorraad: &mut Voorraad) -> Result<Bijgewerkt, ZoekIndexFout> {
    let from = match s.watermerk() {
        None => 0,
        Some(w) if w.seq <= last && store.record_hash(w.seq).is_some_and(|h| h.to_string() == w.hash) => w.seq,
        Some(w) if w.seq > last && store.record_hash(w.seq).is_some_and(|h| h.to_string() == w.hash) => {
            return Ok(Bijgewerkt::default()); // already further
        }
        Some(w) => {
            warn!(watermark = w.seq, ledger = last, "search index disagrees with the ledger; building it again");
            s.wis()?;
            0
        }
    };
    if from == last && s.watermerk().is_some() {
        return Ok(Bijgewerkt::default());
    }
    if from > 0 || last > 0 {
        info!(from, to = last, "search index catch-up");
    }
    bij(store, s, from, last, voorraad)
}

/// The search index in the pipeline: a thread of its own that brings the index up to each group
/// commit (once that group's time-travel state is written) while the pipeline goes on with the
/// next group, holding one writer for the whole run. [`Werker::klaar`] waits until it has caught
/// up. Failures are logged, never returned: the index is derived data and catches up later.
pub(crate) struct Werker<'scope> {
    tx: Option<std::sync::mpsc::Sender<Bericht>>,
    handle: Option<std::thread::ScopedJoinHandle<'scope, ()>>,
    /// Without a thread (it could not be started, or `Config::parallel` is off): the store,
    /// indexed in line.
    in_lijn: Option<&'scope Store>,
}

enum Bericht {
    /// The text of a version about to be committed, with the root it is stored under: its
    /// units are taken from memory meanwhile, instead of read back from the store afterwards.
    Tekst(Hash, crate::consolidatie::VersieTekst),
    /// Index up to this ledger record.
    Tot(u64),
}

/// Units of versions staged for commit, by the root of their stored text (equal roots are
/// equal bytes, so the units are those [`eenheden_van`] would read).
type Voorraad = std::collections::HashMap<Hash, Vec<Eenheid>>;

fn in_voorraad(voorraad: &mut Voorraad, root: Hash, tekst: &crate::consolidatie::VersieTekst) {
    if voorraad.contains_key(&root) {
        return;
    }
    // Only initial versions are still in their besluit's bytes; others are read back.
    if let crate::consolidatie::VersieTekst::Bron(b) = tekst {
        let [kop, inhoud, eind] = b.delen();
        let rd = std::io::Read::chain(std::io::Read::chain(kop.as_bytes(), inhoud.as_bytes()), eind.as_bytes());
        match eenheden_uit(std::io::BufReader::with_capacity(64 << 10, rd)) {
            Ok(u) => {
                voorraad.insert(root, u);
            }
            Err(e) => warn!(error = ?e, "units of a staged version not taken from memory; read back after commit"),
        }
    }
}

impl<'scope> Werker<'scope> {
    pub(crate) fn start<'env>(sc: &'scope std::thread::Scope<'scope, 'env>, store: &'env Store) -> Werker<'scope>
    where
        'env: 'scope,
    {
        let (tx, rx) = std::sync::mpsc::channel::<Bericht>();
        let spawned = std::thread::Builder::new().name("regelbank-zoek".into()).spawn_scoped(sc, move || {
            let mut schrijver: Option<Schrijver> = None;
            let mut voorraad = Voorraad::new();
            while let Ok(b) = rx.recv() {
                let mut doel = match b {
                    Bericht::Tekst(root, t) => {
                        in_voorraad(&mut voorraad, root, &t);
                        continue;
                    }
                    Bericht::Tot(d) => d,
                };
                // Coalesce: catch up to the newest committed group in one tantivy commit.
                while let Ok(b) = rx.try_recv() {
                    match b {
                        Bericht::Tekst(root, t) => in_voorraad(&mut voorraad, root, &t),
                        Bericht::Tot(d) => doel = doel.max(d),
                    }
                }
                let r = match schrijver.as_mut() {
                    Some(s) => tot(store, s, doel, &mut voorraad),
                    None => match Schrijver::open(&map(store)) {
                        Ok(s) => tot(store, schrijver.insert(s), doel, &mut voorraad),
                        Err(e) => Err(e.into()),
                    },
                };
                if r.is_err() {
                    // Drop the writer with whatever it buffered; the next group opens it again.
                    schrijver = None;
                }
                log_fout(r);
            }
        });
        match spawned {
            Ok(h) => Werker { tx: Some(tx), handle: Some(h), in_lijn: None },
            Err(e) => {
                warn!(error = %e, "no search index thread; indexing in line");
                Werker { tx: None, handle: None, in_lijn: Some(store) }
            }
        }
    }

    /// No indexing at all (benchmarks: the index catches up later).
    pub(crate) fn uit() -> Werker<'scope> {
        Werker { tx: None, handle: None, in_lijn: None }
    }

    /// Indexing in line, after each group commit (no thread).
    pub(crate) fn in_lijn(store: &'scope Store) -> Werker<'scope> {
        Werker { tx: None, handle: None, in_lijn: Some(store) }
    }

    /// The text of a version staged for commit, stored under `root` (the thread takes its units
    /// now, while the group is committed).
    pub(crate) fn tekst(&self, root: Hash, tekst: &crate::consolidatie::VersieTekst) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Bericht::Tekst(root, tekst.clone()));
        }
    }

    /// Index up to ledger record `seq` (committed, with its time-travel state written).
    pub(crate) fn bij(&self, seq: u64) {
        match (&self.tx, self.in_lijn) {
            (Some(tx), _) => {
                let _ = tx.send(Bericht::Tot(seq));
            }
            (None, Some(store)) => na_commit(store),
            (None, None) => {}
        }
    }

    /// Wait until everything sent is indexed.
    pub(crate) fn klaar(mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take()
            && h.join().is_err()
        {
            warn!("search index thread panicked; the index catches up later");
        }
    }
}

fn log_fout(r: Result<Bijgewerkt, ZoekIndexFout>) {
    match r {
        Ok(_) => {}
        Err(ZoekIndexFout::Zoek(ZoekFout::Bezet)) => {
            warn!("search index is held by another process; it catches up later")
        }
        Err(e) => warn!(error = %e, "search index not updated; it catches up later"),
    }
}

/// Build the index again from the store, from scratch.
pub fn herbouw(store: &Store) -> Result<Bijgewerkt, ZoekIndexFout> {
    let mut s = Schrijver::open(&map(store))?;
    s.wis()?;
    bij(store, &mut s, 0, store.last_seq(), &mut Voorraad::new())
}

fn bij(store: &Store, s: &mut Schrijver, from: u64, last: u64, voorraad: &mut Voorraad) -> Result<Bijgewerkt, ZoekIndexFout> {
    let mut lezer = Lezer::open(store)?;
    let mut werken: BTreeSet<String> = BTreeSet::new();
    let mut versies: Vec<(String, String)> = Vec::new();
    let mut afgebroken: Vec<String> = Vec::new();
    let mut uit = Bijgewerkt::default();
    for seq in from + 1..=last {
        let Some(rec) = store.record(seq)? else { break };
        uit.records += 1;
        let fx = &rec.rec.effects;
        for e in &fx.expressions {
            werken.insert(e.work.clone());
            if e.tekst.is_some() {
                versies.push((e.work.clone(), e.expression.clone()));
            }
        }
        afgebroken.extend(fx.afgebroken.iter().cloned());
        if let Some(h) = fx.tam {
            let doc: crate::tam::TamDocument = serde_json::from_slice(&store.get_blob(&h)?)
                .map_err(|e| store::StoreError::Serde { what: "TAM document".into(), message: e.to_string() })?;
            let (meta, versie, tv) = tam_invoer(&doc);
            s.schrijf_versie(&meta, &versie)?;
            s.schrijf_werk(&meta, &tv)?;
            uit.versies += 1;
            uit.werken += 1;
        }
        if let Some(h) = fx.uitwisseling {
            let u: Uitwisseling = serde_json::from_slice(&store.get_blob(&h)?)
                .map_err(|e| store::StoreError::Serde { what: "exchange blob".into(), message: e.to_string() })?;
            werken.extend(u.instrumenten.iter().map(|i| i.work.clone()));
            werken.extend(u.materieel_uitgewerkt.iter().map(|m| m.work.clone()));
            for d in u.doelen() {
                werken.extend(lezer.instrumenten_van_doel(d)?);
            }
        }
    }
    let mut metas: BTreeMap<String, WerkMeta> = BTreeMap::new();
    for (werk, expressie) in &versies {
        let view = store.index().expression(expressie)?;
        if view.as_ref().is_none_or(|v| v.afgebroken) {
            s.verwijder_versie(expressie);
            continue;
        }
        let meta = meta(store, &mut metas, werk)?;
        let Some(root) = view.as_ref().and_then(|v| v.entry.tekst) else { continue };
        let eenheden = match voorraad.remove(&root) {
            Some(u) => u,
            None => eenheden_van(store, &root)?,
        };
        s.schrijf_versie(&meta, &Versie { expressie: expressie.clone(), eenheden })?;
        uit.versies += 1;
    }
    for a in &afgebroken {
        if store.index().expression(a)?.is_some_and(|v| v.afgebroken) {
            s.verwijder_versie(a);
        }
    }
    for werk in &werken {
        let Some(staat) = lezer.werk(werk)? else {
            // No time travel (yet): historic search only.
            if versies.iter().any(|(w, _)| w == werk) {
                let meta = meta(store, &mut metas, werk)?;
                s.schrijf_werk(&meta, &Tijdvakken::default())?;
                uit.werken += 1;
            }
            continue;
        };
        let meta = meta(store, &mut metas, werk)?;
        s.schrijf_werk(&meta, &tijdvakken(&staat.tijdreis))?;
        uit.werken += 1;
    }
    let hash = store.record_hash(last).unwrap_or(Hash::ZERO);
    s.commit(Watermerk { seq: last, hash: hash.to_string() })?;
    Ok(uit)
}

/// A TAM document as the index keeps it: a work of its own (its id), marked `tam`, with one
/// version (the document) whose units are its text chunks plus one unit with its metadata (so a
/// document without extractable text is still found by title and metadata), applying from its
/// bekendmaking date as known from its receipt. It never joins a regeling's versions.
pub fn tam_invoer(doc: &crate::tam::TamDocument) -> (WerkMeta, Versie, Tijdvakken) {
    let meta = WerkMeta {
        werk: doc.id.clone(),
        titel: Some(doc.metadata.titel.clone()),
        bevoegd_gezag: Some(doc.metadata.bevoegd_gezag.clone()),
        soort: Some(doc.metadata.soort.clone()),
        tam: true,
    };
    let mut kenmerken = vec![doc.metadata.titel.clone(), doc.metadata.soort.clone(), doc.bestand.naam.clone()];
    kenmerken.extend(doc.metadata.regeling.iter().cloned());
    for o in &doc.onderdelen {
        kenmerken.extend(o.metadata.values().cloned());
    }
    let mut eenheden = vec![Eenheid {
        element: "TAM-metadata".into(),
        eid: None,
        wid: Some(format!("{}#metadata", doc.id)),
        kop: format!("{} (TAM)", doc.metadata.titel),
        tekst: kenmerken.join("\n"),
    }];
    let meer_delen = doc.onderdelen.iter().filter(|o| !o.stukken.is_empty()).count() > 1;
    for (o, st) in doc.stukken() {
        let kop = if meer_delen { format!("{}: {}", o.naam, st.label) } else { st.label.clone() };
        eenheden.push(Eenheid {
            element: "TAM-tekst".into(),
            eid: None,
            wid: Some(format!("{}#{}#{}", doc.id, o.naam, st.label)),
            kop,
            tekst: st.tekst.clone(),
        });
    }
    let ontvangen = timetravel::dag(doc.ontvangen.get(..10).unwrap_or("0001-01-01"));
    let vanaf = timetravel::dag(&doc.metadata.datum_bekendmaking);
    let tv = Tijdvakken {
        versies: vec![doc.id.clone()],
        momenten: vec![search::Moment {
            ontvangen_op: ontvangen,
            bekend_op: ontvangen,
            ankers: vec![search::Anker { jwv: vanaf, gv: vanaf, versie: Some(0) }],
        }],
    };
    (meta, Versie { expressie: doc.id.clone(), eenheden }, tv)
}

fn meta(store: &Store, cache: &mut BTreeMap<String, WerkMeta>, werk: &str) -> Result<WerkMeta, ZoekIndexFout> {
    if let Some(m) = cache.get(werk) {
        return Ok(m.clone());
    }
    let w = store.index().work(werk)?;
    let m = WerkMeta {
        werk: werk.to_string(),
        titel: w.as_ref().and_then(|w| w.entry.title.clone()),
        bevoegd_gezag: w.as_ref().and_then(|w| w.entry.bevoegd_gezag.clone()),
        soort: w.as_ref().and_then(|w| w.entry.soort_work.clone()),
        tam: false,
    };
    cache.insert(werk.to_string(), m.clone());
    Ok(m)
}

/// The engine's time-travel index of a work as the search index keeps it: each toestand
/// reduced to the version `Lezer::los_op` gives for it (compleet with an instrumentversie),
/// or none.
pub fn tijdvakken(t: &timetravel::Tijdreis) -> Tijdvakken {
    let mut versies: Vec<String> = Vec::new();
    let mut nummer: BTreeMap<String, u32> = BTreeMap::new();
    let per_toestand: Vec<Option<u32>> = t
        .toestanden
        .iter()
        .map(|x| match (x.inhoud.status, &x.inhoud.instrumentversie) {
            (Status::Compleet, Some(v)) => Some(*nummer.entry(v.clone()).or_insert_with(|| {
                versies.push(v.clone());
                versies.len() as u32 - 1
            })),
            _ => None,
        })
        .collect();
    let momenten = t
        .momenten
        .iter()
        .map(|m| search::Moment {
            ontvangen_op: m.ontvangen_op.dag(),
            bekend_op: m.bekend_op.dag(),
            ankers: m
                .ankers
                .iter()
                .map(|a| search::Anker { jwv: a.jwv, gv: a.gv, versie: per_toestand.get(a.toestand as usize).copied().flatten() })
                .collect(),
        })
        .collect();
    Tijdvakken { versies, momenten }
}

/// The article-level units of a stored regeling version, streamed from its tree in the store
/// ([`Store::tree_reader`]): the same units as [`eenheden`] of the parsed text, without
/// building a [`stop::tekst::Tekst`] or holding the text in memory (a 50 MB regeling took ~1 s
/// and several hundred MB that way).
pub fn eenheden_van(store: &Store, root: &Hash) -> Result<Vec<Eenheid>, ZoekIndexFout> {
    let rd = std::io::BufReader::with_capacity(64 << 10, store.tree_reader(root)?);
    eenheden_uit(rd).map_err(|e| match e {
        StroomFout::Store(e) => ZoekIndexFout::Store(e),
        StroomFout::Xml(m) => ZoekIndexFout::Weergave(WeergaveFout::OngeldigeTekst { expressie: root.to_string(), reden: m }),
    })
}

/// Why [`eenheden_uit`] stopped.
#[derive(Debug)]
pub enum StroomFout {
    Store(store::StoreError),
    Xml(String),
}

/// Where a text event inside an element goes, per collecting buffer (the loops of
/// [`eenheid`], [`verzamel`], [`kop`] and [`tekst_van`], as a state machine over XML events).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lus {
    /// Inside `tekst_van`: elements are `tekst_van` (a `br` child is one space), text counts.
    TekstVan,
    /// A unit's own loop: its Kop is skipped, other elements are `tekst_van`, text counts.
    Eenheid,
    /// A structure's own loop: Kop, units and structures are skipped, other elements are
    /// `tekst_van`, text does not count.
    Structuur,
    /// The element children of a Kop (`kop`'s first loop): `tekst_van`, text does not count.
    KopElementen,
}

/// An open element: which buffers its content goes to, and what to do at its end.
struct Open {
    /// (buffer, loop) pairs its content feeds.
    doelen: Vec<(usize, Lus)>,
    /// Buffers that get a space when it closes (`tekst_van` of a block element).
    sluit_spatie: Vec<usize>,
    /// Its own unit, when it is a unit or a structure whose units are collected.
    eigen: Option<Verzameling>,
}

struct Verzameling {
    /// Slot in the output (a structure's own unit comes before its children's).
    plek: usize,
    eenheid: bool,
    element: String,
    eid: Option<String>,
    wid: Option<String>,
    tekst: usize,
    /// Kop buffers (element children only, all of it) of the first Kop child.
    kop: Option<(usize, usize)>,
}

/// Stream the units of a regeling text from its XML: the same as [`eenheden`] of the parsed
/// text.
pub fn eenheden_uit<R: std::io::BufRead>(rd: R) -> Result<Vec<Eenheid>, StroomFout> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(rd);
    {
        let c = reader.config_mut();
        c.trim_text(false);
        c.expand_empty_elements = false;
        c.check_end_names = false;
    }
    let mut uit: Vec<Option<Eenheid>> = Vec::new();
    let mut bufs: Vec<String> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let ev = match reader.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(quick_xml::Error::Io(io)) => {
                // A store failure travels inside the io::Error (shared in an Arc by quick-xml).
                let io = std::sync::Arc::try_unwrap(io).unwrap_or_else(|a| std::io::Error::new(a.kind(), a.to_string()));
                return Err(match store::TreeReader::store_error(io) {
                    Ok(se) => StroomFout::Store(se),
                    Err(e) => StroomFout::Xml(e.to_string()),
                });
            }
            Err(e) => return Err(StroomFout::Xml(e.to_string())),
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let leeg = matches!(ev, Event::Empty(_));
                let q = e.name().into_inner();
                let naam = q.rsplit_once(':').map_or(q, |(_, l)| l);
                let ids = || {
                    let (mut eid, mut wid) = (None, None);
                    for a in e.attributes().with_checks(false).flatten() {
                        match a.key.into_inner() {
                            "eId" => eid = Some(a.value.into_owned()),
                            "wId" => wid = Some(a.value.into_owned()),
                            _ => {}
                        }
                    }
                    (eid, wid)
                };
                let mut open = Open { doelen: Vec::new(), sluit_spatie: Vec::new(), eigen: None };
                let nieuw = |bufs: &mut Vec<String>| {
                    bufs.push(String::new());
                    bufs.len() - 1
                };
                // This element (a unit or a structure) collects its own unit, in the next slot.
                let verzamel_hier = |open: &mut Open, bufs: &mut Vec<String>, uit: &mut Vec<Option<Eenheid>>| {
                    let eenheid = EENHEDEN.contains(&naam);
                    let (eid, wid) = ids();
                    let tekst = nieuw(bufs);
                    open.doelen.push((tekst, if eenheid { Lus::Eenheid } else { Lus::Structuur }));
                    uit.push(None);
                    open.eigen =
                        Some(Verzameling { plek: uit.len() - 1, eenheid, element: naam.to_string(), eid, wid, tekst, kop: None });
                };
                match stack.last_mut() {
                    None => {
                        // The root: `verzamel` (or a unit).
                        verzamel_hier(&mut open, &mut bufs, &mut uit);
                    }
                    Some(ouder) => {
                        // A unit or structure child of a collecting structure: its own collection.
                        let verzamelt = ouder.eigen.as_ref().is_some_and(|v| !v.eenheid);
                        if verzamelt && (EENHEDEN.contains(&naam) || is_structuur(naam)) {
                            verzamel_hier(&mut open, &mut bufs, &mut uit);
                        } else {
                            // The first Kop of a unit or structure: its heading.
                            let mut kop_nieuw = None;
                            if naam == "Kop"
                                && let Some(v) = ouder.eigen.as_mut()
                                && v.kop.is_none()
                            {
                                let (a, b) = (nieuw(&mut bufs), nieuw(&mut bufs));
                                v.kop = Some((a, b));
                                kop_nieuw = Some((a, b));
                            }
                            for &(b, lus) in &ouder.doelen {
                                let tekst_van = match lus {
                                    Lus::TekstVan if naam == "br" => {
                                        bufs[b].push(' ');
                                        false
                                    }
                                    Lus::TekstVan | Lus::KopElementen => true,
                                    Lus::Eenheid => naam != "Kop",
                                    Lus::Structuur => naam != "Kop" && !EENHEDEN.contains(&naam) && !is_structuur(naam),
                                };
                                if tekst_van {
                                    if !INLINE.contains(&naam) {
                                        bufs[b].push(' ');
                                        open.sluit_spatie.push(b);
                                    }
                                    open.doelen.push((b, Lus::TekstVan));
                                }
                            }
                            if let Some((a, b)) = kop_nieuw {
                                // kop(): the element children into `a`; tekst_van(Kop) into `b`.
                                open.doelen.push((a, Lus::KopElementen));
                                bufs[b].push(' ');
                                open.sluit_spatie.push(b);
                                open.doelen.push((b, Lus::TekstVan));
                            }
                        }
                    }
                }
                stack.push(open);
                if leeg {
                    sluit(&mut stack, &mut bufs, &mut uit);
                }
            }
            Event::End(_) => sluit(&mut stack, &mut bufs, &mut uit),
            Event::Text(ref t) => tekst_naar(&stack, &mut bufs, t),
            Event::CData(ref t) => tekst_naar(&stack, &mut bufs, t),
            Event::GeneralRef(ref r) => {
                let naam: &str = r;
                let s: std::borrow::Cow<'_, str> = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string().into(),
                    _ => match quick_xml::escape::resolve_predefined_entity(naam) {
                        Some(v) => v.into(),
                        None => format!("&{naam};").into(),
                    },
                };
                tekst_naar(&stack, &mut bufs, &s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(uit.into_iter().flatten().collect())
}

fn tekst_naar(stack: &[Open], bufs: &mut [String], t: &str) {
    if let Some(top) = stack.last() {
        for &(b, lus) in &top.doelen {
            if matches!(lus, Lus::TekstVan | Lus::Eenheid) {
                bufs[b].push_str(t);
            }
        }
    }
}

fn sluit(stack: &mut Vec<Open>, bufs: &mut [String], uit: &mut [Option<Eenheid>]) {
    let Some(open) = stack.pop() else { return };
    for b in open.sluit_spatie {
        bufs[b].push(' ');
    }
    let Some(v) = open.eigen else { return };
    let tekst = normaal(&std::mem::take(&mut bufs[v.tekst]));
    let kop = match v.kop {
        Some((a, b)) => {
            let (a, b) = (std::mem::take(&mut bufs[a]), std::mem::take(&mut bufs[b]));
            if a.trim().is_empty() { normaal(&(a + &b)) } else { normaal(&a) }
        }
        None => String::new(),
    };
    if v.eenheid || (!tekst.is_empty() && (is_structuur(&v.element) || v.wid.is_some())) {
        uit[v.plek] = Some(Eenheid { element: v.element, eid: v.eid, wid: v.wid, kop, tekst });
    }
}

/// The article-level units of a regeling text, in document order, on a parsed text: the readable
/// definition of the unit rules. The pipeline uses [`eenheden_uit`], which streams the same units
/// from the stored XML (tested against this one on every fixture and generated chain).
pub fn eenheden(root: &Element) -> Vec<Eenheid> {
    let mut uit = Vec::new();
    verzamel(root, &mut uit);
    uit
}

fn verzamel(e: &Element, uit: &mut Vec<Eenheid>) {
    if EENHEDEN.contains(&e.name()) {
        uit.push(eenheid(e));
        return;
    }
    // Own text of a structure element (or the root): everything outside units, structures
    // and its Kop.
    let mut eigen = String::new();
    for c in e.children() {
        match c {
            Node::Element(k) if EENHEDEN.contains(&k.name()) || is_structuur(k.name()) || k.name() == "Kop" => {}
            Node::Element(k) => tekst_van(k, &mut eigen),
            _ => {}
        }
    }
    let eigen = normaal(&eigen);
    if !eigen.is_empty() && (is_structuur(e.name()) || e.wid().is_some()) {
        uit.push(Eenheid {
            element: e.name().to_string(),
            eid: e.eid().map(str::to_string),
            wid: e.wid().map(str::to_string),
            kop: e.child("Kop").map(kop).unwrap_or_default(),
            tekst: eigen,
        });
    }
    for c in e.elements() {
        if EENHEDEN.contains(&c.name()) || is_structuur(c.name()) {
            verzamel(c, uit);
        }
    }
}

fn eenheid(e: &Element) -> Eenheid {
    let mut tekst = String::new();
    for c in e.children() {
        match c {
            Node::Element(k) if k.name() == "Kop" => {}
            Node::Element(k) => tekst_van(k, &mut tekst),
            Node::Text(_) | Node::CData(_) => tekst.push_str(&c.char_data()),
            _ => {}
        }
    }
    Eenheid {
        element: e.name().to_string(),
        eid: e.eid().map(str::to_string),
        wid: e.wid().map(str::to_string),
        kop: e.child("Kop").map(kop).unwrap_or_default(),
        tekst: normaal(&tekst),
    }
}

/// The words of an element: block elements apart, inline elements joined.
fn tekst_van(e: &Element, out: &mut String) {
    let blok = !INLINE.contains(&e.name());
    if blok {
        out.push(' ');
    }
    for c in e.children() {
        match c {
            Node::Element(k) if k.name() == "br" => out.push(' '),
            Node::Element(k) => tekst_van(k, out),
            Node::Text(_) | Node::CData(_) => out.push_str(&c.char_data()),
            _ => {}
        }
    }
    if blok {
        out.push(' ');
    }
}

fn kop(k: &Element) -> String {
    let mut s = String::new();
    for c in k.elements() {
        tekst_van(c, &mut s);
    }
    if s.trim().is_empty() {
        tekst_van(k, &mut s);
    }
    normaal(&s)
}

fn normaal(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
