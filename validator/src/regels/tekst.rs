//! Applying a RegelingMutatie to the text of its was-version (`stop::tekst::pas_toe`).
//!
//! The pipeline (`ingest::consolidatie`) applies every RegelingMutatie of a package to the text
//! of its was-version; the apply engine in `stop::tekst` emits these meldingen itself, so this
//! module only declares them (no check functions). Each template is the engine's message with
//! its variable parts as placeholders. Codes the engine shares with the validator's own
//! mutation rules (LVBB5003, LVBB5023, LVBB5024, LVBB5027, LVBB5031, STOP0027, STOP0028,
//! STOP0119, STOP0124) are declared in [`super::mutatie`] and [`super::consolidatie`].

use crate::regel::Regel;

regel!(STOP0077, Fout, Inhoudelijk, Mutatie, Levering, "STOP", "Vervang/Verwijder: the first element with a wId in the payload has wId @wat",
    "{element} wat=\"{wat}\": het element {naam} in de wijzigactie {heeft_wid}. @wat moet gelijk zijn aan de wId van het element dat vervangen of verwijderd wordt.");
regel!(STOP0086, Fout, Inhoudelijk, Mutatie, Levering, "STOP", "Vervang and VervangKop contain renvooi (NieuweTekst, VerwijderdeTekst or @wijzigactie), unless a Vervang has @context or revisie=\"1\"",
    "{element} wat=\"{wat}\" bevat geen renvooimarkering (NieuweTekst, VerwijderdeTekst of @wijzigactie){zonder_context}. {advies}");
regel!(LVBB5025, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "Vervang/VervangKop: every wId of the payload's old text occurs in the replaced element of the was-version (new elements are marked voegtoe)",
    "{element} wat=\"{wat}\": de wId(s) {wids} komen niet voor in regelingversie '{was}' en zijn niet als toegevoegd gemarkeerd. Markeer een nieuw element met wijzigactie=\"voegtoe\" (of een nieuwe omvattende structuur met wijzigactie=\"nieuweContainer\").");
regel!(LVBB5026, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "Vervang/VervangKop/Verwijder: every wId of the replaced or removed element of the was-version is in the payload (removed elements are marked verwijder)",
    "{element} wat=\"{wat}\": de wId(s) {wids} van regelingversie '{was}' ontbreken in de aangeleverde tekst. {advies}");
regel!(LVBB5028, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "Verwijder: the payload has no wIds that the removed element of the was-version does not have",
    "Verwijder wat=\"{wat}\": de aangeleverde tekst bevat de wId(s) {wids}, die niet voorkomen in het te verwijderen element van regelingversie '{was}'. Neem het te verwijderen element op zoals het in '{was}' staat.");
regel!(LVBB5029, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "Vervang/VervangKop: a new element around existing elements is marked nieuweContainer (no implicitly added parents)",
    "{element} wat=\"{wat}\": het element {naam} met wId {wid} omvat bestaande elementen van regelingversie '{was}', maar komt daar zelf niet in voor en is niet als nieuwe container gemarkeerd. Markeer een nieuwe omvattende structuur met wijzigactie=\"nieuweContainer\".");
regel!(LVBB5032, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "A Vervang with @context does not move the element onto itself or into its own subtree",
    "Vervang wat=\"{wat}\" verplaatst het element naar context=\"{context}\", {reden}. Kies als context een element buiten het te verplaatsen element.");
regel!(LVBB5033, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "No two Vervang actions without @context on the same or overlapping subtrees in one RegelingMutatie",
    "Vervang wat=\"{wat}\" overlapt met Vervang wat=\"{eerder}\" in dezelfde RegelingMutatie: {relatie}. Neem de wijzigingen op in één Vervang van het omvattende element.");
regel!(LVBB5100, Fout, Inhoudelijk, Mutatie, Levering, "LVBB", "VervangRegeling keeps the regeling's text model (RegelingCompact, RegelingVrijetekst, ...)",
    "VervangRegeling levert een {model} aan, maar regelingversie '{was}' is een {was_model}. Een regeling houdt hetzelfde tekstmodel; lever een {was_model} aan.");
regel!(RB3650, Fout, Technisch, Mutatie, Levering, "regelbank", "Only a RegelingMutatie can be applied to a regeling version",
    "Het element {naam} is geen RegelingMutatie en kan niet als wijziging op een regelingversie worden toegepast.");
regel!(RB3651, Fout, Technisch, Mutatie, Levering, "regelbank", "A RegelingMutatie contains only VoegToe, Vervang, VervangKop, Verwijder and VervangRegeling",
    "Onbekende wijzigactie {element} in de RegelingMutatie voor '{wordt}'. Een RegelingMutatie bevat alleen VoegToe, Vervang, VervangKop, Verwijder of VervangRegeling.");
regel!(RB3652, Fout, Technisch, Mutatie, Levering, "regelbank", "A VervangRegeling is the only action of its RegelingMutatie",
    "De RegelingMutatie voor '{wordt}' bevat een VervangRegeling naast andere wijzigacties. Een VervangRegeling is de enige wijzigactie in een RegelingMutatie; verwerk de andere wijzigingen in de nieuwe regeling.");
regel!(RB3653, Fout, Technisch, Mutatie, Levering, "regelbank", "An action has the payload it needs: one element for Vervang, Verwijder and VervangRegeling, one Kop for VervangKop, at least one element for VoegToe",
    "{actie} bevat {gevonden}, maar verwacht wordt {verwacht}.");
regel!(RB3654, Fout, Technisch, Mutatie, Levering, "regelbank", "VoegToe has @context and @positie",
    "VoegToe heeft geen @context en geen @positie. Geef aan waar de elementen worden toegevoegd: @context met de wId van een bestaand element en @positie volgtOp, komtVoor of eersteKind.");
regel!(RB3655, Fout, Technisch, Mutatie, Levering, "regelbank", "@positie is volgtOp, komtVoor or eersteKind",
    "{actie} heeft positie=\"{positie}\". Toegestaan zijn volgtOp, komtVoor en eersteKind.");
regel!(RB3656, Fout, Technisch, Mutatie, Levering, "regelbank", "Every @wijzigactie value in a payload is one STOP knows",
    "Onbekende wijzigactie=\"{waarde}\" op {element}{wid} in {actie}. Gebruik een waarde uit STOP: voegtoe, verwijder, nieuweContainer, verwijderContainer, verplaatstNaar, verplaatstVan of verplaatstBinnen.");
regel!(RB3657, Fout, Inhoudelijk, Mutatie, Levering, "regelbank", "An element is changed by at most one action of a RegelingMutatie (overlaps other than two Vervang without @context, LVBB5033)",
    "{actie} overlapt met een eerdere wijzigactie in deze RegelingMutatie ({eerder}): {relatie} is daar al {hoe}. Een element kan maar door één wijzigactie worden gewijzigd; neem de wijzigingen samen op in één wijzigactie.");
regel!(RB3658, Fout, Inhoudelijk, Mutatie, Levering, "regelbank", "The element a VervangKop names has a Kop in the was-version",
    "VervangKop wat=\"{wat}\": het element {naam} heeft in regelingversie '{was}' geen Kop om te vervangen.");
regel!(RB3659, Fout, Technisch, Mutatie, Levering, "regelbank", "Vervang, VervangKop and Verwijder have @wat",
    "{element} heeft geen @wat. Geef in @wat de wId op van het element dat gewijzigd wordt.");
regel!(RB3660, Fout, Inhoudelijk, Mutatie, Levering, "regelbank", "The old text of a payload (without NieuweTekst and added elements) equals the element of the was-version",
    "{actie} komt niet overeen met regelingversie '{was}': {verschil}. {uitleg}");
regel!(RB3661, Fout, Inhoudelijk, Mutatie, Levering, "regelbank", "The wordt-version contains no renvooi (NieuweTekst, VerwijderdeTekst, @wijzigactie) after the mutation is applied",
    "{actie}: de nieuwe regelingversie '{wordt}' zou nog renvooi bevatten ({element}). Renvooimarkeringen horen alleen in wijzigacties; een VervangRegeling bevat de regeling zonder renvooi.");

pub static REGELS: &[&Regel] = &[
    &STOP0077, &STOP0086, &LVBB5025, &LVBB5026, &LVBB5028, &LVBB5029, &LVBB5032, &LVBB5033, &LVBB5100, &RB3650,
    &RB3651, &RB3652, &RB3653, &RB3654, &RB3655, &RB3656, &RB3657, &RB3658, &RB3659, &RB3660, &RB3661,
];
