//! Besluit text ↔ ConsolidatieInformatie ↔ RegelingVersieInformatie: every eId referenced
//! exists, every version set in the text is announced (and the other way round), new regelingen
//! have metadata, components and identifiers are unique.

use std::collections::{BTreeMap, HashSet};

use rustc_hash::{FxHashMap, FxHashSet};

use crate::context::{HistorieFout, Levering};
use crate::regel::Regel;
use stop::module::{Inhoud, StopBestand, TekstInfo};
use stop::xml::{Document, NodeId};
use stop::{Locatie, Melding, ns};

regel!(BHKV1009, Fout, Inhoudelijk, Consolidatie, Bestand, "BHKV (STOP2019)", "The eId of a BeoogdeRegeling exists in the besluit text",
    "De eId '{eid}' bij BeoogdeRegeling {instrument} komt niet voor in de tekst van {bestand}. Verwijs naar het artikel dat de regeling vaststelt of wijzigt.");
regel!(BHKV1010, Fout, Inhoudelijk, Consolidatie, Bestand, "BHKV (STOP2020)", "The eId of a Tijdstempel exists in the besluit text",
    "De eId '{eid}' bij de Tijdstempel ({soort} {datum}) komt niet voor in de tekst van {bestand}. Verwijs naar het inwerkingtredingsartikel.");
regel!(BHKV1011, Fout, Inhoudelijk, Consolidatie, Bestand, "BHKV (STOP2021)", "The eId of an Intrekking exists in the besluit text",
    "De eId '{eid}' bij de Intrekking van {instrument} komt niet voor in de tekst van {bestand}.");
regel!(BHKV1003, Fout, Inhoudelijk, Consolidatie, Bestand, "BHKV (STOP2018, STOP2011, STOP2012)", "The eId of a BeoogdInformatieobject is the eId of an ExtIoRef to that informatieobject",
    "De eId '{eid}' bij BeoogdInformatieobject {instrument} {probleem}. Verwijs met de eId (in de vorm !component#eId) naar de ExtIoRef met ref {instrument}.");
regel!(LVBB4032, Fout, Inhoudelijk, Consolidatie, Bestand, "LVBB", "Every regeling version set in the text (@wordt) is a BeoogdeRegeling instrumentVersie, and the other way round",
    "{richting}: {expressie}. Zorg dat elke @wordt in de besluittekst precies één BeoogdeRegeling in de ConsolidatieInformatie heeft en omgekeerd.");
regel!(LVBB4033, Fout, Inhoudelijk, Consolidatie, Bestand, "LVBB", "Every regeling version set in the text (@wordt) has a RegelingVersieInformatie",
    "Voor de regelingversie {expressie} in de besluittekst ontbreekt de RegelingVersieInformatie. Lever bij elke nieuwe regelingversie één RegelingVersieInformatie met die FRBRExpression.");
regel!(BHKV1058, Waarschuwing, Inhoudelijk, Consolidatie, Bestand, "BHKV", "Every RegelingVersieInformatie belongs to a regeling version set in the text (a waarschuwing: an LVBB test delivery for an intrekking carries one)",
    "De RegelingVersieInformatie voor {expressie} hoort bij geen regelingversie (@wordt) in de besluittekst; ze wordt genegeerd. Verwijder haar of voeg de regelingversie toe.");
regel!(LVBB4045, Fout, Inhoudelijk, Consolidatie, Bestand, "LVBB", "A RegelingVersieInformatie occurs once per regeling version",
    "Er zijn {aantal} RegelingVersieInformatie-elementen voor {expressie}; lever er één.");
regel!(LVBB4040, Fout, Inhoudelijk, Consolidatie, Levering, "LVBB", "A new regeling has RegelingMetadata",
    "De regeling {work} is nieuw, maar de RegelingVersieInformatie voor {expressie} bevat geen RegelingMetadata. Voeg RegelingMetadata toe.");
regel!(STOP0026, Fout, Inhoudelijk, Consolidatie, Bestand, "STOP", "componentnaam is unique within a besluit",
    "De componentnaam '{naam}' komt {aantal} keer voor in {bestand}. Geef elke component een eigen naam.");
regel!(STOP0027, Fout, Inhoudelijk, Consolidatie, Bestand, "STOP", "An eId is unique within its document or component",
    "De eId '{eid}' komt {aantal} keer voor{binnen}. Elke eId moet uniek zijn.");
regel!(STOP0028, Fout, Inhoudelijk, Consolidatie, Bestand, "STOP", "A wId is unique within its document or component",
    "De wId '{wid}' komt {aantal} keer voor{binnen}. Elke wId moet uniek zijn.");
regel!(LVBB3151, Fout, Inhoudelijk, Consolidatie, Bestand, "LVBB", "Every BeoogdInformatieobject is cited as ExtIoRef in the text",
    "Het informatieobject {instrument} is als BeoogdInformatieobject opgenomen, maar wordt in de tekst van {bestand} niet met een ExtIoRef aangehaald.");

pub static REGELS: &[&Regel] = &[
    &BHKV1009, &BHKV1010, &BHKV1011, &BHKV1003, &LVBB4032, &LVBB4033, &BHKV1058, &LVBB4045, &LVBB4040, &STOP0026, &STOP0027,
    &STOP0028, &LVBB3151,
];

/// The elements named `name` (data namespace) inside the first ConsolidatieInformatie, in
/// document order (the order of the model's vectors).
pub(crate) fn ci_nodes(doc: &Document, name: &str) -> Vec<NodeId> {
    let Some(root) = doc.root() else { return Vec::new() };
    let Some(ci) = doc.descendants(root).find(|&n| doc.is(n, ns::DATA, "ConsolidatieInformatie")) else {
        return Vec::new();
    };
    doc.descendants(ci).filter(|&n| doc.is(n, ns::DATA, name)).collect()
}

/// The location of a child element (e.g. `eId`) of `node`, or of `node` itself.
pub(crate) fn loc_child(b: &StopBestand, node: Option<NodeId>, child: &str) -> Locatie {
    let doc = &b.document;
    match node {
        Some(n) => {
            let c = doc.elements(n).find(|&c| doc.name(c) == child).unwrap_or(n);
            stop::locatie(doc, &b.bestand, c)
        }
        None => Locatie::bestand(b.bestand.clone()),
    }
}

/// The elements with the wanted eIds, by the eId as ConsolidatieInformatie writes it
/// (`!comp#eId` inside a component). One pass; only the wanted keys are kept.
fn eid_index(doc: &Document, wanted: &FxHashSet<&str>) -> FxHashMap<String, NodeId> {
    let mut out = FxHashMap::default();
    let Some(root) = doc.root() else { return out };
    // The local part of each wanted key, to skip the rest cheaply.
    let lokaal: FxHashSet<&str> = wanted.iter().map(|k| k.rsplit_once('#').map_or(*k, |(_, e)| e)).collect();
    let mut stack: Vec<(usize, &str)> = Vec::new();
    for n in doc.descendants(root) {
        if !doc.is_element(n) {
            continue;
        }
        let (start, end) = doc.span(n);
        while stack.last().is_some_and(|&(e, _)| start >= e) {
            stack.pop();
        }
        let (mut eid, mut comp) = (None, None);
        for (ans, an, v) in doc.attrs_of(n) {
            if ans.is_empty() {
                match an {
                    "eId" => eid = Some(v),
                    "componentnaam" => comp = Some(v),
                    _ => {}
                }
            }
        }
        if let Some(e) = eid
            && lokaal.contains(e)
        {
            let key = match stack.last() {
                Some((_, c)) => format!("!{c}#{e}"),
                None => e.to_string(),
            };
            if wanted.contains(key.as_str()) {
                out.entry(key).or_insert(n);
            }
        }
        if n != root
            && let Some(c) = comp
        {
            stack.push((end, c));
        }
    }
    out
}

/// Membership in the text's eIds: a scan for a few lookups, a hash set for many.
struct Eids<'a> {
    lijst: &'a [String],
    set: Option<FxHashSet<&'a str>>,
}

impl<'a> Eids<'a> {
    fn new(lijst: &'a [String], lookups: usize) -> Eids<'a> {
        let set = (lookups.saturating_mul(lijst.len()) > 2_000_000).then(|| lijst.iter().map(String::as_str).collect());
        Eids { lijst, set }
    }

    fn contains(&self, e: &str) -> bool {
        match &self.set {
            Some(s) => s.contains(e),
            None => self.lijst.iter().any(|x| x == e),
        }
    }
}

pub(crate) fn bestand(b: &StopBestand, out: &mut Vec<Melding>) {
    let (tekst, rvi): (Option<&TekstInfo>, Vec<&stop::module::RegelingVersieInformatie>) = match &b.inhoud {
        Inhoud::Besluit(x) => (x.tekst.as_ref(), x.regeling_versies.iter().collect()),
        Inhoud::Revisie(p) | Inhoud::Rectificatie(p) | Inhoud::Mededeling(p) => {
            (p.tekst.as_ref(), p.regeling_versies.iter().collect())
        }
        _ => return,
    };
    let ci = b.inhoud.consolidatie();
    let doc = &b.document;
    let bestand = b.bestand.as_str();
    uniek(b, out);
    let Some(tekst) = tekst else { return };
    let lookups = ci.map_or(0, |c| c.beoogde_regelingen.len() + c.tijdstempels.len() + c.intrekkingen.len());
    let eids = Eids::new(&tekst.eids, lookups);
    if let Some(ci) = ci {
        let nodes = ci_nodes(doc, "BeoogdeRegeling");
        for (i, r) in ci.beoogde_regelingen.iter().enumerate() {
            if let Some(e) = &r.eid
                && !eids.contains(e.trim())
            {
                out.push(BHKV1009.melding(loc_child(b, nodes.get(i).copied(), "eId"), &[
                    ("eid", &e.trim()),
                    ("instrument", &r.instrument_versie),
                    ("bestand", &bestand),
                ]));
            }
        }
        let nodes = ci_nodes(doc, "Tijdstempel");
        for (i, t) in ci.tijdstempels.iter().enumerate() {
            if let Some(e) = &t.eid
                && !eids.contains(e.trim())
            {
                out.push(BHKV1010.melding(loc_child(b, nodes.get(i).copied(), "eId"), &[
                    ("eid", &e.trim()),
                    ("soort", &t.soort),
                    ("datum", &t.datum),
                    ("bestand", &bestand),
                ]));
            }
        }
        let nodes = ci_nodes(doc, "Intrekking");
        for (i, t) in ci.intrekkingen.iter().enumerate() {
            if let Some(e) = &t.eid
                && !eids.contains(e.trim())
            {
                out.push(BHKV1011.melding(loc_child(b, nodes.get(i).copied(), "eId"), &[
                    ("eid", &e.trim()),
                    ("instrument", &t.instrument),
                    ("bestand", &bestand),
                ]));
            }
        }
        let nodes = ci_nodes(doc, "BeoogdInformatieobject");
        let wanted: FxHashSet<&str> = ci.beoogde_informatieobjecten.iter().filter_map(|io| io.eid.as_deref()).map(str::trim).collect();
        let index = if wanted.is_empty() { FxHashMap::default() } else { eid_index(doc, &wanted) };
        let io_refs: HashSet<&str> = tekst.io_refs.iter().map(|s| s.trim()).collect();
        for (i, io) in ci.beoogde_informatieobjecten.iter().enumerate() {
            let node = nodes.get(i).copied();
            let iv = io.instrument_versie.trim();
            if let Some(e) = &io.eid {
                let probleem = match index.get(e.trim()) {
                    None => Some("komt niet voor in de tekst".to_string()),
                    Some(&n) if doc.name(n) != "ExtIoRef" => {
                        Some(format!("wijst naar een {} en niet naar een ExtIoRef", doc.name(n)))
                    }
                    Some(&n) => {
                        let r = doc.attr(n, "ref").map(str::to_string).or_else(|| doc.trimmed_text(n)).unwrap_or_default();
                        (r.trim() != iv).then(|| format!("wijst naar een ExtIoRef met ref {}", r.trim()))
                    }
                };
                if let Some(p) = probleem {
                    out.push(BHKV1003.melding(loc_child(b, node, "eId"), &[
                        ("eid", &e.trim()),
                        ("instrument", &iv),
                        ("probleem", &p),
                    ]));
                }
            }
            if !iv.is_empty() && !io_refs.contains(iv) {
                out.push(LVBB3151.melding(loc_child(b, node, "instrumentVersie"), &[
                    ("instrument", &iv),
                    ("bestand", &bestand),
                ]));
            }
        }
    }
    // @wordt ⇔ BeoogdeRegeling ⇔ RegelingVersieInformatie (AKN regeling versions only).
    let wordt: Vec<(&str, u32)> = tekst
        .regelingen
        .iter()
        .filter_map(|r| r.wordt.as_deref().map(|w| (w.trim(), r.regel)))
        .filter(|(w, _)| w.starts_with("/akn/"))
        .collect();
    let wordt_set: HashSet<&str> = wordt.iter().map(|(w, _)| *w).collect();
    let regel_loc = |line: u32| Locatie { bestand: Some(bestand.to_string()), regel: Some(line), ..Default::default() };
    if let Some(ci) = ci {
        let beoogd: HashSet<&str> = ci.beoogde_regelingen.iter().map(|r| r.instrument_versie.trim()).collect();
        for (w, line) in &wordt {
            if !beoogd.contains(w) {
                out.push(LVBB4032.melding(regel_loc(*line), &[
                    ("richting", &"De besluittekst stelt een regelingversie vast die niet als BeoogdeRegeling in de ConsolidatieInformatie staat"),
                    ("expressie", w),
                ]));
            }
        }
        let nodes = ci_nodes(doc, "BeoogdeRegeling");
        for (i, r) in ci.beoogde_regelingen.iter().enumerate() {
            let iv = r.instrument_versie.trim();
            if iv.starts_with("/akn/") && !wordt_set.contains(iv) {
                out.push(LVBB4032.melding(loc_child(b, nodes.get(i).copied(), "instrumentVersie"), &[
                    ("richting", &"De ConsolidatieInformatie noemt een BeoogdeRegeling waarvoor de besluittekst geen regelingversie (@wordt) bevat"),
                    ("expressie", &iv),
                ]));
            }
        }
    }
    if matches!(b.inhoud, Inhoud::Besluit(_) | Inhoud::Revisie(_) | Inhoud::Rectificatie(_)) {
        let mut rvi_count: BTreeMap<&str, (usize, u32)> = BTreeMap::new();
        for r in &rvi {
            let e = rvi_count.entry(r.id.expression.trim()).or_insert((0, r.regel));
            e.0 += 1;
        }
        for (w, line) in &wordt {
            if !rvi_count.contains_key(w) {
                out.push(LVBB4033.melding(regel_loc(*line), &[("expressie", w)]));
            }
        }
        for (e, (n, line)) in &rvi_count {
            if !wordt_set.contains(e) {
                out.push(BHKV1058.melding(regel_loc(*line), &[("expressie", e)]));
            }
            if *n > 1 {
                out.push(LVBB4045.melding(regel_loc(*line), &[("aantal", n), ("expressie", e)]));
            }
        }
    }
}

fn tel(e: &mut (usize, NodeId), n: NodeId) {
    e.0 += 1;
    if e.0 == 2 {
        e.1 = n;
    }
}

/// componentnaam, eId and wId uniqueness (per component).
fn uniek(b: &StopBestand, out: &mut Vec<Melding>) {
    use std::hash::{BuildHasher, Hash, Hasher};
    let doc = &b.document;
    let Some(root) = doc.root() else { return };
    let mut comp_count: FxHashMap<&str, (usize, NodeId)> = FxHashMap::default();
    // (hash of (component, id), node): sorted afterwards, equal hashes are candidates. 16 bytes
    // per identifier instead of a hash map of string keys (a 50 MB besluit has ~400,000).
    let mut eids: Vec<(u64, NodeId, u32)> = Vec::new();
    let mut wids: Vec<(u64, NodeId, u32)> = Vec::new();
    // Component names by index; u32::MAX = outside any component.
    let mut comps: Vec<&str> = Vec::new();
    let mut stack: Vec<(usize, &str, u32)> = Vec::new();
    let bh = rustc_hash::FxBuildHasher;
    let key = |comp: Option<&str>, id: &str| {
        let mut h = bh.build_hasher();
        comp.hash(&mut h);
        id.hash(&mut h);
        h.finish()
    };
    for n in doc.descendants(root) {
        if !doc.is_element(n) {
            continue;
        }
        let (start, end) = doc.span(n);
        while stack.last().is_some_and(|&(e, _, _)| start >= e) {
            stack.pop();
        }
        let comp = stack.last().map(|&(_, c, _)| c);
        let ci = stack.last().map_or(u32::MAX, |&(_, _, i)| i);
        let (mut eid, mut wid, mut actie, mut cnaam) = (None, None, None, None);
        for (ans, an, v) in doc.attrs_of(n) {
            if ans.is_empty() {
                match an {
                    "eId" => eid = eid.or(Some(v)),
                    "wId" => wid = wid.or(Some(v)),
                    "wijzigactie" => actie = actie.or(Some(v)),
                    "componentnaam" => cnaam = cnaam.or(Some(v)),
                    _ => {}
                }
            }
        }
        // Renvooi: removed text may repeat an identifier of the new text.
        let verwijderd = matches!(actie, Some("verwijder" | "verwijderContainer" | "verplaatstVan"));
        if !verwijderd {
            if let Some(e) = eid {
                eids.push((key(comp, e), n, ci));
            }
            if let Some(w) = wid {
                wids.push((key(comp, w), n, ci));
            }
        }
        if n != root
            && let Some(c) = cnaam
        {
            tel(comp_count.entry(c).or_insert((0, n)), n);
            comps.push(c);
            stack.push((end, c, (comps.len() - 1) as u32));
        }
    }
    let binnen = |c: Option<&str>| match c {
        Some(c) => format!(" binnen component '{c}'"),
        None => String::new(),
    };
    let mut v: Vec<_> = comp_count.into_iter().filter(|(_, (k, _))| *k > 1).collect();
    v.sort_by_key(|(_, (_, n))| *n);
    for (c, (k, n)) in v {
        out.push(STOP0026.melding(stop::locatie(doc, &b.bestand, n), &[("naam", &c), ("aantal", &k), ("bestand", &b.bestand)]));
    }
    // Duplicates: runs of equal hashes, checked on the real strings (collisions are possible).
    let dubbel = |mut v: Vec<(u64, NodeId, u32)>, attr: &str| -> Vec<(NodeId, usize, &str, Option<&str>)> {
        v.sort_unstable();
        let mut found = Vec::new();
        let mut i = 0;
        while i < v.len() {
            let mut j = i + 1;
            while j < v.len() && v[j].0 == v[i].0 {
                j += 1;
            }
            if j - i > 1 {
                // Group the run by the actual (component, id).
                let mut groepen: Vec<((Option<&str>, &str), Vec<NodeId>)> = Vec::new();
                for &(_, n, ci) in &v[i..j] {
                    let k = (comps.get(ci as usize).copied(), doc.attr(n, attr).unwrap_or(""));
                    match groepen.iter_mut().find(|(g, _)| *g == k) {
                        Some((_, ns)) => ns.push(n),
                        None => groepen.push((k, vec![n])),
                    }
                }
                for ((c, id), mut ns) in groepen {
                    if ns.len() > 1 {
                        ns.sort();
                        found.push((ns[1], ns.len(), id, c));
                    }
                }
            }
            i = j;
        }
        found.sort_by_key(|f| f.0);
        found
    };
    for (n, k, e, c) in dubbel(eids, "eId") {
        out.push(STOP0027.melding(stop::locatie(doc, &b.bestand, n), &[("eid", &e), ("aantal", &k), ("binnen", &binnen(c))]));
    }
    for (n, k, w, c) in dubbel(wids, "wId") {
        out.push(STOP0028.melding(stop::locatie(doc, &b.bestand, n), &[("wid", &w), ("aantal", &k), ("binnen", &binnen(c))]));
    }
}

pub(crate) fn levering(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    // LVBB4040: a regeling that is new (not known, not created earlier in this package) needs
    // RegelingMetadata.
    let mut gezien: HashSet<String> = HashSet::new();
    for m in l.modules {
        let rvi = match &m.inhoud {
            Inhoud::Besluit(b) => &b.regeling_versies,
            Inhoud::Revisie(p) | Inhoud::Rectificatie(p) => &p.regeling_versies,
            _ => continue,
        };
        for r in rvi {
            let work = r.id.work.trim();
            if work.is_empty() || !gezien.insert(work.to_string()) {
                continue;
            }
            if r.regeling_metadata.is_none() && l.historie.work(work)?.is_none() {
                let has_other = rvi.iter().any(|o| o.id.work.trim() == work && o.regeling_metadata.is_some());
                if !has_other {
                    out.push(LVBB4040.melding(
                        Locatie { bestand: Some(m.bestand.clone()), regel: Some(r.regel), ..Default::default() },
                        &[("work", &work), ("expressie", &r.id.expression)],
                    ));
                }
            }
        }
    }
    Ok(())
}
