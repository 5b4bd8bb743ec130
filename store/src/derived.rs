//! Derived key-value spaces for the crates above the store (the time-travel engine keeps its
//! per-work state here). Like the indexes they are derived from the ledger and disposable:
//! each carries a watermark (seq and record hash of the last ledger record its owner applied),
//! and the owner brings it up to the ledger, or derives it again from scratch, when the
//! watermark is behind or disagrees. Read-write stores keep a space in its own sled database
//! under `index/derived/<name>/`; read-only handles keep it in memory (never written to disk).
//!
//! A batch of puts and the new watermark are applied atomically.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::error::StoreError;
use crate::hash::Hash;
use crate::store::Store;

const K_WATERMARK: &[u8] = b"\x00watermark";
const PREFIX: &[u8] = b"k:";

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Index { message: format!("derived space: {e}") }
}

enum Backend {
    Sled(sled::Tree, sled::Db),
    Memory(Mutex<BTreeMap<Vec<u8>, Vec<u8>>>),
}

/// One named derived key-value space. Keys are strings; values are bytes.
pub struct Derived {
    backend: Backend,
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derived")
    }
}

fn key(k: &str) -> Vec<u8> {
    let mut v = PREFIX.to_vec();
    v.extend_from_slice(k.as_bytes());
    v
}

impl Derived {
    fn open_sled(dir: &Path) -> Result<Derived, StoreError> {
        // No timer flushes (`index::open_sled`): `apply` flushes what it writes.
        let db = crate::index::open_sled(dir).map_err(err)?;
        let tree = db.open_tree("space").map_err(err)?;
        Ok(Derived { backend: Backend::Sled(tree, db) })
    }

    fn memory() -> Derived {
        Derived { backend: Backend::Memory(Mutex::new(BTreeMap::new())) }
    }

    fn get_raw(&self, k: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match &self.backend {
            Backend::Sled(t, _) => Ok(t.get(k).map_err(err)?.map(|v| v.to_vec())),
            Backend::Memory(m) => Ok(m.lock().unwrap_or_else(|p| p.into_inner()).get(k).cloned()),
        }
    }

    /// The value under `k`.
    pub fn get(&self, k: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get_raw(&key(k))
    }

    /// (seq, record hash) of the last ledger record applied, if any.
    pub fn watermark(&self) -> Result<Option<(u64, Hash)>, StoreError> {
        let Some(v) = self.get_raw(K_WATERMARK)? else { return Ok(None) };
        if v.len() != 40 {
            return Err(err(format!("watermark of {} bytes", v.len())));
        }
        let mut s = [0u8; 8];
        s.copy_from_slice(&v[..8]);
        let mut h = [0u8; 32];
        h.copy_from_slice(&v[8..]);
        Ok(Some((u64::from_le_bytes(s), Hash(h))))
    }

    /// Put every (key, value) and set the watermark, atomically.
    pub fn apply(&self, puts: &[(String, Vec<u8>)], watermark: (u64, Hash)) -> Result<(), StoreError> {
        let mut wm = watermark.0.to_le_bytes().to_vec();
        wm.extend_from_slice(&watermark.1.0);
        match &self.backend {
            Backend::Sled(t, db) => {
                let mut b = sled::Batch::default();
                for (k, v) in puts {
                    b.insert(key(k), v.as_slice());
                }
                b.insert(K_WATERMARK, wm);
                t.apply_batch(b).map_err(err)?;
                db.flush().map_err(err)?;
            }
            Backend::Memory(m) => {
                let mut m = m.lock().unwrap_or_else(|p| p.into_inner());
                for (k, v) in puts {
                    m.insert(key(k), v.clone());
                }
                m.insert(K_WATERMARK.to_vec(), wm);
            }
        }
        Ok(())
    }

    /// Remove everything (the owner then derives the space again from the ledger).
    pub fn clear(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(t, db) => {
                t.clear().map_err(err)?;
                db.flush().map_err(err)?;
            }
            Backend::Memory(m) => m.lock().unwrap_or_else(|p| p.into_inner()).clear(),
        }
        Ok(())
    }
}

impl Store {
    /// Open the derived space `name` (letters, digits, `-`, `_`). Read-write stores persist it
    /// under `index/derived/<name>/`; read-only handles get an empty in-memory space.
    /// One handle per name and store (shared by every caller).
    pub fn derived(&self, name: &str) -> Result<Arc<Derived>, StoreError> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(err(format!("invalid name {name:?}")));
        }
        let mut spaces = self.derived_spaces.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = spaces.get(name) {
            return Ok(d.clone());
        }
        let d = Arc::new(if self.is_read_only() {
            Derived::memory()
        } else {
            Derived::open_sled(&self.dir().join("index").join("derived").join(name))?
        });
        spaces.insert(name.to_string(), d.clone());
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puts_and_watermark_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            let d = s.derived("t").unwrap();
            assert_eq!(d.watermark().unwrap(), None);
            d.apply(&[("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())], (3, Hash([7; 32]))).unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        let d = s.derived("t").unwrap();
        assert_eq!(d.get("a").unwrap().as_deref(), Some(&b"1"[..]));
        assert_eq!(d.get("c").unwrap(), None);
        assert_eq!(d.watermark().unwrap(), Some((3, Hash([7; 32]))));
        d.clear().unwrap();
        assert_eq!(d.get("a").unwrap(), None);
        assert_eq!(d.watermark().unwrap(), None);
        assert!(s.derived("../x").is_err());
    }
}
