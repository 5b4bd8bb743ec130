//! Applying a `RegelingMutatie` to a stored regeling version (research notes §3.5).
//!
//! [`pas_toe`] works on a copy-on-write copy of the was-version and applies the actions in
//! document order; a context may name an element added by an earlier action (LVBB5027 asks for
//! the context to exist in the *wordt*-version). Lookups use the was-version's wId index (cached
//! in its [`Tekst`]); elements added by the mutation get their own small index, and removed
//! subtrees are remembered by their path in the was-version, so nothing is reparsed or
//! re-indexed per action. The wordt-version gets an index *derived* from the was-version's (the
//! added entries and the removed subtrees on top of it; rebuilt from the tree after 64 layers),
//! so amending the result again does not index the whole regeling either.
//!
//! Post-conditions are checked on what the mutation inserted, against the was-version (which is
//! assumed to satisfy them already): an inserted wId/eId must not occur twice, nor also in a part
//! of the was-version that remains.
//!
//! Checks, each a melding with the action element's file, line and column:
//!
//! | check | code |
//! |---|---|
//! | not a RegelingMutatie; unknown action element; VervangRegeling mixed with other actions | RB3650, RB3651, RB3652 |
//! | payload count (one element for Vervang/Verwijder/VervangKop/VervangRegeling, ≥ 1 for VoegToe) | RB3653 |
//! | VoegToe without context and positie; positie value; missing @wat | RB3654, RB3655, RB3659 |
//! | only one of @context/@positie | STOP0119 |
//! | unknown `wijzigactie` value | RB3656 |
//! | Vervang/VervangKop @wat unknown; Verwijder @wat unknown | LVBB5003; LVBB5024 |
//! | payload top wId ≠ @wat | STOP0077 |
//! | no renvooi and no context (not a revisie) | STOP0086 |
//! | revisie="1" with renvooi or context | LVBB5031 |
//! | old(payload) vs the was element: unmarked new wIds; an unmarked new element around existing ones; was-wIds missing; extra wIds in a Verwijder; any other difference | LVBB5025; LVBB5029; LVBB5026; LVBB5028; RB3660 |
//! | context unknown; context removed by this mutation | LVBB5027; STOP0124 |
//! | VoegToe adds a wId of the was-version | LVBB5023 |
//! | two Vervang on overlapping subtrees; other overlapping actions | LVBB5033; RB3657 |
//! | Vervang moves onto (or into) itself | LVBB5032 |
//! | VervangKop target without Kop | RB3658 |
//! | VervangRegeling with another model | LVBB5100 |
//! | post-conditions: no renvooi left; eId and wId unique | RB3661; STOP0027, STOP0028 |
//!
//! A rejected mutation returns every melding, not only the first: after a failed check the
//! action is still applied when its target was found, so later actions are checked against the
//! intended text.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use super::compare::{inhoud_hash, opsomming, verschil};
use super::index::{FxMap, Index, Step, is_under, resolve, steps_of};
use super::renvooi::{self, heeft_renvooi, onbekende_wijzigacties};
use super::{Bindings, Element, Node, Tekst, fix_namespaces};
use crate::melding::sort_meldingen;
use crate::{Ernst, Locatie, Melding, Soort};

/// The kinds of action in a RegelingMutatie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActieSoort {
    VoegToe,
    Vervang,
    Verwijder,
    VervangKop,
    VervangRegeling,
}

impl ActieSoort {
    pub fn element(self) -> &'static str {
        match self {
            ActieSoort::VoegToe => "VoegToe",
            ActieSoort::Vervang => "Vervang",
            ActieSoort::Verwijder => "Verwijder",
            ActieSoort::VervangKop => "VervangKop",
            ActieSoort::VervangRegeling => "VervangRegeling",
        }
    }

    fn from_name(n: &str) -> Option<ActieSoort> {
        Some(match n {
            "VoegToe" => ActieSoort::VoegToe,
            "Vervang" => ActieSoort::Vervang,
            "Verwijder" => ActieSoort::Verwijder,
            "VervangKop" => ActieSoort::VervangKop,
            "VervangRegeling" => ActieSoort::VervangRegeling,
            _ => return None,
        })
    }
}

/// What one action did (its provenance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActieResultaat {
    pub soort: ActieSoort,
    /// Text of the action's `Nummer` ("A", "B", ...).
    pub nummer: Option<String>,
    pub wat: Option<String>,
    pub context: Option<String>,
    pub positie: Option<String>,
    /// `Vervang revisie="1"`: a non-juridical correction.
    pub revisie: bool,
    pub locatie: Locatie,
    /// wIds this action added.
    pub toegevoegd: Vec<String>,
    /// wIds present before and after whose content (modulo white space and eIds) changed.
    pub gewijzigd: Vec<String>,
    pub verwijderd: Vec<String>,
    /// wIds moved by a Vervang with context.
    pub verplaatst: Vec<String>,
    /// (wId, old eId, new eId) of every element renamed by `VervangKop/@eId-wordt`.
    pub eid_gewijzigd: Vec<(String, String, String)>,
    /// False when the action could not be applied (its target was not found).
    pub toegepast: bool,
}

/// The result of a successfully applied mutation.
#[derive(Debug, Clone)]
pub struct Toepassing {
    /// The wordt-version.
    pub tekst: Tekst,
    /// Per action, in document order.
    pub acties: Vec<ActieResultaat>,
    /// wIds in the wordt-version that were not in the was-version.
    pub toegevoegd: BTreeSet<String>,
    /// wIds in both versions whose content changed.
    pub gewijzigd: BTreeSet<String>,
    /// wIds of the was-version that are gone.
    pub verwijderd: BTreeSet<String>,
}

const MODELLEN: &[&str] = &["RegelingCompact", "RegelingVrijetekst", "RegelingKlassiek", "RegelingTijdelijkdeel"];

struct Actie<'m> {
    el: &'m Element,
    soort: ActieSoort,
    payload: Vec<&'m Arc<Element>>,
    locatie: Locatie,
    wat: Option<String>,
    context: Option<String>,
    positie: Option<String>,
}

impl Actie<'_> {
    /// `Vervang wat="X"`, `VoegToe context="C" positie="P"`, ...
    fn omschrijving(&self) -> String {
        let mut s = self.soort.element().to_string();
        if let Some(w) = &self.wat {
            s.push_str(&format!(" wat=\"{w}\""));
        }
        if let Some(c) = &self.context {
            s.push_str(&format!(" context=\"{c}\""));
        }
        if let Some(p) = &self.positie {
            s.push_str(&format!(" positie=\"{p}\""));
        }
        s
    }
}

enum Gevonden {
    /// In the working tree at `pad`; `was` = its path in the was-version when it comes from
    /// there, `door` = the action that added it otherwise.
    Hier { pad: Vec<u32>, was: Option<Vec<Step>>, door: Option<usize> },
    /// Removed or replaced by an earlier action.
    Weg { door: usize },
    Onbekend,
}

struct Weg {
    steps: Vec<Step>,
    actie: usize,
}

struct Werk<'a> {
    was: &'a Tekst,
    wix: &'a Arc<Index>,
    nodes: Vec<Node>,
    bestand: &'a str,
    was_id: String,
    wordt_id: String,
    pad: String,
    bindings: Bindings,
    meldingen: Vec<Melding>,
    /// wId → path in the working tree of elements this mutation inserted, with the action.
    overlay: FxMap<String, (Vec<Step>, usize)>,
    /// Subtrees of the was-version that were removed or replaced.
    weg: Vec<Weg>,
    /// Elements of the was-version whose Kop was replaced.
    koppen: Vec<(Vec<Step>, usize)>,
    /// eIds in inserted content: count, first action and path.
    nieuwe_eids: FxMap<String, (u32, usize, Vec<Step>)>,
    /// eIds of the was-version renamed away by eId-wordt.
    oude_eids: HashSet<String>,
    contexten: Vec<(String, usize)>,
    gemeld_5023: HashSet<String>,
    acties: Vec<ActieResultaat>,
    vervangen_regeling: bool,
}

fn element_at<'n>(nodes: &'n [Node], path: &[u32]) -> Option<&'n Element> {
    let mut list = nodes;
    let mut el = None;
    for &i in path {
        let e = list.get(i as usize)?.as_element()?;
        list = &e.children;
        el = Some(e);
    }
    el
}

fn children_mut<'n>(nodes: &'n mut Vec<Node>, path: &[u32]) -> Option<&'n mut Vec<Node>> {
    let mut list = nodes;
    for &i in path {
        list = list.get_mut(i as usize)?.as_element_mut()?.children_mut();
    }
    Some(list)
}

fn is_indent(n: &Node) -> bool {
    n.is_whitespace() && n.raw().is_some_and(|r| r.contains('\n'))
}

/// Remove the node at `i` and the indentation before it.
fn remove_at(list: &mut Vec<Node>, i: usize) {
    if i < list.len() {
        list.remove(i);
        if i > 0 && is_indent(&list[i - 1]) {
            list.remove(i - 1);
        }
    }
}

/// Insert `new` at `at`, each element with `indent` before (`after == false`) or after it.
/// Returns the indexes of the inserted nodes that are elements.
fn insert_at(list: &mut Vec<Node>, at: usize, new: Vec<Node>, indent: Option<&Node>, after: bool) -> Vec<usize> {
    let at = at.min(list.len());
    let mut seq = Vec::with_capacity(new.len() * 2);
    let mut idx = Vec::new();
    for n in new {
        let el = matches!(n, Node::Element(_));
        match (indent, el) {
            (Some(w), true) if !after => {
                seq.push(w.clone());
                idx.push(at + seq.len());
                seq.push(n);
            }
            (Some(w), true) => {
                idx.push(at + seq.len());
                seq.push(n);
                seq.push(w.clone());
            }
            _ => {
                if el {
                    idx.push(at + seq.len());
                }
                seq.push(n);
            }
        }
    }
    list.splice(at..at, seq);
    idx
}

fn wids_of(nodes: &[Node]) -> Vec<String> {
    let mut out = Vec::new();
    for n in nodes {
        if let Node::Element(e) = n {
            out.extend(e.descendants().filter_map(|d| d.wid().map(str::to_string)));
        }
    }
    out
}

fn hashes(nodes: &[Node]) -> FxMap<String, u64> {
    let mut v = Vec::new();
    for n in nodes {
        if let Node::Element(e) = n {
            inhoud_hash(e, &mut v);
        }
    }
    v.into_iter().collect()
}

/// (added, changed, removed) between an old and a new subtree, by wId.
fn herkomst(oud: &[Node], nieuw: &[Node]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (o, n) = (hashes(oud), hashes(nieuw));
    let mut added: Vec<String> = n.keys().filter(|w| !o.contains_key(*w)).cloned().collect();
    let mut changed: Vec<String> = n.iter().filter(|(w, h)| o.get(*w).is_some_and(|x| x != *h)).map(|(w, _)| w.clone()).collect();
    let mut removed: Vec<String> = o.keys().filter(|w| !n.contains_key(*w)).cloned().collect();
    added.sort();
    changed.sort();
    removed.sort();
    (added, changed, removed)
}

fn new_result(a: &Actie<'_>) -> ActieResultaat {
    ActieResultaat {
        soort: a.soort,
        nummer: a.el.child("Nummer").map(|n| n.text().trim().to_string()),
        wat: a.wat.clone(),
        context: a.context.clone(),
        positie: a.positie.clone(),
        revisie: a.el.attr("revisie").is_some_and(|v| v.trim() == "1"),
        locatie: a.locatie.clone(),
        toegevoegd: Vec::new(),
        gewijzigd: Vec::new(),
        verwijderd: Vec::new(),
        verplaatst: Vec::new(),
        eid_gewijzigd: Vec::new(),
        toegepast: false,
    }
}

fn trimmed(el: &Element, name: &str) -> Option<String> {
    el.attr(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl<'a> Werk<'a> {
    fn meld(&mut self, code: &str, ernst: Ernst, soort: Soort, tekst: String, locatie: Locatie) {
        self.meldingen.push(Melding::new(code, ernst, soort, tekst).at(locatie));
    }

    fn fout(&mut self, code: &str, soort: Soort, tekst: String, locatie: &Locatie) {
        self.meld(code, Ernst::Fout, soort, tekst, locatie.clone());
    }

    fn locatie(&self, el: &Element, pad: String) -> Locatie {
        let (regel, kolom) = el.position().map_or((None, None), |(r, k)| (Some(r), Some(k)));
        Locatie {
            bestand: Some(self.bestand.to_string()),
            regel,
            kolom,
            pad: Some(pad),
            eid: el.eid().map(str::to_string),
            wid: el.wid().map(str::to_string),
        }
    }

    fn vind(&self, wid: &str) -> Gevonden {
        if let Some((steps, door)) = self.overlay.get(wid) {
            return match resolve(&self.nodes, steps) {
                Some(pad) => Gevonden::Hier { pad, was: None, door: Some(*door) },
                None => Gevonden::Onbekend,
            };
        }
        if let Some(s) = self.wix.wid(wid) {
            if let Some(w) = self.weg.iter().find(|w| is_under(s, &w.steps)) {
                return Gevonden::Weg { door: w.actie };
            }
            return match resolve(&self.nodes, s) {
                Some(pad) => Gevonden::Hier { pad, was: Some(s.to_vec()), door: None },
                None => Gevonden::Onbekend,
            };
        }
        Gevonden::Onbekend
    }

    /// An earlier action that touched the subtree at `steps` (a was-version path). For a
    /// VervangKop (`kop`) only the element itself and its Kop count.
    fn overlapt(&self, steps: &[Step], kop: bool) -> Option<(usize, &'static str)> {
        for w in &self.weg {
            if is_under(steps, &w.steps) {
                return Some((w.actie, "het element"));
            }
            if !kop && is_under(&w.steps, steps) {
                return Some((w.actie, "een element erbinnen"));
            }
        }
        for (k, ai) in &self.koppen {
            if is_under(k, steps) && (k.len() == steps.len() || !kop) {
                return Some((*ai, if k.len() == steps.len() { "het element" } else { "een element erbinnen" }));
            }
        }
        if !kop {
            for (s, ai) in self.overlay.values() {
                if is_under(s, steps) {
                    return Some((*ai, "een element erbinnen"));
                }
            }
        }
        None
    }

    /// The target of an action by its wId `wat`: its path in the working tree and in the
    /// was-version, or `None` after reporting why it cannot be changed — unknown (`onbekend`
    /// gives code and message, from `wat` and the was-version's id), already changed by an
    /// earlier action, or overlapping one (`kop`: a VervangKop, which may share its element
    /// with actions inside it).
    fn doel_van(
        &mut self,
        a: &Actie<'_>,
        wat: &str,
        kop: bool,
        onbekend: impl FnOnce(&str, &str) -> (&'static str, String),
    ) -> Option<(Vec<u32>, Vec<Step>)> {
        let (pad, was_steps) = match self.vind(wat) {
            Gevonden::Onbekend => {
                let was = self.was_id.clone();
                let (code, tekst) = onbekend(wat, &was);
                self.fout(code, Soort::Inhoudelijk, tekst, &a.locatie);
                return None;
            }
            Gevonden::Weg { door } | Gevonden::Hier { door: Some(door), .. } => {
                self.meld_overlap(a, door, wat, "het element");
                return None;
            }
            Gevonden::Hier { pad, was, .. } => (pad, was.unwrap_or_default()),
        };
        if let Some((door, relatie)) = self.overlapt(&was_steps, kop) {
            self.meld_overlap(a, door, wat, relatie);
            return None;
        }
        Some((pad, was_steps))
    }

    fn meld_overlap(&mut self, a: &Actie<'_>, door: usize, wat: &str, relatie: &str) {
        let eerder = &self.acties[door];
        let zonder_context = |s: ActieSoort, c: &Option<String>| s == ActieSoort::Vervang && c.is_none();
        if zonder_context(a.soort, &a.context) && zonder_context(eerder.soort, &eerder.context) {
            let e = eerder.wat.clone().unwrap_or_default();
            let relatie = if e == wat { "het is hetzelfde element" } else { "het ene element bevat het andere" };
            self.fout(
                "LVBB5033",
                Soort::Inhoudelijk,
                format!(
                    "Vervang wat=\"{wat}\" overlapt met Vervang wat=\"{e}\" in dezelfde RegelingMutatie: {relatie}. Neem de wijzigingen op in één Vervang van het omvattende element."
                ),
                &a.locatie,
            );
        } else {
            let hoe = match eerder.soort {
                ActieSoort::Verwijder => "verwijderd",
                ActieSoort::VoegToe => "toegevoegd",
                ActieSoort::VervangKop => "van een nieuwe kop voorzien",
                _ => "vervangen",
            };
            let eerder_txt = {
                let mut s = eerder.soort.element().to_string();
                if let Some(w) = &eerder.wat {
                    s.push_str(&format!(" wat=\"{w}\""));
                } else if let Some(c) = &eerder.context {
                    s.push_str(&format!(" context=\"{c}\""));
                }
                s
            };
            self.fout(
                "RB3657",
                Soort::Inhoudelijk,
                format!(
                    "{} overlapt met een eerdere wijzigactie in deze RegelingMutatie ({eerder_txt}): {relatie} is daar al {hoe}. Een element kan maar door één wijzigactie worden gewijzigd; neem de wijzigingen samen op in één wijzigactie.",
                    a.omschrijving()
                ),
                &a.locatie,
            );
        }
    }

    /// Register the inserted elements at `idx` under `parent` in the overlay; report wIds that
    /// this mutation inserts twice.
    fn registreer(&mut self, parent: &[u32], idx: &[usize], ai: usize, locatie: &Locatie) {
        fn walk(e: &Element, steps: &mut Vec<Step>, out: &mut Vec<(Option<String>, Option<String>, Vec<Step>)>) {
            if e.wid().is_some() || e.eid().is_some() {
                out.push((e.wid().map(str::to_string), e.eid().map(str::to_string), steps.clone()));
            }
            for (i, c) in e.children.iter().enumerate() {
                if let Node::Element(c) = c {
                    steps.push(Step { idx: i as u32, key: c.key });
                    walk(c, steps, out);
                    steps.pop();
                }
            }
        }
        let base = steps_of(&self.nodes, parent);
        let Some(list) = (if parent.is_empty() { Some(&self.nodes) } else { element_at(&self.nodes, parent).map(|e| &e.children) })
        else {
            return;
        };
        let mut found = Vec::new();
        for &i in idx {
            if let Some(Node::Element(e)) = list.get(i) {
                let mut steps = base.clone();
                steps.push(Step { idx: i as u32, key: e.key });
                walk(e, &mut steps, &mut found);
            }
        }
        for (wid, eid, steps) in found {
            // An element whose wId LVBB5023 already reported: its eId is the same story.
            let gemeld = wid.as_ref().is_some_and(|w| self.gemeld_5023.contains(w));
            if let Some(w) = wid.clone() {
                if let std::collections::hash_map::Entry::Vacant(v) = self.overlay.entry(w.clone()) {
                    v.insert((steps.clone(), ai));
                } else {
                    let binnen = format!(" in regelingversie '{}' na toepassing van de RegelingMutatie", self.wordt_id);
                    self.fout(
                        "STOP0028",
                        Soort::Inhoudelijk,
                        format!("De wId '{w}' komt 2 keer voor{binnen}. Elke wId moet uniek zijn."),
                        locatie,
                    );
                }
            }
            if let Some(e) = eid.filter(|_| !gemeld) {
                let x = self.nieuwe_eids.entry(e).or_insert((0, ai, Vec::new()));
                x.0 += 1;
                x.2 = steps.clone();
            }
        }
    }

    fn renvooi_checks(&mut self, a: &Actie<'_>, p: &Element) -> bool {
        let mut ok = true;
        for (e, v) in onbekende_wijzigacties(p) {
            let wid = e.wid().map(|w| format!(" (wId {w})")).unwrap_or_default();
            let loc = self.locatie(e, a.locatie.pad.clone().unwrap_or_default());
            self.fout(
                "RB3656",
                Soort::Technisch,
                format!(
                    "Onbekende wijzigactie=\"{v}\" op {}{wid} in {}. Gebruik een waarde uit STOP: voegtoe, verwijder, nieuweContainer, verwijderContainer, verplaatstNaar, verplaatstVan of verplaatstBinnen.",
                    e.name(),
                    a.omschrijving()
                ),
                &loc,
            );
            ok = false;
        }
        ok
    }

    fn payload_aantal(&mut self, a: &Actie<'_>, verwacht: &str) {
        let n = a.payload.len();
        let gevonden = match n {
            0 => "geen element".to_string(),
            1 => format!("het element {}", a.payload[0].name()),
            n => format!("{n} elementen"),
        };
        self.fout(
            "RB3653",
            Soort::Technisch,
            format!("{} bevat {gevonden}, maar verwacht wordt {verwacht}.", a.omschrijving()),
            &a.locatie,
        );
    }

    /// STOP0077: the payload's first element with a wId has wId @wat.
    fn stop0077(&mut self, a: &Actie<'_>, p: &Element, wat: &str) -> bool {
        let first = p.descendants().find(|e| e.wid().is_some());
        match first.and_then(Element::wid) {
            Some(w) if w == wat => true,
            other => {
                let (naam, wid) = match (first, other) {
                    (Some(e), Some(w)) => (e.name().to_string(), format!("heeft wId '{w}'")),
                    _ => (p.name().to_string(), "heeft geen wId".to_string()),
                };
                self.fout(
                    "STOP0077",
                    Soort::Inhoudelijk,
                    format!(
                        "{} wat=\"{wat}\": het element {naam} in de wijzigactie {wid}. @wat moet gelijk zijn aan de wId van het element dat vervangen of verwijderd wordt.",
                        a.soort.element()
                    ),
                    &a.locatie,
                );
                false
            }
        }
    }

    /// old(payload) against the element of the was-version.
    fn vergelijk(&mut self, a: &Actie<'_>, wat: &str, oud: &[Node], was_el: &Element, alleen_wids: bool) -> bool {
        let was_id = self.was_id.clone();
        let oud_w: BTreeSet<String> = wids_of(oud).into_iter().collect();
        let was_w: BTreeSet<String> = was_el.descendants().filter_map(|e| e.wid().map(str::to_string)).collect();
        let mut extra: Vec<String> = oud_w.difference(&was_w).cloned().collect();
        let mist: Vec<String> = was_w.difference(&oud_w).cloned().collect();
        let element = a.soort.element();
        let mut ok = true;
        if a.soort != ActieSoort::Verwijder {
            // LVBB5029: a new, unmarked element around elements of the was-version is an
            // implicitly added parent (it needs wijzigactie="nieuweContainer").
            let containers: Vec<(String, String)> = oud
                .iter()
                .filter_map(Node::as_element)
                .flat_map(Element::descendants)
                .filter(|e| e.wid().is_some_and(|w| extra.iter().any(|x| x == w)))
                .filter(|e| e.descendants().skip(1).any(|d| d.wid().is_some_and(|w| was_w.contains(w))))
                .map(|e| (e.wid().unwrap_or_default().to_string(), e.name().to_string()))
                .collect();
            for (wid, naam) in &containers {
                ok = false;
                self.fout(
                    "LVBB5029",
                    Soort::Inhoudelijk,
                    format!(
                        "{element} wat=\"{wat}\": het element {naam} met wId {wid} omvat bestaande elementen van regelingversie '{was_id}', maar komt daar zelf niet in voor en is niet als nieuwe container gemarkeerd. Markeer een nieuwe omvattende structuur met wijzigactie=\"nieuweContainer\"."
                    ),
                    &a.locatie,
                );
            }
            // Their descendants without a place in the was-version are part of the same story.
            let onder: BTreeSet<String> = oud
                .iter()
                .filter_map(Node::as_element)
                .flat_map(Element::descendants)
                .filter(|e| e.wid().is_some_and(|w| containers.iter().any(|(c, _)| c == w)))
                .flat_map(Element::descendants)
                .filter_map(|e| e.wid().map(str::to_string))
                .collect();
            extra.retain(|w| !onder.contains(w));
        }
        if !extra.is_empty() {
            ok = false;
            let wids = opsomming(&extra, 10);
            if a.soort == ActieSoort::Verwijder {
                self.fout(
                    "LVBB5028",
                    Soort::Inhoudelijk,
                    format!(
                        "Verwijder wat=\"{wat}\": de aangeleverde tekst bevat de wId(s) {wids}, die niet voorkomen in het te verwijderen element van regelingversie '{was_id}'. Neem het te verwijderen element op zoals het in '{was_id}' staat."
                    ),
                    &a.locatie,
                );
            } else {
                self.fout(
                    "LVBB5025",
                    Soort::Inhoudelijk,
                    format!(
                        "{element} wat=\"{wat}\": de wId(s) {wids} komen niet voor in regelingversie '{was_id}' en zijn niet als toegevoegd gemarkeerd. Markeer een nieuw element met wijzigactie=\"voegtoe\" (of een nieuwe omvattende structuur met wijzigactie=\"nieuweContainer\")."
                    ),
                    &a.locatie,
                );
            }
        }
        if !mist.is_empty() {
            ok = false;
            let wids = opsomming(&mist, 10);
            let advies = if a.soort == ActieSoort::Verwijder {
                format!("Neem het te verwijderen element volledig op zoals het in '{was_id}' staat.")
            } else {
                "Neem elk bestaand element op; markeer een element dat vervalt met wijzigactie=\"verwijder\".".to_string()
            };
            self.fout(
                "LVBB5026",
                Soort::Inhoudelijk,
                format!("{element} wat=\"{wat}\": de wId(s) {wids} van regelingversie '{was_id}' ontbreken in de aangeleverde tekst. {advies}"),
                &a.locatie,
            );
        }
        if !ok || alleen_wids {
            return ok;
        }
        let verschil = match oud {
            [Node::Element(e)] => verschil(e, was_el),
            _ => Some(format!("de oude tekst bestaat niet uit één element maar uit {} knopen", oud.len())),
        };
        if let Some(v) = verschil {
            let uitleg = match a.soort {
                ActieSoort::Verwijder => format!("Het te verwijderen element moet gelijk zijn aan het element in '{was_id}'."),
                ActieSoort::VervangKop => format!(
                    "De kop zonder de wijzigingen (zonder NieuweTekst, met VerwijderdeTekst) moet gelijk zijn aan de kop in '{was_id}'."
                ),
                _ => format!(
                    "De tekst zonder de wijzigingen (zonder NieuweTekst en toegevoegde elementen, met VerwijderdeTekst en verwijderde elementen) moet gelijk zijn aan het element in '{was_id}'; controleer of de wijziging op die versie is gebaseerd."
                ),
            };
            self.fout(
                "RB3660",
                Soort::Inhoudelijk,
                format!("{} komt niet overeen met regelingversie '{was_id}': {v}. {uitleg}", a.omschrijving()),
                &a.locatie,
            );
            return false;
        }
        true
    }

    fn onbekend_context(&mut self, a: &Actie<'_>, c: &str, weg: bool) {
        let element = a.soort.element();
        if weg {
            self.fout(
                "STOP0124",
                Soort::Inhoudelijk,
                format!(
                    "{element} context=\"{c}\": het element met deze wId wordt in dezelfde RegelingMutatie verwijderd en kan daarom geen context zijn. Kies als context een element dat blijft bestaan."
                ),
                &a.locatie,
            );
        } else {
            let was = self.was_id.clone();
            self.fout(
                "LVBB5027",
                Soort::Inhoudelijk,
                format!(
                    "{element} context=\"{c}\": de wId {c} komt niet voor in regelingversie '{was}' en wordt ook niet eerder in deze RegelingMutatie toegevoegd. Gebruik als context de wId van een bestaand element."
                ),
                &a.locatie,
            );
        }
    }

    /// Check @context/@positie; returns them when both are present and valid.
    fn plaats(&mut self, a: &Actie<'_>, verplicht: bool) -> Result<Option<(String, String)>, ()> {
        match (&a.context, &a.positie) {
            (None, None) if verplicht => {
                self.fout(
                    "RB3654",
                    Soort::Technisch,
                    "VoegToe heeft geen @context en geen @positie. Geef aan waar de elementen worden toegevoegd: @context met de wId van een bestaand element en @positie volgtOp, komtVoor of eersteKind.".to_string(),
                    &a.locatie,
                );
                Err(())
            }
            (None, None) => Ok(None),
            (Some(_), None) | (None, Some(_)) => {
                let (aanwezig, ontbrekend) = if a.context.is_some() { ("context", "positie") } else { ("positie", "context") };
                let wat = a.wat.as_deref().unwrap_or("-");
                self.fout(
                    "STOP0119",
                    Soort::Technisch,
                    format!(
                        "{} wat=\"{wat}\" heeft @{aanwezig} maar geen @{ontbrekend}. Geef bij verplaatsen zowel @context als @positie op, of laat ze allebei weg.",
                        a.soort.element()
                    ),
                    &a.locatie,
                );
                Err(())
            }
            (Some(c), Some(p)) => {
                if !matches!(p.as_str(), "volgtOp" | "komtVoor" | "eersteKind") {
                    self.fout(
                        "RB3655",
                        Soort::Technisch,
                        format!("{} heeft positie=\"{p}\". Toegestaan zijn volgtOp, komtVoor en eersteKind.", a.omschrijving()),
                        &a.locatie,
                    );
                    return Err(());
                }
                Ok(Some((c.clone(), p.clone())))
            }
        }
    }

    /// The parent path, the insertion index and the indentation for inserting relative to the
    /// element at `cpad`.
    fn invoegplek(&self, cpad: &[u32], positie: &str) -> (Vec<u32>, usize, Option<Node>, bool) {
        fn list_of<'n>(nodes: &'n [Node], path: &[u32]) -> &'n [Node] {
            if path.is_empty() { nodes } else { element_at(nodes, path).map_or(&[][..], |e| e.children.as_slice()) }
        }
        if positie == "eersteKind" {
            let list = list_of(&self.nodes, cpad);
            // The heading is not content: the first child comes right after a leading Kop (the
            // only schema-valid place in structure elements), as a volgtOp on that Kop.
            let kop = list
                .iter()
                .position(|n| !is_indent(n))
                .filter(|&k| matches!(&list[k], Node::Element(e) if e.name() == "Kop"));
            if let Some(k) = kop {
                let indent = k.checked_sub(1).and_then(|j| list.get(j)).filter(|n| is_indent(n)).cloned();
                return (cpad.to_vec(), k + 1, indent, false);
            }
            let indent = list.first().filter(|n| is_indent(n)).cloned();
            let at = usize::from(indent.is_some());
            return (cpad.to_vec(), at, indent, true);
        }
        let parent = cpad[..cpad.len() - 1].to_vec();
        let i = cpad[cpad.len() - 1] as usize;
        let list = list_of(&self.nodes, &parent);
        let indent = i.checked_sub(1).and_then(|j| list.get(j)).filter(|n| is_indent(n)).cloned();
        if positie == "komtVoor" { (parent, i, indent, true) } else { (parent, i + 1, indent, false) }
    }

    fn invoegen(&mut self, cpad: &[u32], positie: &str, nieuw: Vec<Node>, outer: &Bindings, ai: usize, loc: &Locatie) {
        let (parent, at, indent, after) = self.invoegplek(cpad, positie);
        let target = Bindings::along(&self.nodes, &parent);
        let nieuw: Vec<Node> = nieuw.into_iter().map(|n| fix_namespaces(n, outer, &target)).collect();
        let Some(list) = children_mut(&mut self.nodes, &parent) else { return };
        let idx = insert_at(list, at, nieuw, indent.as_ref(), after);
        self.registreer(&parent, &idx, ai, loc);
    }

    fn resterende_renvooi(&mut self, a: &Actie<'_>, nodes: &[Node]) {
        for n in nodes {
            if let Node::Element(e) = n
                && let Some(r) = e
                    .descendants()
                    .find(|d| d.is_tekst("NieuweTekst") || d.is_tekst("VerwijderdeTekst") || d.attr("wijzigactie").is_some())
            {
                let wordt = self.wordt_id.clone();
                let loc = self.locatie(r, a.locatie.pad.clone().unwrap_or_default());
                self.fout(
                    "RB3661",
                    Soort::Inhoudelijk,
                    format!(
                        "{}: de nieuwe regelingversie '{wordt}' zou nog renvooi bevatten ({}). Renvooimarkeringen horen alleen in wijzigacties; een VervangRegeling bevat de regeling zonder renvooi.",
                        a.omschrijving(),
                        r.name()
                    ),
                    &loc,
                );
                return;
            }
        }
    }

    fn bindings_voor(&self, a: &Actie<'_>) -> Bindings {
        let mut b = self.bindings.clone();
        b.push_element(a.el);
        b
    }

    fn wat(&mut self, a: &Actie<'_>) -> Option<String> {
        if a.wat.is_none() {
            self.fout(
                "RB3659",
                Soort::Technisch,
                format!(
                    "{} heeft geen @wat. Geef in @wat de wId op van het element dat gewijzigd wordt.",
                    a.soort.element()
                ),
                &a.locatie,
            );
        }
        a.wat.clone()
    }

    fn voeg_toe(&mut self, a: &Actie<'_>, r: &mut ActieResultaat) {
        let Ok(Some((c, positie))) = self.plaats(a, true) else { return };
        if a.payload.is_empty() {
            self.payload_aantal(a, "ten minste één toe te voegen element");
            return;
        }
        for p in &a.payload {
            self.renvooi_checks(a, p);
        }
        let nieuw: Vec<Node> = a.payload.iter().flat_map(|p| renvooi::nieuw_knopen(p)).collect();
        let wids = wids_of(&nieuw);
        let mut dubbel: Vec<String> = wids.iter().filter(|w| self.wix.has_wid(w)).cloned().collect();
        dubbel.sort();
        dubbel.dedup();
        if !dubbel.is_empty() {
            let was = self.was_id.clone();
            self.fout(
                "LVBB5023",
                Soort::Inhoudelijk,
                format!(
                    "VoegToe context=\"{c}\" voegt elementen toe met wIds die al bestaan in regelingversie '{was}': {}. Geef nieuwe elementen een nieuwe wId, of wijzig een bestaand element met Vervang.",
                    opsomming(&dubbel, usize::MAX)
                ),
                &a.locatie,
            );
            self.gemeld_5023.extend(dubbel);
        }
        let cpad = match self.vind(&c) {
            Gevonden::Hier { pad, .. } => pad,
            Gevonden::Weg { .. } => return self.onbekend_context(a, &c, true),
            Gevonden::Onbekend => return self.onbekend_context(a, &c, false),
        };
        self.contexten.push((c, self.acties.len()));
        self.resterende_renvooi(a, &nieuw);
        let outer = self.bindings_voor(a);
        let ai = self.acties.len();
        self.invoegen(&cpad, &positie, nieuw, &outer, ai, &a.locatie);
        r.toegevoegd = wids;
        r.toegepast = true;
    }

    fn vervang(&mut self, a: &Actie<'_>, r: &mut ActieResultaat) {
        let Some(wat) = self.wat(a) else { return };
        let Ok(plaats) = self.plaats(a, false) else { return };
        let [p] = a.payload[..] else {
            return self.payload_aantal(a, "precies één element (het element zoals het wordt)");
        };
        let id_ok = self.stop0077(a, p, &wat);
        let renvooi = heeft_renvooi(p);
        if r.revisie && (renvooi || plaats.is_some()) {
            let inhoud = match (renvooi, plaats.is_some()) {
                (true, true) => "renvooimarkeringen en een @context",
                (true, false) => "renvooimarkeringen (NieuweTekst, VerwijderdeTekst of @wijzigactie)",
                _ => "een @context",
            };
            self.fout(
                "LVBB5031",
                Soort::Inhoudelijk,
                format!(
                    "Vervang wat=\"{wat}\" is een niet-juridische revisie (revisie=\"1\") maar bevat {inhoud}. Laat bij een revisie renvooimarkeringen en @context weg, of laat revisie=\"1\" weg als het een juridische wijziging is."
                ),
                &a.locatie,
            );
        }
        if !r.revisie && !renvooi && plaats.is_none() {
            self.fout(
                "STOP0086",
                Soort::Inhoudelijk,
                format!(
                    "Vervang wat=\"{wat}\" bevat geen renvooimarkering (NieuweTekst, VerwijderdeTekst of @wijzigactie) en geen @context. Geef de wijziging aan met renvooi, of gebruik revisie=\"1\" voor een niet-juridische correctie."
                ),
                &a.locatie,
            );
        }
        self.renvooi_checks(a, p);
        let Some((pad, was_steps)) =
            self.doel_van(a, &wat, false, |wat, was| ("LVBB5003", format!("Vervang wat=\"{wat}\": de wId {wat} komt niet voor in regelingversie '{was}'. Gebruik de wId die het te vervangen element in '{was}' heeft.")))
        else {
            return;
        };
        let was: &'a Tekst = self.was;
        let Some(was_el) = resolve(&was.nodes, &was_steps).and_then(|idx| element_at(&was.nodes, &idx)) else { return };
        if id_ok {
            let oud = renvooi::oud_knopen(p);
            self.vergelijk(a, &wat, &oud, was_el, r.revisie);
        }
        let nieuw = renvooi::nieuw_knopen(p);
        self.resterende_renvooi(a, &nieuw);
        let (toegevoegd, gewijzigd, verwijderd) = herkomst(std::slice::from_ref(&Node::Element(Arc::new(was_el.clone()))), &nieuw);
        let outer = self.bindings_voor(a);
        let ai = self.acties.len();
        match plaats {
            None => {
                let parent = pad[..pad.len() - 1].to_vec();
                let i = pad[pad.len() - 1] as usize;
                let target = Bindings::along(&self.nodes, &parent);
                let nieuw: Vec<Node> = nieuw.into_iter().map(|n| fix_namespaces(n, &outer, &target)).collect();
                let Some(list) = children_mut(&mut self.nodes, &parent) else { return };
                let idx: Vec<usize> = nieuw.iter().enumerate().filter(|(_, n)| matches!(n, Node::Element(_))).map(|(k, _)| i + k).collect();
                list.splice(i..i + 1, nieuw);
                self.weg.push(Weg { steps: was_steps, actie: ai });
                self.registreer(&parent, &idx, ai, &a.locatie);
            }
            Some((c, positie)) => {
                match self.vind(&c) {
                    Gevonden::Hier { pad: cpad, .. } => {
                        if cpad.starts_with(&pad) {
                            let reden = if cpad == pad { "het element zelf" } else { "een element binnen het te verplaatsen element" };
                            return self.fout(
                                "LVBB5032",
                                Soort::Inhoudelijk,
                                format!(
                                    "Vervang wat=\"{wat}\" verplaatst het element naar context=\"{c}\", {reden}. Kies als context een element buiten het te verplaatsen element."
                                ),
                                &a.locatie,
                            );
                        }
                    }
                    Gevonden::Weg { .. } => return self.onbekend_context(a, &c, true),
                    Gevonden::Onbekend => return self.onbekend_context(a, &c, false),
                }
                self.contexten.push((c.clone(), ai));
                let parent = &pad[..pad.len() - 1];
                if let Some(list) = children_mut(&mut self.nodes, parent) {
                    remove_at(list, pad[pad.len() - 1] as usize);
                }
                self.weg.push(Weg { steps: was_steps, actie: ai });
                let Gevonden::Hier { pad: cpad, .. } = self.vind(&c) else {
                    return self.onbekend_context(a, &c, false);
                };
                self.invoegen(&cpad, &positie, nieuw, &outer, ai, &a.locatie);
                r.verplaatst.push(wat.clone());
            }
        }
        r.toegevoegd = toegevoegd;
        r.gewijzigd = gewijzigd;
        r.verwijderd = verwijderd;
        r.toegepast = true;
    }

    fn verwijder(&mut self, a: &Actie<'_>, r: &mut ActieResultaat) {
        let Some(wat) = self.wat(a) else { return };
        let [p] = a.payload[..] else {
            return self.payload_aantal(a, "precies één element (het te verwijderen element)");
        };
        let id_ok = self.stop0077(a, p, &wat);
        let Some((pad, was_steps)) =
            self.doel_van(a, &wat, false, |wat, was| ("LVBB5024", format!("Verwijder wat=\"{wat}\": de wId {wat} komt niet voor in regelingversie '{was}'. Alleen een bestaand element kan verwijderd worden; gebruik de wId die het element in '{was}' heeft.")))
        else {
            return;
        };
        let was: &'a Tekst = self.was;
        let Some(was_el) = resolve(&was.nodes, &was_steps).and_then(|idx| element_at(&was.nodes, &idx)) else { return };
        if id_ok {
            let oud = renvooi::oud_knopen(p);
            self.vergelijk(a, &wat, &oud, was_el, false);
        }
        r.verwijderd = was_el.descendants().filter_map(|e| e.wid().map(str::to_string)).collect();
        if let Some(list) = children_mut(&mut self.nodes, &pad[..pad.len() - 1]) {
            remove_at(list, pad[pad.len() - 1] as usize);
        }
        self.weg.push(Weg { steps: was_steps, actie: self.acties.len() });
        r.toegepast = true;
    }

    fn vervang_kop(&mut self, a: &Actie<'_>, r: &mut ActieResultaat) {
        let Some(wat) = self.wat(a) else { return };
        let kop = match a.payload[..] {
            [p] if p.name() == "Kop" => p,
            _ => return self.payload_aantal(a, "precies één element Kop"),
        };
        if !heeft_renvooi(kop) {
            self.fout(
                "STOP0086",
                Soort::Inhoudelijk,
                format!(
                    "VervangKop wat=\"{wat}\" bevat geen renvooimarkering (NieuweTekst, VerwijderdeTekst of @wijzigactie). Geef de wijziging van de kop aan met NieuweTekst en VerwijderdeTekst."
                ),
                &a.locatie,
            );
        }
        self.renvooi_checks(a, kop);
        let Some((pad, was_steps)) =
            self.doel_van(a, &wat, true, |wat, was| ("LVBB5003", format!("VervangKop wat=\"{wat}\": de wId {wat} komt niet voor in regelingversie '{was}'. Gebruik de wId die het te vervangen element in '{was}' heeft.")))
        else {
            return;
        };
        let Some(doel) = element_at(&self.nodes, &pad) else { return };
        let Some(k) = doel.children.iter().position(|n| n.as_element().is_some_and(|e| e.name() == "Kop")) else {
            let was = self.was_id.clone();
            let naam = doel.name().to_string();
            return self.fout(
                "RB3658",
                Soort::Inhoudelijk,
                format!("VervangKop wat=\"{wat}\": het element {naam} heeft in regelingversie '{was}' geen Kop om te vervangen."),
                &a.locatie,
            );
        };
        let Node::Element(oude_kop) = &doel.children[k] else { return };
        let oude_kop = Arc::clone(oude_kop);
        let oud = renvooi::oud_knopen(kop);
        self.vergelijk(a, &wat, &oud, &oude_kop, false);
        let nieuw = renvooi::nieuw_knopen(kop);
        self.resterende_renvooi(a, &nieuw);
        let mut oude_hash = Vec::new();
        let mut nieuwe_hash = Vec::new();
        let voor = inhoud_hash(&oude_kop, &mut oude_hash);
        let na = nieuw.iter().filter_map(Node::as_element).map(|e| inhoud_hash(e, &mut nieuwe_hash)).next();
        let outer = self.bindings_voor(a);
        let target = Bindings::along(&self.nodes, &pad);
        let nieuw: Vec<Node> = nieuw.into_iter().map(|n| fix_namespaces(n, &outer, &target)).collect();
        let Some(list) = children_mut(&mut self.nodes, &pad) else { return };
        list.splice(k..k + 1, nieuw);
        if na != Some(voor) {
            r.gewijzigd.push(wat.clone());
        }
        if let Some(eid_wordt) = trimmed(a.el, "eId-wordt") {
            let mut hernoemd = Vec::new();
            let parent = &pad[..pad.len() - 1];
            let i = pad[pad.len() - 1] as usize;
            if let Some(list) = children_mut(&mut self.nodes, parent)
                && let Some(el) = list.get_mut(i).and_then(Node::as_element_mut)
            {
                let oud_eid = el.eid().map(str::to_string);
                if oud_eid.as_deref() != Some(eid_wordt.as_str()) {
                    el.set_attr("eId", &eid_wordt);
                    hernoemd.push((el.wid().unwrap_or_default().to_string(), oud_eid.clone().unwrap_or_default(), eid_wordt.clone(), Vec::new()));
                    if let Some(o) = oud_eid {
                        hernoem_onder(&mut el.children, &format!("{o}__"), &format!("{eid_wordt}__"), &mut Vec::new(), &mut hernoemd);
                    }
                }
            }
            let ai = self.acties.len();
            for (_, oud, nieuw, rel) in &hernoemd {
                self.oude_eids.insert(oud.clone());
                let mut p = pad.clone();
                p.extend(rel);
                let steps = steps_of(&self.nodes, &p);
                let x = self.nieuwe_eids.entry(nieuw.clone()).or_insert((0, ai, Vec::new()));
                x.0 += 1;
                x.2 = steps;
            }
            r.eid_gewijzigd = hernoemd.into_iter().map(|(w, o, n, _)| (w, o, n)).collect();
        }
        self.koppen.push((was_steps, self.acties.len()));
        r.toegepast = true;
    }

    fn vervang_regeling(&mut self, a: &Actie<'_>, r: &mut ActieResultaat) {
        let [p] = a.payload[..] else {
            return self.payload_aantal(a, "precies één regeling (RegelingCompact, RegelingVrijetekst, RegelingKlassiek of RegelingTijdelijkdeel)");
        };
        let oud_model = self.was.root().map(|e| e.name().to_string()).unwrap_or_default();
        if p.name() != oud_model || !MODELLEN.contains(&p.name()) {
            let was = self.was_id.clone();
            self.fout(
                "LVBB5100",
                Soort::Inhoudelijk,
                format!(
                    "VervangRegeling levert een {} aan, maar regelingversie '{was}' is een {oud_model}. Een regeling houdt hetzelfde tekstmodel; lever een {oud_model} aan.",
                    p.name()
                ),
                &a.locatie,
            );
        }
        let nieuw = vec![fix_namespaces(Node::Element(Arc::clone(p)), &self.bindings_voor(a), &Bindings::default())];
        self.resterende_renvooi(a, &nieuw);
        let oud_root: Vec<Node> = self.was.nodes.iter().filter(|n| matches!(n, Node::Element(_))).take(1).cloned().collect();
        let (toegevoegd, gewijzigd, verwijderd) = herkomst(&oud_root, &nieuw);
        match self.nodes.iter().position(|n| matches!(n, Node::Element(_))) {
            Some(i) => {
                self.nodes.splice(i..i + 1, nieuw);
            }
            None => self.nodes = nieuw,
        }
        let ix = Index::build(&self.nodes);
        let binnen = format!(" in regelingversie '{}'", self.wordt_id);
        for (w, n) in &ix.dup_wid {
            self.fout("STOP0028", Soort::Inhoudelijk, format!("De wId '{w}' komt {n} keer voor{binnen}. Elke wId moet uniek zijn."), &a.locatie);
        }
        for (e, n) in &ix.dup_eid {
            self.fout("STOP0027", Soort::Inhoudelijk, format!("De eId '{e}' komt {n} keer voor{binnen}. Elke eId moet uniek zijn."), &a.locatie);
        }
        self.vervangen_regeling = true;
        r.toegevoegd = toegevoegd;
        r.gewijzigd = gewijzigd;
        r.verwijderd = verwijderd;
        r.toegepast = true;
    }

    /// Post-conditions over what this mutation inserted (the was-version is assumed valid).
    fn nacontrole(&mut self) {
        if self.vervangen_regeling {
            return;
        }
        let binnen = format!(" in regelingversie '{}' na toepassing van de RegelingMutatie", self.wordt_id);
        let verwijderd = |s: &Werk<'_>, w: &str| -> bool {
            !s.overlay.contains_key(w) && s.wix.wid(w).is_some_and(|st| s.weg.iter().any(|x| is_under(st, &x.steps)))
        };
        let contexten = std::mem::take(&mut self.contexten);
        for (c, ai) in &contexten {
            if verwijderd(self, c) {
                let a = &self.acties[*ai];
                let (element, loc) = (a.soort.element(), a.locatie.clone());
                self.fout(
                    "STOP0124",
                    Soort::Inhoudelijk,
                    format!(
                        "{element} context=\"{c}\": het element met deze wId wordt in dezelfde RegelingMutatie verwijderd en kan daarom geen context zijn. Kies als context een element dat blijft bestaan."
                    ),
                    &loc,
                );
            }
        }
        let mut dubbel_w: Vec<(String, usize)> = self
            .overlay
            .iter()
            .filter(|(w, _)| !self.gemeld_5023.contains(*w))
            .filter(|(w, _)| self.wix.wid(w).is_some_and(|st| !self.weg.iter().any(|x| is_under(st, &x.steps))))
            .map(|(w, (_, ai))| (w.clone(), *ai))
            .collect();
        dubbel_w.sort();
        for (w, ai) in dubbel_w {
            let loc = self.acties[ai].locatie.clone();
            self.fout("STOP0028", Soort::Inhoudelijk, format!("De wId '{w}' komt 2 keer voor{binnen}. Elke wId moet uniek zijn."), &loc);
        }
        let mut dubbel_e: Vec<(String, u32, usize)> = Vec::new();
        for (e, &(n, ai, _)) in &self.nieuwe_eids {
            let in_was = !self.oude_eids.contains(e)
                && self.wix.eid(e).is_some_and(|st| !self.weg.iter().any(|x| is_under(st, &x.steps)));
            let totaal = n + u32::from(in_was);
            if totaal > 1 {
                dubbel_e.push((e.clone(), totaal, ai));
            }
        }
        dubbel_e.sort();
        // The counters above are incremental and can over-count an eId whose element was
        // renamed again or replaced later in the same mutation: confirm candidates on the
        // resulting tree (a full index only in this rare case, so the common path stays cheap).
        if !dubbel_e.is_empty() {
            let ix = Index::build(&self.nodes);
            dubbel_e = dubbel_e
                .into_iter()
                .filter_map(|(e, _, ai)| ix.dup_eid.iter().find(|(d, _)| *d == e).map(|(_, n)| (e, *n as u32, ai)))
                .collect();
        }
        for (e, n, ai) in dubbel_e {
            let loc = self.acties[ai].locatie.clone();
            self.fout("STOP0027", Soort::Inhoudelijk, format!("De eId '{e}' komt {n} keer voor{binnen}. Elke eId moet uniek zijn."), &loc);
        }
    }
}

/// Rename the eIds with prefix `oud` to prefix `nieuw` below `list`, recording (wId, old, new,
/// path relative to the renamed element).
fn hernoem_onder(list: &mut [Node], oud: &str, nieuw: &str, pad: &mut Vec<u32>, out: &mut Vec<(String, String, String, Vec<u32>)>) {
    for (i, n) in list.iter_mut().enumerate() {
        let Node::Element(e) = n else { continue };
        if !e.descendants().any(|d| d.eid().is_some_and(|x| x.starts_with(oud))) {
            continue;
        }
        let e = Arc::make_mut(e);
        pad.push(i as u32);
        if let Some(x) = e.eid().filter(|x| x.starts_with(oud)).map(str::to_string) {
            let n = format!("{nieuw}{}", &x[oud.len()..]);
            out.push((e.wid().unwrap_or_default().to_string(), x, n.clone(), pad.clone()));
            e.set_attr("eId", &n);
        }
        hernoem_onder(&mut e.children, oud, nieuw, pad, out);
        pad.pop();
    }
}

/// Apply `mutatie` (a text whose root is a `RegelingMutatie`, typically from
/// [`Tekst::uit_document`]) to the was-version `was`. `bestand` names the delivered file in
/// meldingen. Returns the wordt-version with per-action provenance, or every melding.
pub fn pas_toe(was: &Tekst, mutatie: &Tekst, bestand: &str) -> Result<Toepassing, Vec<Melding>> {
    let Some(root) = mutatie.root().filter(|r| r.is_tekst("RegelingMutatie")) else {
        let (naam, loc) = match mutatie.root() {
            Some(r) => (
                r.name().to_string(),
                Locatie {
                    bestand: Some(bestand.to_string()),
                    regel: r.position().map(|p| p.0),
                    kolom: r.position().map(|p| p.1),
                    ..Default::default()
                },
            ),
            None => ("(geen element)".to_string(), Locatie::bestand(bestand)),
        };
        return Err(vec![
            Melding::fout_technisch(
                "RB3650",
                format!("Het element {naam} is geen RegelingMutatie en kan niet als wijziging op een regelingversie worden toegepast."),
            )
            .at(loc),
        ]);
    };
    let pad = format!("{}/{}", mutatie.bron_pad().unwrap_or(""), root.name());
    let mut bindings = Bindings::default();
    bindings.push_element(root);
    let mut w = Werk {
        was,
        wix: was.index(),
        nodes: was.nodes.clone(),
        bestand,
        was_id: trimmed(root, "was").unwrap_or_else(|| "-".into()),
        wordt_id: trimmed(root, "wordt").unwrap_or_else(|| "-".into()),
        pad,
        bindings,
        meldingen: Vec::new(),
        overlay: FxMap::default(),
        weg: Vec::new(),
        koppen: Vec::new(),
        nieuwe_eids: FxMap::default(),
        oude_eids: HashSet::new(),
        contexten: Vec::new(),
        gemeld_5023: HashSet::new(),
        acties: Vec::new(),
        vervangen_regeling: false,
    };
    let mut_loc = w.locatie(root, w.pad.clone());
    for (d, n) in w.wix.dup_wid.clone() {
        let was_id = w.was_id.clone();
        w.fout(
            "STOP0028",
            Soort::Inhoudelijk,
            format!("De wId '{d}' komt {n} keer voor in regelingversie '{was_id}'. Elke wId moet uniek zijn."),
            &mut_loc,
        );
    }
    let acties: Vec<&Element> = root.elements().collect();
    let gemengd = acties.len() > 1 && acties.iter().any(|e| e.name() == "VervangRegeling");
    for el in acties {
        let actie_pad = format!("{}/{}", w.pad, el.name());
        let locatie = Locatie { eid: None, wid: None, ..w.locatie(el, actie_pad) };
        let Some(soort) = ActieSoort::from_name(el.name()).filter(|_| matches!(el.ns(), crate::ns::TEKST | "")) else {
            let wordt = w.wordt_id.clone();
            w.fout(
                "RB3651",
                Soort::Technisch,
                format!(
                    "Onbekende wijzigactie {} in de RegelingMutatie voor '{wordt}'. Een RegelingMutatie bevat alleen VoegToe, Vervang, VervangKop, Verwijder of VervangRegeling.",
                    el.name()
                ),
                &locatie,
            );
            continue;
        };
        let payload: Vec<&Arc<Element>> = el
            .children
            .iter()
            .filter_map(|n| match n {
                Node::Element(e) if e.name() != "Nummer" && e.name() != "Wat" => Some(e),
                _ => None,
            })
            .collect();
        let a = Actie {
            el,
            soort,
            payload,
            locatie,
            wat: trimmed(el, "wat"),
            context: trimmed(el, "context"),
            positie: trimmed(el, "positie"),
        };
        let mut r = new_result(&a);
        match soort {
            ActieSoort::VoegToe => w.voeg_toe(&a, &mut r),
            ActieSoort::Vervang => w.vervang(&a, &mut r),
            ActieSoort::Verwijder => w.verwijder(&a, &mut r),
            ActieSoort::VervangKop => w.vervang_kop(&a, &mut r),
            ActieSoort::VervangRegeling if gemengd => {
                let wordt = w.wordt_id.clone();
                w.fout(
                    "RB3652",
                    Soort::Technisch,
                    format!(
                        "De RegelingMutatie voor '{wordt}' bevat een VervangRegeling naast andere wijzigacties. Een VervangRegeling is de enige wijzigactie in een RegelingMutatie; verwerk de andere wijzigingen in de nieuwe regeling."
                    ),
                    &a.locatie,
                );
            }
            ActieSoort::VervangRegeling => w.vervang_regeling(&a, &mut r),
        }
        w.acties.push(r);
    }
    w.nacontrole();
    if w.meldingen.iter().any(Melding::is_fout) {
        let mut m = w.meldingen;
        sort_meldingen(&mut m);
        return Err(m);
    }
    // Totals over the whole mutation: an element removed by one action and added by another
    // (a move) is neither added nor removed.
    let (mut toegevoegd, mut verwijderd, mut gewijzigd) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for r in &w.acties {
        for x in &r.verwijderd {
            if !toegevoegd.remove(x) {
                verwijderd.insert(x.clone());
            }
        }
        for x in &r.toegevoegd {
            if !verwijderd.remove(x) {
                toegevoegd.insert(x.clone());
            }
        }
        gewijzigd.extend(r.gewijzigd.iter().cloned());
    }
    gewijzigd.retain(|x| !toegevoegd.contains(x) && !verwijderd.contains(x));
    // The wordt-version's index: the was-version's plus what this mutation added and removed.
    let index = if w.vervangen_regeling {
        None
    } else {
        let wids: Vec<(String, Vec<Step>)> = w.overlay.into_iter().map(|(k, (s, _))| (k, s)).collect();
        let eids: Vec<(String, Vec<Step>)> = w.nieuwe_eids.into_iter().map(|(k, (_, _, s))| (k, s)).collect();
        let removed = w.weg.into_iter().map(|x| x.steps).collect();
        Index::derived(Arc::clone(w.wix), wids, eids, removed, w.oude_eids.into_iter().collect())
    };
    let tekst = Tekst {
        prolog: was.prolog.clone(),
        nodes: w.nodes,
        epilog: was.epilog.clone(),
        bron_pad: was.bron_pad.clone(),
        index: Arc::default(),
    }
    .with_index(index);
    Ok(Toepassing { tekst, acties: w.acties, toegevoegd, gewijzigd, verwijderd })
}
