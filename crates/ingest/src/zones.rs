//! The zone table: `misc/taxi_zone_lookup.csv` at the source, `reference/taxi_zone_lookup.csv`
//! in the lake.

use atl_core::{SourceConfig, ZONES_LAKE_KEY, ZONES_SOURCE_PATH};
use atl_lake::Lake;

use crate::fetch::{Run, Target};
use crate::verify::Expect;
use crate::{IngestError, Outcome, Progress};

/// The label progress and reports use for the zone table.
pub const ZONES_LABEL: &str = "taxi zones";

/// Fetches the zone table into the lake (unless the lake has it with the same size),
/// checking it is the CSV and not an error page. `Err` only when the run cannot start.
pub async fn ingest_zones(
    source: &SourceConfig,
    lake: &Lake,
    progress: &dyn Progress,
) -> Result<Outcome, IngestError> {
    let run = Run::start(source, lake, progress)?;
    let target = Target {
        label: ZONES_LABEL.to_owned(),
        url: format!("{}/{ZONES_SOURCE_PATH}", source.base_url.trim_end_matches('/')),
        key: ZONES_LAKE_KEY.to_owned(),
        file_name: "taxi_zone_lookup.csv".to_owned(),
        expect: Expect::ZoneTable,
    };
    Ok(run.fetch(&target).await)
}
