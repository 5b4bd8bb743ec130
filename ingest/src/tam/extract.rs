//! Metadata and text from whatever a TAM submission holds: PDF, HTML, XML (STOP, IMRO2012 GML,
//! other), and zips of these. Extraction never fails the submission: what cannot be read is
//! recorded as a failure of that part, and the bytes are kept regardless.

use std::collections::BTreeMap;
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ego_tree::iter as scraper_edge;
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

/// Text chunks longer than this are split (for search snippets and scoring).
const MAX_STUK: usize = 16_000;
/// Zip limits for TAM zips (as for delivery packages).
const MAX_ENTRIES: usize = 10_000;
const MAX_FILE: u64 = 100 * 1024 * 1024;
const MAX_TOTAL: u64 = 1024 * 1024 * 1024;
const MAX_RATIO: u64 = 200;
/// Pages read from one PDF at most.
const MAX_PAGINAS: usize = 5_000;

/// What kind of document a part is, as recognised from its bytes (and name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Formaat {
    Pdf,
    Html,
    /// An IMRO2012 plan (GML).
    Imro,
    /// A STOP module or a whole STOP delivery package (zip with opdracht.xml).
    Stop,
    Xml,
    Zip,
    Onbekend,
}

impl Formaat {
    pub fn mediatype(self) -> &'static str {
        match self {
            Formaat::Pdf => "application/pdf",
            Formaat::Html => "text/html",
            Formaat::Imro => "application/gml+xml",
            Formaat::Stop | Formaat::Xml => "application/xml",
            Formaat::Zip => "application/zip",
            Formaat::Onbekend => "application/octet-stream",
        }
    }
}

/// One chunk of text: a page of a PDF, a section of an HTML or XML document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stuk {
    /// Where it is: "pagina 3", the section heading, the element and its id.
    pub label: String,
    pub tekst: String,
}

/// One document of a submission (the submission itself, or an entry of its zip).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Onderdeel {
    pub naam: String,
    pub formaat: Formaat,
    pub grootte: u64,
    /// Metadata found in the document (title, IMRO identificatie, STOP work, …).
    pub metadata: BTreeMap<String, String>,
    pub stukken: Vec<Stuk>,
    /// What could not be read (never fatal).
    pub fouten: Vec<String>,
}

/// Recognise the format from the first bytes and the name.
pub fn herken(naam: &str, bytes: &[u8]) -> Formaat {
    let lower = naam.to_ascii_lowercase();
    if bytes.starts_with(b"%PDF-") {
        return Formaat::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Formaat::Zip;
    }
    let begin = &bytes[..bytes.len().min(4096)];
    let kop = String::from_utf8_lossy(begin).to_ascii_lowercase();
    let kop = kop.trim_start_matches('\u{feff}').trim_start();
    if lower.ends_with(".html") || lower.ends_with(".htm") || kop.starts_with("<!doctype html") || kop.contains("<html") {
        return Formaat::Html;
    }
    if kop.starts_with('<') {
        if kop.contains("www.geonovum.nl/imro/2012") || kop.contains("featurecollectionimro") {
            return Formaat::Imro;
        }
        if kop.contains("standaarden.overheid.nl/stop/") || kop.contains("standaarden.overheid.nl/lvbb/") {
            return Formaat::Stop;
        }
        return Formaat::Xml;
    }
    if lower.ends_with(".pdf") {
        return Formaat::Pdf;
    }
    Formaat::Onbekend
}

/// Extract one document (a zip is opened and its entries extracted, one level deep).
pub fn onderdelen(naam: &str, bytes: &[u8]) -> Vec<Onderdeel> {
    let formaat = herken(naam, bytes);
    if formaat == Formaat::Zip {
        return zip(naam, bytes, 0);
    }
    vec![een(naam, formaat, bytes)]
}

fn leeg(naam: &str, formaat: Formaat, grootte: u64) -> Onderdeel {
    Onderdeel {
        naam: naam.to_string(),
        formaat,
        grootte,
        metadata: BTreeMap::new(),
        stukken: Vec::new(),
        fouten: Vec::new(),
    }
}

fn een(naam: &str, formaat: Formaat, bytes: &[u8]) -> Onderdeel {
    let mut o = leeg(naam, formaat, bytes.len() as u64);
    // A parser bug on hostile input must not take the submission down: the bytes are stored
    // whatever happens here.
    let r = catch_unwind(AssertUnwindSafe(|| match formaat {
        Formaat::Pdf => pdf(bytes, &mut o),
        Formaat::Html => html(bytes, &mut o),
        Formaat::Imro => imro(bytes, &mut o),
        Formaat::Stop | Formaat::Xml => xml(bytes, &mut o),
        Formaat::Zip => {}
        Formaat::Onbekend => o.fouten.push("onbekend formaat: alleen opgeslagen, geen tekst gelezen".into()),
    }));
    if r.is_err() {
        o.stukken.clear();
        o.fouten.push(format!("{}: lezen afgebroken (interne fout van de lezer)", formaat.mediatype()));
    }
    o
}

fn zip(naam: &str, bytes: &[u8], diepte: usize) -> Vec<Onderdeel> {
    let mut out = Vec::new();
    let mut archief = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            let mut o = leeg(naam, Formaat::Zip, bytes.len() as u64);
            o.fouten.push(format!("geen geldig zip-bestand: {e}"));
            return vec![o];
        }
    };
    let mut zip_o = leeg(naam, Formaat::Zip, bytes.len() as u64);
    if archief.len() > MAX_ENTRIES {
        zip_o.fouten.push(format!("meer dan {MAX_ENTRIES} bestanden: niet uitgepakt"));
        return vec![zip_o];
    }
    let mut totaal = 0u64;
    if archief.index_for_name("opdracht.xml").is_some() {
        zip_o.metadata.insert("stop-levering".into(), "ja".into());
    }
    for i in 0..archief.len() {
        let mut f = match archief.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                zip_o.fouten.push(format!("bestand {i} niet leesbaar: {e}"));
                continue;
            }
        };
        if f.is_dir() {
            continue;
        }
        let Some(pad) = f.enclosed_name() else {
            zip_o.fouten.push(format!("{}: naam buiten het archief, overgeslagen", f.name().unwrap_or_default()));
            continue;
        };
        let entry = format!("{naam}/{}", pad.to_string_lossy());
        let size = f.size();
        if size > MAX_FILE || totaal + size > MAX_TOTAL {
            zip_o.fouten.push(format!("{entry}: te groot om te lezen ({size} bytes)"));
            continue;
        }
        if f.compressed_size() > 0 && size / f.compressed_size().max(1) > MAX_RATIO && size > 1024 * 1024 {
            zip_o.fouten.push(format!("{entry}: verdachte compressieverhouding, niet uitgepakt"));
            continue;
        }
        let mut inhoud = Vec::with_capacity(size.min(MAX_FILE) as usize);
        // Bounded read: the declared size may lie.
        if let Err(e) = (&mut f).take(MAX_FILE + 1).read_to_end(&mut inhoud) {
            zip_o.fouten.push(format!("{entry}: niet uit te pakken: {e}"));
            continue;
        }
        if inhoud.len() as u64 > MAX_FILE {
            zip_o.fouten.push(format!("{entry}: groter dan {MAX_FILE} bytes, niet gelezen"));
            continue;
        }
        totaal += inhoud.len() as u64;
        let formaat = herken(&entry, &inhoud);
        if formaat == Formaat::Zip {
            if diepte == 0 {
                out.extend(zip(&entry, &inhoud, diepte + 1));
            } else {
                zip_o.fouten.push(format!("{entry}: zip in zip in zip, niet uitgepakt"));
            }
            continue;
        }
        out.push(een(&entry, formaat, &inhoud));
    }
    let mut alles = vec![zip_o];
    alles.extend(out);
    alles
}

// ---------------------------------------------------------------------------------------------
// PDF

fn pdf_tekst(bytes: &[u8]) -> String {
    if bytes.starts_with(&[0xFE, 0xFF]) {
        let units: Vec<u16> = bytes[2..].chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(&bytes[3..]).into_owned();
    }
    // PDFDocEncoding agrees with Latin-1 on the printable range.
    bytes.iter().map(|&b| b as char).collect()
}

fn pdf(bytes: &[u8], o: &mut Onderdeel) {
    let doc = match lopdf::Document::load_mem(bytes) {
        Ok(d) => d,
        Err(e) => {
            o.fouten.push(format!("PDF niet leesbaar: {e}"));
            return;
        }
    };
    if let Ok(info) = doc.trailer.get(b"Info") {
        let dict = match info {
            lopdf::Object::Reference(id) => doc.get_dictionary(*id).ok(),
            lopdf::Object::Dictionary(d) => Some(d),
            _ => None,
        };
        if let Some(d) = dict {
            for (sleutel, naam) in [
                (&b"Title"[..], "titel"),
                (b"Author", "auteur"),
                (b"Subject", "onderwerp"),
                (b"Keywords", "trefwoorden"),
                (b"CreationDate", "aangemaakt"),
                (b"ModDate", "gewijzigd"),
                (b"Producer", "producent"),
            ] {
                if let Ok(lopdf::Object::String(s, _)) = d.get(sleutel) {
                    let t = pdf_tekst(s).trim().to_string();
                    if !t.is_empty() {
                        o.metadata.insert(naam.into(), t);
                    }
                }
            }
        }
    }
    let paginas = doc.get_pages();
    o.metadata.insert("paginas".into(), paginas.len().to_string());
    for (&n, _) in paginas.iter().take(MAX_PAGINAS) {
        match doc.extract_text(&[n]) {
            Ok(t) => voeg_stuk_toe(o, &format!("pagina {n}"), &t),
            Err(e) => o.fouten.push(format!("pagina {n}: tekst niet leesbaar: {e}")),
        }
    }
    if paginas.is_empty() {
        o.fouten.push("PDF zonder leesbare pagina's (beschadigd bestand?)".into());
    } else if o.stukken.is_empty() {
        o.fouten.push("geen tekst gevonden in de PDF (gescand document zonder tekstlaag, of beschadigd)".into());
    }
    if paginas.len() > MAX_PAGINAS {
        o.fouten.push(format!("alleen de eerste {MAX_PAGINAS} pagina's gelezen"));
    }
}

// ---------------------------------------------------------------------------------------------
// HTML

fn html(bytes: &[u8], o: &mut Onderdeel) {
    use scraper::{Html, Node};
    let tekst = String::from_utf8_lossy(bytes);
    let doc = Html::parse_document(&tekst);
    let mut label = String::from("begin");
    let mut huidig = String::new();
    let mut kop: Option<String> = None;
    let mut titel = String::new();
    // Walk the tree in document order; headings start a new chunk.
    for edge in doc.tree.root().traverse() {
        let scraper_edge::Edge::Open(node) = edge else {
            if let scraper_edge::Edge::Close(node) = edge
                && let Node::Element(e) = node.value()
                && is_kop(e.name())
                && let Some(k) = kop.take()
            {
                voeg_stuk_toe(o, &label, &huidig);
                huidig.clear();
                label = k.split_whitespace().collect::<Vec<_>>().join(" ");
            }
            continue;
        };
        match node.value() {
            Node::Element(e) if is_kop(e.name()) => kop = Some(String::new()),
            Node::Element(e) if matches!(e.name(), "p" | "li" | "tr" | "br" | "div" | "td") => huidig.push('\n'),
            Node::Element(e) if e.name() == "meta" => {
                if let (Some(n), Some(c)) = (e.attr("name"), e.attr("content")) {
                    let n = n.to_ascii_lowercase();
                    if matches!(n.as_str(), "description" | "author" | "dcterms.identifier" | "dcterms.title" | "dcterms.creator" | "dcterms.issued") {
                        o.metadata.insert(format!("meta:{n}"), c.trim().to_string());
                    }
                }
            }
            Node::Text(t) => {
                let verborgen = node.ancestors().any(|a| {
                    matches!(a.value(), Node::Element(e) if matches!(e.name(), "script" | "style" | "head" | "template" | "noscript"))
                });
                let in_titel = node.ancestors().any(|a| matches!(a.value(), Node::Element(e) if e.name() == "title"));
                if in_titel {
                    titel.push_str(t);
                } else if !verborgen {
                    match kop.as_mut() {
                        Some(k) => k.push_str(t),
                        None => huidig.push_str(t),
                    }
                }
            }
            _ => {}
        }
    }
    voeg_stuk_toe(o, &label, &huidig);
    let titel = titel.split_whitespace().collect::<Vec<_>>().join(" ");
    if !titel.is_empty() {
        o.metadata.insert("titel".into(), titel);
    }
}

fn is_kop(n: &str) -> bool {
    matches!(n, "h1" | "h2" | "h3" | "h4")
}

// ---------------------------------------------------------------------------------------------
// XML: STOP, IMRO2012, other

/// Elements that make a chunk of their own (STOP article-level units, IMRO/STRI text objects,
/// common document sections).
fn is_eenheid(lokaal: &str) -> bool {
    matches!(
        lokaal,
        "Artikel"
            | "Divisietekst"
            | "Bijlage"
            | "Toelichting"
            | "ArtikelgewijzeToelichting"
            | "Motivering"
            | "Tekstobject"
            | "Regel"
            | "section"
            | "article"
            | "chapter"
    )
}

/// STOP metadata elements worth keeping (first occurrence wins).
fn stop_veld(lokaal: &str) -> Option<&'static str> {
    Some(match lokaal {
        "FRBRWork" => "stop:work",
        "FRBRExpression" => "stop:expressie",
        "officieleTitel" => "titel",
        "citeertitel" => "citeertitel",
        "soortRegeling" => "stop:soortRegeling",
        "soortBestuursorgaan" => "stop:soortBestuursorgaan",
        "eindverantwoordelijke" => "stop:eindverantwoordelijke",
        "maker" => "stop:maker",
        "idBevoegdGezag" => "lvbb:idBevoegdGezag",
        "idLevering" => "lvbb:idLevering",
        "datumBekendmaking" => "lvbb:datumBekendmaking",
        _ => return None,
    })
}

fn lokaal(n: &str) -> String {
    match n.rfind(':') {
        Some(i) => n[i + 1..].to_string(),
        None => n.to_string(),
    }
}

fn xml(bytes: &[u8], o: &mut Onderdeel) {
    let mut r = quick_xml::Reader::from_reader(bytes);
    r.config_mut().trim_text(false);
    let mut buf = Vec::new();
    let mut stapel: Vec<String> = Vec::new();
    // Depth in the stack where the current chunk started, and its label.
    let mut eenheid: Option<(usize, String)> = None;
    let mut huidig = String::new();
    let mut label = String::from("begin");
    let mut veld: Option<&'static str> = None;
    let mut waarde = String::new();
    loop {
        match r.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let l = lokaal(e.name().as_ref());
                if stapel.is_empty() {
                    o.metadata.entry("xml:root".into()).or_insert_with(|| l.clone());
                }
                if eenheid.is_none() && is_eenheid(&l) {
                    voeg_stuk_toe(o, &label, &huidig);
                    huidig.clear();
                    let id = e
                        .attributes()
                        .flatten()
                        .find(|a| matches!(a.key.local_name().as_ref(), "eId" | "id" | "wId"))
                        .map(|a| a.value.into_owned());
                    let l2 = match id {
                        Some(id) => format!("{l} {id}"),
                        None => l.clone(),
                    };
                    eenheid = Some((stapel.len(), l2.clone()));
                    label = l2;
                }
                if veld.is_none() {
                    veld = stop_veld(&l);
                    waarde.clear();
                }
                if matches!(l.as_str(), "Kop" | "Opschrift" | "Titel" | "Nummer" | "Label") {
                    huidig.push(' ');
                }
                stapel.push(l);
            }
            Ok(Event::End(_)) => {
                let l = stapel.pop().unwrap_or_default();
                if let Some(v) = veld
                    && stop_veld(&l) == Some(v)
                {
                    let w = waarde.split_whitespace().collect::<Vec<_>>().join(" ");
                    if v == "stop:work" && w.starts_with("/akn/nl/act/") {
                        o.metadata.entry("stop:regeling".to_string()).or_insert_with(|| w.clone());
                    }
                    if !w.is_empty() {
                        o.metadata.entry(v.to_string()).or_insert(w);
                    }
                    veld = None;
                }
                if matches!(l.as_str(), "Al" | "Kop" | "Li" | "p" | "Lid" | "Titel") {
                    huidig.push('\n');
                }
                if let Some((d, _)) = &eenheid
                    && *d == stapel.len()
                {
                    voeg_stuk_toe(o, &label, &huidig);
                    huidig.clear();
                    eenheid = None;
                    label = format!("na {l}");
                }
            }
            Ok(Event::Text(t)) => {
                let s: &str = t.as_ref();
                if veld.is_some() {
                    waarde.push_str(s);
                }
                huidig.push_str(s);
            }
            Ok(Event::GeneralRef(e)) => {
                let naam: &str = e.as_ref();
                let c = match naam {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => " ",
                };
                huidig.push_str(c);
                if veld.is_some() {
                    waarde.push_str(c);
                }
            }
            Ok(Event::CData(t)) => huidig.push_str(t.as_ref()),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                o.fouten.push(format!("XML niet goed gevormd bij byte {}: {e}", r.error_position()));
                break;
            }
        }
        buf.clear();
    }
    voeg_stuk_toe(o, &label, &huidig);
}

/// IMRO2012 plan (GML): the plan area's identificatie, naam, planstatus and datum, the plan
/// type and the overheid; the names of the bestemmingen as one chunk.
fn imro(bytes: &[u8], o: &mut Onderdeel) {
    let mut r = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut stapel: Vec<String> = Vec::new();
    let mut in_gebied = false;
    let mut bestemmingen: Vec<String> = Vec::new();
    let mut tekst = String::new();
    loop {
        match r.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let l = lokaal(e.name().as_ref());
                if l.ends_with("plangebied") || l == "Plangebied" {
                    in_gebied = true;
                    o.metadata.entry("imro:object".into()).or_insert_with(|| l.clone());
                }
                stapel.push(l);
                tekst.clear();
            }
            Ok(Event::Empty(e)) => {
                let l = lokaal(e.name().as_ref());
                if in_gebied && l == "externPlan" {
                    // nothing to read
                }
            }
            Ok(Event::Text(t)) => {
                tekst.push_str(t.as_ref());
            }
            Ok(Event::End(_)) => {
                let l = stapel.pop().unwrap_or_default();
                let w = tekst.trim().to_string();
                let ouder = stapel.last().map(String::as_str).unwrap_or("");
                if in_gebied && !w.is_empty() {
                    let sleutel = match (l.as_str(), ouder) {
                        ("identificatie", _) => Some("imro:identificatie"),
                        ("naam", _) if ouder.ends_with("plangebied") => Some("imro:naam"),
                        ("planstatus", _) => Some("imro:planstatus"),
                        ("datum", _) => Some("imro:datum"),
                        ("typePlan", _) => Some("imro:typePlan"),
                        ("overheidscode", _) => Some("imro:overheidscode"),
                        ("overheidsnaam", _) | ("naamOverheid", _) => Some("imro:overheid"),
                        _ => None,
                    };
                    if let Some(s) = sleutel {
                        o.metadata.entry(s.into()).or_insert(w.clone());
                    }
                }
                if !in_gebied && l == "naam" && !w.is_empty() && bestemmingen.len() < 10_000 {
                    bestemmingen.push(format!("{ouder}: {w}"));
                }
                if l.ends_with("plangebied") || l == "Plangebied" {
                    in_gebied = false;
                }
                tekst.clear();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                o.fouten.push(format!("GML niet goed gevormd bij byte {}: {e}", r.error_position()));
                break;
            }
        }
        buf.clear();
    }
    if let Some(n) = o.metadata.get("imro:naam").cloned() {
        o.metadata.entry("titel".into()).or_insert(n);
    }
    let mut kop = String::new();
    for (k, v) in &o.metadata {
        kop.push_str(&format!("{k}: {v}\n"));
    }
    voeg_stuk_toe(o, "plan", &kop);
    bestemmingen.sort();
    bestemmingen.dedup();
    voeg_stuk_toe(o, "bestemmingen", &bestemmingen.join("\n"));
    if !o.metadata.contains_key("imro:identificatie") {
        o.fouten.push("geen IMRO-plangebied met identificatie gevonden".into());
    }
}

/// Add a chunk (whitespace normalised per line; split when long; empty text is skipped).
fn voeg_stuk_toe(o: &mut Onderdeel, label: &str, tekst: &str) {
    let regels: Vec<String> = tekst
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    let schoon = regels.join("\n");
    if schoon.is_empty() {
        return;
    }
    let label = if label.trim().is_empty() { "tekst" } else { label.trim() };
    if schoon.len() <= MAX_STUK {
        o.stukken.push(Stuk { label: label.to_string(), tekst: schoon });
        return;
    }
    let mut deel = String::new();
    let mut n = 1;
    for regel in regels {
        if !deel.is_empty() && deel.len() + regel.len() > MAX_STUK {
            o.stukken.push(Stuk { label: format!("{label} (deel {n})"), tekst: std::mem::take(&mut deel) });
            n += 1;
        }
        if !deel.is_empty() {
            deel.push('\n');
        }
        // A single line longer than the limit is cut at a char boundary.
        let mut r = regel.as_str();
        while r.len() > MAX_STUK {
            let mut i = MAX_STUK;
            while !r.is_char_boundary(i) {
                i -= 1;
            }
            o.stukken.push(Stuk { label: format!("{label} (deel {n})"), tekst: r[..i].to_string() });
            n += 1;
            r = &r[i..];
        }
        deel.push_str(r);
    }
    if !deel.is_empty() {
        o.stukken.push(Stuk { label: format!("{label} (deel {n})"), tekst: deel });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn herkent_formaten() {
        assert_eq!(herken("a.pdf", b"%PDF-1.4\n"), Formaat::Pdf);
        assert_eq!(herken("x", b"PK\x03\x04rest"), Formaat::Zip);
        assert_eq!(herken("x.html", b"<p>hoi</p>"), Formaat::Html);
        assert_eq!(herken("x", b"<!DOCTYPE html><html>"), Formaat::Html);
        assert_eq!(herken("x.gml", b"<imro:FeatureCollectionIMRO xmlns:imro=\"http://www.geonovum.nl/imro/2012/1.1\">"), Formaat::Imro);
        assert_eq!(herken("x.xml", b"<AanleveringBesluit xmlns=\"https://standaarden.overheid.nl/lvbb/stop/aanlevering/\">"), Formaat::Stop);
        assert_eq!(herken("x.xml", b"<?xml version=\"1.0\"?><doc/>"), Formaat::Xml);
        assert_eq!(herken("x.bin", b"\x00\x01"), Formaat::Onbekend);
    }

    #[test]
    fn html_per_kop() {
        let h = b"<html><head><title> Plan  Centrum </title><style>p{}</style></head><body>\
            <p>Inleiding</p><h2>Artikel 1 Begrippen</h2><p>Een bouwwerk is ...</p>\
            <h2>Artikel 2</h2><p>Het is verboden &amp; zo.</p><script>x()</script></body></html>";
        let o = &onderdelen("p.html", h)[0];
        assert_eq!(o.metadata["titel"], "Plan Centrum");
        let labels: Vec<&str> = o.stukken.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["begin", "Artikel 1 Begrippen", "Artikel 2"]);
        assert_eq!(o.stukken[2].tekst, "Het is verboden & zo.");
        assert!(o.stukken.iter().all(|s| !s.tekst.contains("x()") && !s.tekst.contains("p{}")));
    }

    #[test]
    fn lange_tekst_wordt_gesplitst() {
        let mut o = leeg("x", Formaat::Xml, 0);
        let regel = "woord ".repeat(1000);
        let tekst = vec![regel.as_str(); 10].join("\n");
        voeg_stuk_toe(&mut o, "lang", &tekst);
        assert!(o.stukken.len() > 1);
        assert!(o.stukken.iter().all(|s| s.tekst.len() <= MAX_STUK));
        let totaal: usize = o.stukken.iter().map(|s| s.tekst.matches("woord").count()).sum();
        assert_eq!(totaal, 10_000);
    }

    #[test]
    fn kapotte_xml_geeft_fout_en_houdt_wat_er_was() {
        let o = &onderdelen("x.xml", b"<doc><Artikel eId=\"art_1\"><Al>Eerste tekst</Al></Artikel><Artikel>")[0];
        assert!(o.stukken.iter().any(|s| s.label == "Artikel art_1" && s.tekst.contains("Eerste tekst")));
        let o = &onderdelen("x.xml", b"<doc><a></b></doc>")[0];
        assert!(!o.fouten.is_empty(), "{o:?}");
    }
}
