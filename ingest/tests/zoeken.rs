//! The search index fed by the pipeline: for random dates the articles that hit are exactly the
//! articles of the versions the time-travel engine gives (`Lezer::los_op`), on real ingested
//! deliveries; the index is derived data (caught up, rebuilt, never duplicated).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ingest::pipeline::{Config, Uitkomst, ingest_many};
use ingest::tijdreis::{Lezer, Oplossing};
use ingest::zoek;
use search::{Tijdbereik, Zoeker, Zoekvraag};
use store::Store;
use timetravel::Vraag;

const HAVENKWARTIER: &str = "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier";
const ZUIDKADE: &str = "/akn/nl/act/gm9901/2027/OmgevingsplanZuidkade";

fn cfg(d: &str) -> Config {
    Config::new(NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap())
}

fn ingest_alle(store: &Store, paden: &[&PathBuf], cfg: &Config) {
    for r in ingest_many(store, paden, cfg, |_| {}).unwrap() {
        assert!(matches!(r.uitkomst, Uitkomst::Gepubliceerd | Uitkomst::Afgebroken), "{}: {:?}", r.bron, r.meldingen);
    }
}

/// Copy a fixture delivery into `doel`, replacing text in every file.
fn kopie(naam: &str, doel: &Path, vervang: &[(&str, &str)]) -> PathBuf {
    let bron = fixtures::fixtures_dir().join("deliveries").join(naam);
    std::fs::create_dir_all(doel).unwrap();
    for e in std::fs::read_dir(&bron).unwrap() {
        let e = e.unwrap();
        let mut tekst = std::fs::read_to_string(e.path()).unwrap();
        for (a, b) in vervang {
            tekst = tekst.replace(a, b);
        }
        std::fs::write(doel.join(e.file_name()), tekst).unwrap();
    }
    doel.to_path_buf()
}

/// The initial regeling and two wijzigingsbesluiten on its first version for different doelen,
/// in force on 2027-04-22 and 2027-05-06: onvolledig from 2027-05-06 (samenloop).
fn parallel(dir: &Path) -> Vec<PathBuf> {
    let a = kopie("01-initieel-compact-gio", &dir.join("a"), &[]);
    let b = kopie("06-wijzigingsbesluit", &dir.join("b"), &[]);
    let c = kopie(
        "06-wijzigingsbesluit",
        &dir.join("c"),
        &[
            ("rbo-2027-0006-wijziging-omgevingsplan-havenkwartier", "rbo-2027-0007-wijziging-noord"),
            ("WijzigingOmgevingsplanHavenkwartierKade", "WijzigingOmgevingsplanHavenkwartierNoord"),
            ("nld@2027-04-01;2", "nld@2027-04-01;3"),
            ("<datum>2027-04-22</datum>", "<datum>2027-05-06</datum>"),
        ],
    );
    vec![a, b, c]
}

fn keten() -> Vec<PathBuf> {
    fixtures::chain_steps(fixtures::HAVENKWARTIER).unwrap().into_iter().map(|s| s.dir).collect()
}

/// A small deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn volgende(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn datum(&mut self, van: &str, dagen: u64) -> String {
        let d = NaiveDate::parse_from_str(van, "%Y-%m-%d").unwrap() + chrono::Days::new(self.volgende() % dagen);
        d.format("%Y-%m-%d").to_string()
    }
}

type Eenheid = (String, String, String);
/// Units with their lowercase words, and (work, version) pairs.
type EngineAntwoord = (Vec<(Eenheid, String)>, BTreeSet<(String, String)>);

/// The units (work, wId, eId) of the version the engine gives for `vraag` for every work, and
/// each work's version.
fn volgens_engine(store: &Store, werken: &[&str], vraag: &Vraag) -> EngineAntwoord {
    let mut l = Lezer::open(store).unwrap();
    let mut eenheden = Vec::new();
    let mut versies = BTreeSet::new();
    for w in werken {
        if let Oplossing::Versie { expressie, .. } = l.los_op(w, vraag).unwrap() {
            let o = ingest::weergave::lees(store, &expressie).unwrap();
            for e in zoek::eenheden(o.tekst.root().unwrap()) {
                let woorden = format!("{} {}", e.kop, e.tekst).to_lowercase();
                eenheden.push(((w.to_string(), e.wid.unwrap_or_default(), e.eid.unwrap_or_default()), woorden));
            }
            versies.insert((w.to_string(), expressie));
        }
    }
    (eenheden, versies)
}

fn bevat_woord(tekst: &str, woord: &str) -> bool {
    tekst.split(|c: char| !c.is_alphanumeric()).any(|t| t == woord)
}

/// Hits (work, wId, eId) and the version per group for a query at a moment.
fn volgens_index(z: &Zoeker, q: &str, tijd: Tijdbereik) -> (BTreeSet<Eenheid>, BTreeSet<(String, String)>) {
    let mut v = Zoekvraag::nieuw(q, tijd);
    v.per_pagina = 100;
    v.treffers_per_groep = 50;
    let r = z.zoek(&v).unwrap();
    assert!(r.totaal_groepen <= 100);
    let mut hits = BTreeSet::new();
    let mut versies = BTreeSet::new();
    for g in &r.groepen {
        assert!(g.aantal_treffers <= 50, "raise treffers_per_groep");
        versies.insert((g.werk.clone(), g.expressie.clone().unwrap()));
        for t in &g.treffers {
            assert!(hits.insert((g.werk.clone(), t.wid.clone().unwrap_or_default(), t.eid.clone().unwrap_or_default())), "duplicate hit");
        }
    }
    (hits, versies)
}

/// For `n` random questions: the words `artikel` and one word of a random unit of the engine's
/// answer, on the exact form; hits must be exactly the engine's units containing the word.
fn consistent(store: &Store, werken: &[&str], seed: u64, n: usize) -> usize {
    let z = Zoeker::open(&zoek::map(store)).unwrap();
    let mut rng = Rng(seed);
    let mut vergeleken = 0;
    for _ in 0..n {
        let geldig = rng.datum("2027-01-01", 365);
        let in_werking = if rng.volgende().is_multiple_of(3) { rng.datum("2027-01-01", 365) } else { geldig.clone() };
        let beschikbaar = if rng.volgende().is_multiple_of(2) { "2027-12-31".to_string() } else { rng.datum("2027-01-01", 365) };
        let vraag = Vraag {
            in_werking_op: in_werking.clone(),
            geldig_op: geldig.clone(),
            ontvangen_op: beschikbaar.clone(),
            bekend_op: beschikbaar.clone(),
        };
        let (eenheden, versies) = volgens_engine(store, werken, &vraag);
        let mut woorden = vec!["artikel".to_string()];
        if !eenheden.is_empty() {
            let (_, t) = &eenheden[(rng.volgende() % eenheden.len() as u64) as usize];
            let ws: Vec<&str> = t.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() > 3).collect();
            if !ws.is_empty() {
                woorden.push(ws[(rng.volgende() % ws.len() as u64) as usize].to_string());
            }
        }
        for woord in woorden {
            let verwacht: BTreeSet<Eenheid> = eenheden.iter().filter(|(_, t)| bevat_woord(t, &woord)).map(|(e, _)| e.clone()).collect();
            let tijd = Tijdbereik::Op { geldig_op: geldig.clone(), in_werking_op: in_werking.clone(), beschikbaar_op: beschikbaar.clone() };
            let (hits, groepversies) = volgens_index(&z, &format!("exact:{woord}"), tijd);
            assert_eq!(hits, verwacht, "'{woord}' geldigOp {geldig} inWerkingOp {in_werking} beschikbaarOp {beschikbaar}");
            assert!(groepversies.is_subset(&versies), "{groepversies:?} ⊄ {versies:?}");
            vergeleken += 1;
        }
    }
    vergeleken
}

#[test]
fn hits_at_random_dates_are_the_articles_of_the_engines_versions() {
    let tmp = tempfile::tempdir().unwrap();
    // The chain: 21 amendments and an intrekking, one version a week.
    let s = Store::open(&tmp.path().join("keten")).unwrap();
    ingest_alle(&s, &keten().iter().collect::<Vec<_>>(), &cfg("2027-01-04"));
    assert!(consistent(&s, &[ZUIDKADE], 7, 60) >= 60);
    // Samenloop: onvolledig toestanden have no text.
    let s = Store::open(&tmp.path().join("parallel")).unwrap();
    let p = parallel(tmp.path());
    ingest_alle(&s, &p.iter().collect::<Vec<_>>(), &cfg("2027-03-01"));
    assert!(consistent(&s, &[HAVENKWARTIER], 11, 40) >= 40);
    let z = Zoeker::open(&zoek::map(&s)).unwrap();
    let op = |d: &str| Tijdbereik::Op { geldig_op: d.into(), in_werking_op: d.into(), beschikbaar_op: "2027-12-31".into() };
    assert!(!volgens_index(&z, "exact:artikel", op("2027-04-25")).0.is_empty());
    assert!(volgens_index(&z, "exact:artikel", op("2027-05-10")).0.is_empty(), "onvolledig: no text");
}

#[test]
fn historic_search_groups_versions_per_article_with_their_periods() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path()).unwrap();
    ingest_alle(&s, &keten().iter().collect::<Vec<_>>(), &cfg("2027-01-04"));
    let z = Zoeker::open(&zoek::map(&s)).unwrap();
    let mut v = Zoekvraag::nieuw("artikel", Tijdbereik::Historisch { beschikbaar_op: "2027-12-31".into() });
    v.treffers_per_groep = 50;
    let r = z.zoek(&v).unwrap();
    assert_eq!(r.groepen.len(), 1);
    let g = &r.groepen[0];
    let mut wids = BTreeSet::new();
    let mut lezer = Lezer::open(&s).unwrap();
    for t in &g.treffers {
        assert!(wids.insert(t.wid.clone()), "one hit per article");
        assert!(!t.expressies.is_empty());
        // Each period's version is the engine's answer on its first day, and contains the article.
        for p in &t.perioden {
            match lezer.los_op(ZUIDKADE, &Vraag::op(&p.vanaf, "2027-12-31")).unwrap() {
                Oplossing::Versie { expressie, .. } => assert_eq!(expressie, p.expressie),
                o => panic!("{o:?}"),
            }
            assert!(t.expressies.contains(&p.expressie));
        }
    }
    // An article unchanged over the whole chain: one period per version it was in, adjacent.
    let lang = g.treffers.iter().max_by_key(|t| t.expressies.len()).unwrap();
    assert!(lang.expressies.len() > 5, "{lang:?}");
    for w in lang.perioden.windows(2) {
        assert_eq!(w[0].tot.as_deref(), Some(w[1].vanaf.as_str()));
    }
}

#[test]
fn the_index_is_derived_data_caught_up_rebuilt_and_never_duplicated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let paden = keten();
    let q = |s: &Store| {
        let z = Zoeker::open(&zoek::map(s)).unwrap();
        let r = z.zoek(&Zoekvraag::nieuw("artikel", Tijdbereik::Historisch { beschikbaar_op: "2027-12-31".into() })).unwrap();
        // Everything but the scores (BM25 statistics count deleted documents until a merge).
        let mut t: Vec<_> =
            r.groepen.iter().flat_map(|g| g.treffers.iter().map(|t| (t.wid.clone(), t.expressies.clone(), t.perioden.clone()))).collect();
        t.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        (r.totaal_treffers, t, z.watermerk().unwrap().unwrap().seq)
    };
    let verwacht = {
        let s = Store::open(&dir).unwrap();
        // Half, then the rest: the second batch adds only the changed articles.
        ingest_alle(&s, &paden[..10].iter().collect::<Vec<_>>(), &cfg("2027-01-04"));
        let (n1, _, _) = q(&s);
        ingest_alle(&s, &paden[10..].iter().collect::<Vec<_>>(), &cfg("2027-01-04"));
        let v = q(&s);
        assert!(v.0 > n1 && v.0 < 2 * n1, "contents grow with changes, not versions: {n1} → {}", v.0);
        assert_eq!(v.2, s.last_seq());
        v
    };
    let s = Store::open(&dir).unwrap();
    // Catch-up with nothing to do, and a rebuild, give the same.
    assert_eq!(zoek::bijwerken(&s).unwrap(), zoek::Bijgewerkt::default());
    assert_eq!(q(&s), verwacht);
    let b = zoek::herbouw(&s).unwrap();
    assert_eq!(b.records, s.last_seq());
    assert_eq!(q(&s), verwacht);
    // Lost entirely: caught up from the ledger.
    std::fs::remove_dir_all(zoek::map(&s)).unwrap();
    assert_eq!(zoek::bijwerken(&s).unwrap().versies, 21);
    assert_eq!(q(&s), verwacht);
    // One delivery per run: the same index.
    let s2 = Store::open(&tmp.path().join("los")).unwrap();
    for p in &paden {
        ingest_alle(&s2, &[p], &cfg("2027-01-04"));
    }
    let (n, treffers, _) = q(&s2);
    assert_eq!((n, treffers), (verwacht.0, verwacht.1));
}

#[test]
fn a_cancelled_publication_is_not_found() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path()).unwrap();
    let d = |n: &str| fixtures::fixtures_dir().join("deliveries").join(n);
    ingest_alle(&s, &[&d("02-initieel-vrijetekst")], &cfg("2027-03-01"));
    let z = Zoeker::open(&zoek::map(&s)).unwrap();
    let hist = || Zoekvraag::nieuw("klimaatadaptatie", Tijdbereik::Historisch { beschikbaar_op: "2027-12-31".into() });
    assert!(z.zoek(&hist()).unwrap().totaal_treffers > 0);
    ingest_alle(&s, &[&d("04-afbreken")], &cfg("2027-03-02"));
    assert_eq!(z.zoek(&hist()).unwrap().totaal_treffers, 0);
}

/// The units streamed from the store (what the pipeline indexes) are exactly the units of the
/// parsed text, for every regeling version of the bundled deliveries, the havenkwartier chain
/// and a generated chain, and for hand-made texts with every case of the unit rules.
#[test]
fn streamed_units_are_the_units_of_the_parsed_text() {
    let tmp = tempfile::tempdir().unwrap();
    let keten_gen = fixtures::generate_chain(&fixtures::GenSpec { artikelen: 40, id_prefix: "units".into(), ..Default::default() }, 6);
    let reeksen = [
        (fixtures::bundled_deliveries(), "2027-03-01"),
        (keten(), "2027-01-04"),
        (keten_gen.write_dirs(&tmp.path().join("gen")).unwrap(), "2027-03-01"),
    ];
    let mut n = 0;
    for (i, (paden, vandaag)) in reeksen.iter().enumerate() {
        let store = Store::open(&tmp.path().join(format!("data{i}"))).unwrap();
        for r in ingest_many(&store, paden, &cfg(vandaag), |_| {}).unwrap() {
            assert!(r.uitkomst.accepted(), "{}: {:?}", r.bron, r.meldingen);
        }
        for e in store.index().expressions().unwrap() {
            let Some(root) = e.entry.tekst else { continue };
            let o = ingest::weergave::lees(&store, &e.entry.expression).unwrap();
            let verwacht = zoek::eenheden(o.tekst.root().unwrap());
            assert_eq!(zoek::eenheden_van(&store, &root).unwrap(), verwacht, "{}", e.entry.expression);
            n += 1;
        }
    }
    assert!(n >= 30, "only {n} versions with text");

    let ns = "https://standaarden.overheid.nl/stop/imop/tekst/";
    for xml in [
        format!(r#"<RegelingCompact xmlns="{ns}"><RegelingOpschrift eId="o" wId="o"><Al>Titel &amp; <i>cursief</i>deel</Al></RegelingOpschrift><Lichaam eId="body" wId="b"><Kop><Label>L</Label> <Nummer>1</Nummer><Opschrift>Op<b>schrift</b></Opschrift></Kop><Kop><Nummer>2</Nummer></Kop>Losse tekst<Al>eigen <br/>tekst</Al><Hoofdstuk eId="h1"><Kop>direct</Kop><Artikel eId="a1" wId="a1"><Kop><Nummer>1</Nummer></Kop>voor<Lid><LidNummer>1.</LidNummer><Inhoud><Al>een<br/>twee <![CDATA[drie < vier]]>&#x41;&#66;</Al></Inhoud></Lid>na<!-- c --><?pi x?></Artikel><Artikel/></Hoofdstuk><Divisie><Divisietekst eId="d"><Inhoud><Al>x<sub>2</sub>y</Al></Inhoud></Divisietekst></Divisie><Hoofdstuk/><Tussen><Artikel eId="diep"><Al>genest</Al></Artikel></Tussen></Lichaam><Bijlage wId="bl"><Kop><Opschrift>   </Opschrift>maar tekst</Kop><Al>bijlage</Al></Bijlage><Sluiting><Al>slot</Al></Sluiting></RegelingCompact>"#),
        format!(r#"<Artikel xmlns="{ns}" eId="r" wId="r"><Kop/><Al>alleen</Al></Artikel>"#),
        format!(r#"<RegelingTijdelijkdeel xmlns="{ns}"/>"#),
        format!(r#"<s:Regeling xmlns:s="{ns}" wId="root"><s:Al>wortel</s:Al><s:Lichaam><s:Artikel><s:Kop><s:Nummer>9</s:Nummer></s:Kop><s:Al>p</s:Al></s:Artikel></s:Lichaam></s:Regeling>"#),
    ] {
        let t = stop::tekst::Tekst::parse(&xml).unwrap();
        let verwacht = zoek::eenheden(t.root().unwrap());
        assert_eq!(zoek::eenheden_uit(xml.as_bytes()).unwrap(), verwacht, "{xml}");
    }
}
