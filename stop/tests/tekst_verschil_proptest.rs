//! Property test of `tekst::diff`: random edits of a generated regeling (text inside an Al,
//! Lid added/removed, articles added/removed/moved, a Kop changed, with or without renumbering
//! the eIds), then diff original → edited, generate the RegelingMutatie, apply it with `pas_toe`
//! and require exactly the edited text (modulo white-space-only text), with fine-grained actions.

use fixtures::xmltree::{self, Element, Node};
use proptest::prelude::*;
use stop::tekst::{Route, Tekst, als_regelingversie, maak_mutatie, pas_toe, vergelijk};

const WAS: &str = "/akn/nl/act/gm9901/2027/prop/nld@2027-01-01;1";
const WORDT: &str = "/akn/nl/act/gm9901/2027/prop/nld@2027-02-01;2";

fn regeling(artikelen: usize, seed: u64) -> Element {
    let spec = fixtures::GenSpec { artikelen, seed, ..fixtures::GenSpec::default() };
    let xml = fixtures::generate_chain(&spec, 0).expected(0);
    let mut e = xmltree::parse(&xml).unwrap();
    e.strip_whitespace();
    e
}

fn paden(e: &Element, pred: &dyn Fn(&Element) -> bool, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if pred(e) {
        out.push(cur.clone());
    }
    for (i, c) in e.children.iter().enumerate() {
        if let Node::Element(c) = c {
            cur.push(i);
            paden(c, pred, cur, out);
            cur.pop();
        }
    }
}

fn zoek(e: &Element, pred: &dyn Fn(&Element) -> bool) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    paden(e, pred, &mut Vec::new(), &mut out);
    out
}

fn kies<T: Clone>(v: &[T], r: u32) -> Option<T> {
    (!v.is_empty()).then(|| v[r as usize % v.len()].clone())
}

fn is_container(e: &Element) -> bool {
    matches!(e.name.as_str(), "Hoofdstuk" | "Afdeling" | "Paragraaf")
        && e.elements().all(|c| matches!(c.name.as_str(), "Kop" | "Artikel"))
}

fn nieuw_artikel(n: usize) -> Element {
    xmltree::parse(&format!(
        "<Artikel eId=\"art_x{n}\" wId=\"gm9901_99__art_x{n}\"><Kop><Label>Artikel</Label><Nummer>X{n}</Nummer><Opschrift>Nieuwe regel {n}</Opschrift></Kop>\
         <Lid eId=\"art_x{n}__para_1\" wId=\"gm9901_99__art_x{n}__para_1\"><LidNummer>1.</LidNummer><Inhoud><Al>Het is verboden zonder vergunning een terras te plaatsen.</Al></Inhoud></Lid></Artikel>"
    ))
    .unwrap()
}

fn nieuw_lid(art_eid: &str, n: usize) -> Element {
    xmltree::parse(&format!(
        "<Lid eId=\"{art_eid}__para_x{n}\" wId=\"gm9901_99__para_x{n}\"><LidNummer>{n}a.</LidNummer><Inhoud><Al>Het college kan nadere regels stellen over de <i>uitvoering</i> van dit artikel.</Al></Inhoud></Lid>"
    ))
    .unwrap()
}

/// Rename eId prefix `oud__` to `nieuw__` below `e` (what renumbering a unit does).
fn hernoem(e: &mut Element, oud: &str, nieuw: &str) {
    for c in e.elements_mut() {
        if let Some(x) = c.attr("eId").map(str::to_string)
            && let Some(rest) = x.strip_prefix(&format!("{oud}__"))
        {
            c.set_attr("eId", &format!("{nieuw}__{rest}"));
        }
        hernoem(c, oud, nieuw);
    }
}

fn woorden_bewerken(t: &str, soort: u32, r: u32, n: usize) -> String {
    let mut w: Vec<String> = t.split(' ').map(str::to_string).collect();
    let i = r as usize % w.len().max(1);
    match soort % 3 {
        0 if !w.is_empty() => w[i] = format!("gewijzigd{n}"),
        1 => w.insert(i.min(w.len()), format!("nieuw{n}")),
        _ if w.len() > 1 => {
            w.remove(i);
        }
        _ => w.push(format!("extra{n}")),
    }
    w.join(" ")
}

/// One edit; returns a description (or None when it did not apply).
fn bewerk(root: &mut Element, soort: u8, r1: u32, r2: u32, r3: u32, n: usize) -> Option<String> {
    match soort % 11 {
        0 => {
            let p = kies(&zoek(root, &|e| e.name == "Al"), r1)?;
            let al = root.at_path_mut(&p)?;
            let teksten: Vec<usize> = al.children.iter().enumerate().filter(|(_, c)| matches!(c, Node::Text(_))).map(|(i, _)| i).collect();
            match kies(&teksten, r2) {
                Some(k) => {
                    if let Node::Text(t) = &mut al.children[k] {
                        *t = woorden_bewerken(t, r3, r2 / 7, n);
                    }
                }
                None => al.children.push(Node::Text(format!(" toegevoegd{n}"))),
            }
            Some(format!("tekst in Al {p:?}"))
        }
        1 => {
            let p = kies(&zoek(root, &|e| e.name == "Artikel" && e.child("Lid").is_some()), r1)?;
            let art = root.at_path_mut(&p)?;
            let eid = art.attr("eId")?.to_string();
            let leden: Vec<usize> = art.children.iter().enumerate().filter(|(_, c)| matches!(c, Node::Element(e) if e.name == "Lid")).map(|(i, _)| i).collect();
            let at = leden[r2 as usize % leden.len()] + (r3 as usize % 2);
            art.children.insert(at, Node::Element(nieuw_lid(&eid, n)));
            Some(format!("lid toegevoegd in {eid}"))
        }
        2 => {
            let p = kies(&zoek(root, &|e| e.name == "Artikel" && e.elements().filter(|c| c.name == "Lid").count() >= 2), r1)?;
            let art = root.at_path_mut(&p)?;
            let leden: Vec<usize> = art.children.iter().enumerate().filter(|(_, c)| matches!(c, Node::Element(e) if e.name == "Lid")).map(|(i, _)| i).collect();
            art.children.remove(leden[r2 as usize % leden.len()]);
            Some("lid verwijderd".into())
        }
        3 => {
            let p = kies(&zoek(root, &is_container), r1)?;
            let c = root.at_path_mut(&p)?;
            let at = 1 + r2 as usize % c.children.len().max(1);
            c.children.insert(at.min(c.children.len()), Node::Element(nieuw_artikel(n)));
            Some(format!("artikel toegevoegd in {p:?}"))
        }
        4 => {
            let p = kies(&zoek(root, &|e| e.name == "Artikel"), r1)?;
            let (last, parent) = p.split_last()?;
            root.at_path_mut(parent)?.children.remove(*last);
            Some("artikel verwijderd".into())
        }
        5 => {
            let p = kies(&zoek(root, &|e| e.name == "Artikel"), r1)?;
            let (last, parent) = p.split_last()?;
            let Node::Element(art) = root.at_path_mut(parent)?.children.remove(*last) else { return None };
            let doel = kies(&zoek(root, &is_container), r2)?;
            let c = root.at_path_mut(&doel)?;
            let at = 1 + r3 as usize % c.children.len().max(1);
            c.children.insert(at.min(c.children.len()), Node::Element(art));
            Some(format!("artikel verplaatst naar {doel:?}"))
        }
        7 => {
            // A new container around a run of existing articles.
            let p = kies(&zoek(root, &|e| is_container(e) && e.child("Artikel").is_some()), r1)?;
            let c = root.at_path_mut(&p)?;
            let arts: Vec<usize> = c.children.iter().enumerate().filter(|(_, x)| matches!(x, Node::Element(e) if e.name == "Artikel")).map(|(i, _)| i).collect();
            let van = arts[r2 as usize % arts.len()];
            let tot = (van + 1 + r3 as usize % 3).min(arts[arts.len() - 1] + 1);
            let binnen: Vec<Node> = c.children.drain(van..tot).collect();
            let mut nieuw = xmltree::parse(&format!(
                "<Paragraaf eId=\"subsec_x{n}\" wId=\"gm9901_99__subsec_x{n}\"><Kop><Label>Paragraaf</Label><Nummer>{n}</Nummer><Opschrift>Nieuwe paragraaf</Opschrift></Kop></Paragraaf>"
            ))
            .ok()?;
            nieuw.children.extend(binnen);
            c.children.insert(van, Node::Element(nieuw));
            Some(format!("nieuwe container in {p:?}"))
        }
        8 => {
            // A container goes, its articles stay where it was.
            let p = kies(&zoek(root, &|e| matches!(e.name.as_str(), "Afdeling" | "Paragraaf") && e.child("Artikel").is_some()), r1)?;
            let (last, parent) = p.split_last()?;
            let ouder = root.at_path_mut(parent)?;
            if ouder.elements().any(|e| e.name != "Kop" && e.name != "Artikel" && e.name != "Afdeling" && e.name != "Paragraaf") {
                return None;
            }
            let Node::Element(c) = ouder.children.remove(*last) else { return None };
            let arts: Vec<Node> = c.children.into_iter().filter(|x| matches!(x, Node::Element(e) if e.name == "Artikel")).collect();
            for (k, a) in arts.into_iter().enumerate() {
                ouder.children.insert(*last + k, a);
            }
            Some("container opgeheven".into())
        }
        9 => {
            // A Lid moves to another article.
            let p = kies(&zoek(root, &|e| e.name == "Artikel" && e.elements().filter(|c| c.name == "Lid").count() >= 2), r1)?;
            let art = root.at_path_mut(&p)?;
            let leden: Vec<usize> = art.children.iter().enumerate().filter(|(_, c)| matches!(c, Node::Element(e) if e.name == "Lid")).map(|(i, _)| i).collect();
            let Node::Element(lid) = art.children.remove(leden[r2 as usize % leden.len()]) else { return None };
            let doel = kies(&zoek(root, &|e| e.name == "Artikel" && e.child("Lid").is_some()), r3)?;
            let d = root.at_path_mut(&doel)?;
            d.children.push(Node::Element(lid));
            Some(format!("lid verplaatst naar {doel:?}"))
        }
        10 => {
            // A Li goes, or one is added.
            let p = kies(&zoek(root, &|e| e.name == "Lijst" && e.elements().filter(|c| c.name == "Li").count() >= 2), r1)?;
            let l = root.at_path_mut(&p)?;
            let lis: Vec<usize> = l.children.iter().enumerate().filter(|(_, c)| matches!(c, Node::Element(e) if e.name == "Li")).map(|(i, _)| i).collect();
            let i = lis[r2 as usize % lis.len()];
            if r3.is_multiple_of(2) {
                l.children.remove(i);
                Some("li verwijderd".into())
            } else {
                let eid = l.attr("eId")?.to_string();
                let li = xmltree::parse(&format!(
                    "<Li eId=\"{eid}__item_x{n}\" wId=\"gm9901_99__item_x{n}\"><LiNummer>x.</LiNummer><Al>een nieuw onderdeel;</Al></Li>"
                ))
                .ok()?;
                l.children.insert(i, Node::Element(li));
                Some("li toegevoegd".into())
            }
        }
        _ => {
            let p = kies(&zoek(root, &|e| matches!(e.name.as_str(), "Artikel" | "Hoofdstuk" | "Afdeling") && e.child("Kop").is_some()), r1)?;
            let u = root.at_path_mut(&p)?;
            let kop = u.child_mut("Kop")?;
            match r2 % 3 {
                0 => {
                    let o = kop.child_mut("Opschrift")?;
                    let t = o.text();
                    o.children = vec![Node::Text(woorden_bewerken(&t, r3, r3 / 3, n))];
                    Some("opschrift gewijzigd".into())
                }
                _ => {
                    let nummer = kop.child_mut("Nummer")?;
                    let t = format!("{}{}", nummer.text(), char::from(b'a' + (n % 26) as u8));
                    nummer.children = vec![Node::Text(t.clone())];
                    if r2 % 3 == 1 {
                        // Renumbering: the eId follows, and so do the eIds below it.
                        let oud = u.attr("eId")?.to_string();
                        let nieuw = format!("{oud}{}", char::from(b'a' + (n % 26) as u8));
                        u.set_attr("eId", &nieuw);
                        hernoem(u, &oud, &nieuw);
                        Some(format!("hernummerd {oud} → {nieuw}"))
                    } else {
                        Some("nummer gewijzigd".into())
                    }
                }
            }
        }
    }
}

fn canon(t: &Tekst) -> String {
    fixtures::canonical_xml(&t.to_xml()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn diff_mutation_apply_gives_the_target(
        artikelen in 1usize..30,
        seed in 0u64..10_000,
        edits in prop::collection::vec((any::<u8>(), any::<u32>(), any::<u32>(), any::<u32>()), 1..10),
    ) {
        let orig = regeling(artikelen, seed);
        let mut edited = orig.clone();
        let mut gedaan = Vec::new();
        for (n, (s, r1, r2, r3)) in edits.into_iter().enumerate() {
            if let Some(d) = bewerk(&mut edited, s, r1, r2, r3, n) {
                gedaan.push(d);
            }
        }
        let mut a = orig.clone();
        a.set_attr("wordt", WAS);
        edited.set_attr("wordt", WORDT);
        let (ta, tb) = (Tekst::parse(&a.to_xml()).unwrap(), Tekst::parse(&edited.to_xml()).unwrap());

        let verschil = vergelijk(&ta, &tb).unwrap();
        let m = maak_mutatie(&ta, &tb, "regeling", WAS, WORDT).unwrap();
        prop_assert_eq!(&m.route, &Route::Acties, "edits {:?}\n{}", gedaan, m.to_xml());
        let toegepast = pas_toe(&ta, &m.tekst, "mutatie.xml");
        prop_assert!(toegepast.is_ok(), "edits {:?}: {:#?}\n{}", gedaan, toegepast.err(), m.to_xml());
        let got = canon(&als_regelingversie(toegepast.unwrap().tekst, WORDT));
        let want = canon(&tb);
        prop_assert_eq!(got, want, "edits {:?}\n{}", gedaan, m.to_xml());

        let gelijk = canon(&als_regelingversie(ta.clone(), WORDT)) == canon(&tb);
        prop_assert_eq!(verschil.eenheden.is_empty(), gelijk, "edits {:?}: {:#?}", gedaan, verschil.samenvatting);
        if gelijk {
            prop_assert_eq!(m.acties, 0);
        }
    }
}
