//! The local cloud's S3: path-style requests (`/{bucket}/{key}`) whose SigV4 scope is
//! `s3`, answered in S3's REST-XML. Classifying requests, names, `aws-chunked` bodies,
//! checksums, listings and XML are `aws_wire::s3`'s; this shell streams bodies to and
//! from the files of [`store`] and stamps objects with the cloud's (virtual) clock.
//!
//! Not journaled: objects live in files, durable by nature, and survive a restart.

mod store;

use std::sync::Arc;

use aws_wire::protocol::RequestParts;
use aws_wire::s3::checksum::ChecksumPlan;
use aws_wire::s3::chunked::{ChunkedDecoder, is_aws_chunked};
use aws_wire::s3::request::{ByteRange, CopySource, parse_range, user_metadata};
use aws_wire::s3::xml::{self, Tag};
use aws_wire::s3::{ErrorCode, Operation, S3Error, list};
use aws_wire::sigv4::{self, SignedRequest};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

use crate::http::Endpoint;
pub(crate) use store::Buckets;
use store::{BucketMeta, ObjectMeta, StoreError};

/// The largest object accepted in one PutObject: S3's own limit, 5 GiB.
const MAX_OBJECT: u64 = 5 * 1024 * 1024 * 1024;
/// The largest XML body read (DeleteObjects of 1,000 keys of 1,024 bytes fits).
const MAX_XML_BODY: usize = 4 * 1024 * 1024;
/// The largest PutObject body buffered to check a signature that covers the payload
/// (`x-amz-content-sha256: <hex>`) when credentials are required; streamed uploads
/// (`STREAMING-*`, `UNSIGNED-PAYLOAD`) are never buffered.
const MAX_SIGNED_PAYLOAD: usize = 256 * 1024 * 1024;
/// How much of an object is read at a time when answering.
const READ_CHUNK: usize = 64 * 1024;
/// The representation headers an object keeps and gives back.
const STORED_HEADERS: [&str; 6] = [
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
];

/// Routes requests signed for `s3` here, everything else on.
pub(crate) async fn route(
    State(endpoint): State<Arc<Endpoint>>,
    request: Request,
    next: Next,
) -> Response {
    let is_s3 = {
        let headers = header_pairs(request.headers());
        let parts = RequestParts {
            method: request.method().as_str(),
            path: request.uri().path(),
            query: request.uri().query().unwrap_or_default(),
            headers: &headers,
            body: b"",
        };
        aws_wire::protocol::scope_service(&parts).as_deref() == Some("s3")
    };
    if is_s3 {
        serve(&endpoint, request).await
    } else {
        next.run(request).await
    }
}

fn header_pairs(headers: &HeaderMap) -> Vec<(&str, &str)> {
    headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect()
}

/// A request's body: read whole (when its signature covers it) or still streaming.
enum Incoming {
    Buffered(Option<Bytes>),
    Streaming(axum::body::BodyDataStream),
}

impl Incoming {
    async fn next(&mut self) -> Option<Result<Bytes, S3Error>> {
        match self {
            Incoming::Buffered(bytes) => bytes.take().map(Ok),
            Incoming::Streaming(stream) => stream.next().await.map(|frame| {
                frame.map_err(|e| {
                    S3Error::with_message(
                        ErrorCode::IncompleteBody,
                        format!("The request body could not be read: {e}"),
                    )
                })
            }),
        }
    }

    /// The whole body, at most `limit` bytes.
    async fn read_all(&mut self, limit: usize) -> Result<Bytes, S3Error> {
        let mut out = Vec::new();
        while let Some(bytes) = self.next().await {
            let bytes = bytes?;
            if out.len() + bytes.len() > limit {
                return Err(S3Error::with_message(
                    ErrorCode::EntityTooLarge,
                    format!("The request body is larger than {limit} bytes."),
                ));
            }
            out.extend_from_slice(&bytes);
        }
        Ok(Bytes::from(out))
    }
}

/// One S3 request, read only as far as needed.
struct S3Request {
    headers: HeaderMap,
    body: Incoming,
    now_ms: u64,
}

impl S3Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    }
}

async fn serve(endpoint: &Endpoint, request: Request) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (parts, body) = request.into_parts();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let headers = header_pairs(&parts.headers);
    let request_parts = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: &query,
        headers: &headers,
        body: b"",
    };
    let operation = match aws_wire::s3::classify(&request_parts) {
        Ok(operation) => operation,
        Err(error) => {
            let resource = aws_wire::s3::request::percent_decode(parts.uri.path())
                .unwrap_or_else(|_| parts.uri.path().to_owned());
            return error_response(&error, &resource, None, &id, &parts.method);
        }
    };
    let mut incoming = Incoming::Streaming(body.into_data_stream());
    if let Some(credentials) = &endpoint.require_auth {
        let covers_payload = request_parts
            .header("x-amz-content-sha256")
            .is_some_and(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
        let small = !matches!(operation, Operation::PutObject { .. });
        let limit = if small {
            MAX_XML_BODY
        } else {
            MAX_SIGNED_PAYLOAD
        };
        let body = if covers_payload || small {
            match incoming.read_all(limit).await {
                Ok(bytes) => bytes,
                Err(error) => return failed(&operation, &error, &id, &parts.method),
            }
        } else {
            Bytes::new()
        };
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: &query,
            headers: &headers,
            body: &body,
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        if let Err(error) = sigv4::verify(
            &signed,
            sigv4::lookup_in(std::slice::from_ref(credentials)),
            now,
        ) {
            return failed(&operation, &S3Error::from_auth(&error), &id, &parts.method);
        }
        if covers_payload || small {
            incoming = Incoming::Buffered(Some(body));
        }
    }
    let mut request = S3Request {
        headers: parts.headers.clone(),
        body: incoming,
        now_ms: endpoint.shared.clock.now().as_millis(),
    };
    match handle(&endpoint.s3, &operation, &mut request).await {
        Ok(response) => with_ids(response, &id),
        Err(StoreError::S3(error)) => failed(&operation, &error, &id, &parts.method),
        Err(error @ StoreError::Io { .. }) => {
            tracing::warn!(operation = operation.name(), %error, "S3 request failed");
            let error = S3Error::new(ErrorCode::InternalError);
            failed(&operation, &error, &id, &parts.method)
        }
    }
}

async fn handle(
    buckets: &Buckets,
    operation: &Operation,
    request: &mut S3Request,
) -> Result<Response, StoreError> {
    match operation {
        Operation::ListBuckets { prefix } => {
            let mut all = buckets.list().await?;
            if let Some(prefix) = prefix {
                all.retain(|b| b.name.starts_with(prefix.as_str()));
            }
            Ok(xml_response(xml::list_buckets(&all, prefix.as_deref())))
        }
        Operation::CreateBucket { bucket } => {
            let body = request.body.read_all(MAX_XML_BODY).await?;
            let region = xml::parse_create_bucket(&body)?.unwrap_or_else(|| ec2::REGION.to_owned());
            let meta = BucketMeta {
                created_ms: request.now_ms,
                region,
                tags: None,
            };
            buckets.create(bucket, &meta).await?;
            let mut response = empty(StatusCode::OK);
            if let Ok(location) = HeaderValue::from_str(&format!("/{bucket}")) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        Operation::HeadBucket { bucket } => {
            let meta = buckets.bucket(bucket).await?;
            let mut response = empty(StatusCode::OK);
            set(&mut response, "x-amz-bucket-region", &meta.region);
            Ok(response)
        }
        Operation::DeleteBucket { bucket } => {
            buckets.delete(bucket).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        Operation::GetBucketLocation { bucket } => {
            let meta = buckets.bucket(bucket).await?;
            Ok(xml_response(xml::location(&meta.region)))
        }
        Operation::PutBucketTagging { bucket } => {
            let body = request.body.read_all(MAX_XML_BODY).await?;
            let tags = xml::parse_tagging(&body)?;
            buckets.set_tags(bucket, Some(tags)).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        Operation::GetBucketTagging { bucket } => {
            let tags: Vec<Tag> = buckets.bucket(bucket).await?.tags.unwrap_or_default();
            if tags.is_empty() {
                return Err(S3Error::new(ErrorCode::NoSuchTagSet).into());
            }
            Ok(xml_response(xml::tagging(&tags)))
        }
        Operation::DeleteBucketTagging { bucket } => {
            buckets.set_tags(bucket, None).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        Operation::ListObjectsV2 { bucket, query } => {
            let objects = buckets.objects(bucket).await?;
            let page = list::page(objects.keys().map(String::as_str), query)?;
            let summaries: Vec<_> = page
                .contents
                .iter()
                .filter_map(|key| objects.get(*key).map(ObjectMeta::summary))
                .collect();
            Ok(xml_response(xml::list_objects_v2(
                bucket, query, &page, &summaries,
            )))
        }
        Operation::DeleteObjects { bucket } => {
            let body = request.body.read_all(MAX_XML_BODY).await?;
            let delete = xml::parse_delete(&body)?;
            buckets.bucket(bucket).await?;
            let mut deleted = Vec::new();
            let mut errors = Vec::new();
            for key in delete.keys {
                match buckets.delete_object(bucket, &key).await {
                    Ok(()) => deleted.push(key),
                    Err(StoreError::S3(error)) => errors.push((key, error)),
                    Err(error) => {
                        tracing::warn!(%error, "S3 DeleteObjects failed for one key");
                        errors.push((key, S3Error::new(ErrorCode::InternalError)));
                    }
                }
            }
            Ok(xml_response(xml::delete_result(
                &deleted,
                &errors,
                delete.quiet,
            )))
        }
        Operation::PutObject { bucket, key } => put_object(buckets, bucket, key, request).await,
        Operation::CopyObject {
            bucket,
            key,
            source,
        } => copy_object(buckets, bucket, key, source, request).await,
        Operation::GetObject { bucket, key } => {
            get_object(buckets, bucket, key, request, true).await
        }
        Operation::HeadObject { bucket, key } => {
            get_object(buckets, bucket, key, request, false).await
        }
        Operation::DeleteObject { bucket, key } => {
            buckets.delete_object(bucket, key).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
    }
}

/// The representation headers and user metadata an upload stores.
fn stored_headers(
    request: &S3Request,
) -> (
    std::collections::BTreeMap<String, String>,
    std::collections::BTreeMap<String, String>,
) {
    let mut stored = std::collections::BTreeMap::new();
    for name in STORED_HEADERS {
        let Some(value) = request.header(name) else {
            continue;
        };
        let value = if name == "content-encoding" {
            // aws-chunked is the upload's framing, not the object's encoding.
            value
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked"))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            value.to_owned()
        };
        if !value.is_empty() {
            stored.insert(name.to_owned(), value);
        }
    }
    let pairs = header_pairs(&request.headers);
    (stored, user_metadata(&pairs))
}

async fn put_object(
    buckets: &Buckets,
    bucket: &str,
    key: &str,
    request: &mut S3Request,
) -> Result<Response, StoreError> {
    // Refuse before reading a byte of the body.
    buckets.bucket(bucket).await?;
    let plan = ChecksumPlan::from_headers(|name| request.header(name))?;
    let chunked = is_aws_chunked(
        request.header("content-encoding"),
        request.header("x-amz-content-sha256"),
    );
    let (temp, mut file) = buckets.temp_file().await?;
    let mut decoder = chunked.then(ChunkedDecoder::new);
    let mut digest = plan.digest();
    let mut size = 0u64;
    let mut decoded = Vec::new();
    let write_error = |e| StoreError::Io {
        context: format!("writing {}", temp.path.display()),
        source: e,
    };
    while let Some(bytes) = request.body.next().await {
        let bytes = bytes?;
        let payload: &[u8] = match &mut decoder {
            Some(decoder) => {
                decoded.clear();
                decoder.feed(&bytes, &mut decoded).map_err(incomplete)?;
                &decoded
            }
            None => &bytes,
        };
        size += payload.len() as u64;
        if size > MAX_OBJECT {
            return Err(S3Error::new(ErrorCode::EntityTooLarge).into());
        }
        digest.update(payload);
        file.write_all(payload).await.map_err(write_error)?;
    }
    let trailers = match decoder {
        Some(decoder) => decoder.finish().map_err(incomplete)?,
        None => Vec::new(),
    };
    if chunked
        && let Some(declared) = request.header("x-amz-decoded-content-length")
        && declared.parse::<u64>().ok() != Some(size)
    {
        return Err(S3Error::with_message(
            ErrorCode::IncompleteBody,
            format!(
                "The decoded body has {size} bytes; x-amz-decoded-content-length says {declared}."
            ),
        )
        .into());
    }
    let digested = digest.finish();
    digested.verify(&plan, &trailers)?;
    file.sync_all().await.map_err(write_error)?;
    drop(file);
    let (headers, user) = stored_headers(request);
    let etag = digested.etag();
    let meta = ObjectMeta {
        key: key.to_owned(),
        blob: String::new(),
        etag: etag.clone(),
        size,
        last_modified_ms: request.now_ms,
        headers,
        user,
    };
    buckets.commit(bucket, temp, meta).await?;
    let mut response = empty(StatusCode::OK);
    set(&mut response, "etag", &etag);
    if let Some((algorithm, value)) = &digested.checksum {
        set(&mut response, algorithm.header(), value);
    }
    Ok(response)
}

fn incomplete(error: aws_wire::s3::chunked::ChunkError) -> S3Error {
    S3Error::with_message(
        ErrorCode::IncompleteBody,
        format!("The aws-chunked body is not well framed: {error}"),
    )
}

async fn copy_object(
    buckets: &Buckets,
    bucket: &str,
    key: &str,
    source: &CopySource,
    request: &mut S3Request,
) -> Result<Response, StoreError> {
    buckets.bucket(bucket).await?;
    let replace = request
        .header("x-amz-metadata-directive")
        .is_some_and(|d| d.eq_ignore_ascii_case("REPLACE"));
    if source.bucket == bucket && source.key == key && !replace {
        return Err(S3Error::with_message(
            ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        )
        .into());
    }
    let (source_meta, mut from) = buckets.open(&source.bucket, &source.key).await?;
    let (temp, mut to) = buckets.temp_file().await?;
    let copy_error = |e| StoreError::Io {
        context: format!("copying /{}/{}", source.bucket, source.key),
        source: e,
    };
    tokio::io::copy(&mut from, &mut to)
        .await
        .map_err(copy_error)?;
    to.sync_all().await.map_err(copy_error)?;
    drop(to);
    let (headers, user) = if replace {
        stored_headers(request)
    } else {
        (source_meta.headers.clone(), source_meta.user.clone())
    };
    let meta = ObjectMeta {
        key: key.to_owned(),
        blob: String::new(),
        etag: source_meta.etag.clone(),
        size: source_meta.size,
        last_modified_ms: request.now_ms,
        headers,
        user,
    };
    buckets.commit(bucket, temp, meta).await?;
    Ok(xml_response(xml::copy_object_result(
        &source_meta.etag,
        request.now_ms,
    )))
}

/// Whether `If-Match`/`If-None-Match` let the request through: `Err` with the status to
/// answer instead (412, or 304 for a matching `If-None-Match` on a read).
fn preconditions(request: &S3Request, etag: &str) -> Result<(), StatusCode> {
    let matches = |list: &str| {
        list.split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag == etag || tag.trim_matches('"') == etag.trim_matches('"'))
    };
    if let Some(list) = request.header("if-match")
        && !matches(list)
    {
        return Err(StatusCode::PRECONDITION_FAILED);
    }
    if let Some(list) = request.header("if-none-match")
        && matches(list)
    {
        return Err(StatusCode::NOT_MODIFIED);
    }
    Ok(())
}

async fn get_object(
    buckets: &Buckets,
    bucket: &str,
    key: &str,
    request: &mut S3Request,
    with_body: bool,
) -> Result<Response, StoreError> {
    let (meta, mut file) = buckets.open(bucket, key).await?;
    match preconditions(request, &meta.etag) {
        Ok(()) => {}
        Err(StatusCode::NOT_MODIFIED) => {
            let mut response = empty(StatusCode::NOT_MODIFIED);
            set(&mut response, "etag", &meta.etag);
            return Ok(response);
        }
        Err(_) => return Err(S3Error::new(ErrorCode::PreconditionFailed).into()),
    }
    let range = parse_range(request.header("range"), meta.size)?;
    let (status, span) = match range {
        Some(range) => (StatusCode::PARTIAL_CONTENT, range),
        None => (
            StatusCode::OK,
            ByteRange {
                start: 0,
                end: meta.size.saturating_sub(1),
            },
        ),
    };
    let length = if meta.size == 0 { 0 } else { span.len() };
    let body = if with_body && length > 0 {
        file.seek(std::io::SeekFrom::Start(span.start))
            .await
            .map_err(|e| StoreError::Io {
                context: format!("reading /{bucket}/{key}"),
                source: e,
            })?;
        Body::from_stream(read_stream(file, length))
    } else {
        Body::empty()
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    set(&mut response, "content-length", &length.to_string());
    set(&mut response, "etag", &meta.etag);
    set(
        &mut response,
        "last-modified",
        &xml::http_date(meta.last_modified_ms),
    );
    set(&mut response, "accept-ranges", "bytes");
    if range.is_some() {
        set(
            &mut response,
            "content-range",
            &span.content_range(meta.size),
        );
    }
    if !meta.headers.contains_key("content-type") {
        set(&mut response, "content-type", "binary/octet-stream");
    }
    for (name, value) in &meta.headers {
        set(&mut response, name, value);
    }
    for (name, value) in &meta.user {
        set(&mut response, &format!("x-amz-meta-{name}"), value);
    }
    Ok(response)
}

/// `length` bytes of `file` from where it stands, in pieces.
fn read_stream(
    file: tokio::fs::File,
    length: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold((file, length), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let want = usize::try_from(left).unwrap_or(READ_CHUNK).min(READ_CHUNK);
        let mut buffer = vec![0; want];
        match file.read(&mut buffer).await {
            Ok(0) => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the object is shorter than recorded",
                )),
                (file, 0),
            )),
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok(Bytes::from(buffer)), (file, left - read as u64)))
            }
            Err(error) => Some((Err(error), (file, 0))),
        }
    })
}

fn set(response: &mut Response, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        header::HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        response.headers_mut().insert(name, value);
    }
}

fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

fn xml_response(body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

fn with_ids(mut response: Response, id: &str) -> Response {
    set(&mut response, "x-amz-request-id", id);
    set(&mut response, "x-amz-id-2", id);
    response
        .headers_mut()
        .insert(header::SERVER, HeaderValue::from_static("AmazonS3"));
    response
}

fn failed(
    operation: &Operation,
    error: &S3Error,
    id: &str,
    method: &axum::http::Method,
) -> Response {
    error_response(error, &operation.resource(), operation.bucket(), id, method)
}

/// S3's error document with the code's status (no body for HEAD, as S3 does).
fn error_response(
    error: &S3Error,
    resource: &str,
    bucket: Option<&str>,
    id: &str,
    method: &axum::http::Method,
) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = if method == axum::http::Method::HEAD {
        empty(status)
    } else {
        let mut response = xml_response(xml::error(error, resource, bucket, id));
        *response.status_mut() = status;
        response
    };
    if error.code == ErrorCode::InvalidRange {
        set(&mut response, "content-range", "bytes */*");
    }
    with_ids(response, id)
}
