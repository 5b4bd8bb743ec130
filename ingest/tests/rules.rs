//! Every rule of the catalogue with a failing and a passing fixture of our own.
//!
//! A case is a TOML file `fixtures/rules/<CODE>.toml`:
//!
//! ```toml
//! code = "LVBB1519"
//! basis = "01-initieel-compact-gio"   # a delivery under fixtures/deliveries (default: 01-…)
//! vandaag = "2027-03-01"              # optional, the --today of the run
//! voor = ["02-initieel-vrijetekst"]   # optional: deliveries ingested first (history)
//! voor_goed = []                      # optional: other history for the passing variant
//! zonder_opslag = true                # optional: validate without any store
//! schemas = true                      # optional: with the XSD layer (schemas_goed for the passing variant)
//! [fout]                              # edits that make the rule fire
//! vervang = [{ bestand = "opdracht.xml", zoek = "2027-03-09", door = "2027-03-13" }]
//! [goed]                              # edits that keep the package valid (may be empty)
//! vervang = [{ bestand = "opdracht.xml", zoek = "2027-03-09", door = "2027-03-10" }]
//! ```
//!
//! Edits: `vervang` (every occurrence; the text must occur), `verwijder` (file names) and
//! `bestanden` (`{ naam, inhoud }`, added or overwritten). Several cases for one code go in
//! `[[geval]]` tables with the same keys. The failing package must give a melding with the
//! code, with the catalogue's ernst and soort and no unfilled placeholder; the passing package
//! must give no melding with the code and no `fout` at all.
//!
//! `RULES_ONLY=LVBB20,STOP1 cargo test -p ingest --test rules` runs a subset.
//!
//! Rules of the package phase (`fase = pakket`) are exercised by hand-built zips in
//! `tests/package.rs`; their case file names the test: `zie = "tests/package.rs::<fn>"`.

use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use store::Store;

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Bewerkingen {
    #[serde(default)]
    vervang: Vec<Vervang>,
    #[serde(default)]
    verwijder: Vec<String>,
    #[serde(default)]
    bestanden: Vec<Bestand>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Vervang {
    bestand: String,
    zoek: String,
    door: String,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Bestand {
    naam: String,
    inhoud: String,
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Geval {
    #[serde(default)]
    naam: Option<String>,
    #[serde(default)]
    basis: Option<String>,
    #[serde(default)]
    vandaag: Option<String>,
    #[serde(default)]
    voor: Vec<String>,
    /// History for the passing variant when it differs from `voor`.
    #[serde(default)]
    voor_goed: Option<Vec<String>>,
    /// Validate without any store (as `regelbank validate` without a data directory).
    #[serde(default)]
    zonder_opslag: bool,
    /// Run with the XSD layer (../shared/schemas); `false` for the passing variant only via
    /// `schemas_goed`.
    #[serde(default)]
    schemas: bool,
    #[serde(default)]
    schemas_goed: Option<bool>,
    fout: Option<Bewerkingen>,
    goed: Option<Bewerkingen>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Casus {
    code: String,
    #[serde(default)]
    zie: Option<String>,
    #[serde(default)]
    naam: Option<String>,
    #[serde(default)]
    basis: Option<String>,
    #[serde(default)]
    vandaag: Option<String>,
    #[serde(default)]
    voor: Vec<String>,
    #[serde(default)]
    voor_goed: Option<Vec<String>>,
    #[serde(default)]
    zonder_opslag: bool,
    #[serde(default)]
    schemas: bool,
    #[serde(default)]
    schemas_goed: Option<bool>,
    fout: Option<Bewerkingen>,
    goed: Option<Bewerkingen>,
    #[serde(default, rename = "geval")]
    gevallen: Vec<Geval>,
}

fn rules_dir() -> PathBuf {
    fixtures::fixtures_dir().join("rules")
}

fn load() -> BTreeMap<String, (PathBuf, Casus)> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(rules_dir()).expect("fixtures/rules") {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let c: Casus = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(
            p.file_stem().unwrap().to_string_lossy(),
            c.code,
            "{}: the file is named after its code",
            p.display()
        );
        out.insert(c.code.clone(), (p, c));
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn apply(dir: &Path, b: &Bewerkingen, ctx: &str) {
    for v in &b.vervang {
        let p = dir.join(&v.bestand);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{ctx}: {}: {e}", v.bestand));
        assert!(text.contains(&v.zoek), "{ctx}: '{}' does not occur in {}", v.zoek, v.bestand);
        std::fs::write(&p, text.replace(&v.zoek, &v.door)).unwrap();
    }
    for f in &b.verwijder {
        std::fs::remove_file(dir.join(f)).unwrap_or_else(|e| panic!("{ctx}: remove {f}: {e}"));
    }
    for f in &b.bestanden {
        std::fs::write(dir.join(&f.naam), &f.inhoud).unwrap();
    }
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn delivery(name: &str) -> PathBuf {
    let base = fixtures::fixtures_dir();
    let p = base.join("deliveries").join(name);
    if p.exists() { p } else { base.join(name) }
}

/// Run one variant: a fresh store with the history, then validate the edited package.
/// The schema sets of ../shared/schemas, once per process (libxml2 has one catalog).
fn schemas() -> Option<std::sync::Arc<validator::xsd::SchemaSets>> {
    static SETS: std::sync::OnceLock<Option<std::sync::Arc<validator::xsd::SchemaSets>>> = std::sync::OnceLock::new();
    SETS.get_or_init(|| {
        let dir = fixtures::shared_dir().join("schemas");
        dir.join("catalog.xml").is_file().then(|| std::sync::Arc::new(validator::xsd::SchemaSets::open(&dir).expect("schemas")))
    })
    .clone()
}

fn run(g: &Geval, b: &Bewerkingen, voor: &[String], met_schemas: bool, ctx: &str) -> ingest::IngestResult {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("data")).unwrap();
    let mut cfg = ingest::Config::new(day(g.vandaag.as_deref().unwrap_or("2027-03-01")));
    if met_schemas {
        cfg.schemas = Some(schemas().unwrap_or_else(|| panic!("{ctx}: needs ../shared/schemas")));
    }
    for v in voor {
        let r = ingest::ingest(&store, &delivery(v), &cfg).unwrap();
        assert!(r.uitkomst.accepted(), "{ctx}: history delivery {v} rejected: {:?}", r.meldingen);
    }
    let pkg = tmp.path().join("pakket");
    copy_dir(&delivery(g.basis.as_deref().unwrap_or("01-initieel-compact-gio")), &pkg);
    apply(&pkg, b, ctx);
    ingest::validate(if g.zonder_opslag { None } else { Some(&store) }, &pkg, &cfg).unwrap()
}

fn gevallen(c: &Casus) -> Vec<Geval> {
    let top = Geval {
        naam: c.naam.clone(),
        basis: c.basis.clone(),
        vandaag: c.vandaag.clone(),
        voor: c.voor.clone(),
        voor_goed: c.voor_goed.clone(),
        zonder_opslag: c.zonder_opslag,
        schemas: c.schemas,
        schemas_goed: c.schemas_goed,
        fout: c.fout.clone(),
        goed: c.goed.clone(),
    };
    let mut v = Vec::new();
    if top.fout.is_some() || top.goed.is_some() {
        v.push(top.clone());
    }
    for g in &c.gevallen {
        let mut g = g.clone();
        g.basis = g.basis.or_else(|| top.basis.clone());
        g.vandaag = g.vandaag.or_else(|| top.vandaag.clone());
        if g.voor.is_empty() {
            g.voor = top.voor.clone();
        }
        v.push(g);
    }
    v
}

#[test]
fn every_rule_fires_on_its_failing_fixture_and_not_on_its_passing_one() {
    let cases = load();
    let mut failures = Vec::new();
    let mut checked = 0;
    // RULES_ONLY=LVBB20,STOP1 runs only the codes starting with one of these prefixes.
    let only: Vec<String> = std::env::var("RULES_ONLY").unwrap_or_default().split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
    for (code, (path, c)) in &cases {
        if !only.is_empty() && !only.iter().any(|p| code.starts_with(p.as_str())) {
            continue;
        }
        let regel = validator::regel(code).unwrap_or_else(|| panic!("{}: {code} is not in the catalogue", path.display()));
        for (i, g) in gevallen(c).iter().enumerate() {
            let ctx = format!("{code} case {} ({})", i + 1, g.naam.as_deref().unwrap_or("-"));
            let fout = g.fout.as_ref().unwrap_or_else(|| panic!("{ctx}: no [fout]"));
            if (g.schemas || g.schemas_goed == Some(true)) && schemas().is_none() {
                assert!(std::env::var("CI").is_err(), "{ctx}: CI needs ../shared/schemas");
                eprintln!("SKIPPED {ctx}: ../shared/schemas not found");
                continue;
            }
            let r = run(g, fout, &g.voor, g.schemas, &ctx);
            let hits: Vec<_> = r.meldingen.iter().filter(|m| &m.code == code).collect();
            if hits.is_empty() {
                failures.push(format!("{ctx}: failing fixture gave no {code}; got {:?}", r.meldingen.iter().map(|m| &m.code).collect::<Vec<_>>()));
            }
            for m in &hits {
                if m.ernst != regel.ernst || m.soort != regel.soort {
                    failures.push(format!("{ctx}: {code} has ernst/soort {:?}/{:?}, catalogue says {:?}/{:?}", m.ernst, m.soort, regel.ernst, regel.soort));
                }
                if regel.plaatshouders().iter().any(|p| m.beschrijving.contains(&format!("{{{p}}}"))) {
                    failures.push(format!("{ctx}: unfilled placeholder in '{}'", m.beschrijving));
                }
                if m.locatie.bestand.is_none() && m.ernst != stop::Ernst::Informatie {
                    failures.push(format!("{ctx}: {code} has no file in its locatie"));
                }
            }
            let goed = g.goed.clone().unwrap_or_default();
            let r = run(g, &goed, g.voor_goed.as_deref().unwrap_or(&g.voor), g.schemas_goed.unwrap_or(g.schemas), &ctx);
            if r.meldingen.iter().any(|m| &m.code == code) {
                failures.push(format!("{ctx}: passing fixture gave {code}"));
            }
            let fouten: Vec<_> = r.meldingen.iter().filter(|m| m.is_fout()).map(|m| m.to_string()).collect();
            if !fouten.is_empty() {
                failures.push(format!("{ctx}: passing fixture is not valid: {fouten:?}"));
            }
            checked += 1;
        }
    }
    eprintln!("{checked} rule cases checked");
    assert!(failures.is_empty(), "{} of {checked} cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_rule_in_the_catalogue_has_a_case() {
    let cases = load();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut missing = Vec::new();
    for r in validator::catalogus() {
        match cases.get(r.code) {
            None => missing.push(r.code.to_string()),
            Some((path, c)) => {
                if let Some(zie) = &c.zie {
                    // `zie = "<crate>/tests/<file>.rs::<fn>"` (paths from the workspace root; a bare
                    // `tests/...` means ingest/tests/...).
                    let (file, f) = zie.split_once("::").unwrap_or_else(|| panic!("{}: zie = \"<file>::<fn>\"", path.display()));
                    let file = if file.starts_with("tests/") { format!("ingest/{file}") } else { file.to_string() };
                    let text = std::fs::read_to_string(workspace.join(&file)).unwrap_or_else(|e| panic!("{}: {file}: {e}", path.display()));
                    assert!(text.contains(&format!("fn {f}(")), "{}: no test fn {f} in {file}", path.display());
                } else {
                    assert!(!gevallen(c).is_empty(), "{}: no case", path.display());
                }
            }
        }
    }
    let with_fixture = validator::catalogus().len() - missing.len();
    assert!(missing.is_empty(), "{with_fixture} rules have a case; without one: {missing:?}");
}
