//! `Int64` → PostgreSQL `bigint` (8 bytes, big-endian).

use arrow::array::{Array, Int64Array};
use bytes::BytesMut;

use super::{ColumnWriter, put_8, put_null};

pub(super) struct Int64Writer<'a>(pub &'a Int64Array);

impl ColumnWriter for Int64Writer<'_> {
    fn write(&self, row: usize, buf: &mut BytesMut) {
        if self.0.is_null(row) {
            put_null(buf);
        } else {
            put_8(buf, self.0.value(row).to_be_bytes());
        }
    }
}
