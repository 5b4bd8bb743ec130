//! # timetravel: STOP versiebeheer, toestanden and bitemporal queries
//!
//! Which version of a regeling or informatieobject applies when, as known when.
//!
//! * [`versiebeheer`]: doelen as branches of an instrument, their momentopnamen, tijdstempels,
//!   intrekkingen, terugtrekkingen and ancestry (basisversie, vervlechting, ontvlechting),
//!   processed one exchange ([`Uitwisseling`]) at a time. An exchange with a `fout` is rejected
//!   whole.
//! * [`toestanden`]: actuele toestanden (juridischWerkend axis) and complete toestanden
//!   (juridischWerkend × geldig), with samenloop (onvolledig), intrekking, terugwerkende kracht.
//! * [`tijdreis`]: the per-instrument time-travel index over all four axes.
//! * [`tijd`]: dates and moments as integers that order as STOP's strings do.
//! * [`conformance`]: the runner for the `stop-conformance/1` scenario suite.
//!
//! The semantics are those of the STOP standard as implemented by KOOP's reference simulator;
//! the conformance suite checks them. The engine is pure computation over in-memory state; the
//! pipeline (`ingest`) persists it as derived data of the ledger.
//!
//! [`Engine::verwerk`] updates only the instruments an exchange touches: its cost grows with
//! their history, never with the size of the whole state; within an instrument it determines
//! again only the contents of toestanden whose inputs changed (see [`toestanden`]).

pub mod afleiding;
pub mod conformance;
pub mod meldingen;
pub mod tijd;
pub mod tijdreis;
pub mod toestanden;
pub mod uitwisseling;
pub mod versiebeheer;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use stop::Melding;

pub use tijd::{Datum, Tijdstip};
pub use tijdreis::{Tijdreis, Treffer, dag, datum};
pub use toestanden::{ActueleToestand, ActueleToestanden, CompleteToestand, Inhoud, Status};

pub use uitwisseling::Uitwisseling;
pub use versiebeheer::{Versiebeheer, Verwerking};

use toestanden::Bepaling;

/// Versiebeheer plus the derived toestanden and time-travel index of every instrument.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engine {
    pub versiebeheer: Versiebeheer,
    /// Per instrument, the time-travel index.
    pub tijdreis: BTreeMap<String, Tijdreis>,
    /// Per instrument, the actuele toestanden after the last exchange that touched it (past
    /// views come from the time-travel index: [`Engine::tijdlijn`]).
    pub actueel: BTreeMap<String, Arc<ActueleToestanden>>,
}

/// The outcome of an accepted exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resultaat {
    pub verwerking: Verwerking,
    /// The actuele toestanden of every touched instrument after this exchange.
    pub actueel: BTreeMap<String, Arc<ActueleToestanden>>,
}

/// A time-travel question. Dates are `YYYY-MM-DD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vraag {
    /// juridischWerkendOp (DSO: `inWerkingOp`).
    pub in_werking_op: String,
    /// DSO: `geldigOp`.
    pub geldig_op: String,
    /// The knowledge axis: information received on or before this date (DSO `beschikbaarOp`).
    pub ontvangen_op: String,
    /// Information publicly known on or before this date.
    pub bekend_op: String,
}

impl Vraag {
    /// In force and valid on `datum`, as known on `beschikbaar_op`.
    pub fn op(datum: &str, beschikbaar_op: &str) -> Vraag {
        Vraag {
            in_werking_op: datum.to_string(),
            geldig_op: datum.to_string(),
            ontvangen_op: beschikbaar_op.to_string(),
            bekend_op: beschikbaar_op.to_string(),
        }
    }
}

impl Engine {
    pub fn new() -> Engine {
        Engine::default()
    }

    /// Restore derived lookup fields after deserialising.
    pub fn herstel(&mut self) {
        for i in self.versiebeheer.instrumenten.values_mut() {
            i.herstel();
        }
        for (w, t) in self.tijdreis.iter_mut() {
            match self.versiebeheer.instrumenten.get(w) {
                Some(i) => t.herstel(i),
                None => t.herstel(&versiebeheer::Instrument::new(w)),
            }
        }
    }

    /// Process one exchange: update versiebeheer, then the complete toestanden of every
    /// touched instrument for each bekendOp from this exchange's earliest one, then its
    /// actuele toestanden. On any `fout` nothing changes.
    pub fn verwerk(&mut self, u: &Uitwisseling) -> Result<Resultaat, Vec<Melding>> {
        let verwerking = self.versiebeheer.verwerk(u)?;
        // The exchange's dates are valid: versiebeheer checked them.
        let gemaakt_op = Tijdstip::parse(&u.gemaakt_op).unwrap_or_default();
        let ontvangen_op = Datum::parse(&u.ontvangen_op).unwrap_or_default();
        let bekend_op = verwerking.bekend_op.unwrap_or_else(|| Datum::parse(&u.module_bekend_op()).unwrap_or_default());
        let mut actueel = BTreeMap::new();
        let Versiebeheer { instrumenten, tijdstempels, .. } = &mut self.versiebeheer;
        for work in &verwerking.instrumenten {
            let Some(instr) = instrumenten.get_mut(work) else { continue };
            // Each determination hands what it found to the next one of this instrument.
            let mut geheugen = std::mem::take(&mut instr.afgeleid.geheugen);
            let mut at = None;
            if let Some(&eerste) = verwerking.eerste_bekend_op.get(work) {
                if !self.tijdreis.contains_key(work) {
                    self.tijdreis.insert(work.clone(), Tijdreis::default());
                }
                let Some(tijdreis) = self.tijdreis.get_mut(work) else { continue };
                let start = instr.bekend_op.partition_point(|b| *b < eerste);
                for &b in &instr.bekend_op[start..] {
                    let mut bepaling = Bepaling::new(instr, tijdstempels, b, geheugen);
                    let toestanden = bepaling.complete_toestanden();
                    tijdreis.voeg_toe(gemaakt_op, ontvangen_op, b, &toestanden, &bepaling);
                    // The actuele toestanden at this bekendOp ask the same questions.
                    if b == bekend_op {
                        at = Some(bepaling.actuele_toestanden(&u.gemaakt_op, &u.ontvangen_op));
                    }
                    geheugen = bepaling.geheugen();
                }
            }
            let at = match at {
                Some(at) => at,
                None => {
                    let mut bepaling = Bepaling::new(instr, tijdstempels, bekend_op, geheugen);
                    let at = bepaling.actuele_toestanden(&u.gemaakt_op, &u.ontvangen_op);
                    geheugen = bepaling.geheugen();
                    at
                }
            };
            instr.afgeleid.geheugen = geheugen;
            let at = Arc::new(at);
            match self.actueel.get_mut(work) {
                Some(x) => *x = at.clone(),
                None => {
                    self.actueel.insert(work.clone(), at.clone());
                }
            }
            actueel.insert(work.clone(), at);
        }
        Ok(Resultaat { verwerking, actueel })
    }

    /// The toestand of `work` that answers the question, or `None` when no toestand applies
    /// (not yet in force, unknown work, or nothing known at that moment).
    pub fn toestand(&self, work: &str, vraag: &Vraag) -> Option<Treffer<'_>> {
        self.tijdreis.get(work)?.zoek(
            dag(&vraag.in_werking_op),
            dag(&vraag.geldig_op),
            dag(&vraag.ontvangen_op),
            dag(&vraag.bekend_op),
        )
    }

    /// The actuele toestanden of `work` after the last exchange that touched it.
    pub fn actuele_toestanden(&self, work: &str) -> Option<&ActueleToestanden> {
        self.actueel.get(work).map(|a| &**a)
    }

    /// The timeline of `work` as known on `beschikbaar_op`: the toestanden that apply on each
    /// date (geldigOp = inWerkingOp = that date), from the time-travel index.
    pub fn tijdlijn(&self, work: &str, beschikbaar_op: &str) -> Option<Tijdlijn> {
        let t = self.tijdreis.get(work)?;
        let b = dag(beschikbaar_op);
        let m = t.moment(b, b)?;
        let mut punten: Vec<i32> = m.ankers.iter().flat_map(|a| [a.jwv, a.gv]).collect();
        punten.sort_unstable();
        punten.dedup();
        let mut perioden: Vec<Periode> = Vec::new();
        for d in punten {
            let gevonden = t.zoek(d, d, b, b).map(|x| x.toestand);
            match (perioden.last_mut(), gevonden) {
                (Some(p), Some(x)) if p.toestand == *x => {}
                (Some(p), None) if p.tot.is_none() => p.tot = Some(datum(d)),
                (_, None) => {}
                (last, Some(x)) => {
                    if let Some(p) = last
                        && p.tot.is_none()
                    {
                        p.tot = Some(datum(d));
                    }
                    perioden.push(Periode { vanaf: datum(d), tot: None, toestand: x.clone() });
                }
            }
        }
        Some(Tijdlijn { ontvangen_op: m.ontvangen_op.to_string(), bekend_op: m.bekend_op.to_string(), perioden })
    }
}

/// One period of a timeline: from `vanaf` (inclusive) to `tot` (exclusive; `None` = open).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Periode {
    pub vanaf: String,
    pub tot: Option<String>,
    pub toestand: CompleteToestand,
}

/// The toestanden of an instrument over time, as known at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tijdlijn {
    /// The knowledge the timeline comes from.
    pub ontvangen_op: String,
    pub bekend_op: String,
    pub perioden: Vec<Periode>,
}
