//! What the monitoring codecs' tests share: botocore's recorded requests
//! (`requests.json`, written by `make_requests.py`), answers built from the model that
//! fill every member of an output shape, and the run of `check_responses.py`, which
//! parses answers with botocore's own parsers.

#![allow(dead_code)] // Each test file uses its part.

use std::path::{Path, PathBuf};

use aws_wire::model::{Model, Scalar, Shape, ShapeId};
use serde_json::{Map, Value, json};

/// This folder.
pub fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/monitoring")
}

/// One request botocore wrote.
pub struct Recorded {
    /// `cloudwatch`, `sns` or `events`.
    pub service: String,
    /// botocore's protocol name: `json`, `query`, `smithy-rpc-v2-cbor`.
    pub protocol: String,
    /// The operation.
    pub operation: String,
    /// The parameters it was made from, as canonical JSON.
    pub params: Value,
    /// The HTTP method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The URL query string.
    pub query: String,
    /// Every header.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Every recorded request.
pub fn recorded() -> Vec<Recorded> {
    let text = std::fs::read_to_string(here().join("requests.json")).expect("requests.json");
    let file: Value = serde_json::from_str(&text).expect("JSON");
    let text_of = |case: &Value, key: &str| case[key].as_str().expect(key).to_owned();
    file["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|case| {
            let body = match case.get("body_hex").and_then(Value::as_str) {
                Some(hex) => (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                    .collect(),
                None => text_of(case, "body").into_bytes(),
            };
            Recorded {
                service: text_of(case, "service"),
                protocol: text_of(case, "protocol"),
                operation: text_of(case, "operation"),
                params: case["params"].clone(),
                method: text_of(case, "method"),
                path: text_of(case, "path"),
                query: text_of(case, "query"),
                headers: case["headers"]
                    .as_array()
                    .expect("headers")
                    .iter()
                    .map(|pair| {
                        (
                            pair[0].as_str().expect("name").to_owned(),
                            pair[1].as_str().expect("value").to_owned(),
                        )
                    })
                    .collect(),
                body,
            }
        })
        .collect()
}

/// The model of a botocore service name.
pub fn model(service: &str) -> &'static Model {
    match service {
        "cloudwatch" => Model::cloudwatch(),
        "sns" => Model::sns(),
        "events" => Model::events(),
        "iam" => Model::iam(),
        other => panic!("no model for {other}"),
    }
}

/// Tagged unions (botocore refuses a value with more than one member set). The trimmed
/// model does not mark them, so the sample answers name them here.
const UNIONS: [&str; 2] = ["EvaluationCriteria", "EvaluationWindow"];

/// Doubles of the sample answers: fractional, whole (written `3.0`), negative, inexact in
/// binary, large.
const DOUBLES: [f64; 5] = [12.5, 3.0, -1.25, 0.1, 1e21];

/// A canonical value of `shape` with every member set (one member of a union), lists
/// and maps of two, text that needs escaping, doubles whole and fractional, timestamps
/// whole and fractional.
pub fn sample(model: &Model, shape: ShapeId, name: &str, n: usize, depth: usize) -> Value {
    if depth > 10 {
        return Value::Null;
    }
    match model.shape(shape) {
        Shape::Structure { members, .. } => {
            let union = UNIONS.contains(&model.shape_name(shape));
            let mut out = Map::new();
            for (i, member) in members.iter().enumerate() {
                if union && i > 0 {
                    break;
                }
                let value = sample(model, member.shape, &member.name, n + i, depth + 1);
                if !value.is_null() {
                    out.insert(member.name.clone(), value);
                }
            }
            Value::Object(out)
        }
        Shape::List { member, .. } => Value::Array(
            (0..2)
                .map(|i| sample(model, member.shape, name, n + i, depth + 1))
                .collect(),
        ),
        Shape::Map { value, .. } => Value::Object(
            (0..2)
                .map(|i| {
                    (
                        format!("{name}-key-{i}"),
                        sample(model, value.shape, name, n + i, depth + 1),
                    )
                })
                .collect(),
        ),
        Shape::Scalar(scalar) => match scalar {
            Scalar::String => json!(format!("{name} {n} <&> \"quoted\" 'é'")),
            Scalar::Integer | Scalar::Long => json!(60 + n),
            Scalar::Boolean => json!(n.is_multiple_of(2)),
            Scalar::Double | Scalar::Float => json!(DOUBLES[n % DOUBLES.len()]),
            Scalar::Timestamp => {
                if n.is_multiple_of(2) {
                    json!(1_704_164_645)
                } else {
                    json!(1_704_164_645.5)
                }
            }
            Scalar::Blob => json!("AP9ieXRlcw=="),
        },
    }
}

/// A sample answer for every operation of `model` (`null` for output-less ones).
pub fn sample_outputs(model: &Model) -> Vec<(String, Value)> {
    model
        .operation_names()
        .into_iter()
        .map(|name| {
            let value = match model.operation(name).and_then(|op| op.output) {
                Some(shape) => sample(model, shape, name, 0, 0),
                None => Value::Null,
            };
            (name.to_owned(), value)
        })
        .collect()
}

/// Every error shape the operations of `model` may answer with, by name, with the
/// first operation that lists it.
pub fn modeled_errors(model: &Model) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for name in model.operation_names() {
        for &error in &model.operation(name).expect("operation").errors {
            let shape = model.shape_name(error).to_owned();
            if !found.iter().any(|(s, _)| *s == shape) {
                found.push((shape, name.to_owned()));
            }
        }
    }
    found.sort();
    found
}

fn venv_python() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2)?;
    let venv = std::env::var_os("SPOTLAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/spotlab-venv"));
    let python = venv.join("bin/python3");
    python.exists().then_some(python)
}

/// Writes `cases` (see `check_responses.py` for their form) to a file and has botocore
/// check every one. Without the Python environment this is skipped, unless
/// `SPOTLAB_REQUIRE_AWS_CLI` is set (as `cargo xtask ci` sets it): then it fails.
pub fn botocore_check(file_name: &str, cases: &[Value]) {
    let Some(python) = venv_python() else {
        assert!(
            std::env::var_os("SPOTLAB_REQUIRE_AWS_CLI").is_none(),
            "SPOTLAB_REQUIRE_AWS_CLI is set but there is no Python environment with botocore"
        );
        eprintln!("skipped: no Python environment with botocore (scripts/python-env.sh makes one)");
        return;
    };
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(file_name);
    std::fs::write(&file, serde_json::to_vec_pretty(cases).expect("JSON")).expect("write");
    let out = std::process::Command::new(python)
        .arg(here().join("check_responses.py"))
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

/// A case for `check_responses.py`: an answer and what botocore must read from it.
pub fn answer_case(
    service: &str,
    protocol: &str,
    operation: &str,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> Value {
    json!({
        "service": service,
        "protocol": protocol,
        "operation": operation,
        "status": status,
        "headers": headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "body": String::from_utf8(body.to_vec()).expect("answers are text"),
    })
}
