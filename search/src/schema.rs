//! The tantivy schema and the analyzers.
//!
//! One index holds three kinds of documents (field `soort_doc`):
//! - `a`, an article-level unit per distinct content: text fields plus work metadata and a
//!   dense number `nr` (fast field) that versions refer to;
//! - `e`, a version (expression): the `nr`s of the units it contains (stored bytes, u32 LE);
//! - `w`, a work: its metadata and time-travel table ([`crate::Tijdvakken`], stored JSON).
//!
//! `sleutel` is unique over all documents (`a:<hash>`, `e:<expression>`, `w:<work>`), so every
//! write deletes by that term before it adds: replaying a write never duplicates.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};

/// Dutch analysis: words, lowercase, Dutch stop words removed, Snowball Dutch stemmer, then
/// diacritics folded.
pub const NL: &str = "nl";
/// Exact form: words, lowercase only.
pub const EXACT: &str = "exact";

/// Bumped when the schema or the analysis changes; an index in another format is rebuilt.
pub const FORMAAT: u32 = 1;

#[derive(Clone, Copy, Debug)]
pub struct Velden {
    pub soort_doc: Field,
    pub sleutel: Field,
    pub nr: Field,
    pub werk: Field,
    pub bevoegd_gezag: Field,
    pub soort: Field,
    pub tam: Field,
    pub element: Field,
    pub eid: Field,
    pub wid: Field,
    pub titel: Field,
    pub kop: Field,
    pub tekst: Field,
    pub exact: Field,
    pub titel_exact: Field,
    pub data: Field,
}

fn tekst(analyzer: &str, stored: bool) -> TextOptions {
    let o = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    if stored { o.set_stored() } else { o }
}

pub fn schema() -> (Schema, Velden) {
    let mut b = Schema::builder();
    let v = Velden {
        soort_doc: b.add_text_field("soort_doc", STRING),
        sleutel: b.add_text_field("sleutel", STRING | STORED),
        nr: b.add_u64_field("nr", FAST | STORED | INDEXED),
        werk: b.add_text_field("werk", STRING | FAST | STORED),
        bevoegd_gezag: b.add_text_field("bevoegd_gezag", STRING | FAST | STORED),
        soort: b.add_text_field("soort", STRING | FAST | STORED),
        tam: b.add_u64_field("tam", FAST | STORED | INDEXED),
        element: b.add_text_field("element", STRING | STORED),
        eid: b.add_text_field("eid", STRING | STORED),
        wid: b.add_text_field("wid", STRING | STORED),
        titel: b.add_text_field("titel", tekst(NL, true)),
        kop: b.add_text_field("kop", tekst(NL, true)),
        tekst: b.add_text_field("tekst", tekst(NL, true)),
        exact: b.add_text_field("exact", tekst(EXACT, false)),
        titel_exact: b.add_text_field("titel_exact", tekst(EXACT, false)),
        data: b.add_bytes_field("data", STORED),
    };
    (b.build(), v)
}

/// Register the analyzers on an index (they are not persisted).
pub fn registreer(index: &tantivy::Index) {
    let nl = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(StopWordFilter::new(Language::Dutch).expect("tantivy ships Dutch stop words"))
        .filter(Stemmer::new(Language::Dutch))
        .filter(AsciiFoldingFilter)
        .build();
    let exact =
        TextAnalyzer::builder(SimpleTokenizer::default()).filter(RemoveLongFilter::limit(48)).filter(LowerCaser).build();
    index.tokenizers().register(NL, nl);
    index.tokenizers().register(EXACT, exact);
}
