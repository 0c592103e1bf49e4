//! The local cloud's S3 through its real clients: aws-sdk-s3 (path-style, its PutObject
//! bodies `aws-chunked` with a trailing checksum) and object_store's AmazonS3 (what the
//! agent's checkpoint writes with), against a control plane started in-process on
//! 127.0.0.1:0; plus a hand-framed signed `aws-chunked` upload and the error document
//! as bytes.

mod support;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CreateBucketConfiguration, Delete, ObjectIdentifier, Tag, Tagging};
use aws_wire::s3::checksum::{etag_of, md5_of};
use futures_util::TryStreamExt as _;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use support::Cloud;

fn s3(cloud: &Cloud) -> Client {
    Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(format!("http://{}", cloud.running.addr))
            .credentials_provider(Credentials::new("spotlab", "spotlab", None, None, "test"))
            .force_path_style(true)
            .build(),
    )
}

/// Bytes that are not all alike, so a misplaced range shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

async fn put(client: &Client, bucket: &str, key: &str, body: &[u8]) {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {}", aws_sdk_s3::error::DisplayErrorContext(e)));
}

async fn get(client: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key}: {}", aws_sdk_s3::error::DisplayErrorContext(e)));
    out.body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_are_created_tagged_listed_and_deleted() {
    let cloud = Cloud::start(1, 7, |_| {}).await;
    let client = s3(&cloud);

    client
        .create_bucket()
        .bucket("checkpoints")
        .send()
        .await
        .expect("create");
    let again = client
        .create_bucket()
        .bucket("checkpoints")
        .send()
        .await
        .expect_err("exists");
    assert!(
        again
            .as_service_error()
            .is_some_and(|e| e.is_bucket_already_owned_by_you()),
        "{again:?}"
    );
    client
        .create_bucket()
        .bucket("in-ireland")
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint("eu-west-1".into())
                .build(),
        )
        .send()
        .await
        .expect("create with a configuration");
    let invalid = client
        .create_bucket()
        .bucket("ab")
        .send()
        .await
        .expect_err("too short");
    assert_eq!(invalid.code(), Some("InvalidBucketName"));

    let head = client
        .head_bucket()
        .bucket("in-ireland")
        .send()
        .await
        .expect("head");
    assert_eq!(head.bucket_region(), Some("eu-west-1"));
    let missing = client
        .head_bucket()
        .bucket("nowhere")
        .send()
        .await
        .expect_err("no such bucket");
    assert!(
        missing.as_service_error().is_some_and(|e| e.is_not_found()),
        "{missing:?}"
    );

    let no_tags = client
        .get_bucket_tagging()
        .bucket("checkpoints")
        .send()
        .await
        .expect_err("no tags yet");
    assert_eq!(no_tags.code(), Some("NoSuchTagSet"));
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().expect("tag");
    client
        .put_bucket_tagging()
        .bucket("checkpoints")
        .tagging(
            Tagging::builder()
                .tag_set(tag("project", "spotlab"))
                .tag_set(tag("note", "a & b <c>"))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("tag");
    let tags = client
        .get_bucket_tagging()
        .bucket("checkpoints")
        .send()
        .await
        .expect("tags");
    let pairs: Vec<(&str, &str)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(pairs, vec![("project", "spotlab"), ("note", "a & b <c>")]);
    client
        .delete_bucket_tagging()
        .bucket("checkpoints")
        .send()
        .await
        .expect("untag");
    let gone = client
        .get_bucket_tagging()
        .bucket("checkpoints")
        .send()
        .await
        .expect_err("tags removed");
    assert_eq!(gone.code(), Some("NoSuchTagSet"));

    let listed = client.list_buckets().send().await.expect("list");
    let names: Vec<&str> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, vec!["checkpoints", "in-ireland"]);
    assert!(listed.buckets()[0].creation_date().is_some());

    put(&client, "checkpoints", "one", b"1").await;
    let not_empty = client
        .delete_bucket()
        .bucket("checkpoints")
        .send()
        .await
        .expect_err("has an object");
    assert_eq!(not_empty.code(), Some("BucketNotEmpty"));
    assert_eq!(
        not_empty.raw_response().map(|r| r.status().as_u16()),
        Some(409)
    );
    client
        .delete_object()
        .bucket("checkpoints")
        .key("one")
        .send()
        .await
        .expect("delete object");
    client
        .delete_bucket()
        .bucket("checkpoints")
        .send()
        .await
        .expect("delete bucket");
    let missing = client
        .delete_bucket()
        .bucket("checkpoints")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(missing.code(), Some("NoSuchBucket"));
    let listed = client.list_buckets().send().await.expect("list");
    assert_eq!(listed.buckets().len(), 1);
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_are_written_read_listed_copied_and_deleted() {
    let cloud = Cloud::start(1, 7, |_| {}).await;
    let client = s3(&cloud);
    client
        .create_bucket()
        .bucket("data")
        .send()
        .await
        .expect("create");

    let body = pattern(1000);
    client
        .put_object()
        .bucket("data")
        .key("dir/a b+c.json")
        .body(ByteStream::from(body.clone()))
        .content_type("application/json")
        .metadata("owner", "spotlab")
        .send()
        .await
        .expect("put");
    let head = client
        .head_object()
        .bucket("data")
        .key("dir/a b+c.json")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_length(), Some(1000));
    assert_eq!(head.e_tag(), Some(etag_of(&md5_of(&body)).as_str()));
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("owner"))
            .map(String::as_str),
        Some("spotlab")
    );
    assert!(head.last_modified().is_some());
    assert_eq!(get(&client, "data", "dir/a b+c.json").await, body);

    let ranged = client
        .get_object()
        .bucket("data")
        .key("dir/a b+c.json")
        .range("bytes=2-5")
        .send()
        .await
        .expect("range");
    assert_eq!(ranged.content_range(), Some("bytes 2-5/1000"));
    assert_eq!(ranged.content_length(), Some(4));
    let part = ranged.body.collect().await.expect("body").into_bytes();
    assert_eq!(&part[..], &body[2..6]);
    let past = client
        .get_object()
        .bucket("data")
        .key("dir/a b+c.json")
        .range("bytes=1000-")
        .send()
        .await
        .expect_err("past the end");
    assert_eq!(past.code(), Some("InvalidRange"));

    for key in ["dir/sub/x", "dir/sub/y", "dir/z", "top", "ünïcödé/ключ"] {
        put(&client, "data", key, key.as_bytes()).await;
    }
    let rolled = client
        .list_objects_v2()
        .bucket("data")
        .prefix("dir/")
        .delimiter("/")
        .send()
        .await
        .expect("list");
    let keys: Vec<&str> = rolled.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<&str> = rolled
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(keys, vec!["dir/a b+c.json", "dir/z"]);
    assert_eq!(prefixes, vec!["dir/sub/"]);
    assert_eq!(rolled.key_count(), Some(3));
    assert_eq!(rolled.is_truncated(), Some(false));
    assert_eq!(rolled.contents()[0].size(), Some(1000));

    let pages: Vec<_> = client
        .list_objects_v2()
        .bucket("data")
        .max_keys(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("pages");
    assert_eq!(pages.len(), 3);
    assert!(pages[0].is_truncated() == Some(true) && pages[0].key_count() == Some(2));
    let all: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.contents().iter().filter_map(|o| o.key()))
        .collect();
    assert_eq!(
        all,
        vec![
            "dir/a b+c.json",
            "dir/sub/x",
            "dir/sub/y",
            "dir/z",
            "top",
            "ünïcödé/ключ"
        ]
    );
    let after = client
        .list_objects_v2()
        .bucket("data")
        .start_after("dir/z")
        .send()
        .await
        .expect("start after");
    assert_eq!(after.key_count(), Some(2));
    assert_eq!(
        get(&client, "data", "ünïcödé/ключ").await,
        "ünïcödé/ключ".as_bytes()
    );

    let copied = client
        .copy_object()
        .bucket("data")
        .key("copies/a")
        .copy_source("data/dir/a%20b%2Bc.json")
        .send()
        .await
        .expect("copy");
    assert_eq!(
        copied.copy_object_result().and_then(|r| r.e_tag()),
        Some(etag_of(&md5_of(&body)).as_str())
    );
    let copy_head = client
        .head_object()
        .bucket("data")
        .key("copies/a")
        .send()
        .await
        .expect("head copy");
    assert_eq!(copy_head.content_type(), Some("application/json"));
    assert_eq!(get(&client, "data", "copies/a").await, body);

    client
        .delete_object()
        .bucket("data")
        .key("copies/a")
        .send()
        .await
        .expect("delete");
    client
        .delete_object()
        .bucket("data")
        .key("never-was")
        .send()
        .await
        .expect("deleting what is absent succeeds");
    let missing = client
        .get_object()
        .bucket("data")
        .key("copies/a")
        .send()
        .await
        .expect_err("deleted");
    assert!(
        missing
            .as_service_error()
            .is_some_and(|e| e.is_no_such_key()),
        "{missing:?}"
    );
    let id = |key: &str| ObjectIdentifier::builder().key(key).build().expect("id");
    let deleted = client
        .delete_objects()
        .bucket("data")
        .delete(
            Delete::builder()
                .objects(id("dir/sub/x"))
                .objects(id("dir/sub/y"))
                .objects(id("not-there"))
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("delete objects");
    assert_eq!(deleted.deleted().len(), 3);
    assert!(deleted.errors().is_empty());
    let left = client
        .list_objects_v2()
        .bucket("data")
        .send()
        .await
        .expect("list");
    assert_eq!(left.key_count(), Some(4));
    let no_bucket = client
        .list_objects_v2()
        .bucket("nope")
        .send()
        .await
        .expect_err("no bucket");
    assert!(
        no_bucket
            .as_service_error()
            .is_some_and(|e| e.is_no_such_bucket()),
        "{no_bucket:?}"
    );
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_megabyte_upload_survives_a_restart() {
    let dir = tempfile::tempdir().expect("state dir");
    let state = dir.path().to_owned();
    let cloud = Cloud::start(1, 7, |c| c.state_dir = state.clone()).await;
    let client = s3(&cloud);
    client
        .create_bucket()
        .bucket("agents")
        .send()
        .await
        .expect("create");
    // From a file, as `spotlab stack up` uploads the agent binary: a streamed body.
    let body = pattern(6 * 1024 * 1024 + 17);
    let file = dir.path().join("upload.bin");
    std::fs::write(&file, &body).expect("write the upload");
    let put = client
        .put_object()
        .bucket("agents")
        .key("bin/spotlab")
        .body(ByteStream::from_path(&file).await.expect("file body"))
        .send()
        .await
        .expect("put");
    let etag = etag_of(&md5_of(&body));
    assert_eq!(put.e_tag(), Some(etag.as_str()));
    assert_eq!(get(&client, "agents", "bin/spotlab").await, body);
    cloud.stop().await;

    let cloud = Cloud::start(1, 7, |c| c.state_dir = state.clone()).await;
    let client = s3(&cloud);
    let head = client
        .head_object()
        .bucket("agents")
        .key("bin/spotlab")
        .send()
        .await
        .expect("still there");
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(get(&client, "agents", "bin/spotlab").await, body);
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_writes_checkpoints_as_the_agent_does() {
    let cloud = Cloud::start(1, 7, |_| {}).await;
    s3(&cloud)
        .create_bucket()
        .bucket("checkpoints")
        .send()
        .await
        .expect("create");
    let store = AmazonS3Builder::new()
        .with_endpoint(format!("http://{}", cloud.running.addr))
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_region("us-east-1")
        .with_bucket_name("checkpoints")
        .with_access_key_id("spotlab")
        .with_secret_access_key("spotlab")
        .build()
        .expect("store");
    let key = Path::from("run-1/i-0123/42.json");
    let body = br#"{"sent": 10, "ok": 9}"#.to_vec();
    store
        .put(&key, PutPayload::from(body.clone()))
        .await
        .expect("put");
    store
        .put(
            &Path::from("run-1/local/43.json"),
            PutPayload::from_static(b"{}"),
        )
        .await
        .expect("put");
    let got = store
        .get(&key)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(&got[..], &body[..]);
    let listed: Vec<_> = store
        .list(Some(&Path::from("run-1")))
        .try_collect()
        .await
        .expect("list");
    let mut locations: Vec<String> = listed.iter().map(|m| m.location.to_string()).collect();
    locations.sort();
    assert_eq!(
        locations,
        vec!["run-1/i-0123/42.json", "run-1/local/43.json"]
    );
    assert_eq!(
        listed.iter().map(|m| m.size).sum::<u64>(),
        body.len() as u64 + 2
    );
    store.delete(&key).await.expect("delete");
    let missing = store.get(&key).await.expect_err("deleted");
    assert!(
        matches!(missing, object_store::Error::NotFound { .. }),
        "{missing:?}"
    );
    cloud.stop().await;
}

/// A request the router sends to S3 (its scope says `s3`; the cloud checks no
/// signature unless told to).
fn raw(client: &reqwest::Client, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
    client.request(method, url).header(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=spotlab/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_chunks_are_decoded_and_errors_are_s3s_document() {
    let cloud = Cloud::start(1, 7, |_| {}).await;
    let base = format!("http://{}", cloud.running.addr);
    let http = reqwest::Client::new();
    let created = raw(&http, reqwest::Method::PUT, format!("{base}/raw"))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 200);

    let sig = "0".repeat(64);
    let payload = pattern(70_000);
    let mut body = Vec::new();
    for piece in payload.chunks(65_536) {
        body.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", piece.len()).as_bytes());
        body.extend_from_slice(piece);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("0;chunk-signature={sig}\r\n\r\n").as_bytes());
    let put = raw(&http, reqwest::Method::PUT, format!("{base}/raw/signed"))
        .header("content-encoding", "aws-chunked")
        .header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        .header("x-amz-decoded-content-length", payload.len().to_string())
        .body(body)
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), 200);
    let etag = etag_of(&md5_of(&payload));
    assert_eq!(
        put.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some(etag.as_str())
    );
    let got = raw(&http, reqwest::Method::GET, format!("{base}/raw/signed"))
        .send()
        .await
        .expect("get");
    assert!(got.headers().get("content-encoding").is_none());
    assert_eq!(got.bytes().await.expect("bytes").to_vec(), payload);

    let bad_crc = raw(&http, reqwest::Method::PUT, format!("{base}/raw/bad"))
        .header("content-encoding", "aws-chunked")
        .header("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        .header("x-amz-trailer", "x-amz-checksum-crc32")
        .body("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n")
        .send()
        .await
        .expect("put");
    assert_eq!(bad_crc.status(), 400);
    assert!(
        bad_crc
            .text()
            .await
            .expect("text")
            .contains("<Code>BadDigest</Code>"),
        "a wrong trailing checksum is refused"
    );

    let missing = raw(&http, reqwest::Method::GET, format!("{base}/nowhere/key"))
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status(), 404);
    let text = missing.text().await.expect("text");
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>nowhere</BucketName><Resource>/nowhere/key</Resource><RequestId>"),
        "{text}"
    );
    // Requests not signed for S3 still reach the other services' routes.
    let health = http
        .get(format!("{base}/spotlab/v1/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_credentials_are_checked() {
    let cloud = Cloud::start(1, 7, |c| {
        c.require_auth = Some(aws_wire::sigv4::Credentials {
            access_key_id: "AKIDSPOTLAB".to_owned(),
            secret_access_key: "right".to_owned(),
        });
    })
    .await;
    let client = |secret: &str| {
        Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(format!("http://{}", cloud.running.addr))
                .credentials_provider(Credentials::new("AKIDSPOTLAB", secret, None, None, "test"))
                .force_path_style(true)
                .build(),
        )
    };
    let good = client("right");
    good.create_bucket()
        .bucket("signed")
        .send()
        .await
        .expect("create");
    // A signed payload (in memory) and a streamed one (aws-chunked, from a file).
    put(&good, "signed", "small", b"small").await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("big");
    let body = pattern(200_000);
    std::fs::write(&file, &body).expect("write");
    good.put_object()
        .bucket("signed")
        .key("big")
        .body(ByteStream::from_path(&file).await.expect("file body"))
        .send()
        .await
        .expect("streamed put");
    assert_eq!(get(&good, "signed", "big").await, body);
    let bad = client("wrong");
    let refused = bad
        .list_objects_v2()
        .bucket("signed")
        .send()
        .await
        .expect_err("wrong secret");
    assert_eq!(refused.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(
        refused.raw_response().map(|r| r.status().as_u16()),
        Some(403)
    );
    cloud.stop().await;
}
