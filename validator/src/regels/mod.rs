//! The rules, by group. Each module declares its rules (`REGELS`) and the checks that emit
//! them: `bestand` (per STOP file, with its XML tree) and/or `levering` (the package and the
//! store's history). Rules of the `pakket` and `parser` phases are emitted by `ingest::package`
//! and `stop`; they are declared here so the catalogue is complete.

use crate::context::{HistorieFout, Levering};
use crate::regel::Regel;
use stop::Melding;
use stop::module::StopBestand;

/// Declare a rule as a `pub static` named after its code.
macro_rules! regel {
    ($code:ident, $ernst:ident, $soort:ident, $groep:ident, $fase:ident, $herkomst:literal, $titel:literal, $sjabloon:literal $(,)?) => {
        pub static $code: $crate::regel::Regel = $crate::regel::Regel {
            code: stringify!($code),
            ernst: stop::Ernst::$ernst,
            soort: stop::Soort::$soort,
            groep: $crate::regel::Groep::$groep,
            fase: $crate::regel::Fase::$fase,
            titel: $titel,
            sjabloon: $sjabloon,
            herkomst: $herkomst,
        };
    };
}

pub mod consolidatie;
pub mod doelen;
pub mod identificatie;
pub mod informatieobject;
pub mod kennisgeving;
pub mod mutatie;
pub mod opdracht;
pub mod pakket;
pub mod schema;
pub mod tekst;
pub mod xml;

static ENGINE: &[&Regel] = &[&RB3008];

/// Every group's rules.
pub static ALLE: &[&[&Regel]] = &[
    ENGINE,
    pakket::REGELS,
    xml::REGELS,
    opdracht::REGELS,
    identificatie::REGELS,
    consolidatie::REGELS,
    doelen::REGELS,
    mutatie::REGELS,
    tekst::REGELS,
    informatieobject::REGELS,
    kennisgeving::REGELS,
    schema::REGELS,
];

pub(crate) fn bestand(b: &StopBestand, out: &mut Vec<Melding>) {
    identificatie::bestand(b, out);
    consolidatie::bestand(b, out);
    doelen::bestand(b, out);
    mutatie::bestand(b, out);
    informatieobject::bestand(b, out);
    kennisgeving::bestand(b, out);
}

regel!(RB3008, Informatie, Technisch, Opdracht, Levering, "regelbank", "Without a store, rules that need earlier deliveries are not run (and say so)",
    "Er is geen opslag met eerdere leveringen gebruikt; de controles {codes} zijn daarom niet uitgevoerd. Valideer met --data om ze mee te nemen.");

/// Rules that fire on the *absence* of something delivered earlier. Without any history they
/// would fire on every package, so they are held back and [`RB3008`] says which were skipped.
pub static ALLEEN_MET_HISTORIE: &[&str] = &[
    "LVBB1551", "LVBB3504", "LVBB3510", "LVBB3513", "LVBB4015", "LVBB4040", "LVBB4702", "LVBB4705", "LVBB7003",
];

pub(crate) fn levering(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    let start = out.len();
    levering_regels(l, out)?;
    if !l.historie.beschikbaar() {
        let mut overgeslagen: Vec<String> = Vec::new();
        let mut i = start;
        while i < out.len() {
            if ALLEEN_MET_HISTORIE.contains(&out[i].code.as_str()) {
                let m = out.remove(i);
                if !overgeslagen.contains(&m.code) {
                    overgeslagen.push(m.code);
                }
            } else {
                i += 1;
            }
        }
        if !overgeslagen.is_empty() {
            overgeslagen.sort();
            out.push(RB3008.melding(stop::Locatie::bestand("opdracht.xml"), &[("codes", &crate::regel::Opsomming(&overgeslagen))]));
        }
    }
    Ok(())
}

fn levering_regels(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    opdracht::levering(l, out)?;
    identificatie::levering(l, out)?;
    consolidatie::levering(l, out)?;
    doelen::levering(l, out)?;
    mutatie::levering(l, out)?;
    informatieobject::levering(l, out)?;
    kennisgeving::levering(l, out)?;
    Ok(())
}
