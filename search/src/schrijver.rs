//! Writing the index: units per distinct content, versions, works; one commit per batch with
//! the ledger watermark as its payload.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tantivy::collector::DocSetCollector;
use tantivy::directory::error::LockError;
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError, Term};

use crate::schema::{self, FORMAAT, Velden};
use crate::{Eenheid, Tijdvakken, Versie, WerkMeta, ZoekFout};

/// The ledger position the index reflects: the last record's seq and hash (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermerk {
    pub seq: u64,
    pub hash: String,
}

/// The commit payload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Payload {
    pub formaat: u32,
    pub watermerk: Watermerk,
    pub volgende_nr: u32,
}

/// Writer heap: tantivy's minimum is 15 MB; 64 MB keeps a large initial besluit in one segment.
const HEAP: usize = 64 << 20;

pub(crate) fn lees_payload(index: &Index) -> Result<Option<Payload>, ZoekFout> {
    let metas = index.load_metas()?;
    Ok(metas.payload.as_deref().and_then(|p| serde_json::from_str::<Payload>(p).ok()))
}

/// Open the index in `dir`, creating it when absent. `Ok(None)` when there is an index in
/// another format (or unreadable): the caller rebuilds it.
pub(crate) fn open_index(dir: &Path, maken: bool) -> Result<Option<Index>, ZoekFout> {
    let (schema, _) = schema::schema();
    let bestaat = dir.join("meta.json").exists();
    let index = if bestaat {
        match Index::open_in_dir(dir) {
            Ok(i) if i.schema() == schema => i,
            _ => return Ok(None),
        }
    } else if maken {
        std::fs::create_dir_all(dir)?;
        Index::create_in_dir(dir, schema)?
    } else {
        return Ok(None);
    };
    schema::registreer(&index);
    Ok(Some(index))
}

fn bezet(e: TantivyError) -> ZoekFout {
    match e {
        TantivyError::LockFailure(LockError::LockBusy, _) => ZoekFout::Bezet,
        e => ZoekFout::Index(e),
    }
}

/// The single writer of an index directory (a lock file keeps other processes out: they get
/// [`ZoekFout::Bezet`]). Writes are buffered until [`Schrijver::commit`].
pub struct Schrijver {
    index: Index,
    velden: Velden,
    /// Always `Some` until dropped.
    writer: Option<IndexWriter>,
    reader: IndexReader,
    watermerk: Option<Watermerk>,
    volgende_nr: u32,
    /// Contents added since the last commit: key → nr.
    nieuw: HashMap<String, u32>,
    /// Versions written since the last commit.
    versies: HashMap<String, bool>,
    /// Everything committed is deleted at the next commit: look nothing up in it.
    gewist: bool,
}

impl Schrijver {
    /// Open (or create) the index in `dir` for writing. An index in another format, or one
    /// that cannot be read, is removed and created empty (it is derived data).
    pub fn open(dir: &Path) -> Result<Schrijver, ZoekFout> {
        let index = match open_index(dir, true)? {
            Some(i) => i,
            None => {
                tracing::info!(dir = %dir.display(), "search index has another format; creating it again");
                std::fs::remove_dir_all(dir)?;
                open_index(dir, true)?.ok_or_else(|| ZoekFout::Data("cannot create the index".into()))?
            }
        };
        let (_, velden) = schema::schema();
        let writer: IndexWriter = index.writer_with_num_threads(1, HEAP).map_err(bezet)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let payload = lees_payload(&index)?;
        let (watermerk, volgende_nr) = match payload {
            Some(p) if p.formaat == FORMAAT => (Some(p.watermerk), p.volgende_nr),
            _ => (None, 0),
        };
        let mut s = Schrijver {
            index,
            velden,
            writer: Some(writer),
            reader,
            watermerk,
            volgende_nr,
            nieuw: HashMap::new(),
            versies: HashMap::new(),
            gewist: false,
        };
        if s.watermerk.is_none() && s.reader.searcher().num_docs() > 0 {
            // Documents without a valid payload: start from scratch.
            s.wis()?;
        }
        Ok(s)
    }

    fn w(&mut self) -> &mut IndexWriter {
        self.writer.as_mut().expect("writer present until drop")
    }

    /// The ledger position of the last commit (`None`: empty index).
    pub fn watermerk(&self) -> Option<&Watermerk> {
        self.watermerk.as_ref()
    }

    /// Remove every document (takes effect at the next commit).
    pub fn wis(&mut self) -> Result<(), ZoekFout> {
        self.w().delete_all_documents()?;
        self.gewist = true;
        self.watermerk = None;
        self.volgende_nr = 0;
        self.nieuw.clear();
        self.versies.clear();
        Ok(())
    }

    fn term(&self, s: &str) -> Term {
        Term::from_field_text(self.velden.sleutel, s)
    }

    /// The first committed document with this key.
    fn vind(&self, sleutel: &str) -> Result<Option<TantivyDocument>, ZoekFout> {
        if self.gewist {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        let q = TermQuery::new(self.term(sleutel), IndexRecordOption::Basic);
        let docs = searcher.search(&q, &DocSetCollector)?;
        match docs.into_iter().next() {
            Some(a) => Ok(Some(searcher.doc(a)?)),
            None => Ok(None),
        }
    }

    /// Whether a version is in the index (committed or written since).
    pub fn heeft_versie(&self, expressie: &str) -> Result<bool, ZoekFout> {
        if let Some(&b) = self.versies.get(expressie) {
            return Ok(b);
        }
        Ok(self.vind(&format!("e:{expressie}"))?.is_some())
    }

    /// The number of a unit's content, adding the content when it is new.
    fn content(&mut self, meta: &WerkMeta, e: &Eenheid) -> Result<u32, ZoekFout> {
        let mut h = Sha256::new();
        for deel in [
            meta.werk.as_str(),
            e.element.as_str(),
            e.eid.as_deref().unwrap_or(""),
            e.wid.as_deref().unwrap_or(""),
            e.kop.as_str(),
            e.tekst.as_str(),
        ] {
            h.update((deel.len() as u64).to_le_bytes());
            h.update(deel.as_bytes());
        }
        let sleutel = format!("a:{}", hex::encode(h.finalize()));
        if let Some(&nr) = self.nieuw.get(&sleutel) {
            return Ok(nr);
        }
        if let Some(d) = self.vind(&sleutel)? {
            let nr = d.get_first(self.velden.nr).and_then(|v| v.as_u64()).ok_or_else(|| ZoekFout::Data("unit without nr".into()))?;
            return Ok(nr as u32);
        }
        let nr = self.volgende_nr;
        self.volgende_nr += 1;
        let v = self.velden;
        let mut d = TantivyDocument::new();
        d.add_text(v.soort_doc, "a");
        d.add_text(v.sleutel, &sleutel);
        d.add_u64(v.nr, nr as u64);
        meta_velden(&v, &mut d, meta);
        d.add_text(v.element, &e.element);
        if let Some(x) = &e.eid {
            d.add_text(v.eid, x);
        }
        if let Some(x) = &e.wid {
            d.add_text(v.wid, x);
        }
        if let Some(t) = &meta.titel {
            d.add_text(v.titel, t);
            d.add_text(v.titel_exact, t);
        }
        d.add_text(v.kop, &e.kop);
        d.add_text(v.tekst, &e.tekst);
        d.add_text(v.exact, &e.kop);
        d.add_text(v.exact, &e.tekst);
        // No `delete_term` first: the key is in neither the committed index (`vind`; after `wis`
        // everything committed goes at the commit) nor this batch (`nieuw`). A delete per new
        // content cost ~1 KB of tantivy weight each until the commit (40 MB for the 38,500
        // units of a 50 MB besluit) and a term lookup per segment at the commit.
        self.w().add_document(d)?;
        self.nieuw.insert(sleutel, nr);
        Ok(nr)
    }

    /// Index a version: every unit's content (once per distinct content) and the version's list
    /// of contents. Writing the same version again replaces it.
    pub fn schrijf_versie(&mut self, meta: &WerkMeta, versie: &Versie) -> Result<(), ZoekFout> {
        let mut nrs: Vec<u32> = Vec::with_capacity(versie.eenheden.len());
        for e in &versie.eenheden {
            nrs.push(self.content(meta, e)?);
        }
        nrs.sort_unstable();
        nrs.dedup();
        let bytes: Vec<u8> = nrs.iter().flat_map(|n| n.to_le_bytes()).collect();
        let sleutel = format!("e:{}", versie.expressie);
        let v = self.velden;
        let mut d = TantivyDocument::new();
        d.add_text(v.soort_doc, "e");
        d.add_text(v.sleutel, &sleutel);
        d.add_text(v.werk, &meta.werk);
        d.add_bytes(v.data, &bytes);
        let t = self.term(&sleutel);
        self.w().delete_term(t);
        self.w().add_document(d)?;
        self.versies.insert(versie.expressie.clone(), true);
        Ok(())
    }

    /// Remove a version (a cancelled publication): its units no longer hit through it.
    pub fn verwijder_versie(&mut self, expressie: &str) {
        let t = self.term(&format!("e:{expressie}"));
        self.w().delete_term(t);
        self.versies.insert(expressie.to_string(), false);
    }

    /// Write a work's metadata and time-travel table (replacing what was there).
    pub fn schrijf_werk(&mut self, meta: &WerkMeta, tijdvakken: &Tijdvakken) -> Result<(), ZoekFout> {
        let sleutel = format!("w:{}", meta.werk);
        let v = self.velden;
        let mut d = TantivyDocument::new();
        d.add_text(v.soort_doc, "w");
        d.add_text(v.sleutel, &sleutel);
        meta_velden(&v, &mut d, meta);
        let json = serde_json::to_vec(&(meta, tijdvakken)).map_err(|e| ZoekFout::Data(e.to_string()))?;
        d.add_bytes(v.data, &json);
        let t = self.term(&sleutel);
        self.w().delete_term(t);
        self.w().add_document(d)?;
        Ok(())
    }

    /// Commit everything written since the last commit together with `watermerk`: the batch
    /// and its ledger position land together or not at all.
    pub fn commit(&mut self, watermerk: Watermerk) -> Result<(), ZoekFout> {
        let payload = Payload { formaat: FORMAAT, watermerk: watermerk.clone(), volgende_nr: self.volgende_nr };
        let mut c = self.w().prepare_commit()?;
        c.set_payload(&serde_json::to_string(&payload).map_err(|e| ZoekFout::Data(e.to_string()))?);
        c.commit()?;
        self.reader.reload()?;
        self.watermerk = Some(watermerk);
        self.gewist = false;
        self.nieuw.clear();
        self.versies.clear();
        Ok(())
    }

    /// Drop everything written since the last commit.
    pub fn terugdraaien(&mut self) -> Result<(), ZoekFout> {
        self.w().rollback()?;
        let p = lees_payload(&self.index)?;
        self.volgende_nr = p.as_ref().map_or(0, |p| p.volgende_nr);
        self.watermerk = p.map(|p| p.watermerk);
        self.gewist = false;
        self.nieuw.clear();
        self.versies.clear();
        Ok(())
    }
}

impl Drop for Schrijver {
    /// Waits for background merges, so no thread of this writer touches the directory after it
    /// is gone (a later writer, or a removed and recreated index, would see its files vanish).
    fn drop(&mut self) {
        if let Some(w) = self.writer.take()
            && let Err(e) = w.wait_merging_threads()
        {
            tracing::warn!(error = %e, "search index merge did not finish");
        }
    }
}

fn meta_velden(v: &Velden, d: &mut TantivyDocument, meta: &WerkMeta) {
    d.add_text(v.werk, &meta.werk);
    d.add_text(v.bevoegd_gezag, meta.bevoegd_gezag.as_deref().unwrap_or(""));
    d.add_text(v.soort, meta.soort.as_deref().unwrap_or(""));
    d.add_u64(v.tam, meta.tam as u64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Eenheid, Versie, WerkMeta};
    use tantivy::collector::Count;

    fn eenheid(eid: &str, tekst: &str) -> Eenheid {
        Eenheid { element: "Artikel".into(), eid: Some(eid.into()), wid: Some(format!("w_{eid}")), kop: format!("Artikel {eid}"), tekst: tekst.into() }
    }

    /// Documents of one kind (`a` content, `e` version) in the committed index.
    fn tel(s: &Schrijver, soort: &str) -> usize {
        let q = TermQuery::new(Term::from_field_text(s.velden.soort_doc, soort), IndexRecordOption::Basic);
        s.reader.searcher().search(&q, &Count).unwrap()
    }

    fn nrs(s: &Schrijver, expressie: &str) -> Vec<u32> {
        let d = s.vind(&format!("e:{expressie}")).unwrap().expect("version indexed");
        let b = d.get_first(s.velden.data).and_then(|v| v.as_bytes()).unwrap().to_vec();
        b.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()
    }

    #[test]
    fn each_distinct_content_is_one_document_across_versions_commits_reopens_and_wipes() {
        let dir = tempfile::tempdir().unwrap();
        let meta = WerkMeta { werk: "/akn/nl/act/gm9999/2027/test".into(), titel: Some("Testregeling".into()), ..Default::default() };
        let v1 = Versie { expressie: "v1".into(), eenheden: vec![eenheid("art_1", "eerste tekst"), eenheid("art_2", "tweede tekst")] };
        // v2 repeats art_1 unchanged, twice within the version, and changes art_2.
        let v2 = Versie {
            expressie: "v2".into(),
            eenheden: vec![eenheid("art_1", "eerste tekst"), eenheid("art_1", "eerste tekst"), eenheid("art_2", "gewijzigde tekst")],
        };
        let mut s = Schrijver::open(dir.path()).unwrap();
        s.schrijf_versie(&meta, &v1).unwrap();
        s.schrijf_versie(&meta, &v2).unwrap(); // same batch as v1
        s.commit(Watermerk { seq: 1, hash: "h1".into() }).unwrap();
        assert_eq!(tel(&s, "a"), 3, "art_1, art_2 and the changed art_2");
        assert_eq!(tel(&s, "e"), 2);
        assert_eq!(nrs(&s, "v1"), vec![0, 1]);
        assert_eq!(nrs(&s, "v2"), vec![0, 2]);
        drop(s);

        // Reopened: the committed contents are found, not added again; a new one gets the next nr.
        let mut s = Schrijver::open(dir.path()).unwrap();
        let v3 = Versie { expressie: "v3".into(), eenheden: vec![eenheid("art_1", "eerste tekst"), eenheid("art_3", "derde tekst")] };
        s.schrijf_versie(&meta, &v3).unwrap();
        s.schrijf_versie(&meta, &v1).unwrap(); // written again: replaced, not doubled
        s.commit(Watermerk { seq: 2, hash: "h2".into() }).unwrap();
        assert_eq!(tel(&s, "a"), 4);
        assert_eq!(tel(&s, "e"), 3);
        assert_eq!(nrs(&s, "v3"), vec![0, 3]);
        assert_eq!(nrs(&s, "v1"), vec![0, 1]);

        // Wiped and written again in one batch: only what the batch wrote is left.
        s.wis().unwrap();
        s.schrijf_versie(&meta, &v3).unwrap();
        s.commit(Watermerk { seq: 3, hash: "h3".into() }).unwrap();
        assert_eq!(tel(&s, "a"), 2);
        assert_eq!(tel(&s, "e"), 1);
        assert_eq!(nrs(&s, "v3"), vec![0, 1]);
    }
}
