mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;

use common::*;
use store::*;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn sample_effects() -> Effects {
    Effects {
        works: vec![
            work("/akn/nl/bill/gm9920/2024/B1", "besluit", Some("Besluit 1"), Some("oin-a")),
            work("/akn/nl/act/gm9920/2024/Reg1", "regeling", None, Some("oin-a")),
        ],
        expressions: vec![
            expr("/akn/nl/bill/gm9920/2024/B1/nld@2024-05-01;1", "/akn/nl/bill/gm9920/2024/B1", None, false),
            expr("/akn/nl/act/gm9920/2024/Reg1/nld@2024-05-01;1", "/akn/nl/act/gm9920/2024/Reg1", None, false),
        ],
        afgebroken: vec![],
        doelen: vec!["/join/id/proces/gm9920/2024/Doel1".into()],
        uitwisseling: None,
        tam: None,
    }
}

#[test]
fn blob_round_trip_and_no_temp_files() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let payload = b"<AanleveringBesluit/>".to_vec();
    let r = deliver(&s, "oin-a", "lev-1", &payload, Effects::default()).unwrap();
    assert_eq!(r.seq, 1);
    assert!(r.prev.is_zero());
    let h = Hash::of(&payload);
    assert_eq!(r.rec.package_hash, h);
    assert!(s.has_blob(&h));
    assert_eq!(s.get_blob(&h).unwrap(), payload);
    assert_eq!(s.check_blob(&h).unwrap(), payload.len() as u64);
    assert!(s.blob_path(&h).starts_with(d.path().join("blobs")));
    assert!(s.blob_path(&h).ends_with(h.to_hex()));
    // only hash-named files in blobs/, nothing in staging/, no intent
    for (path, kind) in fingerprint(d.path()) {
        if let Some(rest) = path.strip_prefix("blobs/") {
            if kind != "dir" {
                let name = rest.split('/').next_back().unwrap();
                let hh: Hash = name.parse().unwrap();
                assert_eq!(kind, hh.to_hex(), "blob {path} content does not match its name");
            }
        } else {
            assert!(path == "ledger" || path == "blobs" || path == "staging", "unexpected file {path}");
        }
    }
    assert_eq!(fs::read_dir(d.path().join("staging")).unwrap().count(), 0);
    let missing = Hash::of(b"nope");
    assert!(!s.has_blob(&missing));
    assert!(matches!(s.get_blob(&missing), Err(StoreError::BlobNotFound { hash, .. }) if hash == missing));
    assert_clean(&s);
    // survives reopen
    drop(s);
    let s = Store::open(d.path()).unwrap();
    assert_eq!(s.get_blob(&h).unwrap(), payload);
    assert_eq!(s.records().unwrap(), vec![r.clone()]);
    assert_eq!(s.record(1).unwrap(), Some(r));
    assert_eq!(s.record(2).unwrap(), None);
    assert_eq!(s.record(0).unwrap(), None);
}

#[test]
fn put_blob_reader_streams_and_is_idempotent() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let mut t = s.begin().unwrap();
    let (h, n) = t.put_blob_reader(&mut big.as_slice()).unwrap();
    assert_eq!((h, n), (Hash::of(&big), big.len() as u64));
    let (h2, _) = t.put_blob_reader(&mut big.as_slice()).unwrap();
    assert_eq!(h2, h);
    assert_eq!(t.put_blob(&big).unwrap(), h);
    assert_eq!(t.staged(), vec![h]);
    assert!(!s.has_blob(&h), "staged blob must not be visible before commit");
    t.commit(rec("oin", "big", h)).unwrap();
    assert_eq!(s.get_blob(&h).unwrap(), big);
    // a later txn putting the same bytes stages nothing
    let mut t = s.begin().unwrap();
    assert_eq!(t.put_blob(&big).unwrap(), h);
    assert!(t.staged().is_empty());
    drop(t);
    assert_clean(&s);
}

#[test]
fn corruption_is_detected_by_get_blob_and_verify() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let payload = b"some package bytes".to_vec();
    deliver(&s, "oin-a", "lev-1", &payload, Effects::default()).unwrap();
    let h = Hash::of(&payload);
    let path = s.blob_path(&h);
    let mut bytes = fs::read(&path).unwrap();
    bytes[3] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    match s.get_blob(&h) {
        Err(StoreError::BlobCorrupt { hash, path: p, actual }) => {
            assert_eq!(hash, h);
            assert_eq!(p, path);
            assert_eq!(actual, Hash::of(&bytes));
        }
        other => panic!("expected BlobCorrupt, got {other:?}"),
    }
    assert!(matches!(s.check_blob(&h), Err(StoreError::BlobCorrupt { .. })));
    let rep = s.verify().unwrap();
    assert!(!rep.is_clean());
    let bad = rep.of_kind(ProblemKind::BlobCorrupt);
    assert_eq!(bad.len(), 1, "{rep:#?}");
    assert_eq!(bad[0].hash, Some(h));
    assert_eq!(bad[0].seq, Some(1));
    assert_eq!(bad[0].path.as_deref(), Some(path.as_path()));
    assert_eq!(rep.problems.len(), 1, "{rep:#?}");

    // a later delivery of the same bytes repairs the blob
    deliver(&s, "oin-a", "lev-2", &payload, Effects::default()).unwrap();
    assert_eq!(s.get_blob(&h).unwrap(), payload);
    assert_clean(&s);
}

#[test]
fn verify_reports_missing_orphan_and_stray() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    deliver(&s, "oin-a", "lev-1", b"pkg", Effects::default()).unwrap();
    let pkg = Hash::of(b"pkg");
    fs::remove_file(s.blob_path(&pkg)).unwrap();
    let orphan = Hash::of(b"orphan");
    let op = s.blob_path(&orphan);
    fs::create_dir_all(op.parent().unwrap()).unwrap();
    fs::write(&op, b"orphan").unwrap();
    fs::write(d.path().join("blobs").join(&orphan.to_hex()[..2]).join("junk.tmp"), b"x").unwrap();
    let rep = s.verify().unwrap();
    let missing = rep.of_kind(ProblemKind::MissingBlob);
    assert_eq!(missing.len(), 1);
    assert_eq!((missing[0].hash, missing[0].seq), (Some(pkg), Some(1)));
    let orphans = rep.of_kind(ProblemKind::OrphanBlob);
    assert_eq!(orphans.len(), 1);
    assert_eq!(orphans[0].hash, Some(orphan));
    assert_eq!(rep.orphans, 1);
    assert_eq!(rep.of_kind(ProblemKind::StrayFile).len(), 1);
    assert_eq!(rep.problems.len(), 3, "{rep:#?}");
    assert!(matches!(s.get_blob(&pkg), Err(StoreError::BlobNotFound { .. })));
}

#[test]
fn aborted_and_rejected_transactions_leave_store_unchanged() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    deliver(&s, "oin-a", "lev-1", b"first", sample_effects()).unwrap();
    let fp = fingerprint(d.path());
    let ans = answers(&s);

    // dropped txn with new and existing blobs
    {
        let mut t = s.begin().unwrap();
        t.put_blob(b"new blob").unwrap();
        t.put_blob(b"first").unwrap();
        t.put_blob_reader(&mut &b"streamed new blob"[..]).unwrap();
    }
    assert_eq!(fingerprint(d.path()), fp);

    // rejected: duplicate levering, with new staged blobs
    let err = deliver(&s, "oin-a", "lev-1", b"other package", Effects::default()).unwrap_err();
    assert!(matches!(err, StoreError::DuplicateLevering { .. }), "{err:?}");
    assert_eq!(fingerprint(d.path()), fp);

    // rejected: dangling reference
    let mut t = s.begin().unwrap();
    let h = t.put_blob(b"pkg3").unwrap();
    let mut r = rec("oin-a", "lev-3", h);
    r.derived = vec![Hash::of(b"never stored")];
    let err = t.commit(r).unwrap_err();
    assert!(matches!(err, StoreError::MissingBlob { hash } if hash == Hash::of(b"never stored")));
    assert_eq!(fingerprint(d.path()), fp);

    // rejected: invalid record
    let mut t = s.begin().unwrap();
    let h = t.put_blob(b"pkg4").unwrap();
    assert!(matches!(t.commit(rec("oin-a", "", h)), Err(StoreError::InvalidRecord(_))));
    assert_eq!(fingerprint(d.path()), fp);

    assert_eq!(answers(&s), ans);
    assert_eq!(s.records().unwrap().len(), 1);
    assert_clean(&s);
}

#[test]
fn staged_blobs_the_record_does_not_name_are_discarded() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut t = s.begin().unwrap();
    let pkg = t.put_blob(b"pkg").unwrap();
    let stray = t.put_blob(b"unreferenced").unwrap();
    t.commit(rec("oin", "l", pkg)).unwrap();
    assert!(s.has_blob(&pkg));
    assert!(!s.has_blob(&stray));
    assert_clean(&s);
}

#[test]
fn duplicate_levering_is_a_typed_error() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let first = deliver(&s, "oin-a", "lev-1", b"pkg-1", Effects::default()).unwrap();
    // same aanleveraar + idLevering, different package
    match deliver(&s, "oin-a", "lev-1", b"pkg-2", Effects::default()) {
        Err(StoreError::DuplicateLevering { aanleveraar, id_levering, seq, package_hash }) => {
            assert_eq!((aanleveraar.as_str(), id_levering.as_str()), ("oin-a", "lev-1"));
            assert_eq!(seq, first.seq);
            assert_eq!(package_hash, Hash::of(b"pkg-1"));
        }
        other => panic!("expected DuplicateLevering, got {other:?}"),
    }
    // same package again: same error, caller compares the hash
    match deliver(&s, "oin-a", "lev-1", b"pkg-1", Effects::default()) {
        Err(StoreError::DuplicateLevering { package_hash, .. }) => assert_eq!(package_hash, first.rec.package_hash),
        other => panic!("expected DuplicateLevering, got {other:?}"),
    }
    // another aanleveraar may reuse the id
    let r = deliver(&s, "oin-b", "lev-1", b"pkg-2", Effects::default()).unwrap();
    assert_eq!(r.seq, 2);
    // still detected after reopen (index persisted) and after deleting the index
    drop(s);
    let s = Store::open(d.path()).unwrap();
    assert!(matches!(
        deliver(&s, "oin-b", "lev-1", b"x", Effects::default()),
        Err(StoreError::DuplicateLevering { seq: 2, .. })
    ));
    drop(s);
    fs::remove_dir_all(d.path().join("index")).unwrap();
    let s = Store::open(d.path()).unwrap();
    assert!(matches!(
        deliver(&s, "oin-a", "lev-1", b"x", Effects::default()),
        Err(StoreError::DuplicateLevering { seq: 1, .. })
    ));
    assert_clean(&s);
}

#[test]
fn torn_ledger_tail_is_truncated_on_open() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    deliver(&s, "oin", "l1", b"p1", Effects::default()).unwrap();
    let r2 = deliver(&s, "oin", "l2", b"p2", Effects::default()).unwrap();
    drop(s);
    let ledger = d.path().join("ledger");
    let good = fs::read(&ledger).unwrap();
    // half of a plausible third record
    let last_line = good[..good.len() - 1].rsplit(|b| *b == b'\n').next().unwrap().to_vec();
    let mut f = OpenOptions::new().append(true).open(&ledger).unwrap();
    f.write_all(&last_line[..last_line.len() / 2]).unwrap();
    drop(f);
    assert!(fs::read(&ledger).unwrap().len() > good.len());

    let s = Store::open(d.path()).unwrap();
    assert_eq!(fs::read(&ledger).unwrap(), good, "torn tail must be truncated");
    assert_eq!(s.records().unwrap().len(), 2);
    assert_clean(&s);
    let r3 = deliver(&s, "oin", "l3", b"p3", Effects::default()).unwrap();
    assert_eq!(r3.seq, 3);
    assert_eq!(Some(r3.prev), s.record_hash(2));
    assert_eq!(s.record(2).unwrap(), Some(r2));
    assert_clean(&s);
}

#[test]
fn torn_tail_of_zero_bytes_is_truncated() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    deliver(&s, "oin", "l1", b"p1", Effects::default()).unwrap();
    drop(s);
    let ledger = d.path().join("ledger");
    let good = fs::read(&ledger).unwrap();
    OpenOptions::new().append(true).open(&ledger).unwrap().write_all(&[0u8; 4096]).unwrap();
    let s = Store::open(d.path()).unwrap();
    assert_eq!(fs::read(&ledger).unwrap(), good);
    assert_clean(&s);
}

fn flip_in_line(ledger: &std::path::Path, line_no: usize, from: &str, to: &str) {
    let text = fs::read_to_string(ledger).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(lines[line_no].contains(from));
    lines[line_no] = lines[line_no].replacen(from, to, 1);
    fs::write(ledger, lines.join("\n") + "\n").unwrap();
}

#[test]
fn corrupted_middle_record_is_reported_and_refuses_writes() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    for i in 1..=3 {
        deliver(&s, "oin", &format!("lev-{i}"), format!("p{i}").as_bytes(), Effects::default()).unwrap();
    }
    let r1 = s.record(1).unwrap();
    drop(s);
    let ledger = d.path().join("ledger");
    flip_in_line(&ledger, 1, "lev-2", "lev-X");
    let before = fs::read(&ledger).unwrap();

    let s = Store::open(d.path()).unwrap();
    assert_eq!(fs::read(&ledger).unwrap(), before, "open must not touch a damaged ledger");
    let rep = s.verify().unwrap();
    let bad = rep.of_kind(ProblemKind::LedgerChecksum);
    assert_eq!(bad.len(), 1, "{rep:#?}");
    assert_eq!(bad[0].seq, Some(2));
    assert_eq!(bad[0].path.as_deref(), Some(ledger.as_path()));
    assert!(rep.of_kind(ProblemKind::LedgerChain).is_empty(), "record 3 still follows: {rep:#?}");
    // only the blobs of the unreadable record 2 lose their reference; record 3 past the damage keeps its
    assert_eq!(rep.orphans, 3, "{rep:#?}");
    assert!(!rep.is_clean());
    assert!(matches!(s.begin().map(|_| ()), Err(StoreError::WritesRefused { .. })));
    assert!(matches!(s.records(), Err(StoreError::LedgerCorrupt { .. })));
    assert_eq!(s.record(1).unwrap(), r1);
    assert_eq!(s.record(2).unwrap(), None);
}

#[test]
fn broken_chain_is_reported() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    for i in 1..=3 {
        deliver(&s, "oin", &format!("lev-{i}"), format!("p{i}").as_bytes(), Effects::default()).unwrap();
    }
    drop(s);
    // remove record 2 entirely: every remaining line is individually intact
    let ledger = d.path().join("ledger");
    let text = fs::read_to_string(&ledger).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    fs::write(&ledger, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    let s = Store::open(d.path()).unwrap();
    let rep = s.verify().unwrap();
    let chain = rep.of_kind(ProblemKind::LedgerChain);
    assert_eq!(chain.len(), 1, "{rep:#?}");
    assert_eq!(chain[0].seq, Some(3));
    // blobs of record 2 are now orphans
    assert_eq!(rep.orphans, 3);
    assert!(matches!(s.begin().map(|_| ()), Err(StoreError::WritesRefused { .. })));
}

#[test]
fn index_catches_up_after_crash_between_ledger_and_index() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    deliver(&s, "oin", "l1", b"p1", sample_effects()).unwrap();
    s.set_failpoint(Some("after-ledger"));
    let mut fx = Effects::default();
    fx.works.push(work("/akn/nl/act/gm9920/2024/Reg2", "regeling", Some("Reg 2"), Some("oin")));
    fx.expressions.push(expr("/akn/nl/act/gm9920/2024/Reg2/nld@2024;1", "/akn/nl/act/gm9920/2024/Reg2", None, false));
    let err = deliver(&s, "oin", "l2", b"p2", fx).unwrap_err();
    assert!(matches!(err, StoreError::Failpoint(ref n) if n == "after-ledger"), "{err:?}");
    assert_eq!(s.index().last_seq().unwrap(), 1, "index must not have seen seq 2");
    assert!(matches!(s.begin().map(|_| ()), Err(StoreError::WritesRefused { .. })));
    drop(s);

    let s = Store::open(d.path()).unwrap();
    assert_eq!(s.records().unwrap().len(), 2);
    let ix = s.index();
    assert_eq!(ix.last_seq().unwrap(), 2);
    assert_eq!(ix.delivery_by_levering("oin", "l2").unwrap(), Some(2));
    assert_eq!(ix.work("/akn/nl/act/gm9920/2024/Reg2").unwrap().unwrap().first_seq, 2);
    assert_eq!(ix.expressions_of("/akn/nl/act/gm9920/2024/Reg2").unwrap().len(), 1);
    assert!(ix.report_of(2).unwrap().is_some());
    assert_clean(&s);
    let ans = answers(&s);
    s.rebuild().unwrap();
    assert_eq!(answers(&s), ans);
}

#[test]
fn crash_after_blobs_before_ledger_removes_orphans() {
    for fp in ["after-intent", "after-blobs"] {
        let d = tmp();
        let s = Store::open(d.path()).unwrap();
        deliver(&s, "oin", "l1", b"p1", sample_effects()).unwrap();
        let before = fingerprint(d.path());
        let ans = answers(&s);
        s.set_failpoint(Some(fp));
        // the package of the crashed delivery shares a blob with l1 (b"p1/file" is new though)
        let mut t = s.begin().unwrap();
        let pkg = t.put_blob(b"p2").unwrap();
        let shared = t.put_blob(b"p1").unwrap();
        let mut r = rec("oin", "l2", pkg);
        r.derived = vec![shared];
        let err = t.commit(r).unwrap_err();
        assert!(matches!(err, StoreError::Failpoint(_)));
        if fp == "after-blobs" {
            assert!(s.has_blob(&pkg), "blob was moved into place before the simulated crash");
        }
        assert!(d.path().join("commit.intent").exists());
        drop(s);

        let s = Store::open(d.path()).unwrap();
        assert!(!s.has_blob(&pkg), "{fp}: blob of the crashed commit must be removed");
        assert!(s.has_blob(&shared), "{fp}: blob of a committed record must stay");
        assert_eq!(s.records().unwrap().len(), 1);
        assert_eq!(fingerprint(d.path()), before, "{fp}");
        assert_eq!(answers(&s), ans);
        assert_clean(&s);
        // and the delivery can be retried
        assert_eq!(deliver(&s, "oin", "l2", b"p2", Effects::default()).unwrap().seq, 2);
        assert_clean(&s);
    }
}

#[test]
fn crash_after_unsynced_ledger_write_keeps_the_record() {
    // the process dies after write(2) but before fsync: the page cache still holds the
    // record, so after reopen the delivery is committed (and complete)
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    s.set_failpoint(Some("after-ledger-write"));
    assert!(matches!(deliver(&s, "oin", "l1", b"p1", sample_effects()), Err(StoreError::Failpoint(_))));
    drop(s);
    let s = Store::open(d.path()).unwrap();
    assert_eq!(s.records().unwrap().len(), 1);
    assert!(!d.path().join("commit.intent").exists());
    assert_eq!(s.index().works().unwrap().len(), 2);
    assert_clean(&s);
}

#[test]
fn stale_staging_from_a_dead_process_is_removed() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    deliver(&s, "oin", "l1", b"p1", Effects::default()).unwrap();
    drop(s);
    let st = d.path().join("staging").join("12345-1-0");
    fs::create_dir_all(&st).unwrap();
    fs::write(st.join(Hash::of(b"x").to_hex()), b"x").unwrap();
    fs::write(d.path().join("commit.intent.tmp"), b"{half").unwrap();
    let s = Store::open(d.path()).unwrap();
    assert!(!st.exists());
    assert!(!d.path().join("commit.intent.tmp").exists());
    assert_clean(&s);
}

#[test]
fn merge_rules_and_afgebroken() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let w = "/akn/nl/act/gm9920/2024/Reg1";
    let e1 = "/akn/nl/act/gm9920/2024/Reg1/nld@2024-05-01;1";
    let e2 = "/akn/nl/act/gm9920/2024/Reg1/nld@2024-07-01;2";
    let mut fx1 = Effects::default();
    fx1.works.push(work(w, "regeling", None, Some("owner-1")));
    fx1.expressions.push(expr(e1, w, None, true));
    deliver(&s, "oin", "l1", b"p1", fx1).unwrap();

    let mut t = s.begin().unwrap();
    let xml = t.put_blob(b"<regeling/>").unwrap();
    let pkg = t.put_blob(b"p2").unwrap();
    let mut r = rec("oin", "l2", pkg);
    r.effects.works.push(work(w, "besluit", Some("Titel"), Some("owner-2")));
    r.effects.expressions.push(expr(e1, w, Some(xml), false));
    r.effects.expressions.push(expr(e2, w, Some(xml), false));
    t.commit(r).unwrap();

    let ix = s.index();
    let wv = ix.work(w).unwrap().unwrap();
    assert_eq!(wv.first_seq, 1);
    assert_eq!(wv.entry.owner_oin.as_deref(), Some("owner-1"), "first owner kept");
    assert_eq!(wv.entry.kind, "regeling", "first kind kept");
    assert_eq!(wv.entry.title.as_deref(), Some("Titel"), "missing title filled");
    assert_eq!(wv.expressions, vec![e1.to_string(), e2.to_string()]);
    assert!(!wv.afgebroken);
    let ev1 = ix.expression(e1).unwrap().unwrap();
    assert_eq!(ev1.seq, 1);
    assert_eq!(ev1.entry.blob, Some(xml));
    assert!(!ev1.entry.ontwerp, "a definitive delivery ends ontwerp");
    let of: Vec<String> = ix.expressions_of(w).unwrap().into_iter().map(|e| e.entry.expression).collect();
    assert_eq!(of, vec![e1.to_string(), e2.to_string()]);

    // expression of an unknown work creates a minimal work
    let mut fx3 = Effects::default();
    fx3.expressions.push(expr("/join/id/regdata/gm9920/2024/Gebied/nld@2024;1", "/join/id/regdata/gm9920/2024/Gebied", None, false));
    fx3.afgebroken.push(e2.to_string());
    fx3.afgebroken.push("/akn/nl/bill/none".to_string());
    deliver(&s, "oin", "l3", b"p3", fx3).unwrap();
    let g = ix.work("/join/id/regdata/gm9920/2024/Gebied").unwrap().unwrap();
    assert_eq!((g.first_seq, g.entry.kind.as_str(), g.entry.title.clone()), (3, "regeling", None));
    assert!(ix.expression(e2).unwrap().unwrap().afgebroken);
    assert!(!ix.expression(e1).unwrap().unwrap().afgebroken);
    assert!(!ix.work(w).unwrap().unwrap().afgebroken);
    assert!(ix.work("/akn/nl/bill/none").unwrap().is_none());

    let mut fx4 = Effects::default();
    fx4.afgebroken.push(w.to_string());
    deliver(&s, "oin", "l4", b"p4", fx4).unwrap();
    let wv = ix.work(w).unwrap().unwrap();
    assert!(wv.afgebroken);
    assert_eq!(wv.expressions.len(), 2, "data stays");
    let ids: Vec<String> = ix.works().unwrap().into_iter().map(|w| w.entry.work).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert_eq!(ids.len(), 2);
    assert_clean(&s);
}

#[test]
fn rebuild_and_index_deletion_give_identical_answers() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    deliver(&s, "oin-a", "l1", b"p1", sample_effects()).unwrap();
    let mut fx = sample_effects();
    fx.works[1].title = Some("Regeling 1".into());
    fx.expressions.push(expr("/akn/nl/act/gm9920/2024/Reg1/nld@2024-09-01;2", "/akn/nl/act/gm9920/2024/Reg1", None, true));
    fx.afgebroken.push("/akn/nl/bill/gm9920/2024/B1".into());
    deliver(&s, "oin-b", "l1", b"p2", fx).unwrap();
    let before = answers(&s);
    assert_eq!(before["last_seq"], 2);

    let stats = s.rebuild().unwrap();
    assert_eq!(stats, RebuildStats { records: 2, works: 2, expressions: 3 });
    assert_eq!(answers(&s), before);
    assert_clean(&s);
    // twice, and across reopen (the swapped tree is the one reopened)
    s.rebuild().unwrap();
    drop(s);
    let s = Store::open(d.path()).unwrap();
    assert_eq!(answers(&s), before);
    drop(s);

    fs::remove_dir_all(d.path().join("index")).unwrap();
    let s = Store::open(d.path()).unwrap();
    assert_eq!(answers(&s), before);
    assert_clean(&s);
}

#[test]
fn foreign_index_is_detected_and_rebuilt_on_open() {
    // an index that belongs to another ledger (e.g. restored from the wrong backup)
    let a = tmp();
    let b = tmp();
    let sa = Store::open(a.path()).unwrap();
    deliver(&sa, "oin", "a1", b"a1", sample_effects()).unwrap();
    let want = answers(&sa);
    drop(sa);
    let sb = Store::open(b.path()).unwrap();
    deliver(&sb, "oin", "b1", b"b1", Effects::default()).unwrap();
    deliver(&sb, "oin", "b2", b"b2", Effects::default()).unwrap();
    drop(sb);
    fs::remove_dir_all(a.path().join("index")).unwrap();
    copy_dir(&b.path().join("index"), &a.path().join("index"));
    let sa = Store::open(a.path()).unwrap();
    assert_eq!(answers(&sa), want);
    assert_clean(&sa);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn second_open_in_process_is_locked() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    match Store::open(d.path()) {
        Err(StoreError::Locked { dir, .. }) => assert_eq!(dir, d.path()),
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(s);
    let s = Store::open(d.path()).unwrap();
    drop(s);
}

#[test]
fn read_only_handle_works_while_a_writer_holds_the_store() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    deliver(&s, "oin", "l1", b"p1", sample_effects()).unwrap();
    let ro = Store::open_read_only(d.path()).unwrap();
    assert!(ro.is_read_only());
    assert_eq!(answers(&ro), answers(&s));
    assert_eq!(ro.get_blob(&Hash::of(b"p1")).unwrap(), b"p1");
    assert!(matches!(ro.begin().map(|_| ()), Err(StoreError::ReadOnly)));
    deliver(&s, "oin", "l2", b"p2", sample_effects()).unwrap();
    assert_eq!(ro.last_seq(), 1);
    assert_eq!(ro.refresh().unwrap(), 2);
    assert_eq!(answers(&ro), answers(&s));
    assert!(ro.verify().unwrap().is_clean());
}

#[test]
fn concurrent_writers_in_one_process_serialize() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    std::thread::scope(|sc| {
        for t in 0..4 {
            let s = &s;
            sc.spawn(move || {
                for i in 0..5 {
                    let id = format!("t{t}-{i}");
                    deliver(s, "oin", &id, id.as_bytes(), Effects::default()).unwrap();
                }
            });
        }
    });
    let recs = s.records().unwrap();
    assert_eq!(recs.len(), 20);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1);
    }
    assert_clean(&s);
}

#[test]
fn serde_shapes() {
    let mut r = rec("oin", "l", Hash::of(b"p"));
    r.effects = sample_effects();
    let lr = LedgerRecord { seq: 7, prev: Hash::ZERO, rec: r };
    let v = serde_json::to_value(&lr).unwrap();
    assert_eq!(v["seq"], 7);
    assert_eq!(v["id_levering"], "l", "NewRecord is flattened");
    assert_eq!(v["package_hash"], Hash::of(b"p").to_hex());
    let back: LedgerRecord = serde_json::from_value(v).unwrap();
    assert_eq!(back, lr);
}

#[test]
fn failed_reader_leaves_nothing_behind() {
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("network gone"));
            }
            self.0 -= 1;
            buf[0] = b'x';
            Ok(1)
        }
    }
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    deliver(&s, "oin", "l1", b"p1", Effects::default()).unwrap();
    let fp = fingerprint(d.path());
    let mut t = s.begin().unwrap();
    assert!(matches!(t.put_blob_reader(&mut Failing(100)), Err(StoreError::Io { .. })));
    assert!(t.staged().is_empty());
    drop(t);
    assert_eq!(fingerprint(d.path()), fp);
    assert_clean(&s);
}

#[test]
fn store_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
    assert_send_sync::<StoreError>();
    let _: &dyn Index = Store::open(tmp().path()).unwrap().index();
}

/// Stage one delivery (package, file, report) into `t` and return its record.
fn staged_rec(t: &mut Txn<'_>, id: &str) -> NewRecord {
    let pkg = t.put_blob(format!("pkg {id}").as_bytes()).unwrap();
    let f = t.put_blob(format!("file {id}").as_bytes()).unwrap();
    let mut r = rec("oin", id, pkg);
    r.files = vec![FileRef { name: "besluit.xml".into(), hash: f, size: 5, content_type: None }];
    r
}

#[test]
fn group_commit_gives_consecutive_seqs_and_refuses_duplicates_in_the_group() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut t = s.begin().unwrap();
    let recs: Vec<NewRecord> = ["g1", "g2", "g3"].iter().map(|id| staged_rec(&mut t, id)).collect();
    let out = t.commit_many(recs).unwrap();
    assert_eq!(out.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(out[1].prev, s.record_hash(1).unwrap());
    for id in ["g1", "g2", "g3"] {
        assert!(s.index().delivery_by_levering("oin", id).unwrap().is_some());
    }
    assert_clean(&s);

    let mut t = s.begin().unwrap();
    let a = staged_rec(&mut t, "g4");
    let b = staged_rec(&mut t, "g4");
    assert!(matches!(t.commit_many(vec![a, b]), Err(StoreError::InvalidRecord(_))));
    assert_eq!(s.last_seq(), 3);
    assert_clean(&s);
}

#[test]
fn a_torn_group_keeps_its_complete_records_and_drops_the_rest() {
    // The group's lines were written but the crash persisted only the first one and half of
    // the second: delivery 1 is complete, 2 and 3 are absent with none of their blobs left.
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut t = s.begin().unwrap();
    let recs: Vec<NewRecord> = ["t1", "t2", "t3"].iter().map(|id| staged_rec(&mut t, id)).collect();
    s.set_failpoint(Some("after-ledger-write"));
    assert!(matches!(t.commit_many(recs), Err(StoreError::Failpoint(_))));
    drop(s);
    let ledger = d.path().join("ledger");
    let bytes = fs::read(&ledger).unwrap();
    let first_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    fs::write(&ledger, &bytes[..first_end + 40]).unwrap();
    let s = Store::open(d.path()).unwrap();
    assert_eq!(s.records().unwrap().len(), 1);
    assert!(s.index().delivery_by_levering("oin", "t1").unwrap().is_some());
    assert!(s.index().delivery_by_levering("oin", "t2").unwrap().is_none());
    assert!(!s.has_blob(&Hash::of(b"file t2")) && !s.has_blob(&Hash::of(b"pkg t3")));
    assert!(s.has_blob(&Hash::of(b"file t1")));
    assert_clean(&s);
}

#[test]
fn verify_reports_a_text_root_that_no_pack_holds() {
    let d = tmp();
    let s = Store::open(d.path()).unwrap();
    let mut fx = sample_effects();
    fx.expressions[1].tekst = Some(store::Hash::of(b"no such node"));
    deliver(&s, "oin-a", "l1", b"p1", fx).unwrap();
    let rep = s.verify().unwrap();
    assert!(
        rep.problems.iter().any(|p| p.kind == store::ProblemKind::NodeMissing),
        "{:?}",
        rep.problems
    );
}
