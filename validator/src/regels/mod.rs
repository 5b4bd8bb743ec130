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
pub mod xml;

/// Every group's rules.
pub static ALLE: &[&[&Regel]] = &[
    pakket::REGELS,
    xml::REGELS,
    opdracht::REGELS,
    identificatie::REGELS,
    consolidatie::REGELS,
    doelen::REGELS,
    mutatie::REGELS,
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

pub(crate) fn levering(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    opdracht::levering(l, out)?;
    identificatie::levering(l, out)?;
    consolidatie::levering(l, out)?;
    doelen::levering(l, out)?;
    mutatie::levering(l, out)?;
    informatieobject::levering(l, out)?;
    kennisgeving::levering(l, out)?;
    Ok(())
}
