//! The time-travel engine in the pipeline.
//!
//! Every accepted publicatie or revisie with consolidation information becomes one
//! [`Uitwisseling`] for the engine: the ConsolidatieInformatie of the delivery, with our own
//! `gemaaktOp` (the receipt moment, strictly increasing in ledger order) unless the delivery
//! states one, `ontvangenOp` = the pipeline's today, and as `bekendOp` the datumBekendmaking
//! when that lies in the future (so a besluit is not visible before its publication). Ancestry
//! that the delivery does not state is derived from the text (`timetravel::afleiding`). The
//! engine processes the exchange *before* the delivery is committed: a ConsolidatieInformatie
//! it rejects rejects the whole delivery with the engine's meldingen.
//!
//! The exchange is stored as a blob named by the record (`Effects::uitwisseling`), so the
//! engine is derived data of the ledger: replaying the exchanges in ledger order gives the
//! same state. The state itself is kept per instrument (`w:<work>`) and per doel (`d:<doel>`)
//! in the store's derived space `timetravel`, with the ledger watermark; processing an
//! exchange reads and writes only the instruments and doelen it touches, so its cost grows
//! with their history, never with the size of the store. A space that is behind the ledger is
//! caught up on open; one that disagrees is derived again from scratch.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use stop::Melding;
use stop::module::{Inhoud, TekstInfo};
use stop::opdracht::{Opdracht, OpdrachtSoort};
use store::{Derived, Hash, Store, StoreError};
use timetravel::toestanden::{ActueleToestanden, CompleteToestand};
use timetravel::versiebeheer::{Instrument, TijdstempelMoment};
use timetravel::{Datum, Engine, Tijdreis, Uitwisseling, Vraag};
use tracing::{info, warn};
use validator::Module;

use crate::pipeline::IngestError;

/// Name of the derived space.
pub const RUIMTE: &str = "timetravel";
const META: &str = "meta";
/// Format of the persisted state; a space in another format is derived again.
const FORMAAT_SLEUTEL: &str = "formaat";
const FORMAAT: &[u8] = b"3";

/// Catch-up and writes of the derived space, one at a time per process.
static SCHRIJVEN: Mutex<()> = Mutex::new(());

/// The derived space's write lock, for [`Sessie::schrijf_met`]: the pipeline holds it from a
/// group's ledger commit until the group's state is written, so a reader opening a session
/// meanwhile (the search index thread) waits instead of replaying what is about to be written.
pub(crate) fn schrijfslot() -> std::sync::MutexGuard<'static, ()> {
    SCHRIJVEN.lock().unwrap_or_else(|p| p.into_inner())
}

/// Persisted state of one instrument.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct WerkStaat {
    pub instrument: Instrument,
    pub tijdreis: Tijdreis,
    /// The actuele toestanden after the last exchange (with nogTeConsolideren details).
    pub actueel: Option<std::sync::Arc<ActueleToestanden>>,
}

/// Persisted state of one doel.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
struct DoelStaat {
    tijdstempels: Option<Vec<TijdstempelMoment>>,
    instrumenten: BTreeSet<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default)]
struct Meta {
    laatste_gemaakt_op: Option<String>,
}

fn serde_fout(wat: &str, e: impl std::fmt::Display) -> IngestError {
    IngestError::Store(StoreError::Serde { what: wat.to_string(), message: e.to_string() })
}

/// The engine state a pipeline run works with: loaded on demand from the derived space, plus
/// the exchanges staged in the current group commit.
pub struct Sessie {
    kv: Option<Arc<Derived>>,
    engine: Engine,
    works: BTreeSet<String>,
    doelen: BTreeSet<String>,
    vuil_works: BTreeSet<String>,
    vuil_doelen: BTreeSet<String>,
    meta: Meta,
    /// Exchanges replayed by the catch-up on open.
    opnieuw: usize,
}

/// One delivery's exchange, processed on a copy of the state it touches; merged into the
/// session when the delivery is staged for commit.
pub struct Stap {
    pub uitwisseling: Uitwisseling,
    engine: Engine,
    works: BTreeSet<String>,
    doelen: BTreeSet<String>,
    /// Meldingen (waarschuwingen) of the engine.
    pub meldingen: Vec<Melding>,
}

impl Sessie {
    /// A session without a store (validation only): empty history.
    pub fn leeg() -> Sessie {
        Sessie {
            kv: None,
            engine: Engine::new(),
            works: BTreeSet::new(),
            doelen: BTreeSet::new(),
            vuil_works: BTreeSet::new(),
            vuil_doelen: BTreeSet::new(),
            meta: Meta::default(),
            opnieuw: 0,
        }
    }

    /// Open the store's engine state, bringing it up to the ledger first.
    pub fn open(store: &Store) -> Result<Sessie, IngestError> {
        let kv = store.derived(RUIMTE)?;
        let _g = SCHRIJVEN.lock().unwrap_or_else(|p| p.into_inner());
        let last = store.last_seq();
        if kv.get(FORMAAT_SLEUTEL)?.as_deref() != Some(FORMAAT) && kv.watermark()?.is_some() {
            info!("time-travel state has another format; deriving it again");
            kv.clear()?;
        }
        let wm = kv.watermark()?;
        let from = match wm {
            Some((s, h)) if s <= last && store.record_hash(s) == Some(h) => s,
            None => 0,
            Some((s, _)) => {
                warn!(watermark = s, ledger = last, "time-travel state disagrees with the ledger; deriving it again");
                kv.clear()?;
                0
            }
        };
        let mut sessie = Sessie { kv: Some(kv), ..Sessie::leeg() };
        sessie.meta = sessie.lees_meta()?;
        if from < last {
            info!(from, to = last, "time-travel catch-up");
            for seq in from + 1..=last {
                let Some(rec) = store.record(seq)? else { break };
                let Some(h) = rec.rec.effects.uitwisseling else { continue };
                let bytes = store.get_blob(&h)?;
                let u: Uitwisseling = serde_json::from_slice(&bytes).map_err(|e| serde_fout("exchange blob", e))?;
                sessie.laad_voor(&u)?;
                let (works, doelen) = sessie.sluiting(&u);
                sessie.opnieuw += 1;
                match sessie.engine.verwerk(&u) {
                    Ok(_) => {
                        sessie.vuil_works.extend(works);
                        sessie.vuil_doelen.extend(doelen);
                        sessie.meta.laatste_gemaakt_op = Some(u.gemaakt_op.clone());
                    }
                    Err(m) => warn!(seq, meldingen = m.len(), "a stored exchange is rejected on replay; skipped"),
                }
            }
            let h = store.record_hash(last).unwrap_or(Hash::ZERO);
            sessie.schrijf_intern((last, h))?;
        }
        Ok(sessie)
    }

    fn lees_meta(&self) -> Result<Meta, IngestError> {
        let Some(kv) = &self.kv else { return Ok(Meta::default()) };
        match kv.get(META)? {
            Some(b) => serde_json::from_slice(&b).map_err(|e| serde_fout("time-travel meta", e)),
            None => Ok(Meta::default()),
        }
    }

    fn laad_werk(&mut self, work: &str) -> Result<(), IngestError> {
        if !self.works.insert(work.to_string()) {
            return Ok(());
        }
        let Some(kv) = &self.kv else { return Ok(()) };
        if let Some(b) = kv.get(&format!("w:{work}"))? {
            let mut s: WerkStaat = serde_json::from_slice(&b).map_err(|e| serde_fout(work, e))?;
            s.instrument.herstel();
            s.tijdreis.herstel(&s.instrument);
            self.engine.versiebeheer.instrumenten.insert(work.to_string(), s.instrument);
            self.engine.tijdreis.insert(work.to_string(), s.tijdreis);
            if let Some(a) = s.actueel {
                self.engine.actueel.insert(work.to_string(), a);
            }
        }
        Ok(())
    }

    fn laad_doel(&mut self, doel: &str) -> Result<(), IngestError> {
        if !self.doelen.insert(doel.to_string()) {
            return Ok(());
        }
        let Some(kv) = &self.kv else { return Ok(()) };
        if let Some(b) = kv.get(&format!("d:{doel}"))? {
            let s: DoelStaat = serde_json::from_slice(&b).map_err(|e| serde_fout(doel, e))?;
            let vb = &mut self.engine.versiebeheer;
            if let Some(t) = s.tijdstempels {
                vb.tijdstempels.insert(doel.to_string(), t);
            }
            if !s.instrumenten.is_empty() {
                vb.bekende_doelen.insert(doel.to_string());
                vb.doel_instrumenten.insert(doel.to_string(), s.instrumenten);
            }
        }
        Ok(())
    }

    /// The works and doelen an exchange can touch (with the state loaded).
    fn sluiting(&self, u: &Uitwisseling) -> (BTreeSet<String>, BTreeSet<String>) {
        let mut works: BTreeSet<String> = u.instrumenten.iter().map(|e| e.work.clone()).collect();
        works.extend(u.materieel_uitgewerkt.iter().map(|m| m.work.clone()));
        let doelen: BTreeSet<String> = u.doelen().into_iter().map(str::to_string).collect();
        for d in &doelen {
            if let Some(ws) = self.engine.versiebeheer.doel_instrumenten.get(d) {
                works.extend(ws.iter().cloned());
            }
        }
        (works, doelen)
    }

    /// Load everything processing `u` needs: its works and doelen, the instruments of its
    /// doelen, and the tijdstempels of every doel of those instruments.
    fn laad_voor(&mut self, u: &Uitwisseling) -> Result<(), IngestError> {
        for d in u.doelen() {
            self.laad_doel(d)?;
        }
        let (works, _) = self.sluiting(u);
        for w in &works {
            self.laad_werk(w)?;
        }
        let extra: Vec<String> = works
            .iter()
            .filter_map(|w| self.engine.versiebeheer.instrumenten.get(w))
            .flat_map(|i| i.branches.iter().map(|b| b.doel.clone()))
            .collect();
        for d in extra {
            self.laad_doel(&d)?;
        }
        Ok(())
    }

    /// A copy of the state of `works`, their doelen and `eigen` (the exchange's own doelen):
    /// everything [`Sessie::laad_voor`] loaded for the exchange, and nothing else, so the
    /// copy costs what the exchange touches, not what the session has seen (copying every doel
    /// the session had loaded made a run of n deliveries cost O(n²)).
    fn kopie(&self, works: &BTreeSet<String>, eigen: &BTreeSet<String>) -> Engine {
        let mut e = Engine::new();
        let src = &self.engine;
        let mut doelen: BTreeSet<String> = eigen.clone();
        for w in works {
            if let Some(i) = src.versiebeheer.instrumenten.get(w) {
                doelen.extend(i.branches.iter().map(|b| b.doel.clone()));
                e.versiebeheer.instrumenten.insert(w.clone(), i.clone());
            }
            if let Some(t) = src.tijdreis.get(w) {
                e.tijdreis.insert(w.clone(), t.clone());
            }
            if let Some(a) = src.actueel.get(w) {
                e.actueel.insert(w.clone(), a.clone());
            }
        }
        for d in &doelen {
            if let Some(t) = src.versiebeheer.tijdstempels.get(d) {
                e.versiebeheer.tijdstempels.insert(d.clone(), t.clone());
            }
            if src.versiebeheer.bekende_doelen.contains(d) {
                e.versiebeheer.bekende_doelen.insert(d.clone());
            }
            if let Some(s) = src.versiebeheer.doel_instrumenten.get(d) {
                e.versiebeheer.doel_instrumenten.insert(d.clone(), s.clone());
            }
        }
        e
    }

    /// The gemaaktOp for a delivery received now: `today` with the time of day of `now`,
    /// strictly after every earlier exchange.
    pub fn volgende_gemaakt_op(&self, today: NaiveDate, now: DateTime<Utc>) -> String {
        let kandidaat = format!("{}T{}Z", today.format("%Y-%m-%d"), now.format("%H:%M:%S"));
        match &self.meta.laatste_gemaakt_op {
            Some(l) if kandidaat.as_str() <= l.as_str() => {
                let t = DateTime::parse_from_rfc3339(l).map(|d| d.with_timezone(&Utc)).unwrap_or(now);
                (t + chrono::Duration::seconds(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string()
            }
            _ => kandidaat,
        }
    }

    /// Process an exchange on a copy of the state it touches. Rejections are the engine's
    /// meldingen; nothing in the session changes either way.
    pub fn probeer(
        &mut self,
        mut u: Uitwisseling,
        was_van: &BTreeMap<String, String>,
        vervlechtingen: &BTreeMap<String, Vec<String>>,
    ) -> Result<Result<Stap, Vec<Melding>>, IngestError> {
        self.laad_voor(&u)?;
        let (works, doelen) = self.sluiting(&u);
        let mut engine = self.kopie(&works, &doelen);
        engine.versiebeheer.vul_afkomst_aan(&mut u, was_van, vervlechtingen);
        // Knowledge cannot go back in time on a branch: a change on a branch is known from the
        // branch's last bekendOp at the earliest.
        let vb = &engine.versiebeheer;
        for e in &mut u.instrumenten {
            for d in &e.doelen {
                let vorig = vb.instrumenten.get(&e.work).and_then(|i| i.branch(d)).and_then(|b| b.momentopnamen.last());
                if let Some(v) = vorig
                    && e.bekend_op.as_deref().unwrap_or(u.gemaakt_op.get(..10).unwrap_or("")) < v.bekend_op.tekst().as_str()
                {
                    e.bekend_op = Some(v.bekend_op.tekst());
                }
            }
        }
        for t in &mut u.tijdstempels {
            if let Some(v) = vb.tijdstempels.get(&t.doel).and_then(|l| l.last())
                && t.bekend_op.as_deref().unwrap_or(u.gemaakt_op.get(..10).unwrap_or("")) < v.bekend_op.tekst().as_str()
            {
                t.bekend_op = Some(v.bekend_op.tekst());
            }
        }
        match engine.verwerk(&u) {
            Ok(r) => Ok(Ok(Stap { uitwisseling: u, engine, works, doelen, meldingen: r.verwerking.waarschuwingen })),
            Err(m) => Ok(Err(m)),
        }
    }

    /// The exchange that undoes cancelled deliveries (breekPublicatieAf before the
    /// datumBekendmaking): every version, repeal and tijdstempel they delivered is withdrawn
    /// or restored to what it was before, known from the same bekendOp as the cancelled
    /// information, so no view ever shows it (the ledger keeps it for audit). `None` when the
    /// cancelled deliveries fed nothing to the engine.
    pub fn afbreken(
        &mut self,
        store: &Store,
        seqs: &[u64],
        gemaakt_op: &str,
        ontvangen_op: &str,
    ) -> Result<Option<Result<Stap, Vec<Melding>>>, IngestError> {
        use timetravel::uitwisseling::{InstrumentElement, InstrumentSoort, TijdstempelElement, Verwijzing};
        let mut w = Uitwisseling {
            gemaakt_op: gemaakt_op.to_string(),
            ontvangen_op: ontvangen_op.to_string(),
            revisie: true,
            instrumenten: Vec::new(),
            tijdstempels: Vec::new(),
            materieel_uitgewerkt: Vec::new(),
            bestand: String::new(),
        };
        for &seq in seqs {
            let Some(rec) = store.record(seq)? else { continue };
            let Some(h) = rec.rec.effects.uitwisseling else { continue };
            let x: Uitwisseling =
                serde_json::from_slice(&store.get_blob(&h)?).map_err(|e| serde_fout("exchange blob", e))?;
            self.laad_voor(&x)?;
            let bekend_op = x.module_bekend_op();
            let vb = &self.engine.versiebeheer;
            let mut gedaan: BTreeSet<(String, String)> = BTreeSet::new();
            for e in &x.instrumenten {
                let Some(instr) = vb.instrumenten.get(&e.work) else { continue };
                for d in &e.doelen {
                    if !gedaan.insert((e.work.clone(), d.clone())) {
                        continue;
                    }
                    let Some(b) = instr.branch(d) else { continue };
                    let Some(i) = b.momentopnamen.iter().position(|m| m.gemaakt_op == *x.gemaakt_op.as_str()) else { continue };
                    let laatste = b.momentopnamen.last().expect("non-empty");
                    let vorige = i.checked_sub(1).map(|j| &b.momentopnamen[j]);
                    let soort_expr = match vorige {
                        None if laatste.teruggetrokken => None,
                        None if laatste.ingetrokken => Some((InstrumentSoort::TerugtrekkingIntrekking, None)),
                        None => Some((InstrumentSoort::Terugtrekking, None)),
                        Some(p) if p.ingetrokken && !laatste.ingetrokken => Some((InstrumentSoort::Intrekking, None)),
                        Some(p) if p.teruggetrokken && !laatste.teruggetrokken => Some((InstrumentSoort::Terugtrekking, None)),
                        Some(p) if !p.ingetrokken && !p.teruggetrokken && (p.expressie != laatste.expressie || laatste.ingetrokken || laatste.teruggetrokken) => {
                            Some((InstrumentSoort::Beoogd, instr.expressie(p).map(str::to_string)))
                        }
                        Some(_) => None,
                    };
                    let Some((soort, expressie)) = soort_expr else { continue };
                    w.instrumenten.push(InstrumentElement {
                        soort,
                        work: e.work.clone(),
                        expressie,
                        doelen: vec![d.clone()],
                        bekend_op: Some(bekend_op.clone()),
                        basisversies: vec![Verwijzing { doel: d.clone(), gemaakt_op: laatste.gemaakt_op.tekst() }],
                        vervlochten: Vec::new(),
                        ontvlochten: Vec::new(),
                        eid: None,
                        regel: 0,
                    });
                }
            }
            let doelen: BTreeSet<&String> = x.tijdstempels.iter().map(|t| &t.doel).collect();
            for d in doelen {
                let Some(lijst) = vb.tijdstempels.get(d) else { continue };
                let Some(j) = lijst.iter().position(|t| t.gemaakt_op == *x.gemaakt_op.as_str()) else { continue };
                let laatste = lijst.last().expect("non-empty");
                let vorige = j.checked_sub(1).map(|k| &lijst[k]);
                for geldig_vanaf in [false, true] {
                    let veld = |t: &TijdstempelMoment| if geldig_vanaf { t.geldig_vanaf } else { t.juridisch_werkend_vanaf };
                    let doelwaarde = vorige.and_then(veld);
                    if veld(laatste) != doelwaarde {
                        w.tijdstempels.push(TijdstempelElement {
                            doel: d.clone(),
                            geldig_vanaf,
                            datum: doelwaarde.map(Datum::tekst),
                            bekend_op: Some(bekend_op.clone()),
                            regel: 0,
                        });
                    }
                }
            }
        }
        if w.instrumenten.is_empty() && w.tijdstempels.is_empty() {
            return Ok(None);
        }
        self.probeer(w, &BTreeMap::new(), &BTreeMap::new()).map(Some)
    }

    /// Take a staged delivery's exchange into the session.
    pub fn neem_over(&mut self, stap: Stap) {
        let Stap { uitwisseling, engine, works, doelen, .. } = stap;
        let Engine { versiebeheer, tijdreis, actueel } = engine;
        let vb = &mut self.engine.versiebeheer;
        for w in &works {
            if let Some(i) = versiebeheer.instrumenten.get(w) {
                vb.instrumenten.insert(w.clone(), i.clone());
            }
        }
        for (d, t) in versiebeheer.tijdstempels {
            vb.tijdstempels.insert(d, t);
        }
        vb.bekende_doelen.extend(versiebeheer.bekende_doelen);
        for (d, s) in versiebeheer.doel_instrumenten {
            vb.doel_instrumenten.insert(d, s);
        }
        self.engine.tijdreis.extend(tijdreis);
        self.engine.actueel.extend(actueel);
        self.works.extend(works.iter().cloned());
        self.vuil_works.extend(works);
        self.vuil_doelen.extend(doelen);
        self.meta.laatste_gemaakt_op = Some(uitwisseling.gemaakt_op);
    }

    /// Write what changed, with the ledger watermark, after the group commit.
    pub fn schrijf(&mut self, watermark: (u64, Hash)) -> Result<(), IngestError> {
        let _g = SCHRIJVEN.lock().unwrap_or_else(|p| p.into_inner());
        self.schrijf_intern(watermark)
    }

    /// [`Sessie::schrijf`] while the caller holds [`schrijfslot`].
    pub(crate) fn schrijf_met(
        &mut self,
        _slot: &std::sync::MutexGuard<'static, ()>,
        watermark: (u64, Hash),
    ) -> Result<(), IngestError> {
        self.schrijf_intern(watermark)
    }

    fn schrijf_intern(&mut self, watermark: (u64, Hash)) -> Result<(), IngestError> {
        let Some(kv) = self.kv.clone() else { return Ok(()) };
        let mut puts: Vec<(String, Vec<u8>)> = Vec::new();
        let vb = &self.engine.versiebeheer;
        let mut doelen = std::mem::take(&mut self.vuil_doelen);
        for w in std::mem::take(&mut self.vuil_works) {
            let Some(i) = vb.instrumenten.get(&w) else { continue };
            doelen.extend(i.branches.iter().map(|b| b.doel.clone()));
            let staat = WerkStaat {
                instrument: i.clone(),
                tijdreis: self.engine.tijdreis.get(&w).cloned().unwrap_or_default(),
                actueel: self.engine.actueel.get(&w).cloned(),
            };
            puts.push((format!("w:{w}"), serde_json::to_vec(&staat).expect("state serialises")));
        }
        for d in doelen {
            let staat = DoelStaat {
                tijdstempels: vb.tijdstempels.get(&d).cloned(),
                instrumenten: vb.doel_instrumenten.get(&d).cloned().unwrap_or_default(),
            };
            puts.push((format!("d:{d}"), serde_json::to_vec(&staat).expect("state serialises")));
        }
        puts.push((META.to_string(), serde_json::to_vec(&self.meta).expect("meta serialises")));
        puts.push((FORMAAT_SLEUTEL.to_string(), FORMAAT.to_vec()));
        kv.apply(&puts, watermark)?;
        Ok(())
    }
}

/// Derive the engine state again from the ledger (the exchanges the records name), from
/// scratch. Returns the number of exchanges replayed.
pub fn herbouw(store: &Store) -> Result<usize, IngestError> {
    let kv = store.derived(RUIMTE)?;
    {
        let _g = SCHRIJVEN.lock().unwrap_or_else(|p| p.into_inner());
        kv.clear()?;
    }
    Ok(Sessie::open(store)?.opnieuw)
}

/// Whether a delivery of this kind feeds the engine.
pub fn voedt_engine(soort: OpdrachtSoort) -> bool {
    matches!(
        soort,
        OpdrachtSoort::PublicatieOpdracht
            | OpdrachtSoort::ValidatieOpdracht
            | OpdrachtSoort::RevisieOpdracht
            | OpdrachtSoort::ValidatieRevisieOpdracht
    )
}

/// The exchange a delivery makes, with the text facts ancestry is derived from:
/// (exchange, wordt → was, version → vervlochten versions). `None` when the delivery has no
/// consolidation information or is an ontwerpbesluit (ontwerp versions are not geldend and
/// never become toestanden). Syntax problems are meldingen.
#[allow(clippy::type_complexity)]
pub fn uitwisseling_van(
    modules: &[Module],
    opdracht: &Opdracht,
    gemaakt_op: &str,
    ontvangen_op: &str,
) -> Option<Result<(Uitwisseling, BTreeMap<String, String>, BTreeMap<String, Vec<String>>), Vec<Melding>>> {
    let mut u: Option<Uitwisseling> = None;
    let mut was_van = BTreeMap::new();
    let mut vervlechtingen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut fouten = Vec::new();
    for m in modules {
        let inhoud = &m.inhoud;
        if let Inhoud::Besluit(b) = inhoud
            && b.is_ontwerp()
        {
            return None;
        }
        let Some(ci) = inhoud.consolidatie() else { continue };
        let teksten: Vec<&TekstInfo> = match inhoud {
            Inhoud::Besluit(b) => b.tekst.iter().chain(b.tekstrevisie.iter()).collect(),
            Inhoud::Revisie(p) | Inhoud::Rectificatie(p) | Inhoud::Mededeling(p) => p.tekst.iter().collect(),
            _ => Vec::new(),
        };
        for t in teksten {
            for r in &t.regelingen {
                if let (Some(wordt), Some(was)) = (&r.wordt, &r.was) {
                    was_van.insert(wordt.clone(), was.clone());
                }
            }
        }
        for b in ci.beoogde_regelingen.iter().chain(&ci.beoogde_informatieobjecten) {
            if !b.vervlechtingen.is_empty() {
                vervlechtingen.entry(b.instrument_versie.clone()).or_default().extend(b.vervlechtingen.iter().cloned());
            }
        }
        let eigen = ci.gemaakt_op.as_deref();
        match Uitwisseling::uit_consolidatie(ci, &m.bestand, Some(eigen.unwrap_or(gemaakt_op)), Some(ontvangen_op)) {
            Ok(x) => match &mut u {
                None => u = Some(x),
                Some(u) => {
                    u.instrumenten.extend(x.instrumenten);
                    u.tijdstempels.extend(x.tijdstempels);
                    u.materieel_uitgewerkt.extend(x.materieel_uitgewerkt);
                }
            },
            Err(m) => fouten.extend(m),
        }
    }
    if !fouten.is_empty() {
        return Some(Err(fouten));
    }
    let mut u = u?;
    u.revisie = matches!(opdracht.soort, OpdrachtSoort::RevisieOpdracht | OpdrachtSoort::ValidatieRevisieOpdracht);
    // Not visible before publication: knowledge from the datumBekendmaking on.
    if !u.revisie
        && let Some(d) = opdracht.datum_bekendmaking_tekst.as_deref().map(|d| d.get(..10).unwrap_or(d))
        && d > ontvangen_op
        && timetravel::uitwisseling::is_datum(d)
    {
        for e in &mut u.instrumenten {
            if e.bekend_op.is_none() {
                e.bekend_op = Some(d.to_string());
            }
        }
        for t in &mut u.tijdstempels {
            if t.bekend_op.is_none() {
                t.bekend_op = Some(d.to_string());
            }
        }
    }
    if u.instrumenten.is_empty() && u.tijdstempels.is_empty() && u.materieel_uitgewerkt.is_empty() {
        return None;
    }
    Some(Ok((u, was_van, vervlechtingen)))
}

/// The answer to a time-travel question about one instrument.
#[derive(Clone, Debug, Serialize)]
pub struct Antwoord {
    pub toestand: CompleteToestand,
    /// (ontvangenOp, bekendOp) of the knowledge the answer comes from.
    pub ontvangen_op: String,
    pub bekend_op: String,
    pub juridisch_werkend_tot: Option<String>,
    pub geldig_tot: Option<String>,
}

/// Read access to the engine state of a store (catching it up first).
pub struct Lezer {
    sessie: Sessie,
}

impl Lezer {
    pub fn open(store: &Store) -> Result<Lezer, IngestError> {
        Ok(Lezer { sessie: Sessie::open(store)? })
    }

    /// The persisted state of an instrument, if the engine knows it.
    pub fn werk(&mut self, work: &str) -> Result<Option<WerkStaat>, IngestError> {
        self.sessie.laad_werk(work)?;
        let e = &self.sessie.engine;
        Ok(e.versiebeheer.instrumenten.get(work).map(|i| WerkStaat {
            instrument: i.clone(),
            tijdreis: e.tijdreis.get(work).cloned().unwrap_or_default(),
            actueel: e.actueel.get(work).cloned(),
        }))
    }

    /// The toestand of `work` that answers `vraag`.
    pub fn toestand(&mut self, work: &str, vraag: &Vraag) -> Result<Option<Antwoord>, IngestError> {
        self.sessie.laad_werk(work)?;
        Ok(self.sessie.engine.toestand(work, vraag).map(|t| Antwoord {
            toestand: t.toestand.clone(),
            ontvangen_op: t.moment.ontvangen_op.tekst(),
            bekend_op: t.moment.bekend_op.tekst(),
            juridisch_werkend_tot: t.juridisch_werkend_tot,
            geldig_tot: t.geldig_tot,
        }))
    }

    /// The actuele toestanden of `work` after the last exchange that touched it (with the
    /// nogTeConsolideren details), if that exchange is known on `beschikbaar_op` (`None`: no
    /// date given, always). For views of the past use [`Lezer::tijdlijn`].
    pub fn actuele_toestanden(
        &mut self,
        work: &str,
        beschikbaar_op: Option<&str>,
    ) -> Result<Option<ActueleToestanden>, IngestError> {
        self.sessie.laad_werk(work)?;
        Ok(self
            .sessie
            .engine
            .actuele_toestanden(work)
            .filter(|a| beschikbaar_op.is_none_or(|t| a.ontvangen_op.as_str() <= t && a.bekend_op.as_str() <= t))
            .cloned())
    }

    /// The instruments with a branch for `doel`, as far as the engine knows.
    pub fn instrumenten_van_doel(&mut self, doel: &str) -> Result<BTreeSet<String>, IngestError> {
        self.sessie.laad_doel(doel)?;
        Ok(self.sessie.engine.versiebeheer.doel_instrumenten.get(doel).cloned().unwrap_or_default())
    }

    /// The timeline of `work` as known on `beschikbaar_op`.
    pub fn tijdlijn(&mut self, work: &str, beschikbaar_op: &str) -> Result<Option<timetravel::Tijdlijn>, IngestError> {
        self.sessie.laad_werk(work)?;
        Ok(self.sessie.engine.tijdlijn(work, beschikbaar_op))
    }
}

/// What a time-travel question about one instrument resolves to: the version whose text
/// answers it, or why there is none. Shared by `regelbank text WORK --geldig-op …` and the
/// HTTP server.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "uitkomst", rename_all = "camelCase")]
pub enum Oplossing {
    /// A complete toestand: `expressie` is its instrumentversie.
    #[serde(rename_all = "camelCase")]
    Versie { expressie: String, antwoord: Antwoord },
    /// The toestand has no single version: onvolledig (samenloop not resolved), onbekend
    /// (delivered as unknown) or compleet without a version. `kandidaten`: the latest version
    /// of each doel involved (the inwerkingtredingsdoelen, then those still to be merged or
    /// contradicting), without duplicates.
    #[serde(rename_all = "camelCase")]
    GeenVersie { antwoord: Antwoord, kandidaten: Vec<String> },
    /// The toestand says the instrument is not in force (ingetrokken).
    #[serde(rename_all = "camelCase")]
    NietInWerking { antwoord: Antwoord },
    /// No toestand applies: before the first one, nothing known yet, or an unknown instrument.
    GeenToestand,
}

/// The Dutch name of a status, as the CLI and the server show it.
pub fn status_nl(s: timetravel::toestanden::Status) -> &'static str {
    use timetravel::toestanden::Status;
    match s {
        Status::Compleet => "compleet",
        Status::Onvolledig => "onvolledig",
        Status::Onbekend => "onbekend",
        Status::NietInWerking => "niet in werking",
    }
}

/// Why a toestand's content is not (only) its version: the doelen still to be merged, to be
/// taken out, or contradicting (empty when there is nothing to say).
pub fn uitleg(i: &timetravel::toestanden::Inhoud) -> String {
    let mut delen = Vec::new();
    if !i.te_verwerken.is_empty() {
        let d: Vec<String> = i
            .te_verwerken
            .iter()
            .map(|t| match &t.laatst_verwerkt {
                Some(v) => format!("{} (verwerkt tot @{v}, laatst @{})", t.doel, t.laatst_bekend),
                None => format!("{} (laatst @{})", t.doel, t.laatst_bekend),
            })
            .collect();
        delen.push(format!("nog te verwerken: {}", d.join(", ")));
    }
    if !i.te_ontvlechten.is_empty() {
        let d: Vec<&str> = i.te_ontvlechten.iter().map(|t| t.doel.as_str()).collect();
        delen.push(format!("nog te ontvlechten: {}", d.join(", ")));
    }
    if !i.tegensprekend.is_empty() {
        let d: Vec<&str> = i.tegensprekend.iter().map(|t| t.doel.as_str()).collect();
        delen.push(format!("tegensprekend: {}", d.join(", ")));
    }
    delen.join("; ")
}

impl Lezer {
    /// Resolve a time-travel question about `work` to the version that answers it, or to the
    /// reason there is none (with the candidate versions for a toestand without one).
    pub fn los_op(&mut self, work: &str, vraag: &Vraag) -> Result<Oplossing, IngestError> {
        use timetravel::toestanden::Status;
        let Some(antwoord) = self.toestand(work, vraag)? else { return Ok(Oplossing::GeenToestand) };
        let inhoud = &antwoord.toestand.inhoud;
        match (inhoud.status, &inhoud.instrumentversie) {
            (Status::Compleet, Some(v)) => Ok(Oplossing::Versie { expressie: v.clone(), antwoord }),
            (Status::NietInWerking, _) => Ok(Oplossing::NietInWerking { antwoord }),
            _ => {
                let instrument = self.sessie.engine.versiebeheer.instrumenten.get(work);
                let mut kandidaten: Vec<String> = Vec::new();
                let doelen = antwoord
                    .toestand
                    .inwerkingtredingsdoelen
                    .iter()
                    .chain(inhoud.te_verwerken.iter().map(|t| &t.doel))
                    .chain(inhoud.tegensprekend.iter().map(|t| &t.doel));
                for d in doelen {
                    let v = instrument
                        .and_then(|i| Some((i, i.branch(d)?)))
                        .and_then(|(i, b)| b.momentopnamen.iter().rev().find_map(|m| i.expressie(m).map(str::to_string)));
                    if let Some(v) = v
                        && !kandidaten.contains(&v)
                    {
                        kandidaten.push(v);
                    }
                }
                Ok(Oplossing::GeenVersie { antwoord, kandidaten })
            }
        }
    }
}
