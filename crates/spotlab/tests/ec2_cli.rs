//! `spotlab ec2 ...` as a user runs it against a `spotlab up` started by the test on
//! loopback: the walkthrough's stack (`spotlab stack up`), the reference fleet from its
//! CLI JSON (`create-fleet --cli-input-json file://...`), the describe calls in JSON,
//! text and table output, modify-fleet, delete-fleets, then `stack down` leaves nothing.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::Up;

/// `spotlab ARGS` against `endpoint`, with dummy credentials.
fn spotlab(endpoint: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spotlab"))
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "spotlab")
        .env("AWS_SECRET_ACCESS_KEY", "spotlab")
        .env("TARGET_URL", "http://127.0.0.1:9/")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("running spotlab")
}

fn stdout(what: &str, output: &Output) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(what: &str, output: &Output) -> Value {
    let text = stdout(what, output);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
}

#[test]
fn the_reference_fleet_through_spotlab_ec2() {
    let dir = tempfile::tempdir().unwrap();
    let mut up = Up::start(
        &dir.path().join("state"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            "20",
            "--seed",
            "11",
            "--interruption-scale",
            "0",
        ],
    );
    let url = up.url.clone();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let stack_file = examples.join("walkthrough-stack.toml");
    let stack_file = stack_file.to_str().unwrap();

    let outputs = json("stack up", &spotlab(&url, &["stack", "up", stack_file]));
    let template = outputs["LaunchTemplate"]["LaunchTemplateId"]
        .as_str()
        .expect("a launch template id");
    let subnets: Vec<&str> = outputs["SubnetIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let request = std::fs::read_to_string(examples.join("reference-fleet.json"))
        .unwrap()
        .replace("${LAUNCH_TEMPLATE_ID}", template)
        .replace("${SUBNET_ID_1}", subnets[0])
        .replace("${SUBNET_ID_2}", subnets[1]);
    let request_file = dir.path().join("create_fleet.json");
    std::fs::write(&request_file, request).unwrap();

    let created = json(
        "create-fleet",
        &spotlab(
            &url,
            &[
                "ec2",
                "create-fleet",
                "--cli-input-json",
                &format!("file://{}", request_file.display()),
            ],
        ),
    );
    let fleet = created["FleetId"].as_str().expect("a fleet id").to_owned();

    // Fulfilled, as describe-fleets --output text shows it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let described = json(
            "describe-fleets",
            &spotlab(&url, &["ec2", "describe-fleets", "--fleet-ids", &fleet]),
        );
        let f = &described["Fleets"][0];
        if f["FulfilledCapacity"].as_f64() == Some(4.0) {
            assert_eq!(f["FleetState"], "active");
            assert_eq!(f["TargetCapacitySpecification"]["TotalTargetCapacity"], 4);
            break;
        }
        assert!(Instant::now() < deadline, "never fulfilled: {described}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let text = stdout(
        "describe-fleets --output text",
        &spotlab(
            &url,
            &[
                "ec2",
                "describe-fleets",
                "--fleet-ids",
                &fleet,
                "--output",
                "text",
            ],
        ),
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("FLEETS\t"))
        .unwrap_or_else(|| panic!("no FLEETS line in {text}"));
    assert!(
        line.contains(&fleet) && line.contains("\tactive\t"),
        "{line}"
    );

    let instances = json(
        "describe-fleet-instances",
        &spotlab(
            &url,
            &["ec2", "describe-fleet-instances", "--fleet-id", &fleet],
        ),
    );
    let ids: Vec<&str> = instances["ActiveInstances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap())
        .collect();
    assert!(!ids.is_empty());

    let table = stdout(
        "describe-instances --output table",
        &spotlab(
            &url,
            &[
                "ec2",
                "describe-instances",
                "--filters",
                "Name=instance-state-name,Values=pending,running",
                "--output",
                "table",
            ],
        ),
    );
    for id in &ids {
        assert!(table.contains(id), "{id} not in\n{table}");
    }

    let prices = json(
        "describe-spot-price-history",
        &spotlab(
            &url,
            &[
                "ec2",
                "describe-spot-price-history",
                "--instance-types",
                "t2.small",
                "--availability-zone",
                "us-east-1a",
                "--max-items",
                "3",
            ],
        ),
    );
    let prices = prices["SpotPriceHistory"].as_array().unwrap();
    assert!(!prices.is_empty() && prices.len() <= 3);
    assert_eq!(prices[0]["InstanceType"], "t2.small");

    let history = json(
        "describe-fleet-history",
        &spotlab(
            &url,
            &[
                "ec2",
                "describe-fleet-history",
                "--fleet-id",
                &fleet,
                "--start-time",
                "2000-01-01T00:00:00Z",
            ],
        ),
    );
    assert!(!history["HistoryRecords"].as_array().unwrap().is_empty());

    let modified = json(
        "modify-fleet",
        &spotlab(
            &url,
            &[
                "ec2",
                "modify-fleet",
                "--fleet-id",
                &fleet,
                "--target-capacity-specification",
                "TotalTargetCapacity=2",
            ],
        ),
    );
    assert_eq!(modified["Return"], true);

    let deleted = json(
        "delete-fleets",
        &spotlab(
            &url,
            &[
                "ec2",
                "delete-fleets",
                "--fleet-ids",
                &fleet,
                "--terminate-instances",
            ],
        ),
    );
    assert_eq!(
        deleted["SuccessfulFleetDeletions"][0]["FleetId"],
        fleet.as_str()
    );

    // A bad request names what is wrong.
    std::fs::write(&request_file, r#"{"Bogus": 1}"#).unwrap();
    let bad = spotlab(
        &url,
        &[
            "ec2",
            "create-fleet",
            "--cli-input-json",
            &format!("file://{}", request_file.display()),
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("Bogus"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    stdout("stack down", &spotlab(&url, &["stack", "down", stack_file]));
    let left = json(
        "describe-instances",
        &spotlab(
            &url,
            &[
                "ec2",
                "describe-instances",
                "--filters",
                "Name=instance-state-name,Values=pending,running,shutting-down",
            ],
        ),
    );
    assert_eq!(left["Reservations"], serde_json::json!([]), "{left}");
    up.stop();
}
