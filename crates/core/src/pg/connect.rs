//! How every stage connects to PostgreSQL: the options of the configured URL, with sqlx's
//! slow-statement log at DEBUG instead of WARN. A month's COPY, its COMMIT on a durable
//! server or the EDA's aggregates take seconds by design; at WARN, every load of a year
//! printed "slow statement" warnings a user could do nothing about. `RUST_LOG=sqlx=debug`
//! still shows them.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::DatabaseConfig;

/// A statement slower than this is logged by sqlx (at DEBUG).
const SLOW_STATEMENT: Duration = Duration::from_secs(1);

/// A server that could not be reached, named by its role in the pipeline and its URL (the
/// password hidden).
#[derive(Debug, thiserror::Error)]
#[error("connecting to the {server} at {url}: {source}")]
pub struct ConnectError {
    /// `warehouse` or `mart`.
    pub server: &'static str,
    pub url: String,
    pub source: sqlx::Error,
}

/// The connection options of `url` (`postgres://user:password@host:port/database`).
pub fn connect_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    Ok(PgConnectOptions::from_str(url)?.log_slow_statements(log::LevelFilter::Debug, SLOW_STATEMENT))
}

/// The options of `config`'s server for a reader: every transaction read-only (even a role
/// that could write cannot through it), and `application_name` shown in `pg_stat_activity`.
pub fn read_only_options(
    server: &'static str,
    config: &DatabaseConfig,
    application_name: &str,
) -> Result<PgConnectOptions, ConnectError> {
    Ok(options(server, config)?
        .application_name(application_name)
        .options([("default_transaction_read_only", "on")]))
}

/// One connection to `config`'s server, the `warehouse` or the `mart` (`server` names it in
/// the error).
pub async fn connect(server: &'static str, config: &DatabaseConfig) -> Result<PgConnection, ConnectError> {
    connect_with(server, config, &options(server, config)?).await
}

/// One connection with `options` (from [`read_only_options`] or [`connect_options`]), its
/// error naming `server` and `config`'s URL.
pub async fn connect_with(
    server: &'static str,
    config: &DatabaseConfig,
    options: &PgConnectOptions,
) -> Result<PgConnection, ConnectError> {
    PgConnection::connect_with(options).await.map_err(|source| failed(server, config, source))
}

fn options(server: &'static str, config: &DatabaseConfig) -> Result<PgConnectOptions, ConnectError> {
    connect_options(config.url.expose()).map_err(|source| failed(server, config, source))
}

fn failed(server: &'static str, config: &DatabaseConfig, source: sqlx::Error) -> ConnectError {
    ConnectError { server, url: config.url.to_string(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> DatabaseConfig {
        DatabaseConfig { url: url.into(), parallelism: 1 }
    }

    #[test]
    fn a_reader_connects_read_only_under_its_name() {
        let options =
            read_only_options("mart", &config("postgres://viz:pw@127.0.0.1:5432/mart"), "atl-viz").unwrap();
        assert_eq!(options.get_application_name(), Some("atl-viz"));
        assert_eq!(options.get_options(), Some("-c default_transaction_read_only=on"));
        assert_eq!(
            (options.get_host(), options.get_port(), options.get_database()),
            ("127.0.0.1", 5432, Some("mart"))
        );
    }

    #[test]
    fn a_server_that_cannot_be_reached_is_named_without_its_password() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = config(&format!("postgres://atl:secret-pw@127.0.0.1:{port}/warehouse"));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let error = runtime.block_on(connect("warehouse", &config)).unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with(&format!(
                "connecting to the warehouse at postgres://atl:***@127.0.0.1:{port}/warehouse: "
            )),
            "{text}"
        );
        assert!(!text.contains("secret-pw"), "{text}");
        assert!(crate::pg::is_connection_error(&error.source), "{:?}", error.source);
    }
}
