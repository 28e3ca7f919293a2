//! Checking a loaded month against its lake object: row counts, and per column the count of
//! values, the sum of numbers and the range of timestamps, computed once from the Parquet
//! file's own physical columns and once by PostgreSQL over the partition.

use std::collections::HashMap;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use atl_core::schema::ColumnType;
use atl_core::{RawTable, TripFile};
use atl_lake::Lake;
use futures::TryStreamExt;
use object_store::ObjectMeta;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use crate::error::WarehouseError;
use crate::load_log::LoadRecord;

/// One column's figures on both sides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnFigures {
    pub values: i64,
    /// Sum for numbers; min and max (µs since 1970) for timestamps.
    pub sum: f64,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// A month compared across the lake and the warehouse.
#[derive(Debug, Clone)]
pub struct MonthAudit {
    pub file: TripFile,
    pub lake_rows: i64,
    pub warehouse_rows: i64,
    /// (column, lake, warehouse)
    pub columns: Vec<(String, ColumnFigures, ColumnFigures)>,
    /// The object the month was loaded from, when it is no longer in the lake (nothing
    /// could be compared: the warehouse holds rows the lake cannot vouch for).
    pub missing_object: Option<String>,
}

impl MonthAudit {
    /// The audit of a loaded month whose lake object is gone.
    pub fn object_gone(file: TripFile, record: &LoadRecord) -> MonthAudit {
        MonthAudit {
            file,
            lake_rows: 0,
            warehouse_rows: record.rows,
            columns: Vec::new(),
            missing_object: Some(record.object_key.clone()),
        }
    }

    /// Human-readable differences; empty when the warehouse holds exactly the lake's rows.
    pub fn mismatches(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(key) = &self.missing_object {
            out.push(format!(
                "{}: loaded ({} rows) from {key}, which is no longer in the lake",
                self.file, self.warehouse_rows
            ));
            return out;
        }
        if self.lake_rows != self.warehouse_rows {
            out.push(format!(
                "{}: {} rows in the lake, {} in the warehouse",
                self.file, self.lake_rows, self.warehouse_rows
            ));
        }
        for (column, lake, wh) in &self.columns {
            let close = (lake.sum - wh.sum).abs() <= 1e-9 * lake.sum.abs().max(1.0);
            if lake.values != wh.values || !close || lake.min != wh.min || lake.max != wh.max {
                out.push(format!("{} column {column}: lake {lake:?}, warehouse {wh:?}", self.file));
            }
        }
        out
    }
}

/// Compares the month `file` (lake object `meta`) with its partition in the warehouse.
pub async fn audit_month(
    conn: &mut PgConnection,
    lake: &Lake,
    file: TripFile,
    meta: &ObjectMeta,
) -> Result<MonthAudit, WarehouseError> {
    let table = RawTable::new(file.kind).ok_or(WarehouseError::UnsupportedKind(file.kind))?;
    let columns = table.data_columns();
    let (lake_rows, lake_figures) = lake_side(lake, meta).await?;
    let mut select = vec!["count(*)::int8".to_owned()];
    for c in columns {
        select.push(format!("count(\"{}\")::int8", c.name));
        select.push(match c.kind {
            ColumnType::Int64 | ColumnType::Int32 | ColumnType::Float64 | ColumnType::Money => {
                format!("coalesce(sum(\"{}\")::float8, 0)", c.name)
            }
            _ => "0::float8".to_owned(),
        });
        select.push(match c.kind {
            ColumnType::Timestamp => format!(
                "(extract(epoch from min(\"{0}\")) * 1000000)::int8, (extract(epoch from max(\"{0}\")) * 1000000)::int8",
                c.name
            ),
            _ => "NULL::int8, NULL::int8".to_owned(),
        });
    }
    let sql = format!("SELECT {} FROM {}", select.join(", "), table.partition(file.month));
    let row = sqlx::query(AssertSqlSafe(sql))
        .fetch_one(conn)
        .await
        .map_err(WarehouseError::sql(format!("auditing {}", table.partition(file.month))))?;
    let warehouse_rows: i64 = row.get(0);
    let audited = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let wh = ColumnFigures {
                values: row.get(1 + i * 4),
                sum: row.get(2 + i * 4),
                min: row.get(3 + i * 4),
                max: row.get(4 + i * 4),
            };
            (c.name.to_owned(), lake_figures.get(c.name).cloned().unwrap_or_default(), wh)
        })
        .collect();
    Ok(MonthAudit { file, lake_rows, warehouse_rows, columns: audited, missing_object: None })
}

/// Figures from the object's physical columns, keyed by lower-case name.
async fn lake_side(
    lake: &Lake,
    meta: &ObjectMeta,
) -> Result<(i64, HashMap<String, ColumnFigures>), WarehouseError> {
    let key = meta.location.to_string();
    let read_err = |source| WarehouseError::Read { key: key.clone(), source };
    let mut stream = ParquetRecordBatchStreamBuilder::new(lake.parquet_reader(meta))
        .await
        .map_err(read_err)?
        .build()
        .map_err(read_err)?;
    let mut rows = 0i64;
    let mut figures: HashMap<String, ColumnFigures> = HashMap::new();
    while let Some(batch) = stream.try_next().await.map_err(read_err)? {
        rows += batch.num_rows() as i64;
        for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
            let f = figures.entry(field.name().to_ascii_lowercase()).or_default();
            f.values += (array.len() - array.logical_null_count()) as i64;
            match array.data_type() {
                DataType::Timestamp(_, _) => {
                    let micros = cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))
                        .and_then(|a| cast(&a, &DataType::Int64))
                        .map_err(|e| WarehouseError::Stream { key: key.clone(), reason: e.to_string() })?;
                    let micros = micros.as_primitive::<Int64Type>();
                    for v in micros.iter().flatten() {
                        f.min = Some(f.min.map_or(v, |m| m.min(v)));
                        f.max = Some(f.max.map_or(v, |m| m.max(v)));
                    }
                }
                t if t.is_numeric() => {
                    let numbers = cast(array, &DataType::Float64)
                        .map_err(|e| WarehouseError::Stream { key: key.clone(), reason: e.to_string() })?;
                    f.sum += numbers.as_primitive::<Float64Type>().iter().flatten().sum::<f64>();
                }
                _ => {}
            }
        }
    }
    Ok((rows, figures))
}
