//! Errors of the warehouse stage, each naming the month, object or statement concerned.

use atl_core::{SchemaError, TripKind, YearMonth};

use atl_core::pg::is_connection_error;

use crate::encode::UnsupportedType;

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error(transparent)]
    Connect(#[from] atl_core::pg::ConnectError),
    #[error("{what}: {source}")]
    Sql { what: String, source: sqlx::Error },
    #[error(transparent)]
    Migrate(#[from] atl_core::pg::MigrationError),
    #[error(
        "the warehouse's schema is at version {found}{}, this release reads version {newest}: {}",
        if *found == 0 { " (it holds no raw tables: nothing was loaded yet)" } else { "" },
        if found < newest {
            "run `atl-warehouse migrate` (or a load) with a role that may change the warehouse, then build again"
        } else {
            "it was upgraded by a newer release; run that release (or a newer one), not this one"
        }
    )]
    SchemaVersion { found: i64, newest: i64 },
    #[error(transparent)]
    Lake(#[from] atl_lake::LakeError),
    #[error("reading {key} from the lake: {source}")]
    Read { key: String, source: parquet::errors::ParquetError },
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("{key}: {source}")]
    Encode { key: String, source: UnsupportedType },
    #[error("{kind} {month} is not in the lake (run atl-ingest first)")]
    NotInLake { kind: TripKind, month: YearMonth },
    #[error("the warehouse has no raw table for {0} trips")]
    UnsupportedKind(TripKind),
    #[error(
        "{key}: {source}; the month in the warehouse was left as it was (--allow-other-month loads it anyway)"
    )]
    WrongMonth { key: String, source: atl_core::WrongMonth },
    #[error("{key} holds no rows; the month in the warehouse was left as it was")]
    Empty { key: String },
    #[error("loading {key}: the COPY stream ended early: {reason}")]
    Stream { key: String, reason: String },
}

impl WarehouseError {
    /// Whether the server or the connection failed (refused, closed mid-COPY, TLS...), as
    /// opposed to a statement the server refused or a bad object.
    pub fn is_connection_error(&self) -> bool {
        match self {
            WarehouseError::Connect(_) => true,
            WarehouseError::Sql { source, .. } => is_connection_error(source),
            _ => false,
        }
    }

    /// Names the server in a connection error raised mid-statement (e.g. `Broken pipe`).
    pub(crate) fn on_server(self, url: &str) -> WarehouseError {
        match self {
            WarehouseError::Sql { what, source } if is_connection_error(&source) => {
                WarehouseError::Sql { what: format!("{what} (the connection to {url} failed)"), source }
            }
            other => other,
        }
    }

    pub(crate) fn sql(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> WarehouseError {
        let what = what.into();
        move |source| WarehouseError::Sql { what, source }
    }
}
