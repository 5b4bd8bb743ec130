//! Finding objects and walking trees.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;

use crate::error::StoreError;
use crate::hash::Hash;
use crate::store::Store;

use super::codec::{self, Item, Shape};
use super::nodeindex::Loc;
use super::pack;

/// Hasher for maps keyed by SHA-256 hashes: the key is already uniformly random, so its first
/// eight bytes are the hash.
#[derive(Default)]
pub(crate) struct PrefixHasher(u64);

impl std::hash::Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut b = [0u8; 8];
        let n = bytes.len().min(8);
        b[..n].copy_from_slice(&bytes[..n]);
        self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

pub(crate) type HashKeyed<V> = HashMap<Hash, V, BuildHasherDefault<PrefixHasher>>;

fn corrupt(h: &Hash, message: impl Into<String>) -> StoreError {
    StoreError::NodeCorrupt { hash: *h, message: message.into() }
}

/// Where objects come from: `locate` returns (buffer, start, end) of an object's bytes.
pub(crate) trait Source {
    fn locate(&mut self, h: &Hash) -> Result<(usize, usize, usize), StoreError>;
    fn buf(&self, i: usize) -> &[u8];
    /// True once a concurrent check has found damage: stop walking.
    fn aborted(&self) -> bool {
        false
    }
}

/// Packs read but not yet verified, for a verifier thread.
pub(crate) type ToVerify = Vec<(Hash, Arc<Vec<u8>>)>;

/// Hand packs to the verifier in batches of about this many bytes (fewer thread wake-ups).
const VERIFY_BATCH: usize = 256 * 1024;

/// Whole packs, each read and verified once; an object is taken from any pack already read
/// whose table lists it, and only otherwise looked up in the node index.
///
/// With a verifier, a pack is used as soon as it is read and its SHA-256 is checked by another
/// thread meanwhile; the caller must not use the result before the verifier has confirmed every
/// pack (see `Store::read_tree`).
pub(crate) struct PackSet<'s, 'v> {
    store: &'s Store,
    bufs: Vec<Arc<Vec<u8>>>,
    packs: HashKeyed<usize>,
    local: HashKeyed<(usize, u64, u32)>,
    verifier: Option<(Sender<ToVerify>, &'v AtomicBool)>,
    pending: ToVerify,
    pending_bytes: usize,
}

impl<'s, 'v> PackSet<'s, 'v> {
    pub(crate) fn new(store: &'s Store) -> PackSet<'s, 'v> {
        PackSet {
            store,
            bufs: Vec::new(),
            packs: HashKeyed::default(),
            local: HashKeyed::default(),
            verifier: None,
            pending: Vec::new(),
            pending_bytes: 0,
        }
    }

    /// Hand every pack read to `tx` for verification instead of verifying it first; stop when
    /// `abort` is set.
    pub(crate) fn verified_by(store: &'s Store, tx: Sender<ToVerify>, abort: &'v AtomicBool) -> PackSet<'s, 'v> {
        let mut p = PackSet::new(store);
        p.verifier = Some((tx, abort));
        p
    }

    /// Read a whole pack, unverified: one `read` of the length the node index gives; if the
    /// file is shorter, the ordinary blob read reports what is wrong.
    fn read_pack(&self, loc: &Loc) -> Result<Vec<u8>, StoreError> {
        let path = self.store.blob_path(&loc.pack);
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::BlobNotFound { hash: loc.pack, path });
            }
            Err(e) => return Err(StoreError::io(path)(e)),
        };
        let Ok(len) = usize::try_from(loc.pack_len) else { return self.store.get_blob(&loc.pack) };
        let mut buf = vec![0u8; len];
        match f.read_exact(&mut buf) {
            Ok(()) => Ok(buf),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => self.store.get_blob(&loc.pack),
            Err(e) => Err(StoreError::io(path)(e)),
        }
    }

    fn flush(&mut self) {
        if let Some((tx, _)) = &self.verifier
            && !self.pending.is_empty()
        {
            // the receiver only hangs up after a damaged pack, which also sets the abort flag
            let _ = tx.send(std::mem::take(&mut self.pending));
            self.pending_bytes = 0;
        }
    }
}

impl Drop for PackSet<'_, '_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Check a pack read by `read_pack`; on a mismatch, re-read the file to say exactly what is
/// wrong (a damaged blob, or a node index that has the pack's length wrong).
fn check_pack(store: &Store, h: &Hash, bytes: &[u8]) -> Result<(), StoreError> {
    if Hash::of(bytes) == *h {
        return Ok(());
    }
    store.check_blob(h)?;
    Err(StoreError::Index { message: format!("node index has the wrong length for pack {h}") })
}

impl Source for PackSet<'_, '_> {
    fn locate(&mut self, h: &Hash) -> Result<(usize, usize, usize), StoreError> {
        if let Some(&(b, off, len)) = self.local.get(h) {
            return Ok((b, off as usize, off as usize + len as usize));
        }
        let loc = self.store.nodes.get(h)?.ok_or(StoreError::NodeNotFound { hash: *h })?;
        if !self.packs.contains_key(&loc.pack) {
            let bytes = Arc::new(self.read_pack(&loc)?);
            if self.verifier.is_some() {
                self.pending_bytes += bytes.len();
                self.pending.push((loc.pack, Arc::clone(&bytes)));
                if self.pending_bytes >= VERIFY_BATCH {
                    self.flush();
                }
            } else {
                check_pack(self.store, &loc.pack, &bytes)?;
            }
            let entries =
                pack::parse(&bytes).map_err(|message| StoreError::PackMalformed { pack: loc.pack, message })?;
            let i = self.bufs.len();
            self.local.reserve(entries.len());
            for e in &entries {
                self.local.entry(e.hash).or_insert((i, e.offset, e.len));
            }
            self.bufs.push(bytes);
            self.packs.insert(loc.pack, i);
        }
        match self.local.get(h) {
            Some(&(b, off, len)) => Ok((b, off as usize, off as usize + len as usize)),
            None => Err(StoreError::Index {
                message: format!("node index places object {h} in pack {}, which does not hold it", loc.pack),
            }),
        }
    }
    fn buf(&self, i: usize) -> &[u8] {
        &self.bufs[i]
    }
    fn aborted(&self) -> bool {
        self.verifier.as_ref().is_some_and(|(_, a)| a.load(Ordering::Relaxed))
    }
}

/// Check packs as they arrive; on the first damaged one set `abort` and return its error.
pub(crate) fn verify_packs(
    store: &Store,
    rx: std::sync::mpsc::Receiver<ToVerify>,
    abort: &AtomicBool,
) -> Option<StoreError> {
    for batch in rx {
        for (h, bytes) in batch {
            if let Err(e) = check_pack(store, &h, &bytes) {
                abort.store(true, Ordering::Relaxed);
                return Some(e);
            }
        }
    }
    None
}

/// Single objects by positioned reads, each verified against its hash.
pub(crate) struct ObjectReads<'s> {
    store: &'s Store,
    bufs: Vec<Vec<u8>>,
    files: HashKeyed<File>,
    got: HashKeyed<usize>,
}

impl<'s> ObjectReads<'s> {
    pub(crate) fn new(store: &'s Store) -> ObjectReads<'s> {
        ObjectReads { store, bufs: Vec::new(), files: HashKeyed::default(), got: HashKeyed::default() }
    }
}

use crate::fsutil::read_exact_at as read_at;

/// One object's bytes, through the node index, from its pack (opened once per reader, kept in
/// `files`), verified by its hash.
fn read_object(store: &Store, files: &mut HashKeyed<File>, h: &Hash) -> Result<Vec<u8>, StoreError> {
    let loc = store.nodes.get(h)?.ok_or(StoreError::NodeNotFound { hash: *h })?;
    if !files.contains_key(&loc.pack) {
        let path = store.blob_path(&loc.pack);
        let f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::BlobNotFound { hash: loc.pack, path });
            }
            Err(e) => return Err(StoreError::io(path)(e)),
        };
        files.insert(loc.pack, f);
    }
    let f = &files[&loc.pack];
    let mut buf = vec![0u8; loc.len as usize];
    match read_at(f, &mut buf, loc.offset) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(corrupt(h, format!("pack {} is shorter than the node index says", loc.pack)));
        }
        Err(e) => return Err(StoreError::io(store.blob_path(&loc.pack))(e)),
    }
    let actual = Hash::of(&buf);
    if actual != *h {
        return Err(corrupt(h, format!("its bytes in pack {} hash to {actual}", loc.pack)));
    }
    Ok(buf)
}

impl Source for ObjectReads<'_> {
    fn locate(&mut self, h: &Hash) -> Result<(usize, usize, usize), StoreError> {
        if let Some(&i) = self.got.get(h) {
            return Ok((i, 0, self.bufs[i].len()));
        }
        let buf = read_object(self.store, &mut self.files, h)?;
        let i = self.bufs.len();
        self.bufs.push(buf);
        self.got.insert(*h, i);
        Ok((i, 0, self.bufs[i].len()))
    }
    fn buf(&self, i: usize) -> &[u8] {
        &self.bufs[i]
    }
}

/// The bytes of a tree in document order as a [`std::io::Read`], read object by object
/// (positioned reads, each object verified against its hash before any of its bytes is
/// returned), holding only the objects on the current path: memory stays small however large
/// the document is. Made by [`Store::tree_reader`]. A store failure surfaces as an
/// [`std::io::Error`] that wraps the [`StoreError`] ([`TreeReader::store_error`] gets it back).
pub struct TreeReader<'s> {
    store: &'s Store,
    files: HashKeyed<File>,
    stack: Vec<OwnedFrame>,
    on_stack: HashSet<Hash, BuildHasherDefault<PrefixHasher>>,
    /// The byte run being returned: (stack depth, position, end) in that frame's bytes.
    run: Option<(usize, usize, usize)>,
    started: bool,
    root: Hash,
}

struct OwnedFrame {
    obj: Hash,
    bytes: Vec<u8>,
    pos: usize,
    mode: Mode,
}

impl<'s> TreeReader<'s> {
    pub(crate) fn new(store: &'s Store, root: Hash) -> TreeReader<'s> {
        TreeReader {
            store,
            files: HashKeyed::default(),
            stack: Vec::new(),
            on_stack: HashSet::default(),
            run: None,
            started: false,
            root,
        }
    }

    /// The store error inside an error returned by `read`, if it is one.
    pub fn store_error(e: std::io::Error) -> Result<StoreError, std::io::Error> {
        if e.get_ref().is_some_and(|x| x.is::<StoreError>()) {
            match e.into_inner().map(|b| b.downcast::<StoreError>()) {
                Some(Ok(se)) => return Ok(*se),
                Some(Err(b)) => return Err(std::io::Error::other(b)),
                None => unreachable!("checked above"),
            }
        }
        Err(e)
    }

    fn object(&mut self, h: &Hash) -> Result<Vec<u8>, StoreError> {
        read_object(self.store, &mut self.files, h)
    }

    /// Open an object expected to be a node (`part` None) or a part of the given level.
    fn open(&mut self, h: &Hash, part: Option<u8>, root: bool) -> Result<OwnedFrame, StoreError> {
        let bytes = self.object(h)?;
        let sh = codec::shape(&bytes).map_err(|m| corrupt(h, m))?;
        let mode = mode_of(h, sh, part, root)?;
        Ok(OwnedFrame { obj: *h, pos: sh.content_start(), bytes, mode })
    }

    /// Advance to the next byte run (`false` at the end of the document).
    fn advance(&mut self) -> Result<bool, StoreError> {
        if !self.started {
            self.started = true;
            let root = self.root;
            let f = self.open(&root, None, true)?;
            self.on_stack.insert(root);
            self.stack.push(f);
        }
        loop {
            let depth = self.stack.len();
            let Some(top) = self.stack.last_mut() else { return Ok(false) };
            if top.pos >= top.bytes.len() {
                self.on_stack.remove(&top.obj);
                self.stack.pop();
                continue;
            }
            let next = match top.mode {
                Mode::Items => {
                    let (item, p) = codec::item_at(&top.bytes, top.pos).map_err(|m| corrupt(&top.obj, m))?;
                    match item {
                        Item::Bytes(b) => {
                            let start = p - b.len();
                            top.pos = p;
                            self.run = Some((depth - 1, start, p));
                            return Ok(true);
                        }
                        Item::Kind(k) => {
                            top.pos = p;
                            (k, None)
                        }
                    }
                }
                Mode::Refs(level) => {
                    let Some(r) = top.bytes.get(top.pos..top.pos + 32) else {
                        return Err(corrupt(&top.obj, "truncated part reference"));
                    };
                    let h = codec::hash_at(r);
                    top.pos += 32;
                    (h, Some(level))
                }
            };
            let (h, part) = next;
            if !self.on_stack.insert(h) {
                return Err(corrupt(&h, "object contains itself"));
            }
            let f = self.open(&h, part, false)?;
            self.stack.push(f);
        }
    }
}

impl std::io::Read for TreeReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some((d, pos, end)) = self.run
                && pos < end
            {
                let n = (end - pos).min(out.len());
                out[..n].copy_from_slice(&self.stack[d].bytes[pos..pos + n]);
                self.run = Some((d, pos + n, end));
                return Ok(n);
            }
            self.run = None;
            if out.is_empty() {
                return Ok(0);
            }
            if !self.advance().map_err(std::io::Error::other)? {
                return Ok(0);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Items,
    /// Part references; the parts are of this level.
    Refs(u8),
}

struct Frame {
    obj: Hash,
    buf: usize,
    pos: usize,
    end: usize,
    mode: Mode,
}

/// How to walk object `h` of shape `sh`, opened as a node (`part` None; `root`: the document
/// asked for) or as a part of the given level; a shape that does not fit is an error.
fn mode_of(h: &Hash, sh: Shape, part: Option<u8>, root: bool) -> Result<Mode, StoreError> {
    Ok(match (sh, part) {
        // asked for a part as if it were a node: there is no such node
        (Shape::Part { .. }, None) if root => return Err(StoreError::NodeNotFound { hash: *h }),
        (Shape::Node, None) => Mode::Items,
        (Shape::Chunked { level }, None) => Mode::Refs(level),
        (Shape::Part { level: 0 }, Some(0)) => Mode::Items,
        (Shape::Part { level }, Some(l)) if level == l => Mode::Refs(level - 1),
        (sh, None) => return Err(corrupt(h, format!("referred to as a node, but it is {sh:?}"))),
        (sh, Some(l)) => return Err(corrupt(h, format!("referred to as a part of level {l}, but it is {sh:?}"))),
    })
}

/// Open an object expected to be a node (`part` None) or a part of the given level.
fn open<S: Source>(src: &mut S, h: &Hash, part: Option<u8>, root: bool) -> Result<Frame, StoreError> {
    let (buf, start, end) = src.locate(h)?;
    let sh = codec::shape(&src.buf(buf)[start..end]).map_err(|m| corrupt(h, m))?;
    let mode = mode_of(h, sh, part, root)?;
    Ok(Frame { obj: *h, buf, pos: start + sh.content_start(), end, mode })
}

/// Walk the items of node `root` in document order, expanding its parts; with `descend`, child
/// nodes are expanded too (and not reported), so `on` sees only byte runs. An object that
/// (through damaged bytes) contains itself is an error, not an endless walk.
pub(crate) fn walk<S: Source>(
    src: &mut S,
    root: &Hash,
    descend: bool,
    on: &mut dyn FnMut(Item<'_>),
) -> Result<(), StoreError> {
    let mut stack = vec![open(src, root, None, true)?];
    let mut on_stack: HashSet<Hash, BuildHasherDefault<PrefixHasher>> = HashSet::default();
    on_stack.insert(*root);
    while let Some(top) = stack.last_mut() {
        if top.pos >= top.end {
            on_stack.remove(&top.obj);
            stack.pop();
            continue;
        }
        let next = match top.mode {
            Mode::Items => {
                let b = &src.buf(top.buf)[..top.end];
                let (item, p) = codec::item_at(b, top.pos).map_err(|m| corrupt(&top.obj, m))?;
                top.pos = p;
                match item {
                    Item::Kind(k) if descend => Some((k, None)),
                    other => {
                        on(other);
                        None
                    }
                }
            }
            Mode::Refs(level) => {
                let Some(r) = src.buf(top.buf).get(top.pos..(top.pos + 32).min(top.end)).filter(|r| r.len() == 32)
                else {
                    return Err(corrupt(&top.obj, "truncated part reference"));
                };
                let h = codec::hash_at(r);
                top.pos += 32;
                Some((h, Some(level)))
            }
        };
        if let Some((h, part)) = next {
            if src.aborted() {
                return Err(corrupt(&h, "walk stopped: a pack is damaged"));
            }
            if !on_stack.insert(h) {
                return Err(corrupt(&h, "object contains itself"));
            }
            let f = open(src, &h, part, false)?;
            stack.push(f);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::hash::Hasher as _;

    use super::*;

    #[test]
    fn prefix_hasher_spreads_hash_keys() {
        let mut m: HashKeyed<u32> = HashKeyed::default();
        for i in 0..1000u32 {
            m.insert(Hash::of(&i.to_le_bytes()), i);
        }
        for i in 0..1000u32 {
            assert_eq!(m[&Hash::of(&i.to_le_bytes())], i);
        }
        let mut h = PrefixHasher::default();
        h.write(&[1, 2, 3]);
        assert_ne!(h.finish(), 0);
    }
}
