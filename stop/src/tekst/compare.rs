//! Comparing texts modulo insignificant white space, with a description of the first difference.
//!
//! Normal form of an element: namespace and local name (the prefix does not matter); attributes
//! by name with their parsed values, except `eId` (a renvooi payload carries the *new* eIds, so
//! old(payload) cannot reproduce renumbered ones), namespace declarations and the renvooi-only
//! attributes; children as a sequence of elements and text runs, where adjacent text and CDATA
//! are merged, runs of white space collapse to one space, leading and trailing white space is
//! trimmed, and empty runs, comments and processing instructions are dropped.
//!
//! Trimming at element boundaries means `De<i>x</i>` and `De <i>x</i>` compare equal; that
//! tolerance is deliberate: indentation inside mixed content differs between a regeling and the
//! same text quoted deeper in a besluit.

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

use super::renvooi::RENVOOI_ATTRS;
use super::{Element, Node};

enum Token<'a> {
    El(&'a Element),
    Tekst(String),
}

fn normalise(s: &str, out: &mut String) {
    let mut pending_space = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            pending_space = true;
        } else {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
}

fn tokens(el: &Element) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<Token<'_>>| {
        if !run.is_empty() {
            let mut n = String::with_capacity(run.len());
            normalise(run, &mut n);
            if !n.is_empty() {
                out.push(Token::Tekst(n));
            }
            run.clear();
        }
    };
    for c in &el.children {
        match c {
            Node::Element(e) => {
                flush(&mut run, &mut out);
                out.push(Token::El(e));
            }
            Node::Text(_) | Node::CData(_) => run.push_str(&c.char_data()),
            _ => {}
        }
    }
    flush(&mut run, &mut out);
    out
}

fn attrs(el: &Element) -> Vec<(&str, String)> {
    let mut v: Vec<(&str, String)> = el
        .attributes()
        .filter(|a| a.name != "eId" && !RENVOOI_ATTRS.contains(&a.name))
        .map(|a| (a.name, a.value().into_owned()))
        .collect();
    v.sort();
    v
}

fn label(el: &Element) -> String {
    match el.wid() {
        Some(w) => format!("{} (wId {w})", el.name()),
        None => el.name().to_string(),
    }
}

fn fragment(s: &str, at: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let from = at.saturating_sub(25);
    let to = (at + 25).min(chars.len());
    let mut f = String::new();
    if from > 0 {
        f.push('…');
    }
    f.extend(&chars[from..to]);
    if to < chars.len() {
        f.push('…');
    }
    f
}

fn describe(t: &Token<'_>) -> String {
    match t {
        Token::El(e) => format!("element {}", label(e)),
        Token::Tekst(s) => format!("tekst '{}'", fragment(s, 0)),
    }
}

fn diff(a: &Element, b: &Element, pad: &mut String) -> Option<String> {
    if a.name() != b.name() || a.ns() != b.ns() {
        return Some(format!(
            "{}: element {} in de aangeleverde tekst, {} in de was-versie",
            if pad.is_empty() { "bovenste element" } else { pad.as_str() },
            a.name(),
            b.name()
        ));
    }
    let mark = pad.len();
    if !pad.is_empty() {
        pad.push('/');
    }
    pad.push_str(&label(a));
    let (aa, ba) = (attrs(a), attrs(b));
    if aa != ba {
        for (n, v) in &aa {
            match ba.iter().find(|(m, _)| m == n) {
                None => return Some(format!("bij {pad}: attribuut {n}=\"{v}\" komt niet voor in de was-versie")),
                Some((_, w)) if w != v => {
                    return Some(format!("bij {pad}: attribuut {n} is \"{v}\" in de aangeleverde tekst en \"{w}\" in de was-versie"));
                }
                _ => {}
            }
        }
        if let Some((n, w)) = ba.iter().find(|(m, _)| !aa.iter().any(|(n, _)| n == m)) {
            return Some(format!("bij {pad}: attribuut {n}=\"{w}\" van de was-versie ontbreekt in de aangeleverde tekst"));
        }
    }
    let (at, bt) = (tokens(a), tokens(b));
    for i in 0..at.len().max(bt.len()) {
        match (at.get(i), bt.get(i)) {
            (Some(Token::El(x)), Some(Token::El(y))) => {
                if let Some(d) = diff(x, y, pad) {
                    return Some(d);
                }
            }
            (Some(Token::Tekst(x)), Some(Token::Tekst(y))) => {
                if x != y {
                    let at = x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count();
                    return Some(format!(
                        "bij {pad}: tekst '{}' in de aangeleverde tekst, '{}' in de was-versie",
                        fragment(x, at),
                        fragment(y, at)
                    ));
                }
            }
            (Some(x), Some(y)) => {
                return Some(format!("bij {pad}: {} in de aangeleverde tekst, {} in de was-versie", describe(x), describe(y)));
            }
            (Some(x), None) => return Some(format!("bij {pad}: {} komt niet voor in de was-versie", describe(x))),
            (None, Some(y)) => return Some(format!("bij {pad}: {} van de was-versie ontbreekt in de aangeleverde tekst", describe(y))),
            (None, None) => {}
        }
    }
    pad.truncate(mark);
    None
}

/// The first difference between `aangeleverd` (for example old(payload)) and `was`, modulo
/// insignificant white space and eIds, as a Dutch description for a melding; `None` when equal.
pub fn verschil(aangeleverd: &Element, was: &Element) -> Option<String> {
    diff(aangeleverd, was, &mut String::new())
}

/// True when the two elements are equal modulo insignificant white space and eIds.
pub fn inhoud_gelijk(a: &Element, b: &Element) -> bool {
    verschil(a, b).is_none()
}

/// Hash of the normal form of an element; records (wId, hash) of every element with a wId in
/// the subtree into `out`.
pub(crate) fn inhoud_hash(el: &Element, out: &mut Vec<(String, u64)>) -> u64 {
    let mut h = super::index::FxHasher::default();
    el.ns().hash(&mut h);
    el.name().hash(&mut h);
    for (n, v) in attrs(el) {
        n.hash(&mut h);
        v.hash(&mut h);
    }
    for t in tokens(el) {
        match t {
            Token::El(e) => {
                1u8.hash(&mut h);
                inhoud_hash(e, out).hash(&mut h);
            }
            Token::Tekst(s) => {
                2u8.hash(&mut h);
                s.hash(&mut h);
            }
        }
    }
    let v = h.finish();
    if let Some(w) = el.wid() {
        out.push((w.to_string(), v));
    }
    v
}

/// Human readable list "a, b en c" (at most `max` items, then "en n andere").
pub(crate) fn opsomming(items: &[String], max: usize) -> String {
    let mut s = String::new();
    let shown = items.len().min(max);
    for (i, v) in items[..shown].iter().enumerate() {
        if i > 0 {
            s.push_str(if i + 1 == shown && shown == items.len() { " en " } else { ", " });
        }
        s.push_str(v);
    }
    if shown < items.len() {
        let _ = write!(s, " en {} andere", items.len() - shown);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tekst::Tekst;

    fn el(s: &str) -> Element {
        Tekst::parse(s).unwrap().root().unwrap().clone()
    }

    #[test]
    fn white_space_and_eids_are_insignificant() {
        let a = el("<A eId=\"x\" wId=\"w\">\n   <Al>De   raad\n stelt</Al><!-- c --></A>");
        let b = el("<A eId=\"y\" wId=\"w\"><Al>De raad stelt</Al></A>");
        assert!(inhoud_gelijk(&a, &b));
        let mut h1 = Vec::new();
        let mut h2 = Vec::new();
        assert_eq!(inhoud_hash(&a, &mut h1), inhoud_hash(&b, &mut h2));
    }

    #[test]
    fn describes_the_first_difference() {
        let a = el("<A wId=\"w\"><Al>De raad stelt regels.</Al></A>");
        let b = el("<A wId=\"w\"><Al>De gemeenteraad stelt regels.</Al></A>");
        let d = verschil(&a, &b).unwrap();
        assert!(d.contains("A (wId w)/Al"), "{d}");
        assert!(d.contains("'De raad stelt regels.'"), "{d}");
        let c = el("<A wId=\"w\" k=\"1\"/>");
        assert!(verschil(&c, &el("<A wId=\"w\" k=\"2\"/>")).unwrap().contains("attribuut k"));
        assert!(verschil(&a, &el("<A wId=\"w\"/>")).unwrap().contains("komt niet voor in de was-versie"));
        assert_eq!(opsomming(&["a".into(), "b".into(), "c".into()], 5), "a, b en c");
        assert_eq!(opsomming(&["a".into(), "b".into(), "c".into()], 2), "a, b en 1 andere");
    }
}
