//! The ingest stage of ATL-Datamart: fetch TLC trip months and the reference files (zone
//! table, zone shapes, the TLC's monthly indicators) from the CDN (or a mirror with its
//! layout) into the data lake, verified, exactly once.
//!
//! For each month: HEAD the source → if the lake already holds the object with that size,
//! copied from the source object of the same ETag (recorded at download under `_source/`,
//! see [`atl_lake::Lake::source_etag`]), it is [`Outcome::AlreadyPresent`] and nothing is
//! downloaded → else (not there, another size, republished, or no record) the body is streamed
//! into a staging file (never held in memory), checked (Parquet magic at both ends, a
//! readable footer, a schema core can map: an HTML/XML error page, a truncated body or a
//! foreign schema is rejected and named), and committed atomically with
//! [`atl_lake::Lake::write_file`], then its source ETag recorded. Timeouts, resets,
//! truncated bodies and 5xx are retried with exponential backoff (`source.retries`
//! attempts); 403/404 mean
//! [`Outcome::NotPublished`]. Months run `source.concurrency` at a time.
//!
//! The library never prints: progress goes through a [`Progress`] the caller implements
//! (`atl-ingest` draws bars on a terminal and logs lines otherwise).
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use atl_core::{AtlConfig, TripKind};
//! use atl_ingest::{NoProgress, ingest_months};
//! use atl_lake::Lake;
//!
//! let config = AtlConfig::load(None)?;
//! let lake = Lake::open(&config.lake)?;
//! let months = "2023-01..2023-03".parse()?;
//! let report = ingest_months(&config.source, &lake, TripKind::Yellow, months, &NoProgress).await?;
//! assert!(!report.has_failures());
//! # Ok(()) }
//! ```

mod download;
mod error;
mod fetch;
mod latest;
mod report;
mod staging;
mod verify;
mod zones;

use atl_core::{MonthRange, SourceConfig, TripFile, TripKind};
use atl_lake::Lake;
use futures::StreamExt;

pub use error::IngestError;
pub use latest::{LATEST_PROBE_MONTHS, find_latest, find_latest_from};
pub use report::{IngestReport, MonthReport, NoProgress, Outcome, Progress};
pub use zones::{
    INDICATORS_LABEL, ReferenceFile, Refresh, ZONE_SHAPES_LABEL, ZONES_LABEL, ingest_indicators,
    ingest_zone_shapes, ingest_zones, refresh_reference,
};

use fetch::{Run, Target};
use verify::Expect;

/// Whether a file may enter the lake when most of its pickups fall outside its month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MonthCheck {
    /// Refuse it ([`IngestError::WrongMonth`], naming the month its rows belong to).
    #[default]
    Refuse,
    /// Take it anyway (`--allow-other-month`).
    Allow,
}

/// Fetches the `kind` files of `months` into `lake`, `source.concurrency` at a time.
/// Every month gets an [`Outcome`] in the report; `Err` only when the run cannot start
/// (HTTP client, staging folder). A file whose pickups mostly fall outside its month is
/// refused (see [`ingest_months_checked`]).
pub async fn ingest_months(
    source: &SourceConfig,
    lake: &Lake,
    kind: TripKind,
    months: MonthRange,
    progress: &dyn Progress,
) -> Result<IngestReport, IngestError> {
    ingest_months_checked(source, lake, kind, months, MonthCheck::Refuse, progress).await
}

/// [`ingest_months`], with the wrong-month check chosen by `month_check`.
pub async fn ingest_months_checked(
    source: &SourceConfig,
    lake: &Lake,
    kind: TripKind,
    months: MonthRange,
    month_check: MonthCheck,
    progress: &dyn Progress,
) -> Result<IngestReport, IngestError> {
    let run = Run::start(source, lake, progress)?;
    tracing::info!(%kind, %months, lake = lake.describe(), source = source.base_url, "ingesting");
    let run = &run;
    let mut reports: Vec<MonthReport> = futures::stream::iter(months.iter())
        .map(|month| async move {
            let file = TripFile::new(kind, month);
            let target = Target {
                label: file.to_string(),
                url: file.source_url(&source.base_url),
                key: file.lake_key(),
                file_name: file.file_name(),
                expect: Expect::Trips(kind, (month_check == MonthCheck::Refuse).then_some(month)),
            };
            MonthReport { file, outcome: run.fetch(&target).await }
        })
        .buffer_unordered(source.concurrency.max(1))
        .collect()
        .await;
    reports.sort_by_key(|r| r.file.month);
    Ok(IngestReport { kind, months: reports })
}
