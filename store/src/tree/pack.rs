//! The pack format: the objects one `put_tree` adds, in one immutable blob.
//!
//! ```text
//! pack  = magic count table data
//! magic = "RBPACK1\n"                      8 bytes; the 1 is the format version
//! count = u32 LE                           number of objects (≥ 1)
//! table = count × (hash:32 len:u32 LE)     object hash and encoded length, in data order
//! data  = the objects' encodings back to back (object i starts after objects 0..i)
//! ```
//!
//! The table comes first so a reader can find an object's offset without scanning the data.
//! Objects are written children first and appear at most once per pack; every table hash is
//! the SHA-256 of the object's bytes (checked when a pack is indexed and by `verify`). A pack
//! is a blob like any other: named by the SHA-256 of all its bytes, verified on every read.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use crate::hash::Hash;

use super::codec::hash_at;
use super::read::PrefixHasher;

pub(crate) const MAGIC: &[u8; 8] = b"RBPACK1\n";
const HEADER: usize = 12;
const ENTRY: usize = 36;

/// One object of a pack: its hash and where its bytes are (offset from the start of the pack).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub hash: Hash,
    pub offset: u64,
    pub len: u32,
}

impl Entry {
    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        self.offset as usize..self.offset as usize + self.len as usize
    }
}

/// Encode objects as a pack; returns the bytes and the entries. Objects must be distinct and
/// each shorter than 4 GiB (callers hold them in memory).
#[cfg(test)]
pub(crate) fn encode(objs: &[super::codec::Obj]) -> Result<(Vec<u8>, Vec<Entry>), String> {
    let count = u32::try_from(objs.len()).map_err(|_| "too many objects for one pack".to_string())?;
    let data: usize = objs.iter().map(|o| o.bytes.len()).sum();
    let mut out = Vec::with_capacity(HEADER + ENTRY * objs.len() + data);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&count.to_le_bytes());
    let mut entries = Vec::with_capacity(objs.len());
    let mut offset = (HEADER + ENTRY * objs.len()) as u64;
    for o in objs {
        let len = u32::try_from(o.bytes.len()).map_err(|_| format!("object {} is larger than 4 GiB", o.hash))?;
        out.extend_from_slice(&o.hash.0);
        out.extend_from_slice(&len.to_le_bytes());
        entries.push(Entry { hash: o.hash, offset, len });
        offset += u64::from(len);
    }
    for o in objs {
        out.extend_from_slice(&o.bytes);
    }
    Ok((out, entries))
}

/// The header and table of a pack whose objects, in this order, are `objs` (hash, encoded
/// length); the pack is these bytes followed by the objects' bytes back to back. Returns the
/// bytes and the entries.
pub(crate) fn encode_head(objs: &[(Hash, u32)]) -> Result<(Vec<u8>, Vec<Entry>), String> {
    encode_head_with(MAGIC, objs)
}

/// [`encode_head`] with another magic (a bundle of blobs has the pack's layout).
pub(crate) fn encode_head_with(magic: &[u8; 8], objs: &[(Hash, u32)]) -> Result<(Vec<u8>, Vec<Entry>), String> {
    let count = u32::try_from(objs.len()).map_err(|_| "too many objects for one pack".to_string())?;
    let mut out = Vec::with_capacity(HEADER + ENTRY * objs.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&count.to_le_bytes());
    let mut entries = Vec::with_capacity(objs.len());
    let mut offset = (HEADER + ENTRY * objs.len()) as u64;
    for &(hash, len) in objs {
        out.extend_from_slice(&hash.0);
        out.extend_from_slice(&len.to_le_bytes());
        entries.push(Entry { hash, offset, len });
        offset += u64::from(len);
    }
    Ok((out, entries))
}

/// Parse a pack's header and table, checking that the table describes the data exactly
/// (lengths add up to the blob's size, no object twice). Does not hash the objects.
pub(crate) fn parse(b: &[u8]) -> Result<Vec<Entry>, String> {
    parse_with(MAGIC, b)
}

/// [`parse`] with another magic (a bundle of blobs has the pack's layout).
pub(crate) fn parse_with(magic: &[u8; 8], b: &[u8]) -> Result<Vec<Entry>, String> {
    if !b.starts_with(magic) {
        return Err("magic missing".into());
    }
    let Some(cnt) = b.get(8..HEADER) else { return Err("pack header truncated".into()) };
    let count = u32::from_le_bytes([cnt[0], cnt[1], cnt[2], cnt[3]]) as usize;
    if count == 0 {
        return Err("no objects".into());
    }
    let table_end = count.checked_mul(ENTRY).and_then(|t| t.checked_add(HEADER)).filter(|&e| e <= b.len());
    let Some(table_end) = table_end else {
        return Err(format!("table of {count} entries does not fit in {} bytes", b.len()));
    };
    let mut entries = Vec::with_capacity(count);
    let mut seen: HashSet<Hash, BuildHasherDefault<PrefixHasher>> =
        HashSet::with_capacity_and_hasher(count, BuildHasherDefault::default());
    let mut offset = table_end as u64;
    for e in b[HEADER..table_end].chunks_exact(ENTRY) {
        let hash = hash_at(e);
        let len = u32::from_le_bytes([e[32], e[33], e[34], e[35]]);
        if !seen.insert(hash) {
            return Err(format!("object {hash} occurs twice"));
        }
        if len == 0 {
            return Err(format!("object {hash} has length 0"));
        }
        entries.push(Entry { hash, offset, len });
        offset += u64::from(len);
    }
    if offset != b.len() as u64 {
        return Err(format!("table describes {offset} bytes, the blob has {}", b.len()));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use super::super::codec::Obj;

    #[test]
    fn round_trip_and_damage() {
        let objs: Vec<Obj> = [b"Nabc".as_slice(), b"Nde", b"P\x00\x00\x01x"]
            .iter()
            .map(|b| Obj { hash: Hash::of(b), bytes: b.to_vec() })
            .collect();
        let (bytes, entries) = encode(&objs).unwrap();
        assert_eq!(parse(&bytes).unwrap(), entries);
        for (o, e) in objs.iter().zip(&entries) {
            assert_eq!(&bytes[e.range()], o.bytes.as_slice());
            assert_eq!(e.hash, o.hash);
        }
        assert!(parse(&bytes[..bytes.len() - 1]).unwrap_err().contains("describes"));
        assert!(parse(&[bytes.as_slice(), b"x"].concat()).unwrap_err().contains("describes"));
        assert!(parse(&bytes[..10]).unwrap_err().contains("truncated"));
        assert!(parse(b"RBPACK1\n\x00\x00\x00\x00").unwrap_err().contains("no objects"));
        assert!(parse(b"RBPACK1\n\xff\xff\xff\xff").unwrap_err().contains("does not fit"));
        assert!(parse(b"PK\x03\x04").unwrap_err().contains("magic"));
        let dup = [objs[0].clone(), objs[0].clone()];
        let (bytes, _) = encode(&dup).unwrap();
        assert!(parse(&bytes).unwrap_err().contains("twice"));
    }
}
