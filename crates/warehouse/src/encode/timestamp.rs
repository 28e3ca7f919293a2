//! `Timestamp(µs, no zone)` → PostgreSQL `timestamp`: µs counted from 2000-01-01, not 1970.

use arrow::array::{Array, TimestampMicrosecondArray};
use bytes::BytesMut;

use super::{ColumnWriter, PG_EPOCH_MICROS, put_8, put_null};

pub(super) struct TimestampWriter<'a>(pub &'a TimestampMicrosecondArray);

impl ColumnWriter for TimestampWriter<'_> {
    fn write(&self, row: usize, buf: &mut BytesMut) {
        if self.0.is_null(row) {
            put_null(buf);
        } else {
            put_8(buf, (self.0.value(row) - PG_EPOCH_MICROS).to_be_bytes());
        }
    }
}
