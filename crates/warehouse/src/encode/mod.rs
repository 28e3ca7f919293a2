//! Arrow batches → PostgreSQL's binary COPY format.
//!
//! The format is a fixed header, then per row a 16-bit field count and per field a 32-bit
//! length (-1 for NULL) followed by the value in network byte order, then a -1 trailer.
//! Each Arrow type the canonical schema uses has its own small file here; a batch is
//! encoded row by row because COPY is row-major while Arrow is columnar.

mod float64;
mod int64;
mod text;
mod timestamp;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use bytes::{BufMut, Bytes, BytesMut};
use chrono::NaiveDate;

/// The signature every binary COPY stream starts with, then flags and extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// PostgreSQL counts dates and timestamps from 2000-01-01.
pub(crate) const PG_EPOCH_DAYS: i32 = 10_957;
pub(crate) const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS as i64 * 86_400 * 1_000_000;

/// A column type this encoder cannot write.
#[derive(Debug, thiserror::Error)]
#[error("column `{column}` has Arrow type {data_type}, which the COPY encoder does not handle")]
pub struct UnsupportedType {
    pub column: String,
    pub data_type: DataType,
}

/// Values written before each row's data columns: where the row came from. The object
/// itself is recorded once per month, in `raw.load_log`.
#[derive(Debug, Clone)]
pub struct Lineage {
    /// The month of the source file, written as a `date`.
    pub month: NaiveDate,
    /// The 0-based position in the object of the first row encoded (a COPY stream may
    /// carry a slice of the object).
    pub first_row: i64,
}

/// Writes a binary COPY stream into a growing buffer that the caller drains in chunks.
#[derive(Debug)]
pub struct CopyEncoder {
    buf: BytesMut,
    month_days: i32,
    next_row: i64,
}

trait ColumnWriter {
    fn write(&self, row: usize, buf: &mut BytesMut);
}

impl CopyEncoder {
    pub fn new(lineage: &Lineage) -> CopyEncoder {
        let month_days =
            (lineage.month - NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid")).num_days() as i32;
        let mut buf = BytesMut::with_capacity(2 << 20);
        buf.put_slice(HEADER);
        CopyEncoder { buf, month_days, next_row: lineage.first_row }
    }

    /// The position of the next row to encode.
    pub fn next_row(&self) -> i64 {
        self.next_row
    }

    /// Bytes waiting to be sent.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Appends every row of `batch` (lineage columns first, then the batch's columns).
    pub fn encode(&mut self, batch: &RecordBatch) -> Result<(), UnsupportedType> {
        let writers = batch
            .schema()
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(field, array)| {
                writer_for(array.as_ref()).ok_or_else(|| UnsupportedType {
                    column: field.name().clone(),
                    data_type: field.data_type().clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fields = (writers.len() + 2) as i16;
        // Lineage (4+4 + 4+8) plus the data columns at their widest (4+8 each, strings ~ a
        // few bytes): reserving once per batch keeps the row loop branch-free.
        let row_size = 2 + 20 + writers.len() * 14;
        self.buf.reserve(row_size * batch.num_rows());
        for row in 0..batch.num_rows() {
            let buf = &mut self.buf;
            buf.put_i16(fields);
            buf.put_i32(4);
            buf.put_i32(self.month_days);
            buf.put_i32(8);
            buf.put_i64(self.next_row);
            for writer in &writers {
                writer.write(row, buf);
            }
            self.next_row += 1;
        }
        Ok(())
    }

    /// Takes everything encoded so far, leaving the buffer empty.
    pub fn take(&mut self) -> Bytes {
        self.buf.split().freeze()
    }

    /// Takes everything encoded so far and goes on in `fresh` (an emptied buffer whose
    /// capacity is reused).
    pub fn swap_buffer(&mut self, fresh: BytesMut) -> Bytes {
        std::mem::replace(&mut self.buf, fresh).freeze()
    }

    /// Ends the stream: the trailer, and whatever was still pending.
    pub fn finish(mut self) -> Bytes {
        self.buf.put_i16(-1);
        self.buf.freeze()
    }
}

fn writer_for(array: &dyn Array) -> Option<Box<dyn ColumnWriter + '_>> {
    Some(match array.data_type() {
        DataType::Int64 => Box::new(int64::Int64Writer(array.as_primitive::<Int64Type>())),
        DataType::Float64 => Box::new(float64::Float64Writer(array.as_primitive::<Float64Type>())),
        DataType::Timestamp(TimeUnit::Microsecond, None) => {
            Box::new(timestamp::TimestampWriter(array.as_primitive::<TimestampMicrosecondType>()))
        }
        DataType::Utf8 => Box::new(text::TextWriter(array.as_string::<i32>())),
        _ => return None,
    })
}

fn put_null(buf: &mut BytesMut) {
    buf.put_i32(-1);
}

/// A present 8-byte value: its length, then its big-endian bytes, copied as one cell (two
/// puts cost twice the capacity checks; the fixed-width writers were a fifth of the loader).
fn put_8(buf: &mut BytesMut, value: [u8; 8]) {
    let mut cell = [0u8; 12];
    cell[..4].copy_from_slice(&8i32.to_be_bytes());
    cell[4..].copy_from_slice(&value);
    buf.put_slice(&cell);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, StringArray, TimestampMicrosecondArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn writes_header_rows_and_trailer() {
        let schema = Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Float64, true),
            Field::new("c", DataType::Utf8, true),
            Field::new("d", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![Some(7), None])),
                Arc::new(Float64Array::from(vec![Some(1.5), None])),
                Arc::new(StringArray::from(vec![Some("N"), None])),
                Arc::new(TimestampMicrosecondArray::from(vec![Some(PG_EPOCH_MICROS + 1), None])),
            ],
        )
        .unwrap();
        let lineage = Lineage { month: NaiveDate::from_ymd_opt(2000, 2, 1).unwrap(), first_row: 0 };
        let mut encoder = CopyEncoder::new(&lineage);
        encoder.encode(&batch).unwrap();
        let bytes = encoder.finish();
        let mut expected = HEADER.to_vec();
        for (row, values) in [(0i64, true), (1, false)] {
            expected.extend(6i16.to_be_bytes());
            expected.extend([&4i32.to_be_bytes()[..], &31i32.to_be_bytes()].concat());
            expected.extend([&8i32.to_be_bytes()[..], &row.to_be_bytes()].concat());
            if values {
                expected.extend([&8i32.to_be_bytes()[..], &7i64.to_be_bytes()].concat());
                expected.extend([&8i32.to_be_bytes()[..], &1.5f64.to_be_bytes()].concat());
                expected.extend([&1i32.to_be_bytes()[..], b"N"].concat());
                expected.extend([&8i32.to_be_bytes()[..], &1i64.to_be_bytes()].concat());
            } else {
                for _ in 0..4 {
                    expected.extend((-1i32).to_be_bytes());
                }
            }
        }
        expected.extend((-1i16).to_be_bytes());
        assert_eq!(bytes.as_ref(), expected.as_slice());
    }
}
