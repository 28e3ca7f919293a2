//! What the dashboard reads from the mart's reference tables (migration 0003): the zone
//! shapes with each zone's figures for the maps, and the TLC's monthly indicators beside the
//! mart's own figures. A mart without those tables (built by an older release) gives an
//! empty [`Reference`], and the page says what to run.

use sqlx::PgConnection;

use crate::error::VizError;

/// One record of the TLC's zone shapefile, as a path in map units.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ZoneShapeRow {
    pub shape_no: i32,
    /// LocationID as the shapefile records it.
    pub zone_id: i32,
    pub zone: String,
    pub borough: String,
    pub svg_path: String,
    pub min_x: i32,
    pub min_y: i32,
    pub max_x: i32,
    pub max_y: i32,
}

/// One pickup zone's figures for the filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZoneMeasure {
    pub zone_id: i32,
    pub trips: i64,
    pub revenue: f64,
    pub card_fare: f64,
    pub card_tip: f64,
}

/// One month and TLC licence class: the TLC's figures and ours. Totals, not per day: the
/// page divides by the month's days.
#[derive(Debug, Clone, PartialEq)]
pub struct TlcRow {
    pub month: atl_core::YearMonth,
    pub licence_class: String,
    pub tlc_trips_per_day: Option<f64>,
    pub tlc_farebox_per_day: Option<f64>,
    /// Every row picked up in the month (the TLC's definition); `None` for months built by
    /// a release before this count existed.
    pub recorded_trips: Option<i64>,
    pub recorded_farebox: Option<f64>,
    /// The fact table's trips (after cleaning).
    pub cleaned_trips: Option<i64>,
    pub cleaned_farebox: Option<f64>,
}

impl TlcRow {
    pub fn days(&self) -> f64 {
        (self.month.next().first_day() - self.month.first_day()).num_days() as f64
    }
}

/// The reference panels' data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reference {
    /// Whether the mart has the reference tables at all.
    pub available: bool,
    pub zone_shapes: Vec<ZoneShapeRow>,
    pub zone_measures: Vec<ZoneMeasure>,
    pub tlc: Vec<TlcRow>,
}

/// Reads the reference panels for months `[from_month, to_month]` (`YYYYMM`), `services`
/// (`None`: all) and `borough` (`None`: all).
pub(crate) async fn read(
    conn: &mut PgConnection,
    url: &str,
    (from_month, to_month): (i32, i32),
    services: Option<&[i16]>,
    borough: Option<i32>,
) -> Result<Reference, VizError> {
    let err = |query: &'static str| move |e| VizError::from_query(query, url, e);
    let available: bool = sqlx::query_scalar(include_str!("../sql/has_reference.sql"))
        .fetch_one(&mut *conn)
        .await
        .map_err(err("has_reference.sql"))?;
    if !available {
        return Ok(Reference::default());
    }
    let zone_shapes: Vec<ZoneShapeRow> = sqlx::query_as(include_str!("../sql/zone_shapes.sql"))
        .fetch_all(&mut *conn)
        .await
        .map_err(err("zone_shapes.sql"))?;
    let zone_measures: Vec<(i32, i64, f64, f64, f64)> =
        sqlx::query_as(include_str!("../sql/zone_measures.sql"))
            .bind(from_month)
            .bind(to_month)
            .bind(services)
            .bind(borough)
            .fetch_all(&mut *conn)
            .await
            .map_err(err("zone_measures.sql"))?;
    type Row = (i32, String, Option<f64>, Option<f64>, Option<i64>, Option<f64>, Option<i64>, Option<f64>);
    let tlc: Vec<Row> = sqlx::query_as(include_str!("../sql/tlc_comparison.sql"))
        .bind(from_month)
        .bind(to_month)
        .bind(services)
        .fetch_all(&mut *conn)
        .await
        .map_err(err("tlc_comparison.sql"))?;
    Ok(Reference {
        available,
        zone_shapes,
        zone_measures: zone_measures
            .into_iter()
            .map(|(zone_id, trips, revenue, card_fare, card_tip)| ZoneMeasure {
                zone_id,
                trips,
                revenue,
                card_fare,
                card_tip,
            })
            .collect(),
        tlc: tlc
            .into_iter()
            .filter_map(|(m, class, tt, tf, rt, rf, ct, cf)| {
                Some(TlcRow {
                    month: atl_core::YearMonth::new(m / 100, (m % 100) as u32)?,
                    licence_class: class,
                    tlc_trips_per_day: tt,
                    tlc_farebox_per_day: tf,
                    recorded_trips: rt,
                    recorded_farebox: rf,
                    cleaned_trips: ct,
                    cleaned_farebox: cf,
                })
            })
            .collect(),
    })
}
