//! # regelbank store
//!
//! Content-addressed blobs, the append-only delivery ledger, and derived indexes.
//!
//! ## Invariants
//!
//! 1. **Blobs are immutable and addressed by their hash.** A blob lives at
//!    `blobs/<first 2 hex>/<64 hex>` and its bytes hash (SHA-256) to its name, or, when it is
//!    small and its transaction bundles, inside a *bundle*: a blob of its own that holds the
//!    small blobs one record added (see `src/bundle.rs`). It is written once (staged, made
//!    durable, renamed into place) and never modified; every read verifies it.
//! 2. **The source of truth is blobs + ledger.** The ledger is an append-only file of
//!    committed deliveries, each record checksummed and chained to its predecessor.
//! 3. **A delivery lands whole or not at all.** After a crash at any point, reopening leaves
//!    either no trace of the delivery or its complete record with every blob it names.
//! 4. **Every hash a record names exists** (commit refuses dangling references) and no blob
//!    exists that no record names (uncommitted blobs are staged outside `blobs/` and crashed
//!    commits are cleaned up on open).
//! 5. **The index is derived.** It is a cache of answers computed from the ledger (by the
//!    same code for every backend), can be deleted at any time, and is rebuilt or caught up
//!    on open. Nothing outside this crate knows which engine (sled) stores it.
//!
//! ## On-disk layout
//!
//! ```text
//! <dir>/
//!   LOCK                 exclusive lock file, held (flock) for the lifetime of a Store
//!   ledger               append-only: one line per record: "<sha256 of json> <json>\n"
//!   commit.intent        only while a commit is in flight (or after it crashed):
//!                        {seq, record_hash, new_blobs[]}; written via commit.intent.tmp
//!   blobs/ab/ab12…ef     immutable blobs, named by the SHA-256 hex of their bytes
//!   staging/<txn-id>/    blobs put by a transaction that has not committed yet
//!   index/               sled database holding the derived indexes (disposable)
//!   index/nodes/         derived node index of trees (disposable): `manifest` and sorted
//!                        runs `run-<id>.idx` (see `src/tree/nodeindex.rs`)
//!   index/bundles/       derived index of bundled blobs (disposable), in the same form
//! ```
//!
//! A ledger record's *hash* is the SHA-256 of its JSON text as stored; it is both the
//! record's checksum and the `prev` of the next record (all-zero for seq 1). Seqs start at 1
//! and have no gaps.
//!
//! ## Commit protocol ([`Txn::commit`])
//!
//! [`Store::begin`] takes the in-process writer mutex (the file lock is already held by the
//! `Store`). `put_blob*` write each new blob to `staging/<txn>/` (not yet fsynced). Then
//! `commit` (one record) or `commit_many` (a group commit of several records):
//!
//! 1. refuse if the store is refusing writes (damaged ledger, earlier failure);
//! 2. bring the index up to date with the ledger, then re-check (aanleveraar, idLevering)
//!    uniqueness → [`StoreError::DuplicateLevering`] (and within a group → `InvalidRecord`);
//! 3. check every hash the records name is staged or already stored → [`StoreError::MissingBlob`];
//!    staged blobs no record names are discarded with the staging dir; in a bundling
//!    transaction ([`Txn::bundle_small_blobs`]) the small staged blobs a record names first are
//!    written as ONE bundle blob in staging, which is appended to that record's `derived` list
//!    (from here on a bundle is a staged blob like any other);
//! 4. build the [`LedgerRecord`]s (consecutive seqs, each `prev` the hash of the one before);
//! 5. if the commit adds blobs that do not exist yet: one filesystem sync (`syncfs`) makes the
//!    staged data durable, then `commit.intent` lists them with the last seq and record hash
//!    (tmp file, fsync, rename, fsync dir);
//! 6. rename each staged blob into `blobs/`, then one filesystem sync makes the renames and
//!    new fan-out directories durable;
//! 7. append the record lines to `ledger` and fsync it — **this is the commit point**;
//! 8. remove `commit.intent`, apply the records to the indexes (catalogue, bundled blobs, tree
//!    nodes; a failure here is only logged: the deliveries are durable and the index catches up
//!    on the next commit or open), remove staging.
//!
//! A group costs the same handful of syncs as a single delivery, which is what makes ingesting
//! many small deliveries fast. If a crash tears a group's append, its complete leading records
//! are committed deliveries and recovery removes the blobs only the lost records named: every
//! delivery is still whole or absent.
//!
//! Failure before step 7 rolls back in-process (removes the blobs of step 6 and the intent);
//! if that rollback or the fsync of step 7 fails, the store refuses further writes until it
//! is reopened, and recovery decides.
//!
//! ## Recovery rules ([`Store::open`])
//!
//! 1. take the lock (`LOCK`, non-blocking) or fail with [`StoreError::Locked`];
//! 2. delete everything under `staging/` (transactions of dead processes) and `commit.intent.tmp`;
//! 3. scan the ledger: a final segment without a newline is a torn append (never acknowledged)
//!    and is truncated away; any damaged complete line (checksum, JSON, seq/prev chain) is
//!    corruption: the store opens (so [`Store::verify`] can report it) but refuses writes;
//! 4. if `commit.intent` exists: when the ledger holds a record with its seq and hash, the
//!    commit landed and the intent is removed; otherwise every listed blob no committed record
//!    names is deleted, then the intent (with a damaged ledger, nothing is deleted);
//! 5. open the index; if it is behind, apply the missing records; if it disagrees with the
//!    ledger (its last record hash differs, or it is ahead), rebuild it from the ledger.
//!
//! ## Concurrency
//!
//! One writer at a time: [`Store::begin`] takes an in-process mutex, and the `LOCK` file is
//! locked exclusively while a `Store` is open. Readers in the same process need no lock.
//! **Limitation:** sled lets only one process open the index, so a read-write `Store` is held
//! by one process (and one handle) at a time; a second [`Store::open`] of the same directory,
//! in the same or another process, fails with [`StoreError::Locked`] instead of blocking.
//! Other processes can read with [`Store::open_read_only`], which takes no lock, does not touch
//! sled (it derives an in-memory index from the ledger), never modifies the directory, and
//! sees what was committed when it was opened (or last [`Store::refresh`]ed).
//!
//! [`Store::verify`] and [`Store::rebuild`] take the writer mutex, so they see a consistent
//! store. `rebuild` fills a fresh index tree and swaps it in atomically.
//!
//! ## Trees (structural sharing)
//!
//! A document can be stored as a tree of content-addressed nodes ([`Node`]: byte runs and child
//! hashes) with [`Txn::put_tree`], read back whole with [`Store::read_tree`] and node by node
//! with [`Store::get_node`]. Equal subtrees have equal hashes and are stored once in the whole
//! store; a new version writes only its changed nodes and their ancestors. The nodes one
//! `put_tree` adds go into ONE new blob, a *pack*, so the commit protocol above covers them
//! unchanged: the committing record names the pack in [`NewRecord::derived`] (see
//! [`Txn::packs`]), and commit refuses a pack that builds on another pack of the same
//! transaction that no record up to it names. Which node lives where (object hash → pack,
//! offset, length) is a derived index in `index/nodes/`, applied after commit, caught up on open
//! and rebuilt from the ledger and the packs by [`Store::rebuild`]. [`Store::verify`] checks every
//! pack, every object's hash and every reference between objects. The encoding, the pack
//! format and the splitting of wide nodes are documented in `src/tree/`.
//!
//! ## Test failpoints
//!
//! `REGELBANK_STORE_FAILPOINT=<name>` makes a commit **abort the process** at that point
//! (a real crash; for subprocess tests). [`Store::set_failpoint`] makes a commit stop there
//! instead, returning [`StoreError::Failpoint`], leaving everything on disk as a crash would
//! and refusing further writes; drop and reopen the store to recover. Names: `after-intent`,
//! `after-blobs`, `after-ledger-write` (written, not fsynced), `after-ledger` (fsynced, index
//! not updated).

mod bundle;
mod derived;
mod error;
mod fsutil;
mod hash;
mod index;
mod ledger;
mod model;
mod store;
mod tree;
mod verify;

pub use derived::Derived;
pub use error::StoreError;
pub use hash::{Hash, Hasher, ParseHashError};
pub use index::Index;
pub use model::{
    DeliveryView, Effects, ExpressionEntry, ExpressionView, FileRef, LedgerRecord, NewRecord, RebuildStats,
    WorkEntry, WorkView,
};
pub use store::{Store, Txn};
pub use tree::{Node, NodeHash, ObjectKind, PackObject, PutTree, Stuk, TreeReader, TreeWriter};
pub use verify::{Problem, ProblemKind, VerifyReport};
