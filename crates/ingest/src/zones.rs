//! The TLC's reference files: the zone table (`misc/taxi_zone_lookup.csv` →
//! `reference/taxi_zone_lookup.csv`), the zone shapes (`misc/taxi_zones.zip` →
//! `reference/taxi_zones.zip`) and the monthly indicators (`source.indicators_url` →
//! `reference/data_reports_monthly.csv`). Each goes through the same fetch as a trip month:
//! HEAD, skip when the lake has it, stream to staging, verify, commit atomically. A
//! download that fails or does not verify never replaces the lake's copy, so a failed
//! refresh leaves the last good one ([`refresh_reference`] says which).

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

/// A reference file the run can refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceFile {
    /// The zone table: the mart needs it, so a lake without any copy of it is a failure.
    Zones,
    /// The zone shapes: only the dashboard's maps use them.
    ZoneShapes,
    /// The TLC's indicators: only the dashboard's comparison with the TLC uses them.
    Indicators,
}

impl ReferenceFile {
    pub fn label(self) -> &'static str {
        match self {
            ReferenceFile::Zones => ZONES_LABEL,
            ReferenceFile::ZoneShapes => ZONE_SHAPES_LABEL,
            ReferenceFile::Indicators => INDICATORS_LABEL,
        }
    }

    pub fn lake_key(self) -> &'static str {
        match self {
            ReferenceFile::Zones => ZONES_LAKE_KEY,
            ReferenceFile::ZoneShapes => ZONE_SHAPES_LAKE_KEY,
            ReferenceFile::Indicators => INDICATORS_LAKE_KEY,
        }
    }

    /// Whether later stages can do without it: the trips never wait for an optional file.
    pub fn is_optional(self) -> bool {
        self != ReferenceFile::Zones
    }

    /// What goes without when the lake has no copy at all.
    pub fn missing_means(self) -> &'static str {
        match self {
            ReferenceFile::Zones => "the mart cannot build without it",
            ReferenceFile::ZoneShapes => "the dashboard's zone maps stay empty",
            ReferenceFile::Indicators => "the dashboard shows no TLC figures",
        }
    }
}

/// One reference file's refresh, and the copy the lake holds after it.
#[derive(Debug)]
pub struct Refresh {
    pub file: ReferenceFile,
    pub outcome: Outcome,
    /// When the lake's copy was written (`None`: the lake has none).
    pub lake_copy: Option<chrono::DateTime<chrono::Utc>>,
}

impl Refresh {
    /// Whether the run has to count it as failed: the file could not be had and work
    /// depends on it (the zone table with no copy in the lake). An optional file, or a
    /// required one of which the lake keeps a good copy, is only reported.
    pub fn blocks(&self) -> bool {
        self.outcome.is_failure() && !self.file.is_optional() && self.lake_copy.is_none()
    }
}

/// Refreshes `file` and reads back what the lake holds of it. `Err` only when the run
/// cannot start or the lake cannot be asked.
pub async fn refresh_reference(
    file: ReferenceFile,
    source: &SourceConfig,
    lake: &Lake,
    progress: &dyn Progress,
) -> Result<Refresh, IngestError> {
    let outcome = match file {
        ReferenceFile::Zones => ingest_zones(source, lake, progress).await?,
        ReferenceFile::ZoneShapes => ingest_zone_shapes(source, lake, progress).await?,
        ReferenceFile::Indicators => ingest_indicators(source, lake, progress).await?,
    };
    let lake_copy = lake.head(file.lake_key()).await?.map(|meta| meta.last_modified);
    Ok(Refresh { file, outcome, lake_copy })
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
