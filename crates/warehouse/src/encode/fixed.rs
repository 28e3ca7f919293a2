//! The fixed-width types (`Int32` → `integer`; `Int64` → `bigint`, `Float64` → `double
//! precision`, `Timestamp(µs)` → `timestamp`): a cell is the length and the value's
//! big-endian bytes, or -1 for NULL.

use std::ops::Range;

use arrow::array::{Array, PrimitiveArray};
use arrow::datatypes::{ArrowPrimitiveType, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};

use super::{ColumnWriter, NULL, PG_EPOCH_MICROS, add_widths};

/// A primitive column and how one of its values becomes its `C`-byte cell, length included (a
/// type parameter, not a fn pointer, so that the conversion is inlined into the cell loop).
pub(super) struct FixedWriter<'a, T: ArrowPrimitiveType, F, const C: usize> {
    array: &'a PrimitiveArray<T>,
    to_cell: F,
}

pub(super) fn int32(array: &PrimitiveArray<Int32Type>) -> impl ColumnWriter + '_ {
    FixedWriter { array, to_cell: |v: i32| cell::<4, 8>(v.to_be_bytes()) }
}

pub(super) fn int64(array: &PrimitiveArray<Int64Type>) -> impl ColumnWriter + '_ {
    FixedWriter { array, to_cell: |v: i64| cell::<8, 12>(v.to_be_bytes()) }
}

pub(super) fn float64(array: &PrimitiveArray<Float64Type>) -> impl ColumnWriter + '_ {
    FixedWriter { array, to_cell: |v: f64| cell::<8, 12>(v.to_be_bytes()) }
}

/// PostgreSQL counts timestamps from 2000-01-01, Arrow from 1970-01-01.
pub(super) fn timestamp(array: &PrimitiveArray<TimestampMicrosecondType>) -> impl ColumnWriter + '_ {
    FixedWriter { array, to_cell: |micros: i64| cell::<8, 12>((micros - PG_EPOCH_MICROS).to_be_bytes()) }
}

/// A present value's cell: its length and the value, copied as one block.
#[inline]
fn cell<const N: usize, const C: usize>(value: [u8; N]) -> [u8; C] {
    const { assert!(C == N + 4) };
    let mut cell = [0u8; C];
    cell[..4].copy_from_slice(&(N as i32).to_be_bytes());
    cell[4..].copy_from_slice(&value);
    cell
}

impl<T: ArrowPrimitiveType, F: Fn(T::Native) -> [u8; C], const C: usize> ColumnWriter
    for FixedWriter<'_, T, F, C>
{
    fn add_widths(&self, rows: Range<usize>, widths: &mut [usize]) {
        add_widths(self.array.nulls(), rows, widths, |_| C);
    }

    fn write(&self, rows: Range<usize>, out: &mut [u8], cursors: &mut [usize]) {
        let values = &self.array.values()[rows.clone()];
        let Some(nulls) = self.array.nulls().filter(|n| n.null_count() > 0) else {
            for (cursor, &value) in cursors.iter_mut().zip(values) {
                out[*cursor..*cursor + C].copy_from_slice(&(self.to_cell)(value));
                *cursor += C;
            }
            return;
        };
        for ((cursor, &value), row) in cursors.iter_mut().zip(values).zip(rows) {
            if nulls.is_null(row) {
                out[*cursor..*cursor + 4].copy_from_slice(&NULL);
                *cursor += 4;
            } else {
                out[*cursor..*cursor + C].copy_from_slice(&(self.to_cell)(value));
                *cursor += C;
            }
        }
    }
}
