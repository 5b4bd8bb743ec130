//! Informatieobjecten (GIOs and other IOs): files, hashes, identifiers, references.

use crate::context::{HistorieFout, Levering};
use crate::regel::Regel;
use stop::module::{Inhoud, StopBestand};
use stop::{Locatie, Melding};

regel!(LVBB3008, Fout, Inhoudelijk, Informatieobject, Levering, "LVBB", "The hash of a GIO file is the SHA-512 of the delivered file",
    "De hash van '{bestand}' klopt niet: in {io} staat {opgegeven}, maar de SHA-512 van het bestand is {berekend}. Bereken de hash opnieuw over het aangeleverde bestand.");
regel!(LVBB3506, Fout, Inhoudelijk, Informatieobject, Levering, "LVBB", "The file of an informatieobject is in the package",
    "Het bestand '{bestand}' van informatieobject {io} zit niet in de levering. Voeg het bestand toe.");

pub static REGELS: &[&Regel] = &[&LVBB3008, &LVBB3506];

pub(crate) fn bestand(_b: &StopBestand, _out: &mut Vec<Melding>) {}

pub(crate) fn levering(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
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
