//! Derived indexes. The [`Index`] trait is the read API; two backends implement it: a sled
//! database (the normal, persistent one) and an in-memory one (read-only handles, tests).
//! Both share [`plan`], so they derive identical answers from the same ledger.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::RwLock;

use crate::error::StoreError;
use crate::hash::Hash;
use crate::model::{DeliveryView, ExpressionView, LedgerRecord, WorkView};

/// Read access to the derived indexes.
pub trait Index: Send + Sync {
    /// seq of the last ledger record applied (0 = none).
    fn last_seq(&self) -> Result<u64, StoreError>;
    /// seq of the committed delivery with this (aanleveraar OIN, idLevering).
    fn delivery_by_levering(&self, aanleveraar: &str, id_levering: &str) -> Result<Option<u64>, StoreError>;
    fn work(&self, work: &str) -> Result<Option<WorkView>, StoreError>;
    /// All works, sorted by work id.
    fn works(&self) -> Result<Vec<WorkView>, StoreError>;
    fn expression(&self, expr: &str) -> Result<Option<ExpressionView>, StoreError>;
    /// All expressions, sorted by expression id.
    fn expressions(&self) -> Result<Vec<ExpressionView>, StoreError>;
    /// Expressions of a work, in order of first appearance.
    fn expressions_of(&self, work: &str) -> Result<Vec<ExpressionView>, StoreError>;
    /// Report blob of the delivery with this seq.
    fn report_of(&self, seq: u64) -> Result<Option<Hash>, StoreError>;
    /// Summary of the delivery with this seq.
    fn delivery(&self, seq: u64) -> Result<Option<DeliveryView>, StoreError>;
    /// seq of the first accepted delivery that used this doel.
    fn doel(&self, doel: &str) -> Result<Option<u64>, StoreError>;
}

/// Write side of an index backend (crate-internal).
pub(crate) trait IndexBackend: Index {
    /// (seq, record hash) of the last applied record.
    fn last_applied(&self) -> Result<Option<(u64, Hash)>, StoreError>;
    /// Apply one record (must be `last_seq() + 1`), atomically.
    fn apply(&self, rec: &LedgerRecord, rec_hash: Hash) -> Result<(), StoreError>;
    /// Apply consecutive records (a group commit). Atomically where the backend can (one sled
    /// batch: one log write instead of one per record).
    fn apply_many(&self, recs: &[(&LedgerRecord, Hash)]) -> Result<(), StoreError> {
        recs.iter().try_for_each(|(r, h)| self.apply(r, *h))
    }
    /// Replace the whole index with one derived from `recs` (in order).
    fn rebuild(&self, recs: &mut dyn Iterator<Item = Result<(LedgerRecord, Hash), StoreError>>) -> Result<(), StoreError>;
    fn flush(&self) -> Result<(), StoreError>;
    fn as_index(&self) -> &dyn Index;
}

/// The changes one record makes to works and expressions.
#[derive(Default, Debug)]
pub(crate) struct Plan {
    pub works: BTreeMap<String, WorkView>,
    pub exprs: BTreeMap<String, ExpressionView>,
}

type Lookup<'a, T> = &'a mut dyn FnMut(&str) -> Result<Option<T>, StoreError>;

fn load_work<'p>(p: &'p mut Plan, id: &str, get: Lookup<'_, WorkView>) -> Result<Option<&'p mut WorkView>, StoreError> {
    if !p.works.contains_key(id) {
        match get(id)? {
            Some(w) => {
                p.works.insert(id.to_string(), w);
            }
            None => return Ok(None),
        }
    }
    Ok(p.works.get_mut(id))
}

fn load_expr<'p>(
    p: &'p mut Plan,
    id: &str,
    get: Lookup<'_, ExpressionView>,
) -> Result<Option<&'p mut ExpressionView>, StoreError> {
    if !p.exprs.contains_key(id) {
        match get(id)? {
            Some(e) => {
                p.exprs.insert(id.to_string(), e);
            }
            None => return Ok(None),
        }
    }
    Ok(p.exprs.get_mut(id))
}

fn fill<T: Clone>(slot: &mut Option<T>, new: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(new);
    }
}

/// Compute the merged views a record produces. Merge rules:
/// - a new work/expression is inserted with `first_seq`/`seq` = this record;
/// - a known work keeps its kind, first seq, owner and every field already set; fields that
///   were `None` are filled from the later record;
/// - a known expression keeps its work, kind, seq and set fields, fills `None` fields, and stays
///   `ontwerp` only while every record naming it says so;
/// - an expression whose work is unknown creates a minimal work (kind of the expression);
/// - ids in `afgebroken` mark the named work and/or expression afgebroken (sticky; data stays).
///   Unknown ids are ignored.
pub(crate) fn plan(
    rec: &LedgerRecord,
    get_work: Lookup<'_, WorkView>,
    get_expr: Lookup<'_, ExpressionView>,
) -> Result<Plan, StoreError> {
    let seq = rec.seq;
    let fx = &rec.rec.effects;
    let mut p = Plan::default();
    for w in &fx.works {
        match load_work(&mut p, &w.work, get_work)? {
            Some(cur) => {
                fill(&mut cur.entry.soort_work, &w.soort_work);
                fill(&mut cur.entry.title, &w.title);
                fill(&mut cur.entry.bevoegd_gezag, &w.bevoegd_gezag);
                fill(&mut cur.entry.owner_oin, &w.owner_oin);
            }
            None => {
                let view = WorkView { entry: w.clone(), first_seq: seq, expressions: Vec::new(), afgebroken: false };
                p.works.insert(w.work.clone(), view);
            }
        }
    }
    for e in &fx.expressions {
        let work_id = match load_expr(&mut p, &e.expression, get_expr)? {
            Some(cur) => {
                fill(&mut cur.entry.file, &e.file);
                fill(&mut cur.entry.blob, &e.blob);
                fill(&mut cur.entry.datum_bekendmaking, &e.datum_bekendmaking);
                fill(&mut cur.entry.wids, &e.wids);
                fill(&mut cur.entry.tekst, &e.tekst);
                // The procedure changes over time: the latest record naming one wins.
                if e.procedure.is_some() {
                    cur.entry.procedure = e.procedure;
                }
                fill(&mut cur.entry.herkomst, &e.herkomst);
                cur.entry.ontwerp = cur.entry.ontwerp && e.ontwerp;
                cur.entry.work.clone()
            }
            None => {
                let view = ExpressionView { entry: e.clone(), seq, afgebroken: false };
                p.exprs.insert(e.expression.clone(), view);
                e.work.clone()
            }
        };
        if load_work(&mut p, &work_id, get_work)?.is_none() {
            {
                let entry = crate::model::WorkEntry {
                    work: work_id.clone(),
                    soort_work: None,
                    kind: e.kind.clone(),
                    title: None,
                    bevoegd_gezag: None,
                    owner_oin: None,
                };
                p.works.insert(work_id.clone(), WorkView {
                    entry,
                    first_seq: seq,
                    expressions: Vec::new(),
                    afgebroken: false,
                });
            }
        }
        let Some(work) = p.works.get_mut(&work_id) else {
            return Err(StoreError::Index { message: format!("work {work_id} vanished from plan") });
        };
        if !work.expressions.iter().any(|x| x == &e.expression) {
            work.expressions.push(e.expression.clone());
        }
    }
    for id in &fx.afgebroken {
        if let Some(w) = load_work(&mut p, id, get_work)? {
            w.afgebroken = true;
        }
        if let Some(x) = load_expr(&mut p, id, get_expr)? {
            x.afgebroken = true;
        }
    }
    Ok(p)
}

fn check_next(last: Option<(u64, Hash)>, rec: &LedgerRecord) -> Result<(), StoreError> {
    let expect = last.map(|(s, _)| s).unwrap_or(0) + 1;
    if rec.seq != expect {
        return Err(StoreError::Index {
            message: format!("record seq {} applied out of order (index expects {expect})", rec.seq),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// sled backend

const K_LAST_SEQ: &[u8] = b"m:last_seq";
const K_LAST_HASH: &[u8] = b"m:last_hash";
const K_CURRENT: &[u8] = b"current_tree";

fn ix_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Index { message: e.to_string() }
}

fn lev_key(aanleveraar: &str, id_levering: &str) -> Vec<u8> {
    let mut k = b"l:".to_vec();
    k.extend_from_slice(&(aanleveraar.len() as u32).to_be_bytes());
    k.extend_from_slice(aanleveraar.as_bytes());
    k.extend_from_slice(id_levering.as_bytes());
    k
}
fn seq_key(seq: u64) -> Vec<u8> {
    let mut k = b"s:".to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}
fn doel_key(d: &str) -> Vec<u8> {
    let mut k = b"d:".to_vec();
    k.extend_from_slice(d.as_bytes());
    k
}

fn work_key(w: &str) -> Vec<u8> {
    [b"w:".as_slice(), w.as_bytes()].concat()
}
fn expr_key(e: &str) -> Vec<u8> {
    [b"e:".as_slice(), e.as_bytes()].concat()
}
fn u64_of(v: &[u8]) -> Result<u64, StoreError> {
    let a: [u8; 8] = v.try_into().map_err(|_| ix_err("bad u64 value in index"))?;
    Ok(u64::from_be_bytes(a))
}
fn json_of<T: serde::de::DeserializeOwned>(v: &[u8], what: &str) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(StoreError::serde(format!("index {what}")))
}
fn to_json<T: serde::Serialize>(v: &T, what: &str) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(StoreError::serde(format!("index {what}")))
}

/// Persistent index in a sled database. All data lives in one tree whose name is recorded
/// under `current_tree` in the default tree; `rebuild` fills a fresh tree and swaps it in.
pub(crate) struct SledIndex {
    db: sled::Db,
    tree: RwLock<(String, sled::Tree)>,
}

/// Open a sled database without timer flushes (callers flush what they write; the data is
/// derived, so a crash loses only what catch-up re-applies).
///
/// The store's own `LOCK` is held whenever this runs, so sled's lock on `dir` can only be held
/// by a handle this process has just dropped: sled 0.34 does not wait in `Drop` until its
/// background threads have closed the file (spacejam/sled#1289), and an immediate reopen (a
/// store dropped and opened again, `rebuild`) can find the lock still taken for a few
/// milliseconds. That case is retried with backoff for up to ~2.5 s; any other error, or a lock
/// that stays taken, is returned.
pub(crate) fn open_sled(dir: &Path) -> Result<sled::Db, sled::Error> {
    let mut delay = std::time::Duration::from_millis(2);
    let mut waited = std::time::Duration::ZERO;
    loop {
        match sled::Config::new().path(dir).flush_every_ms(None).open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock") && waited < std::time::Duration::from_millis(2500) =>
            {
                tracing::debug!(dir = %dir.display(), waited_ms = waited.as_millis() as u64, "sled lock still held by a dropped handle; retrying");
                std::thread::sleep(delay);
                waited += delay;
                delay = (delay * 2).min(std::time::Duration::from_millis(200));
            }
            r => return r,
        }
    }
}

impl SledIndex {
    pub(crate) fn open(dir: &Path) -> Result<SledIndex, StoreError> {
        // No timer flushes: the index is derived (a crash loses only what catch-up re-applies
        // from the ledger), and sled's flusher syncing every 500 ms competed with the commits'
        // own syncs on disk.
        let db = open_sled(dir).map_err(ix_err)?;
        let name = match db.get(K_CURRENT).map_err(ix_err)? {
            Some(v) => String::from_utf8(v.to_vec()).map_err(ix_err)?,
            None => "idx-0".to_string(),
        };
        let tree = db.open_tree(&name).map_err(ix_err)?;
        Ok(SledIndex { db, tree: RwLock::new((name, tree)) })
    }

    fn tree(&self) -> sled::Tree {
        match self.tree.read() {
            Ok(g) => g.1.clone(),
            Err(p) => p.into_inner().1.clone(),
        }
    }

    fn last_of(tree: &sled::Tree) -> Result<Option<(u64, Hash)>, StoreError> {
        let seq = tree.get(K_LAST_SEQ).map_err(ix_err)?;
        let hash = tree.get(K_LAST_HASH).map_err(ix_err)?;
        match (seq, hash) {
            (Some(s), Some(h)) => {
                let h: [u8; 32] = h.as_ref().try_into().map_err(|_| ix_err("bad last_hash in index"))?;
                Ok(Some((u64_of(&s)?, Hash(h))))
            }
            _ => Ok(None),
        }
    }

    fn apply_to(tree: &sled::Tree, rec: &LedgerRecord, rec_hash: Hash) -> Result<(), StoreError> {
        Self::apply_all(tree, &[(rec, rec_hash)])
    }

    /// Apply consecutive records as ONE sled batch; later records see the earlier ones' writes.
    fn apply_all(tree: &sled::Tree, recs: &[(&LedgerRecord, Hash)]) -> Result<(), StoreError> {
        let Some(&(first, _)) = recs.first() else { return Ok(()) };
        check_next(Self::last_of(tree)?, first)?;
        // The batch's writes so far, read before the tree.
        let mut pending: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        let mut b = sled::Batch::default();
        let put = |b: &mut sled::Batch, pending: &mut HashMap<Vec<u8>, Vec<u8>>, k: Vec<u8>, v: Vec<u8>| {
            b.insert(k.as_slice(), v.as_slice());
            pending.insert(k, v);
        };
        let mut prev = first.seq.checked_sub(1).map(|s| (s, Hash::ZERO));
        for &(rec, rec_hash) in recs {
            if let Some((s, _)) = prev
                && rec.seq != s + 1
            {
                return Err(ix_err(format!("record seq {} follows {s} in one batch", rec.seq)));
            }
            let get = |pending: &HashMap<Vec<u8>, Vec<u8>>, k: &[u8]| -> Result<Option<Vec<u8>>, StoreError> {
                match pending.get(k) {
                    Some(v) => Ok(Some(v.clone())),
                    None => Ok(tree.get(k).map_err(ix_err)?.map(|v| v.to_vec())),
                }
            };
            let p = {
                let mut gw = |id: &str| -> Result<Option<WorkView>, StoreError> {
                    get(&pending, &work_key(id))?.map(|v| json_of(&v, "work")).transpose()
                };
                let mut ge = |id: &str| -> Result<Option<ExpressionView>, StoreError> {
                    get(&pending, &expr_key(id))?.map(|v| json_of(&v, "expression")).transpose()
                };
                plan(rec, &mut gw, &mut ge)?
            };
            for (id, w) in &p.works {
                put(&mut b, &mut pending, work_key(id), to_json(w, "work")?);
            }
            for (id, e) in &p.exprs {
                put(&mut b, &mut pending, expr_key(id), to_json(e, "expression")?);
            }
            for d in &rec.rec.effects.doelen {
                if get(&pending, &doel_key(d))?.is_none() {
                    put(&mut b, &mut pending, doel_key(d), rec.seq.to_be_bytes().to_vec());
                }
            }
            put(&mut b, &mut pending, lev_key(&rec.rec.aanleveraar, &rec.rec.id_levering), rec.seq.to_be_bytes().to_vec());
            put(&mut b, &mut pending, seq_key(rec.seq), to_json(&DeliveryView::of(rec), "delivery")?);
            prev = Some((rec.seq, rec_hash));
        }
        if let Some((seq, h)) = prev {
            b.insert(K_LAST_SEQ, &seq.to_be_bytes()[..]);
            b.insert(K_LAST_HASH, &h.0[..]);
        }
        tree.apply_batch(b).map_err(ix_err)
    }
}

impl Index for SledIndex {
    fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(Self::last_of(&self.tree())?.map(|(s, _)| s).unwrap_or(0))
    }
    fn delivery_by_levering(&self, aanleveraar: &str, id_levering: &str) -> Result<Option<u64>, StoreError> {
        self.tree().get(lev_key(aanleveraar, id_levering)).map_err(ix_err)?.map(|v| u64_of(&v)).transpose()
    }
    fn work(&self, work: &str) -> Result<Option<WorkView>, StoreError> {
        self.tree().get(work_key(work)).map_err(ix_err)?.map(|v| json_of(&v, "work")).transpose()
    }
    fn works(&self) -> Result<Vec<WorkView>, StoreError> {
        let mut out = Vec::new();
        for kv in self.tree().scan_prefix(b"w:") {
            let (_, v) = kv.map_err(ix_err)?;
            out.push(json_of(&v, "work")?);
        }
        Ok(out)
    }
    fn expression(&self, expr: &str) -> Result<Option<ExpressionView>, StoreError> {
        self.tree().get(expr_key(expr)).map_err(ix_err)?.map(|v| json_of(&v, "expression")).transpose()
    }
    fn expressions(&self) -> Result<Vec<ExpressionView>, StoreError> {
        let mut out = Vec::new();
        for kv in self.tree().scan_prefix(b"e:") {
            let (_, v) = kv.map_err(ix_err)?;
            out.push(json_of(&v, "expression")?);
        }
        Ok(out)
    }
    fn expressions_of(&self, work: &str) -> Result<Vec<ExpressionView>, StoreError> {
        let Some(w) = self.work(work)? else { return Ok(Vec::new()) };
        let mut out = Vec::with_capacity(w.expressions.len());
        for id in &w.expressions {
            if let Some(e) = self.expression(id)? {
                out.push(e);
            }
        }
        Ok(out)
    }
    fn report_of(&self, seq: u64) -> Result<Option<Hash>, StoreError> {
        Ok(self.delivery(seq)?.and_then(|d| d.report))
    }
    fn delivery(&self, seq: u64) -> Result<Option<DeliveryView>, StoreError> {
        self.tree().get(seq_key(seq)).map_err(ix_err)?.map(|v| json_of(&v, "delivery")).transpose()
    }
    fn doel(&self, doel: &str) -> Result<Option<u64>, StoreError> {
        self.tree().get(doel_key(doel)).map_err(ix_err)?.map(|v| u64_of(&v)).transpose()
    }
}

impl IndexBackend for SledIndex {
    fn last_applied(&self) -> Result<Option<(u64, Hash)>, StoreError> {
        Self::last_of(&self.tree())
    }
    fn apply(&self, rec: &LedgerRecord, rec_hash: Hash) -> Result<(), StoreError> {
        Self::apply_to(&self.tree(), rec, rec_hash)
    }
    fn apply_many(&self, recs: &[(&LedgerRecord, Hash)]) -> Result<(), StoreError> {
        Self::apply_all(&self.tree(), recs)
    }
    fn rebuild(&self, recs: &mut dyn Iterator<Item = Result<(LedgerRecord, Hash), StoreError>>) -> Result<(), StoreError> {
        let old_name = match self.tree.read() {
            Ok(g) => g.0.clone(),
            Err(p) => p.into_inner().0.clone(),
        };
        let n: u64 = old_name.strip_prefix("idx-").and_then(|s| s.parse().ok()).unwrap_or(0);
        let new_name = format!("idx-{}", n + 1);
        self.db.drop_tree(new_name.as_bytes()).map_err(ix_err)?;
        let tree = self.db.open_tree(&new_name).map_err(ix_err)?;
        for item in recs {
            let (r, h) = item?;
            Self::apply_to(&tree, &r, h)?;
        }
        tree.flush().map_err(ix_err)?;
        self.db.insert(K_CURRENT, new_name.as_bytes()).map_err(ix_err)?;
        self.db.flush().map_err(ix_err)?;
        {
            let mut g = match self.tree.write() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            *g = (new_name, tree);
        }
        self.db.drop_tree(old_name.as_bytes()).map_err(ix_err)?;
        Ok(())
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(ix_err)
    }
    fn as_index(&self) -> &dyn Index {
        self
    }
}

// ---------------------------------------------------------------------------------------------
// in-memory backend

#[derive(Default, Clone)]
struct MemState {
    last: Option<(u64, Hash)>,
    lev: HashMap<(String, String), u64>,
    deliveries: BTreeMap<u64, DeliveryView>,
    works: BTreeMap<String, WorkView>,
    exprs: BTreeMap<String, ExpressionView>,
    doelen: HashMap<String, u64>,
}

impl MemState {
    fn apply(&mut self, rec: &LedgerRecord, rec_hash: Hash) -> Result<(), StoreError> {
        check_next(self.last, rec)?;
        let works = &self.works;
        let exprs = &self.exprs;
        let p = plan(rec, &mut |id| Ok(works.get(id).cloned()), &mut |id| Ok(exprs.get(id).cloned()))?;
        self.works.extend(p.works);
        self.exprs.extend(p.exprs);
        for d in &rec.rec.effects.doelen {
            self.doelen.entry(d.clone()).or_insert(rec.seq);
        }
        self.lev.insert((rec.rec.aanleveraar.clone(), rec.rec.id_levering.clone()), rec.seq);
        self.deliveries.insert(rec.seq, DeliveryView::of(rec));
        self.last = Some((rec.seq, rec_hash));
        Ok(())
    }
}

/// Index held in memory, derived from the ledger when the handle is opened.
#[derive(Default)]
pub(crate) struct MemIndex {
    st: RwLock<MemState>,
}

impl MemIndex {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, MemState> {
        match self.st.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, MemState> {
        match self.st.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

impl Index for MemIndex {
    fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(self.read().last.map(|(s, _)| s).unwrap_or(0))
    }
    fn delivery_by_levering(&self, aanleveraar: &str, id_levering: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.read().lev.get(&(aanleveraar.to_string(), id_levering.to_string())).copied())
    }
    fn work(&self, work: &str) -> Result<Option<WorkView>, StoreError> {
        Ok(self.read().works.get(work).cloned())
    }
    fn works(&self) -> Result<Vec<WorkView>, StoreError> {
        Ok(self.read().works.values().cloned().collect())
    }
    fn expression(&self, expr: &str) -> Result<Option<ExpressionView>, StoreError> {
        Ok(self.read().exprs.get(expr).cloned())
    }
    fn expressions(&self) -> Result<Vec<ExpressionView>, StoreError> {
        Ok(self.read().exprs.values().cloned().collect())
    }
    fn expressions_of(&self, work: &str) -> Result<Vec<ExpressionView>, StoreError> {
        let st = self.read();
        let Some(w) = st.works.get(work) else { return Ok(Vec::new()) };
        Ok(w.expressions.iter().filter_map(|id| st.exprs.get(id).cloned()).collect())
    }
    fn report_of(&self, seq: u64) -> Result<Option<Hash>, StoreError> {
        Ok(self.read().deliveries.get(&seq).and_then(|d| d.report))
    }
    fn delivery(&self, seq: u64) -> Result<Option<DeliveryView>, StoreError> {
        Ok(self.read().deliveries.get(&seq).cloned())
    }
    fn doel(&self, doel: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.read().doelen.get(doel).copied())
    }
}

impl IndexBackend for MemIndex {
    fn last_applied(&self) -> Result<Option<(u64, Hash)>, StoreError> {
        Ok(self.read().last)
    }
    fn apply(&self, rec: &LedgerRecord, rec_hash: Hash) -> Result<(), StoreError> {
        self.write().apply(rec, rec_hash)
    }
    fn rebuild(&self, recs: &mut dyn Iterator<Item = Result<(LedgerRecord, Hash), StoreError>>) -> Result<(), StoreError> {
        let mut fresh = MemState::default();
        for item in recs {
            let (r, h) = item?;
            fresh.apply(&r, h)?;
        }
        *self.write() = fresh;
        Ok(())
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
    fn as_index(&self) -> &dyn Index {
        self
    }
}

#[cfg(test)]
mod open_sled_tests {
    use super::open_sled;
    use std::time::{Duration, Instant};

    #[test]
    fn a_lock_released_soon_is_waited_for_and_one_that_stays_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        // Released after 100 ms (as a dropped handle's sled threads do): the open waits for it.
        let held = open_sled(&path).unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        let t = Instant::now();
        let db = open_sled(&path).expect("opens once the lock is released");
        assert!(t.elapsed() >= Duration::from_millis(50), "it did wait for the lock");
        release.join().unwrap();
        // Held for good: an error after the bounded wait, not a hang.
        let t = Instant::now();
        let e = open_sled(&path).err().expect("the lock stays taken");
        assert!(e.to_string().contains("could not acquire lock"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(10));
        drop(db);
    }
}
