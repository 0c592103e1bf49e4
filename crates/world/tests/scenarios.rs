//! Scenario scripts with snapshotted output: every `.scn` file under
//! `tests/scenarios/` runs against a fresh world and its output must equal the `.out`
//! file beside it. Set `UPDATE_EXPECT=1` to rewrite the snapshots after a deliberate
//! change, then review the diff.

#![allow(clippy::unwrap_used)] // A panic in a test helper is a failed test with a message.

use std::path::{Path, PathBuf};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

fn run_one(path: &Path) -> String {
    let script = std::fs::read_to_string(path).expect("reading the scenario script");
    let dir = path
        .parent()
        .expect("reading the scenario script")
        .to_owned();
    let read = move |file: &Path| {
        std::fs::read_to_string(dir.join(file)).map_err(|e| format!("{}: {e}", file.display()))
    };
    world::script::run(&script, &read).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn scenarios_match_their_snapshots() {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "scn"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty());
    for script in scripts {
        let output = run_one(&script);
        expect_test::expect_file![script.with_extension("out")].assert_eq(&output);
    }
}

#[test]
fn scenarios_are_deterministic() {
    let script = scenarios_dir().join("reference_walkthrough.scn");
    assert_eq!(run_one(&script), run_one(&script));
}
