//! The live smoke test on real AWS. It spends money and needs credentials, so it runs
//! only when `SPOTLAB_LIVE_AWS=1` is set (never in CI); otherwise it passes at once.
//!
//! ```text
//! SPOTLAB_LIVE_AWS=1 CHECKPOINT_BUCKET=<unique name> \
//!   IMAGE_ID=resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 \
//!   TARGET_URL=<a service the instances can reach> \
//!   SPOTLAB_LIVE_AGENT_BINARY=<spotlab built for the image, e.g. x86_64-unknown-linux-musl> \
//!   AWS_PROFILE=<profile> AWS_REGION=us-east-1 \
//!   cargo test -p spotlab --test live_aws -- --nocapture
//! ```
//!
//! The reference walkthrough at its smallest: the stack (`examples/aws-stack.toml`)
//! priced against tight guardrails first (`stack up --dry-run --fleet`), then `spotlab
//! run --aws` with the same guardrails: the reference fleet at 1 unit, fulfilled and
//! serving, one Spot instance interrupted through Fault Injection Service (its notice on
//! the interruption topic, its agent drained), the fleet deleted and the stack torn
//! down; then `spotlab cleanup` and a check through the SDKs that nothing tagged with
//! the stack remains.

mod support;
#[path = "support/tagged.rs"]
mod tagged;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::stdout;

const STACK: &str = "ReInvent-EC2SpotTestDev";

fn spotlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spotlab"))
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("running spotlab")
}

#[test]
fn the_walkthrough_at_its_smallest_on_aws() {
    if std::env::var_os("SPOTLAB_LIVE_AWS").is_none_or(|v| v != "1") {
        eprintln!("skipped: set SPOTLAB_LIVE_AWS=1 to run the live smoke test on AWS");
        return;
    }
    for needed in [
        "CHECKPOINT_BUCKET",
        "IMAGE_ID",
        "TARGET_URL",
        "SPOTLAB_LIVE_AGENT_BINARY",
    ] {
        assert!(
            std::env::var_os(needed).is_some(),
            "the live smoke test needs {needed}"
        );
    }
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned());
    let binary = std::env::var("SPOTLAB_LIVE_AGENT_BINARY").expect("checked above");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let stack_file = examples.join("aws-stack.toml");
    let stack_file = stack_file.to_str().expect("a UTF-8 path");
    let dir = tempfile::tempdir().expect("a temporary directory");

    // Guardrails first: at 1 unit the fleet must fit 2 instances and $0.50 an hour.
    let fleet_text = std::fs::read_to_string(examples.join("reference-fleet.json"))
        .expect("the reference fleet");
    let mut fleet: Value = serde_json::from_str(&fleet_text).expect("JSON");
    fleet["TargetCapacitySpecification"]["TotalTargetCapacity"] = 1.into();
    let fleet_file = dir.path().join("fleet.json");
    std::fs::write(&fleet_file, fleet.to_string()).expect("writing the fleet request");
    let fleet_path = fleet_file.to_str().expect("a UTF-8 path");
    let plan = stdout(
        "stack up --dry-run",
        &spotlab(&[
            "stack",
            "up",
            "--aws",
            "--region",
            &region,
            stack_file,
            "--dry-run",
            "--fleet",
            fleet_path,
            "--max-instances",
            "2",
            "--max-hourly-usd",
            "0.5",
        ]),
    );
    eprintln!("{plan}");
    assert!(
        plan.contains("allowed"),
        "the guardrails refuse 1 unit:\n{plan}"
    );

    // The walkthrough at 1 unit, through `spotlab run --aws`: fulfilled, requests
    // served, one Spot instance interrupted through FIS with its notice routed to the
    // interruption topic and its agent drained, the fleet deleted; the run deletes its
    // stack at the end.
    let scenario = dir.path().join("live.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"name = "live-smoke"
[target]
url = "{target}"
[stack]
file = "{stack}"
[fleet]
file = "{fleet}"
[agent]
rate = 1.0
[[steps]]
phase = "1 unit"
do = "create-fleet"
[[steps]]
do = "wait-fulfilled"
timeout = "10m"
expect = {{ capacity = 1 }}
[[steps]]
do = "hold"
duration = "3m"
expect = {{ success_rate = [0.1, 1000] }}
[[steps]]
phase = "interruption"
do = "interrupt"
count = 1
[[steps]]
do = "hold"
duration = "4m"
expect = {{ interruptions = [1, 1], all_drained = true, notifications = [{{ topic = "ReInvent-EC2SpotTestDev-SpotInterruptionTopic", count = "per-interruption" }}] }}
[[steps]]
phase = "teardown"
do = "delete-fleet"
"#,
            target = std::env::var("TARGET_URL").expect("checked above"),
            stack = stack_file,
            fleet = fleet_path,
        ),
    )
    .expect("writing the scenario");
    let run = spotlab(&[
        "run",
        "--aws",
        "--region",
        &region,
        "--max-instances",
        "2",
        "--max-hourly-usd",
        "0.5",
        "--agent-binary",
        &binary,
        "--out",
        dir.path().join("run").to_str().expect("a UTF-8 path"),
        scenario.to_str().expect("a UTF-8 path"),
    ]);
    eprintln!("{}", String::from_utf8_lossy(&run.stdout));
    // Whatever happened, nothing may be left behind.
    stdout(
        "cleanup",
        &spotlab(&[
            "cleanup", "--aws", "--region", &region, "--stack", STACK, "--wait", "15m",
        ]),
    );
    let left = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(async {
            tagged::Clients::new(None, None)
                .await
                .leftovers(STACK)
                .await
        });
    assert_eq!(left, Vec::<String>::new(), "left on AWS after cleanup");
    stdout("spotlab run --aws", &run);
}
