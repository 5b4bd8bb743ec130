//! Reading delivery packages and running them through the processing pipeline.
//!
//! `package` opens a zip or directory safely and checks manifest integrity; `pipeline` parses
//! the opdracht and the STOP files, runs the package- and parse-level checks and commits an
//! accepted delivery to the store in one transaction.
pub mod consolidatie;
pub mod historie;
pub mod package;
pub mod procedure;
pub mod tam;
pub mod tijdreis;
pub mod pipeline;
pub mod weergave;
pub mod zoek;

pub use pipeline::{ingest, validate, Config, IngestError, IngestResult, Report, Uitkomst};
