//! The life of one file: HEAD the source → skip it if the lake already has it → stream it
//! into a staging file → verify → commit to the lake → drop the staging file.

use atl_core::SourceConfig;
use atl_lake::Lake;

use crate::download::{Head, Http};
use crate::staging::StagingDir;
use crate::verify::{Expect, verify};
use crate::{IngestError, Outcome, Progress};

/// One file to fetch.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// For progress and logs: `yellow 2023-01`.
    pub(crate) label: String,
    pub(crate) url: String,
    pub(crate) key: String,
    /// Names the staging file.
    pub(crate) file_name: String,
    pub(crate) expect: Expect,
}

/// What every file of a run shares.
pub(crate) struct Run<'a> {
    http: Http,
    lake: &'a Lake,
    staging: StagingDir,
    progress: &'a dyn Progress,
}

impl<'a> Run<'a> {
    /// Builds the HTTP client and opens the lake's staging folder (removing stale files).
    pub(crate) fn start(
        source: &SourceConfig,
        lake: &'a Lake,
        progress: &'a dyn Progress,
    ) -> Result<Run<'a>, IngestError> {
        Ok(Run { http: Http::new(source)?, lake, staging: StagingDir::open(&lake.staging_dir())?, progress })
    }

    /// Fetches `target`; every failure ends up in the outcome.
    pub(crate) async fn fetch(&self, target: &Target) -> Outcome {
        let outcome = match self.try_fetch(target).await {
            Ok(outcome) => outcome,
            Err(IngestError::NotPublished { status, .. }) => Outcome::NotPublished { status },
            Err(reason) => Outcome::Failed { reason },
        };
        // The caller reports every outcome, a failure with its cause: logged here only for
        // debugging, so that the cause (and the URL in it) is not printed twice.
        match &outcome {
            Outcome::Failed { reason } => {
                tracing::debug!(
                    file = target.label,
                    reason = atl_core::ErrorChain::new(reason).one_line(),
                    "failed"
                )
            }
            other => tracing::info!(file = target.label, outcome = ?other, "done"),
        }
        self.progress.finished(&target.label, &outcome);
        outcome
    }

    async fn try_fetch(&self, target: &Target) -> Result<Outcome, IngestError> {
        let Target { label, url, key, .. } = target;
        let (size, etag) = match self.http.head(url, label, self.progress).await? {
            Head::NotPublished { status } => return Ok(Outcome::NotPublished { status }),
            Head::Published { size, etag } => (size, etag),
        };
        if let Some(size) = size
            && let Some(existing) = self.lake.head(key).await?
            && existing.size == size
            && self.same_source(key, etag.as_deref()).await?
        {
            return Ok(Outcome::AlreadyPresent { bytes: size });
        }

        let staging = self.staging.create(&target.file_name)?;
        let (staging_ref, http, progress) = (&staging, &self.http, self.progress);
        let verified = self
            .http
            .with_retries(label, progress, || async move {
                let downloaded = http.download_once(url, staging_ref, label, progress).await?;
                let (path, url, expect) = (staging_ref.path().to_owned(), url.clone(), target.expect);
                // Footer parsing reads the file: keep it off the async worker threads.
                tokio::task::spawn_blocking(move || verify(&path, &url, &downloaded, expect))
                    .await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
            })
            .await?;

        progress.committing(label);
        // Written even over an object of the same size: this run found that object stale.
        let meta = self.lake.write_file(key, staging.path()).await?;
        let outcome = Outcome::Fetched { bytes: meta.size, rows: verified.rows };
        drop(staging);
        // The GET's own tag, not the HEAD's: the month may have been republished in between.
        if let Some(etag) = verified.etag.as_deref().or(etag.as_deref()) {
            self.lake.record_source_etag(key, etag).await?;
        }
        Ok(outcome)
    }

    /// Whether the lake's object at `key` (already of the source's size) came from the source
    /// object tagged `etag`. A source without an ETag leaves size as the only identity. An
    /// object without a record (written by a release before records, or by a run killed
    /// between the object and its record) is adopted: its source's ETag is recorded now, so
    /// an upgrade downloads nothing again, and any later change of the source is seen.
    async fn same_source(&self, key: &str, etag: Option<&str>) -> Result<bool, IngestError> {
        let Some(etag) = etag else { return Ok(true) };
        match self.lake.source_etag(key).await? {
            Some(recorded) if recorded == etag => Ok(true),
            Some(recorded) => {
                tracing::info!(
                    key,
                    source_etag = etag,
                    recorded,
                    "republished since the lake's copy: fetching it again"
                );
                Ok(false)
            }
            None => {
                tracing::info!(
                    key,
                    source_etag = etag,
                    "no record of the source: adopting the lake's copy of the same size"
                );
                self.lake.record_source_etag(key, etag).await?;
                Ok(true)
            }
        }
    }
}
