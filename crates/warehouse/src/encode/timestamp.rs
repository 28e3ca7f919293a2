//! `Timestamp(µs, no zone)` → PostgreSQL `timestamp`: µs counted from 2000-01-01, not 1970.

use arrow::array::{Array, TimestampMicrosecondArray};
use bytes::{BufMut, BytesMut};

use super::{ColumnWriter, PG_EPOCH_MICROS, put_null};

pub(super) struct TimestampWriter<'a>(pub &'a TimestampMicrosecondArray);

impl ColumnWriter for TimestampWriter<'_> {
    fn write(&self, row: usize, buf: &mut BytesMut) {
        if self.0.is_null(row) {
            put_null(buf);
        } else {
            buf.put_i32(8);
            buf.put_i64(self.0.value(row) - PG_EPOCH_MICROS);
        }
    }
}
