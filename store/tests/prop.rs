//! Property: for any sequence of deliveries (with duplicates, aborts, afgebroken), the index
//! answers are the same before and after `rebuild`, after deleting the index directory, and
//! from a read-only handle (in-memory index derived independently from the ledger).

mod common;

use std::collections::HashMap;

use common::*;
use proptest::prelude::*;
use store::*;

#[derive(Debug, Clone)]
enum Op {
    Deliver { oin: u8, id: u8, works: Vec<(u8, bool)>, exprs: Vec<(u8, u8, bool)>, afgebroken: Vec<(bool, u8, u8)>, bundle: bool },
    Abort { blob: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (
            0..2u8,
            0..6u8,
            prop::collection::vec((0..4u8, any::<bool>()), 0..3),
            prop::collection::vec((0..4u8, 0..3u8, any::<bool>()), 0..3),
            prop::collection::vec((any::<bool>(), 0..4u8, 0..3u8), 0..2),
            any::<bool>(),
        )
            .prop_map(|(oin, id, works, exprs, afgebroken, bundle)| Op::Deliver { oin, id, works, exprs, afgebroken, bundle }),
        1 => (0..255u8).prop_map(|blob| Op::Abort { blob }),
    ]
}

fn wid(w: u8) -> String {
    format!("/akn/nl/act/gm9920/2024/R{w}")
}
fn eid(w: u8, v: u8) -> String {
    format!("{}/nld@2024-01-0{};{}", wid(w), v + 1, v + 1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn rebuild_gives_identical_answers(ops in prop::collection::vec(op(), 1..12)) {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        let mut seen: HashMap<(u8, u8), (u64, Hash)> = HashMap::new();
        for (n, o) in ops.iter().enumerate() {
            match o {
                Op::Deliver { oin, id, works, exprs, afgebroken, bundle } => {
                    let mut fx = Effects::default();
                    for (w, titled) in works {
                        fx.works.push(work(&wid(*w), "regeling", titled.then_some("T"), Some(&format!("oin{oin}"))));
                    }
                    for (w, v, ontwerp) in exprs {
                        fx.expressions.push(expr(&eid(*w, *v), &wid(*w), None, *ontwerp));
                    }
                    for (is_work, w, v) in afgebroken {
                        fx.afgebroken.push(if *is_work { wid(*w) } else { eid(*w, *v) });
                    }
                    let payload = format!("package {n}");
                    let res = deliver_with(&s, &format!("oin{oin}"), &format!("lev{id}"), payload.as_bytes(), fx, *bundle);
                    match (seen.get(&(*oin, *id)), res) {
                        (None, Ok(r)) => { seen.insert((*oin, *id), (r.seq, r.rec.package_hash)); }
                        (Some((seq, h)), Err(StoreError::DuplicateLevering { seq: s2, package_hash, .. })) => {
                            prop_assert_eq!((*seq, *h), (s2, package_hash));
                        }
                        (prev, res) => prop_assert!(false, "unexpected {:?} after {:?}", res, prev),
                    }
                }
                Op::Abort { blob } => {
                    let mut t = s.begin().unwrap();
                    t.put_blob(&[*blob; 10]).unwrap();
                }
            }
        }
        for ((oin, id), (seq, _)) in &seen {
            prop_assert_eq!(s.index().delivery_by_levering(&format!("oin{oin}"), &format!("lev{id}")).unwrap(), Some(*seq));
        }
        let before = answers(&s);
        prop_assert!(s.verify().unwrap().is_clean());
        assert_blobs_read(&s);
        s.rebuild().unwrap();
        prop_assert_eq!(&answers(&s), &before);
        let ro = Store::open_read_only(d.path()).unwrap();
        prop_assert_eq!(&answers(&ro), &before);
        assert_blobs_read(&ro);
        drop(s);
        std::fs::remove_dir_all(d.path().join("index")).unwrap();
        let s = Store::open(d.path()).unwrap();
        prop_assert_eq!(&answers(&s), &before);
        prop_assert!(s.verify().unwrap().is_clean());
        assert_blobs_read(&s);
    }
}
