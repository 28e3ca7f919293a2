//! The TLC's reference files from the lake into the mart's reference tables (migration
//! 0003): the zone shapes (`reference/taxi_zones.zip` → `mart.ref_zone_shape`, one SVG path
//! per shapefile record) and the monthly indicators (`reference/data_reports_monthly.csv` →
//! `mart.ref_tlc_indicator`). Each table is replaced whole, in one transaction, when the lake
//! has the file; a lake without it leaves the table as it is.

use atl_core::{INDICATORS_LAKE_KEY, ZONE_SHAPES_LAKE_KEY};
use atl_lake::Lake;
use atl_lake::reference::{MapFrame, read_indicators, read_zone_shapes};
use object_store::ObjectStoreExt;
use sqlx::{Connection, PgConnection};

use crate::error::MartError;

/// Feet per map unit of the stored paths: New York City is ~150,000 ft across, so ~3,000
/// units, finer than any screen shows it, and small enough to keep a path short.
pub const FEET_PER_UNIT: f64 = 50.0;

/// `mart.ref_zone_shape`'s columns, bound as arrays: record, zone, name, borough, path, bbox.
type ShapeColumns = (Vec<i32>, Vec<i32>, Vec<String>, Vec<String>, Vec<String>, [Vec<i64>; 4]);

/// What [`load_reference`] loaded: rows per table, `None` where the lake has no file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReferenceLoad {
    pub zone_shapes: Option<usize>,
    pub indicators: Option<usize>,
}

/// Loads whichever of the two files the lake holds.
pub async fn load_reference(mart: &mut PgConnection, lake: &Lake) -> Result<ReferenceLoad, MartError> {
    let mut load = ReferenceLoad::default();
    if let Some(bytes) = read(lake, ZONE_SHAPES_LAKE_KEY).await? {
        let shapes = read_zone_shapes(&bytes)
            .map_err(|source| MartError::Reference { key: ZONE_SHAPES_LAKE_KEY.to_owned(), source })?;
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
        tx.commit().await.map_err(MartError::sql("committing the zone shapes"))?;
        load.zone_shapes = Some(shapes.len());
    }
    if let Some(bytes) = read(lake, INDICATORS_LAKE_KEY).await? {
        let rows = read_indicators(&bytes)
            .map_err(|source| MartError::Reference { key: INDICATORS_LAKE_KEY.to_owned(), source })?;
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
        tx.commit().await.map_err(MartError::sql("committing the indicators"))?;
        load.indicators = Some(rows.len());
    }
    Ok(load)
}

async fn read(lake: &Lake, key: &str) -> Result<Option<bytes::Bytes>, MartError> {
    if lake.head(key).await?.is_none() {
        return Ok(None);
    }
    let fail = |source| MartError::ReadReference { key: key.to_owned(), source };
    let got = lake.store().get(&object_store::path::Path::from(key)).await.map_err(fail)?;
    Ok(Some(got.bytes().await.map_err(fail)?))
}
