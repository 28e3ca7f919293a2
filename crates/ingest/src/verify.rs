//! Checking a downloaded file before it may enter the lake: a Parquet trip file must have
//! the magic bytes at both ends, a readable footer and a schema core can
//! map; the zone table must look like the TLC's CSV. Whatever fails says why: an error
//! page, a truncated body, or a foreign schema.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use atl_core::schema::pickup_column;
use atl_core::{PickupTally, TripKind, YearMonth};
use atl_lake::{Footer, zone_table_rows};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::IngestError;
use crate::download::Downloaded;

const MAGIC: &[u8; 4] = b"PAR1";
/// A zone table is ~12 KB; anything far larger is not one.
const MAX_ZONE_TABLE: u64 = 4 << 20;
/// The shapefile archive is ~1 MB and the indicators ~70 KB; a reference file far larger is
/// not one (and is read whole to be checked).
const MAX_REFERENCE_FILE: u64 = 64 << 20;

/// What verification learnt: the file's row count.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    pub(crate) rows: u64,
    /// The ETag of the response the verified bytes came from.
    pub(crate) etag: Option<String>,
}

/// What the file must be.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect {
    /// A Parquet trip file of this kind; with a month, most of its pickups must fall in it.
    Trips(TripKind, Option<YearMonth>),
    /// `taxi_zone_lookup.csv`.
    ZoneTable,
    /// `taxi_zones.zip`: a zip whose shapefile reads.
    ZoneShapes,
    /// `data_reports_monthly.csv`: the TLC's monthly indicators.
    Indicators,
}

/// Verifies the staged file at `path` (blocking: call it off the async threads).
pub(crate) fn verify(
    path: &Path,
    url: &str,
    got: &Downloaded,
    expect: Expect,
) -> Result<Verified, IngestError> {
    let io = |source| IngestError::Staging { path: path.to_owned(), source };
    let mut file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut start = vec![0u8; size.min(512) as usize];
    file.read_exact(&mut start).map_err(io)?;
    if looks_like_markup(&start) {
        return Err(IngestError::ErrorPage {
            url: url.to_owned(),
            content_type: got.content_type.clone(),
            snippet: snippet(&start),
        });
    }
    match expect {
        Expect::Trips(kind, month) => {
            let verified = verify_parquet(&mut file, size, url, got, kind)?;
            if let Some(month) = month {
                check_month(&file, url, kind, month)?;
            }
            Ok(verified)
        }
        Expect::ZoneTable => {
            if size > MAX_ZONE_TABLE {
                return Err(IngestError::NotZoneTable {
                    url: url.to_owned(),
                    reason: format!("{size} bytes is far too big"),
                });
            }
            let mut text = Vec::with_capacity(size as usize);
            file.rewind().map_err(io)?;
            file.read_to_end(&mut text).map_err(io)?;
            zone_table_rows(&text)
                .map(|rows| Verified { rows, etag: got.etag.clone() })
                .map_err(|reason| IngestError::NotZoneTable { url: url.to_owned(), reason })
        }
        Expect::ZoneShapes | Expect::Indicators => {
            if size > MAX_REFERENCE_FILE {
                return Err(IngestError::NotReference {
                    url: url.to_owned(),
                    reason: atl_lake::reference::ReferenceError {
                        what: "a reference file",
                        reason: format!("{size} bytes is far too big"),
                    },
                });
            }
            let mut bytes = Vec::with_capacity(size as usize);
            file.rewind().map_err(io)?;
            file.read_to_end(&mut bytes).map_err(io)?;
            let rows = match expect {
                Expect::ZoneShapes => atl_lake::reference::read_zone_shapes(&bytes).map(|s| s.len() as u64),
                _ => atl_lake::reference::read_indicators(&bytes).map(|r| r.len() as u64),
            }
            .map_err(|reason| IngestError::NotReference { url: url.to_owned(), reason })?;
            Ok(Verified { rows, etag: got.etag.clone() })
        }
    }
}

fn verify_parquet(
    file: &mut File,
    size: u64,
    url: &str,
    got: &Downloaded,
    kind: TripKind,
) -> Result<Verified, IngestError> {
    let io = |source| IngestError::NotParquet {
        url: url.to_owned(),
        reason: format!("reading it back: {source}"),
    };
    let mut head = [0u8; 4];
    let mut tail = [0u8; 4];
    if size >= 8 {
        file.rewind().map_err(io)?;
        file.read_exact(&mut head).map_err(io)?;
        file.seek(SeekFrom::End(-4)).map_err(io)?;
        file.read_exact(&mut tail).map_err(io)?;
    }
    if &head != MAGIC {
        let reason = if size < 8 {
            format!("only {size} bytes")
        } else {
            format!("it starts with {:02x?}, not PAR1", head)
        };
        return Err(IngestError::NotParquet { url: url.to_owned(), reason });
    }
    if &tail != MAGIC {
        // Complete per Content-Length but no footer: a corrupt file. Otherwise the body was cut.
        return Err(match got.expected {
            Some(expected) if expected == size => IngestError::NotParquet {
                url: url.to_owned(),
                reason: "it has no PAR1 footer magic at the end (corrupt at the source?)".to_owned(),
            },
            expected => IngestError::Truncated { url: url.to_owned(), got: size, expected },
        });
    }
    let footer =
        Footer::read(&*file).map_err(|source| IngestError::Footer { url: url.to_owned(), source })?;
    footer
        .check_kind(kind, url)
        .map_err(|source| IngestError::ForeignSchema { url: url.to_owned(), source: Box::new(source) })?;
    // A TLC month is never empty: an empty file would replace a good month downstream.
    if footer.rows == 0 {
        return Err(IngestError::NotParquet {
            url: url.to_owned(),
            reason: "it holds no rows (an empty month is never published)".to_owned(),
        });
    }
    Ok(Verified { rows: footer.rows, etag: got.etag.clone() })
}

/// Refuses a file whose pickups mostly fall outside `month` (another month's file served
/// under this month's name): reads the pickup column only.
fn check_month(file: &File, url: &str, kind: TripKind, month: YearMonth) -> Result<(), IngestError> {
    let Some(column) = pickup_column(kind) else {
        return Ok(());
    };
    let footer_err = |source| IngestError::Footer { url: url.to_owned(), source };
    let file = file.try_clone().map_err(|e| IngestError::NotParquet {
        url: url.to_owned(),
        reason: format!("reading it back: {e}"),
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(footer_err)?;
    // Eras differ in case (tpep_pickup_datetime is stable, but be as lenient as the mapping).
    let Some(index) = builder.schema().fields().iter().position(|f| f.name().eq_ignore_ascii_case(column))
    else {
        return Ok(());
    };
    let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
    let reader = builder.with_projection(mask).build().map_err(footer_err)?;
    let mut pickups = PickupTally::default();
    for batch in reader {
        let batch = batch.map_err(|e| IngestError::NotParquet {
            url: url.to_owned(),
            reason: format!("reading {column}: {e}"),
        })?;
        pickups.add(batch.column(0).as_ref());
    }
    pickups.check(month).map_err(|source| IngestError::WrongMonth { url: url.to_owned(), source })?;
    if let Some(remark) = pickups.fragment_remark(month) {
        tracing::warn!("{url}: {remark}");
    }
    Ok(())
}

/// An HTML or XML document (CloudFront/S3 errors, captive portals), after a BOM and blanks.
fn looks_like_markup(start: &[u8]) -> bool {
    let text = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    let text = text.trim_ascii_start();
    text.starts_with(b"<")
}

fn snippet(start: &[u8]) -> String {
    let text = String::from_utf8_lossy(start);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_recognised() {
        assert!(looks_like_markup(b"<?xml version=\"1.0\"?><Error>"));
        assert!(looks_like_markup(b"\xEF\xBB\xBF\n  <!DOCTYPE html>"));
        assert!(!looks_like_markup(b"PAR1\x15\x04"));
        assert!(!looks_like_markup(b"\"LocationID\",\"Borough\""));
    }
}
