//! End to end in a real browser: the `regelbank` binary ingests the demo fixtures and serves
//! them; headless Chromium, driven through chromedriver (W3C WebDriver, spoken here over plain
//! HTTP), searches, opens a regeling, changes the date and sees the text change, and opens a
//! diff.
//!
//! Needs Debian `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test fails with a message saying so, unless `REGELBANK_SKIP_BROWSER=1`. Other binaries:
//! `REGELBANK_CHROMIUM`, `REGELBANK_CHROMEDRIVER`. Every process it starts (server,
//! chromedriver, the browser session) is stopped by a guard, also when an assertion fails.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_regelbank");
/// The server's today: both versions of the Havenkwartier plan are known and in force by then.
const TODAY: &str = "2027-06-01";
/// Text only in version 1 (in force 2027-04-01 to 2027-04-22), and only in version 2.
const ALLEEN_IN_1: &str = "de maximale bouwhoogte die in artikel 2.2 voor het bouwvlak is aangegeven";
const ALLEEN_IN_2: &str = "Terrassen op de kade";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A child process, killed and reaped when dropped.
struct Proces {
    child: Child,
}

impl Drop for Proces {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn in_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn programma(env: &str, names: &[&str]) -> Option<PathBuf> {
    match std::env::var_os(env) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        _ => in_path(names),
    }
}

fn vrije_poort() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `regelbank demo --no-serve` into `data`, then `serve` on a free port; returns the base URL.
fn start_server(data: &Path) -> (Proces, String) {
    let out = Command::new(BIN).arg("--data").arg(data).args(["demo", "--no-serve"]).output().unwrap();
    assert!(out.status.success(), "demo --no-serve: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(["--today", TODAY, "serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start regelbank serve");
    let stdout = child.stdout.take().unwrap();
    let proces = Proces { child };
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("regelbank: listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (proces, base.to_string())
}

/// A minimal W3C WebDriver client: the commands this test needs.
struct Sessie {
    agent: ureq::Agent,
    url: String,
}

impl Drop for Sessie {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.url).call();
    }
}

fn webdriver(agent: &ureq::Agent, method: &str, url: &str, body: Option<Value>) -> Value {
    webdriver_probeer(agent, method, url, body).unwrap_or_else(|e| panic!("{e}"))
}

/// A WebDriver command; its error as text.
fn webdriver_probeer(agent: &ureq::Agent, method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
    let req = agent.request(method, url);
    let r = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    match r {
        Ok(r) => r.into_json::<Value>().map(|mut v| v["value"].take()).map_err(|e| format!("{method} {url}: {e}")),
        Err(ureq::Error::Status(code, r)) => Err(format!("{method} {url}: {code} {}", r.into_string().unwrap_or_default())),
        Err(e) => Err(format!("{method} {url}: {e}")),
    }
}

impl Sessie {
    fn nieuw(driver: &str, chromium: &Path, profiel: &Path) -> Sessie {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1024",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("--user-data-dir={}", profiel.display())])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args},
        }}});
        let v = webdriver(&agent, "POST", &format!("{driver}/session"), Some(caps));
        let id = v["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_string();
        Sessie { agent, url: format!("{driver}/session/{id}") }
    }

    fn post(&self, pad: &str, body: Value) -> Value {
        webdriver(&self.agent, "POST", &format!("{}{pad}", self.url), Some(body))
    }

    fn get(&self, pad: &str) -> Value {
        webdriver(&self.agent, "GET", &format!("{}{pad}", self.url), None)
    }

    fn ga_naar(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    fn element(&self, css: &str) -> String {
        let v = self.post("/element", json!({"using": "css selector", "value": css}));
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("{css}: {v}")).to_string()
    }

    fn klik(&self, css: &str) {
        let e = self.element(css);
        self.post(&format!("/element/{e}/click"), json!({}));
    }

    fn typ(&self, css: &str, tekst: &str) {
        let e = self.element(css);
        self.post(&format!("/element/{e}/clear"), json!({}));
        self.post(&format!("/element/{e}/value"), json!({ "text": tekst }));
    }

    fn tekst(&self, css: &str) -> String {
        let e = self.element(css);
        self.get(&format!("/element/{e}/text")).as_str().unwrap().to_string()
    }

    fn script(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
    }

    /// Wait until the browser is on a page whose URL satisfies `f` and has loaded (commands
    /// that fail while a navigation is under way are tried again).
    fn wacht_op_url(&self, wat: &str, f: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let u = webdriver_probeer(&self.agent, "GET", &format!("{}/url", self.url), None)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let klaar = || {
                webdriver_probeer(&self.agent, "POST", &format!("{}/execute/sync", self.url), Some(json!({"script": "return document.readyState", "args": []})))
                    .is_ok_and(|v| v == "complete")
            };
            if f(&u) && klaar() {
                return u;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "waiting for {wat}; the browser is on {u}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn toets(&self, toets: &str) {
        self.post("/actions", json!({"actions": [{"type": "key", "id": "toetsenbord", "actions": [
            {"type": "keyDown", "value": toets}, {"type": "keyUp", "value": toets}
        ]}]}));
    }
}

#[test]
fn search_open_change_the_date_and_compare_in_chromium() {
    let chromium = programma("REGELBANK_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = programma("REGELBANK_CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        if std::env::var("REGELBANK_SKIP_BROWSER").is_ok_and(|v| v == "1") {
            eprintln!("SKIPPED: chromium or chromedriver not found and REGELBANK_SKIP_BROWSER=1");
            return;
        }
        panic!(
            "the end-to-end browser test needs chromium and chromedriver (Debian: apt-get install -y chromium \
             chromium-driver; or set REGELBANK_CHROMIUM / REGELBANK_CHROMEDRIVER). Set REGELBANK_SKIP_BROWSER=1 to skip it."
        );
    };
    let tmp = tempfile::tempdir().unwrap();
    let (_server, base) = start_server(&tmp.path().join("data"));

    let poort = vrije_poort();
    let _driver = Proces {
        child: Command::new(&chromedriver)
            .arg(format!("--port={poort}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display())),
    };
    let driver = format!("http://127.0.0.1:{poort}");
    let start = Instant::now();
    while ureq::get(&format!("{driver}/status")).call().ok().and_then(|r| r.into_json::<Value>().ok()).is_none_or(|v| v["value"]["ready"] != true) {
        assert!(start.elapsed() < Duration::from_secs(30), "chromedriver did not become ready on port {poort}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let b = Sessie::nieuw(&driver, &chromium, &tmp.path().join("profiel"));

    // Home: the skip link is the first thing the keyboard reaches.
    b.ga_naar(&format!("{base}/"));
    assert_eq!(b.get("/title"), "Regelingen · regelbank");
    b.toets("\u{E004}");
    assert_eq!(b.script("return document.activeElement.textContent", json!([])), "Naar de inhoud");

    // Search, then open the regeling from the results.
    b.typ("#q", "terrassen kade");
    b.klik("form[role=search] button[type=submit]");
    b.wacht_op_url("the search results", |u| u.contains("/zoeken?q=terrassen+kade"));
    let resultaten = b.tekst("main");
    assert!(resultaten.contains("Omgevingsplan Havenkwartier"), "{resultaten}");
    b.klik("a[href^='/regeling/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier']");
    b.wacht_op_url("the regeling page", |u| u.contains("/regeling/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier"));
    assert!(b.tekst("h1").contains("Omgevingsplan Havenkwartier"));
    let vandaag = b.tekst("#regeltekst");
    assert!(vandaag.contains(ALLEEN_IN_2) && !vandaag.contains(ALLEEN_IN_1), "today (version 2): {vandaag}");
    assert!(b.tekst("#gekozen-versie").contains("nld@2027-04-01;2"));

    // Change the date (the date picker's value, as a person picks it) and submit the form.
    let veld = b.element("#geldigOp");
    b.script("arguments[0].value = '2027-04-10'", json!([{ ELEMENT: veld }]));
    b.klik("form[aria-labelledby=peildata-kop] button[type=submit]");
    let url = b.wacht_op_url("the regeling on 2027-04-10", |u| u.contains("geldigOp=2027-04-10"));
    let toen = b.tekst("#regeltekst");
    assert_ne!(toen, vandaag, "the text changes with the date");
    assert!(toen.contains(ALLEEN_IN_1) && !toen.contains(ALLEEN_IN_2), "2027-04-10 (version 1): {toen}");
    assert!(b.tekst("#gekozen-versie").contains("nld@2027-02-25;1"));
    // The URL is the view: opening it again shows the same text.
    b.ga_naar(&url);
    assert_eq!(b.tekst("#regeltekst"), toen);

    // Compare the two versions (the form preselects the version shown and the next one).
    b.klik("form[action$='/vergelijk'] button[type=submit]");
    b.wacht_op_url("the diff", |u| u.contains("/vergelijk?van="));
    let samenvatting = b.tekst("#samenvatting");
    assert_eq!(samenvatting, "1 toegevoegd, 1 verwijderd, 1 gewijzigd, 0 verplaatst, 1 hernummerd.");
    let ins = b.script("return Array.from(document.querySelectorAll('#verschillen ins')).map(e => e.textContent).join(' | ')", json!([]));
    assert!(ins.as_str().unwrap().contains("24 meter aan de Noordkade"), "{ins}");
    let del = b.script("return Array.from(document.querySelectorAll('#verschillen del')).map(e => e.textContent).join(' | ')", json!([]));
    assert!(del.as_str().unwrap().contains(ALLEEN_IN_1), "{del}");
}
