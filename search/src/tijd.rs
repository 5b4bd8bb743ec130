//! The time-travel table of one work as the index keeps it ([`Tijdvakken`]): a compact copy of
//! the engine's per-instrument index (`timetravel::Tijdreis`), with each toestand reduced to
//! the version whose text applies (or none). [`Tijdvakken::versie_op`] answers a question
//! exactly as `timetravel::Tijdreis::zoek` does; the consistency tests check that against
//! `ingest::tijdreis::Lezer::los_op` on real ingested data.

use serde::{Deserialize, Serialize};

pub use timetravel::{dag, datum};

/// One anchor of a moment: the toestand that starts at (jwv, gv), as the index of the version
/// whose text applies in [`Tijdvakken::versies`], or `None` when no single text applies
/// (onvolledig, onbekend, niet in werking).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anker {
    /// juridischWerkendVanaf as a day number ([`dag`]).
    pub jwv: i32,
    /// geldigVanaf as a day number.
    pub gv: i32,
    pub versie: Option<u32>,
}

/// The toestanden of a work as known from (ontvangenOp, bekendOp), in the engine's search
/// order (the first anchor that fits a question answers it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    /// Day number of ontvangenOp.
    pub ontvangen_op: i32,
    /// Day number of bekendOp.
    pub bekend_op: i32,
    pub ankers: Vec<Anker>,
}

/// The time-travel table of one work: every moment in the order the engine determined them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tijdvakken {
    /// Expression ids the anchors refer to.
    pub versies: Vec<String>,
    pub momenten: Vec<Moment>,
}

/// A question on the three axes, as day numbers ([`dag`]); beschikbaarOp stands for both
/// ontvangenOp and bekendOp, as in the DSO API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tijdstip {
    pub in_werking_op: i32,
    pub geldig_op: i32,
    pub beschikbaar_op: i32,
}

/// A period on the diagonal (inWerkingOp = geldigOp) in which one version applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersiePeriode {
    pub versie: u32,
    pub vanaf: i32,
    /// Exclusive; `None`: open.
    pub tot: Option<i32>,
}

impl Tijdvakken {
    /// The anchor that answers the question: `None` when no toestand applies (before the
    /// first one, or nothing known yet); `Some(None)` for a toestand without a single version.
    /// The same walk as the engine: the latest-determined moment known at
    /// (ontvangenOp, bekendOp) that has an anchor with jwv ≤ inWerkingOp and gv ≤ geldigOp.
    pub fn versie_op(&self, t: Tijdstip) -> Option<Option<u32>> {
        for m in self.momenten.iter().rev() {
            if m.ontvangen_op > t.beschikbaar_op || m.bekend_op > t.beschikbaar_op {
                continue;
            }
            if let Some(a) = m.ankers.iter().find(|a| a.jwv <= t.in_werking_op && a.gv <= t.geldig_op) {
                return Some(a.versie);
            }
        }
        None
    }

    /// The periods on the diagonal (inWerkingOp = geldigOp = the date) in which each version
    /// applied, as known on `beschikbaar_op`: the timeline the engine gives
    /// (`timetravel::Engine::tijdlijn`), reduced to versions.
    pub fn perioden(&self, beschikbaar_op: i32) -> Vec<VersiePeriode> {
        let Some(m) =
            self.momenten.iter().rev().find(|m| m.ontvangen_op <= beschikbaar_op && m.bekend_op <= beschikbaar_op)
        else {
            return Vec::new();
        };
        let mut punten: Vec<i32> = m.ankers.iter().flat_map(|a| [a.jwv, a.gv]).collect();
        punten.sort_unstable();
        punten.dedup();
        let mut uit: Vec<VersiePeriode> = Vec::new();
        let mut huidig: Option<Option<u32>> = None;
        for d in punten {
            let v = self.versie_op(Tijdstip { in_werking_op: d, geldig_op: d, beschikbaar_op });
            if v == huidig {
                continue;
            }
            if let Some(p) = uit.last_mut()
                && p.tot.is_none()
            {
                p.tot = Some(d);
            }
            if let Some(Some(x)) = v {
                uit.push(VersiePeriode { versie: x, vanaf: d, tot: None });
            }
            huidig = v;
        }
        uit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(jwv: &str, gv: &str, versie: Option<u32>) -> Anker {
        Anker { jwv: dag(jwv), gv: dag(gv), versie }
    }

    #[test]
    fn later_moments_win_and_unknown_dates_fall_through() {
        let t = Tijdvakken {
            versies: vec!["v1".into(), "v2".into()],
            momenten: vec![
                Moment { ontvangen_op: dag("2027-01-01"), bekend_op: dag("2027-01-01"), ankers: vec![a("2027-02-01", "2027-02-01", Some(0))] },
                Moment {
                    ontvangen_op: dag("2027-03-01"),
                    bekend_op: dag("2027-03-01"),
                    ankers: vec![a("2027-04-01", "2027-04-01", Some(1)), a("2027-02-01", "2027-02-01", Some(0))],
                },
            ],
        };
        let q = |d: &str, b: &str| t.versie_op(Tijdstip { in_werking_op: dag(d), geldig_op: dag(d), beschikbaar_op: dag(b) });
        assert_eq!(q("2027-01-15", "2027-06-01"), None);
        assert_eq!(q("2027-02-15", "2027-06-01"), Some(Some(0)));
        assert_eq!(q("2027-05-15", "2027-06-01"), Some(Some(1)));
        assert_eq!(q("2027-05-15", "2027-02-01"), Some(Some(0)));
        assert_eq!(q("2027-05-15", "2026-12-01"), None);
        let p = t.perioden(dag("2027-06-01"));
        assert_eq!(
            p,
            vec![
                VersiePeriode { versie: 0, vanaf: dag("2027-02-01"), tot: Some(dag("2027-04-01")) },
                VersiePeriode { versie: 1, vanaf: dag("2027-04-01"), tot: None },
            ]
        );
    }
}
