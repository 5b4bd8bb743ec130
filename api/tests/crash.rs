//! Crash test: kill `regelbank ingest` with SIGKILL at random moments while it ingests a large
//! package, restart, and require `verify` to be clean with the delivery either absent or
//! complete. Each round uses a new package (a new idLevering), so every round exercises a
//! real commit.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_regelbank");
const TODAY: &str = "2027-03-01";

fn regelbank(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--data")
        .arg(data)
        .arg("--today")
        .arg(TODAY)
        .args(args)
        .output()
        .expect("run regelbank")
}

fn spec() -> fixtures::GenSpec {
    fixtures::GenSpec { regelingen: 2, artikelen: 1500, seed: 7, id_prefix: "crash".into(), ..Default::default() }
}

/// Works known to the store, from `regelingen --all --json`.
fn works(data: &Path) -> Vec<String> {
    let out = regelbank(data, &["regelingen", "--all", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array().unwrap().iter().map(|w| w["work"].as_str().unwrap().to_string()).collect()
}

#[test]
fn killed_ingests_leave_nothing_or_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let pkgs = tmp.path().join("pkgs");
    let rounds = 24;
    let spec = spec();
    let mut paths = Vec::new();
    for i in 0..rounds {
        let p = pkgs.join(format!("p{i}.zip"));
        std::fs::create_dir_all(&pkgs).unwrap();
        fixtures::write_zip(&fixtures::generate_delivery(&spec, i), &p).unwrap();
        paths.push(p);
    }
    let size = std::fs::metadata(&paths[0]).unwrap().len();

    // How long does one uninterrupted ingest take? Kill points are spread over that window.
    let t = Instant::now();
    let out = regelbank(&data, &["ingest", paths[0].to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let full = t.elapsed();
    let ids0 = fixtures::generated_ids(&spec, 0);
    assert!(works(&data).contains(&ids0.besluit_work));

    let mut rng_state: u64 = 0x5eed_1234_abcd_0042;
    let mut next = || {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state
    };
    let (mut absent, mut complete) = (0, 0);
    for (i, p) in paths.iter().enumerate().skip(1) {
        let delay = Duration::from_micros(next() % (full.as_micros() as u64 * 12 / 10 + 1));
        let mut child = Command::new(BIN)
            .arg("--data")
            .arg(&data)
            .arg("--today")
            .arg(TODAY)
            .arg("ingest")
            .arg(p)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();

        let v = regelbank(&data, &["verify"]);
        assert!(
            v.status.success(),
            "round {i} (killed after {delay:?}): verify not clean:\n{}",
            String::from_utf8_lossy(&v.stdout)
        );
        let ids = fixtures::generated_ids(&spec, i);
        let mut expected = vec![ids.besluit_work.clone()];
        expected.extend(ids.regelingen.iter().map(|r| r.0.clone()));
        expected.extend(ids.gio.iter().map(|g| g.0.clone()));
        let known = works(&data);
        let present = expected.iter().filter(|w| known.contains(w)).count();
        assert!(present == 0 || present == expected.len(), "round {i}: {present} of {} works present", expected.len());
        let show = regelbank(&data, &["show", "levering", &ids.id_levering]);
        assert_eq!(show.status.success(), present > 0, "round {i}: ledger and index disagree");
        if present == 0 {
            absent += 1;
        } else {
            complete += 1;
        }
    }
    // Everything that was killed can be delivered afterwards, and rebuild agrees with the index.
    let before = works(&data);
    let out = regelbank(&data, &["rebuild"]);
    assert!(out.status.success());
    assert_eq!(works(&data), before);
    eprintln!("crash test: package {size} bytes, full ingest {full:?}, {absent} rounds absent, {complete} complete");
    assert!(absent + complete == rounds - 1);
}
