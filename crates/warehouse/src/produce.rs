//! What one COPY stream sends: a slice of the object's rows, decoded, mapped onto the
//! canonical schema and encoded, in chunks over a bounded channel, with the slice's figures
//! beside: its total_amount sum, pickup tally and passenger totals per licence.
//!
//! A local lake's object is read page by page from its file (parquet's synchronous reader, on
//! a blocking thread); an S3 object column chunk by column chunk (the async reader, with
//! ranged GETs). The difference is memory: the async reader holds a row group's column chunks
//! while it decodes them, and every official month we hold (the green files in
//! ../shared/data/tlc, written by Arrow 7, 14 and 16) is one row group, whatever its size. A
//! generated 3 M-row yellow month in one row group: 169 MB peak RSS read by row group, 37 MB
//! page by page, in the same time (1.92-1.96 s against 1.98-2.13 s); with the bench's file of
//! 131 k-row groups, 8 alternated loads each: 1.92 against 2.04 s, 0.65 against 0.73 CPU-s,
//! 45 against 66 MB. S3 lakes keep the row group's size in memory, twice (one per stream).

use std::fs::File;
use std::path::PathBuf;

use atl_core::money::PassengerTotals;
use atl_core::schema::{licence_column, passenger_total_columns, pickup_column};
use atl_core::{PickupTally, SchemaMapping, TripKind};
use bytes::{Bytes, BytesMut};
use futures::TryStreamExt;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder, RowSelection};
use parquet::errors::ParquetError;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::encode::{CopyEncoder, Lineage};
use crate::error::WarehouseError;

/// Encoded bytes that make a COPY message. Below one batch, so that each batch is sent as
/// soon as it is encoded (about 0.55 MB of yellow rows): against 1 MB (two batches a
/// message), the loader used 0.72 instead of 0.755 CPU-s and 10 MB less memory, for the same
/// wall time (a 3 M-row month at wal_level=replica, 8 alternated rounds each: medians 1.95
/// and 1.945 s).
const CHUNK_BYTES: usize = 1 << 17;
/// Rows decoded per Arrow batch: about 0.6 MB once encoded, so a chunk never waits for a
/// large batch and memory stays a few chunks deep (peak RSS is measured by the bench).
const BATCH_ROWS: usize = 4_096;

/// Where a stream's rows come from: the object (a local file or an S3 object), its footer,
/// the row groups of the slice and the selection of its rows within them.
pub(crate) struct Rows {
    pub object: Object,
    pub metadata: ArrowReaderMetadata,
    pub groups: Vec<usize>,
    pub selection: RowSelection,
}

/// How the object is read.
pub(crate) enum Object {
    File(PathBuf),
    Remote(atl_lake::ParquetObject),
}

/// What the rows become: the canonical columns, the lineage, and the names errors give.
pub(crate) struct Encoding {
    pub mapping: SchemaMapping,
    pub lineage: Lineage,
    pub key: String,
    pub kind: TripKind,
}

/// What a slice's rows add up to.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    /// The total_amount sum, when the kind has one.
    pub total_amount: Option<f64>,
    /// The pickups per month.
    pub pickups: PickupTally,
    /// The rows and passenger totals per licence, by the mart's rounding rule
    /// (`raw.load_totals`).
    pub passengers: PassengerTotals,
}

/// Starts reading and encoding `rows` into `chunks`; sent buffers come back on `recycled`.
pub(crate) fn spawn(
    rows: Rows,
    encoding: Encoding,
    chunks: mpsc::Sender<Bytes>,
    recycled: mpsc::Receiver<BytesMut>,
) -> JoinHandle<Result<Figures, WarehouseError>> {
    let chunker = Chunker::new(encoding, recycled);
    match rows.object {
        Object::File(path) => tokio::task::spawn_blocking(move || {
            let mut chunker = chunker;
            let file =
                File::open(&path).map_err(|e| chunker.read_error(ParquetError::External(Box::new(e))))?;
            let batches = ParquetRecordBatchReaderBuilder::new_with_metadata(file, rows.metadata)
                .with_row_groups(rows.groups)
                .with_row_selection(rows.selection)
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| chunker.read_error(e))?;
            for batch in batches {
                let batch = batch.map_err(|e| chunker.read_error(e.into()))?;
                if let Some(chunk) = chunker.push(&batch)? {
                    chunks.blocking_send(chunk).map_err(|_| chunker.stopped())?;
                }
            }
            let key = chunker.key.clone();
            let (last, figures) = chunker.finish();
            chunks.blocking_send(last).map_err(|_| stopped(&key))?;
            Ok(figures)
        }),
        Object::Remote(reader) => tokio::spawn(async move {
            let mut chunker = chunker;
            let mut stream = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, rows.metadata)
                .with_row_groups(rows.groups)
                .with_row_selection(rows.selection)
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| chunker.read_error(e))?;
            while let Some(batch) = stream.try_next().await.map_err(|e| chunker.read_error(e))? {
                if let Some(chunk) = chunker.push(&batch)? {
                    chunks.send(chunk).await.map_err(|_| chunker.stopped())?;
                }
            }
            let key = chunker.key.clone();
            let (last, figures) = chunker.finish();
            chunks.send(last).await.map_err(|_| stopped(&key))?;
            Ok(figures)
        }),
    }
}

fn stopped(key: &str) -> WarehouseError {
    WarehouseError::Stream { key: key.to_owned(), reason: "the COPY side stopped".into() }
}

/// Batches in, chunks out, the figures kept on the way.
struct Chunker {
    encoder: CopyEncoder,
    mapping: SchemaMapping,
    key: String,
    recycled: mpsc::Receiver<BytesMut>,
    total_index: Option<usize>,
    pickup_index: Option<usize>,
    total_amount: f64,
    pickups: PickupTally,
    /// The canonical columns of the passenger total, and of the licence.
    money: Vec<usize>,
    licence_index: Option<usize>,
    passengers: PassengerTotals,
    /// A batch's rows' cents, reused.
    row_cents: Vec<i128>,
}

impl Chunker {
    fn new(encoding: Encoding, recycled: mpsc::Receiver<BytesMut>) -> Chunker {
        let canonical = encoding.mapping.canonical().clone();
        Chunker {
            encoder: CopyEncoder::new(&encoding.lineage),
            total_index: canonical.index_of("total_amount").ok(),
            pickup_index: pickup_column(encoding.kind).and_then(|c| canonical.index_of(c).ok()),
            money: passenger_total_columns(encoding.kind)
                .iter()
                .filter_map(|c| canonical.index_of(c).ok())
                .collect(),
            licence_index: licence_column(encoding.kind).and_then(|c| canonical.index_of(c).ok()),
            passengers: PassengerTotals::default(),
            row_cents: Vec::new(),
            mapping: encoding.mapping,
            key: encoding.key,
            recycled,
            total_amount: 0.0,
            pickups: PickupTally::default(),
        }
    }

    /// Maps, tallies and encodes `batch`; returns a chunk once CHUNK_BYTES are waiting.
    fn push(&mut self, batch: &arrow::record_batch::RecordBatch) -> Result<Option<Bytes>, WarehouseError> {
        let batch = self.mapping.apply(batch)?;
        if let Some(index) = self.total_index {
            self.total_amount += sum_f64(batch.column(index));
        }
        if let Some(i) = self.pickup_index {
            self.pickups.add(batch.column(i).as_ref());
        }
        self.count_passengers(&batch);
        self.encoder
            .encode(&batch)
            .map_err(|source| WarehouseError::Encode { key: self.key.clone(), source })?;
        if self.encoder.pending() < CHUNK_BYTES {
            return Ok(None);
        }
        let fresh = self.recycled.try_recv().unwrap_or_else(|_| BytesMut::with_capacity(2 * CHUNK_BYTES));
        Ok(Some(self.encoder.swap_buffer(fresh)))
    }

    /// Counts the batch's rows and passenger totals per licence. A money column that is not
    /// float8 (canonical says it is) leaves the month uncounted rather than miscounted.
    fn count_passengers(&mut self, batch: &arrow::record_batch::RecordBatch) {
        use arrow::array::{Array, AsArray};
        self.row_cents.clear();
        self.row_cents.resize(batch.num_rows(), 0);
        for &i in &self.money {
            let Some(values) = batch.column(i).as_primitive_opt::<arrow::datatypes::Float64Type>() else {
                self.passengers.mark_uncounted();
                continue;
            };
            for (cents, x) in self.row_cents.iter_mut().zip(values.iter()) {
                if let Some(x) = x {
                    self.passengers.add_value(cents, x);
                }
            }
        }
        let licences = self.licence_index.map(|i| batch.column(i).as_string_opt::<i32>());
        match licences {
            None => self.passengers.add(None, batch.num_rows() as i64, self.row_cents.iter().sum()),
            Some(None) => self.passengers.mark_uncounted(),
            Some(Some(licences)) => {
                for (row, &cents) in self.row_cents.iter().enumerate() {
                    let licence = licences.is_valid(row).then(|| licences.value(row).as_bytes());
                    self.passengers.add(licence, 1, cents);
                }
            }
        }
    }

    /// The last chunk (with the stream's trailer) and the figures.
    fn finish(self) -> (Bytes, Figures) {
        let total_amount = self.total_index.map(|_| self.total_amount);
        let figures = Figures { total_amount, pickups: self.pickups, passengers: self.passengers };
        (self.encoder.finish(), figures)
    }

    fn read_error(&self, source: ParquetError) -> WarehouseError {
        WarehouseError::Read { key: self.key.clone(), source }
    }

    fn stopped(&self) -> WarehouseError {
        stopped(&self.key)
    }
}

fn sum_f64(array: &arrow::array::ArrayRef) -> f64 {
    use arrow::array::AsArray;
    array.as_primitive::<arrow::datatypes::Float64Type>().iter().flatten().sum()
}
