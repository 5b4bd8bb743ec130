//! The apply engine against the hand-written fixture chain `fixtures/chains/havenkwartier`:
//! the initial regeling and 20 wijzigingsbesluiten covering every action; after each step the
//! consolidated text must equal the hand-derived `expected/NN.xml` (modulo whitespace-only text
//! between elements).

use stop::tekst::{Tekst, als_regelingversie, pas_toe};
use stop::xml::Document;

fn regeling_elements(doc: &Document, names: &[&str]) -> Vec<stop::xml::NodeId> {
    let root = doc.root().unwrap();
    doc.descendants(root)
        .filter(|&n| doc.is_element(n) && doc.ns(n) == stop::ns::TEKST && names.contains(&doc.name(n)))
        .collect()
}

/// Inside a RegelingMutatie (a VervangRegeling payload), not an initial regeling.
fn binnen_mutatie(doc: &Document, mut n: stop::xml::NodeId) -> bool {
    while let Some(p) = doc.parent(n) {
        if doc.name(p) == "RegelingMutatie" {
            return true;
        }
        n = p;
    }
    false
}

#[test]
fn havenkwartier_chain_consolidates_to_the_expected_texts() {
    let steps = fixtures::chain_steps(fixtures::HAVENKWARTIER).expect("chain");
    assert!(steps.len() >= 21, "{} steps", steps.len());
    let mut huidig: Option<Tekst> = None;
    let mut checked = 0;
    for step in &steps {
        let besluit = std::fs::read_to_string(step.dir.join("besluit.xml")).unwrap();
        let doc = Document::parse_str(&besluit).unwrap();
        let initieel = regeling_elements(&doc, &["RegelingCompact", "RegelingVrijetekst", "RegelingKlassiek", "RegelingTijdelijkdeel"])
            .into_iter()
            .filter(|&n| doc.attr(n, "wordt").is_some() && !binnen_mutatie(&doc, n))
            .collect::<Vec<_>>();
        let mutaties = regeling_elements(&doc, &["RegelingMutatie"]);
        if let Some(&n) = initieel.first() {
            let wordt = doc.attr(n, "wordt").unwrap().trim().to_string();
            huidig = Some(als_regelingversie(Tekst::uit_document(&doc, n), &wordt));
        }
        for m in mutaties {
            let mutatie = Tekst::uit_document(&doc, m);
            let was = huidig.as_ref().expect("a was-version");
            let wordt = doc.attr(m, "wordt").unwrap().trim().to_string();
            match pas_toe(was, &mutatie, "besluit.xml") {
                Ok(t) => huidig = Some(als_regelingversie(t.tekst, &wordt)),
                Err(ms) => panic!("{}: {:#?}", step.dir.display(), ms),
            }
        }
        if let Some(exp) = &step.expected {
            let want = fixtures::canonical_xml(&std::fs::read_to_string(exp).unwrap()).unwrap();
            let got = fixtures::canonical_xml(&huidig.as_ref().unwrap().to_xml()).unwrap();
            if want != got {
                let at = want.bytes().zip(got.bytes()).position(|(a, b)| a != b).unwrap_or(want.len().min(got.len()));
                panic!(
                    "{}: consolidated text differs from {} at byte {at}:\n want …{}…\n got  …{}…",
                    step.dir.display(),
                    exp.display(),
                    &want[at.saturating_sub(200)..(at + 200).min(want.len())],
                    &got[at.saturating_sub(200)..(at + 200).min(got.len())]
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 21, "{checked} versions compared");
}
