//! The LVBB response XML for a processed package: `validatieVerzoekResultaat`,
//! `publicatieVerzoekResultaat`, … with a `verslag` (idLevering, tijdstipVerslag, meldingen,
//! uitkomst) in namespace `http://www.overheid.nl/2017/lvbb`, and the meldingen as
//! `stop:melding` (`http://www.overheid.nl/2017/stop`). The output validates against
//! `lvbb-transport.xsd` of LVBB 1.3.0-ic (which imports `stop_toevoeging.xsd`); a test checks
//! it with the XSD layer and with xmllint.
//!
//! Decisions, where the schema leaves room or forces a choice:
//!
//! - **Root element** per opdracht kind ([`resultaat_element`]). The directe mutatie
//!   opdrachten of LVBB 1.2 have no result element in 1.3.0-ic; they, and a package whose
//!   opdracht could not be read (`None`), get `validatieVerzoekResultaat`.
//! - **Top-level `uitkomst`** (`succes` | `mislukt`: was the request handled): `succes`
//!   whenever the opdracht was read (content rejections are reported in the verslag, as the
//!   LVBB does); `mislukt` when it was not (`opdracht` is `None`). The verslag is always
//!   present (1.3.0-ic requires it for every kind except breekPublicatieAf).
//! - **Verslag `uitkomst`/`voortgang`**: our uitkomst mapped onto each root's enumeration
//!   ([`verslag_uitkomst`]): e.g. `afgebroken` → `ok` and `niet-valide` → `behandeling-mislukt`
//!   for breekPublicatieAf; `valide` for a publicatie, revisie, procedureverloopmutatie or
//!   registratie (validated, not carried out) → `<voortgang>validatie-voltooid</voortgang>`.
//! - **Location**: the LVBB melding has no location field. The location goes into
//!   `stop:categorie` in the text form of [`stop::Locatie`] (`besluit.xml:12:5
//!   /pad eId=… wId=…`), and, machine-readable, into `stop:metadata` as one
//!   `stop:uitspraak` per field with `property` = `bestand`, `regel`, `kolom`, `pad`, `eId`,
//!   `wId`. `stop:beschrijving` is our Dutch text unchanged.
//! - **At least one melding**: the schema requires one (`meldingen` and `melding` have
//!   minOccurs 1). Without findings the verslag carries RB4004 (informatie, "Geen
//!   bevindingen").
//! - **idLevering** must match `[0-9A-z][0-9A-z_-]+` (at most 80): any other value (empty
//!   when the opdracht was unreadable) is written as `onbekend`.
//! - **Escaping**: `&`, `<`, `>`, `"` and CR are escaped; characters XML 1.0 does not allow
//!   (control characters, U+FFFE, U+FFFF) become U+FFFD.

use std::fmt::Write as _;

use stop::opdracht::OpdrachtSoort;
use stop::{Locatie, Melding};

use crate::regels::schema::RB4004;

/// Namespace of the response and its elements.
pub const LVBB_NS: &str = "http://www.overheid.nl/2017/lvbb";
/// Namespace of the melding fields.
pub const STOP_NS: &str = "http://www.overheid.nl/2017/stop";

/// The response's root element for an opdracht kind.
pub fn resultaat_element(opdracht: Option<OpdrachtSoort>) -> &'static str {
    use OpdrachtSoort::*;
    match opdracht {
        Some(PublicatieOpdracht) => "publicatieVerzoekResultaat",
        Some(BreekPublicatieAfOpdracht) => "breekPublicatieAfVerzoekResultaat",
        Some(ValidatieRevisieOpdracht) => "validatieRevisieVerzoekResultaat",
        Some(RevisieOpdracht) => "revisieVerzoekResultaat",
        Some(ValidatieProcedureverloopmutatieOpdracht) => {
            "validatieProcedureverloopmutatieVerzoekResultaat"
        }
        Some(ProcedureverloopmutatieOpdracht) => "procedureverloopmutatieVerzoekResultaat",
        Some(ValidatieRegistratieOpdracht) => "validatieRegistratieVerzoekResultaat",
        Some(RegistratieOpdracht) => "registratieVerzoekResultaat",
        Some(ValidatieOpdracht | ValidatieDirecteMutatieOpdracht | DirecteMutatieOpdracht)
        | None => "validatieVerzoekResultaat",
    }
}

/// Our uitkomst strings (`ingest::Uitkomst::as_str`) that mean "accepted".
fn geaccepteerd(uitkomst: &str) -> bool {
    matches!(
        uitkomst,
        "valide" | "gepubliceerd" | "afgebroken" | "mutatie-voltooid" | "registratie-voltooid"
    )
}

/// The verslag's closing element for our `uitkomst` under `root`: (`uitkomst` or `voortgang`,
/// value from that root's enumeration in lvbb-transport.xsd 1.3.0-ic). Unknown uitkomst
/// strings count as not accepted.
pub fn verslag_uitkomst(root: &str, uitkomst: &str) -> (&'static str, &'static str) {
    const U: &str = "uitkomst";
    const V: &str = "voortgang";
    if uitkomst == "behandeling-afgebroken" && root != "breekPublicatieAfVerzoekResultaat" {
        return (U, "behandeling-afgebroken");
    }
    let ok = geaccepteerd(uitkomst);
    match root {
        "breekPublicatieAfVerzoekResultaat" => (U, if ok { "ok" } else { "behandeling-mislukt" }),
        "publicatieVerzoekResultaat" => match uitkomst {
            _ if !ok => (U, "niet-valide"),
            "valide" => (V, "validatie-voltooid"),
            "registratie-voltooid" => (V, "registratie-voltooid"),
            _ => (U, "gepubliceerd"),
        },
        "revisieVerzoekResultaat" | "procedureverloopmutatieVerzoekResultaat" => match uitkomst {
            _ if !ok => (U, "niet-valide"),
            "valide" => (V, "validatie-voltooid"),
            _ => (U, "mutatie-voltooid"),
        },
        "registratieVerzoekResultaat" => match uitkomst {
            _ if !ok => (U, "niet-valide"),
            "valide" => (V, "validatie-voltooid"),
            _ => (U, "registratie-voltooid"),
        },
        // validatie…VerzoekResultaat: valide | niet-valide | behandeling-afgebroken
        _ => (U, if ok { "valide" } else { "niet-valide" }),
    }
}

/// An `xs:dateTime` for `tijdstipVerslag`, in UTC with seconds: `2027-03-01T12:00:00Z`.
pub fn tijdstip(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn id_levering_geldig(id: &str) -> bool {
    let ok = |c: char| c.is_ascii_digit() || ('A'..='z').contains(&c);
    let mut cs = id.chars();
    cs.next().is_some_and(ok)
        && id.chars().count() >= 2
        && id.chars().count() <= 80
        && cs.all(|c| ok(c) || c == '-')
}

/// Render the LVBB response for a processed package. `tijdstip` is the `tijdstipVerslag`, an
/// `xs:dateTime` (see [`tijdstip`]); `uitkomst` is our outcome string (`valide`,
/// `niet-valide`, `gepubliceerd`, `afgebroken`, `mutatie-voltooid`, `registratie-voltooid`).
pub fn verzoek_resultaat(
    opdracht: Option<OpdrachtSoort>,
    id_levering: &str,
    tijdstip: &str,
    uitkomst: &str,
    meldingen: &[Melding],
) -> String {
    let root = resultaat_element(opdracht);
    let (slot, waarde) = verslag_uitkomst(root, uitkomst);
    let id = if id_levering_geldig(id_levering) {
        id_levering
    } else {
        "onbekend"
    };
    let mut s = String::with_capacity(1024 + meldingen.len() * 512);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(s, "<{root} xmlns=\"{LVBB_NS}\" xmlns:stop=\"{STOP_NS}\">");
    let _ = writeln!(
        s,
        "   <uitkomst>{}</uitkomst>",
        if opdracht.is_some() {
            "succes"
        } else {
            "mislukt"
        }
    );
    s.push_str("   <verslag>\n");
    element(&mut s, 6, "idLevering", id);
    element(&mut s, 6, "tijdstipVerslag", tijdstip.trim());
    s.push_str("      <meldingen>\n");
    let geen;
    let meldingen = if meldingen.is_empty() {
        geen = [RB4004.melding(Locatie::default(), &[])];
        &geen[..]
    } else {
        meldingen
    };
    for m in meldingen {
        melding(&mut s, m);
    }
    s.push_str("      </meldingen>\n");
    element(&mut s, 6, slot, waarde);
    s.push_str("   </verslag>\n");
    let _ = writeln!(s, "</{root}>");
    s
}

fn melding(s: &mut String, m: &Melding) {
    s.push_str("         <melding>\n");
    element(s, 12, "stop:code", &m.code);
    element(s, 12, "stop:ernst", m.ernst.as_str());
    element(s, 12, "stop:soort", m.soort.as_str());
    let l = &m.locatie;
    if !l.is_empty() {
        element(s, 12, "stop:categorie", &l.to_string());
    }
    element(s, 12, "stop:beschrijving", &m.beschrijving);
    if !l.is_empty() {
        s.push_str("            <stop:metadata>\n");
        let regel = l.regel.map(|r| r.to_string());
        let kolom = l.kolom.map(|k| k.to_string());
        for (property, waarde) in [
            ("bestand", l.bestand.as_deref()),
            ("regel", regel.as_deref()),
            ("kolom", kolom.as_deref()),
            ("pad", l.pad.as_deref()),
            ("eId", l.eid.as_deref()),
            ("wId", l.wid.as_deref()),
        ] {
            if let Some(w) = waarde {
                let _ = write!(s, "               <stop:uitspraak property=\"{property}\">");
                escape(s, w);
                s.push_str("</stop:uitspraak>\n");
            }
        }
        s.push_str("            </stop:metadata>\n");
    }
    s.push_str("         </melding>\n");
}

fn element(s: &mut String, inspringen: usize, naam: &str, tekst: &str) {
    for _ in 0..inspringen {
        s.push(' ');
    }
    let _ = write!(s, "<{naam}>");
    escape(s, tekst);
    let _ = writeln!(s, "</{naam}>");
}

/// Escape text for element content and double-quoted attributes.
fn escape(s: &mut String, tekst: &str) {
    for c in tekst.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\r' => s.push_str("&#13;"),
            '\t' | '\n' => s.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => s.push('\u{FFFD}'),
            c => s.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_replaces_invalid_characters() {
        let mut s = String::new();
        escape(&mut s, "a<b & \"c\" > d\r\u{1}\u{FFFF}é\t");
        assert_eq!(
            s,
            "a&lt;b &amp; &quot;c&quot; &gt; d&#13;\u{FFFD}\u{FFFD}é\t"
        );
    }

    #[test]
    fn root_and_uitkomst_per_opdracht() {
        use OpdrachtSoort::*;
        let r = |o| resultaat_element(Some(o));
        assert_eq!(
            verslag_uitkomst(r(BreekPublicatieAfOpdracht), "afgebroken"),
            ("uitkomst", "ok")
        );
        assert_eq!(
            verslag_uitkomst(r(BreekPublicatieAfOpdracht), "niet-valide"),
            ("uitkomst", "behandeling-mislukt")
        );
        assert_eq!(
            verslag_uitkomst(r(PublicatieOpdracht), "gepubliceerd"),
            ("uitkomst", "gepubliceerd")
        );
        assert_eq!(
            verslag_uitkomst(r(PublicatieOpdracht), "valide"),
            ("voortgang", "validatie-voltooid")
        );
        assert_eq!(
            verslag_uitkomst(r(RevisieOpdracht), "mutatie-voltooid"),
            ("uitkomst", "mutatie-voltooid")
        );
        assert_eq!(
            verslag_uitkomst(r(RegistratieOpdracht), "registratie-voltooid"),
            ("uitkomst", "registratie-voltooid")
        );
        assert_eq!(
            verslag_uitkomst(r(ValidatieOpdracht), "valide"),
            ("uitkomst", "valide")
        );
        assert_eq!(
            verslag_uitkomst(r(ValidatieOpdracht), "iets-anders"),
            ("uitkomst", "niet-valide")
        );
        assert_eq!(r(DirecteMutatieOpdracht), "validatieVerzoekResultaat");
        assert_eq!(resultaat_element(None), "validatieVerzoekResultaat");
    }

    #[test]
    fn id_levering_volgens_schema() {
        assert!(id_levering_geldig("rbo-2027-0001_x"));
        assert!(!id_levering_geldig(""));
        assert!(!id_levering_geldig("a"));
        assert!(!id_levering_geldig("-ab"));
        assert!(!id_levering_geldig("a b"));
        assert!(!id_levering_geldig(&"a".repeat(81)));
        let xml = verzoek_resultaat(None, "", "2027-03-01T12:00:00Z", "niet-valide", &[]);
        assert!(xml.contains("<idLevering>onbekend</idLevering>"));
        assert!(xml.contains("<uitkomst>mislukt</uitkomst>"));
        assert!(xml.contains("RB4004"));
    }
}
