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
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, OnceLock};

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

/// The interned name of an element: namespace, local name and qualified name together. Two
/// elements have the same `NameId` exactly when they have the same namespace and the same
/// qualified name (prefix included). Non-elements have `NameId::NONE`'s index 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameId(u32);

impl NameId {
    /// Index into a table of [`Document::name_id_count`] entries.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

// Node::tag layout: bits 0..28 name id, bit 28 "has children" (the first child is then always
// the next node in the arena, because nodes are stored in document order), bits 29..32 kind.
const NAME_BITS: u32 = 28;
const NAME_MASK: u32 = (1 << NAME_BITS) - 1;
const HAS_CHILD: u32 = 1 << NAME_BITS;
const KIND_SHIFT: u32 = 29;
const MAX_NAMES: usize = NAME_MASK as usize;

#[derive(Debug, Clone)]
struct Node {
    tag: u32,
    parent: u32,
    next_sibling: u32,
    start: u32,
    end: u32,
    attr_start: u32,
    attr_len: u32,
}

const _: () = assert!(std::mem::size_of::<Node>() <= 32);

const KINDS: [NodeKind; 5] =
    [NodeKind::Element, NodeKind::Text, NodeKind::CData, NodeKind::Comment, NodeKind::ProcessingInstruction];

impl Node {
    #[inline]
    fn kind(&self) -> NodeKind {
        KINDS[(self.tag >> KIND_SHIFT) as usize]
    }
    #[inline]
    fn name_ix(&self) -> usize {
        (self.tag & NAME_MASK) as usize
    }
    #[inline]
    fn first_child(&self, id: u32) -> u32 {
        if self.tag & HAS_CHILD != 0 { id + 1 } else { NodeId::NONE }
    }
}

/// Set on `Attr::name` when the value lives in `Document::attr_values` (it was changed by
/// unescaping or normalisation); otherwise the value is a span of the source.
const OWNED_VALUE: u32 = 1 << 31;

#[derive(Debug, Clone)]
struct Attr {
    ns: u32,
    name: u32,
    value_start: u32,
    value_end: u32,
}

/// A parsed XML document.
pub struct Document {
    /// Shared, so that a part of the text can outlive the tree ([`Document::source_arc`]).
    src: Arc<String>,
    nodes: Vec<Node>,
    attrs: Vec<Attr>,
    attr_values: String,
    strings: Vec<Box<str>>,
    /// Per name id: (namespace, local name, qualified name) as string ids. Entry 0 is ("", "", "").
    names: Vec<[u32; 3]>,
    root: Option<NodeId>,
    line_starts: OnceLock<Vec<u32>>,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("bytes", &self.src.len())
            .field("nodes", &self.nodes.len())
            .finish()
    }
}

/// FxHash (the rustc hasher): fast for the short keys of a name table, not DoS resistant, which
/// is fine for the bounded tables of one document.
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut b = bytes;
        while b.len() >= 8 {
            self.add(u64::from_le_bytes(b[..8].try_into().unwrap()));
            b = &b[8..];
        }
        if b.len() >= 4 {
            self.add(u32::from_le_bytes(b[..4].try_into().unwrap()) as u64);
            b = &b[4..];
        }
        for &x in b {
            self.add(x as u64);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

struct Interner {
    map: FxMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Interner {
    fn new() -> Self {
        let mut i = Interner { map: FxMap::default(), strings: Vec::new() };
        i.intern("");
        i
    }
    #[inline]
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

/// Element names: one lookup per element, keyed by namespace id and qualified name.
struct NameTable {
    /// Indexed by the namespace's string id: qualified name -> name id.
    by_ns: Vec<FxMap<Box<str>, u32>>,
    names: Vec<[u32; 3]>,
}

impl NameTable {
    fn new() -> Self {
        NameTable { by_ns: Vec::new(), names: vec![[0, 0, 0]] }
    }
    #[inline]
    fn get(&mut self, interner: &mut Interner, ns: u32, qname: &str, local: &str) -> Option<u32> {
        let i = ns as usize;
        if i >= self.by_ns.len() {
            self.by_ns.resize_with(i + 1, FxMap::default);
        }
        if let Some(&id) = self.by_ns[i].get(qname) {
            return Some(id);
        }
        if self.names.len() >= MAX_NAMES {
            return None;
        }
        let id = self.names.len() as u32;
        self.names.push([ns, interner.intern(local), interner.intern(qname)]);
        self.by_ns[i].insert(qname.into(), id);
        Some(id)
    }
}

fn line_starts(src: &str) -> Vec<u32> {
    let mut v = Vec::with_capacity(src.len() / 40 + 1);
    v.push(0);
    v.extend(memchr::memchr_iter(b'\n', src.as_bytes()).map(|i| i as u32 + 1));
    v
}

/// Line (1-based) and column (1-based, in characters) of a byte offset in `src`.
pub fn line_col(src: &str, line_starts: &[u32], offset: usize) -> (u32, u32) {
    let offset = offset.min(src.len());
    let line = line_index(line_starts, offset);
    let start = line_starts[line] as usize;
    let mut end = offset;
    while end > start && !src.is_char_boundary(end) {
        end -= 1;
    }
    let col = src[start..end].chars().count() + 1;
    (line as u32 + 1, col as u32)
}

fn line_index(line_starts: &[u32], offset: usize) -> usize {
    match line_starts.binary_search(&(offset as u32)) {
        Ok(i) => i,
        Err(i) => i - 1,
    }
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
        let built = build(&src);
        match built {
            Ok(b) => Ok(Document {
                src: Arc::new(src),
                nodes: b.nodes,
                attrs: b.attrs,
                attr_values: b.attr_values,
                strings: b.strings,
                names: b.names,
                root: b.root,
                line_starts: OnceLock::new(),
            }),
            Err((kind, message, offset)) => {
                let (line, column) = line_col(&src, &line_starts(&src), offset);
                Err(XmlError { kind, message, offset, line, column })
            }
        }
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| line_starts(&self.src))
    }

    /// The document element.
    pub fn root(&self) -> Option<NodeId> {
        self.root
    }

    pub fn source(&self) -> &str {
        &self.src
    }

    /// The source text, shared: it stays alive after the tree is dropped (no copy).
    pub fn source_arc(&self) -> Arc<String> {
        Arc::clone(&self.src)
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    #[inline]
    fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    #[inline]
    fn string(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    #[inline]
    fn name_of(&self, n: &Node) -> [u32; 3] {
        self.names[n.name_ix()]
    }

    pub fn kind(&self, id: NodeId) -> NodeKind {
        self.node(id).kind()
    }

    pub fn is_element(&self, id: NodeId) -> bool {
        self.node(id).kind() == NodeKind::Element
    }

    /// Local name of an element ("" for other nodes).
    pub fn name(&self, id: NodeId) -> &str {
        self.string(self.name_of(self.node(id))[1])
    }

    /// Qualified name as written in the source (with its prefix).
    pub fn qname(&self, id: NodeId) -> &str {
        self.string(self.name_of(self.node(id))[2])
    }

    /// Namespace URI of an element ("" when none).
    pub fn ns(&self, id: NodeId) -> &str {
        self.string(self.name_of(self.node(id))[0])
    }

    /// The interned name of an element (index 0 for other nodes): equal ids mean equal
    /// namespace and qualified name, so per-name work can be cached in a table of
    /// [`Document::name_id_count`] entries.
    pub fn name_id(&self, id: NodeId) -> NameId {
        NameId(self.node(id).name_ix() as u32)
    }

    /// Number of distinct name ids (including 0, the name of non-elements).
    pub fn name_id_count(&self) -> usize {
        self.names.len()
    }

    /// Namespace and local name of a name id.
    pub fn name_parts(&self, name: NameId) -> (&str, &str) {
        let [ns, local, _] = self.names[name.index()];
        (self.string(ns), self.string(local))
    }

    /// True if the element has this namespace and local name.
    pub fn is(&self, id: NodeId, ns: &str, name: &str) -> bool {
        let n = self.node(id);
        let [nns, nname, _] = self.name_of(n);
        n.kind() == NodeKind::Element && self.string(nname) == name && self.string(nns) == ns
    }

    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        let p = self.node(id).parent;
        (p != NodeId::NONE).then_some(NodeId(p))
    }

    /// All child nodes (elements, text, comments, ...).
    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children { doc: self, next: self.node(id).first_child(id.0) }
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
            let (s, e) = (a.value_start as usize, a.value_end as usize);
            let value = if a.name & OWNED_VALUE != 0 { &self.attr_values[s..e] } else { &self.src[s..e] };
            (self.string(a.ns), self.string(a.name & !OWNED_VALUE), value)
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
        match n.kind() {
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
        line_col(&self.src, self.line_starts(), self.node(id).start as usize)
    }

    /// Line (1-based) where a node starts; the first half of [`Document::line_col`], without
    /// counting the column.
    pub fn line(&self, id: NodeId) -> u32 {
        let offset = (self.node(id).start as usize).min(self.src.len());
        line_index(self.line_starts(), offset) as u32 + 1
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
        self.next = if n.tag & HAS_CHILD != 0 {
            Some(NodeId(cur.0 + 1))
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
                match cn.parent {
                    NodeId::NONE => break None,
                    p => c = NodeId(p),
                }
            }
        };
        Some(cur)
    }
}

struct Built {
    nodes: Vec<Node>,
    attrs: Vec<Attr>,
    attr_values: String,
    strings: Vec<Box<str>>,
    names: Vec<[u32; 3]>,
    root: Option<NodeId>,
}
type BuildError = (XmlErrorKind, String, usize);

/// Offset of `part` in `whole` when `part` is a slice of it.
#[inline]
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let (w, p) = (whole.as_ptr() as usize, part.as_ptr() as usize);
    (p >= w && p + part.len() <= w + whole.len()).then(|| p - w)
}

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
    let mut nodes: Vec<Node> = Vec::with_capacity(body.len() / 32 + 16);
    let mut attrs: Vec<Attr> = Vec::new();
    let mut attr_values = String::new();
    let mut interner = Interner::new();
    let mut names = NameTable::new();
    let mut stack: Vec<u32> = Vec::new();
    // Last child per open element, to append siblings in O(1).
    let mut last_child: Vec<u32> = Vec::new();
    let mut root: Option<NodeId> = None;
    let mut seen_root_end = false;

    let err = |kind: XmlErrorKind, msg: String, pos: u64| (kind, msg, pos as usize + bom);

    loop {
        let before = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(x) => x,
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
            tag: (kind as u32) << KIND_SHIFT,
            parent: stack.last().copied().unwrap_or(NodeId::NONE),
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
                let ns = match reader.resolver().resolve_element(e.name()).0 {
                    ResolveResult::Bound(ns) => interner.intern(ns.into_inner()),
                    ResolveResult::Unbound => 0,
                    ResolveResult::Unknown(p) => {
                        return Err(err(
                            XmlErrorKind::Namespace,
                            format!("namespace-prefix '{p}' is niet gedeclareerd"),
                            before,
                        ));
                    }
                };
                let name = names
                    .get(&mut interner, ns, e.name().into_inner(), e.local_name().into_inner())
                    .ok_or_else(|| err(XmlErrorKind::Limit, "te veel verschillende elementnamen".into(), before))?;
                n.tag |= name;
                n.attr_start = attrs.len() as u32;
                for a in e.attributes() {
                    let a = a.map_err(|x| {
                        err(XmlErrorKind::NotWellFormed, format!("ongeldig attribuut: {x}"), before)
                    })?;
                    let key = a.key;
                    if key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (ans, aname) = if key.prefix().is_none() {
                        (0, interner.intern(key.into_inner()))
                    } else {
                        let (ans, alocal) = reader.resolver().resolve_attribute(key);
                        let ans = match ans {
                            ResolveResult::Bound(ns) => interner.intern(ns.into_inner()),
                            ResolveResult::Unbound => 0,
                            ResolveResult::Unknown(p) => {
                                return Err(err(
                                    XmlErrorKind::Namespace,
                                    format!("namespace-prefix '{}' is niet gedeclareerd", p),
                                    before,
                                ));
                            }
                        };
                        (ans, interner.intern(alocal.into_inner()))
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
                    // Unchanged values stay in the source; only changed ones are copied.
                    let borrowed = match &value {
                        Cow::Borrowed(v) => offset_in(body, v).map(|off| (off + bom, v.len())),
                        Cow::Owned(_) => None,
                    };
                    let attr = match borrowed {
                        Some((off, len)) => Attr {
                            ns: ans,
                            name: aname,
                            value_start: off as u32,
                            value_end: (off + len) as u32,
                        },
                        None => {
                            let vs = attr_values.len() as u32;
                            attr_values.push_str(&value);
                            Attr { ns: ans, name: aname | OWNED_VALUE, value_start: vs, value_end: attr_values.len() as u32 }
                        }
                    };
                    attrs.push(attr);
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
                    if prev.kind() == NodeKind::Text && prev.end == start {
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
        let is_element = node.kind() == NodeKind::Element;
        if stack.is_empty() {
            if is_element {
                root = Some(NodeId(id));
            } else {
                // Comments and PIs outside the root are kept out of the tree.
                continue;
            }
        } else {
            let last = last_child.last_mut().expect("one last child per open element");
            if *last == NodeId::NONE {
                // Nodes are stored in document order, so the first child directly follows its
                // parent (which is the innermost open element).
                let parent = *stack.last().expect("open element");
                debug_assert_eq!(parent + 1, id);
                nodes[parent as usize].tag |= HAS_CHILD;
            } else {
                nodes[*last as usize].next_sibling = id;
            }
            *last = id;
        }
        nodes.push(node);
        if opens {
            stack.push(id);
            last_child.push(NodeId::NONE);
        }
    }
    if let Some(&open) = stack.last() {
        let qn = interner.strings[names.names[nodes[open as usize].name_ix()][2] as usize].to_string();
        return Err((
            XmlErrorKind::NotWellFormed,
            format!("element '{qn}' is niet afgesloten"),
            src.len(),
        ));
    }
    if root.is_none() {
        return Err((XmlErrorKind::NotWellFormed, "geen documentelement".into(), src.len()));
    }
    nodes.shrink_to_fit();
    attrs.shrink_to_fit();
    attr_values.shrink_to_fit();
    Ok(Built { nodes, attrs, attr_values, strings: interner.strings, names: names.names, root })
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
    fn attribute_values_borrowed_or_normalised() {
        let src = "<a xmlns:q=\"urn:q\" x=\"plain\" y=\"a&lt;b\" z=\"t\tn\nx\" q:w=\"\" v='&#65;'><!--c--><b/>t</a>";
        let d = Document::parse_str(src).unwrap();
        let a = d.root().unwrap();
        let all: Vec<_> = d.attrs_of(a).collect();
        assert_eq!(
            all,
            [("", "x", "plain"), ("", "y", "a<b"), ("", "z", "t n x"), ("urn:q", "w", ""), ("", "v", "A")]
        );
        assert_eq!(d.attr(a, "w"), None);
        // A comment as first child, then an element and a text.
        let kinds: Vec<_> = d.children(a).map(|c| d.kind(c)).collect();
        assert_eq!(kinds, [NodeKind::Comment, NodeKind::Element, NodeKind::Text]);
        assert_eq!(d.line(a), 1);
    }

    #[test]
    fn name_ids_identify_namespace_and_qname() {
        let src = "<a xmlns=\"urn:x\" xmlns:p=\"urn:x\"><b/><p:b/><b xmlns=\"urn:y\"/><b/>\n<c>x<!--y--></c></a>";
        let d = Document::parse_str(src).unwrap();
        let a = d.root().unwrap();
        let els: Vec<_> = d.elements(a).collect();
        let ids: Vec<_> = els.iter().map(|&e| d.name_id(e)).collect();
        assert_eq!(ids[0], ids[3]);
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[0], ids[2]);
        assert_eq!(d.name_parts(ids[1]), ("urn:x", "b"));
        assert_eq!(d.name_parts(ids[2]), ("urn:y", "b"));
        assert_eq!(d.qname(els[1]), "p:b");
        assert!(d.name_id_count() >= 5);
        let c = els[4];
        assert_eq!(d.line_col(c), (2, 1));
        assert_eq!(d.line(c), 2);
        assert_eq!(d.name_id(d.children(c).next().unwrap()).index(), 0);
        assert_eq!(d.text(c), "x");
        assert_eq!(d.descendants(a).count(), 9);
    }

    #[test]
    fn bom_is_skipped_and_offsets_stay_in_source() {
        let d = Document::parse("\u{feff}<a>x</a>".as_bytes().to_vec()).unwrap();
        assert_eq!(d.raw(d.root().unwrap()), "<a>x</a>");
    }
}
