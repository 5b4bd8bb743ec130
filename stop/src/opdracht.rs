//! `opdracht.xml`: the request of a delivery (LVBB bronhouderkoppelvlak 1.2 and 1.3).

use crate::melding::Melding;
use crate::ns;
use crate::xml::{Document, NodeId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub const BESTANDSNAAM: &str = "opdracht.xml";

/// The kind of request: the root element of `opdracht.xml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OpdrachtSoort {
    ValidatieOpdracht,
    PublicatieOpdracht,
    BreekPublicatieAfOpdracht,
    ValidatieRevisieOpdracht,
    RevisieOpdracht,
    ValidatieProcedureverloopmutatieOpdracht,
    ProcedureverloopmutatieOpdracht,
    ValidatieRegistratieOpdracht,
    RegistratieOpdracht,
    /// LVBB 1.2 only.
    ValidatieDirecteMutatieOpdracht,
    /// LVBB 1.2 only.
    DirecteMutatieOpdracht,
}

impl OpdrachtSoort {
    pub const ALL: [OpdrachtSoort; 11] = [
        OpdrachtSoort::ValidatieOpdracht,
        OpdrachtSoort::PublicatieOpdracht,
        OpdrachtSoort::BreekPublicatieAfOpdracht,
        OpdrachtSoort::ValidatieRevisieOpdracht,
        OpdrachtSoort::RevisieOpdracht,
        OpdrachtSoort::ValidatieProcedureverloopmutatieOpdracht,
        OpdrachtSoort::ProcedureverloopmutatieOpdracht,
        OpdrachtSoort::ValidatieRegistratieOpdracht,
        OpdrachtSoort::RegistratieOpdracht,
        OpdrachtSoort::ValidatieDirecteMutatieOpdracht,
        OpdrachtSoort::DirecteMutatieOpdracht,
    ];

    /// The element name, e.g. `publicatieOpdracht`.
    pub fn element(self) -> &'static str {
        match self {
            OpdrachtSoort::ValidatieOpdracht => "validatieOpdracht",
            OpdrachtSoort::PublicatieOpdracht => "publicatieOpdracht",
            OpdrachtSoort::BreekPublicatieAfOpdracht => "breekPublicatieAfOpdracht",
            OpdrachtSoort::ValidatieRevisieOpdracht => "validatieRevisieOpdracht",
            OpdrachtSoort::RevisieOpdracht => "revisieOpdracht",
            OpdrachtSoort::ValidatieProcedureverloopmutatieOpdracht => {
                "validatieProcedureverloopmutatieOpdracht"
            }
            OpdrachtSoort::ProcedureverloopmutatieOpdracht => "procedureverloopmutatieOpdracht",
            OpdrachtSoort::ValidatieRegistratieOpdracht => "validatieRegistratieOpdracht",
            OpdrachtSoort::RegistratieOpdracht => "registratieOpdracht",
            OpdrachtSoort::ValidatieDirecteMutatieOpdracht => "validatieDirecteMutatieOpdracht",
            OpdrachtSoort::DirecteMutatieOpdracht => "directeMutatieOpdracht",
        }
    }

    pub fn from_element(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.element() == name)
    }

    /// A validation-only request: checked and reported, nothing stored.
    pub fn is_validatie(self) -> bool {
        matches!(
            self,
            OpdrachtSoort::ValidatieOpdracht
                | OpdrachtSoort::ValidatieRevisieOpdracht
                | OpdrachtSoort::ValidatieProcedureverloopmutatieOpdracht
                | OpdrachtSoort::ValidatieRegistratieOpdracht
                | OpdrachtSoort::ValidatieDirecteMutatieOpdracht
        )
    }

    /// The element naming the main file of the request, if the request has one.
    pub fn hoofdbestand_element(self) -> Option<&'static str> {
        match self {
            OpdrachtSoort::ValidatieOpdracht | OpdrachtSoort::PublicatieOpdracht => Some("publicatie"),
            OpdrachtSoort::ValidatieRevisieOpdracht | OpdrachtSoort::RevisieOpdracht => Some("revisie"),
            OpdrachtSoort::ValidatieProcedureverloopmutatieOpdracht
            | OpdrachtSoort::ProcedureverloopmutatieOpdracht => Some("procedureverloopmutatie"),
            OpdrachtSoort::ValidatieRegistratieOpdracht | OpdrachtSoort::RegistratieOpdracht => {
                Some("registratie")
            }
            OpdrachtSoort::ValidatieDirecteMutatieOpdracht | OpdrachtSoort::DirecteMutatieOpdracht => {
                Some("directeMutatie")
            }
            OpdrachtSoort::BreekPublicatieAfOpdracht => None,
        }
    }

    /// Whether `datumBekendmaking` belongs to this request.
    pub fn heeft_datum_bekendmaking(self) -> bool {
        matches!(self, OpdrachtSoort::ValidatieOpdracht | OpdrachtSoort::PublicatieOpdracht)
    }
}

impl std::fmt::Display for OpdrachtSoort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.element())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftwareVersie {
    pub leverancier: Option<String>,
    pub product: Option<String>,
    pub versie: Option<String>,
}

/// A parsed `opdracht.xml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opdracht {
    pub soort: OpdrachtSoort,
    pub id_levering: String,
    pub id_bevoegd_gezag: String,
    pub id_aanleveraar: String,
    pub software_versie: Option<SoftwareVersie>,
    /// File name of the main file (`publicatie`, `revisie`, `procedureverloopmutatie`,
    /// `registratie`, `directeMutatie`).
    pub hoofdbestand: Option<String>,
    /// `verantwoording` file of a registratie.
    pub verantwoording: Option<String>,
    /// As written; see [`Opdracht::datum_bekendmaking`].
    pub datum_bekendmaking_tekst: Option<String>,
    pub verwerkingsrestrictie: Option<String>,
    /// `identificatie` of a breekPublicatieAfOpdracht.
    pub identificatie: Option<String>,
    /// Where each field element is in opdracht.xml.
    #[serde(skip)]
    pub posities: std::collections::BTreeMap<String, crate::Locatie>,
    /// Where the root element is.
    #[serde(skip)]
    pub root_locatie: crate::Locatie,
}

impl Opdracht {
    /// The location of a field element (e.g. `datumBekendmaking`), or of the root element when
    /// the field is absent.
    pub fn locatie(&self, veld: &str) -> crate::Locatie {
        self.posities.get(veld).cloned().unwrap_or_else(|| self.root_locatie.clone())
    }

    pub fn datum_bekendmaking(&self) -> Option<NaiveDate> {
        self.datum_bekendmaking_tekst.as_deref().and_then(parse_date)
    }
}

/// Parse an ISO date `YYYY-MM-DD` strictly.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Parse `opdracht.xml`. Structural problems are meldingen: `Err` when the request cannot be
/// understood at all, otherwise `Ok` with the non-blocking or field-level meldingen.
pub fn parse_opdracht(bytes: Vec<u8>) -> Result<(Opdracht, Vec<Melding>), Vec<Melding>> {
    let doc = Document::parse(bytes).map_err(|e| {
        vec![crate::xml_error_melding("LVBB1006", BESTANDSNAAM, &e)]
    })?;
    let root = doc.root().expect("parsed document has a root");
    let loc = |n: NodeId| crate::locatie(&doc, BESTANDSNAAM, n);
    if doc.ns(root) != ns::LVBB {
        return Err(vec![
            Melding::fout_technisch(
                "LVBB1006",
                format!(
                    "opdracht.xml voldoet niet aan het schema: het documentelement '{}' heeft namespace '{}', verwacht '{}'.",
                    doc.name(root),
                    doc.ns(root),
                    ns::LVBB
                ),
            )
            .at(loc(root)),
        ]);
    }
    let Some(soort) = OpdrachtSoort::from_element(doc.name(root)) else {
        return Err(vec![
            Melding::fout_technisch(
                "LVBB1006",
                format!(
                    "opdracht.xml voldoet niet aan het schema: '{}' is geen bekende opdracht. Gebruik bijvoorbeeld publicatieOpdracht, validatieOpdracht of breekPublicatieAfOpdracht.",
                    doc.name(root)
                ),
            )
            .at(loc(root)),
        ]);
    };

    let mut meldingen = Vec::new();
    let mut fields: std::collections::BTreeMap<&str, (String, NodeId)> = Default::default();
    let mut software = None;
    let allowed: &[&str] = &[
        "idLevering",
        "idBevoegdGezag",
        "idAanleveraar",
        "softwareVersie",
        "publicatie",
        "datumBekendmaking",
        "verwerkingsrestrictie",
        "identificatie",
        "revisie",
        "procedureverloopmutatie",
        "registratie",
        "verantwoording",
        "directeMutatie",
    ];
    for c in doc.elements(root) {
        let name = doc.name(c);
        if doc.ns(c) != ns::LVBB || !allowed.contains(&name) {
            meldingen.push(crate::onbekend_element(&doc, BESTANDSNAAM, c));
            continue;
        }
        if name == "softwareVersie" {
            let get = |n: &str| doc.child(c, ns::LVBB, n).and_then(|x| doc.trimmed_text(x));
            software = Some(SoftwareVersie {
                leverancier: get("leverancier"),
                product: get("product"),
                versie: get("versie"),
            });
            continue;
        }
        if fields.contains_key(name) {
            meldingen.push(
                Melding::fout_technisch(
                    "LVBB1006",
                    format!("opdracht.xml voldoet niet aan het schema: element '{name}' komt meer dan één keer voor."),
                )
                .at(loc(c)),
            );
            continue;
        }
        fields.insert(name, (doc.text(c).trim().to_string(), c));
    }
    let posities: std::collections::BTreeMap<String, crate::Locatie> =
        fields.iter().map(|(k, (_, n))| (k.to_string(), loc(*n))).collect();
    let root_locatie = loc(root);
    let mut take = |name: &str| fields.remove(name).map(|(v, _)| v);

    let missing = |code: &str, name: &str| {
        Melding::fout_technisch(
            code,
            format!("De opdracht bevat geen {name}. Voeg het element {name} toe aan opdracht.xml."),
        )
        .at(loc(root))
    };
    let id_levering = take("idLevering");
    let id_bevoegd_gezag = take("idBevoegdGezag");
    let id_aanleveraar = take("idAanleveraar");
    if id_levering.is_none() {
        meldingen.push(missing("LVBB1006", "idLevering"));
    }
    if id_bevoegd_gezag.is_none() {
        meldingen.push(missing("LVBB1510", "idBevoegdGezag"));
    }
    if id_aanleveraar.is_none() {
        meldingen.push(missing("LVBB1511", "idAanleveraar"));
    }
    let hoofdbestand = soort.hoofdbestand_element().and_then(&mut take);
    if hoofdbestand.is_none()
        && soort.hoofdbestand_element().is_some()
        && !matches!(
            soort,
            OpdrachtSoort::DirecteMutatieOpdracht | OpdrachtSoort::ValidatieDirecteMutatieOpdracht
        )
    {
        meldingen.push(missing("LVBB1006", soort.hoofdbestand_element().unwrap_or("publicatie")));
    }
    let datum = take("datumBekendmaking");
    if soort.heeft_datum_bekendmaking() {
        match &datum {
            None => meldingen.push(missing("LVBB1505", "datumBekendmaking")),
            Some(d) if parse_date(d).is_none() => meldingen.push(
                Melding::fout_technisch(
                    "LVBB1501",
                    format!("datumBekendmaking '{d}' is geen geldige datum in de vorm JJJJ-MM-DD."),
                )
                .at(loc(root)),
            ),
            Some(_) => {}
        }
    }
    let identificatie = take("identificatie");
    if soort == OpdrachtSoort::BreekPublicatieAfOpdracht && identificatie.is_none() {
        meldingen.push(missing("LVBB1006", "identificatie"));
    }
    let opdracht = Opdracht {
        soort,
        id_levering: id_levering.unwrap_or_default(),
        id_bevoegd_gezag: id_bevoegd_gezag.unwrap_or_default(),
        id_aanleveraar: id_aanleveraar.unwrap_or_default(),
        software_versie: software,
        hoofdbestand,
        verantwoording: take("verantwoording"),
        datum_bekendmaking_tekst: datum,
        verwerkingsrestrictie: take("verwerkingsrestrictie"),
        identificatie,
        posities,
        root_locatie,
    };
    // Elements that exist in the schema but not for this kind of request.
    for (name, (_, node)) in fields {
        meldingen.push(
            Melding::fout_technisch(
                "LVBB1006",
                format!(
                    "opdracht.xml voldoet niet aan het schema: element '{name}' hoort niet bij een {}.",
                    soort.element()
                ),
            )
            .at(loc(node)),
        );
    }
    if opdracht.id_levering.is_empty() || opdracht.id_bevoegd_gezag.is_empty() || opdracht.id_aanleveraar.is_empty()
    {
        return Err(meldingen);
    }
    Ok((opdracht, meldingen))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<(Opdracht, Vec<Melding>), Vec<Melding>> {
        parse_opdracht(s.as_bytes().to_vec())
    }

    #[test]
    fn publicatie_opdracht() {
        let (o, m) = parse(
            r#"<publicatieOpdracht xmlns="http://www.overheid.nl/2017/lvbb">
              <idLevering>abc_1</idLevering><idBevoegdGezag>00000001002564440000</idBevoegdGezag>
              <idAanleveraar>00000003560458830000</idAanleveraar><publicatie>b.xml</publicatie>
              <datumBekendmaking>2021-12-09</datumBekendmaking></publicatieOpdracht>"#,
        )
        .unwrap();
        assert!(m.is_empty(), "{m:?}");
        assert_eq!(o.soort, OpdrachtSoort::PublicatieOpdracht);
        assert_eq!(o.hoofdbestand.as_deref(), Some("b.xml"));
        assert_eq!(o.datum_bekendmaking(), NaiveDate::from_ymd_opt(2021, 12, 9));
    }

    #[test]
    fn every_request_kind_is_recognised() {
        for s in OpdrachtSoort::ALL {
            let main = s
                .hoofdbestand_element()
                .map(|e| format!("<{e}>x.xml</{e}>"))
                .unwrap_or_else(|| "<identificatie>/akn/nl/bill/gm1/2021/a</identificatie>".into());
            let datum = if s.heeft_datum_bekendmaking() {
                "<datumBekendmaking>2030-01-02</datumBekendmaking>"
            } else {
                ""
            };
            let xml = format!(
                r#"<{e} xmlns="http://www.overheid.nl/2017/lvbb"><idLevering>a1</idLevering><idBevoegdGezag>00000001002564440000</idBevoegdGezag><idAanleveraar>00000001002564440000</idAanleveraar>{main}{datum}</{e}>"#,
                e = s.element()
            );
            let (o, m) = parse(&xml).unwrap();
            assert_eq!(o.soort, s);
            assert!(m.is_empty(), "{s}: {m:?}");
        }
    }

    #[test]
    fn missing_fields_give_their_codes() {
        let err = parse(r#"<publicatieOpdracht xmlns="http://www.overheid.nl/2017/lvbb"><idLevering>a1</idLevering></publicatieOpdracht>"#)
            .unwrap_err();
        let codes: Vec<_> = err.iter().map(|m| m.code.as_str()).collect();
        assert!(codes.contains(&"LVBB1510"), "{codes:?}");
        assert!(codes.contains(&"LVBB1511"));
        assert!(codes.contains(&"LVBB1505"));
        let (_, m) = parse(r#"<publicatieOpdracht xmlns="http://www.overheid.nl/2017/lvbb"><idLevering>a1</idLevering><idBevoegdGezag>1</idBevoegdGezag><idAanleveraar>2</idAanleveraar><publicatie>p.xml</publicatie><datumBekendmaking>2021-13-40</datumBekendmaking><extra/></publicatieOpdracht>"#).unwrap();
        let mut codes: Vec<_> = m.iter().map(|m| m.code.as_str()).collect();
        codes.sort();
        assert_eq!(codes, ["LVBB1501", "RB2003"]);
        assert!(m.iter().all(|m| m.locatie.regel == Some(1)));
    }

    #[test]
    fn wrong_namespace_or_root_is_refused() {
        assert_eq!(parse("<publicatieOpdracht/>").unwrap_err()[0].code, "LVBB1006");
        assert_eq!(
            parse(r#"<iets xmlns="http://www.overheid.nl/2017/lvbb"/>"#).unwrap_err()[0].code,
            "LVBB1006"
        );
        assert_eq!(parse("<a>").unwrap_err()[0].code, "LVBB1006");
    }
}
