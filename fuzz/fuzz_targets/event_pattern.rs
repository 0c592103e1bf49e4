//! Any text as an EventBridge event pattern: checking must accept or refuse with a
//! reason, never panic, and a pattern that parses must test events without panicking:
//! a few fixed events (event-ruler's sample, arrays of objects, nulls, deep nesting)
//! and the event the input carries after its pattern.
//!
//! Input layout (see `seeds/make_seeds.py`): the pattern's text, a NUL byte, then an
//! event's JSON text (JSON text never contains a raw NUL). Without a NUL the whole input
//! is the pattern.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use watch::pattern::Pattern;

/// Events every valid pattern is tested against.
fn fixed_events() -> &'static [Value] {
    static EVENTS: OnceLock<Vec<Value>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        vec![
            // event-ruler's sample event, the one AWS's content-filtering examples use.
            json!({
                "version": "0",
                "id": "ddddd4-aaaa-7777-4444-345499998888",
                "detail-type": "EC2 Instance State-change Notification",
                "source": "aws.ec2",
                "account": "012345679012",
                "time": "2017-10-02T16:24:49Z",
                "region": "us-east-1",
                "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
                "detail": {
                    "c-count": 5,
                    "d-count": 3,
                    "x-limit": 301.8,
                    "source-ip": "10.0.0.33",
                    "instance": "i-000000aaaaaa00000",
                    "state": "running"
                }
            }),
            // Arrays of objects (array consistency), nulls, empty strings and arrays,
            // IPv6, big and negative numbers.
            json!({
                "source": "spotlab.test",
                "detail": {
                    "a": [{"b": "x", "c": 1}, {"b": "y", "c": [2, 3, null]}],
                    "d": null,
                    "e": "",
                    "f": [],
                    "g": {"h": {"i": {"j": "deep"}}},
                    "ip": "2001:db8::1",
                    "n": -1.5e300,
                    "m": 18446744073709551615u64,
                    "t": true
                }
            }),
            json!({}),
            json!([{"a": "b"}]),
            json!("not an object"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let (pattern, event) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let Ok(pattern) = std::str::from_utf8(pattern) else {
        return;
    };
    let Ok(compiled) = Pattern::parse(pattern) else {
        return;
    };
    for event in fixed_events() {
        let _ = compiled.matches(event);
    }
    if let Some(event) = event.and_then(|e| serde_json::from_slice::<Value>(e).ok()) {
        let _ = compiled.matches(&event);
    }
});
