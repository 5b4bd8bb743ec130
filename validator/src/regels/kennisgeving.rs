//! Kennisgevingen and procedureverloop: the besluit a kennisgeving (or a separate
//! procedureverloopmutatie) is about is known, published and not cancelled; procedure steps use
//! codes of the STOP waardelijst, only the steps each kind of document may carry, valid dates in
//! a sensible order; the soortKennisgeving decides what a kennisgeving must and must not contain.
//!
//! Sources: the BHKV schematron of LVBB 1.3.0-ic (`lvbb-aanlevering.sch`: BHKV1046–1049, 1057,
//! 1066, 1067), the LVBB rule list (validatiematrix `04-Validaties-LVBB-STOP-BHKV.md`:
//! LVBB4702–4705, 4738, 4740, 4754, 4758, 4760–4763) and the LVBB's own schematron for
//! kennisgevingen (LVBB4738, 4740, 4762, 4763; its LVBB4708, mededelingOver is a bill, is in
//! `identificatie`), STOP 1.4.0 `imop-procedure.sch` (step codes, STOP1302). Per-file checks
//! run with the XML tree (`bestand`); checks against the besluit run with the package and the
//! store's history (`levering`).
//!
//! Not checked: steps merged over the whole procedure (LVBB4750, 4751, 4755–4757: the store
//! keeps no procedureverloop), bekendOp of the besluit (LVBB4759), the order rules STOP1300,
//! STOP1303–1319.

use chrono::NaiveDate;

use crate::context::{HistorieFout, Levering};
use crate::regel::Regel;
use stop::module::{Inhoud, ModuleSoort, Procedurestap, Procedureverloopmutatie, StopBestand};
use stop::xml::{Document, NodeId};
use stop::{Locatie, Melding, ns};

regel!(RB3501, Fout, Inhoudelijk, Kennisgeving, Bestand, "regelbank", "soortStap is a code of the STOP waardelijst procedurestap",
    "soortStap '{stap}' is geen procedurestap uit de STOP-waardelijst. Gebruik een van: {toegestaan}.");
regel!(RB3502, Fout, Inhoudelijk, Kennisgeving, Bestand, "regelbank", "Dates in a Procedureverloop(mutatie) (bekendOp, ontvangenOp, voltooidOp, datumTeMuterenStap) are valid dates",
    "{element} '{waarde}' is geen geldige datum. Gebruik de vorm JJJJ-MM-DD.");
regel!(RB3503, Waarschuwing, Inhoudelijk, Kennisgeving, Bestand, "regelbank", "A step that records an event (vaststelling, ondertekening, beroep, schorsing) is not completed after bekendOp (a waarschuwing: an LVBB test delivery has one)",
    "Procedurestap {stap} is voltooid op {datum}, na bekendOp {bekend_op}. Deze stap is een gebeurtenis die al moet hebben plaatsgevonden als het procedureverloop bekend wordt; controleer beide datums.");
regel!(RB3504, Fout, Inhoudelijk, Kennisgeving, Levering, "regelbank", "The besluit in mededelingOver is not cancelled (afgebroken)",
    "Het besluit '{besluit}' in mededelingOver is afgebroken. Over een afgebroken besluit kan geen kennisgeving of procedureverloopmutatie meer worden aangeleverd; corrigeer mededelingOver.");
regel!(BHKV1046, Fout, Inhoudelijk, Kennisgeving, Bestand, "BHKV", "The Procedureverloop of a besluit has no step Publicatie (stap_004)",
    "Het Procedureverloop van het besluit bevat de stap {stap}. Die stap mag niet worden aangeleverd: de LVBB leidt hem af uit de bekendmaking. Verwijder de stap.");
regel!(LVBB4754, Fout, Inhoudelijk, Kennisgeving, Bestand, "LVBB", "A Procedureverloopmutatie (in a kennisgeving or delivered separately) has no step Publicatie (stap_004)",
    "De Procedureverloopmutatie bevat de stap {stap}. Die stap mag niet worden aangeleverd: de LVBB leidt hem af uit de bekendmaking. Verwijder de stap.");
regel!(BHKV1047, Fout, Inhoudelijk, Kennisgeving, Bestand, "BHKV", "A definitive besluit has only the steps Vaststelling (stap_002) and Ondertekening (stap_003)",
    "Procedurestap {stap} is niet toegestaan in het Procedureverloop van een definitief besluit; daar horen alleen Vaststelling (stap_002) en Ondertekening (stap_003). Verwijder de stap; termijnen en beroep worden later met een kennisgeving of procedureverloopmutatie aangeleverd.");
regel!(BHKV1048, Fout, Inhoudelijk, Kennisgeving, Bestand, "BHKV", "The Procedureverloop of a definitive besluit has the step Ondertekening (stap_003)",
    "Het Procedureverloop van definitief besluit '{besluit}' mist de verplichte stap Ondertekening (/join/id/stop/procedure/stap_003). Voeg deze stap toe met de datum van ondertekening.");
regel!(BHKV1049, Fout, Inhoudelijk, Kennisgeving, Bestand, "BHKV", "An ontwerpbesluit has only the steps Vaststelling (stap_002) and Ondertekening (stap_003)",
    "Procedurestap {stap} is niet toegestaan in het Procedureverloop van een ontwerpbesluit; daar horen alleen Vaststelling (stap_002) en Ondertekening (stap_003). Verwijder de stap; de inzagetermijn wordt met de kennisgeving aangeleverd.");
regel!(BHKV1066, Fout, Inhoudelijk, Kennisgeving, Bestand, "BHKV", "A definitive besluit has a Procedureverloop",
    "Besluit '{besluit}' heeft soortProcedure definitief maar geen Procedureverloop. Voeg een Procedureverloop toe met ten minste de stap Ondertekening, of corrigeer soortProcedure.");
regel!(BHKV1057, Fout, Inhoudelijk, Kennisgeving, Bestand, "BHKV", "A kennisgeving carries only the steps Begin/Einde inzagetermijn (stap_014, stap_005) and Einde bezwaar-/beroepstermijn (stap_015, stap_016) (the BHKV schematron's context never matches a kennisgeving; we check what it intends)",
    "Procedurestap {stap} is niet toegestaan in een kennisgeving; daar horen alleen Begin inzagetermijn (stap_014), Einde inzagetermijn (stap_005), Einde bezwaartermijn (stap_015) en Einde beroepstermijn (stap_016). Verwijder de stap.");
regel!(STOP1302, Fout, Inhoudelijk, Kennisgeving, Bestand, "STOP", "A step that occurs once in a procedure (all but beroep ingesteld and schorsing) occurs once in a Procedureverloop or voegStappenToe",
    "Procedurestap {stap} komt meer dan één keer voor (voltooid op {datum1} en op {datum2}); deze stap mag maar één keer voorkomen. Verwijder een van beide.");
regel!(LVBB4758, Fout, Inhoudelijk, Kennisgeving, Bestand, "LVBB", "Einde inzagetermijn (stap_005) is not before begin inzagetermijn (stap_014)",
    "Einde inzagetermijn ({einde}) ligt vóór begin inzagetermijn ({begin}). Corrigeer de datums.");
regel!(LVBB4738, Fout, Inhoudelijk, Kennisgeving, Bestand, "LVBB", "soortKennisgeving KennisgevingUitspraakRechter is not used",
    "soortKennisgeving 'KennisgevingUitspraakRechter' wordt door de LVBB niet ondersteund. Gebruik KennisgevingBesluittermijnen of KennisgevingVoorgenomenBesluit.");
regel!(LVBB4740, Fout, Inhoudelijk, Kennisgeving, Bestand, "LVBB", "A KennisgevingVoorgenomenBesluit has no mededelingOver",
    "Een KennisgevingVoorgenomenBesluit gaat over een besluit dat nog niet genomen is en mag geen mededelingOver bevatten (hier '{besluit}'). Verwijder mededelingOver of kies soortKennisgeving KennisgevingBesluittermijnen.");
regel!(LVBB4763, Fout, Inhoudelijk, Kennisgeving, Bestand, "LVBB", "A KennisgevingVoorgenomenBesluit has no Procedureverloopmutatie",
    "Een KennisgevingVoorgenomenBesluit mag geen Procedureverloopmutatie bevatten. Verwijder de Procedureverloopmutatie of kies soortKennisgeving KennisgevingBesluittermijnen.");
regel!(LVBB4762, Fout, Inhoudelijk, Kennisgeving, Bestand, "LVBB (BHKV1067)", "A KennisgevingBesluittermijnen (also when soortKennisgeving is absent: the schema default) has a Procedureverloopmutatie with steps to add, replace or remove",
    "Kennisgeving '{kennisgeving}' is een KennisgevingBesluittermijnen maar heeft geen Procedureverloopmutatie met voegStappenToe, vervangStappen of verwijderStappen. Lever de termijnen aan als procedurestappen, of kies een andere soortKennisgeving.");
regel!(BHKV1067, Fout, Inhoudelijk, Kennisgeving, Bestand, "BHKV (STOP1075)", "A KennisgevingBesluittermijnen (also when soortKennisgeving is absent) names its besluit in mededelingOver",
    "Kennisgeving '{kennisgeving}' is een KennisgevingBesluittermijnen maar noemt in mededelingOver niet het besluit waarover zij gaat. Voeg mededelingOver toe met de expressie-identificatie van het besluit.");
regel!(LVBB4702, Fout, Inhoudelijk, Kennisgeving, Levering, "LVBB", "The besluit in mededelingOver is known: delivered earlier or in the same package",
    "Het besluit '{besluit}' in mededelingOver is niet bekend: het is niet eerder aangeleverd en zit ook niet in deze levering. Lever eerst het besluit aan of corrigeer mededelingOver.");
regel!(LVBB4705, Fout, Inhoudelijk, Kennisgeving, Levering, "LVBB", "The besluit a kennisgeving is about is published: its datumBekendmaking is not after the kennisgeving's",
    "Het besluit '{besluit}' in mededelingOver wordt pas op {datum} bekendgemaakt, na de kennisgeving ({kennisgeving_datum}). Een kennisgeving kan alleen gaan over een besluit dat uiterlijk tegelijk met de kennisgeving is bekendgemaakt. Kies een latere datumBekendmaking voor de kennisgeving.");
regel!(LVBB4703, Fout, Inhoudelijk, Kennisgeving, Levering, "LVBB", "Begin inzagetermijn (stap_014) is not before the kennisgeving's datumBekendmaking",
    "Begin inzagetermijn ({begin}) ligt vóór de datum van bekendmaking van de kennisgeving ({datum}). De inzagetermijn kan pas beginnen als de kennisgeving is bekendgemaakt; corrigeer de datum.");
regel!(LVBB4704, Fout, Inhoudelijk, Kennisgeving, Levering, "LVBB", "Begin inzagetermijn (stap_014) is not before the datumBekendmaking of the besluit in mededelingOver",
    "Begin inzagetermijn ({begin}) ligt vóór de datum van bekendmaking van het besluit '{besluit}' ({datum}). Corrigeer de datum.");
regel!(LVBB4760, Fout, Inhoudelijk, Kennisgeving, Levering, "LVBB", "A kennisgeving about an ontwerpbesluit carries only Begin and Einde inzagetermijn (stap_014, stap_005)",
    "Procedurestap {stap} is niet toegestaan in een kennisgeving over ontwerpbesluit '{besluit}'; daar horen alleen Begin inzagetermijn (stap_014) en Einde inzagetermijn (stap_005).");
regel!(LVBB4761, Fout, Inhoudelijk, Kennisgeving, Levering, "LVBB", "A kennisgeving about a definitive besluit carries only Einde bezwaartermijn and Einde beroepstermijn (stap_015, stap_016)",
    "Procedurestap {stap} is niet toegestaan in een kennisgeving over definitief besluit '{besluit}'; daar horen alleen Einde bezwaartermijn (stap_015) en Einde beroepstermijn (stap_016).");

pub static REGELS: &[&Regel] = &[
    &RB3501, &RB3502, &RB3503, &RB3504, &BHKV1046, &LVBB4754, &BHKV1047, &BHKV1048, &BHKV1049, &BHKV1066, &BHKV1057,
    &STOP1302, &LVBB4758, &LVBB4738, &LVBB4740, &LVBB4763, &LVBB4762, &BHKV1067, &LVBB4702, &LVBB4705,
    &LVBB4703, &LVBB4704, &LVBB4760, &LVBB4761,
];

/// The STOP waardelijst procedurestap (`/join/id/stop/procedure/stap_…`) as of STOP 1.3.0 and
/// 1.4.0, with the names of the steps. Source: the step table of the STOP schematron
/// `imop-procedure.sch` (STOP 1.4.0, `../shared/schemas/stop-1.4.0-schematron/`; the same
/// codes minus stap_022 in STOP 1.3.0). Codes stap_001 and stap_006…013 and stap_017 are not
/// (or no longer) part of the list.
pub const PROCEDURESTAPPEN: &[(&str, &str)] = &[
    ("/join/id/stop/procedure/stap_002", "Vaststelling"),
    ("/join/id/stop/procedure/stap_003", "Ondertekening"),
    ("/join/id/stop/procedure/stap_004", "Publicatie"),
    ("/join/id/stop/procedure/stap_005", "Einde inzagetermijn"),
    ("/join/id/stop/procedure/stap_014", "Begin inzagetermijn"),
    ("/join/id/stop/procedure/stap_015", "Einde bezwaartermijn"),
    ("/join/id/stop/procedure/stap_016", "Einde beroepstermijn"),
    ("/join/id/stop/procedure/stap_018", "Beroep(en) ingesteld"),
    ("/join/id/stop/procedure/stap_019", "Schorsing"),
    ("/join/id/stop/procedure/stap_020", "Schorsing opgeheven"),
    ("/join/id/stop/procedure/stap_021", "Beroep(en) definitief afgedaan"),
    ("/join/id/stop/procedure/stap_022", "Beperken vindbaarheid"),
];

const VASTSTELLING: &str = "/join/id/stop/procedure/stap_002";
const ONDERTEKENING: &str = "/join/id/stop/procedure/stap_003";
const PUBLICATIE: &str = "/join/id/stop/procedure/stap_004";
const EINDE_INZAGE: &str = "/join/id/stop/procedure/stap_005";
const BEGIN_INZAGE: &str = "/join/id/stop/procedure/stap_014";
const EINDE_BEZWAAR: &str = "/join/id/stop/procedure/stap_015";
const EINDE_BEROEP: &str = "/join/id/stop/procedure/stap_016";

/// Steps that occur at most once in a procedure (`uniek` in `imop-procedure.sch` 1.4.0).
const UNIEK: &[&str] = &[
    VASTSTELLING,
    ONDERTEKENING,
    PUBLICATIE,
    EINDE_INZAGE,
    BEGIN_INZAGE,
    EINDE_BEZWAAR,
    EINDE_BEROEP,
    "/join/id/stop/procedure/stap_021",
    "/join/id/stop/procedure/stap_022",
];

/// Steps that record something that happened (not a term announced in advance): completed no
/// later than the procedure information is known.
const GEBEURTENISSEN: &[&str] = &[
    VASTSTELLING,
    ONDERTEKENING,
    "/join/id/stop/procedure/stap_018",
    "/join/id/stop/procedure/stap_019",
    "/join/id/stop/procedure/stap_020",
    "/join/id/stop/procedure/stap_021",
];

/// Steps a besluit's own Procedureverloop may carry (BHKV1047, BHKV1049).
const BESLUIT_STAPPEN: &[&str] = &[VASTSTELLING, ONDERTEKENING];
/// Steps a kennisgeving may carry (BHKV1057).
const KENNISGEVING_STAPPEN: &[&str] = &[EINDE_INZAGE, BEGIN_INZAGE, EINDE_BEZWAAR, EINDE_BEROEP];
/// Steps of a kennisgeving about an ontwerpbesluit (LVBB4760) or a definitive besluit (LVBB4761).
const ONTWERP_KENNISGEVING_STAPPEN: &[&str] = &[EINDE_INZAGE, BEGIN_INZAGE];
const DEFINITIEF_KENNISGEVING_STAPPEN: &[&str] = &[EINDE_BEZWAAR, EINDE_BEROEP];

const BESLUITTERMIJNEN: &str = "KennisgevingBesluittermijnen";
const VOORGENOMEN_BESLUIT: &str = "KennisgevingVoorgenomenBesluit";
const UITSPRAAK_RECHTER: &str = "KennisgevingUitspraakRechter";

fn bekende_stap(code: &str) -> bool {
    PROCEDURESTAPPEN.iter().any(|(c, _)| *c == code)
}

/// A step for messages: `/join/id/stop/procedure/stap_003 (Ondertekening)`.
fn stap_tekst(code: &str) -> String {
    match PROCEDURESTAPPEN.iter().find(|(c, _)| *c == code) {
        Some((c, naam)) => format!("{c} ({naam})"),
        None => format!("'{code}'"),
    }
}

fn waardelijst() -> String {
    let v: Vec<String> = PROCEDURESTAPPEN
        .iter()
        .map(|(c, n)| format!("{} ({n})", c.rsplit('/').next().unwrap_or(c)))
        .collect();
    v.join(", ")
}

/// An `xs:date`: `YYYY-MM-DD`, optionally with a time zone (`Z`, `+01:00`).
pub(crate) fn xs_datum(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() < 10 || !s.is_char_boundary(10) {
        return None;
    }
    let (d, tz) = s.split_at(10);
    let b = tz.as_bytes();
    let tz_ok = tz.is_empty()
        || tz == "Z"
        || (b.len() == 6
            && (b[0] == b'+' || b[0] == b'-')
            && b[1].is_ascii_digit()
            && b[2].is_ascii_digit()
            && b[3] == b':'
            && b[4].is_ascii_digit()
            && b[5].is_ascii_digit());
    if !tz_ok {
        return None;
    }
    stop::opdracht::parse_date(d)
}

fn is_besluit_id(id: &str) -> bool {
    let work = stop::ident::work_of(id).unwrap_or(id);
    stop::ident::WorkId::parse(work).is_some_and(|w| w.schema == stop::ident::Schema::Akn && w.soort == "bill")
}

// ---------------------------------------------------------------------------------------------
// per file

/// A Procedurestap or Procedurestapref as found in the tree.
struct Stap {
    node: NodeId,
    code: String,
    code_node: Option<NodeId>,
    voltooid: Option<(String, NodeId)>,
}

impl Stap {
    fn datum(&self) -> Option<NaiveDate> {
        self.voltooid.as_ref().and_then(|(t, _)| xs_datum(t))
    }

    fn datum_tekst(&self) -> &str {
        self.voltooid.as_ref().map(|(t, _)| t.as_str()).unwrap_or("-")
    }
}

struct Cx<'a> {
    b: &'a StopBestand,
    doc: &'a Document,
    out: &'a mut Vec<Melding>,
}

impl Cx<'_> {
    fn loc(&self, n: NodeId) -> Locatie {
        stop::locatie(self.doc, &self.b.bestand, n)
    }

    fn tekst(&self, n: NodeId) -> String {
        self.doc.text(n).trim().to_string()
    }

    fn data(&self, parent: NodeId, name: &str) -> Option<NodeId> {
        self.doc.child(parent, ns::DATA, name)
    }

    /// The steps (Procedurestap or Procedurestapref) directly inside `parent`.
    fn stappen(&self, parent: Option<NodeId>) -> Vec<Stap> {
        let doc = self.doc;
        let Some(p) = parent else { return Vec::new() };
        doc.elements(p)
            .filter(|&s| doc.is(s, ns::DATA, "Procedurestap") || doc.is(s, ns::DATA, "Procedurestapref"))
            .map(|s| {
                let code_node = self.data(s, "soortStap");
                Stap {
                    node: s,
                    code: code_node.map(|c| self.tekst(c)).unwrap_or_default(),
                    code_node,
                    voltooid: self.data(s, "voltooidOp").map(|v| (self.tekst(v), v)),
                }
            })
            .collect()
    }

    fn stap_loc(&self, s: &Stap) -> Locatie {
        self.loc(s.code_node.unwrap_or(s.node))
    }

    /// RB3502 for a date element; its value when valid.
    fn datum(&mut self, n: Option<NodeId>) -> Option<NaiveDate> {
        let n = n?;
        let t = self.tekst(n);
        let d = xs_datum(&t);
        if d.is_none() {
            let el = self.doc.name(n).to_string();
            let m = RB3502.melding(self.loc(n), &[("element", &el), ("waarde", &t)]);
            self.out.push(m);
        }
        d
    }

    /// Checks every list of steps gets: known code (RB3501), valid dates (RB3502), events not
    /// after bekendOp (RB3503).
    fn stappen_algemeen(&mut self, stappen: &[Stap], bekend_op: Option<NaiveDate>) {
        for s in stappen {
            if !bekende_stap(&s.code) {
                let m = RB3501.melding(self.stap_loc(s), &[("stap", &s.code), ("toegestaan", &waardelijst())]);
                self.out.push(m);
            }
            let datum = self.datum(s.voltooid.as_ref().map(|(_, n)| *n));
            if let Some(te_muteren) = self.data(s.node, "datumTeMuterenStap") {
                self.datum(Some(te_muteren));
            }
            if let (Some(d), Some(b)) = (datum, bekend_op)
                && d > b
                && GEBEURTENISSEN.contains(&s.code.as_str())
                && let Some((_, n)) = &s.voltooid
            {
                let m = RB3503.melding(self.loc(*n), &[("stap", &stap_tekst(&s.code)), ("datum", &d), ("bekend_op", &b)]);
                self.out.push(m);
            }
        }
    }

    /// STOP1302: a unique step occurs once in the list.
    fn uniek(&mut self, stappen: &[Stap]) {
        for (i, s) in stappen.iter().enumerate() {
            if !UNIEK.contains(&s.code.as_str()) {
                continue;
            }
            if let Some(eerder) = stappen[..i].iter().find(|e| e.code == s.code) {
                let m = STOP1302.melding(self.stap_loc(s), &[
                    ("stap", &stap_tekst(&s.code)),
                    ("datum1", &eerder.datum_tekst()),
                    ("datum2", &s.datum_tekst()),
                ]);
                self.out.push(m);
            }
        }
    }

    /// LVBB4758: einde inzagetermijn not before begin inzagetermijn, within these steps.
    fn inzagetermijn(&mut self, stappen: &[&Stap]) {
        let begin = stappen.iter().find(|s| s.code == BEGIN_INZAGE).and_then(|s| s.datum());
        for s in stappen.iter().filter(|s| s.code == EINDE_INZAGE) {
            if let (Some(b), Some(e)) = (begin, s.datum())
                && e < b
                && let Some((_, n)) = &s.voltooid
            {
                let m = LVBB4758.melding(self.loc(*n), &[("einde", &e), ("begin", &b)]);
                self.out.push(m);
            }
        }
    }

    fn besluit(&mut self, root: NodeId) {
        let doc = self.doc;
        let Some(bv) = doc.child(root, ns::AANLEVERING, "BesluitVersie") else { return };
        let id = self
            .data(bv, "ExpressionIdentificatie")
            .and_then(|e| self.data(e, "FRBRExpression"))
            .map(|n| self.tekst(n))
            .unwrap_or_default();
        let soort_node = self.data(bv, "BesluitMetadata").and_then(|m| self.data(m, "soortProcedure"));
        let soort = soort_node.map(|n| self.tekst(n)).unwrap_or_default();
        let definitief = soort.ends_with("/proceduretype_definitief");
        let ontwerp = soort.ends_with("/proceduretype_ontwerp");
        let Some(pv) = self.data(bv, "Procedureverloop") else {
            if definitief {
                let m = BHKV1066.melding(self.loc(soort_node.unwrap_or(bv)), &[("besluit", &id)]);
                self.out.push(m);
            }
            return;
        };
        let bekend_op = self.datum(self.data(pv, "bekendOp"));
        self.datum(self.data(pv, "ontvangenOp"));
        let lijst = self.data(pv, "procedurestappen");
        let stappen = self.stappen(lijst);
        self.stappen_algemeen(&stappen, bekend_op);
        self.uniek(&stappen);
        self.inzagetermijn(&stappen.iter().collect::<Vec<_>>());
        for s in &stappen {
            let stap = stap_tekst(&s.code);
            if s.code == PUBLICATIE {
                let m = BHKV1046.melding(self.stap_loc(s), &[("stap", &stap)]);
                self.out.push(m);
            } else if bekende_stap(&s.code) && !BESLUIT_STAPPEN.contains(&s.code.as_str()) {
                let regel = if definitief {
                    &BHKV1047
                } else if ontwerp {
                    &BHKV1049
                } else {
                    continue;
                };
                let m = regel.melding(self.stap_loc(s), &[("stap", &stap)]);
                self.out.push(m);
            }
        }
        if definitief && !stappen.iter().any(|s| s.code == ONDERTEKENING) {
            let m = BHKV1048.melding(self.loc(lijst.unwrap_or(pv)), &[("besluit", &id)]);
            self.out.push(m);
        }
    }

    /// A Procedureverloopmutatie, in a kennisgeving or in an AanleveringProcedureverloopmutatie.
    /// Returns whether it has steps to add, replace or remove.
    fn mutatie(&mut self, pvm: NodeId, in_kennisgeving: bool) -> bool {
        let bekend_op = self.datum(self.data(pvm, "bekendOp"));
        let voeg = self.stappen(self.data(pvm, "voegStappenToe"));
        let vervang = self.stappen(self.data(pvm, "vervangStappen"));
        let verwijder = self.stappen(self.data(pvm, "verwijderStappen"));
        self.stappen_algemeen(&voeg, bekend_op);
        self.stappen_algemeen(&vervang, bekend_op);
        self.stappen_algemeen(&verwijder, None);
        self.uniek(&voeg);
        let nieuw: Vec<&Stap> = voeg.iter().chain(&vervang).collect();
        self.inzagetermijn(&nieuw);
        for s in &nieuw {
            let stap = stap_tekst(&s.code);
            if s.code == PUBLICATIE {
                let m = LVBB4754.melding(self.stap_loc(s), &[("stap", &stap)]);
                self.out.push(m);
            } else if in_kennisgeving && bekende_stap(&s.code) && !KENNISGEVING_STAPPEN.contains(&s.code.as_str()) {
                let m = BHKV1057.melding(self.stap_loc(s), &[("stap", &stap)]);
                self.out.push(m);
            }
        }
        !(voeg.is_empty() && vervang.is_empty() && verwijder.is_empty())
    }

    fn kennisgeving(&mut self, root: NodeId) {
        let doc = self.doc;
        let Some(kv) = doc.child(root, ns::AANLEVERING, "KennisgevingVersie") else { return };
        let id = self
            .data(kv, "ExpressionIdentificatie")
            .and_then(|e| self.data(e, "FRBRExpression"))
            .map(|n| self.tekst(n))
            .unwrap_or_default();
        let md = self.data(kv, "KennisgevingMetadata");
        let soort_node = md.and_then(|m| self.data(m, "soortKennisgeving"));
        let soort = soort_node.map(|n| self.tekst(n)).unwrap_or_else(|| BESLUITTERMIJNEN.to_string());
        let over = md.and_then(|m| self.data(m, "mededelingOver")).filter(|&n| !self.tekst(n).is_empty());
        let pvm = self.data(kv, "Procedureverloopmutatie");
        let met_stappen = match pvm {
            Some(p) => self.mutatie(p, true),
            None => false,
        };
        match soort.as_str() {
            UITSPRAAK_RECHTER => {
                let m = LVBB4738.melding(self.loc(soort_node.unwrap_or(kv)), &[]);
                self.out.push(m);
            }
            VOORGENOMEN_BESLUIT => {
                if let Some(n) = over {
                    let m = LVBB4740.melding(self.loc(n), &[("besluit", &self.tekst(n))]);
                    self.out.push(m);
                }
                if let Some(p) = pvm {
                    let m = LVBB4763.melding(self.loc(p), &[]);
                    self.out.push(m);
                }
            }
            BESLUITTERMIJNEN => {
                if over.is_none() {
                    let m = BHKV1067.melding(self.loc(md.unwrap_or(kv)), &[("kennisgeving", &id)]);
                    self.out.push(m);
                }
                if !met_stappen {
                    let m = LVBB4762.melding(self.loc(pvm.unwrap_or(kv)), &[("kennisgeving", &id)]);
                    self.out.push(m);
                }
            }
            _ => {}
        }
    }

    fn procedureverloopmutatie(&mut self, root: NodeId) {
        let doc = self.doc;
        let Some(v) = doc.child(root, ns::AANLEVERING, "ProcedureverloopmutatieVersie") else { return };
        if let Some(p) = self.data(v, "Procedureverloopmutatie") {
            self.mutatie(p, false);
        }
    }
}

pub(crate) fn bestand(b: &StopBestand, out: &mut Vec<Melding>) {
    let doc = &b.document;
    let Some(root) = doc.root() else { return };
    let mut cx = Cx { b, doc, out };
    match b.soort {
        ModuleSoort::AanleveringBesluit => cx.besluit(root),
        ModuleSoort::AanleveringKennisgeving => cx.kennisgeving(root),
        ModuleSoort::AanleveringProcedureverloopmutatie => cx.procedureverloopmutatie(root),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// package and history

/// What rules need to know about the besluit a kennisgeving is about.
struct BesluitFeit {
    ontwerp: bool,
    datum_bekendmaking: Option<NaiveDate>,
    afgebroken: bool,
}

/// The besluit `id` (expression or work) in this package or in the store.
fn zoek_besluit(l: &Levering<'_>, id: &str) -> Result<Option<BesluitFeit>, HistorieFout> {
    for m in l.modules {
        if let Inhoud::Besluit(b) = &m.inhoud
            && (b.id.expression == id || b.id.work == id)
        {
            let datum = if l.opdracht.soort.heeft_datum_bekendmaking() { l.opdracht.datum_bekendmaking() } else { None };
            return Ok(Some(BesluitFeit { ontwerp: b.is_ontwerp(), datum_bekendmaking: datum, afgebroken: false }));
        }
    }
    let h = l.historie;
    if let Some(e) = h.expressie(id)?
        && e.kind == "besluit"
    {
        let work_afgebroken = h.work(&e.work)?.is_some_and(|w| w.afgebroken);
        return Ok(Some(BesluitFeit {
            ontwerp: e.ontwerp,
            datum_bekendmaking: e.datum_bekendmaking,
            afgebroken: e.afgebroken || work_afgebroken,
        }));
    }
    if let Some(w) = h.work(id)?
        && w.kind == "besluit"
    {
        // A work: its most recent expression that is not cancelled, else any.
        let mut gevonden: Option<BesluitFeit> = None;
        for e in &w.expressions {
            if let Some(x) = h.expressie(e)?
                && x.kind == "besluit"
            {
                let f = BesluitFeit {
                    ontwerp: x.ontwerp,
                    datum_bekendmaking: x.datum_bekendmaking,
                    afgebroken: x.afgebroken || w.afgebroken,
                };
                if gevonden.as_ref().is_none_or(|g| g.afgebroken || !f.afgebroken) {
                    gevonden = Some(f);
                }
            }
        }
        return Ok(Some(gevonden.unwrap_or(BesluitFeit {
            ontwerp: false,
            datum_bekendmaking: None,
            afgebroken: w.afgebroken,
        })));
    }
    Ok(None)
}

fn pad_loc(bestand: &str, pad: String) -> Locatie {
    Locatie { bestand: Some(bestand.to_string()), pad: Some(pad), ..Default::default() }
}

/// The steps a Procedureverloopmutatie adds or replaces, with their element path.
fn nieuwe_stappen<'a>(p: &'a Procedureverloopmutatie, basis: &str) -> Vec<(&'a Procedurestap, String)> {
    let voeg = p.voeg_stappen_toe.iter().map(|s| (s, format!("{basis}/voegStappenToe/Procedurestap")));
    let vervang = p.vervang_stappen.iter().map(|s| (s, format!("{basis}/vervangStappen/Procedurestap")));
    voeg.chain(vervang).collect()
}

pub(crate) fn levering(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    let o = l.opdracht;
    let datum_opdracht = if o.soort.heeft_datum_bekendmaking() { o.datum_bekendmaking() } else { None };
    for m in l.modules {
        let (over, mutatie, root, versie, kennisgeving) = match &m.inhoud {
            Inhoud::Kennisgeving(k) => (
                k.metadata.get("mededelingOver").map(str::to_string),
                k.procedureverloopmutatie.as_ref(),
                "AanleveringKennisgeving",
                "KennisgevingVersie",
                true,
            ),
            Inhoud::Procedureverloopmutatie { mededeling_over, mutatie } => (
                mededeling_over.clone(),
                mutatie.as_ref(),
                "AanleveringProcedureverloopmutatie",
                "ProcedureverloopmutatieVersie",
                false,
            ),
            _ => continue,
        };
        let bestand = m.bestand.as_str();
        let basis = format!("/{root}/{versie}/Procedureverloopmutatie");
        let stappen: Vec<(&Procedurestap, String)> = match mutatie {
            Some(p) if kennisgeving => nieuwe_stappen(p, &basis),
            _ => Vec::new(),
        };
        let begin_inzage: Vec<(NaiveDate, &String)> = stappen
            .iter()
            .filter(|(s, _)| s.soort_stap.trim() == BEGIN_INZAGE)
            .filter_map(|(s, pad)| s.voltooid_op.as_deref().and_then(xs_datum).map(|d| (d, pad)))
            .collect();
        if let Some(d) = datum_opdracht {
            for (begin, pad) in &begin_inzage {
                if *begin < d {
                    out.push(LVBB4703.melding(pad_loc(bestand, format!("{pad}/voltooidOp")), &[("begin", begin), ("datum", &d)]));
                }
            }
        }
        let Some(over) = over.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) else { continue };
        if !is_besluit_id(&over) {
            continue; // not a besluit: LVBB4708 (identificatie)
        }
        let over_pad = if kennisgeving {
            format!("/{root}/{versie}/KennisgevingMetadata/mededelingOver")
        } else {
            format!("/{root}/{versie}/mededelingOver")
        };
        let over_loc = pad_loc(bestand, over_pad);
        let Some(besluit) = zoek_besluit(l, &over)? else {
            out.push(LVBB4702.melding(over_loc, &[("besluit", &over)]));
            continue;
        };
        if besluit.afgebroken {
            out.push(RB3504.melding(over_loc.clone(), &[("besluit", &over)]));
        }
        if kennisgeving
            && let (Some(b), Some(k)) = (besluit.datum_bekendmaking, datum_opdracht)
            && b > k
        {
            out.push(LVBB4705.melding(over_loc.clone(), &[("besluit", &over), ("datum", &b), ("kennisgeving_datum", &k)]));
        }
        if let Some(b) = besluit.datum_bekendmaking {
            for (begin, pad) in &begin_inzage {
                if *begin < b {
                    out.push(LVBB4704.melding(pad_loc(bestand, format!("{pad}/voltooidOp")), &[
                        ("begin", begin),
                        ("besluit", &over),
                        ("datum", &b),
                    ]));
                }
            }
        }
        let (toegestaan, regel) = if besluit.ontwerp {
            (ONTWERP_KENNISGEVING_STAPPEN, &LVBB4760)
        } else {
            (DEFINITIEF_KENNISGEVING_STAPPEN, &LVBB4761)
        };
        for (s, pad) in &stappen {
            let code = s.soort_stap.trim();
            // Steps a kennisgeving may never carry are BHKV1057 (or LVBB4754, RB3501).
            if KENNISGEVING_STAPPEN.contains(&code) && !toegestaan.contains(&code) {
                out.push(regel.melding(pad_loc(bestand, format!("{pad}/soortStap")), &[
                    ("stap", &stap_tekst(code)),
                    ("besluit", &over),
                ]));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xs_date() {
        assert_eq!(xs_datum("2027-03-01"), NaiveDate::from_ymd_opt(2027, 3, 1));
        assert_eq!(xs_datum(" 2027-03-01Z "), NaiveDate::from_ymd_opt(2027, 3, 1));
        assert_eq!(xs_datum("2027-03-01+01:00"), NaiveDate::from_ymd_opt(2027, 3, 1));
        assert_eq!(xs_datum("2027-02-30"), None);
        assert_eq!(xs_datum("2027-3-1"), None);
        assert_eq!(xs_datum("2027-03-01T12:00"), None);
        assert_eq!(xs_datum("2027-03-0é"), None);
        assert_eq!(xs_datum(""), None);
    }

    #[test]
    fn step_list_is_sorted_and_named() {
        assert!(PROCEDURESTAPPEN.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(UNIEK.iter().chain(GEBEURTENISSEN).chain(KENNISGEVING_STAPPEN).all(|c| bekende_stap(c)));
        assert_eq!(stap_tekst(ONDERTEKENING), "/join/id/stop/procedure/stap_003 (Ondertekening)");
        assert_eq!(stap_tekst("x"), "'x'");
    }

    #[test]
    fn besluit_ids() {
        assert!(is_besluit_id("/akn/nl/bill/gm9901/2027/B/nld@2027-02-25;1"));
        assert!(is_besluit_id("/akn/nl/bill/gm9901/2027/B"));
        assert!(!is_besluit_id("/akn/nl/act/gm9901/2027/B/nld@2027-02-25;1"));
        assert!(!is_besluit_id("/akn/nl/doc/gm9901/2027/B/nld@2027-02-25;1"));
        assert!(!is_besluit_id(""));
        assert!(!is_besluit_id("onzin"));
    }
}
