//! What each object was copied from: the source's ETag at the time of the download, kept
//! as a small object of its own under `_source/<key>` (outside every kind's and
//! `reference/`'s prefix, so listings never see it).
//!
//! Size alone cannot tell a republished month of the same size, or a corrupted copy, from
//! the one in the lake; the CDN's ETag can (CloudFront passes on its S3 origin's ETag, which
//! changes whenever the TLC uploads the file again). The record is written after the object
//! it describes, so a crash between the two leaves an object without a record, which
//! `atl-ingest` adopts as an older release's object (see its `same_source`).

use bytes::Bytes;
use object_store::{ObjectStoreExt, PutPayload};

use crate::{Lake, LakeError, object_path};

/// The prefix of the provenance records.
pub const SOURCE_PREFIX: &str = "_source";

fn record_key(key: &str) -> String {
    format!("{SOURCE_PREFIX}/{key}")
}

impl Lake {
    /// The source ETag recorded when `key` was written, if any.
    pub async fn source_etag(&self, key: &str) -> Result<Option<String>, LakeError> {
        let record = record_key(key);
        match self.store.get(&object_path(&record)?).await {
            Ok(found) => {
                let bytes = found.bytes().await.map_err(|source| self.store_error("get", &record, source))?;
                Ok(Some(String::from_utf8_lossy(&bytes).trim().to_owned()))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(source) => Err(self.store_error("get", &record, source)),
        }
    }

    /// Records that `key` holds the source object whose ETag is `etag`.
    pub async fn record_source_etag(&self, key: &str, etag: &str) -> Result<(), LakeError> {
        let record = record_key(key);
        let payload = PutPayload::from(Bytes::from(format!("{etag}\n")));
        self.store
            .put(&object_path(&record)?, payload)
            .await
            .map_err(|source| self.store_error("put", &record, source))?;
        Ok(())
    }

    /// Forgets the record of `key` (the object itself is removed by the caller).
    pub(crate) async fn forget_source_etag(&self, key: &str) -> Result<(), LakeError> {
        let record = record_key(key);
        match self.store.delete(&object_path(&record)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(self.store_error("delete", &record, source)),
        }
    }
}
