//! Bundles: the small blobs one record adds, stored together as ONE blob.
//!
//! Creating, renaming and syncing a file per blob cost more than everything else a small
//! delivery needs (it has about ten: its package files, report, listing, procedure, exchange).
//! A transaction that bundles ([`crate::Txn::bundle_small_blobs`]) keeps the blobs it stages
//! that are smaller than [`MAX_BLOB`] in memory; at commit, the new ones each record names go
//! into one bundle, in hash order:
//!
//! ```text
//! bundle = magic count table data        (the layout of a pack, see `tree::pack`)
//! magic  = "RBBNDL1\n"
//! count  = u32 LE                       number of blobs (≥ 1)
//! table  = count × (hash:32 len:u32 LE) each blob's SHA-256 and length, ascending by hash
//! data   = the blobs' bytes back to back
//! ```
//!
//! A bundle is a blob like any other (named by the SHA-256 of all its bytes, staged, made
//! durable, published and recovered by the commit protocol, verified on every read), and the
//! record names it in its `derived` list (commit appends it). Each blob in it keeps its own
//! name, the SHA-256 of its own bytes, and is verified against it on every read. Where a bundled
//! blob is (blob → bundle, offset, length) is a derived index under `index/bundles/`, of the same
//! form as the node index and derived the same way: from the bundles the ledger names, first
//! one in ledger order wins. Blobs that are not small, and packs, stay files of their own.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::error::StoreError;
use crate::hash::Hash;
use crate::store::Store;
use crate::tree::nodeindex::{Loc, load_valid_container};
use crate::tree::pack::{self, Entry};
use crate::verify::{ProblemKind, VerifyReport};

pub(crate) const MAGIC: &[u8; 8] = b"RBBNDL1\n";

/// Blobs up to this size are bundled.
pub(crate) const MAX_BLOB: usize = 1 << 20;

/// Bytes of small blobs a transaction holds in memory at most; beyond it they are staged as
/// files of their own.
pub(crate) const MAX_IN_MEMORY: usize = 64 << 20;

/// The bytes of a bundle of `blobs` (distinct, each at most [`MAX_BLOB`]), in hash order, and
/// its entries.
pub(crate) fn encode(blobs: &mut [(Hash, &[u8])]) -> Result<(Vec<u8>, Vec<Entry>), String> {
    blobs.sort_by_key(|b| b.0);
    let objs: Vec<(Hash, u32)> = blobs
        .iter()
        .map(|(h, b)| u32::try_from(b.len()).map(|n| (*h, n)).map_err(|_| format!("blob {h} is too large to bundle")))
        .collect::<Result<_, _>>()?;
    let (mut out, entries) = pack::encode_head_with(MAGIC, &objs)?;
    out.reserve(blobs.iter().map(|b| b.1.len()).sum());
    for (_, b) in blobs.iter() {
        out.extend_from_slice(b);
    }
    Ok((out, entries))
}

/// The bundles a transaction wrote at commit: bundle → (entries, length).
pub(crate) type Written = HashMap<Hash, (Vec<Entry>, u64)>;

/// Where a bundled blob is, as the ledger implies it (the first bundle in ledger order).
pub(crate) struct Bundled {
    /// seq of the first record naming the bundle.
    pub seq: u64,
    pub loc: Loc,
}

/// The bundle part of [`crate::Store::verify`]: read every bundle a record names (`records`:
/// seq and `derived` list, in order; `skip`: blobs already reported corrupt or unreadable),
/// check its table and every blob in it, and compare the blob index with what the ledger
/// implies. Returns every bundled blob, for the reference and orphan checks.
pub(crate) fn verify_bundles(
    store: &Store,
    records: &[(u64, Vec<Hash>)],
    skip: &BTreeSet<Hash>,
    rep: &mut VerifyReport,
) -> Result<HashMap<Hash, Bundled>, StoreError> {
    let mut out: HashMap<Hash, Bundled> = HashMap::new();
    let mut done = HashSet::new();
    for (seq, derived) in records {
        for d in derived {
            if skip.contains(d) || !done.insert(*d) {
                continue;
            }
            let (bytes, entries) = match load_valid_container(store, d, MAGIC)? {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(msg) => {
                    rep.push(ProblemKind::PackMalformed, Some(*d), Some(*seq), Some(store.blob_path(d)), format!("bundle: {msg}"));
                    continue;
                }
            };
            rep.bundles += 1;
            for e in &entries {
                rep.bundled_blobs += 1;
                rep.bytes += u64::from(e.len);
                out.entry(e.hash).or_insert(Bundled { seq: *seq, loc: Loc::of(*d, bytes.len() as u64, e) });
            }
        }
    }
    // the blob index agrees with the bundles
    let implied: HashMap<Hash, Loc> = out.iter().map(|(h, b)| (*h, b.loc)).collect();
    crate::tree::verify::index_agrees(store, &store.blobs, &implied, ["blob index", "bundle", "blobs"], rep)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_hash_order() {
        let a = b"eerste".to_vec();
        let b = b"tweede blob".to_vec();
        let mut blobs = vec![(Hash::of(&b), b.as_slice()), (Hash::of(&a), a.as_slice())];
        let (bytes, entries) = encode(&mut blobs).unwrap();
        assert_eq!(pack::parse_with(MAGIC, &bytes).unwrap(), entries);
        assert!(entries.windows(2).all(|w| w[0].hash < w[1].hash));
        for e in &entries {
            assert_eq!(Hash::of(&bytes[e.range()]), e.hash);
        }
        assert!(pack::parse(&bytes).is_err(), "a bundle is not a pack");
    }
}
