//! `Utf8` → PostgreSQL `text` (the UTF-8 bytes as they are).

use arrow::array::{Array, StringArray};
use bytes::{BufMut, BytesMut};

use super::{ColumnWriter, put_null};

pub(super) struct TextWriter<'a>(pub &'a StringArray);

impl ColumnWriter for TextWriter<'_> {
    fn write(&self, row: usize, buf: &mut BytesMut) {
        if self.0.is_null(row) {
            put_null(buf);
        } else {
            let value = self.0.value(row).as_bytes();
            buf.put_i32(value.len() as i32);
            buf.put_slice(value);
        }
    }
}
