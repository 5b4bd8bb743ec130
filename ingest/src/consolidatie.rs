//! Text consolidation in the pipeline: the regeling versions a besluit creates, as texts.
//!
//! An initial regeling (a `Regeling*` with `@wordt` in a WijzigBijlage) is cut out of the
//! besluit as a standalone text; a `RegelingMutatie` is applied (`stop::tekst::pas_toe`) to its
//! was-version, which comes from this package, from a delivery staged earlier in the same group
//! commit, or from the store. Every version is stored as a tree of content-addressed nodes
//! (`store::tree`): one node per article-level unit (Artikel, Divisietekst, ...) under one node
//! per structure element (Lichaam, Hoofdstuk, Divisie, Bijlage, ...), so a new version writes
//! only the units it changes and their ancestors.

use std::collections::HashMap;

use stop::Melding;
use stop::module::StopBestand;
use stop::tekst::{Element, Tekst, als_regelingversie, pas_toe};
use stop::xml::{Document, NodeId};
use store::{Node as StoreNode, NodeHash, Stuk};

const REGELINGEN: &[&str] = &["RegelingCompact", "RegelingVrijetekst", "RegelingKlassiek", "RegelingTijdelijkdeel"];

/// Elements stored as their own node whose children may be nodes too.
const STRUCTUUR: &[&str] = &[
    "Lichaam", "Boek", "Deel", "Titel", "Hoofdstuk", "Afdeling", "Paragraaf", "Subparagraaf", "Subsubparagraaf",
    "Divisie", "Bijlage", "Toelichting", "ArtikelgewijzeToelichting", "AlgemeneToelichting", "Conditie",
];

/// Article-level units: one leaf node each (their whole text).
const EENHEID: &[&str] = &["Artikel", "Divisietekst", "WijzigArtikel", "InwerkingtredingArtikel", "RegelingOpschrift"];

/// The texts of one STOP file, taken while its XML tree is alive.
#[derive(Default)]
pub struct Teksten {
    /// Initial regeling versions: (wordt, text in its stored form).
    pub initieel: Vec<(String, Tekst)>,
    /// Mutations in document order: (was, wordt, the RegelingMutatie element).
    pub mutaties: Vec<(Option<String>, Option<String>, Tekst)>,
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

/// The regeling texts and mutations of a parsed STOP file.
pub fn teksten(b: &StopBestand) -> Teksten {
    let doc = &b.document;
    let mut out = Teksten::default();
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
            out.initieel.push((w.to_string(), als_regelingversie(Tekst::uit_document(doc, n), w)));
        }
    }
    out
}

/// Where the text of a was-version comes from when it is not in this package.
pub trait Bron {
    fn tekst(&self, expressie: &str) -> Result<Option<Tekst>, crate::IngestError>;
}

/// Build every regeling version of a package: initial texts as delivered, mutations applied to
/// their was-version. A mutation whose was-version text is unknown is skipped (the validator
/// reports a missing was-version; a version delivered before texts were stored has none).
pub fn versies(
    teksten: &[(String, Teksten)],
    bron: &dyn Bron,
    meldingen: &mut Vec<Melding>,
) -> Result<Vec<(String, Tekst)>, crate::IngestError> {
    let mut nieuw: Vec<(String, Tekst)> = Vec::new();
    for (_, t) in teksten {
        nieuw.extend(t.initieel.iter().cloned());
    }
    let mut gevonden: HashMap<String, usize> = nieuw.iter().enumerate().map(|(i, (e, _))| (e.clone(), i)).collect();
    for (bestand, t) in teksten {
        for (was, wordt, mutatie) in &t.mutaties {
            let (Some(was), Some(wordt)) = (was, wordt) else { continue };
            let basis = match gevonden.get(was) {
                Some(&i) => Some(nieuw[i].1.clone()),
                None => bron.tekst(was)?,
            };
            let Some(basis) = basis else { continue };
            match pas_toe(&basis, mutatie, bestand) {
                Ok(toepassing) => {
                    gevonden.insert(wordt.clone(), nieuw.len());
                    nieuw.push((wordt.clone(), als_regelingversie(toepassing.tekst, wordt)));
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
    let mut out = Vec::new();
    let mut stukken = vec![Stuk::Bytes(t.prolog().as_bytes().to_vec())];
    for n in t.nodes() {
        stuk_van(n, &mut out, &mut stukken, true);
    }
    stukken.push(Stuk::Bytes(t.epilog().as_bytes().to_vec()));
    out.push(StoreNode::new(stukken).normalized());
    out
}

fn stuk_van(n: &stop::tekst::Node, out: &mut Vec<StoreNode>, stukken: &mut Vec<Stuk>, top: bool) {
    match n {
        stop::tekst::Node::Element(e) if top || STRUCTUUR.contains(&e.name()) => {
            if e.end_tag().is_empty() {
                stukken.push(Stuk::Bytes(e.to_xml().into_bytes()));
                return;
            }
            let h = structuur(e, out);
            stukken.push(Stuk::Kind(h));
        }
        stop::tekst::Node::Element(e) if EENHEID.contains(&e.name()) => {
            let node = StoreNode::leaf(e.to_xml().into_bytes());
            let h = node.hash();
            out.push(node);
            stukken.push(Stuk::Kind(h));
        }
        other => {
            let mut s = String::new();
            other.write_xml(&mut s);
            stukken.push(Stuk::Bytes(s.into_bytes()));
        }
    }
}

fn structuur(e: &Element, out: &mut Vec<StoreNode>) -> NodeHash {
    let mut stukken = vec![Stuk::Bytes(e.start_tag().as_bytes().to_vec())];
    for c in e.children() {
        stuk_van(c, out, &mut stukken, false);
    }
    stukken.push(Stuk::Bytes(e.end_tag().as_bytes().to_vec()));
    let node = StoreNode::new(stukken).normalized();
    let h = node.hash();
    out.push(node);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

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
