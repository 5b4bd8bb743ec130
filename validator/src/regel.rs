//! A rule: its code, ernst, soort, Dutch message template, and where in the pipeline it runs.

use std::fmt::{self, Display, Write as _};
use stop::{Ernst, Locatie, Melding, Soort};

/// What part of a delivery a rule is about (the sections of `docs/rules.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Groep {
    /// The zip or directory: names, sizes, manifest.
    Pakket,
    /// `opdracht.xml` and the request as a whole.
    Opdracht,
    /// Well-formedness and structure of the XML files.
    Xml,
    /// AKN/JOIN identifiers, soortWork, roles.
    Identificatie,
    /// Besluit text ↔ ConsolidatieInformatie ↔ RegelingVersieInformatie.
    Consolidatie,
    /// Doelen and tijdstempels.
    Doelen,
    /// Regeling mutations (was/wordt, wId targets).
    Mutatie,
    /// Informatieobjecten and GIOs.
    Informatieobject,
    /// Kennisgevingen and procedureverloop.
    Kennisgeving,
    /// The XSD layer.
    Schema,
}

impl Groep {
    pub const ALLE: [Groep; 10] = [
        Groep::Pakket,
        Groep::Opdracht,
        Groep::Xml,
        Groep::Identificatie,
        Groep::Consolidatie,
        Groep::Doelen,
        Groep::Mutatie,
        Groep::Informatieobject,
        Groep::Kennisgeving,
        Groep::Schema,
    ];

    pub fn titel(self) -> &'static str {
        match self {
            Groep::Pakket => "Package (zip or directory) and manifest",
            Groep::Opdracht => "Opdracht",
            Groep::Xml => "XML structure",
            Groep::Identificatie => "Identifiers (AKN/JOIN), soortWork and roles",
            Groep::Consolidatie => "Besluit ↔ ConsolidatieInformatie ↔ RegelingVersieInformatie",
            Groep::Doelen => "Doelen and tijdstempels",
            Groep::Mutatie => "Mutations",
            Groep::Informatieobject => "Informatieobjecten",
            Groep::Kennisgeving => "Kennisgeving and procedureverloop",
            Groep::Schema => "XSD layer",
        }
    }
}

/// Where in the pipeline a rule is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fase {
    /// While reading the package (`ingest::package`), before any XML is parsed.
    Pakket,
    /// While parsing a file into the STOP model (`stop`).
    Parser,
    /// Per STOP file, with its XML tree (`validator`, [`crate::valideer_bestand`]).
    Bestand,
    /// Over the whole package and the store's history (`validator`, [`crate::valideer_levering`]).
    Levering,
    /// Against the XML schemas (`validator::xsd`).
    Schema,
    /// At upload, against the aanleveraar's credentials (the HTTP server), before processing.
    Toegang,
}

impl Fase {
    pub fn as_str(self) -> &'static str {
        match self {
            Fase::Pakket => "pakket",
            Fase::Parser => "parser",
            Fase::Bestand => "bestand",
            Fase::Levering => "levering",
            Fase::Schema => "schema",
            Fase::Toegang => "toegang",
        }
    }
}

/// One rule of the catalogue. Every melding regelbank emits comes from a rule in
/// [`crate::catalogus`]; a test keeps the two in step.
#[derive(Debug)]
pub struct Regel {
    /// `LVBB1506`, `BHKV1009`, `STOP1001`, or our own `RB…`.
    pub code: &'static str,
    pub ernst: Ernst,
    pub soort: Soort,
    pub groep: Groep,
    pub fase: Fase,
    /// One line, English, for `docs/rules.md`.
    pub titel: &'static str,
    /// The Dutch message, with `{name}` placeholders filled from the check's values.
    pub sjabloon: &'static str,
    /// Where the rule comes from: `LVBB`, `BHKV`, `STOP` (the official code, same rule) or
    /// `regelbank` (our own).
    pub herkomst: &'static str,
}

impl Regel {
    /// A melding of this rule at `locatie`, its template filled with `args`.
    pub fn melding(&'static self, locatie: Locatie, args: &[(&str, &dyn Display)]) -> Melding {
        Melding {
            code: self.code.to_string(),
            ernst: self.ernst,
            soort: self.soort,
            beschrijving: vul(self.sjabloon, args),
            locatie,
        }
    }

    /// The same with another ernst (rules whose severity depends on context, e.g. a STOP 1.4
    /// construct that the LVBB's release A''' refuses).
    pub fn melding_met_ernst(
        &'static self,
        ernst: Ernst,
        locatie: Locatie,
        args: &[(&str, &dyn Display)],
    ) -> Melding {
        let mut m = self.melding(locatie, args);
        m.ernst = ernst;
        m
    }

    /// Placeholder names used in the template, in order of first use.
    pub fn plaatshouders(&self) -> Vec<&'static str> {
        plaatshouders(self.sjabloon)
    }
}

/// Fill `{name}` placeholders. `{{` and `}}` are literal braces. An unknown placeholder is kept
/// as written so a missing value is visible (and caught by the catalogue tests).
pub fn vul(sjabloon: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(sjabloon.len() + 32);
    let mut rest = sjabloon;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        let after = &rest[i + 1..];
        if after.as_bytes().first() == Some(&c) {
            out.push(c as char);
            rest = &after[1..];
            continue;
        }
        if c == b'{'
            && let Some(j) = after.find('}')
        {
            let name = &after[..j];
            match args.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => {
                    let _ = write!(out, "{v}");
                }
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            }
            rest = &after[j + 1..];
            continue;
        }
        out.push(c as char);
        rest = after;
    }
    out.push_str(rest);
    out
}

fn plaatshouders(sjabloon: &'static str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut rest = sjabloon;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        if after.starts_with('{') {
            rest = &after[1..];
            continue;
        }
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                if !out.contains(&name) {
                    out.push(name);
                }
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

/// A list of values for a message, e.g. "a, b en c".
pub struct Opsomming<'a>(pub &'a [String]);

impl Display for Opsomming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(if i + 1 == self.0.len() { " en " } else { ", " })?;
            }
            f.write_str(v)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders_and_keeps_unknown_ones() {
        let s = vul("Het bestand '{bestand}' mist ({n}x); {onbekend} {{letterlijk}}", &[
            ("bestand", &"a.xml"),
            ("n", &3),
        ]);
        assert_eq!(s, "Het bestand 'a.xml' mist (3x); {onbekend} {letterlijk}");
    }

    #[test]
    fn lists_placeholders() {
        assert_eq!(plaatshouders("{a} en {b} en {a} {{c}}"), vec!["a", "b"]);
    }

    #[test]
    fn opsomming() {
        let v = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        assert_eq!(Opsomming(&v).to_string(), "a, b en c");
        assert_eq!(Opsomming(&v[..1]).to_string(), "a");
    }
}
