//! Toestanden: which consolidated version of an instrument applies from which date, as known
//! at some bekendOp. Two views, both as STOP defines them:
//!
//! * **actuele toestanden**: the juridischWerkend axis only (one toestand per
//!   juridischWerkendVanaf), as known after an exchange;
//! * **complete toestanden**: juridischWerkendVanaf × geldigVanaf (terugwerkende kracht creates
//!   intermediate toestanden), computed per bekendOp so that any past view can be reproduced.
//!
//! The content of a toestand is its instrumentversie when every doel that should be in it is
//! in exactly one known version (compleet); otherwise it is *onvolledig* (samenloop: doelen
//! still to be merged, taken out, or contradicting) or *onbekend* (an explicitly unknown
//! version).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

use serde::{Deserialize, Serialize};

use super::versiebeheer::{Bijdrage, Instrument, Momentopname, TijdstempelMoment};

/// What is known about the content of a toestand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// The instrumentversie is known.
    Compleet,
    /// Samenloop not (yet) resolved: no delivered version contains exactly the right doelen.
    Onvolledig,
    /// The version was explicitly delivered as unknown.
    Onbekend,
    /// The instrument is not in force (repealed, or not yet in force as now known).
    NietInWerking,
}

impl Status {
    /// The name used by the conformance suite.
    pub fn conformance_naam(self) -> &'static str {
        match self {
            Status::Compleet => "complete",
            Status::Onvolledig => "incomplete",
            Status::Onbekend => "unknown",
            Status::NietInWerking => "notInForce",
        }
    }
}

/// A doel whose latest change is not (fully) in the candidate version.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NogTeVerwerken {
    pub doel: String,
    pub laatst_bekend: String,
    pub laatst_verwerkt: Option<String>,
}

/// A doel that is in the candidate version but should be taken out.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NogTeOntvlechten {
    pub doel: String,
    pub laatst_verwerkt: String,
}

/// A doel whose version contradicts that of another inwerkingtredingsdoel.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tegensprekend {
    pub doel: String,
    pub laatst_bekend: String,
}

/// The content of a toestand.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Inhoud {
    pub status: Status,
    pub instrumentversie: Option<String>,
    pub te_verwerken: Vec<NogTeVerwerken>,
    pub te_ontvlechten: Vec<NogTeOntvlechten>,
    pub tegensprekend: Vec<Tegensprekend>,
}

impl Inhoud {
    pub fn niet_in_werking() -> Inhoud {
        Inhoud {
            status: Status::NietInWerking,
            instrumentversie: None,
            te_verwerken: Vec::new(),
            te_ontvlechten: Vec::new(),
            tegensprekend: Vec::new(),
        }
    }
}

/// One actuele toestand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActueleToestand {
    pub juridisch_werkend_vanaf: String,
    pub juridisch_werkend_tot: Option<String>,
    /// Sorted.
    pub inwerkingtredingsdoelen: Vec<String>,
    pub inhoud: Inhoud,
    /// Still in force or in the future at ontvangenOp.
    pub actueel: bool,
}

/// The actuele toestanden of an instrument after one exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActueleToestanden {
    pub gemaakt_op: String,
    pub ontvangen_op: String,
    pub bekend_op: String,
    pub materieel_uitgewerkt_op: Option<String>,
    pub juridisch_uitgewerkt_op: Option<String>,
    pub toestanden: Vec<ActueleToestand>,
}

/// One complete toestand: an anchor of the time-travel function at (jwv, gv).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CompleteToestand {
    pub juridisch_werkend_vanaf: String,
    pub geldig_vanaf: String,
    /// Sorted.
    pub inwerkingtredingsdoelen: Vec<String>,
    pub inhoud: Inhoud,
}

/// The determination of toestanden for one instrument at one bekendOp.
pub(crate) struct Bepaling<'a> {
    instr: &'a Instrument,
    tijdstempels: &'a BTreeMap<String, Vec<TijdstempelMoment>>,
    bekend_op: &'a str,
    /// Per branch (same order as `instr.branches`): its latest tijdstempels and its current
    /// momentopname, both as known at bekendOp (looked up once instead of per question).
    takken: Vec<Tak<'a>>,
    /// The contents determined so far, by (inwerkingtredingsdoelen, basisversiedoelen): the
    /// complete and the actuele toestanden at one bekendOp mostly ask the same questions.
    memo: RefCell<FxHashMap<u64, Vec<Bepaald<'a>>>>,
}

/// A remembered content: (inwerkingtredingsdoelen, basisversiedoelen, content).
type Bepaald<'a> = (Vec<&'a str>, Vec<&'a str>, Inhoud);

/// One branch as known at the bekendOp of a [`Bepaling`].
struct Tak<'a> {
    tijdstempel: Option<&'a TijdstempelMoment>,
    /// The branch's current momentopname, if known at bekendOp. As in the reference, only
    /// the branch's last momentopname is considered: a branch whose last change is not yet
    /// known at bekendOp does not take part.
    laatste: Option<&'a Momentopname>,
}

/// The latest tijdstempels of a doel known at `bekend_op`.
fn laatste_tijdstempel<'t>(lijst: &'t [TijdstempelMoment], bekend_op: &str) -> Option<&'t TijdstempelMoment> {
    lijst.iter().rev().find(|t| t.bekend_op.as_str() <= bekend_op)
}

impl<'a> Bepaling<'a> {
    pub(crate) fn new(
        instr: &'a Instrument,
        tijdstempels: &'a BTreeMap<String, Vec<TijdstempelMoment>>,
        bekend_op: &'a str,
    ) -> Bepaling<'a> {
        let takken = instr
            .branches
            .iter()
            .map(|b| Tak {
                tijdstempel: tijdstempels.get(&b.doel).and_then(|l| laatste_tijdstempel(l, bekend_op)),
                laatste: b.momentopnamen.last().filter(|m| m.bekend_op.as_str() <= bekend_op),
            })
            .collect();
        Bepaling { instr, tijdstempels, bekend_op, takken, memo: RefCell::default() }
    }

    /// (doel, jwv, gv-or-jwv) for every doel that leads to a toestand, sorted by (jwv, gv).
    pub(crate) fn tijdstempel_momentopnamen(&self) -> Vec<(&'a str, &'a str, &'a str)> {
        let mut out = Vec::new();
        let mut initieel_in_werking = false;
        for (branch, tak) in self.instr.branches.iter().zip(&self.takken) {
            let Some(ts) = tak.tijdstempel else { continue };
            let Some(jwv) = ts.juridisch_werkend_vanaf.as_deref() else { continue };
            if let Some(m) = tak.laatste
                && !m.ingetrokken
                && !m.teruggetrokken
            {
                out.push((branch.doel.as_str(), jwv, ts.geldig_vanaf.as_deref().unwrap_or(jwv)));
                if self.instr.initiele_doelen.as_ref().is_some_and(|i| i.contains(&branch.doel)) {
                    initieel_in_werking = true;
                }
            }
        }
        if !initieel_in_werking {
            return Vec::new();
        }
        out.sort_by(|a, b| (a.1, a.2).cmp(&(b.1, b.2)));
        out
    }

    /// Every branch whose current momentopname repeals the instrument and that has a
    /// juridischWerkendVanaf: (doel, gemaaktOp of the intrekking, jwv).
    fn intrekkingen(&self) -> impl Iterator<Item = (&'a str, &'a str, &'a str)> + '_ {
        self.instr.branches.iter().zip(&self.takken).filter_map(move |(branch, tak)| {
            let jwv = tak.tijdstempel?.juridisch_werkend_vanaf.as_deref()?;
            let m = tak.laatste.filter(|m| m.ingetrokken)?;
            Some((branch.doel.as_str(), m.gemaakt_op.as_str(), jwv))
        })
    }

    /// The first date the instrument is repealed, with the doelen that repeal it on that date.
    pub(crate) fn juridisch_uitgewerkt_op(&self) -> Option<(&'a str, Vec<&'a str>)> {
        let mut res: Option<(&'a str, Vec<&'a str>)> = None;
        for (doel, _, jwv) in self.intrekkingen() {
            match &mut res {
                Some((d, doelen)) if jwv == *d => doelen.push(doel),
                Some((d, _)) if jwv > *d => {}
                _ => res = Some((jwv, vec![doel])),
            }
        }
        if let Some((_, d)) = &mut res {
            d.sort();
        }
        res
    }

    /// (doel, gemaaktOp, jwv) of every repeal that takes effect.
    fn intrekkingstijdstempels(&self) -> Vec<(String, String, String)> {
        self.intrekkingen().map(|(d, g, j)| (d.to_string(), g.to_string(), j.to_string())).collect()
    }

    /// The latest momentopname of a doel that contributes to toestanden.
    fn laatste_momentopname(&self, doel: &str) -> Option<&'a Momentopname> {
        let tak = &self.takken[self.instr.branch_index(doel)?];
        tak.tijdstempel?.juridisch_werkend_vanaf.as_ref()?;
        tak.laatste.filter(|m| !m.ingetrokken && !m.teruggetrokken)
    }

    /// For a branch that once contributed and no longer does: the first momentopname after its
    /// last contribution, if tijdstempels made that contribution count.
    fn eerste_die_niet_meer_bijdraagt(&self, doel: &str) -> Option<&'a Momentopname> {
        let branch = self.instr.branch(doel)?;
        let mut laatste_bijdrage = None;
        let mut eerste_niet = None;
        for m in branch.momentopnamen.iter().rev().filter(|m| m.bekend_op.as_str() <= self.bekend_op) {
            if m.ingetrokken || m.teruggetrokken {
                eerste_niet = Some(m);
            } else {
                laatste_bijdrage = Some(m);
                break;
            }
        }
        let (Some(_), Some(niet)) = (laatste_bijdrage, eerste_niet) else { return None };
        let lijst = self.tijdstempels.get(doel)?;
        lijst
            .iter()
            .rev()
            .any(|t| t.bekend_op <= niet.bekend_op && t.gemaakt_op < niet.gemaakt_op && t.juridisch_werkend_vanaf.is_some())
            .then_some(niet)
    }

    /// The cumulative contributions for a toestand: those of the latest momentopname of each
    /// inwerkingtredingsdoel, merged.
    fn cumulatief_voor_toestand(&self, iwt: &[&str]) -> std::borrow::Cow<'a, BTreeMap<String, Bijdrage>> {
        // One inwerkingtredingsdoel (the usual case): its momentopname's map as it is.
        if let [doel] = iwt
            && let Some(c) = self.instr.branch(doel).and_then(|b| b.momentopnamen.last()).and_then(|m| m.cumulatief.as_deref())
        {
            return std::borrow::Cow::Borrowed(c);
        }
        let mut acc: BTreeMap<String, Bijdrage> = BTreeMap::new();
        for doel in iwt {
            if let Some(c) = self.instr.branch(doel).and_then(|b| b.momentopnamen.last()).and_then(|m| m.cumulatief.as_deref()) {
                super::versiebeheer::voeg_basis_toe(&mut acc, c);
            }
        }
        std::borrow::Cow::Owned(acc)
    }

    /// Determine the content of a toestand with these inwerkingtredingsdoelen (remembered).
    pub(crate) fn inhoud(&self, iwt: &[&'a str], basisversiedoelen: &[&'a str]) -> Inhoud {
        let mut h = FxHasher::default();
        iwt.hash(&mut h);
        basisversiedoelen.hash(&mut h);
        let sleutel = h.finish();
        if let Some(l) = self.memo.borrow().get(&sleutel)
            && let Some((_, _, i)) = l.iter().find(|(a, b, _)| a == iwt && b == basisversiedoelen)
        {
            return i.clone();
        }
        let i = self.bepaal_inhoud(iwt, basisversiedoelen);
        self.memo.borrow_mut().entry(sleutel).or_default().push((iwt.to_vec(), basisversiedoelen.to_vec(), i.clone()));
        i
    }

    fn bepaal_inhoud(&self, iwt: &[&'a str], basisversiedoelen: &[&'a str]) -> Inhoud {
        let mut kandidaten: Vec<(String, Vec<Tegensprekend>)> = Vec::new();
        let mut onbekend = 0usize;
        let mut gezien: Vec<&str> = Vec::new();
        let mut te_verwerken: Vec<NogTeVerwerken> = Vec::new();
        for doel in iwt {
            if gezien.contains(doel) {
                continue;
            }
            let Some(m) = self.laatste_momentopname(doel) else { continue };
            gezien.extend(m.doelen.iter().map(String::as_str));
            match &m.expressie {
                Some(v) => {
                    let t = Tegensprekend { doel: doel.to_string(), laatst_bekend: m.gemaakt_op.clone() };
                    match kandidaten.iter_mut().find(|(k, _)| k == v) {
                        Some((_, l)) => l.push(t),
                        None => kandidaten.push((v.clone(), vec![t])),
                    }
                }
                None => {
                    onbekend += 1;
                    kandidaten.push((
                        format!("\u{0}{onbekend}"),
                        vec![Tegensprekend { doel: doel.to_string(), laatst_bekend: m.gemaakt_op.clone() }],
                    ));
                    for d in &m.doelen {
                        let mut r = NogTeVerwerken { doel: d.clone(), laatst_bekend: m.gemaakt_op.clone(), laatst_verwerkt: None };
                        if let Some(b) = self.instr.branch(d) {
                            for mm in b.momentopnamen.iter().rev() {
                                if mm.gemaakt_op < m.gemaakt_op && mm.bekend_op.as_str() <= self.bekend_op {
                                    if mm.teruggetrokken || mm.ingetrokken {
                                        break;
                                    }
                                    r.laatst_verwerkt = Some(mm.gemaakt_op.clone());
                                    if mm.expressie.is_none() {
                                        break;
                                    }
                                }
                            }
                        }
                        te_verwerken.push(r);
                    }
                }
            }
        }
        let mut tegensprekend = Vec::new();
        let mut instrumentversie = None;
        if kandidaten.len() > 1 {
            for (_, l) in &kandidaten {
                tegensprekend.extend(l.iter().cloned());
            }
        } else if onbekend == 0 {
            instrumentversie = kandidaten.first().map(|(k, _)| k.clone());
        }
        tegensprekend.sort_by(|a, b| a.doel.cmp(&b.doel));
        let alleen_onbekend = kandidaten.len() == 1 && onbekend > 0;

        let cumulatief = self.cumulatief_voor_toestand(iwt);
        let mut te_ontvlechten = Vec::new();
        // `basisversiedoelen` is sorted (it is built sorted); `iwt` is short.
        debug_assert!(basisversiedoelen.is_sorted());
        let in_toestand = |d: &str| basisversiedoelen.binary_search(&d).is_ok() || iwt.contains(&d);
        for doel in basisversiedoelen.iter().chain(iwt) {
            let laatst_bekend = self.laatste_momentopname(doel).map(|m| m.gemaakt_op.as_str()).unwrap_or("");
            let (te_laat, verwerkt) = match cumulatief.get(*doel) {
                None => (true, None),
                Some(v) if v.ontvlochten == Some(true) => (true, None),
                Some(v) if v.laatst_verwerkt.as_str() < laatst_bekend => (true, Some(v.laatst_verwerkt.clone())),
                Some(_) => (false, None),
            };
            if te_laat {
                te_verwerken.push(NogTeVerwerken {
                    doel: doel.to_string(),
                    laatst_bekend: laatst_bekend.to_string(),
                    laatst_verwerkt: verwerkt,
                });
                instrumentversie = None;
            }
        }
        for (doel, v) in cumulatief.iter() {
            if v.ontvlochten != Some(false) || in_toestand(doel) {
                continue;
            }
            match self.eerste_die_niet_meer_bijdraagt(doel) {
                Some(ntv) => te_verwerken.push(NogTeVerwerken {
                    doel: doel.clone(),
                    laatst_bekend: ntv.gemaakt_op.clone(),
                    laatst_verwerkt: Some(v.laatst_verwerkt.clone()),
                }),
                None => te_ontvlechten.push(NogTeOntvlechten { doel: doel.clone(), laatst_verwerkt: v.laatst_verwerkt.clone() }),
            }
            instrumentversie = None;
        }
        te_verwerken.sort_by(|a, b| a.doel.cmp(&b.doel));
        te_ontvlechten.sort_by(|a, b| a.doel.cmp(&b.doel));
        let status = if instrumentversie.is_some() {
            Status::Compleet
        } else if alleen_onbekend {
            Status::Onbekend
        } else {
            Status::Onvolledig
        };
        Inhoud {
            status,
            instrumentversie,
            te_verwerken,
            te_ontvlechten,
            tegensprekend,
        }
    }

    /// The actuele toestanden as known at bekendOp, for an exchange received on `ontvangen_op`.
    pub(crate) fn actuele_toestanden(&self, gemaakt_op: &str, ontvangen_op: &str) -> ActueleToestanden {
        struct T<'a> {
            jwv: &'a str,
            iwt: Vec<&'a str>,
            basis: Vec<&'a str>,
        }
        let mut toestanden: Vec<T> = Vec::new();
        let mut voorgaande: Vec<&str> = Vec::new();
        let mut iwt: Vec<&str> = Vec::new();
        let mut laatste_jwv: Option<&str> = None;
        let mut jwv_start: Option<&str> = None;
        let tijdstempels = self.tijdstempel_momentopnamen();
        for &(doel, jwv, _) in &tijdstempels {
            if jwv <= ontvangen_op {
                jwv_start = Some(jwv);
            }
            if let Some(l) = laatste_jwv
                && l < jwv
            {
                let mut doelen = std::mem::take(&mut iwt);
                doelen.sort();
                toestanden.push(T { jwv: l, iwt: doelen.clone(), basis: voorgaande.clone() });
                voorgaande.extend(doelen);
                voorgaande.sort();
                laatste_jwv = None;
            }
            if laatste_jwv.is_none() {
                laatste_jwv = Some(jwv);
            }
            iwt.push(doel);
        }
        if let Some(l) = laatste_jwv {
            iwt.sort();
            toestanden.push(T { jwv: l, iwt, basis: voorgaande });
        }
        let uitgewerkt = self.juridisch_uitgewerkt_op();
        let uitgewerkt_op = uitgewerkt.as_ref().map(|(d, _)| d.to_string());
        let intrekkingen = self.intrekkingstijdstempels();
        let mut tot = uitgewerkt_op.clone();
        let mut tots = vec![None; toestanden.len()];
        for (i, t) in toestanden.iter().enumerate().rev() {
            tots[i] = tot.clone();
            if tot.as_ref().is_none_or(|x| t.jwv < x.as_str()) {
                tot = Some(t.jwv.to_string());
            }
        }
        let mut niet_meer_actueel = true;
        let out = toestanden
            .into_iter()
            .zip(tots)
            .map(|(t, tot)| {
                if niet_meer_actueel && jwv_start.is_none_or(|s| t.jwv >= s) {
                    niet_meer_actueel = false;
                }
                let actueel = !niet_meer_actueel;
                let mut inhoud = self.inhoud(&t.iwt, &t.basis);
                if let Some(u) = &uitgewerkt_op
                    && t.jwv >= u.as_str()
                {
                    let extra = intrekkingen
                        .iter()
                        .filter(|(_, _, jwv)| jwv.as_str() <= t.jwv)
                        .map(|(d, g, _)| Tegensprekend { doel: d.clone(), laatst_bekend: g.clone() });
                    inhoud.tegensprekend.extend(extra);
                    inhoud.tegensprekend.sort_by(|a, b| a.doel.cmp(&b.doel));
                    inhoud.instrumentversie = None;
                    inhoud.status = Status::Onvolledig;
                }
                ActueleToestand {
                    juridisch_werkend_vanaf: t.jwv.to_string(),
                    juridisch_werkend_tot: tot,
                    inwerkingtredingsdoelen: t.iwt.iter().map(|d| d.to_string()).collect(),
                    inhoud,
                    actueel,
                }
            })
            .collect();
        ActueleToestanden {
            gemaakt_op: gemaakt_op.to_string(),
            ontvangen_op: ontvangen_op.to_string(),
            bekend_op: self.bekend_op.to_string(),
            materieel_uitgewerkt_op: self.instr.materieel_uitgewerkt.clone(),
            juridisch_uitgewerkt_op: uitgewerkt_op,
            toestanden: out,
        }
    }

    /// The complete toestanden as known at bekendOp, in order of creation (sorted by
    /// juridischWerkendVanaf, then geldigVanaf; the repeal, if any, last).
    pub(crate) fn complete_toestanden(&self) -> Vec<CompleteToestand> {
        struct T<'a> {
            jwv: &'a str,
            gv: &'a str,
            iwt: Vec<&'a str>,
            basis: Vec<&'a str>,
            niet_in_werking: bool,
        }
        fn basis_van<'a>(t: &T<'a>) -> Vec<&'a str> {
            let mut b: Vec<&str> = t.basis.iter().chain(&t.iwt).copied().collect();
            b.sort();
            b
        }
        // `nu`: every toestand made; `geldend`: indexes into `nu` of the toestanden that apply
        // at the current jwv, ordered by gv; `vg`: index in `geldend` of the previous one.
        let mut nu: Vec<T> = Vec::new();
        let mut geldend: Vec<usize> = Vec::new();
        let mut vg: isize = -1;

        fn tussenliggend(nu: &mut Vec<T<'_>>, geldend: &mut [usize], gv_volgend: Option<&str>, mut vg: isize) -> isize {
            while vg < geldend.len() as isize - 1
                && gv_volgend.is_none_or(|g| nu[geldend[(vg + 1) as usize]].gv < g)
            {
                let voorg = &nu[geldend[vg as usize]];
                let volg = &nu[geldend[(vg + 1) as usize]];
                let t = T {
                    jwv: voorg.jwv,
                    gv: volg.gv,
                    iwt: voorg.iwt.clone(),
                    basis: basis_van(volg),
                    niet_in_werking: false,
                };
                nu.push(t);
                vg += 1;
                geldend[vg as usize] = nu.len() - 1;
            }
            vg
        }

        let uitgewerkt = self.juridisch_uitgewerkt_op();
        for (doel, jwv, gv) in self.tijdstempel_momentopnamen() {
            if let Some((u, _)) = &uitgewerkt
                && jwv >= *u
            {
                break;
            }
            let mut zelfde: Option<usize> = None;
            if vg >= 0 && (vg as usize) < geldend.len() {
                if jwv != nu[geldend[vg as usize]].jwv {
                    tussenliggend(&mut nu, &mut geldend, None, vg);
                } else {
                    vg = tussenliggend(&mut nu, &mut geldend, Some(gv), vg);
                    let z = geldend[vg as usize];
                    zelfde = Some(z);
                    if gv == nu[z].gv {
                        nu[z].iwt.push(doel);
                        continue;
                    }
                }
            }
            let mut t = T { jwv, gv, iwt: vec![doel], basis: Vec::new(), niet_in_werking: false };
            match zelfde {
                None => {
                    vg = geldend.len() as isize - 1;
                    while vg >= 0 && nu[geldend[vg as usize]].gv > gv {
                        vg -= 1;
                    }
                    if vg >= 0 {
                        let v = geldend[vg as usize];
                        t.basis = basis_van(&nu[v]);
                        let vervang = nu[v].gv == gv;
                        nu.push(t);
                        if vervang {
                            geldend[vg as usize] = nu.len() - 1;
                        } else {
                            vg += 1;
                            geldend.insert(vg as usize, nu.len() - 1);
                        }
                    } else {
                        nu.push(t);
                        vg = 0;
                        geldend.insert(0, nu.len() - 1);
                    }
                }
                Some(z) => {
                    t.iwt.extend(nu[z].iwt.iter().copied());
                    let v = geldend[vg as usize];
                    if nu[v].gv == gv {
                        t.basis = basis_van(&nu[v]);
                        nu.push(t);
                        geldend[vg as usize] = nu.len() - 1;
                    } else {
                        t.basis = nu[z].basis.clone();
                        nu.push(t);
                        vg += 1;
                        geldend.insert(vg as usize, nu.len() - 1);
                    }
                }
            }
        }
        if vg >= 0 && (vg as usize) < geldend.len() {
            tussenliggend(&mut nu, &mut geldend, None, vg);
        }
        if let Some((u, doelen)) = &uitgewerkt {
            nu.push(T { jwv: u, gv: u, iwt: doelen.clone(), basis: Vec::new(), niet_in_werking: true });
        }
        nu.into_iter()
            .map(|mut t| {
                t.iwt.sort();
                let inhoud = if t.niet_in_werking { Inhoud::niet_in_werking() } else { self.inhoud(&t.iwt, &t.basis) };
                CompleteToestand {
                    juridisch_werkend_vanaf: t.jwv.to_string(),
                    geldig_vanaf: t.gv.to_string(),
                    inwerkingtredingsdoelen: t.iwt.iter().map(|d| d.to_string()).collect(),
                    inhoud,
                }
            })
            .collect()
    }
}
