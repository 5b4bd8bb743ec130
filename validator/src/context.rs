//! What rules see: the package as parsed, and the store's history through [`Historie`].

use chrono::NaiveDate;
use std::collections::BTreeSet;
use stop::manifest::Manifest;
use stop::module::{Inhoud, ModuleSoort};
use stop::opdracht::Opdracht;

use crate::feiten::Mutatie;

/// A failure to read history (the store), not a finding about the delivery.
pub type HistorieFout = Box<dyn std::error::Error + Send + Sync>;

/// An earlier delivery with the same (aanleveraar, idLevering).
#[derive(Debug, Clone)]
pub struct EerdereLevering {
    pub seq: u64,
    pub ontvangen: String,
    pub package_hash: String,
    pub uitkomst: String,
}

/// A work the store knows.
#[derive(Debug, Clone)]
pub struct WorkFeit {
    pub work: String,
    /// "besluit", "regeling", "informatieobject", "kennisgeving", ...
    pub kind: String,
    pub soort_work: Option<String>,
    /// OIN of the bevoegd gezag that first delivered it.
    pub eigenaar: Option<String>,
    pub expressions: Vec<String>,
    pub afgebroken: bool,
}

/// An expression the store knows.
#[derive(Debug, Clone)]
pub struct ExpressieFeit {
    pub expression: String,
    pub work: String,
    pub kind: String,
    pub ontwerp: bool,
    pub datum_bekendmaking: Option<NaiveDate>,
    pub afgebroken: bool,
}

/// The store as rules see it. Every method answers for accepted deliveries only; a rejected
/// delivery kept for audit changes nothing here (except idLevering use).
pub trait Historie {
    fn levering(&self, aanleveraar: &str, id_levering: &str) -> Result<Option<EerdereLevering>, HistorieFout>;
    fn work(&self, work: &str) -> Result<Option<WorkFeit>, HistorieFout>;
    fn expressie(&self, expression: &str) -> Result<Option<ExpressieFeit>, HistorieFout>;
    /// The wIds of a regeling expression, when the store knows them.
    fn wids(&self, expression: &str) -> Result<Option<BTreeSet<String>>, HistorieFout>;
    /// True when an accepted delivery used this doel.
    fn doel_bekend(&self, doel: &str) -> Result<bool, HistorieFout>;
    /// False when there is no store at all (validation of a package on its own): rules that
    /// report the *absence* of something earlier delivered cannot judge then.
    fn beschikbaar(&self) -> bool {
        true
    }
}

/// No history: validation without a store. Rules that need history do not fire.
pub struct GeenHistorie;

impl Historie for GeenHistorie {
    fn levering(&self, _: &str, _: &str) -> Result<Option<EerdereLevering>, HistorieFout> {
        Ok(None)
    }
    fn work(&self, _: &str) -> Result<Option<WorkFeit>, HistorieFout> {
        Ok(None)
    }
    fn expressie(&self, _: &str) -> Result<Option<ExpressieFeit>, HistorieFout> {
        Ok(None)
    }
    fn wids(&self, _: &str) -> Result<Option<BTreeSet<String>>, HistorieFout> {
        Ok(None)
    }
    fn doel_bekend(&self, _: &str) -> Result<bool, HistorieFout> {
        Ok(false)
    }
    fn beschikbaar(&self) -> bool {
        false
    }
}

/// A file of the package as read (every file, XML or not).
#[derive(Debug, Clone)]
pub struct BestandInfo {
    pub naam: String,
    pub grootte: u64,
    /// SHA-512 (hex) of the bytes, for `.gml` files.
    pub sha512: Option<String>,
}

/// A parsed STOP file, its XML tree dropped, plus the facts extracted while it was alive.
#[derive(Debug, Clone)]
pub struct Module {
    pub bestand: String,
    pub soort: ModuleSoort,
    pub schemaversie: Option<String>,
    pub inhoud: Inhoud,
    /// Regeling mutations in the text, with their actions.
    pub mutaties: Vec<Mutatie>,
    /// Every wId per initial regeling (`wordt`) in the text.
    pub regeling_wids: Vec<(String, BTreeSet<String>)>,
}

/// Everything package-level rules see.
pub struct Levering<'a> {
    pub opdracht: &'a Opdracht,
    pub manifest: Option<&'a Manifest>,
    pub bestanden: &'a [BestandInfo],
    pub modules: &'a [Module],
    /// The clock for date rules.
    pub vandaag: NaiveDate,
    pub historie: &'a dyn Historie,
    /// The package hash (hex), when computed: a package identical to an earlier delivery with
    /// the same idLevering is a repeat, not an LVBB1012.
    pub package_hash: Option<&'a str>,
}

impl Levering<'_> {
    pub fn bevat(&self, naam: &str) -> bool {
        self.bestanden.iter().any(|b| b.naam == naam)
    }

    pub fn module(&self, naam: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.bestand == naam)
    }

    /// The main file (`publicatie`, `revisie`, ...) when present and parsed.
    pub fn hoofdmodule(&self) -> Option<&Module> {
        self.opdracht.hoofdbestand.as_deref().and_then(|f| self.module(f))
    }
}
