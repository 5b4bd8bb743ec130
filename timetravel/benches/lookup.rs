//! Engine benchmarks (harness = false; `cargo bench -p timetravel --bench lookup`):
//!
//! * `conformance`: engine time for the consolidation conformance scenarios (files read and
//!   parsed once, outside the timing; each repetition feeds every scenario's exchanges to a
//!   fresh engine). Mean, median and best of `BENCH_REPS` repetitions (the median is the
//!   steadier one on a loaded machine). Compare with the reference simulator's 0.14 s for
//!   154 scenarios.
//! * `lookup`: time-travel queries on one work with 1,000 toestanden built by 10 exchanges of
//!   100 doelen (each doel with its own juridischWerkendVanaf), at random dates and knowledge
//!   moments, plus the cost of one more exchange (one new doel) on that work, the mean of
//!   five.
//!
//! Environment: `REGELBANK_CONFORMANCE` (default ../shared/conformance), `BENCH_REPS`,
//! `BENCH_ONLY` (`conformance` or `lookup`).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use timetravel::conformance::{lees_scenario, zoek_scenarios};
use timetravel::uitwisseling::{InstrumentElement, InstrumentSoort, TijdstempelElement, Verwijzing};
use timetravel::{Engine, Uitwisseling, Vraag, dag, datum};

fn reps() -> usize {
    std::env::var("BENCH_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(200)
}

fn conformance() {
    let dir = std::env::var_os("REGELBANK_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"));
    let Ok(dirs) = zoek_scenarios(&dir) else {
        println!("conformance: suite not found at {}", dir.display());
        return;
    };
    let scenarios: Vec<_> = dirs.iter().map(|d| lees_scenario(d).expect("scenario")).collect();
    let uitwisselingen: Vec<Vec<Uitwisseling>> = scenarios
        .iter()
        .map(|s| s.uitwisselingen.iter().filter_map(|(_, u)| u.as_ref().ok().cloned()).collect())
        .collect();
    let n_ex: usize = uitwisselingen.iter().map(Vec::len).sum();
    let reps = reps();
    let mut tijden: Vec<f64> = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        for us in &uitwisselingen {
            let mut e = Engine::new();
            for u in us {
                let _ = black_box(e.verwerk(u));
            }
            black_box(&e);
        }
        tijden.push(t.elapsed().as_secs_f64());
    }
    let gem = tijden.iter().sum::<f64>() / reps as f64;
    tijden.sort_by(f64::total_cmp);
    let best = tijden[0];
    let mediaan = tijden[reps / 2];
    let per = gem / scenarios.len() as f64;
    let referentie = 0.14 / 154.0;
    println!(
        "conformance: {} scenarios, {n_ex} exchanges; engine {:.3} ms per run (median {:.3} ms, best {:.3} ms) = {:.2} µs per scenario, {:.2} µs per exchange; reference simulator {:.0} µs per scenario => {:.0}x faster (median {:.0}x)",
        scenarios.len(),
        gem * 1e3,
        mediaan * 1e3,
        best * 1e3,
        per * 1e6,
        gem * 1e6 / n_ex as f64,
        referentie * 1e6,
        referentie / per,
        referentie * scenarios.len() as f64 / mediaan
    );
}

const W: &str = "/akn/nl/act/gm9999/2020/Groot";

/// One exchange: a new version for `doelen` (each in force one day after the previous),
/// based on the previous exchange's first doel.
fn uitwisseling(i: usize, doelen: &[String], eerste_dag: i32, vorige: &Option<(String, String)>) -> Uitwisseling {
    let start = dag("2020-01-01");
    let g = format!("{}T10:00:00Z", datum(start + i as i32));
    Uitwisseling {
        gemaakt_op: g.clone(),
        ontvangen_op: g[..10].to_string(),
        revisie: false,
        instrumenten: vec![InstrumentElement {
            soort: InstrumentSoort::Beoogd,
            work: W.into(),
            expressie: Some(format!("{W}/nld@2020;{i}")),
            doelen: doelen.to_vec(),
            bekend_op: None,
            basisversies: vorige.iter().map(|(d, g)| Verwijzing { doel: d.clone(), gemaakt_op: g.clone() }).collect(),
            vervlochten: vec![],
            ontvlochten: vec![],
            eid: None,
            regel: 0,
        }],
        tijdstempels: doelen
            .iter()
            .enumerate()
            .map(|(k, d)| TijdstempelElement {
                doel: d.clone(),
                geldig_vanaf: false,
                datum: Some(datum(eerste_dag + k as i32)),
                bekend_op: None,
                regel: 0,
            })
            .collect(),
        materieel_uitgewerkt: vec![],
        bestand: String::new(),
    }
}

fn lookup() {
    // 1,000 toestanden: 10 exchanges of 100 doelen each (each doel its own inwerkingtreding).
    let n = 1000usize;
    let per = 100usize;
    let mut e = Engine::new();
    let start = dag("2020-01-01");
    let mut vorige: Option<(String, String)> = None;
    let t = Instant::now();
    for i in 0..n / per {
        let doelen: Vec<String> = (0..per).map(|k| format!("/join/id/proces/gm9999/2020/D{:04}", i * per + k)).collect();
        let u = uitwisseling(i, &doelen, start + 30 + (i * per) as i32, &vorige);
        e.verwerk(&u).expect("accepted");
        vorige = Some((doelen[0].clone(), u.gemaakt_op.clone()));
    }
    let opbouw = t.elapsed();
    let toestanden = e.actuele_toestanden(W).map(|a| a.toestanden.len()).unwrap_or(0);
    // Queries: random dates within the range, as known now (the common case) and as known on
    // a random earlier day.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let vragen: Vec<Vraag> = (0..10_000)
        .map(|i| {
            let d = datum(start + (rnd() % (n as u64 + 60)) as i32);
            let b = if i % 2 == 0 { datum(start + n as i32 + 60) } else { datum(start + (rnd() % n as u64) as i32) };
            Vraag { in_werking_op: d.clone(), geldig_op: d, ontvangen_op: b.clone(), bekend_op: b }
        })
        .collect();
    let reps = 20;
    let t = Instant::now();
    let mut gevonden = 0usize;
    for _ in 0..reps {
        for v in &vragen {
            if black_box(e.toestand(W, v)).is_some() {
                gevonden += 1;
            }
        }
    }
    let per_vraag = t.elapsed().as_secs_f64() / (reps * vragen.len()) as f64;
    // The incremental update: one more exchange (one new doel) on this work, five times.
    let mut e2 = e.clone();
    let t = Instant::now();
    let extra = 5;
    for j in 0..extra {
        let i = n / per + j;
        let doelen = vec![format!("/join/id/proces/gm9999/2020/E{j:04}")];
        let u = uitwisseling(i, &doelen, start + 30 + n as i32 + j as i32, &vorige);
        e2.verwerk(&u).expect("accepted");
        vorige = Some((doelen[0].clone(), u.gemaakt_op.clone()));
    }
    let update = t.elapsed().as_secs_f64() / extra as f64;
    println!(
        "lookup: work with {toestanden} toestanden (built by {} exchanges in {:.1} ms); {:.0} ns per time-travel query (Engine::toestand incl. date parsing; {:.0}% found a toestand); one more exchange on it: {:.1} ms",
        n / per,
        opbouw.as_secs_f64() * 1e3,
        per_vraag * 1e9,
        100.0 * gevonden as f64 / (reps * vragen.len()) as f64,
        update * 1e3
    );
}

fn main() {
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "conformance" {
        conformance();
    }
    if only.is_empty() || only == "lookup" {
        lookup();
    }
}
