//! Writes the run's [`Checkpoint`] through `object_store`: a local directory by default,
//! S3 (or anything S3-compatible, such as the local cloud) with an `s3://` URL.
//!
//! The object is `<prefix>/<instance id or "local">/<run id>.json`. S3 credentials,
//! region and endpoint come from the usual `AWS_*` environment variables.

use agent_wire::Checkpoint;
use anyhow::Context;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use url::Url;

/// The default location: `checkpoints/` under the current directory (on a local
/// instance, that is the instance's own directory).
pub fn default_url() -> anyhow::Result<String> {
    let dir = std::env::current_dir()
        .context("reading the current directory")?
        .join("checkpoints");
    Url::from_directory_path(&dir)
        .map(String::from)
        .map_err(|()| anyhow::anyhow!("{} is not an absolute path", dir.display()))
}

/// Writes `checkpoint` under `base`; returns the full location written.
pub async fn write(base: &str, checkpoint: &Checkpoint) -> anyhow::Result<String> {
    let url =
        Url::parse(base).with_context(|| format!("checkpoint location {base:?} is not a URL"))?;
    if url.scheme() == "file" {
        // object_store's local store needs the directory to exist.
        let dir = url
            .to_file_path()
            .map_err(|()| anyhow::anyhow!("checkpoint location {base:?} is not a local path"))?;
        tokio::fs::create_dir_all(&dir)
            .await
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options: Vec<(String, String)> = std::env::vars()
        .filter(|(key, _)| key.starts_with("AWS_"))
        .map(|(key, value)| (key.to_ascii_lowercase(), value))
        .collect();
    // A plain-HTTP endpoint (the local cloud) is only usable if allowed explicitly.
    if options
        .iter()
        .any(|(key, value)| key.starts_with("aws_endpoint") && value.starts_with("http://"))
        && !options.iter().any(|(key, _)| key == "aws_allow_http")
    {
        options.push(("aws_allow_http".to_owned(), "true".to_owned()));
    }
    let (store, prefix) = object_store::parse_url_opts(&url, options)
        .with_context(|| format!("opening checkpoint store {base}"))?;
    let holder = checkpoint
        .source
        .instance_id
        .clone()
        .unwrap_or_else(|| "local".to_owned());
    let key: Path = prefix
        .clone()
        .join(holder.as_str())
        .join(format!("{}.json", checkpoint.source.run_id).as_str());
    let body = serde_json::to_vec_pretty(checkpoint).context("serialising the checkpoint")?;
    store
        .put(&key, PutPayload::from(body))
        .await
        .with_context(|| format!("writing checkpoint {key} to {base}"))?;
    let mut location = url.clone();
    location.set_path(&format!("/{key}"));
    Ok(location.to_string())
}
