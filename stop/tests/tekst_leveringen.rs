//! The text model and mutation application on real deliveries: our fixtures (initial regeling
//! 01 + wijzigingsbesluit 06) and the Geonovum LVBB test repository (Sanity-check-testeiland).

use std::path::Path;

use stop::tekst::{Tekst, pas_toe};
use stop::xml::{Document, NodeId};

fn lees(path: &Path) -> Document {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Document::parse(bytes).unwrap()
}

fn vind(doc: &Document, name: &str) -> NodeId {
    doc.descendants(doc.root().unwrap()).find(|&n| doc.is_element(n) && doc.name(n) == name).unwrap()
}

fn geonovum(sub: &str) -> std::path::PathBuf {
    fixtures::shared_dir().join("deliveries/geonovum-lvbb-test-repository/Sanity-check-testeiland").join(sub)
}

#[test]
fn whole_besluiten_round_trip_byte_exact() {
    let paths = [
        fixtures::fixtures_dir().join("deliveries/01-initieel-compact-gio/besluit.xml"),
        fixtures::fixtures_dir().join("deliveries/06-wijzigingsbesluit/wijzigingsbesluit.xml"),
        geonovum("1_Initieel_Besluit/Initieel_besluit.xml"),
        geonovum("2_Wijzigingsbesluit/Wijzigingsbesluit.xml"),
    ];
    for p in paths {
        let src = std::fs::read_to_string(&p).unwrap();
        let t = Tekst::parse(&src).unwrap();
        assert_eq!(t.to_xml(), src, "{}", p.display());
    }
}

#[test]
fn regeling_cut_from_a_besluit_is_a_standalone_document() {
    let doc = lees(&geonovum("1_Initieel_Besluit/Initieel_besluit.xml"));
    let node = vind(&doc, "RegelingCompact");
    let t = Tekst::uit_document(&doc, node);
    let xml = t.to_xml();
    // Only the start tag changed: the default tekst namespace was declared on BesluitCompact.
    let raw = doc.raw(node);
    assert!(xml.starts_with("<RegelingCompact xmlns=\"https://standaarden.overheid.nl/stop/imop/tekst/\""), "{}", &xml[..200]);
    assert_eq!(&xml[xml.len() - 200..], &raw[raw.len() - 200..]);
    assert_eq!(xml.len(), raw.len() + " xmlns=\"https://standaarden.overheid.nl/stop/imop/tekst/\"".len());
    let alone = Tekst::parse(&xml).unwrap();
    assert_eq!(alone.root().unwrap().ns(), stop::ns::TEKST);
    assert_eq!(alone.to_xml(), xml);
    // Lookups and positions from the besluit.
    let art = t.by_wid("gm9920_1__chp_1__art_1.1").unwrap();
    assert_eq!(art.name(), "Artikel");
    assert_eq!(art.eid(), Some("chp_1__art_1.1"));
    assert_eq!(art.parent().unwrap().name(), "Hoofdstuk");
    assert!(art.position().unwrap().0 > 100);
    assert!(t.wids().count() >= 13);
    assert!(t.dubbele_wids().is_empty());
}

#[test]
fn geonovum_2_names_the_planted_unknown_wid() {
    let was_doc = lees(&geonovum("1_Initieel_Besluit/Initieel_besluit.xml"));
    let was = Tekst::uit_document(&was_doc, vind(&was_doc, "RegelingCompact"));
    let mut_doc = lees(&geonovum("2_Wijzigingsbesluit/Wijzigingsbesluit.xml"));
    let node = vind(&mut_doc, "RegelingMutatie");
    let mutatie = Tekst::uit_document(&mut_doc, node);
    let m = pas_toe(&was, &mutatie, "Wijzigingsbesluit.xml").unwrap_err();
    let codes: Vec<&str> = m.iter().map(|m| m.code.as_str()).collect();
    let lvbb5003 = m.iter().find(|m| m.code == "LVBB5003").unwrap_or_else(|| panic!("{m:#?}"));
    assert!(lvbb5003.beschrijving.contains("gm9920_1__h_1__art_1-1"), "{}", lvbb5003.beschrijving);
    assert!(lvbb5003.beschrijving.contains("/akn/nl/act/gm9920/2021/TestReeksNummer1/nld@1"));
    assert_eq!(lvbb5003.locatie.bestand.as_deref(), Some("Wijzigingsbesluit.xml"));
    assert_eq!(lvbb5003.locatie.regel, Some(95), "{lvbb5003}");
    assert!(lvbb5003.locatie.pad.as_deref().unwrap().ends_with("/WijzigBijlage/RegelingMutatie/Vervang"));
    // The VoegToe after the same unknown article: the context does not exist either.
    let lvbb5027 = m.iter().find(|m| m.code == "LVBB5027").unwrap_or_else(|| panic!("{codes:?}"));
    assert!(lvbb5027.beschrijving.contains("gm9920_1__h_1__art_1-1"));
    assert_eq!(lvbb5027.locatie.regel, Some(283));
    // No renvooi in the Vervang either.
    assert!(codes.contains(&"STOP0086"), "{codes:?}");
}

#[test]
fn geonovum_4_builds_on_a_version_that_never_came_about() {
    // 4_ changes nld@2 (the result of 2_, which is rejected): applied to nld@1 its context is unknown.
    let was_doc = lees(&geonovum("1_Initieel_Besluit/Initieel_besluit.xml"));
    let was = Tekst::uit_document(&was_doc, vind(&was_doc, "RegelingCompact"));
    let mut_doc = lees(&geonovum("4_WijzigingsBesluit/Wijzigingsbesluit.xml"));
    let mutatie = Tekst::uit_document(&mut_doc, vind(&mut_doc, "RegelingMutatie"));
    let m = pas_toe(&was, &mutatie, "Wijzigingsbesluit.xml").unwrap_err();
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0].code, "LVBB5027");
    assert!(m[0].beschrijving.contains("gm9920_2__h_1__art_1-4"));
    assert_eq!(m[0].locatie.regel, Some(95));
}

#[test]
fn fixture_06_applies_to_fixture_01() {
    let was_doc = lees(&fixtures::fixtures_dir().join("deliveries/01-initieel-compact-gio/besluit.xml"));
    let was = Tekst::uit_document(&was_doc, vind(&was_doc, "RegelingCompact"));
    let mut_doc = lees(&fixtures::fixtures_dir().join("deliveries/06-wijzigingsbesluit/wijzigingsbesluit.xml"));
    let mutatie = Tekst::uit_document(&mut_doc, vind(&mut_doc, "RegelingMutatie"));
    let t = pas_toe(&was, &mutatie, "wijzigingsbesluit.xml").unwrap_or_else(|m| panic!("{m:#?}"));
    let n = &t.tekst;
    // New article in, removed article out.
    let nieuw = n.by_wid("gm9901_2__chp_2__subchp_2.2__art_2.5").expect("new article");
    assert_eq!(nieuw.parent().unwrap().wid(), Some("gm9901_1__chp_2__subchp_2.2"));
    assert!(n.by_wid("gm9901_1__chp_2__subchp_2.1__art_2.2").is_none());
    assert!(n.by_wid("gm9901_1__chp_2__subchp_2.1__art_2.2__table_o_1").is_none());
    // Vervang with renvooi: the new wording, the added Lid, no renvooi left.
    let art = n.by_wid("gm9901_1__chp_2__subchp_2.1__art_2.1").unwrap();
    let tekst = art.text();
    assert!(tekst.contains("24 meter aan de Noordkade"), "{tekst}");
    assert!(!tekst.contains("de maximale bouwhoogte die in artikel 2.2"));
    assert!(n.by_wid("gm9901_2__chp_2__subchp_2.1__art_2.1__para_4").is_some());
    let xml = n.to_xml();
    for marker in ["NieuweTekst", "VerwijderdeTekst", "wijzigactie"] {
        assert!(!xml.contains(marker), "{marker} left");
    }
    // VervangKop.
    let afd = n.by_wid("gm9901_1__chp_2__subchp_2.2").unwrap();
    assert_eq!(afd.child("Kop").unwrap().child("Opschrift").unwrap().text(), "Gebruik en terrassen");
    // The new article follows 2.4.
    let parent = nieuw.parent().unwrap();
    let artikelen: Vec<&str> = parent.elements().filter_map(|e| e.wid()).collect();
    let i = artikelen.iter().position(|w| *w == "gm9901_2__chp_2__subchp_2.2__art_2.5").unwrap();
    assert_eq!(artikelen[i - 1], "gm9901_1__chp_2__subchp_2.2__art_2.4");
    // Everything outside the changed parts is byte-identical, and the result is well-formed.
    let alone = Tekst::parse(&xml).unwrap();
    assert_eq!(alone.to_xml(), xml);
    let was_xml = was.to_xml();
    let art11 = was.by_wid("gm9901_1__chp_1__art_1.1").unwrap().to_xml();
    assert!(was_xml.contains(&art11) && xml.contains(&art11));
    // The index carried over from the was-version agrees with one built from scratch.
    assert_eq!(n.index_lagen(), 1);
    let mut derived: Vec<&str> = n.wids().collect();
    let mut fresh: Vec<&str> = alone.wids().collect();
    derived.sort();
    fresh.sort();
    assert_eq!(derived, fresh);
    for w in fresh {
        assert_eq!(n.by_wid(w).unwrap().to_xml(), alone.by_wid(w).unwrap().to_xml(), "{w}");
    }
    // Provenance.
    assert!(t.toegevoegd.contains("gm9901_2__chp_2__subchp_2.2__art_2.5"));
    assert!(t.toegevoegd.contains("gm9901_2__chp_2__subchp_2.1__art_2.1__para_4"));
    assert!(t.verwijderd.contains("gm9901_1__chp_2__subchp_2.1__art_2.2"));
    assert!(t.gewijzigd.contains("gm9901_1__chp_2__subchp_2.1__art_2.1"));
    assert!(t.gewijzigd.contains("gm9901_1__chp_2__subchp_2.1__art_2.1__para_2__list_o_1__item_a"));
    assert!(!t.gewijzigd.contains("gm9901_1__chp_2__subchp_2.1__art_2.1__para_1"));
    assert!(t.gewijzigd.contains("gm9901_1__chp_2__subchp_2.2"));
    let nummers: Vec<_> = t.acties.iter().map(|a| a.nummer.as_deref().unwrap_or("")).collect();
    assert_eq!(nummers, ["A", "B", "C", "D"]);
    assert!(t.acties.iter().all(|a| a.toegepast));
}
