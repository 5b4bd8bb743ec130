//! Facts taken from a file's XML tree while it is alive, for package-level rules that run
//! after the tree is dropped: regeling mutations with their actions, and the wIds of each
//! initial regeling text.

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
    /// wIds of elements in the content that the action adds (not marked `wijzigactie="verwijder"`).
    pub wids: Vec<String>,
    /// wIds marked as removed inside the content (`wijzigactie="verwijder"`).
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
            was: doc.attr(n, "was").map(|s| s.trim().to_string()),
            wordt: doc.attr(n, "wordt").map(|s| s.trim().to_string()),
            componentnaam: doc.attr(n, "componentnaam").map(str::to_string),
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
    for d in doc.descendants(n).skip(1) {
        if !doc.is_element(d) {
            continue;
        }
        let name = doc.name(d);
        if name == "NieuweTekst" || name == "VerwijderdeTekst" {
            renvooi = true;
        }
        let actie = doc.attr(d, "wijzigactie");
        if actie.is_some() {
            renvooi = true;
        }
        if let Some(w) = doc.attr(d, "wId") {
            if matches!(actie, Some("verwijder") | Some("verwijderContainer") | Some("verplaatstVan")) {
                verwijderde_wids.push(w.to_string());
            } else {
                wids.push(w.to_string());
            }
        }
    }
    Actie {
        soort,
        wat: doc.attr(n, "wat").map(|s| s.trim().to_string()),
        context: doc.attr(n, "context").map(|s| s.trim().to_string()),
        positie: doc.attr(n, "positie").map(str::to_string),
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
        let Some(wordt) = doc.attr(n, "wordt") else { continue };
        let set: BTreeSet<String> = doc
            .descendants(n)
            .filter(|&d| doc.is_element(d))
            .filter_map(|d| doc.attr(d, "wId").map(str::to_string))
            .collect();
        out.push((wordt.trim().to_string(), set));
    }
    out
}
