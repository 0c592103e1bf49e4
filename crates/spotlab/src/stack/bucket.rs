//! The stack's S3 bucket through aws-sdk-s3: where agents write their checkpoints and,
//! when the file names a key for it, where instances fetch spotlab's binary from (the
//! walkthrough's bucket holds its scripts the same way). Tagged with the stack's name,
//! which is how `cleanup` finds it; `down` empties it before deleting it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, ensure};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, Tag, Tagging,
};
use serde::Serialize;
use sha2::Digest as _;

use super::note;
use super::spec::{Bucket, STACK_TAG, Stack};
use crate::aws::Context as _;

/// The user metadata key holding the SHA-256 of the agent binary put in the bucket, so
/// `up` uploads it again only when it changed.
const DIGEST_METADATA: &str = "spotlab-sha256";

/// The bucket's outputs.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketOutput {
    /// The bucket's name.
    pub bucket_name: String,
    /// Where the agent's binary is, as `s3://BUCKET/KEY`, when the file asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_object: Option<String>,
}

/// The bucket's tags, read with GetBucketTagging: `None` when it has none.
async fn tags(s3: &Client, bucket: &str) -> anyhow::Result<Option<Vec<Tag>>> {
    match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(found) => Ok(Some(found.tag_set().to_vec())),
        Err(error)
            if aws_sdk_s3::error::ProvideErrorMetadata::code(&error) == Some("NoSuchTagSet") =>
        {
            Ok(None)
        }
        Err(error) => Err(error).doing(|| format!("reading the tags of bucket {bucket}")),
    }
}

fn owner(tags: Option<&[Tag]>) -> Option<&str> {
    tags?
        .iter()
        .find(|t| t.key() == STACK_TAG)
        .map(|t| t.value())
}

/// Whether the bucket exists (and is ours to use: S3 answers 403 for another
/// account's).
async fn exists(s3: &Client, bucket: &str) -> anyhow::Result<bool> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(error) => {
            let status = error.raw_response().map(|r| r.status().as_u16());
            match status {
                Some(404) => Ok(false),
                Some(403) => anyhow::bail!(
                    "bucket {bucket} exists and belongs to someone else (bucket names are \
                     global: pick another name)"
                ),
                _ => Err(error).doing(|| format!("looking for bucket {bucket}")),
            }
        }
    }
}

/// Creates the bucket when missing (in the client's region), tags it, and puts the
/// agent's binary at the file's key when it is not there already.
pub async fn up(
    s3: &Client,
    stack: &Stack,
    bucket: &Bucket,
    agent_binary: &Path,
) -> anyhow::Result<BucketOutput> {
    let name = &bucket.name;
    if exists(s3, name).await? {
        let found = tags(s3, name).await?;
        let owner = owner(found.as_deref());
        ensure!(
            owner == Some(stack.name.as_str()),
            "a bucket named {name} already exists and is not stack {}'s (its tag {STACK_TAG} is \
             {owner:?})",
            stack.name
        );
    } else {
        // us-east-1 takes no location constraint; every other region needs its own.
        let region = s3.config().region().map(|r| r.as_ref().to_owned());
        let configuration = region.filter(|r| r != "us-east-1").map(|r| {
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(r.as_str()))
                .build()
        });
        s3.create_bucket()
            .bucket(name)
            .set_create_bucket_configuration(configuration)
            .send()
            .await
            .doing(|| format!("creating bucket {name}"))?;
        note(stack, &format!("created bucket {name}"));
    }
    let tag_set = std::iter::once((STACK_TAG, stack.name.as_str()))
        .chain(
            bucket
                .tags
                .iter()
                .map(|t| (t.key.as_str(), t.value.as_str())),
        )
        .map(|(key, value)| Ok(Tag::builder().key(key).value(value).build()?))
        .collect::<anyhow::Result<Vec<_>>>()?;
    s3.put_bucket_tagging()
        .bucket(name)
        .tagging(Tagging::builder().set_tag_set(Some(tag_set)).build()?)
        .send()
        .await
        .doing(|| format!("tagging bucket {name}"))?;
    let agent_object = match &bucket.agent_key {
        Some(key) => {
            put_agent(s3, stack, name, key, agent_binary).await?;
            Some(format!("s3://{name}/{key}"))
        }
        None => None,
    };
    Ok(BucketOutput {
        bucket_name: name.clone(),
        agent_object,
    })
}

/// Puts the binary at `key` unless an object there already has its digest.
async fn put_agent(
    s3: &Client,
    stack: &Stack,
    bucket: &str,
    key: &str,
    binary: &Path,
) -> anyhow::Result<()> {
    let bytes = tokio::fs::read(binary)
        .await
        .with_context(|| format!("cannot read the agent binary {}", binary.display()))?;
    let digest: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let current = match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(head) => head
            .metadata()
            .and_then(|m| m.get(DIGEST_METADATA))
            .cloned(),
        Err(error) if error.raw_response().map(|r| r.status().as_u16()) == Some(404) => None,
        Err(error) => return Err(error).doing(|| format!("looking for s3://{bucket}/{key}")),
    };
    if current.as_deref() == Some(digest.as_str()) {
        return Ok(());
    }
    let size = bytes.len();
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/octet-stream")
        .metadata(DIGEST_METADATA, &digest)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .doing(|| format!("putting {} at s3://{bucket}/{key}", binary.display()))?;
    note(
        stack,
        &format!(
            "put the agent binary ({:.1} MB) at s3://{bucket}/{key}",
            size as f64 / 1e6
        ),
    );
    Ok(())
}

/// Empties the bucket and deletes it; it may already be gone. Only a bucket carrying
/// the stack's tag is touched.
pub async fn down(s3: &Client, stack: &Stack, bucket: &str) -> anyhow::Result<()> {
    if !exists(s3, bucket).await? {
        return Ok(());
    }
    let found = tags(s3, bucket).await?;
    let owner = owner(found.as_deref());
    ensure!(
        owner == Some(stack.name.as_str()),
        "bucket {bucket} is not stack {}'s (its tag {STACK_TAG} is {owner:?}): not deleting it",
        stack.name
    );
    let mut removed = 0usize;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .doing(|| format!("listing the objects of bucket {bucket}"))?;
        let keys: Vec<ObjectIdentifier> = page
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<_, _>>()?;
        if keys.is_empty() {
            break;
        }
        removed += keys.len();
        let answer = s3
            .delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(keys))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .doing(|| format!("deleting the objects of bucket {bucket}"))?;
        if let Some(failed) = answer.errors().first() {
            anyhow::bail!(
                "deleting s3://{bucket}/{}: {}: {}",
                failed.key().unwrap_or_default(),
                failed.code().unwrap_or_default(),
                failed.message().unwrap_or_default()
            );
        }
    }
    s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .doing(|| format!("deleting bucket {bucket}"))?;
    note(
        stack,
        &format!("deleted bucket {bucket} ({removed} object(s) in it)"),
    );
    Ok(())
}

/// The account's buckets that carry a stack's tag: stack name to bucket names. A bucket
/// whose tags cannot be read here (another region's, no permission) is skipped.
pub async fn tagged(s3: &Client) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let listed = s3
        .list_buckets()
        .send()
        .await
        .doing(|| "listing buckets".to_owned())?;
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for bucket in listed.buckets() {
        let Some(name) = bucket.name() else { continue };
        let Ok(tags) = tags(s3, name).await else {
            continue;
        };
        if let Some(stack) = owner(tags.as_deref()) {
            found
                .entry(stack.to_owned())
                .or_default()
                .push(name.to_owned());
        }
    }
    Ok(found)
}
