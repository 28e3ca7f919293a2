//! The warehouse's schema, as numbered migrations: `sql/warehouse/migrations/NNNN_*.sql`,
//! embedded at build time and applied by core's runner ([`atl_core::pg::migrate`], which says
//! how a server from before migrations is recognised) at every start of a stage binary (and
//! by `atl-warehouse migrate`), recorded in `raw._sqlx_migrations`.

use atl_core::pg::{MigratedSchema, MigrationReport};
use sqlx::PgConnection;
use sqlx::migrate::{MigrateError, Migrator};

use crate::error::WarehouseError;

/// `sql/warehouse/migrations`, in order.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../sql/warehouse/migrations");

/// The warehouse's schema: `raw`, of which a version-1 server (from before migrations) has
/// `raw.load_log`.
pub static SCHEMA: MigratedSchema = MigratedSchema {
    server: "warehouse",
    schema: "raw",
    v1_marker: "raw.load_log",
    migrator: &MIGRATOR,
    superseded: &[],
};

/// Brings the warehouse's schema to the newest version this binary knows.
pub async fn ensure_schema(conn: &mut PgConnection) -> Result<MigrationReport, WarehouseError> {
    Ok(SCHEMA.ensure(conn).await?)
}

/// Checks, changing nothing, that the warehouse's schema is at the newest version this
/// release knows, and returns it: for readers of the warehouse (the mart), whose role may
/// only read it. A schema from before migrations counts as version 1, no schema as 0.
pub async fn check_schema(conn: &mut PgConnection) -> Result<i64, WarehouseError> {
    let found = SCHEMA.version(conn).await.map_err(|e| match e {
        MigrateError::Execute(source) => {
            WarehouseError::Sql { what: "reading the warehouse's schema version".into(), source }
        }
        source => atl_core::pg::MigrationError { server: SCHEMA.server, source }.into(),
    })?;
    let newest = SCHEMA.newest();
    if found != newest {
        return Err(WarehouseError::SchemaVersion { found, newest });
    }
    Ok(found)
}
