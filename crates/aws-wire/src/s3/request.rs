//! A path-style S3 request (`/{bucket}/{key}`) classified into the operation it asks
//! for, from its method, path and query; and the headers operations read (`Range`,
//! `x-amz-copy-source`, `x-amz-meta-*`).
//!
//! Query parameters S3 does not treat as subresources (`x-id`, which aws-sdk-rust adds,
//! presigned URLs' `X-Amz-*`) are ignored; a subresource outside the subset (`acl`,
//! `uploads`, `versioning`, ...) is `NotImplemented`.

use std::collections::BTreeMap;

use super::list::{ListQuery, MAX_KEYS};
use super::names::{check_bucket_name, check_key};
use super::{ErrorCode, S3Error};
use crate::protocol::RequestParts;

/// An S3 operation of the subset, with what names its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `GET /`.
    ListBuckets {
        /// `prefix`: only bucket names beginning with it.
        prefix: Option<String>,
    },
    /// `PUT /{bucket}` (the name is checked against S3's rules).
    CreateBucket {
        /// The bucket.
        bucket: String,
    },
    /// `HEAD /{bucket}`.
    HeadBucket {
        /// The bucket.
        bucket: String,
    },
    /// `DELETE /{bucket}`.
    DeleteBucket {
        /// The bucket.
        bucket: String,
    },
    /// `GET /{bucket}?location`.
    GetBucketLocation {
        /// The bucket.
        bucket: String,
    },
    /// `PUT /{bucket}?tagging`.
    PutBucketTagging {
        /// The bucket.
        bucket: String,
    },
    /// `GET /{bucket}?tagging`.
    GetBucketTagging {
        /// The bucket.
        bucket: String,
    },
    /// `DELETE /{bucket}?tagging`.
    DeleteBucketTagging {
        /// The bucket.
        bucket: String,
    },
    /// `GET /{bucket}?list-type=2`.
    ListObjectsV2 {
        /// The bucket.
        bucket: String,
        /// Its parameters.
        query: ListQuery,
    },
    /// `POST /{bucket}?delete`.
    DeleteObjects {
        /// The bucket.
        bucket: String,
    },
    /// `PUT /{bucket}/{key}`.
    PutObject {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// `PUT /{bucket}/{key}` with `x-amz-copy-source`.
    CopyObject {
        /// The destination bucket.
        bucket: String,
        /// The destination key.
        key: String,
        /// The source.
        source: CopySource,
    },
    /// `GET /{bucket}/{key}`.
    GetObject {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// `HEAD /{bucket}/{key}`.
    HeadObject {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// `DELETE /{bucket}/{key}`.
    DeleteObject {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
}

impl Operation {
    /// The operation's name, e.g. `PutObject`.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::ListBuckets { .. } => "ListBuckets",
            Operation::CreateBucket { .. } => "CreateBucket",
            Operation::HeadBucket { .. } => "HeadBucket",
            Operation::DeleteBucket { .. } => "DeleteBucket",
            Operation::GetBucketLocation { .. } => "GetBucketLocation",
            Operation::PutBucketTagging { .. } => "PutBucketTagging",
            Operation::GetBucketTagging { .. } => "GetBucketTagging",
            Operation::DeleteBucketTagging { .. } => "DeleteBucketTagging",
            Operation::ListObjectsV2 { .. } => "ListObjectsV2",
            Operation::DeleteObjects { .. } => "DeleteObjects",
            Operation::PutObject { .. } => "PutObject",
            Operation::CopyObject { .. } => "CopyObject",
            Operation::GetObject { .. } => "GetObject",
            Operation::HeadObject { .. } => "HeadObject",
            Operation::DeleteObject { .. } => "DeleteObject",
        }
    }

    /// The bucket it names, if any.
    pub fn bucket(&self) -> Option<&str> {
        match self {
            Operation::ListBuckets { .. } => None,
            Operation::CreateBucket { bucket }
            | Operation::HeadBucket { bucket }
            | Operation::DeleteBucket { bucket }
            | Operation::GetBucketLocation { bucket }
            | Operation::PutBucketTagging { bucket }
            | Operation::GetBucketTagging { bucket }
            | Operation::DeleteBucketTagging { bucket }
            | Operation::ListObjectsV2 { bucket, .. }
            | Operation::DeleteObjects { bucket }
            | Operation::PutObject { bucket, .. }
            | Operation::CopyObject { bucket, .. }
            | Operation::GetObject { bucket, .. }
            | Operation::HeadObject { bucket, .. }
            | Operation::DeleteObject { bucket, .. } => Some(bucket),
        }
    }

    /// The key it names, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            Operation::PutObject { key, .. }
            | Operation::CopyObject { key, .. }
            | Operation::GetObject { key, .. }
            | Operation::HeadObject { key, .. }
            | Operation::DeleteObject { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The `<Resource>` of its error document: `/bucket/key`, `/bucket` or `/`.
    pub fn resource(&self) -> String {
        match (self.bucket(), self.key()) {
            (Some(bucket), Some(key)) => format!("/{bucket}/{key}"),
            (Some(bucket), None) => format!("/{bucket}"),
            _ => "/".to_owned(),
        }
    }
}

/// The object a CopyObject copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource {
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub key: String,
}

/// Subresources of a bucket outside the subset.
const BUCKET_SUBRESOURCES: [&str; 27] = [
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "lifecycle",
    "logging",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "session",
    "uploads",
    "versioning",
    "versions",
    "website",
    "abac",
    "metadataConfiguration",
    "restore",
];

/// Subresources of an object outside the subset.
const OBJECT_SUBRESOURCES: [&str; 14] = [
    "acl",
    "attributes",
    "legal-hold",
    "partNumber",
    "renameObject",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "select-type",
];

/// Classifies a path-style request. `request.body` is not read.
pub fn classify(request: &RequestParts<'_>) -> Result<Operation, S3Error> {
    let query: Vec<(String, String)> = form_urlencoded::parse(request.query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let has = |name: &str| query.iter().any(|(n, _)| n == name);
    let param = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let method = request.method.to_ascii_uppercase();
    let path = request.path.strip_prefix('/').unwrap_or(request.path);
    let (bucket, key) = match path.split_once('/') {
        Some((bucket, key)) => (bucket, key),
        None => (path, ""),
    };
    let bucket = percent_decode(bucket)?;
    let key = percent_decode(key)?;
    let not_allowed = || S3Error::new(ErrorCode::MethodNotAllowed);
    let not_implemented = |what: &str| {
        S3Error::with_message(
            ErrorCode::NotImplemented,
            format!("{what} is not implemented by the local cloud's S3."),
        )
    };

    if bucket.is_empty() {
        return match method.as_str() {
            "GET" => Ok(Operation::ListBuckets {
                prefix: param("prefix").filter(|p| !p.is_empty()),
            }),
            _ => Err(not_allowed()),
        };
    }
    if key.is_empty() {
        if let Some(sub) = BUCKET_SUBRESOURCES.iter().find(|s| has(s)) {
            return Err(not_implemented(&format!("The ?{sub} subresource")));
        }
        let tagging = has("tagging");
        return match method.as_str() {
            "PUT" if tagging => Ok(Operation::PutBucketTagging { bucket }),
            "GET" if tagging => Ok(Operation::GetBucketTagging { bucket }),
            "DELETE" if tagging => Ok(Operation::DeleteBucketTagging { bucket }),
            "GET" if has("location") => Ok(Operation::GetBucketLocation { bucket }),
            "POST" if has("delete") => Ok(Operation::DeleteObjects { bucket }),
            "PUT" => {
                check_bucket_name(&bucket)?;
                Ok(Operation::CreateBucket { bucket })
            }
            "HEAD" => Ok(Operation::HeadBucket { bucket }),
            "DELETE" => Ok(Operation::DeleteBucket { bucket }),
            "GET" if param("list-type").as_deref() == Some("2") => Ok(Operation::ListObjectsV2 {
                bucket,
                query: list_query(&param)?,
            }),
            "GET" => Err(not_implemented("ListObjects (version 1)")),
            _ => Err(not_allowed()),
        };
    }
    if let Some(sub) = OBJECT_SUBRESOURCES.iter().find(|s| has(s)) {
        return Err(not_implemented(&format!("The ?{sub} subresource")));
    }
    check_key(&key)?;
    match method.as_str() {
        "PUT" => match request.header("x-amz-copy-source") {
            Some(source) => Ok(Operation::CopyObject {
                bucket,
                key,
                source: copy_source(source)?,
            }),
            None => Ok(Operation::PutObject { bucket, key }),
        },
        "GET" => Ok(Operation::GetObject { bucket, key }),
        "HEAD" => Ok(Operation::HeadObject { bucket, key }),
        "DELETE" => Ok(Operation::DeleteObject { bucket, key }),
        "POST" => Err(not_implemented("POST on an object")),
        _ => Err(not_allowed()),
    }
}

/// ListObjectsV2's parameters from the query.
fn list_query(param: &dyn Fn(&str) -> Option<String>) -> Result<ListQuery, S3Error> {
    let max_keys = match param("max-keys") {
        None => MAX_KEYS,
        Some(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|_| {
                S3Error::with_message(
                    ErrorCode::InvalidArgument,
                    "Provided max-keys not an integer or within integer range",
                )
            })?
            .min(MAX_KEYS as u64) as usize,
    };
    let url_encoded = match param("encoding-type").as_deref() {
        None | Some("") => false,
        Some(kind) if kind.eq_ignore_ascii_case("url") => true,
        Some(_) => {
            return Err(S3Error::with_message(
                ErrorCode::InvalidArgument,
                "Invalid Encoding Method specified in Request",
            ));
        }
    };
    Ok(ListQuery {
        prefix: param("prefix").unwrap_or_default(),
        delimiter: param("delimiter").unwrap_or_default(),
        max_keys,
        continuation_token: param("continuation-token").filter(|t| !t.is_empty()),
        start_after: param("start-after").filter(|s| !s.is_empty()),
        url_encoded,
        fetch_owner: param("fetch-owner").is_some_and(|v| v.eq_ignore_ascii_case("true")),
    })
}

/// `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded; a `?versionId=` is
/// refused (there are no versions).
pub fn copy_source(header: &str) -> Result<CopySource, S3Error> {
    let invalid =
        || S3Error::with_message(ErrorCode::InvalidArgument, "Invalid copy source object key");
    let header = header.trim();
    let (path, version) = match header.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (header, None),
    };
    if version.is_some_and(|q| q.starts_with("versionId=") && q != "versionId=null") {
        return Err(S3Error::with_message(
            ErrorCode::NotImplemented,
            "Copying a version of an object is not implemented by the local cloud's S3.",
        ));
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    let (bucket, key) = path.split_once('/').ok_or_else(invalid)?;
    let bucket = percent_decode(bucket)?;
    let key = percent_decode(key)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    Ok(CopySource { bucket, key })
}

/// A satisfiable byte range of an object: `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// The first byte.
    pub start: u64,
    /// The last byte (inclusive).
    pub end: u64,
}

impl ByteRange {
    /// How many bytes it covers.
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Never: a range covers at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `Content-Range` for an object of `total` bytes.
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{total}", self.start, self.end)
    }
}

/// The range a `Range` header asks of an object of `len` bytes. `Ok(None)`: the whole
/// object (no header, a header S3 ignores: not `bytes=`, several ranges, unparsable).
/// `InvalidRange` when the range starts at or after the end (or asks a suffix of an
/// empty object).
pub fn parse_range(header: Option<&str>, len: u64) -> Result<Option<ByteRange>, S3Error> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let unsatisfiable = || {
        Err(S3Error::with_message(
            ErrorCode::InvalidRange,
            format!("The requested range is not satisfiable (object size {len})"),
        ))
    };
    if first.is_empty() {
        let Ok(suffix) = last.parse::<u64>() else {
            return Ok(None);
        };
        if suffix == 0 || len == 0 {
            return unsatisfiable();
        }
        return Ok(Some(ByteRange {
            start: len.saturating_sub(suffix),
            end: len - 1,
        }));
    }
    let Ok(start) = first.parse::<u64>() else {
        return Ok(None);
    };
    let end = if last.is_empty() {
        None
    } else {
        match last.parse::<u64>() {
            Ok(end) if end >= start => Some(end),
            _ => return Ok(None),
        }
    };
    if start >= len {
        return unsatisfiable();
    }
    Ok(Some(ByteRange {
        start,
        end: end.map_or(len - 1, |end| end.min(len - 1)),
    }))
}

/// The user metadata of a request: every `x-amz-meta-<name>` header, names lowercased
/// without the prefix.
pub fn user_metadata(headers: &[(&str, &str)]) -> BTreeMap<String, String> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            let short = name.strip_prefix("x-amz-meta-")?.to_owned();
            Some((short, value.trim().to_owned()))
        })
        .collect()
}

/// Decodes `%XX` escapes (a `+` stays a `+`: S3 paths are not forms). Fails with
/// `InvalidURI` when the result is not UTF-8.
pub fn percent_decode(text: &str) -> Result<String, S3Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((high * 16 + low) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| S3Error::new(ErrorCode::InvalidUri))
}

/// Percent-encodes every byte but RFC 3986's unreserved ones, keeping `/` when asked
/// (for `encoding-type=url` listings and `Location` headers).
pub fn percent_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && byte == b'/')
        {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_with(
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Operation, S3Error> {
        classify(&RequestParts {
            method,
            path,
            query,
            headers,
            body: b"",
        })
    }

    fn op(method: &str, path: &str, query: &str) -> Result<Operation, S3Error> {
        classify_with(method, path, query, &[])
    }

    #[test]
    fn paths_and_methods_name_operations() {
        let bucket = || "my-bucket".to_owned();
        assert_eq!(
            op("GET", "/", ""),
            Ok(Operation::ListBuckets { prefix: None })
        );
        assert_eq!(
            op("PUT", "/my-bucket", "x-id=CreateBucket"),
            Ok(Operation::CreateBucket { bucket: bucket() })
        );
        assert_eq!(
            op("HEAD", "/my-bucket/", ""),
            Ok(Operation::HeadBucket { bucket: bucket() })
        );
        assert_eq!(
            op("DELETE", "/my-bucket", ""),
            Ok(Operation::DeleteBucket { bucket: bucket() })
        );
        assert_eq!(
            op("PUT", "/my-bucket", "tagging"),
            Ok(Operation::PutBucketTagging { bucket: bucket() })
        );
        assert_eq!(
            op("GET", "/my-bucket", "tagging="),
            Ok(Operation::GetBucketTagging { bucket: bucket() })
        );
        assert_eq!(
            op("DELETE", "/my-bucket", "tagging"),
            Ok(Operation::DeleteBucketTagging { bucket: bucket() })
        );
        assert_eq!(
            op("POST", "/my-bucket", "delete&x-id=DeleteObjects"),
            Ok(Operation::DeleteObjects { bucket: bucket() })
        );
        assert_eq!(
            op("GET", "/my-bucket/dir/a%20b%2Bc.txt", "x-id=GetObject"),
            Ok(Operation::GetObject {
                bucket: bucket(),
                key: "dir/a b+c.txt".to_owned()
            })
        );
        assert_eq!(
            op("PUT", "/my-bucket/%E2%9C%93/x", ""),
            Ok(Operation::PutObject {
                bucket: bucket(),
                key: "✓/x".to_owned()
            })
        );
        assert_eq!(
            classify_with(
                "PUT",
                "/my-bucket/copy",
                "",
                &[("X-Amz-Copy-Source", "src-bucket/dir%2Fa%20b")]
            ),
            Ok(Operation::CopyObject {
                bucket: bucket(),
                key: "copy".to_owned(),
                source: CopySource {
                    bucket: "src-bucket".to_owned(),
                    key: "dir/a b".to_owned()
                }
            })
        );
    }

    #[test]
    fn list_parameters_are_read() {
        let listed = op(
            "GET",
            "/my-bucket",
            "list-type=2&prefix=dir%2F&delimiter=%2F&max-keys=5000&start-after=a&continuation-token=&encoding-type=url",
        );
        let Ok(Operation::ListObjectsV2 { query, .. }) = listed else {
            panic!("not a listing: {listed:?}");
        };
        assert_eq!(query.prefix, "dir/");
        assert_eq!(query.delimiter, "/");
        assert_eq!(query.max_keys, MAX_KEYS);
        assert_eq!(query.start_after.as_deref(), Some("a"));
        assert_eq!(query.continuation_token, None);
        assert!(query.url_encoded);
        let bad = op("GET", "/my-bucket", "list-type=2&max-keys=-1");
        assert_eq!(bad.map_err(|e| e.code), Err(ErrorCode::InvalidArgument));
    }

    #[test]
    fn what_is_outside_the_subset_says_so() {
        let code = |method, path, query| op(method, path, query).map_err(|e| e.code);
        assert_eq!(
            code("PUT", "/my-bucket", "versioning"),
            Err(ErrorCode::NotImplemented)
        );
        assert_eq!(
            code("POST", "/my-bucket/key", "uploads"),
            Err(ErrorCode::NotImplemented)
        );
        assert_eq!(
            code("GET", "/my-bucket", ""),
            Err(ErrorCode::NotImplemented)
        );
        assert_eq!(code("PUT", "/", ""), Err(ErrorCode::MethodNotAllowed));
        assert_eq!(
            code("PUT", "/Bad_Bucket", ""),
            Err(ErrorCode::InvalidBucketName)
        );
        assert_eq!(code("GET", "/b/%FF", ""), Err(ErrorCode::InvalidUri));
    }

    #[test]
    fn ranges_follow_s3() {
        let range = |header, len| parse_range(Some(header), len).map_err(|e| e.code);
        assert_eq!(
            range("bytes=0-4", 10),
            Ok(Some(ByteRange { start: 0, end: 4 }))
        );
        assert_eq!(
            range("bytes=5-", 10),
            Ok(Some(ByteRange { start: 5, end: 9 }))
        );
        assert_eq!(
            range("bytes=-3", 10),
            Ok(Some(ByteRange { start: 7, end: 9 }))
        );
        assert_eq!(
            range("bytes=-30", 10),
            Ok(Some(ByteRange { start: 0, end: 9 }))
        );
        assert_eq!(
            range("bytes=8-100", 10),
            Ok(Some(ByteRange { start: 8, end: 9 }))
        );
        assert_eq!(range("bytes=10-", 10), Err(ErrorCode::InvalidRange));
        assert_eq!(range("bytes=0-1,3-4", 10), Ok(None));
        assert_eq!(range("bytes=5-2", 10), Ok(None));
        assert_eq!(range("items=0-1", 10), Ok(None));
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(
            ByteRange { start: 2, end: 4 }.content_range(10),
            "bytes 2-4/10"
        );
    }

    #[test]
    fn user_metadata_drops_the_prefix() {
        let headers = [("X-Amz-Meta-Owner", " me "), ("content-type", "text/plain")];
        let metadata = user_metadata(&headers);
        assert_eq!(metadata.get("owner").map(String::as_str), Some("me"));
        assert_eq!(metadata.len(), 1);
    }

    #[test]
    fn percent_coding_round_trips() {
        let key = "dir/a b+c&ü";
        assert_eq!(
            percent_decode(&percent_encode(key, true)),
            Ok(key.to_owned())
        );
        assert_eq!(percent_encode("a/b c", true), "a/b%20c");
        assert_eq!(percent_encode("a/b", false), "a%2Fb");
    }
}
