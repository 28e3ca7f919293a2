//! `atl-mart`: build the cleaned, partitioned snowflake mart (server #2) from the warehouse.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use atl_core::pg::render_cause;
use atl_core::{AtlConfig, ErrorChain, Kinds, MonthRange, TripKind};
use atl_mart::{BuildEvent, BuildRequest, ReferenceStatus, ZoneSource};
use clap::{Parser, Subcommand};

/// Build the data mart (PostgreSQL server #2) from the warehouse (server #1).
///
/// Each month is copied from raw.<kind>_tripdata on the warehouse to the mart (binary COPY
/// on both ends). Taxi months are cleaned on the way, by the rules sql/mart/insertion.sql
/// states: clean rows go straight into the month's new fact partition, rejected ones into
/// the staging table; fhv and fhvhv months are staged whole. Then insertion.sql (taxis) or
/// insertion_for_hire.sql finishes the month in one transaction (reasons, aggregates, the
/// partition swapped in), checked per service: warehouse rows = fact rows + rejected rows,
/// and the same for the passengers' totals. mart.build_log records every build, one row per
/// service (HVFHV: one per licence).
#[derive(Debug, Parser)]
#[command(name = "atl-mart", version)]
struct Cli {
    /// Configuration file (default: ./atl.toml if present, then ATL__* variables).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Warehouse URL, overriding warehouse.url.
    #[arg(long, global = true)]
    warehouse: Option<String>,
    /// Mart URL, overriding mart.url.
    #[arg(long, global = true)]
    mart: Option<String>,
    /// Lake URL, overriding lake.url (the zone table is read from it).
    #[arg(long, global = true)]
    lake: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build months (default: warehouse months not built yet, or loaded again since).
    Build {
        /// Trip kind: yellow, green, fhv (other for-hire vehicles), fhvhv (high-volume
        /// for-hire: one service per licence, Uber, Lyft, ...), or all of them in turn.
        #[arg(long, default_value = "yellow")]
        kind: Kinds,
        /// Months to (re)build, e.g. 2023-01..2023-08.
        #[arg(long)]
        months: Option<MonthRange>,
    },
    /// Show the months the mart holds: rows kept and rejected, money, when, speed.
    Status,
    /// Bring the mart's model to this release's newest migration (sql/mart/migrations) and
    /// print its version. `build` and `status` do the same at start; this is for operators
    /// who upgrade ahead of the next run. A mart created before migrations existed is
    /// recognised as version 1 and kept as it is.
    Migrate,
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=error".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("atl-mart: {}", ErrorChain::new(e.as_ref()).with_render(render_cause));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = AtlConfig::load(cli.config.as_deref()).context("loading configuration")?;
    if let Some(url) = cli.warehouse {
        config.warehouse.url = url.as_str().into();
    }
    if let Some(url) = cli.mart {
        config.mart.url = url.as_str().into();
    }
    if let Some(url) = cli.lake {
        config.lake.url = url;
    }
    match cli.command {
        Command::Build { kind: kinds, months } => {
            // The lake's errors name the folder or bucket.
            let lake = atl_lake::Lake::open(&config.lake)?;
            let mut failed = 0;
            for kind in kinds.kinds() {
                failed += build_kind(&config, &lake, kind, months).await?;
            }
            Ok(if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        Command::Migrate => {
            let report = atl_mart::migrate(&config.mart)
                .await
                .with_context(|| format!("migrating the mart at {}", config.mart.url))?;
            println!("mart {report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => {
            let records = atl_mart::status(&config.mart).await.context("reading the mart's build log")?;
            if records.is_empty() {
                println!("the mart holds no months yet");
            }
            for r in records {
                println!(
                    "{:<6} {}  {:>10} rows  {:>10} fact  {:>8} rejected  total {:>14}  built {}  {:.1} s  {:.0} rows/s",
                    r.service,
                    &r.month.to_string()[..7],
                    r.warehouse_rows,
                    r.fact_rows,
                    r.rejected_rows,
                    r.warehouse_total,
                    r.built_at.format("%Y-%m-%d %H:%M:%S"),
                    r.seconds,
                    r.rows_per_sec
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Builds the requested months of one kind and prints them; returns how many failed.
async fn build_kind(
    config: &AtlConfig,
    lake: &atl_lake::Lake,
    kind: TripKind,
    months: Option<MonthRange>,
) -> anyhow::Result<usize> {
    let request = BuildRequest { months, ..BuildRequest::new(kind) };
    let report = atl_mart::build(&config.warehouse, &config.mart, lake, &request, log_event)
        .await
        .with_context(|| format!("building {kind} months into the mart at {}", config.mart.url))?;
    if report.zones == ZoneSource::Missing {
        println!("warning: no zone table in the lake; zones are named 'Unknown zone N'");
    }
    let reference = [
        ("zone shapes", "records", "the dashboard has no map", &report.reference.zone_shapes),
        ("TLC indicators", "rows", "the dashboard cannot compare with the TLC", &report.reference.indicators),
    ];
    for (what, unit, without, status) in reference {
        match status {
            ReferenceStatus::Loaded(n) => println!("{what}: {n} {unit} loaded"),
            ReferenceStatus::Absent => {
                println!("{what}: none in the lake (atl-ingest --zones --indicators): {without}")
            }
            ReferenceStatus::Unreadable(e) => {
                println!("warning: {what} not refreshed: {}; the mart keeps the copy it had", one_line(e))
            }
        }
    }
    let built: Vec<_> = report.built().collect();
    let failed = report.failures().count();
    println!("mart: {} {kind} months built, {failed} failed", built.len());
    for (b, r) in built.iter().flat_map(|b| b.records.iter().map(move |r| (b, r))) {
        println!(
            "  {} {}: {} rows = {} fact + {} rejected; {} = {} + {}; {:.1} s ({:.0} rows/s, transfer {:.1} s)",
            r.service,
            &r.month.to_string()[..7],
            r.warehouse_rows,
            r.fact_rows,
            r.rejected_rows,
            r.warehouse_total,
            r.fact_total,
            r.rejected_total,
            r.seconds,
            r.rows_per_sec,
            b.transfer_seconds
        );
    }
    for b in built.iter().filter(|b| b.deferred_rows > 0) {
        let month = b.records.first().map_or_else(String::new, |r| r.month.to_string()[..7].to_owned());
        println!(
            "  note: {kind} {month}: {} clean rows were left to the insertion SQL (a code with non-ASCII letters, or a licence the mart would not name), which then summed every roll-up over the month",
            b.deferred_rows
        );
    }
    for (month, error) in report.failures() {
        println!("  failed {kind} {month}: {}", one_line(error));
    }
    if kind == TripKind::Fhvhv && !built.is_empty() {
        let unnamed =
            atl_mart::unnamed_licences(&config.mart).await.context("reading the mart's licences")?;
        let seen: Vec<&String> = unnamed
            .iter()
            .filter(|l| built.iter().any(|b| b.records.iter().any(|r| &r.service == *l)))
            .collect();
        for licence in seen {
            println!(
                "  note: licence {licence} is not a company the mart knows: its trips are kept, as service {licence} (the TLC may have licensed a new company)"
            );
        }
    }
    Ok(failed)
}

fn log_event(event: BuildEvent<'_>) {
    match event {
        BuildEvent::Started(kind, month) => tracing::info!("building {kind} {month}"),
        BuildEvent::Streamed(kind, month, rows) => tracing::info!("{kind} {month}: {rows} rows streamed"),
        BuildEvent::Finished(kind, month, Ok(b)) => tracing::info!(
            "built {kind} {month}: {} fact + {} rejected rows in {:.1} s",
            b.records.iter().map(|r| r.fact_rows).sum::<i64>(),
            b.records.iter().map(|r| r.rejected_rows).sum::<i64>(),
            b.records.first().map_or(0.0, |r| r.seconds)
        ),
        BuildEvent::Finished(kind, month, Err(e)) => tracing::error!("{kind} {month}: {}", one_line(e)),
    }
}

/// A month's error on one line, each cause once.
fn one_line(error: &atl_mart::MartError) -> String {
    ErrorChain::new(error).with_render(render_cause).one_line()
}
