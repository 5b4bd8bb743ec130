//! Trees of content-addressed nodes: round trip, structural sharing, what a new version
//! writes, corruption, index rebuild, crashes and aborts.

mod common;

use std::collections::BTreeSet;
use std::fs;

use common::*;
use store::*;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A two-level document: root → groups → leaves, the shape of a regeling with hoofdstukken
/// and artikelen.
#[derive(Clone)]
struct Doc {
    name: String,
    groups: Vec<Vec<Vec<u8>>>,
}

impl Doc {
    fn new(name: &str, groups: usize, leaves: usize) -> Doc {
        let groups = (0..groups)
            .map(|g| {
                (0..leaves)
                    .map(|l| format!("<Artikel eId=\"art_{g}_{l}\"><Al>tekst {g}.{l}</Al></Artikel>").into_bytes())
                    .collect()
            })
            .collect();
        Doc { name: name.into(), groups }
    }

    fn leaf(&self, g: usize, l: usize) -> Node {
        Node::leaf(self.groups[g][l].clone())
    }

    fn group(&self, g: usize) -> Node {
        let mut st = vec![Stuk::Bytes(format!("<Hoofdstuk eId=\"h{g}\"><Kop>{g}</Kop>").into_bytes())];
        for l in 0..self.groups[g].len() {
            st.push(Stuk::Kind(self.leaf(g, l).hash()));
            st.push(Stuk::Bytes(b"\n".to_vec()));
        }
        st.push(Stuk::Bytes(b"</Hoofdstuk>".to_vec()));
        Node::new(st)
    }

    fn root(&self) -> Node {
        let mut st = vec![Stuk::Bytes(format!("<Regeling naam=\"{}\"><Lichaam>", self.name).into_bytes())];
        for g in 0..self.groups.len() {
            st.push(Stuk::Kind(self.group(g).hash()));
        }
        st.push(Stuk::Bytes(b"</Lichaam></Regeling>".to_vec()));
        Node::new(st)
    }

    /// Every node, children first.
    fn nodes(&self) -> Vec<Node> {
        let mut out = Vec::new();
        for g in 0..self.groups.len() {
            for l in 0..self.groups[g].len() {
                out.push(self.leaf(g, l));
            }
            out.push(self.group(g));
        }
        out.push(self.root());
        out
    }

    /// The serialised document.
    fn text(&self) -> Vec<u8> {
        let mut out = format!("<Regeling naam=\"{}\"><Lichaam>", self.name).into_bytes();
        for (g, leaves) in self.groups.iter().enumerate() {
            out.extend_from_slice(format!("<Hoofdstuk eId=\"h{g}\"><Kop>{g}</Kop>").as_bytes());
            for l in leaves {
                out.extend_from_slice(l);
                out.push(b'\n');
            }
            out.extend_from_slice(b"</Hoofdstuk>");
        }
        out.extend_from_slice(b"</Lichaam></Regeling>");
        out
    }

    /// Change one leaf; returns the nodes a new version needs: the leaf and its ancestors.
    fn amend(&mut self, g: usize, l: usize, text: &str) -> Vec<Node> {
        self.groups[g][l] = text.as_bytes().to_vec();
        vec![self.leaf(g, l), self.group(g), self.root()]
    }
}

/// Commit one delivery naming every pack the transaction wrote.
fn commit_tree(s: &Store, id: &str, nodes: Vec<Node>) -> PutTree {
    let mut t = s.begin().unwrap();
    let put = t.put_tree(nodes).unwrap();
    let pkg = t.put_blob(format!("package {id}").as_bytes()).unwrap();
    let mut r = rec("oin", id, pkg);
    r.derived = t.packs();
    t.commit(r).unwrap();
    put
}

fn blob_bytes(dir: &std::path::Path) -> u64 {
    let mut n = 0;
    for (path, kind) in fingerprint(dir) {
        if path.starts_with("blobs/") && kind != "dir" {
            n += fs::metadata(dir.join(&path)).unwrap().len();
        }
    }
    n
}

fn pack_hashes(s: &Store, pack: &Hash) -> BTreeSet<Hash> {
    s.pack_contents(pack).unwrap().into_iter().map(|o| o.hash).collect()
}

#[test]
fn round_trip() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let doc = Doc::new("R1", 3, 4);
    let nodes = doc.nodes();
    let put = commit_tree(&s, "v1", nodes.clone());
    assert_eq!(put.root, doc.root().hash());
    assert_eq!(put.hashes, nodes.iter().map(Node::hash).collect::<Vec<_>>());
    assert_eq!(put.objects, nodes.len(), "small nodes are one object each");
    let pack = put.pack.unwrap();
    assert_eq!(s.get_blob(&pack).unwrap().len() as u64, put.pack_bytes);
    assert!(s.pack_contents(&pack).unwrap().iter().all(|o| o.kind == ObjectKind::Node));

    assert_eq!(s.read_tree(&put.root).unwrap(), doc.text());
    let mut buf = b"prefix:".to_vec();
    s.read_tree_into(&put.root, &mut buf).unwrap();
    assert_eq!(buf, [b"prefix:".as_slice(), &doc.text()].concat());
    for n in &nodes {
        assert_eq!(s.get_node(&n.hash()).unwrap(), n.clone().normalized());
    }
    let shape = s.node_hashes(&put.root).unwrap();
    assert_eq!(shape.len(), 1 + 3 + 12);
    assert_eq!(shape[0].0, put.root);
    assert_eq!(shape[0].1, (0..3).map(|g| doc.group(g).hash()).collect::<Vec<_>>());
    assert_eq!(shape[1].0, doc.group(0).hash(), "preorder");
    assert_eq!(shape[2], (doc.leaf(0, 0).hash(), vec![]));
    assert_clean(&s);

    // survives reopen, and a read-only handle reads the same
    drop(s);
    let s = Store::open(d.path()).unwrap();
    assert_eq!(s.read_tree(&put.root).unwrap(), doc.text());
    let ro = Store::open_read_only(d.path()).unwrap();
    assert_eq!(ro.read_tree(&put.root).unwrap(), doc.text());
    assert_eq!(ro.get_node(&doc.group(1).hash()).unwrap(), doc.group(1).normalized());
    assert!(ro.verify().unwrap().is_clean());

    // a node nobody stored
    let nope = Node::leaf("nope").hash();
    assert!(matches!(s.read_tree(&nope), Err(StoreError::NodeNotFound { hash }) if hash == nope));
    assert!(matches!(s.get_node(&nope), Err(StoreError::NodeNotFound { .. })));
}

#[test]
fn canonical_form_and_edge_nodes() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let leaf = Node::leaf("abc");
    let split = Node::new(vec![Stuk::Bytes(b"a".to_vec()), Stuk::Bytes(vec![]), Stuk::Bytes(b"bc".to_vec())]);
    assert_eq!(leaf.hash(), split.hash(), "byte runs are merged before hashing");
    let empty = Node::default();
    let parent = Node::new(vec![Stuk::Kind(empty.hash()), Stuk::Kind(split.hash()), Stuk::Kind(leaf.hash())]);
    let put = commit_tree(&s, "v1", vec![split, empty.clone(), parent.clone()]);
    assert_eq!(s.read_tree(&put.root).unwrap(), b"abcabc");
    assert_eq!(s.get_node(&empty.hash()).unwrap(), empty);
    assert_eq!(s.get_node(&leaf.hash()).unwrap(), leaf);
    // a child may occur more than once; node_hashes lists it once
    assert_eq!(s.node_hashes(&put.root).unwrap().len(), 3);
    assert_eq!(put.objects, 3);
    assert_clean(&s);
}

#[test]
fn wide_nodes_are_stored_in_parts_and_read_back_whole() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let leaves: Vec<Node> = (0..5000).map(|i| Node::leaf(format!("<Artikel nr=\"{i}\"/>"))).collect();
    let mut st = vec![Stuk::Bytes(b"<Lichaam>".to_vec())];
    for l in &leaves {
        st.push(Stuk::Kind(l.hash()));
    }
    st.push(Stuk::Bytes(b"</Lichaam>".to_vec()));
    let root = Node::new(st);
    let mut nodes = leaves.clone();
    nodes.push(root.clone());
    let put = commit_tree(&s, "v1", nodes);
    let objs = s.pack_contents(&put.pack.unwrap()).unwrap();
    assert_eq!(objs.iter().filter(|o| o.kind == ObjectKind::Node).count(), 5000);
    assert_eq!(objs.iter().filter(|o| o.kind == ObjectKind::ChunkedNode).count(), 1);
    let parts = objs.iter().filter(|o| o.kind == ObjectKind::Part).count();
    assert!(parts > 5000 / 64 && parts < 5000 / 4, "{parts} parts");
    assert_eq!(objs.last().unwrap().hash, put.root);

    let mut want = b"<Lichaam>".to_vec();
    for i in 0..5000 {
        want.extend_from_slice(format!("<Artikel nr=\"{i}\"/>").as_bytes());
    }
    want.extend_from_slice(b"</Lichaam>");
    assert_eq!(s.read_tree(&put.root).unwrap(), want);
    assert_eq!(s.get_node(&put.root).unwrap(), root);
    assert_eq!(s.node_hashes(&put.root).unwrap()[0].1.len(), 5000);
    // a part is not a node
    let part = objs.iter().find(|o| o.kind == ObjectKind::Part).unwrap().hash;
    assert!(matches!(s.get_node(&part), Err(StoreError::NodeNotFound { hash }) if hash == part));
    assert!(matches!(s.read_tree(&part), Err(StoreError::NodeNotFound { .. })));

    // changing one child rewrites the child, a few parts and the node: not 5000 references
    let mut root2 = root.clone();
    let new_leaf = Node::leaf("<Artikel nr=\"2500\">gewijzigd</Artikel>");
    root2.stukken[2501] = Stuk::Kind(new_leaf.hash());
    let put2 = commit_tree(&s, "v2", vec![new_leaf.clone(), root2.clone()]);
    let objs2 = s.pack_contents(&put2.pack.unwrap()).unwrap();
    let nodes2: BTreeSet<Hash> = objs2.iter().filter(|o| o.kind != ObjectKind::Part).map(|o| o.hash).collect();
    assert_eq!(nodes2, BTreeSet::from([new_leaf.hash(), root2.hash()]));
    // about one part per level (two where the new hash moves a boundary) plus the node: a few
    // KB, against 165 KB for the whole list of 5000 references
    assert!(objs2.len() <= 8, "{} objects", objs2.len());
    assert!(put2.pack_bytes < 8_000, "pack of {} bytes for one changed child", put2.pack_bytes);
    assert_eq!(s.get_node(&put2.root).unwrap(), root2);
    assert_clean(&s);
}

#[test]
fn equal_subtrees_are_stored_once_across_works() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let a = Doc::new("A", 4, 5);
    let put_a = commit_tree(&s, "a", a.nodes());
    let before = blob_bytes(d.path());

    // work B: a different root and one group of its own, three groups equal to A's
    let mut b = a.clone();
    b.name = "B".into();
    b.groups[3] = (0..5).map(|l| format!("<Artikel>B eigen {l}</Artikel>").into_bytes()).collect();
    let put_b = commit_tree(&s, "b", b.nodes());
    let in_b = pack_hashes(&s, &put_b.pack.unwrap());
    let mut want: BTreeSet<Hash> = (0..5).map(|l| b.leaf(3, l).hash()).collect();
    want.insert(b.group(3).hash());
    want.insert(b.root().hash());
    assert_eq!(in_b, want, "only B's own nodes are written");
    let shared: Vec<Hash> = (0..3).map(|g| a.group(g).hash()).collect();
    assert!(shared.iter().all(|h| !in_b.contains(h)));
    let growth = blob_bytes(d.path()) - before;
    let package = "package b".len() as u64;
    assert_eq!(growth, put_b.pack_bytes + package, "the store grew by B's pack and package only");
    assert_eq!(s.read_tree(&put_b.root).unwrap(), b.text());
    assert_eq!(s.read_tree(&put_a.root).unwrap(), a.text());

    // the same tree again writes nothing
    let mut t = s.begin().unwrap();
    let again = t.put_tree(b.nodes()).unwrap();
    assert_eq!((again.pack, again.objects, again.root), (None, 0, put_b.root));
    assert!(t.packs().is_empty());
    drop(t);
    assert_clean(&s);
}

#[test]
fn a_new_version_writes_only_the_changed_leaf_and_its_ancestors() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut doc = Doc::new("R", 5, 6);
    let v1 = commit_tree(&s, "v1", doc.nodes());
    let old_leaf = doc.leaf(2, 3).hash();
    let nodes = doc.amend(2, 3, "<Artikel eId=\"art_2_3\"><Al>nieuwe tekst</Al></Artikel>");
    let want: BTreeSet<Hash> = nodes.iter().map(Node::hash).collect();
    let before = blob_bytes(d.path());
    let v2 = commit_tree(&s, "v2", nodes);
    let pack = v2.pack.unwrap();
    assert_eq!(pack_hashes(&s, &pack), want, "the pack holds exactly the leaf, its hoofdstuk and the root");
    assert_eq!(v2.objects, 3);
    assert_eq!(blob_bytes(d.path()) - before, v2.pack_bytes + "package v2".len() as u64);
    assert_eq!(s.read_tree(&v2.root).unwrap(), doc.text());
    // version 1 is untouched
    let v1_text = s.read_tree(&v1.root).unwrap();
    assert!(v1_text.windows(13).any(|w| w == b"tekst 2.3</Al"));
    assert!(!v1_text.windows(13).any(|w| w == b"nieuwe tekst<"));
    assert_eq!(s.get_node(&old_leaf).unwrap(), Node::leaf("<Artikel eId=\"art_2_3\"><Al>tekst 2.3</Al></Artikel>"));

    // the caller can also rebuild the path from the store: get_node on root and group
    let root = s.get_node(&v2.root).unwrap();
    let group_hash = *root.children().nth(4).unwrap();
    let mut group = s.get_node(&group_hash).unwrap();
    let leaf = Node::leaf("<Artikel>laatste</Artikel>");
    let pos = group.stukken.iter().position(|x| matches!(x, Stuk::Kind(_))).unwrap();
    group.stukken[pos] = Stuk::Kind(leaf.hash());
    let mut root3 = root.clone();
    let gpos = root3.stukken.iter().position(|x| *x == Stuk::Kind(group_hash)).unwrap();
    root3.stukken[gpos] = Stuk::Kind(group.hash());
    let v3 = commit_tree(&s, "v3", vec![leaf.clone(), group.clone(), root3.clone()]);
    assert_eq!(pack_hashes(&s, &v3.pack.unwrap()), BTreeSet::from([leaf.hash(), group.hash(), root3.hash()]));
    doc.groups[4][0] = b"<Artikel>laatste</Artikel>".to_vec();
    assert_eq!(s.read_tree(&v3.root).unwrap(), doc.text());
    assert_clean(&s);
}

#[test]
fn bad_input_is_a_typed_error() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut t = s.begin().unwrap();
    let ghost = Node::leaf("never stored").hash();
    let err = t.put_tree(vec![Node::new(vec![Stuk::Kind(ghost)])]).unwrap_err();
    assert!(matches!(err, StoreError::MissingNode { child } if child == ghost), "{err}");
    assert!(matches!(t.put_tree(Vec::<Node>::new()), Err(StoreError::InvalidTree(_))));
    // children must come first
    let leaf = Node::leaf("x");
    let parent = Node::new(vec![Stuk::Kind(leaf.hash())]);
    assert!(matches!(t.put_tree(vec![parent.clone(), leaf.clone()]), Err(StoreError::MissingNode { .. })));
    assert!(t.packs().is_empty(), "a failed put_tree writes no pack");
    let ok = t.put_tree(vec![leaf, parent]).unwrap();
    assert_eq!(t.packs(), vec![ok.pack.unwrap()]);
}

#[test]
fn group_commit_of_versions_and_pack_dependencies() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut doc = Doc::new("R", 3, 3);
    let mut t = s.begin().unwrap();
    let v1 = t.put_tree(doc.nodes()).unwrap();
    let v2 = t.put_tree(doc.amend(0, 0, "<Artikel>v2</Artikel>")).unwrap();
    let text2 = doc.text();
    let v3 = t.put_tree(doc.amend(1, 1, "<Artikel>v3</Artikel>")).unwrap();
    assert_eq!(v2.needs, vec![v1.pack.unwrap()], "v2 reuses v1's unchanged nodes, staged in this transaction");
    assert_eq!(v2.objects, 3);
    assert_eq!(t.packs(), vec![v1.pack.unwrap(), v2.pack.unwrap(), v3.pack.unwrap()]);
    let recs: Vec<NewRecord> = [(&v1, "v1"), (&v2, "v2"), (&v3, "v3")]
        .iter()
        .map(|(p, id)| {
            let mut r = rec("oin", id, p.pack.unwrap());
            r.derived = vec![p.pack.unwrap()];
            r
        })
        .collect();

    // v2's record before v1's: refused, nothing committed
    let mut wrong = recs.clone();
    wrong.swap(0, 1);
    let err = t.commit_many(wrong).unwrap_err();
    assert!(
        matches!(err, StoreError::PackDependency { pack, needs } if pack == v2.pack.unwrap() && needs == v1.pack.unwrap()),
        "{err}"
    );
    assert_eq!(s.last_seq(), 0);
    assert!(!s.has_blob(&v1.pack.unwrap()));

    // in order: fine
    let mut t = s.begin().unwrap();
    let again: Vec<PutTree> = {
        let mut doc = Doc::new("R", 3, 3);
        let a = t.put_tree(doc.nodes()).unwrap();
        let b = t.put_tree(doc.amend(0, 0, "<Artikel>v2</Artikel>")).unwrap();
        let c = t.put_tree(doc.amend(1, 1, "<Artikel>v3</Artikel>")).unwrap();
        vec![a, b, c]
    };
    assert_eq!(
        again.iter().map(|p| p.pack).collect::<Vec<_>>(),
        vec![v1.pack, v2.pack, v3.pack],
        "packs are deterministic"
    );
    t.commit_many(recs).unwrap();
    assert_eq!(s.read_tree(&v2.root).unwrap(), text2);
    assert_eq!(s.read_tree(&v3.root).unwrap(), doc.text());
    assert_clean(&s);
}

#[test]
fn corrupt_pack_is_detected_by_read_and_verify() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut doc = Doc::new("R", 3, 3);
    let v1 = commit_tree(&s, "v1", doc.nodes());
    let v2 = commit_tree(&s, "v2", doc.amend(0, 0, "<Artikel>v2</Artikel>"));
    let p1 = v1.pack.unwrap();
    let path = s.blob_path(&p1);
    let good = fs::read(&path).unwrap();

    // flip a byte inside leaf (1, 1)'s bytes
    let needle = b"tekst 1.1";
    let at = good.windows(needle.len()).position(|w| w == needle).unwrap();
    let mut bad = good.clone();
    bad[at] ^= 0x20;
    fs::write(&path, &bad).unwrap();

    assert!(matches!(s.read_tree(&v1.root), Err(StoreError::BlobCorrupt { hash, .. }) if hash == p1));
    assert!(
        matches!(s.read_tree(&v2.root), Err(StoreError::BlobCorrupt { hash, .. }) if hash == p1),
        "v2 uses v1's nodes"
    );
    // the streaming reader fails at the damaged object, before any of its bytes
    let mut out = Vec::new();
    let e = std::io::copy(&mut s.tree_reader(&v2.root).unwrap(), &mut out).unwrap_err();
    let leaf11 = doc.leaf(1, 1).hash();
    assert!(matches!(TreeReader::store_error(e), Ok(StoreError::NodeCorrupt { hash, .. }) if hash == leaf11));
    assert!(!out.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle)), "no byte of the damaged leaf");
    let mut buf = b"kept".to_vec();
    assert!(s.read_tree_into(&v2.root, &mut buf).is_err());
    assert_eq!(buf, b"kept", "a failed read leaves the buffer as it was");
    let leaf = doc.leaf(1, 1).hash();
    assert!(matches!(s.get_node(&leaf), Err(StoreError::NodeCorrupt { hash, .. }) if hash == leaf));
    // objects of the pack that were not hit still read (each is checked against its own hash)
    assert_eq!(s.get_node(&doc.leaf(2, 2).hash()).unwrap(), doc.leaf(2, 2));

    let rep = s.verify().unwrap();
    let corrupt = rep.of_kind(ProblemKind::BlobCorrupt);
    assert_eq!(corrupt.len(), 1, "{rep:#?}");
    assert_eq!((corrupt[0].hash, corrupt[0].seq), (Some(p1), Some(1)));
    let missing = rep.of_kind(ProblemKind::NodeMissing);
    assert!(!missing.is_empty(), "v2's pack refers to nodes of the corrupt pack: {rep:#?}");
    assert!(missing.iter().all(|p| p.seq == Some(2)));
    assert!(missing.iter().any(|p| p.hash == Some(doc.group(1).hash()) || p.hash == Some(doc.group(2).hash())));

    // truncated
    fs::write(&path, &good[..good.len() - 10]).unwrap();
    // (the root is the pack's last object)
    assert!(
        matches!(s.get_node(&v1.root), Err(StoreError::NodeCorrupt { message, .. }) if message.contains("shorter"))
    );
    assert!(matches!(s.read_tree(&v1.root), Err(StoreError::BlobCorrupt { .. })));

    // repaired: everything reads and verifies again
    fs::write(&path, &good).unwrap();
    assert_eq!(s.read_tree(&v2.root).unwrap(), doc.text());
    let mut out = Vec::new();
    std::io::copy(&mut s.tree_reader(&v2.root).unwrap(), &mut out).unwrap();
    assert_eq!(out, doc.text());
    assert_clean(&s);
}

#[test]
fn a_forged_pack_is_reported_and_never_served() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    // a blob that looks like a pack but claims an object hash its bytes do not have
    let claimed = Node::leaf("what the table claims").hash();
    let body = b"N\x00\x05forge";
    let mut forged = b"RBPACK1\n".to_vec();
    forged.extend_from_slice(&1u32.to_le_bytes());
    forged.extend_from_slice(&claimed.0);
    forged.extend_from_slice(&(body.len() as u32).to_le_bytes());
    forged.extend_from_slice(body);
    // and one whose table does not add up
    let mut broken = b"RBPACK1\n".to_vec();
    broken.extend_from_slice(&3u32.to_le_bytes());

    let mut t = s.begin().unwrap();
    let f = t.put_blob(&forged).unwrap();
    let b = t.put_blob(&broken).unwrap();
    let pkg = t.put_blob(b"pkg").unwrap();
    let mut r = rec("oin", "forged", pkg);
    r.derived = vec![f, b];
    t.commit(r).unwrap();

    assert!(matches!(s.get_node(&claimed), Err(StoreError::NodeNotFound { .. })), "a forged pack is not indexed");
    assert!(matches!(s.read_tree(&claimed), Err(StoreError::NodeNotFound { .. })));
    assert!(matches!(s.pack_contents(&b), Err(StoreError::PackMalformed { .. })));
    let rep = s.verify().unwrap();
    let bad: BTreeSet<Option<Hash>> = rep.of_kind(ProblemKind::PackMalformed).iter().map(|p| p.hash).collect();
    assert_eq!(bad, BTreeSet::from([Some(f), Some(b)]), "{rep:#?}");
    assert_eq!(rep.problems.len(), 2, "{rep:#?}");
    // a rebuilt index agrees
    s.rebuild().unwrap();
    assert!(matches!(s.get_node(&claimed), Err(StoreError::NodeNotFound { .. })));
    assert_eq!(s.verify().unwrap().problems.len(), 2);
}

/// Text, shape and nodes of one version.
type Answers = (Vec<u8>, Vec<(Hash, Vec<Hash>)>, Vec<Node>);

/// Everything a reader can ask about these roots.
fn tree_answers(s: &Store, roots: &[Hash]) -> Vec<Answers> {
    roots
        .iter()
        .map(|r| {
            let shape = s.node_hashes(r).unwrap();
            let nodes = shape.iter().map(|(h, _)| s.get_node(h).unwrap()).collect();
            (s.read_tree(r).unwrap(), shape, nodes)
        })
        .collect()
}

#[test]
fn index_rebuild_gives_identical_answers() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut roots = Vec::new();
    let mut doc = Doc::new("R", 4, 40);
    roots.push(commit_tree(&s, "v1", doc.nodes()).root);
    for i in 0..6 {
        roots.push(
            commit_tree(&s, &format!("v{}", i + 2), doc.amend(i % 4, i * 7 % 40, &format!("<Artikel>{i}</Artikel>")))
                .root,
        );
    }
    let other = Doc::new("S", 2, 3);
    roots.push(commit_tree(&s, "s1", other.nodes()).root);
    // an unrelated delivery without a tree
    deliver(&s, "oin", "plain", b"plain package", Effects::default()).unwrap();
    let want = tree_answers(&s, &roots);
    assert_eq!(want.last().unwrap().0, other.text());
    assert_clean(&s);

    s.rebuild().unwrap();
    assert_eq!(tree_answers(&s, &roots), want);
    assert_clean(&s);

    drop(s);
    fs::remove_dir_all(d.path().join("index")).unwrap();
    let s = Store::open(d.path()).unwrap();
    assert_eq!(tree_answers(&s, &roots), want);
    assert_clean(&s);

    // only the node index gone
    drop(s);
    fs::remove_dir_all(d.path().join("index").join("nodes")).unwrap();
    let s = Store::open(d.path()).unwrap();
    assert_eq!(tree_answers(&s, &roots), want);
    assert_clean(&s);

    let ro = Store::open_read_only(d.path()).unwrap();
    assert_eq!(tree_answers(&ro, &roots), want);
    assert!(ro.verify().unwrap().is_clean());

    // a node index from another store is detected and rebuilt
    drop(s);
    let other_dir = tmp();
    {
        let o = Store::open(other_dir.path()).unwrap();
        commit_tree(&o, "x1", Doc::new("X", 1, 2).nodes());
        commit_tree(&o, "x2", Doc::new("Y", 1, 2).nodes());
    }
    fs::remove_dir_all(d.path().join("index").join("nodes")).unwrap();
    copy_dir(&other_dir.path().join("index").join("nodes"), &d.path().join("index").join("nodes"));
    let s = Store::open(d.path()).unwrap();
    assert_eq!(tree_answers(&s, &roots), want);
    assert_clean(&s);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn read_only_handle_sees_new_trees_after_refresh() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut doc = Doc::new("R", 2, 2);
    let v1 = commit_tree(&s, "v1", doc.nodes());
    let ro = Store::open_read_only(d.path()).unwrap();
    assert_eq!(ro.read_tree(&v1.root).unwrap(), doc.text());
    let v2 = commit_tree(&s, "v2", doc.amend(1, 1, "<Artikel>nieuw</Artikel>"));
    assert!(matches!(ro.read_tree(&v2.root), Err(StoreError::NodeNotFound { .. })), "not refreshed yet");
    ro.refresh().unwrap();
    assert_eq!(ro.read_tree(&v2.root).unwrap(), doc.text());
    assert!(ro.verify().unwrap().is_clean());
}

#[test]
fn an_aborted_transaction_leaves_no_pack() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let doc = Doc::new("R", 2, 3);
    commit_tree(&s, "v1", doc.nodes());
    let before = fingerprint(d.path());
    let other = Doc::new("S", 2, 3);
    {
        let mut t = s.begin().unwrap();
        let put = t.put_tree(other.nodes()).unwrap();
        assert!(fs::read_dir(d.path().join("staging")).unwrap().count() == 1, "the pack is staged");
        assert!(!s.has_blob(&put.pack.unwrap()));
        // dropped without commit
    }
    assert_eq!(fingerprint(d.path()), before);
    assert!(matches!(s.get_node(&other.root().hash()), Err(StoreError::NodeNotFound { .. })));

    // a commit whose record does not name the pack discards it
    let mut t = s.begin().unwrap();
    let put = t.put_tree(other.nodes()).unwrap();
    let pkg = t.put_blob(b"no tree").unwrap();
    t.commit(rec("oin", "v2", pkg)).unwrap();
    assert!(!s.has_blob(&put.pack.unwrap()));
    assert!(matches!(s.get_node(&other.root().hash()), Err(StoreError::NodeNotFound { .. })));
    assert_clean(&s);
}

#[test]
fn a_crash_before_the_ledger_append_leaves_no_pack() {
    for fp in ["after-intent", "after-blobs"] {
        let d = tmp();
        let s = Store::open(d.path()).unwrap();
        let mut doc = Doc::new("R", 2, 3);
        let v1 = commit_tree(&s, "v1", doc.nodes());
        let before = fingerprint(d.path());
        s.set_failpoint(Some(fp));
        let nodes = doc.amend(0, 1, "<Artikel>crash</Artikel>");
        let mut t = s.begin().unwrap();
        let put = t.put_tree(nodes.clone()).unwrap();
        let pkg = t.put_blob(b"pkg v2").unwrap();
        let mut r = rec("oin", "v2", pkg);
        r.derived = t.packs();
        assert!(matches!(t.commit(r), Err(StoreError::Failpoint(_))));
        if fp == "after-blobs" {
            assert!(s.has_blob(&put.pack.unwrap()), "moved into place before the crash");
        }
        drop(s);

        let s = Store::open(d.path()).unwrap();
        assert!(!s.has_blob(&put.pack.unwrap()), "{fp}: the pack of the crashed commit is removed");
        assert_eq!(fingerprint(d.path()), before, "{fp}");
        assert!(matches!(s.read_tree(&put.root), Err(StoreError::NodeNotFound { .. })));
        assert!(s.read_tree(&v1.root).is_ok());
        assert_clean(&s);
        // retried, it lands
        let again = commit_tree(&s, "v2", nodes);
        assert_eq!(again.pack, put.pack);
        assert_eq!(s.read_tree(&again.root).unwrap(), doc.text());
        assert_clean(&s);
    }
}

#[test]
fn a_crash_after_the_ledger_append_keeps_the_tree_and_the_index_catches_up() {
    for fp in ["after-ledger-write", "after-ledger"] {
        let d = tmp();
        let s = Store::open(d.path()).unwrap();
        let mut doc = Doc::new("R", 2, 3);
        commit_tree(&s, "v1", doc.nodes());
        s.set_failpoint(Some(fp));
        let mut t = s.begin().unwrap();
        let put = t.put_tree(doc.amend(1, 2, "<Artikel>na de crash</Artikel>")).unwrap();
        let pkg = t.put_blob(b"pkg v2").unwrap();
        let mut r = rec("oin", "v2", pkg);
        r.derived = t.packs();
        assert!(matches!(t.commit(r), Err(StoreError::Failpoint(_))));
        drop(s);

        let s = Store::open(d.path()).unwrap();
        assert_eq!(s.last_seq(), 2, "{fp}");
        assert_eq!(s.read_tree(&put.root).unwrap(), doc.text(), "{fp}: the node index caught up on open");
        assert_clean(&s);
    }
}

#[test]
fn a_node_index_that_is_behind_catches_up_on_open() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut doc = Doc::new("R", 2, 2);
    commit_tree(&s, "v1", doc.nodes());
    drop(s);
    let saved = tmp();
    copy_dir(&d.path().join("index").join("nodes"), saved.path());
    let s = Store::open(d.path()).unwrap();
    let v2 = commit_tree(&s, "v2", doc.amend(0, 0, "<Artikel>v2</Artikel>"));
    let v3 = commit_tree(&s, "v3", doc.amend(1, 0, "<Artikel>v3</Artikel>"));
    drop(s);
    // put back the node index as it was after v1
    fs::remove_dir_all(d.path().join("index").join("nodes")).unwrap();
    copy_dir(saved.path(), &d.path().join("index").join("nodes"));
    let s = Store::open(d.path()).unwrap();
    assert!(s.read_tree(&v2.root).is_ok());
    assert_eq!(s.read_tree(&v3.root).unwrap(), doc.text());
    assert_clean(&s);
}

#[test]
fn a_node_index_of_another_format_is_derived_again() {
    let d = tmp();
    let doc = Doc::new("R", 2, 3);
    let put = {
        let s = Store::open(d.path()).unwrap();
        commit_tree(&s, "v1", doc.nodes())
    };
    let nodes = d.path().join("index").join("nodes");
    let derived_again = |what: &str| {
        let s = Store::open(d.path()).unwrap();
        assert_eq!(s.read_tree(&put.root).unwrap(), doc.text(), "{what}");
        assert_clean(&s);
        let names: BTreeSet<String> =
            fs::read_dir(&nodes).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(names.contains("manifest") && names.iter().all(|n| n == "manifest" || n.ends_with(".idx")), "{what}: {names:?}");
    };
    // an older build's index: a sled database with entries of another shape
    fs::remove_dir_all(&nodes).unwrap();
    {
        let db = sled::open(&nodes).unwrap();
        db.insert(doc.root().hash().0, vec![0u8; 44]).unwrap();
        db.flush().unwrap();
    }
    derived_again("sled database");
    // a manifest of another format
    let m = fs::read_to_string(nodes.join("manifest")).unwrap();
    fs::write(nodes.join("manifest"), m.replace("\"format\":3", "\"format\":2")).unwrap();
    derived_again("format 2");
    // a damaged or missing run
    let run = fs::read_dir(&nodes).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|x| x == "idx")).unwrap();
    let bytes = fs::read(&run).unwrap();
    fs::write(&run, &bytes[..bytes.len() - 1]).unwrap();
    derived_again("truncated run");
    let run = fs::read_dir(&nodes).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|x| x == "idx")).unwrap();
    fs::remove_file(&run).unwrap();
    derived_again("missing run");
    // leftovers of a crashed write are removed
    fs::write(nodes.join("run-0000000099.idx.tmp"), b"half").unwrap();
    fs::write(nodes.join("run-0000000098.idx"), b"unnamed").unwrap();
    derived_again("leftovers");
}

/// A run whose bytes are damaged in place (same length) is found by verify, and rebuild repairs
/// it; reads never return wrong bytes meanwhile (every object is checked against its hash).
#[test]
fn a_damaged_node_index_run_is_reported_and_rebuilt() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let doc = Doc::new("R", 3, 4);
    let put = commit_tree(&s, "v1", doc.nodes());
    drop(s);
    let nodes = d.path().join("index").join("nodes");
    let run = fs::read_dir(&nodes).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|x| x == "idx")).unwrap();
    let mut bytes = fs::read(&run).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0xff; // inside the last entry's offset/length
    fs::write(&run, &bytes).unwrap();
    let s = Store::open(d.path()).unwrap();
    let rep = s.verify().unwrap();
    assert!(!rep.of_kind(ProblemKind::IndexMismatch).is_empty(), "{rep:#?}");
    match s.read_tree(&put.root) {
        Ok(b) => assert_eq!(b, doc.text()),
        Err(e) => assert!(matches!(e, StoreError::NodeCorrupt { .. } | StoreError::Index { .. } | StoreError::BlobCorrupt { .. }), "{e}"),
    }
    s.rebuild().unwrap();
    assert_eq!(s.read_tree(&put.root).unwrap(), doc.text());
    assert_clean(&s);
}

/// Many commits: runs are merged, so there are few of them, and every version still reads.
#[test]
fn node_index_runs_are_merged() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut roots = Vec::new();
    for i in 0..40 {
        let doc = Doc::new(&format!("R{i}"), 2, 2 + i % 5);
        roots.push((commit_tree(&s, &format!("v{i}"), doc.nodes()).root, doc.text()));
    }
    let runs = fs::read_dir(d.path().join("index").join("nodes"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "idx"))
        .count();
    assert!(runs <= 8, "{runs} runs after 40 commits");
    for (r, t) in &roots {
        assert_eq!(&s.read_tree(r).unwrap(), t);
    }
    assert_clean(&s);
    drop(s);
    let s = Store::open(d.path()).unwrap();
    for (r, t) in &roots {
        assert_eq!(&s.read_tree(r).unwrap(), t);
    }
    assert_clean(&s);
}

/// A pack whose data outgrows the in-memory buffer is written through a staging file: same
/// pack, readable, verified, no temporary file left behind.
#[test]
fn a_large_pack_is_written_through_a_staging_file() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    // 12 leaves of 1 MB (the buffer spills beyond 8 MB) under one root.
    let bytes: Vec<Vec<u8>> = (0..12u8).map(|i| vec![b'a' + i; 1 << 20]).collect();
    let leaves: Vec<Node> = bytes.iter().map(|b| Node::leaf(b.clone())).collect();
    let mut nodes = leaves.clone();
    nodes.push(Node::new(leaves.iter().map(|l| Stuk::Kind(l.hash())).collect()));
    let want: Vec<u8> = bytes.concat();
    let put = commit_tree(&s, "groot", nodes);
    let pack = put.pack.unwrap();
    assert_eq!(s.get_blob(&pack).unwrap().len() as u64, put.pack_bytes);
    assert!(put.pack_bytes > 12 << 20);
    assert_eq!(s.read_tree(&put.root).unwrap(), want);
    assert!(s.verify().unwrap().is_clean());
    assert_eq!(fs::read_dir(d.path().join("staging")).unwrap().count(), 0);
}
