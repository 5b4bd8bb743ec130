//! Tests with real child processes: a commit killed (abort) at each failpoint, and the lock
//! between processes. The parent re-runs this test binary with `--ignored --exact child`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use store::*;

const ROLE: &str = "REGELBANK_STORE_TEST_ROLE";
const DIR: &str = "REGELBANK_STORE_TEST_DIR";

fn run_child(role: &str, dir: &Path, failpoint: Option<&str>) -> Output {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["child", "--exact", "--ignored", "--nocapture", "--test-threads=1"]).env(ROLE, role).env(DIR, dir);
    match failpoint {
        Some(fp) => c.env("REGELBANK_STORE_FAILPOINT", fp),
        None => c.env_remove("REGELBANK_STORE_FAILPOINT"),
    };
    c.output().unwrap()
}

/// Runs only inside a child process started by the tests below.
#[test]
#[ignore = "helper: run as a child process by the other tests"]
fn child() {
    let role = std::env::var(ROLE).expect("child runs only as a subprocess");
    let dir = std::path::PathBuf::from(std::env::var(DIR).unwrap());
    match role.as_str() {
        "commit" | "commit-bundled" => {
            let s = Store::open(&dir).unwrap();
            let mut fx = Effects::default();
            fx.works.push(work("/akn/nl/act/gm1/2024/R", "regeling", Some("R"), Some("oin")));
            deliver_with(&s, "oin", "crashing", b"crash package", fx, role == "commit-bundled").unwrap();
            println!("CHILD-COMMITTED");
        }
        "try-open" => match Store::open(&dir) {
            Err(StoreError::Locked { .. }) => println!("CHILD-LOCKED"),
            other => panic!("expected Locked, got {other:?}"),
        },
        "read" => {
            let ro = Store::open_read_only(&dir).unwrap();
            println!("CHILD-READ {}", ro.records().unwrap().len());
        }
        r => panic!("unknown role {r}"),
    }
}

#[test]
fn killed_commit_leaves_nothing_or_everything() {
    // (failpoint, does the delivery exist after reopen?)
    let cases = [
        ("after-intent", false),
        ("after-blobs", false),
        ("after-ledger-write", true),
        ("after-ledger", true),
    ];
    for ((fp, landed), role) in cases.into_iter().flat_map(|c| [(c, "commit"), (c, "commit-bundled")]) {
        let d = tempfile::tempdir().unwrap();
        {
            let s = Store::open(d.path()).unwrap();
            deliver_with(&s, "oin", "first", b"first package", Effects::default(), role == "commit-bundled").unwrap();
        }
        let before = fingerprint(d.path());
        let out = run_child(role, d.path(), Some(fp));
        assert!(!out.status.success(), "{fp}: child should have aborted");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("CHILD-COMMITTED"), "{fp}");

        let s = Store::open(d.path()).unwrap();
        assert_clean(&s);
        assert_blobs_read(&s);
        let recs = s.records().unwrap();
        let pkg = Hash::of(b"crash package");
        if landed {
            assert_eq!(recs.len(), 2, "{fp}");
            assert!(s.has_blob(&pkg));
            assert_eq!(s.index().delivery_by_levering("oin", "crashing").unwrap(), Some(2));
            assert!(s.index().work("/akn/nl/act/gm1/2024/R").unwrap().is_some());
        } else {
            assert_eq!(recs.len(), 1, "{fp}");
            assert!(!s.has_blob(&pkg), "{fp}");
            assert_eq!(s.index().delivery_by_levering("oin", "crashing").unwrap(), None);
            assert_eq!(fingerprint(d.path()), before, "{fp}: store must be as before the crash");
        }
        let ans = answers(&s);
        s.rebuild().unwrap();
        assert_eq!(answers(&s), ans);
    }
}

#[test]
fn child_without_failpoint_commits() {
    let d = tempfile::tempdir().unwrap();
    let out = run_child("commit", d.path(), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = Store::open(d.path()).unwrap();
    assert_eq!(s.records().unwrap().len(), 1);
    assert_clean(&s);
}

#[test]
fn second_process_gets_locked_but_can_read() {
    let d = tempfile::tempdir().unwrap();
    let s = Store::open(d.path()).unwrap();
    deliver(&s, "oin", "l1", b"p1", Effects::default()).unwrap();
    let out = run_child("try-open", d.path(), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CHILD-LOCKED"));
    let out = run_child("read", d.path(), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CHILD-READ 1"));
    drop(s);
    // once released, the other process can open it
    let out = run_child("commit", d.path(), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
