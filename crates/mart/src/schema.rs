//! The mart's SQL, embedded at build time: the model as numbered migrations
//! (`sql/mart/migrations/NNNN_*.sql`, applied at every start by sqlx's migrator, each once;
//! `sql/mart/creation.sql` runs the same files for psql users) and `sql/mart/insertion.sql`
//! and `sql/mart/insertion_for_hire.sql` (one month from staging into the model).

use atl_core::pg::{MigratedSchema, MigrationReport, Superseded};
use sqlx::PgConnection;
use sqlx::migrate::Migrator;

use crate::error::MartError;

/// The snowflake model, its functions and its static dimension members, version by version.
/// Version 1 is the model of the releases before migrations, which a mart they created is
/// recognised as (see [`atl_core::pg::migrate`]).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../sql/mart/migrations");
/// The mart's schema: `mart`, of which a version-1 server (from before migrations) has
/// `mart.build_log`.
pub static SCHEMA: MigratedSchema = MigratedSchema {
    server: "mart",
    schema: "mart",
    v1_marker: "mart.build_log",
    migrator: &MIGRATOR,
    superseded: &[Superseded {
        // Migration 10 as first landed (commit fd14bee): the same aggregates, with a borough
        // looked up by a function call per fact row (~200 s for a 3 M-row month).
        version: 10,
        sha384_hex: "f47e07863b2da54c858d3f411e6c774a57e178bc9a2a40b27f9abc15301b6fbe056151af33b92521f87527970d73a379",
    }],
};
/// Cleans the staged month set by `atl.month` / `atl.service` into the model, in one
/// transaction (the file holds its own BEGIN and COMMIT).
pub const INSERTION_SQL: &str = include_str!("../../../sql/mart/insertion.sql");
/// The same for a month of fhv or fhvhv (`atl.service` names the kind), from
/// `mart.staging_for_hire`: one build_log row per service (HVFHV licence).
pub const INSERTION_FOR_HIRE_SQL: &str = include_str!("../../../sql/mart/insertion_for_hire.sql");
/// Fills `mart.staging_trip` from the warehouse through postgres_fdw (for psql users).
pub const STAGING_FDW_SQL: &str = include_str!("../../../sql/mart/staging_fdw.sql");

/// Brings the mart's model to the newest migration this release knows.
pub async fn ensure_schema(conn: &mut PgConnection) -> Result<MigrationReport, MartError> {
    Ok(SCHEMA.ensure(conn).await?)
}

#[cfg(test)]
mod tests {
    use atl_core::pg::lock::MART_BUILD;

    use super::*;

    /// The SQL files take the build lock by a literal (psql runs them as they are): the key
    /// declared in core.
    #[test]
    fn the_insertions_take_cores_build_lock() {
        for (file, sql) in
            [("insertion.sql", INSERTION_SQL), ("insertion_for_hire.sql", INSERTION_FOR_HIRE_SQL)]
        {
            let keys: Vec<&str> = sql
                .split("pg_advisory_xact_lock(")
                .skip(1)
                .map(|rest| rest.split(')').next().unwrap_or_default())
                .collect();
            assert_eq!(keys, [MART_BUILD.to_string()], "the advisory locks sql/mart/{file} takes");
        }
    }
}
