//! The rule catalogue: codes unique and well-formed, templates complete, `docs/rules.md` current.

use std::collections::HashSet;
use std::path::PathBuf;

fn rules_md() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md")
}

#[test]
fn codes_are_unique_and_well_formed() {
    let cat = validator::catalogus();
    let mut seen = HashSet::new();
    for r in &cat {
        assert!(seen.insert(r.code), "duplicate code {}", r.code);
        let (prefix, digits) = r.code.split_at(r.code.find(|c: char| c.is_ascii_digit()).unwrap_or(r.code.len()));
        assert!(
            matches!(prefix, "LVBB" | "BHKV" | "STOP" | "RB") && digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()),
            "malformed code {}",
            r.code
        );
        assert!(!r.titel.is_empty() && !r.sjabloon.is_empty() && !r.herkomst.is_empty(), "{} incomplete", r.code);
        if prefix == "RB" {
            assert_eq!(r.herkomst.split_whitespace().next(), Some("regelbank"), "{}: RB codes are our own", r.code);
        }
        assert_eq!(validator::regel(r.code).map(|x| x.code), Some(r.code));
    }
    assert!(cat.windows(2).all(|w| w[0].code < w[1].code), "catalogue is sorted by code");
}

#[test]
fn templates_fill_every_placeholder() {
    for r in validator::catalogus() {
        let names = r.plaatshouders();
        let vals: Vec<(String, String)> = names.iter().map(|n| (n.to_string(), format!("<{n}>"))).collect();
        let args: Vec<(&str, &dyn std::fmt::Display)> =
            vals.iter().map(|(n, v)| (n.as_str(), v as &dyn std::fmt::Display)).collect();
        let m = r.melding(stop::Locatie::default(), &args);
        for n in &names {
            assert!(!m.beschrijving.contains(&format!("{{{n}}}")), "{}: {{{n}}} left in '{}'", r.code, m.beschrijving);
        }
        assert_eq!((m.ernst, m.soort), (r.ernst, r.soort));
    }
}

#[test]
fn docs_rules_md_is_current() {
    let want = validator::rules_markdown();
    let path = rules_md();
    if std::env::var_os("UPDATE_RULES_DOC").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/rules.md is stale: regenerate it with `cargo run -- rules --markdown > docs/rules.md` \
         or `UPDATE_RULES_DOC=1 cargo test -p validator --test catalogue`"
    );
}
