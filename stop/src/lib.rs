//! The STOP model: meldingen, the XML tree, identifiers, `opdracht.xml`, `manifest.xml` and the
//! STOP modules of a delivery (besluit, kennisgeving, informatieobject, revisie, rectificatie,
//! mededeling, procedureverloopmutatie); the byte-exact, editable text of a regeling and the
//! application of a `RegelingMutatie` to it (`tekst`).
//!
//! Architecture invariant: this crate does no I/O. It takes bytes and returns values and
//! meldingen; it knows nothing of zip files, the store, or HTTP.
pub mod ident;
pub mod manifest;
pub mod melding;
pub mod module;
pub mod opdracht;
pub mod tekst;
pub mod vocabulary;
pub mod xml;

pub use melding::{Ernst, Locatie, Melding, Soort};

/// Namespace URIs of the standard.
pub mod ns {
    pub const LVBB: &str = "http://www.overheid.nl/2017/lvbb";
    pub const AANLEVERING: &str = "https://standaarden.overheid.nl/lvbb/stop/aanlevering/";
    pub const DATA: &str = "https://standaarden.overheid.nl/stop/imop/data/";
    pub const TEKST: &str = "https://standaarden.overheid.nl/stop/imop/tekst/";
    pub const GEO: &str = "https://standaarden.overheid.nl/stop/imop/geo/";
    pub const GIO: &str = "https://standaarden.overheid.nl/stop/imop/gio/";
    pub const CONSOLIDATIE: &str = "https://standaarden.overheid.nl/stop/imop/consolidatie/";
    pub const SE: &str = "http://www.opengis.net/se";
    pub const GML: &str = "http://www.opengis.net/gml/3.2";
    pub const BASISGEO: &str = "http://www.geostandaarden.nl/basisgeometrie/1.0";
    pub const STOP_MELDING: &str = "http://www.overheid.nl/2017/stop";
}

/// The location of a node: file, line, column, element path, and eId/wId when present.
pub fn locatie(doc: &xml::Document, bestand: &str, node: xml::NodeId) -> Locatie {
    let (regel, kolom) = doc.line_col(node);
    let (eid, wid) = if doc.is_element(node) {
        (doc.attr(node, "eId").map(str::to_string), doc.attr(node, "wId").map(str::to_string))
    } else {
        (None, None)
    };
    Locatie {
        bestand: Some(bestand.to_string()),
        regel: Some(regel),
        kolom: Some(kolom),
        pad: Some(doc.path(node)),
        eid,
        wid,
    }
}

/// A melding for a file that is not readable XML. `code` is the code for the file's role
/// (LVBB1006 for opdracht.xml, LVBB1008 for manifest.xml); STOP files use our RB20xx codes.
pub fn xml_error_melding(code: &str, bestand: &str, e: &xml::XmlError) -> Melding {
    use xml::XmlErrorKind::*;
    let code = if code.starts_with("LVBB") {
        code
    } else {
        match e.kind {
            NotWellFormed | Namespace => "RB2001",
            Encoding => "RB2004",
            Doctype => "RB2005",
            Limit => "RB2006",
        }
    };
    let advies = match e.kind {
        Encoding => "Lever het bestand aan in UTF-8.",
        Doctype => "Verwijder de DOCTYPE-declaratie; STOP-bestanden gebruiken geen DTD.",
        Limit => "Vereenvoudig de structuur of verkort de waarde.",
        _ => "Controleer of het bestand volledig en welgevormd is.",
    };
    Melding::fout_technisch(code, format!("{bestand} is geen leesbare XML: {}. {advies}", e.message)).at(
        Locatie {
            bestand: Some(bestand.to_string()),
            regel: Some(e.line),
            kolom: Some(e.column),
            ..Default::default()
        },
    )
}

/// RB2003: an element this version of regelbank does not know. It is reported, not dropped:
/// the original file is stored as delivered.
pub fn onbekend_element(doc: &xml::Document, bestand: &str, node: xml::NodeId) -> Melding {
    let ns = doc.ns(node);
    Melding::new(
        "RB2003",
        Ernst::Waarschuwing,
        Soort::Technisch,
        format!(
            "Onbekend element '{}'{} in {}: het is niet verwerkt, maar blijft bewaard in het aangeleverde bestand. Controleer de schrijfwijze en de namespace.",
            doc.name(node),
            if ns.is_empty() { String::new() } else { format!(" (namespace {ns})") },
            doc.parent(node).map(|p| doc.name(p)).unwrap_or("het document"),
        ),
    )
    .at(locatie(doc, bestand, node))
}
