//! `spotlab demo`, `spotlab run` and `spotlab find-limit` as a user runs them: the
//! real binary, an embedded local cloud, instances running `spotlab agent` against
//! `spotlab target`, at time scale 60.
//!
//! - The demo passes, its JUnit has no failure, its report has the three phases, the
//!   alarm's round trip and drained interruptions, and (in headless Chromium) its
//!   charts draw.
//! - With the target at 10 requests/s, the demo fails, saying which expectations
//!   missed and by how much.
//! - find-limit finds the reference target's 5 requests/s.

#[path = "../../report/tests/support/browser.rs"]
mod browser;

use std::path::Path;
use std::process::{Command, Output};

/// One run at a time: each runs a fleet of agent processes at time scale 60, and
/// runs side by side on two cores would measure each other.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn spotlab(dir: &Path, args: &[&str]) -> Output {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Command::new(env!("CARGO_BIN_EXE_spotlab"))
        .args(args)
        .current_dir(dir)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "spotlab")
        .env("AWS_SECRET_ACCESS_KEY", "spotlab")
        .output()
        .expect("running spotlab")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_demo_passes_and_its_report_shows_the_three_phases() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = spotlab(
        dir.path(),
        &["demo", "--quiet", "--out", "run", "--junit", "junit.xml"],
    );
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "the demo failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(stdout.contains("Verdict: PASS"), "{stdout}");

    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).expect("the file is there");
    assert!(junit.contains("failures=\"0\" errors=\"0\""), "{junit}");
    assert!(junit.matches("<testcase ").count() >= 15, "{junit}");

    let run = dir.path().join("run");
    let report: report::RunReport =
        serde_json::from_slice(&std::fs::read(run.join("report.json")).expect("the file is there"))
            .expect("valid JSON");
    let phases: Vec<&str> = report.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(phases, ["4 units", "8 units", "2 units", "teardown"]);
    let capacity: Vec<Option<f64>> = report.phases[..3]
        .iter()
        .map(|p| p.fulfilled_capacity)
        .collect();
    assert_eq!(capacity, [Some(4.0), Some(8.0), Some(2.0)]);
    assert_eq!(report.phases[0].errors, 0);
    assert!(
        report.phases[1]
            .error_rate()
            .expect("the phase had requests")
            > 0.2
    );
    let alarm = report.alarm.as_ref().expect("the alarm's series");
    let moves: Vec<(&str, &str)> = alarm
        .transitions
        .iter()
        .map(|t| (t.from.as_str(), t.to.as_str()))
        .collect();
    assert_eq!(
        moves,
        [
            ("INSUFFICIENT_DATA", "OK"),
            ("OK", "ALARM"),
            ("ALARM", "OK")
        ]
    );
    assert!(!report.interruptions.is_empty());
    assert!(
        report.interruptions.iter().all(|i| i.drained == Some(true)),
        "{:?}",
        report.interruptions
    );
    let cost = report.cost.as_ref().expect("the run has a cost");
    assert!(cost.spot_usd > 0.0 && cost.spot_usd < cost.on_demand_usd);
    assert!(!report.prices.is_empty());

    // The report in a browser: every chart drew.
    let Some(chromium) = browser::chromium() else {
        return;
    };
    let page = std::fs::read_to_string(run.join("report.html")).expect("the file is there");
    let shot = browser::screenshot(
        &chromium,
        &page,
        4000,
        browser::keep("demo-report.png").as_deref(),
    );
    for (what, colour) in [
        ("successful requests", report::testing::SUCCESS_FILL),
        ("failed requests", report::testing::ERROR_FILL),
        ("ALARM band", report::testing::ALARM_BAND),
        ("OK band", report::testing::OK_BAND),
        ("first pool", report::testing::POOLS[0]),
        ("second pool", report::testing::POOLS[1]),
    ] {
        let n = shot.count(colour);
        assert!(
            n >= 2_000,
            "{what} ({colour}): {n} pixels in the screenshot"
        );
    }
}

#[test]
fn a_target_at_ten_per_second_fails_the_demo_and_says_why() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = spotlab(
        dir.path(),
        &[
            "demo",
            "--quiet",
            "--out",
            "run",
            "--target-rate",
            "10",
            "--junit",
            "junit.xml",
        ],
    );
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    // At 8 requests/s against 10/s few requests fail: the verdict says which
    // expectations missed, with the measured values and by how much.
    assert!(stdout.contains("Verdict: FAIL"), "{stdout}");
    let failed = |needle: &str| {
        stdout
            .lines()
            .any(|l| l.starts_with("FAILED 8 units, step 8/13 (hold 2m): ") && l.contains(needle))
    };
    assert!(
        failed("% below the expected 20.0%..50.0%"),
        "no failed error rate in\n{stdout}"
    );
    assert!(
        failed("/s above the expected 4.50/s..5.50/s"),
        "no failed success rate in\n{stdout}"
    );
    assert!(stderr.contains("expectations did not hold"), "{stderr}");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).expect("the file is there");
    assert!(junit.contains("errors=\"0\""), "{junit}");
    assert!(junit.contains("below the expected 20.0%..50.0%"), "{junit}");
}

#[test]
fn a_missed_expectation_says_which_and_by_how_much() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for name in ["walkthrough-stack.toml", "reference-fleet.json"] {
        std::fs::copy(examples.join(name), dir.path().join(name)).expect("copying an example");
    }
    // Four units at 5 requests/s, expecting errors that a healthy service never makes.
    let scenario = r#"
name = "broken"
[target]
rate = 5
[stack]
file = "walkthrough-stack.toml"
[fleet]
file = "reference-fleet.json"
[[steps]]
phase = "4 units"
do = "create-fleet"
[[steps]]
do = "wait-fulfilled"
[[steps]]
do = "hold"
duration = "2m"
expect = { error_rate = [0.2, 0.5], capacity = 4 }
[[steps]]
phase = "end"
do = "delete-fleet"
expect = { running = 0 }
"#;
    std::fs::write(dir.path().join("broken.toml"), scenario).expect("writing a test file");
    let output = spotlab(
        dir.path(),
        &["run", "broken.toml", "--quiet", "--out", "run"],
    );
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("FAILED 4 units, step 3/4 (hold 2m): error rate was "))
        .unwrap_or_else(|| panic!("no failed error rate in\n{stdout}"));
    assert!(line.ends_with("below the expected 20.0%..50.0%"), "{line}");
    assert!(
        stderr.contains("verdict: FAIL (1 of 3 expectations did not hold)"),
        "{stderr}"
    );
}

#[test]
fn find_limit_finds_the_reference_targets_five_per_second() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = spotlab(dir.path(), &["find-limit", "--quiet", "--out", "run"]);
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let limit: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("limit: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no limit in\n{stdout}"));
    assert!((4.5..=5.5).contains(&limit), "limit {limit}\n{stdout}");
    assert!(dir.path().join("run/limit.html").is_file());
}

#[test]
fn the_run_refuses_a_capacity_beyond_its_guardrails_and_cleans_up() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = spotlab(
        dir.path(),
        &["demo", "--quiet", "--out", "run", "--max-instances", "6"],
    );
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stderr.contains(
            "refusing capacity 8: it could need 8 instances, more than --max-instances 6"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("the run did not finish"), "{stderr}");
    // The 4-unit phase ran and was judged; the fleet was deleted on the way out.
    assert!(stderr.contains("cleaning up: deleting fleet"), "{stderr}");
    assert!(dir.path().join("run/report.html").is_file());
}

#[test]
fn a_dry_run_lists_the_stack_and_prices_each_capacity_without_creating_anything() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = spotlab(dir.path(), &["demo", "--dry-run", "--max-instances", "6"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("nothing is created"), "{stdout}");
    assert!(
        stdout.contains("alarm ReInvent-EC2SpotTestDev-Alarm"),
        "{stdout}"
    );
    let capacity = |n: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(n))
            .unwrap_or_else(|| panic!("no row for capacity {n} in\n{stdout}"))
            .to_owned()
    };
    assert!(capacity("4").ends_with("allowed"), "{stdout}");
    assert!(capacity("8").ends_with("refused"), "{stdout}");
    assert!(capacity("2").ends_with("allowed"), "{stdout}");
    // No run directory: nothing ran.
    assert!(!dir.path().join(".spotlab").exists());
}
