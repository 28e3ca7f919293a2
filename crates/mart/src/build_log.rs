//! `mart.build_log`: one row per service and month built, the mart's memory of what it holds.
//! A kind's month is one build: one row for a taxi kind or other FHV, one per licence for
//! HVFHV (Uber, Lyft, ...).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use crate::error::MartError;

/// What the mart knows about one built month. Money is numeric in the database, text here
/// (exact, and no decimal crate needed).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BuildRecord {
    pub service: String,
    /// The trip kind the service belongs to (yellow, green, fhv, fhvhv).
    pub kind: String,
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

const SELECT: &str = "SELECT s.name AS service, s.kind, to_date(b.month_id::text, 'YYYYMM') AS month, \
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

/// The records of one month of a kind (one per service), by service.
pub async fn of_kind_month(
    conn: &mut PgConnection,
    kind: &str,
    month: NaiveDate,
) -> Result<Vec<BuildRecord>, MartError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE s.kind = $1 AND b.month_id = to_char($2::date, 'YYYYMM')::int ORDER BY s.name"
    )))
    .bind(kind)
    .bind(month)
    .fetch_all(conn)
    .await
    .map_err(MartError::sql("reading mart.build_log"))
}

/// The reasons a kind's month's rows were rejected (all its services), with their counts,
/// most frequent first.
pub async fn reject_reasons(
    conn: &mut PgConnection,
    kind: &str,
    month: NaiveDate,
) -> Result<Vec<(String, i64)>, MartError> {
    sqlx::query_as(
        "SELECT r.reason, sum(r.rows)::bigint FROM mart.rejects r JOIN mart.dim_service s USING (service_id) \
         WHERE s.kind = $1 AND r.month_id = to_char($2::date, 'YYYYMM')::int GROUP BY r.reason \
         ORDER BY 2 DESC, r.reason",
    )
    .bind(kind)
    .bind(month)
    .fetch_all(conn)
    .await
    .map_err(MartError::sql("reading mart.rejects"))
}
