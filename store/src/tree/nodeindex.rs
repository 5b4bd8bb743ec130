//! The derived node index: object hash → (pack, pack length, offset, length).
//!
//! It is derived from the ledger and the packs alone: for each record in seq order, for each
//! blob in its `derived` list that is a valid pack (magic, table, every object hashing to its
//! table entry), every object not indexed yet is added with its place in that pack (the first
//! pack in ledger order wins). A watermark (seq and record hash of the last record applied)
//! says how far it is; like the catalogue index it is caught up on open and on every access,
//! and rebuilt from scratch when the watermark disagrees with the ledger.
//!
//! Read-write stores keep it under `index/nodes/` (so deleting `index/` deletes it too) as a
//! few immutable sorted runs ([`runs`]): a commit that adds objects writes ONE run of them (a
//! sorted array written in one go, instead of one B-tree insert per object, which cost ~9 µs
//! each and ~24 MB of cache for the 50,000 objects of a 50 MB text), and runs of similar size
//! are merged, so there are O(log n) of them and a lookup is a binary search in each. No hash
//! is in two runs (a new run leaves out what the index has). `manifest` lists the runs and the
//! watermark; runs and manifest are fsynced before they are renamed into place, so a crash
//! leaves the old manifest or the new one, never a half-written file in use. Files the manifest
//! does not name are leftovers and removed on open. Read-only handles derive the index in
//! memory on first use, which reads every pack once.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::error::StoreError;
use crate::fsutil::{sync_dir, write_atomic};
use crate::hash::Hash;
use crate::ledger;
use crate::model::LedgerRecord;
use crate::store::Store;

use super::TxnTree;
use super::pack::{self, Entry};
use super::runs::{self, Run};

/// Where an object's bytes are, and how long its whole pack is (so a reader can read the pack
/// with one `read`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    pub pack: Hash,
    pub pack_len: u64,
    pub offset: u64,
    pub len: u32,
}

impl Loc {
    pub(crate) fn of(pack: Hash, pack_len: u64, e: &Entry) -> Loc {
        Loc { pack, pack_len, offset: e.offset, len: e.len }
    }
}

fn ix_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Index { message: format!("node index: {e}") }
}

/// Format of the on-disk index; an index of another format (or an older build's sled
/// database) is discarded and derived again.
const FORMAT: u32 = 3;
const MANIFEST: &str = "manifest";
/// Merge the newest run into the one before it when it is at least this fraction of it.
const MERGE_RATIO: usize = 2;
/// At most this many runs, whatever their sizes.
const MAX_RUNS: usize = 24;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Manifest {
    format: u32,
    /// Watermark: seq and record hash of the last record applied.
    last: Option<(u64, Hash)>,
    /// Run ids, oldest first.
    runs: Vec<u64>,
    /// The id the next run gets.
    next: u64,
}

#[derive(Default)]
struct MemNodes {
    map: HashMap<Hash, Loc>,
    last: Option<(u64, Hash)>,
}

struct Disk {
    dir: PathBuf,
    runs: Vec<Run>,
    last: Option<(u64, Hash)>,
    next: u64,
}

enum Backend {
    Disk(RwLock<Disk>),
    Mem(RwLock<MemNodes>),
}

pub(crate) struct NodeIndex {
    contents: Contents,
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

/// The index entries one batch of records adds, with the watermark after it.
struct Batch {
    /// True when no entry's hash is in the index yet (objects of packs this transaction wrote:
    /// `put_tree` staged only objects the index did not have, under the writer lock), so the
    /// per-entry lookup can be skipped.
    absent: bool,
    first_seq: u64,
    last: (u64, Hash),
    entries: Vec<(Hash, Loc)>,
}

impl Disk {
    /// Open `dir`: the runs its manifest names. Anything else there (an older format, a crashed
    /// write) is removed; a manifest that is unreadable, of another format or names a damaged
    /// run gives an empty index, which catch-up derives again.
    fn open(dir: &Path) -> Result<Disk, StoreError> {
        fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
        let mp = dir.join(MANIFEST);
        let manifest: Option<Manifest> = match fs::read(&mp) {
            Ok(b) => match serde_json::from_slice::<Manifest>(&b) {
                Ok(m) if m.format == FORMAT => Some(m),
                _ => {
                    warn!("node index has another format; deriving it again");
                    None
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(StoreError::io(&mp)(e)),
        };
        let mut disk = Disk { dir: dir.to_path_buf(), runs: Vec::new(), last: None, next: 1 };
        if let Some(m) = &manifest {
            let mut runs = Vec::with_capacity(m.runs.len());
            let mut ok = true;
            for &id in &m.runs {
                match Run::open(dir, id) {
                    Ok(r) => runs.push(r),
                    Err(e) => {
                        warn!(error = %e, "node index run unusable; deriving the index again");
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                disk.runs = runs;
                disk.last = m.last;
            }
            disk.next = m.next.max(m.runs.iter().max().map_or(1, |x| x + 1));
        }
        // Leftovers: files the manifest does not name (an older format's sled files included).
        let keep: HashSet<String> =
            disk.runs.iter().map(|r| Run::file_name(r.id)).chain([MANIFEST.to_string()]).collect();
        let mut removed = false;
        for e in fs::read_dir(dir).map_err(StoreError::io(dir))? {
            let e = e.map_err(StoreError::io(dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if keep.contains(&name) {
                continue;
            }
            let p = e.path();
            let r = if p.is_dir() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
            r.map_err(StoreError::io(&p))?;
            removed = true;
        }
        if removed {
            sync_dir(dir)?;
        }
        Ok(disk)
    }

    fn get(&self, h: &Hash) -> Result<Option<Loc>, StoreError> {
        for r in &self.runs {
            if let Some(l) = r.get(h)? {
                return Ok(Some(l));
            }
        }
        Ok(None)
    }

    fn save_manifest(&self) -> Result<(), StoreError> {
        let m = Manifest { format: FORMAT, last: self.last, runs: self.runs.iter().map(|r| r.id).collect(), next: self.next };
        let bytes = serde_json::to_vec(&m).map_err(ix_err)?;
        write_atomic(&self.dir.join(MANIFEST), &bytes)
    }

    /// Add a batch: its new entries as one run (merged with the runs before it while they are
    /// of similar size), then the manifest with the new watermark.
    fn apply(&mut self, b: Batch) -> Result<(), StoreError> {
        let expect = self.last.map(|(s, _)| s).unwrap_or(0) + 1;
        if b.first_seq != expect {
            return Err(ix_err(format!("record seq {} applied out of order (expects {expect})", b.first_seq)));
        }
        let mut entries = b.entries;
        // In key order, first entry of a hash wins (the sort is stable).
        entries.sort_by_key(|e| e.0);
        entries.dedup_by_key(|e| e.0);
        if !b.absent {
            let mut keep = Vec::with_capacity(entries.len());
            for e in entries {
                if self.get(&e.0)?.is_none() {
                    keep.push(e);
                }
            }
            entries = keep;
        }
        let mut dropped: Vec<u64> = Vec::new();
        if !entries.is_empty() {
            // Merge with the newest runs while they are not much larger than what is added.
            let mut absorb = 0;
            let mut size = entries.len();
            while absorb < self.runs.len() {
                let prev = &self.runs[self.runs.len() - 1 - absorb];
                if size * MERGE_RATIO >= prev.count() || self.runs.len() - absorb >= MAX_RUNS {
                    size += prev.count();
                    absorb += 1;
                } else {
                    break;
                }
            }
            let keep = self.runs.len() - absorb;
            if absorb > 0 {
                let merged = runs::merge(&self.runs[keep..].iter().collect::<Vec<_>>())?;
                let mut all = Vec::with_capacity(merged.len() + entries.len());
                // both sorted, disjoint
                let (mut i, mut j) = (0, 0);
                while i < merged.len() || j < entries.len() {
                    if j == entries.len() || (i < merged.len() && merged[i].0 < entries[j].0) {
                        all.push(merged[i]);
                        i += 1;
                    } else {
                        all.push(entries[j]);
                        j += 1;
                    }
                }
                entries = all;
            }
            let id = self.next;
            runs::write(&self.dir, id, &entries)?;
            let run = Run::open(&self.dir, id)?;
            self.next = id + 1;
            dropped = self.runs.drain(keep..).map(|r| r.id).collect();
            self.runs.push(run);
        }
        self.last = Some(b.last);
        self.save_manifest()?;
        for id in dropped {
            let p = self.dir.join(Run::file_name(id));
            if let Err(e) = fs::remove_file(&p) {
                warn!(path = %p.display(), error = %e, "could not remove a merged node index run (removed on next open)");
            }
        }
        Ok(())
    }

    /// Replace everything with `b` (a rebuild): a fresh run, then the manifest naming only it.
    fn replace(&mut self, b: Option<Batch>) -> Result<(), StoreError> {
        let old: Vec<u64> = self.runs.iter().map(|r| r.id).collect();
        let mut fresh = Disk { dir: self.dir.clone(), runs: Vec::new(), last: None, next: self.next };
        match b {
            Some(b) => fresh.apply(b)?,
            None => fresh.save_manifest()?,
        }
        for id in old {
            let _ = fs::remove_file(self.dir.join(Run::file_name(id)));
        }
        *self = fresh;
        Ok(())
    }
}

impl NodeIndex {
    pub(crate) fn open_disk(dir: &Path, contents: Contents) -> Result<NodeIndex, StoreError> {
        Ok(NodeIndex { contents, backend: Backend::Disk(RwLock::new(Disk::open(dir)?)), apply: Mutex::new(()) })
    }

    pub(crate) fn memory(contents: Contents) -> NodeIndex {
        NodeIndex { contents, backend: Backend::Mem(RwLock::new(MemNodes::default())), apply: Mutex::new(()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.apply.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, h: &Hash) -> Result<Option<Loc>, StoreError> {
        match &self.backend {
            Backend::Disk(d) => read(d).get(h),
            Backend::Mem(m) => Ok(read(m).map.get(h).copied()),
        }
    }

    pub(crate) fn last_applied(&self) -> Result<Option<(u64, Hash)>, StoreError> {
        match &self.backend {
            Backend::Disk(d) => Ok(read(d).last),
            Backend::Mem(m) => Ok(read(m).last),
        }
    }

    /// Every entry, sorted by object hash (for `verify`).
    pub(crate) fn entries(&self) -> Result<Vec<(Hash, Loc)>, StoreError> {
        match &self.backend {
            Backend::Disk(d) => {
                let d = read(d);
                runs::merge(&d.runs.iter().collect::<Vec<_>>())
            }
            Backend::Mem(m) => {
                let mut out: Vec<_> = read(m).map.iter().map(|(h, l)| (*h, *l)).collect();
                out.sort_by_key(|x| x.0);
                Ok(out)
            }
        }
    }

    /// Structural checks of the stored form (run checksums and order; for `verify`).
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Disk(d) => read(d).runs.iter().try_for_each(Run::check),
            Backend::Mem(_) => Ok(()),
        }
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
            Backend::Disk(d) => write(d).apply(b),
            Backend::Mem(m) => Self::apply_mem(&mut write(m), b),
        }
    }

    /// After a commit: add the entries of the committed records, as one batch (packs this
    /// transaction wrote come from memory, others are read). Failures are logged; the index
    /// catches up later.
    /// `txn`: the containers of this index's kind the transaction wrote; `other`: those of the
    /// other kind (naming them does not make the entries possibly known).
    pub(crate) fn apply_committed(
        &self,
        store: &Store,
        recs: &[(&LedgerRecord, Hash)],
        txn: &dyn Written,
        other: &dyn Written,
    ) {
        let _g = self.lock();
        let Some(&(last_rec, last_hash)) = recs.last() else { return };
        let r = self.last_applied().and_then(|applied| {
            let from = applied.map(|(s, _)| s).unwrap_or(0);
            if from >= last_rec.seq {
                return Ok(()); // a concurrent catch-up got there first
            }
            // Entries all new to the index: every pack the records name was written by this
            // transaction and is named for the first time.
            let mut named: HashSet<Hash> = HashSet::new();
            let mut absent = true;
            let mut entries = Vec::new();
            let mut first = None;
            for (rec, _) in recs.iter().filter(|(r, _)| r.seq > from) {
                first.get_or_insert(rec.seq);
                absent &= rec.rec.derived.iter().all(|d| {
                    (txn.entries_of(d).is_some() && !named.contains(d)) || other.entries_of(d).is_some()
                });
                named.extend(rec.rec.derived.iter().copied());
                entries.extend(record_entries(store, self.contents, rec, Some(txn))?);
            }
            let Some(first_seq) = first else { return Ok(()) };
            self.apply_batch(Batch { absent, first_seq, last: (last_rec.seq, last_hash), entries })
        });
        if let Err(e) = r {
            warn!(seq = last_rec.seq, error = %e, "node index update failed; it will catch up");
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
                        match record_entries(store, self.contents, r, None) {
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
                Ok(())
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
        let mut batch = Batch { absent: true, first_seq: 1, last: (0, Hash::ZERO), entries: Vec::new() };
        for (r, h) in &recs {
            batch.entries.extend(record_entries(store, self.contents, r, None)?);
            batch.last = (r.seq, *h);
        }
        let batch = if recs.is_empty() { None } else { Some(batch) };
        match &self.backend {
            // `absent`: the fresh index is empty, and the batch dedups its own entries.
            Backend::Disk(d) => write(d).replace(batch),
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
}

/// What an index holds: the objects of the packs (tree nodes), or the blobs of the bundles
/// (small blobs stored together, see `crate::bundle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Contents {
    Packs,
    Bundles,
}

impl Contents {
    fn magic(self) -> &'static [u8; 8] {
        match self {
            Contents::Packs => pack::MAGIC,
            Contents::Bundles => crate::bundle::MAGIC,
        }
    }
}

/// Containers (packs or bundles) a transaction wrote, with their entries and length: their
/// entries come from memory when the transaction commits.
pub(crate) trait Written {
    fn entries_of(&self, container: &Hash) -> Option<(&[Entry], u64)>;
}

impl Written for TxnTree {
    fn entries_of(&self, container: &Hash) -> Option<(&[Entry], u64)> {
        TxnTree::entries_of(self, container)
    }
}

impl Written for HashMap<Hash, (Vec<Entry>, u64)> {
    fn entries_of(&self, container: &Hash) -> Option<(&[Entry], u64)> {
        self.get(container).map(|(e, n)| (e.as_slice(), *n))
    }
}

/// The entries a record contributes: every object of every valid container of the index's kind
/// in its `derived` list, in order. Containers written by `txn` come from memory.
pub(crate) fn record_entries(
    store: &Store,
    contents: Contents,
    rec: &LedgerRecord,
    txn: Option<&dyn Written>,
) -> Result<Vec<(Hash, Loc)>, StoreError> {
    let mut out = Vec::new();
    let mut done = HashSet::new();
    for d in &rec.rec.derived {
        if !done.insert(*d) {
            continue;
        }
        let (entries, pack_len) = match txn.and_then(|t| t.entries_of(d)) {
            Some((e, n)) => (e.to_vec(), n),
            None => match load_valid_container(store, d, contents.magic())? {
                Ok(Some((b, e))) => (e, b.len() as u64),
                Ok(None) => continue,
                Err(msg) => {
                    warn!(container = %d, seq = rec.seq, %msg, "{contents:?}: not indexed");
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
    load_valid_container(store, h, pack::MAGIC)
}

/// [`load_valid_pack`] for packs or bundles (by their magic): containers are blob files of
/// their own, never bundled.
pub(crate) fn load_valid_container(
    store: &Store,
    h: &Hash,
    magic: &[u8; 8],
) -> Result<Result<Option<LoadedPack>, String>, StoreError> {
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
            if !prefix[..got].starts_with(magic) {
                return Ok(Ok(None));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(None)),
        Err(e) => return Err(StoreError::io(&path)(e)),
    }
    let bytes = match store.get_blob(h) {
        Ok(b) => b,
        Err(StoreError::BlobCorrupt { actual, .. }) => {
            return Ok(Err(format!("the blob is corrupt (hashes to {actual})")));
        }
        Err(StoreError::BlobNotFound { .. }) => return Ok(Ok(None)),
        Err(e) => return Err(e),
    };
    let entries = match pack::parse_with(magic, &bytes) {
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
