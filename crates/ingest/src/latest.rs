//! Finding the newest published month: the TLC publishes with a lag that varies (about
//! two months), so it is probed, never computed.

use atl_core::{SourceConfig, TripFile, TripKind, YearMonth};

use crate::download::{Head, Http};
use crate::{IngestError, NoProgress};

/// How far back [`find_latest`] looks before giving up.
pub const LATEST_PROBE_MONTHS: usize = 24;

/// The newest month of `kind` the source serves, probing backwards from the current month
/// with one HEAD per month (the first 200 wins); `None` when none of the last
/// [`LATEST_PROBE_MONTHS`] months is published.
pub async fn find_latest(source: &SourceConfig, kind: TripKind) -> Result<Option<YearMonth>, IngestError> {
    find_latest_from(source, kind, YearMonth::current(), LATEST_PROBE_MONTHS).await
}

/// [`find_latest`] probing `months` months backwards from `from` (included).
/// A 403/404 means "not yet"; any other failure (after retries) is an error, since
/// skipping over it could pick an older month than the latest.
pub async fn find_latest_from(
    source: &SourceConfig,
    kind: TripKind,
    from: YearMonth,
    months: usize,
) -> Result<Option<YearMonth>, IngestError> {
    let http = Http::new(source)?;
    let mut month = from;
    for _ in 0..months {
        let file = TripFile::new(kind, month);
        match http.head(&file.source_url(&source.base_url), &file.to_string(), &NoProgress).await? {
            Head::Published { .. } => {
                tracing::info!(%file, "latest published month");
                return Ok(Some(month));
            }
            Head::NotPublished { status } => tracing::debug!(%file, status, "not published"),
        }
        month = month.prev();
    }
    Ok(None)
}
