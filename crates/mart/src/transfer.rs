//! Moving one warehouse month into the mart's staging table: `COPY (SELECT ...) TO STDOUT
//! (FORMAT binary)` on the warehouse server, its chunks forwarded as they arrive into `COPY
//! mart.staging_trip FROM STDIN (FORMAT binary)` on the mart server. No file in between, and
//! no decoding: the SELECT casts every column to the staging table's type, so the binary
//! rows are valid on both sides.

use atl_core::{TripKind, YearMonth};
use bytes::BytesMut;
use futures::StreamExt;
use sqlx::{AssertSqlSafe, PgConnection};

use crate::error::MartError;

/// Bytes per COPY message to the mart: the warehouse sends one message per row.
const CHUNK_BYTES: usize = 1 << 20;

/// The staging table's columns, in COPY order.
pub const STAGING_COLUMNS: [&str; 24] = [
    "source_month",
    "source_row",
    "vendorid",
    "pickup_at",
    "dropoff_at",
    "passenger_count",
    "trip_distance",
    "ratecodeid",
    "store_and_fwd_flag",
    "pulocationid",
    "dolocationid",
    "payment_type",
    "fare_amount",
    "extra",
    "mta_tax",
    "tip_amount",
    "tolls_amount",
    "improvement_surcharge",
    "total_amount",
    "congestion_surcharge",
    "airport_fee",
    "cbd_congestion_fee",
    "ehail_fee",
    "trip_type",
];

/// The warehouse expression for each staging column: green's lpep_* timestamps are mapped,
/// columns a kind lacks are typed nulls.
fn warehouse_expression(kind: TripKind, column: &str) -> Result<&'static str, MartError> {
    Ok(match (kind, column) {
        (TripKind::Yellow, "pickup_at") => "tpep_pickup_datetime",
        (TripKind::Yellow, "dropoff_at") => "tpep_dropoff_datetime",
        (TripKind::Green, "pickup_at") => "lpep_pickup_datetime",
        (TripKind::Green, "dropoff_at") => "lpep_dropoff_datetime",
        (TripKind::Yellow, "ehail_fee" | "trip_type") | (TripKind::Green, "airport_fee") => {
            "NULL::double precision"
        }
        (TripKind::Yellow | TripKind::Green, _) => {
            STAGING_COLUMNS.iter().find(|c| **c == column).copied().expect("a staging column")
        }
        (other, _) => return Err(MartError::UnsupportedKind(other)),
    })
}

/// `SELECT <staging columns> FROM raw.<kind>_tripdata WHERE source_month = DATE '...'`.
pub fn warehouse_select(kind: TripKind, month: YearMonth) -> Result<String, MartError> {
    let columns = STAGING_COLUMNS
        .iter()
        .map(|c| warehouse_expression(kind, c).map(|e| format!("{e} AS {c}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(format!(
        "SELECT {} FROM raw.{kind}_tripdata WHERE source_month = DATE '{}'",
        columns.join(", "),
        month.first_day()
    ))
}

/// The warehouse month's rows, total_amount (rounded to cents, summed as numeric, as text),
/// and when the load the rows came from finished (raw.load_log, as text), all read in the
/// transfer's snapshot.
pub async fn warehouse_totals(
    warehouse: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
) -> Result<(i64, String, Option<String>), MartError> {
    let sql = format!(
        "SELECT count(*), coalesce(sum(round(total_amount::numeric, 2)), 0)::text, \
         (SELECT finished_at::text FROM raw.load_log WHERE kind = $2 AND month = $1) \
         FROM raw.{kind}_tripdata WHERE source_month = $1"
    );
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(month.first_day())
        .bind(kind.as_str())
        .fetch_one(warehouse)
        .await
        .map_err(MartError::sql(format!("counting {kind} {month} in the warehouse")))
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
    sqlx::raw_sql("BEGIN; TRUNCATE mart.staging_trip")
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
    let copy_out = format!("COPY ({}) TO STDOUT (FORMAT binary)", warehouse_select(kind, month)?);
    let copy_in = format!(
        "COPY mart.staging_trip ({}) FROM STDIN (FORMAT binary, FREEZE true)",
        STAGING_COLUMNS.join(", ")
    );
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
