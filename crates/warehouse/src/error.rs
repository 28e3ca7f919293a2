//! Errors of the warehouse stage, each naming the month, object or statement concerned.

use atl_core::{SchemaError, TripKind, YearMonth};

use crate::encode::UnsupportedType;

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("connecting to the warehouse at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("{what}: {source}")]
    Sql { what: String, source: sqlx::Error },
    #[error("migrating the {server} schema: {}", crate::error::migrate_cause(source))]
    Migrate { server: &'static str, source: sqlx::migrate::MigrateError },
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
    #[error("the warehouse has no raw table for {0} trips yet (yellow and green are modelled)")]
    UnsupportedKind(TripKind),
    #[error("{key} holds no rows; the month in the warehouse was left as it was")]
    Empty { key: String },
    #[error("loading {key}: the COPY stream ended early: {reason}")]
    Stream { key: String, reason: String },
}

impl WarehouseError {
    pub(crate) fn sql(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> WarehouseError {
        let what = what.into();
        move |source| WarehouseError::Sql { what, source }
    }
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
