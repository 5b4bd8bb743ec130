//! Versiebeheer: per instrument the branches (one per doel) with their momentopnamen, per doel
//! the tijdstempels, and the processing of one exchange into that state.
//!
//! The semantics follow the STOP versiebeheer model as the reference simulator implements it
//! (STOPwerk/Versiebeheer-simulator): every exchange adds a momentopname to the branch of each
//! doel it names; references (basisversie, vervlochten, ontvlochten) say which other
//! momentopnamen a version contains, and from them the *cumulative contribution* of every
//! branch to every momentopname is derived. An exchange with any `fout` is rejected whole: the
//! state is unchanged.
//!
//! Inside an instrument a doel is its branch's index and a version its index in
//! [`Instrument::expressies`]; dates and moments are [`Datum`]s and [`Tijdstip`]s. Strings
//! appear only at the edges: the exchange that comes in, meldingen, and the toestanden that go
//! out.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use serde::{Deserialize, Serialize};
use stop::Melding;

use crate::meldingen::{self, fout, waarschuwing};
use crate::tijd::{Datum, Tijdstip};
use crate::uitwisseling::{InstrumentElement, InstrumentSoort, TijdstempelElement, Uitwisseling, Verwijzing};

/// How far a branch contributes to a momentopname.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Bijdrage {
    /// gemaaktOp of the last momentopname of that branch contained in this one.
    pub laatst_verwerkt: Tijdstip,
    /// `Some(true)` = taken out again (ontvlochten); `None` = ambiguous (an error when stored).
    pub ontvlochten: Option<bool>,
}

/// The cumulative contributions to a momentopname: (branch index, contribution), sorted by
/// branch index.
pub type Cumulatief = Vec<(u32, Bijdrage)>;

/// The contribution of branch `doel` in `c`.
pub fn bijdrage(c: &[(u32, Bijdrage)], doel: u32) -> Option<&Bijdrage> {
    c.binary_search_by_key(&doel, |x| x.0).ok().map(|i| &c[i].1)
}

/// Merge the cumulative contributions of a basisversie into `acc`: a branch reached through
/// two basisversies counts with its latest contribution; if one path took it out and the other
/// did not, its status becomes ambiguous (`ontvlochten: None`).
pub(crate) fn voeg_basis_toe(acc: &mut Cumulatief, basis: &[(u32, Bijdrage)]) {
    if acc.is_empty() {
        acc.extend_from_slice(basis);
        return;
    }
    let mut uit = Vec::with_capacity(acc.len() + basis.len());
    let (mut i, mut j) = (0, 0);
    while i < acc.len() || j < basis.len() {
        match (acc.get(i), basis.get(j)) {
            (Some(a), Some(b)) if a.0 == b.0 => {
                let (h, b2) = (a.1, b.1);
                let nieuw = if b2.ontvlochten.is_none() || h.ontvlochten != b2.ontvlochten {
                    Bijdrage { laatst_verwerkt: h.laatst_verwerkt.max(b2.laatst_verwerkt), ontvlochten: None }
                } else if h.laatst_verwerkt < b2.laatst_verwerkt {
                    b2
                } else {
                    h
                };
                uit.push((a.0, nieuw));
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a.0 < b.0 => {
                uit.push(*a);
                i += 1;
            }
            (Some(a), None) => {
                uit.push(*a);
                i += 1;
            }
            (_, Some(b)) => {
                uit.push(*b);
                j += 1;
            }
            (None, None) => break,
        }
    }
    *acc = uit;
}

/// Set the contribution of `doel` in `acc`.
fn zet(acc: &mut Cumulatief, doel: u32, b: Bijdrage) {
    match acc.binary_search_by_key(&doel, |x| x.0) {
        Ok(i) => acc[i].1 = b,
        Err(i) => acc.insert(i, (doel, b)),
    }
}

/// A reference from one momentopname to another of the same instrument: (branch index,
/// momentopname index).
pub type Ref = (usize, usize);

/// One exchange's statement about the instrument on one branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Momentopname {
    pub gemaakt_op: Tijdstip,
    pub bekend_op: Datum,
    /// All doelen of the element (a version can be for several doelen at once), as branch
    /// indices, in the order of the element.
    pub doelen: Vec<u32>,
    /// The instrument version (index into [`Instrument::expressies`]); `None` = unknown, or
    /// no version (repealed / withdrawn).
    pub expressie: Option<u32>,
    pub ingetrokken: bool,
    pub teruggetrokken: bool,
    /// The references, each list in the order of its doelen (as strings).
    pub basisversies: Vec<Ref>,
    pub vervlochten: Vec<Ref>,
    pub ontvlochten: Vec<Ref>,
    /// Cumulative contribution of every branch up to and including this momentopname.
    /// Shared: copying an instrument shares these.
    pub cumulatief: Option<Arc<Cumulatief>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    pub doel: String,
    pub momentopnamen: Vec<Momentopname>,
}

/// The tijdstempels of a doel as known after one exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TijdstempelMoment {
    pub gemaakt_op: Tijdstip,
    pub bekend_op: Datum,
    pub juridisch_werkend_vanaf: Option<Datum>,
    pub geldig_vanaf: Option<Datum>,
}

/// Below this many branches (or versions) an instrument finds one by a linear scan; from
/// this many on it keeps a hash index.
const KLEIN: usize = 12;

/// Derived lookup state of an instrument: not persisted, not compared, rebuilt by
/// [`Instrument::herstel`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Afgeleid {
    /// doel -> branch index.
    doelen: FxHashMap<String, u32>,
    /// expression id -> index in `expressies`.
    expressies: FxHashMap<String, u32>,
    /// What the last determination of toestanden found, for the next one to reuse.
    pub(crate) geheugen: crate::toestanden::Geheugen,
}

impl PartialEq for Afgeleid {
    fn eq(&self, _: &Afgeleid) -> bool {
        true
    }
}

impl Eq for Afgeleid {}

/// Versiebeheer of one instrument (regeling or informatieobject).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    pub work: String,
    /// In order of creation (the order matters for ties between equal tijdstempels).
    pub branches: Vec<Branch>,
    /// Every bekendOp date at which something changed for this instrument, sorted.
    pub bekend_op: Vec<Datum>,
    pub materieel_uitgewerkt: Option<String>,
    /// Doelen of the initial version (without basisversie).
    pub initiele_doelen: Option<Vec<String>>,
    /// Every version delivered for the instrument; momentopnamen refer to them by index.
    pub expressies: Vec<String>,
    #[serde(skip)]
    pub(crate) afgeleid: Afgeleid,
}

impl Instrument {
    pub(crate) fn new(work: &str) -> Instrument {
        Instrument {
            work: work.to_string(),
            branches: Vec::new(),
            bekend_op: Vec::new(),
            materieel_uitgewerkt: None,
            initiele_doelen: None,
            expressies: Vec::new(),
            afgeleid: Afgeleid::default(),
        }
    }

    /// Rebuild the derived indexes (after deserialising).
    pub fn herstel(&mut self) {
        self.afgeleid.doelen.clear();
        self.afgeleid.expressies.clear();
        if self.branches.len() >= KLEIN {
            self.afgeleid.doelen = self.branches.iter().enumerate().map(|(i, b)| (b.doel.clone(), i as u32)).collect();
        }
        if self.expressies.len() >= KLEIN {
            self.afgeleid.expressies = self.expressies.iter().enumerate().map(|(i, x)| (x.clone(), i as u32)).collect();
        }
        self.afgeleid.geheugen = Default::default();
    }

    pub fn branch_index(&self, doel: &str) -> Option<usize> {
        if self.branches.len() >= KLEIN && self.afgeleid.doelen.len() == self.branches.len() {
            self.afgeleid.doelen.get(doel).map(|&i| i as usize)
        } else {
            self.branches.iter().position(|b| b.doel == doel)
        }
    }

    pub fn branch(&self, doel: &str) -> Option<&Branch> {
        self.branch_index(doel).map(|i| &self.branches[i])
    }

    /// The doel of branch `i`.
    pub fn doel(&self, i: u32) -> &str {
        self.branches.get(i as usize).map(|b| b.doel.as_str()).unwrap_or("")
    }

    /// The index of a version, if it was delivered for this instrument.
    pub fn expressie_index(&self, expressie: &str) -> Option<u32> {
        if self.expressies.len() >= KLEIN && self.afgeleid.expressies.len() == self.expressies.len() {
            self.afgeleid.expressies.get(expressie).copied()
        } else {
            self.expressies.iter().position(|x| x == expressie).map(|i| i as u32)
        }
    }

    /// The version of a momentopname, as its expression id.
    pub fn expressie(&self, m: &Momentopname) -> Option<&str> {
        m.expressie.and_then(|i| self.expressies.get(i as usize)).map(String::as_str)
    }

    /// The expression id of version `i`.
    pub fn expressie_van(&self, i: u32) -> &str {
        self.expressies.get(i as usize).map(String::as_str).unwrap_or("")
    }

    fn voeg_branch_toe(&mut self, doel: &str) -> usize {
        self.branches.push(Branch { doel: doel.to_string(), momentopnamen: Vec::new() });
        let i = self.branches.len() - 1;
        if self.branches.len() >= KLEIN {
            if self.afgeleid.doelen.len() == i {
                self.afgeleid.doelen.insert(doel.to_string(), i as u32);
            } else {
                self.afgeleid.doelen = self.branches.iter().enumerate().map(|(i, b)| (b.doel.clone(), i as u32)).collect();
            }
        }
        i
    }

    /// The index of a version, added when new (the second value says so).
    fn voeg_expressie_toe(&mut self, expressie: &str) -> (u32, bool) {
        if let Some(i) = self.expressie_index(expressie) {
            return (i, false);
        }
        let i = self.expressies.len() as u32;
        self.expressies.push(expressie.to_string());
        if self.expressies.len() >= KLEIN {
            if self.afgeleid.expressies.len() == i as usize {
                self.afgeleid.expressies.insert(expressie.to_string(), i);
            } else {
                self.afgeleid.expressies = self.expressies.iter().enumerate().map(|(i, x)| (x.clone(), i as u32)).collect();
            }
        }
        (i, true)
    }

    pub fn momentopname(&self, r: Ref) -> &Momentopname {
        &self.branches[r.0].momentopnamen[r.1]
    }

    /// Insert into a list of references kept in the order of their doelen; a second
    /// reference for the same doel replaces the first.
    fn zet_verwijzing(&self, lijst: &[Ref], r: Ref) -> (usize, bool) {
        let doel = self.doel(r.0 as u32);
        match lijst.binary_search_by(|x| self.doel(x.0 as u32).cmp(doel)) {
            Ok(i) => (i, true),
            Err(i) => (i, false),
        }
    }
}

/// The whole versiebeheer state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versiebeheer {
    pub instrumenten: BTreeMap<String, Instrument>,
    /// Per doel, the successive states of its tijdstempels.
    pub tijdstempels: FxHashMap<String, Vec<TijdstempelMoment>>,
    /// Doelen used for some instrument.
    pub bekende_doelen: BTreeSet<String>,
    /// Per doel, the instruments with a branch for it.
    pub doel_instrumenten: BTreeMap<String, BTreeSet<String>>,
}

/// What processing one exchange changed (for an accepted exchange).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verwerking {
    /// Max bekendOp over the processed elements.
    pub bekend_op: Option<Datum>,
    /// Instruments whose toestanden must be determined again, sorted.
    pub instrumenten: BTreeSet<String>,
    /// Per instrument, the earliest bekendOp of this exchange's information about it (from
    /// which the complete toestanden change).
    pub eerste_bekend_op: BTreeMap<String, Datum>,
    pub waarschuwingen: Vec<Melding>,
}

/// Every date and moment of the exchange in its required shape; otherwise the meldingen.
fn controleer(u: &Uitwisseling) -> Vec<Melding> {
    let b = u.bestand.as_str();
    let mut f = Vec::new();
    if Tijdstip::parse(&u.gemaakt_op).is_none() {
        f.push(meldingen::tijdstip(b, "gemaaktOp", &u.gemaakt_op));
    }
    if Datum::parse(&u.ontvangen_op).is_none() {
        f.push(meldingen::datum(b, "ontvangenOp", &u.ontvangen_op));
    }
    for e in &u.instrumenten {
        if let Some(x) = e.bekend_op.as_deref().filter(|x| Datum::parse(x).is_none()) {
            f.push(meldingen::datum(b, "bekendOp", x));
        }
        for (naam, lijst) in [("Basisversie", &e.basisversies), ("VervlochtenVersie", &e.vervlochten), ("OntvlochtenVersie", &e.ontvlochten)]
        {
            for v in lijst.iter().filter(|v| Tijdstip::parse(&v.gemaakt_op).is_none()) {
                f.push(meldingen::tijdstip(b, &format!("{naam}/gemaaktOp"), &v.gemaakt_op));
            }
        }
    }
    for t in &u.tijdstempels {
        if let Some(x) = t.datum.as_deref().filter(|x| Datum::parse(x).is_none()) {
            f.push(meldingen::datum(b, "datum", x));
        }
        if let Some(x) = t.bekend_op.as_deref().filter(|x| Datum::parse(x).is_none()) {
            f.push(meldingen::datum(b, "bekendOp", x));
        }
    }
    f
}

/// A date or moment that [`controleer`] accepted.
fn datum(s: &str) -> Datum {
    Datum::parse(s).unwrap_or_default()
}

fn tijdstip(s: &str) -> Tijdstip {
    Tijdstip::parse(s).unwrap_or_default()
}

impl Versiebeheer {
    pub fn new() -> Versiebeheer {
        Versiebeheer::default()
    }

    /// Process one exchange. On any `fout`, nothing changes and every melding is returned.
    /// Dates and moments must have their STOP shapes (RB5001, RB5002).
    pub fn verwerk(&mut self, u: &Uitwisseling) -> Result<Verwerking, Vec<Melding>> {
        let vormfouten = controleer(u);
        if !vormfouten.is_empty() {
            return Err(vormfouten);
        }
        let mut w = Werk::new(self, u);
        w.voer_uit();
        let Werk { meldingen, werken, nieuwe_doelen, undo, bekend_op, instrumenten, eerste_bekend_op, .. } = w;
        if meldingen.iter().any(Melding::is_fout) {
            self.herstel(&werken, u, undo);
            return Err(meldingen);
        }
        // Register the new branches per doel (the existing ones are registered already).
        for x in &undo {
            if let Undo::Branch(nr, bi) = *x {
                let work = &werken[nr as usize];
                let Some(doel) = self.instrumenten.get(work).and_then(|i| i.branches.get(bi as usize)).map(|b| &b.doel) else {
                    continue;
                };
                match self.doel_instrumenten.get_mut(doel) {
                    Some(set) => {
                        if !set.contains(work) {
                            set.insert(work.clone());
                        }
                    }
                    None => {
                        self.doel_instrumenten.insert(doel.clone(), BTreeSet::from([work.clone()]));
                    }
                }
            }
        }
        for d in nieuwe_doelen {
            if !self.bekende_doelen.contains(d) {
                self.bekende_doelen.insert(d.to_string());
            }
        }
        let mut werken = werken;
        let eerste_bekend_op = eerste_bekend_op.iter().map(|&(nr, b)| (werken[nr as usize].clone(), b)).collect();
        Ok(Verwerking {
            bekend_op,
            instrumenten: instrumenten.iter().map(|&nr| std::mem::take(&mut werken[nr as usize])).collect(),
            eerste_bekend_op,
            waarschuwingen: meldingen,
        })
    }

    /// Undo the changes of a rejected exchange, last change first.
    fn herstel(&mut self, werken: &[String], u: &Uitwisseling, undo: Vec<Undo>) {
        let doel = |ti: u32| u.tijdstempels[ti as usize].doel.as_str();
        for x in undo.into_iter().rev() {
            match x {
                Undo::NieuwInstrument(nr) => {
                    self.instrumenten.remove(&werken[nr as usize]);
                }
                Undo::BekendOp(nr, b) => {
                    if let Some(i) = self.instrumenten.get_mut(&werken[nr as usize])
                        && let Ok(p) = i.bekend_op.binary_search(&b)
                    {
                        i.bekend_op.remove(p);
                    }
                }
                Undo::MaterieelUitgewerkt(nr, oud) => {
                    if let Some(i) = self.instrumenten.get_mut(&werken[nr as usize]) {
                        i.materieel_uitgewerkt = oud;
                    }
                }
                Undo::InitieleDoelen(nr, oud) => {
                    if let Some(i) = self.instrumenten.get_mut(&werken[nr as usize]) {
                        i.initiele_doelen = oud;
                    }
                }
                Undo::Branch(nr, _) => {
                    if let Some(i) = self.instrumenten.get_mut(&werken[nr as usize])
                        && let Some(b) = i.branches.pop()
                    {
                        i.afgeleid.doelen.remove(&b.doel);
                    }
                }
                Undo::Expressie(nr) => {
                    if let Some(i) = self.instrumenten.get_mut(&werken[nr as usize])
                        && let Some(x) = i.expressies.pop()
                    {
                        i.afgeleid.expressies.remove(&x);
                    }
                }
                Undo::Momentopname(nr, bi) => {
                    if let Some(i) = self.instrumenten.get_mut(&werken[nr as usize]) {
                        i.branches[bi as usize].momentopnamen.pop();
                    }
                }
                Undo::Cumulatief(nr, r, oud) => {
                    if let Some(i) = self.instrumenten.get_mut(&werken[nr as usize]) {
                        i.branches[r.0].momentopnamen[r.1].cumulatief = oud;
                    }
                }
                Undo::NieuweTijdstempels(ti) => {
                    self.tijdstempels.remove(doel(ti));
                }
                Undo::TijdstempelToegevoegd(ti) => {
                    if let Some(l) = self.tijdstempels.get_mut(doel(ti)) {
                        l.pop();
                    }
                }
                Undo::TijdstempelVervangen(ti, oud) => {
                    if let Some(l) = self.tijdstempels.get_mut(doel(ti))
                        && let Some(x) = l.last_mut()
                    {
                        *x = oud;
                    }
                }
            }
        }
    }
}

/// One change made while processing an exchange, with what is needed to undo it. Works are
/// numbers into [`Werk::werken`], doelen of tijdstempels numbers of the exchange's
/// tijdstempel elements.
enum Undo {
    NieuwInstrument(u32),
    BekendOp(u32, Datum),
    MaterieelUitgewerkt(u32, Option<String>),
    InitieleDoelen(u32, Option<Vec<String>>),
    /// Branch `.1` (the last) of the instrument was added.
    Branch(u32, u32),
    /// The last version of the instrument was added.
    Expressie(u32),
    /// The last momentopname of branch `.1` was added.
    Momentopname(u32, u32),
    Cumulatief(u32, Ref, Option<Arc<Cumulatief>>),
    NieuweTijdstempels(u32),
    TijdstempelToegevoegd(u32),
    TijdstempelVervangen(u32, TijdstempelMoment),
}

/// The processing of one exchange, in place: every change is logged in `undo` so that a
/// rejected exchange can be taken back whole (cheaper than copying the instruments it touches).
struct Werk<'v, 'a> {
    vb: &'v mut Versiebeheer,
    u: &'a Uitwisseling,
    g: Tijdstip,
    module_bekend_op: Datum,
    /// The works this exchange refers to, numbered in order of appearance.
    werken: SmallVec<[String; 2]>,
    /// Works touched (their branches are registered per doel on commit).
    aangeraakt: SmallVec<[u32; 4]>,
    undo: Vec<Undo>,
    nieuwe_doelen: SmallVec<[&'a str; 4]>,
    meldingen: Vec<Melding>,
    /// Max bekendOp over the processed elements.
    bekend_op: Option<Datum>,
    /// Works whose toestanden must be determined again.
    instrumenten: SmallVec<[u32; 4]>,
    eerste_bekend_op: SmallVec<[(u32, Datum); 4]>,
    /// Momentopnamen added by this exchange: (work, ref, element index).
    toegevoegd: SmallVec<[(u32, Ref, usize); 4]>,
}

fn element_naam(e: &InstrumentElement) -> &'static str {
    let io = e.work.starts_with("/join/");
    match e.soort {
        InstrumentSoort::Beoogd if io => "BeoogdInformatieobject",
        InstrumentSoort::Beoogd => "BeoogdeRegeling",
        InstrumentSoort::Intrekking => "Intrekking",
        InstrumentSoort::Terugtrekking if io => "TerugtrekkingInformatieobject",
        InstrumentSoort::Terugtrekking => "TerugtrekkingRegeling",
        InstrumentSoort::TerugtrekkingIntrekking => "TerugtrekkingIntrekking",
    }
}

/// The module's bekendOp: the maximum of the gemaaktOp date and every explicit bekendOp.
fn module_bekend_op(u: &Uitwisseling, g: Tijdstip) -> Datum {
    let explicit = u
        .instrumenten
        .iter()
        .filter_map(|e| e.bekend_op.as_deref())
        .chain(u.tijdstempels.iter().filter_map(|t| t.bekend_op.as_deref()));
    explicit.map(datum).fold(g.datum(), Datum::max)
}

impl<'v, 'a> Werk<'v, 'a> {
    fn new(vb: &'v mut Versiebeheer, u: &'a Uitwisseling) -> Werk<'v, 'a> {
        let g = tijdstip(&u.gemaakt_op);
        Werk {
            vb,
            u,
            g,
            module_bekend_op: module_bekend_op(u, g),
            werken: SmallVec::new(),
            aangeraakt: SmallVec::new(),
            undo: Vec::with_capacity(4 * u.instrumenten.len() + 3 * u.tijdstempels.len() + 1),
            nieuwe_doelen: SmallVec::new(),
            meldingen: Vec::new(),
            bekend_op: None,
            instrumenten: SmallVec::new(),
            eerste_bekend_op: SmallVec::new(),
            toegevoegd: SmallVec::new(),
        }
    }

    fn fout(&mut self, code: &str, tekst: String) {
        self.meldingen.push(fout(code, &self.u.bestand, tekst));
    }

    fn waarschuwing(&mut self, code: &str, tekst: String) {
        self.meldingen.push(waarschuwing(code, &self.u.bestand, tekst));
    }

    fn bekend_op_van(&self, eigen: &Option<String>) -> Datum {
        eigen.as_deref().map(datum).unwrap_or(self.module_bekend_op)
    }

    fn noteer_bekend_op(&mut self, b: Datum) {
        if self.bekend_op.is_none_or(|x| b > x) {
            self.bekend_op = Some(b);
        }
    }

    /// The number of a work.
    fn nr(&mut self, work: &str) -> u32 {
        match self.werken.iter().position(|w| w == work) {
            Some(i) => i as u32,
            None => {
                self.werken.push(work.to_string());
                self.werken.len() as u32 - 1
            }
        }
    }

    /// Mutable access to an instrument (noted as touched).
    fn instrument(&mut self, nr: u32) -> Option<&mut Instrument> {
        let i = self.vb.instrumenten.get_mut(&self.werken[nr as usize])?;
        if !self.aangeraakt.contains(&nr) {
            self.aangeraakt.push(nr);
        }
        Some(i)
    }

    /// Add `b` to the instrument's bekendOp dates (logged).
    fn voeg_bekend_op_toe(&mut self, nr: u32, b: Datum) {
        if let Some(i) = self.instrument(nr)
            && let Err(p) = i.bekend_op.binary_search(&b)
        {
            i.bekend_op.insert(p, b);
            self.undo.push(Undo::BekendOp(nr, b));
        }
    }

    fn bestaat_instrument(&self, work: &str) -> bool {
        self.vb.instrumenten.contains_key(work)
    }

    fn doel_bekend(&self, doel: &str) -> bool {
        self.nieuwe_doelen.contains(&doel) || self.vb.bekende_doelen.contains(doel)
    }

    fn voer_uit(&mut self) {
        let u = self.u;
        for soort in [
            InstrumentSoort::TerugtrekkingIntrekking,
            InstrumentSoort::Terugtrekking,
            InstrumentSoort::Intrekking,
            InstrumentSoort::Beoogd,
        ] {
            let maak = matches!(soort, InstrumentSoort::Intrekking | InstrumentSoort::Beoogd);
            for (i, e) in u.instrumenten.iter().enumerate().filter(|(_, e)| e.soort == soort) {
                self.instrument_element(i, e, maak);
            }
        }
        let toegevoegd = std::mem::take(&mut self.toegevoegd);
        // The doelen of every new momentopname, now that each has its branch.
        for &(nr, r, ei) in &toegevoegd {
            let Some(instr) = self.vb.instrumenten.get_mut(&self.werken[nr as usize]) else { continue };
            let doelen: Vec<u32> = u.instrumenten[ei].doelen.iter().filter_map(|d| instr.branch_index(d)).map(|i| i as u32).collect();
            instr.branches[r.0].momentopnamen[r.1].doelen = doelen;
        }
        for &(nr, r, ei) in &toegevoegd {
            self.neem_verwijzingen_over(nr, r, &u.instrumenten[ei]);
        }
        self.toegevoegd = toegevoegd;
        self.bepaal_cumulatieve_bijdragen();
        for (i, t) in u.tijdstempels.iter().enumerate().filter(|(_, t)| t.datum.is_none()) {
            self.tijdstempel_element(i, t, false);
        }
        for (i, t) in u.tijdstempels.iter().enumerate().filter(|(_, t)| t.datum.is_some()) {
            self.tijdstempel_element(i, t, true);
        }
        for m in &u.materieel_uitgewerkt {
            if !self.bestaat_instrument(&m.work) {
                self.fout(
                    "RB5034",
                    format!(
                        "MaterieelUitgewerkt voor onbekend instrument {} @{}. Noem een instrument dat al een versie heeft.",
                        m.work, u.gemaakt_op
                    ),
                );
                continue;
            }
            let nr = self.nr(&m.work);
            let instr = self.instrument(nr).expect("exists");
            if instr.materieel_uitgewerkt == m.datum {
                let tekst = match &m.datum {
                    None => format!("Instrument {} is niet materieel uitgewerkt; geen wijziging @{}", m.work, u.gemaakt_op),
                    Some(d) => format!("Instrument {} is al materieel uitgewerkt per {d}; geen wijziging @{}", m.work, u.gemaakt_op),
                };
                self.waarschuwing("RB5043", tekst);
                continue;
            }
            let oud = std::mem::replace(&mut instr.materieel_uitgewerkt, m.datum.clone());
            self.undo.push(Undo::MaterieelUitgewerkt(nr, oud));
            if !self.instrumenten.contains(&nr) {
                self.instrumenten.push(nr);
            }
            let b = self.module_bekend_op;
            self.noteer_bekend_op(b);
        }
    }

    fn voeg_instrument_doel_toe(&mut self, nr: u32, bekend_op: Datum) {
        if !self.instrumenten.contains(&nr) {
            self.instrumenten.push(nr);
        }
        self.voeg_bekend_op_toe(nr, bekend_op);
        match self.eerste_bekend_op.iter_mut().find(|(n, _)| *n == nr) {
            Some((_, e)) => {
                if bekend_op < *e {
                    *e = bekend_op;
                }
            }
            None => self.eerste_bekend_op.push((nr, bekend_op)),
        }
    }

    fn instrument_element(&mut self, ei: usize, e: &'a InstrumentElement, maak: bool) {
        let naam = element_naam(e);
        let g = self.u.gemaakt_op.as_str();
        let nr = self.nr(&e.work);
        for doel in &e.doelen {
            let Some((bi, nieuw)) = self.momentopname_voor_instrument(nr, e, naam, doel, maak) else { continue };
            let mut m = nieuw;
            // The verwerking of the element on the new momentopname; `Some(x)`: the new
            // momentopname has version `x`.
            let mut versie: Option<Option<&str>> = None;
            let ok = match e.soort {
                InstrumentSoort::Beoogd => {
                    if m.ingetrokken {
                        m.ingetrokken = false;
                        true
                    } else if e.expressie.is_none() && !e.basisversies.iter().any(|b| &b.doel == doel) {
                        self.fout(
                            "RB5017",
                            format!(
                                "Beoogde instrumentversie kan niet onbekend zijn voor nieuwe branch ({doel} @{g}) voor {}. Geef de versie op of noem een basisversie voor dit doel.",
                                e.work
                            ),
                        );
                        false
                    } else {
                        true
                    }
                    .then(|| {
                        versie = Some(e.expressie.as_deref());
                        m.teruggetrokken = false;
                    })
                    .is_some()
                }
                InstrumentSoort::Terugtrekking | InstrumentSoort::TerugtrekkingIntrekking => {
                    // A version is withdrawn from a branch that is not repealed; a repeal from
                    // one that is.
                    let van_intrekking = e.soort == InstrumentSoort::TerugtrekkingIntrekking;
                    if m.teruggetrokken {
                        self.waarschuwing(
                            "RB5040",
                            format!("Terugtrekking ({doel} @{g}) voor {}: wijziging/intrekking instrument is al teruggetrokken", e.work),
                        );
                        false
                    } else if m.ingetrokken != van_intrekking {
                        let (code, tekst) = if van_intrekking {
                            ("RB5019", format!("Terugtrekking van intrekking ({doel} @{g}) voor {} niet mogelijk: instrument is niet ingetrokken.", e.work))
                        } else {
                            ("RB5018", format!("Terugtrekking van versie ({doel} @{g}) voor {} niet mogelijk: instrument is ingetrokken. Trek eerst de intrekking terug.", e.work))
                        };
                        self.fout(code, tekst);
                        false
                    } else {
                        m.ingetrokken = false;
                        m.expressie = None;
                        m.teruggetrokken = true;
                        true
                    }
                }
                InstrumentSoort::Intrekking => {
                    if m.ingetrokken {
                        self.waarschuwing(
                            "RB5041",
                            format!("Intrekking ({doel} @{g}) voor {}: wijziging/intrekking instrument is al ingetrokken", e.work),
                        );
                        false
                    } else {
                        m.ingetrokken = true;
                        m.expressie = None;
                        m.teruggetrokken = false;
                        true
                    }
                }
            };
            if ok {
                let instr = self.vb.instrumenten.get_mut(&e.work).expect("exists");
                if let Some(v) = versie {
                    m.expressie = v.map(|x| {
                        let (i, nieuw) = instr.voeg_expressie_toe(x);
                        if nieuw {
                            self.undo.push(Undo::Expressie(nr));
                        }
                        i
                    });
                }
                let branch = &mut instr.branches[bi];
                branch.momentopnamen.push(m);
                self.undo.push(Undo::Momentopname(nr, bi as u32));
                let r = (bi, branch.momentopnamen.len() - 1);
                self.toegevoegd.push((nr, r, ei));
                let b = self.bekend_op_van(&e.bekend_op);
                self.voeg_instrument_doel_toe(nr, b);
                self.noteer_bekend_op(b);
            }
        }
    }

    /// Find or create the branch for `doel` and make the new momentopname (not yet added).
    fn momentopname_voor_instrument(
        &mut self,
        nr: u32,
        e: &InstrumentElement,
        naam: &str,
        doel: &'a str,
        maak: bool,
    ) -> Option<(usize, Momentopname)> {
        let g = self.u.gemaakt_op.as_str();
        if !self.bestaat_instrument(&e.work) {
            if maak {
                self.vb.instrumenten.insert(e.work.clone(), Instrument::new(&e.work));
                self.undo.push(Undo::NieuwInstrument(nr));
            } else {
                self.fout(
                    "RB5010",
                    format!("{naam} voor onbekend instrument {} @{g}. Controleer de identificatie van het instrument.", e.work),
                );
                return None;
            }
        }
        let bekend_op = self.bekend_op_van(&e.bekend_op);
        self.voeg_bekend_op_toe(nr, bekend_op);
        let instr = self.vb.instrumenten.get(&e.work).expect("exists");
        let nieuw_leeg = Momentopname {
            gemaakt_op: self.g,
            bekend_op,
            doelen: Vec::new(),
            expressie: None,
            ingetrokken: false,
            teruggetrokken: true,
            basisversies: Vec::new(),
            vervlochten: Vec::new(),
            ontvlochten: Vec::new(),
            cumulatief: None,
        };
        if let Some(bi) = instr.branch_index(doel) {
            let Some(laatste) = instr.branches[bi].momentopnamen.last() else {
                // Only a branch created (and failed) earlier in this same exchange.
                return Some((bi, nieuw_leeg));
            };
            let (lg, lb) = (laatste.gemaakt_op, laatste.bekend_op);
            if lg == self.g {
                self.fout(
                    "RB5011",
                    format!(
                        "Twee ConsolidatieInformatie elementen aanwezig voor ({doel}, @{g}) en instrument {}. Combineer ze tot één element.",
                        e.work
                    ),
                );
                return None;
            }
            let mut nieuw = nieuw_leeg;
            nieuw.expressie = laatste.expressie;
            nieuw.ingetrokken = laatste.ingetrokken;
            nieuw.teruggetrokken = laatste.teruggetrokken;
            if nieuw.bekend_op < lb {
                self.fout(
                    "RB5012",
                    format!(
                        "{naam} voor ({doel}, @{g}) en instrument {} is eerder bekend (op {}) dan voorgaande (@{lg} op {lb}).",
                        e.work, nieuw.bekend_op
                    ),
                );
                return None;
            }
            match e.basisversies.iter().find(|b| b.doel == doel) {
                None => self.fout(
                    "RB5013",
                    format!("{naam} voor ({doel}, @{g}) en instrument {} moet ({doel}, @{lg}) als basisversie hebben.", e.work),
                ),
                Some(b) if tijdstip(&b.gemaakt_op) != lg => {
                    let bg = b.gemaakt_op.clone();
                    self.fout(
                        "RB5013",
                        format!(
                            "{naam} voor ({doel}, @{g}) en instrument {} moet ({doel}, @{lg}) en niet ({doel}, @{bg}) als basisversie hebben.",
                            e.work
                        ),
                    )
                }
                Some(_) => {}
            }
            Some((bi, nieuw))
        } else if maak {
            let instr = self.vb.instrumenten.get_mut(&e.work).expect("exists");
            let bi = instr.voeg_branch_toe(doel);
            self.undo.push(Undo::Branch(nr, bi as u32));
            self.nieuwe_doelen.push(doel);
            if e.basisversies.is_empty() {
                match &instr.initiele_doelen {
                    None => {
                        instr.initiele_doelen = Some(e.doelen.clone());
                        self.undo.push(Undo::InitieleDoelen(nr, None));
                    }
                    Some(init) if !init.iter().any(|d| d == doel) => {
                        let anders: Vec<String> = init
                            .iter()
                            .filter_map(|d| instr.branch(d))
                            .map(|b| {
                                let eerste = b.momentopnamen.first().map(|m| m.gemaakt_op.to_string()).unwrap_or_default();
                                format!("({}, @{eerste})", b.doel)
                            })
                            .collect();
                        self.fout(
                            "RB5014",
                            format!(
                                "Instrument {}: zowel {naam} voor ({doel}, @{g}) als {} zijn initiële uitwisselingen voor het instrument (zonder basisversies). Geef een basisversie op.",
                                e.work,
                                anders.join(", ")
                            ),
                        );
                    }
                    Some(_) => {}
                }
            } else if let Some(b) = e.basisversies.iter().find(|b| b.doel == doel) {
                let bg = b.gemaakt_op.clone();
                self.fout(
                    "RB5015",
                    format!(
                        "{naam} voor ({doel}, @{g}) en instrument {} mag geen basisversie hebben voor hetzelfde doel maar heeft als basisversie ({doel}, @{bg}).",
                        e.work
                    ),
                );
            }
            Some((bi, nieuw_leeg))
        } else {
            self.fout(
                "RB5016",
                format!("{naam} voor onbekend doel '{doel}' @{g}. Het instrument heeft geen versie voor dit doel."),
            );
            None
        }
    }

    /// Resolve the references of a new momentopname.
    fn neem_verwijzingen_over(&mut self, nr: u32, r: Ref, e: &InstrumentElement) {
        let naam = element_naam(e);
        let g = self.u.gemaakt_op.as_str();
        // branch -> (collectie, ref, is_basisversie)
        let mut verwerkt: SmallVec<[(usize, &'static str, Ref, bool); 4]> = SmallVec::new();
        for (collectie, lijst) in
            [("Basisversie", &e.basisversies), ("VervlochtenVersie", &e.vervlochten), ("OntvlochtenVersie", &e.ontvlochten)]
        {
            for v in lijst {
                let Some(gevonden) = self.zoek_momentopname(nr, r, e, naam, v, collectie, &verwerkt) else {
                    continue;
                };
                let instr = self.vb.instrumenten.get_mut(&e.work).expect("exists");
                let ref_m = instr.momentopname(gevonden);
                let teruggetrokken = ref_m.teruggetrokken;
                let ref_gemaakt = ref_m.gemaakt_op;
                let m = &instr.branches[r.0].momentopnamen[r.1];
                let bestaand = match collectie {
                    "Basisversie" => &m.basisversies,
                    "VervlochtenVersie" => &m.vervlochten,
                    _ => &m.ontvlochten,
                };
                let (p, vervang) = instr.zet_verwijzing(bestaand, gevonden);
                let m = &mut instr.branches[r.0].momentopnamen[r.1];
                let lijst_m = match collectie {
                    "Basisversie" => &mut m.basisversies,
                    "VervlochtenVersie" => &mut m.vervlochten,
                    _ => &mut m.ontvlochten,
                };
                if vervang {
                    lijst_m[p] = gevonden;
                } else {
                    lijst_m.insert(p, gevonden);
                }
                let is_basis = collectie == "Basisversie";
                match verwerkt.iter_mut().find(|x| x.0 == gevonden.0) {
                    Some(x) => *x = (gevonden.0, collectie, gevonden, is_basis),
                    None => verwerkt.push((gevonden.0, collectie, gevonden, is_basis)),
                }
                match collectie {
                    "Basisversie" if teruggetrokken && !e.doelen.contains(&v.doel) => {
                        self.fout(
                            "RB5023",
                            format!(
                                "Teruggetrokken branch ({},@{ref_gemaakt}) mag geen basisversie zijn voor de branch(es) {}, @{g}.",
                                v.doel,
                                e.doelen.join(", ")
                            ),
                        );
                    }
                    "VervlochtenVersie" if teruggetrokken => {
                        let eigen_doel = self.vb.instrumenten[&e.work].branches[r.0].doel.clone();
                        self.fout(
                            "RB5023",
                            format!(
                                "Teruggetrokken branch ({},@{ref_gemaakt}) mag niet vervlochten worden met een andere branch ({eigen_doel}, @{g}).",
                                v.doel
                            ),
                        );
                    }
                    _ => {}
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn zoek_momentopname(
        &mut self,
        nr: u32,
        r: Ref,
        e: &InstrumentElement,
        naam: &str,
        v: &Verwijzing,
        collectie: &str,
        verwerkt: &[(usize, &'static str, Ref, bool)],
    ) -> Option<Ref> {
        let g = self.u.gemaakt_op.as_str();
        let instr = &self.vb.instrumenten[&self.werken[nr as usize]];
        let doel = instr.branches[r.0].doel.as_str();
        let vg = tijdstip(&v.gemaakt_op);
        let uitkomst: Result<Ref, (&str, String)> = (|| {
            let Some(bi) = instr.branch_index(&v.doel) else {
                return Err((
                    "RB5020",
                    format!(
                        "{naam} voor ({doel}, @{g}) en instrument {} heeft {collectie} voor onbekend doel {}.",
                        e.work, v.doel
                    ),
                ));
            };
            if let Some((_, al_collectie, al_ref, is_basis)) = verwerkt.iter().find(|x| x.0 == bi) {
                if !is_basis {
                    return Err((
                        "RB5021",
                        format!(
                            "{naam} voor ({doel}, @{g}) en instrument {} heeft {collectie} voor doel {} dat ook al vermeld is in {al_collectie}.",
                            e.work, v.doel
                        ),
                    ));
                }
                if vg <= instr.momentopname(*al_ref).gemaakt_op {
                    return Err((
                        "RB5021",
                        format!(
                            "{naam} voor ({doel}, @{g}) en instrument {} heeft {collectie} voor doel {} met een gemaaktOp die niet groter is dan van de basisversie voor hetzelfde doel.",
                            e.work, v.doel
                        ),
                    ));
                }
            }
            if let Some(mi) = instr.branches[bi].momentopnamen.iter().position(|m| m.gemaakt_op == vg) {
                return Ok((bi, mi));
            }
            let wat = if self.g < vg { "toekomstige" } else { "onbekende" };
            Err((
                "RB5022",
                format!(
                    "{naam} voor ({doel}, @{g}) en instrument {} heeft een {collectie} die verwijst naar een {wat} momentopname ({}, @{}).",
                    e.work, v.doel, v.gemaakt_op
                ),
            ))
        })();
        match uitkomst {
            Ok(r) => Some(r),
            Err((code, tekst)) => {
                self.fout(code, tekst);
                None
            }
        }
    }

    fn bepaal_cumulatieve_bijdragen(&mut self) {
        // (work, ref): references never leave their instrument.
        let mut gedaan: SmallVec<[(u32, Ref); 8]> = SmallVec::new();
        let toegevoegd = std::mem::take(&mut self.toegevoegd);
        for &(nr, r, _) in &toegevoegd {
            if !gedaan.contains(&(nr, r)) {
                self.cumulatief_voor(nr, r, &mut SmallVec::new(), &mut gedaan);
            }
        }
        self.toegevoegd = toegevoegd;
    }

    fn cumulatief_voor(
        &mut self,
        nr: u32,
        r: Ref,
        cyclisch: &mut SmallVec<[Ref; 8]>,
        gedaan: &mut SmallVec<[(u32, Ref); 8]>,
    ) -> bool {
        let instr = &self.vb.instrumenten[&self.werken[nr as usize]];
        let m = instr.momentopname(r);
        if m.cumulatief.is_some() {
            return true;
        }
        if cyclisch.iter().any(|c| c.0 == r.0) {
            let g = self.u.gemaakt_op.as_str();
            let keten: Vec<String> = cyclisch
                .iter()
                .map(|cr| {
                    let cm = instr.momentopname(*cr);
                    format!("({}, @{})", instr.branches[cr.0].doel, cm.gemaakt_op)
                })
                .collect();
            self.fout(
                "RB5024",
                format!(
                    "Consolidatie-informatie verwijst in een cirkel naar elkaar: {} (@{g}). Verwijs alleen naar eerdere versies.",
                    keten.join(", ")
                ),
            );
            return false;
        }
        cyclisch.push(r);
        if gedaan.contains(&(nr, r)) {
            return false;
        }
        gedaan.push((nr, r));
        let mut valide = true;
        // Usually every reference is to a momentopname whose contributions are known.
        let open = |v: &Ref| instr.momentopname(*v).cumulatief.is_none();
        if m.basisversies.iter().chain(&m.vervlochten).chain(&m.ontvlochten).any(open) {
            let refs: SmallVec<[Ref; 4]> = m.basisversies.iter().chain(&m.vervlochten).chain(&m.ontvlochten).copied().collect();
            for v in refs {
                if self.vb.instrumenten[&self.werken[nr as usize]].momentopname(v).cumulatief.is_none() {
                    // Each reference sees the chain up to here, not its siblings' additions.
                    let lengte = cyclisch.len();
                    let ok = self.cumulatief_voor(nr, v, cyclisch, gedaan);
                    cyclisch.truncate(lengte);
                    if !ok {
                        valide = false;
                    }
                }
            }
        }
        if valide {
            self.accumuleer(nr, r);
        }
        valide
    }

    /// The cumulative contributions of one momentopname from those of its references.
    fn accumuleer(&mut self, nr: u32, r: Ref) {
        let instr = &self.vb.instrumenten[&self.werken[nr as usize]];
        let m = instr.momentopname(r);
        let eigen_doel = instr.branches[r.0].doel.as_str();
        let mut acc: Cumulatief = Vec::with_capacity(
            m.basisversies.first().and_then(|v| instr.momentopname(*v).cumulatief.as_ref()).map_or(0, |c| c.len()) + m.doelen.len(),
        );
        let mut fouten: Vec<(&str, String)> = Vec::new();
        for v in &m.basisversies {
            if let Some(c) = &instr.momentopname(*v).cumulatief {
                voeg_basis_toe(&mut acc, c);
            }
        }
        for v in &m.ontvlochten {
            let om = instr.momentopname(*v);
            let odoel = &instr.branches[v.0].doel;
            match bijdrage(&acc, v.0 as u32) {
                None => fouten.push((
                    "RB5025",
                    format!(
                        "Ontvlechting van ({eigen_doel}, @{}) met {odoel} is niet mogelijk omdat dat doel geen basisversie of vervlochten versie is van de branch.",
                        m.gemaakt_op
                    ),
                )),
                Some(h) if h.laatst_verwerkt > om.gemaakt_op => fouten.push((
                    "RB5025",
                    format!(
                        "Doel {odoel} is al verwerkt tot en met @{} in ({eigen_doel}, @{}), ontvlechting met @{} is overbodig of onbedoeld.",
                        h.laatst_verwerkt, m.gemaakt_op, om.gemaakt_op
                    ),
                )),
                Some(_) => zet(&mut acc, v.0 as u32, Bijdrage { laatst_verwerkt: om.gemaakt_op, ontvlochten: Some(true) }),
            }
        }
        for v in &m.vervlochten {
            let vm = instr.momentopname(*v);
            let vdoel = v.0 as u32;
            let Some(c) = vm.cumulatief.as_deref() else { continue };
            let mut uit: Cumulatief = Vec::with_capacity(acc.len() + c.len());
            let mut i = 0;
            for &(doel, b) in c {
                while i < acc.len() && acc[i].0 < doel {
                    uit.push(acc[i]);
                    i += 1;
                }
                if i >= acc.len() || acc[i].0 != doel {
                    uit.push((doel, b));
                    continue;
                }
                let h = acc[i].1;
                i += 1;
                let neem = h.laatst_verwerkt < b.laatst_verwerkt
                    || (h.laatst_verwerkt == b.laatst_verwerkt
                        // Python truthiness of the reference: None and False are both "not".
                        && ((h.ontvlochten.is_none() && b.ontvlochten != Some(true))
                            || (h.ontvlochten != Some(true) && b.ontvlochten == Some(true))));
                if neem {
                    uit.push((doel, b));
                    continue;
                }
                uit.push((doel, h));
                if doel == vdoel {
                    fouten.push((
                        "RB5026",
                        format!(
                            "Doel {} is al verwerkt tot en met @{} in ({eigen_doel}, @{}), vervlechting met @{} is overbodig of onbedoeld.",
                            instr.doel(doel),
                            h.laatst_verwerkt,
                            m.gemaakt_op,
                            vm.gemaakt_op
                        ),
                    ));
                }
            }
            uit.extend_from_slice(&acc[i..]);
            acc = uit;
        }
        for &d in &m.doelen {
            zet(&mut acc, d, Bijdrage { laatst_verwerkt: m.gemaakt_op, ontvlochten: Some(false) });
        }
        let mut dubbelzinnig: Vec<&str> = acc.iter().filter(|(_, h)| h.ontvlochten.is_none()).map(|(d, _)| instr.doel(*d)).collect();
        dubbelzinnig.sort_unstable();
        for doel in dubbelzinnig {
            fouten.push((
                "RB5027",
                format!(
                    "Doel {doel} is zowel vervlochten als ontvlochten in basisversie(s) van ({eigen_doel}, @{}); status moet (nogmaals) expliciet aangegeven worden met VervlochtenVersie of OntvlochtenVersie.",
                    m.gemaakt_op
                ),
            ));
        }
        let oud = self.vb.instrumenten.get_mut(&self.werken[nr as usize]).expect("exists").branches[r.0].momentopnamen[r.1]
            .cumulatief
            .replace(Arc::new(acc));
        self.undo.push(Undo::Cumulatief(nr, r, oud));
        for (code, tekst) in fouten {
            self.fout(code, tekst);
        }
    }

    fn tijdstempel_element(&mut self, ti: usize, t: &'a TijdstempelElement, maak: bool) {
        let g = self.u.gemaakt_op.as_str();
        let naam = if t.datum.is_some() { "Tijdstempel" } else { "TerugtrekkingTijdstempel" };
        let soort = if t.geldig_vanaf { "GeldigVanaf" } else { "JuridischWerkendVanaf" };
        let bestaand = self.vb.tijdstempels.contains_key(&t.doel);
        if !bestaand {
            if !self.doel_bekend(&t.doel) {
                self.fout(
                    "RB5030",
                    format!(
                        "{naam} voor doel '{}' dat nog niet voor een instrument gebruikt is, @{g}. Lever eerst een versie of intrekking voor dit doel aan.",
                        t.doel
                    ),
                );
                return;
            } else if maak {
                self.vb.tijdstempels.insert(t.doel.clone(), Vec::new());
                self.undo.push(Undo::NieuweTijdstempels(ti as u32));
            } else {
                self.fout("RB5031", format!("{naam} voor onbekend doel '{}' @{g}.", t.doel));
                return;
            }
        }
        let bekend_op = self.bekend_op_van(&t.bekend_op);
        let laatste = self.vb.tijdstempels[&t.doel].last().copied();
        let (mut m, is_nieuw) = match laatste {
            Some(l) if l.gemaakt_op == self.g => (l, false),
            Some(l) => {
                if bekend_op < l.bekend_op {
                    self.fout(
                        "RB5032",
                        format!(
                            "{naam} voor ({}, @{g}) is eerder bekend (op {bekend_op}) dan voorgaande verandering van tijdstempels (@{} op {}).",
                            t.doel, l.gemaakt_op, l.bekend_op
                        ),
                    );
                    return;
                }
                (TijdstempelMoment { gemaakt_op: self.g, bekend_op, ..l }, true)
            }
            None => (
                TijdstempelMoment { gemaakt_op: self.g, bekend_op, juridisch_werkend_vanaf: None, geldig_vanaf: None },
                true,
            ),
        };
        let ok = match t.datum.as_deref() {
            Some(d) => {
                let d = datum(d);
                if t.geldig_vanaf {
                    m.geldig_vanaf = Some(d);
                } else {
                    m.juridisch_werkend_vanaf = Some(d);
                }
                match (m.geldig_vanaf, m.juridisch_werkend_vanaf) {
                    (Some(gv), Some(jwv)) if gv > jwv => {
                        let tekst = format!(
                            "GeldigVanaf ({gv}) mag niet groter zijn dan JuridischWerkendVanaf ({jwv}) ({} @{g}).",
                            t.doel
                        );
                        self.fout("RB5033", tekst);
                        false
                    }
                    _ => true,
                }
            }
            None => {
                let veld = if t.geldig_vanaf { &mut m.geldig_vanaf } else { &mut m.juridisch_werkend_vanaf };
                if veld.is_none() {
                    self.waarschuwing(
                        "RB5042",
                        format!("Terugtrekking van {soort} ({} @{g}): geen {soort} datum bekend", t.doel),
                    );
                    false
                } else {
                    *veld = None;
                    true
                }
            }
        };
        if !ok {
            return;
        }
        let lijst = self.vb.tijdstempels.get_mut(&t.doel).expect("inserted");
        if is_nieuw {
            lijst.push(m);
            self.undo.push(Undo::TijdstempelToegevoegd(ti as u32));
        } else {
            let oud = std::mem::replace(lijst.last_mut().expect("non-empty"), m);
            self.undo.push(Undo::TijdstempelVervangen(ti as u32, oud));
        }
        self.noteer_bekend_op(bekend_op);
        // Every instrument with a (not withdrawn) branch for the doel is touched: those
        // registered for the doel, and those given a branch for it in this exchange.
        let mut nrs: SmallVec<[u32; 4]> = SmallVec::new();
        if let Some(ws) = self.vb.doel_instrumenten.get(&t.doel) {
            for w in ws {
                let nr = match self.werken.iter().position(|x| x == w) {
                    Some(i) => i as u32,
                    None => {
                        self.werken.push(w.clone());
                        self.werken.len() as u32 - 1
                    }
                };
                nrs.push(nr);
            }
        }
        for &nr in &self.aangeraakt {
            if !nrs.contains(&nr) && self.vb.instrumenten.get(&self.werken[nr as usize]).is_some_and(|i| i.branch(&t.doel).is_some()) {
                nrs.push(nr);
            }
        }
        for nr in nrs {
            let raakt = self
                .vb
                .instrumenten
                .get(&self.werken[nr as usize])
                .and_then(|i| i.branch(&t.doel))
                .and_then(|b| b.momentopnamen.last())
                .is_some_and(|m| !m.teruggetrokken);
            if raakt {
                self.voeg_instrument_doel_toe(nr, bekend_op);
            }
        }
    }
}
