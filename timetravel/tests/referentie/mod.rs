
//! The engine as it was at commit 38e12d3 (before the interned redesign), kept verbatim
//! (paths adapted) as the reference the differential test compares the engine with.
#![allow(dead_code)]

pub mod afleiding;
pub mod tijdreis;
pub mod toestanden;
pub mod versiebeheer;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use stop::Melding;

pub use tijdreis::{Tijdreis, Treffer, dag, datum};
pub use toestanden::{ActueleToestanden, CompleteToestand};

pub use timetravel::Uitwisseling;
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

pub use timetravel::Vraag;

impl Engine {
    pub fn new() -> Engine {
        Engine::default()
    }

    /// Restore derived lookup fields after deserialising.
    pub fn herstel(&mut self) {
        for t in self.tijdreis.values_mut() {
            t.herstel();
        }
        for i in self.versiebeheer.instrumenten.values_mut() {
            i.herstel();
        }
    }

    /// Process one exchange: update versiebeheer, then the complete toestanden of every
    /// touched instrument for each bekendOp from this exchange's earliest one, then its
    /// actuele toestanden. On any `fout` nothing changes.
    pub fn verwerk(&mut self, u: &Uitwisseling) -> Result<Resultaat, Vec<Melding>> {
        let verwerking = self.versiebeheer.verwerk(u)?;
        let mut actueel = BTreeMap::new();
        for work in &verwerking.instrumenten {
            let Some(instr) = self.versiebeheer.instrumenten.get(work) else { continue };
            let bekend_op = verwerking.bekend_op.clone().unwrap_or_else(|| u.module_bekend_op());
            // The determination at the actuele toestanden' bekendOp is shared with the
            // complete toestanden at that bekendOp (same questions, answered once).
            let mut gedeeld = None;
            if let Some(eerste) = verwerking.eerste_bekend_op.get(work) {
                let tijdreis = self.tijdreis.entry(work.clone()).or_default();
                for b in instr.bekend_op.range(eerste.clone()..) {
                    let bepaling = Bepaling::new(instr, &self.versiebeheer.tijdstempels, b);
                    tijdreis.voeg_toe(&u.gemaakt_op, &u.ontvangen_op, b, bepaling.complete_toestanden());
                    if *b == bekend_op {
                        gedeeld = Some(bepaling);
                    }
                }
            }
            let bepaling = gedeeld.unwrap_or_else(|| Bepaling::new(instr, &self.versiebeheer.tijdstempels, &bekend_op));
            let at = Arc::new(bepaling.actuele_toestanden(&u.gemaakt_op, &u.ontvangen_op));
            self.actueel.insert(work.clone(), at.clone());
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
        Some(Tijdlijn { ontvangen_op: m.ontvangen_op.clone(), bekend_op: m.bekend_op.clone(), perioden })
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

pub mod meldingen {
    use stop::{Ernst, Locatie, Melding, Soort};

    pub fn fout(code: &str, bestand: &str, tekst: String) -> Melding {
        Melding::new(code, Ernst::Fout, Soort::Inhoudelijk, tekst).at(loc(bestand))
    }

    pub fn waarschuwing(code: &str, bestand: &str, tekst: String) -> Melding {
        Melding::new(code, Ernst::Waarschuwing, Soort::Inhoudelijk, tekst).at(loc(bestand))
    }

    fn loc(bestand: &str) -> Locatie {
        if bestand.is_empty() { Locatie::default() } else { Locatie::bestand(bestand) }
    }
}
