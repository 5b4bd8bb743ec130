//! Properties of trees: for random trees (with wide nodes, repeated subtrees, empty runs), the
//! store gives back exactly what was put; a version that changes one leaf writes exactly the
//! nodes that are new; answers survive `rebuild` and a read-only handle; `verify` is clean.

mod common;

use std::collections::{BTreeSet, HashSet};

use common::*;
use proptest::prelude::*;
use store::*;

#[derive(Debug, Clone)]
enum T {
    Leaf(Vec<u8>),
    Inner(Vec<Piece>),
}

#[derive(Debug, Clone)]
enum Piece {
    Bytes(Vec<u8>),
    Child(T),
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    // a small alphabet so that equal leaves (shared subtrees) occur
    prop::collection::vec(prop::sample::select(b"ab<>/ ".to_vec()), 0..6)
}

fn tree() -> impl Strategy<Value = T> {
    let leaf = bytes().prop_map(T::Leaf);
    leaf.prop_recursive(3, 400, 80, |inner| {
        prop::collection::vec(
            prop_oneof![1 => bytes().prop_map(Piece::Bytes), 2 => inner.prop_map(Piece::Child)],
            0..80,
        )
        .prop_map(T::Inner)
    })
}

/// Nodes children first, the text, and the root node.
fn flatten(t: &T, nodes: &mut Vec<Node>, text: &mut Vec<u8>) -> Node {
    let node = match t {
        T::Leaf(b) => {
            text.extend_from_slice(b);
            Node::leaf(b.clone())
        }
        T::Inner(ps) => {
            let mut st = Vec::new();
            for p in ps {
                match p {
                    Piece::Bytes(b) => {
                        text.extend_from_slice(b);
                        st.push(Stuk::Bytes(b.clone()));
                    }
                    Piece::Child(c) => {
                        let n = flatten(c, nodes, text);
                        st.push(Stuk::Kind(n.hash()));
                    }
                }
            }
            Node::new(st)
        }
    };
    nodes.push(node.clone());
    node
}

fn leaves(t: &T) -> usize {
    match t {
        T::Leaf(_) => 1,
        T::Inner(ps) => ps.iter().map(|p| if let Piece::Child(c) = p { leaves(c) } else { 0 }).sum(),
    }
}

/// Replace the k-th leaf's bytes; returns false if there are fewer leaves.
fn change_leaf(t: &mut T, k: &mut usize, new: &[u8]) -> bool {
    match t {
        T::Leaf(b) => {
            if *k == 0 {
                *b = new.to_vec();
                return true;
            }
            *k -= 1;
            false
        }
        T::Inner(ps) => {
            for p in ps {
                if let Piece::Child(c) = p
                    && change_leaf(c, k, new)
                {
                    return true;
                }
            }
            false
        }
    }
}

fn commit(s: &Store, id: &str, nodes: Vec<Node>) -> PutTree {
    let mut t = s.begin().unwrap();
    let put = t.put_tree(nodes).unwrap();
    let pkg = t.put_blob(id.as_bytes()).unwrap();
    let mut r = rec("oin", id, pkg);
    r.derived = t.packs();
    t.commit(r).unwrap();
    put
}

/// Text and shape of a version.
type Answer = (Vec<u8>, Vec<(Hash, Vec<Hash>)>);

fn answers(s: &Store, roots: &[Hash]) -> Vec<Answer> {
    roots.iter().map(|r| (s.read_tree(r).unwrap(), s.node_hashes(r).unwrap())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn trees_round_trip_and_versions_write_only_new_nodes(t1 in tree(), pick in any::<prop::sample::Index>(), new_leaf in prop::collection::vec(any::<u8>(), 1..40)) {
        let t1 = if leaves(&t1) == 0 { T::Inner(vec![Piece::Child(t1), Piece::Child(T::Leaf(b"x".to_vec()))]) } else { t1 };
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();

        let (mut n1, mut text1) = (Vec::new(), Vec::new());
        let root1 = flatten(&t1, &mut n1, &mut text1);
        let put1 = commit(&s, "v1", n1.clone());
        prop_assert_eq!(put1.root, root1.hash());
        prop_assert_eq!(&put1.hashes, &n1.iter().map(Node::hash).collect::<Vec<_>>());
        prop_assert_eq!(s.read_tree(&put1.root).unwrap(), text1.clone());
        for n in &n1 {
            prop_assert_eq!(s.get_node(&n.hash()).unwrap(), n.clone().normalized());
        }
        let distinct: HashSet<Hash> = n1.iter().map(Node::hash).collect();
        prop_assert_eq!(s.node_hashes(&put1.root).unwrap().len(), distinct.len());

        // one leaf changed: the pack holds exactly the nodes that are new
        let mut t2 = t1.clone();
        let mut k = pick.index(leaves(&t1));
        prop_assert!(change_leaf(&mut t2, &mut k, &new_leaf));
        let (mut n2, mut text2) = (Vec::new(), Vec::new());
        flatten(&t2, &mut n2, &mut text2);
        let put2 = commit(&s, "v2", n2.clone());
        let want: BTreeSet<Hash> = n2.iter().map(Node::hash).filter(|h| !distinct.contains(h)).collect();
        let got: BTreeSet<Hash> = match put2.pack {
            Some(p) => s.pack_contents(&p).unwrap().into_iter().filter(|o| o.kind != ObjectKind::Part).map(|o| o.hash).collect(),
            None => BTreeSet::new(),
        };
        prop_assert_eq!(got, want);
        prop_assert_eq!(s.read_tree(&put2.root).unwrap(), text2.clone());
        prop_assert_eq!(s.read_tree(&put1.root).unwrap(), text1.clone());
        // the streaming reader gives the same bytes, in reads of any size
        for (root, text) in [(put1.root, &text1), (put2.root, &text2)] {
            let mut out = Vec::new();
            std::io::copy(&mut std::io::BufReader::with_capacity(7, s.tree_reader(&root).unwrap()), &mut out).unwrap();
            prop_assert_eq!(&out, text);
        }

        let roots = [put1.root, put2.root];
        let before = answers(&s, &roots);
        assert_clean(&s);
        s.rebuild().unwrap();
        prop_assert_eq!(answers(&s, &roots), before.clone());
        let ro = Store::open_read_only(d.path()).unwrap();
        prop_assert_eq!(answers(&ro, &roots), before);
        assert_clean(&s);
    }
}
