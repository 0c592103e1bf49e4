//! `spotlab simulate` end to end: the real binary, in a temp dir, on the reference fleet.

#![allow(clippy::unwrap_used)] // A panic in a test helper is a failed test with a message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

fn spotlab(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spotlab"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running the spotlab binary")
}

#[test]
fn the_same_seed_gives_byte_identical_output() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = repo_file("examples/create_fleet.json");
    let fleet = fleet.to_str().unwrap();
    for format in ["text", "json"] {
        let args = [
            "simulate", "--fleet", fleet, "--hours", "24", "--seed", "7", "--format", format,
        ];
        let first = spotlab(&args, dir.path());
        let second = spotlab(&args, dir.path());
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        assert!(!first.stdout.is_empty());
        assert_eq!(
            first.stdout, second.stdout,
            "{format} output differs between runs"
        );
    }
    let other_seed = spotlab(
        &["simulate", "--fleet", fleet, "--hours", "24", "--seed", "8"],
        dir.path(),
    );
    let seven = spotlab(
        &["simulate", "--fleet", fleet, "--hours", "24", "--seed", "7"],
        dir.path(),
    );
    assert_ne!(other_seed.stdout, seven.stdout, "the seed must matter");
}

#[test]
fn the_reference_fleet_sits_in_the_two_cheapest_pools_per_unit_and_reports_cost() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = repo_file("examples/create_fleet.json");
    let output = spotlab(
        &[
            "simulate",
            "--fleet",
            fleet.to_str().unwrap(),
            "--hours",
            "24",
            "--seed",
            "7",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let summary = &json["summary"];
    let pools = summary["pools"].as_array().unwrap();
    let live: Vec<(&str, u64)> = pools
        .iter()
        .filter(|p| p["live"].as_u64().unwrap() > 0)
        .map(|p| (p["pool"].as_str().unwrap(), p["live"].as_u64().unwrap()))
        .collect();
    // t2.small costs ~$0.007 per vCPU-hour as Spot; c5 ~$0.017: the two cheapest pools
    // per unit are the two t2.small pools, 2 units each (InstancePoolsToUseCount 2).
    assert_eq!(
        live,
        [("t2.small/us-east-1a", 2), ("t2.small/us-east-1b", 2)]
    );
    let fleet = &summary["fleets"][0];
    assert_eq!(fleet["fulfilled"], 4.0);
    assert_eq!(fleet["interruptions"], fleet["replacements"]);
    let cost: f64 = summary["cost"].as_str().unwrap().parse().unwrap();
    let on_demand: f64 = summary["on_demand_cost"].as_str().unwrap().parse().unwrap();
    // 4 instance-days of t2.small: $2.208 On-Demand.
    assert!((on_demand - 2.2).abs() < 0.05, "{on_demand}");
    assert!(
        cost > 0.0 && cost < on_demand * 0.5,
        "{cost} vs {on_demand}"
    );
    assert!(summary["savings_pct"].as_f64().unwrap() > 50.0);
}

#[test]
fn the_walkthroughs_own_fleet_json_runs_unchanged_with_a_subnet_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = repo_file("crates/fleet/tests/fixtures/create_fleet.json");
    let fleet = fleet.to_str().unwrap();
    let unmapped = spotlab(&["simulate", "--fleet", fleet, "--hours", "1"], dir.path());
    assert!(!unmapped.status.success());
    let stderr = String::from_utf8_lossy(&unmapped.stderr);
    assert!(stderr.contains("InvalidSubnetID.NotFound"), "{stderr}");
    assert!(
        stderr.contains("--subnet"),
        "the error must say how to fix it: {stderr}"
    );

    let mapped = spotlab(
        &[
            "simulate",
            "--fleet",
            fleet,
            "--hours",
            "1",
            "--subnet",
            "subnet-0a1b2c3d4e5f60001=us-east-1a",
            "--subnet",
            "subnet-0a1b2c3d4e5f60002=us-east-1b",
        ],
        dir.path(),
    );
    assert!(
        mapped.status.success(),
        "{}",
        String::from_utf8_lossy(&mapped.stderr)
    );
    let stdout = String::from_utf8_lossy(&mapped.stdout);
    assert!(stdout.contains("t2.small/us-east-1a") && stdout.contains("t2.small/us-east-1b"));
}

#[test]
fn bad_input_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("typo.json"), r#"{"Typo": 1}"#).unwrap();
    let output = spotlab(&["simulate", "--fleet", "typo.json"], dir.path());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Typo"), "{stderr}");

    let output = spotlab(
        &[
            "simulate",
            "--fleet",
            "typo.json",
            "--subnet",
            "subnet-1=us-west-2a",
        ],
        dir.path(),
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("us-east-1a"));
}
