//! Regeling mutations: was and wordt of a RegelingMutatie against the store's history (the
//! was-version exists, is definitive and not cancelled; the wordt-version is new; both are of
//! the same work), the wIds its actions name against the wId set of the was-version, and the
//! structure of the actions themselves.
//!
//! The was-version may be delivered earlier (the store, including packages accepted earlier in
//! the same group commit) or in this package (a new regeling, or the wordt of an earlier
//! mutation). When its wId set is unknown (a version stored before wIds were recorded) the wId
//! rules are skipped rather than guessed.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use crate::context::{HistorieFout, Levering, Module};
use crate::feiten::{ActieSoort, Mutatie};
use crate::regel::{Opsomming, Regel};
use stop::ident::work_of;
use stop::module::{Inhoud, ModuleSoort, StopBestand, TekstInfo};
use stop::{Locatie, Melding};

regel!(LVBB5005, Fout, Technisch, Mutatie, Levering, "LVBB", "A RegelingMutatie names its wordt-version (@wordt)",
    "De RegelingMutatie voor component '{component}' heeft geen @wordt. Geef in @wordt de expressie-identificatie van de nieuwe regelingversie op.");
regel!(LVBB5006, Fout, Technisch, Mutatie, Levering, "LVBB", "A RegelingMutatie names the version it changes (@was)",
    "De RegelingMutatie voor '{wordt}' heeft geen @was. Geef in @was de expressie-identificatie op van de regelingversie die gewijzigd wordt.");
regel!(LVBB4015, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "The was-version of a RegelingMutatie exists (accepted earlier, or a new regeling in the same package)",
    "De regelingversie '{was}' in @was van de RegelingMutatie voor '{wordt}' is niet bekend: zij is niet eerder aangeleverd en zit ook niet als nieuwe regeling in deze levering. Controleer welke regeling en welke versie gewijzigd wordt.");
regel!(LVBB4014, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "The wordt-version of a RegelingMutatie does not exist yet",
    "De regelingversie '{wordt}' in @wordt bestaat al. Een RegelingMutatie maakt een nieuwe versie: geef die een nieuwe expressie-identificatie.");
regel!(LVBB5009, Fout, Inhoudelijk, Mutatie, Levering, "LVBB (STOP0066)", "was and wordt of a RegelingMutatie belong to the same work and have the same soortWork",
    "@was '{was}' en @wordt '{wordt}' horen niet bij dezelfde regeling: {verschil}. Een RegelingMutatie wijzigt één regeling; gebruik in @was en @wordt versies van hetzelfde work.");
regel!(LVBB5007, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "The was-version is not from an ontwerpbesluit (unless the besluit is itself an ontwerp)",
    "De regelingversie '{was}' in @was komt uit een ontwerpbesluit. Een definitief besluit kan geen ontwerpversie wijzigen; gebruik als @was de geldende definitieve regelingversie.");
regel!(LVBB5008, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "The was-version is not from a cancelled (afgebroken) publication",
    "De regelingversie '{was}' in @was komt uit een publicatie die is afgebroken. Gebruik als @was een regelingversie uit een publicatie die niet is afgebroken.");
regel!(LVBB5003, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "Vervang/@wat and VervangKop/@wat name a wId of the was-version",
    "{element} wat=\"{wat}\": de wId {wat} komt niet voor in regelingversie '{was}'. Gebruik de wId die het te vervangen element in '{was}' heeft.");
regel!(LVBB5024, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "Verwijder/@wat names a wId of the was-version",
    "Verwijder wat=\"{wat}\": de wId {wat} komt niet voor in regelingversie '{was}'. Alleen een bestaand element kan verwijderd worden; gebruik de wId die het element in '{was}' heeft.");
regel!(LVBB5023, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "VoegToe does not add wIds that already exist in the was-version",
    "VoegToe context=\"{context}\" voegt elementen toe met wIds die al bestaan in regelingversie '{was}': {wids}. Geef nieuwe elementen een nieuwe wId, of wijzig een bestaand element met Vervang.");
regel!(LVBB5027, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "@context names a wId of the was-version or of an element added earlier in the same RegelingMutatie",
    "{element} context=\"{context}\": de wId {context} komt niet voor in regelingversie '{was}' en wordt ook niet eerder in deze RegelingMutatie toegevoegd. Gebruik als context de wId van een bestaand element.");
regel!(STOP0119, Fout, Technisch, Mutatie, Levering, "STOP", "@context and @positie only together (on Vervang: a move)",
    "{element} wat=\"{wat}\" heeft @{aanwezig} maar geen @{ontbrekend}. Geef bij verplaatsen zowel @context als @positie op, of laat ze allebei weg.");
regel!(STOP0124, Fout, Inhoudelijk, Mutatie, Levering, "STOP (LVBB5030)", "@context does not name an element the same RegelingMutatie removes",
    "{element} context=\"{context}\": het element met deze wId wordt in dezelfde RegelingMutatie verwijderd en kan daarom geen context zijn. Kies als context een element dat blijft bestaan.");
regel!(STOP0123, Fout, Inhoudelijk, Mutatie, Levering, "STOP", "At most one action per (@context, @positie) in a RegelingMutatie",
    "Meer dan één wijzigactie in de RegelingMutatie voor '{wordt}' heeft context=\"{context}\" en positie=\"{positie}\". Neem de toe te voegen elementen samen op in één VoegToe.");
regel!(LVBB5021, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "A RegelingMutatie (in a besluit or rectificatie) contains at least one juridical change",
    "De RegelingMutatie voor '{wordt}' bevat {reden}. Een nieuwe regelingversie moet ten minste één juridische wijziging bevatten (VoegToe, Vervang, VervangKop, Verwijder of VervangRegeling).");
regel!(LVBB5031, Fout, Inhoudelijk, Mutatie, Levering, "LVBB (STOP0128)", "Vervang with @revisie=\"1\" (a non-juridical correction) has no renvooi and no @context",
    "Vervang wat=\"{wat}\" is een niet-juridische revisie (revisie=\"1\") maar bevat {inhoud}. Laat bij een revisie renvooimarkeringen en @context weg, of laat revisie=\"1\" weg als het een juridische wijziging is.");
regel!(LVBB5019, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "A new (initial) regeling is not for a work that already exists",
    "De nieuwe regeling '{wordt}' (component '{component}') hoort bij work {work}, dat al bestaat. Een initiële regeling krijgt een nieuw work; wijzig een bestaande regeling met een RegelingMutatie.");
regel!(STOP0074, Fout, Inhoudelijk, Mutatie, Levering, "STOP", "@wordt is unique in the text of a besluit",
    "@wordt '{wordt}' komt {aantal} keer voor in de tekst van {bestand}. Elke regelingversie mag één keer voorkomen: neem alle wijzigingen van een regeling op in één RegelingMutatie.");

pub static REGELS: &[&Regel] = &[
    &LVBB5005, &LVBB5006, &LVBB4015, &LVBB4014, &LVBB5009, &LVBB5007, &LVBB5008, &LVBB5003, &LVBB5024, &LVBB5023,
    &LVBB5027, &STOP0119, &STOP0123, &STOP0124, &LVBB5021, &LVBB5031, &LVBB5019, &STOP0074,
];

pub(crate) fn bestand(_b: &StopBestand, _out: &mut Vec<Melding>) {}

/// The regeling versions delivered in this package (a new regeling, or the wordt of a mutation
/// checked before) with their wId sets, `None` when those cannot be known. A new regeling's set
/// is borrowed: it can be large.
type Pakket<'a> = HashMap<&'a str, Option<Cow<'a, BTreeSet<String>>>>;

pub(crate) fn levering(l: &Levering<'_>, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    let mut pakket: Pakket<'_> = HashMap::new();
    for m in l.modules {
        for (wordt, set) in &m.regeling_wids {
            pakket.insert(wordt.as_str(), Some(Cow::Borrowed(set)));
        }
        wordt_uniek(m, out);
        initiele_regelingen(l, m, out)?;
    }
    for m in l.modules {
        let ontwerp = matches!(&m.inhoud, Inhoud::Besluit(b) if b.is_ontwerp());
        for mu in &m.mutaties {
            structuur(m, mu, out);
            let wids = historie(l, mu, ontwerp, &pakket, out)?;
            if let Some(wordt) = mu.wordt.as_deref().filter(|w| !w.is_empty()) {
                let wids = wids.map(|w| Cow::Owned(mu.wordt_wids(&w)));
                pakket.entry(wordt).or_insert(wids);
            }
        }
    }
    Ok(())
}

fn teksten(m: &Module) -> Vec<&TekstInfo> {
    match &m.inhoud {
        Inhoud::Besluit(b) => b.tekst.iter().chain(b.tekstrevisie.iter()).collect(),
        Inhoud::Revisie(p) | Inhoud::Rectificatie(p) | Inhoud::Mededeling(p) => p.tekst.iter().collect(),
        Inhoud::Kennisgeving(k) => k.tekst.iter().collect(),
        _ => Vec::new(),
    }
}

fn regel_locatie(m: &Module, regel: u32) -> Locatie {
    Locatie { regel: Some(regel), ..Locatie::bestand(m.bestand.clone()) }
}

/// STOP0074: each @wordt once in the text of a file.
fn wordt_uniek(m: &Module, out: &mut Vec<Melding>) {
    let mut gezien: HashMap<&str, usize> = HashMap::new();
    let alle: Vec<_> = teksten(m).into_iter().flat_map(|t| t.regelingen.iter()).collect();
    for r in &alle {
        if let Some(w) = r.wordt.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
            *gezien.entry(w).or_default() += 1;
        }
    }
    let mut eerste: BTreeSet<&str> = BTreeSet::new();
    for r in &alle {
        let Some(w) = r.wordt.as_deref().map(str::trim).filter(|w| !w.is_empty()) else { continue };
        let aantal = gezien[w];
        if aantal < 2 || eerste.insert(w) {
            continue;
        }
        let loc = m
            .mutaties
            .iter()
            .find(|mu| mu.wordt.as_deref() == Some(w) && mu.locatie.regel == Some(r.regel))
            .map(|mu| mu.locatie.clone())
            .unwrap_or_else(|| regel_locatie(m, r.regel));
        out.push(STOP0074.melding(loc, &[("wordt", &w), ("aantal", &aantal), ("bestand", &m.bestand)]));
    }
}

/// LVBB5019: a new regeling (a `Regeling*` with @wordt, not a mutation) is a new work. A work
/// known only from ontwerp versions or cancelled publications does not count: the definitive
/// besluit delivers the regeling again, initially.
fn initiele_regelingen(l: &Levering<'_>, m: &Module, out: &mut Vec<Melding>) -> Result<(), HistorieFout> {
    for t in teksten(m) {
        for r in t.regelingen.iter().filter(|r| r.element != "RegelingMutatie") {
            let Some(wordt) = r.wordt.as_deref().map(str::trim).filter(|w| !w.is_empty()) else { continue };
            let Some(work) = work_of(wordt) else { continue };
            let Some(w) = l.historie.work(work)? else { continue };
            if w.afgebroken {
                continue;
            }
            let mut bestaat = false;
            for e in &w.expressions {
                if e == wordt {
                    // The same version again is LVBB4014's business, or a repeat.
                    continue;
                }
                if let Some(x) = l.historie.expressie(e)?
                    && !x.afgebroken
                    && !x.ontwerp
                {
                    bestaat = true;
                    break;
                }
            }
            if bestaat {
                let component = r.componentnaam.as_deref().unwrap_or("-");
                out.push(LVBB5019.melding(regel_locatie(m, r.regel), &[
                    ("wordt", &wordt),
                    ("component", &component),
                    ("work", &work),
                ]));
            }
        }
    }
    Ok(())
}

/// Rules on the mutation itself, without history.
fn structuur(m: &Module, mu: &Mutatie, out: &mut Vec<Melding>) {
    let wordt = mu.wordt.as_deref().filter(|w| !w.is_empty());
    let wordt_txt = wordt.unwrap_or("-");
    if wordt.is_none() {
        let component = mu.componentnaam.as_deref().unwrap_or("-");
        out.push(LVBB5005.melding(mu.locatie.clone(), &[("component", &component)]));
    }
    if mu.was.as_deref().is_none_or(str::is_empty) {
        out.push(LVBB5006.melding(mu.locatie.clone(), &[("wordt", &wordt_txt)]));
    }
    // A Tekstrevisie consists of non-juridical corrections by nature.
    let revisie_module = m.soort == ModuleSoort::AanleveringRevisie;
    if mu.acties.is_empty() {
        out.push(LVBB5021.melding(mu.locatie.clone(), &[("wordt", &wordt_txt), ("reden", &"geen wijzigacties")]));
    } else if !revisie_module && mu.acties.iter().all(|a| a.soort == ActieSoort::Vervang && a.revisie) {
        out.push(LVBB5021.melding(mu.locatie.clone(), &[
            ("wordt", &wordt_txt),
            ("reden", &"alleen niet-juridische revisies (Vervang met revisie=\"1\")"),
        ]));
    }
    // wIds this mutation removes (a moved element comes back in another action's wids).
    let mut verwijderd: BTreeSet<&str> = BTreeSet::new();
    for a in &mu.acties {
        verwijderd.extend(a.verwijderde_wids.iter().map(String::as_str));
        if a.soort == ActieSoort::Verwijder
            && let Some(w) = a.wat.as_deref()
        {
            verwijderd.insert(w);
        }
    }
    for a in &mu.acties {
        for w in &a.wids {
            verwijderd.remove(w.as_str());
        }
    }
    let mut plaatsen: Vec<(&str, &str)> = Vec::new();
    for a in &mu.acties {
        let wat = a.wat.as_deref().unwrap_or("-");
        if matches!(a.soort, ActieSoort::Vervang | ActieSoort::VoegToe) {
            let (aanwezig, ontbrekend) = match (&a.context, &a.positie) {
                (Some(_), None) => ("context", "positie"),
                (None, Some(_)) => ("positie", "context"),
                _ => ("", ""),
            };
            if !aanwezig.is_empty() {
                out.push(STOP0119.melding(a.locatie.clone(), &[
                    ("element", &a.soort.element()),
                    ("wat", &wat),
                    ("aanwezig", &aanwezig),
                    ("ontbrekend", &ontbrekend),
                ]));
            }
        }
        if let (Some(c), Some(p)) = (a.context.as_deref(), a.positie.as_deref()) {
            if plaatsen.contains(&(c, p)) {
                out.push(STOP0123.melding(a.locatie.clone(), &[("wordt", &wordt_txt), ("context", &c), ("positie", &p)]));
            } else {
                plaatsen.push((c, p));
            }
        }
        if let Some(c) = a.context.as_deref()
            && verwijderd.contains(c)
        {
            out.push(STOP0124.melding(a.locatie.clone(), &[("element", &a.soort.element()), ("context", &c)]));
        }
        if a.soort == ActieSoort::Vervang && a.revisie && (a.renvooi || a.context.is_some()) {
            let inhoud = match (a.renvooi, a.context.is_some()) {
                (true, true) => "renvooimarkeringen en een @context",
                (true, false) => "renvooimarkeringen (NieuweTekst, VerwijderdeTekst of @wijzigactie)",
                _ => "een @context",
            };
            out.push(LVBB5031.melding(a.locatie.clone(), &[("wat", &wat), ("inhoud", &inhoud)]));
        }
    }
}

/// The soortWork a RegelingVersieInformatie in this package gives an expression.
fn soort_work_in_pakket<'a>(l: &'a Levering<'_>, expression: &str) -> Option<&'a str> {
    l.modules.iter().find_map(|m| {
        let versies = match &m.inhoud {
            Inhoud::Besluit(b) => &b.regeling_versies,
            Inhoud::Revisie(p) | Inhoud::Rectificatie(p) | Inhoud::Mededeling(p) => &p.regeling_versies,
            _ => return None,
        };
        versies.iter().find(|v| v.id.expression.trim() == expression).and_then(|v| v.id.soort_work.as_deref()).map(str::trim)
    })
}

/// Rules against the store and the package: was/wordt exist or not, same work, and the wIds
/// the actions name. Returns the wId set of the was-version when known.
fn historie<'p>(
    l: &Levering<'_>,
    mu: &Mutatie,
    ontwerp: bool,
    pakket: &'p Pakket<'_>,
    out: &mut Vec<Melding>,
) -> Result<Option<Cow<'p, BTreeSet<String>>>, HistorieFout> {
    let h = l.historie;
    let was = mu.was.as_deref().filter(|w| !w.is_empty());
    let wordt = mu.wordt.as_deref().filter(|w| !w.is_empty());
    let wordt_txt = wordt.unwrap_or("-");

    if let Some(wordt) = wordt
        && let Some(e) = h.expressie(wordt)?
        && !e.afgebroken
    {
        out.push(LVBB4014.melding(mu.locatie.clone(), &[("wordt", &wordt)]));
    }
    let Some(was) = was else { return Ok(None) };

    if let Some(wordt) = wordt {
        let (was_work, wordt_work) = (work_of(was), work_of(wordt));
        if let (Some(a), Some(b)) = (was_work, wordt_work)
            && a != b
        {
            let verschil = format!("@was is een versie van {a}, @wordt van {b}");
            out.push(LVBB5009.melding(mu.locatie.clone(), &[("was", &was), ("wordt", &wordt), ("verschil", &verschil)]));
        } else if let Some(wordt_soort) = soort_work_in_pakket(l, wordt) {
            let was_soort = match soort_work_in_pakket(l, was) {
                Some(s) => Some(s.to_string()),
                None => match was_work {
                    Some(w) => h.work(w)?.and_then(|w| w.soort_work).map(|s| s.trim().to_string()),
                    None => None,
                },
            };
            if let Some(was_soort) = was_soort
                && was_soort != wordt_soort
            {
                let verschil = format!("de soortWork van @was is {was_soort}, die van @wordt {wordt_soort}");
                out.push(LVBB5009.melding(mu.locatie.clone(), &[("was", &was), ("wordt", &wordt), ("verschil", &verschil)]));
            }
        }
    }

    let was_wids = if let Some(p) = pakket.get(was) {
        p.as_deref().map(Cow::Borrowed)
    } else {
        match h.expressie(was)? {
            None => {
                out.push(LVBB4015.melding(mu.locatie.clone(), &[("was", &was), ("wordt", &wordt_txt)]));
                return Ok(None);
            }
            Some(e) => {
                if e.afgebroken {
                    out.push(LVBB5008.melding(mu.locatie.clone(), &[("was", &was)]));
                }
                if e.ontwerp && !ontwerp {
                    out.push(LVBB5007.melding(mu.locatie.clone(), &[("was", &was)]));
                }
                h.wids(was)?.map(Cow::Owned)
            }
        }
    };
    let Some(was_wids) = was_wids else { return Ok(None) };
    wids(mu, was, &was_wids, out);
    Ok(Some(was_wids))
}

/// The wId rules. A wId is known when the was-version has it or an earlier action of the same
/// mutation adds it (a context may be an element added just before).
fn wids(mu: &Mutatie, was: &str, was_wids: &BTreeSet<String>, out: &mut Vec<Melding>) {
    let mut bekend: BTreeSet<&str> = was_wids.iter().map(String::as_str).collect();
    for a in &mu.acties {
        let wat = a.wat.as_deref().filter(|w| !w.is_empty());
        match a.soort {
            ActieSoort::Vervang | ActieSoort::VervangKop => {
                if let Some(wat) = wat
                    && !bekend.contains(wat)
                {
                    out.push(LVBB5003.melding(a.locatie.clone(), &[("element", &a.soort.element()), ("wat", &wat), ("was", &was)]));
                }
            }
            ActieSoort::Verwijder => {
                if let Some(wat) = wat
                    && !bekend.contains(wat)
                {
                    out.push(LVBB5024.melding(a.locatie.clone(), &[("wat", &wat), ("was", &was)]));
                }
            }
            ActieSoort::VoegToe => {
                let mut dubbel: Vec<String> = a.wids.iter().filter(|w| was_wids.contains(*w)).cloned().collect();
                dubbel.sort();
                dubbel.dedup();
                if !dubbel.is_empty() {
                    let context = a.context.as_deref().unwrap_or("-");
                    out.push(LVBB5023.melding(a.locatie.clone(), &[("context", &context), ("was", &was), ("wids", &Opsomming(&dubbel))]));
                }
            }
            ActieSoort::VervangRegeling => {}
        }
        if let Some(c) = a.context.as_deref().filter(|c| !c.is_empty())
            && !bekend.contains(c)
        {
            out.push(LVBB5027.melding(a.locatie.clone(), &[("element", &a.soort.element()), ("context", &c), ("was", &was)]));
        }
        bekend.extend(a.wids.iter().map(String::as_str));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{EerdereLevering, ExpressieFeit, Historie, WorkFeit};
    use stop::module::parse_bestand;
    use stop::opdracht::parse_opdracht;

    const R: &str = "/akn/nl/act/gm9999/2027/Reg";

    /// A store with regeling versions: (expression, ontwerp, afgebroken, wIds when known).
    #[derive(Default)]
    struct Nep {
        versies: Vec<(String, bool, bool, Option<Vec<&'static str>>)>,
    }

    impl Nep {
        fn met(mut self, e: &str, ontwerp: bool, afgebroken: bool, wids: Option<Vec<&'static str>>) -> Self {
            self.versies.push((e.to_string(), ontwerp, afgebroken, wids));
            self
        }
    }

    impl Historie for Nep {
        fn levering(&self, _: &str, _: &str) -> Result<Option<EerdereLevering>, HistorieFout> {
            Ok(None)
        }
        fn work(&self, work: &str) -> Result<Option<WorkFeit>, HistorieFout> {
            let expressions: Vec<String> =
                self.versies.iter().filter(|v| work_of(&v.0) == Some(work)).map(|v| v.0.clone()).collect();
            Ok((!expressions.is_empty()).then(|| WorkFeit {
                work: work.to_string(),
                kind: "regeling".into(),
                soort_work: Some("/join/id/stop/work_019".into()),
                eigenaar: None,
                expressions,
                afgebroken: false,
            }))
        }
        fn expressie(&self, e: &str) -> Result<Option<ExpressieFeit>, HistorieFout> {
            Ok(self.versies.iter().find(|v| v.0 == e).map(|v| ExpressieFeit {
                expression: v.0.clone(),
                work: work_of(&v.0).unwrap_or("").to_string(),
                kind: "regeling".into(),
                ontwerp: v.1,
                datum_bekendmaking: None,
                afgebroken: v.2,
            }))
        }
        fn wids(&self, e: &str) -> Result<Option<BTreeSet<String>>, HistorieFout> {
            Ok(self
                .versies
                .iter()
                .find(|v| v.0 == e)
                .and_then(|v| v.3.as_ref())
                .map(|w| w.iter().map(|s| s.to_string()).collect()))
        }
        fn doel_bekend(&self, _: &str) -> Result<bool, HistorieFout> {
            Ok(false)
        }
    }

    fn besluit(procedure: &str, tekst: &str) -> String {
        format!(
            r#"<AanleveringBesluit xmlns="https://standaarden.overheid.nl/lvbb/stop/aanlevering/" schemaversie="1.4.1"><BesluitVersie>
<ExpressionIdentificatie xmlns="https://standaarden.overheid.nl/stop/imop/data/"><FRBRWork>/akn/nl/bill/gm9999/2027/B</FRBRWork><FRBRExpression>/akn/nl/bill/gm9999/2027/B/nld@2027-01-01;1</FRBRExpression><soortWork>/join/id/stop/work_003</soortWork></ExpressionIdentificatie>
<BesluitMetadata xmlns="https://standaarden.overheid.nl/stop/imop/data/"><soortProcedure>/join/id/stop/proceduretype_{procedure}</soortProcedure></BesluitMetadata>
<BesluitCompact xmlns="https://standaarden.overheid.nl/stop/imop/tekst/"><Lichaam eId="body" wId="body"/>
{tekst}
</BesluitCompact></BesluitVersie></AanleveringBesluit>"#
        )
    }

    fn mutatie(was: &str, wordt: &str, acties: &str) -> String {
        format!(r#"<WijzigBijlage eId="cmp_A" wId="cmp_A"><RegelingMutatie componentnaam="r" was="{was}" wordt="{wordt}">{acties}</RegelingMutatie></WijzigBijlage>"#)
    }

    fn codes(xml: &str, h: &dyn Historie) -> Vec<String> {
        let (b, _) = parse_bestand("besluit.xml", xml.as_bytes().to_vec()).unwrap_or_else(|m| panic!("{m:?}"));
        let mut out = Vec::new();
        let m = crate::valideer_bestand(b, &mut out);
        let (o, _) = parse_opdracht(
            br#"<publicatieOpdracht xmlns="http://www.overheid.nl/2017/lvbb"><idLevering>t-1</idLevering><idBevoegdGezag>00000001000000990100</idBevoegdGezag><idAanleveraar>00000001000000990100</idAanleveraar><publicatie>besluit.xml</publicatie><datumBekendmaking>2027-03-09</datumBekendmaking></publicatieOpdracht>"#
                .to_vec(),
        )
        .unwrap();
        let modules = vec![m];
        let l = Levering {
            opdracht: &o,
            manifest: None,
            bestanden: &[],
            modules: &modules,
            vandaag: chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            historie: h,
            package_hash: None,
        };
        let mut out = Vec::new();
        levering(&l, &mut out).unwrap();
        for m in &out {
            assert!(m.locatie.bestand.is_some(), "{m:?}");
            assert!(!m.beschrijving.contains('{'), "{m:?}");
        }
        out.into_iter().map(|m| m.code).collect()
    }

    fn was1() -> String {
        format!("{R}/nld@2027-01-01;1")
    }
    fn wordt2() -> String {
        format!("{R}/nld@2027-02-01;2")
    }

    const VERVANG_A1: &str = r#"<Vervang wat="w_a1"><Artikel eId="art_1" wId="w_a1"><Kop><Nummer>1</Nummer></Kop><Inhoud><Al><NieuweTekst>x</NieuweTekst></Al></Inhoud></Artikel></Vervang>"#;

    #[test]
    fn a_correct_mutation_of_a_stored_version_is_accepted() {
        let h = Nep::default().met(&was1(), false, false, Some(vec!["w_a1", "w_a2", "w_a2_l1"]));
        let acties = format!(
            r#"{VERVANG_A1}<Verwijder wat="w_a2"><Artikel eId="art_2" wId="w_a2"><Lid eId="art_2__para_1" wId="w_a2_l1"/></Artikel></Verwijder><VoegToe context="w_a1" positie="volgtOp"><Artikel eId="art_3" wId="w2_a3"/></VoegToe><VoegToe context="w2_a3" positie="volgtOp"><Artikel eId="art_4" wId="w2_a4"/></VoegToe>"#
        );
        assert_eq!(codes(&besluit("definitief", &mutatie(&was1(), &wordt2(), &acties)), &h), Vec::<String>::new());
    }

    #[test]
    fn wid_rules_are_skipped_when_the_store_has_no_wids_for_the_was_version() {
        let h = Nep::default().met(&was1(), false, false, None);
        let acties = r#"<Vervang wat="onbekend"><Artikel eId="art_1" wId="onbekend"><NieuweTekst>x</NieuweTekst></Artikel></Vervang>"#;
        assert_eq!(codes(&besluit("definitief", &mutatie(&was1(), &wordt2(), acties)), &h), Vec::<String>::new());
        let h = Nep::default().met(&was1(), false, false, Some(vec!["w_a1"]));
        assert_eq!(codes(&besluit("definitief", &mutatie(&was1(), &wordt2(), acties)), &h), ["LVBB5003"]);
    }

    #[test]
    fn the_was_version_may_be_a_new_regeling_or_an_earlier_mutation_in_the_same_package() {
        let h = Nep::default();
        let nieuw = format!(
            r#"<WijzigBijlage eId="cmp_N" wId="cmp_N"><RegelingCompact componentnaam="n" wordt="{}"><Lichaam eId="body" wId="body"><Artikel eId="art_1" wId="w_a1"/></Lichaam></RegelingCompact></WijzigBijlage>"#,
            was1()
        );
        let derde = format!("{R}/nld@2027-03-01;3");
        let tekst = format!(
            "{nieuw}{}{}",
            mutatie(&was1(), &wordt2(), &format!(r#"{VERVANG_A1}<VoegToe context="w_a1" positie="volgtOp"><Artikel eId="art_2" wId="w2_a2"/></VoegToe>"#)),
            mutatie(&wordt2(), &derde, r#"<VervangKop wat="w2_a2"><Kop><Nummer>2<NieuweTekst>a</NieuweTekst></Nummer></Kop></VervangKop><VervangKop wat="w_a9"><Kop><Nummer>9</Nummer></Kop></VervangKop>"#)
        );
        // Only the unknown wId of the second mutation (its was is the first one's wordt).
        assert_eq!(codes(&besluit("definitief", &tekst), &h), ["LVBB5003"]);
    }

    #[test]
    fn was_and_wordt_existence_ontwerp_and_afgebroken() {
        let m = besluit("definitief", &mutatie(&was1(), &wordt2(), VERVANG_A1));
        assert_eq!(codes(&m, &Nep::default()), ["LVBB4015"]);
        let h = Nep::default().met(&was1(), false, false, Some(vec!["w_a1"])).met(&wordt2(), false, false, None);
        assert_eq!(codes(&m, &h), ["LVBB4014"]);
        // A wordt from a cancelled publication may be delivered again.
        let h = Nep::default().met(&was1(), false, false, Some(vec!["w_a1"])).met(&wordt2(), false, true, None);
        assert_eq!(codes(&m, &h), Vec::<String>::new());
        let h = Nep::default().met(&was1(), true, false, Some(vec!["w_a1"]));
        assert_eq!(codes(&m, &h), ["LVBB5007"]);
        let ontwerp = besluit("ontwerp", &mutatie(&was1(), &wordt2(), VERVANG_A1));
        assert_eq!(codes(&ontwerp, &h), Vec::<String>::new());
        let h = Nep::default().met(&was1(), false, true, Some(vec!["w_a1"]));
        assert_eq!(codes(&m, &h), ["LVBB5008"]);
        let ander = besluit("definitief", &mutatie(&was1(), "/akn/nl/act/gm9999/2027/Ander/nld@2027-02-01;2", VERVANG_A1));
        let h = Nep::default().met(&was1(), false, false, Some(vec!["w_a1"]));
        assert_eq!(codes(&ander, &h), ["LVBB5009"]);
    }

    #[test]
    fn a_new_regeling_for_an_existing_work() {
        let nieuw = |e: &str| {
            besluit(
                "definitief",
                &format!(r#"<WijzigBijlage eId="cmp_N" wId="cmp_N"><RegelingCompact componentnaam="n" wordt="{e}"><Lichaam eId="body" wId="body"/></RegelingCompact></WijzigBijlage>"#),
            )
        };
        let x = nieuw(&wordt2());
        assert_eq!(codes(&x, &Nep::default().met(&was1(), false, false, None)), ["LVBB5019"]);
        // Known only from an ontwerp or a cancelled publication: the definitive regeling is new.
        assert_eq!(codes(&x, &Nep::default().met(&was1(), true, false, None)), Vec::<String>::new());
        assert_eq!(codes(&x, &Nep::default().met(&was1(), false, true, None)), Vec::<String>::new());
    }

    #[test]
    fn structure_of_the_actions() {
        let h = Nep::default().met(&was1(), false, false, Some(vec!["w_a1", "w_a2"]));
        let run = |acties: &str| codes(&besluit("definitief", &mutatie(&was1(), &wordt2(), acties)), &h);
        assert_eq!(run(""), ["LVBB5021"]);
        assert_eq!(run(r#"<Vervang wat="w_a1" revisie="1"><Artikel eId="art_1" wId="w_a1"/></Vervang>"#), ["LVBB5021"]);
        assert_eq!(
            run(r#"<Vervang wat="w_a1" revisie="1" context="w_a2"><Artikel eId="art_1" wId="w_a1"><NieuweTekst>x</NieuweTekst></Artikel></Vervang><Verwijder wat="w_a2"/>"#),
            ["STOP0119", "STOP0124", "LVBB5031"]
        );
        assert_eq!(
            run(r#"<VoegToe context="w_a1" positie="volgtOp"><Artikel eId="a" wId="n1"/></VoegToe><VoegToe context="w_a1" positie="volgtOp"><Artikel eId="b" wId="n2"/></VoegToe>"#),
            ["STOP0123"]
        );
        assert_eq!(run(r#"<VoegToe context="w_a1" positie="volgtOp"><Artikel eId="a" wId="w_a2"/></VoegToe>"#), ["LVBB5023"]);
        assert_eq!(run(r#"<VoegToe context="w_zz" positie="volgtOp"><Artikel eId="a" wId="n1"/></VoegToe>"#), ["LVBB5027"]);
        assert_eq!(run(r#"<Verwijder wat="w_zz"/>"#), ["LVBB5024"]);
    }

    #[test]
    fn wordt_is_unique_in_the_text() {
        let h = Nep::default().met(&was1(), false, false, Some(vec!["w_a1"]));
        let tekst = format!("{}{}", mutatie(&was1(), &wordt2(), VERVANG_A1), mutatie(&was1(), &wordt2(), VERVANG_A1).replace("cmp_A", "cmp_B"));
        assert_eq!(codes(&besluit("definitief", &tekst), &h), ["STOP0074"]);
    }

    #[test]
    fn odd_input_gives_meldingen_not_panics() {
        let h = Nep::default().met(&was1(), false, false, Some(vec!["w_a1"]));
        for (was, wordt) in [("", ""), ("  ", "x"), ("@", "/akn"), ("/akn/nl/act/@;", "/"), (was1().as_str(), "")] {
            let acties = r#"<Vervang wat=""/><VoegToe context="" positie=""/><Verwijder/><VervangKop wat=" "/><VervangRegeling/>"#;
            let _ = codes(&besluit("definitief", &mutatie(was, wordt, acties)), &h);
        }
        let zonder = besluit("definitief", r#"<WijzigBijlage eId="cmp_A" wId="cmp_A"><RegelingMutatie componentnaam="r"><Vervang wat="w_a1"><NieuweTekst/></Vervang></RegelingMutatie></WijzigBijlage>"#);
        assert_eq!(codes(&zonder, &h), ["LVBB5005", "LVBB5006"]);
    }
}
