//! The time-travel engine in the pipeline: deliveries feed versiebeheer, queries answer from
//! the derived state, and that state is derived data of the ledger.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ingest::pipeline::{Config, Uitkomst, ingest_many};
use ingest::tijdreis::{Lezer, herbouw};
use store::Store;
use timetravel::{Status, Vraag};

const HAVENKWARTIER: &str = "/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier";
const ZUIDKADE: &str = "/akn/nl/act/gm9901/2027/OmgevingsplanZuidkade";

fn cfg(d: &str) -> Config {
    Config::new(NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap())
}

/// Copy a fixture delivery into `doel`, replacing text in every file.
fn kopie(naam: &str, doel: &Path, vervang: &[(&str, &str)]) -> PathBuf {
    let bron = fixtures::fixtures_dir().join("deliveries").join(naam);
    std::fs::create_dir_all(doel).unwrap();
    for e in std::fs::read_dir(&bron).unwrap() {
        let e = e.unwrap();
        let mut tekst = std::fs::read_to_string(e.path()).unwrap();
        for (a, b) in vervang {
            tekst = tekst.replace(a, b);
        }
        std::fs::write(doel.join(e.file_name()), tekst).unwrap();
    }
    doel.to_path_buf()
}

/// The initial regeling (a) and two wijzigingsbesluiten made on its first version for
/// different doelen, in force on 2027-04-22 (b) and 2027-05-06 (c).
fn parallel(dir: &Path) -> [PathBuf; 3] {
    let a = kopie("01-initieel-compact-gio", &dir.join("a"), &[]);
    let b = kopie("06-wijzigingsbesluit", &dir.join("b"), &[]);
    let c = kopie(
        "06-wijzigingsbesluit",
        &dir.join("c"),
        &[
            ("rbo-2027-0006-wijziging-omgevingsplan-havenkwartier", "rbo-2027-0007-wijziging-noord"),
            ("WijzigingOmgevingsplanHavenkwartierKade", "WijzigingOmgevingsplanHavenkwartierNoord"),
            ("nld@2027-04-01;2", "nld@2027-04-01;3"),
            ("<datum>2027-04-22</datum>", "<datum>2027-05-06</datum>"),
        ],
    );
    [a, b, c]
}

/// (vanaf, status, version, doelen) of each period of the timeline as known on `op`.
fn tijdlijn(store: &Store, work: &str, op: &str) -> Vec<(String, Status, Option<String>, Vec<String>)> {
    let mut l = Lezer::open(store).unwrap();
    l.tijdlijn(work, op)
        .unwrap()
        .map(|t| {
            t.perioden
                .into_iter()
                .map(|p| (p.vanaf, p.toestand.inhoud.status, p.toestand.inhoud.instrumentversie, p.toestand.inwerkingtredingsdoelen))
                .collect()
        })
        .unwrap_or_default()
}

fn ingest_alle(store: &Store, paden: &[&PathBuf], cfg: &Config) {
    for r in ingest_many(store, paden, cfg, |_| {}).unwrap() {
        assert_eq!(r.uitkomst, Uitkomst::Gepubliceerd, "{}: {:?}", r.bron, r.meldingen);
    }
}

#[test]
fn several_besluiten_on_one_regeling_on_one_day_in_any_order_give_the_same_samenloop() {
    let tmp = tempfile::tempdir().unwrap();
    let [a, b, c] = parallel(tmp.path());
    let dag = cfg("2027-03-01");
    let mut uitkomsten = Vec::new();
    for (i, volgorde) in [[&a, &b, &c], [&a, &c, &b]].iter().enumerate() {
        // In one group commit, and one delivery per run.
        for samen in [true, false] {
            let s = Store::open(&tmp.path().join(format!("store-{i}-{samen}"))).unwrap();
            if samen {
                ingest_alle(&s, volgorde, &dag);
            } else {
                for p in volgorde {
                    ingest_alle(&s, &[*p], &dag);
                }
            }
            uitkomsten.push(tijdlijn(&s, HAVENKWARTIER, "2027-06-01"));
        }
    }
    let eerste = &uitkomsten[0];
    for u in &uitkomsten {
        assert_eq!(u, eerste);
    }
    let statussen: Vec<(&str, Status, Option<&str>)> =
        eerste.iter().map(|(d, s, v, _)| (d.as_str(), *s, v.as_deref().and_then(|v| v.rsplit('@').next()))).collect();
    assert_eq!(
        statussen,
        vec![
            ("2027-04-01", Status::Compleet, Some("2027-02-25;1")),
            ("2027-04-22", Status::Compleet, Some("2027-04-01;2")),
            // Both wijzigingen apply from 2027-05-06, but no delivered version holds both.
            ("2027-05-06", Status::Onvolledig, None),
        ]
    );
    // The onvolledig toestand names what is missing.
    let s = Store::open(&tmp.path().join("store-0-true")).unwrap();
    let mut l = Lezer::open(&s).unwrap();
    let a = l.toestand(HAVENKWARTIER, &Vraag::op("2027-05-10", "2027-06-01")).unwrap().unwrap();
    assert_eq!(
        a.toestand.inhoud.te_verwerken.iter().map(|t| t.doel.as_str()).collect::<Vec<_>>(),
        vec!["/join/id/proces/gm9901/2027/WijzigingOmgevingsplanHavenkwartierKade"]
    );
}

#[test]
fn a_consolidatieinformatie_the_engine_rejects_rejects_the_whole_delivery() {
    let tmp = tempfile::tempdir().unwrap();
    let [a, _, _] = parallel(tmp.path());
    let versie = "<instrumentVersie>/akn/nl/act/gm9901/2027/OmgevingsplanHavenkwartier/nld@2027-04-01;2</instrumentVersie>";
    let fout = kopie(
        "06-wijzigingsbesluit",
        &tmp.path().join("fout"),
        &[(
            versie,
            &format!(
                "{versie}<gemaaktOpBasisVan><Basisversie><doel>/join/id/proces/gm9901/2027/Onbekend</doel><gemaaktOp>2027-01-01T00:00:00Z</gemaaktOp></Basisversie></gemaaktOpBasisVan>"
            ),
        )],
    );
    let s = Store::open(&tmp.path().join("store")).unwrap();
    ingest_alle(&s, &[&a], &cfg("2027-03-01"));
    let voor = tijdlijn(&s, HAVENKWARTIER, "2027-06-01");
    let r = ingest::ingest(&s, &fout, &cfg("2027-03-01")).unwrap();
    assert_eq!(r.uitkomst, Uitkomst::NietValide);
    assert!(r.meldingen.iter().any(|m| m.code == "RB5020" && m.is_fout()), "{:?}", r.meldingen);
    // Recorded for audit, but no version and no toestand changed.
    assert_eq!(s.index().work(HAVENKWARTIER).unwrap().unwrap().expressions.len(), 1);
    assert_eq!(tijdlijn(&s, HAVENKWARTIER, "2027-06-01"), voor);
}

/// Answers on a grid of dates × knowledge dates.
fn raster(store: &Store) -> Vec<Option<(Status, Option<String>, Vec<String>)>> {
    let mut l = Lezer::open(store).unwrap();
    let mut out = Vec::new();
    for maand in 1..=9 {
        for dag in [1, 15] {
            let d = format!("2027-{maand:02}-{dag:02}");
            for bekend in ["2027-01-10", "2027-03-15", "2027-05-01", "2027-12-31"] {
                let a = l.toestand(ZUIDKADE, &Vraag::op(&d, bekend)).unwrap();
                out.push(a.map(|a| (a.toestand.inhoud.status, a.toestand.inhoud.instrumentversie, a.toestand.inwerkingtredingsdoelen)));
            }
        }
    }
    out
}

fn keten() -> Vec<PathBuf> {
    fixtures::chain_steps(fixtures::HAVENKWARTIER).unwrap().into_iter().map(|s| s.dir).collect()
}

#[test]
fn versions_by_date_as_known_by_date_follow_publication_and_intrekking() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path()).unwrap();
    let paden = keten();
    ingest_alle(&s, &paden.iter().collect::<Vec<_>>(), &cfg("2027-01-04"));
    let mut l = Lezer::open(&s).unwrap();
    let versie = |l: &mut Lezer, d: &str, bekend: &str| {
        l.toestand(ZUIDKADE, &Vraag::op(d, bekend)).unwrap().map(|a| (a.toestand.inhoud.status, a.toestand.inhoud.instrumentversie))
    };
    // Before the regeling is in force: no toestand.
    assert_eq!(versie(&mut l, "2027-01-01", "2027-12-31"), None);
    // Known now: each week a new version.
    let nu = versie(&mut l, "2027-03-20", "2027-12-31").unwrap();
    assert_eq!(nu, (Status::Compleet, Some(format!("{ZUIDKADE}/nld@2027-02-25;5"))));
    // As known before that wijziging was published, the same date shows an older version.
    let toen = versie(&mut l, "2027-03-20", "2027-03-01").unwrap();
    assert_eq!(toen.0, Status::Compleet);
    assert_ne!(toen.1, nu.1);
    // After the intrekking the regeling is not in force.
    assert_eq!(versie(&mut l, "2027-08-01", "2027-12-31").map(|v| v.0), Some(Status::NietInWerking));
    // The timeline knows every version once, in order, then the intrekking.
    let tl = tijdlijn(&s, ZUIDKADE, "2027-12-31");
    assert_eq!(tl.first().map(|p| p.0.as_str()), Some("2027-02-17"));
    assert_eq!(tl.last().map(|p| p.1), Some(Status::NietInWerking));
    assert_eq!(tl.iter().filter(|p| p.1 == Status::Compleet).count(), 21);
}

#[test]
fn state_survives_restart_rebuild_and_loss_of_the_derived_data() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let paden = keten();
    let verwacht = {
        let s = Store::open(&dir).unwrap();
        ingest_alle(&s, &paden.iter().collect::<Vec<_>>(), &cfg("2027-01-04"));
        raster(&s)
    };
    assert!(verwacht.iter().any(Option::is_some));
    // Restart.
    let s = Store::open(&dir).unwrap();
    assert_eq!(raster(&s), verwacht);
    // Rebuild from the ledger.
    assert_eq!(herbouw(&s).unwrap(), paden.len());
    assert_eq!(raster(&s), verwacht);
    drop(s);
    // The derived space lost entirely: derived again on open.
    std::fs::remove_dir_all(dir.join("index").join("derived")).unwrap();
    let s = Store::open(&dir).unwrap();
    assert_eq!(raster(&s), verwacht);
    // One delivery per run gives the same answers as one group commit.
    let s2 = Store::open(&tmp.path().join("los")).unwrap();
    for p in &paden {
        ingest_alle(&s2, &[p], &cfg("2027-01-04"));
    }
    assert_eq!(raster(&s2), verwacht);
}

#[test]
fn an_afbreek_request_before_publication_removes_the_besluit_from_every_view() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Store::open(tmp.path()).unwrap();
    let d = |n: &str| fixtures::fixtures_dir().join("deliveries").join(n);
    let programma = "/akn/nl/act/gm9901/2027/ProgrammaKlimaatadaptatie";
    // Received 2027-03-01 for publication on 2027-03-30, in force from 2027-04-15.
    ingest_alle(&s, &[&d("02-initieel-vrijetekst")], &cfg("2027-03-01"));
    let mut l = Lezer::open(&s).unwrap();
    // Not visible before its publication, as known now.
    assert!(l.toestand(programma, &Vraag::op("2027-05-01", "2027-03-15")).unwrap().is_none());
    // Visible as known after publication.
    let a = l.toestand(programma, &Vraag::op("2027-05-01", "2027-12-31")).unwrap().unwrap();
    assert_eq!(a.toestand.inhoud.status, Status::Compleet);
    drop(l);
    let r = ingest::ingest(&s, &d("04-afbreken"), &cfg("2027-03-02")).unwrap();
    assert_eq!(r.uitkomst, Uitkomst::Afgebroken, "{:?}", r.meldingen);
    let mut l = Lezer::open(&s).unwrap();
    for bekend in ["2027-03-15", "2027-04-01", "2027-12-31"] {
        let a = l.toestand(programma, &Vraag::op("2027-05-01", bekend)).unwrap();
        assert!(
            a.as_ref().is_none_or(|a| a.toestand.inhoud.status == Status::NietInWerking),
            "as known on {bekend}: {a:?}"
        );
    }
    // The audit trail keeps the besluit.
    assert_eq!(s.last_seq(), 2);
    assert!(s.record(1).unwrap().unwrap().rec.effects.uitwisseling.is_some());
    // Rebuilding from the ledger gives the same.
    herbouw(&s).unwrap();
    let mut l = Lezer::open(&s).unwrap();
    let a = l.toestand(programma, &Vraag::op("2027-05-01", "2027-12-31")).unwrap();
    assert!(a.is_none_or(|a| a.toestand.inhoud.status == Status::NietInWerking));
}
