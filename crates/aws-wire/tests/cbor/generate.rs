//! Proptest strategies for canonical JSON of any model shape: what the services build
//! (member names, epoch-second timestamps with whole ones as integers, doubles as JSON
//! floats, base64 blobs) and what the decoder must produce.

use aws_wire::model::{Model, Scalar, Shape, ShapeId};
use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Structures nested deeper than this are generated empty (CloudWatch's shapes are not
/// recursive; the bound only keeps a future recursive model finite).
const MAX_DEPTH: usize = 8;

/// A canonical value of `shape`.
pub fn value(model: &'static Model, shape: ShapeId) -> BoxedStrategy<Value> {
    at_depth(model, shape, 0)
}

fn at_depth(model: &'static Model, shape: ShapeId, depth: usize) -> BoxedStrategy<Value> {
    match model.shape(shape) {
        Shape::Structure { members, .. } => {
            if depth >= MAX_DEPTH {
                return Just(Value::Object(Map::new())).boxed();
            }
            let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = members
                .iter()
                .map(|m| {
                    let name = m.name.clone();
                    proptest::option::weighted(
                        0.4,
                        at_depth(model, m.shape, depth + 1).prop_map(move |v| (name.clone(), v)),
                    )
                    .boxed()
                })
                .collect();
            fields
                .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
                .boxed()
        }
        Shape::List { member, .. } => {
            proptest::collection::vec(at_depth(model, member.shape, depth + 1), 0..4)
                .prop_map(Value::Array)
                .boxed()
        }
        Shape::Map { value: element, .. } => proptest::collection::btree_map(
            "\\PC{0,10}",
            at_depth(model, element.shape, depth + 1),
            0..4,
        )
        .prop_map(|m| Value::Object(m.into_iter().collect()))
        .boxed(),
        Shape::Scalar(scalar) => scalar_value(*scalar),
    }
}

fn float(v: f64) -> Value {
    Value::Number(Number::from_f64(v).expect("finite"))
}

/// Finite doubles, with plenty that fit a half or single float or an integer.
pub fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
        (-4000i32..4000).prop_map(|n| f64::from(n) / 4.0),
        any::<f32>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(f64::from),
        any::<i32>().prop_map(f64::from),
    ]
}

fn scalar_value(scalar: Scalar) -> BoxedStrategy<Value> {
    match scalar {
        Scalar::String => prop_oneof![3 => "\\PC{0,12}", 1 => "\\PC{20,300}"]
            .prop_map(Value::String)
            .boxed(),
        Scalar::Integer => any::<i32>().prop_map(|n| Value::Number(n.into())).boxed(),
        Scalar::Long => any::<i64>().prop_map(|n| Value::Number(n.into())).boxed(),
        Scalar::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        Scalar::Double | Scalar::Float => double().prop_map(float).boxed(),
        // Year 1 to 9999, as whole seconds (JSON integers) or with milliseconds.
        Scalar::Timestamp => (-62_135_596_800i64..253_402_300_799, 0u32..1000)
            .prop_map(|(seconds, millis)| {
                if millis == 0 {
                    Value::Number(seconds.into())
                } else {
                    float(seconds as f64 + f64::from(millis) / 1000.0)
                }
            })
            .boxed(),
        Scalar::Blob => proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| Value::String(base64::engine::general_purpose::STANDARD.encode(b)))
            .boxed(),
    }
}
