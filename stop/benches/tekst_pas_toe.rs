//! Benchmark: one single-article Vervang (with renvooi) applied to a 10,000-article regeling.
//! Target: ≤ 5 ms per amendment.
//!
//! Two regelingen: the fixtures generator's (articles in hoofdstukken/afdelingen of 5–25) and a
//! flat one (10,000 articles directly in the Lichaam, the worst case for copy-on-write: the
//! Lichaam's child list is copied). Reported separately: reading the regeling (once per
//! delivery), building the wId index (once per version, on first use) and the apply itself.
//!
//! `cargo bench -p stop --bench tekst_pas_toe [-- ARTIKELEN]`

use std::hint::black_box;
use std::time::{Duration, Instant};

use fixtures::{GenSpec, generate_delivery};
use stop::ns::TEKST;
use stop::tekst::{Tekst, pas_toe};
use stop::xml::Document;

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn stats(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    let mean = v.iter().sum::<Duration>() / v.len() as u32;
    (v[v.len() / 2], mean, v[v.len() * 99 / 100])
}

/// A Vervang of the article with this wId: its current text with one NieuweTekst added.
fn mutatie(was: &Tekst, wid: &str) -> Tekst {
    let art = was.by_wid(wid).expect("article").to_xml();
    let i = art.find("</Al>").expect("an Al");
    let payload = format!("{}<NieuweTekst> Dit geldt ook op zon- en feestdagen.</NieuweTekst>{}", &art[..i], &art[i..]);
    let xml = format!(
        r#"<RegelingMutatie xmlns="{TEKST}" componentnaam="r" was="/akn/nl/act/x/2027/r/nld@1" wordt="/akn/nl/act/x/2027/r/nld@2"><Vervang wat="{wid}"><Nummer>A</Nummer><Wat>Het artikel wordt gewijzigd.</Wat>{payload}</Vervang></RegelingMutatie>"#
    );
    Tekst::parse(&xml).unwrap()
}

fn run(label: &str, xml: &str, select: impl Fn(&Document) -> stop::xml::NodeId) {
    let t0 = Instant::now();
    let doc = Document::parse(xml.as_bytes().to_vec()).unwrap();
    let parse = t0.elapsed();
    let node = select(&doc);
    let t0 = Instant::now();
    let was = Tekst::uit_document(&doc, node);
    let lezen = t0.elapsed();
    drop(doc);

    let t1 = Instant::now();
    was.indexeer();
    let index = t1.elapsed();
    let wids: Vec<String> = was.wids().map(str::to_string).collect();
    let mut artikelen: Vec<&String> = wids.iter().filter(|w| w.contains("__art_") && !w.contains("__para_") && !w.contains("__list") && !w.contains("__table") && !w.contains("__ref")).collect();
    artikelen.sort();
    let n_art = artikelen.len();
    // Articles spread over the regeling; each iteration amends one of them.
    let doelen: Vec<&String> = (0..16).map(|k| artikelen[(k * 7919 + n_art / 2) % n_art]).collect();
    let mutaties: Vec<Tekst> = doelen.iter().map(|w| mutatie(&was, w)).collect();

    // Warm-up and a correctness check.
    for m in &mutaties {
        let r = pas_toe(&was, m, "b.xml").unwrap_or_else(|e| panic!("{e:#?}"));
        assert_eq!(r.gewijzigd.len(), 1 + r.acties[0].gewijzigd.len() - 1);
    }
    let mut times = Vec::new();
    for i in 0..400 {
        let m = &mutaties[i % mutaties.len()];
        let t = Instant::now();
        let r = pas_toe(black_box(&was), black_box(m), "b.xml").unwrap();
        times.push(t.elapsed());
        black_box(&r);
        drop(r);
    }
    let (median, mean, p99) = stats(times);

    // A chain: every amendment applies to the version the previous one produced. The wordt-
    // version's index is derived from the was-version's (rebuilt from the tree every 64 layers).
    let keten: Vec<Tekst> = (0..80).map(|k| mutatie(&was, artikelen[(k * 104_729 + 17) % n_art])).collect();
    let mut v = was.clone();
    let mut chain_times = Vec::new();
    for m in &keten {
        let t = Instant::now();
        let r = pas_toe(&v, m, "b.xml").unwrap_or_else(|e| panic!("{e:#?}"));
        r.tekst.indexeer();
        chain_times.push(t.elapsed());
        v = r.tekst;
    }
    let (c_median, c_mean, c_max) = {
        let max = *chain_times.iter().max().unwrap();
        let (m, a, _) = stats(chain_times);
        (m, a, max)
    };

    // A version indexed from scratch (after 16 layers, or a text read from the store).
    let r = pas_toe(&was, &mutaties[0], "b.xml").unwrap();
    let fresh = Tekst::parse(&r.tekst.to_xml()).unwrap();
    let t2 = Instant::now();
    fresh.indexeer();
    let index_nieuw = t2.elapsed();
    let t3 = Instant::now();
    let out = r.tekst.to_xml();
    let serialise = t3.elapsed();

    println!("{label}: {n_art} artikelen, {} wIds, {:.1} MB", wids.len(), xml.len() as f64 / 1e6);
    println!("  Document::parse of the besluit (done by validation anyway): {}", ms(parse));
    println!("  Tekst::uit_document (once per delivery):           {}", ms(lezen));
    println!("  wId/eId index of a version (once per version):   {}", ms(index));
    println!("  pas_toe, one-article Vervang:  median {}  mean {}  p99 {}", ms(median), ms(mean), ms(p99));
    println!("  chain of 80 amendments, each on the previous result (index carried over, rebuilt once after 64):");
    println!("                                 median {}  mean {}  max {} (the max is the rebuild)", ms(c_median), ms(c_mean), ms(c_max));
    println!("  index of a freshly read version: {}", ms(index_nieuw));
    println!("  serialise the wordt-version:   {} ({} bytes)", ms(serialise), out.len());
    let target = Duration::from_millis(5);
    println!("  target ≤ 5 ms per amendment: {}", if median <= target && c_mean <= target { "met" } else { "NOT met" });
}

fn flat(n: usize) -> String {
    let mut s = format!(r#"<RegelingCompact xmlns="{TEKST}" componentnaam="r" wordt="/akn/nl/act/x/2027/r/nld@1">"#);
    s.push_str("\n   <Lichaam eId=\"body\" wId=\"body\">");
    for a in 1..=n {
        s.push_str(&format!(
            r#"
      <Artikel eId="art_{a}" wId="x_1__art_{a}">
         <Kop><Label>Artikel</Label><Nummer>{a}</Nummer><Opschrift>Regel {a}</Opschrift></Kop>
         <Lid eId="art_{a}__para_1" wId="x_1__art_{a}__para_1"><LidNummer>1.</LidNummer><Inhoud><Al>Het is verboden zonder omgevingsvergunning een bouwwerk te bouwen op een locatie als bedoeld in artikel {a}.</Al></Inhoud></Lid>
         <Lid eId="art_{a}__para_2" wId="x_1__art_{a}__para_2"><LidNummer>2.</LidNummer><Inhoud><Al>Het college kan voorschriften verbinden aan de vergunning.</Al><Al>Die voorschriften betreffen in ieder geval de bouwhoogte.</Al></Inhoud></Lid>
      </Artikel>"#
        ));
    }
    s.push_str("\n   </Lichaam>\n</RegelingCompact>\n");
    s
}

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let spec = GenSpec { regelingen: 1, artikelen: n, with_gio: false, ..GenSpec::default() };
    let files = generate_delivery(&spec, 0);
    let besluit = files.iter().find(|f| f.name == fixtures::GENERATED_BESLUIT).unwrap();
    let xml = String::from_utf8(besluit.bytes.clone()).unwrap();
    run("generated regeling (fixtures::generate_delivery)", &xml, |doc| {
        doc.descendants(doc.root().unwrap()).find(|&n| doc.is_element(n) && doc.name(n) == "RegelingCompact").unwrap()
    });
    let xml = flat(n);
    run("flat regeling (all articles in the Lichaam)", &xml, |doc| doc.root().unwrap());
}
