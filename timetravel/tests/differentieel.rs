//! Differential test: random exchange sequences are fed to the engine and to the reference
//! implementation (`tests/referentie/`: the engine as it was before the interned redesign),
//! and after every exchange both must agree on everything a user can observe: acceptance and
//! every melding, the verwerking, the actuele toestanden, time-travel answers on a grid of
//! dates and knowledge moments, and timelines. The sequences use a few works and doelen
//! (named so that their string order differs from their order of creation), versions with
//! and without references, ancestry derived by `afleiding`, repeals, withdrawals,
//! tijdstempels with terugwerkende kracht and knowledge in the past or the future, and
//! deliberate mistakes, so rejected exchanges are compared too.

mod referentie;

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::Value;
use timetravel::uitwisseling::{
    InstrumentElement, InstrumentSoort, MaterieelUitgewerktElement, TijdstempelElement, Verwijzing,
};
use timetravel::{Engine, Uitwisseling, Vraag, dag, datum};

const WERKEN: [&str; 2] = ["/akn/nl/act/gm9999/2022/REG_A", "/join/id/regdata/gm9999/2022/GIO_B"];
/// The name of doel `d`: the order of the names differs from the order of the numbers.
fn doel_naam(d: usize) -> String {
    format!("/join/id/proces/gm9999/2022/Doel_{:02}", (d * 37 + 11) % 97)
}

fn doel_nummer(naam: &str) -> usize {
    (0..97).find(|&d| doel_naam(d) == naam).expect("known doel")
}

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn onder(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn kans(&mut self, procent: u64) -> bool {
        self.next() % 100 < procent
    }
    fn kies<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        if v.is_empty() { None } else { Some(&v[self.onder(v.len())]) }
    }
}

fn dag_n(n: i32) -> String {
    datum(dag("2022-01-01") + n)
}

/// What the generator remembers of accepted exchanges.
#[derive(Default)]
struct Geheugen {
    /// How many doelen the sequence draws from.
    doelen: usize,
    /// (work, doel) -> gemaaktOp of every momentopname, in order.
    momentopnamen: BTreeMap<(usize, usize), Vec<String>>,
    /// Per work, every version delivered.
    expressies: BTreeMap<usize, Vec<String>>,
    versies: usize,
    vorige_gemaakt_op: Option<String>,
    /// Dates used, for the query grid.
    datums: Vec<i32>,
    kennis: Vec<i32>,
    /// Doelen with tijdstempels.
    met_tijdstempels: Vec<usize>,
}

impl Geheugen {
    fn laatste(&self, w: usize, d: usize) -> Option<&String> {
        self.momentopnamen.get(&(w, d)).and_then(|l| l.last())
    }
    fn doelen_met_branch(&self, w: usize) -> Vec<usize> {
        self.momentopnamen.keys().filter(|(x, _)| *x == w).map(|(_, d)| *d).collect()
    }
}

fn bekend_op(rng: &mut Rng, dagnr: i32) -> Option<String> {
    match rng.onder(20) {
        0 | 1 => Some(dag_n(dagnr - rng.onder(5) as i32)),
        2 => Some(dag_n(dagnr + 1 + rng.onder(10) as i32)),
        _ => None,
    }
}

fn verwijzing(d: usize, g: &str) -> Verwijzing {
    Verwijzing { doel: doel_naam(d), gemaakt_op: g.to_string() }
}

/// One random exchange; `true` in the second place: fill in its ancestry with `afleiding`.
fn maak(rng: &mut Rng, g: &mut Geheugen, i: usize) -> (Uitwisseling, Option<BTreeMap<String, String>>) {
    let dagnr = 2 * i as i32;
    let n_doelen = g.doelen;
    let gemaakt_op = match &g.vorige_gemaakt_op {
        Some(v) if rng.kans(3) => v.clone(),
        _ => format!("{}T{:02}:00:00Z", dag_n(dagnr), 9 + rng.onder(3)),
    };
    let ontvangen_op = if rng.kans(10) { dag_n(dagnr + 1 + rng.onder(3) as i32) } else { gemaakt_op[..10].to_string() };
    let mut u = Uitwisseling {
        gemaakt_op,
        ontvangen_op,
        revisie: rng.kans(10),
        instrumenten: Vec::new(),
        tijdstempels: Vec::new(),
        materieel_uitgewerkt: Vec::new(),
        bestand: format!("{i:02}.xml"),
    };
    let mut afleiding = None;
    let acties = if i == 0 { 2 } else { 1 + rng.onder(3) };
    // (work, doel) pairs this exchange already has an element for.
    let mut gebruikt: Vec<(usize, usize)> = Vec::new();
    for _ in 0..acties {
        let mut w = if rng.kans(70) { 0 } else { 1 };
        if g.doelen_met_branch(w).is_empty() && !g.doelen_met_branch(1 - w).is_empty() && rng.kans(70) {
            w = 1 - w;
        }
        let bekend: Vec<usize> =
            g.doelen_met_branch(w).into_iter().filter(|d| !gebruikt.contains(&(w, *d)) || rng.kans(5)).collect();
        let overal: Vec<usize> = {
            let mut v: Vec<usize> = g.momentopnamen.keys().map(|(_, d)| *d).collect();
            v.dedup();
            v
        };
        let kies_doel = |rng: &mut Rng| -> usize {
            match rng.kies(&bekend) {
                Some(&d) if rng.kans(90) => d,
                _ => rng.onder(n_doelen),
            }
        };
        let keuze = if i == 0 { 35 * gebruikt.len() } else { rng.onder(100) };
        match keuze {
            0..45 => {
                let mut doelen = vec![rng.onder(n_doelen)];
                if rng.kans(50) || gebruikt.contains(&(w, doelen[0])) {
                    doelen[0] = kies_doel(rng);
                }
                if rng.kans(20) {
                    let d = rng.onder(n_doelen);
                    if !doelen.contains(&d) || rng.kans(10) {
                        doelen.push(d);
                    }
                }
                gebruikt.extend(doelen.iter().map(|&d| (w, d)));
                let alle_bestaan = doelen.iter().all(|&d| g.laatste(w, d).is_some());
                let expressie = if rng.kans(if alle_bestaan { 85 } else { 98 }) {
                    g.versies += 1;
                    Some(format!("{}/nld@2022;{}", WERKEN[w], g.versies))
                } else {
                    None
                };
                let mut e = InstrumentElement {
                    soort: InstrumentSoort::Beoogd,
                    work: WERKEN[w].to_string(),
                    expressie: expressie.clone(),
                    doelen: doelen.iter().map(|&d| doel_naam(d)).collect(),
                    bekend_op: bekend_op(rng, dagnr),
                    basisversies: Vec::new(),
                    vervlochten: Vec::new(),
                    ontvlochten: Vec::new(),
                    eid: rng.kans(30).then(|| "art_1".to_string()),
                    regel: rng.onder(40) as u32,
                };
                if rng.kans(15) && afleiding.is_none() {
                    // Leave the references to `afleiding`, with a `was` version if there is one.
                    let mut was = BTreeMap::new();
                    if let (Some(x), Some(v)) = (&expressie, g.expressies.get(&w).and_then(|l| rng.kies(l)))
                        && rng.kans(80)
                    {
                        was.insert(x.clone(), v.clone());
                    }
                    afleiding = Some(was);
                } else {
                    for &d in &doelen {
                        if let Some(l) = g.momentopnamen.get(&(w, d)) {
                            match rng.onder(20) {
                                0 => {}
                                1 => e.basisversies.push(verwijzing(d, rng.kies(l).expect("non-empty"))),
                                _ => e.basisversies.push(verwijzing(d, l.last().expect("non-empty"))),
                            }
                        }
                    }
                    let anderen: Vec<usize> = bekend.iter().copied().filter(|d| !doelen.contains(d)).collect();
                    if doelen.iter().any(|&d| g.laatste(w, d).is_none())
                        && rng.kans(95)
                        && let Some(&b) = rng.kies(&anderen)
                    {
                        e.basisversies.push(verwijzing(b, g.laatste(w, b).expect("has a branch")));
                    }
                    if rng.kans(15)
                        && let Some(&v) = rng.kies(&anderen)
                        && !e.basisversies.iter().any(|x| x.doel == doel_naam(v))
                    {
                        let l = &g.momentopnamen[&(w, v)];
                        let m = if rng.kans(80) { l.last() } else { rng.kies(l) };
                        e.vervlochten.push(verwijzing(v, m.expect("non-empty")));
                    }
                    if rng.kans(8)
                        && let Some(&o) = rng.kies(&anderen)
                    {
                        let l = &g.momentopnamen[&(w, o)];
                        e.ontvlochten.push(verwijzing(o, rng.kies(l).expect("non-empty")));
                    }
                    if rng.kans(2) {
                        // A reference to a momentopname that does not exist.
                        e.basisversies.push(verwijzing(rng.onder(n_doelen), "2021-06-01T10:00:00Z"));
                    }
                }
                u.instrumenten.push(e);
            }
            45..80 => {
                let mut kandidaten = overal.clone();
                kandidaten.extend(gebruikt.iter().map(|(_, d)| *d));
                if rng.kans(30) {
                    kandidaten.retain(|d| g.met_tijdstempels.contains(d));
                }
                let doel = match rng.kies(&kandidaten) {
                    Some(&d) if rng.kans(96) => d,
                    _ => rng.onder(n_doelen),
                };
                let geldig_vanaf = rng.kans(25);
                let datum = if !g.met_tijdstempels.contains(&doel) || rng.onder(100) < 75 {
                    let d = dagnr - 6 + rng.onder(40) as i32;
                    g.datums.push(d);
                    Some(dag_n(d))
                } else {
                    None
                };
                u.tijdstempels.push(TijdstempelElement {
                    doel: doel_naam(doel),
                    geldig_vanaf,
                    datum,
                    bekend_op: bekend_op(rng, dagnr),
                    regel: 0,
                });
            }
            80..92 => {
                if bekend.is_empty() && rng.kans(90) {
                    continue;
                }
                let doel = kies_doel(rng);
                gebruikt.push((w, doel));
                let soort = match rng.onder(6) {
                    0..3 => InstrumentSoort::Intrekking,
                    3 | 4 => InstrumentSoort::Terugtrekking,
                    _ => InstrumentSoort::TerugtrekkingIntrekking,
                };
                let mut basisversies = Vec::new();
                if let Some(l) = g.laatste(w, doel)
                    && rng.kans(90)
                {
                    basisversies.push(verwijzing(doel, l));
                } else if soort == InstrumentSoort::Intrekking
                    && let Some(&b) = rng.kies(&bekend)
                {
                    basisversies.push(verwijzing(b, g.laatste(w, b).expect("has a branch")));
                }
                u.instrumenten.push(InstrumentElement {
                    soort,
                    work: WERKEN[w].to_string(),
                    expressie: None,
                    doelen: vec![doel_naam(doel)],
                    bekend_op: bekend_op(rng, dagnr),
                    basisversies,
                    vervlochten: Vec::new(),
                    ontvlochten: Vec::new(),
                    eid: None,
                    regel: 0,
                });
            }
            _ => {
                if g.doelen_met_branch(w).is_empty() && rng.kans(90) {
                    continue;
                }
                let datum = rng.kans(70).then(|| {
                    let d = dagnr + rng.onder(30) as i32;
                    g.datums.push(d);
                    dag_n(d)
                });
                u.materieel_uitgewerkt.push(MaterieelUitgewerktElement { work: WERKEN[w].to_string(), datum, regel: 3 });
            }
        }
    }
    (u, afleiding)
}

/// Remember what an accepted exchange delivered.
fn onthoud(g: &mut Geheugen, u: &Uitwisseling) {
    for e in &u.instrumenten {
        let w = WERKEN.iter().position(|x| *x == e.work).expect("known work");
        for d in &e.doelen {
            let d = doel_nummer(d);
            g.momentopnamen.entry((w, d)).or_default().push(u.gemaakt_op.clone());
        }
        if let Some(x) = &e.expressie {
            g.expressies.entry(w).or_default().push(x.clone());
        }
    }
    for t in &u.tijdstempels {
        let d = doel_nummer(&t.doel);
        if !g.met_tijdstempels.contains(&d) {
            g.met_tijdstempels.push(d);
        }
    }
    g.vorige_gemaakt_op = Some(u.gemaakt_op.clone());
    let d = dag(&u.ontvangen_op);
    g.kennis.extend([d, dag(&u.module_bekend_op())]);
    for b in u.instrumenten.iter().filter_map(|e| e.bekend_op.as_deref()).chain(u.tijdstempels.iter().filter_map(|t| t.bekend_op.as_deref())) {
        g.kennis.push(dag(b));
    }
}

fn json<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).expect("serialises")
}

/// Compare the answers of both engines to time-travel questions and timelines.
fn vergelijk_vragen(nieuw: &Engine, oud: &referentie::Engine, g: &Geheugen, volledig: bool, context: &str) {
    let mut datums: Vec<i32> = g.datums.iter().flat_map(|&d| [d - 1, d]).collect();
    datums.sort_unstable();
    datums.dedup();
    let mut kennis: Vec<i32> = g.kennis.iter().flat_map(|&d| [d - 1, d]).chain([dag("2030-01-01")]).collect();
    kennis.sort_unstable();
    kennis.dedup();
    if !volledig {
        // After each exchange: some of the dates, the latest knowledge, and one earlier moment.
        let stap = datums.len() / 16 + 1;
        datums = datums.into_iter().step_by(stap).collect();
        let n = kennis.len();
        kennis = kennis[n.saturating_sub(2)..].to_vec();
        kennis.push(kennis[0] - 3);
    }
    for work in WERKEN {
        let a = nieuw.actuele_toestanden(work).map(json);
        let b = oud.actuele_toestanden(work).map(json);
        assert_eq!(a, b, "{context}: actuele toestanden of {work}");
        for &k in &kennis {
            let kd = datum(k);
            let a = nieuw.tijdlijn(work, &kd).map(|t| json(&t));
            let b = oud.tijdlijn(work, &kd).map(|t| json(&t));
            assert_eq!(a, b, "{context}: tijdlijn of {work} as known on {kd}");
            for &j in &datums {
                for &gv in &datums {
                    if (!volledig || datums.len() > 30) && j != gv && (j + gv) % 3 != 0 {
                        continue;
                    }
                    let v = Vraag { in_werking_op: datum(j), geldig_op: datum(gv), ontvangen_op: kd.clone(), bekend_op: kd.clone() };
                    let a = nieuw.toestand(work, &v).map(|t| {
                        (json(t.toestand), t.moment.ontvangen_op.to_string(), t.moment.bekend_op.to_string(), t.juridisch_werkend_tot, t.geldig_tot)
                    });
                    let b = oud.toestand(work, &v).map(|t| {
                        (json(t.toestand), t.moment.ontvangen_op.to_string(), t.moment.bekend_op.to_string(), t.juridisch_werkend_tot, t.geldig_tot)
                    });
                    assert_eq!(a, b, "{context}: toestand of {work} at {v:?}");
                }
            }
        }
    }
}

fn eerste<V: std::fmt::Display>(m: &BTreeMap<String, V>) -> Vec<(String, String)> {
    m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
}

fn draai(seed: u64, lengte: usize, doelen: usize) {
    let mut rng = Rng::new(seed);
    let mut g = Geheugen { doelen, ..Geheugen::default() };
    let mut nieuw = Engine::new();
    let mut oud = referentie::Engine::default();
    let mut log: Vec<String> = Vec::new();
    for i in 0..lengte {
        let (mut u, afleiding) = maak(&mut rng, &mut g, i);
        if let Some(was) = &afleiding {
            let mut v = u.clone();
            nieuw.versiebeheer.vul_afkomst_aan(&mut u, was, &BTreeMap::new());
            oud.versiebeheer.vul_afkomst_aan(&mut v, was, &BTreeMap::new());
            assert_eq!(u, v, "seed {seed}, exchange {i}: afleiding");
        }
        log.push(serde_json::to_string(&u).expect("serialises"));
        let context = format!("seed {seed}, exchange {i}\n{}", log.join("\n"));
        let a = nieuw.verwerk(&u);
        let b = oud.verwerk(&u);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.verwerking.waarschuwingen, b.verwerking.waarschuwingen, "{context}: waarschuwingen");
                assert_eq!(
                    a.verwerking.instrumenten.iter().collect::<Vec<_>>(),
                    b.verwerking.instrumenten.iter().collect::<Vec<_>>(),
                    "{context}: instrumenten"
                );
                assert_eq!(
                    a.verwerking.bekend_op.map(|x| x.to_string()),
                    b.verwerking.bekend_op.map(|x| x.to_string()),
                    "{context}: bekendOp"
                );
                assert_eq!(eerste(&a.verwerking.eerste_bekend_op), eerste(&b.verwerking.eerste_bekend_op), "{context}: eerste bekendOp");
                let aa: BTreeMap<&String, Value> = a.actueel.iter().map(|(k, v)| (k, json(&**v))).collect();
                let bb: BTreeMap<&String, Value> = b.actueel.iter().map(|(k, v)| (k, json(&**v))).collect();
                assert_eq!(aa, bb, "{context}: actuele toestanden");
                onthoud(&mut g, &u);
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "{context}: meldingen of a rejected exchange"),
            (Ok(_), Err(b)) => panic!("{context}: accepted, the reference rejects it: {b:?}"),
            (Err(a), Ok(_)) => panic!("{context}: rejected, the reference accepts it: {a:?}"),
        }
        vergelijk_vragen(&nieuw, &oud, &g, i + 1 == lengte, &context);
        // The time-travel index itself: the same distinct toestanden in the same order, the
        // same moments and anchors.
        for work in WERKEN {
            assert_eq!(nieuw.tijdreis.get(work).map(json), oud.tijdreis.get(work).map(json), "{context}: time-travel index of {work}");
        }
        // Now and then the state goes through JSON, as ingest persists and loads it: the
        // derived lookups and the memo are rebuilt, and the next exchanges must not notice.
        if rng.kans(15) {
            let tekst = serde_json::to_string(&nieuw).expect("serialises");
            nieuw = serde_json::from_str(&tekst).expect("deserialises");
            nieuw.herstel();
        }
    }
}

/// Sequences per run: 400, or `DIFFERENTIEEL_CASES` (e.g. many more in a release build).
fn gevallen() -> u32 {
    std::env::var("DIFFERENTIEEL_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(400)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: gevallen(), ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_the_reference(seed in any::<u64>(), lengte in 1usize..16) {
        draai(seed, lengte, 5);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: gevallen() / 20 + 1, ..ProptestConfig::default() })]

    /// Longer sequences over more doelen: instruments with more branches than the linear-scan
    /// limit, memo tables past their hash-index threshold.
    #[test]
    fn engine_agrees_with_the_reference_on_long_histories(seed in any::<u64>(), lengte in 25usize..60) {
        draai(seed, lengte, 24);
    }
}

/// How much of the engine the random sequences reach: most exchanges must be accepted, and
/// every kind of melding the generator aims at must occur.
#[test]
fn the_sequences_reach_the_engine() {
    let mut aanvaard = 0;
    let mut geweigerd = 0;
    let mut codes = std::collections::BTreeSet::new();
    let mut eerste_fout = BTreeMap::new();
    let mut statussen = std::collections::BTreeSet::new();
    for seed in 0..300u64 {
        let mut rng = Rng::new(seed);
        let mut g = Geheugen { doelen: 5, ..Geheugen::default() };
        let mut e = Engine::new();
        for i in 0..12 {
            let (mut u, afleiding) = maak(&mut rng, &mut g, i);
            if let Some(was) = &afleiding {
                e.versiebeheer.vul_afkomst_aan(&mut u, was, &BTreeMap::new());
            }
            match e.verwerk(&u) {
                Ok(r) => {
                    aanvaard += 1;
                    codes.extend(r.verwerking.waarschuwingen.iter().map(|m| m.code.clone()));
                    for a in r.actueel.values() {
                        statussen.extend(a.toestanden.iter().map(|t| format!("{:?}", t.inhoud.status)));
                        if a.juridisch_uitgewerkt_op.is_some() {
                            statussen.insert("uitgewerkt".into());
                        }
                    }
                    onthoud(&mut g, &u);
                }
                Err(m) => {
                    geweigerd += 1;
                    *eerste_fout.entry(m[0].code.clone()).or_insert(0usize) += 1;
                    codes.extend(m.iter().map(|m| m.code.clone()));
                }
            }
        }
    }
    eprintln!("{aanvaard} accepted, {geweigerd} rejected (first fout: {eerste_fout:?}); codes {codes:?}");
    assert!(aanvaard > geweigerd, "{aanvaard} accepted, {geweigerd} rejected");
    for s in ["Compleet", "Onvolledig", "Onbekend", "uitgewerkt"] {
        assert!(statussen.contains(s), "no {s} in {statussen:?}");
    }
    for c in ["RB5011", "RB5013", "RB5014", "RB5016", "RB5022", "RB5030", "RB5032", "RB5033", "RB5040", "RB5041", "RB5042"] {
        assert!(codes.contains(c), "no {c} in {codes:?}");
    }
}

/// The long sequences reach what short ones cannot: instruments past the linear-scan limit
/// (12 branches) and determinations past the memo's hash-index threshold (16 toestanden).
#[test]
fn long_sequences_reach_the_index_paths() {
    let (mut branches, mut ankers) = (0, 0);
    for seed in 0..20u64 {
        let mut rng = Rng::new(seed);
        let mut g = Geheugen { doelen: 24, ..Geheugen::default() };
        let mut e = Engine::new();
        for i in 0..60 {
            let (mut u, afleiding) = maak(&mut rng, &mut g, i);
            if let Some(was) = &afleiding {
                e.versiebeheer.vul_afkomst_aan(&mut u, was, &BTreeMap::new());
            }
            if e.verwerk(&u).is_ok() {
                onthoud(&mut g, &u);
            }
        }
        branches = branches.max(e.versiebeheer.instrumenten.values().map(|i| i.branches.len()).max().unwrap_or(0));
        ankers = ankers.max(e.tijdreis.values().flat_map(|t| t.momenten.iter().map(|m| m.ankers.len())).max().unwrap_or(0));
    }
    assert!(branches >= 12 && ankers >= 16, "at most {branches} branches, {ankers} anchors in a moment");
}
