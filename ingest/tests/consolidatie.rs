//! Text consolidation through the pipeline: every regeling version a besluit creates is
//! stored as a tree of nodes and reads back as the expected consolidated text.

use chrono::NaiveDate;
use ingest::{Config, Uitkomst};
use store::Store;

fn tekst_van(store: &Store, expressie: &str) -> String {
    let e = store.index().expression(expressie).unwrap().unwrap_or_else(|| panic!("{expressie} unknown"));
    let root = e.entry.tekst.unwrap_or_else(|| panic!("{expressie} has no text"));
    String::from_utf8(store.read_tree(&root).unwrap()).unwrap()
}

#[test]
fn havenkwartier_chain_is_stored_version_by_version_as_expected() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let cfg = Config::new(NaiveDate::from_ymd_opt(2027, 1, 4).unwrap());
    let steps = fixtures::chain_steps(fixtures::HAVENKWARTIER).unwrap();
    let paths: Vec<_> = steps.iter().map(|s| s.dir.clone()).collect();
    // All steps in one run: later steps find their was-version in the group being committed.
    let results = ingest::pipeline::ingest_many(&store, &paths, &cfg, |_| {}).unwrap();
    for r in &results {
        assert_eq!(r.uitkomst, Uitkomst::Gepubliceerd, "{}: {:?}", r.bron, r.meldingen);
    }
    let mut checked = 0;
    for step in &steps {
        let Some(exp) = &step.expected else { continue };
        let want = std::fs::read_to_string(exp).unwrap();
        let wordt = stop::xml::Document::parse_str(&want).unwrap();
        let expressie = wordt.attr(wordt.root().unwrap(), "wordt").unwrap().to_string();
        let got = tekst_van(&store, &expressie);
        assert_eq!(
            fixtures::canonical_xml(&got).unwrap(),
            fixtures::canonical_xml(&want).unwrap(),
            "{}: stored text of {expressie}",
            step.dir.display()
        );
        checked += 1;
    }
    assert!(checked >= 21);
    assert!(store.verify().unwrap().is_clean(), "{:?}", store.verify().unwrap().problems);
    // Rebuilding the indexes gives the same texts.
    store.rebuild().unwrap();
    let last = steps.iter().rev().find_map(|s| s.expected.clone()).unwrap();
    let want = std::fs::read_to_string(&last).unwrap();
    let d = stop::xml::Document::parse_str(&want).unwrap();
    let e = d.attr(d.root().unwrap(), "wordt").unwrap().to_string();
    assert_eq!(fixtures::canonical_xml(&tekst_van(&store, &e)).unwrap(), fixtures::canonical_xml(&want).unwrap());
}

#[test]
fn one_by_one_runs_read_the_was_version_back_from_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let cfg = Config::new(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap());
    let d = |n: &str| fixtures::fixtures_dir().join("deliveries").join(n);
    let r = ingest::ingest(&store, &d("01-initieel-compact-gio"), &cfg).unwrap();
    assert!(r.uitkomst.accepted());
    let r = ingest::ingest(&store, &d("06-wijzigingsbesluit"), &cfg).unwrap();
    assert!(r.uitkomst.accepted(), "{:?}", r.meldingen);
    let was = tekst_van(&store, "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/nld@2027-02-25;1");
    let wordt_id = r.expressions.iter().find(|e| e.starts_with("/akn/nl/act/")).expect("a new regeling version").clone();
    let wordt = tekst_van(&store, &wordt_id);
    assert_ne!(was, wordt);
    assert!(!wordt.contains("NieuweTekst") && !wordt.contains("VerwijderdeTekst") && !wordt.contains("wijzigactie"));
    assert!(wordt.contains(&format!("wordt=\"{wordt_id}\"")));
    // Structural sharing: the second version's pack (its new text nodes and the new nodes of its
    // provenance, a tree of its own) holds far fewer bytes than its text.
    let rec = store.record(r.seq.unwrap()).unwrap().unwrap();
    let e = store.index().expression(&wordt_id).unwrap().unwrap().entry;
    let (tekst, herkomst) = (e.tekst.expect("text"), e.herkomst.expect("provenance"));
    // (the record also names the bundle of its small blobs, which is not a pack)
    let packs: Vec<_> = rec.rec.derived.iter().filter_map(|d| store.pack_contents(d).ok()).collect();
    assert_eq!(packs.len(), 1, "one pack per delivery");
    let objs = &packs[0];
    assert!(objs.iter().any(|o| o.hash == tekst) && objs.iter().any(|o| o.hash == herkomst));
    let van_herkomst: std::collections::HashSet<_> = store.node_hashes(&herkomst).unwrap().into_iter().map(|(h, _)| h).collect();
    let pack_bytes: u64 = objs.iter().filter(|o| !van_herkomst.contains(&o.hash)).map(|o| u64::from(o.len)).sum();
    assert!(pack_bytes > 0 && pack_bytes < wordt.len() as u64 / 2, "text nodes of {pack_bytes} bytes for a {} byte text", wordt.len());
}

fn procedure_van(store: &Store, besluit: &str) -> ingest::procedure::Procedure {
    let e = store.index().expression(besluit).unwrap().expect("besluit");
    serde_json::from_slice(&store.get_blob(&e.entry.procedure.expect("procedure")).unwrap()).unwrap()
}

#[test]
fn a_kennisgeving_updates_the_procedure_of_its_besluit_in_one_run_or_in_two() {
    let d = |n: &str| fixtures::fixtures_dir().join("deliveries").join(n);
    let besluit = "/akn/nl/bill/gm9901/2027/BesluitOmgevingsplanHavenkwartier/nld@2027-02-25;1";
    let cfg = Config::new(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap());
    for samen in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let paths = [d("01-initieel-compact-gio"), d("03-kennisgeving")];
        if samen {
            let rs = ingest::pipeline::ingest_many(&store, &paths, &cfg, |_| {}).unwrap();
            assert!(rs.iter().all(|r| r.uitkomst.accepted()), "{rs:?}");
        } else {
            assert!(ingest::ingest(&store, &paths[0], &cfg).unwrap().uitkomst.accepted());
            let voor = procedure_van(&store, besluit);
            assert_eq!(voor.stappen.len(), 2, "{voor:?}");
            assert!(ingest::ingest(&store, &paths[1], &cfg).unwrap().uitkomst.accepted());
        }
        let p = procedure_van(&store, besluit);
        let stappen: Vec<&str> = p.stappen.iter().map(|s| s.soort_stap.as_str()).collect();
        assert_eq!(stappen, ["/join/id/stop/procedure/stap_002", "/join/id/stop/procedure/stap_003", "/join/id/stop/procedure/stap_015"], "samen={samen}");
        assert_eq!(p.gewijzigd_door.len(), 1);
        assert!(p.gewijzigd_door[0].starts_with("/akn/nl/doc/"), "{:?}", p.gewijzigd_door);
        assert!(store.verify().unwrap().is_clean());
        // The besluit stays what it was (not ontwerp, its text blob kept).
        let e = store.index().expression(besluit).unwrap().unwrap();
        assert!(!e.entry.ontwerp && e.entry.blob.is_some());
    }
}

/// The provenance of a stored regeling version.
fn herkomst_van(store: &Store, expressie: &str) -> ingest::consolidatie::Herkomst {
    let e = store.index().expression(expressie).unwrap().unwrap_or_else(|| panic!("{expressie} unknown"));
    let h = e.entry.herkomst.unwrap_or_else(|| panic!("{expressie} has no provenance"));
    ingest::consolidatie::Herkomst::parse(&store.read_tree(&h).unwrap()).unwrap()
}

/// Per chain step: (the besluit expression it delivers, the regeling version it makes).
fn stap_ids(results: &[ingest::IngestResult]) -> Vec<(String, Option<String>)> {
    results
        .iter()
        .map(|r| {
            let besluit = r.expressions.iter().find(|e| e.starts_with("/akn/nl/bill/")).expect("a besluit").clone();
            let versie = r.expressions.iter().find(|e| e.starts_with("/akn/nl/act/")).cloned();
            (besluit, versie)
        })
        .collect()
}

#[test]
fn havenkwartier_provenance_names_the_besluit_that_last_worded_each_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let cfg = Config::new(NaiveDate::from_ymd_opt(2027, 1, 4).unwrap());
    let steps = fixtures::chain_steps(fixtures::HAVENKWARTIER).unwrap();
    let paths: Vec<_> = steps.iter().map(|s| s.dir.clone()).collect();
    let results = ingest::pipeline::ingest_many(&store, &paths, &cfg, |_| {}).unwrap();
    assert!(results.iter().all(|r| r.uitkomst == Uitkomst::Gepubliceerd));
    let ids = stap_ids(&results);
    let versie = |n: usize| ids[n].1.clone().unwrap();
    let besluit = |n: usize| ids[n].0.clone();
    let van = |versie: &str, wid: &str| -> (String, Option<String>) {
        let h = herkomst_van(&store, versie);
        let b = h.get(wid).unwrap_or_else(|| panic!("{wid} has no provenance in {versie}"));
        (b.expressie.clone(), b.datum_bekendmaking.clone())
    };
    const ART_1_1: &str = "gm9901_1__chp_1__art_1.1";
    const ART_2_1: &str = "gm9901_1__chp_2__subchp_2.1__art_2.1";
    const ART_3_1: &str = "gm9901_1__chp_3__art_3.1";
    const ART_2_5: &str = "gm9901_1__chp_2__subchp_2.2__art_2.5";
    const ART_4_1: &str = "gm9901_20__chp_4__art_4.1";

    // The initial version: every unit from step 00's besluit, with its datumBekendmaking.
    let h0 = herkomst_van(&store, &versie(0));
    assert!(h0.len() > 16, "{h0:?}");
    assert!(h0.iter().all(|(_, b)| b.expressie == besluit(0) && b.datum_bekendmaking.as_deref() == Some("2027-02-03")));
    assert!(h0.iter().any(|(w, _)| w.ends_with("__para_1")), "leden have provenance too");
    // Step 01 changes artikel 2.1 (renvooi in its leden) and nothing else.
    let h1 = herkomst_van(&store, &versie(1));
    for (w, b) in h1.iter() {
        let want = if w == ART_2_1 || w.starts_with(&format!("{ART_2_1}__")) && b.expressie == besluit(1) { 1 } else { 0 };
        assert_eq!(b.expressie, besluit(want), "{w} in version 1");
    }
    assert_eq!(van(&versie(1), ART_2_1), (besluit(1), Some("2027-02-10".to_string())));
    // Step 05 adds lid 3 to artikel 2.5: the lid and its artikel from 05, lid 1 still from 00.
    assert_eq!(van(&versie(5), ART_2_5).0, besluit(5));
    assert_eq!(van(&versie(5), "gm9901_6__chp_2__subchp_2.2__art_2.5__para_3").0, besluit(5));
    assert_eq!(van(&versie(5), &format!("{ART_2_5}__para_1")).0, besluit(0));
    // Step 06 removes a lid of artikel 3.1.
    assert_eq!(van(&versie(6), ART_3_1).0, besluit(6));
    assert_eq!(van(&versie(5), ART_3_1).0, besluit(0));
    // Step 08 adds afdeling 2.4 with artikel 2.9.
    assert_eq!(van(&versie(8), "gm9901_9__chp_2__subchp_2.4__art_2.9").0, besluit(8));
    // The last version: untouched, changed once, added, and changed again later.
    let last = versie(20);
    assert_eq!(van(&last, ART_1_1), (besluit(0), Some("2027-02-03".to_string())));
    assert_eq!(van(&last, ART_2_1).0, besluit(1));
    assert_eq!(van(&last, ART_3_1).0, besluit(6));
    assert_eq!(van(&last, ART_4_1).0, besluit(19));
    assert_eq!(van(&last, "gm9901_1__chp_1__art_1.2").0, besluit(18));
    // Step 20 (VervangRegeling) renumbers artikel 2.9: its wording changes there.
    assert_eq!(van(&versie(19), "gm9901_9__chp_2__subchp_2.4__art_2.9").0, besluit(8));
    assert_eq!(van(&last, "gm9901_9__chp_2__subchp_2.4__art_2.9").0, besluit(20));
    // Exactly the units of the version, no removed ones.
    let t = stop::tekst::Tekst::parse(&tekst_van(&store, &last)).unwrap();
    let mut units: Vec<String> = Vec::new();
    for e in t.root().unwrap().descendants() {
        if ingest::consolidatie::heeft_herkomst(e.name()) {
            units.push(e.wid().unwrap().to_string());
        }
    }
    units.sort();
    assert_eq!(herkomst_van(&store, &last).iter().map(|(w, _)| w.to_string()).collect::<Vec<_>>(), units);
    assert!(!units.iter().any(|w| w.contains("art_2.8") && !w.contains("art_2.8a")), "artikel 2.8 was removed in step 14");
    assert!(store.verify().unwrap().is_clean(), "{:?}", store.verify().unwrap().problems);

    // One by one, the was-version's provenance comes back from the store: the same blobs.
    let tmp2 = tempfile::tempdir().unwrap();
    let store2 = Store::open(tmp2.path()).unwrap();
    for p in &paths {
        assert!(ingest::ingest(&store2, p, &cfg).unwrap().uitkomst.accepted());
    }
    for (_, v) in &ids {
        let Some(v) = v else { continue };
        let a = store.index().expression(v).unwrap().unwrap().entry.herkomst;
        let b = store2.index().expression(v).unwrap().unwrap().entry.herkomst;
        assert!(a.is_some());
        assert_eq!(a, b, "{v}");
    }
    store2.rebuild().unwrap();
    assert_eq!(herkomst_van(&store2, &last), herkomst_van(&store, &last));
}

/// Every `id` attribute of well-formed XML (quick-xml fails on anything that is not).
fn html_ids(html: &str) -> Vec<String> {
    let mut r = quick_xml::Reader::from_str(html);
    let mut ids = Vec::new();
    loop {
        match r.read_event().unwrap_or_else(|e| panic!("HTML is not well-formed XML: {e}")) {
            quick_xml::events::Event::Start(s) | quick_xml::events::Event::Empty(s) => {
                for a in s.attributes() {
                    let a = a.unwrap();
                    if a.key.as_ref() == "id" {
                        ids.push(a.value.to_string());
                    }
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    ids
}

#[test]
fn havenkwartier_versions_render_as_html_and_json_with_provenance() {
    use ingest::weergave::{self, Knoop, TekstJson};
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let cfg = Config::new(NaiveDate::from_ymd_opt(2027, 1, 4).unwrap());
    let steps = fixtures::chain_steps(fixtures::HAVENKWARTIER).unwrap();
    let paths: Vec<_> = steps.iter().map(|s| s.dir.clone()).collect();
    let results = ingest::pipeline::ingest_many(&store, &paths, &cfg, |_| {}).unwrap();
    let ids = stap_ids(&results);
    let mut versies = 0;
    let mut zonder_eigen = Vec::new();
    for (besluit, versie) in &ids {
        let Some(versie) = versie else { continue };
        let v = weergave::lees(&store, versie).unwrap();
        let herkomst = v.herkomst.as_ref().expect("provenance");
        // HTML: well-formed, one anchor per eId and nothing else.
        let html = weergave::html(versie, &v.tekst, Some(herkomst));
        let mut got = html_ids(&html);
        let n = got.len();
        got.sort();
        got.dedup();
        assert_eq!(got.len(), n, "{versie}: duplicate ids");
        let mut eids: Vec<String> = v.tekst.eids().map(str::to_string).collect();
        eids.sort();
        assert_eq!(got, eids, "{versie}");
        // One provenance line per unit at least; this step's besluit among them.
        let artikelen = v.tekst.root().unwrap().descendants().filter(|e| e.name() == "Artikel").count();
        assert!(html.matches("<p class=\"herkomst\">").count() > artikelen, "{versie}");
        let genoemd = herkomst.iter().any(|(_, b)| &b.expressie == besluit);
        assert_eq!(html.contains(&format!(">{besluit}</cite>")), genoemd, "{versie} names {besluit}");
        if !genoemd {
            zonder_eigen.push(versie.clone());
        }
        // JSON: round-trips; every unit has the provenance the blob says.
        let j = weergave::json(versie, &v.tekst, Some(herkomst));
        let s = serde_json::to_string(&j).unwrap();
        assert_eq!(serde_json::from_str::<TekstJson>(&s).unwrap(), j);
        fn units<'a>(k: &'a Knoop, out: &mut Vec<&'a Knoop>) {
            if ingest::consolidatie::heeft_herkomst(&k.element) {
                out.push(k);
            }
            k.kinderen.iter().for_each(|c| units(c, out));
        }
        let mut us = Vec::new();
        units(j.regeling.as_ref().unwrap(), &mut us);
        assert_eq!(us.len(), herkomst.len(), "{versie}");
        for u in us {
            assert_eq!(u.herkomst.as_ref(), herkomst.get(u.wid.as_deref().unwrap()), "{versie} {:?}", u.wid);
        }
        versies += 1;
    }
    assert_eq!(versies, 21);
    // Steps that word no remaining unit: 10 (VervangKop of an afdeling and a hoofdstuk), 14 and
    // 15 (Verwijder of an artikel, of an afdeling).
    assert_eq!(zonder_eigen, [10, 14, 15].map(|i| ids[i].1.clone().unwrap()));
    assert!(matches!(weergave::lees(&store, "/akn/nl/act/gm9901/2027/Bestaat/nld@1"), Err(weergave::WeergaveFout::Onbekend(_))));
    assert!(matches!(weergave::lees(&store, &ids[1].0), Err(weergave::WeergaveFout::GeenTekst(_))), "a besluit has no text");
}

#[test]
fn besluit_klassiek_creates_its_regeling_klassiek() {
    // A BesluitKlassiek: the RegelingKlassiek with @wordt is the new regeling version.
    let besluit = r#"<?xml version="1.0" encoding="UTF-8"?>
<AanleveringBesluit xmlns="https://standaarden.overheid.nl/lvbb/stop/aanlevering/" schemaversie="1.4.1">
   <BesluitVersie>
      <ExpressionIdentificatie xmlns="https://standaarden.overheid.nl/stop/imop/data/">
         <FRBRWork>/akn/nl/bill/mnre1034/2027/Klassiek1</FRBRWork>
         <FRBRExpression>/akn/nl/bill/mnre1034/2027/Klassiek1/nld@2027-02-01;1</FRBRExpression>
         <soortWork>/join/id/stop/work_003</soortWork>
      </ExpressionIdentificatie>
      <BesluitKlassiek xmlns="https://standaarden.overheid.nl/stop/imop/tekst/">
         <RegelingKlassiek componentnaam="hoofd" wordt="/akn/nl/act/mnre1034/2027/Klassiek1/nld@2027-02-01;1">
            <RegelingOpschrift eId="longTitle" wId="longTitle"><Al>Regeling klassiek</Al></RegelingOpschrift>
            <Lichaam eId="body" wId="body">
               <Artikel eId="art_1" wId="mnre1034_1__art_1"><Kop><Label>Artikel</Label><Nummer>1</Nummer></Kop><Inhoud><Al>Eerste regel.</Al></Inhoud></Artikel>
            </Lichaam>
         </RegelingKlassiek>
      </BesluitKlassiek>
   </BesluitVersie>
</AanleveringBesluit>"#;
    let (b, _) = stop::module::parse_bestand("besluit.xml", besluit.as_bytes().to_vec()).unwrap();
    let t = ingest::consolidatie::teksten(&b, Some("2027-02-03"));
    assert_eq!(t.initieel.len(), 1);
    let (wordt, tekst) = &t.initieel[0];
    assert_eq!(wordt, "/akn/nl/act/mnre1034/2027/Klassiek1/nld@2027-02-01;1");
    let xml = tekst.to_xml();
    assert!(xml.starts_with("<RegelingKlassiek") && xml.contains("Eerste regel.") && !xml.contains("componentnaam"), "{xml}");
}
