//! A commit of a tree killed (abort) at each failpoint in a real child process: afterwards the
//! version is either absent with no trace of its pack, or complete and readable. The parent
//! re-runs this test binary with `--ignored --exact child`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use store::*;

const ROLE: &str = "REGELBANK_TREE_TEST_ROLE";
const DIR: &str = "REGELBANK_TREE_TEST_DIR";

fn run_child(role: &str, dir: &Path, failpoint: Option<&str>) -> Output {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["child", "--exact", "--ignored", "--nocapture", "--test-threads=1"]).env(ROLE, role).env(DIR, dir);
    match failpoint {
        Some(fp) => c.env("REGELBANK_STORE_FAILPOINT", fp),
        None => c.env_remove("REGELBANK_STORE_FAILPOINT"),
    };
    c.output().unwrap()
}

fn leaves(tag: &str) -> Vec<Node> {
    (0..50).map(|i| Node::leaf(format!("<Artikel nr=\"{i}\">{tag}</Artikel>"))).collect()
}

/// Version `tag`: 50 leaves under one wide root.
fn version(tag: &str) -> (Vec<Node>, Vec<u8>) {
    let ls = leaves(tag);
    let mut st = vec![Stuk::Bytes(b"<Lichaam>".to_vec())];
    st.extend(ls.iter().map(|l| Stuk::Kind(l.hash())));
    st.push(Stuk::Bytes(b"</Lichaam>".to_vec()));
    let mut text = b"<Lichaam>".to_vec();
    for i in 0..50 {
        text.extend_from_slice(format!("<Artikel nr=\"{i}\">{tag}</Artikel>").as_bytes());
    }
    text.extend_from_slice(b"</Lichaam>");
    let mut nodes = ls;
    nodes.push(Node::new(st));
    (nodes, text)
}

fn commit_version(s: &Store, tag: &str) -> PutTree {
    let (nodes, _) = version(tag);
    let mut t = s.begin().unwrap();
    let put = t.put_tree(nodes).unwrap();
    let mut r = rec("oin", tag, put.pack.unwrap());
    r.derived = t.packs();
    t.commit(r).unwrap();
    put
}

/// Runs only inside a child process started by the test below.
#[test]
#[ignore = "helper: run as a child process by the other tests"]
fn child() {
    let role = std::env::var(ROLE).expect("child runs only as a subprocess");
    let dir = std::path::PathBuf::from(std::env::var(DIR).unwrap());
    match role.as_str() {
        "commit" => {
            let s = Store::open(&dir).unwrap();
            commit_version(&s, "crashing");
            println!("CHILD-COMMITTED");
        }
        r => panic!("unknown role {r}"),
    }
}

#[test]
fn killed_tree_commit_leaves_nothing_or_everything() {
    let (_, crashing_text) = version("crashing");
    let crashing_root = version("crashing").0.last().unwrap().hash();
    for (fp, landed) in
        [("after-intent", false), ("after-blobs", false), ("after-ledger-write", true), ("after-ledger", true)]
    {
        let d = tempfile::tempdir().unwrap();
        let first = {
            let s = Store::open(d.path()).unwrap();
            commit_version(&s, "first")
        };
        let before = fingerprint(d.path());
        let out = run_child("commit", d.path(), Some(fp));
        assert!(!out.status.success(), "{fp}: child should have aborted");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("CHILD-COMMITTED"));

        let s = Store::open(d.path()).unwrap();
        assert_eq!(s.read_tree(&first.root).unwrap(), version("first").1, "{fp}");
        if landed {
            assert_eq!(s.last_seq(), 2, "{fp}");
            assert_eq!(s.read_tree(&crashing_root).unwrap(), crashing_text, "{fp}");
        } else {
            assert_eq!(s.last_seq(), 1, "{fp}");
            assert!(matches!(s.read_tree(&crashing_root), Err(StoreError::NodeNotFound { .. })), "{fp}");
            assert_eq!(fingerprint(d.path()), before, "{fp}: no trace of the pack");
        }
        assert_clean(&s);
    }
}
