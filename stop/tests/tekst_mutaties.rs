//! Handwritten cases for every mutation action, every wijzigactie value and every melding of
//! `stop::tekst::pas_toe`.

use stop::Melding;
use stop::tekst::{Tekst, Toepassing, heeft_renvooi, nieuw, oud, pas_toe};

const NS: &str = "https://standaarden.overheid.nl/stop/imop/tekst/";
const WAS: &str = "/akn/nl/act/gm9999/2027/R/nld@1";

fn regeling() -> String {
    format!(
        r#"<RegelingCompact xmlns="{NS}" componentnaam="r" wordt="{WAS}">
   <Lichaam eId="body" wId="body">
      <Hoofdstuk eId="chp_1" wId="gm9999_1__chp_1">
         <Kop>
            <Label>Hoofdstuk</Label>
            <Nummer>1</Nummer>
            <Opschrift>Algemeen</Opschrift>
         </Kop>
         <Artikel eId="chp_1__art_1" wId="gm9999_1__chp_1__art_1">
            <Kop><Label>Artikel</Label><Nummer>1</Nummer></Kop>
            <Lid eId="chp_1__art_1__para_1" wId="gm9999_1__chp_1__art_1__para_1">
               <LidNummer>1.</LidNummer>
               <Inhoud><Al>De raad stelt regels.</Al></Inhoud>
            </Lid>
            <Lid eId="chp_1__art_1__para_2" wId="gm9999_1__chp_1__art_1__para_2">
               <LidNummer>2.</LidNummer>
               <Inhoud><Al>Het college voert uit.</Al></Inhoud>
            </Lid>
         </Artikel>
         <Artikel eId="chp_1__art_2" wId="gm9999_1__chp_1__art_2">
            <Kop><Label>Artikel</Label><Nummer>2</Nummer></Kop>
            <Inhoud><Al>Dit is artikel twee.</Al></Inhoud>
         </Artikel>
      </Hoofdstuk>
      <Hoofdstuk eId="chp_2" wId="gm9999_1__chp_2">
         <Kop><Label>Hoofdstuk</Label><Nummer>2</Nummer><Opschrift>Slot</Opschrift></Kop>
         <Artikel eId="chp_2__art_3" wId="gm9999_1__chp_2__art_3">
            <Kop><Label>Artikel</Label><Nummer>3</Nummer></Kop>
            <Inhoud><Al>Slotbepaling.</Al></Inhoud>
         </Artikel>
      </Hoofdstuk>
   </Lichaam>
</RegelingCompact>"#
    )
}

/// The was-version's Artikel 1 with the given replacement of its two Leden.
fn art1(leden: &str) -> String {
    format!(
        r#"<Artikel eId="chp_1__art_1" wId="gm9999_1__chp_1__art_1">
            <Kop><Label>Artikel</Label><Nummer>1</Nummer></Kop>
            {leden}
         </Artikel>"#
    )
}

const LID1: &str = r#"<Lid eId="chp_1__art_1__para_1" wId="gm9999_1__chp_1__art_1__para_1">
               <LidNummer>1.</LidNummer>
               <Inhoud><Al>De raad stelt regels.</Al></Inhoud>
            </Lid>"#;
const LID2: &str = r#"<Lid eId="chp_1__art_1__para_2" wId="gm9999_1__chp_1__art_1__para_2">
               <LidNummer>2.</LidNummer>
               <Inhoud><Al>Het college voert uit.</Al></Inhoud>
            </Lid>"#;
const ART2: &str = r#"<Artikel eId="chp_1__art_2" wId="gm9999_1__chp_1__art_2">
            <Kop><Label>Artikel</Label><Nummer>2</Nummer></Kop>
            <Inhoud><Al>Dit is artikel twee.</Al></Inhoud>
         </Artikel>"#;

fn nieuw_art(n: &str) -> String {
    format!(
        r#"<Artikel eId="chp_1__art_{n}" wId="gm9999_2__chp_1__art_{n}">
            <Kop><Label>Artikel</Label><Nummer>{n}</Nummer></Kop>
            <Inhoud><Al>Nieuw artikel {n}.</Al></Inhoud>
         </Artikel>"#
    )
}

fn mutatie(acties: &str) -> String {
    format!(r#"<RegelingMutatie xmlns="{NS}" componentnaam="r" was="{WAS}" wordt="/akn/nl/act/gm9999/2027/R/nld@2">{acties}</RegelingMutatie>"#)
}

fn was() -> Tekst {
    Tekst::parse(&regeling()).unwrap()
}

fn toepassen(acties: &str) -> Result<Toepassing, Vec<Melding>> {
    let w = was();
    let before = w.to_xml();
    let r = pas_toe(&w, &Tekst::parse(&mutatie(acties)).unwrap(), "m.xml");
    assert_eq!(w.to_xml(), before, "the was-version is never changed");
    r
}

fn ok(acties: &str) -> Toepassing {
    let t = toepassen(acties).unwrap_or_else(|m| panic!("{}", m.iter().map(|m| m.to_string()).collect::<Vec<_>>().join("\n")));
    // The result is a well-formed, namespace-correct document on its own.
    let xml = t.tekst.to_xml();
    let again = Tekst::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(again.root().unwrap().ns(), NS);
    assert!(t.tekst.dubbele_wids().is_empty() && t.tekst.dubbele_eids().is_empty(), "{xml}");
    assert!(!t.tekst.root().is_some_and(heeft_renvooi), "{xml}");
    index_klopt(&t.tekst);
    t
}

/// The index a version carries over from its was-version finds exactly what a fresh one finds.
fn index_klopt(t: &Tekst) {
    let fresh = Tekst::parse(&t.to_xml()).unwrap();
    assert_eq!(fresh.index_lagen(), 0);
    let sorted = |v: Vec<&str>| {
        let mut v: Vec<String> = v.into_iter().map(str::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(t.wids().collect()), sorted(fresh.wids().collect()));
    assert_eq!(sorted(t.eids().collect()), sorted(fresh.eids().collect()));
    // Same element, same ancestors. (Paths may differ: renvooi can leave adjacent text nodes
    // that a fresh parse sees as one.)
    let same = |a: stop::tekst::ElementRef<'_>, b: stop::tekst::ElementRef<'_>, id: &str| {
        assert_eq!(a.to_xml(), b.to_xml(), "{id}");
        let chain = |r: stop::tekst::ElementRef<'_>| r.ancestors().map(|x| x.start_tag().to_string()).collect::<Vec<_>>();
        assert_eq!(chain(a), chain(b), "{id}");
    };
    for w in fresh.wids() {
        same(t.by_wid(w).unwrap(), fresh.by_wid(w).unwrap(), w);
    }
    for e in fresh.eids() {
        same(t.by_eid(e).unwrap(), fresh.by_eid(e).unwrap(), e);
    }
}

fn fout(acties: &str) -> Vec<Melding> {
    match toepassen(acties) {
        Ok(t) => panic!("expected meldingen, got\n{}", t.tekst.to_xml()),
        Err(m) => m,
    }
}

fn codes(m: &[Melding]) -> Vec<&str> {
    m.iter().map(|m| m.code.as_str()).collect()
}

fn volgorde(t: &Tekst, parent_wid: &str) -> Vec<String> {
    t.by_wid(parent_wid).unwrap().elements().filter_map(|e| e.wid().map(str::to_string)).collect()
}

// ---- renvooi: every wijzigactie value ----

#[test]
fn every_wijzigactie_value_in_nieuw_and_oud() {
    let p = Tekst::parse(
        r#"<X><a wijzigactie="voegtoe"/><b wijzigactie="verwijder"/><c wijzigactie="nieuweContainer"><c1/></c><d wijzigactie="verwijderContainer"><d1/></d><e wijzigactie="verplaatstNaar"/><f wijzigactie="verplaatstVan"/><g wijzigactie="verplaatstBinnen" vanParentWid="p"/><h wijzigactie="verplaatst"/><i wijzigactie="geen"/><j eId-wijzigactie="x" tekst-wijzigactie="y" k="1"/></X>"#,
    )
    .unwrap();
    assert_eq!(nieuw(&p).to_xml(), r#"<X><a/><c><c1/></c><d1/><e/><g/><h/><i/><j k="1"/></X>"#);
    assert_eq!(oud(&p).to_xml(), r#"<X><b/><c1/><d><d1/></d><f/><g/><h/><i/><j k="1"/></X>"#);
    for t in [nieuw(&p), oud(&p)] {
        assert!(!heeft_renvooi(t.root().unwrap()));
    }
}

#[test]
fn inline_renvooi_keeps_text_byte_exact() {
    let p = Tekst::parse("<Al>De <VerwijderdeTekst>raad</VerwijderdeTekst><NieuweTekst>gemeente&amp;raad &#x20AC;</NieuweTekst>  stelt\n regels.</Al>").unwrap();
    assert_eq!(nieuw(&p).to_xml(), "<Al>De gemeente&amp;raad &#x20AC;  stelt\n regels.</Al>");
    assert_eq!(oud(&p).to_xml(), "<Al>De raad  stelt\n regels.</Al>");
    // A marked top element: nothing, or its children.
    let weg = Tekst::parse(r#"<Lid wijzigactie="verwijder"><Al/></Lid>"#).unwrap();
    assert!(nieuw(&weg).nodes().is_empty());
    let uit = Tekst::parse(r#"<Groep wijzigactie="verwijderContainer"> <Al/> </Groep>"#).unwrap();
    assert_eq!(nieuw(&uit).to_xml(), " <Al/> ");
}

// ---- Vervang ----

#[test]
fn vervang_with_inline_renvooi_and_an_added_lid() {
    let payload = art1(&format!(
        r#"<Lid eId="chp_1__art_1__para_1" wId="gm9999_1__chp_1__art_1__para_1">
               <LidNummer>1.</LidNummer>
               <Inhoud><Al>De <VerwijderdeTekst>raad</VerwijderdeTekst><NieuweTekst>gemeenteraad</NieuweTekst> stelt regels.</Al></Inhoud>
            </Lid>
            {LID2}
            <Lid eId="chp_1__art_1__para_3" wId="gm9999_2__chp_1__art_1__para_3" wijzigactie="voegtoe">
               <LidNummer>3.</LidNummer>
               <Inhoud><Al>Nieuw lid.</Al></Inhoud>
            </Lid>"#
    ));
    let t = ok(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_1"><Nummer>A</Nummer><Wat>Artikel 1 wordt gewijzigd.</Wat>{payload}</Vervang>"#));
    let n = &t.tekst;
    assert_eq!(n.by_wid("gm9999_1__chp_1__art_1__para_1").unwrap().text().trim(), "1.\n               De gemeenteraad stelt regels.");
    assert_eq!(n.by_wid("gm9999_2__chp_1__art_1__para_3").unwrap().parent().unwrap().wid(), Some("gm9999_1__chp_1__art_1"));
    assert_eq!(t.toegevoegd.iter().collect::<Vec<_>>(), ["gm9999_2__chp_1__art_1__para_3"]);
    assert_eq!(t.gewijzigd.iter().collect::<Vec<_>>(), ["gm9999_1__chp_1__art_1", "gm9999_1__chp_1__art_1__para_1"]);
    assert!(t.verwijderd.is_empty());
    let a = &t.acties[0];
    assert_eq!((a.nummer.as_deref(), a.toegepast), (Some("A"), true));
    // Untouched parts keep their bytes; the rest of the tree is shared with the was-version.
    let w = was();
    assert!(n.to_xml().contains(&w.by_wid("gm9999_1__chp_2").unwrap().to_xml()));
    assert!(n.to_xml().contains(&w.by_wid("gm9999_1__chp_1__art_2").unwrap().to_xml()));
}

#[test]
fn vervang_removes_a_lid_marked_verwijder() {
    let lid2 = LID2.replace("<Lid ", "<Lid wijzigactie=\"verwijder\" ");
    let t = ok(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_1">{}</Vervang>"#, art1(&format!("{LID1}\n            {lid2}"))));
    assert!(t.tekst.by_wid("gm9999_1__chp_1__art_1__para_2").is_none());
    assert_eq!(t.verwijderd.iter().collect::<Vec<_>>(), ["gm9999_1__chp_1__art_1__para_2"]);
    assert!(!t.tekst.to_xml().contains("Het college voert uit"));
}

#[test]
fn vervang_checks_old_text_against_the_was_version() {
    let lid1 = LID1.replace("De raad stelt", "De <VerwijderdeTekst>gemeente</VerwijderdeTekst><NieuweTekst>raad</NieuweTekst> stelt");
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_1">{}</Vervang>"#, art1(&format!("{lid1}\n{LID2}"))));
    assert_eq!(codes(&m), ["RB3660"]);
    let d = &m[0].beschrijving;
    assert!(d.contains("Vervang wat=\"gm9999_1__chp_1__art_1\""), "{d}");
    assert!(d.contains("Lid (wId gm9999_1__chp_1__art_1__para_1)/Inhoud/Al"), "{d}");
    assert!(d.contains("'De gemeente stelt regels.'") && d.contains("'De raad stelt regels.'"), "{d}");
    let kolom = mutatie("").len() - "</RegelingMutatie>".len() + 1;
    assert_eq!((m[0].locatie.regel, m[0].locatie.kolom), (Some(1), Some(kolom as u32)));
    assert_eq!(m[0].locatie.pad.as_deref(), Some("/RegelingMutatie/Vervang"));
}

#[test]
fn vervang_reports_implicit_additions_and_removals() {
    let nieuw_lid = r#"<Lid eId="chp_1__art_1__para_3" wId="gm9999_2__chp_1__art_1__para_3"><LidNummer>3.</LidNummer><Inhoud><Al><NieuweTekst>x</NieuweTekst></Al></Inhoud></Lid>"#;
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_1">{}</Vervang>"#, art1(&format!("{LID1}{nieuw_lid}"))));
    assert_eq!(codes(&m), ["LVBB5025", "LVBB5026"]);
    assert!(m[0].beschrijving.contains("gm9999_2__chp_1__art_1__para_3"));
    assert!(m[1].beschrijving.contains("gm9999_1__chp_1__art_1__para_2"));
}

#[test]
fn vervang_with_an_unmarked_new_container_is_lvbb5029() {
    let chp1 = was().by_wid("gm9999_1__chp_1").unwrap().to_xml();
    let (kop_end, end) = (chp1.find("</Kop>").unwrap() + 6, chp1.rfind("</Hoofdstuk>").unwrap());
    let chp1 = format!(
        "{}<Afdeling eId=\"chp_1__subchp_1\" wId=\"gm9999_2__chp_1__subchp_1\"><Kop wijzigactie=\"voegtoe\"><Nummer>1</Nummer></Kop>{}</Afdeling>{}",
        &chp1[..kop_end],
        &chp1[kop_end..end],
        &chp1[end..]
    );
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1">{chp1}</Vervang>"#));
    assert_eq!(codes(&m), ["LVBB5029"]);
    assert!(m[0].beschrijving.contains("Afdeling met wId gm9999_2__chp_1__subchp_1"), "{}", m[0].beschrijving);
}

#[test]
fn vervang_top_wid_must_be_wat_and_wat_must_exist() {
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_2">{}</Vervang>"#, art1(&format!("{LID1}{LID2}")).replace("regels.", "<NieuweTekst>x</NieuweTekst>regels.")));
    assert!(codes(&m).contains(&"STOP0077"), "{m:#?}");
    let m = fout(r#"<Vervang wat="gm9999_1__chp_9__art_9"><Artikel wId="gm9999_1__chp_9__art_9" eId="x"><Al><NieuweTekst>x</NieuweTekst></Al></Artikel></Vervang>"#);
    assert_eq!(codes(&m), ["LVBB5003"]);
    assert!(m[0].beschrijving.contains("gm9999_1__chp_9__art_9") && m[0].beschrijving.contains(WAS));
    let m = fout(r#"<Vervang wat="gm9999_1__chp_1__art_2"/>"#);
    assert_eq!(codes(&m), ["RB3653"]);
    let m = fout(r#"<Vervang><Artikel/></Vervang>"#);
    assert_eq!(codes(&m), ["RB3659"]);
}

#[test]
fn vervang_without_renvooi_is_stop0086_and_revisie_replaces_as_is() {
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_2">{ART2}</Vervang>"#));
    assert_eq!(codes(&m), ["STOP0086"]);
    let gecorrigeerd = ART2.replace("artikel twee", "artikel 2");
    let t = ok(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_2" revisie="1">{gecorrigeerd}</Vervang>"#));
    assert_eq!(t.tekst.by_wid("gm9999_1__chp_1__art_2").unwrap().to_xml(), gecorrigeerd);
    assert!(t.acties[0].revisie);
    assert_eq!(t.gewijzigd.iter().collect::<Vec<_>>(), ["gm9999_1__chp_1__art_2"]);
    let m = fout(&format!(
        r#"<Vervang wat="gm9999_1__chp_1__art_2" revisie="1">{}</Vervang>"#,
        ART2.replace("twee", "<NieuweTekst>2</NieuweTekst>")
    ));
    assert_eq!(codes(&m), ["LVBB5031"]);
}

#[test]
fn vervang_with_context_moves_the_element() {
    let t = ok(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_2" context="gm9999_1__chp_2__art_3" positie="volgtOp">{ART2}</Vervang>"#));
    assert_eq!(volgorde(&t.tekst, "gm9999_1__chp_2"), ["gm9999_1__chp_2__art_3", "gm9999_1__chp_1__art_2"]);
    assert_eq!(volgorde(&t.tekst, "gm9999_1__chp_1"), ["gm9999_1__chp_1__art_1"]);
    assert_eq!(t.acties[0].verplaatst, ["gm9999_1__chp_1__art_2"]);
    assert!(t.toegevoegd.is_empty() && t.verwijderd.is_empty() && t.gewijzigd.is_empty());
    // The moved article is indented like its new siblings.
    assert!(t.tekst.to_xml().contains("</Artikel>\n         <Artikel eId=\"chp_1__art_2\""));
}

#[test]
fn vervang_cannot_move_onto_itself() {
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_2" context="gm9999_1__chp_1__art_2" positie="komtVoor">{ART2}</Vervang>"#));
    assert_eq!(codes(&m), ["LVBB5032"]);
    assert!(m[0].beschrijving.contains("het element zelf"));
    let chp1 = was().by_wid("gm9999_1__chp_1").unwrap().to_xml();
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1" context="gm9999_1__chp_1__art_1" positie="volgtOp">{chp1}</Vervang>"#));
    assert_eq!(codes(&m), ["LVBB5032"]);
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_2" context="gm9999_1__chp_2__art_3">{ART2}</Vervang>"#));
    assert_eq!(codes(&m), ["STOP0119"]);
}

#[test]
fn overlapping_actions() {
    let chp1 = was().by_wid("gm9999_1__chp_1").unwrap().to_xml().replace("Algemeen", "Algemeen<NieuweTekst> en slot</NieuweTekst>");
    let art2 = ART2.replace("twee", "twee<NieuweTekst> (2)</NieuweTekst>");
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1">{chp1}</Vervang><Vervang wat="gm9999_1__chp_1__art_2">{art2}</Vervang>"#));
    assert_eq!(codes(&m), ["LVBB5033"]);
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_2">{art2}</Vervang><Vervang wat="gm9999_1__chp_1">{chp1}</Vervang>"#));
    assert_eq!(codes(&m), ["LVBB5033"]);
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_2">{art2}</Vervang><Verwijder wat="gm9999_1__chp_1__art_2">{ART2}</Verwijder>"#));
    assert_eq!(codes(&m), ["RB3657"]);
    let m = fout(&format!(r#"<Verwijder wat="gm9999_1__chp_1__art_2">{ART2}</Verwijder><Vervang wat="gm9999_1__chp_1__art_2">{art2}</Vervang>"#));
    assert_eq!(codes(&m), ["RB3657"]);
}

#[test]
fn verwijder_container_and_nieuwe_container() {
    // Hoofdstuk 2 disappears, its article moves up into the Lichaam.
    let chp2 = was()
        .by_wid("gm9999_1__chp_2")
        .unwrap()
        .to_xml()
        .replacen("<Hoofdstuk ", "<Hoofdstuk wijzigactie=\"verwijderContainer\" ", 1)
        .replacen("<Kop>", "<Kop wijzigactie=\"verwijder\">", 1);
    let t = ok(&format!(r#"<Vervang wat="gm9999_1__chp_2">{chp2}</Vervang>"#));
    assert_eq!(volgorde(&t.tekst, "body"), ["gm9999_1__chp_1", "gm9999_1__chp_2__art_3"]);
    assert_eq!(t.verwijderd.iter().collect::<Vec<_>>(), ["gm9999_1__chp_2"]);
    // A new Afdeling around both articles of Hoofdstuk 1.
    let chp1 = was().by_wid("gm9999_1__chp_1").unwrap().to_xml();
    let (kop_end, end) = (chp1.find("</Kop>").unwrap() + 6, chp1.rfind("</Hoofdstuk>").unwrap());
    let chp1 = format!(
        "{}<Afdeling eId=\"chp_1__subchp_1\" wId=\"gm9999_2__chp_1__subchp_1\" wijzigactie=\"nieuweContainer\"><Kop wijzigactie=\"voegtoe\"><Label>Afdeling</Label><Nummer>1</Nummer></Kop>{}</Afdeling>{}",
        &chp1[..kop_end],
        &chp1[kop_end..end],
        &chp1[end..]
    );
    let t = ok(&format!(r#"<Vervang wat="gm9999_1__chp_1">{chp1}</Vervang>"#));
    assert_eq!(volgorde(&t.tekst, "gm9999_1__chp_1"), ["gm9999_2__chp_1__subchp_1"]);
    assert_eq!(volgorde(&t.tekst, "gm9999_2__chp_1__subchp_1"), ["gm9999_1__chp_1__art_1", "gm9999_1__chp_1__art_2"]);
    assert_eq!(t.toegevoegd.iter().collect::<Vec<_>>(), ["gm9999_2__chp_1__subchp_1"]);
}

#[test]
fn verplaatst_markers_reorder_within_a_vervang() {
    let naar = LID2.replace("<Lid ", "<Lid wijzigactie=\"verplaatstNaar\" vanParentWid=\"gm9999_1__chp_1__art_1\" ");
    let van = LID2.replace("<Lid ", "<Lid wijzigactie=\"verplaatstVan\" ");
    let binnen = LID1.replace("<Lid ", "<Lid wijzigactie=\"verplaatstBinnen\" ");
    let t = ok(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_1">{}</Vervang>"#, art1(&format!("{naar}{binnen}{van}"))));
    assert_eq!(
        volgorde(&t.tekst, "gm9999_1__chp_1__art_1"),
        ["gm9999_1__chp_1__art_1__para_2", "gm9999_1__chp_1__art_1__para_1"]
    );
    for value in ["verplaatst", "geen"] {
        let l = LID1.replace("<Lid ", &format!("<Lid wijzigactie=\"{value}\" "));
        let t = ok(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_1">{}</Vervang>"#, art1(&format!("{l}{LID2}"))));
        assert_eq!(t.tekst.by_wid("gm9999_1__chp_1__art_1").unwrap().to_xml(), art1(&format!("{LID1}{LID2}")));
    }
    let l = LID1.replace("<Lid ", "<Lid wijzigactie=\"weg\" ");
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_1">{}</Vervang>"#, art1(&format!("{l}{LID2}"))));
    assert_eq!(codes(&m), ["RB3656"]);
    assert_eq!(m[0].locatie.wid.as_deref(), Some("gm9999_1__chp_1__art_1__para_1"));
}

// ---- VoegToe ----

#[test]
fn voegtoe_volgtop_komtvoor_and_eerstekind() {
    let t = ok(&format!(
        r#"<VoegToe context="gm9999_1__chp_1__art_2" positie="volgtOp">{}{}</VoegToe><VoegToe context="gm9999_1__chp_1__art_1" positie="komtVoor">{}</VoegToe><VoegToe context="gm9999_2__chp_1__art_2a" positie="volgtOp">{}</VoegToe>"#,
        nieuw_art("2a"),
        nieuw_art("2b"),
        nieuw_art("0"),
        nieuw_art("2a1"),
    ));
    assert_eq!(
        volgorde(&t.tekst, "gm9999_1__chp_1"),
        [
            "gm9999_2__chp_1__art_0",
            "gm9999_1__chp_1__art_1",
            "gm9999_1__chp_1__art_2",
            "gm9999_2__chp_1__art_2a",
            "gm9999_2__chp_1__art_2a1",
            "gm9999_2__chp_1__art_2b"
        ]
    );
    assert_eq!(t.toegevoegd.len(), 4);
    let xml = t.tekst.to_xml();
    assert!(xml.contains(&format!("</Artikel>\n         {}", nieuw_art("2a"))), "{xml}");
    assert!(xml.contains(&format!("<Opschrift>Algemeen</Opschrift>\n         </Kop>\n         {}\n         <Artikel eId=\"chp_1__art_1\"", nieuw_art("0"))), "{xml}");

    let chp0 = r#"<Hoofdstuk eId="chp_0" wId="gm9999_2__chp_0"><Kop><Nummer>0</Nummer></Kop></Hoofdstuk>"#;
    let t = ok(&format!(r#"<VoegToe context="body" positie="eersteKind">{chp0}</VoegToe>"#));
    assert_eq!(volgorde(&t.tekst, "body"), ["gm9999_2__chp_0", "gm9999_1__chp_1", "gm9999_1__chp_2"]);
    assert!(t.tekst.to_xml().contains(&format!("<Lichaam eId=\"body\" wId=\"body\">\n      {chp0}\n      <Hoofdstuk eId=\"chp_1\"")));
}

#[test]
fn voegtoe_as_first_child_of_an_empty_element() {
    let w = Tekst::parse(&format!(r#"<RegelingVrijetekst xmlns="{NS}"><Lichaam eId="body" wId="body"/></RegelingVrijetekst>"#)).unwrap();
    let m = Tekst::parse(&mutatie(r#"<VoegToe context="body" positie="eersteKind"><Divisietekst eId="content_1" wId="x_1__content_1"/></VoegToe>"#)).unwrap();
    let t = pas_toe(&w, &m, "m.xml").unwrap();
    assert_eq!(
        t.tekst.to_xml(),
        format!(r#"<RegelingVrijetekst xmlns="{NS}"><Lichaam eId="body" wId="body"><Divisietekst eId="content_1" wId="x_1__content_1"/></Lichaam></RegelingVrijetekst>"#)
    );
}

#[test]
fn voegtoe_errors() {
    let m = fout(&format!(r#"<VoegToe context="gm9999_1__chp_1__art_2" positie="volgtOp">{ART2}</VoegToe>"#));
    assert_eq!(codes(&m), ["LVBB5023"]);
    assert!(m[0].beschrijving.contains("gm9999_1__chp_1__art_2"));
    let m = fout(&format!(r#"<VoegToe context="gm9999_1__chp_7" positie="volgtOp">{}</VoegToe>"#, nieuw_art("9")));
    assert_eq!(codes(&m), ["LVBB5027"]);
    let m = fout(&format!(r#"<VoegToe context="gm9999_1__chp_1__art_2">{}</VoegToe>"#, nieuw_art("9")));
    assert_eq!(codes(&m), ["STOP0119"]);
    let m = fout(&format!(r#"<VoegToe>{}</VoegToe>"#, nieuw_art("9")));
    assert_eq!(codes(&m), ["RB3654"]);
    let m = fout(&format!(r#"<VoegToe context="gm9999_1__chp_1__art_2" positie="achter">{}</VoegToe>"#, nieuw_art("9")));
    assert_eq!(codes(&m), ["RB3655"]);
    let m = fout(r#"<VoegToe context="gm9999_1__chp_1__art_2" positie="volgtOp"><Nummer>A</Nummer></VoegToe>"#);
    assert_eq!(codes(&m), ["RB3653"]);
}

#[test]
fn context_removed_in_the_same_mutation_is_stop0124() {
    // Removed before.
    let m = fout(&format!(
        r#"<Verwijder wat="gm9999_1__chp_1__art_2">{ART2}</Verwijder><VoegToe context="gm9999_1__chp_1__art_2" positie="volgtOp">{}</VoegToe>"#,
        nieuw_art("9")
    ));
    assert_eq!(codes(&m), ["STOP0124"]);
    // Removed after.
    let m = fout(&format!(
        r#"<VoegToe context="gm9999_1__chp_1__art_2" positie="volgtOp">{}</VoegToe><Verwijder wat="gm9999_1__chp_1__art_2">{ART2}</Verwijder>"#,
        nieuw_art("9")
    ));
    assert_eq!(codes(&m), ["STOP0124"]);
    assert_eq!(m[0].locatie.pad.as_deref(), Some("/RegelingMutatie/VoegToe"));
}

// ---- Verwijder ----

#[test]
fn verwijder_removes_the_element_and_its_indentation() {
    let t = ok(&format!(r#"<Verwijder wat="gm9999_1__chp_1__art_2"><Wat>Artikel 2 vervalt.</Wat>{ART2}</Verwijder>"#));
    assert!(t.tekst.by_wid("gm9999_1__chp_1__art_2").is_none());
    assert_eq!(t.verwijderd.iter().collect::<Vec<_>>(), ["gm9999_1__chp_1__art_2"]);
    assert!(t.tekst.to_xml().contains("</Artikel>\n      </Hoofdstuk>\n      <Hoofdstuk eId=\"chp_2\""));
}

#[test]
fn verwijder_errors() {
    let m = fout(&format!(r#"<Verwijder wat="gm9999_1__chp_1__art_8">{}</Verwijder>"#, ART2.replace("art_2\"", "art_8\"")));
    assert_eq!(codes(&m), ["LVBB5024"]);
    let m = fout(&format!(r#"<Verwijder wat="gm9999_1__chp_1__art_1">{}</Verwijder>"#, art1(LID1)));
    assert_eq!(codes(&m), ["LVBB5026"]);
    assert!(m[0].beschrijving.contains("gm9999_1__chp_1__art_1__para_2"));
    let extra = r#"<Lid eId="x" wId="gm9999_1__chp_1__art_1__para_9"/>"#;
    let m = fout(&format!(r#"<Verwijder wat="gm9999_1__chp_1__art_1">{}</Verwijder>"#, art1(&format!("{LID1}{LID2}{extra}"))));
    assert_eq!(codes(&m), ["LVBB5028"]);
    let m = fout(&format!(r#"<Verwijder wat="gm9999_1__chp_1__art_2">{}</Verwijder>"#, ART2.replace("twee", "drie")));
    assert_eq!(codes(&m), ["RB3660"]);
    let m = fout(&format!(r#"<Verwijder wat="gm9999_1__chp_1__art_1">{ART2}</Verwijder>"#));
    assert_eq!(codes(&m), ["STOP0077"]);
}

// ---- VervangKop ----

#[test]
fn vervangkop_replaces_the_kop_and_renames_eids() {
    let kop = r#"<Kop>
            <Label>Hoofdstuk</Label>
            <Nummer><VerwijderdeTekst>1</VerwijderdeTekst><NieuweTekst>A</NieuweTekst></Nummer>
            <Opschrift>Algemeen<NieuweTekst> en slot</NieuweTekst></Opschrift>
         </Kop>"#;
    let t = ok(&format!(r#"<VervangKop wat="gm9999_1__chp_1" eId-wordt="chp_A"><Nummer>A</Nummer>{kop}</VervangKop>"#));
    let chp = t.tekst.by_wid("gm9999_1__chp_1").unwrap();
    assert_eq!(chp.eid(), Some("chp_A"));
    assert_eq!(chp.child("Kop").unwrap().child("Opschrift").unwrap().text(), "Algemeen en slot");
    assert_eq!(t.tekst.by_wid("gm9999_1__chp_1__art_1__para_2").unwrap().eid(), Some("chp_A__art_1__para_2"));
    assert_eq!(t.tekst.by_eid("chp_A__art_2").unwrap().wid(), Some("gm9999_1__chp_1__art_2"));
    assert!(t.tekst.by_eid("chp_1__art_1").is_none());
    let a = &t.acties[0];
    assert_eq!(a.eid_gewijzigd.len(), 5);
    assert_eq!(a.eid_gewijzigd[0], ("gm9999_1__chp_1".into(), "chp_1".into(), "chp_A".into()));
    assert_eq!(t.gewijzigd.iter().collect::<Vec<_>>(), ["gm9999_1__chp_1"]);
    // Only start tags with a renamed eId changed: the eId attribute, spliced.
    assert!(t.tekst.to_xml().contains(r#"<Artikel eId="chp_A__art_2" wId="gm9999_1__chp_1__art_2">"#));
}

#[test]
fn vervangkop_errors() {
    let m = fout(r#"<VervangKop wat="gm9999_1__chp_2"><Kop><Label>Hoofdstuk</Label><Nummer>2</Nummer><Opschrift>Slot</Opschrift></Kop></VervangKop>"#);
    assert_eq!(codes(&m), ["STOP0086"]);
    let m = fout(r#"<VervangKop wat="gm9999_1__chp_2"><Kop><Label>Hoofdstuk</Label><Nummer>2</Nummer><Opschrift><VerwijderdeTekst>Einde</VerwijderdeTekst>Slot</Opschrift></Kop></VervangKop>"#);
    assert_eq!(codes(&m), ["RB3660"]);
    assert!(m[0].beschrijving.contains("'EindeSlot'"), "{}", m[0].beschrijving);
    let m = fout(r#"<VervangKop wat="gm9999_1__chp_5"><Kop><Opschrift><NieuweTekst>x</NieuweTekst></Opschrift></Kop></VervangKop>"#);
    assert_eq!(codes(&m), ["LVBB5003"]);
    let m = fout(r#"<VervangKop wat="gm9999_1__chp_1__art_1__para_1"><Kop><Opschrift><NieuweTekst>x</NieuweTekst></Opschrift></Kop></VervangKop>"#);
    assert_eq!(codes(&m), ["RB3658"]);
    let m = fout(r#"<VervangKop wat="gm9999_1__chp_1"><Opschrift><NieuweTekst>x</NieuweTekst></Opschrift></VervangKop>"#);
    assert_eq!(codes(&m), ["RB3653"]);
}

// ---- VervangRegeling ----

#[test]
fn vervangregeling_replaces_everything_with_the_same_model() {
    let nieuw_r = regeling().replace("Slotbepaling.", "Nieuwe slotbepaling.").replace(
        r#"<Artikel eId="chp_1__art_2" wId="gm9999_1__chp_1__art_2">
            <Kop><Label>Artikel</Label><Nummer>2</Nummer></Kop>
            <Inhoud><Al>Dit is artikel twee.</Al></Inhoud>
         </Artikel>"#,
        "",
    );
    let inner = nieuw_r.replacen(&format!(" xmlns=\"{NS}\""), "", 1);
    let t = ok(&format!("<VervangRegeling>{inner}</VervangRegeling>"));
    assert_eq!(t.tekst.to_xml(), nieuw_r);
    assert_eq!(t.verwijderd.iter().collect::<Vec<_>>(), ["gm9999_1__chp_1__art_2"]);
    assert!(t.gewijzigd.contains("gm9999_1__chp_2__art_3") && t.gewijzigd.contains("body"));
    assert!(!t.gewijzigd.contains("gm9999_1__chp_1__art_1"));

    let vrij = inner.replace("RegelingCompact", "RegelingVrijetekst");
    let m = fout(&format!("<VervangRegeling>{vrij}</VervangRegeling>"));
    assert_eq!(codes(&m), ["LVBB5100"]);
    let m = fout(&format!(r#"<VervangRegeling>{inner}</VervangRegeling><Verwijder wat="gm9999_1__chp_1__art_2">{ART2}</Verwijder>"#));
    assert_eq!(codes(&m), ["RB3652"]);
}

// ---- the mutation as a whole ----

#[test]
fn unknown_actions_and_wrong_root() {
    let m = fout(r#"<VervangAlles wat="body"/>"#);
    assert_eq!(codes(&m), ["RB3651"]);
    let m = pas_toe(&was(), &Tekst::parse("<Vervang/>").unwrap(), "m.xml").unwrap_err();
    assert_eq!(codes(&m), ["RB3650"]);
}

#[test]
fn duplicate_ids_after_application() {
    let lid = r#"<Lid eId="chp_1__art_1__para_3" wId="gm9999_1__chp_2__art_3" wijzigactie="voegtoe"><LidNummer>3.</LidNummer></Lid>"#;
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_1">{}</Vervang>"#, art1(&format!("{LID1}{LID2}{lid}"))));
    assert_eq!(codes(&m), ["STOP0028"]);
    assert!(m[0].beschrijving.contains("gm9999_1__chp_2__art_3"));
    let lid = r#"<Lid eId="chp_2__art_3" wId="gm9999_2__chp_1__art_1__para_3" wijzigactie="voegtoe"><LidNummer>3.</LidNummer></Lid>"#;
    let m = fout(&format!(r#"<Vervang wat="gm9999_1__chp_1__art_1">{}</Vervang>"#, art1(&format!("{LID1}{LID2}{lid}"))));
    assert_eq!(codes(&m), ["STOP0027"]);
    // The same new wId added twice.
    let m = fout(&format!(
        r#"<VoegToe context="gm9999_1__chp_1__art_2" positie="volgtOp">{}</VoegToe><VoegToe context="gm9999_1__chp_2__art_3" positie="volgtOp">{}</VoegToe>"#,
        nieuw_art("9"),
        nieuw_art("9")
    ));
    assert!(codes(&m).contains(&"STOP0028"), "{m:#?}");
}

#[test]
fn every_melding_of_a_rejected_mutation_is_returned() {
    let m = fout(&format!(
        r#"<Vervang wat="gm9999_1__x"><Artikel wId="gm9999_1__x"><Al><NieuweTekst>x</NieuweTekst></Al></Artikel></Vervang>
<Verwijder wat="gm9999_1__chp_1__art_2">{}</Verwijder>
<VoegToe context="gm9999_1__y" positie="volgtOp">{}</VoegToe>"#,
        ART2.replace("twee", "drie"),
        nieuw_art("9")
    ));
    assert_eq!(codes(&m), ["LVBB5003", "RB3660", "LVBB5027"]);
    assert_eq!(m.iter().map(|m| m.locatie.regel.unwrap()).collect::<Vec<_>>(), [1, 2, 6]);
}

#[test]
fn payload_in_another_prefix_gets_its_namespace_declared() {
    let m = format!(
        r#"<t:RegelingMutatie xmlns:t="{NS}" was="{WAS}" wordt="w"><t:VoegToe context="gm9999_1__chp_1__art_2" positie="volgtOp"><t:Artikel eId="chp_1__art_9" wId="gm9999_2__chp_1__art_9"><t:Kop><t:Nummer>9</t:Nummer></t:Kop></t:Artikel></t:VoegToe></t:RegelingMutatie>"#
    );
    let t = pas_toe(&was(), &Tekst::parse(&m).unwrap(), "m.xml").unwrap();
    let xml = t.tekst.to_xml();
    assert!(xml.contains(&format!(r#"<t:Artikel xmlns:t="{NS}" eId="chp_1__art_9""#)), "{xml}");
    let again = Tekst::parse(&xml).unwrap();
    assert_eq!(again.by_wid("gm9999_2__chp_1__art_9").unwrap().ns(), NS);
    // The other way round: a prefixed regeling, a default-namespace payload.
    let w = Tekst::parse(&format!(r#"<t:RegelingCompact xmlns:t="{NS}"><t:Lichaam eId="body" wId="body"><t:Artikel eId="art_1" wId="a_1__art_1"/></t:Lichaam></t:RegelingCompact>"#)).unwrap();
    let m = Tekst::parse(&mutatie(r#"<VoegToe context="a_1__art_1" positie="volgtOp"><Artikel eId="art_2" wId="a_2__art_2"/></VoegToe>"#)).unwrap();
    let xml = pas_toe(&w, &m, "m.xml").unwrap().tekst.to_xml();
    assert!(xml.contains(&format!(r#"<t:Artikel eId="art_1" wId="a_1__art_1"/><Artikel xmlns="{NS}" eId="art_2" wId="a_2__art_2"/>"#)), "{xml}");
}

#[test]
fn chained_versions_share_untouched_content() {
    let v2 = ok(&format!(r#"<VoegToe context="gm9999_1__chp_1__art_2" positie="volgtOp">{}</VoegToe>"#, nieuw_art("2a"))).tekst;
    let m = Tekst::parse(&mutatie(&format!(r#"<Verwijder wat="gm9999_2__chp_1__art_2a">{}</Verwijder>"#, nieuw_art("2a")))).unwrap();
    let v3 = pas_toe(&v2, &m, "m.xml").unwrap().tekst;
    assert_eq!(v3.to_xml(), regeling());
}

#[test]
fn a_long_chain_of_versions_keeps_a_correct_index() {
    let mut v = was();
    let mut lagen = Vec::new();
    for i in 0..70 {
        let acties = match i % 4 {
            0 => format!(r#"<VoegToe context="gm9999_1__chp_1__art_1" positie="komtVoor">{}</VoegToe>"#, nieuw_art(&format!("v{i}"))),
            1 => format!(r#"<Verwijder wat="gm9999_2__chp_1__art_v{}">{}</Verwijder>"#, i - 1, nieuw_art(&format!("v{}", i - 1))),
            2 => {
                let nummer = if i % 8 == 2 { ("1", "A") } else { ("A", "1") };
                let kop = format!(
                    "<Kop><Label>Hoofdstuk</Label><Nummer><VerwijderdeTekst>{}</VerwijderdeTekst><NieuweTekst>{}</NieuweTekst></Nummer><Opschrift>Algemeen</Opschrift></Kop>",
                    nummer.0, nummer.1
                );
                let eid = if nummer.1 == "A" { "chp_A" } else { "chp_1" };
                format!(r#"<VervangKop wat="gm9999_1__chp_1" eId-wordt="{eid}">{kop}</VervangKop>"#)
            }
            _ => {
                let art = v.by_wid("gm9999_1__chp_2__art_3").unwrap().to_xml();
                let art = art.replacen("</Al>", &format!("<NieuweTekst> {i}</NieuweTekst></Al>"), 1);
                format!(
                    r#"<VoegToe context="gm9999_1__chp_2__art_3" positie="volgtOp">{}</VoegToe><Vervang wat="gm9999_1__chp_2__art_3" context="gm9999_1__chp_1__art_2" positie="volgtOp">{art}</Vervang>"#,
                    nieuw_art(&format!("w{i}")).replace("chp_1__art", "chp_2__art")
                )
            }
        };
        let m = Tekst::parse(&mutatie(&acties)).unwrap();
        let t = pas_toe(&v, &m, "m.xml").unwrap_or_else(|m| panic!("step {i}: {m:#?}"));
        index_klopt(&t.tekst);
        lagen.push(t.tekst.index_lagen());
        v = t.tekst;
    }
    // Carried over version to version, rebuilt after 64 layers.
    assert_eq!(&lagen[..3], [1, 2, 3]);
    assert_eq!(lagen[63..66], [64, 0, 1], "{lagen:?}");
}

#[test]
fn swapping_eids_of_two_hoofdstukken_is_not_a_duplicate() {
    // Hoofdstuk 1 becomes 2 and 2 becomes 1 in one mutation: for a moment both carry chp_2,
    // but the result has unique eIds (no STOP0027).
    let kop = |van: &str, naar: &str, opschrift: &str| {
        format!(
            r#"<Kop><Label>Hoofdstuk</Label><Nummer><VerwijderdeTekst>{van}</VerwijderdeTekst><NieuweTekst>{naar}</NieuweTekst></Nummer><Opschrift>{opschrift}</Opschrift></Kop>"#
        )
    };
    let t = ok(&format!(
        r#"<VervangKop wat="gm9999_1__chp_1" eId-wordt="chp_2">{}</VervangKop><VervangKop wat="gm9999_1__chp_2" eId-wordt="chp_1">{}</VervangKop>"#,
        kop("1", "2", "Algemeen"),
        kop("2", "1", "Slot")
    ));
    assert_eq!(t.tekst.by_wid("gm9999_1__chp_1").unwrap().eid(), Some("chp_2"));
    assert_eq!(t.tekst.by_wid("gm9999_1__chp_2").unwrap().eid(), Some("chp_1"));
    assert_eq!(t.tekst.by_wid("gm9999_1__chp_2__art_3").unwrap().eid(), Some("chp_1__art_3"));
}

#[test]
fn vervang_inside_a_renumbered_hoofdstuk_is_not_a_duplicate() {
    let kop = r#"<Kop><Label>Hoofdstuk</Label><Nummer><VerwijderdeTekst>1</VerwijderdeTekst><NieuweTekst>A</NieuweTekst></Nummer><Opschrift>Algemeen</Opschrift></Kop>"#;
    let art = r#"<Artikel eId="chp_A__art_1" wId="gm9999_1__chp_1__art_1">
            <Kop><Label>Artikel</Label><Nummer>1</Nummer></Kop>
            <Lid eId="chp_A__art_1__para_1" wId="gm9999_1__chp_1__art_1__para_1">
               <LidNummer>1.</LidNummer>
               <Inhoud><Al>De <VerwijderdeTekst>raad</VerwijderdeTekst><NieuweTekst>gemeenteraad</NieuweTekst> stelt regels.</Al></Inhoud>
            </Lid>
            <Lid eId="chp_A__art_1__para_2" wId="gm9999_1__chp_1__art_1__para_2">
               <LidNummer>2.</LidNummer>
               <Inhoud><Al>Het college voert uit.</Al></Inhoud>
            </Lid>
         </Artikel>"#;
    for volgorde in [0, 1] {
        let vk = format!(r#"<VervangKop wat="gm9999_1__chp_1" eId-wordt="chp_A">{kop}</VervangKop>"#);
        let vv = format!(r#"<Vervang wat="gm9999_1__chp_1__art_1">{art}</Vervang>"#);
        let acties = if volgorde == 0 { format!("{vk}{vv}") } else { format!("{vv}{vk}") };
        match toepassen(&acties) {
            Ok(t) => {
                assert_eq!(t.tekst.by_wid("gm9999_1__chp_1__art_1__para_1").unwrap().eid(), Some("chp_A__art_1__para_1"));
                assert!(t.tekst.to_xml().contains("De gemeenteraad stelt regels."));
            }
            Err(ms) => {
                assert!(!codes(&ms).contains(&"STOP0027"), "order {volgorde}: {ms:#?}");
            }
        }
    }
}
