//! Any request as a signed request: verification must accept or refuse, never panic.
#![no_main]

use aws_wire::sigv4::{Credentials, SignedRequest, lookup_in, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let authorization = parts.next().unwrap_or_default();
    let date = parts.next().unwrap_or_default();
    let query = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let headers = [
        ("host", "127.0.0.1:4747"),
        ("authorization", authorization),
        ("x-amz-date", date),
    ];
    let request = SignedRequest {
        method: "POST",
        path: "/",
        query,
        headers: &headers,
        body: body.as_bytes(),
    };
    let credentials = [Credentials {
        access_key_id: "AKIDEXAMPLE".to_owned(),
        secret_access_key: "secret".to_owned(),
    }];
    let _ = verify(&request, lookup_in(&credentials), 1_700_000_000);
});
