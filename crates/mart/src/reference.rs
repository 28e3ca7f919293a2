//! The TLC's reference files from the lake into the mart's reference tables (migration
//! 0003): the zone shapes (`reference/taxi_zones.zip` → `mart.ref_zone_shape`, one SVG path
//! per shapefile record) and the monthly indicators (`reference/data_reports_monthly.csv` →
//! `mart.ref_tlc_indicator`). Each table is replaced whole, in one transaction, when the lake
//! has a copy that reads, and `mart.ref_release` (migration 0009) records which copy. Both
//! files are optional: a lake without one, or with one that does not read, leaves the
//! table and its release as they were, and the months are built all the same.

use atl_core::{INDICATORS_LAKE_KEY, ZONE_SHAPES_LAKE_KEY};
use atl_lake::Lake;
use atl_lake::reference::{MapFrame, read_indicators, read_zone_shapes};
use chrono::{DateTime, Utc};
use object_store::ObjectStoreExt;
use sqlx::{Connection, PgConnection};

use crate::error::MartError;

/// Feet per map unit of the stored paths: New York City is ~150,000 ft across, so ~3,000
/// units, finer than any screen shows it, and small enough to keep a path short.
pub const FEET_PER_UNIT: f64 = 50.0;

/// `mart.ref_zone_shape`'s columns, bound as arrays: record, zone, name, borough, path, bbox.
type ShapeColumns = (Vec<i32>, Vec<i32>, Vec<String>, Vec<String>, Vec<String>, [Vec<i64>; 4]);

/// What [`load_reference`] did with each file.
#[derive(Debug, Default)]
pub struct ReferenceLoad {
    pub zone_shapes: ReferenceStatus,
    pub indicators: ReferenceStatus,
}

/// One optional reference file's load.
#[derive(Debug, Default)]
pub enum ReferenceStatus {
    /// The lake's copy replaced the table: this many rows.
    Loaded(usize),
    /// The lake has no copy: the table is as it was.
    #[default]
    Absent,
    /// The lake's copy does not read (or the lake could not give it): the table and its
    /// release are as they were. Not an error of the build.
    Unreadable(MartError),
}

impl ReferenceStatus {
    pub fn rows(&self) -> Option<usize> {
        match self {
            ReferenceStatus::Loaded(n) => Some(*n),
            _ => None,
        }
    }
}

/// Loads whichever of the two files the lake holds and can be read. `Err` only when the
/// mart refuses the rows of a copy that did read.
pub async fn load_reference(mart: &mut PgConnection, lake: &Lake) -> Result<ReferenceLoad, MartError> {
    Ok(ReferenceLoad {
        zone_shapes: status(load_zone_shapes(mart, lake).await)?,
        indicators: status(load_indicators(mart, lake).await)?,
    })
}

/// Sorts a load's error: the file's own faults are kept in the status, the mart's returned.
fn status(load: Result<Option<usize>, MartError>) -> Result<ReferenceStatus, MartError> {
    match load {
        Ok(Some(rows)) => Ok(ReferenceStatus::Loaded(rows)),
        Ok(None) => Ok(ReferenceStatus::Absent),
        Err(e @ (MartError::Reference { .. } | MartError::ReadReference { .. } | MartError::Lake(_))) => {
            Ok(ReferenceStatus::Unreadable(e))
        }
        Err(e) => Err(e),
    }
}

async fn load_zone_shapes(mart: &mut PgConnection, lake: &Lake) -> Result<Option<usize>, MartError> {
    let Some((bytes, fetched_at)) = read(lake, ZONE_SHAPES_LAKE_KEY).await? else { return Ok(None) };
    let shapes = read_zone_shapes(&bytes)
        .map_err(|reason| MartError::Reference { key: ZONE_SHAPES_LAKE_KEY.to_owned(), reason })?;
    let frame = MapFrame::of(&shapes, FEET_PER_UNIT);
    let mut cols: ShapeColumns = Default::default();
    for s in &shapes {
        let (path, bbox) = s.svg_path(&frame);
        cols.0.push(s.record);
        cols.1.push(s.location_id);
        cols.2.push(s.zone.clone());
        cols.3.push(s.borough.clone());
        cols.4.push(path);
        for (i, v) in bbox.into_iter().enumerate() {
            cols.5[i].push(v);
        }
    }
    let mut tx = mart.begin().await.map_err(MartError::sql("starting the zone shapes' load"))?;
    sqlx::query("DELETE FROM mart.ref_zone_shape")
        .execute(&mut *tx)
        .await
        .map_err(MartError::sql("emptying mart.ref_zone_shape"))?;
    sqlx::query(
        "INSERT INTO mart.ref_zone_shape
         SELECT *, $10::float8 FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::text[],
                                         $6::int8[], $7::int8[], $8::int8[], $9::int8[])",
    )
    .bind(&cols.0)
    .bind(&cols.1)
    .bind(&cols.2)
    .bind(&cols.3)
    .bind(&cols.4)
    .bind(&cols.5[0])
    .bind(&cols.5[1])
    .bind(&cols.5[2])
    .bind(&cols.5[3])
    .bind(FEET_PER_UNIT)
    .execute(&mut *tx)
    .await
    .map_err(MartError::sql(format!("loading {ZONE_SHAPES_LAKE_KEY} into mart.ref_zone_shape")))?;
    record_release(&mut tx, ZONE_SHAPES_LAKE_KEY, fetched_at, None).await?;
    tx.commit().await.map_err(MartError::sql("committing the zone shapes"))?;
    Ok(Some(shapes.len()))
}

async fn load_indicators(mart: &mut PgConnection, lake: &Lake) -> Result<Option<usize>, MartError> {
    let Some((bytes, fetched_at)) = read(lake, INDICATORS_LAKE_KEY).await? else { return Ok(None) };
    let rows = read_indicators(&bytes)
        .map_err(|reason| MartError::Reference { key: INDICATORS_LAKE_KEY.to_owned(), reason })?;
    let month: Vec<i32> = rows.iter().map(|r| r.month.id()).collect();
    let class: Vec<&str> = rows.iter().map(|r| r.licence_class.as_str()).collect();
    let trips: Vec<Option<f64>> = rows.iter().map(|r| r.trips_per_day).collect();
    let farebox: Vec<Option<f64>> = rows.iter().map(|r| r.farebox_per_day).collect();
    let mut tx = mart.begin().await.map_err(MartError::sql("starting the indicators' load"))?;
    sqlx::query("DELETE FROM mart.ref_tlc_indicator")
        .execute(&mut *tx)
        .await
        .map_err(MartError::sql("emptying mart.ref_tlc_indicator"))?;
    // A release that lists a month and class twice keeps its first (newest-first) row.
    sqlx::query(
        "INSERT INTO mart.ref_tlc_indicator
         SELECT m, c, t::numeric, f::numeric FROM unnest($1::int[], $2::text[], $3::float8[], $4::float8[]) AS u(m, c, t, f)
         ON CONFLICT DO NOTHING",
    )
    .bind(&month)
    .bind(&class)
    .bind(&trips)
    .bind(&farebox)
    .execute(&mut *tx)
    .await
    .map_err(MartError::sql(format!("loading {INDICATORS_LAKE_KEY} into mart.ref_tlc_indicator")))?;
    let newest = month.iter().copied().max();
    record_release(&mut tx, INDICATORS_LAKE_KEY, fetched_at, newest).await?;
    tx.commit().await.map_err(MartError::sql("committing the indicators"))?;
    Ok(Some(rows.len()))
}

async fn record_release(
    tx: &mut PgConnection,
    key: &str,
    fetched_at: DateTime<Utc>,
    newest_month: Option<i32>,
) -> Result<(), MartError> {
    sqlx::query(
        "INSERT INTO mart.ref_release (lake_key, fetched_at, newest_month) VALUES ($1, $2, $3)
         ON CONFLICT (lake_key) DO UPDATE
         SET fetched_at = excluded.fetched_at, newest_month = excluded.newest_month, loaded_at = now()",
    )
    .bind(key)
    .bind(fetched_at)
    .bind(newest_month)
    .execute(tx)
    .await
    .map_err(MartError::sql(format!("recording the release of {key} in mart.ref_release")))?;
    Ok(())
}

/// The lake's copy of `key` and when it was written; `None` when the lake has none.
async fn read(lake: &Lake, key: &str) -> Result<Option<(bytes::Bytes, DateTime<Utc>)>, MartError> {
    let Some(meta) = lake.head(key).await? else { return Ok(None) };
    let fail = |source| MartError::ReadReference { key: key.to_owned(), source };
    let got = lake.store().get(&object_store::path::Path::from(key)).await.map_err(fail)?;
    Ok(Some((got.bytes().await.map_err(fail)?, meta.last_modified)))
}
