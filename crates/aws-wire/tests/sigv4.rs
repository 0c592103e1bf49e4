//! Signature Version 4 verification against signatures made by others: AWS's published
//! test suite, and requests signed by botocore (`data/sigv4_vectors.json`, written by
//! `data/make_sigv4_vectors.py`). Each verified request is then tampered with, one part at
//! a time, and must stop verifying.

use aws_wire::sigv4::{self, AuthError, Credentials, SignedRequest, Verified};
use proptest::prelude::*;
use serde_json::Value;

/// The test suite's credentials and signing time (2015-08-30T12:36:00Z).
const SUITE_KEY_ID: &str = "AKIDEXAMPLE";
const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_NOW: i64 = 1_440_938_160;

/// A request owning its parts, so tests can change one and borrow the rest.
#[derive(Debug, Clone)]
struct Owned {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Owned {
    /// Reads a request written as on the wire (`GET /path?query HTTP/1.1`, `Name:value`
    /// lines, a blank line, the body), the form the AWS test suite publishes.
    fn from_http(text: &str) -> Self {
        let (head, body) = text
            .split_once("\n\n")
            .expect("a blank line ends the headers");
        let mut lines = head.lines();
        let request_line = lines.next().expect("a request line");
        let (method, rest) = request_line.split_once(' ').expect("method and target");
        let target = rest
            .strip_suffix(" HTTP/1.1")
            .expect("an HTTP/1.1 request line");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let headers = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("a Name:value header line");
                (name.to_owned(), value.to_owned())
            })
            .collect();
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn from_json(vector: &Value) -> Self {
        let text = |key: &str| {
            vector[key]
                .as_str()
                .unwrap_or_else(|| panic!("vector field {key} is a string"))
                .to_owned()
        };
        let headers = vector["headers"]
            .as_array()
            .expect("headers is an array")
            .iter()
            .map(|pair| {
                let name = pair[0].as_str().expect("header name");
                let value = pair[1].as_str().expect("header value");
                (name.to_owned(), value.to_owned())
            })
            .collect();
        Self {
            method: text("method"),
            path: text("path"),
            query: text("query"),
            headers,
            body: text("body").into_bytes(),
        }
    }

    fn verify(&self, secret: &str, now: i64) -> Result<Verified, AuthError> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let request = SignedRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            body: &self.body,
        };
        let known = [Credentials {
            access_key_id: key_id_in(self),
            secret_access_key: secret.to_owned(),
        }];
        sigv4::verify(&request, sigv4::lookup_in(&known), now)
    }

    /// The signed header names, from the Authorization header or X-Amz-SignedHeaders.
    fn signed_headers(&self) -> Vec<String> {
        let list = match self.header("authorization") {
            Some(authorization) => authorization
                .split(", ")
                .find_map(|part| part.strip_prefix("SignedHeaders="))
                .expect("SignedHeaders in the Authorization header")
                .to_owned(),
            None => self
                .query
                .split('&')
                .find_map(|pair| pair.strip_prefix("X-Amz-SignedHeaders="))
                .expect("X-Amz-SignedHeaders in the query")
                .replace("%3B", ";"),
        };
        list.split(';').map(str::to_owned).collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The access key id the request names, so the lookup knows it whatever the vector.
fn key_id_in(request: &Owned) -> String {
    let credential = match request.header("authorization") {
        Some(authorization) => authorization
            .split_once("Credential=")
            .map(|(_, rest)| rest.to_owned()),
        None => request
            .query
            .split('&')
            .find_map(|pair| pair.strip_prefix("X-Amz-Credential="))
            .map(|value| value.replace("%2F", "/")),
    };
    credential
        .and_then(|credential| credential.split('/').next().map(str::to_owned))
        .unwrap_or_default()
}

// -- AWS's published test suite ------------------------------------------------------------

/// Requests from the AWS Signature Version 4 test suite, with the signatures AWS published.
const SUITE: &[(&str, &str)] = &[
    (
        "get-vanilla",
        "GET / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n\n",
    ),
    (
        "get-vanilla-query-order-key-case",
        "GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-vanilla-query-unreserved",
        "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n\
         Host:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-vanilla-utf8-query",
        "GET /?\u{1234}=bar HTTP/1.1\nHost:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-header-value-trim",
        "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-header-key-duplicate",
        "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\nMy-Header1:value1\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-header-value-order",
        "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value4\nMy-Header1:value1\nMy-Header1:value3\nMy-Header1:value2\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-vanilla-with-session-token",
        "GET / HTTP/1.1\nHost:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8\n\
         X-Amz-Date:20150830T123600Z\n\
         X-Amz-Security-Token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n\n",
    ),
    (
        "get-unreserved",
        "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\nHost:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-utf8",
        "GET /\u{1234} HTTP/1.1\nHost:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-space-normalized",
        "GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-slashes-normalized",
        "GET //example// HTTP/1.1\nHost:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-slashes-unnormalized",
        "GET //example// HTTP/1.1\nHost:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-relative-relative-normalized",
        "GET /example1/example2/../.. HTTP/1.1\nHost:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-slash-pointless-dot-normalized",
        "GET /./example HTTP/1.1\nHost:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "post-header-key-sort",
        "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c\n\
         X-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "post-x-www-form-urlencoded",
        "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\nHost:example.amazonaws.com\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a\n\
         X-Amz-Date:20150830T123600Z\n\nParam1=value1",
    ),
    (
        "post-x-www-form-urlencoded with x-amz-content-sha256",
        "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\nHost:example.amazonaws.com\nContent-Length:13\n\
         x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n\
         Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b\n\
         X-Amz-Date:20150830T123600Z\n\nParam1=value1",
    ),
];

#[test]
fn the_aws_test_suite_verifies() {
    for (name, text) in SUITE {
        let request = Owned::from_http(text);
        let verified = request
            .verify(SUITE_SECRET, SUITE_NOW)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(verified.access_key_id, SUITE_KEY_ID, "{name}");
        assert_eq!(verified.region, "us-east-1", "{name}");
        assert_eq!(verified.service, "service", "{name}");
        let wrong = request.verify("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz", SUITE_NOW);
        assert!(
            matches!(wrong, Err(AuthError::SignatureMismatch { .. })),
            "{name} with a wrong secret: {wrong:?}"
        );
    }
}

/// Presigned URLs from the same suite (signed over the empty body's hash, as the CRT does).
const PRESIGNED_SUITE: &[(&str, &str)] = &[
    (
        "get-vanilla-query-order-key-case",
        "GET /?Param2=value2&Param1=value1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5 HTTP/1.1\n\
         Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n\n",
    ),
    (
        "get-header-value-trim",
        "GET /?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host%3Bmy-header1%3Bmy-header2&X-Amz-Expires=3600&X-Amz-Signature=e7bb0fd515e125e1aec2ecc4c0c17484fb06f6846b927c35e46005dd3df3acd4 HTTP/1.1\n\
         Host:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\nX-Amz-Date:20150830T123600Z\n\n",
    ),
];

#[test]
fn the_suite_presigned_urls_verify() {
    for (name, text) in PRESIGNED_SUITE {
        let request = Owned::from_http(text);
        let verified = request
            .verify(SUITE_SECRET, SUITE_NOW)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(verified.access_key_id, SUITE_KEY_ID, "{name}");
        let wrong = request.verify("not the secret", SUITE_NOW);
        assert!(
            matches!(wrong, Err(AuthError::SignatureMismatch { .. })),
            "{name} with a wrong secret: {wrong:?}"
        );
        // X-Amz-Expires=3600: valid for an hour, not a second more.
        request
            .verify(SUITE_SECRET, SUITE_NOW + 3600)
            .unwrap_or_else(|error| panic!("{name} at its expiry: {error}"));
        let late = request.verify(SUITE_SECRET, SUITE_NOW + 3601);
        assert!(
            matches!(late, Err(AuthError::Expired(_))),
            "{name}: {late:?}"
        );
    }
}

#[test]
fn the_suite_session_token_is_passed_through() {
    let (_, text) = SUITE
        .iter()
        .find(|(name, _)| *name == "get-vanilla-with-session-token")
        .expect("the session-token case is in the suite");
    let verified = Owned::from_http(text)
        .verify(SUITE_SECRET, SUITE_NOW)
        .expect("the suite's session-token request verifies");
    assert_eq!(
        verified.session_token.as_deref(),
        Some("6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267")
    );
}

#[test]
fn a_mismatch_reports_the_canonical_request_aws_publishes() {
    let (_, text) = SUITE[0];
    let error = Owned::from_http(text)
        .verify("not the secret", SUITE_NOW)
        .expect_err("a wrong secret fails");
    let AuthError::SignatureMismatch {
        canonical_request,
        string_to_sign,
    } = &error
    else {
        panic!("expected a signature mismatch, got {error:?}");
    };
    assert_eq!(
        canonical_request,
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        string_to_sign,
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
         bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    );
    assert_eq!(error.aws_code(), "AuthFailure");
    assert_eq!(
        error.aws_message(),
        "AWS was not able to validate the provided access credentials"
    );
    assert_eq!(error.query_code(), "SignatureDoesNotMatch");
}

// -- Requests signed by botocore -----------------------------------------------------------

struct Vectors {
    secret: String,
    now: i64,
    cases: Vec<(String, Owned, Value)>,
}

fn botocore_vectors() -> Vectors {
    let text = include_str!("data/sigv4_vectors.json");
    let document: Value = serde_json::from_str(text).expect("sigv4_vectors.json is JSON");
    let cases = document["vectors"]
        .as_array()
        .expect("vectors is an array")
        .iter()
        .map(|vector| {
            let name = vector["name"].as_str().expect("vector name").to_owned();
            (name, Owned::from_json(vector), vector.clone())
        })
        .collect();
    Vectors {
        secret: document["secret_access_key"]
            .as_str()
            .expect("secret_access_key")
            .to_owned(),
        now: document["now_unix_secs"].as_i64().expect("now_unix_secs"),
        cases,
    }
}

#[test]
fn every_botocore_vector_verifies_as_its_signer() {
    let vectors = botocore_vectors();
    assert!(vectors.cases.len() >= 10, "the vector file is complete");
    for (name, request, vector) in &vectors.cases {
        let verified = request
            .verify(&vectors.secret, vectors.now)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let expected = &vector["expected"];
        assert_eq!(verified.access_key_id, expected["access_key_id"], "{name}");
        assert_eq!(verified.region, expected["region"], "{name}");
        assert_eq!(verified.service, expected["service"], "{name}");
        assert_eq!(
            verified.session_token.as_deref(),
            expected["session_token"].as_str(),
            "{name}"
        );
    }
}

#[test]
fn botocore_vectors_fail_with_a_wrong_or_unknown_key() {
    let vectors = botocore_vectors();
    for (name, request, _) in &vectors.cases {
        let wrong = request.verify("wrong secret", vectors.now);
        assert!(
            matches!(wrong, Err(AuthError::SignatureMismatch { .. })),
            "{name}: {wrong:?}"
        );
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let signed = SignedRequest {
            method: &request.method,
            path: &request.path,
            query: &request.query,
            headers: &headers,
            body: &request.body,
        };
        let unknown = sigv4::verify(&signed, |_| None, vectors.now);
        assert!(
            matches!(unknown, Err(AuthError::UnknownAccessKey(_))),
            "{name}: {unknown:?}"
        );
        let error = unknown.expect_err("unknown key");
        assert_eq!(error.aws_code(), "AuthFailure");
        assert_eq!(error.query_code(), "InvalidClientTokenId");
    }
}

#[test]
fn botocore_vectors_fail_with_a_tampered_body() {
    let vectors = botocore_vectors();
    let mut tried = 0;
    for (name, request, vector) in &vectors.cases {
        if vector["body_covered"] != Value::Bool(true) {
            continue;
        }
        tried += 1;
        let mut tampered = request.clone();
        tampered.body.extend_from_slice(b"&Extra=1");
        let result = tampered.verify(&vectors.secret, vectors.now);
        assert!(
            matches!(
                result,
                Err(AuthError::SignatureMismatch { .. } | AuthError::PayloadHashMismatch)
            ),
            "{name}: {result:?}"
        );
    }
    assert!(tried >= 8, "most vectors sign their body");
}

#[test]
fn botocore_vectors_fail_with_any_signed_header_tampered() {
    let vectors = botocore_vectors();
    for (name, request, _) in &vectors.cases {
        for signed in request.signed_headers() {
            let mut tampered = request.clone();
            for (header, value) in &mut tampered.headers {
                if header.eq_ignore_ascii_case(&signed) {
                    // A date a second later is still within the skew and a digest of zeros
                    // is still a digest, so only the signature or the body can catch them.
                    *value = match signed.as_str() {
                        "x-amz-date" => value.replace("53Z", "54Z"),
                        "date" => value.replace(":53 ", ":54 "),
                        "x-amz-content-sha256" if value.len() == 64 => "0".repeat(64),
                        _ => format!("{value}x"),
                    };
                }
            }
            let result = tampered.verify(&vectors.secret, vectors.now);
            let expected_failure = match signed.as_str() {
                "x-amz-content-sha256" if request.header(&signed).map(str::len) == Some(64) => {
                    matches!(result, Err(AuthError::PayloadHashMismatch))
                }
                "x-amz-content-sha256" => matches!(result, Err(AuthError::Malformed(_))),
                _ => matches!(result, Err(AuthError::SignatureMismatch { .. })),
            };
            assert!(expected_failure, "{name}, header {signed}: {result:?}");
        }
    }
}

#[test]
fn botocore_vectors_fail_with_a_tampered_path_or_query() {
    let vectors = botocore_vectors();
    for (name, request, _) in &vectors.cases {
        let mut path = request.clone();
        path.path.push('x');
        let result = path.verify(&vectors.secret, vectors.now);
        assert!(
            matches!(result, Err(AuthError::SignatureMismatch { .. })),
            "{name}, path: {result:?}"
        );

        let mut query = request.clone();
        query.query = if query.query.is_empty() {
            "Extra=1".to_owned()
        } else {
            format!("Extra=1&{}", query.query)
        };
        let result = query.verify(&vectors.secret, vectors.now);
        assert!(
            matches!(result, Err(AuthError::SignatureMismatch { .. })),
            "{name}, query: {result:?}"
        );

        let mut method = request.clone();
        method.method = if method.method == "GET" {
            "POST"
        } else {
            "GET"
        }
        .to_owned();
        let result = method.verify(&vectors.secret, vectors.now);
        assert!(
            matches!(result, Err(AuthError::SignatureMismatch { .. })),
            "{name}, method: {result:?}"
        );
    }
}

#[test]
fn botocore_vectors_expire_twenty_minutes_either_way() {
    let vectors = botocore_vectors();
    for (name, request, _) in &vectors.cases {
        for offset in [-20 * 60, 20 * 60] {
            let result = request.verify(&vectors.secret, vectors.now + offset);
            let Err(error) = result else {
                panic!("{name} at {offset:+} seconds verified");
            };
            assert!(
                matches!(error, AuthError::Expired(_)),
                "{name} at {offset:+}: {error:?}"
            );
            assert_eq!(error.aws_code(), "RequestExpired");
            assert_eq!(error.query_code(), "RequestExpired");
        }
        // Within the window either way, it still verifies.
        for offset in [-14 * 60, 9 * 60] {
            request
                .verify(&vectors.secret, vectors.now + offset)
                .unwrap_or_else(|error| panic!("{name} at {offset:+}: {error}"));
        }
    }
}

#[test]
fn unsigned_headers_and_their_order_do_not_matter() {
    let vectors = botocore_vectors();
    for (name, request, _) in &vectors.cases {
        let mut shuffled = request.clone();
        shuffled.headers.reverse();
        shuffled
            .headers
            .push(("X-Forwarded-For".to_owned(), "10.0.0.1".to_owned()));
        for (header, _) in &mut shuffled.headers {
            *header = header.to_ascii_uppercase();
        }
        shuffled
            .verify(&vectors.secret, vectors.now)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
    }
}

// -- Requests that are not signed properly -------------------------------------------------

fn verify_suite_with(mutate: impl FnOnce(&mut Owned)) -> Result<Verified, AuthError> {
    let mut request = Owned::from_http(SUITE[0].1);
    mutate(&mut request);
    request.verify(SUITE_SECRET, SUITE_NOW)
}

fn set_authorization(request: &mut Owned, value: &str) {
    for (name, header) in &mut request.headers {
        if name.eq_ignore_ascii_case("authorization") {
            *header = value.to_owned();
        }
    }
}

#[test]
fn a_request_without_a_signature_is_missing_authentication() {
    let error = verify_suite_with(|request| {
        request
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
    })
    .expect_err("no signature");
    assert_eq!(error, AuthError::Missing);
    assert_eq!(error.aws_code(), "AuthFailure");
    assert_eq!(error.query_code(), "MissingAuthenticationToken");
}

#[test]
fn other_algorithms_are_unsupported() {
    for authorization in [
        "AWS AKIDEXAMPLE:c2lnbmF0dXJl",
        "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/service/aws4_request, SignedHeaders=host, Signature=00",
    ] {
        let result = verify_suite_with(|request| set_authorization(request, authorization));
        assert!(
            matches!(result, Err(AuthError::UnsupportedAlgorithm(_))),
            "{authorization}: {result:?}"
        );
    }
}

#[test]
fn malformed_authorization_headers_are_named() {
    let good = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    let cases = [
        ("no components", "AWS4-HMAC-SHA256".to_owned()),
        (
            "no signature",
            good.replace(
                ", Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
                "",
            ),
        ),
        (
            "short signature",
            good.replace("Signature=5fa00f", "Signature=5f"),
        ),
        (
            "non-hex signature",
            good.replace("Signature=5", "Signature=z"),
        ),
        ("repeated component", format!("{good}, SignedHeaders=host")),
        ("unknown component", format!("{good}, Color=blue")),
        ("short scope", good.replace("/us-east-1", "")),
        (
            "wrong terminator",
            good.replace("aws4_request", "aws5_request"),
        ),
        (
            "scope date is not the request date",
            good.replace("/20150830/", "/20150831/"),
        ),
        (
            "host not signed",
            good.replace("host;x-amz-date", "x-amz-date"),
        ),
        ("date not signed", good.replace("host;x-amz-date", "host")),
        (
            "signed header absent",
            good.replace("host;x-amz-date", "host;x-absent;x-amz-date"),
        ),
        (
            "empty signed header",
            good.replace("host;x-amz-date", "host;;x-amz-date"),
        ),
    ];
    for (about, authorization) in cases {
        let result = verify_suite_with(|request| set_authorization(request, &authorization));
        let Err(error) = result else {
            panic!("{about}: verified");
        };
        assert!(
            matches!(error, AuthError::Malformed(_)),
            "{about}: {error:?}"
        );
        assert_eq!(error.query_code(), "IncompleteSignature", "{about}");
    }
}

#[test]
fn a_header_and_a_presigned_signature_together_are_rejected() {
    let result = verify_suite_with(|request| {
        request.query = "X-Amz-Signature=00".to_owned();
    });
    assert!(matches!(result, Err(AuthError::Malformed(_))), "{result:?}");
}

#[test]
fn a_bad_or_repeated_date_is_malformed() {
    for date in [
        "2015-08-30T12:36:00Z",
        "20150830T123600",
        "20151330T123600Z",
    ] {
        let result = verify_suite_with(|request| {
            for (name, value) in &mut request.headers {
                if name.eq_ignore_ascii_case("x-amz-date") {
                    *value = date.to_owned();
                }
            }
        });
        assert!(
            matches!(result, Err(AuthError::Malformed(_))),
            "{date}: {result:?}"
        );
    }
    let result = verify_suite_with(|request| {
        request
            .headers
            .push(("X-Amz-Date".to_owned(), "20150830T123600Z".to_owned()));
    });
    assert!(matches!(result, Err(AuthError::Malformed(_))), "{result:?}");
}

#[test]
fn a_presigned_url_is_checked_against_its_own_expiry() {
    let vectors = botocore_vectors();
    let (_, request, _) = vectors
        .cases
        .iter()
        .find(|(name, _, _)| name == "presigned-ec2")
        .expect("a presigned vector");
    let signed_at = vectors.now - 42;
    // X-Amz-Expires=600: valid to the second, expired one second later.
    request
        .verify(&vectors.secret, signed_at + 600)
        .expect("valid until the end of its expiry");
    let error = request
        .verify(&vectors.secret, signed_at + 601)
        .expect_err("expired after it");
    assert!(matches!(error, AuthError::Expired(_)), "{error:?}");

    let mut forever = request.clone();
    forever.query = forever
        .query
        .replace("X-Amz-Expires=600", "X-Amz-Expires=604801");
    let result = forever.verify(&vectors.secret, vectors.now);
    assert!(matches!(result, Err(AuthError::Malformed(_))), "{result:?}");

    let mut longer = request.clone();
    longer.query = longer
        .query
        .replace("X-Amz-Expires=600", "X-Amz-Expires=900");
    let result = longer.verify(&vectors.secret, vectors.now);
    assert!(
        matches!(result, Err(AuthError::SignatureMismatch { .. })),
        "the expiry is signed: {result:?}"
    );
}

// -- Garbage -------------------------------------------------------------------------------

/// Header names that reach deep into verification, plus anything at all.
fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Authorization".to_owned()),
        Just("host".to_owned()),
        Just("X-Amz-Date".to_owned()),
        Just("date".to_owned()),
        Just("x-amz-content-sha256".to_owned()),
        Just("X-Amz-Security-Token".to_owned()),
        ".{0,12}",
    ]
}

/// Values that look almost right as often as they look like noise.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("20150830T123600Z".to_owned()),
        Just("Sun, 30 Aug 2015 12:36:00 GMT".to_owned()),
        Just("UNSIGNED-PAYLOAD".to_owned()),
        "[0-9a-f]{64}",
        (
            "[A-Z0-9/]{0,12}",
            "[0-9]{0,9}",
            "[a-z0-9;-]{0,24}",
            "[0-9a-fA-F]{0,66}",
            ".{0,8}"
        )
            .prop_map(|(key, date, signed, signature, junk)| format!(
                "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/ec2/aws4_request,{junk} \
                 SignedHeaders={signed}, Signature={signature}"
            )),
        ".{0,80}",
    ]
}

/// Query strings built from presigned parameter names and noise.
fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("X-Amz-Algorithm"),
        Just("X-Amz-Credential"),
        Just("X-Amz-Date"),
        Just("X-Amz-Expires"),
        Just("X-Amz-SignedHeaders"),
        Just("X-Amz-Signature"),
        Just("X-Amz-Security-Token"),
        Just("Action"),
    ];
    prop_oneof![
        prop::collection::vec((name, "[%+=&0-9A-Za-z/;-]{0,20}"), 0..8).prop_map(|pairs| {
            pairs
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("&")
        }),
        ".{0,60}",
    ]
}

proptest! {
    #[test]
    fn garbage_never_panics(
        method in ".{0,8}",
        path in prop_oneof![Just("/".to_owned()), "[/.%a-zA-Z0-9]{0,24}", ".{0,24}"],
        query in query(),
        headers in prop::collection::vec((header_name(), header_value()), 0..8),
        body in prop::collection::vec(any::<u8>(), 0..64),
        now in prop_oneof![Just(SUITE_NOW), any::<i64>()],
    ) {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let request = SignedRequest {
            method: &method,
            path: &path,
            query: &query,
            headers: &headers,
            body: &body,
        };
        let result = sigv4::verify(&request, |_| Some(SUITE_SECRET.to_owned()), now);
        // Random bytes do not forge an HMAC.
        prop_assert!(result.is_err());
        if let Err(error) = result {
            prop_assert!(!error.aws_code().is_empty());
            prop_assert!(!error.query_code().is_empty());
            prop_assert!(!error.to_string().is_empty());
        }
    }
}
