//! (rules to come)

use crate::context::{HistorieFout, Levering};
use crate::regel::Regel;
use stop::Melding;
use stop::module::StopBestand;

pub static REGELS: &[&Regel] = &[];

pub(crate) fn bestand(_b: &StopBestand, _out: &mut Vec<Melding>) {}

pub(crate) fn levering(_l: &Levering<'_>, _out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    Ok(())
}
