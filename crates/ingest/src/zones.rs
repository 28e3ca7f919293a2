//! The TLC's reference files: the zone table (`misc/taxi_zone_lookup.csv` →
//! `reference/taxi_zone_lookup.csv`), the zone shapes (`misc/taxi_zones.zip` →
//! `reference/taxi_zones.zip`) and the monthly indicators (`source.indicators_url` →
//! `reference/data_reports_monthly.csv`). Each goes through the same fetch as a trip month:
//! HEAD, skip when the lake has it, stream to staging, verify, commit atomically.

use atl_core::{
    INDICATORS_LAKE_KEY, SourceConfig, ZONE_SHAPES_LAKE_KEY, ZONE_SHAPES_SOURCE_PATH, ZONES_LAKE_KEY,
    ZONES_SOURCE_PATH,
};
use atl_lake::Lake;

use crate::fetch::{Run, Target};
use crate::verify::Expect;
use crate::{IngestError, Outcome, Progress};

/// The label progress and reports use for the zone table.
pub const ZONES_LABEL: &str = "taxi zones";
/// The label of the zone shapefile.
pub const ZONE_SHAPES_LABEL: &str = "zone shapes";
/// The label of the TLC's monthly indicators.
pub const INDICATORS_LABEL: &str = "TLC indicators";

/// Fetches the zone table into the lake (unless the lake has it with the same size),
/// checking it is the CSV and not an error page. `Err` only when the run cannot start.
pub async fn ingest_zones(
    source: &SourceConfig,
    lake: &Lake,
    progress: &dyn Progress,
) -> Result<Outcome, IngestError> {
    let url = format!("{}/{ZONES_SOURCE_PATH}", source.base_url.trim_end_matches('/'));
    fetch(source, lake, progress, ZONES_LABEL, url, ZONES_LAKE_KEY, Expect::ZoneTable).await
}

/// Fetches the zone shapefile archive into the lake, checking it is a zip whose
/// `.shp`, `.shx` and `.dbf` read.
pub async fn ingest_zone_shapes(
    source: &SourceConfig,
    lake: &Lake,
    progress: &dyn Progress,
) -> Result<Outcome, IngestError> {
    let url = format!("{}/{ZONE_SHAPES_SOURCE_PATH}", source.base_url.trim_end_matches('/'));
    fetch(source, lake, progress, ZONE_SHAPES_LABEL, url, ZONE_SHAPES_LAKE_KEY, Expect::ZoneShapes).await
}

/// Fetches the TLC's monthly indicators CSV from `source.indicators_url` into the lake,
/// checking it has the columns the mart reads.
pub async fn ingest_indicators(
    source: &SourceConfig,
    lake: &Lake,
    progress: &dyn Progress,
) -> Result<Outcome, IngestError> {
    let url = source.indicators_url.clone();
    fetch(source, lake, progress, INDICATORS_LABEL, url, INDICATORS_LAKE_KEY, Expect::Indicators).await
}

async fn fetch(
    source: &SourceConfig,
    lake: &Lake,
    progress: &dyn Progress,
    label: &str,
    url: String,
    key: &str,
    expect: Expect,
) -> Result<Outcome, IngestError> {
    let run = Run::start(source, lake, progress)?;
    let file_name = key.rsplit('/').next().unwrap_or(key).to_owned();
    let target = Target { label: label.to_owned(), url, key: key.to_owned(), file_name, expect };
    Ok(run.fetch(&target).await)
}
