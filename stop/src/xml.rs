//! A compact, namespace-aware XML tree that keeps the source text.
//!
//! Every node records the byte span it came from, so the original bytes of any element can be
//! recovered exactly, and every position can be reported as line and column. The tree is an
//! arena (`Vec<Node>`) with integer links: one allocation per document rather than one per
//! node, which keeps the memory of a large besluit close to the size of its text.
//!
//! Safety limits: no DOCTYPE (no entity expansion), bounded depth, bounded attribute length.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// Nesting depth beyond which a document is refused.
pub const MAX_DEPTH: usize = 512;
/// Longest attribute value accepted (1 MiB).
pub const MAX_ATTRIBUTE_LEN: usize = 1 << 20;

/// Why a document could not be read as XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (regel {line}, kolom {column})")]
pub struct XmlError {
    pub kind: XmlErrorKind,
    pub message: String,
    pub offset: usize,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlErrorKind {
    /// Not valid UTF-8 (STOP requires UTF-8).
    Encoding,
    /// Not well-formed XML.
    NotWellFormed,
    /// A DOCTYPE declaration: refused, no entity expansion.
    Doctype,
    /// Too deep, attribute too long.
    Limit,
    /// An element or attribute prefix that is not declared.
    Namespace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    const NONE: u32 = u32::MAX;
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Element,
    /// Character data, possibly with entity references (span is the raw, escaped text).
    Text,
    CData,
    Comment,
    ProcessingInstruction,
}

#[derive(Debug, Clone)]
struct Node {
    kind: NodeKind,
    /// Interned namespace URI (0 = no namespace).
    ns: u32,
    /// Interned local name (elements only).
    name: u32,
    /// Interned qualified name as written (with prefix), for byte-faithful output.
    qname: u32,
    parent: u32,
    first_child: u32,
    next_sibling: u32,
    start: u32,
    end: u32,
    attr_start: u32,
    attr_len: u32,
}

#[derive(Debug, Clone)]
struct Attr {
    ns: u32,
    name: u32,
    value_start: u32,
    value_end: u32,
}

/// A parsed XML document.
pub struct Document {
    src: String,
    nodes: Vec<Node>,
    attrs: Vec<Attr>,
    attr_values: String,
    strings: Vec<Box<str>>,
    root: Option<NodeId>,
    line_starts: Vec<u32>,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("bytes", &self.src.len())
            .field("nodes", &self.nodes.len())
            .finish()
    }
}

struct Interner {
    map: HashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Interner {
    fn new() -> Self {
        let mut i = Interner { map: HashMap::new(), strings: Vec::new() };
        i.intern("");
        i
    }
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.map.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.map.insert(s.into(), id);
        id
    }
}

fn line_starts(src: &str) -> Vec<u32> {
    let mut v = Vec::with_capacity(src.len() / 40 + 1);
    v.push(0);
    for (i, b) in src.bytes().enumerate() {
        if b == b'\n' {
            v.push(i as u32 + 1);
        }
    }
    v
}

/// Line (1-based) and column (1-based, in characters) of a byte offset in `src`.
pub fn line_col(src: &str, line_starts: &[u32], offset: usize) -> (u32, u32) {
    let offset = offset.min(src.len());
    let line = match line_starts.binary_search(&(offset as u32)) {
        Ok(i) => i,
        Err(i) => i - 1,
    };
    let start = line_starts[line] as usize;
    let mut end = offset;
    while end > start && !src.is_char_boundary(end) {
        end -= 1;
    }
    let col = src[start..end].chars().count() + 1;
    (line as u32 + 1, col as u32)
}

impl Document {
    /// Parse bytes as an XML document. A UTF-8 byte order mark is accepted and skipped.
    pub fn parse(bytes: Vec<u8>) -> Result<Document, XmlError> {
        let src = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let offset = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let valid = std::str::from_utf8(&bytes[..offset]).unwrap_or("");
                let (line, column) = line_col(valid, &line_starts(valid), offset);
                return Err(XmlError {
                    kind: XmlErrorKind::Encoding,
                    message: format!("ongeldige UTF-8 op byte {offset}"),
                    offset,
                    line,
                    column,
                });
            }
        };
        Self::parse_string(src)
    }

    pub fn parse_str(s: &str) -> Result<Document, XmlError> {
        Self::parse_string(s.to_string())
    }

    fn parse_string(src: String) -> Result<Document, XmlError> {
        if src.len() > u32::MAX as usize - 1 {
            return Err(XmlError {
                kind: XmlErrorKind::Limit,
                message: "document groter dan 4 GiB".into(),
                offset: 0,
                line: 1,
                column: 1,
            });
        }
        let starts = line_starts(&src);
        let built = build(&src);
        match built {
            Ok((nodes, attrs, attr_values, strings, root)) => Ok(Document {
                src,
                nodes,
                attrs,
                attr_values,
                strings,
                root,
                line_starts: starts,
            }),
            Err((kind, message, offset)) => {
                let (line, column) = line_col(&src, &starts, offset);
                Err(XmlError { kind, message, offset, line, column })
            }
        }
    }

    /// The document element.
    pub fn root(&self) -> Option<NodeId> {
        self.root
    }

    pub fn source(&self) -> &str {
        &self.src
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    fn string(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    pub fn kind(&self, id: NodeId) -> NodeKind {
        self.node(id).kind
    }

    pub fn is_element(&self, id: NodeId) -> bool {
        self.node(id).kind == NodeKind::Element
    }

    /// Local name of an element ("" for other nodes).
    pub fn name(&self, id: NodeId) -> &str {
        self.string(self.node(id).name)
    }

    /// Qualified name as written in the source (with its prefix).
    pub fn qname(&self, id: NodeId) -> &str {
        self.string(self.node(id).qname)
    }

    /// Namespace URI of an element ("" when none).
    pub fn ns(&self, id: NodeId) -> &str {
        self.string(self.node(id).ns)
    }

    /// True if the element has this namespace and local name.
    pub fn is(&self, id: NodeId, ns: &str, name: &str) -> bool {
        let n = self.node(id);
        n.kind == NodeKind::Element && self.string(n.name) == name && self.string(n.ns) == ns
    }

    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        let p = self.node(id).parent;
        (p != NodeId::NONE).then_some(NodeId(p))
    }

    /// All child nodes (elements, text, comments, ...).
    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children { doc: self, next: self.node(id).first_child }
    }

    /// Child elements only.
    pub fn elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).filter(|&c| self.is_element(c))
    }

    /// First child element with this namespace and local name.
    pub fn child(&self, id: NodeId, ns: &str, name: &str) -> Option<NodeId> {
        self.elements(id).find(|&c| self.is(c, ns, name))
    }

    /// First child element with this local name, any namespace.
    pub fn child_named(&self, id: NodeId, name: &str) -> Option<NodeId> {
        self.elements(id).find(|&c| self.name(c) == name)
    }

    /// Depth-first pre-order walk over the subtree rooted at `id` (including `id`).
    pub fn descendants(&self, id: NodeId) -> Descendants<'_> {
        Descendants { doc: self, root: id, next: Some(id) }
    }

    /// Attribute value by local name (attributes without namespace, the usual case in STOP).
    pub fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        self.attrs_of(id).find(|(ns, n, _)| ns.is_empty() && *n == name).map(|(_, _, v)| v)
    }

    /// All attributes as (namespace, local name, unescaped value); `xmlns` declarations excluded.
    pub fn attrs_of(&self, id: NodeId) -> impl Iterator<Item = (&str, &str, &str)> + '_ {
        let n = self.node(id);
        let range = n.attr_start as usize..(n.attr_start + n.attr_len) as usize;
        self.attrs[range].iter().map(move |a| {
            (
                self.string(a.ns),
                self.string(a.name),
                &self.attr_values[a.value_start as usize..a.value_end as usize],
            )
        })
    }

    /// The raw source text of a node, exactly as in the input.
    pub fn raw(&self, id: NodeId) -> &str {
        let n = self.node(id);
        &self.src[n.start as usize..n.end as usize]
    }

    /// Byte span of a node in the source.
    pub fn span(&self, id: NodeId) -> (usize, usize) {
        let n = self.node(id);
        (n.start as usize, n.end as usize)
    }

    /// Unescaped content of a text or CDATA node ("" for others).
    pub fn text_of(&self, id: NodeId) -> Cow<'_, str> {
        let n = self.node(id);
        let raw = &self.src[n.start as usize..n.end as usize];
        match n.kind {
            NodeKind::Text => quick_xml::escape::unescape(raw).unwrap_or(Cow::Borrowed(raw)),
            NodeKind::CData => Cow::Borrowed(&raw[9..raw.len() - 3]),
            _ => Cow::Borrowed(""),
        }
    }

    /// Concatenated text of all descendant text nodes.
    pub fn text(&self, id: NodeId) -> String {
        let mut out = String::new();
        for d in self.descendants(id) {
            match self.kind(d) {
                NodeKind::Text | NodeKind::CData => out.push_str(&self.text_of(d)),
                _ => {}
            }
        }
        out
    }

    /// Text content with surrounding white space removed; `None` when empty.
    pub fn trimmed_text(&self, id: NodeId) -> Option<String> {
        let t = self.text(id);
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_string())
    }

    /// Line and column (1-based) where a node starts.
    pub fn line_col(&self, id: NodeId) -> (u32, u32) {
        line_col(&self.src, &self.line_starts, self.node(id).start as usize)
    }

    /// Element path like `/AanleveringBesluit/BesluitVersie/BesluitCompact`.
    pub fn path(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            if self.is_element(c) {
                parts.push(self.name(c));
            }
            cur = self.parent(c);
        }
        parts.reverse();
        let mut s = String::new();
        for p in parts {
            s.push('/');
            s.push_str(p);
        }
        s
    }

    /// Serialise the subtree as XML. Because every node keeps its source span this is the
    /// original text, byte for byte.
    pub fn to_xml(&self, id: NodeId) -> &str {
        self.raw(id)
    }
}

pub struct Children<'d> {
    doc: &'d Document,
    next: u32,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NodeId::NONE {
            return None;
        }
        let id = NodeId(self.next);
        self.next = self.doc.node(id).next_sibling;
        Some(id)
    }
}

pub struct Descendants<'d> {
    doc: &'d Document,
    root: NodeId,
    next: Option<NodeId>,
}

impl Iterator for Descendants<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let cur = self.next?;
        let n = self.doc.node(cur);
        self.next = if n.first_child != NodeId::NONE {
            Some(NodeId(n.first_child))
        } else {
            let mut c = cur;
            loop {
                if c == self.root {
                    break None;
                }
                let cn = self.doc.node(c);
                if cn.next_sibling != NodeId::NONE {
                    break Some(NodeId(cn.next_sibling));
                }
                match self.doc.parent(c) {
                    Some(p) => c = p,
                    None => break None,
                }
            }
        };
        Some(cur)
    }
}

type Built = (Vec<Node>, Vec<Attr>, String, Vec<Box<str>>, Option<NodeId>);
type BuildError = (XmlErrorKind, String, usize);

fn build(src: &str) -> Result<Built, BuildError> {
    let body = src.strip_prefix('\u{feff}').unwrap_or(src);
    let bom = src.len() - body.len();
    let mut reader = NsReader::from_str(body);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.check_comments = true;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
    }
    let mut nodes: Vec<Node> = Vec::with_capacity(body.len() / 48 + 16);
    let mut attrs: Vec<Attr> = Vec::new();
    let mut attr_values = String::new();
    let mut interner = Interner::new();
    let mut stack: Vec<u32> = Vec::new();
    // Last child per open element, to append siblings in O(1).
    let mut last_child: Vec<u32> = Vec::new();
    let mut root: Option<NodeId> = None;
    let mut root_last: u32 = NodeId::NONE;
    let mut seen_root_end = false;

    let err = |kind: XmlErrorKind, msg: String, pos: u64| (kind, msg, pos as usize + bom);

    loop {
        let before = reader.buffer_position();
        let (resolved, event) = match reader.read_resolved_event() {
            Ok((r, e)) => (resolve_to_owned(r), e),
            Err(e) => {
                let pos = reader.error_position();
                let kind = match e {
                    quick_xml::Error::Namespace(_) => XmlErrorKind::Namespace,
                    quick_xml::Error::Encoding(_) => XmlErrorKind::Encoding,
                    _ => XmlErrorKind::NotWellFormed,
                };
                return Err(err(kind, format!("XML is niet welgevormd: {e}"), pos));
            }
        };
        let after = reader.buffer_position();
        let (start, end) = ((before as usize + bom) as u32, (after as usize + bom) as u32);

        let new_node = |kind: NodeKind| Node {
            kind,
            ns: 0,
            name: 0,
            qname: 0,
            parent: stack.last().copied().unwrap_or(NodeId::NONE),
            first_child: NodeId::NONE,
            next_sibling: NodeId::NONE,
            start,
            end,
            attr_start: 0,
            attr_len: 0,
        };

        let (node, opens) = match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let opens = matches!(event, Event::Start(_));
                if stack.is_empty() && (root.is_some() || seen_root_end) {
                    return Err(err(
                        XmlErrorKind::NotWellFormed,
                        "meer dan één documentelement".into(),
                        before,
                    ));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(err(
                        XmlErrorKind::Limit,
                        format!("elementen zijn dieper genest dan {MAX_DEPTH} niveaus"),
                        before,
                    ));
                }
                let mut n = new_node(NodeKind::Element);
                n.ns = match &resolved {
                    Resolved::Bound(ns) => interner.intern(ns),
                    Resolved::Unbound => 0,
                    Resolved::Unknown(p) => {
                        return Err(err(
                            XmlErrorKind::Namespace,
                            format!("namespace-prefix '{p}' is niet gedeclareerd"),
                            before,
                        ));
                    }
                };
                let local = e.local_name().into_inner();
                n.name = interner.intern(local);
                let qn = e.name().into_inner();
                n.qname = interner.intern(qn);
                n.attr_start = attrs.len() as u32;
                for a in e.attributes() {
                    let a = a.map_err(|x| {
                        err(XmlErrorKind::NotWellFormed, format!("ongeldig attribuut: {x}"), before)
                    })?;
                    let key = a.key;
                    if key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (ans, alocal) = reader.resolver().resolve_attribute(key);
                    let ans = match ans {
                        ResolveResult::Bound(ns) => {
                            interner.intern(ns.into_inner())
                        }
                        ResolveResult::Unbound => 0,
                        ResolveResult::Unknown(p) => {
                            return Err(err(
                                XmlErrorKind::Namespace,
                                format!(
                                    "namespace-prefix '{}' is niet gedeclareerd",
                                    p
                                ),
                                before,
                            ));
                        }
                    };
                    let raw_len = a.value.len();
                    if raw_len > MAX_ATTRIBUTE_LEN {
                        return Err(err(
                            XmlErrorKind::Limit,
                            format!(
                                "attribuut '{}' is {raw_len} bytes lang (maximaal {MAX_ATTRIBUTE_LEN})",
                                key.into_inner()
                            ),
                            before,
                        ));
                    }
                    let value = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|x| {
                        err(XmlErrorKind::NotWellFormed, format!("ongeldige attribuutwaarde: {x}"), before)
                    })?;
                    let vs = attr_values.len() as u32;
                    attr_values.push_str(&value);
                    attrs.push(Attr {
                        ns: ans,
                        name: interner.intern(alocal.into_inner()),
                        value_start: vs,
                        value_end: attr_values.len() as u32,
                    });
                }
                n.attr_len = attrs.len() as u32 - n.attr_start;
                (n, opens)
            }
            Event::End(_) => {
                let id = stack.pop().ok_or_else(|| {
                    err(XmlErrorKind::NotWellFormed, "sluittag zonder opentag".into(), before)
                })?;
                last_child.pop();
                nodes[id as usize].end = end;
                if stack.is_empty() {
                    seen_root_end = true;
                }
                continue;
            }
            Event::Text(_) | Event::GeneralRef(_) => {
                if let Event::GeneralRef(ref r) = event {
                    let name = r.clone().into_inner();
                    let known = matches!(&*name, "amp" | "lt" | "gt" | "quot" | "apos")
                        || r.is_char_ref() && matches!(r.resolve_char_ref(), Ok(Some(_)));
                    if !known {
                        return Err(err(
                            XmlErrorKind::NotWellFormed,
                            format!("onbekende entiteit '&{name};'"),
                            before,
                        ));
                    }
                }
                if stack.is_empty() {
                    // Only white space may stand outside the document element.
                    if let Event::Text(ref t) = event
                        && t.trim().is_empty()
                    {
                        continue;
                    }
                    return Err(err(
                        XmlErrorKind::NotWellFormed,
                        "tekst buiten het documentelement".into(),
                        before,
                    ));
                }
                // Merge with a directly preceding text node (text split by entity references).
                let parent_last = *last_child.last().unwrap_or(&NodeId::NONE);
                if parent_last != NodeId::NONE {
                    let prev = &mut nodes[parent_last as usize];
                    if prev.kind == NodeKind::Text && prev.end == start {
                        prev.end = end;
                        continue;
                    }
                }
                (new_node(NodeKind::Text), false)
            }
            Event::CData(_) => (new_node(NodeKind::CData), false),
            Event::Comment(_) => (new_node(NodeKind::Comment), false),
            Event::PI(_) => (new_node(NodeKind::ProcessingInstruction), false),
            Event::Decl(_) => continue,
            Event::DocType(_) => {
                return Err(err(
                    XmlErrorKind::Doctype,
                    "een DOCTYPE-declaratie is niet toegestaan".into(),
                    before,
                ));
            }
            Event::Eof => break,
        };

        let id = nodes.len() as u32;
        let is_element = node.kind == NodeKind::Element;
        if stack.is_empty() {
            if is_element {
                root = Some(NodeId(id));
            } else {
                // Comments and PIs outside the root are kept out of the tree.
                continue;
            }
        } else {
            let prev = *last_child.last().unwrap_or(&NodeId::NONE);
            if prev == NodeId::NONE {
                let parent = *stack.last().unwrap_or(&NodeId::NONE);
                nodes[parent as usize].first_child = id;
            } else {
                nodes[prev as usize].next_sibling = id;
            }
            if let Some(l) = last_child.last_mut() {
                *l = id;
            }
        }
        let _ = root_last;
        root_last = id;
        nodes.push(node);
        if opens {
            stack.push(id);
            last_child.push(NodeId::NONE);
        }
    }
    if let Some(&open) = stack.last() {
        let qn = interner.strings[nodes[open as usize].qname as usize].to_string();
        return Err((
            XmlErrorKind::NotWellFormed,
            format!("element '{qn}' is niet afgesloten"),
            src.len(),
        ));
    }
    if root.is_none() {
        return Err((XmlErrorKind::NotWellFormed, "geen documentelement".into(), src.len()));
    }
    Ok((nodes, attrs, attr_values, interner.strings, root))
}

enum Resolved {
    Unbound,
    Bound(String),
    Unknown(String),
}

fn resolve_to_owned(r: ResolveResult<'_>) -> Resolved {
    match r {
        ResolveResult::Unbound => Resolved::Unbound,
        ResolveResult::Bound(ns) => {
            Resolved::Bound(ns.into_inner().to_string())
        }
        ResolveResult::Unknown(p) => Resolved::Unknown(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "urn:x";

    #[test]
    fn parses_tree_with_namespaces_and_positions() {
        let src = "<?xml version=\"1.0\"?>\n<a xmlns=\"urn:x\" xmlns:p=\"urn:p\">\n  <p:b k=\"1 &amp; 2\">t &lt; u</p:b>\n  <c/>\n</a>";
        let d = Document::parse_str(src).unwrap();
        let a = d.root().unwrap();
        assert!(d.is(a, NS, "a"));
        let b = d.elements(a).next().unwrap();
        assert!(d.is(b, "urn:p", "b"));
        assert_eq!(d.qname(b), "p:b");
        assert_eq!(d.attr(b, "k"), Some("1 & 2"));
        assert_eq!(d.text(b), "t < u");
        assert_eq!(d.line_col(b), (3, 3));
        assert_eq!(d.raw(b), "<p:b k=\"1 &amp; 2\">t &lt; u</p:b>");
        let c = d.child(a, NS, "c").unwrap();
        assert_eq!(d.path(c), "/a/c");
        assert_eq!(d.raw(a), &src[22..]);
    }

    #[test]
    fn refuses_bad_input_with_position() {
        let cases: &[(&str, XmlErrorKind)] = &[
            ("<a><b></a>", XmlErrorKind::NotWellFormed),
            ("<a>", XmlErrorKind::NotWellFormed),
            ("", XmlErrorKind::NotWellFormed),
            ("<a/><b/>", XmlErrorKind::NotWellFormed),
            ("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", XmlErrorKind::Doctype),
            ("<a>&x;</a>", XmlErrorKind::NotWellFormed),
            ("<p:a/>", XmlErrorKind::Namespace),
            ("<a>\n text\n</a>trailing", XmlErrorKind::NotWellFormed),
        ];
        for (src, kind) in cases {
            let e = Document::parse_str(src).expect_err(src);
            assert_eq!(e.kind, *kind, "{src}: {e}");
        }
        let e = Document::parse(b"<a>\n\xff</a>".to_vec()).unwrap_err();
        assert_eq!((e.kind, e.line), (XmlErrorKind::Encoding, 2));
    }

    #[test]
    fn refuses_deep_nesting_and_huge_attributes() {
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(Document::parse_str(&deep).unwrap_err().kind, XmlErrorKind::Limit);
        let huge = format!("<a v=\"{}\"/>", "x".repeat(MAX_ATTRIBUTE_LEN + 1));
        assert_eq!(Document::parse_str(&huge).unwrap_err().kind, XmlErrorKind::Limit);
    }

    #[test]
    fn descendants_walks_in_document_order() {
        let d = Document::parse_str("<a><b><c/></b><d>x</d></a>").unwrap();
        let names: Vec<_> = d
            .descendants(d.root().unwrap())
            .filter(|&n| d.is_element(n))
            .map(|n| d.name(n).to_string())
            .collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
    }

    #[test]
    fn bom_is_skipped_and_offsets_stay_in_source() {
        let d = Document::parse("\u{feff}<a>x</a>".as_bytes().to_vec()).unwrap();
        assert_eq!(d.raw(d.root().unwrap()), "<a>x</a>");
    }
}
