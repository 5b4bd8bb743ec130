//! `manifest.xml`: the list of files in a delivery package (namespace
//! `http://www.overheid.nl/2017/lvbb`, root `manifest`, ≥ 2 `bestand` children, each with
//! `bestandsnaam` + `contentType`; lvbb-transport.xsd of LVBB 1.2.0 and 1.3.0-ic).
//!
//! Pure: takes bytes, returns the parsed manifest or meldingen. Parsing is namespace-aware:
//! elements are matched on namespace URI + local name, never on prefixes.
//!
//! Meldingen (all `fout`, `technisch`, located in `manifest.xml` with line and column):
//! - `LVBB1008` manifest.xml voldoet niet aan het schema: not well-formed XML, invalid UTF-8,
//!   another encoding than UTF-8, a DOCTYPE, a wrong root element or namespace, unexpected or
//!   missing elements, fewer than two `bestand` elements, a `bestandsnaam` that does not match
//!   `[0-9A-Za-z._-]+`.
//!
//! `manifest-ow.xml` is a different file (IMOW); it is only listed here like any other file.

use crate::melding::{Locatie, Melding};
use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};

/// Namespace of `manifest.xml` and `opdracht.xml`.
pub const LVBB_NS: &str = "http://www.overheid.nl/2017/lvbb";
/// File name of the manifest inside a package.
pub const MANIFEST_BESTAND: &str = "manifest.xml";
/// The melding code for a manifest that does not satisfy the schema.
pub const CODE_SCHEMA: &str = "LVBB1008";

/// The parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    /// The `bestand` entries in document order (duplicates are kept: the package layer reports
    /// them as LVBB1575).
    pub bestanden: Vec<ManifestBestand>,
}

/// One `bestand` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestBestand {
    /// Whitespace-collapsed (`xs:token`) file name.
    pub bestandsnaam: String,
    pub content_type: String,
    /// 1-based line of the `bestand` element in manifest.xml.
    pub regel: u32,
}

impl Manifest {
    /// True when the manifest lists `bestandsnaam`.
    pub fn bevat(&self, bestandsnaam: &str) -> bool {
        self.bestanden
            .iter()
            .any(|b| b.bestandsnaam == bestandsnaam)
    }

    /// The first entry for `bestandsnaam`.
    pub fn bestand(&self, bestandsnaam: &str) -> Option<&ManifestBestand> {
        self.bestanden
            .iter()
            .find(|b| b.bestandsnaam == bestandsnaam)
    }
}

/// True when `name` matches the `dtBestandsnaam` pattern `[0-9A-Za-z._-]+`.
pub fn is_geldige_bestandsnaam(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// 1-based (line, column in characters) of byte offset `pos` in `text`.
pub fn regel_kolom(text: &[u8], pos: usize) -> (u32, u32) {
    let pos = pos.min(text.len());
    let before = &text[..pos];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    // Count characters, not bytes: UTF-8 continuation bytes do not start a character.
    let col = before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    (clamp_u32(line), clamp_u32(col))
}

fn clamp_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

struct Ctx<'a> {
    bytes: &'a [u8],
    /// Offset of the text handed to quick-xml within `bytes` (a BOM is skipped).
    base: usize,
    meldingen: Vec<Melding>,
}

impl Ctx<'_> {
    fn fout(&mut self, pos: usize, text: impl Into<String>) {
        let (regel, kolom) = regel_kolom(self.bytes, self.base + pos);
        self.meldingen.push(
            Melding::fout_technisch(
                CODE_SCHEMA,
                format!("manifest.xml voldoet niet aan het schema: {}", text.into()),
            )
            .at(Locatie {
                bestand: Some(MANIFEST_BESTAND.to_string()),
                regel: Some(regel),
                kolom: Some(kolom),
                ..Default::default()
            }),
        );
    }
}

fn one_fout(bytes: &[u8], pos: usize, text: impl Into<String>) -> Vec<Melding> {
    let mut ctx = Ctx {
        bytes,
        base: 0,
        meldingen: Vec::new(),
    };
    ctx.fout(pos, text);
    ctx.meldingen
}

/// Where we are in the manifest structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the root element.
    Prolog,
    /// Inside `manifest`, between `bestand` elements.
    Manifest,
    /// Inside `bestand`; the number of children seen so far (0, 1 or 2).
    Bestand(u8),
    /// Inside `bestandsnaam` or `contentType`.
    Waarde,
    /// Inside an element that is not allowed: its nesting depth and the state to return to.
    Onbekend(u32, Terug),
    /// After the root element.
    Epilog,
}

/// The state to return to after an element that is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Terug {
    Manifest,
    Bestand(u8),
    Waarde,
}

impl Terug {
    fn state(self) -> State {
        match self {
            Terug::Manifest => State::Manifest,
            Terug::Bestand(n) => State::Bestand(n),
            Terug::Waarde => State::Waarde,
        }
    }
}

/// Parse `manifest.xml`.
///
/// Returns the manifest, or every schema melding found (parsing stops at the first
/// well-formedness error, since nothing after it can be trusted).
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest, Vec<Melding>> {
    if bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(one_fout(
            bytes,
            0,
            "het bestand is UTF-16 gecodeerd; lever manifest.xml aan in UTF-8",
        ));
    }
    let base = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let text = match std::str::from_utf8(&bytes[base..]) {
        Ok(t) => t,
        Err(e) => {
            return Err(one_fout(
                bytes,
                base + e.valid_up_to(),
                "het bestand bevat een ongeldige UTF-8-bytereeks; lever manifest.xml aan in UTF-8",
            ));
        }
    };
    if text.trim().is_empty() {
        return Err(one_fout(bytes, 0, "het bestand is leeg"));
    }

    let mut ctx = Ctx {
        bytes,
        base,
        meldingen: Vec::new(),
    };
    let mut reader = NsReader::from_str(text);
    reader.config_mut().enable_all_checks(true);
    reader.config_mut().trim_text(false);

    let mut manifest = Manifest::default();
    let mut state = State::Prolog;
    // Values of the current bestand.
    let mut naam: Option<(String, usize)> = None;
    let mut content_type: Option<String> = None;
    let mut bestand_pos = 0usize;
    let mut bestand_kapot = false;
    // Which value element we are in (true = bestandsnaam) and its accumulated text.
    let mut in_naam = false;
    let mut waarde = String::new();
    let mut waarde_pos = 0usize;
    let mut root_gezien = false;

    loop {
        let pos_before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ns, ev)) => (ns_of(&ns), ev),
            Err(e) => {
                let pos = usize::try_from(reader.error_position()).unwrap_or(pos_before);
                ctx.fout(pos, format!("het bestand is geen welgevormde XML ({e})"));
                return Err(ctx.meldingen);
            }
        };
        let pos = pos_before + leading_ws(text, pos_before);
        match event {
            Event::Eof => break,
            Event::Decl(d) => {
                if let Some(Ok(enc)) = d.encoding()
                    && !enc.eq_ignore_ascii_case("utf-8")
                    && !enc.eq_ignore_ascii_case("utf8")
                {
                    ctx.fout(
                        pos,
                        format!(
                            "de XML-declaratie noemt encoding \"{enc}\"; alleen UTF-8 wordt ondersteund"
                        ),
                    );
                    return Err(ctx.meldingen);
                }
            }
            Event::DocType(_) => {
                ctx.fout(
                    pos,
                    "een DOCTYPE-declaratie is niet toegestaan; verwijder deze",
                );
                return Err(ctx.meldingen);
            }
            Event::PI(_) | Event::Comment(_) => {}
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let local = e.local_name();
                let local = local.as_ref();
                let in_lvbb = ns.as_deref() == Some(LVBB_NS);
                match state {
                    State::Prolog => {
                        root_gezien = true;
                        if !(in_lvbb && local == "manifest") {
                            ctx.fout(
                                pos,
                                format!(
                                    "het root-element is {} maar moet manifest in namespace {LVBB_NS} zijn",
                                    describe(e, ns.as_deref())
                                ),
                            );
                            return Err(ctx.meldingen);
                        }
                        state = if is_empty {
                            State::Epilog
                        } else {
                            State::Manifest
                        };
                    }
                    State::Manifest => {
                        if in_lvbb && local == "bestand" {
                            bestand_pos = pos;
                            bestand_kapot = false;
                            naam = None;
                            content_type = None;
                            if is_empty {
                                ctx.fout(pos, "element bestand mist bestandsnaam en contentType");
                            } else {
                                state = State::Bestand(0);
                            }
                        } else {
                            ctx.fout(
                                pos,
                                format!(
                                    "element {} is niet toegestaan in manifest; verwacht bestand",
                                    describe(e, ns.as_deref())
                                ),
                            );
                            if !is_empty {
                                state = State::Onbekend(1, Terug::Manifest);
                            }
                        }
                    }
                    State::Bestand(n) => {
                        let verwacht = if n == 0 {
                            "bestandsnaam"
                        } else {
                            "contentType"
                        };
                        if n < 2 && in_lvbb && local == verwacht {
                            in_naam = n == 0;
                            waarde.clear();
                            waarde_pos = pos;
                            if is_empty {
                                finish_waarde(
                                    &mut ctx,
                                    in_naam,
                                    "",
                                    pos,
                                    &mut naam,
                                    &mut content_type,
                                );
                                state = State::Bestand(n + 1);
                            } else {
                                state = State::Waarde;
                            }
                        } else {
                            let wat = if n < 2 {
                                format!("verwacht {verwacht}")
                            } else {
                                "na contentType mag niets meer volgen".to_string()
                            };
                            ctx.fout(
                                pos,
                                format!(
                                    "element {} is niet toegestaan in bestand; {wat}",
                                    describe(e, ns.as_deref())
                                ),
                            );
                            // The bestand is broken: do not report it as incomplete as well.
                            bestand_kapot = true;
                            if !is_empty {
                                state = State::Onbekend(1, Terug::Bestand(n));
                            }
                        }
                    }
                    State::Waarde => {
                        ctx.fout(
                            pos,
                            format!(
                                "element {} is niet toegestaan in {}; alleen tekst",
                                describe(e, ns.as_deref()),
                                if in_naam {
                                    "bestandsnaam"
                                } else {
                                    "contentType"
                                }
                            ),
                        );
                        if !is_empty {
                            state = State::Onbekend(1, Terug::Waarde);
                        }
                    }
                    State::Onbekend(d, t) => {
                        if !is_empty {
                            state = State::Onbekend(d + 1, t);
                        }
                    }
                    State::Epilog => {
                        // quick-xml reports a second root as ill-formed already; be safe.
                        ctx.fout(pos, "na het root-element mag geen ander element volgen");
                        return Err(ctx.meldingen);
                    }
                }
            }
            Event::End(_) => match state {
                State::Manifest => state = State::Epilog,
                State::Bestand(n) => {
                    if !bestand_kapot {
                        if n < 2 {
                            ctx.fout(
                                bestand_pos,
                                format!(
                                    "element bestand mist {}",
                                    if n == 0 {
                                        "bestandsnaam en contentType"
                                    } else {
                                        "contentType"
                                    }
                                ),
                            );
                        } else if let (Some((n, _)), Some(c)) = (naam.take(), content_type.take()) {
                            let (regel, _) = regel_kolom(bytes, base + bestand_pos);
                            manifest.bestanden.push(ManifestBestand {
                                bestandsnaam: n,
                                content_type: c,
                                regel,
                            });
                        }
                    }
                    state = State::Manifest;
                }
                State::Waarde => {
                    let w = std::mem::take(&mut waarde);
                    finish_waarde(
                        &mut ctx,
                        in_naam,
                        &w,
                        waarde_pos,
                        &mut naam,
                        &mut content_type,
                    );
                    state = State::Bestand(if in_naam { 1 } else { 2 });
                }
                State::Onbekend(1, t) => state = t.state(),
                State::Onbekend(d, t) => state = State::Onbekend(d - 1, t),
                State::Prolog | State::Epilog => {}
            },
            Event::Text(t) => {
                let s = t.xml10_content();
                if state == State::Waarde {
                    waarde.push_str(&s);
                } else if !s.trim().is_empty() && !matches!(state, State::Onbekend(..)) {
                    ctx.fout(
                        pos,
                        format!("tekst \"{}\" is hier niet toegestaan", kort(s.trim())),
                    );
                }
            }
            Event::CData(t) => {
                let s = t.xml10_content();
                if state == State::Waarde {
                    waarde.push_str(&s);
                } else if !s.trim().is_empty() && !matches!(state, State::Onbekend(..)) {
                    ctx.fout(pos, "tekst (CDATA) is hier niet toegestaan");
                }
            }
            Event::GeneralRef(r) => {
                let resolved: Option<String> = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        _ => None,
                    }
                } else {
                    quick_xml::escape::resolve_predefined_entity(&r).map(str::to_string)
                };
                match resolved {
                    Some(s) => {
                        if state == State::Waarde {
                            waarde.push_str(&s);
                        } else if !s.trim().is_empty() && !matches!(state, State::Onbekend(..)) {
                            ctx.fout(pos, format!("tekst \"{s}\" is hier niet toegestaan"));
                        }
                    }
                    None => {
                        ctx.fout(
                            pos,
                            format!(
                                "het bestand is geen welgevormde XML (onbekende entiteit &{};)",
                                kort(&r)
                            ),
                        );
                        return Err(ctx.meldingen);
                    }
                }
            }
        }
    }

    if !root_gezien {
        ctx.fout(text.len(), "het bestand bevat geen root-element manifest");
        return Err(ctx.meldingen);
    }
    if state != State::Epilog {
        // quick-xml normally reports unclosed elements; be defensive.
        ctx.fout(
            text.len(),
            "het bestand eindigt voordat het root-element is gesloten",
        );
        return Err(ctx.meldingen);
    }
    let aantal = manifest.bestanden.len();
    if ctx.meldingen.is_empty() && aantal < 2 {
        ctx.fout(
            0,
            format!(
                "manifest bevat {aantal} bestand-element(en); er moeten er minstens 2 zijn (opdracht.xml en manifest.xml horen er ook in)"
            ),
        );
    }
    if ctx.meldingen.is_empty() {
        Ok(manifest)
    } else {
        Err(ctx.meldingen)
    }
}

fn finish_waarde(
    ctx: &mut Ctx<'_>,
    in_naam: bool,
    raw: &str,
    pos: usize,
    naam: &mut Option<(String, usize)>,
    content_type: &mut Option<String>,
) {
    if in_naam {
        // xs:token: collapse whitespace.
        let v = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if !is_geldige_bestandsnaam(&v) {
            ctx.fout(
                pos,
                format!(
                    "bestandsnaam \"{}\" voldoet niet aan het patroon [0-9A-Za-z._-]+; gebruik alleen letters, cijfers, punt, liggend streepje en koppelteken",
                    kort(&v)
                ),
            );
        }
        *naam = Some((v, pos));
    } else {
        *content_type = Some(raw.trim().to_string());
    }
}

fn ns_of(ns: &ResolveResult<'_>) -> Option<String> {
    match ns {
        ResolveResult::Bound(Namespace(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn describe(e: &BytesStart<'_>, ns: Option<&str>) -> String {
    let local = e.local_name();
    match ns {
        Some(ns) => format!("{{{ns}}}{}", local.as_ref()),
        None => format!("{} (zonder namespace)", local.as_ref()),
    }
}

fn leading_ws(text: &str, from: usize) -> usize {
    text.get(from..)
        .map_or(0, |rest| rest.len() - rest.trim_start().len())
}

fn kort(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.overheid.nl/2017/lvbb">
   <bestand>
      <bestandsnaam>manifest.xml</bestandsnaam>
      <contentType>application/xml</contentType>
   </bestand>
   <bestand>
      <bestandsnaam> opdracht.xml </bestandsnaam>
      <contentType>application/xml</contentType>
   </bestand>
</manifest>"#;

    fn codes(r: Result<Manifest, Vec<Melding>>) -> Vec<(String, Option<u32>)> {
        r.expect_err("expected meldingen")
            .into_iter()
            .map(|m| {
                assert_eq!(m.locatie.bestand.as_deref(), Some("manifest.xml"));
                (m.code, m.locatie.regel)
            })
            .collect()
    }

    #[test]
    fn parses_default_namespace() {
        let m = parse_manifest(GOED.as_bytes()).unwrap();
        assert_eq!(m.bestanden.len(), 2);
        assert_eq!(m.bestanden[0].bestandsnaam, "manifest.xml");
        assert_eq!(m.bestanden[0].regel, 3);
        assert_eq!(m.bestanden[1].bestandsnaam, "opdracht.xml");
        assert_eq!(m.bestanden[1].content_type, "application/xml");
        assert_eq!(m.bestanden[1].regel, 7);
        assert!(m.bevat("opdracht.xml"));
    }

    #[test]
    fn parses_prefixed_namespace_and_bom() {
        let xml = GOED
            .replace("<manifest xmlns=", "<x:manifest xmlns:x=")
            .replace("</manifest>", "</x:manifest>")
            .replace("<bestand", "<x:bestand")
            .replace("</bestand", "</x:bestand")
            .replace("<contentType", "<x:contentType")
            .replace("</contentType", "</x:contentType");
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(xml.as_bytes());
        let m = parse_manifest(&bytes).unwrap();
        assert_eq!(m.bestanden.len(), 2);
    }

    #[test]
    fn wrong_namespace() {
        let xml = GOED.replace("2017/lvbb", "2018/lvbb");
        assert_eq!(
            codes(parse_manifest(xml.as_bytes())),
            vec![("LVBB1008".into(), Some(2))]
        );
    }

    #[test]
    fn prefix_without_namespace_is_not_enough() {
        let xml = GOED.replace(
            "<manifest xmlns=\"http://www.overheid.nl/2017/lvbb\">",
            "<manifest xmlns:lvbb=\"http://www.overheid.nl/2017/lvbb\">",
        );
        assert_eq!(
            codes(parse_manifest(xml.as_bytes())),
            vec![("LVBB1008".into(), Some(2))]
        );
    }

    #[test]
    fn not_well_formed_has_position() {
        let xml = GOED.replace(
            "</contentType>\n   </bestand>\n   <bestand>",
            "</contentType>\n   </bestandX>\n   <bestand>",
        );
        let c = codes(parse_manifest(xml.as_bytes()));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].0, "LVBB1008");
        assert_eq!(c[0].1, Some(6));
    }

    #[test]
    fn invalid_utf8_has_position() {
        let mut bytes = GOED.as_bytes().to_vec();
        let i = GOED.find("opdracht").unwrap();
        bytes[i] = 0xFF;
        let err = parse_manifest(&bytes).unwrap_err();
        assert_eq!(err[0].code, "LVBB1008");
        assert_eq!(err[0].locatie.regel, Some(8));
        assert_eq!(err[0].locatie.kolom, Some(22));
    }

    #[test]
    fn missing_content_type_and_bad_name() {
        let xml = GOED
            .replace(
                "      <contentType>application/xml</contentType>\n   </bestand>\n   <bestand>",
                "   </bestand>\n   <bestand>",
            )
            .replace(" opdracht.xml ", "mijn bestand.xml");
        let c = codes(parse_manifest(xml.as_bytes()));
        assert_eq!(
            c,
            vec![("LVBB1008".into(), Some(3)), ("LVBB1008".into(), Some(7))]
        );
    }

    #[test]
    fn too_few_bestanden_and_unknown_children() {
        let xml = r#"<manifest xmlns="http://www.overheid.nl/2017/lvbb"><bestand><bestandsnaam>a.xml</bestandsnaam><contentType>x</contentType></bestand></manifest>"#;
        assert_eq!(codes(parse_manifest(xml.as_bytes())).len(), 1);
        let xml = r#"<manifest xmlns="http://www.overheid.nl/2017/lvbb"><foo><bar/></foo><bestand><bestandsnaam>a.xml</bestandsnaam><contentType>x</contentType><extra/></bestand>tekst</manifest>"#;
        assert_eq!(codes(parse_manifest(xml.as_bytes())).len(), 3);
    }

    #[test]
    fn doctype_empty_and_utf16_rejected() {
        assert!(parse_manifest(b"").is_err());
        assert!(parse_manifest(b"<!DOCTYPE x [<!ENTITY a 'b'>]><manifest/>").is_err());
        assert!(parse_manifest(&[0xFF, 0xFE, b'<', 0]).is_err());
        assert!(parse_manifest(b"<?xml version='1.0' encoding='ISO-8859-1'?><manifest/>").is_err());
    }

    #[test]
    fn entities_are_resolved() {
        let xml = GOED.replace(
            "application/xml</contentType>\n   </bestand>\n   <bestand>",
            "application/x&#109;l&amp;</contentType>\n   </bestand>\n   <bestand>",
        );
        let m = parse_manifest(xml.as_bytes()).unwrap();
        assert_eq!(m.bestanden[0].content_type, "application/xml&");
    }
}
