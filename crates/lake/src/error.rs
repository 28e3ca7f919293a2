//! The lake's errors: each names the object key, bucket or URL it concerns and the cause.

use std::path::PathBuf;

use atl_core::SchemaError;

/// Something the lake could not do, with the object, folder or bucket it was about.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    /// `lake.url` is neither `file://...` nor `s3://bucket`, or the S3 endpoint is malformed.
    #[error("lake URL `{url}`: {reason}")]
    Url { url: String, reason: String },

    /// The `file://` lake folder does not exist: a mistyped path, or a lake never created.
    #[error(
        "the lake folder {path} does not exist (check lake.url; `atl-lake init` or atl-ingest creates it)"
    )]
    NoFolder { path: PathBuf },

    /// The local lake folder (or its staging folder) could not be created or resolved.
    #[error("lake folder {path}: {source}")]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// object_store refused the configuration.
    #[error("opening the lake {lake}: {source}")]
    Open {
        lake: String,
        // Boxed: object_store's error is large, and every `Result` here would carry its size.
        #[source]
        source: Box<object_store::Error>,
    },

    /// A key that cannot name an object (empty segment, `..`, ...).
    #[error("`{key}` is not a valid object key: {source}")]
    Key {
        key: String,
        #[source]
        source: object_store::path::Error,
    },

    /// A store operation (head, list, put, delete, ...) failed.
    #[error("{operation} `{key}` in {lake}: {source}")]
    Store {
        operation: &'static str,
        key: String,
        lake: String,
        #[source]
        source: Box<object_store::Error>,
    },

    /// Reading or moving the local file being uploaded failed.
    #[error("{action} {path}: {source}")]
    LocalFile {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Creating or checking an S3 bucket failed (network error or an S3 error answer).
    #[error("bucket `{bucket}` at {endpoint}: {reason}")]
    Bucket { bucket: String, endpoint: String, reason: String },

    /// The object is not a readable Parquet file.
    #[error("`{key}`: unreadable Parquet footer: {source}")]
    Footer {
        key: String,
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// The object is Parquet, but its columns are not those of its kind.
    /// (core's message already names the object and the column.)
    #[error("foreign schema: {source}")]
    Schema {
        key: String,
        #[source]
        source: Box<SchemaError>,
    },

    /// An object under a kind's prefix whose key does not follow the lake layout.
    #[error("`{key}`: not a lake key (expected {kind}/YYYY/{kind}_tripdata_YYYY-MM.parquet)")]
    Stray { key: String, kind: atl_core::TripKind },

    /// `reference/taxi_zone_lookup.csv` does not look like the zone table.
    #[error("`{key}`: not the zone table: {reason}")]
    ZoneTable { key: String, reason: String },
}

impl LakeError {
    /// The object key the error is about, when it is about one object.
    pub fn key(&self) -> Option<&str> {
        match self {
            LakeError::Key { key, .. }
            | LakeError::Store { key, .. }
            | LakeError::Footer { key, .. }
            | LakeError::Schema { key, .. }
            | LakeError::Stray { key, .. }
            | LakeError::ZoneTable { key, .. } => Some(key),
            _ => None,
        }
    }
}
