// Over 400 lines: the build of a month (locks, shared snapshot, stream, insertion, accounting)
// reads top to bottom in one place; the steps with their own job are modules.
//! The mart stage: cleaned TLC trips in a partitioned snowflake model on PostgreSQL server #2.
//!
//! For each month of a kind, [`build`] streams the warehouse's raw rows (server #1) to the
//! mart with binary COPY on both ends, cleaned in flight ([`stream`], by the rules declared in
//! [`cleaning`], the taxis' or the for-hire services'): clean rows go straight into the
//! month's new partition and into the month's roll-ups, rejected ones into
//! the staging table ([`transfer`] stages whole months for psql users).
//! Then `sql/mart/insertion.sql` (or `insertion_for_hire.sql`) runs in one transaction: it
//! applies the documented cleaning rules to what is staged, swaps the month's fact
//! partition (old one dropped, new one attached: readers see a whole month or the previous
//! one, never half), refreshes the
//! month's aggregates and counts every rejected row by reason; finally it checks that
//! warehouse rows = fact rows + rejected rows, and the same for the passengers' money, per
//! licence. The warehouse's side is what the month's load counted as it read the file
//! (`raw.load_totals`) when the rows the stream read add up to the same, else the warehouse
//! server's own count of the month ([`warehouse_count::warehouse_totals`]).
//! The model (`sql/mart/migrations`, for psql users `sql/mart/creation.sql`) is brought to
//! this release's newest migration at every start ([`schema`]); the zone
//! dimension comes from the lake's `reference/taxi_zone_lookup.csv` ([`zones`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use atl_core::{AtlConfig, TripKind};
//! let config = AtlConfig::load(None)?;
//! let lake = atl_lake::Lake::open(&config.lake)?;
//! let request = atl_mart::BuildRequest::new(TripKind::Yellow);
//! let report = atl_mart::build(&config.warehouse, &config.mart, &lake, &request, |_| {}).await?;
//! println!("{} months built", report.built().count());
//! # Ok(()) }
//! ```

pub mod build_log;
pub mod cleaning;
pub mod error;
pub mod reference;
pub mod schema;
pub mod stream;
pub mod transfer;
pub mod warehouse_count;
pub mod zones;

use std::time::Instant;

use atl_core::{DatabaseConfig, MonthRange, TripKind, YearMonth, pg};
use atl_lake::Lake;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AssertSqlSafe, PgConnection};

pub use build_log::BuildRecord;
pub use error::MartError;
pub use reference::{ReferenceLoad, ReferenceStatus};
pub use warehouse_count::MoneyCount;
pub use zones::ZoneSource;

/// Which months to build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub kind: TripKind,
    /// `None`: every warehouse month not yet built, or loaded again since it was built.
    /// `Some`: exactly these months, rebuilt if already built.
    pub months: Option<MonthRange>,
    /// A [`BuildEvent::Streamed`] each time the stream has read this many more of a month's
    /// rows ([`PROGRESS_ROWS`] by default): a high-volume month takes minutes.
    pub progress_rows: u64,
}

/// Rows between two [`BuildEvent::Streamed`]: every few seconds at the builds' rates.
pub const PROGRESS_ROWS: u64 = 1_000_000;

impl BuildRequest {
    pub fn new(kind: TripKind) -> BuildRequest {
        BuildRequest { kind, months: None, progress_rows: PROGRESS_ROWS }
    }
}

/// One month of a kind built: its build_log rows (one per service: a taxi kind or other FHV
/// has one, HVFHV one per licence), plus the transfer's share of the time.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthBuild {
    pub records: Vec<BuildRecord>,
    /// Seconds spent copying the month from the warehouse into the staging table.
    pub transfer_seconds: f64,
    /// Clean rows the stream left to the insertion SQL (a text it does not upper-case as the
    /// server would, a licence the mart refused): then the SQL sums every roll-up over the
    /// whole month, and the build is slower.
    pub deferred_rows: u64,
    /// How the warehouse's side of the month's accounting was counted.
    pub money_count: MoneyCount,
}

/// What happened to each month of a [`build`].
#[derive(Debug)]
pub struct BuildReport {
    pub zones: ZoneSource,
    /// The zone shapes and TLC indicators loaded from the lake.
    pub reference: ReferenceLoad,
    pub months: Vec<(YearMonth, Result<MonthBuild, MartError>)>,
}

impl BuildReport {
    pub fn built(&self) -> impl Iterator<Item = &MonthBuild> {
        self.months.iter().filter_map(|(_, r)| r.as_ref().ok())
    }

    pub fn failures(&self) -> impl Iterator<Item = (YearMonth, &MartError)> {
        self.months.iter().filter_map(|(m, r)| r.as_ref().err().map(|e| (*m, e)))
    }
}

/// Events for a progress display; the library itself never prints.
#[derive(Debug)]
pub enum BuildEvent<'a> {
    Started(TripKind, YearMonth),
    /// The month's rows read from the warehouse so far, every [`BuildRequest::progress_rows`].
    Streamed(TripKind, YearMonth, u64),
    Finished(TripKind, YearMonth, &'a Result<MonthBuild, MartError>),
}

/// Connects to the mart server.
pub async fn connect(config: &DatabaseConfig) -> Result<PgConnection, MartError> {
    Ok(pg::connect("mart", config).await?)
}

/// Connects to the warehouse server.
async fn connect_warehouse(config: &DatabaseConfig) -> Result<PgConnection, MartError> {
    Ok(pg::connect("warehouse", config).await?)
}

/// Builds the requested months of `request.kind`, one after the other. Errors of one month do
/// not stop the others; they are in the report. Errors that stop everything (no server, an
/// unreadable lake) are returned.
pub async fn build(
    warehouse: &DatabaseConfig,
    mart: &DatabaseConfig,
    lake: &Lake,
    request: &BuildRequest,
    progress: impl Fn(BuildEvent<'_>),
) -> Result<BuildReport, MartError> {
    let kind = request.kind;
    let mut conn = connect(mart).await?;
    schema::ensure_schema(&mut conn).await?;
    let mut wh = connect_warehouse(warehouse).await?;
    // Held by `conn` until this run ends: a concurrent run waits here, then finds the months
    // built instead of building them again, and cannot restage the zones under ours.
    lock(&mut conn, pg::lock::MART_RUN, "waiting for another atl-mart build run to finish").await?;
    lock_builds(&mut conn).await?;
    let zones = zones::stage_zones(&mut conn, lake).await?;
    if zones == ZoneSource::Missing {
        tracing::warn!(
            "the lake has no {}: zones 1-265 are named 'Unknown zone N' unless the mart already knows them",
            atl_core::ZONES_LAKE_KEY
        );
    }
    let reference = reference::load_reference(&mut conn, lake).await?;
    // Read-only: the mart's role on the warehouse may only read it.
    atl_warehouse::migrate::check_schema(&mut wh).await.map_err(|source| MartError::WarehouseSchema {
        url: warehouse.url.to_string(),
        source: Box::new(source),
    })?;
    let loaded = warehouse_months(&mut wh, kind).await?;
    let built = build_log::all(&mut conn).await?;
    // Each month takes the build lock on its own session (insertion.sql takes it again).
    unlock_builds(&mut conn).await?;
    drop(wh);

    let mut report = BuildReport { zones, reference, months: Vec::new() };
    let work: Vec<YearMonth> = match request.months {
        Some(range) => range.iter().collect(),
        None => loaded
            .iter()
            .filter(|(month, rows, finished_at)| {
                let records: Vec<&BuildRecord> =
                    built.iter().filter(|b| b.kind == kind.as_str() && b.month == *month).collect();
                let built_rows: i64 = records.iter().map(|b| b.warehouse_rows).sum();
                let fact_rows: i64 = records.iter().map(|b| b.fact_rows).sum();
                !(built_rows == *rows
                    // The same load, not a comparison of two servers' clocks.
                    && records.iter().all(|b| b.warehouse_loaded_at == Some(*finished_at))
                    // A month whose rows were all rejected failed: try it again.
                    && fact_rows > 0)
            })
            .map(|(month, _, _)| YearMonth::of(*month))
            .collect(),
    };
    for month in work {
        progress(BuildEvent::Started(kind, month));
        let outcome = if loaded.iter().any(|(m, _, _)| *m == month.first_day()) {
            let streamed = |rows| progress(BuildEvent::Streamed(kind, month, rows));
            build_month(warehouse, mart, kind, month, (request.progress_rows, &streamed)).await
        } else {
            Err(MartError::NotInWarehouse { kind, month })
        };
        progress(BuildEvent::Finished(kind, month, &outcome));
        report.months.push((month, outcome));
    }
    drop(conn);
    Ok(report)
}

/// The warehouse's months of `kind`: (month, rows, loaded at).
async fn warehouse_months(
    wh: &mut PgConnection,
    kind: TripKind,
) -> Result<Vec<(NaiveDate, i64, DateTime<Utc>)>, MartError> {
    Ok(atl_warehouse::load_log::all(wh)
        .await?
        .into_iter()
        .filter(|r| r.kind == kind.as_str())
        .map(|r| (r.month, r.rows, r.finished_at))
        .collect())
}

async fn lock_builds(mart: &mut PgConnection) -> Result<(), MartError> {
    lock(mart, pg::lock::MART_BUILD, "waiting for other mart builds to finish").await
}

async fn unlock_builds(mart: &mut PgConnection) -> Result<(), MartError> {
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(pg::lock::MART_BUILD)
        .execute(mart)
        .await
        .map_err(MartError::sql("releasing the build lock"))?;
    Ok(())
}

async fn lock(mart: &mut PgConnection, key: i64, what: &'static str) -> Result<(), MartError> {
    sqlx::query("SELECT pg_advisory_lock($1)").bind(key).execute(mart).await.map_err(MartError::sql(what))?;
    Ok(())
}

/// Builds one month over fresh connections (a failed COPY leaves a connection unusable);
/// `progress` is called with the rows read so far every `progress.0` rows.
pub async fn build_month(
    warehouse: &DatabaseConfig,
    mart: &DatabaseConfig,
    kind: TripKind,
    month: YearMonth,
    progress: stream::Progress<'_>,
) -> Result<MonthBuild, MartError> {
    let mut conn = connect(mart).await?;
    let mut wh = connect_warehouse(warehouse).await?;
    // Held by this session until it ends: no other build can refill the staging table
    // between our COPY and insertion.sql.
    lock_builds(&mut conn).await?;
    // A client killed while insertion.sql runs must not leave the server finishing (and
    // committing) the month on its own: check the socket during long statements.
    sqlx::raw_sql("SET client_connection_check_interval = '1s'")
        .execute(&mut conn)
        .await
        .map_err(MartError::sql("setting client_connection_check_interval"))?;
    sqlx::query("SELECT set_config('atl.started_at', clock_timestamp()::text, false)")
        .execute(&mut conn)
        .await
        .map_err(MartError::sql("setting atl.started_at"))?;

    // One snapshot of the warehouse for the count and the COPY, which run at the same time on
    // two warehouse sessions (the count's scan overlaps the transfer instead of preceding it).
    let mut wh_count = connect_warehouse(warehouse).await?;
    warehouse_count::install_rounding(&mut conn, &mut wh_count).await?;
    let snapshot = export_snapshot(&mut wh, kind, month).await?;
    // The session may idle in its transaction for the whole stream before counting the month
    // value by value: a server's idle timeout must not end it.
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET idle_in_transaction_session_timeout = 0; \
         BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{snapshot}'"
    )))
    .execute(&mut wh_count)
    .await
    .map_err(MartError::sql(format!("sharing the warehouse snapshot of {kind} {month}")))?;
    // The clean rows straight into the new partition, the rejected ones staged on a second
    // session (stream.rs).
    let mut rejects = connect(mart).await?;
    let transfer = async {
        let clock = Instant::now();
        let staged = stream::stream_month(&mut wh, &mut conn, &mut rejects, kind, month, progress).await.map(|s| {
            // The clean rows left to the SQL are summed by its roll-ups over the whole month:
            // a build that has any is slower, and this says why.
            tracing::info!(
                "{kind} {month}: {} clean rows streamed into the new partition, {} staged ({} of them clean rows left to insertion SQL)",
                s.clean,
                s.staged,
                s.deferred
            );
            (s.clean + s.staged, s.deferred, s.beyond_shortcut, s.read)
        });
        (staged, clock.elapsed().as_secs_f64())
    };
    let (totals, (staged, transfer_seconds)) =
        tokio::join!(warehouse_count::warehouse_totals(&mut wh_count, kind, month), transfer);
    drop(wh);
    drop(rejects);
    // The stream's error first: it is the cause, and it leaves `conn`'s transaction aborted.
    let (staged, deferred_rows, beyond_shortcut, read) = staged?;
    let warehouse_count::WarehouseTotals {
        services: mut service_totals,
        loaded_at: warehouse_loaded_at,
        counted,
        at_load,
    } = totals?;
    let mut money_count = counted;
    let recount = match counted {
        // The rows read are not what the load counted: the month was changed since (by hand),
        // or one side misread it. The warehouse server's count of the same snapshot decides.
        MoneyCount::AtLoad if read.counted() != at_load => {
            Some("the rows read do not add up to what their load counted (raw.load_totals)".to_owned())
        }
        // Whole cents are not the rule's for some value.
        MoneyCount::InWholeCents if beyond_shortcut > 0 => {
            Some(format!("{beyond_shortcut} rows hold money beyond the rounding rule's shortcut"))
        }
        _ => None,
    };
    if let Some(why) = recount {
        tracing::info!("{kind} {month}: {why}; counting the warehouse month value by value");
        service_totals = warehouse_count::exact_totals(&mut wh_count, kind, month).await?;
        money_count = MoneyCount::ValueByValue;
    }
    drop(wh_count);
    let warehouse_rows: i64 = service_totals.iter().map(|t| t.rows).sum();
    let warehouse_total = sum_numeric(&mut conn, service_totals.iter().map(|t| t.total.as_str())).await?;
    if staged != warehouse_rows as u64 {
        return Err(MartError::Transfer { kind, month, warehouse_rows, staged_rows: staged });
    }

    // With the warehouse's own figures (its load's, or its server's), build_log's CHECK
    // (warehouse = fact + rejected) compares the mart with the warehouse inside the
    // transaction, and the insertion need not sum the staging table again.
    let (insertion, totals_setting, totals_value) = match kind {
        TripKind::Yellow | TripKind::Green => {
            (schema::INSERTION_SQL, "atl.warehouse_total", warehouse_total.clone())
        }
        TripKind::Fhv | TripKind::Fhvhv => {
            (schema::INSERTION_FOR_HIRE_SQL, "atl.warehouse_totals", totals_json(&service_totals))
        }
    };
    sqlx::query(
        "SELECT set_config('atl.month', $1, false), set_config('atl.service', $2, false), \
         set_config($3, $4, false), set_config('atl.warehouse_loaded_at', $5, false)",
    )
    .bind(month.first_day().to_string())
    .bind(kind.as_str())
    .bind(totals_setting)
    .bind(&totals_value)
    .bind(warehouse_loaded_at.unwrap_or_default())
    .execute(&mut conn)
    .await
    .map_err(MartError::sql("setting atl.month, atl.service and the warehouse's totals"))?;
    // The stream's transaction is still open: the insertion's BEGIN only warns that it is
    // (its own SET LOCAL brings warnings back for the rest of the file).
    sqlx::query(
        "SELECT set_config('atl.fact_prebuilt', 'on', false), set_config('atl.warehouse_rows', $1, false), \
         set_config('client_min_messages', 'error', false)",
    )
    .bind(warehouse_rows.to_string())
    .execute(&mut conn)
    .await
    .map_err(MartError::sql("setting atl.fact_prebuilt and atl.warehouse_rows"))?;
    let file = if kind.is_for_hire() { "insertion_for_hire.sql" } else { "insertion.sql" };
    // Shows in pg_stat_activity (whose query text is cut at 1 kB) what this session runs.
    sqlx::raw_sql(AssertSqlSafe(format!("SET application_name = 'atl-mart {file}'")))
        .execute(&mut conn)
        .await
        .map_err(MartError::sql("setting application_name"))?;
    if let Err(source) = sqlx::raw_sql(sqlx::AssertSqlSafe(insertion)).execute(&mut conn).await {
        // The insertion opens its own transaction block; leave the session clean.
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
        return Err(MartError::Sql { what: format!("running sql/mart/{file} for {kind} {month}"), source });
    }

    let records = build_log::of_kind_month(&mut conn, kind.as_str(), month.first_day()).await?;
    check_accounting(&mut conn, kind, month, warehouse_rows, &warehouse_total, &records).await?;
    let fact_rows: i64 = records.iter().map(|r| r.fact_rows).sum();
    // Accounted for, but nothing kept: not a success (typically another month's file).
    if fact_rows == 0 && warehouse_rows > 0 {
        let reasons = build_log::reject_reasons(&mut conn, kind.as_str(), month.first_day()).await?;
        return Err(MartError::AllRejected { kind, month, rows: warehouse_rows, reasons });
    }
    Ok(MonthBuild { records, transfer_seconds, deferred_rows, money_count })
}

/// The warehouse's per-licence figures as insertion_for_hire.sql reads them.
fn totals_json(totals: &[warehouse_count::ServiceTotal]) -> String {
    let rows: Vec<serde_json::Value> = totals
        .iter()
        .map(|t| serde_json::json!({ "licence": t.licence, "rows": t.rows, "total": t.total }))
        .collect();
    serde_json::Value::Array(rows).to_string()
}

/// Sums numeric texts exactly, on the mart server (no decimal crate needed).
async fn sum_numeric<'a>(
    conn: &mut PgConnection,
    values: impl Iterator<Item = &'a str>,
) -> Result<String, MartError> {
    let values: Vec<String> = values.map(str::to_owned).collect();
    sqlx::query_scalar("SELECT coalesce(sum(v::numeric), 0)::text FROM unnest($1::text[]) v")
        .bind(values)
        .fetch_one(conn)
        .await
        .map_err(MartError::sql("adding up the warehouse's totals"))
}

/// Checks the month's build_log rows against the warehouse's figures: every service's rows
/// and money balance (fact + rejected), and together they are the warehouse month.
async fn check_accounting(
    conn: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
    warehouse_rows: i64,
    warehouse_total: &str,
    records: &[BuildRecord],
) -> Result<(), MartError> {
    let texts = |f: fn(&BuildRecord) -> &str| records.iter().map(f).collect::<Vec<&str>>();
    let built_total = sum_numeric(conn, texts(|r| r.warehouse_total.as_str()).into_iter()).await?;
    let fact_total = sum_numeric(conn, texts(|r| r.fact_total.as_str()).into_iter()).await?;
    let rejected_total = sum_numeric(conn, texts(|r| r.rejected_total.as_str()).into_iter()).await?;
    let money_adds_up: bool =
        sqlx::query_scalar("SELECT $1::numeric = $2::numeric AND $2::numeric = $3::numeric + $4::numeric")
            .bind(warehouse_total)
            .bind(&built_total)
            .bind(&fact_total)
            .bind(&rejected_total)
            .fetch_one(&mut *conn)
            .await
            .map_err(MartError::sql("comparing totals"))?;
    let sum = |f: fn(&BuildRecord) -> i64| records.iter().map(f).sum::<i64>();
    let (fact_rows, rejected_rows) = (sum(|r| r.fact_rows), sum(|r| r.rejected_rows));
    let balanced = records.iter().all(|r| r.fact_rows + r.rejected_rows == r.warehouse_rows);
    if money_adds_up
        && balanced
        && sum(|r| r.warehouse_rows) == warehouse_rows
        && fact_rows + rejected_rows == warehouse_rows
    {
        return Ok(());
    }
    Err(MartError::Mismatch {
        kind,
        month,
        warehouse_rows,
        warehouse_total: warehouse_total.to_owned(),
        fact_rows,
        rejected_rows,
        fact_total,
        rejected_total,
    })
}

/// Opens a read-only repeatable-read transaction on `wh` and exports its snapshot; returns
/// the snapshot's name.
async fn export_snapshot(
    wh: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
) -> Result<String, MartError> {
    // No JIT for the month's read: compiling the COPY's projection and deforming cost more
    // than they saved (the COPY of a 3 M-row yellow month into /dev/null, 4 alternated
    // rounds on one server: 4.18-4.61 s with JIT, 3.84-3.96 s without).
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL jit = off")
        .execute(&mut *wh)
        .await
        .map_err(MartError::sql(format!("starting a warehouse transaction for {kind} {month}")))?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *wh)
        .await
        .map_err(MartError::sql(format!("exporting the warehouse snapshot of {kind} {month}")))?;
    // A name like 00000003-0000001B-1: safe inside the quotes of SET TRANSACTION SNAPSHOT.
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(MartError::Sql {
            what: format!("exporting the warehouse snapshot of {kind} {month}"),
            source: sqlx::Error::Protocol(format!("unexpected snapshot name {snapshot:?}")),
        });
    }
    Ok(snapshot)
}

/// Brings the mart's model to the newest migration this release knows.
pub async fn migrate(mart: &DatabaseConfig) -> Result<pg::MigrationReport, MartError> {
    schema::ensure_schema(&mut connect(mart).await?).await
}

/// The build log: every month the mart holds.
pub async fn status(mart: &DatabaseConfig) -> Result<Vec<BuildRecord>, MartError> {
    let mut conn = connect(mart).await?;
    schema::ensure_schema(&mut conn).await?;
    build_log::all(&mut conn).await
}

/// High-volume licences the mart knows no company for (`dim_service` rows named by their
/// code, as `mart.register_licence` adds a licence seen for the first time, from the stream
/// or insertion_for_hire.sql): their trips are
/// kept, and the build's summary and the dashboard name them.
pub async fn unnamed_licences(mart: &DatabaseConfig) -> Result<Vec<String>, MartError> {
    let mut conn = connect(mart).await?;
    sqlx::query_scalar(
        "SELECT name FROM mart.dim_service WHERE licence IS NOT NULL AND name = licence ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(MartError::sql("reading mart.dim_service's licences"))
}
