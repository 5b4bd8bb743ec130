//! The derived node index: object hash → (pack, pack length, offset, length).
//!
//! It is derived from the ledger and the packs alone: for each record in seq order, for each
//! blob in its `derived` list that is a valid pack (magic, table, every object hashing to its
//! table entry), every object not indexed yet is added with its place in that pack (the first
//! pack in ledger order wins). A watermark (seq and record hash of the last record applied)
//! says how far it is; like the catalogue index it is caught up on open and on every access,
//! and rebuilt from scratch when the watermark disagrees with the ledger.
//!
//! Read-write stores keep it in its own sled database under `index/nodes/` (so deleting
//! `index/` deletes it too); read-only handles derive it in memory on first use, which reads
//! every pack once.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::{Mutex, RwLock};

use tracing::{info, warn};

use crate::error::StoreError;
use crate::hash::Hash;
use crate::ledger;
use crate::model::LedgerRecord;
use crate::store::Store;

use super::TxnTree;
use super::codec;
use super::pack::{self, Entry};

/// Where an object's bytes are, and how long its whole pack is (so a reader can read the pack
/// with one `read`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    pub pack: Hash,
    pub pack_len: u64,
    pub offset: u64,
    pub len: u32,
}

const LOC_BYTES: usize = 52;

impl Loc {
    fn to_bytes(self) -> [u8; LOC_BYTES] {
        let mut v = [0u8; LOC_BYTES];
        v[..32].copy_from_slice(&self.pack.0);
        v[32..40].copy_from_slice(&self.pack_len.to_le_bytes());
        v[40..48].copy_from_slice(&self.offset.to_le_bytes());
        v[48..].copy_from_slice(&self.len.to_le_bytes());
        v
    }
    fn from_bytes(v: &[u8]) -> Result<Loc, StoreError> {
        if v.len() != LOC_BYTES {
            return Err(ix_err(format!("node index value of {} bytes", v.len())));
        }
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&v[i..i + 8]);
            u64::from_le_bytes(b)
        };
        let mut l = [0u8; 4];
        l.copy_from_slice(&v[48..]);
        Ok(Loc { pack: codec::hash_at(v), pack_len: u64_at(32), offset: u64_at(40), len: u32::from_le_bytes(l) })
    }
    pub(crate) fn of(pack: Hash, pack_len: u64, e: &Entry) -> Loc {
        Loc { pack, pack_len, offset: e.offset, len: e.len }
    }
}

fn ix_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Index { message: format!("node index: {e}") }
}

const K_CURRENT: &[u8] = b"current_tree";
/// Format of the entries; an index of another format is discarded and derived again.
const K_FORMAT: &[u8] = b"format";
const FORMAT: &[u8] = b"2";
/// Watermark key; object keys are 32 bytes, so it cannot collide.
const K_LAST: &[u8] = b"last";

#[derive(Default)]
struct MemNodes {
    map: HashMap<Hash, Loc>,
    last: Option<(u64, Hash)>,
}

enum Backend {
    Sled { db: sled::Db, tree: RwLock<(String, sled::Tree)> },
    Mem(RwLock<MemNodes>),
}

pub(crate) struct NodeIndex {
    backend: Backend,
    /// Serializes catch-up, rebuild and the application of committed records.
    apply: Mutex<()>,
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}
fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

fn last_of(tree: &sled::Tree) -> Result<Option<(u64, Hash)>, StoreError> {
    match tree.get(K_LAST).map_err(ix_err)? {
        None => Ok(None),
        Some(v) if v.len() == 40 => {
            let mut s = [0u8; 8];
            s.copy_from_slice(&v[..8]);
            let mut h = [0u8; 32];
            h.copy_from_slice(&v[8..]);
            Ok(Some((u64::from_be_bytes(s), Hash(h))))
        }
        Some(v) => Err(ix_err(format!("watermark of {} bytes", v.len()))),
    }
}

/// The index entries one batch of records adds, with the watermark after it.
/// Node index entries written per sled batch.
const APPLY_CHUNK: usize = 512;

struct Batch {
    /// True when no entry's hash is in the index yet (objects of packs this transaction wrote:
    /// `put_tree` staged only objects the index did not have, under the writer lock), so the
    /// per-entry lookup can be skipped.
    absent: bool,
    first_seq: u64,
    last: (u64, Hash),
    entries: Vec<(Hash, Loc)>,
}

impl NodeIndex {
    pub(crate) fn open_sled(dir: &Path) -> Result<NodeIndex, StoreError> {
        let db = sled::Config::new().path(dir).open().map_err(ix_err)?;
        let name = match db.get(K_CURRENT).map_err(ix_err)? {
            Some(v) => String::from_utf8(v.to_vec()).map_err(ix_err)?,
            None => "nodes-0".to_string(),
        };
        let tree = db.open_tree(&name).map_err(ix_err)?;
        if db.get(K_FORMAT).map_err(ix_err)?.as_deref() != Some(FORMAT) {
            // empty (new) or of another format: start over; catch-up derives it from the ledger
            if !tree.is_empty() {
                warn!("node index has another format; deriving it again");
            }
            tree.clear().map_err(ix_err)?;
            db.insert(K_FORMAT, FORMAT).map_err(ix_err)?;
            db.flush().map_err(ix_err)?;
        }
        Ok(NodeIndex { backend: Backend::Sled { db, tree: RwLock::new((name, tree)) }, apply: Mutex::new(()) })
    }

    pub(crate) fn memory() -> NodeIndex {
        NodeIndex { backend: Backend::Mem(RwLock::new(MemNodes::default())), apply: Mutex::new(()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.apply.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, h: &Hash) -> Result<Option<Loc>, StoreError> {
        match &self.backend {
            Backend::Sled { tree, .. } => {
                let t = read(tree).1.clone();
                t.get(h.0).map_err(ix_err)?.map(|v| Loc::from_bytes(&v)).transpose()
            }
            Backend::Mem(m) => Ok(read(m).map.get(h).copied()),
        }
    }

    pub(crate) fn last_applied(&self) -> Result<Option<(u64, Hash)>, StoreError> {
        match &self.backend {
            Backend::Sled { tree, .. } => last_of(&read(tree).1),
            Backend::Mem(m) => Ok(read(m).last),
        }
    }

    /// Every entry, sorted by object hash (for `verify`).
    pub(crate) fn entries(&self) -> Result<Vec<(Hash, Loc)>, StoreError> {
        match &self.backend {
            Backend::Sled { tree, .. } => {
                let t = read(tree).1.clone();
                let mut out = Vec::new();
                for kv in t.iter() {
                    let (k, v) = kv.map_err(ix_err)?;
                    if k.len() == 32 {
                        let mut h = [0u8; 32];
                        h.copy_from_slice(&k);
                        out.push((Hash(h), Loc::from_bytes(&v)?));
                    }
                }
                Ok(out)
            }
            Backend::Mem(m) => {
                let mut out: Vec<_> = read(m).map.iter().map(|(h, l)| (*h, *l)).collect();
                out.sort_by_key(|x| x.0);
                Ok(out)
            }
        }
    }

    /// Apply a batch to a sled tree or the memory state: insert absent entries, set the watermark.
    fn apply_sled(tree: &sled::Tree, b: Batch) -> Result<(), StoreError> {
        let expect = last_of(tree)?.map(|(s, _)| s).unwrap_or(0) + 1;
        if b.first_seq != expect {
            return Err(ix_err(format!("record seq {} applied out of order (expects {expect})", b.first_seq)));
        }
        // In key order, first entry of a hash wins (the sort is stable), in small chunks of their
        // own sled batch: one batch of the ~50,000 objects of a 50 MB text kept ~180 MB of sled
        // node copies alive until it was applied (two threads, tried, kept ~80 MB). Entries
        // applied without their watermark (a crash between chunks) are harmless: they name packs
        // of committed records, and applying the record again skips them.
        let mut entries = b.entries;
        entries.sort_by_key(|e| e.0);
        entries.dedup_by_key(|e| e.0);
        for chunk in entries.chunks(APPLY_CHUNK) {
            let mut batch = sled::Batch::default();
            for (h, loc) in chunk {
                if b.absent || tree.get(h.0).map_err(ix_err)?.is_none() {
                    batch.insert(&h.0[..], &loc.to_bytes()[..]);
                }
            }
            tree.apply_batch(batch).map_err(ix_err)?;
        }
        let mut batch = sled::Batch::default();
        let mut wm = Vec::with_capacity(40);
        wm.extend_from_slice(&b.last.0.to_be_bytes());
        wm.extend_from_slice(&b.last.1.0);
        batch.insert(K_LAST, wm);
        tree.apply_batch(batch).map_err(ix_err)
    }

    fn apply_mem(st: &mut MemNodes, b: Batch) -> Result<(), StoreError> {
        let expect = st.last.map(|(s, _)| s).unwrap_or(0) + 1;
        if b.first_seq != expect {
            return Err(ix_err(format!("record seq {} applied out of order (expects {expect})", b.first_seq)));
        }
        for (h, loc) in b.entries {
            st.map.entry(h).or_insert(loc);
        }
        st.last = Some(b.last);
        Ok(())
    }

    fn apply_batch(&self, b: Batch) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled { tree, .. } => Self::apply_sled(&read(tree).1, b),
            Backend::Mem(m) => Self::apply_mem(&mut write(m), b),
        }
    }

    /// After a commit: add the entries of the committed records (packs this transaction wrote
    /// come from memory, others are read). Failures are logged; the index catches up later.
    pub(crate) fn apply_committed(&self, store: &Store, recs: &[(&LedgerRecord, Hash)], txn: &TxnTree) {
        let _g = self.lock();
        // Packs named by an earlier record of this commit (their entries are applied already).
        let mut named: HashSet<Hash> = HashSet::new();
        for (rec, h) in recs {
            // Entries all new to the index: every pack the record names was written by this
            // transaction and is named for the first time.
            let absent = rec.rec.derived.iter().all(|d| txn.entries_of(d).is_some() && !named.contains(d));
            named.extend(rec.rec.derived.iter().copied());
            let r = self.last_applied().and_then(|last| {
                if last.is_some_and(|(s, _)| s >= rec.seq) {
                    return Ok(()); // a concurrent catch-up got there first
                }
                let entries = record_entries(store, rec, Some(txn))?;
                self.apply_batch(Batch { absent, first_seq: rec.seq, last: (rec.seq, *h), entries })
            });
            if let Err(e) = r {
                warn!(seq = rec.seq, error = %e, "node index update failed; it will catch up");
                return;
            }
        }
    }

    /// Bring the index up to the ledger this handle sees: apply missing records, or rebuild if
    /// the watermark disagrees with the ledger.
    pub(crate) fn catch_up(&self, store: &Store) -> Result<(), StoreError> {
        let _g = self.lock();
        let applied = self.last_applied()?;
        let (n, len, slot_hash) = {
            let st = store.ledger_read();
            let sh = applied.and_then(|(s, _)| s.checked_sub(1).and_then(|i| st.slots.get(i as usize)).map(|x| x.hash));
            (st.slots.len() as u64, st.len, sh)
        };
        match applied {
            Some((s, h)) if s > n || slot_hash != Some(h) => {
                warn!(index_seq = s, ledger_seq = n, "node index disagrees with the ledger; rebuilding");
                self.rebuild_locked(store)
            }
            _ => {
                let from = applied.map(|(s, _)| s).unwrap_or(0);
                if from >= n {
                    return Ok(());
                }
                if from > 0 {
                    info!(from, to = n, "node index catch-up");
                }
                let mut batch = Batch { absent: false, first_seq: from + 1, last: (0, Hash::ZERO), entries: Vec::new() };
                let mut failed = None;
                ledger::scan(&store.ledger_path(), Some(len), &mut |r, h| {
                    if r.seq > from && failed.is_none() {
                        match record_entries(store, r, None) {
                            Ok(e) => batch.entries.extend(e),
                            Err(e) => failed = Some(e),
                        }
                        batch.last = (r.seq, h);
                    }
                    Ok(())
                })?;
                if let Some(e) = failed {
                    return Err(e);
                }
                if batch.last.0 > from {
                    self.apply_batch(batch)?;
                }
                self.flush()
            }
        }
    }

    /// Recreate the index from the ledger and the packs (fresh state, swapped in when complete).
    pub(crate) fn rebuild(&self, store: &Store) -> Result<(), StoreError> {
        let _g = self.lock();
        self.rebuild_locked(store)
    }

    fn rebuild_locked(&self, store: &Store) -> Result<(), StoreError> {
        let len = store.ledger_read().len;
        let recs = ledger::read_all(&store.ledger_path(), len)?;
        let mut batch = Batch { absent: false, first_seq: 1, last: (0, Hash::ZERO), entries: Vec::new() };
        for (r, h) in &recs {
            batch.entries.extend(record_entries(store, r, None)?);
            batch.last = (r.seq, *h);
        }
        let batch = if recs.is_empty() { None } else { Some(batch) };
        match &self.backend {
            Backend::Sled { db, tree } => {
                let old_name = read(tree).0.clone();
                let n: u64 = old_name.strip_prefix("nodes-").and_then(|s| s.parse().ok()).unwrap_or(0);
                let new_name = format!("nodes-{}", n + 1);
                db.drop_tree(new_name.as_bytes()).map_err(ix_err)?;
                let fresh = db.open_tree(&new_name).map_err(ix_err)?;
                if let Some(b) = batch {
                    Self::apply_sled(&fresh, b)?;
                }
                fresh.flush().map_err(ix_err)?;
                db.insert(K_CURRENT, new_name.as_bytes()).map_err(ix_err)?;
                db.flush().map_err(ix_err)?;
                *write(tree) = (new_name, fresh);
                db.drop_tree(old_name.as_bytes()).map_err(ix_err)?;
                Ok(())
            }
            Backend::Mem(m) => {
                let mut fresh = MemNodes::default();
                if let Some(b) = batch {
                    Self::apply_mem(&mut fresh, b)?;
                }
                *write(m) = fresh;
                Ok(())
            }
        }
    }

    pub(crate) fn flush(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled { db, .. } => db.flush().map(|_| ()).map_err(ix_err),
            Backend::Mem(_) => Ok(()),
        }
    }
}

/// The entries a record contributes: every object of every valid pack in its `derived` list,
/// in order. Packs written by `txn` come from memory.
pub(crate) fn record_entries(
    store: &Store,
    rec: &LedgerRecord,
    txn: Option<&TxnTree>,
) -> Result<Vec<(Hash, Loc)>, StoreError> {
    let mut out = Vec::new();
    let mut done = HashSet::new();
    for d in &rec.rec.derived {
        if !done.insert(*d) {
            continue;
        }
        let (entries, pack_len) = match txn.and_then(|t| t.entries_of(d)) {
            Some((e, n)) => (e.to_vec(), n),
            None => match load_valid_pack(store, d)? {
                Ok(Some((b, e))) => (e, b.len() as u64),
                Ok(None) => continue,
                Err(msg) => {
                    warn!(pack = %d, seq = rec.seq, %msg, "pack not indexed");
                    continue;
                }
            },
        };
        out.extend(entries.iter().map(|e| (e.hash, Loc::of(*d, pack_len, e))));
    }
    Ok(out)
}

/// A pack's bytes and table.
pub(crate) type LoadedPack = (Vec<u8>, Vec<Entry>);

/// Read a blob that may be a pack. `Ok(Ok(None))`: not a pack (or the blob is absent);
/// `Ok(Err(why))`: a pack that is damaged (blob corrupt, table malformed, or an object that does
/// not hash to its entry); `Err`: an I/O failure.
pub(crate) fn load_valid_pack(store: &Store, h: &Hash) -> Result<Result<Option<LoadedPack>, String>, StoreError> {
    let path = store.blob_path(h);
    let mut prefix = [0u8; 8];
    match File::open(&path) {
        Ok(mut f) => {
            let mut got = 0;
            while got < prefix.len() {
                match f.read(&mut prefix[got..]) {
                    Ok(0) => break,
                    Ok(k) => got += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(StoreError::io(&path)(e)),
                }
            }
            if !pack::has_magic(&prefix[..got]) {
                return Ok(Ok(None));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(None)),
        Err(e) => return Err(StoreError::io(&path)(e)),
    }
    let bytes = match store.get_blob(h) {
        Ok(b) => b,
        Err(StoreError::BlobCorrupt { actual, .. }) => {
            return Ok(Err(format!("pack blob is corrupt (hashes to {actual})")));
        }
        Err(StoreError::BlobNotFound { .. }) => return Ok(Ok(None)),
        Err(e) => return Err(e),
    };
    let entries = match pack::parse(&bytes) {
        Ok(e) => e,
        Err(msg) => return Ok(Err(msg)),
    };
    for e in &entries {
        let actual = Hash::of(&bytes[e.range()]);
        if actual != e.hash {
            return Ok(Err(format!("object {} hashes to {actual}", e.hash)));
        }
    }
    Ok(Ok(Some((bytes, entries))))
}
