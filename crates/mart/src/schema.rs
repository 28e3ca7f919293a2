//! The mart's SQL, embedded at build time: the model as numbered migrations
//! (`sql/mart/migrations/NNNN_*.sql`, applied at every start by sqlx's migrator, each once;
//! `sql/mart/creation.sql` runs the same files for psql users) and `sql/mart/insertion.sql`
//! and `sql/mart/insertion_for_hire.sql` (one month from staging into the model).

use sqlx::PgConnection;
use sqlx::migrate::Migrator;

use crate::error::MartError;

/// The snowflake model, its functions and its static dimension members, version by version.
/// Version 1 is the model of the releases before migrations, which a mart they created is
/// recognised as (see [`atl_warehouse::migrate::apply`]).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../sql/mart/migrations");
/// A table every mart of version 1 or later has.
const V1_MARKER: &str = "mart.build_log";
/// Cleans the staged month set by `atl.month` / `atl.service` into the model, in one
/// transaction (the file holds its own BEGIN and COMMIT).
pub const INSERTION_SQL: &str = include_str!("../../../sql/mart/insertion.sql");
/// The same for a month of fhv or fhvhv (`atl.service` names the kind), from
/// `mart.staging_for_hire`: one build_log row per service (HVFHV licence).
pub const INSERTION_FOR_HIRE_SQL: &str = include_str!("../../../sql/mart/insertion_for_hire.sql");
/// Fills `mart.staging_trip` from the warehouse through postgres_fdw (for psql users).
pub const STAGING_FDW_SQL: &str = include_str!("../../../sql/mart/staging_fdw.sql");

/// The advisory lock that serialises builds on a mart server: there is one staging table.
/// insertion.sql takes the same key.
pub const BUILD_LOCK: i64 = 4_281_421;

/// Brings the mart's model to the newest migration this release knows.
pub async fn ensure_schema(
    conn: &mut PgConnection,
) -> Result<atl_warehouse::migrate::MigrationReport, MartError> {
    let report = atl_warehouse::migrate::apply(conn, &MIGRATOR, "mart", V1_MARKER)
        .await
        .map_err(|source| MartError::Migrate { source })?;
    report.log("mart");
    Ok(report)
}
