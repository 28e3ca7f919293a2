//! Moving one warehouse month into the mart's staging table: `COPY (SELECT ...) TO STDOUT
//! (FORMAT binary)` on the warehouse server, its chunks forwarded as they arrive into `COPY
//! mart.staging_trip` (taxis) or `mart.staging_for_hire` `FROM STDIN (FORMAT binary)` on the
//! mart server. No file in between, and
//! no decoding: the SELECT casts every column to the staging table's type, so the binary
//! rows are valid on both sides.

use atl_core::raw::{RawTable, month_literal, quote_ident};
use atl_core::schema::{dropoff_column, pickup_column};
use atl_core::{TripKind, YearMonth};
use bytes::BytesMut;
use futures::StreamExt;
use sqlx::{AssertSqlSafe, PgConnection};

use crate::error::MartError;

/// Bytes per COPY message to the mart: the warehouse sends one message per row.
const CHUNK_BYTES: usize = 1 << 20;

/// The staging table of a kind (`sql/mart/migrations`): one shape for both taxis, one for
/// both for-hire kinds.
pub fn staging_table(kind: TripKind) -> &'static str {
    match kind {
        TripKind::Yellow | TripKind::Green => "mart.staging_trip",
        TripKind::Fhv | TripKind::Fhvhv => "mart.staging_for_hire",
    }
}
/// Staging columns that take a kind's own pickup and dropoff columns (`tpep_*`, `lpep_*`).
pub const PICKUP_AT: &str = "pickup_at";
pub const DROPOFF_AT: &str = "dropoff_at";

/// A column of the staging table: its name and PostgreSQL type, as the mart server says.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StagingColumn {
    pub name: String,
    pub sql_type: String,
}

/// The staging table's columns, in order, from the mart's catalog: the table is the mart's
/// (its migrations declare it), so the transfer asks the mart rather than repeating the list.
pub async fn staging_columns(mart: &mut PgConnection, table: &str) -> Result<Vec<StagingColumn>, MartError> {
    sqlx::query_as(
        "SELECT attname::text AS name, format_type(atttypid, atttypmod) AS sql_type FROM pg_attribute \
         WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    )
    .bind(table)
    .fetch_all(mart)
    .await
    .map_err(MartError::sql(format!("reading the columns of {table}")))
}

/// The warehouse column that feeds `staging` for `kind`: the kind's pickup/dropoff column,
/// the raw column of the same name, or none (the kind lacks it: a typed NULL).
pub fn warehouse_source(raw: &RawTable, staging: &str) -> Option<String> {
    let kind = raw.kind;
    let mapped = match staging {
        PICKUP_AT => pickup_column(kind),
        DROPOFF_AT => dropoff_column(kind),
        _ => None,
    };
    mapped.map(str::to_owned).or_else(|| raw.columns().into_iter().find(|c| *c == staging).map(str::to_owned))
}

/// The positions in `staging` of the columns `kind`'s raw table feeds; the others are NULL for
/// every row of the kind (green's ehail_fee in a yellow month). The stream reads only these:
/// with no constant to add, the warehouse sends its rows without a projection (its COPY of a
/// 3 M-row yellow month into /dev/null: 3.84-3.96 s with the two NULLs, 3.60-3.65 s without).
pub fn fed_columns(kind: TripKind, staging: &[StagingColumn]) -> Result<Vec<usize>, MartError> {
    let raw = RawTable::new(kind).ok_or(MartError::UnsupportedKind(kind))?;
    Ok((0..staging.len()).filter(|&i| warehouse_source(&raw, &staging[i].name).is_some()).collect())
}

fn is_raw_column_of_some_kind(column: &str) -> bool {
    TripKind::ALL.into_iter().filter_map(RawTable::new).any(|t| t.columns().contains(&column))
}

/// `SELECT <one expression per staging column> FROM raw.<kind>_tripdata WHERE source_month =
/// DATE '...'`: every column cast to the staging type, so the binary rows are valid on both
/// sides whatever lossless type the raw layer uses.
pub fn warehouse_select(
    kind: TripKind,
    month: YearMonth,
    staging: &[StagingColumn],
) -> Result<String, MartError> {
    let raw = RawTable::new(kind).ok_or(MartError::UnsupportedKind(kind))?;
    let columns = staging
        .iter()
        .map(|c| {
            let (name, ty) = (quote_ident(&c.name), &c.sql_type);
            match warehouse_source(&raw, &c.name) {
                Some(source) => Ok(format!("{}::{ty} AS {name}", quote_ident(&source))),
                // Another kind's column (green's ehail_fee for a yellow month): NULL here. A
                // column of no kind is a mistake of the mart's migrations, not a NULL.
                None if is_raw_column_of_some_kind(&c.name) => Ok(format!("NULL::{ty} AS {name}")),
                None => Err(MartError::StagingColumn { column: c.name.clone() }),
            }
        })
        .collect::<Result<Vec<String>, MartError>>()?;
    Ok(format!(
        "SELECT {} FROM {} WHERE source_month = {}",
        columns.join(", "),
        raw.parent(),
        month_literal(month)
    ))
}

/// Replaces the staging table's contents with the warehouse month; returns the rows copied.
///
/// The TRUNCATE and the COPY share one transaction, so the COPY can use `FREEZE`: its rows
/// are written frozen on all-visible pages, and the passes of insertion.sql over the staging
/// table neither check each row's visibility nor dirty every page again to set hint bits.
pub async fn stage_month(
    warehouse: &mut PgConnection,
    mart: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
) -> Result<u64, MartError> {
    let what = |step: &str| format!("{step} {kind} {month}");
    let table = staging_table(kind);
    sqlx::raw_sql(AssertSqlSafe(format!("BEGIN; TRUNCATE {table}")))
        .execute(&mut *mart)
        .await
        .map_err(MartError::sql(what("emptying the staging table for")))?;
    // On an error the transaction stays open: the caller drops the connection (a failed COPY
    // can leave it unusable) and the server rolls the TRUNCATE back.
    let staged = copy_month(warehouse, mart, kind, month).await?;
    sqlx::raw_sql("COMMIT")
        .execute(&mut *mart)
        .await
        .map_err(MartError::sql(what("committing the staging of")))?;
    Ok(staged)
}

async fn copy_month(
    warehouse: &mut PgConnection,
    mart: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
) -> Result<u64, MartError> {
    let what = |step: &str| format!("{step} {kind} {month}");
    let table = staging_table(kind);
    let staging = staging_columns(mart, table).await?;
    let copy_out = format!("COPY ({}) TO STDOUT (FORMAT binary)", warehouse_select(kind, month, &staging)?);
    let names: Vec<String> = staging.iter().map(|c| quote_ident(&c.name)).collect();
    let copy_in = format!("COPY {table} ({}) FROM STDIN (FORMAT binary, FREEZE true)", names.join(", "));
    let mut rows = warehouse.copy_out_raw(&copy_out).await.map_err(MartError::sql(what("reading")))?;
    let mut sink =
        mart.copy_in_raw(&copy_in).await.map_err(MartError::sql(what("starting the staging COPY of")))?;
    let mut buffer = BytesMut::with_capacity(CHUNK_BYTES + (64 << 10));
    while let Some(chunk) = rows.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                let _ = sink.abort(format!("the warehouse stopped sending: {e}")).await;
                return Err(MartError::Sql { what: what("reading"), source: e });
            }
        };
        buffer.extend_from_slice(&chunk);
        if buffer.len() >= CHUNK_BYTES {
            sink.send(buffer.split().freeze()).await.map_err(MartError::sql(what("staging")))?;
        }
    }
    if !buffer.is_empty() {
        sink.send(buffer.freeze()).await.map_err(MartError::sql(what("staging")))?;
    }
    sink.finish().await.map_err(MartError::sql(what("finishing the staging COPY of")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staging(names: &[&str]) -> Vec<StagingColumn> {
        names
            .iter()
            .map(|n| StagingColumn { name: (*n).into(), sql_type: "double precision".into() })
            .collect()
    }

    #[test]
    fn each_staging_column_is_fed_by_its_raw_column_or_refused() {
        let month: YearMonth = "2024-01".parse().unwrap();
        let sql =
            warehouse_select(TripKind::Yellow, month, &staging(&["pickup_at", "ehail_fee", "fare_amount"]))
                .unwrap();
        assert!(sql.contains("\"tpep_pickup_datetime\"::double precision AS \"pickup_at\""), "{sql}");
        assert!(sql.contains("NULL::double precision AS \"ehail_fee\""), "{sql}");
        assert!(
            sql.ends_with("FROM raw.\"yellow_tripdata\" WHERE source_month = DATE '2024-01-01'"),
            "{sql}"
        );
        let err = warehouse_select(TripKind::Green, month, &staging(&["fare_amout"])).unwrap_err();
        assert!(matches!(&err, MartError::StagingColumn { column } if column == "fare_amout"), "{err}");
    }
}
