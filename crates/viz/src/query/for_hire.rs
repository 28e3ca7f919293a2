//! The for-hire panels' queries: `mart.agg_daily` by service and month, `mart.agg_for_hire_month`
//! and `mart.agg_wait_hour`.

use sqlx::PgConnection;

use crate::error::VizError;
use crate::model::for_hire::percentiles;
use crate::model::{ForHire, ForHireMonth, ServiceMonthTrips, WaitBin};
use crate::query::month_of_id;

#[derive(sqlx::FromRow)]
struct TripsRow {
    service_id: i16,
    month_id: i32,
    trips: i64,
}

#[derive(sqlx::FromRow)]
struct MonthRow {
    service_id: i16,
    month_id: i32,
    trips: i64,
    driver_pay_share: Option<f64>,
    shared_share: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct WaitRow {
    service_id: i16,
    hour: i16,
    wait_bin: i32,
    trips: i64,
}

/// Reads the figures of months `[from, to]` (`YYYYMM`), of the pickups in `borough` (`None`:
/// all), over `conn`, the connection the rest
/// of the page's queries use: a second connection per page would let renders at once wait on
/// each other for the pool (with 200 readers, every render held one and waited for another).
pub(super) async fn read(
    conn: &mut PgConnection,
    (from, to): (i32, i32),
    borough: Option<i32>,
    url: &str,
) -> Result<ForHire, VizError> {
    let err = |query: &'static str| move |e| VizError::from_query(query, url, e);
    let trips: Vec<TripsRow> = sqlx::query_as(include_str!("../../sql/market_share.sql"))
        .bind(from)
        .bind(to)
        .bind(borough)
        .fetch_all(&mut *conn)
        .await
        .map_err(err("market_share.sql"))?;
    let by_month: Vec<MonthRow> = sqlx::query_as(include_str!("../../sql/for_hire_month.sql"))
        .bind(from)
        .bind(to)
        .bind(borough)
        .fetch_all(&mut *conn)
        .await
        .map_err(err("for_hire_month.sql"))?;
    let bins: Vec<WaitRow> = sqlx::query_as(include_str!("../../sql/wait_hour.sql"))
        .bind(from)
        .bind(to)
        .bind(borough)
        .fetch_all(&mut *conn)
        .await
        .map_err(err("wait_hour.sql"))?;
    let bins: Vec<WaitBin> = bins
        .into_iter()
        .map(|r| WaitBin { service: r.service_id, hour: r.hour, wait_bin: r.wait_bin, trips: r.trips })
        .collect();
    Ok(ForHire {
        trips_by_month: trips
            .into_iter()
            .filter_map(|r| {
                Some(ServiceMonthTrips {
                    service: r.service_id,
                    month: month_of_id(r.month_id)?,
                    trips: r.trips,
                })
            })
            .collect(),
        by_month: by_month
            .into_iter()
            .filter_map(|r| {
                Some(ForHireMonth {
                    service: r.service_id,
                    month: month_of_id(r.month_id)?,
                    trips: r.trips,
                    driver_pay_share: r.driver_pay_share,
                    shared_share: r.shared_share,
                })
            })
            .collect(),
        wait_by_hour: percentiles(&bins),
    })
}
