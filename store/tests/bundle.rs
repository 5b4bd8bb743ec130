//! Bundles: a record's small blobs stored as one blob. Round trip, group commits, crashes at
//! every failpoint and a torn group, damage, rebuild and read-only handles.

mod common;

use std::collections::BTreeSet;
use std::fs;

use common::*;
use store::*;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The blob files under `blobs/`.
fn blob_files(d: &std::path::Path) -> BTreeSet<Hash> {
    let mut out = BTreeSet::new();
    for sub in fs::read_dir(d.join("blobs")).unwrap() {
        for f in fs::read_dir(sub.unwrap().path()).unwrap() {
            out.insert(f.unwrap().file_name().to_string_lossy().parse().unwrap());
        }
    }
    out
}

/// Stage one delivery with small blobs (package, two files, report) and, optionally, a large one.
fn staged(t: &mut Txn<'_>, id: &str, large: bool) -> NewRecord {
    let pkg = t.put_blob(format!("pkg {id}").as_bytes()).unwrap();
    let f1 = t.put_blob(format!("file 1 of {id}").as_bytes()).unwrap();
    let f2 = t.put_blob(b"a file every delivery has").unwrap();
    let mut r = rec("oin", id, pkg);
    r.files = vec![
        FileRef { name: "a.xml".into(), hash: f1, size: 1, content_type: None },
        FileRef { name: "b.xml".into(), hash: f2, size: 1, content_type: None },
    ];
    if large {
        let big = vec![b'x'; (1 << 20) + 1];
        let h = t.put_blob(&big).unwrap();
        r.files.push(FileRef { name: "groot.xml".into(), hash: h, size: big.len() as u64, content_type: None });
    }
    r.report = Some(t.put_blob(format!("{{\"report\":\"{id}\"}}").as_bytes()).unwrap());
    r
}

#[test]
fn small_blobs_are_one_bundle_per_record_and_read_back() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut t = s.begin().unwrap();
    t.bundle_small_blobs(true);
    let r = staged(&mut t, "b1", true);
    let out = t.commit(r.clone()).unwrap();
    // the package, two files and the report in one bundle; the large file on its own
    let files = blob_files(d.path());
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(out.rec.derived.len(), 1, "commit names the bundle");
    let bundle = out.rec.derived[0];
    assert!(files.contains(&bundle) && files.contains(&r.files[2].hash));
    for h in r.referenced_hashes() {
        assert!(s.has_blob(&h));
        assert!(!files.contains(&h) || h == r.files[2].hash);
    }
    assert_blobs_read(&s);
    assert_clean(&s);
    let rep = s.verify().unwrap();
    assert_eq!((rep.bundles, rep.bundled_blobs), (1, 4));

    // a later delivery of the same bytes stores nothing again
    let mut t = s.begin().unwrap();
    t.bundle_small_blobs(true);
    let again = t.put_blob(b"a file every delivery has").unwrap();
    assert!(t.staged().is_empty(), "already stored (bundled)");
    let mut r2 = rec("oin", "b2", again);
    r2.report = Some(t.put_blob(b"report b2").unwrap());
    let out2 = t.commit(r2).unwrap();
    assert_eq!(out2.rec.derived.len(), 1, "only the report is new");

    // the same answers after rebuild, from a new handle without the index, and read-only
    s.rebuild().unwrap();
    assert_blobs_read(&s);
    assert_clean(&s);
    drop(s);
    fs::remove_dir_all(d.path().join("index")).unwrap();
    let s = Store::open(d.path()).unwrap();
    assert_blobs_read(&s);
    assert_clean(&s);
    let ro = Store::open_read_only(d.path()).unwrap();
    assert_blobs_read(&ro);
    assert!(ro.verify().unwrap().is_clean());
}

#[test]
fn a_group_commit_writes_one_bundle_per_record() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut t = s.begin().unwrap();
    t.bundle_small_blobs(true);
    let recs: Vec<NewRecord> = ["g1", "g2", "g3"].iter().map(|id| staged(&mut t, id, false)).collect();
    let out = t.commit_many(recs).unwrap();
    assert_eq!(blob_files(d.path()).len(), 3);
    // the blob all three name is in the first record's bundle only
    let shared = Hash::of(b"a file every delivery has");
    let with_shared: Vec<u64> = out
        .iter()
        .filter(|r| {
            let b = s.get_blob(&r.rec.derived[0]).unwrap();
            b.windows(b"a file every delivery has".len()).any(|w| w == b"a file every delivery has")
        })
        .map(|r| r.seq)
        .collect();
    assert_eq!(with_shared, vec![1]);
    assert_eq!(s.get_blob(&shared).unwrap(), b"a file every delivery has");
    assert_blobs_read(&s);
    assert_clean(&s);
}

#[test]
fn crashes_leave_no_bundle_of_an_uncommitted_record() {
    for fp in ["after-intent", "after-blobs", "after-ledger-write", "after-ledger"] {
        let d = tmp();
        let s = Store::open(d.path()).unwrap();
        deliver_with(&s, "oin", "first", b"first package", Effects::default(), true).unwrap();
        let before = blob_files(d.path());
        let mut t = s.begin().unwrap();
        t.bundle_small_blobs(true);
        let r = staged(&mut t, "crash", false);
        s.set_failpoint(Some(fp));
        assert!(matches!(t.commit(r.clone()), Err(StoreError::Failpoint(_))), "{fp}");
        drop(s);
        let s = Store::open(d.path()).unwrap();
        let landed = s.last_seq() == 2;
        assert_eq!(landed, fp.starts_with("after-ledger"), "{fp}");
        for h in r.referenced_hashes() {
            assert_eq!(s.has_blob(&h), landed, "{fp}: {h}");
        }
        if !landed {
            assert_eq!(blob_files(d.path()), before, "{fp}: the bundle of the crashed commit is removed");
        }
        assert_blobs_read(&s);
        assert_clean(&s);
    }
}

#[test]
fn a_torn_group_keeps_its_complete_records_and_their_bundles() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut t = s.begin().unwrap();
    t.bundle_small_blobs(true);
    let recs: Vec<NewRecord> = ["t1", "t2", "t3"].iter().map(|id| staged(&mut t, id, false)).collect();
    s.set_failpoint(Some("after-ledger-write"));
    assert!(matches!(t.commit_many(recs), Err(StoreError::Failpoint(_))));
    drop(s);
    let ledger = d.path().join("ledger");
    let bytes = fs::read(&ledger).unwrap();
    let first_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    fs::write(&ledger, &bytes[..first_end + 40]).unwrap();
    let s = Store::open(d.path()).unwrap();
    assert_eq!(s.records().unwrap().len(), 1);
    assert!(s.has_blob(&Hash::of(b"file 1 of t1")) && s.has_blob(&Hash::of(b"a file every delivery has")));
    assert!(!s.has_blob(&Hash::of(b"file 1 of t2")) && !s.has_blob(&Hash::of(b"pkg t3")));
    assert_eq!(blob_files(d.path()).len(), 1, "only t1's bundle is left");
    assert_blobs_read(&s);
    assert_clean(&s);
}

#[test]
fn a_damaged_bundle_is_detected_and_a_redelivery_is_stored_again() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let r = deliver_with(&s, "oin", "l1", b"some package bytes", Effects::default(), true).unwrap();
    let bundle = r.rec.derived[0];
    let path = s.blob_path(&bundle);
    let good = fs::read(&path).unwrap();
    // the package's own bytes (the file is the package bytes followed by "/file")
    let at = (0..=good.len() - 18)
        .find(|&i| &good[i..i + 18] == b"some package bytes" && good.get(i + 18..i + 23) != Some(b"/file"))
        .unwrap();
    let mut bad = good.clone();
    bad[at] ^= 0x01;
    fs::write(&path, &bad).unwrap();
    let pkg = Hash::of(b"some package bytes");
    assert!(matches!(s.get_blob(&pkg), Err(StoreError::BlobCorrupt { hash, path: p, .. }) if hash == pkg && p == path));
    assert!(matches!(s.check_blob(&pkg), Err(StoreError::BlobCorrupt { .. })));
    let rep = s.verify().unwrap();
    let corrupt = rep.of_kind(ProblemKind::BlobCorrupt);
    assert_eq!(corrupt.len(), 1, "{rep:#?}");
    assert_eq!(corrupt[0].hash, Some(bundle));
    assert!(rep.of_kind(ProblemKind::MissingBlob).iter().any(|p| p.hash == Some(pkg)), "{rep:#?}");
    // the same package delivered again is stored as a file of its own, which reads first
    deliver_with(&s, "oin", "l2", b"some package bytes", Effects::default(), true).unwrap();
    assert_eq!(s.get_blob(&pkg).unwrap(), b"some package bytes");
    fs::write(&path, &good).unwrap();
    assert_blobs_read(&s);
    assert_clean(&s);
}

#[test]
fn verify_reports_an_orphan_inside_a_bundle_and_a_damaged_blob_index() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    // a bundle (made by hand) holding a blob no record names
    let (a, b) = (b"named".to_vec(), b"nobody names me".to_vec());
    let mut blobs = vec![(Hash::of(&a), a.clone()), (Hash::of(&b), b.clone())];
    blobs.sort_by_key(|x| x.0);
    let mut bytes = b"RBBNDL1\n".to_vec();
    bytes.extend_from_slice(&2u32.to_le_bytes());
    for (h, x) in &blobs {
        bytes.extend_from_slice(&h.0);
        bytes.extend_from_slice(&(x.len() as u32).to_le_bytes());
    }
    for (_, x) in &blobs {
        bytes.extend_from_slice(x);
    }
    let mut t = s.begin().unwrap();
    let bh = t.put_blob(&bytes).unwrap();
    let mut r = rec("oin", "o1", t.put_blob(b"package o1").unwrap());
    r.derived = vec![bh];
    t.commit(r).unwrap();
    // a later record names one of its blobs (a blob in a bundle committed in the same
    // transaction is not stored yet: it counts once the bundle's record is committed)
    let t = s.begin().unwrap();
    t.commit(rec("oin", "o2", Hash::of(&a))).unwrap();
    assert_eq!(s.get_blob(&Hash::of(&a)).unwrap(), a);
    let rep = s.verify().unwrap();
    let orphans = rep.of_kind(ProblemKind::OrphanBlob);
    assert_eq!(orphans.len(), 1, "{rep:#?}");
    assert_eq!(orphans[0].hash, Some(Hash::of(&b)));
    assert_eq!(rep.problems.len(), 1, "{rep:#?}");

    // the blob index damaged in place: verify says so, rebuild repairs it
    drop(s);
    let dir = d.path().join("index").join("bundles");
    let run = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|x| x == "idx")).unwrap();
    let mut rb = fs::read(&run).unwrap();
    let n = rb.len();
    rb[n - 3] ^= 0x7f;
    fs::write(&run, &rb).unwrap();
    let s = Store::open(d.path()).unwrap();
    assert!(!s.verify().unwrap().of_kind(ProblemKind::IndexMismatch).is_empty());
    s.rebuild().unwrap();
    assert_eq!(s.get_blob(&Hash::of(&a)).unwrap(), a);
    assert_eq!(s.verify().unwrap().problems.len(), 1, "only the orphan is left");
}
