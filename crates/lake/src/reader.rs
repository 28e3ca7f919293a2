//! Reading Parquet objects in ranges, for the footer checks here and for the warehouse
//! stage's row streaming. (parquet 60 deprecated its `ParquetObjectReader` in favour of
//! implementing `AsyncFileReader` next to the store.)

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, TryFutureExt};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::Lake;

/// A Parquet object of the lake, read with ranged GETs: give it to parquet's
/// `ParquetRecordBatchStreamBuilder::new` or `ArrowReaderMetadata::load_async`.
#[derive(Debug, Clone)]
pub struct ParquetObject {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

impl Lake {
    /// A range reader over the object `meta` describes (from [`Lake::head`] or
    /// [`Lake::trip_files`]); its known size saves a request when the footer is read.
    pub fn parquet_reader(&self, meta: &ObjectMeta) -> ParquetObject {
        ParquetObject { store: self.store.clone(), path: meta.location.clone(), size: meta.size }
    }
}

fn external(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for ParquetObject {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, Result<Bytes>> {
        self.store.get_range(&self.path, range).map_err(external).boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, Result<Vec<Bytes>>> {
        async move { self.store.get_ranges(&self.path, &ranges).await.map_err(external) }.boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}
