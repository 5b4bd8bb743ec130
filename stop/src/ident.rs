//! AKN and JOIN identifiers of works and expressions.
//!
//! Work: `/akn/nl/act/gm9920/2021/Reg1`, `/join/id/regdata/gm9920/2021/Gebied`.
//! Expression: `<work>/<taal>@<datum of jaar>[;<versie>]`, e.g. `/akn/nl/act/gm9920/2021/Reg1/nld@2021-09-04;2`.
//! The pattern checks with their codes are in the validator; this module splits identifiers.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schema {
    Akn,
    Join,
}

/// A work identifier split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorkId {
    pub schema: Schema,
    /// AKN: the country (`nl`); JOIN: `id` or `set`.
    pub land_of_id: String,
    /// AKN: `bill`, `act`, `doc`, `officialGazette`; JOIN: `regdata`, `pubdata`, `infodata`, `proces`, `stop`.
    pub soort: String,
    /// The bevoegd gezag code (`gm9920`, `pv26`, `mnre1034`) or, for officialGazette, the series.
    pub maker: String,
    /// Year or date.
    pub datum: String,
    /// The local identifier (may contain further `/` parts for officialGazette).
    pub overig: String,
}

impl WorkId {
    pub fn parse(s: &str) -> Option<WorkId> {
        let rest = s.strip_prefix('/')?;
        let mut parts = rest.split('/');
        let schema = match parts.next()? {
            "akn" => Schema::Akn,
            "join" => Schema::Join,
            _ => return None,
        };
        let land_of_id = parts.next()?.to_string();
        let soort = parts.next()?.to_string();
        let maker = parts.next()?.to_string();
        let datum = parts.next()?.to_string();
        let overig: Vec<&str> = parts.collect();
        if overig.is_empty() || overig.iter().any(|p| p.is_empty() || p.contains('@')) {
            return None;
        }
        if [&land_of_id, &soort, &maker, &datum].iter().any(|p| p.is_empty()) {
            return None;
        }
        Some(WorkId { schema, land_of_id, soort, maker, datum, overig: overig.join("/") })
    }
}

/// An expression identifier: a work plus language, date and optional version suffix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExpressionId {
    pub work: String,
    pub taal: String,
    pub datum: String,
    pub versie: Option<String>,
}

impl ExpressionId {
    pub fn parse(s: &str) -> Option<ExpressionId> {
        let at = s.rfind('@')?;
        let slash = s[..at].rfind('/')?;
        let work = &s[..slash];
        let taal = &s[slash + 1..at];
        let rest = &s[at + 1..];
        let (datum, versie) = match rest.split_once(';') {
            Some((d, v)) => (d, Some(v.to_string())),
            None => (rest, None),
        };
        if taal.is_empty() || datum.is_empty() || WorkId::parse(work).is_none() {
            return None;
        }
        Some(ExpressionId { work: work.to_string(), taal: taal.to_string(), datum: datum.to_string(), versie })
    }
}

/// The work of an expression identifier (the part before `/<taal>@`), or `None` when it is not
/// an expression identifier.
pub fn work_of(expression: &str) -> Option<&str> {
    let at = expression.rfind('@')?;
    let slash = expression[..at].rfind('/')?;
    Some(&expression[..slash])
}

/// The bevoegd gezag code in a work or expression identifier (`gm9920` in `/akn/nl/act/gm9920/...`).
pub fn maker_code(id: &str) -> Option<&str> {
    let mut parts = id.strip_prefix('/')?.split('/');
    parts.next()?;
    parts.next()?;
    parts.next()?;
    parts.next().filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_akn_and_join() {
        let w = WorkId::parse("/akn/nl/act/gm9920/2021/TestReeksNummer1").unwrap();
        assert_eq!((w.schema, w.soort.as_str(), w.maker.as_str()), (Schema::Akn, "act", "gm9920"));
        let e = ExpressionId::parse("/join/id/regdata/gm9920/2021/Testeiland/nld@2021-08-25;1").unwrap();
        assert_eq!(e.work, "/join/id/regdata/gm9920/2021/Testeiland");
        assert_eq!((e.taal.as_str(), e.datum.as_str(), e.versie.as_deref()), ("nld", "2021-08-25", Some("1")));
        assert_eq!(work_of("/akn/nl/act/gm9920/2021/Reg1/nld@1"), Some("/akn/nl/act/gm9920/2021/Reg1"));
        assert_eq!(maker_code("/akn/nl/bill/pv26/2020/x"), Some("pv26"));
    }

    #[test]
    fn rejects_malformed() {
        for s in ["", "akn/nl/act/a/2021/x", "/urn/nl/act/a/2021/x", "/akn/nl/act/a/2021", "/akn/nl//a/2021/x"] {
            assert!(WorkId::parse(s).is_none(), "{s}");
        }
        assert!(ExpressionId::parse("/akn/nl/act/gm1/2021/x").is_none());
        assert!(ExpressionId::parse("/akn/nl/act/gm1/2021/x/@2021").is_none());
    }
}
