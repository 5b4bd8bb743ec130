//! Package layer: real deliveries (as directory and as zip) and a programmatic bad-input corpus.

use ingest::package::{Limits, Package, PackageError, check_integrity, package_hash};
use std::io::Write;
use std::path::{Path, PathBuf};
use stop::manifest::parse_manifest;
use zip::write::SimpleFileOptions;

// ---------------------------------------------------------------------------------------------
// helpers

fn shared_root() -> PathBuf {
    match std::env::var_os("REGELBANK_SHARED") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

fn deliveries_root() -> PathBuf {
    shared_root().join("deliveries/geonovum-lvbb-test-repository")
}

fn codes(e: &PackageError) -> Vec<&str> {
    e.meldingen.iter().map(|m| m.code.as_str()).collect()
}

fn open_err(bytes: Vec<u8>) -> PackageError {
    open_err_with(bytes, &Limits::default())
}

fn open_err_with(bytes: Vec<u8>, limits: &Limits) -> PackageError {
    match Package::from_zip_bytes(bytes, limits) {
        Ok(p) => panic!("expected the package to be refused, got {:?}", p.names()),
        Err(e) => e,
    }
}

fn assert_only_code(e: &PackageError, code: &str) {
    assert!(
        !e.meldingen.is_empty() && e.meldingen.iter().all(|m| m.code == code),
        "expected only {code}, got {e}"
    );
}

fn integrity_codes(pkg: &Package) -> Vec<String> {
    let manifest = pkg
        .read("manifest.xml")
        .ok()
        .and_then(|b| parse_manifest(&b).ok());
    check_integrity(pkg, manifest.as_ref())
        .into_iter()
        .map(|m| m.code)
        .collect()
}

/// Zip files with the zip writer (deflate).
fn zip_files(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn zip_dir(dir: &Path, out: &Path) {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let f = std::fs::File::create(out).unwrap();
    let mut w = zip::ZipWriter::new(f);
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    // Reverse order: package order differs from the directory's, the hash must not.
    for n in names.iter().rev() {
        w.start_file(n.as_str(), opts).unwrap();
        w.write_all(&std::fs::read(dir.join(n)).unwrap()).unwrap();
    }
    w.finish().unwrap();
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One entry of a hand-built zip (stored unless `method` says otherwise).
#[derive(Clone)]
struct Raw {
    name: Vec<u8>,
    data: Vec<u8>,
    method: u16,
    flags: u16,
    /// Unix mode (file type + permissions) in the external attributes.
    mode: u32,
    /// Declared uncompressed size (default: data length).
    declared: Option<u32>,
    crc: Option<u32>,
    /// Point the central directory entry at another entry's local header.
    local_of: Option<usize>,
}

fn raw(name: &str, data: &[u8]) -> Raw {
    Raw {
        name: name.as_bytes().to_vec(),
        data: data.to_vec(),
        method: 0,
        flags: 0x0800, // UTF-8 names
        mode: 0o100644,
        declared: None,
        crc: None,
        local_of: None,
    }
}

/// Build a zip by hand, so that malformed archives the writer refuses can be made.
fn raw_zip(entries: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for e in entries {
        offsets.push(out.len() as u32);
        let crc = e.crc.unwrap_or_else(|| crc32(&e.data));
        let usize_ = e.declared.unwrap_or(e.data.len() as u32);
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&e.flags.to_le_bytes());
        out.extend_from_slice(&e.method.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0]); // time, date (1980-01-01)
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&usize_.to_le_bytes());
        out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&e.name);
        out.extend_from_slice(&e.data);
    }
    let cd_start = out.len() as u32;
    for (i, e) in entries.iter().enumerate() {
        let crc = e.crc.unwrap_or_else(|| crc32(&e.data));
        let usize_ = e.declared.unwrap_or(e.data.len() as u32);
        out.extend_from_slice(b"PK\x01\x02");
        out.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by unix
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&e.flags.to_le_bytes());
        out.extend_from_slice(&e.method.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&usize_.to_le_bytes());
        out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // extra, comment, disk, internal
        out.extend_from_slice(&(e.mode << 16).to_le_bytes());
        out.extend_from_slice(&offsets[e.local_of.unwrap_or(i)].to_le_bytes());
        out.extend_from_slice(&e.name);
    }
    let cd_size = out.len() as u32 - cd_start;
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

const OPDRACHT: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<publicatieOpdracht xmlns="http://www.overheid.nl/2017/lvbb">
  <idLevering>test-1</idLevering>
</publicatieOpdracht>
"#;

fn manifest_xml(names: &[&str]) -> Vec<u8> {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest xmlns=\"http://www.overheid.nl/2017/lvbb\">\n",
    );
    for n in names {
        s.push_str(&format!(
            "  <bestand>\n    <bestandsnaam>{n}</bestandsnaam>\n    <contentType>application/xml</contentType>\n  </bestand>\n"
        ));
    }
    s.push_str("</manifest>\n");
    s.into_bytes()
}

/// A small valid package, as (name, content) pairs.
fn good_files() -> Vec<(String, Vec<u8>)> {
    vec![
        ("opdracht.xml".into(), OPDRACHT.to_vec()),
        (
            "manifest.xml".into(),
            manifest_xml(&["opdracht.xml", "manifest.xml", "besluit.xml"]),
        ),
        ("besluit.xml".into(), b"<AanleveringBesluit/>".to_vec()),
    ]
}

fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let v: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    zip_files(&v)
}

// ---------------------------------------------------------------------------------------------
// real deliveries

fn delivery_dirs() -> Vec<PathBuf> {
    let root = deliveries_root();
    assert!(
        root.is_dir(),
        "{} not found; set REGELBANK_SHARED to the shared directory",
        root.display()
    );
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        if d.join("opdracht.xml").is_file() {
            out.push(d.clone());
        }
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn real_deliveries_as_directory_and_zip() {
    let dirs = delivery_dirs();
    assert!(
        dirs.len() >= 20,
        "expected the 20 test deliveries, found {}",
        dirs.len()
    );
    let tmp = tempfile::tempdir().unwrap();
    let limits = Limits::default();
    for (i, dir) in dirs.iter().enumerate() {
        let label = dir
            .strip_prefix(deliveries_root())
            .unwrap()
            .display()
            .to_string();
        let as_dir = Package::open(dir, &limits).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert!(!as_dir.is_zip());

        // Name it without .zip: zips are recognised by content.
        let zpath = tmp.path().join(format!("levering-{i}.bin"));
        zip_dir(dir, &zpath);
        let as_zip =
            Package::open(&zpath, &limits).unwrap_or_else(|e| panic!("{label} (zip): {e}"));
        assert!(as_zip.is_zip());

        let mut a = as_dir.names();
        let mut b = as_zip.names();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{label}");
        for e in as_zip.entries() {
            assert!(e.compressed_size.is_some());
            assert_eq!(
                Some(e.size),
                as_dir.entry(&e.name).map(|d| d.size),
                "{label} {}",
                e.name
            );
        }
        let h_dir = as_dir.hash().unwrap_or_else(|e| panic!("{label}: {e}"));
        let h_zip = as_zip
            .hash()
            .unwrap_or_else(|e| panic!("{label} (zip): {e}"));
        assert_eq!(
            h_dir, h_zip,
            "{label}: package hash differs between directory and zip"
        );
        // Bytes read back equal the files on disk.
        for n in as_zip.names() {
            assert_eq!(
                as_zip.read(n).unwrap(),
                std::fs::read(dir.join(n)).unwrap(),
                "{label} {n}"
            );
        }

        for pkg in [&as_dir, &as_zip] {
            let manifest_bytes = pkg.read("manifest.xml").unwrap();
            let manifest = parse_manifest(&manifest_bytes)
                .unwrap_or_else(|m| panic!("{label}: manifest: {m:?}"));
            let meldingen = check_integrity(pkg, Some(&manifest));
            if label == "TBO_UtrechtTest" {
                assert_eq!(meldingen.len(), 1, "{label}: {meldingen:?}");
                let m = &meldingen[0];
                assert_eq!(m.code, "LVBB1010");
                assert_eq!(
                    m.locatie.bestand.as_deref(),
                    Some("akn_nl_bill_pv26-3-2.xml")
                );
            } else {
                assert!(meldingen.is_empty(), "{label}: {meldingen:?}");
            }
        }
    }
}

#[test]
fn package_hash_is_order_independent_and_content_sensitive() {
    let a = [
        ("a.xml".to_string(), [1u8; 32]),
        ("b.xml".to_string(), [2u8; 32]),
    ];
    let b = [a[1].clone(), a[0].clone()];
    assert_eq!(package_hash(&a), package_hash(&b));
    let c = [
        ("a.xml".to_string(), [1u8; 32]),
        ("b.xml".to_string(), [3u8; 32]),
    ];
    assert_ne!(package_hash(&a), package_hash(&c));
    let d = [
        ("a.xml".to_string(), [1u8; 32]),
        ("c.xml".to_string(), [2u8; 32]),
    ];
    assert_ne!(package_hash(&a), package_hash(&d));
}

// ---------------------------------------------------------------------------------------------
// good synthetic package

#[test]
fn good_zip_is_clean_and_readable() {
    let files = good_files();
    let pkg = Package::from_zip_bytes(zip_of(&files), &Limits::default()).unwrap();
    assert!(pkg.is_zip());
    assert_eq!(
        pkg.names(),
        vec!["opdracht.xml", "manifest.xml", "besluit.xml"]
    );
    assert_eq!(pkg.read("besluit.xml").unwrap(), b"<AanleveringBesluit/>");
    // Reading twice is fine: the budget counts a file once.
    assert_eq!(pkg.read("besluit.xml").unwrap(), b"<AanleveringBesluit/>");
    assert!(integrity_codes(&pkg).is_empty());
    let err = pkg.read("bestaat-niet.xml").unwrap_err();
    assert_only_code(&err, "RB1111");
    // Display lists the meldingen.
    assert!(err.to_string().contains("RB1111"), "{err}");
}

#[test]
fn raw_builder_zip_is_accepted() {
    // Sanity check of the hand-built zips used below.
    let entries: Vec<Raw> = good_files().iter().map(|(n, d)| raw(n, d)).collect();
    let pkg = Package::from_zip_bytes(raw_zip(&entries), &Limits::default()).unwrap();
    assert_eq!(pkg.read("opdracht.xml").unwrap(), OPDRACHT);
    assert!(integrity_codes(&pkg).is_empty());
}

// ---------------------------------------------------------------------------------------------
// bad-input corpus: not a zip

#[test]
fn not_a_zip() {
    assert_only_code(
        &open_err(b"dit is geen zip-bestand maar platte tekst".to_vec()),
        "LVBB1001",
    );
    assert_only_code(&open_err(Vec::new()), "LVBB1001");
    assert_only_code(&open_err(b"PK\x03\x04".to_vec()), "LVBB1001");
    assert_only_code(&open_err(b"PK\x05\x06".to_vec()), "LVBB1001");
    // Via a path, with a .zip extension that lies.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("levering.zip");
    std::fs::write(&p, OPDRACHT).unwrap();
    assert_only_code(
        &Package::open(&p, &Limits::default()).unwrap_err(),
        "LVBB1001",
    );
    assert_only_code(
        &Package::open(&tmp.path().join("bestaat-niet.zip"), &Limits::default()).unwrap_err(),
        "LVBB1001",
    );
}

#[test]
fn truncated_zip() {
    let zip = zip_of(&good_files());
    for cut in [zip.len() / 2, zip.len() - 10, 30] {
        let err = open_err(zip[..cut].to_vec());
        assert_only_code(&err, "LVBB1001");
    }
}

#[test]
fn corrupt_data_in_zip_is_refused_on_read() {
    // Wrong CRC: the checksum is verified when the file is read to the end.
    let mut e = raw("besluit.xml", b"<AanleveringBesluit/>");
    e.crc = Some(0xDEAD_BEEF);
    let pkg = Package::from_zip_bytes(raw_zip(&[e]), &Limits::default()).unwrap();
    let err = pkg.read("besluit.xml").unwrap_err();
    assert_only_code(&err, "RB1108");
    assert_eq!(
        err.meldingen[0].locatie.bestand.as_deref(),
        Some("besluit.xml")
    );
}

// ---------------------------------------------------------------------------------------------
// names

#[test]
fn traversal_and_absolute_names() {
    for name in [
        "../evil.xml",
        "/etc/evil.xml",
        "a/../../evil.xml",
        "..\\evil.xml",
        "C:evil.xml",
        "evil\0.xml",
        "",
    ] {
        let mut entries: Vec<Raw> = good_files().iter().map(|(n, d)| raw(n, d)).collect();
        entries.push(raw(name, b"<x/>"));
        let err = open_err(raw_zip(&entries));
        assert_only_code(&err, "RB1101");
        assert_eq!(err.meldingen.len(), 1, "{name:?}: {err}");
        assert_eq!(err.meldingen[0].locatie.bestand.as_deref(), Some(name));
    }
}

#[test]
fn subdirectories_are_refused() {
    for name in ["map/besluit.xml", "map/"] {
        let mut entries: Vec<Raw> = good_files().iter().map(|(n, d)| raw(n, d)).collect();
        let mut e = raw(name, if name.ends_with('/') { b"" } else { b"<x/>" });
        if name.ends_with('/') {
            e.mode = 0o040755;
        }
        entries.push(e);
        assert_only_code(&open_err(raw_zip(&entries)), "RB1102");
    }
}

#[test]
fn duplicate_entries() {
    let mut entries: Vec<Raw> = good_files().iter().map(|(n, d)| raw(n, d)).collect();
    entries.push(raw("besluit.xml", b"<AnderBesluit/>"));
    let err = open_err(raw_zip(&entries));
    assert_only_code(&err, "LVBB1042");
    assert_eq!(err.meldingen.len(), 1);
    assert_eq!(
        err.meldingen[0].locatie.bestand.as_deref(),
        Some("besluit.xml")
    );
}

#[test]
fn too_long_name() {
    let long = format!("{}.xml", "a".repeat(300));
    let err = open_err(raw_zip(&[raw(&long, b"<x/>")]));
    assert_only_code(&err, "RB1109");
}

#[test]
fn name_with_space_or_non_ascii_is_lvbb1004() {
    for bad in ["mijn besluit.xml", "besluit-é.xml"] {
        let mut files = good_files();
        files.push((bad.to_string(), b"<x/>".to_vec()));
        files[1].1 = manifest_xml(&["opdracht.xml", "manifest.xml", "besluit.xml"]);
        let pkg = Package::from_zip_bytes(zip_of(&files), &Limits::default()).unwrap();
        let manifest = parse_manifest(&pkg.read("manifest.xml").unwrap()).unwrap();
        let m = check_integrity(&pkg, Some(&manifest));
        let c: Vec<&str> = m.iter().map(|m| m.code.as_str()).collect();
        // Also not in the manifest (a manifest can not list it: the schema forbids the name).
        assert!(c.contains(&"LVBB1004"), "{bad}: {c:?}");
        assert!(
            m.iter().all(|m| m.locatie.bestand.as_deref() == Some(bad)),
            "{m:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// entry kinds

#[test]
fn symlink_encrypted_and_unsupported_method() {
    let base: Vec<Raw> = good_files().iter().map(|(n, d)| raw(n, d)).collect();

    let mut link = raw("link.xml", b"/etc/passwd");
    link.mode = 0o120777;
    let mut entries = base.clone();
    entries.push(link);
    assert_only_code(&open_err(raw_zip(&entries)), "RB1103");

    let mut enc = raw("geheim.xml", b"versleuteld");
    enc.flags |= 1;
    let mut entries = base.clone();
    entries.push(enc);
    assert_only_code(&open_err(raw_zip(&entries)), "RB1104");

    let mut bz = raw("bzip.xml", b"BZh91AY&SY");
    bz.method = 12;
    let mut entries = base.clone();
    entries.push(bz);
    assert_only_code(&open_err(raw_zip(&entries)), "RB1105");
}

#[test]
fn overlapping_entries() {
    let mut entries: Vec<Raw> = good_files().iter().map(|(n, d)| raw(n, d)).collect();
    let mut twin = raw("besluit-kopie.xml", b"<AanleveringBesluit/>");
    twin.local_of = Some(2); // shares besluit.xml's data
    entries.push(twin);
    let err = open_err(raw_zip(&entries));
    assert_only_code(&err, "RB1110");
}

// ---------------------------------------------------------------------------------------------
// sizes, counts, bombs

#[test]
fn too_many_entries() {
    let n = Limits::default().max_entries + 1;
    let entries: Vec<Raw> = (0..n).map(|i| raw(&format!("f{i}.xml"), b"x")).collect();
    let err = open_err(raw_zip(&entries));
    assert_only_code(&err, "RB1107");
    // Exactly at the limit is fine.
    let entries: Vec<Raw> = (0..n - 1)
        .map(|i| raw(&format!("f{i}.xml"), b"x"))
        .collect();
    let pkg = Package::from_zip_bytes(raw_zip(&entries), &Limits::default()).unwrap();
    assert_eq!(pkg.entries().len(), n - 1);
}

#[test]
fn zero_byte_file_is_lvbb1041() {
    let mut files = good_files();
    files[2].1 = Vec::new();
    let pkg = Package::from_zip_bytes(zip_of(&files), &Limits::default()).unwrap();
    let m = check_integrity(
        &pkg,
        Some(&parse_manifest(&pkg.read("manifest.xml").unwrap()).unwrap()),
    );
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].code, "LVBB1041");
    assert_eq!(m[0].locatie.bestand.as_deref(), Some("besluit.xml"));
    assert_eq!(pkg.read("besluit.xml").unwrap(), b"");
}

#[test]
fn per_file_and_total_limits() {
    let limits = Limits {
        max_file: 1000,
        max_total: 3000,
        ..Limits::default()
    };
    // One file too large.
    let big = vec![b'a'; 1001];
    let err = open_err_with(raw_zip(&[raw("groot.xml", &big)]), &limits);
    assert_only_code(&err, "LVBB1041");
    // Each file fine, together too large.
    let ok = vec![b'a'; 900];
    let entries: Vec<Raw> = (0..4).map(|i| raw(&format!("f{i}.xml"), &ok)).collect();
    assert_only_code(&open_err_with(raw_zip(&entries), &limits), "LVBB1040");
    // The zip file itself larger than the total limit.
    let entries: Vec<Raw> = (0..8)
        .map(|i| raw(&format!("f{i}.xml"), &ok[..500]))
        .collect();
    let limits2 = Limits {
        max_total: 3000,
        ..Limits::default()
    };
    assert_only_code(&open_err_with(raw_zip(&entries), &limits2), "LVBB1040");
}

/// A deflated entry with `size` zero bytes, streamed into the writer (never held in memory).
fn zeros_zip(path: &Path, size: u64) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = zip::ZipWriter::new(f);
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(size >= u32::MAX as u64);
    w.start_file("opdracht.xml", opts).unwrap();
    w.write_all(OPDRACHT).unwrap();
    w.start_file("bom.xml", opts).unwrap();
    let chunk = vec![0u8; 1024 * 1024];
    let mut left = size;
    while left > 0 {
        let k = left.min(chunk.len() as u64) as usize;
        w.write_all(&chunk[..k]).unwrap();
        left -= k as u64;
    }
    w.finish().unwrap();
}

#[test]
fn zip_bomb_is_refused_at_open() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("bom.zip");
    zeros_zip(&p, 200 * 1024 * 1024);
    assert!(std::fs::metadata(&p).unwrap().len() < 1024 * 1024);
    let err = Package::open(&p, &Limits::default()).unwrap_err();
    let c = codes(&err);
    assert!(c.contains(&"LVBB1041"), "{err}");
    assert!(c.contains(&"RB1106"), "{err}");
    assert!(
        err.meldingen
            .iter()
            .all(|m| m.locatie.bestand.as_deref() == Some("bom.xml"))
    );
}

#[test]
fn compression_ratio_limit_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("ratio.zip");
    zeros_zip(&p, 20 * 1024 * 1024);
    let limits = Limits {
        max_ratio: 200,
        ..Limits::default()
    };
    let err = Package::open(&p, &limits).unwrap_err();
    assert_only_code(&err, "RB1106");
    // With a generous ratio the same file is accepted and reads back fine.
    let limits = Limits {
        max_ratio: 100_000,
        ..Limits::default()
    };
    let pkg = Package::open(&p, &limits).unwrap();
    assert_eq!(pkg.sha256("bom.xml").unwrap().len(), 32);
}

/// Patch the declared uncompressed size of entry `name` in both the local and the central
/// header of a zip made by the writer (no zip64, no data descriptor).
fn patch_declared_size(zip: &mut [u8], name: &str, new_size: u32) {
    let n = name.as_bytes();
    let mut patched = 0;
    let mut i = 0;
    while i + 4 <= zip.len() {
        if zip[i..i + 4] == *b"PK\x03\x04" && zip.len() > i + 30 {
            let nlen = u16::from_le_bytes([zip[i + 26], zip[i + 27]]) as usize;
            if zip.get(i + 30..i + 30 + nlen) == Some(n) {
                zip[i + 22..i + 26].copy_from_slice(&new_size.to_le_bytes());
                patched += 1;
            }
        } else if zip[i..i + 4] == *b"PK\x01\x02" && zip.len() > i + 46 {
            let nlen = u16::from_le_bytes([zip[i + 28], zip[i + 29]]) as usize;
            if zip.get(i + 46..i + 46 + nlen) == Some(n) {
                zip[i + 24..i + 28].copy_from_slice(&new_size.to_le_bytes());
                patched += 1;
            }
        }
        i += 1;
    }
    assert_eq!(patched, 2, "could not patch {name}");
}

#[test]
fn lying_header_smaller_than_content_is_refused_on_read() {
    // 50 MiB of zeros that claims to be 1000 bytes: the ratio looks harmless, so open accepts
    // it; reading stops after 1001 bytes.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("leugen.zip");
    zeros_zip(&p, 50 * 1024 * 1024);
    let mut bytes = std::fs::read(&p).unwrap();
    patch_declared_size(&mut bytes, "bom.xml", 1000);
    let pkg = Package::from_zip_bytes(bytes, &Limits::default()).unwrap();
    assert_eq!(pkg.entry("bom.xml").unwrap().size, 1000);
    let err = pkg.read("bom.xml").unwrap_err();
    assert_only_code(&err, "RB1108");
    assert_only_code(&pkg.sha256("bom.xml").unwrap_err(), "RB1108");
    // Other files are unaffected.
    assert_eq!(pkg.read("opdracht.xml").unwrap(), OPDRACHT);
}

#[test]
fn lying_header_larger_than_content_is_refused_on_read() {
    let mut files = good_files();
    files[2].1 = vec![b'x'; 100];
    let mut bytes = zip_of(&files);
    patch_declared_size(&mut bytes, "besluit.xml", 5000);
    let pkg = Package::from_zip_bytes(bytes, &Limits::default()).unwrap();
    let err = pkg.read("besluit.xml").unwrap_err();
    assert_only_code(&err, "RB1108");
}

#[test]
fn read_budget_is_enforced_across_reads() {
    // Open checks the declared total; the running budget is a second line of defence. Make
    // the declared sizes lie low so that open passes, then read: each read is refused by
    // the size mismatch before the budget can be exceeded.
    let limits = Limits {
        max_total: 10_000,
        ..Limits::default()
    };
    let data = vec![b'a'; 4000];
    let entries: Vec<Raw> = (0..2).map(|i| raw(&format!("f{i}.xml"), &data)).collect();
    let pkg = Package::from_zip_bytes(raw_zip(&entries), &limits).unwrap();
    assert_eq!(pkg.read("f0.xml").unwrap().len(), 4000);
    assert_eq!(pkg.read("f1.xml").unwrap().len(), 4000);
    // Re-reading does not count twice.
    assert_eq!(pkg.read("f0.xml").unwrap().len(), 4000);
    assert!(pkg.hash().is_ok());
}

// ---------------------------------------------------------------------------------------------
// manifest integrity

#[test]
fn manifest_lists_missing_file() {
    let mut files = good_files();
    files[1].1 = manifest_xml(&[
        "opdracht.xml",
        "manifest.xml",
        "besluit.xml",
        "ontbreekt.gml",
    ]);
    let pkg = Package::from_zip_bytes(zip_of(&files), &Limits::default()).unwrap();
    let manifest = parse_manifest(&pkg.read("manifest.xml").unwrap()).unwrap();
    let m = check_integrity(&pkg, Some(&manifest));
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].code, "LVBB1009");
    assert_eq!(m[0].locatie.bestand.as_deref(), Some("manifest.xml"));
    assert_eq!(m[0].locatie.regel, Some(15));
    assert!(m[0].beschrijving.contains("ontbreekt.gml"));
}

#[test]
fn file_not_in_manifest() {
    let mut files = good_files();
    files.push(("extra.gml".into(), b"<gml/>".to_vec()));
    let pkg = Package::from_zip_bytes(zip_of(&files), &Limits::default()).unwrap();
    let m = check_integrity(
        &pkg,
        Some(&parse_manifest(&pkg.read("manifest.xml").unwrap()).unwrap()),
    );
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].code, "LVBB1010");
    assert_eq!(m[0].locatie.bestand.as_deref(), Some("extra.gml"));
}

#[test]
fn opdracht_and_manifest_need_not_be_listed() {
    let mut files = good_files();
    files[1].1 = manifest_xml(&["besluit.xml", "besluit2.xml"]);
    files.push(("besluit2.xml".into(), b"<x/>".to_vec()));
    let pkg = Package::from_zip_bytes(zip_of(&files), &Limits::default()).unwrap();
    assert!(integrity_codes(&pkg).is_empty());
}

#[test]
fn manifest_lists_file_twice() {
    let mut files = good_files();
    files[1].1 = manifest_xml(&["opdracht.xml", "besluit.xml", "manifest.xml", "besluit.xml"]);
    let pkg = Package::from_zip_bytes(zip_of(&files), &Limits::default()).unwrap();
    let m = check_integrity(
        &pkg,
        Some(&parse_manifest(&pkg.read("manifest.xml").unwrap()).unwrap()),
    );
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].code, "LVBB1575");
    assert_eq!(m[0].locatie.regel, Some(15));
}

#[test]
fn missing_opdracht_and_manifest() {
    let files = vec![("besluit.xml".to_string(), b"<x/>".to_vec())];
    let pkg = Package::from_zip_bytes(zip_of(&files), &Limits::default()).unwrap();
    let m = check_integrity(&pkg, None);
    let c: Vec<&str> = m.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(c, vec!["LVBB1003", "LVBB1002"]);
    assert_eq!(m[0].locatie.bestand.as_deref(), Some("manifest.xml"));
    assert_eq!(m[1].locatie.bestand.as_deref(), Some("opdracht.xml"));
}

#[test]
fn bad_manifests_give_lvbb1008() {
    let good = manifest_xml(&["opdracht.xml", "manifest.xml", "besluit.xml"]);
    let mut invalid_utf8 = good.clone();
    let pos = invalid_utf8
        .windows(7)
        .position(|w| w == b"besluit")
        .unwrap();
    invalid_utf8[pos] = 0xC3; // start of a 2-byte sequence followed by ASCII
    let not_well_formed = String::from_utf8(good.clone())
        .unwrap()
        .replace("</manifest>", "</manifes>");
    let wrong_ns = String::from_utf8(good.clone())
        .unwrap()
        .replace("2017/lvbb", "2017/lvbbx");
    let wrong_root = String::from_utf8(good.clone())
        .unwrap()
        .replace("manifest xmlns", "lijst xmlns")
        .replace("</manifest>", "</lijst>");
    let cases: Vec<(&str, Vec<u8>, u32)> = vec![
        ("invalid utf-8", invalid_utf8, 12),
        ("not well-formed", not_well_formed.into_bytes(), 15),
        ("wrong namespace", wrong_ns.into_bytes(), 2),
        ("wrong root", wrong_root.into_bytes(), 2),
    ];
    for (label, manifest, regel) in cases {
        let mut files = good_files();
        files[1].1 = manifest;
        let pkg = Package::from_zip_bytes(zip_of(&files), &Limits::default()).unwrap();
        let err = parse_manifest(&pkg.read("manifest.xml").unwrap()).unwrap_err();
        assert!(err.iter().all(|m| m.code == "LVBB1008"), "{label}: {err:?}");
        assert_eq!(
            err[0].locatie.bestand.as_deref(),
            Some("manifest.xml"),
            "{label}"
        );
        assert_eq!(err[0].locatie.regel, Some(regel), "{label}: {err:?}");
        assert!(err[0].locatie.kolom.is_some(), "{label}");
    }
}

// ---------------------------------------------------------------------------------------------
// directories

#[cfg(unix)]
#[test]
fn directory_symlink_subdir_and_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("levering");
    std::fs::create_dir(&d).unwrap();
    for (n, data) in good_files() {
        std::fs::write(d.join(n), data).unwrap();
    }
    let pkg = Package::open(&d, &Limits::default()).unwrap();
    assert!(!pkg.is_zip());
    assert_eq!(
        pkg.names(),
        vec!["besluit.xml", "manifest.xml", "opdracht.xml"]
    );
    assert!(integrity_codes(&pkg).is_empty());

    // Same files zipped: same hash.
    let z = Package::from_zip_bytes(zip_of(&good_files()), &Limits::default()).unwrap();
    assert_eq!(pkg.hash().unwrap(), z.hash().unwrap());

    // Too many entries / too large a file.
    let limits = Limits {
        max_entries: 2,
        ..Limits::default()
    };
    assert_only_code(&Package::open(&d, &limits).unwrap_err(), "RB1107");
    let limits = Limits {
        max_file: 50,
        ..Limits::default()
    };
    let err = Package::open(&d, &limits).unwrap_err();
    assert_only_code(&err, "LVBB1041");

    // A file that grows after open is refused on read.
    let big = tmp.path().join("groeit");
    std::fs::create_dir(&big).unwrap();
    std::fs::write(big.join("a.xml"), b"1234").unwrap();
    let pkg = Package::open(&big, &Limits::default()).unwrap();
    std::fs::write(big.join("a.xml"), b"12345678").unwrap();
    assert_only_code(&pkg.read("a.xml").unwrap_err(), "RB1108");

    // A symlink.
    std::os::unix::fs::symlink("/etc/passwd", d.join("link.xml")).unwrap();
    assert_only_code(
        &Package::open(&d, &Limits::default()).unwrap_err(),
        "RB1103",
    );
    std::fs::remove_file(d.join("link.xml")).unwrap();

    // A subdirectory.
    std::fs::create_dir(d.join("sub")).unwrap();
    assert_only_code(
        &Package::open(&d, &Limits::default()).unwrap_err(),
        "RB1102",
    );
}

#[test]
fn package_is_send_and_sync() {
    // The HTTP server shares an opened package across threads.
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Package>();
    assert_send_sync::<PackageError>();
}

// ---------------------------------------------------------------------------------------------
// rule cases (`zie` in fixtures/rules/<CODE>.toml): each code on a bad input, and not on the
// good input that differs only in the defect

/// The good package of `good_files()` as hand-built (stored) zip entries.
fn good_raw() -> Vec<Raw> {
    good_files().iter().map(|(n, d)| raw(n, d)).collect()
}

/// The zip opens and every file reads back without a melding.
fn assert_opens_and_reads(bytes: Vec<u8>, limits: &Limits) {
    let pkg = Package::from_zip_bytes(bytes, limits).unwrap_or_else(|e| panic!("good input refused: {e}"));
    for n in pkg.names() {
        pkg.read(n).unwrap_or_else(|e| panic!("{n}: {e}"));
    }
}

#[test]
fn lvbb1001_not_a_zip() {
    let zip = zip_of(&good_files());
    assert_only_code(&open_err(b"opdracht.xml en besluit.xml als platte tekst".to_vec()), "LVBB1001");
    assert_only_code(&open_err(zip[..zip.len() - 30].to_vec()), "LVBB1001");
    assert_opens_and_reads(zip, &Limits::default());
}

#[test]
fn lvbb1040_total_size() {
    let limits = Limits { max_file: 1000, max_total: 3000, ..Limits::default() };
    let data = vec![b'a'; 900];
    let four: Vec<Raw> = (0..4).map(|i| raw(&format!("f{i}.xml"), &data)).collect();
    assert_only_code(&open_err_with(raw_zip(&four), &limits), "LVBB1040");
    assert_opens_and_reads(raw_zip(&four[..2]), &limits);
}

#[test]
fn lvbb1042_duplicate_names() {
    let mut bad = good_raw();
    bad.push(raw("besluit.xml", b"<AnderBesluit/>"));
    assert_only_code(&open_err(raw_zip(&bad)), "LVBB1042");
    let mut good = good_raw();
    good.push(raw("besluit-2.xml", b"<AnderBesluit/>"));
    assert_opens_and_reads(raw_zip(&good), &Limits::default());
}

#[test]
fn rb1101_unsafe_name() {
    let mut bad = good_raw();
    bad.push(raw("../besluit-2.xml", b"<x/>"));
    assert_only_code(&open_err(raw_zip(&bad)), "RB1101");
    let mut good = good_raw();
    good.push(raw("besluit-2.xml", b"<x/>"));
    assert_opens_and_reads(raw_zip(&good), &Limits::default());
}

#[test]
fn rb1102_subdirectory() {
    let mut bad = good_raw();
    bad.push(raw("bijlagen/besluit-2.xml", b"<x/>"));
    assert_only_code(&open_err(raw_zip(&bad)), "RB1102");
    let mut good = good_raw();
    good.push(raw("bijlagen-besluit-2.xml", b"<x/>"));
    assert_opens_and_reads(raw_zip(&good), &Limits::default());
}

#[test]
fn rb1103_symlink() {
    let mut link = raw("link.xml", b"besluit.xml");
    link.mode = 0o120777;
    let mut bad = good_raw();
    bad.push(link);
    assert_only_code(&open_err(raw_zip(&bad)), "RB1103");
    let mut good = good_raw();
    good.push(raw("link.xml", b"besluit.xml"));
    assert_opens_and_reads(raw_zip(&good), &Limits::default());
}

#[test]
fn rb1104_encrypted() {
    let mut enc = raw("geheim.xml", b"<x/>");
    enc.flags |= 1;
    let mut bad = good_raw();
    bad.push(enc);
    assert_only_code(&open_err(raw_zip(&bad)), "RB1104");
    let mut good = good_raw();
    good.push(raw("geheim.xml", b"<x/>"));
    assert_opens_and_reads(raw_zip(&good), &Limits::default());
}

#[test]
fn rb1105_compression_method() {
    let mut bz = raw("bzip.xml", b"<x/>");
    bz.method = 12;
    let mut bad = good_raw();
    bad.push(bz);
    assert_only_code(&open_err(raw_zip(&bad)), "RB1105");
    let mut good = good_raw();
    good.push(raw("bzip.xml", b"<x/>"));
    assert_opens_and_reads(raw_zip(&good), &Limits::default());
    // Deflate is the other supported method.
    assert_opens_and_reads(zip_of(&good_files()), &Limits::default());
}

#[test]
fn rb1108_checksum() {
    let mut e = raw("besluit.xml", b"<AanleveringBesluit/>");
    e.crc = Some(0xDEAD_BEEF);
    let pkg = Package::from_zip_bytes(raw_zip(&[e]), &Limits::default()).unwrap();
    assert_only_code(&pkg.read("besluit.xml").unwrap_err(), "RB1108");
    assert_opens_and_reads(raw_zip(&[raw("besluit.xml", b"<AanleveringBesluit/>")]), &Limits::default());
}

#[test]
fn rb1109_long_name() {
    let max = Limits::default().max_name_len;
    let long = format!("{}.xml", "a".repeat(max - 3));
    assert_only_code(&open_err(raw_zip(&[raw(&long, b"<x/>")])), "RB1109");
    let ok = format!("{}.xml", "a".repeat(max - 4));
    assert_eq!(ok.chars().count(), max);
    assert_opens_and_reads(raw_zip(&[raw(&ok, b"<x/>")]), &Limits::default());
}

#[test]
fn rb1110_overlapping_entries() {
    let mut twin = raw("besluit-kopie.xml", b"<AanleveringBesluit/>");
    twin.local_of = Some(2);
    let mut bad = good_raw();
    bad.push(twin);
    assert_only_code(&open_err(raw_zip(&bad)), "RB1110");
    let mut good = good_raw();
    good.push(raw("besluit-kopie.xml", b"<AanleveringBesluit/>"));
    assert_opens_and_reads(raw_zip(&good), &Limits::default());
}

/// A copy of a bundled fixture delivery in `dir`.
fn copy_fixture(name: &str, dir: &Path) {
    let from = fixtures::fixtures_dir().join("deliveries").join(name);
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
}

fn day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn codes_of(r: &ingest::IngestResult) -> Vec<&str> {
    r.meldingen.iter().map(|m| m.code.as_str()).collect()
}

#[test]
fn rb2004_invalid_utf8_in_a_stop_file() {
    // A text edit always writes valid UTF-8, so this parser rule needs bytes.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = ingest::Config::new(day("2027-03-01"));
    let good = tmp.path().join("goed");
    copy_fixture("01-initieel-compact-gio", &good);
    let r = ingest::validate(None, &good, &cfg).unwrap();
    assert!(!codes_of(&r).contains(&"RB2004") && r.meldingen.iter().all(|m| !m.is_fout()), "{:?}", r.meldingen);
    let bad = tmp.path().join("fout");
    copy_fixture("01-initieel-compact-gio", &bad);
    let mut bytes = std::fs::read(bad.join("besluit.xml")).unwrap();
    let at = bytes.windows(4).position(|w| w == b"<Al>").unwrap() + 4;
    bytes.insert(at, 0xFF);
    std::fs::write(bad.join("besluit.xml"), bytes).unwrap();
    let r = ingest::validate(None, &bad, &cfg).unwrap();
    let m = r.meldingen.iter().find(|m| m.code == "RB2004").unwrap_or_else(|| panic!("{:?}", r.meldingen));
    assert_eq!(m.locatie.bestand.as_deref(), Some("besluit.xml"));
    assert!(m.is_fout());
}

#[test]
fn lvbb1553_afbreken_after_bekendmaking() {
    // Two clocks: the besluit of 02 is delivered before its datumBekendmaking (2027-03-30);
    // cancelling it is refused on or after that date and accepted before it.
    let tmp = tempfile::tempdir().unwrap();
    let vroeg = ingest::Config::new(day("2027-03-01"));
    let store = store::Store::open(&tmp.path().join("data")).unwrap();
    let d = fixtures::fixtures_dir().join("deliveries");
    let r = ingest::ingest(&store, &d.join("02-initieel-vrijetekst"), &vroeg).unwrap();
    assert!(r.uitkomst.accepted(), "{:?}", r.meldingen);
    let te_laat = ingest::validate(Some(&store), &d.join("04-afbreken"), &ingest::Config::new(day("2027-03-30"))).unwrap();
    let m = te_laat.meldingen.iter().find(|m| m.code == "LVBB1553").unwrap_or_else(|| panic!("{:?}", te_laat.meldingen));
    assert!(m.is_fout() && m.locatie.bestand.as_deref() == Some("opdracht.xml"), "{m:?}");
    let op_tijd = ingest::validate(Some(&store), &d.join("04-afbreken"), &ingest::Config::new(day("2027-03-29"))).unwrap();
    assert!(op_tijd.meldingen.iter().all(|m| !m.is_fout()), "{:?}", op_tijd.meldingen);
}
