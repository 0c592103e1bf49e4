//! Any bytes as a CloudWatch RPC v2 CBOR request body: byte 0 picks the operation
//! (modulo the number of operations, in `Model::operation_names`' sorted order), the
//! rest is the body. Decoding must answer a value or an error, never panic; a refusal
//! must render as CBOR's error document; whatever decodes must render back as CBOR of
//! the input shape without panicking.
#![no_main]

use aws_wire::cbor;
use aws_wire::model::Model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [selector, body @ ..] = data else {
        return;
    };
    let model = Model::cloudwatch();
    let operations = model.operation_names();
    let operation = operations[usize::from(*selector) % operations.len()];
    match cbor::decode_input(model, operation, body) {
        Ok(decoded) => {
            if let Some(shape) = model.operation(operation).and_then(|op| op.input) {
                let _ = cbor::encode_value(model, shape, &decoded);
            }
        }
        Err(error) => {
            let _ = cbor::encode_error(model, error.code(), &error.to_string());
        }
    }
});
