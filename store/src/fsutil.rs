//! Small filesystem helpers with typed errors.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::Path;

use crate::error::StoreError;
use crate::hash::{Hash, Hasher};

/// fsync a directory so renames/creates/unlinks in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|f| f.sync_all()).map_err(StoreError::io(dir))
}

/// Make everything written to the filesystem holding `path` durable: file data, new
/// directories and renames. One `syncfs(2)` on Linux instead of an fsync per file and per
/// directory; this is what makes group commit cheap.
pub(crate) fn sync_filesystem(path: &Path) -> Result<(), StoreError> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let f = File::open(path).map_err(StoreError::io(path))?;
        // SAFETY: syncfs only reads the file descriptor, which `f` keeps open.
        let r = unsafe { libc::syncfs(f.as_raw_fd()) };
        if r != 0 {
            return Err(StoreError::io(path)(io::Error::last_os_error()));
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        // SAFETY: sync(2) takes no arguments and cannot fail.
        unsafe { libc::sync() };
        let _ = path;
        Ok(())
    }
}

/// Start writing a file's dirty pages to disk without waiting (Linux `sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`), so a large staged blob is mostly on disk by the time the commit's
/// filesystem sync waits for it. Only a hint: durability still comes from that sync; errors are
/// ignored (the sync reports real ones).
pub(crate) fn start_writeback(f: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: sync_file_range only reads the descriptor, which `f` keeps open.
        let _ = unsafe { libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = f;
}

/// Files at least this large get [`start_writeback`] when staged.
pub(crate) const WRITEBACK_FROM: u64 = 4 << 20;

pub(crate) fn create_dir_durable(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Write `bytes` to `path` atomically: `<path>.tmp`, fsync, rename, fsync dir.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    {
        let mut f = File::create(&tmp).map_err(StoreError::io(&tmp))?;
        f.write_all(bytes).map_err(StoreError::io(&tmp))?;
        f.sync_all().map_err(StoreError::io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(StoreError::io(path))?;
    if let Some(parent) = path.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Hash a file's content, streaming. Returns (hash, size).
pub(crate) fn hash_file(path: &Path) -> io::Result<(Hash, u64)> {
    let mut f = File::open(path)?;
    hash_reader(&mut f, &mut io::sink())
}

/// Hash everything `r` yields while copying it to `w`. Returns (hash, size).
pub(crate) fn hash_reader(r: &mut dyn Read, w: &mut dyn Write) -> io::Result<(Hash, u64)> {
    let mut h = Hasher::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..k]);
        w.write_all(&buf[..k])?;
        n += k as u64;
    }
    Ok((h.finish(), n))
}

/// Remove a file; missing is fine.
pub(crate) fn remove_file_if_exists(path: &Path) -> Result<bool, StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io(path)(e)),
    }
}

/// Read exactly `buf.len()` bytes at `offset`.
#[cfg(unix)]
pub(crate) fn read_exact_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    f.read_exact_at(buf, offset)
}

/// Read exactly `buf.len()` bytes at `offset`.
#[cfg(not(unix))]
pub(crate) fn read_exact_at(mut f: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}
