//! What happened to each file of a run, and the progress hooks a binary implements.

use std::time::Duration;

use atl_core::{TripFile, TripKind};

use crate::IngestError;

/// The outcome of one file (a month, or the zone table).
#[derive(Debug)]
pub enum Outcome {
    /// Downloaded, verified and now in the lake.
    Fetched { bytes: u64, rows: u64 },
    /// The lake already held it with the source's size: nothing was downloaded.
    AlreadyPresent { bytes: u64 },
    /// The source answered 403/404: the TLC has not published it (yet). Not an error.
    NotPublished { status: u16 },
    /// Rejected or failed after the allowed attempts; nothing reached the lake.
    Failed { reason: IngestError },
}

impl Outcome {
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }
}

/// One month of a run.
#[derive(Debug)]
pub struct MonthReport {
    pub file: TripFile,
    pub outcome: Outcome,
}

/// The months of one [`ingest_months`](crate::ingest_months) run, in month order.
#[derive(Debug)]
pub struct IngestReport {
    pub kind: TripKind,
    pub months: Vec<MonthReport>,
}

impl IngestReport {
    fn count(&self, pick: impl Fn(&Outcome) -> bool) -> usize {
        self.months.iter().filter(|m| pick(&m.outcome)).count()
    }

    pub fn fetched(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fetched { .. }))
    }

    pub fn already_present(&self) -> usize {
        self.count(|o| matches!(o, Outcome::AlreadyPresent { .. }))
    }

    pub fn not_published(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotPublished { .. }))
    }

    pub fn failed(&self) -> usize {
        self.count(Outcome::is_failure)
    }

    /// Whether any month failed (not-published months are not failures).
    pub fn has_failures(&self) -> bool {
        self.failed() > 0
    }

    /// The outcome of `file`'s month, if it was part of the run.
    pub fn outcome(&self, file: TripFile) -> Option<&Outcome> {
        self.months.iter().find(|m| m.file == file).map(|m| &m.outcome)
    }
}

/// Progress of a run, reported as it happens. Every method has an empty default; `label`
/// names the file (`yellow 2023-01`, `taxi zones`). Called from several months at once.
pub trait Progress: Send + Sync {
    /// A download starts (again, after a retry): `total` is the announced size, if any.
    fn download_started(&self, _label: &str, _total: Option<u64>) {}
    /// `bytes` more bytes arrived.
    fn downloaded(&self, _label: &str, _bytes: u64) {}
    /// Attempt `attempt` failed with `error`; the next starts after `delay`.
    fn retrying(&self, _label: &str, _attempt: u32, _error: &IngestError, _delay: Duration) {}
    /// The verified file is being written to the lake.
    fn committing(&self, _label: &str) {}
    /// The file is done.
    fn finished(&self, _label: &str, _outcome: &Outcome) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
