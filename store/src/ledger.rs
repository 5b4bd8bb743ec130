//! The append-only ledger file.
//!
//! One record per line: `<sha256 hex of JSON> <JSON of LedgerRecord>\n`. The hash is the
//! record's checksum and the value the next record carries as `prev`. serde_json never emits a
//! raw newline, so `\n` frames records; a final segment without `\n` is a torn append.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::StoreError;
use crate::hash::Hash;
use crate::model::LedgerRecord;

/// Encode a record as one ledger line; returns (line, record hash).
pub(crate) fn encode(rec: &LedgerRecord) -> Result<(Vec<u8>, Hash), StoreError> {
    let json = serde_json::to_vec(rec).map_err(StoreError::serde("ledger record"))?;
    let h = Hash::of(&json);
    let mut line = Vec::with_capacity(json.len() + 66);
    line.extend_from_slice(h.to_hex().as_bytes());
    line.push(b' ');
    line.extend_from_slice(&json);
    line.push(b'\n');
    Ok((line, h))
}

/// Decode one line (with or without its trailing newline). Errors are human-readable.
pub(crate) fn decode(line: &[u8]) -> Result<(LedgerRecord, Hash), String> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    if line.len() < 66 || line[64] != b' ' {
        return Err("malformed record line (no checksum prefix)".into());
    }
    let want: Hash = std::str::from_utf8(&line[..64])
        .map_err(|_| "checksum is not ASCII".to_string())?
        .parse()
        .map_err(|e| format!("bad checksum field: {e}"))?;
    let json = &line[65..];
    let got = Hash::of(json);
    if got != want {
        return Err(format!("checksum mismatch: line says {want}, content hashes to {got}"));
    }
    let rec: LedgerRecord = serde_json::from_slice(json).map_err(|e| format!("record JSON does not parse: {e}"))?;
    Ok((rec, got))
}

/// Where a record lives in the ledger file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub offset: u64,
    pub len: u64,
    pub hash: Hash,
}

/// A damaged spot found by [`scan`].
#[derive(Clone, Debug)]
pub(crate) struct Damage {
    pub offset: u64,
    /// seq of the last good record before it (0 = none)
    pub after_seq: u64,
    /// seq the damaged line claims, if it parses
    pub seq: Option<u64>,
    pub kind: DamageKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DamageKind {
    /// Checksum or JSON failure.
    Checksum,
    /// seq/prev do not follow from the previous record.
    Chain,
}

#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Records of the intact prefix (before the first damage).
    pub slots: Vec<Slot>,
    /// Byte length of the intact prefix.
    pub valid_len: u64,
    /// Offset and length of a final segment without newline (torn append), if any.
    pub torn: Option<(u64, u64)>,
    /// Every damaged line (the scan continues past damage to report all of it).
    pub damage: Vec<Damage>,
    /// Total file length.
    pub file_len: u64,
    /// Records with a valid checksum that follow damage (not part of the intact prefix).
    pub beyond: Vec<LedgerRecord>,
}

/// Read the whole ledger, calling `each` for every record of the intact prefix.
/// `limit` stops reading at that byte length (None = to the end of the file).
pub(crate) fn scan(
    path: &Path,
    limit: Option<u64>,
    each: &mut dyn FnMut(&LedgerRecord, Hash) -> Result<(), StoreError>,
) -> Result<Scan, StoreError> {
    let mut out = Scan::default();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(StoreError::io(path)(e)),
    };
    let file_len = file.metadata().map_err(StoreError::io(path))?.len();
    out.file_len = file_len;
    let mut r = BufReader::with_capacity(1 << 16, file.take(limit.unwrap_or(u64::MAX)));
    let mut offset = 0u64;
    let mut line = Vec::new();
    // chain state: last good record (seq, hash), even past damage, to resync
    let mut last: (u64, Hash) = (0, Hash::ZERO);
    let mut intact = true;
    // after an unreadable line the next record's prev cannot be checked
    let mut prev_unknown = false;
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line).map_err(StoreError::io(path))? as u64;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            out.torn = Some((offset, n));
            break;
        }
        match decode(&line) {
            Ok((rec, h)) => {
                let chain_ok = rec.seq == last.0 + 1 && (prev_unknown || rec.prev == last.1);
                prev_unknown = false;
                if !chain_ok {
                    out.damage.push(Damage {
                        offset,
                        after_seq: last.0,
                        seq: Some(rec.seq),
                        kind: DamageKind::Chain,
                        message: format!(
                            "record seq {} (prev {}) does not follow seq {} (hash {})",
                            rec.seq, rec.prev, last.0, last.1
                        ),
                    });
                    intact = false;
                    last = (rec.seq, h);
                    out.beyond.push(rec);
                } else if intact {
                    each(&rec, h)?;
                    out.slots.push(Slot { offset, len: n, hash: h });
                    out.valid_len = offset + n;
                    last = (rec.seq, h);
                } else {
                    last = (rec.seq, h);
                    out.beyond.push(rec);
                }
            }
            Err(message) => {
                out.damage.push(Damage { offset, after_seq: last.0, seq: None, kind: DamageKind::Checksum, message });
                intact = false;
                // resync: assume the damaged line was the next seq
                last = (last.0 + 1, Hash::ZERO);
                prev_unknown = true;
            }
        }
        offset += n;
    }
    if !intact {
        // the valid prefix ends at the first damage
    } else if out.torn.is_none() {
        out.valid_len = offset;
    }
    Ok(out)
}

/// Read one record at a known slot.
pub(crate) fn read_at(path: &Path, slot: &Slot) -> Result<LedgerRecord, StoreError> {
    let mut f = File::open(path).map_err(StoreError::io(path))?;
    f.seek(SeekFrom::Start(slot.offset)).map_err(StoreError::io(path))?;
    let mut buf = vec![0u8; slot.len as usize];
    f.read_exact(&mut buf).map_err(StoreError::io(path))?;
    match decode(&buf) {
        Ok((rec, h)) if h == slot.hash => Ok(rec),
        Ok((_, h)) => Err(StoreError::LedgerCorrupt {
            path: path.to_path_buf(),
            offset: slot.offset,
            after_seq: 0,
            message: format!("record changed on disk since open (hash {h}, expected {})", slot.hash),
        }),
        Err(message) => {
            Err(StoreError::LedgerCorrupt { path: path.to_path_buf(), offset: slot.offset, after_seq: 0, message })
        }
    }
}

/// Iterate the records of the first `len` bytes (which must be intact).
pub(crate) fn read_all(path: &Path, len: u64) -> Result<Vec<(LedgerRecord, Hash)>, StoreError> {
    let mut v = Vec::new();
    let s = scan(path, Some(len), &mut |r, h| {
        v.push((r.clone(), h));
        Ok(())
    })?;
    if let Some(d) = s.damage.first() {
        return Err(StoreError::LedgerCorrupt {
            path: path.to_path_buf(),
            offset: d.offset,
            after_seq: d.after_seq,
            message: d.message.clone(),
        });
    }
    Ok(v)
}
