//! `atl-warehouse`: load raw TLC months from the lake into the PostgreSQL warehouse.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use atl_core::pg::render_cause;
use atl_core::{AtlConfig, ErrorChain, Kinds, MonthRange};
use atl_warehouse::{LoadEvent, LoadRequest, MonthOutcome, WarehouseError};
use clap::{Parser, Subcommand};

/// Load raw TLC trip months from the data lake into the PostgreSQL warehouse (server #1).
///
/// Each month is streamed from its Parquet object with binary COPY into its own partition of
/// raw.<kind>_tripdata, in one transaction: a month is loaded entirely or not at all, and a
/// month loaded again replaces itself. raw.load_log records every load.
#[derive(Debug, Parser)]
#[command(name = "atl-warehouse", version)]
struct Cli {
    /// Configuration file (default: ./atl.toml if present, then ATL__* variables).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Warehouse URL, overriding warehouse.url (postgres://user:password@host:port/db).
    #[arg(long, global = true)]
    warehouse: Option<String>,
    /// Lake URL, overriding lake.url (file://folder or s3://bucket).
    #[arg(long, global = true)]
    lake: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load months from the lake. Months already loaded from the same object are skipped.
    Load {
        /// Trip kind: yellow, green, fhv (other for-hire), fhvhv (high-volume for-hire: Uber,
        /// Lyft), or all of them in turn.
        #[arg(long, default_value = "yellow")]
        kind: Kinds,
        /// Months to load, e.g. 2023-01..2023-08 (default: every month in the lake).
        #[arg(long)]
        months: Option<MonthRange>,
        /// Reload months even when they are already loaded from the same object.
        #[arg(long)]
        force: bool,
        /// Months loaded at once, each over its own connection (default: warehouse.parallelism).
        #[arg(long)]
        parallelism: Option<usize>,
        /// COPY streams per month, each over its own connection into a slice of the month
        /// (the server writes with as many backends).
        #[arg(long, default_value_t = 2)]
        streams: usize,
        /// Load a file even when most of its pickups fall outside its month (by default it is
        /// refused, naming the month its rows belong to).
        #[arg(long)]
        allow_other_month: bool,
    },
    /// Show the months the warehouse holds: rows, bytes, when, and load speed.
    Status,
    /// Bring the warehouse's schema to this release's newest migration
    /// (sql/warehouse/migrations) and print its version. The other commands do the same at
    /// start; this is for operators who upgrade ahead of the next run. A warehouse created
    /// before migrations existed is recognised as version 1 and kept as it is.
    Migrate,
    /// Compare loaded months with their lake objects (rows, and per column the count of
    /// values, sums and timestamp ranges); exit 1 on any difference.
    Audit {
        /// Trip kind: yellow, green, fhv, fhvhv, or all.
        #[arg(long, default_value = "yellow")]
        kind: Kinds,
        #[arg(long)]
        months: Option<MonthRange>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_env_filter(env_filter()).with_writer(std::io::stderr).init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("atl-warehouse: {}", ErrorChain::new(e.as_ref()).with_render(render_cause));
            ExitCode::FAILURE
        }
    }
}

fn env_filter() -> tracing_subscriber::EnvFilter {
    // sqlx logs every server NOTICE ("already exists, skipping") at info.
    tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into())
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = AtlConfig::load(cli.config.as_deref()).context("loading configuration")?;
    if let Some(url) = cli.warehouse {
        config.warehouse.url = url.as_str().into();
    }
    if let Some(url) = cli.lake {
        config.lake.url = url;
    }
    match cli.command {
        Command::Load { kind: kinds, months, force, parallelism, streams, allow_other_month } => {
            // The lake's errors name the folder or bucket.
            let lake = atl_lake::Lake::open(&config.lake)?;
            let mut any_failed = false;
            for kind in kinds.kinds() {
                let request = LoadRequest {
                    kind,
                    months,
                    force,
                    parallelism: parallelism.unwrap_or(config.warehouse.parallelism),
                    streams: streams.max(1),
                    allow_other_month,
                };
                let report = atl_warehouse::load(&config.warehouse, &lake, &request, log_event)
                    .await
                    .with_context(|| format!("loading {kind} months into {}", config.warehouse.url))?;
                let (loaded, skipped, failed) =
                    (report.loaded().count(), report.skipped().count(), report.failures().count());
                let rows: i64 = report.loaded().map(|r| r.rows).sum();
                if report.months.is_empty() {
                    println!(
                        "the lake at {} holds no {kind} month: run atl-ingest first, or check lake.url",
                        lake.describe()
                    );
                }
                println!(
                    "warehouse {kind}: {loaded} months loaded ({rows} rows), {skipped} already loaded, {failed} failed"
                );
                for (file, error) in report.failures() {
                    println!("  failed {file}: {}", one_line(error));
                }
                any_failed |= failed > 0;
            }
            Ok(if any_failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        Command::Audit { kind: kinds, months } => {
            let lake = atl_lake::Lake::open(&config.lake)?;
            let mut any_differ = false;
            for kind in kinds.kinds() {
                let audits = atl_warehouse::audit(&config.warehouse, &lake, kind, months)
                    .await
                    .with_context(|| {
                        format!(
                            "auditing {kind} months of {} against {}",
                            config.warehouse.url,
                            lake.describe()
                        )
                    })?;
                let mut bad = 0;
                let mut first_difference = None;
                for audit in &audits {
                    let mismatches = audit.mismatches();
                    if mismatches.is_empty() {
                        println!(
                            "ok   {}: {} rows, {} columns match the lake",
                            audit.file,
                            audit.warehouse_rows,
                            audit.columns.len()
                        );
                    }
                    for m in &mismatches {
                        println!("DIFF {m}");
                    }
                    if first_difference.is_none() {
                        first_difference = mismatches.first().cloned();
                    }
                    bad += !mismatches.is_empty() as usize;
                }
                println!("{} {kind} months audited, {bad} differ", audits.len());
                if audits.is_empty() {
                    println!(
                        "the warehouse holds no {kind} month{}",
                        months.map(|m| format!(" in {m}")).unwrap_or_default()
                    );
                }
                if let Some(difference) = first_difference {
                    eprintln!(
                        "atl-warehouse: audit: {bad} of {} {kind} months differ from the lake: {difference}",
                        audits.len()
                    );
                    any_differ = true;
                }
            }
            Ok(if any_differ { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        Command::Migrate => {
            let report = atl_warehouse::migrate(&config.warehouse)
                .await
                .with_context(|| format!("migrating the warehouse at {}", config.warehouse.url))?;
            println!("warehouse {report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => {
            let records = atl_warehouse::status(&config.warehouse).await.context("reading the load log")?;
            if records.is_empty() {
                println!("the warehouse holds no month yet");
            } else {
                println!(
                    "{:<7} {:<8} {:>11} {:>10} {:>11}  {:<20} object",
                    "kind", "month", "rows", "MB", "rows/s", "loaded at"
                );
            }
            for r in records {
                println!(
                    "{:<7} {:<8} {:>11} {:>10.1} {:>11.0}  {:<20} {}",
                    r.kind,
                    r.year_month(),
                    r.rows,
                    r.object_size as f64 / 1e6,
                    r.rows_per_sec,
                    r.finished_at.format("%Y-%m-%d %H:%M:%S"),
                    r.object_key
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn log_event(event: LoadEvent<'_>) {
    match event {
        LoadEvent::Started(file) => tracing::info!("loading {file}"),
        LoadEvent::Finished(file, Ok(MonthOutcome::Loaded(r))) => {
            tracing::info!(
                "loaded {file}: {} rows in {:.1} s ({:.0} rows/s)",
                r.rows,
                (r.finished_at - r.started_at).as_seconds_f64(),
                r.rows_per_sec
            )
        }
        LoadEvent::Finished(file, Ok(MonthOutcome::AlreadyLoaded(_))) => {
            tracing::info!("{file} already loaded")
        }
        LoadEvent::Finished(file, Err(e)) => tracing::error!("{file} failed: {}", one_line(e)),
    }
}

/// A month's error on one line, each cause once.
fn one_line(error: &WarehouseError) -> String {
    ErrorChain::new(error).with_render(render_cause).one_line()
}
