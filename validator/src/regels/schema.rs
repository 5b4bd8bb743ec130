//! Rules of the XSD layer (emitted by `validator::xsd`).

use crate::regel::Regel;

pub static REGELS: &[&Regel] = &[];
