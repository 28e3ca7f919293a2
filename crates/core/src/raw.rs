//! Where each kind's rows live in the warehouse, derived from the canonical declaration in
//! [`crate::schema`]: the raw table's name, its lineage columns, the COPY column list and the
//! DDL of a month's table. Every stage names a raw table through [`RawTable`], so the name is
//! written here once.
//!
//! The parents (`raw.<kind>_tripdata`) are created by the warehouse's numbered migrations
//! (`sql/warehouse/migrations/`); a month's table is created from this declaration and then
//! attached to its parent, which PostgreSQL refuses unless both have the same columns and
//! types. A migration that disagrees with core therefore fails the first load, and the
//! warehouse's schema test fails before that.

use std::borrow::Cow;

use crate::kind::TripKind;
use crate::month::YearMonth;
use crate::schema::{Column, canonical_columns};

/// The PostgreSQL schema of the raw layer.
pub const RAW_SCHEMA: &str = "raw";
/// The load log: one row per kind and month loaded.
pub const LOAD_LOG: &str = "raw.load_log";
/// What each load counted as it read the file: rows and passenger cents per licence.
pub const LOAD_TOTALS: &str = "raw.load_totals";

/// A lineage column: not a TLC column, but where a row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineageColumn {
    pub name: &'static str,
    pub sql_type: &'static str,
}

/// The lineage columns, first in every raw table: the month of the file (the partition
/// key) and the row's 0-based position in the month's lake object, which `raw.load_log`
/// names once per month (`object_key`). The position is an `integer`: the largest TLC objects
/// hold about 25 M rows, and the loader refuses one of more than 2^31.
pub const LINEAGE: [LineageColumn; 2] = [
    LineageColumn { name: "source_month", sql_type: "date" },
    LineageColumn { name: "source_row", sql_type: "integer" },
];

/// One kind's raw table: its names and columns.
#[derive(Debug, Clone)]
pub struct RawTable {
    pub kind: TripKind,
    columns: Cow<'static, [Column]>,
}

impl RawTable {
    /// The raw table of `kind`; `None` for kinds without a canonical schema yet.
    pub fn new(kind: TripKind) -> Option<RawTable> {
        canonical_columns(kind).map(|c| RawTable { kind, columns: Cow::Borrowed(c) })
    }

    /// The raw table of `kind` with other columns than core's declaration (a column that a
    /// migration adds, before it is declared here; the test of adding a column uses it).
    pub fn with_columns(kind: TripKind, columns: Vec<Column>) -> RawTable {
        RawTable { kind, columns: Cow::Owned(columns) }
    }

    /// The canonical columns, in table order after the lineage.
    pub fn data_columns(&self) -> &[Column] {
        &self.columns
    }

    /// `yellow_tripdata`, unqualified and unquoted.
    pub fn name(&self) -> String {
        format!("{}_tripdata", self.kind)
    }

    /// `raw."yellow_tripdata"`
    pub fn parent(&self) -> String {
        format!("{RAW_SCHEMA}.{}", quote_ident(&self.name()))
    }

    /// `yellow_tripdata_2023_01`, unquoted.
    pub fn partition_name(&self, month: YearMonth) -> String {
        format!("{}_{:04}_{:02}", self.name(), month.year(), month.month())
    }

    /// `raw."yellow_tripdata_2023_01"`
    pub fn partition(&self, month: YearMonth) -> String {
        format!("{RAW_SCHEMA}.{}", quote_ident(&self.partition_name(month)))
    }

    /// The table a month is loaded into before it replaces the partition.
    pub fn loading(&self, month: YearMonth) -> String {
        format!("{RAW_SCHEMA}.{}", quote_ident(&format!("{}_loading", self.partition_name(month))))
    }

    /// Part `i` of a month being loaded (a slice of the object's rows, filled by its own
    /// connection), before it is attached under the month's new partition.
    pub fn loading_part(&self, month: YearMonth, i: usize) -> String {
        format!("{RAW_SCHEMA}.\"{}_loading_p{i}\"", self.partition_name(month))
    }

    /// Part `i`'s name once its month is in place: `yellow_tripdata_2023_01_p0`, unquoted.
    pub fn part_name(&self, month: YearMonth, i: usize) -> String {
        format!("{}_p{i}", self.partition_name(month))
    }

    /// Every column in table (and COPY) order: lineage, then the canonical columns.
    pub fn columns(&self) -> Vec<&str> {
        LINEAGE.iter().map(|l| l.name).chain(self.columns.iter().map(|c| c.name)).collect()
    }

    /// `"source_month", "source_row", ...`: the COPY column list.
    pub fn column_list(&self) -> String {
        self.columns().iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
    }

    /// Every column with its PostgreSQL type (lineage first), as the parent must have them.
    pub fn sql_columns(&self) -> Vec<(&str, &str)> {
        let lineage = LINEAGE.iter().map(|l| (l.name, l.sql_type));
        lineage.chain(self.columns.iter().map(|c| (c.name, c.kind.sql_type()))).collect()
    }

    /// The parent's columns with their types, lineage NOT NULL, as DDL.
    fn column_ddl(&self) -> String {
        self.sql_columns()
            .into_iter()
            .enumerate()
            .map(|(i, (name, ty))| {
                let not_null = if i < LINEAGE.len() { " NOT NULL" } else { "" };
                format!("{} {ty}{not_null}", quote_ident(name))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `CREATE TABLE <loading> (...) PARTITION BY RANGE (source_row)` for `month`: the
    /// month's partition, whose parts ([`RawTable::create_part_sql`]) are slices of the
    /// object's rows that the loader fills over parallel connections.
    pub fn create_loading_sql(&self, month: YearMonth) -> String {
        format!(
            "CREATE TABLE {} ({}) PARTITION BY RANGE (source_row)",
            self.loading(month),
            self.column_ddl()
        )
    }

    /// `ALTER TABLE <part i> ALTER COLUMN ... SET STATISTICS` [`RAW_STATISTICS_TARGET`], every
    /// column.
    pub fn part_statistics_sql(&self, month: YearMonth, i: usize) -> String {
        let columns: Vec<String> = self
            .columns()
            .iter()
            .map(|c| format!("ALTER COLUMN {} SET STATISTICS {RAW_STATISTICS_TARGET}", quote_ident(c)))
            .collect();
        format!("ALTER TABLE {} {}", self.loading_part(month, i), columns.join(", "))
    }

    /// `CREATE TABLE <part i> (...)` for `month` and the rows `[lo, hi)` (`None`: unbounded):
    /// the parent's columns, and as CHECKs the month's partition constraint and the part's
    /// bounds, so that neither ATTACH scans the rows to prove them.
    pub fn create_part_sql(&self, month: YearMonth, i: usize, lo: Option<i64>, hi: Option<i64>) -> String {
        let range = match (lo, hi) {
            (Some(lo), Some(hi)) => format!(", CHECK (source_row >= {lo} AND source_row < {hi})"),
            (Some(lo), None) => format!(", CHECK (source_row >= {lo})"),
            (None, Some(hi)) => format!(", CHECK (source_row < {hi})"),
            (None, None) => String::new(),
        };
        format!(
            "CREATE TABLE {} ({}, CHECK (source_month = {}){range})",
            self.loading_part(month, i),
            self.column_ddl(),
            month_literal(month)
        )
    }
}

/// The statistics target of every column of a raw part (PostgreSQL's default is 100). A raw
/// month is only ever read whole (the mart's stream and count, the audit), so its planner
/// statistics need not be fine; ANALYZE samples 300 rows per unit of the largest target, and
/// autovacuum's first ANALYZE of a loaded month (0.4 s per part at 100, 0.03 s at 10, on a
/// 3 M-row month) otherwise runs beside the next stage: in a year's pipeline, during the
/// first mart builds.
pub const RAW_STATISTICS_TARGET: u16 = 10;

/// `"name"` with inner quotes doubled: how every identifier enters generated SQL.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `DATE 'YYYY-MM-01'`: a validated month, safe to write into DDL, which takes no parameters.
pub fn month_literal(month: YearMonth) -> String {
    format!("DATE '{}'", month.first_day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ddl_come_from_the_declaration() {
        let table = RawTable::new(TripKind::Green).unwrap();
        let month: YearMonth = "2024-01".parse().unwrap();
        assert_eq!(table.parent(), "raw.\"green_tripdata\"");
        assert_eq!(table.partition(month), "raw.\"green_tripdata_2024_01\"");
        let ddl = table.create_loading_sql(month);
        assert!(ddl.starts_with("CREATE TABLE raw.\"green_tripdata_2024_01_loading\" ("), "{ddl}");
        assert!(ddl.contains("\"source_month\" date NOT NULL"), "{ddl}");
        assert!(ddl.contains("\"ehail_fee\" double precision,"), "{ddl}");
        assert!(ddl.ends_with(") PARTITION BY RANGE (source_row)"), "{ddl}");
        let part = table.create_part_sql(month, 1, Some(10), None);
        assert!(part.starts_with("CREATE TABLE raw.\"green_tripdata_2024_01_loading_p1\" ("), "{part}");
        assert!(
            part.ends_with("CHECK (source_month = DATE '2024-01-01'), CHECK (source_row >= 10))"),
            "{part}"
        );
        assert_eq!(table.columns().len(), 2 + canonical_columns(TripKind::Green).unwrap().len());
        assert_eq!(RawTable::new(TripKind::Fhvhv).unwrap().parent(), "raw.\"fhvhv_tripdata\"");
    }
}
