//! Deleting objects (`atl-lake rm`): by key, or a kind's months.

use atl_core::{MonthRange, TripFile, TripKind};
use object_store::ObjectStoreExt;

use crate::{Lake, LakeError, object_path};

/// What [`Lake::remove`] did with one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// The object was there and is gone.
    Removed { key: String, size: u64 },
    /// There was no such object.
    Absent { key: String },
}

impl Lake {
    /// Deletes the objects at `keys`, saying for each whether it was there.
    /// Stops at the first failure (earlier keys stay deleted).
    pub async fn remove<S: AsRef<str>>(&self, keys: &[S]) -> Result<Vec<Removal>, LakeError> {
        let mut done = Vec::with_capacity(keys.len());
        for key in keys {
            let key = key.as_ref();
            let location = object_path(key)?;
            match self.head(key).await? {
                None => done.push(Removal::Absent { key: key.to_owned() }),
                Some(meta) => {
                    self.store
                        .delete(&location)
                        .await
                        .map_err(|source| self.store_error("delete", key, source))?;
                    self.forget_source_etag(key).await?;
                    tracing::info!(key, size = meta.size, "removed");
                    done.push(Removal::Removed { key: key.to_owned(), size: meta.size });
                }
            }
        }
        Ok(done)
    }

    /// Deletes the trip files of `kind` for the months of `months`.
    pub async fn remove_months(&self, kind: TripKind, months: MonthRange) -> Result<Vec<Removal>, LakeError> {
        let keys: Vec<String> = months.iter().map(|m| TripFile::new(kind, m).lake_key()).collect();
        self.remove(&keys).await
    }
}
