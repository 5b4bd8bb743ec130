//! `tekst::diff`: the structured diff of two regeling versions and the RegelingMutatie that turns
//! one into the other (checked by applying it with `pas_toe`), on hand-written cases and on the
//! hand-written chain `fixtures/chains/havenkwartier`.

use stop::tekst::diff::{BlokSoort, DeelSoort, Wijziging};
use stop::tekst::{Mutatie, Route, Tekst, als_regelingversie, maak_mutatie, pas_toe, vergelijk};

fn canon(t: &Tekst) -> String {
    fixtures::canonical_xml(&t.to_xml()).unwrap()
}

/// Build the mutation A → B, apply it to A, and require exactly B (modulo white-space-only text).
fn rondgang(a: &str, b: &str) -> Mutatie {
    let (ta, tb) = (Tekst::parse(a).unwrap(), Tekst::parse(b).unwrap());
    let wordt = tb.root().unwrap().attr("wordt").map(|s| s.into_owned()).unwrap_or_else(|| "/akn/nl/act/gm9999/2027/r/nld@2".into());
    let was = ta.root().unwrap().attr("wordt").map(|s| s.into_owned()).unwrap_or_else(|| "/akn/nl/act/gm9999/2027/r/nld@1".into());
    let m = maak_mutatie(&ta, &tb, "regeling", &was, &wordt).unwrap();
    let toegepast = match pas_toe(&ta, &m.tekst, "mutatie.xml") {
        Ok(t) => t,
        Err(ms) => panic!("{:#?}\n{}", ms, m.to_xml()),
    };
    let got = canon(&als_regelingversie(toegepast.tekst, &wordt));
    let want = canon(&als_regelingversie(tb, &wordt));
    assert_eq!(got, want, "mutation:\n{}", m.to_xml());
    m
}

fn havenkwartier(n: usize) -> String {
    let p = fixtures::chains_dir().join(fixtures::HAVENKWARTIER).join("expected").join(format!("{n:02}.xml"));
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn havenkwartier_03_to_15_round_trips_with_fine_grained_actions() {
    let m = rondgang(&havenkwartier(3), &havenkwartier(15));
    assert_eq!(m.route, Route::Acties, "{}", m.to_xml());
    let xml = m.to_xml();
    // Every kind of action, renvooi inside text, whole Leden and moves.
    for s in [
        "<Verwijder wat=\"gm9901_1__chp_2__subchp_2.3\"",
        "<Vervang wat=\"gm9901_1__chp_1__art_1.3\"",
        "<VerwijderdeTekst>kademueren</VerwijderdeTekst><NieuweTekst>kademuren</NieuweTekst>",
        "wijzigactie=\"voegtoe\"",
        "wijzigactie=\"verwijder\"",
        "<VervangKop wat=\"gm9901_1__chp_3__art_3.5\" eId-wordt=\"chp_3__art_3.6\"",
        "<VoegToe context=\"gm9901_1__chp_2__subchp_2.2\" positie=\"volgtOp\"",
        "<Vervang wat=\"gm9901_1__chp_2__subchp_2.1__art_2.3\" context=\"gm9901_9__chp_2__subchp_2.4__art_2.9\" positie=\"volgtOp\"",
    ] {
        assert!(xml.contains(s), "{s} not in\n{xml}");
    }
    let root = m.tekst.root().unwrap();
    assert_eq!(root.attr("componentnaam").as_deref(), Some("regeling"));
    assert_eq!(root.attr("was").as_deref(), Tekst::parse(&havenkwartier(3)).unwrap().root().unwrap().attr("wordt").as_deref());
    assert_eq!(m.acties, root.elements().count());
}

#[test]
fn every_pair_of_havenkwartier_versions_round_trips() {
    let n = (0..)
        .take_while(|i| fixtures::chains_dir().join(fixtures::HAVENKWARTIER).join("expected").join(format!("{i:02}.xml")).is_file())
        .count();
    assert!(n >= 21);
    let texts: Vec<String> = (0..n).map(havenkwartier).collect();
    let mut fallback = Vec::new();
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let m = rondgang(&texts[i], &texts[j]);
            if let Route::VervangRegeling { reden } = &m.route {
                fallback.push(format!("{i:02} → {j:02}: {reden}"));
            }
        }
    }
    assert!(fallback.is_empty(), "{}", fallback.join("\n"));
}


// ----------------------------------------------------------------------------- schema validity

fn xmllint(xml: &str, naam: &str) -> Option<String> {
    if std::env::var("REGELBANK_SKIP_XMLLINT").is_ok_and(|v| v == "1") {
        return None;
    }
    let shared = fixtures::shared_dir();
    let catalog = shared.join("schemas/catalog.xml");
    assert!(catalog.is_file(), "schema catalog not found at {} (set REGELBANK_SHARED)", catalog.display());
    let xsd = shared.join("schemas/lvbb-1.3.0-ic_stop-1.4.1/stop/1.4.1/imop-tekst.xsd");
    let dir = std::env::temp_dir().join(format!("regelbank-verschil-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(naam);
    std::fs::write(&f, xml).unwrap();
    let out = std::process::Command::new("xmllint")
        .env("XML_CATALOG_FILES", &catalog)
        .args(["--nonet", "--noout", "--schema"])
        .arg(&xsd)
        .arg(&f)
        .output()
        .expect("xmllint not found: install it with `apt-get install -y libxml2-utils` (or set REGELBANK_SKIP_XMLLINT=1)");
    let _ = std::fs::remove_file(&f);
    (!out.status.success()).then(|| format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The RegelingMutatie inside a WijzigBijlage, as in a besluit.
fn in_wijzigbijlage(m: &Mutatie) -> String {
    let r = m.tekst.root().unwrap().to_xml();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<WijzigBijlage xmlns=\"https://standaarden.overheid.nl/stop/imop/tekst/\" eId=\"cmp_A\" wId=\"gm9901_22__cmp_A\">\
         <Kop><Label>Bijlage</Label><Nummer>A</Nummer><Opschrift>Wijzigingen in het omgevingsplan</Opschrift></Kop>\n{r}\n</WijzigBijlage>\n"
    )
}

#[test]
fn generated_mutations_are_valid_stop_141() {
    let mut fouten = Vec::new();
    for (i, j) in [(3, 15), (0, 19), (15, 3), (19, 0), (8, 12), (16, 17)] {
        let m = rondgang(&havenkwartier(i), &havenkwartier(j));
        for (xml, naam) in [(m.to_xml(), format!("mutatie-{i}-{j}.xml")), (in_wijzigbijlage(&m), format!("wijzigbijlage-{i}-{j}.xml"))] {
            if let Some(f) = xmllint(&xml, &naam) {
                fouten.push(format!("{naam}: {f}"));
            }
        }
    }
    // The fallback too.
    let a = "<RegelingVrijetekst xmlns=\"https://standaarden.overheid.nl/stop/imop/tekst/\"><RegelingOpschrift eId=\"longTitle\" wId=\"longTitle\"><Al>Visie</Al></RegelingOpschrift><Lichaam eId=\"body\" wId=\"body\"><Divisietekst eId=\"content_o_1\" wId=\"gm9901_1__content_o_1\"><Inhoud><Al>Tekst.</Al></Inhoud></Divisietekst></Lichaam></RegelingVrijetekst>";
    let m = maak_mutatie(&Tekst::parse(a).unwrap(), &Tekst::parse(&havenkwartier(0)).unwrap(), "regeling", "/akn/nl/act/gm9901/2027/v/nld@1", "/akn/nl/act/gm9901/2027/v/nld@2").unwrap();
    if let Some(f) = xmllint(&m.to_xml(), "vervangregeling.xml") {
        fouten.push(format!("vervangregeling: {f}"));
    }
    assert!(fouten.is_empty(), "{}", fouten.join("\n"));
}

// ------------------------------------------------------------------------------ the structured diff

#[test]
fn the_structured_diff_names_every_kind_of_change() {
    let (a, b) = (Tekst::parse(&havenkwartier(3)).unwrap(), Tekst::parse(&havenkwartier(15)).unwrap());
    let v = vergelijk(&a, &b).unwrap();
    let eenheid = |w: &str| v.eenheden.iter().find(|e| e.wid == w).unwrap_or_else(|| panic!("{w} not in the diff"));
    assert!(!v.buiten_eenheden_gewijzigd);
    assert_eq!(v.model_was, "RegelingCompact");

    let e = eenheid("gm9901_1__chp_1__art_1.3");
    assert_eq!(e.wijzigingen, [Wijziging::Gewijzigd]);
    let blok = e.tekst.iter().find(|b| b.soort == BlokSoort::Gewijzigd).unwrap();
    assert!(blok.pad.ends_with("Al"), "{}", blok.pad);
    let weg: Vec<&str> = blok.delen.iter().filter(|d| d.soort == DeelSoort::Verwijderd).map(|d| d.tekst.as_str()).collect();
    let nieuw: Vec<&str> = blok.delen.iter().filter(|d| d.soort == DeelSoort::Toegevoegd).map(|d| d.tekst.as_str()).collect();
    assert_eq!((weg.as_slice(), nieuw.as_slice()), (&["kademueren"][..], &["kademuren"][..]));
    // Unchanged text containers of a changed unit are there as context.
    assert!(e.tekst.iter().any(|b| b.soort == BlokSoort::Gelijk));

    assert_eq!(eenheid("gm9901_1__chp_2__subchp_2.3").wijzigingen, [Wijziging::Verwijderd]);
    let toegevoegd = eenheid("gm9901_9__chp_2__subchp_2.4");
    assert_eq!(toegevoegd.wijzigingen, [Wijziging::Toegevoegd]);
    assert!(toegevoegd.tekst.iter().all(|b| b.soort == BlokSoort::Toegevoegd));

    let verplaatst = eenheid("gm9901_1__chp_2__subchp_2.1__art_2.3");
    assert!(verplaatst.wijzigingen.contains(&Wijziging::Verplaatst), "{:?}", verplaatst.wijzigingen);
    assert_eq!(verplaatst.ouder_was.as_deref(), Some("gm9901_1__chp_2__subchp_2.1"));
    assert_eq!(verplaatst.ouder_wordt.as_deref(), Some("gm9901_9__chp_2__subchp_2.4"));
    assert_ne!(verplaatst.eid_was, verplaatst.eid_wordt);

    let hernummerd = eenheid("gm9901_1__chp_3__art_3.5");
    assert_eq!(hernummerd.wijzigingen, [Wijziging::Hernummerd]);
    assert!(hernummerd.kop_was.as_deref().unwrap().contains("3.5") && hernummerd.kop_wordt.as_deref().unwrap().contains("3.6"));

    let s = v.samenvatting;
    assert!(s.toegevoegd >= 2 && s.verwijderd >= 1 && s.gewijzigd >= 4 && s.verplaatst >= 1 && s.hernummerd >= 1, "{s:?}");
    // Units whose own content did not change are not listed.
    assert!(v.eenheden.iter().all(|e| !e.wijzigingen.is_empty()));
    assert!(v.eenheden.iter().all(|e| e.wid != "body" && e.wid != "gm9901_1__chp_1"));

    let json: serde_json::Value = serde_json::from_str(&v.json()).unwrap();
    assert_eq!(json["eenheden"].as_array().unwrap().len(), v.eenheden.len());
    assert_eq!(json["samenvatting"]["verwijderd"], s.verwijderd);
    let html = v.html();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<del>kademueren</del>") && html.contains("<ins>kademuren</ins>"), "{html}");
}

#[test]
fn identical_versions_have_no_differences_and_an_empty_mutation() {
    let a = havenkwartier(7);
    let v = vergelijk(&Tekst::parse(&a).unwrap(), &Tekst::parse(&a).unwrap()).unwrap();
    assert!(v.eenheden.is_empty() && !v.buiten_eenheden_gewijzigd);
    assert!(v.html().contains("Geen verschillen"));
    let m = rondgang(&a, &a);
    assert_eq!((m.route, m.acties), (Route::Acties, 0));
}

const NS: &str = "xmlns=\"https://standaarden.overheid.nl/stop/imop/tekst/\"";

fn regeling(lichaam: &str) -> String {
    format!("<RegelingCompact {NS}><RegelingOpschrift eId=\"longTitle\" wId=\"longTitle\"><Al>Proef</Al></RegelingOpschrift><Lichaam eId=\"body\" wId=\"body\">{lichaam}</Lichaam></RegelingCompact>")
}

#[test]
fn word_changes_stay_inside_the_inline_structure() {
    let a = regeling("<Artikel eId=\"art_1\" wId=\"w__art_1\"><Kop><Label>Artikel</Label><Nummer>1</Nummer></Kop><Inhoud><Al>Zie <i>het oude plan</i> en <IntRef ref=\"art_2\">artikel 2</IntRef>, lid 1.</Al></Inhoud></Artikel>");
    let b = regeling("<Artikel eId=\"art_1\" wId=\"w__art_1\"><Kop><Label>Artikel</Label><Nummer>1</Nummer></Kop><Inhoud><Al>Zie <i>het nieuwe plan</i> en <IntRef ref=\"art_3\">artikel 3</IntRef>, lid 1.</Al></Inhoud></Artikel>");
    let m = rondgang(&a, &b);
    let xml = m.to_xml();
    assert!(xml.contains("<i>het <VerwijderdeTekst>oude</VerwijderdeTekst><NieuweTekst>nieuwe</NieuweTekst> plan</i>"), "{xml}");
    // A reference whose target changed is replaced as a whole.
    assert!(xml.contains("<VerwijderdeTekst><IntRef ref=\"art_2\">artikel 2</IntRef></VerwijderdeTekst><NieuweTekst><IntRef ref=\"art_3\">artikel 3</IntRef></NieuweTekst>"), "{xml}");
    let v = vergelijk(&Tekst::parse(&a).unwrap(), &Tekst::parse(&b).unwrap()).unwrap();
    let al = &v.eenheden[0].tekst.iter().find(|b| b.pad.ends_with("Al")).unwrap().delen;
    assert!(al.iter().any(|d| d.soort == DeelSoort::Toegevoegd && d.tekst == "nieuwe"), "{al:?}");
}

#[test]
fn white_space_only_changes_become_a_revisie() {
    let a = regeling("<Artikel eId=\"art_1\" wId=\"w__art_1\"><Kop><Label>Artikel</Label><Nummer>1</Nummer></Kop><Inhoud><Al>De raad stelt regels.</Al></Inhoud></Artikel>");
    let b = regeling("<Artikel eId=\"art_1\" wId=\"w__art_1\"><Kop><Label>Artikel</Label><Nummer>1</Nummer></Kop><Inhoud><Al>De raad  stelt regels.</Al></Inhoud></Artikel>");
    let m = rondgang(&a, &b);
    assert!(m.to_xml().contains("<Vervang wat=\"w__art_1\" revisie=\"1\">"), "{}", m.to_xml());
}

#[test]
fn a_model_change_falls_back_to_vervang_regeling() {
    let a = format!("<RegelingVrijetekst {NS}><RegelingOpschrift eId=\"longTitle\" wId=\"longTitle\"><Al>Visie</Al></RegelingOpschrift><Lichaam eId=\"body\" wId=\"body\"><Divisietekst eId=\"content_o_1\" wId=\"w__content_o_1\"><Inhoud><Al>Tekst.</Al></Inhoud></Divisietekst></Lichaam></RegelingVrijetekst>");
    let b = regeling("<Artikel eId=\"art_1\" wId=\"w__art_1\"><Kop><Label>Artikel</Label><Nummer>1</Nummer></Kop><Inhoud><Al>Tekst.</Al></Inhoud></Artikel>");
    let (ta, tb) = (Tekst::parse(&a).unwrap(), Tekst::parse(&b).unwrap());
    let m = maak_mutatie(&ta, &tb, "regeling", "/akn/nl/act/gm9901/2027/v/nld@1", "/akn/nl/act/gm9901/2027/v/nld@2").unwrap();
    match &m.route {
        Route::VervangRegeling { reden } => assert!(reden.contains("LVBB5100"), "{reden}"),
        r => panic!("{r:?}"),
    }
    assert_eq!(m.acties, 1);
    assert!(m.to_xml().contains("<VervangRegeling>"));
    // pas_toe refuses it, as the LVBB does.
    let e = pas_toe(&ta, &m.tekst, "m.xml").unwrap_err();
    assert!(e.iter().any(|m| m.code == "LVBB5100"));
    let v = vergelijk(&ta, &tb).unwrap();
    assert_eq!((v.model_was.as_str(), v.model_wordt.as_str()), ("RegelingVrijetekst", "RegelingCompact"));
    assert!(v.buiten_eenheden_gewijzigd);
}

#[test]
fn bad_input_is_a_typed_error() {
    use stop::tekst::VerschilFout;
    let a = Tekst::parse(&regeling("")).unwrap();
    let geen = Tekst::parse("<Besluit/>").unwrap();
    assert!(matches!(maak_mutatie(&a, &geen, "r", "x", "y"), Err(VerschilFout::GeenRegeling(n)) if n == "Besluit"));
    let dubbel = Tekst::parse(&regeling("<Artikel eId=\"a\" wId=\"w\"/><Artikel eId=\"b\" wId=\"w\"/>")).unwrap();
    assert!(matches!(vergelijk(&a, &dubbel), Err(VerschilFout::DubbeleWid(w)) if w == "w"));
    assert!(matches!(vergelijk(&a, &Tekst::from_nodes(Vec::new())), Err(VerschilFout::GeenElement)));
}
