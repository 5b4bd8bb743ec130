//! Comparing two versions of a regeling, and the `RegelingMutatie` that turns one into the other.
//!
//! # Units
//!
//! The article-level units of a regeling are the elements that a mutation can address: every
//! `Artikel`, `Divisietekst` and structure element (`Lichaam`, `RegelingOpschrift`, `Hoofdstuk`,
//! `Afdeling`, `Paragraaf`, `Divisie`, `Bijlage`, `Toelichting`, ...) with a wId, directly under
//! the regeling root or under another unit. Units are matched between the two versions by wId.
//! A unit's *own content* is the unit without its child units (for an `Artikel`: all of it).
//!
//! [`vergelijk`] reports per unit: added, removed, changed (own content other than the `Kop`),
//! moved (another parent, or another order among the siblings both versions share) and
//! renumbered (only the `Kop` or the eId changed), with a word-level diff of the own content of
//! changed units that keeps to the inline structure: every text container (`Al`, `Kop` parts,
//! `LidNummer`, `Li` content, table cells, ...) is diffed on its own, on words, spaces and
//! punctuation, with inline elements (`i`, `IntRef`, ...) as single tokens, or diffed inside when
//! only their content changed. Comparison is modulo insignificant white space (white-space-only
//! text between elements); any other text difference counts.
//!
//! # The mutation
//!
//! [`maak_mutatie`] plans a `RegelingMutatie` from the same matching, in three phases that
//! [`pas_toe`] applies in document order:
//!
//! 1. `Verwijder` for every removed unit whose parent stays (its payload: the unit as it was).
//! 2. `Vervang` in place for every unit whose own content changed, with renvooi in its payload:
//!    `NieuweTekst`/`VerwijderdeTekst` inside the text containers, `wijzigactie="voegtoe"` /
//!    `"verwijder"` on whole elements (`Lid`, `Li`, `Al`, table rows, ...), and
//!    `verplaatstNaar`/`verplaatstVan` for an element that moves between the payloads (`voegtoe`/
//!    `verwijder` with the same wId where STOP has no move marker for the element); a payload
//!    without any marker (only white space or eIds differ) becomes `revisie="1"`. `VervangKop`
//!    (with `eId-wordt` when the eId changes; descendants follow the prefix as `pas_toe` renames
//!    them) for a unit whose `Kop` alone changed.
//! 3. In the wordt-version's document order: `VoegToe` (context = the previous sibling with a wId,
//!    `volgtOp`; else `eersteKind` of the parent; else `komtVoor` the next sibling that is
//!    already in place) for runs of added units of one kind, and `Vervang` with
//!    `context`/`positie` for moved units.
//!
//! A Vervang covers the unit's whole subtree, and `pas_toe` refuses any other action inside a
//! replaced subtree (LVBB5033/RB3657). So the plan chooses a set of replaced units (*roots*)
//! closed under these rules: a unit inside a root in the was-version is rendered in that root's
//! payload, and its new place must then also be inside a payload (the nearest unit above it
//! that both versions have becomes a root when needed); a removed unit that contains a unit
//! that stays is removed inside its parent's payload; an added unit that would bring along a wId
//! of the was-version (a `Lid` moved into a new article) is added inside its parent's payload.
//! A unit that lands inside a root but was not inside one is moved in after that root's
//! Vervang, with its own Vervang with context.
//!
//! Every generated mutation is checked: it is applied with [`pas_toe`] and the result must equal
//! the target modulo white-space-only text. When it does not (or the regeling model changed, or
//! content outside every unit changed), the mutation is a single `VervangRegeling` with the
//! target, and [`Mutatie::route`] says why. A model change is never a valid mutation in the LVBB
//! (LVBB5100); the VervangRegeling is then only a description of the change.
//!
//! The renvooi may name one wId twice (an element marked both `verwijder` and `voegtoe`, or
//! `verplaatstVan` and `verplaatstNaar`); `pas_toe` accepts it because old() and new() each keep
//! one of them.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;
use similar::{Algorithm, DiffTag, capture_diff_slices};

use super::compare::inhoud_hash;
use super::{Bindings, Element, Node, Raw, Tekst, fix_namespaces, fresh_key, pas_toe};
use crate::ns::TEKST;

// ------------------------------------------------------------------------------------ vocabulary

/// Elements that are article-level units when they have a wId and sit under the root or a unit.
const EENHEDEN: &[&str] = &[
    "Lichaam",
    "RegelingOpschrift",
    "Boek",
    "Deel",
    "Hoofdstuk",
    "Titel",
    "Afdeling",
    "Paragraaf",
    "Subparagraaf",
    "Subsubparagraaf",
    "Artikel",
    "WijzigArtikel",
    "InwerkingtredingArtikel",
    "Divisie",
    "Divisietekst",
    "Bijlage",
    "Toelichting",
    "AlgemeneToelichting",
    "ArtikelgewijzeToelichting",
    "Conditie",
    "Aanhef",
    "Sluiting",
    "Motivering",
];

const MODELLEN: &[&str] = &["RegelingCompact", "RegelingVrijetekst", "RegelingKlassiek", "RegelingTijdelijkdeel"];

/// Elements with mixed content in STOP 1.4.1 (imop-tekst.xsd), plus ExtIoRef (text content).
const GEMENGD: &[&str] = &[
    "Titelregel", "Wat", "Label", "Nummer", "Opschrift", "Subtitel", "Lijstaanhef", "LiNummer", "Lijstsluiting",
    "LidNummer", "Instructie", "Bron", "title", "Al", "Term", "Bijschrift", "Tussenkop", "i", "b", "u", "strong",
    "abbr", "ExtRef", "IntRef", "IntIoRef", "ExtIoRef", "Contact", "sub", "sup",
];

/// Elements with `agWijzigactieStructuur` in STOP 1.4.1 (all wijzigactie values, moves included).
const WIJZIG_STRUCTUUR: &[&str] = &[
    "Bijlage", "Toelichting", "AlgemeneToelichting", "ArtikelgewijzeToelichting", "Divisie", "WijzigBijlage", "Groep",
    "Boek", "Deel", "Hoofdstuk", "Afdeling", "Titel", "Paragraaf", "Subparagraaf", "Subsubparagraaf", "Artikel", "Lid",
    "Motivering",
];

/// Elements with `agWijzigactie` in STOP 1.4.1 (`voegtoe` and `verwijder` only).
const WIJZIG_MUTATIE: &[&str] = &[
    "Divisietekst", "InleidendeTekst", "Inhoud", "Kadertekst", "Gereserveerd", "Vervallen", "NogNietInWerking", "Kop",
    "Label", "Nummer", "Opschrift", "Subtitel", "Considerans", "Afkondiging", "Lijst", "Lijstaanhef", "Li", "LiNummer",
    "Lijstsluiting", "Citaat", "Ondertekening", "LidNummer", "WijzigArtikel", "WijzigLid", "Sluiting", "Slotformulering",
    "Dagtekening", "table", "Bron", "tgroup", "thead", "tbody", "title", "colspec", "row", "entry", "Al",
    "Begrippenlijst", "Begrip", "Term", "Definitie", "Figuur", "Formule", "InlineTekstAfbeelding", "Bijschrift",
    "Tussenkop", "Noot", "Nootref",
];

fn in_tekst_ns(e: &Element) -> bool {
    matches!(e.ns(), TEKST | "")
}

fn is_eenheid(e: &Element) -> bool {
    e.wid().is_some() && in_tekst_ns(e) && EENHEDEN.contains(&e.name())
}

fn gemengd(e: &Element) -> bool {
    (in_tekst_ns(e) && GEMENGD.contains(&e.name()))
        || e.children.iter().any(|c| matches!(c, Node::Text(_) | Node::CData(_)) && !c.char_data().trim().is_empty())
}

fn mag(naam: &str, actie: &str) -> bool {
    match actie {
        "voegtoe" | "verwijder" => WIJZIG_STRUCTUUR.contains(&naam) || WIJZIG_MUTATIE.contains(&naam),
        _ => WIJZIG_STRUCTUUR.contains(&naam),
    }
}

fn verplaatst_van(naam: &str) -> &'static str {
    if WIJZIG_STRUCTUUR.contains(&naam) { "verplaatstVan" } else { "verwijder" }
}

fn verplaatst_naar(naam: &str) -> &'static str {
    if WIJZIG_STRUCTUUR.contains(&naam) { "verplaatstNaar" } else { "voegtoe" }
}

// ---------------------------------------------------------------------------------- public types

/// Why two texts cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerschilFout {
    #[error("the text has no root element")]
    GeenElement,
    #[error("the root element {0} is not a regeling (RegelingCompact, RegelingVrijetekst, RegelingKlassiek or RegelingTijdelijkdeel)")]
    GeenRegeling(String),
    #[error("wId {0} occurs on more than one unit")]
    DubbeleWid(String),
    #[error("the generated mutation does not parse: {0}")]
    Intern(String),
}

/// What happened to a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Wijziging {
    Toegevoegd,
    Verwijderd,
    /// Own content other than the `Kop` changed.
    Gewijzigd,
    /// Another parent, or another order among the siblings both versions have.
    Verplaatst,
    /// Only the `Kop` and/or the eId changed.
    Hernummerd,
}

impl Wijziging {
    pub fn as_str(self) -> &'static str {
        match self {
            Wijziging::Toegevoegd => "toegevoegd",
            Wijziging::Verwijderd => "verwijderd",
            Wijziging::Gewijzigd => "gewijzigd",
            Wijziging::Verplaatst => "verplaatst",
            Wijziging::Hernummerd => "hernummerd",
        }
    }
}

/// The state of one text container in a unit's own content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BlokSoort {
    Gelijk,
    Gewijzigd,
    Toegevoegd,
    Verwijderd,
}

/// A piece of text: kept, removed or added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeelSoort {
    Gelijk,
    Verwijderd,
    Toegevoegd,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deel {
    pub soort: DeelSoort,
    /// White space collapsed to single spaces.
    pub tekst: String,
}

/// One text container (`Al`, `Nummer`, `LidNummer`, ...) of a unit's own content, word by word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blok {
    /// Element path inside the unit, e.g. `Lid[2]/Inhoud/Al` (index among same-named siblings
    /// when there are several).
    pub pad: String,
    pub soort: BlokSoort,
    pub delen: Vec<Deel>,
}

/// The change of one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EenheidVerschil {
    pub wid: String,
    /// Local name: Artikel, Hoofdstuk, ...
    pub element: String,
    pub wijzigingen: Vec<Wijziging>,
    pub eid_was: Option<String>,
    pub eid_wordt: Option<String>,
    /// Text of the `Kop` (its parts joined with spaces).
    pub kop_was: Option<String>,
    pub kop_wordt: Option<String>,
    /// wId of the parent unit; `None` for a unit directly under the regeling root.
    pub ouder_was: Option<String>,
    pub ouder_wordt: Option<String>,
    /// Word-level diff of the own content (for added, removed, changed and renumbered units).
    pub tekst: Vec<Blok>,
}

/// Counts per kind of change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Samenvatting {
    pub toegevoegd: usize,
    pub verwijderd: usize,
    pub gewijzigd: usize,
    pub verplaatst: usize,
    pub hernummerd: usize,
}

/// The differences between two versions of a regeling, unit by unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verschil {
    /// `@wordt` of the roots (the expressions), when present.
    pub was: Option<String>,
    pub wordt: Option<String>,
    pub model_was: String,
    pub model_wordt: String,
    /// Content outside every unit (or the model) differs.
    pub buiten_eenheden_gewijzigd: bool,
    pub samenvatting: Samenvatting,
    /// In the wordt-version's document order; removed units after the unit that preceded them.
    pub eenheden: Vec<EenheidVerschil>,
}

/// How a mutation expresses the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Fine-grained actions (VoegToe, Vervang, Verwijder, VervangKop).
    Acties,
    /// One VervangRegeling with the whole target; `reden` says why.
    VervangRegeling { reden: String },
}

/// A generated `RegelingMutatie`.
#[derive(Debug, Clone)]
pub struct Mutatie {
    /// The `RegelingMutatie` document (with an XML declaration).
    pub tekst: Tekst,
    pub route: Route,
    /// Number of actions.
    pub acties: usize,
}

impl Mutatie {
    pub fn to_xml(&self) -> String {
        self.tekst.to_xml()
    }
}

// ------------------------------------------------------------------------------------- the trees

#[derive(Clone, Copy)]
struct Eenheid<'a> {
    el: &'a Arc<Element>,
    wid: &'a str,
    ouder: Option<usize>,
}

/// The units of one version, in document order; index 0 is the regeling root (wid "").
struct Boom<'a> {
    tekst: &'a Tekst,
    eenheden: Vec<Eenheid<'a>>,
    index: HashMap<&'a str, usize>,
    bindings: Bindings,
}

impl<'a> Boom<'a> {
    fn new(tekst: &'a Tekst) -> Result<Boom<'a>, VerschilFout> {
        let root = tekst
            .nodes()
            .iter()
            .find_map(|n| match n {
                Node::Element(e) => Some(e),
                _ => None,
            })
            .ok_or(VerschilFout::GeenElement)?;
        let mut bindings = Bindings::default();
        bindings.push_element(root);
        let mut b = Boom { tekst, eenheden: vec![Eenheid { el: root, wid: "", ouder: None }], index: HashMap::new(), bindings };
        b.walk(0)?;
        Ok(b)
    }

    fn walk(&mut self, idx: usize) -> Result<(), VerschilFout> {
        let el: &'a Arc<Element> = self.eenheden[idx].el;
        for c in &el.children {
            if let Node::Element(ce) = c
                && is_eenheid(ce)
            {
                let wid = ce.wid().unwrap_or_default();
                let n = self.eenheden.len();
                if self.index.insert(wid, n).is_some() {
                    return Err(VerschilFout::DubbeleWid(wid.to_string()));
                }
                self.eenheden.push(Eenheid { el: ce, wid, ouder: Some(idx) });
                self.walk(n)?;
            }
        }
        Ok(())
    }

    fn root(&self) -> &'a Arc<Element> {
        self.eenheden[0].el
    }

    fn len(&self) -> usize {
        self.eenheden.len()
    }

    fn ouder(&self, i: usize) -> usize {
        self.eenheden[i].ouder.unwrap_or(0)
    }

    /// Proper ancestors, nearest first, the root (0) excluded.
    fn voorouders(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.eenheden[i].ouder, move |&p| self.eenheden[p].ouder).filter(|&p| p != 0)
    }

    fn heeft_wid(&self, w: &str) -> bool {
        self.tekst.by_wid(w).is_some()
    }
}

/// The matching of two versions' units.
struct Analyse<'a> {
    a: Boom<'a>,
    b: Boom<'a>,
    a_naar_b: Vec<Option<usize>>,
    b_naar_a: Vec<Option<usize>>,
    /// By B index: a common unit that changed parent or order.
    verplaatst: Vec<bool>,
}

impl<'a> Analyse<'a> {
    fn new(was: &'a Tekst, wordt: &'a Tekst) -> Result<Analyse<'a>, VerschilFout> {
        let a = Boom::new(was)?;
        let b = Boom::new(wordt)?;
        let mut a_naar_b = vec![None; a.len()];
        let mut b_naar_a = vec![None; b.len()];
        a_naar_b[0] = Some(0);
        b_naar_a[0] = Some(0);
        for (j, u) in b.eenheden.iter().enumerate().skip(1) {
            if let Some(&i) = a.index.get(u.wid)
                && a.eenheden[i].el.name() == u.el.name()
            {
                a_naar_b[i] = Some(j);
                b_naar_a[j] = Some(i);
            }
        }
        let mut verplaatst = vec![false; b.len()];
        let mut gepaard: HashMap<usize, HashSet<&str>> = HashMap::new();
        for j in 1..b.len() {
            let Some(i) = b_naar_a[j] else { continue };
            let (pa, pb) = (a.ouder(i), b.ouder(j));
            if a.eenheden[pa].wid != b.eenheden[pb].wid || b_naar_a[pb] != Some(pa) {
                verplaatst[j] = true;
                continue;
            }
            let set = gepaard.entry(pb).or_insert_with(|| {
                let (ea, eb) = (element_kinderen(a.eenheden[pa].el), element_kinderen(b.eenheden[pb].el));
                uitlijn(&ea, &eb)
                    .into_iter()
                    .filter_map(|s| match s {
                        Stap::Paar(x, y) => eb[y].wid().filter(|w| ea[x].wid() == Some(*w)),
                        _ => None,
                    })
                    .collect()
            });
            verplaatst[j] = !set.contains(b.eenheden[j].wid);
        }
        Ok(Analyse { a, b, a_naar_b, b_naar_a, verplaatst })
    }
}

// ------------------------------------------------------------------------------------ comparison

/// How eIds are compared: ignored, or after applying prefix renames to the was-side eIds.
enum EidModus<'r> {
    Negeren,
    Hernoemd(&'r [(String, String)]),
}

const EXACT: EidModus<'static> = EidModus::Hernoemd(&[]);

/// The eId after `pas_toe`'s VervangKop/@eId-wordt renames (old prefix + `__` → new prefix).
fn hernoem(eid: &str, keten: &[(String, String)]) -> String {
    let mut s = eid.to_string();
    for (o, n) in keten {
        if let Some(rest) = s.strip_prefix(o.as_str()).and_then(|r| r.strip_prefix("__")) {
            s = format!("{n}__{rest}");
        }
    }
    s
}

/// What to leave out at the top of a comparison.
#[derive(Clone, Copy, Default)]
struct Top {
    /// Child units.
    eenheden: bool,
    /// The `Kop` child.
    kop: bool,
    /// The element's own eId.
    eigen_eid: bool,
    /// The element's attributes altogether.
    attrs: bool,
}

const EIGEN: Top = Top { eenheden: true, kop: false, eigen_eid: true, attrs: false };
const EIGEN_ZONDER_KOP: Top = Top { eenheden: true, kop: true, eigen_eid: true, attrs: false };

fn attrs_gelijk(a: &Element, b: &Element) -> bool {
    let lijst = |e: &Element| {
        let mut v: Vec<(String, String)> =
            e.attributes().filter(|x| x.name != "eId").map(|x| (x.name.to_string(), x.value().into_owned())).collect();
        v.sort();
        v
    };
    lijst(a) == lijst(b)
}

enum Kind<'e> {
    El(&'e Element),
    Tekst(String),
}

/// Children as elements and text runs (adjacent text merged, white-space-only runs dropped).
fn kinderen<'e>(e: &'e Element, top: Top) -> Vec<Kind<'e>> {
    let mut out = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<Kind<'e>>| {
        if !run.trim().is_empty() {
            out.push(Kind::Tekst(std::mem::take(run)));
        }
        run.clear();
    };
    for c in &e.children {
        match c {
            Node::Element(x) => {
                if (top.eenheden && is_eenheid(x)) || (top.kop && x.name() == "Kop") {
                    continue;
                }
                flush(&mut run, &mut out);
                out.push(Kind::El(x));
            }
            Node::Text(_) | Node::CData(_) => run.push_str(&c.char_data()),
            _ => {}
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Byte-equal subtrees (start tags, text, children), without allocating: the common case of an
/// untouched unit, checked before the normalising comparison.
fn rauw_gelijk(a: &Element, b: &Element) -> bool {
    a.start_tag() == b.start_tag()
        && a.ns() == b.ns()
        && a.children.len() == b.children.len()
        && a.children.iter().zip(&b.children).all(|(x, y)| match (x, y) {
            (Node::Element(x), Node::Element(y)) => Arc::ptr_eq(x, y) || rauw_gelijk(x, y),
            (Node::Element(_), _) | (_, Node::Element(_)) => false,
            _ => x.raw() == y.raw(),
        })
}

/// Equal modulo white-space-only text (what `canonical_xml` ignores), attribute order and, per
/// `m`, eIds.
fn gelijk(a: &Element, b: &Element, m: &EidModus<'_>, top: Top) -> bool {
    let zonder_hernoeming = match m {
        EidModus::Negeren => true,
        EidModus::Hernoemd(k) => k.is_empty(),
    };
    if zonder_hernoeming && !top.eenheden && !top.kop && rauw_gelijk(a, b) {
        return true;
    }
    if a.name() != b.name() || a.ns() != b.ns() {
        return false;
    }
    if !top.attrs {
        if !attrs_gelijk(a, b) {
            return false;
        }
        if !top.eigen_eid
            && let EidModus::Hernoemd(k) = m
            && a.eid().map(|e| hernoem(e, k)).as_deref() != b.eid()
        {
            return false;
        }
    }
    let (ka, kb) = (kinderen(a, top), kinderen(b, top));
    ka.len() == kb.len()
        && ka.iter().zip(&kb).all(|(x, y)| match (x, y) {
            (Kind::El(x), Kind::El(y)) => gelijk(x, y, m, Top::default()),
            (Kind::Tekst(x), Kind::Tekst(y)) => x == y,
            _ => false,
        })
}

fn hash(e: &Element) -> u64 {
    let mut scratch = Vec::new();
    inhoud_hash(e, &mut scratch)
}

// ------------------------------------------------------------------------------------- alignment

fn element_kinderen(e: &Element) -> Vec<&Arc<Element>> {
    e.children
        .iter()
        .filter_map(|c| match c {
            Node::Element(x) => Some(x),
            _ => None,
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stap {
    Paar(usize, usize),
    A(usize),
    B(usize),
}

#[derive(PartialEq, Eq, Hash)]
enum Sleutel<'e> {
    Wid(&'e str),
    Inhoud(u64),
}

#[derive(PartialEq, Eq, Hash)]
enum Naam<'e> {
    Wid(&'e str),
    Naam(&'e str, &'e str),
}

/// Align two lists of sibling elements: first elements with the same wId or (without wId) the
/// same content modulo white space and eIds, then, between those, elements without wId by name.
fn uitlijn(ea: &[&Arc<Element>], eb: &[&Arc<Element>]) -> Vec<Stap> {
    fn sleutel<'e>(e: &&'e Arc<Element>) -> Sleutel<'e> {
        let e: &'e Arc<Element> = e;
        match e.wid() {
            Some(w) => Sleutel::Wid(w),
            None => Sleutel::Inhoud(hash(e)),
        }
    }
    let ka: Vec<Sleutel<'_>> = ea.iter().map(sleutel).collect();
    let kb: Vec<Sleutel<'_>> = eb.iter().map(sleutel).collect();
    let mut out = Vec::with_capacity(ea.len().max(eb.len()));
    let mut gat: Option<(Range<usize>, Range<usize>)> = None;
    for op in capture_diff_slices(Algorithm::Myers, &ka, &kb) {
        let (tag, ra, rb) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            if let Some((ga, gb)) = gat.take() {
                uitlijn_gat(ea, eb, ga, gb, &mut out);
            }
            out.extend(ra.zip(rb).map(|(x, y)| Stap::Paar(x, y)));
        } else {
            gat = Some(match gat.take() {
                Some((ga, gb)) => (ga.start..ra.end.max(ga.end), gb.start..rb.end.max(gb.end)),
                None => (ra, rb),
            });
        }
    }
    if let Some((ga, gb)) = gat {
        uitlijn_gat(ea, eb, ga, gb, &mut out);
    }
    out
}

fn uitlijn_gat(ea: &[&Arc<Element>], eb: &[&Arc<Element>], ga: Range<usize>, gb: Range<usize>, out: &mut Vec<Stap>) {
    fn naam<'e>(e: &&'e Arc<Element>) -> Naam<'e> {
        let e: &'e Arc<Element> = e;
        match e.wid() {
            Some(w) => Naam::Wid(w),
            None => Naam::Naam(e.name(), e.ns()),
        }
    }
    let na: Vec<Naam<'_>> = ea[ga.clone()].iter().map(naam).collect();
    let nb: Vec<Naam<'_>> = eb[gb.clone()].iter().map(naam).collect();
    for op in capture_diff_slices(Algorithm::Myers, &na, &nb) {
        let (tag, ra, rb) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => out.extend(ra.zip(rb).map(|(x, y)| Stap::Paar(ga.start + x, gb.start + y))),
            _ => {
                out.extend(ra.map(|x| Stap::A(ga.start + x)));
                out.extend(rb.map(|y| Stap::B(gb.start + y)));
            }
        }
    }
}

// ------------------------------------------------------------------------------------ inline diff

enum Tok<'e> {
    Woord(String),
    Spatie(String),
    El(&'e Arc<Element>),
}

#[derive(PartialEq, Eq, Hash)]
enum TokSleutel<'t> {
    Woord(&'t str),
    Spatie,
    El(u64),
}

fn splits(s: &str, out: &mut Vec<Tok<'_>>) {
    #[derive(PartialEq, Clone, Copy)]
    enum K {
        Spatie,
        Woord,
        Teken,
    }
    let soort = |c: char| {
        if c.is_whitespace() {
            K::Spatie
        } else if c.is_alphanumeric() {
            K::Woord
        } else {
            K::Teken
        }
    };
    let mut cur = String::new();
    let mut k = K::Teken;
    let push = |cur: &mut String, k: K, out: &mut Vec<Tok<'_>>| {
        if !cur.is_empty() {
            let s = std::mem::take(cur);
            out.push(if k == K::Spatie { Tok::Spatie(s) } else { Tok::Woord(s) });
        }
    };
    for c in s.chars() {
        let n = soort(c);
        if n != k || n == K::Teken {
            push(&mut cur, k, out);
            k = n;
        }
        cur.push(c);
    }
    push(&mut cur, k, out);
}

fn tokens(e: &Element) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut buf = String::new();
    for c in &e.children {
        match c {
            Node::Element(x) => {
                splits(&buf, &mut out);
                buf.clear();
                out.push(Tok::El(x));
            }
            Node::Text(_) | Node::CData(_) => buf.push_str(&c.char_data()),
            _ => {}
        }
    }
    splits(&buf, &mut out);
    out
}

fn tok_sleutels<'t>(t: &'t [Tok<'_>]) -> Vec<TokSleutel<'t>> {
    t.iter()
        .map(|x| match x {
            Tok::Woord(s) => TokSleutel::Woord(s),
            Tok::Spatie(_) => TokSleutel::Spatie,
            Tok::El(e) => TokSleutel::El(hash(e)),
        })
        .collect()
}

/// A change of one inline element into one of the same kind: diffed inside that element.
fn binnen_inline(ta: &[Tok<'_>], tb: &[Tok<'_>], seg: &(bool, Range<usize>, Range<usize>)) -> bool {
    match (&ta[seg.1.clone()], &tb[seg.2.clone()]) {
        ([Tok::El(x)], [Tok::El(y)]) => {
            x.name() == y.name() && x.ns() == y.ns() && x.wid() == y.wid() && attrs_gelijk(x, y) && (gemengd(x) || gemengd(y))
        }
        _ => false,
    }
}

/// Equal and changed segments of two token lists; white-space-only equal segments between two
/// changes are folded into one change.
fn segmenten(ta: &[Tok<'_>], tb: &[Tok<'_>]) -> Vec<(bool, Range<usize>, Range<usize>)> {
    let (ka, kb) = (tok_sleutels(ta), tok_sleutels(tb));
    let mut segs: Vec<(bool, Range<usize>, Range<usize>)> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &ka, &kb) {
        let (tag, ra, rb) = op.as_tag_tuple();
        let gelijk = tag == DiffTag::Equal;
        match segs.last_mut() {
            Some((false, pa, pb)) if !gelijk => {
                pa.end = ra.end.max(pa.end);
                pb.end = rb.end.max(pb.end);
            }
            _ => segs.push((gelijk, ra, rb)),
        }
    }
    // Characters of the non-space tokens of a range of `tb` / `ta`.
    let tekens = |ts: &[Tok<'_>]| -> (usize, usize) {
        let mut n = (0, 0);
        for t in ts {
            match t {
                Tok::Woord(s) => {
                    n.0 += 1;
                    n.1 += s.chars().count();
                }
                Tok::El(e) => {
                    n.0 += 1;
                    n.1 += e.text().chars().count();
                }
                Tok::Spatie(_) => {}
            }
        }
        n
    };
    let omvang = |seg: &(bool, Range<usize>, Range<usize>)| tekens(&ta[seg.1.clone()]).1 + tekens(&tb[seg.2.clone()]).1;
    let mut i = 1;
    while i + 1 < segs.len() {
        // Fold a small equal part between two changes into them (like diff-match-patch's semantic
        // cleanup): "de <del>x</del><ins>y</ins> in <del>z</del>" reads worse than one change.
        let (woorden, lengte) = tekens(&tb[segs[i].2.clone()]);
        let klein = segs[i].0
            && !segs[i - 1].0
            && !segs[i + 1].0
            && !binnen_inline(ta, tb, &segs[i - 1])
            && !binnen_inline(ta, tb, &segs[i + 1])
            && woorden <= 2
            && lengte <= omvang(&segs[i - 1]).min(omvang(&segs[i + 1]));
        if klein {
            let (_, ra, rb) = segs.remove(i + 1);
            segs.remove(i);
            let p = &mut segs[i - 1];
            p.1.end = ra.end;
            p.2.end = rb.end;
        } else {
            i += 1;
        }
    }
    segs
}

// ------------------------------------------------------------------------------------ namespaces

struct Ns {
    /// Prefix for the elements we write ("" or "p:").
    prefix: String,
    a: Bindings,
    m: Bindings,
    /// Namespace declarations for the RegelingMutatie start tag.
    decls: Vec<(String, String)>,
}

impl Ns {
    fn new(a: &Boom<'_>, b: &Boom<'_>) -> Ns {
        let mut decls: Vec<(String, String)> =
            b.root().namespace_declarations().map(|(p, u)| (p.to_string(), u.into_owned())).collect();
        let prefix = match decls.iter().find(|(_, u)| u == TEKST) {
            Some((p, _)) if p.is_empty() => String::new(),
            Some((p, _)) => format!("{p}:"),
            None if !decls.iter().any(|(p, _)| p.is_empty()) => {
                decls.insert(0, (String::new(), TEKST.to_string()));
                String::new()
            }
            None => {
                decls.push(("tekst".to_string(), TEKST.to_string()));
                "tekst:".to_string()
            }
        };
        let mut m = Bindings::default();
        for (p, u) in &decls {
            m.0.push((p.clone(), u.clone()));
        }
        Ns { prefix, a: a.bindings.clone(), m, decls }
    }

    fn van_a(&self, n: Node) -> Node {
        fix_namespaces(n, &self.a, &self.m)
    }

    fn element(&self, naam: &str) -> Element {
        Element::new(&format!("{}{naam}", self.prefix), Some(TEKST))
    }
}

fn inspring(diepte: usize) -> Node {
    Node::Text(Raw::new(&format!("\n{}", "  ".repeat(diepte))))
}

/// A copy of `b` (start tag and end tag) with other children.
fn met_kinderen(b: &Element, kinderen: Vec<Node>) -> Element {
    let mut e = b.clone();
    e.key = fresh_key();
    e.children = kinderen;
    if !e.children.is_empty() {
        e.open();
    }
    e
}

fn met_kinderen_ingesprongen(b: &Element, kinderen: Vec<Node>, diepte: usize) -> Element {
    if kinderen.is_empty() {
        return met_kinderen(b, kinderen);
    }
    let mut k = Vec::with_capacity(kinderen.len() * 2 + 1);
    for n in kinderen {
        k.push(inspring(diepte + 1));
        k.push(n);
    }
    k.push(inspring(diepte));
    met_kinderen(b, k)
}

// ----------------------------------------------------------------------------------- the renderer

/// Renders the renvooi of a pair of elements: in payload mode (`plan` given) the subtree as a
/// Vervang payload, in report mode the own content of a unit (child units left out).
struct Render<'p, 'a> {
    plan: Option<&'p Plan<'a>>,
    ns: &'p Ns,
    /// A renvooi marker was written.
    markering: bool,
    /// Something could not be expressed in renvooi.
    fout: Option<String>,
}

impl<'p, 'a> Render<'p, 'a> {
    fn new(plan: Option<&'p Plan<'a>>, ns: &'p Ns) -> Render<'p, 'a> {
        Render { plan, ns, markering: false, fout: None }
    }

    fn met_context(&self, e: &Element) -> bool {
        self.plan.is_some_and(|p| p.met_context_el(e))
    }

    /// `b`'s subtree without the units that are moved in by an action of their own.
    fn b_kopie(&self, b: &Arc<Element>) -> Node {
        match self.plan {
            Some(p) if p.bevat_context_el(b) => {
                let kinderen = b
                    .children
                    .iter()
                    .filter_map(|c| match c {
                        Node::Element(x) if is_eenheid(x) && p.met_context_el(x) => None,
                        Node::Element(x) => Some(self.b_kopie(x)),
                        n => Some(n.clone()),
                    })
                    .collect();
                Node::Element(Arc::new(met_kinderen(b, kinderen)))
            }
            _ => Node::Element(Arc::clone(b)),
        }
    }

    fn markeer(&mut self, n: Node, actie: &str) -> Node {
        let Node::Element(e) = n else { return n };
        if !mag(e.name(), actie) {
            self.fout.get_or_insert_with(|| format!("{} kan niet met wijzigactie=\"{actie}\" worden gemarkeerd", e.name()));
            return Node::Element(e);
        }
        self.markering = true;
        let mut c = Arc::unwrap_or_clone(e);
        c.key = fresh_key();
        c.set_attr("wijzigactie", actie);
        Node::Element(Arc::new(c))
    }

    fn bestaat_in_b(&self, w: &str) -> bool {
        self.plan.is_some_and(|p| p.an.b.heeft_wid(w))
    }

    fn bestaat_in_a(&self, w: &str) -> bool {
        self.plan.is_some_and(|p| p.an.a.heeft_wid(w))
    }

    /// The renvooi element for an aligned pair (same name, same attributes but eId).
    fn element(&mut self, a: &Arc<Element>, b: &Arc<Element>, diepte: usize) -> Node {
        if self.plan.is_some() && gelijk(a, b, &EXACT, Top::default()) {
            return self.b_kopie(b);
        }
        if gemengd(a) || gemengd(b) {
            let k = self.inline(a, b);
            Node::Element(Arc::new(met_kinderen(b, k)))
        } else {
            let k = self.blok(a, b, diepte, false);
            Node::Element(Arc::new(met_kinderen_ingesprongen(b, k, diepte)))
        }
    }

    /// Renvooi of the element children of an element-only pair. `top`: the pair is a unit (in
    /// report mode its child units are left out).
    fn blok(&mut self, a: &Element, b: &Element, diepte: usize, top: bool) -> Vec<Node> {
        let (ea, eb) = (element_kinderen(a), element_kinderen(b));
        let rapport = self.plan.is_none();
        let weg = |e: &Element| rapport && top && is_eenheid(e);
        let mut out = Vec::new();
        for s in uitlijn(&ea, &eb) {
            match s {
                Stap::Paar(i, k) => {
                    let (x, y) = (ea[i], eb[k]);
                    if weg(y) {
                        continue;
                    }
                    if attrs_gelijk(x, y) {
                        out.push(self.element(x, y, diepte + 1));
                    } else {
                        let oud = self.ns.van_a(Node::Element(Arc::clone(x)));
                        out.push(self.markeer(oud, "verwijder"));
                        let nieuw = self.b_kopie(y);
                        out.push(self.markeer(nieuw, "voegtoe"));
                    }
                }
                Stap::A(i) => {
                    let x = ea[i];
                    if weg(x) {
                        continue;
                    }
                    let actie = match x.wid() {
                        Some(w) if self.bestaat_in_b(w) => verplaatst_van(x.name()),
                        _ => "verwijder",
                    };
                    let oud = self.ns.van_a(Node::Element(Arc::clone(x)));
                    out.push(self.markeer(oud, actie));
                }
                Stap::B(k) => {
                    let y = eb[k];
                    if weg(y) || (is_eenheid(y) && self.met_context(y)) {
                        continue;
                    }
                    let actie = match y.wid() {
                        Some(w) if self.bestaat_in_a(w) => verplaatst_naar(y.name()),
                        _ => "voegtoe",
                    };
                    let nieuw = self.b_kopie(y);
                    out.push(self.markeer(nieuw, actie));
                }
            }
        }
        out
    }

    fn tok_node(&self, t: &Tok<'_>, tekst: &mut String, out: &mut Vec<Node>, van_a: bool) {
        match t {
            Tok::Woord(s) | Tok::Spatie(s) => tekst.push_str(s),
            Tok::El(e) => {
                if !tekst.is_empty() {
                    out.push(Node::text(tekst));
                    tekst.clear();
                }
                let n = Node::Element(Arc::clone(e));
                out.push(if van_a { self.ns.van_a(n) } else { n });
            }
        }
    }

    fn tok_nodes(&self, ts: &[Tok<'_>], van_a: bool) -> Vec<Node> {
        let mut out = Vec::new();
        let mut tekst = String::new();
        for t in ts {
            self.tok_node(t, &mut tekst, &mut out, van_a);
        }
        if !tekst.is_empty() {
            out.push(Node::text(&tekst));
        }
        out
    }

    /// Word-level renvooi of mixed content.
    fn inline(&mut self, a: &Element, b: &Element) -> Vec<Node> {
        let (ta, tb) = (tokens(a), tokens(b));
        let mut out = Vec::new();
        let mut tekst = String::new();
        let flush = |tekst: &mut String, out: &mut Vec<Node>| {
            if !tekst.is_empty() {
                out.push(Node::text(tekst));
                tekst.clear();
            }
        };
        for (eq, ra, rb) in segmenten(&ta, &tb) {
            if eq {
                for t in &tb[rb] {
                    self.tok_node(t, &mut tekst, &mut out, false);
                }
                continue;
            }
            let inline_paar = binnen_inline(&ta, &tb, &(false, ra.clone(), rb.clone()));
            let (da, db) = (&ta[ra], &tb[rb]);
            if let ([Tok::El(x)], [Tok::El(y)]) = (da, db)
                && inline_paar
            {
                flush(&mut tekst, &mut out);
                let k = self.inline(x, y);
                out.push(Node::Element(Arc::new(met_kinderen(y, k))));
                continue;
            }
            flush(&mut tekst, &mut out);
            if !da.is_empty() {
                let mut e = self.ns.element("VerwijderdeTekst");
                e.children_mut().extend(self.tok_nodes(da, true));
                out.push(Node::Element(Arc::new(e)));
                self.markering = true;
            }
            if !db.is_empty() {
                let mut e = self.ns.element("NieuweTekst");
                e.children_mut().extend(self.tok_nodes(db, false));
                out.push(Node::Element(Arc::new(e)));
                self.markering = true;
            }
        }
        flush(&mut tekst, &mut out);
        out
    }
}

// ----------------------------------------------------------------------------------------- report

fn normaliseer(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut spatie = false;
    for c in s.chars() {
        if c.is_whitespace() {
            spatie = true;
        } else {
            if spatie {
                out.push(' ');
            }
            spatie = false;
            out.push(c);
        }
    }
    if spatie {
        out.push(' ');
    }
    out
}

fn kop_tekst(e: &Element) -> Option<String> {
    let kop = e.child("Kop")?;
    let delen: Vec<String> = kop.elements().map(|c| normaliseer(&c.text()).trim().to_string()).filter(|s| !s.is_empty()).collect();
    Some(delen.join(" "))
}

fn status_van(e: &Element, ctx: BlokSoort) -> BlokSoort {
    match e.attr("wijzigactie").as_deref() {
        Some("voegtoe" | "verplaatstNaar") => BlokSoort::Toegevoegd,
        Some("verwijder" | "verplaatstVan") => BlokSoort::Verwijderd,
        _ => ctx,
    }
}

fn delen(e: &Element, soort: DeelSoort, out: &mut Vec<Deel>) {
    for c in &e.children {
        match c {
            Node::Element(x) if x.is_tekst("NieuweTekst") => delen(x, DeelSoort::Toegevoegd, out),
            Node::Element(x) if x.is_tekst("VerwijderdeTekst") => delen(x, DeelSoort::Verwijderd, out),
            Node::Element(x) => delen(x, soort, out),
            Node::Text(_) | Node::CData(_) => {
                let t = c.char_data();
                match out.last_mut() {
                    Some(d) if d.soort == soort => d.tekst.push_str(&t),
                    _ => out.push(Deel { soort, tekst: t.into_owned() }),
                }
            }
            _ => {}
        }
    }
}

/// The text containers of a rendered own content, as blocks.
fn blokken(e: &Element, pad: &str, ctx: BlokSoort, top: bool, out: &mut Vec<Blok>) {
    let kids: Vec<&Arc<Element>> = element_kinderen(e).into_iter().filter(|c| !(top && is_eenheid(c))).collect();
    let mut teller: HashMap<&str, (usize, usize)> = HashMap::new();
    for c in &kids {
        teller.entry(c.name()).or_default().1 += 1;
    }
    for c in kids {
        let t = teller.entry(c.name()).or_default();
        t.0 += 1;
        let naam = if t.1 > 1 { format!("{}[{}]", c.name(), t.0) } else { c.name().to_string() };
        let p = if pad.is_empty() { naam } else { format!("{pad}/{naam}") };
        let status = status_van(c, ctx);
        if gemengd(c) {
            let basis = match status {
                BlokSoort::Toegevoegd => DeelSoort::Toegevoegd,
                BlokSoort::Verwijderd => DeelSoort::Verwijderd,
                _ => DeelSoort::Gelijk,
            };
            let mut d = Vec::new();
            delen(c, basis, &mut d);
            for x in &mut d {
                x.tekst = normaliseer(&x.tekst);
            }
            if let Some(f) = d.first_mut() {
                f.tekst = f.tekst.trim_start().to_string();
            }
            if let Some(l) = d.last_mut() {
                l.tekst = l.tekst.trim_end().to_string();
            }
            d.retain(|x| !x.tekst.is_empty());
            let soort = if status != BlokSoort::Gelijk {
                status
            } else if d.iter().any(|x| x.soort != DeelSoort::Gelijk) {
                BlokSoort::Gewijzigd
            } else {
                BlokSoort::Gelijk
            };
            out.push(Blok { pad: p, soort, delen: d });
        } else {
            blokken(c, &p, status, false, out);
        }
    }
}

/// The differences between two versions of a regeling (or any two STOP texts with units), unit
/// by unit, with a word-level diff of what changed inside them.
pub fn vergelijk(was: &Tekst, wordt: &Tekst) -> Result<Verschil, VerschilFout> {
    let an = Analyse::new(was, wordt)?;
    let ns = Ns::new(&an.a, &an.b);
    let (ra, rb) = (an.a.root(), an.b.root());
    let buiten = ra.name() != rb.name() || !gelijk(ra, rb, &EXACT, Top { eenheden: true, attrs: true, ..Top::default() });
    let ouder_wid = |boom: &Boom<'_>, i: usize| {
        let p = boom.ouder(i);
        (p != 0).then(|| boom.eenheden[p].wid.to_string())
    };
    let mut lijst: Vec<((usize, usize, usize), EenheidVerschil)> = Vec::new();
    for j in 1..an.b.len() {
        let bu = an.b.eenheden[j];
        let mut v = EenheidVerschil {
            wid: bu.wid.to_string(),
            element: bu.el.name().to_string(),
            wijzigingen: Vec::new(),
            eid_was: None,
            eid_wordt: bu.el.eid().map(str::to_string),
            kop_was: None,
            kop_wordt: kop_tekst(bu.el),
            ouder_was: None,
            ouder_wordt: ouder_wid(&an.b, j),
            tekst: Vec::new(),
        };
        match an.b_naar_a[j] {
            None => {
                v.wijzigingen.push(Wijziging::Toegevoegd);
                blokken(bu.el, "", BlokSoort::Toegevoegd, true, &mut v.tekst);
            }
            Some(i) => {
                let au = an.a.eenheden[i];
                v.eid_was = au.el.eid().map(str::to_string);
                v.kop_was = kop_tekst(au.el);
                v.ouder_was = ouder_wid(&an.a, i);
                let inhoud = !gelijk(au.el, bu.el, &EidModus::Negeren, EIGEN_ZONDER_KOP);
                let kop = match (au.el.child("Kop"), bu.el.child("Kop")) {
                    (Some(x), Some(y)) => !gelijk(x, y, &EidModus::Negeren, Top::default()),
                    (None, None) => false,
                    _ => true,
                };
                if inhoud {
                    v.wijzigingen.push(Wijziging::Gewijzigd);
                } else if kop || v.eid_was != v.eid_wordt {
                    v.wijzigingen.push(Wijziging::Hernummerd);
                }
                if an.verplaatst[j] {
                    v.wijzigingen.push(Wijziging::Verplaatst);
                }
                if v.wijzigingen.is_empty() {
                    continue;
                }
                if inhoud || kop {
                    let mut r = Render::new(None, &ns);
                    let k = r.blok(au.el, bu.el, 0, true);
                    let eigen = met_kinderen(bu.el, k);
                    blokken(&eigen, "", BlokSoort::Gelijk, true, &mut v.tekst);
                }
            }
        }
        lijst.push(((j, 0, 0), v));
    }
    for i in 1..an.a.len() {
        if an.a_naar_b[i].is_some() {
            continue;
        }
        let au = an.a.eenheden[i];
        // After the wordt-position of the nearest preceding unit that both versions have.
        let na = (1..i).rev().find_map(|k| an.a_naar_b[k]).unwrap_or(0);
        let mut v = EenheidVerschil {
            wid: au.wid.to_string(),
            element: au.el.name().to_string(),
            wijzigingen: vec![Wijziging::Verwijderd],
            eid_was: au.el.eid().map(str::to_string),
            eid_wordt: None,
            kop_was: kop_tekst(au.el),
            kop_wordt: None,
            ouder_was: ouder_wid(&an.a, i),
            ouder_wordt: None,
            tekst: Vec::new(),
        };
        blokken(au.el, "", BlokSoort::Verwijderd, true, &mut v.tekst);
        lijst.push(((na, 1, i), v));
    }
    lijst.sort_by_key(|(k, _)| *k);
    let eenheden: Vec<EenheidVerschil> = lijst.into_iter().map(|(_, v)| v).collect();
    let mut s = Samenvatting::default();
    for e in &eenheden {
        for w in &e.wijzigingen {
            match w {
                Wijziging::Toegevoegd => s.toegevoegd += 1,
                Wijziging::Verwijderd => s.verwijderd += 1,
                Wijziging::Gewijzigd => s.gewijzigd += 1,
                Wijziging::Verplaatst => s.verplaatst += 1,
                Wijziging::Hernummerd => s.hernummerd += 1,
            }
        }
    }
    Ok(Verschil {
        was: ra.attr("wordt").map(|v| v.trim().to_string()),
        wordt: rb.attr("wordt").map(|v| v.trim().to_string()),
        model_was: ra.name().to_string(),
        model_wordt: rb.name().to_string(),
        buiten_eenheden_gewijzigd: buiten,
        samenvatting: s,
        eenheden,
    })
}

// ----------------------------------------------------------------------------------- the planning

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Gelijk,
    /// Only the Kop (and, by the prefix rule, eIds) changed.
    Kop {
        eid_wordt: Option<String>,
    },
    Inhoud,
}

struct Plan<'a> {
    an: Analyse<'a>,
    /// By B index.
    status: Vec<Status>,
    wortel: Vec<bool>,
    met_context: Vec<bool>,
    /// By B index: a context unit somewhere below.
    bevat_context: Vec<bool>,
}

impl<'a> Plan<'a> {
    fn b_index_van(&self, e: &Element) -> Option<usize> {
        let j = *self.an.b.index.get(e.wid()?)?;
        std::ptr::eq(&**self.an.b.eenheden[j].el, e).then_some(j)
    }

    fn met_context_el(&self, e: &Element) -> bool {
        self.b_index_van(e).is_some_and(|j| self.met_context[j])
    }

    fn bevat_context_el(&self, e: &Element) -> bool {
        if std::ptr::eq(&**self.an.b.root(), e) {
            return self.bevat_context[0];
        }
        self.b_index_van(e).is_some_and(|j| self.bevat_context[j])
    }
}

fn a_voorouder_wortel(an: &Analyse<'_>, wortel: &[bool], i: usize) -> bool {
    an.a.voorouders(i).any(|p| an.a_naar_b[p].is_some_and(|j| wortel[j]))
}

fn b_voorouder_wortel(an: &Analyse<'_>, wortel: &[bool], j: usize) -> bool {
    an.b.voorouders(j).any(|p| wortel[p])
}

/// Nearest proper ancestor in B that both versions have (B index).
fn gemeenschappelijk_b(an: &Analyse<'_>, j: usize) -> Option<usize> {
    an.b.voorouders(j).find(|&p| an.b_naar_a[p].is_some())
}

/// Nearest proper ancestor in A that both versions have (B index).
fn gemeenschappelijk_a(an: &Analyse<'_>, i: usize) -> Option<usize> {
    an.a.voorouders(i).find_map(|p| an.a_naar_b[p])
}

fn bepaal_status(a: &Element, b: &Element, keten: &[(String, String)], ns: &Ns) -> (Status, Option<(String, String)>) {
    let a_eid = a.eid().map(|e| hernoem(e, keten));
    if a_eid.as_deref() == b.eid() && gelijk(a, b, &EidModus::Hernoemd(keten), EIGEN) {
        return (Status::Gelijk, None);
    }
    let mut k2 = keten.to_vec();
    let hernoeming = match (&a_eid, b.eid()) {
        (Some(x), Some(y)) if x != y => Some((x.clone(), y.to_string())),
        _ => None,
    };
    k2.extend(hernoeming.clone());
    if let (Some(ka), Some(kb)) = (a.child("Kop"), b.child("Kop"))
        && gelijk(a, b, &EidModus::Hernoemd(&k2), EIGEN_ZONDER_KOP)
    {
        let mut r = Render::new(None, ns);
        let ka = Arc::new(ka.clone());
        let kb = Arc::new(kb.clone());
        r.element(&ka, &kb, 0);
        if r.markering && r.fout.is_none() {
            let eid_wordt = hernoeming.as_ref().map(|(_, y)| y.clone());
            return (Status::Kop { eid_wordt }, hernoeming);
        }
    }
    (Status::Inhoud, None)
}

/// The own content (child units excluded) of `e` has an element with a wId that `a` has.
fn brengt_wid_mee(e: &Element, a: &Boom<'_>) -> bool {
    e.elements().filter(|c| !is_eenheid(c)).flat_map(|c| c.descendants()).any(|d| d.wid().is_some_and(|w| a.heeft_wid(w)))
}

/// `vervang_hernummering`: a unit whose Kop and eId changed is replaced (Vervang) instead of
/// given a VervangKop with eId-wordt.
fn plan<'a>(an: Analyse<'a>, ns: &Ns, vervang_hernummering: bool) -> Result<Plan<'a>, String> {
    let (na, nb) = (an.a.len(), an.b.len());
    // Status per common unit, top-down, with the eId renames of VervangKop ancestors.
    let mut status = vec![Status::Gelijk; nb];
    let mut keten: Vec<Vec<(String, String)>> = vec![Vec::new(); nb];
    for j in 1..nb {
        let k = keten[an.b.ouder(j)].clone();
        if let Some(i) = an.b_naar_a[j] {
            let (s, h) = bepaal_status(an.a.eenheden[i].el, an.b.eenheden[j].el, &k, ns);
            let (s, h) = match s {
                Status::Kop { eid_wordt: Some(_) } if vervang_hernummering => (Status::Inhoud, None),
                s => (s, h),
            };
            status[j] = s;
            let mut k = k;
            k.extend(h);
            keten[j] = k;
        } else {
            keten[j] = k;
        }
    }
    let mut wortel: Vec<bool> = (0..nb).map(|j| an.b_naar_a[j].is_some() && j > 0 && (an.verplaatst[j] || status[j] == Status::Inhoud)).collect();
    // Units of A with a unit that stays somewhere below.
    let mut a_bevat_blijver = vec![false; na];
    for i in (1..na).rev() {
        if an.a_naar_b[i].is_some() || a_bevat_blijver[i] {
            let p = an.a.ouder(i);
            a_bevat_blijver[p] = true;
        }
    }
    let brengt_mee: Vec<bool> =
        (0..nb).map(|j| j > 0 && an.b_naar_a[j].is_none() && brengt_wid_mee(an.b.eenheden[j].el, &an.a)).collect();
    let mut rondes = 0;
    loop {
        rondes += 1;
        if rondes > 4 * nb + 16 {
            return Err("de planning van de wijzigacties convergeert niet".to_string());
        }
        let mut veranderd = false;
        for j in 1..nb {
            let Some(i) = an.b_naar_a[j] else { continue };
            if a_voorouder_wortel(&an, &wortel, i) {
                if wortel[j] {
                    wortel[j] = false;
                    veranderd = true;
                }
                if !b_voorouder_wortel(&an, &wortel, j) {
                    let k = gemeenschappelijk_b(&an, j).ok_or_else(|| {
                        format!("{} verhuist naar een plaats buiten elke eenheid die beide versies hebben", an.b.eenheden[j].wid)
                    })?;
                    wortel[k] = true;
                    veranderd = true;
                }
            } else if !wortel[j] && b_voorouder_wortel(&an, &wortel, j) {
                wortel[j] = true;
                veranderd = true;
            }
        }
        for (i, &blijver) in a_bevat_blijver.iter().enumerate().skip(1) {
            if an.a_naar_b[i].is_none() && blijver && !a_voorouder_wortel(&an, &wortel, i) {
                let k = gemeenschappelijk_a(&an, i).ok_or_else(|| {
                    format!("{} vervalt, maar bevat eenheden die blijven, buiten elke eenheid die beide versies hebben", an.a.eenheden[i].wid)
                })?;
                if !wortel[k] {
                    wortel[k] = true;
                    veranderd = true;
                }
            }
        }
        for (j, &mee) in brengt_mee.iter().enumerate().skip(1) {
            if mee && !b_voorouder_wortel(&an, &wortel, j) {
                let k = gemeenschappelijk_b(&an, j)
                    .ok_or_else(|| format!("{} bevat elementen uit de was-versie buiten elke eenheid die beide versies hebben", an.b.eenheden[j].wid))?;
                if !wortel[k] {
                    wortel[k] = true;
                    veranderd = true;
                }
            }
        }
        if !veranderd {
            break;
        }
    }
    let met_context: Vec<bool> =
        (0..nb).map(|j| wortel[j] && (an.verplaatst[j] || b_voorouder_wortel(&an, &wortel, j))).collect();
    let mut bevat_context = vec![false; nb];
    for j in (1..nb).rev() {
        if met_context[j] || bevat_context[j] {
            bevat_context[an.b.ouder(j)] = true;
        }
    }
    Ok(Plan { an, status, wortel, met_context, bevat_context })
}

// ------------------------------------------------------------------------------------ the mutation

struct Bouwer<'p, 'a> {
    plan: &'p Plan<'a>,
    ns: &'p Ns,
    acties: Vec<Node>,
}

impl<'p, 'a> Bouwer<'p, 'a> {
    fn actie(&mut self, naam: &str, attrs: &[(&str, &str)], payload: Vec<Node>) {
        let mut e = self.ns.element(naam);
        for (n, v) in attrs {
            e.set_attr(n, v);
        }
        let k = e.children_mut();
        for p in payload {
            k.push(inspring(2));
            k.push(p);
        }
        k.push(inspring(1));
        self.acties.push(Node::Element(Arc::new(e)));
    }

    /// Vervang payload of unit `j`; `Err` when it cannot be expressed.
    fn payload(&self, j: usize) -> Result<(Node, bool), String> {
        let i = self.plan.an.b_naar_a[j].ok_or("geen was-eenheid")?;
        let (a, b) = (self.plan.an.a.eenheden[i].el, self.plan.an.b.eenheden[j].el);
        if !attrs_gelijk(a, b) {
            return Err(format!("de attributen van {} zijn gewijzigd", b.wid().unwrap_or_default()));
        }
        let mut r = Render::new(Some(self.plan), self.ns);
        let n = r.element(a, b, 2);
        match r.fout {
            Some(f) => Err(f),
            None => Ok((n, r.markering)),
        }
    }

    /// Where to insert B unit `j`: (context, positie).
    fn plaats(&self, j: usize) -> Result<(String, &'static str), String> {
        let an = &self.plan.an;
        let p = an.b.ouder(j);
        let pel = an.b.eenheden[p].el;
        let el = an.b.eenheden[j].el;
        let kids = element_kinderen(pel);
        let pos = kids.iter().position(|k| Arc::ptr_eq(k, el)).ok_or("eenheid niet gevonden")?;
        if let Some(w) = kids[..pos].iter().rev().find_map(|k| k.wid()) {
            return Ok((w.to_string(), "volgtOp"));
        }
        if p != 0 {
            if kids[..pos].iter().all(|k| k.name() == "Kop") {
                return Ok((an.b.eenheden[p].wid.to_string(), "eersteKind"));
            }
            return Err(format!("{} staat niet direct na de kop van {}", an.b.eenheden[j].wid, an.b.eenheden[p].wid));
        }
        for k in &kids[pos + 1..] {
            let Some(w) = k.wid() else { continue };
            let aanwezig = match an.b.index.get(w) {
                Some(&jj) if std::ptr::eq(&**an.b.eenheden[jj].el, &***k) => {
                    an.b_naar_a[jj].is_some() && !self.plan.met_context[jj]
                }
                _ => true,
            };
            if aanwezig {
                return Ok((w.to_string(), "komtVoor"));
            }
        }
        Err(format!("geen context voor {}", an.b.eenheden[j].wid))
    }

    fn bouw(&mut self) -> Result<(), String> {
        let plan = self.plan;
        let an = &plan.an;
        let (na, nb) = (an.a.len(), an.b.len());
        // 1. Verwijder.
        for i in 1..na {
            let p = an.a.ouder(i);
            let ouder_weg = p != 0 && an.a_naar_b[p].is_none();
            if an.a_naar_b[i].is_some() || ouder_weg || a_voorouder_wortel(an, &plan.wortel, i) {
                continue;
            }
            let el = an.a.eenheden[i].el;
            let payload = self.ns.van_a(Node::Element(Arc::clone(el)));
            self.actie("Verwijder", &[("wat", an.a.eenheden[i].wid)], vec![payload]);
        }
        // 2. Vervang in place, VervangKop (those that change the eId wait for step 4).
        let mut hernummeren: Vec<(&str, &str, Node)> = Vec::new();
        for j in 1..nb {
            if an.b_naar_a[j].is_none() {
                continue;
            }
            let wid = an.b.eenheden[j].wid;
            if plan.wortel[j] && !plan.met_context[j] {
                let (n, markering) = self.payload(j)?;
                let attrs: &[(&str, &str)] = if markering { &[("wat", wid)] } else { &[("wat", wid), ("revisie", "1")] };
                self.actie("Vervang", attrs, vec![n]);
            } else if !plan.wortel[j]
                && !b_voorouder_wortel(an, &plan.wortel, j)
                && let Status::Kop { eid_wordt } = &plan.status[j]
            {
                let i = an.b_naar_a[j].unwrap_or_default();
                let (Some(ka), Some(kb)) = (an.a.eenheden[i].el.child("Kop"), an.b.eenheden[j].el.child("Kop")) else {
                    return Err(format!("{wid} heeft geen kop"));
                };
                let mut r = Render::new(Some(plan), self.ns);
                let kop = r.element(&Arc::new(ka.clone()), &Arc::new(kb.clone()), 2);
                if let Some(f) = r.fout {
                    return Err(f);
                }
                match eid_wordt {
                    Some(e) => hernummeren.push((wid, e.as_str(), kop)),
                    None => self.actie("VervangKop", &[("wat", wid)], vec![kop]),
                }
            }
        }
        // 3. VoegToe and moves, in the wordt-version's order.
        let mut gedaan = vec![false; nb];
        let mut j = 1;
        while j < nb {
            if gedaan[j] {
                j += 1;
                continue;
            }
            let covered = b_voorouder_wortel(an, &plan.wortel, j);
            if an.b_naar_a[j].is_some() {
                if plan.met_context[j] {
                    let (context, positie) = self.plaats(j)?;
                    let (n, _) = self.payload(j)?;
                    let wid = an.b.eenheden[j].wid;
                    self.actie("Vervang", &[("wat", wid), ("context", &context), ("positie", positie)], vec![n]);
                }
                j += 1;
                continue;
            }
            let p = an.b.ouder(j);
            let ouder_nieuw = p != 0 && an.b_naar_a[p].is_none();
            if covered || ouder_nieuw {
                j += 1;
                continue;
            }
            // A run of added siblings of one kind.
            let naam = an.b.eenheden[j].el.name();
            let mut run = vec![j];
            let mut k = j + 1;
            let mut laatste = j;
            while k < nb {
                if an.b.ouder(k) == p {
                    let volgt = an.b_naar_a[k].is_none() && an.b.eenheden[k].el.name() == naam && {
                        let kids = element_kinderen(an.b.eenheden[p].el);
                        let x = kids.iter().position(|e| Arc::ptr_eq(e, an.b.eenheden[laatste].el));
                        let y = kids.iter().position(|e| Arc::ptr_eq(e, an.b.eenheden[k].el));
                        matches!((x, y), (Some(x), Some(y)) if y == x + 1)
                    };
                    if !volgt {
                        break;
                    }
                    run.push(k);
                    laatste = k;
                } else if !an.b.voorouders(k).any(|v| v == laatste) {
                    break;
                }
                k += 1;
            }
            let (context, positie) = self.plaats(j)?;
            let r = Render::new(Some(plan), self.ns);
            let payload: Vec<Node> = run.iter().map(|&x| r.b_kopie(an.b.eenheden[x].el)).collect();
            self.actie("VoegToe", &[("context", &context), ("positie", positie)], payload);
            for x in run {
                gedaan[x] = true;
            }
            j += 1;
        }
        // 4. VervangKop with eId-wordt, outer units first. After the actions inside them: a
        // Vervang of a renamed element would otherwise register its eIds a second time in
        // pas_toe's uniqueness check, and the content they insert already has the new eIds
        // (which do not start with the old prefix, so the rename leaves them alone).
        for (wid, eid, kop) in hernummeren {
            self.actie("VervangKop", &[("wat", wid), ("eId-wordt", eid)], vec![kop]);
        }
        Ok(())
    }
}

fn esc_attr(v: &str) -> String {
    let mut s = String::new();
    super::tag::escape_attr(v, b'"', &mut s);
    s
}

fn mutatie_tekst(ns: &Ns, componentnaam: &str, was: &str, wordt: &str, acties: Vec<Node>) -> Result<Tekst, VerschilFout> {
    let mut start = format!("<{}RegelingMutatie", ns.prefix);
    for (p, u) in &ns.decls {
        let naam = if p.is_empty() { "xmlns".to_string() } else { format!("xmlns:{p}") };
        let _ = write!(start, " {naam}=\"{}\"", esc_attr(u));
    }
    let _ = write!(
        start,
        " componentnaam=\"{}\" was=\"{}\" wordt=\"{}\"/>",
        esc_attr(componentnaam),
        esc_attr(was),
        esc_attr(wordt)
    );
    let mut root = Element::parse(&start).map_err(|e| VerschilFout::Intern(e.to_string()))?;
    if !acties.is_empty() {
        let k = root.children_mut();
        for a in acties {
            k.push(inspring(1));
            k.push(a);
        }
        k.push(inspring(0));
    }
    let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n", root.to_xml());
    Tekst::parse(&xml).map_err(|e| VerschilFout::Intern(e.to_string()))
}

fn aantal_acties(t: &Tekst) -> usize {
    t.root().map_or(0, |r| r.elements().count())
}

/// Where two elements first differ (as [`gelijk`] with exact eIds sees it).
fn eerste_verschil(a: &Element, b: &Element, top: bool) -> Option<String> {
    let label = |e: &Element| match e.wid() {
        Some(w) => format!("{} (wId {w})", e.name()),
        None => e.name().to_string(),
    };
    if a.name() != b.name() {
        return Some(format!("element {} in plaats van {}", a.name(), b.name()));
    }
    if !top && (!attrs_gelijk(a, b) || a.eid() != b.eid()) {
        return Some(format!("bij {}: attributen {} in plaats van {}", label(b), a.start_tag(), b.start_tag()));
    }
    let (ka, kb) = (kinderen(a, Top::default()), kinderen(b, Top::default()));
    for i in 0..ka.len().max(kb.len()) {
        let d = match (ka.get(i), kb.get(i)) {
            (Some(Kind::El(x)), Some(Kind::El(y))) => eerste_verschil(x, y, false),
            (Some(Kind::Tekst(x)), Some(Kind::Tekst(y))) if x != y => Some(format!("tekst '{x}' in plaats van '{y}'")),
            (Some(Kind::Tekst(_)), Some(Kind::Tekst(_))) => None,
            (Some(Kind::El(x)), _) => Some(format!("element {} te veel", label(x))),
            (Some(Kind::Tekst(x)), _) => Some(format!("tekst '{x}' te veel")),
            (None, Some(Kind::El(y))) => Some(format!("element {} ontbreekt", label(y))),
            (None, Some(Kind::Tekst(y))) => Some(format!("tekst '{y}' ontbreekt")),
            (None, None) => None,
        };
        if let Some(d) = d {
            return Some(format!("{} › {d}", label(b)));
        }
    }
    None
}

/// The result of applying a mutation equals the target (root attributes aside).
fn resultaat_klopt(resultaat: &Tekst, doel: &Tekst) -> Result<(), String> {
    match (resultaat.root(), doel.root()) {
        (Some(x), Some(y)) if gelijk(x, y, &EXACT, Top { attrs: true, ..Top::default() }) => Ok(()),
        (Some(x), Some(y)) => Err(eerste_verschil(x, y, true).unwrap_or_default()),
        _ => Err("geen regeling".to_string()),
    }
}

fn fijne_acties(an: Analyse<'_>, ns: &Ns, ids: (&str, &str, &str), vervang_hernummering: bool) -> Result<Tekst, String> {
    let (componentnaam, was_id, wordt_id) = ids;
    let plan = plan(an, ns, vervang_hernummering)?;
    let mut b = Bouwer { plan: &plan, ns, acties: Vec::new() };
    b.bouw()?;
    let acties = std::mem::take(&mut b.acties);
    mutatie_tekst(ns, componentnaam, was_id, wordt_id, acties).map_err(|e| e.to_string())
}

/// The fine-grained actions as planned, before the check with `pas_toe` (for diagnosis).
#[doc(hidden)]
pub fn plan_acties(was: &Tekst, wordt: &Tekst) -> Result<Tekst, String> {
    let an = Analyse::new(was, wordt).map_err(|e| e.to_string())?;
    let ns = Ns::new(&an.a, &an.b);
    fijne_acties(an, &ns, ("regeling", "was", "wordt"), false)
}

/// A `RegelingMutatie` (`componentnaam`, `@was` = `was_id`, `@wordt` = `wordt_id`) that turns the
/// regeling version `was` into `wordt`, with renvooi; see the module documentation. Falls back
/// to a single `VervangRegeling` (reported in [`Mutatie::route`]) when the fine-grained actions
/// cannot express the change.
pub fn maak_mutatie(was: &Tekst, wordt: &Tekst, componentnaam: &str, was_id: &str, wordt_id: &str) -> Result<Mutatie, VerschilFout> {
    let an = Analyse::new(was, wordt)?;
    for r in [an.a.root(), an.b.root()] {
        if !MODELLEN.contains(&r.name()) {
            return Err(VerschilFout::GeenRegeling(r.name().to_string()));
        }
    }
    let ns = Ns::new(&an.a, &an.b);
    let (ra, rb) = (an.a.root(), an.b.root());
    let vervang_regeling = |reden: String, ns: &Ns, rb: &Arc<Element>| -> Result<Mutatie, VerschilFout> {
        let mut e = ns.element("VervangRegeling");
        let k = e.children_mut();
        k.push(inspring(2));
        k.push(Node::Element(Arc::clone(rb)));
        k.push(inspring(1));
        let tekst = mutatie_tekst(ns, componentnaam, was_id, wordt_id, vec![Node::Element(Arc::new(e))])?;
        Ok(Mutatie { tekst, route: Route::VervangRegeling { reden }, acties: 1 })
    };
    if ra.name() != rb.name() {
        let reden = format!(
            "het tekstmodel wijzigt van {} naar {}; de LVBB aanvaardt dat niet (LVBB5100): maak een nieuwe regeling en trek de oude in",
            ra.name(),
            rb.name()
        );
        return vervang_regeling(reden, &ns, rb);
    }
    if !gelijk(ra, rb, &EXACT, Top { eenheden: true, attrs: true, ..Top::default() }) {
        return vervang_regeling("de tekst buiten de eenheden (artikelen, structuurelementen) wijzigt".to_string(), &ns, rb);
    }
    let rb = Arc::clone(rb);
    let poging = |an: Analyse<'_>, vervang_hernummering: bool| -> Result<Tekst, String> {
        let t = fijne_acties(an, &ns, (componentnaam, was_id, wordt_id), vervang_hernummering)?;
        let toegepast = pas_toe(was, &t, "mutatie").map_err(|ms| {
            let codes: Vec<String> = ms.iter().map(|m| format!("{} {}", m.code, m.beschrijving)).collect();
            format!("de gegenereerde wijzigacties zijn niet toepasbaar: {}", codes.join("; "))
        })?;
        resultaat_klopt(&toegepast.tekst, wordt).map_err(|v| format!("de gegenereerde wijzigacties geven een andere tekst: {v}"))?;
        Ok(t)
    };
    // First with VervangKop for renumbered units; when pas_toe does not accept that (renames of
    // renames can collide in its eId bookkeeping), with those units replaced as a whole.
    let mut uitkomst = poging(an, false);
    if uitkomst.is_err() {
        uitkomst = poging(Analyse::new(was, wordt)?, true).map_err(|e| uitkomst.err().unwrap_or(e));
    }
    match uitkomst {
        Ok(tekst) => {
            let acties = aantal_acties(&tekst);
            Ok(Mutatie { tekst, route: Route::Acties, acties })
        }
        Err(reden) => vervang_regeling(reden, &ns, &rb),
    }
}

// ------------------------------------------------------------------------------------- rendering

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin:1.5rem 0 .25rem}\
section{border-left:4px solid #999;padding:.25rem 1rem;margin:1rem 0}\
section.toegevoegd{border-color:#2a2}section.verwijderd{border-color:#c22}section.gewijzigd{border-color:#d80}\
section.verplaatst,section.hernummerd{border-color:#37c}\
.soort{font-size:.8rem;font-weight:normal;color:#555;margin-left:.5rem}.meta{font-size:.8rem;color:#666;margin:0}\
.pad{display:block;font-size:.7rem;color:#888}p.blok{margin:.4rem 0}\
ins{background:#d4f7d4;text-decoration:none}del{background:#fbd5d5;color:#700}";

impl Verschil {
    /// The structured diff as JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// A standalone HTML page: per changed unit its own content inline, with `<ins>`/`<del>`
    /// per word.
    pub fn html(&self) -> String {
        let mut h = String::with_capacity(4096);
        let was = self.was.as_deref().unwrap_or("(was)");
        let wordt = self.wordt.as_deref().unwrap_or("(wordt)");
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>Verschil {} → {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
            esc(was),
            esc(wordt)
        );
        let _ = write!(
            h,
            "<h1>Verschil tussen twee regelingversies</h1>\n<p class=\"meta\">was: {}<br/>wordt: {}</p>\n",
            esc(was),
            esc(wordt)
        );
        let s = &self.samenvatting;
        let _ = writeln!(
            h,
            "<p>{} toegevoegd, {} verwijderd, {} gewijzigd, {} verplaatst, {} hernummerd.</p>",
            s.toegevoegd, s.verwijderd, s.gewijzigd, s.verplaatst, s.hernummerd
        );
        if self.model_was != self.model_wordt {
            let _ = writeln!(h, "<p>Het tekstmodel wijzigt van {} naar {}.</p>", esc(&self.model_was), esc(&self.model_wordt));
        } else if self.buiten_eenheden_gewijzigd {
            h.push_str("<p>Ook tekst buiten de artikelen en structuurelementen wijzigt.</p>\n");
        }
        if self.eenheden.is_empty() {
            h.push_str("<p>Geen verschillen.</p>\n");
        }
        for e in &self.eenheden {
            let soorten: Vec<&str> = e.wijzigingen.iter().map(|w| w.as_str()).collect();
            let titel = e.kop_wordt.as_deref().or(e.kop_was.as_deref()).filter(|k| !k.is_empty()).unwrap_or(&e.element);
            let _ = writeln!(
                h,
                "<section class=\"{}\" id=\"{}\">\n<h2>{}<span class=\"soort\">{}</span></h2>",
                soorten.join(" "),
                esc(&e.wid),
                esc(titel),
                soorten.join(", ")
            );
            let _ = write!(h, "<p class=\"meta\">{} · wId {}", esc(&e.element), esc(&e.wid));
            if e.eid_was != e.eid_wordt
                && let (Some(x), Some(y)) = (&e.eid_was, &e.eid_wordt)
            {
                let _ = write!(h, " · eId <del>{}</del> <ins>{}</ins>", esc(x), esc(y));
            }
            if e.wijzigingen.contains(&Wijziging::Verplaatst) {
                let o = |x: &Option<String>| x.as_deref().map_or("de regeling".to_string(), esc);
                let _ = write!(h, " · verplaatst van {} naar {}", o(&e.ouder_was), o(&e.ouder_wordt));
            }
            h.push_str("</p>\n");
            for b in &e.tekst {
                let _ = write!(h, "<p class=\"blok {}\"><span class=\"pad\">{}</span>", blok_klasse(b.soort), esc(&b.pad));
                for d in &b.delen {
                    let t = esc(&d.tekst);
                    let _ = match (b.soort, d.soort) {
                        (BlokSoort::Toegevoegd, _) | (_, DeelSoort::Toegevoegd) => write!(h, "<ins>{t}</ins>"),
                        (BlokSoort::Verwijderd, _) | (_, DeelSoort::Verwijderd) => write!(h, "<del>{t}</del>"),
                        _ => write!(h, "{t}"),
                    };
                }
                h.push_str("</p>\n");
            }
            h.push_str("</section>\n");
        }
        h.push_str("</body>\n</html>\n");
        h
    }
}

fn blok_klasse(s: BlokSoort) -> &'static str {
    match s {
        BlokSoort::Gelijk => "gelijk",
        BlokSoort::Gewijzigd => "gewijzigd",
        BlokSoort::Toegevoegd => "toegevoegd",
        BlokSoort::Verwijderd => "verwijderd",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Tekst {
        Tekst::parse(s).unwrap()
    }

    #[test]
    fn words_spaces_and_punctuation_are_tokens() {
        let mut v = Vec::new();
        splits("De raad, stelt  regels.", &mut v);
        let s: Vec<String> = v
            .iter()
            .map(|x| match x {
                Tok::Woord(s) => s.clone(),
                Tok::Spatie(_) => "_".into(),
                Tok::El(_) => "E".into(),
            })
            .collect();
        assert_eq!(s, ["De", "_", "raad", ",", "_", "stelt", "_", "regels", "."]);
    }

    #[test]
    fn renames_follow_the_prefix_rule() {
        let k = vec![("chp_2".to_string(), "chp_3".to_string()), ("chp_3__art_2.1".to_string(), "chp_3__art_3.1".to_string())];
        assert_eq!(hernoem("chp_2__art_2.1__para_1", &k), "chp_3__art_3.1__para_1");
        assert_eq!(hernoem("chp_20__art_1", &k), "chp_20__art_1");
    }

    #[test]
    fn white_space_only_text_is_insignificant_other_text_is_not() {
        let a = t("<A wId=\"w\" eId=\"e\">\n  <Al>De raad</Al>\n</A>");
        let b = t("<A eId=\"e\" wId=\"w\"><Al>De raad</Al></A>");
        let c = t("<A eId=\"e\" wId=\"w\"><Al>De  raad</Al></A>");
        let (a, b, c) = (a.root().unwrap(), b.root().unwrap(), c.root().unwrap());
        assert!(gelijk(a, b, &EXACT, Top::default()));
        assert!(!gelijk(a, c, &EXACT, Top::default()));
    }
}
