//! `spotlab up`, `spotlab fault` and `spotlab events` as a user runs them: the real
//! binaries on loopback, virtual time at scale 60.
//!
//! - `spotlab fault interrupt --fleet F --percent 50 --before 4m` sends rebalance
//!   recommendations at once and the interruption warnings 2 virtual minutes later,
//!   which `spotlab events --follow` prints as they happen.
//! - `spotlab fault drop-capacity` reclaims a pool's instances.
//! - A restart that would change the cloud's time scale is refused with a clear message.

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    DefaultTargetCapacityType, FleetLaunchTemplateConfigRequest,
    FleetLaunchTemplateOverridesRequest, FleetLaunchTemplateSpecificationRequest,
    RequestLaunchTemplateData, TargetCapacitySpecificationRequest,
};
use support::{Up, client};

fn spotlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spotlab"))
}

fn up(state: &Path, scale: &str) -> Up {
    Up::start(
        state,
        &[
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            scale,
            "--seed",
            "9",
        ],
    )
}

/// A maintain fleet of `target` t2.small in us-east-1a, running; returns its id.
async fn fleet(ec2: &Client, target: i32) -> String {
    let lt = ec2
        .create_launch_template()
        .launch_template_name("faults")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id("ami-1")
                .build(),
        )
        .send()
        .await
        .expect("template");
    let lt = lt
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .expect("id")
        .to_owned();
    let out = ec2
        .create_fleet()
        .target_capacity_specification(
            TargetCapacitySpecificationRequest::builder()
                .total_target_capacity(target)
                .default_target_capacity_type(DefaultTargetCapacityType::Spot)
                .build(),
        )
        .launch_template_configs(
            FleetLaunchTemplateConfigRequest::builder()
                .launch_template_specification(
                    FleetLaunchTemplateSpecificationRequest::builder()
                        .launch_template_id(lt)
                        .version("1")
                        .build(),
                )
                .overrides(
                    FleetLaunchTemplateOverridesRequest::builder()
                        .instance_type("t2.small".into())
                        .availability_zone("us-east-1a")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("fleet");
    out.fleet_id().expect("fleet id").to_owned()
}

fn run(args: &[&str], url: &str) -> (bool, String, String) {
    let out = spotlab()
        .args(args)
        .env("SPOTLAB_ENDPOINT", url)
        .output()
        .expect("spotlab runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_events_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let cloud = up(&state, "60");
    let ec2 = client(&cloud.url);
    let fleet_id = fleet(&ec2, 4).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // boots: 5 virtual seconds

    // Follow the bus from now on, as a user watching would.
    let after = run(&["events", "--format", "json"], &cloud.url)
        .1
        .lines()
        .count();
    let mut follower = spotlab()
        .args(["events", "--follow", "--after", &after.to_string()])
        .env("SPOTLAB_ENDPOINT", &cloud.url)
        .stdout(Stdio::piped())
        .spawn()
        .expect("events --follow");
    let follow_out = BufReader::new(follower.stdout.take().expect("stdout"));
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in follow_out.lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    let (ok, stdout, stderr) = run(
        &[
            "fault",
            "interrupt",
            "--fleet",
            &fleet_id,
            "--percent",
            "50",
            "--before",
            "4m",
        ],
        &cloud.url,
    );
    assert!(ok, "fault interrupt failed: {stderr}");
    let outcome: serde_json::Value = serde_json::from_str(&stdout).expect("JSON outcome");
    let chosen = outcome["instances"].as_array().map_or(0, Vec::len);
    assert_eq!(chosen, 2, "50% of 4: {outcome}");

    // Rebalance recommendations now; warnings 2 virtual minutes (2 s) later.
    let started = Instant::now();
    let (mut rebalances, mut warnings) = (0, 0);
    let mut first_warning: Option<Duration> = None;
    while started.elapsed() < Duration::from_secs(15) && warnings < 2 {
        let Ok(line) = lines_rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        if line.contains("EC2 Instance Rebalance Recommendation") {
            rebalances += 1;
        }
        if line.contains("EC2 Spot Instance Interruption Warning") {
            warnings += 1;
            first_warning.get_or_insert(started.elapsed());
        }
    }
    let _ = follower.kill();
    let _ = follower.wait();
    assert_eq!((rebalances, warnings), (2, 2));
    let lead = first_warning.expect("a warning");
    assert!(
        lead >= Duration::from_millis(1_500),
        "the notice came {lead:?} after the fault, expected about 2 s (2 virtual minutes)"
    );

    // A capacity drop reclaims what the pool holds above the level.
    let (ok, stdout, stderr) = run(
        &[
            "fault",
            "drop-capacity",
            "--pool",
            "t2.small/us-east-1a",
            "--level",
            "0",
            "--for",
            "30m",
        ],
        &cloud.url,
    );
    assert!(ok, "drop-capacity failed: {stderr}");
    let outcome: serde_json::Value = serde_json::from_str(&stdout).expect("JSON outcome");
    assert!(
        !outcome["instances"]
            .as_array()
            .expect("instances")
            .is_empty(),
        "the pool's instances get notices: {outcome}"
    );
    let (ok, _, stderr) = run(
        &["fault", "interrupt", "--instance", "i-0123456789abcdef0"],
        &cloud.url,
    );
    assert!(
        !ok && stderr.contains("InvalidInstanceID.NotFound"),
        "{stderr}"
    );
    drop(cloud);

    // The cloud's time scale is part of its state.
    let out = spotlab()
        .args(["up", "--listen", "127.0.0.1:0", "--time-scale", "30"])
        .arg("--state-dir")
        .arg(&state)
        .output()
        .expect("spotlab up");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("time scale 60, not 30"), "{stderr}");
}
