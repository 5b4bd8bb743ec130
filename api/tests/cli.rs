//! The `regelbank validate` and `rules` commands as plan software and operators use them.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_regelbank");

fn fixture(p: &str) -> PathBuf {
    fixtures::fixtures_dir().join(p)
}

fn schemas() -> Option<PathBuf> {
    let d = fixtures::shared_dir().join("schemas");
    if d.join("catalog.xml").is_file() {
        Some(d)
    } else {
        assert!(std::env::var("CI").is_err(), "CI needs {}", d.display());
        None
    }
}

fn run(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN).arg("--data").arg(data).arg("--today").arg("2027-03-01").args(args).output().expect("run regelbank")
}

#[test]
fn validate_json_reports_every_melding_with_its_location_and_exit_status() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("geen-data");
    let good = fixture("deliveries/01-initieel-compact-gio");
    let bad = fixture("broken/gio-hash-onjuist");
    let out = run(&data, &["validate", "--format", "json", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "one package rejected: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = v.as_array().unwrap();
    assert_eq!(r[0]["uitkomst"], "valide");
    assert_eq!(r[1]["uitkomst"], "niet-valide");
    let m = r[1]["meldingen"].as_array().unwrap().iter().find(|m| m["code"] == "LVBB3008").expect("LVBB3008");
    assert_eq!(m["ernst"], "fout");
    assert_eq!(m["locatie"]["bestand"], "Havenkwartier.xml");
    assert!(m["locatie"]["regel"].as_u64().is_some(), "{m}");
    // Validation stores nothing: no data directory appears.
    assert!(!data.exists());
}

#[test]
fn validate_lvbb_xml_is_valid_against_the_lvbb_transport_schema() {
    let Some(schemas) = schemas() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // A publicatieOpdracht that is only validated: the publicatie verslag has no "valide"; its
    // progress is validatie-voltooid.
    for (pkg, verwacht) in [
        ("deliveries/01-initieel-compact-gio", "<voortgang>validatie-voltooid</voortgang>"),
        ("broken/onbekend-element", "<uitkomst>niet-valide</uitkomst>"),
    ] {
        let out = run(&data, &["--schemas", schemas.to_str().unwrap(), "validate", "--format", "lvbb-xml", fixture(pkg).to_str().unwrap()]);
        let xml = String::from_utf8(out.stdout).unwrap();
        assert!(xml.contains(verwacht), "{pkg}: {xml}");
        if pkg.starts_with("broken") {
            assert!(xml.contains("<stop:code>RB4001</stop:code>"), "the XSD layer ran: {xml}");
        } else {
            assert!(!xml.contains("RB4002"), "the XSD layer ran: {xml}");
        }
        let f = tmp.path().join("resultaat.xml");
        std::fs::write(&f, &xml).unwrap();
        let sets = validator::xsd::SchemaSets::open(&schemas).unwrap();
        let fouten = sets.valideer(
            "resultaat.xml",
            xml.as_bytes(),
            validator::xsd::SchemaKeuze { set: validator::xsd::SchemaSet::Lvbb130icStop141, soort: validator::xsd::SchemaSoort::Transport },
        );
        assert!(fouten.is_empty(), "{pkg}: {fouten:?}\n{xml}");
    }
}

#[test]
fn rules_markdown_is_the_committed_docs_rules_md() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["rules", "--markdown"]);
    assert!(out.status.success());
    let committed = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed, "regenerate docs/rules.md");
}

#[test]
fn text_prints_a_consolidated_version_as_xml_and_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = run(&data, &[
        "ingest",
        fixture("deliveries/01-initieel-compact-gio").to_str().unwrap(),
        fixture("deliveries/06-wijzigingsbesluit").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let was = "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/nld@2027-02-25;1";
    let xml = run(&data, &["text", was]);
    assert!(xml.status.success());
    let xml = String::from_utf8(xml.stdout).unwrap();
    assert!(xml.starts_with("<RegelingCompact") && xml.contains(&format!("wordt=\"{was}\"")), "{}", &xml[..200]);
    assert!(!xml.contains("componentnaam"));
    let tekst = String::from_utf8(run(&data, &["text", "--format", "text", was]).stdout).unwrap();
    assert!(tekst.contains("Omgevingsplan Havenkwartier") && !tekst.contains('<'));
    let unknown = run(&data, &["text", "/akn/nl/act/gm9901/2027/Bestaat/nld@1"]);
    assert_eq!(unknown.status.code(), Some(2));
}

/// Every JSON object of a tree (depth first).
fn objecten<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            out.push(v);
            m.values().for_each(|x| objecten(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| objecten(x, out)),
        _ => {}
    }
}

#[test]
fn text_prints_html_and_json_with_anchors_and_provenance() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = run(&data, &[
        "ingest",
        fixture("deliveries/01-initieel-compact-gio").to_str().unwrap(),
        fixture("deliveries/06-wijzigingsbesluit").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let wordt = "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/nld@2027-04-01;2";
    let initieel = "/akn/nl/bill/gm9901/2027/BesluitOmgevingsplanHavenkwartier/nld@2027-02-25;1";
    let wijziging = "/akn/nl/bill/gm9901/2027/WijzigingOmgevingsplanHavenkwartierKade/nld@2027-04-01;1";
    let xml = String::from_utf8(run(&data, &["text", wordt]).stdout).unwrap();
    let tekst = stop::tekst::Tekst::parse(&xml).unwrap();

    let html = run(&data, &["text", "--format", "html", wordt]);
    assert!(html.status.success(), "{}", String::from_utf8_lossy(&html.stderr));
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains(&format!("<title>{wordt}</title>")));
    assert!(stop::xml::Document::parse_str(html.trim_start_matches("<!DOCTYPE html>")).is_ok(), "well-formed XHTML");
    let eids: Vec<&str> = tekst.eids().collect();
    assert!(eids.len() > 20);
    for e in eids {
        assert_eq!(html.matches(&format!(" id=\"{e}\"")).count(), 1, "anchor for {e}");
    }
    assert!(html.contains(&format!("Tekst vastgesteld bij <cite title=\"/akn/nl/bill/gm9901/2027/WijzigingOmgevingsplanHavenkwartierKade\">{wijziging}</cite> (bekendgemaakt 8 april 2027)")), "{html}");
    assert!(html.contains(&format!(">{initieel}</cite> (bekendgemaakt 9 maart 2027)")));

    let json = run(&data, &["text", "--format", "json", wordt]);
    assert!(json.status.success());
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["expressie"], wordt);
    assert_eq!(v["regeling"]["element"], "RegelingCompact");
    let mut alle = Vec::new();
    objecten(&v["regeling"], &mut alle);
    let artikel = |wid: &str| *alle.iter().find(|o| o["wId"] == wid).unwrap_or_else(|| panic!("{wid}"));
    let a21 = artikel("gm9901_1__chp_2__subchp_2.1__art_2.1");
    assert_eq!(a21["element"], "Artikel");
    assert_eq!(a21["herkomst"]["expressie"], wijziging, "changed by 06: {a21}");
    assert_eq!(a21["herkomst"]["datumBekendmaking"], "2027-04-08");
    assert!(a21["kop"].as_str().unwrap().starts_with("Artikel 2.1"), "{}", a21["kop"]);
    let artikelen: Vec<_> = alle.iter().filter(|o| o["element"] == "Artikel").collect();
    assert!(artikelen.iter().all(|a| a["herkomst"]["expressie"].is_string()), "every artikel has provenance");
    assert!(artikelen.iter().any(|a| a["herkomst"]["expressie"] == initieel), "untouched artikelen keep the initial besluit");
    assert!(alle.iter().all(|o| o["element"] != "Kop"), "Kop is the kop field");
}

#[test]
fn diff_compares_two_versions_in_html_json_and_as_a_stop_mutation() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = run(&data, &[
        "ingest",
        fixture("deliveries/01-initieel-compact-gio").to_str().unwrap(),
        fixture("deliveries/06-wijzigingsbesluit").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let was = "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/nld@2027-02-25;1";
    let wordt = "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/nld@2027-04-01;2";

    let html = run(&data, &["diff", was, wordt]);
    assert!(html.status.success(), "{}", String::from_utf8_lossy(&html.stderr));
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains(was) && html.contains(wordt));
    assert!(html.contains("<ins>") && html.contains("<del>"), "{html}");
    assert!(stop::xml::Document::parse_str(html.trim_start_matches("<!DOCTYPE html>")).is_ok(), "well-formed");

    let json = run(&data, &["diff", "--format", "json", was, wordt]);
    assert!(json.status.success());
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!((v["was"].as_str(), v["wordt"].as_str()), (Some(was), Some(wordt)));
    let eenheden = v["eenheden"].as_array().unwrap();
    assert!(!eenheden.is_empty());
    let a21 = eenheden.iter().find(|e| e["wid"] == "gm9901_1__chp_2__subchp_2.1__art_2.1").expect("art 2.1 changed by 06");
    assert!(a21["wijzigingen"].as_array().unwrap().iter().any(|w| w == "gewijzigd"), "{a21}");
    assert!(a21["tekst"].as_array().unwrap().iter().any(|b| b["soort"] == "gewijzigd"));

    // The mutation applied to A gives B.
    let stop_xml = run(&data, &["diff", "--format", "stop", was, wordt]);
    assert!(stop_xml.status.success(), "{}", String::from_utf8_lossy(&stop_xml.stderr));
    assert!(stop_xml.stderr.is_empty(), "fine-grained actions: {}", String::from_utf8_lossy(&stop_xml.stderr));
    let mutatie = stop::tekst::Tekst::parse(std::str::from_utf8(&stop_xml.stdout).unwrap()).unwrap();
    let root = mutatie.root().unwrap();
    assert_eq!(root.name(), "RegelingMutatie");
    assert_eq!((root.attr("was").as_deref(), root.attr("wordt").as_deref()), (Some(was), Some(wordt)));
    let tekst = |e: &str| stop::tekst::Tekst::parse(&String::from_utf8(run(&data, &["text", e]).stdout).unwrap()).unwrap();
    let (a, b) = (tekst(was), tekst(wordt));
    let toegepast = stop::tekst::pas_toe(&a, &mutatie, "diff.xml").expect("applies");
    let got = fixtures::canonical_xml(&stop::tekst::als_regelingversie(toegepast.tekst, wordt).to_xml()).unwrap();
    assert_eq!(got, fixtures::canonical_xml(&b.to_xml()).unwrap());

    // Versions of different works, or an unknown version: exit 2 with a message.
    let vrij = run(&data, &["ingest", fixture("deliveries/02-initieel-vrijetekst").to_str().unwrap()]);
    assert!(vrij.status.success(), "{}", String::from_utf8_lossy(&vrij.stdout));
    let regelingen: serde_json::Value = serde_json::from_slice(&run(&data, &["regelingen", "--json"]).stdout).unwrap();
    let ander = regelingen
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["work"] != "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier")
        .find_map(|w| w["expressions"][0].as_str())
        .expect("the vrijetekst regeling")
        .to_string();
    let fout = run(&data, &["diff", was, &ander]);
    assert_eq!(fout.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&fout.stderr).contains("different works"), "{}", String::from_utf8_lossy(&fout.stderr));
    let onbekend = run(&data, &["diff", was, "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/nld@2099-01-01;9"]);
    assert_eq!(onbekend.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&onbekend.stderr).contains("unknown expression"));
}
