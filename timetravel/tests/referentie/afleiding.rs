//! Ancestry for exchanges that do not state it. Real STOP 1.4 besluiten carry no `gemaaktOp`
//! and no `gemaaktOpBasisVan`: which versions a new version contains follows from the text. A
//! version made by a `RegelingMutatie` contains everything its `was` version contained, plus
//! its own doel(en), plus (1.4) the versions its `gerelateerdeVersies/Vervlechting` names.
//!
//! [`Versiebeheer::vul_afkomst_aan`] turns that into the references the engine works with:
//!
//! * a doel that already has a branch continues it: `Basisversie` = the branch's last
//!   momentopname;
//! * a new doel starts a branch from the momentopnamen that hold the `was` version
//!   (`Basisversie` of their doelen); without a `was` (a new informatieobject version, an
//!   intrekking) from the instrument's most recent version;
//! * a continued branch whose `was` version lies on another branch, or that names a
//!   Vervlechting, merges those momentopnamen in (`VervlochtenVersie`) unless it already
//!   contains them;
//! * an instrument without any branch gets none: its first version is the initial one.

use std::collections::BTreeMap;

use timetravel::uitwisseling::{InstrumentSoort, Uitwisseling, Verwijzing};
use super::versiebeheer::{Instrument, Versiebeheer};

/// The latest momentopname per branch whose version is `expressie`: (doel, gemaaktOp).
fn momentopnamen_met(instr: &Instrument, expressie: &str) -> Vec<Verwijzing> {
    instr
        .branches
        .iter()
        .filter_map(|b| {
            b.momentopnamen
                .iter()
                .rev()
                .find(|m| m.expressie.as_deref() == Some(expressie))
                .map(|m| Verwijzing { doel: b.doel.clone(), gemaakt_op: m.gemaakt_op.clone() })
        })
        .collect()
}

/// The instrument's most recent momentopname that holds a version.
fn laatste_versie(instr: &Instrument) -> Vec<Verwijzing> {
    instr
        .branches
        .iter()
        .filter_map(|b| b.momentopnamen.last().filter(|m| m.expressie.is_some()).map(|m| (b, m)))
        .max_by(|a, b| a.1.gemaakt_op.cmp(&b.1.gemaakt_op))
        .map(|(b, m)| vec![Verwijzing { doel: b.doel.clone(), gemaakt_op: m.gemaakt_op.clone() }])
        .unwrap_or_default()
}

impl Versiebeheer {
    /// Fill in the references of every instrument element of `u` that states none.
    /// `was_van` maps a new version (wordt) to the version it was made from; `vervlechtingen`
    /// maps a new version to the versions it explicitly merges (STOP 1.4).
    pub fn vul_afkomst_aan(
        &self,
        u: &mut Uitwisseling,
        was_van: &BTreeMap<String, String>,
        vervlechtingen: &BTreeMap<String, Vec<String>>,
    ) {
        for e in &mut u.instrumenten {
            if !e.basisversies.is_empty() || !e.vervlochten.is_empty() || !e.ontvlochten.is_empty() {
                continue;
            }
            let Some(instr) = self.instrumenten.get(&e.work) else { continue };
            let mut basis: Vec<Verwijzing> = Vec::new();
            let mut bestaande: Vec<&str> = Vec::new();
            for d in &e.doelen {
                if let Some(last) = instr.branch(d).and_then(|b| b.momentopnamen.last()) {
                    basis.push(Verwijzing { doel: d.clone(), gemaakt_op: last.gemaakt_op.clone() });
                    bestaande.push(d);
                }
            }
            let nieuw = e.doelen.len() > bestaande.len();
            let was = e.expressie.as_ref().and_then(|x| was_van.get(x));
            let bron: Vec<Verwijzing> = match (e.soort, was) {
                (InstrumentSoort::Beoogd, Some(was)) => momentopnamen_met(instr, was),
                (InstrumentSoort::Beoogd | InstrumentSoort::Intrekking, None) if nieuw => laatste_versie(instr),
                _ => Vec::new(),
            };
            let mut samen: Vec<Verwijzing> = Vec::new();
            for b in bron {
                if e.doelen.contains(&b.doel) {
                    continue;
                }
                if nieuw {
                    if !basis.iter().any(|x| x.doel == b.doel) {
                        basis.push(b);
                    }
                } else {
                    samen.push(b);
                }
            }
            if let Some(v) = e.expressie.as_ref().and_then(|x| vervlechtingen.get(x)) {
                for x in v {
                    for b in momentopnamen_met(instr, x) {
                        if !e.doelen.contains(&b.doel) && !basis.iter().any(|y| y.doel == b.doel) {
                            samen.push(b);
                        }
                    }
                }
            }
            // Merge only what the continued branch does not contain yet.
            let cumulatief = bestaande
                .first()
                .and_then(|d| instr.branch(d))
                .and_then(|b| b.momentopnamen.last())
                .and_then(|m| m.cumulatief.as_deref());
            let mut vervlochten: Vec<Verwijzing> = Vec::new();
            for b in samen {
                let bevat = cumulatief
                    .and_then(|c| c.get(&b.doel))
                    .is_some_and(|x| x.ontvlochten == Some(false) && x.laatst_verwerkt >= b.gemaakt_op);
                if !bevat && !vervlochten.iter().any(|y| y.doel == b.doel) {
                    vervlochten.push(b);
                }
            }
            e.basisversies = basis;
            e.vervlochten = vervlochten;
        }
    }
}
