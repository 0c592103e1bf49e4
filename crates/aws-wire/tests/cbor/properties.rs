//! Properties over all inputs: any bytes and damaged bodies never panic; every input
//! and output shape survives encoding then decoding; every encoding a client may choose
//! decodes to the same canonical JSON.

use aws_wire::cbor::{decode_input, decode_value, encode_value};
use aws_wire::model::ShapeId;
use proptest::prelude::*;
use serde_json::Value;

use super::encode::{self, Choices, hex};
use super::{generate, model, recorded};

/// Every input and output shape of every CloudWatch operation.
fn shapes() -> Vec<ShapeId> {
    let mut shapes: Vec<ShapeId> = model()
        .operation_names()
        .into_iter()
        .filter_map(|name| model().operation(name))
        .flat_map(|op| [op.input, op.output])
        .flatten()
        .collect();
    let mut unique = Vec::new();
    for shape in shapes.drain(..) {
        if !unique.contains(&shape) {
            unique.push(shape);
        }
    }
    unique
}

fn shape_and_value() -> impl Strategy<Value = (ShapeId, Value)> {
    let shapes = shapes();
    (0..shapes.len()).prop_flat_map(move |i| {
        let shape = shapes[i];
        generate::value(model(), shape).prop_map(move |v| (shape, v))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes, for any operation: an answer or an error, never a panic.
    #[test]
    fn decoding_any_bytes_never_panics(
        operation in 0usize..12,
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let names = model().operation_names();
        let _ = decode_input(model(), names[operation % names.len()], &body);
    }

    /// Recorded bodies, cut short or with one byte changed: never a panic.
    #[test]
    fn damaged_bodies_never_panic(case in 0usize..64, at in any::<usize>(), byte in any::<u8>(), cut in any::<bool>()) {
        let cases = recorded();
        let case = &cases[case % cases.len()];
        let mut body = hex(case["body"].as_str().expect("body"));
        let at = at % body.len();
        if cut { body.truncate(at) } else { body[at] = byte }
        let _ = decode_input(model(), case["operation"].as_str().expect("operation"), &body);
    }

    /// What the codec writes it reads back unchanged, for every input and output shape.
    #[test]
    fn encoding_then_decoding_is_the_identity((shape, value) in shape_and_value()) {
        let body = encode_value(model(), shape, &value).expect("encodes");
        prop_assert_eq!(decode_value(model(), shape, &body), Ok(value));
    }

    /// Every form a client may choose (definite or not, chunked strings, float widths,
    /// integers for doubles, wide heads, unknown and null members, self-described tag)
    /// decodes to the same canonical JSON.
    #[test]
    fn every_encoding_of_a_value_decodes_the_same(
        (shape, value) in shape_and_value(),
        choices in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        let body = encode::variant(model(), shape, &value, &mut Choices::new(choices)).bytes();
        prop_assert_eq!(decode_value(model(), shape, &body), Ok(value));
    }
}
