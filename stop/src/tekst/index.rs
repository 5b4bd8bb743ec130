//! The wId/eId index of a [`super::Tekst`]: id → path of (child index, element key) steps.
//!
//! Built once per tree value (lazily, shared by clones). Keys are slices of the shared source
//! text, so building it allocates no string per id. A path stays usable on a *changed* copy of
//! the tree: every step carries the element's key, which survives copy-on-write, so a lookup whose
//! index has shifted (an element was inserted before it) finds the element again by key.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use super::{Node, Raw};

/// One step of a path: child index and the key of the element found there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    pub idx: u32,
    pub key: u64,
}

/// FxHash: fast for short keys; the tables belong to one text, so DoS resistance is not needed.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut add = |w: u64| self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(SEED);
        let mut b = bytes;
        while b.len() >= 8 {
            add(u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])));
            b = &b[8..];
        }
        for &x in b {
            add(x as u64);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A map key that is a slice of a shared source text.
#[derive(Clone)]
struct IdKey(Raw);

impl Hash for IdKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.as_str().hash(h)
    }
}

impl PartialEq for IdKey {
    fn eq(&self, o: &IdKey) -> bool {
        self.0.as_str() == o.0.as_str()
    }
}

impl Eq for IdKey {}

impl Borrow<str> for IdKey {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

/// The index of one tree value. Either built from the tree (`base == None`), or derived from the
/// index of the version it was made from: the entries this version added, plus the subtrees and
/// eIds of the base that are gone. Paths found in a base stay valid because lookups resolve by
/// key ([`resolve`]). After [`MAX_LAYERS`] derived layers the next version is indexed afresh.
pub(crate) struct Index {
    base: Option<Arc<Index>>,
    layers: u32,
    steps: Vec<Step>,
    /// Per indexed element: range in `steps`.
    entries: Vec<(u32, u32)>,
    wid: FxMap<IdKey, u32>,
    eid: FxMap<IdKey, u32>,
    /// Subtrees of the base version that this version no longer has.
    removed: Vec<Vec<Step>>,
    /// eIds of the base version renamed away.
    removed_eids: FxMap<String, ()>,
    pub dup_wid: Vec<(String, usize)>,
    pub dup_eid: Vec<(String, usize)>,
}

/// Derived layers before an index is rebuilt from the tree.
pub(crate) const MAX_LAYERS: u32 = 64;

impl Index {
    fn empty() -> Index {
        Index {
            base: None,
            layers: 0,
            steps: Vec::new(),
            entries: Vec::new(),
            wid: FxMap::default(),
            eid: FxMap::default(),
            removed: Vec::new(),
            removed_eids: FxMap::default(),
            dup_wid: Vec::new(),
            dup_eid: Vec::new(),
        }
    }

    pub fn build(nodes: &[Node]) -> Index {
        let mut ix = Index::empty();
        let mut dup_w: FxMap<String, usize> = FxMap::default();
        let mut dup_e: FxMap<String, usize> = FxMap::default();
        let mut path: Vec<Step> = Vec::new();
        let mut stack: Vec<(&[Node], usize)> = vec![(nodes, 0)];
        while let Some(top) = stack.last_mut() {
            let (list, i) = *top;
            if i >= list.len() {
                stack.pop();
                path.pop();
                continue;
            }
            top.1 += 1;
            let Node::Element(el) = &list[i] else { continue };
            path.push(Step { idx: i as u32, key: el.key });
            let (w, e) = (el.wid_raw(), el.eid_raw());
            if w.is_some() || e.is_some() {
                let entry = ix.push_entry(&path);
                if let Some(w) = w {
                    if ix.wid.contains_key(w.as_str()) {
                        *dup_w.entry(w.as_str().to_string()).or_insert(1) += 1;
                    } else {
                        ix.wid.insert(IdKey(w), entry);
                    }
                }
                if let Some(e) = e {
                    if ix.eid.contains_key(e.as_str()) {
                        *dup_e.entry(e.as_str().to_string()).or_insert(1) += 1;
                    } else {
                        ix.eid.insert(IdKey(e), entry);
                    }
                }
            }
            stack.push((&el.children, 0));
        }
        ix.dup_wid = dup_w.into_iter().collect();
        ix.dup_wid.sort();
        ix.dup_eid = dup_e.into_iter().collect();
        ix.dup_eid.sort();
        ix
    }

    /// The index of a version made from `base`'s version by adding the elements in `wids`/`eids`
    /// (with their paths in the new tree) and removing the base subtrees at `removed` and the
    /// eIds `removed_eids`. `None` when the chain of layers is long enough to rebuild instead.
    pub fn derived(
        base: Arc<Index>,
        wids: Vec<(String, Vec<Step>)>,
        eids: Vec<(String, Vec<Step>)>,
        removed: Vec<Vec<Step>>,
        removed_eids: Vec<String>,
    ) -> Option<Index> {
        if base.layers >= MAX_LAYERS {
            return None;
        }
        let mut ix = Index::empty();
        ix.layers = base.layers + 1;
        ix.dup_wid = base.dup_wid.clone();
        ix.dup_eid = base.dup_eid.clone();
        for (w, steps) in wids {
            let entry = ix.push_entry(&steps);
            ix.wid.insert(IdKey(Raw::new(&w)), entry);
        }
        for (e, steps) in eids {
            let entry = ix.push_entry(&steps);
            ix.eid.insert(IdKey(Raw::new(&e)), entry);
        }
        ix.removed = removed;
        ix.removed_eids = removed_eids.into_iter().map(|e| (e, ())).collect();
        ix.base = Some(base);
        Some(ix)
    }

    fn push_entry(&mut self, path: &[Step]) -> u32 {
        let entry = self.entries.len() as u32;
        self.entries.push((self.steps.len() as u32, path.len() as u32));
        self.steps.extend_from_slice(path);
        entry
    }

    fn entry(&self, e: u32) -> &[Step] {
        let (s, l) = self.entries[e as usize];
        &self.steps[s as usize..(s + l) as usize]
    }

    fn gone(&self, steps: &[Step]) -> bool {
        self.removed.iter().any(|r| is_under(steps, r))
    }

    pub fn wid(&self, w: &str) -> Option<&[Step]> {
        if let Some(&e) = self.wid.get(w) {
            return Some(self.entry(e));
        }
        let s = self.base.as_ref()?.wid(w)?;
        (!self.gone(s)).then_some(s)
    }

    pub fn eid(&self, e: &str) -> Option<&[Step]> {
        if let Some(&x) = self.eid.get(e) {
            return Some(self.entry(x));
        }
        if self.removed_eids.contains_key(e) {
            return None;
        }
        let s = self.base.as_ref()?.eid(e)?;
        (!self.gone(s)).then_some(s)
    }

    pub fn has_wid(&self, w: &str) -> bool {
        self.wid(w).is_some()
    }

    /// Every wId (`eids == false`) or eId with its path.
    fn collect<'s>(&'s self, eids: bool, out: &mut Vec<(&'s str, &'s [Step])>) {
        let own = if eids { &self.eid } else { &self.wid };
        if let Some(b) = &self.base {
            b.collect(eids, out);
            out.retain(|(k, s)| !(own.contains_key(*k) || self.gone(s) || eids && self.removed_eids.contains_key(*k)));
        }
        for (k, &e) in own {
            out.push((k.0.as_str(), self.entry(e)));
        }
    }

    pub fn wids(&self) -> Vec<&str> {
        let mut v = Vec::with_capacity(self.wid.len());
        self.collect(false, &mut v);
        v.into_iter().map(|(w, _)| w).collect()
    }

    pub fn eids(&self) -> Vec<&str> {
        let mut v = Vec::with_capacity(self.eid.len());
        self.collect(true, &mut v);
        v.into_iter().map(|(w, _)| w).collect()
    }

    /// Number of derived layers on top of a built index.
    pub fn layers(&self) -> u32 {
        self.layers
    }
}

/// Resolve a path in a (possibly changed) tree: at each level the element with the step's key,
/// at the step's index when it is still there, else wherever it moved among the siblings.
pub(crate) fn resolve(nodes: &[Node], steps: &[Step]) -> Option<Vec<u32>> {
    let mut out = Vec::with_capacity(steps.len());
    let mut list = nodes;
    for s in steps {
        let i = find_key(list, s.idx as usize, s.key)?;
        out.push(i as u32);
        list = &list[i].as_element()?.children;
    }
    Some(out)
}

/// The index of the element with `key`, searching outward from `hint` (siblings shift by the
/// few nodes inserted or removed before them).
fn find_key(list: &[Node], hint: usize, key: u64) -> Option<usize> {
    let n = list.len();
    let hint = hint.min(n.saturating_sub(1));
    for d in 0..n {
        if hint + d < n && list[hint + d].key() == Some(key) {
            return Some(hint + d);
        }
        if d > 0 && d <= hint && list[hint - d].key() == Some(key) {
            return Some(hint - d);
        }
        if hint + d >= n && d >= hint {
            break;
        }
    }
    None
}

/// The steps (index and key) of a resolved path.
pub(crate) fn steps_of(nodes: &[Node], path: &[u32]) -> Vec<Step> {
    let mut out = Vec::with_capacity(path.len());
    let mut list = nodes;
    for &i in path {
        let Some(e) = list.get(i as usize).and_then(Node::as_element) else { break };
        out.push(Step { idx: i, key: e.key });
        list = &e.children;
    }
    out
}

/// True when the element at `path` lies inside (or is) the element at `root`.
pub(crate) fn is_under(path: &[Step], root: &[Step]) -> bool {
    !root.is_empty() && root.len() <= path.len() && path[root.len() - 1].key == root[root.len() - 1].key
}
