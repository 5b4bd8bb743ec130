//! The HTTP server against a real `regelbank serve` process on loopback: uploads, polling,
//! reports, auth, limits, validation, reads, and crash safety of the delivery queue.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_regelbank");
const TODAY: &str = "2027-03-01";
const OIN: &str = "00000001000000990100";
const ANDER_OIN: &str = "00000001000000990200";

/// Tokens in the auth file of every test server.
const TOKEN: &str = "geheim-token-gm9901";
const TOKEN_ZONDER_MANDAAT: &str = "token-zonder-mandaat";
const TOKEN_ANDER: &str = "token-andere-aanleveraar";

fn auth_file(dir: &Path) -> PathBuf {
    let p = dir.join("auth.toml");
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(TOKEN_ANDER.as_bytes()))
    };
    std::fs::write(
        &p,
        format!(
            r#"
[[aanleveraar]]
naam = "Gemeente Regelbank-Oost"
oin = "{OIN}"
token = "{TOKEN}"
bevoegde_gezagen = ["{OIN}"]

[[aanleveraar]]
naam = "Leverancier zonder mandaat voor gm9901"
oin = "{OIN}"
token = "{TOKEN_ZONDER_MANDAAT}"
bevoegde_gezagen = ["{ANDER_OIN}"]

[[aanleveraar]]
naam = "Een andere aanleveraar"
oin = "{ANDER_OIN}"
token_sha256 = "{hash}"
bevoegde_gezagen = ["{OIN}"]
"#
        ),
    )
    .unwrap();
    p
}

struct Server {
    child: Child,
    base: String,
    data: PathBuf,
}

impl Server {
    fn start(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let auth = auth_file(data.parent().unwrap());
        let mut cmd = Command::new(BIN);
        cmd.arg("--data").arg(data).arg("--today").arg(TODAY).arg("serve").arg("--addr").arg("127.0.0.1:0");
        cmd.arg("--auth").arg(&auth).args(extra);
        cmd.env("REGELBANK_LOG", "info");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start regelbank serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("regelbank: listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Server { child, base: addr.to_string(), data: data.to_path_buf() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Status, content type and body of a response (errors included).
struct Antwoord {
    status: u16,
    content_type: String,
    body: Vec<u8>,
    location: Option<String>,
    headers: Vec<(String, String)>,
}

impl Antwoord {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }
}

fn antwoord(r: Result<ureq::Response, ureq::Error>) -> Antwoord {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = resp.status();
    let content_type = resp.header("content-type").unwrap_or("").to_string();
    let location = resp.header("location").map(str::to_string);
    let headers = resp.headers_names().into_iter().filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string()))).collect();
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    Antwoord { status, content_type, body, location, headers }
}

use std::io::Read as _;

fn get(url: &str, accept: Option<&str>) -> Antwoord {
    let mut r = ureq::get(url);
    if let Some(a) = accept {
        r = r.set("Accept", a);
    }
    antwoord(r.call())
}

fn post(url: &str, token: Option<&str>, body: &[u8], accept: Option<&str>) -> Antwoord {
    let mut r = ureq::post(url).set("Content-Type", "application/zip");
    if let Some(t) = token {
        r = r.set("Authorization", &format!("Bearer {t}"));
    }
    if let Some(a) = accept {
        r = r.set("Accept", a);
    }
    antwoord(r.send_bytes(body))
}

fn spec(prefix: &str) -> fixtures::GenSpec {
    fixtures::GenSpec { regelingen: 1, artikelen: 8, seed: 3, id_prefix: prefix.into(), ..Default::default() }
}

fn zip_bytes(files: &[fixtures::GeneratedFile], dir: &Path, name: &str) -> Vec<u8> {
    let p = dir.join(format!("{name}.zip"));
    fixtures::write_zip(files, &p).unwrap();
    std::fs::read(&p).unwrap()
}

fn generated(dir: &Path, prefix: &str, i: usize) -> Vec<u8> {
    zip_bytes(&fixtures::generate_delivery(&spec(prefix), i), dir, &format!("{prefix}-{i}"))
}

/// A fixture directory as a zip.
fn fixture_zip(dir: &Path, fixture: &Path) -> Vec<u8> {
    let mut files: Vec<fixtures::GeneratedFile> = std::fs::read_dir(fixture)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| fixtures::GeneratedFile { name: p.file_name().unwrap().to_string_lossy().into(), bytes: std::fs::read(&p).unwrap() })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    zip_bytes(&files, dir, &fixture.file_name().unwrap().to_string_lossy())
}

/// Poll a delivery until it is final.
fn wacht(s: &Server, id: &str) -> Value {
    let t = Instant::now();
    loop {
        let a = get(&s.url(&format!("/api/v1/leveringen/{id}")), None);
        assert_eq!(a.status, 200, "{}", a.text());
        let v = a.json();
        let st = v["status"].as_str().unwrap().to_string();
        if st != "ontvangen" && st != "in-behandeling" {
            return v;
        }
        assert!(t.elapsed() < Duration::from_secs(120), "delivery {id} not processed: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn upload(s: &Server, body: &[u8]) -> String {
    let a = post(&s.url("/api/v1/leveringen"), Some(TOKEN), body, None);
    assert_eq!(a.status, 202, "{}", a.text());
    let v = a.json();
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["statusUrl"], format!("/api/v1/leveringen/{id}"));
    assert_eq!(a.location.as_deref(), Some(format!("/api/v1/leveringen/{id}").as_str()));
    id
}

fn codes(v: &Value) -> Vec<String> {
    v["meldingen"].as_array().unwrap().iter().map(|m| m["code"].as_str().unwrap().to_string()).collect()
}

fn cli(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN).arg("--data").arg(data).arg("--today").arg(TODAY).args(args).output().unwrap()
}

fn seg(id: &str) -> String {
    id.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[test]
fn upload_poll_report_and_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("data"), &[], &[]);
    let ids = fixtures::generated_ids(&spec("http"), 0);
    let id = upload(&s, &generated(tmp.path(), "http", 0));
    let v = wacht(&s, &id);
    assert_eq!(v["status"], "gepubliceerd", "{v}");
    assert_eq!(v["idLevering"], ids.id_levering.as_str());
    assert_eq!(v["aanleveraar"], OIN);
    assert_eq!(v["seq"], 1);
    assert_eq!(v["herhaald"], false);
    assert!(v["expressions"].as_array().unwrap().iter().any(|e| e == ids.regelingen[0].1.as_str()));

    // The report as the LVBB's response XML.
    let x = get(&s.url(&format!("/api/v1/leveringen/{id}")), Some("application/xml"));
    assert_eq!(x.status, 200);
    assert!(x.content_type.starts_with("application/xml"));
    assert!(x.text().contains("<publicatieVerzoekResultaat"), "{}", x.text());
    assert!(x.text().contains(&format!("<idLevering>{}</idLevering>", ids.id_levering)));

    // The same delivery by ledger seq and by idLevering.
    for other in ["1", ids.id_levering.as_str()] {
        let o = get(&s.url(&format!("/api/v1/leveringen/{other}")), None).json();
        assert_eq!(o["seq"], 1);
        assert_eq!(o["status"], "gepubliceerd");
    }

    // The regeling in the list, filtered and paged.
    let l = get(&s.url("/api/v1/regelingen?bevoegdGezag=gm9901&pageSize=1"), None).json();
    assert_eq!(l["pagina"]["totaal"], 1, "{l}");
    assert_eq!(l["items"][0]["work"], ids.regelingen[0].0.as_str());
    let none = get(&s.url("/api/v1/regelingen?titel=bestaatniet"), None).json();
    assert_eq!(none["pagina"]["totaal"], 0);
    assert_eq!(get(&s.url("/api/v1/regelingen?page=0"), None).status, 400);
    assert_eq!(get(&s.url("/api/v1/regelingen?page=x"), None).content_type, "application/problem+json");

    // Work detail in both identifier forms.
    let (work, expr, _) = &ids.regelingen[0];
    let a = get(&s.url(&format!("/api/v1/regelingen/{}", seg(work))), None);
    let b = get(&s.url(&format!("/api/v1/regelingen{work}")), None);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["work"]["work"], work.as_str());
    assert_eq!(a.body, b.body);

    // The text equals the CLI's, in every format (the CLI reads the store read-only meanwhile).
    for (accept, fmt) in [("application/json", "json"), ("application/xml", "xml"), ("text/html", "html")] {
        let r = get(&s.url(&format!("/api/v1/expressies/{}", seg(expr))), Some(accept));
        let r2 = get(&s.url(&format!("/api/v1/expressies{expr}")), Some(accept));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.body, r2.body);
        let out = cli(&s.data, &["text", expr, "--format", fmt]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        if fmt == "json" {
            let cli_v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(r.json(), cli_v);
        } else {
            assert_eq!(r.text(), String::from_utf8_lossy(&out.stdout));
        }
    }

    // The GIO: GML exactly as delivered.
    let (gio_work, gio_expr) = ids.gio.clone().unwrap();
    let files = fixtures::generate_delivery(&spec("http"), 0);
    let gml = &files.iter().find(|f| f.name == fixtures::GENERATED_GIO_GML).unwrap().bytes;
    let g = get(&s.url(&format!("/api/v1/expressies{gio_expr}")), Some("application/gml+xml"));
    assert_eq!(g.status, 200, "{}", g.text());
    assert_eq!(g.content_type, "application/gml+xml");
    assert_eq!(&g.body, gml);
    let io = get(&s.url("/api/v1/informatieobjecten"), None).json();
    assert_eq!(io["items"][0]["work"], gio_work.as_str());
    assert_eq!(get(&s.url(&format!("/api/v1/informatieobjecten{gio_work}")), None).status, 200);

    // Unknown things are 404 problems.
    let nf = get(&s.url("/api/v1/expressies/akn/nl/act/gm9901/2027/bestaatniet/nld@2027-01-01;1"), None);
    assert_eq!(nf.status, 404);
    assert_eq!(nf.content_type, "application/problem+json");
    assert_eq!(nf.json()["code"], "niet-gevonden");
    assert_eq!(get(&s.url("/api/v1/leveringen/lv0000000000000001"), None).status, 404);

    // Health and metrics.
    let h = get(&s.url("/health"), None).json();
    assert_eq!(h["ledger"], 1);
    let m = get(&s.url("/metrics"), None).text();
    assert!(m.contains("regelbank_deliveries_total{uitkomst=\"gepubliceerd\"} 1"), "{m}");
    assert!(m.contains("regelbank_http_request_duration_seconds_bucket{route=\"/api/v1/expressies/{*expressie}\""), "{m}");
}

#[test]
fn diff_and_multipart_upload() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("data"), &[], &[]);
    // 01 (initial regeling) and 06 (its amendment), as multipart forms.
    let mut ids = Vec::new();
    for name in ["01-initieel-compact-gio", "06-wijzigingsbesluit"] {
        let zip = fixture_zip(tmp.path(), &fixtures::fixtures_dir().join("deliveries").join(name));
        let boundary = "regelbank-grens-7d3f";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"opmerking\"\r\n\r\nniets\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"levering\"; filename=\"{name}.zip\"\r\nContent-Type: application/zip\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&zip);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let a = antwoord(
            ureq::post(&s.url("/api/v1/leveringen"))
                .set("Authorization", &format!("Bearer {TOKEN}"))
                .set("Content-Type", &format!("multipart/form-data; boundary={boundary}"))
                .send_bytes(&body),
        );
        assert_eq!(a.status, 202, "{}", a.text());
        ids.push(a.json()["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        assert_eq!(wacht(&s, id)["status"], "gepubliceerd");
    }
    let work = "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier";
    let (a, b) = (format!("{work}/nld@2027-02-25;1"), format!("{work}/nld@2027-04-01;2"));
    let url = s.url(&format!("/api/v1/regelingen{work}/diff?van={}&tot={}", seg("nld@2027-02-25;1"), seg(&b)));
    for (accept, fmt) in [("application/json", "json"), ("text/html", "html"), ("application/xml", "stop")] {
        let r = get(&url, Some(accept));
        assert_eq!(r.status, 200, "{}", r.text());
        let out = cli(&s.data, &["diff", &a, &b, "--format", fmt]);
        assert!(out.status.success());
        assert_eq!(r.text().trim_end(), String::from_utf8_lossy(&out.stdout).trim_end(), "{fmt}");
    }
    assert_eq!(get(&s.url(&format!("/api/v1/regelingen{work}/diff?van=nld@2027-02-25%3B1")), None).status, 400);
    assert_eq!(get(&s.url(&format!("/api/v1/regelingen{work}/diff?van=nld@2027-02-25%3B1&tot=nld@2099-01-01%3B9")), None).status, 404);
    // Time travel on deliveries that came in over HTTP: the amendment is in force from 2027-04-01.
    let r = get(&s.url(&format!("/api/v1/regelingen{work}?geldigOp=2027-05-01&beschikbaarOp=2027-12-31")), None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("expressie").as_deref(), Some(b.as_str()));
    let t = get(&s.url(&format!("/api/v1/regelingen{work}/toestanden?beschikbaarOp=2027-12-31")), None).json();
    assert_eq!(t["perioden"].as_array().unwrap().last().unwrap()["toestand"]["inhoud"]["instrumentversie"], b.as_str(), "{t}");
}

#[test]
fn no_or_unknown_token_is_401() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("data"), &[], &[]);
    let zip = generated(tmp.path(), "anon", 0);
    for token in [None, Some("verkeerd")] {
        for path in ["/api/v1/leveringen", "/api/v1/validaties"] {
            let a = post(&s.url(path), token, &zip, None);
            assert_eq!(a.status, 401, "{}", a.text());
            assert_eq!(a.content_type, "application/problem+json");
            assert_eq!(a.json()["code"], "niet-geauthenticeerd");
        }
    }
    assert!(std::fs::read_dir(s.data.join("queue/pending")).unwrap().next().is_none());
}

#[test]
fn lvbb1512_without_mandate_is_403() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("data"), &[], &[]);
    let zip = generated(tmp.path(), "mandaat", 0);
    // The token's aanleveraar may not deliver for the package's bevoegd gezag.
    let a = post(&s.url("/api/v1/leveringen"), Some(TOKEN_ZONDER_MANDAAT), &zip, None);
    assert_eq!(a.status, 403, "{}", a.text());
    let v = a.json();
    assert_eq!(v["code"], "LVBB1512");
    assert_eq!(v["meldingen"][0]["code"], "LVBB1512");
    assert!(v["detail"].as_str().unwrap().contains(OIN), "{v}");
    // The token belongs to another OIN than idAanleveraar.
    let b = post(&s.url("/api/v1/leveringen"), Some(TOKEN_ANDER), &zip, None);
    assert_eq!(b.status, 403, "{}", b.text());
    assert_eq!(b.json()["code"], "LVBB1512");
    assert!(b.json()["detail"].as_str().unwrap().contains("idAanleveraar"));
    // Nothing was queued or stored.
    assert!(std::fs::read_dir(s.data.join("queue/pending")).unwrap().next().is_none());
    assert!(std::fs::read_dir(s.data.join("queue/tmp")).unwrap().next().is_none());
    assert_eq!(get(&s.url("/health"), None).json()["ledger"], 0);
}

#[test]
fn a_work_can_only_be_changed_by_its_owner() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("data"), &[], &[]);
    let first = upload(&s, &generated(tmp.path(), "eigenaar", 0));
    assert_eq!(wacht(&s, &first)["status"], "gepubliceerd");
    // The same work delivered on behalf of another bevoegd gezag (with a valid mandate for it).
    let mut files = fixtures::generate_delivery(&spec("eigenaar"), 0);
    for f in &mut files {
        let t = String::from_utf8(f.bytes.clone()).unwrap();
        let t = t.replace("eigenaar-0-levering", "eigenaar-0-levering-b").replace(&format!("<idBevoegdGezag>{OIN}"), &format!("<idBevoegdGezag>{ANDER_OIN}"));
        f.bytes = t.into_bytes();
    }
    let zip = zip_bytes(&files, tmp.path(), "ander");
    let a = post(&s.url("/api/v1/leveringen"), Some(TOKEN_ZONDER_MANDAAT), &zip, None);
    assert_eq!(a.status, 202, "{}", a.text());
    let v = wacht(&s, a.json()["id"].as_str().unwrap());
    assert_eq!(v["status"], "niet-valide", "{v}");
    assert!(codes(&v).contains(&"RB3101".to_string()), "{v}");
}

#[test]
fn oversize_upload_is_413() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("data"), &["--max-upload", "4000"], &[]);
    let zip = generated(tmp.path(), "groot", 0);
    assert!(zip.len() > 4000);
    let a = post(&s.url("/api/v1/leveringen"), Some(TOKEN), &zip, None);
    assert_eq!(a.status, 413, "{}", a.text());
    assert_eq!(a.json()["code"], "te-groot");
    // Without Content-Length (chunked), the limit is enforced while streaming.
    let a = antwoord(
        ureq::post(&s.url("/api/v1/leveringen"))
            .set("Authorization", &format!("Bearer {TOKEN}"))
            .send(std::io::Cursor::new(zip.clone())),
    );
    assert_eq!(a.status, 413, "{}", a.text());
    assert!(std::fs::read_dir(s.data.join("queue/pending")).unwrap().next().is_none());
    assert!(std::fs::read_dir(s.data.join("queue/tmp")).unwrap().next().is_none());
    let m = get(&s.url("/metrics"), None).text();
    assert!(m.contains("regelbank_uploads_refused_total{status=\"413\"} 2"), "{m}");
}

#[test]
fn malformed_packages_get_a_report_with_meldingen() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("data"), &[], &[]);
    let geen_zip = upload(&s, b"dit is geen zip-bestand");
    let v = wacht(&s, &geen_zip);
    assert_eq!(v["status"], "niet-valide");
    assert!(codes(&v).contains(&"LVBB1001".to_string()), "{v}");
    let x = get(&s.url(&format!("/api/v1/leveringen/{geen_zip}")), Some("application/xml")).text();
    assert!(x.contains("<uitkomst>mislukt</uitkomst>") && x.contains("LVBB1001"), "{x}");
    // A broken fixture with a readable opdracht: stored for audit, rejected.
    let zip = fixture_zip(tmp.path(), &fixtures::fixtures_dir().join("broken/gio-hash-onjuist"));
    let v = wacht(&s, &upload(&s, &zip));
    assert_eq!(v["status"], "niet-valide");
    assert!(codes(&v).contains(&"LVBB3008".to_string()), "{v}");
    // An empty body is refused outright.
    assert_eq!(post(&s.url("/api/v1/leveringen"), Some(TOKEN), b"", None).status, 400);
}

#[test]
fn validaties_report_synchronously_and_store_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("data"), &[], &[]);
    let zip = generated(tmp.path(), "val", 0);
    let a = post(&s.url("/api/v1/validaties"), Some(TOKEN), &zip, None);
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    // A publicatieOpdracht without blocking meldingen; validation stores nothing.
    assert_eq!(v["status"], "gevalideerd", "{v}");
    assert_eq!(v["seq"], Value::Null);
    let broken = fixture_zip(tmp.path(), &fixtures::fixtures_dir().join("broken/datum-bekendmaking-zaterdag"));
    let x = post(&s.url("/api/v1/validaties"), Some(TOKEN), &broken, Some("application/xml"));
    assert_eq!(x.status, 200);
    assert!(x.text().contains("LVBB1519"), "{}", x.text());
    assert_eq!(get(&s.url("/health"), None).json()["ledger"], 0);
    assert!(std::fs::read_dir(s.data.join("queue/tmp")).unwrap().next().is_none());
}

#[test]
fn openapi_document_describes_the_api() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("data"), &[], &[]);
    let v = get(&s.url("/api/v1/openapi.json"), None).json();
    assert!(v["openapi"].as_str().unwrap().starts_with("3.1"), "{}", v["openapi"]);
    for p in [
        "/api/v1/leveringen",
        "/api/v1/leveringen/{id}",
        "/api/v1/validaties",
        "/api/v1/regelingen",
        "/api/v1/regelingen/{work}",
        "/api/v1/regelingen/{work}/toestanden",
        "/api/v1/regelingen/{work}/diff",
        "/api/v1/informatieobjecten/{work}",
        "/api/v1/informatieobjecten/{work}/toestanden",
        "/api/v1/expressies/{expressie}",
        "/health",
        "/metrics",
    ] {
        assert!(v["paths"][p].is_object(), "{p} missing");
    }
    assert_eq!(v["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

/// The bytes of every acknowledged delivery must end up in the ledger exactly once.
fn ledger_leveringen(s: &Server) -> Vec<String> {
    let n = get(&s.url("/health"), None).json()["ledger"].as_u64().unwrap();
    (1..=n).map(|seq| get(&s.url(&format!("/api/v1/leveringen/{seq}")), None).json()["idLevering"].as_str().unwrap().to_string()).collect()
}

#[test]
fn crash_between_commit_and_result_processes_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // The store aborts the process right after the ledger append (committed, not yet reported).
    let mut s = Server::start(&data, &[], &[("REGELBANK_STORE_FAILPOINT", "after-ledger")]);
    let id = upload(&s, &generated(tmp.path(), "fp", 0));
    let status = s.child.wait().unwrap();
    assert!(!status.success(), "the failpoint should have aborted the server");
    drop(s);
    let s = Server::start(&data, &[], &[]);
    let v = wacht(&s, &id);
    assert_eq!(v["status"], "gepubliceerd", "{v}");
    assert_eq!(v["seq"], 1);
    assert_eq!(ledger_leveringen(&s), vec![fixtures::generated_ids(&spec("fp"), 0).id_levering]);
    drop(s);
    let out = cli(&data, &["verify"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("clean"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn killed_server_loses_no_acknowledged_delivery_and_processes_none_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let n = 24;
    let zips: Vec<Vec<u8>> = (0..n).map(|i| generated(tmp.path(), "kill", i)).collect();
    let mut acked = Vec::new();
    let mut s = Server::start(&data, &["--batch", "4"], &[]);
    for z in &zips[..n / 2] {
        acked.push(upload(&s, z));
    }
    // Kill while the queue is being worked through (some done, some not).
    let t = Instant::now();
    loop {
        let done = std::fs::read_dir(data.join("queue/done")).unwrap().count();
        if done >= 2 || t.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    s.kill();
    drop(s);
    let s = Server::start(&data, &["--batch", "4"], &[]);
    for z in &zips[n / 2..] {
        acked.push(upload(&s, z));
    }
    let mut seqs = Vec::new();
    for id in &acked {
        let v = wacht(&s, id);
        assert_eq!(v["status"], "gepubliceerd", "{v}");
        seqs.push(v["seq"].as_u64().unwrap());
    }
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), n, "every delivery has its own ledger record");
    let mut ledger = ledger_leveringen(&s);
    assert_eq!(ledger.len(), n, "{ledger:?}");
    ledger.sort();
    ledger.dedup();
    assert_eq!(ledger.len(), n, "no delivery twice in the ledger");
    drop(s);
    let out = cli(&data, &["verify"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("clean"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn graceful_shutdown_keeps_the_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut s = Server::start(&data, &[], &[]);
    let id = upload(&s, &generated(tmp.path(), "stop", 0));
    // SIGTERM: the server stops accepting, finishes what runs, and exits 0.
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(s.child.id() as i32, libc::SIGTERM);
    }
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    drop(s);
    let s = Server::start(&data, &[], &[]);
    assert_eq!(wacht(&s, &id)["status"], "gepubliceerd");
}

// ---------------------------------------------------------------------------------------------
// Time travel

const ZUIDKADE: &str = "/akn/nl/act/gm9901/2027/OmgevingsplanZuidkade";
const ZUIDKADE_GIO: &str = "/join/id/regdata/gm9901/2027/Zuidkade";
/// The day the havenkwartier chain is delivered (its datumBekendmaking dates lie after it).
const CHAIN_TODAY: &str = "2027-01-04";

fn chain_dir(name: &str) -> PathBuf {
    fixtures::fixtures_dir().join("chains/havenkwartier").join(name)
}

/// Ingest with the CLI on [`CHAIN_TODAY`].
fn ingest_chain(data: &Path, dirs: &[PathBuf]) {
    let out = Command::new(BIN).arg("--data").arg(data).arg("--today").arg(CHAIN_TODAY).arg("ingest").args(dirs).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// A time-travel question: (geldigOp, inWerkingOp, beschikbaarOp), `None` = the default.
type Vraag = (Option<&'static str>, Option<&'static str>, Option<&'static str>);

fn query(v: &Vraag) -> String {
    let parts: Vec<String> = [("geldigOp", v.0), ("inWerkingOp", v.1), ("beschikbaarOp", v.2)]
        .into_iter()
        .filter_map(|(k, d)| d.map(|d| format!("{k}={d}")))
        .collect();
    parts.join("&")
}

fn cli_text(data: &Path, work: &str, v: &Vraag, format: &str) -> std::process::Output {
    let mut args = vec!["text", work, "--format", format];
    for (k, d) in [("--geldig-op", v.0), ("--in-werking-op", v.1), ("--beschikbaar-op", v.2)] {
        if let Some(d) = d {
            args.extend([k, d]);
        }
    }
    cli(data, &args)
}

/// The version the CLI resolved to and the toestand's start, from its `regelbank: V (toestand
/// from D, …` line.
fn cli_versie(stderr: &[u8]) -> (String, String) {
    let e = String::from_utf8_lossy(stderr);
    let line = e.lines().find(|l| l.contains("(toestand from ")).unwrap_or_else(|| panic!("{e}"));
    let rest = line.strip_prefix("regelbank: ").unwrap();
    let (v, rest) = rest.split_once(" (toestand from ").unwrap();
    (v.to_string(), rest.split(',').next().unwrap().to_string())
}

#[test]
fn time_travel_answers_equal_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut chain: Vec<PathBuf> = std::fs::read_dir(fixtures::fixtures_dir().join("chains/havenkwartier"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    chain.sort();
    assert_eq!(chain.len(), 22);
    ingest_chain(&data, &chain);
    let s = Server::start(&data, &[], &[]);

    let vragen: [Vraag; 10] = [
        (Some("2027-01-01"), None, Some("2027-12-31")), // before the first toestand
        (Some("2027-02-20"), None, Some("2027-12-31")),
        (Some("2027-04-01"), None, Some("2027-12-31")),
        (Some("2027-06-01"), Some("2027-03-20"), Some("2027-12-31")),
        (Some("2027-06-01"), None, Some("2027-03-05")), // as known before the later besluiten
        (Some("2027-07-10"), None, Some("2027-12-31")),
        (Some("2027-08-01"), None, Some("2027-12-31")), // after the intrekking (2027-07-14)
        (None, Some("2027-03-01"), None),               // geldigOp and beschikbaarOp: today
        (Some("2027-03-20"), None, None),               // as known today (2027-03-01)
        (None, None, Some("2027-12-31")),               // geldig and in werking today
    ];
    let mut versies = std::collections::BTreeSet::new();
    let mut problemen = Vec::new();
    for v in &vragen {
        let url = s.url(&format!("/api/v1/regelingen{ZUIDKADE}?{}", query(v)));
        for (accept, fmt) in [("application/json", "json"), ("application/xml", "xml"), ("text/html", "html")] {
            let r = get(&url, Some(accept));
            let out = cli_text(&data, ZUIDKADE, v, fmt);
            if out.status.success() {
                assert_eq!(r.status, 200, "{v:?}: {}", r.text());
                let (versie, vanaf) = cli_versie(&out.stderr);
                assert_eq!(r.header("expressie").as_deref(), Some(versie.as_str()), "{v:?}");
                assert_eq!(r.header("juridisch-werkend-vanaf").as_deref(), Some(vanaf.as_str()), "{v:?}");
                assert_eq!(r.header("content-location"), Some(format!("/api/v1/expressies/{}", seg(&versie))));
                assert!(r.header("geldig-vanaf").is_some() && r.header("inwerkingtredingsdoelen").is_some() && r.header("bekend-op").is_some());
                if fmt == "json" {
                    assert_eq!(r.json(), serde_json::from_slice::<Value>(&out.stdout).unwrap(), "{v:?}");
                } else {
                    assert_eq!(r.body, out.stdout, "{v:?} {fmt}");
                }
                // Byte for byte what /expressies answers for that version.
                assert_eq!(r.body, get(&s.url(&format!("/api/v1/expressies{versie}")), Some(accept)).body);
                versies.insert(versie);
            } else {
                assert_eq!(out.status.code(), Some(1), "{v:?}: {}", String::from_utf8_lossy(&out.stderr));
                assert_eq!(r.status, 404, "{v:?}: {}", r.text());
                assert_eq!(r.content_type, "application/problem+json");
                let e = String::from_utf8_lossy(&out.stderr);
                let code = if e.contains(": no toestand (") { "geen-toestand" } else if e.contains(": not in force (") { "niet-in-werking" } else { panic!("{e}") };
                assert_eq!(r.json()["code"], code, "{v:?}");
                problemen.push((v.0, code));
            }
        }
    }
    // The answers are the chain's, not just equal: 2027-04-01 falls in the toestand of version 7,
    // the 2027-03-01 view does not know the versions published later.
    let r = get(&s.url(&format!("/api/v1/regelingen{ZUIDKADE}?geldigOp=2027-04-01&beschikbaarOp=2027-12-31")), None);
    assert_eq!(r.header("expressie").as_deref(), Some(format!("{ZUIDKADE}/nld@2027-03-11;7").as_str()));
    assert_eq!(r.header("juridisch-werkend-vanaf").as_deref(), Some("2027-03-31"));
    assert!(versies.len() >= 6, "{versies:?}");
    assert!(problemen.contains(&(Some("2027-01-01"), "geen-toestand")), "{problemen:?}");
    assert!(problemen.contains(&(Some("2027-08-01"), "niet-in-werking")), "{problemen:?}");
    let p = get(&s.url(&format!("/api/v1/regelingen{ZUIDKADE}?geldigOp=2027-08-01&beschikbaarOp=2027-12-31")), None).json();
    assert_eq!(p["toestand"]["toestand"]["juridisch_werkend_vanaf"], "2027-07-14", "{p}");
    assert_eq!(p["vraag"]["inWerkingOp"], "2027-08-01");

    // Without date parameters the work itself, as before; bad dates are 400.
    assert_eq!(get(&s.url(&format!("/api/v1/regelingen{ZUIDKADE}")), None).json()["work"]["work"], ZUIDKADE);
    for q in ["geldigOp=2027-02-30", "beschikbaarOp=morgen", "inWerkingOp="] {
        let r = get(&s.url(&format!("/api/v1/regelingen{ZUIDKADE}?{q}")), None);
        assert_eq!(r.status, 400, "{q}: {}", r.text());
    }

    // The toestanden equal `regelbank toestanden --json`.
    for (work, kind) in [(ZUIDKADE, "regelingen"), (ZUIDKADE_GIO, "informatieobjecten")] {
        for b in [None, Some("2027-03-05"), Some("2027-12-31")] {
            let url = match b {
                Some(b) => s.url(&format!("/api/v1/{kind}{work}/toestanden?beschikbaarOp={b}")),
                None => s.url(&format!("/api/v1/{kind}/{}/toestanden", seg(work))),
            };
            let r = get(&url, None);
            assert_eq!(r.status, 200, "{url}: {}", r.text());
            let mut args = vec!["toestanden", work, "--json"];
            if let Some(b) = b {
                args.extend(["--beschikbaar-op", b]);
            }
            let out = cli(&data, &args);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(r.json(), serde_json::from_slice::<Value>(&out.stdout).unwrap(), "{url}");
        }
    }
    let t = get(&s.url(&format!("/api/v1/regelingen{ZUIDKADE}/toestanden?beschikbaarOp=2027-12-31")), None).json();
    let perioden = t["perioden"].as_array().unwrap();
    assert_eq!(perioden.len(), 22, "{t}");
    assert_eq!(perioden[21]["vanaf"], "2027-07-14");
    assert_eq!(perioden[21]["toestand"]["inhoud"]["status"], "nietInWerking");
    assert_eq!(get(&s.url(&format!("/api/v1/regelingen{ZUIDKADE}/toestanden?beschikbaarOp=2026-01-01")), None).status, 404);
    assert_eq!(get(&s.url("/api/v1/regelingen/akn/nl/act/gm9901/2027/Onbekend/toestanden"), None).status, 404);

    // The GIO in force: its GML as delivered, version 2 from 2027-06-23.
    for (d, versie) in [("2027-06-01", "nld@2027-01-15;1"), ("2027-06-30", "nld@2027-06-03;2")] {
        let r = get(&s.url(&format!("/api/v1/informatieobjecten{ZUIDKADE_GIO}?geldigOp={d}&beschikbaarOp=2027-12-31")), Some("application/gml+xml"));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("expressie"), Some(format!("{ZUIDKADE_GIO}/{versie}")));
        assert_eq!(r.content_type, "application/gml+xml");
        assert_eq!(r.body, get(&s.url(&format!("/api/v1/expressies{ZUIDKADE_GIO}/{versie}")), Some("application/gml+xml")).body);
    }
}

#[test]
fn onvolledig_toestand_is_409_with_the_candidate_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ingest_chain(&data, &[chain_dir("00-vaststelling"), chain_dir("01-renvooi-in-leden")]);
    let s = Server::start(&data, &[], &[]);
    let url = s.url(&format!("/api/v1/regelingen{ZUIDKADE}?geldigOp=2027-03-04&beschikbaarOp=2027-03-05"));
    // Before the samenloop: version 2 (Wijziging01, from 2027-02-24).
    let r = get(&url, Some("application/xml"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("expressie"), Some(format!("{ZUIDKADE}/nld@2027-02-04;2")));

    // Samenloop: amendment 02 (Wijziging02, in force 2027-03-03) made on version 1 instead of 2,
    // delivered over HTTP (bekendgemaakt 2027-03-02, after the server's today).
    let samenloop = tmp.path().join("02-samenloop");
    std::fs::create_dir(&samenloop).unwrap();
    for e in std::fs::read_dir(chain_dir("02-voegtoe-volgtop")).unwrap() {
        let p = e.unwrap().path();
        let tekst = std::fs::read_to_string(&p)
            .unwrap()
            .replace(&format!("was=\"{ZUIDKADE}/nld@2027-02-04;2\""), &format!("was=\"{ZUIDKADE}/nld@2027-01-28;1\""))
            .replace("<datumBekendmaking>2027-02-17</datumBekendmaking>", "<datumBekendmaking>2027-03-02</datumBekendmaking>");
        std::fs::write(samenloop.join(p.file_name().unwrap()), tekst).unwrap();
    }
    let id = upload(&s, &fixture_zip(tmp.path(), &samenloop));
    assert_eq!(wacht(&s, &id)["status"], "gepubliceerd");

    // The cached reader is replaced: the toestand from 2027-03-03 is now onvolledig.
    let r = get(&url, Some("application/xml"));
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.content_type, "application/problem+json");
    let p = r.json();
    assert_eq!(p["code"], "toestand-onvolledig", "{p}");
    assert_eq!(p["status"], 409);
    assert_eq!(p["work"], ZUIDKADE);
    assert_eq!(p["toestand"]["toestand"]["juridisch_werkend_vanaf"], "2027-03-03");
    assert_eq!(p["toestand"]["toestand"]["inhoud"]["status"], "onvolledig");
    assert_eq!(p["toestand"]["toestand"]["inhoud"]["te_verwerken"][0]["doel"], "/join/id/proces/gm9901/2027/ZuidkadeWijziging01");
    let kandidaten: Vec<String> = p["kandidaten"].as_array().unwrap().iter().map(|k| k["expressie"].as_str().unwrap().to_string()).collect();
    assert_eq!(kandidaten, [format!("{ZUIDKADE}/nld@2027-02-11;3"), format!("{ZUIDKADE}/nld@2027-02-04;2")]);
    for k in p["kandidaten"].as_array().unwrap() {
        assert_eq!(get(&s.url(k["href"].as_str().unwrap()), None).status, 200);
    }
    // The CLI says the same and names the same candidates.
    let out = cli_text(&data, ZUIDKADE, &(Some("2027-03-04"), None, Some("2027-03-05")), "xml");
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("is onvolledig"), "{e}");
    assert!(e.trim_end().ends_with(&format!("Candidate versions: {}", kandidaten.join(", "))), "{e}");
    assert!(p["detail"].as_str().unwrap().contains(&kandidaten.join(", ")));
    // Before the samenloop became known, and before it takes effect, version 2 still answers.
    for q in ["geldigOp=2027-03-04&beschikbaarOp=2027-03-01", "geldigOp=2027-03-02&beschikbaarOp=2027-03-05"] {
        let r = get(&s.url(&format!("/api/v1/regelingen{ZUIDKADE}?{q}")), None);
        assert_eq!(r.status, 200, "{q}: {}", r.text());
        assert_eq!(r.header("expressie"), Some(format!("{ZUIDKADE}/nld@2027-02-04;2")), "{q}");
    }
    let t = get(&s.url(&format!("/api/v1/regelingen{ZUIDKADE}/toestanden?beschikbaarOp=2027-03-05")), None).json();
    assert_eq!(t["perioden"][2]["toestand"]["inhoud"]["status"], "onvolledig", "{t}");
}

// ---------------------------------------------------------------------------------------------
// TAM (issue 8)

/// A multipart form: text fields, then files (field name, file name, bytes).
fn formulier(velden: &[(&str, &str)], bestanden: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let grens = "regelbank-grens-7d3f";
    let mut b = Vec::new();
    for (n, v) in velden {
        b.extend_from_slice(format!("--{grens}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    for (n, f, inhoud) in bestanden {
        b.extend_from_slice(
            format!("--{grens}\r\nContent-Disposition: form-data; name=\"{n}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        b.extend_from_slice(inhoud);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{grens}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={grens}"), b)
}

fn post_tam(s: &Server, token: Option<&str>, velden: &[(&str, &str)], bestanden: &[(&str, &str, &[u8])]) -> Antwoord {
    let (ct, body) = formulier(velden, bestanden);
    let mut r = ureq::post(&s.url("/api/v1/tam")).set("Content-Type", &ct);
    if let Some(t) = token {
        r = r.set("Authorization", &format!("Bearer {t}"));
    }
    antwoord(r.send_bytes(&body))
}

const TAM_HTML: &[u8] = b"<html><head><title>Voorontwerp omgevingsplan Havenkwartier</title></head><body>\
    <h2>Artikel 1</h2><p>Dakkapellen aan de achterzijde zijn vergunningvrij.</p></body></html>";

#[test]
fn tam_route_receipt_bytes_mandate_and_listing() {
    let d = tempfile::tempdir().unwrap();
    let s = Server::start(&d.path().join("data"), &[], &[]);
    let velden = [
        ("bevoegdGezag", OIN),
        ("soort", "TAM-omgevingsplan"),
        ("titel", "Voorontwerp omgevingsplan Havenkwartier"),
        ("datumBekendmaking", "2027-02-15"),
        ("regeling", "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier"),
    ];
    let bestand: &[(&str, &str, &[u8])] = &[("bestand", "voorontwerp.html", TAM_HTML)];
    assert_eq!(post_tam(&s, None, &velden, bestand).status, 401);
    let zonder_mandaat = post_tam(&s, Some(TOKEN_ZONDER_MANDAAT), &velden, bestand);
    assert_eq!(zonder_mandaat.status, 403, "{}", zonder_mandaat.text());
    let a = post(&s.url("/api/v1/tam"), Some(TOKEN), TAM_HTML, None);
    assert_eq!(a.status, 415, "{}", a.text());
    let slecht = post_tam(&s, Some(TOKEN), &[("bevoegdGezag", OIN), ("soort", "vergunning")], bestand);
    assert_eq!(slecht.status, 400, "{}", slecht.text());
    assert_eq!(codes(&slecht.json()), ["RB6001", "RB6001", "RB6003"]);

    let a = post_tam(&s, Some(TOKEN), &velden, bestand);
    assert_eq!(a.status, 201, "{}", a.text());
    let v = a.json();
    assert_eq!(v["tam"], true);
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(TAM_HTML))
    };
    assert_eq!(v["hash"], hash.as_str(), "the receipt is the SHA-256 of the bytes");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(a.location.as_deref(), Some(format!("/api/v1/tam/{id}").as_str()));
    // The same submission again: the same receipt, nothing stored twice.
    let again = post_tam(&s, Some(TOKEN), &velden, bestand);
    assert_eq!(again.status, 200);
    assert_eq!((again.json()["id"].clone(), again.json()["herhaald"].clone()), (v["id"].clone(), Value::Bool(true)));

    let b = get(&s.url(&format!("/api/v1/tam/{id}/bestand")), None);
    assert_eq!(b.status, 200);
    assert_eq!(b.body, TAM_HTML, "bytes out = bytes in");
    assert_eq!(b.header("etag"), Some(format!("\"{hash}\"")));
    assert!(b.content_type.starts_with("text/html"));
    let doc = get(&s.url(&format!("/api/v1/tam/{id}")), None).json();
    assert_eq!(doc["tam"], true);
    assert_eq!(doc["metadata"]["soort"], "TAM-omgevingsplan");
    assert!(!doc["redenen"].as_array().unwrap().is_empty());
    assert_eq!(doc["onderdelen"][0]["metadata"]["titel"], "Voorontwerp omgevingsplan Havenkwartier");
    let lijst = get(&s.url("/api/v1/tam?work=/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier"), None).json();
    assert_eq!(lijst["totaal"], 1);
    assert_eq!(lijst["documenten"][0]["id"], id.as_str());
    assert_eq!(get(&s.url("/api/v1/tam?bevoegdGezag=gm0000"), None).json()["totaal"], 0);
    assert_eq!(get(&s.url("/api/v1/tam/tam-onbekend"), None).status, 404);
    assert_eq!(get(&s.url("/api/v1/tam/tam-onbekend/bestand"), None).status, 404);
}

#[test]
fn auto_tam_through_the_server_and_the_cli() {
    let d = tempfile::tempdir().unwrap();
    let zip = fixture_zip(d.path(), &fixtures::fixtures_dir().join("broken").join("gio-hash-onjuist"));
    // Off: rejected.
    let s = Server::start(&d.path().join("uit"), &[], &[]);
    let id = upload(&s, &zip);
    assert_eq!(wacht(&s, &id)["status"], "niet-valide");
    drop(s);
    // On for gm9901: published through TAM, the report attached.
    let s = Server::start(&d.path().join("aan"), &[], &[("REGELBANK_AUTO_TAM", "gm9901")]);
    let id = upload(&s, &zip);
    let v = wacht(&s, &id);
    assert_eq!(v["status"], "tam", "{v}");
    assert!(!codes(&v).is_empty());
    let lijst = get(&s.url("/api/v1/tam"), None).json();
    assert_eq!(lijst["totaal"], 1);
    assert_eq!(lijst["documenten"][0]["automatisch"], true);
    let tam_id = lijst["documenten"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(get(&s.url(&format!("/api/v1/tam/{tam_id}/bestand")), None).body, zip, "the zip as received");
    drop(s);

    // The CLI route: ingest --tam with a sidecar, then the bytes back out.
    let data = d.path().join("cli");
    let pdf = d.path().join("plan.html");
    std::fs::write(&pdf, TAM_HTML).unwrap();
    std::fs::write(
        d.path().join("plan.html.tam.json"),
        r#"{"bevoegdGezag":"gm9901","soort":"TAM-voorbereidingsbesluit","titel":"Voorbereidingsbesluit Centrum","datumBekendmaking":"2027-01-12"}"#,
    )
    .unwrap();
    let out = cli(&data, &["ingest", "--tam", pdf.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tam_id = v[0]["id"].as_str().unwrap().to_string();
    let terug = d.path().join("terug.html");
    let out = cli(&data, &["tam", &tam_id, "--bestand", terug.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&terug).unwrap(), TAM_HTML);
    let out = cli(&data, &["tam", "--bevoegd-gezag", "gm9901"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("TAM-voorbereidingsbesluit  Voorbereidingsbesluit Centrum"));
    // Missing metadata: refused, exit 1, nothing stored.
    let kaal = d.path().join("kaal.html");
    std::fs::write(&kaal, TAM_HTML).unwrap();
    let out = cli(&data, &["ingest", "--tam", kaal.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("RB6001"));
}

// ---------------------------------------------------------------------------------------------
// Search (issue 7) over HTTP

#[test]
fn zoeken_scoped_historic_tam_and_bad_queries() {
    let d = tempfile::tempdir().unwrap();
    let s = Server::start(&d.path().join("data"), &[], &[]);
    for f in ["01-initieel-compact-gio", "06-wijzigingsbesluit"] {
        let id = upload(&s, &fixture_zip(d.path(), &fixtures::fixtures_dir().join("deliveries").join(f)));
        assert_eq!(wacht(&s, &id)["status"], "gepubliceerd");
    }
    let havenkwartier = "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier";
    let q = |query: &str| get(&s.url(&format!("/api/v1/zoeken?{query}")), None);
    let a = q("q=Havenkwartier&geldigOp=2027-05-01&beschikbaarOp=2027-12-31");
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    assert!(v["groepen"].as_array().unwrap().iter().any(|g| g["werk"] == havenkwartier), "{v}");
    assert!(v["groepen"][0]["treffers"][0]["fragment"].as_str().unwrap().contains("<mark>"));
    // Before the regeling is in force: nothing of it.
    let v = q("q=Havenkwartier&geldigOp=2027-03-15&beschikbaarOp=2027-12-31").json();
    assert!(v["groepen"].as_array().unwrap().iter().all(|g| g["werk"] != havenkwartier), "{v}");
    // Historic: the periods in which the matching text applied.
    let v = q("q=Havenkwartier&historisch=true&beschikbaarOp=2027-12-31").json();
    let g = v["groepen"].as_array().unwrap().iter().find(|g| g["werk"] == havenkwartier).expect("historic hit");
    assert!(!g["treffers"][0]["perioden"].as_array().unwrap().is_empty(), "{g}");
    // A TAM document is found, marked, and can be filtered out.
    let velden = [("bevoegdGezag", OIN), ("soort", "TAM-omgevingsplan"), ("titel", "Voorontwerp"), ("datumBekendmaking", "2027-02-15")];
    assert_eq!(post_tam(&s, Some(TOKEN), &velden, &[("bestand", "v.html", TAM_HTML)]).status, 201);
    let v = q("q=dakkapellen&geldigOp=2027-03-01").json();
    assert_eq!(v["groepen"][0]["tam"], true, "{v}");
    assert_eq!(q("q=dakkapellen&geldigOp=2027-03-01&tam=false").json()["totaalGroepen"], 0);
    // Bad input: problem+json, never a crash.
    for bad in ["q=%22open", "q=x&geldigOp=2027-13-45", "q=x&pagina=0"] {
        let a = q(bad);
        assert_eq!(a.status, 400, "{bad}: {}", a.text());
        assert_eq!(a.content_type, "application/problem+json", "{bad}");
    }
}

/// `demo` serves the viewer with a default date on which the bundled fixtures are published and
/// in force, so the first page a user opens shows text; `serve` keeps today.
#[test]
fn demo_viewer_opens_on_a_date_with_text() {
    let d = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(d.path().join("data"))
        .args(["demo", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let l = lines.next().expect("demo printed its address").unwrap();
        if let Some(a) = l.strip_prefix("regelbank: listening on ") {
            break a.to_string();
        }
    };
    // Keep reading what the demo prints, so it never writes to a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let s = Server { child, base, data: d.path().join("data") };
    let a = get(&s.url("/regeling/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier"), None);
    assert_eq!(a.status, 200);
    let html = a.text();
    assert!(html.contains("2027-06-01"), "the default date is shown in the form");
    assert!(!html.contains("Op deze data is geen tekst"), "text is shown on the default date");
    let t = get(&s.url("/api/v1/regelingen/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/toestanden"), None);
    assert_eq!(t.status, 200, "{}", t.text());
}
