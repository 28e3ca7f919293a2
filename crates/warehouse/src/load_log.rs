//! `raw.load_log`: one row per kind and month loaded, the warehouse's memory of what it holds.

use atl_core::money::LicenceTotal;
use atl_core::raw::LOAD_TOTALS;
use atl_core::{TripKind, YearMonth};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AssertSqlSafe;
use sqlx::PgConnection;

use crate::error::WarehouseError;

/// What the warehouse knows about one loaded month.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LoadRecord {
    pub kind: String,
    pub month: NaiveDate,
    pub object_key: String,
    pub object_size: i64,
    pub etag: Option<String>,
    pub rows: i64,
    pub total_amount_sum: Option<f64>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub rows_per_sec: f64,
}

impl LoadRecord {
    pub fn year_month(&self) -> YearMonth {
        YearMonth::of(self.month)
    }

    /// Whether this load came from the object described by `size` and `etag`.
    pub fn same_object(&self, size: u64, etag: Option<&str>) -> bool {
        self.object_size == size as i64 && (etag.is_none() || self.etag.as_deref() == etag)
    }
}

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT kind, month, object_key, object_size, etag, rows, total_amount_sum, ",
            "started_at, finished_at, rows_per_sec FROM raw.load_log ",
            $rest
        )
    };
}

pub async fn find(
    conn: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
) -> Result<Option<LoadRecord>, WarehouseError> {
    sqlx::query_as(select!("WHERE kind = $1 AND month = $2"))
        .bind(kind.as_str())
        .bind(month.first_day())
        .fetch_optional(conn)
        .await
        .map_err(WarehouseError::sql("reading raw.load_log"))
}

pub async fn all(conn: &mut PgConnection) -> Result<Vec<LoadRecord>, WarehouseError> {
    sqlx::query_as(select!("ORDER BY kind, month"))
        .fetch_all(conn)
        .await
        .map_err(WarehouseError::sql("reading raw.load_log"))
}

pub async fn record(conn: &mut PgConnection, r: &LoadRecord) -> Result<(), WarehouseError> {
    sqlx::query(
        "INSERT INTO raw.load_log (kind, month, object_key, object_size, etag, rows, total_amount_sum, \
         started_at, finished_at, rows_per_sec) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (kind, month) DO UPDATE SET object_key = EXCLUDED.object_key, \
         object_size = EXCLUDED.object_size, etag = EXCLUDED.etag, rows = EXCLUDED.rows, \
         total_amount_sum = EXCLUDED.total_amount_sum, started_at = EXCLUDED.started_at, \
         finished_at = EXCLUDED.finished_at, rows_per_sec = EXCLUDED.rows_per_sec",
    )
    .bind(&r.kind)
    .bind(r.month)
    .bind(&r.object_key)
    .bind(r.object_size)
    .bind(&r.etag)
    .bind(r.rows)
    .bind(r.total_amount_sum)
    .bind(r.started_at)
    .bind(r.finished_at)
    .bind(r.rows_per_sec)
    .execute(conn)
    .await
    .map_err(WarehouseError::sql("writing raw.load_log"))?;
    Ok(())
}

/// Replaces the month's figures in `raw.load_totals` with `totals` (the load's count per
/// licence), or with none when the load could not count them ([`atl_core::money`]).
pub async fn record_totals(
    conn: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
    totals: Option<&[LicenceTotal]>,
) -> Result<(), WarehouseError> {
    let totals = totals.unwrap_or_default();
    let licences: Vec<Option<&str>> = totals.iter().map(|t| t.licence.as_deref()).collect();
    let rows: Vec<i64> = totals.iter().map(|t| t.rows).collect();
    let cents: Vec<String> = totals.iter().map(|t| t.cents.to_string()).collect();
    let what = || format!("writing {LOAD_TOTALS}");
    sqlx::query(AssertSqlSafe(format!("DELETE FROM {LOAD_TOTALS} WHERE kind = $1 AND month = $2")))
        .bind(kind.as_str())
        .bind(month.first_day())
        .execute(&mut *conn)
        .await
        .map_err(WarehouseError::sql(what()))?;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {LOAD_TOTALS} (kind, month, licence, rows, passenger_cents) \
         SELECT $1, $2, l, r, c::numeric FROM unnest($3::text[], $4::bigint[], $5::text[]) AS t(l, r, c)"
    )))
    .bind(kind.as_str())
    .bind(month.first_day())
    .bind(licences)
    .bind(rows)
    .bind(cents)
    .execute(conn)
    .await
    .map_err(WarehouseError::sql(what()))?;
    Ok(())
}
