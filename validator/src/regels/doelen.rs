//! Doelen and tijdstempels. STOP 1.4 allows several doelen per besluit and several versions of
//! an instrument; the LVBB's release A''' restrictions on those are waarschuwingen here.

use std::collections::{BTreeMap, BTreeSet};

use super::consolidatie::ci_nodes;
use crate::context::{HistorieFout, Levering};
use crate::regel::Regel;
use stop::ident::{Schema, WorkId};
use stop::module::{Inhoud, StopBestand};
use stop::opdracht::parse_date;
use stop::{Locatie, Melding, ns};

regel!(RB3301, Fout, Inhoudelijk, Doelen, Bestand, "regelbank", "A doel is a JOIN proces identifier /join/id/proces/<bevoegd gezag>/<jaar>/<naam>",
    "Het doel '{doel}' is geen geldige doel-identificatie. Gebruik de vorm /join/id/proces/<code bevoegd gezag>/<jaar>/<naam>, bijvoorbeeld /join/id/proces/gm9901/2027/Omgevingsplan.");
regel!(RB3302, Fout, Inhoudelijk, Doelen, Bestand, "regelbank", "A Tijdstempel has soortTijdstempel juridischWerkendVanaf or geldigVanaf and a valid date",
    "De Tijdstempel voor doel {doel} heeft {probleem}. Gebruik soortTijdstempel juridischWerkendVanaf of geldigVanaf en een datum JJJJ-MM-DD.");
regel!(STOP1077, Fout, Inhoudelijk, Doelen, Bestand, "STOP", "A doel has at most one juridischWerkendVanaf",
    "Het doel {doel} heeft {aantal} tijdstempels juridischWerkendVanaf ({datums}). Geef per doel één datum.");
regel!(STOP1078, Fout, Inhoudelijk, Doelen, Bestand, "STOP", "A doel has at most one geldigVanaf",
    "Het doel {doel} heeft {aantal} tijdstempels geldigVanaf ({datums}). Geef per doel één datum.");
regel!(RB3303, Fout, Inhoudelijk, Doelen, Bestand, "regelbank", "geldigVanaf is not later than juridischWerkendVanaf for the same doel (terugwerkende kracht goes back, never forward)",
    "Voor doel {doel} ligt geldigVanaf {geldig} na juridischWerkendVanaf {jwv}. geldigVanaf mag niet later zijn dan juridischWerkendVanaf; laat geldigVanaf weg als er geen terugwerkende kracht is.");
regel!(BHKV1004, Fout, Inhoudelijk, Doelen, Bestand, "BHKV (STOP2001)", "An ontwerpbesluit carries no Tijdstempels",
    "{bestand} is een ontwerpbesluit maar bevat Tijdstempels. Een ontwerpbesluit treedt niet in werking; verwijder de Tijdstempels.");
regel!(LVBB7003, Fout, Inhoudelijk, Doelen, Levering, "LVBB", "A Tijdstempel is for a doel that has instrument versions (in this besluit or an earlier one)",
    "De Tijdstempel ({soort} {datum}) is voor doel {doel}, maar geen regelingversie, informatieobjectversie of intrekking in dit besluit of een eerder besluit hoort bij dat doel. Controleer het doel.");
regel!(LVBB4803, Waarschuwing, Inhoudelijk, Doelen, Bestand, "LVBB (release A''')", "One doel per besluit: STOP 1.4 allows several; the LVBB's release A''' does not (waarschuwing)",
    "Het besluit gebruikt {aantal} doelen ({doelen}). Dat mag in STOP 1.4; de LVBB (release A''') accepteert maar één doel per besluit.");
regel!(LVBB4802, Waarschuwing, Inhoudelijk, Doelen, Bestand, "LVBB (release A''')", "One version per instrument per besluit: STOP 1.4 allows several; the LVBB's release A''' does not (waarschuwing)",
    "Het besluit stelt {aantal} versies vast van {work} ({versies}). Dat mag in STOP 1.4; de LVBB (release A''') accepteert maar één versie per instrument.");
regel!(LVBB4804, Waarschuwing, Inhoudelijk, Doelen, Bestand, "LVBB (release A''')", "A besluit both setting a version of an instrument and withdrawing it is reported",
    "Het besluit stelt een versie vast van {work} en trekt dat instrument ook in. Controleer of dat de bedoeling is; de LVBB (release A''') weigert dit.");
regel!(RB3304, Waarschuwing, Inhoudelijk, Doelen, Levering, "regelbank (LVBB1574, older wording)", "juridischWerkendVanaf is not before datumBekendmaking (use geldigVanaf for terugwerkende kracht)",
    "juridischWerkendVanaf {datum} voor doel {doel} ligt vóór de datum van bekendmaking {bekendmaking}. Een besluit kan niet in werking treden voordat het bekend is gemaakt; gebruik geldigVanaf voor terugwerkende kracht.");
regel!(RB3305, Fout, Inhoudelijk, Doelen, Bestand, "regelbank", "MaterieelUitgewerkt names an instrument work (not an expression)",
    "MaterieelUitgewerkt noemt '{instrument}'; dat is geen work-identificatie van een regeling of informatieobject. Gebruik het FRBRWork.");

pub static REGELS: &[&Regel] = &[
    &RB3301, &RB3302, &STOP1077, &STOP1078, &RB3303, &BHKV1004, &LVBB7003, &LVBB4803, &LVBB4802, &LVBB4804, &RB3304,
    &RB3305,
];

fn doel_geldig(d: &str) -> bool {
    WorkId::parse(d.trim()).is_some_and(|w| {
        w.schema == Schema::Join
            && w.land_of_id == "id"
            && w.soort == "proces"
            && w.datum.len() == 4
            && w.datum.bytes().all(|b| b.is_ascii_digit())
            && w.overig.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

pub(crate) fn bestand(b: &StopBestand, out: &mut Vec<Melding>) {
    let Some(ci) = b.inhoud.consolidatie() else { return };
    let doc = &b.document;
    // Every doel element, in document order, with its location.
    for n in ci_nodes(doc, "doel") {
        let d = doc.text(n);
        if !doel_geldig(&d) {
            out.push(RB3301.melding(stop::locatie(doc, &b.bestand, n), &[("doel", &d.trim())]));
        }
    }
    let ts_nodes = ci_nodes(doc, "Tijdstempel");
    let loc = |i: usize, child: &str| super::consolidatie::loc_child(b, ts_nodes.get(i).copied(), child);
    let mut per_doel: BTreeMap<(&str, &str), Vec<(usize, &str)>> = BTreeMap::new();
    for (i, t) in ci.tijdstempels.iter().enumerate() {
        let soort = t.soort.trim();
        let probleem = if soort != "juridischWerkendVanaf" && soort != "geldigVanaf" {
            Some(format!("soortTijdstempel '{soort}'"))
        } else if parse_date(&t.datum).is_none() {
            Some(format!("datum '{}'", t.datum.trim()))
        } else {
            None
        };
        match probleem {
            Some(p) => out.push(RB3302.melding(loc(i, "soortTijdstempel"), &[("doel", &t.doel.trim()), ("probleem", &p)])),
            None => per_doel.entry((t.doel.trim(), soort)).or_default().push((i, t.datum.trim())),
        }
    }
    for ((doel, soort), v) in &per_doel {
        if v.len() > 1 {
            let datums = v.iter().map(|(_, d)| d.to_string()).collect::<Vec<_>>();
            let r = if *soort == "juridischWerkendVanaf" { &STOP1077 } else { &STOP1078 };
            out.push(r.melding(loc(v[1].0, "datum"), &[
                ("doel", doel),
                ("aantal", &v.len()),
                ("datums", &crate::regel::Opsomming(&datums)),
            ]));
        }
        if *soort == "geldigVanaf"
            && let Some(jwv) = per_doel.get(&(doel, "juridischWerkendVanaf"))
            && let (Some(g), Some(j)) = (parse_date(v[0].1), parse_date(jwv[0].1))
            && g > j
        {
            out.push(RB3303.melding(loc(v[0].0, "datum"), &[("doel", doel), ("geldig", &g), ("jwv", &j)]));
        }
    }
    if let Inhoud::Besluit(besluit) = &b.inhoud
        && besluit.is_ontwerp()
        && !ci.tijdstempels.is_empty()
    {
        out.push(BHKV1004.melding(loc(0, "doel"), &[("bestand", &b.bestand)]));
    }
    // Release A''' restrictions, reported as waarschuwingen.
    let doelen: BTreeSet<&str> = ci.doelen().into_iter().map(str::trim).collect();
    let ci_loc = || {
        let root = doc.root();
        let ci_node = root.and_then(|r| doc.descendants(r).find(|&n| doc.is(n, ns::DATA, "ConsolidatieInformatie")));
        match ci_node {
            Some(n) => stop::locatie(doc, &b.bestand, n),
            None => Locatie::bestand(b.bestand.clone()),
        }
    };
    if doelen.len() > 1 && matches!(b.inhoud, Inhoud::Besluit(_)) {
        let v: Vec<String> = doelen.iter().map(|s| s.to_string()).collect();
        out.push(LVBB4803.melding(ci_loc(), &[("aantal", &v.len()), ("doelen", &crate::regel::Opsomming(&v))]));
    }
    let mut per_work: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in ci.beoogde_regelingen.iter().chain(&ci.beoogde_informatieobjecten) {
        let iv = r.instrument_versie.trim();
        if let Some(w) = stop::ident::work_of(iv) {
            per_work.entry(w).or_default().insert(iv);
        }
    }
    for (w, versies) in &per_work {
        if versies.len() > 1 {
            let v: Vec<String> = versies.iter().map(|s| s.to_string()).collect();
            out.push(LVBB4802.melding(ci_loc(), &[("aantal", &v.len()), ("work", w), ("versies", &crate::regel::Opsomming(&v))]));
        }
    }
    for i in &ci.intrekkingen {
        if per_work.contains_key(i.instrument.trim()) {
            out.push(LVBB4804.melding(ci_loc(), &[("work", &i.instrument.trim())]));
        }
    }
    for (i, m) in ci.materieel_uitgewerkt.iter().enumerate() {
        let inst = m.instrument.trim();
        if WorkId::parse(inst).is_none() {
            let nodes = ci_nodes(doc, "MaterieelUitgewerkt");
            out.push(RB3305.melding(super::consolidatie::loc_child(b, nodes.get(i).copied(), "instrument"), &[("instrument", &inst)]));
        }
    }
}

pub(crate) fn levering(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    let bekendmaking = l.opdracht.datum_bekendmaking();
    // Doelen with versions anywhere in this package.
    let mut met_versies: BTreeSet<&str> = BTreeSet::new();
    for m in l.modules {
        if let Some(ci) = m.inhoud.consolidatie() {
            for r in ci.beoogde_regelingen.iter().chain(&ci.beoogde_informatieobjecten) {
                met_versies.extend(r.doelen.iter().map(|d| d.trim()));
            }
            for r in &ci.intrekkingen {
                met_versies.extend(r.doelen.iter().map(|d| d.trim()));
            }
        }
    }
    for m in l.modules {
        let Some(ci) = m.inhoud.consolidatie() else { continue };
        for t in &ci.tijdstempels {
            let doel = t.doel.trim();
            let loc = Locatie { bestand: Some(m.bestand.clone()), regel: Some(t.regel), ..Default::default() };
            if !doel.is_empty() && !met_versies.contains(doel) && !l.historie.doel_bekend(doel)? {
                out.push(LVBB7003.melding(loc.clone(), &[("soort", &t.soort.trim()), ("datum", &t.datum.trim()), ("doel", &doel)]));
            }
            if t.soort.trim() == "juridischWerkendVanaf"
                && let (Some(d), Some(b)) = (parse_date(&t.datum), bekendmaking)
                && d < b
            {
                out.push(RB3304.melding(loc, &[("datum", &d), ("doel", &doel), ("bekendmaking", &b)]));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::doel_geldig;

    #[test]
    fn doel_pattern() {
        assert!(doel_geldig("/join/id/proces/gm9901/2027/InstellingOmgevingsplan"));
        assert!(!doel_geldig("/join/id/regdata/gm9901/2027/X"));
        assert!(!doel_geldig("/join/id/proces/gm9901/27/X"));
        assert!(!doel_geldig("/join/id/proces/gm9901/2027/X.Y"));
        assert!(!doel_geldig("doel"));
    }
}
