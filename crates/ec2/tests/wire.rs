//! The EC2 query codec over every served operation's whole input shape: random inputs
//! written with the wire names botocore uses (`queryName`, else the capitalised
//! `locationName`, else the member name; lists as `Name.N`) decode into the JSON the
//! AWS CLI's `--cli-input-json` names them by, value for value. And any bytes at all
//! decode to an answer or an EC2 error, never a panic (the fuzz target's property, run
//! in CI).

use aws_wire::model::{Model, Scalar, Shape, ShapeId};
use ec2::wire::{decode_request, encode_response};
use proptest::prelude::*;
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

/// A random input of `shape`: the wire pairs and the JSON they must decode to.
fn generate(
    model: &Model,
    shape: ShapeId,
    prefix: &str,
    depth: usize,
    rng: &mut ChaCha8Rng,
    pairs: &mut Vec<(String, String)>,
) -> Option<Value> {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    match model.shape(shape) {
        Shape::Structure { members, .. } => {
            if depth > 5 {
                return None;
            }
            let mut out = Map::new();
            for member in members {
                if rng.random_range(0..3) != 0 {
                    continue;
                }
                let wire = join(member.ec2_query_name());
                if let Some(value) = generate(model, member.shape, &wire, depth + 1, rng, pairs) {
                    out.insert(member.name.clone(), value);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Shape::List { member, .. } => {
            let mut items = Vec::new();
            for i in 0..rng.random_range(1..3) {
                let wire = format!("{prefix}.{}", i + 1);
                match generate(model, member.shape, &wire, depth + 1, rng, pairs) {
                    Some(value) => items.push(value),
                    // An element with nothing in it is not sent; stop the list there.
                    None => break,
                }
            }
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Shape::Map { .. } => None,
        Shape::Scalar(scalar) => {
            let (text, value) = match scalar {
                Scalar::String | Scalar::Blob => {
                    let text = format!("v{}&=%/ {}", rng.random_range(0..1000), "é");
                    (text.clone(), Value::String(text))
                }
                Scalar::Timestamp => {
                    let text = "2026-05-01T10:00:00Z".to_owned();
                    (text.clone(), Value::String(text))
                }
                Scalar::Integer | Scalar::Long => {
                    let n: i32 = rng.random_range(-5..10_000);
                    (n.to_string(), json!(n))
                }
                Scalar::Boolean => {
                    let b = rng.random_range(0..2) == 1;
                    (b.to_string(), json!(b))
                }
                Scalar::Double | Scalar::Float => {
                    let n = f64::from(rng.random_range(0..4_000)) / 4.0;
                    (format!("{n}"), json!(n))
                }
            };
            pairs.push((prefix.to_owned(), text));
            Some(value)
        }
    }
}

#[test]
fn every_operation_decodes_every_member_by_its_wire_name() {
    let model = Model::ec2();
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut checked = 0;
    for action in ec2::actions() {
        let input = model
            .operation(action)
            .and_then(|o| o.input)
            .expect("served operations have inputs");
        for _ in 0..40 {
            let mut pairs = Vec::new();
            let expected = generate(model, input, "", 0, &mut rng, &mut pairs)
                .unwrap_or_else(|| Value::Object(Map::new()));
            let mut body = form_urlencoded::Serializer::new(String::new());
            body.append_pair("Action", action);
            body.append_pair("Version", "2016-11-15");
            for (key, value) in &pairs {
                body.append_pair(key, value);
            }
            let body = body.finish();
            let request = decode_request("", body.as_bytes())
                .unwrap_or_else(|e| panic!("{action}: {e} for {body}"));
            assert_eq!(request.action, action);
            assert_eq!(request.input, expected, "{action}: {body}");
            checked += 1;
        }
    }
    assert_eq!(checked, ec2::actions().count() * 40);
}

#[test]
fn every_answer_renders_in_every_operation_s_output_shape() {
    // The cloud's own answers to an empty input, rendered as EC2 XML: a member the
    // model does not have would surface here as an InternalError.
    let mut cloud = ec2::Cloud::new(ec2::CloudConfig::new(
        1,
        simtime::SimTime::parse("2026-01-01T00:00:00Z").expect("time"),
    ));
    for action in ec2::actions() {
        let result = cloud.call(action, json!({}));
        let (status, xml) = encode_response(action, &result, "req");
        assert_ne!(status, 500, "{action}: {xml}");
    }
}

proptest! {
    #[test]
    fn any_bytes_decode_or_fail_cleanly(query in ".{0,40}", body in proptest::collection::vec(any::<u8>(), 0..300)) {
        match decode_request(&query, &body) {
            Ok(request) => {
                let _ = encode_response(&request.action, &Ok(request.input.clone()), "r");
            }
            Err(error) => {
                prop_assert!(error.status == 400, "{error}");
            }
        }
    }

    #[test]
    fn action_bodies_with_garbage_parameters_fail_cleanly(
        action in prop::sample::select(ec2::actions().collect::<Vec<_>>()),
        keys in proptest::collection::vec("[A-Za-z]{1,12}(\\.[0-9]{1,2}(\\.[A-Za-z]{1,10})?)?", 0..6),
        value in ".{0,12}",
    ) {
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.append_pair("Action", action);
        for key in &keys {
            body.append_pair(key, &value);
        }
        let body = body.finish();
        if let Err(error) = decode_request("", body.as_bytes()) {
            prop_assert!(error.status == 400, "{error}");
        }
    }
}
