//! Lexing of start tags: every attribute with the exact byte ranges of its white space, name and
//! value, so a start tag can be edited by splicing (one attribute changes, all other bytes stay),
//! plus escaping and unescaping of attribute values and text.
//!
//! The input is always a start tag that came out of a well-formed document (or one we generated),
//! so the lexer is simple; on anything unexpected it stops early instead of panicking.

use std::borrow::Cow;

/// One attribute of a start tag, as byte offsets into the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TagAttr {
    /// Start of the white space before the attribute name.
    pub ws: usize,
    pub name: (usize, usize),
    /// The value between the quotes, raw (escaped).
    pub value: (usize, usize),
    pub quote: u8,
    /// Offset just after the closing quote.
    pub end: usize,
}

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Offset just after the qualified name of a tag that starts with `<`.
pub(crate) fn name_end(tag: &str) -> usize {
    let b = tag.as_bytes();
    let mut i = 1.min(b.len());
    while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>') {
        i += 1;
    }
    i
}

/// The qualified name of a start tag.
pub(crate) fn qname(tag: &str) -> &str {
    let e = name_end(tag);
    tag.get(1.min(e)..e).unwrap_or("")
}

/// Length of the start tag at the beginning of `raw`: up to and including the first `>` that is
/// not inside a quoted attribute value.
pub(crate) fn start_tag_len(raw: &str) -> usize {
    let b = raw.as_bytes();
    let mut quote = 0u8;
    for (i, &c) in b.iter().enumerate() {
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'"' || c == b'\'' {
            quote = c;
        } else if c == b'>' {
            return i + 1;
        }
    }
    b.len()
}

/// Iterator over the attributes (namespace declarations included) of a start tag.
pub(crate) struct Attrs<'a> {
    tag: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Attrs<'a> {
    pub fn new(tag: &'a str) -> Self {
        Attrs { tag: tag.as_bytes(), pos: name_end(tag), done: false }
    }

    /// Offset of the tail of the tag (the white space before `>` or `/>`). Valid once the
    /// iterator is exhausted.
    pub fn tail(mut self) -> usize {
        while self.next().is_some() {}
        self.pos
    }
}

impl Iterator for Attrs<'_> {
    type Item = TagAttr;

    fn next(&mut self) -> Option<TagAttr> {
        if self.done {
            return None;
        }
        let b = self.tag;
        let ws = self.pos;
        let mut i = ws;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        let stop = |s: &mut Self| {
            s.done = true;
            None
        };
        if i >= b.len() || b[i] == b'/' || b[i] == b'>' {
            return stop(self);
        }
        let ns = i;
        while i < b.len() && !is_ws(b[i]) && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let ne = i;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            return stop(self);
        }
        i += 1;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if i >= b.len() || (b[i] != b'"' && b[i] != b'\'') {
            return stop(self);
        }
        let quote = b[i];
        i += 1;
        let vs = i;
        while i < b.len() && b[i] != quote {
            i += 1;
        }
        if i >= b.len() {
            return stop(self);
        }
        let ve = i;
        i += 1;
        self.pos = i;
        Some(TagAttr { ws, name: (ns, ne), value: (vs, ve), quote, end: i })
    }
}

/// True for `xmlns` and `xmlns:p` attribute names.
#[inline]
pub(crate) fn is_ns_decl(name: &str) -> bool {
    name == "xmlns" || name.starts_with("xmlns:")
}

/// The value of an attribute as the XML parser reports it: literal white space normalised to a
/// space, entity and character references expanded. Values with an unknown entity are returned raw.
pub(crate) fn attr_value(raw: &str) -> Cow<'_, str> {
    let norm: Cow<'_, str> = if raw.bytes().any(|c| matches!(c, b'\t' | b'\n' | b'\r')) {
        Cow::Owned(raw.replace("\r\n", " ").replace(['\t', '\n', '\r'], " "))
    } else {
        Cow::Borrowed(raw)
    };
    if !norm.contains('&') {
        return norm;
    }
    match quick_xml::escape::unescape(&norm) {
        Ok(v) => Cow::Owned(v.into_owned()),
        Err(_) => norm,
    }
}

/// The content of a text node with entity and character references expanded.
pub(crate) fn text_value(raw: &str) -> Cow<'_, str> {
    if !raw.contains('&') {
        return Cow::Borrowed(raw);
    }
    quick_xml::escape::unescape(raw).unwrap_or(Cow::Borrowed(raw))
}

/// Escape an attribute value for the given quote character. Tabs and line ends become character
/// references so the value reads back unchanged.
pub(crate) fn escape_attr(v: &str, quote: u8, out: &mut String) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' if quote == b'"' => out.push_str("&quot;"),
            '\'' if quote == b'\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Escape character data.
pub(crate) fn escape_text(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// `tag` with the attribute `name` set to `value`: replaced in place when present (same quote,
/// the other bytes untouched), appended before the tail otherwise.
pub(crate) fn set_attr(tag: &str, name: &str, value: &str) -> String {
    let mut out = String::with_capacity(tag.len() + value.len() + name.len() + 4);
    for a in Attrs::new(tag) {
        if &tag[a.name.0..a.name.1] == name {
            out.push_str(&tag[..a.value.0]);
            escape_attr(value, a.quote, &mut out);
            out.push_str(&tag[a.value.1..]);
            return out;
        }
    }
    let tail = Attrs::new(tag).tail();
    out.push_str(&tag[..tail]);
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_attr(value, b'"', &mut out);
    out.push('"');
    out.push_str(&tag[tail..]);
    out
}

/// `tag` without the attributes whose names are in `names` (each with the white space before it).
/// `None` when none of them is present.
pub(crate) fn remove_attrs(tag: &str, names: &[&str]) -> Option<String> {
    let mut out = String::new();
    let mut copied = 0;
    for a in Attrs::new(tag) {
        if names.contains(&&tag[a.name.0..a.name.1]) {
            out.push_str(&tag[copied..a.ws]);
            copied = a.end;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&tag[copied..]);
    Some(out)
}

/// `tag` with extra attributes (namespace declarations) inserted directly after the element name.
pub(crate) fn insert_after_name(tag: &str, attrs: &[(String, String)]) -> String {
    let e = name_end(tag);
    let mut out = String::with_capacity(tag.len() + attrs.len() * 48);
    out.push_str(&tag[..e]);
    for (n, v) in attrs {
        out.push(' ');
        out.push_str(n);
        out.push_str("=\"");
        escape_attr(v, b'"', &mut out);
        out.push('"');
    }
    out.push_str(&tag[e..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_attributes_with_their_bytes() {
        let tag = "<p:a  x = \"1\"\ty='a&amp;b' xmlns:p=\"urn:p\" />";
        let attrs: Vec<_> = Attrs::new(tag).collect();
        assert_eq!(attrs.len(), 3);
        assert_eq!(&tag[attrs[0].name.0..attrs[0].name.1], "x");
        assert_eq!(&tag[attrs[1].value.0..attrs[1].value.1], "a&amp;b");
        assert_eq!(attrs[1].quote, b'\'');
        assert_eq!(&tag[Attrs::new(tag).tail()..], " />");
        assert_eq!(qname(tag), "p:a");
        assert_eq!(start_tag_len("<a b='>'>x</a>"), 9);
    }

    #[test]
    fn edits_splice_only_the_changed_attribute() {
        let tag = "<a  x = \"1\"\ty='v' z=\"3\">";
        assert_eq!(set_attr(tag, "y", "<'>"), "<a  x = \"1\"\ty='&lt;&apos;>' z=\"3\">");
        assert_eq!(set_attr(tag, "n", "a\"b"), "<a  x = \"1\"\ty='v' z=\"3\" n=\"a&quot;b\">");
        assert_eq!(remove_attrs(tag, &["y", "z"]).unwrap(), "<a  x = \"1\">");
        assert_eq!(remove_attrs(tag, &["q"]), None);
        assert_eq!(set_attr("<a/>", "k", "v"), "<a k=\"v\"/>");
        assert_eq!(insert_after_name("<a b=\"1\">", &[("xmlns".into(), "urn:x".into())]), "<a xmlns=\"urn:x\" b=\"1\">");
    }

    #[test]
    fn values_are_unescaped_and_normalised() {
        assert_eq!(attr_value("a&amp;b&#x20AC;"), "a&b€");
        assert_eq!(attr_value("a\r\nb\tc"), "a b c");
        assert_eq!(attr_value("a&#10;b"), "a\nb");
        let mut s = String::new();
        escape_attr("a\nb\"", b'"', &mut s);
        assert_eq!(attr_value(&s), "a\nb\"");
    }
}
