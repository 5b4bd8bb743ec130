//! Sorted runs: the files of the on-disk node index.
//!
//! A run is an immutable file of index entries sorted by object hash, with its own table of the
//! packs they point into:
//!
//! ```text
//! run     = magic npacks count crc packs fanout entries
//! magic   = "RBNRUN1\n"                         8 bytes
//! npacks  = u32 LE                              packs in the table
//! count   = u64 LE                              entries
//! crc     = u32 LE                              CRC-32 of everything after it
//! packs   = npacks × (hash:32 len:u64 LE)       pack blob and its length
//! fanout  = 256 × u32 LE                        entries whose first hash byte is ≤ i
//! entries = count × (hash:32 pack:u32 offset:u64 len:u32, all LE)   strictly ascending hash
//! ```
//!
//! A lookup is a binary search in the fanout slot of the hash's first byte, on the mapped file
//! (nothing is read into memory up front, so opening a store costs nothing per object). The
//! CRC is checked by `verify`, not on every open; every object read from a pack is checked
//! against its hash anyway, so a damaged run gives an error, never wrong bytes.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::StoreError;
use crate::hash::Hash;

use super::codec::hash_at;
use super::nodeindex::Loc;

const MAGIC: &[u8; 8] = b"RBNRUN1\n";
const HEAD: usize = 24;
const PACK: usize = 40;
const FANOUT: usize = 256 * 4;
const ENTRY: usize = 48;

fn bad(path: &Path, why: impl std::fmt::Display) -> StoreError {
    StoreError::Index { message: format!("node index run {}: {why}", path.display()) }
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(x)
}

/// One run, mapped.
pub(crate) struct Run {
    pub id: u64,
    path: PathBuf,
    map: memmap2::Mmap,
    npacks: usize,
    count: usize,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run").field("id", &self.id).field("count", &self.count).finish()
    }
}

impl Run {
    pub(crate) fn file_name(id: u64) -> String {
        format!("run-{id:010}.idx")
    }

    /// Map a run and check its shape (magic, sizes, fanout); not its CRC (see [`Run::check`]).
    pub(crate) fn open(dir: &Path, id: u64) -> Result<Run, StoreError> {
        let path = dir.join(Run::file_name(id));
        let f = File::open(&path).map_err(StoreError::io(&path))?;
        // SAFETY: run files are written whole, fsynced and renamed into place, and never
        // written again; they are only deleted (which keeps a mapping valid). Only the process
        // holding the store's lock writes `index/`.
        let map = unsafe { memmap2::Mmap::map(&f) }.map_err(StoreError::io(&path))?;
        if map.len() < HEAD || &map[..8] != MAGIC {
            return Err(bad(&path, "not a run (magic missing)"));
        }
        let npacks = u32_at(&map, 8) as usize;
        let count = usize::try_from(u64_at(&map, 12)).map_err(|_| bad(&path, "count too large"))?;
        let want = npacks
            .checked_mul(PACK)
            .and_then(|p| count.checked_mul(ENTRY).and_then(|e| e.checked_add(p)))
            .and_then(|x| x.checked_add(HEAD + FANOUT));
        if want != Some(map.len()) {
            return Err(bad(&path, format!("{} bytes, its header describes {want:?}", map.len())));
        }
        let run = Run { id, path, map, npacks, count };
        let mut prev = 0;
        for i in 0..256 {
            let v = run.fanout(i);
            if v < prev || v > count {
                return Err(bad(&run.path, "fanout table is not ascending"));
            }
            prev = v;
        }
        if prev != count {
            return Err(bad(&run.path, "fanout table does not end at the entry count"));
        }
        Ok(run)
    }

    pub(crate) fn count(&self) -> usize {
        self.count
    }

    fn fanout(&self, i: usize) -> usize {
        u32_at(&self.map, HEAD + self.npacks * PACK + i * 4) as usize
    }

    fn entry(&self, i: usize) -> &[u8] {
        let at = HEAD + self.npacks * PACK + FANOUT + i * ENTRY;
        &self.map[at..at + ENTRY]
    }

    fn pack(&self, i: usize) -> Result<(Hash, u64), StoreError> {
        if i >= self.npacks {
            return Err(bad(&self.path, format!("an entry names pack {i} of {}", self.npacks)));
        }
        let at = HEAD + i * PACK;
        Ok((hash_at(&self.map[at..]), u64_at(&self.map, at + 32)))
    }

    fn loc(&self, e: &[u8]) -> Result<Loc, StoreError> {
        let (pack, pack_len) = self.pack(u32_at(e, 32) as usize)?;
        Ok(Loc { pack, pack_len, offset: u64_at(e, 36), len: u32_at(e, 44) })
    }

    /// Where the object is, if this run has it.
    pub(crate) fn get(&self, h: &Hash) -> Result<Option<Loc>, StoreError> {
        let b = h.0[0] as usize;
        let (mut lo, mut hi) = (if b == 0 { 0 } else { self.fanout(b - 1) }, self.fanout(b));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let e = self.entry(mid);
            match e[..32].cmp(&h.0[..]) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.loc(e).map(Some),
            }
        }
        Ok(None)
    }

    /// The CRC and the order of the entries (what `verify` checks besides the contents).
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        if crc32fast::hash(&self.map[HEAD..]) != u32_at(&self.map, 20) {
            return Err(bad(&self.path, "checksum mismatch"));
        }
        for i in 1..self.count {
            if self.entry(i - 1)[..32] >= self.entry(i)[..32] {
                return Err(bad(&self.path, format!("entries {} and {i} are not in ascending order", i - 1)));
            }
        }
        Ok(())
    }
}

/// Write a run of `entries` (sorted by hash, no hash twice) as `dir/run-<id>.idx`: written to a
/// temporary file, fsynced, renamed into place. The caller makes the directory durable.
pub(crate) fn write(dir: &Path, id: u64, entries: &[(Hash, Loc)]) -> Result<(), StoreError> {
    let mut packs: Vec<(Hash, u64)> = Vec::new();
    let mut pack_no: std::collections::HashMap<Hash, u32> = std::collections::HashMap::new();
    for (_, l) in entries {
        if let std::collections::hash_map::Entry::Vacant(v) = pack_no.entry(l.pack) {
            v.insert(u32::try_from(packs.len()).map_err(|_| bad(dir, "more than 2^32 packs in one run"))?);
            packs.push((l.pack, l.pack_len));
        }
    }
    let mut body = Vec::with_capacity(packs.len() * PACK + FANOUT + entries.len() * ENTRY);
    for (h, len) in &packs {
        body.extend_from_slice(&h.0);
        body.extend_from_slice(&len.to_le_bytes());
    }
    let mut fanout = [0u32; 256];
    for (h, _) in entries {
        fanout[h.0[0] as usize] += 1;
    }
    let mut acc = 0u32;
    for f in &mut fanout {
        acc += *f;
        body.extend_from_slice(&acc.to_le_bytes());
    }
    for (h, l) in entries {
        body.extend_from_slice(&h.0);
        body.extend_from_slice(&pack_no[&l.pack].to_le_bytes());
        body.extend_from_slice(&l.offset.to_le_bytes());
        body.extend_from_slice(&l.len.to_le_bytes());
    }
    let mut head = Vec::with_capacity(HEAD);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&(packs.len() as u32).to_le_bytes());
    head.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    head.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    let path = dir.join(Run::file_name(id));
    let tmp = dir.join(format!("{}.tmp", Run::file_name(id)));
    {
        let mut f = File::create(&tmp).map_err(StoreError::io(&tmp))?;
        f.write_all(&head).and_then(|_| f.write_all(&body)).and_then(|_| f.sync_all()).map_err(StoreError::io(&tmp))?;
    }
    fs::rename(&tmp, &path).map_err(StoreError::io(&path))
}

/// Merge runs (each sorted, no hash in two of them) into one sorted list.
pub(crate) fn merge(runs: &[&Run]) -> Result<Vec<(Hash, Loc)>, StoreError> {
    let mut out = Vec::with_capacity(runs.iter().map(|r| r.count()).sum());
    let mut pos = vec![0usize; runs.len()];
    loop {
        let mut best: Option<usize> = None;
        for (k, r) in runs.iter().enumerate() {
            if pos[k] < r.count
                && best.is_none_or(|b| r.entry(pos[k])[..32] < runs[b].entry(pos[b])[..32])
            {
                best = Some(k);
            }
        }
        let Some(k) = best else { break };
        let e = runs[k].entry(pos[k]);
        pos[k] += 1;
        let h = hash_at(e);
        // (a hash in two runs would be a damaged index; the older run's entry wins)
        if out.last().is_none_or(|(l, _): &(Hash, Loc)| *l != h) {
            out.push((h, runs[k].loc(e)?));
        }
    }
    Ok(out)
}
