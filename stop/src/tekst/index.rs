//! The wId/eId index of a [`super::Tekst`]: id → path of (child index, element key) steps.
//!
//! Built once per tree value (lazily, shared by clones). Keys are slices of the shared source
//! text, so building it allocates no string per id. A path stays usable on a *changed* copy of
//! the tree: every step carries the element's key, which survives copy-on-write, so a lookup whose
//! index has shifted (an element was inserted before it) finds the element again by key.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

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

pub(crate) struct Index {
    steps: Vec<Step>,
    /// Per indexed element: range in `steps`.
    entries: Vec<(u32, u32)>,
    wid: FxMap<IdKey, u32>,
    eid: FxMap<IdKey, u32>,
    pub dup_wid: Vec<(String, usize)>,
    pub dup_eid: Vec<(String, usize)>,
}

impl Index {
    pub fn build(nodes: &[Node]) -> Index {
        let mut ix = Index {
            steps: Vec::new(),
            entries: Vec::new(),
            wid: FxMap::default(),
            eid: FxMap::default(),
            dup_wid: Vec::new(),
            dup_eid: Vec::new(),
        };
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
                let entry = ix.entries.len() as u32;
                ix.entries.push((ix.steps.len() as u32, path.len() as u32));
                ix.steps.extend_from_slice(&path);
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

    fn entry(&self, e: u32) -> &[Step] {
        let (s, l) = self.entries[e as usize];
        &self.steps[s as usize..(s + l) as usize]
    }

    pub fn wid(&self, w: &str) -> Option<&[Step]> {
        self.wid.get(w).map(|&e| self.entry(e))
    }

    pub fn eid(&self, e: &str) -> Option<&[Step]> {
        self.eid.get(e).map(|&x| self.entry(x))
    }

    pub fn has_wid(&self, w: &str) -> bool {
        self.wid.contains_key(w)
    }

    pub fn wids(&self) -> impl Iterator<Item = &str> + '_ {
        self.wid.keys().map(|k| k.0.as_str())
    }
}

/// Resolve a path in a (possibly changed) tree: at each level the element with the step's key,
/// at the step's index when it is still there, else wherever it moved among the siblings.
pub(crate) fn resolve(nodes: &[Node], steps: &[Step]) -> Option<Vec<u32>> {
    let mut out = Vec::with_capacity(steps.len());
    let mut list = nodes;
    for s in steps {
        let i = match list.get(s.idx as usize) {
            Some(n) if n.key() == Some(s.key) => s.idx as usize,
            _ => list.iter().position(|n| n.key() == Some(s.key))?,
        };
        out.push(i as u32);
        list = &list[i].as_element()?.children;
    }
    Some(out)
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
