//! The opdracht: identity of the delivery, dates, the main file, afbreken preconditions.

use super::xml::LVBB1515;
use crate::context::{HistorieFout, Levering};
use crate::feestdagen::geen_werkdag;
use crate::regel::Regel;
use stop::Melding;
use stop::module::ModuleSoort;
use stop::opdracht::OpdrachtSoort;

regel!(LVBB1506, Fout, Technisch, Opdracht, Levering, "LVBB", "The file named in the opdracht (publicatie, revisie, ...) is in the package",
    "Het bestand '{bestand}' dat in opdracht.xml als {element} is genoemd, zit niet in de levering. Voeg het bestand toe of corrigeer de naam.");
regel!(BHKV9998, Fout, Technisch, Opdracht, Levering, "BHKV", "idLevering 'onbekend' is not allowed",
    "idLevering 'onbekend' is niet toegestaan. Geef een uniek idLevering op.");
regel!(LVBB1012, Fout, Technisch, Opdracht, Levering, "LVBB", "The combination of aanleveraar OIN and idLevering is unique",
    "De combinatie van aanleveraar {oin} en idLevering '{id}' is al gebruikt (levering {seq}, ontvangen {ontvangen}) voor een ander pakket. Kies een nieuw idLevering.");
regel!(RB3001, Fout, Technisch, Opdracht, Levering, "regelbank", "idLevering matches the transport schema pattern [0-9A-z][0-9A-z_-]+",
    "idLevering '{id}' bevat ongeldige tekens of is te kort: gebruik minstens twee tekens uit letters, cijfers, '_' en '-', te beginnen met een letter of cijfer.");
regel!(RB3002, Fout, Technisch, Opdracht, Levering, "regelbank", "idLevering is at most 80 characters",
    "idLevering is {lengte} tekens lang; het maximum is 80. Kies een korter idLevering.");
regel!(RB3003, Fout, Technisch, Opdracht, Levering, "regelbank", "idBevoegdGezag and idAanleveraar are OINs of exactly 20 digits",
    "{veld} '{waarde}' is geen OIN: een OIN bestaat uit precies 20 cijfers.");
regel!(LVBB1501, Fout, Inhoudelijk, Opdracht, Levering, "LVBB", "datumBekendmaking lies in the future",
    "datumBekendmaking {datum} ligt niet in de toekomst (vandaag is {vandaag}). Kies een datum na vandaag.");
regel!(LVBB1519, Waarschuwing, Inhoudelijk, Opdracht, Levering, "LVBB", "datumBekendmaking is a working day (no weekend, no feestdag of the Algemene termijnenwet); a waarschuwing here, a fout in the LVBB (the LVBB's own test deliveries use weekend dates)",
    "datumBekendmaking {datum} is {reden}; bekendmaken kan alleen op een werkdag. Kies een werkdag.");
regel!(RB3004, Fout, Technisch, Opdracht, Levering, "regelbank", "verwerkingsrestrictie has the only allowed value 'Bekendmaken'",
    "verwerkingsrestrictie '{waarde}' is onbekend; de enige toegestane waarde is 'Bekendmaken'.");
regel!(RB3005, Fout, Technisch, Opdracht, Levering, "regelbank", "The main file of the opdracht is of the kind the opdracht needs",
    "Het bestand '{bestand}' is een {soort}; een {opdracht} verwacht {verwacht}.");
regel!(LVBB1502, Fout, Inhoudelijk, Opdracht, Levering, "LVBB", "The publication to cancel is identified by an AKN bill (besluit) or doc (kennisgeving) work or expression",
    "De identificatie '{id}' in de afbreekopdracht is geen AKN-identificatie van een besluit (/akn/nl/bill/...) of kennisgeving (/akn/nl/doc/...).");
regel!(LVBB1551, Fout, Inhoudelijk, Opdracht, Levering, "LVBB", "The publication to cancel exists",
    "De publicatie '{id}' die afgebroken moet worden, is niet bekend. Controleer de identificatie.");
regel!(RB3006, Fout, Inhoudelijk, Opdracht, Levering, "regelbank", "The publication to cancel is not already cancelled",
    "De publicatie '{id}' is al afgebroken.");
regel!(LVBB1553, Fout, Inhoudelijk, Opdracht, Levering, "LVBB", "A publication can only be cancelled before its datumBekendmaking",
    "De publicatie {id} is al bekendgemaakt op {datum}; afbreken kan alleen vóór de datum van bekendmaking.");
regel!(RB3007, Waarschuwing, Inhoudelijk, Opdracht, Levering, "regelbank", "An afbreekopdracht on behalf of another bevoegd gezag than the publication's is reported",
    "De publicatie '{id}' is aangeleverd namens bevoegd gezag {eigenaar}; deze afbreekopdracht is namens {bg}.");
regel!(LVBB1512, Fout, Technisch, Opdracht, Toegang, "LVBB", "The aanleveraar is the one the upload is authenticated as and holds a mandate for idBevoegdGezag (checked by the HTTP server at upload; answered with 403)",
    "Aanleveraar {aanleveraar} is niet gemachtigd voor deze levering: {reden}.");

pub static REGELS: &[&Regel] = &[
    &LVBB1506, &BHKV9998, &LVBB1012, &RB3001, &RB3002, &RB3003, &LVBB1501, &LVBB1519, &RB3004, &RB3005,
    &LVBB1502, &LVBB1551, &RB3006, &LVBB1553, &RB3007, &LVBB1512,
];

fn id_levering_geldig(s: &str) -> bool {
    // The schema's `[0-9A-z]` range also admits [ \ ] ^ _ and the backtick.
    let ok = |c: char, first: bool| {
        c.is_ascii_digit() || ('A'..='z').contains(&c) || (!first && c == '-')
    };
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if ok(c, true) => {}
        _ => return false,
    }
    s.chars().count() >= 2 && chars.all(|c| ok(c, false))
}

pub(crate) fn levering(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    let o = l.opdracht;
    if let Some(f) = &o.hoofdbestand
        && !l.bevat(f)
    {
        let el = o.soort.hoofdbestand_element().unwrap_or("publicatie");
        out.push(LVBB1506.melding(o.locatie(el), &[("bestand", f), ("element", &el)]));
    }
    let id = &o.id_levering;
    if !id.is_empty() {
        if id.eq_ignore_ascii_case("onbekend") {
            out.push(BHKV9998.melding(o.locatie("idLevering"), &[]));
        }
        if !id_levering_geldig(id) {
            out.push(RB3001.melding(o.locatie("idLevering"), &[("id", id)]));
        }
        let n = id.chars().count();
        if n > 80 {
            out.push(RB3002.melding(o.locatie("idLevering"), &[("lengte", &n)]));
        }
        if let Some(e) = l.historie.levering(&o.id_aanleveraar, id)?
            && l.package_hash.is_none_or(|h| h != e.package_hash)
        {
            out.push(LVBB1012.melding(o.locatie("idLevering"), &[
                ("oin", &o.id_aanleveraar),
                ("id", id),
                ("seq", &e.seq),
                ("ontvangen", &e.ontvangen),
            ]));
        }
    }
    for (veld, waarde) in [("idBevoegdGezag", &o.id_bevoegd_gezag), ("idAanleveraar", &o.id_aanleveraar)] {
        if !waarde.is_empty() && !(waarde.len() == 20 && waarde.bytes().all(|b| b.is_ascii_digit())) {
            out.push(RB3003.melding(o.locatie(veld), &[("veld", &veld), ("waarde", waarde)]));
        }
    }
    if o.soort.heeft_datum_bekendmaking()
        && let Some(d) = o.datum_bekendmaking()
    {
        if d <= l.vandaag {
            out.push(LVBB1501.melding(o.locatie("datumBekendmaking"), &[("datum", &d), ("vandaag", &l.vandaag)]));
        }
        if let Some(reden) = geen_werkdag(d) {
            out.push(LVBB1519.melding(o.locatie("datumBekendmaking"), &[("datum", &d), ("reden", &reden)]));
        }
    }
    if let Some(r) = &o.verwerkingsrestrictie
        && r != "Bekendmaken"
    {
        out.push(RB3004.melding(o.locatie("verwerkingsrestrictie"), &[("waarde", r)]));
    }
    hoofdbestand_soort(l, out);
    if o.soort == OpdrachtSoort::BreekPublicatieAfOpdracht {
        afbreken(l, out)?;
    }
    Ok(())
}

fn hoofdbestand_soort(l: &Levering<'_>, out: &mut Vec<Melding>) {
    let o = l.opdracht;
    let Some(m) = l.hoofdmodule() else { return };
    use OpdrachtSoort::*;
    let (ok, verwacht) = match o.soort {
        ValidatieOpdracht | PublicatieOpdracht => (
            m.soort.is_publicatie(),
            "een AanleveringBesluit, -Kennisgeving, -Rectificatie of -Mededeling",
        ),
        ValidatieRevisieOpdracht | RevisieOpdracht => (m.soort == ModuleSoort::AanleveringRevisie, "een AanleveringRevisie"),
        ValidatieProcedureverloopmutatieOpdracht | ProcedureverloopmutatieOpdracht => (
            m.soort == ModuleSoort::AanleveringProcedureverloopmutatie,
            "een AanleveringProcedureverloopmutatie",
        ),
        _ => (true, ""),
    };
    if !ok {
        let soort = format!("{:?}", m.soort);
        out.push(RB3005.melding(
            stop::Locatie::bestand(m.bestand.clone()),
            &[("bestand", &m.bestand), ("soort", &soort), ("opdracht", &o.soort.element()), ("verwacht", &verwacht)],
        ));
    }
    // Keep LVBB1515 reachable from here for unsupported kinds of main file (GIO as publicatie).
    if !ok && matches!(m.soort, ModuleSoort::GeoInformatieObject | ModuleSoort::Overig) {
        out.push(LVBB1515.melding(stop::Locatie::bestand(m.bestand.clone()), &[
            ("bestand", &m.bestand),
            ("versie", &m.schemaversie.as_deref().unwrap_or("-")),
        ]));
    }
}

fn afbreken(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    let o = l.opdracht;
    let Some(id) = o.identificatie.as_deref() else { return Ok(()) };
    let loc = o.locatie("identificatie");
    let rol_ok = stop::ident::WorkId::parse(stop::ident::work_of(id).unwrap_or(id))
        .is_some_and(|w| w.soort == "bill" || w.soort == "doc");
    if !rol_ok {
        out.push(LVBB1502.melding(loc.clone(), &[("id", &id)]));
    }
    let h = l.historie;
    let mut doelen = Vec::new();
    if let Some(w) = h.work(id)? {
        for e in &w.expressions {
            if let Some(x) = h.expressie(e)? {
                doelen.push(x);
            }
        }
    } else if let Some(x) = h.expressie(id)? {
        doelen.push(x);
    }
    doelen.retain(|e| e.kind != "regeling" && e.kind != "informatieobject");
    if doelen.is_empty() {
        out.push(LVBB1551.melding(loc, &[("id", &id)]));
        return Ok(());
    }
    if doelen.iter().all(|e| e.afgebroken) {
        out.push(RB3006.melding(loc.clone(), &[("id", &id)]));
    }
    for e in &doelen {
        if let Some(d) = e.datum_bekendmaking
            && d <= l.vandaag
        {
            out.push(LVBB1553.melding(loc.clone(), &[("id", &e.expression), ("datum", &d)]));
        }
    }
    if let Some(w) = h.work(stop::ident::work_of(id).unwrap_or(id))?
        && let Some(eigenaar) = &w.eigenaar
        && !o.id_bevoegd_gezag.is_empty()
        && eigenaar != &o.id_bevoegd_gezag
    {
        out.push(RB3007.melding(loc, &[("id", &id), ("eigenaar", eigenaar), ("bg", &o.id_bevoegd_gezag)]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::id_levering_geldig;

    #[test]
    fn id_levering_pattern() {
        assert!(id_levering_geldig("gm9901-2027-001"));
        assert!(id_levering_geldig("A_b"));
        assert!(!id_levering_geldig("a"));
        assert!(!id_levering_geldig("-ab"));
        assert!(!id_levering_geldig("ab cd"));
        assert!(!id_levering_geldig("ab.cd"));
        assert!(!id_levering_geldig("abé"));
    }
}
