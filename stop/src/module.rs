//! STOP files of a delivery, recognised by their root element, read into typed modules.
//!
//! Every element of the file ends up somewhere: in a typed field, in a [`Metadata`] list of
//! name/value pairs, in the text tree (the [`Document`] is kept), or in an RB2003 melding when
//! regelbank does not know it.

use crate::melding::{Ernst, Melding, Soort};
use crate::xml::{Document, NodeId};
use crate::{locatie, ns, onbekend_element, vocabulary, xml_error_melding};
use serde::{Deserialize, Serialize};

/// Oldest and newest (exclusive) schemaversie accepted: 1.0.4 up to 1.4.x.
pub const SCHEMAVERSIE_MIN: (u32, u32, u32) = (1, 0, 4);
pub const SCHEMAVERSIE_MAX_EXCL: (u32, u32, u32) = (1, 5, 0);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ModuleSoort {
    AanleveringBesluit,
    AanleveringKennisgeving,
    AanleveringInformatieObject,
    AanleveringRevisie,
    AanleveringRectificatie,
    AanleveringMededeling,
    AanleveringProcedureverloopmutatie,
    AanleveringGebiedsmarkering,
    AanleveringEffectgebied,
    AanleveringJuridischeVerantwoording,
    /// A GIO geometry file (`geo:GeoInformatieObjectVaststelling`, or a mutatie).
    GeoInformatieObject,
    /// Not a STOP file (OW files, manifest-ow.xml, images...): stored, not interpreted.
    Overig,
}

impl ModuleSoort {
    pub fn from_root(namespace: &str, name: &str) -> ModuleSoort {
        use ModuleSoort::*;
        match (namespace, name) {
            (ns::AANLEVERING, "AanleveringBesluit") => AanleveringBesluit,
            (ns::AANLEVERING, "AanleveringKennisgeving") => AanleveringKennisgeving,
            (ns::AANLEVERING, "AanleveringInformatieObject") => AanleveringInformatieObject,
            (ns::AANLEVERING, "AanleveringRevisie") => AanleveringRevisie,
            (ns::AANLEVERING, "AanleveringRectificatie") => AanleveringRectificatie,
            (ns::AANLEVERING, "AanleveringMededeling") => AanleveringMededeling,
            (ns::AANLEVERING, "AanleveringProcedureverloopmutatie") => AanleveringProcedureverloopmutatie,
            (ns::AANLEVERING, "AanleveringGebiedsmarkering") => AanleveringGebiedsmarkering,
            (ns::AANLEVERING, "AanleveringEffectgebied") => AanleveringEffectgebied,
            (ns::AANLEVERING, "AanleveringJuridischeVerantwoording") => AanleveringJuridischeVerantwoording,
            (ns::GEO, "GeoInformatieObjectVaststelling" | "GeoInformatieObjectMutatie") => GeoInformatieObject,
            _ => Overig,
        }
    }

    /// Files that are the subject of a publicatie (besluit, kennisgeving, rectificatie, mededeling).
    pub fn is_publicatie(self) -> bool {
        matches!(
            self,
            ModuleSoort::AanleveringBesluit
                | ModuleSoort::AanleveringKennisgeving
                | ModuleSoort::AanleveringRectificatie
                | ModuleSoort::AanleveringMededeling
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpressionIdentificatie {
    pub work: String,
    pub expression: String,
    pub soort_work: Option<String>,
}

/// A metadata block flattened to (element name, text) pairs of its leaves, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub velden: Vec<(String, String)>,
}

impl Metadata {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.velden.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.velden.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedurestap {
    pub soort_stap: String,
    pub voltooid_op: Option<String>,
    pub actor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedureverloop {
    pub bekend_op: Option<String>,
    pub ontvangen_op: Option<String>,
    pub stappen: Vec<Procedurestap>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedureverloopmutatie {
    pub bekend_op: Option<String>,
    pub voeg_stappen_toe: Vec<Procedurestap>,
    pub vervang_stappen: Vec<Procedurestap>,
    pub verwijder_stappen: Vec<Procedurestap>,
}

/// Ancestry in the STOP 1.3 form (`gemaaktOpBasisVan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Basisversie {
    /// `Basisversie`, `VervlochtenVersie` or `OntvlochtenVersie`.
    pub soort: String,
    pub doel: Option<String>,
    pub gemaakt_op: Option<String>,
}

/// A BeoogdeRegeling or BeoogdInformatieobject.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeoogdInstrument {
    pub bekend_op: Option<String>,
    pub doelen: Vec<String>,
    pub instrument_versie: String,
    /// STOP 1.3: `instrument` instead of `instrumentVersie` for an explicitly unknown version
    /// (the work id); `instrument_versie` is then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    pub eid: Option<String>,
    /// STOP 1.4: `gerelateerdeVersies/Vervlechting/instrumentVersie`.
    pub vervlechtingen: Vec<String>,
    /// STOP 1.3: `gemaaktOpBasisVan`.
    pub basisversies: Vec<Basisversie>,
    pub regel: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intrekking {
    pub bekend_op: Option<String>,
    pub doelen: Vec<String>,
    pub instrument: String,
    pub eid: Option<String>,
    pub basisversies: Vec<Basisversie>,
    pub regel: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tijdstempel {
    pub bekend_op: Option<String>,
    pub doel: String,
    /// `juridischWerkendVanaf` or `geldigVanaf`.
    pub soort: String,
    pub datum: String,
    pub eid: Option<String>,
    pub regel: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterieelUitgewerkt {
    pub bekend_op: Option<String>,
    pub instrument: String,
    pub datum: Option<String>,
    pub regel: u32,
}

/// Any Terugtrekking* element (1.3: Regeling, Informatieobject, Intrekking, Tijdstempel;
/// 1.4: Tijdstempel, Intrekking, MaterieelUitgewerkt).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terugtrekking {
    /// Element name, e.g. `TerugtrekkingTijdstempel`.
    pub soort: String,
    pub bekend_op: Option<String>,
    pub doelen: Vec<String>,
    pub instrument: Option<String>,
    pub instrument_versie: Option<String>,
    pub soort_tijdstempel: Option<String>,
    pub eid: Option<String>,
    pub basisversies: Vec<Basisversie>,
    pub regel: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsolidatieVorm {
    /// Uses STOP 1.3 ancestry (`gemaaktOpBasisVan`) or 1.3-only elements.
    Stop13,
    /// Uses STOP 1.4 elements (`gerelateerdeVersies`, `CreeertSamenloop`, `MaterieelUitgewerkt`).
    Stop14,
    /// Only elements common to both.
    Gemeenschappelijk,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsolidatieInformatie {
    pub vorm: ConsolidatieVorm,
    pub gemaakt_op: Option<String>,
    pub beoogde_regelingen: Vec<BeoogdInstrument>,
    pub beoogde_informatieobjecten: Vec<BeoogdInstrument>,
    pub intrekkingen: Vec<Intrekking>,
    pub tijdstempels: Vec<Tijdstempel>,
    pub materieel_uitgewerkt: Vec<MaterieelUitgewerkt>,
    pub terugtrekkingen: Vec<Terugtrekking>,
    pub creeert_samenloop: bool,
}

impl ConsolidatieInformatie {
    /// Every doel mentioned, deduplicated, in order of appearance.
    pub fn doelen(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let all = self
            .beoogde_regelingen
            .iter()
            .chain(&self.beoogde_informatieobjecten)
            .flat_map(|b| b.doelen.iter())
            .chain(self.intrekkingen.iter().flat_map(|i| i.doelen.iter()))
            .chain(self.tijdstempels.iter().map(|t| &t.doel))
            .chain(self.terugtrekkingen.iter().flat_map(|t| t.doelen.iter()));
        for d in all {
            if !out.contains(&d.as_str()) {
                out.push(d);
            }
        }
        out
    }
}

/// A regeling (or its mutation) inside a besluit text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegelingInTekst {
    /// `RegelingCompact`, `RegelingVrijetekst`, `RegelingKlassiek`, `RegelingTijdelijkdeel`,
    /// `RegelingMutatie`.
    pub element: String,
    pub wordt: Option<String>,
    pub was: Option<String>,
    pub componentnaam: Option<String>,
    pub eid: Option<String>,
    pub regel: u32,
}

/// Facts of a text (besluit, kennisgeving, ...) that checks need without walking the tree again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TekstInfo {
    /// Root element of the text, e.g. `BesluitCompact`.
    pub model: String,
    pub regelingen: Vec<RegelingInTekst>,
    /// Every eId in the text (with `!component#` prefix inside components).
    pub eids: Vec<String>,
    /// Targets of ExtIoRef elements (`ref` attribute).
    pub io_refs: Vec<String>,
    pub elementen: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegelingVersieInformatie {
    pub id: ExpressionIdentificatie,
    pub versie_metadata: Metadata,
    pub regeling_metadata: Option<Metadata>,
    pub regel: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Besluit {
    pub id: ExpressionIdentificatie,
    pub metadata: Metadata,
    pub procedureverloop: Option<Procedureverloop>,
    pub consolidatie: Option<ConsolidatieInformatie>,
    pub tekst: Option<TekstInfo>,
    pub tekstrevisie: Option<TekstInfo>,
    pub regeling_versies: Vec<RegelingVersieInformatie>,
}

impl Besluit {
    /// An ontwerpbesluit (soortProcedure `/join/id/stop/proceduretype_ontwerp`).
    pub fn is_ontwerp(&self) -> bool {
        self.metadata.get("soortProcedure").is_some_and(|p| p.ends_with("proceduretype_ontwerp"))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kennisgeving {
    pub id: ExpressionIdentificatie,
    pub metadata: Metadata,
    pub procedureverloopmutatie: Option<Procedureverloopmutatie>,
    pub tekst: Option<TekstInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoBestand {
    pub bestandsnaam: String,
    pub hash: String,
    /// Position of the `hash` element (or of `Bestand` when it has none).
    pub locatie: crate::Locatie,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InformatieObject {
    pub id: ExpressionIdentificatie,
    pub versie_metadata: Metadata,
    pub bestanden: Vec<IoBestand>,
    pub metadata: Option<Metadata>,
}

/// Revisie, rectificatie, mededeling: a text with optional consolidatie information.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverigePublicatie {
    pub id: Option<ExpressionIdentificatie>,
    pub metadata: Metadata,
    pub procedureverloopmutatie: Option<Procedureverloopmutatie>,
    pub consolidatie: Option<ConsolidatieInformatie>,
    pub tekst: Option<TekstInfo>,
    pub regeling_versies: Vec<RegelingVersieInformatie>,
    /// RectificatieVersie/BesluitVersieInformatie: the besluit being corrected.
    pub besluit_versie_informatie: Option<ExpressionIdentificatie>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GioVaststelling {
    pub work: Option<String>,
    pub expression: Option<String>,
    pub locaties: usize,
    pub was: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Inhoud {
    Besluit(Besluit),
    Kennisgeving(Kennisgeving),
    InformatieObject(InformatieObject),
    Revisie(OverigePublicatie),
    Rectificatie(OverigePublicatie),
    Mededeling(OverigePublicatie),
    Procedureverloopmutatie { mededeling_over: Option<String>, mutatie: Option<Procedureverloopmutatie> },
    /// Gebiedsmarkering, effectgebied, juridische verantwoording: kept, not interpreted yet.
    Bijlage,
    Gio(GioVaststelling),
    Overig { namespace: String, root: String },
}

impl Inhoud {
    /// The ConsolidatieInformatie of a besluit, revisie, rectificatie or mededeling.
    pub fn consolidatie(&self) -> Option<&ConsolidatieInformatie> {
        match self {
            Inhoud::Besluit(b) => b.consolidatie.as_ref(),
            Inhoud::Revisie(p) | Inhoud::Rectificatie(p) | Inhoud::Mededeling(p) => p.consolidatie.as_ref(),
            _ => None,
        }
    }
}

/// One parsed file of a delivery.
#[derive(Debug)]
pub struct StopBestand {
    pub bestand: String,
    pub soort: ModuleSoort,
    pub schemaversie: Option<String>,
    pub inhoud: Inhoud,
    /// The parsed XML, kept so later stages can use the text tree without parsing again.
    pub document: Document,
}

impl StopBestand {
    /// The expression this file delivers (besluit, kennisgeving, IO, ...), if any.
    pub fn expression(&self) -> Option<&ExpressionIdentificatie> {
        match &self.inhoud {
            Inhoud::Besluit(b) => Some(&b.id),
            Inhoud::Kennisgeving(k) => Some(&k.id),
            Inhoud::InformatieObject(i) => Some(&i.id),
            Inhoud::Revisie(o) | Inhoud::Rectificatie(o) | Inhoud::Mededeling(o) => o.id.as_ref(),
            _ => None,
        }
    }
}

/// Parse `schemaversie` ("1.2.0") into numbers.
pub fn parse_schemaversie(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.trim().split('.');
    let a = it.next()?.parse().ok()?;
    let b = it.next()?.parse().ok()?;
    let c = it.next().map(|x| x.parse().ok()).unwrap_or(Some(0))?;
    if it.next().is_some() {
        return None;
    }
    Some((a, b, c))
}

pub fn schemaversie_ondersteund(s: &str) -> bool {
    parse_schemaversie(s).is_some_and(|v| v >= SCHEMAVERSIE_MIN && v < SCHEMAVERSIE_MAX_EXCL)
}

/// Parse one XML file of a delivery. `Err` when it is not readable XML; otherwise the typed
/// content plus meldingen (unknown elements, unsupported schemaversie, missing parts).
/// Parse a bare `ConsolidatieInformatie` module (root element in the STOP data namespace), as
/// the conformance scenarios exchange it. Any `schemaversie` is accepted (the scenarios carry a
/// placeholder). Missing required parts are meldingen; a file that is not well-formed XML or has
/// another root is an error.
pub fn parse_consolidatie_informatie(
    bestand: &str,
    bytes: Vec<u8>,
) -> Result<(ConsolidatieInformatie, Vec<Melding>), Vec<Melding>> {
    let doc = Document::parse(bytes).map_err(|e| vec![xml_error_melding("RB", bestand, &e)])?;
    let root = doc.root().expect("parsed document has a root");
    if doc.ns(root) != ns::DATA || doc.name(root) != "ConsolidatieInformatie" {
        return Err(vec![
            Melding::fout_technisch(
                "RB2002",
                format!(
                    "{bestand}: verwacht ConsolidatieInformatie in {}, gevonden '{}'. Lever een ConsolidatieInformatie-module aan.",
                    ns::DATA,
                    doc.name(root)
                ),
            )
            .at(locatie(&doc, bestand, root)),
        ]);
    }
    let mut cx = Cx { doc: &doc, bestand, meldingen: Vec::new() };
    let ci = cx.consolidatie(root);
    Ok((ci, cx.meldingen))
}

pub fn parse_bestand(bestand: &str, bytes: Vec<u8>) -> Result<(StopBestand, Vec<Melding>), Vec<Melding>> {
    let doc = Document::parse(bytes).map_err(|e| vec![xml_error_melding("RB", bestand, &e)])?;
    let root = doc.root().expect("parsed document has a root");
    let soort = ModuleSoort::from_root(doc.ns(root), doc.name(root));
    let mut cx = Cx { doc: &doc, bestand, meldingen: Vec::new() };
    let schemaversie = doc.attr(root, "schemaversie").map(str::to_string);

    if soort != ModuleSoort::Overig {
        match &schemaversie {
            Some(v) if !schemaversie_ondersteund(v) => cx.meldingen.push(
                Melding::fout_technisch(
                    "LVBB1515",
                    format!(
                        "{bestand} heeft schemaversie '{v}'; regelbank ondersteunt STOP-schemaversie 1.0.4 tot en met 1.4.x. Lever het bestand aan in een ondersteunde versie."
                    ),
                )
                .at(locatie(&doc, bestand, root)),
            ),
            None if soort != ModuleSoort::GeoInformatieObject => cx.meldingen.push(
                Melding::fout_technisch(
                    "LVBB1515",
                    format!("{bestand} mist het verplichte attribuut schemaversie op {}.", doc.name(root)),
                )
                .at(locatie(&doc, bestand, root)),
            ),
            _ => {}
        }
        cx.report_unknown(root);
    } else if doc.ns(root) == ns::AANLEVERING {
        cx.meldingen.push(
            Melding::fout_technisch(
                "RB2002",
                format!(
                    "{bestand}: '{}' is geen bekend STOP-aanleveringsdocument. Gebruik bijvoorbeeld AanleveringBesluit of AanleveringKennisgeving.",
                    doc.name(root)
                ),
            )
            .at(locatie(&doc, bestand, root)),
        );
    }

    let inhoud = match soort {
        ModuleSoort::AanleveringBesluit => Inhoud::Besluit(cx.besluit(root)),
        ModuleSoort::AanleveringKennisgeving => Inhoud::Kennisgeving(cx.kennisgeving(root)),
        ModuleSoort::AanleveringInformatieObject => Inhoud::InformatieObject(cx.informatieobject(root)),
        ModuleSoort::AanleveringRevisie => Inhoud::Revisie(cx.overige(root, "RevisieVersie")),
        ModuleSoort::AanleveringRectificatie => Inhoud::Rectificatie(cx.overige(root, "RectificatieVersie")),
        ModuleSoort::AanleveringMededeling => Inhoud::Mededeling(cx.overige(root, "MededelingVersie")),
        ModuleSoort::AanleveringProcedureverloopmutatie => {
            let v = cx.required(root, ns::AANLEVERING, "ProcedureverloopmutatieVersie");
            Inhoud::Procedureverloopmutatie {
                mededeling_over: v.and_then(|v| cx.text_of_child(v, ns::DATA, "mededelingOver")),
                mutatie: v
                    .and_then(|v| doc.child(v, ns::DATA, "Procedureverloopmutatie"))
                    .map(|n| cx.procedureverloopmutatie(n)),
            }
        }
        ModuleSoort::AanleveringGebiedsmarkering
        | ModuleSoort::AanleveringEffectgebied
        | ModuleSoort::AanleveringJuridischeVerantwoording => Inhoud::Bijlage,
        ModuleSoort::GeoInformatieObject => Inhoud::Gio(cx.gio(root)),
        ModuleSoort::Overig => {
            Inhoud::Overig { namespace: doc.ns(root).to_string(), root: doc.name(root).to_string() }
        }
    };
    let meldingen = cx.meldingen;
    Ok((StopBestand { bestand: bestand.to_string(), soort, schemaversie, inhoud, document: doc }, meldingen))
}

struct Cx<'d> {
    doc: &'d Document,
    bestand: &'d str,
    meldingen: Vec<Melding>,
}

impl Cx<'_> {
    fn regel(&self, n: NodeId) -> u32 {
        self.doc.line(n)
    }

    /// Report every element in the subtree that regelbank does not know (one walk per file).
    fn report_unknown(&mut self, root: NodeId) {
        let doc = self.doc;
        // Known or not, per name id: one vocabulary lookup per distinct name.
        const UNSEEN: u8 = 0;
        const KNOWN: u8 = 1;
        const UNKNOWN: u8 = 2;
        let mut known = vec![UNSEEN; doc.name_id_count()];
        for n in doc.descendants(root) {
            if !doc.is_element(n) {
                continue;
            }
            let id = doc.name_id(n);
            let k = &mut known[id.index()];
            if *k == UNSEEN {
                let (nns, name) = doc.name_parts(id);
                *k = if vocabulary::is_known(nns, name) { KNOWN } else { UNKNOWN };
            }
            if *k == UNKNOWN {
                self.meldingen.push(onbekend_element(doc, self.bestand, n));
            }
        }
    }

    fn missing(&mut self, parent: NodeId, name: &str) {
        self.meldingen.push(
            Melding::new(
                "RB2007",
                Ernst::Fout,
                Soort::Technisch,
                format!(
                    "{} mist het verplichte element {name} in {}. Voeg het toe volgens het STOP-schema.",
                    self.bestand,
                    self.doc.name(parent)
                ),
            )
            .at(locatie(self.doc, self.bestand, parent)),
        );
    }

    fn required(&mut self, parent: NodeId, ns: &str, name: &str) -> Option<NodeId> {
        let c = self.doc.child(parent, ns, name);
        if c.is_none() {
            self.missing(parent, name);
        }
        c
    }

    fn text_of_child(&self, parent: NodeId, ns: &str, name: &str) -> Option<String> {
        self.doc.child(parent, ns, name).and_then(|c| self.doc.trimmed_text(c))
    }

    fn texts(&self, parent: NodeId, ns: &str, container: &str, item: &str) -> Vec<String> {
        self.doc
            .child(parent, ns, container)
            .map(|c| {
                self.doc
                    .elements(c)
                    .filter(|&e| self.doc.is(e, ns, item))
                    .filter_map(|e| self.doc.trimmed_text(e))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn expression_identificatie(&mut self, parent: NodeId) -> ExpressionIdentificatie {
        let Some(ei) = self.required(parent, ns::DATA, "ExpressionIdentificatie") else {
            return ExpressionIdentificatie::default();
        };
        let work = self.text_of_child(ei, ns::DATA, "FRBRWork");
        let expression = self.text_of_child(ei, ns::DATA, "FRBRExpression");
        if work.is_none() {
            self.missing(ei, "FRBRWork");
        }
        if expression.is_none() {
            self.missing(ei, "FRBRExpression");
        }
        ExpressionIdentificatie {
            work: work.unwrap_or_default(),
            expression: expression.unwrap_or_default(),
            soort_work: self.text_of_child(ei, ns::DATA, "soortWork"),
        }
    }

    fn metadata(&self, node: NodeId) -> Metadata {
        let doc = self.doc;
        let mut velden = Vec::new();
        for d in doc.descendants(node).skip(1) {
            if doc.is_element(d) && doc.elements(d).next().is_none() {
                velden.push((doc.name(d).to_string(), doc.text(d).trim().to_string()));
            }
        }
        Metadata { velden }
    }

    fn opt_metadata(&self, parent: NodeId, name: &str) -> Option<Metadata> {
        self.doc.child(parent, ns::DATA, name).map(|n| self.metadata(n))
    }

    fn stappen(&self, parent: Option<NodeId>) -> Vec<Procedurestap> {
        let Some(p) = parent else { return Vec::new() };
        self.doc
            .elements(p)
            .filter(|&s| self.doc.is(s, ns::DATA, "Procedurestap"))
            .map(|s| Procedurestap {
                soort_stap: self.text_of_child(s, ns::DATA, "soortStap").unwrap_or_default(),
                voltooid_op: self.text_of_child(s, ns::DATA, "voltooidOp"),
                actor: self.text_of_child(s, ns::DATA, "actor"),
            })
            .collect()
    }

    fn procedureverloop(&self, n: NodeId) -> Procedureverloop {
        Procedureverloop {
            bekend_op: self.text_of_child(n, ns::DATA, "bekendOp"),
            ontvangen_op: self.text_of_child(n, ns::DATA, "ontvangenOp"),
            stappen: self.stappen(self.doc.child(n, ns::DATA, "procedurestappen")),
        }
    }

    fn procedureverloopmutatie(&self, n: NodeId) -> Procedureverloopmutatie {
        Procedureverloopmutatie {
            bekend_op: self.text_of_child(n, ns::DATA, "bekendOp"),
            voeg_stappen_toe: self.stappen(self.doc.child(n, ns::DATA, "voegStappenToe")),
            vervang_stappen: self.stappen(self.doc.child(n, ns::DATA, "vervangStappen")),
            verwijder_stappen: self.stappen(self.doc.child(n, ns::DATA, "verwijderStappen")),
        }
    }

    fn basisversies(&self, n: NodeId) -> Vec<Basisversie> {
        let Some(g) = self.doc.child(n, ns::DATA, "gemaaktOpBasisVan") else { return Vec::new() };
        self.doc
            .elements(g)
            .map(|b| Basisversie {
                soort: self.doc.name(b).to_string(),
                doel: self.text_of_child(b, ns::DATA, "doel"),
                gemaakt_op: self.text_of_child(b, ns::DATA, "gemaaktOp"),
            })
            .collect()
    }

    fn beoogd(&mut self, n: NodeId) -> BeoogdInstrument {
        let instrument_versie = self.text_of_child(n, ns::DATA, "instrumentVersie");
        let instrument = self.text_of_child(n, ns::DATA, "instrument");
        if instrument_versie.is_none() && instrument.is_none() {
            self.missing(n, "instrumentVersie");
        }
        let vervlechtingen = self
            .doc
            .child(n, ns::DATA, "gerelateerdeVersies")
            .map(|g| {
                self.doc
                    .elements(g)
                    .filter(|&v| self.doc.is(v, ns::DATA, "Vervlechting"))
                    .flat_map(|v| {
                        self.doc
                            .elements(v)
                            .filter(|&i| self.doc.is(i, ns::DATA, "instrumentVersie"))
                            .filter_map(|i| self.doc.trimmed_text(i))
                            .collect::<Vec<_>>()
                    })
                    .collect()
            })
            .unwrap_or_default();
        BeoogdInstrument {
            bekend_op: self.text_of_child(n, ns::DATA, "bekendOp"),
            doelen: self.texts(n, ns::DATA, "doelen", "doel"),
            instrument_versie: instrument_versie.unwrap_or_default(),
            instrument,
            eid: self.text_of_child(n, ns::DATA, "eId"),
            vervlechtingen,
            basisversies: self.basisversies(n),
            regel: self.regel(n),
        }
    }

    fn consolidatie(&mut self, ci: NodeId) -> ConsolidatieInformatie {
        let doc = self.doc;
        let mut out = ConsolidatieInformatie {
            vorm: ConsolidatieVorm::Gemeenschappelijk,
            gemaakt_op: self.text_of_child(ci, ns::DATA, "gemaaktOp"),
            beoogde_regelingen: Vec::new(),
            beoogde_informatieobjecten: Vec::new(),
            intrekkingen: Vec::new(),
            tijdstempels: Vec::new(),
            materieel_uitgewerkt: Vec::new(),
            terugtrekkingen: Vec::new(),
            creeert_samenloop: doc.child(ci, ns::DATA, "CreeertSamenloop").is_some(),
        };
        let mut v13 = out.gemaakt_op.is_some();
        let mut v14 = out.creeert_samenloop;
        // Elements are read wherever they are in the module (as the reference implementation
        // does); the XSD layer reports misplaced ones. Nested references (Basisversie, ...)
        // are read by their owners.
        let elementen: Vec<NodeId> =
            doc.descendants(ci).filter(|&n| n != ci && doc.is_element(n) && doc.ns(n) == ns::DATA).collect();
        for &b in &elementen {
            match doc.name(b) {
                name @ ("BeoogdeRegeling" | "BeoogdInformatieobject") => {
                    let item = self.beoogd(b);
                    v13 |= !item.basisversies.is_empty();
                    v14 |= !item.vervlechtingen.is_empty();
                    if name == "BeoogdeRegeling" {
                        out.beoogde_regelingen.push(item);
                    } else {
                        out.beoogde_informatieobjecten.push(item);
                    }
                }
                "Intrekking" => {
                    let i = b;
                    let instrument = self.text_of_child(i, ns::DATA, "instrument");
                    if instrument.is_none() {
                        self.missing(i, "instrument");
                    }
                    // STOP 1.4 has `doelen/doel`, STOP 1.3 a single `doel`.
                    let mut doelen = self.texts(i, ns::DATA, "doelen", "doel");
                    if let Some(d) = self.text_of_child(i, ns::DATA, "doel") {
                        doelen.push(d);
                    }
                    let item = Intrekking {
                        bekend_op: self.text_of_child(i, ns::DATA, "bekendOp"),
                        doelen,
                        instrument: instrument.unwrap_or_default(),
                        eid: self.text_of_child(i, ns::DATA, "eId"),
                        basisversies: self.basisversies(i),
                        regel: self.regel(i),
                    };
                    v13 |= !item.basisversies.is_empty();
                    out.intrekkingen.push(item);
                }
                "Tijdstempel" => {
                    let t = b;
                    let doel = self.text_of_child(t, ns::DATA, "doel");
                    let soort = self.text_of_child(t, ns::DATA, "soortTijdstempel");
                    let datum = self.text_of_child(t, ns::DATA, "datum");
                    for (v, n) in [(&doel, "doel"), (&soort, "soortTijdstempel"), (&datum, "datum")] {
                        if v.is_none() {
                            self.missing(t, n);
                        }
                    }
                    out.tijdstempels.push(Tijdstempel {
                        bekend_op: self.text_of_child(t, ns::DATA, "bekendOp"),
                        doel: doel.unwrap_or_default(),
                        soort: soort.unwrap_or_default(),
                        datum: datum.unwrap_or_default(),
                        eid: self.text_of_child(t, ns::DATA, "eId"),
                        regel: self.regel(t),
                    });
                }
                "MaterieelUitgewerkt" => {
                    let t = b;
                    v14 = true;
                    out.materieel_uitgewerkt.push(MaterieelUitgewerkt {
                        bekend_op: self.text_of_child(t, ns::DATA, "bekendOp"),
                        instrument: self.text_of_child(t, ns::DATA, "instrument").unwrap_or_default(),
                        datum: self.text_of_child(t, ns::DATA, "datum"),
                        regel: self.regel(t),
                    });
                }
                soort if soort.starts_with("Terugtrekking") && soort != "Terugtrekkingen" => {
                    let t = b;
                    let soort = soort.to_string();
                    match soort.as_str() {
                        "TerugtrekkingRegeling" | "TerugtrekkingInformatieobject" => v13 = true,
                        "TerugtrekkingMaterieelUitgewerkt" => v14 = true,
                        _ => {}
                    }
                    let mut doelen = self.texts(t, ns::DATA, "doelen", "doel");
                    if let Some(d) = self.text_of_child(t, ns::DATA, "doel") {
                        doelen.push(d);
                    }
                    let item = Terugtrekking {
                        soort,
                        bekend_op: self.text_of_child(t, ns::DATA, "bekendOp"),
                        doelen,
                        instrument: self.text_of_child(t, ns::DATA, "instrument"),
                        instrument_versie: self.text_of_child(t, ns::DATA, "instrumentVersie"),
                        soort_tijdstempel: self.text_of_child(t, ns::DATA, "soortTijdstempel"),
                        eid: self.text_of_child(t, ns::DATA, "eId"),
                        basisversies: self.basisversies(t),
                        regel: self.regel(t),
                    };
                    v13 |= !item.basisversies.is_empty();
                    out.terugtrekkingen.push(item);
                }
                _ => {}
            }
        }
        out.vorm = match (v13, v14) {
            (true, _) => ConsolidatieVorm::Stop13,
            (false, true) => ConsolidatieVorm::Stop14,
            (false, false) => ConsolidatieVorm::Gemeenschappelijk,
        };
        out
    }

    /// Collect the facts of a text: model, regelingen/mutaties, eIds, wIds, IO references.
    fn tekst(&self, root: NodeId) -> TekstInfo {
        let doc = self.doc;
        let mut info = TekstInfo { model: doc.name(root).to_string(), ..Default::default() };
        // What an element name means here, per name id (computed once per distinct name).
        const UNSEEN: u8 = 0;
        const OTHER: u8 = 1;
        const REGELING: u8 = 2;
        const EXT_IO_REF: u8 = 3;
        let mut class = vec![UNSEEN; doc.name_id_count()];
        // Enclosing components as (end of the component's span, component name): a node lies
        // inside a component exactly when it starts before the component's end.
        let mut comp_stack: Vec<(usize, String)> = Vec::new();
        for n in doc.descendants(root) {
            if !doc.is_element(n) {
                continue;
            }
            info.elementen += 1;
            let (start, end) = doc.span(n);
            while comp_stack.last().is_some_and(|&(comp_end, _)| start >= comp_end) {
                comp_stack.pop();
            }
            let name_id = doc.name_id(n).index();
            if class[name_id] == UNSEEN {
                let (nns, name) = doc.name_parts(doc.name_id(n));
                class[name_id] = match name {
                    _ if nns != ns::TEKST => OTHER,
                    "RegelingCompact" | "RegelingVrijetekst" | "RegelingKlassiek" | "RegelingTijdelijkdeel"
                    | "RegelingMutatie" => REGELING,
                    "ExtIoRef" => EXT_IO_REF,
                    _ => OTHER,
                };
            }
            // The attributes this needs, in one pass (first occurrence, as `Document::attr`).
            let (mut eid, mut wid, mut comp) = (None, None, None);
            for (ans, an, v) in doc.attrs_of(n) {
                if !ans.is_empty() {
                    continue;
                }
                match an {
                    "eId" if eid.is_none() => eid = Some(v),
                    "wId" if wid.is_none() => wid = Some(v),
                    "componentnaam" if comp.is_none() => comp = Some(v),
                    _ => {}
                }
            }
            match class[name_id] {
                REGELING if n != root => info.regelingen.push(RegelingInTekst {
                    element: doc.name(n).to_string(),
                    wordt: doc.attr(n, "wordt").map(str::to_string),
                    was: doc.attr(n, "was").map(str::to_string),
                    componentnaam: comp.map(str::to_string),
                    eid: eid.map(str::to_string),
                    regel: self.regel(n),
                }),
                EXT_IO_REF => {
                    let r = doc.attr(n, "ref").map(str::to_string).or_else(|| doc.trimmed_text(n));
                    if let Some(r) = r {
                        info.io_refs.push(r);
                    }
                }
                _ => {}
            }
            if let Some(e) = eid {
                match comp_stack.last() {
                    Some((_, comp)) => {
                        let mut s = String::with_capacity(comp.len() + e.len() + 2);
                        s.push('!');
                        s.push_str(comp);
                        s.push('#');
                        s.push_str(e);
                        info.eids.push(s);
                    }
                    None => info.eids.push(e.to_string()),
                }
            }
            if let Some(c) = comp
                && n != root
            {
                comp_stack.push((end, c.to_string()));
            }
        }
        info.eids.shrink_to_fit();
        info
    }

    fn text_root(&self, parent: NodeId, names: &[&str]) -> Option<NodeId> {
        self.doc.elements(parent).find(|&c| self.doc.ns(c) == ns::TEKST && names.contains(&self.doc.name(c)))
    }

    fn regeling_versie_informatie(&mut self, n: NodeId) -> RegelingVersieInformatie {
        RegelingVersieInformatie {
            id: self.expression_identificatie(n),
            versie_metadata: self.opt_metadata(n, "RegelingVersieMetadata").unwrap_or_default(),
            regeling_metadata: self.opt_metadata(n, "RegelingMetadata"),
            regel: self.regel(n),
        }
    }

    fn besluit(&mut self, root: NodeId) -> Besluit {
        let doc = self.doc;
        let mut b = Besluit::default();
        if let Some(bv) = self.required(root, ns::AANLEVERING, "BesluitVersie") {
            b.id = self.expression_identificatie(bv);
            match doc.child(bv, ns::DATA, "BesluitMetadata") {
                Some(m) => b.metadata = self.metadata(m),
                None => self.missing(bv, "BesluitMetadata"),
            }
            b.procedureverloop = doc.child(bv, ns::DATA, "Procedureverloop").map(|p| self.procedureverloop(p));
            match doc.child(bv, ns::DATA, "ConsolidatieInformatie") {
                Some(ci) => b.consolidatie = Some(self.consolidatie(ci)),
                None => self.missing(bv, "ConsolidatieInformatie"),
            }
            match self.text_root(bv, &["BesluitCompact", "BesluitKlassiek"]) {
                Some(t) => b.tekst = Some(self.tekst(t)),
                None => self.missing(bv, "BesluitCompact of BesluitKlassiek"),
            }
            b.tekstrevisie = self.text_root(bv, &["Tekstrevisie"]).map(|t| self.tekst(t));
        }
        for r in doc.elements(root).filter(|&r| doc.is(r, ns::AANLEVERING, "RegelingVersieInformatie")).collect::<Vec<_>>() {
            let rvi = self.regeling_versie_informatie(r);
            b.regeling_versies.push(rvi);
        }
        b
    }

    fn kennisgeving(&mut self, root: NodeId) -> Kennisgeving {
        let doc = self.doc;
        let mut k = Kennisgeving::default();
        if let Some(kv) = self.required(root, ns::AANLEVERING, "KennisgevingVersie") {
            k.id = self.expression_identificatie(kv);
            match doc.child(kv, ns::DATA, "KennisgevingMetadata") {
                Some(m) => k.metadata = self.metadata(m),
                None => self.missing(kv, "KennisgevingMetadata"),
            }
            k.procedureverloopmutatie =
                doc.child(kv, ns::DATA, "Procedureverloopmutatie").map(|p| self.procedureverloopmutatie(p));
            match self.text_root(kv, &["Kennisgeving"]) {
                Some(t) => k.tekst = Some(self.tekst(t)),
                None => self.missing(kv, "Kennisgeving"),
            }
        }
        k
    }

    fn informatieobject(&mut self, root: NodeId) -> InformatieObject {
        let doc = self.doc;
        let mut io = InformatieObject::default();
        if let Some(v) = self.required(root, ns::AANLEVERING, "InformatieObjectVersie") {
            io.id = self.expression_identificatie(v);
            match doc.child(v, ns::DATA, "InformatieObjectVersieMetadata") {
                Some(m) => {
                    io.versie_metadata = self.metadata(m);
                    for b in doc.descendants(m).filter(|&b| doc.is(b, ns::DATA, "Bestand")) {
                        let at = doc.child(b, ns::DATA, "hash").unwrap_or(b);
                        io.bestanden.push(IoBestand {
                            bestandsnaam: self.text_of_child(b, ns::DATA, "bestandsnaam").unwrap_or_default(),
                            hash: self.text_of_child(b, ns::DATA, "hash").unwrap_or_default(),
                            locatie: locatie(doc, self.bestand, at),
                        });
                    }
                }
                None => self.missing(v, "InformatieObjectVersieMetadata"),
            }
            io.metadata = self.opt_metadata(v, "InformatieObjectMetadata");
        }
        io
    }

    fn overige(&mut self, root: NodeId, versie: &str) -> OverigePublicatie {
        let doc = self.doc;
        let mut o = OverigePublicatie::default();
        if let Some(v) = self.required(root, ns::AANLEVERING, versie) {
            if doc.child(v, ns::DATA, "ExpressionIdentificatie").is_some() {
                o.id = Some(self.expression_identificatie(v));
            }
            for m in ["RectificatieMetadata", "MededelingMetadata"] {
                if let Some(md) = self.opt_metadata(v, m) {
                    o.metadata = md;
                }
            }
            o.procedureverloopmutatie =
                doc.child(v, ns::DATA, "Procedureverloopmutatie").map(|p| self.procedureverloopmutatie(p));
            o.consolidatie = doc.child(v, ns::DATA, "ConsolidatieInformatie").map(|c| self.consolidatie(c));
            o.tekst = self
                .text_root(v, &["Tekstrevisie", "Rectificatie", "Mededeling"])
                .map(|t| self.tekst(t));
        }
        if let Some(bvi) = doc.child(root, ns::AANLEVERING, "BesluitVersieInformatie") {
            o.besluit_versie_informatie = Some(self.expression_identificatie(bvi));
        }
        for r in doc.elements(root).filter(|&r| doc.is(r, ns::AANLEVERING, "RegelingVersieInformatie")).collect::<Vec<_>>() {
            let rvi = self.regeling_versie_informatie(r);
            o.regeling_versies.push(rvi);
        }
        o
    }

    fn gio(&self, root: NodeId) -> GioVaststelling {
        let doc = self.doc;
        let versie = doc.descendants(root).find(|&n| doc.is(n, ns::GEO, "GeoInformatieObjectVersie"));
        let mut g = GioVaststelling::default();
        if let Some(v) = versie {
            g.work = self.text_of_child(v, ns::GEO, "FRBRWork");
            g.expression = self.text_of_child(v, ns::GEO, "FRBRExpression");
            g.locaties = doc.descendants(v).filter(|&n| doc.is(n, ns::GEO, "Locatie")).count();
        }
        g.was = doc
            .descendants(root)
            .find(|&n| doc.is(n, ns::GEO, "wasID"))
            .and_then(|n| doc.trimmed_text(n));
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tekst_prefixes_eids_inside_components_and_finds_regelingen() {
        let src = format!(
            r#"<BesluitCompact xmlns="{t}" eId="root" componentnaam="nooit">
  <Lichaam eId="body" wId="w_body">
    <WijzigArtikel eId="art_I">
      <RegelingMutatie componentnaam="eerste" eId="art_I__cmp" wordt="/akn/x" was="/akn/y">
        <Artikel eId="art_1" wId="w1"><Al>tekst <ExtIoRef ref="/join/io/1">io</ExtIoRef></Al></Artikel>
        <Divisie componentnaam="tweede" eId="div"><Artikel eId="art_2"/></Divisie>
        <Artikel eId="art_3"/>
      </RegelingMutatie>
      <Artikel eId="art_4"/>
    </WijzigArtikel>
    <RegelingCompact eId="bijlage"><ExtIoRef> /join/io/2 </ExtIoRef><x:p xmlns:x="urn:x" eId="vreemd"/></RegelingCompact>
  </Lichaam>
</BesluitCompact>"#,
            t = ns::TEKST
        );
        let doc = Document::parse_str(&src).unwrap();
        let cx = Cx { doc: &doc, bestand: "besluit.xml", meldingen: Vec::new() };
        let info = cx.tekst(doc.root().unwrap());
        assert_eq!(info.model, "BesluitCompact");
        assert_eq!(
            info.eids,
            [
                "root", "body", "art_I", "art_I__cmp", "!eerste#art_1", "!eerste#div", "!tweede#art_2",
                "!eerste#art_3", "art_4", "bijlage", "vreemd"
            ]
        );
        assert_eq!(info.io_refs, ["/join/io/1", "/join/io/2"]);
        assert_eq!(info.elementen, 14);
        assert_eq!(info.regelingen.len(), 2);
        let r = &info.regelingen[0];
        assert_eq!(
            (r.element.as_str(), r.wordt.as_deref(), r.was.as_deref(), r.componentnaam.as_deref(), r.eid.as_deref(), r.regel),
            ("RegelingMutatie", Some("/akn/x"), Some("/akn/y"), Some("eerste"), Some("art_I__cmp"), 4)
        );
        assert_eq!((info.regelingen[1].element.as_str(), info.regelingen[1].regel), ("RegelingCompact", 11));
    }
}
