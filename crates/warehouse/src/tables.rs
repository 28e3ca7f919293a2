//! The raw layer's tables: created from `sql/warehouse/raw.sql`, one partition per month.

use atl_core::schema::canonical_columns;
use atl_core::{TripKind, YearMonth};
use sqlx::{AssertSqlSafe, PgConnection};

use crate::error::WarehouseError;

const RAW_SQL: &str = include_str!("../../../sql/warehouse/raw.sql");

/// Creates the `raw` schema, the load log and the per-kind tables when they are missing.
pub async fn ensure_schema(conn: &mut PgConnection) -> Result<(), WarehouseError> {
    // Two loaders starting at once would race on CREATE ... IF NOT EXISTS; a multi-statement
    // simple query is one transaction, so the lock is held until the DDL commits.
    sqlx::raw_sql(AssertSqlSafe(format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK});\n{RAW_SQL}")))
        .execute(&mut *conn)
        .await
        .map_err(WarehouseError::sql("creating the raw schema (sql/warehouse/raw.sql)"))?;
    Ok(())
}

/// "ATL" in ASCII, shifted: a lock id unlikely to collide with other applications.
const SCHEMA_LOCK: i64 = 0x0041_544c_0000;

/// Names of one kind's raw table and of a month's partition.
#[derive(Debug, Clone)]
pub struct RawTable {
    pub kind: TripKind,
}

impl RawTable {
    pub fn new(kind: TripKind) -> Result<RawTable, WarehouseError> {
        canonical_columns(kind).ok_or(WarehouseError::UnsupportedKind(kind))?;
        Ok(RawTable { kind })
    }

    /// `raw."yellow_tripdata"`
    pub fn parent(&self) -> String {
        format!("raw.\"{}_tripdata\"", self.kind)
    }

    /// `yellow_tripdata_2023_01`, unquoted.
    pub fn partition_name(&self, month: YearMonth) -> String {
        format!("{}_tripdata_{:04}_{:02}", self.kind, month.year(), month.month())
    }

    pub fn partition(&self, month: YearMonth) -> String {
        format!("raw.\"{}\"", self.partition_name(month))
    }

    /// `raw."yellow_tripdata_shape"`: an empty table with the parent's columns, the model of
    /// each month's table (see sql/warehouse/raw.sql for why not the parent itself).
    pub fn shape(&self) -> String {
        format!("raw.\"{}_tripdata_shape\"", self.kind)
    }

    /// The table a month is loaded into before it replaces the partition.
    pub fn loading(&self, month: YearMonth) -> String {
        format!("raw.\"{}_loading\"", self.partition_name(month))
    }

    /// Part `i` of a month being loaded (a slice of the object's rows), before it is
    /// attached under the month's new partition.
    pub fn loading_part(&self, month: YearMonth, i: usize) -> String {
        format!("raw.\"{}_loading_p{i}\"", self.partition_name(month))
    }

    /// Every column in COPY order: lineage, then the canonical columns.
    pub fn columns(&self) -> Vec<&'static str> {
        let data = canonical_columns(self.kind).expect("checked in new").iter().map(|c| c.name);
        ["source_month", "source_row"].into_iter().chain(data).collect()
    }

    pub fn column_list(&self) -> String {
        self.columns().iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
    }
}

/// `DATE 'YYYY-MM-01'`: a validated month, safe to write into DDL, which takes no parameters.
pub fn month_literal(month: YearMonth) -> String {
    format!("DATE '{}'", month.first_day())
}
