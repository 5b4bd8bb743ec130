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

use super::toestanden::CompleteToestand;

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
    let (mut y, m, d) = (num(0..4), num(5..7), num(8..10));
    let m = if m > 2 { m - 3 } else { y -= 1; m + 9 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe
}

/// The inverse of [`dag`].
pub fn datum(dag: i32) -> String {
    let era = dag.div_euclid(146_097);
    let doe = dag - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}")
}

fn hash(t: &CompleteToestand) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    t.hash(&mut h);
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
    pub gemaakt_op: String,
    pub ontvangen_op: String,
    pub bekend_op: String,
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
        self.o = dag(&self.ontvangen_op);
        self.b = dag(&self.bekend_op);
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tijdreis {
    /// Every distinct toestand ever determined.
    pub toestanden: Vec<CompleteToestand>,
    /// In order of determination.
    pub momenten: Vec<Moment>,
    /// Hash of a toestand -> its numbers (derived; the toestanden themselves are not copied).
    #[serde(skip)]
    nummers: FxHashMap<u64, Vec<u32>>,
    #[serde(skip)]
    min_jwv: Option<i32>,
    #[serde(skip)]
    min_gv: Option<i32>,
}

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
    /// Rebuild the derived lookup fields after deserialising.
    pub fn herstel(&mut self) {
        self.nummers = FxHashMap::default();
        for (i, t) in self.toestanden.iter().enumerate() {
            self.nummers.entry(hash(t)).or_default().push(i as u32);
        }
        for m in &mut self.momenten {
            m.herstel();
        }
        self.min_jwv = self.momenten.iter().flat_map(|m| m.ankers.iter().map(|a| a.jwv)).min();
        self.min_gv = self.momenten.iter().flat_map(|m| m.ankers.iter().map(|a| a.gv)).min();
    }

    fn nummer(&mut self, t: CompleteToestand) -> u32 {
        let h = hash(&t);
        let lijst = self.nummers.entry(h).or_default();
        if let Some(&n) = lijst.iter().find(|&&n| self.toestanden[n as usize] == t) {
            return n;
        }
        let n = self.toestanden.len() as u32;
        lijst.push(n);
        self.toestanden.push(t);
        n
    }

    /// Add the toestanden determined at (ontvangenOp, bekendOp) after an exchange. When they
    /// no longer cover dates that earlier moments covered (a delayed or annulled
    /// inwerkingtreding), a "not in force" anchor at the earliest earlier dates is added so
    /// those dates do not fall through to outdated knowledge.
    pub fn voeg_toe(&mut self, gemaakt_op: &str, ontvangen_op: &str, bekend_op: &str, toestanden: Vec<CompleteToestand>) {
        let eerste = toestanden.first().map(|t| (dag(&t.juridisch_werkend_vanaf), dag(&t.geldig_vanaf)));
        let mut ankers: Vec<Anker> = Vec::with_capacity(toestanden.len() + 1);
        for t in toestanden.into_iter().rev() {
            let (jwv, gv) = (dag(&t.juridisch_werkend_vanaf), dag(&t.geldig_vanaf));
            let n = self.nummer(t);
            ankers.push(Anker { jwv, gv, toestand: n });
        }
        if let (Some(mj), Some(mg)) = (self.min_jwv, self.min_gv)
            && eerste.is_none_or(|(j, g)| j > mj || g > mg)
        {
            let t = CompleteToestand {
                juridisch_werkend_vanaf: datum(mj),
                geldig_vanaf: datum(mg),
                inwerkingtredingsdoelen: Vec::new(),
                inhoud: super::toestanden::Inhoud::niet_in_werking(),
            };
            let n = self.nummer(t);
            ankers.push(Anker { jwv: mj, gv: mg, toestand: n });
        }
        for a in &ankers {
            self.min_jwv = Some(self.min_jwv.map_or(a.jwv, |m| m.min(a.jwv)));
            self.min_gv = Some(self.min_gv.map_or(a.gv, |m| m.min(a.gv)));
        }
        let mut m = Moment {
            gemaakt_op: gemaakt_op.to_string(),
            ontvangen_op: ontvangen_op.to_string(),
            bekend_op: bekend_op.to_string(),
            o: 0,
            b: 0,
            ankers,
            gesorteerd: false,
        };
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
