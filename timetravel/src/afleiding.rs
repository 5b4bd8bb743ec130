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

use crate::uitwisseling::{InstrumentSoort, Uitwisseling, Verwijzing};
use crate::tijd::Tijdstip;
use crate::versiebeheer::{Instrument, Versiebeheer, bijdrage};

/// The latest momentopname per branch whose version is `expressie`: (doel, gemaaktOp).
fn momentopnamen_met(instr: &Instrument, expressie: &str) -> Vec<(usize, Tijdstip)> {
    let Some(x) = instr.expressie_index(expressie) else { return Vec::new() };
    instr
        .branches
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.momentopnamen.iter().rev().find(|m| m.expressie == Some(x)).map(|m| (i, m.gemaakt_op)))
        .collect()
}

/// The instrument's most recent momentopname that holds a version.
fn laatste_versie(instr: &Instrument) -> Vec<(usize, Tijdstip)> {
    instr
        .branches
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.momentopnamen.last().filter(|m| m.expressie.is_some()).map(|m| (i, m.gemaakt_op)))
        .max_by(|a, b| a.1.cmp(&b.1))
        .map(|x| vec![x])
        .unwrap_or_default()
}

fn verwijzing(instr: &Instrument, (b, g): (usize, Tijdstip)) -> Verwijzing {
    Verwijzing { doel: instr.branches[b].doel.clone(), gemaakt_op: g.to_string() }
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
            let mut basis: Vec<(usize, Tijdstip)> = Vec::new();
            let mut bestaande: Vec<usize> = Vec::new();
            for d in &e.doelen {
                if let Some(bi) = instr.branch_index(d)
                    && let Some(last) = instr.branches[bi].momentopnamen.last()
                {
                    basis.push((bi, last.gemaakt_op));
                    bestaande.push(bi);
                }
            }
            let nieuw = e.doelen.len() > bestaande.len();
            let was = e.expressie.as_ref().and_then(|x| was_van.get(x));
            let bron: Vec<(usize, Tijdstip)> = match (e.soort, was) {
                (InstrumentSoort::Beoogd, Some(was)) => momentopnamen_met(instr, was),
                (InstrumentSoort::Beoogd | InstrumentSoort::Intrekking, None) if nieuw => laatste_versie(instr),
                _ => Vec::new(),
            };
            let eigen = |b: usize| e.doelen.contains(&instr.branches[b].doel);
            let mut samen: Vec<(usize, Tijdstip)> = Vec::new();
            for b in bron {
                if eigen(b.0) {
                    continue;
                }
                if nieuw {
                    if !basis.iter().any(|x| x.0 == b.0) {
                        basis.push(b);
                    }
                } else {
                    samen.push(b);
                }
            }
            if let Some(v) = e.expressie.as_ref().and_then(|x| vervlechtingen.get(x)) {
                for x in v {
                    for b in momentopnamen_met(instr, x) {
                        if !eigen(b.0) && !basis.iter().any(|y| y.0 == b.0) {
                            samen.push(b);
                        }
                    }
                }
            }
            // Merge only what the continued branch does not contain yet.
            let cumulatief = bestaande
                .first()
                .and_then(|&d| instr.branches[d].momentopnamen.last())
                .and_then(|m| m.cumulatief.as_deref());
            let mut vervlochten: Vec<(usize, Tijdstip)> = Vec::new();
            for b in samen {
                let bevat = cumulatief
                    .and_then(|c| bijdrage(c, b.0 as u32))
                    .is_some_and(|x| x.ontvlochten == Some(false) && x.laatst_verwerkt >= b.1);
                if !bevat && !vervlochten.iter().any(|y| y.0 == b.0) {
                    vervlochten.push(b);
                }
            }
            let basis: Vec<Verwijzing> = basis.into_iter().map(|b| verwijzing(instr, b)).collect();
            let vervlochten: Vec<Verwijzing> = vervlochten.into_iter().map(|b| verwijzing(instr, b)).collect();
            e.basisversies = basis;
            e.vervlochten = vervlochten;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Engine;
    use crate::uitwisseling::{InstrumentElement, TijdstempelElement};

    const W: &str = "/akn/nl/act/gm9999/2027/REG";

    fn versie(doel: &str, expr: &str) -> InstrumentElement {
        InstrumentElement {
            soort: InstrumentSoort::Beoogd,
            work: W.into(),
            expressie: Some(expr.into()),
            doelen: vec![doel.into()],
            bekend_op: None,
            basisversies: vec![],
            vervlochten: vec![],
            ontvlochten: vec![],
            eid: None,
            regel: 0,
        }
    }

    fn jwv(doel: &str, datum: &str) -> TijdstempelElement {
        TijdstempelElement { doel: doel.into(), geldig_vanaf: false, datum: Some(datum.into()), bekend_op: None, regel: 0 }
    }

    fn u(g: &str, instr: Vec<InstrumentElement>, ts: Vec<TijdstempelElement>) -> Uitwisseling {
        Uitwisseling {
            gemaakt_op: g.into(),
            ontvangen_op: g[..10].into(),
            revisie: false,
            instrumenten: instr,
            tijdstempels: ts,
            materieel_uitgewerkt: vec![],
            bestand: String::new(),
        }
    }

    fn verwerk(e: &mut Engine, mut x: Uitwisseling, was: &[(&str, &str)]) {
        let was: BTreeMap<String, String> = was.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        e.versiebeheer.vul_afkomst_aan(&mut x, &was, &BTreeMap::new());
        e.verwerk(&x).unwrap_or_else(|m| panic!("{:?}", m.iter().map(|m| &m.beschrijving).collect::<Vec<_>>()));
    }

    fn v(n: u32) -> String {
        format!("{W}/nld@2027;{n}")
    }

    #[test]
    fn wijzigingsbesluiten_without_ancestry_are_not_samenloop() {
        let mut e = Engine::new();
        verwerk(&mut e, u("2027-01-01T10:00:00Z", vec![versie("A", &v(1))], vec![jwv("A", "2027-02-01")]), &[]);
        // A wijziging for doel B of version 1, in force before a second one (C) of version 2.
        verwerk(&mut e, u("2027-01-05T10:00:00Z", vec![versie("B", &v(2))], vec![jwv("B", "2027-03-01")]), &[(&v(2), &v(1))]);
        verwerk(&mut e, u("2027-01-06T10:00:00Z", vec![versie("C", &v(3))], vec![jwv("C", "2027-04-01")]), &[(&v(3), &v(2))]);
        let at = e.actuele_toestanden(W).unwrap();
        let st: Vec<_> = at.toestanden.iter().map(|t| (t.inhoud.status, t.inhoud.instrumentversie.clone())).collect();
        assert_eq!(
            st,
            vec![
                (crate::Status::Compleet, Some(v(1))),
                (crate::Status::Compleet, Some(v(2))),
                (crate::Status::Compleet, Some(v(3)))
            ]
        );
    }

    #[test]
    fn parallel_besluiten_are_samenloop_until_merged() {
        let mut e = Engine::new();
        verwerk(&mut e, u("2027-01-01T10:00:00Z", vec![versie("A", &v(1))], vec![jwv("A", "2027-02-01")]), &[]);
        // Two besluiten on the same day, both on version 1.
        verwerk(&mut e, u("2027-01-05T10:00:00Z", vec![versie("B", &v(2))], vec![jwv("B", "2027-03-01")]), &[(&v(2), &v(1))]);
        verwerk(&mut e, u("2027-01-05T10:00:01Z", vec![versie("C", &v(3))], vec![jwv("C", "2027-04-01")]), &[(&v(3), &v(1))]);
        let at = e.actuele_toestanden(W).unwrap();
        let laatste = at.toestanden.last().unwrap();
        assert_eq!(laatste.inhoud.status, crate::Status::Onvolledig);
        assert_eq!(laatste.inhoud.te_verwerken.iter().map(|t| t.doel.as_str()).collect::<Vec<_>>(), vec!["B"]);
        // A version for C made from B's version merges B in: the toestand is complete again.
        verwerk(&mut e, u("2027-01-10T10:00:00Z", vec![versie("C", &v(4))], vec![]), &[(&v(4), &v(2))]);
        let at = e.actuele_toestanden(W).unwrap();
        let laatste = at.toestanden.last().unwrap();
        assert_eq!(laatste.inhoud.status, crate::Status::Compleet);
        assert_eq!(laatste.inhoud.instrumentversie.as_deref(), Some(v(4).as_str()));
    }
}
