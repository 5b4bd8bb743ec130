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
    std::fs::write("/tmp/vt/03-15.xml", m.to_xml()).ok();
}
