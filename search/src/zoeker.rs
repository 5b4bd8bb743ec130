//! Answering queries: parse, restrict to the units of the applicable versions (a query clause
//! over a bitset of content numbers, see [`crate::toegestaan`]), group per regeling, page,
//! snippets, facets.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, DocSetCollector, SegmentCollector};
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    DocAddress, DocId, DocSet, Index, IndexReader, ReloadPolicy, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED,
    TantivyDocument, Term,
};

use crate::schema::{self, Velden};
use crate::schrijver::{Watermerk, lees_payload, open_index};
use crate::tijd::{Tijdstip, dag, datum};
use crate::tijdtabel::Tijdtabel;
use crate::toegestaan::{BitSet, Filter, GEEN, Kaarten, SegmentKaart, Toegestaan};
use crate::{Facet, Facetten, Groep, Periode, Resultaten, Tijdbereik, Tijdvakken, Treffer, WerkMeta, ZoekFout, Zoekvraag};

/// Characters of a snippet.
const FRAGMENT: usize = 240;
/// Historic mode: contents collected per group, to find `treffers_per_groep` distinct articles.
const HISTORISCH_FACTOR: usize = 10;

struct Werk {
    meta: WerkMeta,
    tijdvakken: Tijdvakken,
    /// (expression, sorted content numbers), by expression id.
    versies: Vec<(String, Vec<u32>)>,
    /// Positions of its bevoegd gezag and soort in the state's facet values (`GEEN`: none).
    facet_bg: u32,
    facet_soort: u32,
}

/// What a searcher generation holds, loaded once per commit.
struct Staat {
    generatie: u64,
    searcher: Searcher,
    /// Ordered by work id: a work's position is its number in the collector (so comparing
    /// numbers compares ids).
    werken: Vec<Werk>,
    /// Per segment: every document's content number and work.
    kaarten: Kaarten,
    /// The works' time-travel tables, flat (work numbers as in `werken`).
    tijdtabel: Tijdtabel,
    /// The distinct non-empty bevoegd gezag and soort values, sorted.
    bg_waarden: Vec<String>,
    soort_waarden: Vec<String>,
    /// Every content of every version (historic scope).
    alle: Arc<BitSet>,
    /// One more than the largest content number.
    nrs: u32,
    /// What the clause `soort_doc:a` scores on every unit document of this searcher: the time
    /// scope clause that replaces it scores the same (see [`crate::toegestaan`]).
    eenheid_score: Score,
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
        let mut werken: BTreeMap<String, Werk> = BTreeMap::new();
        let nieuw = |meta: WerkMeta, tijdvakken: Tijdvakken| Werk {
            meta,
            tijdvakken,
            versies: Vec::new(),
            facet_bg: GEEN,
            facet_soort: GEEN,
        };
        for d in self.alle_docs(&searcher, "w")? {
            let data = d.get_first(v.data).and_then(|x| x.as_bytes()).unwrap_or_default();
            let (meta, tijdvakken): (WerkMeta, Tijdvakken) =
                serde_json::from_slice(data).map_err(|e| ZoekFout::Data(format!("work document: {e}")))?;
            werken.insert(meta.werk.clone(), nieuw(meta, tijdvakken));
        }
        let mut alle = BitSet::default();
        let mut nrs = 0u32;
        for d in self.alle_docs(&searcher, "e")? {
            let sleutel = d.get_first(v.sleutel).and_then(|x| x.as_str()).unwrap_or_default();
            let werk = d.get_first(v.werk).and_then(|x| x.as_str()).unwrap_or_default().to_string();
            let data = d.get_first(v.data).and_then(|x| x.as_bytes()).unwrap_or_default();
            let inhoud: Vec<u32> = data.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            for &n in &inhoud {
                alle.zet(n);
                nrs = nrs.max(n + 1);
            }
            let w = werken
                .entry(werk.clone())
                .or_insert_with(|| nieuw(WerkMeta { werk, ..WerkMeta::default() }, Tijdvakken::default()));
            w.versies.push((sleutel.strip_prefix("e:").unwrap_or(sleutel).to_string(), inhoud));
        }
        // Every work a unit names gets a number, also one without a work or version document.
        let mut kaarten = HashMap::new();
        let mut eenheid_score = None;
        let eenheid = Term::from_field_text(v.soort_doc, "a");
        let eenheid_weight = TermQuery::new(eenheid.clone(), IndexRecordOption::Basic).weight(EnableScoring::enabled_from_searcher(&searcher))?;
        let mut per_segment = Vec::new();
        for reader in searcher.segment_readers() {
            let ff = reader.fast_fields();
            let nr_kolom = ff.u64("nr")?;
            let werk_kolom = ff.str("werk")?;
            let mut ord_naam: Vec<String> = Vec::new();
            if let Some(k) = &werk_kolom {
                let mut stroom = k.dictionary().stream()?;
                while stroom.advance() {
                    ord_naam.push(String::from_utf8_lossy(stroom.key()).into_owned());
                }
            }
            for naam in &ord_naam {
                if !werken.contains_key(naam) {
                    werken.insert(naam.clone(), nieuw(WerkMeta { werk: naam.clone(), ..WerkMeta::default() }, Tijdvakken::default()));
                }
            }
            let mut nr = Vec::with_capacity(reader.max_doc() as usize);
            let mut werk_ord = Vec::with_capacity(reader.max_doc() as usize);
            for doc in 0..reader.max_doc() {
                let n = nr_kolom.first(doc).map_or(GEEN, |n| u32::try_from(n).unwrap_or(GEEN));
                let o = werk_kolom.as_ref().and_then(|k| k.term_ords(doc).next());
                nr.push(if o.is_some() { n } else { GEEN });
                werk_ord.push(o.map_or(GEEN, |o| o as u32));
            }
            if eenheid_score.is_none() {
                let mut s = eenheid_weight.scorer(reader, 1.0)?;
                if s.doc() != TERMINATED {
                    eenheid_score = Some(s.score());
                }
            }
            let eenheden = reader.inverted_index(v.soort_doc)?.doc_freq(&eenheid)?;
            per_segment.push((reader.segment_id(), nr, werk_ord, ord_naam, eenheden));
        }
        let mut werken: Vec<Werk> = werken.into_values().collect();
        let index: HashMap<&str, u32> = werken.iter().enumerate().map(|(i, w)| (w.meta.werk.as_str(), i as u32)).collect();
        for (id, nr, werk_ord, ord_naam, eenheden) in per_segment {
            let ord_werk: Vec<u32> = ord_naam.iter().map(|n| index[n.as_str()]).collect();
            let werk = werk_ord.into_iter().map(|o| if o == GEEN { GEEN } else { ord_werk[o as usize] }).collect();
            kaarten.insert(id, Arc::new(SegmentKaart { nr, werk, eenheden }));
        }
        let waarden = |f: fn(&WerkMeta) -> Option<&String>| -> Vec<String> {
            let s: std::collections::BTreeSet<&String> = werken.iter().filter_map(|w| f(&w.meta)).filter(|s| !s.is_empty()).collect();
            s.into_iter().cloned().collect()
        };
        let bg_waarden = waarden(|m| m.bevoegd_gezag.as_ref());
        let soort_waarden = waarden(|m| m.soort.as_ref());
        let mut tijdtabel = Tijdtabel::default();
        let plek = |l: &[String], x: Option<&String>| x.and_then(|x| l.binary_search(x).ok()).map_or(GEEN, |i| i as u32);
        for w in &mut werken {
            w.versies.sort_by(|a, b| a.0.cmp(&b.0));
            // A version's contents as runs of consecutive numbers (mostly few: contents are
            // numbered as they are first indexed), for filling the bitset a word at a time.
            let geindexeerd: Vec<(&str, Vec<(u32, u32)>)> = w.versies.iter().map(|(e, nrs)| (e.as_str(), reeksen(nrs))).collect();
            tijdtabel.voeg_toe(&w.tijdvakken, &geindexeerd);
            w.facet_bg = plek(&bg_waarden, w.meta.bevoegd_gezag.as_ref());
            w.facet_soort = plek(&soort_waarden, w.meta.soort.as_ref());
        }
        let watermerk = lees_payload(&self.index)?.map(|p| p.watermerk);
        Ok(Staat {
            generatie,
            searcher,
            werken,
            kaarten: Arc::new(kaarten),
            tijdtabel,
            bg_waarden,
            soort_waarden,
            alle: Arc::new(alle),
            nrs,
            eenheid_score: eenheid_score.unwrap_or(0.0),
            watermerk,
        })
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
        let (vraag_deel, filters, prefixen) = self.bouw_query(vraag)?;
        let staat = self.staat()?;
        let v = self.velden;
        // The works the filters let through: a work filter is one work (they are sorted by id);
        // bevoegd gezag and soort compare facet numbers (the strings only for a value that is
        // no work's facet value: the empty string, or one no work has).
        let nummer = |x: &Option<String>, waarden: &[String]| x.as_ref().map(|x| waarden.binary_search(x).ok().map(|i| i as u32));
        let (bg, soort) = (nummer(&vraag.bevoegd_gezag, &staat.bg_waarden), nummer(&vraag.soort, &staat.soort_waarden));
        let past = |w: &Werk| {
            let gelijk = |n: Option<Option<u32>>, eigen: u32, x: &Option<String>, y: &Option<String>| match n {
                None => true,
                Some(Some(n)) => eigen == n,
                Some(None) => x == y,
            };
            gelijk(bg, w.facet_bg, &vraag.bevoegd_gezag, &w.meta.bevoegd_gezag)
                && gelijk(soort, w.facet_soort, &vraag.soort, &w.meta.soort)
                && vraag.tam.is_none_or(|t| t == w.meta.tam)
        };
        let bereik = match &vraag.werk {
            Some(x) => match staat.werken.binary_search_by(|w| w.meta.werk.as_str().cmp(x)) {
                Ok(i) => i..i + 1,
                Err(_) => 0..0,
            },
            None => 0..staat.werken.len(),
        };
        // The applicable version per work (position in its `versies`), and the contents that
        // may hit.
        let mut geldend: Vec<Option<usize>> = vec![None; staat.werken.len()];
        let nrs = match tijdstip {
            Some(t) => {
                let mut b = BitSet::met_capaciteit(staat.nrs);
                let gefilterd = vraag.bevoegd_gezag.is_some() || vraag.soort.is_some() || vraag.tam.is_some();
                for i in bereik {
                    if gefilterd && !past(&staat.werken[i]) {
                        continue;
                    }
                    let Some((j, reeksen)) = staat.tijdtabel.versie_op(i, t) else { continue };
                    geldend[i] = Some(j);
                    for &(van, tot) in reeksen {
                        b.zet_reeks(van, tot);
                    }
                }
                Arc::new(b)
            }
            None => staat.alle.clone(),
        };
        let filter = Filter { kaarten: staat.kaarten.clone(), nrs };
        // The time scope takes the place the clause `soort_doc:a` had (see crate::toegestaan).
        let mut delen: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, vraag_deel),
            (Occur::Must, Box::new(Toegestaan { filter: filter.clone(), score: staat.eenheid_score })),
        ];
        delen.extend(filters.into_iter().map(|f| (Occur::Must, f)));
        let query = BooleanQuery::new(delen);
        let per_groep = vraag.treffers_per_groep.clamp(1, 50);
        let k = if tijdstip.is_some() { per_groep } else { per_groep * HISTORISCH_FACTOR };
        let mut lijst = staat.searcher.search(&query, &Verzamelaar { kaarten: staat.kaarten.clone(), werken: staat.werken.len(), k })?;

        // Best hit first; equal scores in the order of the work ids.
        lijst.sort_by(|a, b| b.1.best.total_cmp(&a.1.best).then_with(|| a.0.cmp(&b.0)));
        let totaal_treffers = lijst.iter().map(|g| g.1.aantal).sum();
        let mut bg = vec![0u64; staat.bg_waarden.len()];
        let mut soort = vec![0u64; staat.soort_waarden.len()];
        for (w, _) in &lijst {
            let w = &staat.werken[*w as usize];
            if w.facet_bg != GEEN {
                bg[w.facet_bg as usize] += 1;
            }
            if w.facet_soort != GEEN {
                soort[w.facet_soort as usize] += 1;
            }
        }
        let per_pagina = vraag.per_pagina.clamp(1, 100);
        let pagina = vraag.pagina.max(1);
        let snippets = Snippets::new(&staat.searcher, &query, v, &self.index, prefixen)?;
        let beschikbaar_op = match &vraag.tijd {
            Tijdbereik::Op { beschikbaar_op, .. } | Tijdbereik::Historisch { beschikbaar_op } => dag(beschikbaar_op),
        };
        let totaal_groepen = lijst.len() as u64;
        let mut uit = Vec::new();
        for (nummer, hits) in lijst.into_iter().skip((pagina - 1).saturating_mul(per_pagina)).take(per_pagina) {
            let w = &staat.werken[nummer as usize];
            let meta = w.meta.clone();
            let mut docs = hits.top;
            docs.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            let mut treffers = Vec::new();
            if tijdstip.is_some() {
                let expr = geldend[nummer as usize].map(|j| w.versies[j].0.clone());
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
                let perioden = w.tijdvakken.perioden(beschikbaar_op);
                for (_, score, adres, nrs) in artikelen.into_iter().take(per_groep) {
                    let d: TantivyDocument = staat.searcher.doc(adres)?;
                    let mut exprs: Vec<String> = Vec::new();
                    for (e, inhoud) in &w.versies {
                        if nrs.iter().any(|n| inhoud.binary_search(n).is_ok()) {
                            exprs.push(e.clone());
                        }
                    }
                    let mut ps: Vec<Periode> = Vec::new();
                    for p in &perioden {
                        let e = &w.tijdvakken.versies[p.versie as usize];
                        if exprs.contains(e) {
                            ps.push(Periode { expressie: e.clone(), vanaf: datum(p.vanaf), tot: p.tot.map(datum) });
                        }
                    }
                    treffers.push(treffer(&d, v, score, &snippets, exprs, ps));
                }
                uit.push(groep(meta, None, hits.best, hits.aantal, treffers));
            }
        }
        // Per value (sorted) its count; most frequent first, equal counts by value.
        let facet = |tellingen: Vec<u64>, waarden: &[String]| {
            let mut l: Vec<Facet> = tellingen
                .into_iter()
                .zip(waarden)
                .filter(|(n, _)| *n > 0)
                .map(|(aantal, waarde)| Facet { waarde: waarde.clone(), aantal })
                .collect();
            l.sort_by(|a, b| b.aantal.cmp(&a.aantal).then_with(|| a.waarde.cmp(&b.waarde)));
            l
        };
        Ok(Resultaten {
            totaal_treffers,
            totaal_groepen,
            pagina,
            per_pagina,
            groepen: uit,
            facetten: Facetten { bevoegd_gezag: facet(bg, &staat.bg_waarden), soort: facet(soort, &staat.soort_waarden) },
        })
    }

    /// The user's text as a query (default fields titel, kop, tekst; words ANDed), the clauses
    /// of the filters, and the prefixes of wildcard terms (for highlighting).
    #[allow(clippy::type_complexity)]
    fn bouw_query(&self, vraag: &Zoekvraag) -> Result<(Box<dyn Query>, Vec<Box<dyn Query>>, Vec<String>), ZoekFout> {
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
        let mut filters: Vec<Box<dyn Query>> = Vec::new();
        if let Some(w) = &vraag.werk {
            filters.push(term(v.werk, w));
        }
        if let Some(b) = &vraag.bevoegd_gezag {
            filters.push(term(v.bevoegd_gezag, b));
        }
        if let Some(s) = &vraag.soort {
            filters.push(term(v.soort, s));
        }
        if let Some(t) = vraag.tam {
            filters.push(Box::new(TermQuery::new(Term::from_field_u64(v.tam, t as u64), IndexRecordOption::Basic)));
        }
        Ok((q, filters, prefixen))
    }
}

/// Sorted numbers as runs `[van, tot)`.
fn reeksen(nrs: &[u32]) -> Vec<(u32, u32)> {
    let mut uit: Vec<(u32, u32)> = Vec::new();
    for &n in nrs {
        match uit.last_mut() {
            Some(r) if r.1 == n => r.1 = n + 1,
            _ => uit.push((n, n + 1)),
        }
    }
    uit
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
// The collector: hits per work (best score, count, top k). The query holds the time scope, so
// every hit counts; works are numbered (the state's order), looked up per document in the
// segment's map.

struct GroepHits {
    best: f32,
    aantal: u64,
    /// (score, doc, content nr)
    top: Vec<(f32, DocAddress, u32)>,
    /// Once `top` has been cut to k: the k-th best score. A later document of the segment
    /// with the same score ranks after those (higher address), so only higher scores enter.
    drempel: f32,
}

fn houd_top(top: &mut Vec<(f32, DocAddress, u32)>, k: usize) {
    top.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    top.truncate(k);
}

struct Verzamelaar {
    kaarten: Kaarten,
    /// Number of works in the state.
    werken: usize,
    k: usize,
}

struct SegVerzamelaar {
    k: usize,
    seg: SegmentOrdinal,
    kaart: Arc<SegmentKaart>,
    /// Per work: its position in `groepen` (`GEEN`: no hit yet).
    plek: Vec<u32>,
    groepen: Vec<(u32, GroepHits)>,
}

impl Collector for Verzamelaar {
    type Fruit = Vec<(u32, GroepHits)>;
    type Child = SegVerzamelaar;

    fn for_segment(&self, seg: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegVerzamelaar> {
        let kaart = self.kaarten.get(&reader.segment_id()).cloned().ok_or_else(|| {
            tantivy::TantivyError::InternalError(format!("segment {} not in the search state", reader.segment_id().uuid_string()))
        })?;
        Ok(SegVerzamelaar { k: self.k, seg, kaart, plek: vec![GEEN; self.werken], groepen: Vec::new() })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, delen: Vec<Vec<(u32, GroepHits)>>) -> tantivy::Result<Vec<(u32, GroepHits)>> {
        let mut plek = vec![GEEN; self.werken];
        let mut uit: Vec<(u32, GroepHits)> = Vec::new();
        for deel in delen {
            for (w, g) in deel {
                match plek[w as usize] {
                    GEEN => {
                        plek[w as usize] = uit.len() as u32;
                        uit.push((w, g));
                    }
                    i => {
                        let x = &mut uit[i as usize].1;
                        x.best = x.best.max(g.best);
                        x.aantal += g.aantal;
                        x.top.extend(g.top);
                        houd_top(&mut x.top, self.k);
                    }
                }
            }
        }
        Ok(uit)
    }
}

impl SegmentCollector for SegVerzamelaar {
    type Fruit = Vec<(u32, GroepHits)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let werk = self.kaart.werk[doc as usize];
        let nr = self.kaart.nr[doc as usize];
        if werk == GEEN || nr == GEEN {
            return;
        }
        let i = match self.plek[werk as usize] {
            GEEN => {
                self.plek[werk as usize] = self.groepen.len() as u32;
                self.groepen.push((werk, GroepHits { best: score, aantal: 0, top: Vec::new(), drempel: f32::NEG_INFINITY }));
                self.groepen.len() - 1
            }
            i => i as usize,
        };
        let g = &mut self.groepen[i].1;
        g.best = g.best.max(score);
        g.aantal += 1;
        if g.top.len() < self.k || score > g.drempel {
            let t = (score, DocAddress::new(self.seg, doc), nr);
            if self.k <= 8 {
                // Kept sorted: after the entries with a score ≥ this one (equal scores: lower
                // addresses first, and this document comes last so far).
                let i = g.top.iter().position(|x| x.0 < score).unwrap_or(g.top.len());
                g.top.insert(i, t);
                if g.top.len() > self.k {
                    g.top.pop();
                }
                if g.top.len() == self.k {
                    g.drempel = g.top[self.k - 1].0;
                }
            } else {
                g.top.push(t);
                if g.top.len() >= 2 * self.k {
                    houd_top(&mut g.top, self.k);
                    g.drempel = g.top[self.k - 1].0;
                }
            }
        }
    }

    fn harvest(mut self) -> Vec<(u32, GroepHits)> {
        for (_, g) in &mut self.groepen {
            houd_top(&mut g.top, self.k);
        }
        self.groepen
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
