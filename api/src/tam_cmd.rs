//! The TAM commands: `ingest --tam PATH…` (publish documents through the TAM route) and
//! `tam` (list, show, write out the bytes).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use ingest::tam::{self, TamFout, TamIndex, TamInvoer, TamOverzicht};
use store::Store;

/// `ingest --tam`: the metadata of a TAM submission. Flags override a sidecar; without
/// `--metadata`, `<file>.tam.json` or `<file>.tam.xml` next to each file is used when present.
#[derive(clap::Args, Debug, Default)]
pub struct TamArgs {
    /// Publish the files through the TAM route (tijdelijke alternatieve maatregel): stored as
    /// received, text extracted, never consolidated.
    #[arg(long)]
    pub tam: bool,
    /// Sidecar with the metadata (JSON or XML; fields bevoegdGezag, soort, titel,
    /// datumBekendmaking, regeling, idLevering).
    #[arg(long, requires = "tam")]
    pub metadata: Option<PathBuf>,
    /// Bevoegd gezag (code such as gm0363, or OIN).
    #[arg(long, requires = "tam")]
    pub bevoegd_gezag: Option<String>,
    /// TAM-omgevingsplan, TAM-omgevingsverordening, TAM-projectbesluit,
    /// TAM-voorbereidingsbesluit, TAM-instructie, TAM-reactieve-interventie or TAM-overig.
    #[arg(long, requires = "tam")]
    pub soort: Option<String>,
    #[arg(long, requires = "tam")]
    pub titel: Option<String>,
    /// YYYY-MM-DD.
    #[arg(long, requires = "tam")]
    pub datum_bekendmaking: Option<String>,
    /// The regeling work the document belongs to (/akn/nl/act/…).
    #[arg(long, requires = "tam")]
    pub regeling: Option<String>,
    #[arg(long, requires = "tam")]
    pub id_levering: Option<String>,
    /// OIN of the aanleveraar recorded in the ledger.
    #[arg(long, requires = "tam", default_value = "lokaal")]
    pub aanleveraar: String,
}

fn sidecar(pad: &Path) -> Result<TamInvoer> {
    let b = std::fs::read(pad).with_context(|| format!("reading {}", pad.display()))?;
    TamInvoer::uit_sidecar(&b).map_err(|m| anyhow::anyhow!("{}: {} {}", pad.display(), m.code, m.beschrijving))
}

pub fn ingest(store: &Store, paths: &[PathBuf], args: TamArgs, json: bool) -> Result<ExitCode> {
    let vlaggen = TamInvoer {
        bevoegd_gezag: args.bevoegd_gezag.clone(),
        soort: args.soort.clone(),
        titel: args.titel.clone(),
        datum_bekendmaking: args.datum_bekendmaking.clone(),
        regeling: args.regeling.clone(),
        id_levering: args.id_levering.clone(),
    };
    let gedeeld = match &args.metadata {
        Some(p) => Some(sidecar(p)?),
        None => None,
    };
    let mut uit = Vec::new();
    let mut alles_goed = true;
    for pad in paths {
        if pad.is_dir() {
            bail!("{}: a TAM submission is one file (PDF, HTML, XML, GML or a zip); zip a directory first", pad.display());
        }
        let naast = ["tam.json", "tam.xml"].iter().map(|ext| PathBuf::from(format!("{}.{ext}", pad.display()))).find(|p| p.is_file());
        let invoer = match (&gedeeld, naast) {
            (Some(g), _) => vlaggen.clone().aangevuld_met(g.clone()),
            (None, Some(p)) => vlaggen.clone().aangevuld_met(sidecar(&p)?),
            (None, None) => vlaggen.clone(),
        };
        let bytes = std::fs::read(pad).with_context(|| format!("reading {}", pad.display()))?;
        let naam = pad.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "document".into());
        match tam::ingest_tam(store, &naam, &bytes, invoer, &args.aanleveraar, chrono::Utc::now()) {
            Ok(r) => {
                if !json {
                    let fouten = r.document.fouten();
                    println!(
                        "{}: TAM {} {} (seq {}, sha256 {}{}){}",
                        pad.display(),
                        r.id,
                        if r.herhaald { "herhaald" } else { "gepubliceerd" },
                        r.seq,
                        r.hash,
                        if fouten.is_empty() { String::new() } else { format!(", {} extractiefout(en)", fouten.len()) },
                        if r.document.stukken().next().is_none() { " [geen tekst gevonden]" } else { "" }
                    );
                    for f in fouten {
                        println!("  extractie: {f}");
                    }
                }
                uit.push(serde_json::json!({"bron": pad.display().to_string(), "tam": true, "id": r.id, "hash": r.hash, "seq": r.seq, "herhaald": r.herhaald}));
            }
            Err(TamFout::Ingest(e)) => return Err(e).context("storing the TAM document"),
            Err(e) => {
                alles_goed = false;
                let meldingen = match &e {
                    TamFout::Metadata(m) => serde_json::to_value(m)?,
                    other => serde_json::json!([{"code": other.to_string().split(' ').next().unwrap_or(""), "beschrijving": other.to_string()}]),
                };
                if !json {
                    println!("{}: TAM geweigerd: {e}", pad.display());
                }
                uit.push(serde_json::json!({"bron": pad.display().to_string(), "tam": true, "fout": e.to_string(), "meldingen": meldingen}));
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&uit)?);
    }
    Ok(if alles_goed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `regelbank tam`: list TAM documents, show one, or write its bytes.
#[derive(clap::Args, Debug)]
pub struct TamShow {
    /// A TAM document id (tam-…); without it, a list.
    pub id: Option<String>,
    /// Only the documents of this regeling work.
    #[arg(long, conflicts_with = "id")]
    pub work: Option<String>,
    /// Only the documents of this bevoegd gezag.
    #[arg(long, conflicts_with_all = ["id", "work"])]
    pub bevoegd_gezag: Option<String>,
    /// Write the document's bytes, exactly as received, to this file (`-`: stdout).
    #[arg(long, requires = "id")]
    pub bestand: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

fn regel(o: &TamOverzicht) -> String {
    let mut s = format!(
        "{}  {}  {}  {}  [{}]",
        o.id, o.metadata.datum_bekendmaking, o.metadata.soort, o.metadata.titel, o.metadata.bevoegd_gezag
    );
    if o.automatisch {
        s.push_str("  (auto-TAM)");
    }
    if let Some(v) = &o.vervangen_door {
        s.push_str(&format!("  vervangen door {}", v.expressie));
    }
    s
}

pub fn show(data: &Path, args: TamShow) -> Result<ExitCode> {
    let store = match Store::open(data) {
        Ok(s) => s,
        Err(store::StoreError::Locked { .. }) => Store::open_read_only(data)?,
        Err(e) => return Err(e).with_context(|| format!("opening {}", data.display())),
    };
    let index = TamIndex::open(&store)?;
    let Some(id) = &args.id else {
        let lijst = match (&args.work, &args.bevoegd_gezag) {
            (Some(w), _) => index.van_werk(w)?,
            (None, Some(b)) => index.van_bevoegd_gezag(b)?,
            (None, None) => index.alle()?,
        };
        if args.json {
            println!("{}", serde_json::to_string_pretty(&lijst)?);
        } else {
            for o in &lijst {
                println!("{}", regel(o));
            }
            if lijst.is_empty() {
                eprintln!("regelbank: no TAM documents");
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let Some(o) = index.get(id)? else {
        eprintln!("regelbank: no TAM document {id}");
        return Ok(ExitCode::from(1));
    };
    if let Some(uit) = &args.bestand {
        let bytes = tam::bestand(&store, &o)?;
        if uit.as_os_str() == "-" {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        } else {
            std::fs::write(uit, &bytes).with_context(|| format!("writing {}", uit.display()))?;
            eprintln!("regelbank: {} bytes written to {} (sha256 {})", bytes.len(), uit.display(), o.bestand.hash);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&tam::document(&store, &o)?)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", regel(&o));
    println!("  bestand: {} ({}, {} bytes, sha256 {})", o.bestand.naam, o.bestand.mediatype, o.bestand.grootte, o.bestand.hash);
    for r in &o.redenen {
        println!("  reden: {r}");
    }
    for w in &o.works {
        println!("  regeling: {w}");
    }
    println!("  tekststukken: {}", o.stukken);
    for f in &o.fouten {
        println!("  extractiefout: {f}");
    }
    Ok(ExitCode::SUCCESS)
}
