//! The mart as the dashboard reads it: a lazy pool and one query per panel, all over the
//! aggregate tables (`mart.agg_*`, `mart.build_log`, `mart.rejects`), never the fact table,
//! so a year renders as fast as a month. Every row is decoded by column name into the model:
//! `from_row!` for a model struct whose fields are the query's columns, a
//! `#[derive(sqlx::FromRow)]` row where ids become months or days.

pub mod eda;
mod for_hire;
mod market;
mod reference;

use std::time::Duration;

use atl_core::{DatabaseConfig, MonthRange, YearMonth};
use chrono::NaiveDate;
use sqlx::PgPool;
use sqlx::postgres::{PgConnection, PgPoolOptions};

use crate::error::VizError;
use crate::filter::Filter;
use crate::model::{
    Aggregates, BoroughTipRate, CongestionMonth, DailyTrips, FareByDistance, HourWeekday, MonthRevenue,
    MonthRows, PaymentShare, RejectReason, Service, Totals, ZoneTrips, previous_period,
};

/// `impl FromRow` for a model struct: each field read from the column of the same name (the
/// model has no sqlx; the query layer says how a row becomes it).
macro_rules! from_row {
    ($($ty:ident { $($field:ident),+ $(,)? })+) => {$(
        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $ty {
            fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok($ty { $($field: row.try_get(stringify!($field))?),+ })
            }
        }
    )+};
}
pub(crate) use from_row;

from_row! {
    Totals { trips, revenue, avg_fare, tip_rate, avg_duration_sec, avg_speed_mph, airport_share }
    HourWeekday { weekday, hour, trips }
    ZoneTrips { zone, trips }
    PaymentShare { payment_type, trips }
    BoroughTipRate { borough, tip_rate, trips }
    RejectReason { reason, rows }
}

/// A connection pool to the mart. Creating it never fails on an unreachable server: each
/// query reports [`VizError::Unreachable`] instead, so a live server can wait for the mart.
#[derive(Debug, Clone)]
pub struct Mart {
    pool: PgPool,
    url: String,
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    service_id: i16,
    name: String,
    licence: Option<String>,
}

#[derive(sqlx::FromRow)]
struct BoroughRow {
    borough_id: i32,
    name: String,
}

#[derive(sqlx::FromRow)]
struct ExtentRow {
    first_month_id: Option<i32>,
    last_month_id: Option<i32>,
}

#[derive(sqlx::FromRow)]
struct DailyRow {
    service_id: i16,
    date_id: i32,
    trips: i64,
}

#[derive(sqlx::FromRow)]
struct RevenueRow {
    service_id: i16,
    month_id: i32,
    revenue: f64,
}

#[derive(sqlx::FromRow)]
struct FareRow {
    service_id: i16,
    distance_bin: f64,
    avg_fare: f64,
    trips: i64,
}

#[derive(sqlx::FromRow)]
struct CongestionRow {
    service_id: i16,
    month_id: i32,
    trips: i64,
    cbd_trips: i64,
    cbd_fee: f64,
}

#[derive(sqlx::FromRow)]
struct BuildLogRow {
    month_id: i32,
    fact_rows: i64,
    rejected_rows: i64,
}

impl Mart {
    /// A pool of at most `db.parallelism + 1` connections that connects on first use.
    /// Call it inside a Tokio runtime (the pool keeps a maintenance task there).
    pub fn connect_lazy(db: &DatabaseConfig) -> Result<Mart, VizError> {
        let url = db.url.to_string();
        // The dashboard only reads; even a role that could write cannot through it.
        let options = atl_core::pg::read_only_options("mart", db, "atl-viz")
            .map_err(|e| VizError::Unreachable { url: e.url, source: e.source })?;
        let pool = PgPoolOptions::new()
            .max_connections(db.parallelism.max(1) as u32 + 1)
            .acquire_timeout(Duration::from_secs(3))
            .connect_lazy_with(options);
        Ok(Mart { pool, url })
    }

    /// The mart's URL with the password hidden.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The underlying pool, for callers that add their own queries.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The months the mart holds days for, or `None` when `mart.agg_daily` is empty.
    pub async fn extent(&self) -> Result<Option<MonthRange>, VizError> {
        let mut conn = self.conn().await?;
        self.extent_on(&mut conn, None).await
    }

    /// Whether the mart answers a query now (the live server's `/healthz`).
    pub async fn ping(&self) -> Result<(), VizError> {
        let mut conn = self.conn().await?;
        sqlx::query("SELECT 1 FROM mart.dim_service LIMIT 1")
            .execute(&mut *conn)
            .await
            .map_err(|e| VizError::from_query("ping", &self.url, e))?;
        Ok(())
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, VizError> {
        self.pool.acquire().await.map_err(|e| VizError::from_query("connect", &self.url, e))
    }

    async fn extent_on(
        &self,
        conn: &mut PgConnection,
        services: Option<&[i16]>,
    ) -> Result<Option<MonthRange>, VizError> {
        let extent: ExtentRow = sqlx::query_as(include_str!("../../sql/extent.sql"))
            .bind(services)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| VizError::from_query("extent.sql", &self.url, e))?;
        Ok(match (extent.first_month_id.and_then(month_of_id), extent.last_month_id.and_then(month_of_id)) {
            (Some(first), Some(last)) => MonthRange::new(first, last),
            _ => None,
        })
    }

    /// Reads every panel of the dashboard for `filter` (default period: all the months the
    /// chosen services have). A service or borough the mart does not know is
    /// [`VizError::UnknownFilter`].
    pub async fn aggregates(&self, filter: &Filter) -> Result<Aggregates, VizError> {
        let mut conn = self.conn().await?;
        let conn = &mut *conn;
        let url = &self.url;
        let err = |query: &'static str| move |e| VizError::from_query(query, url, e);

        let services: Vec<Service> = sqlx::query_as::<_, ServiceRow>(include_str!("../../sql/services.sql"))
            .fetch_all(&mut *conn)
            .await
            .map_err(err("services.sql"))?
            .into_iter()
            .map(|r| Service { id: r.service_id, name: r.name, licence: r.licence })
            .collect();
        let boroughs: Vec<BoroughRow> = sqlx::query_as(include_str!("../../sql/boroughs.sql"))
            .fetch_all(&mut *conn)
            .await
            .map_err(err("boroughs.sql"))?;
        let service_ids = resolve_services(&services, &filter.services)?;
        let borough_id = resolve_borough(&boroughs, filter.borough.as_deref())?;
        let ids = service_ids.as_deref();

        let period = match filter.period {
            Some(p) => p,
            None => self.extent_on(conn, ids).await?.ok_or(VizError::EmptyMart)?,
        };
        let previous_period = previous_period(period);
        let (from_day, to_day) = day_bounds(period);
        let (from_month, to_month) = (period.first().id(), period.last().id());

        let totals =
            read_totals(conn, (from_day, to_day), ids, borough_id).await.map_err(err("totals.sql"))?;
        let previous_totals = read_totals(conn, day_bounds(previous_period), ids, borough_id)
            .await
            .map_err(err("totals.sql"))?;
        // One generic closure cannot serve several row types: macros bind the bounds.
        // Each panel's query takes the period, the services and (as $4) the pickup borough.
        macro_rules! by_days {
            ($file:literal) => {
                sqlx::query_as(include_str!(concat!("../../sql/", $file)))
                    .bind(from_day)
                    .bind(to_day)
                    .bind(ids)
                    .bind(borough_id)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(err($file))?
            };
        }
        macro_rules! by_months {
            ($file:literal $(, $extra:expr)?) => {
                sqlx::query_as(include_str!(concat!("../../sql/", $file)))
                    .bind(from_month)
                    .bind(to_month)
                    .bind(ids)
                    $(.bind($extra))?
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(err($file))?
            };
        }
        let daily: Vec<DailyRow> = by_days!("daily.sql");
        let revenue: Vec<RevenueRow> = by_days!("revenue_by_month.sql");
        let congestion: Vec<CongestionRow> = by_days!("congestion.sql");
        let hour_weekday: Vec<HourWeekday> = by_months!("hour_weekday.sql", borough_id);
        let top_zones: Vec<ZoneTrips> = by_months!("top_zones.sql", borough_id);
        let payment_share: Vec<PaymentShare> = by_months!("payment_share.sql", borough_id);
        let tip_rate_by_borough: Vec<BoroughTipRate> = by_months!("tip_rate_by_borough.sql", borough_id);
        let fare_by_distance: Vec<FareRow> = by_months!("fare_by_distance.sql", borough_id);
        let rejects: Vec<RejectReason> = by_months!("rejects.sql");
        let reference = reference::read(conn, url, (from_month, to_month), ids, borough_id).await?;
        let rows_by_month: Vec<BuildLogRow> = sqlx::query_as(include_str!("../../sql/build_log.sql"))
            .bind(ids)
            .fetch_all(&mut *conn)
            .await
            .map_err(err("build_log.sql"))?;
        let for_hire = for_hire::read(conn, (from_month, to_month), borough_id, url).await?.only(ids);
        let market = market::read(conn, url, (from_month, to_month), ids, &services).await?;

        Ok(Aggregates {
            filter: Filter { period: Some(period), ..filter.clone() },
            period,
            previous_period,
            services,
            boroughs: boroughs.into_iter().map(|b| b.name).collect(),
            totals,
            previous_totals,
            daily: daily
                .into_iter()
                .filter_map(|r| {
                    Some(DailyTrips { service: r.service_id, day: date_of_id(r.date_id)?, trips: r.trips })
                })
                .collect(),
            revenue_by_month: revenue
                .into_iter()
                .filter_map(|r| {
                    Some(MonthRevenue {
                        service: r.service_id,
                        month: month_of_id(r.month_id)?,
                        revenue: r.revenue,
                    })
                })
                .collect(),
            hour_weekday,
            top_zones,
            payment_share,
            tip_rate_by_borough,
            fare_by_distance: fare_by_distance
                .into_iter()
                .map(|r| FareByDistance {
                    service: r.service_id,
                    distance: r.distance_bin,
                    avg_fare: r.avg_fare,
                    trips: r.trips,
                })
                .collect(),
            rows_by_month: rows_by_month
                .into_iter()
                .filter_map(|r| {
                    Some(MonthRows {
                        month: month_of_id(r.month_id)?,
                        fact_rows: r.fact_rows,
                        rejected_rows: r.rejected_rows,
                    })
                })
                .collect(),
            rejects,
            congestion: congestion
                .into_iter()
                .filter_map(|r| {
                    Some(CongestionMonth {
                        service: r.service_id,
                        month: month_of_id(r.month_id)?,
                        trips: r.trips,
                        charged_trips: r.cbd_trips,
                        fee: r.cbd_fee,
                    })
                })
                .collect(),
            for_hire,
            market,
            reference,
        })
    }
}

/// The totals of the days `[from_day, to_day)` (`YYYYMMDD`) of `services` (`None`: all), of
/// the pickups in `borough` (`None`: all).
async fn read_totals(
    conn: &mut PgConnection,
    (from_day, to_day): (i32, i32),
    services: Option<&[i16]>,
    borough: Option<i32>,
) -> Result<Totals, sqlx::Error> {
    sqlx::query_as(include_str!("../../sql/totals.sql"))
        .bind(from_day)
        .bind(to_day)
        .bind(services)
        .bind(borough)
        .fetch_one(conn)
        .await
}

/// The ids of the named services (`None`: all), or the name the mart does not know.
fn resolve_services(services: &[Service], names: &[String]) -> Result<Option<Vec<i16>>, VizError> {
    if names.is_empty() {
        return Ok(None);
    }
    names
        .iter()
        .map(|name| {
            services.iter().find(|s| s.name.eq_ignore_ascii_case(name)).map(|s| s.id).ok_or_else(|| {
                VizError::UnknownFilter {
                    what: "service",
                    value: name.clone(),
                    known: services.iter().map(|s| s.name.clone()).collect(),
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn resolve_borough(boroughs: &[BoroughRow], name: Option<&str>) -> Result<Option<i32>, VizError> {
    let Some(name) = name else { return Ok(None) };
    boroughs.iter().find(|b| b.name.eq_ignore_ascii_case(name)).map(|b| Some(b.borough_id)).ok_or_else(|| {
        VizError::UnknownFilter {
            what: "borough",
            value: name.to_owned(),
            known: boroughs.iter().map(|b| b.name.clone()).collect(),
        }
    })
}

/// The month of a `YYYYMM` month_id.
pub(crate) fn month_of_id(id: i32) -> Option<YearMonth> {
    YearMonth::from_id(id)
}

fn date_of_id(id: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(id / 10_000, (id / 100 % 100) as u32, (id % 100) as u32)
}

/// `[first day, first day after)` of the period as `YYYYMMDD` date_ids.
fn day_bounds(period: MonthRange) -> (i32, i32) {
    (period.first().first_date_id(), period.last().next().first_date_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_bounds_cover_the_period() {
        assert_eq!(day_bounds("2023-12".parse().unwrap()), (20231201, 20240101));
        assert_eq!(month_of_id(202304), YearMonth::new(2023, 4));
    }
}
