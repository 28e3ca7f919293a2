//! How every stage connects to PostgreSQL: the options of the configured URL, with sqlx's
//! slow-statement log at DEBUG instead of WARN. A month's COPY, its COMMIT on a durable
//! server or the EDA's aggregates take seconds by design; at WARN, every load of a year
//! printed "slow statement" warnings a user could do nothing about. `RUST_LOG=sqlx=debug`
//! still shows them.

use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

/// A statement slower than this is logged by sqlx (at DEBUG).
const SLOW_STATEMENT: Duration = Duration::from_secs(1);

/// The connection options of `url` (`postgres://user:password@host:port/database`).
pub fn connect_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    Ok(PgConnectOptions::from_str(url)?.log_slow_statements(log::LevelFilter::Debug, SLOW_STATEMENT))
}
