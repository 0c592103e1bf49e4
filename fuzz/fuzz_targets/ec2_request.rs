//! Any bytes as an EC2 query request: the form decoder and the model-driven input
//! decoder must answer a value or an EC2 error, never panic, and whatever decodes must
//! render back (as an error document or an answer) without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(0);
    let (query, body) = data.split_at(split);
    let query = String::from_utf8_lossy(query);
    match ec2::wire::decode_request(&query, body) {
        Ok(request) => {
            let echo = Ok(request.input.clone());
            let _ = ec2::wire::encode_response(&request.action, &echo, "fuzz");
        }
        Err(error) => {
            let _ = ec2::wire::encode_response("Fuzz", &Err(error), "fuzz");
        }
    }
});
