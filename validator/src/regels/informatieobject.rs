//! Informatieobjecten (GIOs and other IOs): files, hashes, identifiers, references.

use crate::context::{HistorieFout, Levering};
use crate::regel::Regel;
use stop::module::{Inhoud, StopBestand};
use stop::{Locatie, Melding};

regel!(LVBB3008, Fout, Inhoudelijk, Informatieobject, Levering, "LVBB", "The hash of a GIO file is the SHA-512 of the delivered file",
    "De hash van '{bestand}' klopt niet: in {io} staat {opgegeven}, maar de SHA-512 van het bestand is {berekend}. Bereken de hash opnieuw over het aangeleverde bestand.");
regel!(LVBB3506, Fout, Inhoudelijk, Informatieobject, Levering, "LVBB", "The file of an informatieobject is in the package",
    "Het bestand '{bestand}' van informatieobject {io} zit niet in de levering. Voeg het bestand toe.");

regel!(BHKV1014, Fout, Inhoudelijk, Informatieobject, Bestand, "BHKV (STOP1058)", "heeftBestanden of an informatieobject names exactly one file",
    "Het informatieobject {io} noemt {aantal} bestanden in heeftBestanden; het moet er precies één zijn.");
regel!(LVBB3150, Fout, Inhoudelijk, Informatieobject, Bestand, "LVBB (BHKV1015, STOP1059)", "A consolidatable informatieobject (TeConsolideren) has heeftGeboorteregeling; another one has none",
    "Het informatieobject {io} heeft publicatieinstructie {instructie} en {probleem}.");
regel!(LVBB3517, Fout, Inhoudelijk, Informatieobject, Bestand, "LVBB", "An ExtIoRef's JOIN identifier has no leading or trailing whitespace",
    "De ExtIoRef '{ref}' bevat spaties of regeleinden voor of na de identificatie. Verwijder die.");
regel!(LVBB3510, Waarschuwing, Inhoudelijk, Informatieobject, Levering, "LVBB", "The geboorteregeling of an informatieobject is a regeling of this besluit or a known regeling (a waarschuwing: the LVBB test deliveries name regelingen of other series)",
    "De geboorteregeling {regeling} van informatieobject {io} is geen regeling uit deze levering en is ook niet eerder aangeleverd.");
regel!(LVBB3508, Fout, Inhoudelijk, Informatieobject, Levering, "LVBB", "A delivered informatieobject version does not exist yet",
    "De versie {io} van het informatieobject is al eerder aangeleverd. Geef een nieuwe versie een nieuwe FRBRExpression.");
regel!(LVBB3513, Fout, Inhoudelijk, Informatieobject, Levering, "LVBB", "A new informatieobject work has InformatieObjectMetadata",
    "Het informatieobject {work} is nieuw, maar {bestand} bevat geen InformatieObjectMetadata. Voeg InformatieObjectMetadata toe.");
regel!(LVBB3511, Fout, Inhoudelijk, Informatieobject, Levering, "LVBB", "The FRBRWork in the GML file equals the informatieobject's FRBRWork",
    "Het GML-bestand '{gml}' heeft FRBRWork {gml_id}, maar {bestand} heeft {io_id}. Gebruik in beide hetzelfde FRBRWork.");
regel!(LVBB3512, Fout, Inhoudelijk, Informatieobject, Levering, "LVBB", "The FRBRExpression in the GML file equals the informatieobject's FRBRExpression",
    "Het GML-bestand '{gml}' heeft FRBRExpression {gml_id}, maar {bestand} heeft {io_id}. Gebruik in beide dezelfde FRBRExpression.");
regel!(LVBB3507, Fout, Technisch, Informatieobject, Levering, "LVBB", "The contentType of an informatieobject file in the manifest matches the file (application/gml+xml, application/pdf)",
    "Het bestand '{bestand}' staat in manifest.xml met contentType '{gegeven}'; verwacht '{verwacht}'.");
regel!(LVBB3509, Fout, Inhoudelijk, Informatieobject, Levering, "LVBB", "Every informatieobject delivered with a besluit is listed in its informatieobjectRefs",
    "Het informatieobject {io} zit in de levering, maar staat niet in de informatieobjectRefs van {besluit}. Neem het op in BesluitMetadata/informatieobjectRefs.");
regel!(LVBB3504, Fout, Inhoudelijk, Informatieobject, Levering, "LVBB", "Every informatieobjectRef of a besluit is delivered in the package or was delivered before",
    "Het informatieobject {io} staat in de informatieobjectRefs van {besluit}, maar zit niet in de levering en is ook niet eerder aangeleverd.");
regel!(BHKV1033, Fout, Inhoudelijk, Informatieobject, Levering, "BHKV", "A consolidatable informatieobject (TeConsolideren) delivered with a besluit is a BeoogdInformatieobject",
    "Het informatieobject {io} wordt geconsolideerd (TeConsolideren) maar staat niet als BeoogdInformatieobject in de ConsolidatieInformatie van {besluit}.");

pub static REGELS: &[&Regel] = &[
    &LVBB3008, &LVBB3506, &BHKV1014, &LVBB3150, &LVBB3517, &LVBB3510, &LVBB3508, &LVBB3513, &LVBB3511, &LVBB3512,
    &LVBB3507, &LVBB3509, &LVBB3504, &BHKV1033,
];

fn data_node(b: &StopBestand, name: &str) -> Option<stop::xml::NodeId> {
    let doc = &b.document;
    let root = doc.root()?;
    doc.descendants(root).find(|&n| doc.is(n, stop::ns::DATA, name))
}

fn loc_of(b: &StopBestand, names: &[&str]) -> Locatie {
    names
        .iter()
        .find_map(|n| data_node(b, n))
        .map(|n| stop::locatie(&b.document, &b.bestand, n))
        .unwrap_or_else(|| Locatie::bestand(b.bestand.clone()))
}

pub(crate) fn bestand(b: &StopBestand, out: &mut Vec<Melding>) {
    if let Inhoud::InformatieObject(io) = &b.inhoud {
        let expr = io.id.expression.trim();
        if io.bestanden.len() > 1 || (io.bestanden.is_empty() && data_node(b, "heeftBestanden").is_some()) {
            out.push(BHKV1014.melding(loc_of(b, &["heeftBestanden"]), &[("io", &expr), ("aantal", &io.bestanden.len())]));
        }
        let instructie = io.metadata.as_ref().and_then(|m| m.get("publicatieinstructie")).map(str::trim);
        let geboorte = io.versie_metadata.get("heeftGeboorteregeling").map(str::trim).filter(|s| !s.is_empty());
        let probleem = match (instructie, geboorte) {
            (Some("TeConsolideren"), None) => Some("mist heeftGeboorteregeling; geef de regeling die het informatieobject vaststelt"),
            (Some(i), Some(_)) if i != "TeConsolideren" => Some("heeft toch een heeftGeboorteregeling; verwijder die"),
            _ => None,
        };
        if let (Some(p), Some(i)) = (probleem, instructie) {
            out.push(LVBB3150.melding(loc_of(b, &["heeftGeboorteregeling", "publicatieinstructie"]), &[
                ("io", &expr),
                ("instructie", &i),
                ("probleem", &p),
            ]));
        }
    }
    // ExtIoRef whitespace, in every text.
    let doc = &b.document;
    let Some(root) = doc.root() else { return };
    for n in doc.descendants(root) {
        if !doc.is(n, stop::ns::TEKST, "ExtIoRef") {
            continue;
        }
        if let Some(r) = doc.attr(n, "ref")
            && r.trim() != r
        {
            out.push(LVBB3517.melding(stop::locatie(doc, &b.bestand, n), &[("ref", &r)]));
        }
    }
}

/// The informatieobjectRefs of a besluit.
fn io_refs(m: &stop::module::Metadata) -> Vec<&str> {
    m.all("informatieobjectRef").map(str::trim).filter(|s| !s.is_empty()).collect()
}

pub(crate) fn levering(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    let besluit = l.modules.iter().find_map(|m| match &m.inhoud {
        Inhoud::Besluit(b) => Some((m, b)),
        _ => None,
    });
    // Regelingen of this package (works), for geboorteregelingen.
    let mut regelingen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for m in l.modules {
        if let Inhoud::Besluit(b) = &m.inhoud {
            regelingen.extend(b.regeling_versies.iter().map(|r| r.id.work.trim()));
            if let Some(t) = &b.tekst {
                regelingen.extend(t.regelingen.iter().filter_map(|r| r.wordt.as_deref()).filter_map(stop::ident::work_of));
            }
        }
    }
    let ios: Vec<(&crate::context::Module, &stop::module::InformatieObject)> = l
        .modules
        .iter()
        .filter_map(|m| match &m.inhoud {
            Inhoud::InformatieObject(io) => Some((m, io)),
            _ => None,
        })
        .collect();
    for (m, io) in &ios {
        let expr = io.id.expression.trim();
        let work = io.id.work.trim();
        let loc = Locatie::bestand(m.bestand.clone());
        if let Some(g) = io.versie_metadata.get("heeftGeboorteregeling").map(str::trim).filter(|s| !s.is_empty())
            && !regelingen.contains(g)
            && l.historie.work(g)?.is_none_or(|w| w.kind != "regeling")
        {
            out.push(LVBB3510.melding(loc.clone(), &[("regeling", &g), ("io", &expr)]));
        }
        if !expr.is_empty() && l.historie.expressie(expr)?.is_some() {
            out.push(LVBB3508.melding(loc.clone(), &[("io", &expr)]));
        }
        if !work.is_empty() && io.metadata.is_none() && l.historie.work(work)?.is_none() {
            out.push(LVBB3513.melding(loc.clone(), &[("work", &work), ("bestand", &m.bestand)]));
        }
        // The GML file of a GIO carries the same identification.
        for f in &io.bestanden {
            let Some(gml) = l.module(&f.bestandsnaam) else { continue };
            let Inhoud::Gio(g) = &gml.inhoud else { continue };
            if let Some(w) = g.work.as_deref().map(str::trim)
                && w != work
            {
                out.push(LVBB3511.melding(Locatie::bestand(gml.bestand.clone()), &[
                    ("gml", &gml.bestand),
                    ("gml_id", &w),
                    ("bestand", &m.bestand),
                    ("io_id", &work),
                ]));
            }
            if let Some(e) = g.expression.as_deref().map(str::trim)
                && e != expr
            {
                out.push(LVBB3512.melding(Locatie::bestand(gml.bestand.clone()), &[
                    ("gml", &gml.bestand),
                    ("gml_id", &e),
                    ("bestand", &m.bestand),
                    ("io_id", &expr),
                ]));
            }
        }
        if let Some(man) = l.manifest {
            for f in &io.bestanden {
                let lower = f.bestandsnaam.to_ascii_lowercase();
                let verwacht = if lower.ends_with(".gml") {
                    "application/gml+xml"
                } else if lower.ends_with(".pdf") {
                    "application/pdf"
                } else {
                    continue;
                };
                if let Some(mb) = man.bestand(&f.bestandsnaam)
                    && mb.content_type.trim() != verwacht
                {
                    out.push(LVBB3507.melding(Locatie::bestand(stop::manifest::MANIFEST_BESTAND), &[
                        ("bestand", &f.bestandsnaam),
                        ("gegeven", &mb.content_type.trim()),
                        ("verwacht", &verwacht),
                    ]));
                }
            }
        }
        if let Some((bm, b)) = besluit {
            let refs = io_refs(&b.metadata);
            let bloc = || Locatie::bestand(bm.bestand.clone());
            if !refs.contains(&expr) {
                out.push(LVBB3509.melding(bloc(), &[("io", &expr), ("besluit", &bm.bestand)]));
            }
            let instructie = io.metadata.as_ref().and_then(|m| m.get("publicatieinstructie")).map(str::trim);
            let beoogd = b.consolidatie.as_ref().is_some_and(|c| {
                c.beoogde_informatieobjecten.iter().any(|x| x.instrument_versie.trim() == expr)
            });
            if instructie == Some("TeConsolideren") && !beoogd && !b.is_ontwerp() {
                out.push(BHKV1033.melding(bloc(), &[("io", &expr), ("besluit", &bm.bestand)]));
            }
        }
    }
    if let Some((bm, b)) = besluit {
        for r in io_refs(&b.metadata) {
            let delivered = ios.iter().any(|(_, io)| io.id.expression.trim() == r);
            if !delivered && l.historie.expressie(r)?.is_none() {
                out.push(LVBB3504.melding(Locatie::bestand(bm.bestand.clone()), &[("io", &r), ("besluit", &bm.bestand)]));
            }
        }
    }
    for m in l.modules {
        let Inhoud::InformatieObject(io) = &m.inhoud else { continue };
        for b in &io.bestanden {
            let info = l.bestanden.iter().find(|f| f.naam == b.bestandsnaam);
            let loc: Locatie = b.locatie.clone();
            match info {
                None => out.push(LVBB3506.melding(loc, &[("bestand", &b.bestandsnaam), ("io", &io.id.expression)])),
                Some(f) => {
                    if let Some(actual) = &f.sha512
                        && !actual.eq_ignore_ascii_case(b.hash.trim())
                    {
                        out.push(LVBB3008.melding(loc, &[
                            ("bestand", &b.bestandsnaam),
                            ("io", &m.bestand),
                            ("opgegeven", &b.hash.trim()),
                            ("berekend", actual),
                        ]));
                    }
                }
            }
        }
    }
    Ok(())
}
