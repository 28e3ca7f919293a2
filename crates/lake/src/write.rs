//! Committing a verified local file to the lake: atomic (the object is complete or
//! absent) and idempotent (an object of the same size is left as it is).

use std::path::Path;

use object_store::{ObjectMeta, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::open::Backend;
use crate::{Lake, LakeError, object_path};

/// Size of a multipart upload part: above S3's 5 MiB minimum, small enough that the parts
/// in flight stay a few tens of MB. Smaller files go up in a single PUT.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Parts uploaded at once per file; with the part being read, memory per upload is
/// `(PARTS_IN_FLIGHT + 1) * PART_SIZE`.
const PARTS_IN_FLIGHT: usize = 2;

/// What [`Lake::put_file`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum PutOutcome {
    /// The object was written; its metadata after the write.
    Written(ObjectMeta),
    /// An object of the same size was already there and was left alone.
    AlreadyPresent(ObjectMeta),
}

impl PutOutcome {
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            PutOutcome::Written(meta) | PutOutcome::AlreadyPresent(meta) => meta,
        }
    }
}

impl Lake {
    /// Stores the local file at `path` as the object `key`.
    ///
    /// When the lake already holds `key` with the file's size, nothing is written. Otherwise
    /// the object appears only once complete: a file under [`Lake::staging_dir`] of a
    /// `file://` lake is renamed into place (it is gone from the staging folder afterwards);
    /// any other file is copied — in one PUT up to [`PART_SIZE`], as an S3 multipart upload
    /// (completed only after the last part) above — and left where it is.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<PutOutcome, LakeError> {
        let local_error = |action, source| LakeError::LocalFile { action, path: path.to_owned(), source };
        let size = tokio::fs::metadata(path).await.map_err(|e| local_error("reading", e))?.len();
        if let Some(existing) = self.head(key).await?
            && existing.size == size
        {
            tracing::debug!(key, size, "already in the lake with the same size");
            return Ok(PutOutcome::AlreadyPresent(existing));
        }
        self.write_file(key, path).await.map(PutOutcome::Written)
    }

    /// Stores the local file at `path` as the object `key`, replacing any object there (of any
    /// size: a republished month can have the old one's), as atomically as [`Lake::put_file`].
    pub async fn write_file(&self, key: &str, path: &Path) -> Result<ObjectMeta, LakeError> {
        let location = object_path(key)?;
        let local_error = |action, source| LakeError::LocalFile { action, path: path.to_owned(), source };
        let size = tokio::fs::metadata(path).await.map_err(|e| local_error("reading", e))?.len();
        if let Backend::Local { root, .. } = &self.backend
            && path.starts_with(self.staging_dir())
        {
            let target = root.join(key);
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|source| LakeError::Folder { path: parent.to_owned(), source })?;
            }
            // A rename within one filesystem is atomic: readers see the old object or the
            // new one, never a part.
            tokio::fs::rename(path, &target).await.map_err(|e| local_error("moving into the lake", e))?;
            // The rename survives a power cut only once the folder that records it is synced.
            if let Some(parent) = target.parent() {
                let folder =
                    tokio::fs::File::open(parent).await.map_err(|e| local_error("opening the folder", e))?;
                folder.sync_all().await.map_err(|e| local_error("syncing the folder", e))?;
            }
        } else if size as usize <= PART_SIZE {
            let bytes = tokio::fs::read(path).await.map_err(|e| local_error("reading", e))?;
            self.store
                .put(&location, PutPayload::from(bytes))
                .await
                .map_err(|source| self.store_error("put", key, source))?;
        } else {
            self.put_multipart(key, path).await?;
        }
        self.head(key).await?.ok_or_else(|| {
            self.store_error(
                "head after writing",
                key,
                object_store::Error::NotFound {
                    path: key.to_owned(),
                    source: "missing after a successful write".into(),
                },
            )
        })
    }

    async fn put_multipart(&self, key: &str, path: &Path) -> Result<(), LakeError> {
        let location = object_path(key)?;
        let local_error = |source| LakeError::LocalFile { action: "reading", path: path.to_owned(), source };
        let upload = self
            .store
            .put_multipart(&location)
            .await
            .map_err(|source| self.store_error("start upload of", key, source))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut file = tokio::fs::File::open(path).await.map_err(local_error)?;
        let result: Result<(), LakeError> = async {
            loop {
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|source| self.store_error("upload a part of", key, source))?;
                let mut part = Vec::with_capacity(PART_SIZE);
                let read =
                    (&mut file).take(PART_SIZE as u64).read_to_end(&mut part).await.map_err(local_error)?;
                if read == 0 {
                    return Ok(());
                }
                writer.put(part.into());
            }
        }
        .await;
        match result {
            Ok(()) => {
                writer
                    .finish()
                    .await
                    .map_err(|source| self.store_error("complete upload of", key, source))?;
                Ok(())
            }
            Err(e) => {
                // Abandoned parts cost storage on S3 until aborted; the object never appeared.
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(key, error = %abort, "aborting the multipart upload failed");
                }
                Err(e)
            }
        }
    }
}
