//! Typed errors of the store.

use std::io;
use std::path::PathBuf;

use crate::hash::Hash;

/// Every failure the store reports. No variant exposes the index engine's own error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Another process (or another `Store` handle in this process) holds the store.
    #[error("store at {dir} is in use by another process or handle (lock file {lock_file})")]
    Locked { dir: PathBuf, lock_file: PathBuf },
    /// No blob with this hash exists.
    #[error("blob {hash} not found at {path}")]
    BlobNotFound { hash: Hash, path: PathBuf },
    /// The blob file's bytes do not hash to its name.
    #[error("blob {hash} at {path} is corrupt: its content hashes to {actual}")]
    BlobCorrupt { hash: Hash, path: PathBuf, actual: Hash },
    /// (aanleveraar OIN, idLevering) was already committed.
    #[error("delivery ({aanleveraar}, {id_levering}) already committed as seq {seq} (package {package_hash})")]
    DuplicateLevering {
        aanleveraar: String,
        id_levering: String,
        /// seq of the earlier record
        seq: u64,
        /// package hash of the earlier record
        package_hash: Hash,
    },
    /// A record to be committed names a blob that is neither staged nor stored.
    #[error("record references blob {hash} which is neither staged in this transaction nor stored")]
    MissingBlob { hash: Hash },
    /// A record to be committed is malformed (e.g. empty idLevering).
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// The ledger is damaged before its last record (or the last complete record is damaged).
    /// The store refuses writes until an operator repairs it.
    #[error("ledger {path} is corrupt at byte {offset} (record after seq {after_seq}): {message}")]
    LedgerCorrupt { path: PathBuf, offset: u64, after_seq: u64, message: String },
    /// The derived index failed.
    #[error("index error: {message}")]
    Index { message: String },
    /// A stored JSON document could not be (de)serialized.
    #[error("serialization error in {what}: {message}")]
    Serde { what: String, message: String },
    /// Writes are refused (ledger corruption, an earlier failed append, or a simulated crash).
    #[error("store refuses writes: {reason}")]
    WritesRefused { reason: String },
    /// This handle was opened read-only.
    #[error("store opened read-only")]
    ReadOnly,
    /// A test failpoint fired (simulated crash); reopen the store to recover.
    #[error("failpoint {0} fired (simulated crash)")]
    Failpoint(String),
    /// No stored tree node (or part) has this hash.
    #[error("tree node {hash} not found")]
    NodeNotFound { hash: Hash },
    /// `put_tree`: a node refers to a child that is neither stored nor put earlier.
    #[error("node refers to child {child}, which is neither stored nor put earlier in this transaction")]
    MissingNode { child: Hash },
    /// A stored tree object is damaged (its bytes do not hash to its name) or malformed.
    #[error("tree object {hash} is corrupt: {message}")]
    NodeCorrupt { hash: Hash, message: String },
    /// A blob used as a pack is not a well-formed pack.
    #[error("pack {pack} is malformed: {message}")]
    PackMalformed { pack: Hash, message: String },
    /// A record to be committed names a pack that uses objects of another pack of the same
    /// transaction, which neither that record nor an earlier one of the commit names.
    #[error("pack {pack} uses objects of pack {needs}, which neither its record nor an earlier one in this commit names")]
    PackDependency { pack: Hash, needs: Hash },
    /// `put_tree` was given no nodes, or a node that cannot be stored.
    #[error("invalid tree: {0}")]
    InvalidTree(String),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { path, source }
    }
    pub(crate) fn serde(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> StoreError {
        let what = what.into();
        move |e| StoreError::Serde { what, message: e.to_string() }
    }
}
