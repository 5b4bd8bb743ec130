//! Renderings of a stored regeling version for people and programs: a standalone HTML page and
//! a JSON tree, both with the provenance of every article-level unit ([`Herkomst`]).
//!
//! - [`html`]: XHTML5 (well-formed XML, served as HTML): title = the expression id, headings
//!   from `Kop`, paragraphs from `Al`, lists, definition lists for begrippen, CALS tables as HTML
//!   tables (colspan/rowspan), an `id` = eId on the element rendered for every STOP element that
//!   has an eId, internal references as links to those anchors, and per unit a line "Tekst
//!   vastgesteld bij <besluit> (bekendgemaakt <datum>)". A Lid shows its own line only when it
//!   differs from its artikel's. Every text and attribute is escaped; external links only for
//!   `http(s)` URLs.
//! - [`json`]: a tree of [`Knoop`]s: element name, eId, wId, kop text, nummer (LidNummer,
//!   LiNummer), text (for elements with inline content only) or children, and the provenance
//!   on units.
//! - [`lees`]: a stored version (text and provenance) from the store.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use stop::tekst::{Element, Node, Tekst};
use store::{Store, StoreError};

use crate::consolidatie::{Besluit, Herkomst, HerkomstFout, heeft_herkomst};

/// A regeling version as stored: its text (as stored, and parsed) and its provenance.
#[derive(Debug, Clone)]
pub struct Opgeslagen {
    pub expressie: String,
    /// The stored XML, byte for byte.
    pub xml: String,
    pub tekst: Tekst,
    /// `None` for a version stored before provenance was recorded.
    pub herkomst: Option<Herkomst>,
}

/// Why a stored version cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum WeergaveFout {
    #[error("unknown expression {0}")]
    Onbekend(String),
    #[error("{0} has no stored text (only regeling versions consolidated by regelbank have one)")]
    GeenTekst(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored text of {expressie} is not valid: {reden}")]
    OngeldigeTekst { expressie: String, reden: String },
    #[error("the stored provenance of {expressie} is not valid: {fout}")]
    OngeldigeHerkomst {
        expressie: String,
        #[source]
        fout: HerkomstFout,
    },
}

/// Read a regeling version's text and provenance from the store.
pub fn lees(store: &Store, expressie: &str) -> Result<Opgeslagen, WeergaveFout> {
    let e = store.index().expression(expressie)?.ok_or_else(|| WeergaveFout::Onbekend(expressie.to_string()))?;
    let root = e.entry.tekst.ok_or_else(|| WeergaveFout::GeenTekst(expressie.to_string()))?;
    let ongeldig = |reden: String| WeergaveFout::OngeldigeTekst { expressie: expressie.to_string(), reden };
    let xml = String::from_utf8(store.read_tree(&root)?).map_err(|e| ongeldig(format!("not UTF-8: {e}")))?;
    let tekst = Tekst::parse(&xml).map_err(|e| ongeldig(e.to_string()))?;
    let herkomst = match e.entry.herkomst {
        Some(h) => Some(
            Herkomst::parse(&store.read_tree(&h)?)
                .map_err(|fout| WeergaveFout::OngeldigeHerkomst { expressie: expressie.to_string(), fout })?,
        ),
        None => None,
    };
    Ok(Opgeslagen { expressie: expressie.to_string(), xml, tekst, herkomst })
}

/// Inline elements of the STOP text model (research notes §1.3), plus renvooi markers.
const INLINE: &[&str] = &[
    "i", "b", "u", "strong", "sub", "sup", "abbr", "br", "Noot", "Nootref", "NieuweTekst", "VerwijderdeTekst", "ExtRef",
    "IntRef", "ExtIoRef", "IntIoRef", "InlineTekstAfbeelding", "Contact",
];

fn is_inline(e: &Element) -> bool {
    INLINE.contains(&e.name())
}

/// Elements that carry a number shown before their content.
const NUMMER: &[&str] = &["LidNummer", "LiNummer"];

/// Collapse white space runs to one space and trim.
fn normaal(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The plain text of inline content: footnotes in brackets, `br` as a space.
fn inline_tekst(nodes: &[Node], out: &mut String) {
    for n in nodes {
        match n {
            Node::Element(e) => match e.name() {
                "br" => out.push(' '),
                "Noot" => out.push_str(&noot_tekst(e)),
                _ => {
                    inline_tekst(e.children(), out);
                    // Block elements inside inline content (an Al in a Noot) stay words apart.
                    if !is_inline(e) {
                        out.push(' ');
                    }
                }
            },
            Node::Text(_) | Node::CData(_) => out.push_str(&n.char_data()),
            _ => {}
        }
    }
}

/// A footnote inline: " [text]".
fn noot_tekst(e: &Element) -> String {
    let mut s = String::new();
    inline_tekst(e.children(), &mut s);
    format!(" [{}]", normaal(&s))
}

/// The text of a Kop: its parts (Label, Nummer, Opschrift, Subtitel) separated by spaces.
fn kop_tekst(kop: &Element) -> String {
    let mut delen: Vec<String> = Vec::new();
    for c in kop.children() {
        let mut s = String::new();
        inline_tekst(std::slice::from_ref(c), &mut s);
        let s = normaal(&s);
        if !s.is_empty() {
            delen.push(s);
        }
    }
    delen.join(" ")
}

fn heeft_blokken(e: &Element) -> bool {
    e.elements().any(|c| !is_inline(c))
}

// ---------------------------------------------------------------------------------------------
// JSON

/// The JSON rendering of a regeling version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TekstJson {
    pub expressie: String,
    /// The root element (`RegelingCompact`, ...); `None` for a text without elements.
    pub regeling: Option<Knoop>,
}

/// One element of the JSON tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Knoop {
    /// Local name of the STOP element; `#tekst` for loose text between block elements.
    pub element: String,
    #[serde(rename = "eId", default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<String>,
    #[serde(rename = "wId", default, skip_serializing_if = "Option::is_none")]
    pub wid: Option<String>,
    /// The text of the element's `Kop` (Label Nummer Opschrift).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kop: Option<String>,
    /// The text of its `LidNummer` / `LiNummer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nummer: Option<String>,
    /// The text of an element with inline content only (white space collapsed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tekst: Option<String>,
    /// The block-level child elements (not Kop, LidNummer, LiNummer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinderen: Vec<Knoop>,
    /// For units: the besluit that gave the unit its current wording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub herkomst: Option<Besluit>,
}

/// The JSON tree of a regeling version.
pub fn json(expressie: &str, tekst: &Tekst, herkomst: Option<&Herkomst>) -> TekstJson {
    TekstJson { expressie: expressie.to_string(), regeling: tekst.root().map(|r| knoop(r, herkomst)) }
}

fn knoop(e: &Element, herkomst: Option<&Herkomst>) -> Knoop {
    let mut k = Knoop {
        element: e.name().to_string(),
        eid: e.eid().map(str::to_string),
        wid: e.wid().map(str::to_string),
        kop: None,
        nummer: None,
        tekst: None,
        kinderen: Vec::new(),
        herkomst: None,
    };
    if heeft_herkomst(e.name()) {
        k.herkomst = e.wid().and_then(|w| herkomst?.get(w)).cloned();
    }
    if heeft_blokken(e) {
        for c in e.children() {
            match c {
                Node::Element(c) if c.name() == "Kop" => k.kop = Some(kop_tekst(c)).filter(|s| !s.is_empty()),
                Node::Element(c) if NUMMER.contains(&c.name()) => k.nummer = Some(normaal(&c.text())).filter(|s| !s.is_empty()),
                Node::Element(c) => k.kinderen.push(knoop(c, herkomst)),
                Node::Text(_) | Node::CData(_) if !c.is_whitespace() => {
                    let t = normaal(&c.char_data());
                    if !t.is_empty() {
                        k.kinderen.push(Knoop {
                            element: "#tekst".to_string(),
                            eid: None,
                            wid: None,
                            kop: None,
                            nummer: None,
                            tekst: Some(t),
                            kinderen: Vec::new(),
                            herkomst: None,
                        });
                    }
                }
                _ => {}
            }
        }
    } else {
        let mut s = String::new();
        inline_tekst(e.children(), &mut s);
        k.tekst = Some(normaal(&s)).filter(|s| !s.is_empty());
    }
    k
}

// ---------------------------------------------------------------------------------------------
// HTML

const MAANDEN: [&str; 12] =
    ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"];

/// "2027-02-03" → "3 februari 2027"; anything else as written.
pub fn datum_nl(d: &str) -> String {
    match chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d") {
        Ok(d) => {
            use chrono::Datelike;
            format!("{} {} {}", d.day(), MAANDEN[d.month0() as usize], d.year())
        }
        Err(_) => d.to_string(),
    }
}

/// Append `s` to `out`, escaped for HTML/XML text and attribute values (control characters
/// XML 1.0 does not allow are dropped).
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 does not allow (the stored text is XML, so only defensive).
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape(s, &mut out);
    out
}

const CSS: &str = "body{font-family:Georgia,serif;max-width:48em;margin:2em auto;padding:0 1em;line-height:1.5;color:#222}\
h1,h2,h3,h4,h5,h6{font-family:Helvetica,Arial,sans-serif;line-height:1.25}\
.expressie{font-family:monospace;font-size:.85em;color:#555}\
.herkomst{font-family:Helvetica,Arial,sans-serif;font-size:.8em;color:#666;margin:.2em 0 .6em}\
.Lid{display:flex;gap:.5em}.Lid>.nummer{min-width:2em}.Lid>.inhoud{flex:1}\
ul.Lijst{list-style:none;padding-left:1.5em}ul.Lijst .nummer{display:inline-block;min-width:2em}\
dl.Begrippenlijst dt{font-weight:bold}table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #999;padding:.2em .5em;vertical-align:top}.noot{font-size:.85em;color:#444}\
.status{font-style:italic}";

/// A standalone XHTML5 page for a regeling version.
pub fn html(expressie: &str, tekst: &Tekst, herkomst: Option<&Herkomst>) -> String {
    let mut h = Html { out: String::with_capacity(tekst.prolog().len() * 2 + 4096), tekst, herkomst, verschuiving: 0 };
    let titel = esc(expressie);
    h.out.push_str("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"nl\" xml:lang=\"nl\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    let _ = write!(h.out, "<title>{titel}</title>\n<style>{CSS}</style>\n</head>\n<body>\n");
    let _ = writeln!(h.out, "<p class=\"expressie\">{titel}</p>");
    for n in tekst.nodes() {
        if let Some(e) = n.as_element() {
            h.blok(e, 1, None);
        }
    }
    h.out.push_str("</body>\n</html>\n");
    h.out
}

/// The text of a regeling version as an HTML fragment to embed in another page (the viewer):
/// what [`html`] puts in `<body>` after the expression line, with every heading level moved
/// down by `verschuiving` (1: the RegelingOpschrift becomes `h2`; levels stop at `h6`).
pub fn html_fragment(tekst: &Tekst, herkomst: Option<&Herkomst>, verschuiving: usize) -> String {
    let mut h = Html { out: String::with_capacity(tekst.prolog().len() * 2 + 4096), tekst, herkomst, verschuiving };
    for n in tekst.nodes() {
        if let Some(e) = n.as_element() {
            h.blok(e, 1, None);
        }
    }
    h.out
}

struct Html<'a> {
    out: String,
    tekst: &'a Tekst,
    herkomst: Option<&'a Herkomst>,
    /// Added to every heading level (embedded in a page with its own headings).
    verschuiving: usize,
}

impl<'a> Html<'a> {
    /// `<tag class="…" id="eId" …>`.
    fn open(&mut self, tag: &str, class: &str, e: &Element, extra: &str) {
        let _ = write!(self.out, "<{tag}");
        if !class.is_empty() {
            let _ = write!(self.out, " class=\"{}\"", esc(class));
        }
        if let Some(id) = e.eid() {
            let _ = write!(self.out, " id=\"{}\"", esc(id));
        }
        self.out.push_str(extra);
        self.out.push('>');
    }

    fn close(&mut self, tag: &str) {
        let _ = write!(self.out, "</{tag}>");
    }

    fn besluit(&self, e: &Element) -> Option<&'a Besluit> {
        let h = self.herkomst?;
        e.wid().and_then(|w| h.get(w))
    }

    /// The provenance line of a unit; `boven` is the provenance of the enclosing unit (a Lid
    /// shows its line only when it differs).
    fn herkomst_regel(&mut self, b: Option<&Besluit>, boven: Option<&Besluit>) {
        let Some(b) = b else { return };
        if boven == Some(b) {
            return;
        }
        let _ = write!(self.out, "<p class=\"herkomst\">Tekst vastgesteld bij <cite title=\"{}\">{}</cite>", esc(&b.work), esc(&b.expressie));
        if let Some(d) = &b.datum_bekendmaking {
            let _ = write!(self.out, " (bekendgemaakt {})", esc(&datum_nl(d)));
        }
        self.out.push_str("</p>\n");
    }

    fn kop(&mut self, kop: &Element, niveau: usize) {
        let n = (niveau + self.verschuiving).clamp(1, 6);
        let _ = write!(self.out, "<h{n} class=\"kop\">");
        let mut eerste = true;
        for c in kop.children() {
            let Node::Element(d) = c else { continue };
            if !eerste {
                self.out.push(' ');
            }
            eerste = false;
            let class = match d.name() {
                "Label" => "label",
                "Nummer" => "nummer",
                "Opschrift" => "opschrift",
                "Subtitel" => "subtitel",
                _ => "",
            };
            self.open("span", class, d, "");
            self.inline_kinderen(d);
            self.close("span");
        }
        let _ = writeln!(self.out, "</h{n}>");
    }

    /// Block children of `e`, with `niveau` the heading level for Kop's at this depth.
    fn kinderen(&mut self, e: &Element, niveau: usize, unit: Option<&Besluit>) {
        for c in e.children() {
            match c {
                Node::Element(c) if c.name() == "Kop" => self.kop(c, niveau),
                Node::Element(c) if is_inline(c) => self.inline(c),
                Node::Element(c) => self.blok(c, niveau + usize::from(e.child("Kop").is_some()), unit),
                Node::Text(_) | Node::CData(_) if !c.is_whitespace() => escape(&c.char_data(), &mut self.out),
                _ => {}
            }
        }
    }

    /// A block element, on its own line(s) in the HTML source.
    fn blok(&mut self, e: &Element, niveau: usize, unit: Option<&Besluit>) {
        self.blok_inhoud(e, niveau, unit);
        if !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }

    fn blok_inhoud(&mut self, e: &Element, niveau: usize, unit: Option<&Besluit>) {
        let name = e.name();
        match name {
            "RegelingCompact" | "RegelingVrijetekst" | "RegelingKlassiek" | "RegelingTijdelijkdeel" => {
                self.open("article", &format!("regeling {name}"), e, "");
                self.out.push('\n');
                self.kinderen(e, 2, None);
                self.close("article");
            }
            "RegelingOpschrift" => {
                let b = self.besluit(e);
                self.open("header", name, e, "");
                let n = (1 + self.verschuiving).min(6);
                let _ = write!(self.out, "<h{n}>");
                let mut eerste = true;
                for c in e.elements() {
                    if !eerste {
                        self.out.push_str("<br/>");
                    }
                    eerste = false;
                    self.inline_kinderen(c);
                }
                let _ = writeln!(self.out, "</h{n}>");
                self.herkomst_regel(b, None);
                self.close("header");
            }
            "Lid" => {
                let b = self.besluit(e);
                self.open("div", "Lid", e, "");
                if let Some(n) = e.child("LidNummer") {
                    self.open("span", "nummer", n, "");
                    self.inline_kinderen(n);
                    self.close("span");
                }
                self.out.push_str("<div class=\"inhoud\">");
                self.herkomst_regel(b, unit);
                let lid_unit = b.or(unit);
                for c in e.children() {
                    match c {
                        Node::Element(c) if c.name() == "LidNummer" => {}
                        Node::Element(c) => self.blok(c, niveau, lid_unit),
                        _ => {}
                    }
                }
                self.out.push_str("</div>");
                self.close("div");
            }
            _ if heeft_herkomst(name) => {
                let b = self.besluit(e);
                self.open("section", name, e, "");
                self.out.push('\n');
                // The provenance line follows the heading (or opens a unit without one).
                let mut regel = e.child("Kop").is_some();
                if !regel {
                    self.herkomst_regel(b, None);
                }
                for c in e.children() {
                    match c {
                        Node::Element(c) if c.name() == "Kop" => {
                            self.kop(c, niveau);
                            if std::mem::take(&mut regel) {
                                self.herkomst_regel(b, None);
                            }
                        }
                        Node::Element(c) if is_inline(c) => self.inline(c),
                        Node::Element(c) => self.blok(c, niveau + 1, b),
                        Node::Text(_) | Node::CData(_) if !c.is_whitespace() => escape(&c.char_data(), &mut self.out),
                        _ => {}
                    }
                }
                self.close("section");
                self.out.push('\n');
            }
            "Al" => {
                self.open("p", "", e, "");
                self.inline_kinderen(e);
                self.close("p");
            }
            "Tussenkop" | "Lijstaanhef" | "Lijstsluiting" | "Bijschrift" | "Bron" | "Slotformulering" | "Dagtekening" => {
                self.open("p", name, e, "");
                self.inline_of_blokken(e, niveau, unit);
                self.close("p");
            }
            "Lijst" => {
                self.open("div", "Lijst", e, "");
                if let Some(a) = e.child("Lijstaanhef") {
                    self.blok(a, niveau, unit);
                }
                self.out.push_str("<ul class=\"Lijst\">");
                for li in e.elements().filter(|c| c.name() == "Li") {
                    self.blok(li, niveau, unit);
                }
                self.out.push_str("</ul>");
                if let Some(a) = e.child("Lijstsluiting") {
                    self.blok(a, niveau, unit);
                }
                // Anything else (not expected in a Lijst) after it, so no text is lost.
                for c in e.elements().filter(|c| !matches!(c.name(), "Lijstaanhef" | "Li" | "Lijstsluiting")) {
                    self.blok(c, niveau, unit);
                }
                self.close("div");
            }
            "Li" => {
                self.open("li", "", e, "");
                if let Some(n) = e.child("LiNummer") {
                    self.open("span", "nummer", n, "");
                    self.inline_kinderen(n);
                    self.close("span");
                    self.out.push(' ');
                }
                for c in e.children() {
                    match c {
                        Node::Element(c) if c.name() == "LiNummer" => {}
                        Node::Element(c) if is_inline(c) => self.inline(c),
                        Node::Element(c) => self.blok(c, niveau, unit),
                        Node::Text(_) | Node::CData(_) if !c.is_whitespace() => escape(&c.char_data(), &mut self.out),
                        _ => {}
                    }
                }
                self.close("li");
            }
            "Begrippenlijst" => {
                self.open("dl", "Begrippenlijst", e, "");
                for c in e.elements() {
                    if c.name() == "Begrip" {
                        self.blok(c, niveau, unit);
                    } else {
                        // Not expected in a Begrippenlijst; a dl may hold div groups.
                        self.out.push_str("<div><dd>");
                        self.blok(c, niveau, unit);
                        self.out.push_str("</dd></div>");
                    }
                }
                self.close("dl");
            }
            "Begrip" => {
                self.open("div", "Begrip", e, "");
                self.out.push_str("<dt>");
                for (i, c) in e.elements().filter(|c| matches!(c.name(), "LiNummer" | "Term")).enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    self.open("span", c.name(), c, "");
                    self.inline_kinderen(c);
                    self.close("span");
                }
                self.out.push_str("</dt><dd>");
                for c in e.elements().filter(|c| !matches!(c.name(), "LiNummer" | "Term")) {
                    self.blok(c, niveau, unit);
                }
                self.out.push_str("</dd>");
                self.close("div");
            }
            "table" => self.tabel(e, niveau, unit),
            "Figuur" => {
                self.open("figure", "Figuur", e, "");
                for c in e.elements() {
                    match c.name() {
                        "Titel" | "Bijschrift" => {
                            self.open("figcaption", c.name(), c, "");
                            self.inline_of_blokken(c, niveau, unit);
                            self.close("figcaption");
                        }
                        _ => self.blok(c, niveau, unit),
                    }
                }
                self.close("figure");
            }
            "Illustratie" => {
                let naam = e.attr("naam").map(|s| s.into_owned()).unwrap_or_default();
                let alt = e.attr("alt").map(|s| s.into_owned()).unwrap_or_default();
                self.open("p", "Illustratie", e, "");
                let _ = write!(self.out, "[afbeelding {}{}{}]", esc(&naam), if alt.is_empty() { "" } else { ": " }, esc(&alt));
                self.close("p");
            }
            "Gereserveerd" | "Vervallen" | "NogNietInWerking" => {
                let t = match name {
                    "Gereserveerd" => "Gereserveerd",
                    "Vervallen" => "Vervallen",
                    _ => "Nog niet in werking",
                };
                self.open("p", &format!("status {name}"), e, "");
                let _ = write!(self.out, "[{t}]");
                self.close("p");
            }
            _ if is_inline(e) => self.inline(e),
            _ => {
                // Structure elements (Lichaam, Hoofdstuk, Divisie, Bijlage, ...) get a section,
                // everything else a div.
                let tag = if e.child("Kop").is_some() || crate::consolidatie::is_structuur(name) { "section" } else { "div" };
                self.open(tag, name, e, "");
                if tag == "section" {
                    self.out.push('\n');
                }
                self.inline_of_blokken(e, niveau, unit);
                self.close(tag);
                if tag == "section" {
                    self.out.push('\n');
                }
            }
        }
    }

    /// The content of `e`: as blocks when it has block children, else inline.
    fn inline_of_blokken(&mut self, e: &Element, niveau: usize, unit: Option<&Besluit>) {
        if heeft_blokken(e) {
            self.kinderen(e, niveau, unit);
        } else {
            self.inline_kinderen(e);
        }
    }

    fn inline_kinderen(&mut self, e: &Element) {
        for c in e.children() {
            match c {
                Node::Element(c) => self.inline(c),
                Node::Text(_) | Node::CData(_) => escape(&c.char_data(), &mut self.out),
                _ => {}
            }
        }
    }

    fn inline(&mut self, e: &Element) {
        let name = e.name();
        match name {
            "i" | "b" | "u" | "strong" | "sub" | "sup" => {
                self.open(name, "", e, "");
                self.inline_kinderen(e);
                self.close(name);
            }
            "br" => self.out.push_str("<br/>"),
            "abbr" => {
                let title = e.attr("title").map(|t| format!(" title=\"{}\"", esc(&t))).unwrap_or_default();
                self.open("abbr", "", e, &title);
                self.inline_kinderen(e);
                self.close("abbr");
            }
            "NieuweTekst" | "VerwijderdeTekst" => {
                let tag = if name == "NieuweTekst" { "ins" } else { "del" };
                self.open(tag, "", e, "");
                self.inline_kinderen(e);
                self.close(tag);
            }
            "IntRef" => {
                // @ref is an eId, or !component#eId for another component.
                let r = e.attr("ref").map(|r| r.into_owned()).unwrap_or_default();
                let doel = r.rsplit('#').next().unwrap_or(&r).to_string();
                self.link(e, &format!("#{doel}"), "IntRef");
            }
            "IntIoRef" => {
                // @ref is the wId of an ExtIoRef: link to its eId.
                let r = e.attr("ref").map(|r| r.into_owned()).unwrap_or_default();
                match self.tekst.by_wid(&r).and_then(|x| x.element().eid().map(str::to_string)) {
                    Some(eid) => self.link(e, &format!("#{eid}"), "IntIoRef"),
                    None => self.span(e, "IntIoRef", &r),
                }
            }
            "ExtRef" => {
                let r = e.attr("ref").map(|r| r.into_owned()).unwrap_or_default();
                let url = r.trim();
                let web = url.starts_with("https://") || url.starts_with("http://");
                if web {
                    let url = url.to_string();
                    self.link(e, &url, "ExtRef");
                } else {
                    self.span(e, "ExtRef", &r);
                }
            }
            "ExtIoRef" => {
                let r = e.attr("ref").map(|r| r.into_owned()).unwrap_or_default();
                self.span(e, "ExtIoRef", &r);
            }
            "Contact" => {
                let adres = e.attr("adres").map(|r| r.into_owned()).unwrap_or_default();
                if adres.is_empty() || adres.contains(['?', '&', ':']) {
                    self.span(e, "Contact", &adres);
                } else {
                    self.link(e, &format!("mailto:{}", adres.trim()), "Contact");
                }
            }
            "Noot" => {
                self.open("span", "noot", e, "");
                escape(&noot_tekst(e), &mut self.out);
                self.close("span");
            }
            "Nootref" => {
                self.open("sup", "Nootref", e, "");
                self.inline_kinderen(e);
                self.close("sup");
            }
            "InlineTekstAfbeelding" => {
                let naam = e.attr("naam").map(|s| s.into_owned()).unwrap_or_default();
                self.open("span", "InlineTekstAfbeelding", e, "");
                let _ = write!(self.out, "[afbeelding {}]", esc(&naam));
                self.close("span");
            }
            _ => {
                // A block element inside inline content: its text, kept apart.
                self.open("span", name, e, "");
                let mut s = String::new();
                inline_tekst(e.children(), &mut s);
                escape(&normaal(&s), &mut self.out);
                self.close("span");
                self.out.push(' ');
            }
        }
    }

    fn link(&mut self, e: &Element, href: &str, class: &str) {
        let extra = format!(" href=\"{}\"", esc(href));
        self.open("a", class, e, &extra);
        self.inline_kinderen(e);
        self.close("a");
    }

    fn span(&mut self, e: &Element, class: &str, title: &str) {
        let extra = if title.is_empty() { String::new() } else { format!(" title=\"{}\"", esc(title)) };
        self.open("span", class, e, &extra);
        self.inline_kinderen(e);
        self.close("span");
    }

    /// A CALS table as an HTML table: `title` → caption, `thead`/`tbody`/`tfoot` → the same,
    /// `row` → tr, `entry` → th (in thead) or td, with colspan from namest/nameend (by the
    /// tgroup's colspecs) and rowspan from morerows.
    fn tabel(&mut self, e: &Element, niveau: usize, unit: Option<&Besluit>) {
        self.open("table", "table", e, "");
        if let Some(t) = e.child("title") {
            self.open("caption", "", t, "");
            self.inline_of_blokken(t, niveau, unit);
            self.close("caption");
        }
        for g in e.elements().filter(|c| c.name() == "tgroup") {
            let kolommen: Vec<String> = g
                .elements()
                .filter(|c| c.name() == "colspec")
                .enumerate()
                .map(|(i, c)| c.attr("colname").map(|s| s.into_owned()).unwrap_or_else(|| format!("#{i}")))
                .collect();
            for deel in g.elements().filter(|c| matches!(c.name(), "thead" | "tbody" | "tfoot")) {
                let tag = deel.name();
                self.open(tag, "", deel, "");
                for row in deel.elements().filter(|c| c.name() == "row") {
                    self.open("tr", "", row, "");
                    for cel in row.elements().filter(|c| c.name() == "entry") {
                        let mut extra = String::new();
                        let kol = |a: &str| cel.attr(a).and_then(|n| kolommen.iter().position(|k| *k == n.trim()));
                        if let (Some(a), Some(b)) = (kol("namest"), kol("nameend"))
                            && b > a
                        {
                            let _ = write!(extra, " colspan=\"{}\"", b - a + 1);
                        }
                        if let Some(m) = cel.attr("morerows").and_then(|m| m.trim().parse::<usize>().ok()).filter(|&m| m > 0) {
                            let _ = write!(extra, " rowspan=\"{}\"", m + 1);
                        }
                        let td = if tag == "thead" { "th" } else { "td" };
                        self.open(td, "", cel, &extra);
                        self.inline_of_blokken(cel, niveau, unit);
                        self.close(td);
                    }
                    self.close("tr");
                }
                self.close(tag);
            }
        }
        self.close("table");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const NS: &str = "https://standaarden.overheid.nl/stop/imop/tekst/";

    fn tekst() -> Tekst {
        Tekst::parse(&format!(
            r#"<RegelingCompact xmlns="{NS}" wordt="/akn/nl/act/r/nld@1">
  <RegelingOpschrift eId="longTitle" wId="longTitle"><Al>Regeling &amp; &lt;test&gt;</Al></RegelingOpschrift>
  <Lichaam eId="body" wId="body">
    <Hoofdstuk eId="chp_1" wId="r_1__chp_1"><Kop><Label>Hoofdstuk</Label><Nummer>1</Nummer><Opschrift>Algemeen</Opschrift></Kop>
      <Artikel eId="chp_1__art_1" wId="r_1__art_1"><Kop><Label>Artikel</Label><Nummer>1</Nummer><Opschrift>Begrippen</Opschrift></Kop>
        <Lid eId="chp_1__art_1__para_1" wId="r_1__art_1__para_1"><LidNummer>1.</LidNummer><Inhoud><Al>Zie <IntRef ref="chp_1__art_2">artikel 2</IntRef> en <ExtRef soort="URL" ref="javascript:alert(1)">dit</ExtRef> of <ExtRef soort="URL" ref="https://example.org/?a=1&amp;b=&quot;2&quot;">dat</ExtRef>.</Al>
          <Lijst eId="chp_1__art_1__para_1__list_o_1" wId="r_1__l1" type="expliciet"><Lijstaanhef>als volgt:</Lijstaanhef>
            <Li eId="chp_1__art_1__para_1__list_o_1__item_a" wId="r_1__li_a"><LiNummer>a.</LiNummer><Al>een <i>kade</i>;</Al></Li>
          </Lijst></Inhoud></Lid>
        <Lid eId="chp_1__art_1__para_2" wId="r_1__art_1__para_2"><LidNummer>2.</LidNummer><Inhoud><Al>Twee<Noot id="n1" type="voet"><NootNummer>1</NootNummer><Al>Een noot.</Al></Noot>.</Al></Inhoud></Lid>
      </Artikel>
      <Artikel eId="chp_1__art_2" wId="r_1__art_2"><Kop><Label>Artikel</Label><Nummer>2</Nummer></Kop>
        <Inhoud><Begrippenlijst eId="chp_1__art_2__list_o_1" wId="r_1__bl"><Begrip eId="chp_1__art_2__list_o_1__item_o_1" wId="r_1__b1"><Term>kade</Term><Definitie><Al>oever</Al></Definitie></Begrip></Begrippenlijst>
        <table eId="chp_1__art_2__table_o_1" wId="r_1__t1"><title>Tabel</title><tgroup cols="2"><colspec colname="c1"/><colspec colname="c2"/>
          <thead><row><entry namest="c1" nameend="c2">Kop</entry></row></thead>
          <tbody><row><entry morerows="1"><Al>a</Al></entry><entry>b</entry></row><row><entry>c</entry></row></tbody></tgroup></table></Inhoud>
      </Artikel>
    </Hoofdstuk>
  </Lichaam>
</RegelingCompact>"#
        ))
        .unwrap()
    }

    fn herkomst() -> Herkomst {
        let b1 = Arc::new(Besluit { expressie: "/akn/nl/bill/b/nld@1;1".into(), work: "/akn/nl/bill/b".into(), datum_bekendmaking: Some("2027-02-03".into()) });
        let b2 = Arc::new(Besluit { expressie: "/akn/nl/bill/c/nld@2;1".into(), work: "/akn/nl/bill/c".into(), datum_bekendmaking: None });
        let mut h = Herkomst::default();
        for w in ["longTitle", "r_1__art_1__para_1", "r_1__art_2"] {
            h.insert(w.into(), Arc::clone(&b1));
        }
        h.insert("r_1__art_1".into(), Arc::clone(&b2));
        h.insert("r_1__art_1__para_2".into(), b2);
        h
    }

    #[test]
    fn html_is_well_formed_escaped_and_anchors_every_eid() {
        let t = tekst();
        let h = html("/akn/nl/act/r/nld@1", &t, Some(&herkomst()));
        let ids = ids_van(&h);
        let mut eids: Vec<String> = t.eids().map(str::to_string).collect();
        eids.sort();
        let mut got = ids.clone();
        got.sort();
        got.dedup();
        assert_eq!(got.len(), ids.len(), "ids are unique");
        assert_eq!(got, eids);
        assert!(h.contains("<title>/akn/nl/act/r/nld@1</title>"));
        assert!(h.contains("Regeling &amp; &lt;test&gt;"), "{h}");
        assert!(h.contains("<a class=\"IntRef\" href=\"#chp_1__art_2\">artikel 2</a>"), "{h}");
        assert!(!h.contains("href=\"javascript:"), "only http(s) links");
        assert!(h.contains("<span class=\"ExtRef\" title=\"javascript:alert(1)\">dit</span>"), "{h}");
        assert!(h.contains("href=\"https://example.org/?a=1&amp;b=&quot;2&quot;\""), "{h}");
        assert!(h.contains("<h2 class=\"kop\"><span class=\"label\">Hoofdstuk</span> <span class=\"nummer\">1</span> <span class=\"opschrift\">Algemeen</span></h2>"), "{h}");
        assert!(h.contains("<h3 class=\"kop\"><span class=\"label\">Artikel</span>"), "{h}");
        assert!(h.contains("<th colspan=\"2\">Kop</th>") && h.contains("<td rowspan=\"2\"><p>a</p>\n</td>"), "{h}");
        assert!(h.contains("<dt><span class=\"Term\">kade</span></dt><dd>"), "{h}");
        // Provenance: per unit; a Lid only when it differs from its artikel.
        assert!(h.contains("Tekst vastgesteld bij <cite title=\"/akn/nl/bill/b\">/akn/nl/bill/b/nld@1;1</cite> (bekendgemaakt 3 februari 2027)"), "{h}");
        assert_eq!(h.matches("<p class=\"herkomst\">").count(), 4, "longTitle, art 1, lid 1 (differs), art 2: {h}");
        assert_eq!(h.matches("<cite title=\"/akn/nl/bill/c\">/akn/nl/bill/c/nld@2;1</cite></p>").count(), 1, "{h}");
        // Without provenance no lines.
        assert!(!html("x", &t, None).contains("herkomst\">"));
    }

    /// Every id attribute of a well-formed XML document, in order.
    fn ids_van(xml: &str) -> Vec<String> {
        let mut r = quick_xml::Reader::from_str(xml);
        let mut ids = Vec::new();
        loop {
            match r.read_event().unwrap_or_else(|e| panic!("not well-formed: {e}\n{xml}")) {
                quick_xml::events::Event::Start(s) | quick_xml::events::Event::Empty(s) => {
                    for a in s.attributes() {
                        let a = a.unwrap();
                        if a.key.as_ref() == "id" {
                            // eIds have no characters that need escaping.
                            ids.push(a.value.to_string());
                        }
                    }
                }
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        ids
    }

    #[test]
    fn json_tree_has_kop_text_children_and_provenance() {
        let t = tekst();
        let j = json("/akn/nl/act/r/nld@1", &t, Some(&herkomst()));
        let s = serde_json::to_string(&j).unwrap();
        assert_eq!(serde_json::from_str::<TekstJson>(&s).unwrap(), j);
        let root = j.regeling.as_ref().unwrap();
        assert_eq!(root.element, "RegelingCompact");
        let body = &root.kinderen[1];
        assert_eq!((body.element.as_str(), body.eid.as_deref()), ("Lichaam", Some("body")));
        let h1 = &body.kinderen[0];
        assert_eq!(h1.kop.as_deref(), Some("Hoofdstuk 1 Algemeen"));
        let art1 = &h1.kinderen[0];
        assert_eq!(art1.wid.as_deref(), Some("r_1__art_1"));
        assert_eq!(art1.kop.as_deref(), Some("Artikel 1 Begrippen"));
        assert_eq!(art1.herkomst.as_ref().unwrap().expressie, "/akn/nl/bill/c/nld@2;1");
        let lid1 = &art1.kinderen[0];
        assert_eq!(lid1.nummer.as_deref(), Some("1."));
        assert_eq!(lid1.herkomst.as_ref().unwrap().datum_bekendmaking.as_deref(), Some("2027-02-03"));
        let al = &lid1.kinderen[0].kinderen[0];
        assert_eq!((al.element.as_str(), al.tekst.as_deref()), ("Al", Some("Zie artikel 2 en dit of dat.")));
        let li = &lid1.kinderen[0].kinderen[1].kinderen[1];
        assert_eq!((li.element.as_str(), li.nummer.as_deref()), ("Li", Some("a.")));
        assert_eq!(li.kinderen[0].tekst.as_deref(), Some("een kade;"));
        let lid2_al = &art1.kinderen[1].kinderen[0].kinderen[0];
        assert_eq!(lid2_al.tekst.as_deref(), Some("Twee [1 Een noot.]."));
        // Non-units have no provenance; keys as documented.
        assert!(h1.herkomst.is_none());
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["regeling"]["kinderen"][1]["kinderen"][0]["kinderen"][0]["wId"], "r_1__art_1");
        assert_eq!(v["regeling"]["kinderen"][1]["kinderen"][0]["kinderen"][0]["herkomst"]["expressie"], "/akn/nl/bill/c/nld@2;1");
    }

    #[test]
    fn fragment_is_the_body_with_headings_moved_down() {
        let t = tekst();
        let f = html_fragment(&t, Some(&herkomst()), 1);
        assert!(!f.contains("<html") && !f.contains("<body") && !f.contains("<style"), "{f}");
        assert!(!f.contains("<h1") && !f.contains("<h2 class=\"kop\">"), "{f}");
        assert!(f.contains("<h3 class=\"kop\"><span class=\"label\">Hoofdstuk</span>"), "{f}");
        assert!(f.contains("Regeling &amp; &lt;test&gt;"), "{f}");
        let page = html("/akn/nl/act/r/nld@1", &t, Some(&herkomst()));
        assert!(page.contains(&html_fragment(&t, Some(&herkomst()), 0)), "the page's body is the fragment");
    }

    #[test]
    fn dates_are_written_in_dutch() {
        assert_eq!(datum_nl("2027-05-04"), "4 mei 2027");
        assert_eq!(datum_nl("onbekend"), "onbekend");
    }
}
