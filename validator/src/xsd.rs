//! The XSD layer: every XML file of a delivery validated in process with libxml2 against the
//! STOP/LVBB schemas of a schema directory (`--schemas DIR` / `REGELBANK_SCHEMAS`).
//!
//! # The schema directory
//!
//! Laid out like `../shared/schemas`: `catalog.xml` (an OASIS catalog that maps every
//! `schemaLocation` used inside the XSDs to the local copies), `lvbb-1.2.0_stop-1.3.0/` and
//! `lvbb-1.3.0-ic_stop-1.4.1/`. [`SchemaSets::open`] loads the catalog into libxml2's
//! process-wide catalog and makes libxml2 refuse network access (the external entity loader
//! is `xmlNoNetExternalEntityLoader`, what `xmllint --nonet` installs), so an import that the
//! catalog does not map fails instead of going to the network.
//!
//! # Which schema ([`kies`])
//!
//! | file | schema |
//! |---|---|
//! | `opdracht.xml`, `manifest.xml`, or any root in `http://www.overheid.nl/2017/lvbb` | `lvbb-transport.xsd` of LVBB 1.3.0-ic; only `directeMutatieOpdracht` and `validatieDirecteMutatieOpdracht` (removed in 1.3.0-ic) take the LVBB 1.2.0 set |
//! | root in `https://standaarden.overheid.nl/lvbb/stop/aanlevering/` or another STOP namespace | `lvbb-stop-aanlevering.xsd` of the set chosen by the root's `schemaversie` |
//! | GIO geometry (root `geo:GeoInformatieObjectVaststelling`, or any `.gml` file) | the STOP 1.4.1 `lvbb-stop-aanlevering.xsd` (it imports `imop-geo.xsd`, which is what xmllint then validates against); the STOP 1.3.0 `lvbb-stop-aanlevering.xsd` does not import `imop-geo.xsd`, so 1.3-era GML takes `stop/1.3.0/imop-geo.xsd` |
//! | anything else (IMOW files `ow*.xml`, `manifest-ow.xml`, …) | none: the schema directory has no IMOW schemas ([`Keuze::Geen`]) |
//!
//! `schemaversie` 1.0.x up to 1.3.x → STOP 1.3.0/LVBB 1.2.0; 1.4.x → STOP 1.4.1/LVBB 1.3.0-ic;
//! any other value → [`Keuze::OnbekendeVersie`] (melding RB4003, a waarschuwing: the parser's
//! LVBB1515 rejects the unsupported version itself). A root without `schemaversie` is
//! validated against the STOP 1.4.1 set: on a STOP module the schema then reports the missing
//! required attribute with its location, and GML that is not a STOP GIO (a bare
//! `gml:FeatureCollection`) is checked against the GML 3.2 schema that set imports, as xmllint
//! does with the same XSD.
//!
//! Why transport files do not follow the package's STOP version: opdracht.xml and manifest.xml
//! have no `schemaversie`, their `xsi:schemaLocation` is unreliable in practice (the Geonovum
//! manifests say `../lvbb/lvbb-transport.xsd`), and the LVBB 1.2.0 `lvbb-transport.xsd` of the
//! shared schema mirror is in fact the 2.0.0-rc draft (namespace `…/lvbb/transport`, and its
//! imports are not in the catalog: it does not compile). The 1.3.0-ic transport schema accepts
//! every opdracht of LVBB 1.2 except the directe mutatie, and the manifest is unchanged, so it
//! validates the transport files of both generations. A directe mutatie gets the 1.2.0 set; when
//! that schema does not load, the file gets RB4003 ("not validated") instead of a verdict.
//!
//! # Meldingen
//!
//! Every error libxml2 reports while validating a file becomes one `RB4001` melding (ernst
//! fout; a libxml2 warning becomes ernst waarschuwing) with libxml2's English text, the file,
//! and line and column. Validation is streaming (SAX, `xmlSchemaValidateStream`), so the
//! position is where the parser stood when the error was raised: the end of the start tag for
//! errors about an element, its attributes or its value (the line xmllint reports), the end
//! tag for errors found when an element closes, such as missing child elements (xmllint
//! reports the start tag's line there). Well-formedness
//! errors are reported the same way (the `stop` parser reports them as RB2001 too). At most
//! [`MAX_MELDINGEN`] meldingen per file; one more melding counts the rest.
//!
//! # Cost and threads
//!
//! [`SchemaSets::open`] only reads the catalog. Each XSD is compiled on first use and kept
//! (`OnceLock`); compiling takes 2–45 ms per XSD. Validation streams from the caller's bytes
//! (an `xmlParserInputBufferCreateIO` reader over the slice: no copy, no tree): the 50 MB
//! generated besluit validates in about 0.8 s with under 1 MB of extra resident memory
//! (xmllint, which builds a tree: 1.6 s, 330 MB). [`SchemaSets`] is `Send + Sync`: a compiled
//! `xmlSchema` is read-only during validation and every call creates its own validation
//! context (the pattern lxml uses for concurrent validation); libxml2's error callback is
//! per thread. Only one schema directory can be open per process, because libxml2 has one
//! catalog per process.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::fmt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::{Mutex, Once, OnceLock};

use stop::{Ernst, Locatie, Melding};

use crate::regels::schema::{RB4001, RB4002, RB4003};

/// At most this many RB4001 meldingen per file; a last one counts the rest.
pub const MAX_MELDINGEN: usize = 1000;

/// Namespace of opdracht.xml, manifest.xml and the LVBB responses.
pub const LVBB_NS: &str = "http://www.overheid.nl/2017/lvbb";
/// Namespace of the STOP delivery modules (AanleveringBesluit, …).
pub const LVBBA_NS: &str = "https://standaarden.overheid.nl/lvbb/stop/aanlevering/";
/// Namespace of GIO geometry (`geo:GeoInformatieObjectVaststelling`).
pub const GEO_NS: &str = "https://standaarden.overheid.nl/stop/imop/geo/";
const IMOP_NS_PREFIX: &str = "https://standaarden.overheid.nl/stop/imop/";
const LVBB_STOP_NS_PREFIX: &str = "https://standaarden.overheid.nl/lvbb/stop/";

/// The two schema generations of a schema directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchemaSet {
    /// `lvbb-1.2.0_stop-1.3.0/`: schemaversie 1.0.x up to 1.3.x (the A''' chain release).
    Lvbb120Stop130,
    /// `lvbb-1.3.0-ic_stop-1.4.1/`: schemaversie 1.4.x.
    Lvbb130icStop141,
}

impl SchemaSet {
    pub const ALLE: [SchemaSet; 2] = [SchemaSet::Lvbb120Stop130, SchemaSet::Lvbb130icStop141];

    /// The subdirectory of the schema directory.
    pub fn map(self) -> &'static str {
        match self {
            SchemaSet::Lvbb120Stop130 => "lvbb-1.2.0_stop-1.3.0",
            SchemaSet::Lvbb130icStop141 => "lvbb-1.3.0-ic_stop-1.4.1",
        }
    }

    /// For messages: `STOP 1.4.1/LVBB 1.3.0-ic`.
    pub fn naam(self) -> &'static str {
        match self {
            SchemaSet::Lvbb120Stop130 => "STOP 1.3.0/LVBB 1.2.0",
            SchemaSet::Lvbb130icStop141 => "STOP 1.4.1/LVBB 1.3.0-ic",
        }
    }

    /// The set for a `schemaversie` attribute: 1.0.x–1.3.x → STOP 1.3.0, 1.4.x → STOP 1.4.1.
    /// A patch part may carry a suffix (`1.4.0-rc`).
    pub fn voor_schemaversie(versie: &str) -> Option<SchemaSet> {
        let mut delen = versie.trim().split('.');
        let major: u32 = delen.next()?.parse().ok()?;
        let minor: u32 = delen.next()?.parse().ok()?;
        let patch = delen.next()?;
        if delen.next().is_some() || !patch.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        match (major, minor) {
            (1, 0..=3) => Some(SchemaSet::Lvbb120Stop130),
            (1, 4) => Some(SchemaSet::Lvbb130icStop141),
            _ => None,
        }
    }
}

impl fmt::Display for SchemaSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.naam())
    }
}

/// Which XSD of a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchemaSoort {
    /// `lvbb-transport.xsd`: opdracht.xml, manifest.xml, LVBB responses.
    Transport,
    /// `lvbb-stop-aanlevering.xsd`: the STOP delivery modules.
    StopAanlevering,
    /// GIO geometry (`.gml`).
    Geo,
}

/// A schema: set and kind. [`SchemaKeuze::xsd`] is its file, relative to the schema directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaKeuze {
    pub set: SchemaSet,
    pub soort: SchemaSoort,
}

/// The distinct XSD files, for the compiled-schema cache.
const XSDS: [&str; 5] = [
    "lvbb-1.2.0_stop-1.3.0/lvbb-transport.xsd",
    "lvbb-1.2.0_stop-1.3.0/lvbb-stop-aanlevering.xsd",
    "lvbb-1.2.0_stop-1.3.0/stop/1.3.0/imop-geo.xsd",
    "lvbb-1.3.0-ic_stop-1.4.1/lvbb/lvbb-transport.xsd",
    "lvbb-1.3.0-ic_stop-1.4.1/lvbb/lvbb-stop-aanlevering.xsd",
];

impl SchemaKeuze {
    pub const fn new(set: SchemaSet, soort: SchemaSoort) -> Self {
        SchemaKeuze { set, soort }
    }

    fn index(self) -> usize {
        use SchemaSet::*;
        use SchemaSoort::*;
        match (self.set, self.soort) {
            (Lvbb120Stop130, Transport) => 0,
            (Lvbb120Stop130, StopAanlevering) => 1,
            (Lvbb120Stop130, Geo) => 2,
            (Lvbb130icStop141, Transport) => 3,
            // lvbb-stop-aanlevering.xsd of 1.3.0-ic imports imop-geo.xsd: one compiled schema.
            (Lvbb130icStop141, StopAanlevering | Geo) => 4,
        }
    }

    /// The XSD file, relative to the schema directory (what xmllint gets as `--schema`).
    pub fn xsd(self) -> &'static str {
        XSDS[self.index()]
    }
}

impl fmt::Display for SchemaKeuze {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bestand = self.xsd().rsplit('/').next().unwrap_or_default();
        write!(f, "{}, {}", self.set.naam(), bestand)
    }
}

/// What [`kies`] decided for a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keuze {
    /// Validate against this schema.
    Schema(SchemaKeuze),
    /// A STOP file whose `schemaversie` is not one we have schemas for: not validated,
    /// melding RB4003.
    OnbekendeVersie(String),
    /// Not a file of the STOP/LVBB schemas (IMOW files, `manifest-ow.xml`, other XML): the XSD
    /// layer does not apply.
    Geen,
}

/// Choose the schema for a file from its name and its root element (read from the first
/// bytes; the rest is not looked at). See the module documentation for the table.
pub fn kies(bestand: &str, bytes: &[u8]) -> Keuze {
    let naam = bestand.rsplit(['/', '\\']).next().unwrap_or(bestand);
    let w = wortel(bytes);
    let ns = w.as_ref().and_then(|w| w.ns.as_deref());
    if naam == "opdracht.xml" || naam == "manifest.xml" || ns == Some(LVBB_NS) {
        let lokaal = w.as_ref().map(|w| w.lokaal.as_str()).unwrap_or_default();
        let set = if matches!(
            lokaal,
            "directeMutatieOpdracht" | "validatieDirecteMutatieOpdracht"
        ) {
            SchemaSet::Lvbb120Stop130
        } else {
            SchemaSet::Lvbb130icStop141
        };
        return Keuze::Schema(SchemaKeuze::new(set, SchemaSoort::Transport));
    }
    let gml = naam.to_ascii_lowercase().ends_with(".gml");
    let stop =
        ns.is_some_and(|n| n.starts_with(LVBB_STOP_NS_PREFIX) || n.starts_with(IMOP_NS_PREFIX));
    if !stop && !gml {
        return Keuze::Geen;
    }
    let soort = if ns == Some(GEO_NS) || (gml && !stop) {
        SchemaSoort::Geo
    } else {
        SchemaSoort::StopAanlevering
    };
    match w.and_then(|w| w.schemaversie) {
        None => Keuze::Schema(SchemaKeuze::new(SchemaSet::Lvbb130icStop141, soort)),
        Some(v) => match SchemaSet::voor_schemaversie(&v) {
            Some(set) => Keuze::Schema(SchemaKeuze::new(set, soort)),
            None => Keuze::OnbekendeVersie(v),
        },
    }
}

/// Melding RB4002 for a report when no schema directory is configured.
pub fn niet_uitgevoerd() -> Melding {
    RB4002.melding(Locatie::default(), &[])
}

/// Why a schema directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum XsdError {
    #[error("schemamap {0} bestaat niet of is geen map")]
    GeenMap(PathBuf),
    #[error("schemamap {0} heeft geen catalog.xml")]
    GeenCatalogus(PathBuf),
    #[error(
        "schemamap {0} heeft geen van de schemasets lvbb-1.2.0_stop-1.3.0/ en lvbb-1.3.0-ic_stop-1.4.1/"
    )]
    GeenSchemaSets(PathBuf),
    #[error("libxml2 kan de catalogus {0} niet laden")]
    Catalogus(PathBuf),
    #[error(
        "er is al een andere schemamap in gebruik ({0}); libxml2 heeft één catalogus per proces"
    )]
    AndereMap(PathBuf),
    #[error("schema {xsd} kan niet worden geladen: {fout}")]
    Schema { xsd: String, fout: String },
}

/// A compiled `xmlSchema`, freed on drop.
struct Gecompileerd(*mut c_void);

// SAFETY: a compiled xmlSchema is not modified by validation; each validation creates its own
// xmlSchemaValidCtxt (see the module documentation). Freeing happens once, on drop.
unsafe impl Send for Gecompileerd {}
unsafe impl Sync for Gecompileerd {}

impl Drop for Gecompileerd {
    fn drop(&mut self) {
        // SAFETY: the pointer came from xmlSchemaParse and is freed only here.
        unsafe { ffi::xmlSchemaFree(self.0) }
    }
}

/// The schema sets of a schema directory, compiled lazily and cached. See the module
/// documentation.
pub struct SchemaSets {
    dir: PathBuf,
    schemas: [OnceLock<Result<Gecompileerd, String>>; 5],
}

impl fmt::Debug for SchemaSets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaSets")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

static INIT: Once = Once::new();
/// The schema directory whose catalog libxml2 has loaded (one per process).
static CATALOGUS: Mutex<Option<PathBuf>> = Mutex::new(None);
/// Compiling a schema goes through libxml2's global catalog and loader: one at a time.
static COMPILEREN: Mutex<()> = Mutex::new(());

fn init_libxml2() {
    INIT.call_once(|| {
        // SAFETY: plain libxml2 initialisation; the loader is libxml2's own function.
        unsafe {
            ffi::xmlInitParser();
            ffi::xmlSetExternalEntityLoader(ffi::xmlNoNetExternalEntityLoader);
        }
    });
}

impl SchemaSets {
    /// Open a schema directory: check its layout and load its `catalog.xml` into libxml2.
    /// Cheap (no schema is compiled here). Opening the same directory again is fine; another
    /// directory in the same process is [`XsdError::AndereMap`].
    pub fn open(dir: impl AsRef<Path>) -> Result<SchemaSets, XsdError> {
        let dir = dir.as_ref();
        let dir = std::fs::canonicalize(dir)
            .ok()
            .filter(|d| d.is_dir())
            .ok_or_else(|| XsdError::GeenMap(dir.to_path_buf()))?;
        let catalogus = dir.join("catalog.xml");
        if !catalogus.is_file() {
            return Err(XsdError::GeenCatalogus(dir));
        }
        if !SchemaSet::ALLE.iter().any(|s| dir.join(s.map()).is_dir()) {
            return Err(XsdError::GeenSchemaSets(dir));
        }
        init_libxml2();
        let mut geladen = CATALOGUS.lock().unwrap_or_else(|e| e.into_inner());
        match &*geladen {
            Some(d) if *d == dir => {}
            Some(d) => return Err(XsdError::AndereMap(d.clone())),
            None => {
                let c = CString::new(catalogus.to_string_lossy().as_bytes())
                    .map_err(|_| XsdError::Catalogus(catalogus.clone()))?;
                let mut v = Verzamelaar::default();
                // SAFETY: `c` outlives the call; the error callback only runs during it.
                let rc = unsafe {
                    let _stil = StilleFouten::zet(&mut v);
                    ffi::xmlLoadCatalog(c.as_ptr())
                };
                if rc != 0 {
                    return Err(XsdError::Catalogus(catalogus));
                }
                *geladen = Some(dir.clone());
            }
        }
        Ok(SchemaSets {
            dir,
            schemas: Default::default(),
        })
    }

    /// The schema directory (canonical path).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Compile a schema now (normally it is compiled on first use), e.g. to fail early or to
    /// measure. Compiled once; later calls return the cached result.
    pub fn laad(&self, keuze: SchemaKeuze) -> Result<(), XsdError> {
        self.schema(keuze)
            .map(|_| ())
            .map_err(|fout| XsdError::Schema {
                xsd: keuze.xsd().to_string(),
                fout,
            })
    }

    fn schema(&self, keuze: SchemaKeuze) -> Result<&Gecompileerd, String> {
        self.schemas[keuze.index()]
            .get_or_init(|| compileer(&self.dir.join(keuze.xsd())))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Choose the schema ([`kies`]) and validate: RB4001 per schema error, RB4003 when the
    /// file cannot be validated, nothing for files outside the STOP/LVBB schemas and for
    /// valid files.
    pub fn valideer_bestand(&self, bestand: &str, bytes: &[u8]) -> Vec<Melding> {
        match kies(bestand, bytes) {
            Keuze::Schema(k) => self.valideer(bestand, bytes, k),
            Keuze::OnbekendeVersie(v) => {
                let reden = format!(
                    "schemaversie '{v}' hoort bij geen van de schemasets (1.0.x tot en met 1.3.x: {}; 1.4.x: {})",
                    SchemaSet::Lvbb120Stop130,
                    SchemaSet::Lvbb130icStop141
                );
                vec![RB4003.melding(
                    Locatie::bestand(bestand),
                    &[("bestand", &bestand), ("reden", &reden)],
                )]
            }
            Keuze::Geen => Vec::new(),
        }
    }

    /// Validate `bytes` (the file `bestand`) against `keuze`. No meldingen: valid. Every
    /// schema error is an RB4001 melding with line and column; a schema that does not load
    /// gives one RB4003 melding (the file is then not validated).
    pub fn valideer(&self, bestand: &str, bytes: &[u8], keuze: SchemaKeuze) -> Vec<Melding> {
        let schema = match self.schema(keuze) {
            Ok(s) => s,
            Err(fout) => {
                let reden = format!("het schema {} kan niet worden geladen: {fout}", keuze.xsd());
                return vec![RB4003.melding(
                    Locatie::bestand(bestand),
                    &[("bestand", &bestand), ("reden", &reden)],
                )];
            }
        };
        let fout = |tekst: String, regel: u32, kolom: u32| {
            let locatie = Locatie {
                bestand: Some(bestand.to_string()),
                regel: (regel > 0).then_some(regel),
                kolom: (kolom > 0).then_some(kolom),
                ..Default::default()
            };
            RB4001.melding(
                locatie,
                &[("bestand", &bestand), ("schema", &keuze), ("fout", &tekst)],
            )
        };
        let mut v = Verzamelaar::default();
        // SAFETY: the validation context is created and freed here; the input buffer reads
        // from `lezer`, which outlives the call (xmlSchemaValidateStream frees the buffer
        // with its parser context, and `sluit` frees nothing); the error callbacks write
        // into `v` only during the call.
        let rc = unsafe {
            let vctxt = ffi::xmlSchemaNewValidCtxt(schema.0);
            if vctxt.is_null() {
                -1
            } else {
                let _stil = StilleFouten::zet(&mut v);
                ffi::xmlSchemaSetValidStructuredErrors(vctxt, Some(verzamel), (&raw mut v).cast());
                // Not xmlParserInputBufferCreateStatic: with libxml2 2.9 and
                // xmlSchemaValidateStream it corrupts larger documents (bogus "Opening and
                // ending tag mismatch" errors, crashes).
                let mut lezer = Lezer { rest: bytes };
                let buf = ffi::xmlParserInputBufferCreateIO(
                    Some(lees),
                    Some(sluit),
                    (&raw mut lezer).cast(),
                    ffi::XML_CHAR_ENCODING_NONE,
                );
                let rc = if buf.is_null() {
                    -1
                } else {
                    ffi::xmlSchemaValidateStream(
                        vctxt,
                        buf,
                        ffi::XML_CHAR_ENCODING_NONE,
                        ptr::null_mut(),
                        ptr::null_mut(),
                    )
                };
                ffi::xmlSchemaFreeValidCtxt(vctxt);
                rc
            }
        };
        let mut out: Vec<Melding> = v
            .fouten
            .iter()
            .map(|f| {
                let tekst = if f.domein == ffi::XML_FROM_SCHEMASV {
                    f.bericht.clone()
                } else {
                    format!("XML-fout: {}", f.bericht)
                };
                let mut m = fout(tekst, f.regel, f.kolom);
                if f.niveau == ffi::XML_ERR_WARNING {
                    m.ernst = Ernst::Waarschuwing;
                }
                m
            })
            .collect();
        if v.overig > 0 {
            out.push(fout(format!("nog {} meldingen van libxml2 in dit bestand zijn niet afzonderlijk opgenomen (maximum {MAX_MELDINGEN})", v.overig), 0, 0));
        }
        if rc != 0 && !out.iter().any(|m| m.ernst == Ernst::Fout) {
            out.push(fout(
                format!("libxml2 keurt het bestand af zonder foutmelding (code {rc})"),
                0,
                0,
            ));
        }
        out
    }
}

/// Compile one XSD; `Err` holds libxml2's messages.
fn compileer(xsd: &Path) -> Result<Gecompileerd, String> {
    let _een = COMPILEREN.lock().unwrap_or_else(|e| e.into_inner());
    let pad = CString::new(xsd.to_string_lossy().as_bytes())
        .map_err(|_| format!("ongeldig pad {}", xsd.display()))?;
    let mut v = Verzamelaar::default();
    // SAFETY: parser context created and freed here; `pad` outlives it; the callbacks write
    // into `v` only during these calls.
    let schema = unsafe {
        let _stil = StilleFouten::zet(&mut v);
        let pctxt = ffi::xmlSchemaNewParserCtxt(pad.as_ptr());
        if pctxt.is_null() {
            ptr::null_mut()
        } else {
            ffi::xmlSchemaSetParserStructuredErrors(pctxt, Some(verzamel), (&raw mut v).cast());
            let s = ffi::xmlSchemaParse(pctxt);
            ffi::xmlSchemaFreeParserCtxt(pctxt);
            s
        }
    };
    if schema.is_null() {
        let mut fouten: Vec<String> = v
            .fouten
            .iter()
            .filter(|f| f.niveau > ffi::XML_ERR_WARNING)
            .map(|f| f.bericht.clone())
            .collect();
        if fouten.is_empty() {
            fouten = v.fouten.iter().map(|f| f.bericht.clone()).collect();
        }
        fouten.truncate(3);
        if fouten.is_empty() {
            fouten.push("onbekende fout".to_string());
        }
        return Err(fouten.join("; "));
    }
    Ok(Gecompileerd(schema))
}

/// One error reported by libxml2.
#[derive(Debug)]
struct Fout {
    niveau: c_int,
    domein: c_int,
    bericht: String,
    regel: u32,
    kolom: u32,
}

#[derive(Default)]
struct Verzamelaar {
    fouten: Vec<Fout>,
    overig: usize,
}

/// libxml2's structured error callback: collect into the `Verzamelaar` behind `user`.
unsafe extern "C" fn verzamel(user: *mut c_void, fout: *mut ffi::XmlError) {
    if user.is_null() || fout.is_null() {
        return;
    }
    // SAFETY: `user` is the `Verzamelaar` registered for the duration of the libxml2 call that
    // is running now, on this thread; `fout` is valid for this callback.
    let (v, f) = unsafe { (&mut *user.cast::<Verzamelaar>(), &*fout) };
    if v.fouten.len() >= MAX_MELDINGEN {
        v.overig += 1;
        return;
    }
    let bericht = if f.message.is_null() {
        format!("libxml2-fout {}", f.code)
    } else {
        // SAFETY: libxml2 gives a NUL-terminated message.
        unsafe { CStr::from_ptr(f.message) }
            .to_string_lossy()
            .trim_end()
            .to_string()
    };
    v.fouten.push(Fout {
        niveau: f.level,
        domein: f.domain,
        bericht,
        regel: u32::try_from(f.line).unwrap_or(0),
        kolom: u32::try_from(f.int2).unwrap_or(0),
    });
}

/// The caller's bytes as a libxml2 input: read in the chunks the parser asks for, not copied
/// as a whole.
struct Lezer<'a> {
    rest: &'a [u8],
}

unsafe extern "C" fn lees(ctx: *mut c_void, buffer: *mut c_char, len: c_int) -> c_int {
    if ctx.is_null() || buffer.is_null() || len <= 0 {
        return 0;
    }
    // SAFETY: `ctx` is the `Lezer` of the running `valideer` call; libxml2 gives a buffer of
    // `len` bytes.
    let lezer = unsafe { &mut *ctx.cast::<Lezer<'_>>() };
    let n = lezer.rest.len().min(len as usize);
    unsafe { ptr::copy_nonoverlapping(lezer.rest.as_ptr(), buffer.cast::<u8>(), n) };
    lezer.rest = &lezer.rest[n..];
    n as c_int
}

unsafe extern "C" fn sluit(_ctx: *mut c_void) -> c_int {
    0
}

/// Routes libxml2's per-thread structured error handler to a `Verzamelaar` (so nothing is
/// printed on stderr) until dropped.
struct StilleFouten;

impl StilleFouten {
    /// SAFETY: `v` must outlive the returned guard and not be touched while it lives.
    unsafe fn zet(v: &mut Verzamelaar) -> StilleFouten {
        unsafe { ffi::xmlSetStructuredErrorFunc((v as *mut Verzamelaar).cast(), Some(verzamel)) };
        StilleFouten
    }
}

impl Drop for StilleFouten {
    fn drop(&mut self) {
        // SAFETY: resets this thread's handler.
        unsafe { ffi::xmlSetStructuredErrorFunc(ptr::null_mut(), None) };
    }
}

// ------------------------------------------------------------------------------ root element

/// The root element of an XML file: local name, namespace, `schemaversie`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wortel {
    lokaal: String,
    ns: Option<String>,
    schemaversie: Option<String>,
}

/// Read the root start tag from the first megabyte (after XML declaration, comments,
/// processing instructions and a DOCTYPE). `None` when there is none there.
fn wortel(bytes: &[u8]) -> Option<Wortel> {
    let kop = &bytes[..bytes.len().min(1 << 20)];
    let tekst = match std::str::from_utf8(kop) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&kop[..e.valid_up_to()]).ok()?,
    };
    let mut s = tekst.strip_prefix('\u{feff}').unwrap_or(tekst);
    loop {
        s = s.trim_start();
        if let Some(r) = s.strip_prefix("<?") {
            s = &r[r.find("?>")? + 2..];
        } else if let Some(r) = s.strip_prefix("<!--") {
            s = &r[r.find("-->")? + 3..];
        } else if let Some(r) = s.strip_prefix("<!") {
            let einde = r.find('>')?;
            s = match r.find('[') {
                Some(b) if b < einde => {
                    let na = &r[b..];
                    let na = &na[na.find(']')?..];
                    &na[na.find('>')? + 1..]
                }
                _ => &r[einde + 1..],
            };
        } else if s.starts_with('<') {
            break;
        } else {
            return None;
        }
    }
    let s = &s[1..];
    let eind = s.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
    let qnaam = &s[..eind];
    let mut rest = &s[eind..];
    let mut attrs: Vec<(&str, &str)> = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with('>') || rest.starts_with("/>") {
            break;
        }
        let is = rest.find('=')?;
        let naam = rest[..is].trim();
        let r = rest[is + 1..].trim_start();
        let q = r.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let eind = r[1..].find(q)?;
        attrs.push((naam, &r[1..1 + eind]));
        rest = &r[eind + 2..];
    }
    let (prefix, lokaal) = match qnaam.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, qnaam),
    };
    let ns = attrs
        .iter()
        .find(|(n, _)| match prefix {
            Some(p) => n.strip_prefix("xmlns:") == Some(p),
            None => *n == "xmlns",
        })
        .map(|(_, v)| ontsnap(v));
    let schemaversie = attrs
        .iter()
        .find(|(n, _)| *n == "schemaversie")
        .map(|(_, v)| ontsnap(v).trim().to_string());
    Some(Wortel {
        lokaal: lokaal.to_string(),
        ns,
        schemaversie,
    })
}

/// The predefined entities in an attribute value (enough for namespaces and versions).
fn ontsnap(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

// ------------------------------------------------------------------------------------- FFI

/// The part of libxml2's C API the XSD layer uses (libxml2 ≥ 2.9; linked by `build.rs`).
#[allow(non_snake_case, non_camel_case_types)]
mod ffi {
    use std::ffi::{c_char, c_int, c_void};

    /// `struct _xmlError` (xmlerror.h), unchanged since libxml2 2.6.
    #[repr(C)]
    pub struct XmlError {
        pub domain: c_int,
        pub code: c_int,
        pub message: *mut c_char,
        pub level: c_int,
        pub file: *mut c_char,
        pub line: c_int,
        pub str1: *mut c_char,
        pub str2: *mut c_char,
        pub str3: *mut c_char,
        pub int1: c_int,
        /// The column, where known.
        pub int2: c_int,
        pub ctxt: *mut c_void,
        pub node: *mut c_void,
    }

    pub type xmlStructuredErrorFunc = unsafe extern "C" fn(user: *mut c_void, error: *mut XmlError);
    pub type xmlInputReadCallback =
        unsafe extern "C" fn(context: *mut c_void, buffer: *mut c_char, len: c_int) -> c_int;
    pub type xmlInputCloseCallback = unsafe extern "C" fn(context: *mut c_void) -> c_int;
    pub type xmlExternalEntityLoader = unsafe extern "C" fn(
        url: *const c_char,
        id: *const c_char,
        ctxt: *mut c_void,
    ) -> *mut c_void;

    pub const XML_ERR_WARNING: c_int = 1;
    pub const XML_FROM_SCHEMASV: c_int = 17;
    pub const XML_CHAR_ENCODING_NONE: c_int = 0;

    unsafe extern "C" {
        pub fn xmlInitParser();
        pub fn xmlLoadCatalog(filename: *const c_char) -> c_int;
        pub fn xmlSetExternalEntityLoader(f: xmlExternalEntityLoader);
        pub fn xmlNoNetExternalEntityLoader(
            url: *const c_char,
            id: *const c_char,
            ctxt: *mut c_void,
        ) -> *mut c_void;
        pub fn xmlSetStructuredErrorFunc(ctx: *mut c_void, handler: Option<xmlStructuredErrorFunc>);

        pub fn xmlSchemaNewParserCtxt(url: *const c_char) -> *mut c_void;
        pub fn xmlSchemaSetParserStructuredErrors(
            ctxt: *mut c_void,
            serror: Option<xmlStructuredErrorFunc>,
            ctx: *mut c_void,
        );
        pub fn xmlSchemaParse(ctxt: *mut c_void) -> *mut c_void;
        pub fn xmlSchemaFreeParserCtxt(ctxt: *mut c_void);
        pub fn xmlSchemaFree(schema: *mut c_void);

        pub fn xmlSchemaNewValidCtxt(schema: *mut c_void) -> *mut c_void;
        pub fn xmlSchemaSetValidStructuredErrors(
            ctxt: *mut c_void,
            serror: Option<xmlStructuredErrorFunc>,
            ctx: *mut c_void,
        );
        pub fn xmlSchemaFreeValidCtxt(ctxt: *mut c_void);
        pub fn xmlSchemaValidateStream(
            ctxt: *mut c_void,
            input: *mut c_void,
            enc: c_int,
            sax: *mut c_void,
            user_data: *mut c_void,
        ) -> c_int;

        pub fn xmlParserInputBufferCreateIO(
            ioread: Option<xmlInputReadCallback>,
            ioclose: Option<xmlInputCloseCallback>,
            ioctx: *mut c_void,
            enc: c_int,
        ) -> *mut c_void;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemaversie_kiest_de_set() {
        use SchemaSet::*;
        for (v, s) in [
            ("1.0.4", Some(Lvbb120Stop130)),
            ("1.1.0", Some(Lvbb120Stop130)),
            ("1.2.0", Some(Lvbb120Stop130)),
            ("1.3.0", Some(Lvbb120Stop130)),
            (" 1.4.1 ", Some(Lvbb130icStop141)),
            ("1.4.0-rc", Some(Lvbb130icStop141)),
            ("1.5.0", None),
            ("2.0.0-rc", None),
            ("@@@IMOPVERSIE@@@", None),
            ("1.4", None),
            ("", None),
        ] {
            assert_eq!(SchemaSet::voor_schemaversie(v), s, "{v}");
        }
    }

    #[test]
    fn leest_het_hoofdelement() {
        let x = "\u{feff}<?xml version=\"1.0\"?>\n<!-- c -->\n<!DOCTYPE x [ <!ENTITY a 'b'> ]>\n<?pi x?>\n<lvbba:AanleveringBesluit xmlns:lvbba='https://standaarden.overheid.nl/lvbb/stop/aanlevering/'\n  schemaversie=\"1.4.1\" xmlns=\"urn:x\">";
        let w = wortel(x.as_bytes()).unwrap();
        assert_eq!(w.lokaal, "AanleveringBesluit");
        assert_eq!(w.ns.as_deref(), Some(LVBBA_NS));
        assert_eq!(w.schemaversie.as_deref(), Some("1.4.1"));
        let w = wortel(b"<manifest xmlns=\"http://www.overheid.nl/2017/lvbb\"/>").unwrap();
        assert_eq!(
            (w.lokaal.as_str(), w.ns.as_deref()),
            ("manifest", Some(LVBB_NS))
        );
        assert_eq!(wortel(b""), None);
        assert_eq!(wortel(b"geen xml"), None);
    }

    #[test]
    fn kiest_per_bestand() {
        let besluit = br#"<AanleveringBesluit xmlns="https://standaarden.overheid.nl/lvbb/stop/aanlevering/" schemaversie="1.2.0">"#;
        assert_eq!(
            kies("besluit.xml", besluit),
            Keuze::Schema(SchemaKeuze::new(
                SchemaSet::Lvbb120Stop130,
                SchemaSoort::StopAanlevering
            ))
        );
        let gml = br#"<geo:GeoInformatieObjectVaststelling xmlns:geo="https://standaarden.overheid.nl/stop/imop/geo/" schemaversie="1.4.1">"#;
        let k = SchemaKeuze::new(SchemaSet::Lvbb130icStop141, SchemaSoort::Geo);
        assert_eq!(kies("a.gml", gml), Keuze::Schema(k));
        assert_eq!(
            k.xsd(),
            "lvbb-1.3.0-ic_stop-1.4.1/lvbb/lvbb-stop-aanlevering.xsd"
        );
        let gml13 = br#"<geo:GeoInformatieObjectVaststelling xmlns:geo="https://standaarden.overheid.nl/stop/imop/geo/" schemaversie="1.3.0">"#;
        assert_eq!(
            kies("a.gml", gml13),
            Keuze::Schema(SchemaKeuze::new(
                SchemaSet::Lvbb120Stop130,
                SchemaSoort::Geo
            ))
        );
        let dm = br#"<directeMutatieOpdracht xmlns="http://www.overheid.nl/2017/lvbb">"#;
        assert_eq!(
            kies("opdracht.xml", dm),
            Keuze::Schema(SchemaKeuze::new(
                SchemaSet::Lvbb120Stop130,
                SchemaSoort::Transport
            ))
        );
        let po = br#"<publicatieOpdracht xmlns="http://www.overheid.nl/2017/lvbb">"#;
        assert_eq!(
            kies("opdracht.xml", po),
            Keuze::Schema(SchemaKeuze::new(
                SchemaSet::Lvbb130icStop141,
                SchemaSoort::Transport
            ))
        );
        assert_eq!(
            kies("opdracht.xml", b"kapot"),
            Keuze::Schema(SchemaKeuze::new(
                SchemaSet::Lvbb130icStop141,
                SchemaSoort::Transport
            ))
        );
        let ow = br#"<ow-dc:owBestand xmlns:ow-dc="http://www.geostandaarden.nl/imow/bestanden/deelbestand">"#;
        assert_eq!(kies("owLocatie.xml", ow), Keuze::Geen);
        let onbekend = br#"<AanleveringBesluit xmlns="https://standaarden.overheid.nl/lvbb/stop/aanlevering/" schemaversie="2.0.0">"#;
        assert_eq!(
            kies("b.xml", onbekend),
            Keuze::OnbekendeVersie("2.0.0".into())
        );
        let zonder = br#"<AanleveringBesluit xmlns="https://standaarden.overheid.nl/lvbb/stop/aanlevering/">"#;
        assert_eq!(
            kies("b.xml", zonder),
            Keuze::Schema(SchemaKeuze::new(
                SchemaSet::Lvbb130icStop141,
                SchemaSoort::StopAanlevering
            ))
        );
        let fc = br#"<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2">"#;
        assert_eq!(
            kies("a.gml", fc),
            Keuze::Schema(SchemaKeuze::new(
                SchemaSet::Lvbb130icStop141,
                SchemaSoort::Geo
            ))
        );
    }

    #[test]
    fn rb4002_zonder_plaatshouders() {
        let m = niet_uitgevoerd();
        assert_eq!(m.code, "RB4002");
        assert!(!m.beschrijving.contains('{'));
    }
}
