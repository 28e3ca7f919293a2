//! Why a download did not reach the lake. Each error names the URL (or file) it concerns;
//! [`IngestError::is_retryable`] says whether another attempt may succeed.

use std::path::PathBuf;
use std::time::Duration;

use atl_core::SchemaError;
use atl_lake::LakeError;

/// A failed fetch, a rejected file, or a setup problem.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// 403 or 404: the TLC has not published this file (yet). Not retried.
    #[error("{url}: not published yet (HTTP {status})")]
    NotPublished { url: String, status: u16 },

    /// Any other unexpected status; 5xx, 408 and 429 are retried.
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },

    /// Connection refused or reset, DNS, TLS...: retried.
    #[error("{url}: {source}")]
    Network {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    /// No byte arrived for `source.timeout_secs`: retried.
    #[error("{url}: stalled: no data for {} s", waited.as_secs_f32())]
    Stalled { url: String, waited: Duration },

    /// The body ended before its announced length (or before a Parquet footer): retried.
    #[error("{url}: truncated body (got {got} of {} bytes)", expected.map_or_else(|| "?".to_owned(), |e| e.to_string()))]
    Truncated { url: String, got: u64, expected: Option<u64> },

    /// The server answered 200 with an HTML/XML page (an error or login page) instead of the file.
    #[error("{url}: HTML/XML error page instead of the file ({content_type}): {snippet}")]
    ErrorPage { url: String, content_type: String, snippet: String },

    /// Bytes that are not Parquet at all.
    #[error("{url}: not a Parquet file: {reason}")]
    NotParquet { url: String, reason: String },

    /// Parquet magic bytes, but the footer cannot be decoded.
    #[error("{url}: unreadable Parquet footer: {source}")]
    Footer {
        url: String,
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// A Parquet file whose columns are not those of the kind asked for.
    #[error("{url}: foreign schema: {source}")]
    ForeignSchema {
        url: String,
        // Boxed, as core's error is large and would widen every `Result` here.
        #[source]
        source: Box<SchemaError>,
    },

    /// Most of the file's pickups fall in another month: the wrong file for this month.
    /// Not retried; `--allow-other-month` takes it anyway.
    #[error("{url}: {source} (--allow-other-month takes it anyway)")]
    WrongMonth {
        url: String,
        #[source]
        source: atl_core::WrongMonth,
    },

    /// `taxi_zone_lookup.csv` is not the zone table.
    #[error("{url}: not the zone table: {reason}")]
    NotZoneTable { url: String, reason: String },

    /// The zone shapefile or the indicators CSV does not read as one.
    #[error("{url}: {reason}")]
    NotReference { url: String, reason: atl_lake::reference::ReferenceError },

    /// The staging file could not be created, written or read.
    #[error("staging file {path}: {source}")]
    Staging {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The lake refused the object (or could not be asked whether it has it).
    #[error(transparent)]
    Lake(#[from] LakeError),

    /// The HTTP client could not be built (a TLS backend problem).
    #[error("building the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

impl IngestError {
    /// Whether another attempt may succeed: timeouts, resets, truncated bodies and 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            IngestError::Status { status, .. } => *status >= 500 || matches!(status, 408 | 429),
            IngestError::Network { source, .. } => !source.is_builder() && !source.is_redirect(),
            IngestError::Stalled { .. } | IngestError::Truncated { .. } => true,
            _ => false,
        }
    }
}
