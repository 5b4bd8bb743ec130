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
    // Structural sharing: the second version's pack holds far fewer bytes than its text.
    let rec = store.record(r.seq.unwrap()).unwrap().unwrap();
    let pack_bytes: u64 = rec.rec.derived.iter().map(|h| store.get_blob(h).unwrap().len() as u64).sum();
    assert!(pack_bytes > 0 && pack_bytes < wordt.len() as u64 / 2, "pack {pack_bytes} bytes for a {} byte text", wordt.len());
}
