//! Memory stays bounded when a zip bomb or a lying header is read: a counting allocator records
//! the peak heap use while the package is opened and read. One test per binary, so no other
//! test allocates concurrently.

use ingest::package::{Limits, Package};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use zip::write::SimpleFileOptions;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn reset_peak() -> usize {
    let now = CURRENT.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

fn zeros_zip(path: &std::path::Path, size: u64) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = zip::ZipWriter::new(f);
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    w.start_file("bom.xml", opts).unwrap();
    let chunk = vec![0u8; 1024 * 1024];
    for _ in 0..size / chunk.len() as u64 {
        w.write_all(&chunk).unwrap();
    }
    w.finish().unwrap();
}

fn patch_declared_size(zip: &mut [u8], new_size: u32) {
    // Single entry: local header at 0, central header found by signature.
    zip[22..26].copy_from_slice(&new_size.to_le_bytes());
    let cd = zip.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
    zip[cd + 24..cd + 28].copy_from_slice(&new_size.to_le_bytes());
}

#[test]
fn bombs_do_not_expand_in_memory() {
    const MIB: usize = 1024 * 1024;
    let tmp = tempfile::tempdir().unwrap();

    // 1. A 200 MiB bomb: refused at open from its metadata.
    let bomb = tmp.path().join("bom.zip");
    zeros_zip(&bomb, 200 * MIB as u64);
    let base = reset_peak();
    let err = Package::open(&bomb, &Limits::default()).unwrap_err();
    assert!(err.has_code("LVBB1041") && err.has_code("RB1106"), "{err}");
    let peak = PEAK.load(Ordering::Relaxed) - base;
    assert!(peak < 4 * MIB, "opening the bomb used {peak} bytes");

    // 2. The same 200 MiB of zeros, but the headers claim 40 MiB (under the file limit and
    //    with a harmless-looking ratio): open accepts, read stops at the claimed size + 1.
    let mut bytes = std::fs::read(&bomb).unwrap();
    patch_declared_size(&mut bytes, 40 * MIB as u32);
    let lie = tmp.path().join("leugen.zip");
    std::fs::write(&lie, &bytes).unwrap();
    drop(bytes);
    let pkg = Package::open(&lie, &Limits::default()).unwrap();
    // Streaming hash: no buffer of the file at all.
    let base = reset_peak();
    let err = pkg.sha256("bom.xml").unwrap_err();
    assert!(err.has_code("RB1108"), "{err}");
    let peak = PEAK.load(Ordering::Relaxed) - base;
    assert!(peak < 4 * MIB, "hashing the lying entry used {peak} bytes");
    // Reading into a Vec: bounded by the declared size (40 MiB; at most twice that while the
    // buffer grows), never the 200 MiB.
    let base = reset_peak();
    let err = pkg.read("bom.xml").unwrap_err();
    assert!(err.has_code("RB1108"), "{err}");
    let peak = PEAK.load(Ordering::Relaxed) - base;
    assert!(
        peak < 100 * MIB,
        "reading the lying entry used {peak} bytes"
    );

    // 3. Claimed 1000 bytes: read allocates next to nothing.
    let mut bytes = std::fs::read(&bomb).unwrap();
    patch_declared_size(&mut bytes, 1000);
    let pkg = Package::from_zip_bytes(bytes, &Limits::default()).unwrap();
    let base = reset_peak();
    let err = pkg.read("bom.xml").unwrap_err();
    assert!(err.has_code("RB1108"), "{err}");
    let peak = PEAK.load(Ordering::Relaxed) - base;
    assert!(
        peak < 2 * MIB,
        "reading a 1000-byte claim used {peak} bytes"
    );
}
