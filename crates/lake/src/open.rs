//! Building a [`Lake`] from `[lake]` configuration: the one place that reads `lake.*` keys.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use atl_core::{LakeConfig, Secret};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;

use crate::{Lake, LakeError};

/// Where the objects live.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    /// A folder: `file://data/lake` (relative to the current folder) or `file:///srv/lake`.
    Local {
        root: PathBuf,
        /// Whether opening the lake created the folder (reported by `init`).
        created: bool,
    },
    /// A bucket on AWS S3 or an S3-compatible server (MinIO, moto), addressed path-style.
    S3(S3Target),
}

/// What it takes to talk to a bucket outside object_store (bucket creation).
#[derive(Debug, Clone)]
pub(crate) struct S3Target {
    pub(crate) bucket: String,
    /// `http://127.0.0.1:9000`, or AWS's regional endpoint when `lake.endpoint` is `aws`.
    pub(crate) endpoint: String,
    pub(crate) region: String,
    pub(crate) access_key: String,
    pub(crate) secret_key: Secret,
}

impl Lake {
    /// Opens the lake `config.url` names. A `file://` folder must exist
    /// ([`LakeError::NoFolder`] otherwise: a mistyped path is not an empty lake); an S3
    /// bucket is not touched (see [`Lake::init`]).
    pub fn open(config: &LakeConfig) -> Result<Lake, LakeError> {
        Lake::open_with(config, false)
    }

    /// Like [`Lake::open`], but creates a missing `file://` folder (for `atl-lake init` and
    /// the ingest that fills a new lake; [`Lake::init`] says whether it was created).
    pub fn create(config: &LakeConfig) -> Result<Lake, LakeError> {
        Lake::open_with(config, true)
    }

    fn open_with(config: &LakeConfig, create: bool) -> Result<Lake, LakeError> {
        let url = config.url.trim();
        let bad = |reason: &str| LakeError::Url { url: url.to_owned(), reason: reason.to_owned() };
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                return Err(bad("file:// needs a folder, e.g. file://data/lake"));
            }
            let path = Path::new(path);
            return if create { Lake::create_folder(path) } else { Lake::open_folder(path) };
        }
        let Some(bucket) = url.strip_prefix("s3://") else {
            return Err(bad("must start with file:// or s3://"));
        };
        let bucket = bucket.trim_end_matches('/');
        if bucket.is_empty() || bucket.contains('/') {
            return Err(bad("write an S3 lake as s3://bucket (no key prefix)"));
        }
        let region = if config.region.is_empty() { "us-east-1".to_owned() } else { config.region.clone() };
        // An empty endpoint is a missing override, not a wish for AWS: the configured keys
        // would go to AWS. AWS is asked for by name.
        let endpoint = match config.endpoint.trim() {
            "" => {
                return Err(bad(
                    "lake.endpoint is empty: set the S3 server's URL (e.g. http://127.0.0.1:9000), \
                     or \"aws\" for AWS S3 in lake.region",
                ));
            }
            e if e.eq_ignore_ascii_case("aws") => format!("https://s3.{region}.amazonaws.com"),
            e => e.trim_end_matches('/').to_owned(),
        };
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(bad("lake.endpoint must be an http:// or https:// URL"));
        }
        if config.has_default_keys() && !is_local(&endpoint) {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                tracing::warn!(
                    "lake.access_key and lake.secret_key are the built-in defaults (the compose stack's \
                     MinIO), sent to {endpoint}: set ATL__LAKE__ACCESS_KEY and ATL__LAKE__SECRET_KEY"
                )
            });
        }
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&region)
            .with_endpoint(&endpoint)
            // MinIO and moto serve buckets as paths: http://host:9000/bucket/key.
            .with_virtual_hosted_style_request(false)
            .with_allow_http(config.allow_http);
        if !config.access_key.is_empty() {
            builder = builder
                .with_access_key_id(&config.access_key)
                .with_secret_access_key(config.secret_key.expose());
        }
        let target = S3Target {
            bucket: bucket.to_owned(),
            endpoint,
            region,
            access_key: config.access_key.clone(),
            secret_key: config.secret_key.clone(),
        };
        let lake_name = format!("s3://{bucket}");
        let store = builder
            .build()
            .map_err(|source| LakeError::Open { lake: lake_name, source: Box::new(source) })?;
        Ok(Lake { store: Arc::new(store), backend: Backend::S3(target) })
    }

    /// Opens the lake in an existing local folder.
    pub fn open_folder(path: &Path) -> Result<Lake, LakeError> {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Lake::folder(path, false),
            Ok(_) => Err(LakeError::Folder {
                path: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
                source: std::io::Error::other("it is a file, not a folder"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(LakeError::NoFolder {
                path: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
            }),
            Err(source) => Err(LakeError::Folder { path: path.to_owned(), source }),
        }
    }

    /// Opens the lake in a local folder, creating it (and its parents) when missing.
    pub fn create_folder(path: &Path) -> Result<Lake, LakeError> {
        let created = !path.is_dir();
        std::fs::create_dir_all(path)
            .map_err(|source| LakeError::Folder { path: path.to_owned(), source })?;
        Lake::folder(path, created)
    }

    fn folder(path: &Path, created: bool) -> Result<Lake, LakeError> {
        let folder_error = |source| LakeError::Folder { path: path.to_owned(), source };
        let root = path.canonicalize().map_err(folder_error)?;
        let store = LocalFileSystem::new_with_prefix(&root)
            .map_err(|source| LakeError::Open {
                lake: format!("file://{}", root.display()),
                source: Box::new(source),
            })?
            // `rm` of a month's last object removes its now empty year folder.
            .with_automatic_cleanup(true);
        let store: Arc<dyn ObjectStore> = Arc::new(store);
        Ok(Lake { store, backend: Backend::Local { root, created } })
    }
}

/// Whether an endpoint URL names this machine (or the compose stack's `minio` service).
fn is_local(endpoint: &str) -> bool {
    let host = endpoint.split_once("://").map_or(endpoint, |(_, rest)| rest);
    let host = host.split(['/', '?']).next().unwrap_or_default();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    matches!(host, "localhost" | "minio" | "::1") || host.starts_with("127.")
}
