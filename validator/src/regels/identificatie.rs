//! Identifiers: the AKN/JOIN syntax of every work and expression identifier in a STOP file
//! (LVBB2008–2022, STOP1001/1007/1010), the role an identifier must have where it is used
//! (besluit = `bill`, regeling = `act`, kennisgeving = `doc`, soortWork codes, the
//! instrumenten in ConsolidatieInformatie, informatieobject title and collection), and, with the
//! store's history, whether a besluit or kennisgeving work is new and whether an existing work
//! is changed by the bevoegd gezag that owns it.
//!
//! The LVBB counts the parts of an identifier between the first `/` and the `@`:
//! `akn/nl/act/gm9901/2027/Plan` (a work, 6 parts) and `akn/nl/act/gm9901/2027/Plan/nld` + `@2027-02-25;1`
//! (an expression, 7 parts). [`Delen`] splits them that way.

use crate::context::{HistorieFout, Levering};
use crate::regel::Regel;
use chrono::NaiveDate;
use std::collections::BTreeSet;
use std::fmt::Display;
use stop::module::{Inhoud, ModuleSoort, StopBestand};
use stop::xml::{Document, NodeId};
use stop::{Locatie, Melding, ns};

// --- Syntax (every identifier in every STOP file) ---

regel!(LVBB2008, Fout, Technisch, Identificatie, Bestand, "LVBB", "An AKN or JOIN identifier starts with /akn/ or /join/",
    "De identificatie '{id}' in {element} begint niet met '/akn/' of '/join/'. Een AKN- of JOIN-identificatie begint altijd met '/akn/' of '/join/'; corrigeer de identificatie.");
regel!(LVBB2009, Fout, Technisch, Identificatie, Bestand, "LVBB", "The country of an AKN identifier (2nd part) is nl, aw, cw or sx",
    "De AKN-identificatie '{id}' in {element} heeft als land '{deel}'; toegestaan zijn nl, aw, cw en sx. Corrigeer het tweede deel van de identificatie.");
regel!(LVBB2010, Fout, Technisch, Identificatie, Bestand, "LVBB", "The type of an AKN identifier (3rd part) is bill, act, doc or officialGazette",
    "De AKN-identificatie '{id}' in {element} heeft als soort '{deel}'; toegestaan zijn bill, act, doc en officialGazette. Corrigeer het derde deel van de identificatie.");
regel!(LVBB2011, Fout, Technisch, Identificatie, Bestand, "LVBB", "The 2nd part of a JOIN identifier is id or set",
    "De JOIN-identificatie '{id}' in {element} heeft als tweede deel '{deel}'; dit moet 'id' of 'set' zijn.");
regel!(LVBB2012, Fout, Technisch, Identificatie, Bestand, "LVBB", "The type of a JOIN identifier (3rd part) is regdata, pubdata, infodata, proces or stop",
    "De JOIN-identificatie '{id}' in {element} heeft als soort '{deel}'; toegestaan zijn regdata, pubdata, infodata, proces en stop. Corrigeer het derde deel van de identificatie.");
regel!(LVBB2013, Fout, Technisch, Identificatie, Bestand, "LVBB", "The 5th part of an AKN or JOIN identifier is a year (YYYY) or a valid date (YYYY-MM-DD)",
    "De identificatie '{id}' in {element} heeft '{deel}' als jaar of datum; dit deel (na de code van het bevoegd gezag) moet een jaartal (JJJJ) of een geldige datum (JJJJ-MM-DD) zijn.");
regel!(LVBB2015, Fout, Technisch, Identificatie, Bestand, "LVBB", "The date after the @ of a JOIN expression is not before the year (or date) of its work",
    "De JOIN-expressie '{id}' in {element} heeft als datum '{datum}', eerder dan '{werkdatum}' in het work. De datum na de '@' mag niet vóór het jaar of de datum van het work liggen.");
regel!(LVBB2016, Fout, Technisch, Identificatie, Bestand, "LVBB", "The language of an expression (the part before the @) is nld, eng, fry, pap, mul or und",
    "De expressie-identificatie '{id}' in {element} heeft als taal '{deel}'; toegestaan zijn nld, eng, fry, pap, mul en und (het deel direct vóór de '@').");
regel!(LVBB2017, Fout, Technisch, Identificatie, Bestand, "LVBB", "An AKN or JOIN identifier contains no '.' (also STOP1000)",
    "De identificatie '{id}' in {element} bevat een punt; een AKN- of JOIN-identificatie mag geen '.' bevatten. Vervang de punt, bijvoorbeeld door '-' of '_'.");
regel!(LVBB2019, Fout, Technisch, Identificatie, Bestand, "LVBB", "A work identifier has 6 parts after the first '/', an expression 7 parts between the first '/' and the '@' (also STOP2078/2080); a work is given where a work is expected, an expression where an expression is expected",
    "De identificatie '{id}' in {element} heeft niet de juiste opbouw: {reden}. Een work is /akn/<land>/<soort>/<maker>/<jaar of datum>/<naam> (zes delen), een expressie <work>/<taal>@<datum>[;<versie>].");
regel!(LVBB2020, Fout, Technisch, Identificatie, Bestand, "LVBB", "The local part (6th part, the name) of an identifier has only letters, digits, '_' and '-', starting with a letter or digit (also STOP2079)",
    "Het naamdeel '{deel}' van de identificatie '{id}' in {element} {reden}; gebruik alleen letters, cijfers, '_' en '-', te beginnen met een letter of cijfer.");
regel!(LVBB2021, Fout, Technisch, Identificatie, Bestand, "LVBB", "The local part (the name) of an identifier is at most 128 characters (also STOP2079)",
    "Het naamdeel van de identificatie '{id}' in {element} is {lengte} tekens lang; het maximum is 128. Kies een kortere naam.");
regel!(LVBB2022, Fout, Technisch, Identificatie, Bestand, "LVBB", "The part after officialGazette is a publication code (stb, stcrt, trb, gmb, prb, bgr, wsb; also STOP1017)",
    "De AKN-identificatie '{id}' in {element} heeft na 'officialGazette' de code '{deel}'; dit moet een publicatieblad zijn: stb, stcrt, trb, gmb, prb, bgr of wsb.");
regel!(STOP1001, Fout, Technisch, Identificatie, Bestand, "STOP", "An expression identifier starts with its work identifier followed by '/' (FRBRExpression = FRBRWork/<taal>@<datum>)",
    "De FRBRExpression '{expressie}' hoort niet bij het FRBRWork '{work}': een expressie-identificatie is het work gevolgd door /<taal>@<datum>, bijvoorbeeld {work}/nld@<datum>. Corrigeer FRBRWork of FRBRExpression.");
regel!(STOP1007, Fout, Technisch, Identificatie, Bestand, "STOP", "The part after the @ of an expression is a year or a valid date (optionally ';<versie>'), except for a regeling (AKN act) of a bevoegd gezag",
    "De expressie-identificatie '{id}' in {element} heeft '{datum}' na de '@'; voor een besluit, kennisgeving, informatieobject of ander document (geen regeling) moet dat een jaartal (JJJJ) of een geldige datum (JJJJ-MM-DD) zijn, eventueel gevolgd door ';<versie>'.");
regel!(STOP1010, Fout, Technisch, Identificatie, Bestand, "STOP", "The 4th part of an AKN or JOIN identifier is the code of a bevoegd gezag (gm0000, pv00, ws0000, mnre0000, mn000) or of a consolidation collection",
    "De identificatie '{id}' in {element} heeft '{deel}' als code van het bevoegd gezag; dit moet een code zijn zoals gm0363 (gemeente), pv26 (provincie), ws0155 (waterschap) of mnre1034 of mn002 (Rijk), in kleine letters.");

// --- Roles (where an identifier is used) ---

regel!(STOP1013, Fout, Technisch, Identificatie, Bestand, "STOP", "The work of a besluit is an AKN bill (/akn/nl/bill/...)",
    "Het besluit heeft als FRBRWork '{id}'; het work van een besluit moet een AKN-identificatie met soort 'bill' zijn (/akn/nl/bill/...).");
regel!(BHKV1005, Fout, Technisch, Identificatie, Bestand, "BHKV", "The soortWork of a besluit is /join/id/stop/work_003 (STOP2002)",
    "Het besluit '{id}' heeft als soortWork '{soortwork}'; dit moet '/join/id/stop/work_003' zijn.");
regel!(BHKV1006, Fout, Technisch, Identificatie, Bestand, "BHKV", "The soortWork of a regeling is /join/id/stop/work_019, of a RegelingTijdelijkdeel /join/id/stop/work_021 (also LVBB4044, BHKV1028)",
    "De regelingversie '{id}' heeft als soortWork '{soortwork}'; voor {model} moet dit '{verwacht}' zijn.");
regel!(LVBB4005, Fout, Technisch, Identificatie, Bestand, "LVBB", "The work of a regeling (RegelingVersieInformatie) is an AKN act (also STOP1012)",
    "De regeling heeft als FRBRWork '{id}'; het work van een regeling moet een AKN-identificatie met soort 'act' zijn (/akn/nl/act/...).");
regel!(BHKV1016, Fout, Technisch, Identificatie, Bestand, "BHKV", "The soortWork of an informatieobject is /join/id/stop/work_010 (STOP2024)",
    "Het informatieobject '{id}' heeft als soortWork '{soortwork}'; dit moet '/join/id/stop/work_010' zijn.");
regel!(BHKV1017, Fout, Technisch, Identificatie, Bestand, "BHKV", "The officieleTitel of an informatieobject equals its FRBRWork",
    "De officieleTitel '{titel}' van het informatieobject is niet gelijk aan het FRBRWork '{work}'. Neem het FRBRWork over als officieleTitel.");
regel!(BHKV1018, Fout, Inhoudelijk, Identificatie, Bestand, "BHKV", "The collection of an informatieobject's JOIN work matches its publicatieinstructie (regdata: TeConsolideren, pubdata: AlleenBekendTeMaken, infodata: Informatief)",
    "Het informatieobject '{work}' heeft publicatieinstructie '{instructie}', maar de collectie in de identificatie is '{collectie}'; bij {instructie} hoort /join/id/{verwacht}/.... Pas de identificatie of de publicatieinstructie aan.");
regel!(LVBB4707, Fout, Technisch, Identificatie, Bestand, "LVBB", "The work of a kennisgeving is an AKN doc (also STOP1037)",
    "De kennisgeving heeft als FRBRWork '{id}'; het work van een kennisgeving moet een AKN-identificatie met soort 'doc' zijn (/akn/nl/doc/...).");
regel!(LVBB4708, Fout, Technisch, Identificatie, Bestand, "LVBB", "mededelingOver (of a kennisgeving or procedureverloopmutatie) identifies a besluit: an AKN bill",
    "mededelingOver '{id}' in {element} verwijst niet naar een besluit: dit moet de AKN-identificatie van een besluit zijn (/akn/nl/bill/...).");
regel!(STOP1026, Fout, Technisch, Identificatie, Bestand, "STOP", "The instrumentVersie of a BeoogdeRegeling is an AKN act expression",
    "De instrumentVersie '{id}' van een BeoogdeRegeling is geen expressie-identificatie van een regeling; gebruik /akn/nl/act/<maker>/<jaar>/<naam>/<taal>@<datum>[;<versie>].");
regel!(STOP1027, Fout, Technisch, Identificatie, Bestand, "STOP", "The instrumentVersie of a BeoogdInformatieobject is a JOIN regdata or pubdata expression",
    "De instrumentVersie '{id}' van een BeoogdInformatieobject is geen expressie-identificatie van een informatieobject; gebruik /join/id/regdata/... (of /join/id/pubdata/...) met /<taal>@<datum>.");
regel!(STOP1028, Fout, Technisch, Identificatie, Bestand, "STOP", "The instrument of an Intrekking is a work (not an expression): an AKN act or a JOIN regdata",
    "Het instrument '{id}' van een Intrekking is {reden}; geef het work van de in te trekken regeling (/akn/nl/act/...) of van het informatieobject (/join/id/regdata/...), zonder taal en datum.");
regel!(STOP1037, Fout, Technisch, Identificatie, Bestand, "STOP", "The work of a mededeling is an AKN doc",
    "De mededeling heeft als FRBRWork '{id}'; het work van een mededeling moet een AKN-identificatie met soort 'doc' zijn (/akn/nl/doc/...).");
regel!(STOP1044, Fout, Technisch, Identificatie, Bestand, "STOP", "The work of a rectificatie is an AKN doc",
    "De rectificatie heeft als FRBRWork '{id}'; het work van een rectificatie moet een AKN-identificatie met soort 'doc' zijn (/akn/nl/doc/...).");

// --- History (the package and the store) ---

regel!(LVBB4001, Fout, Inhoudelijk, Identificatie, Levering, "LVBB", "The work of a besluit is new: no accepted delivery used it before (a cancelled publication's work may be used again)",
    "Het work '{work}' van het besluit is al eerder aangeleverd (als {soort}); een besluit moet een nieuw, uniek work hebben. Kies een nieuwe identificatie voor het besluit.");
regel!(LVBB4701, Fout, Inhoudelijk, Identificatie, Levering, "LVBB", "The work of a kennisgeving is new: no accepted delivery used it before (a cancelled publication's work may be used again)",
    "Het work '{work}' van de kennisgeving is al eerder aangeleverd (als {soort}); een kennisgeving moet een nieuw, uniek work hebben. Kies een nieuwe identificatie voor de kennisgeving.");
regel!(RB3101, Fout, Inhoudelijk, Identificatie, Levering, "regelbank", "An existing work gets new versions (or is withdrawn) only on behalf of the bevoegd gezag that first delivered it",
    "Het work '{work}' is eerder aangeleverd namens bevoegd gezag {eigenaar}; deze levering is namens {bg}. Alleen het bevoegd gezag van het work mag er nieuwe versies van aanleveren of het intrekken.");
regel!(RB3102, Waarschuwing, Inhoudelijk, Identificatie, Levering, "regelbank", "The works a besluit creates (regelingen, informatieobjecten) carry the same bevoegd gezag code as the besluit",
    "Het besluit '{besluit}' heeft bevoegd-gezagcode '{code}', maar het nieuwe work '{work}' heeft code '{andere}'. Controleer of de identificatie van het work klopt.");

pub static REGELS: &[&Regel] = &[
    &LVBB2008, &LVBB2009, &LVBB2010, &LVBB2011, &LVBB2012, &LVBB2013, &LVBB2015, &LVBB2016, &LVBB2017, &LVBB2019,
    &LVBB2020, &LVBB2021, &LVBB2022, &STOP1001, &STOP1007, &STOP1010, &STOP1013, &BHKV1005, &BHKV1006, &LVBB4005,
    &BHKV1016, &BHKV1017, &BHKV1018, &LVBB4707, &LVBB4708, &STOP1026, &STOP1027, &STOP1028, &STOP1037, &STOP1044,
    &LVBB4001, &LVBB4701, &RB3101, &RB3102,
];

const LANDEN: &[&str] = &["nl", "aw", "cw", "sx"];
const AKN_SOORTEN: &[&str] = &["bill", "act", "doc", "officialGazette"];
const JOIN_SOORTEN: &[&str] = &["regdata", "pubdata", "infodata", "proces", "stop"];
const TALEN: &[&str] = &["nld", "eng", "fry", "pap", "mul", "und"];
const BLADEN: &[&str] = &["stb", "stcrt", "trb", "gmb", "prb", "bgr", "wsb"];
/// Collections of consolidated regelingen and informatieobjecten (STOP1010's alternative to a
/// bevoegd gezag code).
const CONSOLIDATIE_CODES: &[&str] = &["land", "provincie", "gemeente", "waterschap", "consolidatie"];
const LOKAAL_MAX: usize = 128;

const WORK_BESLUIT: &str = "/join/id/stop/work_003";
const WORK_IO: &str = "/join/id/stop/work_010";
const WORK_REGELING: &str = "/join/id/stop/work_019";
const WORK_TIJDELIJKDEEL: &str = "/join/id/stop/work_021";

// --- Splitting identifiers ---

/// An AKN or JOIN identifier split the way the LVBB counts its parts: `delen` are the parts
/// between the first `/` and the first `@` (`akn`, `nl`, `act`, `gm9901`, `2027`, `Plan`[, `nld`]);
/// `na_at` is what follows the `@` (`2027-02-25;1`), `None` for a work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delen<'a> {
    pub delen: Vec<&'a str>,
    pub na_at: Option<&'a str>,
}

impl<'a> Delen<'a> {
    /// `None` when the text does not start with '/'.
    pub fn parse(s: &'a str) -> Option<Delen<'a>> {
        let rest = s.strip_prefix('/')?;
        let (voor, na_at) = match rest.split_once('@') {
            Some((v, n)) => (v, Some(n)),
            None => (rest, None),
        };
        Some(Delen { delen: voor.split('/').collect(), na_at })
    }

    fn deel(&self, i: usize) -> Option<&'a str> {
        self.delen.get(i).copied()
    }
    pub fn is_akn(&self) -> bool {
        self.deel(0) == Some("akn")
    }
    pub fn is_join(&self) -> bool {
        self.deel(0) == Some("join")
    }
    /// AKN: the country; JOIN: `id` or `set`.
    pub fn land(&self) -> Option<&'a str> {
        self.deel(1)
    }
    /// AKN: `bill`, `act`, ...; JOIN: `regdata`, ... (the JOIN "collection").
    pub fn soort(&self) -> Option<&'a str> {
        self.deel(2)
    }
    /// The bevoegd gezag code (or, for officialGazette, the publication code).
    pub fn maker(&self) -> Option<&'a str> {
        self.deel(3)
    }
    pub fn datum(&self) -> Option<&'a str> {
        self.deel(4)
    }
    pub fn is_expressie(&self) -> bool {
        self.na_at.is_some()
    }
    /// The number of parts an identifier of this kind has before the `@`.
    fn verwacht_aantal(&self) -> usize {
        if self.is_expressie() { 7 } else { 6 }
    }
    /// True when the parts are where they should be: 6 for a work, 7 and nothing after the
    /// version for an expression.
    pub fn opbouw_ok(&self) -> bool {
        self.delen.len() == self.verwacht_aantal() && self.na_at.is_none_or(|n| !n.contains(['/', '@']))
    }
    /// The local part (the name), when the structure is right.
    pub fn lokaal(&self) -> Option<&'a str> {
        self.opbouw_ok().then(|| self.delen[5])
    }
    /// The language of an expression, when the structure is right.
    pub fn taal(&self) -> Option<&'a str> {
        (self.opbouw_ok() && self.is_expressie()).then(|| self.delen[6])
    }
    /// The date (or year, or other text) after the `@`, without the version.
    pub fn expressie_datum(&self) -> Option<&'a str> {
        self.na_at.map(|n| n.split(';').next().unwrap_or(n))
    }
}

/// A year `YYYY` or a date `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum JaarOfDatum {
    Jaar(i32),
    Datum(NaiveDate),
}

impl JaarOfDatum {
    fn parse(s: &str) -> Option<JaarOfDatum> {
        let b = s.as_bytes();
        if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
            return s.parse().ok().map(JaarOfDatum::Jaar);
        }
        if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
            return NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(JaarOfDatum::Datum);
        }
        None
    }
    fn jaar(self) -> i32 {
        use chrono::Datelike;
        match self {
            JaarOfDatum::Jaar(j) => j,
            JaarOfDatum::Datum(d) => d.year(),
        }
    }
    /// `self` (of the expression) lies before `werk` (of the work): dates compare as dates
    /// when both are dates, otherwise by year.
    fn voor(self, werk: JaarOfDatum) -> bool {
        match (self, werk) {
            (JaarOfDatum::Datum(a), JaarOfDatum::Datum(b)) => a < b,
            _ => self.jaar() < werk.jaar(),
        }
    }
}

/// STOP1010's pattern for a bevoegd gezag code: `mnre\d{4}|mn\d{3}|gm\d{4}|ws\d{4}|pv\d{2}`.
fn maker_geldig(m: &str) -> bool {
    let cijfers = |rest: &str, n: usize| rest.len() == n && rest.bytes().all(|b| b.is_ascii_digit());
    if let Some(r) = m.strip_prefix("mnre") {
        return cijfers(r, 4);
    }
    if let Some(r) = m.strip_prefix("mn") {
        return cijfers(r, 3);
    }
    if let Some(r) = m.strip_prefix("gm").or_else(|| m.strip_prefix("ws")) {
        return cijfers(r, 4);
    }
    if let Some(r) = m.strip_prefix("pv") {
        return cijfers(r, 2);
    }
    CONSOLIDATIE_CODES.contains(&m)
}

/// What an element must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verwacht {
    Work,
    Expressie,
    /// Either; a role rule says which (instrumentVersie, Intrekking/instrument, references).
    Beide,
}

/// A finding before it has a location: the rule and its placeholder values.
#[derive(Debug)]
pub(crate) struct Bevinding {
    pub regel: &'static Regel,
    pub args: Vec<(&'static str, String)>,
}

impl Bevinding {
    fn new(regel: &'static Regel, args: &[(&'static str, &str)]) -> Bevinding {
        Bevinding { regel, args: args.iter().map(|(k, v)| (*k, v.to_string())).collect() }
    }

    fn melding(&self, locatie: Locatie) -> Melding {
        let args: Vec<(&str, &dyn Display)> = self.args.iter().map(|(k, v)| (*k, v as &dyn Display)).collect();
        self.regel.melding(locatie, &args)
    }
}

/// The syntax findings for one identifier (trimmed, non-empty) in `element`.
pub(crate) fn syntaxis(id: &str, verwacht: Verwacht, element: &str) -> Vec<Bevinding> {
    let mut out = Vec::new();
    let b = |regel, extra: &[(&'static str, &str)]| {
        let mut args = vec![("id", id), ("element", element)];
        args.extend_from_slice(extra);
        Bevinding::new(regel, &args)
    };
    if !(id.starts_with("/akn/") || id.starts_with("/join/")) {
        out.push(b(&LVBB2008, &[]));
        return out;
    }
    let Some(d) = Delen::parse(id) else { return out };
    if id.contains('.') {
        out.push(b(&LVBB2017, &[]));
    }
    let akn = d.is_akn();
    let land = d.land().unwrap_or("");
    let soort = d.soort().unwrap_or("");
    let soort_ok = if akn {
        if !LANDEN.contains(&land) {
            out.push(b(&LVBB2009, &[("deel", land)]));
        }
        let ok = AKN_SOORTEN.contains(&soort);
        if !ok {
            out.push(b(&LVBB2010, &[("deel", soort)]));
        }
        ok
    } else {
        if land != "id" && land != "set" {
            out.push(b(&LVBB2011, &[("deel", land)]));
        }
        let ok = JOIN_SOORTEN.contains(&soort);
        if !ok {
            out.push(b(&LVBB2012, &[("deel", soort)]));
        }
        ok
    };

    // Structure: the number of parts, and a work or an expression where one is expected.
    let reden = match verwacht {
        Verwacht::Work if d.is_expressie() => {
            Some("hier wordt een work-identificatie verwacht, zonder taal en '@'".to_string())
        }
        Verwacht::Expressie if !d.is_expressie() => {
            Some("hier wordt een expressie-identificatie verwacht, met /<taal>@<datum> na het work".to_string())
        }
        _ if !d.opbouw_ok() => Some(if d.na_at.is_some_and(|n| n.contains(['/', '@'])) {
            "na de '@' mogen alleen de datum en eventueel ';<versie>' staan".to_string()
        } else if d.is_expressie() {
            format!("een expressie heeft 7 delen tussen de eerste '/' en de '@', hier zijn het er {}", d.delen.len())
        } else {
            format!("een work heeft 6 delen na de eerste '/', hier zijn het er {}", d.delen.len())
        }),
        _ => None,
    };
    if let Some(r) = &reden {
        out.push(b(&LVBB2019, &[("reden", r)]));
    }

    if let Some(m) = d.maker() {
        if akn && soort == "officialGazette" {
            if !BLADEN.contains(&m) {
                out.push(b(&LVBB2022, &[("deel", m)]));
            }
        } else if soort_ok && soort != "stop" && !maker_geldig(m) {
            out.push(b(&STOP1010, &[("deel", m)]));
        }
    }
    let werkdatum = d.datum();
    let werk_jd = werkdatum.and_then(JaarOfDatum::parse);
    if let Some(w) = werkdatum
        && werk_jd.is_none()
    {
        out.push(b(&LVBB2013, &[("deel", w)]));
    }
    if let Some(l) = d.lokaal() {
        let n = l.chars().count();
        if n > LOKAAL_MAX {
            out.push(b(&LVBB2021, &[("lengte", &n.to_string())]));
        }
        // A '.' is LVBB2017's finding; not reported twice.
        let fout_teken = l.chars().find(|&c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'));
        let reden = if l.is_empty() {
            Some("is leeg".to_string())
        } else if let Some(c) = fout_teken {
            Some(format!("bevat het teken '{c}'"))
        } else if !l.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '.') {
            Some("begint niet met een letter of cijfer".to_string())
        } else {
            None
        };
        if let Some(r) = reden {
            out.push(b(&LVBB2020, &[("deel", l), ("reden", &r)]));
        }
    }
    if let Some(t) = d.taal()
        && !TALEN.contains(&t)
    {
        out.push(b(&LVBB2016, &[("deel", t)]));
    }
    if let Some(datum) = d.expressie_datum() {
        let jd = JaarOfDatum::parse(datum);
        // A regeling of a bevoegd gezag may number its versions freely (`nld@1`); a
        // consolidation (maker 'gemeente', ...) may not.
        let vrij = akn && soort == "act" && !d.maker().is_some_and(|m| CONSOLIDATIE_CODES.contains(&m));
        if jd.is_none() && !vrij {
            out.push(b(&STOP1007, &[("datum", datum)]));
        }
        if d.is_join()
            && let (Some(e), Some(w)) = (jd, werk_jd)
            && e.voor(w)
        {
            out.push(b(&LVBB2015, &[("datum", datum), ("werkdatum", werkdatum.unwrap_or(""))]));
        }
    }
    out
}

/// Type (`bill`, `act`, ...) of an identifier that starts with /akn/ or /join/; `None` for
/// anything else (already LVBB2008).
fn soort_van(id: &str) -> Option<(bool, &str)> {
    if !(id.starts_with("/akn/") || id.starts_with("/join/")) {
        return None;
    }
    let d = Delen::parse(id)?;
    Some((d.is_akn(), d.soort().unwrap_or("")))
}

/// The bevoegd gezag code of an AKN/JOIN identifier.
fn maker_van(id: &str) -> Option<&str> {
    let d = Delen::parse(id)?;
    if !(d.is_akn() || d.is_join()) {
        return None;
    }
    d.maker().filter(|m| !m.is_empty())
}

/// The work of an expression identifier (the part before `/<taal>@`), or the identifier itself.
fn work_van(id: &str) -> &str {
    stop::ident::work_of(id).unwrap_or(id)
}

// --- Per file ---

/// The identifier-holding leaf elements of the STOP data, geo, gio and consolidatie namespaces.
fn id_element(name: &str) -> Option<Verwacht> {
    Some(match name {
        "FRBRWork" | "doel" | "opvolgerVan" | "heeftGeboorteregeling" | "heeftTijdelijkDeel" => Verwacht::Work,
        "FRBRExpression" => Verwacht::Expressie,
        "instrumentVersie" | "instrument" | "informatieobjectRef" | "mededelingOver" | "publiceert" | "contextGIOs"
        | "wasID" => Verwacht::Beide,
        _ => return None,
    })
}

/// An AKN reference in ExtRef without its component, eId or fragment suffix (as STOP does).
fn zonder_achtervoegsel(r: &str) -> &str {
    for sep in ["/!", "/~", "#"] {
        if let Some(i) = r.find(sep) {
            return &r[..i];
        }
    }
    r
}

pub(crate) fn bestand(b: &StopBestand, out: &mut Vec<Melding>) {
    if matches!(b.soort, ModuleSoort::Overig) {
        return;
    }
    let doc = &b.document;
    let Some(root) = doc.root() else { return };
    let loc = |n: NodeId| stop::locatie(doc, &b.bestand, n);
    let melden = |out: &mut Vec<Melding>, n: NodeId, bev: Vec<Bevinding>| {
        if !bev.is_empty() {
            let l = loc(n);
            out.extend(bev.iter().map(|x| x.melding(l.clone())));
        }
    };

    for n in doc.descendants(root) {
        if !doc.is_element(n) {
            continue;
        }
        let nsp = doc.ns(n);
        let name = doc.name(n);
        if nsp == ns::TEKST {
            for attr in ["wordt", "was"] {
                if let Some(v) = doc.attr(n, attr).map(str::trim).filter(|v| !v.is_empty()) {
                    let el = format!("@{attr} van {name}");
                    melden(out, n, syntaxis(v, Verwacht::Expressie, &el));
                }
            }
            match name {
                "ExtIoRef" => {
                    let v = doc.attr(n, "ref").map(str::to_string).or_else(|| doc.trimmed_text(n));
                    if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                        melden(out, n, syntaxis(v, Verwacht::Beide, "ExtIoRef/@ref"));
                    }
                }
                "ExtRef" => {
                    let r = doc.attr(n, "ref").unwrap_or("").trim();
                    let te_controleren = match doc.attr(n, "soort").map(str::trim) {
                        Some("JOIN") => true,
                        // Only references into the AKN collections of the Kingdom, as STOP does.
                        Some("AKN") => ["/akn/nl/", "/akn/aw/", "/akn/cw/", "/akn/sx/"].iter().any(|p| r.starts_with(p)),
                        _ => false,
                    };
                    if te_controleren && !r.is_empty() {
                        melden(out, n, syntaxis(zonder_achtervoegsel(r), Verwacht::Beide, "ExtRef/@ref"));
                    }
                }
                _ => {}
            }
            continue;
        }
        if !(nsp == ns::DATA || nsp == ns::GEO || nsp == ns::GIO || nsp == ns::CONSOLIDATIE) {
            continue;
        }
        if let Some(verwacht) = id_element(name)
            && doc.elements(n).next().is_none()
            && let Some(v) = doc.trimmed_text(n)
        {
            melden(out, n, syntaxis(&v, verwacht, name));
        }
        if nsp == ns::DATA {
            match name {
                "ExpressionIdentificatie" => work_en_expressie(doc, n, &loc, out),
                "BeoogdeRegeling" => beoogd(doc, n, &STOP1026, &loc, out),
                "BeoogdInformatieobject" => beoogd(doc, n, &STOP1027, &loc, out),
                "Intrekking" => intrekking(doc, n, &loc, out),
                _ => {}
            }
        } else if nsp == ns::GEO && matches!(name, "GeoInformatieObjectVersie" | "GeoInformatieObjectMutatie") {
            work_en_expressie(doc, n, &loc, out);
        }
    }
    rollen(b, root, &loc, out);
}

fn tekst_van(doc: &Document, n: NodeId) -> Option<String> {
    doc.trimmed_text(n)
}

/// STOP1001 for an ExpressionIdentificatie or a GIO version.
fn work_en_expressie(doc: &Document, n: NodeId, loc: &dyn Fn(NodeId) -> Locatie, out: &mut Vec<Melding>) {
    let (Some(wn), Some(en)) = (doc.child_named(n, "FRBRWork"), doc.child_named(n, "FRBRExpression")) else {
        return;
    };
    let (Some(work), Some(expr)) = (tekst_van(doc, wn), tekst_van(doc, en)) else { return };
    let hoort_bij = match stop::ident::work_of(&expr) {
        Some(w) => w == work,
        None => expr.starts_with(&format!("{work}/")),
    };
    if !hoort_bij {
        out.push(STOP1001.melding(loc(en), &[("expressie", &expr), ("work", &work)]));
    }
}

/// STOP1026 / STOP1027: the instrumentVersie of a BeoogdeRegeling / BeoogdInformatieobject.
fn beoogd(doc: &Document, n: NodeId, regel: &'static Regel, loc: &dyn Fn(NodeId) -> Locatie, out: &mut Vec<Melding>) {
    let Some(iv) = doc.child(n, ns::DATA, "instrumentVersie") else { return };
    let Some(id) = tekst_van(doc, iv) else { return };
    let Some(d) = Delen::parse(&id) else {
        out.push(regel.melding(loc(iv), &[("id", &id)]));
        return;
    };
    let ok = if std::ptr::eq(regel, &STOP1026) {
        d.is_akn() && LANDEN.contains(&d.land().unwrap_or("")) && d.soort() == Some("act")
    } else {
        d.is_join() && d.land() == Some("id") && matches!(d.soort(), Some("regdata" | "pubdata"))
    };
    if !ok || !d.is_expressie() {
        out.push(regel.melding(loc(iv), &[("id", &id)]));
    }
}

/// STOP1028: the instrument of an Intrekking is an act or regdata work.
fn intrekking(doc: &Document, n: NodeId, loc: &dyn Fn(NodeId) -> Locatie, out: &mut Vec<Melding>) {
    let Some(i) = doc.child(n, ns::DATA, "instrument") else { return };
    let Some(id) = tekst_van(doc, i) else { return };
    let d = Delen::parse(&id);
    let soort_ok = d.as_ref().is_some_and(|d| {
        (d.is_akn() && LANDEN.contains(&d.land().unwrap_or("")) && d.soort() == Some("act"))
            || (d.is_join() && d.land() == Some("id") && d.soort() == Some("regdata"))
    });
    let reden = if !soort_ok {
        "geen regeling of informatieobject"
    } else if d.as_ref().is_some_and(Delen::is_expressie) {
        "een expressie (een versie), geen work"
    } else {
        return;
    };
    out.push(STOP1028.melding(loc(i), &[("id", &id), ("reden", &reden)]));
}

/// The role checks on the STOP file's own identification(s).
fn rollen(b: &StopBestand, root: NodeId, loc: &dyn Fn(NodeId) -> Locatie, out: &mut Vec<Melding>) {
    let doc = &b.document;
    let versie = |naam: &str| doc.child(root, ns::AANLEVERING, naam);
    let ei = |n: NodeId| doc.child(n, ns::DATA, "ExpressionIdentificatie");
    match b.soort {
        ModuleSoort::AanleveringBesluit => {
            if let Some(e) = versie("BesluitVersie").and_then(ei) {
                besluit_rol(doc, e, loc, out);
            }
            regeling_versies(doc, root, loc, out);
        }
        ModuleSoort::AanleveringRectificatie => {
            if let Some(e) = versie("RectificatieVersie").and_then(ei) {
                doc_rol(doc, e, &STOP1044, loc, out);
            }
            if let Some(e) = versie("BesluitVersieInformatie").and_then(ei) {
                besluit_rol(doc, e, loc, out);
            }
            regeling_versies(doc, root, loc, out);
        }
        ModuleSoort::AanleveringRevisie => regeling_versies(doc, root, loc, out),
        ModuleSoort::AanleveringMededeling => {
            if let Some(e) = versie("MededelingVersie").and_then(ei) {
                doc_rol(doc, e, &STOP1037, loc, out);
            }
        }
        ModuleSoort::AanleveringKennisgeving => {
            if let Some(kv) = versie("KennisgevingVersie") {
                if let Some(e) = ei(kv) {
                    doc_rol(doc, e, &LVBB4707, loc, out);
                }
                if let Some(mo) = doc
                    .child(kv, ns::DATA, "KennisgevingMetadata")
                    .and_then(|m| doc.child(m, ns::DATA, "mededelingOver"))
                {
                    mededeling_over(doc, mo, loc, out);
                }
            }
        }
        ModuleSoort::AanleveringProcedureverloopmutatie => {
            if let Some(mo) = versie("ProcedureverloopmutatieVersie").and_then(|v| doc.child(v, ns::DATA, "mededelingOver")) {
                mededeling_over(doc, mo, loc, out);
            }
        }
        ModuleSoort::AanleveringInformatieObject => {
            if let Some(v) = versie("InformatieObjectVersie") {
                informatieobject(doc, v, loc, out);
            }
        }
        _ => {}
    }
}

fn soort_work(doc: &Document, ei: NodeId) -> (Option<NodeId>, String) {
    let n = doc.child(ei, ns::DATA, "soortWork");
    (n, n.and_then(|n| tekst_van(doc, n)).unwrap_or_default())
}

fn toon(s: &str) -> &str {
    if s.is_empty() { "(leeg)" } else { s }
}

fn besluit_rol(doc: &Document, ei: NodeId, loc: &dyn Fn(NodeId) -> Locatie, out: &mut Vec<Melding>) {
    let work_n = doc.child(ei, ns::DATA, "FRBRWork");
    let work = work_n.and_then(|n| tekst_van(doc, n)).unwrap_or_default();
    if let Some((akn, soort)) = soort_van(&work)
        && !(akn && soort == "bill")
    {
        out.push(STOP1013.melding(loc(work_n.unwrap_or(ei)), &[("id", &work)]));
    }
    let (sn, sw) = soort_work(doc, ei);
    if sw != WORK_BESLUIT {
        let id = if work.is_empty() { "(zonder FRBRWork)" } else { work.as_str() };
        out.push(BHKV1005.melding(loc(sn.unwrap_or(ei)), &[("id", &id), ("soortwork", &toon(&sw))]));
    }
}

fn doc_rol(doc: &Document, ei: NodeId, regel: &'static Regel, loc: &dyn Fn(NodeId) -> Locatie, out: &mut Vec<Melding>) {
    let Some(wn) = doc.child(ei, ns::DATA, "FRBRWork") else { return };
    let work = tekst_van(doc, wn).unwrap_or_default();
    if let Some((akn, soort)) = soort_van(&work)
        && !(akn && soort == "doc")
    {
        out.push(regel.melding(loc(wn), &[("id", &work)]));
    }
}

fn mededeling_over(doc: &Document, mo: NodeId, loc: &dyn Fn(NodeId) -> Locatie, out: &mut Vec<Melding>) {
    let Some(id) = tekst_van(doc, mo) else { return };
    if let Some((akn, soort)) = soort_van(&id)
        && !(akn && soort == "bill")
    {
        out.push(LVBB4708.melding(loc(mo), &[("id", &id), ("element", &"mededelingOver")]));
    }
}

/// LVBB4005 and BHKV1006 for each RegelingVersieInformatie of the file.
fn regeling_versies(doc: &Document, root: NodeId, loc: &dyn Fn(NodeId) -> Locatie, out: &mut Vec<Melding>) {
    let rvis: Vec<NodeId> = doc.elements(root).filter(|&r| doc.is(r, ns::AANLEVERING, "RegelingVersieInformatie")).collect();
    if rvis.is_empty() {
        return;
    }
    // The model of each initial regeling text, by its @wordt.
    let mut modellen: Vec<(String, &str)> = Vec::new();
    for n in doc.descendants(root) {
        if doc.ns(n) == ns::TEKST
            && doc.is_element(n)
            && matches!(doc.name(n), "RegelingCompact" | "RegelingVrijetekst" | "RegelingKlassiek" | "RegelingTijdelijkdeel")
            && let Some(w) = doc.attr(n, "wordt")
        {
            modellen.push((w.trim().to_string(), doc.name(n)));
        }
    }
    for r in rvis {
        let Some(ei) = doc.child(r, ns::DATA, "ExpressionIdentificatie") else { continue };
        let work_n = doc.child(ei, ns::DATA, "FRBRWork");
        let work = work_n.and_then(|n| tekst_van(doc, n)).unwrap_or_default();
        if let Some((akn, soort)) = soort_van(&work)
            && !(akn && soort == "act")
        {
            out.push(LVBB4005.melding(loc(work_n.unwrap_or(ei)), &[("id", &work)]));
        }
        let expr = doc.child(ei, ns::DATA, "FRBRExpression").and_then(|n| tekst_van(doc, n)).unwrap_or_default();
        let model = modellen.iter().find(|(w, _)| *w == expr).map(|(_, m)| *m);
        let tijdelijk = match model {
            Some(m) => m == "RegelingTijdelijkdeel",
            None => doc.child(ei, ns::DATA, "isTijdelijkDeelVan").is_some(),
        };
        let (verwacht, beschrijving) = match (model, tijdelijk) {
            (Some(m), true) => (WORK_TIJDELIJKDEEL, format!("een {m}")),
            (Some(m), false) => (WORK_REGELING, format!("een {m}")),
            (None, true) => (WORK_TIJDELIJKDEEL, "een tijdelijk regelingdeel (isTijdelijkDeelVan)".to_string()),
            (None, false) => (WORK_REGELING, "een regeling".to_string()),
        };
        let (sn, sw) = soort_work(doc, ei);
        if sw != verwacht {
            let id = if expr.is_empty() { work.as_str() } else { expr.as_str() };
            out.push(BHKV1006.melding(loc(sn.unwrap_or(ei)), &[
                ("id", &id),
                ("soortwork", &toon(&sw)),
                ("model", &beschrijving),
                ("verwacht", &verwacht),
            ]));
        }
    }
}

/// BHKV1016, BHKV1017 and BHKV1018 for an InformatieObjectVersie.
fn informatieobject(doc: &Document, v: NodeId, loc: &dyn Fn(NodeId) -> Locatie, out: &mut Vec<Melding>) {
    let mut work = String::new();
    if let Some(ei) = doc.child(v, ns::DATA, "ExpressionIdentificatie") {
        work = doc.child(ei, ns::DATA, "FRBRWork").and_then(|n| tekst_van(doc, n)).unwrap_or_default();
        let expr = doc.child(ei, ns::DATA, "FRBRExpression").and_then(|n| tekst_van(doc, n)).unwrap_or_default();
        let (sn, sw) = soort_work(doc, ei);
        if sw != WORK_IO {
            let id = if expr.is_empty() { work.as_str() } else { expr.as_str() };
            out.push(BHKV1016.melding(loc(sn.unwrap_or(ei)), &[("id", &id), ("soortwork", &toon(&sw))]));
        }
    }
    let Some(md) = doc.child(v, ns::DATA, "InformatieObjectMetadata") else { return };
    if work.is_empty() {
        return;
    }
    if let Some(t) = doc.child(md, ns::DATA, "officieleTitel") {
        let titel = tekst_van(doc, t).unwrap_or_default();
        if titel != work {
            out.push(BHKV1017.melding(loc(t), &[("titel", &titel), ("work", &work)]));
        }
    }
    if let Some(p) = doc.child(md, ns::DATA, "publicatieinstructie") {
        let instructie = tekst_van(doc, p).unwrap_or_default();
        let verwacht = match instructie.as_str() {
            "TeConsolideren" => "regdata",
            "AlleenBekendTeMaken" => "pubdata",
            "Informatief" => "infodata",
            // An unknown value is the schema's finding.
            _ => return,
        };
        let collectie = Delen::parse(&work).and_then(|d| d.soort()).unwrap_or("");
        if collectie != verwacht {
            out.push(BHKV1018.melding(loc(p), &[
                ("work", &work),
                ("instructie", &instructie),
                ("collectie", &toon(collectie)),
                ("verwacht", &verwacht),
            ]));
        }
    }
}

// --- Package and history ---

/// The element path of a module's own version element (`/AanleveringBesluit/BesluitVersie`).
fn versie_pad(soort: ModuleSoort) -> &'static str {
    match soort {
        ModuleSoort::AanleveringBesluit => "/AanleveringBesluit/BesluitVersie",
        ModuleSoort::AanleveringKennisgeving => "/AanleveringKennisgeving/KennisgevingVersie",
        ModuleSoort::AanleveringInformatieObject => "/AanleveringInformatieObject/InformatieObjectVersie",
        ModuleSoort::AanleveringRevisie => "/AanleveringRevisie/RevisieVersie",
        ModuleSoort::AanleveringRectificatie => "/AanleveringRectificatie/RectificatieVersie",
        ModuleSoort::AanleveringMededeling => "/AanleveringMededeling/MededelingVersie",
        _ => "",
    }
}

fn locatie(bestand: &str, pad: String, regel: Option<u32>) -> Locatie {
    Locatie { bestand: Some(bestand.to_string()), regel: regel.filter(|&r| r > 0), pad: Some(pad), ..Default::default() }
}

/// A work the package gives a new version or withdraws, and where it does so.
struct Gebruik {
    work: String,
    locatie: Locatie,
    /// A new version (not a withdrawal): the work may be one the besluit creates.
    versie: bool,
}

/// Every work the package changes: the regelingen of RegelingVersieInformatie, the instrumenten
/// of the ConsolidatieInformatie (new versions and withdrawals) and delivered informatieobjecten.
fn gewijzigde_works(l: &Levering<'_>) -> Vec<Gebruik> {
    let mut out: Vec<Gebruik> = Vec::new();
    let mut voeg = |work: &str, loc: Locatie, versie: bool| {
        match out.iter_mut().find(|g| g.work == work) {
            Some(g) => g.versie |= versie,
            None if !work.is_empty() => out.push(Gebruik { work: work.to_string(), locatie: loc, versie }),
            None => {}
        }
    };
    for m in l.modules {
        let root = versie_pad(m.soort);
        let root_el = root.split('/').nth(1).unwrap_or("");
        let rvis = match &m.inhoud {
            Inhoud::Besluit(b) => &b.regeling_versies[..],
            Inhoud::Revisie(p) | Inhoud::Rectificatie(p) => &p.regeling_versies[..],
            _ => &[][..],
        };
        for r in rvis {
            let pad = format!("/{root_el}/RegelingVersieInformatie/ExpressionIdentificatie/FRBRWork");
            voeg(&r.id.work, locatie(&m.bestand, pad, Some(r.regel)), true);
        }
        if let Some(c) = m.inhoud.consolidatie() {
            for (lijst, el) in [(&c.beoogde_regelingen, "BeoogdeRegeling"), (&c.beoogde_informatieobjecten, "BeoogdInformatieobject")] {
                for b in lijst.iter() {
                    let pad = format!("{root}/ConsolidatieInformatie/BeoogdeRegelgeving/{el}/instrumentVersie");
                    voeg(work_van(&b.instrument_versie), locatie(&m.bestand, pad, Some(b.regel)), true);
                }
            }
            for i in &c.intrekkingen {
                let pad = format!("{root}/ConsolidatieInformatie/Intrekkingen/Intrekking/instrument");
                voeg(work_van(&i.instrument), locatie(&m.bestand, pad, Some(i.regel)), false);
            }
        }
        if let Inhoud::InformatieObject(io) = &m.inhoud {
            voeg(&io.id.work, locatie(&m.bestand, format!("{root}/ExpressionIdentificatie/FRBRWork"), None), true);
        }
    }
    out
}

pub(crate) fn levering(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    let h = l.historie;
    let bg = l.opdracht.id_bevoegd_gezag.as_str();

    // LVBB4001 / LVBB4701: a besluit or kennisgeving has a new work.
    for m in l.modules {
        let (work, regel) = match &m.inhoud {
            Inhoud::Besluit(b) => (&b.id.work, &LVBB4001),
            Inhoud::Kennisgeving(k) => (&k.id.work, &LVBB4701),
            _ => continue,
        };
        if work.is_empty() {
            continue;
        }
        if let Some(w) = h.work(work)?
            && !w.afgebroken
        {
            let pad = format!("{}/ExpressionIdentificatie/FRBRWork", versie_pad(m.soort));
            out.push(regel.melding(locatie(&m.bestand, pad, None), &[("work", work), ("soort", &w.kind)]));
        }
    }

    // RB3101: an existing work changes only on behalf of its own bevoegd gezag.
    let gewijzigd = gewijzigde_works(l);
    let mut nieuw: BTreeSet<&str> = BTreeSet::new();
    for g in &gewijzigd {
        match h.work(&g.work)? {
            None => {
                nieuw.insert(&g.work);
            }
            Some(w) if w.afgebroken => {
                nieuw.insert(&g.work);
            }
            Some(w) => {
                if let Some(eigenaar) = &w.eigenaar
                    && !bg.is_empty()
                    && !eigenaar.is_empty()
                    && eigenaar != bg
                {
                    out.push(RB3101.melding(g.locatie.clone(), &[("work", &g.work), ("eigenaar", eigenaar), ("bg", &bg)]));
                }
            }
        }
    }

    // RB3102: the works a besluit creates carry its bevoegd gezag code.
    for m in l.modules {
        let Inhoud::Besluit(b) = &m.inhoud else { continue };
        let Some(code) = maker_van(&b.id.work) else { continue };
        for g in gewijzigd.iter().filter(|g| g.versie && nieuw.contains(g.work.as_str())) {
            if let Some(andere) = maker_van(&g.work)
                && andere != code
            {
                out.push(RB3102.melding(g.locatie.clone(), &[
                    ("besluit", &b.id.work),
                    ("code", &code),
                    ("work", &g.work),
                    ("andere", &andere),
                ]));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(id: &str, v: Verwacht) -> Vec<&'static str> {
        syntaxis(id, v, "FRBRWork").iter().map(|b| b.regel.code).collect()
    }

    #[test]
    fn splits_works_and_expressions() {
        let d = Delen::parse("/akn/nl/act/gm9901/2027/Plan/nld@2027-02-25;1").unwrap();
        assert_eq!(d.delen, ["akn", "nl", "act", "gm9901", "2027", "Plan", "nld"]);
        assert_eq!((d.lokaal(), d.taal(), d.expressie_datum()), (Some("Plan"), Some("nld"), Some("2027-02-25")));
        let w = Delen::parse("/join/id/regdata/gm9901/2027/Gebied").unwrap();
        assert!(w.opbouw_ok() && !w.is_expressie() && w.is_join());
        assert!(Delen::parse("akn/nl").is_none());
        assert!(!Delen::parse("/akn/nl/act/gm9901/2027/Plan/nld@2027/x").unwrap().opbouw_ok());
    }

    #[test]
    fn valid_identifiers_give_nothing() {
        for (id, v) in [
            ("/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier", Verwacht::Work),
            ("/akn/nl/act/gm9920/2021/TestReeksNummer1/nld@1", Verwacht::Expressie),
            ("/akn/nl/act/pv30/2020/omgevingsverordening/nld@2021-02-01;1", Verwacht::Expressie),
            ("/akn/nl/bill/gm1966/2019/3520/nld@2019", Verwacht::Expressie),
            ("/akn/nl/bill/pv26/2020/OVIPU001Ontwerp/nld@2020-05-12;2", Verwacht::Beide),
            ("/join/id/regdata/gm0307/2019/Bedrijf_categorie_2-intr-ini/nld@2019-06-18;3520", Verwacht::Expressie),
            ("/join/id/proces/pv73/2021-07-06/Instelling", Verwacht::Work),
            ("/akn/nl/officialGazette/gmb/2026/12345", Verwacht::Beide),
            ("/akn/nl/act/mnre1034/2016/x", Verwacht::Work),
            ("/akn/nl/act/mn002/2016/x", Verwacht::Work),
            ("/akn/nl/act/gemeente/2016/x/nld@2020-01-01", Verwacht::Expressie),
            ("/join/set/regdata/ws0155/2020/a-b_c", Verwacht::Work),
        ] {
            assert!(codes(id, v).is_empty(), "{id}: {:?}", codes(id, v));
        }
    }

    #[test]
    fn each_rule_fires() {
        let cases: &[(&str, Verwacht, &str)] = &[
            ("akn/nl/act/gm9901/2027/x", Verwacht::Work, "LVBB2008"),
            ("/urn/nl/act/gm9901/2027/x", Verwacht::Work, "LVBB2008"),
            ("/akn/be/act/gm9901/2027/x", Verwacht::Work, "LVBB2009"),
            ("/akn/nl/law/gm9901/2027/x", Verwacht::Work, "LVBB2010"),
            ("/join/ref/regdata/gm9901/2027/x", Verwacht::Work, "LVBB2011"),
            ("/join/id/data/gm9901/2027/x", Verwacht::Work, "LVBB2012"),
            ("/akn/nl/act/gm9901/27/x", Verwacht::Work, "LVBB2013"),
            ("/akn/nl/act/gm9901/2027-02-30/x", Verwacht::Work, "LVBB2013"),
            ("/join/id/regdata/gm9901/2027/x/nld@2026-12-31", Verwacht::Expressie, "LVBB2015"),
            ("/join/id/regdata/gm9901/2027-03-01/x/nld@2027-02-28", Verwacht::Expressie, "LVBB2015"),
            ("/akn/nl/act/gm9901/2027/x/nl@1", Verwacht::Expressie, "LVBB2016"),
            ("/akn/nl/act/gm9901/2027/x.y", Verwacht::Work, "LVBB2017"),
            ("/akn/nl/act/gm9901/2027/a/b", Verwacht::Work, "LVBB2019"),
            ("/akn/nl/act/gm9901/2027/a/nld@1", Verwacht::Work, "LVBB2019"),
            ("/akn/nl/act/gm9901/2027/a", Verwacht::Expressie, "LVBB2019"),
            ("/akn/nl/act/gm9901/2027/a/nld@1/b", Verwacht::Expressie, "LVBB2019"),
            ("/akn/nl/act/gm9901/2027/a b", Verwacht::Work, "LVBB2020"),
            ("/akn/nl/act/gm9901/2027/_ab", Verwacht::Work, "LVBB2020"),
            ("/akn/nl/act/gm9901/2027/", Verwacht::Work, "LVBB2020"),
            ("/akn/nl/officialGazette/gemeenteblad/2026/1", Verwacht::Work, "LVBB2022"),
            ("/akn/nl/bill/gm9901/2027/x/nld@1", Verwacht::Expressie, "STOP1007"),
            ("/join/id/regdata/gm9901/2027/x/nld@v1", Verwacht::Expressie, "STOP1007"),
            ("/akn/nl/act/GM9901/2027/x", Verwacht::Work, "STOP1010"),
            ("/akn/nl/act/gm99/2027/x", Verwacht::Work, "STOP1010"),
        ];
        for (id, v, code) in cases {
            assert!(codes(id, *v).contains(code), "{id}: want {code}, got {:?}", codes(id, *v));
        }
        let lang = format!("/akn/nl/act/gm9901/2027/{}", "a".repeat(129));
        assert_eq!(codes(&lang, Verwacht::Work), ["LVBB2021"]);
        let precies = format!("/akn/nl/act/gm9901/2027/{}", "a".repeat(128));
        assert!(codes(&precies, Verwacht::Work).is_empty());
        // A dot is one finding, not also a forbidden character.
        assert_eq!(codes("/akn/nl/act/gm9901/2027/x.y", Verwacht::Work), ["LVBB2017"]);
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in ["/", "/akn", "/akn/", "/join//", "/akn/nl/act/gm/2027/x/@", "/akn/@@@", "/join/id/regdata/gm9901/2027/x/nld@;", "/akn/é/ü/€/2027/ñ/nld@ü"] {
            for v in [Verwacht::Work, Verwacht::Expressie, Verwacht::Beide] {
                let _ = syntaxis(s, v, "x");
            }
        }
    }

    fn meldingen(xml: &str) -> Vec<String> {
        let (b, _) = stop::module::parse_bestand("besluit.xml", xml.as_bytes().to_vec()).unwrap();
        let mut out = Vec::new();
        bestand(&b, &mut out);
        out.iter().map(|m| m.code.clone()).collect()
    }

    fn besluit_met_tijdelijkdeel(soort_work: &str) -> String {
        format!(
            r#"<AanleveringBesluit xmlns="{a}" schemaversie="1.4.1">
  <BesluitVersie>
    <ExpressionIdentificatie xmlns="{d}">
      <FRBRWork>/akn/nl/bill/gm9901/2027/B</FRBRWork>
      <FRBRExpression>/akn/nl/bill/gm9901/2027/B/nld@2027-01-01;1</FRBRExpression>
      <soortWork>/join/id/stop/work_003</soortWork>
    </ExpressionIdentificatie>
    <BesluitCompact xmlns="{t}"><WijzigBijlage eId="cmp_A">
      <RegelingTijdelijkdeel componentnaam="t" wordt="/akn/nl/act/gm9901/2027/T/nld@2027-01-01;1"/>
    </WijzigBijlage></BesluitCompact>
  </BesluitVersie>
  <RegelingVersieInformatie>
    <ExpressionIdentificatie xmlns="{d}">
      <FRBRWork>/akn/nl/act/gm9901/2027/T</FRBRWork>
      <FRBRExpression>/akn/nl/act/gm9901/2027/T/nld@2027-01-01;1</FRBRExpression>
      <soortWork>{soort_work}</soortWork>
    </ExpressionIdentificatie>
  </RegelingVersieInformatie>
</AanleveringBesluit>"#,
            a = ns::AANLEVERING,
            d = ns::DATA,
            t = ns::TEKST
        )
    }

    #[test]
    fn soort_work_of_a_tijdelijk_regelingdeel() {
        assert!(!meldingen(&besluit_met_tijdelijkdeel(WORK_TIJDELIJKDEEL)).contains(&"BHKV1006".to_string()));
        assert!(meldingen(&besluit_met_tijdelijkdeel(WORK_REGELING)).contains(&"BHKV1006".to_string()));
        let odd = besluit_met_tijdelijkdeel(WORK_TIJDELIJKDEEL).replace("<soortWork>/join/id/stop/work_003</soortWork>", "");
        assert!(meldingen(&odd).contains(&"BHKV1005".to_string()));
    }

    #[test]
    fn maker_codes() {
        for ok in ["gm0363", "pv26", "ws0155", "mnre1034", "mn002", "gemeente"] {
            assert!(maker_geldig(ok), "{ok}");
        }
        for bad in ["GM0363", "gm363", "pv260", "mnre103", "", "rws"] {
            assert!(!maker_geldig(bad), "{bad}");
        }
    }
}
