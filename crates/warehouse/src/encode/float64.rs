//! `Float64` → PostgreSQL `double precision` (IEEE 754 bits, big-endian).

use arrow::array::{Array, Float64Array};
use bytes::{BufMut, BytesMut};

use super::{ColumnWriter, put_null};

pub(super) struct Float64Writer<'a>(pub &'a Float64Array);

impl ColumnWriter for Float64Writer<'_> {
    fn write(&self, row: usize, buf: &mut BytesMut) {
        if self.0.is_null(row) {
            put_null(buf);
        } else {
            buf.put_i32(8);
            buf.put_f64(self.0.value(row));
        }
    }
}
