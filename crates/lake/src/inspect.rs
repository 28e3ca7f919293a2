//! Looking inside objects without reading them whole: Parquet footers (row counts, schema)
//! for `ls` and `verify`, and the zone table's header.

use arrow::datatypes::SchemaRef;
use atl_core::{SchemaError, SchemaMapping, TripFile, TripKind, ZONES_LAKE_KEY};
use futures::StreamExt;
use object_store::{ObjectMeta, ObjectStoreExt};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::errors::ParquetError;
use parquet::file::reader::ChunkReader;

use crate::{Lake, LakeError, object_path};

/// Footers read at once by `ls` and `verify` (each is one or two small range reads).
const FOOTERS_AT_ONCE: usize = 8;

/// What a Parquet footer says about a file.
#[derive(Debug, Clone)]
pub struct Footer {
    pub rows: u64,
    pub row_groups: usize,
    /// The Arrow schema the file decodes to.
    pub schema: SchemaRef,
}

impl Footer {
    /// Reads the footer of a Parquet file from anything parquet can read in ranges
    /// (a `std::fs::File`, `bytes::Bytes`).
    pub fn read<R: ChunkReader>(reader: &R) -> Result<Footer, ParquetError> {
        Ok(Footer::of(&ArrowReaderMetadata::load(reader, ArrowReaderOptions::new())?))
    }

    fn of(metadata: &ArrowReaderMetadata) -> Footer {
        let parquet = metadata.metadata();
        Footer {
            rows: parquet.file_metadata().num_rows().max(0) as u64,
            row_groups: parquet.num_row_groups(),
            schema: metadata.schema().clone(),
        }
    }

    /// Checks that the columns are those of `kind`: mapped by core's [`SchemaMapping`] for
    /// the kinds core declares; accepted as they are for any other.
    pub fn check_kind(&self, kind: TripKind, name: &str) -> Result<(), SchemaError> {
        match SchemaMapping::new(kind, &self.schema, name) {
            Ok(_) | Err(SchemaError::UnsupportedKind { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// [`Footer::read`] for a local file.
pub fn read_footer_from(path: &std::path::Path) -> Result<Footer, ParquetError> {
    let file = std::fs::File::open(path).map_err(|e| ParquetError::External(Box::new(e)))?;
    Footer::read(&file)
}

/// One object as `atl-lake ls` shows it.
#[derive(Debug)]
pub struct LakeEntry {
    pub meta: ObjectMeta,
    /// The kind and month, for objects that follow the trip layout.
    pub trip_file: Option<TripFile>,
    /// The footer of a trip file (or why it could not be read); `None` for other objects.
    pub footer: Option<Result<Footer, LakeError>>,
}

/// The outcome of checking one object with [`Lake::verify`].
#[derive(Debug)]
pub struct ObjectCheck {
    pub key: String,
    pub size: u64,
    /// Row count (trip files) or zone count (zone table), or what is wrong.
    pub result: Result<u64, LakeError>,
}

impl Lake {
    /// Reads the footer of the Parquet object at `key` (two small range reads, not the file).
    pub async fn footer(&self, key: &str) -> Result<Footer, LakeError> {
        let meta = self.head(key).await?.ok_or_else(|| {
            self.store_error(
                "read the footer of",
                key,
                object_store::Error::NotFound { path: key.to_owned(), source: "no such object".into() },
            )
        })?;
        self.footer_of(&meta).await
    }

    async fn footer_of(&self, meta: &ObjectMeta) -> Result<Footer, LakeError> {
        let key = meta.location.as_ref();
        let mut reader = self.parquet_reader(meta);
        ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
            .await
            .map(|m| Footer::of(&m))
            .map_err(|source| LakeError::Footer { key: key.to_owned(), source })
    }

    /// The lake's trip files (of `kind`, or of every kind) with their footers, then (without
    /// a kind) the reference objects, for `atl-lake ls`.
    pub async fn catalog(&self, kind: Option<TripKind>) -> Result<Vec<LakeEntry>, LakeError> {
        let mut entries = Vec::new();
        for kind in kinds(kind) {
            let files = self.trip_files(kind).await?;
            let footers: Vec<Result<Footer, LakeError>> =
                futures::stream::iter(files.iter().map(|(_, meta)| self.footer_of(meta)))
                    .buffered(FOOTERS_AT_ONCE)
                    .collect()
                    .await;
            for ((file, meta), footer) in files.into_iter().zip(footers) {
                entries.push(LakeEntry { meta, trip_file: Some(file), footer: Some(footer) });
            }
        }
        if kind.is_none() {
            for meta in self.reference_objects().await? {
                entries.push(LakeEntry { meta, trip_file: None, footer: None });
            }
        }
        Ok(entries)
    }

    /// Checks every trip object (of `kind`, or of every kind): its footer must be readable
    /// and its schema mappable onto its kind's; objects under a kind's prefix that do not
    /// follow the lake layout are reported too. Without a kind, the zone table is checked
    /// as well. Returns one [`ObjectCheck`] per object; `Err` only when listing fails.
    pub async fn verify(&self, kind: Option<TripKind>) -> Result<Vec<ObjectCheck>, LakeError> {
        let mut checks = Vec::new();
        for kind in kinds(kind) {
            let mut objects = self.list(kind.as_str()).await?;
            objects.sort_by(|a, b| a.location.cmp(&b.location));
            let results: Vec<ObjectCheck> =
                futures::stream::iter(objects.iter().map(|meta| self.check_trip_object(kind, meta)))
                    .buffered(FOOTERS_AT_ONCE)
                    .collect()
                    .await;
            checks.extend(results);
        }
        if kind.is_none() {
            for meta in self.reference_objects().await? {
                let key = meta.location.to_string();
                let result = if key == ZONES_LAKE_KEY { self.check_zone_object(&key).await } else { Ok(0) };
                checks.push(ObjectCheck { key, size: meta.size, result });
            }
        }
        Ok(checks)
    }

    async fn check_trip_object(&self, kind: TripKind, meta: &ObjectMeta) -> ObjectCheck {
        let key = meta.location.to_string();
        let result = match TripFile::from_lake_key(&key) {
            Some(file) if file.kind == kind => match self.footer_of(meta).await {
                Ok(footer) => footer
                    .check_kind(kind, &key)
                    .map(|()| footer.rows)
                    .map_err(|source| LakeError::Schema { key: key.clone(), source: Box::new(source) }),
                Err(e) => Err(e),
            },
            _ => Err(LakeError::Stray { key: key.clone(), kind }),
        };
        ObjectCheck { key, size: meta.size, result }
    }

    async fn check_zone_object(&self, key: &str) -> Result<u64, LakeError> {
        let location = object_path(key)?;
        let bytes = self
            .store
            .get(&location)
            .await
            .map_err(|source| self.store_error("get", key, source))?
            .bytes()
            .await
            .map_err(|source| self.store_error("get", key, source))?;
        zone_table_rows(&bytes).map_err(|reason| LakeError::ZoneTable { key: key.to_owned(), reason })
    }
}

fn kinds(kind: Option<TripKind>) -> Vec<TripKind> {
    kind.map_or_else(|| TripKind::ALL.to_vec(), |k| vec![k])
}

/// The number of zones in a `taxi_zone_lookup.csv`, or why the text is not that table
/// (the header must start with `LocationID`, as the TLC's does, quoted or not).
pub fn zone_table_rows(text: &[u8]) -> Result<u64, String> {
    let text = String::from_utf8_lossy(text);
    let text = text.trim_start_matches('\u{feff}');
    let header = text.lines().next().unwrap_or("");
    let first = header.split(',').next().unwrap_or("").trim().trim_matches('"');
    if first != "LocationID" {
        let shown: String = header.chars().take(80).collect();
        return Err(format!("the header is `{shown}`, not `LocationID,Borough,Zone,service_zone`"));
    }
    let rows = text.lines().skip(1).filter(|l| !l.trim().is_empty()).count() as u64;
    if rows == 0 {
        return Err("the header has no rows under it".to_owned());
    }
    Ok(rows)
}
