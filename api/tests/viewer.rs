//! The viewer's HTML pages, in process (`tower::ServiceExt::oneshot` on the real router over a
//! store with the bundled fixtures): status codes, key content, escaping of hostile input, and
//! the error pages.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use regelbank::server::{Auth, ServeArgs};
use tower::ServiceExt;

const HAVENKWARTIER: &str = "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier";
const STATIONSOMGEVING: &str = "/akn/nl/act/gm9901/2027/OmgevingsplanStationsomgeving";
const ZUIDKADE: &str = "/akn/nl/act/gm9901/2027/OmgevingsplanZuidkade";
const BESLUIT_1: &str = "/akn/nl/bill/gm9901/2027/BesluitOmgevingsplanHavenkwartier/nld@2027-02-25;1";
const BESLUIT_6: &str = "/akn/nl/bill/gm9901/2027/WijzigingOmgevingsplanHavenkwartierKade/nld@2027-04-01;1";
/// Text only in version 1 (replaced by the wijzigingsbesluit) and only in version 2.
const ALLEEN_IN_1: &str = "de maximale bouwhoogte die in artikel 2.2 voor het bouwvlak is aangegeven";
const ALLEEN_IN_2: &str = "Terrassen op de kade";

fn day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn ingest(data: &Path, today: &str, paths: &[PathBuf]) {
    let store = store::Store::open(data).unwrap();
    let results = ingest::pipeline::ingest_many(&store, paths, &ingest::Config::new(day(today)), |_| {}).unwrap();
    for r in &results {
        assert!(r.uitkomst.accepted(), "{}: {:?}", r.bron, r.meldingen);
    }
}

/// The router over `data`, with today fixed at `today`.
fn app(data: &Path, today: &str) -> axum::Router {
    let store = store::Store::open(data).unwrap();
    let state = regelbank::server::state(store, ingest::Config::new(day(today)), true, Auth::none(), ServeArgs::default()).unwrap();
    regelbank::server::router(state)
}

/// The bundled fixtures (the demo's), served as on 2027-06-01.
fn demo() -> (tempfile::TempDir, axum::Router) {
    demo_met(|_| {})
}

/// The same, with `extra` done on the store before serving.
fn demo_met(extra: impl FnOnce(&store::Store)) -> (tempfile::TempDir, axum::Router) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ingest(&data, "2027-03-01", &fixtures::bundled_deliveries());
    extra(&store::Store::open(&data).unwrap());
    let app = app(&data, "2027-06-01");
    (tmp, app)
}

struct Antwoord {
    status: StatusCode,
    content_type: String,
    body: String,
}

async fn get(app: &axum::Router, uri: &str) -> Antwoord {
    let r = app.clone().oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = r.status();
    let content_type = r.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap();
    // askama writes `&`, `"`, `<`, `>` as `&#38;`, `&#34;`, `&#60;`, `&#62;`: compare in one form.
    let body = String::from_utf8(bytes.to_vec()).unwrap().replace("&#38;", "&amp;").replace("&#34;", "&quot;").replace("&#60;", "&lt;").replace("&#62;", "&gt;");
    Antwoord { status, content_type, body }
}

async fn pagina(app: &axum::Router, uri: &str) -> String {
    let a = get(app, uri).await;
    assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
    assert_eq!(a.content_type, "text/html; charset=utf-8", "{uri}");
    basis(&a.body);
    a.body
}

/// What every page has: language, landmarks, skip link, one h1, the stylesheet.
fn basis(h: &str) {
    assert!(h.starts_with("<!DOCTYPE html>\n<html lang=\"nl\">"), "{h}");
    for x in ["<header class=\"site\">", "<nav aria-label=\"Hoofdmenu\">", "<main id=\"inhoud\"", "<footer class=\"site\">", "href=\"#inhoud\">Naar de inhoud</a>", "href=\"/viewer.css\""] {
        assert!(h.contains(x), "{x} missing");
    }
    assert_eq!(h.matches("<h1").count(), 1, "one h1");
    // Ids are unique (the page's own and the eIds of the regeling text).
    let mut ids: Vec<&str> = h.split(" id=\"").skip(1).map(|r| &r[..r.find('"').unwrap()]).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate ids");
    // Every input and select has a label.
    for (i, _) in h.match_indices("<input").chain(h.match_indices("<select")) {
        let tag = &h[i..i + h[i..].find('>').unwrap()];
        if tag.contains("type=\"hidden\"") {
            continue;
        }
        let id = tag.split("id=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_else(|| panic!("no id: {tag}"));
        assert!(h.contains(&format!("<label for=\"{id}\"")), "no label for {id}");
    }
}

fn regeling_url(work: &str, q: &str) -> String {
    format!("/regeling{work}{}{q}", if q.is_empty() { "" } else { "?" })
}

#[tokio::test]
async fn home_lists_the_regelingen_with_a_search_form() {
    let (_tmp, app) = demo();
    let h = pagina(&app, "/").await;
    assert!(h.contains("<a href=\"/regeling/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier\">Omgevingsplan Havenkwartier</a>"), "{h}");
    assert!(h.contains("Omgevingsplan Stationsomgeving") && h.contains("alleen ontwerp"), "{h}");
    assert!(h.contains("publicatie afgebroken"), "the cancelled programma: {h}");
    assert!(!h.contains("BesluitOmgevingsplanHavenkwartier"), "besluiten are not regelingen");
    assert!(h.contains("<form class=\"velden\" method=\"get\" action=\"/zoeken\" role=\"search\">"), "{h}");
    assert!(h.contains("<th scope=\"col\">Titel</th>"));
    assert_eq!(get(&app, "/?pagina=0").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&app, "/?pagina=x").await.status, StatusCode::BAD_REQUEST);
    let css = get(&app, "/viewer.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.content_type, "text/css; charset=utf-8");
    assert!(css.body.contains(":focus-visible"));
}

#[tokio::test]
async fn regeling_text_follows_the_dates() {
    let (_tmp, app) = demo();
    // Version 1 is in force from 2027-04-01, version 2 from 2027-04-22.
    let h1 = pagina(&app, &regeling_url(HAVENKWARTIER, "geldigOp=2027-04-10")).await;
    assert!(h1.contains("Deze tekst is versie <a class=\"id\" href=\"/versie/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/nld@2027-02-25;1\">"), "{h1}");
    assert!(h1.contains(ALLEEN_IN_1) && !h1.contains(ALLEEN_IN_2));
    assert!(h1.contains("in werking vanaf 2027-04-01 tot 2027-04-22"), "{h1}");
    assert!(h1.contains("value=\"2027-04-10\""), "the picker shows the date");
    assert!(h1.contains("<a href=\"/regeling/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier?geldigOp=2027-04-10&amp;inWerkingOp=2027-04-10&amp;beschikbaarOp=2027-06-01\" id=\"vaste-link\">"), "{h1}");
    assert!(h1.contains("<link rel=\"canonical\" href=\"/regeling/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier?geldigOp=2027-04-10&amp;inWerkingOp=2027-04-10&amp;beschikbaarOp=2027-06-01\">"), "{h1}");
    let h2 = pagina(&app, &regeling_url(HAVENKWARTIER, "geldigOp=2027-05-01")).await;
    assert!(h2.contains("nld@2027-04-01;2\">") && h2.contains(ALLEEN_IN_2) && !h2.contains(ALLEEN_IN_1), "{h2}");
    // The default is today (2027-06-01): version 2; empty form fields are the defaults too.
    let vandaag = pagina(&app, &regeling_url(HAVENKWARTIER, "")).await;
    assert!(vandaag.contains(ALLEEN_IN_2) && vandaag.contains("value=\"2027-06-01\""));
    let leeg = pagina(&app, &regeling_url(HAVENKWARTIER, "geldigOp=&inWerkingOp=&beschikbaarOp=")).await;
    assert!(leeg.contains(ALLEEN_IN_2));
    // As known on 2027-04-01 the wijzigingsbesluit (bekendgemaakt 2027-04-08) was not known yet.
    let toen = pagina(&app, &regeling_url(HAVENKWARTIER, "geldigOp=2027-05-01&beschikbaarOp=2027-04-01")).await;
    assert!(toen.contains(ALLEEN_IN_1) && !toen.contains(ALLEEN_IN_2));
    // Before it was in force: no text, explained.
    let ervoor = pagina(&app, &regeling_url(HAVENKWARTIER, "geldigOp=2027-03-01")).await;
    assert!(ervoor.contains("geen tekst van deze regeling bekend") && !ervoor.contains(ALLEEN_IN_1), "{ervoor}");
    // The table of contents links to the anchors of the text, whose headings start below h2.
    assert!(h2.contains("<nav class=\"toc\" aria-labelledby=\"toc-kop\">"));
    assert!(h2.contains("<a href=\"#chp_2__subchp_2.2__art_2.5\">Artikel 2.5 Terrassen op de kade</a>"), "{h2}");
    assert!(h2.contains("id=\"chp_2__subchp_2.2__art_2.5\""));
    assert!(!h2.contains("<h1 class=\"kop\"") && !h2.contains("<h2 class=\"kop\""), "text headings below the page's");
    // The percent-encoded work id works too.
    let enc = pagina(&app, "/regeling/%2Fakn%2Fnl%2Fact%2Fgm9901%2F2027%2FOmgevingsplanHavenkwartier?geldigOp=2027-05-01").await;
    assert!(enc.contains(ALLEEN_IN_2));
}

#[tokio::test]
async fn regeling_page_has_timeline_versions_besluiten_compare_form_and_tam_section() {
    let (_tmp, app) = demo();
    let h = pagina(&app, &regeling_url(HAVENKWARTIER, "geldigOp=2027-05-01")).await;
    // Timeline as known today: two compleet toestanden, the chosen one marked in text.
    assert!(h.contains("<h2 id=\"tijdlijn-kop\">Tijdlijn van toestanden</h2>"));
    assert_eq!(h.matches("<span class=\"status status-compleet\">compleet</span>").count(), 3, "two rows and the legend: {h}");
    assert_eq!(h.matches("<strong>(gekozen datum)</strong>").count(), 1);
    let gekozen = &h[h.find("<tr class=\"gekozen\" aria-current=\"true\">").unwrap()..];
    assert!(gekozen[..gekozen.find("</tr>").unwrap()].contains("2027-04-22"), "{gekozen}");
    assert!(h.contains("href=\"/regeling/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier?geldigOp=2027-04-01&amp;inWerkingOp=2027-04-01&amp;beschikbaarOp=2027-06-01\">2027-04-01</a>"), "{h}");
    assert!(h.contains("/join/id/proces/gm9901/2027/WijzigingOmgevingsplanHavenkwartierKade"));
    // Versions with the besluit behind each, and its procedure status.
    assert!(h.contains(&format!("<a href=\"/besluit{BESLUIT_1}\">Besluit van de gemeenteraad van Regelbank-Oost tot vaststelling van het omgevingsplan Havenkwartier (bekendgemaakt 9 maart 2027)</a>")), "{h}");
    assert!(h.contains(&format!("<a href=\"/besluit{BESLUIT_6}\">")));
    assert!(h.contains("Ondertekening op"), "{h}");
    // Compare: two selects, the shown version and the one before it preselected.
    assert!(h.contains("<form class=\"velden\" method=\"get\" action=\"/regeling/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/vergelijk\">"));
    assert!(h.contains("<option value=\"nld@2027-02-25;1\" selected>"), "{h}");
    assert!(h.contains("<option value=\"nld@2027-04-01;2\" selected>"));
    // The TAM section: present, empty, clearly marked as not consolidated.
    assert!(h.contains("<section class=\"tam\" aria-labelledby=\"tam-kop\">") && h.contains("Er zijn geen TAM-documenten voor deze regeling."));
    assert!(h.contains("<strong>niet geconsolideerd</strong>"));
}

#[tokio::test]
async fn tam_documents_of_the_regeling_are_listed_apart_from_the_text() {
    let (_tmp, app) = demo_met(|store| {
        let invoer = ingest::tam::TamInvoer {
            bevoegd_gezag: Some("gm9901".into()),
            soort: Some("TAM-omgevingsplan".into()),
            titel: Some("Terrassen <Noordkade> (TAM)".into()),
            datum_bekendmaking: Some("2027-05-03".into()),
            regeling: Some(HAVENKWARTIER.into()),
            id_levering: None,
        };
        let html = b"<html><head><title>Terrassen</title></head><body><h1>Terrassen</h1><p>Tijdelijke regels.</p></body></html>";
        ingest::tam::ingest_tam(store, "terrassen.html", html, invoer, "00000001000000990100", chrono::Utc::now()).unwrap();
    });
    let h = pagina(&app, &regeling_url(HAVENKWARTIER, "")).await;
    let tam = &h[h.find("<section class=\"tam\"").unwrap()..];
    assert!(tam.contains(">Terrassen &lt;Noordkade&gt; (TAM)</a>"), "escaped title: {tam}");
    assert!(tam.contains("<td>3 mei 2027</td>") && tam.contains("<td>TAM-omgevingsplan</td>"), "{tam}");
    assert!(tam.contains("<strong>TAM</strong>: aangeleverd via de TAM-route"), "{tam}");
    assert!(tam.contains("/bestand\">bestand</a>"), "{tam}");
    assert!(!tam.contains("Er zijn geen TAM-documenten"));
    // Its own page: marked, with the regeling it belongs to and the file as received.
    let i = tam.find("<a href=\"/tam/").unwrap() + "<a href=\"".len();
    let href = &tam[i..i + tam[i..].find('"').unwrap()];
    let d = pagina(&app, href).await;
    assert!(d.contains("<h1>Terrassen &lt;Noordkade&gt; (TAM)</h1>") && d.contains("<strong>niet geconsolideerd</strong>"), "{d}");
    assert!(d.contains(&format!("<dt>Hoort bij</dt><dd><a href=\"/regeling{HAVENKWARTIER}\">Omgevingsplan Havenkwartier</a></dd>")), "{d}");
    assert!(d.contains("terrassen.html</a> (text/html"), "{d}");
    assert_eq!(get(&app, "/tam/tam-bestaat-niet").await.status, StatusCode::NOT_FOUND);
    // Search finds it as a TAM document, linked to its page.
    let z = pagina(&app, "/zoeken?q=%22tijdelijke%20regels%22").await;
    assert!(z.contains(&format!("<h3><a href=\"{href}\">Terrassen &lt;Noordkade&gt; (TAM)</a> <span class=\"soort\">(TAM, niet geconsolideerd)</span></h3>")), "{z}");
    // Not part of the consolidated text or the timeline.
    let tekst = &h[h.find("id=\"regeltekst\"").unwrap()..h.find("tijdlijn-kop").unwrap()];
    assert!(!tekst.contains("Noordkade&gt; (TAM)"));
    // Not known before it was received.
    let eerder = pagina(&app, &regeling_url(HAVENKWARTIER, "beschikbaarOp=2020-01-01")).await;
    assert!(eerder.contains("Er zijn geen TAM-documenten voor deze regeling."));
}

#[tokio::test]
async fn bevoegd_gezag_page_lists_its_regelingen_and_every_tam_document_also_without_regeling() {
    let tam = |titel: &str, bg: &str, regeling: Option<&str>| ingest::tam::TamInvoer {
        bevoegd_gezag: Some(bg.into()),
        soort: Some("TAM-omgevingsplan".into()),
        titel: Some(titel.into()),
        datum_bekendmaking: Some("2027-05-03".into()),
        regeling: regeling.map(str::to_string),
        id_levering: None,
    };
    let (_tmp, app) = demo_met(|store| {
        let html = b"<html><head><title>Plan</title></head><body><p>Tijdelijke regels.</p></body></html>";
        let oin = "00000001000000990100";
        let nu = chrono::Utc::now();
        ingest::tam::ingest_tam(store, "bij.html", html, tam("Bij Havenkwartier", "gm9901", Some(HAVENKWARTIER)), oin, nu).unwrap();
        // The usual TAM case: an omgevingsplan change with no STOP regeling yet, and one
        // submitted under the bevoegd gezag's OIN instead of its code.
        ingest::tam::ingest_tam(store, "los.pdf", b"%PDF-kapot", tam("Wijziging Oude Haven (IMRO)", "gm9901", None), oin, nu).unwrap();
        ingest::tam::ingest_tam(store, "oin.html", html, tam("Onder het OIN", oin, None), oin, nu).unwrap();
        ingest::tam::ingest_tam(store, "ander.html", html, tam("Van een ander", "gm0363", None), oin, nu).unwrap();
    });
    // The home page lists the bevoegde gezagen with their numbers and links to their pages.
    let home = pagina(&app, "/").await;
    assert!(home.contains("<tr><th scope=\"row\"><a href=\"/bevoegd-gezag/gm9901\">gm9901</a></th><td>3</td><td>2</td></tr>"), "{home}");
    assert!(home.contains("<a href=\"/bevoegd-gezag/gm0363\">gm0363</a></th><td>0</td><td>1</td>"), "{home}");
    let h = pagina(&app, "/bevoegd-gezag/gm9901").await;
    assert!(h.contains("<h1>Bevoegd gezag gm9901</h1>"), "{h}");
    assert!(h.contains(&format!("<a href=\"/regeling{HAVENKWARTIER}\">Omgevingsplan Havenkwartier</a>")), "{h}");
    assert!(h.contains(&format!("<a href=\"/regeling{STATIONSOMGEVING}\">")), "{h}");
    let deel = &h[h.find("<section class=\"tam\"").unwrap()..];
    assert!(deel.contains("<h2 id=\"tam-kop\">TAM / tijdelijk deel</h2>") && deel.contains("<strong>niet geconsolideerd</strong>"));
    assert!(deel.contains(">Bij Havenkwartier</a>") && deel.contains(">Omgevingsplan Havenkwartier</a></td>"), "{deel}");
    assert!(deel.contains(">Wijziging Oude Haven (IMRO)</a>") && deel.contains("<td>nog geen regeling in STOP</td>"), "{deel}");
    assert!(deel.contains(">Onder het OIN</a>"), "documents under the OIN the regelingen were delivered with: {deel}");
    assert!(!deel.contains("Van een ander"), "{deel}");
    // Not known before they were received; the regelingen stay.
    let eerder = pagina(&app, "/bevoegd-gezag/gm9901?beschikbaarOp=2020-01-01").await;
    assert!(eerder.contains("Er zijn geen TAM-documenten van dit bevoegd gezag bekend op 1 januari 2020.") && eerder.contains("Omgevingsplan Havenkwartier"));
    // The regeling and TAM pages link to it; unknown names and bad dates are errors.
    let r = pagina(&app, &regeling_url(HAVENKWARTIER, "")).await;
    assert!(r.contains("<dt>Bevoegd gezag</dt><dd><a href=\"/bevoegd-gezag/gm9901\">gm9901</a></dd>"), "{r}");
    assert_eq!(get(&app, "/bevoegd-gezag/gm0000").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/bevoegd-gezag/gm9901?beschikbaarOp=morgen").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn ontwerp_regeling_shows_its_version_and_procedure_without_toestanden() {
    let (_tmp, app) = demo();
    let h = pagina(&app, &regeling_url(STATIONSOMGEVING, "")).await;
    assert!(h.contains("geen toestanden van deze regeling bekend"), "{h}");
    assert!(h.contains("<td>ontwerp</td>"), "{h}");
    assert!(h.contains("Ontwerpbesluit tot vaststelling van het omgevingsplan Stationsomgeving"));
    assert!(h.contains("er valt niets te vergelijken"));
    let v = pagina(&app, "/versie/akn/nl/act/gm9901/2027/OmgevingsplanStationsomgeving/nld@2027-04-06;ontwerp1").await;
    assert!(v.contains("<dt>Soort</dt><dd>ontwerp</dd>"), "{v}");
}

#[tokio::test]
async fn version_and_besluit_pages() {
    let (_tmp, app) = demo();
    let v = pagina(&app, &format!("/versie{HAVENKWARTIER}/nld@2027-04-01;2")).await;
    assert!(v.contains(ALLEEN_IN_2) && v.contains("<a href=\"#chp_2__subchp_2.2__art_2.5\">"));
    assert!(v.contains("href=\"/regeling/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/vergelijk?van=nld@2027-02-25;1&amp;naar=nld@2027-04-01;2\">vergelijk met de vorige versie"), "{v}");
    assert!(v.contains(&format!("<dt>Besluit</dt><dd><a href=\"/besluit{BESLUIT_6}\">")));
    assert!(v.contains("Tekst vastgesteld bij"), "provenance per article: {v}");
    // The besluit: the versions it delivered, its procedure with the kennisgeving's step.
    let b = pagina(&app, &format!("/besluit{BESLUIT_1}")).await;
    assert!(b.contains("<h1>Besluit van de gemeenteraad van Regelbank-Oost tot vaststelling van het omgevingsplan Havenkwartier</h1>"), "{b}");
    assert!(b.contains(&format!("<a class=\"id\" href=\"/versie{HAVENKWARTIER}/nld@2027-02-25;1\">")), "{b}");
    assert!(b.contains("<th scope=\"row\">Ondertekening</th>"), "{b}");
    assert!(b.contains("<th scope=\"row\">Einde bezwaartermijn</th>"), "the kennisgeving added it: {b}");
    assert!(b.contains("/besluit/akn/nl/doc/gm9901/2027/KennisgevingOmgevingsplanHavenkwartier/nld@2027-03-10;1"), "{b}");
    let k = pagina(&app, "/besluit/akn/nl/doc/gm9901/2027/KennisgevingOmgevingsplanHavenkwartier/nld@2027-03-10;1").await;
    assert!(k.contains("<dt>Soort</dt><dd>kennisgeving</dd>"), "{k}");
}

#[tokio::test]
async fn compare_two_versions() {
    let (_tmp, app) = demo();
    let url = format!("/regeling{HAVENKWARTIER}/vergelijk?van=nld@2027-02-25;1&naar=nld@2027-04-01;2");
    let h = pagina(&app, &url).await;
    assert!(h.contains("<p id=\"samenvatting\">1 toegevoegd, 1 verwijderd, 1 gewijzigd, 0 verplaatst, 1 hernummerd.</p>"), "{h}");
    assert!(h.contains("<ins><span class=\"visueel-verborgen\">[toegevoegd: </span>24 meter aan de Noordkade"), "{h}");
    assert!(h.contains("<del><span class=\"visueel-verborgen\">[verwijderd: </span>de maximale bouwhoogte"), "{h}");
    assert!(h.contains("Artikel 2.5 Terrassen op de kade <span class=\"soort\">(toegevoegd)</span>"), "{h}");
    // The same with the form's percent-encoding and with full identifiers.
    let enc = pagina(&app, &format!("/regeling{HAVENKWARTIER}/vergelijk?van=nld%402027-02-25%3B1&naar=nld%402027-04-01%3B2")).await;
    assert!(enc.contains("1 toegevoegd, 1 verwijderd, 1 gewijzigd, 0 verplaatst, 1 hernummerd"));
    let vol = pagina(&app, &format!("/regeling{HAVENKWARTIER}/vergelijk?van={HAVENKWARTIER}/nld@2027-04-01;2&naar={HAVENKWARTIER}/nld@2027-02-25;1")).await;
    assert!(vol.contains("1 toegevoegd, 1 verwijderd, 1 gewijzigd, 0 verplaatst, 1 hernummerd"), "reversed: {vol}");
    let zelfde = pagina(&app, &format!("/regeling{HAVENKWARTIER}/vergelijk?van=nld@2027-02-25;1&naar=nld@2027-02-25;1")).await;
    assert!(zelfde.contains("Geen verschillen."));
}

#[tokio::test]
async fn errors_are_html_pages_with_the_right_status() {
    let (_tmp, app) = demo();
    let cases: &[(&str, StatusCode, &str)] = &[
        ("/regeling/akn/nl/act/gm9901/2027/Onbekend", StatusCode::NOT_FOUND, "Er is geen regeling /akn/nl/act/gm9901/2027/Onbekend."),
        ("/regeling/akn/nl/act/gm9901/2027/Onbekend/vergelijk?van=a&naar=b", StatusCode::NOT_FOUND, "Er is geen regeling"),
        ("/regeling/akn/nl/bill/gm9901/2027/BesluitOmgevingsplanHavenkwartier", StatusCode::NOT_FOUND, "is geen regeling maar een besluit"),
        (&regeling_url(HAVENKWARTIER, "geldigOp=2027-02-30"), StatusCode::BAD_REQUEST, "geen geldige datum voor &#39;geldig op&#39;"),
        (&regeling_url(HAVENKWARTIER, "beschikbaarOp=morgen"), StatusCode::BAD_REQUEST, "&#39;morgen&#39;"),
        (&format!("/regeling{HAVENKWARTIER}/vergelijk"), StatusCode::BAD_REQUEST, "Kies twee versies"),
        (&format!("/regeling{HAVENKWARTIER}/vergelijk?van=nld@2027-02-25;1&naar=nld@2099-01-01;9"), StatusCode::NOT_FOUND, "is geen versie van"),
        ("/versie/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/nld@2099-01-01;9", StatusCode::NOT_FOUND, "Er is geen versie"),
        (&format!("/versie{BESLUIT_1}"), StatusCode::NOT_FOUND, "geen regelingversie"),
        (&format!("/besluit{HAVENKWARTIER}/nld@2027-02-25;1"), StatusCode::NOT_FOUND, "geen besluit maar een regelingversie"),
        ("/besluit/akn/nl/bill/x", StatusCode::NOT_FOUND, "Er is geen besluit"),
        ("/bestaat/niet", StatusCode::NOT_FOUND, "Er is geen pagina /bestaat/niet."),
    ];
    // Under /api the API's problem+json stays.
    let api = get(&app, "/api/v1/bestaat-niet").await;
    assert_eq!((api.status, api.content_type.as_str()), (StatusCode::NOT_FOUND, "application/problem+json"));
    for (uri, status, tekst) in cases {
        let a = get(&app, uri).await;
        assert_eq!(a.status, *status, "{uri}: {}", a.body);
        assert_eq!(a.content_type, "text/html; charset=utf-8", "{uri}");
        basis(&a.body);
        assert!(a.body.contains(tekst), "{uri}: {}", a.body);
        assert!(a.body.contains("role=\"alert\""));
    }
}

#[tokio::test]
async fn hostile_input_is_escaped() {
    let (_tmp, app) = demo();
    let script = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    for uri in [
        format!("/zoeken?q={script}"),
        regeling_url(HAVENKWARTIER, &format!("geldigOp={script}")),
        format!("/regeling/akn/nl/act/{script}"),
        format!("/regeling{HAVENKWARTIER}/vergelijk?van={script}&naar=%22%3E%3Cimg%20src=x%3E"),
        format!("/versie/{script}"),
        format!("/besluit/{script}%22onmouseover=%22x"),
    ] {
        let a = get(&app, &uri).await;
        assert!(a.status.is_success() || a.status.is_client_error(), "{uri}: {}", a.status);
        assert!(!a.body.contains("<script>") && !a.body.contains("<img"), "{uri}: {}", a.body);
        assert!(!a.body.contains("\"onmouseover"), "{uri}");
        assert!(a.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || a.body.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;") || a.body.contains("%3Cscript"), "{uri}: {}", a.body);
    }
}

fn chain_dir(name: &str) -> PathBuf {
    fixtures::fixtures_dir().join("chains/havenkwartier").join(name)
}

#[tokio::test]
async fn onvolledig_toestand_is_marked_and_explained() {
    // Samenloop: amendment 02 (doel Wijziging02, in force 2027-03-03) made on version 1 instead
    // of 2 (Wijziging01), as in the server test of the API's 409.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let samenloop = tmp.path().join("02-samenloop");
    std::fs::create_dir(&samenloop).unwrap();
    for e in std::fs::read_dir(chain_dir("02-voegtoe-volgtop")).unwrap() {
        let p = e.unwrap().path();
        let tekst = std::fs::read_to_string(&p)
            .unwrap()
            .replace(&format!("was=\"{ZUIDKADE}/nld@2027-02-04;2\""), &format!("was=\"{ZUIDKADE}/nld@2027-01-28;1\""));
        std::fs::write(samenloop.join(p.file_name().unwrap()), tekst).unwrap();
    }
    ingest(&data, "2027-01-04", &[chain_dir("00-vaststelling"), chain_dir("01-renvooi-in-leden"), samenloop]);
    let app = app(&data, "2027-03-05");
    let h = pagina(&app, &regeling_url(ZUIDKADE, "geldigOp=2027-03-04")).await;
    assert!(h.contains("<strong class=\"status status-onvolledig\">onvolledig</strong>: de toestand vanaf 2027-03-03 heeft geen vastgestelde tekst."), "{h}");
    assert!(h.contains("Samenloop:") && h.contains("nog te verwerken: /join/id/proces/gm9901/2027/ZuidkadeWijziging01"), "{h}");
    assert!(h.contains(&format!("<a class=\"id\" href=\"/versie{ZUIDKADE}/nld@2027-02-11;3\">")), "candidate versions: {h}");
    let rij = &h[h.find("<tr class=\"gekozen\" aria-current=\"true\">").unwrap()..];
    let rij = &rij[..rij.find("</tr>").unwrap()];
    assert!(rij.contains("<span class=\"status status-onvolledig\">onvolledig</span><br>nog te verwerken"), "{rij}");
    assert!(rij.contains("<span class=\"leeg\">geen</span>"), "no version: {rij}");
    // Before the samenloop takes effect: version 2 with its text.
    let ervoor = pagina(&app, &regeling_url(ZUIDKADE, "geldigOp=2027-03-02")).await;
    assert!(ervoor.contains(&format!("href=\"/versie{ZUIDKADE}/nld@2027-02-04;2\">")), "{ervoor}");
}

#[tokio::test]
async fn search_results_follow_the_time_scope_with_facets_and_errors() {
    let (_tmp, app) = demo();
    // The form alone without a query.
    let leeg = pagina(&app, "/zoeken").await;
    assert!(leeg.contains("<input type=\"search\" id=\"q\" name=\"q\" value=\"\"") && !leeg.contains("resultaten-kop"));
    // Today (version 2): the new article, linked to the regeling on the same dates at its anchor.
    let h = pagina(&app, "/zoeken?q=terrassen").await;
    assert!(h.contains("1 regeling met 1 treffer, in de tekst geldig op 2027-06-01."), "{h}");
    assert!(h.contains("<a href=\"/regeling/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier?geldigOp=2027-06-01&amp;inWerkingOp=2027-06-01&amp;beschikbaarOp=2027-06-01#chp_2__subchp_2.2__art_2.5\">Artikel 2.5 Terrassen op de kade</a>"), "{h}");
    assert!(h.contains("Een <mark>terras</mark> bij horeca"), "{h}");
    assert!(h.contains("versie <a class=\"id\" href=\"/versie/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/nld@2027-04-01;2\">nld@2027-04-01;2</a>"), "{h}");
    // Facets are links that filter; a chosen filter can be removed.
    let facet = "/zoeken?q=terrassen&amp;geldigOp=2027-06-01&amp;inWerkingOp=2027-06-01&amp;beschikbaarOp=2027-06-01&amp;bevoegdGezag=gm9901";
    assert!(h.contains(&format!("<a href=\"{facet}\">gm9901 (1)</a>")), "{h}");
    let gefilterd = pagina(&app, &facet.replace("&amp;", "&")).await;
    assert!(gefilterd.contains("<strong>gm9901 (1)</strong>") && gefilterd.contains("bevoegd gezag: gm9901"), "{gefilterd}");
    let ander = pagina(&app, "/zoeken?q=terrassen&bevoegdGezag=pv99").await;
    assert!(ander.contains("0 regelingen met 0 treffers") && ander.contains("Niets gevonden."), "{ander}");
    // On 2027-04-10 (version 1) the article did not exist yet; historically it is found, with
    // the period of version 2.
    let toen = pagina(&app, "/zoeken?q=terrassen&geldigOp=2027-04-10").await;
    assert!(toen.contains("0 regelingen met 0 treffers"), "{toen}");
    let hist = pagina(&app, "/zoeken?q=terrassen&historisch=1&geldigOp=2027-04-10").await;
    assert!(hist.contains("in alle versies") && hist.contains("Gold in: <a href=\"/versie/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/nld@2027-04-01;2#chp_2__subchp_2.2__art_2.5\">nld@2027-04-01;2: van 2027-04-22 (nog steeds)</a>"), "{hist}");
    assert!(hist.contains("id=\"historisch\" name=\"historisch\" value=\"1\" checked"));
    // Bad syntax and bad dates: the form with the message, 400.
    let fout = get(&app, "/zoeken?q=%22open").await;
    assert_eq!(fout.status, StatusCode::BAD_REQUEST);
    assert!(fout.body.contains("ongeldige zoekvraag") && fout.body.contains("value=\"&quot;open\""), "{}", fout.body);
    assert_eq!(get(&app, "/zoeken?q=kade&geldigOp=gisteren").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&app, "/zoeken?q=kade&pagina=0").await.status, StatusCode::BAD_REQUEST);
}
