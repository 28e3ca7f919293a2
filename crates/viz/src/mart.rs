//! The mart as the dashboard reads it: a lazy pool and one query per panel, all over the
//! aggregate tables (`mart.agg_*`, `mart.build_log`, `mart.rejects`), never the fact table,
//! so a year renders as fast as a month.

use std::time::Duration;

use atl_core::{DatabaseConfig, MonthRange, YearMonth};
use chrono::{Datelike, NaiveDate};
use sqlx::PgPool;
use sqlx::postgres::{PgConnection, PgPoolOptions};

use crate::error::VizError;
use crate::filter::Filter;
use crate::kpi::Totals;
use crate::reference::{self, Reference};

/// A connection pool to the mart. Creating it never fails on an unreachable server: each
/// query reports [`VizError::Unreachable`] instead, so a live server can wait for the mart.
#[derive(Debug, Clone)]
pub struct Mart {
    pool: PgPool,
    url: String,
}

/// A service of the mart (`mart.dim_service`): 1 yellow, 2 green, then the for-hire ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: i16,
    pub name: String,
}

/// Tip rates (and other ratios) resting on fewer trips than this are not drawn as bars or
/// colours: a handful of airport trips gave EWR a tip rate above 100 %.
pub const MIN_TRIPS_FOR_RATE: i64 = 100;

/// Everything the dashboard shows for one filter, read in one go.
#[derive(Debug, Clone)]
pub struct Aggregates {
    /// The filter as asked, with the period filled in.
    pub filter: Filter,
    pub period: MonthRange,
    /// The months just before `period`, as many as it has: the KPI changes compare to it.
    pub previous_period: MonthRange,
    /// Every service of `mart.dim_service` (the form offers them all).
    pub services: Vec<Service>,
    /// Every borough of `mart.dim_borough`, by name.
    pub boroughs: Vec<String>,
    pub totals: Totals,
    pub previous_totals: Totals,
    /// (service, day, trips).
    pub daily: Vec<(i16, NaiveDate, i64)>,
    /// (service, month, revenue in dollars).
    pub revenue_by_month: Vec<(i16, YearMonth, f64)>,
    /// (weekday 1 = Monday .. 7, hour 0..23, trips), both services.
    pub hour_weekday: Vec<(i16, i16, i64)>,
    /// (zone name, trips), the 15 busiest pickup zones, busiest first.
    pub top_zones: Vec<(String, i64)>,
    /// (payment type name, trips).
    pub payment_share: Vec<(String, i64)>,
    /// (borough name, card tips / card fares, trips).
    pub tip_rate_by_borough: Vec<(String, f64, i64)>,
    /// (service, distance bin in miles, average fare in dollars).
    pub fare_by_distance: Vec<(i16, f64, f64)>,
    /// (month, fact rows, rejected rows) over the whole mart, from `mart.build_log`.
    pub rows_by_month: Vec<(YearMonth, i64, i64)>,
    /// (reason, rejected rows) in the period.
    pub rejects: Vec<(String, i64)>,
    /// The for-hire panels' figures.
    pub for_hire: crate::for_hire::ForHire,
    /// Zone shapes and figures for the maps, the TLC's indicators beside ours.
    pub reference: Reference,
}

impl Service {
    /// The name as a legend shows it: `yellow` → `Yellow`, `fhv` → `Other FHV`.
    pub fn display_name(&self) -> String {
        service_label(&self.name)
    }
}

/// A `dim_service` name as readers know the service; names the mart learns later (a new
/// high-volume licence) are shown capitalised.
pub fn service_label(name: &str) -> String {
    match name {
        "fhv" => "Other FHV".into(),
        "fhvhv" => "High-volume FHV (no licence)".into(),
        _ => {
            let mut chars = name.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
    }
}

impl Aggregates {
    /// The services that have days in the period, in `dim_service` order: what the charts draw.
    pub fn services_drawn(&self) -> Vec<&Service> {
        self.services.iter().filter(|s| self.daily.iter().any(|d| d.0 == s.id)).collect()
    }

    /// The months of the period with at least one day of trips.
    pub fn months_with_data(&self) -> Vec<YearMonth> {
        let mut months: Vec<YearMonth> =
            self.daily.iter().filter_map(|d| YearMonth::new(d.1.year(), d.1.month())).collect();
        months.dedup();
        months.sort_unstable();
        months.dedup();
        months
    }

    /// Months between the first and the last month of `mart.build_log` that were never built.
    pub fn missing_months(&self) -> Vec<YearMonth> {
        let (Some(first), Some(last)) = (self.rows_by_month.first(), self.rows_by_month.last()) else {
            return Vec::new();
        };
        let Some(range) = MonthRange::new(first.0, last.0) else { return Vec::new() };
        range.iter().filter(|m| !self.rows_by_month.iter().any(|(b, _, _)| b == m)).collect()
    }
}

impl Mart {
    /// A pool of at most `db.parallelism + 1` connections that connects on first use.
    /// Call it inside a Tokio runtime (the pool keeps a maintenance task there).
    pub fn connect_lazy(db: &DatabaseConfig) -> Result<Mart, VizError> {
        let url = db.url.to_string();
        let options = atl_core::pg_connect::connect_options(db.url.expose())
            .map_err(|source| VizError::Unreachable { url: url.clone(), source })?
            .application_name("atl-viz")
            // The dashboard only reads; even a role that could write cannot through it.
            .options([("default_transaction_read_only", "on")]);
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
        let (first, last): (Option<i32>, Option<i32>) = sqlx::query_as(include_str!("../sql/extent.sql"))
            .bind(services)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| VizError::from_query("extent.sql", &self.url, e))?;
        Ok(match (first.and_then(month_of_id), last.and_then(month_of_id)) {
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

        let services: Vec<Service> = sqlx::query_as::<_, (i16, String)>(include_str!("../sql/services.sql"))
            .fetch_all(&mut *conn)
            .await
            .map_err(err("services.sql"))?
            .into_iter()
            .map(|(id, name)| Service { id, name })
            .collect();
        let boroughs: Vec<(i32, String)> = sqlx::query_as(include_str!("../sql/boroughs.sql"))
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
        let (from_month, to_month) = (month_id(period.first()), month_id(period.last()));

        let totals = Totals::query(conn, from_day, to_day, ids).await.map_err(err("totals.sql"))?;
        let (prev_from, prev_to) = day_bounds(previous_period);
        let previous_totals =
            Totals::query(conn, prev_from, prev_to, ids).await.map_err(err("totals.sql"))?;
        // One generic closure cannot serve several row types: macros bind the bounds.
        macro_rules! by_days {
            ($file:literal) => {
                sqlx::query_as(include_str!(concat!("../sql/", $file)))
                    .bind(from_day)
                    .bind(to_day)
                    .bind(ids)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(err($file))?
            };
        }
        macro_rules! by_months {
            ($file:literal $(, $extra:expr)?) => {
                sqlx::query_as(include_str!(concat!("../sql/", $file)))
                    .bind(from_month)
                    .bind(to_month)
                    .bind(ids)
                    $(.bind($extra))?
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(err($file))?
            };
        }
        let daily: Vec<(i16, i32, i64)> = by_days!("daily.sql");
        let revenue: Vec<(i16, i32, f64)> = by_days!("revenue_by_month.sql");
        let hour_weekday: Vec<(i16, i16, i64)> = by_months!("hour_weekday.sql");
        let top_zones: Vec<(String, i64)> = by_months!("top_zones.sql", borough_id);
        let payment_share: Vec<(String, i64)> = by_months!("payment_share.sql");
        let tip_rate_by_borough: Vec<(String, f64, i64)> = by_months!("tip_rate_by_borough.sql", borough_id);
        let fare_by_distance: Vec<(i16, f64, f64)> = by_months!("fare_by_distance.sql");
        let rejects: Vec<(String, i64)> = by_months!("rejects.sql");
        let reference = reference::read(conn, url, (from_month, to_month), ids, borough_id).await?;
        let rows_by_month: Vec<(i32, i64, i64)> = sqlx::query_as(include_str!("../sql/build_log.sql"))
            .bind(ids)
            .fetch_all(&mut *conn)
            .await
            .map_err(err("build_log.sql"))?;
        let for_hire = crate::for_hire::ForHire::read(conn, period, url).await?.only(ids);

        Ok(Aggregates {
            filter: Filter { period: Some(period), ..filter.clone() },
            period,
            previous_period,
            services,
            boroughs: boroughs.into_iter().map(|b| b.1).collect(),
            totals,
            previous_totals,
            daily: daily.into_iter().filter_map(|(s, d, t)| Some((s, date_of_id(d)?, t))).collect(),
            revenue_by_month: revenue
                .into_iter()
                .filter_map(|(s, m, r)| Some((s, month_of_id(m)?, r)))
                .collect(),
            hour_weekday,
            top_zones,
            payment_share,
            tip_rate_by_borough,
            fare_by_distance,
            rows_by_month: rows_by_month
                .into_iter()
                .filter_map(|(m, f, r)| Some((month_of_id(m)?, f, r)))
                .collect(),
            rejects,
            for_hire,
            reference,
        })
    }
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

fn resolve_borough(boroughs: &[(i32, String)], name: Option<&str>) -> Result<Option<i32>, VizError> {
    let Some(name) = name else { return Ok(None) };
    boroughs.iter().find(|b| b.1.eq_ignore_ascii_case(name)).map(|b| Some(b.0)).ok_or_else(|| {
        VizError::UnknownFilter {
            what: "borough",
            value: name.to_owned(),
            known: boroughs.iter().map(|b| b.1.clone()).collect(),
        }
    })
}

/// The `len` months ending just before `period` starts.
pub fn previous_period(period: MonthRange) -> MonthRange {
    let last = period.first().prev();
    let first = (1..period.len()).fold(last, |m, _| m.prev());
    MonthRange::new(first, last).unwrap_or(MonthRange::single(last))
}

/// `YYYYMM`, the mart's month_id.
pub fn month_id(m: YearMonth) -> i32 {
    m.year() * 100 + m.month() as i32
}

fn month_of_id(id: i32) -> Option<YearMonth> {
    YearMonth::new(id / 100, (id % 100) as u32)
}

fn date_of_id(id: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(id / 10_000, (id / 100 % 100) as u32, (id % 100) as u32)
}

/// `[first day, first day after)` of the period as `YYYYMMDD` date_ids.
fn day_bounds(period: MonthRange) -> (i32, i32) {
    (month_id(period.first()) * 100 + 1, month_id(period.last().next()) * 100 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_period_has_the_same_length() {
        let p: MonthRange = "2023-01..2023-03".parse().unwrap();
        assert_eq!(previous_period(p).to_string(), "2022-10..2022-12");
        let p: MonthRange = "2023-05".parse().unwrap();
        assert_eq!(previous_period(p).to_string(), "2023-04");
        assert_eq!(day_bounds("2023-12".parse().unwrap()), (20231201, 20240101));
    }
}
