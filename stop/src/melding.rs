//! Meldingen: the coded findings of every check, in the LVBB shape (code, ernst, soort,
//! beschrijving) plus a precise location, which the real LVBB lacks.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Severity of a melding, as in the LVBB/STOP `ernst` value list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ernst {
    /// Blocking: the delivery is rejected.
    Fout,
    Waarschuwing,
    Ontraden,
    Informatie,
}

impl Ernst {
    pub fn as_str(self) -> &'static str {
        match self {
            Ernst::Fout => "fout",
            Ernst::Waarschuwing => "waarschuwing",
            Ernst::Ontraden => "ontraden",
            Ernst::Informatie => "informatie",
        }
    }
}

/// Kind of a melding: about the form of the delivery or about its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Soort {
    Technisch,
    Inhoudelijk,
}

impl Soort {
    pub fn as_str(self) -> &'static str {
        match self {
            Soort::Technisch => "technisch",
            Soort::Inhoudelijk => "inhoudelijk",
        }
    }
}

/// Where in a delivery a melding applies. Every field is optional: a package-level melding
/// (for example "not a zip") has no file, a manifest melding has a file but no eId.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Locatie {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bestand: Option<String>,
    /// 1-based line.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub regel: Option<u32>,
    /// 1-based column, in characters.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kolom: Option<u32>,
    /// Element path such as `/AanleveringBesluit/BesluitVersie/ExpressionIdentificatie`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pad: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub eid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub wid: Option<String>,
}

impl Locatie {
    pub fn bestand(name: impl Into<String>) -> Self {
        Locatie { bestand: Some(name.into()), ..Default::default() }
    }

    pub fn is_empty(&self) -> bool {
        *self == Locatie::default()
    }
}

impl fmt::Display for Locatie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            Ok(())
        };
        if let Some(b) = &self.bestand {
            sep(f)?;
            f.write_str(b)?;
            if let Some(r) = self.regel {
                write!(f, ":{r}")?;
                if let Some(k) = self.kolom {
                    write!(f, ":{k}")?;
                }
            }
        }
        if let Some(p) = &self.pad {
            sep(f)?;
            f.write_str(p)?;
        }
        if let Some(e) = &self.eid {
            sep(f)?;
            write!(f, "eId={e}")?;
        }
        if let Some(w) = &self.wid {
            sep(f)?;
            write!(f, "wId={w}")?;
        }
        Ok(())
    }
}

/// One coded finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Melding {
    /// `LVBB1009`, `STOP1026`, or our own `RB…` code.
    pub code: String,
    pub ernst: Ernst,
    pub soort: Soort,
    /// Dutch text with the concrete values filled in.
    pub beschrijving: String,
    #[serde(default, skip_serializing_if = "Locatie::is_empty")]
    pub locatie: Locatie,
}

impl Melding {
    pub fn new(code: &str, ernst: Ernst, soort: Soort, beschrijving: impl Into<String>) -> Self {
        Melding {
            code: code.to_string(),
            ernst,
            soort,
            beschrijving: beschrijving.into(),
            locatie: Locatie::default(),
        }
    }

    /// A blocking technical melding (the common case for package and parse checks).
    pub fn fout_technisch(code: &str, beschrijving: impl Into<String>) -> Self {
        Self::new(code, Ernst::Fout, Soort::Technisch, beschrijving)
    }

    pub fn fout_inhoudelijk(code: &str, beschrijving: impl Into<String>) -> Self {
        Self::new(code, Ernst::Fout, Soort::Inhoudelijk, beschrijving)
    }

    pub fn at(mut self, locatie: Locatie) -> Self {
        self.locatie = locatie;
        self
    }

    pub fn in_bestand(mut self, bestand: impl Into<String>) -> Self {
        self.locatie.bestand = Some(bestand.into());
        self
    }

    pub fn is_fout(&self) -> bool {
        self.ernst == Ernst::Fout
    }
}

impl fmt::Display for Melding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.code, self.ernst.as_str(), self.soort.as_str())?;
        if !self.locatie.is_empty() {
            write!(f, " [{}]", self.locatie)?;
        }
        write!(f, ": {}", self.beschrijving)
    }
}

/// Sort meldingen by file, then position, then code: the order of every report.
pub fn sort_meldingen(meldingen: &mut [Melding]) {
    meldingen.sort_by(|a, b| {
        (&a.locatie.bestand, a.locatie.regel, a.locatie.kolom, &a.code)
            .cmp(&(&b.locatie.bestand, b.locatie.regel, b.locatie.kolom, &b.code))
    });
}

/// True when any melding blocks the delivery.
pub fn has_fout(meldingen: &[Melding]) -> bool {
    meldingen.iter().any(Melding::is_fout)
}
