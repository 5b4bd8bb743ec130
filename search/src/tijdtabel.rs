//! Every work's time-travel table in a few flat arrays, for the walk a time-scoped query makes
//! over all works: the applicable version of each and its contents. The same walk as
//! [`Tijdvakken::versie_op`], without following a handful of heap pointers per work (on a large
//! index those cache misses were most of the cost of building the time-scope bitset).

use crate::tijd::{Tijdstip, Tijdvakken};

/// No version with text.
const GEEN: u32 = u32::MAX;

#[derive(Default)]
pub struct Tijdtabel {
    /// Per work: its moments `[van, tot)` in `momenten`.
    werken: Vec<(u32, u32)>,
    /// (ontvangenOp, bekendOp, its anchors `[van, tot)` in `ankers`).
    momenten: Vec<(i32, i32, u32, u32)>,
    /// (jwv, gv, the version whose text applies: an entry of `versies`, or `GEEN`).
    ankers: Vec<(i32, i32, u32)>,
    /// (position in the work's indexed versions, its content runs `[van, tot)` in `reeksen`).
    versies: Vec<(u32, u32, u32)>,
    reeksen: Vec<(u32, u32)>,
}

impl Tijdtabel {
    /// Add the next work: its table and its indexed versions as (expression, runs of content
    /// numbers `[van, tot)`).
    pub fn voeg_toe(&mut self, t: &Tijdvakken, geindexeerd: &[(&str, Vec<(u32, u32)>)]) {
        let mut plek = Vec::with_capacity(t.versies.len());
        for e in &t.versies {
            match geindexeerd.iter().position(|(x, _)| x == e) {
                Some(j) => {
                    let van = self.reeksen.len() as u32;
                    self.reeksen.extend_from_slice(&geindexeerd[j].1);
                    plek.push(self.versies.len() as u32);
                    self.versies.push((j as u32, van, self.reeksen.len() as u32));
                }
                None => plek.push(GEEN),
            }
        }
        let van = self.momenten.len() as u32;
        for m in &t.momenten {
            let a = self.ankers.len() as u32;
            for k in &m.ankers {
                let v = k.versie.and_then(|i| plek.get(i as usize).copied()).unwrap_or(GEEN);
                self.ankers.push((k.jwv, k.gv, v));
            }
            self.momenten.push((m.ontvangen_op, m.bekend_op, a, self.ankers.len() as u32));
        }
        self.werken.push((van, self.momenten.len() as u32));
    }

    /// The version of work `w` whose text answers the question: its position among the work's
    /// indexed versions and its content runs. `None` when no toestand applies, when it has no
    /// single version, or when that version is not indexed.
    #[inline]
    pub fn versie_op(&self, w: usize, t: Tijdstip) -> Option<(usize, &[(u32, u32)])> {
        let (van, tot) = self.werken[w];
        for &(ontvangen_op, bekend_op, a, b) in self.momenten[van as usize..tot as usize].iter().rev() {
            if ontvangen_op > t.beschikbaar_op || bekend_op > t.beschikbaar_op {
                continue;
            }
            if let Some(&(_, _, v)) = self.ankers[a as usize..b as usize].iter().find(|k| k.0 <= t.in_werking_op && k.1 <= t.geldig_op) {
                if v == GEEN {
                    return None;
                }
                let (j, r0, r1) = self.versies[v as usize];
                return Some((j as usize, &self.reeksen[r0 as usize..r1 as usize]));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::Tijdtabel;
    use crate::tijd::{Anker, Moment, Tijdstip, Tijdvakken};

    /// Random tables (versions without text, unindexed versions, unknown dates): the flat walk
    /// answers every question as `Tijdvakken::versie_op` and the lookup of its version.
    #[test]
    fn answers_as_the_tables_it_was_made_from() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut tabel = Tijdtabel::default();
        let mut werken = Vec::new();
        for w in 0..300 {
            let n = rng.random_range(0..5usize);
            let versies: Vec<String> = (0..n).map(|i| format!("w{w}v{i}")).collect();
            let geindexeerd: Vec<(String, Vec<(u32, u32)>)> = versies
                .iter()
                .enumerate()
                .filter(|_| rng.random_bool(0.8))
                .map(|(i, e)| (e.clone(), vec![(i as u32 * 10, i as u32 * 10 + 3)]))
                .collect();
            let momenten = (0..rng.random_range(0..4))
                .map(|_| {
                    let o = rng.random_range(0..100);
                    Moment {
                        ontvangen_op: o,
                        bekend_op: o + rng.random_range(0..3),
                        ankers: (0..rng.random_range(0..4))
                            .map(|_| Anker {
                                jwv: rng.random_range(0..120),
                                gv: rng.random_range(0..120),
                                versie: if n > 0 && rng.random_bool(0.9) { Some(rng.random_range(0..n as u32)) } else { None },
                            })
                            .collect(),
                    }
                })
                .collect();
            let t = Tijdvakken { versies, momenten };
            let g: Vec<(&str, Vec<(u32, u32)>)> = geindexeerd.iter().map(|(e, r)| (e.as_str(), r.clone())).collect();
            tabel.voeg_toe(&t, &g);
            werken.push((t, geindexeerd));
        }
        for _ in 0..20_000 {
            let t = Tijdstip { in_werking_op: rng.random_range(0..130), geldig_op: rng.random_range(0..130), beschikbaar_op: rng.random_range(0..110) };
            for (w, (tv, g)) in werken.iter().enumerate() {
                let verwacht = match tv.versie_op(t) {
                    Some(Some(i)) => g.iter().position(|(e, _)| *e == tv.versies[i as usize]).map(|j| (j, g[j].1.as_slice())),
                    _ => None,
                };
                assert_eq!(tabel.versie_op(w, t), verwacht, "work {w}, {t:?}");
            }
        }
    }
}
