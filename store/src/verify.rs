//! Full consistency check of a store.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::fsutil;
use crate::hash::Hash;
use crate::index::{Index, IndexBackend, MemIndex};
use crate::ledger::{self, DamageKind};
use crate::store::Store;

/// What kind of problem [`Store::verify`] found.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// A blob's bytes do not hash to its name.
    BlobCorrupt,
    /// A blob could not be read.
    BlobUnreadable,
    /// A file under `blobs/` that is not a correctly placed blob.
    StrayFile,
    /// A hash named by a ledger record has no blob.
    MissingBlob,
    /// A blob no ledger record names.
    OrphanBlob,
    /// A ledger line fails its checksum or does not parse.
    LedgerChecksum,
    /// A ledger record's seq/prev do not follow from its predecessor.
    LedgerChain,
    /// The ledger ends in an incomplete record (normally truncated on open).
    LedgerTornTail,
    /// The ledger on disk differs from what this handle committed.
    LedgerChanged,
    /// The index disagrees with the ledger.
    IndexMismatch,
    /// A commit intent or staging dir is left over although no commit is running.
    Leftover,
    /// A pack or bundle a record names is malformed, or holds an object that does not hash to its name
    /// or does not decode.
    PackMalformed,
    /// A tree object refers to a child or part that no pack named by the same or an earlier
    /// record holds (or that is the wrong kind of object).
    NodeMissing,
}

/// One problem found by [`Store::verify`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub hash: Option<Hash>,
    pub seq: Option<u64>,
    pub path: Option<PathBuf>,
    pub message: String,
}

/// Result of [`Store::verify`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct VerifyReport {
    pub problems: Vec<Problem>,
    /// Ledger records read (including damaged lines).
    pub records: u64,
    /// Blob files re-hashed.
    pub blobs: u64,
    /// Bytes re-hashed.
    pub bytes: u64,
    /// Distinct hashes named by the ledger.
    pub referenced: u64,
    /// Blobs no record names.
    pub orphans: u64,
    /// Tree packs checked.
    #[serde(default)]
    pub packs: u64,
    /// Tree objects (nodes and parts) in those packs.
    #[serde(default)]
    pub tree_objects: u64,
    /// Bundles checked.
    #[serde(default)]
    pub bundles: u64,
    /// Blobs in those bundles (each checked against its hash; their bytes count in `bytes`).
    #[serde(default)]
    pub bundled_blobs: u64,
}

impl VerifyReport {
    /// No problems at all (orphans count as problems).
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// Problems of one kind.
    pub fn of_kind(&self, kind: ProblemKind) -> Vec<&Problem> {
        self.problems.iter().filter(|p| p.kind == kind).collect()
    }

    pub(crate) fn push(&mut self, kind: ProblemKind, hash: Option<Hash>, seq: Option<u64>, path: Option<PathBuf>, message: String) {
        self.problems.push(Problem { kind, hash, seq, path, message });
    }
}

impl Store {
    /// Re-hash every blob, check every ledger record's checksum and the chain, check that
    /// every hash a record names exists and is intact, report orphan blobs, check every tree
    /// pack a record names (objects, references between them: every tree reachable from a
    /// record resolves), and check that the indexes agree with the ledger. Takes the writer
    /// mutex (do not call while holding a [`crate::Txn`] on the same thread). Errors only if
    /// the store cannot be read at all.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let _w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut rep = VerifyReport::default();
        let ledger_path = self.ledger_path();

        // ledger: rescan from disk, all of it
        let mut refs: BTreeMap<Hash, u64> = BTreeMap::new();
        let expected = MemIndex::default();
        let mut n_ok = 0u64;
        let mut derived: Vec<(u64, Vec<Hash>)> = Vec::new();
        // Tree roots (ExpressionEntry.tekst and .herkomst): each must be a node some pack holds.
        let mut roots: Vec<(u64, Hash)> = Vec::new();
        let scan = ledger::scan(&ledger_path, None, &mut |r, h| {
            n_ok += 1;
            roots.extend(r.rec.effects.expressions.iter().flat_map(|e| e.tekst.into_iter().chain(e.herkomst)).map(|h| (r.seq, h)));
            if !r.rec.derived.is_empty() {
                derived.push((r.seq, r.rec.derived.clone()));
            }
            for x in r.rec.referenced_hashes() {
                refs.entry(x).or_insert(r.seq);
            }
            expected.apply(r, h)
        })?;
        for r in &scan.beyond {
            for x in r.rec.referenced_hashes() {
                refs.entry(x).or_insert(r.seq);
            }
        }
        rep.records = n_ok + scan.beyond.len() as u64 + scan.damage.iter().filter(|d| d.kind == DamageKind::Checksum).count() as u64;
        for d in &scan.damage {
            let kind = match d.kind {
                DamageKind::Checksum => ProblemKind::LedgerChecksum,
                DamageKind::Chain => ProblemKind::LedgerChain,
            };
            let seq = d.seq.or(Some(d.after_seq + 1));
            rep.push(kind, None, seq, Some(ledger_path.clone()), format!("at byte {}: {}", d.offset, d.message));
        }
        if let Some((off, n)) = scan.torn
            && !self.is_read_only()
        {
            rep.push(
                ProblemKind::LedgerTornTail,
                None,
                None,
                Some(ledger_path.clone()),
                format!("incomplete record of {n} bytes at byte {off}"),
            );
        }
        if !self.is_read_only() {
            let st = self.ledger_read();
            let mem_last = st.slots.last().map(|s| s.hash);
            let disk_last = scan.slots.get(st.slots.len().wrapping_sub(1)).map(|s| s.hash);
            if scan.damage.is_empty() && (scan.slots.len() != st.slots.len() || mem_last != disk_last) {
                rep.push(
                    ProblemKind::LedgerChanged,
                    None,
                    None,
                    Some(ledger_path.clone()),
                    format!(
                        "ledger on disk has {} intact records, this handle committed {}",
                        scan.slots.len(),
                        st.slots.len()
                    ),
                );
            }
        }
        rep.referenced = refs.len() as u64;

        // blobs: walk and re-hash
        let blobs = self.blobs_dir();
        let mut present: BTreeSet<Hash> = BTreeSet::new();
        let mut bad: BTreeSet<Hash> = BTreeSet::new();
        let mut fan: Vec<_> = match fs::read_dir(&blobs) {
            Ok(rd) => rd.collect::<Result<Vec<_>, _>>().map_err(StoreError::io(&blobs))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(StoreError::io(&blobs)(e)),
        };
        fan.sort_by_key(|e| e.file_name());
        for d in fan {
            let dp = d.path();
            let dname = d.file_name().to_string_lossy().into_owned();
            if !dp.is_dir() || dname.len() != 2 {
                rep.push(ProblemKind::StrayFile, None, None, Some(dp), "unexpected entry in blobs/".into());
                continue;
            }
            let mut files: Vec<_> =
                fs::read_dir(&dp).map_err(StoreError::io(&dp))?.collect::<Result<Vec<_>, _>>().map_err(StoreError::io(&dp))?;
            files.sort_by_key(|e| e.file_name());
            for f in files {
                let fp = f.path();
                let name = f.file_name().to_string_lossy().into_owned();
                let h = match name.parse::<Hash>() {
                    Ok(h) if name == h.to_hex() && name.starts_with(&dname) && fp.is_file() => h,
                    _ => {
                        rep.push(ProblemKind::StrayFile, None, None, Some(fp), "not a blob (bad name or place)".into());
                        continue;
                    }
                };
                present.insert(h);
                rep.blobs += 1;
                match fsutil::hash_file(&fp) {
                    Ok((actual, n)) => {
                        rep.bytes += n;
                        if actual != h {
                            bad.insert(h);
                            let by = refs.get(&h).map(|s| format!("; referenced by seq {s}")).unwrap_or_default();
                            rep.push(
                                ProblemKind::BlobCorrupt,
                                Some(h),
                                refs.get(&h).copied(),
                                Some(fp),
                                format!("content hashes to {actual}{by}"),
                            );
                        }
                    }
                    Err(e) => {
                        bad.insert(h);
                        rep.push(ProblemKind::BlobUnreadable, Some(h), refs.get(&h).copied(), Some(fp), e.to_string());
                    }
                }
            }
        }

        // bundles: every blob in them checked; the blob index
        let bundled = crate::bundle::verify_bundles(self, &derived, &bad, &mut rep)?;

        // references and orphans
        for (h, seq) in &refs {
            if present.contains(h) {
                continue;
            }
            match bundled.get(h) {
                Some(b) if b.seq <= *seq => {}
                Some(b) => rep.push(
                    ProblemKind::MissingBlob,
                    Some(*h),
                    Some(*seq),
                    Some(self.blob_path(&b.loc.pack)),
                    format!("named by seq {seq} but only in a bundle of seq {}", b.seq),
                ),
                None => rep.push(
                    ProblemKind::MissingBlob,
                    Some(*h),
                    Some(*seq),
                    Some(self.blob_path(h)),
                    format!("named by seq {seq} but not stored"),
                ),
            }
        }
        for h in present.iter().filter(|h| !refs.contains_key(h)) {
            rep.orphans += 1;
            rep.push(
                ProblemKind::OrphanBlob,
                Some(*h),
                None,
                Some(self.blob_path(h)),
                "no ledger record names this blob".into(),
            );
        }
        let mut in_bundles: Vec<(&Hash, &crate::bundle::Bundled)> =
            bundled.iter().filter(|(h, _)| !refs.contains_key(h) && !present.contains(h)).collect();
        in_bundles.sort_by_key(|(h, _)| **h);
        for (h, b) in in_bundles {
            rep.orphans += 1;
            rep.push(
                ProblemKind::OrphanBlob,
                Some(*h),
                Some(b.seq),
                Some(self.blob_path(&b.loc.pack)),
                format!("in bundle {}, but no ledger record names this blob", b.loc.pack),
            );
        }

        // leftovers (a read-only handle cannot tell them from another process's live commit)
        if !self.is_read_only() {
            let intent = self.dir().join("commit.intent");
            if intent.exists() {
                rep.push(ProblemKind::Leftover, None, None, Some(intent), "commit intent without a running commit".into());
            }
            if let Ok(rd) = fs::read_dir(self.staging_dir()) {
                for e in rd.flatten() {
                    rep.push(ProblemKind::Leftover, None, None, Some(e.path()), "staging entry without a running transaction".into());
                }
            }
        }

        // trees: packs, references between objects, node index
        crate::tree::verify::verify_trees(self, &derived, &roots, &bad, &mut rep)?;

        // index vs ledger
        for m in compare_indexes(&expected, self.index())? {
            rep.push(ProblemKind::IndexMismatch, None, m.0, None, m.1);
        }
        Ok(rep)
    }
}

/// Differences between the expected index (derived from the ledger now) and the live one.
fn compare_indexes(want: &MemIndex, got: &dyn Index) -> Result<Vec<(Option<u64>, String)>, StoreError> {
    let mut out = Vec::new();
    let (ws, gs) = (want.last_seq()?, got.last_seq()?);
    if ws != gs {
        out.push((Some(gs), format!("index last seq {gs}, ledger last seq {ws}")));
    }
    for seq in 1..=ws.max(gs) {
        let (w, g) = (want.delivery(seq)?, got.delivery(seq)?);
        if w != g {
            out.push((Some(seq), format!("delivery {seq}: index has {g:?}, ledger says {w:?}")));
        }
        if let Some(d) = w.as_ref().or(g.as_ref()) {
            let (wl, gl) = (
                want.delivery_by_levering(&d.aanleveraar, &d.id_levering)?,
                got.delivery_by_levering(&d.aanleveraar, &d.id_levering)?,
            );
            if wl != gl {
                out.push((
                    Some(seq),
                    format!("delivery ({}, {}): index says seq {gl:?}, ledger {wl:?}", d.aanleveraar, d.id_levering),
                ));
            }
        }
    }
    let (ww, gw) = (want.works()?, got.works()?);
    if ww != gw {
        out.push((None, format!("works differ: index has {} works, ledger implies {}", gw.len(), ww.len())));
    }
    let (we, ge) = (want.expressions()?, got.expressions()?);
    if we != ge {
        out.push((None, format!("expressions differ: index has {}, ledger implies {}", ge.len(), we.len())));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Effects, NewRecord, WorkEntry};

    fn commit(s: &Store, id: &str, work: &str) {
        let mut t = s.begin().unwrap();
        let pkg = t.put_blob(id.as_bytes()).unwrap();
        let mut fx = Effects::default();
        fx.works.push(WorkEntry {
            work: work.into(),
            soort_work: None,
            kind: "regeling".into(),
            title: None,
            bevoegd_gezag: None,
            owner_oin: None,
        });
        t.commit(NewRecord {
            received_at: "2024-01-01T00:00:00Z".into(),
            aanleveraar: "oin".into(),
            bevoegd_gezag: "oin".into(),
            id_levering: id.into(),
            opdracht: "publicatieOpdracht".into(),
            package_hash: pkg,
            files: vec![],
            outcome: "gepubliceerd".into(),
            report: None,
            derived: vec![],
            effects: fx,
        })
        .unwrap();
    }

    #[test]
    fn verify_detects_index_that_disagrees_with_ledger() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        commit(&s, "a", "/w/1");
        commit(&s, "b", "/w/2");
        assert!(s.verify().unwrap().is_clean());
        // roll the index back to only the first record
        let first = ledger::read_all(&s.ledger_path(), u64::MAX).unwrap().into_iter().take(1).map(Ok);
        s.index.rebuild(&mut first.collect::<Vec<_>>().into_iter()).unwrap();
        let rep = s.verify().unwrap();
        let mm = rep.of_kind(ProblemKind::IndexMismatch);
        assert!(!mm.is_empty(), "{rep:#?}");
        assert!(mm.iter().any(|p| p.message.contains("last seq")));
        assert!(mm.iter().any(|p| p.message.contains("works differ")));
        // the next commit catches the index up first, then verify is clean again
        commit(&s, "c", "/w/3");
        assert!(s.verify().unwrap().is_clean());
        assert_eq!(s.index().works().unwrap().len(), 3);
    }

    #[test]
    fn ledger_line_round_trip_and_damage() {
        let rec = crate::model::LedgerRecord {
            seq: 1,
            prev: Hash::ZERO,
            rec: NewRecord {
                received_at: "t".into(),
                aanleveraar: "o".into(),
                bevoegd_gezag: "b".into(),
                id_levering: "line\nbreak".into(),
                opdracht: "x".into(),
                package_hash: Hash::of(b"p"),
                files: vec![],
                outcome: "ok".into(),
                report: None,
                derived: vec![],
                effects: Effects::default(),
            },
        };
        let (line, h) = ledger::encode(&rec).unwrap();
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1, "one line per record");
        assert_eq!(ledger::decode(&line).unwrap(), (rec, h));
        let mut bad = line.clone();
        bad[70] ^= 1;
        assert!(ledger::decode(&bad).unwrap_err().contains("checksum"));
        assert!(ledger::decode(b"short\n").is_err());
    }
}
