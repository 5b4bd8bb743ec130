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
//! * [`conformance`]: the runner for the `stop-conformance/1` scenario suite.
//!
//! The semantics are those of the STOP standard as implemented by KOOP's reference simulator;
//! the conformance suite checks them. The engine is pure computation over in-memory state; the
//! pipeline (`ingest`) persists it as derived data of the ledger.
//!
//! [`Engine::verwerk`] updates only the instruments an exchange touches: its cost grows with
//! their history, never with the size of the whole state.

pub mod afleiding;
pub mod conformance;
pub mod meldingen;
pub mod tijdreis;
pub mod toestanden;
pub mod uitwisseling;
pub mod versiebeheer;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use stop::Melding;

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
    /// Per instrument, the actuele toestanden after every exchange that touched it.
    pub actueel: BTreeMap<String, Vec<ActueleToestanden>>,
}

/// The outcome of an accepted exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resultaat {
    pub verwerking: Verwerking,
    /// The actuele toestanden of every touched instrument after this exchange.
    pub actueel: BTreeMap<String, ActueleToestanden>,
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
        for t in self.tijdreis.values_mut() {
            t.herstel();
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
            if let Some(eerste) = verwerking.eerste_bekend_op.get(work) {
                let tijdreis = self.tijdreis.entry(work.clone()).or_default();
                for b in instr.bekend_op.range(eerste.clone()..) {
                    let toestanden = Bepaling::new(instr, &self.versiebeheer.tijdstempels, b).complete_toestanden();
                    tijdreis.voeg_toe(&u.gemaakt_op, &u.ontvangen_op, b, toestanden);
                }
            }
            let bekend_op = verwerking.bekend_op.clone().unwrap_or_else(|| u.module_bekend_op());
            let at = Bepaling::new(instr, &self.versiebeheer.tijdstempels, &bekend_op)
                .actuele_toestanden(&u.gemaakt_op, &u.ontvangen_op);
            self.actueel.entry(work.clone()).or_default().push(at.clone());
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

    /// The actuele toestanden of `work` as determined by the last exchange received on or
    /// before `beschikbaar_op` (or the latest one).
    pub fn actuele_toestanden(&self, work: &str, beschikbaar_op: Option<&str>) -> Option<&ActueleToestanden> {
        let lijst = self.actueel.get(work)?;
        match beschikbaar_op {
            None => lijst.last(),
            Some(t) => lijst.iter().rev().find(|a| a.ontvangen_op.as_str() <= t && a.bekend_op.as_str() <= t),
        }
    }
}
