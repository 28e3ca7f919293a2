//! The zone table: `reference/taxi_zone_lookup.csv` from the lake into `mart.staging_zone`,
//! from where insertion.sql fills dim_borough, dim_service_zone and dim_zone.

use atl_core::ZONES_LAKE_KEY;
use atl_lake::Lake;
use object_store::ObjectStoreExt;
use sqlx::PgConnection;

use crate::error::MartError;

/// Where the zone dimension's names came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneSource {
    /// The lake's zone table, with this many data rows.
    Lake { rows: u64 },
    /// The lake has no zone table: zones 1-265 are kept as they are, or created as
    /// 'Unknown zone N'.
    Missing,
}

/// Copies the lake's zone table into `mart.staging_zone` (emptied first).
pub async fn stage_zones(mart: &mut PgConnection, lake: &Lake) -> Result<ZoneSource, MartError> {
    sqlx::raw_sql("TRUNCATE mart.staging_zone")
        .execute(&mut *mart)
        .await
        .map_err(MartError::sql("emptying mart.staging_zone"))?;
    if lake.head(ZONES_LAKE_KEY).await?.is_none() {
        return Ok(ZoneSource::Missing);
    }
    let read_err = |source| MartError::ZoneTable { key: ZONES_LAKE_KEY.to_owned(), source };
    let csv = lake
        .store()
        .get(&object_store::path::Path::from(ZONES_LAKE_KEY))
        .await
        .map_err(read_err)?
        .bytes()
        .await
        .map_err(read_err)?;
    let mut copy = mart
        .copy_in_raw("COPY mart.staging_zone (locationid, borough, zone, service_zone) FROM STDIN (FORMAT csv, HEADER true)")
        .await
        .map_err(MartError::sql("starting the COPY of the zone table"))?;
    copy.send(csv).await.map_err(MartError::sql("copying the zone table"))?;
    let rows = copy
        .finish()
        .await
        .map_err(MartError::sql(format!("copying {ZONES_LAKE_KEY} into mart.staging_zone")))?;
    Ok(ZoneSource::Lake { rows })
}
