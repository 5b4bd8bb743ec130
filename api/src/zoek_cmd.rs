//! `regelbank search` and `regelbank reindex`: full-text search over the regeling versions
//! (the `search` crate, fed by `ingest::zoek`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use search::{Resultaten, Zoeker, Zoekvraag};
use store::Store;

/// Open the store read-only, bring the search index up to the ledger when no other process
/// holds it, and answer the question (text, or JSON with `json`).
pub fn zoek(data: &Path, vraag: &Zoekvraag, json: bool) -> Result<ExitCode> {
    let store = Store::open_read_only(data).with_context(|| format!("opening {}", data.display()))?;
    match ingest::zoek::bijwerken(&store) {
        Ok(_) => {}
        Err(ingest::zoek::ZoekIndexFout::Zoek(search::ZoekFout::Bezet)) => {
            eprintln!("regelbank: the search index is being written by another process; searching what it holds")
        }
        Err(e) => return Err(e).context("bringing the search index up to date"),
    }
    let z = Zoeker::open(&ingest::zoek::map(&store))?;
    let r = match z.zoek(vraag) {
        Ok(r) => r,
        Err(e @ (search::ZoekFout::Syntaxis(_) | search::ZoekFout::Datum { .. })) => {
            eprintln!("regelbank: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", tekst(&r));
    }
    Ok(ExitCode::SUCCESS)
}

/// Rebuild the search index from the store.
pub fn reindex(data: &Path) -> Result<ExitCode> {
    let store = Store::open_read_only(data).with_context(|| format!("opening {}", data.display()))?;
    let b = ingest::zoek::herbouw(&store).context("rebuilding the search index")?;
    println!("rebuilt the search index from {} ledger records: {} versions, {} works", b.records, b.versies, b.werken);
    Ok(ExitCode::SUCCESS)
}

/// The fragment without markup, matches in [brackets].
fn platte_tekst(html: &str) -> String {
    let s = html.replace("<mark>", "[").replace("</mark>", "]");
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&#x27;", "'").replace("&amp;", "&")
}

fn tekst(r: &Resultaten) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} treffers in {} regelingen (pagina {}, {} per pagina)",
        r.totaal_treffers, r.totaal_groepen, r.pagina, r.per_pagina
    );
    for g in &r.groepen {
        let _ = writeln!(o, "\n{} — {}", g.werk, g.titel.as_deref().unwrap_or("(zonder titel)"));
        if let Some(e) = &g.expressie {
            let _ = writeln!(o, "  versie {e}");
        }
        let _ = writeln!(o, "  {} treffers", g.aantal_treffers);
        for t in &g.treffers {
            let _ = writeln!(o, "  - {} [{}] {}", t.kop, t.eid.as_deref().unwrap_or("-"), platte_tekst(&t.fragment));
            for p in &t.perioden {
                let _ = writeln!(o, "      {} – {}: {}", p.vanaf, p.tot.as_deref().unwrap_or("…"), p.expressie);
            }
        }
    }
    o
}
