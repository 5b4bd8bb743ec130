//! Versiebeheer: per instrument the branches (one per doel) with their momentopnamen, per doel
//! the tijdstempels, and the processing of one exchange into that state.
//!
//! The semantics follow the STOP versiebeheer model as the reference simulator implements it
//! (STOPwerk/Versiebeheer-simulator): every exchange adds a momentopname to the branch of each
//! doel it names; references (basisversie, vervlochten, ontvlochten) say which other
//! momentopnamen a version contains, and from them the *cumulative contribution* of every
//! branch to every momentopname is derived. An exchange with any `fout` is rejected whole: the
//! state is unchanged.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap, FxHashSet};

use serde::{Deserialize, Serialize};
use stop::Melding;

use super::meldingen::{fout, waarschuwing};
use timetravel::uitwisseling::{InstrumentElement, InstrumentSoort, TijdstempelElement, Uitwisseling, Verwijzing};

/// How far a branch contributes to a momentopname.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bijdrage {
    /// gemaaktOp of the last momentopname of that branch contained in this one.
    pub laatst_verwerkt: String,
    /// `Some(true)` = taken out again (ontvlochten); `None` = ambiguous (an error when stored).
    pub ontvlochten: Option<bool>,
}

/// Merge the cumulative contributions of a basisversie into `acc`: a branch reached through
/// two basisversies counts with its latest contribution; if one path took it out and the other
/// did not, its status becomes ambiguous (`ontvlochten: None`).
pub(crate) fn voeg_basis_toe(acc: &mut BTreeMap<String, Bijdrage>, basis: &BTreeMap<String, Bijdrage>) {
    for (doel, b) in basis {
        let Some(h) = acc.get(doel) else {
            acc.insert(doel.clone(), b.clone());
            continue;
        };
        if b.ontvlochten.is_none() || h.ontvlochten != b.ontvlochten {
            let max = if h.laatst_verwerkt > b.laatst_verwerkt { &h.laatst_verwerkt } else { &b.laatst_verwerkt };
            let nieuw = Bijdrage { laatst_verwerkt: max.clone(), ontvlochten: None };
            acc.insert(doel.clone(), nieuw);
            continue;
        }
        if h.laatst_verwerkt < b.laatst_verwerkt {
            acc.insert(doel.clone(), b.clone());
        }
    }
}

/// A reference from one momentopname to another of the same instrument: (branch index,
/// momentopname index).
pub type Ref = (usize, usize);

/// One exchange's statement about the instrument on one branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Momentopname {
    pub gemaakt_op: String,
    pub bekend_op: String,
    /// All doelen of the element (a version can be for several doelen at once).
    pub doelen: Vec<String>,
    /// The instrument version; `None` = unknown, or no version (repealed / withdrawn).
    pub expressie: Option<String>,
    pub ingetrokken: bool,
    pub teruggetrokken: bool,
    pub basisversies: BTreeMap<String, Ref>,
    pub vervlochten: BTreeMap<String, Ref>,
    pub ontvlochten: BTreeMap<String, Ref>,
    /// Cumulative contribution of every branch up to and including this momentopname.
    /// Shared: copying an instrument (to process an exchange atomically) shares these maps.
    pub cumulatief: Option<std::sync::Arc<BTreeMap<String, Bijdrage>>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    pub doel: String,
    pub momentopnamen: Vec<Momentopname>,
}

/// The tijdstempels of a doel as known after one exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TijdstempelMoment {
    pub gemaakt_op: String,
    pub bekend_op: String,
    pub juridisch_werkend_vanaf: Option<String>,
    pub geldig_vanaf: Option<String>,
}

/// Versiebeheer of one instrument (regeling or informatieobject).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    pub work: String,
    /// In order of creation (the order matters for ties between equal tijdstempels).
    pub branches: Vec<Branch>,
    /// Every bekendOp date at which something changed for this instrument.
    pub bekend_op: BTreeSet<String>,
    pub materieel_uitgewerkt: Option<String>,
    /// Doelen of the initial version (without basisversie).
    pub initiele_doelen: Option<Vec<String>>,
    /// doel -> index in `branches` (derived; rebuilt by [`Instrument::herstel`]).
    #[serde(skip)]
    index: FxHashMap<String, usize>,
}

impl Instrument {
    fn new(work: &str) -> Instrument {
        Instrument {
            work: work.to_string(),
            branches: Vec::new(),
            bekend_op: BTreeSet::new(),
            materieel_uitgewerkt: None,
            initiele_doelen: None,
            index: FxHashMap::default(),
        }
    }

    /// Rebuild the derived doel index (after deserialising).
    pub fn herstel(&mut self) {
        self.index = self.branches.iter().enumerate().map(|(i, b)| (b.doel.clone(), i)).collect();
    }

    pub fn branch_index(&self, doel: &str) -> Option<usize> {
        if self.index.len() == self.branches.len() {
            self.index.get(doel).copied()
        } else {
            self.branches.iter().position(|b| b.doel == doel)
        }
    }

    pub fn branch(&self, doel: &str) -> Option<&Branch> {
        self.branch_index(doel).map(|i| &self.branches[i])
    }

    fn voeg_branch_toe(&mut self, doel: &str) -> usize {
        if self.index.len() != self.branches.len() {
            self.herstel();
        }
        self.branches.push(Branch { doel: doel.to_string(), momentopnamen: Vec::new() });
        let i = self.branches.len() - 1;
        self.index.insert(doel.to_string(), i);
        i
    }

    pub fn momentopname(&self, r: Ref) -> &Momentopname {
        &self.branches[r.0].momentopnamen[r.1]
    }
}

/// The whole versiebeheer state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versiebeheer {
    pub instrumenten: BTreeMap<String, Instrument>,
    /// Per doel, the successive states of its tijdstempels.
    pub tijdstempels: BTreeMap<String, Vec<TijdstempelMoment>>,
    /// Doelen used for some instrument.
    pub bekende_doelen: BTreeSet<String>,
    /// Per doel, the instruments with a branch for it.
    pub doel_instrumenten: BTreeMap<String, BTreeSet<String>>,
}

/// What processing one exchange changed (for an accepted exchange).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verwerking {
    /// Max bekendOp over the processed elements.
    pub bekend_op: Option<String>,
    /// Instruments whose toestanden must be determined again, sorted.
    pub instrumenten: BTreeSet<String>,
    /// Per instrument, the earliest bekendOp of this exchange's information about it (from
    /// which the complete toestanden change).
    pub eerste_bekend_op: BTreeMap<String, String>,
    pub waarschuwingen: Vec<Melding>,
}

impl Versiebeheer {
    pub fn new() -> Versiebeheer {
        Versiebeheer::default()
    }

    /// Process one exchange. On any `fout`, nothing changes and every melding is returned.
    pub fn verwerk(&mut self, u: &Uitwisseling) -> Result<Verwerking, Vec<Melding>> {
        let mut w = Werk::new(self, u);
        w.voer_uit();
        let Werk { meldingen, resultaat, nieuwe_doelen, aangeraakt, undo, .. } = w;
        if meldingen.iter().any(Melding::is_fout) {
            self.herstel(undo);
            return Err(meldingen);
        }
        let mut resultaat = resultaat;
        resultaat.waarschuwingen = meldingen;
        for work in aangeraakt {
            let Some(instr) = self.instrumenten.get(&work) else { continue };
            for b in &instr.branches {
                match self.doel_instrumenten.get_mut(&b.doel) {
                    Some(set) => {
                        if !set.contains(&work) {
                            set.insert(work.clone());
                        }
                    }
                    None => {
                        self.doel_instrumenten.insert(b.doel.clone(), BTreeSet::from([work.clone()]));
                    }
                }
            }
        }
        self.bekende_doelen.extend(nieuwe_doelen);
        Ok(resultaat)
    }

    /// Undo the changes of a rejected exchange, last change first.
    fn herstel(&mut self, undo: Vec<Undo>) {
        for u in undo.into_iter().rev() {
            match u {
                Undo::NieuwInstrument(work) => {
                    self.instrumenten.remove(&work);
                }
                Undo::BekendOp(work, b) => {
                    if let Some(i) = self.instrumenten.get_mut(&work) {
                        i.bekend_op.remove(&b);
                    }
                }
                Undo::MaterieelUitgewerkt(work, oud) => {
                    if let Some(i) = self.instrumenten.get_mut(&work) {
                        i.materieel_uitgewerkt = oud;
                    }
                }
                Undo::InitieleDoelen(work, oud) => {
                    if let Some(i) = self.instrumenten.get_mut(&work) {
                        i.initiele_doelen = oud;
                    }
                }
                Undo::Branch(work) => {
                    if let Some(i) = self.instrumenten.get_mut(&work)
                        && let Some(b) = i.branches.pop()
                    {
                        i.index.remove(&b.doel);
                    }
                }
                Undo::Momentopname(work, bi) => {
                    if let Some(i) = self.instrumenten.get_mut(&work) {
                        i.branches[bi].momentopnamen.pop();
                    }
                }
                Undo::Cumulatief(work, r, oud) => {
                    if let Some(i) = self.instrumenten.get_mut(&work) {
                        i.branches[r.0].momentopnamen[r.1].cumulatief = oud;
                    }
                }
                Undo::NieuweTijdstempels(doel) => {
                    self.tijdstempels.remove(&doel);
                }
                Undo::TijdstempelToegevoegd(doel) => {
                    if let Some(l) = self.tijdstempels.get_mut(&doel) {
                        l.pop();
                    }
                }
                Undo::TijdstempelVervangen(doel, oud) => {
                    if let Some(l) = self.tijdstempels.get_mut(&doel)
                        && let Some(x) = l.last_mut()
                    {
                        *x = oud;
                    }
                }
            }
        }
    }
}

/// One change made while processing an exchange, with what is needed to undo it.
enum Undo {
    NieuwInstrument(String),
    BekendOp(String, String),
    MaterieelUitgewerkt(String, Option<String>),
    InitieleDoelen(String, Option<Vec<String>>),
    /// The last branch of the instrument was added.
    Branch(String),
    /// The last momentopname of branch `.1` was added.
    Momentopname(String, usize),
    Cumulatief(String, Ref, Option<std::sync::Arc<BTreeMap<String, Bijdrage>>>),
    NieuweTijdstempels(String),
    TijdstempelToegevoegd(String),
    TijdstempelVervangen(String, TijdstempelMoment),
}

/// The processing of one exchange, in place: every change is logged in `undo` so that a
/// rejected exchange can be taken back whole (cheaper than copying the instruments it touches).
struct Werk<'a> {
    vb: &'a mut Versiebeheer,
    u: &'a Uitwisseling,
    module_bekend_op: String,
    /// Instruments this exchange touched (their branches are registered per doel on commit).
    aangeraakt: BTreeSet<String>,
    undo: Vec<Undo>,
    nieuwe_doelen: BTreeSet<String>,
    meldingen: Vec<Melding>,
    resultaat: Verwerking,
    /// Momentopnamen added by this exchange: (work, ref, element index).
    toegevoegd: Vec<(String, Ref, usize)>,
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

impl<'a> Werk<'a> {
    fn new(vb: &'a mut Versiebeheer, u: &'a Uitwisseling) -> Werk<'a> {
        Werk {
            vb,
            u,
            module_bekend_op: u.module_bekend_op(),
            aangeraakt: BTreeSet::new(),
            undo: Vec::new(),
            nieuwe_doelen: BTreeSet::new(),
            meldingen: Vec::new(),
            resultaat: Verwerking::default(),
            toegevoegd: Vec::new(),
        }
    }

    fn fout(&mut self, code: &str, tekst: String) {
        self.meldingen.push(fout(code, &self.u.bestand, tekst));
    }

    fn waarschuwing(&mut self, code: &str, tekst: String) {
        self.meldingen.push(waarschuwing(code, &self.u.bestand, tekst));
    }

    fn bekend_op_van(&self, eigen: &Option<String>) -> String {
        eigen.clone().unwrap_or_else(|| self.module_bekend_op.clone())
    }

    fn noteer_bekend_op(&mut self, b: &str) {
        if self.resultaat.bekend_op.as_deref().is_none_or(|x| b > x) {
            self.resultaat.bekend_op = Some(b.to_string());
        }
    }

    /// Mutable access to an instrument (noted as touched).
    fn instrument(&mut self, work: &str) -> Option<&mut Instrument> {
        let i = self.vb.instrumenten.get_mut(work)?;
        if !self.aangeraakt.contains(work) {
            self.aangeraakt.insert(work.to_string());
        }
        Some(i)
    }

    /// Add `b` to the instrument's bekendOp dates (logged).
    fn voeg_bekend_op_toe(&mut self, work: &str, b: &str) {
        if let Some(i) = self.instrument(work)
            && !i.bekend_op.contains(b)
        {
            i.bekend_op.insert(b.to_string());
            self.undo.push(Undo::BekendOp(work.to_string(), b.to_string()));
        }
    }

    fn bestaat_instrument(&self, work: &str) -> bool {
        self.vb.instrumenten.contains_key(work)
    }

    fn doel_bekend(&self, doel: &str) -> bool {
        self.nieuwe_doelen.contains(doel) || self.vb.bekende_doelen.contains(doel)
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
        for (work, r, ei) in &toegevoegd {
            self.neem_verwijzingen_over(work, *r, &u.instrumenten[*ei]);
        }
        self.toegevoegd = toegevoegd;
        self.bepaal_cumulatieve_bijdragen();
        for t in u.tijdstempels.iter().filter(|t| t.datum.is_none()) {
            self.tijdstempel_element(t, false);
        }
        for t in u.tijdstempels.iter().filter(|t| t.datum.is_some()) {
            self.tijdstempel_element(t, true);
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
            let huidig = self.instrument(&m.work).expect("exists").materieel_uitgewerkt.clone();
            if huidig == m.datum {
                let tekst = match &m.datum {
                    None => format!("Instrument {} is niet materieel uitgewerkt; geen wijziging @{}", m.work, u.gemaakt_op),
                    Some(d) => format!("Instrument {} is al materieel uitgewerkt per {d}; geen wijziging @{}", m.work, u.gemaakt_op),
                };
                self.waarschuwing("RB5043", tekst);
                continue;
            }
            let oud = std::mem::replace(&mut self.instrument(&m.work).expect("exists").materieel_uitgewerkt, m.datum.clone());
            self.undo.push(Undo::MaterieelUitgewerkt(m.work.clone(), oud));
            self.resultaat.instrumenten.insert(m.work.clone());
            let b = self.module_bekend_op.clone();
            self.noteer_bekend_op(&b);
        }
    }

    fn voeg_instrument_doel_toe(&mut self, work: &str, bekend_op: &str) {
        if !self.resultaat.instrumenten.contains(work) {
            self.resultaat.instrumenten.insert(work.to_string());
        }
        self.voeg_bekend_op_toe(work, bekend_op);
        match self.resultaat.eerste_bekend_op.get_mut(work) {
            Some(e) => {
                if bekend_op < e.as_str() {
                    *e = bekend_op.to_string();
                }
            }
            None => {
                self.resultaat.eerste_bekend_op.insert(work.to_string(), bekend_op.to_string());
            }
        }
    }

    fn instrument_element(&mut self, ei: usize, e: &InstrumentElement, maak: bool) {
        let naam = element_naam(e);
        let g = self.u.gemaakt_op.as_str();
        for doel in &e.doelen {
            let Some((bi, nieuw)) = self.momentopname_voor_instrument(e, naam, doel, maak) else { continue };
            let mut m = nieuw;
            // The verwerking of the element on the new momentopname.
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
                        m.expressie = e.expressie.clone();
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
                let branch = &mut instr.branches[bi];
                branch.momentopnamen.push(m);
                self.undo.push(Undo::Momentopname(e.work.clone(), bi));
                let r = (bi, branch.momentopnamen.len() - 1);
                self.toegevoegd.push((e.work.clone(), r, ei));
                let b = self.bekend_op_van(&e.bekend_op);
                self.voeg_instrument_doel_toe(&e.work, &b);
                self.noteer_bekend_op(&b);
            }
        }
    }

    /// Find or create the branch for `doel` and make the new momentopname (not yet added).
    fn momentopname_voor_instrument(
        &mut self,
        e: &InstrumentElement,
        naam: &str,
        doel: &str,
        maak: bool,
    ) -> Option<(usize, Momentopname)> {
        let g = self.u.gemaakt_op.as_str();
        if !self.bestaat_instrument(&e.work) {
            if maak {
                self.vb.instrumenten.insert(e.work.clone(), Instrument::new(&e.work));
                self.undo.push(Undo::NieuwInstrument(e.work.clone()));
            } else {
                self.fout(
                    "RB5010",
                    format!("{naam} voor onbekend instrument {} @{g}. Controleer de identificatie van het instrument.", e.work),
                );
                return None;
            }
        }
        let bekend_op = self.bekend_op_van(&e.bekend_op);
        self.voeg_bekend_op_toe(&e.work, &bekend_op);
        let instr = self.vb.instrumenten.get(&e.work).expect("exists");
        let nieuw_leeg = |bekend_op: &str| Momentopname {
            gemaakt_op: g.to_string(),
            bekend_op: bekend_op.to_string(),
            doelen: e.doelen.clone(),
            expressie: None,
            ingetrokken: false,
            teruggetrokken: true,
            basisversies: BTreeMap::new(),
            vervlochten: BTreeMap::new(),
            ontvlochten: BTreeMap::new(),
            cumulatief: None,
        };
        if let Some(bi) = instr.branch_index(doel) {
            let Some(laatste) = instr.branches[bi].momentopnamen.last().cloned() else {
                // Only a branch created (and failed) earlier in this same exchange.
                return Some((bi, nieuw_leeg(&bekend_op)));
            };
            if laatste.gemaakt_op == g {
                self.fout(
                    "RB5011",
                    format!(
                        "Twee ConsolidatieInformatie elementen aanwezig voor ({doel}, @{g}) en instrument {}. Combineer ze tot één element.",
                        e.work
                    ),
                );
                return None;
            }
            let mut nieuw = nieuw_leeg(&bekend_op);
            nieuw.expressie = laatste.expressie.clone();
            nieuw.ingetrokken = laatste.ingetrokken;
            nieuw.teruggetrokken = laatste.teruggetrokken;
            if nieuw.bekend_op < laatste.bekend_op {
                let (lg, lb) = (laatste.gemaakt_op.clone(), laatste.bekend_op.clone());
                self.fout(
                    "RB5012",
                    format!(
                        "{naam} voor ({doel}, @{g}) en instrument {} is eerder bekend (op {}) dan voorgaande (@{lg} op {lb}).",
                        e.work, nieuw.bekend_op
                    ),
                );
                return None;
            }
            let lg = laatste.gemaakt_op.clone();
            match e.basisversies.iter().find(|b| b.doel == doel) {
                None => self.fout(
                    "RB5013",
                    format!("{naam} voor ({doel}, @{g}) en instrument {} moet ({doel}, @{lg}) als basisversie hebben.", e.work),
                ),
                Some(b) if b.gemaakt_op != lg => {
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
            let initiele = instr.initiele_doelen.clone();
            let instr = self.vb.instrumenten.get_mut(&e.work).expect("exists");
            let bi = instr.voeg_branch_toe(doel);
            self.undo.push(Undo::Branch(e.work.clone()));
            self.nieuwe_doelen.insert(doel.to_string());
            if e.basisversies.is_empty() {
                match initiele {
                    None => {
                        instr.initiele_doelen = Some(e.doelen.clone());
                        self.undo.push(Undo::InitieleDoelen(e.work.clone(), None));
                    }
                    Some(init) if !init.iter().any(|d| d == doel) => {
                        let anders: Vec<String> = init
                            .iter()
                            .filter_map(|d| instr.branch(d))
                            .map(|b| {
                                format!("({}, @{})", b.doel, b.momentopnamen.first().map(|m| m.gemaakt_op.as_str()).unwrap_or(""))
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
            Some((bi, nieuw_leeg(&bekend_op)))
        } else {
            self.fout(
                "RB5016",
                format!("{naam} voor onbekend doel '{doel}' @{g}. Het instrument heeft geen versie voor dit doel."),
            );
            None
        }
    }

    /// Resolve the references of a new momentopname.
    fn neem_verwijzingen_over(&mut self, work: &str, r: Ref, e: &InstrumentElement) {
        let naam = element_naam(e);
        let g = self.u.gemaakt_op.as_str();
        let eigen_doel = self.vb.instrumenten[work].branches[r.0].doel.clone();
        // doel -> (collectie, ref, is_basisversie)
        let mut verwerkt: BTreeMap<String, (&'static str, Ref, bool)> = BTreeMap::new();
        for (collectie, lijst) in
            [("Basisversie", &e.basisversies), ("VervlochtenVersie", &e.vervlochten), ("OntvlochtenVersie", &e.ontvlochten)]
        {
            for v in lijst {
                let Some(gevonden) = self.zoek_momentopname(work, e, naam, &eigen_doel, v, collectie, &verwerkt) else {
                    continue;
                };
                let instr = &self.vb.instrumenten[work];
                let ref_m = instr.momentopname(gevonden);
                let teruggetrokken = ref_m.teruggetrokken;
                let ref_gemaakt = ref_m.gemaakt_op.clone();
                let doelen = instr.momentopname(r).doelen.clone();
                match collectie {
                    "Basisversie" => {
                        self.vb.instrumenten.get_mut(work).expect("exists").branches[r.0].momentopnamen[r.1]
                            .basisversies
                            .insert(v.doel.clone(), gevonden);
                        verwerkt.insert(v.doel.clone(), (collectie, gevonden, true));
                        if teruggetrokken && !doelen.contains(&v.doel) {
                            self.fout(
                                "RB5023",
                                format!(
                                    "Teruggetrokken branch ({},@{ref_gemaakt}) mag geen basisversie zijn voor de branch(es) {}, @{g}.",
                                    v.doel,
                                    doelen.join(", ")
                                ),
                            );
                        }
                    }
                    "VervlochtenVersie" => {
                        self.vb.instrumenten.get_mut(work).expect("exists").branches[r.0].momentopnamen[r.1]
                            .vervlochten
                            .insert(v.doel.clone(), gevonden);
                        verwerkt.insert(v.doel.clone(), (collectie, gevonden, false));
                        if teruggetrokken {
                            self.fout(
                                "RB5023",
                                format!(
                                    "Teruggetrokken branch ({},@{ref_gemaakt}) mag niet vervlochten worden met een andere branch ({eigen_doel}, @{g}).",
                                    v.doel
                                ),
                            );
                        }
                    }
                    _ => {
                        self.vb.instrumenten.get_mut(work).expect("exists").branches[r.0].momentopnamen[r.1]
                            .ontvlochten
                            .insert(v.doel.clone(), gevonden);
                        verwerkt.insert(v.doel.clone(), (collectie, gevonden, false));
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn zoek_momentopname(
        &mut self,
        work: &str,
        e: &InstrumentElement,
        naam: &str,
        doel: &str,
        v: &Verwijzing,
        collectie: &str,
        verwerkt: &BTreeMap<String, (&'static str, Ref, bool)>,
    ) -> Option<Ref> {
        let g = self.u.gemaakt_op.as_str();
        let instr = &self.vb.instrumenten[work];
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
            if let Some((al_collectie, al_ref, is_basis)) = verwerkt.get(&v.doel) {
                if !is_basis {
                    return Err((
                        "RB5021",
                        format!(
                            "{naam} voor ({doel}, @{g}) en instrument {} heeft {collectie} voor doel {} dat ook al vermeld is in {al_collectie}.",
                            e.work, v.doel
                        ),
                    ));
                }
                if v.gemaakt_op <= instr.momentopname(*al_ref).gemaakt_op {
                    return Err((
                        "RB5021",
                        format!(
                            "{naam} voor ({doel}, @{g}) en instrument {} heeft {collectie} voor doel {} met een gemaaktOp die niet groter is dan van de basisversie voor hetzelfde doel.",
                            e.work, v.doel
                        ),
                    ));
                }
            }
            if let Some(mi) = instr.branches[bi].momentopnamen.iter().position(|m| m.gemaakt_op == v.gemaakt_op) {
                return Ok((bi, mi));
            }
            let wat = if g < v.gemaakt_op.as_str() { "toekomstige" } else { "onbekende" };
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
        // (work number, ref): references never leave their instrument, so the works of this
        // exchange are numbered in order of appearance.
        let mut gedaan: FxHashSet<(usize, Ref)> = FxHashSet::default();
        let mut werken: Vec<&str> = Vec::new();
        let toegevoegd = std::mem::take(&mut self.toegevoegd);
        for (work, r, _) in &toegevoegd {
            let w = werken.iter().position(|x| x == work).unwrap_or_else(|| {
                werken.push(work);
                werken.len() - 1
            });
            if !gedaan.contains(&(w, *r)) {
                self.cumulatief_voor(work, w, *r, &mut Vec::new(), &mut gedaan);
            }
        }
        self.toegevoegd = toegevoegd;
    }

    fn cumulatief_voor(
        &mut self,
        work: &str,
        w: usize,
        r: Ref,
        cyclisch: &mut Vec<(usize, Ref)>,
        gedaan: &mut FxHashSet<(usize, Ref)>,
    ) -> bool {
        let instr = &self.vb.instrumenten[work];
        let m = instr.momentopname(r);
        if m.cumulatief.is_some() {
            return true;
        }
        if cyclisch.iter().any(|(b, _)| *b == r.0) {
            let g = self.u.gemaakt_op.as_str();
            let keten: Vec<String> = cyclisch
                .iter()
                .map(|(_, cr)| {
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
        cyclisch.push((r.0, r));
        if !gedaan.insert((w, r)) {
            return false;
        }
        let refs: Vec<Ref> =
            m.basisversies.values().chain(m.vervlochten.values()).chain(m.ontvlochten.values()).copied().collect();
        let mut valide = true;
        for v in refs {
            if self.vb.instrumenten[work].momentopname(v).cumulatief.is_none()
                && !self.cumulatief_voor(work, w, v, &mut cyclisch.clone(), gedaan)
            {
                valide = false;
            }
        }
        if valide {
            self.accumuleer(work, r);
        }
        valide
    }

    /// The cumulative contributions of one momentopname from those of its references.
    fn accumuleer(&mut self, work: &str, r: Ref) {
        let instr = &self.vb.instrumenten[work];
        let m = instr.momentopname(r);
        let eigen_doel = instr.branches[r.0].doel.clone();
        let mut acc: BTreeMap<String, Bijdrage> = BTreeMap::new();
        let mut fouten: Vec<(&str, String)> = Vec::new();
        for v in m.basisversies.values() {
            if let Some(c) = &instr.momentopname(*v).cumulatief {
                voeg_basis_toe(&mut acc, c);
            }
        }
        for v in m.ontvlochten.values() {
            let om = instr.momentopname(*v);
            let odoel = &instr.branches[v.0].doel;
            match acc.get(odoel) {
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
                Some(_) => {
                    acc.insert(odoel.clone(), Bijdrage { laatst_verwerkt: om.gemaakt_op.clone(), ontvlochten: Some(true) });
                }
            }
        }
        for v in m.vervlochten.values() {
            let vm = instr.momentopname(*v);
            let vdoel = &instr.branches[v.0].doel;
            for (doel, b) in vm.cumulatief.iter().flat_map(|c| c.iter()) {
                let Some(h) = acc.get(doel) else {
                    acc.insert(doel.clone(), b.clone());
                    continue;
                };
                if h.laatst_verwerkt < b.laatst_verwerkt {
                    acc.insert(doel.clone(), b.clone());
                    continue;
                }
                if h.laatst_verwerkt == b.laatst_verwerkt {
                    // Python truthiness of the reference: None and False are both "not".
                    if h.ontvlochten.is_none() && b.ontvlochten != Some(true) {
                        acc.insert(doel.clone(), b.clone());
                        continue;
                    }
                    if h.ontvlochten != Some(true) && b.ontvlochten == Some(true) {
                        acc.insert(doel.clone(), b.clone());
                        continue;
                    }
                }
                if doel == vdoel {
                    fouten.push((
                        "RB5026",
                        format!(
                            "Doel {doel} is al verwerkt tot en met @{} in ({eigen_doel}, @{}), vervlechting met @{} is overbodig of onbedoeld.",
                            h.laatst_verwerkt, m.gemaakt_op, vm.gemaakt_op
                        ),
                    ));
                }
            }
        }
        for d in &m.doelen {
            acc.insert(d.clone(), Bijdrage { laatst_verwerkt: m.gemaakt_op.clone(), ontvlochten: Some(false) });
        }
        for (doel, h) in &acc {
            if h.ontvlochten.is_none() {
                fouten.push((
                    "RB5027",
                    format!(
                        "Doel {doel} is zowel vervlochten als ontvlochten in basisversie(s) van ({eigen_doel}, @{}); status moet (nogmaals) expliciet aangegeven worden met VervlochtenVersie of OntvlochtenVersie.",
                        m.gemaakt_op
                    ),
                ));
            }
        }
        let oud = self.vb.instrumenten.get_mut(work).expect("exists").branches[r.0].momentopnamen[r.1]
            .cumulatief
            .replace(std::sync::Arc::new(acc));
        self.undo.push(Undo::Cumulatief(work.to_string(), r, oud));
        for (code, tekst) in fouten {
            self.fout(code, tekst);
        }
    }

    fn tijdstempel_element(&mut self, t: &TijdstempelElement, maak: bool) {
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
                self.undo.push(Undo::NieuweTijdstempels(t.doel.clone()));
            } else {
                self.fout("RB5031", format!("{naam} voor onbekend doel '{}' @{g}.", t.doel));
                return;
            }
        }
        let bekend_op = self.bekend_op_van(&t.bekend_op);
        let laatste = self.vb.tijdstempels[&t.doel].last().cloned();
        let (mut m, is_nieuw) = match laatste {
            Some(l) if l.gemaakt_op == g => (l, false),
            Some(l) => {
                if bekend_op < l.bekend_op {
                    let (lg, lb) = (l.gemaakt_op.clone(), l.bekend_op.clone());
                    self.fout(
                        "RB5032",
                        format!(
                            "{naam} voor ({}, @{g}) is eerder bekend (op {bekend_op}) dan voorgaande verandering van tijdstempels (@{lg} op {lb}).",
                            t.doel
                        ),
                    );
                    return;
                }
                let mut n = l;
                n.gemaakt_op = g.to_string();
                n.bekend_op = bekend_op.clone();
                (n, true)
            }
            None => (
                TijdstempelMoment {
                    gemaakt_op: g.to_string(),
                    bekend_op: bekend_op.clone(),
                    juridisch_werkend_vanaf: None,
                    geldig_vanaf: None,
                },
                true,
            ),
        };
        let ok = match &t.datum {
            Some(d) => {
                if t.geldig_vanaf {
                    m.geldig_vanaf = Some(d.clone());
                } else {
                    m.juridisch_werkend_vanaf = Some(d.clone());
                }
                match (&m.geldig_vanaf, &m.juridisch_werkend_vanaf) {
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
            self.undo.push(Undo::TijdstempelToegevoegd(t.doel.clone()));
        } else {
            let oud = std::mem::replace(lijst.last_mut().expect("non-empty"), m);
            self.undo.push(Undo::TijdstempelVervangen(t.doel.clone(), oud));
        }
        self.noteer_bekend_op(&bekend_op);
        // Every instrument with a (not withdrawn) branch for the doel is touched.
        let mut works: BTreeSet<String> = self.vb.doel_instrumenten.get(&t.doel).cloned().unwrap_or_default();
        works.extend(
            self.aangeraakt
                .iter()
                .filter(|w| self.vb.instrumenten.get(*w).is_some_and(|i| i.branch(&t.doel).is_some()))
                .cloned(),
        );
        for work in works {
            let raakt = self
                .vb
                .instrumenten
                .get(&work)
                .and_then(|i| i.branch(&t.doel))
                .and_then(|b| b.momentopnamen.last())
                .is_some_and(|m| !m.teruggetrokken);
            if raakt {
                self.voeg_instrument_doel_toe(&work, &bekend_op);
            }
        }
    }
}
