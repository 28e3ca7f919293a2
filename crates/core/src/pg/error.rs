//! PostgreSQL's errors in words an operator can act on: a server's error by its message,
//! detail and hint, without the driver's "at line N" (a line of PostgreSQL's own C source, not
//! of the user's SQL), for [`crate::ErrorChain::with_render`] (every stage binary that talks
//! to a server prints its errors this way); a failed migration by what to do about it; and
//! which errors are the connection failing rather than a statement refused.

use std::error::Error;

/// Renders a cause of an error chain: a PostgreSQL error by its message, detail and hint;
/// sqlx's "error returned from database" wrapper skipped (the next line says it better);
/// `None` for any other error.
pub fn render_cause(error: &(dyn Error + 'static)) -> Option<String> {
    // sqlx gives its database error as the source of `sqlx::Error::Database`, boxed.
    let pg = error.downcast_ref::<sqlx::postgres::PgDatabaseError>().or_else(|| {
        error
            .downcast_ref::<Box<dyn sqlx::error::DatabaseError>>()
            .and_then(|e| e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>())
    });
    if let Some(pg) = pg {
        let mut text = pg.message().to_owned();
        if let Some(detail) = pg.detail() {
            text.push_str(&format!(" (detail: {detail})"));
        }
        if let Some(hint) = pg.hint() {
            text.push_str(&format!(" (hint: {hint})"));
        }
        return Some(text);
    }
    if let Some(sqlx::Error::Database(_)) = error.downcast_ref::<sqlx::Error>() {
        return Some(String::new());
    }
    None
}

/// A migration failure in words an operator can act on.
pub fn migrate_cause(error: &sqlx::migrate::MigrateError) -> String {
    use sqlx::migrate::MigrateError as E;
    match error {
        E::VersionMissing(v) => format!(
            "the server is at migration {v}, which this binary does not know: it was upgraded by a newer \
             release; run that release (or a newer one), not this one"
        ),
        E::VersionMismatch(v) => {
            format!(
                "migration {v} on the server differs from this binary's: the migration file was edited after release"
            )
        }
        E::Dirty(v) => format!("migration {v} failed part-way earlier; fix the cause and rerun it"),
        other => other.to_string(),
    }
}

/// Whether a sqlx error is the connection failing rather than a statement being refused.
pub fn is_connection_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::PoolClosed => true,
        // Class 08 (connection exception) and 57P (the server shut the session down:
        // pg_terminate_backend, a restart).
        sqlx::Error::Database(e) => e.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}
