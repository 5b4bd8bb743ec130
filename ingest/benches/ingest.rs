//! Ingest throughput benchmark (issue 2, item 8). Run with
//! `cargo bench -p ingest --bench ingest` or `scripts/bench-ingest.sh`; results go into
//! docs/benchmarks.md.
//!
//! Workloads (generated into a temp dir on the same disk as the store):
//! * `big`: one delivery whose besluit is ~50 MB (plus a GIO), as a directory and as a zip;
//! * `small`: 1,000 small deliveries (1 regeling × 10 artikelen + GIO), directories and zips.
//!
//! Per workload (median of `BENCH_REPS` repetitions, MB/s over the package's uncompressed bytes):
//! * `floor (mem)`: the files' bytes already in memory; every `.xml`/`.gml` parsed with
//!   `quick_xml::reader::NsReader` (`read_resolved_event` to Eof, no tree) and every file hashed
//!   with SHA-256;
//! * `floor (cache)`: the same, reading each file with `fs::read` first (page cache is warm);
//!   for a zip, the entries are inflated with the `zip` crate (what ingest has to do too);
//! * `validate`: `ingest::validate(None, ..)`: package reading, hashing, tree parsing, STOP
//!   modules and checks, no store;
//! * `ingest disk`: `ingest::pipeline::ingest_many` (what the CLI runs) into a fresh store per
//!   repetition on the disk (per group commit: one filesystem sync of the staged data, the
//!   intent, one sync after the renames, the ledger fsync, the index runs), search index included;
//! * `ingest shm`: the same with the store on tmpfs (`/dev/shm`), where fsync costs nothing:
//!   `disk − shm` is the price of durability;
//! * `… 1 thread`: `Config::parallel = false` (the search index in line after each group
//!   commit instead of on its own thread; tantivy's indexing thread remains);
//! * `… -search`: `Config::search_index = false` (the search index is not brought up to date;
//!   it would catch up on the next search): what indexing costs.
//!
//! Then peak memory: the release `regelbank` binary ingests the big package as a child process
//! (under GNU time, else by polling `VmHWM`) and its peak RSS is compared with 3 × the largest
//! file.
//!
//! `-rules` modes run the same without the validator's rules (`Config::regels = false`): the
//! difference is what the rules cost (issue 3: at most +30 % on ingest time). The `errors`
//! workload times the report of a package with 10,000 defects (20,000+ meldingen).
//!
//! Environment: `BENCH_REPS` (default 5 for big, 3 for small), `BENCH_SMALL` (number of small
//! deliveries, default 1000), `BENCH_ARTIKELEN` (big besluit, default 38500), `BENCH_ONLY`
//! (`big`, `small` or `errors`), `REGELBANK_BIN` (path of the binary for the memory test).

use chrono::NaiveDate;
use fixtures::{GenSpec, generate_delivery, write_dir, write_zip};
use quick_xml::events::Event;
use quick_xml::reader::NsReader;
use sha2::{Digest, Sha256};
use std::fs;
use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MB: f64 = 1_000_000.0;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn cfg() -> ingest::Config {
    ingest::Config::new(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap())
}

/// The same pipeline without the validator's rules (facts are still extracted): what the rules
/// cost is the difference.
fn cfg_no_rules() -> ingest::Config {
    ingest::Config { regels: false, ..cfg() }
}

/// The same pipeline without bringing the search index up to date (it would catch up on the
/// next search): what indexing costs is the difference.
fn cfg_no_search() -> ingest::Config {
    ingest::Config { search_index: false, ..cfg() }
}

/// The same pipeline on one thread (the search index in line after each group commit; tantivy's
/// own indexing thread remains).
fn cfg_one_thread() -> ingest::Config {
    ingest::Config { parallel: false, ..cfg() }
}

fn is_xml(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.ends_with(".xml") || l.ends_with(".gml")
}

/// Parse with quick-xml, as configured in stop::xml, without building anything.
fn parse_floor(bytes: &[u8]) -> u64 {
    let mut r = NsReader::from_reader(bytes);
    {
        let c = r.config_mut();
        c.check_end_names = true;
        c.check_comments = true;
        c.expand_empty_elements = false;
        c.trim_text(false);
    }
    let mut n = 0u64;
    loop {
        match r.read_resolved_event() {
            Ok((_, Event::Eof)) => break,
            Ok((_, e)) => {
                black_box(&e);
                n += 1;
            }
            Err(e) => panic!("floor parse failed: {e}"),
        }
    }
    n
}

fn floor_file(name: &str, bytes: &[u8]) {
    if is_xml(name) {
        black_box(parse_floor(bytes));
    }
    black_box(Sha256::digest(bytes));
}

/// One package as (name, bytes) pairs, uncompressed.
fn load_package(p: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if p.is_dir() {
        let mut names: Vec<_> = fs::read_dir(p).unwrap().map(|e| e.unwrap().path()).collect();
        names.sort();
        for f in names {
            out.push((f.file_name().unwrap().to_string_lossy().into_owned(), fs::read(&f).unwrap()));
        }
    } else {
        let mut z = zip::ZipArchive::new(fs::File::open(p).unwrap()).unwrap();
        for i in 0..z.len() {
            let mut e = z.by_index(i).unwrap();
            let mut b = Vec::with_capacity(e.size() as usize);
            e.read_to_end(&mut b).unwrap();
            out.push((e.name().unwrap().to_string(), b));
        }
    }
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Workload {
    name: String,
    packages: Vec<PathBuf>,
    /// Uncompressed bytes of all packages.
    bytes: u64,
    /// On-disk bytes (zip size for zips).
    disk_bytes: u64,
    reps: usize,
}

struct Row {
    workload: String,
    mode: &'static str,
    median: Duration,
    min: Duration,
    mbps: f64,
}

fn time_reps(reps: usize, mut f: impl FnMut(usize) -> Duration) -> (Duration, Duration) {
    let v: Vec<Duration> = (0..reps).map(&mut f).collect();
    let min = *v.iter().min().unwrap();
    (median(v), min)
}

fn run_ingest(w: &Workload, store_root: &Path, rep: usize, tag: &str, c: &ingest::Config) -> Duration {
    let dir = store_root.join(format!("{}-{tag}-{rep}", w.name));
    let _ = fs::remove_dir_all(&dir);
    let store = store::Store::open(&dir).expect("open store");
    let c = c.clone();
    let t = Instant::now();
    // As `regelbank ingest a b c ...` does: in order, committed in groups.
    let results = ingest::pipeline::ingest_many(&store, &w.packages, &c, |_| {}).expect("ingest");
    for (p, r) in w.packages.iter().zip(&results) {
        assert!(
            r.uitkomst == ingest::Uitkomst::Gepubliceerd,
            "{}: {:?} {:?}",
            p.display(),
            r.uitkomst,
            r.meldingen
        );
    }
    let d = t.elapsed();
    drop(store);
    let _ = fs::remove_dir_all(&dir);
    d
}

fn bench(w: &Workload, disk_root: &Path, shm_root: Option<&Path>, rows: &mut Vec<Row>) {
    eprintln!("== {} ({} packages, {:.1} MB uncompressed, {:.1} MB on disk, {} reps)",
        w.name, w.packages.len(), w.bytes as f64 / MB, w.disk_bytes as f64 / MB, w.reps);
    let mut push = |mode: &'static str, (median, min): (Duration, Duration)| {
        let mbps = w.bytes as f64 / MB / median.as_secs_f64();
        eprintln!("   {mode:<14} median {:>9.3} s  min {:>9.3} s  {:>7.1} MB/s", median.as_secs_f64(), min.as_secs_f64(), mbps);
        rows.push(Row { workload: w.name.clone(), mode, median, min, mbps });
    };

    // Floor, bytes already in memory.
    let loaded: Vec<Vec<(String, Vec<u8>)>> = w.packages.iter().map(|p| load_package(p)).collect();
    push("floor (mem)", time_reps(w.reps, |_| {
        let t = Instant::now();
        for pkg in &loaded {
            for (n, b) in pkg {
                floor_file(n, b);
            }
        }
        t.elapsed()
    }));
    drop(loaded);

    // Floor, reading (and inflating) from the page cache.
    push("floor (cache)", time_reps(w.reps, |_| {
        let t = Instant::now();
        for p in &w.packages {
            for (n, b) in load_package(p) {
                floor_file(&n, &b);
            }
        }
        t.elapsed()
    }));

    // Everything but the store.
    push("validate", time_reps(w.reps, |_| {
        let c = cfg();
        let t = Instant::now();
        for p in &w.packages {
            let r = ingest::validate(None, p, &c).expect("validate");
            assert!(r.uitkomst.accepted(), "{}: {:?}", p.display(), r.meldingen);
        }
        t.elapsed()
    }));

    // The same without the validator's rules.
    push("validate -rules", time_reps(w.reps, |_| {
        let c = cfg_no_rules();
        let t = Instant::now();
        for p in &w.packages {
            let r = ingest::validate(None, p, &c).expect("validate");
            assert!(r.uitkomst.accepted(), "{}: {:?}", p.display(), r.meldingen);
        }
        t.elapsed()
    }));

    push("ingest disk", time_reps(w.reps, |rep| run_ingest(w, disk_root, rep, "disk", &cfg())));
    push("ingest disk 1 thread", time_reps(w.reps, |rep| run_ingest(w, disk_root, rep, "disk-1t", &cfg_one_thread())));
    push("ingest disk -search", time_reps(w.reps, |rep| run_ingest(w, disk_root, rep, "disk-ns", &cfg_no_search())));
    push("ingest disk -rules", time_reps(w.reps, |rep| run_ingest(w, disk_root, rep, "disk-nr", &cfg_no_rules())));
    if let Some(shm) = shm_root {
        push("ingest shm", time_reps(w.reps, |rep| run_ingest(w, shm, rep, "shm", &cfg())));
        push("ingest shm 1 thread", time_reps(w.reps, |rep| run_ingest(w, shm, rep, "shm-1t", &cfg_one_thread())));
        push("ingest shm -search", time_reps(w.reps, |rep| run_ingest(w, shm, rep, "shm-ns", &cfg_no_search())));
        push("ingest shm -rules", time_reps(w.reps, |rep| run_ingest(w, shm, rep, "shm-nr", &cfg_no_rules())));
    }
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

/// Run `bin` and return (wall time, peak RSS in bytes, how it was measured, exit ok).
///
/// Not `wait4` on a direct child: Linux carries the RSS high-water mark of the forked copy of
/// *this* (large) process into the child's `ru_maxrss`. GNU time forks from a small process, so
/// its `%M` is the binary's own peak; without it, `VmHWM` of the child is polled every 2 ms.
fn child_peak_rss(bin: &Path, args: &[&std::ffi::OsStr]) -> (Duration, u64, &'static str, bool) {
    use std::process::{Command, Stdio};
    let t = Instant::now();
    let gnu_time = Path::new("/usr/bin/time");
    if gnu_time.is_file() {
        let out = std::env::temp_dir().join(format!("regelbank-bench-rss-{}", std::process::id()));
        let st = Command::new(gnu_time)
            .arg("-f").arg("%M").arg("-o").arg(&out).arg(bin).args(args)
            .stdout(Stdio::null())
            .status()
            .expect("run /usr/bin/time");
        let kib: u64 = fs::read_to_string(&out).ok()
            .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()))
            .unwrap_or(0);
        let _ = fs::remove_file(&out);
        return (t.elapsed(), kib * 1024, "GNU time %M", st.success());
    }
    let mut child = Command::new(bin).args(args).stdout(Stdio::null()).spawn().expect("spawn regelbank");
    let status_path = format!("/proc/{}/status", child.id());
    let mut hwm_kib = 0u64;
    let st = loop {
        if let Ok(s) = fs::read_to_string(&status_path)
            && let Some(v) = s.lines().find_map(|l| l.strip_prefix("VmHWM:"))
        {
            hwm_kib = hwm_kib.max(v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0));
        }
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    (t.elapsed(), hwm_kib * 1024, "VmHWM polled (lower bound)", st.success())
}

/// Fixture 01 with `n` Tijdstempels whose eId does not exist and whose doel has no versions:
/// at least 2 × `n` meldingen (BHKV1010, LVBB7003).
fn write_many_errors(dir: &Path, n: usize) {
    let src = fixtures::fixtures_dir().join("deliveries/01-initieel-compact-gio");
    fs::create_dir_all(dir).unwrap();
    for e in fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    let p = dir.join("besluit.xml");
    let text = fs::read_to_string(&p).unwrap();
    let mut extra = String::new();
    for i in 0..n {
        extra.push_str(&format!(
            "<Tijdstempel><doel>/join/id/proces/gm9901/2027/Fout{i}</doel><soortTijdstempel>juridischWerkendVanaf</soortTijdstempel><datum>2027-04-01</datum><eId>art_fout_{i}</eId></Tijdstempel>\n"
        ));
    }
    fs::write(&p, text.replacen("</Tijdstempels>", &format!("{extra}</Tijdstempels>"), 1)).unwrap();
}

fn dir_size(p: &Path) -> u64 {
    if p.is_dir() {
        fs::read_dir(p).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum()
    } else {
        fs::metadata(p).unwrap().len()
    }
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let artikelen = env_usize("BENCH_ARTIKELEN", 38_500);
    let n_small = env_usize("BENCH_SMALL", 1000);
    eprintln!("ingest benchmark: nproc {}, loadavg {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), loadavg());

    // Same file system as the target dir (the disk), not tmpfs.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let base = tempfile::Builder::new().prefix("bench-ingest-").tempdir_in(&target).expect("tempdir");
    let disk_root = base.path().join("stores");
    fs::create_dir_all(&disk_root).unwrap();
    let shm = tempfile::Builder::new().prefix("regelbank-bench-").tempdir_in("/dev/shm").ok();
    let shm_root = shm.as_ref().map(|d| d.path().to_path_buf());
    eprintln!("packages and disk stores under {}; tmpfs stores under {}", base.path().display(),
        shm_root.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "(no /dev/shm)".into()));

    let mut rows = Vec::new();
    let mut largest: Option<(String, u64, PathBuf, PathBuf)> = None;

    if only.is_empty() || only == "big" {
        let spec = GenSpec { regelingen: 1, artikelen, with_gio: true, id_prefix: "bench-big".into(), ..Default::default() };
        let t = Instant::now();
        let files = generate_delivery(&spec, 0);
        let gen_time = t.elapsed();
        let total: u64 = files.iter().map(|f| f.bytes.len() as u64).sum();
        let big = files.iter().max_by_key(|f| f.bytes.len()).unwrap();
        eprintln!("generated big delivery in {:.1} s: {} files, {:.2} MB; largest {} = {} bytes ({:.2} MB)",
            gen_time.as_secs_f64(), files.len(), total as f64 / MB, big.name, big.bytes.len(), big.bytes.len() as f64 / MB);
        for f in &files {
            eprintln!("   {:<22} {:>12} bytes", f.name, f.bytes.len());
        }
        let dir = base.path().join("big/dir");
        let zip = base.path().join("big/big.zip");
        write_dir(&files, &dir).unwrap();
        write_zip(&files, &zip).unwrap();
        largest = Some((big.name.clone(), big.bytes.len() as u64, dir.clone(), zip.clone()));
        let reps = env_usize("BENCH_REPS", 5);
        drop(files);
        for (name, p) in [("big/dir", dir), ("big/zip", zip)] {
            let w = Workload { name: name.into(), disk_bytes: dir_size(&p), packages: vec![p], bytes: total, reps };
            bench(&w, &disk_root, shm_root.as_deref(), &mut rows);
        }
    }

    if only.is_empty() || only == "small" {
        let spec = GenSpec { regelingen: 1, artikelen: 10, with_gio: true, id_prefix: "bench-small".into(), ..Default::default() };
        let t = Instant::now();
        let mut dirs = Vec::new();
        let mut zips = Vec::new();
        let mut total = 0u64;
        let mut max_file = 0usize;
        for i in 0..n_small {
            let files = generate_delivery(&spec, i);
            total += files.iter().map(|f| f.bytes.len() as u64).sum::<u64>();
            max_file = max_file.max(files.iter().map(|f| f.bytes.len()).max().unwrap());
            let d = base.path().join(format!("small/dir/{i:04}"));
            let z = base.path().join(format!("small/zip/{i:04}.zip"));
            write_dir(&files, &d).unwrap();
            write_zip(&files, &z).unwrap();
            dirs.push(d);
            zips.push(z);
        }
        eprintln!("generated {n_small} small deliveries in {:.1} s: {:.2} MB total, {:.1} KB per delivery, largest file {} bytes",
            t.elapsed().as_secs_f64(), total as f64 / MB, total as f64 / n_small as f64 / 1000.0, max_file);
        let reps = env_usize("BENCH_REPS", 3);
        for (name, ps) in [("small/dir", dirs), ("small/zip", zips)] {
            let disk_bytes = ps.iter().map(|p| dir_size(p)).sum();
            let w = Workload { name: name.into(), packages: ps, bytes: total, disk_bytes, reps };
            bench(&w, &disk_root, shm_root.as_deref(), &mut rows);
        }
    }

    // A package with 10,000+ errors must still be reported in seconds (issue 3, item 6).
    let mut many_errors = None;
    if only.is_empty() || only == "errors" {
        let dir = base.path().join("errors/pkg");
        write_many_errors(&dir, 10_000);
        let reps = env_usize("BENCH_REPS", 5);
        let mut n = 0;
        let (med, min) = time_reps(reps, |_| {
            let t = Instant::now();
            let r = ingest::validate(None, &dir, &cfg()).expect("validate");
            let d = t.elapsed();
            n = r.meldingen.len();
            d
        });
        eprintln!("== errors: {n} meldingen, median {:.3} s, min {:.3} s", med.as_secs_f64(), min.as_secs_f64());
        many_errors = Some((n, med.as_secs_f64()));
    }

    // The table.
    println!();
    println!("loadavg at end: {}", loadavg());
    println!();
    println!("| workload | mode | median s | min s | MB/s | vs floor (cache) |");
    println!("|---|---|---:|---:|---:|---:|");
    for r in &rows {
        let floor = rows.iter().find(|f| f.workload == r.workload && f.mode == "floor (cache)").unwrap();
        println!("| {} | {} | {:.3} | {:.3} | {:.1} | {:.1} % |", r.workload, r.mode,
            r.median.as_secs_f64(), r.min.as_secs_f64(), r.mbps, 100.0 * r.mbps / floor.mbps);
    }
    println!();
    let workloads: Vec<String> = {
        let mut v: Vec<String> = rows.iter().map(|r| r.workload.clone()).collect();
        v.dedup();
        v
    };
    for wl in &workloads {
        let get = |m: &str| rows.iter().find(|r| &r.workload == wl && r.mode == m).map(|r| r.median.as_secs_f64());
        let (fm, fc, va, di) = (get("floor (mem)").unwrap(), get("floor (cache)").unwrap(), get("validate").unwrap(), get("ingest disk").unwrap());
        let target = if fc / di >= 0.5 { "MET" } else { "MISSED" };
        print!("{wl}: ingest/floor(cache) = {:.1} % ({target} ≥ 50 %), ingest/floor(mem) = {:.1} %; validate = {:.0} % of ingest time",
            100.0 * fc / di, 100.0 * fm / di, 100.0 * va / di);
        if let Some(sh) = get("ingest shm") {
            print!("; fsync/disk share ≈ {:.0} % (disk {:.3} s vs tmpfs {:.3} s)", 100.0 * (di - sh).max(0.0) / di, di, sh);
        }
        println!();
        for m in ["ingest disk 1 thread", "ingest disk -search", "ingest shm", "ingest shm 1 thread", "ingest shm -search"] {
            if let Some(t) = get(m) {
                println!("{wl}: {m} = {:.1} % of floor(cache) ({:.3} s)", 100.0 * fc / t, t);
            }
        }
        // Issue 3, item 6: the rules add at most 30 % to ingest time.
        for (with, without) in [("ingest disk", "ingest disk -rules"), ("ingest shm", "ingest shm -rules"), ("validate", "validate -rules")] {
            if let (Some(a), Some(b)) = (get(with), get(without)) {
                let extra = 100.0 * (a - b) / b;
                println!("{wl}: rules add {extra:+.0} % to {with} ({a:.3} s vs {b:.3} s without rules) ({} ≤ 30 %)",
                    if extra <= 30.0 { "MET" } else { "MISSED" });
            }
        }
    }
    if let Some((n, secs)) = many_errors {
        println!("\nmany-errors package: {n} meldingen reported in {secs:.3} s (median; validate with history-free rules)");
    }

    // Peak memory of the real binary.
    if let Some((name, size, dir, zip)) = largest {
        let bin = std::env::var_os("REGELBANK_BIN").map(PathBuf::from).unwrap_or_else(|| target.join("release/regelbank"));
        if !bin.is_file() {
            println!("\npeak memory: {} not found (run `cargo build --release -p regelbank` first)", bin.display());
        } else {
            println!("\npeak memory ({}; limit 3 × largest file {name} = 3 × {:.2} MB = {:.2} MB):",
                bin.display(), size as f64 / MB, 3.0 * size as f64 / MB);
            for (what, p) in [("big/dir", dir.clone()), ("big/zip", zip)] {
                for (loc, root) in [("disk", Some(disk_root.clone())), ("shm", shm_root.clone())] {
                    let Some(root) = root else { continue };
                    let data = root.join(format!("rss-{}", what.replace('/', "-")));
                    let _ = fs::remove_dir_all(&data);
                    let args: Vec<&std::ffi::OsStr> = vec![
                        "--data".as_ref(), data.as_os_str(), "--today".as_ref(), "2027-03-01".as_ref(),
                        "ingest".as_ref(), p.as_os_str(),
                    ];
                    let (wall, rss, how, ok) = child_peak_rss(&bin, &args);
                    println!("   regelbank ingest {what} (store on {loc}): exit {}, wall {:.3} s, peak RSS {:.1} MB ({how}) = {:.2} × largest file ({})",
                        if ok { "ok" } else { "FAILED" }, wall.as_secs_f64(), rss as f64 / MB, rss as f64 / size as f64,
                        if (rss as f64) <= 3.0 * size as f64 { "MET ≤ 3×" } else { "MISSED > 3×" });
                    let _ = fs::remove_dir_all(&data);
                }
            }
            // Without a store (parse and checks only), to separate the store's share.
            let args: Vec<&std::ffi::OsStr> = vec!["--today".as_ref(), "2027-03-01".as_ref(), "validate".as_ref(), dir.as_os_str()];
            let (wall, rss, how, ok) = child_peak_rss(&bin, &args);
            println!("   regelbank validate big/dir (no store): exit {}, wall {:.3} s, peak RSS {:.1} MB ({how}) = {:.2} × largest file",
                if ok { "ok" } else { "FAILED" }, wall.as_secs_f64(), rss as f64 / MB, rss as f64 / size as f64);
        }
    }
}
