//! The ATL-Datamart data lake: TLC trip months and the zone table as objects, in a local
//! folder or an S3 bucket, written atomically and exactly once.
//!
//! Data flows one way through it: `atl-ingest` downloads a month into a staging file,
//! verifies it and hands it to [`Lake::put_file`]; the warehouse stage lists the months
//! with [`Lake::trip_files`] and streams them with parquet's async reader over
//! [`Lake::parquet_reader`] (or uses [`Lake::store`] directly), on either backend. Objects
//! follow the lake layout of `atl_core`: `{kind}/{YYYY}/{kind}_tripdata_{YYYY-MM}.parquet` and
//! `reference/taxi_zone_lookup.csv`.
//!
//! - `file://data/lake` (relative to the current folder) or `file:///srv/lake`: a folder,
//!   which [`Lake::open`] requires to exist and [`Lake::create`] creates; files staged in
//!   [`Lake::staging_dir`] are renamed into place.
//! - `s3://bucket` with `lake.endpoint`, `lake.region`, keys and `lake.allow_http`: AWS S3 or
//!   any S3 server (MinIO, moto), addressed path-style; [`Lake::init`] creates the bucket.
//!
//! Writes are atomic (an object is complete or absent: a rename, a single PUT, or an S3
//! multipart upload that only appears when completed) and idempotent (an object of the
//! same size is left alone).
//!
//! ```no_run
//! # async fn example() -> Result<(), atl_lake::LakeError> {
//! use atl_core::{AtlConfig, TripKind};
//! use atl_lake::Lake;
//!
//! let config = AtlConfig::load(None).expect("configuration");
//! let lake = Lake::create(&config.lake)?;
//! lake.init().await?;
//! for (file, meta) in lake.trip_files(TripKind::Yellow).await? {
//!     println!("{file}: {} bytes", meta.size);
//! }
//! # Ok(()) }
//! ```

mod bucket;
mod error;
mod inspect;
mod open;
mod provenance;
mod reader;
pub mod reference;
mod remove;
mod write;

use std::path::PathBuf;
use std::sync::Arc;

use atl_core::{TripFile, TripKind};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

pub use bucket::InitOutcome;
pub use error::LakeError;
pub use inspect::{Footer, LakeEntry, ObjectCheck, read_footer_from, zone_table_rows};
pub use object_store;
pub use provenance::SOURCE_PREFIX;
pub use reader::ParquetObject;
pub use remove::Removal;
pub use write::{PART_SIZE, PutOutcome};

use open::Backend;

/// Prefix of the reference tables (the zone lookup).
pub const REFERENCE_PREFIX: &str = "reference";

/// Folder of a `file://` lake where downloads are staged: inside the root, so committing a
/// file is a rename on the same filesystem. It is not part of the lake's key space.
pub const LOCAL_STAGING_FOLDER: &str = ".staging";

/// An opened data lake. Build it once from configuration with [`Lake::open`].
#[derive(Debug, Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    backend: Backend,
}

impl Lake {
    /// The object store behind the lake (keys are the lake keys, no prefix to add).
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The lake's location for logs: `file:///abs/path` or `s3://bucket at <endpoint>`;
    /// never a key or a secret.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Local { root, .. } => format!("file://{}", root.display()),
            Backend::S3(s3) => format!("s3://{} at {}", s3.bucket, s3.endpoint),
        }
    }

    /// The root folder of a `file://` lake; `None` for S3.
    pub fn local_root(&self) -> Option<&std::path::Path> {
        match &self.backend {
            Backend::Local { root, .. } => Some(root),
            Backend::S3(_) => None,
        }
    }

    /// A local folder where files bound for this lake can be staged before
    /// [`Lake::put_file`]: `<root>/.staging` for a `file://` lake (same filesystem: the commit
    /// is a rename), a folder under the system's temporary folder for S3. Not created here.
    pub fn staging_dir(&self) -> PathBuf {
        match &self.backend {
            Backend::Local { root, .. } => root.join(LOCAL_STAGING_FOLDER),
            Backend::S3(s3) => std::env::temp_dir().join("atl-staging").join(&s3.bucket),
        }
    }

    /// The object at `key`, or `None` when there is none.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, LakeError> {
        let path = object_path(key)?;
        match self.store.head(&path).await {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(source) => Err(self.store_error("head", key, source)),
        }
    }

    /// The trip files of `kind` in the lake, sorted by month. Objects under the kind's
    /// prefix that do not follow the lake layout are ignored.
    pub async fn trip_files(&self, kind: TripKind) -> Result<Vec<(TripFile, ObjectMeta)>, LakeError> {
        let mut files: Vec<(TripFile, ObjectMeta)> = self
            .list(kind.as_str())
            .await?
            .into_iter()
            .filter_map(|meta| TripFile::from_lake_key(meta.location.as_ref()).map(|f| (f, meta)))
            .filter(|(f, _)| f.kind == kind)
            .collect();
        files.sort_by_key(|(f, _)| f.month);
        Ok(files)
    }

    /// The objects under `reference/` (the zone table), sorted by key.
    pub async fn reference_objects(&self) -> Result<Vec<ObjectMeta>, LakeError> {
        let mut objects = self.list(REFERENCE_PREFIX).await?;
        objects.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(objects)
    }

    /// Every object under `prefix` (a folder-like prefix, e.g. `yellow` or `yellow/2023`).
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, LakeError> {
        let path = object_path(prefix)?;
        self.store
            .list(Some(&path))
            .try_collect()
            .await
            .map_err(|source| self.store_error("list", prefix, source))
    }

    pub(crate) fn store_error(
        &self,
        operation: &'static str,
        key: &str,
        source: object_store::Error,
    ) -> LakeError {
        LakeError::Store { operation, key: key.to_owned(), lake: self.describe(), source: Box::new(source) }
    }
}

/// The object_store path of a lake key, refusing keys that cannot name an object.
pub(crate) fn object_path(key: &str) -> Result<Path, LakeError> {
    Path::parse(key).map_err(|source| LakeError::Key { key: key.to_owned(), source })
}
