//! The input of the engine: one exchange (*uitwisseling*) of consolidation information, in
//! a normalised form that both the STOP 1.3 shape (`gemaaktOp`, `gemaaktOpBasisVan`) and the
//! pipeline's derived ancestry map onto.
//!
//! Dates are `YYYY-MM-DD` strings and moments (`gemaaktOp`) are `YYYY-MM-DDTHH:MM:SSZ`
//! strings: both order correctly as strings, which is how STOP compares them.

use serde::{Deserialize, Serialize};
use stop::Melding;
use stop::module::ConsolidatieInformatie;

use crate::meldingen;

/// A reference to a momentopname of a branch: (doel, gemaaktOp).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verwijzing {
    pub doel: String,
    pub gemaakt_op: String,
}

/// What an instrument element says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstrumentSoort {
    /// BeoogdeRegeling / BeoogdInformatieobject: a (possibly unknown) new version.
    Beoogd,
    /// Intrekking: the instrument is repealed for the doel.
    Intrekking,
    /// TerugtrekkingRegeling / TerugtrekkingInformatieobject: the branch no longer changes it.
    Terugtrekking,
    /// TerugtrekkingIntrekking: the repeal is withdrawn.
    TerugtrekkingIntrekking,
}

/// One element about an instrument (regeling or informatieobject) for one or more doelen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrumentElement {
    pub soort: InstrumentSoort,
    /// Work id of the instrument.
    pub work: String,
    /// Expression id of the version (`Beoogd` only); `None` = explicitly unknown version.
    pub expressie: Option<String>,
    pub doelen: Vec<String>,
    /// Explicit `bekendOp` of the element (knowledge dated in the past).
    pub bekend_op: Option<String>,
    pub basisversies: Vec<Verwijzing>,
    pub vervlochten: Vec<Verwijzing>,
    pub ontvlochten: Vec<Verwijzing>,
    /// eId in the besluit, for meldingen.
    pub eid: Option<String>,
    /// Line in the source file, for meldingen (0 = unknown).
    pub regel: u32,
}

/// A tijdstempel or the withdrawal of one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TijdstempelElement {
    pub doel: String,
    /// `true` = geldigVanaf, `false` = juridischWerkendVanaf.
    pub geldig_vanaf: bool,
    /// The date; `None` for a TerugtrekkingTijdstempel.
    pub datum: Option<String>,
    pub bekend_op: Option<String>,
    pub regel: u32,
}

/// MaterieelUitgewerkt (with a date) or its withdrawal (without).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterieelUitgewerktElement {
    pub work: String,
    pub datum: Option<String>,
    pub regel: u32,
}

/// One exchange, processed as a whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uitwisseling {
    /// `gemaaktOp`: the moment the information was made; exchanges are processed in this order.
    pub gemaakt_op: String,
    /// Date the information was received (normally the date part of `gemaakt_op`).
    pub ontvangen_op: String,
    /// A revisie (no besluit): toestanden are computed the same way.
    #[serde(default)]
    pub revisie: bool,
    pub instrumenten: Vec<InstrumentElement>,
    pub tijdstempels: Vec<TijdstempelElement>,
    pub materieel_uitgewerkt: Vec<MaterieelUitgewerktElement>,
    /// Source file name, for meldingen.
    #[serde(default)]
    pub bestand: String,
}

impl Uitwisseling {
    /// The module's bekendOp: the maximum of the gemaaktOp date and every explicit bekendOp.
    pub fn module_bekend_op(&self) -> String {
        let mut b = self.gemaakt_op.get(..10).unwrap_or(&self.gemaakt_op).to_string();
        let explicit = self
            .instrumenten
            .iter()
            .filter_map(|e| e.bekend_op.as_deref())
            .chain(self.tijdstempels.iter().filter_map(|t| t.bekend_op.as_deref()));
        for e in explicit {
            if e > b.as_str() {
                b = e.to_string();
            }
        }
        b
    }

    /// Every doel the exchange names.
    pub fn doelen(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for d in self.instrumenten.iter().flat_map(|e| e.doelen.iter()).chain(self.tijdstempels.iter().map(|t| &t.doel))
        {
            if !out.contains(&d.as_str()) {
                out.push(d);
            }
        }
        out
    }

    /// Build an exchange from a parsed STOP `ConsolidatieInformatie` in the 1.3 shape (with
    /// `gemaaktOp` and `gemaaktOpBasisVan`). `ontvangen_op` defaults to the date of `gemaaktOp`.
    /// Syntax problems (missing gemaaktOp, malformed dates, doubled references) are meldingen.
    pub fn uit_consolidatie(
        ci: &ConsolidatieInformatie,
        bestand: &str,
        gemaakt_op: Option<&str>,
        ontvangen_op: Option<&str>,
    ) -> Result<Uitwisseling, Vec<Melding>> {
        let mut fouten = Vec::new();
        let gemaakt_op = match gemaakt_op.map(str::to_string).or_else(|| ci.gemaakt_op.clone()) {
            Some(g) if is_tijdstip(&g) => g,
            Some(g) => {
                fouten.push(meldingen::tijdstip(bestand, "gemaaktOp", &g));
                String::new()
            }
            None => {
                fouten.push(meldingen::ontbreekt(bestand, "gemaaktOp"));
                String::new()
            }
        };
        let ontvangen_op = ontvangen_op.map(str::to_string).unwrap_or_else(|| gemaakt_op.get(..10).unwrap_or("").to_string());
        let mut u = Uitwisseling {
            gemaakt_op,
            ontvangen_op,
            revisie: false,
            instrumenten: Vec::new(),
            tijdstempels: Vec::new(),
            materieel_uitgewerkt: Vec::new(),
            bestand: bestand.to_string(),
        };
        let refs = |bv: &[stop::module::Basisversie], soort: &str, fouten: &mut Vec<Melding>| -> Vec<Verwijzing> {
            let mut out: Vec<Verwijzing> = Vec::new();
            for b in bv.iter().filter(|b| b.soort == soort) {
                let (Some(doel), Some(g)) = (&b.doel, &b.gemaakt_op) else {
                    fouten.push(meldingen::ontbreekt(bestand, &format!("{soort}/doel of {soort}/gemaaktOp")));
                    continue;
                };
                if !is_tijdstip(g) {
                    fouten.push(meldingen::tijdstip(bestand, &format!("{soort}/gemaaktOp"), g));
                    continue;
                }
                if out.iter().any(|o| &o.doel == doel) {
                    fouten.push(meldingen::dubbel_doel(bestand, doel, soort));
                    continue;
                }
                out.push(Verwijzing { doel: doel.clone(), gemaakt_op: g.clone() });
            }
            out
        };
        let check_datum = |d: &Option<String>, naam: &str, fouten: &mut Vec<Melding>| -> Option<String> {
            match d {
                Some(d) if is_datum(d) => Some(d.clone()),
                Some(d) => {
                    fouten.push(meldingen::datum(bestand, naam, d));
                    None
                }
                None => None,
            }
        };
        for b in ci.beoogde_regelingen.iter().chain(&ci.beoogde_informatieobjecten) {
            let (work, expressie) = if !b.instrument_versie.is_empty() {
                (work_van(&b.instrument_versie), Some(b.instrument_versie.clone()))
            } else if let Some(w) = &b.instrument {
                (w.clone(), None)
            } else {
                fouten.push(meldingen::ontbreekt(bestand, "instrumentVersie of instrument"));
                continue;
            };
            u.instrumenten.push(InstrumentElement {
                soort: InstrumentSoort::Beoogd,
                work,
                expressie,
                doelen: b.doelen.clone(),
                bekend_op: check_datum(&b.bekend_op, "bekendOp", &mut fouten),
                basisversies: refs(&b.basisversies, "Basisversie", &mut fouten),
                vervlochten: refs(&b.basisversies, "VervlochtenVersie", &mut fouten),
                ontvlochten: refs(&b.basisversies, "OntvlochtenVersie", &mut fouten),
                eid: b.eid.clone(),
                regel: b.regel,
            });
        }
        for i in &ci.intrekkingen {
            u.instrumenten.push(InstrumentElement {
                soort: InstrumentSoort::Intrekking,
                work: i.instrument.clone(),
                expressie: None,
                doelen: i.doelen.clone(),
                bekend_op: check_datum(&i.bekend_op, "bekendOp", &mut fouten),
                basisversies: refs(&i.basisversies, "Basisversie", &mut fouten),
                vervlochten: Vec::new(),
                ontvlochten: Vec::new(),
                eid: i.eid.clone(),
                regel: i.regel,
            });
        }
        for t in &ci.tijdstempels {
            let geldig_vanaf = match t.soort.as_str() {
                "juridischWerkendVanaf" => false,
                "geldigVanaf" => true,
                other => {
                    fouten.push(meldingen::soort_tijdstempel(bestand, other));
                    continue;
                }
            };
            let datum = t.datum.get(..10).unwrap_or(&t.datum).to_string();
            if !is_datum(&datum) {
                fouten.push(meldingen::datum(bestand, "datum", &t.datum));
                continue;
            }
            u.tijdstempels.push(TijdstempelElement {
                doel: t.doel.clone(),
                geldig_vanaf,
                datum: Some(datum),
                bekend_op: check_datum(&t.bekend_op, "bekendOp", &mut fouten),
                regel: t.regel,
            });
        }
        for m in &ci.materieel_uitgewerkt {
            let datum = m.datum.as_ref().map(|d| d.get(..10).unwrap_or(d).to_string());
            if let Some(d) = &datum
                && !is_datum(d)
            {
                fouten.push(meldingen::datum(bestand, "datum", d));
                continue;
            }
            if datum.is_none() {
                fouten.push(meldingen::ontbreekt(bestand, "MaterieelUitgewerkt/datum"));
                continue;
            }
            u.materieel_uitgewerkt.push(MaterieelUitgewerktElement { work: m.instrument.clone(), datum, regel: m.regel });
        }
        for t in &ci.terugtrekkingen {
            let soort = match t.soort.as_str() {
                "TerugtrekkingRegeling" | "TerugtrekkingInformatieobject" => Some(InstrumentSoort::Terugtrekking),
                "TerugtrekkingIntrekking" => Some(InstrumentSoort::TerugtrekkingIntrekking),
                _ => None,
            };
            if let Some(soort) = soort {
                let Some(work) = t.instrument.clone() else {
                    fouten.push(meldingen::ontbreekt(bestand, &format!("{}/instrument", t.soort)));
                    continue;
                };
                u.instrumenten.push(InstrumentElement {
                    soort,
                    work,
                    expressie: None,
                    doelen: t.doelen.clone(),
                    bekend_op: check_datum(&t.bekend_op, "bekendOp", &mut fouten),
                    basisversies: refs(&t.basisversies, "Basisversie", &mut fouten),
                    vervlochten: Vec::new(),
                    ontvlochten: Vec::new(),
                    eid: t.eid.clone(),
                    regel: t.regel,
                });
                continue;
            }
            match t.soort.as_str() {
                "TerugtrekkingTijdstempel" => {
                    let geldig_vanaf = match t.soort_tijdstempel.as_deref() {
                        Some("juridischWerkendVanaf") => false,
                        Some("geldigVanaf") => true,
                        other => {
                            fouten.push(meldingen::soort_tijdstempel(bestand, other.unwrap_or("")));
                            continue;
                        }
                    };
                    for doel in &t.doelen {
                        u.tijdstempels.push(TijdstempelElement {
                            doel: doel.clone(),
                            geldig_vanaf,
                            datum: None,
                            bekend_op: check_datum(&t.bekend_op, "bekendOp", &mut fouten),
                            regel: t.regel,
                        });
                    }
                }
                "TerugtrekkingMaterieelUitgewerkt" => {
                    let Some(work) = t.instrument.clone() else {
                        fouten.push(meldingen::ontbreekt(bestand, "TerugtrekkingMaterieelUitgewerkt/instrument"));
                        continue;
                    };
                    u.materieel_uitgewerkt.push(MaterieelUitgewerktElement { work, datum: None, regel: t.regel });
                }
                _ => {}
            }
        }
        if fouten.is_empty() { Ok(u) } else { Err(fouten) }
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn is_tijdstip(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && is_datum(&s[..10])
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
        && [11, 12, 14, 15, 17, 18].iter().all(|&i| b[i].is_ascii_digit())
}

/// `YYYY-MM-DD` with a year from 1000.
pub fn is_datum(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && (b'1'..=b'9').contains(&b[0])
        && [1, 2, 3, 5, 6, 8, 9].iter().all(|&i| b[i].is_ascii_digit())
        && b[4] == b'-'
        && b[7] == b'-'
}

/// The work of an expression id: everything before the `/nld@` (AKN) or `@` (JOIN) part.
pub fn work_van(expressie: &str) -> String {
    match expressie.rfind('@') {
        Some(at) => {
            let head = &expressie[..at];
            match head.rfind('/') {
                Some(slash) if head[slash + 1..].len() == 3 => head[..slash].to_string(),
                _ => head.to_string(),
            }
        }
        None => expressie.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_of_expression() {
        assert_eq!(work_van("/akn/nl/act/gm9999/2022/REG_A/nld@2022;versie1"), "/akn/nl/act/gm9999/2022/REG_A");
        assert_eq!(work_van("/join/id/regdata/gm9920/2021/Gebied/nld@2021-08-25;1"), "/join/id/regdata/gm9920/2021/Gebied");
        assert_eq!(work_van("/akn/nl/act/x"), "/akn/nl/act/x");
    }

    #[test]
    fn formats() {
        assert!(is_tijdstip("2022-01-01T07:00:00Z"));
        assert!(!is_tijdstip("2022-01-01T07:00:00"));
        assert!(!is_tijdstip("2022-01-01"));
        assert!(is_datum("2022-01-01"));
        assert!(!is_datum("0022-01-01"));
        assert!(!is_datum("2022-1-01"));
    }
}
