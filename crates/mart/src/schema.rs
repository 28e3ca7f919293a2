//! The mart's SQL: `sql/mart/creation.sql` (the model, applied at every start) and
//! `sql/mart/insertion.sql` (one month from staging into the model), embedded at build time.

use sqlx::{AssertSqlSafe, PgConnection};

use crate::error::MartError;

/// The snowflake model, its functions and its static dimension members. Idempotent.
pub const CREATION_SQL: &str = include_str!("../../../sql/mart/creation.sql");
/// Cleans the staged month set by `atl.month` / `atl.service` into the model, in one
/// transaction (the file holds its own BEGIN and COMMIT).
pub const INSERTION_SQL: &str = include_str!("../../../sql/mart/insertion.sql");
/// Fills `mart.staging_trip` from the warehouse through postgres_fdw (for psql users).
pub const STAGING_FDW_SQL: &str = include_str!("../../../sql/mart/staging_fdw.sql");

/// The advisory lock that serialises builds on a mart server: there is one staging table.
/// insertion.sql takes the same key.
pub const BUILD_LOCK: i64 = 4_281_421;
const SCHEMA_LOCK: i64 = 4_281_422;

/// Applies creation.sql.
pub async fn ensure_schema(conn: &mut PgConnection) -> Result<(), MartError> {
    // Two builders starting at once would race on CREATE ... IF NOT EXISTS; a multi-statement
    // simple query is one transaction, so the lock is held until the DDL commits.
    sqlx::raw_sql(AssertSqlSafe(format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK});\n{CREATION_SQL}")))
        .execute(&mut *conn)
        .await
        .map_err(MartError::sql("creating the mart schema (sql/mart/creation.sql)"))?;
    Ok(())
}
