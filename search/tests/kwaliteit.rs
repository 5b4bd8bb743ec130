//! Search quality on a small hand-made index: stemming, phrases, proximity, prefixes, field
//! scopes, filters, time scope, historic grouping, syntax errors, crash-safe commits.

use search::tijd::dag;
use search::{Anker, Eenheid, Moment, Schrijver, Tijdbereik, Tijdvakken, Versie, Watermerk, WerkMeta, ZoekFout, Zoeker, Zoekvraag};

fn eenheid(wid: &str, kop: &str, tekst: &str) -> Eenheid {
    Eenheid {
        element: "Artikel".into(),
        eid: Some(wid.replace("__", "_")),
        wid: Some(wid.into()),
        kop: kop.into(),
        tekst: tekst.into(),
    }
}

fn meta(werk: &str, titel: &str, bg: &str) -> WerkMeta {
    WerkMeta { werk: werk.into(), titel: Some(titel.into()), bevoegd_gezag: Some(bg.into()), soort: Some("Omgevingsplan".into()), tam: false }
}

const A: &str = "/akn/nl/act/gm0001/2027/A";
const B: &str = "/akn/nl/act/gm0002/2027/B";

/// Work A: v1 in force from 2027-02-01, v2 (article 2 reworded) from 2027-04-01, known from
/// 2027-03-01. Work B: one version from 2027-01-01.
fn bouw(dir: &std::path::Path) {
    let mut s = Schrijver::open(dir).unwrap();
    let ma = meta(A, "Omgevingsplan Havenkwartier", "gm0001");
    let art1 = eenheid("a__art_1", "Artikel 1 Begrippen", "In dit plan wordt verstaan onder bouwwerk: elke constructie van enige omvang.");
    let art2a = eenheid("a__art_2", "Artikel 2 Vergunning", "Het is verboden zonder omgevingsvergunning een bouwwerk te slopen.");
    let art2b = eenheid("a__art_2", "Artikel 2 Vergunning", "Het is verboden zonder vergunning van het college een monument te slopen.");
    s.schrijf_versie(&ma, &Versie { expressie: format!("{A}/nld@2027-01-10;1"), eenheden: vec![art1.clone(), art2a] }).unwrap();
    s.schrijf_versie(&ma, &Versie { expressie: format!("{A}/nld@2027-03-01;2"), eenheden: vec![art1, art2b] }).unwrap();
    let ta = Tijdvakken {
        versies: vec![format!("{A}/nld@2027-01-10;1"), format!("{A}/nld@2027-03-01;2")],
        momenten: vec![
            Moment { ontvangen_op: dag("2027-01-10"), bekend_op: dag("2027-01-10"), ankers: vec![Anker { jwv: dag("2027-02-01"), gv: dag("2027-02-01"), versie: Some(0) }] },
            Moment {
                ontvangen_op: dag("2027-03-01"),
                bekend_op: dag("2027-03-01"),
                ankers: vec![
                    Anker { jwv: dag("2027-04-01"), gv: dag("2027-04-01"), versie: Some(1) },
                    Anker { jwv: dag("2027-02-01"), gv: dag("2027-02-01"), versie: Some(0) },
                ],
            },
        ],
    };
    s.schrijf_werk(&ma, &ta).unwrap();
    let mb = meta(B, "Verordening fysieke leefomgeving", "gm0002");
    s.schrijf_versie(
        &mb,
        &Versie {
            expressie: format!("{B}/nld@2027-01-01;1"),
            eenheden: vec![eenheid("b__art_1", "Artikel 1 Vergunningen", "Voor het kappen van een boom is een vergunning nodig van het college van burgemeester en wethouders.")],
        },
    )
    .unwrap();
    let tb = Tijdvakken {
        versies: vec![format!("{B}/nld@2027-01-01;1")],
        momenten: vec![Moment { ontvangen_op: dag("2027-01-01"), bekend_op: dag("2027-01-01"), ankers: vec![Anker { jwv: dag("2027-01-01"), gv: dag("2027-01-01"), versie: Some(0) }] }],
    };
    s.schrijf_werk(&mb, &tb).unwrap();
    s.commit(Watermerk { seq: 3, hash: "abc".into() }).unwrap();
}

fn op(d: &str) -> Tijdbereik {
    Tijdbereik::Op { geldig_op: d.into(), in_werking_op: d.into(), beschikbaar_op: "2027-12-31".into() }
}

fn hist() -> Tijdbereik {
    Tijdbereik::Historisch { beschikbaar_op: "2027-12-31".into() }
}

/// (work, wid) of every hit.
fn hits(z: &Zoeker, q: &str, t: Tijdbereik) -> Vec<(String, String)> {
    let r = z.zoek(&Zoekvraag { per_pagina: 100, treffers_per_groep: 50, ..Zoekvraag::nieuw(q, t) }).unwrap();
    let mut v: Vec<(String, String)> =
        r.groepen.iter().flat_map(|g| g.treffers.iter().map(|t| (g.werk.clone(), t.wid.clone().unwrap_or_default()))).collect();
    v.sort();
    v
}

fn paar(w: &str, wid: &str) -> (String, String) {
    (w.to_string(), wid.to_string())
}

#[test]
fn stemming_phrases_proximity_prefix_fields_and_filters() {
    let tmp = tempfile::tempdir().unwrap();
    bouw(tmp.path());
    let z = Zoeker::open(tmp.path()).unwrap();
    // Stemming: the plural finds the singular (in both works, today = all in force).
    assert_eq!(hits(&z, "vergunningen", op("2027-06-01")), vec![paar(A, "a__art_2"), paar(B, "b__art_1")]);
    // Exact form: only the literal word.
    assert_eq!(hits(&z, "exact:vergunningen", op("2027-06-01")), vec![paar(B, "b__art_1")]);
    // Phrase (stop words in it keep their gap).
    assert_eq!(hits(&z, "\"vergunning van het college\"", op("2027-06-01")), vec![paar(A, "a__art_2")]);
    assert_eq!(hits(&z, "\"vergunning nodig van het college\"", op("2027-06-01")), vec![paar(B, "b__art_1")]);
    // Proximity.
    assert_eq!(hits(&z, "\"kappen vergunning\"~2", op("2027-06-01")), Vec::<(String, String)>::new());
    assert_eq!(hits(&z, "\"kappen vergunning\"~6", op("2027-06-01")), vec![paar(B, "b__art_1")]);
    // Prefix on the exact form.
    assert_eq!(hits(&z, "monum*", op("2027-06-01")), vec![paar(A, "a__art_2")]);
    // Boolean operators.
    assert_eq!(hits(&z, "vergunning AND NOT boom", op("2027-06-01")), vec![paar(A, "a__art_2")]);
    assert_eq!(hits(&z, "boom OR monument", op("2027-06-01")), vec![paar(A, "a__art_2"), paar(B, "b__art_1")]);
    // Field scopes.
    assert_eq!(hits(&z, "titel:havenkwartier bouwwerk", op("2027-06-01")), vec![paar(A, "a__art_1")]);
    assert_eq!(hits(&z, "kop:begrippen", op("2027-06-01")), vec![paar(A, "a__art_1")]);
    // Filters.
    let mut v = Zoekvraag::nieuw("vergunning", op("2027-06-01"));
    v.bevoegd_gezag = Some("gm0002".into());
    let r = z.zoek(&v).unwrap();
    assert_eq!(r.groepen.len(), 1);
    assert_eq!(r.groepen[0].werk, B);
    // Snippets: escaped, with <mark>.
    let r = z.zoek(&Zoekvraag::nieuw("vergunningen", op("2027-06-01"))).unwrap();
    let b = r.groepen.iter().find(|g| g.werk == B).unwrap();
    assert!(b.treffers[0].fragment.contains("<mark>vergunning</mark>"), "{}", b.treffers[0].fragment);
    assert_eq!(r.totaal_groepen, 2);
    assert_eq!(r.facetten.bevoegd_gezag.len(), 2);
    let r = z.zoek(&Zoekvraag::nieuw("monu*", op("2027-06-01"))).unwrap();
    assert!(r.groepen[0].treffers[0].fragment.contains("<mark>monument</mark>"), "{}", r.groepen[0].treffers[0].fragment);
}

#[test]
fn time_scope_and_historic_grouping() {
    let tmp = tempfile::tempdir().unwrap();
    bouw(tmp.path());
    let z = Zoeker::open(tmp.path()).unwrap();
    // "omgevingsvergunning" only in A's first version.
    assert_eq!(hits(&z, "omgevingsvergunning", op("2027-03-01")), vec![paar(A, "a__art_2")]);
    assert!(hits(&z, "omgevingsvergunning", op("2027-05-01")).is_empty());
    assert!(hits(&z, "omgevingsvergunning", op("2027-01-15")).is_empty(), "before A is in force");
    // As known before the second version was received, v1 still applies in May.
    let t = Tijdbereik::Op { geldig_op: "2027-05-01".into(), in_werking_op: "2027-05-01".into(), beschikbaar_op: "2027-02-01".into() };
    assert_eq!(hits(&z, "omgevingsvergunning", t), vec![paar(A, "a__art_2")]);
    // The applying version is named.
    let r = z.zoek(&Zoekvraag::nieuw("bouwwerk", op("2027-05-01"))).unwrap();
    assert_eq!(r.groepen[0].expressie.as_deref(), Some(format!("{A}/nld@2027-03-01;2").as_str()));
    // Historic: the unchanged article 1 is one hit with both versions and one merged period…
    let r = z.zoek(&Zoekvraag::nieuw("constructie", hist())).unwrap();
    let t = &r.groepen[0].treffers[0];
    assert_eq!(t.expressies.len(), 2);
    assert_eq!(t.perioden.len(), 2);
    assert_eq!(t.perioden[0].vanaf, "2027-02-01");
    assert_eq!(t.perioden[1].tot, None);
    // …and article 2 (both wordings match "slopen") is one article with both periods.
    let r = z.zoek(&Zoekvraag::nieuw("slopen", hist())).unwrap();
    assert_eq!(r.groepen[0].treffers.len(), 1);
    assert_eq!(r.groepen[0].aantal_treffers, 2);
    let p: Vec<(&str, Option<&str>)> = r.groepen[0].treffers[0].perioden.iter().map(|p| (p.vanaf.as_str(), p.tot.as_deref())).collect();
    assert_eq!(p, vec![("2027-02-01", Some("2027-04-01")), ("2027-04-01", None)]);
    // Only the wording that matches: "omgevingsvergunning" applied until April.
    let r = z.zoek(&Zoekvraag::nieuw("omgevingsvergunning", hist())).unwrap();
    let p: Vec<(&str, Option<&str>)> = r.groepen[0].treffers[0].perioden.iter().map(|p| (p.vanaf.as_str(), p.tot.as_deref())).collect();
    assert_eq!(p, vec![("2027-02-01", Some("2027-04-01"))]);
}

#[test]
fn bad_syntax_and_dates_are_errors_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    bouw(tmp.path());
    let z = Zoeker::open(tmp.path()).unwrap();
    for q in ["\"open phrase", "onbekend_veld:x AND (", "", "   "] {
        assert!(matches!(z.zoek(&Zoekvraag::nieuw(q, op("2027-06-01"))), Err(ZoekFout::Syntaxis(_))), "{q}");
    }
    // Legal references with colons are text, not fields.
    assert!(z.zoek(&Zoekvraag::nieuw("artikel 8:1", op("2027-06-01"))).is_ok());
    assert!(matches!(z.zoek(&Zoekvraag::nieuw("x", op("2027-02-30"))), Err(ZoekFout::Datum { .. })));
    assert!(matches!(z.zoek(&Zoekvraag::nieuw("x", op("morgen"))), Err(ZoekFout::Datum { .. })));
}

#[test]
fn unchanged_units_are_indexed_once_and_uncommitted_writes_vanish() {
    let tmp = tempfile::tempdir().unwrap();
    bouw(tmp.path());
    {
        let mut s = Schrijver::open(tmp.path()).unwrap();
        assert_eq!(s.watermerk().unwrap().seq, 3);
        // Written but not committed: as after a crash.
        s.schrijf_versie(&meta(A, "x", "gm0001"), &Versie { expressie: format!("{A}/nld@2027-09-01;3"), eenheden: vec![eenheid("a__art_9", "Artikel 9", "zeldzaamwoord")] }).unwrap();
    }
    let z = Zoeker::open(tmp.path()).unwrap();
    assert!(hits(&z, "zeldzaamwoord", hist()).is_empty());
    // Article 1 is the same content in both versions: one document.
    let r = z.zoek(&Zoekvraag::nieuw("constructie", hist())).unwrap();
    assert_eq!(r.totaal_treffers, 1);
    // Writing a version again does not duplicate.
    {
        let mut s = Schrijver::open(tmp.path()).unwrap();
        let art1 = eenheid("a__art_1", "Artikel 1 Begrippen", "In dit plan wordt verstaan onder bouwwerk: elke constructie van enige omvang.");
        s.schrijf_versie(&meta(A, "Omgevingsplan Havenkwartier", "gm0001"), &Versie { expressie: format!("{A}/nld@2027-01-10;1"), eenheden: vec![art1] }).unwrap();
        s.commit(Watermerk { seq: 4, hash: "def".into() }).unwrap();
    }
    let r = z.zoek(&Zoekvraag::nieuw("constructie", hist())).unwrap();
    assert_eq!(r.totaal_treffers, 1);
    assert_eq!(z.watermerk().unwrap().unwrap().seq, 4);
}

const C: &str = "/akn/nl/act/pv0003/2027/C";
const D: &str = "/akn/nl/act/gm0001/2027/D";

/// The index of `bouw` plus work C (another bevoegd gezag and soort; valid from 2027-05-01 but
/// in force only from 2027-06-01, known from 2027-05-20) and D (a TAM document of gm0001).
fn bouw_meer(dir: &std::path::Path) {
    bouw(dir);
    let mut s = Schrijver::open(dir).unwrap();
    let mc = WerkMeta {
        werk: C.into(),
        titel: Some("Omgevingsverordening Zuid".into()),
        bevoegd_gezag: Some("pv0003".into()),
        soort: Some("Omgevingsverordening".into()),
        tam: false,
    };
    let tekst = "Voor het kappen van een houtopstand is een vergunning nodig; zie artikel 3 & bijlage <A>.";
    s.schrijf_versie(&mc, &Versie { expressie: format!("{C}/nld@2027-05-20;1"), eenheden: vec![eenheid("c__art_1", "Artikel 1 Kappen", tekst)] })
        .unwrap();
    let anker = Anker { jwv: dag("2027-06-01"), gv: dag("2027-05-01"), versie: Some(0) };
    let tc = Tijdvakken {
        versies: vec![format!("{C}/nld@2027-05-20;1")],
        momenten: vec![Moment { ontvangen_op: dag("2027-05-20"), bekend_op: dag("2027-05-20"), ankers: vec![anker] }],
    };
    s.schrijf_werk(&mc, &tc).unwrap();
    let md = WerkMeta {
        werk: D.into(),
        titel: Some("Voorontwerp Dorpskern".into()),
        bevoegd_gezag: Some("gm0001".into()),
        soort: Some("TAM-omgevingsplan".into()),
        tam: true,
    };
    s.schrijf_versie(&md, &Versie { expressie: format!("{D}/nld@2027-01-05;1"), eenheden: vec![eenheid("d__art_1", "Artikel 1", "Een vergunning voor een dakkapel.")] })
        .unwrap();
    let td = Tijdvakken {
        versies: vec![format!("{D}/nld@2027-01-05;1")],
        momenten: vec![Moment { ontvangen_op: dag("2027-01-05"), bekend_op: dag("2027-01-05"), ankers: vec![Anker { jwv: dag("2027-01-05"), gv: dag("2027-01-05"), versie: Some(0) }] }],
    };
    s.schrijf_werk(&md, &td).unwrap();
    s.commit(Watermerk { seq: 4, hash: "def".into() }).unwrap();
}

fn werken(r: &search::Resultaten) -> Vec<&str> {
    r.groepen.iter().map(|g| g.werk.as_str()).collect()
}

#[test]
fn filters_scopes_and_the_in_force_axis() {
    let tmp = tempfile::tempdir().unwrap();
    bouw_meer(tmp.path());
    let z = Zoeker::open(tmp.path()).unwrap();
    let vraag = |q: &str| Zoekvraag { per_pagina: 100, ..Zoekvraag::nieuw(q, op("2027-06-20")) };
    let mut alle = werken(&z.zoek(&vraag("vergunning")).unwrap()).into_iter().map(str::to_string).collect::<Vec<_>>();
    alle.sort();
    assert_eq!(alle, vec![A.to_string(), D.to_string(), B.to_string(), C.to_string()]);
    // Work, soort and TAM filters.
    let r = z.zoek(&Zoekvraag { werk: Some(B.into()), ..vraag("vergunning") }).unwrap();
    assert_eq!(werken(&r), vec![B]);
    let r = z.zoek(&Zoekvraag { soort: Some("Omgevingsverordening".into()), ..vraag("vergunning") }).unwrap();
    assert_eq!(werken(&r), vec![C]);
    let r = z.zoek(&Zoekvraag { tam: Some(true), ..vraag("vergunning") }).unwrap();
    assert_eq!(werken(&r), vec![D]);
    let r = z.zoek(&Zoekvraag { tam: Some(false), ..vraag("vergunning") }).unwrap();
    assert!(!werken(&r).contains(&D) && r.totaal_groepen == 3, "{:?}", werken(&r));
    // Bevoegd gezag and TAM together: gm0001 has A (STOP) and D (TAM).
    let r = z.zoek(&Zoekvraag { bevoegd_gezag: Some("gm0001".into()), tam: Some(false), ..vraag("vergunning") }).unwrap();
    assert_eq!(werken(&r), vec![A]);
    // The same filters in historic mode, where the time scope lets every version through.
    let historisch = |z: &Zoeker, v: Zoekvraag| werken(&z.zoek(&Zoekvraag { tijd: hist(), ..v }).unwrap()).into_iter().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(historisch(&z, Zoekvraag { werk: Some(B.into()), ..vraag("vergunning") }), vec![B]);
    assert_eq!(historisch(&z, Zoekvraag { soort: Some("Omgevingsverordening".into()), ..vraag("vergunning") }), vec![C]);
    assert_eq!(historisch(&z, Zoekvraag { tam: Some(true), ..vraag("vergunning") }), vec![D]);
    assert_eq!(historisch(&z, Zoekvraag { bevoegd_gezag: Some("gm0002".into()), ..vraag("vergunning") }), vec![B]);
    // NOT as a minus sign; the tekst: scope (the heading is not searched).
    assert!(!werken(&z.zoek(&vraag("vergunning -boom")).unwrap()).contains(&B));
    assert!(werken(&z.zoek(&vraag("vergunning boom")).unwrap()) == vec![B]);
    assert_eq!(hits(&z, "tekst:begrippen", op("2027-06-20")), Vec::<(String, String)>::new());
    assert_eq!(hits(&z, "kop:begrippen", op("2027-06-20")), vec![paar(A, "a__art_1")]);
    assert_eq!(hits(&z, "tekst:constructie", op("2027-06-20")), vec![paar(A, "a__art_1")]);
    assert_eq!(hits(&z, "tekst:houtopstand", op("2027-06-20")), vec![paar(C, "c__art_1")]);
    // inWerkingOp and geldigOp are separate axes: C is valid from 2027-05-01 but in force only
    // from 2027-06-01.
    let t = |geldig: &str, in_werking: &str| Tijdbereik::Op { geldig_op: geldig.into(), in_werking_op: in_werking.into(), beschikbaar_op: "2027-12-31".into() };
    assert!(hits(&z, "houtopstand", t("2027-05-15", "2027-05-15")).is_empty(), "not in force yet");
    assert_eq!(hits(&z, "houtopstand", t("2027-05-15", "2027-06-15")), vec![paar(C, "c__art_1")]);
    assert!(hits(&z, "houtopstand", t("2027-04-15", "2027-06-15")).is_empty(), "not valid yet");
    // …and beschikbaarOp: before C was received nothing of it is known.
    let t = Tijdbereik::Op { geldig_op: "2027-06-15".into(), in_werking_op: "2027-06-15".into(), beschikbaar_op: "2027-05-10".into() };
    assert!(hits(&z, "houtopstand", t).is_empty());
}

#[test]
fn grouping_paging_facets_and_escaped_snippets() {
    let tmp = tempfile::tempdir().unwrap();
    bouw_meer(tmp.path());
    let z = Zoeker::open(tmp.path()).unwrap();
    // Grouped per regeling: A's two matching articles are one group, counted in full even when
    // fewer are shown.
    let r = z.zoek(&Zoekvraag::nieuw("bouwwerk", op("2027-03-01"))).unwrap();
    assert_eq!(werken(&r), vec![A]);
    assert_eq!((r.totaal_groepen, r.totaal_treffers, r.groepen[0].aantal_treffers, r.groepen[0].treffers.len()), (1, 2, 2, 2));
    let r = z.zoek(&Zoekvraag { treffers_per_groep: 1, ..Zoekvraag::nieuw("bouwwerk", op("2027-03-01")) }).unwrap();
    assert_eq!((r.groepen[0].aantal_treffers, r.groepen[0].treffers.len()), (2, 1));
    assert!(r.groepen[0].treffers.iter().all(|t| t.expressies == vec![format!("{A}/nld@2027-01-10;1")]));
    // Paging over groups: one per page, the same order as all on one page, then nothing.
    let q = |pagina: usize, per_pagina: usize| z.zoek(&Zoekvraag { pagina, per_pagina, ..Zoekvraag::nieuw("vergunning", op("2027-06-20")) }).unwrap();
    let alles = q(1, 10);
    assert_eq!(alles.totaal_groepen, 4);
    let mut gepagineerd = Vec::new();
    for p in 1..=4 {
        let r = q(p, 1);
        assert_eq!((r.pagina, r.per_pagina, r.totaal_groepen, r.groepen.len()), (p, 1, 4, 1));
        assert_eq!(r.totaal_treffers, alles.totaal_treffers);
        gepagineerd.push(r.groepen[0].werk.clone());
    }
    assert_eq!(gepagineerd, werken(&alles));
    assert!(q(5, 1).groepen.is_empty());
    assert_eq!(werken(&q(2, 3)), werken(&alles)[3..].to_vec());
    // Facets count matching regelingen over all pages, most frequent first, then by value.
    let f = |l: &[search::Facet]| l.iter().map(|f| (f.waarde.clone(), f.aantal)).collect::<Vec<_>>();
    let s = |w: &str, n: u64| (w.to_string(), n);
    assert_eq!(f(&q(2, 1).facetten.bevoegd_gezag), vec![s("gm0001", 2), s("gm0002", 1), s("pv0003", 1)]);
    assert_eq!(f(&alles.facetten.soort), vec![s("Omgevingsplan", 2), s("Omgevingsverordening", 1), s("TAM-omgevingsplan", 1)]);
    let r = z.zoek(&Zoekvraag::nieuw("houtopstand", op("2027-06-20"))).unwrap();
    assert_eq!(f(&r.facetten.bevoegd_gezag), vec![s("pv0003", 1)]);
    // Snippets: the text is HTML-escaped, the matches marked (the fragment ends with the last
    // word it shows).
    let r = z.zoek(&Zoekvraag::nieuw("bijlage", op("2027-06-20"))).unwrap();
    let fragment = &r.groepen[0].treffers[0].fragment;
    assert!(fragment.contains("<mark>bijlage</mark>") && fragment.contains("&amp;") && fragment.contains("&lt;A"), "{fragment}");
    assert!(!fragment.contains("<A>"), "{fragment}");
    // A prefix is highlighted on the exact form.
    let r = z.zoek(&Zoekvraag::nieuw("houtop*", op("2027-06-20"))).unwrap();
    assert!(r.groepen[0].treffers[0].fragment.contains("<mark>houtopstand</mark>"), "{}", r.groepen[0].treffers[0].fragment);
}
