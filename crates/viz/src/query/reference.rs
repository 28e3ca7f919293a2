//! The reference panels' queries (migration 0003): the zone shapes, each zone's figures for
//! the filter, and the TLC's indicators beside ours. A mart without those tables (built by an
//! older release) gives an empty [`Reference`], and the page says what to run.

use sqlx::PgConnection;

use crate::error::VizError;
use crate::model::{Reference, Release, TlcRow, ZoneMeasure, ZoneShape};
use crate::query::{from_row, month_of_id};

from_row! {
    ZoneShape { shape_no, zone_id, zone, borough, svg_path, min_x, min_y, max_x, max_y }
    ZoneMeasure { zone_id, trips, revenue, card_fare, card_tip }
}

#[derive(sqlx::FromRow)]
struct TlcComparisonRow {
    month_id: i32,
    licence_class: String,
    report_classes: Option<String>,
    tlc_trips_per_day: Option<f64>,
    tlc_farebox_per_day: Option<f64>,
    recorded_trips: Option<i64>,
    recorded_farebox: Option<f64>,
    cleaned_trips: Option<i64>,
    cleaned_farebox: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct ReleaseRow {
    lake_key: String,
    fetched_at: chrono::DateTime<chrono::Utc>,
    newest_month: Option<i32>,
}

/// The recorded copy of each optional file; none from a mart before migration 0009.
async fn releases(conn: &mut PgConnection, url: &str) -> Result<Vec<ReleaseRow>, VizError> {
    let err = |query: &'static str| move |e| VizError::from_query(query, url, e);
    let recorded: bool = sqlx::query_scalar("SELECT to_regclass('mart.ref_release') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await
        .map_err(err("has ref_release"))?;
    if !recorded {
        return Ok(Vec::new());
    }
    sqlx::query_as("SELECT lake_key, fetched_at, newest_month FROM mart.ref_release")
        .fetch_all(&mut *conn)
        .await
        .map_err(err("ref_release"))
}

/// Reads the reference panels for months `[from_month, to_month]` (`YYYYMM`), `services`
/// (`None`: all) and `borough` (`None`: all).
pub(super) async fn read(
    conn: &mut PgConnection,
    url: &str,
    (from_month, to_month): (i32, i32),
    services: Option<&[i16]>,
    borough: Option<i32>,
) -> Result<Reference, VizError> {
    let err = |query: &'static str| move |e| VizError::from_query(query, url, e);
    let available: bool = sqlx::query_scalar(include_str!("../../sql/has_reference.sql"))
        .fetch_one(&mut *conn)
        .await
        .map_err(err("has_reference.sql"))?;
    if !available {
        return Ok(Reference::default());
    }
    let zone_shapes: Vec<ZoneShape> = sqlx::query_as(include_str!("../../sql/zone_shapes.sql"))
        .fetch_all(&mut *conn)
        .await
        .map_err(err("zone_shapes.sql"))?;
    let zone_measures: Vec<ZoneMeasure> = sqlx::query_as(include_str!("../../sql/zone_measures.sql"))
        .bind(from_month)
        .bind(to_month)
        .bind(services)
        .bind(borough)
        .fetch_all(&mut *conn)
        .await
        .map_err(err("zone_measures.sql"))?;
    let tlc: Vec<TlcComparisonRow> = sqlx::query_as(include_str!("../../sql/tlc_comparison.sql"))
        .bind(from_month)
        .bind(to_month)
        .bind(services)
        .fetch_all(&mut *conn)
        .await
        .map_err(err("tlc_comparison.sql"))?;
    let releases = releases(conn, url).await?;
    let release = |key: &str| {
        releases
            .iter()
            .find(|r| r.lake_key == key)
            .map(|r| Release { fetched_at: r.fetched_at, newest_month: r.newest_month.and_then(month_of_id) })
    };
    Ok(Reference {
        available,
        shapes_release: release(atl_core::ZONE_SHAPES_LAKE_KEY),
        indicators_release: release(atl_core::INDICATORS_LAKE_KEY),
        zone_shapes,
        zone_measures,
        tlc: tlc
            .into_iter()
            .filter_map(|r| {
                Some(TlcRow {
                    month: month_of_id(r.month_id)?,
                    report_classes: r.report_classes.filter(|c| *c != r.licence_class),
                    licence_class: r.licence_class,
                    tlc_trips_per_day: r.tlc_trips_per_day,
                    tlc_farebox_per_day: r.tlc_farebox_per_day,
                    recorded_trips: r.recorded_trips,
                    recorded_farebox: r.recorded_farebox,
                    cleaned_trips: r.cleaned_trips,
                    cleaned_farebox: r.cleaned_farebox,
                })
            })
            .collect(),
    })
}
