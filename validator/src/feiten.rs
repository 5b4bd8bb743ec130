//! Facts taken from a file's XML tree while it is alive, for package-level rules that run
//! after the tree is dropped: regeling mutations with their actions, and the wIds of each
//! initial regeling text.
//!
//! The wId bookkeeping is flat (a set per regeling expression, no tree): the wIds an action
//! adds ([`Actie::wids`]) and the wIds it removes ([`Actie::verwijderde_wids`]) are enough to
//! derive the wId set of the `wordt` version from the `was` version ([`Mutatie::wordt_wids`]).

use std::collections::BTreeSet;
use stop::module::StopBestand;
use stop::xml::{Document, NodeId};
use stop::{Locatie, ns};

/// Kind of a mutation action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActieSoort {
    VoegToe,
    Vervang,
    VervangKop,
    Verwijder,
    VervangRegeling,
}

impl ActieSoort {
    pub fn element(self) -> &'static str {
        match self {
            ActieSoort::VoegToe => "VoegToe",
            ActieSoort::Vervang => "Vervang",
            ActieSoort::VervangKop => "VervangKop",
            ActieSoort::Verwijder => "Verwijder",
            ActieSoort::VervangRegeling => "VervangRegeling",
        }
    }

    fn from_name(n: &str) -> Option<ActieSoort> {
        Some(match n {
            "VoegToe" => ActieSoort::VoegToe,
            "Vervang" => ActieSoort::Vervang,
            "VervangKop" => ActieSoort::VervangKop,
            "Verwijder" => ActieSoort::Verwijder,
            "VervangRegeling" => ActieSoort::VervangRegeling,
            _ => return None,
        })
    }
}

/// One action of a RegelingMutatie.
#[derive(Debug, Clone)]
pub struct Actie {
    pub soort: ActieSoort,
    pub wat: Option<String>,
    pub context: Option<String>,
    pub positie: Option<String>,
    /// `@revisie="1"`: a non-juridical correction.
    pub revisie: bool,
    /// Renvooi inside (NieuweTekst, VerwijderdeTekst or `@wijzigactie`).
    pub renvooi: bool,
    /// wIds of the elements the wordt-version has after this action: every wId in the content
    /// except those of removed elements. For a Vervang this includes the unchanged wIds of the
    /// replaced element; for a Verwijder it is empty.
    pub wids: Vec<String>,
    /// wIds of elements this action removes: every wId in the content of a `Verwijder`, and in
    /// a Vervang the elements marked `wijzigactie="verwijder"` (with everything inside them),
    /// `verwijderContainer` (the container only) or `verplaatstVan`.
    pub verwijderde_wids: Vec<String>,
    pub locatie: Locatie,
}

/// A `RegelingMutatie` in a besluit, revisie or rectificatie.
#[derive(Debug, Clone)]
pub struct Mutatie {
    pub was: Option<String>,
    pub wordt: Option<String>,
    pub componentnaam: Option<String>,
    pub acties: Vec<Actie>,
    pub locatie: Locatie,
}

impl Actie {
    /// Apply this action to a wId set: a VervangRegeling starts from nothing, the removed wIds
    /// (and a Verwijder's `@wat`) leave, the added ones come in.
    pub fn pas_toe(&self, set: &mut BTreeSet<String>) {
        if self.soort == ActieSoort::VervangRegeling {
            set.clear();
        }
        for w in &self.verwijderde_wids {
            set.remove(w);
        }
        if self.soort == ActieSoort::Verwijder
            && let Some(w) = &self.wat
        {
            set.remove(w);
        }
        set.extend(self.wids.iter().cloned());
    }
}

impl Mutatie {
    /// The wIds of the `wordt` version, given those of the `was` version: the actions applied
    /// in document order ([`Actie::pas_toe`]). Flat: elements inside a replaced element that a
    /// Vervang drops without marking them removed stay in the set.
    pub fn wordt_wids(&self, was: &BTreeSet<String>) -> BTreeSet<String> {
        let mut set = was.clone();
        for a in &self.acties {
            a.pas_toe(&mut set);
        }
        set
    }
}

fn attr_trim(doc: &Document, n: NodeId, name: &str) -> Option<String> {
    doc.attr(n, name).map(|s| s.trim().to_string())
}

/// The mutations in a STOP file's text.
pub fn mutaties(b: &StopBestand) -> Vec<Mutatie> {
    let doc = &b.document;
    let Some(root) = doc.root() else { return Vec::new() };
    let mut out = Vec::new();
    for n in doc.descendants(root) {
        if !doc.is(n, ns::TEKST, "RegelingMutatie") {
            continue;
        }
        let acties = doc
            .elements(n)
            .filter(|&c| doc.ns(c) == ns::TEKST)
            .filter_map(|c| ActieSoort::from_name(doc.name(c)).map(|s| actie(doc, &b.bestand, c, s)))
            .collect();
        out.push(Mutatie {
            was: attr_trim(doc, n, "was"),
            wordt: attr_trim(doc, n, "wordt"),
            componentnaam: attr_trim(doc, n, "componentnaam"),
            acties,
            locatie: stop::locatie(doc, &b.bestand, n),
        });
    }
    out
}

fn actie(doc: &Document, bestand: &str, n: NodeId, soort: ActieSoort) -> Actie {
    let mut wids = Vec::new();
    let mut verwijderde_wids = Vec::new();
    let mut renvooi = false;
    // End of the span of the removed subtree the walk is in (0: none). Descendants of an
    // element marked removed carry no marking of their own but leave with it.
    let mut verwijderd_tot = 0usize;
    for d in doc.descendants(n).skip(1) {
        if !doc.is_element(d) {
            continue;
        }
        let (start, end) = doc.span(d);
        let in_verwijderd = start < verwijderd_tot;
        let name = doc.name(d);
        if doc.ns(d) == ns::TEKST && (name == "NieuweTekst" || name == "VerwijderdeTekst") {
            renvooi = true;
        }
        let actie = doc.attr(d, "wijzigactie").map(str::trim);
        if actie.is_some() {
            renvooi = true;
        }
        let subtree_weg = matches!(actie, Some("verwijder") | Some("verplaatstVan"));
        if subtree_weg && !in_verwijderd {
            verwijderd_tot = end;
        }
        let weg = soort == ActieSoort::Verwijder || in_verwijderd || subtree_weg || actie == Some("verwijderContainer");
        if let Some(w) = doc.attr(d, "wId").map(str::trim).filter(|w| !w.is_empty()) {
            if weg {
                verwijderde_wids.push(w.to_string());
            } else {
                wids.push(w.to_string());
            }
        }
    }
    Actie {
        soort,
        wat: attr_trim(doc, n, "wat"),
        context: attr_trim(doc, n, "context"),
        positie: attr_trim(doc, n, "positie"),
        revisie: doc.attr(n, "revisie").is_some_and(|v| v.trim() == "1" || v.trim() == "true"),
        renvooi,
        wids,
        verwijderde_wids,
        locatie: stop::locatie(doc, bestand, n),
    }
}

/// The wIds inside each initial regeling text (`Regeling*` with `@wordt`, not a mutation).
pub fn regeling_wids(b: &StopBestand) -> Vec<(String, BTreeSet<String>)> {
    let doc = &b.document;
    let Some(root) = doc.root() else { return Vec::new() };
    let mut out = Vec::new();
    for n in doc.descendants(root) {
        if doc.ns(n) != ns::TEKST || !doc.is_element(n) {
            continue;
        }
        if !matches!(
            doc.name(n),
            "RegelingCompact" | "RegelingVrijetekst" | "RegelingKlassiek" | "RegelingTijdelijkdeel"
        ) {
            continue;
        }
        // A regeling inside a VervangRegeling is the content of a mutation, not a new regeling.
        if doc.parent(n).is_some_and(|p| doc.is(p, ns::TEKST, "VervangRegeling")) {
            continue;
        }
        let Some(wordt) = doc.attr(n, "wordt") else { continue };
        let set: BTreeSet<String> = doc
            .descendants(n)
            .filter(|&d| doc.is_element(d))
            .filter_map(|d| doc.attr(d, "wId").map(|w| w.trim().to_string()))
            .filter(|w| !w.is_empty())
            .collect();
        out.push((wordt.trim().to_string(), set));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use stop::module::parse_bestand;

    fn bestand(acties: &str) -> StopBestand {
        let xml = format!(
            r#"<AanleveringBesluit xmlns="https://standaarden.overheid.nl/lvbb/stop/aanlevering/" schemaversie="1.4.1"><BesluitVersie><BesluitCompact xmlns="https://standaarden.overheid.nl/stop/imop/tekst/"><WijzigBijlage eId="cmp_A" wId="cmp_A"><RegelingMutatie componentnaam="r" was=" /a/nld@1 " wordt="/a/nld@2">{acties}</RegelingMutatie></WijzigBijlage></BesluitCompact></BesluitVersie></AanleveringBesluit>"#
        );
        parse_bestand("b.xml", xml.into_bytes()).unwrap_or_else(|m| panic!("{m:?}")).0
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn verwijder_removes_the_whole_element_and_vervang_follows_the_markings() {
        let b = bestand(
            r#"<Verwijder wat="a2"><Artikel wId="a2"><Lid wId="a2l1"><Inhoud><Lijst wId="a2l1x"/></Inhoud></Lid></Artikel></Verwijder>
<Vervang wat="a1"><Artikel wId="a1"><Lid wId="a1l1" wijzigactie="verwijder"><Inhoud><Lijst wId="a1l1x"/></Inhoud></Lid><Lid wId="a1l2" wijzigactie="voegtoe"/><Groep wId="a1g" wijzigactie="verwijderContainer"><Lid wId="a1l3"/></Groep><Al><VerwijderdeTekst>x</VerwijderdeTekst></Al></Artikel></Vervang>
<VoegToe context="a1" positie="volgtOp"><Artikel wId="a3"/></VoegToe>"#,
        );
        let m = &mutaties(&b)[0];
        assert_eq!(m.was.as_deref(), Some("/a/nld@1"));
        let [v, r, t] = &m.acties[..] else { panic!("{m:?}") };
        assert_eq!((v.soort, v.wids.len()), (ActieSoort::Verwijder, 0));
        assert_eq!(v.verwijderde_wids, ["a2", "a2l1", "a2l1x"]);
        assert_eq!(r.wids, ["a1", "a1l2", "a1l3"]);
        assert_eq!(r.verwijderde_wids, ["a1l1", "a1l1x", "a1g"]);
        assert!(r.renvooi && !v.renvooi && !t.renvooi);
        assert_eq!((t.context.as_deref(), t.positie.as_deref()), (Some("a1"), Some("volgtOp")));
        let was = set(&["a1", "a1l1", "a1l1x", "a1g", "a1l3", "a2", "a2l1", "a2l1x", "b"]);
        assert_eq!(m.wordt_wids(&was), set(&["a1", "a1l2", "a1l3", "a3", "b"]));
    }

    #[test]
    fn vervang_regeling_starts_from_nothing_and_its_regeling_is_not_a_new_one() {
        let b = bestand(r#"<VervangRegeling><RegelingCompact wordt="/a/nld@2"><Lichaam wId="body"><Artikel wId="n1"/></Lichaam></RegelingCompact></VervangRegeling>"#);
        assert!(regeling_wids(&b).is_empty());
        let m = &mutaties(&b)[0];
        assert_eq!(m.wordt_wids(&set(&["oud"])), set(&["body", "n1"]));
    }
}
