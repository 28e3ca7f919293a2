//! `Utf8` → PostgreSQL `text` (the UTF-8 bytes as they are).

use std::ops::Range;

use arrow::array::{Array, StringArray};

use super::{ColumnWriter, NULL, add_widths};

pub(super) struct TextWriter<'a>(pub &'a StringArray);

impl ColumnWriter for TextWriter<'_> {
    fn add_widths(&self, rows: Range<usize>, widths: &mut [usize]) {
        add_widths(self.0.nulls(), rows, widths, |row| 4 + self.0.value(row).len());
    }

    fn write(&self, rows: Range<usize>, out: &mut [u8], cursors: &mut [usize]) {
        for (cursor, row) in cursors.iter_mut().zip(rows) {
            let at = *cursor;
            if self.0.is_null(row) {
                out[at..at + 4].copy_from_slice(&NULL);
                *cursor = at + 4;
            } else {
                let value = self.0.value(row).as_bytes();
                out[at..at + 4].copy_from_slice(&(value.len() as i32).to_be_bytes());
                out[at + 4..at + 4 + value.len()].copy_from_slice(value);
                *cursor = at + 4 + value.len();
            }
        }
    }
}
