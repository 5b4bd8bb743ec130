//! The mutation rules on the real Geonovum test deliveries: the defects those series are known
//! for are reported with the right code and location, and the steps that are fine get no `fout`
//! from the mutation rules.

use chrono::NaiveDate;
use ingest::{Config, IngestResult};
use std::path::{Path, PathBuf};
use store::Store;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn shared(d: &str) -> PathBuf {
    fixtures::shared_dir().join("deliveries/geonovum-lvbb-test-repository").join(d)
}

/// Before every datumBekendmaking of these series.
fn cfg() -> Config {
    Config::new(day("2021-06-01"))
}

/// Codes of the mutation rules.
fn mutatie_codes() -> Vec<&'static str> {
    validator::regels::mutatie::REGELS.iter().map(|r| r.code).collect()
}

/// The `fout` meldingen of the mutation rules, as (code, beschrijving).
fn mutatie_fouten(r: &IngestResult) -> Vec<(String, String)> {
    let codes = mutatie_codes();
    r.meldingen
        .iter()
        .filter(|m| m.is_fout() && codes.contains(&m.code.as_str()))
        .map(|m| (m.code.clone(), m.beschrijving.clone()))
        .collect()
}

fn ingest_ok(store: &Store, d: &Path) -> IngestResult {
    let r = ingest::ingest(store, d, &cfg()).unwrap();
    assert!(r.uitkomst.accepted(), "{}: {:?}", d.display(), r.meldingen);
    r
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn sanity_check_wijzigingsbesluit_names_the_unknown_wid() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    ingest_ok(&store, &shared("Sanity-check-testeiland/1_Initieel_Besluit"));
    let r = ingest::validate(Some(&store), &shared("Sanity-check-testeiland/2_Wijzigingsbesluit"), &cfg()).unwrap();
    let fouten = mutatie_fouten(&r);
    // The Vervang targets gm9920_1__h_1__art_1-1; nld@1 has gm9920_1__chp_1__art_1.1. Applying
    // the mutation also reports the VoegToe whose context is that same unknown wId (LVBB5027).
    let codes: Vec<&str> = fouten.iter().map(|(c, _)| c.as_str()).collect();
    assert!(codes.contains(&"LVBB5003") && codes.iter().all(|c| ["LVBB5003", "LVBB5027"].contains(c)), "{fouten:?}");
    let m = r.meldingen.iter().find(|m| m.code == "LVBB5003").expect("LVBB5003");
    assert!(m.beschrijving.contains("gm9920_1__h_1__art_1-1"), "{}", m.beschrijving);
    assert!(m.beschrijving.contains("/akn/nl/act/gm9920/2021/TestReeksNummer1/nld@1"), "{}", m.beschrijving);
    assert_eq!(m.locatie.bestand.as_deref(), Some("Wijzigingsbesluit.xml"));
    assert!(m.locatie.pad.as_deref().is_some_and(|p| p.ends_with("/RegelingMutatie/Vervang")), "{:?}", m.locatie);
    assert!(m.locatie.regel.is_some() && m.locatie.kolom.is_some());
}

#[test]
fn sanity_check_steps_without_that_defect_get_no_fout_from_the_mutation_rules() {
    // Each initial besluit on its own store (they are three variants of the same regeling work).
    for d in [
        "Sanity-check-testeiland/1_Initieel_Besluit",
        "Sanity-check-testeiland/1_Initieel_BesluitZonderActiviteiten",
        "Sanity-check-testeiland/1_InitieelWaterschap",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let r = ingest::validate(Some(&store), &shared(d), &cfg()).unwrap();
        assert_eq!(mutatie_fouten(&r), [], "{d}");
    }

    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    ingest_ok(&store, &shared("Sanity-check-testeiland/1_Initieel_Besluit"));

    // Steps 3 and 4 mutate nld@2, which only exists when step 2 was accepted: with the real
    // step 2 rejected their was-version is unknown, and that is all the mutation rules say.
    for d in ["Sanity-check-testeiland/3_Ontwerpwijzigingsbesluit", "Sanity-check-testeiland/4_WijzigingsBesluit"] {
        let r = ingest::validate(Some(&store), &shared(d), &cfg()).unwrap();
        let codes: Vec<String> = mutatie_fouten(&r).into_iter().map(|(c, _)| c).collect();
        assert_eq!(codes, ["LVBB4015"], "{d}: {:?}", r.meldingen);
    }

    // Step 2 with its wIds corrected to those of nld@1: the chain 1 → 2 → 3 → 4 then holds.
    let work = tempfile::tempdir().unwrap();
    let step2 = work.path().join("2_Wijzigingsbesluit");
    copy_dir(&shared("Sanity-check-testeiland/2_Wijzigingsbesluit"), &step2);
    let f = step2.join("Wijzigingsbesluit.xml");
    let text = std::fs::read_to_string(&f).unwrap().replace("gm9920_1__h_1__art_1-1", "gm9920_1__chp_1__art_1.1");
    std::fs::write(&f, text).unwrap();
    let r = ingest::validate(Some(&store), &step2, &cfg()).unwrap();
    assert_eq!(mutatie_fouten(&r), [], "corrected step 2");
    if r.uitkomst.accepted() {
        ingest_ok(&store, &step2);
        for d in ["Sanity-check-testeiland/3_Ontwerpwijzigingsbesluit", "Sanity-check-testeiland/4_WijzigingsBesluit"] {
            let r = ingest::ingest(&store, &shared(d), &cfg()).unwrap();
            assert_eq!(mutatie_fouten(&r), [], "{d}: {:?}", r.meldingen);
        }
    } else {
        eprintln!("corrected step 2 rejected by other rules: {:?}", r.meldingen);
    }

    for d in [
        "Sanity-check-testeiland/5_KennisgevingOpWijzigingsbesluit",
        "Sanity-check-testeiland/7_DirecteMutatie",
        "Sanity-check-testeiland/8_Afbreken",
    ] {
        let r = ingest::validate(Some(&store), &shared(d), &cfg()).unwrap();
        assert_eq!(mutatie_fouten(&r), [], "{d}");
    }
}

#[test]
fn tbo_testeiland13_wijzigingsbesluit_names_the_wrong_regeling() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    ingest_ok(&store, &shared("TBO_Testeiland13/1_Initieel_Besluit"));
    // Step 1 creates /akn/nl/act/gm9913/2021/TestReeksNummer1; step 2 mutates a version of
    // /akn/nl/act/gm9920/2021/TestReeksNummer1, a regeling of another gemeente that was never
    // delivered in this series. was and wordt are of the same (wrong) work, so it is LVBB4015.
    let r = ingest::validate(Some(&store), &shared("TBO_Testeiland13/2_Wijzigingsbesluit"), &cfg()).unwrap();
    let fouten = mutatie_fouten(&r);
    assert_eq!(fouten.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), ["LVBB4015"], "{fouten:?}");
    assert!(fouten[0].1.contains("/akn/nl/act/gm9920/2021/TestReeksNummer1/nld@1"), "{}", fouten[0].1);
    let m = r.meldingen.iter().find(|m| m.code == "LVBB4015").unwrap();
    assert!(m.locatie.pad.as_deref().is_some_and(|p| p.ends_with("/RegelingMutatie")), "{:?}", m.locatie);
}
