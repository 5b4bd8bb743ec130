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

/// Every exchange of the suite, first with a fout added at the very end (a tijdstempel for a
/// doel never used), then as it is: the first is rejected and leaves the engine exactly as it
/// was (processing is in place with an undo log, so this checks the undo of every kind of
/// change), and so does every exchange the suite itself rejects.
#[test]
fn a_rejected_exchange_changes_nothing() {
    use timetravel::Engine;
    use timetravel::conformance::lees_scenario;
    use timetravel::uitwisseling::TijdstempelElement;

    let scenarios = zoek_scenarios(&suite()).expect("scenarios");
    let (mut aanvaard, mut geweigerd) = (0, 0);
    for dir in &scenarios {
        let s = lees_scenario(dir).expect("scenario readable");
        let mut e = Engine::new();
        for (_, u) in &s.uitwisselingen {
            let Ok(u) = u else { continue };
            let voor = e.clone();
            let mut fout = u.clone();
            fout.tijdstempels.push(TijdstempelElement {
                doel: "/join/id/proces/gm9999/2099/NooitGebruikt".into(),
                geldig_vanaf: false,
                datum: Some("2099-01-01".into()),
                bekend_op: None,
                regel: 0,
            });
            assert!(e.verwerk(&fout).is_err(), "{}: exchange with an unknown doel accepted", s.id);
            assert!(e == voor, "{}: a rejected exchange ({}) changed the engine", s.id, u.gemaakt_op);
            match e.verwerk(u) {
                Ok(_) => aanvaard += 1,
                Err(_) => {
                    assert!(e == voor, "{}: a rejected exchange ({}) changed the engine", s.id, u.gemaakt_op);
                    geweigerd += 1;
                }
            }
        }
    }
    assert!(aanvaard > 200 && geweigerd > 0, "{aanvaard} accepted, {geweigerd} rejected");
}
