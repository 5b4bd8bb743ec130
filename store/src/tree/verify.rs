//! The tree part of [`Store::verify`].

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::error::StoreError;
use crate::hash::Hash;
use crate::store::Store;
use crate::verify::{ProblemKind, VerifyReport};

use super::codec::{self, Shape};
use super::nodeindex::{Loc, NodeIndex, load_valid_pack};
use super::read::HashKeyed;

/// What a reference must point at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Node,
    Part(u8),
}

struct Seen {
    seq: u64,
    loc: Loc,
    shape: Shape,
}

/// Check every pack the ledger names (`records`: seq and `derived` list of each record, in
/// order; `skip`: blobs already reported corrupt or unreadable), every reference between
/// objects, and the node index.
pub(crate) fn verify_trees(
    store: &Store,
    records: &[(u64, Vec<Hash>)],
    roots: &[(u64, Hash)],
    skip: &BTreeSet<Hash>,
    rep: &mut VerifyReport,
) -> Result<(), StoreError> {
    let mut seen: HashKeyed<Seen> = HashKeyed::default();
    // (referring object, its pack, seq, target, what the target must be)
    let mut refs: Vec<(Hash, Hash, u64, Hash, Want)> = Vec::new();
    let mut packs_done = HashSet::new();
    for (seq, derived) in records {
        for d in derived {
            if skip.contains(d) || !packs_done.insert(*d) {
                continue;
            }
            let (bytes, entries) = match load_valid_pack(store, d)? {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(msg) => {
                    rep.push(ProblemKind::PackMalformed, Some(*d), Some(*seq), Some(store.blob_path(d)), msg);
                    continue;
                }
            };
            rep.packs += 1;
            for e in &entries {
                rep.tree_objects += 1;
                let (shape, targets) = match codec::validate(&bytes[e.range()]) {
                    Ok(x) => x,
                    Err(msg) => {
                        rep.push(
                            ProblemKind::PackMalformed,
                            Some(*d),
                            Some(*seq),
                            Some(store.blob_path(d)),
                            format!("object {}: {msg}", e.hash),
                        );
                        // indexed all the same (the index checks hashes only); unusable on read
                        seen.entry(e.hash).or_insert(Seen {
                            seq: *seq,
                            loc: Loc::of(*d, bytes.len() as u64, e),
                            shape: Shape::Node,
                        });
                        continue;
                    }
                };
                let want = match shape {
                    Shape::Node | Shape::Part { level: 0 } => Want::Node,
                    Shape::Chunked { level } => Want::Part(level),
                    Shape::Part { level } => Want::Part(level - 1),
                };
                refs.extend(targets.into_iter().map(|t| (e.hash, *d, *seq, t, want)));
                seen.entry(e.hash).or_insert(Seen { seq: *seq, loc: Loc::of(*d, bytes.len() as u64, e), shape });
            }
        }
    }

    // every text root a record names is a node that a pack of that record or an earlier one holds
    let mut reported = HashSet::new();
    for &(seq, root) in roots {
        let problem = match seen.get(&root) {
            None => Some(format!("the tree root {root} of record {seq} is in no pack")),
            Some(s) if s.seq > seq => Some(format!("the tree root {root} of record {seq} is only in a pack of seq {}", s.seq)),
            Some(s) if !matches!(s.shape, Shape::Node | Shape::Chunked { .. }) => {
                Some(format!("the tree root {root} of record {seq} is a {:?}, not a node", s.shape))
            }
            Some(_) => None,
        };
        if let Some(msg) = problem
            && reported.insert(root)
        {
            rep.push(ProblemKind::NodeMissing, Some(root), Some(seq), None, msg);
        }
    }

    // every reference resolves, to the right kind of object, committed no later than its user
    for (from, pack, seq, target, want) in refs {
        let problem = match seen.get(&target) {
            None => Some(format!("object {from} in pack {pack} (seq {seq}) refers to {target}, which no pack holds")),
            Some(s) if s.seq > seq => Some(format!(
                "object {from} in pack {pack} (seq {seq}) refers to {target}, which only a pack of seq {} holds",
                s.seq
            )),
            Some(s) => {
                let ok = match (want, s.shape) {
                    (Want::Node, Shape::Node | Shape::Chunked { .. }) => true,
                    (Want::Part(l), Shape::Part { level }) => l == level,
                    _ => false,
                };
                (!ok).then(|| {
                    format!("object {from} in pack {pack} (seq {seq}) refers to {target}, which is {:?}", s.shape)
                })
            }
        };
        if let Some(msg) = problem
            && reported.insert(target)
        {
            rep.push(ProblemKind::NodeMissing, Some(target), Some(seq), Some(store.blob_path(&pack)), msg);
        }
    }

    // the node index agrees with the packs
    let implied: HashMap<Hash, Loc> = seen.iter().map(|(h, s)| (*h, s.loc)).collect();
    index_agrees(store, &store.nodes, &implied, ["node index", "pack", "objects"], rep)?;
    Ok(())
}

/// Check a derived location index (the node index, or the blob index of bundles) against the
/// locations the ledger implies (`implied`): its runs' checksums, every entry missing, extra or
/// at another place, and how far it has applied the ledger. `names`: the index, what holds the
/// items, the items (for the messages).
pub(crate) fn index_agrees(
    store: &Store,
    index: &NodeIndex,
    implied: &HashMap<Hash, Loc>,
    [what, holder, items]: [&str; 3],
    rep: &mut VerifyReport,
) -> Result<(), StoreError> {
    if let Err(e) = index.check() {
        rep.push(ProblemKind::IndexMismatch, None, None, None, e.to_string());
    }
    if store.is_read_only() {
        index.catch_up(store)?;
    }
    let live = index.entries()?;
    let (mut missing, mut extra, mut differ) = (0u64, 0u64, 0u64);
    let mut example = None;
    let mut live_keys = HashSet::with_capacity(live.len());
    for (h, loc) in &live {
        live_keys.insert(*h);
        match implied.get(h) {
            None => {
                extra += 1;
                example.get_or_insert_with(|| format!("{h} is indexed but no {holder} holds it"));
            }
            Some(l) if l != loc => {
                differ += 1;
                example.get_or_insert_with(|| format!("{h} is indexed at {loc:?}, the ledger implies {l:?}"));
            }
            Some(_) => {}
        }
    }
    for h in implied.keys() {
        if !live_keys.contains(h) {
            missing += 1;
            example.get_or_insert_with(|| format!("{h} is not indexed"));
        }
    }
    if missing + extra + differ > 0 {
        rep.push(
            ProblemKind::IndexMismatch,
            None,
            None,
            None,
            format!(
                "{what}: {missing} {items} missing, {extra} extra, {differ} at another place (e.g. {})",
                example.unwrap_or_default()
            ),
        );
    }
    let want_last = {
        let st = store.ledger_read();
        st.slots.last().map(|s| (st.slots.len() as u64, s.hash))
    };
    let got_last = index.last_applied()?;
    if want_last != got_last {
        let seq = got_last.map(|(s, _)| s).unwrap_or(0);
        rep.push(
            ProblemKind::IndexMismatch,
            None,
            Some(seq),
            None,
            format!("{what} has applied up to seq {seq}, the ledger has {}", want_last.map(|(s, _)| s).unwrap_or(0)),
        );
    }
    Ok(())
}
