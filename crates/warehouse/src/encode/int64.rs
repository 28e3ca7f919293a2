//! `Int64` → PostgreSQL `bigint` (8 bytes, big-endian).

use arrow::array::{Array, Int64Array};
use bytes::{BufMut, BytesMut};

use super::{ColumnWriter, put_null};

pub(super) struct Int64Writer<'a>(pub &'a Int64Array);

impl ColumnWriter for Int64Writer<'_> {
    fn write(&self, row: usize, buf: &mut BytesMut) {
        if self.0.is_null(row) {
            put_null(buf);
        } else {
            buf.put_i32(8);
            buf.put_i64(self.0.value(row));
        }
    }
}
