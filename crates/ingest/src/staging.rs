//! The staging folder: downloads land here, are verified, then handed to the lake.
//!
//! Each staging file is held with an exclusive file lock while its download runs. A run
//! killed with -9 leaves its file behind, but the kernel drops the lock, so the next run
//! can tell a stale file (lockable: removed) from one a concurrent run is writing (locked:
//! left alone).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::IngestError;

const SUFFIX: &str = ".part";

/// A folder of staging files.
#[derive(Debug, Clone)]
pub(crate) struct StagingDir {
    path: PathBuf,
}

static NEXT_FILE: AtomicU64 = AtomicU64::new(0);

impl StagingDir {
    /// Creates `path` when missing and removes the stale files of killed runs.
    pub(crate) fn open(path: &Path) -> Result<StagingDir, IngestError> {
        let io = |source| IngestError::Staging { path: path.to_owned(), source };
        std::fs::create_dir_all(path).map_err(io)?;
        for entry in std::fs::read_dir(path).map_err(io)? {
            let entry = entry.map_err(io)?;
            let stale = entry.path();
            if !stale.to_string_lossy().ends_with(SUFFIX) {
                continue;
            }
            let Ok(file) = File::open(&stale) else { continue };
            match file.try_lock() {
                Ok(()) => {
                    tracing::info!(path = %stale.display(), "removing a staging file left by an interrupted run");
                    std::fs::remove_file(&stale)
                        .map_err(|source| IngestError::Staging { path: stale, source })?;
                }
                Err(TryLockError::WouldBlock) => {
                    tracing::debug!(path = %stale.display(), "staging file in use by another run");
                }
                Err(TryLockError::Error(e)) => {
                    tracing::warn!(path = %stale.display(), error = %e, "cannot lock a staging file");
                }
            }
        }
        Ok(StagingDir { path: path.to_owned() })
    }

    /// A new, empty, locked staging file for `name` (e.g. `yellow_tripdata_2023-01.parquet`).
    pub(crate) fn create(&self, name: &str) -> Result<StagingFile, IngestError> {
        let n = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
        let path = self.path.join(format!("{name}.{}-{n}{SUFFIX}", std::process::id()));
        let io = |source| IngestError::Staging { path: path.clone(), source };
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(&path).map_err(io)?;
        file.lock().map_err(io)?;
        Ok(StagingFile { path, file })
    }
}

/// A staging file, locked while it lives and deleted when dropped (unless the lake moved it).
#[derive(Debug)]
pub(crate) struct StagingFile {
    path: PathBuf,
    file: File,
}

impl StagingFile {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// An async handle for writing from the start, the file emptied first (for each attempt).
    pub(crate) async fn rewrite(&self) -> Result<tokio::fs::File, IngestError> {
        let io = |source| IngestError::Staging { path: self.path.clone(), source };
        // The clone shares the open file description, and with it the lock.
        let clone = self.file.try_clone().map_err(io)?;
        clone.set_len(0).map_err(io)?;
        let mut file = tokio::fs::File::from_std(clone);
        tokio::io::AsyncSeekExt::rewind(&mut file).await.map_err(io)?;
        Ok(file)
    }
}

impl Drop for StagingFile {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            // Renamed into a file:// lake.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(path = %self.path.display(), error = %e, "cannot remove a staging file"),
        }
    }
}
