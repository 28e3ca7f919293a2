//! The read-only role the live dashboard connects as: it can read schema `mart` and nothing
//! else, so a bug in the dashboard (or a hostile request) cannot change the mart.

use atl_core::{DatabaseConfig, Secret};

use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection};

use crate::error::VizError;

/// The role `atl-viz grant-readonly` creates unless told otherwise.
pub const DEFAULT_ROLE: &str = "atl_viz";

/// Creates (or updates) login role `role` with `password`, allowed to SELECT from every table
/// of schema `mart`, now and later created by the connecting role. `db` must be an
/// administrator's URL (the mart's owner).
pub async fn grant_readonly(db: &DatabaseConfig, role: &str, password: &Secret) -> Result<(), VizError> {
    let url = db.url.to_string();
    let fail = |source| VizError::Grant { role: role.to_owned(), source };
    // The script holds the password (quoted by the server): sqlx must not log its statements.
    let options = atl_core::pg::connect_options(db.url.expose())
        .map_err(|e| VizError::from_query("connect", &url, e))?
        .disable_statement_logging();
    let mut conn =
        PgConnection::connect_with(&options).await.map_err(|e| VizError::from_query("connect", &url, e))?;
    let script: String = sqlx::query_scalar(include_str!("../sql/readonly_role.sql"))
        .bind(role)
        .bind(password.expose())
        .fetch_one(&mut conn)
        .await
        .map_err(fail)?;
    // The script was quoted by the server (format %I/%L) from bound values.
    sqlx::raw_sql(AssertSqlSafe(script)).execute(&mut conn).await.map_err(fail)?;
    conn.close().await.map_err(fail)?;
    Ok(())
}
