//! Ledger records, catalogue effects and index views.

use serde::{Deserialize, Serialize};

use crate::hash::Hash;

/// What the caller commits: one delivery.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct NewRecord {
    /// RFC 3339 UTC, set by the caller.
    pub received_at: String,
    /// OIN of idAanleveraar.
    pub aanleveraar: String,
    /// OIN of idBevoegdGezag.
    pub bevoegd_gezag: String,
    pub id_levering: String,
    /// e.g. "publicatieOpdracht".
    pub opdracht: String,
    pub package_hash: Hash,
    /// Every file of the package.
    pub files: Vec<FileRef>,
    /// e.g. "gepubliceerd", "afgebroken".
    pub outcome: String,
    /// Blob with the JSON report.
    pub report: Option<Hash>,
    /// Any other blobs this delivery references.
    #[serde(default)]
    pub derived: Vec<Hash>,
    #[serde(default)]
    pub effects: Effects,
}

impl NewRecord {
    /// Every blob hash this record names (package, files, report, derived, expression blobs),
    /// deduplicated, sorted.
    pub fn referenced_hashes(&self) -> Vec<Hash> {
        let mut v = vec![self.package_hash];
        v.extend(self.files.iter().map(|f| f.hash));
        v.extend(self.report);
        v.extend(self.derived.iter().copied());
        v.extend(self.effects.expressions.iter().filter_map(|e| e.blob));
        v.extend(self.effects.expressions.iter().filter_map(|e| e.wids));
        v.extend(self.effects.expressions.iter().filter_map(|e| e.procedure));
        v.extend(self.effects.uitwisseling);
        v.extend(self.effects.tam);
        v.sort();
        v.dedup();
        v
    }
}

/// One file of a package.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FileRef {
    pub name: String,
    pub hash: Hash,
    pub size: u64,
    pub content_type: Option<String>,
}

/// What a delivery adds to the catalogue; indexes derive from this.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Effects {
    #[serde(default)]
    pub works: Vec<WorkEntry>,
    #[serde(default)]
    pub expressions: Vec<ExpressionEntry>,
    /// Expression or work ids of publications cancelled by this delivery.
    #[serde(default)]
    pub afgebroken: Vec<String>,
    /// Doelen (`/join/id/proces/...`) this delivery uses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doelen: Vec<String>,
    /// Blob with the consolidation exchange this delivery fed to the time-travel engine
    /// (JSON, `timetravel::Uitwisseling`): replaying these in ledger order derives the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uitwisseling: Option<Hash>,
    /// Blob with the TAM document this record published (JSON, `ingest::tam::TamDocument`):
    /// a document taken in through the tijdelijke alternatieve maatregel, kept byte for byte
    /// and never consolidated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tam: Option<Hash>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WorkEntry {
    pub work: String,
    pub soort_work: Option<String>,
    /// "besluit", "regeling", "informatieobject", "kennisgeving", ...
    pub kind: String,
    pub title: Option<String>,
    /// e.g. gm9920 or an OIN.
    pub bevoegd_gezag: Option<String>,
    pub owner_oin: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ExpressionEntry {
    pub expression: String,
    pub work: String,
    pub kind: String,
    pub file: Option<String>,
    pub blob: Option<Hash>,
    pub datum_bekendmaking: Option<String>,
    #[serde(default)]
    pub ontwerp: bool,
    /// Blob listing the wIds of this (regeling) expression, one per line, sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wids: Option<Hash>,
    /// Root node of the consolidated text of this (regeling) version in the tree store
    /// (`Store::read_tree`); its pack is in the record's `derived` list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tekst: Option<Hash>,
    /// Root node of the provenance of this (regeling) version's text in the tree store: for
    /// every article-level unit, the besluit that gave it its current wording (format:
    /// `ingest::consolidatie::Herkomst`); its pack is in the record's `derived` list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub herkomst: Option<Hash>,
    /// Blob with the current procedureverloop of this (besluit) expression, as JSON; a later
    /// kennisgeving or procedureverloopmutatie names a new blob (the latest one counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<Hash>,
}

/// A committed delivery as stored in the ledger. On disk each record line also carries the
/// SHA-256 of its JSON (the record checksum; the next record's `prev`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LedgerRecord {
    /// 1-based, gapless.
    pub seq: u64,
    /// Hash of the previous record line's JSON; all-zero for the first.
    pub prev: Hash,
    #[serde(flatten)]
    pub rec: NewRecord,
}

/// A work as the index knows it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WorkView {
    #[serde(flatten)]
    pub entry: WorkEntry,
    /// seq of the first record naming this work.
    pub first_seq: u64,
    /// Expression ids of this work, in order of first appearance.
    pub expressions: Vec<String>,
    pub afgebroken: bool,
}

/// An expression as the index knows it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ExpressionView {
    #[serde(flatten)]
    pub entry: ExpressionEntry,
    /// seq of the first record naming this expression.
    pub seq: u64,
    pub afgebroken: bool,
}

/// Result of [`crate::Store::rebuild`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct RebuildStats {
    pub records: u64,
    pub works: u64,
    pub expressions: u64,
}

/// A committed delivery as the index knows it (by seq).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DeliveryView {
    pub seq: u64,
    pub received_at: String,
    pub aanleveraar: String,
    pub bevoegd_gezag: String,
    pub id_levering: String,
    pub opdracht: String,
    pub package_hash: Hash,
    pub outcome: String,
    pub report: Option<Hash>,
}

impl DeliveryView {
    pub(crate) fn of(r: &LedgerRecord) -> DeliveryView {
        DeliveryView {
            seq: r.seq,
            received_at: r.rec.received_at.clone(),
            aanleveraar: r.rec.aanleveraar.clone(),
            bevoegd_gezag: r.rec.bevoegd_gezag.clone(),
            id_levering: r.rec.id_levering.clone(),
            opdracht: r.rec.opdracht.clone(),
            package_hash: r.rec.package_hash,
            outcome: r.rec.outcome.clone(),
            report: r.rec.report,
        }
    }
}
