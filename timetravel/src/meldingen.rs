//! The coded meldingen of versiebeheer (RB50xx), in Dutch as shown to bevoegde gezagen.
//! Every `fout` rejects the whole exchange; `waarschuwing`s leave it accepted.

use stop::{Ernst, Locatie, Melding, Soort};

/// Catalogue of the codes this crate emits: (code, ernst, English title).
pub const CODES: &[(&str, Ernst, &str)] = &[
    ("RB5001", Ernst::Fout, "gemaaktOp is not a UTC moment"),
    ("RB5002", Ernst::Fout, "a date is not YYYY-MM-DD"),
    ("RB5003", Ernst::Fout, "a required part of the consolidation information is missing"),
    ("RB5004", Ernst::Fout, "a doel occurs twice among the references of one element"),
    ("RB5005", Ernst::Fout, "unknown soortTijdstempel"),
    ("RB5010", Ernst::Fout, "withdrawal for an unknown instrument"),
    ("RB5011", Ernst::Fout, "two elements for the same instrument, doel and gemaaktOp"),
    ("RB5012", Ernst::Fout, "bekendOp earlier than that of the branch's previous momentopname"),
    ("RB5013", Ernst::Fout, "a new version on an existing branch must name the branch's last momentopname as basisversie"),
    ("RB5014", Ernst::Fout, "a second set of initial doelen (no basisversie) for an instrument"),
    ("RB5015", Ernst::Fout, "the first version of a branch names a basisversie of its own doel"),
    ("RB5016", Ernst::Fout, "withdrawal for a doel that has no branch for the instrument"),
    ("RB5017", Ernst::Fout, "an unknown version cannot start a new branch"),
    ("RB5018", Ernst::Fout, "a version cannot be withdrawn: the instrument is repealed for the doel"),
    ("RB5019", Ernst::Fout, "a repeal cannot be withdrawn: the instrument is not repealed for the doel"),
    ("RB5020", Ernst::Fout, "reference to a doel that has no branch for the instrument"),
    ("RB5021", Ernst::Fout, "a doel is referenced twice, or not later than its basisversie"),
    ("RB5022", Ernst::Fout, "reference to an unknown or future momentopname"),
    ("RB5023", Ernst::Fout, "a withdrawn branch used as basisversie or vervlochten versie"),
    ("RB5024", Ernst::Fout, "circular references between momentopnamen"),
    ("RB5025", Ernst::Fout, "ontvlechting of a doel that is not part of the version, or already later processed"),
    ("RB5026", Ernst::Fout, "vervlechting of a doel that is already processed up to a later moment"),
    ("RB5027", Ernst::Fout, "a doel is both vervlochten and ontvlochten in the basisversies"),
    ("RB5030", Ernst::Fout, "tijdstempel for a doel not used for any instrument"),
    ("RB5031", Ernst::Fout, "withdrawal of a tijdstempel for an unknown doel"),
    ("RB5032", Ernst::Fout, "tijdstempel known earlier than the doel's previous tijdstempels"),
    ("RB5033", Ernst::Fout, "geldigVanaf later than juridischWerkendVanaf"),
    ("RB5034", Ernst::Fout, "MaterieelUitgewerkt for an unknown instrument"),
    ("RB5040", Ernst::Waarschuwing, "the change or repeal is already withdrawn"),
    ("RB5041", Ernst::Waarschuwing, "the instrument is already repealed for the doel"),
    ("RB5042", Ernst::Waarschuwing, "withdrawal of a tijdstempel that has no value"),
    ("RB5043", Ernst::Waarschuwing, "MaterieelUitgewerkt does not change anything"),
];

pub(crate) fn fout(code: &str, bestand: &str, tekst: String) -> Melding {
    Melding::new(code, Ernst::Fout, Soort::Inhoudelijk, tekst).at(loc(bestand))
}

pub(crate) fn waarschuwing(code: &str, bestand: &str, tekst: String) -> Melding {
    Melding::new(code, Ernst::Waarschuwing, Soort::Inhoudelijk, tekst).at(loc(bestand))
}

fn loc(bestand: &str) -> Locatie {
    if bestand.is_empty() { Locatie::default() } else { Locatie::bestand(bestand) }
}

pub(crate) fn tijdstip(bestand: &str, naam: &str, waarde: &str) -> Melding {
    Melding::new(
        "RB5001",
        Ernst::Fout,
        Soort::Technisch,
        format!("{naam} moet een UTC-tijdstip zijn (JJJJ-MM-DDTuu:mm:ssZ) in plaats van '{waarde}'. Vul het tijdstip in UTC in."),
    )
    .at(loc(bestand))
}

pub(crate) fn datum(bestand: &str, naam: &str, waarde: &str) -> Melding {
    Melding::new(
        "RB5002",
        Ernst::Fout,
        Soort::Technisch,
        format!("{naam} moet een datum zonder tijd zijn (JJJJ-MM-DD) in plaats van '{waarde}'."),
    )
    .at(loc(bestand))
}

pub(crate) fn ontbreekt(bestand: &str, naam: &str) -> Melding {
    Melding::new(
        "RB5003",
        Ernst::Fout,
        Soort::Technisch,
        format!("{naam} ontbreekt in de ConsolidatieInformatie. Vul het ontbrekende gegeven aan."),
    )
    .at(loc(bestand))
}

pub(crate) fn dubbel_doel(bestand: &str, doel: &str, collectie: &str) -> Melding {
    Melding::new(
        "RB5004",
        Ernst::Fout,
        Soort::Technisch,
        format!("Doel {doel} komt meerdere keren voor in {collectie}. Noem elk doel één keer."),
    )
    .at(loc(bestand))
}

pub(crate) fn soort_tijdstempel(bestand: &str, soort: &str) -> Melding {
    Melding::new(
        "RB5005",
        Ernst::Fout,
        Soort::Technisch,
        format!("Onbekende soortTijdstempel '{soort}'; gebruik juridischWerkendVanaf of geldigVanaf."),
    )
    .at(loc(bestand))
}
