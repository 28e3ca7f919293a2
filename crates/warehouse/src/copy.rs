//! Loading one month: Parquet row groups from the lake, mapped to the canonical schema,
//! encoded as binary COPY and streamed into a new table that replaces the month's partition
//! in the same transaction.
//!
//! Decoding and sending overlap: a task reads and encodes while this one feeds COPY, with a
//! bounded channel between them, so memory stays a few chunks deep.

use std::time::Instant;

use atl_core::raw::{RawTable, month_literal};
use atl_core::schema::pickup_column;
use atl_core::{PickupTally, SchemaMapping, TripFile};
use atl_lake::Lake;
use bytes::Bytes;
use chrono::Utc;
use futures::TryStreamExt;
use object_store::ObjectMeta;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
// Identifiers in the DDL come from validated kinds and months, never from input text.
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::sync::mpsc;

use crate::encode::{CopyEncoder, Lineage};
use crate::error::WarehouseError;
use crate::load_log::{self, LoadRecord};

/// Bytes handed to PostgreSQL per COPY message: large sends keep the server busy.
const CHUNK_BYTES: usize = 4 << 20;
/// Rows decoded per Arrow batch: about one 4 MB chunk once encoded, so a chunk never
/// waits for a large batch and memory stays a few chunks deep.
const BATCH_ROWS: usize = 16_384;

/// How a month's load ended.
#[derive(Debug, Clone, PartialEq)]
pub enum MonthOutcome {
    Loaded(LoadRecord),
    /// The load log already holds this object (same size and ETag).
    AlreadyLoaded(LoadRecord),
}

/// Loads `file` (the lake object `meta`) into its partition, replacing it; skips it when the
/// load log shows the same object was loaded, unless `force`. A file whose pickups mostly
/// fall outside its month is refused ([`WarehouseError::WrongMonth`]) unless
/// `allow_other_month`.
pub async fn load_month(
    conn: &mut PgConnection,
    lake: &Lake,
    file: TripFile,
    meta: &ObjectMeta,
    force: bool,
    allow_other_month: bool,
) -> Result<MonthOutcome, WarehouseError> {
    let table = RawTable::new(file.kind).ok_or(WarehouseError::UnsupportedKind(file.kind))?;
    load_month_as(conn, lake, &table, file, meta, force, allow_other_month).await
}

/// [`load_month`] with the columns of `table` instead of core's declaration of the kind: a
/// column that a migration added before core declares it, for instance.
pub async fn load_month_as(
    conn: &mut PgConnection,
    lake: &Lake,
    table: &RawTable,
    file: TripFile,
    meta: &ObjectMeta,
    force: bool,
    allow_other_month: bool,
) -> Result<MonthOutcome, WarehouseError> {
    let key = meta.location.to_string();
    let mut tx = conn.begin().await.map_err(WarehouseError::sql("starting a transaction"))?;
    // One loader per month at a time; a second waits here, then finds the month loaded.
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind(0x41544c + file.kind as i32)
        .bind(file.month.year() * 100 + file.month.month() as i32)
        .execute(&mut *tx)
        .await
        .map_err(WarehouseError::sql("waiting for the month's lock"))?;
    if let Some(done) = load_log::find(&mut tx, file.kind, file.month).await?
        && done.same_object(meta.size, meta.e_tag.as_deref())
        && !force
    {
        return Ok(MonthOutcome::AlreadyLoaded(done));
    }

    let started_at = Utc::now();
    let clock = Instant::now();
    let loading = table.loading(file.month);
    // From core's declaration: ATTACH below refuses it if the parent's migrations disagree.
    sqlx::raw_sql(AssertSqlSafe(table.create_loading_sql(file.month)))
        .execute(&mut *tx)
        .await
        .map_err(WarehouseError::sql(format!("creating {loading}")))?;
    // FREEZE: the table was created in this transaction, so rows can be written frozen
    // (no later vacuum pass), and with wal_level=minimal without WAL.
    let copy_sql = format!("COPY {loading} ({}) FROM STDIN (FORMAT binary, FREEZE)", table.column_list());
    let (rows, total_amount_sum, pickups) = stream_copy(&mut tx, lake, table, file, meta, &copy_sql).await?;
    // The TLC never publishes an empty month: an empty object must not replace a full one.
    if rows == 0 {
        return Err(WarehouseError::Empty { key });
    }
    // Nor may another month's file: the transaction is dropped, the month stays as it was.
    if !allow_other_month && let Err(source) = pickups.check(file.month) {
        return Err(WarehouseError::WrongMonth { key, source });
    }
    if let Some(remark) = pickups.fragment_remark(file.month) {
        tracing::warn!("{key}: {remark}");
    }

    let partition = table.partition(file.month);
    let swap = format!(
        "SET LOCAL client_min_messages = warning;\n\
         DROP TABLE IF EXISTS {partition};\n\
         ALTER TABLE {loading} RENAME TO \"{name}\";\n\
         ALTER TABLE {parent} ATTACH PARTITION {partition} FOR VALUES IN ({m});",
        name = table.partition_name(file.month),
        parent = table.parent(),
        m = month_literal(file.month)
    );
    sqlx::raw_sql(AssertSqlSafe(swap))
        .execute(&mut *tx)
        .await
        .map_err(WarehouseError::sql(format!("attaching {partition}")))?;
    let seconds = clock.elapsed().as_secs_f64();
    let record = LoadRecord {
        kind: file.kind.to_string(),
        month: file.month.first_day(),
        object_key: key,
        object_size: meta.size as i64,
        etag: meta.e_tag.clone(),
        rows: rows as i64,
        total_amount_sum,
        started_at,
        finished_at: Utc::now(),
        rows_per_sec: rows as f64 / seconds.max(1e-9),
    };
    load_log::record(&mut tx, &record).await?;
    tx.commit().await.map_err(WarehouseError::sql(format!("committing {}", file)))?;
    Ok(MonthOutcome::Loaded(record))
}

/// Streams the object's rows into `copy_sql`; returns the rows written, their total_amount
/// sum (none for the for-hire kinds, which have no total) and their pickups per month.
async fn stream_copy(
    conn: &mut PgConnection,
    lake: &Lake,
    table: &RawTable,
    file: TripFile,
    meta: &ObjectMeta,
    copy_sql: &str,
) -> Result<(u64, Option<f64>, PickupTally), WarehouseError> {
    let key = meta.location.to_string();
    let read_err = |source| WarehouseError::Read { key: key.clone(), source };
    let builder = ParquetRecordBatchStreamBuilder::new(lake.parquet_reader(meta)).await.map_err(read_err)?;
    let mapping = SchemaMapping::onto(file.kind, table.data_columns(), builder.schema(), &key)?;
    let stream = builder.with_batch_size(BATCH_ROWS).build().map_err(read_err)?;
    let lineage = Lineage { month: file.month.first_day(), key: key.clone() };

    let (chunks, mut received) = mpsc::channel::<Bytes>(4);
    let producer = tokio::spawn(encode_stream(stream, mapping, lineage, chunks, file.kind));
    let mut copy =
        conn.copy_in_raw(copy_sql).await.map_err(WarehouseError::sql(format!("starting COPY of {key}")))?;
    let mut send_error = None;
    while let Some(chunk) = received.recv().await {
        if let Err(e) = copy.send(chunk).await {
            send_error = Some(e);
            break;
        }
    }
    drop(received);
    let produced =
        producer.await.map_err(|e| WarehouseError::Stream { key: key.clone(), reason: e.to_string() })?;
    if let Some(e) = send_error {
        return Err(WarehouseError::Sql { what: format!("sending rows of {key}"), source: e });
    }
    match produced {
        Ok((sum, pickups)) => {
            let rows =
                copy.finish().await.map_err(WarehouseError::sql(format!("finishing COPY of {key}")))?;
            Ok((rows, sum, pickups))
        }
        Err(e) => {
            // The transaction is rolled back by the caller's drop; abort tells the server now.
            let _ = copy.abort(e.to_string()).await;
            Err(e)
        }
    }
}

/// Reads, maps and encodes every batch, sending ~4 MB chunks; returns the total_amount sum
/// and the pickups per month.
async fn encode_stream(
    mut stream: parquet::arrow::async_reader::ParquetRecordBatchStream<atl_lake::ParquetObject>,
    mapping: SchemaMapping,
    lineage: Lineage,
    chunks: mpsc::Sender<Bytes>,
    kind: atl_core::TripKind,
) -> Result<(Option<f64>, PickupTally), WarehouseError> {
    let key = lineage.key.clone();
    let mut encoder = CopyEncoder::new(&lineage);
    let mut total_amount = 0.0;
    let mut pickups = PickupTally::default();
    let total_index = mapping.canonical().index_of("total_amount").ok();
    let pickup_index = pickup_column(kind).and_then(|c| mapping.canonical().index_of(c).ok());
    while let Some(batch) =
        stream.try_next().await.map_err(|source| WarehouseError::Read { key: key.clone(), source })?
    {
        let batch = mapping.apply(&batch)?;
        if let Some(index) = total_index {
            total_amount += sum_f64(batch.column(index));
        }
        if let Some(i) = pickup_index {
            pickups.add(batch.column(i).as_ref());
        }
        encoder.encode(&batch).map_err(|source| WarehouseError::Encode { key: key.clone(), source })?;
        if encoder.pending() >= CHUNK_BYTES && chunks.send(encoder.take()).await.is_err() {
            return Err(WarehouseError::Stream { key, reason: "the COPY side stopped".into() });
        }
    }
    if chunks.send(encoder.finish()).await.is_err() {
        return Err(WarehouseError::Stream { key, reason: "the COPY side stopped".into() });
    }
    Ok((total_index.map(|_| total_amount), pickups))
}

fn sum_f64(array: &arrow::array::ArrayRef) -> f64 {
    use arrow::array::AsArray;
    array.as_primitive::<arrow::datatypes::Float64Type>().iter().flatten().sum()
}
