//! Canonical encoding of tree objects, and the chunking of wide nodes.
//!
//! A logical node (a [`super::Node`]) is a sequence of items: byte runs and child references.
//! It is stored as one or more *objects*, each named by the SHA-256 of its encoding:
//!
//! ```text
//! object  = 'N' items                  a node stored whole (plain)
//!         | 'C' level:u8 ref+          a node stored in parts: the parts of `level`, in order
//!         | 'P' 0 items                a part of level 0: a slice of the node's items
//!         | 'P' level:u8 ref+          a part of level > 0: parts of level - 1, in order
//! items   = item*
//! item    = 0x00 len:varint bytes      a byte run (len ≥ 1; never two runs in a row)
//!         | 0x01 hash:32               a child node
//! ref     = hash:32                    a part
//! varint  = unsigned LEB128, at most 10 bytes, shortest form
//! ```
//!
//! The hash of a logical node is the hash of its `N` or `C` object. A node is stored whole
//! unless it has more than [`MAX_DIRECT`] items or (with at least two items) its items encode to
//! more than [`MAX_PLAIN_BYTES`]. A wide node is cut into parts at content-defined boundaries: a
//! part ends after a child whose hash has its low 2 bits zero once the part holds at least
//! [`MIN_PART`] children (so parts hold about 8 children, with little spread), or when it reaches
//! [`MAX_PART_ITEMS`] items or [`MAX_PART_BYTES`] bytes. While more than [`MAX_DIRECT`] parts
//! remain, the part list is cut the same way one level up (by the parts' hashes, at most
//! [`MAX_PART_REFS`] per part). Changing one child of a node with 100 children then rewrites one
//! part (~0.3 KB) and the part list (~0.4 KB) instead of 3.3 KB of references, and with 10,000
//! children about 1.5 KB instead of 330 KB; inserting or removing a child moves only the
//! boundaries next to it. Everything here is a deterministic function of the items, so equal
//! nodes get equal hashes wherever they occur.

use crate::hash::Hash;

use super::Stuk;

pub(crate) const OBJ_NODE: u8 = b'N';
pub(crate) const OBJ_CHUNKED: u8 = b'C';
pub(crate) const OBJ_PART: u8 = b'P';
const ITEM_BYTES: u8 = 0;
const ITEM_KIND: u8 = 1;

/// A node with at most this many items (and a part list at most this long) is stored directly.
pub const MAX_DIRECT: usize = 32;
/// A node whose items encode to more than this (and that has ≥ 2 items) is stored in parts.
pub const MAX_PLAIN_BYTES: usize = 64 * 1024;
/// A level-0 part ends after at most this many items.
pub const MAX_PART_ITEMS: usize = 128;
/// A part of a higher level ends after at most this many parts.
pub const MAX_PART_REFS: usize = 64;
/// A level-0 part ends once its items encode to at least this many bytes.
pub const MAX_PART_BYTES: usize = 64 * 1024;
/// A content-defined boundary needs at least this many children (level 0) or parts (higher
/// levels) in the part: it narrows the spread of part sizes (the part holding a given child is
/// on average barely larger than the mean) and makes every level at least quarter the list.
pub const MIN_PART: usize = 4;
/// Boundary after a child (or part) whose hash has these bits zero: 1 in 4 (after `MIN_PART`).
const BOUNDARY_MASK: u8 = 0x03;

fn boundary_hash(h: &Hash) -> bool {
    h.0[0] & BOUNDARY_MASK == 0
}

/// Merge adjacent byte runs and drop empty ones: the canonical item sequence of a node.
pub(crate) fn normalize(stukken: Vec<Stuk>) -> Vec<Stuk> {
    let mut out: Vec<Stuk> = Vec::with_capacity(stukken.len());
    for s in stukken {
        match s {
            Stuk::Bytes(b) if b.is_empty() => {}
            Stuk::Bytes(b) => match out.last_mut() {
                Some(Stuk::Bytes(prev)) => prev.extend_from_slice(&b),
                _ => out.push(Stuk::Bytes(b)),
            },
            k @ Stuk::Kind(_) => out.push(k),
        }
    }
    out
}

fn varint_len(mut n: u64) -> usize {
    let mut k = 1;
    while n >= 0x80 {
        n >>= 7;
        k += 1;
    }
    k
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn item_len(s: &Stuk) -> usize {
    match s {
        Stuk::Bytes(b) => 1 + varint_len(b.len() as u64) + b.len(),
        Stuk::Kind(_) => 33,
    }
}

fn put_items(out: &mut Vec<u8>, items: &[Stuk]) {
    for s in items {
        match s {
            Stuk::Bytes(b) => {
                out.push(ITEM_BYTES);
                put_varint(out, b.len() as u64);
                out.extend_from_slice(b);
            }
            Stuk::Kind(h) => {
                out.push(ITEM_KIND);
                out.extend_from_slice(&h.0);
            }
        }
    }
}

/// One encoded object.
#[derive(Debug, Clone)]
pub(crate) struct Obj {
    pub hash: Hash,
    pub bytes: Vec<u8>,
}

impl Obj {
    fn new(bytes: Vec<u8>) -> Obj {
        Obj { hash: Hash::of(&bytes), bytes }
    }
}

/// Encode a node (normalized items) as objects: parts first, the node's own object last.
pub(crate) fn encode_node(items: &[Stuk]) -> Vec<Obj> {
    let sizes: Vec<usize> = items.iter().map(item_len).collect();
    let total: usize = sizes.iter().sum();
    let chunk = items.len() > MAX_DIRECT || (items.len() >= 2 && total > MAX_PLAIN_BYTES);
    if !chunk {
        let mut b = Vec::with_capacity(1 + total);
        b.push(OBJ_NODE);
        put_items(&mut b, items);
        return vec![Obj::new(b)];
    }
    let mut objs = Vec::new();
    // level 0: parts of items
    let mut refs: Vec<Hash> = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    let mut kids = 0;
    for (i, item) in items.iter().enumerate() {
        bytes += sizes[i];
        let n = i + 1 - start;
        let at_boundary = match item {
            Stuk::Kind(h) => {
                kids += 1;
                kids >= MIN_PART && boundary_hash(h)
            }
            Stuk::Bytes(_) => false,
        };
        if i + 1 == items.len() || at_boundary || n >= MAX_PART_ITEMS || bytes >= MAX_PART_BYTES {
            let mut b = Vec::with_capacity(2 + bytes);
            b.extend_from_slice(&[OBJ_PART, 0]);
            put_items(&mut b, &items[start..=i]);
            let o = Obj::new(b);
            refs.push(o.hash);
            objs.push(o);
            start = i + 1;
            bytes = 0;
            kids = 0;
        }
    }
    // higher levels until the list is short
    let mut level: u8 = 0;
    while refs.len() > MAX_DIRECT {
        level += 1;
        let mut next = Vec::new();
        let mut start = 0;
        for i in 0..refs.len() {
            let n = i + 1 - start;
            if i + 1 == refs.len() || (n >= MIN_PART && (boundary_hash(&refs[i]) || n >= MAX_PART_REFS)) {
                let mut b = Vec::with_capacity(2 + 32 * n);
                b.extend_from_slice(&[OBJ_PART, level]);
                for r in &refs[start..=i] {
                    b.extend_from_slice(&r.0);
                }
                let o = Obj::new(b);
                next.push(o.hash);
                objs.push(o);
                start = i + 1;
            }
        }
        refs = next;
    }
    let mut b = Vec::with_capacity(2 + 32 * refs.len());
    b.extend_from_slice(&[OBJ_CHUNKED, level]);
    for r in &refs {
        b.extend_from_slice(&r.0);
    }
    objs.push(Obj::new(b));
    objs
}

/// One decoded item, borrowing the object's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item<'a> {
    Bytes(&'a [u8]),
    Kind(Hash),
}

/// Decode the item at `pos` of `b`; returns it and the position after it.
pub(crate) fn item_at(b: &[u8], pos: usize) -> Result<(Item<'_>, usize), String> {
    match b.get(pos) {
        Some(&ITEM_BYTES) => {
            let mut n: u64 = 0;
            let mut p = pos + 1;
            let mut shift = 0u32;
            loop {
                let Some(&byte) = b.get(p) else { return Err(format!("truncated length at byte {pos}")) };
                p += 1;
                if shift == 63 && byte > 1 {
                    return Err(format!("length overflows at byte {pos}"));
                }
                n |= u64::from(byte & 0x7f) << shift;
                if byte & 0x80 == 0 {
                    if byte == 0 && shift > 0 {
                        return Err(format!("length not in shortest form at byte {pos}"));
                    }
                    break;
                }
                shift += 7;
            }
            let end = usize::try_from(n).ok().and_then(|n| p.checked_add(n)).filter(|&e| e <= b.len());
            match end {
                Some(e) if n > 0 => Ok((Item::Bytes(&b[p..e]), e)),
                Some(_) => Err(format!("empty byte run at byte {pos}")),
                None => Err(format!("byte run at byte {pos} runs past the end")),
            }
        }
        Some(&ITEM_KIND) => match b.get(pos + 1..pos + 33) {
            Some(h) => Ok((Item::Kind(hash_at(h)), pos + 33)),
            None => Err(format!("truncated child reference at byte {pos}")),
        },
        Some(t) => Err(format!("unknown item tag {t:#04x} at byte {pos}")),
        None => Err(format!("no item at byte {pos}")),
    }
}

pub(crate) fn hash_at(b: &[u8]) -> Hash {
    let mut h = [0u8; 32];
    h.copy_from_slice(&b[..32]);
    Hash(h)
}

/// What an object is, with where its content starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `N`: items from byte 1.
    Node,
    /// `C`: refs to parts of `level` from byte 2.
    Chunked { level: u8 },
    /// `P`: level 0 holds items, higher levels refs to parts of `level - 1`, from byte 2.
    Part { level: u8 },
}

impl Shape {
    pub(crate) fn content_start(self) -> usize {
        match self {
            Shape::Node => 1,
            _ => 2,
        }
    }
    /// True if the content is items (else part refs).
    pub(crate) fn has_items(self) -> bool {
        matches!(self, Shape::Node | Shape::Part { level: 0 })
    }
}

/// The shape of an object, checking only its header.
pub(crate) fn shape(b: &[u8]) -> Result<Shape, String> {
    match (b.first(), b.get(1)) {
        (Some(&OBJ_NODE), _) => Ok(Shape::Node),
        (Some(&OBJ_CHUNKED), Some(&level)) => Ok(Shape::Chunked { level }),
        (Some(&OBJ_PART), Some(&level)) => Ok(Shape::Part { level }),
        (Some(&t), _) if t == OBJ_CHUNKED || t == OBJ_PART => Err("object header truncated".into()),
        (Some(&t), _) => Err(format!("unknown object kind {t:#04x}")),
        (None, _) => Err("empty object".into()),
    }
}

/// Check an object's whole structure and return its shape and every hash it references
/// (children for items, parts for refs), in order.
pub(crate) fn validate(b: &[u8]) -> Result<(Shape, Vec<Hash>), String> {
    let sh = shape(b)?;
    let mut refs = Vec::new();
    let mut pos = sh.content_start();
    if sh.has_items() {
        let mut prev_bytes = false;
        while pos < b.len() {
            let (item, next) = item_at(b, pos)?;
            match item {
                Item::Bytes(_) if prev_bytes => return Err(format!("two byte runs in a row at byte {pos}")),
                Item::Bytes(_) => prev_bytes = true,
                Item::Kind(h) => {
                    prev_bytes = false;
                    refs.push(h);
                }
            }
            pos = next;
        }
        if matches!(sh, Shape::Part { .. }) && refs.is_empty() && pos == sh.content_start() {
            return Err("empty part".into());
        }
    } else {
        let body = &b[pos..];
        if body.is_empty() || !body.len().is_multiple_of(32) {
            return Err(format!("part list of {} bytes is not a non-empty multiple of 32", body.len()));
        }
        refs.extend(body.chunks_exact(32).map(hash_at));
    }
    Ok((sh, refs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kid(i: u32) -> Hash {
        Hash::of(&i.to_le_bytes())
    }

    #[test]
    fn varint_round_trip_and_rejects() {
        for n in [1u64, 127, 128, 300, 16_383, 16_384, u32::MAX as u64] {
            let mut b = vec![ITEM_BYTES];
            put_varint(&mut b, n);
            assert_eq!(b.len() - 1, varint_len(n));
            let lenbytes = b.len();
            b.resize(lenbytes + n.min(1000) as usize, b'x');
            match item_at(&b, 0) {
                Ok((Item::Bytes(x), e)) => {
                    assert_eq!(x.len() as u64, n);
                    assert_eq!(e, b.len());
                }
                Ok(other) => panic!("{other:?}"),
                Err(e) => assert!(n > 1000 && e.contains("past the end"), "{n}: {e}"),
            }
        }
        assert!(item_at(&[ITEM_BYTES, 0x80, 0x00], 0).unwrap_err().contains("shortest"));
        assert!(item_at(&[ITEM_BYTES, 0x00], 0).unwrap_err().contains("empty"));
        assert!(item_at(&[ITEM_BYTES, 0xff], 0).unwrap_err().contains("truncated"));
        assert!(item_at(&[ITEM_BYTES, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 0).is_err());
        assert!(item_at(&[ITEM_KIND, 1, 2], 0).unwrap_err().contains("truncated"));
        assert!(item_at(&[9], 0).unwrap_err().contains("unknown"));
    }

    #[test]
    fn small_nodes_are_plain_and_wide_nodes_are_chunked_deterministically() {
        let small = vec![Stuk::Bytes(b"<a>".to_vec()), Stuk::Kind(kid(1)), Stuk::Bytes(b"</a>".to_vec())];
        let o = encode_node(&small);
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].bytes[0], OBJ_NODE);
        assert_eq!(validate(&o[0].bytes).unwrap(), (Shape::Node, vec![kid(1)]));

        let mut wide = vec![Stuk::Bytes(b"<lichaam>".to_vec())];
        for i in 0..10_000 {
            wide.push(Stuk::Kind(kid(i)));
            wide.push(Stuk::Bytes(b"\n".to_vec()));
        }
        let a = encode_node(&wide);
        let b = encode_node(&wide);
        assert_eq!(a.iter().map(|o| o.hash).collect::<Vec<_>>(), b.iter().map(|o| o.hash).collect::<Vec<_>>());
        let top = a.last().unwrap();
        let (sh, refs) = validate(&top.bytes).unwrap();
        assert!(matches!(sh, Shape::Chunked { level } if level >= 1), "{sh:?}");
        assert!(refs.len() <= MAX_DIRECT);
        // every object is small
        assert!(a.iter().all(|o| o.bytes.len() <= 2 + MAX_PART_ITEMS * 33), "an object is too big");
        // change one child: few new objects
        let mut w2 = wide.clone();
        w2[2 * 5000 + 1] = Stuk::Kind(kid(99_999));
        let c = encode_node(&w2);
        let old: std::collections::HashSet<Hash> = a.iter().map(|o| o.hash).collect();
        let new: Vec<&Obj> = c.iter().filter(|o| !old.contains(&o.hash)).collect();
        // one object per level (two where the new hash moves a boundary) plus the node itself
        assert!(new.len() <= 7, "{} new objects", new.len());
        let new_bytes: usize = new.iter().map(|o| o.bytes.len()).sum();
        assert!(new_bytes < 8_000, "{new_bytes} new bytes");
        // insert one child: still local
        let mut w3 = wide.clone();
        w3.insert(2 * 3000 + 1, Stuk::Bytes(b"x".to_vec()));
        w3.insert(2 * 3000 + 1, Stuk::Kind(kid(77_777)));
        let w3 = normalize(w3);
        let d = encode_node(&w3);
        let new = d.iter().filter(|o| !old.contains(&o.hash)).count();
        assert!(new <= 8, "{new} new objects after an insert");
    }

    #[test]
    fn many_boundary_children_still_terminate() {
        // children that all hash to boundaries: parts of MIN_PART, levels shrink
        let mut items = Vec::new();
        let mut i = 0u32;
        while items.len() < 5000 {
            let h = kid(i);
            if boundary_hash(&h) {
                items.push(Stuk::Kind(h));
            }
            i += 1;
        }
        let objs = encode_node(&items);
        let (_, refs) = validate(&objs.last().unwrap().bytes).unwrap();
        assert!(refs.len() <= MAX_DIRECT);
    }

    #[test]
    fn big_byte_runs_chunk_by_size() {
        let items = vec![Stuk::Bytes(vec![b'a'; 70_000]), Stuk::Kind(kid(1)), Stuk::Bytes(vec![b'b'; 70_000])];
        let objs = encode_node(&items);
        assert!(objs.len() >= 3, "split into parts by size");
        let one = vec![Stuk::Bytes(vec![b'a'; 200_000])];
        assert_eq!(encode_node(&one).len(), 1, "a single run is never split");
    }

    #[test]
    fn normalize_merges_runs() {
        let n = normalize(vec![
            Stuk::Bytes(vec![]),
            Stuk::Bytes(b"a".to_vec()),
            Stuk::Bytes(b"b".to_vec()),
            Stuk::Kind(kid(1)),
            Stuk::Bytes(vec![]),
            Stuk::Kind(kid(2)),
        ]);
        assert_eq!(n, vec![Stuk::Bytes(b"ab".to_vec()), Stuk::Kind(kid(1)), Stuk::Kind(kid(2))]);
    }

    #[test]
    fn validate_rejects_malformed_objects() {
        assert!(validate(b"").is_err());
        assert!(validate(b"X").is_err());
        assert!(validate(b"C").is_err());
        assert!(validate(b"C\x00").is_err());
        assert!(validate(b"P\x01abc").is_err());
        assert!(validate(b"P\x00").is_err());
        assert!(validate(&[OBJ_NODE, 0, 1, b'a', 0, 1, b'b']).unwrap_err().contains("in a row"));
        assert_eq!(validate(&[OBJ_NODE]).unwrap(), (Shape::Node, vec![]));
    }
}
