//! Trees of content-addressed nodes: structural sharing between versions and works.
//!
//! A document (an expression's text) is stored as a tree of [`Node`]s. A node is a sequence of
//! [`Stuk`]ken: byte runs and references to child nodes; the document is the byte runs
//! concatenated depth-first ([`Store::read_tree`]). Which parts of a document become nodes is the
//! caller's decision (for STOP: one node per artikel, divisietekst or bijlage, plus small
//! structural nodes); the store knows nothing of STOP.
//!
//! A node is named by the SHA-256 of its canonical encoding (see [`codec`]), so equal subtrees
//! get equal hashes in every work and are stored once. A new version that changes one leaf
//! writes only that leaf and its ancestors: the caller builds the changed nodes, refers to the
//! unchanged subtrees of the previous version by hash ([`Node::hash`], [`PutTree::hashes`],
//! [`Store::get_node`], [`Store::node_hashes`]) and calls [`Txn::put_tree`].
//!
//! ## Storage
//!
//! * **Objects.** A node is stored as one object, or, if it is wide (more than 32 items), as a
//!   small tree of *part* objects cut at content-defined boundaries, so that changing one child of
//!   a node with thousands of children rewrites a few hundred bytes, not the whole child list.
//!   Parts are an internal detail: [`Store::get_node`] returns the whole node.
//! * **Packs.** The objects one `put_tree` adds (those neither stored nor staged in the
//!   transaction yet) go into ONE new blob, a pack (format in [`pack`]). Packs are ordinary blobs:
//!   staged by the transaction, made durable and published by the commit protocol, immutable,
//!   verified on every read. The record that publishes a version must name its pack in
//!   [`crate::NewRecord::derived`] ([`Txn::packs`], [`PutTree::pack`]); commit refuses a pack that
//!   builds on a pack of the same transaction that no record up to it names
//!   ([`StoreError::PackDependency`]), and a staged pack that no record names is discarded like
//!   any other staged blob.
//! * **Node index (derived).** object hash → (pack, pack length, offset, length), under
//!   `index/nodes/` as a few immutable sorted runs, one written per commit that adds objects and
//!   merged with runs of similar size (see [`nodeindex`] and [`runs`]): derived from the
//!   ledger's `derived` lists and the packs, applied after each commit, caught up on open and on
//!   access, recreated by [`Store::rebuild`], compared (and its runs' checksums checked) by
//!   [`Store::verify`]. It is never the source of truth.
//!
//! ## Reading
//!
//! [`Store::read_tree`] looks the root up, reads its pack with one `read` (the node index knows
//! the pack's length), and takes every further object from a pack already read when it is there
//! (a pack's table lists all its objects), so a version costs one read per pack it touches, not
//! one per node. Every pack's SHA-256 is checked, on a helper thread while the walk goes on when
//! there is more than one CPU; nothing is returned before all checks passed. [`Store::get_node`]
//! reads just the objects of one node (positioned reads, each object's SHA-256 checked), which is
//! what a caller uses to find the path to a changed leaf.
//!
//! ## Verification
//!
//! [`Store::verify`] parses every pack a ledger record names, checks every object's hash and
//! structure, checks that every child and part an object refers to is held by a pack named by
//! the same or an earlier record (so every tree reachable from a record resolves), and compares
//! the node index with the one the ledger implies.

pub(crate) mod codec;
pub(crate) mod nodeindex;
pub(crate) mod pack;
mod read;
mod runs;
pub use read::TreeReader;
pub(crate) mod verify;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::AtomicBool;

use crate::error::StoreError;
use crate::hash::Hash;
use crate::model::NewRecord;
use crate::store::{Store, Txn};

use codec::{Item, Shape};
use pack::Entry;

/// The hash of a tree node: SHA-256 of its canonical encoding.
pub type NodeHash = Hash;

/// One piece of a node: a run of bytes, or a child node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Stuk {
    Bytes(Vec<u8>),
    Kind(NodeHash),
}

/// A tree node: byte runs and child references, in document order.
///
/// Nodes are compared and hashed in canonical form: adjacent byte runs merged, empty runs
/// dropped ([`Node::normalized`]); [`Store::get_node`] returns that form.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Node {
    pub stukken: Vec<Stuk>,
}

fn is_normal(s: &[Stuk]) -> bool {
    s.iter().all(|x| !matches!(x, Stuk::Bytes(b) if b.is_empty()))
        && s.windows(2).all(|w| !matches!(w, [Stuk::Bytes(_), Stuk::Bytes(_)]))
}

impl Node {
    pub fn new(stukken: Vec<Stuk>) -> Node {
        Node { stukken }
    }

    /// A node of bytes only (a leaf).
    pub fn leaf(bytes: impl Into<Vec<u8>>) -> Node {
        Node { stukken: vec![Stuk::Bytes(bytes.into())] }
    }

    /// The canonical form: adjacent byte runs merged, empty runs dropped.
    pub fn normalized(self) -> Node {
        Node { stukken: codec::normalize(self.stukken) }
    }

    fn canonical(&self) -> Cow<'_, [Stuk]> {
        if is_normal(&self.stukken) {
            Cow::Borrowed(&self.stukken)
        } else {
            Cow::Owned(codec::normalize(self.stukken.clone()))
        }
    }

    /// The hash this node has in the store, computed without the store.
    pub fn hash(&self) -> NodeHash {
        let objs = codec::encode_node(&self.canonical());
        objs.last().map(|o| o.hash).unwrap_or_default()
    }

    /// The child hashes, in order.
    pub fn children(&self) -> impl Iterator<Item = &NodeHash> + '_ {
        self.stukken.iter().filter_map(|s| match s {
            Stuk::Kind(h) => Some(h),
            Stuk::Bytes(_) => None,
        })
    }

    /// Total length of the byte runs (not counting children).
    pub fn byte_len(&self) -> usize {
        self.stukken.iter().map(|s| if let Stuk::Bytes(b) = s { b.len() } else { 0 }).sum()
    }
}

/// What [`Txn::put_tree`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutTree {
    /// Hash of the last node given (the root, when nodes come children first).
    pub root: NodeHash,
    /// Hash of every node given, in order.
    pub hashes: Vec<NodeHash>,
    /// The pack blob written, or `None` if every object was already stored or staged.
    pub pack: Option<Hash>,
    /// Objects written to the pack (nodes, plus parts of wide nodes).
    pub objects: usize,
    /// Size of the pack blob in bytes (0 without a pack).
    pub pack_bytes: u64,
    /// Packs staged earlier in this transaction that hold objects this tree uses; a record
    /// naming `pack` (or `root`) must be preceded, or accompanied, by a record naming these.
    pub needs: Vec<Hash>,
}

/// What kind of object a pack holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ObjectKind {
    /// A node stored whole.
    Node,
    /// A wide node, stored as a list of parts.
    ChunkedNode,
    /// A part of a wide node (not a node itself).
    Part,
}

/// One object of a pack ([`Store::pack_contents`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackObject {
    pub hash: Hash,
    pub kind: ObjectKind,
    /// Encoded length in bytes.
    pub len: u32,
}

struct StagedPack {
    hash: Hash,
    len: u64,
    entries: Vec<Entry>,
    /// Indexes of earlier packs of this transaction whose objects this one uses.
    needs: BTreeSet<usize>,
}

/// The tree state of a transaction: the packs it staged and where their objects are.
#[derive(Default)]
pub(crate) struct TxnTree {
    packs: Vec<StagedPack>,
    objects: HashMap<Hash, usize>,
}

impl TxnTree {
    /// The entries and the length of a pack this transaction wrote.
    pub(crate) fn entries_of(&self, pack: &Hash) -> Option<(&[Entry], u64)> {
        self.packs.iter().find(|p| p.hash == *pack).map(|p| (p.entries.as_slice(), p.len))
    }

    /// Commit check: every staged pack a record names may only build on staged packs named by
    /// the same record or an earlier one of the group.
    pub(crate) fn check_commit(&self, recs: &[NewRecord]) -> Result<(), StoreError> {
        if self.packs.is_empty() {
            return Ok(());
        }
        let idx: HashMap<Hash, usize> = self.packs.iter().enumerate().map(|(i, p)| (p.hash, i)).collect();
        let mut named = HashSet::new();
        for rec in recs {
            let mine: Vec<usize> = rec.derived.iter().filter_map(|d| idx.get(d).copied()).collect();
            named.extend(mine.iter().copied());
            for p in mine {
                if let Some(&n) = self.packs[p].needs.iter().find(|n| !named.contains(*n)) {
                    return Err(StoreError::PackDependency { pack: self.packs[p].hash, needs: self.packs[n].hash });
                }
            }
        }
        Ok(())
    }
}

impl<'s> Txn<'s> {
    /// Store the nodes of a tree, children before parents, and return their hashes (the last
    /// one is [`PutTree::root`]). Every child a node refers to must be stored already, staged by
    /// an earlier `put_tree` of this transaction, or given earlier in `nodes`
    /// ([`StoreError::MissingNode`] otherwise). Objects that are stored or staged already are
    /// skipped; the rest are written as ONE new pack blob, staged like `put_blob`. Name the pack
    /// in the committing record's `derived` list (see [`Txn::packs`]).
    pub fn put_tree<I: IntoIterator<Item = Node>>(&mut self, nodes: I) -> Result<PutTree, StoreError> {
        let mut w = self.tree_writer()?;
        for node in nodes {
            w.put(node)?;
        }
        w.finish()
    }

    /// [`Txn::put_tree`] one node at a time: [`TreeWriter::put`] returns each node's hash as it
    /// is stored, so a caller that needs the hashes of children to build their parent does not
    /// hash every node a second time; [`TreeWriter::finish`] writes the pack. A writer dropped
    /// without `finish` stages nothing.
    pub fn tree_writer(&mut self) -> Result<TreeWriter<'_, 's>, StoreError> {
        let store = self.store;
        store.nodes.catch_up(store)?;
        let spill = self.staging_temp("pack-data")?;
        Ok(TreeWriter {
            txn: self,
            objs: Vec::new(),
            data: PackData { spill, ..PackData::default() },
            in_pack: HashSet::new(),
            known: HashSet::new(),
            needs: BTreeSet::new(),
            hashes: Vec::new(),
        })
    }

    /// The packs this transaction has written, in order.
    pub fn packs(&self) -> Vec<Hash> {
        self.tree.packs.iter().map(|p| p.hash).collect()
    }
}

/// Writes the nodes of one pack ([`Txn::tree_writer`]).
pub struct TreeWriter<'t, 's> {
    txn: &'t mut Txn<'s>,
    /// New objects: (hash, length) in order, their bytes back to back in `data` (written after
    /// the pack's table without another copy; a large pack's data goes to a staging file).
    objs: Vec<(Hash, u32)>,
    data: PackData,
    in_pack: HashSet<Hash>,
    known: HashSet<Hash>,
    needs: BTreeSet<usize>,
    hashes: Vec<NodeHash>,
}

impl std::fmt::Debug for TreeWriter<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeWriter").field("nodes", &self.hashes.len()).field("objects", &self.objs.len()).finish()
    }
}

impl TreeWriter<'_, '_> {
    /// Is the object stored or staged? Records which staged pack it comes from.
    fn have(&mut self, h: &Hash) -> Result<bool, StoreError> {
        if self.in_pack.contains(h) || self.known.contains(h) {
            return Ok(true);
        }
        if let Some(&p) = self.txn.tree.objects.get(h) {
            self.needs.insert(p);
            return Ok(true);
        }
        let found = self.txn.store.nodes.get(h)?.is_some();
        if found {
            self.known.insert(*h);
        }
        Ok(found)
    }

    /// Store one node (its children given earlier, or stored or staged already) and return its
    /// hash.
    pub fn put(&mut self, node: Node) -> Result<NodeHash, StoreError> {
        let items = codec::normalize(node.stukken);
        let node_objs = codec::encode_node(&items);
        let Some(h) = node_objs.last().map(|o| o.hash) else {
            return Err(StoreError::InvalidTree("node encodes to no object".into()));
        };
        for o in node_objs {
            if self.have(&o.hash)? {
                continue;
            }
            // A new object: what it refers to must exist. (An object already stored or staged
            // was checked when it was put, so an unchanged part of a wide node costs no lookups
            // for its children.)
            let (_, refs) = codec::validate(&o.bytes).map_err(StoreError::InvalidTree)?;
            for r in &refs {
                if !self.have(r)? {
                    return Err(StoreError::MissingNode { child: *r });
                }
            }
            self.in_pack.insert(o.hash);
            let len = u32::try_from(o.bytes.len())
                .map_err(|_| StoreError::InvalidTree(format!("object {} is larger than 4 GiB", o.hash)))?;
            self.objs.push((o.hash, len));
            self.data.push(&o.bytes)?;
        }
        self.hashes.push(h);
        Ok(h)
    }

    /// Write the pack of the new objects (if any) and say what was stored.
    pub fn finish(self) -> Result<PutTree, StoreError> {
        let TreeWriter { txn, objs, data, needs, hashes, .. } = self;
        let Some(&root) = hashes.last() else {
            return Err(StoreError::InvalidTree("put_tree needs at least one node".into()));
        };
        let mut out = PutTree { root, hashes, pack: None, objects: objs.len(), pack_bytes: 0, needs: Vec::new() };
        if !objs.is_empty() {
            let (head, entries) = pack::encode_head(&objs).map_err(StoreError::InvalidTree)?;
            let len = head.len() as u64 + data.len;
            let ph = match data.file {
                None => txn.put_blob_parts_file(&[&head, &data.mem])?,
                Some((path, f)) => {
                    let r = f
                        .into_inner()
                        .map_err(|e| StoreError::io(&path)(e.into_error()))
                        .and_then(|_| std::fs::File::open(&path).map_err(StoreError::io(&path)));
                    let res = r.and_then(|f| {
                        let mut rd = std::io::Read::chain(
                            std::io::Cursor::new(&head),
                            std::io::BufReader::with_capacity(1 << 20, f),
                        );
                        txn.put_blob_reader(&mut rd)
                    });
                    let _ = std::fs::remove_file(&path);
                    let (h, n) = res?;
                    debug_assert_eq!(n, len);
                    h
                }
            };
            let i = txn.tree.packs.len();
            for e in &entries {
                txn.tree.objects.entry(e.hash).or_insert(i);
            }
            txn.tree.packs.push(StagedPack { hash: ph, len, entries, needs: needs.clone() });
            out.pack = Some(ph);
            out.pack_bytes = len;
        } else if let Some((path, _)) = data.file {
            let _ = std::fs::remove_file(&path);
        }
        out.needs = needs.iter().map(|&i| txn.tree.packs[i].hash).collect();
        Ok(out)
    }
}

/// The data part of a pack being written: in memory, and beyond [`SPILL`] bytes in a staging
/// file (so a 50 MB text is not held in memory as well as its source).
#[derive(Default)]
struct PackData {
    /// Where the data goes when it grows beyond [`SPILL`].
    spill: std::path::PathBuf,
    mem: Vec<u8>,
    file: Option<(std::path::PathBuf, std::io::BufWriter<std::fs::File>)>,
    len: u64,
}

const SPILL: usize = 8 << 20;

impl PackData {
    fn push(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        use std::io::Write as _;
        self.len += bytes.len() as u64;
        if self.file.is_none() && self.mem.len() + bytes.len() <= SPILL {
            self.mem.extend_from_slice(bytes);
            return Ok(());
        }
        if self.file.is_none() {
            let path = self.spill.clone();
            let f = std::fs::File::create(&path).map_err(StoreError::io(&path))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            w.write_all(&self.mem).map_err(StoreError::io(&path))?;
            self.mem = Vec::new();
            self.file = Some((path, w));
        }
        if let Some((path, w)) = &mut self.file {
            w.write_all(bytes).map_err(StoreError::io(&*path))?;
        }
        Ok(())
    }
}

fn kind_of(b: &[u8]) -> Result<ObjectKind, String> {
    Ok(match codec::shape(b)? {
        Shape::Node => ObjectKind::Node,
        Shape::Chunked { .. } => ObjectKind::ChunkedNode,
        Shape::Part { .. } => ObjectKind::Part,
    })
}

impl Store {
    /// The whole document under `root`: its byte runs concatenated depth-first. Reads each pack
    /// involved once and verifies it (SHA-256 of the blob). With more than one CPU the packs are
    /// verified on a helper thread while the walk goes on; nothing is returned before every pack
    /// has been verified, and a damaged pack gives [`StoreError::BlobCorrupt`] as without it.
    pub fn read_tree(&self, root: &NodeHash) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::new();
        self.read_tree_into(root, &mut out)?;
        Ok(out)
    }

    /// [`Store::read_tree`], appending to `out` (so a caller can reuse one buffer for many
    /// reads). On an error `out` is left as it was.
    pub fn read_tree_into(&self, root: &NodeHash, out: &mut Vec<u8>) -> Result<(), StoreError> {
        let start = out.len();
        let r = self.read_tree_append(root, out);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    fn read_tree_append(&self, root: &NodeHash, out: &mut Vec<u8>) -> Result<(), StoreError> {
        self.nodes.catch_up(self)?;
        let mut emit = |it: Item<'_>| {
            if let Item::Bytes(b) = it {
                out.extend_from_slice(b)
            }
        };
        if std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2 {
            let abort = AtomicBool::new(false);
            let parallel = std::thread::scope(|sc| {
                let (tx, rx) = std::sync::mpsc::channel();
                let abort = &abort;
                let spawned = std::thread::Builder::new()
                    .name("regelbank-pack-check".into())
                    .spawn_scoped(sc, move || read::verify_packs(self, rx, abort));
                let Ok(checker) = spawned else { return None };
                let walked = {
                    let mut src = read::PackSet::verified_by(self, tx, abort);
                    read::walk(&mut src, root, true, &mut emit)
                    // `src` and with it the sender are dropped here: the checker finishes
                };
                let damaged = checker
                    .join()
                    .unwrap_or_else(|_| Some(StoreError::Index { message: "pack verifier thread panicked".into() }));
                Some((walked, damaged))
            });
            match parallel {
                Some((_, Some(e))) | Some((Err(e), None)) => return Err(e),
                Some((Ok(()), None)) => return Ok(()),
                None => {} // no thread: verify as we go
            }
        }
        read::walk(&mut read::PackSet::new(self), root, true, &mut emit)
    }

    /// The document under `root` as a reader: the same bytes as [`Store::read_tree`], read
    /// object by object (each verified by its hash before its bytes are returned) and holding
    /// only the objects on the current path, so a large text is never in memory at once.
    pub fn tree_reader(&self, root: &NodeHash) -> Result<TreeReader<'_>, StoreError> {
        self.nodes.catch_up(self)?;
        Ok(TreeReader::new(self, *root))
    }

    /// One node (canonical form), reading only its own objects (each verified by its hash).
    pub fn get_node(&self, h: &NodeHash) -> Result<Node, StoreError> {
        self.nodes.catch_up(self)?;
        let mut src = read::ObjectReads::new(self);
        let mut stukken: Vec<Stuk> = Vec::new();
        read::walk(&mut src, h, false, &mut |it| {
            stukken.push(match it {
                Item::Bytes(b) => Stuk::Bytes(b.to_vec()),
                Item::Kind(k) => Stuk::Kind(k),
            })
        })?;
        Ok(Node { stukken: codec::normalize(stukken) })
    }

    /// Every node reachable from `root`, once each, in depth-first preorder, with its children
    /// in order: the shape of a version, without its bytes.
    pub fn node_hashes(&self, root: &NodeHash) -> Result<Vec<(NodeHash, Vec<NodeHash>)>, StoreError> {
        self.nodes.catch_up(self)?;
        let mut src = read::PackSet::new(self);
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = vec![*root];
        seen.insert(*root);
        while let Some(h) = stack.pop() {
            let mut kids = Vec::new();
            read::walk(&mut src, &h, false, &mut |it| {
                if let Item::Kind(k) = it {
                    kids.push(k)
                }
            })?;
            for k in kids.iter().rev() {
                if seen.insert(*k) {
                    stack.push(*k);
                }
            }
            out.push((h, kids));
        }
        Ok(out)
    }

    /// The objects of a pack blob, in pack order (reads and verifies the blob).
    pub fn pack_contents(&self, pack: &Hash) -> Result<Vec<PackObject>, StoreError> {
        let bytes = self.get_blob(pack)?;
        let entries = pack::parse(&bytes).map_err(|message| StoreError::PackMalformed { pack: *pack, message })?;
        entries
            .iter()
            .map(|e| {
                let kind =
                    kind_of(&bytes[e.range()]).map_err(|message| StoreError::NodeCorrupt { hash: e.hash, message })?;
                Ok(PackObject { hash: e.hash, kind, len: e.len })
            })
            .collect()
    }
}
