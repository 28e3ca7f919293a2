//! A PostgreSQL error in its own words, for [`crate::ErrorChain::with_render`]: its message,
//! detail and hint, without the driver's "at line N" (a line of PostgreSQL's own C source, not
//! of the user's SQL). Every stage binary that talks to a server prints its errors this way.

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
