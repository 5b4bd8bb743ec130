//! The store's history as the validator sees it ([`validator::Historie`]): the committed
//! deliveries in the store plus the deliveries accepted earlier in the same group commit, which
//! later packages of the same run must see as if they were committed.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use stop::tekst::Tekst;
use store::{Hash, NewRecord, Store};
use validator::{EerdereLevering, ExpressieFeit, Historie, HistorieFout, WorkFeit};

pub struct StoreHistorie<'a> {
    pub store: Option<&'a Store>,
    /// Deliveries staged earlier in this group, in order.
    pub pending: &'a [NewRecord],
    /// The wIds of regeling expressions staged earlier in this group.
    pub pending_wids: &'a std::collections::HashMap<String, BTreeSet<String>>,
    /// Stored texts read during this package (a was-version is read and parsed once, for the
    /// wId rules and for applying the mutation).
    pub teksten: RefCell<HashMap<String, Tekst>>,
}

fn accepted(r: &NewRecord) -> bool {
    r.outcome != "niet-valide" && r.outcome != "valide"
}

impl<'a> StoreHistorie<'a> {
    pub fn new(
        store: Option<&'a Store>,
        pending: &'a [NewRecord],
        pending_wids: &'a HashMap<String, BTreeSet<String>>,
    ) -> StoreHistorie<'a> {
        StoreHistorie { store, pending, pending_wids, teksten: RefCell::default() }
    }

    /// The stored text of a regeling version (read from its tree once per package), or `None`
    /// when the store has no text for it.
    pub fn opgeslagen_tekst(&self, expressie: &str) -> Result<Option<Tekst>, crate::IngestError> {
        if let Some(t) = self.teksten.borrow().get(expressie) {
            return Ok(Some(t.clone()));
        }
        let Some(s) = self.store else { return Ok(None) };
        let Some(root) = s.index().expression(expressie)?.and_then(|e| e.entry.tekst) else { return Ok(None) };
        let invalid = |m: String| crate::IngestError::Store(store::StoreError::InvalidTree(m));
        let xml = String::from_utf8(s.read_tree(&root)?).map_err(|e| invalid(format!("text of {expressie} is not UTF-8: {e}")))?;
        let t = Tekst::parse(&xml).map_err(|e| invalid(format!("stored text of {expressie} does not parse: {e}")))?;
        self.teksten.borrow_mut().insert(expressie.to_string(), t.clone());
        Ok(Some(t))
    }

    fn read_wids(&self, h: Hash) -> Result<Option<BTreeSet<String>>, HistorieFout> {
        let Some(s) = self.store else { return Ok(None) };
        let bytes = s.get_blob(&h)?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(Some(text.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()))
    }
}

impl Historie for StoreHistorie<'_> {
    fn levering(&self, aanleveraar: &str, id_levering: &str) -> Result<Option<EerdereLevering>, HistorieFout> {
        if let Some(r) = self.pending.iter().find(|r| r.aanleveraar == aanleveraar && r.id_levering == id_levering) {
            return Ok(Some(EerdereLevering {
                seq: 0,
                ontvangen: r.received_at.clone(),
                package_hash: r.package_hash.to_hex(),
                uitkomst: r.outcome.clone(),
            }));
        }
        let Some(s) = self.store else { return Ok(None) };
        let Some(seq) = s.index().delivery_by_levering(aanleveraar, id_levering)? else { return Ok(None) };
        Ok(s.index().delivery(seq)?.map(|d| EerdereLevering {
            seq,
            ontvangen: d.received_at,
            package_hash: d.package_hash.to_hex(),
            uitkomst: d.outcome,
        }))
    }

    fn work(&self, work: &str) -> Result<Option<WorkFeit>, HistorieFout> {
        let mut feit = match self.store {
            Some(s) => s.index().work(work)?.map(|w| WorkFeit {
                work: w.entry.work,
                kind: w.entry.kind,
                soort_work: w.entry.soort_work,
                eigenaar: w.entry.owner_oin,
                expressions: w.expressions,
                afgebroken: w.afgebroken,
            }),
            None => None,
        };
        for r in self.pending.iter().filter(|r| accepted(r)) {
            if let Some(w) = r.effects.works.iter().find(|w| w.work == work)
                && feit.is_none()
            {
                feit = Some(WorkFeit {
                    work: w.work.clone(),
                    kind: w.kind.clone(),
                    soort_work: w.soort_work.clone(),
                    eigenaar: w.owner_oin.clone(),
                    expressions: Vec::new(),
                    afgebroken: false,
                });
            }
            if let Some(f) = feit.as_mut() {
                for e in r.effects.expressions.iter().filter(|e| e.work == work) {
                    if !f.expressions.contains(&e.expression) {
                        f.expressions.push(e.expression.clone());
                    }
                }
            }
        }
        Ok(feit)
    }

    fn expressie(&self, expression: &str) -> Result<Option<ExpressieFeit>, HistorieFout> {
        if let Some(s) = self.store
            && let Some(e) = s.index().expression(expression)?
        {
            return Ok(Some(ExpressieFeit {
                expression: e.entry.expression,
                work: e.entry.work,
                kind: e.entry.kind,
                ontwerp: e.entry.ontwerp,
                datum_bekendmaking: e.entry.datum_bekendmaking.as_deref().and_then(stop::opdracht::parse_date),
                afgebroken: e.afgebroken,
            }));
        }
        for r in self.pending.iter().filter(|r| accepted(r)) {
            if let Some(e) = r.effects.expressions.iter().find(|e| e.expression == expression) {
                return Ok(Some(ExpressieFeit {
                    expression: e.expression.clone(),
                    work: e.work.clone(),
                    kind: e.kind.clone(),
                    ontwerp: e.ontwerp,
                    datum_bekendmaking: e.datum_bekendmaking.as_deref().and_then(stop::opdracht::parse_date),
                    afgebroken: false,
                }));
            }
        }
        Ok(None)
    }

    fn wids(&self, expression: &str) -> Result<Option<BTreeSet<String>>, HistorieFout> {
        if let Some(s) = self.store
            && let Some(e) = s.index().expression(expression)?
            && let Some(h) = e.entry.wids
        {
            return self.read_wids(h);
        }
        if let Some(w) = self.pending_wids.get(expression) {
            return Ok(Some(w.clone()));
        }
        // Versions with a stored text: the wIds of that text.
        let t = self.opgeslagen_tekst(expression).map_err(|e| Box::new(e) as HistorieFout)?;
        Ok(t.map(|t| t.wids().map(str::to_string).collect()))
    }

    fn beschikbaar(&self) -> bool {
        self.store.is_some() || !self.pending.is_empty()
    }

    fn doel_bekend(&self, doel: &str) -> Result<bool, HistorieFout> {
        if self.pending.iter().filter(|r| accepted(r)).any(|r| r.effects.doelen.iter().any(|d| d == doel)) {
            return Ok(true);
        }
        match self.store {
            Some(s) => Ok(s.index().doel(doel)?.is_some()),
            None => Ok(false),
        }
    }
}
