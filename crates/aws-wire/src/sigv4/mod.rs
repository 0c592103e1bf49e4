//! AWS Signature Version 4 verification, the server's side: given a request as it was
//! received, decide whether a known access key signed it, and say which key, region and
//! service the signature is scoped to.
//!
//! Owns: reading the two places a signature travels (the `Authorization` header, and the
//! `X-Amz-*` parameters of a presigned URL), rebuilding the canonical request the way the
//! AWS SDKs build it, deriving the signing key, comparing signatures in constant time, and
//! the clock-skew and expiry rules. Does not own: where secrets live (the caller passes a
//! lookup), what time it is (the caller passes `now`), reading the body off a socket, or
//! checking that the scope's region and service are the ones this endpoint serves (the
//! caller reads them from [`Verified`]).
//!
//! Where the SDKs disagree, every form a real client sends is accepted. For services other
//! than S3 the canonical URI is the received path, dot segments removed and URI-encoded once
//! more; botocore also collapses repeated slashes and aws-sdk-rust leaves a path without
//! dots untouched, so both forms are tried. A presigned URL's payload hash is
//! `UNSIGNED-PAYLOAD` for S3 clients but the hash of the (empty) body for botocore's other
//! services, so both are tried too. Every candidate needs the secret to produce, so
//! accepting several widens nothing.

mod canonical;
mod time;

use std::fmt::Write as _;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use canonical::*;
use time::*;

/// The only algorithm accepted, as it appears in `Authorization` and `X-Amz-Algorithm`.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far (either way) a header-signed request's time may be from the server's: 15 minutes.
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// The longest `X-Amz-Expires` a presigned URL may ask for: 7 days.
pub const MAX_PRESIGNED_EXPIRES_SECS: i64 = 7 * 24 * 60 * 60;

/// The payload hash a client writes when it did not hash the body.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The message EC2 gives for every credential failure other than expiry.
const EC2_AUTH_FAILURE: &str = "AWS was not able to validate the provided access credentials";

type HmacSha256 = Hmac<Sha256>;

/// A request as the server received it, before anything was decoded.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The path exactly as received (still percent-encoded), e.g. `/`.
    pub path: &'a str,
    /// The query string exactly as received, without the `?`; empty when there is none.
    pub query: &'a str,
    /// Every header as received, in order: names in any case, repeated names allowed.
    /// Over HTTP/2 the `:authority` pseudo-header must be passed as `host`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The whole body.
    pub body: &'a [u8],
}

/// An access key the server knows, with its secret. `Debug` shows only the key id, so
/// the secret stays out of logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The public half, e.g. `AKIDEXAMPLE`.
    pub access_key_id: String,
    /// The secret half, from which signing keys are derived.
    pub secret_access_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Turns a fixed list of credentials into the lookup [`verify`] takes.
pub fn lookup_in(credentials: &[Credentials]) -> impl Fn(&str) -> Option<String> + '_ {
    |access_key_id| {
        credentials
            .iter()
            .find(|known| known.access_key_id == access_key_id)
            .map(|known| known.secret_access_key.clone())
    }
}

/// Who signed a request that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key whose secret produced the signature.
    pub access_key_id: String,
    /// The credential scope's region, e.g. `us-east-1`.
    pub region: String,
    /// The credential scope's service, e.g. `ec2`.
    pub service: String,
    /// The `X-Amz-Security-Token` the request carried (header or query), if any. It is
    /// passed through unchecked: temporary credentials are the caller's business.
    pub session_token: Option<String>,
}

/// Why a request's signature was not accepted. Callers branch on the variant; the
/// `Display` text is the message the query-protocol services send with [`AuthError::query_code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header and no presigned `X-Amz-*` query parameters.
    #[error("Request is missing Authentication Token")]
    Missing,
    /// A signature is present but cannot be read: a missing or repeated component, a bad
    /// date, a credential scope that does not match the request date, `host` not signed.
    #[error("{0}")]
    Malformed(String),
    /// An `Authorization` header or `X-Amz-Algorithm` naming anything but `AWS4-HMAC-SHA256`
    /// (Signature Version 2, SigV4a, ...).
    #[error("Unsupported authorization type {0:?}; only AWS4-HMAC-SHA256 is accepted")]
    UnsupportedAlgorithm(String),
    /// The access key id is not one the lookup knows.
    #[error("The security token included in the request is invalid.")]
    UnknownAccessKey(String),
    /// The signature is well formed but is not the one the secret gives for this request.
    /// Carries what the server computed, as AWS does, so a client author can compare.
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service \
         documentation for details.\n\nThe Canonical String for this request should have \
         been\n'{canonical_request}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
    )]
    SignatureMismatch {
        /// The canonical request the server built.
        canonical_request: String,
        /// The string to sign the server built from it.
        string_to_sign: String,
    },
    /// The `x-amz-content-sha256` header is a SHA-256 digest, but not the body's.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadHashMismatch,
    /// The request time is more than [`MAX_CLOCK_SKEW_SECS`] from the server's, or a
    /// presigned URL is past its `X-Amz-Expires`. The text says which.
    #[error("{0}")]
    Expired(String),
}

impl AuthError {
    /// The error code EC2 answers with: `RequestExpired` for an expired request,
    /// `AuthFailure` for everything else.
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::Expired(_) => "RequestExpired",
            Self::Missing
            | Self::Malformed(_)
            | Self::UnsupportedAlgorithm(_)
            | Self::UnknownAccessKey(_)
            | Self::SignatureMismatch { .. }
            | Self::PayloadHashMismatch => "AuthFailure",
        }
    }

    /// The message EC2 sends with [`AuthError::aws_code`]: its fixed credential-failure
    /// text, or the expiry explanation.
    pub fn aws_message(&self) -> String {
        match self {
            Self::Expired(message) => message.clone(),
            Self::Missing
            | Self::Malformed(_)
            | Self::UnsupportedAlgorithm(_)
            | Self::UnknownAccessKey(_)
            | Self::SignatureMismatch { .. }
            | Self::PayloadHashMismatch => EC2_AUTH_FAILURE.to_owned(),
        }
    }

    /// The error code the query- and JSON-protocol services (STS, SNS, SQS, CloudWatch,
    /// ...) answer with; the message to send with it is this error's `Display` text.
    pub fn query_code(&self) -> &'static str {
        match self {
            Self::Missing => "MissingAuthenticationToken",
            Self::Malformed(_) | Self::UnsupportedAlgorithm(_) => "IncompleteSignature",
            Self::UnknownAccessKey(_) => "InvalidClientTokenId",
            Self::SignatureMismatch { .. } | Self::PayloadHashMismatch => "SignatureDoesNotMatch",
            Self::Expired(_) => "RequestExpired",
        }
    }
}

/// Verifies a request's Signature Version 4 signature, carried either in an
/// `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/ec2/aws4_request,
/// SignedHeaders=host;x-amz-date, Signature=<hex>` header or in a presigned URL's
/// `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
/// `X-Amz-SignedHeaders` and `X-Amz-Signature` query parameters.
///
/// `lookup` maps an access key id to its secret; `now_unix_secs` is the server's time.
/// A header-signed request must be dated within [`MAX_CLOCK_SKEW_SECS`] of `now`; a
/// presigned one must not be past its expiry nor dated more than that skew in the future.
///
/// When `x-amz-content-sha256` is a hex digest it must be the body's. When it is
/// `UNSIGNED-PAYLOAD` or a `STREAMING-*` value, the body is not covered by the signature;
/// for `aws-chunked` uploads only the seed signature is checked here, not each chunk's.
///
/// Never panics, whatever the input.
pub fn verify(
    request: &SignedRequest<'_>,
    lookup: impl Fn(&str) -> Option<String>,
    now_unix_secs: i64,
) -> Result<Verified, AuthError> {
    let claim = Claim::read(request)?;
    claim.check_time(now_unix_secs)?;
    let secret = lookup(&claim.access_key_id)
        .ok_or_else(|| AuthError::UnknownAccessKey(claim.access_key_id.clone()))?;

    let headers = canonical_headers(request.headers, &claim.signed_headers)?;
    let payload_hashes = payload_hash_candidates(request, claim.form)?;
    let query = canonical_query(request.query, claim.form);
    let uris = canonical_uri_candidates(request.path, &claim.service);
    let signed_headers = claim.signed_headers.join(";");
    let scope = claim.scope();
    let signing_key = signing_key(&secret, &claim.date, &claim.region, &claim.service);

    let mut first = None;
    for uri in &uris {
        for payload_hash in &payload_hashes {
            let canonical_request = format!(
                "{method}\n{uri}\n{query}\n{headers}\n{signed_headers}\n{payload_hash}",
                method = request.method,
            );
            let string_to_sign = format!(
                "{ALGORITHM}\n{amz_date}\n{scope}\n{hash}",
                amz_date = claim.amz_date,
                hash = hex(&Sha256::digest(canonical_request.as_bytes())),
            );
            if signature_matches(signing_key.as_ref(), &string_to_sign, &claim.signature) {
                return Ok(claim.into_verified());
            }
            first.get_or_insert((canonical_request, string_to_sign));
        }
    }
    let (canonical_request, string_to_sign) = first.unwrap_or_default();
    Err(AuthError::SignatureMismatch {
        canonical_request,
        string_to_sign,
    })
}

/// What a request claims about its signature, read and checked for form.
struct Claim {
    /// The access key named in the credential.
    access_key_id: String,
    /// The credential scope's date, `YYYYMMDD`.
    date: String,
    /// The credential scope's region.
    region: String,
    /// The credential scope's service.
    service: String,
    /// The signed header names, in the order the client listed them.
    signed_headers: Vec<String>,
    /// The signature, decoded from hex.
    signature: Vec<u8>,
    /// The request time as it goes into the string to sign, `YYYYMMDDTHHMMSSZ`.
    amz_date: String,
    /// The same time, in Unix seconds.
    signed_at: i64,
    /// Where the signature travelled, which decides the time rule and the payload hash.
    form: Form,
    /// The security token, if one was sent.
    session_token: Option<String>,
}

/// The two places a signature travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// The `Authorization` header: the request must be within the clock skew.
    Header,
    /// A presigned URL's query string: the URL is good until `X-Amz-Expires` seconds after
    /// its date.
    Presigned {
        /// The `X-Amz-Expires` value.
        expires_secs: i64,
    },
}

impl Claim {
    /// Reads the signature from the header or the query, whichever the request uses.
    fn read(request: &SignedRequest<'_>) -> Result<Self, AuthError> {
        let authorization = single_header(request.headers, "authorization")?;
        let params = query_pairs(request.query);
        let has_presigned_params = params.iter().any(|(name, _)| {
            matches!(
                name.as_slice(),
                b"X-Amz-Algorithm" | b"X-Amz-Credential" | b"X-Amz-Signature"
            )
        });
        match (authorization, has_presigned_params) {
            (Some(_), true) => Err(malformed(
                "only one authentication mechanism is allowed: an Authorization header or \
                 X-Amz-* query parameters, not both",
            )),
            (Some(value), false) => Self::from_header(request.headers, value),
            (None, true) => Self::from_query(request.headers, &params),
            (None, false) => Err(AuthError::Missing),
        }
    }

    /// Reads `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
    fn from_header(headers: &[(&str, &str)], authorization: &str) -> Result<Self, AuthError> {
        let authorization = authorization.trim();
        let (algorithm, components) = authorization
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((authorization, ""));
        if algorithm != ALGORITHM {
            return Err(AuthError::UnsupportedAlgorithm(algorithm.to_owned()));
        }
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for component in components
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let (name, value) = component.split_once('=').ok_or_else(|| {
                malformed(format!(
                    "Authorization header component {component:?} is not name=value"
                ))
            })?;
            let slot = match name.trim() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                other => {
                    return Err(malformed(format!(
                        "Authorization header has an unknown component {other:?}"
                    )));
                }
            };
            if slot.replace(value.trim()).is_some() {
                return Err(malformed(format!(
                    "Authorization header repeats its {name} component"
                )));
            }
        }
        let missing = |name: &str| {
            malformed(format!(
                "Authorization header requires '{name}' parameter. Authorization={authorization}"
            ))
        };
        let credential = credential.ok_or_else(|| missing("Credential"))?;
        let signed_headers = signed_headers.ok_or_else(|| missing("SignedHeaders"))?;
        let signature = signature.ok_or_else(|| missing("Signature"))?;

        let (amz_date, signed_at, date_header) = match single_header(headers, "x-amz-date")? {
            Some(value) => {
                let signed_at = parse_amz_date(value.trim())?;
                (value.trim().to_owned(), signed_at, "x-amz-date")
            }
            None => {
                let value = single_header(headers, "date")?.ok_or_else(|| {
                    malformed("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header")
                })?;
                let signed_at = parse_http_date(value.trim())?;
                (format_amz_date(signed_at), signed_at, "date")
            }
        };
        let claim = Self::assemble(
            credential,
            signed_headers,
            signature,
            amz_date,
            signed_at,
            Form::Header,
            single_header(headers, "x-amz-security-token")?.map(str::to_owned),
        )?;
        if !claim.signed_headers.iter().any(|name| name == date_header) {
            return Err(malformed(format!(
                "the {date_header} header must be among the signed headers"
            )));
        }
        Ok(claim)
    }

    /// Reads a presigned URL's `X-Amz-*` parameters.
    fn from_query(
        headers: &[(&str, &str)],
        params: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<Self, AuthError> {
        let param = |name: &str| -> Result<Option<String>, AuthError> {
            let mut found = params.iter().filter(|(key, _)| key == name.as_bytes());
            let Some((_, value)) = found.next() else {
                return Ok(None);
            };
            if found.next().is_some() {
                return Err(malformed(format!("query parameter {name} is repeated")));
            }
            String::from_utf8(value.clone())
                .map(Some)
                .map_err(|_| malformed(format!("query parameter {name} is not UTF-8")))
        };
        let require = |name: &str| {
            param(name)?
                .ok_or_else(|| malformed(format!("presigned URL requires the {name} parameter")))
        };
        let algorithm = require("X-Amz-Algorithm")?;
        if algorithm != ALGORITHM {
            return Err(AuthError::UnsupportedAlgorithm(algorithm));
        }
        let credential = require("X-Amz-Credential")?;
        let signed_headers = require("X-Amz-SignedHeaders")?;
        let signature = require("X-Amz-Signature")?;
        let amz_date = require("X-Amz-Date")?;
        let signed_at = parse_amz_date(&amz_date)?;
        let expires = require("X-Amz-Expires")?;
        let expires_secs = match expires.parse::<i64>() {
            Ok(secs) if (1..=MAX_PRESIGNED_EXPIRES_SECS).contains(&secs) => secs,
            _ => {
                return Err(malformed(format!(
                    "X-Amz-Expires must be a whole number of seconds from 1 to \
                     {MAX_PRESIGNED_EXPIRES_SECS}, not {expires:?}"
                )));
            }
        };
        let session_token = match param("X-Amz-Security-Token")? {
            Some(token) => Some(token),
            None => single_header(headers, "x-amz-security-token")?.map(str::to_owned),
        };
        Self::assemble(
            &credential,
            &signed_headers,
            &signature,
            amz_date,
            signed_at,
            Form::Presigned { expires_secs },
            session_token,
        )
    }

    /// Checks what both forms share: the credential, the signed header list, the signature.
    fn assemble(
        credential: &str,
        signed_headers: &str,
        signature: &str,
        amz_date: String,
        signed_at: i64,
        form: Form,
        session_token: Option<String>,
    ) -> Result<Self, AuthError> {
        let parts: Vec<&str> = credential.split('/').collect();
        let [access_key_id, date, region, service, terminator] = parts[..] else {
            return Err(malformed(format!(
                "Credential should be scoped to a valid region, service and date, as \
                 AKID/YYYYMMDD/region/service/aws4_request, not {credential:?}"
            )));
        };
        if terminator != "aws4_request" {
            return Err(malformed(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not {terminator:?}"
            )));
        }
        if [access_key_id, region, service]
            .iter()
            .any(|part| part.is_empty())
        {
            return Err(malformed(format!(
                "Credential has an empty component: {credential:?}"
            )));
        }
        if amz_date.get(..8) != Some(date) {
            return Err(malformed(format!(
                "Credential should be scoped to a valid date: the scope's date {date:?} is \
                 not the request's date {amz_date:?}"
            )));
        }
        let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
        if signed_headers.iter().any(String::is_empty) {
            return Err(malformed(format!(
                "SignedHeaders has an empty name: {:?}",
                signed_headers.join(";")
            )));
        }
        if !signed_headers.iter().any(|name| name == "host") {
            return Err(malformed(
                "the host header must be among the signed headers",
            ));
        }
        let signature = decode_hex(signature)
            .filter(|bytes| bytes.len() == 32)
            .ok_or_else(|| {
                malformed(format!(
                    "Signature must be 64 hexadecimal digits, not {signature:?}"
                ))
            })?;
        Ok(Self {
            access_key_id: access_key_id.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            signed_headers,
            signature,
            amz_date,
            signed_at,
            form,
            session_token,
        })
    }

    /// Applies the clock-skew rule, and a presigned URL's expiry.
    fn check_time(&self, now: i64) -> Result<(), AuthError> {
        let skew = MAX_CLOCK_SKEW_SECS;
        let signed = &self.amz_date;
        if self.signed_at.saturating_sub(now) > skew {
            return Err(AuthError::Expired(format!(
                "Signature not yet current: {signed} is still later than {later} ({now} + 15 min.)",
                later = format_amz_date(now.saturating_add(skew)),
                now = format_amz_date(now),
            )));
        }
        match self.form {
            Form::Presigned { expires_secs } => {
                let expires_at = self.signed_at + expires_secs;
                if now > expires_at {
                    return Err(AuthError::Expired(format!(
                        "Request has expired: the URL signed at {signed} for {expires_secs} \
                         seconds expired at {expired}, and it is now {now}",
                        expired = format_amz_date(expires_at),
                        now = format_amz_date(now),
                    )));
                }
            }
            Form::Header => {
                if now.saturating_sub(self.signed_at) > skew {
                    return Err(AuthError::Expired(format!(
                        "Signature expired: {signed} is now earlier than {earlier} ({now} - 15 min.)",
                        earlier = format_amz_date(now.saturating_sub(skew)),
                        now = format_amz_date(now),
                    )));
                }
            }
        }
        Ok(())
    }

    /// The credential scope, `YYYYMMDD/region/service/aws4_request`.
    fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }

    fn into_verified(self) -> Verified {
        Verified {
            access_key_id: self.access_key_id,
            region: self.region,
            service: self.service,
            session_token: self.session_token,
        }
    }
}

/// A malformed-signature error with `message`.
fn malformed(message: impl Into<String>) -> AuthError {
    AuthError::Malformed(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_unix_seconds() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Ok(0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Ok(1_440_938_160));
        assert_eq!(parse_amz_date("20000229T235959Z"), Ok(951_868_799));
        for secs in [0, 1_440_938_160, 951_868_799, 4_102_444_800, -86_400] {
            let text = format_amz_date(secs);
            assert_eq!(parse_amz_date(&text), Ok(secs), "{text}");
        }
        assert!(
            parse_amz_date("20150230T000000Z").is_err(),
            "no 30 February"
        );
        assert!(parse_amz_date("20150830T123600").is_err(), "no zone");
        assert!(
            parse_amz_date("2015-08-30T12:36:00Z").is_err(),
            "extended form"
        );
    }

    #[test]
    fn http_dates_parse_in_the_forms_clients_send() {
        let expected = Ok(1_440_938_160);
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), expected);
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 -0000"), expected);
        assert_eq!(parse_http_date("20150830T123600Z"), expected);
        assert!(parse_http_date("Sun, 30 Aug 2015 12:36:00 +0200").is_err());
        assert!(parse_http_date("Sunday, 30-Aug-15 12:36:00 GMT").is_err());
    }

    #[test]
    fn canonical_query_sorts_encoded_pairs_and_reencodes() {
        assert_eq!(
            canonical_query("b=2&a=1&A=0&a=0&flag", Form::Header),
            "A=0&a=0&a=1&b=2&flag="
        );
        assert_eq!(
            canonical_query(
                "k=a%20b&k2=x+y&k3=x%2By&s=%2F~%24&u=%E1%88%B4&bad=%zz",
                Form::Header
            ),
            "bad=%25zz&k=a%20b&k2=x%20y&k3=x%2By&s=%2F~%24&u=%E1%88%B4"
        );
        assert_eq!(
            canonical_query(
                "X-Amz-Signature=ab&X-Amz-Date=1",
                Form::Presigned { expires_secs: 1 }
            ),
            "X-Amz-Date=1"
        );
        assert_eq!(
            canonical_query("X-Amz-Signature=ab", Form::Header),
            "X-Amz-Signature=ab"
        );
    }

    #[test]
    fn canonical_uri_normalises_and_encodes_again_except_for_s3() {
        assert_eq!(canonical_uri_candidates("", "ec2"), ["/"]);
        assert_eq!(canonical_uri_candidates("/", "ec2"), ["/"]);
        assert_eq!(canonical_uri_candidates("/a%20b/c", "ec2"), ["/a%2520b/c"]);
        assert_eq!(
            canonical_uri_candidates("//example//", "service"),
            ["/example/", "//example//"]
        );
        assert_eq!(
            canonical_uri_candidates("/a/./b/../c/", "service"),
            ["/a/c/", "/a/./b/../c/", "/a/c"]
        );
        assert_eq!(
            canonical_uri_candidates("/bucket/a%20b//c", "s3"),
            ["/bucket/a%20b//c"]
        );
    }

    #[test]
    fn header_values_are_trimmed_collapsed_and_joined_in_order() {
        let headers = [
            ("Host", "example.com"),
            ("My-Header", "  a   b\t c  "),
            ("my-header", "second"),
        ];
        let signed = ["host".to_owned(), "my-header".to_owned()];
        assert_eq!(
            canonical_headers(&headers, &signed),
            Ok("host:example.com\nmy-header:a b c,second\n".to_owned())
        );
        let missing = ["host".to_owned(), "x-absent".to_owned()];
        assert!(matches!(
            canonical_headers(&headers, &missing),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn credentials_keep_the_secret_out_of_debug_output() {
        let credentials = Credentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI".to_owned(),
        };
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
    }

    #[test]
    fn every_error_has_codes_for_both_protocol_families() {
        let mismatch = AuthError::SignatureMismatch {
            canonical_request: "GET".to_owned(),
            string_to_sign: "AWS4".to_owned(),
        };
        assert_eq!(mismatch.aws_code(), "AuthFailure");
        assert_eq!(mismatch.aws_message(), EC2_AUTH_FAILURE);
        assert_eq!(mismatch.query_code(), "SignatureDoesNotMatch");
        assert!(mismatch.to_string().contains("'GET'"));
        let expired = AuthError::Expired("Signature expired".to_owned());
        assert_eq!(expired.aws_code(), "RequestExpired");
        assert_eq!(expired.query_code(), "RequestExpired");
        assert_eq!(
            AuthError::Missing.query_code(),
            "MissingAuthenticationToken"
        );
        assert_eq!(AuthError::Missing.aws_code(), "AuthFailure");
        assert_eq!(
            AuthError::UnknownAccessKey("AKID".to_owned()).query_code(),
            "InvalidClientTokenId"
        );
    }
}
