//! The REST-JSON codec (FIS) against botocore's own serializer and parser: every served
//! operation's request, as botocore writes it, routes to its operation and decodes to
//! the parameters it came from; every answer, and every error shape, as this codec
//! writes it, reads back through botocore's parser as meant (`restjson/fis_botocore.py`).
//! Without the Python environment this is skipped, unless `SPOTLAB_REQUIRE_AWS_CLI` is
//! set (as `cargo xtask ci` sets it).

use std::path::{Path, PathBuf};

use aws_wire::model::Model;
use aws_wire::restjson;
use serde_json::{Value, json};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/restjson/fis_botocore.py")
}

fn python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2)?;
    let venv = std::env::var_os("SPOTLAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/spotlab-venv"));
    let python = venv.join("bin/python3");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var_os("SPOTLAB_REQUIRE_AWS_CLI").is_none(),
        "SPOTLAB_REQUIRE_AWS_CLI is set but there is no Python environment with botocore"
    );
    eprintln!("skipped: no Python environment with botocore (scripts/python-env.sh makes one)");
    None
}

#[test]
fn botocores_requests_route_and_decode_to_their_parameters() {
    let Some(python) = python() else { return };
    let out = std::process::Command::new(python)
        .arg(script())
        .arg("requests")
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    let model = Model::fis();
    let mut served: Vec<&str> = Vec::new();
    for case in &cases {
        let text = |key: &str| case[key].as_str().expect(key);
        let routed = restjson::route(model, text("method"), text("path"))
            .unwrap_or_else(|e| panic!("{}: {e}", text("operation")));
        assert_eq!(routed.operation, text("operation"));
        let decoded =
            restjson::decode_input(model, &routed, text("query"), text("body").as_bytes())
                .unwrap_or_else(|e| panic!("{}: {e}", text("operation")));
        assert_eq!(decoded, case["params"], "{}", text("operation"));
        served.push(text("operation"));
    }
    served.sort_unstable();
    assert_eq!(served, model.operation_names(), "every served operation");
}

/// An answer of each operation filling the members the local FIS answers with.
fn answers() -> Vec<(&'static str, Value)> {
    let target = json!({
        "resourceType": "aws:ec2:spot-instance",
        "resourceArns": ["arn:aws:ec2:us-east-1:000000000000:instance/i-0123456789abcdef0"],
        "resourceTags": {"role": "web"},
        "filters": [{"path": "State.Name", "values": ["running"]}],
        "selectionMode": "ALL"
    });
    let template = json!({
        "id": "EXT1",
        "arn": "arn:aws:fis:us-east-1:000000000000:experiment-template/EXT1",
        "description": "interrupt",
        "roleArn": "arn:aws:iam::000000000000:role/fis",
        "targets": {"SpotInstances": target},
        "actions": {"interrupt": {
            "actionId": "aws:ec2:send-spot-instance-interruptions",
            "parameters": {"durationBeforeInterruption": "PT2M"},
            "targets": {"SpotInstances": "SpotInstances"}
        }},
        "stopConditions": [{"source": "none"}],
        "creationTime": 1_700_000_000,
        "lastUpdateTime": 1_700_000_000.5,
        "tags": {"k": "v"},
        "experimentOptions": {"accountTargeting": "single-account", "emptyTargetResolutionMode": "fail"}
    });
    let experiment = json!({
        "id": "EXP1",
        "arn": "arn:aws:fis:us-east-1:000000000000:experiment/EXP1",
        "experimentTemplateId": "EXT1",
        "roleArn": "arn:aws:iam::000000000000:role/fis",
        "state": {"status": "failed", "reason": "Target resolution returned empty set.",
                  "error": {"accountId": "000000000000", "code": "InvalidTarget", "location": "targets.SpotInstances"}},
        "targets": {"SpotInstances": target},
        "actions": {"interrupt": {
            "actionId": "aws:ec2:send-spot-instance-interruptions",
            "parameters": {"durationBeforeInterruption": "PT2M"},
            "targets": {"SpotInstances": "SpotInstances"},
            "state": {"status": "cancelled", "reason": "cancelled"},
            "startTime": 1_700_000_005,
            "endTime": 1_700_000_125
        }},
        "stopConditions": [{"source": "none"}],
        "creationTime": 1_700_000_000,
        "startTime": 1_700_000_000,
        "endTime": 1_700_000_005,
        "tags": {"run": "1"},
        "experimentOptions": {"accountTargeting": "single-account", "emptyTargetResolutionMode": "fail", "actionsMode": "run-all"}
    });
    let summary = json!({
        "id": "EXP1", "arn": "arn:aws:fis:us-east-1:000000000000:experiment/EXP1",
        "experimentTemplateId": "EXT1", "state": {"status": "running", "reason": "Experiment is running."},
        "creationTime": 1_700_000_000, "tags": {}, "experimentOptions": {"actionsMode": "run-all"}
    });
    vec![
        (
            "CreateExperimentTemplate",
            json!({"experimentTemplate": template}),
        ),
        (
            "GetExperimentTemplate",
            json!({"experimentTemplate": template}),
        ),
        (
            "DeleteExperimentTemplate",
            json!({"experimentTemplate": template}),
        ),
        (
            "ListExperimentTemplates",
            json!({"experimentTemplates": [{
            "id": "EXT1", "arn": "arn:aws:fis:us-east-1:000000000000:experiment-template/EXT1",
            "description": "interrupt", "creationTime": 1_700_000_000, "lastUpdateTime": 1_700_000_000, "tags": {}}],
            "nextToken": "EXT1"}),
        ),
        ("StartExperiment", json!({"experiment": experiment})),
        ("GetExperiment", json!({"experiment": experiment})),
        ("StopExperiment", json!({"experiment": experiment})),
        ("ListExperiments", json!({"experiments": [summary]})),
        ("TagResource", json!({})),
        ("UntagResource", json!({})),
        ("ListTagsForResource", json!({"tags": {"k": "v"}})),
    ]
}

#[test]
fn botocore_reads_answers_and_errors_as_meant() {
    let Some(python) = python() else { return };
    let model = Model::fis();
    let mut cases = Vec::new();
    for (operation, answer) in answers() {
        let body = restjson::encode_output(model, operation, &answer).expect(operation);
        cases.push(json!({
            "operation": operation,
            "status": 200,
            "headers": [["Content-Type", restjson::CONTENT_TYPE]],
            "body": String::from_utf8(body).expect("UTF-8"),
            "expect": answer,
        }));
    }
    for (code, operation) in [
        ("ValidationException", "CreateExperimentTemplate"),
        ("ConflictException", "StartExperiment"),
        ("ResourceNotFoundException", "GetExperiment"),
        ("ServiceQuotaExceededException", "StartExperiment"),
        ("UnknownOperationException", "GetExperiment"),
    ] {
        let error = restjson::encode_error(model, code, "why");
        cases.push(json!({
            "operation": operation,
            "status": error.status,
            "headers": error.headers,
            "body": String::from_utf8(error.body).expect("UTF-8"),
            "expect": {"Error": {"Code": code}},
        }));
    }
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fis-answers.json");
    std::fs::write(&file, serde_json::to_vec(&cases).expect("JSON")).expect("write");
    let out = std::process::Command::new(python)
        .arg(script())
        .arg("responses")
        .arg(&file)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "botocore disagrees:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        cases.len(),
        "{stdout}"
    );
}
