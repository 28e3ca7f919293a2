//! The warehouse stage: raw TLC months from the lake into PostgreSQL server #1, untransformed.
//!
//! For each month, the Parquet object is read from the lake (page by page from a local
//! folder, column chunk by column chunk from S3: [`produce`]), its
//! physical schema mapped onto core's canonical schema, encoded into PostgreSQL's binary
//! COPY format ([`encode`]) and streamed with `COPY ... FROM STDIN (FORMAT binary, FREEZE)`
//! into a fresh table that, in the same transaction, replaces the month's partition of
//! `raw.<kind>_tripdata` and is recorded in `raw.load_log` ([`copy`]). A month is therefore
//! loaded entirely or not at all, and loading it again replaces it instead of doubling it.
//! An advisory lock per month keeps concurrent loaders from loading it twice.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use atl_core::{AtlConfig, TripKind};
//! let config = AtlConfig::load(None)?;
//! let lake = atl_lake::Lake::open(&config.lake)?;
//! let request = atl_warehouse::LoadRequest::new(TripKind::Yellow);
//! let report = atl_warehouse::load(&config.warehouse, &lake, &request, |_| {}).await?;
//! println!("{} months loaded", report.loaded().count());
//! # Ok(()) }
//! ```

pub mod audit;
pub mod copy;
pub mod encode;
pub mod error;
pub mod load_log;
pub mod migrate;
pub(crate) mod produce;

use atl_core::{DatabaseConfig, MonthRange, TripFile, TripKind};
use atl_lake::Lake;
use futures::StreamExt;
use sqlx::PgConnection;

pub use copy::MonthOutcome;
pub use error::WarehouseError;
pub use load_log::LoadRecord;

/// Which months to load.
#[derive(Debug, Clone)]
pub struct LoadRequest {
    pub kind: TripKind,
    /// `None`: every month the lake holds (those already loaded are skipped).
    pub months: Option<MonthRange>,
    /// Reload months even when the load log shows the same object was loaded.
    pub force: bool,
    /// Months loaded at once, each over its own connection.
    pub parallelism: usize,
    /// COPY streams per month, each over its own connection into a slice of the month.
    pub streams: usize,
    /// Load a file even when most of its pickups fall outside its month.
    pub allow_other_month: bool,
}

impl LoadRequest {
    pub fn new(kind: TripKind) -> LoadRequest {
        LoadRequest { kind, months: None, force: false, parallelism: 2, streams: 2, allow_other_month: false }
    }
}

/// What happened to each month of a [`load`].
#[derive(Debug, Default)]
pub struct LoadReport {
    pub months: Vec<(TripFile, Result<MonthOutcome, WarehouseError>)>,
}

impl LoadReport {
    pub fn loaded(&self) -> impl Iterator<Item = &LoadRecord> {
        self.months.iter().filter_map(|(_, r)| match r {
            Ok(MonthOutcome::Loaded(record)) => Some(record),
            _ => None,
        })
    }

    pub fn skipped(&self) -> impl Iterator<Item = &LoadRecord> {
        self.months.iter().filter_map(|(_, r)| match r {
            Ok(MonthOutcome::AlreadyLoaded(record)) => Some(record),
            _ => None,
        })
    }

    pub fn failures(&self) -> impl Iterator<Item = (&TripFile, &WarehouseError)> {
        self.months.iter().filter_map(|(f, r)| r.as_ref().err().map(|e| (f, e)))
    }
}

/// Events for a progress display; the library itself never prints.
#[derive(Debug)]
pub enum LoadEvent<'a> {
    Started(TripFile),
    Finished(TripFile, &'a Result<MonthOutcome, WarehouseError>),
}

/// Connects to the warehouse server.
pub async fn connect(config: &DatabaseConfig) -> Result<PgConnection, WarehouseError> {
    Ok(atl_core::pg::connect("warehouse", config).await?)
}

/// Loads the requested months of the lake into the warehouse. Errors of one month do not stop
/// the others; they are in the report. Errors that stop everything (no server, no lake
/// listing) are returned.
pub async fn load(
    config: &DatabaseConfig,
    lake: &Lake,
    request: &LoadRequest,
    progress: impl Fn(LoadEvent<'_>),
) -> Result<LoadReport, WarehouseError> {
    atl_core::RawTable::new(request.kind).ok_or(WarehouseError::UnsupportedKind(request.kind))?;
    migrate::ensure_schema(&mut connect(config).await?).await?;
    let in_lake = lake.trip_files(request.kind).await?;
    let mut work = Vec::new();
    let mut report = LoadReport::default();
    match request.months {
        None => work.extend(in_lake),
        Some(range) => {
            for month in range.iter() {
                let file = TripFile::new(request.kind, month);
                match in_lake.iter().find(|(f, _)| *f == file) {
                    Some(found) => work.push(found.clone()),
                    None => {
                        report.months.push((file, Err(WarehouseError::NotInLake { kind: file.kind, month })))
                    }
                }
            }
        }
    }
    let (force, streams, allow_other_month) = (request.force, request.streams, request.allow_other_month);
    let mut running = futures::stream::iter(work)
        .map(|(file, meta)| {
            progress(LoadEvent::Started(file));
            async move {
                let outcome = match connect(config).await {
                    Ok(mut conn) => {
                        copy::load_month(
                            &mut conn,
                            config,
                            lake,
                            file,
                            &meta,
                            force,
                            streams,
                            allow_other_month,
                        )
                        .await
                    }
                    Err(e) => Err(e),
                }
                .map_err(|e| e.on_server(&config.url.to_string()));
                (file, outcome)
            }
        })
        .buffer_unordered(request.parallelism.max(1));
    while let Some((file, outcome)) = running.next().await {
        progress(LoadEvent::Finished(file, &outcome));
        report.months.push((file, outcome));
    }
    report.months.sort_by_key(|(f, _)| f.month);
    Ok(report)
}

/// Brings the warehouse's schema to the newest migration this release knows.
pub async fn migrate(config: &DatabaseConfig) -> Result<atl_core::pg::MigrationReport, WarehouseError> {
    migrate::ensure_schema(&mut connect(config).await?).await
}

/// The load log: every month the warehouse holds.
pub async fn status(config: &DatabaseConfig) -> Result<Vec<LoadRecord>, WarehouseError> {
    let mut conn = connect(config).await?;
    migrate::ensure_schema(&mut conn).await?;
    load_log::all(&mut conn).await
}

/// Compares every loaded month of `kind` (within `months`, if given) with its lake object.
/// A loaded month whose object is no longer in the lake is audited too: as a difference
/// ([`audit::MonthAudit::missing_object`]), not skipped.
pub async fn audit(
    config: &DatabaseConfig,
    lake: &Lake,
    kind: TripKind,
    months: Option<MonthRange>,
) -> Result<Vec<audit::MonthAudit>, WarehouseError> {
    let mut conn = connect(config).await?;
    let loaded = load_log::all(&mut conn).await?;
    let in_lake = lake.trip_files(kind).await?;
    let mut audits = Vec::new();
    for record in loaded.iter().filter(|r| r.kind == kind.as_str()) {
        let file = TripFile::new(kind, record.year_month());
        if !months.is_none_or(|r| r.contains(file.month)) {
            continue;
        }
        audits.push(match in_lake.iter().find(|(f, _)| *f == file) {
            Some((_, meta)) => audit::audit_month(&mut conn, lake, file, meta).await?,
            None => audit::MonthAudit::object_gone(file, record),
        });
    }
    Ok(audits)
}
