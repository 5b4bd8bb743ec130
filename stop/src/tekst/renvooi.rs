//! The new ("wordt") and the old ("was") text of a renvooi payload (research notes §3.3).
//!
//! | marker | [`nieuw`] | [`oud`] |
//! |---|---|---|
//! | `NieuweTekst` | content kept (unwrapped) | dropped with content |
//! | `VerwijderdeTekst` | dropped with content | content kept (unwrapped) |
//! | `wijzigactie="voegtoe"` | kept | dropped |
//! | `wijzigactie="verwijder"` | dropped | kept |
//! | `wijzigactie="nieuweContainer"` | kept | unwrapped (children kept) |
//! | `wijzigactie="verwijderContainer"` | unwrapped | kept |
//! | `wijzigactie="verplaatstNaar"` (1.4.1) | kept | dropped |
//! | `wijzigactie="verplaatstVan"` (1.4.1) | dropped | kept |
//! | `wijzigactie="verplaatstBinnen"` (1.4.1) | kept | kept |
//! | `wijzigactie="verplaatst"` (1.4.0) | kept | kept |
//! | `wijzigactie="geen"` (1.3.0 Sluiting/Vervallen) | kept | kept |
//!
//! The renvooi-only attributes `wijzigactie`, `eId-wijzigactie`, `tekst-wijzigactie` and
//! `vanParentWid` are removed from every element that is kept. Everything else is byte-exact:
//! text nodes are not normalised, and an element without markers in its subtree is shared, not
//! copied. An unknown `wijzigactie` value is treated like `verplaatstBinnen` (kept in both); the
//! mutation layer reports it.
//!
//! Semantics of the 1.4.0 `verplaatst` value are not documented in the sources we have; treating
//! it as present in both versions means a payload that marks both the old and the new place of a
//! moved element yields a duplicate wId, which the mutation layer reports, rather than silently
//! losing an element.

use std::sync::Arc;

use super::{Element, Node, Tekst};

pub(crate) const RENVOOI_ATTRS: &[&str] = &["wijzigactie", "eId-wijzigactie", "tekst-wijzigactie", "vanParentWid"];

/// Every `wijzigactie` value of STOP 1.3, 1.4.0 and 1.4.1.
pub(crate) const WIJZIGACTIES: &[&str] = &[
    "voegtoe",
    "verwijder",
    "nieuweContainer",
    "verwijderContainer",
    "verplaatstNaar",
    "verplaatstVan",
    "verplaatstBinnen",
    "verplaatst",
    "geen",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Richting {
    Nieuw,
    Oud,
}

enum Behandeling {
    Houden,
    Weglaten,
    Uitpakken,
}

fn behandeling(wijzigactie: &str, r: Richting) -> Behandeling {
    use Behandeling::*;
    use Richting::*;
    match (wijzigactie, r) {
        ("voegtoe" | "verplaatstNaar", Oud) => Weglaten,
        ("verwijder" | "verplaatstVan", Nieuw) => Weglaten,
        ("nieuweContainer", Oud) | ("verwijderContainer", Nieuw) => Uitpakken,
        _ => Houden,
    }
}

enum Uitkomst {
    Zelfde,
    Vervangen(Vec<Node>),
}

fn children(list: &[Node], r: Richting) -> Option<Vec<Node>> {
    let mut out: Option<Vec<Node>> = None;
    for (i, c) in list.iter().enumerate() {
        let u = match c {
            Node::Element(e) => element(e, r),
            _ => Uitkomst::Zelfde,
        };
        match u {
            Uitkomst::Zelfde => {
                if let Some(o) = &mut out {
                    o.push(c.clone());
                }
            }
            Uitkomst::Vervangen(v) => out.get_or_insert_with(|| list[..i].to_vec()).extend(v),
        }
    }
    out
}

fn element(e: &Arc<Element>, r: Richting) -> Uitkomst {
    let unwrap = |e: &Arc<Element>| Uitkomst::Vervangen(children(&e.children, r).unwrap_or_else(|| e.children.clone()));
    if e.is_tekst("NieuweTekst") {
        return match r {
            Richting::Nieuw => unwrap(e),
            Richting::Oud => Uitkomst::Vervangen(Vec::new()),
        };
    }
    if e.is_tekst("VerwijderdeTekst") {
        return match r {
            Richting::Nieuw => Uitkomst::Vervangen(Vec::new()),
            Richting::Oud => unwrap(e),
        };
    }
    let actie = e.attr("wijzigactie");
    match actie.as_deref().map(|a| behandeling(a.trim(), r)).unwrap_or(Behandeling::Houden) {
        Behandeling::Weglaten => Uitkomst::Vervangen(Vec::new()),
        Behandeling::Uitpakken => unwrap(e),
        Behandeling::Houden => {
            let kids = children(&e.children, r);
            let strip = e.attributes().any(|a| RENVOOI_ATTRS.contains(&a.name));
            if kids.is_none() && !strip {
                return Uitkomst::Zelfde;
            }
            let mut n = Element::clone(e);
            if let Some(k) = kids {
                n.children = k;
            }
            if strip {
                n.remove_attrs(RENVOOI_ATTRS);
            }
            Uitkomst::Vervangen(vec![Node::Element(Arc::new(n))])
        }
    }
}

pub(crate) fn transform(nodes: &[Node], r: Richting) -> Vec<Node> {
    children(nodes, r).unwrap_or_else(|| nodes.to_vec())
}

/// The new text of a renvooi payload: the top-level nodes of `payload` transformed. Usually one
/// element; none when it is marked `verwijder`, its children when `verwijderContainer`.
pub fn nieuw(payload: &Tekst) -> Tekst {
    Tekst::from_nodes(transform(&payload.nodes, Richting::Nieuw))
}

/// The old text of a renvooi payload (what the was-version must contain).
pub fn oud(payload: &Tekst) -> Tekst {
    Tekst::from_nodes(transform(&payload.nodes, Richting::Oud))
}

/// [`nieuw`] for one element.
pub fn nieuw_knopen(el: &Arc<Element>) -> Vec<Node> {
    transform(std::slice::from_ref(&Node::Element(el.clone())), Richting::Nieuw)
}

/// [`oud`] for one element.
pub fn oud_knopen(el: &Arc<Element>) -> Vec<Node> {
    transform(std::slice::from_ref(&Node::Element(el.clone())), Richting::Oud)
}

/// True when the subtree has a renvooi marker: `NieuweTekst`, `VerwijderdeTekst` or `@wijzigactie`.
pub fn heeft_renvooi(el: &Element) -> bool {
    el.descendants()
        .any(|e| e.is_tekst("NieuweTekst") || e.is_tekst("VerwijderdeTekst") || e.attributes().any(|a| a.name == "wijzigactie"))
}

/// Elements of the subtree with a `wijzigactie` value that no STOP version knows.
pub(crate) fn onbekende_wijzigacties(el: &Element) -> Vec<(&Element, String)> {
    el.descendants()
        .filter_map(|e| {
            let v = e.attr("wijzigactie")?;
            (!WIJZIGACTIES.contains(&v.trim())).then(|| (e, v.into_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Tekst {
        Tekst::parse(s).unwrap()
    }

    #[test]
    fn inline_markers() {
        let p = t("<Al>De <VerwijderdeTekst>raad</VerwijderdeTekst><NieuweTekst>gemeente&amp;raad</NieuweTekst> stelt.</Al>");
        assert_eq!(nieuw(&p).to_xml(), "<Al>De gemeente&amp;raad stelt.</Al>");
        assert_eq!(oud(&p).to_xml(), "<Al>De raad stelt.</Al>");
    }

    #[test]
    fn untouched_subtrees_are_shared() {
        let p = t("<A><B><C>x</C></B><D wijzigactie=\"voegtoe\"/></A>");
        let n = nieuw(&p);
        assert_eq!(n.to_xml(), "<A><B><C>x</C></B><D/></A>");
        let (Node::Element(a), Node::Element(b)) = (&p.root().unwrap().children[0], &n.root().unwrap().children[0]) else {
            panic!()
        };
        assert!(Arc::ptr_eq(a, b));
    }
}
