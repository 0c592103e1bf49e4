//! EventBridge's pattern language against the fact sheet (monitoring-semantics.md 5.3),
//! AWS's documented examples (event-ruler's sample event, the content-filtering page)
//! and event-ruler's validation reasons; property tests for patterns built from an
//! event's own leaves.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use watch::pattern::Pattern;

/// event-ruler's sample event, the one AWS's content-filtering examples use.
fn sample() -> Value {
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
    })
}

fn check(pattern: &Value, event: &Value, expected: bool) {
    let compiled = Pattern::parse(&pattern.to_string())
        .unwrap_or_else(|e| panic!("{pattern} should be valid: {e}"));
    assert_eq!(
        compiled.matches(event),
        expected,
        "pattern {pattern} against {event}"
    );
}

#[test]
fn fact_sheet_vectors_on_the_sample_event() {
    let cases = [
        // Documented to match.
        (
            json!({
                "detail-type": ["EC2 Instance State-change Notification"],
                "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
                "detail": {"state": ["initializing", "running"]}
            }),
            true,
        ),
        // Follow from the operator rules.
        (json!({"time": [{"prefix": "2017-10-02"}]}), true),
        (json!({"source": [{"suffix": "ec2"}]}), true),
        (
            json!({"detail": {"state": [{"anything-but": "initializing"}]}}),
            true,
        ),
        (
            json!({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}),
            true,
        ),
        (
            json!({"detail": {"d-count": [{"numeric": ["<", 10]}]}}),
            true,
        ),
        (
            json!({"detail": {"x-limit": [{"numeric": ["=", 3.018e2]}]}}),
            true,
        ),
        (
            json!({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}),
            true,
        ),
        (
            json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}),
            true,
        ),
        (json!({"source": [{"equals-ignore-case": "EC2"}]}), false),
        (
            json!({"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}),
            false,
        ),
        (json!({"detail": {"c-count": [{"exists": false}]}}), false),
    ];
    for (pattern, expected) in cases {
        check(&pattern, &sample(), expected);
    }
}

#[test]
fn documented_operator_examples() {
    let cases = [
        (json!({"source": [{"equals-ignore-case": "AWS.EC2"}]}), true),
        (json!({"source": [{"wildcard": "aws.*"}]}), true),
        (
            json!({"resources": [{"wildcard": "arn:aws:ec2:*:instance/*"}]}),
            true,
        ),
        (json!({"resources": [{"wildcard": "arn:aws:s3:*"}]}), false),
        (json!({"detail": {"state": [{"exists": true}]}}), true),
        (
            json!({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}),
            true,
        ),
        (
            json!({"detail": {"state": [{"anything-but": ["running", "overloaded"]}]}}),
            false,
        ),
        (
            json!({"detail": {"x-limit": [{"anything-but": 301.8}]}}),
            false,
        ),
        (
            json!({"detail": {"state": [{"anything-but": {"suffix": "ing"}}]}}),
            false,
        ),
        (
            json!({"detail": {"state": [{"anything-but": {"equals-ignore-case": "RUNNING"}}]}}),
            false,
        ),
        (
            json!({"detail": {"state": [{"anything-but": {"wildcard": "r*g"}}]}}),
            false,
        ),
        (
            json!({"detail": {"state": [{"anything-but": {"wildcard": ["x*", "*z"]}}]}}),
            true,
        ),
        (
            json!({"detail": {"instance": [{"prefix": {"equals-ignore-case": "I-000000AAAA"}}]}}),
            true,
        ),
        (
            json!({"detail": {"instance": [{"suffix": {"equals-ignore-case": "AA00000"}}]}}),
            true,
        ),
        (
            json!({"detail": {"$or": [
                {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                {"d-count": [{"numeric": ["<", 10]}]},
                {"x-limit": [{"numeric": ["=", 3.018e2]}]}
            ]}}),
            true,
        ),
        (
            json!({"source": ["aws.ec2"], "$or": [
                {"detail": {"state": ["stopped"]}},
                {"detail": {"c-count": [{"numeric": [">", 100]}]}}
            ]}),
            false,
        ),
        (
            json!({"source": ["aws.ec2"], "$or": [
                {"detail": {"state": ["stopped"]}},
                {"$or": [{"region": ["eu-west-1"]}, {"account": ["012345679012"]}]}
            ]}),
            true,
        ),
        // Keys absent from the pattern are ignored; a field absent from the event fails.
        (json!({"detail": {"missing": ["x"]}}), false),
        (json!({"detail": {"missing": [{"exists": false}]}}), true),
        // event-ruler names fields by joining keys with dots, so a dotted key works.
        (json!({"detail.state": ["running"]}), true),
    ];
    for (pattern, expected) in cases {
        check(&pattern, &sample(), expected);
    }
}

#[test]
fn exact_values_are_type_sensitive() {
    let event = json!({"n": 5, "s": "5", "z": null, "e": "", "b": true, "big": 123456789012u64});
    let cases = [
        (json!({"n": [5]}), true),
        (json!({"n": [5.0]}), true),
        (json!({"n": [5e0]}), true),
        (json!({"n": ["5"]}), false),
        (json!({"s": [5]}), false),
        (json!({"s": ["5"]}), true),
        (json!({"z": [null]}), true),
        (json!({"z": [""]}), false),
        (json!({"e": [""]}), true),
        (json!({"e": [null]}), false),
        (json!({"b": [true]}), true),
        (json!({"b": ["true"]}), false),
        // Beyond ±5e9 numbers still match exactly.
        (json!({"big": [123456789012u64]}), true),
        (json!({"big": [123456789013u64]}), false),
    ];
    for (pattern, expected) in cases {
        check(&pattern, &event, expected);
    }
}

#[test]
fn anything_but_matches_explicit_null_but_not_a_missing_field() {
    let pattern = json!({"detail": {"state": [{"anything-but": "stopped"}]}});
    check(&pattern, &json!({"detail": {"state": null}}), true);
    check(&pattern, &json!({"detail": {}}), false);
    check(&pattern, &json!({"detail": {"other": 1}}), false);
    check(&pattern, &json!({"detail": {"state": "stopped"}}), false);
    check(&pattern, &json!({"detail": {"state": 5}}), true);
    // A numeric exclusion leaves strings alone.
    let numeric = json!({"x": [{"anything-but": [100]}]});
    check(&numeric, &json!({"x": "100"}), true);
    check(&numeric, &json!({"x": 100.0}), false);
}

#[test]
fn exists_is_about_leaves() {
    // AWS's example: an event whose detail has only c-count does not match.
    let exists = json!({"detail": {"state": [{"exists": true}]}});
    check(&exists, &json!({"detail": {"c-count": 3}}), false);
    // `false` also matches when the name is an object, not a leaf.
    let object = json!({"detail": {"c-count": {"c1": 100}}});
    check(
        &json!({"detail": {"c-count": [{"exists": false}]}}),
        &object,
        true,
    );
    check(
        &json!({"detail": {"c-count": [{"exists": true}]}}),
        &object,
        false,
    );
    check(
        &json!({"detail": {"c-count": {"c1": [{"exists": true}]}}}),
        &object,
        true,
    );
    // A null is a leaf.
    check(&json!({"a": [{"exists": true}]}), &json!({"a": null}), true);
    // An empty array has no leaf.
    check(&json!({"a": [{"exists": false}]}), &json!({"a": []}), true);
    // Alternatives mix: absent, or one of the values.
    let either = json!({"a": [{"exists": false}, "x"]});
    check(&either, &json!({}), true);
    check(&either, &json!({"a": "x"}), true);
    check(&either, &json!({"a": "y"}), false);
}

#[test]
fn event_arrays_match_on_any_element() {
    // AWS's resources example: the pattern's and the event's lists intersect.
    let pattern = json!({"resources": [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-a",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-c"
    ]});
    let event = json!({"resources": [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-z",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-a",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-y"
    ]});
    check(&pattern, &event, true);
    check(&pattern, &json!({"resources": ["arn:x"]}), false);
    check(
        &json!({"ids": [943]}),
        &json!({"ids": [116, 943, 234]}),
        true,
    );
    check(
        &json!({"ids": [{"numeric": [">", 1000]}]}),
        &json!({"ids": [116, 943]}),
        false,
    );
}

#[test]
fn arrays_of_objects_keep_elements_apart() {
    let event = json!({"detail": {"employees": [
        {"firstName": "John", "lastName": "Doe"},
        {"firstName": "Anna", "lastName": "Smith"},
        {"firstName": "Peter", "lastName": "Jones"}
    ]}});
    let cases = [
        (
            json!({"detail": {"employees": {"firstName": ["Anna"]}}}),
            true,
        ),
        (
            json!({"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}}),
            true,
        ),
        // Fields from different elements never combine (array consistency).
        (
            json!({"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Doe"]}}}),
            false,
        ),
        (
            json!({"detail": {"employees": {"firstName": ["Anna", "John"], "lastName": ["Doe"]}}}),
            true,
        ),
    ];
    for (pattern, expected) in cases {
        check(&pattern, &event, expected);
    }
    // Different arrays are independent of each other.
    let two = json!({"a": [{"x": 1}, {"x": 2}], "b": [{"y": 3}, {"y": 4}]});
    check(&json!({"a": {"x": [2]}, "b": {"y": [3]}}), &two, true);
    // Nested arrays: consistency holds at every level.
    let nested =
        json!({"o": [{"i": [{"p": 1, "q": 2}, {"p": 3, "q": 4}]}, {"i": [{"p": 5, "q": 6}]}]});
    check(&json!({"o": {"i": {"p": [3], "q": [4]}}}), &nested, true);
    check(&json!({"o": {"i": {"p": [1], "q": [4]}}}), &nested, false);
    check(&json!({"o": {"i": {"p": [5], "q": [2]}}}), &nested, false);
}

#[test]
fn array_consistency_search_does_not_explode() {
    // Two independent arrays of 100 elements, then one of 200 whose `x`s and `y`s are
    // never in the same element: 100 * 100 * 200 * 200 choices to rule out one by one,
    // a few thousand when failures are remembered.
    let b: Vec<Value> = (0..100).map(|_| json!({"z": 1})).collect();
    let c: Vec<Value> = (0..100).map(|_| json!({"w": 1})).collect();
    let a: Vec<Value> = (0..400)
        .map(|i| {
            if i % 2 == 0 {
                json!({"x": 1})
            } else {
                json!({"y": 1})
            }
        })
        .collect();
    let event = json!({"a": a, "b": b, "c": c});
    let pattern = json!({"a": {"x": [1], "y": [1]}, "b": {"z": [1]}, "c": {"w": [1]}});
    check(&pattern, &event, false);
    let apart = json!({"a": {"x": [1]}, "b": {"z": [1]}, "c": {"w": [1]}});
    check(&apart, &event, true);
}

#[test]
fn numeric_bounds_are_open_or_closed_as_written() {
    let event = json!({"n": 5, "s": "5", "f": 5.00000001});
    let cases = [
        (json!({"n": [{"numeric": [">=", 5]}]}), true),
        (json!({"n": [{"numeric": [">", 5]}]}), false),
        (json!({"n": [{"numeric": ["<", 5]}]}), false),
        (json!({"n": [{"numeric": ["<=", 5]}]}), true),
        (json!({"n": [{"numeric": ["=", 5]}]}), true),
        (json!({"n": [{"numeric": [">", 4.5, "<", 5]}]}), false),
        (json!({"n": [{"numeric": [">", 4.5, "<=", 5]}]}), true),
        (json!({"n": [{"numeric": [">=", -5e9]}]}), true),
        (json!({"s": [{"numeric": [">", 0]}]}), false),
        // Six decimal places, as event-ruler compares.
        (json!({"f": [{"numeric": ["=", 5]}]}), true),
    ];
    for (pattern, expected) in cases {
        check(&pattern, &event, expected);
    }
    check(
        &json!({"n": [{"numeric": [">", 0]}]}),
        &json!({"n": 6e9}),
        false,
    );
}

#[test]
fn cidr_and_ip_addresses() {
    let cases = [
        (
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": "10.0.0.255"}),
            true,
        ),
        (
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": "10.0.1.0"}),
            false,
        ),
        (
            json!({"ip": [{"cidr": "10.0.0.0/8"}]}),
            json!({"ip": "10.200.3.4"}),
            true,
        ),
        (
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": "not an ip"}),
            false,
        ),
        (
            json!({"ip": [{"cidr": "2001:db8::/32"}]}),
            json!({"ip": "2001:db8::1"}),
            true,
        ),
        (
            json!({"ip": [{"cidr": "2001:db8::/32"}]}),
            json!({"ip": "2001:db9::1"}),
            false,
        ),
        (
            json!({"ip": [{"cidr": "2001:db8::/32"}]}),
            json!({"ip": "10.0.0.1"}),
            false,
        ),
        // An exact address matches other spellings of it.
        (
            json!({"ip": ["2001:db8::1"]}),
            json!({"ip": "2001:0db8:0:0:0:0:0:1"}),
            true,
        ),
        (json!({"ip": ["10.0.0.1"]}), json!({"ip": "10.0.0.1"}), true),
    ];
    for (pattern, event, expected) in cases {
        check(&pattern, &event, expected);
    }
}

#[test]
fn wildcards() {
    let cases = [
        ("*", "", true),
        ("*", "anything", true),
        ("a*", "a", true),
        ("*a", "ba", true),
        ("a*b*c", "aXbYc", true),
        ("a*b*c", "abc", true),
        ("a*b*c", "acb", false),
        ("a*a", "a", false),
        ("a*a", "aa", true),
        ("dir/*.png", "dir/x.png", true),
        ("dir/*.png", "dir/x.jpg", false),
        ("a\\*b", "a*b", true),
        ("a\\*b", "axb", false),
        ("a\\\\b", "a\\b", true),
    ];
    for (wildcard, text, expected) in cases {
        check(
            &json!({"f": [{"wildcard": wildcard}]}),
            &json!({"f": text}),
            expected,
        );
    }
    check(&json!({"f": [{"wildcard": "*"}]}), &json!({"f": 5}), false);
}

#[test]
fn operators_apply_to_strings_only() {
    let event = json!({"n": 55, "z": null, "b": false});
    for field in ["n", "z", "b"] {
        for operator in [
            json!({"prefix": "5"}),
            json!({"suffix": "5"}),
            json!({"equals-ignore-case": "false"}),
            json!({"wildcard": "*"}),
        ] {
            check(&json!({field: [operator]}), &event, false);
        }
    }
}

#[test]
fn invalid_patterns_give_event_rulers_reasons() {
    let cases = [
        (r#"[]"#, "Filter is not an object"),
        (r#""x""#, "Filter is not an object"),
        (r#"{}"#, "Empty objects are not allowed"),
        (r#"{"a": {}}"#, "Empty objects are not allowed"),
        (r#"{"a": "x"}"#, "\"a\" must be an object or an array"),
        (r#"{"a": 5}"#, "\"a\" must be an object or an array"),
        (r#"{"a": []}"#, "Empty arrays are not allowed"),
        (
            r#"{"a": [[1]]}"#,
            "Match value must be String, number, true, false, or null",
        ),
        (r#"{"a": [{}]}"#, "Match expression name not found"),
        (
            r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#,
            "Only one key allowed in match expression",
        ),
        (
            r#"{"a": [{"prefix": 5}]}"#,
            "prefix match pattern must be a string",
        ),
        (
            r#"{"a": [{"suffix": null}]}"#,
            "suffix match pattern must be a string",
        ),
        (
            r#"{"a": [{"equals-ignore-case": 1}]}"#,
            "equals-ignore-case match pattern must be a string",
        ),
        (
            r#"{"a": [{"wildcard": 3}]}"#,
            "wildcard match pattern must be a string",
        ),
        (
            r#"{"a": [{"wildcard": "a**b"}]}"#,
            "Consecutive wildcard characters at pos 1",
        ),
        (
            r#"{"a": [{"wildcard": "a\\b"}]}"#,
            "Invalid escape character at pos 1",
        ),
        (
            r#"{"a": [{"numeric": 5}]}"#,
            "Value of numeric must be an array.",
        ),
        (
            r#"{"a": [{"numeric": []}]}"#,
            "Invalid member in numeric match: ]",
        ),
        (
            r#"{"a": [{"numeric": [5]}]}"#,
            "Invalid member in numeric match: 5",
        ),
        (
            r#"{"a": [{"numeric": ["!", 5]}]}"#,
            "Unrecognized numeric range operator: !",
        ),
        (
            r#"{"a": [{"numeric": [">", "x"]}]}"#,
            "Value of > must be numeric",
        ),
        (
            r#"{"a": [{"numeric": ["="]}]}"#,
            "Value of equals must be numeric",
        ),
        (
            r#"{"a": [{"numeric": ["<", 5, ">", 1]}]}"#,
            "Too many elements in numeric expression",
        ),
        (
            r#"{"a": [{"numeric": ["=", 5, "<", 6]}]}"#,
            "Too many elements in numeric expression",
        ),
        (
            r#"{"a": [{"numeric": [">", 5, ">", 10]}]}"#,
            "Bad numeric range operator: >",
        ),
        (
            r#"{"a": [{"numeric": [">", 5, 10]}]}"#,
            "Bad value in numeric range: 10",
        ),
        (
            r#"{"a": [{"numeric": [">", 5, "<", "x"]}]}"#,
            "Value of < must be numeric",
        ),
        (
            r#"{"a": [{"numeric": [">", 10, "<", 5]}]}"#,
            "Bottom must be less than top",
        ),
        (
            r#"{"a": [{"numeric": [">=", 5, "<=", 5]}]}"#,
            "Bottom must be less than top",
        ),
        (
            r#"{"a": [{"numeric": [">", 1, "<", 5, "x"]}]}"#,
            "Too many terms in numeric range expression",
        ),
        (
            r#"{"a": [{"numeric": [">", 6e9]}]}"#,
            "Value must be between -5.0E9 and 5.0E9, inclusive",
        ),
        (
            r#"{"a": [{"anything-but": null}]}"#,
            "Value of anything-but must be an array or single string/number value.",
        ),
        (
            r#"{"a": [{"anything-but": true}]}"#,
            "Value of anything-but must be an array or single string/number value.",
        ),
        (
            r#"{"a": [{"anything-but": ["x", 1]}]}"#,
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        ),
        (
            r#"{"a": [{"anything-but": []}]}"#,
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        ),
        (
            r#"{"a": [{"anything-but": [true]}]}"#,
            "Inside anything but list, start|null|boolean is not supported.",
        ),
        (
            r#"{"a": [{"anything-but": {}}]}"#,
            "Anything-But expression name not found",
        ),
        (
            r#"{"a": [{"anything-but": {"prefix": ""}}]}"#,
            "Null prefix/suffix not allowed",
        ),
        (
            r#"{"a": [{"anything-but": {"suffix": 1}}]}"#,
            "prefix/suffix match pattern must be a string",
        ),
        (
            r#"{"a": [{"anything-but": {"numeric": [">", 1]}}]}"#,
            "Unsupported anything-but pattern: numeric",
        ),
        (
            r#"{"a": [{"anything-but": {"equals-ignore-case": 5}}]}"#,
            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
        ),
        (
            r#"{"a": [{"anything-but": {"wildcard": "x**"}}]}"#,
            "Consecutive wildcard characters at pos 1",
        ),
        (
            r#"{"a": [{"cidr": 5}]}"#,
            "prefix match pattern must be a string",
        ),
        (
            r#"{"a": [{"cidr": "10.0.0.0"}]}"#,
            "Malformed CIDR, one '/' required",
        ),
        (
            r#"{"a": [{"cidr": "10.0.0.0/x"}]}"#,
            "Malformed CIDR, mask bits must be an integer",
        ),
        (
            r#"{"a": [{"cidr": "10.0.0.0/-1"}]}"#,
            "Malformed CIDR, mask bits must not be negative",
        ),
        (
            r#"{"a": [{"cidr": "10.0.0.0/32"}]}"#,
            "IPv4 mask bits must be < 32",
        ),
        (
            r#"{"a": [{"cidr": "::/128"}]}"#,
            "IPv6 mask bits must be < 128",
        ),
        (
            r#"{"a": [{"cidr": "foo/8"}]}"#,
            "Nonstandard IP address: foo",
        ),
        (
            r#"{"a": [{"exists": "yes"}]}"#,
            "exists match pattern must be either true or false.",
        ),
        (
            r#"{"a": [{"contains": "x"}]}"#,
            "Unrecognized match type contains",
        ),
        (
            r#"{"a": [{"prefix": {"wildcard": "x"}}]}"#,
            "Unsupported prefix pattern: wildcard",
        ),
        (
            r#"{"$or": {"a": ["x"]}}"#,
            "It must be an Array followed with $or.",
        ),
        (
            r#"{"$or": [{"a": ["x"]}]}"#,
            "There must have at least 2 Objects in $or relationship.",
        ),
        (
            r#"{"$or": []}"#,
            "There must have at least 2 Objects in $or relationship.",
        ),
        (
            r#"{"$or": [{"a": ["x"]}, "b"]}"#,
            "Only JSON object is allowed in array of $or relationship.",
        ),
        (
            r#"{"$or": [{"a": ["x"]}, {}]}"#,
            "Empty objects are not allowed",
        ),
    ];
    for (text, reason) in cases {
        let error = Pattern::parse(text).expect_err(text);
        assert_eq!(error.reason, reason, "pattern {text}");
        assert_eq!(
            error.to_string(),
            format!("Event pattern is not valid. Reason: {reason}")
        );
    }
    let error = Pattern::parse("{\"a\": [").expect_err("truncated JSON");
    assert!(
        error.reason.starts_with("Filter is not valid JSON"),
        "{error}"
    );
}

#[test]
fn or_expansion_is_bounded() {
    // Nested `$or`s add branches; side by side they multiply: eleven two-way `$or`s
    // in different fields would make 2^11 branches.
    let mut pattern = json!({"leaf": ["x"]});
    for depth in 0..11 {
        pattern = json!({"$or": [pattern, {format!("k{depth}"): ["y"]}], "z": ["z"]});
    }
    let flat: Map<String, Value> = (0..11)
        .map(|i| {
            (
                format!("f{i}"),
                json!({"$or": [{"a": ["1"]}, {"b": ["2"]}]}),
            )
        })
        .collect();
    assert!(Pattern::parse(&Value::Object(flat).to_string()).is_err());
    assert!(Pattern::parse(&pattern.to_string()).is_ok());
}

// ---- properties ----

/// Events: objects over a small key alphabet, with scalars, arrays of scalars and
/// nested objects.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1_000_000i64..1_000_000).prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        "[a-zA-Z0-9 ./:-]{0,12}".prop_map(Value::String),
    ]
}

fn event() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => scalar(),
        1 => prop::collection::vec(scalar(), 0..4).prop_map(Value::Array),
    ];
    let tree = leaf.prop_recursive(3, 24, 4, |inner| {
        prop::collection::btree_map("[a-d]", inner, 0..4)
            .prop_map(|map| Value::Object(map.into_iter().collect()))
    });
    prop::collection::btree_map("[a-d]", tree, 1..5)
        .prop_map(|map| Value::Object(map.into_iter().collect()))
}

/// Every leaf of an event: its key path and scalar value (array elements one by one).
fn leaves(value: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                path.push(key.clone());
                leaves(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for item in items {
                leaves(item, path, out);
            }
        }
        scalar => out.push((path.clone(), scalar.clone())),
    }
}

/// Adds `alternative` to the array at `path` of `pattern`.
fn add(pattern: &mut Map<String, Value>, path: &[String], alternative: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        let slot = pattern
            .entry(first.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = slot {
            items.push(alternative);
        }
    } else {
        let slot = pattern
            .entry(first.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(inner) = slot {
            add(inner, rest, alternative);
        }
    }
}

/// An operator `value` certainly satisfies, chosen by `choice`.
fn satisfied_by(value: &Value, choice: u8) -> Value {
    match (value, choice % 6) {
        (Value::String(s), 0) => json!({"prefix": s.chars().take(3).collect::<String>()}),
        (Value::String(s), 1) => {
            let tail: String = s
                .chars()
                .rev()
                .take(2)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            json!({"suffix": tail})
        }
        (Value::String(s), 2) => json!({"equals-ignore-case": s.to_uppercase()}),
        (Value::String(s), 3) => {
            let escaped = s.replace('\\', "\\\\").replace('*', "\\*");
            json!({"wildcard": format!("*{escaped}")})
        }
        (Value::Number(n), 0 | 1) => {
            json!({"numeric": [">=", n, "<=", n.as_f64().unwrap_or(0.0) + 1.0]})
        }
        (Value::Number(n), 2) => json!({"numeric": ["=", n]}),
        (_, 4) => json!({"exists": true}),
        (_, 5) => json!({"anything-but": "\u{1F600} never in an event"}),
        (other, _) => other.clone(),
    }
}

/// JSON shaped like patterns, right or wrong: operator names as keys, scalars, arrays.
fn pattern_like() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "a",
        "b",
        "$or",
        "prefix",
        "suffix",
        "anything-but",
        "numeric",
        "exists",
        "cidr",
        "wildcard",
        "equals-ignore-case",
    ]);
    let leaf = prop_oneof![
        scalar(),
        Just(json!(">")),
        Just(json!("<=")),
        Just(json!("10.0.0.0/8")),
        Just(json!("a*b")),
    ];
    leaf.prop_recursive(4, 40, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..3).prop_map(|map| {
                Value::Object(map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #[test]
    fn a_pattern_of_the_events_own_leaves_matches_it(
        event in event(),
        picks in prop::collection::vec(any::<bool>(), 32),
    ) {
        let mut all = Vec::new();
        leaves(&event, &mut Vec::new(), &mut all);
        let mut pattern = Map::new();
        for ((path, value), pick) in all.iter().zip(picks.iter().cycle()) {
            if *pick {
                add(&mut pattern, path, value.clone());
            }
        }
        prop_assume!(!pattern.is_empty());
        let text = Value::Object(pattern).to_string();
        let compiled = Pattern::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(compiled.matches(&event), "{} should match {}", text, event);
    }

    #[test]
    fn operators_derived_from_the_events_leaves_match_it(
        event in event(),
        choices in prop::collection::vec(any::<u8>(), 32),
    ) {
        let mut all = Vec::new();
        leaves(&event, &mut Vec::new(), &mut all);
        prop_assume!(!all.is_empty());
        let mut pattern = Map::new();
        for ((path, value), choice) in all.iter().zip(choices.iter().cycle()) {
            add(&mut pattern, path, satisfied_by(value, *choice));
        }
        let text = Value::Object(pattern).to_string();
        let compiled = Pattern::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(compiled.matches(&event), "{} should match {}", text, event);
    }

    #[test]
    fn excluding_a_fields_only_value_does_not_match(
        fields in prop::collection::btree_map("[a-d]{1,3}", "[a-z]{0,6}", 1..6),
        which in any::<prop::sample::Index>(),
    ) {
        let event = Value::Object(fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect());
        let (key, value) = fields.iter().nth(which.index(fields.len())).map(|(k, v)| (k.clone(), v.clone())).unwrap_or_default();
        let but = json!({key.clone(): [{"anything-but": value.clone()}]});
        let other = json!({key.clone(): [format!("{value}~")]});
        let either = json!({"$or": [{key.clone(): [value.clone()]}, {key: ["~"]}]});
        prop_assert!(!Pattern::parse(&but.to_string()).map_err(|e| TestCaseError::fail(e.to_string()))?.matches(&event));
        prop_assert!(!Pattern::parse(&other.to_string()).map_err(|e| TestCaseError::fail(e.to_string()))?.matches(&event));
        prop_assert!(Pattern::parse(&either.to_string()).map_err(|e| TestCaseError::fail(e.to_string()))?.matches(&event));
    }

    #[test]
    fn any_json_parses_or_fails_cleanly(pattern in pattern_like(), against in event()) {
        // Whatever the verdict, checking never panics and a valid pattern can be run.
        if let Ok(compiled) = Pattern::parse(&pattern.to_string()) {
            let _ = compiled.matches(&against);
        }
    }
}
