//! The 8-byte types (`Int64` → `bigint`, `Float64` → `double precision`, `Timestamp(µs)` →
//! `timestamp`): a cell is the length 8 and the value's big-endian bytes, or -1 for NULL.

use std::ops::Range;

use arrow::array::{Array, PrimitiveArray};
use arrow::datatypes::{ArrowPrimitiveType, Float64Type, Int64Type, TimestampMicrosecondType};

use super::{ColumnWriter, NULL, PG_EPOCH_MICROS, add_widths};

/// A primitive column and how one of its values becomes the 8 bytes PostgreSQL expects (a
/// type parameter, not a fn pointer, so that the conversion is inlined into the cell loop).
pub(super) struct Fixed8Writer<'a, T: ArrowPrimitiveType, F> {
    array: &'a PrimitiveArray<T>,
    to_pg: F,
}

pub(super) fn int64(array: &PrimitiveArray<Int64Type>) -> impl ColumnWriter + '_ {
    Fixed8Writer { array, to_pg: i64::to_be_bytes }
}

pub(super) fn float64(array: &PrimitiveArray<Float64Type>) -> impl ColumnWriter + '_ {
    Fixed8Writer { array, to_pg: f64::to_be_bytes }
}

/// PostgreSQL counts timestamps from 2000-01-01, Arrow from 1970-01-01.
pub(super) fn timestamp(array: &PrimitiveArray<TimestampMicrosecondType>) -> impl ColumnWriter + '_ {
    Fixed8Writer { array, to_pg: |micros: i64| (micros - PG_EPOCH_MICROS).to_be_bytes() }
}

/// A present value's cell: the length 8 and the value, copied as one 12-byte block.
#[inline]
fn cell(value: [u8; 8]) -> [u8; 12] {
    let mut cell = [0u8; 12];
    cell[..4].copy_from_slice(&8i32.to_be_bytes());
    cell[4..].copy_from_slice(&value);
    cell
}

impl<T: ArrowPrimitiveType, F: Fn(T::Native) -> [u8; 8]> ColumnWriter for Fixed8Writer<'_, T, F> {
    fn add_widths(&self, rows: Range<usize>, widths: &mut [usize]) {
        add_widths(self.array.nulls(), rows, widths, |_| 12);
    }

    fn write(&self, rows: Range<usize>, out: &mut [u8], cursors: &mut [usize]) {
        let values = &self.array.values()[rows.clone()];
        let Some(nulls) = self.array.nulls().filter(|n| n.null_count() > 0) else {
            for (cursor, &value) in cursors.iter_mut().zip(values) {
                out[*cursor..*cursor + 12].copy_from_slice(&cell((self.to_pg)(value)));
                *cursor += 12;
            }
            return;
        };
        for ((cursor, &value), row) in cursors.iter_mut().zip(values).zip(rows) {
            if nulls.is_null(row) {
                out[*cursor..*cursor + 4].copy_from_slice(&NULL);
                *cursor += 4;
            } else {
                out[*cursor..*cursor + 12].copy_from_slice(&cell((self.to_pg)(value)));
                *cursor += 12;
            }
        }
    }
}
