//! The STOP model: identifiers, meldingen, the XML tree, opdracht/manifest and STOP modules.
//!
//! Architecture invariant: this crate does no I/O. It takes bytes and returns values and
//! meldingen.
pub mod melding;
pub mod manifest;

pub use melding::{Ernst, Locatie, Melding, Soort};
