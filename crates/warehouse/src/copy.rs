// Over 400 lines: one month's load is one transaction whose steps (slices, parts, COPY streams,
// swap, cleanup of a failed load) share its state and its lock; a third of the file is their
// tests.
//! Loading one month: Parquet row groups from the lake, mapped to the canonical schema,
//! encoded as binary COPY and streamed, in slices over parallel connections, into new tables
//! that become the month's partition, replacing the old one in one transaction.
//!
//! Decoding and sending overlap: a task reads and encodes ([`crate::produce`]) while this one
//! feeds COPY, with a bounded channel between them, so memory stays a few chunks deep.
//!
//! Longer than most files here (about 470 lines with its tests): slicing, the parts' DDL, the
//! COPY streams and the swap are one transaction's steps and read best together.

use std::time::Instant;

use atl_core::money::PassengerTotals;
use atl_core::raw::{RawTable, month_literal};
use atl_core::{DatabaseConfig, PickupTally, SchemaMapping, TripFile, TripKind, YearMonth};
use atl_lake::Lake;
use bytes::{Bytes, BytesMut};
use chrono::{NaiveDate, Utc};
use object_store::ObjectMeta;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, RowSelection, RowSelector};
use parquet::file::metadata::ParquetMetaData;
// Identifiers in the DDL come from validated kinds and months, never from input text.
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::sync::mpsc;

use crate::encode::Lineage;
use crate::error::WarehouseError;
use crate::load_log::{self, LoadRecord};
use crate::produce::{self, Encoding, Figures, Object, Rows};

/// Encoded chunks waiting for each COPY stream.
const CHUNKS_IN_FLIGHT: usize = 2;

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
///
/// The month is copied by up to `streams` COPY streams at once, each into its own part of
/// the month (a slice of the object's rows, `source_row` in `[lo, hi)`), so that the server
/// writes with as many backends. The first part is filled inside `conn`'s transaction; the
/// others on their own connections, each committed as a table nobody reads (attached to
/// nothing). `conn`'s transaction then attaches every part under the month's new partition
/// and swaps it in, so readers see the whole month or none of it. A load that fails after a
/// part committed drops that part (under the month's lock); should even that fail, the part
/// stays unattached, invisible, and the next load of the month drops it.
#[allow(clippy::too_many_arguments)]
pub async fn load_month(
    conn: &mut PgConnection,
    config: &DatabaseConfig,
    lake: &Lake,
    file: TripFile,
    meta: &ObjectMeta,
    force: bool,
    streams: usize,
    allow_other_month: bool,
) -> Result<MonthOutcome, WarehouseError> {
    let table = RawTable::new(file.kind).ok_or(WarehouseError::UnsupportedKind(file.kind))?;
    load_month_as(conn, config, lake, &table, file, meta, force, streams, allow_other_month).await
}

/// [`load_month`] with the columns of `table` instead of core's declaration of the kind: a
/// column that a migration added before core declares it, for instance.
#[allow(clippy::too_many_arguments)]
pub async fn load_month_as(
    conn: &mut PgConnection,
    config: &DatabaseConfig,
    lake: &Lake,
    table: &RawTable,
    file: TripFile,
    meta: &ObjectMeta,
    force: bool,
    streams: usize,
    allow_other_month: bool,
) -> Result<MonthOutcome, WarehouseError> {
    let outcome =
        load_in_transaction(conn, config, lake, table, file, meta, force, streams, allow_other_month).await;
    if outcome.is_err() {
        // The dropped transaction's ROLLBACK is only sent with the connection's next query:
        // until then it holds the month's lock, which the cleanup waits for.
        let _ = sqlx::raw_sql("SELECT 1").execute(&mut *conn).await;
        drop_committed_parts(config, table, file, streams).await;
    }
    outcome
}

/// Parts 1.. of `file`'s month left by a load that failed after they committed: dropped under
/// the month's lock, so never while another loader of the month uses them. Best effort.
async fn drop_committed_parts(config: &DatabaseConfig, table: &RawTable, file: TripFile, streams: usize) {
    let Ok(mut conn) = crate::connect(config).await else { return };
    let drops: String = (1..streams.max(1))
        .map(|i| format!("DROP TABLE IF EXISTS {};\n", table.loading_part(file.month, i)))
        .collect();
    let (class, object) = month_lock(file);
    let sql = format!(
        "BEGIN;\nSET LOCAL client_min_messages = warning;\nSELECT pg_advisory_xact_lock({class}, {object});\n{drops}COMMIT;"
    );
    let _ = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await;
}

/// The advisory lock of one kind and month: one loader at a time.
fn month_lock(file: TripFile) -> (i32, i32) {
    atl_core::pg::lock::load_month(file.kind, file.month)
}

#[allow(clippy::too_many_arguments)]
async fn load_in_transaction(
    conn: &mut PgConnection,
    config: &DatabaseConfig,
    lake: &Lake,
    table: &RawTable,
    file: TripFile,
    meta: &ObjectMeta,
    force: bool,
    streams: usize,
    allow_other_month: bool,
) -> Result<MonthOutcome, WarehouseError> {
    let key = meta.location.to_string();
    let mut tx = conn.begin().await.map_err(WarehouseError::sql("starting a transaction"))?;
    // One loader per month at a time; a second waits here, then finds the month loaded.
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind(month_lock(file).0)
        .bind(month_lock(file).1)
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
    let read_err = |source| WarehouseError::Read { key: key.clone(), source };
    let mut reader = lake.parquet_reader(meta);
    let metadata =
        ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new()).await.map_err(read_err)?;
    let mapping = SchemaMapping::onto(file.kind, table.data_columns(), metadata.schema(), &key)?;
    let slices = slices(metadata.metadata(), streams);
    // The TLC never publishes an empty month: an empty object must not replace a full one.
    if slices.is_empty() {
        return Err(WarehouseError::Empty { key });
    }
    // Nor one that source_row, an integer, cannot number (the largest months hold 25 M rows).
    let rows_in_object = metadata.metadata().file_metadata().num_rows();
    if rows_in_object > i64::from(i32::MAX) {
        let reason = format!("{rows_in_object} rows, more than source_row (an integer) can number");
        return Err(WarehouseError::Stream { key, reason });
    }

    let source = Source {
        lake,
        meta,
        metadata: &metadata,
        mapping: &mapping,
        kind: file.kind,
        month: file.month.first_day(),
    };
    let first = async {
        let part = table.loading_part(file.month, 0);
        sqlx::raw_sql(AssertSqlSafe(part_ddl(table, file.month, &slices, 0)))
            .execute(&mut *tx)
            .await
            .map_err(WarehouseError::sql(format!("creating {part}")))?;
        stream_copy(&mut tx, &source, slices[0], &copy_sql(table, &part)).await
    };
    let others = futures::future::try_join_all(
        (1..slices.len()).map(|i| copy_part(config, table, &source, &slices, i)),
    );
    let (first, others) = futures::future::try_join(first, others).await?;
    let mut rows = 0;
    let mut total_amount_sum: Option<f64> = None;
    let mut pickups = PickupTally::default();
    let mut passengers = PassengerTotals::default();
    for (slice, (copied, figures)) in slices.iter().zip(std::iter::once(first).chain(others)) {
        if copied as i64 != slice.1 - slice.0 {
            return Err(WarehouseError::Stream {
                key,
                reason: format!("rows {}..{} gave {copied} rows", slice.0, slice.1),
            });
        }
        rows += copied;
        total_amount_sum = figures.total_amount.map(|s| s + total_amount_sum.unwrap_or(0.0));
        pickups.merge(figures.pickups);
        passengers.merge(figures.passengers);
    }
    // Nor may another month's file: the transaction is dropped, the month stays as it was.
    if !allow_other_month && let Err(source) = pickups.check(file.month) {
        return Err(WarehouseError::WrongMonth { key, source });
    }
    if let Some(remark) = pickups.fragment_remark(file.month) {
        tracing::warn!("{key}: {remark}");
    }

    let partition = table.partition(file.month);
    let name = table.partition_name(file.month);
    let loading = table.loading(file.month);
    let m = month_literal(file.month);
    let mut swap = format!(
        "SET LOCAL client_min_messages = warning;\n\
         DROP TABLE IF EXISTS {loading};\n{};\n",
        table.create_loading_sql(file.month)
    );
    for i in 0..slices.len() {
        // The part's CHECKs imply the bounds: no validating scan.
        let (lo, hi) = part_bounds(&slices, i);
        let from = lo.map_or("MINVALUE".to_owned(), |v| v.to_string());
        let to = hi.map_or("MAXVALUE".to_owned(), |v| v.to_string());
        swap += &format!(
            "ALTER TABLE {loading} ATTACH PARTITION {part} FOR VALUES FROM ({from}) TO ({to});\n",
            part = table.loading_part(file.month, i)
        );
    }
    swap += &format!("DROP TABLE IF EXISTS {partition};\nALTER TABLE {loading} RENAME TO \"{name}\";\n");
    for i in 0..slices.len() {
        swap += &format!(
            "ALTER TABLE {part} RENAME TO \"{final_name}\";\n",
            part = table.loading_part(file.month, i),
            final_name = table.part_name(file.month, i)
        );
    }
    swap += &format!(
        "ALTER TABLE {parent} ATTACH PARTITION {partition} FOR VALUES IN ({m});",
        parent = table.parent()
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
    load_log::record_totals(&mut tx, file.kind, file.month, passengers.counted().as_deref()).await?;
    tx.commit().await.map_err(WarehouseError::sql(format!("committing {}", file)))?;
    Ok(MonthOutcome::Loaded(record))
}

/// What every stream reads from: the object, its footer and its mapping.
struct Source<'a> {
    lake: &'a Lake,
    meta: &'a ObjectMeta,
    metadata: &'a ArrowReaderMetadata,
    mapping: &'a SchemaMapping,
    kind: TripKind,
    month: NaiveDate,
}

/// A part of the month: rows `[lo, hi)` of the object.
type Slice = (i64, i64);

/// The object's rows cut into up to `streams` contiguous slices of similar size, cut at row
/// group boundaries when one is near (a slice that starts inside a row group decodes the
/// rows before it to skip them). Empty when the object has no rows.
fn slices(metadata: &ParquetMetaData, streams: usize) -> Vec<Slice> {
    let total = metadata.file_metadata().num_rows();
    if total <= 0 {
        return Vec::new();
    }
    let streams = (streams.max(1) as i64).min((total + MIN_SLICE_ROWS - 1) / MIN_SLICE_ROWS).max(1);
    let mut ends = Vec::new();
    let mut at = 0;
    for group in metadata.row_groups() {
        at += group.num_rows();
        ends.push(at);
    }
    let mut cuts = vec![0];
    for i in 1..streams {
        let ideal = total * i / streams;
        let nearest = ends.iter().copied().min_by_key(|e| (e - ideal).abs()).unwrap_or(ideal);
        let cut = if (nearest - ideal).abs() <= total / (BOUNDARY_SNAP * streams) { nearest } else { ideal };
        if cut > *cuts.last().expect("not empty") && cut < total {
            cuts.push(cut);
        }
    }
    cuts.push(total);
    cuts.windows(2).map(|w| (w[0], w[1])).collect()
}

/// A cut moves to the nearest row group boundary only when that is within 1/BOUNDARY_SNAP of
/// a stream's rows of an even split, so that the streams' backends end together. On a
/// generated month whose nearest boundary was 58 k rows (2 %) off, splitting evenly (the
/// second stream decodes those rows to skip them) loaded in a median 2.05-2.11 s against
/// 2.09-2.15 s when the boundary was taken (a quarter of a stream's rows was allowed):
/// 2 × 8 alternated first loads at replica, with the same loader CPU.
const BOUNDARY_SNAP: i64 = 64;

/// A stream carries at least this many rows: below, a second backend costs more than it saves.
const MIN_SLICE_ROWS: i64 = 1_000;

/// The source_row bounds of part `i`: the first part is open below and the last above, so
/// that the month's partition takes any row a later hand-made correction may add.
fn part_bounds(slices: &[Slice], i: usize) -> (Option<i64>, Option<i64>) {
    let lo = (i > 0).then(|| slices[i].0);
    let hi = (i + 1 < slices.len()).then(|| slices[i].1);
    (lo, hi)
}

/// The part's DDL, after dropping a part a failed load may have left under its name, and its
/// statistics target.
fn part_ddl(table: &RawTable, month: YearMonth, slices: &[Slice], i: usize) -> String {
    let (lo, hi) = part_bounds(slices, i);
    format!(
        "DROP TABLE IF EXISTS {};\n{};\n{}",
        table.loading_part(month, i),
        table.create_part_sql(month, i, lo, hi),
        table.part_statistics_sql(month, i)
    )
}

/// FREEZE: the table was created in this transaction, so rows can be written frozen (no
/// later vacuum pass), and with wal_level=minimal without WAL.
fn copy_sql(table: &RawTable, part: &str) -> String {
    format!("COPY {part} ({}) FROM STDIN (FORMAT binary, FREEZE)", table.column_list())
}

/// Slice `i` of the object into its own part, over its own connection, committed unattached.
async fn copy_part(
    config: &DatabaseConfig,
    table: &RawTable,
    source: &Source<'_>,
    slices: &[Slice],
    i: usize,
) -> Result<(u64, Figures), WarehouseError> {
    let month = YearMonth::of(source.month);
    let part = table.loading_part(month, i);
    let mut conn = crate::connect(config).await?;
    let mut tx = conn.begin().await.map_err(WarehouseError::sql("starting a transaction"))?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET LOCAL client_min_messages = warning;\n{}",
        part_ddl(table, month, slices, i)
    )))
    .execute(&mut *tx)
    .await
    .map_err(WarehouseError::sql(format!("creating {part}")))?;
    let copied = stream_copy(&mut tx, source, slices[i], &copy_sql(table, &part)).await?;
    tx.commit().await.map_err(WarehouseError::sql(format!("committing {part}")))?;
    Ok(copied)
}

/// Streams the slice's rows into `copy_sql`; returns the rows written and their figures.
async fn stream_copy(
    conn: &mut PgConnection,
    source: &Source<'_>,
    (lo, hi): Slice,
    copy_sql: &str,
) -> Result<(u64, Figures), WarehouseError> {
    let key = source.meta.location.to_string();
    let (groups, selection) = row_selection(source.metadata.metadata(), lo, hi);
    let object = match source.lake.local_root() {
        Some(root) => Object::File(root.join(source.meta.location.as_ref())),
        None => Object::Remote(source.lake.parquet_reader(source.meta)),
    };
    let rows = Rows { object, metadata: source.metadata.clone(), groups, selection };
    // No slice starts beyond i32::MAX: load_in_transaction refuses such objects.
    let lineage = Lineage { month: source.month, first_row: lo as i32 };
    let encoding = Encoding { mapping: source.mapping.clone(), lineage, key: key.clone(), kind: source.kind };

    // Sent chunks come back to the encoder to be filled again: a fixed set of buffers per
    // stream, instead of a fresh allocation per chunk that the allocator may keep afterwards.
    let (chunks, mut received) = mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let (recycle, recycled) = mpsc::channel::<BytesMut>(CHUNKS_IN_FLIGHT + 1);
    let producer = produce::spawn(rows, encoding, chunks, recycled);
    let mut copy =
        conn.copy_in_raw(copy_sql).await.map_err(WarehouseError::sql(format!("starting COPY of {key}")))?;
    let mut send_error = None;
    while let Some(chunk) = received.recv().await {
        // sqlx copies the chunk into the connection's buffer: afterwards it is ours alone.
        if let Err(e) = copy.send(&chunk[..]).await {
            send_error = Some(e);
            break;
        }
        if let Ok(mut buffer) = chunk.try_into_mut() {
            buffer.clear();
            let _ = recycle.try_send(buffer);
        }
    }
    drop(received);
    let produced =
        producer.await.map_err(|e| WarehouseError::Stream { key: key.clone(), reason: e.to_string() })?;
    if let Some(e) = send_error {
        return Err(WarehouseError::Sql { what: format!("sending rows of {key}"), source: e });
    }
    match produced {
        Ok(figures) => {
            let rows =
                copy.finish().await.map_err(WarehouseError::sql(format!("finishing COPY of {key}")))?;
            Ok((rows, figures))
        }
        Err(e) => {
            // The transaction is rolled back by the caller's drop; abort tells the server now.
            let _ = copy.abort(e.to_string()).await;
            Err(e)
        }
    }
}

/// The row groups holding rows `[lo, hi)` and the selection of those rows within them.
fn row_selection(metadata: &ParquetMetaData, lo: i64, hi: i64) -> (Vec<usize>, RowSelection) {
    let mut groups = Vec::new();
    let mut selectors = Vec::new();
    let mut start = 0;
    for (i, group) in metadata.row_groups().iter().enumerate() {
        let end = start + group.num_rows();
        if end > lo && start < hi {
            groups.push(i);
            let (a, b) = (lo.max(start) - start, hi.min(end) - start);
            if a > 0 {
                selectors.push(RowSelector::skip(a as usize));
            }
            selectors.push(RowSelector::select((b - a) as usize));
            if end - start > b {
                selectors.push(RowSelector::skip((end - start - b) as usize));
            }
        }
        start = end;
    }
    (groups, RowSelection::from(selectors))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, RecordBatch};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    use parquet::file::reader::FileReader;
    use parquet::file::serialized_reader::SerializedFileReader;

    use super::*;

    /// The metadata of a real Parquet file of `rows` rows in row groups of `group_rows`.
    fn metadata(rows: i64, group_rows: usize) -> ParquetMetaData {
        let column: ArrayRef = Arc::new(Int64Array::from_iter_values(0..rows));
        let batch = RecordBatch::try_from_iter([("n", column)]).unwrap();
        let properties = WriterProperties::builder().set_max_row_group_row_count(Some(group_rows)).build();
        let mut file = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut file, batch.schema(), Some(properties)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        SerializedFileReader::new(Bytes::from(file)).unwrap().metadata().clone()
    }

    #[test]
    fn a_month_is_cut_in_the_middle_unless_a_row_group_ends_very_near_it() {
        // A boundary 2 % of the month from the middle: the streams get equal halves.
        assert_eq!(slices(&metadata(100_000, 48_000), 2), [(0, 50_000), (50_000, 100_000)]);
        // A boundary 0.5 % away (within 1/64 of a stream's rows): the cut takes it, sparing
        // the second stream rows it would decode only to skip.
        assert_eq!(slices(&metadata(100_000, 49_500), 2), [(0, 49_500), (49_500, 100_000)]);
        assert_eq!(slices(&metadata(100_000, 100_000), 1), [(0, 100_000)]);
    }
}
