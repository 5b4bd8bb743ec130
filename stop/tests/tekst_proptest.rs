//! Property tests of the text tree: serialise(parse(x)) == x for random well-formed XML with
//! attributes in both quote styles, odd white space inside tags, entity and character
//! references, CDATA, comments, processing instructions, namespaces and a prolog; standalone
//! subtrees keep their namespaces; attribute edits touch nothing else; renvooi projections
//! follow the rules on random markings.

use proptest::prelude::*;
use stop::tekst::{Tekst, heeft_renvooi, nieuw, oud};
use stop::xml::Document;

#[derive(Debug, Clone)]
enum Gen {
    El { name: String, attrs: Vec<(String, String, char, String, String)>, ws_end: String, children: Vec<Gen>, empty: bool, end_ws: String },
    Text(String),
    CData(String),
    Comment(String),
    Pi(String),
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a"), Just("Al"), Just("Lid"), Just("x-y.z"), Just("p:q"), Just("q:Artikel"), Just("NieuweTekst"), Just("VerwijderdeTekst")
    ]
    .prop_map(str::to_string)
}

fn ws(min1: bool) -> impl Strategy<Value = String> {
    let choices = if min1 { vec![" ", "  ", "\n\t", "\r\n "] } else { vec!["", " ", "\n", " \t"] };
    proptest::sample::select(choices).prop_map(str::to_string)
}

fn text_piece() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec![
        "De raad", " ", "\n   ", "&amp;", "&lt;", "&gt;", "&#x20AC;", "&#233;", "€", "ü", "'", "\"", ">", "tekst", "&quot;", "&apos;",
    ])
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(text_piece(), 1..5).prop_map(|v| v.concat())
}

fn attr_value(quote: char) -> impl Strategy<Value = String> {
    prop::collection::vec(
        proptest::sample::select(vec!["v", "1 2", "&amp;", "&lt;", "&#x20AC;", "&#10;", " ", "\t", "\n", "€", ">", "'", "\""]),
        0..4,
    )
    .prop_map(move |v| v.concat().replace(quote, if quote == '"' { "&quot;" } else { "&apos;" }))
}

fn attrs() -> impl Strategy<Value = Vec<(String, String, char, String, String)>> {
    let one = (
        proptest::sample::select(vec!["k", "eId", "wId", "p:z", "wijzigactie", "t"]),
        ws(true),
        proptest::sample::select(vec!['"', '\'']),
        ws(false),
    )
        .prop_flat_map(|(n, w, q, eq)| {
            let value: BoxedStrategy<String> = if n == "wijzigactie" {
                proptest::sample::select(vec![
                    "voegtoe",
                    "verwijder",
                    "nieuweContainer",
                    "verwijderContainer",
                    "verplaatstNaar",
                    "verplaatstVan",
                    "verplaatstBinnen",
                    "verplaatst",
                    "geen",
                ])
                .prop_map(str::to_string)
                .boxed()
            } else {
                attr_value(q).boxed()
            };
            (Just(n.to_string()), Just(w), Just(q), Just(eq), value)
        });
    prop::collection::vec(one, 0..4).prop_map(|mut v| {
        let mut seen = std::collections::HashSet::new();
        v.retain(|a| seen.insert(a.0.clone()));
        v
    })
}

fn leaf() -> impl Strategy<Value = Gen> {
    prop_oneof![
        4 => text().prop_map(Gen::Text),
        1 => "[a-z <>&\n]{0,8}".prop_map(Gen::CData),
        1 => "[a-z ]{0,8}".prop_map(|s| Gen::Comment(s.trim_end_matches('-').to_string())),
        1 => "[a-z ]{0,6}".prop_map(Gen::Pi),
        2 => (name(), attrs(), ws(false), any::<bool>()).prop_map(|(name, attrs, ws_end, empty)| Gen::El {
            name, attrs, ws_end, children: vec![], empty, end_ws: String::new()
        }),
    ]
}

fn tree() -> impl Strategy<Value = Gen> {
    leaf().prop_recursive(5, 60, 6, |inner| {
        (name(), attrs(), ws(false), prop::collection::vec(inner, 0..6), ws(false)).prop_map(|(name, attrs, ws_end, children, end_ws)| {
            Gen::El { name, attrs, ws_end, children, empty: false, end_ws }
        })
    })
}

fn render(g: &Gen, out: &mut String) {
    match g {
        Gen::El { name, attrs, ws_end, children, empty, end_ws } => {
            out.push('<');
            out.push_str(name);
            for (n, w, q, eq, v) in attrs {
                out.push_str(w);
                out.push_str(n);
                out.push_str(eq);
                out.push('=');
                out.push_str(eq);
                out.push(*q);
                out.push_str(v);
                out.push(*q);
            }
            out.push_str(ws_end);
            if *empty && children.is_empty() {
                out.push_str("/>");
                return;
            }
            out.push('>');
            for c in children {
                render(c, out);
            }
            out.push_str("</");
            out.push_str(name);
            out.push_str(end_ws);
            out.push('>');
        }
        Gen::Text(t) => out.push_str(t),
        Gen::CData(t) => {
            out.push_str("<![CDATA[");
            out.push_str(t);
            out.push_str("]]>");
        }
        Gen::Comment(t) => {
            out.push_str("<!--");
            out.push_str(t);
            out.push_str("-->");
        }
        Gen::Pi(t) => {
            out.push_str("<?pi ");
            out.push_str(t);
            out.push_str("?>");
        }
    }
}

fn document() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(vec!["", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", "\u{feff}<?xml version='1.0'?>"]),
        proptest::sample::select(vec!["", "<!-- kop -->\n", "<?verwerk x?>"]),
        (attrs(), prop::collection::vec(tree(), 0..5), ws(false)),
        proptest::sample::select(vec!["", "\n", "\n<!-- eind -->\n"]),
        any::<bool>(),
    )
        .prop_map(|(decl, pre, (attrs, children, ws_end), post, default_ns)| {
            let mut s = String::new();
            s.push_str(decl);
            s.push_str(pre);
            let ns = if default_ns { " xmlns=\"https://standaarden.overheid.nl/stop/imop/tekst/\"" } else { "" };
            s.push_str(&format!("<Root{ns} xmlns:p=\"urn:p\"\n  xmlns:q='urn:q'"));
            let root = Gen::El { name: String::new(), attrs, ws_end, children, empty: false, end_ws: String::new() };
            let mut r = String::new();
            render(&root, &mut r);
            // `r` is "<" + attrs + ... + "</>": splice it behind our root name.
            s.push_str(&r[1..r.len() - 3]);
            s.push_str("</Root>");
            s.push_str(post);
            s
        })
}

/// Reference text of the renvooi projections, computed on the raw document.
fn expected_text(doc: &Document, n: stop::xml::NodeId, nieuw: bool, out: &mut String) {
    use stop::xml::NodeKind::*;
    match doc.kind(n) {
        Text | CData => out.push_str(&doc.text_of(n)),
        Element => {
            let name = doc.name(n);
            let actie = doc.attr(n, "wijzigactie").unwrap_or("");
            // The inline markers go by name (their own @wijzigactie, not in the schema, is ignored).
            let weg = match name {
                "NieuweTekst" => !nieuw,
                "VerwijderdeTekst" => nieuw,
                _ if nieuw => matches!(actie, "verwijder" | "verplaatstVan"),
                _ => matches!(actie, "voegtoe" | "verplaatstNaar"),
            };
            if !weg {
                for c in doc.children(n) {
                    expected_text(doc, c, nieuw, out);
                }
            }
        }
        _ => {}
    }
}

fn walk_ns(t: &stop::tekst::Element, out: &mut Vec<(String, String)>) {
    out.push((t.name().to_string(), t.ns().to_string()));
    for c in t.elements() {
        walk_ns(c, out);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn serialise_parse_is_identity(src in document()) {
        let t = Tekst::parse(&src).map_err(|e| TestCaseError::fail(format!("{e}\n{src}")))?;
        prop_assert_eq!(t.to_xml(), src);
    }

    #[test]
    fn subtrees_cut_out_keep_bytes_and_namespaces(src in document(), pick in any::<prop::sample::Index>()) {
        let doc = Document::parse_str(&src).unwrap();
        let elements: Vec<_> = doc.descendants(doc.root().unwrap()).filter(|&n| doc.is_element(n)).collect();
        let n = elements[pick.index(elements.len())];
        let t = Tekst::uit_document(&doc, n);
        let xml = t.to_xml();
        let alone = Tekst::parse(&xml).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
        // Same elements with the same namespaces as in the whole document.
        let want: Vec<(String, String)> = doc
            .descendants(n)
            .filter(|&d| doc.is_element(d))
            .map(|d| (doc.name(d).to_string(), doc.ns(d).to_string()))
            .collect();
        let mut got = Vec::new();
        walk_ns(alone.root().unwrap(), &mut got);
        prop_assert_eq!(got, want);
        // Only declarations were added, right after the element name.
        let raw = doc.raw(n);
        let name_len = 1 + doc.qname(n).len();
        prop_assert_eq!(&xml[..name_len], &raw[..name_len]);
        prop_assert_eq!(&xml[xml.len() - (raw.len() - name_len)..], &raw[name_len..]);
        prop_assert_eq!(alone.text(), doc.text(n));
        // Every element carries the line and column it has in the document.
        let want: Vec<(u32, u32)> = doc.descendants(n).filter(|&d| doc.is_element(d)).map(|d| doc.line_col(d)).collect();
        let got: Vec<(u32, u32)> = t.root().unwrap().descendants().map(|e| e.position().unwrap()).collect();
        prop_assert_eq!(got, want);
        let whole = Tekst::parse(&src).unwrap();
        let want: Vec<(u32, u32)> = doc.descendants(doc.root().unwrap()).filter(|&d| doc.is_element(d)).map(|d| doc.line_col(d)).collect();
        let got: Vec<(u32, u32)> = whole.root().unwrap().descendants().map(|e| e.position().unwrap()).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn attribute_edits_touch_nothing_else(src in document(), value in "[a-z&<\"' ]{0,6}") {
        let mut t = Tekst::parse(&src).unwrap();
        let root = t.root_mut().unwrap();
        root.set_attr("nieuw", &value);
        prop_assert_eq!(root.attr("nieuw").map(|v| v.into_owned()), Some(value.clone()));
        prop_assert!(root.remove_attr("nieuw"));
        prop_assert_eq!(t.to_xml(), src.clone());
        // Changing a child's existing attribute rewrites only that start tag.
        let mut t = Tekst::parse(&src).unwrap();
        let prolog = t.prolog().len();
        let root = t.root_mut().unwrap();
        if let Some(i) = root.children().iter().position(|c| c.as_element().is_some_and(|e| e.attr("k").is_some())) {
            let off = prolog
                + root.start_tag().len()
                + root.children()[..i].iter().map(|c| { let mut s = String::new(); c.write_xml(&mut s); s.len() }).sum::<usize>();
            let before = root.children()[i].as_element().unwrap().start_tag().to_string();
            let child = root.children_mut()[i].as_element_mut().unwrap();
            child.set_attr("k", &value);
            prop_assert_eq!(child.attr("k").map(|v| v.into_owned()), Some(value.clone()));
            let after = child.start_tag().to_string();
            let want = format!("{}{}{}", &src[..off], after, &src[off + before.len()..]);
            prop_assert_eq!(t.to_xml(), want);
        }
    }

    #[test]
    fn renvooi_projections_follow_the_rules(src in document()) {
        let doc = Document::parse_str(&src).unwrap();
        let t = Tekst::parse(&src).unwrap();
        for (richting, proj) in [(true, nieuw(&t)), (false, oud(&t))] {
            let mut want = String::new();
            expected_text(&doc, doc.root().unwrap(), richting, &mut want);
            prop_assert_eq!(proj.text(), want);
            let xml = proj.to_xml();
            prop_assert!(!xml.contains("wijzigactie"));
            if let Some(r) = proj.root() {
                prop_assert!(!heeft_renvooi(r), "{}", xml);
            }
        }
    }
}
