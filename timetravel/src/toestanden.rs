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
//!
//! **Incremental.** The content of a toestand is a function of its inwerkingtredingsdoelen
//! (`iwt`), the doelen that should be in it already (the *basis*: those of the toestanden
//! before it), and what is known at the bekendOp about the branches of the doelen involved
//! (`iwt`, basis, and the doelen in the version's cumulative contributions). A determination
//! remembers (in [`Geheugen`], kept with the instrument) a signature of every branch and the
//! content of every toestand it determined; the next determination reuses a content when none
//! of the branches involved changed signature, so an exchange re-examines only the toestanden
//! it can change. Basis sets are hash-consed chains (a basis is the previous toestand's basis
//! plus that toestand's doelen), so identifying one costs O(its new doelen), not O(its size).

use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

use rustc_hash::{FxHashMap, FxHasher};
use smallvec::SmallVec;

use serde::{Deserialize, Serialize};

use crate::tijd::{Datum, Tijdstip};
use crate::versiebeheer::{Bijdrage, Cumulatief, Instrument, Momentopname, TijdstempelMoment, bijdrage, voeg_basis_toe};

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
    /// Shared between the actuele toestanden of successive exchanges while it stays the same.
    pub inhoud: Arc<Inhoud>,
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


/// The content of a toestand in the engine's terms: doelen as branch indices, the version as
/// its index, moments as [`Tijdstip`]s. The lists are in the order of the output (by doel).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct InhoudC {
    pub status: Status,
    pub versie: Option<u32>,
    /// (doel, laatstBekend (`None`: ""), laatstVerwerkt)
    pub te_verwerken: Vec<(u32, Option<Tijdstip>, Option<Tijdstip>)>,
    pub te_ontvlechten: Vec<(u32, Tijdstip)>,
    pub tegensprekend: Vec<(u32, Tijdstip)>,
}

impl InhoudC {
    pub const NIET_IN_WERKING: InhoudC = InhoudC {
        status: Status::NietInWerking,
        versie: None,
        te_verwerken: Vec::new(),
        te_ontvlechten: Vec::new(),
        tegensprekend: Vec::new(),
    };

    /// The content as the output states it.
    pub fn inhoud(&self, instr: &Instrument) -> Inhoud {
        Inhoud {
            status: self.status,
            instrumentversie: self.versie.map(|v| instr.expressie_van(v).to_string()),
            te_verwerken: self
                .te_verwerken
                .iter()
                .map(|&(d, b, v)| NogTeVerwerken {
                    doel: instr.doel(d).to_string(),
                    laatst_bekend: b.map(Tijdstip::tekst).unwrap_or_default(),
                    laatst_verwerkt: v.map(Tijdstip::tekst),
                })
                .collect(),
            te_ontvlechten: self
                .te_ontvlechten
                .iter()
                .map(|&(d, v)| NogTeOntvlechten { doel: instr.doel(d).to_string(), laatst_verwerkt: v.tekst() })
                .collect(),
            tegensprekend: self
                .tegensprekend
                .iter()
                .map(|&(d, b)| Tegensprekend { doel: instr.doel(d).to_string(), laatst_bekend: b.tekst() })
                .collect(),
        }
    }

    /// The engine's form of an output content (`None` if it names a doel or version the
    /// instrument does not have).
    pub fn van(i: &Inhoud, instr: &Instrument) -> Option<InhoudC> {
        let doel = |d: &str| instr.branch_index(d).map(|i| i as u32);
        let moment = |s: &str| Tijdstip::parse(s);
        Some(InhoudC {
            status: i.status,
            versie: match &i.instrumentversie {
                Some(v) => Some(instr.expressie_index(v)?),
                None => None,
            },
            te_verwerken: i
                .te_verwerken
                .iter()
                .map(|t| {
                    let b = if t.laatst_bekend.is_empty() { None } else { Some(moment(&t.laatst_bekend)?) };
                    let v = match &t.laatst_verwerkt {
                        Some(v) => Some(moment(v)?),
                        None => None,
                    };
                    Some((doel(&t.doel)?, b, v))
                })
                .collect::<Option<_>>()?,
            te_ontvlechten: i.te_ontvlechten.iter().map(|t| Some((doel(&t.doel)?, moment(&t.laatst_verwerkt)?))).collect::<Option<_>>()?,
            tegensprekend: i.tegensprekend.iter().map(|t| Some((doel(&t.doel)?, moment(&t.laatst_bekend)?))).collect::<Option<_>>()?,
        })
    }
}

/// Inwerkingtredingsdoelen (branch indices); mostly one.
pub(crate) type Iwt = SmallVec<[u32; 2]>;

/// One complete toestand in the engine's terms, as a determination gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ToestandC {
    pub jwv: Datum,
    pub gv: Datum,
    /// Sorted by doel.
    pub iwt: Iwt,
    /// Index into the determination's contents, or [`NIET_IN_WERKING`].
    pub inhoud: u32,
}

/// [`ToestandC::inhoud`] of the toestand of a repeal.
pub(crate) const NIET_IN_WERKING: u32 = u32::MAX;

const GEEN: u32 = u32::MAX;

/// What is known about one branch at one bekendOp, as far as contents depend on it: two
/// determinations that give a branch the same signature see the same branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Kenmerk {
    momentopnamen: u32,
    /// Momentopnamen known at bekendOp (they are known in order).
    zichtbaar: u32,
    cumulatief: bool,
    tijdstempels: u32,
    /// 1 + index of the doel's tijdstempels known at bekendOp (0: none).
    tijdstempel: u32,
    laatste_tijdstempel: Option<TijdstempelMoment>,
}

/// Lookups in a small table are linear scans over the stored hashes; from this size on a
/// hash index is kept.
const KLEIN: usize = 16;

/// A chained hash index over the entries of a table (entry `i` has hash `hashes[i]`).
#[derive(Clone, Debug, Default)]
struct Index {
    hashes: Vec<u64>,
    /// The next entry with the same hash (only with `eerste`).
    volgende: Vec<u32>,
    eerste: FxHashMap<u64, u32>,
}

impl Index {
    fn leeg(&mut self) {
        self.hashes.clear();
        self.volgende.clear();
        self.eerste.clear();
    }

    fn met_ruimte(n: usize) -> Index {
        let groot = n >= KLEIN;
        Index {
            hashes: Vec::with_capacity(n),
            volgende: Vec::with_capacity(if groot { n } else { 0 }),
            eerste: if groot { FxHashMap::with_capacity_and_hasher(n, Default::default()) } else { FxHashMap::default() },
        }
    }

    fn voeg_toe(&mut self, h: u64) {
        let i = self.hashes.len() as u32;
        self.hashes.push(h);
        if self.hashes.len() == KLEIN {
            for (j, &x) in self.hashes.iter().enumerate() {
                self.volgende.push(self.eerste.insert(x, j as u32).unwrap_or(GEEN));
            }
        } else if self.hashes.len() > KLEIN {
            self.volgende.push(self.eerste.insert(h, i).unwrap_or(GEEN));
        }
    }

    /// The first entry with hash `h` for which `past` holds.
    fn zoek(&self, h: u64, mut past: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.hashes.len() < KLEIN {
            return (0..self.hashes.len() as u32).find(|&i| self.hashes[i as usize] == h && past(i));
        }
        let mut i = *self.eerste.get(&h)?;
        while i != GEEN {
            if past(i) {
                return Some(i);
            }
            i = self.volgende[i as usize];
        }
        None
    }
}

/// One node of [`Knopen`].
#[derive(Clone, Copy, Debug)]
struct Knoop {
    ouder: u32,
    start: u32,
    lengte: u32,
    /// The node with the same chain in the previous determination's table (`GEEN`: none).
    oud: u32,
}

/// Hash-consed basis sets: node `id` (from 1) = the set of its `ouder` plus its doelen (a
/// multiset: a basis can name a doel twice). Node 0 is the empty set.
#[derive(Clone, Debug, Default)]
struct Knopen {
    knopen: Vec<Knoop>,
    doelen: Vec<u32>,
    index: Index,
    /// The counterpart of node 0 in the previous determination (`GEEN` when there is none).
    oud_nul: u32,
}

fn knoop_hash(ouder: u32, extra: &[u32]) -> u64 {
    let mut h = FxHasher::default();
    ouder.hash(&mut h);
    extra.hash(&mut h);
    h.finish()
}

impl Knopen {
    fn leeg(&mut self) {
        self.knopen.clear();
        self.doelen.clear();
        self.index.leeg();
        self.oud_nul = GEEN;
    }

    /// An empty table with room for as much as `zo` holds.
    fn met_ruimte(zo: &Knopen) -> Knopen {
        Knopen {
            knopen: Vec::with_capacity(zo.knopen.len()),
            doelen: Vec::with_capacity(zo.doelen.len()),
            index: Index::met_ruimte(zo.knopen.len()),
            oud_nul: GEEN,
        }
    }

    fn knoop_van(&self, id: u32) -> &Knoop {
        &self.knopen[id as usize - 1]
    }

    fn extra(&self, id: u32) -> &[u32] {
        let k = self.knoop_van(id);
        &self.doelen[k.start as usize..(k.start + k.lengte) as usize]
    }

    fn oud(&self, id: u32) -> u32 {
        if id == 0 { self.oud_nul } else { self.knoop_van(id).oud }
    }

    fn zoek(&self, ouder: u32, extra: &[u32], h: u64) -> Option<u32> {
        self.index.zoek(h, |i| self.knopen[i as usize].ouder == ouder && self.extra(i + 1) == extra).map(|i| i + 1)
    }

    /// The node for (`ouder` + `extra`), made if new with `oud` as its counterpart.
    fn knoop(&mut self, ouder: u32, extra: &[u32], oud: impl FnOnce() -> u32) -> u32 {
        if extra.is_empty() {
            return ouder;
        }
        let h = knoop_hash(ouder, extra);
        if let Some(id) = self.zoek(ouder, extra, h) {
            return id;
        }
        let k = Knoop { ouder, start: self.doelen.len() as u32, lengte: extra.len() as u32, oud: oud() };
        self.doelen.extend_from_slice(extra);
        self.knopen.push(k);
        self.index.voeg_toe(h);
        self.knopen.len() as u32
    }

    /// Every doel of a node's set, sorted by branch index.
    fn verzameling(&self, mut id: u32) -> Vec<u32> {
        let mut uit = Vec::new();
        while id != 0 {
            uit.extend_from_slice(self.extra(id));
            id = self.knoop_van(id).ouder;
        }
        uit.sort_unstable();
        uit
    }
}

/// A remembered content: shared with the time-travel index, with its hash and (once asked
/// for) its output form, so reusing it costs neither a comparison nor new strings.
#[derive(Clone, Debug)]
pub(crate) struct Regel {
    pub inhoud: Arc<InhoudC>,
    pub hash: u64,
    uit: Option<Arc<Inhoud>>,
}

impl Regel {
    pub(crate) fn new(inhoud: InhoudC) -> Regel {
        let mut h = FxHasher::default();
        inhoud.hash(&mut h);
        Regel { inhoud: Arc::new(inhoud), hash: h.finish(), uit: None }
    }

    /// The output form of the content.
    fn uit(&mut self, instr: &Instrument) -> Arc<Inhoud> {
        self.uit.get_or_insert_with(|| Arc::new(self.inhoud.inhoud(instr))).clone()
    }
}

/// The content of a repeal's toestand.
pub(crate) static NIET_IN_WERKING_REGEL: LazyLock<Regel> = LazyLock::new(|| Regel::new(InhoudC::NIET_IN_WERKING));

/// Remembered contents, by (inwerkingtredingsdoelen, basis node).
#[derive(Clone, Debug, Default)]
struct Inhouden {
    /// Per content: (start in `iwt`, number of doelen, basis node).
    sleutels: Vec<(u32, u32, u32)>,
    inhoud: Vec<Regel>,
    iwt: Vec<u32>,
    index: Index,
}

fn inhoud_hash(iwt: &[u32], basis: u32) -> u64 {
    let mut h = FxHasher::default();
    iwt.hash(&mut h);
    basis.hash(&mut h);
    h.finish()
}

impl Inhouden {
    fn leeg(&mut self) {
        self.sleutels.clear();
        self.inhoud.clear();
        self.iwt.clear();
        self.index.leeg();
    }

    /// An empty table with room for as much as `zo` holds.
    fn met_ruimte(zo: &Inhouden) -> Inhouden {
        Inhouden {
            sleutels: Vec::with_capacity(zo.sleutels.len()),
            inhoud: Vec::with_capacity(zo.inhoud.len()),
            iwt: Vec::with_capacity(zo.iwt.len()),
            index: Index::met_ruimte(zo.inhoud.len()),
        }
    }

    fn zoek(&self, iwt: &[u32], basis: u32, h: u64) -> Option<u32> {
        self.index.zoek(h, |i| {
            let (s, n, b) = self.sleutels[i as usize];
            b == basis && &self.iwt[s as usize..(s + n) as usize] == iwt
        })
    }

    fn voeg_toe(&mut self, iwt: &[u32], basis: u32, h: u64, inhoud: Regel) -> u32 {
        let i = self.inhoud.len() as u32;
        self.sleutels.push((self.iwt.len() as u32, iwt.len() as u32, basis));
        self.iwt.extend_from_slice(iwt);
        self.inhoud.push(inhoud);
        self.index.voeg_toe(h);
        i
    }
}

/// What a determination of toestanden leaves for the next one of the same instrument.
#[derive(Clone, Debug, Default)]
pub(crate) struct Geheugen {
    kenmerken: Vec<Kenmerk>,
    knopen: Knopen,
    inhouden: Inhouden,
    /// The emptied tables of the determination before, for the next one to fill (fewer
    /// allocations).
    vrij: (Vec<Kenmerk>, Knopen, Inhouden),
}

/// A set of small numbers (branches, nodes); the first 64 without allocating.
#[derive(Clone, Debug, Default)]
struct Bits {
    klein: u64,
    groot: Vec<u64>,
}

impl Bits {
    fn zet(&mut self, i: usize) {
        if i < 64 {
            self.klein |= 1 << i;
        } else {
            let w = i / 64 - 1;
            if self.groot.len() <= w {
                self.groot.resize(w + 1, 0);
            }
            self.groot[w] |= 1 << (i % 64);
        }
    }

    fn heeft(&self, i: usize) -> bool {
        if i < 64 { self.klein >> i & 1 == 1 } else { self.groot.get(i / 64 - 1).is_some_and(|w| w >> (i % 64) & 1 == 1) }
    }
}

/// Above this many changed branches a determination starts afresh (checking each remembered
/// content against them would cost more than determining it).
const MAX_GEWIJZIGD: usize = 64;

/// The determination of toestanden for one instrument at one bekendOp.
pub(crate) struct Bepaling<'a> {
    pub(crate) instr: &'a Instrument,
    bekend_op: Datum,
    /// Per branch (same order as `instr.branches`): its latest tijdstempels and its current
    /// momentopname, both as known at bekendOp (looked up once instead of per question).
    takken: Vec<Tak<'a>>,
    /// Branches of the initial doelen.
    kenmerken: Vec<Kenmerk>,
    /// The previous determination, and what changed since.
    vorig: Geheugen,
    hergebruik: bool,
    gewijzigd: Bits,
    gewijzigd_lijst: SmallVec<[u32; 8]>,
    /// Per node of the previous determination: its set contains a changed doel.
    vuil: Bits,
    knopen: Knopen,
    inhouden: Inhouden,
}

/// One branch as known at the bekendOp of a [`Bepaling`].
struct Tak<'a> {
    tijdstempel: Option<&'a TijdstempelMoment>,
    /// Every tijdstempel state of the doel.
    lijst: &'a [TijdstempelMoment],
    /// The branch's current momentopname, if known at bekendOp. As in the reference, only
    /// the branch's last momentopname is considered: a branch whose last change is not yet
    /// known at bekendOp does not take part.
    laatste: Option<&'a Momentopname>,
}

/// A candidate version of a toestand (`None`: an explicitly unknown one) with the doelen that
/// have it and their gemaaktOp.
type Kandidaat = (Option<u32>, SmallVec<[(u32, Tijdstip); 2]>);

/// One actuele toestand before its content is determined.
struct Actueel {
    jwv: Datum,
    iwt: Iwt,
    basis: u32,
}

impl<'a> Bepaling<'a> {
    pub(crate) fn new(
        instr: &'a Instrument,
        tijdstempels: &'a FxHashMap<String, Vec<TijdstempelMoment>>,
        bekend_op: Datum,
        mut vorig: Geheugen,
    ) -> Bepaling<'a> {
        let n = instr.branches.len();
        let mut takken = Vec::with_capacity(n);
        let (mut kenmerken, vrije_knopen, vrije_inhouden) = std::mem::take(&mut vorig.vrij);
        kenmerken.reserve(n);
        for b in &instr.branches {
            let lijst: &[TijdstempelMoment] = tijdstempels.get(&b.doel).map(Vec::as_slice).unwrap_or(&[]);
            let positie = lijst.iter().rposition(|t| t.bekend_op <= bekend_op);
            let laatste = b.momentopnamen.last();
            takken.push(Tak {
                tijdstempel: positie.map(|p| &lijst[p]),
                lijst,
                laatste: laatste.filter(|m| m.bekend_op <= bekend_op),
            });
            kenmerken.push(Kenmerk {
                momentopnamen: b.momentopnamen.len() as u32,
                zichtbaar: b.momentopnamen.iter().filter(|m| m.bekend_op <= bekend_op).count() as u32,
                cumulatief: laatste.is_some_and(|m| m.cumulatief.is_some()),
                tijdstempels: lijst.len() as u32,
                tijdstempel: positie.map_or(0, |p| p as u32 + 1),
                laatste_tijdstempel: lijst.last().copied(),
            });
        }
        let mut gewijzigd = Bits::default();
        let mut gewijzigd_lijst = SmallVec::new();
        let mut hergebruik = !vorig.kenmerken.is_empty() && vorig.kenmerken.len() <= n;
        if hergebruik {
            for (i, k) in kenmerken.iter().enumerate() {
                if vorig.kenmerken.get(i) != Some(k) {
                    gewijzigd.zet(i);
                    gewijzigd_lijst.push(i as u32);
                    if gewijzigd_lijst.len() > MAX_GEWIJZIGD {
                        hergebruik = false;
                        break;
                    }
                }
            }
        }
        // vuil[id]: node `id` of the previous table contains a changed doel (parents come
        // before their children).
        let mut vuil = Bits::default();
        if hergebruik && !gewijzigd_lijst.is_empty() {
            let k = &vorig.knopen;
            for id in 1..=k.knopen.len() as u32 {
                if vuil.heeft(k.knoop_van(id).ouder as usize) || k.extra(id).iter().any(|&d| gewijzigd.heeft(d as usize)) {
                    vuil.zet(id as usize);
                }
            }
        }
        let mut knopen = if vrije_knopen.index.hashes.capacity() > 0 { vrije_knopen } else { Knopen::met_ruimte(&vorig.knopen) };
        knopen.oud_nul = if hergebruik { 0 } else { GEEN };
        let inhouden = if vrije_inhouden.index.hashes.capacity() > 0 { vrije_inhouden } else { Inhouden::met_ruimte(&vorig.inhouden) };
        Bepaling {
            instr,
            bekend_op,
            takken,
            kenmerken,
            vorig,
            hergebruik,
            gewijzigd,
            gewijzigd_lijst,
            vuil,
            knopen,
            inhouden,
        }
    }

    /// What this determination leaves for the next one.
    pub(crate) fn geheugen(self) -> Geheugen {
        let Geheugen { mut kenmerken, mut knopen, mut inhouden, .. } = self.vorig;
        kenmerken.clear();
        knopen.leeg();
        inhouden.leeg();
        Geheugen { kenmerken: self.kenmerken, knopen: self.knopen, inhouden: self.inhouden, vrij: (kenmerken, knopen, inhouden) }
    }

    /// The content with number `i` (from [`ToestandC::inhoud`]).
    pub(crate) fn inhoud_nr(&self, i: u32) -> &Regel {
        if i == NIET_IN_WERKING { &NIET_IN_WERKING_REGEL } else { &self.inhouden.inhoud[i as usize] }
    }

    /// The basis node `ouder` + `extra` (extra sorted by branch index).
    fn basis(&mut self, ouder: u32, extra: &[u32]) -> u32 {
        let (vorig, hergebruik) = (&self.vorig.knopen, self.hergebruik);
        let oud_ouder = self.knopen.oud(ouder);
        self.knopen.knoop(ouder, extra, || {
            if !hergebruik || oud_ouder == GEEN {
                return GEEN;
            }
            vorig.zoek(oud_ouder, extra, knoop_hash(oud_ouder, extra)).unwrap_or(GEEN)
        })
    }

    /// (doel, jwv, gv-or-jwv) for every doel that leads to a toestand, sorted by (jwv, gv).
    fn tijdstempel_momentopnamen(&self) -> Vec<(u32, Datum, Datum)> {
        let mut out = Vec::with_capacity(self.takken.len());
        let mut initieel_in_werking = false;
        for (i, tak) in self.takken.iter().enumerate() {
            let Some(ts) = tak.tijdstempel else { continue };
            let Some(jwv) = ts.juridisch_werkend_vanaf else { continue };
            if let Some(m) = tak.laatste
                && !m.ingetrokken
                && !m.teruggetrokken
            {
                out.push((i as u32, jwv, ts.geldig_vanaf.unwrap_or(jwv)));
                if !initieel_in_werking && self.instr.initiele_doelen.as_ref().is_some_and(|d| d.contains(&self.instr.branches[i].doel)) {
                    initieel_in_werking = true;
                }
            }
        }
        if !initieel_in_werking {
            return Vec::new();
        }
        out.sort_by_key(|a| (a.1, a.2));
        out
    }

    /// Every branch whose current momentopname repeals the instrument and that has a
    /// juridischWerkendVanaf: (doel, gemaaktOp of the intrekking, jwv).
    fn intrekkingen(&self) -> impl Iterator<Item = (u32, Tijdstip, Datum)> + '_ {
        self.takken.iter().enumerate().filter_map(move |(i, tak)| {
            let jwv = tak.tijdstempel?.juridisch_werkend_vanaf?;
            let m = tak.laatste.filter(|m| m.ingetrokken)?;
            Some((i as u32, m.gemaakt_op, jwv))
        })
    }

    /// Sort doelen (branch indices) by their strings.
    fn sorteer(&self, doelen: &mut [u32]) {
        if doelen.len() > 1 {
            doelen.sort_by(|a, b| self.instr.doel(*a).cmp(self.instr.doel(*b)));
        }
    }

    /// The first date the instrument is repealed, with the doelen that repeal it on that date.
    fn juridisch_uitgewerkt_op(&self) -> Option<(Datum, Vec<u32>)> {
        let mut res: Option<(Datum, Vec<u32>)> = None;
        for (doel, _, jwv) in self.intrekkingen() {
            match &mut res {
                Some((d, doelen)) if jwv == *d => doelen.push(doel),
                Some((d, _)) if jwv > *d => {}
                _ => res = Some((jwv, vec![doel])),
            }
        }
        if let Some((_, d)) = &mut res {
            self.sorteer(d);
        }
        res
    }

    /// The latest momentopname of a doel that contributes to toestanden.
    fn laatste_momentopname(&self, doel: u32) -> Option<&'a Momentopname> {
        let tak = &self.takken[doel as usize];
        tak.tijdstempel?.juridisch_werkend_vanaf.as_ref()?;
        tak.laatste.filter(|m| !m.ingetrokken && !m.teruggetrokken)
    }

    /// For a branch that once contributed and no longer does: the first momentopname after its
    /// last contribution, if tijdstempels made that contribution count.
    fn eerste_die_niet_meer_bijdraagt(&self, doel: u32) -> Option<&'a Momentopname> {
        let branch = self.instr.branches.get(doel as usize)?;
        let mut laatste_bijdrage = None;
        let mut eerste_niet = None;
        for m in branch.momentopnamen.iter().rev().filter(|m| m.bekend_op <= self.bekend_op) {
            if m.ingetrokken || m.teruggetrokken {
                eerste_niet = Some(m);
            } else {
                laatste_bijdrage = Some(m);
                break;
            }
        }
        let (Some(_), Some(niet)) = (laatste_bijdrage, eerste_niet) else { return None };
        let lijst = self.takken[doel as usize].lijst;
        lijst
            .iter()
            .rev()
            .any(|t| t.bekend_op <= niet.bekend_op && t.gemaakt_op < niet.gemaakt_op && t.juridisch_werkend_vanaf.is_some())
            .then_some(niet)
    }

    /// The cumulative contributions of the last momentopname of a doel.
    fn cumulatief_van(&self, doel: u32) -> Option<&'a Cumulatief> {
        self.instr.branches.get(doel as usize)?.momentopnamen.last()?.cumulatief.as_deref()
    }

    /// The cumulative contributions for a toestand: those of the latest momentopname of each
    /// inwerkingtredingsdoel, merged.
    fn cumulatief_voor_toestand(&self, iwt: &[u32]) -> std::borrow::Cow<'a, [(u32, Bijdrage)]> {
        // One inwerkingtredingsdoel (the usual case): its momentopname's map as it is.
        if let [doel] = iwt
            && let Some(c) = self.cumulatief_van(*doel)
        {
            return std::borrow::Cow::Borrowed(c.as_slice());
        }
        let mut acc: Cumulatief = Vec::new();
        for &doel in iwt {
            if let Some(c) = self.cumulatief_van(doel) {
                voeg_basis_toe(&mut acc, c);
            }
        }
        std::borrow::Cow::Owned(acc)
    }

    /// Whether nothing a content with these inwerkingtredingsdoelen depends on (apart from its
    /// basis) changed since the previous determination.
    fn ongewijzigd(&self, iwt: &[u32]) -> bool {
        if self.gewijzigd_lijst.is_empty() {
            return true;
        }
        for &d in iwt {
            if self.gewijzigd.heeft(d as usize) {
                return false;
            }
            if let Some(m) = self.instr.branches[d as usize].momentopnamen.last() {
                // The doelen of the version are in its cumulative contributions (when it has
                // them), and so are the doelen whose branches the content looks at.
                let hangt_af = match &m.cumulatief {
                    Some(c) => self.gewijzigd_lijst.iter().any(|&g| bijdrage(c, g).is_some()),
                    None => m.doelen.iter().any(|&x| self.gewijzigd.heeft(x as usize)),
                };
                if hangt_af {
                    return false;
                }
            }
        }
        true
    }

    /// The content of a toestand with these inwerkingtredingsdoelen (sorted by doel) and
    /// basis: remembered from this determination, reused from the previous one when nothing
    /// it depends on changed, or determined. Returns its number.
    fn inhoud(&mut self, iwt: &[u32], basis: u32) -> u32 {
        let h = inhoud_hash(iwt, basis);
        if let Some(i) = self.inhouden.zoek(iwt, basis, h) {
            return i;
        }
        if self.hergebruik {
            let oud = self.knopen.oud(basis);
            if oud != GEEN && !self.vuil.heeft(oud as usize) && self.ongewijzigd(iwt) {
                let v = &self.vorig.inhouden;
                if let Some(j) = v.zoek(iwt, oud, inhoud_hash(iwt, oud)) {
                    let inhoud = v.inhoud[j as usize].clone();
                    return self.inhouden.voeg_toe(iwt, basis, h, inhoud);
                }
            }
        }
        let doelen = self.knopen.verzameling(basis);
        let inhoud = self.bepaal_inhoud(iwt, &doelen);
        self.inhouden.voeg_toe(iwt, basis, h, Regel::new(inhoud))
    }

    /// Determine the content of a toestand: `iwt` sorted by doel, `basisversiedoelen` by
    /// branch index.
    fn bepaal_inhoud(&self, iwt: &[u32], basisversiedoelen: &[u32]) -> InhoudC {
        // (version, or None for an explicitly unknown one; the doelen that have it)
        let mut kandidaten: SmallVec<[Kandidaat; 2]> = SmallVec::new();
        let mut onbekend = 0usize;
        let mut gezien: SmallVec<[u32; 4]> = SmallVec::new();
        let mut te_verwerken: Vec<(u32, Option<Tijdstip>, Option<Tijdstip>)> = Vec::new();
        for &doel in iwt {
            if gezien.contains(&doel) {
                continue;
            }
            let Some(m) = self.laatste_momentopname(doel) else { continue };
            gezien.extend_from_slice(&m.doelen);
            match m.expressie {
                Some(v) => match kandidaten.iter_mut().find(|(k, _)| *k == Some(v)) {
                    Some((_, l)) => l.push((doel, m.gemaakt_op)),
                    None => kandidaten.push((Some(v), smallvec::smallvec![(doel, m.gemaakt_op)])),
                },
                None => {
                    onbekend += 1;
                    kandidaten.push((None, smallvec::smallvec![(doel, m.gemaakt_op)]));
                    for &d in &m.doelen {
                        let mut verwerkt = None;
                        if let Some(b) = self.instr.branches.get(d as usize) {
                            for mm in b.momentopnamen.iter().rev() {
                                if mm.gemaakt_op < m.gemaakt_op && mm.bekend_op <= self.bekend_op {
                                    if mm.teruggetrokken || mm.ingetrokken {
                                        break;
                                    }
                                    verwerkt = Some(mm.gemaakt_op);
                                    if mm.expressie.is_none() {
                                        break;
                                    }
                                }
                            }
                        }
                        te_verwerken.push((d, Some(m.gemaakt_op), verwerkt));
                    }
                }
            }
        }
        let mut tegensprekend = Vec::new();
        let mut versie = None;
        if kandidaten.len() > 1 {
            for (_, l) in &kandidaten {
                tegensprekend.extend_from_slice(l);
            }
        } else if onbekend == 0 {
            versie = kandidaten.first().and_then(|(k, _)| *k);
        }
        let doel = |d: u32| self.instr.doel(d);
        tegensprekend.sort_by(|a: &(u32, Tijdstip), b| doel(a.0).cmp(doel(b.0)));
        let alleen_onbekend = kandidaten.len() == 1 && onbekend > 0;

        let cumulatief = self.cumulatief_voor_toestand(iwt);
        let mut te_ontvlechten = Vec::new();
        debug_assert!(basisversiedoelen.is_sorted());
        let in_toestand = |d: u32| basisversiedoelen.binary_search(&d).is_ok() || iwt.contains(&d);
        for &d in basisversiedoelen.iter().chain(iwt) {
            let laatst_bekend = self.laatste_momentopname(d).map(|m| m.gemaakt_op);
            let (te_laat, verwerkt) = match bijdrage(&cumulatief, d) {
                None => (true, None),
                Some(v) if v.ontvlochten == Some(true) => (true, None),
                Some(v) if laatst_bekend.is_some_and(|b| v.laatst_verwerkt < b) => (true, Some(v.laatst_verwerkt)),
                Some(_) => (false, None),
            };
            if te_laat {
                te_verwerken.push((d, laatst_bekend, verwerkt));
                versie = None;
            }
        }
        for &(d, v) in cumulatief.iter() {
            if v.ontvlochten != Some(false) || in_toestand(d) {
                continue;
            }
            match self.eerste_die_niet_meer_bijdraagt(d) {
                Some(ntv) => te_verwerken.push((d, Some(ntv.gemaakt_op), Some(v.laatst_verwerkt))),
                None => te_ontvlechten.push((d, v.laatst_verwerkt)),
            }
            versie = None;
        }
        te_verwerken.sort_by(|a, b| doel(a.0).cmp(doel(b.0)));
        te_ontvlechten.sort_by(|a: &(u32, Tijdstip), b| doel(a.0).cmp(doel(b.0)));
        let status = if versie.is_some() {
            Status::Compleet
        } else if alleen_onbekend {
            Status::Onbekend
        } else {
            Status::Onvolledig
        };
        InhoudC { status, versie, te_verwerken, te_ontvlechten, tegensprekend }
    }

    /// The actuele toestanden as known at bekendOp, for an exchange made at `gemaakt_op` and
    /// received on `ontvangen_op`.
    pub(crate) fn actuele_toestanden(&mut self, gemaakt_op: &str, ontvangen_op: &str) -> ActueleToestanden {
        let ontvangen = Datum::parse(ontvangen_op).unwrap_or_default();
        let mut toestanden: Vec<Actueel> = Vec::with_capacity(self.takken.len());
        let mut voorgaande: u32 = 0;
        let mut iwt: Iwt = Iwt::new();
        let mut laatste_jwv: Option<Datum> = None;
        let mut jwv_start: Option<Datum> = None;
        for (doel, jwv, _) in self.tijdstempel_momentopnamen() {
            if jwv <= ontvangen {
                jwv_start = Some(jwv);
            }
            if let Some(l) = laatste_jwv
                && l < jwv
            {
                let mut doelen = std::mem::take(&mut iwt);
                self.sorteer(&mut doelen);
                let volgende = if let [d] = doelen.as_slice() {
                    self.basis(voorgaande, &[*d])
                } else {
                    let mut extra = doelen.clone();
                    extra.sort_unstable();
                    self.basis(voorgaande, &extra)
                };
                toestanden.push(Actueel { jwv: l, iwt: doelen, basis: voorgaande });
                voorgaande = volgende;
                laatste_jwv = None;
            }
            if laatste_jwv.is_none() {
                laatste_jwv = Some(jwv);
            }
            iwt.push(doel);
        }
        if let Some(l) = laatste_jwv {
            self.sorteer(&mut iwt);
            toestanden.push(Actueel { jwv: l, iwt, basis: voorgaande });
        }
        let uitgewerkt = self.juridisch_uitgewerkt_op();
        let uitgewerkt_op = uitgewerkt.as_ref().map(|(d, _)| *d);
        let intrekkingen: Vec<(u32, Tijdstip, Datum)> = self.intrekkingen().collect();
        let mut tot = uitgewerkt_op;
        let mut tots = vec![None; toestanden.len()];
        for (i, t) in toestanden.iter().enumerate().rev() {
            tots[i] = tot;
            if tot.is_none_or(|x| t.jwv < x) {
                tot = Some(t.jwv);
            }
        }
        let mut niet_meer_actueel = true;
        let mut out = Vec::with_capacity(toestanden.len());
        for (t, tot) in toestanden.into_iter().zip(tots) {
            if niet_meer_actueel && jwv_start.is_none_or(|s| t.jwv >= s) {
                niet_meer_actueel = false;
            }
            let actueel = !niet_meer_actueel;
            let nr = self.inhoud(&t.iwt, t.basis);
            let inhoud = match uitgewerkt_op {
                Some(u) if t.jwv >= u => {
                    let mut inhoud = (*self.inhouden.inhoud[nr as usize].inhoud).clone();
                    inhoud.tegensprekend.extend(intrekkingen.iter().filter(|(_, _, jwv)| *jwv <= t.jwv).map(|&(d, g, _)| (d, g)));
                    let doel = |d: u32| self.instr.doel(d);
                    inhoud.tegensprekend.sort_by(|a, b| doel(a.0).cmp(doel(b.0)));
                    inhoud.versie = None;
                    inhoud.status = Status::Onvolledig;
                    Arc::new(inhoud.inhoud(self.instr))
                }
                _ => self.inhouden.inhoud[nr as usize].uit(self.instr),
            };
            out.push(ActueleToestand {
                juridisch_werkend_vanaf: t.jwv.tekst(),
                juridisch_werkend_tot: tot.map(Datum::tekst),
                inwerkingtredingsdoelen: t.iwt.iter().map(|&d| self.instr.doel(d).to_string()).collect(),
                inhoud,
                actueel,
            });
        }
        ActueleToestanden {
            gemaakt_op: gemaakt_op.to_string(),
            ontvangen_op: ontvangen_op.to_string(),
            bekend_op: self.bekend_op.tekst(),
            materieel_uitgewerkt_op: self.instr.materieel_uitgewerkt.clone(),
            juridisch_uitgewerkt_op: uitgewerkt_op.map(Datum::tekst),
            toestanden: out,
        }
    }

    /// The complete toestanden as known at bekendOp, in order of creation (sorted by
    /// juridischWerkendVanaf, then geldigVanaf; the repeal, if any, last).
    pub(crate) fn complete_toestanden(&mut self) -> Vec<ToestandC> {
        struct T {
            jwv: Datum,
            gv: Datum,
            iwt: Iwt,
            basis: u32,
            niet_in_werking: bool,
        }
        // The basis of a toestand made after `t`: t's basis plus t's doelen.
        fn basis_van(b: &mut Bepaling<'_>, t: &T) -> u32 {
            if let [d] = t.iwt.as_slice() {
                return b.basis(t.basis, &[*d]);
            }
            let mut extra = t.iwt.clone();
            extra.sort_unstable();
            b.basis(t.basis, &extra)
        }
        // `nu`: every toestand made; `geldend`: indexes into `nu` of the toestanden that apply
        // at the current jwv, ordered by gv; `vg`: index in `geldend` of the previous one.
        let mut nu: Vec<T> = Vec::with_capacity(2 * self.takken.len() + 1);
        let mut geldend: Vec<usize> = Vec::with_capacity(self.takken.len());
        let mut vg: isize = -1;

        fn tussenliggend(
            b: &mut Bepaling<'_>,
            nu: &mut Vec<T>,
            geldend: &mut [usize],
            gv_volgend: Option<Datum>,
            mut vg: isize,
        ) -> isize {
            while vg < geldend.len() as isize - 1 && gv_volgend.is_none_or(|g| nu[geldend[(vg + 1) as usize]].gv < g) {
                let voorg = &nu[geldend[vg as usize]];
                let volg = &nu[geldend[(vg + 1) as usize]];
                let (jwv, gv, iwt) = (voorg.jwv, volg.gv, voorg.iwt.clone());
                let basis = basis_van(b, volg);
                nu.push(T { jwv, gv, iwt, basis, niet_in_werking: false });
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
                    tussenliggend(self, &mut nu, &mut geldend, None, vg);
                } else {
                    vg = tussenliggend(self, &mut nu, &mut geldend, Some(gv), vg);
                    let z = geldend[vg as usize];
                    zelfde = Some(z);
                    if gv == nu[z].gv {
                        nu[z].iwt.push(doel);
                        continue;
                    }
                }
            }
            let mut t = T { jwv, gv, iwt: smallvec::smallvec![doel], basis: 0, niet_in_werking: false };
            match zelfde {
                None => {
                    vg = geldend.len() as isize - 1;
                    while vg >= 0 && nu[geldend[vg as usize]].gv > gv {
                        vg -= 1;
                    }
                    if vg >= 0 {
                        let v = geldend[vg as usize];
                        t.basis = basis_van(self, &nu[v]);
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
                        t.basis = basis_van(self, &nu[v]);
                        nu.push(t);
                        geldend[vg as usize] = nu.len() - 1;
                    } else {
                        t.basis = nu[z].basis;
                        nu.push(t);
                        vg += 1;
                        geldend.insert(vg as usize, nu.len() - 1);
                    }
                }
            }
        }
        if vg >= 0 && (vg as usize) < geldend.len() {
            tussenliggend(self, &mut nu, &mut geldend, None, vg);
        }
        if let Some((u, doelen)) = uitgewerkt {
            nu.push(T { jwv: u, gv: u, iwt: doelen.into(), basis: 0, niet_in_werking: true });
        }
        let mut uit = Vec::with_capacity(nu.len());
        for mut t in nu {
            self.sorteer(&mut t.iwt);
            let inhoud = if t.niet_in_werking { NIET_IN_WERKING } else { self.inhoud(&t.iwt, t.basis) };
            uit.push(ToestandC { jwv: t.jwv, gv: t.gv, iwt: t.iwt, inhoud });
        }
        uit
    }
}
