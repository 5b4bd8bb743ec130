//! The time scope as a query clause: [`Toegestaan`] matches the unit documents whose content
//! number is in a set (the contents of the versions that apply, or of every version), so tantivy
//! intersects the user's query with it instead of a collector throwing hits away afterwards.
//!
//! It takes the place of the clause `soort_doc:a` (unit documents only) and scores exactly as
//! that term clause did: the same constant for every unit document and the same cost, so the
//! intersections are ordered and summed as before and every score is bit-for-bit unchanged.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, TERMINATED};

/// No content number: a version or work document.
pub const GEEN: u32 = u32::MAX;

/// A set of content numbers.
#[derive(Clone, Debug, Default)]
pub struct BitSet(Vec<u64>);

impl BitSet {
    /// An empty set for the numbers below `n` (larger ones can still be added).
    pub fn met_capaciteit(n: u32) -> BitSet {
        BitSet(vec![0; n as usize / 64 + 1])
    }
    pub fn zet(&mut self, n: u32) {
        let i = (n / 64) as usize;
        if i >= self.0.len() {
            self.0.resize(i + 1, 0);
        }
        self.0[i] |= 1 << (n % 64);
    }
    /// Add the numbers `van..tot`.
    pub fn zet_reeks(&mut self, van: u32, tot: u32) {
        if van >= tot {
            return;
        }
        let (a, b) = ((van / 64) as usize, ((tot - 1) / 64) as usize);
        if b >= self.0.len() {
            self.0.resize(b + 1, 0);
        }
        let kop = !0u64 << (van % 64);
        let staart = !0u64 >> (63 - (tot - 1) % 64);
        if a == b {
            self.0[a] |= kop & staart;
        } else {
            self.0[a] |= kop;
            self.0[a + 1..b].fill(!0);
            self.0[b] |= staart;
        }
    }
    #[inline]
    pub fn bevat(&self, n: u32) -> bool {
        self.0.get((n / 64) as usize).is_some_and(|w| w & (1 << (n % 64)) != 0)
    }
}

/// Per segment of a searcher: every document's content number and work (index into the
/// state's works); [`GEEN`] for documents that are not units.
pub struct SegmentKaart {
    pub nr: Vec<u32>,
    pub werk: Vec<u32>,
    /// Documents with `soort_doc:a` (deleted ones included): the cost the term clause reported.
    pub eenheden: u32,
}

pub type Kaarten = Arc<HashMap<SegmentId, Arc<SegmentKaart>>>;

fn kaart(kaarten: &Kaarten, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentKaart>> {
    kaarten.get(&reader.segment_id()).cloned().ok_or_else(|| {
        tantivy::TantivyError::InternalError(format!("segment {} not in the search state", reader.segment_id().uuid_string()))
    })
}

/// The content set and where to find each document's content number.
#[derive(Clone)]
pub struct Filter {
    pub kaarten: Kaarten,
    pub nrs: Arc<BitSet>,
}

impl Filter {
    #[inline]
    fn past(&self, k: &SegmentKaart, doc: DocId) -> bool {
        let n = k.nr[doc as usize];
        n != GEEN && self.nrs.bevat(n)
    }
}

/// The unit documents whose content is in the filter; scores `score` (what `soort_doc:a`
/// scored on this searcher, see the module docs).
#[derive(Clone)]
pub struct Toegestaan {
    pub filter: Filter,
    pub score: Score,
}

impl fmt::Debug for Toegestaan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Toegestaan")
    }
}

impl Query for Toegestaan {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for Toegestaan {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let k = kaart(&self.filter.kaarten, reader)?;
        let mut s =
            ToegestaanScorer { filter: self.filter.clone(), max_doc: k.nr.len() as DocId, k, doc: 0, score: self.score * boost };
        s.doc = s.vanaf(0);
        Ok(Box::new(s))
    }

    /// Positioned on `target` if it is in the set, without looking for the first document
    /// in the set (with a sparse set that is a scan over most of the segment).
    fn scorer_danger(&self, reader: &SegmentReader, target: DocId, boost: Score) -> tantivy::Result<(SeekDangerResult, Box<dyn Scorer>)> {
        let k = kaart(&self.filter.kaarten, reader)?;
        let mut s = ToegestaanScorer { filter: self.filter.clone(), max_doc: k.nr.len() as DocId, k, doc: target, score: self.score * boost };
        let r = s.seek_danger(target);
        Ok((r, Box::new(s)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let k = kaart(&self.filter.kaarten, reader)?;
        if (doc as usize) < k.nr.len() && self.filter.past(&k, doc) {
            Ok(Explanation::new("unit in the time scope", self.score))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} is not in the time scope")))
        }
    }
}

struct ToegestaanScorer {
    filter: Filter,
    k: Arc<SegmentKaart>,
    max_doc: DocId,
    doc: DocId,
    score: Score,
}

impl ToegestaanScorer {
    /// The first document ≥ `d` in the set.
    #[inline]
    fn vanaf(&self, mut d: DocId) -> DocId {
        while d < self.max_doc {
            if self.filter.past(&self.k, d) {
                return d;
            }
            d += 1;
        }
        TERMINATED
    }
}

impl DocSet for ToegestaanScorer {
    fn advance(&mut self) -> DocId {
        self.doc = if self.doc == TERMINATED { TERMINATED } else { self.vanaf(self.doc + 1) };
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        // Also right after a seek_danger miss, when `doc` need not be in the set.
        self.doc = self.vanaf(target.max(self.doc));
        self.doc
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        if target >= TERMINATED {
            self.doc = TERMINATED;
            return SeekDangerResult::SeekLowerBound(TERMINATED);
        }
        if target < self.max_doc && self.filter.past(&self.k, target) {
            self.doc = target;
            SeekDangerResult::Found
        } else {
            // No scan for the next document in the set: the clause that leads knows better
            // where to go next (and a sparse set would make the scan long).
            self.doc = target + 1;
            SeekDangerResult::SeekLowerBound(target + 1)
        }
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    /// As the replaced term clause: the number of unit documents.
    fn size_hint(&self) -> u32 {
        self.k.eenheden
    }
}

impl Scorer for ToegestaanScorer {
    fn score(&mut self) -> Score {
        self.score
    }
}

#[cfg(test)]
mod tests {
    use super::BitSet;

    #[test]
    fn runs_set_exactly_their_numbers() {
        for (van, tot) in [(0, 1), (0, 64), (3, 64), (63, 65), (5, 200), (64, 128), (70, 71), (10, 10)] {
            let mut a = BitSet::default();
            a.zet_reeks(van, tot);
            let mut b = BitSet::default();
            for n in van..tot {
                b.zet(n);
            }
            for n in 0..300 {
                assert_eq!(a.bevat(n), b.bevat(n), "{van}..{tot}: {n}");
            }
        }
    }
}
