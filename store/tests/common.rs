#![allow(dead_code)]
//! Shared helpers for the store tests.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use store::*;

pub fn rec(oin: &str, id: &str, package: Hash) -> NewRecord {
    NewRecord {
        received_at: "2024-05-01T10:00:00Z".into(),
        aanleveraar: oin.into(),
        bevoegd_gezag: "00000001001589623000".into(),
        id_levering: id.into(),
        opdracht: "publicatieOpdracht".into(),
        package_hash: package,
        files: vec![],
        outcome: "gepubliceerd".into(),
        report: None,
        derived: vec![],
        effects: Effects::default(),
    }
}

pub fn work(id: &str, kind: &str, title: Option<&str>, owner: Option<&str>) -> WorkEntry {
    WorkEntry {
        work: id.into(),
        soort_work: Some("/join/id/stop/work_019".into()),
        kind: kind.into(),
        title: title.map(str::to_string),
        bevoegd_gezag: Some("gm9920".into()),
        owner_oin: owner.map(str::to_string),
    }
}

pub fn expr(id: &str, work: &str, blob: Option<Hash>, ontwerp: bool) -> ExpressionEntry {
    ExpressionEntry {
        expression: id.into(),
        work: work.into(),
        kind: "regeling".into(),
        file: Some("besluit.xml".into()),
        blob,
        datum_bekendmaking: Some("2024-06-01".into()),
        ontwerp,
        wids: None,
        tekst: None,
        procedure: None,
        herkomst: None,
    }
}

/// Commit a delivery whose package is `payload`, with one extra file and a report.
pub fn deliver(s: &Store, oin: &str, id: &str, payload: &[u8], effects: Effects) -> Result<LedgerRecord, StoreError> {
    deliver_with(s, oin, id, payload, effects, false)
}

/// [`deliver`], with the small blobs bundled or not.
pub fn deliver_with(
    s: &Store,
    oin: &str,
    id: &str,
    payload: &[u8],
    effects: Effects,
    bundle: bool,
) -> Result<LedgerRecord, StoreError> {
    let mut t = s.begin()?;
    t.bundle_small_blobs(bundle);
    let pkg = t.put_blob(payload)?;
    let file_bytes = [payload, b"/file"].concat();
    let f = t.put_blob(&file_bytes)?;
    let report = t.put_blob(format!("{{\"id\":\"{id}\"}}").as_bytes())?;
    let mut r = rec(oin, id, pkg);
    r.files = vec![FileRef { name: "besluit.xml".into(), hash: f, size: file_bytes.len() as u64, content_type: None }];
    r.report = Some(report);
    r.effects = effects;
    t.commit(r)
}

/// Every file under `dir` (except LOCK and the disposable index) with its content hash;
/// directories as "dir".
pub fn fingerprint(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, String>) {
    for e in fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        if rel == "LOCK" || rel == "index" {
            continue;
        }
        if p.is_dir() {
            out.insert(rel, "dir".into());
            walk(root, &p, out);
        } else {
            out.insert(rel, Hash::of(&fs::read(&p).unwrap()).to_hex());
        }
    }
}

/// Every answer the index gives, as JSON, for comparing before/after.
pub fn answers(s: &Store) -> serde_json::Value {
    let ix = s.index();
    let recs = s.records().unwrap();
    let works = ix.works().unwrap();
    let mut per_work = BTreeMap::new();
    for w in &works {
        per_work.insert(w.entry.work.clone(), serde_json::to_value(ix.expressions_of(&w.entry.work).unwrap()).unwrap());
        assert_eq!(ix.work(&w.entry.work).unwrap().as_ref(), Some(w));
    }
    let exprs = ix.expressions().unwrap();
    for e in &exprs {
        assert_eq!(ix.expression(&e.entry.expression).unwrap().as_ref(), Some(e));
    }
    let mut doelen = BTreeMap::new();
    for r in &recs {
        for d in &r.rec.effects.doelen {
            doelen.insert(d.clone(), ix.doel(d).unwrap());
        }
    }
    let mut deliveries = Vec::new();
    for r in &recs {
        deliveries.push(serde_json::json!({
            "by_levering": ix.delivery_by_levering(&r.rec.aanleveraar, &r.rec.id_levering).unwrap(),
            "delivery": ix.delivery(r.seq).unwrap(),
            "report": ix.report_of(r.seq).unwrap(),
        }));
    }
    serde_json::json!({
        "last_seq": ix.last_seq().unwrap(),
        "works": works,
        "expressions": exprs,
        "per_work": per_work,
        "doelen": doelen,
        "deliveries": deliveries,
        "unknown_work": ix.work("/akn/nl/act/none").unwrap(),
        "unknown_levering": ix.delivery_by_levering("x", "y").unwrap(),
    })
}

pub fn assert_clean(s: &Store) {
    let rep = s.verify().unwrap();
    assert!(rep.is_clean(), "verify not clean: {:#?}", rep.problems);
}

/// Every blob every record names reads back, verified.
pub fn assert_blobs_read(s: &Store) {
    for r in s.records().unwrap() {
        for h in r.rec.referenced_hashes() {
            assert!(s.has_blob(&h), "seq {}: {h} missing", r.seq);
            let b = s.get_blob(&h).unwrap_or_else(|e| panic!("seq {}: {h}: {e}", r.seq));
            assert_eq!(Hash::of(&b), h);
            assert_eq!(s.check_blob(&h).unwrap(), b.len() as u64);
        }
    }
}
