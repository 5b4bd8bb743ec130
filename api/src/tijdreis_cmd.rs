//! The time-travel commands: `toestanden`, `text WORK --geldig-op …` and `conformance`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use ingest::tijdreis::{Antwoord, Lezer, Oplossing, status_nl, uitleg};
use store::Store;
use timetravel::Vraag;

/// Open the store for reading: read-write when free (the engine state is then kept), else a
/// read-only handle (the state is derived in memory).
fn open(dir: &Path) -> Result<Store> {
    match Store::open(dir) {
        Ok(s) => Ok(s),
        Err(store::StoreError::Locked { .. }) => {
            Store::open_read_only(dir).with_context(|| format!("opening {}", dir.display()))
        }
        Err(e) => Err(e).with_context(|| format!("opening the data directory {}", dir.display())),
    }
}

pub fn toestanden(data: &Path, work: &str, beschikbaar_op: &str, json: bool) -> Result<ExitCode> {
    let store = open(data)?;
    let mut lezer = Lezer::open(&store)?;
    let Some(tl) = lezer.tijdlijn(work, beschikbaar_op)? else {
        eprintln!("regelbank: nothing is known about toestanden of {work} as known on {beschikbaar_op}");
        return Ok(ExitCode::from(1));
    };
    let tam = ingest::tam::op_tijdlijn(&store, work, beschikbaar_op)?;
    if json {
        let mut v = serde_json::to_value(&tl)?;
        v["tam"] = serde_json::to_value(&tam)?;
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{work}");
    println!("  as known on {beschikbaar_op} (knowledge received {}, known from {})", tl.ontvangen_op, tl.bekend_op);
    if tl.perioden.is_empty() {
        println!("  (no toestanden: not in force)");
    }
    for p in &tl.perioden {
        let t = &p.toestand;
        let tot = p.tot.as_deref().unwrap_or("…");
        let versie = t.inhoud.instrumentversie.as_deref().unwrap_or("-");
        let terug = if t.geldig_vanaf < t.juridisch_werkend_vanaf {
            format!("  (geldig vanaf {}: terugwerkende kracht)", t.geldig_vanaf)
        } else {
            String::new()
        };
        let doelen = if t.inwerkingtredingsdoelen.is_empty() {
            String::new()
        } else {
            format!("  doelen: {}", t.inwerkingtredingsdoelen.join(", "))
        };
        println!("  {} – {:<10}  {:<15}  {versie}{doelen}{terug}", p.vanaf, tot, status_nl(t.inhoud.status));
        let u = uitleg(&t.inhoud);
        if !u.is_empty() {
            println!("      {u}");
        }
    }
    if !tam.is_empty() {
        println!("  TAM-documenten (tijdelijke alternatieve maatregel; geen toestanden):");
    }
    for d in &tam {
        let vervangen = d.vervangen_door.as_deref().map(|e| format!("  vervangen door {e}")).unwrap_or_default();
        println!("  {}  {}  {}  ({}){vervangen}", d.datum_bekendmaking, d.soort, d.titel, d.id);
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolve a work and dates to the toestand (`Lezer::los_op`); `Ok(Err(message))` when
/// there is no single version to show.
pub fn los_op(
    data: &Path,
    work: &str,
    vraag: &Vraag,
) -> Result<(Store, std::result::Result<(Antwoord, String), String>)> {
    let store = open(data)?;
    let oplossing = Lezer::open(&store)?.los_op(work, vraag)?;
    let moment = format!(
        "geldig op {}, in werking op {}, beschikbaar op {}",
        vraag.geldig_op, vraag.in_werking_op, vraag.ontvangen_op
    );
    let r = match oplossing {
        Oplossing::Versie { expressie, antwoord } => Ok((antwoord, expressie)),
        Oplossing::GeenToestand => Err(format!("{work}: no toestand ({moment})")),
        Oplossing::NietInWerking { .. } => Err(format!("{work}: not in force ({moment})")),
        Oplossing::GeenVersie { antwoord: a, kandidaten } => Err(format!(
            "{work}: the toestand from {} is {} ({}); {}. Candidate versions: {}",
            a.toestand.juridisch_werkend_vanaf,
            status_nl(a.toestand.inhoud.status),
            moment,
            uitleg(&a.toestand.inhoud),
            if kandidaten.is_empty() { "none".to_string() } else { kandidaten.join(", ") }
        )),
    };
    Ok((store, r))
}

pub fn conformance(dir: &Path, verbose: bool) -> Result<ExitCode> {
    use timetravel::conformance::{Samenvatting, draai, zoek_scenarios};
    let scenarios = zoek_scenarios(dir)?;
    if scenarios.is_empty() {
        bail!("no stop-conformance/1 scenarios under {}", dir.display());
    }
    let mut totaal = Samenvatting::default();
    let mut niveau2 = 0usize;
    for s in &scenarios {
        let u = draai(s)?;
        totaal.tel(&u);
        match &u.verschil {
            None => println!("PASS {}", u.id),
            Some(d) => println!("FAIL {}: {d}", u.id),
        }
        niveau2 += usize::from(!u.niveau2.is_empty());
        if verbose {
            for n in &u.niveau2 {
                println!("  level 2: {n}");
            }
        }
    }
    eprintln!(
        "engine: {} exchanges in {:.3} ms ({:.1} µs per scenario); {} time-travel queries in {:.3} ms ({:.0} ns each); level-2 differences in {niveau2} scenarios",
        totaal.exchanges,
        totaal.engine_tijd.as_secs_f64() * 1e3,
        totaal.engine_tijd.as_secs_f64() * 1e6 / scenarios.len() as f64,
        totaal.queries,
        totaal.query_tijd.as_secs_f64() * 1e3,
        totaal.query_tijd.as_secs_f64() * 1e9 / totaal.queries.max(1) as f64,
    );
    println!("{} passed, {} failed", totaal.geslaagd, totaal.gefaald);
    Ok(if totaal.gefaald == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
