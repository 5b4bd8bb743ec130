//! The text of a regeling or besluit as an owned, editable, byte-exact tree, and the application
//! of a `RegelingMutatie` to it.
//!
//! # The tree
//!
//! [`Tekst`] holds a sequence of top-level [`Node`]s (normally one element, the regeling) plus the
//! bytes before and after it (XML declaration, comments). Every node keeps its original bytes:
//! an [`Element`] keeps its raw start tag and end tag, text/CDATA/comment/PI nodes their raw text,
//! so serialising an untouched tree gives the input back byte for byte. Only the start tag of an
//! element whose attributes change is rewritten, and only by splicing: the other attributes, their
//! quotes and the white space between them stay as they were.
//!
//! Raw bytes are [`Raw`] slices of a shared, reference-counted source text: building a tree from a
//! [`Document`] copies the text once, not once per node. Elements are shared between trees through
//! `Arc`: cloning a `Tekst` is cheap, and changing one element copies only the path from the root
//! to it (`Arc::make_mut`). That is what makes applying one amendment to a 10,000-article regeling
//! fast: the new version shares every untouched article with the old one.
//!
//! Elements built from a [`Document`] carry the line and column they had in their source file, so
//! meldingen about a mutation point at the delivered file.
//!
//! # Identity and lookup
//!
//! Each element has an internal key that survives copy-on-write; an index maps wId and eId to
//! the path of (child index, key) steps to the element. It is built on first use (once per
//! `Tekst` value, shared by its clones), or carried over from the was-version by [`pas_toe`].
//! Lookups resolve a path by key, so a path whose indexes shifted (an element was inserted
//! before it) still finds its element. [`Tekst::by_wid`] / [`Tekst::by_eid`] return an
//! [`ElementRef`] with parent navigation.
//!
//! Renvooi and mutations can leave two adjacent text nodes (`De ` + `raad`); serialisation and
//! [`Element::text`] are unaffected, but child indexes can differ from those of a fresh parse.
//!
//! # Namespaces
//!
//! A regeling cut out of a besluit relies on namespace declarations of its ancestors.
//! [`Tekst::uit_document`] adds the declarations that the subtree uses and that are declared
//! outside it to the subtree's root start tag (once each), so the result is a well-formed,
//! namespace-correct document on its own. Content moved between trees by a mutation gets the same
//! treatment relative to its new place, and only when a binding actually differs.
//!
//! # Renvooi and mutations
//!
//! [`nieuw`] / [`oud`] derive the new and the old text from a renvooi payload; [`pas_toe`] applies a
//! `RegelingMutatie` (see the `apply` module documentation for the algorithm and its meldingen).
//!
//! Ids: eId and wId values are used as written (STOP's `dtEID`/`dtWID` never contain character
//! references).

mod apply;
mod compare;
pub mod diff;
mod index;
mod renvooi;
mod tag;

pub use apply::{ActieResultaat, ActieSoort, Toepassing, pas_toe};
pub use compare::{inhoud_gelijk, verschil};
pub use diff::{Mutatie, Route, Verschil, VerschilFout, maak_mutatie, vergelijk};
pub use renvooi::{heeft_renvooi, nieuw, nieuw_knopen, oud, oud_knopen};

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::xml::{Document, NodeId, NodeKind, XmlError};
use index::Index;

/// A slice of a shared source text: the exact bytes of a node or tag.
#[derive(Clone)]
pub struct Raw {
    src: Arc<str>,
    start: u32,
    end: u32,
}

impl Raw {
    /// An owned piece of text.
    pub fn new(s: &str) -> Raw {
        let src: Arc<str> = Arc::from(s);
        let end = src.len() as u32;
        Raw { src, start: 0, end }
    }

    fn slice(src: &Arc<str>, start: usize, end: usize) -> Raw {
        Raw { src: src.clone(), start: start as u32, end: end as u32 }
    }

    fn empty() -> Raw {
        static EMPTY: OnceLock<Arc<str>> = OnceLock::new();
        Raw { src: EMPTY.get_or_init(|| Arc::from("")).clone(), start: 0, end: 0 }
    }

    /// A sub-slice (offsets relative to this slice).
    fn sub(&self, start: usize, end: usize) -> Raw {
        Raw { src: self.src.clone(), start: self.start + start as u32, end: self.start + end as u32 }
    }

    pub fn as_str(&self) -> &str {
        &self.src[self.start as usize..self.end as usize]
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl fmt::Debug for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Raw {
    fn eq(&self, other: &Raw) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Raw {}

static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

fn fresh_key() -> u64 {
    NEXT_KEY.fetch_add(1, Ordering::Relaxed)
}

/// A node of the tree.
#[derive(Clone, Debug)]
pub enum Node {
    Element(Arc<Element>),
    /// Character data, raw (entity references as written).
    Text(Raw),
    /// A CDATA section including `<![CDATA[` and `]]>`.
    CData(Raw),
    /// A comment including `<!--` and `-->`.
    Comment(Raw),
    /// A processing instruction including `<?` and `?>`.
    Pi(Raw),
}

impl Node {
    /// A text node with `text` escaped.
    pub fn text(text: &str) -> Node {
        let mut s = String::with_capacity(text.len());
        tag::escape_text(text, &mut s);
        Node::Text(Raw::new(&s))
    }

    pub fn as_element(&self) -> Option<&Element> {
        match self {
            Node::Element(e) => Some(e),
            _ => None,
        }
    }

    /// Mutable access to an element; copies it first when it is shared with another tree.
    pub fn as_element_mut(&mut self) -> Option<&mut Element> {
        match self {
            Node::Element(e) => Some(Arc::make_mut(e)),
            _ => None,
        }
    }

    /// The raw bytes of a non-element node.
    pub fn raw(&self) -> Option<&str> {
        match self {
            Node::Element(_) => None,
            Node::Text(r) | Node::CData(r) | Node::Comment(r) | Node::Pi(r) => Some(r.as_str()),
        }
    }

    /// The character data of a text or CDATA node, unescaped ("" for other nodes).
    pub fn char_data(&self) -> Cow<'_, str> {
        match self {
            Node::Text(r) => tag::text_value(r.as_str()),
            Node::CData(r) => {
                let s = r.as_str();
                Cow::Borrowed(s.get(9..s.len().saturating_sub(3)).unwrap_or(""))
            }
            _ => Cow::Borrowed(""),
        }
    }

    /// A text node of white space only.
    pub fn is_whitespace(&self) -> bool {
        matches!(self, Node::Text(r) if r.as_str().bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')))
    }

    fn key(&self) -> Option<u64> {
        match self {
            Node::Element(e) => Some(e.key),
            _ => None,
        }
    }

    pub fn write_xml(&self, out: &mut String) {
        match self {
            Node::Element(e) => e.write_xml(out),
            Node::Text(r) | Node::CData(r) | Node::Comment(r) | Node::Pi(r) => out.push_str(r.as_str()),
        }
    }
}

/// An element: raw start tag, raw end tag (absent for an empty-element tag `<a/>`), namespace,
/// children and the position it had in its source.
#[derive(Clone)]
pub struct Element {
    key: u64,
    start: Raw,
    end: Option<Raw>,
    ns: Option<Arc<str>>,
    eid: Range,
    wid: Range,
    children: Vec<Node>,
    pos: (u32, u32),
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Element")
            .field("start", &self.start)
            .field("children", &self.children.len())
            .finish()
    }
}

/// Byte range of an attribute value inside a start tag.
type Range = Option<(u32, u32)>;

fn id_ranges(start: &str) -> (Range, Range) {
    let (mut eid, mut wid) = (None, None);
    // Cheap pre-check: most elements have no ids.
    if !start.contains("Id") {
        return (None, None);
    }
    for a in tag::Attrs::new(start) {
        match &start[a.name.0..a.name.1] {
            "eId" => eid = Some((a.value.0 as u32, a.value.1 as u32)),
            "wId" => wid = Some((a.value.0 as u32, a.value.1 as u32)),
            _ => {}
        }
    }
    (eid, wid)
}

impl Element {
    fn from_parts(start: Raw, end: Option<Raw>, ns: Option<Arc<str>>, children: Vec<Node>, pos: (u32, u32)) -> Element {
        let (eid, wid) = id_ranges(start.as_str());
        Element { key: fresh_key(), start, end, ns, eid, wid, children, pos }
    }

    /// A new empty element `<qname/>` in namespace `ns` (declarations are the caller's business).
    pub fn new(qname: &str, ns: Option<&str>) -> Element {
        Element::from_parts(Raw::new(&format!("<{qname}/>")), None, ns.map(Arc::from), Vec::new(), (0, 0))
    }

    /// Parse one element from XML text (namespace prefixes must be declared in the text).
    pub fn parse(xml: &str) -> Result<Element, XmlError> {
        let t = Tekst::parse(xml)?;
        Ok(t.root().cloned().unwrap_or_else(|| Element::new("leeg", None)))
    }

    /// The qualified name as written (with prefix).
    pub fn qname(&self) -> &str {
        tag::qname(self.start.as_str())
    }

    /// The local name.
    pub fn name(&self) -> &str {
        let q = self.qname();
        q.rsplit_once(':').map_or(q, |(_, l)| l)
    }

    /// The namespace URI ("" when none).
    pub fn ns(&self) -> &str {
        self.ns.as_deref().unwrap_or("")
    }

    /// True for this local name in the STOP tekst namespace (or without namespace).
    pub fn is_tekst(&self, name: &str) -> bool {
        self.name() == name && matches!(self.ns(), crate::ns::TEKST | "")
    }

    /// The raw start tag.
    pub fn start_tag(&self) -> &str {
        self.start.as_str()
    }

    /// The raw end tag ("" for an empty-element tag).
    pub fn end_tag(&self) -> &str {
        self.end.as_ref().map_or("", Raw::as_str)
    }

    /// Line and column (1-based) in the source the element was read from.
    pub fn position(&self) -> Option<(u32, u32)> {
        (self.pos.0 > 0).then_some(self.pos)
    }

    pub fn eid(&self) -> Option<&str> {
        self.eid.map(|(s, e)| &self.start.as_str()[s as usize..e as usize])
    }

    pub fn wid(&self) -> Option<&str> {
        self.wid.map(|(s, e)| &self.start.as_str()[s as usize..e as usize])
    }

    fn wid_raw(&self) -> Option<Raw> {
        self.wid.map(|(s, e)| self.start.sub(s as usize, e as usize))
    }

    fn eid_raw(&self) -> Option<Raw> {
        self.eid.map(|(s, e)| self.start.sub(s as usize, e as usize))
    }

    /// Attributes (namespace declarations excluded) with their qualified names.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'_>> + '_ {
        let t = self.start.as_str();
        tag::Attrs::new(t).filter_map(move |a| {
            let name = &t[a.name.0..a.name.1];
            (!tag::is_ns_decl(name)).then(|| Attribute { name, raw_value: &t[a.value.0..a.value.1] })
        })
    }

    /// Namespace declarations on this element: (prefix, "" for the default namespace; URI).
    pub fn namespace_declarations(&self) -> impl Iterator<Item = (&str, Cow<'_, str>)> + '_ {
        let t = self.start.as_str();
        tag::Attrs::new(t).filter_map(move |a| {
            let name = &t[a.name.0..a.name.1];
            let prefix = if name == "xmlns" { "" } else { name.strip_prefix("xmlns:")? };
            Some((prefix, tag::attr_value(&t[a.value.0..a.value.1])))
        })
    }

    /// Value of the attribute with this qualified name, unescaped.
    pub fn attr(&self, name: &str) -> Option<Cow<'_, str>> {
        self.attributes().find(|a| a.name == name).map(|a| a.value())
    }

    /// Set an attribute (added when absent). Only the start tag is rewritten, by splicing.
    pub fn set_attr(&mut self, name: &str, value: &str) {
        let s = tag::set_attr(self.start.as_str(), name, value);
        self.set_start(s);
    }

    /// Remove an attribute; false when it was not there.
    pub fn remove_attr(&mut self, name: &str) -> bool {
        self.remove_attrs(&[name])
    }

    /// Remove several attributes at once; false when none was there.
    pub fn remove_attrs(&mut self, names: &[&str]) -> bool {
        match tag::remove_attrs(self.start.as_str(), names) {
            Some(s) => {
                self.set_start(s);
                true
            }
            None => false,
        }
    }

    fn set_start(&mut self, s: String) {
        self.start = Raw::new(&s);
        let (eid, wid) = id_ranges(self.start.as_str());
        self.eid = eid;
        self.wid = wid;
    }

    fn add_declarations(&mut self, decls: &[(String, String)]) {
        if decls.is_empty() {
            return;
        }
        let attrs: Vec<(String, String)> = decls
            .iter()
            .map(|(p, u)| (if p.is_empty() { "xmlns".to_string() } else { format!("xmlns:{p}") }, u.clone()))
            .collect();
        let s = tag::insert_after_name(self.start.as_str(), &attrs);
        self.set_start(s);
    }

    pub fn children(&self) -> &[Node] {
        &self.children
    }

    /// Mutable children. An empty-element tag is turned into a start and end tag first, so
    /// children added here are serialised.
    pub fn children_mut(&mut self) -> &mut Vec<Node> {
        self.open();
        &mut self.children
    }

    /// Turn `<a .../>` into `<a ...></a>`.
    fn open(&mut self) {
        if self.end.is_some() {
            return;
        }
        let t = self.start.as_str();
        let open = match t.strip_suffix("/>") {
            Some(s) => format!("{s}>"),
            None => t.to_string(),
        };
        let end = format!("</{}>", self.qname());
        self.set_start(open);
        self.end = Some(Raw::new(&end));
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> + '_ {
        self.children.iter().filter_map(Node::as_element)
    }

    /// First child element with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name() == name)
    }

    /// All elements of the subtree in document order, this one first.
    pub fn descendants(&self) -> Descendants<'_> {
        Descendants { stack: Vec::new(), first: Some(self) }
    }

    /// Concatenated character data of the subtree (text and CDATA, unescaped).
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.collect_text(&mut out);
        out
    }

    fn collect_text(&self, out: &mut String) {
        for c in &self.children {
            match c {
                Node::Element(e) => e.collect_text(out),
                Node::Text(_) | Node::CData(_) => out.push_str(&c.char_data()),
                _ => {}
            }
        }
    }

    /// Serialise: the original bytes for everything untouched.
    pub fn write_xml(&self, out: &mut String) {
        match &self.end {
            Some(end) => {
                out.push_str(self.start.as_str());
                for c in &self.children {
                    c.write_xml(out);
                }
                out.push_str(end.as_str());
            }
            None if self.children.is_empty() => out.push_str(self.start.as_str()),
            None => {
                let mut e = self.clone();
                e.open();
                e.write_xml(out);
            }
        }
    }

    pub fn to_xml(&self) -> String {
        let mut s = String::new();
        self.write_xml(&mut s);
        s
    }
}

/// One attribute of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// Qualified name as written.
    pub name: &'a str,
    /// The value as written between the quotes.
    pub raw_value: &'a str,
}

impl<'a> Attribute<'a> {
    /// The value with references expanded and white space normalised, as an XML parser reports it.
    pub fn value(&self) -> Cow<'a, str> {
        tag::attr_value(self.raw_value)
    }
}

/// Depth-first walk over the elements of a subtree.
pub struct Descendants<'a> {
    stack: Vec<std::slice::Iter<'a, Node>>,
    first: Option<&'a Element>,
}

impl<'a> Iterator for Descendants<'a> {
    type Item = &'a Element;
    fn next(&mut self) -> Option<&'a Element> {
        if let Some(f) = self.first.take() {
            self.stack.push(f.children.iter());
            return Some(f);
        }
        loop {
            let it = self.stack.last_mut()?;
            match it.next() {
                Some(Node::Element(e)) => {
                    self.stack.push(e.children.iter());
                    return Some(e);
                }
                Some(_) => {}
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}

/// Namespace bindings in scope: (prefix, "" for the default namespace; URI, "" for none).
#[derive(Debug, Clone, Default)]
pub(crate) struct Bindings(Vec<(String, String)>);

impl Bindings {
    fn get(&self, prefix: &str) -> &str {
        if prefix == "xml" {
            return "http://www.w3.org/XML/1998/namespace";
        }
        self.0.iter().rev().find(|(p, _)| p == prefix).map_or("", |(_, u)| u.as_str())
    }

    fn has(&self, prefix: &str) -> bool {
        prefix == "xml" || self.0.iter().any(|(p, _)| p == prefix)
    }

    fn push_element(&mut self, e: &Element) {
        for (p, u) in e.namespace_declarations() {
            self.0.push((p.to_string(), u.into_owned()));
        }
    }

    fn push_tag(&mut self, start_tag: &str) {
        for a in tag::Attrs::new(start_tag) {
            let name = &start_tag[a.name.0..a.name.1];
            let prefix = if name == "xmlns" {
                ""
            } else if let Some(p) = name.strip_prefix("xmlns:") {
                p
            } else {
                continue;
            };
            self.0.push((prefix.to_string(), tag::attr_value(&start_tag[a.value.0..a.value.1]).into_owned()));
        }
    }

    /// The bindings in scope inside the last element of `path` (top-level index first).
    fn along(nodes: &[Node], path: &[u32]) -> Bindings {
        let mut b = Bindings::default();
        let mut list = nodes;
        for &i in path {
            let Some(e) = list.get(i as usize).and_then(Node::as_element) else { break };
            b.push_element(e);
            list = &e.children;
        }
        b
    }
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(p, _)| p)
}

/// The namespace declarations `el` needs at a place where `target` is in scope, when it was
/// written where `outer` was in scope: every prefix its subtree uses, declared outside the
/// subtree, whose binding differs between the two places.
pub(crate) fn needed_declarations(el: &Element, outer: &Bindings, target: &Bindings) -> Vec<(String, String)> {
    fn walk(e: &Element, local: &mut Bindings, outer: &Bindings, target: &Bindings, out: &mut Vec<(String, String)>) {
        let mark = local.0.len();
        let tag = e.start_tag();
        if tag.contains("xmlns") {
            local.push_element(e);
        }
        let check = |p: &str, out: &mut Vec<(String, String)>| {
            if local.has(p) || out.iter().any(|(q, _)| q == p) {
                return;
            }
            let (u, t) = (outer.get(p), target.get(p));
            // An undeclared prefix (u empty) cannot be declared; the default namespace can be reset.
            if u != t && (p.is_empty() || !u.is_empty()) {
                out.push((p.to_string(), u.to_string()));
            }
        };
        check(prefix_of(e.qname()), out);
        if tag[tag::name_end(tag)..].contains(':') {
            for a in e.attributes() {
                let p = prefix_of(a.name);
                if !p.is_empty() {
                    check(p, out);
                }
            }
        }
        for c in e.elements() {
            walk(c, local, outer, target, out);
        }
        local.0.truncate(mark);
    }
    let mut out = Vec::new();
    walk(el, &mut Bindings::default(), outer, target, &mut out);
    out.sort();
    out
}

/// `node` made valid where `target` is in scope (it was written where `outer` was). Shares the
/// element when nothing needs declaring.
pub(crate) fn fix_namespaces(node: Node, outer: &Bindings, target: &Bindings) -> Node {
    match node {
        Node::Element(e) => {
            let decls = needed_declarations(&e, outer, target);
            if decls.is_empty() {
                Node::Element(e)
            } else {
                let mut e = Arc::unwrap_or_clone(e);
                e.add_declarations(&decls);
                Node::Element(Arc::new(e))
            }
        }
        n => n,
    }
}

/// An owned, editable, byte-exact XML tree: a regeling, a RegelingMutatie or any STOP text.
#[derive(Clone)]
pub struct Tekst {
    prolog: Raw,
    nodes: Vec<Node>,
    epilog: Raw,
    /// Element path of the parent of the root in the source document (for meldingen).
    bron_pad: Option<Arc<str>>,
    index: Arc<OnceLock<Arc<Index>>>,
}

impl fmt::Debug for Tekst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tekst").field("root", &self.root().map(Element::qname)).finish()
    }
}

impl fmt::Display for Tekst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_xml())
    }
}

impl PartialEq for Tekst {
    /// Byte equality of the serialisations.
    fn eq(&self, other: &Tekst) -> bool {
        self.to_xml() == other.to_xml()
    }
}

struct Builder<'d> {
    doc: &'d Document,
    src: Arc<str>,
    /// Offset of `src` in the document source.
    base: usize,
    ns: HashMap<&'d str, Arc<str>>,
    /// (offset in the document source, line, column) of the last element start: positions are
    /// counted incrementally in document order, not per element from the start of its line.
    cursor: (usize, u32, u32),
}

impl<'d> Builder<'d> {
    fn new(doc: &'d Document, src: Arc<str>, base: usize, first: NodeId) -> Builder<'d> {
        let (line, col) = doc.line_col(first);
        Builder { doc, src, base, ns: HashMap::new(), cursor: (doc.span(first).0, line, col) }
    }

    fn position(&mut self, offset: usize) -> (u32, u32) {
        let (from, mut line, mut col) = self.cursor;
        if offset < from {
            return self.doc_position(offset);
        }
        for &b in &self.doc.source().as_bytes()[from..offset] {
            if b == b'\n' {
                line += 1;
                col = 1;
            } else if b & 0xC0 != 0x80 {
                col += 1;
            }
        }
        self.cursor = (offset, line, col);
        (line, col)
    }

    fn doc_position(&self, offset: usize) -> (u32, u32) {
        let src = self.doc.source();
        let start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = src[..offset].bytes().filter(|&b| b == b'\n').count() as u32 + 1;
        (line, src[start..offset].chars().count() as u32 + 1)
    }

    fn node(&mut self, id: NodeId) -> Node {
        let (s, e) = self.doc.span(id);
        let (s, e) = (s - self.base, e - self.base);
        match self.doc.kind(id) {
            NodeKind::Text => Node::Text(Raw::slice(&self.src, s, e)),
            NodeKind::CData => Node::CData(Raw::slice(&self.src, s, e)),
            NodeKind::Comment => Node::Comment(Raw::slice(&self.src, s, e)),
            NodeKind::ProcessingInstruction => Node::Pi(Raw::slice(&self.src, s, e)),
            NodeKind::Element => {
                let raw = &self.src[s..e];
                let tl = tag::start_tag_len(raw);
                let start = Raw::slice(&self.src, s, s + tl);
                let end = if raw[..tl].ends_with("/>") {
                    None
                } else {
                    let k = raw.rfind("</").filter(|&k| k >= tl).unwrap_or(raw.len());
                    Some(Raw::slice(&self.src, s + k, e))
                };
                let pos = self.position(s + self.base);
                let children: Vec<Node> = self.doc.children(id).map(|c| self.node(c)).collect();
                let uri = self.doc.ns(id);
                let ns = (!uri.is_empty()).then(|| self.ns.entry(uri).or_insert_with(|| Arc::from(uri)).clone());
                Node::Element(Arc::new(Element::from_parts(start, end, ns, children, pos)))
            }
        }
    }
}

impl Tekst {
    /// Parse XML text. The result serialises to exactly `xml`.
    pub fn parse(xml: &str) -> Result<Tekst, XmlError> {
        let doc = Document::parse_str(xml)?;
        Ok(Tekst::from_document(&doc))
    }

    /// The whole document, prolog and epilog included (byte-exact).
    pub fn from_document(doc: &Document) -> Tekst {
        let src: Arc<str> = Arc::from(doc.source());
        let Some(root) = doc.root() else {
            return Tekst::from_nodes(vec![Node::Text(Raw::slice(&src, 0, src.len()))]);
        };
        let (s, e) = doc.span(root);
        let mut b = Builder::new(doc, src.clone(), 0, root);
        let node = b.node(root);
        Tekst {
            prolog: Raw::slice(&src, 0, s),
            nodes: vec![node],
            epilog: Raw::slice(&src, e, src.len()),
            bron_pad: None,
            index: Arc::default(),
        }
    }

    /// The subtree at `node` as a standalone text: its bytes exactly, except that the namespace
    /// declarations it needs from its ancestors are added to its root start tag (once each).
    /// Positions (line/column) stay those of the source document.
    pub fn uit_document(doc: &Document, node: NodeId) -> Tekst {
        let (s, e) = doc.span(node);
        let src: Arc<str> = Arc::from(&doc.source()[s..e]);
        let mut b = Builder::new(doc, src, s, node);
        let mut n = b.node(node);
        let mut outer = Bindings::default();
        let mut ancestors = Vec::new();
        let mut cur = doc.parent(node);
        while let Some(a) = cur {
            ancestors.push(a);
            cur = doc.parent(a);
        }
        for &a in ancestors.iter().rev() {
            let raw = doc.raw(a);
            outer.push_tag(&raw[..tag::start_tag_len(raw)]);
        }
        n = fix_namespaces(n, &outer, &Bindings::default());
        let bron_pad = doc.parent(node).map(|p| Arc::from(doc.path(p)));
        Tekst { prolog: Raw::empty(), nodes: vec![n], epilog: Raw::empty(), bron_pad, index: Arc::default() }
    }

    /// The root start and end tag of `als_regelingversie(Tekst::uit_document(doc, node), wordt)`
    /// (end tag empty for `<x/>`), without building the subtree: every byte between them is
    /// the source's own (`doc.raw(node)` minus its start and end tag). For storing an initial
    /// regeling version straight from the parsed besluit.
    pub fn regelingversie_tags(doc: &Document, node: NodeId, wordt: &str) -> (String, String) {
        /// False once every prefix that could be needed is found (nothing more to look for).
        fn walk(doc: &Document, n: NodeId, local: &mut Bindings, outer: &Bindings, kandidaten: usize, out: &mut Vec<(String, String)>) -> bool {
            let mark = local.0.len();
            let raw = doc.raw(n);
            let tag = &raw[..tag::start_tag_len(raw)];
            if tag.contains("xmlns") {
                local.push_tag(tag);
            }
            // As `needed_declarations` with an empty target.
            let target = Bindings::default();
            let check = |p: &str, local: &Bindings, out: &mut Vec<(String, String)>| {
                if local.has(p) || out.iter().any(|(q, _)| q == p) {
                    return;
                }
                let (u, t) = (outer.get(p), target.get(p));
                if u != t && (p.is_empty() || !u.is_empty()) {
                    out.push((p.to_string(), u.to_string()));
                }
            };
            check(prefix_of(doc.qname(n)), local, out);
            if tag[tag::name_end(tag)..].contains(':') {
                for a in tag::Attrs::new(tag) {
                    let name = &tag[a.name.0..a.name.1];
                    let p = prefix_of(name);
                    if !tag::is_ns_decl(name) && !p.is_empty() {
                        check(p, local, out);
                    }
                }
            }
            let mut verder = out.len() < kandidaten;
            for c in doc.children(n) {
                if !verder {
                    break;
                }
                if doc.is_element(c) {
                    verder = walk(doc, c, local, outer, kandidaten, out);
                }
            }
            local.0.truncate(mark);
            verder
        }
        let raw = doc.raw(node);
        let tl = tag::start_tag_len(raw);
        let start = &raw[..tl];
        let end = if start.ends_with("/>") {
            ""
        } else {
            let k = raw.rfind("</").filter(|&k| k >= tl).unwrap_or(raw.len());
            &raw[k..]
        };
        let mut outer = Bindings::default();
        let mut ancestors = Vec::new();
        let mut cur = doc.parent(node);
        while let Some(a) = cur {
            ancestors.push(a);
            cur = doc.parent(a);
        }
        for &a in ancestors.iter().rev() {
            let raw = doc.raw(a);
            outer.push_tag(&raw[..tag::start_tag_len(raw)]);
        }
        // Only prefixes bound outside (to a namespace) can be needed: the walk stops when all
        // of them are found.
        let mut bound: Vec<&str> = outer.0.iter().map(|(p, _)| p.as_str()).filter(|p| !outer.get(p).is_empty()).collect();
        bound.sort_unstable();
        bound.dedup();
        let mut decls = Vec::new();
        walk(doc, node, &mut Bindings::default(), &outer, bound.len(), &mut decls);
        decls.sort();
        let uri = doc.ns(node);
        let ns = (!uri.is_empty()).then(|| Arc::from(uri));
        let end_raw = (!start.ends_with("/>")).then(|| Raw::new(end));
        let mut e = Element::from_parts(Raw::new(start), end_raw, ns, Vec::new(), (0, 0));
        e.add_declarations(&decls);
        let t = als_regelingversie(Tekst::from_element(e), wordt);
        let root = t.root().expect("a root element");
        (root.start_tag().to_string(), root.end_tag().to_string())
    }

    /// A text of these top-level nodes.
    pub fn from_nodes(nodes: Vec<Node>) -> Tekst {
        Tekst { prolog: Raw::empty(), nodes, epilog: Raw::empty(), bron_pad: None, index: Arc::default() }
    }

    /// A text with this element as its root.
    pub fn from_element(e: Element) -> Tekst {
        Tekst::from_nodes(vec![Node::Element(Arc::new(e))])
    }

    /// The first top-level element.
    pub fn root(&self) -> Option<&Element> {
        self.nodes.iter().find_map(Node::as_element)
    }

    /// Mutable root element (copied first when shared).
    pub fn root_mut(&mut self) -> Option<&mut Element> {
        self.index = Arc::default();
        self.nodes.iter_mut().find_map(Node::as_element_mut)
    }

    /// The top-level nodes.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn nodes_mut(&mut self) -> &mut Vec<Node> {
        self.index = Arc::default();
        &mut self.nodes
    }

    /// The bytes before the first top-level node (XML declaration, comments, BOM) of a parsed
    /// document.
    pub fn prolog(&self) -> &str {
        self.prolog.as_str()
    }

    pub fn epilog(&self) -> &str {
        self.epilog.as_str()
    }

    /// Element path of the parent of the root in the document this text was cut from.
    pub fn bron_pad(&self) -> Option<&str> {
        self.bron_pad.as_deref()
    }

    /// Serialise.
    pub fn write_xml(&self, out: &mut String) {
        out.push_str(self.prolog.as_str());
        for n in &self.nodes {
            n.write_xml(out);
        }
        out.push_str(self.epilog.as_str());
    }

    pub fn to_xml(&self) -> String {
        let mut s = String::new();
        self.write_xml(&mut s);
        s
    }

    /// Concatenated character data.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            match n {
                Node::Element(e) => e.collect_text(&mut out),
                Node::Text(_) | Node::CData(_) => out.push_str(&n.char_data()),
                _ => {}
            }
        }
        out
    }

    fn index(&self) -> &Arc<Index> {
        self.index.get_or_init(|| Arc::new(Index::build(&self.nodes)))
    }

    /// A text whose index is already known (derived from the version it was made from).
    fn with_index(mut self, index: Option<Index>) -> Tekst {
        self.index = Arc::default();
        if let Some(ix) = index {
            let _ = self.index.set(Arc::new(ix));
        }
        self
    }

    /// Build the wId/eId index now (it is otherwise built on first use).
    pub fn indexeer(&self) {
        self.index();
    }

    fn resolved(&self, steps: &[index::Step]) -> Option<ElementRef<'_>> {
        let path = index::resolve(&self.nodes, steps)?;
        self.at(&path)
    }

    /// The element with this wId.
    pub fn by_wid(&self, wid: &str) -> Option<ElementRef<'_>> {
        self.resolved(self.index().wid(wid)?)
    }

    /// The element with this eId.
    pub fn by_eid(&self, eid: &str) -> Option<ElementRef<'_>> {
        self.resolved(self.index().eid(eid)?)
    }

    /// Every wId in the text (each once, in no particular order).
    pub fn wids(&self) -> impl Iterator<Item = &str> + '_ {
        self.index().wids().into_iter()
    }

    /// Every eId in the text (each once, in no particular order).
    pub fn eids(&self) -> impl Iterator<Item = &str> + '_ {
        self.index().eids().into_iter()
    }

    /// How many versions the index has been carried over from (0: built from this tree).
    pub fn index_lagen(&self) -> u32 {
        self.index().layers()
    }

    /// wIds that occur more than once, with their counts.
    pub fn dubbele_wids(&self) -> &[(String, usize)] {
        &self.index().dup_wid
    }

    /// eIds that occur more than once, with their counts.
    pub fn dubbele_eids(&self) -> &[(String, usize)] {
        &self.index().dup_eid
    }

    /// The element at a path of child indexes (the first is an index into [`Tekst::nodes`]).
    pub fn at(&self, path: &[u32]) -> Option<ElementRef<'_>> {
        let mut list = &self.nodes;
        let mut el = None;
        for &i in path {
            let e = list.get(i as usize)?.as_element()?;
            list = &e.children;
            el = Some(e);
        }
        Some(ElementRef { tekst: self, path: path.to_vec(), element: el? })
    }
}

/// An element of a [`Tekst`] with its place in the tree.
#[derive(Clone)]
pub struct ElementRef<'a> {
    tekst: &'a Tekst,
    path: Vec<u32>,
    element: &'a Element,
}

impl fmt::Debug for ElementRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ElementRef").field("path", &self.path).field("element", &self.element).finish()
    }
}

impl<'a> ElementRef<'a> {
    pub fn element(&self) -> &'a Element {
        self.element
    }

    /// Child indexes from the top-level nodes down to this element.
    pub fn path(&self) -> &[u32] {
        &self.path
    }

    pub fn parent(&self) -> Option<ElementRef<'a>> {
        if self.path.len() < 2 {
            return None;
        }
        self.tekst.at(&self.path[..self.path.len() - 1])
    }

    /// Ancestors, nearest first.
    pub fn ancestors(&self) -> impl Iterator<Item = ElementRef<'a>> + 'a {
        let first = self.parent();
        std::iter::successors(first, ElementRef::parent)
    }

    pub fn children(&self) -> &'a [Node] {
        &self.element.children
    }

    /// Child elements as refs.
    pub fn child_elements(&self) -> impl Iterator<Item = ElementRef<'a>> + 'a {
        let (tekst, path, children) = (self.tekst, self.path.clone(), &self.element.children);
        children.iter().enumerate().filter_map(move |(i, c)| {
            let e = c.as_element()?;
            let mut p = path.clone();
            p.push(i as u32);
            Some(ElementRef { tekst, path: p, element: e })
        })
    }
}

impl std::ops::Deref for ElementRef<'_> {
    type Target = Element;
    fn deref(&self) -> &Element {
        self.element
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Tekst>();
        send_sync::<Element>();
        send_sync::<Toepassing>();
    }

    #[test]
    fn round_trip_and_lookup() {
        let src = "<?xml version=\"1.0\"?>\n<!-- c -->\n<a xmlns=\"urn:x\"><b eId=\"b1\" wId=\"w_b1\">x &amp; y<c/></b><![CDATA[<z>]]><?pi x?></a>\n";
        let t = Tekst::parse(src).unwrap();
        assert_eq!(t.to_xml(), src);
        let b = t.by_wid("w_b1").unwrap();
        assert_eq!(b.name(), "b");
        assert_eq!(b.eid(), Some("b1"));
        assert_eq!(b.text(), "x & y");
        assert_eq!(b.parent().unwrap().name(), "a");
        assert_eq!(t.by_eid("b1").unwrap().wid(), Some("w_b1"));
        assert_eq!(b.position(), Some((3, 18)));
        assert_eq!(t.text(), "x & y<z>");
    }

    #[test]
    fn uit_document_adds_needed_declarations_once() {
        let src = "<r xmlns=\"urn:t\" xmlns:p=\"urn:p\" xmlns:q=\"urn:q\"><w><R a=\"1\"><p:x p:k=\"v\"/><y xmlns=\"urn:other\"/></R></w></r>";
        let doc = Document::parse_str(src).unwrap();
        let r = doc.descendants(doc.root().unwrap()).find(|&n| doc.name(n) == "R").unwrap();
        let t = Tekst::uit_document(&doc, r);
        assert_eq!(
            t.to_xml(),
            "<R xmlns=\"urn:t\" xmlns:p=\"urn:p\" a=\"1\"><p:x p:k=\"v\"/><y xmlns=\"urn:other\"/></R>"
        );
        assert_eq!(t.bron_pad(), Some("/r/w"));
        let again = Tekst::parse(&t.to_xml()).unwrap();
        assert_eq!(again.root().unwrap().ns(), "urn:t");
    }

    #[test]
    fn editing_rewrites_only_the_changed_start_tag() {
        let src = "<a>\n  <b  k = 'v' eId=\"e\"/>\n  <c>t</c>\n</a>";
        let mut t = Tekst::parse(src).unwrap();
        let root = t.root_mut().unwrap();
        let b = root.children_mut()[1].as_element_mut().unwrap();
        b.set_attr("eId", "f");
        b.children_mut().push(Node::text("1 < 2"));
        assert_eq!(t.to_xml(), "<a>\n  <b  k = 'v' eId=\"f\">1 &lt; 2</b>\n  <c>t</c>\n</a>");
        assert_eq!(t.by_eid("f").unwrap().text(), "1 < 2");
    }
}

/// The stored form of a regeling version: the root element keeps its model and content, loses
/// the besluit context (`componentnaam`, `was`) and names the version it is (`wordt`).
pub fn als_regelingversie(mut t: Tekst, wordt: &str) -> Tekst {
    if let Some(root) = t.root_mut() {
        root.remove_attr("componentnaam");
        root.remove_attr("was");
        root.set_attr("wordt", wordt);
    }
    t
}
