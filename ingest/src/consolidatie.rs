//! Text consolidation in the pipeline: the regeling versions a besluit creates, as texts.
//!
//! An initial regeling (a `Regeling*` with `@wordt` in a WijzigBijlage) is cut out of the
//! besluit as a standalone text; a `RegelingMutatie` is applied (`stop::tekst::pas_toe`) to its
//! was-version, which comes from this package, from a delivery staged earlier in the same group
//! commit, or from the store. Every version is stored as a tree of content-addressed nodes
//! (`store::tree`): one node per article-level unit (Artikel, Divisietekst, ...) under one node
//! per structure element (Lichaam, Hoofdstuk, Divisie, Bijlage, ...), so a new version writes
//! only the units it changes and their ancestors.
//!
//! Every version also gets its provenance ([`Herkomst`]): for every article-level unit (and
//! every Lid), the besluit that gave it its current wording. An initial version's units all
//! come from its besluit; a mutated version's units that the mutation added or changed (or
//! whose descendants it added, changed, removed or moved) come from the mutating besluit, and
//! every other unit keeps the was-version's provenance.
//! The provenance is stored as a tree too ([`Herkomst::knopen`]: leaves of ~16 lines), so a
//! version that rewords one unit adds a few KB, not a list of every unit.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use stop::Melding;
use stop::module::StopBestand;
use stop::tekst::{Element, Tekst, Toepassing, als_regelingversie, pas_toe};
use stop::xml::{Document, NodeId};
use store::{Node as StoreNode, NodeHash, StoreError, Stuk};

const REGELINGEN: &[&str] = &["RegelingCompact", "RegelingVrijetekst", "RegelingKlassiek", "RegelingTijdelijkdeel"];

/// Elements stored as their own node whose children may be nodes too.
const STRUCTUUR: &[&str] = &[
    "Lichaam", "Boek", "Deel", "Titel", "Hoofdstuk", "Afdeling", "Paragraaf", "Subparagraaf", "Subsubparagraaf",
    "Divisie", "Bijlage", "Toelichting", "ArtikelgewijzeToelichting", "AlgemeneToelichting", "Conditie",
];

/// True for the structure elements stored as their own node (Lichaam, Hoofdstuk, Divisie,
/// Bijlage, ...), whose children may be units.
pub fn is_structuur(element: &str) -> bool {
    STRUCTUUR.contains(&element)
}

/// Article-level units: one leaf node each (their whole text).
const EENHEID: &[&str] = &["Artikel", "Divisietekst", "WijzigArtikel", "InwerkingtredingArtikel", "RegelingOpschrift"];

/// Elements whose provenance is recorded: the article-level units plus `Lid`.
const HERKOMST: &[&str] = &["Artikel", "Divisietekst", "WijzigArtikel", "InwerkingtredingArtikel", "RegelingOpschrift", "Lid"];

/// True for the elements whose provenance is recorded ([`Herkomst`]): the article-level units
/// (`Artikel`, `Divisietekst`, `WijzigArtikel`, `InwerkingtredingArtikel`, `RegelingOpschrift`)
/// and `Lid`.
pub fn heeft_herkomst(element: &str) -> bool {
    HERKOMST.contains(&element)
}

/// The texts of one STOP file, taken while its XML tree is alive.
#[derive(Default)]
pub struct Teksten {
    /// Initial regeling versions: (wordt, text in its stored form, kept as the besluit's own
    /// bytes plus how they are cut into store nodes).
    pub initieel: Vec<(String, Arc<BronTekst>)>,
    /// Mutations in document order: (was, wordt, the RegelingMutatie element).
    pub mutaties: Vec<(Option<String>, Option<String>, Tekst)>,
    /// The besluit (or revisie, rectificatie) this file delivers: the provenance of the units
    /// its texts give wording to. `None` for a file without an expression identification.
    pub besluit: Option<Arc<Besluit>>,
}

/// A delivered besluit (or revisie, rectificatie) as the provenance of wording.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Besluit {
    /// Expression id (`/akn/nl/bill/…@…`).
    pub expressie: String,
    /// Work id.
    pub work: String,
    /// datumBekendmaking of the publication (from the opdracht), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datum_bekendmaking: Option<String>,
}

/// The provenance of one regeling version: for every unit (by wId) the besluit that gave it
/// its current wording. Units whose provenance is unknown (a was-version stored before
/// provenance was recorded) are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Herkomst {
    eenheden: BTreeMap<String, Arc<Besluit>>,
}

/// A provenance blob that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("provenance blob, line {regel}: {reden}")]
pub struct HerkomstFout {
    /// 1-based line number.
    pub regel: usize,
    pub reden: String,
}

/// First line of the stored form of a [`Herkomst`].
const HERKOMST_KOP: &str = "regelbank-herkomst 2";

/// Lines per leaf node of the stored provenance tree, on average (content-defined boundaries).
const HERKOMST_STUK: u64 = 16;

/// FNV-1a (stable across runs and Rust versions, unlike `DefaultHasher`): chunk boundaries.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Lines cut into leaf nodes after every line whose key (first field) hashes to a boundary,
/// so a changed line changes only its own leaf.
/// Where the store nodes of a text go, children before parents: stores one and returns its
/// hash ([`store::TreeWriter::put`], or a collector that hashes it).
pub type Zet<'a> = dyn FnMut(StoreNode) -> Result<NodeHash, StoreError> + 'a;

/// The nodes given to `put`, in order (each hashed once, to link its parent).
fn verzamel_knopen(schrijf: impl FnOnce(&mut Zet<'_>) -> Result<NodeHash, StoreError>) -> Vec<StoreNode> {
    let mut out = Vec::new();
    let r = schrijf(&mut |n: StoreNode| {
        let h = n.hash();
        out.push(n);
        Ok(h)
    });
    debug_assert!(r.is_ok(), "a collector never fails");
    out
}

struct Bladeren<'a, 'p> {
    leaf: String,
    put: &'a mut Zet<'p>,
    kinderen: &'a mut Vec<Stuk>,
    fout: Option<StoreError>,
}

impl Bladeren<'_, '_> {
    fn regel(&mut self, sleutel: &str, regel: &str) {
        self.leaf.push_str(regel);
        if fnv(sleutel).is_multiple_of(HERKOMST_STUK) {
            self.sluit();
        }
    }

    fn sluit(&mut self) {
        if !self.leaf.is_empty() && self.fout.is_none() {
            let n = StoreNode::leaf(std::mem::take(&mut self.leaf).into_bytes());
            match (self.put)(n) {
                Ok(h) => self.kinderen.push(Stuk::Kind(h)),
                Err(e) => self.fout = Some(e),
            }
        }
    }
}

impl Herkomst {
    /// The besluit that gave the unit with this wId its current wording.
    pub fn get(&self, wid: &str) -> Option<&Besluit> {
        self.eenheden.get(wid).map(|b| &**b)
    }

    /// (wId, besluit) by wId.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Besluit)> + '_ {
        self.eenheden.iter().map(|(w, b)| (w.as_str(), &**b))
    }

    pub fn len(&self) -> usize {
        self.eenheden.len()
    }

    pub fn is_empty(&self) -> bool {
        self.eenheden.is_empty()
    }

    pub fn insert(&mut self, wid: String, besluit: Arc<Besluit>) {
        self.eenheden.insert(wid, besluit);
    }

    /// Every line of the stored form after the first, in order: `f(deel, key, line)` with deel
    /// 0 for the besluit lines, 1 for the unit lines (key = the line's first field; every line
    /// ends in a newline).
    fn voor_regels(&self, f: &mut dyn FnMut(u8, &str, &str)) {
        // Distinct besluiten (by value; many units share one Arc).
        let mut per_arc: HashMap<*const Besluit, usize> = HashMap::new();
        let mut uniek: Vec<&Besluit> = Vec::new();
        let mut per_waarde: HashMap<&Besluit, usize> = HashMap::new();
        for b in self.eenheden.values() {
            per_arc.entry(Arc::as_ptr(b)).or_insert_with(|| {
                *per_waarde.entry(&**b).or_insert_with(|| {
                    uniek.push(&**b);
                    uniek.len() - 1
                })
            });
        }
        let sleutel = |b: &Besluit, len: usize| {
            let datum = b.datum_bekendmaking.as_deref().unwrap_or("");
            let h = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(format!("{}\t{}\t{datum}", b.expressie, b.work)));
            h[..len].to_string()
        };
        // 64-bit keys; the whole SHA-256 in the (astronomically unlikely) case of a collision.
        let mut sleutels: Vec<String> = uniek.iter().map(|b| sleutel(b, 16)).collect();
        if sleutels.iter().collect::<HashSet<_>>().len() < sleutels.len() {
            sleutels = uniek.iter().map(|b| sleutel(b, 64)).collect();
        }
        let mut volgorde: Vec<usize> = (0..uniek.len()).collect();
        volgorde.sort_by(|&a, &b| sleutels[a].cmp(&sleutels[b]));
        let mut regel = String::new();
        for i in volgorde {
            let b = uniek[i];
            regel.clear();
            let datum = b.datum_bekendmaking.as_deref().unwrap_or("");
            let _ = writeln!(regel, "{}\t{}\t{}\t{datum}", sleutels[i], b.expressie, b.work);
            f(0, &sleutels[i], &regel);
        }
        for (w, b) in &self.eenheden {
            regel.clear();
            regel.push_str(w);
            regel.push('\t');
            regel.push_str(&sleutels[per_arc[&Arc::as_ptr(b)]]);
            regel.push('\n');
            f(1, w, &regel);
        }
    }

    /// The stored form (deterministic: equal provenance gives equal bytes):
    ///
    /// ```text
    /// regelbank-herkomst 2
    /// <key>\t<besluit expression>\t<besluit work>\t<datumBekendmaking or empty>   (per besluit, by key)
    ///                                                                              (empty line)
    /// <wId>\t<key>                                                                 (per unit, by wId)
    /// ```
    ///
    /// A key is the first 16 hex digits of the SHA-256 of `expression TAB work TAB datum`, so a
    /// besluit's lines do not change when other besluiten come or go.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(32 + self.eenheden.len() * 64);
        out.push_str(HERKOMST_KOP);
        out.push('\n');
        let mut deel = 0;
        self.voor_regels(&mut |d, _, regel| {
            if d != deel {
                out.push('\n');
                deel = d;
            }
            out.push_str(regel);
        });
        if deel == 0 {
            out.push('\n');
        }
        out.into_bytes()
    }

    /// The stored form ([`Herkomst::to_bytes`]) as a tree for the tree store, children before
    /// parents, the root last: leaves of ~16 lines cut at content-defined boundaries (by key),
    /// under one root (which the store splits into parts), so a version that rewords one unit
    /// writes one leaf and a few parts, not the whole list. `Store::read_tree` of the root gives
    /// [`Herkomst::to_bytes`].
    pub fn knopen(&self) -> Vec<StoreNode> {
        verzamel_knopen(|put| self.schrijf(put))
    }

    /// [`Herkomst::knopen`], each node given to `put` as it is made; returns the root's hash.
    pub fn schrijf(&self, put: &mut Zet<'_>) -> Result<NodeHash, StoreError> {
        let mut kinderen = vec![Stuk::Bytes(format!("{HERKOMST_KOP}\n").into_bytes())];
        let mut deel = 0;
        {
            let mut bl = Bladeren { leaf: String::new(), put: &mut *put, kinderen: &mut kinderen, fout: None };
            self.voor_regels(&mut |d, sleutel, regel| {
                if d != deel {
                    bl.sluit();
                    bl.kinderen.push(Stuk::Bytes(b"\n".to_vec()));
                    deel = d;
                }
                bl.regel(sleutel, regel);
            });
            bl.sluit();
            if let Some(e) = bl.fout {
                return Err(e);
            }
        }
        if deel == 0 {
            kinderen.push(Stuk::Bytes(b"\n".to_vec()));
        }
        put(StoreNode::new(kinderen).normalized())
    }

    /// Read the stored form ([`Herkomst::to_bytes`]).
    pub fn parse(bytes: &[u8]) -> Result<Herkomst, HerkomstFout> {
        let fout = |regel: usize, reden: &str| HerkomstFout { regel, reden: reden.to_string() };
        let text = std::str::from_utf8(bytes).map_err(|_| fout(1, "not UTF-8"))?;
        let mut lines = text.split_terminator('\n').enumerate().map(|(i, l)| (i + 1, l));
        match lines.next() {
            Some((_, HERKOMST_KOP)) => {}
            _ => return Err(fout(1, "not a regelbank provenance text (version 2)")),
        }
        let mut besluiten: HashMap<&str, Arc<Besluit>> = HashMap::new();
        for (n, line) in lines.by_ref() {
            if line.is_empty() {
                break;
            }
            let velden: Vec<&str> = line.split('\t').collect();
            let [sleutel, expressie, work, datum] = velden[..] else { return Err(fout(n, "a besluit line has 4 fields")) };
            if sleutel.is_empty() || expressie.is_empty() {
                return Err(fout(n, "a besluit line without key or expression"));
            }
            let b = Besluit {
                expressie: expressie.to_string(),
                work: work.to_string(),
                datum_bekendmaking: (!datum.is_empty()).then(|| datum.to_string()),
            };
            if besluiten.insert(sleutel, Arc::new(b)).is_some() {
                return Err(fout(n, "repeated besluit key"));
            }
        }
        let mut eenheden: Vec<(String, Arc<Besluit>)> = Vec::new();
        let mut vorige = "";
        for (n, line) in lines {
            let Some((wid, sleutel)) = line.split_once('\t') else { return Err(fout(n, "a unit line is <wId> TAB <besluit key>")) };
            let b = besluiten.get(sleutel).ok_or_else(|| fout(n, "unknown besluit key"))?;
            if wid <= vorige {
                return Err(fout(n, "empty, repeated or unsorted wId"));
            }
            vorige = wid;
            eenheden.push((wid.to_string(), Arc::clone(b)));
        }
        // Sorted input: the map is built in bulk.
        Ok(Herkomst { eenheden: eenheden.into_iter().collect() })
    }

    /// An initial version given as the wIds of its units ([`heeft_herkomst`]): every unit
    /// comes from `besluit`.
    fn initieel_wids<'w>(wids: impl Iterator<Item = &'w str>, besluit: Option<&Arc<Besluit>>) -> Herkomst {
        let mut h = Herkomst::default();
        if let Some(b) = besluit {
            for w in wids {
                h.eenheden.insert(w.to_string(), Arc::clone(b));
            }
        }
        h
    }

    /// An initial version: every unit comes from `besluit`.
    pub fn initieel(tekst: &Tekst, besluit: Option<&Arc<Besluit>>) -> Herkomst {
        let mut h = Herkomst::default();
        if let Some(b) = besluit {
            eenheden(tekst, &mut |w| {
                h.eenheden.insert(w.to_string(), Arc::clone(b));
            });
        }
        h
    }

    /// The provenance of a mutation's wordt-version: the units it added or changed (itself or
    /// in a descendant: added, changed, removed or moved) come from `besluit`, the others keep
    /// `was_herkomst`'s entry (absent when unknown). Units that are gone are dropped.
    pub fn na_mutatie(was: &Tekst, was_herkomst: Option<&Herkomst>, toepassing: &Toepassing, besluit: Option<&Arc<Besluit>>) -> Herkomst {
        let wordt = &toepassing.tekst;
        let mut geraakt: HashSet<String> = HashSet::new();
        for a in &toepassing.acties {
            for w in a.toegevoegd.iter().chain(&a.gewijzigd) {
                eenheden_rond(wordt, w, true, &mut geraakt);
            }
            for w in a.verwijderd.iter().chain(&a.verplaatst) {
                eenheden_rond(was, w, false, &mut geraakt);
            }
            for w in &a.verplaatst {
                eenheden_rond(wordt, w, false, &mut geraakt);
            }
        }
        // The was-version's provenance without the units that are gone, with the touched ones
        // from this besluit (unknown, and so absent, when the file names no besluit).
        let mut h = was_herkomst.cloned().unwrap_or_default();
        for w in &toepassing.verwijderd {
            h.eenheden.remove(w);
        }
        for w in geraakt {
            match besluit {
                Some(b) if wordt.by_wid(&w).is_some() => {
                    h.eenheden.insert(w, Arc::clone(b));
                }
                _ => {
                    h.eenheden.remove(&w);
                }
            }
        }
        h
    }
}

/// Every unit with provenance ([`heeft_herkomst`]) of a text, by wId.
fn eenheden(t: &Tekst, f: &mut dyn FnMut(&str)) {
    fn walk(e: &Element, f: &mut dyn FnMut(&str)) {
        if heeft_herkomst(e.name())
            && let Some(w) = e.wid()
        {
            f(w);
        }
        for c in e.elements() {
            walk(c, f);
        }
    }
    for n in t.nodes() {
        if let Some(e) = n.as_element() {
            walk(e, f);
        }
    }
}

/// The units around the element with wId `wid` in `t`: its ancestors that have provenance,
/// and with `zelf` the element itself when it has.
fn eenheden_rond(t: &Tekst, wid: &str, zelf: bool, out: &mut HashSet<String>) {
    let Some(r) = t.by_wid(wid) else { return };
    if zelf && heeft_herkomst(r.element().name()) {
        out.insert(wid.to_string());
    }
    for a in r.ancestors() {
        if heeft_herkomst(a.element().name())
            && let Some(w) = a.element().wid()
        {
            out.insert(w.to_string());
        }
    }
}

/// An initial regeling version taken from its besluit without building its [`Tekst`]: the
/// stored root tags ([`Tekst::regelingversie_tags`]), the besluit's source (shared, so the
/// parsed tree can be dropped) and how the bytes between the tags are cut into store nodes.
/// Stored with [`BronTekst::knopen`]; the [`Tekst`] is built only when a mutation in the same
/// package or group needs it (parsed from the stored form, as it would be read from the store).
pub struct BronTekst {
    src: Arc<String>,
    kop: String,
    eind: String,
    /// Store nodes, children before parents; the last one is the root element's (absent for
    /// `<Regeling…/>`).
    plan: Vec<PlanKnoop>,
    /// wIds of the units with provenance: spans in `src` (the value as written, which is what
    /// the parser gives unless it had to normalise it), else in `wids_eigen`. Compact: this is
    /// alive while the besluit's tree is, at the peak of memory.
    wids: Vec<(u32, u32, bool)>,
    wids_eigen: String,
    /// Span of the root element in `src`.
    span: (usize, usize),
    tekst: OnceLock<Tekst>,
}

/// Offsets are u32: a document is smaller than 4 GiB (`stop::xml`), and the plan is alive at
/// the peak of memory.
enum Deel {
    /// Source bytes.
    Bron(u32, u32),
    /// The stored root start tag.
    Kop,
    /// The stored root end tag.
    Eind,
    /// An earlier node of the plan.
    Kind(u32),
}

enum PlanKnoop {
    /// A unit: its source bytes.
    Blad(u32, u32),
    Structuur(Vec<Deel>),
}

impl BronTekst {
    /// The regeling (a `Regeling*` element) at `node` as the version `wordt`.
    fn van(doc: &Document, node: NodeId, wordt: &str) -> BronTekst {
        let (kop, eind) = Tekst::regelingversie_tags(doc, node, wordt);
        let mut plan = Vec::new();
        if !eind.is_empty() {
            plan_structuur(doc, node, true, &mut plan);
        }
        let mut wids = Vec::new();
        let mut wids_eigen = String::new();
        let bron = doc.source();
        let (b0, b1) = (bron.as_ptr() as usize, bron.as_ptr() as usize + bron.len());
        for n in doc.descendants(node) {
            if doc.is_element(n)
                && heeft_herkomst(doc.name(n))
                && let Some(w) = doc.attr(n, "wId")
            {
                let p = w.as_ptr() as usize;
                if p >= b0 && p + w.len() <= b1 {
                    wids.push(((p - b0) as u32, w.len() as u32, false));
                } else {
                    wids.push((wids_eigen.len() as u32, w.len() as u32, true));
                    wids_eigen.push_str(w);
                }
            }
        }
        BronTekst { src: doc.source_arc(), kop, eind, plan, wids, wids_eigen, span: doc.span(node), tekst: OnceLock::new() }
    }

    /// wIds of the units with provenance, in document order.
    fn wids(&self) -> impl Iterator<Item = &str> + '_ {
        self.wids.iter().map(|&(s, n, eigen)| {
            let (s, e) = (s as usize, s as usize + n as usize);
            if eigen { &self.wids_eigen[s..e] } else { &self.src[s..e] }
        })
    }

    /// The text in its stored form.
    pub fn to_xml(&self) -> String {
        self.delen().concat()
    }

    /// The text in its stored form as three slices (root start tag, content from the
    /// besluit's source, root end tag), without copying it.
    pub fn delen(&self) -> [&str; 3] {
        if self.eind.is_empty() {
            return [&self.kop, "", ""];
        }
        let (s, e) = self.span;
        let raw = &self.src[s..e];
        let inner_start = s + tag_len(raw);
        let inner_end = e - self.eind.len();
        [&self.kop, &self.src[inner_start..inner_end], &self.eind]
    }

    /// The text as a [`Tekst`] (built once, on first use).
    pub fn tekst(&self) -> Tekst {
        self.tekst
            .get_or_init(|| Tekst::parse(&self.to_xml()).expect("a regeling cut from a well-formed besluit parses"))
            .clone()
    }

    /// The store nodes, children before parents; the last one is the root: the same nodes as
    /// [`knopen`] of the [`Tekst`].
    pub fn knopen(&self) -> Vec<StoreNode> {
        verzamel_knopen(|put| self.schrijf(put))
    }

    /// The store nodes given to `put` one at a time (so the store can write each before the
    /// next exists, and hashes each once); returns the root's hash.
    pub fn schrijf(&self, put: &mut Zet<'_>) -> Result<NodeHash, StoreError> {
        let mut hashes: Vec<NodeHash> = Vec::with_capacity(self.plan.len());
        let bytes = |s: u32, e: u32| self.src.as_bytes()[s as usize..e as usize].to_vec();
        for p in &self.plan {
            let node = match p {
                PlanKnoop::Blad(s, e) => StoreNode::leaf(bytes(*s, *e)),
                PlanKnoop::Structuur(delen) => StoreNode::new(
                    delen
                        .iter()
                        .map(|d| match d {
                            Deel::Bron(s, e) => Stuk::Bytes(bytes(*s, *e)),
                            Deel::Kop => Stuk::Bytes(self.kop.as_bytes().to_vec()),
                            Deel::Eind => Stuk::Bytes(self.eind.as_bytes().to_vec()),
                            Deel::Kind(i) => Stuk::Kind(hashes[*i as usize]),
                        })
                        .collect(),
                )
                .normalized(),
            };
            hashes.push(put(node)?);
        }
        let root = match hashes.last() {
            Some(&h) if !self.eind.is_empty() => Stuk::Kind(h),
            _ => Stuk::Bytes(self.kop.as_bytes().to_vec()),
        };
        put(StoreNode::new(vec![Stuk::Bytes(Vec::new()), root, Stuk::Bytes(Vec::new())]).normalized())
    }
}

fn tag_len(raw: &str) -> usize {
    // The start tag ends at the first '>' outside a quoted attribute value.
    let mut quote = None;
    for (i, b) in raw.bytes().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), c) if c == q => quote = None,
            (None, b'>') => return i + 1,
            _ => {}
        }
    }
    raw.len()
}

/// Plan the node of a structure element (or the root), children first; returns its index.
fn plan_structuur(doc: &Document, n: NodeId, root: bool, plan: &mut Vec<PlanKnoop>) -> u32 {
    let (s, e) = doc.span(n);
    let (s, e) = (s as u32, e as u32);
    let raw = doc.raw(n);
    let tl = tag_len(raw);
    let k = raw.rfind("</").filter(|&k| k >= tl).unwrap_or(raw.len()) as u32;
    let tl = tl as u32;
    let mut delen = vec![if root { Deel::Kop } else { Deel::Bron(s, s + tl) }];
    let mut cur = s + tl;
    for c in doc.children(n) {
        if !doc.is_element(c) {
            continue;
        }
        let name = doc.name(c);
        let structuur = STRUCTUUR.contains(&name);
        if !structuur && !EENHEID.contains(&name) {
            continue;
        }
        let (cs, ce) = doc.span(c);
        let (cs, ce) = (cs as u32, ce as u32);
        let j = if structuur {
            if doc.raw(c)[..tag_len(doc.raw(c))].ends_with("/>") {
                continue; // stored as bytes of its parent
            }
            plan_structuur(doc, c, false, plan)
        } else {
            plan.push(PlanKnoop::Blad(cs, ce));
            plan.len() as u32 - 1
        };
        if cs > cur {
            delen.push(Deel::Bron(cur, cs));
        }
        delen.push(Deel::Kind(j));
        cur = ce;
    }
    if s + k > cur {
        delen.push(Deel::Bron(cur, s + k));
    }
    delen.push(if root { Deel::Eind } else { Deel::Bron(s + k, e) });
    plan.push(PlanKnoop::Structuur(delen));
    plan.len() as u32 - 1
}

/// The text of a regeling version: a [`Tekst`], or an initial version still in its besluit's
/// bytes ([`BronTekst`]).
#[derive(Clone)]
pub enum VersieTekst {
    Tekst(Tekst),
    Bron(Arc<BronTekst>),
}

impl std::fmt::Debug for VersieTekst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VersieTekst::Tekst(t) => t.fmt(f),
            VersieTekst::Bron(b) => f.debug_struct("BronTekst").field("bytes", &(b.span.1 - b.span.0)).finish(),
        }
    }
}

impl VersieTekst {
    /// The text as a [`Tekst`].
    pub fn tekst(&self) -> Tekst {
        match self {
            VersieTekst::Tekst(t) => t.clone(),
            VersieTekst::Bron(b) => b.tekst(),
        }
    }

    /// The store nodes, children first, the root last.
    pub fn knopen(&self) -> Vec<StoreNode> {
        match self {
            VersieTekst::Tekst(t) => knopen(t),
            VersieTekst::Bron(b) => b.knopen(),
        }
    }

    /// The store nodes given to `put`, children first; returns the root's hash.
    pub fn schrijf(&self, put: &mut Zet<'_>) -> Result<NodeHash, StoreError> {
        match self {
            VersieTekst::Tekst(t) => schrijf_tekst(t, put),
            VersieTekst::Bron(b) => b.schrijf(put),
        }
    }
}

/// One regeling version built from a package.
#[derive(Debug, Clone)]
pub struct Versie {
    /// Expression id of the version (`wordt`).
    pub expressie: String,
    /// Its text in the stored form.
    pub tekst: VersieTekst,
    /// Its provenance.
    pub herkomst: Herkomst,
}

impl Teksten {
    pub fn is_empty(&self) -> bool {
        self.initieel.is_empty() && self.mutaties.is_empty()
    }
}

fn binnen_mutatie(doc: &Document, mut n: NodeId) -> bool {
    while let Some(p) = doc.parent(n) {
        if doc.name(p) == "RegelingMutatie" {
            return true;
        }
        n = p;
    }
    false
}

/// The regeling texts and mutations of a parsed STOP file. `datum_bekendmaking` (from the
/// opdracht) completes the file's besluit as provenance.
pub fn teksten(b: &StopBestand, datum_bekendmaking: Option<&str>) -> Teksten {
    let doc = &b.document;
    let mut out = Teksten {
        besluit: b.expression().filter(|id| !id.expression.is_empty()).map(|id| {
            Arc::new(Besluit {
                expressie: id.expression.clone(),
                work: id.work.clone(),
                datum_bekendmaking: datum_bekendmaking.map(str::to_string),
            })
        }),
        ..Teksten::default()
    };
    let Some(root) = doc.root() else { return out };
    for n in doc.descendants(root) {
        if !doc.is_element(n) || doc.ns(n) != stop::ns::TEKST {
            continue;
        }
        let name = doc.name(n);
        if name == "RegelingMutatie" {
            let attr = |a: &str| doc.attr(n, a).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            out.mutaties.push((attr("was"), attr("wordt"), Tekst::uit_document(doc, n)));
        } else if REGELINGEN.contains(&name)
            && n != root
            && let Some(w) = doc.attr(n, "wordt").map(str::trim).filter(|s| !s.is_empty())
            && !binnen_mutatie(doc, n)
        {
            out.initieel.push((w.to_string(), Arc::new(BronTekst::van(doc, n, w))));
        }
    }
    out
}

/// Where the text of a was-version comes from when it is not in this package.
pub trait Bron {
    fn tekst(&self, expressie: &str) -> Result<Option<Tekst>, crate::IngestError>;
    /// The provenance of a was-version (`None`: not recorded).
    fn herkomst(&self, expressie: &str) -> Result<Option<Herkomst>, crate::IngestError>;
}

/// Build every regeling version of a package: initial texts as delivered, mutations applied to
/// their was-version, each with its provenance. A mutation whose was-version text is unknown is
/// skipped (the validator reports a missing was-version; a version delivered before texts were
/// stored has none).
pub fn versies(
    teksten: &[(String, Teksten)],
    bron: &dyn Bron,
    meldingen: &mut Vec<Melding>,
) -> Result<Vec<Versie>, crate::IngestError> {
    let mut nieuw: Vec<Versie> = Vec::new();
    for (_, t) in teksten {
        for (e, tekst) in &t.initieel {
            let herkomst = Herkomst::initieel_wids(tekst.wids(), t.besluit.as_ref());
            nieuw.push(Versie { expressie: e.clone(), tekst: VersieTekst::Bron(Arc::clone(tekst)), herkomst });
        }
    }
    let mut gevonden: HashMap<String, usize> = nieuw.iter().enumerate().map(|(i, v)| (v.expressie.clone(), i)).collect();
    for (bestand, t) in teksten {
        for (was, wordt, mutatie) in &t.mutaties {
            let (Some(was), Some(wordt)) = (was, wordt) else { continue };
            let (basis, basis_herkomst) = match gevonden.get(was) {
                Some(&i) => (Some(nieuw[i].tekst.tekst()), Some(nieuw[i].herkomst.clone())),
                None => match bron.tekst(was)? {
                    Some(t) => (Some(t), bron.herkomst(was)?),
                    None => (None, None),
                },
            };
            let Some(basis) = basis else { continue };
            match pas_toe(&basis, mutatie, bestand) {
                Ok(toepassing) => {
                    let herkomst = Herkomst::na_mutatie(&basis, basis_herkomst.as_ref(), &toepassing, t.besluit.as_ref());
                    gevonden.insert(wordt.clone(), nieuw.len());
                    let tekst = als_regelingversie(toepassing.tekst, wordt);
                    nieuw.push(Versie { expressie: wordt.clone(), tekst: VersieTekst::Tekst(tekst), herkomst });
                }
                Err(ms) => meldingen.extend(ms),
            }
        }
    }
    Ok(nieuw)
}

/// Add meldingen of the apply engine that the validator did not already give (same code at the
/// same file and line).
pub fn voeg_toe_zonder_dubbele(meldingen: &mut Vec<Melding>, extra: Vec<Melding>) {
    for m in extra {
        let dubbel = meldingen.iter().any(|x| {
            x.code == m.code && x.locatie.bestand == m.locatie.bestand && x.locatie.regel == m.locatie.regel
        });
        if !dubbel {
            meldingen.push(m);
        }
    }
}

/// The store nodes of a text, children before parents; the last one is the root.
pub fn knopen(t: &Tekst) -> Vec<StoreNode> {
    verzamel_knopen(|put| schrijf_tekst(t, put))
}

/// [`knopen`], each node given to `put` as it is made; returns the root's hash.
pub fn schrijf_tekst(t: &Tekst, put: &mut Zet<'_>) -> Result<NodeHash, StoreError> {
    let mut stukken = vec![Stuk::Bytes(t.prolog().as_bytes().to_vec())];
    for n in t.nodes() {
        stuk_van(n, put, &mut stukken, true)?;
    }
    stukken.push(Stuk::Bytes(t.epilog().as_bytes().to_vec()));
    put(StoreNode::new(stukken).normalized())
}

fn stuk_van(n: &stop::tekst::Node, put: &mut Zet<'_>, stukken: &mut Vec<Stuk>, top: bool) -> Result<(), StoreError> {
    match n {
        stop::tekst::Node::Element(e) if top || STRUCTUUR.contains(&e.name()) => {
            if e.end_tag().is_empty() {
                stukken.push(Stuk::Bytes(e.to_xml().into_bytes()));
                return Ok(());
            }
            let h = structuur(e, put)?;
            stukken.push(Stuk::Kind(h));
        }
        stop::tekst::Node::Element(e) if EENHEID.contains(&e.name()) => {
            let h = put(StoreNode::leaf(e.to_xml().into_bytes()))?;
            stukken.push(Stuk::Kind(h));
        }
        other => {
            let mut s = String::new();
            other.write_xml(&mut s);
            stukken.push(Stuk::Bytes(s.into_bytes()));
        }
    }
    Ok(())
}

fn structuur(e: &Element, put: &mut Zet<'_>) -> Result<NodeHash, StoreError> {
    let mut stukken = vec![Stuk::Bytes(e.start_tag().as_bytes().to_vec())];
    for c in e.children() {
        stuk_van(c, put, &mut stukken, false)?;
    }
    stukken.push(Stuk::Bytes(e.end_tag().as_bytes().to_vec()));
    put(StoreNode::new(stukken).normalized())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "https://standaarden.overheid.nl/stop/imop/tekst/";
    const LID2: &str = r#"<Lid eId="art_1__para_2" wId="r_1__art_1__para_2"><LidNummer>2.</LidNummer><Inhoud><Al>Twee.</Al></Inhoud></Lid>"#;
    const ART2: &str = r#"<Artikel eId="art_2" wId="r_1__art_2"><Kop><Label>Artikel</Label><Nummer>2</Nummer></Kop><Inhoud><Al>Artikel twee.</Al></Inhoud></Artikel>"#;

    /// The initial version taken straight from the besluit's bytes ([`BronTekst`]) is the same
    /// text, with the same store nodes and provenance, as the one cut out as a [`Tekst`].
    fn zelfde_als_uit_document(naam: &str, xml: &str) -> usize {
        let doc = Document::parse_str(xml).unwrap();
        let mut n = 0;
        for id in doc.descendants(doc.root().unwrap()) {
            if !doc.is_element(id) || !REGELINGEN.contains(&doc.name(id)) || Some(id) == doc.root() {
                continue;
            }
            let w = "/akn/nl/act/gm9999/2027/test@2027-01-01";
            let bron = BronTekst::van(&doc, id, w);
            let tekst = als_regelingversie(Tekst::uit_document(&doc, id), w);
            assert_eq!(bron.to_xml(), tekst.to_xml(), "{naam}");
            let (a, b): (Vec<StoreNode>, _) = (bron.knopen(), knopen(&tekst));
            assert_eq!(a.len(), b.len(), "{naam}");
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.hash(), y.hash(), "{naam}");
            }
            let besluit = Arc::new(Besluit { expressie: "b".into(), work: "w".into(), datum_bekendmaking: None });
            assert_eq!(Herkomst::initieel_wids(bron.wids(), Some(&besluit)), Herkomst::initieel(&tekst, Some(&besluit)), "{naam}");
            assert_eq!(bron.tekst().to_xml(), tekst.to_xml(), "{naam}");
            n += 1;
        }
        n
    }

    #[test]
    fn bron_tekst_is_the_cut_out_text() {
        let mut n = 0;
        let mut dirs = vec![fixtures::fixtures_dir().join("deliveries"), fixtures::fixtures_dir().join("chains")];
        let shared = match std::env::var("REGELBANK_SHARED") {
            Ok(s) => std::path::PathBuf::from(s).join("deliveries"),
            Err(_) => fixtures::fixtures_dir().join("../../shared/deliveries"),
        };
        if shared.is_dir() {
            dirs.push(shared);
        }
        while let Some(d) = dirs.pop() {
            let rd = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
            for e in rd {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "xml")
                    && let Ok(xml) = std::fs::read_to_string(&p)
                    && Document::parse_str(&xml).is_ok()
                {
                    n += zelfde_als_uit_document(&p.display().to_string(), &xml);
                }
            }
        }
        let spec = fixtures::GenSpec { regelingen: 2, artikelen: 30, with_gio: true, ..Default::default() };
        for f in fixtures::generate_delivery(&spec, 3) {
            if f.name.ends_with(".xml") {
                n += zelfde_als_uit_document(&f.name, std::str::from_utf8(&f.bytes).unwrap());
            }
        }
        // Prefixes declared outside the regeling, a self-closing structure element, was/componentnaam.
        let xml = format!(
            r#"<?xml version="1.0"?><b:Besluit xmlns:b="urn:b" xmlns:t="{NS}" xmlns:x="urn:x"><t:WijzigBijlage><t:RegelingCompact componentnaam="c" was="w" wordt="oud" x:a="1"><t:Lichaam><t:Hoofdstuk/><t:Hoofdstuk eId="chp_1" wId="h1"> <t:Kop/> <t:Artikel eId="art_1" wId="a1"><t:Lid wId="a1_l1"/></t:Artikel><!--c--></t:Hoofdstuk> </t:Lichaam></t:RegelingCompact><t:RegelingVrijetekst wordt="v"/></t:WijzigBijlage></b:Besluit>"#
        );
        n += zelfde_als_uit_document("prefixes", &xml);
        assert!(n >= 10, "only {n} regelingen compared");
    }

    fn regeling() -> Tekst {
        Tekst::parse(&format!(
            r#"<RegelingCompact xmlns="{NS}" wordt="/akn/nl/act/r/nld@1">
  <Lichaam eId="body" wId="body">
    <Hoofdstuk eId="chp_1" wId="r_1__chp_1"><Kop><Nummer>1</Nummer></Kop>
      <Artikel eId="art_1" wId="r_1__art_1"><Kop><Label>Artikel</Label><Nummer>1</Nummer></Kop>
        <Lid eId="art_1__para_1" wId="r_1__art_1__para_1"><LidNummer>1.</LidNummer><Inhoud><Al>Een.</Al></Inhoud></Lid>
        {LID2}
      </Artikel>
      {ART2}
    </Hoofdstuk>
    <Hoofdstuk eId="chp_2" wId="r_1__chp_2"><Kop><Nummer>2</Nummer></Kop>
      <Artikel eId="art_3" wId="r_1__art_3"><Kop><Label>Artikel</Label><Nummer>3</Nummer></Kop><Inhoud><Al>Drie.</Al></Inhoud></Artikel>
    </Hoofdstuk>
  </Lichaam>
</RegelingCompact>"#
        ))
        .unwrap()
    }

    fn besluit(n: &str) -> Arc<Besluit> {
        Arc::new(Besluit {
            expressie: format!("/akn/nl/bill/gm9999/2027/B{n}/nld@2027-01-0{n};1"),
            work: format!("/akn/nl/bill/gm9999/2027/B{n}"),
            datum_bekendmaking: Some(format!("2027-01-0{n}")),
        })
    }

    /// Apply `acties` to the regeling as besluit 2; the provenance of the result.
    fn na(acties: &str) -> Herkomst {
        let was = regeling();
        let h1 = Herkomst::initieel(&was, Some(&besluit("1")));
        let m = Tekst::parse(&format!(
            r#"<RegelingMutatie xmlns="{NS}" was="/akn/nl/act/r/nld@1" wordt="/akn/nl/act/r/nld@2">{acties}</RegelingMutatie>"#
        ))
        .unwrap();
        let t = pas_toe(&was, &m, "b.xml").unwrap_or_else(|m| panic!("{m:?}"));
        Herkomst::na_mutatie(&was, Some(&h1), &t, Some(&besluit("2")))
    }

    fn van(h: &Herkomst, wid: &str) -> Option<String> {
        h.get(wid).map(|b| b.work.rsplit('/').next().unwrap().to_string())
    }

    #[test]
    fn initial_provenance_names_the_besluit_for_every_unit_and_lid() {
        let h = Herkomst::initieel(&regeling(), Some(&besluit("1")));
        let wids: Vec<&str> = h.iter().map(|(w, _)| w).collect();
        assert_eq!(wids, ["r_1__art_1", "r_1__art_1__para_1", "r_1__art_1__para_2", "r_1__art_2", "r_1__art_3"]);
        assert!(h.iter().all(|(_, b)| b == &*besluit("1")));
        assert!(Herkomst::initieel(&regeling(), None).is_empty());
    }

    #[test]
    fn a_removed_lid_changes_its_artikel_only() {
        let h = na(&format!(r#"<Verwijder wat="r_1__art_1__para_2">{LID2}</Verwijder>"#));
        assert_eq!(van(&h, "r_1__art_1").as_deref(), Some("B2"));
        assert_eq!(van(&h, "r_1__art_1__para_1").as_deref(), Some("B1"));
        assert_eq!(van(&h, "r_1__art_1__para_2"), None, "gone");
        assert_eq!(van(&h, "r_1__art_2").as_deref(), Some("B1"));
        assert_eq!(van(&h, "r_1__art_3").as_deref(), Some("B1"));
    }

    #[test]
    fn a_changed_lid_changes_its_artikel_and_added_units_name_the_besluit() {
        let lid2 = LID2.replace("Twee.", "<NieuweTekst>Nieuw twee.</NieuweTekst><VerwijderdeTekst>Twee.</VerwijderdeTekst>");
        let nieuw = r#"<Artikel eId="art_4" wId="r_2__art_4"><Kop><Label>Artikel</Label><Nummer>4</Nummer></Kop><Inhoud><Al>Vier.</Al></Inhoud></Artikel>"#;
        let h = na(&format!(
            r#"<Vervang wat="r_1__art_1__para_2">{lid2}</Vervang><VoegToe context="r_1__art_3" positie="volgtOp">{nieuw}</VoegToe>"#
        ));
        assert_eq!(van(&h, "r_1__art_1__para_2").as_deref(), Some("B2"));
        assert_eq!(van(&h, "r_1__art_1").as_deref(), Some("B2"));
        assert_eq!(van(&h, "r_1__art_1__para_1").as_deref(), Some("B1"));
        assert_eq!(van(&h, "r_2__art_4").as_deref(), Some("B2"));
        assert_eq!(van(&h, "r_1__art_3").as_deref(), Some("B1"), "a neighbour of an added unit is not changed");
    }

    #[test]
    fn a_moved_unit_with_the_same_wording_keeps_its_provenance_and_a_heading_change_above_units_changes_none() {
        let h = na(&format!(
            r#"<Vervang wat="r_1__art_2" context="r_1__art_3" positie="volgtOp">{ART2}</Vervang><VervangKop wat="r_1__chp_2"><Kop><Nummer><VerwijderdeTekst>2</VerwijderdeTekst><NieuweTekst>II</NieuweTekst></Nummer></Kop></VervangKop>"#
        ));
        assert!(h.iter().all(|(_, b)| b == &*besluit("1")), "{h:?}");
        assert_eq!(h.len(), 5);
    }

    #[test]
    fn without_the_was_provenance_only_touched_units_are_known() {
        let was = regeling();
        let m = Tekst::parse(&format!(
            r#"<RegelingMutatie xmlns="{NS}" was="/akn/nl/act/r/nld@1" wordt="/akn/nl/act/r/nld@2"><Verwijder wat="r_1__art_1__para_2">{LID2}</Verwijder></RegelingMutatie>"#
        ))
        .unwrap();
        let t = pas_toe(&was, &m, "b.xml").unwrap();
        let h = Herkomst::na_mutatie(&was, None, &t, Some(&besluit("2")));
        assert_eq!(h.iter().map(|(w, _)| w).collect::<Vec<_>>(), ["r_1__art_1"]);
    }

    #[test]
    fn stored_provenance_round_trips_and_bad_texts_are_typed_errors() {
        let h = na(&format!(r#"<Verwijder wat="r_1__art_1__para_2">{LID2}</Verwijder>"#));
        let bytes = h.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let regels: Vec<&str> = text.lines().collect();
        assert_eq!(regels[0], "regelbank-herkomst 2");
        assert_eq!(regels.len(), 1 + 2 + 1 + 4, "{text}");
        let sleutel = |n: &str| regels[1..3].iter().find(|r| r.contains(&format!("/B{n}/"))).unwrap().split('\t').next().unwrap();
        assert_eq!(sleutel("1").len(), 16);
        assert!(regels[1..3].contains(&format!("{}\t/akn/nl/bill/gm9999/2027/B1/nld@2027-01-01;1\t/akn/nl/bill/gm9999/2027/B1\t2027-01-01", sleutel("1")).as_str()), "{text}");
        assert_eq!(regels[3], "");
        assert_eq!(regels[4], format!("r_1__art_1\t{}", sleutel("2")));
        assert_eq!(regels[5], format!("r_1__art_1__para_1\t{}", sleutel("1")));
        assert_eq!(Herkomst::parse(&bytes).unwrap(), h);
        assert_eq!(Herkomst::parse(&Herkomst::default().to_bytes()).unwrap(), Herkomst::default());
        for (bad, regel) in [
            (&b""[..], 1),
            (b"regelbank-herkomst 1\n\n", 1),
            (b"regelbank-herkomst 2\nk\tx\n\n", 2),
            (b"regelbank-herkomst 2\n\tx\tw\t\n\n", 2),
            (b"regelbank-herkomst 2\nk\tx\tw\t\nk\ty\tw\t\n\n", 3),
            (b"regelbank-herkomst 2\nk\tx\tw\t\n\na\tj\n", 4),
            (b"regelbank-herkomst 2\nk\tx\tw\t\n\na\tk\na\tk\n", 5),
            (b"regelbank-herkomst 2\nk\tx\tw\t\n\na\n", 4),
            (b"\xff", 1),
        ] {
            assert_eq!(Herkomst::parse(bad).unwrap_err().regel, regel, "{}", String::from_utf8_lossy(bad));
        }
    }

    /// Provenance of `n` units, unit `i` from besluit `i % 3`.
    fn groot(n: usize) -> Herkomst {
        let bs: Vec<Arc<Besluit>> = (1..=3).map(|i| besluit(&i.to_string())).collect();
        let mut h = Herkomst::default();
        for i in 0..n {
            h.insert(format!("gm9999_1__chp_{}__art_{i}", i / 100), Arc::clone(&bs[i % 3]));
        }
        h
    }

    #[test]
    fn the_provenance_tree_reads_back_as_the_stored_form_and_shares_unchanged_leaves() {
        let tmp = tempfile::tempdir().unwrap();
        let store = store::Store::open(tmp.path()).unwrap();
        let put = |h: &Herkomst| {
            let mut txn = store.begin().unwrap();
            let put = txn.put_tree(h.knopen()).unwrap();
            let rec = store::NewRecord {
                received_at: "2027-01-01T00:00:00Z".into(),
                aanleveraar: "a".into(),
                bevoegd_gezag: "b".into(),
                id_levering: format!("l{}", put.root.to_hex()),
                opdracht: "publicatieOpdracht".into(),
                package_hash: txn.put_blob(b"pakket").unwrap(),
                files: Vec::new(),
                outcome: "gepubliceerd".into(),
                report: None,
                derived: put.pack.into_iter().collect(),
                effects: Default::default(),
            };
            txn.commit_many(vec![rec]).unwrap();
            (put.root, put.pack_bytes)
        };
        let h1 = groot(10_000);
        let bytes = h1.to_bytes();
        let (r1, p1) = put(&h1);
        assert_eq!(store.read_tree(&r1).unwrap(), bytes);
        // One unit reworded by besluit 4: a few hundred bytes more, not the whole list again.
        let mut h2 = h1.clone();
        h2.insert("gm9999_1__chp_50__art_5000".into(), besluit("4"));
        let (r2, p2) = put(&h2);
        assert_eq!(store.read_tree(&r2).unwrap(), h2.to_bytes());
        assert_eq!(Herkomst::parse(&store.read_tree(&r2).unwrap()).unwrap(), h2);
        assert!(p1 > bytes.len() as u64 / 2, "{p1}");
        eprintln!("provenance of 10,000 units: {} bytes, first pack {p1} B, one-unit change {p2} B", bytes.len());
        assert!(p2 < 8_000, "a one-unit change wrote {p2} bytes (the whole list is {} bytes)", bytes.len());
    }

    #[test]
    fn knopen_serialise_back_to_the_text_and_share_unchanged_units() {
        let xml = "<RegelingCompact xmlns=\"https://standaarden.overheid.nl/stop/imop/tekst/\" wordt=\"x\">\n <Lichaam eId=\"body\" wId=\"body\">\n  <Hoofdstuk eId=\"chp_1\" wId=\"h1\"><Kop><Nummer>1</Nummer></Kop>\n   <Artikel eId=\"art_1\" wId=\"a1\"><Inhoud><Al>Een &amp; twee</Al></Inhoud></Artikel>\n   <Artikel eId=\"art_2\" wId=\"a2\"><Inhoud><Al>Drie</Al></Inhoud></Artikel>\n  </Hoofdstuk>\n </Lichaam>\n</RegelingCompact>";
        let t = Tekst::parse(xml).unwrap();
        let ks = knopen(&t);
        // 2 articles, 1 hoofdstuk, 1 lichaam, the root.
        // 2 articles, the hoofdstuk, the lichaam, the root element, the document (prolog + root).
        assert_eq!(ks.len(), 6);
        let mut map: HashMap<NodeHash, StoreNode> = HashMap::new();
        for k in &ks {
            map.insert(k.hash(), k.clone());
        }
        fn render(h: &NodeHash, map: &HashMap<NodeHash, StoreNode>, out: &mut Vec<u8>) {
            for s in &map[h].stukken {
                match s {
                    Stuk::Bytes(b) => out.extend_from_slice(b),
                    Stuk::Kind(c) => render(c, map, out),
                }
            }
        }
        let mut out = Vec::new();
        render(&ks.last().unwrap().hash(), &map, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), xml);
        // A change in article 2 leaves article 1's node as it was.
        let t2 = Tekst::parse(&xml.replace("Drie", "Vier")).unwrap();
        let ks2 = knopen(&t2);
        assert_eq!(ks2[0].hash(), ks[0].hash());
        assert_ne!(ks2[1].hash(), ks[1].hash());
    }
}
