//! The consolidation conformance suite (`../shared/conformance`, or `REGELBANK_CONFORMANCE`):
//! every scenario must pass at level 1.

use std::path::PathBuf;

use timetravel::conformance::{Samenvatting, draai, zoek_scenarios};

fn suite() -> PathBuf {
    match std::env::var_os("REGELBANK_CONFORMANCE") {
        Some(p) => PathBuf::from(p),
        None => {
            let shared = std::env::var_os("REGELBANK_SHARED")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
            shared.join("conformance")
        }
    }
}

#[test]
fn every_scenario_passes() {
    let dir = suite();
    assert!(dir.is_dir(), "conformance suite not found at {}", dir.display());
    let scenarios = zoek_scenarios(&dir).expect("scenarios");
    assert!(scenarios.len() >= 103, "found only {} scenarios in {}", scenarios.len(), dir.display());
    let mut totaal = Samenvatting::default();
    let mut fouten = Vec::new();
    for s in &scenarios {
        let u = draai(s).expect("scenario readable");
        totaal.tel(&u);
        if let Some(d) = &u.verschil {
            fouten.push(format!("FAIL {}: {d}", u.id));
        }
    }
    for f in &fouten {
        eprintln!("{f}");
    }
    eprintln!("{} passed, {} failed", totaal.geslaagd, totaal.gefaald);
    assert!(fouten.is_empty(), "{} of {} scenarios failed", fouten.len(), scenarios.len());
}
