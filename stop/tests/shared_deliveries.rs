//! Every XML file of the real delivery packages (folders with an opdracht.xml) in ../shared parses; known STOP files give typed
//! modules without blocking meldingen. (Tests may read files; the crate itself does no I/O.)

use std::path::{Path, PathBuf};
use stop::module::{parse_bestand, Inhoud, ModuleSoort};

fn shared() -> PathBuf {
    std::env::var_os("REGELBANK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            xml_files(&p, out);
        } else if dir.join("opdracht.xml").is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("xml" | "gml")) {
            out.push(p);
        }
    }
}

#[test]
fn every_shared_delivery_file_parses() {
    let root = shared().join("deliveries/geonovum-lvbb-test-repository");
    assert!(root.is_dir(), "shared deliveries not found at {}", root.display());
    let mut files = Vec::new();
    xml_files(&root, &mut files);
    assert!(files.len() > 50, "only {} files", files.len());
    let mut besluiten = 0;
    let mut gios = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(f).unwrap();
        if name == "opdracht.xml" {
            let (o, m) = stop::opdracht::parse_opdracht(bytes).unwrap_or_else(|m| panic!("{}: {m:?}", f.display()));
            assert!(m.iter().all(|m| !m.is_fout()), "{}: {m:?}", f.display());
            assert!(!o.id_levering.is_empty());
            continue;
        }
        let (b, m) = parse_bestand(name, bytes).unwrap_or_else(|m| panic!("{}: {m:?}", f.display()));
        let fouten: Vec<_> = m.iter().filter(|m| m.is_fout()).collect();
        assert!(fouten.is_empty(), "{}: {fouten:?}", f.display());
        match &b.inhoud {
            Inhoud::Besluit(bs) => {
                besluiten += 1;
                assert!(bs.id.work.starts_with("/akn/nl/bill/"), "{}", bs.id.work);
                assert!(bs.consolidatie.is_some());
                let t = bs.tekst.as_ref().unwrap();
                assert!(!t.eids.is_empty());
            }
            Inhoud::Gio(g) => {
                gios += 1;
                assert!(g.expression.is_some(), "{}", f.display());
            }
            _ => {}
        }
        if b.soort == ModuleSoort::AanleveringInformatieObject {
            let Inhoud::InformatieObject(io) = &b.inhoud else { unreachable!() };
            assert_eq!(io.bestanden.len(), 1, "{}", f.display());
            assert_eq!(io.bestanden[0].hash.len(), 128);
        }
    }
    assert!(besluiten >= 10, "{besluiten}");
    assert!(gios >= 5, "{gios}");
}

#[test]
fn initial_besluit_reads_consolidatie_informatie() {
    let f = shared().join("deliveries/geonovum-lvbb-test-repository/Sanity-check-testeiland/1_Initieel_Besluit/Initieel_besluit.xml");
    let (b, m) = parse_bestand("Initieel_besluit.xml", std::fs::read(f).unwrap()).unwrap();
    assert!(m.is_empty(), "{m:?}");
    let Inhoud::Besluit(b) = b.inhoud else { panic!() };
    let ci = b.consolidatie.unwrap();
    assert_eq!(ci.beoogde_regelingen[0].instrument_versie, "/akn/nl/act/gm9920/2021/TestReeksNummer1/nld@1");
    assert_eq!(ci.beoogde_regelingen[0].eid.as_deref(), Some("art_I"));
    assert_eq!(ci.tijdstempels[0].soort, "juridischWerkendVanaf");
    assert_eq!(ci.tijdstempels[0].datum, "2021-09-01");
    assert_eq!(ci.doelen(), ["/join/id/proces/gm9920/2021/TesteilandDoel"]);
    let t = b.tekst.unwrap();
    assert_eq!(t.model, "BesluitCompact");
    assert_eq!(t.regelingen[0].element, "RegelingCompact");
    assert_eq!(t.regelingen[0].wordt.as_deref(), Some("/akn/nl/act/gm9920/2021/TestReeksNummer1/nld@1"));
    assert!(t.eids.iter().any(|e| e == "!regeling#cmp_I__content_o_1__list_o_1__item_o_1__ref_o_1"), "{:?}", &t.eids[..10]);
    assert_eq!(b.regeling_versies.len(), 1);
    assert!(b.regeling_versies[0].regeling_metadata.is_some());
    assert_eq!(b.metadata.get("officieleTitel"), Some("Testeiland eerste aanlevering"));
}

#[test]
fn unknown_elements_are_reported_with_location() {
    let xml = r#"<AanleveringKennisgeving xmlns="https://standaarden.overheid.nl/lvbb/stop/aanlevering/" schemaversie="1.4.1">
  <KennisgevingVersie>
    <ExpressionIdentificatie xmlns="https://standaarden.overheid.nl/stop/imop/data/">
      <FRBRWork>/akn/nl/doc/gm1/2027/k1</FRBRWork><FRBRExpression>/akn/nl/doc/gm1/2027/k1/nld@2027-01-04</FRBRExpression>
    </ExpressionIdentificatie>
    <KennisgevingMetadata xmlns="https://standaarden.overheid.nl/stop/imop/data/"><mededelingOver>/akn/nl/bill/gm1/2027/b/nld@2027-01-04</mededelingOver>
      <geheimVeld>x</geheimVeld></KennisgevingMetadata>
    <Kennisgeving xmlns="https://standaarden.overheid.nl/stop/imop/tekst/"><Lichaam eId="body" wId="body"><Al>t</Al></Lichaam></Kennisgeving>
  </KennisgevingVersie>
</AanleveringKennisgeving>"#;
    let (b, m) = parse_bestand("k.xml", xml.as_bytes().to_vec()).unwrap();
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].code, "RB2003");
    assert_eq!(m[0].locatie.regel, Some(7));
    assert!(m[0].locatie.pad.as_deref().unwrap().ends_with("KennisgevingMetadata/geheimVeld"));
    let Inhoud::Kennisgeving(k) = b.inhoud else { panic!() };
    assert_eq!(k.metadata.get("mededelingOver"), Some("/akn/nl/bill/gm1/2027/b/nld@2027-01-04"));
}

#[test]
fn unsupported_schemaversie_is_lvbb1515() {
    for (v, ok) in [("1.0.4", true), ("1.3.0", true), ("1.4.1", true), ("1.0.3", false), ("1.5.0", false), ("2.0.0", false), ("x", false)] {
        let xml = format!(r#"<AanleveringRevisie xmlns="https://standaarden.overheid.nl/lvbb/stop/aanlevering/" schemaversie="{v}"><RevisieVersie/></AanleveringRevisie>"#);
        let (_, m) = parse_bestand("r.xml", xml.into_bytes()).unwrap();
        assert_eq!(m.iter().any(|m| m.code == "LVBB1515"), !ok, "{v}: {m:?}");
    }
}

fn besluit_with_ci(ci: &str) -> stop::module::ConsolidatieInformatie {
    let xml = format!(
        r#"<AanleveringBesluit xmlns="https://standaarden.overheid.nl/lvbb/stop/aanlevering/" schemaversie="1.4.1"><BesluitVersie>
<ExpressionIdentificatie xmlns="https://standaarden.overheid.nl/stop/imop/data/"><FRBRWork>/akn/nl/bill/gm1/2027/b</FRBRWork><FRBRExpression>/akn/nl/bill/gm1/2027/b/nld@2027-01-04;1</FRBRExpression><soortWork>/join/id/stop/work_003</soortWork></ExpressionIdentificatie>
<BesluitMetadata xmlns="https://standaarden.overheid.nl/stop/imop/data/"><officieleTitel>t</officieleTitel></BesluitMetadata>
<ConsolidatieInformatie xmlns="https://standaarden.overheid.nl/stop/imop/data/">{ci}</ConsolidatieInformatie>
<BesluitCompact xmlns="https://standaarden.overheid.nl/stop/imop/tekst/"><Lichaam eId="body" wId="body"><Artikel eId="art_I" wId="a1"><Inhoud><Al>x</Al></Inhoud></Artikel></Lichaam></BesluitCompact>
</BesluitVersie></AanleveringBesluit>"#
    );
    let (b, m) = parse_bestand("b.xml", xml.into_bytes()).unwrap();
    assert!(m.is_empty(), "{m:?}");
    let Inhoud::Besluit(b) = b.inhoud else { panic!() };
    b.consolidatie.unwrap()
}

#[test]
fn consolidatie_informatie_in_the_stop_1_4_shape() {
    let ci = besluit_with_ci(
        r#"<BeoogdeRegelgeving><BeoogdeRegeling><doelen><doel>/join/id/proces/gm1/2027/A</doel><doel>/join/id/proces/gm1/2027/B</doel></doelen>
<instrumentVersie>/akn/nl/act/gm1/2027/r/nld@2027-01-04;3</instrumentVersie><eId>art_I</eId>
<gerelateerdeVersies><Vervlechting><instrumentVersie>/akn/nl/act/gm1/2027/r/nld@2027-01-02;2</instrumentVersie></Vervlechting></gerelateerdeVersies></BeoogdeRegeling></BeoogdeRegelgeving>
<Tijdstempels><Tijdstempel><bekendOp>2026-12-01</bekendOp><doel>/join/id/proces/gm1/2027/A</doel><soortTijdstempel>geldigVanaf</soortTijdstempel><datum>2027-01-01</datum></Tijdstempel>
<MaterieelUitgewerkt><instrument>/akn/nl/act/gm1/2020/oud</instrument><datum>2027-02-01</datum></MaterieelUitgewerkt></Tijdstempels>
<Terugtrekkingen><TerugtrekkingMaterieelUitgewerkt><instrument>/akn/nl/act/gm1/2020/ander</instrument></TerugtrekkingMaterieelUitgewerkt></Terugtrekkingen>
<CreeertSamenloop/>"#,
    );
    use stop::module::ConsolidatieVorm;
    assert_eq!(ci.vorm, ConsolidatieVorm::Stop14);
    assert!(ci.creeert_samenloop);
    assert_eq!(ci.beoogde_regelingen[0].doelen.len(), 2);
    assert_eq!(ci.beoogde_regelingen[0].vervlechtingen, ["/akn/nl/act/gm1/2027/r/nld@2027-01-02;2"]);
    assert_eq!(ci.tijdstempels[0].bekend_op.as_deref(), Some("2026-12-01"));
    assert_eq!(ci.materieel_uitgewerkt[0].instrument, "/akn/nl/act/gm1/2020/oud");
    assert_eq!(ci.terugtrekkingen[0].soort, "TerugtrekkingMaterieelUitgewerkt");
    assert_eq!(ci.doelen(), ["/join/id/proces/gm1/2027/A", "/join/id/proces/gm1/2027/B"]);
}

#[test]
fn consolidatie_informatie_in_the_stop_1_3_shape() {
    let ci = besluit_with_ci(
        r#"<gemaaktOp>2027-01-03T10:00:00Z</gemaaktOp><BeoogdeRegelgeving><BeoogdeRegeling><doelen><doel>/join/id/proces/gm1/2027/B</doel></doelen>
<instrumentVersie>/akn/nl/act/gm1/2027/r/nld@2027-01-04;3</instrumentVersie><eId>art_I</eId>
<gemaaktOpBasisVan><Basisversie><doel>/join/id/proces/gm1/2027/A</doel><gemaaktOp>2027-01-01T00:00:00Z</gemaaktOp></Basisversie>
<VervlochtenVersie><doel>/join/id/proces/gm1/2027/C</doel><gemaaktOp>2027-01-02T00:00:00Z</gemaaktOp></VervlochtenVersie></gemaaktOpBasisVan>
</BeoogdeRegeling></BeoogdeRegelgeving>
<Terugtrekkingen><TerugtrekkingRegeling><doelen><doel>/join/id/proces/gm1/2027/D</doel></doelen><instrument>/akn/nl/act/gm1/2027/r</instrument></TerugtrekkingRegeling></Terugtrekkingen>"#,
    );
    use stop::module::ConsolidatieVorm;
    assert_eq!(ci.vorm, ConsolidatieVorm::Stop13);
    assert_eq!(ci.gemaakt_op.as_deref(), Some("2027-01-03T10:00:00Z"));
    let b = &ci.beoogde_regelingen[0].basisversies;
    assert_eq!((b[0].soort.as_str(), b[0].doel.as_deref()), ("Basisversie", Some("/join/id/proces/gm1/2027/A")));
    assert_eq!(b[1].soort, "VervlochtenVersie");
    assert_eq!(ci.terugtrekkingen[0].soort, "TerugtrekkingRegeling");
    assert_eq!(ci.terugtrekkingen[0].doelen, ["/join/id/proces/gm1/2027/D"]);
}
