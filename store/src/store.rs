//! The store handle and write transactions.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};

use serde::{Deserialize, Serialize};
use tracing::{debug, info, warn};

use crate::error::StoreError;
use crate::fsutil::{self, create_dir_durable, remove_file_if_exists, sync_dir, write_atomic};
use crate::hash::Hash;
use crate::index::{Index, IndexBackend, MemIndex, SledIndex};
use crate::ledger::{self, Damage, Slot};
use crate::model::{LedgerRecord, NewRecord, RebuildStats};
use crate::tree::TxnTree;
use crate::tree::nodeindex::{Contents, NodeIndex};

const FAILPOINT_ENV: &str = "REGELBANK_STORE_FAILPOINT";

/// The intent file of an in-flight commit.
#[derive(Serialize, Deserialize, Debug)]
struct Intent {
    seq: u64,
    record_hash: Hash,
    new_blobs: Vec<Hash>,
}

#[derive(Default)]
pub(crate) struct LedgerState {
    pub(crate) slots: Vec<Slot>,
    /// Byte length of the committed (intact) ledger.
    pub(crate) len: u64,
}

impl LedgerState {
    fn last(&self) -> (u64, Hash) {
        match self.slots.last() {
            Some(s) => (self.slots.len() as u64, s.hash),
            None => (0, Hash::ZERO),
        }
    }
}

pub(crate) struct Writer {
    ledger: Option<File>,
}

/// A store directory: blobs, ledger, index. See the crate docs for layout and protocols.
pub struct Store {
    dir: PathBuf,
    read_only: bool,
    _lock: Option<File>,
    pub(crate) writer: Mutex<Writer>,
    pub(crate) ledger: RwLock<LedgerState>,
    pub(crate) damage: RwLock<Option<Damage>>,
    pub(crate) index: Box<dyn IndexBackend>,
    /// Derived node index of the trees (see `tree`).
    pub(crate) nodes: NodeIndex,
    /// Derived index of the bundled blobs (see `bundle`).
    pub(crate) blobs: NodeIndex,
    refuse: Mutex<Option<String>>,
    failpoint: Mutex<Option<String>>,
    txn_counter: AtomicU64,
    /// Open derived spaces (see `derived`), one handle per name.
    pub(crate) derived_spaces: Mutex<std::collections::HashMap<String, std::sync::Arc<crate::derived::Derived>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).field("read_only", &self.read_only).finish()
    }
}

impl Store {
    /// Open (creating if missing) a store for reading and writing, running crash recovery and
    /// index catch-up. Fails with [`StoreError::Locked`] if another handle or process has it.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
        let dir = dir.to_path_buf();
        create_dir_durable(&dir.join("blobs"))?;
        create_dir_durable(&dir.join("staging"))?;

        let lock_path = dir.join("LOCK");
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(StoreError::io(&lock_path))?;
        match lock_file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(StoreError::Locked { dir, lock_file: lock_path }),
            Err(TryLockError::Error(e)) => return Err(StoreError::io(&lock_path)(e)),
        }

        // 2. stale staging and temp files
        let staging = dir.join("staging");
        let mut removed = 0;
        for entry in fs::read_dir(&staging).map_err(StoreError::io(&staging))? {
            let entry = entry.map_err(StoreError::io(&staging))?;
            let p = entry.path();
            let r = if p.is_dir() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
            r.map_err(StoreError::io(&p))?;
            removed += 1;
        }
        if removed > 0 {
            info!(removed, "removed stale staging entries");
            sync_dir(&staging)?;
        }
        remove_file_if_exists(&dir.join("commit.intent.tmp"))?;

        // 3. ledger scan
        let intent_path = dir.join("commit.intent");
        let intent: Option<Result<Intent, String>> = match fs::read(&intent_path) {
            Ok(b) => Some(serde_json::from_slice(&b).map_err(|e| e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(StoreError::io(&intent_path)(e)),
        };
        let ledger_path = dir.join("ledger");
        let mut referenced: HashSet<Hash> = HashSet::new();
        let want_refs = matches!(intent, Some(Ok(_)));
        let scan = ledger::scan(&ledger_path, None, &mut |r, _| {
            if want_refs {
                referenced.extend(r.rec.referenced_hashes());
            }
            Ok(())
        })?;
        let mut refuse = None;
        let damage = scan.damage.first().cloned();
        if let Some(d) = &damage {
            warn!(offset = d.offset, message = %d.message, "ledger is damaged; refusing writes");
            refuse = Some(format!("ledger damaged at byte {}: {}", d.offset, d.message));
        } else if let Some((off, n)) = scan.torn {
            warn!(offset = off, bytes = n, "truncating torn ledger tail (unacknowledged append)");
            let f = OpenOptions::new().write(true).open(&ledger_path).map_err(StoreError::io(&ledger_path))?;
            f.set_len(off).map_err(StoreError::io(&ledger_path))?;
            f.sync_all().map_err(StoreError::io(&ledger_path))?;
        }

        // 4. intent recovery
        match intent {
            None => {}
            Some(Err(msg)) => {
                warn!(%msg, "unreadable commit.intent; refusing writes");
                refuse.get_or_insert(format!("unreadable {}: {msg}", intent_path.display()));
            }
            Some(Ok(it)) if damage.is_none() => {
                let landed = it
                    .seq
                    .checked_sub(1)
                    .and_then(|i| scan.slots.get(i as usize))
                    .is_some_and(|s| s.hash == it.record_hash);
                if landed {
                    debug!(seq = it.seq, "commit intent: record landed");
                } else {
                    let mut dirs = BTreeSet::new();
                    for h in &it.new_blobs {
                        if referenced.contains(h) {
                            continue;
                        }
                        let p = blob_path_in(&dir, h);
                        if remove_file_if_exists(&p)? {
                            info!(hash = %h, "removed blob of a crashed commit");
                            if let Some(parent) = p.parent() {
                                dirs.insert(parent.to_path_buf());
                            }
                        }
                    }
                    for d in &dirs {
                        sync_dir(d)?;
                    }
                    remove_empty_fanout(&dir, &dirs)?;
                }
                fs::remove_file(&intent_path).map_err(StoreError::io(&intent_path))?;
                sync_dir(&dir)?;
            }
            Some(Ok(_)) => warn!("commit.intent left in place: ledger is damaged"),
        }

        let existed = ledger_path.exists();
        let ledger_file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&ledger_path)
            .map_err(StoreError::io(&ledger_path))?;
        if !existed {
            sync_dir(&dir)?;
        }

        let index = SledIndex::open(&dir.join("index"))?;
        let nodes = NodeIndex::open_disk(&dir.join("index").join("nodes"), Contents::Packs)?;
        // (not `index/blobs/`: sled keeps large values of the catalogue index there)
        let blobs = NodeIndex::open_disk(&dir.join("index").join("bundles"), Contents::Bundles)?;
        let store = Store {
            dir,
            read_only: false,
            _lock: Some(lock_file),
            writer: Mutex::new(Writer { ledger: Some(ledger_file) }),
            ledger: RwLock::new(LedgerState { slots: scan.slots, len: scan.valid_len }),
            damage: RwLock::new(damage),
            index: Box::new(index),
            nodes,
            blobs,
            refuse: Mutex::new(refuse),
            failpoint: Mutex::new(None),
            txn_counter: AtomicU64::new(0),
            derived_spaces: Mutex::new(std::collections::HashMap::new()),
        };
        store.catch_up_index()?;
        Ok(store)
    }

    /// Open a store for reading only, without taking the lock, so it works while another
    /// process holds the store. Never modifies the directory; the index is derived in memory
    /// from the ledger. A torn or in-flight tail is ignored. `begin` fails with `ReadOnly`.
    pub fn open_read_only(dir: &Path) -> Result<Store, StoreError> {
        let meta = fs::metadata(dir).map_err(StoreError::io(dir))?;
        if !meta.is_dir() {
            return Err(StoreError::io(dir)(std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory")));
        }
        let store = Store {
            dir: dir.to_path_buf(),
            read_only: true,
            _lock: None,
            writer: Mutex::new(Writer { ledger: None }),
            ledger: RwLock::new(LedgerState::default()),
            damage: RwLock::new(None),
            index: Box::new(MemIndex::default()),
            nodes: NodeIndex::memory(Contents::Packs),
            blobs: NodeIndex::memory(Contents::Bundles),
            refuse: Mutex::new(Some("opened read-only".into())),
            failpoint: Mutex::new(None),
            txn_counter: AtomicU64::new(0),
            derived_spaces: Mutex::new(std::collections::HashMap::new()),
        };
        store.refresh()?;
        Ok(store)
    }

    /// Read-only handles: pick up records committed since open. Returns the last seq.
    /// Read-write handles are always current; this just returns the last seq.
    pub fn refresh(&self) -> Result<u64, StoreError> {
        if !self.read_only {
            return Ok(self.last_seq());
        }
        let _w = lock(&self.writer);
        let mut recs = Vec::new();
        let from = self.last_seq();
        let scan = ledger::scan(&self.ledger_path(), None, &mut |r, h| {
            if r.seq > from {
                recs.push((r.clone(), h));
            }
            Ok(())
        })?;
        for (r, h) in &recs {
            self.index.apply(r, *h)?;
        }
        *self.ledger_write() = LedgerState { slots: scan.slots, len: scan.valid_len };
        *self.damage.write().unwrap_or_else(|p| p.into_inner()) = scan.damage.first().cloned();
        Ok(self.last_seq())
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True for handles from [`Store::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub(crate) fn ledger_path(&self) -> PathBuf {
        self.dir.join("ledger")
    }
    fn intent_path(&self) -> PathBuf {
        self.dir.join("commit.intent")
    }
    pub(crate) fn blobs_dir(&self) -> PathBuf {
        self.dir.join("blobs")
    }
    pub(crate) fn staging_dir(&self) -> PathBuf {
        self.dir.join("staging")
    }

    pub(crate) fn ledger_read(&self) -> std::sync::RwLockReadGuard<'_, LedgerState> {
        self.ledger.read().unwrap_or_else(|p| p.into_inner())
    }
    fn ledger_write(&self) -> std::sync::RwLockWriteGuard<'_, LedgerState> {
        self.ledger.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Path where the blob with this hash lives (whether or not it exists).
    pub fn blob_path(&self, h: &Hash) -> PathBuf {
        blob_path_in(&self.dir, h)
    }

    /// True if a blob with this hash is stored, as a file of its own or in a bundle (not
    /// verified).
    pub fn has_blob(&self, h: &Hash) -> bool {
        self.blob_path(h).is_file() || self.bundled(h).ok().flatten().is_some()
    }

    /// Where a bundled blob is: (bundle, path of the bundle, offset, length). `None` for a blob
    /// that is not in a bundle.
    fn bundled(&self, h: &Hash) -> Result<Option<(Hash, PathBuf, u64, u32)>, StoreError> {
        self.blobs.catch_up(self)?;
        Ok(self.blobs.get(h)?.map(|l| (l.pack, self.blob_path(&l.pack), l.offset, l.len)))
    }

    /// A bundled blob's bytes, verified; `None` when it is in no bundle.
    fn read_bundled(&self, h: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        let Some((bundle, path, offset, len)) = self.bundled(h)? else { return Ok(None) };
        let f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::BlobNotFound { hash: bundle, path });
            }
            Err(e) => return Err(StoreError::io(path)(e)),
        };
        let mut buf = vec![0u8; len as usize];
        match fsutil::read_exact_at(&f, &mut buf, offset) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(StoreError::BlobCorrupt { hash: *h, path, actual: Hash::of(&buf) });
            }
            Err(e) => return Err(StoreError::io(path)(e)),
        }
        let actual = Hash::of(&buf);
        if actual != *h {
            return Err(StoreError::BlobCorrupt { hash: *h, path, actual });
        }
        Ok(Some(buf))
    }

    /// Read a blob, verifying its bytes against the hash.
    pub fn get_blob(&self, h: &Hash) -> Result<Vec<u8>, StoreError> {
        let path = self.blob_path(h);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return match self.read_bundled(h)? {
                    Some(b) => Ok(b),
                    None => Err(StoreError::BlobNotFound { hash: *h, path }),
                };
            }
            Err(e) => return Err(StoreError::io(path)(e)),
        };
        let actual = Hash::of(&bytes);
        if actual != *h {
            return Err(StoreError::BlobCorrupt { hash: *h, path, actual });
        }
        Ok(bytes)
    }

    /// Verify a blob without loading it into memory (a bundled one, being small, is read);
    /// returns its size.
    pub fn check_blob(&self, h: &Hash) -> Result<u64, StoreError> {
        let path = self.blob_path(h);
        match fsutil::hash_file(&path) {
            Ok((actual, n)) if actual == *h => Ok(n),
            Ok((actual, _)) => Err(StoreError::BlobCorrupt { hash: *h, path, actual }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match self.read_bundled(h)? {
                Some(b) => Ok(b.len() as u64),
                None => Err(StoreError::BlobNotFound { hash: *h, path }),
            },
            Err(e) => Err(StoreError::io(path)(e)),
        }
    }

    /// seq of the last committed record (0 = empty ledger).
    pub fn last_seq(&self) -> u64 {
        self.ledger_read().last().0
    }

    /// Hash of the ledger record with this seq (its checksum, the next record's `prev`).
    pub fn record_hash(&self, seq: u64) -> Option<Hash> {
        let st = self.ledger_read();
        seq.checked_sub(1).and_then(|i| st.slots.get(i as usize)).map(|s| s.hash)
    }

    /// All committed ledger records in order. Fails with `LedgerCorrupt` if the ledger is
    /// damaged (rather than silently returning part of the history).
    pub fn records(&self) -> Result<Vec<LedgerRecord>, StoreError> {
        self.check_ledger_intact()?;
        let len = self.ledger_read().len;
        Ok(ledger::read_all(&self.ledger_path(), len)?.into_iter().map(|(r, _)| r).collect())
    }

    /// One ledger record by seq (records before a damaged spot stay readable).
    pub fn record(&self, seq: u64) -> Result<Option<LedgerRecord>, StoreError> {
        let slot = {
            let st = self.ledger_read();
            match seq.checked_sub(1).and_then(|i| st.slots.get(i as usize)) {
                Some(s) => *s,
                None => return Ok(None),
            }
        };
        ledger::read_at(&self.ledger_path(), &slot).map(Some)
    }

    fn check_ledger_intact(&self) -> Result<(), StoreError> {
        if let Some(d) = self.damage.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Err(StoreError::LedgerCorrupt {
                path: self.ledger_path(),
                offset: d.offset,
                after_seq: d.after_seq,
                message: d.message.clone(),
            });
        }
        Ok(())
    }

    /// The derived indexes.
    pub fn index(&self) -> &dyn Index {
        self.index.as_index()
    }

    /// Recreate every index from the ledger (fresh tree, swapped in when complete); the node
    /// index from the ledger and the packs it names.
    pub fn rebuild(&self) -> Result<RebuildStats, StoreError> {
        let _w = lock(&self.writer);
        self.check_ledger_intact()?;
        let len = self.ledger_read().len;
        let recs = ledger::read_all(&self.ledger_path(), len)?;
        let n = recs.len() as u64;
        self.index.rebuild(&mut recs.into_iter().map(Ok))?;
        self.index.flush()?;
        self.blobs.rebuild(self)?;
        self.nodes.rebuild(self)?;
        let idx = self.index();
        Ok(RebuildStats { records: n, works: idx.works()?.len() as u64, expressions: idx.expressions()?.len() as u64 })
    }

    /// Bring the index up to the ledger: apply missing records, or rebuild if it disagrees.
    pub(crate) fn catch_up_index(&self) -> Result<(), StoreError> {
        let (n, len, slot_hash) = {
            let st = self.ledger_read();
            let applied = self.index.last_applied()?;
            let sh = applied.and_then(|(s, _)| s.checked_sub(1).and_then(|i| st.slots.get(i as usize)).map(|x| x.hash));
            (st.slots.len() as u64, st.len, sh)
        };
        let applied = self.index.last_applied()?;
        match applied {
            Some((s, h)) if s > n || slot_hash != Some(h) => {
                warn!(index_seq = s, ledger_seq = n, "index disagrees with ledger; rebuilding");
                let recs = ledger::read_all(&self.ledger_path(), len)?;
                self.index.rebuild(&mut recs.into_iter().map(Ok))?;
                self.index.flush()?;
            }
            _ => {
                let from = applied.map(|(s, _)| s).unwrap_or(0);
                if from < n {
                    info!(from, to = n, "index catch-up");
                    let idx = &self.index;
                    ledger::scan(&self.ledger_path(), Some(len), &mut |r, h| {
                        if r.seq > from { idx.apply(r, h) } else { Ok(()) }
                    })?;
                    self.index.flush()?;
                }
            }
        }
        self.blobs.catch_up(self)?;
        self.nodes.catch_up(self)
    }

    /// Start a write transaction (blocks while another transaction of this handle is open).
    pub fn begin(&self) -> Result<Txn<'_>, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        let guard = lock(&self.writer);
        self.check_writable()?;
        let n = self.txn_counter.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let id = format!("{}-{nanos}-{n}", std::process::id());
        Ok(Txn {
            store: self,
            guard: Some(guard),
            staging: self.staging_dir().join(&id),
            staging_created: false,
            staged: BTreeMap::new(),
            bundle: false,
            mem_bytes: 0,
            tmp_counter: 0,
            crashed: false,
            tree: TxnTree::default(),
        })
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        match lock(&self.refuse).as_ref() {
            Some(reason) => Err(StoreError::WritesRefused { reason: reason.clone() }),
            None => Ok(()),
        }
    }

    fn refuse_writes(&self, reason: String) {
        warn!(%reason, "store now refuses writes");
        lock(&self.refuse).get_or_insert(reason);
    }

    /// Test hook: make the next commits stop at the named point as if the process died
    /// there (see crate docs). `None` clears it.
    #[doc(hidden)]
    pub fn set_failpoint(&self, name: Option<&str>) {
        *lock(&self.failpoint) = name.map(str::to_string);
    }

    fn failpoint(&self, name: &str) -> Result<(), StoreError> {
        if std::env::var(FAILPOINT_ENV).is_ok_and(|v| v == name) {
            eprintln!("regelbank store: failpoint {name}: aborting process");
            std::process::abort();
        }
        if lock(&self.failpoint).as_deref() == Some(name) {
            self.refuse_writes(format!("simulated crash at failpoint {name}; reopen the store"));
            return Err(StoreError::Failpoint(name.to_string()));
        }
        Ok(())
    }

    /// Undo step 6 of a commit that failed before its ledger append.
    fn rollback_new_blobs(&self, new_blobs: &[Hash]) {
        let mut ok = true;
        let mut dirs = BTreeSet::new();
        for h in new_blobs {
            let p = self.blob_path(h);
            match remove_file_if_exists(&p) {
                Ok(_) => {
                    if let Some(d) = p.parent() {
                        dirs.insert(d.to_path_buf());
                    }
                }
                Err(e) => {
                    warn!(error = %e, "rollback: cannot remove blob");
                    ok = false;
                }
            }
        }
        for d in &dirs {
            ok &= sync_dir(d).is_ok();
        }
        ok &= remove_empty_fanout(&self.dir, &dirs).is_ok();
        if ok {
            ok = remove_file_if_exists(&self.intent_path()).is_ok();
        }
        if !ok {
            self.refuse_writes("rollback of a failed commit failed; reopen the store to recover".into());
        }
    }

    /// Whether a blob exists and is intact (`Some(true)`), exists but is damaged
    /// (`Some(false)`), or is absent (`None`).
    fn existing_blob_state(&self, h: &Hash) -> Option<bool> {
        let p = self.blob_path(h);
        if !p.exists() {
            return match self.read_bundled(h) {
                Ok(Some(_)) => Some(true),
                Ok(None) => None,
                Err(e) => {
                    warn!(hash = %h, error = %e, "bundled blob unreadable; it will be stored again");
                    Some(false)
                }
            };
        }
        match fsutil::hash_file(&p) {
            Ok((actual, _)) if actual == *h => Some(true),
            Ok((actual, _)) => {
                warn!(hash = %h, %actual, path = %p.display(), "stored blob is corrupt; it will be replaced");
                Some(false)
            }
            Err(e) => {
                warn!(hash = %h, error = %e, "stored blob unreadable; it will be replaced");
                Some(false)
            }
        }
    }
}

/// Remove fan-out dirs (`blobs/xx`) left empty by a rollback, so the directory tree is
/// exactly as before the failed commit.
fn remove_empty_fanout(dir: &Path, dirs: &BTreeSet<PathBuf>) -> Result<(), StoreError> {
    let mut any = false;
    for d in dirs {
        let empty = fs::read_dir(d).map_err(StoreError::io(d))?.next().is_none();
        if empty {
            match fs::remove_dir(d) {
                Ok(()) => any = true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io(d)(e)),
            }
        }
    }
    if any {
        sync_dir(&dir.join("blobs"))?;
    }
    Ok(())
}

pub(crate) fn blob_path_in(dir: &Path, h: &Hash) -> PathBuf {
    let hex = h.to_hex();
    dir.join("blobs").join(&hex[..2]).join(hex)
}

/// A blob staged by a transaction: a file in its staging directory, or (small, in a bundling
/// transaction) its bytes, written into its record's bundle at commit.
enum Staged {
    File(PathBuf),
    Mem(Vec<u8>),
}

/// A write transaction. Dropping it without [`Txn::commit`] aborts it: its staging dir is
/// removed and the store is unchanged.
pub struct Txn<'s> {
    pub(crate) store: &'s Store,
    guard: Option<MutexGuard<'s, Writer>>,
    staging: PathBuf,
    staging_created: bool,
    staged: BTreeMap<Hash, Staged>,
    /// Bundle small blobs (see `bundle`), and the bytes held in memory for that.
    bundle: bool,
    mem_bytes: usize,
    tmp_counter: u64,
    crashed: bool,
    /// Packs written by `put_tree` (see `tree`).
    pub(crate) tree: TxnTree,
}

impl std::fmt::Debug for Txn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Txn").field("staging", &self.staging).field("staged", &self.staged.len()).finish()
    }
}

impl<'s> Txn<'s> {
    pub(crate) fn ensure_staging(&mut self) -> Result<&Path, StoreError> {
        if !self.staging_created {
            fs::create_dir_all(&self.staging).map_err(StoreError::io(&self.staging))?;
            self.staging_created = true;
        }
        Ok(&self.staging)
    }

    /// Hashes staged so far in this transaction (blobs that are not yet in the store).
    pub fn staged(&self) -> Vec<Hash> {
        self.staged.keys().copied().collect()
    }

    /// Bundle the small blobs this transaction stages: instead of a file of its own each, the
    /// new blobs under 1 MiB a record names go into ONE bundle blob per record at commit, which
    /// commit appends to the record's `derived` list (see the crate docs). Off by default.
    pub fn bundle_small_blobs(&mut self, on: bool) {
        self.bundle = on;
    }

    /// Stage a blob. Idempotent: nothing is written if the blob is already staged or stored
    /// intact (a stored blob that fails verification is staged again and replaced at commit).
    pub fn put_blob(&mut self, bytes: &[u8]) -> Result<Hash, StoreError> {
        self.put_blob_parts(&[bytes])
    }

    /// Stage the blob that is the concatenation of `parts` (without concatenating them in
    /// memory); like [`Txn::put_blob`] otherwise.
    pub(crate) fn put_blob_parts(&mut self, parts: &[&[u8]]) -> Result<Hash, StoreError> {
        self.stage_parts(parts, true)
    }

    /// [`Txn::put_blob_parts`] as a file of its own, never bundled (packs are read by path).
    pub(crate) fn put_blob_parts_file(&mut self, parts: &[&[u8]]) -> Result<Hash, StoreError> {
        self.stage_parts(parts, false)
    }

    fn stage_parts(&mut self, parts: &[&[u8]], may_bundle: bool) -> Result<Hash, StoreError> {
        let mut hasher = crate::hash::Hasher::new();
        for p in parts {
            hasher.update(p);
        }
        let h = hasher.finish();
        if self.staged.contains_key(&h) {
            return Ok(h);
        }
        let state = self.store.existing_blob_state(&h);
        if state == Some(true) {
            return Ok(h);
        }
        let len: usize = parts.iter().map(|p| p.len()).sum();
        // (a damaged stored blob is replaced by a file of its own, which is read first)
        if may_bundle && self.bundle && state.is_none() && len <= crate::bundle::MAX_BLOB
            && self.mem_bytes + len <= crate::bundle::MAX_IN_MEMORY
        {
            self.mem_bytes += len;
            self.staged.insert(h, Staged::Mem(parts.concat()));
            return Ok(h);
        }
        let path = self.ensure_staging()?.join(h.to_hex());
        {
            let mut f = File::create(&path).map_err(StoreError::io(&path))?;
            for p in parts {
                f.write_all(p).map_err(StoreError::io(&path))?;
            }
            // No fsync here: commit makes every staged blob durable with one filesystem sync.
            if len as u64 >= fsutil::WRITEBACK_FROM {
                fsutil::start_writeback(&f);
            }
        }
        self.staged.insert(h, Staged::File(path));
        Ok(h)
    }

    /// A fresh path in this transaction's staging directory for a temporary file.
    pub(crate) fn staging_temp(&mut self, what: &str) -> Result<PathBuf, StoreError> {
        self.tmp_counter += 1;
        let name = format!("{what}-{}.tmp", self.tmp_counter);
        Ok(self.ensure_staging()?.join(name))
    }

    /// Stage a blob from a reader, hashing while streaming to a staging temp file.
    /// Returns (hash, size).
    pub fn put_blob_reader(&mut self, r: &mut dyn std::io::Read) -> Result<(Hash, u64), StoreError> {
        self.tmp_counter += 1;
        let name = format!("incoming-{}.tmp", self.tmp_counter);
        let tmp = self.ensure_staging()?.join(name);
        let (h, n) = {
            let mut f = File::create(&tmp).map_err(StoreError::io(&tmp))?;
            let res = fsutil::hash_reader(r, &mut f);
            match res {
                Ok(hn) => {
                    if hn.1 >= fsutil::WRITEBACK_FROM {
                        fsutil::start_writeback(&f);
                    }
                    hn
                }
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    return Err(StoreError::io(&tmp)(e));
                }
            }
        };
        if self.staged.contains_key(&h) || self.store.existing_blob_state(&h) == Some(true) {
            remove_file_if_exists(&tmp)?;
            return Ok((h, n));
        }
        let path = self.staging.join(h.to_hex());
        fs::rename(&tmp, &path).map_err(StoreError::io(&path))?;
        self.staged.insert(h, Staged::File(path));
        Ok((h, n))
    }

    /// Commit the delivery: see the commit protocol in the crate docs.
    pub fn commit(self, rec: NewRecord) -> Result<LedgerRecord, StoreError> {
        let mut v = self.commit_many(vec![rec])?;
        Ok(v.remove(0))
    }

    /// Commit several deliveries with one durable sync (group commit). Each record gets its own
    /// sequence number; after a crash every delivery of the group is either complete or absent
    /// (a torn group leaves its first records complete and removes the blobs only the rest
    /// named). Records must have distinct (aanleveraar, idLevering).
    pub fn commit_many(mut self, recs: Vec<NewRecord>) -> Result<Vec<LedgerRecord>, StoreError> {
        let store = self.store;
        store.check_writable()?;
        if recs.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys = HashSet::new();
        for rec in &recs {
            if rec.aanleveraar.is_empty() || rec.id_levering.is_empty() {
                return Err(StoreError::InvalidRecord("aanleveraar and id_levering must not be empty".into()));
            }
            if !keys.insert((rec.aanleveraar.as_str(), rec.id_levering.as_str())) {
                return Err(StoreError::InvalidRecord(format!(
                    "({}, {}) occurs twice in one group commit",
                    rec.aanleveraar, rec.id_levering
                )));
            }
        }

        // 2. uniqueness, against an up-to-date index
        store.catch_up_index()?;
        for rec in &recs {
            if let Some(seq) = store.index().delivery_by_levering(&rec.aanleveraar, &rec.id_levering)? {
                let earlier = store.record(seq)?.ok_or_else(|| StoreError::Index {
                    message: format!("index names seq {seq} which the ledger lacks"),
                })?;
                return Err(StoreError::DuplicateLevering {
                    aanleveraar: rec.aanleveraar.clone(),
                    id_levering: rec.id_levering.clone(),
                    seq,
                    package_hash: earlier.rec.package_hash,
                });
            }
        }

        // 3. references; each record's new small blobs into its bundle
        let mut recs = recs;
        let mut moves: Vec<(Hash, PathBuf)> = Vec::new();
        let mut moved = HashSet::new();
        let mut bundles: crate::bundle::Written = HashMap::new();
        for rec in recs.iter_mut() {
            let mut mine: Vec<(Hash, &[u8])> = Vec::new();
            for h in rec.referenced_hashes() {
                match self.staged.get(&h) {
                    Some(Staged::File(path)) => {
                        if moved.insert(h) {
                            moves.push((h, path.clone()));
                        }
                    }
                    Some(Staged::Mem(bytes)) => {
                        if moved.insert(h) {
                            mine.push((h, bytes.as_slice()));
                        }
                    }
                    None if store.has_blob(&h) => {}
                    None => return Err(StoreError::MissingBlob { hash: h }),
                }
            }
            if mine.is_empty() {
                continue;
            }
            let (bytes, entries) = crate::bundle::encode(&mut mine).map_err(StoreError::InvalidRecord)?;
            let bh = Hash::of(&bytes);
            let path = self.ensure_staging()?.join(bh.to_hex());
            fs::write(&path, &bytes).map_err(StoreError::io(&path))?;
            if moved.insert(bh) {
                moves.push((bh, path));
            }
            bundles.insert(bh, (entries, bytes.len() as u64));
            rec.derived.push(bh);
        }
        let new_blobs: Vec<Hash> = moves.iter().map(|(h, _)| *h).filter(|h| !store.blob_path(h).is_file()).collect();
        // packs: each builds only on packs named by its record or an earlier one
        self.tree.check_commit(&recs)?;

        // 4. the records
        let (last_seq, last_hash, old_len) = {
            let st = store.ledger_read();
            let (s, h) = st.last();
            (s, h, st.len)
        };
        let mut lrecs = Vec::with_capacity(recs.len());
        let mut lines: Vec<u8> = Vec::new();
        let mut slots = Vec::with_capacity(recs.len());
        let (mut seq, mut prev, mut offset) = (last_seq, last_hash, old_len);
        for rec in recs {
            seq += 1;
            let lrec = LedgerRecord { seq, prev, rec };
            let (line, rh) = ledger::encode(&lrec)?;
            slots.push(Slot { offset, len: line.len() as u64, hash: rh });
            offset += line.len() as u64;
            lines.extend_from_slice(&line);
            prev = rh;
            lrecs.push(lrec);
        }

        // 5. staged data durable (one filesystem sync), then the intent
        if !new_blobs.is_empty() {
            fsutil::sync_filesystem(&self.staging)?;
            let intent = Intent { seq, record_hash: prev, new_blobs: new_blobs.clone() };
            let bytes = serde_json::to_vec(&intent).map_err(StoreError::serde("commit intent"))?;
            write_atomic(&store.intent_path(), &bytes)?;
        }
        self.fail("after-intent")?;

        // 6. move blobs into place (made durable by one filesystem sync)
        if let Err(e) = self.move_blobs(&moves) {
            store.rollback_new_blobs(&new_blobs);
            return Err(e);
        }
        self.fail("after-blobs")?;

        // 7. append + fsync: the commit point
        let ledger_path = store.ledger_path();
        {
            let Some(file) = self.guard.as_mut().and_then(|g| g.ledger.as_mut()) else {
                return Err(StoreError::ReadOnly);
            };
            if let Err(e) = file.write_all(&lines) {
                let undo = file.set_len(old_len).and_then(|_| file.sync_all());
                if undo.is_err() {
                    store.refuse_writes("failed ledger append could not be undone; reopen the store".into());
                } else {
                    store.rollback_new_blobs(&new_blobs);
                }
                return Err(StoreError::io(&ledger_path)(e));
            }
        }
        self.fail("after-ledger-write")?;
        if let Some(Err(e)) = self.guard.as_mut().and_then(|g| g.ledger.as_mut()).map(|f| f.sync_data()) {
            store.refuse_writes("fsync of the ledger failed; reopen the store to recover".into());
            return Err(StoreError::io(&ledger_path)(e));
        }
        self.fail("after-ledger")?;

        // 8. publish in memory, clean up, index
        {
            let mut st = store.ledger_write();
            st.slots.extend(slots.iter().cloned());
            st.len = offset;
        }
        if !new_blobs.is_empty()
            && let Err(e) = remove_file_if_exists(&store.intent_path())
        {
            warn!(error = %e, "could not remove commit.intent (harmless: recovery removes it)");
        }
        let applied: Vec<_> = lrecs.iter().zip(slots.iter().map(|s| s.hash)).collect();
        match store.index.apply_many(&applied) {
            Ok(()) => debug!(records = applied.len(), last = seq, "committed"),
            Err(e) => warn!(last = seq, error = %e, "index update failed; it will catch up"),
        }
        store.blobs.apply_committed(store, &applied, &bundles, &self.tree);
        store.nodes.apply_committed(store, &applied, &self.tree, &bundles);
        Ok(lrecs)
    }

    fn fail(&mut self, name: &str) -> Result<(), StoreError> {
        let r = self.store.failpoint(name);
        if r.is_err() {
            self.crashed = true;
        }
        r
    }

    fn move_blobs(&self, moves: &[(Hash, PathBuf)]) -> Result<(), StoreError> {
        if moves.is_empty() {
            return Ok(());
        }
        for (h, src) in moves {
            let dst = self.store.blob_path(h);
            if let Some(parent) = dst.parent()
                && !parent.is_dir()
            {
                fs::create_dir_all(parent).map_err(StoreError::io(parent))?;
            }
            fs::rename(src, &dst).map_err(StoreError::io(&dst))?;
        }
        // New fan-out directories, their entries and the renames: durable in one sync.
        fsutil::sync_filesystem(&self.store.blobs_dir())
    }
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        if self.crashed || !self.staging_created {
            return;
        }
        if let Err(e) = fs::remove_dir_all(&self.staging)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            warn!(path = %self.staging.display(), error = %e, "could not remove staging dir (removed on next open)");
        }
    }
}
