//! `mart.build_log`: one row per service and month built, the mart's memory of what it holds.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use crate::error::MartError;

/// What the mart knows about one built month. Money is numeric in the database, text here
/// (exact, and no decimal crate needed).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BuildRecord {
    pub service: String,
    pub month: NaiveDate,
    pub warehouse_rows: i64,
    pub fact_rows: i64,
    pub rejected_rows: i64,
    pub warehouse_total: String,
    pub fact_total: String,
    pub rejected_total: String,
    pub built_at: DateTime<Utc>,
    /// When the warehouse load this build read had finished (raw.load_log.finished_at);
    /// `None` for builds run by hand with psql.
    pub warehouse_loaded_at: Option<DateTime<Utc>>,
    pub seconds: f64,
    pub rows_per_sec: f64,
}

const SELECT: &str = "SELECT s.name AS service, to_date(b.month_id::text, 'YYYYMM') AS month, \
    b.warehouse_rows, b.fact_rows, b.rejected_rows, b.warehouse_total::text AS warehouse_total, \
    b.fact_total::text AS fact_total, b.rejected_total::text AS rejected_total, b.built_at, \
    b.warehouse_loaded_at, b.seconds, b.rows_per_sec FROM mart.build_log b JOIN mart.dim_service s USING (service_id)";

/// Every built month, by service and month.
pub async fn all(conn: &mut PgConnection) -> Result<Vec<BuildRecord>, MartError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY s.name, b.month_id")))
        .fetch_all(conn)
        .await
        .map_err(MartError::sql("reading mart.build_log"))
}

/// The record of one month, if it was built.
pub async fn find(
    conn: &mut PgConnection,
    service: &str,
    month: NaiveDate,
) -> Result<Option<BuildRecord>, MartError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE s.name = $1 AND b.month_id = to_char($2::date, 'YYYYMM')::int"
    )))
    .bind(service)
    .bind(month)
    .fetch_optional(conn)
    .await
    .map_err(MartError::sql("reading mart.build_log"))
}

/// The reasons a month's rows were rejected, with their counts, most frequent first.
pub async fn reject_reasons(
    conn: &mut PgConnection,
    service: &str,
    month: NaiveDate,
) -> Result<Vec<(String, i64)>, MartError> {
    sqlx::query_as(
        "SELECT r.reason, r.rows FROM mart.rejects r JOIN mart.dim_service s USING (service_id) \
         WHERE s.name = $1 AND r.month_id = to_char($2::date, 'YYYYMM')::int ORDER BY r.rows DESC, r.reason",
    )
    .bind(service)
    .bind(month)
    .fetch_all(conn)
    .await
    .map_err(MartError::sql("reading mart.rejects"))
}
