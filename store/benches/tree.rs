//! Structural sharing benchmark (issue 4, item 5).
//!
//! Builds a regeling of 10,000 artikelen (leaves of 1–2 KB of XML-like text) under 100
//! hoofdstukken (two levels), then commits 1,000 successive versions that each change one
//! artikel, and reports:
//!
//! * store growth per version against the bytes of the changed artikel (target ≤ 3× + a small
//!   constant); growth = blob files + ledger, the source of truth; the derived node index is
//!   reported apart;
//! * time per amendment, `put_tree` + commit (target ≤ 5 ms), with one version per commit and
//!   with several versions per group commit (`commit_many`);
//! * time to read a whole 10,000-artikel version back with `read_tree` (target ≤ 50 ms): the
//!   version after the last amendment (its objects are spread over ~960 packs) and version 1
//!   (one pack), from a freshly opened store (the OS page cache is warm: the files were just
//!   written); the first call, the median of `BENCH_READS` calls, and `read_tree_into` with a
//!   reused buffer (no fresh output memory to fault in). Also `get_node` of the root and one
//!   hoofdstuk (what a caller without the tree in memory reads to build the next version),
//!   `node_hashes`, `rebuild` and `verify` of the whole store.
//!
//! Each mode runs on the disk (under `target/`) and, if present, on tmpfs (`/dev/shm`), where
//! syncing costs nothing. Settings (environment): `BENCH_LEAVES` (10000), `BENCH_GROUPS` (100),
//! `BENCH_VERSIONS` (1000), `BENCH_GROUPING` (comma-separated versions per commit, default
//! "1,10"), `BENCH_READS` (15), `BENCH_ONLY=disk|shm`.
//!
//! Run: `cargo bench -p store --bench tree`

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use store::{ExpressionEntry, Hash, NewRecord, Node, Store, Stuk};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// xorshift64*: deterministic text without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "het",
    "college",
    "van",
    "burgemeester",
    "en",
    "wethouders",
    "kan",
    "een",
    "omgevingsvergunning",
    "verlenen",
    "voor",
    "bouwen",
    "in",
    "afwijking",
    "bestemmingsplan",
    "gebied",
    "activiteit",
    "artikel",
    "lid",
    "bedoeld",
    "gemeente",
    "regels",
    "beperkingengebied",
    "geluid",
    "bodem",
    "water",
    "natuur",
    "milieu",
    "bouwwerk",
    "hoogte",
    "meter",
    "niet",
    "meer",
    "dan",
    "ten",
    "minste",
    "aanvraag",
    "melding",
    "gegevens",
    "verstrekt",
];

/// An artikel of 1,000–2,000 bytes.
fn artikel(rng: &mut Rng, nr: usize, version: usize) -> Vec<u8> {
    let target = 1000 + rng.below(1001) as usize;
    let mut s = format!(
        "<Artikel eId=\"art_{nr}\" wId=\"gm9999_1__art_{nr}\"><Kop><Label>Artikel</Label><Nummer>{nr}</Nummer>\
         <Opschrift>versie {version}</Opschrift></Kop><Lid eId=\"art_{nr}__para_1\"><LidNummer>1</LidNummer><Inhoud><Al>"
    );
    let close = "</Al></Inhoud></Lid></Artikel>";
    while s.len() + close.len() < target {
        let w = WORDS[rng.below(WORDS.len() as u64) as usize];
        if s.len() + close.len() + w.len() + 1 > target {
            break;
        }
        s.push_str(w);
        s.push(' ');
    }
    while s.len() + close.len() < target {
        s.push('.');
    }
    s.push_str(close);
    s.into_bytes()
}

/// The caller's view of a version: leaves, hoofdstukken and the root, as nodes.
struct Doc {
    leaves: Vec<Vec<Node>>,
    groups: Vec<Node>,
    root: Node,
}

impl Doc {
    fn build(rng: &mut Rng, groups: usize, leaves: usize) -> Doc {
        let per = leaves / groups;
        let leaves: Vec<Vec<Node>> =
            (0..groups).map(|g| (0..per).map(|l| Node::leaf(artikel(rng, g * per + l, 0))).collect()).collect();
        let groups_n: Vec<Node> = leaves.iter().enumerate().map(|(g, ls)| Doc::group(g, ls)).collect();
        let root = Doc::root(&groups_n);
        Doc { leaves, groups: groups_n, root }
    }

    fn group(g: usize, leaves: &[Node]) -> Node {
        let mut st = vec![Stuk::Bytes(
            format!("<Hoofdstuk eId=\"chp_{g}\" wId=\"gm9999_1__chp_{g}\"><Kop><Label>Hoofdstuk</Label><Nummer>{g}</Nummer></Kop>\n")
                .into_bytes(),
        )];
        for l in leaves {
            st.push(Stuk::Kind(l.hash()));
            st.push(Stuk::Bytes(b"\n".to_vec()));
        }
        st.push(Stuk::Bytes(b"</Hoofdstuk>\n".to_vec()));
        Node::new(st)
    }

    fn root(groups: &[Node]) -> Node {
        let mut st = vec![Stuk::Bytes(
            b"<RegelingCompact xmlns=\"https://standaarden.overheid.nl/stop/imop/tekst/\" schemaversie=\"1.4.0\">\
              <RegelingOpschrift><Al>Omgevingsplan gemeente Voorbeeld</Al></RegelingOpschrift><Lichaam>\n"
                .to_vec(),
        )];
        for g in groups {
            st.push(Stuk::Kind(g.hash()));
        }
        st.push(Stuk::Bytes(b"</Lichaam></RegelingCompact>\n".to_vec()));
        Node::new(st)
    }

    fn all_nodes(&self) -> Vec<Node> {
        let mut out = Vec::new();
        for (g, ls) in self.leaves.iter().enumerate() {
            out.extend(ls.iter().cloned());
            out.push(self.groups[g].clone());
        }
        out.push(self.root.clone());
        out
    }

    /// Replace leaf (g, l): the new leaf, its hoofdstuk and the root are the nodes to store.
    /// The caller keeps the nodes in memory, so unchanged subtrees are referred to by hash and
    /// never re-read.
    fn amend(&mut self, g: usize, l: usize, bytes: Vec<u8>) -> Vec<Node> {
        let leaf = Node::leaf(bytes);
        let old = self.leaves[g][l].hash();
        let new = leaf.hash();
        self.leaves[g][l] = leaf.clone();
        for s in &mut self.groups[g].stukken {
            if *s == Stuk::Kind(old) {
                *s = Stuk::Kind(new);
                break;
            }
        }
        let gh = self.groups[g].hash();
        // the root's g-th child
        let mut k = 0;
        for s in &mut self.root.stukken {
            if let Stuk::Kind(h) = s {
                if k == g {
                    *h = gh;
                    break;
                }
                k += 1;
            }
        }
        vec![leaf, self.groups[g].clone(), self.root.clone()]
    }

    fn text(&self) -> Vec<u8> {
        fn emit(n: &Node, out: &mut Vec<u8>, child: &mut dyn FnMut(usize, &mut Vec<u8>)) {
            let mut k = 0;
            for s in &n.stukken {
                match s {
                    Stuk::Bytes(b) => out.extend_from_slice(b),
                    Stuk::Kind(_) => {
                        child(k, out);
                        k += 1;
                    }
                }
            }
        }
        let mut out = Vec::new();
        emit(&self.root, &mut out, &mut |g, out| {
            emit(&self.groups[g], out, &mut |l, out| emit(&self.leaves[g][l], out, &mut |_, _| {}))
        });
        out
    }
}

/// The record of one version: the pack is the package (a real delivery would add its files)
/// and the derived blob; the expression names its text root (built from JSON so that the bench
/// does not depend on which optional fields `ExpressionEntry` has).
fn record(id: &str, pack: Hash, root: Hash, version: usize) -> NewRecord {
    let work = "/akn/nl/act/gm9999/2024/omgevingsplan";
    let expr: ExpressionEntry = serde_json::from_value(serde_json::json!({
        "expression": format!("{work}/nld@2027-01-01;{version}"),
        "work": work,
        "kind": "regeling",
        "datum_bekendmaking": "2027-01-01",
        "tekst": root,
    }))
    .expect("expression entry");
    NewRecord {
        received_at: "2027-01-01T00:00:00Z".into(),
        aanleveraar: "00000001001589623000".into(),
        bevoegd_gezag: "00000001001589623000".into(),
        id_levering: id.into(),
        opdracht: "publicatieOpdracht".into(),
        package_hash: pack,
        files: vec![],
        outcome: "gepubliceerd".into(),
        report: None,
        derived: vec![pack],
        effects: store::Effects { expressions: vec![expr], ..Default::default() },
    }
}

/// (logical bytes, allocated bytes) of the files under `p`.
fn size_of(p: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut n = (0, 0);
    let Ok(rd) = fs::read_dir(p) else { return n };
    for e in rd.flatten() {
        let path = e.path();
        let Ok(m) = fs::symlink_metadata(&path) else { continue };
        if m.is_dir() {
            let (a, b) = size_of(&path);
            n.0 += a;
            n.1 += b;
        } else {
            n.0 += m.len();
            n.1 += m.blocks() * 512;
        }
    }
    n
}

/// Source of truth: blobs + ledger (logical bytes).
fn truth_bytes(dir: &Path) -> u64 {
    size_of(&dir.join("blobs")).0 + fs::metadata(dir.join("ledger")).map(|m| m.len()).unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[((v.len() - 1) as f64 * p).round() as usize] }
}

struct Run {
    place: String,
    grouping: usize,
    initial_ms: f64,
    initial_truth: u64,
    text_bytes: usize,
    put_ms: Vec<f64>,
    commit_ms: Vec<f64>,
    per_version_ms: Vec<f64>,
    changed: Vec<u64>,
    growth: Vec<u64>,
    pack_bytes: Vec<u64>,
    ledger_bytes: Vec<u64>,
    objects: Vec<usize>,
    first_read_ms: f64,
    read_latest_ms: Vec<f64>,
    read_reuse_ms: Vec<f64>,
    read_first_ms: Vec<f64>,
    get_path_ms: Vec<f64>,
    shape_ms: f64,
    rebuild_ms: f64,
    verify_ms: f64,
    node_index: (u64, u64),
    alloc_growth: u64,
}

fn run(place: &str, base: &Path, grouping: usize, leaves: usize, groups: usize, versions: usize, reads: usize) -> Run {
    let dir: PathBuf = base.join(format!("store-{place}-g{grouping}"));
    let _ = fs::remove_dir_all(&dir);
    let s = Store::open(&dir).expect("open");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut doc = Doc::build(&mut rng, groups, leaves);
    let text_bytes = doc.text().len();

    // version 1: everything
    let t = Instant::now();
    let mut txn = s.begin().unwrap();
    let put = txn.put_tree(doc.all_nodes()).unwrap();
    txn.commit(record("v1", put.pack.unwrap(), put.root, 1)).unwrap();
    let initial_ms = ms(t.elapsed());
    let initial_truth = truth_bytes(&dir);
    let first_root = put.root;
    eprintln!(
        "[{place} g{grouping}] version 1: {} objects, pack {:.2} MB, text {:.2} MB, {:.0} ms",
        put.objects,
        put.pack_bytes as f64 / 1e6,
        text_bytes as f64 / 1e6,
        initial_ms
    );

    let mut r = Run {
        place: place.into(),
        grouping,
        initial_ms,
        initial_truth,
        text_bytes,
        put_ms: vec![],
        commit_ms: vec![],
        per_version_ms: vec![],
        changed: vec![],
        growth: vec![],
        pack_bytes: vec![],
        ledger_bytes: vec![],
        objects: vec![],
        first_read_ms: 0.0,
        read_latest_ms: vec![],
        read_reuse_ms: vec![],
        read_first_ms: vec![],
        get_path_ms: vec![],
        shape_ms: 0.0,
        rebuild_ms: 0.0,
        verify_ms: 0.0,
        node_index: (0, 0),
        alloc_growth: 0,
    };
    let alloc_before = size_of(&dir.join("blobs")).1 + fs::metadata(dir.join("ledger")).unwrap().len();
    let mut latest = first_root;
    let mut v = 1;
    let per = leaves / groups;
    while v < versions + 1 {
        let n = grouping.min(versions + 1 - v);
        let before = truth_bytes(&dir);
        let ledger_before = fs::metadata(dir.join("ledger")).unwrap().len();
        let t0 = Instant::now();
        let mut txn = s.begin().unwrap();
        let mut recs = Vec::with_capacity(n);
        let mut changed = 0u64;
        let mut put_time = Duration::ZERO;
        for _ in 0..n {
            v += 1;
            let g = rng.below(groups as u64) as usize;
            let l = rng.below(per as u64) as usize;
            let bytes = artikel(&mut rng, g * per + l, v);
            changed += bytes.len() as u64;
            let nodes = doc.amend(g, l, bytes);
            let tp = Instant::now();
            let put = txn.put_tree(nodes).unwrap();
            put_time += tp.elapsed();
            r.objects.push(put.objects);
            r.pack_bytes.push(put.pack_bytes);
            recs.push(record(&format!("v{v}"), put.pack.unwrap(), put.root, v));
            latest = put.root;
        }
        let tc = Instant::now();
        txn.commit_many(recs).unwrap();
        let commit_time = tc.elapsed();
        let total = t0.elapsed();
        let after = truth_bytes(&dir);
        r.put_ms.push(ms(put_time) / n as f64);
        r.commit_ms.push(ms(commit_time) / n as f64);
        r.per_version_ms.push(ms(total) / n as f64);
        r.changed.push(changed);
        r.growth.push(after - before);
        r.ledger_bytes.push(fs::metadata(dir.join("ledger")).unwrap().len() - ledger_before);
    }
    r.alloc_growth = size_of(&dir.join("blobs")).1 + fs::metadata(dir.join("ledger")).unwrap().len() - alloc_before;
    drop(s);

    // reads, from a freshly opened store (page cache warm: the files were just written)
    let s = Store::open(&dir).unwrap();
    let want = doc.text();
    let t = Instant::now();
    let first = s.read_tree(&latest).unwrap();
    r.first_read_ms = ms(t.elapsed());
    assert_eq!(first, want, "read_tree of the latest version");
    drop(first);
    let mut buf = Vec::new();
    for _ in 0..reads {
        let t = Instant::now();
        let text = s.read_tree(&latest).unwrap();
        r.read_latest_ms.push(ms(t.elapsed()));
        assert_eq!(text.len(), want.len());
        drop(text);
        buf.clear();
        let t = Instant::now();
        s.read_tree_into(&latest, &mut buf).unwrap();
        r.read_reuse_ms.push(ms(t.elapsed()));
        assert_eq!(buf.len(), want.len());
        let t = Instant::now();
        let text = s.read_tree(&first_root).unwrap();
        r.read_first_ms.push(ms(t.elapsed()));
        assert_eq!(text.len(), text_bytes);
        // what a caller without the tree in memory does to amend: root and one hoofdstuk
        let t = Instant::now();
        let root = s.get_node(&latest).unwrap();
        let gh = *root.children().nth(groups / 2).unwrap();
        let group = s.get_node(&gh).unwrap();
        r.get_path_ms.push(ms(t.elapsed()));
        assert_eq!(group.children().count(), per);
    }
    let t = Instant::now();
    let shape = s.node_hashes(&latest).unwrap();
    r.shape_ms = ms(t.elapsed());
    assert_eq!(shape.len(), 1 + groups + leaves);
    let t = Instant::now();
    s.rebuild().unwrap();
    r.rebuild_ms = ms(t.elapsed());
    assert_eq!(s.read_tree(&latest).unwrap(), want);
    let t = Instant::now();
    let rep = s.verify().unwrap();
    r.verify_ms = ms(t.elapsed());
    assert!(rep.is_clean(), "{:#?}", rep.problems);
    r.node_index = size_of(&dir.join("index").join("nodes"));
    drop(s);
    let _ = fs::remove_dir_all(&dir);
    r
}

fn main() {
    let leaves = env_usize("BENCH_LEAVES", 10_000);
    let groups = env_usize("BENCH_GROUPS", 100);
    let versions = env_usize("BENCH_VERSIONS", 1000);
    let reads = env_usize("BENCH_READS", 15);
    let grouping: Vec<usize> = std::env::var("BENCH_GROUPING")
        .unwrap_or_else(|_| "1,10".into())
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .filter(|&g| g > 0)
        .collect();
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    eprintln!(
        "tree benchmark: {leaves} leaves under {groups} hoofdstukken, {versions} amendments, grouping {grouping:?}; nproc {}, loadavg {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        loadavg()
    );
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let disk = tempfile::Builder::new().prefix("bench-tree-").tempdir_in(&target).expect("tempdir");
    let shm = tempfile::Builder::new().prefix("regelbank-bench-tree-").tempdir_in("/dev/shm").ok();
    let mut places: Vec<(&str, PathBuf)> = Vec::new();
    if only.is_empty() || only == "disk" {
        places.push(("disk", disk.path().to_path_buf()));
    }
    if let Some(s) = &shm
        && (only.is_empty() || only == "shm")
    {
        places.push(("shm", s.path().to_path_buf()));
    }

    let mut runs = Vec::new();
    for (place, base) in &places {
        for &g in &grouping {
            runs.push(run(place, base, g, leaves, groups, versions, reads));
        }
    }

    println!();
    println!("loadavg at end: {}", loadavg());
    println!();
    let r0 = &runs[0];
    println!(
        "document: {leaves} artikelen under {groups} hoofdstukken, {:.2} MB of text; version 1 stores {:.2} MB (blobs + ledger) in {:.0} ms ({})",
        r0.text_bytes as f64 / 1e6,
        r0.initial_truth as f64 / 1e6,
        r0.initial_ms,
        r0.place
    );
    println!();
    println!("### Store growth per amendment (blobs + ledger, logical bytes)");
    println!();
    println!(
        "| store | versions/commit | changed artikel (mean B) | growth (mean B) | growth ÷ changed | pack (mean B) | of which not the artikel (mean B) | ledger (mean B) | max(growth − 3×changed) per version (B) | objects/version | allocated growth per version (B) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &runs {
        let vs: usize = r.objects.len();
        let changed: u64 = r.changed.iter().sum();
        let growth: u64 = r.growth.iter().sum();
        let pack: u64 = r.pack_bytes.iter().sum();
        let ledger: u64 = r.ledger_bytes.iter().sum();
        // per commit: growth − 3 × changed, divided over its versions
        let worst = r
            .growth
            .iter()
            .zip(&r.changed)
            .map(|(g, c)| (*g as f64 - 3.0 * *c as f64) / r.grouping.min(vs) as f64)
            .fold(f64::MIN, f64::max);
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.2} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {:.0} |",
            r.place,
            r.grouping,
            changed as f64 / vs as f64,
            growth as f64 / vs as f64,
            growth as f64 / changed as f64,
            pack as f64 / vs as f64,
            (pack as f64 - changed as f64) / vs as f64,
            ledger as f64 / vs as f64,
            worst,
            r.objects.iter().sum::<usize>() as f64 / vs as f64,
            r.alloc_growth as f64 / vs as f64,
        );
    }
    println!();
    println!("### Time per amendment (ms per version)");
    println!();
    println!(
        "| store | versions/commit | put_tree median | commit median | put_tree + commit median | p90 | p99 | max |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &runs {
        let (mut p, mut c, mut t) = (r.put_ms.clone(), r.commit_ms.clone(), r.per_version_ms.clone());
        println!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            r.place,
            r.grouping,
            median(&mut p),
            median(&mut c),
            median(&mut t),
            pct(&mut t, 0.9),
            pct(&mut t, 0.99),
            pct(&mut t, 1.0)
        );
    }
    println!();
    println!("### Reading ({reads} repetitions; ms)");
    println!();
    println!(
        "| store | versions/commit | read_tree latest: first call | median | min | read_tree_into reused buffer: median | read_tree version 1: median | get_node root + hoofdstuk: median | node_hashes latest | rebuild (all indexes) | verify | node index on disk (MB, allocated) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &runs {
        let (mut a, mut b, mut c) = (r.read_latest_ms.clone(), r.read_first_ms.clone(), r.get_path_ms.clone());
        let mut d = r.read_reuse_ms.clone();
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.1} | {:.0} | {:.0} | {:.1} |",
            r.place,
            r.grouping,
            r.first_read_ms,
            median(&mut a),
            pct(&mut a, 0.0),
            median(&mut d),
            median(&mut b),
            median(&mut c),
            r.shape_ms,
            r.rebuild_ms,
            r.verify_ms,
            r.node_index.1 as f64 / 1e6
        );
    }
}
