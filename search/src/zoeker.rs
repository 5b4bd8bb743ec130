//! Answering queries: parse, restrict to the units of the applicable versions (a bitset over
//! `nr` checked in the collector), group per regeling, page, snippets, facets.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, DocSetCollector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, DocId, Index, IndexReader, ReloadPolicy, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyDocument, Term};

use crate::schema::{self, Velden};
use crate::schrijver::{Watermerk, lees_payload, open_index};
use crate::tijd::{Tijdstip, dag, datum};
use crate::{Facet, Facetten, Groep, Periode, Resultaten, Tijdbereik, Tijdvakken, Treffer, WerkMeta, ZoekFout, Zoekvraag};

/// Characters of a snippet.
const FRAGMENT: usize = 240;
/// Historic mode: contents collected per group, to find `treffers_per_groep` distinct articles.
const HISTORISCH_FACTOR: usize = 10;

/// A set of content numbers.
#[derive(Clone, Debug, Default)]
struct BitSet(Vec<u64>);

impl BitSet {
    fn zet(&mut self, n: u32) {
        let i = (n / 64) as usize;
        if i >= self.0.len() {
            self.0.resize(i + 1, 0);
        }
        self.0[i] |= 1 << (n % 64);
    }
    fn bevat(&self, n: u64) -> bool {
        self.0.get((n / 64) as usize).is_some_and(|w| w & (1 << (n % 64)) != 0)
    }
}

struct Werk {
    meta: WerkMeta,
    tijdvakken: Tijdvakken,
    /// (expression, sorted content numbers), by expression id.
    versies: Vec<(String, Vec<u32>)>,
}

/// What a searcher generation holds, loaded once per commit.
struct Staat {
    generatie: u64,
    searcher: Searcher,
    werken: HashMap<String, Werk>,
    /// Every content of every version (historic scope).
    alle: Arc<BitSet>,
    watermerk: Option<Watermerk>,
}

/// Answers queries on an index directory; cheap to share between threads. Sees every commit
/// (the reader reloads when a query starts). Queries are CPU work: call from a blocking context.
pub struct Zoeker {
    index: Index,
    velden: Velden,
    reader: IndexReader,
    staat: Mutex<Option<Arc<Staat>>>,
}

impl Zoeker {
    /// Open the index in `dir` (an empty one is created when there is none). An index in
    /// another format is an error: `regelbank reindex` rebuilds it.
    pub fn open(dir: &Path) -> Result<Zoeker, ZoekFout> {
        let mut index = open_index(dir, true)?
            .ok_or_else(|| ZoekFout::Data(format!("{} holds an index in another format; rebuild it (regelbank reindex)", dir.display())))?;
        // Segments are searched in parallel (one thread per core): a query's latency, not only
        // the throughput of many queries, uses the machine.
        index.set_default_multithread_executor()?;
        let (_, velden) = schema::schema();
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Zoeker { index, velden, reader, staat: Mutex::new(None) })
    }

    /// The ledger position the index reflects (`None`: empty).
    pub fn watermerk(&self) -> Result<Option<Watermerk>, ZoekFout> {
        Ok(self.staat()?.watermerk.clone())
    }

    /// The state for the index as last committed. The key is the committed meta (opstamp and
    /// every segment with its delete opstamp), read from the directory: a query after no
    /// commit reuses the loaded state and its searcher (tantivy's `reload` hands out a new
    /// generation on every call, so the generation cannot be the key).
    fn staat(&self) -> Result<Arc<Staat>, ZoekFout> {
        let metas = self.index.load_metas()?;
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&metas.opstamp, &mut h);
        for seg in &metas.segments {
            std::hash::Hash::hash(&seg.id().uuid_string(), &mut h);
            std::hash::Hash::hash(&seg.delete_opstamp(), &mut h);
            std::hash::Hash::hash(&seg.num_deleted_docs(), &mut h);
        }
        let generatie = std::hash::Hasher::finish(&h);
        let mut g = self.staat.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = g.as_ref()
            && s.generatie == generatie
        {
            return Ok(s.clone());
        }
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let s = Arc::new(self.laad(searcher, generatie)?);
        *g = Some(s.clone());
        Ok(s)
    }

    fn alle_docs(&self, searcher: &Searcher, soort: &str) -> Result<Vec<TantivyDocument>, ZoekFout> {
        let q = TermQuery::new(Term::from_field_text(self.velden.soort_doc, soort), IndexRecordOption::Basic);
        let mut adressen: Vec<DocAddress> = searcher.search(&q, &DocSetCollector)?.into_iter().collect();
        adressen.sort();
        adressen.into_iter().map(|a| searcher.doc(a).map_err(ZoekFout::from)).collect()
    }

    fn laad(&self, searcher: Searcher, generatie: u64) -> Result<Staat, ZoekFout> {
        let v = self.velden;
        let mut werken: HashMap<String, Werk> = HashMap::new();
        for d in self.alle_docs(&searcher, "w")? {
            let data = d.get_first(v.data).and_then(|x| x.as_bytes()).unwrap_or_default();
            let (meta, tijdvakken): (WerkMeta, Tijdvakken) =
                serde_json::from_slice(data).map_err(|e| ZoekFout::Data(format!("work document: {e}")))?;
            werken.insert(meta.werk.clone(), Werk { meta, tijdvakken, versies: Vec::new() });
        }
        let mut alle = BitSet::default();
        for d in self.alle_docs(&searcher, "e")? {
            let sleutel = d.get_first(v.sleutel).and_then(|x| x.as_str()).unwrap_or_default();
            let werk = d.get_first(v.werk).and_then(|x| x.as_str()).unwrap_or_default().to_string();
            let data = d.get_first(v.data).and_then(|x| x.as_bytes()).unwrap_or_default();
            let nrs: Vec<u32> = data.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            for &n in &nrs {
                alle.zet(n);
            }
            let w = werken.entry(werk.clone()).or_insert_with(|| Werk {
                meta: WerkMeta { werk, ..WerkMeta::default() },
                tijdvakken: Tijdvakken::default(),
                versies: Vec::new(),
            });
            w.versies.push((sleutel.strip_prefix("e:").unwrap_or(sleutel).to_string(), nrs));
        }
        for w in werken.values_mut() {
            w.versies.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let watermerk = lees_payload(&self.index)?.map(|p| p.watermerk);
        Ok(Staat { generatie, searcher, werken, alle: Arc::new(alle), watermerk })
    }

    /// Answer a question. Bad query syntax and bad dates are [`ZoekFout::Syntaxis`] and
    /// [`ZoekFout::Datum`].
    pub fn zoek(&self, vraag: &Zoekvraag) -> Result<Resultaten, ZoekFout> {
        let tijdstip = match &vraag.tijd {
            Tijdbereik::Op { geldig_op, in_werking_op, beschikbaar_op } => Some(Tijdstip {
                geldig_op: dag_van("geldigOp", geldig_op)?,
                in_werking_op: dag_van("inWerkingOp", in_werking_op)?,
                beschikbaar_op: dag_van("beschikbaarOp", beschikbaar_op)?,
            }),
            Tijdbereik::Historisch { beschikbaar_op } => {
                dag_van("beschikbaarOp", beschikbaar_op)?;
                None
            }
        };
        let (query, prefixen) = self.bouw_query(vraag)?;
        let staat = self.staat()?;
        let v = self.velden;
        let past = |m: &WerkMeta| {
            vraag.werk.as_deref().is_none_or(|w| w == m.werk)
                && vraag.bevoegd_gezag.as_deref().is_none_or(|b| Some(b) == m.bevoegd_gezag.as_deref())
                && vraag.soort.as_deref().is_none_or(|s| Some(s) == m.soort.as_deref())
                && vraag.tam.is_none_or(|t| t == m.tam)
        };
        // The applicable version per work, and the contents that may hit.
        let mut geldend: HashMap<&str, &str> = HashMap::new();
        let filter = match tijdstip {
            Some(t) => {
                let mut b = BitSet::default();
                for (naam, w) in &staat.werken {
                    if !past(&w.meta) {
                        continue;
                    }
                    let Some(Some(i)) = w.tijdvakken.versie_op(t) else { continue };
                    let Some(expr) = w.tijdvakken.versies.get(i as usize) else { continue };
                    if let Some((e, nrs)) = w.versies.iter().find(|(e, _)| e == expr) {
                        geldend.insert(naam.as_str(), e.as_str());
                        for &n in nrs {
                            b.zet(n);
                        }
                    }
                }
                Arc::new(b)
            }
            None => staat.alle.clone(),
        };
        let per_groep = vraag.treffers_per_groep.clamp(1, 50);
        let k = if tijdstip.is_some() { per_groep } else { per_groep * HISTORISCH_FACTOR };
        let groepen = staat.searcher.search(&*query, &Verzamelaar { filter, k })?;

        let mut lijst: Vec<(String, GroepHits)> = groepen.into_iter().collect();
        lijst.sort_by(|a, b| b.1.best.total_cmp(&a.1.best).then_with(|| a.0.cmp(&b.0)));
        let totaal_treffers = lijst.iter().map(|g| g.1.aantal).sum();
        let mut bg: BTreeMap<String, u64> = BTreeMap::new();
        let mut soort: BTreeMap<String, u64> = BTreeMap::new();
        for (w, _) in &lijst {
            if let Some(m) = staat.werken.get(w).map(|x| &x.meta) {
                if let Some(b) = m.bevoegd_gezag.as_ref().filter(|s| !s.is_empty()) {
                    *bg.entry(b.clone()).or_default() += 1;
                }
                if let Some(s) = m.soort.as_ref().filter(|s| !s.is_empty()) {
                    *soort.entry(s.clone()).or_default() += 1;
                }
            }
        }
        let per_pagina = vraag.per_pagina.clamp(1, 100);
        let pagina = vraag.pagina.max(1);
        let snippets = Snippets::new(&staat.searcher, &*query, v, &self.index, prefixen)?;
        let beschikbaar_op = match &vraag.tijd {
            Tijdbereik::Op { beschikbaar_op, .. } | Tijdbereik::Historisch { beschikbaar_op } => dag(beschikbaar_op),
        };
        let totaal_groepen = lijst.len() as u64;
        let mut uit = Vec::new();
        for (werk, hits) in lijst.into_iter().skip((pagina - 1).saturating_mul(per_pagina)).take(per_pagina) {
            let w = staat.werken.get(&werk);
            let meta = w.map(|w| w.meta.clone()).unwrap_or_else(|| WerkMeta { werk: werk.clone(), ..WerkMeta::default() });
            let mut docs = hits.top;
            docs.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            let mut treffers = Vec::new();
            if tijdstip.is_some() {
                let expr = geldend.get(werk.as_str()).map(|s| s.to_string());
                for (score, adres, _) in docs.into_iter().take(per_groep) {
                    let d: TantivyDocument = staat.searcher.doc(adres)?;
                    treffers.push(treffer(&d, v, score, &snippets, expr.iter().cloned().collect(), Vec::new()));
                }
                uit.push(groep(meta, expr, hits.best, hits.aantal, treffers));
            } else {
                // Per article (wId, else eId, else the content).
                let mut artikelen: Vec<(String, f32, DocAddress, Vec<u32>)> = Vec::new();
                for (score, adres, nr) in docs {
                    let d: TantivyDocument = staat.searcher.doc(adres)?;
                    let id = veld(&d, v.wid).or_else(|| veld(&d, v.eid)).unwrap_or_else(|| format!("#{nr}"));
                    match artikelen.iter_mut().find(|a| a.0 == id) {
                        Some(a) => a.3.push(nr),
                        None => artikelen.push((id, score, adres, vec![nr])),
                    }
                }
                let perioden = w.map(|w| w.tijdvakken.perioden(beschikbaar_op)).unwrap_or_default();
                for (_, score, adres, nrs) in artikelen.into_iter().take(per_groep) {
                    let d: TantivyDocument = staat.searcher.doc(adres)?;
                    let mut exprs: Vec<String> = Vec::new();
                    if let Some(w) = w {
                        for (e, inhoud) in &w.versies {
                            if nrs.iter().any(|n| inhoud.binary_search(n).is_ok()) {
                                exprs.push(e.clone());
                            }
                        }
                    }
                    let mut ps: Vec<Periode> = Vec::new();
                    if let Some(w) = w {
                        for p in &perioden {
                            let e = &w.tijdvakken.versies[p.versie as usize];
                            if exprs.contains(e) {
                                ps.push(Periode { expressie: e.clone(), vanaf: datum(p.vanaf), tot: p.tot.map(datum) });
                            }
                        }
                    }
                    treffers.push(treffer(&d, v, score, &snippets, exprs, ps));
                }
                uit.push(groep(meta, None, hits.best, hits.aantal, treffers));
            }
        }
        let facet = |m: BTreeMap<String, u64>| {
            let mut l: Vec<Facet> = m.into_iter().map(|(waarde, aantal)| Facet { waarde, aantal }).collect();
            l.sort_by(|a, b| b.aantal.cmp(&a.aantal).then_with(|| a.waarde.cmp(&b.waarde)));
            l
        };
        Ok(Resultaten {
            totaal_treffers,
            totaal_groepen,
            pagina,
            per_pagina,
            groepen: uit,
            facetten: Facetten { bevoegd_gezag: facet(bg), soort: facet(soort) },
        })
    }

    /// The query: the user's text (default fields titel, kop, tekst; words ANDed) plus the
    /// filters. Also the prefixes of wildcard terms (for highlighting).
    fn bouw_query(&self, vraag: &Zoekvraag) -> Result<(Box<dyn Query>, Vec<String>), ZoekFout> {
        let v = self.velden;
        let (tekst, prefixen) = voorbewerk(&vraag.q);
        if tekst.trim().is_empty() {
            return Err(ZoekFout::Syntaxis("lege zoekvraag".into()));
        }
        let mut parser = QueryParser::for_index(&self.index, vec![v.titel, v.kop, v.tekst]);
        parser.set_conjunction_by_default();
        parser.set_field_boost(v.titel, 2.0);
        parser.set_field_boost(v.kop, 1.5);
        parser.allow_regexes();
        let q = parser.parse_query(&tekst).map_err(|e| ZoekFout::Syntaxis(e.to_string()))?;
        let term = |f, s: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(f, s), IndexRecordOption::Basic))
        };
        let mut delen: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, q), (Occur::Must, term(v.soort_doc, "a"))];
        if let Some(w) = &vraag.werk {
            delen.push((Occur::Must, term(v.werk, w)));
        }
        if let Some(b) = &vraag.bevoegd_gezag {
            delen.push((Occur::Must, term(v.bevoegd_gezag, b)));
        }
        if let Some(s) = &vraag.soort {
            delen.push((Occur::Must, term(v.soort, s)));
        }
        if let Some(t) = vraag.tam {
            delen.push((Occur::Must, Box::new(TermQuery::new(Term::from_field_u64(v.tam, t as u64), IndexRecordOption::Basic))));
        }
        Ok((Box::new(BooleanQuery::new(delen)), prefixen))
    }
}

fn dag_van(veld: &str, s: &str) -> Result<i32, ZoekFout> {
    if timetravel::uitwisseling::is_datum(s) && datum(dag(s)) == s {
        Ok(dag(s))
    } else {
        Err(ZoekFout::Datum { veld: veld.to_string(), waarde: s.to_string() })
    }
}

const VELDEN: &[&str] = &["titel", "kop", "tekst", "exact"];

/// Rewrite the user's text for tantivy's parser: `woord*` (also with a field scope) becomes a
/// regex on the exact-form field (`titel:` → `titel_exact`, else `exact`); a colon after an
/// unknown "field" (`8:1` in "artikel 8:1 Awb") and a `/` (regex syntax) are escaped, so they
/// are text. Quoted phrases are kept as written. Returns the prefixes too.
fn voorbewerk(q: &str) -> (String, Vec<String>) {
    let mut uit = String::with_capacity(q.len() + 16);
    let mut prefixen = Vec::new();
    let mut woord = String::new();
    let mut in_aanhalingstekens = false;
    // Where the last word `AND` starts in `uit`, while only white space follows it.
    let mut and_op: Option<usize> = None;
    let spoel = |woord: &mut String, uit: &mut String, prefixen: &mut Vec<String>, and_op: &mut Option<usize>| {
        if woord.is_empty() {
            return;
        }
        // `a AND NOT b` is `a NOT b` (tantivy reads `+(-b)`, which matches nothing).
        if woord == "NOT"
            && let Some(p) = and_op.take()
        {
            uit.truncate(p);
        }
        if woord == "AND" {
            *and_op = Some(uit.len());
            uit.push_str("AND");
            woord.clear();
            return;
        }
        *and_op = None;
        let (teken, rest) = match woord.chars().next() {
            Some(c @ ('+' | '-')) => (c.to_string(), &woord[1..]),
            _ => (String::new(), &woord[..]),
        };
        let (veld, term) = match rest.split_once(':') {
            Some((v, t)) if VELDEN.contains(&v) => (Some(v), t),
            _ => (None, rest),
        };
        let basis = term.strip_suffix('*');
        if let Some(b) = basis
            && b.chars().count() >= 2
            && b.chars().all(char::is_alphanumeric)
        {
            let b = b.to_lowercase();
            let doel = if veld == Some("titel") { "titel_exact" } else { "exact" };
            uit.push_str(&format!("{teken}{doel}:/{b}.*/"));
            prefixen.push(b);
        } else {
            uit.push_str(&teken);
            if let Some(v) = veld {
                uit.push_str(v);
                uit.push(':');
            }
            for c in term.chars() {
                if matches!(c, ':' | '/' | '*') {
                    uit.push('\\');
                }
                uit.push(c);
            }
        }
        woord.clear();
    };
    for c in q.chars() {
        if in_aanhalingstekens {
            uit.push(c);
            if c == '"' {
                in_aanhalingstekens = false;
            }
        } else if c == '"' {
            // A field scope directly before a phrase stays with it.
            if !woord.is_empty() {
                let w = std::mem::take(&mut woord);
                uit.push_str(&w);
            }
            in_aanhalingstekens = true;
            and_op = None;
            uit.push(c);
        } else if c.is_whitespace() || c == '(' || c == ')' {
            spoel(&mut woord, &mut uit, &mut prefixen, &mut and_op);
            if c != ' ' {
                and_op = None;
            }
            uit.push(c);
        } else {
            woord.push(c);
        }
    }
    if !in_aanhalingstekens {
        spoel(&mut woord, &mut uit, &mut prefixen, &mut and_op);
    } else {
        uit.push_str(&woord);
    }
    (uit, prefixen)
}

/// Per-query snippet makers: on the stemmed text field, else on the exact form (exact-field
/// terms and wildcard prefixes).
struct Snippets {
    stam: SnippetGenerator,
    exact_termen: BTreeMap<String, Score>,
    exact: TextAnalyzer,
    exact_veld: tantivy::schema::Field,
    prefixen: Vec<String>,
}

impl Snippets {
    fn new(searcher: &Searcher, q: &dyn Query, v: Velden, index: &Index, prefixen: Vec<String>) -> Result<Snippets, ZoekFout> {
        let mut stam = SnippetGenerator::create(searcher, q, v.tekst)?;
        stam.set_max_num_chars(FRAGMENT);
        let mut exact_termen = BTreeMap::new();
        q.query_terms(&mut |t, _| {
            if t.field() == v.exact
                && let Some(s) = t.value().as_str()
            {
                exact_termen.insert(s.to_string(), 1.0);
            }
        });
        let exact = index.tokenizer_for_field(v.exact)?;
        Ok(Snippets { stam, exact_termen, exact, exact_veld: v.exact, prefixen })
    }

    fn html(&self, tekst: &str) -> String {
        let mut s = self.stam.snippet(tekst);
        if s.highlighted().is_empty() && (!self.exact_termen.is_empty() || !self.prefixen.is_empty()) {
            let mut termen = self.exact_termen.clone();
            if !self.prefixen.is_empty() {
                let mut a = self.exact.clone();
                let mut stroom = a.token_stream(tekst);
                while let Some(t) = stroom.next() {
                    if self.prefixen.iter().any(|p| t.text.starts_with(p.as_str())) {
                        termen.insert(t.text.clone(), 1.0);
                    }
                }
            }
            let mut g = SnippetGenerator::new(termen, self.exact.clone(), self.exact_veld, FRAGMENT);
            g.set_max_num_chars(FRAGMENT);
            s = g.snippet(tekst);
        }
        if s.highlighted().is_empty() {
            let mut eind = tekst.len().min(FRAGMENT);
            while !tekst.is_char_boundary(eind) {
                eind -= 1;
            }
            return escape(&tekst[..eind]);
        }
        s.set_snippet_prefix_postfix("<mark>", "</mark>");
        s.to_html()
    }
}

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn veld(d: &TantivyDocument, f: tantivy::schema::Field) -> Option<String> {
    d.get_first(f).and_then(|x| x.as_str()).filter(|s| !s.is_empty()).map(str::to_string)
}

fn treffer(d: &TantivyDocument, v: Velden, score: f32, s: &Snippets, expressies: Vec<String>, perioden: Vec<Periode>) -> Treffer {
    let tekst = veld(d, v.tekst).unwrap_or_default();
    Treffer {
        element: veld(d, v.element).unwrap_or_default(),
        eid: veld(d, v.eid),
        wid: veld(d, v.wid),
        kop: veld(d, v.kop).unwrap_or_default(),
        fragment: s.html(&tekst),
        score,
        expressies,
        perioden,
    }
}

fn groep(meta: WerkMeta, expressie: Option<String>, score: f32, aantal: u64, treffers: Vec<Treffer>) -> Groep {
    Groep {
        werk: meta.werk,
        titel: meta.titel,
        bevoegd_gezag: meta.bevoegd_gezag,
        soort: meta.soort,
        tam: meta.tam,
        expressie,
        score,
        aantal_treffers: aantal,
        treffers,
    }
}

// ---------------------------------------------------------------------------------------------
// The collector: hits per work (best score, count, top k), restricted to a set of contents.

struct GroepHits {
    best: f32,
    aantal: u64,
    /// (score, doc, content nr)
    top: Vec<(f32, DocAddress, u32)>,
}

fn houd_top(top: &mut Vec<(f32, DocAddress, u32)>, k: usize) {
    top.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    top.truncate(k);
}

struct Verzamelaar {
    filter: Arc<BitSet>,
    k: usize,
}

struct SegVerzamelaar {
    filter: Arc<BitSet>,
    k: usize,
    seg: SegmentOrdinal,
    nr: Column<u64>,
    werk: StrColumn,
    groepen: HashMap<u64, GroepHits>,
}

impl Collector for Verzamelaar {
    type Fruit = HashMap<String, GroepHits>;
    type Child = SegVerzamelaar;

    fn for_segment(&self, seg: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegVerzamelaar> {
        let ff = reader.fast_fields();
        let werk = ff.str("werk")?.ok_or_else(|| tantivy::TantivyError::SchemaError("no werk fast field".into()))?;
        Ok(SegVerzamelaar { filter: self.filter.clone(), k: self.k, seg, nr: ff.u64("nr")?, werk, groepen: HashMap::new() })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, delen: Vec<HashMap<String, GroepHits>>) -> tantivy::Result<HashMap<String, GroepHits>> {
        let mut uit: HashMap<String, GroepHits> = HashMap::new();
        for deel in delen {
            for (w, g) in deel {
                match uit.get_mut(&w) {
                    Some(x) => {
                        x.best = x.best.max(g.best);
                        x.aantal += g.aantal;
                        x.top.extend(g.top);
                        houd_top(&mut x.top, self.k);
                    }
                    None => {
                        uit.insert(w, g);
                    }
                }
            }
        }
        Ok(uit)
    }
}

impl SegmentCollector for SegVerzamelaar {
    type Fruit = HashMap<String, GroepHits>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let Some(nr) = self.nr.first(doc) else { return };
        if !self.filter.bevat(nr) {
            return;
        }
        let Some(ord) = self.werk.term_ords(doc).next() else { return };
        let g = self.groepen.entry(ord).or_insert(GroepHits { best: score, aantal: 0, top: Vec::new() });
        g.best = g.best.max(score);
        g.aantal += 1;
        if g.top.len() < self.k || g.top.iter().any(|t| t.0 < score) {
            g.top.push((score, DocAddress::new(self.seg, doc), nr as u32));
            if g.top.len() >= 2 * self.k.max(8) {
                houd_top(&mut g.top, self.k);
            }
        }
    }

    fn harvest(self) -> HashMap<String, GroepHits> {
        let mut uit = HashMap::with_capacity(self.groepen.len());
        let mut s = String::new();
        for (ord, mut g) in self.groepen {
            s.clear();
            if self.werk.ord_to_str(ord, &mut s).unwrap_or(false) {
                houd_top(&mut g.top, self.k);
                uit.insert(s.clone(), g);
            }
        }
        uit
    }
}

#[cfg(test)]
mod tests {
    use super::voorbewerk;

    #[test]
    fn wildcards_and_colons_are_rewritten() {
        assert_eq!(voorbewerk("verg* bouw").0, "exact:/verg.*/ bouw");
        assert_eq!(voorbewerk("titel:Omg* -tekst:Hav*").0, "titel_exact:/omg.*/ -exact:/hav.*/");
        assert_eq!(voorbewerk("a AND NOT b AND c").0, "a NOT b AND c");
        assert_eq!(voorbewerk("artikel 8:1 Awb").0, "artikel 8\\:1 Awb");
        assert_eq!(voorbewerk("titel:\"a b\"~2 x/y").0, "titel:\"a b\"~2 x\\/y");
        assert_eq!(voorbewerk("(a OR b*)").0, "(a OR b*)".replace("b*", "b\\*"));
    }
}
