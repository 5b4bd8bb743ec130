//! Runner for the `stop-conformance/1` consolidation scenarios (see the suite's README): feed
//! each scenario's bare ConsolidatieInformatie modules to a fresh [`Engine`] in `seq` order,
//! then compare (level 1) the actuele toestanden after every listed exchange and the
//! time-travel answers at every listed moment on the grid of all juridischWerkendVanaf ×
//! geldigVanaf values (plus the day before the first). Level-2 details (`nogTeConsolideren`,
//! `actueel`) are reported separately and do not fail a scenario.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::tijdreis::{dag, datum};
use crate::toestanden::ActueleToestanden;
use crate::uitwisseling::Uitwisseling;
use crate::{Engine, Vraag};

/// Why a scenario could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: invalid JSON: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
}

/// The result of one scenario.
#[derive(Debug, Clone)]
pub struct Uitkomst {
    pub id: String,
    /// `None` = pass; otherwise the first level-1 difference.
    pub verschil: Option<String>,
    /// Level-2 differences (informative).
    pub niveau2: Vec<String>,
    /// Time spent in the engine (processing exchanges; excludes reading and parsing files).
    pub engine_tijd: Duration,
    /// Time spent answering the comparison queries.
    pub query_tijd: Duration,
    pub queries: usize,
    pub exchanges: usize,
}

/// Every directory under `dir` (recursively, sorted) holding a `stop-conformance/1`
/// `scenario.json`.
pub fn zoek_scenarios(dir: &Path) -> Result<Vec<PathBuf>, ConformanceError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let s = d.join("scenario.json");
        if s.is_file() {
            let json = lees_json(&s)?;
            if json.get("format").and_then(Value::as_str) == Some("stop-conformance/1") {
                out.push(d.clone());
            }
        }
        let entries = std::fs::read_dir(&d).map_err(|source| ConformanceError::Io { path: d.clone(), source })?;
        for e in entries {
            let e = e.map_err(|source| ConformanceError::Io { path: d.clone(), source })?;
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn lees_json(path: &Path) -> Result<Value, ConformanceError> {
    let bytes = std::fs::read(path).map_err(|source| ConformanceError::Io { path: path.to_path_buf(), source })?;
    serde_json::from_slice(&bytes).map_err(|source| ConformanceError::Json { path: path.to_path_buf(), source })
}

fn format_fout(path: &Path, message: impl Into<String>) -> ConformanceError {
    ConformanceError::Format { path: path.to_path_buf(), message: message.into() }
}

fn s<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str)
}

/// One scenario's exchanges, read and parsed.
pub struct Scenario {
    pub id: String,
    pub dir: PathBuf,
    pub uitwisselingen: Vec<(u64, Result<Uitwisseling, Vec<stop::Melding>>)>,
    pub expected: Value,
}

/// Read a scenario directory: scenario.json, expected.json and every input.
pub fn lees_scenario(dir: &Path) -> Result<Scenario, ConformanceError> {
    let scenario = lees_json(&dir.join("scenario.json"))?;
    let expected = lees_json(&dir.join("expected.json"))?;
    let id = s(&scenario, "id").map(str::to_string).unwrap_or_else(|| dir.display().to_string());
    let exchanges = scenario
        .get("exchanges")
        .and_then(Value::as_array)
        .ok_or_else(|| format_fout(&dir.join("scenario.json"), "no exchanges"))?;
    let mut ex: Vec<&Value> = exchanges.iter().collect();
    ex.sort_by_key(|e| e.get("seq").and_then(Value::as_u64).unwrap_or(0));
    let mut uitwisselingen = Vec::new();
    for e in ex {
        let seq = e.get("seq").and_then(Value::as_u64).unwrap_or(0);
        let file = s(e, "file").ok_or_else(|| format_fout(&dir.join("scenario.json"), format!("exchange {seq} has no file")))?;
        let path = dir.join(file);
        let bytes = std::fs::read(&path).map_err(|source| ConformanceError::Io { path: path.clone(), source })?;
        let u = stop::module::parse_consolidatie_informatie(file, bytes).and_then(|(ci, meldingen)| {
            if meldingen.iter().any(stop::Melding::is_fout) {
                return Err(meldingen);
            }
            let mut u = Uitwisseling::uit_consolidatie(&ci, file, s(e, "gemaaktOp"), s(e, "ontvangenOp"))?;
            u.revisie = e.get("revisie").and_then(Value::as_bool).unwrap_or(false);
            Ok(u)
        });
        uitwisselingen.push((seq, u));
    }
    Ok(Scenario { id, dir: dir.to_path_buf(), uitwisselingen, expected })
}

/// Run one scenario directory.
pub fn draai(dir: &Path) -> Result<Uitkomst, ConformanceError> {
    let sc = lees_scenario(dir)?;
    Ok(vergelijk(&sc))
}

/// Feed a read scenario to a fresh engine and compare with its expected.json.
pub fn vergelijk(sc: &Scenario) -> Uitkomst {
    let exp = &sc.expected;
    let normatief = exp.get("normativeUntilSeq").and_then(Value::as_u64).unwrap_or(u64::MAX);
    let eerste_fout = exp.get("meldingen").and_then(|m| m.get("firstErrorSeq")).and_then(Value::as_u64);
    let mut uitkomst = Uitkomst {
        id: sc.id.clone(),
        verschil: None,
        niveau2: Vec::new(),
        engine_tijd: Duration::ZERO,
        query_tijd: Duration::ZERO,
        queries: 0,
        exchanges: sc.uitwisselingen.len(),
    };
    let verschil = |u: &mut Uitkomst, tekst: String| {
        if u.verschil.is_none() {
            u.verschil = Some(tekst);
        }
    };

    let mut engine = Engine::new();
    // gemaaktOp -> (seq, actuele toestanden per work)
    let mut na: BTreeMap<String, (u64, BTreeMap<String, std::sync::Arc<ActueleToestanden>>)> = BTreeMap::new();
    let mut fout_gemaakt_op: Option<String> = None;
    let mut fout_ontvangen_op: Option<String> = None;
    for (seq, u) in &sc.uitwisselingen {
        let resultaat = match u {
            Ok(u) => {
                let t = Instant::now();
                let r = engine.verwerk(u);
                uitkomst.engine_tijd += t.elapsed();
                if Some(*seq) == eerste_fout {
                    fout_gemaakt_op = Some(u.gemaakt_op.clone());
                    fout_ontvangen_op = Some(u.ontvangen_op.clone());
                }
                r.map(|r| (u.gemaakt_op.clone(), r.actueel))
            }
            Err(m) => Err(m.clone()),
        };
        match resultaat {
            Ok((g, actueel)) => {
                if Some(*seq) == eerste_fout {
                    verschil(&mut uitkomst, format!("exchange {seq} was accepted, but it must give an error"));
                }
                na.insert(g, (*seq, actueel));
            }
            Err(meldingen) => {
                if *seq <= normatief && Some(*seq) != eerste_fout {
                    let eerste = meldingen.iter().find(|m| m.is_fout()).or(meldingen.first());
                    verschil(
                        &mut uitkomst,
                        format!(
                            "exchange {seq} was rejected: {}",
                            eerste.map(|m| format!("{} {}", m.code, m.beschrijving)).unwrap_or_default()
                        ),
                    );
                }
            }
        }
    }
    let informatief = |seq: u64| eerste_fout.is_some_and(|f| seq >= f);

    let Some(instrumenten) = exp.get("instruments").and_then(Value::as_object) else {
        return uitkomst;
    };
    for (work, inst) in instrumenten {
        // Level 1: actuele toestanden after each listed exchange.
        for at in inst.get("actueleToestanden").and_then(Value::as_array).into_iter().flatten() {
            let Some(g) = s(at, "gemaaktOp") else { continue };
            if fout_gemaakt_op.as_deref().is_some_and(|f| g >= f) {
                continue;
            }
            let Some((seq, per_work)) = na.get(g) else {
                verschil(&mut uitkomst, format!("{work} @{g}: exchange not processed"));
                continue;
            };
            if informatief(*seq) {
                continue;
            }
            let Some(mijn) = per_work.get(work) else {
                verschil(&mut uitkomst, format!("{work} @{g}: no actuele toestanden determined"));
                continue;
            };
            if let Some(d) = vergelijk_actueel(at, mijn, &mut uitkomst.niveau2, work, g) {
                verschil(&mut uitkomst, d);
            }
        }
        // Level 1: time travel at each listed moment.
        let momenten: Vec<&Value> = inst
            .get("tijdreis")
            .and_then(|t| t.get("moments"))
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let mut jwvs = BTreeSet::new();
        let mut gvs = BTreeSet::new();
        for m in &momenten {
            for t in m.get("toestanden").and_then(Value::as_array).into_iter().flatten() {
                if let (Some(j), Some(g)) = (s(t, "juridischWerkendVanaf"), s(t, "geldigVanaf")) {
                    jwvs.insert(dag(j));
                    gvs.insert(dag(g));
                }
            }
        }
        if let Some(&eerste) = jwvs.iter().next() {
            jwvs.insert(eerste - 1);
        }
        if let Some(&eerste) = gvs.iter().next() {
            gvs.insert(eerste - 1);
        }
        // A later moment with the same (ontvangenOp, bekendOp) supersedes an earlier one.
        let mut laatste: BTreeMap<(String, String), &Value> = BTreeMap::new();
        for m in &momenten {
            if let (Some(o), Some(b)) = (s(m, "ontvangenOp"), s(m, "bekendOp")) {
                if fout_ontvangen_op.as_deref().is_some_and(|f| o >= f) {
                    continue;
                }
                laatste.insert((o.to_string(), b.to_string()), m);
            }
        }
        'momenten: for ((o, b), m) in &laatste {
            let ankers: Vec<(i32, i32, &Value)> = m
                .get("toestanden")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| Some((dag(s(t, "juridischWerkendVanaf")?), dag(s(t, "geldigVanaf")?), t)))
                .collect();
            for &j in &jwvs {
                for &gv in &gvs {
                    let verwacht = ankers.iter().filter(|a| a.0 <= j && a.1 <= gv).max_by_key(|a| (a.0, a.1)).map(|a| a.2);
                    let vraag = Vraag {
                        in_werking_op: datum(j),
                        geldig_op: datum(gv),
                        ontvangen_op: o.clone(),
                        bekend_op: b.clone(),
                    };
                    let t = Instant::now();
                    let antwoord = engine.toestand(work, &vraag);
                    uitkomst.query_tijd += t.elapsed();
                    uitkomst.queries += 1;
                    let gevonden = antwoord.as_ref().map(|a| a.toestand);
                    let mismatch = match (verwacht, gevonden) {
                        (None, None) => None,
                        (Some(v), None) => Some(format!("expected {}, found no toestand", beschrijf_verwacht(v))),
                        (None, Some(t)) => (t.inhoud.status != crate::Status::NietInWerking)
                            .then(|| format!("expected no toestand, found {}", beschrijf(t))),
                        (Some(v), Some(t)) => {
                            let status = s(v, "status").unwrap_or("");
                            let iv = s(v, "instrumentversie");
                            let doelen: BTreeSet<&str> = v
                                .get("inwerkingtredingsdoelen")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .collect();
                            let mijn_doelen: BTreeSet<&str> = t.inwerkingtredingsdoelen.iter().map(String::as_str).collect();
                            let gelijk = status == t.inhoud.status.conformance_naam()
                                && iv == t.inhoud.instrumentversie.as_deref()
                                && (status == "notInForce" || doelen == mijn_doelen);
                            (!gelijk).then(|| format!("expected {}, found {}", beschrijf_verwacht(v), beschrijf(t)))
                        }
                    };
                    if let Some(d) = mismatch {
                        verschil(
                            &mut uitkomst,
                            format!("{work} tijdreis (ontvangenOp {o}, bekendOp {b}) at juridischWerkend {} geldig {}: {d}", datum(j), datum(gv)),
                        );
                        break 'momenten;
                    }
                }
            }
        }
    }
    uitkomst
}

fn beschrijf(t: &crate::CompleteToestand) -> String {
    format!(
        "{} {} [{}] from {}/{}",
        t.inhoud.status.conformance_naam(),
        t.inhoud.instrumentversie.as_deref().unwrap_or("-"),
        t.inwerkingtredingsdoelen.join(", "),
        t.juridisch_werkend_vanaf,
        t.geldig_vanaf
    )
}

fn beschrijf_verwacht(v: &Value) -> String {
    let doelen: Vec<&str> =
        v.get("inwerkingtredingsdoelen").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    format!(
        "{} {} [{}] from {}/{}",
        s(v, "status").unwrap_or("?"),
        s(v, "instrumentversie").unwrap_or("-"),
        doelen.join(", "),
        s(v, "juridischWerkendVanaf").unwrap_or("?"),
        s(v, "geldigVanaf").unwrap_or("?")
    )
}

fn vergelijk_actueel(
    exp: &Value,
    mijn: &ActueleToestanden,
    niveau2: &mut Vec<String>,
    work: &str,
    g: &str,
) -> Option<String> {
    let verwacht: Vec<&Value> = exp.get("toestanden").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    if verwacht.len() != mijn.toestanden.len() {
        return Some(format!(
            "{work} @{g}: expected {} actuele toestanden, found {} ({})",
            verwacht.len(),
            mijn.toestanden.len(),
            mijn.toestanden.iter().map(|t| t.juridisch_werkend_vanaf.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    for (i, (v, t)) in verwacht.iter().zip(&mijn.toestanden).enumerate() {
        let doelen: BTreeSet<&str> =
            v.get("inwerkingtredingsdoelen").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let mijn_doelen: BTreeSet<&str> = t.inwerkingtredingsdoelen.iter().map(String::as_str).collect();
        let checks = [
            ("juridischWerkendVanaf", s(v, "juridischWerkendVanaf"), Some(t.juridisch_werkend_vanaf.as_str())),
            ("juridischWerkendTot", s(v, "juridischWerkendTot"), t.juridisch_werkend_tot.as_deref()),
            ("status", s(v, "status"), Some(t.inhoud.status.conformance_naam())),
            ("instrumentversie", s(v, "instrumentversie"), t.inhoud.instrumentversie.as_deref()),
        ];
        for (naam, e, m) in checks {
            if e != m {
                return Some(format!(
                    "{work} @{g}: actuele toestand {}: {naam} expected {}, found {}",
                    i + 1,
                    e.unwrap_or("-"),
                    m.unwrap_or("-")
                ));
            }
        }
        if doelen != mijn_doelen {
            return Some(format!(
                "{work} @{g}: actuele toestand {}: inwerkingtredingsdoelen expected {:?}, found {:?}",
                i + 1,
                doelen,
                mijn_doelen
            ));
        }
        // Level 2.
        if let Some(a) = v.get("actueel").and_then(Value::as_bool)
            && a != t.actueel
        {
            niveau2.push(format!("{work} @{g}: actuele toestand {}: actueel expected {a}, found {}", i + 1, t.actueel));
        }
        let ntc = v.get("nogTeConsolideren");
        let verw = |k: &str, veld: &str| -> BTreeSet<String> {
            ntc.and_then(|n| n.get(k))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|x| format!("{}|{}", s(x, "doel").unwrap_or(""), s(x, veld).unwrap_or("")))
                .collect()
        };
        let mijn_tv: BTreeSet<String> = t.inhoud.te_verwerken.iter().map(|x| format!("{}|{}", x.doel, x.laatst_bekend)).collect();
        let mijn_to: BTreeSet<String> =
            t.inhoud.te_ontvlechten.iter().map(|x| format!("{}|{}", x.doel, x.laatst_verwerkt)).collect();
        let mijn_tg: BTreeSet<String> = t.inhoud.tegensprekend.iter().map(|x| format!("{}|{}", x.doel, x.laatst_bekend)).collect();
        for (k, veld, m) in [
            ("teVerwerken", "laatstBekend", mijn_tv),
            ("teOntvlechten", "laatstVerwerkt", mijn_to),
            ("tegensprekend", "laatstBekend", mijn_tg),
        ] {
            let e = verw(k, veld);
            if e != m {
                niveau2.push(format!("{work} @{g}: actuele toestand {}: nogTeConsolideren.{k} expected {e:?}, found {m:?}", i + 1));
            }
        }
    }
    None
}

/// Totals over a run.
#[derive(Debug, Default, Clone)]
pub struct Samenvatting {
    pub geslaagd: usize,
    pub gefaald: usize,
    pub engine_tijd: Duration,
    pub query_tijd: Duration,
    pub queries: usize,
    pub exchanges: usize,
}

impl Samenvatting {
    pub fn tel(&mut self, u: &Uitkomst) {
        if u.verschil.is_none() {
            self.geslaagd += 1;
        } else {
            self.gefaald += 1;
        }
        self.engine_tijd += u.engine_tijd;
        self.query_tijd += u.query_tijd;
        self.queries += u.queries;
        self.exchanges += u.exchanges;
    }
}
