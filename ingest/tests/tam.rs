//! The TAM route: every input kind is stored byte for byte, extracted where possible, marked,
//! kept apart from consolidation, and linked as superseded when a conforming version arrives.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use ingest::pipeline::{Config, Uitkomst, ingest_many};
use ingest::tam::{self, Formaat, TamFout, TamIndex, TamInvoer};
use ingest::tijdreis::Lezer;
use store::Store;

const HAVENKWARTIER: &str = "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier";
const OIN: &str = "00000001000000990100";

fn cfg() -> Config {
    Config::new(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap())
}

fn invoer(soort: &str, titel: &str, regeling: Option<&str>) -> TamInvoer {
    TamInvoer {
        bevoegd_gezag: Some("gm9901".into()),
        soort: Some(soort.into()),
        titel: Some(titel.into()),
        datum_bekendmaking: Some("2027-02-15".into()),
        regeling: regeling.map(str::to_string),
        id_levering: None,
    }
}

/// A small, valid PDF (our own writer): an Info dictionary with the title, one page per text.
fn pdf(titel: &str, paginas: &[&str]) -> Vec<u8> {
    let n = paginas.len();
    // Objects: 1 catalog, 2 pages, 3 font, 4 info, then per page: page, content.
    let mut objecten: Vec<String> = Vec::new();
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 5 + 2 * i)).collect();
    objecten.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    objecten.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")));
    objecten.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into());
    objecten.push(format!("<< /Title ({titel}) /Author (Gemeente Regelbank-Oost) >>"));
    for (i, tekst) in paginas.iter().enumerate() {
        objecten.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            6 + 2 * i
        ));
        let stroom = format!("BT /F1 12 Tf 72 720 Td ({tekst}) Tj ET");
        objecten.push(format!("<< /Length {} >>\nstream\n{stroom}\nendstream", stroom.len()));
    }
    let mut uit = b"%PDF-1.4\n".to_vec();
    let mut posities = Vec::new();
    for (i, o) in objecten.iter().enumerate() {
        posities.push(uit.len());
        write!(uit, "{} 0 obj\n{o}\nendobj\n", i + 1).unwrap();
    }
    let xref = uit.len();
    write!(uit, "xref\n0 {}\n0000000000 65535 f \n", objecten.len() + 1).unwrap();
    for p in posities {
        write!(uit, "{p:010} 00000 n \n").unwrap();
    }
    write!(uit, "trailer\n<< /Size {} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref}\n%%EOF\n", objecten.len() + 1).unwrap();
    uit
}

fn zip_van(bestanden: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (naam, b) in bestanden {
        w.start_file(*naam, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(b).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn zip_map(dir: &Path) -> Vec<u8> {
    let mut bestanden: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    bestanden.sort();
    let refs: Vec<(&str, &[u8])> = bestanden.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    zip_van(&refs)
}

fn fixture(soort: &str, naam: &str) -> PathBuf {
    fixtures::fixtures_dir().join(soort).join(naam)
}

const IMRO_GML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<imro:FeatureCollectionIMRO xmlns:imro="http://www.geonovum.nl/imro/2012/1.1" xmlns:gml="http://www.opengis.net/gml/3.2">
  <imro:featureMember>
    <imro:Bestemmingsplangebied gml:id="NL.IMRO.9901.BPCentrum-ON01">
      <imro:identificatie>NL.IMRO.9901.BPCentrum-ON01</imro:identificatie>
      <imro:typePlan>bestemmingsplan</imro:typePlan>
      <imro:naam>Bestemmingsplan Centrum Regelbank-Oost</imro:naam>
      <imro:locatienaam>Centrum</imro:locatienaam>
      <imro:planstatusInfo><imro:PlanstatusEnDatum><imro:planstatus>ontwerp</imro:planstatus><imro:datum>2026-11-02</imro:datum></imro:PlanstatusEnDatum></imro:planstatusInfo>
    </imro:Bestemmingsplangebied>
  </imro:featureMember>
  <imro:featureMember>
    <imro:Enkelbestemming gml:id="b1"><imro:naam>Wonen</imro:naam></imro:Enkelbestemming>
  </imro:featureMember>
</imro:FeatureCollectionIMRO>"#;

const IMRO_REGELS: &str = "<html><head><title>Regels Centrum</title></head><body>\
    <h2>Artikel 3 Wonen</h2><p>De voor Wonen aangewezen gronden zijn bestemd voor woningen en aan-huis-verbonden beroepen.</p>\
    <h2>Artikel 4 Verkeer</h2><p>Parkeren is toegestaan binnen het bouwvlak.</p></body></html>";

#[test]
fn elk_invoerformaat_bytes_uit_gelijk_aan_bytes_in() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let stop_zip = zip_map(&fixture("broken", "onbekend-element"));
    let gevallen: Vec<(&str, Vec<u8>, Formaat, &str)> = vec![
        ("plan.pdf", pdf("Voorontwerp omgevingsplan", &["Artikel 1 Dakkapellen zijn vergunningvrij", "Artikel 2 Bouwhoogte"]), Formaat::Pdf, "dakkapellen"),
        ("regels.html", IMRO_REGELS.as_bytes().to_vec(), Formaat::Html, "aan-huis-verbonden"),
        ("tekst.xml", b"<regels><Artikel eId=\"art_1\"><Kop>Artikel 1</Kop><Al>Geen zonnepanelen op monumenten.</Al></Artikel></regels>".to_vec(), Formaat::Xml, "zonnepanelen"),
        ("plan.zip", zip_van(&[("NL.IMRO.9901.BPCentrum-ON01.gml", IMRO_GML.as_bytes()), ("r_NL.IMRO.9901.BPCentrum-ON01.html", IMRO_REGELS.as_bytes())]), Formaat::Zip, "Parkeren"),
        ("levering.zip", stop_zip, Formaat::Zip, "Havenkwartier"),
    ];
    for (naam, bytes, formaat, woord) in &gevallen {
        let r = tam::ingest_tam(&store, naam, bytes, invoer("TAM-omgevingsplan", naam, None), OIN, Utc::now()).unwrap();
        assert!(!r.herhaald);
        assert_eq!(r.hash, store::Hash::of(bytes).to_hex(), "{naam}: the receipt is the hash of the bytes");
        assert_eq!(r.document.bestand.formaat, *formaat, "{naam}");
        let index = TamIndex::open(&store).unwrap();
        let o = index.get(&r.id).unwrap().expect("indexed");
        assert!(o.tam);
        assert_eq!(&tam::bestand(&store, &o).unwrap(), bytes, "{naam}: bytes out = bytes in");
        let doc = tam::document(&store, &o).unwrap();
        assert!(
            doc.stukken().any(|(_, s)| s.tekst.to_lowercase().contains(&woord.to_lowercase())),
            "{naam}: '{woord}' not extracted: {:#?}",
            doc.onderdelen
        );
    }
    let index = TamIndex::open(&store).unwrap();
    let alle = index.alle().unwrap();
    assert_eq!(alle.len(), gevallen.len());
    // Metadata per kind.
    let doc = |naam: &str| tam::document(&store, alle.iter().find(|o| o.bestand.naam == naam).unwrap()).unwrap();
    let p = doc("plan.pdf");
    assert_eq!(p.onderdelen[0].metadata["titel"], "Voorontwerp omgevingsplan");
    assert_eq!(p.onderdelen[0].metadata["paginas"], "2");
    assert_eq!(p.onderdelen[0].stukken.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(), ["pagina 1", "pagina 2"]);
    assert_eq!(doc("regels.html").onderdelen[0].metadata["titel"], "Regels Centrum");
    let imro = doc("plan.zip");
    let gml = imro.onderdelen.iter().find(|o| o.formaat == Formaat::Imro).expect("GML recognised as IMRO");
    assert_eq!(gml.metadata["imro:identificatie"], "NL.IMRO.9901.BPCentrum-ON01");
    assert_eq!(gml.metadata["imro:naam"], "Bestemmingsplan Centrum Regelbank-Oost");
    assert_eq!(gml.metadata["imro:planstatus"], "ontwerp");
    assert_eq!(gml.metadata["imro:datum"], "2026-11-02");
    let stop = doc("levering.zip");
    assert_eq!(stop.works, [HAVENKWARTIER], "the STOP metadata name the regeling");
    assert!(stop.onderdelen.iter().any(|o| o.formaat == Formaat::Stop));
    // The ledger has one record per submission and verify is clean.
    assert_eq!(store.last_seq(), gevallen.len() as u64);
    let v = store.verify().unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
}

#[test]
fn kapotte_pdf_wordt_bewaard_en_is_vindbaar_op_metadata() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let mut kapot = pdf("Omgevingsplan Noord", &["Artikel 1"]);
    kapot.truncate(kapot.len() / 2);
    kapot.extend_from_slice(b"\x00\xff garbage");
    let r = tam::ingest_tam(&store, "noord.pdf", &kapot, invoer("TAM-omgevingsplan", "Omgevingsplan Noord (TAM)", None), OIN, Utc::now())
        .unwrap();
    let o = TamIndex::open(&store).unwrap().get(&r.id).unwrap().unwrap();
    assert!(!o.fouten.is_empty(), "the extraction failure is recorded");
    assert_eq!(o.metadata.titel, "Omgevingsplan Noord (TAM)");
    assert_eq!(tam::bestand(&store, &o).unwrap(), kapot);
    // Findable by its metadata through the bevoegd gezag list.
    let van_bg = TamIndex::open(&store).unwrap().van_bevoegd_gezag("gm9901").unwrap();
    assert_eq!(van_bg.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), [r.id.as_str()]);
}

#[test]
fn foute_metadata_en_lege_bestanden_laten_de_store_ongemoeid() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let mut i = invoer("TAM-vergunning", "", Some("/akn/nl/act/gm9901/2027/X/nld@2027-01-01;1"));
    i.datum_bekendmaking = Some("15-02-2027".into());
    let TamFout::Metadata(m) = tam::ingest_tam(&store, "a.pdf", b"%PDF-1.4", i, OIN, Utc::now()).unwrap_err() else { panic!() };
    let codes: Vec<&str> = m.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(codes, ["RB6001", "RB6003", "RB6004", "RB6007"], "{m:?}");
    assert!(m.iter().all(|m| !m.beschrijving.is_empty()));
    assert!(matches!(
        tam::ingest_tam(&store, "a.pdf", b"", invoer("overig", "Leeg", None), OIN, Utc::now()),
        Err(TamFout::Leeg)
    ));
    assert_eq!(store.last_seq(), 0);
}

#[test]
fn dezelfde_inzending_twee_keer_en_een_gebruikte_id() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let b = pdf("Plan", &["tekst"]);
    let a = tam::ingest_tam(&store, "p.pdf", &b, invoer("projectbesluit", "Plan", None), OIN, Utc::now()).unwrap();
    assert_eq!(a.document.metadata.soort, "TAM-projectbesluit", "soort without the prefix is accepted");
    let again = tam::ingest_tam(&store, "p.pdf", &b, invoer("projectbesluit", "Plan", None), OIN, Utc::now()).unwrap();
    assert!(again.herhaald);
    assert_eq!((again.id, again.seq), (a.id, a.seq));
    assert_eq!(store.last_seq(), 1);
    let mut met_id = invoer("overig", "Plan", None);
    met_id.id_levering = Some("lev-1".into());
    tam::ingest_tam(&store, "p.pdf", &b, met_id.clone(), OIN, Utc::now()).unwrap();
    let ander = pdf("Ander plan", &["andere tekst"]);
    assert!(matches!(tam::ingest_tam(&store, "q.pdf", &ander, met_id, OIN, Utc::now()), Err(TamFout::IdGebruikt(_))));
    assert_eq!(store.last_seq(), 2);
}

#[test]
fn sidecar_json_en_xml() {
    let j = TamInvoer::uit_sidecar(br#"{"bevoegdGezag":"pv26","soort":"TAM-omgevingsverordening","titel":"Verordening","datumBekendmaking":"2027-01-05"}"#).unwrap();
    let x = TamInvoer::uit_sidecar(
        b"<tam xmlns=\"urn:x\"><bevoegdGezag>pv26</bevoegdGezag><soort>TAM-omgevingsverordening</soort><titel>Verordening</titel><datumBekendmaking>2027-01-05</datumBekendmaking></tam>",
    )
    .unwrap();
    assert_eq!(j, x);
    assert_eq!(j.valideer().unwrap().soort, "TAM-omgevingsverordening");
    assert_eq!(TamInvoer::uit_sidecar(b"<tam><titel>x</tam>").unwrap_err().code, "RB6002");
}

/// (vanaf, version) of each period of the regeling's timeline, as known on `op`.
fn tijdlijn(store: &Store, op: &str) -> Vec<(String, Option<String>)> {
    let mut l = Lezer::open(store).unwrap();
    l.tijdlijn(HAVENKWARTIER, op)
        .unwrap()
        .map(|t| t.perioden.into_iter().map(|p| (p.vanaf, p.toestand.inhoud.instrumentversie)).collect())
        .unwrap_or_default()
}

#[test]
fn auto_tam_aan_en_uit_en_vervanging_door_conforme_versie() {
    let broken = fixture("broken", "gio-hash-onjuist");
    // Off (default): the failed delivery is rejected, no TAM document.
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let r = ingest::ingest(&store, &broken, &cfg()).unwrap();
    assert_eq!(r.uitkomst, Uitkomst::NietValide);
    assert!(r.tam.is_none());
    assert!(TamIndex::open(&store).unwrap().alle().unwrap().is_empty());

    // On for gm9901 (matched through the besluit's maker): published through TAM, as a zip.
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let zipdir = tempfile::tempdir().unwrap();
    let zip_pad = zipdir.path().join("gio-hash-onjuist.zip");
    let zip_bytes = zip_map(&broken);
    std::fs::write(&zip_pad, &zip_bytes).unwrap();
    let mut c = cfg();
    c.auto_tam = vec!["gm9901".into()];
    let r = ingest::ingest(&store, &zip_pad, &c).unwrap();
    assert_eq!(r.uitkomst, Uitkomst::Tam, "{:?}", r.meldingen);
    assert!(r.meldingen.iter().any(|m| m.is_fout()), "the validation report stays attached");
    assert!(r.works.is_empty() && r.expressions.is_empty(), "nothing enters the catalogue");
    let id = r.tam.clone().expect("TAM id");
    let index = TamIndex::open(&store).unwrap();
    let o = index.get(&id).unwrap().unwrap();
    assert!(o.automatisch);
    assert_eq!(o.works, [HAVENKWARTIER]);
    assert_eq!(o.metadata.bevoegd_gezag, OIN);
    assert!(o.redenen.len() > 1, "the reasons name the blocking meldingen: {:?}", o.redenen);
    assert_eq!(tam::bestand(&store, &o).unwrap(), zip_bytes, "the zip as received");
    let doc = tam::document(&store, &o).unwrap();
    assert!(doc.rapport.is_some() && !doc.meldingen.is_empty());
    assert!(store.index().work(HAVENKWARTIER).unwrap().is_none(), "no regeling work from a TAM document");
    assert!(tijdlijn(&store, "2027-12-31").is_empty(), "no toestanden from a TAM document");
    assert_eq!(TamIndex::open(&store).unwrap().van_werk(HAVENKWARTIER).unwrap().len(), 1);

    // The conforming STOP version of the same regeling supersedes it; it stays retrievable.
    let r2 = ingest::ingest(&store, &fixture("deliveries", "01-initieel-compact-gio"), &c).unwrap();
    assert_eq!(r2.uitkomst, Uitkomst::Gepubliceerd, "{:?}", r2.meldingen);
    let o = TamIndex::open(&store).unwrap().get(&id).unwrap().unwrap();
    let v = o.vervangen_door.clone().expect("superseded");
    assert!(v.expressie.starts_with(HAVENKWARTIER), "{v:?}");
    assert_eq!(tam::bestand(&store, &o).unwrap(), zip_bytes);

    // Derived data: a rebuild gives the same index.
    let voor = TamIndex::open(&store).unwrap().alle().unwrap();
    assert_eq!(TamIndex::herbouw(&store).unwrap(), 1);
    assert_eq!(TamIndex::open(&store).unwrap().alle().unwrap(), voor);
}

#[test]
fn een_tam_document_verandert_geen_toestand() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let paden = [fixture("deliveries", "01-initieel-compact-gio"), fixture("deliveries", "06-wijzigingsbesluit")];
    let rs = ingest_many(&store, &paden, &cfg(), |_| {}).unwrap();
    assert!(rs.iter().all(|r| r.uitkomst.accepted()), "{rs:?}");
    let voor: Vec<_> = ["2027-03-01", "2027-04-10", "2027-12-31"].iter().map(|op| tijdlijn(&store, op)).collect();
    assert!(!voor[2].is_empty());
    let werk_voor = store.index().work(HAVENKWARTIER).unwrap();
    // TAM documents naming the regeling, dated before and after its versions.
    for (i, datum) in ["2027-03-20", "2027-05-01"].iter().enumerate() {
        let mut inv = invoer("TAM-omgevingsplan", &format!("Omgevingsplan Havenkwartier, TAM-deel {i}"), Some(HAVENKWARTIER));
        inv.datum_bekendmaking = Some(datum.to_string());
        tam::ingest_tam(&store, "deel.html", IMRO_REGELS.as_bytes(), inv, OIN, Utc::now()).unwrap();
    }
    let na: Vec<_> = ["2027-03-01", "2027-04-10", "2027-12-31"].iter().map(|op| tijdlijn(&store, op)).collect();
    assert_eq!(voor, na);
    assert_eq!(store.index().work(HAVENKWARTIER).unwrap(), werk_voor);
    let tam = TamIndex::open(&store).unwrap().van_werk(HAVENKWARTIER).unwrap();
    assert_eq!(tam.len(), 2);
    // Delivered after the conforming versions, so not superseded by them.
    assert!(tam.iter().all(|o| o.vervangen_door.is_none()));
    // On the timeline next to the toestanden, at their bekendmaking dates, as known now; not
    // yet known in the past.
    let vandaag = Utc::now().format("%Y-%m-%d").to_string();
    let op = tam::op_tijdlijn(&store, HAVENKWARTIER, &vandaag).unwrap();
    assert_eq!(op.iter().map(|t| t.datum_bekendmaking.as_str()).collect::<Vec<_>>(), ["2027-03-20", "2027-05-01"]);
    assert!(op.iter().all(|t| t.tam && t.titel.contains("TAM-deel")));
    assert!(tam::op_tijdlijn(&store, HAVENKWARTIER, "2000-01-01").unwrap().is_empty());
}

#[test]
fn tam_documenten_zijn_vindbaar_gemarkeerd_en_filterbaar() {
    use search::{Tijdbereik, Zoeker, Zoekvraag};
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let r = ingest::ingest(&store, &fixture("deliveries", "01-initieel-compact-gio"), &cfg()).unwrap();
    assert!(r.uitkomst.accepted());
    let plan = pdf("Voorontwerp", &["Dakkapellen aan de achterzijde zijn vergunningvrij"]);
    let a = tam::ingest_tam(&store, "plan.pdf", &plan, invoer("TAM-omgevingsplan", "Voorontwerp dakkapellen", None), OIN, Utc::now()).unwrap();
    let mut kapot = pdf("x", &["y"]);
    kapot.truncate(40);
    let b = tam::ingest_tam(&store, "kapot.pdf", &kapot, invoer("TAM-projectbesluit", "Projectbesluit Zuidelijke Ringweg", None), OIN, Utc::now())
        .unwrap();
    let zoeker = Zoeker::open(&ingest::zoek::map(&store)).unwrap();
    let vraag = |q: &str, tijd: Tijdbereik, tam: Option<bool>| {
        let mut v = Zoekvraag::nieuw(q, tijd);
        v.tam = tam;
        zoeker.zoek(&v).unwrap()
    };
    let op = |d: &str| Tijdbereik::Op { geldig_op: d.into(), in_werking_op: d.into(), beschikbaar_op: Utc::now().format("%Y-%m-%d").to_string() };
    // Stemmed text of the PDF, marked as TAM, from its bekendmaking date (2027-02-15) on.
    let res = vraag("dakkapel", op("2027-03-01"), None);
    let g: Vec<(&str, bool)> = res.groepen.iter().map(|g| (g.werk.as_str(), g.tam)).collect();
    assert_eq!(g, [(a.id.as_str(), true)], "{res:#?}");
    assert!(res.groepen[0].treffers[0].fragment.contains("<mark>"));
    assert!(vraag("dakkapel", op("2027-02-01"), None).groepen.is_empty(), "not before its bekendmaking");
    assert!(vraag("dakkapel", op("2027-03-01"), Some(false)).groepen.is_empty(), "filtered out with tam=false");
    // The corrupt PDF: no text, found by its metadata.
    let res = vraag("ringweg", Tijdbereik::Historisch { beschikbaar_op: Utc::now().format("%Y-%m-%d").to_string() }, Some(true));
    assert_eq!(res.groepen.iter().map(|g| g.werk.as_str()).collect::<Vec<_>>(), [b.id.as_str()]);
    // A word of the STOP regeling (in force from 2027-04-01, received 2027-03-01): only the
    // regeling, not marked.
    let later = Tijdbereik::Op { geldig_op: "2027-05-01".into(), in_werking_op: "2027-05-01".into(), beschikbaar_op: "2027-12-31".into() };
    let res = vraag("Havenkwartier", later, Some(false));
    assert!(!res.groepen.is_empty() && res.groepen.iter().all(|g| !g.tam));
}
