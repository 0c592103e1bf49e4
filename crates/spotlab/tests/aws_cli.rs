//! The AWS CLI against `spotlab up`: the reference walkthrough's EC2 commands (steps 5
//! to 11) run verbatim by `tests/aws-cli/walkthrough.sh`, including a Python program
//! using boto3 and IMDSv2 as user data that must see its interruption notice and exit
//! cleanly before termination; and the walkthrough's monitoring created by
//! `tests/aws-cli/monitoring.sh` (topics, an HTTP subscriber that confirms itself, the
//! alarm, the interruption rule) and exercised through CloudWatch, SNS and EventBridge;
//! and the stack's instance role and profile through IAM (`tests/aws-cli/iam.sh`).
//!
//! The AWS CLI comes from PyPI into a virtual environment made by
//! `scripts/python-env.sh` (`cargo xtask ci` runs it and sets `SPOTLAB_REQUIRE_AWS_CLI`,
//! which makes a missing environment a failure rather than a skip).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::Up;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/spotlab sits two levels below the root")
        .to_owned()
}

fn venv() -> Option<PathBuf> {
    let dir = std::env::var_os("SPOTLAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/spotlab-venv"));
    dir.join("bin/aws").exists().then_some(dir)
}

/// Runs `script` (in `tests/aws-cli/`) against a fresh `spotlab up` at time scale 60 and
/// checks it printed `done`.
fn run_script(script: &str, done: &str) {
    run(script, done, true);
}

/// The scripts run one at a time: each drives a local cloud at time scale 60 with real
/// processes, and several at once on a small machine would fall behind virtual time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `script`, which starts (and may kill and restart) `spotlab up` itself.
fn run_script_alone(script: &str, done: &str) {
    run(script, done, false);
}

fn run(script: &str, done: &str, start_up: bool) {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(venv) = venv() else {
        assert!(
            std::env::var_os("SPOTLAB_REQUIRE_AWS_CLI").is_none(),
            "SPOTLAB_REQUIRE_AWS_CLI is set but there is no virtual environment with the AWS CLI; run scripts/python-env.sh"
        );
        eprintln!("skipped: no AWS CLI environment (scripts/python-env.sh makes one)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("work dir");
    let up = start_up.then(|| {
        Up::start(
            &state,
            &[
                "--listen",
                "127.0.0.1:0",
                "--time-scale",
                "60",
                "--seed",
                "3",
            ],
        )
    });
    let url = up.as_ref().map(|up| up.url.clone()).unwrap_or_default();
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws-cli");
    let output = Command::new("bash")
        .arg(here.join(script))
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("AWS_ENDPOINT_URL", &url)
        .env("SPOTLAB_ENDPOINT", &url)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "spotlab")
        .env("AWS_SECRET_ACCESS_KEY", "spotlab")
        .env("AWS_PAGER", "")
        .env("WORKDIR", &work)
        .env("STATE_DIR", &state)
        .env("SPOTLAB", env!("CARGO_BIN_EXE_spotlab"))
        .env("HERE", &here)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(done),
        "{script} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    // The run's checks, for the test log.
    eprintln!("{stdout}");
    drop(up);
}

#[test]
fn reference_walkthrough_with_the_aws_cli() {
    run_script("walkthrough.sh", "walkthrough passed");
}

#[test]
fn walkthrough_monitoring_with_the_aws_cli() {
    run_script("monitoring.sh", "monitoring passed");
}

#[test]
fn the_stacks_instance_role_and_profile_with_the_aws_cli() {
    run_script("iam.sh", "iam passed");
}

#[test]
fn the_walkthroughs_test_script_as_user_data_reaches_the_alarm() {
    run_script("test_script.sh", "test script passed");
}

#[test]
fn walkthrough_end_to_end_with_agents_alarm_topics_and_a_crash() {
    run_script_alone("monitoring_e2e.sh", "monitoring end to end passed");
}
