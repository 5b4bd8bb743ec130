//! Search benchmark (issue 7, item 7): indexing throughput and query latency of `search` on a
//! generated corpus of regeling versions, against PostgreSQL full-text search (`dutch`
//! configuration) on the same corpus and queries, with a check that both find the same hits.
//!
//! `cargo bench -p search --features pg-baseline --bench zoeken` (or `scripts/bench-search.sh`, which also starts a
//! PostgreSQL cluster). Settings (environment):
//! - `BENCH_REGELINGEN` (2000), `BENCH_ARTIKELEN` (250): works and articles per version; every
//!   work has two versions, the second rewriting 10–20 % of the articles;
//! - `BENCH_QUERIES` (1000): timed tantivy executions (after a warm-up round);
//! - `BENCH_PG_QUERIES` (300): timed PostgreSQL executions; `BENCH_PG_SECONDS` (600) stops the
//!   PostgreSQL rounds early;
//! - `BENCH_ONLY`: `tantivy` or `pg` (default both); `BENCH_BATCH` (20): works per commit;
//! - `BENCH_PG`: a libpq-style connection string; without it PostgreSQL is skipped;
//! - `BENCH_SEED` (7);
//! - `BENCH_DUMP`: a file to write every instance's complete tantivy answer to (JSON lines: the
//!   first page in full, and a SHA-256 over all pages of 100 groups × 10 hits with their scores,
//!   snippets, totals and facets), to check that two builds of `search` answer identically.
//!
//! The index is cached in `target/bench-zoeken/` under a name made of the parameters, the
//! PostgreSQL corpus in its database under the same key, so a rerun only measures queries.

#[path = "zoeken/tekst.rs"]
mod tekst;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use search::tijd::datum;
use search::{Anker, Eenheid, Moment, Resultaten, Schrijver, Tijdbereik, Tijdvakken, Versie, Watermerk, WerkMeta, Zoeker, Zoekvraag};

fn env_usize(k: &str, d: usize) -> usize {
    std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d)
}

struct Param {
    regelingen: usize,
    artikelen: usize,
    queries: usize,
    pg_queries: usize,
    pg_seconden: u64,
    batch: usize,
    seed: u64,
    tantivy: bool,
    pg: Option<String>,
}

impl Param {
    fn sleutel(&self) -> String {
        format!("r{}-a{}-s{}-g{}-b{}", self.regelingen, self.artikelen, self.seed, tekst::GENERATOR, self.batch)
    }
}

/// What the query is compared on: the applying text on this date (inWerkingOp = geldigOp), as
/// known now.
const BESCHIKBAAR_OP: &str = "2030-01-01";
const DATUMS: &[&str] = &["2021-07-01", "2022-09-15", "2024-03-01", "2025-06-01"];

/// A query in both languages. `pg` is the text for `to_tsquery('dutch', …)`.
struct Vraag {
    soort: &'static str,
    q: String,
    pg: String,
    bg: Option<String>,
}

fn vragen() -> Vec<Vraag> {
    let v = |soort, q: &str, pg: &str| Vraag { soort, q: q.to_string(), pg: pg.to_string(), bg: None };
    // Proximity `"a b"~3` in tantivy: b at most 3 words after a, or up to 2 before it (the
    // slop counts positions moved; see the notes in docs/benchmarks.md).
    let nabij = |a: &str, b: &str| {
        let mut d: Vec<String> = (1..=4).map(|n| format!("{a} <{n}> {b}")).collect();
        d.extend((1..=2).map(|n| format!("{b} <{n}> {a}")));
        d.join(" | ")
    };
    let mut l = vec![
        v("woord", "vergunningen", "vergunningen"),
        v("woord", "parkeergelegenheid", "parkeergelegenheid"),
        v("woord", "monumenten", "monumenten"),
        v("woord", "omgevingsplanactiviteit", "omgevingsplanactiviteit"),
        v("woord", "geurhinder", "geurhinder"),
        v("twee woorden (AND)", "kappen houtopstand", "kappen & houtopstand"),
        v("twee woorden (AND)", "geluidhinder evenementen", "geluidhinder & evenementen"),
        v("twee woorden (AND)", "kamerverhuur woning", "kamerverhuur & woning"),
        v("frase", "\"college van burgemeester en wethouders\"", "college <-> van <-> burgemeester <-> en <-> wethouders"),
        v("frase", "\"beschermd dorpsgezicht\"", "beschermd <-> dorpsgezicht"),
        v("frase", "\"uitgebreide voorbereidingsprocedure\"", "uitgebreide <-> voorbereidingsprocedure"),
        v("nabijheid ~3", "\"slopen bouwwerk\"~3", &nabij("slopen", "bouwwerk")),
        v("nabijheid ~3", "\"vergunning geweigerd\"~3", &nabij("vergunning", "geweigerd")),
        v("prefix", "bouw*", "bouw:*BD"),
        v("prefix", "monument*", "monument:*BD"),
        v("prefix", "geluid*", "geluid:*BD"),
        v("OR / NOT", "zwembad OR paardenbak", "zwembad | paardenbak"),
        v("OR / NOT", "evenement -geluidhinder", "evenement & !geluidhinder"),
        v("titel:", "titel:bomenverordening kappen", "bomenverordening:A & kappen"),
        v("titel:", "titel:erfgoedverordening monument", "erfgoedverordening:A & monument"),
    ];
    for (q, nr) in [("vergunning", 1), ("bouwhoogte", 2), ("omgevingsvergunning", 3)] {
        l.push(Vraag { soort: "bevoegd gezag", q: q.into(), pg: q.into(), bg: Some(tekst::bevoegd_gezag(nr)) });
    }
    l
}

/// The timed instances: every query on two of the dates (seeded).
fn instanties(n: usize, seed: u64) -> Vec<(usize, &'static str)> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xDA7E);
    let mut uit = Vec::new();
    for i in 0..n {
        let a = rng.random_range(0..DATUMS.len());
        let b = (a + rng.random_range(1..DATUMS.len())) % DATUMS.len();
        uit.push((i, DATUMS[a]));
        uit.push((i, DATUMS[b]));
    }
    uit
}

fn op(d: &str) -> Tijdbereik {
    Tijdbereik::Op { geldig_op: d.into(), in_werking_op: d.into(), beschikbaar_op: BESCHIKBAAR_OP.into() }
}

fn zoekvraag(v: &Vraag, d: &str) -> Zoekvraag {
    let mut z = Zoekvraag::nieuw(&v.q, op(d));
    z.bevoegd_gezag = v.bg.clone();
    z
}

fn eenheid(a: &tekst::Artikel) -> Eenheid {
    Eenheid { element: "Artikel".into(), eid: Some(a.wid.replace("__", "_")), wid: Some(a.wid.clone()), kop: a.kop.clone(), tekst: a.tekst() }
}

fn meta(w: &tekst::Werk) -> WerkMeta {
    WerkMeta { werk: w.naam.clone(), titel: Some(w.titel.clone()), bevoegd_gezag: Some(w.bg.clone()), soort: Some(w.soort.clone()), tam: false }
}

/// The work's time travel: known 20 days before each version applies; version 2 replaces 1.
fn tijdvakken(w: &tekst::Werk, met_v2: bool) -> Tijdvakken {
    let a1 = Anker { jwv: w.vanaf1, gv: w.vanaf1, versie: Some(0) };
    let mut t = Tijdvakken {
        versies: vec![w.expressie1.clone()],
        momenten: vec![Moment { ontvangen_op: w.vanaf1 - 20, bekend_op: w.vanaf1 - 20, ankers: vec![a1] }],
    };
    if met_v2 {
        t.versies.push(w.expressie2.clone());
        t.momenten.push(Moment {
            ontvangen_op: w.vanaf2 - 20,
            bekend_op: w.vanaf2 - 20,
            ankers: vec![Anker { jwv: w.vanaf2, gv: w.vanaf2, versie: Some(1) }, a1],
        });
    }
    t
}

fn versie2(w: &tekst::Werk) -> Versie {
    let eenheden = w.v2.iter().map(|x| match x {
        Ok(i) => eenheid(&w.v1[*i]),
        Err(a) => eenheid(a),
    });
    Versie { expressie: w.expressie2.clone(), eenheden: eenheden.collect() }
}

fn dir_grootte(p: &Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let m = e.metadata().unwrap();
            n += if m.is_dir() { dir_grootte(&e.path()) } else { m.len() };
        }
    }
    n
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("bench-zoeken")
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Opbouw {
    versies: u64,
    artikel_versies: u64,
    inhouden: u64,
    tekst_bytes: u64,
    fase1_s: f64,
    fase2_s: f64,
    afronden_s: f64,
    commits: u64,
    grootte: u64,
    loadavg_voor: String,
    loadavg_na: String,
}

/// Build (or reuse) the tantivy index; returns its directory and the build figures.
fn bouw_index(p: &Param) -> (PathBuf, Opbouw) {
    let dir = target_dir().join(format!("index-{}", p.sleutel()));
    let stats = dir.join("opbouw.json");
    if let Ok(s) = std::fs::read(&stats) {
        println!("tantivy: cached index {}", dir.display());
        return (dir.join("index"), serde_json::from_slice(&s).unwrap());
    }
    let _ = std::fs::remove_dir_all(&dir);
    let idx = dir.join("index");
    std::fs::create_dir_all(&idx).unwrap();
    let mut o = Opbouw { loadavg_voor: loadavg(), ..Opbouw::default() };
    let mut s = Schrijver::open(&idx).unwrap();
    let mut seq = 0u64;
    println!("tantivy: indexing {} regelingen × {} artikelen × 2 versions, {} works per commit …", p.regelingen, p.artikelen, p.batch);
    // Phase 1: the initial versions (as their deliveries arrive), phase 2: the amendments.
    for fase in [1, 2] {
        let mut t = Duration::ZERO;
        for start in (0..p.regelingen).step_by(p.batch) {
            let werken: Vec<tekst::Werk> = (start..(start + p.batch).min(p.regelingen)).map(|nr| tekst::werk(p.seed, nr, p.artikelen)).collect();
            let versies: Vec<Versie> = werken
                .iter()
                .map(|w| if fase == 1 { Versie { expressie: w.expressie1.clone(), eenheden: w.v1.iter().map(eenheid).collect() } } else { versie2(w) })
                .collect();
            for v in &versies {
                o.artikel_versies += v.eenheden.len() as u64;
                o.tekst_bytes += v.eenheden.iter().map(|e| e.tekst.len() + e.kop.len()).sum::<usize>() as u64;
            }
            if fase == 2 {
                o.inhouden += werken.iter().map(|w| w.v2.iter().filter(|x| x.is_err()).count() as u64).sum::<u64>();
            } else {
                o.inhouden += werken.iter().map(|w| w.v1.len() as u64).sum::<u64>();
            }
            let t0 = Instant::now();
            for (w, v) in werken.iter().zip(&versies) {
                let m = meta(w);
                s.schrijf_versie(&m, v).unwrap();
                s.schrijf_werk(&m, &tijdvakken(w, fase == 2)).unwrap();
            }
            seq += 1;
            s.commit(Watermerk { seq, hash: format!("{seq:064x}") }).unwrap();
            t += t0.elapsed();
            o.versies += versies.len() as u64;
            o.commits += 1;
        }
        println!("  phase {fase}: {:.1} s", t.as_secs_f64());
        if fase == 1 { o.fase1_s = t.as_secs_f64() } else { o.fase2_s = t.as_secs_f64() }
    }
    let t0 = Instant::now();
    drop(s); // waits for the merges
    o.afronden_s = t0.elapsed().as_secs_f64();
    o.grootte = dir_grootte(&idx);
    o.loadavg_na = loadavg();
    std::fs::write(&stats, serde_json::to_vec_pretty(&o).unwrap()).unwrap();
    (idx, o)
}

fn pct(l: &mut [f64], p: f64) -> f64 {
    l.sort_by(|a, b| a.total_cmp(b));
    if l.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * l.len() as f64).ceil() as usize;
    l[i.clamp(1, l.len()) - 1]
}

/// Latencies in ms per query kind (in the order of first appearance) and over all.
struct Tijden {
    per_soort: Vec<(&'static str, Vec<f64>)>,
    alle: Vec<f64>,
}

impl Tijden {
    fn new() -> Tijden {
        Tijden { per_soort: Vec::new(), alle: Vec::new() }
    }
    fn voeg_toe(&mut self, soort: &'static str, ms: f64) {
        match self.per_soort.iter_mut().find(|x| x.0 == soort) {
            Some(x) => x.1.push(ms),
            None => self.per_soort.push((soort, vec![ms])),
        }
        self.alle.push(ms);
    }
    fn get(&mut self, soort: &str) -> Option<&mut Vec<f64>> {
        if soort == "alle" {
            return Some(&mut self.alle);
        }
        self.per_soort.iter_mut().find(|x| x.0 == soort).map(|x| &mut x.1)
    }
}

/// CPU time of this process so far (all threads: the query's own and tantivy's search
/// threads), in ns, from `/proc/self/task/*/schedstat`; `None` where there is no such file.
fn cpu_ns() -> Option<u64> {
    let mut n = 0;
    for e in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let s = std::fs::read_to_string(e.path().join("schedstat")).ok()?;
        n += s.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(n)
}

/// Wall-clock latency and CPU time (all threads; what a query costs regardless of how busy the
/// machine is) per execution.
fn meet_tantivy(z: &Zoeker, vr: &[Vraag], inst: &[(usize, &str)], n: usize) -> (Tijden, Tijden) {
    // Warm-up: every instance twice.
    for _ in 0..2 {
        for &(i, d) in inst {
            z.zoek(&zoekvraag(&vr[i], d)).unwrap();
        }
    }
    let mut t = Tijden::new();
    let mut cpu = Tijden::new();
    let mut k = 0;
    while k < n {
        for &(i, d) in inst {
            let v = zoekvraag(&vr[i], d);
            let c0 = cpu_ns();
            let t0 = Instant::now();
            let r = z.zoek(&v).unwrap();
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            if let (Some(c0), Some(c1)) = (c0, cpu_ns()) {
                cpu.voeg_toe(vr[i].soort, (c1 - c0) as f64 / 1e6);
            }
            std::hint::black_box(r);
            t.voeg_toe(vr[i].soort, ms);
            k += 1;
        }
    }
    (t, cpu)
}

/// wIds are compared for the works with at most this many hits (all works: the counts).
const WIDS_TOT: usize = 10;

/// Every hit of a query: per work the number of hits and (when tantivy gave them all) the wIds.
type Alles = BTreeMap<String, (u64, Option<BTreeSet<String>>)>;

fn tantivy_alles(z: &Zoeker, v: &Vraag, d: &str) -> Alles {
    let mut uit = Alles::new();
    elke_pagina(z, v, d, |r| {
        for g in r.groepen {
            let wids: BTreeSet<String> = g.treffers.iter().filter_map(|t| t.wid.clone()).collect();
            let volledig = (wids.len() as u64 == g.aantal_treffers).then_some(wids);
            uit.insert(g.werk, (g.aantal_treffers, volledig));
        }
    });
    uit
}

/// Every non-empty result page of a query (100 groups a page, up to `WIDS_TOT` hits a group),
/// in order; returns how many there were.
fn elke_pagina(z: &Zoeker, v: &Vraag, d: &str, mut op: impl FnMut(Resultaten)) -> usize {
    for pagina in 1.. {
        let mut q = zoekvraag(v, d);
        q.pagina = pagina;
        q.per_pagina = 100;
        q.treffers_per_groep = WIDS_TOT;
        let r = z.zoek(&q).unwrap();
        if r.groepen.is_empty() {
            return pagina - 1;
        }
        op(r);
    }
    unreachable!("pages are counted until an empty one")
}

/// `BENCH_DUMP`: every instance's answer (see the module docs), one JSON line per instance.
fn dump(z: &Zoeker, vr: &[Vraag], inst: &[(usize, &str)], pad: &Path) {
    use sha2::{Digest, Sha256};
    let mut uit = String::new();
    for &(i, d) in inst {
        let v = &vr[i];
        let eerste = z.zoek(&zoekvraag(v, d)).unwrap();
        let mut h = Sha256::new();
        let paginas = elke_pagina(z, v, d, |r| h.update(serde_json::to_vec(&r).unwrap()));
        let regel = serde_json::json!({
            "q": v.q, "bevoegdGezag": v.bg, "geldigOp": d,
            "totaalTreffers": eerste.totaal_treffers, "totaalGroepen": eerste.totaal_groepen,
            "paginas": paginas, "allesSha256": hex::encode(h.finalize()), "eerstePagina": eerste,
        });
        uit.push_str(&regel.to_string());
        uit.push('\n');
    }
    std::fs::write(pad, uit).unwrap();
    println!("answers of {} instances written to {}", inst.len(), pad.display());
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

const PG_SCHEMA: &str = "
DROP TABLE IF EXISTS bench_meta, werk, versie, inhoud, versie_inhoud;
CREATE TABLE werk (id int PRIMARY KEY, naam text NOT NULL, titel text NOT NULL, bg text NOT NULL, soort text NOT NULL);
CREATE TABLE versie (id int PRIMARY KEY, werk int NOT NULL, expressie text NOT NULL, vanaf date NOT NULL, tot date);
CREATE TABLE inhoud (
  id int NOT NULL, werk int NOT NULL, wid text NOT NULL, kop text NOT NULL, tekst text NOT NULL,
  titel text NOT NULL, bg text NOT NULL,
  tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('dutch', titel), 'A') || setweight(to_tsvector('dutch', kop), 'B') || to_tsvector('dutch', tekst)
  ) STORED);
CREATE TABLE versie_inhoud (versie int NOT NULL, inhoud int NOT NULL);
CREATE TABLE bench_meta (sleutel text NOT NULL, opbouw text NOT NULL);
";

/// The page the timed query returns: 10 groups (works) ordered by their best hit, the 3 best
/// hits per group with a headline, the number of groups and hits, for the text in force on $2.
const PG_PAGINA: &str = "
WITH q AS (SELECT to_tsquery('dutch', $1::text) AS q),
v AS (SELECT id FROM versie WHERE vanaf <= $2::text::date AND (tot IS NULL OR tot > $2::text::date)),
h AS (SELECT i.id, i.werk, ts_rank_cd(i.tsv, q.q) AS r
      FROM q, inhoud i JOIN versie_inhoud vi ON vi.inhoud = i.id JOIN v ON v.id = vi.versie
      WHERE i.tsv @@ q.q AND ($3::text IS NULL OR i.bg = $3::text)),
g AS (SELECT werk, max(r) AS best, count(*) AS n FROM h GROUP BY werk),
p AS (SELECT werk, best, n, count(*) OVER () AS groepen, sum(n) OVER () AS treffers FROM g ORDER BY best DESC, werk LIMIT 10),
t AS (SELECT h.id, h.werk, row_number() OVER (PARTITION BY h.werk ORDER BY h.r DESC, h.id) AS rn FROM h JOIN p USING (werk))
SELECT w.naam, w.titel, p.best, p.n, p.groepen, p.treffers, i.wid, i.kop,
       ts_headline('dutch', i.tekst, q.q, 'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15')
FROM p JOIN werk w ON w.id = p.werk JOIN t ON t.werk = p.werk AND t.rn <= 3 JOIN inhoud i ON i.id = t.id, q
ORDER BY p.best DESC, p.werk, t.rn";

/// Every hit (work, wId) for the comparison.
const PG_ALLES: &str = "
SELECT w.naam, i.wid FROM inhoud i JOIN versie_inhoud vi ON vi.inhoud = i.id JOIN versie v ON v.id = vi.versie JOIN werk w ON w.id = i.werk
WHERE i.tsv @@ to_tsquery('dutch', $1::text) AND v.vanaf <= $2::text::date AND (v.tot IS NULL OR v.tot > $2::text::date)
  AND ($3::text IS NULL OR i.bg = $3::text)";

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct PgOpbouw {
    rijen_inhoud: u64,
    rijen_versie_inhoud: u64,
    copy_s: f64,
    gin_s: f64,
    overige_indexen_s: f64,
    analyze_s: f64,
    grootte_tabellen: u64,
    grootte_gin: u64,
    grootte_totaal: u64,
    loadavg_voor: String,
    loadavg_na: String,
}

fn copy_veld(o: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\t' => o.push_str("\\t"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            c => o.push(c),
        }
    }
}

fn copy_in(c: &mut postgres::Client, sql: &str, data: &str) {
    use std::io::Write;
    let mut w = c.copy_in(sql).unwrap();
    w.write_all(data.as_bytes()).unwrap();
    w.finish().unwrap();
}

fn laad_pg(c: &mut postgres::Client, p: &Param) -> PgOpbouw {
    let sleutel = p.sleutel();
    let bestaand = c
        .query_opt("SELECT opbouw FROM bench_meta WHERE sleutel = $1", &[&sleutel])
        .ok()
        .flatten()
        .map(|r| r.get::<_, String>(0));
    if let Some(s) = bestaand {
        println!("postgresql: corpus {sleutel} already loaded");
        return serde_json::from_str(&s).unwrap();
    }
    println!("postgresql: generating the COPY data …");
    let (mut werk, mut versie, mut inhoud, mut vi) = (String::new(), String::new(), String::new(), String::new());
    let mut o = PgOpbouw::default();
    let mut id = 0u64;
    for nr in 0..p.regelingen {
        let w = tekst::werk(p.seed, nr, p.artikelen);
        werk.push_str(&format!("{nr}\t"));
        copy_veld(&mut werk, &w.naam);
        werk.push('\t');
        copy_veld(&mut werk, &w.titel);
        werk.push_str(&format!("\t{}\t{}\n", w.bg, w.soort));
        let (v1, v2) = (2 * nr, 2 * nr + 1);
        versie.push_str(&format!("{v1}\t{nr}\t{}\t{}\t{}\n", w.expressie1, datum(w.vanaf1), datum(w.vanaf2)));
        versie.push_str(&format!("{v2}\t{nr}\t{}\t{}\t\\N\n", w.expressie2, datum(w.vanaf2)));
        let mut rij = |a: &tekst::Artikel, id: u64| {
            inhoud.push_str(&format!("{id}\t{nr}\t"));
            copy_veld(&mut inhoud, &a.wid);
            inhoud.push('\t');
            copy_veld(&mut inhoud, &a.kop);
            inhoud.push('\t');
            copy_veld(&mut inhoud, &a.tekst());
            inhoud.push('\t');
            copy_veld(&mut inhoud, &w.titel);
            inhoud.push_str(&format!("\t{}\n", w.bg));
        };
        let basis = id;
        for a in &w.v1 {
            rij(a, id);
            vi.push_str(&format!("{v1}\t{id}\n"));
            id += 1;
        }
        for x in &w.v2 {
            match x {
                Ok(i) => vi.push_str(&format!("{v2}\t{}\n", basis + *i as u64)),
                Err(a) => {
                    rij(a, id);
                    vi.push_str(&format!("{v2}\t{id}\n"));
                    id += 1;
                }
            }
            o.rijen_versie_inhoud += 1;
        }
        o.rijen_versie_inhoud += w.v1.len() as u64;
    }
    o.rijen_inhoud = id;
    println!("postgresql: loading {} contents, {} version→content rows …", o.rijen_inhoud, o.rijen_versie_inhoud);
    o.loadavg_voor = loadavg();
    c.batch_execute(PG_SCHEMA).unwrap();
    let t0 = Instant::now();
    copy_in(c, "COPY werk FROM STDIN", &werk);
    copy_in(c, "COPY versie FROM STDIN", &versie);
    copy_in(c, "COPY inhoud (id, werk, wid, kop, tekst, titel, bg) FROM STDIN", &inhoud);
    copy_in(c, "COPY versie_inhoud FROM STDIN", &vi);
    o.copy_s = t0.elapsed().as_secs_f64();
    println!("  COPY (tsvector computed): {:.1} s", o.copy_s);
    let t0 = Instant::now();
    c.batch_execute("SET maintenance_work_mem = '1GB'; CREATE INDEX inhoud_tsv ON inhoud USING gin (tsv)").unwrap();
    o.gin_s = t0.elapsed().as_secs_f64();
    println!("  GIN index: {:.1} s", o.gin_s);
    let t0 = Instant::now();
    c.batch_execute(
        "ALTER TABLE inhoud ADD PRIMARY KEY (id);
         ALTER TABLE versie_inhoud ADD PRIMARY KEY (inhoud, versie);
         CREATE INDEX versie_vanaf ON versie (vanaf, tot);
         CREATE INDEX inhoud_bg ON inhoud (bg);",
    )
    .unwrap();
    o.overige_indexen_s = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    c.batch_execute("VACUUM ANALYZE").unwrap();
    o.analyze_s = t0.elapsed().as_secs_f64();
    let r = c
        .query_one(
            "SELECT (pg_table_size('werk') + pg_table_size('versie') + pg_table_size('inhoud') + pg_table_size('versie_inhoud'))::int8,
                    pg_relation_size('inhoud_tsv')::int8,
                    (pg_total_relation_size('werk') + pg_total_relation_size('versie') + pg_total_relation_size('inhoud') + pg_total_relation_size('versie_inhoud'))::int8",
            &[],
        )
        .unwrap();
    o.grootte_tabellen = r.get::<_, i64>(0) as u64;
    o.grootte_gin = r.get::<_, i64>(1) as u64;
    o.grootte_totaal = r.get::<_, i64>(2) as u64;
    o.loadavg_na = loadavg();
    c.execute("INSERT INTO bench_meta VALUES ($1, $2)", &[&sleutel, &serde_json::to_string(&o).unwrap()]).unwrap();
    o
}

fn pg_pagina(c: &mut postgres::Client, v: &Vraag, d: &str) -> Vec<postgres::Row> {
    c.query(PG_PAGINA, &[&v.pg, &d, &v.bg]).unwrap()
}

fn meet_pg(c: &mut postgres::Client, vr: &[Vraag], inst: &[(usize, &str)], n: usize, budget: Duration) -> (Tijden, bool) {
    for &(i, d) in inst {
        pg_pagina(c, &vr[i], d);
    }
    let mut t = Tijden::new();
    let start = Instant::now();
    let mut k = 0;
    let mut afgekapt = false;
    while k < n {
        if start.elapsed() > budget {
            afgekapt = true;
            break;
        }
        for &(i, d) in inst {
            let t0 = Instant::now();
            let r = pg_pagina(c, &vr[i], d);
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            std::hint::black_box(r);
            t.voeg_toe(vr[i].soort, ms);
            k += 1;
        }
    }
    (t, afgekapt)
}

fn pg_alles(c: &mut postgres::Client, v: &Vraag, d: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut uit: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in c.query(PG_ALLES, &[&v.pg, &d, &v.bg]).unwrap() {
        uit.entry(r.get(0)).or_default().insert(r.get(1));
    }
    uit
}

/// Examples of hits only one system finds (at most 3 per side), with the text.
fn voorbeelden(z: &Zoeker, c: &mut postgres::Client, v: &Vraag, d: &str, a: &Alles, b: &BTreeMap<String, BTreeSet<String>>) -> String {
    let mut uit = format!("\ndifferences for `{}` on {d}:", v.q);
    let mut alleen_t = Vec::new();
    let mut alleen_p = Vec::new();
    let verschilt = |w: &String| match (a.get(w), b.get(w)) {
        (Some((n, wids)), Some(s)) => *n != s.len() as u64 || wids.as_ref().is_some_and(|x| x != s),
        _ => true,
    };
    for w in a.keys().chain(b.keys()).collect::<BTreeSet<_>>().into_iter().filter(|w| verschilt(w)).take(20) {
        let mut q = zoekvraag(v, d);
        q.werk = Some(w.clone());
        q.treffers_per_groep = 50;
        let r = z.zoek(&q).unwrap();
        let tw: BTreeMap<String, String> =
            r.groepen.iter().flat_map(|g| g.treffers.iter().map(|t| (t.wid.clone().unwrap_or_default(), t.fragment.clone()))).collect();
        let leeg = BTreeSet::new();
        let pw = b.get(w).unwrap_or(&leeg);
        // Only when tantivy listed every hit of the work can a missing wId be told apart.
        let alle_t = r.groepen.iter().all(|g| g.treffers.len() as u64 == g.aantal_treffers);
        for (wid, f) in &tw {
            if !pw.contains(wid) && alleen_t.len() < 3 {
                alleen_t.push(format!("  only tantivy: {w} {wid}: {f}"));
            }
        }
        for wid in pw {
            if alle_t && !tw.contains_key(wid) && alleen_p.len() < 3 {
                let r = c
                    .query_one(
                        "SELECT ts_headline('dutch', i.tekst, to_tsquery('dutch', $1::text)), i.tsv::text FROM inhoud i JOIN werk w ON w.id = i.werk
                         JOIN versie_inhoud vi ON vi.inhoud = i.id JOIN versie v ON v.id = vi.versie
                         WHERE w.naam = $2 AND i.wid = $3 AND v.vanaf <= $4::text::date AND (v.tot IS NULL OR v.tot > $4::text::date)",
                        &[&v.pg, &w, &wid, &d],
                    )
                    .unwrap();
                alleen_p.push(format!("  only PostgreSQL: {w} {wid}: {}", r.get::<_, String>(0)));
            }
        }
    }
    for l in alleen_t.into_iter().chain(alleen_p) {
        uit.push('\n');
        uit.push_str(&l);
    }
    uit
}

// ---------------------------------------------------------------------------------------------

fn mb(b: u64) -> String {
    format!("{:.0} MB", b as f64 / 1e6)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let p = Param {
        regelingen: env_usize("BENCH_REGELINGEN", 2000),
        artikelen: env_usize("BENCH_ARTIKELEN", 250),
        queries: env_usize("BENCH_QUERIES", 1000),
        pg_queries: env_usize("BENCH_PG_QUERIES", 300),
        pg_seconden: env_usize("BENCH_PG_SECONDS", 600) as u64,
        batch: env_usize("BENCH_BATCH", 20).max(1),
        seed: env_usize("BENCH_SEED", 7) as u64,
        tantivy: only != "pg",
        pg: if only == "tantivy" { None } else { std::env::var("BENCH_PG").ok().filter(|s| !s.is_empty()) },
    };
    println!("# search benchmark {} (loadavg {})", p.sleutel(), loadavg());
    let vr = vragen();
    let inst = instanties(vr.len(), p.seed);
    println!("{} queries × 2 dates = {} instances; dates {:?}; beschikbaarOp {BESCHIKBAAR_OP}", vr.len(), inst.len(), DATUMS);

    let mut tantivy: Option<(Zoeker, Tijden)> = None;
    let mut tantivy_cpu: Option<Tijden> = None;
    if p.tantivy {
        let (idx, o) = bouw_index(&p);
        let s = o.fase1_s + o.fase2_s + o.afronden_s;
        println!("\n## tantivy indexing");
        println!("versions: {}, article-versions: {}, distinct contents (indexed units): {}", o.versies, o.artikel_versies, o.inhouden);
        println!("text (kop + tekst) over all article-versions: {}", mb(o.tekst_bytes));
        println!(
            "phase 1 (initial versions): {:.1} s, phase 2 (amendments): {:.1} s, final merges: {:.1} s, {} commits; total {:.1} s",
            o.fase1_s, o.fase2_s, o.afronden_s, o.commits, s
        );
        println!(
            "throughput: {:.0} article-versions/s, {:.0} distinct units/s; index size {} on disk; loadavg {} → {}",
            o.artikel_versies as f64 / s,
            o.inhouden as f64 / s,
            mb(o.grootte),
            o.loadavg_voor,
            o.loadavg_na
        );
        let t0 = Instant::now();
        let z = Zoeker::open(&idx).unwrap();
        z.zoek(&zoekvraag(&vr[0], DATUMS[0])).unwrap();
        println!("open + first query (loads the works' time travel and version lists): {:.0} ms", t0.elapsed().as_secs_f64() * 1e3);
        let la = loadavg();
        let t0 = Instant::now();
        let (t, cpu) = meet_tantivy(&z, &vr, &inst, p.queries);
        tantivy_cpu = Some(cpu);
        println!(
            "timed: {} executions in {:.1} s (loadavg {la} → {})",
            t.alle.len(),
            t0.elapsed().as_secs_f64(),
            loadavg()
        );
        // What every query pays before it searches: Zoeker::watermerk() does only the per-query
        // state lookup (reader reload, then the cached works/versions when the generation is
        // unchanged). No commit happens in between, so this should be a cache hit.
        let mut l: Vec<f64> = (0..100)
            .map(|_| {
                let t0 = Instant::now();
                std::hint::black_box(z.watermerk().unwrap());
                t0.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        println!(
            "Zoeker::watermerk() alone (the per-query state lookup, no search), 100 calls: p50 {:.2} ms, p99 {:.2} ms",
            pct(&mut l, 50.0),
            pct(&mut l, 99.0)
        );
        if let Some(pad) = std::env::var_os("BENCH_DUMP") {
            dump(&z, &vr, &inst, Path::new(&pad));
        }
        tantivy = Some((z, t));
    }

    let mut pg: Option<(postgres::Client, Tijden)> = None;
    if let Some(conn) = &p.pg {
        let mut c = postgres::Client::connect(conn, postgres::NoTls).expect("connect to PostgreSQL (BENCH_PG)");
        let v: String = c.query_one("SELECT version()", &[]).unwrap().get(0);
        println!("\n## PostgreSQL ({v})");
        let o = laad_pg(&mut c, &p);
        println!(
            "contents: {}, version→content rows: {}; COPY incl. to_tsvector: {:.1} s, GIN: {:.1} s, keys/other indexes: {:.1} s, VACUUM ANALYZE: {:.1} s; total {:.1} s",
            o.rijen_inhoud,
            o.rijen_versie_inhoud,
            o.copy_s,
            o.gin_s,
            o.overige_indexen_s,
            o.analyze_s,
            o.copy_s + o.gin_s + o.overige_indexen_s + o.analyze_s
        );
        println!(
            "size: tables {}, GIN {}, total {}; loadavg {} → {}",
            mb(o.grootte_tabellen),
            mb(o.grootte_gin),
            mb(o.grootte_totaal),
            o.loadavg_voor,
            o.loadavg_na
        );
        let la = loadavg();
        let t0 = Instant::now();
        let (t, afgekapt) = meet_pg(&mut c, &vr, &inst, p.pg_queries, Duration::from_secs(p.pg_seconden));
        println!(
            "timed: {} executions in {:.1} s{} (loadavg {la} → {})",
            t.alle.len(),
            t0.elapsed().as_secs_f64(),
            if afgekapt { " (stopped by BENCH_PG_SECONDS)" } else { "" },
            loadavg()
        );
        pg = Some((c, t));
    }

    // Latency table.
    println!("\n## latency (ms), first page: 10 groups × 3 hits with snippets/headlines");
    println!("| query kind | tantivy p50 | p95 | p99 | PostgreSQL p50 | p95 | p99 | ratio p50 | ratio p99 |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut soorten: Vec<&str> = Vec::new();
    for v in &vr {
        if !soorten.contains(&v.soort) {
            soorten.push(v.soort);
        }
    }
    soorten.push("alle");
    let mut tt = tantivy.as_mut().map(|x| &mut x.1);
    let mut pt = pg.as_mut().map(|x| &mut x.1);
    for s in soorten {
        let a = tt.as_mut().and_then(|t| t.get(s)).map(|l| (pct(l, 50.0), pct(l, 95.0), pct(l, 99.0), l.len()));
        let b = pt.as_mut().and_then(|t| t.get(s)).map(|l| (pct(l, 50.0), pct(l, 95.0), pct(l, 99.0), l.len()));
        let f = |x: Option<(f64, f64, f64, usize)>| match x {
            Some((p50, p95, p99, _)) => format!("{p50:.2} | {p95:.2} | {p99:.2}"),
            None => "– | – | –".into(),
        };
        let r = match (a, b) {
            (Some(a), Some(b)) => format!("{:.1}× | {:.1}×", b.0 / a.0, b.2 / a.2),
            _ => "– | –".into(),
        };
        let n = format!(" (n={}/{})", a.map_or(0, |x| x.3), b.map_or(0, |x| x.3));
        let naam = if s == "alle" { "**all**".to_string() } else { s.to_string() };
        println!("| {naam}{n} | {} | {} | {r} |", f(a), f(b));
    }

    if let Some(cpu) = tantivy_cpu.as_mut().filter(|c| !c.alle.is_empty()) {
        println!("\n## tantivy CPU time per query (ms, all threads), the same executions");
        println!("| query kind | p50 | p95 | p99 |");
        println!("|---|---|---|---|");
        let mut namen: Vec<&'static str> = cpu.per_soort.iter().map(|x| x.0).collect();
        namen.push("alle");
        for s in namen {
            let l = cpu.get(s).unwrap();
            let naam = if s == "alle" { "**all**".to_string() } else { s.to_string() };
            println!("| {naam} | {:.2} | {:.2} | {:.2} |", pct(l, 50.0), pct(l, 95.0), pct(l, 99.0));
        }
    }

    // Per query instance: hits and agreement.
    if let (Some((z, _)), Some((c, _))) = (&tantivy, &mut pg) {
        println!("\n## same result sets (all hits of each query on its date, not only the first page)");
        println!("| query | geldigOp | tantivy works / hits | PostgreSQL works / hits | same works | same counts per work | same wIds (works with ≤ 10 hits) | first page: same works |");
        println!("|---|---|---|---|---|---|---|---|");
        let (mut gelijk, mut totaal) = (0, 0);
        let mut verschillen: Vec<String> = Vec::new();
        for &(i, d) in &inst {
            let v = &vr[i];
            let a = tantivy_alles(z, v, d);
            let b = pg_alles(c, v, d);
            let th: u64 = a.values().map(|x| x.0).sum();
            let ph: usize = b.values().map(|x| x.len()).sum();
            let werken_a: BTreeSet<&String> = a.keys().collect();
            let werken_b: BTreeSet<&String> = b.keys().collect();
            let zelfde_werken = werken_a == werken_b;
            let verschil_telling = a.iter().filter(|(w, x)| b.get(*w).map(|s| s.len() as u64) != Some(x.0)).count();
            let (mut wid_ok, mut wid_nok) = (0, 0);
            for (w, (_, wids)) in &a {
                if let (Some(wids), Some(s)) = (wids, b.get(w)) {
                    if wids == s { wid_ok += 1 } else { wid_nok += 1 }
                }
            }
            // First page: the 10 groups each returns.
            let pa: BTreeSet<String> = z.zoek(&zoekvraag(v, d)).unwrap().groepen.into_iter().map(|g| g.werk).collect();
            let pb: BTreeSet<String> = pg_pagina(c, v, d).into_iter().map(|r| r.get::<_, String>(0)).collect();
            let pagina = pa.intersection(&pb).count();
            let ok = zelfde_werken && verschil_telling == 0 && wid_nok == 0;
            if !ok {
                verschillen.push(voorbeelden(z, c, v, d, &a, &b));
            }
            gelijk += ok as usize;
            totaal += 1;
            let q = v.q.replace('|', "\\|") + &v.bg.as_ref().map(|b| format!(" (bevoegd gezag {b})")).unwrap_or_default();
            println!(
                "| `{q}` | {d} | {} / {th} | {} / {ph} | {} | {} | {} | {pagina}/{} |",
                a.len(),
                b.len(),
                if zelfde_werken { "yes".to_string() } else { format!("**no** ({} only tantivy, {} only PG)", werken_a.difference(&werken_b).count(), werken_b.difference(&werken_a).count()) },
                if verschil_telling == 0 { "yes".to_string() } else { format!("**no** ({verschil_telling} works differ)") },
                if wid_nok == 0 { format!("yes ({wid_ok} works checked)") } else { format!("**no** ({wid_nok} of {} works)", wid_ok + wid_nok) },
                pa.len().max(pb.len())
            );
        }
        println!("\nagreement: {gelijk} of {totaal} query instances return exactly the same hits");
        for x in verschillen {
            println!("{x}");
        }
    }
    println!("\nloadavg at the end: {}", loadavg());
}
