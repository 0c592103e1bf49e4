//! S3's buckets and objects as files under `<state dir>/s3/`, durable by nature and
//! not journaled (S3 is outside the region's deterministic state machine):
//!
//! ```text
//! s3/tmp/                              uploads in progress, buckets being created
//! s3/buckets/<bucket>/bucket.json      creation time, region, tags
//! s3/buckets/<bucket>/objects/<stem>.json   one object's metadata, naming its blob
//! s3/buckets/<bucket>/blobs/<uuid>     one object's bytes
//! ```
//!
//! A bucket name is checked against S3's rules before it names a directory, and a key
//! becomes a file name through [`key_file_stem`], so nothing escapes its bucket. An
//! object is committed by renaming its metadata into place (the blob was written and
//! synced before), so a reader sees the old object or the new one, never a mix; a
//! crash can leave an unreferenced blob, never a broken object. Changes of metadata are
//! serialised by one lock; uploads stream outside it.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use aws_wire::s3::names::{check_bucket_name, key_file_stem};
use aws_wire::s3::xml::{BucketSummary, ObjectSummary, Tag};
use aws_wire::s3::{ErrorCode, S3Error};
use serde::{Deserialize, Serialize};

/// A bucket's own file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BucketMeta {
    /// When it was created, ms since the Unix epoch (virtual time).
    pub created_ms: u64,
    /// Its region (the CreateBucketConfiguration's constraint, else the cloud's).
    pub region: String,
    /// Its tags; `None` when it has none.
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
}

/// An object's metadata file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ObjectMeta {
    /// Its key (the file name alone may be a hash).
    pub key: String,
    /// The blob holding its bytes, under `blobs/`.
    pub blob: String,
    /// Its ETag, quoted.
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was written, ms since the Unix epoch (virtual time).
    pub last_modified_ms: u64,
    /// The representation headers it was stored with (`content-type`, ...), names
    /// lowercased.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Its user metadata (`x-amz-meta-*` without the prefix).
    #[serde(default)]
    pub user: BTreeMap<String, String>,
}

impl ObjectMeta {
    /// As a listing shows it.
    pub fn summary(&self) -> ObjectSummary {
        ObjectSummary {
            key: self.key.clone(),
            etag: self.etag.clone(),
            size: self.size,
            last_modified_ms: self.last_modified_ms,
        }
    }
}

/// Every S3 bucket of one cloud.
pub(crate) struct Buckets {
    root: PathBuf,
    /// Serialises changes of metadata (bucket creation and deletion, commits, deletes).
    lock: tokio::sync::Mutex<()>,
}

/// A failure: S3's answer, or the disk's.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// An S3 error to answer with.
    #[error(transparent)]
    S3(#[from] S3Error),
    /// The disk failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Io { context, source }
}

fn json_error(path: &Path, error: serde_json::Error) -> StoreError {
    StoreError::Io {
        context: format!("reading {}", path.display()),
        source: std::io::Error::new(ErrorKind::InvalidData, error),
    }
}

/// A temporary file that is removed unless it was committed.
pub(crate) struct TempFile {
    /// Its path.
    pub path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Buckets {
    /// The buckets under `state_dir/s3`.
    pub fn new(state_dir: &Path) -> Buckets {
        Buckets {
            root: state_dir.join("s3"),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    fn buckets_dir(&self) -> PathBuf {
        self.root.join("buckets")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// A bucket's directory; only names S3 accepts name one.
    fn bucket_dir(&self, bucket: &str) -> Result<PathBuf, StoreError> {
        check_bucket_name(bucket).map_err(|_| S3Error::new(ErrorCode::NoSuchBucket))?;
        Ok(self.buckets_dir().join(bucket))
    }

    fn meta_path(&self, bucket: &str, key: &str) -> Result<PathBuf, StoreError> {
        Ok(self
            .bucket_dir(bucket)?
            .join("objects")
            .join(format!("{}.json", key_file_stem(key))))
    }

    /// A bucket's metadata; `NoSuchBucket` when there is no such bucket.
    pub async fn bucket(&self, bucket: &str) -> Result<BucketMeta, StoreError> {
        let path = self.bucket_dir(bucket)?.join("bucket.json");
        match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| json_error(&path, e)),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                Err(S3Error::new(ErrorCode::NoSuchBucket).into())
            }
            Err(e) => Err(io(format!("reading {}", path.display()))(e)),
        }
    }

    /// Every bucket, by name.
    pub async fn list(&self) -> Result<Vec<BucketSummary>, StoreError> {
        let dir = self.buckets_dir();
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(format!("listing {}", dir.display()))(e)),
        };
        let mut names = Vec::new();
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(io(format!("listing {}", dir.display())))?
        {
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_owned());
            }
        }
        names.sort();
        let mut out = Vec::new();
        for name in names {
            match self.bucket(&name).await {
                Ok(meta) => out.push(BucketSummary {
                    name,
                    created_ms: meta.created_ms,
                    region: meta.region,
                }),
                Err(StoreError::S3(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Creates a bucket: `BucketAlreadyOwnedByYou` if it exists. It appears whole: its
    /// directory is built under `tmp/` and renamed into place.
    pub async fn create(&self, bucket: &str, meta: &BucketMeta) -> Result<(), StoreError> {
        let target = self.bucket_dir(bucket)?;
        let _guard = self.lock.lock().await;
        if tokio::fs::try_exists(&target).await.unwrap_or(false) {
            return Err(S3Error::new(ErrorCode::BucketAlreadyOwnedByYou).into());
        }
        let staging = self
            .tmp_dir()
            .join(uuid::Uuid::new_v4().simple().to_string());
        let context = format!("creating bucket {bucket}");
        for dir in [staging.join("objects"), staging.join("blobs")] {
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(io(context.clone()))?;
        }
        write_json(&staging.join("bucket.json"), meta).await?;
        tokio::fs::create_dir_all(self.buckets_dir())
            .await
            .map_err(io(context.clone()))?;
        tokio::fs::rename(&staging, &target)
            .await
            .map_err(io(context))?;
        Ok(())
    }

    /// Deletes an empty bucket: `BucketNotEmpty` while it has objects.
    pub async fn delete(&self, bucket: &str) -> Result<(), StoreError> {
        let dir = self.bucket_dir(bucket)?;
        let _guard = self.lock.lock().await;
        self.bucket(bucket).await?;
        if !self.object_files(bucket).await?.is_empty() {
            return Err(S3Error::new(ErrorCode::BucketNotEmpty).into());
        }
        // Renamed away first, so the bucket is gone at once even if removal stops.
        let doomed = self
            .tmp_dir()
            .join(uuid::Uuid::new_v4().simple().to_string());
        tokio::fs::create_dir_all(self.tmp_dir())
            .await
            .map_err(io("deleting a bucket"))?;
        tokio::fs::rename(&dir, &doomed)
            .await
            .map_err(io(format!("deleting bucket {bucket}")))?;
        tokio::fs::remove_dir_all(&doomed)
            .await
            .map_err(io(format!("deleting bucket {bucket}")))?;
        Ok(())
    }

    /// Replaces a bucket's tags (`None`: removes them).
    pub async fn set_tags(&self, bucket: &str, tags: Option<Vec<Tag>>) -> Result<(), StoreError> {
        let dir = self.bucket_dir(bucket)?;
        let _guard = self.lock.lock().await;
        let mut meta = self.bucket(bucket).await?;
        meta.tags = tags;
        write_json(&dir.join("bucket.json"), &meta).await
    }

    /// The metadata files of a bucket's objects.
    async fn object_files(&self, bucket: &str) -> Result<Vec<PathBuf>, StoreError> {
        let dir = self.bucket_dir(bucket)?.join("objects");
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(S3Error::new(ErrorCode::NoSuchBucket).into());
            }
            Err(e) => return Err(io(format!("listing {}", dir.display()))(e)),
        };
        let mut out = Vec::new();
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(io(format!("listing {}", dir.display())))?
        {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
        Ok(out)
    }

    /// Every object of a bucket, by key.
    pub async fn objects(&self, bucket: &str) -> Result<BTreeMap<String, ObjectMeta>, StoreError> {
        self.bucket(bucket).await?;
        let mut out = BTreeMap::new();
        for path in self.object_files(bucket).await? {
            match read_meta(&path).await? {
                Some(meta) => {
                    out.insert(meta.key.clone(), meta);
                }
                None => continue,
            }
        }
        Ok(out)
    }

    /// An object's metadata: `NoSuchBucket`, `NoSuchKey`.
    pub async fn object(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError> {
        self.bucket(bucket).await?;
        match read_meta(&self.meta_path(bucket, key)?).await? {
            Some(meta) if meta.key == key => Ok(meta),
            _ => Err(S3Error::new(ErrorCode::NoSuchKey).into()),
        }
    }

    /// Opens an object's bytes, with its metadata (a delete or overwrite may remove the
    /// blob between reading the metadata and opening it: then the metadata is read again).
    pub async fn open(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<(ObjectMeta, tokio::fs::File), StoreError> {
        for _ in 0..3 {
            let meta = self.object(bucket, key).await?;
            let path = self.blob_path(bucket, &meta.blob)?;
            match tokio::fs::File::open(&path).await {
                Ok(file) => return Ok((meta, file)),
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(io(format!("opening {}", path.display()))(e)),
            }
        }
        Err(S3Error::new(ErrorCode::NoSuchKey).into())
    }

    fn blob_path(&self, bucket: &str, blob: &str) -> Result<PathBuf, StoreError> {
        // A blob name is a UUID this store wrote; anything else is not followed.
        if blob.is_empty() || !blob.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(StoreError::Io {
                context: format!("object in {bucket}"),
                source: std::io::Error::new(ErrorKind::InvalidData, "bad blob name"),
            });
        }
        Ok(self.bucket_dir(bucket)?.join("blobs").join(blob))
    }

    /// A new temporary file for an upload.
    pub async fn temp_file(&self) -> Result<(TempFile, tokio::fs::File), StoreError> {
        let dir = self.tmp_dir();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(io(format!("creating {}", dir.display())))?;
        let path = dir.join(uuid::Uuid::new_v4().simple().to_string());
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(io(format!("creating {}", path.display())))?;
        Ok((TempFile { path, keep: false }, file))
    }

    /// Makes the (synced) temporary file `data` the object `meta.key`'s bytes, replacing
    /// any object of that key. `meta.blob` is set here.
    pub async fn commit(
        &self,
        bucket: &str,
        mut data: TempFile,
        mut meta: ObjectMeta,
    ) -> Result<(), StoreError> {
        let meta_path = self.meta_path(bucket, &meta.key)?;
        let _guard = self.lock.lock().await;
        self.bucket(bucket).await?;
        let old = read_meta(&meta_path).await?;
        meta.blob = uuid::Uuid::new_v4().simple().to_string();
        let blob = self.blob_path(bucket, &meta.blob)?;
        tokio::fs::rename(&data.path, &blob)
            .await
            .map_err(io(format!("storing {}", blob.display())))?;
        data.keep = true;
        if let Err(error) = write_json(&meta_path, &meta).await {
            let _ = tokio::fs::remove_file(&blob).await;
            return Err(error);
        }
        if let Some(old) = old
            && let Ok(path) = self.blob_path(bucket, &old.blob)
        {
            let _ = tokio::fs::remove_file(path).await;
        }
        Ok(())
    }

    /// Deletes an object; deleting one that does not exist succeeds.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        let meta_path = self.meta_path(bucket, key)?;
        let _guard = self.lock.lock().await;
        self.bucket(bucket).await?;
        let Some(old) = read_meta(&meta_path).await? else {
            return Ok(());
        };
        if old.key != key {
            return Ok(());
        }
        tokio::fs::remove_file(&meta_path)
            .await
            .map_err(io(format!("deleting {}", meta_path.display())))?;
        if let Ok(path) = self.blob_path(bucket, &old.blob) {
            let _ = tokio::fs::remove_file(path).await;
        }
        Ok(())
    }
}

/// Reads an object's metadata; `None` when there is none.
async fn read_meta(path: &Path) -> Result<Option<ObjectMeta>, StoreError> {
    match tokio::fs::read(path).await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| json_error(path, e)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(format!("reading {}", path.display()))(e)),
    }
}

/// Writes JSON atomically: a sibling temporary file, synced, renamed over `path`.
async fn write_json(path: &Path, value: &impl Serialize) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| json_error(path, e))?;
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let context = format!("writing {}", path.display());
    let result = async {
        use tokio::io::AsyncWriteExt as _;
        let mut file = tokio::fs::File::create(&tmp).await?;
        file.write_all(&bytes).await?;
        file.sync_all().await?;
        tokio::fs::rename(&tmp, path).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result.map_err(io(context))
}
