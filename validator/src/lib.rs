//! The rule engine: the catalogue of every rule regelbank checks (LVBB/BHKV/STOP codes where
//! our rule is the official rule, `RB…` for our own), and the checks that run over a parsed
//! package and the store's history.
//!
//! Phases ([`Fase`]): package rules run in `ingest::package`, parser rules in `stop`; this crate
//! runs the per-file rules ([`valideer_bestand`], with the file's XML tree) and the
//! package-level rules ([`valideer_levering`], with the opdracht, all modules and
//! [`Historie`]). All rules are listed in [`catalogus`], which generates `docs/rules.md`.
//!
//! Invariants: no I/O here (history comes in through the [`Historie`] trait); a rule never
//! stops the run — every melding of a package is reported.

pub mod context;
pub mod feestdagen;
pub mod feiten;
pub mod lvbb_xml;
pub mod regel;
pub mod regels;
pub mod xsd;

pub use context::{BestandInfo, EerdereLevering, ExpressieFeit, GeenHistorie, Historie, HistorieFout, Levering, Module, WorkFeit};
pub use regel::{Fase, Groep, Regel};

use stop::Melding;
use stop::module::StopBestand;

/// Every rule, sorted by code.
pub fn catalogus() -> Vec<&'static Regel> {
    let mut v: Vec<&'static Regel> = regels::ALLE.iter().flat_map(|g| g.iter().copied()).collect();
    v.sort_by_key(|r| r.code);
    v
}

/// The rule with this code.
pub fn regel(code: &str) -> Option<&'static Regel> {
    regels::ALLE.iter().flat_map(|g| g.iter().copied()).find(|r| r.code == code)
}

/// Run the per-file rules on a parsed STOP file and keep what package-level rules need. The
/// XML tree is dropped when this returns.
pub fn valideer_bestand(b: StopBestand, meldingen: &mut Vec<Melding>) -> Module {
    regels::bestand(&b, meldingen);
    let mutaties = feiten::mutaties(&b);
    let regeling_wids = feiten::regeling_wids(&b);
    Module {
        bestand: b.bestand,
        soort: b.soort,
        schemaversie: b.schemaversie,
        inhoud: b.inhoud,
        mutaties,
        regeling_wids,
    }
}

/// The facts of a STOP file without running any rule (benchmarks measure the rules' cost
/// against this).
pub fn module_zonder_regels(b: StopBestand) -> Module {
    let mutaties = feiten::mutaties(&b);
    let regeling_wids = feiten::regeling_wids(&b);
    Module { bestand: b.bestand, soort: b.soort, schemaversie: b.schemaversie, inhoud: b.inhoud, mutaties, regeling_wids }
}

/// Run the package-level rules (opdracht, cross-file, history).
pub fn valideer_levering(l: &Levering<'_>, meldingen: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    regels::levering(l, meldingen)
}

/// `docs/rules.md`, generated from the catalogue.
pub fn rules_markdown() -> String {
    use std::fmt::Write as _;
    let cat = catalogus();
    let mut s = String::new();
    s.push_str("# Validation rules\n\n");
    s.push_str("<!-- Generated from the rule catalogue (validator::catalogus) by `regelbank rules --markdown`. Do not edit by hand: a test fails when this file is stale. -->\n\n");
    let _ = writeln!(
        s,
        "regelbank checks {} rules. Codes `LVBB…`, `BHKV…` and `STOP…` are the official codes, used where our rule is the same rule; `RB…` codes are our own. Every rule has a failing and a passing fixture under `fixtures/rules/` (package rules: the tests named in the table).\n",
        cat.len()
    );
    s.push_str("Ernst: `fout` rejects the delivery; `waarschuwing`, `ontraden` and `informatie` are reported only. Fase: where the rule runs (`pakket`: reading the zip or directory; `parser`: reading a file into the STOP model; `bestand`: per STOP file with its XML tree; `levering`: the package as a whole and the store's history; `schema`: the XSD layer; `toegang`: the HTTP server at upload, against the aanleveraar's token and mandates).\n\n");
    for g in Groep::ALLE {
        let rs: Vec<_> = cat.iter().filter(|r| r.groep == g).collect();
        if rs.is_empty() {
            continue;
        }
        let _ = writeln!(s, "## {}\n", g.titel());
        s.push_str("| Code | Ernst | Soort | Fase | Rule | Melding (Dutch template) |\n|---|---|---|---|---|---|\n");
        for r in rs {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                r.code,
                r.ernst.as_str(),
                r.soort.as_str(),
                r.fase.as_str(),
                r.titel.replace('|', "\\|"),
                r.sjabloon.replace('|', "\\|")
            );
        }
        s.push('\n');
    }
    s
}
