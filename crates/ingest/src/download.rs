//! HTTP against the TLC CDN (or a mirror): HEAD probes and streamed downloads into a
//! staging file, with exponential backoff on the failures worth retrying.

use std::future::Future;
use std::time::Duration;

use atl_core::SourceConfig;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};
use tokio::io::{AsyncWriteExt, BufWriter};

use crate::staging::StagingFile;
use crate::{IngestError, Progress};

/// First retry delay; doubled at each attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Bytes buffered before a write to the staging file.
const WRITE_BUFFER: usize = 1 << 20;

/// What a HEAD says about a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Head {
    /// Published; its size when the server says it.
    Published { size: Option<u64> },
    /// 403/404.
    NotPublished { status: u16 },
}

/// A completed download, before verification.
#[derive(Debug, Clone)]
pub(crate) struct Downloaded {
    /// The announced `Content-Length`, if any.
    pub(crate) expected: Option<u64>,
    pub(crate) content_type: String,
}

/// The HTTP side of a run: one client, the retry policy and the stall timeout.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    attempts: u32,
    timeout: Duration,
}

impl Http {
    pub(crate) fn new(source: &SourceConfig) -> Result<Http, IngestError> {
        let timeout = Duration::from_secs(source.timeout_secs.max(1));
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .user_agent(concat!("atl-ingest/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(IngestError::Client)?;
        Ok(Http { client, attempts: source.retries.max(1), timeout })
    }

    /// Runs `attempt` until it succeeds, fails for good, or the attempts are spent,
    /// sleeping 0.5 s, 1 s, 2 s... (at most 30 s) between attempts.
    pub(crate) async fn with_retries<T, F, Fut>(
        &self,
        label: &str,
        progress: &dyn Progress,
        mut attempt: F,
    ) -> Result<T, IngestError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, IngestError>>,
    {
        let mut n = 1;
        loop {
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(e) if e.is_retryable() && n < self.attempts => {
                    let delay = backoff(n);
                    tracing::warn!(file = label, attempt = n, error = %e, "retrying in {delay:?}");
                    progress.retrying(label, n, &e, delay);
                    tokio::time::sleep(delay).await;
                    n += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// HEAD `url`, with retries.
    pub(crate) async fn head(
        &self,
        url: &str,
        label: &str,
        progress: &dyn Progress,
    ) -> Result<Head, IngestError> {
        self.with_retries(label, progress, || self.head_once(url)).await
    }

    async fn head_once(&self, url: &str) -> Result<Head, IngestError> {
        let response = self
            .client
            .head(url)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|source| network_error(url, source, self.timeout))?;
        match classify(url, response.status())? {
            Some(status) => Ok(Head::NotPublished { status }),
            // Not `response.content_length()`: for a HEAD, the body is empty by definition.
            None => Ok(Head::Published { size: content_length(response.headers()) }),
        }
    }

    /// GETs `url` into `staging` once (the caller retries), streaming chunk by chunk: the
    /// file is never held in memory. Fails with [`IngestError::Stalled`] when no byte comes
    /// for the timeout, [`IngestError::Truncated`] when the body ends short.
    pub(crate) async fn download_once(
        &self,
        url: &str,
        staging: &StagingFile,
        label: &str,
        progress: &dyn Progress,
    ) -> Result<Downloaded, IngestError> {
        let stalled = || IngestError::Stalled { url: url.to_owned(), waited: self.timeout };
        let mut response = tokio::time::timeout(self.timeout, self.client.get(url).send())
            .await
            .map_err(|_| stalled())?
            .map_err(|source| network_error(url, source, self.timeout))?;
        if let Some(status) = classify(url, response.status())? {
            return Err(IngestError::NotPublished { url: url.to_owned(), status });
        }
        let expected = content_length(response.headers());
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type")
            .to_owned();
        progress.download_started(label, expected);

        let io = |source| IngestError::Staging { path: staging.path().to_owned(), source };
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, staging.rewrite().await?);
        let mut got = 0u64;
        loop {
            let chunk = match tokio::time::timeout(self.timeout, response.chunk()).await {
                Err(_) => return Err(stalled()),
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => break,
                // The connection closed mid-body: with a known length, that is a truncation.
                Ok(Err(source)) => {
                    return Err(match expected {
                        Some(_) if source.is_body() || source.is_decode() || source.is_request() => {
                            IngestError::Truncated { url: url.to_owned(), got, expected }
                        }
                        _ => network_error(url, source, self.timeout),
                    });
                }
            };
            out.write_all(&chunk).await.map_err(io)?;
            got += chunk.len() as u64;
            progress.downloaded(label, chunk.len() as u64);
        }
        out.flush().await.map_err(io)?;
        out.into_inner().sync_all().await.map_err(io)?;
        if let Some(expected) = expected
            && got != expected
        {
            return Err(IngestError::Truncated { url: url.to_owned(), got, expected: Some(expected) });
        }
        Ok(Downloaded { expected, content_type })
    }
}

/// `Ok(None)` for success, `Ok(Some(status))` for "not published" (403/404), `Err` otherwise.
fn classify(url: &str, status: StatusCode) -> Result<Option<u16>, IngestError> {
    match status.as_u16() {
        200..=299 => Ok(None),
        // CloudFront in front of S3 answers 403 (AccessDenied, XML) for a missing object.
        403 | 404 => Ok(Some(status.as_u16())),
        code => Err(IngestError::Status { url: url.to_owned(), status: code }),
    }
}

fn network_error(url: &str, source: reqwest::Error, timeout: Duration) -> IngestError {
    if source.is_timeout() {
        IngestError::Stalled { url: url.to_owned(), waited: timeout }
    } else {
        // The error names the URL first; reqwest's own copy of it would say it twice.
        IngestError::Network { url: url.to_owned(), source: source.without_url() }
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// 0.5 s × 2^(attempt-1), capped.
fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(4), Duration::from_secs(4));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}
