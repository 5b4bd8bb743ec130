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
