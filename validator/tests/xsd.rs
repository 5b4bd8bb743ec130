//! The XSD layer against xmllint, and the LVBB response XML against the transport schema.
//!
//! Needs `../shared/schemas` (env `REGELBANK_SHARED` overrides) and, for the comparisons,
//! `xmllint` (Debian: libxml2-utils). Without them the tests say so and pass, except under CI
//! (`CI=true`), where both must be present.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use stop::opdracht::OpdrachtSoort;
use stop::{Ernst, Locatie, Melding, Soort};
use validator::lvbb_xml;
use validator::xsd::{Keuze, SchemaKeuze, SchemaSet, SchemaSets, SchemaSoort, kies};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Skip (outside CI) or fail (in CI) because something the test needs is missing.
fn ontbreekt(wat: &str) -> Option<std::convert::Infallible> {
    assert!(!in_ci(), "CI=true but {wat}");
    eprintln!("SKIPPED: {wat}");
    None
}

fn schemamap() -> PathBuf {
    fixtures::shared_dir().join("schemas")
}

/// The schema sets of ../shared/schemas, opened once for the whole test binary (libxml2 has
/// one catalog per process).
fn sets() -> Option<&'static SchemaSets> {
    static SETS: OnceLock<Option<SchemaSets>> = OnceLock::new();
    let s = SETS.get_or_init(|| {
        let dir = schemamap();
        if !dir.join("catalog.xml").is_file() {
            return None;
        }
        Some(SchemaSets::open(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
    });
    if s.is_none() {
        ontbreekt(&format!(
            "schema directory {} not found (set REGELBANK_SHARED)",
            schemamap().display()
        ))?;
    }
    s.as_ref()
}

fn xmllint_aanwezig() -> bool {
    static A: OnceLock<bool> = OnceLock::new();
    *A.get_or_init(|| {
        Command::new("xmllint")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

struct Xmllint {
    code: i32,
    stderr: String,
}

/// `XML_CATALOG_FILES=<dir>/catalog.xml xmllint --nonet --noout --schema <xsd> <file>`.
fn xmllint(xsd: &str, bestand: &Path) -> Xmllint {
    let dir = schemamap();
    let out = Command::new("xmllint")
        .env("XML_CATALOG_FILES", dir.join("catalog.xml"))
        .args(["--nonet", "--noout", "--schema"])
        .arg(dir.join(xsd))
        .arg(bestand)
        .output()
        .expect("xmllint");
    Xmllint {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Line numbers of xmllint's error lines for `bestand` ("<file>:<line>: ... error : ...").
fn xmllint_regels(x: &Xmllint, bestand: &Path) -> Vec<u32> {
    let prefix = format!("{}:", bestand.display());
    x.stderr
        .lines()
        .filter(|l| l.contains(" error : "))
        .filter_map(|l| l.strip_prefix(&prefix)?.split(':').next()?.parse().ok())
        .collect()
}

fn xml_bestanden(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            xml_bestanden(&p, out);
        } else if p
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xml") || e.eq_ignore_ascii_case("gml"))
        {
            out.push(p);
        }
    }
}

fn fouten(ms: &[Melding]) -> Vec<&Melding> {
    ms.iter().filter(|m| m.ernst == Ernst::Fout).collect()
}

#[test]
fn verdict_equals_xmllint_on_every_xml_file() {
    let Some(sets) = sets() else { return };
    if !xmllint_aanwezig() {
        ontbreekt("xmllint not found (apt-get install libxml2-utils)");
        return;
    }
    let mut bestanden = Vec::new();
    let shared = fixtures::shared_dir().join("deliveries");
    xml_bestanden(&shared, &mut bestanden);
    let n_shared = bestanden.len();
    let fx = fixtures::fixtures_dir();
    xml_bestanden(&fx.join("deliveries"), &mut bestanden);
    xml_bestanden(&fx.join("broken"), &mut bestanden);
    if n_shared == 0 {
        ontbreekt(&format!("no shared deliveries under {}", shared.display()));
    }
    assert!(
        bestanden.len() > n_shared,
        "no fixtures found under {}",
        fx.display()
    );

    let mut verschillen = Vec::new();
    let (mut geldig, mut ongeldig, mut geen, mut niet_gevalideerd) = (0, 0, 0, 0);
    let start = Instant::now();
    for pad in &bestanden {
        let naam = pad.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(pad).unwrap();
        match kies(&naam, &bytes) {
            Keuze::Schema(k) => {
                let ons = sets.valideer(&naam, &bytes, k);
                let x = xmllint(k.xsd(), pad);
                if x.code == 5 {
                    // The schema does not compile (the LVBB 1.2.0 transport schema of the
                    // mirror): we report RB4003 (not validated) instead of a verdict.
                    niet_gevalideerd += 1;
                    if !(ons.len() == 1 && ons[0].code == "RB4003") {
                        verschillen.push(format!(
                            "{}: xmllint cannot compile {} but we said {ons:?}",
                            pad.display(),
                            k.xsd()
                        ));
                    }
                    continue;
                }
                let ons_geldig = ons.is_empty();
                let lint_geldig = x.code == 0;
                if ons_geldig != lint_geldig {
                    verschillen.push(format!(
                        "{} ({}): we say {}, xmllint exit {}\n  ours: {:?}\n  xmllint: {}",
                        pad.display(),
                        k.xsd(),
                        if ons_geldig { "valid" } else { "invalid" },
                        x.code,
                        ons.iter().map(|m| &m.beschrijving).collect::<Vec<_>>(),
                        x.stderr.trim()
                    ));
                    continue;
                }
                if ons_geldig {
                    geldig += 1;
                } else {
                    ongeldig += 1;
                    assert!(
                        ons.iter().all(|m| m.code == "RB4001"
                            && m.locatie.bestand.as_deref() == Some(naam.as_str())),
                        "{ons:?}"
                    );
                    // As many errors as xmllint. A file that is not well-formed: xmllint
                    // reports only the parser errors (it builds no tree to validate), our
                    // streaming validation also the schema errors before the parse error;
                    // compare the parser errors then.
                    let lint_regels = xmllint_regels(&x, pad);
                    let niet_welgevormd = x.stderr.contains(" parser error : ");
                    let ons_aantal = fouten(&ons)
                        .iter()
                        .filter(|m| !niet_welgevormd || m.beschrijving.contains("XML-fout: "))
                        .count();
                    if lint_regels.len() != ons_aantal {
                        verschillen.push(format!(
                            "{}: {} errors from xmllint, {} from us\n  ours: {:?}\n  xmllint: {}",
                            pad.display(),
                            lint_regels.len(),
                            ons_aantal,
                            ons.iter()
                                .map(|m| (&m.locatie.regel, &m.beschrijving))
                                .collect::<Vec<_>>(),
                            x.stderr.trim()
                        ));
                    }
                }
            }
            Keuze::Geen => {
                // Outside the STOP/LVBB schemas: IMOW files. Check that they really are, and
                // that the STOP schema does not cover them either.
                geen += 1;
                let kop = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
                let x = xmllint(
                    "lvbb-1.3.0-ic_stop-1.4.1/lvbb/lvbb-stop-aanlevering.xsd",
                    pad,
                );
                if !kop.contains("http://www.geostandaarden.nl/")
                    || !x.stderr.contains(
                        "No matching global declaration available for the validation root",
                    )
                {
                    verschillen.push(format!(
                        "{}: not validated (no STOP/LVBB root), but xmllint says: {}",
                        pad.display(),
                        x.stderr.trim()
                    ));
                }
            }
            Keuze::OnbekendeVersie(v) => {
                verschillen.push(format!(
                    "{}: no schema set for schemaversie {v:?}",
                    pad.display()
                ));
            }
        }
    }
    eprintln!(
        "{} files ({n_shared} shared): {geldig} valid and {ongeldig} invalid as xmllint says, {niet_gevalideerd} not validated (schema does not compile), {geen} IMOW files skipped; {:.1?} including xmllint",
        bestanden.len(),
        start.elapsed()
    );
    assert!(
        verschillen.is_empty(),
        "{} differences:\n{}",
        verschillen.len(),
        verschillen.join("\n")
    );
    assert!(geldig > 0 && ongeldig > 0);
}

/// `fixtures/deliveries/02-initieel-vrijetekst/besluit.xml` with three errors in three
/// places: all three are reported, each on its line.
#[test]
fn line_numbers_of_a_broken_file() {
    let Some(sets) = sets() else { return };
    let origineel = std::fs::read_to_string(
        fixtures::fixtures_dir().join("deliveries/02-initieel-vrijetekst/besluit.xml"),
    )
    .unwrap();
    let vervang = |s: &str, van: &str, naar: &str| {
        assert_eq!(s.matches(van).count(), 1, "{van}");
        s.replace(van, naar)
    };
    let mut kapot = vervang(
        &origineel,
        "<bekendOp>2027-03-30</bekendOp>",
        "<bekendOp>30-03-2027</bekendOp>",
    );
    kapot = vervang(&kapot, "<datum>2027-04-15</datum>", "<datum>morgen</datum>");
    kapot = vervang(
        &kapot,
        "<Aanhef eId=\"formula_1\"",
        "<Aanhef onbekend=\"x\" eId=\"formula_1\"",
    );
    let regel_van =
        |needle: &str| kapot.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1;
    let verwacht = vec![
        regel_van("30-03-2027"),
        regel_van("<datum>morgen"),
        regel_van("onbekend=\"x\""),
    ];
    assert_eq!(verwacht, vec![20, 46, 55]);

    let k = match kies("besluit.xml", kapot.as_bytes()) {
        Keuze::Schema(k) => k,
        k => panic!("{k:?}"),
    };
    assert_eq!(
        k,
        SchemaKeuze::new(SchemaSet::Lvbb130icStop141, SchemaSoort::StopAanlevering)
    );
    let ms = sets.valideer("besluit.xml", kapot.as_bytes(), k);
    let regels: Vec<u32> = ms.iter().map(|m| m.locatie.regel.unwrap()).collect();
    let mut uniek = regels.clone();
    uniek.dedup();
    assert_eq!(uniek, verwacht, "{ms:#?}");
    for m in &ms {
        assert_eq!(m.code, "RB4001");
        assert_eq!((m.ernst, m.soort), (Ernst::Fout, Soort::Technisch));
        assert_eq!(m.locatie.bestand.as_deref(), Some("besluit.xml"));
        let regel = kapot
            .lines()
            .nth(m.locatie.regel.unwrap() as usize - 1)
            .unwrap();
        let kolom = m.locatie.kolom.expect("column") as usize;
        assert!(
            kolom >= 1 && kolom <= regel.chars().count() + 1,
            "column {kolom} on {regel:?}"
        );
        assert!(m.beschrijving.starts_with("besluit.xml voldoet niet aan het schema (STOP 1.4.1/LVBB 1.3.0-ic, lvbb-stop-aanlevering.xsd): "), "{}", m.beschrijving);
    }
    assert!(
        ms.iter()
            .any(|m| m.beschrijving.contains("'30-03-2027' is not a valid value")),
        "{ms:#?}"
    );
    assert!(
        ms.iter().any(|m| m
            .beschrijving
            .contains("The attribute 'onbekend' is not allowed")),
        "{ms:#?}"
    );
    // The attribute error is reported at the end of its start tag (the column of '>').
    let m = ms
        .iter()
        .find(|m| m.beschrijving.contains("onbekend"))
        .unwrap();
    let regel = kapot.lines().nth(54).unwrap();
    assert_eq!(
        m.locatie.kolom,
        Some(regel.find('>').unwrap() as u32 + 1),
        "{regel}"
    );

    // xmllint gives the same lines.
    if xmllint_aanwezig() {
        let tmp =
            std::env::temp_dir().join(format!("regelbank-xsd-{}-besluit.xml", std::process::id()));
        std::fs::write(&tmp, &kapot).unwrap();
        let x = xmllint(k.xsd(), &tmp);
        let _ = std::fs::remove_file(&tmp);
        assert_eq!(x.code, 3, "{}", x.stderr);
        assert_eq!(xmllint_regels(&x, &tmp), regels, "{}", x.stderr);
    } else {
        ontbreekt("xmllint not found: line numbers not compared with xmllint");
    }

    // The broken fixture: the unknown element on its line.
    let pad = fixtures::fixtures_dir().join("broken/onbekend-element/besluit.xml");
    let bytes = std::fs::read(&pad).unwrap();
    let ms = sets.valideer_bestand("besluit.xml", &bytes);
    let tekst = String::from_utf8(bytes).unwrap();
    let r = tekst
        .lines()
        .position(|l| l.contains("<vertrouwelijkheid>"))
        .unwrap() as u32
        + 1;
    assert_eq!(ms.len(), 1, "{ms:#?}");
    assert_eq!(ms[0].locatie.regel, Some(r));
    assert!(ms[0].beschrijving.contains("vertrouwelijkheid"));
}

#[test]
fn not_well_formed_is_one_located_melding() {
    let Some(sets) = sets() else { return };
    let xml = "<?xml version=\"1.0\"?>\n<AanleveringBesluit xmlns=\"https://standaarden.overheid.nl/lvbb/stop/aanlevering/\" schemaversie=\"1.4.1\">\n  <BesluitVersie>\n</AanleveringBesluit>\n";
    let ms = sets.valideer_bestand("b.xml", xml.as_bytes());
    assert!(!ms.is_empty());
    assert!(
        ms.iter()
            .all(|m| m.code == "RB4001" && m.ernst == Ernst::Fout),
        "{ms:#?}"
    );
    assert!(ms[0].beschrijving.contains("XML-fout"), "{ms:#?}");
    assert_eq!(ms[0].locatie.regel, Some(4), "{ms:#?}");
    // Empty input.
    let ms = sets.valideer(
        "leeg.xml",
        b"",
        SchemaKeuze::new(SchemaSet::Lvbb130icStop141, SchemaSoort::StopAanlevering),
    );
    assert!(
        !ms.is_empty() && ms.iter().all(|m| m.code == "RB4001"),
        "{ms:#?}"
    );
}

#[test]
fn unknown_schemaversie_and_unloadable_schema_give_rb4003() {
    let Some(sets) = sets() else { return };
    let xml = br#"<AanleveringBesluit xmlns="https://standaarden.overheid.nl/lvbb/stop/aanlevering/" schemaversie="9.9.9"/>"#;
    let ms = sets.valideer_bestand("b.xml", xml);
    assert_eq!(ms.len(), 1);
    assert_eq!(
        (ms[0].code.as_str(), ms[0].ernst),
        ("RB4003", Ernst::Waarschuwing)
    );
    assert!(
        ms[0].beschrijving.contains("9.9.9"),
        "{}",
        ms[0].beschrijving
    );
    // OW files are outside the XSD layer.
    let ow = br#"<ow-dc:owBestand xmlns:ow-dc="http://www.geostandaarden.nl/imow/bestanden/deelbestand"/>"#;
    assert!(sets.valideer_bestand("owLocatie.xml", ow).is_empty());
    // The LVBB 1.2.0 transport schema of the shared mirror does not compile.
    let k = SchemaKeuze::new(SchemaSet::Lvbb120Stop130, SchemaSoort::Transport);
    if sets.laad(k).is_err() {
        let ms = sets.valideer(
            "opdracht.xml",
            br#"<directeMutatieOpdracht xmlns="http://www.overheid.nl/2017/lvbb"/>"#,
            k,
        );
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].code, "RB4003");
        assert!(
            ms[0].beschrijving.contains("kan niet worden geladen"),
            "{}",
            ms[0].beschrijving
        );
    }
}

#[test]
fn schemas_compile_once_and_timings() {
    let Some(sets) = sets() else { return };
    for k in [
        SchemaKeuze::new(SchemaSet::Lvbb130icStop141, SchemaSoort::StopAanlevering),
        SchemaKeuze::new(SchemaSet::Lvbb130icStop141, SchemaSoort::Transport),
        SchemaKeuze::new(SchemaSet::Lvbb120Stop130, SchemaSoort::StopAanlevering),
        SchemaKeuze::new(SchemaSet::Lvbb120Stop130, SchemaSoort::Geo),
    ] {
        let t = Instant::now();
        sets.laad(k).unwrap_or_else(|e| panic!("{k}: {e}"));
        let eerste = t.elapsed();
        let t = Instant::now();
        sets.laad(k).unwrap();
        eprintln!(
            "{}: compiled in {eerste:.1?} (cached: {:.1?})",
            k.xsd(),
            t.elapsed()
        );
    }
    let utrecht = fixtures::shared_dir()
        .join("deliveries/geonovum-lvbb-test-repository/TBO_UtrechtTest/akn_nl_bill_pv26-3-2.xml");
    if let Ok(bytes) = std::fs::read(&utrecht) {
        let t = Instant::now();
        let ms = sets.valideer_bestand("akn_nl_bill_pv26-3-2.xml", &bytes);
        eprintln!(
            "{} ({} bytes): {} meldingen in {:.1?}",
            utrecht.display(),
            bytes.len(),
            ms.len(),
            t.elapsed()
        );
        assert!(ms.is_empty(), "{ms:#?}");
    }
}

/// Many threads validating against the same compiled schemas at once.
#[test]
fn concurrent_validation() {
    let Some(sets) = sets() else { return };
    let goed = std::fs::read(
        fixtures::fixtures_dir().join("deliveries/01-initieel-compact-gio/besluit.xml"),
    )
    .unwrap();
    let fout = std::fs::read(fixtures::fixtures_dir().join("broken/onbekend-element/besluit.xml"))
        .unwrap();
    std::thread::scope(|s| {
        for i in 0..4 {
            let (goed, fout) = (&goed, &fout);
            s.spawn(move || {
                for _ in 0..10 {
                    assert!(
                        sets.valideer_bestand("besluit.xml", goed).is_empty(),
                        "thread {i}"
                    );
                    assert_eq!(
                        sets.valideer_bestand("besluit.xml", fout).len(),
                        1,
                        "thread {i}"
                    );
                }
            });
        }
    });
}

// ------------------------------------------------------------------------------ LVBB responses

fn melding(
    code: &str,
    ernst: Ernst,
    soort: Soort,
    beschrijving: &str,
    locatie: Locatie,
) -> Melding {
    Melding {
        code: code.into(),
        ernst,
        soort,
        beschrijving: beschrijving.into(),
        locatie,
    }
}

fn voorbeeld_meldingen() -> Vec<Melding> {
    let mut v = vec![
        melding(
            "RB4001",
            Ernst::Fout,
            Soort::Technisch,
            "besluit.xml voldoet niet aan het schema (STOP 1.4.1/LVBB 1.3.0-ic, lvbb-stop-aanlevering.xsd): Element '{https://standaarden.overheid.nl/stop/imop/data/}vertrouwelijkheid': This element is not expected. Expected is ( {…}soortProcedure ).",
            Locatie {
                bestand: Some("besluit.xml".into()),
                regel: Some(21),
                kolom: Some(30),
                ..Default::default()
            },
        ),
        melding(
            "LVBB1506",
            Ernst::Fout,
            Soort::Technisch,
            "Het bestand 'a<b>&\"c\".xml' dat in opdracht.xml als publicatie is genoemd, zit niet in de levering. Ça ne va pas: één, ĳ, € — 日本語 😀",
            Locatie {
                bestand: Some("opdracht.xml".into()),
                pad: Some("/publicatieOpdracht/publicatie".into()),
                ..Default::default()
            },
        ),
        melding(
            "BHKV1009",
            Ernst::Waarschuwing,
            Soort::Inhoudelijk,
            "eId art_I_FOUT & wId gm9901__art_1 < > ' \" met regeleinde\nen tab\t en besturingsteken \u{7}",
            Locatie {
                bestand: Some("besluit.xml".into()),
                eid: Some("art_I<&>".into()),
                wid: Some("gm9901__art_1".into()),
                ..Default::default()
            },
        ),
        melding(
            "RB4002",
            Ernst::Informatie,
            Soort::Technisch,
            "XSD-laag niet uitgevoerd",
            Locatie::default(),
        ),
        melding(
            "STOP1001",
            Ernst::Ontraden,
            Soort::Inhoudelijk,
            "",
            Locatie::bestand("x.xml"),
        ),
    ];
    for i in 0..200 {
        v.push(melding(
            "RB2003",
            Ernst::Fout,
            Soort::Technisch,
            &format!("melding {i}: <onbekend/> & meer"),
            Locatie::bestand(format!("b{i}.xml")),
        ));
    }
    v
}

#[test]
fn lvbb_responses_validate_against_the_transport_schema() {
    let Some(sets) = sets() else { return };
    let transport = SchemaKeuze::new(SchemaSet::Lvbb130icStop141, SchemaSoort::Transport);
    let veel = voorbeeld_meldingen();
    let t = "2027-03-01T12:34:56Z";
    use OpdrachtSoort::*;
    let gevallen: Vec<(&str, String)> = vec![
        (
            "valide zonder meldingen",
            lvbb_xml::verzoek_resultaat(Some(ValidatieOpdracht), "rbo-2027-0001", t, "valide", &[]),
        ),
        (
            "niet-valide met veel meldingen",
            lvbb_xml::verzoek_resultaat(
                Some(PublicatieOpdracht),
                "rbo-2027-0002",
                t,
                "niet-valide",
                &veel,
            ),
        ),
        (
            "gepubliceerd",
            lvbb_xml::verzoek_resultaat(
                Some(PublicatieOpdracht),
                "rbo-2027-0003",
                "2027-03-01T12:34:56.123+01:00",
                "gepubliceerd",
                &veel[..1],
            ),
        ),
        (
            "publicatie alleen gevalideerd",
            lvbb_xml::verzoek_resultaat(
                Some(PublicatieOpdracht),
                "rbo-2027-0003",
                t,
                "valide",
                &[],
            ),
        ),
        (
            "afbreken ok",
            lvbb_xml::verzoek_resultaat(
                Some(BreekPublicatieAfOpdracht),
                "rbo-2027-0004",
                t,
                "afgebroken",
                &[],
            ),
        ),
        (
            "afbreken mislukt",
            lvbb_xml::verzoek_resultaat(
                Some(BreekPublicatieAfOpdracht),
                "rbo-2027-0005",
                t,
                "niet-valide",
                &veel[..3],
            ),
        ),
        (
            "revisie",
            lvbb_xml::verzoek_resultaat(
                Some(RevisieOpdracht),
                "rbo-2027-0006",
                t,
                "mutatie-voltooid",
                &[],
            ),
        ),
        (
            "validatie revisie",
            lvbb_xml::verzoek_resultaat(
                Some(ValidatieRevisieOpdracht),
                "rbo-2027-0006",
                t,
                "niet-valide",
                &veel[..2],
            ),
        ),
        (
            "procedureverloopmutatie",
            lvbb_xml::verzoek_resultaat(
                Some(ProcedureverloopmutatieOpdracht),
                "rbo-2027-0007",
                t,
                "mutatie-voltooid",
                &[],
            ),
        ),
        (
            "validatie procedureverloopmutatie",
            lvbb_xml::verzoek_resultaat(
                Some(ValidatieProcedureverloopmutatieOpdracht),
                "rbo-2027-0007",
                t,
                "valide",
                &[],
            ),
        ),
        (
            "registratie",
            lvbb_xml::verzoek_resultaat(
                Some(RegistratieOpdracht),
                "rbo-2027-0008",
                t,
                "registratie-voltooid",
                &[],
            ),
        ),
        (
            "validatie registratie",
            lvbb_xml::verzoek_resultaat(
                Some(ValidatieRegistratieOpdracht),
                "rbo-2027-0008",
                t,
                "valide",
                &[],
            ),
        ),
        (
            "directe mutatie (LVBB 1.2)",
            lvbb_xml::verzoek_resultaat(
                Some(DirecteMutatieOpdracht),
                "rbo-2027-0009",
                t,
                "mutatie-voltooid",
                &[],
            ),
        ),
        (
            "opdracht onleesbaar",
            lvbb_xml::verzoek_resultaat(None, "", t, "niet-valide", &veel[..2]),
        ),
        (
            "idLevering met spatie",
            lvbb_xml::verzoek_resultaat(
                Some(ValidatieOpdracht),
                "kapot id <&>",
                t,
                "niet-valide",
                &veel[1..2],
            ),
        ),
    ];
    let tmp = std::env::temp_dir().join(format!("regelbank-lvbb-xml-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for (i, (naam, xml)) in gevallen.iter().enumerate() {
        assert_eq!(
            kies("resultaat.xml", xml.as_bytes()),
            Keuze::Schema(transport),
            "{naam}"
        );
        let ms = sets.valideer("resultaat.xml", xml.as_bytes(), transport);
        assert!(ms.is_empty(), "{naam}: {ms:#?}\n{xml}");
        if xmllint_aanwezig() {
            let f = tmp.join(format!("{i}.xml"));
            std::fs::write(&f, xml).unwrap();
            let x = xmllint(transport.xsd(), &f);
            assert_eq!(x.code, 0, "{naam}: {}\n{xml}", x.stderr);
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);

    // Content checks on the big one.
    let xml = &gevallen[1].1;
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<publicatieVerzoekResultaat xmlns=\"http://www.overheid.nl/2017/lvbb\" xmlns:stop=\"http://www.overheid.nl/2017/stop\">"));
    assert!(xml.contains("<uitkomst>succes</uitkomst>"));
    assert!(xml.contains("<uitkomst>niet-valide</uitkomst>\n   </verslag>"));
    assert!(xml.contains("Het bestand 'a&lt;b&gt;&amp;&quot;c&quot;.xml'"));
    assert!(xml.contains("één, ĳ, € — 日本語 😀"));
    assert!(xml.contains("<stop:categorie>besluit.xml:21:30</stop:categorie>"));
    assert!(xml.contains("<stop:uitspraak property=\"regel\">21</stop:uitspraak>"));
    assert!(xml.contains("<stop:uitspraak property=\"eId\">art_I&lt;&amp;&gt;</stop:uitspraak>"));
    assert!(xml.contains("besturingsteken \u{FFFD}"));
    assert_eq!(xml.matches("<melding>").count(), veel.len());
    // Without findings: one informational melding.
    assert!(gevallen[0].1.contains("<stop:code>RB4004</stop:code>"));
    assert!(gevallen[4].1.contains("<uitkomst>ok</uitkomst>"));
    assert!(
        gevallen[5]
            .1
            .contains("<uitkomst>behandeling-mislukt</uitkomst>")
    );
    assert!(
        gevallen[3]
            .1
            .contains("<voortgang>validatie-voltooid</voortgang>")
    );
    assert!(
        gevallen[13].1.contains("<uitkomst>mislukt</uitkomst>")
            && gevallen[13].1.contains("<idLevering>onbekend</idLevering>")
    );
}

/// Peak and current resident memory in MB (Linux), after resetting the peak.
fn geheugen(reset: bool) -> Option<(f64, f64)> {
    if reset {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |veld: &str| -> Option<f64> {
        let l = status.lines().find(|l| l.starts_with(veld))?;
        Some(l.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
    };
    Some((kb("VmHWM:")?, kb("VmRSS:")?))
}

/// The 50 MB besluit of the ingest benchmark (`GenSpec { regelingen: 1, artikelen: 38_500,
/// with_gio: true }`, see docs/benchmarks.md):
/// `cargo test -p validator --test xsd large_besluit -- --ignored --nocapture`.
#[test]
#[ignore]
fn large_besluit() {
    let Some(sets) = sets() else { return };
    let spec = fixtures::GenSpec {
        regelingen: 1,
        artikelen: 38_500,
        with_gio: true,
        ..Default::default()
    };
    let t = Instant::now();
    let files = fixtures::generate_delivery(&spec, 0);
    let besluit = files.iter().max_by_key(|f| f.bytes.len()).unwrap();
    eprintln!(
        "generated {} ({:.1} MB) in {:.1?}",
        besluit.name,
        besluit.bytes.len() as f64 / 1e6,
        t.elapsed()
    );
    sets.laad(SchemaKeuze::new(
        SchemaSet::Lvbb130icStop141,
        SchemaSoort::StopAanlevering,
    ))
    .unwrap();
    let voor = geheugen(true);
    let t = Instant::now();
    let ms = sets.valideer_bestand(&besluit.name, &besluit.bytes);
    let duur = t.elapsed();
    let na = geheugen(false);
    eprintln!(
        "validated in {duur:.1?}: {} meldingen; resident memory before {voor:?}, peak during and after (MB) {na:?}",
        ms.len()
    );
    assert!(ms.is_empty(), "{:#?}", &ms[..ms.len().min(5)]);
    for f in &files {
        assert!(
            sets.valideer_bestand(&f.name, &f.bytes).is_empty(),
            "{}",
            f.name
        );
    }
}
