//! What can go wrong between the mart and the page, as a caller can match on it.

use std::path::PathBuf;

/// An error of the viz stage. Messages name the mart by its redacted URL, never its password.
#[derive(Debug, thiserror::Error)]
pub enum VizError {
    /// The server did not answer (refused, timed out, wrong host): the page says so and the
    /// live server keeps trying on the next request.
    #[error("the mart at {url} is unreachable: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// The server answered but the aggregate tables are not there yet (`atl-mart` never ran).
    #[error("the mart has no aggregate tables yet ({detail}); run atl-mart first")]
    MartMissing { detail: String },
    /// The tables exist but hold no day at all.
    #[error("the mart holds no aggregates yet (mart.agg_daily is empty)")]
    EmptyMart,
    /// The filter names a service or borough the mart does not hold.
    #[error("the mart has no {what} {} (it has: {})", crate::filter::quoted(value), known.join(", "))]
    UnknownFilter { what: &'static str, value: String, known: Vec<String> },
    /// A query string or flag the filter cannot parse.
    #[error(transparent)]
    Filter(#[from] crate::filter::FilterError),
    /// Any other failure of a dashboard query.
    #[error("dashboard query {query} failed: {source}")]
    Query {
        query: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// plotters could not draw a chart.
    #[error("cannot draw chart {chart}: {message}")]
    Chart { chart: &'static str, message: String },
    /// resvg could not rasterise a chart's SVG into its PNG export.
    #[error("cannot export chart {chart} to PNG: {message}")]
    Png { chart: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Creating or granting the read-only role failed.
    #[error("cannot set up the read-only role {role}: {source}")]
    Grant {
        role: String,
        #[source]
        source: sqlx::Error,
    },
    /// The warehouse (for `atl-viz eda`) did not answer.
    #[error("the warehouse at {url} is unreachable: {source}")]
    WarehouseUnreachable {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// A query of the exploratory report failed.
    #[error("EDA query {query} on the warehouse failed: {source}")]
    Warehouse {
        query: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The raw table is missing or lacks a column the report needs.
    #[error("cannot profile {table}: {detail}")]
    WarehouseSchema { table: String, detail: String },
    /// The warehouse holds no month of the kind in the requested range.
    #[error("the warehouse holds no month of {table} in {months} (see raw.load_log)")]
    NoWarehouseMonths { table: String, months: String },
    /// A kind without a raw table.
    #[error("the warehouse has no raw table for {kind} trips")]
    NoRawTable { kind: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

impl VizError {
    /// Sorts a query failure into unreachable / missing tables / other.
    pub(crate) fn from_query(query: &'static str, url: &str, source: sqlx::Error) -> VizError {
        match &source {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolClosed => VizError::Unreachable { url: url.to_owned(), source },
            // 42P01 undefined_table, 3F000 invalid_schema_name, 3D000 invalid_catalog_name.
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("42P01" | "3F000")) => {
                VizError::MartMissing { detail: db.message().to_owned() }
            }
            sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000") => {
                VizError::Unreachable { url: url.to_owned(), source }
            }
            _ => VizError::Query { query, source },
        }
    }

    /// Whether the reader asked for something the page cannot show (HTTP 400).
    pub fn is_bad_request(&self) -> bool {
        matches!(self, VizError::UnknownFilter { .. } | VizError::Filter(_))
    }

    /// Whether the cause is on the mart's side (the live server answers 503, not 500).
    pub fn is_mart_unavailable(&self) -> bool {
        matches!(self, VizError::Unreachable { .. } | VizError::MartMissing { .. } | VizError::EmptyMart)
    }
}
