//! `Float64` → PostgreSQL `double precision` (IEEE 754 bits, big-endian).

use arrow::array::{Array, Float64Array};
use bytes::BytesMut;

use super::{ColumnWriter, put_8, put_null};

pub(super) struct Float64Writer<'a>(pub &'a Float64Array);

impl ColumnWriter for Float64Writer<'_> {
    fn write(&self, row: usize, buf: &mut BytesMut) {
        if self.0.is_null(row) {
            put_null(buf);
        } else {
            put_8(buf, self.0.value(row).to_be_bytes());
        }
    }
}
