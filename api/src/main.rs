//! `regelbank`: the command-line front of the library crates. Thin by design: parsing
//! arguments, opening the store, printing results. All behaviour lives in the crates.

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use ingest::{Config, IngestResult};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use store::Store;

mod tam_cmd;
mod tijdreis_cmd;
mod zoek_cmd;

/// The engine and the pipeline allocate many small strings; mimalloc serves them faster than
/// the system allocator (see docs/benchmarks.md). Built without transparent huge pages
/// (`no_thp`), and see [`allocator_returns_memory_soon`].
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    /// mimalloc's `mi_option_set` (in the statically linked mimalloc).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in mimalloc's option enum (the same position in mimalloc 2 and 3;
/// the enum is part of its stable ABI).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Give freed memory back to the OS after 10 ms (mimalloc 3 waits 1 s): ingest frees the
/// besluit, its tree and the text nodes before the search index is built, and with the long
/// delay both phases' memory was resident at once (peak RSS of the 50 MB besluit ~200 MB
/// instead of ~180 MB; no measurable time difference).
fn allocator_returns_memory_soon() {
    // SAFETY: sets an integer option; mimalloc reads it when it next purges.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 10) };
}

/// The fixtures are dated in 2027; the demo runs with this clock unless --today is given.
const DEMO_TODAY: &str = "2027-03-01";

#[derive(Parser)]
#[command(name = "regelbank", version, about = "Publication and version management for official Dutch regulation (STOP/LVBB).")]
struct Cli {
    /// Data directory (blobs, ledger, indexes).
    #[arg(long, global = true, env = "REGELBANK_DATA", default_value = "./regelbank-data")]
    data: PathBuf,
    /// The date the date rules use as today (YYYY-MM-DD). Default: the system date.
    #[arg(long, global = true, env = "REGELBANK_TODAY", value_parser = parse_day)]
    today: Option<NaiveDate>,
    /// Schema directory for the XSD layer (laid out like ../shared/schemas, with catalog.xml).
    /// Without it every report says the XSD layer did not run (RB4002).
    #[arg(long, global = true, env = "REGELBANK_SCHEMAS")]
    schemas: Option<PathBuf>,
    /// Auto-TAM: bevoegde gezagen (OIN or code such as gm0363, comma-separated) whose
    /// publicatieOpdrachten that fail validation are published through TAM instead of
    /// rejected. Default: none (invalid deliveries are rejected).
    #[arg(long, global = true, env = "REGELBANK_AUTO_TAM", value_delimiter = ',')]
    auto_tam: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Process delivery packages (zip files or directories) as their opdracht says.
    Ingest {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print a JSON array with the result per package.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        tam: tam_cmd::TamArgs,
    },
    /// TAM documents: list them (by regeling or bevoegd gezag), show one, or write its bytes.
    Tam(tam_cmd::TamShow),
    /// Check packages without storing anything.
    Validate {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Show stored things.
    Show {
        #[command(subcommand)]
        what: Show,
    },
    /// List the regelingen (and with --all every work) in the store.
    Regelingen {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Re-hash every blob, check the ledger chain, every reference and the indexes.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Recreate every index from the blobs and the ledger.
    Rebuild,
    /// Full-text search over the regeling versions: words (Dutch stemming), "phrases",
    /// "a b"~N, prefix*, AND/OR/NOT, titel:/kop:/tekst:/exact:. Default: the text in force
    /// today as known today.
    Search {
        query: String,
        /// Text valid on this date (YYYY-MM-DD; default today).
        #[arg(long)]
        geldig_op: Option<String>,
        /// Text in force on this date (default: the geldig-op date).
        #[arg(long)]
        in_werking_op: Option<String>,
        /// As known (available in regelbank) on this date (default today).
        #[arg(long)]
        beschikbaar_op: Option<String>,
        /// Every version: hits per article with the periods the matching text applied.
        #[arg(long, conflicts_with_all = ["geldig_op", "in_werking_op"])]
        historisch: bool,
        #[arg(long)]
        bevoegd_gezag: Option<String>,
        #[arg(long)]
        soort: Option<String>,
        /// Only this regeling (work id).
        #[arg(long)]
        work: Option<String>,
        #[arg(long, default_value_t = 1)]
        page: usize,
        #[arg(long, default_value_t = 10)]
        per_page: usize,
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the search index from the store.
    Reindex,
    /// The consolidated text of a regeling version (expression id), or of the version of a
    /// regeling (work id) that applies on a date as known on a date (default: today, as known
    /// today). For an onvolledig toestand it says so and names the candidate versions.
    Text {
        /// Expression id, or work id (then the dates pick the version).
        id: String,
        /// Valid on this date (YYYY-MM-DD; default today).
        #[arg(long)]
        geldig_op: Option<String>,
        /// In force on this date (default: the geldig-op date).
        #[arg(long)]
        in_werking_op: Option<String>,
        /// As known (available in regelbank) on this date (default today).
        #[arg(long)]
        beschikbaar_op: Option<String>,
        #[arg(long, value_enum, default_value = "xml")]
        format: TextFormat,
    },
    /// The toestanden of a regeling or informatieobject (work id): the timeline on the
    /// juridischWerkend axis with doelen, status and instrumentversie.
    Toestanden {
        work: String,
        /// As known (available in regelbank) on this date (default today).
        #[arg(long)]
        beschikbaar_op: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run every stop-conformance/1 scenario under DIR; PASS/FAIL per scenario, then
    /// `N passed, M failed`; exit status 1 if any failed.
    Conformance {
        dir: PathBuf,
        /// Also print level-2 differences (nogTeConsolideren, actueel).
        #[arg(long)]
        verbose: bool,
    },
    /// Compare two versions (expression ids) of one regeling: article-level and word-level
    /// changes, or the RegelingMutatie (with renvooi) that turns the first into the second.
    Diff {
        a: String,
        b: String,
        #[arg(long, value_enum, default_value = "html")]
        format: DiffFormat,
        /// `componentnaam` of the RegelingMutatie (--format stop).
        #[arg(long, default_value = "regeling")]
        componentnaam: String,
    },
    /// List the validation rules (code, ernst, soort, phase, Dutch message).
    Rules {
        /// Print docs/rules.md.
        #[arg(long, conflicts_with = "json")]
        markdown: bool,
        /// Print the catalogue as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write synthetic, valid STOP 1.4.1 deliveries.
    Generate {
        /// Output directory; one package per delivery is written into it.
        #[arg(long)]
        out: PathBuf,
        /// Number of deliveries.
        #[arg(long, default_value_t = 1)]
        count: usize,
        /// Regelingen per delivery.
        #[arg(long, default_value_t = 1)]
        regelingen: usize,
        /// Artikelen per regeling.
        #[arg(long, default_value_t = 20)]
        artikelen: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write zip files instead of directories.
        #[arg(long)]
        zip: bool,
        /// Without a GIO.
        #[arg(long)]
        no_gio: bool,
        #[arg(long, default_value = "gen")]
        prefix: String,
    },
    /// Ingest the bundled fixtures into the data directory (once), show what was stored, then
    /// serve the HTTP API (upload token `demo` unless --auth is given).
    Demo {
        /// Only ingest and show; do not serve.
        #[arg(long)]
        no_serve: bool,
        #[command(flatten)]
        serve: regelbank::server::ServeArgs,
    },
    /// Serve the HTTP API over the data directory (uploads, reports, regelingen, texts, diffs).
    Serve(regelbank::server::ServeArgs),
}

#[derive(Subcommand)]
enum Show {
    /// A delivery by ledger sequence number or idLevering.
    Levering { id: String },
    /// The current procedureverloop of a besluit (expression id), with the kennisgevingen
    /// that changed it.
    Procedure { besluit: String },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// One summary line per package plus its meldingen.
    Text,
    /// A JSON array with the result per package.
    Json,
    /// The LVBB response XML (validatieVerzoekResultaat, ...); one document per package,
    /// separated by an empty line.
    LvbbXml,
}

#[derive(Clone, Copy, ValueEnum)]
enum TextFormat {
    /// Clean STOP XML (no renvooi), exactly as stored.
    Xml,
    /// A standalone HTML page: anchors per eId, provenance per article.
    Html,
    /// A JSON tree (element, eId, wId, kop, tekst, kinderen; herkomst on units).
    Json,
    /// The character data only.
    Text,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    /// A standalone HTML page with <ins>/<del> per word, per changed unit.
    Html,
    /// The structured diff (units, kinds of change, word-level parts).
    Json,
    /// A STOP RegelingMutatie (was = A, wordt = B) with renvooi.
    Stop,
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    stop::opdracht::parse_date(s).ok_or_else(|| format!("'{s}' is not a date YYYY-MM-DD"))
}

fn main() -> ExitCode {
    allocator_returns_memory_soon();
    // Behave like a Unix tool when the reader of our output goes away (`regelbank … | head`).
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REGELBANK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("regelbank: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn open_store(dir: &Path) -> Result<Store> {
    Store::open(dir).with_context(|| format!("opening the data directory {}", dir.display()))
}

fn config(today: Option<NaiveDate>, schemas: Option<&Path>, auto_tam: &[String]) -> Result<Config> {
    let mut cfg = Config::new(today.unwrap_or_else(|| chrono::Local::now().date_naive()));
    cfg.auto_tam = auto_tam.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    Ok(match schemas {
        Some(dir) => {
            let sets = validator::xsd::SchemaSets::open(dir)
                .with_context(|| format!("opening the schema directory {}", dir.display()))?;
            cfg.met_schemas(std::sync::Arc::new(sets))
        }
        None => cfg,
    })
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Ingest { paths, json, tam } if tam.tam => {
            let store = open_store(&cli.data)?;
            tam_cmd::ingest(&store, &paths, tam, json)
        }
        Command::Tam(args) => tam_cmd::show(&cli.data, args),
        Command::Ingest { paths, json, .. } => {
            let store = open_store(&cli.data)?;
            let results = ingest_all(&store, &paths, &config(cli.today, cli.schemas.as_deref(), &cli.auto_tam)?, !json)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&results)?);
            }
            Ok(exit_for(&results))
        }
        Command::Toestanden { work, beschikbaar_op, json } => {
            let today = cli.today.unwrap_or_else(|| chrono::Local::now().date_naive()).format("%Y-%m-%d").to_string();
            if let Some(d) = &beschikbaar_op {
                parse_day(d).map_err(anyhow::Error::msg)?;
            }
            tijdreis_cmd::toestanden(&cli.data, &work, beschikbaar_op.as_deref().unwrap_or(&today), json)
        }
        Command::Conformance { dir, verbose } => tijdreis_cmd::conformance(&dir, verbose),
        Command::Text { id, geldig_op, in_werking_op, beschikbaar_op, format } => {
            let is_work = !id.rsplit('/').next().unwrap_or("").contains('@');
            let (store, expression) = if is_work || geldig_op.is_some() || in_werking_op.is_some() || beschikbaar_op.is_some() {
                let today = cli.today.unwrap_or_else(|| chrono::Local::now().date_naive()).format("%Y-%m-%d").to_string();
                for d in [&geldig_op, &in_werking_op, &beschikbaar_op].into_iter().flatten() {
                    parse_day(d).map_err(anyhow::Error::msg)?;
                }
                let geldig = geldig_op.unwrap_or_else(|| today.clone());
                let beschikbaar = beschikbaar_op.unwrap_or(today);
                let vraag = timetravel::Vraag {
                    in_werking_op: in_werking_op.unwrap_or_else(|| geldig.clone()),
                    geldig_op: geldig,
                    ontvangen_op: beschikbaar.clone(),
                    bekend_op: beschikbaar,
                };
                let work = if is_work { id.clone() } else { timetravel::uitwisseling::work_van(&id) };
                match tijdreis_cmd::los_op(&cli.data, &work, &vraag)? {
                    (store, Ok((a, v))) => {
                        eprintln!(
                            "regelbank: {v} (toestand from {}, doelen {}; as known on {})",
                            a.toestand.juridisch_werkend_vanaf,
                            a.toestand.inwerkingtredingsdoelen.join(", "),
                            a.bekend_op
                        );
                        (store, v)
                    }
                    (_, Err(melding)) => {
                        eprintln!("regelbank: {melding}");
                        return Ok(ExitCode::from(1));
                    }
                }
            } else {
                (Store::open_read_only(&cli.data).with_context(|| format!("opening {}", cli.data.display()))?, id)
            };
            let v = ingest::weergave::lees(&store, &expression)?;
            match format {
                TextFormat::Xml => print!("{}", v.xml),
                TextFormat::Html => print!("{}", ingest::weergave::html(&v.expressie, &v.tekst, v.herkomst.as_ref())),
                TextFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&ingest::weergave::json(&v.expressie, &v.tekst, v.herkomst.as_ref()))?)
                }
                TextFormat::Text => println!("{}", v.tekst.text()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff { a, b, format, componentnaam } => {
            let store = Store::open_read_only(&cli.data).with_context(|| format!("opening {}", cli.data.display()))?;
            let work = |x: &str| -> Result<String> {
                Ok(store.index().expression(x)?.with_context(|| format!("unknown expression {x}"))?.entry.work)
            };
            let (wa, wb) = (work(&a)?, work(&b)?);
            if wa != wb {
                bail!("{a} and {b} are versions of different works ({wa}, {wb}); diff compares two versions of one regeling");
            }
            let (va, vb) = (ingest::weergave::lees(&store, &a)?, ingest::weergave::lees(&store, &b)?);
            match format {
                DiffFormat::Html => print!("{}", stop::tekst::vergelijk(&va.tekst, &vb.tekst)?.html()),
                DiffFormat::Json => println!("{}", stop::tekst::vergelijk(&va.tekst, &vb.tekst)?.json()),
                DiffFormat::Stop => {
                    let m = stop::tekst::maak_mutatie(&va.tekst, &vb.tekst, &componentnaam, &a, &b)?;
                    if let stop::tekst::Route::VervangRegeling { reden } = &m.route {
                        eprintln!("regelbank: note: the mutation is one VervangRegeling: {reden}");
                    }
                    print!("{}", m.to_xml());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { markdown, json } => {
            let cat = validator::catalogus();
            if markdown {
                print!("{}", validator::rules_markdown());
            } else if json {
                let v: Vec<serde_json::Value> = cat
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "code": r.code, "ernst": r.ernst, "soort": r.soort,
                            "fase": r.fase.as_str(), "titel": r.titel, "sjabloon": r.sjabloon,
                            "herkomst": r.herkomst,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for r in &cat {
                    println!("{:<9} {:<12} {:<11} {:<8} {}", r.code, r.ernst.as_str(), r.soort.as_str(), r.fase.as_str(), r.titel);
                }
                println!("{} rules", cat.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { paths, format } => {
            // History (idLevering use, earlier versions) comes from the data directory when there
            // is one; read-only, so validation works while an ingest holds the store.
            let store = if cli.data.join("ledger").exists() {
                Some(Store::open_read_only(&cli.data).with_context(|| format!("opening {}", cli.data.display()))?)
            } else {
                None
            };
            let cfg = config(cli.today, cli.schemas.as_deref(), &cli.auto_tam)?;
            let mut results = Vec::new();
            for p in &paths {
                let r = ingest::validate(store.as_ref(), p, &cfg)?;
                if let Format::Text = format {
                    print_result(&r, true);
                }
                results.push(r);
            }
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&results)?),
                Format::LvbbXml => {
                    let tijdstip = validator::lvbb_xml::tijdstip(cfg.now);
                    for (i, r) in results.iter().enumerate() {
                        if i > 0 {
                            println!();
                        }
                        print!(
                            "{}",
                            validator::lvbb_xml::verzoek_resultaat(
                                r.opdracht,
                                r.id_levering.as_deref().unwrap_or(""),
                                &tijdstip,
                                r.uitkomst.as_str(),
                                &r.meldingen,
                            )
                        );
                    }
                }
                Format::Text => {}
            }
            Ok(exit_for(&results))
        }
        Command::Show { what: Show::Levering { id } } => {
            let store = open_store(&cli.data)?;
            show_levering(&store, &id)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { what: Show::Procedure { besluit } } => {
            let store = Store::open_read_only(&cli.data).with_context(|| format!("opening {}", cli.data.display()))?;
            let Some(e) = store.index().expression(&besluit)? else { bail!("unknown expression {besluit}") };
            let Some(h) = e.entry.procedure else { bail!("{besluit} has no procedureverloop") };
            let p: ingest::procedure::Procedure = serde_json::from_slice(&store.get_blob(&h)?)?;
            println!("procedureverloop van {}{}", p.besluit, p.bekend_op.as_deref().map(|d| format!(" (bekend op {d})")).unwrap_or_default());
            for s in &p.stappen {
                println!("  {}  {}", s.voltooid_op.as_deref().unwrap_or("          "), s.soort_stap);
            }
            for k in &p.gewijzigd_door {
                println!("  gewijzigd door {k}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Regelingen { all, json } => {
            let store = open_store(&cli.data)?;
            let works: Vec<_> = store
                .index()
                .works()?
                .into_iter()
                .filter(|w| all || w.entry.kind == "regeling")
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&works)?);
            } else {
                for w in &works {
                    println!(
                        "{}\t{}\t{}\t{} versie(s){}\t{}",
                        w.entry.work,
                        w.entry.kind,
                        w.entry.bevoegd_gezag.as_deref().unwrap_or("-"),
                        w.expressions.len(),
                        if w.afgebroken { " (afgebroken)" } else { "" },
                        w.entry.title.as_deref().unwrap_or("")
                    );
                }
                if works.is_empty() {
                    println!("(geen)");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { json } => {
            let store = open_store(&cli.data)?;
            let report = store.verify()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "verified {} ledger records, {} blobs ({} bytes), {} referenced hashes, {} orphans",
                    report.records, report.blobs, report.bytes, report.referenced, report.orphans
                );
                for p in &report.problems {
                    println!("  {:?}: {}", p.kind, p.message);
                }
                println!("{}", if report.is_clean() { "clean" } else { "PROBLEMS FOUND" });
            }
            Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Search { query, geldig_op, in_werking_op, beschikbaar_op, historisch, bevoegd_gezag, soort, work, page, per_page, json } => {
            let today = cli.today.unwrap_or_else(|| chrono::Local::now().date_naive()).format("%Y-%m-%d").to_string();
            let beschikbaar_op = beschikbaar_op.unwrap_or_else(|| today.clone());
            let tijd = if historisch {
                search::Tijdbereik::Historisch { beschikbaar_op }
            } else {
                let geldig_op = geldig_op.unwrap_or(today);
                let in_werking_op = in_werking_op.unwrap_or_else(|| geldig_op.clone());
                search::Tijdbereik::Op { geldig_op, in_werking_op, beschikbaar_op }
            };
            let mut vraag = search::Zoekvraag::nieuw(&query, tijd);
            vraag.bevoegd_gezag = bevoegd_gezag;
            vraag.soort = soort;
            vraag.werk = work;
            vraag.pagina = page;
            vraag.per_pagina = per_page;
            zoek_cmd::zoek(&cli.data, &vraag, json)
        }
        Command::Reindex => zoek_cmd::reindex(&cli.data),
        Command::Rebuild => {
            let store = open_store(&cli.data)?;
            let stats = store.rebuild()?;
            let uitwisselingen = ingest::tijdreis::herbouw(&store)?;
            let tam = ingest::tam::TamIndex::herbouw(&store)?;
            println!(
                "rebuilt indexes from {} ledger records: {} works, {} expressions; time-travel state from {uitwisselingen} exchanges; {tam} TAM documents",
                stats.records, stats.works, stats.expressions
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { out, count, regelingen, artikelen, seed, zip, no_gio, prefix } => {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let spec = fixtures::GenSpec {
                regelingen,
                artikelen,
                seed,
                id_prefix: prefix.clone(),
                with_gio: !no_gio,
                ..Default::default()
            };
            for i in 0..count {
                let files = fixtures::generate_delivery(&spec, i);
                let name = format!("{prefix}-{i:05}");
                if zip {
                    fixtures::write_zip(&files, &out.join(format!("{name}.zip")))?;
                } else {
                    fixtures::write_dir(&files, &out.join(&name))?;
                }
            }
            println!("wrote {count} deliveries to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            let store = open_store(&cli.data)?;
            let cfg = config(cli.today, cli.schemas.as_deref(), &cli.auto_tam)?;
            regelbank::server::serve(store, cfg, cli.today.is_some(), args, |a| println!("regelbank: listening on http://{a}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { no_serve, serve } => {
            let store = open_store(&cli.data)?;
            let today = cli.today.unwrap_or_else(|| parse_day(DEMO_TODAY).expect("constant date"));
            let deliveries = fixtures::bundled_deliveries();
            if let Some(missing) = deliveries.iter().find(|p| !p.is_dir()) {
                bail!("bundled fixture {} not found (set REGELBANK_FIXTURES)", missing.display());
            }
            println!("regelbank demo: data directory {}, today {today}", cli.data.display());
            let results = ingest_all(&store, &deliveries, &config(Some(today), cli.schemas.as_deref(), &cli.auto_tam)?, true)?;
            println!();
            println!("Stored works:");
            for w in store.index().works()? {
                println!(
                    "  {:<16} {}{}  {}",
                    w.entry.kind,
                    w.entry.work,
                    if w.afgebroken { " (afgebroken)" } else { "" },
                    w.entry.title.as_deref().unwrap_or("")
                );
                for e in &w.expressions {
                    println!("                   └ {e}");
                }
            }
            let v = store.verify()?;
            println!();
            println!("verify: {}", if v.is_clean() { "clean" } else { "PROBLEMS (run regelbank verify)" });
            println!("Try: regelbank --data {} regelingen", cli.data.display());
            if no_serve {
                return Ok(exit_for(&results));
            }
            regelbank::server::serve_demo(store, config(Some(today), cli.schemas.as_deref(), &cli.auto_tam)?, serve)?;
            Ok(exit_for(&results))
        }
    }
}

fn ingest_all(store: &Store, paths: &[PathBuf], cfg: &Config, print: bool) -> Result<Vec<IngestResult>> {
    let bar = if paths.len() > 1 && std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(paths.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} [{elapsed_precise}, eta {eta}]")
                .expect("valid template"),
        );
        Some(b)
    } else {
        None
    };
    let results = ingest::pipeline::ingest_many(store, paths, cfg, |r| {
        if print {
            match &bar {
                Some(b) => b.suspend(|| print_result(r, false)),
                None => print_result(r, false),
            }
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    })
    .context("ingesting")?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(results)
}

fn exit_for(results: &[IngestResult]) -> ExitCode {
    if results.iter().all(|r| r.uitkomst.accepted()) { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// One summary line per package; with `detail`, every melding below it.
fn print_result(r: &IngestResult, detail: bool) {
    let (fouten, overig) = ingest::pipeline::tel(&r.meldingen);
    println!(
        "{}: {} {} {}{}{} ({} fout, {} overig)",
        r.bron,
        r.opdracht.map(|o| o.element()).unwrap_or("-"),
        r.id_levering.as_deref().unwrap_or("-"),
        r.uitkomst.as_str(),
        r.seq.map(|s| format!(" #{s}")).unwrap_or_default(),
        if r.herhaald { " (al eerder ontvangen)" } else { "" },
        fouten,
        overig
    );
    let shown = if detail { r.meldingen.len() } else { r.meldingen.iter().filter(|m| m.is_fout()).count().min(10) };
    for m in r.meldingen.iter().filter(|m| detail || m.is_fout()).take(shown) {
        println!("  {m}");
    }
}

fn show_levering(store: &Store, id: &str) -> Result<()> {
    let seq = match id.parse::<u64>() {
        Ok(s) => Some(s),
        Err(_) => store.records()?.into_iter().find(|r| r.rec.id_levering == id).map(|r| r.seq),
    };
    let Some(rec) = seq.map(|s| store.record(s)).transpose()?.flatten() else {
        bail!("no delivery '{id}' in {}", store.dir().display());
    };
    let report: Option<serde_json::Value> = match rec.rec.report {
        Some(h) => Some(serde_json::from_slice(&store.get_blob(&h)?)?),
        None => None,
    };
    let out = serde_json::json!({ "levering": rec, "verslag": report });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
