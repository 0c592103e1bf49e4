//! The canonical request as the AWS SDKs build it: headers, query, URI, payload hash;
//! and the signing key and signature comparison. Everything here is a pure function of
//! the request's parts.

use super::*;

/// The value of a header that may appear at most once, matched without regard to case.
pub(super) fn single_header<'h>(
    headers: &[(&str, &'h str)],
    name: &str,
) -> Result<Option<&'h str>, AuthError> {
    let mut values = header_values(headers, name);
    let first = values.next();
    if first.is_some() && values.next().is_some() {
        return Err(malformed(format!("the {name} header is repeated")));
    }
    Ok(first)
}

pub(super) fn header_values<'h>(
    headers: &[(&str, &'h str)],
    name: &str,
) -> impl Iterator<Item = &'h str> {
    headers
        .iter()
        .filter(move |(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| *value)
}

/// `name:value\n` for each signed header in the client's order, repeated headers joined
/// with commas in the order received, each value trimmed with inner whitespace runs
/// collapsed to one space.
pub(super) fn canonical_headers(
    headers: &[(&str, &str)],
    signed: &[String],
) -> Result<String, AuthError> {
    let mut out = String::new();
    for name in signed {
        out.push_str(name);
        out.push(':');
        let mut present = false;
        for value in header_values(headers, name) {
            if present {
                out.push(',');
            }
            present = true;
            let mut words = value.split_ascii_whitespace();
            if let Some(word) = words.next() {
                out.push_str(word);
            }
            for word in words {
                out.push(' ');
                out.push_str(word);
            }
        }
        if !present {
            return Err(malformed(format!(
                "the signed header {name:?} is not in the request"
            )));
        }
        out.push('\n');
    }
    Ok(out)
}

/// The payload hashes the client may have signed with.
pub(super) fn payload_hash_candidates(
    request: &SignedRequest<'_>,
    form: Form,
) -> Result<Vec<String>, AuthError> {
    let body_hash = hex(&Sha256::digest(request.body));
    let Some(declared) = single_header(request.headers, "x-amz-content-sha256")? else {
        return Ok(match form {
            Form::Presigned { .. } => vec![UNSIGNED_PAYLOAD.to_owned(), body_hash],
            Form::Header => vec![body_hash],
        });
    };
    let declared = declared.trim();
    if declared.len() == 64 && declared.bytes().all(|b| b.is_ascii_hexdigit()) {
        if !declared.eq_ignore_ascii_case(&body_hash) {
            return Err(AuthError::PayloadHashMismatch);
        }
    } else if declared != UNSIGNED_PAYLOAD && !declared.starts_with("STREAMING-") {
        return Err(malformed(format!(
            "x-amz-content-sha256 must be a SHA-256 hex digest, UNSIGNED-PAYLOAD or a \
             STREAMING-* value, not {declared:?}"
        )));
    }
    Ok(vec![declared.to_owned()])
}

/// Query parameters as `name=value` pairs, decoded as a form: `+` is a space (botocore
/// sends spaces that way in query strings while signing them as `%20`, and AWS accepts
/// it), and a `%` not followed by two hex digits stays a `%`. Empty pairs (`a=1&&b=2`)
/// are dropped.
pub(super) fn query_pairs(query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(name), form_decode(value))
        })
        .collect()
}

/// Every parameter re-encoded with only RFC 3986's unreserved characters left bare, sorted
/// by encoded name then value, joined with `&`; a presigned URL's `X-Amz-Signature` is left
/// out, since it cannot sign itself.
pub(super) fn canonical_query(query: &str, form: Form) -> String {
    let presigned = matches!(form, Form::Presigned { .. });
    let mut pairs: Vec<(String, String)> = query_pairs(query)
        .into_iter()
        .filter(|(name, _)| !(presigned && name == b"X-Amz-Signature"))
        .map(|(name, value)| (uri_encode(&name, false), uri_encode(&value, false)))
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// The canonical URIs a client may have signed the received `path` with.
///
/// S3 signs the path as sent. Every other service signs it normalised and URI-encoded once
/// more (so `%20` on the wire is `%2520` in the canonical request): botocore removes dot
/// segments and empty segments, keeping a trailing slash; aws-sdk-rust leaves a path
/// without dots as it is and otherwise normalises it like a file path, dropping a trailing
/// slash.
pub(super) fn canonical_uri_candidates(path: &str, service: &str) -> Vec<String> {
    let path = if path.is_empty() { "/" } else { path };
    if is_s3(service) {
        return vec![path.to_owned()];
    }
    let mut forms = vec![remove_dot_segments(path, true), path.to_owned()];
    if path.contains('.') {
        forms.push(remove_dot_segments(path, false));
    }
    let mut uris: Vec<String> = Vec::with_capacity(forms.len());
    for form in forms {
        let uri = uri_encode(form.as_bytes(), true);
        if !uris.contains(&uri) {
            uris.push(uri);
        }
    }
    uris
}

/// The S3 family signs paths as sent, without normalising or encoding them again.
pub(super) fn is_s3(service: &str) -> bool {
    service == "s3" || service == "s3express" || service.starts_with("s3-")
}

/// RFC 3986 section 5.2.4 on a path, also dropping empty segments (`//`), as botocore does.
pub(super) fn remove_dot_segments(path: &str, keep_trailing_slash: bool) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            _ => kept.push(segment),
        }
    }
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push('/');
    }
    out.push_str(&kept.join("/"));
    if keep_trailing_slash && path.ends_with('/') && !kept.is_empty() {
        out.push('/');
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Percent-encodes every byte but RFC 3986's unreserved ones (`A-Z a-z 0-9 - _ . ~`) and,
/// if asked, `/`; hex digits upper case, space as `%20`.
pub(super) fn uri_encode(bytes: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && byte == b'/')
        {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Decodes `%XY` escapes, and `+` as a space, as a form does.
pub(super) fn form_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = bytes
            .get(index + 1..index + 3)
            .filter(|_| bytes[index] == b'%')
            .and_then(|digits| Some(hex_value(digits[0])? << 4 | hex_value(digits[1])?));
        match escaped {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(match bytes[index] {
                    b'+' => b' ',
                    other => other,
                });
                index += 1;
            }
        }
    }
    out
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
/// `None` only if the MAC refused a key, which HMAC never does; verification then fails closed.
pub(super) fn signing_key(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
) -> Option<Vec<u8>> {
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in [date, region, service, "aws4_request"] {
        let mut mac = HmacSha256::new_from_slice(&key).ok()?;
        mac.update(part.as_bytes());
        key = mac.finalize().into_bytes().to_vec();
    }
    Some(key)
}

/// Whether `signature` is the HMAC of `string_to_sign` under `key`, compared in constant time.
pub(super) fn signature_matches(
    key: Option<&Vec<u8>>,
    string_to_sign: &str,
    signature: &[u8],
) -> bool {
    let Some(Ok(mut mac)) = key.map(|key| HmacSha256::new_from_slice(key)) else {
        return false;
    };
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(signature).is_ok()
}

pub(super) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

pub(super) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| Some(hex_value(pair[0])? << 4 | hex_value(pair[1])?))
        .collect()
}

pub(super) fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}
