//! Errors of the mart stage, each naming the month or statement concerned.

use atl_core::{TripKind, YearMonth};

#[derive(Debug, thiserror::Error)]
pub enum MartError {
    /// The mart or the warehouse, named in the message.
    #[error(transparent)]
    Connect(#[from] atl_core::pg::ConnectError),
    #[error("{what}: {source}")]
    Sql { what: String, source: sqlx::Error },
    #[error(transparent)]
    Migrate(#[from] atl_core::pg::MigrationError),
    #[error(transparent)]
    Warehouse(#[from] atl_warehouse::WarehouseError),
    #[error("{source} (the warehouse at {url})")]
    WarehouseSchema { url: String, source: Box<atl_warehouse::WarehouseError> },
    #[error(transparent)]
    Lake(#[from] atl_lake::LakeError),
    #[error("reading the zone table {key} from the lake: {source}")]
    ZoneTable { key: String, source: object_store::Error },
    #[error("reading {key} from the lake: {source}")]
    ReadReference { key: String, source: object_store::Error },
    #[error("{key} in the lake does not read: {reason}")]
    Reference { key: String, reason: atl_lake::reference::ReferenceError },
    #[error(
        "the mart's staging table has a column `{column}` that no kind's raw table has (atl-core's declarations): fix the mart migration that added it"
    )]
    StagingColumn { column: String },
    #[error("the cleaning declarations (crates/mart/src/cleaning) and the mart's tables disagree: {detail}")]
    Cleaning { detail: String },
    #[error("{kind} {month}: streaming the month from the warehouse into the mart: {detail}")]
    Stream { kind: TripKind, month: YearMonth, detail: String },
    #[error("the mart does not model {0} trips")]
    UnsupportedKind(TripKind),
    #[error("{kind} {month} is not in the warehouse (run atl-warehouse load first)")]
    NotInWarehouse { kind: TripKind, month: YearMonth },
    #[error(
        "{kind} {month}: the warehouse holds {warehouse_rows} rows but {staged_rows} reached the mart's staging table"
    )]
    Transfer { kind: TripKind, month: YearMonth, warehouse_rows: i64, staged_rows: u64 },
    #[error(
        "{kind} {month}: all {rows} rows were rejected ({}), so the mart holds no trip of it{}",
        reasons.iter().map(|(r, n)| format!("{r}: {n}")).collect::<Vec<_>>().join(", "),
        if reasons.first().is_some_and(|(r, _)| r == "pickup_outside_month") {
            "; the warehouse month holds another month's file (atl-warehouse load refuses it without --allow-other-month)"
        } else {
            ""
        }
    )]
    AllRejected { kind: TripKind, month: YearMonth, rows: i64, reasons: Vec<(String, i64)> },
    #[error(
        "{kind} {month}: the mart does not account for the warehouse month: warehouse {warehouse_rows} rows / {warehouse_total}, \
         mart {fact_rows} fact + {rejected_rows} rejected rows / {fact_total} + {rejected_total}"
    )]
    Mismatch {
        kind: TripKind,
        month: YearMonth,
        warehouse_rows: i64,
        warehouse_total: String,
        fact_rows: i64,
        rejected_rows: i64,
        fact_total: String,
        rejected_total: String,
    },
}

impl MartError {
    pub(crate) fn sql(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> MartError {
        let what = what.into();
        move |source| MartError::Sql { what, source }
    }
}
