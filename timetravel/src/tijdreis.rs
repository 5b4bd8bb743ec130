//! The time-travel index of one instrument: after every exchange, the complete toestanden per
//! bekendOp (a *moment* (ontvangenOp, bekendOp)). A query (juridischWerkendOp, geldigOp,
//! ontvangenOp, bekendOp) is answered by the most recent moment known at (ontvangenOp,
//! bekendOp) that has a toestand with juridischWerkendVanaf ≤ juridischWerkendOp and
//! geldigVanaf ≤ geldigOp, taking the first such toestand in the moment's order (latest
//! juridischWerkendVanaf, then latest geldigVanaf).
//!
//! Distinct toestanden are stored once and moments refer to them by number, so a moment that
//! repeats most of the previous one costs a few bytes per toestand.

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use crate::tijd::{Datum, Tijdstip};
use std::sync::Arc;

use crate::toestanden::{Bepaling, CompleteToestand, InhoudC, NIET_IN_WERKING_REGEL, Regel, ToestandC};
use crate::versiebeheer::Instrument;

/// Days since 0000-03-01 of a `YYYY-MM-DD` date (proleptic Gregorian); any total order-preserving
/// number would do.
pub fn dag(datum: &str) -> i32 {
    let b = datum.as_bytes();
    if b.len() < 10 {
        return i32::MIN;
    }
    // A field that is not all digits counts as 0 (as a failed parse did).
    let num = |r: std::ops::Range<usize>| -> i32 {
        b[r].iter().try_fold(0i32, |n, &c| c.is_ascii_digit().then(|| n * 10 + i32::from(c - b'0'))).unwrap_or(0)
    };
    dag_van(num(0..4), num(5..7), num(8..10))
}

/// The day number of (year, month, day).
pub(crate) fn dag_van(mut y: i32, m: i32, d: i32) -> i32 {
    let m = if m > 2 { m - 3 } else { y -= 1; m + 9 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe
}

/// (year, month, day) of a day number.
pub(crate) fn ymd_van(dag: i32) -> (i32, i32, i32) {
    let era = dag.div_euclid(146_097);
    let doe = dag - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// The inverse of [`dag`].
pub fn datum(dag: i32) -> String {
    let (y, m, d) = ymd_van(dag);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The engine's key of a distinct toestand.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Sleutel {
    jwv: Datum,
    gv: Datum,
    iwt: crate::toestanden::Iwt,
    inhoud: Arc<InhoudC>,
    inhoud_hash: u64,
}

fn sleutel_hash(jwv: Datum, gv: Datum, iwt: &[u32], inhoud_hash: u64) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    (jwv, gv, iwt, inhoud_hash).hash(&mut h);
    h.finish()
}

/// One anchor of a moment: a toestand and its two start dates as day numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anker {
    pub jwv: i32,
    pub gv: i32,
    /// Index into [`Tijdreis::toestanden`].
    pub toestand: u32,
}

/// The complete toestanden of an instrument as known at (ontvangenOp, bekendOp).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    pub gemaakt_op: Tijdstip,
    pub ontvangen_op: Datum,
    pub bekend_op: Datum,
    #[serde(skip)]
    o: i32,
    #[serde(skip)]
    b: i32,
    /// In search order: the first anchor that fits a query is the answer.
    pub ankers: Vec<Anker>,
    /// The anchors are sorted by descending (jwv, gv), so a binary search finds the answer.
    #[serde(skip)]
    gesorteerd: bool,
}

impl Moment {
    fn herstel(&mut self) {
        self.o = self.ontvangen_op.dag();
        self.b = self.bekend_op.dag();
        self.gesorteerd = self.ankers.windows(2).all(|w| (w[0].jwv, w[0].gv) >= (w[1].jwv, w[1].gv));
    }

    /// The anchor that answers (jwv, gv) in this moment.
    pub fn zoek(&self, jwv: i32, gv: i32) -> Option<&Anker> {
        if self.gesorteerd {
            // Skip the anchors with a later jwv, then the first with gv ≤ the query.
            let start = self.ankers.partition_point(|a| a.jwv > jwv);
            self.ankers[start..].iter().find(|a| a.gv <= gv)
        } else {
            self.ankers.iter().find(|a| a.jwv <= jwv && a.gv <= gv)
        }
    }
}

/// The time-travel index of one instrument.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Tijdreis {
    /// Every distinct toestand ever determined.
    pub toestanden: Vec<CompleteToestand>,
    /// In order of determination.
    pub momenten: Vec<Moment>,
    /// Per toestand, its key in the engine's terms (derived; `None`: not reconstructible).
    #[serde(skip)]
    sleutels: Vec<Option<Sleutel>>,
    /// Hash of a key -> the last toestand with it (derived) ...
    #[serde(skip)]
    nummers: FxHashMap<u64, u32>,
    /// ... and per toestand the one before it with the same hash (`u32::MAX`: none).
    #[serde(skip)]
    eerder: Vec<u32>,
    #[serde(skip)]
    min_jwv: Option<i32>,
    #[serde(skip)]
    min_gv: Option<i32>,
}

impl PartialEq for Tijdreis {
    fn eq(&self, other: &Tijdreis) -> bool {
        self.toestanden == other.toestanden && self.momenten == other.momenten
    }
}

impl Eq for Tijdreis {}

/// The answer to a time-travel query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Treffer<'a> {
    pub toestand: &'a CompleteToestand,
    pub moment: &'a Moment,
    /// Start of the next toestand on the juridischWerkend axis (at this geldigOp), if any.
    pub juridisch_werkend_tot: Option<String>,
    /// Start of the next toestand on the geldig axis (at this juridischWerkendOp), if any.
    pub geldig_tot: Option<String>,
}

impl Tijdreis {
    /// Rebuild the derived lookup fields after deserialising, for the instrument's
    /// versiebeheer (restored with [`Instrument::herstel`] first).
    pub fn herstel(&mut self, instr: &Instrument) {
        self.nummers = FxHashMap::default();
        self.eerder = vec![u32::MAX; self.toestanden.len()];
        self.sleutels = self
            .toestanden
            .iter()
            .map(|t| {
                let iwt: Option<crate::toestanden::Iwt> =
                    t.inwerkingtredingsdoelen.iter().map(|d| instr.branch_index(d).map(|i| i as u32)).collect();
                let regel = Regel::new(InhoudC::van(&t.inhoud, instr)?);
                Some(Sleutel {
                    jwv: Datum::parse(&t.juridisch_werkend_vanaf)?,
                    gv: Datum::parse(&t.geldig_vanaf)?,
                    iwt: iwt?,
                    inhoud: regel.inhoud,
                    inhoud_hash: regel.hash,
                })
            })
            .collect();
        for (i, s) in self.sleutels.iter().enumerate() {
            if let Some(s) = s {
                let h = sleutel_hash(s.jwv, s.gv, &s.iwt, s.inhoud_hash);
                if let Some(vorige) = self.nummers.insert(h, i as u32) {
                    self.eerder[i] = vorige;
                }
            }
        }
        for m in &mut self.momenten {
            m.herstel();
        }
        self.min_jwv = self.momenten.iter().flat_map(|m| m.ankers.iter().map(|a| a.jwv)).min();
        self.min_gv = self.momenten.iter().flat_map(|m| m.ankers.iter().map(|a| a.gv)).min();
    }

    /// The number of a toestand; `maak` gives it in the output's terms when it is new.
    fn nummer(&mut self, jwv: Datum, gv: Datum, iwt: &[u32], inhoud: &Regel, maak: impl FnOnce() -> CompleteToestand) -> u32 {
        let h = sleutel_hash(jwv, gv, iwt, inhoud.hash);
        let eerste = self.nummers.get(&h).copied();
        let mut volgende = eerste.unwrap_or(u32::MAX);
        while volgende != u32::MAX {
            let n = volgende;
            volgende = self.eerder.get(n as usize).copied().unwrap_or(u32::MAX);
            let Some(s) = self.sleutels.get_mut(n as usize).and_then(Option::as_mut) else { continue };
            if s.jwv != jwv || s.gv != gv || s.iwt.as_slice() != iwt || s.inhoud_hash != inhoud.hash {
                continue;
            }
            if Arc::ptr_eq(&s.inhoud, &inhoud.inhoud) {
                return n;
            }
            if s.inhoud == inhoud.inhoud {
                // The same content determined anew: share it, so the next time it is the
                // same pointer.
                s.inhoud = inhoud.inhoud.clone();
                return n;
            }
        }
        let n = self.toestanden.len() as u32;
        self.nummers.insert(h, n);
        self.eerder.resize(n as usize, u32::MAX);
        self.eerder.push(eerste.unwrap_or(u32::MAX));
        self.toestanden.push(maak());
        self.sleutels.push(Some(Sleutel { jwv, gv, iwt: iwt.into(), inhoud: inhoud.inhoud.clone(), inhoud_hash: inhoud.hash }));
        n
    }

    /// Add the toestanden determined at (ontvangenOp, bekendOp) after an exchange. When they
    /// no longer cover dates that earlier moments covered (a delayed or annulled
    /// inwerkingtreding), a "not in force" anchor at the earliest earlier dates is added so
    /// those dates do not fall through to outdated knowledge.
    pub(crate) fn voeg_toe(
        &mut self,
        gemaakt_op: Tijdstip,
        ontvangen_op: Datum,
        bekend_op: Datum,
        toestanden: &[ToestandC],
        bepaling: &Bepaling<'_>,
    ) {
        let instr = bepaling.instr;
        let eerste = toestanden.first().map(|t| (t.jwv.dag(), t.gv.dag()));
        let mut ankers: Vec<Anker> = Vec::with_capacity(toestanden.len() + 1);
        for t in toestanden.iter().rev() {
            let inhoud = bepaling.inhoud_nr(t.inhoud);
            let n = self.nummer(t.jwv, t.gv, &t.iwt, inhoud, || CompleteToestand {
                juridisch_werkend_vanaf: t.jwv.tekst(),
                geldig_vanaf: t.gv.tekst(),
                inwerkingtredingsdoelen: t.iwt.iter().map(|&d| instr.doel(d).to_string()).collect(),
                inhoud: inhoud.inhoud.inhoud(instr),
            });
            ankers.push(Anker { jwv: t.jwv.dag(), gv: t.gv.dag(), toestand: n });
        }
        if let (Some(mj), Some(mg)) = (self.min_jwv, self.min_gv)
            && eerste.is_none_or(|(j, g)| j > mj || g > mg)
        {
            let n = self.nummer(Datum::van_dag(mj), Datum::van_dag(mg), &[], &NIET_IN_WERKING_REGEL, || CompleteToestand {
                juridisch_werkend_vanaf: datum(mj),
                geldig_vanaf: datum(mg),
                inwerkingtredingsdoelen: Vec::new(),
                inhoud: crate::toestanden::Inhoud::niet_in_werking(),
            });
            ankers.push(Anker { jwv: mj, gv: mg, toestand: n });
        }
        for a in &ankers {
            self.min_jwv = Some(self.min_jwv.map_or(a.jwv, |m| m.min(a.jwv)));
            self.min_gv = Some(self.min_gv.map_or(a.gv, |m| m.min(a.gv)));
        }
        let mut m = Moment { gemaakt_op, ontvangen_op, bekend_op, o: 0, b: 0, ankers, gesorteerd: false };
        m.herstel();
        self.momenten.push(m);
    }

    /// The toestand at (jwv, gv) as known at (ontvangenOp, bekendOp); all four as day numbers.
    pub fn zoek(&self, jwv: i32, gv: i32, ontvangen_op: i32, bekend_op: i32) -> Option<Treffer<'_>> {
        for m in self.momenten.iter().rev() {
            if m.o > ontvangen_op || m.b > bekend_op {
                continue;
            }
            if let Some(a) = m.zoek(jwv, gv) {
                let jwt = m.ankers.iter().filter(|x| x.jwv > jwv && x.gv <= gv).map(|x| x.jwv).min();
                let gt = m.ankers.iter().filter(|x| x.gv > gv && x.jwv <= jwv).map(|x| x.gv).min();
                return Some(Treffer {
                    toestand: &self.toestanden[a.toestand as usize],
                    moment: m,
                    juridisch_werkend_tot: jwt.map(datum),
                    geldig_tot: gt.map(datum),
                });
            }
        }
        None
    }

    /// The latest moment known at (ontvangenOp, bekendOp).
    pub fn moment(&self, ontvangen_op: i32, bekend_op: i32) -> Option<&Moment> {
        self.momenten.iter().rev().find(|m| m.o <= ontvangen_op && m.b <= bekend_op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip_and_order() {
        for d in ["1999-12-31", "2000-02-29", "2000-03-01", "2022-01-01", "2024-12-31", "2100-03-01"] {
            assert_eq!(datum(dag(d)), d);
        }
        assert_eq!(dag("2022-03-01") - dag("2022-02-28"), 1);
        assert_eq!(dag("2024-03-01") - dag("2024-02-28"), 2);
        assert!(dag("2022-01-02") > dag("2022-01-01"));
    }
}
