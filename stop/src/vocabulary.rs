//! The element names of the STOP namespaces (STOP 1.3.0 and 1.4.x together), used to report
//! elements regelbank does not know. Names are facts of the standard; the lists are ours.

use crate::ns;

pub const AANLEVERING: &[&str] = &[
    "AanleveringBesluit", "AanleveringEffectgebied", "AanleveringGebiedsmarkering",
    "AanleveringInformatieObject", "AanleveringJuridischeVerantwoording", "AanleveringKennisgeving",
    "AanleveringMededeling", "AanleveringProcedureverloopmutatie", "AanleveringRectificatie",
    "AanleveringRevisie", "BesluitVersie", "BesluitVersieInformatie", "InformatieObjectVersie",
    "KennisgevingVersie", "MededelingVersie", "ProcedureverloopmutatieVersie", "RectificatieVersie",
    "RegelingVersie", "RegelingVersieInformatie", "RevisieVersie", "effectgebiedRef",
    "gebiedsmarkeringRef",
];

pub const DATA: &[&str] = &[
    "Basisversie", "Begripsrelatie", "Begripsrelaties", "BeoogdInformatieobject", "BeoogdeRegelgeving",
    "BeoogdeRegeling", "BesluitMetadata", "Bestand", "CiteertitelInformatie", "ConceptMomentopname",
    "ConsolidatieInformatie", "CreeertSamenloop", "ExpressionIdentificatie", "FRBRExpression", "FRBRWork",
    "GIO", "IO", "InformatieObjectMetadata", "InformatieObjectVersieMetadata", "Intrekking", "Intrekkingen",
    "KennisgevingMetadata", "MaterieelUitgewerkt", "MededelingMetadata", "Momentopname",
    "OfficielePublicatieMetadata", "OfficielePublicatieVersieMetadata", "OntvlochtenVersie", "Procedurestap",
    "Procedurestapref", "Procedureverloop", "Procedureverloopmutatie", "RectificatieMetadata",
    "RegelingMetadata", "RegelingVersieMetadata", "TekstReferentie", "Tekstelement",
    "TerugtrekkingInformatieobject", "TerugtrekkingIntrekking", "TerugtrekkingMaterieelUitgewerkt",
    "TerugtrekkingRegeling", "TerugtrekkingTijdstempel", "Terugtrekkingen", "Tijdstempel", "Tijdstempels",
    "Toelichtingsrelatie", "Toelichtingsrelaties", "UitgewisseldInstrument", "Vervlechting",
    "VervlochtenVersie", "Wasversie", "WorkIdentificatie", "actor", "afkorting", "afkortingen",
    "alternatieveTitel", "alternatieveTitels", "beginInzagetermijnOp", "bekendOp", "bestandsnaam",
    "bevatWijzigingenVoor", "catalogusEndPoint", "citeertitel", "component", "datum", "datumTeMuterenStap",
    "doel", "doelen", "eId", "eindeBeroepstermijnOp", "eindeBezwaartermijnOp", "eindeInzagetermijnOp",
    "eindverantwoordelijke", "formaatInformatieobject", "geldigVanaf", "gemaaktOp", "gemaaktOpBasisVan",
    "gepubliceerdOp", "gerelateerdeVersies", "groepID", "grondslag", "grondslagen", "hash", "heeftBestand",
    "heeftBestanden", "heeftCiteertitelInformatie", "heeftGeboorteregeling", "informatieobjectRef",
    "informatieobjectRefs", "instrument", "instrumentVersie", "isOfficieel", "isTijdelijkDeelVan",
    "jaargang", "juridischWerkendTot", "juridischWerkendVanaf", "kenmerk", "label", "maker",
    "mappingRelation", "mededelingOver", "mededelingOverRefs", "meerInformatie", "naamInformatieObject",
    "nietVerwerkt", "nogTeVerwerken", "officieleTitel", "ondertekendOp", "onderwerp", "onderwerpen",
    "ontvangenOp", "opvolgerVan", "opvolging", "overheidsdomein", "overheidsdomeinen", "procedurestappen",
    "publicatieIdentifier", "publicatieblad", "publicatieinstructie", "publicatienaam", "publicatienummer",
    "publiceert", "rechtsgebied", "rechtsgebieden", "rectificeert", "soortBestuursorgaan",
    "soortKennisgeving", "soortMededeling", "soortProcedure", "soortPublicatie", "soortRef", "soortRegeling",
    "soortStap", "soortTijdstempel", "soortWork", "toelichtingOp", "toepassingsnauwkeurigheid", "uitgever",
    "uri", "versienummer", "vervangStappen", "verwerkingen", "verwijderStappen", "voegStappenToe",
    "voltooidOp", "voorkeursafkorting", "wId",
];

pub const TEKST: &[&str] = &[
    "Aanhef", "Afdeling", "Afkondiging", "Al", "AlgemeneToelichting", "Artikel", "ArtikelgewijzeToelichting",
    "Begrip", "Begrippenlijst", "BesluitCompact", "BesluitKlassiek", "BesluitMutatie", "Bijlage",
    "Bijschrift", "BladGR", "Bladaanduiding", "Boek", "Bron", "Citaat", "Conditie", "Considerans", "Contact",
    "Dagtekening", "Deel", "Definitie", "Divisie", "Divisietekst", "ExtIoRef", "ExtRef", "Figuur", "Formule",
    "Gemeenteblad", "Gereserveerd", "Groep", "Hoofdstuk", "Illustratie", "Inhoud", "Inhoudsopgave",
    "InleidendeTekst", "InlineTekstAfbeelding", "Instructie", "IntIoRef", "IntRef", "InwerkingtredingArtikel",
    "Kadertekst", "Kennisgeving", "Kop", "Label", "Li", "LiNummer", "Lichaam", "Lid", "LidNummer", "Lijst",
    "Lijstaanhef", "Lijstsluiting", "Mededeling", "Mededelingtekst", "Motivering", "NieuweTekst",
    "NogNietInWerking", "Noot", "NootNummer", "Nootref", "Nummer", "OfficielePublicatie", "Ondertekening",
    "OpmerkingVersie", "Opschrift", "Paragraaf", "Provinciaalblad", "Rectificatie", "Rectificatietekst",
    "Redactioneel", "RegelingCompact", "RegelingKlassiek", "RegelingMutatie", "RegelingOpschrift",
    "RegelingTijdelijkdeel", "RegelingVrijetekst", "Slotformulering", "Sluiting", "Staatsblad",
    "Staatscourant", "Subparagraaf", "Subsubparagraaf", "Subtitel", "Tekstrevisie", "Term", "Titel",
    "Titelregel", "Toelichting", "Tussenkop", "Vervallen", "Vervang", "VervangKop", "VervangRegeling",
    "Verwijder", "VerwijderdeTekst", "VoegToe", "Wat", "Waterschapsblad", "WijzigArtikel", "WijzigBijlage",
    "WijzigInstructies", "WijzigLid", "abbr", "b", "br", "colspec", "entry", "i", "row", "strong", "sub",
    "sup", "table", "tbody", "tgroup", "thead", "title", "u",
];

pub const GEO: &[&str] = &[
    "Ambtsgebied", "Effectgebied", "Gebied", "Gebiedsmarkering", "GeoInformatieObjectMutatie",
    "GeoInformatieObjectVaststelling", "GeoInformatieObjectVersie", "Groep", "Lijn", "Locatie",
    "LocatieMutatie", "Punt", "Vlak", "groepID", "FRBRWork", "FRBRExpression", "context", "locaties",
    "naam", "geometrie", "vastgesteldeVersie", "groepen", "label", "kwantitatieveNormwaarde",
    "kwalitatieveNormwaarde", "normlabel", "normID", "eenheidlabel", "eenheidID", "wasID", "wordtID",
    "wasVersie", "wordtVersie", "toevoegen", "verwijderen", "muterenLocaties", "wijzigactie",
    "achtergrondVerwijzing", "achtergrondActualiteit", "nauwkeurigheid", "juridischeBorgingVan",
    "GeografischeContext", "locatieID", "domein", "domeinObjectID", "Object", "bevoegdGezag", "locatieId",
    "locatieMutaties", "wijzigmarkeringen",
];

pub const GIO: &[&str] = &[
    "GeografischeContext", "JuridischeBorgingVan", "Object", "domein", "domeinObjectID", "groepID",
    "locatieID", "achtergrondVerwijzing", "achtergrondActualiteit", "contextGIOs", "nauwkeurigheid",
];

/// Whether an element name is known for its namespace. Namespaces outside STOP's own (GML,
/// basisgeometrie, SE, XLink, ...) are governed by their own schemas and accepted as they are.
pub fn is_known(namespace: &str, name: &str) -> bool {
    let list = match namespace {
        ns::AANLEVERING => 0,
        ns::DATA => 1,
        ns::TEKST => 2,
        ns::GEO => 3,
        ns::GIO => 4,
        ns::CONSOLIDATIE => return true,
        "" => return false,
        _ => return true,
    };
    sorted()[list].binary_search(&name).is_ok()
}

/// The lists above, sorted once for binary search.
fn sorted() -> &'static [Vec<&'static str>; 5] {
    static SORTED: std::sync::OnceLock<[Vec<&'static str>; 5]> = std::sync::OnceLock::new();
    SORTED.get_or_init(|| {
        [AANLEVERING, DATA, TEKST, GEO, GIO].map(|l| {
            let mut v = l.to_vec();
            v.sort_unstable();
            v.dedup();
            v
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_known_matches_the_lists() {
        for (namespace, list) in
            [(ns::AANLEVERING, AANLEVERING), (ns::DATA, DATA), (ns::TEKST, TEKST), (ns::GEO, GEO), (ns::GIO, GIO)]
        {
            for name in list {
                assert!(is_known(namespace, name), "{namespace} {name}");
            }
            assert!(!is_known(namespace, "Onbekend"));
            assert!(!is_known(namespace, ""));
        }
        assert!(is_known(ns::CONSOLIDATIE, "wat dan ook"));
        assert!(is_known("http://www.opengis.net/gml/3.2", "Point"));
        assert!(!is_known("", "Artikel"));
        assert!(!is_known(ns::TEKST, "eId"));
    }
}
