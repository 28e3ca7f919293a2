//! The migration runner of both servers: each server's schema is a list of numbered
//! migrations (`sql/warehouse/migrations`, `sql/mart/migrations`), embedded by the crate that
//! owns it and applied by sqlx's migrator at every start of a stage binary (and by its
//! `migrate` command). Each is applied once, in its own transaction, and recorded in
//! `<schema>._sqlx_migrations` on the server (`raw._sqlx_migrations`,
//! `mart._sqlx_migrations`): in the schema the migrations build, so neither a role's
//! search_path nor a warehouse and a mart sharing one database can make one server's record
//! look like the other's.
//!
//! Migration 1 is exactly the schema of the releases before migrations existed, which
//! created it with `CREATE ... IF NOT EXISTS` at every start and recorded nothing. A server
//! that has that schema but no migrations table is recognised as being at version 1: the
//! migration is recorded as applied without running it, and the later ones run from there.

use sqlx::PgConnection;
use sqlx::migrate::{MigrateError, Migrator};

use super::error::migrate_cause;
use super::lock;

/// A server's schema as migrations: what [`MigratedSchema::ensure`] brings up to date.
#[derive(Debug)]
pub struct MigratedSchema {
    /// The server, as errors and logs name it: `warehouse` or `mart`.
    pub server: &'static str,
    /// The schema the migrations build, which holds their record.
    pub schema: &'static str,
    /// A table that only a schema of version 1 or later has: its presence without a
    /// migrations record marks a server created before migrations.
    pub v1_marker: &'static str,
    /// The migrations, in order (`sqlx::migrate!` in the crate that owns them).
    pub migrator: &'static Migrator,
    /// Earlier texts of migrations, recorded by servers that applied them, that the current
    /// text replaces with the same effect (see [`Superseded`]).
    pub superseded: &'static [Superseded],
}

/// An earlier text of a migration, by its checksum, whose effect the current text has too
/// (made faster, say). A server that applied it records the current text's checksum instead,
/// where sqlx would otherwise refuse to start: "migration was previously applied but has been
/// modified". Only for a migration whose earlier text never reached a release's users
/// unchanged in effect; any other change is a new migration.
#[derive(Debug, Clone, Copy)]
pub struct Superseded {
    pub version: i64,
    /// The SHA-384 of the earlier text (as sqlx records it), in hex.
    pub sha384_hex: &'static str,
}

/// A migration that could not be applied, with the server named.
#[derive(Debug, thiserror::Error)]
#[error("migrating the {server} schema: {}", migrate_cause(source))]
pub struct MigrationError {
    pub server: &'static str,
    pub source: MigrateError,
}

impl MigratedSchema {
    /// Brings the schema to the newest version this binary knows, and says at info level
    /// what changed. On an error, close the connection: sqlx's own lock may still be held.
    pub async fn ensure(&self, conn: &mut PgConnection) -> Result<MigrationReport, MigrationError> {
        let report = apply_with(conn, self.migrator, self.schema, self.v1_marker, self.superseded)
            .await
            .map_err(|source| MigrationError { server: self.server, source })?;
        report.log(self.server);
        Ok(report)
    }

    /// The version the server is at, changing nothing: for a reader, whose role may only
    /// read. A schema from before migrations counts as version 1, no schema as 0.
    pub async fn version(&self, conn: &mut PgConnection) -> Result<i64, MigrateError> {
        let versions = applied_versions(conn, &self.record_table()).await?;
        if let Some(v) = versions.last() {
            return Ok(*v);
        }
        Ok(i64::from(exists(conn, self.v1_marker).await?))
    }

    /// The newest version this binary knows.
    pub fn newest(&self) -> i64 {
        self.migrator.iter().map(|m| m.version).max().unwrap_or(0)
    }

    fn record_table(&self) -> String {
        format!("{}._sqlx_migrations", self.schema)
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// The schema predated migrations and was recorded as version 1 without running it.
    pub recognised_v1: bool,
    /// The versions applied by this call, in order.
    pub applied: Vec<i64>,
    /// The version the server is at now.
    pub version: i64,
}

/// `schema at version 2: applied 2 (a schema from before migrations, recorded as version 1)`
impl std::fmt::Display for MigrationReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "schema at version {}: ", self.version)?;
        if self.applied.is_empty() {
            f.write_str("nothing to apply")?;
        } else {
            let versions: Vec<String> = self.applied.iter().map(i64::to_string).collect();
            write!(f, "applied {}", versions.join(", "))?;
        }
        if self.recognised_v1 {
            f.write_str(" (a schema from before migrations, recorded as version 1)")?;
        }
        Ok(())
    }
}

impl MigrationReport {
    /// Says at info level what changed on `server`, and nothing when nothing did.
    pub fn log(&self, server: &str) {
        if self.recognised_v1 {
            tracing::info!("{server}: a schema created before migrations existed, recorded as version 1");
        }
        if !self.applied.is_empty() {
            tracing::info!(
                "{server}: applied migrations {:?}; schema at version {}",
                self.applied,
                self.version
            );
        }
    }
}

/// Applies `migrator` on `conn`, recording them in `<schema>._sqlx_migrations`, after
/// recording version 1 as applied when the table `v1_marker` exists but no migration was
/// ever recorded. On an error, close the connection: sqlx's own lock may still be held.
pub async fn apply(
    conn: &mut PgConnection,
    migrator: &Migrator,
    schema: &str,
    v1_marker: &str,
) -> Result<MigrationReport, MigrateError> {
    apply_with(conn, migrator, schema, v1_marker, &[]).await
}

/// [`apply`], after recording the current checksum of every [`Superseded`] text the server
/// applied.
pub async fn apply_with(
    conn: &mut PgConnection,
    migrator: &Migrator,
    schema: &str,
    v1_marker: &str,
    superseded: &[Superseded],
) -> Result<MigrationReport, MigrateError> {
    let mut migrator = Migrator { migrations: migrator.migrations.clone(), ..Migrator::DEFAULT };
    let table = format!("{schema}._sqlx_migrations");
    migrator.dangerous_set_table_name(table.clone());
    migrator.create_schema(schema.to_owned());
    sqlx::query("SELECT pg_advisory_lock($1)").bind(lock::SCHEMA).execute(&mut *conn).await?;
    let outcome = match accept_superseded(conn, &migrator, &table, superseded).await {
        Ok(()) => apply_locked(conn, &migrator, schema, &table, v1_marker).await,
        Err(e) => Err(e),
    };
    // The lock is the session's: release it even when a migration failed.
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(lock::SCHEMA).execute(&mut *conn).await;
    let report = outcome?;
    unlocked?;
    Ok(report)
}

async fn apply_locked(
    conn: &mut PgConnection,
    migrator: &Migrator,
    schema: &str,
    table: &str,
    v1_marker: &str,
) -> Result<MigrationReport, MigrateError> {
    let before = applied_versions(conn, table).await?;
    let legacy = exists(conn, v1_marker).await?;
    // An empty record counts as none: a run that died before recording anything.
    let recognised_v1 = before.is_empty() && legacy;
    if recognised_v1 {
        migrator.skip(&mut *conn, Some(1)).await?;
    }
    let pending: Vec<String> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .filter(|m| !before.contains(&m.version) && (!recognised_v1 || m.version != 1))
        .map(|m| format!("{} ({})", m.version, m.description))
        .collect();
    // Said before they run: one that rewrites the loaded months is silent for minutes.
    if !pending.is_empty() {
        tracing::info!(
            "schema {schema}: applying migrations {}, each in one transaction (one that rewrites the loaded \
             months takes about as long as loading them)",
            pending.join(", ")
        );
    }
    migrator.run(&mut *conn).await?;
    let after = applied_versions(conn, table).await?;
    Ok(MigrationReport {
        recognised_v1,
        applied: after.iter().copied().filter(|v| !before.contains(v)).collect(),
        version: after.last().copied().unwrap_or(0),
    })
}

async fn accept_superseded(
    conn: &mut PgConnection,
    migrator: &Migrator,
    table: &str,
    superseded: &[Superseded],
) -> Result<(), MigrateError> {
    if superseded.is_empty() || !exists(conn, table).await? {
        return Ok(());
    }
    for old in superseded {
        let Some(current) = migrator.iter().find(|m| m.version == old.version) else { continue };
        // `table` is built from a `MigratedSchema`'s schema name, never from input.
        let sql =
            format!("UPDATE {table} SET checksum = $1 WHERE version = $2 AND checksum = decode($3, 'hex')");
        let updated = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(current.checksum.as_ref())
            .bind(old.version)
            .bind(old.sha384_hex)
            .execute(&mut *conn)
            .await?;
        if updated.rows_affected() > 0 {
            tracing::info!(
                "{table}: migration {} was applied from an earlier text with the same effect; recorded as the current one",
                old.version
            );
        }
    }
    Ok(())
}

async fn exists(conn: &mut PgConnection, table: &str) -> Result<bool, MigrateError> {
    Ok(sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(table).fetch_one(&mut *conn).await?)
}

async fn applied_versions(conn: &mut PgConnection, table: &str) -> Result<Vec<i64>, MigrateError> {
    if !exists(conn, table).await? {
        return Ok(Vec::new());
    }
    // `table` is built from the schema name of a `MigratedSchema` or a test's, never from input.
    let sql = format!("SELECT version FROM {table} WHERE success ORDER BY version");
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await?)
}
