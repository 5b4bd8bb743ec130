//! Delivery packages: a ZIP file (recognised by its content, not its extension) or an unpacked
//! directory, read safely.
//!
//! Everything a package holds is untrusted. [`Package::open`] inspects the metadata (names,
//! counts, declared sizes, compression ratio, encryption, file types) and refuses a package
//! before anything is decompressed. [`Package::read`] then reads one file through a bounded
//! reader: at most `limit + 1` bytes are ever decompressed or allocated, where the limit is the
//! smallest of the declared size, the per-file limit and what is left of the total budget, so a
//! lying header or a zip bomb is refused before it expands.
//!
//! [`check_integrity`] compares the package with its `manifest.xml` (LVBB1002–1010, 1042, 1575).
//!
//! # Meldingen
//!
//! All are `fout`, `technisch`. LVBB codes follow the LVBB validation matrix; `RB…` codes are
//! our own where the LVBB has no code (it does not describe these attacks separately).
//!
//! | Code | Meaning |
//! |---|---|
//! | LVBB1001 | Not a valid zip: neither a zip nor a directory, corrupt or truncated zip, unreadable file. |
//! | LVBB1002 | `opdracht.xml` is missing. |
//! | LVBB1003 | `manifest.xml` is missing. |
//! | LVBB1004 | A file name has characters outside `[0-9A-Za-z._-]` (e.g. a space or `é`). |
//! | LVBB1008 | `manifest.xml` does not satisfy the schema (from [`stop::manifest::parse_manifest`]). |
//! | LVBB1009 | A file listed in the manifest is not in the package. |
//! | LVBB1010 | A file in the package is not listed in the manifest. |
//! | LVBB1040 | The zip, or the files together unpacked, exceed the total limit (1 GiB). |
//! | LVBB1041 | A file is empty (0 bytes) or larger than the per-file limit (100 MiB) unpacked. |
//! | LVBB1042 | A file name occurs more than once in the zip. |
//! | LVBB1575 | The manifest lists a file more than once. |
//! | RB1101 | Unsafe file name: absolute path, `..`, backslash, NUL, drive letter, or empty. |
//! | RB1102 | A directory or a file in a subdirectory: package files must be side by side at the top. |
//! | RB1103 | A symbolic link or other non-regular file. |
//! | RB1104 | An encrypted file. |
//! | RB1105 | A compression method other than stored (0) or deflate (8). |
//! | RB1106 | Compression ratio above the limit (zip bomb protection), for files over 1 MiB. |
//! | RB1107 | Too many files in the package, or an oversized zip central directory. |
//! | RB1108 | The unpacked size or checksum differs from what the zip declares (lying or damaged header). |
//! | RB1109 | A file name is longer than the limit (255 characters). |
//! | RB1110 | Overlapping zip entries (entries that share compressed data: a zip bomb technique). |
//! | RB1111 | A file could not be read (I/O error) or is not in the package. |

use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use stop::Melding;
use stop::manifest::{MANIFEST_BESTAND, Manifest, is_geldige_bestandsnaam};
use zip::CompressionMethod;
use zip::ZipArchive;

/// Name of the opdracht file in every package.
pub const OPDRACHT_BESTAND: &str = "opdracht.xml";

/// Compression ratios are only checked for files larger than this (small files compress well
/// legitimately and cannot do harm).
pub const RATIO_DREMPEL: u64 = 1024 * 1024;

/// The melding codes emitted by this module.
pub mod codes {
    pub const GEEN_ZIP: &str = "LVBB1001";
    pub const GEEN_OPDRACHT: &str = "LVBB1002";
    pub const GEEN_MANIFEST: &str = "LVBB1003";
    pub const ONGELDIGE_NAAM: &str = "LVBB1004";
    pub const MANIFEST_SCHEMA: &str = "LVBB1008";
    pub const ONTBREKEND_BESTAND: &str = "LVBB1009";
    pub const NIET_IN_MANIFEST: &str = "LVBB1010";
    pub const TOTAAL_TE_GROOT: &str = "LVBB1040";
    pub const BESTANDSGROOTTE: &str = "LVBB1041";
    pub const DUBBELE_NAAM: &str = "LVBB1042";
    pub const DUBBEL_IN_MANIFEST: &str = "LVBB1575";
    pub const ONVEILIGE_NAAM: &str = "RB1101";
    pub const SUBMAP: &str = "RB1102";
    pub const GEEN_GEWOON_BESTAND: &str = "RB1103";
    pub const VERSLEUTELD: &str = "RB1104";
    pub const COMPRESSIEMETHODE: &str = "RB1105";
    pub const COMPRESSIEVERHOUDING: &str = "RB1106";
    pub const TE_VEEL_BESTANDEN: &str = "RB1107";
    pub const GROOTTE_KLOPT_NIET: &str = "RB1108";
    pub const NAAM_TE_LANG: &str = "RB1109";
    pub const OVERLAPPEND: &str = "RB1110";
    pub const LEESFOUT: &str = "RB1111";
}

/// Limits on what a package may hold. The defaults follow the LVBB (file ≤ 100 MB, zip ≤ 1 GB)
/// with binary units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of files (zip entries or directory entries).
    pub max_entries: usize,
    /// Maximum unpacked size of one file, in bytes.
    pub max_file: u64,
    /// Maximum size of the zip file itself and of all files together unpacked, in bytes.
    pub max_total: u64,
    /// Maximum ratio unpacked/compressed for files over [`RATIO_DREMPEL`].
    pub max_ratio: u64,
    /// Maximum length of a file name, in characters.
    pub max_name_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_file: 100 * 1024 * 1024,
            max_total: 1024 * 1024 * 1024,
            max_ratio: 1000,
            max_name_len: 255,
        }
    }
}

/// One file of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// Declared unpacked size (zip) or size on disk (directory) at open time.
    pub size: u64,
    /// Compressed size in the zip; `None` for a directory.
    pub compressed_size: Option<u64>,
}

/// A package was refused, or a file could not be read. Holds the meldingen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PackageError {
    pub meldingen: Vec<Melding>,
}

impl fmt::Display for PackageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pakket geweigerd ({} melding(en))", self.meldingen.len())?;
        for m in &self.meldingen {
            write!(f, "\n- {m}")?;
        }
        Ok(())
    }
}

impl PackageError {
    fn new(meldingen: Vec<Melding>) -> Self {
        PackageError { meldingen }
    }

    fn one(m: Melding) -> Self {
        PackageError { meldingen: vec![m] }
    }

    /// True when a melding with `code` is present.
    pub fn has_code(&self, code: &str) -> bool {
        self.meldingen.iter().any(|m| m.code == code)
    }
}

trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

type DynArchive = ZipArchive<Box<dyn ReadSeek>>;

enum Source {
    Zip {
        archive: Mutex<DynArchive>,
        /// Index in the archive for each entry (same order as `Package::entries`).
        zip_index: Vec<usize>,
    },
    Dir(PathBuf),
}

#[derive(Default)]
struct Budget {
    used: u64,
    counted: HashSet<usize>,
}

/// An opened, structurally safe package.
pub struct Package {
    source: Source,
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    limits: Limits,
    budget: Mutex<Budget>,
}

impl fmt::Debug for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Package")
            .field("zip", &self.is_zip())
            .field("entries", &self.entries)
            .field("limits", &self.limits)
            .finish()
    }
}

fn fout(code: &str, text: impl Into<String>) -> Melding {
    Melding::fout_technisch(code, text)
}

fn fout_in(code: &str, bestand: &str, text: impl Into<String>) -> Melding {
    Melding::fout_technisch(code, text).in_bestand(bestand)
}

fn mib(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{bytes} bytes")
    }
}

impl Package {
    /// Open a delivery: a directory, or a file that is a zip (recognised by content).
    pub fn open(path: &Path, limits: &Limits) -> Result<Package, PackageError> {
        let meta = fs::metadata(path).map_err(|e| {
            PackageError::one(fout(
                codes::GEEN_ZIP,
                format!(
                    "Het pakket {} kan niet worden geopend ({e}). Lever een zip-bestand aan.",
                    path.display()
                ),
            ))
        })?;
        if meta.is_dir() {
            return Self::open_dir(path, limits);
        }
        if !meta.is_file() {
            return Err(PackageError::one(fout(
                codes::GEEN_ZIP,
                format!(
                    "Het pakket {} is geen zip-bestand en geen map. Lever een zip-bestand aan.",
                    path.display()
                ),
            )));
        }
        let file = File::open(path).map_err(|e| {
            PackageError::one(fout(
                codes::GEEN_ZIP,
                format!(
                    "Het pakket {} kan niet worden gelezen ({e}).",
                    path.display()
                ),
            ))
        })?;
        Self::from_zip_reader(file, limits)
    }

    /// Open a zip held in memory.
    pub fn from_zip_bytes(bytes: Vec<u8>, limits: &Limits) -> Result<Package, PackageError> {
        Self::from_zip_reader(io::Cursor::new(bytes), limits)
    }

    /// Open a zip from any seekable reader.
    pub fn from_zip_reader<R: Read + Seek + Send + 'static>(
        mut reader: R,
        limits: &Limits,
    ) -> Result<Package, PackageError> {
        let io_fout = |e: io::Error| {
            PackageError::one(fout(
                codes::GEEN_ZIP,
                format!(
                    "Het pakket kan niet worden gelezen ({e}). Lever een geldig zip-bestand aan."
                ),
            ))
        };
        let len = reader.seek(SeekFrom::End(0)).map_err(io_fout)?;
        if len > limits.max_total {
            return Err(PackageError::one(fout(
                codes::TOTAAL_TE_GROOT,
                format!(
                    "Het zip-bestand is {} groot; de grens is {}. Splits de levering of verklein de bestanden.",
                    mib(len),
                    mib(limits.max_total)
                ),
            )));
        }
        // Sniff the signature: a zip starts with a local file header (or, when empty, with the
        // end-of-central-directory record). Data prepended to a zip is not accepted.
        reader.seek(SeekFrom::Start(0)).map_err(io_fout)?;
        let mut magic = [0u8; 4];
        let n = read_up_to(&mut reader, &mut magic).map_err(io_fout)?;
        if n < 4 || !(magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06") {
            return Err(PackageError::one(fout(
                codes::GEEN_ZIP,
                "Het aangeleverde bestand is geen zip-bestand (de zip-handtekening ontbreekt). Lever de bestanden aan in een zip-bestand.",
            )));
        }

        // Inspect the central directory ourselves first: entry count and size are checked
        // before the zip crate allocates anything for it, and duplicate names are found
        // (the zip crate collapses them).
        let raw = raw_central_directory(&mut reader, len, limits);
        let mut meldingen = Vec::new();
        let mut raw_dups: Vec<String> = Vec::new();
        match &raw {
            Ok(RawScan::TooMany(count)) => {
                return Err(PackageError::one(te_veel(*count, limits)));
            }
            Ok(RawScan::CdTooLarge(size)) => {
                return Err(PackageError::one(fout(
                    codes::TE_VEEL_BESTANDEN,
                    format!(
                        "De inhoudsopgave (central directory) van het zip-bestand is {} groot; dat past niet bij hooguit {} bestanden. Maak het zip-bestand opnieuw aan met een standaard zip-programma.",
                        mib(*size),
                        limits.max_entries
                    ),
                )));
            }
            Ok(RawScan::Names(names)) => {
                let mut seen = HashSet::new();
                let mut reported = HashSet::new();
                for n in names {
                    if !seen.insert(n.as_slice()) && reported.insert(n.as_slice()) {
                        raw_dups.push(String::from_utf8_lossy(n).into_owned());
                    }
                }
            }
            Err(_) => {} // let the zip crate give its verdict below
        }

        reader.seek(SeekFrom::Start(0)).map_err(io_fout)?;
        let boxed: Box<dyn ReadSeek> = Box::new(reader);
        let mut archive = ZipArchive::new(boxed).map_err(|e| {
            let extra = match &raw {
                Err(r) => format!("; {r}"),
                Ok(_) => String::new(),
            };
            PackageError::one(fout(
                codes::GEEN_ZIP,
                format!(
                    "Het zip-bestand is beschadigd of onvolledig ({e}{extra}). Maak het zip-bestand opnieuw aan en lever het opnieuw aan."
                ),
            ))
        })?;
        if archive.len() > limits.max_entries {
            return Err(PackageError::one(te_veel(archive.len() as u64, limits)));
        }
        for d in &raw_dups {
            meldingen.push(dubbel(d));
        }
        if raw_dups.is_empty() && archive.has_duplicate_names() {
            meldingen.push(fout(
                codes::DUBBELE_NAAM,
                "Het zip-bestand bevat meerdere bestanden met dezelfde naam. Zorg dat elke bestandsnaam één keer voorkomt.",
            ));
        }

        let mut entries = Vec::with_capacity(archive.len());
        let mut zip_index = Vec::with_capacity(archive.len());
        let mut total: u64 = 0;
        for i in 0..archive.len() {
            let e = match archive.by_index_data(i) {
                Ok(e) => e,
                Err(err) => {
                    meldingen.push(fout(
                        codes::GEEN_ZIP,
                        format!("Item {i} van het zip-bestand is onleesbaar ({err}). Maak het zip-bestand opnieuw aan."),
                    ));
                    continue;
                }
            };
            let name: String = match e.name() {
                Ok(n) => n.into_owned(),
                Err(_) => String::from_utf8_lossy(e.name_raw()).into_owned(),
            };
            let before = meldingen.len();
            check_name(&name, limits, &mut meldingen);
            if meldingen.len() == before && e.enclosed_name().is_none() {
                meldingen.push(onveilig(&name, "de naam verwijst buiten het pakket"));
            }
            if e.is_dir() {
                if meldingen.len() == before {
                    meldingen.push(submap(&name));
                }
                continue;
            }
            let mode_type = e.unix_mode().map(|m| m & 0o170000);
            if e.is_symlink() || mode_type.is_some_and(|t| t != 0 && t != 0o100000) {
                meldingen.push(fout_in(
                    codes::GEEN_GEWOON_BESTAND,
                    &name,
                    format!(
                        "{name} is een symbolische koppeling of ander bijzonder bestand. Neem alleen gewone bestanden op in het zip-bestand."
                    ),
                ));
            }
            if e.encrypted() {
                meldingen.push(fout_in(
                    codes::VERSLEUTELD,
                    &name,
                    format!(
                        "{name} is versleuteld (met wachtwoord beveiligd). Lever het zip-bestand aan zonder versleuteling."
                    ),
                ));
            }
            let method = e.compression();
            if method != CompressionMethod::Stored && method != CompressionMethod::Deflated {
                meldingen.push(fout_in(
                    codes::COMPRESSIEMETHODE,
                    &name,
                    format!(
                        "{name} gebruikt compressiemethode {method}; alleen 'stored' en 'deflate' worden ondersteund. Maak het zip-bestand opnieuw aan met standaard (deflate) compressie."
                    ),
                ));
            }
            let size = e.size();
            let csize = e.compressed_size();
            if size > limits.max_file {
                meldingen.push(te_groot(&name, size, limits));
            }
            if size > RATIO_DREMPEL && size / csize.max(1) > limits.max_ratio {
                meldingen.push(fout_in(
                    codes::COMPRESSIEVERHOUDING,
                    &name,
                    format!(
                        "{name} is gecomprimeerd {} en uitgepakt {}: een compressieverhouding van {}:1, boven de grens van {}:1. Zo'n bestand wordt als zip-bom behandeld; lever het ongecomprimeerd of in gewone vorm aan.",
                        mib(csize),
                        mib(size),
                        size / csize.max(1),
                        limits.max_ratio
                    ),
                ));
            }
            total = total.saturating_add(size);
            entries.push(Entry {
                name,
                size,
                compressed_size: Some(csize),
            });
            zip_index.push(i);
        }
        if total > limits.max_total {
            meldingen.push(totaal_te_groot(total, limits));
        }
        if meldingen.is_empty() {
            match archive.has_overlapping_entries() {
                Ok(false) => {}
                Ok(true) => meldingen.push(fout(
                    codes::OVERLAPPEND,
                    "Bestanden in het zip-bestand overlappen elkaar (ze delen gecomprimeerde gegevens, een zip-bom-techniek). Maak het zip-bestand opnieuw aan met een standaard zip-programma.",
                )),
                Err(e) => meldingen.push(fout(
                    codes::GEEN_ZIP,
                    format!("Het zip-bestand is beschadigd ({e}). Maak het zip-bestand opnieuw aan."),
                )),
            }
        }
        if !meldingen.is_empty() {
            return Err(PackageError::new(meldingen));
        }
        Ok(Self::build(
            Source::Zip {
                archive: Mutex::new(archive),
                zip_index,
            },
            entries,
            limits,
        ))
    }

    /// Open an unpacked directory: regular files only, no subdirectories, same limits.
    pub fn open_dir(dir: &Path, limits: &Limits) -> Result<Package, PackageError> {
        let rd = fs::read_dir(dir).map_err(|e| {
            PackageError::one(fout(
                codes::GEEN_ZIP,
                format!("De map {} kan niet worden gelezen ({e}).", dir.display()),
            ))
        })?;
        let mut meldingen = Vec::new();
        let mut entries = Vec::new();
        let mut count = 0usize;
        let mut total: u64 = 0;
        for de in rd {
            let de = match de {
                Ok(de) => de,
                Err(e) => {
                    meldingen.push(fout(
                        codes::LEESFOUT,
                        format!(
                            "De map {} kan niet volledig worden gelezen ({e}).",
                            dir.display()
                        ),
                    ));
                    break;
                }
            };
            count += 1;
            if count > limits.max_entries {
                return Err(PackageError::one(te_veel(count as u64, limits)));
            }
            let name = match de.file_name().into_string() {
                Ok(n) => n,
                Err(os) => {
                    let lossy = os.to_string_lossy().into_owned();
                    meldingen.push(fout_in(
                        codes::ONGELDIGE_NAAM,
                        &lossy,
                        format!(
                            "De bestandsnaam {lossy:?} is geen geldige UTF-8. Gebruik alleen de tekens 0-9, A-Z, a-z, punt, liggend streepje en koppelteken."
                        ),
                    ));
                    continue;
                }
            };
            let before = meldingen.len();
            check_name(&name, limits, &mut meldingen);
            if meldingen.len() != before {
                continue;
            }
            let meta = match fs::symlink_metadata(de.path()) {
                Ok(m) => m,
                Err(e) => {
                    meldingen.push(fout_in(
                        codes::LEESFOUT,
                        &name,
                        format!("{name} kan niet worden gelezen ({e})."),
                    ));
                    continue;
                }
            };
            let ft = meta.file_type();
            if ft.is_dir() {
                meldingen.push(submap(&name));
                continue;
            }
            if !ft.is_file() {
                meldingen.push(fout_in(
                    codes::GEEN_GEWOON_BESTAND,
                    &name,
                    format!(
                        "{name} is een symbolische koppeling of ander bijzonder bestand. Neem alleen gewone bestanden op in het pakket."
                    ),
                ));
                continue;
            }
            let size = meta.len();
            if size > limits.max_file {
                meldingen.push(te_groot(&name, size, limits));
            }
            total = total.saturating_add(size);
            entries.push(Entry {
                name,
                size,
                compressed_size: None,
            });
        }
        if total > limits.max_total {
            meldingen.push(totaal_te_groot(total, limits));
        }
        if !meldingen.is_empty() {
            return Err(PackageError::new(meldingen));
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self::build(Source::Dir(dir.to_path_buf()), entries, limits))
    }

    fn build(source: Source, entries: Vec<Entry>, limits: &Limits) -> Package {
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        Package {
            source,
            entries,
            by_name,
            limits: limits.clone(),
            budget: Mutex::new(Budget::default()),
        }
    }

    /// File names in package order (zip central directory order, or sorted for a directory).
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.name.as_str()).collect()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    pub fn is_zip(&self) -> bool {
        matches!(self.source, Source::Zip { .. })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Read one file completely. Enforces the per-file limit, the declared size, the checksum
    /// (zip), and the total budget across reads (each file counts once).
    pub fn read(&self, name: &str) -> Result<Vec<u8>, PackageError> {
        let i = self.index_of(name)?;
        let declared = self.entries[i].size;
        // The stream never yields more than `cap` bytes (limit + 1). The declared size is
        // untrusted, but reserving it costs address space, not memory: pages become resident
        // only when written, so a header that lies costs nothing, and a true one saves growing
        // by doubling (which, for a 50 MB file, left ~100 MB of copies resident in the allocator).
        let cap = declared.min(self.limits.max_file).saturating_add(1) as usize;
        let mut out: Vec<u8> = Vec::with_capacity(cap);
        self.stream(i, &mut |chunk| out.extend_from_slice(chunk))?;
        Ok(out)
    }

    /// SHA-256 of one file, streamed (same checks as [`Package::read`]).
    pub fn sha256(&self, name: &str) -> Result<[u8; 32], PackageError> {
        let i = self.index_of(name)?;
        let mut h = Sha256::new();
        self.stream(i, &mut |chunk| h.update(chunk))?;
        Ok(h.finalize().into())
    }

    /// (name, SHA-256) of every file, in package order.
    pub fn file_hashes(&self) -> Result<Vec<(String, [u8; 32])>, PackageError> {
        self.entries
            .iter()
            .map(|e| Ok((e.name.clone(), self.sha256(&e.name)?)))
            .collect()
    }

    /// [`package_hash`] of this package.
    pub fn hash(&self) -> Result<[u8; 32], PackageError> {
        Ok(package_hash(&self.file_hashes()?))
    }

    fn index_of(&self, name: &str) -> Result<usize, PackageError> {
        self.by_name.get(name).copied().ok_or_else(|| {
            PackageError::one(fout_in(
                codes::LEESFOUT,
                name,
                format!("{name} komt niet voor in het pakket."),
            ))
        })
    }

    /// Stream entry `i` through `sink` in chunks, reading at most `limit + 1` bytes.
    fn stream(&self, i: usize, sink: &mut dyn FnMut(&[u8])) -> Result<u64, PackageError> {
        let entry = &self.entries[i];
        let name = entry.name.as_str();
        let declared = entry.size;
        // Reserve the declared size in the total budget (once per file).
        let first = {
            let mut b = self.budget.lock().unwrap_or_else(|p| p.into_inner());
            if b.counted.contains(&i) {
                false
            } else {
                let new_used = b.used.saturating_add(declared);
                if new_used > self.limits.max_total {
                    return Err(PackageError::one(totaal_te_groot(new_used, &self.limits)));
                }
                b.used = new_used;
                b.counted.insert(i);
                true
            }
        };
        let result = self.stream_inner(i, name, declared, sink);
        if result.is_err() && first {
            let mut b = self.budget.lock().unwrap_or_else(|p| p.into_inner());
            b.used = b.used.saturating_sub(declared);
            b.counted.remove(&i);
        }
        result
    }

    fn stream_inner(
        &self,
        i: usize,
        name: &str,
        declared: u64,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<u64, PackageError> {
        let limit = declared.min(self.limits.max_file);
        let lees_fout = |e: io::Error| -> PackageError {
            let code = if e.kind() == io::ErrorKind::InvalidData {
                codes::GROOTTE_KLOPT_NIET
            } else {
                codes::LEESFOUT
            };
            PackageError::one(fout_in(
                code,
                name,
                format!(
                    "{name} kan niet worden uitgepakt of gelezen ({e}). Maak het pakket opnieuw aan."
                ),
            ))
        };
        let n = match &self.source {
            Source::Zip { archive, zip_index } => {
                let mut guard = archive.lock().unwrap_or_else(|p| p.into_inner());
                let file = guard.by_index(zip_index[i]).map_err(|e| {
                    PackageError::one(fout_in(
                        codes::GEEN_ZIP,
                        name,
                        format!("{name} kan niet uit het zip-bestand worden gelezen ({e}). Maak het zip-bestand opnieuw aan."),
                    ))
                })?;
                copy_bounded(file.take(limit + 1), limit + 1, sink).map_err(lees_fout)?
            }
            Source::Dir(dir) => {
                let path = dir.join(name);
                let meta = fs::symlink_metadata(&path).map_err(lees_fout)?;
                if !meta.file_type().is_file() {
                    return Err(PackageError::one(fout_in(
                        codes::GEEN_GEWOON_BESTAND,
                        name,
                        format!(
                            "{name} is geen gewoon bestand meer. Neem alleen gewone bestanden op in het pakket."
                        ),
                    )));
                }
                let file = File::open(&path).map_err(lees_fout)?;
                copy_bounded(file.take(limit + 1), limit + 1, sink).map_err(lees_fout)?
            }
        };
        if n > self.limits.max_file {
            return Err(PackageError::one(te_groot(name, n, &self.limits)));
        }
        if n != declared {
            let wat = if n > declared { "minstens " } else { "" };
            return Err(PackageError::one(fout_in(
                codes::GROOTTE_KLOPT_NIET,
                name,
                format!(
                    "{name} is uitgepakt {wat}{n} bytes groot, maar het pakket vermeldt {declared} bytes. Het bestand of de zip-kop is beschadigd of vervalst; maak het pakket opnieuw aan."
                ),
            )));
        }
        Ok(n)
    }
}

/// Copy all of `r` (at most `max` bytes) into `sink` in chunks of up to 64 KiB; returns the
/// number of bytes. (The buffer is no larger than the file: a 64 KiB buffer zeroed for every
/// small file was a tenth of a small delivery's reading time.)
fn copy_bounded<R: Read>(mut r: R, max: u64, sink: &mut dyn FnMut(&[u8])) -> io::Result<u64> {
    let mut buf = vec![0u8; max.clamp(1, 64 * 1024) as usize];
    let mut n: u64 = 0;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => return Ok(n),
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sink(&buf[..k]);
        n += k as u64;
    }
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn te_veel(count: u64, limits: &Limits) -> Melding {
    fout(
        codes::TE_VEEL_BESTANDEN,
        format!(
            "Het pakket bevat {count} bestanden; de grens is {}. Verminder het aantal bestanden.",
            limits.max_entries
        ),
    )
}

fn te_groot(name: &str, size: u64, limits: &Limits) -> Melding {
    fout_in(
        codes::BESTANDSGROOTTE,
        name,
        format!(
            "{name} is uitgepakt {} groot; een bestand moet tussen 1 byte en {} groot zijn. Verklein of splits het bestand.",
            mib(size),
            mib(limits.max_file)
        ),
    )
}

fn totaal_te_groot(total: u64, limits: &Limits) -> Melding {
    fout(
        codes::TOTAAL_TE_GROOT,
        format!(
            "De bestanden in het pakket zijn samen uitgepakt {} groot; de grens is {}. Splits de levering of verklein de bestanden.",
            mib(total),
            mib(limits.max_total)
        ),
    )
}

fn dubbel(name: &str) -> Melding {
    fout_in(
        codes::DUBBELE_NAAM,
        name,
        format!(
            "De bestandsnaam {name} komt meer dan één keer voor in het zip-bestand. Zorg dat elke bestandsnaam één keer voorkomt."
        ),
    )
}

fn onveilig(name: &str, waarom: &str) -> Melding {
    fout_in(
        codes::ONVEILIGE_NAAM,
        name,
        format!(
            "De bestandsnaam {name:?} is onveilig: {waarom}. Zet alle bestanden zonder map of pad direct in het zip-bestand."
        ),
    )
}

fn submap(name: &str) -> Melding {
    fout_in(
        codes::SUBMAP,
        name,
        format!(
            "{name} is een map of staat in een map. Zet alle bestanden direct in de hoofdmap van het pakket, zonder submappen."
        ),
    )
}

/// Safety checks on one name; pushes meldingen (RB1101, RB1102, RB1109).
fn check_name(name: &str, limits: &Limits, meldingen: &mut Vec<Melding>) {
    if name.is_empty() {
        meldingen.push(onveilig(name, "de naam is leeg"));
        return;
    }
    if name.contains('\0') {
        meldingen.push(onveilig(name, "de naam bevat een NUL-teken"));
        return;
    }
    if name.contains('\\') {
        meldingen.push(onveilig(name, "de naam bevat een backslash"));
        return;
    }
    if name.starts_with('/') {
        meldingen.push(onveilig(name, "de naam is een absoluut pad"));
        return;
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        meldingen.push(onveilig(name, "de naam begint met een stationsletter"));
        return;
    }
    if name.split('/').any(|c| c == ".." || c == ".") {
        meldingen.push(onveilig(name, "de naam bevat '..' of '.' als padonderdeel"));
        return;
    }
    if name.chars().count() > limits.max_name_len {
        meldingen.push(fout_in(
            codes::NAAM_TE_LANG,
            name,
            format!(
                "De bestandsnaam is {} tekens lang; de grens is {}. Gebruik een kortere naam.",
                name.chars().count(),
                limits.max_name_len
            ),
        ));
        return;
    }
    if name.contains('/') {
        meldingen.push(submap(name));
    }
}

enum RawScan {
    Names(Vec<Vec<u8>>),
    TooMany(u64),
    CdTooLarge(u64),
}

fn le16(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn le32(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Read the end-of-central-directory record and the central directory file names, bounded by
/// the limits. Best effort: an error means "let the zip crate decide".
fn raw_central_directory<R: Read + Seek>(
    r: &mut R,
    len: u64,
    limits: &Limits,
) -> Result<RawScan, String> {
    const EOCD: [u8; 4] = *b"PK\x05\x06";
    let tail_len = len.min(22 + 65535);
    r.seek(SeekFrom::Start(len - tail_len))
        .map_err(|e| e.to_string())?;
    if tail_len < 22 {
        return Err("het bestand is te kort voor een zip-bestand".into());
    }
    let mut tail = vec![0u8; tail_len as usize];
    r.read_exact(&mut tail).map_err(|e| e.to_string())?;
    let mut found = None;
    let mut p = tail.len().saturating_sub(22) as isize;
    while p >= 0 {
        let u = p as usize;
        if tail[u..u + 4] == EOCD {
            let comment = le16(&tail, u + 20) as usize;
            if u + 22 + comment == tail.len() || found.is_none() {
                found = Some(u);
                if u + 22 + comment == tail.len() {
                    break;
                }
            }
        }
        p -= 1;
    }
    let p = found.ok_or("geen einde van de centrale map gevonden")?;
    let eocd_pos = len - tail_len + p as u64;
    let mut count = le16(&tail, p + 10);
    let mut cd_size = le32(&tail, p + 12);
    let mut cd_off = le32(&tail, p + 16);
    if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_off == 0xFFFF_FFFF {
        // Zip64: the locator sits right before the EOCD.
        if eocd_pos < 20 {
            return Err("zip64-locator ontbreekt".into());
        }
        let mut loc = [0u8; 20];
        r.seek(SeekFrom::Start(eocd_pos - 20))
            .map_err(|e| e.to_string())?;
        r.read_exact(&mut loc).map_err(|e| e.to_string())?;
        if loc[..4] != *b"PK\x06\x07" {
            return Err("zip64-locator ontbreekt".into());
        }
        let off64 = le64(&loc, 8);
        let mut rec = [0u8; 56];
        r.seek(SeekFrom::Start(off64)).map_err(|e| e.to_string())?;
        r.read_exact(&mut rec).map_err(|e| e.to_string())?;
        if rec[..4] != *b"PK\x06\x06" {
            return Err("zip64-einde van de centrale map ontbreekt".into());
        }
        count = le64(&rec, 32);
        cd_size = le64(&rec, 40);
        cd_off = le64(&rec, 48);
    }
    if count > limits.max_entries as u64 {
        return Ok(RawScan::TooMany(count));
    }
    // Each header is 46 bytes plus name, extra field and comment. Allow generous extra fields.
    let max_cd =
        (limits.max_entries as u64).saturating_mul(46 + 4 * limits.max_name_len as u64 + 1024);
    if cd_size > max_cd {
        return Ok(RawScan::CdTooLarge(cd_size));
    }
    if cd_off.saturating_add(cd_size) > len {
        return Err("de centrale map valt buiten het bestand".into());
    }
    r.seek(SeekFrom::Start(cd_off)).map_err(|e| e.to_string())?;
    let mut cd = vec![0u8; cd_size as usize];
    r.read_exact(&mut cd).map_err(|e| e.to_string())?;
    let mut names = Vec::with_capacity(count as usize);
    let mut at = 0usize;
    while at + 46 <= cd.len() && cd[at..at + 4] == *b"PK\x01\x02" {
        let nlen = le16(&cd, at + 28) as usize;
        let xlen = le16(&cd, at + 30) as usize;
        let clen = le16(&cd, at + 32) as usize;
        let end = at + 46 + nlen;
        if end > cd.len() {
            return Err("centrale map afgebroken".into());
        }
        names.push(cd[at + 46..end].to_vec());
        if names.len() as u64 > limits.max_entries as u64 {
            return Ok(RawScan::TooMany(names.len() as u64));
        }
        at = end + xlen + clen;
    }
    Ok(RawScan::Names(names))
}

/// Compare the package with its manifest. `manifest` is `None` when manifest.xml is missing or
/// could not be parsed (its own meldingen come from [`stop::manifest::parse_manifest`]).
///
/// Checks: opdracht.xml (LVBB1002) and manifest.xml (LVBB1003) present, file name characters
/// (LVBB1004), empty files (LVBB1041), unique names (LVBB1042), every manifest entry present
/// (LVBB1009), every file listed (LVBB1010; opdracht.xml and manifest.xml need not be listed),
/// the manifest lists each file once (LVBB1575).
pub fn check_integrity(pkg: &Package, manifest: Option<&Manifest>) -> Vec<Melding> {
    let mut out = Vec::new();
    if !pkg.contains(OPDRACHT_BESTAND) {
        out.push(fout_in(
            codes::GEEN_OPDRACHT,
            OPDRACHT_BESTAND,
            "Het pakket bevat geen opdracht.xml. Voeg opdracht.xml toe in de hoofdmap van het zip-bestand.",
        ));
    }
    if !pkg.contains(MANIFEST_BESTAND) {
        out.push(fout_in(
            codes::GEEN_MANIFEST,
            MANIFEST_BESTAND,
            "Het pakket bevat geen manifest.xml. Voeg manifest.xml toe met een bestand-element voor elk bestand in het pakket.",
        ));
    }
    let mut seen = HashSet::new();
    for e in pkg.entries() {
        let name = e.name.as_str();
        if !is_geldige_bestandsnaam(name) {
            let fout_tekens: String = name
                .chars()
                .filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
                .collect::<HashSet<char>>()
                .into_iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(fout_in(
                codes::ONGELDIGE_NAAM,
                name,
                format!(
                    "De bestandsnaam {name:?} bevat ongeldige tekens ({fout_tekens}). Gebruik alleen 0-9, A-Z, a-z, punt, liggend streepje en koppelteken."
                ),
            ));
        }
        if e.size == 0 {
            out.push(fout_in(
                codes::BESTANDSGROOTTE,
                name,
                format!(
                    "{name} is leeg (0 bytes); een bestand moet tussen 1 byte en {} groot zijn. Verwijder het bestand of lever de juiste inhoud aan.",
                    mib(pkg.limits().max_file)
                ),
            ));
        }
        if !seen.insert(name) {
            out.push(dubbel(name));
        }
    }
    if let Some(m) = manifest {
        let mut listed: HashMap<&str, u32> = HashMap::new();
        for b in &m.bestanden {
            let naam = b.bestandsnaam.as_str();
            let loc = stop::Locatie {
                bestand: Some(MANIFEST_BESTAND.to_string()),
                regel: Some(b.regel),
                ..Default::default()
            };
            if let Some(&eerste) = listed.get(naam) {
                out.push(
                    Melding::fout_technisch(
                        codes::DUBBEL_IN_MANIFEST,
                        format!(
                            "manifest.xml noemt {naam} meer dan één keer (eerder op regel {eerste}). Vermeld elk bestand één keer."
                        ),
                    )
                    .at(loc),
                );
                continue;
            }
            listed.insert(naam, b.regel);
            if !pkg.contains(naam) {
                out.push(
                    Melding::fout_technisch(
                        codes::ONTBREKEND_BESTAND,
                        format!(
                            "manifest.xml noemt {naam}, maar dat bestand zit niet in het pakket. Voeg het bestand toe of haal het uit manifest.xml."
                        ),
                    )
                    .at(loc),
                );
            }
        }
        for e in pkg.entries() {
            let name = e.name.as_str();
            if name == OPDRACHT_BESTAND || name == MANIFEST_BESTAND {
                continue;
            }
            if !listed.contains_key(name) {
                out.push(fout_in(
                    codes::NIET_IN_MANIFEST,
                    name,
                    format!(
                        "{name} zit in het pakket, maar staat niet in manifest.xml. Voeg een bestand-element voor {name} toe aan manifest.xml of haal het bestand uit het pakket."
                    ),
                ));
            }
        }
    }
    stop::melding::sort_meldingen(&mut out);
    out
}

/// SHA-256 over the sorted lines `name\0<hex sha256 of file>\n`: independent of package order
/// and of zip vs directory.
pub fn package_hash(files: &[(String, [u8; 32])]) -> [u8; 32] {
    Sha256::digest(package_listing(files)).into()
}

/// The canonical listing of a package: `name\0<hex sha256>\n` lines sorted by name. Its
/// SHA-256 is the package hash; the pipeline stores it as a blob.
pub fn package_listing(files: &[(String, [u8; 32])]) -> Vec<u8> {
    let mut sorted: Vec<&(String, [u8; 32])> = files.iter().collect();
    sorted.sort();
    let mut out = Vec::with_capacity(files.len() * 80);
    for (name, h) in sorted {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(hex::encode(h).as_bytes());
        out.push(b'\n');
    }
    out
}
