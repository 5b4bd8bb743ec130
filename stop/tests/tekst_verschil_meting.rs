//! Timings of `tekst::diff` on a large generated regeling, for the record (not a pass/fail
//! check): `cargo test --release -p stop --test tekst_verschil_meting -- --ignored --nocapture`.

use std::time::Instant;

use stop::tekst::{Route, Tekst, maak_mutatie, vergelijk};

#[test]
#[ignore]
fn timings_on_a_large_regeling() {
    for artikelen in [1_000usize, 10_000] {
        let spec = fixtures::GenSpec { artikelen, seed: 7, ..fixtures::GenSpec::default() };
        let chain = fixtures::generate_chain(&spec, 20);
        let versies: Vec<String> = chain.expected_versions().collect();
        let a = Tekst::parse(&versies[0]).unwrap();
        for (naam, b) in [("1 amendment", &versies[1]), ("20 amendments", &versies[20])] {
            let b = Tekst::parse(b).unwrap();
            a.indexeer();
            b.indexeer();
            let t = Instant::now();
            let v = vergelijk(&a, &b).unwrap();
            let t_diff = t.elapsed();
            let t = Instant::now();
            let m = maak_mutatie(&a, &b, "regeling", "was", "wordt").unwrap();
            let t_mut = t.elapsed();
            assert_eq!(m.route, Route::Acties);
            println!(
                "{artikelen} artikelen, {naam}: vergelijk {:.1} ms ({} units), maak_mutatie incl. pas_toe check {:.1} ms ({} actions, {} KB)",
                t_diff.as_secs_f64() * 1e3,
                v.eenheden.len(),
                t_mut.as_secs_f64() * 1e3,
                m.acties,
                m.to_xml().len() / 1024
            );
        }
    }
}
