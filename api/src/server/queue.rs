//! The durable delivery queue, in `<data>/queue/`.
//!
//! ```text
//! queue/tmp/<id>/levering.zip       an upload being received (removed on start)
//! queue/pending/<id>/levering.zip   acknowledged (202), waiting or being processed
//! queue/pending/<id>/meta.json      who sent it and when
//! queue/done/<id>.json              final: meta plus the pipeline's result
//! ```
//!
//! **Acknowledge.** An upload is streamed into `tmp/<id>/`; the zip and `meta.json` are
//! fsynced, the directory is renamed to `pending/<id>` and `pending/` is fsynced. Only then does
//! the server answer 202: an acknowledged delivery is on disk.
//!
//! **Process exactly once.** The worker runs pending entries in id order through
//! `ingest::pipeline::ingest_many` (which commits them to the store in groups); then it writes
//! `done/<id>.json` for each (tmp, rename; one filesystem sync for the batch) and only then
//! removes the `pending/<id>` directories. A crash between the store commit and the done file leaves the entry pending;
//! processing it again finds the same package (same aanleveraar, idLevering and package hash)
//! already in the ledger and returns the earlier result without storing anything (`herhaald`),
//! so the ledger holds every delivery once. A crash between the done file and the removal
//! leaves both; [`Queue::open`] removes the pending copy.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

pub const PACKAGE: &str = "levering.zip";
const META: &str = "meta.json";

#[derive(Debug, thiserror::Error)]
#[error("queue {path}: {source}")]
pub struct QueueError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> QueueError + '_ {
    move |source| QueueError { path: path.display().to_string(), source }
}

/// Who delivered an entry, and when.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub id: String,
    /// RFC 3339 (UTC) receipt time.
    pub ontvangen: String,
    /// OIN of the authenticated aanleveraar.
    pub aanleveraar: String,
    pub bytes: u64,
}

/// A processed entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Done {
    #[serde(flatten)]
    pub meta: Meta,
    /// RFC 3339 (UTC) time processing finished.
    pub verwerkt: String,
    pub resultaat: ingest::IngestResult,
}

/// Where an entry is.
#[derive(Debug, Clone)]
pub enum Entry {
    Pending(Meta),
    Done(Box<Done>),
}

pub struct Queue {
    dir: PathBuf,
    last_id: Mutex<u64>,
}

/// Queue ids: `lv` + 16 hex digits (microseconds since the epoch, strictly increasing), so they
/// sort in arrival order and cannot be confused with ledger sequence numbers.
pub fn valid_id(id: &str) -> bool {
    id.len() == 18 && id.starts_with("lv") && id[2..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn id_number(id: &str) -> Option<u64> {
    valid_id(id).then(|| u64::from_str_radix(&id[2..], 16).ok()).flatten()
}

fn sync_dir(dir: &Path) -> Result<(), QueueError> {
    File::open(dir).and_then(|f| f.sync_all()).map_err(io(dir))
}

fn names(dir: &Path) -> Result<Vec<String>, QueueError> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(io(dir))? {
        let e = e.map_err(io(dir))?;
        if let Some(n) = e.file_name().to_str() {
            out.push(n.to_string());
        }
    }
    out.sort();
    Ok(out)
}

impl Queue {
    /// Open (creating) the queue under `data_dir`, clean interrupted uploads and finished
    /// entries whose pending copy survived a crash.
    pub fn open(data_dir: &Path) -> Result<Queue, QueueError> {
        let dir = data_dir.join("queue");
        for sub in ["tmp", "pending", "done"] {
            let d = dir.join(sub);
            fs::create_dir_all(&d).map_err(io(&d))?;
        }
        let tmp = dir.join("tmp");
        for n in names(&tmp)? {
            let p = tmp.join(&n);
            let r = if p.is_dir() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
            r.map_err(io(&p))?;
        }
        let q = Queue { dir, last_id: Mutex::new(0) };
        let mut last = 0;
        for n in names(&q.dir.join("done"))? {
            if let Some(id) = n.strip_suffix(".json").and_then(id_number) {
                last = last.max(id);
            }
        }
        for n in names(&q.dir.join("pending"))? {
            if let Some(id) = id_number(&n) {
                last = last.max(id);
                if q.done_path(&n).exists() {
                    let p = q.dir.join("pending").join(&n);
                    fs::remove_dir_all(&p).map_err(io(&p))?;
                }
            }
        }
        sync_dir(&q.dir.join("pending"))?;
        *q.last_id.lock().unwrap_or_else(|p| p.into_inner()) = last;
        Ok(q)
    }

    /// A new id, later than every id so far.
    pub fn new_id(&self) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        let mut last = self.last_id.lock().unwrap_or_else(|p| p.into_inner());
        *last = (*last + 1).max(now);
        format!("lv{:016x}", *last)
    }

    /// A fresh directory for an upload in progress; the package goes to `<dir>/levering.zip`.
    pub fn tmp_dir(&self, id: &str) -> Result<PathBuf, QueueError> {
        let d = self.dir.join("tmp").join(id);
        fs::create_dir_all(&d).map_err(io(&d))?;
        Ok(d)
    }

    /// Remove an upload that is not acknowledged (refused, too large, broken off).
    pub fn discard(&self, id: &str) {
        let d = self.dir.join("tmp").join(id);
        if let Err(e) = fs::remove_dir_all(&d)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %d.display(), error = %e, "could not remove a discarded upload");
        }
    }

    /// Make an upload durable and pending. The package file must already be fsynced.
    pub fn acknowledge(&self, meta: &Meta) -> Result<(), QueueError> {
        let tmp = self.dir.join("tmp").join(&meta.id);
        write_durable(&tmp.join(META), &serde_json::to_vec_pretty(meta).expect("meta serialises"))?;
        sync_dir(&tmp)?;
        let pending = self.dir.join("pending");
        let to = pending.join(&meta.id);
        fs::rename(&tmp, &to).map_err(io(&to))?;
        sync_dir(&pending)
    }

    /// Pending ids in arrival order.
    pub fn pending(&self) -> Result<Vec<String>, QueueError> {
        Ok(names(&self.dir.join("pending"))?.into_iter().filter(|n| valid_id(n)).collect())
    }

    pub fn package_path(&self, id: &str) -> PathBuf {
        self.dir.join("pending").join(id).join(PACKAGE)
    }

    fn done_path(&self, id: &str) -> PathBuf {
        self.dir.join("done").join(format!("{id}.json"))
    }

    pub fn meta(&self, id: &str) -> Result<Option<Meta>, QueueError> {
        let p = self.dir.join("pending").join(id).join(META);
        match fs::read(&p) {
            Ok(b) => Ok(serde_json::from_slice(&b).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&p)(e)),
        }
    }

    /// Record the final results of entries, then drop their packages. Every done file is
    /// durable before any pending copy is removed (one `syncfs` on Linux for the whole set,
    /// else an fsync per file); a crash in between leaves both, and [`Queue::open`] removes the
    /// pending copy.
    pub fn finish(&self, done: &[Done]) -> Result<(), QueueError> {
        if done.is_empty() {
            return Ok(());
        }
        let per_file = !cfg!(target_os = "linux");
        for d in done {
            write_file(&self.done_path(&d.meta.id), &serde_json::to_vec_pretty(d).expect("result serialises"), per_file)?;
        }
        let done_dir = self.dir.join("done");
        sync_dir(&done_dir)?;
        #[cfg(target_os = "linux")]
        {
            let f = File::open(&done_dir).map_err(io(&done_dir))?;
            // SAFETY: syncfs on a valid open file descriptor.
            if unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&f)) } != 0 {
                return Err(io(&done_dir)(std::io::Error::last_os_error()));
            }
        }
        for d in done {
            let p = self.dir.join("pending").join(&d.meta.id);
            fs::remove_dir_all(&p).map_err(io(&p))?;
        }
        Ok(())
    }

    /// The entry with this id, pending or done.
    pub fn get(&self, id: &str) -> Result<Option<Entry>, QueueError> {
        if !valid_id(id) {
            return Ok(None);
        }
        let p = self.done_path(id);
        match fs::read(&p) {
            Ok(b) => {
                let d: Done = serde_json::from_slice(&b)
                    .map_err(|e| io(&p)(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
                return Ok(Some(Entry::Done(Box::new(d))));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&p)(e)),
        }
        Ok(self.meta(id)?.map(Entry::Pending))
    }
}

/// Write a file durably: temp file, fsync, rename (the caller fsyncs the directory).
fn write_durable(path: &Path, bytes: &[u8]) -> Result<(), QueueError> {
    write_file(path, bytes, true)
}

/// Temp file, optionally fsync, rename.
fn write_file(path: &Path, bytes: &[u8], fsync: bool) -> Result<(), QueueError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    if fsync {
        f.sync_all().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(q: &Queue) -> Meta {
        Meta { id: q.new_id(), ontvangen: "2027-03-01T00:00:00Z".into(), aanleveraar: "1".repeat(20), bytes: 3 }
    }

    #[test]
    fn ids_increase_and_survive_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let q = Queue::open(tmp.path()).unwrap();
        let m = meta(&q);
        std::fs::write(q.tmp_dir(&m.id).unwrap().join(PACKAGE), b"zip").unwrap();
        q.acknowledge(&m).unwrap();
        let b = q.new_id();
        assert!(b > m.id && valid_id(&b));
        drop(q);
        let q = Queue::open(tmp.path()).unwrap();
        assert_eq!(q.pending().unwrap(), vec![m.id.clone()]);
        assert!(q.new_id() > m.id);
        assert!(matches!(q.get(&m.id).unwrap(), Some(Entry::Pending(x)) if x == m));
    }

    #[test]
    fn open_drops_unacknowledged_uploads_and_finished_pending_copies() {
        let tmp = tempfile::tempdir().unwrap();
        let q = Queue::open(tmp.path()).unwrap();
        let a = meta(&q);
        std::fs::write(q.tmp_dir(&a.id).unwrap().join(PACKAGE), b"zip").unwrap();
        q.acknowledge(&a).unwrap();
        // Simulate a crash after the done file was written but before the pending copy went.
        let result: ingest::IngestResult = serde_json::from_value(serde_json::json!({
            "bron": "x", "idLevering": null, "opdracht": null, "uitkomst": "niet-valide", "meldingen": [],
            "seq": null, "herhaald": false, "packageHash": null, "works": [], "expressions": []
        }))
        .unwrap();
        let done = Done { meta: a.clone(), verwerkt: "2027-03-01T00:00:01Z".into(), resultaat: result };
        write_durable(&q.done_path(&a.id), &serde_json::to_vec(&done).unwrap()).unwrap();
        let b = meta(&q);
        std::fs::write(q.tmp_dir(&b.id).unwrap().join(PACKAGE), b"half").unwrap();
        drop(q);
        let q = Queue::open(tmp.path()).unwrap();
        assert!(q.pending().unwrap().is_empty());
        assert!(matches!(q.get(&a.id).unwrap(), Some(Entry::Done(_))));
        assert!(q.get(&b.id).unwrap().is_none());
        assert!(!tmp.path().join("queue/tmp").join(&b.id).exists());
    }

    #[test]
    fn ids_are_checked_before_touching_the_disk() {
        assert!(!valid_id("../../etc/passwd"));
        assert!(!valid_id("lv0000000000000000/"));
        assert!(valid_id("lv00000000000000ff"));
    }
}
